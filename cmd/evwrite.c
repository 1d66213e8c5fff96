/*
 * evwrite — validate, enrich and append events: the event store writer,
 * the domain-event checker and the pub/sub envelope maker.
 *
 * An event that passes is written with what it lacks added at the end of
 * its object (id, time, version, seq, metadata), every byte it had kept;
 * with --store it is appended (lib/store.c: lock, whole lines, fsync,
 * index) and echoed only once durable.  Every input line ends up
 * appended, rejected, skipped as a duplicate or reported as a conflict.
 */
#include "bmap.h"
#include "cli.h"
#include "ev.h"
#include "jwrite.h"
#include "store.h"
#include "strset.h"
#include "timeutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

enum {
	OPT_STORE = OPT_TOOL_BASE, OPT_REQUIRE, OPT_SCHEMA, OPT_UUID, OPT_SOURCE, OPT_CORR, OPT_CAUSE,
	OPT_EXPECT, OPT_ATOMIC, OPT_FSYNC, OPT_REPAIR, OPT_LOCKTO, OPT_DRYRUN, OPT_MESSAGE, OPT_TOPIC,
	OPT_PRIORITY, OPT_TTL, OPT_RKEY, OPT_PKEY, OPT_EXCHANGE, OPT_MAXRETRY, OPT_DELIVER
};

static const struct option longopts[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "require", required_argument, NULL, OPT_REQUIRE },
	{ "schema", required_argument, NULL, OPT_SCHEMA },
	{ "uuid", required_argument, NULL, OPT_UUID },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "correlation-id", required_argument, NULL, OPT_CORR },
	{ "causation-id", required_argument, NULL, OPT_CAUSE },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "atomic", no_argument, NULL, OPT_ATOMIC },
	{ "fsync", required_argument, NULL, OPT_FSYNC },
	{ "repair", no_argument, NULL, OPT_REPAIR },
	{ "lock-timeout", required_argument, NULL, OPT_LOCKTO },
	{ "dry-run", no_argument, NULL, OPT_DRYRUN },
	{ "quiet", no_argument, NULL, 'q' },
	{ "message", no_argument, NULL, OPT_MESSAGE },
	{ "topic", required_argument, NULL, OPT_TOPIC },
	{ "priority", required_argument, NULL, OPT_PRIORITY },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "routing-key", required_argument, NULL, OPT_RKEY },
	{ "partition-key", required_argument, NULL, OPT_PKEY },
	{ "exchange", required_argument, NULL, OPT_EXCHANGE },
	{ "max-retries", required_argument, NULL, OPT_MAXRETRY },
	{ "deliver-at", required_argument, NULL, OPT_DELIVER },
	{ NULL, 0, NULL, 0 }
};

static const char help_text[] =
	"Validate events, add what they lack, and append them to an event store.\n"
	"\n"
	"Options:\n"
	"      --store FILE         append to the event store FILE (locked, fsynced)\n"
	"      --require PATHS      fields every event must have (comma-separated, repeatable)\n"
	"      --schema FILE        domain-event specs: payload fields per aggregate type and type\n"
	"      --uuid v4|v7         kind of event_id to generate (default v4)\n"
	"      --source NAME        metadata.source to add\n"
	"      --correlation-id ID  metadata.correlation_id to add (default: a new UUID)\n"
	"      --causation-id ID    metadata.causation_id to add\n"
	"      --expect E           any (default), no_stream, exists or a version N: what the\n"
	"                           store must hold for the first event of each aggregate\n"
	"      --atomic             the whole input is one unit: all appended or none\n"
	"      --fsync POLICY       always, batch (default) or never\n"
	"      --repair             move a torn last line aside (FILE.torn.OFFSET) and go on\n"
	"      --lock-timeout DUR   wait at most DUR for the store's lock (default 10s)\n"
	"      --dry-run            validate and print, append nothing\n"
	"  -q, --quiet              do not echo the appended events\n"
	"      --message            write pub/sub message envelopes instead of events\n"
	"      --topic T            message topic (default: the event's type)\n"
	"      --priority N         message priority, 0-9 (default 0)\n"
	"      --ttl DUR            message time to live (headers.ttl, in milliseconds)\n"
	"      --routing-key K      routing.key (default: the topic)\n"
	"      --partition-key PATH routing.partition_key from this field (default: the key)\n"
	"      --exchange NAME      routing.exchange\n"
	"      --max-retries N      routing.max_retries (default 3)\n"
	"      --deliver-at TIME    deliver_at: do not deliver before TIME\n";

enum expect_kind { X_ANY, X_NO_STREAM, X_EXISTS, X_VERSION };

struct schema_type {
	char *name;
	struct path *fields;
	char **names;
	size_t n;
};

