/*
 * evquery — select events: the query side of CQRS, and log forensics.
 *
 * Every filter is ANDed; -v inverts the filters, never --shard (a
 * partition: the shards of -v X add up to -v X).  Matching events are
 * written byte for byte as read.  The cheap tests (type, key, shard) run
 * before expressions, and none of them copies the line.
 *
 * Over lib it adds the filters, -s columns, -c/-q/-n/--tail and the
 * formats; --sorted, --follow and --state are modes of lib/cli's one
 * loop (the seek, the checkpoint and the polling live there).
 */
#include "cli.h"
#include "ev.h"
#include "jwrite.h"
#include "merge.h"
#include "rows.h"
#include "strset.h"
#include "timeutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_SINCE = OPT_TOOL_BASE, OPT_UNTIL, OPT_CORR, OPT_TRACE, OPT_TAIL,
	OPT_SORTED, OPT_SHARD, OPT_FOLLOW, OPT_STATE
};
enum { OPT_INTERLEAVE = OPT_TOOL_BASE + 40, OPT_LATENESS, OPT_LATE };

static const struct option longopts[] = {
	{ "where", required_argument, NULL, 'w' },
	{ "type", required_argument, NULL, 't' },
	{ "aggregate", required_argument, NULL, 'A' },
	{ "invert", no_argument, NULL, 'v' },
	{ "select", required_argument, NULL, 's' },
	{ "count", no_argument, NULL, 'c' },
	{ "limit", required_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "exit-status", no_argument, NULL, 'e' },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "correlation", required_argument, NULL, OPT_CORR },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "tail", required_argument, NULL, OPT_TAIL },
	ROWS_LONGOPTS,
	ROWS_RAW_LONGOPT,
	{ "sorted", no_argument, NULL, OPT_SORTED },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "interleave", no_argument, NULL, OPT_INTERLEAVE },
	{ "lateness", required_argument, NULL, OPT_LATENESS },
	{ "late", required_argument, NULL, OPT_LATE },
	{ NULL, 0, NULL, 0 }
};

static const char help_text[] =
	"Select events from NDJSON streams; matching events are written as read.\n"
	"  -w, --where EXPR         keep events where EXPR is true (repeatable, ANDed)\n"
	"  -t, --type T[,T...]      keep events of these types\n"
	"  -A, --aggregate ID       keep events whose key is the string ID (repeatable)\n"
	"      --since/--until TIME keep events at or after / at or before TIME\n"
	"      --correlation ID     keep events whose correlation field is ID\n"
	"      --trace EVENT_ID     keep that event and all it caused (causation field)\n"
	"      --shard I/N          keep events whose key hashes to shard I of N\n"
	"  -v, --invert             keep the events that do not match (never --shard)\n"
	"  -s, --select COLUMNS     print columns (PATH, P[], NAME=PATH, NAME=(EXPR))\n"
	"  -r, --raw                print the one -s column's values, one per line\n"
	"  -c, --count              print the number of matching events\n"
	"  -n, --limit N            stop after N matching events\n"
	"      --tail N             print only the last N matching events\n"
	"  -q, --quiet              print nothing; exit 0 at the first match, else 1\n"
	"  -e, --exit-status        exit 1 when nothing matched\n"
	ROWS_HELP
	"      --sorted             files in time order: seek --since, stop after --until\n"
	"      --follow             keep reading the file as it grows (like tail -F)\n"
	"      --state FILE         resume after the last event read, save the position\n"
	"      --interleave         merge time-ordered files into one stream by time\n"
	"                           (--lateness DUR reorders, --late FILE gets the late)\n";

/* One -s column: a path (answers[] gives the list), an envelope field
 * (@id ... @line, @date, @hour) or a computed value NAME=(EXPR). */
enum special { SP_NONE, SP_ID, SP_KEY, SP_TYPE, SP_TIME, SP_PAYLOAD, SP_VERSION, SP_SEQ, SP_LINE,
               SP_DATE, SP_HOUR };
struct col {
	struct path path;
	struct expr *expr;
	enum special sp;
	char *name;
};

