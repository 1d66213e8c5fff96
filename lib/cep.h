/*
 * cep.h — complex event processing: the pattern language of evcep(1)
 * and the matching engine.
 *
 * Patterns.  Text:  NAME: STEP -> STEP ... [within DUR] [by PATH[,PATH...]]
 * [=> ACTION[,ACTION...]], a step being [alias=]TYPE[[EXPR]][{n}|{n,m}|+|?]
 * or !TYPE[[EXPR]] (absence); or the JSON form loaded from a file.  Both
 * compile to the same struct cep_pattern; conditions are expressions
 * (expr.h) in which a step's alias names the event bound to it.
 *
 * (The language is lib/cep_pattern.c, the engine lib/cep.c.)
 *
 * Engine.  Per pattern and key (the `by` values, or the key field), a
 * small array of runs (partial matches) in start order.  A run is a
 * deterministic NFA position: the step it last bound an event to, how
 * many events that step holds, and which absences have been seen since.
 * An event goes through every run of its key (relaxed contiguity: what
 * fits no step is skipped), then may start a run.  Each run's deadline
 * (first.time + within) sits in the keyed heap (keyed.h), so expiry,
 * trailing absences, quantified last steps and --max-partials all pop
 * the same heap; per event the cost is one hash lookup per pattern whose
 * steps the event's type fits, plus the runs of that key.  No list of
 * events is ever scanned: a run keeps only the events it bound.
 *
 * Time.  Events are processed in event-time order: with a lateness L an
 * event is held in a reorder heap until the watermark (largest time -
 * L) reaches it; an event older than the watermark is late and goes to
 * the late sink.  Deadlines fire when the time being processed passes
 * them (strictly: an event exactly at a deadline still counts).
 *
 * The engine writes the records DESIGN fixes (matches, partials, command
 * records) through the caller's emit callback; sagas can sit on the same
 * keyed table and watermark later.
 */
#ifndef CEP_H
#define CEP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "expr.h"
#include "heap.h"
#include "json.h"
#include "keyed.h"
#include "path.h"
#include "window.h"

#define CEP_MAX_STEPS 64
#define CEP_UNBOUNDED UINT32_MAX

struct cep_step {
	char *alias;       /* NULL: none */
	char *type;        /* NULL: any type ("*") */
	size_t tlen;       /* strlen(type), set by cep_init */
	int may_fail;      /* the condition has a regex (set by cep_init) */
	int own_only;      /* the condition names no alias but the step's own (cep_init) */
	int glob;          /* type holds * or ? */
	char *where_src;   /* the condition as written; NULL: none */
	struct expr *where;
	uint64_t uses;     /* aliases (by index) the condition names */
	uint32_t min, max; /* max CEP_UNBOUNDED for + */
	int absent;
	int quantified;    /* written with {n}, {n,m}, + or ? */
};

struct cep_pattern {
	char *name;
	char *text;          /* as written (-p), or "FILE: pattern N" */
	struct cep_step *steps;
	size_t nsteps;
	int64_t within;      /* -1: none (a one-event pattern) */
	struct path *by;     /* the `by` paths; nby 0: the key field */
	size_t nby;
	char **actions;
	size_t nactions;
	/* derived */
	const char **aliases; /* the distinct aliases, for expr_env */
	size_t naliases;
	int *alias_step;      /* alias index -> step index */
	int *step_alias;      /* step index -> alias index or -1 */
	int last_pos;         /* the last positive step */
	int trailing;         /* absences after the last positive step */
	int any_type;         /* some step takes any type */
	int single;           /* one step, no quantifier: no run needed */
	uint64_t own_steps;   /* steps whose condition reads only their own
	                         event (cep_init) */
	uint64_t cont_steps;  /* steps a run already started can take */
};

struct cep_error {
	size_t column;      /* 1-based byte column in the text; 0: none */
	char msg[300];
};

/* Compile a -p pattern.  NULL with err filled (err->column points into
 * src). */
struct cep_pattern *cep_parse(const char *src, const struct expr_env *env, struct cep_error *err);
/* Load a JSON pattern file (one object or an array).  0 and the patterns
 * appended to *pats, or -1 after a message on stderr naming the file,
 * and for syntax errors its line and column. */
int cep_load_file(const char *path, const struct expr_env *env, struct cep_pattern ***pats, size_t *npats);
void cep_pattern_free(struct cep_pattern *p);

