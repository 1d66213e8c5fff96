/*
 * window.h — event-time windows: assignment (tumbling and hopping bounds
 * one window at a time; sessions assigned, grown and merged per key), the
 * watermark, lateness, the close queue and the sink for late events.
 * evproject builds its windows on this (its window objects embed a struct
 * wnode and hold their own aggregation states, which the session engine
 * asks it to merge through a callback); evcep and evjoin share the
 * watermark, lateness and late-event rules.
 *
 * Definitions (evproject(1) spells them out for users):
 * - tumbling:DUR — windows [k*DUR, (k+1)*DUR), aligned to the Unix epoch;
 *   hopping:DUR/STEP — windows [k*STEP, k*STEP + DUR): an event belongs to
 *   every window that contains it (about DUR/STEP of them); session:GAP —
 *   per key, [first event, last event + GAP); an event less than GAP from
 *   a session's events joins (and may bridge) sessions.  All half-open: an
 *   event exactly at a window's end belongs to the next one.
 * - The watermark W is the largest event time seen minus the lateness
 *   (--lateness DUR, or inf: W never moves and nothing closes before the
 *   end of input).  A window is closed once W >= its end.  An event is late
 *   when a window it belongs to is closed (tumbling/hopping: its earliest
 *   window's end has passed; sessions: it falls before the end of a closed
 *   session of its key, or joins no open session and [t, t + GAP) is
 *   already closed); a late event goes to the late sink, never into a
 *   window, and is never dropped silently.
 * - The window table (wtable) keeps the open windows by key, in creation
 *   order, with their ends as lib/keyed deadlines: which windows closed
 *   is a look at the top of a heap.
 * - Times are int64 microseconds over the whole range: window bounds that
 *   would pass an end of the range are clamped to it (saturated), never
 *   wrapped, so times near +-2^63 us give windows, not undefined
 *   behaviour.  An end clamped to INT64_MAX stands for one past it: such
 *   a window holds INT64_MAX too and closes only at the end of input.
 * - The late sink decides, once for every tool, what late events do to
 *   the run: routed to --late FILE they are written there and summed up
 *   in one line, status unchanged; not routed, they are counted, summed
 *   up in one line that says what to do, and the exit status is 3.
 */
#ifndef WINDOW_H
#define WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "keyed.h"
#include "wfile.h"

enum win_kind { WIN_NONE, WIN_TUMBLING, WIN_HOPPING, WIN_SESSION };

struct winspec {
	enum win_kind kind;
	int64_t size;  /* tumbling, hopping: the window's length (us) */
	int64_t step;  /* hopping: distance between starts; tumbling: = size */
	int64_t gap;   /* session */
};

#define WIN_MAX_OVERLAP 10000 /* hopping: DUR/STEP at most this */

/* "tumbling:DUR", "hopping:DUR/STEP", "session:GAP".  0 or -1 with err. */
int winspec_parse(const char *s, struct winspec *w, char *err, size_t errlen);

/*
 * Tumbling/hopping: the windows holding t, ascending, one at a time (no
 * array: a hopping spec may give WIN_MAX_OVERLAP of them).  Bounds are
 * clamped to the int64 range, so near its ends two windows may share a
 * start but not both bounds.
 *
 *	struct winiter it;
 *	int64_t start, end;
 *	for (window_iter(&spec, t, &it); window_next(&it, &start, &end);)
 *		...
 */
struct winiter {
	__int128 k, last; /* the next and the last window index */
	int64_t size, step;
};
void window_iter(const struct winspec *w, int64_t t, struct winiter *it);
int window_next(struct winiter *it, int64_t *start, int64_t *end);
/* The end of the first window window_next would give (clamped). */
int64_t window_iter_first_end(const struct winiter *it);
/* Tumbling/hopping: the end of the earliest window holding t (clamped). */
int64_t window_first_end(const struct winspec *w, int64_t t);

struct watermark {
	int64_t wm;       /* largest event time seen */
	int have;         /* any seen yet */
	int64_t lateness; /* >= 0 */
	int inf;          /* --lateness inf: nothing closes before the end */
};

/* "DUR" (evtools durations, 0 allowed) or "inf" into m: 0, or -1. */
int wm_lateness_parse(struct watermark *m, const char *s);

static inline void wm_observe(struct watermark *m, int64_t t)
{
	if (!m->have || t > m->wm) {
		m->wm = t;
		m->have = 1;
	}
}
/* Is a window ending at end closed? */
int wm_closed(const struct watermark *m, int64_t end);

/*
 * A window's bounds, its close deadline and its place in the window
 * table.  The caller's window object begins with a struct wnode (so that
 * a pointer to one is a pointer to the other); the aggregation states
 * and group values are the caller's.
 */