struct query {
	/* filters */
	struct expr **where;
	size_t nwhere;
	char **types;
	size_t ntypes;
	char **aggs;
	size_t naggs;
	int have_since, have_until;
	int64_t since, until;
	const char *corr;
	const char *trace;
	int shard, nshards;
	int invert;
	/* output */
	struct col *sel;
	size_t nsel;
	int sel_expr;      /* some -s column is NAME=(EXPR) */
	struct buf cells;  /* the row's cells (select_row) */
	size_t *coff;
	int row_ready;     /* cells hold the current event's row */
	int count, quiet, exit_status, sorted, quiet_output;
	uint64_t limit, tail;
	int have_limit, have_tail;
	int fmt;               /* out.fmt, or RF_RAW with -r */
	struct rowopts out;
	struct rows rows;
	/* state */
	uint64_t matched;
	struct strset traced;
	struct path seq_path;
	struct buf scratch;
	struct kept { char *line; size_t len; uint64_t lineno; } *ring; /* --tail */
	size_t ringcap;
	const char *sel_arg, *since_arg, *until_arg;
	struct buf selbuf; /* the -s options, joined by commas */
	int follow;
	const char *state_path;
	/* --interleave */
	int interleave, have_lateness;
	int64_t lateness;
	const char *late_path;
};

static struct evctx cx;
static const struct jdoc *list_doc; /* the event list_value reads */
static const char *where_src[256];
static size_t nwhere_src;

static int option(int c, const char *arg, void *tool)
{
	struct query *q = tool;
	int64_t n;
	switch (c) {
	case 'w':
		if (nwhere_src == sizeof where_src / sizeof *where_src) {
			ev_warn("too many -w options");
			return -1;
		}
		where_src[nwhere_src++] = arg;
		return 0;
	case 't': {
		size_t from = q->ntypes;
		path_split_list(arg, &q->types, &q->ntypes);
		for (size_t i = from; i < q->ntypes; i++)
			if (!q->types[i][0]) {
				ev_warn("-t: empty type in '%s'", arg);
				return -1;
			}
		return 0;
	}
	case 'A':
		q->aggs = xrealloc(q->aggs, (q->naggs + 1) * sizeof *q->aggs);
		q->aggs[q->naggs++] = xstrdup(arg);
		return 0;
	case 'v': q->invert = 1; return 0;
	case 's': /* repeated: the columns of every -s, in order */
		if (q->selbuf.len)
			buf_addc(&q->selbuf, ',');
		buf_adds(&q->selbuf, arg);
		q->sel_arg = q->selbuf.p;
		return 0;
	case 'c': q->count = 1; return 0;
	case 'q': q->quiet = 1; return 0;
	case 'e': q->exit_status = 1; return 0;
	case 'n':
		if (ev_int_arg("-n", arg, 0, INT64_MAX, &n) < 0)
			return -1;
		q->limit = (uint64_t)n;
		q->have_limit = 1;
		return 0;
	case OPT_TAIL:
		if (ev_int_arg("--tail", arg, 0, INT64_MAX, &n) < 0)
			return -1;
		q->tail = (uint64_t)n;
		q->have_tail = 1;
		return 0;
	case OPT_SINCE: q->since_arg = arg; q->have_since = 1; return 0;
	case OPT_UNTIL: q->until_arg = arg; q->have_until = 1; return 0;
	case OPT_CORR: q->corr = arg; return 0;
	case OPT_TRACE: q->trace = arg; return 0;
	case ROWS_OPT_FORMAT: case ROWS_OPT_NO_HEADER: case ROWS_OPT_COLOR: case 'r':
		return rowopts_option(&q->out, c, arg);
	case OPT_SORTED: q->sorted = 1; return 0;
	case OPT_FOLLOW: q->follow = 1; return 0;
	case OPT_STATE: q->state_path = arg; return 0;
	case OPT_INTERLEAVE: q->interleave = 1; return 0;
	case OPT_LATENESS: q->have_lateness = 1; return merge_lateness_arg("--lateness", arg, &q->lateness);
	case OPT_LATE: q->late_path = arg; return 0;
	case OPT_SHARD: {
		unsigned long long i, n;
		char extra;
		if (sscanf(arg, "%llu/%llu%c", &i, &n, &extra) != 2 || n == 0 || i >= n || n > INT32_MAX) {
			ev_warn("--shard: expected I/N with 0 <= I < N, not '%s'", arg);
			return -1;
		}
		q->shard = (int)i;
		q->nshards = (int)n;
		return 0;
	}
	}
	return -1;
}

