/*
 * evreplay — rebuild state: fold each aggregate's events, in input order,
 * into a state, and print one row per aggregate (or, with --history, one
 * row after every event).  Temporal queries are filters on what is
 * folded: --as-of, --since/--until, --to-version, --where.
 *
 * The fold engine (rules, operations, per-aggregate state, snapshots) is
 * lib/fold.c, shared with evsnap, so a snapshot and a replay always agree.
 */
#include "cli.h"
#include "ev.h"
#include "fold.h"
#include "jwrite.h"
#include "rows.h"
#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_RULES = OPT_TOOL_BASE, OPT_RULE, OPT_NO_DEFAULTS, OPT_SINCE, OPT_UNTIL, OPT_AS_OF,
	OPT_TO_VERSION, OPT_SNAPSHOTS, OPT_HISTORY, OPT_STRICT_VERSIONS
};

static const struct option longopts[] = {
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "rule", required_argument, NULL, OPT_RULE },
	{ "no-default-rules", no_argument, NULL, OPT_NO_DEFAULTS },
	{ "aggregate", required_argument, NULL, 'A' },
	{ "where", required_argument, NULL, 'w' },
	{ "type", required_argument, NULL, 't' },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "as-of", required_argument, NULL, OPT_AS_OF },
	{ "to-version", required_argument, NULL, OPT_TO_VERSION },
	{ "snapshots", required_argument, NULL, OPT_SNAPSHOTS },
	{ "history", no_argument, NULL, OPT_HISTORY },
	{ "strict-versions", no_argument, NULL, OPT_STRICT_VERSIONS },
	ROWS_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static const char help_text[] =
	"Fold each aggregate's events into its state; one row per aggregate.\n"
	"      --rules FILE         rules from FILE, a JSON array of [\"GLOB\",\"OP\"]\n"
	"      --rule GLOB=OP[;OP...] one more rule (repeatable; after --rules)\n"
	"      --no-default-rules   drop *Created=create *Deleted=delete *=merge\n"
	"                           OP: create merge patch delete ignore set:PATH=JSON\n"
	"                           inc:PATH[=FIELD] dec:PATH[=FIELD] append:PATH[=FIELD]\n"
	"  -A, --aggregate ID       only the aggregate of string key ID (repeatable)\n"
	"  -w, --where EXPR         fold only events where EXPR is true (repeatable)\n"
	"  -t, --type T[,T...]      fold only the events of these types\n"
	"      --since TIME         fold only events at or after TIME\n"
	"      --until TIME         fold only events at or before TIME\n"
	"      --as-of TIME         the state as it was at TIME (events at or before it)\n"
	"      --to-version N       fold each aggregate's events up to version N\n"
	"      --snapshots FILE     start from evsnap snapshots in FILE\n"
	"      --history            print the state after every event\n"
	"      --strict-versions    reject events whose version is out of sequence\n"
	ROWS_HELP;

struct replay {
	struct fold f;
	const char *rules_file;
	const char **rule_specs;
	size_t nrule_specs;
	int no_defaults;
	const char *since_arg, *until_arg, *as_of_arg, *snapshots;
	const char **where_src;
	size_t nwhere_src;
	int history;
	struct rowopts out;
	struct rows rows;
	struct buf row;
};

static struct evctx cx;

static int option(int c, const char *arg, void *tool)
{
	struct replay *r = tool;
	switch (c) {
	case 'A':
		r->f.filter.aggs = xrealloc(r->f.filter.aggs, (r->f.filter.naggs + 1) * sizeof *r->f.filter.aggs);
		r->f.filter.aggs[r->f.filter.naggs++] = xstrdup(arg);
		return 0;
	case 't': {
		struct fold_filter *fl = &r->f.filter;
		size_t from = fl->ntypes;
		path_split_list(arg, &fl->types, &fl->ntypes);
		for (size_t i = from; i < fl->ntypes; i++)
			if (!fl->types[i][0]) {
				ev_warn("-t: empty type in '%s'", arg);
				return -1;
			}
		return 0;
	}
	case ROWS_OPT_FORMAT:
	case ROWS_OPT_NO_HEADER:
	case ROWS_OPT_COLOR:
		return rowopts_option(&r->out, c, arg);
	case 'w':
		r->where_src = xrealloc(r->where_src, (r->nwhere_src + 1) * sizeof *r->where_src);
		r->where_src[r->nwhere_src++] = arg;
		return 0;
	case OPT_RULES: r->rules_file = arg; return 0;
	case OPT_RULE:
		r->rule_specs = xrealloc(r->rule_specs, (r->nrule_specs + 1) * sizeof *r->rule_specs);
		r->rule_specs[r->nrule_specs++] = arg;
		return 0;
	case OPT_NO_DEFAULTS: r->no_defaults = 1; return 0;
	case OPT_SINCE: r->since_arg = arg; return 0;
	case OPT_UNTIL: r->until_arg = arg; return 0;
	case OPT_AS_OF: r->as_of_arg = arg; return 0;
	case OPT_TO_VERSION:
		if (ev_int_arg("--to-version", arg, INT64_MIN, INT64_MAX, &r->f.filter.to_version) < 0)
			return -1;
		r->f.filter.have_to_version = 1;
		return 0;
	case OPT_SNAPSHOTS: r->snapshots = arg; return 0;
	case OPT_HISTORY: r->history = 1; return 0;
	case OPT_STRICT_VERSIONS: r->f.strict_versions = 1; return 0;
	}
	return -1;
}

