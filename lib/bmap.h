/*
 * bmap.h — the one hash map of evtools: byte-string keys (copied in) to a
 * pointer and a few unsigned integers, open addressing with FNV-1a 64.
 * Everything keyed goes through it: an aggregate's version, groups and
 * windows, interned object keys, sets of ids (strset.h is a thin layer).
 * Allocation failures end the process cleanly (xmalloc).
 *
 * What stays valid:
 * - an entry's key bytes (e->k) and whatever e->ptr points to: until that
 *   entry is deleted or the map freed;
 * - a struct bmap_ent pointer, and a bmap_slot() pointer into it: only
 *   until the next bmap_get (which may grow and move the table) or
 *   bmap_del (which may shift other entries) on the same map.  Keep the
 *   key or the ptr, never the entry, across those calls.
 * Iteration: for (i = 0; i < m->cap; i++) if (m->tab[i].k) ... visits
 * every entry once, in no useful order (keep an array for creation order).
 */
#ifndef BMAP_H
#define BMAP_H

#include <stddef.h>
#include <stdint.h>

#define BMAP_VALS 4

static inline uint64_t fnv1a64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * UINT64_C(1099511628211);
	return h;
}

struct bmap_ent {
	uint64_t h;
	char *k;     /* NULL: empty slot; else a NUL-terminated copy */
	size_t n;
	void *ptr;   /* NULL when created */
	uint64_t v[BMAP_VALS]; /* zero when created */
};

struct bmap {
	struct bmap_ent *tab;
	size_t cap, count;
};

/* The entry for key k[0..n), or NULL when absent. */
struct bmap_ent *bmap_find(const struct bmap *m, const void *k, size_t n);
/* The entry for k, created (values zero, *created = 1) when absent.
 * created may be NULL. */
struct bmap_ent *bmap_get(struct bmap *m, const void *k, size_t n, int *created);
/* Remove k; 1 if it was there.  Other entries may move. */
int bmap_del(struct bmap *m, const void *k, size_t n);
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
