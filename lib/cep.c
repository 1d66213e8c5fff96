/* cep.c — evcep's matching engine (see cep.h); the pattern language is
 * cep_pattern.c. */
#include "cep.h"
#include "dlist.h"
#include "heap.h"
#include "ev.h"
#include "fold.h"
#include "jwrite.h"
#include "strset.h"
#include "timeutil.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== the engine ============================================================= */

#define CEP_SPARE 256 /* finished runs kept for reuse */
#define CEP_IDLE 512 /* keys without runs kept in the table */
#define CEP_KEY_RUNS 3 /* runs a key holds without an allocation */
#define CEP_TYPES 4096 /* event types whose step masks are kept */
#define CEP_RUN_INL 160 /* bytes of bound events a run holds in itself
                           (three ids under --ids) */

/* What a run keeps per bound event, followed by the event's bytes. */
struct evrec {
	uint32_t len;
	int32_t step;
	int64_t t;
	uint64_t seq;
	int32_t idoff;  /* --ids: the id's bytes in the event; ID_PARSE, ID_NULL */
	uint32_t idlen;
};

#define ID_PARSE (-1) /* not known: parse the event when writing it */
#define ID_NULL (-2)  /* the event has no id */

struct cep_key {
	/* what a lookup reads first, together */
	struct cep_run **runs; /* start order: inl, or allocated beyond it */
	size_t n, cap;
	struct cep_run *inl[CEP_KEY_RUNS];
	struct kentry *e;
	size_t pat;
	struct buf kt;    /* the key as written in records */
	struct cep_key *prev, *next; /* the idle list, while idle */
	int idle;
};

struct cep_run {
	struct ktimer tm;   /* first: a popped timer is its run */
	struct cep_key *ck;
	uint64_t rseq;      /* start order over all runs */
	uint64_t startseq;  /* processing order of its first event */
	int64_t first, last;
	int cur;            /* the step last bound */
	uint32_t cnt;       /* events held by that step */
	uint64_t blocked;   /* absence steps seen since that step's last event */
	struct buf ev;      /* struct evrec + bytes, in order: in inl while
	                       they fit, else allocated */
	uint32_t nev;
	int reported;       /* --skip none: its match so far was written */
	_Alignas(8) char inl[CEP_RUN_INL];
};

struct cep_held {
	int64_t t;
	uint64_t seq;
	size_t len;
	char line[];
};

/* One event being processed. */
struct cur_ev {
	const char *line;
	size_t len;
	const struct jdoc *d;
	int64_t t;
	uint64_t seq;
	const char *type;  /* NULL: no string type */
	size_t tlen;
	int32_t idoff;     /* as in struct evrec */
	uint32_t idlen;
	struct cep *lean;  /* runs keep ids and this event's is not found yet */
};

static int held_less(const void *x, const void *y);
static int type_fits(const struct cep_step *s, const struct cur_ev *e);

void cep_init(struct cep *c, struct cep_pattern **pat, size_t npat, const struct cep_opts *o)
{
	memset(c, 0, sizeof *c);
	c->spare = xmalloc(CEP_SPARE * sizeof *c->spare);
	c->k.vsize = sizeof(struct cep_key);
	c->pat = pat;
	c->npat = npat;
	c->o = *o;
	heap_init(&c->held, sizeof(struct cep_held *), held_less, NULL);
	int cross = 0;
	for (size_t i = 0; i < npat; i++)
		for (size_t j = 0; j < pat[i]->nsteps; j++) {
			struct cep_step *s = &pat[i]->steps[j];
			s->tlen = s->type ? strlen(s->type) : 0;
			/* only a regular expression can fail (cep_event); a "=~"
			 * inside a string literal costs one needless check */
			s->may_fail = s->where_src && strstr(s->where_src, "=~") != NULL;
			int own = pat[i]->step_alias[j];
			s->own_only = s->where && !(s->uses & ~(own >= 0 ? UINT64_C(1) << own : 0));
			if (s->own_only)
				pat[i]->own_steps |= UINT64_C(1) << j;
			if (j > 0 || s->max > 1)
				pat[i]->cont_steps |= UINT64_C(1) << j;
			c->may_fail |= s->may_fail;
			cross |= s->where && !s->own_only;
		}
	/* with --ids, a run needs its events' bytes only for a condition on
	 * another step's event or for a --state file: else it keeps ids */
	c->lean = o->ids && !o->saved && !cross;
	c->tmask_none = xcalloc(npat ? npat : 1, sizeof *c->tmask_none);
	c->tmask_tmp = xcalloc(npat ? npat : 1, sizeof *c->tmask_tmp);
	struct cur_ev none = {0};
	for (size_t i = 0; i < npat; i++)
		for (size_t j = 0; j < pat[i]->nsteps; j++)
			if (type_fits(&pat[i]->steps[j], &none))
				c->tmask_none[i] |= UINT64_C(1) << j;
}

/* Finished runs go to a small free list with their event buffers, so a
 * busy stream does not allocate per event. */

static void run_ev_free(struct cep_run *r)
{
	if (r->ev.p != r->inl)
		buf_free(&r->ev);
}

/* Room for extra more bytes of bound events. */
static char *run_ev_room(struct cep_run *r, size_t extra)
{
	size_t need = r->ev.len + extra + 1;
	if (!r->ev.p) {
		r->ev.p = r->inl;
		r->ev.cap = sizeof r->inl;
	}
	if (need > r->ev.cap) {
		if (r->ev.p == r->inl) {
			size_t cap = need * 2;
			char *p = xmalloc(cap);
			memcpy(p, r->inl, r->ev.len);
			r->ev.p = p;
			r->ev.cap = cap;
		} else {
			buf_reserve(&r->ev, extra);
		}
	}
	return r->ev.p + r->ev.len;
}

static void run_free(struct cep *c, struct cep_run *r)
{
	keyed_unschedule(&c->k, &r->tm);
	c->nruns--;
	if (c->nspare < CEP_SPARE && r->ev.cap <= 4096) {
		c->spare[c->nspare++] = r;
		return;
	}
	run_ev_free(r);
	free(r);
}

