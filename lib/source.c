/* source.c — the --sorted seek (see source.h). */
#include "source.h"
#include "input.h"
#include "buf.h"
#include "json.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>


struct search {
	int fd;
	const struct fieldmap *fm;
	uint64_t size;
	struct src_probe p[160]; /* a search takes at most 2 + 64 probes */
	size_t n;
	int contradicted;
	struct src_probe a, b;
	struct buf line;
	struct jdoc doc;
};

/* The first line starting at or after pos (pos itself when a line starts
 * there) and before limit, into s->line: 1 with *start and *next (past
 * its newline) set, 0 when there is none, -1 on a read error. */
static int line_from(struct search *s, uint64_t pos, uint64_t limit, uint64_t *start, uint64_t *next)
{
	char chunk[4096];
	uint64_t at = pos;
	buf_reset(&s->line);
	if (pos > 0) {
		at = pos - 1; /* the byte before: a newline means a line starts at pos */
		for (;;) {
			ssize_t n = input_pread(s->fd, chunk, sizeof chunk, at);
			if (n < 0)
				return -1;
			if (n == 0)
				return 0;
			char *nl = memchr(chunk, '\n', (size_t)n);
			if (nl) {
				at += (uint64_t)(nl - chunk) + 1;
				break;
			}
			at += (uint64_t)n;
		}
	}
	if (at >= limit || at >= s->size)
		return 0;
	*start = at;
	for (;;) {
		ssize_t n = input_pread(s->fd, chunk, sizeof chunk, at);
		if (n < 0)
			return -1;
		if (n == 0) {
			*next = at; /* a last line without a newline */
			return 1;
		}
		char *nl = memchr(chunk, '\n', (size_t)n);
		size_t k = nl ? (size_t)(nl - chunk) : (size_t)n;
		buf_add(&s->line, chunk, k);
		at += k;
		if (nl) {
			*next = at + 1;
			return 1;
		}
	}
}

/* The first line at or after pos (before limit) that is an event with a
 * time: 1 with *start, *t and *next, 0 when there is none, -1 on a read
 * error.  Lines skipped here are reported when (if) they are read. */
static int valid_from(struct search *s, uint64_t pos, uint64_t limit, uint64_t *start, int64_t *t,
                      uint64_t *next)
{
	struct jerr err;
	char why[200];
	for (;;) {
		int rc = line_from(s, pos, limit, start, next);
		if (rc <= 0)
			return rc;
		const char *p = s->line.p ? s->line.p : "";
		size_t n = s->line.len;
		if (*start == 0 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
			p += 3;
			n -= 3;
		}
		if (n && p[n - 1] == '\r')
			n--;
		if (json_parse(&s->doc, p, n, 0, &err) == 0 &&
		    event_time(&s->doc, s->fm, t, why, sizeof why) == 0)
			return 1;
		pos = *next;
	}
}

static void probe(struct search *s, uint64_t off, int64_t t)
{
	for (size_t i = 0; i < s->n && !s->contradicted; i++) {
		const struct src_probe *o = &s->p[i];
		if ((o->off < off && o->t > t) || (o->off > off && o->t < t)) {
			s->contradicted = 1;
			s->a = o->off < off ? *o : (struct src_probe){ off, t };
			s->b = o->off < off ? (struct src_probe){ off, t } : *o;
		}
	}
	if (s->n < sizeof s->p / sizeof *s->p)
		s->p[s->n++] = (struct src_probe){ off, t };
}

/*
 * Where to start reading for --since: after the last event older than
 * since, so that every event from since on is read (if the file is in
 * order).  lo only ever moves past a probe older than since, and hi down
 * to a probe at or after since, or to where no event starts before it.
 * 0 with *off set; -1 on a read error.
 */
static int seek_since(struct search *s, int64_t since, uint64_t *off)
{
	uint64_t lo, hi = s->size, start, next;
	int64_t t;
	int rc;
	*off = 0;
	rc = valid_from(s, 0, hi, &start, &t, &next);
	if (rc <= 0)
		return rc;
	probe(s, start, t);
	if (t >= since)
		return 0;
	lo = next;
	while (lo < hi && !s->contradicted) {
		uint64_t mid = lo + (hi - lo) / 2;
		rc = valid_from(s, mid, hi, &start, &t, &next);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			hi = mid;
			continue;
		}
		probe(s, start, t);
		if (t < since)
			lo = next;
		else
			hi = start;
	}
	*off = lo;
	return 0;
}

int src_seek_since(int fd, uint64_t size, const struct fieldmap *fm, int64_t since, struct src_seek *out)
{
	struct search s = { .fd = fd, .fm = fm, .size = size };
	uint64_t off;
	int rc = seek_since(&s, since, &off);
	int saved = errno;
	buf_free(&s.line);
	json_doc_free(&s.doc);
	errno = saved;
	if (rc < 0)
		return -1;
	memset(out, 0, sizeof *out);
	out->off = s.contradicted ? 0 : off;
	out->contradicted = s.contradicted;
	out->a = s.a;
	out->b = s.b;
	return 0;
}
