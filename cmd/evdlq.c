/*
 * evdlq — dead letters, retry schedules, redrive, TTL expiry and circuit
 * breakers over NDJSON: `fail` turns failed messages into DLQ records,
 * `triage` (the default) decides retry, dead or expired, `due` releases
 * what is due for redelivery, `dequeue` is a priority queue over a file,
 * `expire` dead-letters messages past their ttl, `breaker` replays
 * outcomes through per-key circuit breakers.
 *
 * What this file adds over lib/: the subcommands and which options each
 * takes, routing records to files (written whole through lib/atomic, or
 * not at all), the triage counts and the dead-rate alert.  Records,
 * decisions and the queue order are lib/dlq.c; delays and jitter
 * lib/backoff.c; the draws lib/prng.c.
 */
#include "atomic.h"
#include "cli.h"
#include "dlq.h"
#include "ev.h"
#include "jwrite.h"
#include "strset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum sub { S_FAIL, S_TRIAGE, S_DUE, S_DEQUEUE, S_EXPIRE, S_BREAKER, S_N };
static const char *const sub_names[S_N] = { "fail", "triage", "due", "dequeue", "expire", "breaker" };
#define ALL ((1u << S_N) - 1)
#define ON(s) (1u << (s))

enum {
	OPT_REASON = OPT_TOOL_BASE, OPT_MAX_RETRIES, OPT_STRATEGY, OPT_MAX_AGE, OPT_BASE, OPT_CAP,
	OPT_JITTER, OPT_SEED, OPT_RETRY_OUT, OPT_DEAD_OUT, OPT_EXPIRED_OUT, OPT_KEEP_OUT, OPT_STATS,
	OPT_STATS_OUT, OPT_ALERT_RATE, OPT_ALERT_MIN, OPT_ALERTS, OPT_QUEUE, OPT_BATCH, OPT_OK_FIELD,
	OPT_FAILURES, OPT_OPEN_FOR, OPT_PROBES, OPT_SUCCESSES, OPT_ANNOTATE, OPT_END
};

static const struct option longopts[] = {
	{ "where", required_argument, NULL, 'w' },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ "max-retries", required_argument, NULL, OPT_MAX_RETRIES },
	{ "strategy", required_argument, NULL, OPT_STRATEGY },
	{ "max-age", required_argument, NULL, OPT_MAX_AGE },
	{ "base", required_argument, NULL, OPT_BASE },
	{ "cap", required_argument, NULL, OPT_CAP },
	{ "jitter", required_argument, NULL, OPT_JITTER },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "retry-out", required_argument, NULL, OPT_RETRY_OUT },
	{ "dead-out", required_argument, NULL, OPT_DEAD_OUT },
	{ "expired-out", required_argument, NULL, OPT_EXPIRED_OUT },
	{ "keep-out", required_argument, NULL, OPT_KEEP_OUT },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "stats-out", required_argument, NULL, OPT_STATS_OUT },
	{ "alert-rate", required_argument, NULL, OPT_ALERT_RATE },
	{ "alert-min", required_argument, NULL, OPT_ALERT_MIN },
	{ "alerts", required_argument, NULL, OPT_ALERTS },
	{ "queue", required_argument, NULL, OPT_QUEUE },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "ok-field", required_argument, NULL, OPT_OK_FIELD },
	{ "failures", required_argument, NULL, OPT_FAILURES },
	{ "open-for", required_argument, NULL, OPT_OPEN_FOR },
	{ "probes", required_argument, NULL, OPT_PROBES },
	{ "successes", required_argument, NULL, OPT_SUCCESSES },
	{ "annotate", no_argument, NULL, OPT_ANNOTATE },
	{ NULL, 0, NULL, 0 }
};

