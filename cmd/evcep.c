/*
 * evcep — complex event processing: find sequences, absences and
 * thresholds per key in event time, and turn them into match records or
 * command records (policies).
 *
 * What this file adds over lib/: the options, compiling -p and -f
 * patterns in the order given (lib/cep), the event callback (time,
 * rejections, --state positions), the --state file's header, and
 * several operands read through lib/merge as one stream in event time
 * (ties in operand order; lateness and late events per input there, so
 * the engine then runs with lateness 0).  The pattern language, the
 * matching engine, deadlines (lib/keyed), lateness and the record formats
 * are lib/cep.c; resumable reading is lib/resume.c.
 */
#include "atomic.h"
#include "bmap.h"
#include "cep.h"
#include "checkpoint.h"
#include "cli.h"
#include "ev.h"
#include "jwrite.h"
#include "merge.h"
#include "resume.h"
#include "timeutil.h"
#include "window.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_IDS = OPT_TOOL_BASE, OPT_SKIP, OPT_EOF, OPT_PARTIALS, OPT_MAX_PARTIALS, OPT_LATENESS,
	OPT_LATE, OPT_STATE, OPT_FLUSH
};

static const struct option longopts[] = {
	{ "pattern", required_argument, NULL, 'p' },
	{ "pattern-file", required_argument, NULL, 'f' },
	{ "exit-status", no_argument, NULL, 'e' },
	{ "ids", no_argument, NULL, OPT_IDS },
	{ "skip", required_argument, NULL, OPT_SKIP },
	{ "eof", required_argument, NULL, OPT_EOF },
	{ "partials", no_argument, NULL, OPT_PARTIALS },
	{ "max-partials", required_argument, NULL, OPT_MAX_PARTIALS },
	{ "lateness", required_argument, NULL, OPT_LATENESS },
	{ "late", required_argument, NULL, OPT_LATE },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "flush", no_argument, NULL, OPT_FLUSH },
	{ NULL, 0, NULL, 0 }
};

static const char help_text[] =
	"Find patterns of events per key, in event time.\n"
	"  -p, --pattern TEXT       'NAME: STEP -> ... within DUR [by PATHS] [=> ACTS]'\n"
	"  -f, --pattern-file FILE  patterns in JSON (an object or an array of them)\n"
	"  -e, --exit-status        exit 1 when nothing was detected\n"
	"      --ids                list event ids instead of whole events\n"
	"      --skip MODE          after a match: past-last (default), next or none\n"
	"      --eof MODE           at end, matches waiting: drop (default) or flush\n"
	"      --partials           also list partial matches (timeout, eof, overflow)\n"
	"      --max-partials N     keep at most N partial matches (drop the earliest)\n"
	"      --lateness DUR       reorder events up to DUR late (default 0)\n"
	"      --late FILE          append late events to FILE\n"
	"      --state FILE         resume from FILE and save partial matches there\n"
	"      --flush              with --state: end the stream (emit what waits)\n";

struct src { int file; const char *text; };

struct cepopt {
	struct src *src;
	size_t nsrc;
	int exit_status, ids, partials, flush;
	enum cep_skip skip;
	int eof_flush;
	int64_t max_partials, lateness;
	const char *lateness_arg, *late_path, *state_path, *skip_arg;
	struct cep_pattern **pat;
	size_t npat;
	struct cep eng;
	struct latesink late;
	struct resume rs;
	struct merge m;
	char *fingerprint;
};

static struct evctx cx;

