/*
 * resume.h — reading the one input of a --state run from where the last
 * run stopped (checkpoint.h says how a position is kept and checked).
 *
 * The tool loads its state (ckpt_load into r->ck), calls resume_run()
 * instead of ev_run(), and starts its event callback with
 *     if (resume_skip(cx, r, ev)) return;
 * which drops the events an earlier run already read (by seq), defers a
 * half-written last line to the next run (uncounted), and rejects an
 * event without seq on a stream that cannot be positioned by offset.
 * After the run r->ck holds the new position for ckpt_begin().
 *
 * (The same steps as evproject's run_state, as a mechanism; evproject
 * can move onto it.)
 */
#ifndef RESUME_H
#define RESUME_H

#include <stdint.h>

#include "checkpoint.h"
#include "cli.h"

struct resume {
	const char *state_path; /* for messages */
	struct ckpt ck;
	int skipping;
	int64_t skip_seq;
	int have_seq;
	int64_t max_seq;
	int need_seq;
};

/* 1: the callback should ignore ev (already handled here). */
int resume_skip(struct evctx *cx, struct resume *r, struct ev_event *ev);
/* Read the one operand (none = stdin): exits 2 for several operands and
 * 5 when the saved position no longer fits the file. */
void resume_run(struct evctx *cx, struct resume *r, int nfiles, char **files, ev_event_fn fn, void *arg);

#endif