/* The subcommands each option belongs to; -w (index 0) to all. */
static const unsigned opt_subs[OPT_END - OPT_TOOL_BASE] = {
	[OPT_REASON - OPT_TOOL_BASE] = ON(S_FAIL),
	[OPT_MAX_RETRIES - OPT_TOOL_BASE] = ON(S_FAIL) | ON(S_TRIAGE) | ON(S_EXPIRE),
	[OPT_STRATEGY - OPT_TOOL_BASE] = ON(S_FAIL) | ON(S_TRIAGE) | ON(S_EXPIRE),
	[OPT_MAX_AGE - OPT_TOOL_BASE] = ON(S_TRIAGE),
	[OPT_BASE - OPT_TOOL_BASE] = ON(S_TRIAGE),
	[OPT_CAP - OPT_TOOL_BASE] = ON(S_TRIAGE),
	[OPT_JITTER - OPT_TOOL_BASE] = ON(S_TRIAGE),
	[OPT_SEED - OPT_TOOL_BASE] = ON(S_TRIAGE),
	[OPT_RETRY_OUT - OPT_TOOL_BASE] = ON(S_TRIAGE),
	[OPT_DEAD_OUT - OPT_TOOL_BASE] = ON(S_TRIAGE),
	[OPT_EXPIRED_OUT - OPT_TOOL_BASE] = ON(S_TRIAGE) | ON(S_EXPIRE),
	[OPT_KEEP_OUT - OPT_TOOL_BASE] = ON(S_DUE) | ON(S_DEQUEUE) | ON(S_EXPIRE),
	[OPT_STATS - OPT_TOOL_BASE] = ON(S_TRIAGE) | ON(S_DEQUEUE),
	[OPT_STATS_OUT - OPT_TOOL_BASE] = ON(S_TRIAGE) | ON(S_DEQUEUE),
	[OPT_ALERT_RATE - OPT_TOOL_BASE] = ON(S_TRIAGE),
	[OPT_ALERT_MIN - OPT_TOOL_BASE] = ON(S_TRIAGE),
	[OPT_ALERTS - OPT_TOOL_BASE] = ON(S_TRIAGE),
	[OPT_QUEUE - OPT_TOOL_BASE] = ON(S_DEQUEUE),
	[OPT_BATCH - OPT_TOOL_BASE] = ON(S_DEQUEUE),
	[OPT_OK_FIELD - OPT_TOOL_BASE] = ON(S_BREAKER),
	[OPT_FAILURES - OPT_TOOL_BASE] = ON(S_BREAKER),
	[OPT_OPEN_FOR - OPT_TOOL_BASE] = ON(S_BREAKER),
	[OPT_PROBES - OPT_TOOL_BASE] = ON(S_BREAKER),
	[OPT_SUCCESSES - OPT_TOOL_BASE] = ON(S_BREAKER),
	[OPT_ANNOTATE - OPT_TOOL_BASE] = ON(S_BREAKER),
};

static const char help_text[] =
	"Dead letters, retry schedules, redrive, TTL expiry and circuit breakers.\n"
	"Subcommands (the first argument; default triage), with their options:\n"
	"  fail      failed messages -> DLQ records: --reason R (required),\n"
	"            --max-retries N (5), --strategy S\n"
	"  triage    DLQ records -> retry, dead or expired: --max-retries N, --strategy\n"
	"            exponential|linear|fibonacci|fixed, --max-age DUR (7d), --base DUR\n"
	"            (1s; 60s linear, fibonacci), --cap DUR, --jitter none|full|equal|\n"
	"            decorrelated, --seed N, --retry-out/--dead-out/--expired-out FILE,\n"
	"            --stats, --stats-out FILE, --alert-rate R (0.1), --alert-min N (1),\n"
	"            --alerts FILE\n"
	"  due       retry records due by --now -> messages: --keep-out FILE\n"
	"  dequeue   a queue file -> batches per queue by priority: --queue PATH\n"
	"            (routing.key), --batch N (all), --keep-out FILE, --stats,\n"
	"            --stats-out FILE\n"
	"  expire    messages past headers.ttl -> DLQ records: --max-retries N,\n"
	"            --expired-out FILE, --keep-out FILE\n"
	"  breaker   outcome events -> circuit breaker transitions: --ok-field PATH\n"
	"            (ok), --failures N (5), --open-for DUR (30s), --probes N (3),\n"
	"            --successes N (3), --annotate\n"
	"  -w, --where EXPR  act only on records where EXPR is true (the others pass)\n"
	"Output files are replaced whole when the run succeeds (status 0 or 3).\n";

enum { O_RETRY, O_DEAD, O_EXPIRED, O_KEEP, O_STATS, O_NOUT };
static const char *const out_opts[O_NOUT] = {
	"--retry-out", "--dead-out", "--expired-out", "--keep-out", "--stats-out"
};

