/* saga.c — evcep's sagas (see saga.h): saga files, the state machine,
 * records, --state lines. */
#include "saga.h"
#include "ev.h"
#include "fold.h"
#include "jload.h"
#include "jwrite.h"
#include "strset.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== saga files ============================================================= */

static const char *const saga_keys[] = { "saga", "start", "key", "timeout", "on_timeout", "steps", NULL };
static const char *const step_keys[] = { "name", "command", "done", "failed", "compensate", NULL };

static int known(const char *k, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(k, *list) == 0)
			return 1;
	return 0;
}

static int has_glob(const char *s)
{
	return strpbrk(s, "*?") != NULL;
}

/* An optional (or required) non-empty string member: 0 and *out set
 * (NULL when absent and optional), or -1 with msg. */
static int str_member(json_t *o, const char *k, int required, char **out, char *msg, size_t ml)
{
	json_t *v = json_object_get(o, k);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(msg, ml, "\"%s\" is required", k);
		return -1;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(msg, ml, "\"%s\": expected a non-empty string", k);
		return -1;
	}
	*out = xstrdup(json_string_value(v));
	return 0;
}

static void def_free(struct saga_def *g)
{
	free(g->name);
	free(g->start);
	path_free(&g->key);
	for (size_t j = 0; j < g->nsteps; j++) {
		struct saga_step *st = &g->steps[j];
		free(st->name);
		free(st->command);
		free(st->done);
		free(st->failed);
		free(st->compensate);
	}
	free(g->steps);
	free(g->file);
}

static int load_step(json_t *o, struct saga_step *st, size_t j, char *msg, size_t ml)
{
	char m[300];
	if (!json_is_object(o)) {
		snprintf(msg, ml, "step %zu: expected an object", j + 1);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		if (!known(k, step_keys)) {
			snprintf(msg, ml, "step %zu: unknown member \"%s\" (expected name, command, done, failed, compensate)",
			         j + 1, k);
			return -1;
		}
	}
	if (str_member(o, "name", 1, &st->name, m, sizeof m) < 0 || str_member(o, "done", 1, &st->done, m, sizeof m) < 0 ||
	    str_member(o, "command", 0, &st->command, m, sizeof m) < 0 ||
	    str_member(o, "failed", 0, &st->failed, m, sizeof m) < 0 ||
	    str_member(o, "compensate", 0, &st->compensate, m, sizeof m) < 0) {
		if (st->name)
			snprintf(msg, ml, "step %zu (%s): %s", j + 1, st->name, m);
		else
			snprintf(msg, ml, "step %zu: %s", j + 1, m);
		return -1;
	}
	st->gdone = (unsigned char)has_glob(st->done);
	st->gfailed = st->failed && has_glob(st->failed);
	return 0;
}

static int load_def(json_t *o, const char *defkey, struct saga_def *g, char *msg, size_t ml)
{
	char pe[300];
	if (!json_is_object(o)) {
		snprintf(msg, ml, "expected an object");
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		if (!known(k, saga_keys)) {
			snprintf(msg, ml, "unknown member \"%s\" (expected saga, start, key, timeout, on_timeout, steps)", k);
			return -1;
		}
	}
	if (str_member(o, "saga", 1, &g->name, msg, ml) < 0 || str_member(o, "start", 0, &g->start, msg, ml) < 0)
		return -1;
	g->gstart = g->start && has_glob(g->start);
	char *key = NULL, *tmo = NULL, *on = NULL;
	if (str_member(o, "key", 0, &key, msg, ml) < 0)
		return -1;
	const char *kt = key ? key : defkey;
	if (strstr(kt, "[]") || path_parse(&g->key, kt, pe, sizeof pe) < 0) {
		snprintf(msg, ml, "\"key\": %s", strstr(kt, "[]") ? "'[]' is not allowed (one value per event)" : pe);
		free(key);
		return -1;
	}
	free(key);
	if (str_member(o, "timeout", 1, &tmo, msg, ml) < 0)
		return -1;
	if (dur_parse(tmo, strlen(tmo), &g->timeout) < 0 || g->timeout <= 0) {
		snprintf(msg, ml, "\"timeout\": bad duration '%s' (expected a positive duration such as 90s, 5m, 1h30m)", tmo);
		free(tmo);
		return -1;
	}
	free(tmo);
	if (str_member(o, "on_timeout", 0, &on, msg, ml) < 0)
		return -1;
	if (on && strcmp(on, "report") == 0)
		g->report = 1;
	else if (on && strcmp(on, "compensate") != 0) {
		snprintf(msg, ml, "\"on_timeout\": expected compensate or report, not '%s'", on);
		free(on);
		return -1;
	}
	free(on);
	json_t *steps = json_object_get(o, "steps");
	if (!steps) {
		snprintf(msg, ml, "\"steps\" is required");
		return -1;
	}
	if (!json_is_array(steps) || json_array_size(steps) == 0) {
		snprintf(msg, ml, "\"steps\": expected a non-empty array of steps");
		return -1;
	}
	size_t n = json_array_size(steps);
	g->steps = xcalloc(n, sizeof *g->steps);
	for (size_t j = 0; j < n; j++) {
		g->nsteps = j + 1; /* what def_free must free */
		if (load_step(json_array_get(steps, j), &g->steps[j], j, msg, ml) < 0)
			return -1;
		for (size_t i = 0; i < j; i++) {
			if (strcmp(g->steps[i].name, g->steps[j].name) == 0) {
				snprintf(msg, ml, "step %zu: two steps are named \"%s\"", j + 1, g->steps[j].name);
				return -1;
			}
		}
	}
	return 0;
}

