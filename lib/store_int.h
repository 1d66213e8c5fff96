/*
 * store_int.h — what the store's modules (store*.c, compact.c) share and
 * the tools do not see: names of the files beside a store, whole reads
 * and writes on a file descriptor, the store object (store.c appends
 * through it, store_index.c keeps its index) and the index's entry points.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bmap.h"
#include "buf.h"
#include "input.h"
#include "json.h"
#include "store.h"
#include "strset.h"

/* STORE followed by suffix (".lock", ".base", ".idx"), allocated. */
char *store_file(const char *store, const char *suffix);
/* Write all n bytes (EINTR retried): 0, or -1 with errno. */
int store_write_all(int fd, const void *p, size_t n);
/* (Positioned reads: input_pread in input.h.) */
/* The integer rule of the store's numbers (seq, version, FILE.base
 * entries): a JSON integer >= 0.  0 with *v set, else -1. */
static inline int store_pos_int(const struct jdoc *d, uint32_t t, uint64_t *v)
{
	int64_t i;
	if (json_tok_int(d, t, 0, INT64_MAX, &i) < 0)
		return -1;
	*v = (uint64_t)i;
	return 0;
}

/* ---- the index's in-memory maps (store_index.c) ---------------------- */

struct idslot { uint64_t h, off; };                 /* h == 0: empty */
struct aggslot { uint64_t h1, h2, off, version; }; /* h1 == 0: empty */
struct idmap { struct idslot *t; size_t cap, n; };
struct aggmap { struct aggslot *t; size_t cap, n; };

/* One journal record: the facts of one store line. */
struct jrec { uint64_t off, len, seq, idh, kh1, kh2, version, lh, check; };

/* ---- the store object ------------------------------------------------ */

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

/* ---- store_index.c ---------------------------------------------------- */

#define STORE_NONE UINT64_MAX   /* an aggregate's offset: its version is FILE.base's */
#define STORE_JOURNAL_MAX 8192  /* journal records before the index is rewritten */

uint64_t store_fm_hash(const struct fieldmap *fm);
uint64_t store_id_hash(const void *k, size_t n);
void store_key_hash(const void *k, size_t n, uint64_t *h1, uint64_t *h2);
uint64_t store_line_hash(const void *p, size_t n);
/* Seal a record: its check word. */
void store_rec_check(struct jrec *r);
/* Load FILE.base into s->base once.  0, or -1 (message printed). */
int store_load_base(struct store *s);
/* Apply one line's facts to the maps. */
void store_apply(struct store *s, const struct jrec *r);
/* Load FILE.idx: 0 when it can be used (maps and tables loaded, lines past
 * it scanned and journaled), -1 when it must be rebuilt. */
int store_index_load(struct store *s);
/* A full rebuild in memory: the base, then every committed line.  0 or -1
 * (message printed). */
int store_index_scan(struct store *s);
/* Write FILE.idx afresh (snapshot tables, no journal).  0 or -1. */
int store_index_write(struct store *s);
/* Append the records of n committed lines to the journal (or mark the
 * index for a rewrite at close when that fails). */
void store_index_journal(struct store *s, const struct jrec *r, size_t n);
/* Unmap and forget the index. */
void store_index_drop(struct store *s);
/* Offsets of lines that may hold id hash h: calls fn for each until it
 * returns 1; returns 1 then, else 0. */
int store_index_ids(struct store *s, uint64_t h, int (*fn)(struct store *s, uint64_t off, void *arg),
                    void *arg);
/* What the index says about an aggregate: 0 found (*off may be
 * STORE_NONE), 1 absent. */
int store_index_agg(const struct store *s, uint64_t h1, uint64_t h2, uint64_t *off, uint64_t *v);
/* The stat identity of FILE.base (all 0 when it is absent). */
void store_base_identity(const char *store, uint64_t *ino, uint64_t *size, uint64_t *mtime);

/* ---- store_scan.c ----------------------------------------------------- */

/* Scan store bytes [from, to): every line's facts applied to the maps, and
 * recorded in s->stj (for the journal) when journal is set.  0, or -1 on a
 * read error. */
int store_scan(struct store *s, uint64_t from, uint64_t to, int journal);
/* Does the line at off carry the value key vkey in field f (and, with
 * version, a version not above *version)? */
int store_line_has(struct store *s, uint64_t off, enum ev_field f, const char *vkey, size_t n,
                   uint64_t *version);
/* Parse the line at off (of the store or of the staged lines) into s->doc.
 * 0, or -1 (unreadable or invalid). */
int store_parse_at(struct store *s, uint64_t off);

#endif