/* ---- matching ------------------------------------------------------- */

/* Is token t a string equal to one of list[0..n)? */
static int in_list(struct query *q, const struct jdoc *d, uint32_t t, char **list, size_t n)
{
	if (t == JNONE || d->tok[t].type != J_STR)
		return 0;
	const char *p;
	size_t pn;
	buf_reset(&q->scratch);
	json_str(d, t, &q->scratch, &p, &pn);
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == pn && memcmp(list[i], p, pn) == 0)
			return 1;
	return 0;
}

static int str_is(struct query *q, const struct jdoc *d, uint32_t t, const char *s)
{
	char *one[] = { (char *)s };
	return in_list(q, d, t, one, 1);
}

/* --trace: is this event the traced one or caused by one already seen?
 * Computed for every event, whatever the other filters say, so the
 * closure runs through events the output leaves out. */
static int traced(struct query *q, const struct jdoc *d)
{
	uint32_t id = event_field(d, &cx.fm, F_ID);
	int hit = str_is(q, d, id, q->trace);
	if (!hit) {
		uint32_t cause = event_field(d, &cx.fm, F_CAUSE);
		if (cause != JNONE) {
			buf_reset(&q->scratch);
			json_value_key(d, cause, &q->scratch);
			hit = strset_has(&q->traced, q->scratch.p, q->scratch.len);
		}
	}
	if (hit && id != JNONE) {
		buf_reset(&q->scratch);
		json_value_key(d, id, &q->scratch);
		strset_add(&q->traced, q->scratch.p, q->scratch.len);
	}
	return hit;
}

static int matches(struct query *q, struct ev_event *ev, int64_t t)
{
	const struct jdoc *d = ev->doc;
	int hit = 1;
	if (q->trace && !traced(q, d))
		hit = 0;
	/* a shard is a partition: -v inverts the filters, never the shard */
	if (q->nshards) {
		uint64_t h = json_shard_hash(d, event_field(d, &cx.fm, F_KEY), &q->scratch);
		if (h % (uint64_t)q->nshards != (uint64_t)q->shard)
			return 0;
	}
	if (hit && q->ntypes && !in_list(q, d, event_field(d, &cx.fm, F_TYPE), q->types, q->ntypes))
		hit = 0;
	if (hit && q->naggs && !in_list(q, d, event_field(d, &cx.fm, F_KEY), q->aggs, q->naggs))
		hit = 0;
	if (hit && q->corr && !str_is(q, d, event_field(d, &cx.fm, F_CORR), q->corr))
		hit = 0;
	if (hit && q->have_since && t < q->since)
		hit = 0;
	if (hit && q->have_until && t > q->until)
		hit = 0;
	if (hit && q->nwhere) {
		struct expr_input in = { .doc = d, .line = ev->in->lineno };
		for (size_t i = 0; i < q->nwhere && hit; i++)
			if ((hit = ev_expr_test(&cx, ev, q->where[i], &in)) < 0)
				return 0; /* rejected: neither a match nor, with -v, a miss */
	}
	return hit != q->invert;
}

/* ---- output --------------------------------------------------------- */

/* @id ... @line by the one table of lib/event.h (SP_ID + enum ev_at),
 * and the calendar labels @date and @hour of -s and -g. */
static enum special special_of(const char *s)
{
	if (s[0] != '@')
		return SP_NONE;
	int at = ev_at_find(s + 1, strlen(s + 1));
	if (at >= 0)
		return (enum special)(SP_ID + at);
	return strcmp(s, "@date") == 0 ? SP_DATE : strcmp(s, "@hour") == 0 ? SP_HOUR : SP_NONE;
}

