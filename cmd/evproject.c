/*
 * evproject — projections and read models in one streaming pass.
 *
 * What it adds over lib: the -g group columns (paths, @fields, @date and
 * @hour labels, NAME=(EXPR)) and their composite key (strset.h
 * json_key_part: "42" and 42 are different groups), one set of -a
 * aggregation states (lib/agg) per group or per window, fed by paths,
 * envelope names or expressions (eval_event computes them all before any
 * state changes, so a failing expression rejects the event whole); a -g
 * path with [] puts the event in one group per value (place_each), the
 * rows
 * (--sort, --top, --format through lib/rows, or --partial rows and their
 * --merge), and what its --state holds.  Window assignment, session
 * merging, the watermark, the close queue and the late sink are
 * lib/window's: rows come out in order of each group's first event, or,
 * with windows, as windows close.
 * --state keeps the groups between runs: the input position, the
 * checkpoint file and the deferred half-written last line are lib/cli's
 * resumable mode, which calls state_load and state_save for our lines.
 *
 * The hot path is a parse, a path lookup per group column, a hash lookup
 * and the aggregation updates: no allocation per event once a group
 * exists.
 */
#include "agg.h"
#include "checkpoint.h"
#include "cli.h"
#include "ev.h"
#include "jwrite.h"
#include "rows.h"
#include "strset.h"
#include "timeutil.h"
#include "window.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	OPT_SORT = OPT_TOOL_BASE, OPT_TOP, OPT_WINDOW, OPT_LATENESS, OPT_LATE, OPT_EMIT,
	OPT_STATE, OPT_FLUSH, OPT_PARTIAL, OPT_MERGE
};

static const struct option longopts[] = {
	{ "projection", required_argument, NULL, 'p' },
	{ "group-by", required_argument, NULL, 'g' },
	{ "agg", required_argument, NULL, 'a' },
	{ "where", required_argument, NULL, 'w' },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "top", required_argument, NULL, OPT_TOP },
	ROWS_LONGOPTS,
	ROWS_RAW_LONGOPT,
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "lateness", required_argument, NULL, OPT_LATENESS },
	{ "late", required_argument, NULL, OPT_LATE },
	{ "emit", required_argument, NULL, OPT_EMIT },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "flush", no_argument, NULL, OPT_FLUSH },
	{ "partial", no_argument, NULL, OPT_PARTIAL },
	{ "merge", no_argument, NULL, OPT_MERGE },
	{ NULL, 0, NULL, 0 }
};

static const char help_text[] =
	"Compute projections (grouped aggregations) over NDJSON event streams.\n"
	"  -p, --projection NAME    by-type, by-aggregate, by-date or stats\n"
	"  -g, --group-by KEYS      group by these paths (comma-separated; @type @key\n"
	"                           @date @hour @seq @line too; NAME=PATH, NAME=(EXPR);\n"
	"                           P[] makes each element a group)\n"
	"  -a, --agg [NAME=]AGG     count, sum:P, avg:P, min:P, max:P, first:P, last:P,\n"
	"                           distinct:P, collect:P, stddev:P, pN:P, median:P;\n"
	"                           NAME=AGG:(EXPR), NAME=count:(EXPR) (repeatable)\n"
	"  -w, --where EXPR         only events where EXPR is true (repeatable, ANDed)\n"
	"      --sort [-]COL        order rows by COL, - for descending (repeatable)\n"
	"      --top N              print only the first N rows\n"
	ROWS_HELP
	"  -r, --raw                print the one column's values, one per line\n"
	"      --window SPEC        tumbling:DUR, hopping:DUR/STEP or session:GAP\n"
	"      --lateness DUR|inf   stream, waiting DUR for out-of-order events\n"
	"      --late FILE          append late events to FILE\n"
	"      --emit WHEN          final (default): a row when a window closes; update\n"
	"      --state FILE         resume from FILE and save the state there\n"
	"      --flush              with --state: also emit windows still open\n"
	"      --partial            write mergeable partial rows\n"
	"      --merge              read partial rows and write the combined rows\n";

/* ---- what the user asked for ------------------------------------------ */

/* GC_EACH: a path with [] (each value is a group of its own); GC_LINE:
 * @line. */
enum gkind { GC_PATH, GC_FIELD, GC_DATE, GC_HOUR, GC_EXPR, GC_EACH, GC_LINE };

/* Tokens of one event (the values of a path with []). */
struct toks {
	uint32_t *t;
	size_t n, cap;
};

struct gcol {
	enum gkind kind;
	enum ev_field field;
	struct path path;
	char *name;
	/* GC_EXPR: NAME=(EXPR), its text; GC_EXPR and GC_LINE: the current
	 * event's value */
	const char *src;
	struct expr *expr;
	struct buf val;
	struct jdoc vdoc;
	struct toks each; /* GC_EACH: the current event's values */
	int nowatch;      /* @seq: not a path the user wrote */
};

/* Where an aggregation's values come from. */
enum akind {
	AS_NONE,  /* count */
	AS_PATH,  /* a path (with [] : every value) */
	AS_FIELD, /* @id @key ... */
	AS_LINE, AS_DATE, AS_HOUR, /* made per event into vdoc */
	AS_EXPR,  /* NAME=KIND:(EXPR): its value, in vdoc */
	AS_COUNTIF /* NAME=count:(EXPR): counts where EXPR is true */
};

struct asrc {
	enum akind kind;
	int field; /* AS_FIELD: an ev_field */
	struct path path;
	struct expr *expr;
	struct buf val;
	struct jdoc vdoc;
	int yes;          /* AS_COUNTIF: the current event counts */
	struct toks each; /* AS_PATH with []: the current event's values */
};

struct sortkey {
	size_t col;
	int desc;
};

/* A window (or, without --window, a group): its bounds and place in the
 * window table (lib/window), its group cells and the aggregation states. */
struct win {
	struct wnode n;   /* first: the table's pointer is the window */
	char *cells;      /* the group values' JSON texts, back to back */
	uint32_t *coff;   /* ncol + 1 offsets into cells */
	struct sgroup *sg;
	struct aggstate st[];
};

/* Session windows of one group. */
struct sgroup {
	char *cells;
	uint32_t *coff;
	struct sessions ss; /* lib/window: open sessions, end of the last closed */
};

struct proj {
	struct winiter wit;    /* tumbling, hopping: the windows of the event at hand */
	/* options */
	const char *projection;
	char **gargs;
	size_t ngargs;
	char **aargs;
	size_t naargs;
	const char *where_src[256];
	size_t nwhere;
	struct expr **where;
	char **sortargs;
	size_t nsortargs;
	uint64_t top;
	int have_top;
	struct rowopts out;
	const char *window_arg, *lateness_arg, *late_path, *state_path;
	int emit_update, flush, partial, merge;

	/* the projection */
	struct gcol *col;
	size_t ncol;
	size_t each_cols;  /* -g paths with [] */
	struct aggspec *agg;
	struct asrc *asrc;
	size_t nagg;
	int need_time;    /* a time is required (windows, @date, @hour) */
	int want_time;    /* a time is used when present (stats) */
	int need_pos;
	struct winspec ws;
	struct watermark wm;
	struct latesink late;
	struct sortkey *sort;
	size_t nsort;
	size_t nout;      /* output columns */
	char **outnames;
	struct rows rows;

	/* state */
	struct wtable wt;  /* windows (or groups) by key, their ends queued */
	uint64_t nev;      /* events seen (positions when there is no seq) */
	int noseq;         /* some position is an event's index in its part
	                      (it had no seq), or came from such a row */
	uint64_t partly_late; /* late events counted in some of their groups */
	int lines_merged;  /* --merge joined rows of one group with such
	                      positions, for first, last or collect */
	uint64_t emitted;
	struct buf key, scratch, cell, line;
	uint32_t *tok;     /* per column: the value's token */
	char (*label)[16]; /* per column: @date/@hour labels */
	uint32_t *atok;