int saga_load_file(const char *path, const char *defkey, struct saga_def **defs, size_t *ndefs)
{
	char err[600], msg[500];
	json_t *root = jload_file(path, err, sizeof err);
	if (!root) {
		ev_warn("--saga %s", err);
		return -1;
	}
	size_t n = json_is_array(root) ? json_array_size(root) : 1;
	if (json_is_array(root) && n == 0) {
		ev_warn("--saga %s: no sagas in the array", path);
		json_decref(root);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_is_array(root) ? json_array_get(root, i) : root;
		struct saga_def g = {0};
		int rc = load_def(o, defkey, &g, msg, sizeof msg);
		for (size_t j = 0; rc == 0 && j < *ndefs; j++) {
			if (strcmp((*defs)[j].name, g.name) == 0) {
				snprintf(msg, sizeof msg, "two sagas are named \"%s\"", g.name);
				rc = -1;
			}
		}
		if (rc < 0) {
			json_t *nm = json_is_object(o) ? json_object_get(o, "saga") : NULL;
			if (json_is_string(nm))
				ev_warn("--saga %s: saga %zu (%s): %s", path, i + 1, json_string_value(nm), msg);
			else
				ev_warn("--saga %s: saga %zu: %s", path, i + 1, msg);
			def_free(&g);
			json_decref(root);
			return -1;
		}
		g.file = xstrdup(path);
		*defs = xrealloc(*defs, (*ndefs + 1) * sizeof **defs);
		(*defs)[(*ndefs)++] = g;
	}
	json_decref(root);
	return 0;
}

void saga_defs_free(struct saga_def *defs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		def_free(&defs[i]);
	free(defs);
}

/* ==== the engine ============================================================= */

struct saga_run {
	struct ktimer tm;   /* first: a popped timer is its saga */
	struct kentry *e;
	uint32_t def;
	uint32_t ndone;     /* steps 0 .. ndone-1 are done */
	uint64_t pos;       /* start order */
	int64_t started_at, last_at;
	struct buf keytext; /* the key as records show it */
	struct buf ctx;     /* the context object; empty: {} */
	struct buf ckeys;   /* its member names, unescaped: (uint32 length, bytes)... */
	struct buf ids;     /* the events' ids, comma-separated */
};

void saga_init(struct saga *s, struct saga_def *defs, size_t ndefs, const struct saga_opts *o)
{
	memset(s, 0, sizeof *s);
	s->defs = defs;
	s->ndefs = ndefs;
	s->o = *o;
}

static int type_fits(const char *pat, int glob, const char *ty, size_t tn)
{
	if (!pat)
		return 0;
	size_t pn = strlen(pat);
	if (glob)
		return glob_match(pat, pn, ty, tn);
	return pn == tn && memcmp(pat, ty, tn) == 0;
}

