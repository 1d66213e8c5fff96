/*
 * input.h — reading NDJSON lines of any length from a file or stdin.
 *
 * A line is returned without its ending ("\n" or "\r\n").  A UTF-8 BOM at
 * the start of a file is dropped; a last line without a final newline is
 * still a line (in->unterminated tells, for writers that treat it as torn).
 * Blank lines (only spaces, tabs or CR) are skipped but counted, so line
 * numbers match what an editor shows.  Memory: one read buffer plus the
 * longest line that crossed a buffer boundary.
 *
 * Compressed input: a stream that starts with the gzip magic (1f 8b) or
 * the zstd magic (28 b5 2f fd) is decompressed as it is read (zlib,
 * libzstd), for regular files and pipes alike (no NDJSON line can start
 * with those bytes).  Concatenated gzip members and several zstd frames
 * read as one stream; truncated or corrupt data, or bytes after the last
 * member that are not another one, are a read error (input_errstr says
 * what).  Line numbers, offset and consumed then count decompressed
 * bytes, and such an input is not seekable: is_reg is 0 (so size is
 * unknown to --progress, and modes that seek or follow must refuse it:
 * in->comp says so; a regular file is recognised when it is opened, a
 * pipe at its first read).
 */
#ifndef INPUT_H
#define INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "buf.h"

enum input_comp { IC_NONE, IC_GZIP, IC_ZSTD };

struct input_z; /* decoder state of a compressed input */

struct input {
	int fd;
	const char *name;   /* as given; "-" for stdin */
	const char *label;  /* for messages: the name, or "<stdin>" */
	char *rbuf;
	size_t rcap, rpos, rend;
	struct buf line;    /* a line assembled across reads */
	uint64_t lineno;    /* of the line just returned, 1-based */
	uint64_t offset;    /* byte offset of that line's start in the file */
	uint64_t consumed;  /* bytes consumed so far (offset of the next line) */
	int eof, started;
	int unterminated;   /* the line just returned had no newline */
	int is_reg;         /* a regular file (seekable, size known) */
	uint64_t end;       /* when not 0: no line starting at or after it is read */
	off_t size;         /* its size, when is_reg */
	enum input_comp comp; /* compressed: how (known once sniffed) */
	int sniffed;        /* the first bytes were looked at */
	struct input_z *z;
	char err[160];      /* after input_next returned -1: what went wrong */
};

/* "gzip", "zstd" or NULL. */
const char *input_comp_name(enum input_comp c);
/* What the last failed read was ("truncated gzip data", "Input/output
 * error"), for "FILE: read error: WHAT". */
static inline const char *input_errstr(const struct input *in)
{
	return in->err[0] ? in->err : "unknown error";
}

/* Open path ("-" or NULL = stdin).  0 ok; -1 with errno set. */
int input_open(struct input *in, const char *path);
/* Read from fd, already open (input_close closes it), named name in
 * messages.  0 ok; -1 with errno set (a directory). */
int input_fdopen(struct input *in, int fd, const char *name);
/* Start reading at byte offset off of a regular file (line numbers then
 * count from there and are not meaningful; at 0, a BOM is dropped again).
 * 0 ok, -1 with errno (ESPIPE for a compressed input). */
int input_seek(struct input *in, uint64_t off);

/* Read n bytes of fd at off (EINTR retried, short only at the end of the
 * file): the count read, or -1 with errno.  The one positioned read, for
 * readers that seek by themselves (the store, --sorted's search). */
ssize_t input_pread(int fd, void *p, size_t n, uint64_t off);
/* Next non-blank line: 1 with *line and *len set (valid until the next call),
 * 0 at end of file, -1 on a read error (errno set). */
int input_next(struct input *in, const char **line, size_t *len);
void input_close(struct input *in);

/*
 * The one rule for what a line's bytes hold, for readers that do their own
 * I/O (the store reads lines at byte offsets): a UTF-8 BOM is dropped when
 * the line starts the file (at_start), then a final CR.  *line and *len are
 * updated; returns 1 when what is left is blank (only spaces, tabs or CR),
 * a line every reader skips.
 */
static inline int input_trim(const char **line, size_t *len, int at_start)
{
	const char *p = *line;
	size_t n = *len;
	if (at_start && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		p += 3;
		n -= 3;
	}
	if (n && p[n - 1] == '\r')
		n--;
	*line = p;
	*len = n;
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* The bytes of the line just returned as they were read (BOM and CR
 * included) followed by its newline, in->consumed - in->offset of them,
 * when they lie whole in the read buffer (valid until the next call); NULL
 * when the line crossed a read or had no newline. */
static inline const char *input_raw(const struct input *in)
{
	uint64_t n = in->consumed - in->offset;
	return !in->unterminated && n <= in->rpos ? in->rbuf + in->rpos - n : NULL;
}

#endif