	char *fingerprint; /* --state: the options it was saved under */

	/* held rows (--sort) */
	struct held { char *data; size_t *off; uint64_t n; } *held;
	size_t nheld, capheld;
};

static struct evctx cx;

static void push_arg(char ***list, size_t *n, const char *s)
{
	*list = xrealloc(*list, (*n + 1) * sizeof **list);
	(*list)[(*n)++] = xstrdup(s);
}

static int option(int c, const char *arg, void *tool)
{
	struct proj *P = tool;
	int64_t n;
	switch (c) {
	case 'a': push_arg(&P->aargs, &P->naargs, arg); return 0;
	case 'g': push_arg(&P->gargs, &P->ngargs, arg); return 0;
	case 'p': P->projection = arg; return 0;
	case 'w':
		if (P->nwhere == sizeof P->where_src / sizeof *P->where_src) {
			ev_warn("too many --where options");
			return -1;
		}
		P->where_src[P->nwhere++] = arg;
		return 0;
	case OPT_EMIT:
		if (!strcmp(arg, "final"))
			P->emit_update = 0;
		else if (!strcmp(arg, "update"))
			P->emit_update = 1;
		else {
			ev_warn("--emit: expected final or update, not '%s'", arg);
			return -1;
		}
		return 0;
	case OPT_FLUSH: P->flush = 1; return 0;
	case ROWS_OPT_FORMAT: case ROWS_OPT_NO_HEADER: case ROWS_OPT_COLOR: case 'r':
		return rowopts_option(&P->out, c, arg);
	case OPT_LATE: P->late_path = arg; return 0;
	case OPT_LATENESS: P->lateness_arg = arg; return 0;
	case OPT_MERGE: P->merge = 1; return 0;
	case OPT_PARTIAL: P->partial = 1; return 0;
	case OPT_SORT: push_arg(&P->sortargs, &P->nsortargs, arg); return 0;
	case OPT_STATE: P->state_path = arg; return 0;
	case OPT_TOP:
		if (ev_int_arg("--top", arg, 0, INT64_MAX, &n) < 0)
			return -1;
		P->top = (uint64_t)n;
		P->have_top = 1;
		return 0;
	case OPT_WINDOW: P->window_arg = arg; return 0;
	}
	return -1;
}

/* ---- setting up ---------------------------------------------------------- */

/* The mapped field of @id ... @version (the one table of lib/event.h,
 * whose first entries are the enum ev_field), or -1. */
static int field_of(const char *s)
{
	int at = s[0] == '@' ? ev_at_find(s + 1, strlen(s + 1)) : -1;
	return at >= 0 && at < F_NFIELDS ? at : -1;
}

/* One -g item: a path, @name, NAME=PATH, NAME=@name or NAME=(EXPR). */
static void add_col(struct proj *P, const char *item, const struct ev_tool *t)
{
	char *name, err[256];
	const char *s;
	if (path_item(item, &name, &s, err, sizeof err) < 0) {
		ev_warn("-g: %s", err);
		ev_usage(t);
	}
	if (!*s) {
		ev_warn("-g: empty path in '%s'", item);
		ev_usage(t);
	}
	P->col = xrealloc(P->col, (P->ncol + 1) * sizeof *P->col);
	struct gcol *g = &P->col[P->ncol++];
	memset(g, 0, sizeof *g);
	int f = field_of(s);
	if (!strcmp(s, "@date") || !strcmp(s, "@hour")) {
		g->kind = s[1] == 'd' ? GC_DATE : GC_HOUR;
		g->name = xstrdup(s + 1);
		P->need_time = 1;
	} else if (!strcmp(s, "@seq")) {
		g->kind = GC_PATH; /* the envelope's seq: no field mapping */
		path_parse(&g->path, "seq", err, sizeof err);
		g->name = xstrdup("seq");
		g->nowatch = 1;
	} else if (!strcmp(s, "@line")) {
		g->kind = GC_LINE;
		g->name = xstrdup("line");
	} else if (f >= 0) {
		g->kind = GC_FIELD;
		g->field = (enum ev_field)f;
		g->name = xstrdup(cx.fm.f[f].text);
	} else if (s[0] == '@') {
		ev_warn("-g: unknown name '%s' (@type @key @date @hour @id @time @payload @version @seq @line)", s);
		ev_usage(t);
	} else if (s[0] == '(') {
		if (!name) {
			ev_warn("-g: a computed group key needs a name: NAME=%s", s);
			ev_usage(t);
		}
		g->kind = GC_EXPR;
		g->src = s;
		g->expr = ev_compile_expr(&cx, "-g", s, NULL, 0);
	} else {
		g->kind = GC_PATH;
		if (path_parse_flags(&g->path, s, PATH_EACH, err, sizeof err) < 0) {
			ev_warn("-g: %s", err);
			ev_usage(t);
		}
		if (g->path.neach) {
			g->kind = GC_EACH;
			P->each_cols++;
		}
		g->name = xstrdup(s);
	}
	if (name) {
		free(g->name);
		g->name = name;
	}
}

/* The column name of an envelope name in -a (as in -s and -g), or NULL. */
static const char *special_name(const char *s)
{
	int f = field_of(s);
	if (f >= 0)
		return cx.fm.f[f].text;
	if (!strcmp(s, "@date") || !strcmp(s, "@hour") || !strcmp(s, "@seq") || !strcmp(s, "@line"))
		return s + 1;
	return NULL;
}

static void add_agg(struct proj *P, const char *s, const char *name, const struct ev_tool *t)
{
	char err[256];
	P->agg = xrealloc(P->agg, (P->nagg + 1) * sizeof *P->agg);
	P->asrc = xrealloc(P->asrc, (P->nagg + 1) * sizeof *P->asrc);
	struct aggspec *a = &P->agg[P->nagg];
	struct asrc *src = &P->asrc[P->nagg];
	memset(src, 0, sizeof *src);
	if (agg_parse(s, a, err, sizeof err) < 0) {
		ev_warn("-a: %s", err);
		ev_usage(t);
	}
	P->nagg++;
	if (name) {
		free(a->name);
		a->name = xstrdup(name);
	}
	const char *pt = a->pathtext;
	const char *sn = pt ? special_name(pt) : NULL;
	/* min/max of the mapped time field is min/max of @time: every value
	 * read by the time rules (epoch numbers too), named by its text */
	int timefield = pt && (a->kind == AG_MIN || a->kind == AG_MAX) && !strcmp(pt, cx.fm.f[F_TIME].text);
	if (!pt) {
		src->kind = AS_NONE;
	} else if (pt[0] == '(') {
		/* compiled in setup, once P->asrc no longer moves */
		src->kind = a->kind == AG_COUNT ? AS_COUNTIF : AS_EXPR;
	} else if (sn || timefield) {
		int f = timefield ? F_TIME : field_of(pt);
		if (sn && !name && !strchr(s, '=')) { /* @time -> timestamp, or the mapped name */
			char kind[16];
			snprintf(kind, sizeof kind, "%.*s", (int)(strchr(a->text, ':') - a->text), a->text);
			free(a->name);
			a->name = agg_default_name(kind, sn);
		}
		if (f >= 0) {
			src->kind = AS_FIELD;
			src->field = f;
			if (f == F_TIME && (a->kind == AG_MIN || a->kind == AG_MAX)) {
				a->kind = a->kind == AG_MIN ? AG_TMIN : AG_TMAX; /* RFC 3339 */
				P->want_time = 1;
			}
		} else if (!strcmp(pt, "@seq")) {
			src->kind = AS_PATH;
			path_parse(&src->path, "seq", err, sizeof err);
		} else {
			src->kind = pt[1] == 'l' ? AS_LINE : pt[1] == 'd' ? AS_DATE : AS_HOUR;
			if (src->kind != AS_LINE)
				P->need_time = 1;
		}
	} else if (pt[0] == '@') {
		ev_warn("-a: unknown name '%s' in '%s' (@type @key @date @hour @id @time @payload @version @seq @line)",
		        pt, s);
		ev_usage(t);
	} else {
		src->kind = AS_PATH;
		if (path_parse_flags(&src->path, pt, PATH_EACH, err, sizeof err) < 0) {
			ev_warn("-a: %s", err);
			ev_usage(t);
		}
	}
	if (agg_needs_pos(a->kind))
		P->need_pos = 1;
}

