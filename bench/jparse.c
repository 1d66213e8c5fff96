/*
 * jparse.c — the floor for a jansson-based filter.
 *
 * Reads NDJSON from stdin with getline, parses every non-blank line with
 * json_loadb(JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL) — the parse any
 * evtools filter has to do at least once per event — frees it, and prints
 * the number of JSON objects parsed.  No event is written, no field is
 * looked at.  Lines that fail to parse or are not objects are counted on
 * stderr (exit status 3, as in evtools).
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long long objects = 0, rejected = 0;
	json_error_t err;

	while ((n = getline(&buf, &cap, stdin)) != -1) {
		size_t len = (size_t)n;
		if (len && buf[len - 1] == '\n')
			len--;
		if (len && buf[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		json_t *j = json_loadb(buf, len,
				       JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
		if (j && json_is_object(j))
			objects++;
		else
			rejected++;
		json_decref(j);
	}
	free(buf);
	if (ferror(stdin)) {
		perror("jparse: read error");
		return 2;
	}
	printf("%llu\n", objects);
	if (fflush(stdout) == EOF) {
		perror("jparse: write error");
		return 5;
	}
	if (rejected) {
		fprintf(stderr, "jparse: %llu lines rejected\n", rejected);
		return 3;
	}
	return 0;
}