struct writer {
	const char *store_path;
	struct path *req;
	size_t nreq;
	const char *schema_path;
	struct bmap schema_idx;     /* "AGGTYPE\0TYPE" -> index + 1 */
	struct schema_type *types;
	size_t ntypes;
	int uuid7;
	const char *source, *corr, *cause;
	enum expect_kind expect;
	uint64_t expect_n;
	int atomic, repair, dry_run, quiet;
	enum store_fsync fsync;
	int64_t lock_timeout;
	/* --message */
	int message;
	const char *topic, *rkey, *exchange, *pkey_arg, *deliver_arg, *ttl_arg;
	struct path pkey;
	int have_pkey;
	int64_t priority, max_retries, ttl_ms, deliver_at;
	int have_deliver, have_ttl;

	struct store *st;
	struct bmap seen;           /* aggregate value key -> run state */
	struct path seq_path, meta_path, atype_path, expv_path, corr_path, cause_path, src_path;
	struct buf out, vk, idk, scratch, add, madd;
	uint64_t skipped, conflicts;
	int io_failed;
	uint64_t last_v7_ms, last_v7_seq;
};

static struct evctx cx;

static int add_paths(struct writer *w, const char *arg)
{
	char **list = NULL, err[256];
	size_t n = 0;
	int rc = 0;
	path_split_list(arg, &list, &n);
	w->req = xrealloc(w->req, (w->nreq + n) * sizeof *w->req);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && path_parse(&w->req[w->nreq], list[i], err, sizeof err) < 0) {
			ev_warn("--require: %s", err);
			path_free(&w->req[w->nreq]);
			rc = -1;
		} else if (rc == 0) {
			w->nreq++;
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

static int option(int c, const char *arg, void *tool)
{
	struct writer *w = tool;
	int64_t v;
	switch (c) {
	case 'q': w->quiet = 1; return 0;
	case OPT_STORE: w->store_path = arg; return 0;
	case OPT_REQUIRE: return add_paths(w, arg);
	case OPT_SCHEMA: w->schema_path = arg; return 0;
	case OPT_UUID:
		if (strcmp(arg, "v4") && strcmp(arg, "v7")) {
			ev_warn("--uuid: expected v4 or v7, not '%s'", arg);
			return -1;
		}
		w->uuid7 = arg[1] == '7';
		return 0;
	case OPT_SOURCE: w->source = arg; return 0;
	case OPT_CORR: w->corr = arg; return 0;
	case OPT_CAUSE: w->cause = arg; return 0;
	case OPT_EXPECT:
		if (!strcmp(arg, "any"))
			w->expect = X_ANY;
		else if (!strcmp(arg, "no_stream"))
			w->expect = X_NO_STREAM;
		else if (!strcmp(arg, "exists"))
			w->expect = X_EXISTS;
		else if (ev_int_arg(NULL, arg, 0, INT64_MAX, &v) == 0) {
			w->expect = X_VERSION;
			w->expect_n = (uint64_t)v;
		} else {
			ev_warn("--expect: expected any, no_stream, exists or a version, not '%s'", arg);
			return -1;
		}
		return 0;
	case OPT_ATOMIC: w->atomic = 1; return 0;
	case OPT_FSYNC:
		if (!strcmp(arg, "always"))
			w->fsync = STORE_FSYNC_ALWAYS;
		else if (!strcmp(arg, "batch"))
			w->fsync = STORE_FSYNC_BATCH;
		else if (!strcmp(arg, "never"))
			w->fsync = STORE_FSYNC_NEVER;
		else {
			ev_warn("--fsync: expected always, batch or never, not '%s'", arg);
			return -1;
		}
		return 0;
	case OPT_REPAIR: w->repair = 1; return 0;
	case OPT_LOCKTO:
		if (ev_dur_arg("--lock-timeout", arg, &w->lock_timeout) < 0)
			return -1;
		return 0;
	case OPT_DRYRUN: w->dry_run = 1; return 0;
	case OPT_MESSAGE: w->message = 1; return 0;
	case OPT_TOPIC: w->topic = arg; return 0;
	case OPT_PRIORITY:
		if (ev_int_arg("--priority", arg, 0, 9, &w->priority) < 0)
			return -1;
		return 0;
	case OPT_TTL: w->ttl_arg = arg; return 0;
	case OPT_RKEY: w->rkey = arg; return 0;
	case OPT_PKEY: w->pkey_arg = arg; return 0;
	case OPT_EXCHANGE: w->exchange = arg; return 0;
	case OPT_MAXRETRY:
		if (ev_int_arg("--max-retries", arg, 0, INT32_MAX, &w->max_retries) < 0)
			return -1;
		return 0;
	case OPT_DELIVER: w->deliver_arg = arg; return 0;
	}
	return -1;
}

/* ---- UUIDs ---------------------------------------------------------- */

/* Random bytes come from the kernel in blocks of 4 KiB: libuuid's
 * uuid_generate_random makes five system calls per UUID, which would cost
 * more than the rest of an append.  When getrandom fails, libuuid's own
 * generator fills the block. */
static void random_bytes(unsigned char *out, size_t n)
{
	static unsigned char pool[4096];
	static size_t avail;
	if (avail < n) {
		size_t got = 0;
		while (got < sizeof pool) {
			ssize_t k = getrandom(pool + got, sizeof pool - got, 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		for (; got < sizeof pool; got += 16)
			uuid_generate_random(pool + got);
		avail = sizeof pool;
	}
	memcpy(out, pool + sizeof pool - avail, n);
	avail -= n;
}

static void new_uuid(struct writer *w, int v7, char out[37])
{
	uuid_t u;
	random_bytes(u, sizeof u);
	u[6] = (unsigned char)(0x40 | (u[6] & 0x0f));
	u[8] = (unsigned char)(0x80 | (u[8] & 0x3f));
	if (v7) {
		/* RFC 9562: 48-bit Unix milliseconds, then 12 bits that order
		 * UUIDs made in the same millisecond (sub-millisecond fraction,
		 * bumped when it would not increase), then random bits. */
		int64_t us = time_now();
		uint64_t ms = (uint64_t)(us / 1000), frac = (uint64_t)(us % 1000) * 4096 / 1000;
		if (ms == w->last_v7_ms && frac <= w->last_v7_seq)
			frac = w->last_v7_seq + 1;
		if (frac > 0xfff) {
			ms++;
			frac = 0;
		}
		w->last_v7_ms = ms;
		w->last_v7_seq = frac;
		for (int i = 0; i < 6; i++)
			u[i] = (unsigned char)(ms >> (40 - 8 * i));
		u[6] = (unsigned char)(0x70 | (frac >> 8));
		u[7] = (unsigned char)(frac & 0xff);
		u[8] = (unsigned char)(0x80 | (u[8] & 0x3f));
	}
	uuid_unparse_lower(u, out);
}

/* ---- --schema ------------------------------------------------------- */

static void load_schema(struct writer *w)
{
	struct input in;
	const char *line;
	size_t len;
	struct buf all = {0};
	if (input_open(&in, w->schema_path) < 0)
		ev_die_errno(EV_USAGE, "--schema %s", w->schema_path);
	while (input_next(&in, &line, &len) > 0) {
		buf_add(&all, line, len);
		buf_addc(&all, '\n');
	}
	input_close(&in);
	struct jdoc d = {0};
	struct jerr err;
	if (json_parse(&d, all.p ? all.p : "", all.len, 0, &err) < 0)
		ev_die(EV_USAGE, "--schema %s: %s", w->schema_path, err.msg);
	struct buf key = {0}, sc = {0};
	for (uint32_t a = 1; a < d.tok[0].next; a = d.tok[a + 1].next) {
		uint32_t types = a + 1;
		const char *an;
		size_t al;
		buf_reset(&sc);
		json_str(&d, a, &sc, &an, &al);
		char *aname = xmemdup(an, al);
		if (d.tok[types].type != J_OBJ)
			ev_die(EV_USAGE, "--schema %s: %s: expected an object of event types", w->schema_path, aname);
		for (uint32_t t = types + 1; t < d.tok[types].next; t = d.tok[t + 1].next) {
			uint32_t list = t + 1;
			const char *tn;
			size_t tl;
			struct buf sc2 = {0};
			json_str(&d, t, &sc2, &tn, &tl);
			if (d.tok[list].type != J_ARR)
				ev_die(EV_USAGE, "--schema %s: %s.%.*s: expected an array of field names",
				       w->schema_path, aname, (int)tl, tn);
			struct schema_type st = { 0 };
			st.name = xmalloc(al + tl + 2);
			sprintf(st.name, "%s.%.*s", aname, (int)tl, tn);
			buf_reset(&key);
			buf_add(&key, an, al);
			buf_addc(&key, 0);
			buf_add(&key, tn, tl);
			size_t n = json_count(&d, list);
			st.fields = xcalloc(n, sizeof *st.fields);
			st.names = xcalloc(n, sizeof *st.names);
			for (size_t i = 0; i < n; i++) {
				uint32_t f = json_index(&d, list, i);
				const char *fp;
				size_t fl;
				char perr[256];
				if (d.tok[f].type != J_STR)
					ev_die(EV_USAGE, "--schema %s: %s: field names must be strings", w->schema_path, st.name);
				buf_reset(&sc);
				json_str(&d, f, &sc, &fp, &fl);
				st.names[i] = xmemdup(fp, fl);
				if (path_parse(&st.fields[i], st.names[i], perr, sizeof perr) < 0)
					ev_die(EV_USAGE, "--schema %s: %s: %s", w->schema_path, st.name, perr);
			}
			st.n = n;
			w->types = xrealloc(w->types, (w->ntypes + 1) * sizeof *w->types);
			w->types[w->ntypes++] = st;
			bmap_get(&w->schema_idx, key.p, key.len, NULL)->v[0] = w->ntypes;
			buf_free(&sc2);
		}
		free(aname);
	}
	buf_free(&key);
	buf_free(&sc);
	buf_free(&all);
	json_doc_free(&d);
}

/* ---- validation ----------------------------------------------------- */

/* The string value of token t (unescaped), or NULL when not a string. */
static const char *str_of(struct writer *w, const struct jdoc *d, uint32_t t, size_t *n)
{
	if (t == JNONE || d->tok[t].type != J_STR)
		return NULL;
	const char *p;
	buf_reset(&w->scratch);
	json_str(d, t, &w->scratch, &p, n);
	return p;
}

static int check_schema(struct writer *w, struct ev_event *ev)
{
	const struct jdoc *d = ev->doc;
	size_t an, tn;
	const char *a = str_of(w, d, path_lookup(d, 0, &w->atype_path), &an);
	if (!a) {
		ev_reject(&cx, ev, "missing aggregate_type (needed by --schema)");
		return -1;
	}
	struct buf key = {0};
	buf_add(&key, a, an);
	buf_addc(&key, 0);
	const char *t = str_of(w, d, event_field(d, &cx.fm, F_TYPE), &tn);
	if (t)
		buf_add(&key, t, tn);
	struct bmap_ent *e = t ? bmap_find(&w->schema_idx, key.p, key.len) : NULL;
	if (!e) {
		ev_reject(&cx, ev, "--schema has no event type '%.*s' for aggregate type '%.*s'",
		          t ? (int)tn : 0, t ? t : "", (int)an, key.p);
		buf_free(&key);
		return -1;
	}
	buf_free(&key);
	struct schema_type *st = &w->types[e->v[0] - 1];
	uint32_t pay = event_field(d, &cx.fm, F_PAYLOAD);
	struct buf miss = {0};
	size_t nmiss = 0;
	for (size_t i = 0; i < st->n; i++)
		if (pay == JNONE || path_lookup(d, pay, &st->fields[i]) == JNONE) {
			buf_printf(&miss, "%s%s", nmiss++ ? ", " : "", st->names[i]);
		}
	if (nmiss) {
		ev_reject(&cx, ev, "payload lacks %s (schema %s)", miss.p, st->name);
		buf_free(&miss);
		return -1;
	}
	return 0;
}

static int check_required(struct writer *w, struct ev_event *ev)
{
	const struct jdoc *d = ev->doc;
	struct buf miss = {0};
	size_t nmiss = 0;
	static const enum ev_field need[] = { F_KEY, F_TYPE, F_PAYLOAD };
	for (size_t i = 0; i < 3; i++) {
		if (w->message && need[i] != F_PAYLOAD)
			continue;
		uint32_t t = event_field(d, &cx.fm, need[i]);
		if (t == JNONE || (need[i] == F_KEY && d->tok[t].type == J_NULL))
			buf_printf(&miss, "%s'%s'", nmiss++ ? ", " : "", cx.fm.f[need[i]].text);
	}
	for (size_t i = 0; i < w->nreq; i++)
		if (path_lookup(d, 0, &w->req[i]) == JNONE)
			buf_printf(&miss, "%s'%s'", nmiss++ ? ", " : "", w->req[i].text);
	if (nmiss) {
		ev_reject(&cx, ev, "missing required field%s %s", nmiss > 1 ? "s" : "", miss.p);
		buf_free(&miss);
		return -1;
	}
	return w->schema_path ? check_schema(w, ev) : 0;
}

static int pos_int(const struct jdoc *d, uint32_t t, uint64_t *v)
{
	int64_t i;
	double dbl;
	if (t == JNONE || d->tok[t].type != J_NUM || json_tok_num(d, t, &i, &dbl) != 1 || i < 1)
		return -1;
	*v = (uint64_t)i;
	return 0;
}

/* Present envelope values must be valid: they are kept, never fixed. */
static int check_present(struct writer *w, struct ev_event *ev)
{
	const struct jdoc *d = ev->doc;
	uint32_t t;
	size_t n;
	uint64_t v;
	int64_t us;
	/* a present id is any non-empty string or integer (GitHub's
	 * "34502641367", "ev-001", 42), kept as it is; only the ids evwrite
	 * makes are UUIDs */
	if ((t = event_field(d, &cx.fm, F_ID)) != JNONE &&
	    !((d->tok[t].type == J_STR && d->tok[t].len > 2) ||
	      (d->tok[t].type == J_NUM && (d->tok[t].flags & JF_INT)))) {
		ev_reject(&cx, ev, "%s must be a non-empty string or an integer, not %.*s%s", cx.fm.f[F_ID].text,
		          d->tok[t].len > 60 ? 60 : (int)d->tok[t].len, d->text + d->tok[t].start,
		          d->tok[t].len > 60 ? "..." : "");
		return -1;
	}
	if ((t = event_field(d, &cx.fm, F_TIME)) != JNONE && time_of_token(d, t, cx.fm.unit, &us) < 0) {
		ev_reject(&cx, ev, "unparsable %s %.*s", cx.fm.f[F_TIME].text,
		          (int)(d->tok[t].len > 60 ? 60 : d->tok[t].len), d->text + d->tok[t].start);
		return -1;
	}
	if (w->message)
		return 0;
	if ((t = event_field(d, &cx.fm, F_VERSION)) != JNONE && pos_int(d, t, &v) < 0) {
		ev_reject(&cx, ev, "%s is not a positive integer", cx.fm.f[F_VERSION].text);
		return -1;
	}
	if ((t = path_lookup(d, 0, &w->seq_path)) != JNONE && pos_int(d, t, &v) < 0) {
		ev_reject(&cx, ev, "seq is not a positive integer");
		return -1;
	}
	if ((t = path_lookup(d, 0, &w->meta_path)) != JNONE && d->tok[t].type != J_OBJ) {
		ev_reject(&cx, ev, "metadata is not an object");
		return -1;
	}
	if ((t = path_lookup(d, 0, &w->expv_path)) != JNONE) {
		const char *p = str_of(w, d, t, &n);
		int64_t i;
		double dbl;
		int ok = p ? (n == 3 && !memcmp(p, "any", 3)) || (n == 9 && !memcmp(p, "no_stream", 9)) ||
		             (n == 6 && !memcmp(p, "exists", 6))
		           : d->tok[t].type == J_NUM && json_tok_num(d, t, &i, &dbl) == 1 && i >= 0;
		if (!ok) {
			ev_reject(&cx, ev, "expected_version must be a version, \"any\", \"no_stream\" or \"exists\"");
			return -1;
		}
	}
	static const enum ev_field add[] = { F_ID, F_TIME, F_VERSION };
	for (size_t i = 0; i < 3; i++)
		if (cx.fm.f[add[i]].n != 1 && event_field(d, &cx.fm, add[i]) == JNONE) {
			ev_reject(&cx, ev, "missing %s (evwrite adds only top-level fields)", cx.fm.f[add[i]].text);
			return -1;
		}
	return 0;
}

/* ---- expected versions ---------------------------------------------- */

/* Run state per aggregate: v[0] 1 = seen, 2 = conflicted; v[1] the
 * expectation's kind and v[2] its version, for the events that follow. */
static void expect_text(uint64_t kind, uint64_t n, char *out, size_t len)
{
	if (kind == X_NO_STREAM)
		snprintf(out, len, "no_stream");
	else if (kind == X_EXISTS)
		snprintf(out, len, "exists");
	else
		snprintf(out, len, "%" PRIu64, n);
}

static void key_text(const struct jdoc *d, uint32_t t, struct buf *out)
{
	if (d->tok[t].type == J_STR) {
		const char *p;
		size_t n;
		struct buf sc = {0};
		json_str(d, t, &sc, &p, &n);
		buf_add(out, p, n);
		buf_free(&sc);
	} else {
		json_write_compact(d, t, out);
	}
}

static void conflict(struct writer *w, const struct jdoc *d, uint32_t key, uint64_t kind, uint64_t n,
                     uint64_t actual)
{
	char e[32];
	struct buf k = {0};
	expect_text(kind, n, e, sizeof e);
	key_text(d, key, &k);
	wfile_flush(ev_out);
	ev_warn("expected %s, actual %" PRIu64 " (aggregate %s)", e, actual, k.p);
	buf_free(&k);
	w->conflicts++;
	ev_raise(&cx, EV_CONFLICT);
}

/* 0: the event may be appended at version actual + 1; -1: a conflict. */
static int check_expect(struct writer *w, const struct jdoc *d, uint32_t key, uint64_t actual)
{
	struct bmap_ent *e = bmap_get(&w->seen, w->vk.p, w->vk.len, NULL);
	uint64_t kind = X_ANY, n = 0;
	int has_own = 0;
	uint32_t t = path_lookup(d, 0, &w->expv_path);
	uint64_t v;
	int has_v = pos_int(d, event_field(d, &cx.fm, F_VERSION), &v) == 0;
	if (t != JNONE) {
		has_own = 1;
		if (d->tok[t].type == J_STR) {
			size_t sl;
			const char *p = str_of(w, d, t, &sl);
			kind = p[0] == 'a' ? X_ANY : p[0] == 'n' ? X_NO_STREAM : X_EXISTS;
		} else {
			int64_t i;
			double dbl;
			json_tok_num(d, t, &i, &dbl);
			kind = X_VERSION;
			n = (uint64_t)i;
		}
	} else if (has_v) {
		/* a present version is what its sender expects it to be */
		has_own = 1;
		kind = X_VERSION;
		n = v - 1;
	} else if (!(e->v[0] & 1)) {
		kind = w->expect;
		n = w->expect_n;
	} else if (e->v[0] & 2) {
		/* follows a conflicting event of the same aggregate */
		kind = e->v[1];
		n = e->v[2] = e->v[1] == X_VERSION ? e->v[2] + 1 : e->v[2];
		conflict(w, d, key, kind, n, actual);
		return -1;
	}
	e->v[0] |= 1;
	int ok = kind == X_ANY || (kind == X_NO_STREAM && actual == 0) ||
	         (kind == X_EXISTS && actual > 0) || (kind == X_VERSION && actual == n);
	if (ok && has_v && v != actual + 1) {
		ok = 0;
		kind = X_VERSION;
		n = v - 1;
	}
	if (ok) {
		if (!has_own)
			e->v[0] &= ~(uint64_t)2;
		return 0;
	}
	e->v[0] |= 2;
	e->v[1] = kind == X_NO_STREAM ? X_VERSION : kind;
	e->v[2] = kind == X_NO_STREAM ? 0 : n;
	conflict(w, d, key, kind, n, actual);
	return -1;
}

/* ---- building the output line --------------------------------------- */

static void add_member(struct buf *b, int *first, const char *name, size_t nlen, const char *json, size_t jlen)
{
	if (!*first)
		buf_addc(b, ',');
	*first = 0;
	jw_string(b, name, nlen);
	buf_addc(b, ':');
	buf_add(b, json, jlen);
}

static void add_str(struct buf *b, int *first, const char *name, const char *val)
{
	struct buf v = {0};
	jw_cstring(&v, val);
	add_member(b, first, name, strlen(name), v.p, v.len);
	buf_free(&v);
}

/* Top-level name of a mapped field (a one-segment path). */
static const struct pseg *top(enum ev_field f)
{
	return &cx.fm.f[f].seg[0];
}

static void build_event(struct writer *w, struct ev_event *ev, uint64_t version, uint64_t seq,
                        const char *newid)
{
	const struct jdoc *d = ev->doc;
	char tb[40], num[24];
	int first = json_count(d, 0) == 0;
	buf_reset(&w->add);
	if (newid) {
		char q[40];
		snprintf(q, sizeof q, "\"%s\"", newid);
		add_member(&w->add, &first, top(F_ID)->key, top(F_ID)->keylen, q, strlen(q));
	}
	if (event_field(d, &cx.fm, F_TIME) == JNONE) {
		size_t n = time_format(time_now(), tb + 1);
		tb[0] = '"';
		tb[n + 1] = '"';
		add_member(&w->add, &first, top(F_TIME)->key, top(F_TIME)->keylen, tb, n + 2);
	}
	if (event_field(d, &cx.fm, F_VERSION) == JNONE) {
		int n = snprintf(num, sizeof num, "%" PRIu64, version);
		add_member(&w->add, &first, top(F_VERSION)->key, top(F_VERSION)->keylen, num, (size_t)n);
	}
	if (path_lookup(d, 0, &w->seq_path) == JNONE) {
		int n = snprintf(num, sizeof num, "%" PRIu64, seq);
		add_member(&w->add, &first, "seq", 3, num, (size_t)n);
	}
	/* metadata: what it lacks, inside it when it is there */
	uint32_t meta = path_lookup(d, 0, &w->meta_path);
	int mfirst = meta == JNONE || json_count(d, meta) == 0;
	char cid[37];
	buf_reset(&w->madd);
	if (w->source && (meta == JNONE || path_lookup(d, 0, &w->src_path) == JNONE))
		add_str(&w->madd, &mfirst, "source", w->source);
	if (meta == JNONE || path_lookup(d, 0, &w->corr_path) == JNONE) {
		if (!w->corr)
			new_uuid(w, 0, cid);
		add_str(&w->madd, &mfirst, "correlation_id", w->corr ? w->corr : cid);
	}
	if (w->cause && (meta == JNONE || path_lookup(d, 0, &w->cause_path) == JNONE))
		add_str(&w->madd, &mfirst, "causation_id", w->cause);
	size_t close = d->tok[0].start + d->tok[0].len - 1;
	buf_reset(&w->out);
	if (meta == JNONE) {
		if (w->madd.len) {
			buf_addc(&w->madd, '}');
			add_member(&w->add, &first, "metadata", 8, "{", 1);
			buf_add(&w->add, w->madd.p, w->madd.len);
		}
		buf_add(&w->out, ev->line, close);
	} else {
		size_t mclose = d->tok[meta].start + d->tok[meta].len - 1;
		buf_add(&w->out, ev->line, mclose);
		buf_add(&w->out, w->madd.p ? w->madd.p : "", w->madd.len);
		buf_add(&w->out, ev->line + mclose, close - mclose);
	}
	buf_add(&w->out, w->add.p ? w->add.p : "", w->add.len);
	buf_add(&w->out, ev->line + close, ev->len - close);
}

/* ---- --message ------------------------------------------------------ */

static void build_message(struct writer *w, struct ev_event *ev)
{
	const struct jdoc *d = ev->doc;
	struct buf *b = &w->out;
	char u[37], tb[40];
	uint32_t t;
	buf_reset(b);
	buf_adds(b, "{\"message_id\":");
	if ((t = event_field(d, &cx.fm, F_ID)) != JNONE) {
		buf_add(b, d->text + d->tok[t].start, d->tok[t].len);
	} else {
		new_uuid(w, w->uuid7, u);
		jw_cstring(b, u);
	}
	buf_adds(b, ",\"topic\":");
	if (w->topic)
		jw_cstring(b, w->topic);
	else
		buf_add(b, d->text + d->tok[event_field(d, &cx.fm, F_TYPE)].start,
		        d->tok[event_field(d, &cx.fm, F_TYPE)].len);
	t = event_field(d, &cx.fm, F_PAYLOAD);
	buf_adds(b, ",\"payload\":");
	buf_add(b, d->text + d->tok[t].start, d->tok[t].len);
	buf_adds(b, ",\"headers\":{\"content_type\":\"application/json\",\"timestamp\":");
	int64_t us;
	if ((t = event_field(d, &cx.fm, F_TIME)) == JNONE || time_of_token(d, t, cx.fm.unit, &us) < 0)
		us = time_now();
	jw_string(b, tb, time_format(us, tb));
	buf_adds(b, ",\"source\":");
	if (w->source)
		jw_cstring(b, w->source);
	else if ((t = path_lookup(d, 0, &w->src_path)) != JNONE)
		buf_add(b, d->text + d->tok[t].start, d->tok[t].len);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"correlation_id\":");
	if (w->corr) {
		jw_cstring(b, w->corr);
	} else if ((t = path_lookup(d, 0, &w->corr_path)) != JNONE) {
		buf_add(b, d->text + d->tok[t].start, d->tok[t].len);
	} else {
		new_uuid(w, 0, u);
		jw_cstring(b, u);
	}
	buf_adds(b, ",\"priority\":");
	jw_int(b, w->priority);
	buf_adds(b, ",\"ttl\":");
	if (w->have_ttl)
		jw_int(b, w->ttl_ms);
	else
		buf_adds(b, "null");
	buf_adds(b, "},\"routing\":{\"key\":");
	if (w->rkey)
		jw_cstring(b, w->rkey);
	else if (w->topic)
		jw_cstring(b, w->topic);
	else
		buf_add(b, d->text + d->tok[event_field(d, &cx.fm, F_TYPE)].start,
		        d->tok[event_field(d, &cx.fm, F_TYPE)].len);
	buf_adds(b, ",\"exchange\":");
	if (w->exchange)
		jw_cstring(b, w->exchange);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"partition_key\":");
	t = w->have_pkey ? path_lookup(d, 0, &w->pkey) : event_field(d, &cx.fm, F_KEY);
	if (t != JNONE)
		buf_add(b, d->text + d->tok[t].start, d->tok[t].len);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"retry_count\":0,\"max_retries\":");
	jw_int(b, w->max_retries);
	buf_addc(b, '}');
	if (w->have_deliver) {
		buf_adds(b, ",\"deliver_at\":");
		jw_string(b, tb, time_format(w->deliver_at, tb));
	}
	buf_addc(b, '}');
}

