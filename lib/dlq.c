/* dlq.c — DLQ records, triage, envelopes, breakers (see dlq.h). */
#include "dlq.h"
#include "ev.h"
#include "timeutil.h"
#include "event.h"
#include "jwrite.h"
#include "wfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GET(d, obj, lit) json_get((d), (obj), lit, sizeof lit - 1)

void dlq_put_time(struct buf *b, int64_t us)
{
	char t[40];
	jw_string(b, t, time_format(us, t));
}

/* A whole number >= 0 at t: 0 ok (*v), -1 with why naming what. */
static int whole(const struct jdoc *d, uint32_t t, const char *what, int64_t *v, char *why, size_t whylen)
{
	const struct jtok *k = &d->tok[t];
	if (json_tok_int(d, t, INT64_MIN, INT64_MAX, v) < 0) {
		snprintf(why, whylen, "%s is not a whole number: %.*s", what, (int)(k->len > 40 ? 40 : k->len),
		         d->text + k->start);
		return -1;
	}
	if (*v < 0) {
		snprintf(why, whylen, "negative %s %.*s", what, (int)k->len, d->text + k->start);
		return -1;
	}
	return 0;
}

/* A time at t: 0 ok; -1 with why ("missing failed_at", "bad time in
 * failed_at: ..."). */
static int rec_time(const struct jdoc *d, uint32_t t, enum time_unit unit, const char *what, int64_t *us,
                    char *why, size_t whylen)
{
	if (t == JNONE) {
		snprintf(why, whylen, "not a DLQ record: no %s", what);
		return -1;
	}
	if (time_of_token(d, t, unit, us) < 0) {
		const struct jtok *k = &d->tok[t];
		snprintf(why, whylen, "bad time in %s: %.*s", what, (int)(k->len > 60 ? 60 : k->len), d->text + k->start);
		return -1;
	}
	return 0;
}

int dlq_read(const struct jdoc *d, enum time_unit unit, struct dlq_rec *r, char *why, size_t whylen)
{
	memset(r, 0, sizeof *r);
	r->max_retries = -1;
	r->strategy = -1;
	r->message = GET(d, 0, "message");
	if (r->message == JNONE || d->tok[r->message].type != J_OBJ) {
		snprintf(why, whylen, "not a DLQ record: no \"message\" object");
		return -1;
	}
	uint32_t t = GET(d, 0, "reason");
	if (t == JNONE || d->tok[t].type != J_STR) {
		snprintf(why, whylen, "not a DLQ record: no \"reason\" string");
		return -1;
	}
	if ((t = GET(d, 0, "retry_count")) == JNONE) {
		snprintf(why, whylen, "not a DLQ record: no retry_count");
		return -1;
	}
	if (whole(d, t, "retry_count", &r->retry_count, why, whylen) < 0)
		return -1;
	r->first_failed_at = GET(d, 0, "first_failed_at");
	if (rec_time(d, GET(d, 0, "failed_at"), unit, "failed_at", &r->failed_us, why, whylen) < 0 ||
	    rec_time(d, r->first_failed_at, unit, "first_failed_at", &r->first_us, why, whylen) < 0)
		return -1;
	if ((t = GET(d, 0, "max_retries")) != JNONE && d->tok[t].type != J_NULL &&
	    whole(d, t, "max_retries", &r->max_retries, why, whylen) < 0)
		return -1;
	if ((t = GET(d, 0, "strategy")) != JNONE && d->tok[t].type != J_NULL) {
		const struct jtok *k = &d->tok[t];
		int s = k->type == J_STR && !(k->flags & JF_ESC)
		        ? backoff_strategy_parse(d->text + k->start + 1, k->len - 2) : -1;
		if (s < 0) {
			snprintf(why, whylen, "unknown strategy %.*s (exponential, linear, fibonacci or fixed)",
			         (int)(k->len > 40 ? 40 : k->len), d->text + k->start);
			return -1;
		}
		r->strategy = s;
	}
	r->history = GET(d, 0, "history");
	if (r->history != JNONE && d->tok[r->history].type != J_ARR) {
		snprintf(why, whylen, "history is not an array");
		return -1;
	}
	r->next_retry_at = GET(d, 0, "next_retry_at");
	if (r->next_retry_at != JNONE &&
	    rec_time(d, r->next_retry_at, unit, "next_retry_at", &r->next_us, why, whylen) < 0)
		return -1;
	return 0;
}

