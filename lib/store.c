/*
 * store.c — the event store (see store.h).
 *
 * Why the index looks the way it does.  Appending one event to a store of
 * a million must not read the store, so evwrite needs, without a scan: the
 * last seq, each aggregate's last version and whether an event id is
 * already there.  FILE.idx keeps them as a snapshot of sorted fixed-width
 * tables, mapped and binary-searched (nothing is loaded), followed by a
 * journal of fixed-width records, one per line appended since, which is
 * read at open (at most JOURNAL_MAX of them; then the whole index is
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
 *            (or NONE when the version comes from FILE.base), version},
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
#include "store.h"
#include "atomic.h"
#include "bmap.h"
#include "ev.h"
#include "jwrite.h"
#include "strset.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define NONE UINT64_MAX
#define IDX_MAGIC UINT64_C(0x3230305844495645) /* "EVIDX002" */
#define IDX_BOM UINT64_C(0x0102030405060708)
#define HDR_WORDS 18
#define JREC_WORDS 9
#define JOURNAL_MAX 8192
#define BATCH_BYTES (4u << 20)
#define NEVER_BYTES (1u << 20)

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
static uint64_t id_hash(const void *k, size_t n) { return nz(murmur64(k, n, 0x6964)); }
static void key_hash(const void *k, size_t n, uint64_t *h1, uint64_t *h2)
{
	*h1 = nz(murmur64(k, n, 0x6b6579));
	*h2 = fnv1a64(k, n) ^ murmur64(k, n, UINT64_C(0x9e3779b97f4a7c15));
}
static uint64_t line_hash(const void *p, size_t n) { return murmur64(p, n, 0x6c696e65); }
static uint64_t words_hash(const uint64_t *w, size_t n) { return murmur64(w, n * 8, 0x636b); }

static char *path_plus(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = xmalloc(na + nb + 1);
	memcpy(s, a, na);
	memcpy(s + na, b, nb + 1);
	return s;
}

static int write_whole(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = EIO;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static ssize_t pread_full(int fd, void *p, size_t n, uint64_t off)
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

/* ---- lock ----------------------------------------------------------- */

static volatile sig_atomic_t alarmed;
static void on_alarm(int sig) { (void)sig; alarmed = 1; }

int store_lock(const char *store, int64_t timeout_us)
{
	char *lp = path_plus(store, ".lock");
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	free(lp);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno != EWOULDBLOCK || timeout_us <= 0) {
		int e = errno == EWOULDBLOCK ? ETIMEDOUT : errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* Block in flock until a timer interrupts it; the timer repeats, so
	 * a signal that lands just before flock is entered is not lost. */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	struct itimerval it, oldit, zero;
	memset(&zero, 0, sizeof zero);
	it.it_value.tv_sec = timeout_us / 1000000;
	it.it_value.tv_usec = timeout_us % 1000000;
	it.it_interval.tv_sec = 0;
	it.it_interval.tv_usec = 10000;
	alarmed = 0;
	setitimer(ITIMER_REAL, &it, &oldit);
	int rc = -1, e = 0;
	while (!alarmed) {
		if ((rc = flock(fd, LOCK_EX)) == 0)
			break;
		if (errno != EINTR) {
			e = errno;
			break;
		}
	}
	setitimer(ITIMER_REAL, &zero, NULL);
	sigaction(SIGALRM, &old, NULL);
	if (rc == 0)
		return fd;
	close(fd);
	errno = e ? e : ETIMEDOUT;
	return -1;
}

void store_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);
}

/* ---- torn tail ------------------------------------------------------ */

int store_tail_check(int fd, uint64_t *off)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	uint64_t size = (uint64_t)st.st_size;
	if (size == 0)
		return 0;
	char c;
	if (pread_full(fd, &c, 1, size - 1) != 1)
		return -1;
	if (c == '\n')
		return 0;
	char chunk[65536];
	uint64_t end = size;
	while (end > 0) {
		size_t n = end < sizeof chunk ? (size_t)end : sizeof chunk;
		if (pread_full(fd, chunk, n, end - n) != (ssize_t)n)
			return -1;
		for (size_t i = n; i-- > 0;)
			if (chunk[i] == '\n') {
				*off = end - n + i + 1;
				return 1;
			}
		end -= n;
	}
	*off = 0;
	return 1;
}