static struct cep_run *run_new(struct cep *c)
{
	if (!c->nspare)
		return xcalloc(1, sizeof(struct cep_run));
	struct cep_run *r = c->spare[--c->nspare];
	struct buf keep = r->ev;
	memset(r, 0, offsetof(struct cep_run, inl)); /* (the bytes need not be) */
	r->ev = keep;
	buf_reset(&r->ev);
	return r;
}

/* A key without runs leaves the table (its state is in the entry). */
static void key_forget(struct cep *c, struct cep_key *ck)
{
	if (ck->runs != ck->inl)
		free(ck->runs);
	buf_free(&ck->kt);
	keyed_del(&c->k, ck->e);
}

/* A key whose last run ended stays in the table, idle, in case its key
 * comes back (a user's next login): most keys do, and a lookup that
 * finds one costs far less than making it again.  At most CEP_IDLE
 * are kept, the longest idle forgotten first. */
static void key_drop_if_empty(struct cep *c, struct cep_key *ck)
{
	if (ck->n || ck->idle)
		return;
	ck->idle = 1;
	DLIST_APPEND(&c->idle, ck);
	if (++c->nidle > CEP_IDLE) {
		struct cep_key *old = c->idle.head;
		DLIST_REMOVE(&c->idle, old);
		c->nidle--;
		old->idle = 0;
		key_forget(c, old);
	}
}

/* A key gets a run (at the end of the start order): it is no longer
 * idle. */
static void key_add_run(struct cep *c, struct cep_key *ck, struct cep_run *r)
{
	if (ck->idle) {
		DLIST_REMOVE(&c->idle, ck);
		c->nidle--;
		ck->idle = 0;
	}
	if (ck->n == ck->cap) {
		size_t cap = ck->cap * 2;
		struct cep_run **a = xmalloc(cap * sizeof *a);
		memcpy(a, ck->runs, ck->n * sizeof *a);
		if (ck->runs != ck->inl)
			free(ck->runs);
		ck->runs = a;
		ck->cap = cap;
	}
	ck->runs[ck->n++] = r;
}

/* A new key's state, in its entry (zeroed). */
static struct cep_key *key_new(struct kentry *e, size_t pi)
{
	struct cep_key *ck = e->val;
	ck->e = e;
	ck->pat = pi;
	ck->runs = ck->inl;
	ck->cap = CEP_KEY_RUNS;
	return ck;
}

static void key_remove_run(struct cep_key *ck, struct cep_run *r)
{
	for (size_t i = 0; i < ck->n; i++) {
		if (ck->runs[i] == r) {
			memmove(ck->runs + i, ck->runs + i + 1, (ck->n - i - 1) * sizeof *ck->runs);
			ck->n--;
			return;
		}
	}
}

#define EVPAD(n) (((size_t)(n) + 7) & ~(size_t)7)

/* With c->lean, what runs keep of an event: its id, compact. */
static void lean_id(struct cur_ev *e)
{
	struct cep *c = e->lean;
	const struct jdoc *d = e->d;
	uint32_t it = event_field(d, c->o.fm, F_ID);
	const char *line = e->line;
	e->lean = NULL;
	e->len = 0;
	if (it == JNONE) {
		e->idoff = ID_NULL;
		return;
	}
	if (d->tok[it].type != J_OBJ && d->tok[it].type != J_ARR && d->text == line) {
		e->line = line + d->tok[it].start;
		e->len = d->tok[it].len;
	} else {
		buf_reset(&c->idtext);
		json_write_compact(d, it, &c->idtext);
		e->line = c->idtext.p;
		e->len = c->idtext.len;
	}
	e->idoff = 0;
	e->idlen = (uint32_t)e->len;
}

static void bind(struct cep_run *r, const struct cur_ev *e, int step)
{
	if (e->lean) /* (e is the event being processed: not const there) */
		lean_id((struct cur_ev *)e);
	struct evrec h = { (uint32_t)e->len, step, e->t, e->seq, e->idoff, e->idlen };
	size_t pad = EVPAD(e->len); /* records stay aligned */
	char *p = run_ev_room(r, sizeof h + pad);
	memcpy(p, &h, sizeof h);
	if (e->len)
		memcpy(p + sizeof h, e->line, e->len);
	memset(p + sizeof h + e->len, 0, pad - e->len + 1); /* (and buf's NUL) */
	r->ev.len += sizeof h + pad;
	r->nev++;
	r->last = e->t;
}

/* (EVPAD is defined above bind) */
#define EVNEXT(p) ((const struct evrec *)((const char *)(p) + sizeof(struct evrec) + EVPAD(((const struct evrec *)(p))->len)))
#define EVTEXT(p) ((const char *)(p) + sizeof(struct evrec))

static int type_fits(const struct cep_step *s, const struct cur_ev *e)
{
	if (!s->type)
		return 1;
	if (!e->type)
		return 0;
	if (s->glob)
		return glob_match(s->type, s->tlen, e->type, e->tlen);
	return s->tlen == e->tlen && memcmp(s->type, e->type, e->tlen) == 0;
}

/* The latest event of run r bound to step s, or NULL. */
static const struct evrec *bound_to(const struct cep_run *r, int s)
{
	const struct evrec *found = NULL;
	const char *p = r->ev.p, *end = r->ev.p + r->ev.len;
	while (p < end) {
		const struct evrec *h = (const struct evrec *)p;
		if (h->step == s)
			found = h;
		p = (const char *)EVNEXT(h);
	}
	return found;
}

