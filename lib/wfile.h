/*
 * wfile.h — checked, buffered output.  Every byte a tool writes goes
 * through here, so one place decides what a write error means: the tool
 * stops with "PROG: write error on NAME: REASON" and exit status 5.  A
 * closed pipe is left to the default SIGPIPE (silent, as `| head` wants).
 */
#ifndef WFILE_H
#define WFILE_H

#include <stddef.h>

struct wfile {
	int fd;
	const char *name;
	char *buf;
	size_t len, cap;
	int create;       /* fd is -1: create name at the first write */
};

extern struct wfile *ev_out; /* stdout */

/* Open path for appending (--errors, --late, --alerts).  An existing file
 * is opened now; a missing one is created (umask permissions) by the
 * first write, so nothing is left behind by a run that writes nothing to
 * it.  NULL with errno set when the file cannot be opened, or, when it is
 * missing, its directory does not exist or cannot be written. */
struct wfile *wfile_append(const char *path);
struct wfile *wfile_fd(int fd, const char *name);

void wfile_write(struct wfile *w, const void *p, size_t n);
static inline void wfile_putc(struct wfile *w, char c)
{
	if (w->len == w->cap)
		wfile_write(w, &c, 1);
	else
		w->buf[w->len++] = c;
}
void wfile_puts(struct wfile *w, const char *s);
/* A line: p[0..n) then "\n". */
void wfile_line(struct wfile *w, const void *p, size_t n);
void wfile_flush(struct wfile *w);
/* Flush and close (fsync first when sync is set); dies on error. */
void wfile_close(struct wfile *w, int sync);

#endif
