/*
 * store_index.c — FILE.idx, the store's sidecar index: rebuildable, never
 * the source of truth.  It answers, without reading the store, the last
 * seq, an aggregate's last version and which lines may hold an event id.
 *
 * Guarantees: an index that does not match the store (its identity, size,
 * last line, FILE.base's identity, the field mapping, its own checksums) is
 * never believed: it is rebuilt by a scan.  Lines past what it covers are
 * scanned and journaled.  What it says about an id or an aggregate is a
 * hash, confirmed against the line it points at (store.c).  Errors writing
 * it are not errors of the store: the next writer rebuilds it.
 *
 * Why the index looks the way it does.  Appending one event to a store of
 * a million must not read the store, so evwrite needs, without a scan: the
 * last seq, each aggregate's last version and whether an event id is
 * already there.  FILE.idx keeps them as a snapshot of sorted fixed-width
 * tables, mapped and binary-searched (nothing is loaded), followed by a
 * journal of fixed-width records, one per line appended since, which is
 * read at open (at most STORE_JOURNAL_MAX of them; then the whole index is
 * rewritten at close, atomically).  All words are uint64 in native order:
 *
 *   header   18 words: magic, byte-order mark, the store's st_dev and
 *            st_ino, covered (bytes of the store the snapshot describes),
 *            last_seq, nids, naggs, FILE.base's st_ino, size and mtime (ns),
 *            a hash of the field mapping, the last covered line's offset,
 *            length and hash, a hash of the aggs table (checked at every
 *            open: versions must not silently restart), 0, and a hash of
 *            the 17 words before it
 *   ids      nids x {hash of the id, offset of its line}, sorted
 *   aggs     naggs x {hash1, hash2 of the key, offset of its last line
 *            (or STORE_NONE when the version comes from FILE.base), version},
 *            sorted
 *   journal  records {offset, length, seq, id hash, key hash1, hash2,
 *            version, line hash, check}; record k starts where k-1 ended,
 *            the first at covered.
 *
 * Trust: the index is believed only when the header matches the store's
 * identity (a compaction renames a new file in), the base's identity and
 * the field mapping, when the journal's records are whole and contiguous,
 * and when the last line they describe has the recorded hash.  Lines past
 * what it covers (a writer killed between its append and its journal
 * write, or a foreign append) are scanned and added.  A duplicate id it
 * reports is confirmed by reading and comparing the line it points at
 * (ids are 64-bit hashes); an aggregate's version is confirmed the same
 * way the first time a run uses it (keys are 128-bit hashes), and a
 * mismatch throws the index away and rebuilds it by a full scan.  The
 * index is never fsynced except when rewritten: losing its journal only
 * costs a scan of the lines it no longer covers.
 */
#include "store_int.h"
#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define IDX_MAGIC UINT64_C(0x3230305844495645) /* "EVIDX002" */
#define IDX_BOM UINT64_C(0x0102030405060708)
#define HDR_WORDS 18
#define JREC_WORDS 9

/* ---- hashing -------------------------------------------------------- */

static uint64_t murmur64(const void *key, size_t len, uint64_t seed)
{
	const uint64_t m = UINT64_C(0xc6a4a7935bd1e995);
	const unsigned char *p = key;
	uint64_t h = seed ^ (len * m);
	size_t nb = len / 8;
	for (size_t i = 0; i < nb; i++) {
		uint64_t k;
		memcpy(&k, p + 8 * i, 8);
		k *= m;
		k ^= k >> 47;
		k *= m;
		h ^= k;
		h *= m;
	}
	const unsigned char *t = p + nb * 8;
	switch (len & 7) {
	case 7: h ^= (uint64_t)t[6] << 48; /* fall through */
	case 6: h ^= (uint64_t)t[5] << 40; /* fall through */
	case 5: h ^= (uint64_t)t[4] << 32; /* fall through */
	case 4: h ^= (uint64_t)t[3] << 24; /* fall through */
	case 3: h ^= (uint64_t)t[2] << 16; /* fall through */
	case 2: h ^= (uint64_t)t[1] << 8;  /* fall through */
	case 1: h ^= (uint64_t)t[0]; h *= m;
	}
	h ^= h >> 47;
	h *= m;
	h ^= h >> 47;
	return h;
}

/* murmur64(the n words at byte off of fd, 0x636b), read in chunks: the
 * aggs table's checksum without faulting the whole table into memory.
 * -1 on a short read (the caller then sees a mismatch). */