static const char *const row_names[] = { "aggregate_id", "version", "state", "events_replayed",
                                         "first_at", "last_at", "last_event_id" };

/* The row's members as cells of lib/rows (the formats other than ndjson). */
static void emit_cells(struct replay *r, const struct fold_agg *a)
{
	struct buf *b = &r->row;
	char tb[40];
	rows_begin(&r->rows);
	rows_cell(&r->rows, a->keyjson, a->keyjsonlen);
	buf_reset(b);
	jw_int(b, a->version);
	rows_cell(&r->rows, b->p, b->len);
	buf_reset(b);
	jt_write(&a->state, b);
	rows_cell(&r->rows, b->p, b->len);
	buf_reset(b);
	jw_uint(b, a->events);
	rows_cell(&r->rows, b->p, b->len);
	int64_t at[2] = { a->first_at, a->last_at };
	for (int i = 0; i < 2; i++) {
		buf_reset(b);
		jw_string(b, tb, time_format(at[i], tb));
		rows_cell(&r->rows, b->p, b->len);
	}
	rows_cell(&r->rows, a->last_id_len ? a->last_id : NULL, a->last_id_len);
	rows_end(&r->rows);
}

static void emit(struct replay *r, const struct fold_agg *a)
{
	if (r->out.fmt != RF_NDJSON && r->out.fmt != RF_JSON) {
		emit_cells(r, a);
		return;
	}
	buf_reset(&r->row);
	fold_row(&r->f, a, 0, &r->row);
	rows_record(&r->rows, r->row.p, r->row.len);
}

static void on_event(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct replay *r = arg;
	struct fold_agg *a;
	if (fold_event(&r->f, c, ev, &a) == FOLD_APPLIED && r->history)
		emit(r, a);
}

static void on_snapshot(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct replay *r = arg;
	fold_load_snapshot(&r->f, c, ev);
}

int main(int argc, char **argv)
{
	static struct replay r;
	static const struct ev_tool tool = {
		"evreplay",
		"[-A id] [-w expr] [-t types] [--rules file] [--rule glob=op] [--no-default-rules] "
		"[--since time] [--until time] [--as-of time] [--to-version N] [--snapshots file] "
		"[--history] [--strict-versions] [--format fmt] [file ...]",
		help_text, "A:w:t:", longopts, option
	};
	int ind = ev_parse_args(&cx, &tool, &r, argc, argv);
	if (rowopts_check(&r.out) < 0)
		ev_usage(&tool);
	if (fold_rules_build(&r.f.rules, r.rules_file, r.rule_specs, r.nrule_specs, r.no_defaults) < 0)
		ev_usage(&tool);
	fold_init(&r.f, &cx.fm);

	struct fold_filter *fl = &r.f.filter;
	if (r.since_arg) {
		if (ev_time_arg(&cx, "--since", r.since_arg, &fl->since) < 0)
			ev_usage(&tool);
		fl->have_since = 1;
	}
	if (r.until_arg) {
		if (ev_time_arg(&cx, "--until", r.until_arg, &fl->until) < 0)
			ev_usage(&tool);
		fl->have_until = 1;
	}
	if (r.as_of_arg) {
		int64_t t;
		if (ev_time_arg(&cx, "--as-of", r.as_of_arg, &t) < 0)
			ev_usage(&tool);
		if (!fl->have_until || t < fl->until)
			fl->until = t;
		fl->have_until = 1;
	}
	for (size_t i = 0; i < r.nwhere_src; i++) {
		fl->where = xrealloc(fl->where, (fl->nwhere + 1) * sizeof *fl->where);
		fl->where[fl->nwhere++] = ev_compile_expr(&cx, "--where", r.where_src[i], NULL, 0);
	}

	if (r.snapshots) {
		struct input in;
		if (input_open(&in, r.snapshots) < 0)
			ev_die_errno(EV_USAGE, "--snapshots %s", r.snapshots);
		ev_run_input(&cx, &in, on_snapshot, &r);
		input_close(&in);
		fold_snapshot_report(&r.f, r.snapshots);
	}
	if (rows_open(&r.rows, &r.out, sizeof row_names / sizeof *row_names, row_names) < 0)
		ev_usage(&tool);
	ev_run(&cx, argc - ind, argv + ind, on_event, &r);
	if (!r.history)
		for (size_t i = 0; i < r.f.norder; i++)
			emit(&r, r.f.order[i]);
	rows_finish(&r.rows);
	int status = ev_finish(&cx); /* before the expressions go: it reads their paths */
	buf_free(&r.row);
	for (size_t i = 0; i < fl->nwhere; i++)
		expr_free(fl->where[i]);
	free(fl->where);
	free(r.where_src);
	for (size_t i = 0; i < fl->naggs; i++)
		free(fl->aggs[i]);
	free(fl->aggs);
	for (size_t i = 0; i < fl->ntypes; i++)
		free(fl->types[i]);
	free(fl->types);
	free(r.rule_specs);
	fold_free(&r.f);
	return status;
}
