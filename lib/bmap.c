/* bmap.c — byte-string keyed map (see bmap.h). */
#include "bmap.h"
#include "ev.h"

#include <stdlib.h>
#include <string.h>

/* An index slot: the hash's low 32 bits (which also give the home slot)
 * and 1 + the entry's place in tab; 0 is an empty slot. */
#define SLOT(h, i) ((uint64_t)(uint32_t)(h) << 32 | (uint64_t)((i) + 1))
#define SLOT_TAG(s) ((uint32_t)((s) >> 32))
#define SLOT_ENT(s) ((size_t)(uint32_t)(s) - 1)

/* The index slot of key k (hash h), or of the empty slot where it would go. */
static size_t probe(const struct bmap *m, uint64_t h, const void *k, size_t n)
{
	size_t mask = m->nidx - 1, j = (uint32_t)h & mask;
	for (uint64_t s; (s = m->idx[j]); j = (j + 1) & mask) {
		if (SLOT_TAG(s) != (uint32_t)h)
			continue;
		const struct bmap_ent *e = &m->tab[SLOT_ENT(s)];
		if (e->h == h && e->n == n && memcmp(e->k, k, n) == 0)
			break;
	}
	return j;
}

/* The empty index slot for hash h (the key is known to be absent). */
static size_t free_slot(const struct bmap *m, uint64_t h)
{
	size_t mask = m->nidx - 1, j = (uint32_t)h & mask;
	while (m->idx[j])
		j = (j + 1) & mask;
	return j;
}

static void grow_index(struct bmap *m)
{
	free(m->idx);
	m->nidx = m->nidx ? m->nidx * 2 : 64;
	m->idx = xcalloc(m->nidx, sizeof *m->idx);
	for (size_t i = 0; i < m->count; i++)
		m->idx[free_slot(m, m->tab[i].h)] = SLOT(m->tab[i].h, i);
}

struct bmap_ent *bmap_find_h(const struct bmap *m, const void *k, size_t n, uint64_t h)
{
	if (!m->count)
		return NULL;
	if (!k)
		k = "";
	uint64_t s = m->idx[probe(m, h, k, n)];
	return s ? &m->tab[SLOT_ENT(s)] : NULL;
}

struct bmap_ent *bmap_find(const struct bmap *m, const void *k, size_t n)
{
	return bmap_find_h(m, k, n, fnv1a64(k ? k : "", n));
}

struct bmap_ent *bmap_get(struct bmap *m, const void *k, size_t n, int *created)
{
	return bmap_get_h(m, k, n, fnv1a64(k ? k : "", n), created);
}

struct bmap_ent *bmap_get_h(struct bmap *m, const void *k, size_t n, uint64_t h, int *created)
{
	if (!k)
		k = "";
	if ((m->count + 1) * 2 > m->nidx)
		grow_index(m);
	size_t j = probe(m, h, k, n);
	if (m->idx[j]) {
		if (created)
			*created = 0;
		return &m->tab[SLOT_ENT(m->idx[j])];
	}
	if (m->count == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;
		m->tab = xrealloc(m->tab, cap * sizeof *m->tab);
		memset(m->tab + m->cap, 0, (cap - m->cap) * sizeof *m->tab);
		m->cap = cap;
	}
	struct bmap_ent *e = &m->tab[m->count];
	m->idx[j] = SLOT(h, m->count);
	m->count++;
	e->h = h;
	e->k = xmemdup(k, n);
	e->n = n;
	e->ptr = NULL;
	memset(e->v, 0, sizeof e->v);
	if (created)
		*created = 1;
	return e;
}

int bmap_del(struct bmap *m, const void *k, size_t n)
{
	if (!m->count)
		return 0;
	if (!k)
		k = "";
	size_t mask = m->nidx - 1, j = probe(m, fnv1a64(k, n), k, n);
	if (!m->idx[j])
		return 0;
	size_t i = SLOT_ENT(m->idx[j]), last = m->count - 1;
	free(m->tab[i].k);
	/* the last entry fills the hole: its slot now names i */
	if (i != last) {
		m->tab[i] = m->tab[last];
		size_t js = (uint32_t)m->tab[i].h & mask;
		while (SLOT_ENT(m->idx[js]) != last)
			js = (js + 1) & mask;
		m->idx[js] = SLOT(m->tab[i].h, i);
	}
	memset(&m->tab[last], 0, sizeof m->tab[last]);
	m->count--;
	/* backward-shift deletion keeps every probe chain unbroken */
	m->idx[j] = 0;
	for (size_t q = (j + 1) & mask; m->idx[q]; q = (q + 1) & mask) {
		size_t home = SLOT_TAG(m->idx[q]) & mask;
		int between = j <= q ? (home > j && home <= q) : (home > j || home <= q);
		if (!between) {
			m->idx[j] = m->idx[q];
			m->idx[q] = 0;
			j = q;
		}
	}
	return 1;
}

double bmap_probes(const struct bmap *m)
{
	uint64_t total = 0;
	size_t mask = m->nidx - 1;
	for (size_t q = 0; q < m->nidx; q++)
		if (m->idx[q])
			total += ((q - (SLOT_TAG(m->idx[q]) & mask)) & mask) + 1;
	return m->count ? (double)total / (double)m->count : 0;
}

void bmap_free(struct bmap *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->tab[i].k);
	free(m->tab);
	free(m->idx);
	memset(m, 0, sizeof *m);
}