static void split_commas(const char *s, void (*fn)(struct proj *, const char *, const struct ev_tool *),
                         struct proj *P, const struct ev_tool *t)
{
	char **list = NULL;
	size_t n = 0;
	path_split_list(s, &list, &n);
	for (size_t i = 0; i < n; i++) {
		if (!*list[i]) {
			ev_warn("-g: empty path in '%s'", s);
			ev_usage(t);
		}
		fn(P, list[i], t);
		free(list[i]);
	}
	free(list);
}

static void setup(struct proj *P, const struct ev_tool *t)
{
	char err[256];
	if (P->projection) {
		if (P->ngargs || P->naargs) {
			ev_warn("-p cannot be combined with -g or -a");
			ev_usage(t);
		}
		const char *p = P->projection;
		if (!strcmp(p, "by-type") || !strcmp(p, "by-aggregate") || !strcmp(p, "by-date")) {
			add_col(P, p[3] == 't' ? "@type" : p[3] == 'a' ? "@key" : "@date", t);
			add_agg(P, "count", NULL, t);
		} else if (!strcmp(p, "stats")) {
			add_agg(P, "count", "total_events", t);
			add_agg(P, "first:@type", "event_types", t);
			P->agg[1].kind = AG_VALCOUNT;
			add_agg(P, "distinct:@key", "aggregates_affected", t);
			add_agg(P, "first:@time", "first_at", t);
			P->agg[3].kind = AG_TMIN;
			add_agg(P, "first:@time", "last_at", t);
			P->agg[4].kind = AG_TMAX;
			P->want_time = 1;
			P->need_pos = 1;
		} else {
			ev_warn("-p: expected by-type, by-aggregate, by-date or stats, not '%s'", p);
			ev_usage(t);
		}
	} else {
		for (size_t i = 0; i < P->ngargs; i++)
			split_commas(P->gargs[i], add_col, P, t);
		for (size_t i = 0; i < P->naargs; i++)
			add_agg(P, P->aargs[i], NULL, t);
		if (!P->nagg)
			add_agg(P, "count", NULL, t);
	}
	if (P->window_arg) {
		if (winspec_parse(P->window_arg, &P->ws, err, sizeof err) < 0) {
			ev_warn("--window: %s", err);
			ev_usage(t);
		}
		P->need_time = 1;
		P->need_pos = 1;
	}
	if (P->lateness_arg) {
		if (!P->window_arg) {
			ev_warn("--lateness needs --window");
			ev_usage(t);
		}
		if (wm_lateness_parse(&P->wm, P->lateness_arg) < 0) {
			ev_warn("--lateness: bad duration '%s' (a duration such as 30s or 5m, or inf)",
			        P->lateness_arg);
			ev_usage(t);
		}
	}
	if (P->late_path && !P->window_arg) {
		ev_warn("--late needs --window");
		ev_usage(t);
	}
	if (P->partial && P->merge) {
		ev_warn("--partial and --merge cannot be combined");
		ev_usage(t);
	}
	if (P->merge && P->nwhere) {
		ev_warn("--where does not apply to --merge (filter the partial runs)");
		ev_usage(t);
	}
	if (P->state_path && (P->partial || P->merge)) {
		ev_warn("--state cannot be combined with --partial or --merge");
		ev_usage(t);
	}
	if (P->flush && !P->state_path) {
		ev_warn("--flush needs --state");
		ev_usage(t);
	}
	if (rowopts_check(&P->out) < 0)
		ev_usage(t);
	if (P->partial && (P->out.fmt != RF_NDJSON || P->out.raw || P->nsortargs || P->have_top || P->emit_update)) {
		ev_warn("--partial writes partial rows: no --format, -r, --sort, --top or --emit update");
		ev_usage(t);
	}
	if (P->emit_update && (P->nsortargs || P->have_top)) {
		ev_warn("--emit update cannot be combined with --sort or --top");
		ev_usage(t);
	}
	if (P->partial || P->merge || P->state_path)
		P->need_pos = 1;

	/* output columns, and name clashes */
	P->nout = P->ncol + (P->window_arg ? 2 : 0) + P->nagg;
	P->outnames = xcalloc(P->nout, sizeof *P->outnames);
	size_t k = 0;
	for (size_t i = 0; i < P->ncol; i++)
		P->outnames[k++] = P->col[i].name;
	if (P->window_arg) {
		P->outnames[k++] = "window_start";
		P->outnames[k++] = "window_end";
	}
	for (size_t i = 0; i < P->nagg; i++)
		P->outnames[k++] = P->agg[i].name;
	for (size_t i = 0; i < P->nout; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(P->outnames[i], P->outnames[j])) {
				ev_warn("column name '%s' used twice (name an aggregation with NAME=AGG)",
				        P->outnames[i]);
				ev_usage(t);
			}
	for (size_t i = 0; i < P->nsortargs; i++) {
		const char *s = P->sortargs[i];
		int desc = s[0] == '-';
		if (desc)
			s++;
		size_t c = P->nout;
		for (size_t j = 0; j < P->nout; j++)
			if (!strcmp(P->outnames[j], s))
				c = j;
		if (c == P->nout) {
			ev_warn("--sort: no column '%s'", s);
			ev_usage(t);
		}
		P->sort = xrealloc(P->sort, (P->nsort + 1) * sizeof *P->sort);
		P->sort[P->nsort].col = c;
		P->sort[P->nsort++].desc = desc;
	}
	/* P->col and P->asrc no longer move: watch the paths the user wrote */
	for (size_t i = 0; i < P->ncol; i++)
		if ((P->col[i].kind == GC_PATH || P->col[i].kind == GC_EACH) && !P->col[i].nowatch)
			ev_watch_path(&cx, &P->col[i].path, "-g");
	for (size_t i = 0; i < P->nagg; i++) {
		struct asrc *a = &P->asrc[i];
		if (a->kind == AS_PATH && strcmp(P->agg[i].pathtext, "@seq"))
			ev_watch_path(&cx, &a->path, "-a");
		else if (a->kind == AS_EXPR || a->kind == AS_COUNTIF)
			a->expr = ev_compile_expr(&cx, "-a", P->agg[i].pathtext, NULL, 0);
	}
	for (size_t i = 0; i < P->nwhere; i++) {
		P->where = xrealloc(P->where, (i + 1) * sizeof *P->where);
		P->where[i] = ev_compile_expr(&cx, "--where", P->where_src[i], NULL, 0);
	}
	buf_reserve(&P->key, 64); /* never a NULL pointer, even for an empty key */
	buf_reserve(&P->cell, 64);
	P->tok = xcalloc(P->ncol + 1, sizeof *P->tok);
	P->label = xcalloc(P->ncol + 1, sizeof *P->label);
	P->atok = xcalloc(P->nagg + 1, sizeof *P->atok);
	if (!P->partial && rows_open(&P->rows, &P->out, P->nout, (const char *const *)P->outnames) < 0)
		ev_usage(t);
	if (P->late_path && late_open(&P->late, P->late_path) < 0)
		ev_die_errno(EV_USAGE, "--late %s", P->late_path);
	if (!P->late_path)
		late_open(&P->late, NULL);
}

