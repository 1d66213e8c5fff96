/*
 * ev.h — what every evtools source file needs: the program name, the exit
 * status table of evtools(7), checked allocation and error reporting.
 *
 * Every message names the tool ("evquery: ...").  Allocation failures end
 * the process with status 5 rather than limping on: a tool that cannot
 * hold its state cannot promise anything about its output.
 */
#ifndef EV_H
#define EV_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#define EV_VERSION "0.1.0"

enum ev_exit {
	EV_OK = 0,       /* success */
	EV_NOMATCH = 1,  /* nothing matched (with -e) */
	EV_USAGE = 2,    /* bad option, expression, unreadable file */
	EV_REJECT = 3,   /* finished, but some lines were rejected */
	EV_CONFLICT = 4, /* expected-version mismatch, lock timeout */
	EV_IO = 5        /* write/fsync failure, torn store, disk full */
};

extern const char *ev_progname;

void ev_setprogname(const char *argv0);

/* "PROG: message\n" on stderr. */
void ev_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, with ": strerror(errno)" appended. */
void ev_warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Warn and exit with CODE (after flushing nothing: callers flush first). */
_Noreturn void ev_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void ev_die_errno(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array: *cap doubles until it holds need elements of size sz. */
void *xgrow(void *p, size_t *cap, size_t need, size_t sz);
char *xstrdup(const char *s);
char *xmemdup(const void *p, size_t n); /* NUL-terminated copy */

#define EV_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
