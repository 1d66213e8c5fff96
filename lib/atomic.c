/* atomic.c — crash-safe file replacement (see atomic.h). */
#include "atomic.h"
#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct atomic_file *open_files;

static void cleanup(void)
{
	for (struct atomic_file *a = open_files; a; a = a->next)
		unlink(a->tmp);
}

static void unlink_open(struct atomic_file *a)
{
	for (struct atomic_file **p = &open_files; *p; p = &(*p)->next)
		if (*p == a) {
			*p = a->next;
			break;
		}
}

int fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xmemdup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	if (rc < 0 && (errno == EINVAL || errno == EROFS))
		rc = 0;
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

struct atomic_file *atomic_open(const char *path)
{
	static int registered;
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = path + dirlen;
	size_t n = strlen(path) + 64;
	/* Everything that allocates comes before the file exists or right
	 * after it is registered: a failed allocation (exit 5) must never
	 * leave a temporary file behind. */
	struct atomic_file *a = xcalloc(1, sizeof *a);
	a->path = xstrdup(path);
	a->tmp = xmalloc(n);
	snprintf(a->tmp, n, "%.*s.%s.tmp.%ld", (int)dirlen, path, base, (long)getpid());
	if (!registered) {
		atexit(cleanup);
		registered = 1;
	}
	int fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST) {
		/* left by a crashed run of ours with the same pid: ours to replace */
		unlink(a->tmp);
		fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	}
	if (fd < 0) {
		int e = errno;
		free(a->path);
		free(a->tmp);
		free(a);
		errno = e;
		return NULL;
	}
	a->next = open_files;
	open_files = a;
	a->w = wfile_fd(fd, a->path); /* messages name the file the user knows */
	return a;
}

static void free_handle(struct atomic_file *a)
{
	unlink_open(a);
	free(a->path);
	free(a->tmp);
	free(a);
}

int atomic_commit(struct atomic_file *a)
{
	int rc = 0;
	wfile_flush(a->w);
	if (fsync(a->w->fd) < 0 && errno != EINVAL && errno != EROFS)
		rc = -1;
	int e = errno;
	int fd = a->w->fd;
	free(a->w->buf);
	free(a->w);
	a->w = NULL;
	if (close(fd) < 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && rename(a->tmp, a->path) < 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && fsync_dir_of(a->path) < 0) {
		rc = -1;
		e = errno;
	}
	if (rc < 0)
		unlink(a->tmp);
	free_handle(a);
	errno = e;
	return rc;
}

void atomic_abort(struct atomic_file *a)
{
	if (a->w) {
		close(a->w->fd);
		free(a->w->buf);
		free(a->w);
	}
	unlink(a->tmp);
	free_handle(a);
}