/* ---- fail and expire ------------------------------------------------ */

/* Append the elements of array t (maybe JNONE) then one more comma when
 * there were any: out ends ready for the next element. */
static void history_prefix(const struct jdoc *d, uint32_t t, struct buf *out)
{
	buf_addc(out, '[');
	if (t == JNONE || json_count(d, t) == 0)
		return;
	size_t at = out->len;
	json_write_compact(d, t, out);
	/* compact form "[...]": drop our duplicate '[' and its ']' */
	memmove(out->p + at, out->p + at + 1, out->len - at - 1);
	out->len -= 2;
	out->p[out->len] = '\0';
	buf_addc(out, ',');
}

int dlq_fail_record(const struct jdoc *d, enum time_unit unit, const struct dlq_fail *f,
                    struct buf *out, char *why, size_t whylen)
{
	uint32_t dlq = GET(d, 0, "dlq"), routing = GET(d, 0, "routing"), t;
	int64_t count = 0, first = f->at, maxr = -1;
	uint32_t first_tok = JNONE, history = JNONE;
	if (dlq != JNONE) {
		if (d->tok[dlq].type != J_OBJ) {
			snprintf(why, whylen, "dlq member is not an object");
			return -1;
		}
		if ((t = GET(d, dlq, "retry_count")) == JNONE) {
			snprintf(why, whylen, "dlq member without retry_count");
			return -1;
		}
		if (whole(d, t, "dlq.retry_count", &count, why, whylen) < 0)
			return -1;
		count = time_add_sat(count, 1);
		first_tok = GET(d, dlq, "first_failed_at");
		if (first_tok == JNONE || time_of_token(d, first_tok, unit, &first) < 0) {
			snprintf(why, whylen, "dlq member without a valid first_failed_at");
			return -1;
		}
		history = GET(d, dlq, "history");
		if (history != JNONE && d->tok[history].type != J_ARR) {
			snprintf(why, whylen, "dlq.history is not an array");
			return -1;
		}
	} else if ((t = GET(d, routing, "retry_count")) != JNONE && d->tok[t].type != J_NULL) {
		if (whole(d, t, "routing.retry_count", &count, why, whylen) < 0)
			return -1;
	}
	if ((t = GET(d, routing, "max_retries")) != JNONE && d->tok[t].type != J_NULL &&
	    whole(d, t, "routing.max_retries", &maxr, why, whylen) < 0)
		return -1;
	if (maxr < 0)
		maxr = f->max_retries >= 0 ? f->max_retries : DLQ_DEFAULT_MAX_RETRIES;

	buf_adds(out, "{\"message\":");
	buf_add(out, d->text + d->tok[0].start, d->tok[0].len);
	buf_adds(out, ",\"reason\":");
	jw_cstring(out, f->reason);
	buf_adds(out, ",\"first_failed_at\":");
	if (first_tok != JNONE)
		json_write_compact(d, first_tok, out);
	else
		dlq_put_time(out, first);
	buf_adds(out, ",\"failed_at\":");
	dlq_put_time(out, f->at);
	buf_adds(out, ",\"retry_count\":");
	jw_int(out, count);
	buf_adds(out, ",\"max_retries\":");
	jw_int(out, maxr);
	buf_adds(out, ",\"strategy\":");
	jw_cstring(out, backoff_strategy_name(f->strategy >= 0 ? f->strategy : BO_EXPONENTIAL));
	buf_adds(out, ",\"history\":");
	history_prefix(d, history, out);
	buf_adds(out, "{\"reason\":");
	jw_cstring(out, f->reason);
	buf_adds(out, ",\"at\":");
	dlq_put_time(out, f->at);
	buf_adds(out, "}]}");
	return 0;
}

