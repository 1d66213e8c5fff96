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
	const char *key;  /* the key's bytes (valid while the entry lives) */
	size_t klen;
	void *val;        /* the tool's per-key state; NULL when created */
	uint64_t order;   /* creation order, from 0 */
	struct kentry *prev, *next; /* creation order list */
};

struct ktimer {
	int64_t when;     /* the deadline */
	uint64_t seq;     /* ties: smaller first (the caller's order) */
	size_t hidx;      /* 1 + place in the heap; 0 = not scheduled */
};

struct keyed {
	struct bmap map;            /* key -> struct kentry * */
	struct kentry *head, *tail; /* oldest first */
	size_t count;
	uint64_t order;
	struct heap heap;           /* of struct ktimer *, by (when, seq) */
};

/* The entry for key k[0..n), or NULL. */
struct kentry *keyed_find(const struct keyed *k, const void *key, size_t n);
/* The entry for key, created at the end of the order when absent (the
 * lookup inline: it is on every event's path). */
struct kentry *keyed_new(struct keyed *k, struct bmap_ent *be);
static inline struct kentry *keyed_get(struct keyed *k, const void *key, size_t n, int *created)
{
	int c;
	struct bmap_ent *be = bmap_get(&k->map, key, n, &c);
	if (created)
		*created = c;
	return c ? keyed_new(k, be) : be->ptr;
}
/* Remove an entry (its val is the caller's to free first). */
void keyed_del(struct keyed *k, struct kentry *e);

/* Schedule t at when (rescheduling if it was scheduled). */
void keyed_schedule(struct keyed *k, struct ktimer *t, int64_t when, uint64_t seq);
/* Take t out of the heap (nothing when it is not scheduled). */
void keyed_unschedule(struct keyed *k, struct ktimer *t);
/* The earliest timer, or NULL. */
static inline struct ktimer *keyed_next(const struct keyed *k)
{
	return k->heap.n ? *(struct ktimer **)heap_top(&k->heap) : NULL;
}
/* How many timers are scheduled. */
static inline size_t keyed_pending(const struct keyed *k) { return k->heap.n; }
/* The scheduled timers, keyed_pending of them, in no particular order. */
static inline struct ktimer *const *keyed_timers(const struct keyed *k)
{
	return (struct ktimer *const *)k->heap.a;
}

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
