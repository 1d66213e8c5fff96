/*
 * bmap_test — drives lib/bmap.c for tests/lib.bats.  One command a line:
 *   put KEY N        -> "new" or "old"; sets value 0 to N
 *   get KEY          -> "N" (value 0) or "absent"
 *   del KEY          -> "deleted" or "absent"
 *   count            -> the number of entries
 *   seq N PREFIX     -> puts PREFIX0 .. PREFIX(N-1), then prints
 *                       "count C probes P.PP" (mean probes of a lookup)
 *   churn N          -> N rounds of put/del over a sliding window of 1000
 *                       keys, checking every live key after each delete;
 *                       "ok" or the first key lost
 */
#include "bmap.h"
#include "ev.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	struct bmap m = {0};
	char line[512], key[256];
	ev_setprogname("bmap_test");
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = '\0';
		unsigned long long v;
		if (sscanf(line, "put %255s %llu", key, &v) == 2) {
			int created;
			struct bmap_ent *e = bmap_get(&m, key, strlen(key), &created);
			e->v[0] = v;
			puts(created ? "new" : "old");
		} else if (sscanf(line, "get %255s", key) == 1) {
			struct bmap_ent *e = bmap_find(&m, key, strlen(key));
			if (e)
				printf("%" PRIu64 "\n", e->v[0]);
			else
				puts("absent");
		} else if (sscanf(line, "del %255s", key) == 1) {
			puts(bmap_del(&m, key, strlen(key)) ? "deleted" : "absent");
		} else if (!strcmp(line, "count")) {
			printf("%zu\n", m.count);
		} else if (sscanf(line, "seq %llu %200s", &v, key) == 2) {
			char k[256];
			for (unsigned long long i = 0; i < v; i++) {
				int n = snprintf(k, sizeof k, "%s%llu", key, i);
				bmap_get(&m, k, (size_t)n, NULL)->v[0] = i;
			}
			printf("count %zu probes %.2f\n", m.count, bmap_probes(&m));
		} else if (sscanf(line, "churn %llu", &v) == 1) {
			char k[64];
			const char *lost = NULL;
			for (unsigned long long i = 0; i < v && !lost; i++) {
				int n = snprintf(k, sizeof k, "c%llu", i);
				bmap_get(&m, k, (size_t)n, NULL)->v[0] = i;
				if (i >= 1000) {
					n = snprintf(k, sizeof k, "c%llu", i - 1000);
					if (!bmap_del(&m, k, (size_t)n))
						lost = "delete";
					for (unsigned long long j = i - 999; j <= i && !lost; j += 97) {
						n = snprintf(k, sizeof k, "c%llu", j);
						struct bmap_ent *e = bmap_find(&m, k, (size_t)n);
						if (!e || e->v[0] != j)
							lost = k;
					}
				}
			}
			puts(lost ? lost : "ok");
		} else {
			puts("bad command");
		}
	}
	bmap_free(&m);
	return 0;
}