struct dlq {
	enum sub sub;
	unsigned given; /* bit i: option OPT_TOOL_BASE + i given */
	const char **where_src;
	size_t nwhere;
	struct expr **where;
	const char *out_path[O_NOUT];
	struct atomic_file *out[O_NOUT];
	const char *alerts_path;
	struct wfile *alerts;
	int stats;

	/* fail, expire */
	struct dlq_fail fail;
	/* triage */
	struct dlq_policy pol;
	int64_t seed;
	double alert_rate;
	int64_t alert_min;
	uint64_t total, decided[DLQ_NDECISIONS];
	struct bmap reasons; /* reason -> v[0] index + 1 */
	char **reason_name; /* NUL-terminated copies; reason_len their lengths */
	size_t *reason_len;
	uint64_t (*reason_count)[DLQ_NDECISIONS];
	size_t nreason, capreason;
	/* dequeue */
	struct path queue;
	int64_t batch;
	struct dlq_queue *q;
	uint64_t dropped; /* not dequeued, and no --keep-out */
	/* breaker */
	struct path okp;
	struct breaker br;
	int annotate;

	struct buf b, key, qjson;
	char why[256];
};

static struct evctx cx;

static int parse_strategy(const char *arg, int *s)
{
	*s = backoff_strategy_parse(arg, strlen(arg));
	if (*s >= 0)
		return 0;
	ev_warn("--strategy: expected exponential, linear, fibonacci or fixed, not '%s'", arg);
	return -1;
}

static int parse_path(struct path *p, const char *arg, const char *opt)
{
	char err[256];
	path_free(p);
	if (path_parse(p, arg, err, sizeof err) == 0)
		return 0;
	ev_warn("%s: %s", opt, err);
	return -1;
}

static int option(int c, const char *arg, void *tool)
{
	struct dlq *T = tool;
	int64_t v;
	char *end;
	if (c >= OPT_TOOL_BASE && c < OPT_END)
		T->given |= 1u << (c - OPT_TOOL_BASE);
	switch (c) {
	case 'w':
		T->where_src = xrealloc(T->where_src, (T->nwhere + 1) * sizeof *T->where_src);
		T->where_src[T->nwhere++] = arg;
		return 0;
	case OPT_REASON: T->fail.reason = arg; return 0;
	case OPT_MAX_RETRIES:
		if (ev_int_arg("--max-retries", arg, 0, INT64_MAX, &v) < 0)
			return -1;
		T->fail.max_retries = T->pol.max_retries = v;
		return 0;
	case OPT_STRATEGY:
		if (parse_strategy(arg, &T->pol.strategy) < 0)
			return -1;
		T->fail.strategy = T->pol.strategy;
		return 0;
	case OPT_MAX_AGE: return ev_dur_arg("--max-age", arg, &T->pol.max_age);
	case OPT_BASE: return ev_dur_arg("--base", arg, &T->pol.base);
	case OPT_CAP: return ev_dur_arg("--cap", arg, &T->pol.cap);
	case OPT_JITTER:
		if ((v = backoff_jitter_parse(arg)) < 0) {
			ev_warn("--jitter: expected none, full, equal or decorrelated, not '%s'", arg);
			return -1;
		}
		T->pol.jitter = (enum backoff_jitter)v;
		return 0;
	case OPT_SEED: {
		errno = 0;
		unsigned long long s = strtoull(arg, &end, 10);
		if (errno || !*arg || *end || *arg == '-') {
			ev_warn("--seed: expected a whole number from 0 to 18446744073709551615, not '%s'", arg);
			return -1;
		}
		prng_seed(&T->pol.prng, s);
		return 0;
	}
	case OPT_RETRY_OUT: T->out_path[O_RETRY] = arg; return 0;
	case OPT_DEAD_OUT: T->out_path[O_DEAD] = arg; return 0;
	case OPT_EXPIRED_OUT: T->out_path[O_EXPIRED] = arg; return 0;
	case OPT_KEEP_OUT: T->out_path[O_KEEP] = arg; return 0;
	case OPT_STATS: T->stats = 1; return 0;
	case OPT_STATS_OUT: T->out_path[O_STATS] = arg; T->stats = 1; return 0;
	case OPT_ALERT_RATE: {
		errno = 0;
		double r = strtod(arg, &end);
		if (errno || !*arg || *end || !isfinite(r) || r < 0) {
			ev_warn("--alert-rate: expected a number of at least 0, not '%s'", arg);
			return -1;
		}
		T->alert_rate = r;
		return 0;
	}
	case OPT_ALERT_MIN: return ev_int_arg("--alert-min", arg, 1, INT64_MAX, &T->alert_min);
	case OPT_ALERTS: T->alerts_path = arg; return 0;
	case OPT_QUEUE: return parse_path(&T->queue, arg, "--queue");
	case OPT_BATCH: return ev_int_arg("--batch", arg, 1, INT64_MAX, &T->batch);
	case OPT_OK_FIELD: return parse_path(&T->okp, arg, "--ok-field");
	case OPT_FAILURES: return ev_int_arg("--failures", arg, 1, INT64_MAX, &T->br.p.failures);
	case OPT_OPEN_FOR: return ev_dur_arg("--open-for", arg, &T->br.p.open_for);
	case OPT_PROBES: return ev_int_arg("--probes", arg, 1, UINT32_MAX, &T->br.p.probes);
	case OPT_SUCCESSES: return ev_int_arg("--successes", arg, 1, UINT32_MAX, &T->br.p.successes);
	case OPT_ANNOTATE: T->annotate = 1; return 0;
	}
	return -1;
}

