/*
 * evjoin — stream joins.  What it adds over lib/: the pairing.  LEFT and
 * RIGHT come through lib/merge as one stream in event-time order (left
 * first at equal times; late events to the late sink); each event is
 * paired with the other side's buffered events of the same key (keys
 * compared as JSON values, null never joins), buffered itself, and let go
 * once the watermark has passed its time + --within, as an unmatched row
 * when the join kind keeps it.  --lookup instead loads RIGHT into a hash
 * map and enriches LEFT in input order.
 *
 * The buffers are a keyed table on bmap (key -> two FIFO lists, left and
 * right, in arrival order) plus one FIFO of every buffered event: all
 * events wait the same --within, and the merge hands them on in time
 * order, so arrival order is deadline order and no heap is needed.  This
 * is the shape lib/keyed.c gives (keyed entries, expiry by watermark);
 * the two small structures here fold onto it.
 */
#include "bmap.h"
#include "cli.h"
#include "ev.h"
#include "jwrite.h"
#include "merge.h"
#include "rows.h"
#include "strset.h"
#include "timeutil.h"
#include "window.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_ON = OPT_TOOL_BASE, OPT_LEFT_ON, OPT_RIGHT_ON, OPT_WITHIN, OPT_KIND, OPT_FLAT,
	OPT_LOOKUP, OPT_LATENESS, OPT_LATE
};

static const struct option longopts[] = {
	{ "on", required_argument, NULL, OPT_ON },
	{ "left-on", required_argument, NULL, OPT_LEFT_ON },
	{ "right-on", required_argument, NULL, OPT_RIGHT_ON },
	{ "within", required_argument, NULL, OPT_WITHIN },
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "exit-status", no_argument, NULL, 'e' },
	{ "flat", no_argument, NULL, OPT_FLAT },
	ROWS_LONGOPTS,
	{ "lookup", no_argument, NULL, OPT_LOOKUP },
	{ "lateness", required_argument, NULL, OPT_LATENESS },
	{ "late", required_argument, NULL, OPT_LATE },
	{ NULL, 0, NULL, 0 }
};

static const char help_text[] =
	"Join two event streams: pairs of events with the same key within a time window.\n"
	"      --on PATH            the join key on both sides (default: the key field)\n"
	"      --left-on PATH       the join key of LEFT events (with --right-on)\n"
	"      --right-on PATH      the join key of RIGHT events (with --left-on)\n"
	"      --within DUR         pair events at most DUR apart, inclusive (60s)\n"
	"      --kind KIND          inner (default), left, right or outer: which\n"
	"                           unmatched events are kept, with null beside them\n"
	"  -e, --exit-status        exit 1 when no pair was found\n"
	"      --flat               one object per pair (right's clashes as right.NAME)\n"
	ROWS_HELP
	"      --lookup             RIGHT is a table (no time) enriching each LEFT event\n"
	"      --lateness DUR       accept events up to DUR out of time order (or inf)\n"
	"      --late FILE          append late events to FILE\n";

enum kind { K_INNER, K_LEFT, K_RIGHT, K_OUTER };

/* A buffered event, with its key's compact text; line and key text live
 * in data[] (one allocation). */
struct jent {
	struct jent *next;  /* in its key's list of its side */
	struct jent *qnext; /* in the FIFO of all buffered events */
	struct jkey *key;   /* NULL: a null key, which joins nothing */
	int64_t t;
	unsigned char side, matched;
	size_t len, klen;
	char data[];
};

struct jkey {
	struct jent *head[2], *tail[2];
	size_t n;
	char k[]; /* the value key (json_value_key), for bmap_del */
};

/* --lookup: a row of the table */
struct trow {
	uint64_t lineno;
	size_t len;
	char line[];
};

struct join {
	/* options */
	const char *on, *side_on[2];
	struct path path[2];
	const struct path *key[2];
	int64_t within;
	int have_within, have_kind;
	enum kind kind;
	int exit_status, flat, lookup, fmt;
	struct rowopts out;
	const char *lateness_arg, *late_path;
	/* interval join */
	struct merge m;
	struct latesink late;
	struct bmap keys;
	struct jent *qhead, *qtail;
	/* lookup */
	struct bmap table;
	uint64_t null_rows;
	const char *table_label;
	/* output */
	uint64_t pairs, records;
	struct rows rows;
	struct buf kb, ktext, rec, name;
	struct jdoc pdoc;
};