int store_repair(const char *store, int fd, uint64_t off)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	uint64_t size = (uint64_t)st.st_size;
	char *name = xmalloc(strlen(store) + 64);
	int tfd = -1;
	for (int k = 0; k < 1000 && tfd < 0; k++) {
		if (k == 0)
			sprintf(name, "%s.torn.%" PRIu64, store, off);
		else
			sprintf(name, "%s.torn.%" PRIu64 ".%d", store, off, k);
		tfd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (tfd < 0 && errno != EEXIST)
			break;
	}
	if (tfd < 0) {
		free(name);
		return -1;
	}
	char chunk[65536];
	int rc = 0;
	for (uint64_t at = off; at < size && rc == 0;) {
		size_t n = size - at < sizeof chunk ? (size_t)(size - at) : sizeof chunk;
		if (pread_full(fd, chunk, n, at) != (ssize_t)n || write_whole(tfd, chunk, n) < 0)
			rc = -1;
		at += n;
	}
	if (rc == 0 && fsync(tfd) < 0)
		rc = -1;
	int e = errno;
	if (close(tfd) < 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && fsync_dir_of(name) < 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && (ftruncate(fd, (off_t)off) < 0 || fsync(fd) < 0)) {
		rc = -1;
		e = errno;
	}
	free(name);
	errno = e;
	return rc;
}

/* ---- FILE.base ------------------------------------------------------ */

static void base_index(struct store_base *b)
{
	size_t ns = 16;
	while (ns < b->n * 2 + 2)
		ns *= 2;
	free(b->slot);
	b->slot = xcalloc(ns, sizeof *b->slot);
	b->nslot = ns;
	for (size_t i = 0; i < b->n; i++) {
		size_t j = fnv1a64(b->v[i].vkey, b->v[i].vkeylen) & (ns - 1);
		while (b->slot[j])
			j = (j + 1) & (ns - 1);
		b->slot[j] = i + 1;
	}
}

static struct store_basever *base_find(const struct store_base *b, const char *vkey, size_t n)
{
	if (!b->nslot)
		return NULL;
	size_t j = fnv1a64(vkey, n) & (b->nslot - 1);
	while (b->slot[j]) {
		struct store_basever *v = &b->v[b->slot[j] - 1];
		if (v->vkeylen == n && memcmp(v->vkey, vkey, n) == 0)
			return v;
		j = (j + 1) & (b->nslot - 1);
	}
	return NULL;
}

uint64_t store_base_version(const struct store_base *b, const char *vkey, size_t n)
{
	struct store_basever *v = base_find(b, vkey, n);
	return v ? v->version : 0;
}

void store_base_set_key(struct store_base *b, const char *vkey, size_t vn, const char *json,
                        size_t jn, uint64_t version)
{
	struct store_basever *v = base_find(b, vkey, vn);
	if (v) {
		if (version > v->version)
			v->version = version;
		return;
	}
	b->v = xgrow(b->v, &b->cap, b->n + 1, sizeof *b->v);
	v = &b->v[b->n++];
	v->vkey = xmemdup(vkey, vn);
	v->vkeylen = vn;
	v->json = xmemdup(json, jn);
	v->jsonlen = jn;
	v->version = version;
	if (b->n * 2 + 2 > b->nslot) {
		base_index(b);
	} else {
		size_t j = fnv1a64(vkey, vn) & (b->nslot - 1);
		while (b->slot[j])
			j = (j + 1) & (b->nslot - 1);
		b->slot[j] = b->n;
	}
}

void store_base_set(struct store_base *b, const struct jdoc *d, uint32_t t, uint64_t version)
{
	struct buf vk = {0}, js = {0};
	json_value_key(d, t, &vk);
	if (t == JNONE)
		buf_adds(&js, "null");
	else
		json_write_compact(d, t, &js);
	store_base_set_key(b, vk.p, vk.len, js.p, js.len, version);
	buf_free(&vk);
	buf_free(&js);
}

static int read_file(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		buf_reserve(out, 65536);
		ssize_t k = read(fd, out->p + out->len, 65536);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (k == 0)
			break;
		out->len += (size_t)k;
	}
	close(fd);
	return 0;
}

