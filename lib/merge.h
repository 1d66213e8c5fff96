/*
 * merge.h — several inputs read as one stream in event-time order: the
 * reading mode behind evjoin's two operands, evcep's several logs and
 * evquery --interleave (evtools(7), "Event time, lateness and
 * watermarks").
 *
 * What it guarantees:
 * - Events come out in order of (time, operand, position in the operand):
 *   a k-way merge, ties in operand order, each input's own order kept
 *   among its events of one time.  Nothing is read from an input before it
 *   is needed, beyond one event (or, with lateness, the events within the
 *   lateness of that input's latest time: the reorder buffer).
 * - Per input, the largest time read so far (max).  An event is late when
 *   its time < max - lateness of its own input; a late event is counted as
 *   an event and goes to the late sink (merge.late, window.h), or, without
 *   a sink, is rejected as "out of time order" (evquery --interleave's
 *   rule).  It never reaches the event callback.
 * - The watermark: before each event the callback `advance` hears w, the
 *   time below which no event can come any more (all later events have
 *   time >= w); w never goes down, and after the last input ends it is
 *   INT64_MAX ("an ended input counts as +infinity").  With lateness 0 w
 *   is exactly W = min over the inputs of max; with a lateness, w is the
 *   time of the next event in merge order, which is <= W = min(max) -
 *   lateness, so a deadline fired at w > d can never miss an event.
 *   Records caused by advance(w) therefore come out before the records of
 *   the event that moved the stream to w.
 * - Lines are read with lib/input (any length, BOM, CRLF), parsed, and a
 *   line that is not a JSON object or has no readable time is rejected
 *   through ev_reject with its own file and line number; every valid line
 *   is counted once (events + rejected = lines read, cli.h).  Each input
 *   has its own parse tape, so with lateness 0 events are handed on where
 *   they were read, without a copy.  With a lateness, buffered events are
 *   copies, parsed again when they come out; their file and line numbers
 *   are kept (ev->in then points at a stand-in carrying them).
 * - Memory: one read buffer and one tape per input, plus the reorder
 *   buffer (events within the lateness).  lateness INT64_MAX ("inf")
 *   buffers every input whole: W never moves before the end.
 *
 * Layer: merge sits beside the reading loop of cli.c (it is one of its
 * input modes) and uses its rejection path; tools above it give callbacks.
 * Inputs are few (operands): the next event is found by a scan over them.
 */
#ifndef MERGE_H
#define MERGE_H

#include <stdint.h>

#include "cli.h"
#include "heap.h"
#include "window.h"

/* The event callback: ev as ev_run hands it, plus its operand index and
 * its time.  An ev_reject(cx, ev, ...) from it un-counts the event. */
typedef void (*merge_event_fn)(struct evctx *cx, struct ev_event *ev, int src, int64_t t, void *arg);
/* The watermark moved to w (see above). */
typedef void (*merge_advance_fn)(struct evctx *cx, int64_t w, void *arg);

struct merge_item; /* a buffered copy (lateness > 0) */

struct merge_src {
	struct input in;
	struct jdoc doc;     /* the tape of this input's event in hand */
	int open, done;
	int64_t max;         /* largest time read */
	int have_max;
	/* lateness 0: the next event, still in the input's buffer */
	int live;
	const char *line;
	size_t len;
	int64_t t;
	/* lateness > 0: the reorder buffer, a heap of struct merge_item by
	 * (time, arrival) */
	struct heap q;
	uint64_t seq;
};

struct merge {
	struct evctx *cx;
	struct merge_src *src;
	int n;
	int64_t lateness;          /* >= 0; INT64_MAX: inf */
	struct latesink *late;     /* NULL: late events are rejected */
	merge_event_fn event;
	merge_advance_fn advance;  /* may be NULL */
	void *arg;
	/* run state */
	int64_t w;                 /* last watermark announced */
	int cur_src;
	int64_t cur_t;
	struct input shadow;       /* file and line of a buffered event */
	unsigned tick;
};

/* "DUR" or "inf" (INT64_MAX) for --lateness: 0, or -1 after a message
 * naming opt. */
int merge_lateness_arg(const char *opt, const char *s, int64_t *lateness);

/*
 * Open the n operands ("-" is stdin) as the inputs of m; m's callbacks,
 * lateness and late sink are set by the caller before merge_run.  An
 * operand that cannot be opened is reported ("PROG: FILE: reason"),
 * status 2, and counts as an empty input.  Returns the number that could
 * not be opened.
 */
int merge_open(struct merge *m, struct evctx *cx, int n, char **files);
/* Read every input to its end (or until cx->stop), handing events on in
 * merge order; the last advance is INT64_MAX unless stopped. */
void merge_run(struct merge *m);
void merge_close(struct merge *m);

#endif
