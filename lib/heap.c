/* heap.c — the one binary min-heap (see heap.h). */
#include "heap.h"
#include "ev.h"

#include <stdlib.h>
#include <string.h>

void heap_init(struct heap *h, size_t size, int (*less)(const void *, const void *),
               void (*moved)(void *, size_t))
{
	if (size == 0 || size > HEAP_MAX_ELEM)
		ev_die(EV_IO, "internal error: heap element of %zu bytes", size);
	memset(h, 0, sizeof *h);
	h->size = size;
	h->less = less;
	h->moved = moved;
}

static void place(struct heap *h, size_t i, const void *e)
{
	void *at = heap_at(h, i);
	memcpy(at, e, h->size);
	if (h->moved)
		h->moved(at, i);
}

/* Fill the hole at i with e, moving smaller-than-e parents down. */
static void sift_up(struct heap *h, size_t i, const void *e)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!h->less(e, heap_at(h, p)))
			break;
		place(h, i, heap_at(h, p));
		i = p;
	}
	place(h, i, e);
}

/* Fill the hole at i with e, moving smaller children up. */
static void sift_down(struct heap *h, size_t i, const void *e)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->less(heap_at(h, c + 1), heap_at(h, c)))
			c++;
		if (!h->less(heap_at(h, c), e))
			break;
		place(h, i, heap_at(h, c));
		i = c;
	}
	place(h, i, e);
}

void heap_push(struct heap *h, const void *e)
{
	h->a = xgrow(h->a, &h->cap, h->n + 1, h->size);
	h->n++;
	sift_up(h, h->n - 1, e);
}

void heap_remove(struct heap *h, size_t i, void *out)
{
	if (out)
		memcpy(out, heap_at(h, i), h->size);
	h->n--;
	if (i == h->n)
		return;
	char last[HEAP_MAX_ELEM];
	memcpy(last, heap_at(h, h->n), h->size);
	if (i > 0 && h->less(last, heap_at(h, (i - 1) / 2)))
		sift_up(h, i, last);
	else
		sift_down(h, i, last);
}

void heap_free(struct heap *h)
{
	free(h->a);
	h->a = NULL;
	h->n = h->cap = 0;
}