/* path_each: one more element of a -s list */
static void list_value(void *arg, uint32_t t)
{
	struct buf *out = arg;
	if (out->p[out->len - 1] != '[')
		buf_addc(out, ',');
	json_write_compact(list_doc, t, out);
}

/* The JSON text of a selected field into out (nothing for null).  -1
 * when a computed column's evaluation failed (ev, when given, is then
 * rejected with the reason). */
static int select_value(struct query *q, struct col *c, const struct jdoc *d, uint64_t lineno,
                        const struct ev_event *ev, struct buf *out)
{
	uint32_t t = JNONE;
	switch (c->sp) {
	case SP_LINE:
		jw_uint(out, lineno);
		return 0;
	case SP_TIME:
	case SP_DATE:
	case SP_HOUR: {
		int64_t us;
		t = event_field(d, &cx.fm, F_TIME);
		if (t != JNONE && time_of_token(d, t, cx.fm.unit, &us) == 0) {
			char tb[40];
			size_t n = c->sp == SP_TIME ? time_format(us, tb)
			           : c->sp == SP_DATE ? time_format_date(us, tb)
			                              : time_format_hour(us, tb);
			jw_string(out, tb, n);
		}
		return 0; /* missing or unparsable: null */
	}
	case SP_SEQ: t = path_lookup(d, 0, &q->seq_path); break;
	case SP_ID: t = event_field(d, &cx.fm, F_ID); break;
	case SP_KEY: t = event_field(d, &cx.fm, F_KEY); break;
	case SP_TYPE: t = event_field(d, &cx.fm, F_TYPE); break;
	case SP_PAYLOAD: t = event_field(d, &cx.fm, F_PAYLOAD); break;
	case SP_VERSION: t = event_field(d, &cx.fm, F_VERSION); break;
	case SP_NONE:
		if (c->expr) {
			struct expr_input in = { .doc = d, .line = lineno };
			if (expr_eval_json(c->expr, &in, out) < 0) { /* a regex limit: reject, as -w does */
				if (ev)
					ev_reject(&cx, ev, "%s", expr_error_reason(c->expr));
				return -1;
			}
			return 0;
		}
		if (c->path.neach) { /* answers[]: the list, null when missing */
			size_t start = out->len;
			int found;
			buf_addc(out, '[');
			list_doc = d;
			path_each(d, 0, &c->path, list_value, out, &found);
			if (found)
				buf_addc(out, ']');
			else
				out->len = start;
			return 0;
		}
		t = path_lookup(d, 0, &c->path);
		break;
	}
	if (t != JNONE)
		json_write_compact(d, t, out);
	return 0;
}

/* The -s cells of an event into q->cells (offsets in q->coff); -1 when
 * a computed column failed (ev rejected, when given). */
static int select_row(struct query *q, const struct jdoc *d, uint64_t lineno, const struct ev_event *ev)
{
	buf_reset(&q->cells);
	for (size_t i = 0; i < q->nsel; i++) {
		q->coff[i] = q->cells.len;
		if (select_value(q, &q->sel[i], d, lineno, ev, &q->cells) < 0)
			return -1;
	}
	q->coff[q->nsel] = q->cells.len;
	return 0;
}

static void time_cell(const struct jdoc *d, struct buf *out)
{
	uint32_t t = event_field(d, &cx.fm, F_TIME);
	int64_t us;
	if (t != JNONE && time_of_token(d, t, cx.fm.unit, &us) == 0) {
		char tb[40];
		size_t n = time_format(us, tb);
		jw_string(out, tb, n);
	} else if (t != JNONE) {
		json_write_compact(d, t, out);
	}
}

