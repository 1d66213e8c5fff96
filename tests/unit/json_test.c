/*
 * json_test — drives lib/json.c, lib/path.c, lib/strset.c and lib/jwrite.c
 * for tests/json.bats.  One command per input line, tab-separated:
 *   parse JSON           -> "ok" or the rejection reason
 *   any JSON             -> the same, any value allowed at the top
 *   utf8 HEX             -> "valid" or "invalid at N" (bytes given in hex)
 *   num TEXT             -> "int N" or "double %.17g"
 *   equal JSON JSON      -> "true" or "false"
 *   numcmp NUM NUM       -> "<", "=" or ">" (json_num_cmp)
 *   path PATH JSON       -> the value's compact text, or "missing"
 *   shard JSON           -> FNV-1a 64 (hex) of the value, as --shard hashes it
 *   double X             -> X (read with strtod) as jw_double writes it
 *   string HEX           -> the bytes as jw_string writes them
 *   ctl HEX              -> rows_escape_ctl of the bytes, keeping tab and
 *                           newline, then "|", then keeping nothing
 */
#include "ev.h"
#include "json.h"
#include "jwrite.h"
#include "path.h"
#include "rows.h"
#include "strset.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t unhex(const char *s, char *out)
{
	size_t n = 0;
	while (s[0] && s[1]) {
		unsigned v;
		sscanf(s, "%2x", &v);
		out[n++] = (char)v;
		s += 2;
	}
	return n;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	struct jdoc d = {0}, d2 = {0};
	struct jerr err;
	struct buf b = {0};
	ev_setprogname("json_test");
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		char *arg = strchr(line, '\t');
		if (!arg) {
			printf("bad command\n");
			continue;
		}
		*arg++ = '\0';
		buf_reset(&b);
		if (!strcmp(line, "parse") || !strcmp(line, "any")) {
			int any = !strcmp(line, "any");
			if (json_parse(&d, arg, strlen(arg), any ? JSON_ANY : 0, &err) == 0)
				printf("ok\n");
			else
				printf("%s\n", err.msg);
		} else if (!strcmp(line, "utf8")) {
			char *bytes = xmalloc(strlen(arg) / 2 + 1);
			size_t n = unhex(arg, bytes);
			size_t at = utf8_check(bytes, n);
			if (at == n)
				printf("valid\n");
			else
				printf("invalid at %zu\n", at);
			free(bytes);
		} else if (!strcmp(line, "num")) {
			int64_t i;
			double x;
			if (json_num(arg, strlen(arg), &i, &x))
				printf("int %" PRId64 "\n", i);
			else
				printf("double %.17g\n", x);
		} else if (!strcmp(line, "numcmp")) {
			char *second = strchr(arg, '\t');
			*second++ = '\0';
			int r = json_num_cmp(arg, strlen(arg), second, strlen(second));
			printf("%s\n", r < 0 ? "<" : r > 0 ? ">" : "=");
		} else if (!strcmp(line, "equal")) {
			char *second = strchr(arg, '\t');
			*second++ = '\0';
			json_parse(&d, arg, strlen(arg), JSON_ANY, &err);
			json_parse(&d2, second, strlen(second), JSON_ANY, &err);
			printf("%s\n", json_values_equal(&d, 0, &d2, 0) ? "true" : "false");
		} else if (!strcmp(line, "path")) {
			char *doc = strchr(arg, '\t');
			*doc++ = '\0';
			struct path p;
			char perr[200];
			if (path_parse(&p, arg, perr, sizeof perr) < 0) {
				printf("%s\n", perr);
			} else if (json_parse(&d, doc, strlen(doc), JSON_ANY, &err) < 0) {
				printf("%s\n", err.msg);
			} else {
				uint32_t t = path_lookup(&d, 0, &p);
				if (t == JNONE) {
					printf("missing\n");
				} else {
					json_write_compact(&d, t, &b);
					printf("%s\n", b.p);
				}
			}
			path_free(&p);
		} else if (!strcmp(line, "shard")) {
			json_parse(&d, arg, strlen(arg), JSON_ANY, &err);
			printf("%016" PRIx64 "\n", json_shard_hash(&d, 0, &b));
		} else if (!strcmp(line, "double")) {
			jw_double(&b, strtod(arg, NULL));
			printf("%s\n", b.p);
		} else if (!strcmp(line, "ctl")) {
			char *bytes = xmalloc(strlen(arg) / 2 + 1);
			size_t n = unhex(arg, bytes);
			rows_escape_ctl(bytes, n, 1, &b);
			buf_addc(&b, '|');
			rows_escape_ctl(bytes, n, 0, &b);
			fwrite(b.p, 1, b.len, stdout);
			putchar('\n');
			free(bytes);
		} else if (!strcmp(line, "string")) {
			char *bytes = xmalloc(strlen(arg) / 2 + 1);
			size_t n = unhex(arg, bytes);
			jw_string(&b, bytes, n);
			printf("%s\n", b.p);
			free(bytes);
		} else {
			printf("bad command\n");
		}
	}
	free(line);
	buf_free(&b);
	json_doc_free(&d);
	json_doc_free(&d2);
	return 0;
}