/* ---- output --------------------------------------------------------- */

/* Where records of kind o go: the routed file, or NULL for stdout. */
static struct wfile *routed(struct dlq *T, int o)
{
	return T->out[o] ? T->out[o]->w : NULL;
}

static void put(struct wfile *w, const char *p, size_t n)
{
	wfile_line(w ? w : ev_out, p, n);
}

/* 1 when every --where holds, 0 when one does not, -1 when the event
 * was rejected (a regular expression hit its limit): the caller drops it. */
static int where_holds(struct dlq *T, struct ev_event *ev)
{
	struct expr_input in = { .doc = ev->doc, .line = ev->in->lineno };
	for (size_t i = 0; i < T->nwhere; i++) {
		int r = ev_expr_test(&cx, ev, T->where[i], &in);
		if (r <= 0)
			return r;
	}
	return 1;
}

/* ---- the callbacks ---------------------------------------------------- */

static void on_fail(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct dlq *T = arg;
	int held = where_holds(T, ev);
	if (held < 0)
		return;
	if (!held) {
		put(NULL, ev->line, ev->len);
		return;
	}
	buf_reset(&T->b);
	if (dlq_fail_record(ev->doc, c->fm.unit, &T->fail, &T->b, T->why, sizeof T->why) < 0) {
		ev_reject(c, ev, "%s", T->why);
		return;
	}
	put(NULL, T->b.p, T->b.len);
}

static void on_expire(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct dlq *T = arg;
	int rc = 0;
	int held = where_holds(T, ev);
	if (held < 0)
		return;
	if (held && (rc = dlq_ttl_expired(ev->doc, c->fm.unit, c->now, T->why, sizeof T->why)) < 0) {
		ev_reject(c, ev, "%s", T->why);
		return;
	}
	if (!rc) {
		put(routed(T, O_KEEP), ev->line, ev->len);
		return;
	}
	buf_reset(&T->b);
	if (dlq_fail_record(ev->doc, c->fm.unit, &T->fail, &T->b, T->why, sizeof T->why) < 0) {
		ev_reject(c, ev, "%s", T->why);
		return;
	}
	put(routed(T, O_EXPIRED), T->b.p, T->b.len);
}

static void count_reason(struct dlq *T, const struct jdoc *d, enum dlq_decision dec)
{
	const char *p;
	size_t n;
	buf_reset(&T->key);
	json_str(d, json_get(d, 0, "reason", 6), &T->key, &p, &n);
	int created;
	struct bmap_ent *e = bmap_get(&T->reasons, p, n, &created);
	if (created) {
		T->reason_name = xgrow(T->reason_name, &T->capreason, T->nreason + 1, sizeof *T->reason_name);
		T->reason_count = xrealloc(T->reason_count, T->capreason * sizeof *T->reason_count);
		T->reason_len = xrealloc(T->reason_len, T->capreason * sizeof *T->reason_len);
		T->reason_name[T->nreason] = xmemdup(p, n);
		T->reason_len[T->nreason] = n;
		memset(T->reason_count[T->nreason], 0, sizeof *T->reason_count);
		e->v[0] = ++T->nreason;
	}
	T->reason_count[e->v[0] - 1][dec]++;
}