/* The event's type as a string, or -1. */
static int event_type(struct saga *s, const struct jdoc *d, const char **ty, size_t *tn)
{
	uint32_t tt = event_field(d, s->o.fm, F_TYPE);
	if (tt == JNONE || d->tok[tt].type != J_STR)
		return -1;
	buf_reset(&s->tbuf);
	json_str(d, tt, &s->tbuf, ty, tn);
	return 0;
}

/* Does the type fit a start, done or failed role of g? */
static int has_role(const struct saga_def *g, const char *ty, size_t tn)
{
	if (type_fits(g->start, g->gstart, ty, tn))
		return 1;
	for (size_t j = 0; j < g->nsteps; j++)
		if (type_fits(g->steps[j].done, g->steps[j].gdone, ty, tn) ||
		    type_fits(g->steps[j].failed, g->steps[j].gfailed, ty, tn))
			return 1;
	return 0;
}

int saga_check(struct saga *s, const struct jdoc *d, char *why, size_t whylen)
{
	const char *ty;
	size_t tn;
	if (!s->ndefs || event_type(s, d, &ty, &tn) < 0)
		return 0;
	for (size_t i = 0; i < s->ndefs; i++) {
		struct saga_def *g = &s->defs[i];
		if (!has_role(g, ty, tn))
			continue;
		uint32_t kt = path_lookup(d, 0, &g->key);
		if (kt == JNONE || d->tok[kt].type == J_NULL) {
			snprintf(why, whylen, "saga %s: key %s is %s", g->name, g->key.text, kt == JNONE ? "missing" : "null");
			return -1;
		}
	}
	return 0;
}

/* ---- records ---------------------------------------------------------------- */

static void put_time(struct buf *b, int64_t t)
{
	char tb[40];
	size_t n = time_format(t, tb);
	buf_addc(b, '"');
	buf_add(b, tb, n);
	buf_addc(b, '"');
}

/* The event's id (compact JSON, or null) into s->id. */
static void event_id(struct saga *s, const struct jdoc *d)
{
	buf_reset(&s->id);
	uint32_t t = event_field(d, s->o.fm, F_ID);
	if (t == JNONE)
		buf_adds(&s->id, "null");
	else
		json_write_compact(d, t, &s->id);
}

static void emit(struct saga *s, struct buf *b)
{
	s->o.emit(s->o.arg, b->p, b->len);
	s->records++;
}

static void put_head(struct buf *b, const char *record, const struct saga_def *g, const struct saga_run *r)
{
	buf_reset(b);
	buf_adds(b, "{\"record\":\"");
	buf_adds(b, record);
	buf_adds(b, "\",\"saga\":");
	jw_cstring(b, g->name);
	buf_adds(b, ",\"key\":");
	buf_add(b, r->keytext.p, r->keytext.len);
}

/* trigger NULL: none (a timeout) */
static void emit_command(struct saga *s, const struct saga_run *r, const char *cmd, size_t step, int comp,
                         const struct buf *trigger, int64_t at)
{
	const struct saga_def *g = &s->defs[r->def];
	struct buf *b = &s->out;
	put_head(b, "command", g, r);
	buf_adds(b, ",\"command\":");
	jw_cstring(b, cmd);
	buf_adds(b, ",\"step\":");
	jw_cstring(b, g->steps[step].name);
	buf_adds(b, comp ? ",\"kind\":\"compensation\",\"trigger_event\":" : ",\"kind\":\"step\",\"trigger_event\":");
	if (trigger)
		buf_add(b, trigger->p, trigger->len);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"at\":");
	put_time(b, at);
	buf_adds(b, ",\"context\":");
	if (r->ctx.len)
		buf_add(b, r->ctx.p, r->ctx.len);
	else
		buf_adds(b, "{}");
	buf_addc(b, '}');
	emit(s, b);
}

/* failed: the failed step, or -1 */
static void emit_status(struct saga *s, const struct saga_run *r, const char *status, int64_t at, long failed)
{
	const struct saga_def *g = &s->defs[r->def];
	struct buf *b = &s->out;
	put_head(b, "saga", g, r);
	buf_adds(b, ",\"status\":\"");
	buf_adds(b, status);
	buf_adds(b, "\",\"at\":");
	put_time(b, at);
	buf_adds(b, ",\"started_at\":");
	put_time(b, r->started_at);
	buf_adds(b, ",\"steps_completed\":[");
	for (uint32_t j = 0; j < r->ndone; j++) {
		if (j)
			buf_addc(b, ',');
		jw_cstring(b, g->steps[j].name);
	}
	buf_adds(b, "],\"failed_step\":");
	if (failed >= 0)
		jw_cstring(b, g->steps[failed].name);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"events\":[");
	buf_add(b, r->ids.p, r->ids.len);
	buf_adds(b, "]}");
	emit(s, b);
}

