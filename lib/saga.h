/*
 * saga.h — evcep's sagas: saga files, the per-saga state machine, its
 * records and its part of a --state file.
 *
 * A saga type (one object of a --saga file) names a start event type
 * (optional), a key path, a timeout and steps, each step with the event
 * type that completes it (done) and optionally the command that asks for
 * it, the event type that fails it and the command that undoes it.  Per
 * saga type and key at most one saga runs; it is one struct saga_run in
 * the keyed table (keyed.h), whose timer is the saga's deadline
 * (started_at + timeout), so a saga costs one entry while it runs and is
 * freed the moment it completes, fails or times out.
 *
 * The engine sits beside the pattern engine (cep.h) on the same stream:
 * evcep hands it every event as the pattern engine processes it (after
 * the reorder of --lateness), with the event's time as the watermark.
 * For one event it writes, in order: the timeouts the event's time has
 * passed (by deadline, then start order), then the records of the event
 * itself (saga types in file order).
 *
 * What it cannot decide alone goes back to the caller: an event that fits
 * a saga's role but no running saga (warn or reject).  Records go through
 * the emit callback, one line each.
 */
#ifndef SAGA_H
#define SAGA_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "json.h"
#include "keyed.h"
#include "path.h"

struct saga_step {
	char *name;
	char *command;    /* NULL: none */
	char *done;
	char *failed;     /* NULL: none */
	char *compensate; /* NULL: none */
	unsigned char gdone, gfailed; /* the type is a glob */
};

struct saga_def {
	char *name;
	char *start;      /* NULL: the first step's done starts the saga */
	unsigned char gstart;
	struct path key;
	int64_t timeout;
	int report;       /* on_timeout "report": no compensations */
	struct saga_step *steps;
	size_t nsteps;
	char *file;       /* where it was loaded from, for messages */
	/* counts, over runs with --state */
	uint64_t started, completed, failed, timed_out, running;
};

/*
 * Load a saga file (one object or an array of them), appending to
 * *defs.  Names must be unique over everything loaded so far.  The key
 * defaults to defkey (a path text).  0, or -1 after a message on stderr
 * naming the file (and line:column for JSON syntax errors).
 */
int saga_load_file(const char *path, const char *defkey, struct saga_def **defs, size_t *ndefs);
void saga_defs_free(struct saga_def *defs, size_t n);

struct saga_opts {
	int partials;             /* --partials: list running (and dropped) sagas */
	uint64_t max_running;     /* --max-partials; 0: no cap */
	const struct fieldmap *fm;
	void (*emit)(void *arg, const char *line, size_t len);
	/* an event of a saga's type that fits no running saga (or dropped
	 * for another reason): why, ready for a message; the event's line */
	int (*unfit)(void *arg, const char *line, size_t len, const char *why);
	void *arg;
};

struct saga {
	struct saga_def *defs;
	size_t ndefs;
	struct saga_opts o;
	struct keyed k;      /* (saga type, key) -> struct saga_run */
	uint64_t pos;        /* sagas started: start order */
	uint64_t running;
	uint64_t overflow;   /* dropped by --max-partials */
	uint64_t records;    /* command and status records written */
	/* scratch */
	struct buf key, out, id, tbuf, ctx, why, ks;
	struct jdoc cdoc;
};

void saga_init(struct saga *s, struct saga_def *defs, size_t ndefs, const struct saga_opts *o);

/*
 * An event being read (before any reordering): 0, or -1 with why set
 * when it must be rejected: its type is a start, done or failed type of
 * some saga and its key is null or missing.  Such an event should reach
 * nothing else (it moves no watermark).
 */
int saga_check(struct saga *s, const struct jdoc *d, char *why, size_t whylen);

/* The watermark reached wm: sagas whose deadline is before wm time out. */
void saga_time(struct saga *s, int64_t wm);

/* One event, in processing order, with event time t (its timeouts, then
 * its records).  Returns what the unfit callback returned (1: the caller
 * rejected the event), else 0. */
int saga_event(struct saga *s, const char *line, size_t len, const struct jdoc *d, int64_t t);

/* End of input: --partials lists the running sagas (status "running"),
 * in start order; stats adds one stats record per saga type. */
void saga_end(struct saga *s, int stats);

/* --state: the engine's lines, and one of them read back (0, or -1 with
 * err).  saga_is_line tells the engine's lines from others. */
void saga_save(struct saga *s, struct buf *b, void (*line)(void *arg, const char *p, size_t n), void *arg);
int saga_is_line(const struct jdoc *d);
int saga_load_line(struct saga *s, const struct jdoc *d, char *err, size_t errlen);

void saga_free(struct saga *s);

#endif
