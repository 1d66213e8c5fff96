/*
 * expr_test.c — drives lib/expr for tests/expr.bats.
 *
 *   expr_test [options] EXPR < events
 *
 * Compiles EXPR (on error: the message every tool prints, exit 2), then
 * reads one JSON object per line from stdin and prints "true" or "false"
 * for each (with --value, the value of EXPR as JSON).  A line that is not
 * a JSON object, or whose evaluation fails (a regular expression hit a
 * limit), is reported on stderr as "expr_test: <stdin>:LINE: reason" and
 * gets no output line; the exit status is then 3.  Messages name the
 * expression "expression", as tools name theirs "-w".  LC_CTYPE is
 * C.UTF-8, as in the tools.
 *
 *   --arg NAME VALUE      $NAME is the string VALUE
 *   --argjson NAME JSON   $NAME is the JSON value
 *   --slurpfile, --rawfile, --linesfile NAME FILE   as the tools'
 *   --tz ZONE             the zone of hour(), date() and strftime()
 *   --now TIME            now() (an option time; default: EV_NOW or the clock)
 *   --time-unit UNIT      epoch unit of @time and time comparisons
 *   --alias NAME JSON     an evcep step name bound to the event JSON
 *                         ("-": declared but unbound)
 *   --id-field PATH ...   any field-mapping option of the tools
 *   --value               print the value instead of true/false
 */
#include "ev.h"
#include "event.h"
#include "expr.h"
#include "json.h"
#include "timeutil.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ALIASES 8

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: expr_test [--arg N V] [--argjson N J] [--now T] [--time-unit U] "
	                "[--alias N JSON] [--FIELD-field P] [--value] EXPR\n");
	exit(EV_USAGE);
}

int main(int argc, char **argv)
{
	struct fieldmap fm;
	struct expr_args args = {0};
	const char *aliases[MAX_ALIASES];
	struct jdoc alias_jdoc[MAX_ALIASES];
	const struct jdoc *alias_doc[MAX_ALIASES];
	size_t naliases = 0;
	int value = 0, have_now = 0;
	int64_t now = 0;
	const char *src = NULL;
	char err[256];

	ev_setprogname(argv[0]);
	setlocale(LC_CTYPE, "C.UTF-8"); /* as the tools do (lib/cli.c) */
	fieldmap_init(&fm);
	memset(alias_jdoc, 0, sizeof alias_jdoc);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int f;
		if (strcmp(a, "--arg") == 0 && i + 2 < argc) {
			expr_args_add_string(&args, argv[i + 1], argv[i + 2]);
			i += 2;
		} else if (strcmp(a, "--argjson") == 0 && i + 2 < argc) {
			if (expr_args_add_json(&args, argv[i + 1], argv[i + 2], err, sizeof err) < 0)
				ev_die(EV_USAGE, "--argjson %s: %s", argv[i + 1], err);
			i += 2;
		} else if ((strcmp(a, "--slurpfile") == 0 || strcmp(a, "--rawfile") == 0 ||
		            strcmp(a, "--linesfile") == 0) && i + 2 < argc) {
			int rc = a[2] == 's' ? expr_args_add_slurpfile(&args, argv[i + 1], argv[i + 2], err, sizeof err)
			       : a[2] == 'r' ? expr_args_add_rawfile(&args, argv[i + 1], argv[i + 2], err, sizeof err)
			                     : expr_args_add_linesfile(&args, argv[i + 1], argv[i + 2], err, sizeof err);
			if (rc < 0)
				ev_die(EV_USAGE, "%s %s: %s", a, argv[i + 1], err);
			i += 2;
		} else if (strcmp(a, "--tz") == 0 && i + 1 < argc) {
			if (time_set_tz(argv[++i]) < 0)
				ev_die(EV_USAGE, "--tz: unknown time zone '%s'", argv[i]);
		} else if (strcmp(a, "--now") == 0 && i + 1 < argc) {
			if (time_parse_option(argv[++i], 0, &now) < 0)
				ev_die(EV_USAGE, "--now: bad time '%s'", argv[i]);
			have_now = 1;
		} else if (strcmp(a, "--time-unit") == 0 && i + 1 < argc) {
			int u = time_unit_parse(argv[++i]);
			if (u < 0)
				ev_die(EV_USAGE, "--time-unit: bad unit '%s'", argv[i]);
			fm.unit = (enum time_unit)u;
		} else if (strcmp(a, "--alias") == 0 && i + 2 < argc) {
			struct jerr je;
			if (naliases == MAX_ALIASES)
				ev_die(EV_USAGE, "too many aliases");
			aliases[naliases] = argv[i + 1];
			alias_doc[naliases] = NULL;
			if (strcmp(argv[i + 2], "-") != 0) {
				if (json_parse(&alias_jdoc[naliases], argv[i + 2], strlen(argv[i + 2]), 0, &je) < 0)
					ev_die(EV_USAGE, "--alias %s: %s", argv[i + 1], je.msg);
				alias_doc[naliases] = &alias_jdoc[naliases];
			}
			naliases++;
			i += 2;
		} else if (strcmp(a, "--value") == 0) {
			value = 1;
		} else if (strncmp(a, "--", 2) == 0 && i + 1 < argc && !src) {
			for (f = 0; f < F_NFIELDS; f++)
				if (strcmp(a + 2, fieldmap_option(f)) == 0)
					break;
			if (f == F_NFIELDS)
				usage();
			if (fieldmap_set(&fm, f, argv[++i]) < 0)
				exit(EV_USAGE);
		} else if (!src) {
			src = a;
		} else {
			usage();
		}
	}
	if (!src)
		usage();
	if (!have_now)
		now = time_now();

	struct expr_env env = { &fm, &args, now, naliases ? aliases : NULL, naliases, "expression" };
	struct expr_error xerr;
	struct expr *e = expr_compile(src, &env, &xerr);
	if (!e) {
		expr_print_error("expression", src, &xerr);
		exit(EV_USAGE);
	}

	struct jdoc doc = {0};
	struct buf out = {0};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0;
	int status = 0;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		struct jerr je;
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if (json_parse(&doc, line, (size_t)n, 0, &je) < 0) {
			ev_warn("<stdin>:%llu: %s", (unsigned long long)lineno, je.msg);
			status = EV_REJECT;
			continue;
		}
		struct expr_input in = { .doc = &doc, .line = lineno, .alias_doc = alias_doc };
		buf_reset(&out);
		int r = value ? expr_eval_json(e, &in, &out) : expr_test(e, &in);
		if (r < 0) {
			ev_warn("<stdin>:%llu: %s", (unsigned long long)lineno, expr_error_reason(e));
			status = EV_REJECT;
			continue;
		}
		if (!value)
			buf_adds(&out, r ? "true" : "false");
		buf_addc(&out, '\n');
		if (fwrite(out.p, 1, out.len, stdout) != out.len)
			ev_die_errno(EV_IO, "stdout");
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		ev_die_errno(EV_IO, "stdout");

	free(line);
	buf_free(&out);
	json_doc_free(&doc);
	expr_free(e);
	expr_args_free(&args);
	for (size_t i = 0; i < naliases; i++)
		json_doc_free(&alias_jdoc[i]);
	fieldmap_free(&fm);
	return status;
}