/* ---- the context ------------------------------------------------------------ */

static int ctx_has(const struct saga_run *r, const char *k, size_t kn)
{
	const char *p = r->ckeys.p, *end = p + r->ckeys.len;
	while (p < end) {
		uint32_t n;
		memcpy(&n, p, sizeof n);
		p += sizeof n;
		if (n == kn && memcmp(p, k, kn) == 0)
			return 1;
		p += n;
	}
	return 0;
}

/* Note the member names of object t of d that the context lacks. */
static void ctx_note_keys(struct saga *s, struct saga_run *r, const struct jdoc *d, uint32_t t)
{
	for (uint32_t k = t + 1; k < d->tok[t].next; k = d->tok[k + 1].next) {
		const char *kp;
		size_t kn;
		buf_reset(&s->ks);
		json_str(d, k, &s->ks, &kp, &kn);
		if (ctx_has(r, kp, kn))
			continue;
		uint32_t n = (uint32_t)kn;
		buf_add(&r->ckeys, &n, sizeof n);
		buf_add(&r->ckeys, kp, kn);
	}
}

/* Merge the payload object pt of d into r's context: a shallow merge, the
 * later value wins, members keep the place they first had (as jq's +).
 * When the payload brings only new members (the usual case), they are
 * appended; otherwise the context is parsed and rewritten. */
static void merge_payload(struct saga *s, struct saga_run *r, const struct jdoc *d)
{
	uint32_t pt = event_field(d, s->o.fm, F_PAYLOAD);
	if (pt == JNONE || d->tok[pt].type != J_OBJ || d->tok[pt].next == pt + 1)
		return;
	int overlap = 0;
	for (uint32_t k = pt + 1; k < d->tok[pt].next && !overlap; k = d->tok[k + 1].next) {
		const char *kp;
		size_t kn;
		buf_reset(&s->ks);
		json_str(d, k, &s->ks, &kp, &kn);
		overlap = ctx_has(r, kp, kn);
	}
	if (!overlap) {
		if (!r->ctx.len) {
			json_write_compact(d, pt, &r->ctx);
		} else {
			r->ctx.len--; /* its '}' */
			for (uint32_t k = pt + 1; k < d->tok[pt].next; k = d->tok[k + 1].next) {
				buf_addc(&r->ctx, ',');
				json_write_compact(d, k, &r->ctx);
				buf_addc(&r->ctx, ':');
				json_write_compact(d, k + 1, &r->ctx);
			}
			buf_addc(&r->ctx, '}');
		}
		ctx_note_keys(s, r, d, pt);
		return;
	}
	struct jerr je;
	if (json_parse(&s->cdoc, r->ctx.p, r->ctx.len, 0, &je) < 0)
		return; /* (it was written by us from valid JSON) */
	const struct jdoc *c = &s->cdoc;
	struct buf *out = &s->ctx, *ks = &s->ks;
	buf_reset(out);
	buf_addc(out, '{');
	int first = 1;
	for (uint32_t k = 1; k < c->tok[0].next; k = c->tok[k + 1].next) {
		const char *kp;
		size_t kn;
		buf_reset(ks);
		json_str(c, k, ks, &kp, &kn);
		uint32_t nv = json_get(d, pt, kp, kn);
		if (!first)
			buf_addc(out, ',');
		first = 0;
		json_write_compact(c, k, out);
		buf_addc(out, ':');
		if (nv != JNONE)
			json_write_compact(d, nv, out);
		else
			json_write_compact(c, k + 1, out);
	}
	for (uint32_t k = pt + 1; k < d->tok[pt].next; k = d->tok[k + 1].next) {
		const char *kp;
		size_t kn;
		buf_reset(ks);
		json_str(d, k, ks, &kp, &kn);
		if (json_get(c, 0, kp, kn) != JNONE)
			continue;
		if (!first)
			buf_addc(out, ',');
		first = 0;
		json_write_compact(d, k, out);
		buf_addc(out, ':');
		json_write_compact(d, k + 1, out);
	}
	buf_addc(out, '}');
	struct buf t = r->ctx;
	r->ctx = *out;
	*out = t;
	ctx_note_keys(s, r, d, pt);
}