static int fits(struct cep *c, const struct cep_pattern *p, int j, const struct cep_run *r, const struct cur_ev *e)
{
	const struct cep_step *s = &p->steps[j];
	if (!(c->fit >> j & 1)) /* the type test, done once per event and pattern */
		return 0;
	if (!s->where || s->own_only) /* (so was this condition: see fit_mask) */
		return 1;
	for (size_t a = 0; a < p->naliases; a++) {
		if (!(s->uses >> a & 1))
			continue;
		int as = p->alias_step[a];
		c->aptr[a] = NULL;
		if (as == j) {
			c->aptr[a] = e->d;
		} else if (r) {
			const struct evrec *h = bound_to(r, as);
			struct jerr je;
			if (h && json_parse(&c->adoc[a], EVTEXT(h), h->len, 0, &je) == 0)
				c->aptr[a] = &c->adoc[a];
		}
	}
	struct expr_input in = { .doc = e->d, .alias_doc = c->aptr };
	int ok = expr_test(s->where, &in);
	if (ok < 0) {
		/* cep_event tried the event's own fields when it was read, so
		 * the limit was hit on an earlier, accepted event bound to
		 * another alias: say so, never a quiet match */
		ev_warn("warning: %s; the condition is taken as false", expr_error_reason(s->where));
		return 0;
	}
	return ok;
}

/* The run could end here: its step holds enough, and every positive
 * step after it is optional, with no absence seen on the way. */
static int can_end(const struct cep_pattern *p, const struct cep_run *r)
{
	if (r->cnt < p->steps[r->cur].min)
		return 0;
	for (size_t j = (size_t)r->cur + 1; j < p->nsteps; j++) {
		const struct cep_step *s = &p->steps[j];
		if (s->absent ? (r->blocked >> j & 1) : s->min > 0)
			return 0;
	}
	return 1;
}

/* Complete at once: nothing can follow. */
static int done_now(const struct cep_pattern *p, const struct cep_run *r)
{
	return r->cur == p->last_pos && r->cnt == p->steps[r->cur].max && !p->trailing && can_end(p, r);
}

/* Steps after cur that the run can still reach (absences not blocked);
 * 0 when the run can never complete. */
static int viable(const struct cep_pattern *p, const struct cep_run *r)
{
	if (r->cnt < p->steps[r->cur].max)
		return 1;
	for (size_t j = (size_t)r->cur + 1; j < p->nsteps; j++) {
		const struct cep_step *s = &p->steps[j];
		if (s->absent) {
			if (r->blocked >> j & 1)
				return 0;
			continue;
		}
		return 1;
	}
	return 1;
}

enum { ADV_NONE, ADV_BOUND, ADV_DONE, ADV_DEAD };

static int advance(struct cep *c, const struct cep_pattern *p, struct cep_run *r, const struct cur_ev *e)
{
	/* an absence between the current step and the next positive one */
	for (size_t j = (size_t)r->cur + 1; j < p->nsteps; j++) {
		const struct cep_step *s = &p->steps[j];
		if (!s->absent) {
			if (s->min > 0)
				break;
			continue;
		}
		if (!(r->blocked >> j & 1) && fits(c, p, (int)j, r, e)) {
			r->blocked |= UINT64_C(1) << j;
			return viable(p, r) ? ADV_NONE : ADV_DEAD;
		}
	}
	/* move on at the first event that fits a next step */
	if (r->cnt >= p->steps[r->cur].min) {
		for (size_t j = (size_t)r->cur + 1; j < p->nsteps; j++) {
			const struct cep_step *s = &p->steps[j];
			if (s->absent) {
				if (r->blocked >> j & 1)
					break;
				continue;
			}
			if (fits(c, p, (int)j, r, e)) {
				r->cur = (int)j;
				r->cnt = 1;
				r->blocked = 0;
				bind(r, e, (int)j);
				return done_now(p, r) ? ADV_DONE : ADV_BOUND;
			}
			if (s->min > 0)
				break;
		}
	}
	if (r->cnt < p->steps[r->cur].max && fits(c, p, r->cur, r, e)) {
		r->cnt++;
		r->blocked = 0;
		bind(r, e, r->cur);
		return done_now(p, r) ? ADV_DONE : ADV_BOUND;
	}
	return ADV_NONE;
}

/* ---- records ------------------------------------------------------------- */

static void put_time(struct buf *b, int64_t t)
{
	char tb[40];
	size_t n = time_format(t, tb);
	buf_addc(b, '"');
	buf_add(b, tb, n);
	buf_addc(b, '"');
}

static void put_id(struct cep *c, const struct evrec *h, struct buf *b)
{
	if (h->idoff == ID_NULL) {
		buf_adds(b, "null");
		return;
	}
	if (h->idoff >= 0) {
		buf_add(b, EVTEXT(h) + h->idoff, h->idlen);
		return;
	}
	const char *line = EVTEXT(h);
	size_t len = h->len;
	struct jerr je;
	if (json_parse(&c->idoc, line, len, 0, &je) < 0) {
		buf_adds(b, "null");
		return;
	}
	uint32_t t = event_field(&c->idoc, c->o.fm, F_ID);
	if (t == JNONE)
		buf_adds(b, "null");
	else
		json_write_compact(&c->idoc, t, b);
}

static void put_events(struct cep *c, const struct cep_run *r, struct buf *b)
{
	buf_addc(b, '[');
	const char *p = r->ev.p, *end = r->ev.p + r->ev.len;
	for (int first = 1; p < end; first = 0) {
		const struct evrec *h = (const struct evrec *)p;
		if (!first)
			buf_addc(b, ',');
		if (c->o.ids)
			put_id(c, h, b);
		else
			buf_add(b, EVTEXT(h), h->len);
		p = (const char *)EVNEXT(h);
	}
	buf_addc(b, ']');
}

/* "start":T,"end":T,"events":[...] of a run (matches and policy contexts) */
static void put_span(struct cep *c, const struct cep_run *r, struct buf *b)
{
	buf_adds(b, "\"start\":");
	put_time(b, r->first);
	buf_adds(b, ",\"end\":");
	put_time(b, r->last);
	buf_adds(b, ",\"events\":");
	put_events(c, r, b);
}

static void emit(struct cep *c, struct buf *b)
{
	c->o.emit(c->o.arg, b->p, b->len);
}

