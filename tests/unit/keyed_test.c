/*
 * keyed_test.c — drives lib/keyed from stdin, one command a line, for
 * tests/keyed.bats.  Timers are named by a letter (a-z), each embedded
 * in a small owner struct as a tool would.
 *
 *   get KEY          keyed_get            -> "new ORDER" or "old ORDER"
 *   del KEY          keyed_del            -> ok | absent
 *   keys             creation order       -> KEY KEY ...
 *   at T WHEN SEQ    keyed_schedule       -> ok
 *   lane L T WHEN SEQ  keyed_schedule_lane -> ok
 *   where T          in a lane or the heap -> lane L | heap | none
 *   un T             keyed_unschedule     -> ok
 *   next             keyed_next           -> T WHEN | none
 *   expire WM [incl] keyed_expire         -> T WHEN ... (popped, in order)
 *                    (a popped timer named in "cascade" reschedules
 *                    timer b at WHEN+1, to show callbacks may schedule)
 *   add A B          time_add_sat            -> sum (saturated)
 *   fill N [lanes]   N keys and timers at random deadlines, half
 *                    unscheduled; expire all: checks order -> ok N
 *                    (with "lanes": in 3 lanes, mostly in order, a
 *                    tenth out of order, and every pop checked against
 *                    a plain heap of the same timers)
 */
#include "ev.h"
#include "keyed.h"
#include "timeutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct owner { struct ktimer tm; char name; };

static struct keyed K;
static struct owner T[26];
static int cascade;

static void popped(struct ktimer *t, void *arg)
{
	(void)arg;
	struct owner *o = (struct owner *)t;
	printf(" %c %" PRId64, o->name, t->when);
	if (cascade && o->name == 'a')
		keyed_schedule(&K, &T[1].tm, t->when + 1, 0);
}

static int64_t last_when;
static uint64_t last_seq;
static int bad_order;
static void check(struct ktimer *t, void *arg)
{
	(void)arg;
	if (t->when < last_when || (t->when == last_when && t->seq < last_seq))
		bad_order = 1;
	last_when = t->when;
	last_seq = t->seq;
}

int main(void)
{
	char line[512];
	for (int i = 0; i < 26; i++)
		T[i].name = (char)('a' + i);
	while (fgets(line, sizeof line, stdin)) {
		char cmd[32], a[256] = "", b[64] = "";
		long long x = 0, y = 0;
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%31s %255s %63s", cmd, a, b) < 1)
			continue;
		if (!strcmp(cmd, "get")) {
			int created;
			struct kentry *e = keyed_get(&K, a, strlen(a), &created);
			printf("%s %" PRIu64 "\n", created ? "new" : "old", e->order);
		} else if (!strcmp(cmd, "del")) {
			struct kentry *e = keyed_find(&K, a, strlen(a));
			if (e)
				keyed_del(&K, e);
			puts(e ? "ok" : "absent");
		} else if (!strcmp(cmd, "keys")) {
			for (struct kentry *e = K.head; e; e = e->next)
				printf("%s%.*s", e == K.head ? "" : " ", (int)e->klen, e->key);
			putchar('\n');
		} else if (!strcmp(cmd, "at")) {
			sscanf(line, "%*s %*s %lld %lld", &x, &y);
			keyed_schedule(&K, &T[a[0] - 'a'].tm, x, (uint64_t)y);
			puts("ok");
		} else if (!strcmp(cmd, "lane")) {
			char tn[8] = "a";
			long long w = 0, q = 0;
			sscanf(line, "%*s %lld %7s %lld %lld", &x, tn, &w, &q);
			keyed_schedule_lane(&K, &T[tn[0] - 'a'].tm, w, (uint64_t)q, (unsigned)x);
			puts("ok");
		} else if (!strcmp(cmd, "where")) {
			size_t h = T[a[0] - 'a'].tm.hidx;
			if (!h)
				puts("none");
			else if (h > KT_LANE(KEYED_LANES))
				printf("lane %zu\n", (size_t)(SIZE_MAX - h));
			else
				puts("heap");
		} else if (!strcmp(cmd, "un")) {
			keyed_unschedule(&K, &T[a[0] - 'a'].tm);
			puts("ok");
		} else if (!strcmp(cmd, "next")) {
			struct ktimer *t = keyed_next(&K);
			if (t)
				printf("%c %" PRId64 "\n", ((struct owner *)t)->name, t->when);
			else
				puts("none");
		} else if (!strcmp(cmd, "cascade")) {
			cascade = 1;
			puts("ok");
		} else if (!strcmp(cmd, "expire")) {
			int64_t wm = strcmp(a, "max") == 0 ? INT64_MAX : strtoll(a, NULL, 10);
			size_t n = keyed_expire(&K, wm, strcmp(b, "incl") == 0, popped, NULL);
			printf(" (%zu)\n", n);
		} else if (!strcmp(cmd, "add")) {
			x = strtoll(a, NULL, 10);
			y = strtoll(b, NULL, 10);
			printf("%" PRId64 "\n", time_add_sat(x, y));
		} else if (!strcmp(cmd, "fill")) {
			long n = atol(a);
			struct owner *o = xcalloc((size_t)n, sizeof *o);
			srand(7);
			int lanes = strcmp(b, "lanes") == 0;
			/* the same timers in a second table, heap only: the pops
			 * of both must agree one by one */
			struct keyed H = {0};
			struct owner *h = xcalloc((size_t)n, sizeof *h);
			int64_t base = 0;
			for (long i = 0; i < n; i++) {
				char k[32];
				int kn = snprintf(k, sizeof k, "k%ld", i);
				keyed_get(&K, k, (size_t)kn, NULL);
				int64_t w = rand() % 1000;
				if (lanes) {
					base += rand() % 3; /* in order per lane, ties included */
					w = rand() % 10 ? base + (i % 3) * 5 : rand() % 1000;
				}
				keyed_schedule_lane(&K, &o[i].tm, w, (uint64_t)i, lanes ? (unsigned)(i % 3) : KEYED_LANES);
				keyed_schedule(&H, &h[i].tm, w, (uint64_t)i);
			}
			for (long i = 0; i < n; i += 2) {
				keyed_unschedule(&K, &o[i].tm);
				keyed_unschedule(&H, &h[i].tm);
			}
			for (long i = 0; i < n; i += 4) {
				int64_t w = lanes ? base + rand() % 50 : rand() % 1000;
				keyed_schedule_lane(&K, &o[i].tm, w, (uint64_t)i, lanes ? (unsigned)(i % 3) : KEYED_LANES);
				keyed_schedule(&H, &h[i].tm, w, (uint64_t)i);
			}
			size_t laned = K.nlaned;
			last_when = INT64_MIN;
			size_t got = 0;
			for (struct ktimer *t; (t = keyed_next(&K)); got++) {
				struct ktimer *u = keyed_next(&H);
				if (!u || (struct owner *)t - o != (struct owner *)u - h)
					bad_order = 1;
				check(t, NULL);
				keyed_unschedule(&K, t);
				keyed_unschedule(&H, u);
			}
			if (keyed_next(&H))
				bad_order = 1;
			printf("%s %zu %zu", bad_order ? "disorder" : "ok", got, K.count);
			if (lanes)
				printf(" %s", laned > got / 2 ? "mostly-laned" : "mostly-heap");
			putchar('\n');
			keyed_free(&H);
			free(h);
			free(o);
		} else {
			fprintf(stderr, "bad command: %s\n", line);
			return 2;
		}
	}
	keyed_free(&K);
	return 0;
}
