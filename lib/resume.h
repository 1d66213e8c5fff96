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
 * The positioning, the per-event seq decision and the saved position are
 * checkpoint.h's ckpt_start, ckpt_admit and ckpt_mark, which ev_run's
 * --state mode (cli.c) uses too; what is left here is the one-operand
 * loop over ev_run_input and its half-written last line.
 */
#ifndef RESUME_H
#define RESUME_H

#include <stdint.h>

#include "checkpoint.h"
#include "cli.h"

struct resume {
	const char *state_path; /* for messages */
	struct ckpt ck;
	struct ckpt_reader rd;  /* the steps ev_run's resume mode takes too */
};

/* 1: the callback should ignore ev (already handled here). */
int resume_skip(struct evctx *cx, struct resume *r, struct ev_event *ev);
/* Read the one operand (none = stdin): exits 2 for several operands and
 * 5 when the saved position no longer fits the file. */
void resume_run(struct evctx *cx, struct resume *r, int nfiles, char **files, ev_event_fn fn, void *arg);

#endif