static void emit_match(struct cep *c, const struct cep_pattern *p, const struct cep_run *r, const char *key, size_t klen)
{
	struct buf *b = &c->out;
	if (!p->nactions) {
		buf_reset(b);
		buf_adds(b, "{\"pattern\":");
		jw_cstring(b, p->name);
		buf_adds(b, ",\"key\":");
		buf_add(b, key, klen);
		buf_addc(b, ',');
		put_span(c, r, b);
		buf_addc(b, '}');
		emit(c, b);
		c->matches++;
		return;
	}
	/* the id of the last event */
	const char *p0 = r->ev.p, *end = r->ev.p + r->ev.len;
	const struct evrec *lastrec = NULL;
	while (p0 < end) {
		lastrec = (const struct evrec *)p0;
		p0 = (const char *)EVNEXT(lastrec);
	}
	buf_reset(&c->tmp);
	put_id(c, lastrec, &c->tmp);
	for (size_t a = 0; a < p->nactions; a++) {
		buf_reset(b);
		buf_adds(b, "{\"action\":");
		jw_cstring(b, p->actions[a]);
		buf_adds(b, ",\"policy\":");
		jw_cstring(b, p->name);
		buf_adds(b, ",\"trigger_event\":");
		buf_add(b, c->tmp.p, c->tmp.len);
		buf_adds(b, ",\"key\":");
		buf_add(b, key, klen);
		buf_adds(b, ",\"context\":{");
		put_span(c, r, b);
		buf_adds(b, "}}");
		emit(c, b);
		c->matches++;
	}
}

static void emit_partial(struct cep *c, const struct cep_pattern *p, const struct cep_run *r, const char *status)
{
	if (!c->o.partials)
		return;
	struct buf *b = &c->out;
	buf_reset(b);
	buf_adds(b, "{\"pattern\":");
	jw_cstring(b, p->name);
	buf_adds(b, ",\"key\":");
	buf_add(b, r->ck->kt.p, r->ck->kt.len);
	buf_adds(b, ",\"matched\":");
	jw_uint(b, (uint64_t)r->cur + (r->cnt >= p->steps[r->cur].min ? 1 : 0));
	buf_adds(b, ",\"total\":");
	jw_uint(b, p->nsteps);
	buf_adds(b, ",\"events\":");
	put_events(c, r, b);
	buf_adds(b, ",\"status\":");
	jw_cstring(b, status);
	buf_addc(b, '}');
	emit(c, b);
}

/* ---- keys ------------------------------------------------------------------ */

/* The key bytes of event d for pattern pi into c->key, and the key's
 * tokens into c->ktok (for key_text). */
static void make_key(struct cep *c, size_t pi, const struct jdoc *d)
{
	const struct cep_pattern *p = c->pat[pi];
	uint32_t pi32 = (uint32_t)pi;
	buf_reset(&c->key);
	buf_reserve(&c->key, sizeof pi32);
	memcpy(c->key.p, &pi32, sizeof pi32);
	c->key.len = sizeof pi32;
	size_t n = p->nby ? p->nby : 1;
	if (n > c->capktok)
		c->ktok = xgrow(c->ktok, &c->capktok, n, sizeof *c->ktok);
	for (size_t i = 0; i < n; i++) {
		uint32_t t = p->nby ? path_lookup(d, 0, &p->by[i]) : event_field(d, c->o.fm, F_KEY);
		c->ktok[i] = t;
		size_t at = c->key.len;
		uint32_t len = 0;
		if (n > 1)
			buf_add(&c->key, &len, sizeof len);
		json_value_key(d, t, &c->key);
		if (n > 1) {
			len = (uint32_t)(c->key.len - at - sizeof len);
			memcpy(c->key.p + at, &len, sizeof len);
		}
	}
}

/* The key text (as records show it) of the key make_key last made. */
static void key_text(struct cep *c, size_t pi, const struct jdoc *d, struct buf *kt)
{
	const struct cep_pattern *p = c->pat[pi];
	size_t n = p->nby ? p->nby : 1;
	if (n > 1)
		buf_addc(kt, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(kt, ',');
		if (c->ktok[i] == JNONE)
			buf_adds(kt, "null");
		else
			json_write_compact(d, c->ktok[i], kt);
	}
	if (n > 1)
		buf_addc(kt, ']');
}

static struct cep_key *key_get(struct cep *c, size_t pi, const struct jdoc *d, uint64_t h)
{
	int created;
	struct kentry *e = keyed_get_h(&c->k, c->key.p, c->key.len, h, &created);
	if (!created)
		return e->val;
	struct cep_key *ck = key_new(e, pi);
	key_text(c, pi, d, &ck->kt);
	return ck;
}

/* ---- deadlines ----------------------------------------------------------- */

/* Past-last: drop the runs of ck that started at or before seq. */
static void skip_past(struct cep *c, struct cep_key *ck, uint64_t seq)
{
	size_t k = 0;
	for (size_t i = 0; i < ck->n; i++) {
		struct cep_run *r = ck->runs[i];
		if (r->startseq <= seq)
			run_free(c, r);
		else
			ck->runs[k++] = r;
	}
	ck->n = k;
}

static int blocked_at_end(const struct cep_pattern *p, const struct cep_run *r)
{
	return !can_end(p, r) || (p->trailing && (r->blocked >> (p->last_pos + 1)) != 0);
}

/* A run whose deadline the watermark passed: a match when it could end,
 * else a timeout. */
static void on_deadline(struct ktimer *t, void *arg)
{
	struct cep *c = arg;
	struct cep_run *r = (struct cep_run *)t;
	struct cep_key *ck = r->ck;
	const struct cep_pattern *p = c->pat[ck->pat];
	key_remove_run(ck, r);
	if (!blocked_at_end(p, r)) {
		if (!r->reported)
			emit_match(c, p, r, ck->kt.p, ck->kt.len);
		if (c->o.skip == CEP_SKIP_PAST_LAST) {
			const struct evrec *h = (const struct evrec *)r->ev.p, *last = h;
			for (const char *q = r->ev.p; q < r->ev.p + r->ev.len; q = (const char *)EVNEXT(q))
				last = (const struct evrec *)q;
			skip_past(c, ck, last->seq);
		}
	} else {
		emit_partial(c, p, r, "timeout");
	}
	run_free(c, r);
	key_drop_if_empty(c, ck);
}