static void emit(struct query *q, const char *line, size_t len, const struct jdoc *d, uint64_t lineno)
{
	if (q->nsel == 0 && (q->fmt == RF_NDJSON || q->fmt == RF_JSON)) {
		rows_record(&q->rows, line, len);
		return;
	}
	struct buf v = {0};
	/* on_event computed the row (a failure rejected the event); --tail
	 * computes it again, as it did then */
	if (q->nsel && !q->row_ready)
		select_row(q, d, lineno, NULL);
	q->row_ready = 0;
	rows_begin(&q->rows);
	if (q->nsel) {
		for (size_t i = 0; i < q->nsel; i++) {
			size_t n = q->coff[i + 1] - q->coff[i];
			rows_cell(&q->rows, n ? q->cells.p + q->coff[i] : NULL, n);
		}
	} else {
		static const enum ev_field cols[] = { F_ID, F_KEY, F_TYPE, F_PAYLOAD };
		buf_reset(&v);
		time_cell(d, &v);
		rows_cell(&q->rows, v.len ? v.p : NULL, v.len);
		/* time, type, key, id, payload; an event without a payload
		 * field (not an envelope: a Zeek or journald line) shows
		 * whole in the last column, rather than as a blank row */
		const enum ev_field order[] = { cols[2], cols[1], cols[0], cols[3] };
		for (int i = 0; i < 4; i++) {
			buf_reset(&v);
			uint32_t t = event_field(d, &cx.fm, order[i]);
			if (t == JNONE && order[i] == F_PAYLOAD)
				t = 0;
			if (t != JNONE)
				json_write_compact(d, t, &v);
			rows_cell(&q->rows, v.len ? v.p : NULL, v.len);
		}
	}
	rows_end(&q->rows);
	buf_free(&v);
}

/* The ring grows with what it holds, up to --tail N lines. */
static void keep_tail(struct query *q, const char *line, size_t len, uint64_t lineno)
{
	size_t slot = (size_t)((q->matched - 1) % q->tail);
	if (slot >= q->ringcap) {
		size_t old = q->ringcap;
		q->ring = xgrow(q->ring, &q->ringcap, slot + 1, sizeof *q->ring);
		memset(q->ring + old, 0, (q->ringcap - old) * sizeof *q->ring);
	}
	struct kept *k = &q->ring[slot];
	free(k->line);
	k->line = xmemdup(line, len);
	k->len = len;
	k->lineno = lineno;
}

static void flush_tail(struct query *q)
{
	if (!q->tail || q->count || q->quiet)
		return;
	uint64_t n = q->matched < q->tail ? q->matched : q->tail;
	struct jdoc d = {0};
	struct jerr err;
	for (uint64_t k = q->matched - n; k < q->matched; k++) {
		struct kept *e = &q->ring[k % q->tail];
		json_parse(&d, e->line, e->len, 0, &err);
		emit(q, e->line, e->len, &d, e->lineno);
	}
	json_doc_free(&d);
}

static void on_event(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct query *q = arg;
	int64_t t = 0;
	if (q->have_since || q->have_until) {
		char why[200];
		if (c->mode.sorted.has_time)
			t = c->mode.sorted.time; /* --sorted read it */
		else if (event_time(ev->doc, &c->fm, &t, why, sizeof why) < 0) {
			ev_reject(c, ev, "%s", why);
			return;
		}
	}
	if (!matches(q, ev, t))
		return;
	/* a computed -s column that fails rejects the event, as -w does */
	if (q->sel_expr && !q->count && !q->quiet) {
		if (select_row(q, ev->doc, ev->in->lineno, ev) < 0)
			return;
		q->row_ready = !q->have_tail;
	}
	q->matched++;
	if (q->quiet) {
		c->stop = 1;
		return;
	}
	if (q->have_tail)
		keep_tail(q, ev->line, ev->len, ev->in->lineno);
	else if (!q->count && !q->quiet_output)
		emit(q, ev->line, ev->len, ev->doc, ev->in->lineno);
	if (q->have_limit && q->matched >= q->limit)
		c->stop = 1;
}

/* ---- --interleave ---------------------------------------------------- */

static void on_merged(struct evctx *c, struct ev_event *ev, int src, int64_t t, void *arg)
{
	(void)src;
	(void)t;
	on_event(c, ev, arg);
}