static int option(int c, const char *arg, void *tool)
{
	struct cepopt *o = tool;
	switch (c) {
	case 'p':
	case 'f':
		o->src = xrealloc(o->src, (o->nsrc + 1) * sizeof *o->src);
		o->src[o->nsrc++] = (struct src){ c == 'f', arg };
		return 0;
	case 'e': o->exit_status = 1; return 0;
	case OPT_IDS: o->ids = 1; return 0;
	case OPT_SKIP:
		o->skip_arg = arg;
		if (strcmp(arg, "past-last") == 0)
			o->skip = CEP_SKIP_PAST_LAST;
		else if (strcmp(arg, "next") == 0)
			o->skip = CEP_SKIP_NEXT;
		else if (strcmp(arg, "none") == 0)
			o->skip = CEP_SKIP_NONE;
		else {
			ev_warn("--skip: expected past-last, next or none, not '%s'", arg);
			return -1;
		}
		return 0;
	case OPT_EOF:
		if (strcmp(arg, "drop") == 0)
			o->eof_flush = 0;
		else if (strcmp(arg, "flush") == 0)
			o->eof_flush = 1;
		else {
			ev_warn("--eof: expected drop or flush, not '%s'", arg);
			return -1;
		}
		return 0;
	case OPT_PARTIALS: o->partials = 1; return 0;
	case OPT_MAX_PARTIALS: return ev_int_arg("--max-partials", arg, 1, INT64_MAX, &o->max_partials);
	case OPT_LATENESS:
		o->lateness_arg = arg;
		if (strcmp(arg, "inf") == 0) {
			o->lateness = INT64_MAX;
			return 0;
		}
		return ev_dur_arg("--lateness", arg, &o->lateness);
	case OPT_LATE: o->late_path = arg; return 0;
	case OPT_STATE: o->state_path = arg; return 0;
	case OPT_FLUSH: o->flush = 1; return 0;
	}
	return -1;
}

static void watch(const struct path *p, void *arg)
{
	ev_watch_path(&cx, p, arg);
}

static void compile(struct cepopt *o, const struct ev_tool *t)
{
	struct expr_env env = { .fm = &cx.fm, .args = &cx.args, .now = cx.now, .what = "-p" };
	if (!o->nsrc) {
		ev_warn("no pattern: give -p TEXT or -f FILE");
		ev_usage(t);
	}
	for (size_t i = 0; i < o->nsrc; i++) {
		if (o->src[i].file) {
			if (cep_load_file(o->src[i].text, &env, &o->pat, &o->npat) < 0)
				exit(EV_USAGE);
			continue;
		}
		struct cep_error err;
		struct cep_pattern *p = cep_parse(o->src[i].text, &env, &err);
		if (!p) {
			struct expr_error ee;
			err.msg[sizeof ee.msg - 1] = '\0';
			ee.column = err.column ? err.column : strlen(o->src[i].text) + 1;
			memcpy(ee.msg, err.msg, sizeof ee.msg);
			if (err.column)
				expr_print_error("-p", o->src[i].text, &ee);
			else
				ev_warn("-p: %s", err.msg);
			exit(EV_USAGE);
		}
		o->pat = xrealloc(o->pat, (o->npat + 1) * sizeof *o->pat);
		o->pat[o->npat++] = p;
	}
	for (size_t i = 0; i < o->npat; i++) {
		struct cep_pattern *p = o->pat[i];
		for (size_t j = 0; j < p->nby; j++)
			ev_watch_path(&cx, &p->by[j], "by");
		for (size_t j = 0; j < p->nsteps; j++)
			if (p->steps[j].where)
				expr_watch_paths(p->steps[j].where, watch, (void *)"-p");
	}
}

/* What a state was made with: a state made under other patterns or
 * options is refused. */
static char *fingerprint(const struct cepopt *o)
{
	struct buf b = {0};
	buf_adds(&b, "evcep");
	for (size_t i = 0; i < o->nsrc; i++) {
		buf_adds(&b, o->src[i].file ? " -f " : " -p ");
		buf_adds(&b, o->src[i].text);
		if (o->src[i].file) { /* the file's contents, not only its name */
			struct buf f = {0};
			if (buf_read_file(&f, o->src[i].text) == 0)
				buf_printf(&b, "#%016" PRIx64, fnv1a64(f.p, f.len));
			buf_free(&f);
		}
	}
	buf_printf(&b, " skip=%d lateness=%" PRId64 " key=%s type=%s time=%s", (int)o->skip, o->lateness,
	           cx.fm.f[F_KEY].text ? cx.fm.f[F_KEY].text : "", cx.fm.f[F_TYPE].text ? cx.fm.f[F_TYPE].text : "",
	           cx.fm.f[F_TIME].text ? cx.fm.f[F_TIME].text : "");
	return b.p;
}

