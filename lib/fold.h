/*
 * fold.h — the fold engine of evreplay and evsnap: rules that map event
 * types to operations on an aggregate's state, and the per-aggregate
 * state itself.
 *
 * Rules are tried in order, first match wins: those of --rules FILE (a
 * JSON array of ["GLOB","OP"]), then each --rule 'GLOB=OP', then the
 * defaults *Created=create *Deleted=delete *=merge.  OP may be several
 * operations separated by ';' ("inc:pushes; inc:commits=size"), applied
 * in order, all or nothing: when one fails the state is put back as it
 * was before the first (a rule of several operations copies the state
 * before it runs).  Operations:
 *   create             state = payload
 *   merge              shallow update of the state with the payload's keys
 *   patch              RFC 7386 merge patch (nested, null deletes)
 *   delete             state.deleted = true, state.deleted_at = event time
 *   ignore             nothing (the event still counts)
 *   set:PATH=JSON      state at PATH = the JSON value
 *   inc:PATH[=FIELD]   state at PATH += payload FIELD (default 1)
 *   dec:PATH[=FIELD]   state at PATH -= payload FIELD (default 1)
 *   append:PATH[=FIELD] push payload FIELD (default: the payload) to the
 *                      array at PATH
 * An operation that cannot apply (a non-object payload to merge, a
 * non-numeric value to inc) fails with a reason and leaves the state as
 * it was.
 *
 * Guarantees: state is held per aggregate and nothing else (never a copy
 * of the input); values copied from events keep their text; computed
 * numbers are integers while they fit in 64 bits, else shortest doubles.
 * An aggregate is found by its value key (json_value_key: "42" and 42 are
 * two aggregates) in a hash table; rows come out in order of first
 * appearance.  The rule set has a hash (FNV-1a 64 of a canonical text of
 * the rules in order) that snapshots carry, so a snapshot made under other
 * rules is recognised.
 */
#ifndef FOLD_H
#define FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "bmap.h"
#include "cli.h"
#include "expr.h"
#include "jtree.h"
#include "path.h"

enum fold_op { OP_CREATE, OP_MERGE, OP_PATCH, OP_DELETE, OP_IGNORE, OP_SET, OP_INC, OP_DEC,
               OP_APPEND };

struct fold_rule {
	char *glob;       /* as written */
	enum fold_op op;
	struct path path; /* set, inc, dec, append: where in the state */
	struct path field;/* inc, dec, append: payload field (has_field) */
	int has_field;
	char *json;       /* set: the value, compact */
	size_t jsonlen;
	int jsontype;
	char *canon;      /* "OP" in canonical form, for the hash */
	int more;         /* the next rule is this rule's next operation */
};

struct fold_rules {
	struct fold_rule *r;
	size_t n, cap;
	char hash[17];    /* after fold_rules_finish */
	/* event type -> rule index, cached */
	struct bmap tcache;  /* event type -> rule index + 1 (0: none) */
};

/* Add one rule; OP is the operation text ("merge", "set:a.b=1"), or
 * several separated by ';'.  0 ok, -1 with a reason in err. */
int fold_rule_add(struct fold_rules *rs, const char *glob, const char *op, char *err, size_t errlen);
/* "GLOB=OP" as --rule takes it. */
int fold_rule_add_spec(struct fold_rules *rs, const char *spec, char *err, size_t errlen);
/* A --rules file: a JSON array of ["GLOB","OP"] pairs. */
int fold_rules_load(struct fold_rules *rs, const char *file, char *err, size_t errlen);
/* Append the defaults (unless no_defaults) and compute the hash. */
void fold_rules_finish(struct fold_rules *rs, int no_defaults);
/* The rule set the options give, in order: --rules FILE (may be NULL),
 * each --rule SPEC, then the defaults unless no_defaults; finished.
 * 0, or -1 after a message naming the option. */