int dlq_ttl_expired(const struct jdoc *d, enum time_unit unit, int64_t now, char *why, size_t whylen)
{
	uint32_t headers = GET(d, 0, "headers");
	uint32_t ttl = GET(d, headers, "ttl"), ts = GET(d, headers, "timestamp");
	if (ttl == JNONE || d->tok[ttl].type == J_NULL)
		return 0;
	const struct jtok *k = &d->tok[ttl];
	int64_t ttl_us, at;
	if (k->type != J_NUM) {
		snprintf(why, whylen, "headers.ttl is not a number of seconds: %.*s", (int)(k->len > 40 ? 40 : k->len),
		         d->text + k->start);
		return -1;
	}
	if (d->text[k->start] == '-') {
		snprintf(why, whylen, "negative headers.ttl %.*s", (int)k->len, d->text + k->start);
		return -1;
	}
	if (time_from_epoch_text(d->text + k->start, k->len, TU_S, &ttl_us) < 0)
		ttl_us = INT64_MAX; /* beyond int64 microseconds: never in our time range */
	if (ts == JNONE) {
		snprintf(why, whylen, "headers.ttl without headers.timestamp");
		return -1;
	}
	if (time_of_token(d, ts, unit, &at) < 0) {
		const struct jtok *s = &d->tok[ts];
		snprintf(why, whylen, "bad time in headers.timestamp: %.*s", (int)(s->len > 60 ? 60 : s->len),
		         d->text + s->start);
		return -1;
	}
	return now >= time_add_sat(at, ttl_us);
}

/* ---- triage --------------------------------------------------------- */

const char *dlq_decision_name(enum dlq_decision d)
{
	static const char *const n[] = { "expired", "dead", "retry" };
	return n[d];
}

enum dlq_decision dlq_triage(struct dlq_policy *p, const struct dlq_rec *r, int64_t now, int64_t *next)
{
	if (now > time_add_sat(r->first_us, p->max_age))
		return DLQ_EXPIRED;
	int64_t maxr = r->max_retries >= 0 ? r->max_retries
	             : p->max_retries >= 0 ? p->max_retries : DLQ_DEFAULT_MAX_RETRIES;
	if (r->retry_count >= maxr)
		return DLQ_DEAD;
	enum backoff_strategy s = r->strategy >= 0 ? (enum backoff_strategy)r->strategy
	                        : p->strategy >= 0 ? (enum backoff_strategy)p->strategy : BO_EXPONENTIAL;
	int64_t base = p->base >= 0 ? p->base : backoff_default_base(s);
	int64_t d = backoff_delay(s, base, r->retry_count, p->cap);
	d = backoff_jitter(p->jitter, d, base, p->cap, &p->prng);
	*next = time_add_sat(r->failed_us, d);
	return DLQ_RETRY;
}

void dlq_triaged(const struct jdoc *d, enum dlq_decision dec, int64_t next, int with_decision,
                 struct buf *out)
{
	static const char *const drop[] = { "next_retry_at", "decision" };
	size_t n = jw_object_except(out, d, 0, drop, 2);
	if (dec == DLQ_RETRY) {
		buf_adds(out, n ? ",\"next_retry_at\":" : "\"next_retry_at\":");
		dlq_put_time(out, next);
		n++;
	}
	if (with_decision) {
		buf_adds(out, n ? ",\"decision\":" : "\"decision\":");
		jw_cstring(out, dlq_decision_name(dec));
	}
	buf_addc(out, '}');
}

void dlq_redrive(const struct jdoc *d, const struct dlq_rec *r, struct buf *out)
{
	static const char *const drop[] = { "dlq" };
	size_t n = jw_object_except(out, d, r->message, drop, 1);
	buf_adds(out, n ? ",\"dlq\":{\"retry_count\":" : "\"dlq\":{\"retry_count\":");
	jw_int(out, r->retry_count);
	buf_adds(out, ",\"first_failed_at\":");
	json_write_compact(d, r->first_failed_at, out);
	buf_adds(out, ",\"history\":");
	if (r->history != JNONE)
		json_write_compact(d, r->history, out);
	else
		buf_adds(out, "[]");
	buf_adds(out, "}}");
}

/* ---- queued messages ------------------------------------------------ */

int dlq_priority(const struct jdoc *d, const char **p, size_t *n, char *why, size_t whylen)
{
	uint32_t t = GET(d, GET(d, 0, "headers"), "priority");
	if (t == JNONE || d->tok[t].type == J_NULL) {
		*p = "0";
		*n = 1;
		return 0;
	}
	const struct jtok *k = &d->tok[t];
	const char *s = d->text + k->start;
	if (k->type == J_NUM) {
		*p = s;
		*n = k->len;
		return 0;
	}
	if (k->type == J_STR) {
		static const struct { const char *name, *num; } names[] = {
			{ "\"high\"", "1" }, { "\"normal\"", "0" }, { "\"low\"", "-1" }
		};
		for (size_t i = 0; i < 3; i++)
			if (k->len == strlen(names[i].name) && memcmp(s, names[i].name, k->len) == 0) {
				*p = names[i].num;
				*n = strlen(names[i].num);
				return 0;
			}
	}
	snprintf(why, whylen, "bad headers.priority %.*s (a number, \"high\", \"normal\" or \"low\")",
	         (int)(k->len > 40 ? 40 : k->len), s);
	return -1;
}

