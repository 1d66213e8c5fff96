/*
 * envelope_test — drives the UUIDs of lib/envelope.c for tests/evwrite.bats.
 * One command a line:
 *   v5 NS NAME     -> the UUID v5 of NAME in namespace NS (a UUID, or
 *                     "command" for env_ns_command)
 *   v4 N           -> "ok" when N v4 UUIDs have version 4, the RFC variant
 *                     and are all different, else what is wrong
 *   v7 N US        -> N v7 UUIDs from one generator, all at time US
 *                     (microseconds): the first, then "ordered" when each
 *                     is greater than the one before with version 7 and
 *                     the RFC variant
 */
#include "envelope.h"
#include "ev.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

static int shape(const char *u, char version)
{
	return strlen(u) == 36 && u[14] == version && strchr("89ab", u[19]) != NULL;
}

int main(void)
{
	char line[512], a[128], b[256];
	ev_setprogname("envelope_test");
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = '\0';
		long long n, us;
		char out[37], prev[37];
		if (sscanf(line, "v5 %127s %255[^\n]", a, b) == 2) {
			uuid_t ns;
			if (strcmp(a, "command") == 0)
				memcpy(ns, env_ns_command, 16);
			else if (uuid_parse(a, ns) < 0) {
				puts("bad namespace");
				continue;
			}
			env_uuid_v5(ns, b, strlen(b), out);
			puts(out);
		} else if (sscanf(line, "v4 %lld", &n) == 1) {
			char (*all)[37] = xcalloc((size_t)n, sizeof *all);
			const char *bad = NULL;
			for (long long i = 0; i < n && !bad; i++) {
				env_uuid_v4(all[i]);
				if (!shape(all[i], '4'))
					bad = "bad version or variant";
			}
			qsort(all, (size_t)n, sizeof *all, (int (*)(const void *, const void *))strcmp);
			for (long long i = 1; i < n && !bad; i++)
				if (!strcmp(all[i], all[i - 1]))
					bad = "duplicate";
			puts(bad ? bad : "ok");
			free(all);
		} else if (sscanf(line, "v7 %lld %lld", &n, &us) == 2) {
			struct env_uuidgen g = { .v7 = 1 };
			int ok = 1;
			for (long long i = 0; i < n; i++) {
				env_uuid_v7(&g, us, out);
				if (i == 0)
					puts(out);
				else if (strcmp(out, prev) <= 0)
					ok = 0;
				if (!shape(out, '7'))
					ok = 0;
				memcpy(prev, out, sizeof out);
			}
			puts(ok ? "ordered" : "not ordered");
		} else {
			fprintf(stderr, "envelope_test: unknown command: %s\n", line);
			return 2;
		}
	}
	return 0;
}