/* At end of input: emit (--eof flush) or drop what waits only on its
 * deadline; list the rest as "eof" partials. */
static void on_eof(struct ktimer *t, void *arg)
{
	struct cep *c = arg;
	struct cep_run *r = (struct cep_run *)t;
	struct cep_key *ck = r->ck;
	const struct cep_pattern *p = c->pat[ck->pat];
	if (c->o.eof_flush && !blocked_at_end(p, r)) {
		on_deadline(t, arg);
		return;
	}
	key_remove_run(ck, r);
	emit_partial(c, p, r, "eof");
	run_free(c, r);
	key_drop_if_empty(c, ck);
}

static void overflow(struct cep *c)
{
	while (c->o.max_partials && c->nruns > c->o.max_partials) {
		struct cep_run *r = (struct cep_run *)keyed_next(&c->k);
		struct cep_key *ck = r->ck;
		key_remove_run(ck, r);
		emit_partial(c, c->pat[ck->pat], r, "overflow");
		c->overflow++;
		run_free(c, r);
		key_drop_if_empty(c, ck);
	}
}

/* ---- one event ---------------------------------------------------------- */

static int cmp_done(const void *a, const void *b)
{
	const struct cep_run *x = *(struct cep_run *const *)a, *y = *(struct cep_run *const *)b;
	if (x->tm.when != y->tm.when)
		return x->tm.when < y->tm.when ? -1 : 1;
	return x->rseq < y->rseq ? -1 : x->rseq > y->rseq;
}

static void add_done(struct cep *c, struct cep_run *r)
{
	c->done = xgrow(c->done, &c->capdone, c->ndone + 1, sizeof *c->done);
	c->done[c->ndone++] = r;
}

/* The steps of p that e may fit, as a bit mask: its type fits, and a
 * condition that reads only the candidate is true.  Such a condition
 * has the same value in every run, so it is evaluated here once, not
 * per run; and when no step is left, no run of any key can take the
 * event, so the key is not even looked up. */
static uint64_t fit_mask(struct cep *c, const struct cep_pattern *p, const struct cur_ev *e, uint64_t m)
{
	for (uint64_t todo = m & p->own_steps; todo; todo &= todo - 1) {
		size_t j = (size_t)__builtin_ctzll(todo);
		const struct cep_step *s = &p->steps[j];
		for (size_t a = 0; a < p->naliases; a++)
			c->aptr[a] = p->alias_step[a] == (int)j ? e->d : NULL;
		struct expr_input in = { .doc = e->d, .alias_doc = c->aptr };
		int ok = expr_test(s->where, &in);
		if (ok < 0) /* (cep_event rejects the event before this) */
			ev_warn("warning: %s; the condition is taken as false", expr_error_reason(s->where));
		if (ok <= 0)
			m &= ~(UINT64_C(1) << j);
	}
	return m;
}

/* The steps of each pattern whose type e's type fits, npat masks.  They
 * depend on the type alone, so they are worked out once per type (up to
 * CEP_TYPES types; beyond, per event). */
static const uint64_t *type_masks(struct cep *c, const struct cur_ev *e)
{
	if (!e->type)
		return c->tmask_none;
	uint64_t h = bmap_quickhash(e->type, e->tlen);
	struct bmap_ent *be = bmap_find_h(&c->types, e->type, e->tlen, h);
	if (be)
		return &c->tmasks[(be->v[0] - 1) * c->npat];
	uint64_t *m = c->tmask_tmp;
	if (c->types.count < CEP_TYPES) {
		c->tmasks = xgrow(c->tmasks, &c->captmasks, (c->types.count + 1) * c->npat, sizeof *c->tmasks);
		m = &c->tmasks[c->types.count * c->npat];
		struct bmap_ent *ne = bmap_get_h(&c->types, e->type, e->tlen, h, NULL);
		ne->v[0] = c->types.count; /* its place + 1 */
	}
	for (size_t pi = 0; pi < c->npat; pi++) {
		const struct cep_pattern *p = c->pat[pi];
		m[pi] = 0;
		for (size_t j = 0; j < p->nsteps; j++)
			if (type_fits(&p->steps[j], e))
				m[pi] |= UINT64_C(1) << j;
	}
	return m;
}

/* --skip none: a quantified last step reports every match as it grows
 * (n, n+1, ... m events), not only the one it completes with. */
static void report_early(struct cep *c, const struct cep_pattern *p, struct cep_run *r)
{
	r->reported = 0;
	if (c->o.skip == CEP_SKIP_NONE && r->cur == p->last_pos && !p->trailing && can_end(p, r)) {
		r->reported = 1; /* written with this event's matches; the run stays */
		add_done(c, r);
	}
}

