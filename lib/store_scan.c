/*
 * store_scan.c — reading the store's lines where store_index.c and store.c
 * need them: one line at a byte offset (to confirm what the index says),
 * and a scan of a byte range that derives every line's facts (seq, id,
 * aggregate, version) for the index.
 *
 * Guarantees: a line's bytes follow lib/input.h's rule (input_trim: BOM at
 * the file's start, final CR, blank lines skipped), so a store reads the
 * same here as through every tool.  A last line without its newline is
 * never read as a line: a store writer treats it as torn (store_tail.c),
 * so the scan stops before it.  Numbering follows store.h: a line's seq is
 * its "seq" member or the previous seq + 1 (store_line_seq); an
 * aggregate's version the mapped version field when it is positive (never
 * going back) or its previous version + 1.
 */
#include "store_int.h"
#include "ev.h"
#include "input.h"
#include "strset.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint64_t store_line_seq(const struct jdoc *d, uint64_t prev)
{
	int64_t v;
	if (event_seq(d, &v))
		return (uint64_t)v;
	return prev + 1;
}

/* The first non-blank line at or after off of the store (or of the staged
 * lines), trimmed, into s->line.  0 or -1. */
static int line_at(struct store *s, uint64_t off)
{
	buf_reset(&s->line);
	if (off >= s->size) {
		uint64_t rel = off - s->size;
		if (rel >= s->pend.len)
			return -1;
		const char *p = s->pend.p + rel, *nl = memchr(p, '\n', s->pend.len - rel);
		buf_add(&s->line, p, nl ? (size_t)(nl - p) : s->pend.len - rel);
		return 0;
	}
	char chunk[4096];
	uint64_t at = off, start = off;
	const char *p;
	size_t n;
	for (;;) {
		ssize_t k = input_pread(s->fd, chunk, sizeof chunk, at);
		if (k <= 0)
			return -1;
		char *nl = memchr(chunk, '\n', (size_t)k);
		size_t take = nl ? (size_t)(nl - chunk) : (size_t)k;
		buf_add(&s->line, chunk, take);
		at += take + (nl ? 1 : 0);
		if (!nl)
			continue;
		p = s->line.p;
		n = s->line.len;
		if (!input_trim(&p, &n, start == 0))
			break;
		buf_reset(&s->line); /* blank: the next one */
		start = at;
	}
	if (p != s->line.p) /* a BOM */
		memmove(s->line.p, p, n);
	s->line.len = n;
	s->line.p[n] = '\0';
	return 0;
}

int store_parse_at(struct store *s, uint64_t off)
{
	struct jerr je;
	if (line_at(s, off) < 0)
		return -1;
	return json_parse(&s->doc, s->line.p ? s->line.p : "", s->line.len, 0, &je);
}

/* Does the line at off carry id (value key) vkey in field f? */
int store_line_has(struct store *s, uint64_t off, enum ev_field f, const char *vkey, size_t n,
                    uint64_t *version)
{
	if (store_parse_at(s, off) < 0)
		return 0;
	uint32_t t = event_field(&s->doc, s->o.fm, f);
	if (t == JNONE && f == F_ID)
		return 0;
	buf_reset(&s->scratch);
	json_value_key(&s->doc, t, &s->scratch);
	if (s->scratch.len != n || memcmp(s->scratch.p, vkey, n) != 0)
		return 0;
	if (version) {
		uint64_t v;
		/* a line can hold a lower version than the index (a foreign
		 * line numbered below its aggregate's version leaves that
		 * version as it was), never a higher one */
		if (store_pos_int(&s->doc, event_field(&s->doc, s->o.fm, F_VERSION), &v) == 0 && v > *version)
			return 0;
	}
	return 1;
}

/* The facts of one store line (trimmed, not blank). */
static void facts(struct store *s, const char *p, size_t n, uint64_t off, struct jrec *r)
{
	struct jerr je;
	r->idh = r->kh1 = r->kh2 = r->version = 0;
	r->seq = s->committed_seq + 1;
	if (json_parse(&s->doc, p, n, 0, &je) < 0) {
		ev_warn("%s: line at byte %" PRIu64 " is not a valid event (%s): it takes seq %" PRIu64
		        " and nothing else", s->o.path, off, je.msg, r->seq);
		return;
	}
	const struct jdoc *d = &s->doc;
	r->seq = store_line_seq(d, s->committed_seq);
	uint32_t id = event_field(d, s->o.fm, F_ID);
	if (id != JNONE) {
		buf_reset(&s->scratch);
		json_value_key(d, id, &s->scratch);
		r->idh = store_id_hash(s->scratch.p, s->scratch.len);
	}
	uint32_t key = event_field(d, s->o.fm, F_KEY);
	if (key == JNONE)
		return;
	buf_reset(&s->scratch);
	json_value_key(d, key, &s->scratch);
	store_key_hash(s->scratch.p, s->scratch.len, &r->kh1, &r->kh2);
	uint64_t cur = 0, at, v;
	store_index_agg(s, r->kh1, r->kh2, &at, &cur); /* cur stays 0 when absent */
	if (store_pos_int(d, event_field(d, s->o.fm, F_VERSION), &v) == 0 && v > 0)
		r->version = v > cur ? v : cur;
	else
		r->version = cur + 1;
}

/* One line found by the scan: p[0..n) trimmed, starting at byte lineoff;
 * span..end are its bytes with any blank lines before it, in memory at
 * raw when they lie there whole. */
static void scanned(struct store *s, const char *p, size_t n, uint64_t lineoff, uint64_t span,
                    uint64_t end, const char *raw, int journal)
{
	struct jrec r;
	facts(s, p, n, lineoff, &r);
	r.off = span;
	r.len = end - span;
	r.lh = 0;
	/* the hash of the span's bytes: the line (and any blank lines
	 * before it) with its newline */
	if (raw) {
		r.lh = store_line_hash(raw, (size_t)r.len);
	} else {
		struct buf sp = {0};
		buf_reserve(&sp, (size_t)r.len);
		if (input_pread(s->fd, sp.p, (size_t)r.len, span) == (ssize_t)r.len)
			r.lh = store_line_hash(sp.p, (size_t)r.len);
		buf_free(&sp);
	}
	store_rec_check(&r);
	store_apply(s, &r);
	if (journal) {
		s->stj = xgrow(s->stj, &s->capstj, s->nstj + 1, sizeof *s->stj);
		s->stj[s->nstj++] = r;
	}
}

int store_scan(struct store *s, uint64_t from, uint64_t to, int journal)
{
	if (from >= to)
		return 0;
	struct input in;
	int fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (input_fdopen(&in, fd, s->o.path) < 0) {
		close(fd);
		return -1;
	}
	int rc = input_seek(&in, from);
	const char *line;
	size_t len;
	uint64_t span = from;
	while (rc == 0 && (rc = input_next(&in, &line, &len)) > 0) {
		uint64_t end = in.consumed;
		/* a line without its newline, or not whole by to, is torn */
		if (in.unterminated || end > to)
			break;
		scanned(s, line, len, in.offset, span, end, span == in.offset ? input_raw(&in) : NULL, journal);
		span = end;
		rc = 0;
	}
	if (rc == 0 && in.consumed < to) { /* the store shrank under us */
		rc = -1;
		errno = EIO;
	}
	input_close(&in);
	return rc < 0 ? -1 : 0;
}