static struct evctx cx;

static int option(int c, const char *arg, void *tool)
{
	struct join *j = tool;
	switch (c) {
	case 'e': j->exit_status = 1; return 0;
	case OPT_ON: j->on = arg; return 0;
	case OPT_LEFT_ON: j->side_on[0] = arg; return 0;
	case OPT_RIGHT_ON: j->side_on[1] = arg; return 0;
	case OPT_WITHIN:
		if (ev_dur_arg("--within", arg, &j->within) < 0)
			return -1;
		j->have_within = 1;
		return 0;
	case OPT_KIND: {
		static const char *const kinds[] = { "inner", "left", "right", "outer" };
		for (int i = 0; i < 4; i++)
			if (strcmp(arg, kinds[i]) == 0) {
				j->kind = (enum kind)i;
				j->have_kind = 1;
				return 0;
			}
		ev_warn("--kind: expected inner, left, right or outer, not '%s'", arg);
		return -1;
	}
	case OPT_FLAT: j->flat = 1; return 0;
	case ROWS_OPT_FORMAT: case ROWS_OPT_NO_HEADER: case ROWS_OPT_COLOR:
		return rowopts_option(&j->out, c, arg);
	case OPT_LOOKUP: j->lookup = 1; return 0;
	case OPT_LATENESS: j->lateness_arg = arg; return 0;
	case OPT_LATE: j->late_path = arg; return 0;
	}
	return -1;
}

static int keeps(const struct join *j, int side)
{
	return j->kind == K_OUTER || (side == 0 ? j->kind == K_LEFT : j->kind == K_RIGHT);
}

/* ---- output ----------------------------------------------------------- */

/* One side of a record: the event's line and, when at hand, its tape. */
struct side {
	const char *line;
	size_t len;
	const struct jdoc *doc; /* NULL: parsed on demand (--flat) */
};

static const struct jdoc *side_doc(struct join *j, const struct side *s)
{
	if (s->doc)
		return s->doc;
	struct jerr err;
	if (json_parse(&j->pdoc, s->line, s->len, 0, &err) < 0)
		ev_die(EV_IO, "internal error: a buffered event no longer parses");
	return &j->pdoc;
}

/* Append object d's members as written, the names of right's members
 * that left also has prefixed with "right.". */
static void flat_members(struct join *j, struct buf *b, const struct jdoc *d, const struct jdoc *left, int *first)
{
	for (uint32_t k = 1; k < d->tok[0].next; k = d->tok[k + 1].next) {
		const struct jtok *kt = &d->tok[k], *vt = &d->tok[k + 1];
		if (!*first)
			buf_addc(b, ',');
		*first = 0;
		const char *name = NULL;
		size_t n = 0;
		if (left) {
			buf_reset(&j->name);
			json_str(d, k, &j->name, &name, &n);
		}
		if (left && json_get(left, 0, name, n) != JNONE) {
			struct buf pre = {0};
			buf_adds(&pre, "right.");
			buf_add(&pre, name, n);
			jw_string(b, pre.p, pre.len);
			buf_free(&pre);
		} else {
			buf_add(b, d->text + kt->start, kt->len);
		}
		buf_addc(b, ':');
		buf_add(b, d->text + vt->start, vt->len);
	}
}

/* Write one record: key (compact JSON text; NULL: null), left, right
 * (either may be NULL). */