/* What a state was made with: a state made under other options is refused. */
static char *fingerprint(struct proj *P)
{
	struct buf b = {0};
	buf_adds(&b, "g=");
	for (size_t i = 0; i < P->ncol; i++)
		buf_printf(&b, "%s%s%s%s", i ? "," : "", P->col[i].name, P->col[i].src ? "=" : "",
		           P->col[i].src ? P->col[i].src : "");
	buf_adds(&b, " a=");
	for (size_t i = 0; i < P->nagg; i++)
		buf_printf(&b, "%s%s=%s/%s", i ? "," : "", P->agg[i].name, agg_kind_name(&P->agg[i]),
		           P->agg[i].pathtext ? P->agg[i].pathtext : "");
	buf_printf(&b, " window=%s lateness=%s", P->window_arg ? P->window_arg : "",
	           P->lateness_arg ? P->lateness_arg : "0");
	for (size_t i = 0; i < P->nwhere; i++)
		buf_printf(&b, " where=%s", P->where_src[i]);
	for (int f = 0; f < F_NFIELDS; f++)
		buf_printf(&b, " %s=%s", fieldmap_option((enum ev_field)f), cx.fm.f[f].text);
	buf_printf(&b, " unit=%d", (int)cx.fm.unit);
	for (size_t i = 0; i < P->ncol; i++)
		if (P->col[i].kind == GC_DATE || P->col[i].kind == GC_HOUR) {
			/* the zone of --tz, never the environment's TZ; written as
			 * states saved before time_tz() have it ("" for UTC) */
			const char *tz = time_tz();
			buf_printf(&b, " tz=%s%s", strcmp(tz, "UTC") ? ":" : "", strcmp(tz, "UTC") ? tz : "");
			break;
		}
	return b.p;
}

/* ---- windows and groups --------------------------------------------------- */

static struct win *win_alloc(struct proj *P, const char *cells, size_t clen, const uint32_t *coff)
{
	struct win *w = xcalloc(1, sizeof *w + P->nagg * sizeof(struct aggstate));
	w->cells = xmemdup(cells, clen);
	w->coff = xmalloc((P->ncol + 1) * sizeof *w->coff);
	memcpy(w->coff, coff, (P->ncol + 1) * sizeof *w->coff);
	return w;
}

static void win_free(struct proj *P, struct win *w)
{
	for (size_t i = 0; i < P->nagg; i++)
		agg_state_free(&w->st[i]);
	free(w->cells);
	free(w->coff);
	free(w);
}

/* The map key of a tumbling/hopping window: the group key, then its
 * bounds (near the ends of the time range two windows may share one). */
static void window_key(struct proj *P, int64_t start, int64_t end)
{
	buf_add(&P->key, &start, sizeof start);
	buf_add(&P->key, &end, sizeof end);
}

/* The session group with the current key (P->key), made when new. */
static struct kentry *sgroup_get(struct proj *P, const char *cells, size_t clen, const uint32_t *coff)
{
	struct kentry *e = keyed_get(&P->wt.k, P->key.p, P->key.len, NULL);
	if (!e->val) {
		struct sgroup *g = xcalloc(1, sizeof *g);
		g->cells = xmemdup(cells, clen);
		g->coff = xmalloc((P->ncol + 1) * sizeof *g->coff);
		memcpy(g->coff, coff, (P->ncol + 1) * sizeof *g->coff);
		e->val = g;
	}
	return e;
}

/* lib/window merges two sessions that an event bridges: fold the states. */
static void session_merge(void *arg, struct wnode *into, struct wnode *from)
{
	struct proj *P = arg;
	struct win *a = (struct win *)into, *b = (struct win *)from;
	for (size_t k = 0; k < P->nagg; k++)
		agg_merge(&P->agg[k], &a->st[k], &b->st[k]);
	wtab_remove(&P->wt, from, 0);
	win_free(P, b);
}

/* A new session of group ge at [start, end). */
static struct win *session_new(struct proj *P, struct kentry *ge, int64_t start, int64_t end, uint64_t pos)
{
	struct sgroup *g = ge->val;
	struct win *w = win_alloc(P, g->cells, g->coff[P->ncol], g->coff);
	w->sg = g;
	w->n.start = start;
	w->n.end = end;
	w->n.pos = pos;
	session_add(&g->ss, &w->n);
	wtab_add(&P->wt, ge, &w->n);
	return w;
}

/* ---- output ------------------------------------------------------------- */

static int json_rank(const char *p, size_t n)
{
	if (!n || p[0] == 'n')
		return 0;
	if (p[0] == 'f')
		return 1;
	if (p[0] == 't')
		return 2;
	if (p[0] == '"')
		return 4;
	if (p[0] == '[')
		return 5;
	if (p[0] == '{')
		return 6;
	return 3;
}

/* jq's order: null < false < true < numbers < strings < arrays < objects */
static int cell_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int ra = json_rank(a, an), rb = json_rank(b, bn);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra == 3)
		return json_num_cmp(a, an, b, bn);
	if (ra == 4) {
		struct buf x = {0}, y = {0};
		json_unescape(a + 1, an - 2, &x);
		json_unescape(b + 1, bn - 2, &y);
		size_t m = x.len < y.len ? x.len : y.len;
		int c = m ? memcmp(x.p, y.p, m) : 0;
		if (!c)
			c = x.len < y.len ? -1 : x.len > y.len;
		buf_free(&x);
		buf_free(&y);
		return c;
	}
	size_t m = an < bn ? an : bn;
	int c = memcmp(a, b, m);
	return c ? c : an < bn ? -1 : an > bn;
}

static struct proj *sort_P;

static int held_cmp(const void *pa, const void *pb)
{
	const struct held *a = pa, *b = pb;
	for (size_t i = 0; i < sort_P->nsort; i++) {
		size_t c = sort_P->sort[i].col;
		int r = cell_cmp(a->data + a->off[c], a->off[c + 1] - a->off[c], b->data + b->off[c],
		                 b->off[c + 1] - b->off[c]);
		if (r)
			return sort_P->sort[i].desc ? -r : r;
	}
	return a->n < b->n ? -1 : a->n > b->n; /* stable */
}

/* One output row from the cells in P->line (offsets in off). */
static void put_row(struct proj *P, const size_t *off)
{
	if (P->nsort) {
		P->held = xgrow(P->held, &P->capheld, P->nheld + 1, sizeof *P->held);
		struct held *h = &P->held[P->nheld];
		h->data = xmemdup(P->line.p, P->line.len);
		h->off = xmalloc((P->nout + 1) * sizeof *h->off);
		memcpy(h->off, off, (P->nout + 1) * sizeof *h->off);
		h->n = P->nheld++;
		return;
	}
	if (P->have_top && P->emitted >= P->top)
		return;
	P->emitted++;
	rows_begin(&P->rows);
	for (size_t i = 0; i < P->nout; i++)
		rows_cell(&P->rows, P->line.p + off[i], off[i + 1] - off[i]);
	rows_end(&P->rows);
}

static void time_cell(int64_t us, struct buf *out)
{
	char tb[40];
	size_t n = time_format(us, tb);
	jw_string(out, tb, n);
}

