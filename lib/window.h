/*
 * window.h — event-time windows: assignment, the watermark, lateness and
 * the sink for late events.  evproject builds its windows on this;
 * evcep and evjoin share the watermark, lateness and late-event rules.
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
 * - A min-heap of window ends (closeq) says cheaply which windows closed.
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

/* a + b, clamped to [INT64_MIN, INT64_MAX] instead of overflowing. */
static inline int64_t win_sat_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* Tumbling/hopping: the windows holding t, ascending, as their starts and
 * ends (room for WIN_MAX_OVERLAP each; bounds clamped to the int64 range,
 * so near its ends two windows may share a start but not both bounds);
 * returns how many. */
size_t window_bounds(const struct winspec *w, int64_t t, int64_t *starts, int64_t *ends);
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

/* The windows still open, by end time. */
struct closeq {
	struct cq_ent { int64_t end; uint64_t seq; void *p; } *h;
	size_t n, cap;
};
void closeq_push(struct closeq *q, int64_t end, uint64_t seq, void *p);
/* The entry with the smallest end (ties: smallest seq), or NULL. */
const struct cq_ent *closeq_peek(const struct closeq *q);
void closeq_pop(struct closeq *q);
void closeq_free(struct closeq *q);

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