static void emit(struct join *j, const char *key, size_t klen, const struct side *l, const struct side *r)
{
	j->records++;
	if (j->fmt != RF_NDJSON && j->fmt != RF_JSON) {
		rows_begin(&j->rows);
		rows_cell(&j->rows, key, klen);
		rows_cell(&j->rows, l ? l->line : NULL, l ? l->len : 0);
		rows_cell(&j->rows, r ? r->line : NULL, r ? r->len : 0);
		rows_end(&j->rows);
		return;
	}
	struct buf *b = &j->rec;
	buf_reset(b);
	if (j->flat && !(l && r)) {
		/* an unmatched row: the event itself, byte for byte */
		const struct side *one = l ? l : r;
		buf_add(b, one->line, one->len);
	} else if (j->flat) {
		/* at most one side is parsed on demand: the other is the event
		 * in hand (or absent) */
		const struct jdoc *ld = l ? side_doc(j, l) : NULL;
		int first = 1;
		buf_addc(b, '{');
		if (l)
			flat_members(j, b, ld, NULL, &first);
		if (r)
			flat_members(j, b, side_doc(j, r), ld, &first);
		buf_addc(b, '}');
	} else {
		buf_adds(b, "{\"join_key\":");
		if (key)
			buf_add(b, key, klen);
		else
			buf_adds(b, "null");
		buf_adds(b, ",\"left\":");
		if (l)
			buf_add(b, l->line, l->len);
		else
			buf_adds(b, "null");
		buf_adds(b, ",\"right\":");
		if (r)
			buf_add(b, r->line, r->len);
		else
			buf_adds(b, "null");
		buf_addc(b, '}');
	}
	rows_record(&j->rows, b->p, b->len);
}

/* ---- the interval join -------------------------------------------------- */

/* The key of an event: 1 with its compact text in j->ktext and its value
 * key in j->kb, or 0 when it is null or missing. */
static int event_key(struct join *j, const struct jdoc *d, int side)
{
	uint32_t t = path_lookup(d, 0, j->key[side]);
	if (t == JNONE || d->tok[t].type == J_NULL)
		return 0;
	buf_reset(&j->ktext);
	json_write_compact(d, t, &j->ktext);
	buf_reset(&j->kb);
	json_value_key(d, t, &j->kb);
	return 1;
}

static void on_event(struct evctx *c, struct ev_event *ev, int side, int64_t t, void *arg)
{
	(void)c;
	struct join *j = arg;
	int has_key = event_key(j, ev->doc, side);
	struct jkey *jk = has_key ? bmap_ptr(&j->keys, j->kb.p, j->kb.len) : NULL;
	int matched = 0;
	struct side me = { ev->line, ev->len, ev->doc };
	for (struct jent *p = jk ? jk->head[!side] : NULL; p; p = p->next) {
		/* the watermark has let go of everything older than t - within */
		struct side other = { p->data, p->len, NULL };
		if (side == 0)
			emit(j, j->ktext.p, j->ktext.len, &me, &other);
		else
			emit(j, p->data + p->len, p->klen, &other, &me);
		p->matched = 1;
		matched = 1;
		j->pairs++;
	}
	if (!has_key && !keeps(j, side))
		return; /* joins nothing and is not kept */
	size_t klen = has_key ? j->ktext.len : 0;
	struct jent *e = xmalloc(sizeof *e + ev->len + klen);
	e->next = e->qnext = NULL;
	e->t = t;
	e->side = (unsigned char)side;
	e->matched = (unsigned char)matched;
	e->len = ev->len;
	e->klen = klen;
	memcpy(e->data, ev->line, ev->len);
	if (klen)
		memcpy(e->data + ev->len, j->ktext.p, klen);
	e->key = NULL;
	if (has_key) {
		if (!jk) {
			jk = xmalloc(sizeof *jk + j->kb.len);
			memset(jk, 0, sizeof *jk);
			jk->n = j->kb.len;
			memcpy(jk->k, j->kb.p, j->kb.len);
			*bmap_slot(&j->keys, j->kb.p, j->kb.len, NULL) = jk;
		}
		e->key = jk;
		if (jk->tail[side])
			jk->tail[side]->next = e;
		else
			jk->head[side] = e;
		jk->tail[side] = e;
	}
	if (j->qtail)
		j->qtail->qnext = e;
	else
		j->qhead = e;
	j->qtail = e;
}

/* Let go of the events whose time + within the watermark has passed. */
static void on_advance(struct evctx *c, int64_t w, void *arg)
{
	(void)c;
	struct join *j = arg;
	struct jent *e;
	while ((e = j->qhead) && w > e->t && (uint64_t)w - (uint64_t)e->t > (uint64_t)j->within) {
		j->qhead = e->qnext;
		if (!j->qhead)
			j->qtail = NULL;
		struct jkey *jk = e->key;
		if (jk) {
			/* arrival order is deadline order: e heads its list */
			jk->head[e->side] = e->next;
			if (!e->next)
				jk->tail[e->side] = NULL;
			if (!jk->head[0] && !jk->head[1]) {
				bmap_del(&j->keys, jk->k, jk->n);
				free(jk);
			}
		}
		if (!e->matched && keeps(j, e->side)) {
			struct side s = { e->data, e->len, NULL };
			const char *k = e->key ? e->data + e->len : NULL;
			if (e->side == 0)
				emit(j, k, e->klen, &s, NULL);
			else
				emit(j, k, e->klen, NULL, &s);
		}
		free(e);
	}
}

