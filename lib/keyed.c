/* keyed.c — keyed state with a deadline heap (see keyed.h). */
#include "keyed.h"
#include "dlist.h"
#include "ev.h"

#include <stdlib.h>
#include <string.h>

/* The slot of key (hash h), or the empty slot where it would go. */
static size_t kprobe(const struct keyed *k, const void *key, size_t n, uint64_t h)
{
	size_t mask = k->nidx - 1, j = h & mask;
	for (const struct kentry *e; (e = k->idx[j].e); j = (j + 1) & mask)
		if (k->idx[j].h == h && e->klen == n && memcmp(e->key, key, n) == 0)
			break;
	return j;
}

struct kentry *keyed_find_h(const struct keyed *k, const void *key, size_t n, uint64_t h)
{
	return k->count ? k->idx[kprobe(k, key, n, h)].e : NULL;
}

struct kentry *keyed_find(const struct keyed *k, const void *key, size_t n)
{
	return keyed_find_h(k, key, n, fnv1a64(key, n));
}

static void kgrow(struct keyed *k)
{
	free(k->idx);
	k->nidx = k->nidx ? k->nidx * 2 : 64;
	k->idx = xcalloc(k->nidx, sizeof *k->idx);
	size_t mask = k->nidx - 1;
	for (struct kentry *e = k->head; e; e = e->next) {
		size_t j = e->h & mask;
		while (k->idx[j].e)
			j = (j + 1) & mask;
		k->idx[j].h = e->h;
		k->idx[j].e = e;
	}
}

#define KALIGN(n) (((n) + 15) & ~(size_t)15)

struct kentry *keyed_get_h(struct keyed *k, const void *key, size_t n, uint64_t h, int *created)
{
	if ((k->count + 1) * 2 > k->nidx)
		kgrow(k);
	size_t j = kprobe(k, key, n, h);
	if (created)
		*created = !k->idx[j].e;
	if (k->idx[j].e)
		return k->idx[j].e;
	/* one block: the entry, the key's bytes (so a lookup's compare and
	 * the entry share a cache line when the key is short), the tool's
	 * state */
	size_t kat = sizeof(struct kentry), vat = KALIGN(kat + n + 1);
	char *blk = xmalloc(vat + k->vsize);
	struct kentry *e = (struct kentry *)blk;
	if (n)
		memcpy(blk + kat, key, n);
	blk[kat + n] = '\0';
	e->h = h;
	e->key = blk + kat;
	e->klen = n;
	e->val = NULL;
	if (k->vsize) {
		e->val = blk + vat;
		memset(e->val, 0, k->vsize);
	}
	e->order = k->order++;
	DLIST_APPEND(k, e);
	k->idx[j].h = h;
	k->idx[j].e = e;
	k->count++;
	return e;
}

void keyed_del(struct keyed *k, struct kentry *e)
{
	size_t mask = k->nidx - 1, j = e->h & mask;
	while (k->idx[j].e != e)
		j = (j + 1) & mask;
	/* backward-shift deletion keeps every probe chain unbroken */
	k->idx[j].e = NULL;
	for (size_t q = (j + 1) & mask; k->idx[q].e; q = (q + 1) & mask) {
		size_t home = k->idx[q].h & mask;
		int between = j <= q ? (home > j && home <= q) : (home > j || home <= q);
		if (!between) {
			k->idx[j] = k->idx[q];
			k->idx[q].e = NULL;
			j = q;
		}
	}
	DLIST_REMOVE(k, e);
	k->count--;
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
	free(k->idx);
	heap_free(&k->heap);
	size_t vsize = k->vsize;
	memset(k, 0, sizeof *k);
	k->vsize = vsize;
}
