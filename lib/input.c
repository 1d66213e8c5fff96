/* input.c — line reader (see input.h). */
#include "input.h"
#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define READ_SIZE (256 * 1024)
#define ZREAD_SIZE (128 * 1024)

/* The compressed side: raw bytes read from fd, and the decoder. */
struct input_z {
	unsigned char *buf;
	size_t pos, end;
	int eof;           /* fd has no more bytes */
	int member_end;    /* gzip: a member just ended (another may follow) */
	int frame_end;     /* zstd: the last call ended a frame */
	z_stream gz;
	ZSTD_DCtx *zd;
};

const char *input_comp_name(enum input_comp c)
{
	return c == IC_GZIP ? "gzip" : c == IC_ZSTD ? "zstd" : NULL;
}

/* Are the n bytes read so far the start of a magic (more are needed to
 * decide)?  A pipe's first line is not held back for bytes that cannot
 * change the answer. */
static int magic_prefix(const unsigned char *p, size_t n)
{
	static const unsigned char gz[] = { 0x1f, 0x8b }, zs[] = { 0x28, 0xb5, 0x2f, 0xfd };
	return n == 0 || (n < sizeof gz && !memcmp(p, gz, n)) || (n < sizeof zs && !memcmp(p, zs, n));
}

static enum input_comp comp_of(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return IC_GZIP;
	if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return IC_ZSTD;
	return IC_NONE;
}

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
	if (in->is_reg) { /* known now, so modes that seek can refuse it */
		unsigned char m[4];
		ssize_t n = pread(in->fd, m, sizeof m, 0);
		in->comp = comp_of(m, n > 0 ? (size_t)n : 0);
		in->sniffed = 1;
		if (in->comp)
			in->is_reg = 0; /* a stream of decompressed bytes */
	}
	return 0;
}

int input_seek(struct input *in, uint64_t off)
{
	if (in->comp) {
		errno = ESPIPE;
		return -1;
	}
	if (lseek(in->fd, (off_t)off, SEEK_SET) < 0)
		return -1;
	in->rpos = in->rend = 0;
	in->eof = 0;
	in->started = off != 0; /* no BOM check in the middle of a file */
	in->consumed = off;
	buf_reset(&in->line);
	return 0;
}

static ssize_t read_some(int fd, void *p, size_t n)
{
	ssize_t k;
	do
		k = read(fd, p, n);
	while (k < 0 && errno == EINTR);
	return k;
}

static int read_failed(struct input *in)
{
	snprintf(in->err, sizeof in->err, "%s", strerror(errno));
	return -1;
}

static int z_failed(struct input *in, const char *fmt, const char *what)
{
	snprintf(in->err, sizeof in->err, fmt, input_comp_name(in->comp), what);
	errno = EIO;
	return -1;
}

/* Start decoding: the bytes already read (p, n) are its first input. */
static void z_start(struct input *in, const char *p, size_t n)
{
	struct input_z *z = in->z = xcalloc(1, sizeof *in->z);
	z->buf = xmalloc(ZREAD_SIZE > n ? ZREAD_SIZE : n);
	memcpy(z->buf, p, n);
	z->end = n;
	if (in->comp == IC_GZIP) {
		if (inflateInit2(&z->gz, 15 + 16) != Z_OK)
			ev_die(EV_IO, "%s: zlib: cannot start", in->label);
	} else {
		z->zd = ZSTD_createDCtx();
		if (!z->zd)
			ev_die(EV_IO, "%s: libzstd: cannot start", in->label);
	}
}

/* More compressed bytes: 0, or -1 after a read error. */
static int z_read(struct input *in)
{
	struct input_z *z = in->z;
	ssize_t k = read_some(in->fd, z->buf, ZREAD_SIZE);
	if (k < 0)
		return read_failed(in);
	z->pos = 0;
	z->end = (size_t)k;
	if (k == 0)
		z->eof = 1;
	return 0;
}

