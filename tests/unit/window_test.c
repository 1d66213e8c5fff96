/*
 * window_test — drives lib/window.c (sessions in a window table of one
 * key) for tests/window.bats.  One command a
 * line; times are integer microseconds (Ns: N seconds), or min / max for
 * the int64 ends.
 *   spec SPEC        winspec_parse             -> "ok", or "error: MSG"
 *   bounds T         window_iter/window_next   -> "[S,E)" per window, on one line
 *   count T          how many windows hold T   -> N
 *   first T          window_first_end          -> END
 *   sat A B          time_add_sat               -> SUM
 *   lateness L       wm_lateness_parse         -> "ok" or "error"
 *   see T            wm_observe                -> (nothing)
 *   closed END       wm_closed                 -> "closed" or "open"
 *   ev T POS         session_assign on one key, for the session spec:
 *                    "late", "new ID [S,E)" or "join ID [S,E) pos P",
 *                    after a "merge ID into ID" line per session bridged
 *   close            every session the watermark closed, by end:
 *                    "close ID [S,E) pos P", then session_closed
 *   open             the open sessions by start: "ID [S,E)" on one line,
 *                    then "closed_end E" when one closed
 *   queued           wtab_queued: how many window ends are queued
 *   late PATH|-      late_open (- : counted only) -> "ok" or "error"
 *   lateline TEXT    late_write                -> (nothing)
 *   latefinish       late_finish               -> "status N" (and its
 *                    summary line on stderr)
 * A session taken out of the window table and freed (merged away, or
 * closed) prints "release ID".  Exit status 0, 2 for a malformed command.
 */
#include "ev.h"
#include "unit.h"
#include "timeutil.h"
#include "window.h"
#include "wfile.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sess {
	struct wnode n; /* first */
	int id;
};

static struct winspec spec;
static struct watermark wm;
static struct wtable tab;
static struct kentry *group; /* the one key's entry */
static struct sessions ss;
static struct latesink late;
static int nextid = 1;

static int64_t num(const char *s)
{
	size_t n = strcspn(s, " ");
	if (n == 3 && !memcmp(s, "max", 3))
		return INT64_MAX;
	if (n == 3 && !memcmp(s, "min", 3))
		return INT64_MIN;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end == 's' && v > -9223372036854LL && v < 9223372036854LL) /* seconds */
		return (int64_t)v * 1000000;
	if (*end && *end != ' ') {
		fprintf(stderr, "window_test: bad number '%s'\n", s);
		exit(2);
	}
	return (int64_t)v;
}

static void release(struct wnode *w)
{
	printf("release %d\n", ((struct sess *)w)->id);
	wtab_remove(&tab, w, 0);
	free(w);
}

static void merge(void *arg, struct wnode *into, struct wnode *from)
{
	(void)arg;
	printf("merge %d into %d\n", ((struct sess *)from)->id, ((struct sess *)into)->id);
	release(from);
}

static void session_ev(int64_t t, uint64_t pos)
{
	int is_late;
	struct wnode *w = session_assign(&ss, &spec, &wm, t, pos, merge, NULL, &is_late);
	if (is_late) {
		puts("late");
	} else if (w) {
		wtab_schedule(&tab, &wm, w);
		printf("join %d [%" PRId64 ",%" PRId64 ") pos %" PRIu64 "\n", ((struct sess *)w)->id, w->start,
		       w->end, w->pos);
	} else {
		struct sess *s = xcalloc(1, sizeof *s);
		s->id = nextid++;
		s->n.start = t;
		s->n.end = time_add_sat(t, spec.gap);
		s->n.pos = pos;
		session_add(&ss, &s->n);
		if (!group)
			group = keyed_get(&tab.k, "k", 1, NULL);
		wtab_add(&tab, group, &s->n);
		wtab_schedule(&tab, &wm, &s->n);
		printf("new %d [%" PRId64 ",%" PRId64 ")\n", s->id, s->n.start, s->n.end);
	}
	wm_observe(&wm, t);
}

int main(void)
{
	char line[4096], err[256];
	ev_setprogname("window_test");
	char *arg;
	while (unit_command(line, sizeof line, &arg)) {
		if (!strcmp(line, "spec")) {
			if (winspec_parse(arg, &spec, err, sizeof err) < 0)
				printf("error: %s\n", err);
			else
				puts("ok");
		} else if (!strcmp(line, "bounds") || !strcmp(line, "count")) {
			struct winiter it;
			int64_t s, e;
			size_t n = 0;
			window_iter(&spec, num(arg), &it);
			while (window_next(&it, &s, &e)) {
				if (line[0] == 'b')
					printf("%s[%" PRId64 ",%" PRId64 ")", n ? " " : "", s, e);
				n++;
			}
			if (line[0] == 'b')
				putchar('\n');
			else
				printf("%zu\n", n);
		} else if (!strcmp(line, "first")) {
			printf("%" PRId64 "\n", window_first_end(&spec, num(arg)));
		} else if (!strcmp(line, "sat")) {
			char *b = strchr(arg, ' ');
			if (!b)
				return 2;
			printf("%" PRId64 "\n", time_add_sat(num(arg), num(b + 1)));
		} else if (!strcmp(line, "lateness")) {
			puts(wm_lateness_parse(&wm, arg) < 0 ? "error" : "ok");
		} else if (!strcmp(line, "see")) {
			wm_observe(&wm, num(arg));
		} else if (!strcmp(line, "closed")) {
			puts(wm_closed(&wm, num(arg)) ? "closed" : "open");
		} else if (!strcmp(line, "ev")) {
			char *b = strchr(arg, ' ');
			if (!b)
				return 2;
			session_ev(num(arg), (uint64_t)num(b + 1));
		} else if (!strcmp(line, "close")) {
			struct wnode *w;
			while ((w = wtab_next_closed(&tab, &wm))) {
				printf("close %d [%" PRId64 ",%" PRId64 ") pos %" PRIu64 "\n", ((struct sess *)w)->id,
				       w->start, w->end, w->pos);
				session_closed(&ss, w);
				release(w);
			}
		} else if (!strcmp(line, "queued")) {
			printf("queued %zu\n", wtab_queued(&tab));
		} else if (!strcmp(line, "open")) {
			for (size_t i = 0; i < ss.n; i++)
				printf("%s%d [%" PRId64 ",%" PRId64 ")", i ? " " : "", ((struct sess *)ss.s[i])->id,
				       ss.s[i]->start, ss.s[i]->end);
			putchar('\n');
			if (ss.have_closed)
				printf("closed_end %" PRId64 "\n", ss.closed_end);
		} else if (!strcmp(line, "late")) {
			free((char *)late.path);
			puts(late_open(&late, strcmp(arg, "-") ? xstrdup(arg) : NULL) < 0 ? "error" : "ok");
		} else if (!strcmp(line, "lateline")) {
			late_write(&late, arg, strlen(arg));
		} else if (!strcmp(line, "latefinish")) {
			fflush(stdout);
			printf("status %d\n", late_finish(&late, "not counted in any window"));
		} else {
			fprintf(stderr, "window_test: unknown command '%s'\n", line);
			return 2;
		}
		fflush(stdout);
	}
	/* what is still open goes back, so that leak checks pass */
	for (size_t i = 0; i < ss.n; i++) {
		wtab_remove(&tab, ss.s[i], 0);
		free(ss.s[i]);
	}
	wtab_free(&tab);
	sessions_free(&ss);
	free((char *)late.path);
	return 0;
}