static void emit(void *arg, const char *line, size_t len)
{
	(void)arg;
	wfile_line(ev_out, line, len);
}

static void on_event(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct cepopt *o = arg;
	if (o->state_path && resume_skip(c, &o->rs, ev))
		return;
	int64_t t;
	char why[200];
	if (event_time(ev->doc, &c->fm, &t, why, sizeof why) < 0) {
		ev_reject(c, ev, "%s", why);
		return;
	}
	cep_event(&o->eng, ev->line, ev->len, ev->doc, t);
}

/* Several operands: lib/merge has read the time, kept each input's own
 * lateness and sent its late events to the sink; what comes here is in
 * event-time order. */
static void on_merged(struct evctx *c, struct ev_event *ev, int src, int64_t t, void *arg)
{
	(void)c;
	(void)src;
	struct cepopt *o = arg;
	cep_event(&o->eng, ev->line, ev->len, ev->doc, t);
}

/* Deadlines need no watermark callback: the engine fires them as event
 * time passes them, and the merge hands events on in time order; the
 * end of input is cep_end's (--eof), not a deadline at +infinity. */
static void run_merged(struct cepopt *o, int n, char **files)
{
	o->m.lateness = o->lateness;
	/* a pattern over a missing input would match wrongly (absences) */
	if (merge_open(&o->m, &cx, n, files) > 0) {
		merge_close(&o->m);
		return;
	}
	o->m.late = &o->late;
	o->m.event = on_merged;
	o->m.advance = NULL;
	o->m.arg = o;
	merge_run(&o->m);
	merge_close(&o->m);
}

/* ---- --state ------------------------------------------------------------- */

static void state_load(struct cepopt *o)
{
	struct buf body = {0};
	char err[300];
	o->rs.state_path = o->state_path;
	int rc = ckpt_load(o->state_path, &o->rs.ck, &body, err, sizeof err);
	if (rc < 0)
		ev_die(EV_USAGE, "--state %s", err);
	if (rc == 0)
		return;
	struct jdoc d = {0};
	struct jerr jerr;
	const char *p = body.p ? body.p : "", *end = p + body.len;
	for (int first = 1; p < end; first = 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (json_parse(&d, p, n, 0, &jerr) < 0)
			ev_die(EV_USAGE, "--state %s: damaged: %s", o->state_path, jerr.msg);
		if (first) {
			uint32_t t = json_get(&d, 0, "options", 7), ev = json_get(&d, 0, "events", 6);
			const char *s;
			size_t sn;
			struct buf sc = {0};
			if (json_get(&d, 0, "evcep", 5) == JNONE || t == JNONE || d.tok[t].type != J_STR || ev == JNONE)
				ev_die(EV_USAGE, "--state %s: not an evcep state", o->state_path);
			json_str(&d, t, &sc, &s, &sn);
			if (sn != strlen(o->fingerprint) || memcmp(s, o->fingerprint, sn) != 0)
				ev_die(EV_USAGE, "--state %s: saved by a run with other patterns or options", o->state_path);
			buf_free(&sc);
		} else if (cep_load_line(&o->eng, &d, err, sizeof err) < 0) {
			ev_die(EV_USAGE, "--state %s: damaged: %s", o->state_path, err);
		}
		p += n + 1;
	}
	json_doc_free(&d);
	buf_free(&body);
}

