/*
 * evwrite — validate, enrich and append events: the event store writer,
 * the domain-event checker, the CQRS command handler and the pub/sub
 * envelope maker.
 *
 * What it adds over lib: the options; the checks of required fields,
 * --schema specs and present envelope values; the expected-version rules
 * per aggregate (--expect, expected_version, present versions); the
 * command map of --commands and its --stats counts; and the order of the
 * work per event: check, duplicate, version, expectation, build
 * (lib/envelope.c), stage (lib/store.c: lock, whole lines, fsync, index,
 * echo once durable).  Every input line ends up appended, rejected,
 * skipped as a duplicate or reported as a conflict.
 */
#include "bmap.h"
#include "cli.h"
#include "envelope.h"
#include "ev.h"
#include "jload.h"
#include "jwrite.h"
#include "store.h"
#include "strset.h"
#include "timeutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_STORE = OPT_TOOL_BASE, OPT_REQUIRE, OPT_SCHEMA, OPT_UUID, OPT_SOURCE, OPT_CORR, OPT_CAUSE,
	OPT_EXPECT, OPT_ATOMIC, OPT_FSYNC, OPT_REPAIR, OPT_LOCKTO, OPT_DRYRUN, OPT_MESSAGE, OPT_TOPIC,
	OPT_PRIORITY, OPT_TTL, OPT_RKEY, OPT_PKEY, OPT_EXCHANGE, OPT_MAXRETRY, OPT_DELIVER, OPT_COMMANDS,
	OPT_STATS
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
	{ "commands", required_argument, NULL, OPT_COMMANDS },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ NULL, 0, NULL, 0 }
};

static const char help_text[] =
	"Validate events, add what they lack, and append them to an event store.\n"
	"      --store FILE         append to the event store FILE (locked, fsynced)\n"
	"      --require PATHS      fields every event must have (comma-separated)\n"
	"      --schema FILE        domain-event specs: payload fields per aggregate type\n"
	"      --uuid v4|v7         kind of event_id to generate (default v4)\n"
	"      --source NAME        metadata.source to add\n"
	"      --correlation-id ID, --causation-id ID: metadata ids to add\n"
	"      --expect E           any (default), no_stream, exists or a version N:\n"
	"                           the store's version before an aggregate's first event\n"
	"      --atomic             the whole input is one unit: all appended or none\n"
	"      --fsync POLICY       always, batch (default) or never\n"
	"      --repair             move a torn last line aside (FILE.torn.OFFSET)\n"
	"      --lock-timeout DUR   wait at most DUR for the store's lock (default 10s)\n"
	"      --dry-run            validate and print, append nothing\n"
	"  -q, --quiet              do not echo the appended events\n"
	"      --commands MAP       input lines are commands; MAP: command -> event type\n"
	"      --stats              with --commands: counts on stderr at the end\n"
	"      --message            write pub/sub message envelopes instead of events:\n"
	"                           --topic T, --priority N (0-9), --ttl DUR,\n"
	"                           --routing-key K, --partition-key PATH, --exchange\n"
	"                           NAME, --max-retries N (3), --deliver-at TIME\n";

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
	const char *source, *corr, *cause;
	enum expect_kind expect;
	uint64_t expect_n;
	int atomic, repair, dry_run, quiet;
	enum store_fsync fsync;
	int64_t lock_timeout;
	/* --message */
	int message;
	const char *pkey_arg, *deliver_arg, *ttl_arg;
	struct path pkey;
	struct env_msg msg;
	/* --commands */
	const char *map_path;
	struct bmap cmap;           /* command type -> event type (ptr: its text, v[0] length) */
	int stats;
	uint64_t unknown_type;

	struct store *st;
	struct bmap seen;           /* aggregate value key -> run state */
	struct envelope env;
	int uuid7;
	struct path seq_path, meta_path, atype_path, expv_path;
	struct buf out, vk, idk, scratch;
	uint64_t skipped, conflicts;
	int io_failed;
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
	case OPT_TOPIC: w->msg.topic = arg; return 0;
	case OPT_PRIORITY:
		if (ev_int_arg("--priority", arg, 0, 9, &w->msg.priority) < 0)
			return -1;
		return 0;
	case OPT_TTL: w->ttl_arg = arg; return 0;
	case OPT_RKEY: w->msg.routing_key = arg; return 0;
	case OPT_PKEY: w->pkey_arg = arg; return 0;
	case OPT_EXCHANGE: w->msg.exchange = arg; return 0;
	case OPT_MAXRETRY:
		if (ev_int_arg("--max-retries", arg, 0, INT32_MAX, &w->msg.max_retries) < 0)
			return -1;
		return 0;
	case OPT_DELIVER: w->deliver_arg = arg; return 0;
	case OPT_COMMANDS: w->map_path = arg; return 0;
	case OPT_STATS: w->stats = 1; return 0;
	}
	return -1;
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