static int pos_int(const struct jdoc *d, uint32_t t, uint64_t *v)
{
	int64_t i;
	double dbl;
	if (t == JNONE || d->tok[t].type != J_NUM || json_tok_num(d, t, &i, &dbl) != 1 || i < 0)
		return -1;
	*v = (uint64_t)i;
	return 0;
}

int store_base_read(const char *store, struct store_base *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof *b);
	char *path = path_plus(store, ".base");
	struct buf text = {0};
	struct jdoc d = {0};
	struct jerr je;
	int rc = 0;
	if (read_file(path, &text) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -1;
		}
		goto out;
	}
	size_t n = text.len;
	while (n && (text.p[n - 1] == '\n' || text.p[n - 1] == '\r'))
		n--;
	if (json_parse(&d, text.p ? text.p : "", n, 0, &je) < 0) {
		snprintf(err, errlen, "%s: %s", path, je.msg);
		rc = -1;
		goto out;
	}
	uint32_t ls = json_get(&d, 0, "last_seq", 8), vs = json_get(&d, 0, "versions", 8);
	if (pos_int(&d, ls, &b->last_seq) < 0 || vs == JNONE || d.tok[vs].type != J_ARR) {
		snprintf(err, errlen, "%s: expected {\"last_seq\":N,\"versions\":[[KEY,V],...]}", path);
		rc = -1;
		goto out;
	}
	struct buf vk = {0}, js = {0};
	size_t cnt = json_count(&d, vs);
	for (size_t i = 0; i < cnt && rc == 0; i++) {
		uint32_t pair = json_index(&d, vs, i), k, v;
		uint64_t ver;
		if (d.tok[pair].type != J_ARR || json_count(&d, pair) != 2 ||
		    (k = json_index(&d, pair, 0)) == JNONE || (v = json_index(&d, pair, 1)) == JNONE ||
		    pos_int(&d, v, &ver) < 0) {
			snprintf(err, errlen, "%s: versions[%zu]: expected [KEY,VERSION]", path, i);
			rc = -1;
			break;
		}
		buf_reset(&vk);
		buf_reset(&js);
		json_value_key(&d, k, &vk);
		json_write_compact(&d, k, &js);
		store_base_set_key(b, vk.p, vk.len, js.p, js.len, ver);
	}
	buf_free(&vk);
	buf_free(&js);
out:
	if (rc < 0)
		store_base_free(b);
	json_doc_free(&d);
	buf_free(&text);
	free(path);
	return rc;
}

int store_base_write(const char *store, const struct store_base *b)
{
	char *path = path_plus(store, ".base");
	struct atomic_file *a = atomic_open(path);
	free(path);
	if (!a)
		return -1;
	struct buf t = {0};
	buf_adds(&t, "{\"last_seq\":");
	jw_uint(&t, b->last_seq);
	buf_adds(&t, ",\"versions\":[");
	for (size_t i = 0; i < b->n; i++) {
		if (i)
			buf_addc(&t, ',');
		buf_addc(&t, '[');
		buf_add(&t, b->v[i].json, b->v[i].jsonlen);
		buf_addc(&t, ',');
		jw_uint(&t, b->v[i].version);
		buf_addc(&t, ']');
		if (t.len > 65536) {
			wfile_write(a->w, t.p, t.len);
			buf_reset(&t);
		}
	}
	buf_adds(&t, "]}\n");
	wfile_write(a->w, t.p, t.len);
	buf_free(&t);
	return atomic_commit(a);
}

void store_base_free(struct store_base *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].json);
		free(b->v[i].vkey);
	}
	free(b->v);
	free(b->slot);
	memset(b, 0, sizeof *b);
}

/* ---- index maps ----------------------------------------------------- */

struct idslot { uint64_t h, off; };                 /* h == 0: empty */
struct aggslot { uint64_t h1, h2, off, version; }; /* h1 == 0: empty */

struct idmap { struct idslot *t; size_t cap, n; };
struct aggmap { struct aggslot *t; size_t cap, n; };

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

/* ---- the store object ----------------------------------------------- */

struct jrec { uint64_t off, len, seq, idh, kh1, kh2, version, lh, check; };

struct store {
	struct store_opts o;
	char *idxpath;
	int lockfd, fd, idxfd;
	uint64_t dev, ino;
	uint64_t size;          /* committed bytes of the store */
	uint64_t seq;           /* last seq, staged lines included */
	uint64_t committed_seq; /* last seq in the file */
	uint64_t tail_off, tail_len, tail_hash; /* the last committed line */
	uint64_t fm_hash;
	uint64_t base_ino, base_size, base_mtime;

