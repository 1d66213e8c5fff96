/* keyed.c — keyed state with a deadline heap (see keyed.h). */
#include "keyed.h"
#include "dlist.h"
#include "ev.h"

#include <stdlib.h>
#include <string.h>

struct kentry *keyed_find(const struct keyed *k, const void *key, size_t n)
{
	return bmap_ptr(&k->map, key, n);
}

struct kentry *keyed_find_h(const struct keyed *k, const void *key, size_t n, uint64_t h)
{
	struct bmap_ent *e = bmap_find_h(&k->map, key, n, h);
	return e ? e->ptr : NULL;
}

#define KALIGN(n) (((n) + 15) & ~(size_t)15)

struct kentry *keyed_new(struct keyed *k, struct bmap_ent *be)
{
	/* one block: the entry, the key's bytes (so a lookup's compare and
	 * the entry share a cache line when the key is short), the tool's
	 * state */
	size_t kat = sizeof(struct kentry), vat = KALIGN(kat + be->n + 1);
	char *blk = xmalloc(vat + k->vsize);
	struct kentry *e = (struct kentry *)blk;
	memcpy(blk + kat, be->k, be->n);
	blk[kat + be->n] = '\0';
	be->k = blk + kat;
	e->key = be->k;
	e->klen = be->n;
	e->val = NULL;
	if (k->vsize) {
		e->val = blk + vat;
		memset(e->val, 0, k->vsize);
	}
	e->order = k->order++;
	DLIST_APPEND(k, e);
	be->ptr = e;
	k->count++;
	return e;
}

void keyed_del(struct keyed *k, struct kentry *e)
{
	DLIST_REMOVE(k, e);
	k->count--;
	/* e->key points into the map's copy: delete the entry last */
	bmap_del(&k->map, e->key, e->klen);
	free(e);
}

/* ---- the deadlines (lib/heap of struct ktimer *) --------------------- */

static int tm_less(const void *x, const void *y)
{
	return kt_before(*(struct ktimer *const *)x, *(struct ktimer *const *)y);
}

static void tm_moved(void *e, size_t i)
{
	(*(struct ktimer **)e)->hidx = i + 1;
}

void keyed_unschedule(struct keyed *k, struct ktimer *t)
{
	if (!t->hidx)
		return;
	if (t->hidx > KT_LANE(KEYED_LANES)) {
		unsigned i = (unsigned)(SIZE_MAX - t->hidx);
		struct klane *l = &k->lane[i];
		DLIST_REMOVE(l, t);
		if (!l->head)
			k->lanes &= ~(1u << i);
		k->nlaned--;
	} else {
		heap_remove(&k->heap, t->hidx - 1, NULL);
	}
	t->hidx = 0;
}

void keyed_schedule_lane(struct keyed *k, struct ktimer *t, int64_t when, uint64_t seq, unsigned lane)
{
	keyed_unschedule(k, t);
	t->when = when;
	t->seq = seq;
	if (lane < KEYED_LANES) {
		struct klane *l = &k->lane[lane];
		if (!l->tail || !kt_before(t, l->tail)) {
			DLIST_APPEND(l, t);
			t->hidx = KT_LANE(lane);
			k->lanes |= 1u << lane;
			k->nlaned++;
			return;
		}
	}
	if (!k->heap.less)
		heap_init(&k->heap, sizeof t, tm_less, tm_moved);
	heap_push(&k->heap, &t);
}

void keyed_schedule(struct keyed *k, struct ktimer *t, int64_t when, uint64_t seq)
{
	keyed_schedule_lane(k, t, when, seq, KEYED_LANES);
}

void keyed_timers(const struct keyed *k, struct ktimer **v)
{
	if (k->heap.n)
		memcpy(v, k->heap.a, k->heap.n * sizeof *v);
	v += k->heap.n;
	for (unsigned m = k->lanes; m; m &= m - 1)
		for (struct ktimer *t = k->lane[__builtin_ctz(m)].head; t; t = t->next)
			*v++ = t;
}

size_t keyed_expire(struct keyed *k, int64_t wm, int inclusive,
                    void (*fn)(struct ktimer *t, void *arg), void *arg)
{
	size_t popped = 0;
	struct ktimer *t;
	while ((t = keyed_next(k)) && (t->when < wm || (inclusive && t->when == wm))) {
		keyed_unschedule(k, t);
		popped++;
		fn(t, arg);
	}
	return popped;
}

void keyed_free(struct keyed *k)
{
	struct kentry *e = k->head;
	while (e) {
		struct kentry *nx = e->next;
		free(e);
		e = nx;
	}
	bmap_free(&k->map);
	heap_free(&k->heap);
	size_t vsize = k->vsize;
	memset(k, 0, sizeof *k);
	k->vsize = vsize;
}
