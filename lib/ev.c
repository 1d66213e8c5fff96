/* ev.c — program name, messages, checked allocation (see ev.h). */
#include "ev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ev_progname = "evtools";

void ev_setprogname(const char *argv0)
{
	const char *s = strrchr(argv0, '/');
	ev_progname = s ? s + 1 : argv0;
}

static void vwarn(int errnum, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", ev_progname);
	vfprintf(stderr, fmt, ap);
	if (errnum)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

void ev_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
}

void ev_warn_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vwarn(e, fmt, ap);
	va_end(ap);
}

void ev_die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
	exit(code);
}

void ev_die_errno(int code, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vwarn(e, fmt, ap);
	va_end(ap);
	exit(code);
}

static _Noreturn void oom(size_t n)
{
	fprintf(stderr, "%s: out of memory (%zu bytes)\n", ev_progname, n);
	exit(EV_IO);
}

/*
 * Fault injection for tests: with EV_FAIL_ALLOC=N in the environment, the
 * Nth checked allocation fails as if memory were exhausted, so a test can
 * walk N over a run and see every failure end with the message and
 * status 5, never a crash or a torn file.  Costs one branch per call.
 */
static uint64_t alloc_fail_at = UINT64_MAX, alloc_count;
static int alloc_fail_read;

static int alloc_fails(void)
{
	if (!alloc_fail_read) {
		const char *s = getenv("EV_FAIL_ALLOC");
		alloc_fail_read = 1;
		if (s && *s)
			alloc_fail_at = strtoull(s, NULL, 10);
	}
	return ++alloc_count == alloc_fail_at;
}

void *xmalloc(size_t n)
{
	void *p = alloc_fails() ? NULL : malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = alloc_fails() ? NULL : calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = alloc_fails() ? NULL : realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xgrow(void *p, size_t *cap, size_t need, size_t sz)
{
	size_t c = *cap;
	if (need <= c)
		return p;
	if (c < 16)
		c = 16;
	while (c < need) {
		if (c > SIZE_MAX / 2 / sz)
			oom(SIZE_MAX);
		c *= 2;
	}
	*cap = c;
	return xrealloc(p, c * sz);
}

char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

char *xmemdup(const void *p, size_t n)
{
	char *s = xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}