static void one_pattern(struct cep *c, size_t pi, const struct cur_ev *e, uint64_t tmask)
{
	const struct cep_pattern *p = c->pat[pi];
	if (!(c->fit = fit_mask(c, p, e, tmask)))
		return;
	if (p->single) {
		if (!fits(c, p, 0, NULL, e))
			return;
		struct cep_run one = {0};
		one.first = e->t;
		bind(&one, e, 0);
		buf_reset(&c->str);
		make_key(c, pi, e->d);
		key_text(c, pi, e->d, &c->str);
		emit_match(c, p, &one, c->str.p, c->str.len);
		run_ev_free(&one);
		return;
	}
	make_key(c, pi, e->d);
	uint64_t h = fnv1a64(c->key.p, c->key.len);
	struct kentry *ke = keyed_find_h(&c->k, c->key.p, c->key.len, h);
	struct cep_key *ck = ke ? ke->val : NULL;
	c->ndone = 0;
	/* runs need the event only when it fits a step a run can take (a
	 * first step that holds one event is no such step): a login that
	 * only starts runs leaves the key's runs untouched in memory */
	if (ck && (c->fit & p->cont_steps)) {
		size_t k = 0;
		for (size_t i = 0; i < ck->n; i++) {
			struct cep_run *r = ck->runs[i];
			switch (advance(c, p, r, e)) {
			case ADV_DONE:
				r->reported = 0;
				add_done(c, r);
				break;
			case ADV_DEAD:
				run_free(c, r);
				break;
			case ADV_BOUND:
				report_early(c, p, r);
				/* fall through */
			default:
				ck->runs[k++] = r;
			}
		}
		ck->n = k;
	}
	int skipped = c->ndone > 0 && c->o.skip == CEP_SKIP_PAST_LAST;
	if (!skipped && fits(c, p, 0, NULL, e)) {
		struct cep_run *r = run_new(c);
		r->rseq = c->rseq++;
		r->startseq = e->seq;
		r->first = e->t;
		r->cnt = 1;
		bind(r, e, 0);
		c->nruns++;
		if (!ck)
			ck = key_get(c, pi, e->d, h);
		r->ck = ck;
		r->tm.when = time_add_sat(e->t, p->within);
		if (done_now(p, r)) {
			add_done(c, r);
		} else {
			key_add_run(c, ck, r);
			keyed_schedule_lane(&c->k, &r->tm, r->tm.when, r->rseq, (unsigned)pi);
			report_early(c, p, r);
		}
	}
	if (c->ndone) {
		qsort(c->done, c->ndone, sizeof *c->done, cmp_done);
		for (size_t i = 0; i < c->ndone; i++) {
			struct cep_run *r = c->done[i];
			if (i == 0 || c->o.skip != CEP_SKIP_PAST_LAST)
				emit_match(c, p, r, ck->kt.p, ck->kt.len);
			if (!r->reported)
				run_free(c, r);
		}
		if (skipped)
			skip_past(c, ck, e->seq);
		c->ndone = 0;
	}
	if (ck)
		key_drop_if_empty(c, ck);
}

static void ev_type(struct cep *c, struct cur_ev *e)
{
	const struct jdoc *d = e->d;
	uint32_t tt = event_field(d, c->o.fm, F_TYPE);
	if (tt != JNONE && d->tok[tt].type == J_STR) {
		buf_reset(&c->tbuf);
		json_str(d, tt, &c->tbuf, &e->type, &e->tlen);
	}
}

static void process(struct cep *c, const char *line, size_t len, const struct jdoc *d, int64_t t)
{
	/* deadlines the watermark has passed come first */
	keyed_expire(&c->k, t, 0, on_deadline, c);
	if (c->o.hook_event && c->o.hook_event(c->o.hook_arg, line, len, d, t))
		return;
	struct cur_ev e = { line, len, d, t, c->seq++, NULL, 0, ID_PARSE, 0, NULL };
	ev_type(c, &e);
	if (c->lean) {
		e.lean = c; /* its id is found when a run binds it (lean_id) */
	} else if (c->o.ids && d->text == line) {
		/* where the id is, so that records list it without parsing the
		 * event again (a scalar's bytes are its compact form) */
		uint32_t it = event_field(d, c->o.fm, F_ID);
		if (it == JNONE) {
			e.idoff = ID_NULL;
		} else if (d->tok[it].type != J_OBJ && d->tok[it].type != J_ARR && d->tok[it].start <= INT32_MAX) {
			e.idoff = (int32_t)d->tok[it].start;
			e.idlen = d->tok[it].len;
		}
	}
	const uint64_t *tm = type_masks(c, &e);
	for (size_t pi = 0; pi < c->npat; pi++)
		if (tm[pi])
			one_pattern(c, pi, &e, tm[pi]);
	overflow(c);
}

/* ---- the reorder heap ------------------------------------------------------ */

static int held_before(const struct cep_held *a, const struct cep_held *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int held_less(const void *x, const void *y)
{
	return held_before(*(struct cep_held *const *)x, *(struct cep_held *const *)y);
}

static void release(struct cep *c, int64_t wm, int all)
{
	struct cep_held *h;
	while (c->held.n && (all || (*(struct cep_held **)heap_top(&c->held))->t <= wm)) {
		heap_pop(&c->held, &h);
		struct jerr je;
		c->proc_hseq = h->seq;
		if (json_parse(&c->rdoc, h->line, h->len, 0, &je) == 0)
			process(c, h->line, h->len, &c->rdoc, h->t);
		free(h);
	}
}

static void hold(struct cep *c, const char *line, size_t len, int64_t t, uint64_t seq)
{
	struct cep_held *h = xmalloc(sizeof *h + len);
	h->t = t;
	h->seq = seq;
	h->len = len;
	memcpy(h->line, line, len);
	heap_push(&c->held, &h);
}

/* The conditions that can fail (a regular expression hitting its
 * limit) of every step whose type the event fits, on the event as that
 * step's candidate, other aliases unbound: 0, or -1 with c->why. */
static int check(struct cep *c, const char *line, size_t len, const struct jdoc *d, int64_t t)
{
	if (!c->may_fail)
		return 0;
	struct cur_ev e = { line, len, d, t, 0, NULL, 0, ID_PARSE, 0, NULL };
	ev_type(c, &e);
	for (size_t pi = 0; pi < c->npat; pi++) {
		const struct cep_pattern *p = c->pat[pi];
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct cep_step *s = &p->steps[j];
			if (!s->where || !s->may_fail || !type_fits(s, &e))
				continue;
			for (size_t a = 0; a < p->naliases; a++)
				c->aptr[a] = p->alias_step[a] == (int)j ? d : NULL;
			struct expr_input in = { .doc = d, .alias_doc = c->aptr };
			if (expr_test(s->where, &in) < 0) {
				c->why = expr_error_reason(s->where);
				return -1;
			}
		}
	}
	return 0;
}

