/* bmap.c — byte-string keyed map (see bmap.h). */
#include "bmap.h"
#include "ev.h"

#include <stdlib.h>
#include <string.h>

static size_t slot(const struct bmap *m, uint64_t h, const void *k, size_t n)
{
	size_t j = h & (m->cap - 1);
	while (m->tab[j].k) {
		if (m->tab[j].h == h && m->tab[j].n == n && memcmp(m->tab[j].k, k, n) == 0)
			break;
		j = (j + 1) & (m->cap - 1);
	}
	return j;
}

static void grow(struct bmap *m)
{
	struct bmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 64;
	m->tab = xcalloc(m->cap, sizeof *m->tab);
	for (size_t i = 0; i < old.cap; i++)
		if (old.tab[i].k)
			m->tab[slot(m, old.tab[i].h, old.tab[i].k, old.tab[i].n)] = old.tab[i];
	free(old.tab);
}

struct bmap_ent *bmap_find(const struct bmap *m, const void *k, size_t n)
{
	if (!m->cap)
		return NULL;
	if (!k)
		k = "";
	struct bmap_ent *e = &m->tab[slot(m, fnv1a64(k, n), k, n)];
	return e->k ? e : NULL;
}

struct bmap_ent *bmap_get(struct bmap *m, const void *k, size_t n, int *created)
{
	if (!k)
		k = "";
	if ((m->count + 1) * 2 > m->cap)
		grow(m);
	uint64_t h = fnv1a64(k, n);
	struct bmap_ent *e = &m->tab[slot(m, h, k, n)];
	if (created)
		*created = !e->k;
	if (!e->k) {
		e->h = h;
		e->k = xmemdup(k, n);
		e->n = n;
		e->ptr = NULL;
		memset(e->v, 0, sizeof e->v);
		m->count++;
	}
	return e;
}

int bmap_del(struct bmap *m, const void *k, size_t n)
{
	struct bmap_ent *e = bmap_find(m, k, n);
	if (!e)
		return 0;
	size_t mask = m->cap - 1, j = (size_t)(e - m->tab);
	free(e->k);
	e->k = NULL;
	m->count--;
	/* backward-shift deletion keeps every probe chain unbroken */
	for (size_t i = (j + 1) & mask; m->tab[i].k; i = (i + 1) & mask) {
		size_t home = m->tab[i].h & mask;
		int between = j <= i ? (home > j && home <= i) : (home > j || home <= i);
		if (!between) {
			m->tab[j] = m->tab[i];
			m->tab[i].k = NULL;
			j = i;
		}
	}
	return 1;
}

void bmap_free(struct bmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->tab[i].k);
	free(m->tab);
	memset(m, 0, sizeof *m);
}
