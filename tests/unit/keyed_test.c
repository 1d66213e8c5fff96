/*
 * keyed_test.c — drives lib/keyed from stdin, one command a line, for
 * tests/keyed.bats.  Timers are named by a letter (a-z), each embedded
 * in a small owner struct as a tool would.
 *
 *   get KEY          keyed_get            -> "new ORDER" or "old ORDER"
 *   del KEY          keyed_del            -> ok | absent
 *   keys             creation order       -> KEY KEY ...
 *   at T WHEN SEQ    keyed_schedule       -> ok
 *   un T             keyed_unschedule     -> ok
 *   next             keyed_next           -> T WHEN | none
 *   expire WM [incl] keyed_expire         -> T WHEN ... (popped, in order)
 *                    (a popped timer named in "cascade" reschedules
 *                    timer b at WHEN+1, to show callbacks may schedule)
 *   add A B          time_add_sat            -> sum (saturated)
 *   fill N           N keys and timers at random deadlines, half
 *                    unscheduled; expire all: checks order -> ok N
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
			for (long i = 0; i < n; i++) {
				char k[32];
				int kn = snprintf(k, sizeof k, "k%ld", i);
				keyed_get(&K, k, (size_t)kn, NULL);
				keyed_schedule(&K, &o[i].tm, rand() % 1000, (uint64_t)i);
			}
			for (long i = 0; i < n; i += 2)
				keyed_unschedule(&K, &o[i].tm);
			for (long i = 0; i < n; i += 4)
				keyed_schedule(&K, &o[i].tm, rand() % 1000, (uint64_t)i);
			last_when = INT64_MIN;
			size_t got = keyed_expire(&K, INT64_MAX, 1, check, NULL);
			printf("%s %zu %zu\n", bad_order ? "disorder" : "ok", got, K.count);
			free(o);
		} else {
			fprintf(stderr, "bad command: %s\n", line);
			return 2;
		}
	}
	keyed_free(&K);
	return 0;
}