/* ---- --lookup ------------------------------------------------------------ */

static void on_row(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct join *j = arg;
	if (!event_key(j, ev->doc, 1)) {
		j->null_rows++;
		return;
	}
	int created;
	struct bmap_ent *be = bmap_get(&j->table, j->kb.p, j->kb.len, &created);
	struct trow *old = be->ptr;
	if (old) {
		ev_line_warn(c, ev, "duplicate key %.*s: this row replaces the one of line %" PRIu64,
		             (int)(j->ktext.len > 60 ? 60 : j->ktext.len), j->ktext.p, old->lineno);
		free(old);
	}
	struct trow *r = xmalloc(sizeof *r + ev->len);
	r->lineno = ev->in->lineno;
	r->len = ev->len;
	memcpy(r->line, ev->line, ev->len);
	be->ptr = r;
}

static void on_left(struct evctx *c, struct ev_event *ev, void *arg)
{
	(void)c;
	struct join *j = arg;
	struct side l = { ev->line, ev->len, ev->doc };
	struct trow *row = NULL;
	int has_key = event_key(j, ev->doc, 0);
	if (has_key)
		row = bmap_ptr(&j->table, j->kb.p, j->kb.len);
	if (row) {
		struct side r = { row->line, row->len, NULL };
		emit(j, j->ktext.p, j->ktext.len, &l, &r);
		j->pairs++;
	} else if (j->kind == K_LEFT) {
		emit(j, has_key ? j->ktext.p : NULL, j->ktext.len, &l, NULL);
	}
}

/* ---- setup ------------------------------------------------------------------ */

static const struct ev_tool tool = {
	"evjoin",
	"[-e] [--on path | --left-on path --right-on path] [--within dur] "
	"[--kind inner|left|right|outer] [--flat] [--format fmt] [--lookup] "
	"[--lateness dur] [--late file] left right",
	help_text, "e", longopts, option
};

static void setup_keys(struct join *j)
{
	static const char *const opt[2] = { "--left-on", "--right-on" };
	char err[256];
	if (j->on && (j->side_on[0] || j->side_on[1])) {
		ev_warn("--on and --left-on/--right-on: give one or the other");
		ev_usage(&tool);
	}
	if (!!j->side_on[0] != !!j->side_on[1]) {
		ev_warn("%s needs %s too", j->side_on[0] ? "--left-on" : "--right-on",
		        j->side_on[0] ? "--right-on" : "--left-on");
		ev_usage(&tool);
	}
	for (int s = 0; s < 2; s++) {
		const char *text = j->on ? j->on : j->side_on[s];
		if (!text) {
			j->key[s] = &cx.fm.f[F_KEY];
			continue;
		}
		if (s == 1 && j->on) {
			j->key[1] = &j->path[0];
			continue;
		}
		if (path_parse(&j->path[s], text, err, sizeof err) < 0) {
			ev_warn("%s: %s", j->on ? "--on" : opt[s], err);
			ev_usage(&tool);
		}
		j->key[s] = &j->path[s];
		ev_watch_path(&cx, &j->path[s], j->on ? "--on" : opt[s]);
	}
}

