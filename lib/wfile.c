/* wfile.c — checked buffered output (see wfile.h). */
#include "wfile.h"
#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WBUF_SIZE (64 * 1024)

static struct wfile stdout_file = { 1, "standard output", NULL, 0, 0 };
struct wfile *ev_out = &stdout_file;

struct wfile *wfile_fd(int fd, const char *name)
{
	struct wfile *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->name = name;
	return w;
}

struct wfile *wfile_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd < 0)
		return NULL;
	return wfile_fd(fd, path);
}

static void write_all(struct wfile *w, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(w->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			ev_die_errno(EV_IO, "write error on %s", w->name);
		p += k;
		n -= (size_t)k;
	}
}

void wfile_flush(struct wfile *w)
{
	if (w->len) {
		size_t n = w->len;
		w->len = 0;
		write_all(w, w->buf, n);
	}
}

void wfile_write(struct wfile *w, const void *p, size_t n)
{
	if (!w->buf) {
		w->cap = WBUF_SIZE;
		w->buf = xmalloc(w->cap);
	}
	if (n > w->cap - w->len) {
		wfile_flush(w);
		if (n >= w->cap) {
			write_all(w, p, n);
			return;
		}
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void wfile_puts(struct wfile *w, const char *s)
{
	wfile_write(w, s, strlen(s));
}

void wfile_line(struct wfile *w, const void *p, size_t n)
{
	if (w->buf && n < w->cap - w->len) {
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		w->buf[w->len++] = '\n';
		if (w->len == w->cap)
			wfile_flush(w);
		return;
	}
	wfile_write(w, p, n);
	wfile_putc(w, '\n');
}

void wfile_close(struct wfile *w, int sync)
{
	wfile_flush(w);
	if (sync && fsync(w->fd) < 0 && errno != EINVAL && errno != EROFS)
		ev_die_errno(EV_IO, "fsync %s", w->name);
	if (w == ev_out) {
		free(w->buf);
		w->buf = NULL;
		w->cap = 0;
		return;
	}
	if (close(w->fd) < 0)
		ev_die_errno(EV_IO, "close %s", w->name);
	free(w->buf);
	free(w);
}
