/*
 * cli.h — what every tool shares around its main loop: the common options
 * (help, version, --errors, --strict, field mapping, --time-unit, --tz,
 * --now, --arg/--argjson, --progress), the file loop that reads, parses
 * and rejects lines, and the exit status.
 *
 * A tool is its options plus a callback (as in mblaze): it declares a
 * struct ev_tool, calls ev_parse_args(), then ev_run() with a function
 * that gets each valid event, and returns ev_finish().
 *
 * ev_run has modes, set in cx->mode before it is called: plain files,
 * --sorted (seek to a time, stop after one, by byte offsets), resumable
 * --state (a checkpoint: position by seq or byte offset, the tool's part
 * saved and loaded through callbacks) and --follow (wait for the file to
 * grow).  Every mode counts lines the same way (lines read = events +
 * rejected), shows --progress, stops on cx->stop, and treats a read
 * error as an error (status 5), never as the end of the file.
 *
 * Layer: cli is the top of lib/ (STYLE.md); what it asks of a tool goes
 * through the callbacks and void * the tool gives.
 *
 * Short option letters are the family's: -h help, -V version; a tool's
 * own letters never reuse one of them.
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdint.h>

#include "checkpoint.h"
#include "compact.h"
#include "event.h"
#include "expr.h"
#include "input.h"
#include "json.h"
#include "wfile.h"

struct evctx;
struct wfile;

/* --sorted: regular files in time order (messages name byte offsets). */
struct ev_sorted {
	int on;
	/* the range: seek to since, stop a file after the first event past
	 * until (a tool inverting its filters leaves both unset) */
	int have_since, have_until;
	int64_t since, until;
	/* per file */
	int64_t prev;          /* the latest time read so far */
	int have_prev, done, disorder;
	uint64_t seek;         /* where reading started */
	int has_time;          /* with a range: the time of the event handed */
	int64_t time;
};

/* evsnap --compact: the input is the old head of a store, read by
 * lib/compact under the store's lock while it writes the archive batches
 * (compact.h); each archived event is handed to the callback as any
 * input's is (rejections, --strict: a rejected event ends the archived
 * part).  No operands. */
struct ev_archive {
	const struct compact_opts *opts; /* NULL: off */
	/* compact_run, given by the tool: so that only evsnap links the
	 * compaction code */
	void (*read)(const struct compact_opts *o, const struct compact_ops *ops, struct compact_counts *n);
	void (*begin)(void *arg);        /* compact_ops' begin and snapshots */
	void (*snapshots)(void *arg, struct wfile *w);
	void *arg;
	struct compact_counts n;         /* after the run */
};

/* --state and --follow: one input read from where the last run stopped. */
struct ev_resume {
	const char *path;      /* --state FILE (NULL: --follow alone) */
	int follow;            /* --follow: wait for the file to grow */
	int need_file;         /* the input must be one named file (else one
	                          file or standard input, positioned by seq) */
	int autosave;          /* save every EV_SAVE_EVERY lines, at each end of
	                          the file and when a signal ends the run (else
	                          the tool calls ev_state_save at its end) */
	/* the tool's part of the state: load gets the lines after the
	 * checkpoint header (before reading), save writes its lines */
	void (*load)(struct evctx *cx, const char *body, size_t len, void *arg);
	void (*save)(struct evctx *cx, struct wfile *w, void *arg);
	void *arg;
	/* run state */
	struct ckpt ck;
	struct ckpt_reader rd; /* what to skip, the largest seq (checkpoint.h) */
	uint64_t since_save;
};

struct evctx {
	/* common options */
	struct fieldmap fm;
	struct expr_args args;
	const char *errors_path;
	int strict;
	int progress;
	int64_t now;
	int by_offset; /* messages name byte offsets instead of line numbers */

	/* run state */
	int status;            /* largest exit code so far */
	uint64_t events;       /* valid events handed to the tool */
	uint64_t rejected;
	struct wfile *errors;  /* --errors sink, opened at start */
	int stop;              /* stop reading all input: set by the tool, or
	                          by ev_reject under --strict (never reset it
	                          once cx->strict && cx->rejected) */
	const struct ev_event *handed; /* the event the callback is working on */
	struct jdoc doc;       /* the current event's tape */

	/* paths the user wrote, for the missing-path warning */
	struct ev_watch { const struct path *p; const char *opt; } *watch;
	size_t nwatch, capwatch;

	/* input mode of ev_run */
	struct ev_mode {
		struct ev_sorted sorted;
		struct ev_resume resume;
		struct ev_archive archive;
	} mode;

	/* progress */
	uint64_t total_bytes, done_bytes;
	double t0, last_tick;
};

/* One event, as handed to the tool's callback. */
struct ev_event {
	const char *line;  /* the raw line, without its ending */
	size_t len;
	struct jdoc *doc;  /* parsed; token 0 is the object */
	struct input *in;  /* in->label, in->lineno, in->offset */
};

struct ev_tool {
	const char *name;
	const char *synopsis;   /* "[-cqv] [-w expr] ... [file ...]" */
	const char *help;       /* the tool's options, one per line */
	const char *shortopts;  /* getopt letters of the tool (no h, V) */
	const struct option *longopts; /* the tool's; ids >= 1100 or letters */
	/* Handle one tool option; 0 ok, -1 usage error (message printed). */
	int (*option)(int c, const char *arg, void *tool);
};

enum { OPT_COMMON_BASE = 1000, OPT_TOOL_BASE = 1100 };

/* Parse argv; exits on -h, -V and usage errors.  Returns the index of
 * the first operand. */