	/* snapshot tables (mapped) */
	void *map;
	size_t maplen;
	const struct idslot *sids;
	const struct aggslot *saggs;
	uint64_t nsids, nsaggs;
	uint64_t journal_at;    /* where the next journal record goes in FILE.idx */
	uint64_t njournal;      /* records in the journal */
	int idx_live;           /* FILE.idx is current: append journal records */
	int need_snapshot;      /* rewrite FILE.idx at close */
	int fresh;              /* maps were rebuilt by a scan in this run */

	struct idmap idm;       /* ids from the journal / a scan */
	struct aggmap agm;      /* versions from the journal / a scan */
	struct strset run_ids;  /* ids staged in this run (exact) */
	struct bmap run_aggs;   /* versions known in this run (exact) */

	struct buf pend;        /* staged lines */
	struct jrec *stj;       /* their records */
	size_t nstj, capstj;

	struct store_base base;
	int base_loaded;
	struct jdoc doc;
	struct buf line, scratch;
	uint64_t appended;
};

static void rec_check(struct jrec *r)
{
	r->check = words_hash(&r->off, JREC_WORDS - 1);
}

static uint64_t fm_hash(const struct fieldmap *fm)
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

static void base_identity(const char *store, uint64_t *ino, uint64_t *size, uint64_t *mtime)
{
	char *p = path_plus(store, ".base");
	struct stat st;
	if (stat(p, &st) == 0) {
		*ino = (uint64_t)st.st_ino;
		*size = (uint64_t)st.st_size;
		*mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	} else {
		*ino = *size = *mtime = 0;
	}
	free(p);
}

static int load_base(struct store *s)
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
static void apply(struct store *s, const struct jrec *r)
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

/* The line at off of the store (or of the staged lines), BOM, blank lines
 * and the line ending skipped, into s->line.  0 or -1. */
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
	uint64_t at = off;
	for (;;) {
		ssize_t k = pread_full(s->fd, chunk, sizeof chunk, at);
		if (k <= 0)
			return -1;
		char *nl = memchr(chunk, '\n', (size_t)k);
		size_t take = nl ? (size_t)(nl - chunk) : (size_t)k;
		buf_add(&s->line, chunk, take);
		at += take + (nl ? 1 : 0);
		if (!nl)
			continue;
		size_t i = 0;
		while (i < s->line.len && strchr(" \t\r", s->line.p[i]))
			i++;
		if (i < s->line.len)
			break;
		buf_reset(&s->line); /* blank: the next one */
	}
	if (s->line.len && s->line.p[s->line.len - 1] == '\r')
		s->line.p[--s->line.len] = '\0';
	if (off == 0 && s->line.len >= 3 && memcmp(s->line.p, "\xEF\xBB\xBF", 3) == 0) {
		memmove(s->line.p, s->line.p + 3, s->line.len - 3);
		s->line.len -= 3;
	}
	return 0;
}

/* Parse the line at off into s->doc.  0, or -1 (unreadable or invalid). */
static int parse_at(struct store *s, uint64_t off)
{
	struct jerr je;
	if (line_at(s, off) < 0)
		return -1;
	return json_parse(&s->doc, s->line.p ? s->line.p : "", s->line.len, 0, &je);
}

/* The facts of one store line (without its ending). */
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
	uint64_t v;
	if (pos_int(d, json_get(d, 0, "seq", 3), &v) == 0 && v > 0)
		r->seq = v;
	uint32_t id = event_field(d, s->o.fm, F_ID);
	if (id != JNONE) {
		buf_reset(&s->scratch);
		json_value_key(d, id, &s->scratch);
		r->idh = id_hash(s->scratch.p, s->scratch.len);
	}
	uint32_t key = event_field(d, s->o.fm, F_KEY);
	if (key == JNONE)
		return;
	buf_reset(&s->scratch);
	json_value_key(d, key, &s->scratch);
	key_hash(s->scratch.p, s->scratch.len, &r->kh1, &r->kh2);
	uint64_t cur = 0;
	const struct aggslot *a = aggmap_find(&s->agm, r->kh1, r->kh2);
	if (a)
		cur = a->version;
	else if (s->nsaggs) {
		/* a catch-up scan: the aggregate may be in the snapshot */
		size_t lo = 0, hi = s->nsaggs;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const struct aggslot *m = &s->saggs[mid];
			if (m->h1 < r->kh1 || (m->h1 == r->kh1 && m->h2 < r->kh2))
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < s->nsaggs && s->saggs[lo].h1 == r->kh1 && s->saggs[lo].h2 == r->kh2)
			cur = s->saggs[lo].version;
	}
	if (pos_int(d, event_field(d, s->o.fm, F_VERSION), &v) == 0 && v > 0)
		r->version = v > cur ? v : cur;
	else
		r->version = cur + 1;
}