static uint64_t file_words_hash(int fd, uint64_t off, uint64_t n, int *err)
{
	const uint64_t m = UINT64_C(0xc6a4a7935bd1e995);
	uint64_t h = UINT64_C(0x636b) ^ (n * 8 * m), chunk[4096];
	*err = 0;
	while (n) {
		size_t k = n < 4096 ? (size_t)n : 4096;
		ssize_t got = pread(fd, chunk, k * 8, (off_t)off);
		if (got != (ssize_t)(k * 8)) {
			*err = 1;
			return 0;
		}
		for (size_t i = 0; i < k; i++) {
			uint64_t w = chunk[i];
			w *= m;
			w ^= w >> 47;
			w *= m;
			h ^= w;
			h *= m;
		}
		n -= k;
		off += k * 8;
	}
	h ^= h >> 47;
	h *= m;
	h ^= h >> 47;
	return h;
}

static uint64_t nz(uint64_t h) { return h ? h : 1; }
uint64_t store_id_hash(const void *k, size_t n) { return nz(murmur64(k, n, 0x6964)); }
void store_key_hash(const void *k, size_t n, uint64_t *h1, uint64_t *h2)
{
	*h1 = nz(murmur64(k, n, 0x6b6579));
	*h2 = fnv1a64(k, n) ^ murmur64(k, n, UINT64_C(0x9e3779b97f4a7c15));
}
uint64_t store_line_hash(const void *p, size_t n) { return murmur64(p, n, 0x6c696e65); }
static uint64_t words_hash(const uint64_t *w, size_t n) { return murmur64(w, n * 8, 0x636b); }
/* ---- index maps ----------------------------------------------------- */

static void idmap_add(struct idmap *m, uint64_t h, uint64_t off)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct idmap o = *m;
		m->cap = o.cap ? o.cap * 2 : 1024;
		m->t = xcalloc(m->cap, sizeof *m->t);
		for (size_t i = 0; i < o.cap; i++)
			if (o.t[i].h) {
				size_t j = o.t[i].h & (m->cap - 1);
				while (m->t[j].h)
					j = (j + 1) & (m->cap - 1);
				m->t[j] = o.t[i];
			}
		free(o.t);
	}
	size_t j = h & (m->cap - 1);
	while (m->t[j].h)
		j = (j + 1) & (m->cap - 1);
	m->t[j].h = h;
	m->t[j].off = off;
	m->n++;
}

static struct aggslot *aggmap_slot(const struct aggmap *m, uint64_t h1, uint64_t h2)
{
	size_t j = h1 & (m->cap - 1);
	while (m->t[j].h1 && !(m->t[j].h1 == h1 && m->t[j].h2 == h2))
		j = (j + 1) & (m->cap - 1);
	return &m->t[j];
}

static void aggmap_set(struct aggmap *m, uint64_t h1, uint64_t h2, uint64_t off, uint64_t version)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct aggmap o = *m;
		m->cap = o.cap ? o.cap * 2 : 1024;
		m->t = xcalloc(m->cap, sizeof *m->t);
		for (size_t i = 0; i < o.cap; i++)
			if (o.t[i].h1)
				*aggmap_slot(m, o.t[i].h1, o.t[i].h2) = o.t[i];
		free(o.t);
	}
	struct aggslot *e = aggmap_slot(m, h1, h2);
	if (!e->h1)
		m->n++;
	e->h1 = h1;
	e->h2 = h2;
	e->off = off;
	e->version = version;
}

static const struct aggslot *aggmap_find(const struct aggmap *m, uint64_t h1, uint64_t h2)
{
	if (!m->cap)
		return NULL;
	const struct aggslot *e = aggmap_slot(m, h1, h2);
	return e->h1 ? e : NULL;
}

/* ---- facts, load, rebuild ------------------------------------------- */

void store_rec_check(struct jrec *r)
{
	r->check = words_hash(&r->off, JREC_WORDS - 1);
}

uint64_t store_fm_hash(const struct fieldmap *fm)
{
	struct buf b = {0};
	buf_adds(&b, fm->f[F_ID].text ? fm->f[F_ID].text : "");
	buf_addc(&b, 0);
	buf_adds(&b, fm->f[F_KEY].text ? fm->f[F_KEY].text : "");
	buf_addc(&b, 0);
	buf_adds(&b, fm->f[F_VERSION].text ? fm->f[F_VERSION].text : "");
	uint64_t h = murmur64(b.p, b.len, 0x666d);
	buf_free(&b);
	return h;
}

int store_load_base(struct store *s)
{
	if (s->base_loaded)
		return 0;
	char err[512];
	if (store_base_read(s->o.path, &s->base, err, sizeof err) < 0) {
		ev_warn("%s", err);
		return -1;
	}
	s->base_loaded = 1;
	return 0;
}