static void add_id(struct saga *s, struct saga_run *r)
{
	if (r->ids.len)
		buf_addc(&r->ids, ',');
	buf_add(&r->ids, s->id.p, s->id.len);
}

/* ---- life of a saga --------------------------------------------------------- */

static void run_free(struct saga *s, struct saga_run *r)
{
	struct saga_def *g = &s->defs[r->def];
	keyed_unschedule(&s->k, &r->tm);
	keyed_del(&s->k, r->e);
	g->running--;
	s->running--;
	buf_free(&r->keytext);
	buf_free(&r->ctx);
	buf_free(&r->ckeys);
	buf_free(&r->ids);
	free(r);
}

static void compensate(struct saga *s, struct saga_run *r, const struct buf *trigger, int64_t at)
{
	const struct saga_def *g = &s->defs[r->def];
	for (uint32_t j = r->ndone; j-- > 0;)
		if (g->steps[j].compensate)
			emit_command(s, r, g->steps[j].compensate, j, 1, trigger, at);
}

/* After a step is done: the next step's command, or the end. */
static void next(struct saga *s, struct saga_run *r, int64_t t)
{
	struct saga_def *g = &s->defs[r->def];
	if (r->ndone == g->nsteps) {
		emit_status(s, r, "completed", t, -1);
		g->completed++;
		run_free(s, r);
		return;
	}
	if (g->steps[r->ndone].command)
		emit_command(s, r, g->steps[r->ndone].command, r->ndone, 0, &s->id, t);
}

static void start(struct saga *s, size_t di, const struct jdoc *d, uint32_t kt, int64_t t, int step0)
{
	struct saga_def *g = &s->defs[di];
	int created;
	struct kentry *e = keyed_get(&s->k, s->key.p, s->key.len, &created);
	struct saga_run *r = xcalloc(1, sizeof *r);
	e->val = r;
	r->e = e;
	r->def = (uint32_t)di;
	r->pos = s->pos++;
	r->started_at = r->last_at = t;
	json_write_compact(d, kt, &r->keytext);
	merge_payload(s, r, d);
	add_id(s, r);
	r->ndone = step0 ? 1 : 0;
	/* one saga type's timeouts come in start order: its own lane */
	keyed_schedule_lane(&s->k, &r->tm, time_add_sat(t, g->timeout), r->pos, r->def);
	g->started++;
	g->running++;
	s->running++;
	emit_status(s, r, "started", t, -1);
	next(s, r, t);
}

static void fail(struct saga *s, struct saga_run *r, size_t step, int64_t t)
{
	struct saga_def *g = &s->defs[r->def];
	add_id(s, r);
	r->last_at = t;
	compensate(s, r, &s->id, t);
	emit_status(s, r, "failed", t, (long)step);
	g->failed++;
	run_free(s, r);
}

static void on_timeout(struct ktimer *tm, void *arg)
{
	struct saga *s = arg;
	struct saga_run *r = (struct saga_run *)tm;
	struct saga_def *g = &s->defs[r->def];
	if (!g->report)
		compensate(s, r, NULL, tm->when);
	emit_status(s, r, "timed_out", tm->when, -1);
	g->timed_out++;
	run_free(s, r);
}

void saga_time(struct saga *s, int64_t wm)
{
	if (s->running)
		keyed_expire(&s->k, wm, 0, on_timeout, s);
}

/* --max-partials: beyond the cap, the saga with the earliest deadline is
 * dropped (no compensation: the monitor gave up on it, the saga did not
 * fail). */
static void overflow(struct saga *s, int64_t t)
{
	while (s->o.max_running && s->running > s->o.max_running) {
		struct saga_run *r = (struct saga_run *)keyed_next(&s->k);
		if (s->o.partials)
			emit_status(s, r, "overflow", t, -1);
		s->overflow++;
		run_free(s, r);
	}
}

/* ---- one event ------------------------------------------------------------ */