/* The prologue of triage and due: a record --where leaves alone goes to
 * pass unchanged, one that is not a DLQ record is rejected; 1 when *r
 * holds a record to work on. */
static int take_record(struct dlq *T, struct evctx *c, struct ev_event *ev, struct wfile *pass,
                       struct dlq_rec *r)
{
	int held = where_holds(T, ev);
	if (held <= 0) {
		if (held == 0)
			put(pass, ev->line, ev->len);
		return 0;
	}
	if (dlq_read(ev->doc, c->fm.unit, r, T->why, sizeof T->why) < 0) {
		ev_reject(c, ev, "%s", T->why);
		return 0;
	}
	return 1;
}

static void on_triage(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct dlq *T = arg;
	struct dlq_rec r;
	if (!take_record(T, c, ev, NULL, &r))
		return;
	int64_t next = 0;
	enum dlq_decision dec = dlq_triage(&T->pol, &r, c->now, &next);
	static const int route[DLQ_NDECISIONS] = { O_EXPIRED, O_DEAD, O_RETRY };
	struct wfile *w = routed(T, route[dec]);
	buf_reset(&T->b);
	dlq_triaged(ev->doc, dec, next, w == NULL, &T->b);
	put(w, T->b.p, T->b.len);
	T->total++;
	T->decided[dec]++;
	count_reason(T, ev->doc, dec);
}

static void on_due(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct dlq *T = arg;
	struct dlq_rec r;
	if (!take_record(T, c, ev, routed(T, O_KEEP), &r))
		return;
	if (r.next_retry_at == JNONE) {
		ev_reject(c, ev, "not a retry record: no next_retry_at (evdlq triage gives it)");
		return;
	}
	if (r.next_us > c->now) {
		put(routed(T, O_KEEP), ev->line, ev->len);
		return;
	}
	buf_reset(&T->b);
	dlq_redrive(ev->doc, &r, &T->b);
	put(NULL, T->b.p, T->b.len);
}

static void on_dequeue(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct dlq *T = arg;
	const struct jdoc *d = ev->doc;
	const char *prio = NULL;
	size_t pn = 0;
	int64_t ts = 0, at;
	int have_ts = 0, delayed = 0;
	uint32_t t;
	int held = where_holds(T, ev);
	if (held < 0)
		return;
	if (held) {
		if (dlq_priority(d, &prio, &pn, T->why, sizeof T->why) < 0) {
			ev_reject(c, ev, "%s", T->why);
			return;
		}
		if ((t = json_get(d, 0, "deliver_at", 10)) != JNONE && d->tok[t].type != J_NULL) {
			if (time_of_token(d, t, c->fm.unit, &at) < 0) {
				ev_reject(c, ev, "bad time in deliver_at: %.*s", (int)(d->tok[t].len > 60 ? 60 : d->tok[t].len),
				          d->text + d->tok[t].start);
				return;
			}
			if (at > c->now) {
				prio = NULL;
				delayed = 1;
			}
		}
		t = json_get(d, json_get(d, 0, "headers", 7), "timestamp", 9);
		if (t != JNONE && d->tok[t].type != J_NULL) {
			if (time_of_token(d, t, c->fm.unit, &ts) < 0) {
				ev_reject(c, ev, "bad time in headers.timestamp: %.*s",
				          (int)(d->tok[t].len > 60 ? 60 : d->tok[t].len), d->text + d->tok[t].start);
				return;
			}
			have_ts = 1;
		}
	}
	t = path_lookup(d, 0, &T->queue);
	buf_reset(&T->key);
	json_value_key(d, t, &T->key);
	buf_reset(&T->qjson);
	if (t == JNONE)
		buf_adds(&T->qjson, "null");
	else
		json_write_compact(d, t, &T->qjson);
	dlq_queue_add(T->q, ev->line, ev->len, T->key.p, T->key.len, T->qjson.p, T->qjson.len, prio, pn, delayed,
	              have_ts, ts);
}