/*
 * Several time-ordered files as one stream in time order: lib/merge
 * reads them (ties in operand order).  An event older than one before it
 * in its own file is rejected as out of time order; with --lateness or
 * --late, late events (older than that file's latest time - lateness)
 * go to the late sink instead, and the summary line counts them.
 */
static void run_interleaved(struct query *q, int n, char **files)
{
	struct merge m = {0};
	struct latesink late = {0};
	int routed = q->have_lateness || q->late_path;
	if (q->late_path && late_open(&late, q->late_path) < 0)
		ev_die_errno(EV_USAGE, "--late %s", q->late_path);
	if (!q->late_path)
		late_open(&late, NULL);
	merge_open(&m, &cx, n, files);
	m.lateness = q->lateness;
	m.late = routed ? &late : NULL;
	m.event = on_merged;
	m.arg = q;
	merge_run(&m);
	merge_close(&m);
	ev_raise(&cx, late_finish(&late, "left out of the stream"));
}

/*
 * -s: columns by the rule of evtools(7).  A column is named NAME=, an
 * envelope field by its mapped name (@time is "timestamp" by default;
 * @seq and @line are "seq" and "line"), anything else by its text; two
 * columns with one name are a usage error, as they would make a record
 * with a duplicate key.
 */
static void parse_select(struct query *q, const struct ev_tool *tool)
{
	char **items = NULL, err[512];
	size_t n = 0;
	path_split_list(q->sel_arg, &items, &n);
	q->sel = xcalloc(n, sizeof *q->sel);
	for (size_t i = 0; i < n; i++) {
		struct col *c = &q->sel[i];
		const char *body;
		int kind = path_item(items[i], &c->name, &body, err, sizeof err);
		if (kind < 0) {
			ev_warn("-s: %s", err);
			ev_usage(tool);
		}
		if (kind == PATH_ITEM_EXPR) {
			if (!c->name) {
				ev_warn("-s: a computed column needs a name: NAME=%s", body);
				ev_usage(tool);
			}
			c->expr = ev_compile_expr(&cx, "-s", body, NULL, 0);
			q->sel_expr = 1;
		} else if ((c->sp = special_of(body)) != SP_NONE) {
			static const enum ev_field fields[] = { 0, F_ID, F_KEY, F_TYPE, F_TIME, F_PAYLOAD, F_VERSION };
			if (!c->name) /* @seq @line @date @hour: their names */
				c->name = xstrdup(c->sp >= SP_SEQ ? body + 1 : cx.fm.f[fields[c->sp]].text);
		} else {
			if (path_parse_flags(&c->path, body, PATH_EACH, err, sizeof err) < 0) {
				ev_warn("-s: %s", err);
				ev_usage(tool);
			}
			ev_watch_path(&cx, &c->path, "-s");
		}
		if (!c->name)
			c->name = xstrdup(body);
		for (size_t j = 0; j < i; j++)
			if (strcmp(q->sel[j].name, c->name) == 0) {
				ev_warn("-s: two columns named '%s' (name one with NAME=PATH)", c->name);
				ev_usage(tool);
			}
		free(items[i]);
	}
	free(items);
	q->nsel = n;
	q->coff = xcalloc(n + 1, sizeof *q->coff);
}

/* The columns of the output: -s's, or the envelope's for tsv, csv and
 * table (none: ndjson and json write the events themselves). */
static void open_rows(struct query *q, const struct ev_tool *tool)
{
	if (!q->nsel && q->out.raw) {
		ev_warn("-r prints one column: name it with -s");
		ev_usage(tool);
	}
	const char *env[5] = { cx.fm.f[F_TIME].text, cx.fm.f[F_TYPE].text, cx.fm.f[F_KEY].text,
	                       cx.fm.f[F_ID].text, cx.fm.f[F_PAYLOAD].text };
	const char **names = env;
	size_t n = q->fmt == RF_NDJSON || q->fmt == RF_JSON ? 0 : 5;
	if (q->nsel) {
		n = q->nsel;
		names = xcalloc(n, sizeof *names);
		for (size_t i = 0; i < n; i++)
			names[i] = q->sel[i].name;
	}
	if (rows_open(&q->rows, &q->out, n, names) < 0)
		ev_usage(tool);
	if (names != env)
		free(names);
}