static void state_line(void *arg, const char *p, size_t n)
{
	wfile_line(arg, p, n);
}

static void state_save(struct cepopt *o)
{
	struct atomic_file *a = ckpt_begin(o->state_path, &o->rs.ck);
	struct buf b = {0};
	buf_adds(&b, "{\"evcep\":1,\"options\":");
	jw_cstring(&b, o->fingerprint);
	buf_adds(&b, ",\"events\":");
	jw_uint(&b, o->eng.seq);
	buf_addc(&b, '}');
	wfile_line(a->w, b.p, b.len);
	cep_save(&o->eng, &b, state_line, a->w);
	buf_free(&b);
	ckpt_commit(a);
}

int main(int argc, char **argv)
{
	static struct cepopt O;
	static const struct ev_tool tool = {
		"evcep",
		"[-e] [-p pattern ...] [-f file ...] [--ids] [--skip mode] [--eof mode] [--partials] "
		"[--max-partials N] [--lateness dur] [--late file] [--state file [--flush]] [file ...]",
		help_text, "p:f:e", longopts, option
	};
	int ind = ev_parse_args(&cx, &tool, &O, argc, argv);
	if (O.flush && !O.state_path) {
		ev_warn("--flush needs --state");
		ev_usage(&tool);
	}
	int merged = argc - ind > 1;
	if (merged && O.state_path) {
		ev_warn("--state reads one input: it keeps no resumable position per operand "
		        "(merge them first, e.g. evquery --interleave)");
		ev_usage(&tool);
	}
	compile(&O, &tool);
	ev_watch_path(&cx, &cx.fm.f[F_TYPE], "--type-field");
	if (O.late_path && late_open(&O.late, O.late_path) < 0)
		ev_die_errno(EV_USAGE, "--late %s", O.late_path);
	if (!O.late_path)
		late_open(&O.late, NULL);
	/* several operands: the merge orders events and applies the lateness */
	struct cep_opts co = { O.skip, O.eof_flush, O.partials, O.ids, (uint64_t)O.max_partials,
	                       merged ? 0 : O.lateness, &cx.fm, emit, NULL, &O.late };
	cep_init(&O.eng, O.pat, O.npat, &co);
	if (O.state_path) {
		/* fail before any output if the state cannot be saved */
		struct atomic_file *probe = atomic_open(O.state_path);
		if (!probe)
			ev_die_errno(EV_USAGE, "--state %s: cannot write", O.state_path);
		atomic_abort(probe);
		O.fingerprint = fingerprint(&O);
		state_load(&O);
		ev_progress_begin(&cx, argc - ind, argv + ind);
		resume_run(&cx, &O.rs, argc - ind, argv + ind, on_event, &O);
		ev_progress_end(&cx);
	} else if (merged) {
		run_merged(&O, argc - ind, argv + ind);
	} else {
		ev_run(&cx, argc - ind, argv + ind, on_event, &O);
	}
	/* with --state, what waits stays in the state for a later run */
	cep_end(&O.eng, O.state_path && !O.flush);
	wfile_flush(ev_out);
	if (O.state_path && cx.status < EV_IO)
		state_save(&O);
	if (O.eng.overflow) {
		ev_warn("%" PRIu64 " partial match%s dropped by --max-partials %" PRId64, O.eng.overflow,
		        O.eng.overflow == 1 ? "" : "es", O.max_partials);
		ev_raise(&cx, EV_REJECT);
	}
	ev_raise(&cx, late_finish(&O.late, "matched nothing"));
	if (O.exit_status && O.eng.matches == 0)
		ev_raise(&cx, EV_NOMATCH);
	int rc = ev_finish(&cx); /* (it reads the watched paths of the patterns) */
	cep_free(&O.eng);
	for (size_t i = 0; i < O.npat; i++)
		cep_pattern_free(O.pat[i]);
	free(O.pat);
	free(O.src);
	free(O.fingerprint);
	return rc;
}