static void emit_row(struct proj *P, struct win *w)
{
	size_t *off = xmalloc((P->nout + 1) * sizeof *off);
	size_t k = 0;
	buf_reset(&P->line);
	for (size_t i = 0; i < P->ncol; i++) {
		off[k++] = P->line.len;
		buf_add(&P->line, w->cells + w->coff[i], w->coff[i + 1] - w->coff[i]);
	}
	if (P->window_arg) {
		off[k++] = P->line.len;
		time_cell(w->n.start, &P->line);
		off[k++] = P->line.len;
		time_cell(w->n.end, &P->line);
	}
	for (size_t i = 0; i < P->nagg; i++) {
		off[k++] = P->line.len;
		agg_result(&P->agg[i], &w->st[i], &P->line);
	}
	off[k] = P->line.len;
	put_row(P, off);
	free(off);
}

/* A partial row: everything a merge (or a later run) needs. */
static void partial_line(struct proj *P, struct win *w, struct buf *b)
{
	buf_reset(b);
	buf_adds(b, "{\"partial\":\"evproject\",\"group\":[");
	for (size_t i = 0; i < P->ncol; i++) {
		if (i)
			buf_addc(b, ',');
		buf_add(b, w->cells + w->coff[i], w->coff[i + 1] - w->coff[i]);
	}
	buf_addc(b, ']');
	if (P->window_arg) {
		buf_adds(b, ",\"window\":[");
		jw_int(b, w->n.start);
		buf_addc(b, ',');
		jw_int(b, w->n.end);
		buf_addc(b, ']');
	}
	buf_adds(b, ",\"pos\":");
	jw_uint(b, w->n.pos);
	if (P->noseq) /* positions are line numbers within this part */
		buf_adds(b, ",\"lines\":true");
	buf_adds(b, ",\"aggs\":[");
	for (size_t i = 0; i < P->nagg; i++) {
		if (i)
			buf_addc(b, ',');
		agg_partial(&P->agg[i], &w->st[i], b);
	}
	buf_adds(b, "]}");
}

static void emit(struct proj *P, struct win *w)
{
	if (P->partial) {
		partial_line(P, w, &P->line);
		wfile_line(ev_out, P->line.p, P->line.len);
		P->emitted++;
	} else {
		emit_row(P, w);
	}
}

static int close_cmp(const void *pa, const void *pb)
{
	const struct win *a = *(struct win *const *)pa, *b = *(struct win *const *)pb;
	if (a->n.end != b->n.end)
		return a->n.end < b->n.end ? -1 : 1;
	if (a->n.start != b->n.start)
		return a->n.start < b->n.start ? -1 : 1;
	return a->n.pos < b->n.pos ? -1 : a->n.pos > b->n.pos;
}

/* Forget a window (emitted, or flushed). */
static void win_drop(struct proj *P, struct win *w)
{
	if (P->ws.kind == WIN_SESSION)
		session_closed(&w->sg->ss, &w->n);
	wtab_remove(&P->wt, &w->n, P->ws.kind != WIN_SESSION);
	win_free(P, w);
}

/* Emit (unless update mode did already) and drop the windows in list. */
static void emit_batch(struct proj *P, struct win **list, size_t n, int sorted_by_end)
{
	if (sorted_by_end)
		qsort(list, n, sizeof *list, close_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!P->emit_update)
			emit(P, list[i]);
		win_drop(P, list[i]);
	}
}

/* Close every window the watermark has passed. */
static void close_windows(struct proj *P)
{
	struct win **list = NULL;
	size_t n = 0, cap = 0;
	struct wnode *w;
	while ((w = wtab_next_closed(&P->wt, &P->wm))) {
		list = xgrow(list, &cap, n + 1, sizeof *list);
		list[n++] = (struct win *)w;
	}
	if (n) {
		emit_batch(P, list, n, 1);
		if (!P->nsort)
			wfile_flush(ev_out); /* a closed window is news: do not sit on it */
	}
	free(list);
}

/* ---- events --------------------------------------------------------------- */

/* The group key of the current event into P->key; the tokens in P->tok. */
static void group_key(struct proj *P, const struct jdoc *d, int64_t t)
{
	buf_reset(&P->key);
	for (size_t i = 0; i < P->ncol; i++) {
		struct gcol *g = &P->col[i];
		if (g->kind == GC_DATE || g->kind == GC_HOUR) {
			if (g->kind == GC_DATE)
				time_format_date(t, P->label[i]);
			else
				time_format_hour(t, P->label[i]);
			json_key_part_str(P->label[i], strlen(P->label[i]), &P->key);
		} else if (g->kind == GC_EXPR || g->kind == GC_LINE) {
			json_key_part(&g->vdoc, 0, &P->key); /* made by eval_event */
		} else if (g->kind == GC_EACH) {
			json_key_part(d, P->tok[i], &P->key); /* the combination's value */
		} else {
			P->tok[i] = g->kind == GC_FIELD ? event_field(d, &cx.fm, g->field) : path_lookup(d, 0, &g->path);
			json_key_part(d, P->tok[i], &P->key);
		}
	}
}

/* The cells of the current event's group into P->cell, offsets in coff. */
static void group_cells(struct proj *P, const struct jdoc *d, uint32_t *coff)
{
	buf_reset(&P->cell);
	for (size_t i = 0; i < P->ncol; i++) {
		coff[i] = (uint32_t)P->cell.len;
		struct gcol *g = &P->col[i];
		if (g->kind == GC_DATE || g->kind == GC_HOUR)
			jw_cstring(&P->cell, P->label[i]);
		else if (g->kind == GC_EXPR || g->kind == GC_LINE)
			buf_add(&P->cell, g->val.p, g->val.len);
		else if (P->tok[i] == JNONE)
			buf_adds(&P->cell, "null");
		else
			json_write_compact(d, P->tok[i], &P->cell);
	}
	coff[P->ncol] = (uint32_t)P->cell.len;
}

static void update(struct proj *P, struct win *w, const struct agg_in *base)
{
	struct agg_in in = *base;
	for (size_t i = 0; i < P->nagg; i++) {
		struct asrc *s = &P->asrc[i];
		switch (s->kind) {
		case AS_COUNTIF:
			if (s->yes)
				agg_update(&P->agg[i], &w->st[i], &in, &P->scratch);
			continue;
		case AS_EXPR:
		case AS_LINE:
		case AS_DATE:
		case AS_HOUR:
			in.d = &s->vdoc;
			in.t = 0;
			break;
		case AS_PATH:
			if (s->path.neach) { /* every value: each one an update */
				for (size_t k = 0; k < s->each.n; k++) {
					in.t = s->each.t[k];
					agg_update(&P->agg[i], &w->st[i], &in, &P->scratch);
				}
				continue;
			}
			/* fall through */
		default:
			in.d = base->d;
			in.t = P->atok[i];
			break;
		}
		agg_update(&P->agg[i], &w->st[i], &in, &P->scratch);
		in.d = base->d;
	}
	if (P->emit_update) {
		emit(P, w);
		if (P->ws.kind != WIN_NONE)
			wfile_flush(ev_out);
	}
}

/* Find or make the window with the current key (P->key); a new one takes
 * its cells from event d, or, when d is NULL, from P->cell as they are.
 * (--merge closes nothing before the end: no queue.) */
static struct win *keyed_win(struct proj *P, const struct jdoc *d, uint32_t *coff, uint64_t pos,
                             int64_t start, int64_t end)
{
	int created;
	struct kentry *e = keyed_get(&P->wt.k, P->key.p, P->key.len, &created);
	if (!created)
		return e->val;
	if (d)
		group_cells(P, d, coff);
	struct win *w = win_alloc(P, P->cell.p ? P->cell.p : "", P->cell.len, coff);
	w->n.start = start;
	w->n.end = end;
	w->n.pos = pos;
	e->val = w;
	wtab_add(&P->wt, e, &w->n);
	if (P->ws.kind != WIN_NONE && !P->merge)
		wtab_schedule(&P->wt, &P->wm, &w->n);
	return w;
}