static inline int pos_int(const struct jdoc *d, uint32_t t, uint64_t *v)
{
	int64_t i;
	if (json_tok_int(d, t, 1, INT64_MAX, &i) < 0)
		return -1;
	*v = (uint64_t)i;
	return 0;
}

/* Present envelope values must be valid: they are kept, never fixed. */
static int check_present(struct writer *w, struct ev_event *ev)
{
	const struct jdoc *d = ev->doc;
	uint32_t t;
	uint64_t v;
	int64_t us;
	/* a present id is any non-empty string or integer (GitHub's
	 * "34502641367", "ev-001", 42), kept as it is; only the ids evwrite
	 * makes are UUIDs */
	if ((t = event_field(d, &cx.fm, F_ID)) != JNONE && !env_id_ok(d, t)) {
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
	if ((t = path_lookup(d, 0, &w->expv_path)) != JNONE && !env_expected_ok(d, t)) {
		ev_reject(&cx, ev, "expected_version must be a version, \"any\", \"no_stream\" or \"exists\"");
		return -1;
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

/* 0: the event may be appended at version actual + 1; -1: a conflict.
 * t is its expected_version (JNONE: none), v its own version when has_v. */
static int check_expect(struct writer *w, const struct jdoc *d, uint32_t key, uint64_t actual, uint32_t t,
                        int has_v, uint64_t v)
{
	struct bmap_ent *e = bmap_get(&w->seen, w->vk.p, w->vk.len, NULL);
	uint64_t kind = X_ANY, n = 0;
	int has_own = 0;
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

/* ---- the callbacks -------------------------------------------------- */

/* Is the event (value key w->idk) already stored?  1 skipped (warned),
 * 0 not, -1 I/O error. */
static int duplicate(struct writer *w, struct ev_event *ev, const char *what, uint32_t id, const char *eid)
{
	const struct jdoc *d = ev->doc;
	int dup = store_has_id(w->st, w->idk.p, w->idk.len);
	if (dup > 0) {
		if (eid)
			ev_line_warn(&cx, ev, "duplicate %s %.*s skipped: its event %s is already in the store", what,
			             (int)d->tok[id].len, d->text + d->tok[id].start, eid);
		else
			ev_line_warn(&cx, ev, "duplicate %s %.*s skipped: already in the store", what,
			             (int)d->tok[id].len, d->text + d->tok[id].start);
		w->skipped++;
	}
	return dup;
}

/*
 * Where the event of aggregate key goes: its version *actual + 1 and the
 * store's *seq, after the numbering limits and the expectation (expv, and
 * the event's own version v when has_v).  0 go on, 1 refused (rejected or
 * a conflict), -1 I/O error.
 */
static int position(struct writer *w, struct ev_event *ev, uint32_t key, uint32_t expv, int has_v, uint64_t v,
                    uint64_t *actual, uint64_t *seq)
{
	const struct jdoc *d = ev->doc;
	buf_reset(&w->vk);
	json_value_key(d, key, &w->vk);
	if (store_version(w->st, w->vk.p, w->vk.len, actual) < 0)
		return -1;
	*seq = store_next_seq(w->st);
	/* versions and seq are read back as int64 by every tool: none can
	 * follow INT64_MAX */
	if (*actual >= INT64_MAX) {
		struct buf k = {0};
		key_text(d, key, &k);
		ev_reject(&cx, ev, "aggregate %s is at version %" PRIu64 ", the largest there can be: no event can follow",
		          k.p, *actual);
		buf_free(&k);
		return 1;
	}
	if (*seq > INT64_MAX) {
		ev_reject(&cx, ev, "the store is at seq %" PRIu64 ", the largest there can be: no event can follow",
		          *seq - 1);
		return 1;
	}
	return check_expect(w, d, key, *actual, expv, has_v, v) < 0 ? 1 : 0;
}

static void io_failed(struct writer *w)
{
	w->io_failed = 1;
	ev_raise(&cx, EV_IO);
	cx.stop = 1;
}

/* --commands: one command in, one event of its mapped type staged. */
static void on_command(struct writer *w, struct ev_event *ev)
{
	const struct jdoc *d = ev->doc;
	struct env_command cm;
	const char *why = env_command_read(d, &cm);
	if (why) {
		ev_reject(&cx, ev, "%s", why);
		return;
	}
	for (size_t i = 0; i < w->nreq; i++)
		if (path_lookup(d, 0, &w->req[i]) == JNONE) {
			ev_reject(&cx, ev, "command lacks %s (--require)", w->req[i].text);
			return;
		}
	size_t tl, nn;
	const char *tn = str_of(w, d, cm.type, &tl);
	struct bmap_ent *m = bmap_find(&w->cmap, tn, tl);
	if (!m) {
		const struct jtok *k = &d->tok[cm.type];
		w->unknown_type++;
		ev_reject(&cx, ev, "unknown command type %.*s%s", k->len > 60 ? 60 : (int)k->len, d->text + k->start,
		          k->len > 60 ? "..." : "");
		return;
	}
	/* the event's id is the command id's UUID v5: a re-sent command
	 * finds its event in the store */
	char gen[37], cause[40], eid[37];
	const char *name, *cj;
	size_t cjn;
	if (cm.id != JNONE) {
		name = env_command_name(&w->env, d, cm.id, &nn);
		cj = d->text + d->tok[cm.id].start;
		cjn = d->tok[cm.id].len;
	} else {
		env_uuid(&w->env.gen, gen);
		name = gen;
		nn = 36;
		cjn = (size_t)snprintf(cause, sizeof cause, "\"%s\"", gen);
		cj = cause;
	}
	env_uuid_v5(env_ns_command, name, nn, eid);
	buf_reset(&w->idk);
	buf_addc(&w->idk, 's');
	buf_add(&w->idk, eid, 36);
	int rc = cm.id != JNONE ? duplicate(w, ev, "command_id", cm.id, eid) : 0;
	uint64_t actual, seq;
	if (rc == 0)
		rc = position(w, ev, cm.key, cm.expected, 0, 0, &actual, &seq);
	if (rc > 0)
		return;
	if (rc == 0) {
		struct env_cmd_fill f = { m->ptr, m->v[0], eid, cj, cjn, actual + 1, seq, w->source, w->corr };
		env_command_event(&w->env, d, &cm, &f, &w->out);
		if (store_stage(w->st, w->out.p, w->out.len, w->idk.p, w->idk.len, w->vk.p, w->vk.len, actual + 1) == 0)
			return;
	}
	io_failed(w);
}

static void on_event(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct writer *w = arg;
	const struct jdoc *d = ev->doc;
	if (w->map_path) {
		on_command(w, ev);
		return;
	}
	if (check_required(w, ev) < 0 || check_present(w, ev) < 0)
		return;
	if (w->message) {
		if (!w->msg.topic && event_field(d, &c->fm, F_TYPE) == JNONE) {
			ev_reject(c, ev, "no topic: give --topic or a '%s' field", c->fm.f[F_TYPE].text);
			return;
		}
		env_message(&w->env, &w->msg, d, &w->out);
		wfile_line(ev_out, w->out.p, w->out.len);
		return;
	}
	uint32_t id = event_field(d, &c->fm, F_ID);
	char newid[37];
	int rc = 0;
	buf_reset(&w->idk);
	if (id != JNONE) {
		json_value_key(d, id, &w->idk);
		rc = duplicate(w, ev, c->fm.f[F_ID].text, id, NULL);
	} else {
		env_uuid(&w->env.gen, newid);
		buf_addc(&w->idk, 's');
		buf_add(&w->idk, newid, 36);
	}
	uint64_t actual, seq, v = 0, s;
	int has_v = pos_int(d, event_field(d, &c->fm, F_VERSION), &v) == 0;
	if (rc == 0)
		rc = position(w, ev, event_field(d, &c->fm, F_KEY), path_lookup(d, 0, &w->expv_path), has_v, v,
		              &actual, &seq);
	if (rc > 0)
		return;
	if (rc == 0) {
		uint32_t st = path_lookup(d, 0, &w->seq_path);
		if (st != JNONE && pos_int(d, st, &s) == 0 && s != seq) {
			ev_reject(c, ev, "seq %" PRIu64 " is not the store's next position %" PRIu64, s, seq);
			return;
		}
		struct env_fill f = { id == JNONE ? newid : NULL, actual + 1, seq, w->source, w->corr, w->cause };
		env_fill(&w->env, d, ev->line, ev->len, &f, &w->out);
		if (store_stage(w->st, w->out.p, w->out.len, w->idk.p, w->idk.len, w->vk.p, w->vk.len, actual + 1) == 0)
			return;
	}
	io_failed(w);
}

/* ---- --commands MAP ------------------------------------------------- */

static void load_map(struct writer *w)
{
	char err[512];
	json_t *map = jload_file(w->map_path, err, sizeof err);
	if (!map)
		ev_die(EV_USAGE, "--commands: %s", err);
	if (!json_is_object(map))
		ev_die(EV_USAGE, "--commands: %s: expected an object from command type to event type", w->map_path);
	const char *k;
	json_t *v;
	json_object_foreach(map, k, v) {
		if (!json_is_string(v))
			ev_die(EV_USAGE, "--commands: %s: the event type of \"%s\" is not a string", w->map_path, k);
		size_t n = json_string_length(v);
		if (n == 0)
			ev_die(EV_USAGE, "--commands: %s: the event type of \"%s\" is empty", w->map_path, k);
		struct bmap_ent *e = bmap_get(&w->cmap, k, strlen(k), NULL);
		e->ptr = xmemdup(json_string_value(v), n);
		e->v[0] = n;
	}
	json_decref(map);
}

static void free_map(struct writer *w)
{
	for (size_t i = 0; i < w->cmap.cap; i++)
		if (w->cmap.tab && w->cmap.tab[i].k)
			free(w->cmap.tab[i].ptr);
	bmap_free(&w->cmap);
}

static void setup_paths(struct writer *w)
{
	char err[64];
	path_parse(&w->seq_path, "seq", err, sizeof err);
	path_parse(&w->meta_path, "metadata", err, sizeof err);
	path_parse(&w->atype_path, "aggregate_type", err, sizeof err);
	path_parse(&w->expv_path, "expected_version", err, sizeof err);
}

/* --commands writes the event's members itself: each mapped name must be
 * one top-level member. */
static void check_command_fields(const struct ev_tool *tool)
{
	static const enum ev_field f[] = { F_ID, F_KEY, F_TYPE, F_TIME, F_PAYLOAD, F_VERSION };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (cx.fm.f[f[i]].n != 1) {
			ev_warn("--commands writes top-level members: --%s '%s' is not one", fieldmap_option(f[i]),
			        cx.fm.f[f[i]].text);
			ev_usage(tool);
		}
}

static void print_stats(struct writer *w)
{
	uint64_t events = w->st ? store_appended(w->st) : 0;
	wfile_flush(ev_out);
	fprintf(stderr,
	        "{\"commands\":%" PRIu64 ",\"events\":%" PRIu64 ",\"skipped\":%" PRIu64
	        ",\"rejected\":{\"unknown_type\":%" PRIu64 ",\"invalid\":%" PRIu64 ",\"conflict\":%" PRIu64 "}}\n",
	        cx.events + cx.rejected, events, w->skipped, w->unknown_type, cx.rejected - w->unknown_type,
	        w->conflicts);
	fflush(stderr);
}

int main(int argc, char **argv)
{
	static struct writer w;
	static const struct ev_tool tool = {
		"evwrite",
		"[-hqV] [--store file] [--expect E] [--atomic] [--dry-run] [option ...] [file ...]",
		help_text, "q", longopts, option
	};
	w.lock_timeout = 10 * US_PER_S;
	w.msg.max_retries = 3;
	int ind = ev_parse_args(&cx, &tool, &w, argc, argv);
	setup_paths(&w);
	env_init(&w.env, &cx.fm, w.uuid7);
	if (w.message && w.store_path) {
		ev_warn("--message writes envelopes to standard output; it does not go with --store");
		ev_usage(&tool);
	}
	for (int f = F_CORR; !w.message && f <= F_CAUSE; f++)
		if (!env_addable(&cx.fm, (enum ev_field)f)) {
			ev_warn("--%s '%s': evwrite adds it as a top-level member or as metadata.NAME",
			        fieldmap_option((enum ev_field)f), cx.fm.f[f].text);
			ev_usage(&tool);
		}
	if (w.map_path) {
		const char *other = w.message ? "--message" : w.schema_path ? "--schema" : w.cause ? "--causation-id" : NULL;
		if (other) {
			ev_warn("--commands does not go with %s%s", other,
			        w.cause ? ": the event a command makes is caused by its command_id" : "");
			ev_usage(&tool);
		}
		check_command_fields(&tool);
	} else if (w.stats) {
		ev_warn("--stats counts commands: it goes with --commands");
		ev_usage(&tool);
	}
	if (w.pkey_arg) {
		char err[256];
		if (path_parse(&w.pkey, w.pkey_arg, err, sizeof err) < 0) {
			ev_warn("--partition-key: %s", err);
			ev_usage(&tool);
		}
		w.msg.partition_key = &w.pkey;
	}
	if (w.ttl_arg) {
		int64_t us;
		if (ev_dur_arg("--ttl", w.ttl_arg, &us) < 0)
			ev_usage(&tool);
		/* headers.ttl is whole seconds (evdlq expire reads it so) */
		if (us % US_PER_S) {
			ev_warn("--ttl: '%s' is not a whole number of seconds", w.ttl_arg);
			ev_usage(&tool);
		}
		w.msg.ttl_s = us / US_PER_S;
		w.msg.have_ttl = 1;
	}
	if (w.deliver_arg) {
		if (ev_time_arg(&cx, "--deliver-at", w.deliver_arg, &w.msg.deliver_at) < 0)
			ev_usage(&tool);
		w.msg.have_deliver = 1;
	}
	w.msg.source = w.source;
	w.msg.correlation = w.corr;
	if (w.schema_path)
		load_schema(&w);
	if (w.map_path)
		load_map(&w);

	/* appending to a store writes a file: all inputs must open first */
	if (w.store_path && !w.dry_run)
		ev_need_inputs(&cx, argc - ind, argv + ind);
	if (!w.message) {
		struct store_opts o = { w.store_path, &cx.fm, w.lock_timeout, w.fsync, w.repair,
		                        w.dry_run, w.atomic, w.quiet ? NULL : ev_out };
		int rc = store_open(&w.st, &o);
		if (rc) {
			store_close(w.st);
			w.st = NULL;
			if (w.stats)
				print_stats(&w);
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
		if (w.stats)
			print_stats(&w);
		if (store_close(w.st) != 0)
			ev_raise(&cx, EV_IO);
	}
	free_map(&w);
	env_free(&w.env);
	return ev_finish(&cx);
}
