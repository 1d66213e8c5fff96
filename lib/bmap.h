/*
 * bmap.h — a map from byte strings to a few unsigned integers (open
 * addressing, FNV-1a 64), for per-key state that must be exact: an
 * aggregate's version during a run, evwrite's expectations per aggregate.
 * Keys are copied in; bmap_get never fails (allocation dies cleanly).
 */
#ifndef BMAP_H
#define BMAP_H

#include <stddef.h>
#include <stdint.h>

#define BMAP_VALS 4

struct bmap_ent {
	uint64_t h;
	char *k;     /* NULL: empty slot */
	size_t n;
	uint64_t v[BMAP_VALS]; /* zero when created */
};

struct bmap {
	struct bmap_ent *tab;
	size_t cap, count;
};

/* The entry for key k[0..n), or NULL when absent. */
struct bmap_ent *bmap_find(const struct bmap *m, const void *k, size_t n);
/* The entry for k, created (values zero, *created = 1) when absent. */
struct bmap_ent *bmap_get(struct bmap *m, const void *k, size_t n, int *created);
void bmap_free(struct bmap *m);

#endif