static uint64_t event_pos(struct proj *P, const struct jdoc *d)
{
	int64_t seq;
	if (event_seq(d, &seq))
		return (uint64_t)seq;
	P->noseq = 1;
	return P->nev;
}

/* path_each: one more value into a struct toks */
static void toks_push(void *arg, uint32_t t)
{
	struct toks *k = arg;
	k->t = xgrow(k->t, &k->cap, k->n + 1, sizeof *k->t);
	k->t[k->n++] = t;
}

/* JSON text into val, parsed into vdoc (a value made per event). */
static void made_value(struct buf *val, struct jdoc *vdoc, const char *what)
{
	struct jerr jerr;
	if (json_parse(vdoc, val->p, val->len, JSON_ANY, &jerr) < 0)
		ev_die(EV_IO, "%s: bad value %.*s: %s", what, (int)val->len, val->p, jerr.msg);
}

/* A label of event time t (@date, @hour) into val. */
static void label_value(struct buf *val, int is_date, int64_t t)
{
	char lb[16];
	if (is_date)
		time_format_date(t, lb);
	else
		time_format_hour(t, lb);
	jw_cstring(val, lb);
}

/*
 * Everything the event gives before any state changes: computed keys and
 * aggregation values (an evaluation that fails rejects the event, as
 * --where does: -1), @line and time labels, the values of paths with [],
 * and the other aggregation inputs (P->atok).
 */
static int eval_event(struct proj *P, struct evctx *c, struct ev_event *ev, int64_t t)
{
	const struct jdoc *d = ev->doc;
	struct expr_input in = { .doc = d, .line = ev->in->lineno };
	for (size_t i = 0; i < P->ncol; i++) {
		struct gcol *g = &P->col[i];
		if (g->kind == GC_EXPR) {
			buf_reset(&g->val);
			if (expr_eval_json(g->expr, &in, &g->val) < 0) { /* a regex limit */
				ev_reject(c, ev, "%s", expr_error_reason(g->expr));
				return -1;
			}
			made_value(&g->val, &g->vdoc, "-g");
		} else if (g->kind == GC_LINE) {
			buf_reset(&g->val);
			jw_uint(&g->val, ev->in->lineno);
			made_value(&g->val, &g->vdoc, "-g");
		} else if (g->kind == GC_EACH) {
			g->each.n = 0;
			path_each(d, 0, &g->path, toks_push, &g->each, NULL);
		}
	}
	for (size_t i = 0; i < P->nagg; i++) {
		struct asrc *s = &P->asrc[i];
		P->atok[i] = JNONE;
		switch (s->kind) {
		case AS_NONE:
			break;
		case AS_COUNTIF:
			if ((s->yes = ev_expr_test(c, ev, s->expr, &in)) < 0)
				return -1; /* rejected */
			break;
		case AS_EXPR:
			buf_reset(&s->val);
			if (expr_eval_json(s->expr, &in, &s->val) < 0) {
				ev_reject(c, ev, "%s", expr_error_reason(s->expr));
				return -1;
			}
			made_value(&s->val, &s->vdoc, "-a");
			break;
		case AS_LINE:
		case AS_DATE:
		case AS_HOUR:
			buf_reset(&s->val);
			if (s->kind == AS_LINE)
				jw_uint(&s->val, ev->in->lineno);
			else
				label_value(&s->val, s->kind == AS_DATE, t);
			made_value(&s->val, &s->vdoc, "-a");
			break;
		case AS_FIELD:
			P->atok[i] = event_field(d, &cx.fm, (enum ev_field)s->field);
			break;
		case AS_PATH:
			if (s->path.neach) {
				s->each.n = 0;
				path_each(d, 0, &s->path, toks_push, &s->each, NULL);
			} else {
				P->atok[i] = path_lookup(d, 0, &s->path);
			}
			break;
		}
	}
	return 0;
}

/* The current group (P->key, P->tok) gets the event: in its window(s).
 * 1 when the event was late for it. */
static int place(struct proj *P, const struct jdoc *d, const struct agg_in *in, int64_t t, uint64_t pos)
{
	uint32_t coff[P->ncol + 1];
	switch (P->ws.kind) {
	case WIN_NONE:
		update(P, keyed_win(P, d, coff, pos, 0, 0), in);
		return 0;
	case WIN_TUMBLING:
	case WIN_HOPPING: {
		struct winiter it = P->wit; /* on_event's, for this event's time */
		int64_t start, end;
		size_t klen = P->key.len;
		while (window_next(&it, &start, &end)) {
			P->key.len = klen;
			window_key(P, start, end);
			update(P, keyed_win(P, d, coff, pos, start, end), in);
		}
		return 0;
	}
	case WIN_SESSION: {
		group_cells(P, d, coff);
		struct kentry *ge = sgroup_get(P, P->cell.p ? P->cell.p : "", P->cell.len, coff);
		struct sgroup *g = ge->val;
		int late;
		struct wnode *n = session_assign(&g->ss, &P->ws, &P->wm, t, pos, session_merge, P, &late);
		if (late)
			return 1;
		struct win *w = n ? (struct win *)n : session_new(P, ge, t, time_add_sat(t, P->ws.gap), pos);
		wtab_schedule(&P->wt, &P->wm, &w->n);
		update(P, w, in);
		return 0;
	}
	}
	return 0;
}

static int place_each(struct proj *P, struct ev_event *ev, const struct agg_in *in, int64_t t, uint64_t pos);

static void on_event(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct proj *P = arg;
	const struct jdoc *d = ev->doc;
	int64_t t = 0;
	int has_time = 0;
	P->nev++;
	if (P->need_time || P->want_time) {
		char why[200];
		has_time = event_time(d, &c->fm, &t, why, sizeof why) == 0;
		if (!has_time && P->need_time) {
			ev_reject(c, ev, "%s", why);
			return;
		}
	}
	if (P->nwhere) {
		struct expr_input in = { .doc = d, .line = ev->in->lineno };
		for (size_t i = 0; i < P->nwhere; i++)
			if (ev_expr_test(c, ev, P->where[i], &in) <= 0)
				return;
	}
	if (eval_event(P, c, ev, t) < 0)
		return;
	uint64_t pos = P->need_pos ? event_pos(P, d) : 0;
	struct agg_in in = { d, JNONE, pos, t, has_time };
	if ((P->ws.kind == WIN_TUMBLING || P->ws.kind == WIN_HOPPING)) {
		/* the windows of t, once: the late check here, place() below */
		window_iter(&P->ws, t, &P->wit);
		if (wm_closed(&P->wm, window_iter_first_end(&P->wit))) {
			late_write(&P->late, ev->line, ev->len);
			return;
		}
	}
	if (!P->each_cols) { /* one group */
		group_key(P, d, t);
		if (place(P, d, &in, t, pos)) {
			late_write(&P->late, ev->line, ev->len);
			return;
		}
	} else if (place_each(P, ev, &in, t, pos) < 0) {
		return;
	}
	if (P->ws.kind != WIN_NONE) {
		wm_observe(&P->wm, t);
		close_windows(P);
	}
}

/* Every combination of the values of the -g paths with [] is a group
 * (none: the null group), in order, duplicates kept; -1 when the event
 * was late for every one. */
