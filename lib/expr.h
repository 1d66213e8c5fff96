/*
 * expr.h — the evtools expression language (evtools-expr(7)).
 *
 * An expression is compiled once (expr_compile) and evaluated per event
 * (expr_test).  Evaluation has no side effects, no I/O and no loops; the
 * parse depth is bounded and regular expressions (PCRE2) run under match,
 * depth and heap limits proportional to their subject, so an untrusted
 * expression is safe to run.  A match that hits a limit makes the
 * evaluation fail (expr_test returns -1, expr_error_reason says why): the
 * tool rejects that event, never treats it as false.
 *
 * The same language serves evquery -w, evproject --where, evreplay
 * --where, and the step conditions of the pattern tools (where earlier
 * steps are named: "l.payload.limit" reads the event bound to alias l).
 */
#ifndef EXPR_H
#define EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "json.h"

/* --arg NAME VALUE (a string) and --argjson NAME JSON, looked up as $NAME. */
struct expr_args {
	size_t n, cap;
	char **name;
	char **text;       /* JSON text of the value (owned) */
	struct jdoc *doc;  /* parsed text[i] */
};

void expr_args_add_string(struct expr_args *a, const char *name, const char *value);
/* 0 ok; -1 if json is not valid JSON (reason in err). */
int expr_args_add_json(struct expr_args *a, const char *name, const char *json, char *err, size_t errlen);
/* --slurpfile NAME FILE: every JSON value in the file (any layout, read
 * by json.c), as an array; --rawfile: the whole text as one string;
 * --linesfile: the lines as an array of strings (CR before LF dropped,
 * blank lines skipped).  Text that is not UTF-8 gets U+FFFD for each bad
 * byte, as --arg.  0, or -1 with "FILE: reason" or, for bad JSON,
 * "FILE:LINE:COLUMN: reason" in err. */
int expr_args_add_slurpfile(struct expr_args *a, const char *name, const char *file, char *err, size_t errlen);
int expr_args_add_rawfile(struct expr_args *a, const char *name, const char *file, char *err, size_t errlen);
int expr_args_add_linesfile(struct expr_args *a, const char *name, const char *file, char *err, size_t errlen);
void expr_args_free(struct expr_args *a);

struct expr_env {
	const struct fieldmap *fm;     /* @id @key @type @time @version */
	const struct expr_args *args;  /* $NAME; may be NULL */
	int64_t now;                   /* now(), microseconds */
	const char *const *aliases;    /* evcep step names; may be NULL */
	size_t naliases;
	const char *what;              /* the option, for messages ("-w"); may be NULL */
};

struct expr_error {
	size_t column; /* 1-based byte column in the source */
	char msg[200];
};

struct expr;

/* NULL on a syntax or type error, with err filled. */
struct expr *expr_compile(const char *src, const struct expr_env *env, struct expr_error *err);
void expr_free(struct expr *e);
/* Call fn for each path the user wrote in e (not has() arguments nor the
 * left side of ??), for the missing-path warning (ev_watch_path). */
struct path;
void expr_watch_paths(const struct expr *e, void (*fn)(const struct path *p, void *arg), void *arg);

/* Bit i set when e names alias i (the first 64 aliases). */
uint64_t expr_alias_mask(const struct expr *e);

struct expr_input {
	const struct jdoc *doc;             /* the current event (token 0 = root) */
	uint64_t line;                      /* @line */
	const struct jdoc *const *alias_doc; /* per alias, NULL when unbound */
	/* Where a warning about this event goes (msg without "warning: "):
	 * NULL for "PROG: warning: msg" on stderr.  ev_expr_test sets it to
	 * name the file and line. */
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
};

/* 1 when the expression evaluates to true, 0 when not, -1 when the
 * evaluation failed (a regular expression hit its match, depth or heap
 * limit): the event must then be rejected with expr_error_reason(e).
 * Evaluation uses scratch memory kept in e (one thread at a time) and
 * allocates nothing once warm.
 *
 * The first time an ordering (< <= > >=) of some comparison in e meets a
 * string and a number, it warns through in->warn (once per comparison
 * in the source):
 *   -w: column 10: PRIORITY <= 3 compares a string with a number (false);
 *   use num(PRIORITY) to compare as numbers */
int expr_test(struct expr *e, const struct expr_input *in);

/* Why the last expr_test or expr_eval_json returned -1, for ev_reject:
 * "-w: column 3: regular expression: match limit exceeded on a string of
 * 51200 bytes". */
const char *expr_error_reason(const struct expr *e);

/* Evaluate and append the value as compact JSON: numbers and values
 * from the event as written, times as RFC 3339 strings, durations as
 * strings such as "1h30m" (str() of the value).  For tests, and for
 * tools that show a computed value.  0, or -1 (nothing appended) when
 * the evaluation failed, as for expr_test. */
int expr_eval_json(struct expr *e, const struct expr_input *in, struct buf *out);

/*
 * Print a compile error the way every tool does:
 *   PROG: WHAT: column 16: unexpected end of expression
 *     payload.total >
 *                     ^
 */
void expr_print_error(const char *what, const char *src, const struct expr_error *err);

#endif