/* The key of saga type di in s->key; kt its token. */
static uint32_t make_key(struct saga *s, size_t di, const struct jdoc *d)
{
	uint32_t kt = path_lookup(d, 0, &s->defs[di].key);
	uint32_t di32 = (uint32_t)di;
	buf_reset(&s->key);
	buf_add(&s->key, &di32, sizeof di32);
	json_value_key(d, kt, &s->key);
	return kt;
}

static void why_key(struct saga *s, const struct jdoc *d, uint32_t kt)
{
	buf_adds(&s->why, " (key ");
	if (kt == JNONE)
		buf_adds(&s->why, "null");
	else
		json_write_compact(d, kt, &s->why);
	buf_addc(&s->why, ')');
}

/*
 * Saga type di and an event whose type fits one of its roles: 1
 * when a role took it; 0 when it fits a role but no running saga (the
 * first reason in s->why when it is still empty).  Roles are tried start,
 * failed, done; steps in file order.
 */
static int one_def(struct saga *s, size_t di, const struct jdoc *d, int64_t t, const char *ty, size_t tn)
{
	struct saga_def *g = &s->defs[di];
	int st = type_fits(g->start, g->gstart, ty, tn);
	uint32_t kt = make_key(s, di, d);
	if (kt == JNONE || d->tok[kt].type == J_NULL) { /* (saga_check rejects these first) */
		if (!s->why.len)
			buf_printf(&s->why, "saga %s: its key %s is null", g->name, g->key.text);
		return 0;
	}
	struct kentry *e = keyed_find(&s->k, s->key.p, s->key.len);
	struct saga_run *r = e ? e->val : NULL;
	char reason[300] = "";
	if (st) {
		if (!r) {
			start(s, di, d, kt, t, 0);
			return 1;
		}
		snprintf(reason, sizeof reason, "a %s saga is already running", g->name);
	}
	for (size_t j = 0; j < g->nsteps; j++) {
		if (!type_fits(g->steps[j].failed, g->steps[j].gfailed, ty, tn))
			continue;
		if (r && j >= r->ndone) {
			fail(s, r, j, t);
			return 1;
		}
		if (!reason[0] && r)
			snprintf(reason, sizeof reason, "step %s of its %s saga is already done", g->steps[j].name, g->name);
		else if (!reason[0])
			snprintf(reason, sizeof reason, "no %s saga is running", g->name);
	}
	for (size_t j = 0; j < g->nsteps; j++) {
		if (!type_fits(g->steps[j].done, g->steps[j].gdone, ty, tn))
			continue;
		if (r && j == r->ndone) {
			add_id(s, r);
			merge_payload(s, r, d);
			r->ndone++;
			r->last_at = t;
			next(s, r, t);
			return 1;
		}
		if (!r && !g->start && j == 0) {
			start(s, di, d, kt, t, 1);
			return 1;
		}
		if (!reason[0]) {
			if (!r)
				snprintf(reason, sizeof reason, "no %s saga is running", g->name);
			else if (j < r->ndone)
				snprintf(reason, sizeof reason, "step %s of its %s saga is already done", g->steps[j].name, g->name);
			else
				snprintf(reason, sizeof reason, "its %s saga waits for step %s, not %s", g->name,
				         g->steps[r->ndone].name, g->steps[j].name);
		}
	}
	if (!s->why.len) {
		buf_adds(&s->why, reason);
		why_key(s, d, kt);
	}
	return 0;
}

int saga_event(struct saga *s, const char *line, size_t len, const struct jdoc *d, int64_t t)
{
	saga_time(s, t);
	const char *ty;
	size_t tn;
	int rc = 0;
	if (!s->ndefs || event_type(s, d, &ty, &tn) < 0)
		return 0;
	/* the type is in s->tbuf or the line; one_def may reuse neither */
	int fit = 0, taken = 0, haveid = 0;
	buf_reset(&s->why);
	for (size_t i = 0; i < s->ndefs; i++) {
		struct saga_def *g = &s->defs[i];
		if (!has_role(g, ty, tn))
			continue;
		if (!haveid) {
			event_id(s, d);
			haveid = 1;
		}
		int rc = one_def(s, i, d, t, ty, tn);
		fit = 1;
		if (rc > 0)
			taken = 1;
	}
	if (fit && !taken) {
		struct buf msg = {0};
		buf_adds(&msg, "event ");
		buf_add(&msg, s->id.p, s->id.len);
		buf_adds(&msg, " (");
		buf_add(&msg, ty, tn);
		buf_adds(&msg, ") fits no running saga: ");
		buf_add(&msg, s->why.p, s->why.len);
		rc = s->o.unfit(s->o.arg, line, len, msg.p);
		buf_free(&msg);
	}
	overflow(s, t);
	return rc;
}