int cep_event(struct cep *c, const char *line, size_t len, const struct jdoc *d, int64_t t)
{
	if (c->have_time && t < time_add_sat(c->maxt, -c->o.lateness)) {
		if (c->o.late)
			late_write(c->o.late, line, len);
		c->late++;
		return 1;
	}
	if (check(c, line, len, d, t) < 0)
		return -1;
	if (!c->have_time || t > c->maxt)
		c->maxt = t;
	c->have_time = 1;
	if (c->o.lateness == 0 && !c->held.n) {
		c->proc_hseq = UINT64_MAX;
		process(c, line, len, d, t);
		return 0;
	}
	hold(c, line, len, t, c->hseq++);
	int64_t wm = time_add_sat(c->maxt, -c->o.lateness);
	release(c, wm, 0);
	keyed_expire(&c->k, wm, 0, on_deadline, c);
	if (c->o.hook_time)
		c->o.hook_time(c->o.hook_arg, wm);
	return 0;
}

static int cmp_timer(const void *a, const void *b)
{
	const struct ktimer *x = *(struct ktimer *const *)a, *y = *(struct ktimer *const *)b;
	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cep_end(struct cep *c, int keep)
{
	if (keep) {
		/* each run lists what stays open, in deadline order */
		size_t n = keyed_pending(&c->k);
		if (!c->o.partials || !n)
			return;
		struct ktimer **v = xmalloc(n * sizeof *v);
		keyed_timers(&c->k, v);
		qsort(v, n, sizeof *v, cmp_timer);
		for (size_t i = 0; i < n; i++) {
			struct cep_run *r = (struct cep_run *)v[i];
			emit_partial(c, c->pat[r->ck->pat], r, "eof");
		}
		free(v);
		return;
	}
	release(c, 0, 1);
	keyed_expire(&c->k, INT64_MAX, 1, on_eof, c);
}

/* ---- --state ------------------------------------------------------------- */

void cep_save(struct cep *c, struct buf *b, void (*line)(void *arg, const char *p, size_t n), void *arg)
{
	buf_reset(b);
	buf_adds(b, "{\"cep\":1,\"seq\":");
	jw_uint(b, c->seq);
	buf_adds(b, ",\"rseq\":");
	jw_uint(b, c->rseq);
	buf_adds(b, ",\"hseq\":");
	jw_uint(b, c->hseq);
	buf_adds(b, ",\"maxt\":");
	if (c->have_time)
		jw_int(b, c->maxt);
	else
		buf_adds(b, "null");
	buf_addc(b, '}');
	line(arg, b->p, b->len);
	/* held events, oldest first (any order reloads the same heap) */
	for (size_t i = 0; i < c->held.n; i++) {
		struct cep_held *h = *(struct cep_held **)heap_at(&c->held, i);
		buf_reset(b);
		buf_adds(b, "{\"held\":");
		buf_add(b, h->line, h->len);
		buf_adds(b, ",\"t\":");
		jw_int(b, h->t);
		buf_adds(b, ",\"s\":");
		jw_uint(b, h->seq);
		buf_addc(b, '}');
		line(arg, b->p, b->len);
	}
	for (struct kentry *e = c->k.head; e; e = e->next) {
		struct cep_key *ck = e->val;
		for (size_t i = 0; i < ck->n; i++) {
			struct cep_run *r = ck->runs[i];
			buf_reset(b);
			buf_adds(b, "{\"run\":");
			jw_uint(b, ck->pat);
			buf_adds(b, ",\"name\":");
			jw_cstring(b, c->pat[ck->pat]->name);
			buf_adds(b, ",\"key\":");
			buf_add(b, ck->kt.p, ck->kt.len);
			buf_adds(b, ",\"r\":");
			jw_uint(b, r->rseq);
			buf_adds(b, ",\"start\":");
			jw_uint(b, r->startseq);
			buf_adds(b, ",\"first\":");
			jw_int(b, r->first);
			buf_adds(b, ",\"cur\":");
			jw_int(b, r->cur);
			buf_adds(b, ",\"cnt\":");
			jw_uint(b, r->cnt);
			buf_adds(b, ",\"blocked\":");
			jw_uint(b, r->blocked);
			buf_adds(b, ",\"reported\":");
			buf_adds(b, r->reported ? "true" : "false");
			buf_adds(b, ",\"ev\":[");
			const char *p = r->ev.p, *end = r->ev.p + r->ev.len;
			for (int first = 1; p < end; first = 0) {
				const struct evrec *h = (const struct evrec *)p;
				if (!first)
					buf_addc(b, ',');
				buf_addc(b, '[');
				jw_int(b, h->step);
				buf_addc(b, ',');
				jw_int(b, h->t);
				buf_addc(b, ',');
				jw_uint(b, h->seq);
				buf_addc(b, ',');
				buf_add(b, EVTEXT(h), h->len);
				buf_addc(b, ']');
				p = (const char *)EVNEXT(h);
			}
			buf_adds(b, "]}");
			line(arg, b->p, b->len);
		}
	}
}

static int get_int(const struct jdoc *d, uint32_t obj, const char *k, int64_t *v)
{
	uint32_t t = json_get(d, obj, k, strlen(k));
	double dv;
	return t != JNONE && d->tok[t].type == J_NUM && json_tok_num(d, t, v, &dv) ? 0 : -1;
}

int cep_load_line(struct cep *c, const struct jdoc *d, char *err, size_t errlen)
{
	int64_t v;
	uint32_t t;
	if ((t = json_get(d, 0, "cep", 3)) != JNONE) {
		int64_t seq, rseq, hseq;
		if (get_int(d, 0, "seq", &seq) < 0 || get_int(d, 0, "rseq", &rseq) < 0 || get_int(d, 0, "hseq", &hseq) < 0)
			goto bad;
		c->seq = (uint64_t)seq;
		c->rseq = (uint64_t)rseq;
		c->hseq = (uint64_t)hseq;
		if (get_int(d, 0, "maxt", &v) == 0) {
			c->maxt = v;
			c->have_time = 1;
		}
		return 0;
	}
	if ((t = json_get(d, 0, "held", 4)) != JNONE) {
		int64_t ht, hs;
		if (d->tok[t].type != J_OBJ || get_int(d, 0, "t", &ht) < 0 || get_int(d, 0, "s", &hs) < 0)
			goto bad;
		hold(c, d->text + d->tok[t].start, d->tok[t].len, ht, (uint64_t)hs);
		return 0;
	}
	if ((t = json_get(d, 0, "run", 3)) != JNONE) {
		int64_t pi, rs, ss, first, cur, cnt, blocked;
		uint32_t kt = json_get(d, 0, "key", 3), ev = json_get(d, 0, "ev", 2);
		if (get_int(d, 0, "run", &pi) < 0 || pi < 0 || (size_t)pi >= c->npat || kt == JNONE || ev == JNONE ||
		    d->tok[ev].type != J_ARR || get_int(d, 0, "r", &rs) < 0 || get_int(d, 0, "start", &ss) < 0 ||
		    get_int(d, 0, "first", &first) < 0 || get_int(d, 0, "cur", &cur) < 0 ||
		    get_int(d, 0, "cnt", &cnt) < 0 || get_int(d, 0, "blocked", &blocked) < 0)
			goto bad;
		const struct cep_pattern *p = c->pat[pi];
		if (cur < 0 || (size_t)cur >= p->nsteps || p->steps[cur].absent)
			goto bad;
		/* the key bytes, as make_key builds them */
		uint32_t pi32 = (uint32_t)pi;
		buf_reset(&c->key);
		buf_add(&c->key, &pi32, sizeof pi32);
		size_t n = p->nby ? p->nby : 1;
		if (n == 1) {
			json_value_key(d, d->tok[kt].type == J_NULL ? JNONE : kt, &c->key);
		} else {
			if (d->tok[kt].type != J_ARR || json_count(d, kt) != n)
				goto bad;
			for (uint32_t e = kt + 1; e < d->tok[kt].next; e = d->tok[e].next) {
				size_t at = c->key.len;
				uint32_t len = 0;
				buf_add(&c->key, &len, sizeof len);
				json_value_key(d, d->tok[e].type == J_NULL ? JNONE : e, &c->key);
				len = (uint32_t)(c->key.len - at - sizeof len);
				memcpy(c->key.p + at, &len, sizeof len);
			}
		}
		int created;
		struct kentry *ke = keyed_get(&c->k, c->key.p, c->key.len, &created);
		struct cep_key *ck = ke->val;
		if (created) {
			ck = key_new(ke, (size_t)pi);
			json_write_compact(d, kt, &ck->kt);
		}
		struct cep_run *r = xcalloc(1, sizeof *r);
		r->ck = ck;
		r->rseq = (uint64_t)rs;
		r->startseq = (uint64_t)ss;
		r->first = first;
		r->cur = (int)cur;
		r->cnt = (uint32_t)cnt;
		r->blocked = (uint64_t)blocked;
		uint32_t rep = json_get(d, 0, "reported", 8);
		r->reported = rep != JNONE && d->tok[rep].type == J_TRUE;
		for (uint32_t e = ev + 1; e < d->tok[ev].next; e = d->tok[e].next) {
			int64_t step, et, es;
			double dv;
			uint32_t a = e + 1, b2, c3, d4;
			if (d->tok[e].type != J_ARR || json_count(d, e) != 4)
				goto badrun;
			b2 = d->tok[a].next;
			c3 = d->tok[b2].next;
			d4 = d->tok[c3].next;
			if (!json_tok_num(d, a, &step, &dv) || !json_tok_num(d, b2, &et, &dv) ||
			    !json_tok_num(d, c3, &es, &dv) || d->tok[d4].type != J_OBJ)
				goto badrun;
			struct cur_ev ce = { d->text + d->tok[d4].start, d->tok[d4].len, NULL, et, (uint64_t)es, NULL, 0, ID_PARSE, 0, NULL };
			bind(r, &ce, (int)step);
		}
		if (!r->nev)
			goto badrun;
		c->nruns++;
		key_add_run(c, ck, r);
		keyed_schedule_lane(&c->k, &r->tm, time_add_sat(r->first, p->within), r->rseq, (unsigned)pi);
		return 0;
badrun:
		run_ev_free(r);
		free(r);
		key_drop_if_empty(c, ck);
		goto bad;
	}
bad:
	snprintf(err, errlen, "unexpected line");
	return -1;
}

void cep_free(struct cep *c)
{
	for (struct kentry *e = c->k.head; e; e = e->next) {
		struct cep_key *ck = e->val;
		for (size_t i = 0; i < ck->n; i++) {
			run_ev_free(ck->runs[i]);
			free(ck->runs[i]);
		}
		if (ck->runs != ck->inl)
			free(ck->runs);
		buf_free(&ck->kt);
	}
	keyed_free(&c->k);
	bmap_free(&c->types);
	free(c->tmasks);
	free(c->tmask_none);
	free(c->tmask_tmp);
	free(c->ktok);
	for (size_t i = 0; i < c->nspare; i++) {
		run_ev_free(c->spare[i]);
		free(c->spare[i]);
	}
	free(c->spare);
	for (size_t i = 0; i < c->held.n; i++)
		free(*(struct cep_held **)heap_at(&c->held, i));
	heap_free(&c->held);
	free(c->done);
	buf_free(&c->key);
	buf_free(&c->idtext);
	buf_free(&c->out);
	buf_free(&c->str);
	buf_free(&c->tmp);
	buf_free(&c->tbuf);
	for (size_t i = 0; i < CEP_MAX_STEPS; i++)
		json_doc_free(&c->adoc[i]);
	json_doc_free(&c->rdoc);
	json_doc_free(&c->idoc);
}