int main(int argc, char **argv)
{
	static struct query q;
	static const struct ev_tool tool = {
		"evquery",
		"[-cehqrv] [-w expr] [-s columns] [option ...] [file ...]",
		help_text, "w:t:A:vs:cn:qer", longopts, option
	};
	int ind = ev_parse_args(&cx, &tool, &q, argc, argv);
	if (rowopts_check(&q.out) < 0)
		ev_usage(&tool);
	q.fmt = q.out.raw ? RF_RAW : q.out.fmt;

	/* times relative to now are resolved once --now is known */
	if ((q.have_since && ev_time_arg(&cx, "--since", q.since_arg, &q.since) < 0) ||
	    (q.have_until && ev_time_arg(&cx, "--until", q.until_arg, &q.until) < 0))
		ev_usage(&tool);
	for (size_t i = 0; i < nwhere_src; i++) {
		q.where = xrealloc(q.where, (q.nwhere + 1) * sizeof *q.where);
		q.where[q.nwhere++] = ev_compile_expr(&cx, "-w", where_src[i], NULL, 0);
	}
	char err[256];
	path_parse(&q.seq_path, "seq", err, sizeof err);
	if (q.sel_arg)
		parse_select(&q, &tool);
	if (!q.count && !q.quiet)
		open_rows(&q, &tool);
	if (q.follow && (q.count || q.quiet || q.have_tail || q.sorted || q.fmt == RF_TABLE || q.fmt == RF_JSON)) {
		ev_warn("--follow cannot be combined with -c, -q, --tail, --sorted or --format table or json");
		ev_usage(&tool);
	}
	if (q.interleave && (q.sorted || q.follow || q.state_path)) {
		ev_warn("--interleave cannot be combined with --sorted, --follow or --state");
		ev_usage(&tool);
	}
	if (!q.interleave && (q.have_lateness || q.late_path)) {
		ev_warn("--lateness and --late need --interleave");
		ev_usage(&tool);
	}
	if (q.have_tail) {
		if (q.tail == 0) {
			/* --tail 0 prints nothing, as tail -n 0, and counts 0 */
			q.have_tail = 0;
			q.quiet_output = 1;
		}
	}
	if (q.have_limit && q.limit == 0) {
		/* -n 0: read nothing, print nothing (as head -n 0) */
	} else {
		/* --sorted, --follow and --state are modes of the one loop */
		cx.mode.sorted.on = q.sorted;
		if (!q.invert) { /* with -v the range is what is left out */
			cx.mode.sorted.have_since = q.have_since;
			cx.mode.sorted.since = q.since;
			cx.mode.sorted.have_until = q.have_until;
			cx.mode.sorted.until = q.until;
		}
		cx.mode.resume.path = q.state_path;
		cx.mode.resume.follow = q.follow;
		cx.mode.resume.need_file = 1;
		cx.mode.resume.autosave = 1;
		if (q.interleave)
			run_interleaved(&q, argc - ind, argv + ind);
		else
			ev_run(&cx, argc - ind, argv + ind, on_event, &q);
	}

	if (q.count && !q.quiet) {
		uint64_t n = q.matched;
		if (q.have_tail && n > q.tail)
			n = q.tail;
		if (q.quiet_output)
			n = 0;
		char nb[32];
		int k = snprintf(nb, sizeof nb, "%" PRIu64, n);
		wfile_line(ev_out, nb, (size_t)k);
	} else if (q.have_tail) {
		flush_tail(&q);
	}
	if (!q.count && !q.quiet)
		rows_finish(&q.rows);
	if ((q.exit_status || q.quiet) && q.matched == 0)
		ev_raise(&cx, EV_NOMATCH);
	int status = ev_finish(&cx);
	/* grep's rule: with -q, a match is success whatever else happened */
	return q.quiet && q.matched ? 0 : status;
}