void saga_end(struct saga *s, int stats)
{
	if (s->o.partials) {
		for (struct kentry *e = s->k.head; e; e = e->next) {
			struct saga_run *r = e->val;
			emit_status(s, r, "running", r->last_at, -1);
		}
	}
	if (!stats)
		return;
	struct buf *b = &s->out;
	for (size_t i = 0; i < s->ndefs; i++) {
		const struct saga_def *g = &s->defs[i];
		buf_reset(b);
		buf_adds(b, "{\"record\":\"stats\",\"saga\":");
		jw_cstring(b, g->name);
		buf_adds(b, ",\"started\":");
		jw_uint(b, g->started);
		buf_adds(b, ",\"completed\":");
		jw_uint(b, g->completed);
		buf_adds(b, ",\"failed\":");
		jw_uint(b, g->failed);
		buf_adds(b, ",\"timed_out\":");
		jw_uint(b, g->timed_out);
		buf_adds(b, ",\"running\":");
		jw_uint(b, g->running);
		buf_addc(b, '}');
		s->o.emit(s->o.arg, b->p, b->len);
	}
}

/* ---- --state ---------------------------------------------------------------- */

/*
 * Lines: {"sagas":1,"pos":N,"counts":[[started,completed,failed,timed_out],
 * ...]} (one per saga type, in file order), then one line per running
 * saga in start order: {"saga":TYPE,"name":…,"key":…,"pos":…,
 * "started_at":…,"last_at":…,"done":…,"context":{…},"events":[…]}.
 */
void saga_save(struct saga *s, struct buf *b, void (*line)(void *arg, const char *p, size_t n), void *arg)
{
	buf_reset(b);
	buf_adds(b, "{\"sagas\":1,\"pos\":");
	jw_uint(b, s->pos);
	buf_adds(b, ",\"counts\":[");
	for (size_t i = 0; i < s->ndefs; i++) {
		const struct saga_def *g = &s->defs[i];
		buf_printf(b, "%s[%llu,%llu,%llu,%llu]", i ? "," : "", (unsigned long long)g->started,
		           (unsigned long long)g->completed, (unsigned long long)g->failed, (unsigned long long)g->timed_out);
	}
	buf_adds(b, "]}");
	line(arg, b->p, b->len);
	for (struct kentry *e = s->k.head; e; e = e->next) {
		const struct saga_run *r = e->val;
		buf_reset(b);
		buf_adds(b, "{\"saga\":");
		jw_uint(b, r->def);
		buf_adds(b, ",\"name\":");
		jw_cstring(b, s->defs[r->def].name);
		buf_adds(b, ",\"key\":");
		buf_add(b, r->keytext.p, r->keytext.len);
		buf_adds(b, ",\"pos\":");
		jw_uint(b, r->pos);
		buf_adds(b, ",\"started_at\":");
		jw_int(b, r->started_at);
		buf_adds(b, ",\"last_at\":");
		jw_int(b, r->last_at);
		buf_adds(b, ",\"done\":");
		jw_uint(b, r->ndone);
		buf_adds(b, ",\"context\":");
		if (r->ctx.len)
			buf_add(b, r->ctx.p, r->ctx.len);
		else
			buf_adds(b, "{}");
		buf_adds(b, ",\"events\":[");
		buf_add(b, r->ids.p, r->ids.len);
		buf_adds(b, "]}");
		line(arg, b->p, b->len);
	}
}

int saga_is_line(const struct jdoc *d)
{
	return json_get(d, 0, "saga", 4) != JNONE || json_get(d, 0, "sagas", 5) != JNONE;
}

static int get_u(const struct jdoc *d, uint32_t t, int64_t *v)
{
	double dv;
	return t != JNONE && d->tok[t].type == J_NUM && json_tok_num(d, t, v, &dv) && *v >= 0 ? 0 : -1;
}