static int place_each(struct proj *P, struct ev_event *ev, const struct agg_in *in, int64_t t, uint64_t pos)
{
	const struct jdoc *d = ev->doc;
	size_t idx[P->ncol + 1];
	int late = 0, placed = 0;
	memset(idx, 0, sizeof idx);
	for (;;) {
		for (size_t i = 0; i < P->ncol; i++)
			if (P->col[i].kind == GC_EACH)
				P->tok[i] = P->col[i].each.n ? P->col[i].each.t[idx[i]] : JNONE;
		group_key(P, d, t);
		if (place(P, d, in, t, pos))
			late = 1;
		else
			placed = 1;
		int more = 0;
		for (size_t i = P->ncol; i-- > 0;) { /* the next one, the last column fastest */
			struct gcol *g = &P->col[i];
			if (g->kind != GC_EACH)
				continue;
			if (++idx[i] < g->each.n) {
				more = 1;
				break;
			}
			idx[i] = 0;
		}
		if (!more)
			break;
	}
	if (late) { /* late for one of its groups (sessions): written once */
		late_write(&P->late, ev->line, ev->len);
		if (placed)
			P->partly_late++;
	}
	return placed ? 0 : -1;
}

/* ---- partial rows in (--merge, --state) -------------------------------------- */

/* The group key (P->key) and cells (P->cell, offsets in coff) of a saved
 * group: the JSON array grp of its values; how many it has. */
static size_t group_of_array(struct proj *P, const struct jdoc *d, uint32_t grp, uint32_t *coff)
{
	buf_reset(&P->key);
	buf_reset(&P->cell);
	size_t n = json_composite_key(d, grp, P->ncol, &P->key, &P->cell, coff);
	coff[P->ncol] = (uint32_t)P->cell.len;
	return n;
}

static int absorb(struct proj *P, const struct jdoc *d, char *err, size_t errlen)
{
	uint32_t tag = json_get(d, 0, "partial", 7), grp = json_get(d, 0, "group", 5),
	         win = json_get(d, 0, "window", 6), posk = json_get(d, 0, "pos", 3),
	         aggs = json_get(d, 0, "aggs", 4);
	int64_t iv, start = 0, end = 0;
	if (tag == JNONE || grp == JNONE || d->tok[grp].type != J_ARR || aggs == JNONE ||
	    d->tok[aggs].type != J_ARR || json_tok_int(d, posk, 0, INT64_MAX, &iv) < 0) {
		snprintf(err, errlen, "not an evproject partial row");
		return -1;
	}
	uint64_t pos = (uint64_t)iv;
	if (json_count(d, grp) != P->ncol || json_count(d, aggs) != P->nagg) {
		snprintf(err, errlen, "partial row has %zu group values and %zu aggregations, expected %zu and %zu",
		         json_count(d, grp), json_count(d, aggs), P->ncol, P->nagg);
		return -1;
	}
	if ((win != JNONE) != (P->ws.kind != WIN_NONE)) {
		snprintf(err, errlen, "partial row %s a window, but --window %s given", win != JNONE ? "has" : "lacks",
		         P->ws.kind != WIN_NONE ? "is" : "is not");
		return -1;
	}
	if (win != JNONE) {
		uint32_t a = json_index(d, win, 0), b = json_index(d, win, 1);
		if (json_tok_int(d, a, INT64_MIN, INT64_MAX, &start) < 0 ||
		    json_tok_int(d, b, INT64_MIN, INT64_MAX, &end) < 0) {
			snprintf(err, errlen, "bad window in partial row");
			return -1;
		}
	}
	uint32_t lk = json_get(d, 0, "lines", 5);
	if (lk != JNONE && d->tok[lk].type == J_TRUE)
		P->noseq = 1;
	uint32_t coff[P->ncol + 1];
	group_of_array(P, d, grp, coff);
	struct win *w;
	int joined;
	if (P->ws.kind == WIN_SESSION) {
		struct kentry *ge = sgroup_get(P, P->cell.p ? P->cell.p : "", P->cell.len, coff);
		struct sgroup *g = ge->val;
		/* overlapping sessions from other shards are one session */
		struct wnode *into = session_join(&g->ss, start, end, pos, session_merge, P);
		joined = into != NULL;
		w = into ? (struct win *)into : session_new(P, ge, start, end, pos);
		if (!P->merge)
			wtab_schedule(&P->wt, &P->wm, &w->n);
	} else {
		if (P->ws.kind != WIN_NONE)
			window_key(P, start, end);
		joined = keyed_find(&P->wt.k, P->key.p, P->key.len) != NULL;
		w = keyed_win(P, NULL, coff, pos, start, end);
		if (pos < w->n.pos)
			w->n.pos = pos;
	}
	for (size_t k = 0; k < P->nagg; k++) {
		enum agg_kind kd = P->agg[k].kind;
		if (P->merge && joined && P->noseq && (kd == AG_FIRST || kd == AG_LAST || kd == AG_COLLECT))
			P->lines_merged = 1;
		if (agg_merge_partial(&P->agg[k], &w->st[k], d, json_index(d, aggs, (size_t)k), err, errlen) < 0)
			return -1;
	}
	return 0;
}

static void on_partial(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct proj *P = arg;
	char err[300];
	if (absorb(P, ev->doc, err, sizeof err) < 0) {
		ev_reject(c, ev, "%s", err);
	}
}

/* ---- the end ---------------------------------------------------------------- */

struct pw { struct win *w; size_t i; };