static void on_breaker(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct dlq *T = arg;
	const struct jdoc *d = ev->doc;
	int held = where_holds(T, ev);
	if (held < 0)
		return;
	if (!held) {
		if (T->annotate)
			put(NULL, ev->line, ev->len);
		return;
	}
	uint32_t okt = path_lookup(d, 0, &T->okp);
	if (okt == JNONE || (d->tok[okt].type != J_TRUE && d->tok[okt].type != J_FALSE)) {
		if (okt == JNONE)
			ev_reject(c, ev, "missing outcome field '%s'", T->okp.text);
		else
			ev_reject(c, ev, "outcome '%s' is not true or false: %.*s", T->okp.text,
			          (int)(d->tok[okt].len > 40 ? 40 : d->tok[okt].len), d->text + d->tok[okt].start);
		return;
	}
	int64_t at;
	if (event_time(d, &c->fm, &at, T->why, sizeof T->why) < 0) {
		ev_reject(c, ev, "%s", T->why);
		return;
	}
	uint32_t kt = event_field(d, &c->fm, F_KEY);
	buf_reset(&T->key);
	json_value_key(d, kt, &T->key);
	struct breaker_step s;
	breaker_outcome(&T->br, T->key.p, T->key.len, d->tok[okt].type == J_TRUE, at, &s);
	buf_reset(&T->b);
	if (T->annotate) {
		static const char *const drop[] = { "breaker" };
		size_t n = jw_object_except(&T->b, d, 0, drop, 1);
		buf_adds(&T->b, n ? ",\"breaker\":" : "\"breaker\":");
		jw_cstring(&T->b, breaker_state_name(s.met));
		buf_addc(&T->b, '}');
		put(NULL, T->b.p, T->b.len);
		return;
	}
	for (int i = 0; i < s.ntrans; i++) {
		buf_reset(&T->b);
		buf_adds(&T->b, "{\"key\":");
		if (kt == JNONE)
			buf_adds(&T->b, "null");
		else
			json_write_compact(d, kt, &T->b);
		buf_adds(&T->b, ",\"from\":");
		jw_cstring(&T->b, breaker_state_name(s.t[i].from));
		buf_adds(&T->b, ",\"to\":");
		jw_cstring(&T->b, breaker_state_name(s.t[i].to));
		buf_adds(&T->b, ",\"at\":");
		dlq_put_time(&T->b, at);
		buf_adds(&T->b, ",\"reason\":");
		jw_cstring(&T->b, breaker_reason_name(s.t[i].why));
		buf_addc(&T->b, '}');
		put(NULL, T->b.p, T->b.len);
	}
}

/* ---- dequeue's sinks ---------------------------------------------------- */

static void q_out(const char *line, size_t len, void *arg)
{
	(void)arg;
	put(NULL, line, len);
}

static void q_keep(const char *line, size_t len, void *arg)
{
	struct dlq *T = arg;
	if (T->out[O_KEEP])
		put(T->out[O_KEEP]->w, line, len);
	else
		T->dropped++;
}

static void stats_line(struct dlq *T, struct buf *b)
{
	if (T->out[O_STATS]) {
		wfile_line(T->out[O_STATS]->w, b->p, b->len);
	} else {
		wfile_flush(ev_out);
		fwrite(b->p, 1, b->len, stderr);
		fputc('\n', stderr);
	}
}

static void q_stats(const char *queue, size_t qn, uint64_t dequeued, uint64_t remaining, uint64_t delayed,
                    int have_oldest, int64_t oldest, void *arg)
{
	struct dlq *T = arg;
	struct buf b = {0};
	buf_adds(&b, "{\"queue\":");
	buf_add(&b, queue, qn);
	buf_printf(&b, ",\"dequeued\":%llu,\"remaining\":%llu,\"delayed\":%llu,\"oldest_ready_at\":",
	           (unsigned long long)dequeued, (unsigned long long)remaining, (unsigned long long)delayed);
	if (have_oldest)
		dlq_put_time(&b, oldest);
	else
		buf_adds(&b, "null");
	buf_addc(&b, '}');
	stats_line(T, &b);
	buf_free(&b);
}

/* ---- the end of a run ------------------------------------------------- */