/* Scan store bytes [from, to): every line's facts applied, and recorded
 * in stj (for the journal) when journal is set.  0 or -1 (read error). */
static int scan(struct store *s, uint64_t from, uint64_t to, int journal)
{
	size_t cap = 1u << 20;
	char *chunk = xmalloc(cap);
	struct buf carry = {0};
	uint64_t at = from, span = from;
	int rc = 0;
	while (at < to) {
		size_t want = to - at < cap ? (size_t)(to - at) : cap;
		ssize_t k = pread_full(s->fd, chunk, want, at);
		if (k <= 0) {
			rc = -1;
			break;
		}
		size_t i = 0;
		while (i < (size_t)k) {
			char *nl = memchr(chunk + i, '\n', (size_t)k - i);
			if (!nl) {
				buf_add(&carry, chunk + i, (size_t)k - i);
				break;
			}
			size_t n = (size_t)(nl - (chunk + i));
			const char *p = chunk + i;
			uint64_t lineoff = at + i - carry.len;
			if (carry.len) {
				buf_add(&carry, p, n);
				p = carry.p;
				n = carry.len;
			}
			uint64_t end = at + (size_t)(nl - chunk) + 1;
			i = (size_t)(nl - chunk) + 1;
			size_t m = n;
			if (m && p[m - 1] == '\r')
				m--;
			if (lineoff == 0 && m >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
				p += 3;
				m -= 3;
			}
			size_t j = 0;
			while (j < m && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r'))
				j++;
			if (j < m) {
				struct jrec r;
				facts(s, p, m, lineoff, &r);
				r.off = span;
				r.len = end - span;
				r.lh = 0;
				/* the hash of the span's bytes: the line (and any blank
				 * lines before it) with its newline */
				if (r.len == n + 1 && !carry.len) {
					r.lh = line_hash(nl - n, n + 1);
				} else {
					struct buf sp = {0};
					buf_reserve(&sp, (size_t)r.len);
					if (pread_full(s->fd, sp.p, (size_t)r.len, span) == (ssize_t)r.len)
						r.lh = line_hash(sp.p, (size_t)r.len);
					buf_free(&sp);
				}
				rec_check(&r);
				apply(s, &r);
				if (journal) {
					s->stj = xgrow(s->stj, &s->capstj, s->nstj + 1, sizeof *s->stj);
					s->stj[s->nstj++] = r;
				}
				span = end;
			}
			buf_reset(&carry);
		}
		at += (uint64_t)k;
	}
	free(chunk);
	buf_free(&carry);
	return rc;
}

static void drop_index(struct store *s)
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
static int rebuild(struct store *s)
{
	drop_index(s);
	s->committed_seq = 0;
	s->tail_off = s->tail_len = s->tail_hash = 0;
	if (load_base(s) < 0)
		return -1;
	s->committed_seq = s->base.last_seq;
	for (size_t i = 0; i < s->base.n; i++) {
		uint64_t h1, h2;
		key_hash(s->base.v[i].vkey, s->base.v[i].vkeylen, &h1, &h2);
		aggmap_set(&s->agm, h1, h2, NONE, s->base.v[i].version);
	}
	size_t keep = s->nstj;
	s->nstj = 0;
	if (scan(s, 0, s->size, 0) < 0) {
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
static int load_index(struct store *s)
{
	uint64_t h[HDR_WORDS];
	s->idxfd = open(s->idxpath, (s->o.dry_run ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (s->idxfd < 0)
		return -1;
	struct stat st;
	if (fstat(s->idxfd, &st) < 0 || pread_full(s->idxfd, h, sizeof h, 0) != (ssize_t)sizeof h)
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
		ssize_t got = pread_full(s->idxfd, rs, (size_t)nrec * sizeof *rs, tables);
		if (got < 0)
			got = 0;
		nrec = (uint64_t)got / sizeof *rs;
		for (uint64_t i = 0; i < nrec; i++) {
			struct jrec r = rs[i];
			uint64_t c = r.check;
			rec_check(&r);
			if (r.check != c || r.off != covered || r.len == 0 || r.off + r.len > s->size)
				break;
			apply(s, &r);
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
		int ok = pread_full(s->fd, t.p, (size_t)s->tail_len, s->tail_off) == (ssize_t)s->tail_len &&
		         line_hash(t.p, (size_t)s->tail_len) == s->tail_hash;
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
		if (scan(s, covered, s->size, 1) < 0)
			return -1;
		if (s->idx_live) {
			size_t n = s->nstj - keep;
			if (pwrite(s->idxfd, s->stj + keep, n * sizeof *s->stj, (off_t)s->journal_at) ==
			    (ssize_t)(n * sizeof *s->stj)) {
				s->journal_at += n * sizeof *s->stj;
				s->njournal += n;
			} else {
				s->idx_live = 0;
				s->need_snapshot = 1;
			}
		}
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
		if (write_whole(o->fd, o->p, o->len) < 0)
			o->err = errno;
		o->len = 0;
	}
	if (n > o->cap) {
		if (write_whole(o->fd, p, n) < 0)
			o->err = errno;
		return;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

/* Write FILE.idx afresh: the snapshot tables merged with the maps, no
 * journal.  Errors are not fatal (the index is only a cache). */
static int write_snapshot(struct store *s)
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
		if (!o.err && o.len && write_whole(fd, o.p, o.len) < 0)
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

/* ---- open, look up, stage, flush, close ----------------------------- */

int store_open(struct store **sp, const struct store_opts *o)
{
	struct store *s = xcalloc(1, sizeof *s);
	s->o = *o;
	s->lockfd = s->fd = s->idxfd = -1;
	*sp = s;
	if (!o->path)
		return 0;
	s->idxpath = path_plus(o->path, ".idx");
	s->fm_hash = fm_hash(o->fm);
	if (o->dry_run && access(o->path, F_OK) < 0 && errno == ENOENT) {
		/* a dry run on a store that does not exist: create nothing */
		base_identity(o->path, &s->base_ino, &s->base_size, &s->base_mtime);
		return rebuild(s) < 0 ? EV_IO : 0;
	}
	s->lockfd = store_lock(o->path, o->lock_timeout_us);
	if (s->lockfd < 0) {
		if (errno == ETIMEDOUT) {
			ev_warn("%s: store is locked by another writer (waited %.3gs for %s.lock)", o->path,
			        (double)o->lock_timeout_us / 1e6, o->path);
			return EV_CONFLICT;
		}
		ev_warn_errno("%s.lock", o->path);
		return EV_IO;
	}
	if (o->dry_run) {
		s->fd = open(o->path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0 && errno != ENOENT) {
			ev_warn_errno("%s", o->path);
			return EV_IO;
		}
	} else {
		s->fd = open(o->path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (s->fd >= 0) {
			if (fsync_dir_of(o->path) < 0) {
				ev_warn_errno("%s: fsync of its directory", o->path);
				return EV_IO;
			}
		} else if (errno == EEXIST) {
			s->fd = open(o->path, O_RDWR | O_APPEND | O_CLOEXEC);
		}
		if (s->fd < 0) {
			ev_warn_errno("%s", o->path);
			return EV_IO;
		}
	}
	s->fm_hash = fm_hash(o->fm);
	base_identity(o->path, &s->base_ino, &s->base_size, &s->base_mtime);
	if (s->fd < 0) /* a dry run on a store that does not exist yet */
		return load_base(s) < 0 ? EV_IO : (rebuild(s) < 0 ? EV_IO : 0);

	uint64_t torn;
	int t = store_tail_check(s->fd, &torn);
	if (t < 0) {
		ev_warn_errno("%s: read error", o->path);
		return EV_IO;
	}
	if (t == 1) {
		if (!o->repair || o->dry_run) {
			ev_warn("%s: torn last line at byte %" PRIu64 " (use --repair)", o->path, torn);
			return EV_IO;
		}
		if (store_repair(o->path, s->fd, torn) < 0) {
			ev_warn_errno("%s: cannot repair the torn last line at byte %" PRIu64, o->path, torn);
			return EV_IO;
		}
		ev_warn("%s: torn last line at byte %" PRIu64 " moved to %s.torn.%" PRIu64, o->path, torn,
		        o->path, torn);
	}
	struct stat st;
	if (fstat(s->fd, &st) < 0) {
		ev_warn_errno("%s", o->path);
		return EV_IO;
	}
	s->dev = (uint64_t)st.st_dev;
	s->ino = (uint64_t)st.st_ino;
	s->size = (uint64_t)st.st_size;
	if (load_index(s) < 0) {
		s->nstj = 0;
		if (rebuild(s) < 0)
			return EV_IO;
	}
	s->seq = s->committed_seq;
	return 0;
}

uint64_t store_next_seq(const struct store *s)
{
	return s->seq + 1;
}

uint64_t store_appended(const struct store *s)
{
	return s->appended;
}

/* Does the line at off carry id (value key) vkey in field f? */
static int line_has(struct store *s, uint64_t off, enum ev_field f, const char *vkey, size_t n,
                    uint64_t *version)
{
	if (parse_at(s, off) < 0)
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
		if (pos_int(&s->doc, event_field(&s->doc, s->o.fm, F_VERSION), &v) == 0 && v > *version)
			return 0;
	}
	return 1;
}

int store_has_id(struct store *s, const char *vkey, size_t n)
{
	if (strset_has(&s->run_ids, vkey, n))
		return 1;
	if (s->fd < 0)
		return 0;
	uint64_t h = id_hash(vkey, n);
	if (s->idm.cap) {
		for (size_t j = h & (s->idm.cap - 1); s->idm.t[j].h; j = (j + 1) & (s->idm.cap - 1))
			if (s->idm.t[j].h == h && line_has(s, s->idm.t[j].off, F_ID, vkey, n, NULL))
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
		if (line_has(s, s->sids[lo].off, F_ID, vkey, n, NULL))
			return 1;
	return 0;
}

/* What the index says about an aggregate: 0 found, 1 absent. */
static int index_version(struct store *s, uint64_t h1, uint64_t h2, uint64_t *off, uint64_t *v)
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

int store_version(struct store *s, const char *vkey, size_t n, uint64_t *version)
{
	struct bmap_ent *e = bmap_find(&s->run_aggs, vkey, n);
	if (e) {
		*version = e->v[0];
		return 0;
	}
	uint64_t h1, h2, off = NONE, v = 0;
	key_hash(vkey, n, &h1, &h2);
	for (int pass = 0; pass < 2; pass++) {
		if (index_version(s, h1, h2, &off, &v) != 0) {
			v = 0;
			break;
		}
		if (s->fresh)
			break;
		int ok;
		if (off == NONE) {
			if (load_base(s) < 0)
				return -1;
			ok = store_base_version(&s->base, vkey, n) == v;
		} else {
			ok = line_has(s, off, F_KEY, vkey, n, &v);
		}
		if (ok)
			break;
		if (pass == 1 || rebuild(s) < 0) {
			ev_warn("%s: the index disagrees with the store and cannot be rebuilt", s->o.path);
			return -1;
		}
		/* the staged lines are already in run_aggs and stj */
	}
	e = bmap_get(&s->run_aggs, vkey, n, NULL);
	e->v[0] = v;
	*version = v;
	return 0;
}

int store_stage(struct store *s, const char *line, size_t len, const char *idkey, size_t idn,
                const char *akey, size_t an, uint64_t version)
{
	struct jrec r = {0};
	r.seq = ++s->seq;
	r.off = s->size + s->pend.len;
	r.len = len + 1;
	r.version = version;
	if (idkey) {
		strset_add(&s->run_ids, idkey, idn);
		r.idh = id_hash(idkey, idn);
	}
	if (akey) {
		bmap_get(&s->run_aggs, akey, an, NULL)->v[0] = version;
		key_hash(akey, an, &r.kh1, &r.kh2);
	}
	size_t at = s->pend.len;
	buf_add(&s->pend, line, len);
	buf_addc(&s->pend, '\n');
	r.lh = line_hash(s->pend.p + at, len + 1);
	rec_check(&r);
	s->stj = xgrow(s->stj, &s->capstj, s->nstj + 1, sizeof *s->stj);
	s->stj[s->nstj++] = r;
	if (s->o.hold)
		return 0;
	if (s->o.fsync == STORE_FSYNC_ALWAYS && s->fd >= 0 && !s->o.dry_run)
		return store_flush(s);
	if (s->pend.len >= (s->o.fsync == STORE_FSYNC_NEVER ? NEVER_BYTES : BATCH_BYTES))
		return store_flush(s);
	return 0;
}

static void echo(struct store *s)
{
	if (s->o.echo) {
		wfile_write(s->o.echo, s->pend.p, s->pend.len);
		wfile_flush(s->o.echo);
	}
}

int store_flush(struct store *s)
{
	if (!s->pend.len)
		return 0;
	if (s->fd < 0 || s->o.dry_run) {
		echo(s);
		s->appended += s->nstj;
		buf_reset(&s->pend);
		s->nstj = 0;
		return 0;
	}
	uint64_t pre = s->size;
	if (write_whole(s->fd, s->pend.p, s->pend.len) < 0 ||
	    (s->o.fsync != STORE_FSYNC_NEVER && fdatasync(s->fd) < 0)) {
		int e = errno;
		int back = ftruncate(s->fd, (off_t)pre) == 0;
		if (back && s->o.fsync != STORE_FSYNC_NEVER)
			fdatasync(s->fd);
		errno = e;
		ev_warn_errno("%s: cannot append %zu event%s%s", s->o.path, s->nstj, s->nstj == 1 ? "" : "s",
		              back ? " (store left as it was)" : " (and the store could not be truncated back)");
		buf_reset(&s->pend);
		s->nstj = 0;
		s->seq = s->committed_seq;
		return EV_IO;
	}
	s->size += s->pend.len;
	for (size_t i = 0; i < s->nstj; i++)
		apply(s, &s->stj[i]);
	if (s->idx_live) {
		size_t n = s->nstj * sizeof *s->stj;
		if (pwrite(s->idxfd, s->stj, n, (off_t)s->journal_at) == (ssize_t)n) {
			s->journal_at += n;
			s->njournal += s->nstj;
		} else {
			s->idx_live = 0;
			s->need_snapshot = 1;
		}
	} else {
		s->need_snapshot = 1;
	}
	echo(s);
	s->appended += s->nstj;
	buf_reset(&s->pend);
	s->nstj = 0;
	return 0;
}

void store_discard(struct store *s)
{
	buf_reset(&s->pend);
	s->nstj = 0;
	s->seq = s->committed_seq;
}

int store_close(struct store *s)
{
	int rc = 0;
	if (!s->o.hold)
		rc = store_flush(s);
	else
		store_discard(s);
	if (s->fd >= 0 && !s->o.dry_run && (s->need_snapshot || s->njournal > JOURNAL_MAX))
		write_snapshot(s);
	drop_index(s);
	if (s->fd >= 0 && close(s->fd) < 0 && rc == 0) {
		ev_warn_errno("%s: close", s->o.path);
		rc = EV_IO;
	}
	store_unlock(s->lockfd);
	store_base_free(&s->base);
	strset_free(&s->run_ids);
	bmap_free(&s->run_aggs);
	buf_free(&s->pend);
	buf_free(&s->line);
	buf_free(&s->scratch);
	json_doc_free(&s->doc);
	free(s->stj);
	free(s->idxpath);
	free(s);
	return rc;
}

/* ---- index maintenance for compaction -------------------------------- */

int store_index_invalidate(const char *store)
{
	char *p = path_plus(store, ".idx");
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
	s->idxpath = path_plus(store, ".idx");
	s->fd = open(store, O_RDONLY | O_CLOEXEC);
	int rc = -1;
	struct stat st;
	if (s->fd < 0 || fstat(s->fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", store, strerror(errno));
	} else {
		s->dev = (uint64_t)st.st_dev;
		s->ino = (uint64_t)st.st_ino;
		s->size = (uint64_t)st.st_size;
		s->fm_hash = fm_hash(fm);
		base_identity(store, &s->base_ino, &s->base_size, &s->base_mtime);
		if (rebuild(s) < 0)
			snprintf(err, errlen, "%s: cannot scan the store or its base", store);
		else if ((rc = write_snapshot(s)) < 0)
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
