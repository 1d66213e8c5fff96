/*
 * keyed.h — keyed state with event-time deadlines: what evcep's partial
 * matches need (and evjoin's buffers, evdlq's breakers and timers next).
 *
 * - A table of entries by key (bytes, normally built with json_value_key,
 *   so "42" and 42 are different keys), kept in creation order so a
 *   state file lists them the same way on every run.
 * - Deadlines: a tool embeds a struct ktimer in whatever owns a deadline
 *   (a partial match, a buffered row) and schedules it.  The heap (lib/heap)
 *   holds pointers to those timers and each timer knows its place in it,
 *   so unscheduling is O(log n) and "safe invalidation" is simply: call
 *   keyed_unschedule before freeing the owner (a freed timer is never
 *   left in the heap to be popped later).
 * - Lanes: a caller whose deadlines come in order (evcep's runs of one
 *   pattern: a start time that never goes back plus a fixed within)
 *   schedules them in a lane, a list whose head is its earliest, so a
 *   deadline costs O(1) instead of heap sifts over pointers scattered in
 *   memory.  A timer that would break its lane's order goes to the heap,
 *   so a lane is only ever a speed-up: the pop order is (when, seq)
 *   whatever the caller does.
 * - keyed_expire(watermark) pops, in (deadline, seq) order, every timer
 *   the watermark has passed and hands it to a callback, which may
 *   schedule, unschedule, create or delete anything, itself included.
 * - Deadline arithmetic saturates at the int64 ends (time_add_sat in
 *   timeutil.h), so a
 *   within of "forever" or a time near the end of the range never wraps.
 */
#ifndef KEYED_H
#define KEYED_H

#include <stddef.h>
#include <stdint.h>

#include "bmap.h"
#include "heap.h"

struct kentry {
	uint64_t h;       /* the key's hash (fnv1a64) */
	const char *key;  /* the key's bytes (valid while the entry lives) */
	size_t klen;
	void *val;        /* the tool's per-key state: NULL when created, or
	                     with vsize, vsize zeroed bytes in the entry */
	uint64_t order;   /* creation order, from 0 */
	struct kentry *prev, *next; /* creation order list */
};

struct ktimer {
	int64_t when;     /* the deadline */
	uint64_t seq;     /* ties: smaller first (the caller's order) */
	size_t hidx;      /* 1 + place in the heap, KT_LANE(i) in lane i;
	                     0 = not scheduled */
	struct ktimer *prev, *next; /* in a lane */
};

#define KEYED_LANES 8
#define KT_LANE(i) (SIZE_MAX - (size_t)(i))

struct klane {
	struct ktimer *head, *tail; /* earliest first */
};

struct keyed {
	/* Set before the first entry: each entry then carries vsize bytes
	 * for the tool's state (val), so a lookup reaches it without
	 * another pointer to follow; the key's bytes are in the entry too. */
	size_t vsize;
	/* The index: open addressing over (hash, entry) slots, linear
	 * probing, backward-shift deletion.  Not lib/bmap: a slot points at
	 * the entry, which holds its key and the tool's state, so a lookup
	 * reads one slot and one block (bmap's dense entries would add a
	 * third place, and each is a cache miss on a large key set). */
	struct kslot { uint64_t h; struct kentry *e; } *idx;
	size_t nidx;
	struct kentry *head, *tail; /* oldest first */
	size_t count;
	uint64_t order;
	struct heap heap;           /* of struct ktimer *, by (when, seq) */
	struct klane lane[KEYED_LANES];
	unsigned lanes;             /* bit i: lane i is not empty */
	size_t nlaned;              /* timers in lanes */
};

/* The entry for key k[0..n), or NULL. */
struct kentry *keyed_find(const struct keyed *k, const void *key, size_t n);
/* The same with the key's hash, fnv1a64(key, n), given. */
struct kentry *keyed_find_h(const struct keyed *k, const void *key, size_t n, uint64_t h);
/* The entry for key, created at the end of the order when absent
 * (*created says which; created may be NULL). */
struct kentry *keyed_get_h(struct keyed *k, const void *key, size_t n, uint64_t h, int *created);
static inline struct kentry *keyed_get(struct keyed *k, const void *key, size_t n, int *created)
{
	return keyed_get_h(k, key, n, fnv1a64(key, n), created);
}
/* Remove an entry (its val is the caller's to free first). */
void keyed_del(struct keyed *k, struct kentry *e);

/* Schedule t at when (rescheduling if it was scheduled). */
void keyed_schedule(struct keyed *k, struct ktimer *t, int64_t when, uint64_t seq);
/* The same in lane (0 to KEYED_LANES-1; any other number: the heap). */
void keyed_schedule_lane(struct keyed *k, struct ktimer *t, int64_t when, uint64_t seq, unsigned lane);
/* Take t out (nothing when it is not scheduled). */
void keyed_unschedule(struct keyed *k, struct ktimer *t);
static inline int kt_before(const struct ktimer *a, const struct ktimer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}
/* The earliest timer, or NULL. */
static inline struct ktimer *keyed_next(const struct keyed *k)
{
	struct ktimer *best = k->heap.n ? *(struct ktimer **)heap_top(&k->heap) : NULL;
	for (unsigned m = k->lanes; m; m &= m - 1) {
		struct ktimer *h = k->lane[__builtin_ctz(m)].head;
		if (!best || kt_before(h, best))
			best = h;
	}
	return best;
}
/* How many timers are scheduled. */
static inline size_t keyed_pending(const struct keyed *k) { return k->heap.n + k->nlaned; }
/* The scheduled timers, keyed_pending of them, into v, in no particular
 * order. */
void keyed_timers(const struct keyed *k, struct ktimer **v);

/*
 * Pop every timer with when < wm (strict: the watermark has passed it;
 * with inclusive set, when <= wm) in (when, seq) order and call fn with
 * it, already unscheduled.  Returns how many were popped.
 */
size_t keyed_expire(struct keyed *k, int64_t wm, int inclusive,
                    void (*fn)(struct ktimer *t, void *arg), void *arg);

/* Free the table and the heap (entries' vals are the caller's). */
void keyed_free(struct keyed *k);

#endif