/* ---- the callback --------------------------------------------------- */

static void on_event(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct writer *w = arg;
	const struct jdoc *d = ev->doc;
	if (check_required(w, ev) < 0 || check_present(w, ev) < 0)
		return;
	if (w->message) {
		if (!w->topic && event_field(d, &c->fm, F_TYPE) == JNONE) {
			ev_reject(c, ev, "no topic: give --topic or a '%s' field", c->fm.f[F_TYPE].text);
			return;
		}
		build_message(w, ev);
		wfile_line(ev_out, w->out.p, w->out.len);
		return;
	}
	uint32_t id = event_field(d, &c->fm, F_ID);
	char newid[37];
	buf_reset(&w->idk);
	if (id != JNONE) {
		json_value_key(d, id, &w->idk);
		int dup = store_has_id(w->st, w->idk.p, w->idk.len);
		if (dup < 0)
			goto io;
		if (dup) {
			ev_line_warn(c, ev, "duplicate %s %.*s skipped: already in the store", c->fm.f[F_ID].text,
			             (int)d->tok[id].len, d->text + d->tok[id].start);
			w->skipped++;
			return;
		}
	} else {
		new_uuid(w, w->uuid7, newid);
		buf_addc(&w->idk, 's');
		buf_add(&w->idk, newid, 36);
	}
	uint32_t key = event_field(d, &c->fm, F_KEY);
	buf_reset(&w->vk);
	json_value_key(d, key, &w->vk);
	uint64_t actual;
	if (store_version(w->st, w->vk.p, w->vk.len, &actual) < 0)
		goto io;
	uint64_t seq = store_next_seq(w->st), s;
	/* versions and seq are read back as int64 by every tool: none can
	 * follow INT64_MAX */
	if (actual >= INT64_MAX) {
		struct buf k = {0};
		key_text(d, key, &k);
		ev_reject(c, ev, "aggregate %s is at version %" PRIu64 ", the largest there can be: no event can follow",
		          k.p, actual);
		buf_free(&k);
		return;
	}
	if (seq > INT64_MAX) {
		ev_reject(c, ev, "the store is at seq %" PRIu64 ", the largest there can be: no event can follow",
		          seq - 1);
		return;
	}
	if (check_expect(w, d, key, actual) < 0)
		return;
	uint32_t st = path_lookup(d, 0, &w->seq_path);
	if (st != JNONE && pos_int(d, st, &s) == 0 && s != seq) {
		ev_reject(c, ev, "seq %" PRIu64 " is not the store's next position %" PRIu64, s, seq);
		return;
	}
	build_event(w, ev, actual + 1, seq, id == JNONE ? newid : NULL);
	if (store_stage(w->st, w->out.p, w->out.len, w->idk.p, w->idk.len, w->vk.p, w->vk.len, actual + 1) == 0)
		return;
io:
	w->io_failed = 1;
	ev_raise(c, EV_IO);
	c->stop = 1;
}