static void check_options(struct join *j, int nops)
{
	if (nops != 2) {
		ev_warn(nops < 2 ? "needs two operands, LEFT and RIGHT" : "takes two operands, LEFT and RIGHT");
		ev_usage(&tool);
	}
	if (rowopts_check(&j->out) < 0)
		ev_usage(&tool);
	j->fmt = j->out.fmt;
	if (j->flat && j->fmt != RF_NDJSON && j->fmt != RF_JSON) {
		ev_warn("--flat writes objects: use it with --format ndjson or json");
		ev_usage(&tool);
	}
	if (j->lookup) {
		const char *bad = j->have_within ? "--within" : j->lateness_arg ? "--lateness" :
		                  j->late_path ? "--late" : NULL;
		if (bad) {
			ev_warn("%s: --lookup joins on the key alone, without time", bad);
			ev_usage(&tool);
		}
		if (j->kind == K_RIGHT || j->kind == K_OUTER) {
			ev_warn("--kind %s: --lookup keeps LEFT events only (inner or left)",
			        j->kind == K_RIGHT ? "right" : "outer");
			ev_usage(&tool);
		}
	}
	if (!j->have_within)
		j->within = 60 * US_PER_S;
	if (j->lateness_arg && merge_lateness_arg("--lateness", j->lateness_arg, &j->m.lateness) < 0)
		ev_usage(&tool);
}

static void run_lookup(struct join *j, char **ops)
{
	struct input table, left;
	if (strcmp(ops[0], "-") != 0) { /* both must open before anything is read */
		if (input_open(&left, ops[0]) < 0) {
			ev_warn_errno("%s", ops[0]);
			ev_raise(&cx, EV_USAGE);
			return;
		}
		input_close(&left);
	}
	if (input_open(&table, ops[1]) < 0) {
		ev_warn_errno("%s", ops[1]);
		ev_raise(&cx, EV_USAGE);
		return;
	}
	ev_run_input(&cx, &table, on_row, j);
	if (j->null_rows)
		ev_warn("warning: %" PRIu64 " row%s of %s %s no key (%s) and never join%s", j->null_rows,
		        j->null_rows == 1 ? "" : "s", table.label, j->null_rows == 1 ? "has" : "have",
		        j->key[1]->text, j->null_rows == 1 ? "s" : "");
	input_close(&table);
	ev_run(&cx, 1, ops, on_left, j);
}

static void run_interval(struct join *j, char **ops)
{
	if (merge_open(&j->m, &cx, 2, ops) > 0) /* a join of one side is no join */
		return;
	if (late_open(&j->late, j->late_path) < 0)
		ev_die_errno(EV_USAGE, "--late %s", j->late_path);
	j->m.late = &j->late;
	j->m.event = on_event;
	j->m.advance = on_advance;
	j->m.arg = j;
	merge_run(&j->m);
	merge_close(&j->m);
	ev_raise(&cx, late_finish(&j->late, "joined nothing"));
}

int main(int argc, char **argv)
{
	static struct join j;
	int ind = ev_parse_args(&cx, &tool, &j, argc, argv);
	check_options(&j, argc - ind);
	char **ops = argv + ind;
	if (strcmp(ops[0], "-") == 0 && strcmp(ops[1], "-") == 0) {
		ev_warn("only one of LEFT and RIGHT can be standard input");
		ev_usage(&tool);
	}
	setup_keys(&j);
	static const char *const names[] = { "join_key", "left", "right" };
	rows_open(&j.rows, &j.out, 3, names);

	if (j.lookup)
		run_lookup(&j, ops);
	else
		run_interval(&j, ops);

	/* a join that could not run prints no empty array */
	if (j.fmt == RF_JSON && !j.records && cx.status >= EV_USAGE)
		j.rows.fmt = RF_NDJSON;
	rows_finish(&j.rows);
	if (j.exit_status && j.pairs == 0)
		ev_raise(&cx, EV_NOMATCH);
	int status = ev_finish(&cx); /* before the paths go: it reads them */

	/* free what is left (interval buffers are empty after the last advance) */
	for (struct jent *e = j.qhead, *n; e; e = n) {
		n = e->qnext;
		free(e);
	}
	for (size_t i = 0; i < j.keys.cap; i++)
		if (j.keys.tab[i].k)
			free(j.keys.tab[i].ptr);
	bmap_free(&j.keys);
	for (size_t i = 0; i < j.table.cap; i++)
		if (j.table.tab[i].k)
			free(j.table.tab[i].ptr);
	bmap_free(&j.table);
	for (int s = 0; s < 2; s++)
		path_free(&j.path[s]);
	buf_free(&j.kb);
	buf_free(&j.ktext);
	buf_free(&j.rec);
	buf_free(&j.name);
	json_doc_free(&j.pdoc);
	return status;
}