/* ---- circuit breaker ------------------------------------------------ */

const char *breaker_state_name(enum breaker_state s)
{
	static const char *const n[] = { "closed", "open", "half_open" };
	return n[s];
}

const char *breaker_reason_name(enum breaker_reason r)
{
	static const char *const n[] = { "failure_threshold", "open_timeout", "success_threshold", "probe_failure" };
	return n[r];
}

static void trans(struct breaker_step *s, uint64_t *state, enum breaker_state to, enum breaker_reason why)
{
	s->t[s->ntrans].from = (enum breaker_state)*state;
	s->t[s->ntrans].to = to;
	s->t[s->ntrans].why = why;
	s->ntrans++;
	*state = to;
}

void breaker_outcome(struct breaker *b, const void *k, size_t kn, int ok, int64_t at, struct breaker_step *s)
{
	struct bmap_ent *e = bmap_get(&b->keys, k, kn, NULL);
	uint64_t *state = &e->v[0], *failures = &e->v[1], *opened = &e->v[2], *half = &e->v[3];
	s->ntrans = 0;
	if (*state == BR_OPEN) {
		if (at < time_add_sat((int64_t)*opened, b->p.open_for)) {
			s->met = BR_OPEN; /* short-circuited: changes nothing */
			return;
		}
		trans(s, state, BR_HALF_OPEN, BR_OPEN_TIMEOUT);
		*half = 0;
	}
	s->met = (enum breaker_state)*state;
	if (*state == BR_CLOSED) {
		if (!ok && ++*failures >= (uint64_t)b->p.failures) {
			trans(s, state, BR_OPEN, BR_FAILURE_THRESHOLD);
			*opened = (uint64_t)at;
		}
		return;
	}
	/* half-open: the first probes are let through, the rest change nothing */
	uint64_t probes = *half & 0xffffffffu, succ = *half >> 32;
	if (probes >= (uint64_t)b->p.probes)
		return;
	probes++;
	if (!ok) {
		trans(s, state, BR_OPEN, BR_PROBE_FAILURE);
		*opened = (uint64_t)at;
		return;
	}
	if (++succ >= (uint64_t)b->p.successes) {
		trans(s, state, BR_CLOSED, BR_SUCCESS_THRESHOLD);
		*failures = 0;
		return;
	}
	*half = probes | succ << 32;
}

void breaker_free(struct breaker *b)
{
	bmap_free(&b->keys);
}

/* ---- the queue run -------------------------------------------------- */

enum { QM_READY = 1, QM_DELAYED = 2, QM_OUT = 4, QM_TS = 8 };

struct qmsg {
	uint64_t off;       /* the line in the spool */
	uint64_t poff;      /* priority text in the spool, when sprio is NULL */
	const char *sprio;  /* or a string of dlq_priority's */
	int64_t ts;
	uint32_t len, plen, queue;
	uint32_t flags;
};

struct qinfo {
	char *json;
	size_t jn;
	uint64_t dequeued, remaining, delayed;
	int have_oldest;
	int64_t oldest;
	uint64_t *ready; /* indexes of its ready messages, in input order */
	size_t nready, capready;
};

struct dlq_queue {
	struct wfile *spool;
	uint64_t spooled;
	struct qmsg *m;
	size_t n, cap;
	struct bmap index; /* queue key -> v[0] = queue number + 1 */
	struct qinfo *q;
	size_t nq, capq;
	const char *base; /* the mapped spool, while sorting */
};

struct dlq_queue *dlq_queue_new(void)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	struct buf path = {0};
	buf_printf(&path, "%s/evdlq-spool.XXXXXX", dir);
	int fd = mkstemp(path.p);
	if (fd < 0)
		ev_die_errno(EV_IO, "cannot create a spool file in %s", dir);
	unlink(path.p);
	buf_free(&path);
	struct dlq_queue *q = xcalloc(1, sizeof *q);
	q->spool = wfile_fd(fd, "the spool file (TMPDIR)");
	return q;
}