static int get_int(const struct jdoc *d, const char *k, int64_t *v)
{
	uint32_t t = json_get(d, 0, k, strlen(k));
	double dv;
	return t != JNONE && d->tok[t].type == J_NUM && json_tok_num(d, t, v, &dv) ? 0 : -1;
}

static int load_counts(struct saga *s, const struct jdoc *d)
{
	int64_t pos;
	uint32_t c = json_get(d, 0, "counts", 6);
	if (get_int(d, "pos", &pos) < 0 || pos < 0 || c == JNONE || d->tok[c].type != J_ARR ||
	    json_count(d, c) != s->ndefs)
		return -1;
	s->pos = (uint64_t)pos;
	size_t i = 0;
	for (uint32_t e = c + 1; e < d->tok[c].next; e = d->tok[e].next, i++) {
		int64_t v[4];
		if (d->tok[e].type != J_ARR || json_count(d, e) != 4)
			return -1;
		for (size_t k = 0; k < 4; k++)
			if (get_u(d, json_index(d, e, k), &v[k]) < 0)
				return -1;
		struct saga_def *g = &s->defs[i];
		g->started = (uint64_t)v[0];
		g->completed = (uint64_t)v[1];
		g->failed = (uint64_t)v[2];
		g->timed_out = (uint64_t)v[3];
	}
	return 0;
}

int saga_load_line(struct saga *s, const struct jdoc *d, char *err, size_t errlen)
{
	if (json_get(d, 0, "sagas", 5) != JNONE) {
		if (load_counts(s, d) < 0)
			goto bad;
		return 0;
	}
	int64_t di, pos, sa, la, nd;
	uint32_t kt = json_get(d, 0, "key", 3), ct = json_get(d, 0, "context", 7), it = json_get(d, 0, "events", 6);
	if (get_int(d, "saga", &di) < 0 || di < 0 || (size_t)di >= s->ndefs || kt == JNONE ||
	    d->tok[kt].type == J_NULL || ct == JNONE || d->tok[ct].type != J_OBJ || it == JNONE ||
	    d->tok[it].type != J_ARR || get_int(d, "pos", &pos) < 0 || pos < 0 || get_int(d, "started_at", &sa) < 0 ||
	    get_int(d, "last_at", &la) < 0 || get_int(d, "done", &nd) < 0 || nd < 0 ||
	    (size_t)nd >= s->defs[di].nsteps)
		goto bad;
	uint32_t di32 = (uint32_t)di;
	buf_reset(&s->key);
	buf_add(&s->key, &di32, sizeof di32);
	json_value_key(d, kt, &s->key);
	int created;
	struct kentry *e = keyed_get(&s->k, s->key.p, s->key.len, &created);
	if (!created)
		goto bad;
	struct saga_run *r = xcalloc(1, sizeof *r);
	struct saga_def *g = &s->defs[di];
	e->val = r;
	r->e = e;
	r->def = di32;
	r->pos = (uint64_t)pos;
	r->started_at = sa;
	r->last_at = la;
	r->ndone = (uint32_t)nd;
	json_write_compact(d, kt, &r->keytext);
	if (json_count(d, ct)) {
		json_write_compact(d, ct, &r->ctx);
		ctx_note_keys(s, r, d, ct);
	}
	for (uint32_t x = it + 1; x < d->tok[it].next; x = d->tok[x].next) {
		if (r->ids.len)
			buf_addc(&r->ids, ',');
		json_write_compact(d, x, &r->ids);
	}
	keyed_schedule_lane(&s->k, &r->tm, time_add_sat(sa, g->timeout), r->pos, r->def);
	g->running++;
	s->running++;
	return 0;
bad:
	snprintf(err, errlen, "unexpected saga line");
	return -1;
}

void saga_free(struct saga *s)
{
	for (struct kentry *e = s->k.head; e; e = e->next) {
		struct saga_run *r = e->val;
		buf_free(&r->keytext);
		buf_free(&r->ctx);
		buf_free(&r->ckeys);
		buf_free(&r->ids);
		free(r);
	}
	keyed_free(&s->k);
	buf_free(&s->key);
	buf_free(&s->out);
	buf_free(&s->id);
	buf_free(&s->tbuf);
	buf_free(&s->ctx);
	buf_free(&s->why);
	buf_free(&s->ks);
	json_doc_free(&s->cdoc);
}
