/*
 * compact.h — compaction of an event store (store.h): its old head moves
 * into archive batch files and is folded into snapshots, FILE.base records
 * what was archived, and FILE is rewritten with the rest, bytes unchanged.
 * evsnap --compact is this plus its options; what is evsnap's (loading and
 * folding snapshots, through lib/fold.h) it gives as callbacks, so this
 * module never calls up into the tool.
 *
 * The protocol, holding the store's lock throughout, in an order chosen so
 * that a crash at any point leaves a state that replays the same and that
 * a re-run completes:
 *   1. lock; refuse a torn store; read FILE.base; ops->begin (the tool
 *      loads its snapshots: it may refuse);
 *   2. drop leftovers of a crashed run: archive files that start after the
 *      base's last_seq (never committed) and temporary files of ours;
 *   3. read the store: lines whose seq the base already covers were
 *      archived by a run that crashed before rewriting the store, and are
 *      only dropped; then the longest prefix of events older than the
 *      cutoff is copied, byte for byte, into batch files
 *      ARCHIVE/NAME.FIRST-LAST.ndjson (each written atomically) and handed
 *      to ops->event;
 *   4. rewrite the snapshots atomically through ops->snapshots (they now
 *      cover events still in the store: replay skips them by version);
 *   5. write FILE.base atomically (this commits the archive files);
 *   6. replace the store atomically with the rest;
 *   7. remove the index (the next writer rebuilds it); unlock.
 * The archived part ends before a line that is not JSON, has no time or no
 * integer version (a warning says which), before the first event at or
 * after the cutoff, and after an event for which ops->event returns 1.
 *
 * Errors end the process (ev_die) with evtools(7) statuses: 2 for a store
 * that is not there, 4 when the lock is not had in time, 5 for I/O and a
 * torn store.  EVSNAP_CRASH_AT=STEP in the environment kills the process
 * with SIGKILL after that step (batch, snapshots, base, store, index), as
 * a power cut would: the crash tests use it.
 */
#ifndef COMPACT_H
#define COMPACT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "input.h"
#include "json.h"
#include "wfile.h"

struct compact_ops {
	/* Under the lock, once the store is found sound and before anything
	 * is written. */
	void (*begin)(void *arg);
	/* One archived event, in store order: its line, parsed into doc, read
	 * from in (in->label, in->lineno for messages).  1 ends the archived
	 * part after it, 0 goes on. */
	int (*event)(void *arg, const char *line, size_t len, struct jdoc *doc, struct input *in);
	/* Write every snapshot to w, a line each. */
	void (*snapshots)(void *arg, struct wfile *w);
	void *arg;
};

struct compact_opts {
	const char *store;        /* FILE */
	const char *archive;      /* the directory for batch files (created) */
	const char *snapshots;    /* the snapshots file (rewritten) */
	uint64_t batch;           /* lines per batch file */
	int64_t lock_timeout_us;
	int64_t cutoff;           /* events older than this are archived */
	const struct fieldmap *fm;
};

struct compact_counts {
	uint64_t archived;        /* events moved into batch files */
	uint64_t dropped;         /* lines a crashed run had archived already */
	uint64_t files;           /* batch files written */
};

void compact_run(const struct compact_opts *o, const struct compact_ops *ops, struct compact_counts *n);

#endif