static void setup_paths(struct writer *w)
{
	char err[64];
	path_parse(&w->seq_path, "seq", err, sizeof err);
	path_parse(&w->meta_path, "metadata", err, sizeof err);
	path_parse(&w->atype_path, "aggregate_type", err, sizeof err);
	path_parse(&w->expv_path, "expected_version", err, sizeof err);
	path_parse(&w->corr_path, "metadata.correlation_id", err, sizeof err);
	path_parse(&w->cause_path, "metadata.causation_id", err, sizeof err);
	path_parse(&w->src_path, "metadata.source", err, sizeof err);
}

int main(int argc, char **argv)
{
	static struct writer w;
	static const struct ev_tool tool = {
		"evwrite",
		"[-hqV] [--store file] [--expect E] [--atomic] [--fsync policy] [--require paths] "
		"[--schema file] [--message] [--dry-run] [file ...]",
		help_text, "q", longopts, option
	};
	w.lock_timeout = 10 * US_PER_S;
	w.max_retries = 3;
	int ind = ev_parse_args(&cx, &tool, &w, argc, argv);
	setup_paths(&w);
	if (w.message && w.store_path) {
		ev_warn("--message writes envelopes to standard output; it does not go with --store");
		ev_usage(&tool);
	}
	if (w.pkey_arg) {
		char err[256];
		if (path_parse(&w.pkey, w.pkey_arg, err, sizeof err) < 0) {
			ev_warn("--partition-key: %s", err);
			ev_usage(&tool);
		}
		w.have_pkey = 1;
	}
	if (w.ttl_arg) {
		int64_t us;
		if (ev_dur_arg("--ttl", w.ttl_arg, &us) < 0)
			ev_usage(&tool);
		w.ttl_ms = us / 1000;
		w.have_ttl = 1;
	}
	if (w.deliver_arg) {
		if (ev_time_arg(&cx, "--deliver-at", w.deliver_arg, &w.deliver_at) < 0)
			ev_usage(&tool);
		w.have_deliver = 1;
	}
	if (w.schema_path)
		load_schema(&w);

	/* appending to a store writes a file: all inputs must open first */
	if (w.store_path && !w.dry_run)
		ev_need_inputs(&cx, argc - ind, argv + ind);
	if (!w.message) {
		struct store_opts o = { w.store_path, &cx.fm, w.lock_timeout, w.fsync, w.repair,
		                        w.dry_run, w.atomic, w.quiet ? NULL : ev_out };
		int rc = store_open(&w.st, &o);
		if (rc) {
			store_close(w.st);
			ev_finish(&cx);
			return rc;
		}
	}
	ev_run(&cx, argc - ind, argv + ind, on_event, &w);
	if (w.st) {
		if (w.atomic && (cx.rejected || w.conflicts || w.io_failed)) {
			if (store_next_seq(w.st) > 1 || cx.events)
				ev_warn("nothing appended: the input is one unit (--atomic) and %s",
				        w.io_failed ? "an I/O error occurred" :
				        w.conflicts ? "it has a conflict" : "lines were rejected");
			store_discard(w.st);
		} else if (store_flush(w.st) != 0) {
			ev_raise(&cx, EV_IO);
		}
		if (store_close(w.st) != 0)
			ev_raise(&cx, EV_IO);
	}
	return ev_finish(&cx);
}
