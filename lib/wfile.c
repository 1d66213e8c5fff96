/* wfile.c — checked buffered output (see wfile.h). */
#include "wfile.h"
#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WBUF_SIZE (64 * 1024)

static struct wfile stdout_file = { 1, "standard output", NULL, 0, 0, 0 };
struct wfile *ev_out = &stdout_file;

struct wfile *wfile_fd(int fd, const char *name)
{
	struct wfile *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->name = name;
	return w;
}

/* The directory that would hold path: must exist and be writable. */
static int dir_writable(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xmemdup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	struct stat st;
	int rc = stat(dir, &st);
	if (rc == 0 && !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		rc = -1;
	}
	if (rc == 0)
		rc = access(dir, W_OK | X_OK);
	int e = errno;
	free(dir);
	errno = e;
	return rc;
}

struct wfile *wfile_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* created by the first write: a run that has nothing for it,
		 * or that stops before (an input that cannot be opened), leaves
		 * no file behind */
		if (dir_writable(path) < 0)
			return NULL;
		struct wfile *w = wfile_fd(-1, path);
		w->create = 1;
		return w;
	}
	if (fd < 0)
		return NULL;
	return wfile_fd(fd, path);
}

static void write_all(struct wfile *w, const char *p, size_t n)
{
	if (w->fd < 0 && w->create) {
		w->fd = open(w->name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (w->fd < 0)
			ev_die_errno(EV_IO, "%s", w->name);
		w->create = 0;
	}
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
	if (w->fd < 0) { /* an appending file that got nothing: never created */
		free(w->buf);
		free(w);
		return;
	}
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