static int pw_cmp(const void *pa, const void *pb)
{
	const struct pw *a = pa, *b = pb;
	if (a->w->n.pos != b->w->n.pos)
		return a->w->n.pos < b->w->n.pos ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Order groups by their first event's position, stably. */
static void sort_by_pos(struct win **list, size_t n)
{
	struct pw *a = xmalloc((n + 1) * sizeof *a);
	for (size_t i = 0; i < n; i++) {
		a[i].w = list[i];
		a[i].i = i;
	}
	qsort(a, n, sizeof *a, pw_cmp);
	for (size_t i = 0; i < n; i++)
		list[i] = a[i].w;
	free(a);
}

/* Emit what is left: every group, or every open window (oldest end first). */
static void finish_rows(struct proj *P, int keep)
{
	if (P->lines_merged)
		ev_warn("warning: --merge: a group is in several parts and its positions are line numbers "
		        "within each part (its events had no seq), so first, last and collect across the parts "
		        "follow those numbers, not the order of the stream; give the events a seq before "
		        "splitting (evwrite does), or split by key (evquery --shard)");
	size_t n = 0;
	for (struct wnode *w = P->wt.head; w; w = w->next)
		n++;
	struct win **list = xmalloc((n + 1) * sizeof *list);
	n = 0;
	for (struct wnode *w = P->wt.head; w; w = w->next)
		list[n++] = (struct win *)w;
	if (P->merge && P->ws.kind == WIN_NONE)
		sort_by_pos(list, n);
	if (P->ws.kind == WIN_NONE) {
		if (!P->emit_update || P->merge)
			for (size_t i = 0; i < n; i++)
				emit(P, list[i]);
		if (!n && !P->ncol && !P->partial && !P->emit_update) {
			/* no group columns and no event: one row of empty aggregations */
			struct win *w = win_alloc(P, "", 0, (uint32_t[1]){ 0 });
			emit(P, w);
			win_free(P, w);
		}
	} else if (!keep) {
		if (P->merge) {
			qsort(list, n, sizeof *list, close_cmp);
			for (size_t i = 0; i < n; i++)
				emit(P, list[i]);
		} else {
			emit_batch(P, list, n, 1);
		}
	}
	free(list);
	if (P->nsort) {
		sort_P = P;
		if (P->nheld)
			qsort(P->held, P->nheld, sizeof *P->held, held_cmp);
		for (size_t i = 0; i < P->nheld; i++) {
			struct held *h = &P->held[i];
			if (!P->have_top || i < P->top) {
				rows_begin(&P->rows);
				for (size_t k = 0; k < P->nout; k++)
					rows_cell(&P->rows, h->data + h->off[k], h->off[k + 1] - h->off[k]);
				rows_end(&P->rows);
			}
			free(h->data);
			free(h->off);
		}
		free(P->held);
	}
}

/* ---- --state ------------------------------------------------------------------ */

/* The lines of a saved state (lib/cli reads the checkpoint header). */
static void state_load(struct evctx *c, const char *body, size_t len, void *arg)
{
	(void)c;
	struct proj *P = arg;
	char err[300];
	struct jdoc d = {0};
	struct jerr jerr;
	const char *p = body;
	const char *end = p + len;
	int first = 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (json_parse(&d, p, n, 0, &jerr) < 0)
			ev_die(EV_USAGE, "--state %s: damaged: %s", P->state_path, jerr.msg);
		if (first) {
			uint32_t o = json_get(&d, 0, "options", 7), ev = json_get(&d, 0, "events", 6),
			         wm = json_get(&d, 0, "watermark", 9);
			const char *s;
			size_t sn;
			struct buf sc = {0};
			if (o == JNONE || d.tok[o].type != J_STR || ev == JNONE || wm == JNONE)
				ev_die(EV_USAGE, "--state %s: not an evproject state", P->state_path);
			json_str(&d, o, &sc, &s, &sn);
			if (sn != strlen(P->fingerprint) || memcmp(s, P->fingerprint, sn) != 0)
				ev_die(EV_USAGE, "--state %s: saved by a run with other options", P->state_path);
			buf_free(&sc);
			int64_t iv;
			if (json_tok_int(&d, ev, 0, INT64_MAX, &iv) == 0)
				P->nev = (uint64_t)iv;
			if (json_tok_int(&d, wm, INT64_MIN, INT64_MAX, &iv) == 0) {
				P->wm.wm = iv;
				P->wm.have = 1;
			}
			first = 0;
		} else if (json_get(&d, 0, "closed_end", 10) != JNONE) {
			uint32_t g = json_get(&d, 0, "group", 5), ce = json_get(&d, 0, "closed_end", 10);
			int64_t iv;
			uint32_t coff[P->ncol + 1];
			if (g == JNONE || d.tok[g].type != J_ARR || group_of_array(P, &d, g, coff) != P->ncol ||
			    json_tok_int(&d, ce, INT64_MIN, INT64_MAX, &iv) < 0)
				ev_die(EV_USAGE, "--state %s: damaged session line", P->state_path);
			struct sgroup *sg = sgroup_get(P, P->cell.p ? P->cell.p : "", P->cell.len, coff)->val;
			sg->ss.have_closed = 1;
			sg->ss.closed_end = iv;
		} else if (absorb(P, &d, err, sizeof err) < 0) {
			ev_die(EV_USAGE, "--state %s: damaged: %s", P->state_path, err);
		}
		p += n + 1;
	}
	json_doc_free(&d);
}

/* Our lines of the state, after lib/cli's checkpoint header. */
static void state_save(struct evctx *c, struct wfile *out, void *arg)
{
	(void)c;
	struct proj *P = arg;
	struct buf b = {0};
	buf_adds(&b, "{\"evproject\":1,\"options\":");
	jw_cstring(&b, P->fingerprint);
	buf_adds(&b, ",\"events\":");
	jw_uint(&b, P->nev);
	buf_adds(&b, ",\"watermark\":");
	if (P->wm.have)
		jw_int(&b, P->wm.wm);
	else
		buf_adds(&b, "null");
	buf_adds(&b, "}\n");
	wfile_write(out, b.p, b.len);
	for (struct wnode *w = P->wt.head; w; w = w->next) {
		partial_line(P, (struct win *)w, &b);
		wfile_line(out, b.p, b.len);
	}
	if (P->ws.kind == WIN_SESSION) {
		for (struct kentry *e = P->wt.k.head; e; e = e->next) {
			struct sgroup *g = e->val;
			if (!g || !g->ss.have_closed)
				continue;
			buf_reset(&b);
			buf_adds(&b, "{\"group\":[");
			for (size_t k = 0; k < P->ncol; k++) {
				if (k)
					buf_addc(&b, ',');
				buf_add(&b, g->cells + g->coff[k], g->coff[k + 1] - g->coff[k]);
			}
			buf_adds(&b, "],\"closed_end\":");
			jw_int(&b, g->ss.closed_end);
			buf_addc(&b, '}');
			wfile_line(out, b.p, b.len);
		}
	}
	buf_free(&b);
}

/* Is every operand a regular file (standard input too, when it is read)?
 * An operand that cannot be stat'ed is reported by the read loop and not
 * read, so it does not count against. */
static int all_regular(int nfiles, char **files)
{
	struct stat st;
	if (nfiles == 0)
		return fstat(0, &st) == 0 && S_ISREG(st.st_mode);
	for (int i = 0; i < nfiles; i++) {
		int rc = strcmp(files[i], "-") ? stat(files[i], &st) : fstat(0, &st);
		if (rc == 0 && !S_ISREG(st.st_mode))
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	static struct proj P;
	static const struct ev_tool tool = {
		"evproject",
		"[-r] [-p projection | -g paths -a agg ...] [-w expr] [--window spec] [option ...] [file ...]",
		help_text, "p:g:a:w:r", longopts, option
	};
	int ind = ev_parse_args(&cx, &tool, &P, argc, argv);
	setup(&P, &tool);
	/* Batch: windows over files read to the end wait for the whole input,
	 * as if the lateness were infinite: no event is late whatever the
	 * order.  Pipes, --state, --lateness and --emit update stream. */
	if (P.window_arg && !P.merge && !P.state_path && !P.lateness_arg && !P.emit_update &&
	    all_regular(argc - ind, argv + ind))
		P.wm.inf = 1;
	if (P.state_path) {
		/* the state is an output file: nothing is written unless
		 * every input opens */
		ev_need_inputs(&cx, argc - ind, argv + ind);
		/* fail before any output if the state cannot be saved */
		struct atomic_file *probe = atomic_open(P.state_path);
		if (!probe)
			ev_die_errno(EV_USAGE, "--state %s: cannot write", P.state_path);
		atomic_abort(probe);
		P.fingerprint = fingerprint(&P);
		/* a mode of the one loop: lib/cli positions the input and
		 * saves the checkpoint; ours are the groups and windows */
		cx.mode.resume = (struct ev_resume){ .path = P.state_path, .load = state_load,
		                                     .save = state_save, .arg = &P };
	}

	ev_run(&cx, argc - ind, argv + ind, P.merge ? on_partial : on_event, &P);

	/* with --state, open windows wait in the state for a later run */
	int keep = P.state_path && !P.flush;
	finish_rows(&P, keep);
	if (!P.partial)
		rows_finish(&P.rows);
	wfile_flush(ev_out);
	if (P.state_path && ev_status_commits(&cx))
		ev_state_save(&cx);
	for (size_t i = 0; i < P.nagg; i++)
		if (P.agg[i].nonnumeric)
			ev_warn("%" PRIu64 " non-numeric value%s skipped (%s)", P.agg[i].nonnumeric,
			        P.agg[i].nonnumeric == 1 ? "" : "s", P.agg[i].text);
	/* an event of several groups ([] in -g) can be late for some only */
	char what[160];
	if (!P.partly_late)
		snprintf(what, sizeof what, "not counted in any window");
	else if (P.partly_late == P.late.count)
		snprintf(what, sizeof what, "counted in the windows of some of their groups only");
	else
		snprintf(what, sizeof what, "not counted in any window, or (%" PRIu64 " of them) only in the windows of some of their groups",
		         P.partly_late);
	ev_raise(&cx, late_finish(&P.late, what));
	return ev_finish(&cx);
}
