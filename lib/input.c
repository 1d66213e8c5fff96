/* input.c — line reader (see input.h). */
#include "input.h"
#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_SIZE (256 * 1024)

int input_open(struct input *in, const char *path)
{
	if (!path || strcmp(path, "-") == 0) {
		int rc = input_fdopen(in, 0, "-");
		in->label = "<stdin>";
		return rc;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return input_fdopen(in, fd, path);
}

int input_fdopen(struct input *in, int fd, const char *name)
{
	memset(in, 0, sizeof *in);
	in->fd = fd;
	in->name = in->label = name;
	struct stat st;
	if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		in->is_reg = 1;
		in->size = st.st_size;
	} else if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (in->fd > 0)
			close(in->fd);
		errno = EISDIR;
		return -1;
	}
	in->rcap = READ_SIZE;
	in->rbuf = xmalloc(in->rcap);
	return 0;
}

int input_seek(struct input *in, uint64_t off)
{
	if (lseek(in->fd, (off_t)off, SEEK_SET) < 0)
		return -1;
	in->rpos = in->rend = 0;
	in->eof = 0;
	in->started = off != 0; /* no BOM check in the middle of a file */
	in->consumed = off;
	buf_reset(&in->line);
	return 0;
}

static int fill(struct input *in)
{
	for (;;) {
		ssize_t n = read(in->fd, in->rbuf, in->rcap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		in->rpos = 0;
		in->rend = (size_t)n;
		if (n == 0)
			in->eof = 1;
		return 0;
	}
}

/* One raw line (without "\n"): 1, or 0 at EOF, -1 on error. */
static int next_raw(struct input *in, const char **line, size_t *len)
{
	buf_reset(&in->line);
	int assembling = 0;
	in->unterminated = 0;
	for (;;) {
		if (in->rpos == in->rend) {
			if (in->eof || fill(in) < 0) {
				if (!in->eof)
					return -1;
			}
			if (in->eof) {
				if (!assembling)
					return 0;
				in->unterminated = 1;
				*line = in->line.p;
				*len = in->line.len;
				return 1;
			}
		}
		char *s = in->rbuf + in->rpos;
		size_t avail = in->rend - in->rpos;
		char *nl = memchr(s, '\n', avail);
		if (nl) {
			size_t n = (size_t)(nl - s);
			in->rpos += n + 1;
			in->consumed += n + 1;
			if (!assembling) {
				*line = s;
				*len = n;
			} else {
				buf_add(&in->line, s, n);
				*line = in->line.p;
				*len = in->line.len;
			}
			return 1;
		}
		buf_add(&in->line, s, avail);
		in->consumed += avail;
		in->rpos = in->rend;
		assembling = 1;
	}
}

int input_next(struct input *in, const char **line, size_t *len)
{
	for (;;) {
		uint64_t start = in->consumed;
		if (in->end && start >= in->end)
			return 0;
		int rc = next_raw(in, line, len);
		if (rc <= 0)
			return rc;
		in->lineno++;
		in->offset = start;
		const char *p = *line;
		size_t n = *len;
		/* the start of the file apart: the hot path has no BOM test */
		if (!in->started) {
			in->started = 1;
			if (input_trim(&p, &n, 1))
				continue;
		} else if (input_trim(&p, &n, 0)) {
			continue;
		}
		*line = p;
		*len = n;
		return 1;
	}
}

void input_close(struct input *in)
{
	if (in->fd > 0)
		close(in->fd);
	free(in->rbuf);
	buf_free(&in->line);
	in->rbuf = NULL;
}

ssize_t input_pread(int fd, void *p, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, (char *)p + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}