static void triage_report(struct dlq *T)
{
	struct buf b = {0};
	if (T->stats) {
		buf_printf(&b, "{\"total\":%llu,\"decisions\":{", (unsigned long long)T->total);
		for (int i = 0; i < DLQ_NDECISIONS; i++)
			buf_printf(&b, "%s\"%s\":%llu", i ? "," : "", dlq_decision_name(i),
			           (unsigned long long)T->decided[i]);
		buf_adds(&b, "},\"reasons\":{");
		for (size_t r = 0; r < T->nreason; r++) {
			if (r)
				buf_addc(&b, ',');
			jw_string(&b, T->reason_name[r], T->reason_len[r]);
			for (int i = 0; i < DLQ_NDECISIONS; i++)
				buf_printf(&b, "%s\"%s\":%llu", i ? "," : ":{", dlq_decision_name(i),
				           (unsigned long long)T->reason_count[r][i]);
			buf_addc(&b, '}');
		}
		buf_adds(&b, "}}");
		stats_line(T, &b);
	}
	uint64_t dead = T->decided[DLQ_DEAD];
	if (T->total > 0 && T->total >= (uint64_t)T->alert_min && (double)dead / (double)T->total > T->alert_rate) {
		buf_reset(&b);
		buf_printf(&b, "{\"alert\":\"dead_rate\",\"dead\":%llu,\"total\":%llu,\"rate\":", (unsigned long long)dead,
		           (unsigned long long)T->total);
		jw_double(&b, (double)dead / (double)T->total);
		buf_addc(&b, '}');
		if (T->alerts) {
			wfile_line(T->alerts, b.p, b.len);
		} else {
			wfile_flush(ev_out);
			fprintf(stderr, "%s\n", b.p); /* numbers only: no NUL */
		}
	}
	buf_free(&b);
}

/* ---- setup -------------------------------------------------------------- */

