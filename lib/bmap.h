/*
 * bmap.h — the one hash map of evtools: byte-string keys (copied in) to a
 * pointer and a few unsigned integers, FNV-1a 64.  Everything keyed goes
 * through it: an aggregate's version, groups and windows, interned object
 * keys, sets of ids (strset.h is a thin layer); the one exception is
 * lib/keyed's index of its entries (see keyed.h for why).
 * Allocation failures end the process cleanly (xmalloc).
 *
 * Layout: the entries are dense in tab (creation order, until a deletion
 * moves the last entry into the hole); an open-addressing index of 8-byte
 * slots (linear probing, backward-shift deletion) holds each entry's
 * place and 32 bits of its hash.  A lookup reads the small index and then
 * one entry, instead of probing through 64-byte entries, so a large map
 * costs fewer cache misses.
 *
 * What stays valid:
 * - an entry's key bytes (e->k) and whatever e->ptr points to: until that
 *   entry is deleted or the map freed;
 * - a struct bmap_ent pointer, and a bmap_slot() pointer into it: only
 *   until the next bmap_get (which may grow and move the table) or
 *   bmap_del (which may move another entry) on the same map.  Keep the
 *   key or the ptr, never the entry, across those calls.
 * Iteration: for (i = 0; i < m->count; i++) m->tab[i] visits every entry
 * once (the older form, i < m->cap skipping entries whose k is NULL,
 * works too).
 */
#ifndef BMAP_H
#define BMAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BMAP_VALS 4

static inline uint64_t fnv1a64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * UINT64_C(1099511628211);
	return h;
}

/* A cheaper hash for short keys looked up on every event (a type name):
 * the length and the first and last 8 bytes (every byte when shorter),
 * mixed.  Keys that share those collide, which costs only a compare. */
static inline uint64_t bmap_quickhash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t a = 0, b = 0;
	if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
	} else {
		for (size_t i = 0; i < n; i++)
			a |= (uint64_t)s[i] << (8 * i);
	}
	uint64_t h = (a ^ (uint64_t)n * UINT64_C(0x9e3779b97f4a7c15)) * UINT64_C(0xbf58476d1ce4e5b9);
	h ^= (b + (h >> 31)) * UINT64_C(0x94d049bb133111eb);
	return h ^ (h >> 29);
}

struct bmap_ent {
	uint64_t h;
	char *k;     /* NULL: empty slot; else a NUL-terminated copy */
	size_t n;
	void *ptr;   /* NULL when created */
	uint64_t v[BMAP_VALS]; /* zero when created */
};

struct bmap {
	struct bmap_ent *tab;   /* count entries, cap allocated (zero beyond) */
	size_t cap, count;
	uint64_t *idx;          /* nidx slots (a power of two), 0 = empty */
	size_t nidx;
};

/* The entry for key k[0..n), or NULL when absent. */
struct bmap_ent *bmap_find(const struct bmap *m, const void *k, size_t n);
/* bmap_find and bmap_get for a caller that has the key's hash already.
 * A map must see one hash function throughout: fnv1a64(k, n) when it is
 * also used with bmap_find/bmap_get, or the caller's own (bmap_quickhash)
 * when every call on it gives h. */
struct bmap_ent *bmap_find_h(const struct bmap *m, const void *k, size_t n, uint64_t h);
struct bmap_ent *bmap_get_h(struct bmap *m, const void *k, size_t n, uint64_t h, int *created);
/* The entry for k, created (values zero, *created = 1) when absent.
 * created may be NULL. */
struct bmap_ent *bmap_get(struct bmap *m, const void *k, size_t n, int *created);
/* Remove k; 1 if it was there.  Other entries may move. */
int bmap_del(struct bmap *m, const void *k, size_t n);
/* Mean index slots a lookup of a present key reads (tests). */
double bmap_probes(const struct bmap *m);
/* Frees the keys and the table; pointers are the caller's. */
void bmap_free(struct bmap *m);

/* The pointer slot of k (created NULL when absent). */
static inline void **bmap_slot(struct bmap *m, const void *k, size_t n, int *created)
{
	return &bmap_get(m, k, n, created)->ptr;
}
/* The pointer stored under k, or NULL. */
static inline void *bmap_ptr(const struct bmap *m, const void *k, size_t n)
{
	struct bmap_ent *e = bmap_find(m, k, n);
	return e ? e->ptr : NULL;
}

#endif
