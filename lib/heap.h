/*
 * heap.h — the one binary min-heap: an array of fixed-size elements
 * (values, not pointers, so a reorder buffer keeps its items in place),
 * ordered by the caller's less().  What uses it: merge's reorder buffer,
 * window's close queue, keyed's deadlines and evcep's reorder of
 * --lateness.
 *
 * - Elements are copied in and out (at most HEAP_MAX_ELEM bytes each).
 * - moved(e, i), when given, is called every time an element is put at
 *   index i, so an element that knows its place (keyed's timers) can be
 *   taken out from the middle with heap_remove in O(log n).
 * - less must be a strict order; elements that compare equal come out in
 *   an order that depends on the heap's history, so callers break ties
 *   with a sequence number.
 * - A zeroed struct heap is empty but has no order: heap_init it (or
 *   check h->less) before the first push.
 */
#ifndef HEAP_H
#define HEAP_H

#include <stddef.h>

#define HEAP_MAX_ELEM 64

struct heap {
	char *a;       /* n elements of size bytes */
	size_t n, cap, size;
	int (*less)(const void *x, const void *y);
	void (*moved)(void *e, size_t i); /* NULL: nobody tracks places */
};

void heap_init(struct heap *h, size_t size, int (*less)(const void *, const void *),
               void (*moved)(void *, size_t));
/* The element at index i (0 is the smallest). */
static inline void *heap_at(const struct heap *h, size_t i) { return h->a + i * h->size; }
/* The smallest element, or NULL when empty. */
static inline void *heap_top(const struct heap *h) { return h->n ? h->a : NULL; }
void heap_push(struct heap *h, const void *e);
/* Take out the element at index i, copied to out unless out is NULL. */
void heap_remove(struct heap *h, size_t i, void *out);
/* Take out the smallest element (the heap must not be empty). */
static inline void heap_pop(struct heap *h, void *out) { heap_remove(h, 0, out); }
/* Free the array; the order stays, so the heap may be used again. */
void heap_free(struct heap *h);

#endif