int ev_parse_args(struct evctx *cx, const struct ev_tool *t, void *tool, int argc, char **argv);
_Noreturn void ev_usage(const struct ev_tool *t);
void ev_raise(struct evctx *cx, int status);

typedef void (*ev_event_fn)(struct evctx *cx, struct ev_event *ev, void *arg);

/*
 * Read the files (none = stdin) in order; every valid event goes to fn,
 * every invalid line is rejected.  An unopenable file is reported and
 * skipped (status 2).  Stops early when fn sets cx->stop.
 */
void ev_run(struct evctx *cx, int nfiles, char **files, ev_event_fn fn, void *arg);
/* Hand one valid event to fn and count it; an ev_reject of it from fn
 * un-counts it, so events + rejected = lines read.  The loops call this;
 * a tool with its own loop must too. */
void ev_hand(struct evctx *cx, struct ev_event *ev, ev_event_fn fn, void *arg);
/* --progress for a tool with its own file loop: begin sums the sizes of
 * the regular files, end prints the final line (ev_run does both). */
void ev_progress_begin(struct evctx *cx, int nfiles, char **files);
void ev_progress_end(struct evctx *cx);
/* Read one opened input through the same loop (for tools that open and
 * position files themselves). */
void ev_run_input(struct evctx *cx, struct input *in, ev_event_fn fn, void *arg);

/* The one step from a line to an event, for every reading loop (ev_run,
 * lib/merge): the next line of in parsed into doc, ev set to it.
 * EV_NEXT_EVENT: ev is a valid JSON object (not yet counted: ev_hand
 * does); EV_NEXT_REJECTED: the line was rejected (counted, reported);
 * EV_NEXT_END: the end of in, or a read error (reported, status 5), or,
 * with defer_torn on a regular file, a last line without its newline
 * (maybe still being written: in is set back to its start, and the next
 * read takes it again, whole). */
enum ev_next { EV_NEXT_END, EV_NEXT_EVENT, EV_NEXT_REJECTED };
enum ev_next ev_next_event(struct evctx *cx, struct input *in, struct jdoc *doc, int defer_torn,
                           struct ev_event *ev);

/* With cx->mode.resume (autosave or not): write the checkpoint now, the
 * position reached and the tool's lines.  Dies (status 5) on failure. */
void ev_state_save(struct evctx *cx);
#define EV_SAVE_EVERY 10000

/* The --progress line for a reading loop of its own (lib/merge): bytes
 * read so far of cx->total_bytes; final ends the line.  The first call
 * starts the clock. */
void ev_progress(struct evctx *cx, uint64_t bytes, int final);

/* Reject the line of ev: "PROG: FILE:LINE: reason" on stderr, a record
 * to --errors, status 3; with --strict it sets cx->stop, so the loop ends
 * after this line and the tool finishes as at the end of its input. */
void ev_reject(struct evctx *cx, const struct ev_event *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A warning about an input line (not a rejection). */
void ev_line_warn(struct evctx *cx, const struct ev_event *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A whole number option value within [lo, hi]: 0, or -1 after a message
 * naming the option (name NULL: no message). */
int ev_int_arg(const char *name, const char *s, int64_t lo, int64_t hi, int64_t *v);
/* A time option value (evtools(7) forms; relative ones against cx->now):
 * 0, or -1 after "PROG: NAME: bad time 'S'". */
int ev_time_arg(const struct evctx *cx, const char *name, const char *s, int64_t *v);

/* A duration option value: 0, or -1 after "PROG: NAME: bad duration 'S'". */
int ev_dur_arg(const char *name, const char *s, int64_t *v);

/*
 * Watch a path the user wrote in option OPT ("-g", "-s", "--key-field"):
 * when at least one event was read and the path was looked up but never
 * resolved (missing, not null), ev_finish warns once
 *   PROG: warning: path 'TEXT' (OPT) matched no event
 * P must stay alive until ev_finish.  Expressions compiled with
 * ev_compile_expr have their paths watched already.
 */
void ev_watch_path(struct evctx *cx, const struct path *p, const char *opt);

/*
 * Output files (evtools(7) Output).  A tool that writes files other than
 * standard output and the appending sinks (-o, --state, a store) calls
 * ev_need_inputs before it creates or opens any of them: when an operand
 * cannot be opened it names each one, says nothing was written, and
 * exits 2.  (A tool writing only to standard output reads the others.)
 */
void ev_need_inputs(struct evctx *cx, int nfiles, char **files);
/* Does the status so far let output files replace the old ones?  Only
 * 0, 1 and 3 do: a failed run leaves the old files as they were. */
int ev_status_commits(const struct evctx *cx);
/* Commit an atomic file (atomic.h) when ev_status_commits, else remove
 * its temporary file; a failed commit exits 5 naming WHAT and the path. */
struct atomic_file;
void ev_commit(struct evctx *cx, struct atomic_file *a, const char *what);

/* Flush stdout and the sinks, warn about watched paths that matched
 * nothing; returns the exit status. */
int ev_finish(struct evctx *cx);

/* An expression compiled with the context's field map, args and now;
 * exits 2 with the error shown when it does not compile. */
struct expr *ev_compile_expr(struct evctx *cx, const char *what, const char *src,
                             const char *const *aliases, size_t naliases);

/* expr_test of a tool's filter on ev: 1 true, 0 false, or -1 when the
 * evaluation failed (a regular expression hit its limit): ev is then
 * rejected with the reason, and the caller must drop it whatever its
 * other options say (-v included).  The expression's warnings name the
 * file and line of ev. */
int ev_expr_test(struct evctx *cx, const struct ev_event *ev, struct expr *e, const struct expr_input *in);

#endif