static void check_options(struct dlq *T, const struct ev_tool *t)
{
	for (int i = 0; i < OPT_END - OPT_TOOL_BASE; i++)
		if ((T->given >> i & 1) && !(opt_subs[i] & ON(T->sub)))
			for (const struct option *o = longopts; o->name; o++)
				if (o->val == OPT_TOOL_BASE + i) {
					ev_warn("--%s is not an option of evdlq %s", o->name, sub_names[T->sub]);
					ev_usage(t);
				}
	if (T->sub == S_FAIL && !T->fail.reason) {
		ev_warn("evdlq fail: needs --reason R");
		ev_usage(t);
	}
	if (T->br.p.successes > T->br.p.probes) {
		ev_warn("--successes %lld is more than --probes %lld: the breaker could never close",
		        (long long)T->br.p.successes, (long long)T->br.p.probes);
		ev_usage(t);
	}
	/* two outputs in one file would each replace the other */
	for (int i = 0; i < O_NOUT; i++)
		for (int j = i + 1; j < O_NOUT; j++) {
			struct stat a, b;
			const char *p = T->out_path[i], *q = T->out_path[j];
			if (p && q && (strcmp(p, q) == 0 ||
			               (stat(p, &a) == 0 && stat(q, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino))) {
				ev_warn("%s and %s name the same file", out_opts[i], out_opts[j]);
				ev_usage(t);
			}
		}
}

/* A tool that writes files and cannot open an operand writes nothing. */
static void probe_inputs(struct dlq *T, int n, char **files)
{
	int writes = T->alerts_path != NULL, bad = 0;
	for (int i = 0; i < O_NOUT; i++)
		writes |= T->out_path[i] != NULL;
	if (!writes)
		return;
	for (int i = 0; i < n; i++) {
		struct input in;
		if (strcmp(files[i], "-") == 0)
			continue;
		if (input_open(&in, files[i]) < 0) {
			ev_warn_errno("%s", files[i]);
			bad = 1;
			continue;
		}
		input_close(&in);
	}
	if (bad)
		exit(EV_USAGE);
}

static void open_outputs(struct dlq *T)
{
	for (int i = 0; i < O_NOUT; i++)
		if (T->out_path[i] && !(T->out[i] = atomic_open(T->out_path[i])))
			ev_die_errno(EV_IO, "%s %s", out_opts[i], T->out_path[i]);
	if (T->alerts_path && !(T->alerts = wfile_append(T->alerts_path)))
		ev_die_errno(EV_IO, "--alerts %s", T->alerts_path);
}

/* Replace the routed files when the run ended with 0, 1 or 3; else leave
 * the old ones as they were. */
static void close_outputs(struct dlq *T)
{
	int keep = cx.status == EV_OK || cx.status == EV_NOMATCH || cx.status == EV_REJECT;
	if (keep)
		wfile_flush(ev_out); /* a failing stdout stops us before any rename */
	for (int i = 0; i < O_NOUT; i++) {
		if (!T->out[i])
			continue;
		if (!keep) {
			atomic_abort(T->out[i]);
		} else if (atomic_commit(T->out[i]) < 0) {
			T->out[i] = NULL;
			ev_die_errno(EV_IO, "%s %s", out_opts[i], T->out_path[i]);
		}
		T->out[i] = NULL;
	}
	if (T->alerts)
		wfile_close(T->alerts, 0);
}

static int find_sub(const char *s)
{
	for (int i = 0; i < S_N; i++)
		if (strcmp(s, sub_names[i]) == 0)
			return i;
	return -1;
}

int main(int argc, char **argv)
{
	static struct dlq T;
	static const struct ev_tool tool = {
		"evdlq",
		"[fail | triage | due | dequeue | expire | breaker] [-w expr] [option ...] [file ...]",
		help_text, "w:", longopts, option
	};
	T.sub = S_TRIAGE;
	if (argc > 1 && find_sub(argv[1]) >= 0) {
		T.sub = (enum sub)find_sub(argv[1]);
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	T.fail.max_retries = T.pol.max_retries = -1;
	T.fail.strategy = T.pol.strategy = -1;
	T.pol.base = -1;
	T.pol.cap = BACKOFF_NO_CAP;
	T.pol.max_age = INT64_C(7) * 86400 * US_PER_S;
	prng_seed(&T.pol.prng, prng_random_seed());
	T.alert_rate = 0.1;
	T.alert_min = 1;
	T.batch = -1;
	T.br.p = (struct breaker_params){ 5, 30 * US_PER_S, 3, 3 };
	parse_path(&T.queue, "routing.key", "--queue");
	parse_path(&T.okp, "ok", "--ok-field");

	int ind = ev_parse_args(&cx, &tool, &T, argc, argv);
	check_options(&T, &tool);
	T.fail.at = cx.now;
	if (T.sub == S_EXPIRE)
		T.fail.reason = "ttl_expired";
	if (T.given >> (OPT_QUEUE - OPT_TOOL_BASE) & 1)
		ev_watch_path(&cx, &T.queue, "--queue");
	if (T.given >> (OPT_OK_FIELD - OPT_TOOL_BASE) & 1)
		ev_watch_path(&cx, &T.okp, "--ok-field");
	T.where = xcalloc(T.nwhere + 1, sizeof *T.where);
	for (size_t i = 0; i < T.nwhere; i++)
		T.where[i] = ev_compile_expr(&cx, "--where", T.where_src[i], NULL, 0);

	probe_inputs(&T, argc - ind, argv + ind);
	open_outputs(&T);
	static const ev_event_fn fns[S_N] = { on_fail, on_triage, on_due, on_dequeue, on_expire, on_breaker };
	if (T.sub == S_DEQUEUE)
		T.q = dlq_queue_new();
	ev_run(&cx, argc - ind, argv + ind, fns[T.sub], &T);
	if (T.sub == S_DEQUEUE) {
		struct dlq_queue_sink sink = { q_out, q_keep, T.stats ? q_stats : NULL, &T };
		dlq_queue_run(T.q, T.batch, &sink);
		if (T.dropped) {
			wfile_flush(ev_out);
			ev_warn("warning: %llu messages not dequeued are dropped: give --keep-out FILE to keep them",
			        (unsigned long long)T.dropped);
		}
	}
	if (T.sub == S_TRIAGE)
		triage_report(&T);
	close_outputs(&T);
	int status = ev_finish(&cx);

	for (size_t i = 0; i < T.nwhere; i++)
		expr_free(T.where[i]);
	free(T.where);
	free(T.where_src);
	for (size_t i = 0; i < T.nreason; i++)
		free(T.reason_name[i]);
	free(T.reason_name);
	free(T.reason_len);
	free(T.reason_count);
	bmap_free(&T.reasons);
	dlq_queue_free(T.q);
	breaker_free(&T.br);
	path_free(&T.queue);
	path_free(&T.okp);
	buf_free(&T.b);
	buf_free(&T.key);
	buf_free(&T.qjson);
	return status;
}
