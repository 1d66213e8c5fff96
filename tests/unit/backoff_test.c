/*
 * backoff_test.c — drives lib/prng and lib/backoff from stdin, one
 * command a line, for tests/evdlq.bats.  Each command prints one line.
 *
 *   seed S                 prng_seed(S)                     -> ok
 *   next K                 K draws of prng_next, in hex     -> h1 h2 ...
 *   uniform LO HI K        K draws of prng_uniform          -> v1 v2 ...
 *   delay STRATEGY BASE N CAP   backoff_delay (CAP "-": none) -> us
 *   jitter J D BASE CAP    backoff_jitter (CAP "-": none)   -> us
 *   sat A B                time_add_sat, sat_mul             -> sum product
 *
 * Numbers are decimal int64 (S unsigned).  Exit status: 0, or 2 for a
 * malformed command.
 */
#include "backoff.h"
#include "prng.h"
#include "timeutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t num(const char *s)
{
	return s && strcmp(s, "-") != 0 ? strtoll(s, NULL, 10) : BACKOFF_NO_CAP;
}

int main(void)
{
	struct prng p;
	prng_seed(&p, 0);
	char line[512];
	while (fgets(line, sizeof line, stdin)) {
		char *w[6] = {0};
		int n = 0;
		for (char *t = strtok(line, " \n"); t && n < 6; t = strtok(NULL, " \n"))
			w[n++] = t;
		if (n == 0)
			continue;
		if (strcmp(w[0], "seed") == 0 && n == 2) {
			prng_seed(&p, strtoull(w[1], NULL, 10));
			puts("ok");
		} else if (strcmp(w[0], "next") == 0 && n == 2) {
			for (long k = strtol(w[1], NULL, 10), i = 0; i < k; i++)
				printf("%s%016" PRIx64, i ? " " : "", prng_next(&p));
			putchar('\n');
		} else if (strcmp(w[0], "uniform") == 0 && n == 4) {
			for (long k = strtol(w[3], NULL, 10), i = 0; i < k; i++)
				printf("%s%" PRId64, i ? " " : "", prng_uniform(&p, num(w[1]), num(w[2])));
			putchar('\n');
		} else if (strcmp(w[0], "delay") == 0 && n == 5) {
			int s = backoff_strategy_parse(w[1], strlen(w[1]));
			if (s < 0)
				return 2;
			printf("%" PRId64 "\n", backoff_delay(s, num(w[2]), num(w[3]), num(w[4])));
		} else if (strcmp(w[0], "jitter") == 0 && n == 5) {
			int j = backoff_jitter_parse(w[1]);
			if (j < 0)
				return 2;
			printf("%" PRId64 "\n", backoff_jitter(j, num(w[2]), num(w[3]), num(w[4]), &p));
		} else if (strcmp(w[0], "sat") == 0 && n == 3) {
			printf("%" PRId64 " %" PRId64 "\n", time_add_sat(num(w[1]), num(w[2])), sat_mul(num(w[1]), num(w[2])));
		} else {
			fprintf(stderr, "backoff_test: bad command: %s\n", w[0]);
			return 2;
		}
	}
	return 0;
}