struct wnode {
	int64_t start, end;
	uint64_t pos;              /* the position of its first event */
	struct ktimer tm;          /* its end, while queued (lib/keyed) */
	struct kentry *ke;         /* its key entry (a session: its group's) */
	struct wnode *prev, *next; /* creation order */
};

/*
 * The open windows of a run, by key, with their ends as deadlines (lib/
 * keyed): a group (no window) and a tumbling or hopping window have a key
 * entry each (the group key, then the bounds), whose val is the window;
 * sessions share their group's entry, whose val is the caller's group
 * (holding a struct sessions).  Every window is listed in creation order,
 * which output and state files follow.  A window taken out of the table
 * leaves the deadline queue at once, so the caller may free it then.
 */
struct wtable {
	struct keyed k;
	struct wnode *head, *tail; /* oldest first */
	uint64_t seq;              /* deadline ties: the order they were queued */
};
/* Put w (bounds and position set) in the table under entry ke, last in
 * the creation order; it is not queued (wtab_schedule). */
void wtab_add(struct wtable *t, struct kentry *ke, struct wnode *w);
/* Queue w at its end, unless nothing can close before the end of input
 * (m->inf: then the queue does not grow per event); a window already
 * queued at its end stays where it is, one whose end moved (a session
 * that grew) is queued again. */
void wtab_schedule(struct wtable *t, const struct watermark *m, struct wnode *w);
/* The next window the watermark has closed (smallest end first, ties in
 * the order they were queued), taken off the queue but left in the
 * table; NULL when none. */
struct wnode *wtab_next_closed(struct wtable *t, const struct watermark *m);
/* Take w out of the table (off the queue and the creation order, and,
 * with own_key, its key entry deleted): the caller frees it. */
void wtab_remove(struct wtable *t, struct wnode *w, int own_key);
/* How many windows are queued. */
static inline size_t wtab_queued(const struct wtable *t) { return keyed_pending(&t->k); }
/* Free the table (the windows and entries' vals are the caller's). */
void wtab_free(struct wtable *t);

/*
 * Session windows of one key: its open sessions by start, and the end of
 * its latest closed session (an event before that end is late).
 */
struct sessions {
	struct wnode **s;
	size_t n, cap;
	int have_closed;
	int64_t closed_end;
};
/* Fold the aggregation states of from into into, then take from out of
 * the window table (wtab_remove) and free it.  The engine has already
 * widened into's bounds and position and taken from off the open list. */
typedef void session_merge_fn(void *arg, struct wnode *into, struct wnode *from);

/*
 * The open session that [lo, hi) touches (a session [s, e) is touched
 * when they overlap; an end clamped to INT64_MAX holds INT64_MAX), with
 * every other session it touches merged into it (the one with the
 * earliest start) and its bounds widened to hold [lo, hi) and its
 * position lowered to pos; NULL when it touches none.
 */
struct wnode *session_join(struct sessions *g, int64_t lo, int64_t hi, uint64_t pos,
                           session_merge_fn *merge, void *arg);
/*
 * Assign an event at t (position pos) to the sessions of its key: an
 * event joins (and may bridge) the sessions [s, e) with s - gap < t < e.
 * Returns the session it joined (see session_join), or NULL with *late
 * 0: a new session [t, t + gap) (saturated) is the caller's to make and
 * session_add; or NULL with *late 1: the event falls before the end of
 * a closed session, or joins none and [t, t + gap) is already closed.
 */
struct wnode *session_assign(struct sessions *g, const struct winspec *w, const struct watermark *m,
                             int64_t t, uint64_t pos, session_merge_fn *merge, void *arg, int *late);
/* Add w to the open sessions (by start). */
void session_add(struct sessions *g, struct wnode *w);
/* w has closed: off the open list, its end remembered. */
void session_closed(struct sessions *g, struct wnode *w);
void sessions_free(struct sessions *g);

/* --late FILE: late events appended byte for byte, and counted. */
struct latesink {
	const char *path; /* NULL: counted only */
	struct wfile *w;
	uint64_t count;
};
/* 0, or -1 with errno when the file cannot be opened (or, when it does
 * not exist, created in its directory).  A new file is created only at
 * the first late event. */
int late_open(struct latesink *l, const char *path);
void late_write(struct latesink *l, const char *line, size_t len);
/*
 * The end of a run: closes the file and, when there were late events,
 * writes one summary line on stderr, WHAT saying what befell them
 * ("not counted in any window"):
 *   PROG: N late events WHAT (written to FILE)                 routed
 *   PROG: N late events WHAT; use --lateness DUR or --late FILE  not routed
 * Returns the exit status they call for: EV_REJECT (3) when some were not
 * routed, else 0 (give it to ev_raise).  Late events are not rejections:
 * they are not written to --errors and do not stop --strict.
 */
int late_finish(struct latesink *l, const char *what);

#endif
