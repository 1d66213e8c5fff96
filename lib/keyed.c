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

struct kentry *keyed_new(struct keyed *k, struct bmap_ent *be)
{
	struct kentry *e = xmalloc(sizeof *e); /* every member set below */
	e->key = be->k;
	e->klen = be->n;
	e->val = NULL;
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
	const struct ktimer *a = *(struct ktimer *const *)x, *b = *(struct ktimer *const *)y;
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void tm_moved(void *e, size_t i)
{
	(*(struct ktimer **)e)->hidx = i + 1;
}

void keyed_unschedule(struct keyed *k, struct ktimer *t)
{
	if (!t->hidx)
		return;
	heap_remove(&k->heap, t->hidx - 1, NULL);
	t->hidx = 0;
}

void keyed_schedule(struct keyed *k, struct ktimer *t, int64_t when, uint64_t seq)
{
	keyed_unschedule(k, t);
	t->when = when;
	t->seq = seq;
	if (!k->heap.less)
		heap_init(&k->heap, sizeof t, tm_less, tm_moved);
	heap_push(&k->heap, &t);
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
	memset(k, 0, sizeof *k);
}