enum cep_skip { CEP_SKIP_PAST_LAST, CEP_SKIP_NEXT, CEP_SKIP_NONE };

struct cep_opts {
	enum cep_skip skip;
	int eof_flush;       /* --eof flush */
	int partials;        /* --partials */
	int ids;             /* --ids */
	uint64_t max_partials; /* 0: no cap */
	int64_t lateness;
	const struct fieldmap *fm;
	/* where records go: one complete line, without its newline */
	void (*emit)(void *arg, const char *line, size_t len);
	void *arg;
	struct latesink *late;
	/* Another engine on the same stream (evcep's sagas, saga.h), or
	 * NULL: hook_event gets every event as it is processed (after the
	 * patterns' deadlines its time passed, before its pattern records)
	 * and returns 1 when it rejected the event (the patterns then skip
	 * it); hook_time gets the watermark when --lateness moves it. */
	int (*hook_event)(void *arg, const char *line, size_t len, const struct jdoc *d, int64_t t);
	void (*hook_time)(void *arg, int64_t wm);
	void *hook_arg;
	int saved;           /* --state: runs are saved, with their events */
};

struct cep_run;
struct cep_key;

struct cep {
	struct cep_pattern **pat;
	size_t npat;
	struct cep_opts o;
	struct keyed k;         /* (pattern, key) -> struct cep_key */
	uint64_t seq;           /* events processed (their processing order) */
	uint64_t rseq;          /* runs started */
	uint64_t nruns;         /* runs alive */
	uint64_t matches;       /* match and command records written */
	uint64_t overflow;      /* runs dropped by --max-partials */
	uint64_t late;
	int64_t maxt;           /* largest time read */
	int have_time;
	/* reorder heap for --lateness */
	struct heap held;       /* struct cep_held *, by time then seq */
	uint64_t hseq;
	uint64_t proc_hseq;     /* the event being processed: its hold number
	                           (hseq), or UINT64_MAX when it was not held */
	uint64_t fit;           /* the steps of the pattern at hand that the event's type fits */
	int may_fail;           /* some condition has a regex */
	int lean;               /* runs keep only event ids (see cep_init) */
	const char *why;        /* why cep_event returned -1 */
	/* scratch */
	struct buf key, out, str, tmp, tbuf, idtext;
	struct jdoc adoc[CEP_MAX_STEPS];
	struct jdoc rdoc, idoc;
	const struct jdoc *aptr[CEP_MAX_STEPS];
	struct cep_run **done;
	size_t ndone, capdone;
	struct cep_run **spare; /* finished runs kept for reuse */
	size_t nspare;
	struct { struct cep_key *head, *tail; } idle; /* keys without runs still in k, longest idle first */
	struct bmap types;      /* event type (bmap_quickhash) -> v[0]: its place in tmasks + 1 */
	uint64_t *tmasks;       /* npat per type: the steps the type fits */
	size_t captmasks;
	uint64_t *tmask_none;   /* the same for an event without a string type */
	uint64_t *tmask_tmp;    /* beyond CEP_TYPES types */
	size_t nidle;
	uint32_t *ktok;          /* the key's tokens in the event at hand */
	size_t capktok;
};

void cep_init(struct cep *c, struct cep_pattern **pat, size_t npat, const struct cep_opts *o);

/*
 * One valid event (d parsed from line) with event time t.  Returns 1 when
 * it is late (written to the late sink, counted); -1 when it must be
 * rejected with the reason c->why: a step condition with a regular
 * expression, tried on the event as the candidate of each step whose
 * type it fits (other aliases unbound), hit its limit; the event then
 * moves no watermark and reaches no pattern.  Else 0; with a lateness it
 * may be held and processed later.
 */
int cep_event(struct cep *c, const char *line, size_t len, const struct jdoc *d, int64_t t);

/*
 * End of input.  keep (a --state run without --flush): nothing more is
 * released, runs and held events stay for cep_save.  Otherwise held
 * events are processed, then runs that wait only for their deadline are
 * emitted (--eof flush) or dropped, and the open ones listed as "eof"
 * partials under --partials.
 */
void cep_end(struct cep *c, int keep);

/* --state: write the engine's lines (after the caller's header). */
void cep_save(struct cep *c, struct buf *b, void (*line)(void *arg, const char *p, size_t n), void *arg);
/* One line written by cep_save: 0, or -1 with err. */
int cep_load_line(struct cep *c, const struct jdoc *d, char *err, size_t errlen);

void cep_free(struct cep *c);

#endif