int fold_rules_build(struct fold_rules *rs, const char *file, const char *const *specs, size_t nspecs,
                     int no_defaults);
/* The first rule whose glob matches type t[0..n), or NULL (its further
 * operations follow it in the array while ->more). */
const struct fold_rule *fold_rules_match(struct fold_rules *rs, const char *t, size_t n);
void fold_rules_free(struct fold_rules *rs);

/* Shell-style glob over bytes: * ? [set] [!set] [a-z], \ quotes. */
int glob_match(const char *pat, size_t pn, const char *s, size_t sn);

struct fold_agg {
	char *key;            /* value-key bytes (json_value_key) */
	uint32_t keylen;
	char *keyjson;        /* the key as compact JSON, for rows */
	uint32_t keyjsonlen;
	struct jt state;
	uint64_t events;      /* events_replayed */
	int64_t version;      /* version of the last event folded */
	int64_t first_at, last_at;
	char *last_id;        /* compact JSON of the last event's id, or NULL */
	uint32_t last_id_len, last_id_cap;
	uint64_t read;        /* events read (the position of version-less ones) */
	int64_t last_ver;     /* largest version field seen, for gap checks */
	int have_last_ver;
	int64_t snap_version; /* from a snapshot: skip events up to it */
	int have_snap;
	int present;          /* has a row: folded an event or came from a snapshot */
	uint64_t since_snap;  /* evsnap --every: events since the last snapshot */
	char keybuf[];        /* key and keyjson live here */
};

/* Which events to fold (evreplay's filters); all optional. */
struct fold_filter {
	char **aggs;          /* --aggregate: string keys */
	size_t naggs;
	char **types;         /* -t: event types (exact) */
	size_t ntypes;
	int have_since, have_until;
	int64_t since, until; /* inclusive; --as-of is an --until */
	int have_to_version;
	int64_t to_version;
	struct expr **where;  /* --where, ANDed */
	size_t nwhere;
};

struct fold {
	struct fold_rules rules;
	struct fieldmap *fm;
	int strict_versions;
	struct fold_filter filter;
	struct jt_ctx jc;
	struct fold_agg **order; /* aggregates with a row, in order of appearance */
	size_t norder, ordercap;
	struct bmap aggmap;   /* value key -> struct fold_agg */
	struct buf key, scratch, idbuf;
	struct buf undo;      /* a rule of several operations: the state before */
	struct jdoc undo_doc;
	/* snapshot loading */
	uint64_t snaps_loaded, snaps_other_rules, snaps_unusable;
};

enum fold_result { FOLD_APPLIED, FOLD_SKIPPED, FOLD_REJECTED };

/* Call after rules and fm are set. */
void fold_init(struct fold *f, struct fieldmap *fm);
void fold_free(struct fold *f);

/*
 * Read one event: check it, number it, filter it, fold it.  Rejections
 * (no key, no type, no time, a bad version, a failing operation, a
 * version out of sequence under strict_versions) go through ev_reject;
 * version warnings through ev_line_warn.  Returns what happened and, for
 * FOLD_APPLIED, the aggregate in *agg.
 */
enum fold_result fold_event(struct fold *f, struct evctx *cx, struct ev_event *ev, struct fold_agg **agg);

/*
 * Read one snapshot record (a line of an evsnap output) into the fold:
 * the aggregate starts from it and later events up to its version are
 * skipped.  Records of other rules, or beyond the filter's --until or
 * --to-version, are counted and not used.  Returns 1 used, 0 not used,
 * -1 rejected (through ev_reject).
 */
int fold_load_snapshot(struct fold *f, struct evctx *cx, struct ev_event *ev);
/* After loading: warn about snapshots not used (what, e.g. the file). */
void fold_snapshot_report(struct fold *f, const char *what);

/* Append the row of an aggregate (no newline); rules adds the snapshot's
 * "rules" member. */
void fold_row(struct fold *f, const struct fold_agg *a, int with_rules, struct buf *out);

#endif
