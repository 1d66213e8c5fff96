/* keyed.c — keyed state with a deadline heap (see keyed.h). */
#include "keyed.h"
#include "ev.h"

#include <stdlib.h>
#include <string.h>

int64_t keyed_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

struct kentry *keyed_find(const struct keyed *k, const void *key, size_t n)
{
	return bmap_ptr(&k->map, key, n);
}

struct kentry *keyed_get(struct keyed *k, const void *key, size_t n, int *created)
{
	int c = 0;
	struct bmap_ent *be = bmap_get(&k->map, key, n, &c);
	if (created)
		*created = c;
	if (!c)
		return be->ptr;
	struct kentry *e = xcalloc(1, sizeof *e);
	e->key = be->k;
	e->klen = be->n;
	e->order = k->order++;
	e->prev = k->tail;
	if (k->tail)
		k->tail->next = e;
	else
		k->head = e;
	k->tail = e;
	be->ptr = e;
	k->count++;
	return e;
}

void keyed_del(struct keyed *k, struct kentry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		k->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		k->tail = e->prev;
	k->count--;
	/* e->key points into the map's copy: delete the entry last */
	bmap_del(&k->map, e->key, e->klen);
	free(e);
}

/* ---- the heap --------------------------------------------------------- */

static int before(const struct ktimer *a, const struct ktimer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void put(struct keyed *k, size_t i, struct ktimer *t)
{
	k->heap[i] = t;
	t->hidx = i + 1;
}

static void sift_up(struct keyed *k, size_t i)
{
	struct ktimer *t = k->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(t, k->heap[p]))
			break;
		put(k, i, k->heap[p]);
		i = p;
	}
	put(k, i, t);
}

static void sift_down(struct keyed *k, size_t i)
{
	struct ktimer *t = k->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= k->n)
			break;
		if (c + 1 < k->n && before(k->heap[c + 1], k->heap[c]))
			c++;
		if (!before(k->heap[c], t))
			break;
		put(k, i, k->heap[c]);
		i = c;
	}
	put(k, i, t);
}

void keyed_unschedule(struct keyed *k, struct ktimer *t)
{
	if (!t->hidx)
		return;
	size_t i = t->hidx - 1;
	t->hidx = 0;
	k->n--;
	if (i == k->n)
		return;
	put(k, i, k->heap[k->n]);
	if (i > 0 && before(k->heap[i], k->heap[(i - 1) / 2]))
		sift_up(k, i);
	else
		sift_down(k, i);
}

void keyed_schedule(struct keyed *k, struct ktimer *t, int64_t when, uint64_t seq)
{
	keyed_unschedule(k, t);
	t->when = when;
	t->seq = seq;
	k->heap = xgrow(k->heap, &k->cap, k->n + 1, sizeof *k->heap);
	put(k, k->n++, t);
	sift_up(k, k->n - 1);
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
	free(k->heap);
	memset(k, 0, sizeof *k);
}