/* Apply one line's facts to the maps. */
void store_apply(struct store *s, const struct jrec *r)
{
	if (r->seq > s->committed_seq)
		s->committed_seq = r->seq;
	if (r->idh)
		idmap_add(&s->idm, r->idh, r->off);
	if (r->kh1)
		aggmap_set(&s->agm, r->kh1, r->kh2, r->off, r->version);
	s->tail_off = r->off;
	s->tail_len = r->len;
	s->tail_hash = r->lh;
}

void store_index_drop(struct store *s)
{
	if (s->map)
		munmap(s->map, s->maplen);
	s->map = NULL;
	s->sids = NULL;
	s->saggs = NULL;
	s->nsids = s->nsaggs = 0;
	if (s->idxfd >= 0)
		close(s->idxfd);
	s->idxfd = -1;
	s->idx_live = 0;
	free(s->idm.t);
	free(s->agm.t);
	memset(&s->idm, 0, sizeof s->idm);
	memset(&s->agm, 0, sizeof s->agm);
	s->njournal = 0;
}

/* A full rebuild, in memory: base, then every committed line. */
int store_index_scan(struct store *s)
{
	store_index_drop(s);
	s->committed_seq = 0;
	s->tail_off = s->tail_len = s->tail_hash = 0;
	if (store_load_base(s) < 0)
		return -1;
	s->committed_seq = s->base.last_seq;
	for (size_t i = 0; i < s->base.n; i++) {
		uint64_t h1, h2;
		store_key_hash(s->base.v[i].vkey, s->base.v[i].vkeylen, &h1, &h2);
		aggmap_set(&s->agm, h1, h2, STORE_NONE, s->base.v[i].version);
	}
	size_t keep = s->nstj;
	s->nstj = 0;
	if (store_scan(s, 0, s->size, 0) < 0) {
		ev_warn_errno("%s: read error", s->o.path);
		return -1;
	}
	s->nstj = keep;
	s->need_snapshot = 1;
	s->fresh = 1;
	return 0;
}

/* Load FILE.idx; 0 when it can be used (maps and tables loaded, lines
 * past it scanned), -1 when it must be rebuilt. */