void dlq_queue_add(struct dlq_queue *q, const char *line, size_t len, const void *key, size_t kn,
                   const char *qjson, size_t qjn, const char *prio, size_t pn, int delayed,
                   int have_ts, int64_t ts)
{
	int created;
	struct bmap_ent *e = bmap_get(&q->index, key, kn, &created);
	if (created) {
		q->q = xgrow(q->q, &q->capq, q->nq + 1, sizeof *q->q);
		memset(&q->q[q->nq], 0, sizeof *q->q);
		q->q[q->nq].json = xmemdup(qjson, qjn);
		q->q[q->nq].jn = qjn;
		e->v[0] = ++q->nq;
	}
	q->m = xgrow(q->m, &q->cap, q->n + 1, sizeof *q->m);
	struct qmsg *m = &q->m[q->n];
	memset(m, 0, sizeof *m);
	m->off = q->spooled;
	m->len = (uint32_t)len;
	m->queue = (uint32_t)(e->v[0] - 1);
	struct qinfo *qi = &q->q[m->queue];
	if (prio) {
		m->flags |= QM_READY;
		if (prio >= line && prio < line + len) {
			m->poff = q->spooled + (uint64_t)(prio - line);
		} else {
			m->sprio = prio;
		}
		m->plen = (uint32_t)pn;
		qi->ready = xgrow(qi->ready, &qi->capready, qi->nready + 1, sizeof *qi->ready);
		qi->ready[qi->nready++] = q->n;
		if (have_ts && (!qi->have_oldest || ts < qi->oldest)) {
			qi->oldest = ts;
			qi->have_oldest = 1;
		}
	} else if (delayed) {
		m->flags |= QM_DELAYED;
	}
	if (have_ts) {
		m->flags |= QM_TS;
		m->ts = ts;
	}
	wfile_write(q->spool, line, len);
	q->spooled += len;
	q->n++;
}

static const struct dlq_queue *sorting;

static int by_priority(const void *a, const void *b)
{
	const struct qmsg *x = &sorting->m[*(const uint64_t *)a], *y = &sorting->m[*(const uint64_t *)b];
	const char *xp = x->sprio ? x->sprio : sorting->base + x->poff;
	const char *yp = y->sprio ? y->sprio : sorting->base + y->poff;
	int c = json_num_cmp(yp, y->plen, xp, x->plen); /* larger first */
	if (c)
		return c;
	return x->off < y->off ? -1 : x->off > y->off; /* then input order */
}

void dlq_queue_run(struct dlq_queue *q, int64_t batch, const struct dlq_queue_sink *s)
{
	wfile_flush(q->spool);
	const char *base = "";
	if (q->spooled) {
		void *p = mmap(NULL, q->spooled, PROT_READ, MAP_PRIVATE, q->spool->fd, 0);
		if (p == MAP_FAILED)
			ev_die_errno(EV_IO, "cannot map the spool file");
		base = p;
	}
	q->base = base;
	sorting = q;
	for (size_t i = 0; i < q->nq; i++) {
		struct qinfo *qi = &q->q[i];
		if (qi->nready > 1)
			qsort(qi->ready, qi->nready, sizeof *qi->ready, by_priority);
		size_t take = batch >= 0 && (uint64_t)batch < qi->nready ? (size_t)batch : qi->nready;
		for (size_t j = 0; j < take; j++) {
			struct qmsg *m = &q->m[qi->ready[j]];
			m->flags |= QM_OUT;
			s->out(base + m->off, m->len, s->arg);
		}
		qi->dequeued = take;
	}
	for (size_t i = 0; i < q->n; i++) {
		struct qmsg *m = &q->m[i];
		if (m->flags & QM_OUT)
			continue;
		q->q[m->queue].remaining++;
		if (m->flags & QM_DELAYED)
			q->q[m->queue].delayed++;
		if (s->keep)
			s->keep(base + m->off, m->len, s->arg);
	}
	for (size_t i = 0; i < q->nq && s->stats; i++) {
		struct qinfo *qi = &q->q[i];
		s->stats(qi->json, qi->jn, qi->dequeued, qi->remaining, qi->delayed, qi->have_oldest, qi->oldest, s->arg);
	}
	if (q->spooled)
		munmap((void *)base, q->spooled);
	sorting = NULL;
}

void dlq_queue_free(struct dlq_queue *q)
{
	if (!q)
		return;
	close(q->spool->fd);
	free(q->spool->buf);
	free(q->spool);
	for (size_t i = 0; i < q->nq; i++) {
		free(q->q[i].json);
		free(q->q[i].ready);
	}
	free(q->q);
	free(q->m);
	bmap_free(&q->index);
	free(q);
}