/* Decompress into rbuf until some bytes come out or the stream ends. */
static int z_fill(struct input *in)
{
	struct input_z *z = in->z;
	in->rpos = in->rend = 0;
	while (in->rend == 0) {
		if (z->pos == z->end) {
			if (!z->eof && z_read(in) < 0)
				return -1;
			if (z->eof) {
				int ended = in->comp == IC_GZIP ? z->member_end : z->frame_end;
				if (!ended)
					return z_failed(in, "truncated %s data%s", "");
				in->eof = 1;
				return 0;
			}
		}
		if (in->comp == IC_GZIP) {
			if (z->member_end) { /* another member, or garbage */
				if (z->buf[z->pos] != 0x1f)
					return z_failed(in, "bytes after the end of the %s data%s", "");
				if (inflateReset(&z->gz) != Z_OK)
					return z_failed(in, "corrupt %s data%s", "");
				z->member_end = 0;
			}
			z->gz.next_in = z->buf + z->pos;
			z->gz.avail_in = (uInt)(z->end - z->pos);
			z->gz.next_out = (unsigned char *)in->rbuf;
			z->gz.avail_out = (uInt)in->rcap;
			int rc = inflate(&z->gz, Z_NO_FLUSH);
			z->pos = z->end - z->gz.avail_in;
			in->rend = in->rcap - z->gz.avail_out;
			if (rc == Z_STREAM_END)
				z->member_end = 1;
			else if (rc == Z_BUF_ERROR && (in->rend || z->pos == z->end))
				; /* no progress possible without more input */
			else if (rc != Z_OK)
				return z_failed(in, "corrupt %s data: %s",
				                z->gz.msg ? z->gz.msg : rc == Z_MEM_ERROR ? "out of memory" : "bad data");
		} else {
			ZSTD_inBuffer ib = { z->buf, z->end, z->pos };
			ZSTD_outBuffer ob = { in->rbuf, in->rcap, 0 };
			size_t rc = ZSTD_decompressStream(z->zd, &ob, &ib);
			if (ZSTD_isError(rc))
				return z_failed(in, "corrupt %s data: %s", ZSTD_getErrorName(rc));
			z->pos = ib.pos;
			in->rend = ob.pos;
			/* 0: a frame ended and is flushed whole */
			z->frame_end = rc == 0 && ob.pos < ob.size;
			if (rc == 0 && ob.pos == ob.size)
				z->frame_end = 0; /* maybe more to flush: ask again */
		}
	}
	return 0;
}

/* The first read of a stream not yet sniffed: enough bytes to tell (or
 * the end), then either plain bytes in rbuf or a decoder started. */
static int sniff_fill(struct input *in)
{
	size_t n = 0;
	in->sniffed = 1;
	while (magic_prefix((const unsigned char *)in->rbuf, n)) {
		ssize_t k = read_some(in->fd, in->rbuf + n, in->rcap - n);
		if (k < 0)
			return read_failed(in);
		if (k == 0)
			break;
		n += (size_t)k;
	}
	in->comp = comp_of((const unsigned char *)in->rbuf, n);
	if (in->comp) {
		z_start(in, in->rbuf, n);
		return z_fill(in);
	}
	in->rpos = 0;
	in->rend = n;
	if (n == 0)
		in->eof = 1;
	return 0;
}

static int fill(struct input *in)
{
	if (in->comp) {
		if (!in->z) { /* a regular file sniffed at open */
			z_start(in, "", 0);
			in->z->end = 0;
		}
		return z_fill(in);
	}
	if (!in->sniffed)
		return sniff_fill(in);
	ssize_t n = read_some(in->fd, in->rbuf, in->rcap);
	if (n < 0)
		return read_failed(in);
	in->rpos = 0;
	in->rend = (size_t)n;
	if (n == 0)
		in->eof = 1;
	return 0;
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
	if (in->z) {
		if (in->comp == IC_GZIP)
			inflateEnd(&in->z->gz);
		else
			ZSTD_freeDCtx(in->z->zd);
		free(in->z->buf);
		free(in->z);
		in->z = NULL;
	}
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
