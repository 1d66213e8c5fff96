/*
 * agg.h — aggregations over groups of events (evproject -a, and the
 * building block of every read model): count, sum, avg, min, max, first,
 * last, distinct, collect, stddev, pN (N from 1 to 99) and median (p50),
 * plus the two that the stats projection needs (a count per value,
 * earliest/latest time).
 *
 * Guarantees:
 * - Sums are exact decimal arithmetic on the numbers' text (a 128-bit
 *   mantissa with up to 18 digits after the point), so the result does not
 *   depend on the order of the values, and merging partial states gives
 *   exactly what one pass gives.  Integers stay integers.  A value with
 *   more digits, or a sum beyond the mantissa's range, switches that state
 *   to double arithmetic (and then the last digit may depend on order).
 * - Numbers are compared exactly, by json_num_cmp on their text (never
 *   through a double): min, max and the percentiles pick a value from the
 *   input and write it as it was written, so 9007199254740993 stays so.
 * - min and max also take times: strings in RFC 3339 / ISO 8601 form
 *   (time_parse_iso; all-digit strings are not times) compare as
 *   instants and the result is written RFC 3339 UTC with microseconds.
 *   A group that holds numbers gives the number, and its time strings
 *   are counted as skipped (aggspec.nonnumeric), whatever the order.
 * - Percentiles are exact, nearest-rank, over every numeric value seen;
 *   distinct holds each distinct value once; collect holds every value.
 *   That is the memory they need; the other kinds hold O(1).
 * - Positions ("pos", an event's seq, or its index in the input) decide
 *   first, last, the order of collect and ties of min/max, so a merge of
 *   shards orders them as the unsharded stream did.
 * - Every state can be written as a "partial" JSON value and merged back
 *   (agg_partial / agg_merge_partial): --partial/--merge and --state.
 *
 * Null and missing values are skipped by every kind but count, first and
 * last (which skip only missing values), collect and distinct (which keep
 * null).  Other non-numbers are skipped by the numeric kinds and counted
 * in aggspec.nonnumeric.
 */
#ifndef AGG_H
#define AGG_H

#include <stddef.h>
#include <stdint.h>

#include "bmap.h"
#include "buf.h"
#include "json.h"
#include "path.h"
#include "strset.h"

/* ---- aggregations ---------------------------------------------------- */

enum agg_kind {
	AG_COUNT, AG_SUM, AG_AVG, AG_MIN, AG_MAX, AG_FIRST, AG_LAST, AG_DISTINCT,
	AG_COLLECT, AG_STDDEV, AG_PCT, /* AG_PCT: pN and median, N in aggspec.pct */
	AG_VALCOUNT, /* {value: count} in order of first appearance (stats) */
	AG_TMIN, AG_TMAX, /* earliest / latest event time, RFC 3339 (stats) */
	AG_NKINDS
};

struct aggspec {
	enum agg_kind kind;
	char *name;        /* column name */
	char *text;        /* "sum:payload.total", for messages */
	char *pathtext;    /* "payload.total", or "(EXPR)" (NULL for count) */
	int pct;           /* AG_PCT: N of pN (median: 50) */
	char pname[4];     /* AG_PCT: "pN", its kind's name */
	uint64_t nonnumeric; /* values skipped as not numbers, this run */
};

/* Parse "[NAME=]KIND[:PATH]" or "[NAME=]KIND:(EXPR)" (the tool compiles
 * the expression; a computed aggregation needs NAME=, and count:(EXPR)
 * counts the events where EXPR is true).  The path is not interpreted
 * here (the tool resolves it, @key and friends included).  0, or -1 with
 * err (an unknown kind lists the known ones). */
int agg_parse(const char *s, struct aggspec *a, char *err, size_t errlen);
void aggspec_free(struct aggspec *a);
/* The default column name of an aggregation written KIND over a column
 * named SRC (evproject(1)): "KIND_" + SRC with every run of characters
 * outside [A-Za-z0-9_] made one '_' and a trailing '_' dropped:
 * sum:payload.total -> sum_payload_total, median:rtt -> median_rtt. */
char *agg_default_name(const char *kind, const char *src);
/* The kind's name: "sum", "p95" (a median is "p50"), "valcount" ... */
const char *agg_kind_name(const struct aggspec *a);

/* An exact decimal: m * 10^-scale, or the double d once inexact. */
struct dec {
	__int128 m;
	int scale;
	int inexact;
	double d;
};

struct aggstate {
	uint64_t n;       /* count; numeric values seen */
	struct dec s, q;  /* sum and sum of squares */
	uint64_t pos;     /* min/max/first/last: the event's position */
	int has;          /* min/max/first/last/tmin/tmax: a value is held */
	int64_t t;        /* tmin/tmax */
	struct buf v;     /* min/max/first/last: value text; collect, percentiles: texts */
	size_t *off;      /* collect: value starts in v */
	uint64_t *vpos;   /* collect: positions */
	struct numtext { size_t off, len; } *nums; /* percentiles: texts in v */
	size_t nv, cap;
	struct strset set;     /* distinct */
	struct bmap map;     /* valcount: key -> index */
	struct valcount { uint64_t count, pos; char *json; size_t n; } *vc;
};

/* What one event gives an aggregation. */
struct agg_in {
	const struct jdoc *d;
	uint32_t t;       /* the value's token, JNONE when missing */
	uint64_t pos;
	int64_t time;     /* tmin/tmax */
	int has_time;
};

void agg_update(struct aggspec *a, struct aggstate *s, const struct agg_in *in, struct buf *scratch);
/* The result as JSON text appended to out. */
void agg_result(const struct aggspec *a, struct aggstate *s, struct buf *out);
/* The partial state as one JSON value appended to out. */
void agg_partial(const struct aggspec *a, const struct aggstate *s, struct buf *out);
/* Merge the partial state at token t of d into s; 0, or -1 with err. */
int agg_merge_partial(const struct aggspec *a, struct aggstate *s, const struct jdoc *d, uint32_t t,
                      char *err, size_t errlen);
/* Merge src into dst (same spec). */
void agg_merge(const struct aggspec *a, struct aggstate *dst, const struct aggstate *src);
void agg_state_free(struct aggstate *s);

/* Does the kind need event positions (pos) or times? */
int agg_needs_pos(enum agg_kind k);

#endif