int store_index_load(struct store *s)
{
	uint64_t h[HDR_WORDS];
	s->idxfd = open(s->idxpath, (s->o.dry_run ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (s->idxfd < 0)
		return -1;
	struct stat st;
	if (fstat(s->idxfd, &st) < 0 || input_pread(s->idxfd, h, sizeof h, 0) != (ssize_t)sizeof h)
		return -1;
	if (h[0] != IDX_MAGIC || h[1] != IDX_BOM || h[17] != words_hash(h, 17) || h[2] != s->dev ||
	    h[3] != s->ino || h[4] > s->size || h[8] != s->base_ino || h[9] != s->base_size ||
	    h[10] != s->base_mtime || h[11] != s->fm_hash)
		return -1;
	uint64_t tables = HDR_WORDS * 8 + h[6] * sizeof(struct idslot) + h[7] * sizeof(struct aggslot);
	if (h[6] > (uint64_t)st.st_size || h[7] > (uint64_t)st.st_size || tables > (uint64_t)st.st_size)
		return -1;
	s->maplen = (size_t)tables;
	s->map = mmap(NULL, s->maplen, PROT_READ, MAP_SHARED, s->idxfd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return -1;
	}
	s->sids = (const struct idslot *)((char *)s->map + HDR_WORDS * 8);
	s->nsids = h[6];
	s->saggs = (const struct aggslot *)(s->sids + h[6]);
	s->nsaggs = h[7];
	int rerr;
	uint64_t ah = file_words_hash(s->idxfd, HDR_WORDS * 8 + h[6] * sizeof(struct idslot), h[7] * 4, &rerr);
	if (rerr || ah != h[15])
		return -1;
	s->committed_seq = h[5];
	s->tail_off = h[12];
	s->tail_len = h[13];
	s->tail_hash = h[14];
	uint64_t covered = h[4];

	/* the journal: whole, checked, contiguous records */
	uint64_t jbytes = (uint64_t)st.st_size - tables;
	uint64_t nrec = jbytes / (JREC_WORDS * 8);
	s->journal_at = tables;
	if (nrec) {
		struct jrec *rs = xmalloc((size_t)nrec * sizeof *rs);
		ssize_t got = input_pread(s->idxfd, rs, (size_t)nrec * sizeof *rs, tables);
		if (got < 0)
			got = 0;
		nrec = (uint64_t)got / sizeof *rs;
		for (uint64_t i = 0; i < nrec; i++) {
			struct jrec r = rs[i];
			uint64_t c = r.check;
			store_rec_check(&r);
			if (r.check != c || r.off != covered || r.len == 0 || r.off + r.len > s->size)
				break;
			store_apply(s, &r);
			covered = r.off + r.len;
			s->journal_at += sizeof r;
			s->njournal++;
		}
		free(rs);
	}
	/* the last line it describes must be the store's */
	if (covered > 0) {
		if (s->tail_off + s->tail_len != covered || s->tail_len > (64u << 20))
			return -1;
		struct buf t = {0};
		buf_reserve(&t, (size_t)s->tail_len);
		int ok = input_pread(s->fd, t.p, (size_t)s->tail_len, s->tail_off) == (ssize_t)s->tail_len &&
		         store_line_hash(t.p, (size_t)s->tail_len) == s->tail_hash;
		buf_free(&t);
		if (!ok)
			return -1;
	}
	if (!s->o.dry_run && (uint64_t)st.st_size != s->journal_at &&
	    ftruncate(s->idxfd, (off_t)s->journal_at) < 0)
		return -1;
	s->idx_live = !s->o.dry_run;
	if (covered < s->size) {
		/* lines appended after the index was last written */
		size_t keep = s->nstj;
		if (store_scan(s, covered, s->size, 1) < 0)
			return -1;
		if (s->idx_live)
			store_index_journal(s, s->stj + keep, s->nstj - keep);
		s->nstj = keep;
	}
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	const struct idslot *x = a, *y = b;
	return x->h < y->h ? -1 : x->h > y->h ? 1 : x->off < y->off ? -1 : x->off > y->off;
}

static int cmp_agg(const void *a, const void *b)
{
	const struct aggslot *x = a, *y = b;
	if (x->h1 != y->h1)
		return x->h1 < y->h1 ? -1 : 1;
	return x->h2 < y->h2 ? -1 : x->h2 > y->h2;
}

struct obuf { int fd; char *p; size_t len, cap; int err; };

static void ob_write(struct obuf *o, const void *p, size_t n)
{
	if (o->err)
		return;
	if (o->len + n > o->cap) {
		if (store_write_all(o->fd, o->p, o->len) < 0)
			o->err = errno;
		o->len = 0;
	}
	if (n > o->cap) {
		if (store_write_all(o->fd, p, n) < 0)
			o->err = errno;
		return;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

/* Write FILE.idx afresh: the snapshot tables merged with the maps, no
 * journal.  Errors are not fatal (the index is only a cache). */
int store_index_write(struct store *s)
{
	struct idslot *ids = xmalloc((s->idm.n ? s->idm.n : 1) * sizeof *ids);
	size_t ni = 0;
	for (size_t i = 0; i < s->idm.cap; i++)
		if (s->idm.t[i].h)
			ids[ni++] = s->idm.t[i];
	qsort(ids, ni, sizeof *ids, cmp_id);
	struct aggslot *aggs = xmalloc((s->agm.n ? s->agm.n : 1) * sizeof *aggs);
	size_t na = 0;
	for (size_t i = 0; i < s->agm.cap; i++)
		if (s->agm.t[i].h1)
			aggs[na++] = s->agm.t[i];
	qsort(aggs, na, sizeof *aggs, cmp_agg);

	/* the aggs table merged in memory (it is small), to hash it */
	uint64_t tot_ids = s->nsids + ni, tot_aggs = 0;
	struct aggslot *all = xmalloc((s->nsaggs + na + 1) * sizeof *all);
	{
		size_t i = 0, j = 0;
		while (i < s->nsaggs || j < na) {
			int c = i == s->nsaggs ? 1 : j == na ? -1 : cmp_agg(&s->saggs[i], &aggs[j]);
			all[tot_aggs++] = c < 0 ? s->saggs[i] : aggs[j];
			if (c <= 0)
				i++;
			if (c >= 0)
				j++;
		}
	}
	size_t n = strlen(s->idxpath) + 32;
	char *tmp = xmalloc(n);
	snprintf(tmp, n, "%s.tmp.%ld", s->idxpath, (long)getpid());
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	int rc = -1;
	if (fd >= 0) {
		struct obuf o = { fd, xmalloc(1u << 20), 0, 1u << 20, 0 };
		uint64_t h[HDR_WORDS] = { IDX_MAGIC, IDX_BOM, s->dev, s->ino, s->size, s->committed_seq,
		                          tot_ids, tot_aggs, s->base_ino, s->base_size, s->base_mtime,
		                          s->fm_hash, s->tail_off, s->tail_len, s->tail_hash,
		                          words_hash(&all->h1, (size_t)tot_aggs * 4), 0, 0 };
		if (s->size == 0)
			h[12] = h[13] = h[14] = 0;
		h[17] = words_hash(h, 17);
		ob_write(&o, h, sizeof h);
		size_t i = 0, j = 0;
		while (i < s->nsids || j < ni) {
			if (j == ni || (i < s->nsids && cmp_id(&s->sids[i], &ids[j]) <= 0))
				ob_write(&o, &s->sids[i++], sizeof *ids);
			else
				ob_write(&o, &ids[j++], sizeof *ids);
		}
		ob_write(&o, all, (size_t)tot_aggs * sizeof *all);
		if (!o.err && o.len && store_write_all(fd, o.p, o.len) < 0)
			o.err = errno;
		free(o.p);
		if (!o.err && fsync(fd) == 0 && close(fd) == 0) {
			fd = -1;
			rc = rename(tmp, s->idxpath);
		}
		if (fd >= 0)
			close(fd);
		if (rc < 0)
			unlink(tmp);
	}
	free(tmp);
	free(ids);
	free(aggs);
	free(all);
	return rc;
}

/* ---- journal and look-ups -------------------------------------------- */

void store_index_journal(struct store *s, const struct jrec *r, size_t n)
{
	if (s->idx_live) {
		size_t bytes = n * sizeof *r;
		if (pwrite(s->idxfd, r, bytes, (off_t)s->journal_at) == (ssize_t)bytes) {
			s->journal_at += bytes;
			s->njournal += n;
			return;
		}
		s->idx_live = 0;
	}
	s->need_snapshot = 1;
}

int store_index_ids(struct store *s, uint64_t h, int (*fn)(struct store *s, uint64_t off, void *arg),
                    void *arg)
{
	if (s->idm.cap) {
		for (size_t j = h & (s->idm.cap - 1); s->idm.t[j].h; j = (j + 1) & (s->idm.cap - 1))
			if (s->idm.t[j].h == h && fn(s, s->idm.t[j].off, arg))
				return 1;
	}
	size_t lo = 0, hi = s->nsids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->sids[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->nsids && s->sids[lo].h == h; lo++)
		if (fn(s, s->sids[lo].off, arg))
			return 1;
	return 0;
}

int store_index_agg(const struct store *s, uint64_t h1, uint64_t h2, uint64_t *off, uint64_t *v)
{
	const struct aggslot *a = aggmap_find(&s->agm, h1, h2);
	if (a) {
		*off = a->off;
		*v = a->version;
		return 0;
	}
	size_t lo = 0, hi = s->nsaggs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct aggslot *m = &s->saggs[mid];
		if (m->h1 < h1 || (m->h1 == h1 && m->h2 < h2))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nsaggs && s->saggs[lo].h1 == h1 && s->saggs[lo].h2 == h2) {
		*off = s->saggs[lo].off;
		*v = s->saggs[lo].version;
		return 0;
	}
	return 1;
}

/* ---- index maintenance for compaction -------------------------------- */

int store_index_invalidate(const char *store)
{
	char *p = store_file(store, ".idx");
	int rc = unlink(p);
	if (rc < 0 && errno == ENOENT)
		rc = 0;
	free(p);
	return rc;
}

int store_index_rebuild(const char *store, const struct fieldmap *fm, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof *s);
	s->o.path = store;
	s->o.fm = fm;
	s->lockfd = s->idxfd = -1;
	s->idxpath = store_file(store, ".idx");
	s->fd = open(store, O_RDONLY | O_CLOEXEC);
	int rc = -1;
	struct stat st;
	if (s->fd < 0 || fstat(s->fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", store, strerror(errno));
	} else {
		s->dev = (uint64_t)st.st_dev;
		s->ino = (uint64_t)st.st_ino;
		s->size = (uint64_t)st.st_size;
		s->fm_hash = store_fm_hash(fm);
		store_base_identity(store, &s->base_ino, &s->base_size, &s->base_mtime);
		if (store_index_scan(s) < 0)
			snprintf(err, errlen, "%s: cannot scan the store or its base", store);
		else if ((rc = store_index_write(s)) < 0)
			snprintf(err, errlen, "%s: %s", s->idxpath, strerror(errno));
	}
	s->o.hold = 1;
	s->o.dry_run = 1;
	int fd = s->fd;
	s->fd = -1;
	store_close(s);
	if (fd >= 0)
		close(fd);
	return rc;
}

