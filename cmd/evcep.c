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
 * the engine then runs with lateness 0), also under --state (a position
 * and latest time per operand, see on_merged_state).  The pattern language, the
 * matching engine, deadlines (lib/keyed), lateness and the record formats
 * are lib/cep.c; resumable reading is lib/resume.c.
 *
 * Sagas (--saga) are lib/saga.c, hooked onto the pattern engine so both
 * see one stream in one order (the reorder of --lateness is the pattern
 * engine's); what is left here is telling the user about a saga event
 * that fits no running saga with its file and line, also when the
 * reorder held it (held_pos).
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
#include "saga.h"
#include "timeutil.h"
#include "window.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_IDS = OPT_TOOL_BASE, OPT_SKIP, OPT_EOF, OPT_PARTIALS, OPT_MAX_PARTIALS, OPT_LATENESS,
	OPT_LATE, OPT_STATE, OPT_FLUSH, OPT_SAGA, OPT_STATS
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
	{ "saga", required_argument, NULL, OPT_SAGA },
	{ "stats", no_argument, NULL, OPT_STATS },
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
	"      --flush              with --state: end the stream (emit what waits)\n"
	"      --saga FILE          run the sagas of FILE (a JSON object or array)\n"
	"      --stats              with --saga: a count record per saga type at the end\n";

struct src { int file; const char *text; };

/* --state with several operands: what is kept per input. */
struct inpos {
	struct ckpt ck;     /* position (identity, offset, checksum) */
	int64_t max;        /* latest time handed on from it */
	int have_max;
	int ended;          /* reached its end in this run (or a half-written line) */
	uint64_t end_off;   /* with ended by a half-written line: where it starts */
};

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
	/* sagas */
	const char **saga_files;
	size_t nsaga_files;
	int stats;
	const char *correlation;
	struct saga_def *sdefs;
	size_t nsdefs;
	struct saga saga;
	/* where events are: the one being read, and those the reorder holds */
	const struct ev_event *cur;
	char *label;
	uint64_t held_base;         /* hseq of held_pos[0] */
	uint64_t *held_pos;         /* 1 + line (or byte offset); 0: processed */
	size_t nheld_pos, capheld_pos;
	/* --state with several operands */
	int nin;
	char **inames;
	struct inpos *in;
	int stop_src;       /* the input whose event stopped the run, or -1 */
	uint64_t stop_off;
	int have_inputs;    /* the loaded state listed its inputs */
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
	case OPT_SAGA:
		o->saga_files = xrealloc(o->saga_files, (o->nsaga_files + 1) * sizeof *o->saga_files);
		o->saga_files[o->nsaga_files++] = arg;
		return 0;
	case OPT_STATS: o->stats = 1; return 0;
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
	if (!o->nsrc && !o->nsaga_files) {
		ev_warn("no pattern: give -p TEXT, -f FILE or --saga FILE");
		ev_usage(t);
	}
	/* the sagas' default key: the common --correlation-field mapping */
	o->correlation = cx.fm.f[F_CORR].text ? cx.fm.f[F_CORR].text : "metadata.correlation_id";
	for (size_t i = 0; i < o->nsaga_files; i++)
		if (saga_load_file(o->saga_files[i], o->correlation, &o->sdefs, &o->nsdefs) < 0)
			exit(EV_USAGE);
	for (size_t i = 0; i < o->nsdefs; i++)
		ev_watch_path(&cx, &o->sdefs[i].key, "--saga key");
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
	for (size_t i = 0; i < o->nsaga_files; i++) {
		struct buf f = {0};
		buf_adds(&b, " --saga ");
		buf_adds(&b, o->saga_files[i]);
		if (buf_read_file(&f, o->saga_files[i]) == 0)
			buf_printf(&b, "#%016" PRIx64, fnv1a64(f.p, f.len));
		buf_free(&f);
	}
	if (o->nsaga_files)
		buf_printf(&b, " correlation=%s", o->correlation);
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

/* ---- sagas: where an event is, for messages ------------------------------ */

/* An event the reorder of --lateness held (cep_event gave it the hold
 * number hseq): keep its line (or byte offset) until it is processed. */
static void held_note(struct cepopt *o, uint64_t hseq, const struct ev_event *ev)
{
	if (!o->label)
		o->label = xstrdup(ev->in->label);
	if (!o->nheld_pos)
		o->held_base = hseq;
	size_t i = (size_t)(hseq - o->held_base);
	o->held_pos = xgrow(o->held_pos, &o->capheld_pos, i + 1, sizeof *o->held_pos);
	while (o->nheld_pos < i)
		o->held_pos[o->nheld_pos++] = 0;
	o->held_pos[i] = 1 + (cx.by_offset ? ev->in->offset : ev->in->lineno);
	o->nheld_pos = i + 1;
}

/* The held event hseq is being processed: its position (0: unknown, held
 * by an earlier run), forgotten. */
static uint64_t held_take(struct cepopt *o, uint64_t hseq)
{
	uint64_t pos = 0;
	if (hseq >= o->held_base && hseq - o->held_base < o->nheld_pos) {
		size_t i = (size_t)(hseq - o->held_base);
		pos = o->held_pos[i];
		o->held_pos[i] = 0;
	}
	size_t k = 0;
	while (k < o->nheld_pos && !o->held_pos[k])
		k++;
	if (k > 64 && k * 2 >= o->nheld_pos) { /* drop what is processed */
		memmove(o->held_pos, o->held_pos + k, (o->nheld_pos - k) * sizeof *o->held_pos);
		o->nheld_pos -= k;
		o->held_base += k;
	} else if (k == o->nheld_pos) {
		o->nheld_pos = 0;
	}
	return pos;
}

static int saga_hook_event(void *arg, const char *line, size_t len, const struct jdoc *d, int64_t t)
{
	struct cepopt *o = arg;
	int rejected = saga_event(&o->saga, line, len, d, t);
	if (o->eng.proc_hseq != UINT64_MAX)
		held_take(o, o->eng.proc_hseq);
	return rejected;
}

static void saga_hook_time(void *arg, int64_t wm)
{
	struct cepopt *o = arg;
	saga_time(&o->saga, wm);
}

/* A done or failed event that fits no running saga: a warning, or with
 * --strict a rejection that does not stop the run (1: the patterns must
 * not see it). */
static int saga_unfit(void *arg, const char *line, size_t len, const char *why)
{
	struct cepopt *o = arg;
	struct ev_event stand, *ev;
	struct input in;
	if (o->cur && o->cur->line == line) {
		ev = (struct ev_event *)o->cur;
	} else { /* held by the reorder: a stand-in with its position */
		uint64_t pos = 0;
		if (o->eng.proc_hseq != UINT64_MAX && o->eng.proc_hseq >= o->held_base &&
		    o->eng.proc_hseq - o->held_base < o->nheld_pos)
			pos = o->held_pos[o->eng.proc_hseq - o->held_base];
		memset(&in, 0, sizeof in);
		in.label = pos ? o->label : o->state_path ? o->state_path : "<held>";
		in.lineno = in.offset = pos ? pos - 1 : 0;
		stand = (struct ev_event){ line, len, NULL, &in };
		ev = &stand;
	}
	if (!cx.strict) {
		ev_line_warn(&cx, ev, "%s", why);
		return 0;
	}
	int stop = cx.stop, counted = ev == cx.handed;
	ev_reject(&cx, ev, "%s", why);
	cx.stop = stop; /* (for sagas --strict does not stop the run) */
	if (!counted)
		cx.events--; /* it was counted as an event when it was read */
	return 1;
}

static void on_event(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct cepopt *o = arg;
	if (o->state_path && resume_skip(c, &o->rs, ev))
		return;
	int64_t t;
	char why[300];
	if (event_time(ev->doc, &c->fm, &t, why, sizeof why) < 0) {
		ev_reject(c, ev, "%s", why);
		return;
	}
	if (o->nsdefs && saga_check(&o->saga, ev->doc, why, sizeof why) < 0) {
		ev_reject(c, ev, "%s", why);
		return;
	}
	o->cur = ev;
	uint64_t h = o->eng.hseq;
	int note = o->nsdefs && o->eng.o.lateness > 0; /* it may be held as hseq h */
	if (note)
		held_note(o, h, ev);
	int r = cep_event(&o->eng, ev->line, ev->len, ev->doc, t);
	if (note && o->eng.hseq == h) /* late: not held */
		held_take(o, h);
	o->cur = NULL;
	if (r < 0)
		ev_reject(c, ev, "%s", o->eng.why);
}

/* Several operands: lib/merge has read the time, kept each input's own
 * lateness and sent its late events to the sink; what comes here is in
 * event-time order. */
static void on_merged(struct evctx *c, struct ev_event *ev, int src, int64_t t, void *arg)
{
	(void)src;
	struct cepopt *o = arg;
	char why[300];
	if (o->nsdefs && saga_check(&o->saga, ev->doc, why, sizeof why) < 0) {
		ev_reject(c, ev, "%s", why);
		return;
	}
	o->cur = ev;
	int r = cep_event(&o->eng, ev->line, ev->len, ev->doc, t);
	o->cur = NULL;
	if (r < 0)
		ev_reject(c, ev, "%s", o->eng.why);
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

/* ---- --state with several operands ---------------------------------------- */

/*
 * The end of a --state run is not the end of the inputs: an input that
 * has reached its current end may still grow with events earlier than
 * the others' next ones.  So, unless --flush, an event is handed to the
 * patterns only when no input that has ended in this run could still
 * deliver one before it (in merge order: earlier time, or the same time
 * from an earlier operand); the first event that fails this stops the
 * run, and it and every line the merge read ahead are read again by the
 * next run, from each input's saved position.  Lateness 0 only: with a
 * lateness the merge holds events of its own, which the state would have
 * to carry.
 */
static void on_merged_state(struct evctx *c, struct ev_event *ev, int src, int64_t t, void *arg)
{
	struct cepopt *o = arg;
	struct inpos *me = &o->in[src];
	if (ev->in->unterminated && ev->in->is_reg) {
		/* maybe still being written: this input ends before it */
		c->events--;
		c->handed = NULL;
		me->ended = 1;
		me->end_off = ev->in->offset;
		return;
	}
	for (int j = 0; j < o->nin && !o->flush; j++) {
		const struct inpos *p = &o->in[j];
		if (j == src || !(p->ended || o->m.src[j].done))
			continue;
		if (!p->have_max || t > p->max || (t == p->max && j < src)) {
			c->events--;
			c->handed = NULL;
			c->stop = 1;
			o->stop_src = src;
			o->stop_off = ev->in->offset;
			return;
		}
	}
	if (!me->have_max || t > me->max) {
		me->max = t;
		me->have_max = 1;
	}
	on_merged(c, ev, src, t, arg);
}

static void run_merged_state(struct cepopt *o)
{
	struct merge *m = &o->m;
	if (merge_open(m, &cx, o->nin, o->inames) > 0) {
		merge_close(m);
		return;
	}
	for (int i = 0; i < o->nin; i++) {
		struct merge_src *s = &m->src[i];
		struct inpos *p = &o->in[i];
		char why[300];
		if (!s->in.is_reg)
			ev_die(EV_USAGE, "--state with several operands reads regular files: %s is not one", s->in.label);
		switch (ckpt_check(&p->ck, s->in.fd, why, sizeof why)) {
		case CK_FRESH:
			break;
		case CK_SEEK:
			if (input_seek(&s->in, p->ck.offset) < 0)
				ev_die_errno(EV_IO, "%s: seek", s->in.label);
			break;
		default:
			ev_warn("--state %s: %s: %s; not mixing it with the saved state (remove the state to start over)",
			        o->state_path, s->in.label, why);
			exit(EV_IO);
		}
		/* each input's own lateness goes on from its latest time */
		s->max = p->max;
		s->have_max = p->have_max;
	}
	o->stop_src = -1;
	m->lateness = 0;
	m->late = &o->late;
	m->event = on_merged_state;
	m->advance = NULL;
	m->arg = o;
	merge_run(m);
	/* where each input goes on: at the line that stopped the run, at
	 * a line read ahead and not handed on, or at its end */
	for (int i = 0; i < o->nin; i++) {
		struct merge_src *s = &m->src[i];
		struct inpos *p = &o->in[i];
		uint64_t off = i == o->stop_src ? o->stop_off
		               : s->live      ? s->in.offset
		               : p->ended     ? p->end_off
		                              : s->in.consumed;
		ckpt_mark_file(&p->ck, s->in.fd, off);
	}
	merge_close(m);
}

/* ---- --state ------------------------------------------------------------- */

static int u64_member(const struct jdoc *d, uint32_t obj, const char *k, uint64_t *v)
{
	uint32_t t = json_get(d, obj, k, strlen(k));
	if (t == JNONE || d->tok[t].type != J_STR || d->tok[t].len < 3)
		return -1;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(d->text + d->tok[t].start + 1, &end, 10);
	if (errno || *end != '"')
		return -1;
	*v = x;
	return 0;
}

/* The inputs a state lists must be this run's operands, in order. */
static void state_inputs(struct cepopt *o, const struct jdoc *d)
{
	uint32_t ins = json_get(d, 0, "inputs", 6);
	size_t n = ins == JNONE ? 1 : d->tok[ins].type == J_ARR ? json_count(d, ins) : 0;
	if (ins != JNONE && d->tok[ins].type != J_ARR)
		ev_die(EV_USAGE, "--state %s: damaged: inputs", o->state_path);
	if ((ins != JNONE) != (o->nin > 0) || (o->nin && n != (size_t)o->nin))
		ev_die(EV_USAGE, "--state %s: saved by a run with %zu input%s, this run has %d", o->state_path, n,
		       n == 1 ? "" : "s", o->nin ? o->nin : 1);
	if (ins == JNONE)
		return;
	o->have_inputs = 1;
	int i = 0;
	struct buf sc = {0};
	for (uint32_t e = ins + 1; e < d->tok[ins].next; e = d->tok[e].next, i++) {
		uint32_t nm = d->tok[e].type == J_OBJ ? json_get(d, e, "name", 4) : JNONE;
		uint32_t mx = d->tok[e].type == J_OBJ ? json_get(d, e, "max", 3) : JNONE;
		struct inpos *p = &o->in[i];
		const char *s;
		size_t sn;
		double dv;
		if (nm == JNONE || d->tok[nm].type != J_STR || mx == JNONE || u64_member(d, e, "offset", &p->ck.offset) < 0 ||
		    u64_member(d, e, "dev", &p->ck.dev) < 0 || u64_member(d, e, "ino", &p->ck.ino) < 0 ||
		    u64_member(d, e, "cksum", &p->ck.cksum) < 0 ||
		    (d->tok[mx].type != J_NULL && (d->tok[mx].type != J_NUM || !json_tok_num(d, mx, &p->max, &dv))))
			ev_die(EV_USAGE, "--state %s: damaged: inputs", o->state_path);
		p->ck.has_file = 1;
		p->have_max = d->tok[mx].type != J_NULL;
		json_str(d, nm, &sc, &s, &sn);
		if (sn != strlen(o->inames[i]) || memcmp(s, o->inames[i], sn) != 0)
			ev_die(EV_USAGE, "--state %s: input %d is %s in this run, %.*s in the state", o->state_path, i + 1,
			       o->inames[i], (int)sn, s);
	}
	buf_free(&sc);
}

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
			state_inputs(o, &d);
		} else if (saga_is_line(&d)) {
			if (saga_load_line(&o->saga, &d, err, sizeof err) < 0)
				ev_die(EV_USAGE, "--state %s: damaged: %s", o->state_path, err);
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
	if (o->nin) {
		buf_adds(&b, ",\"inputs\":[");
		for (int i = 0; i < o->nin; i++) {
			struct inpos *p = &o->in[i];
			buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
			jw_cstring(&b, o->inames[i]);
			buf_printf(&b, ",\"dev\":\"%" PRIu64 "\",\"ino\":\"%" PRIu64 "\",\"offset\":\"%" PRIu64
			           "\",\"cksum\":\"%" PRIu64 "\",\"max\":", p->ck.dev, p->ck.ino, p->ck.offset, p->ck.cksum);
			if (p->have_max)
				jw_int(&b, p->max);
			else
				buf_adds(&b, "null");
			buf_addc(&b, '}');
		}
		buf_addc(&b, ']');
	}
	buf_addc(&b, '}');
	wfile_line(a->w, b.p, b.len);
	cep_save(&o->eng, &b, state_line, a->w);
	if (o->nsdefs)
		saga_save(&o->saga, &b, state_line, a->w);
	buf_free(&b);
	ckpt_commit(a);
}

int main(int argc, char **argv)
{
	static struct cepopt O;
	static const struct ev_tool tool = {
		"evcep",
		"[-e] [-p pattern ...] [-f file ...] [--ids] [--skip mode] [--eof mode] [--partials] "
		"[--max-partials N] [--lateness dur] [--late file] [--state file [--flush]] "
		"[--saga file ...] [--stats] [file ...]",
		help_text, "p:f:e", longopts, option
	};
	int ind = ev_parse_args(&cx, &tool, &O, argc, argv);
	if (O.flush && !O.state_path) {
		ev_warn("--flush needs --state");
		ev_usage(&tool);
	}
	int merged = argc - ind > 1;
	if (merged && O.state_path) {
		if (O.lateness) {
			ev_warn("--state with several operands needs --lateness 0: the events the time merge "
			        "holds back are not kept in the state (merge the inputs first, e.g. evquery --interleave)");
			ev_usage(&tool);
		}
		O.nin = argc - ind;
		O.inames = argv + ind;
		O.in = xcalloc((size_t)O.nin, sizeof *O.in);
	}
	compile(&O, &tool);
	if (O.stats && !O.nsdefs) {
		ev_warn("--stats needs --saga");
		ev_usage(&tool);
	}
	ev_watch_path(&cx, &cx.fm.f[F_TYPE], "--type-field");
	if (O.late_path && late_open(&O.late, O.late_path) < 0)
		ev_die_errno(EV_USAGE, "--late %s", O.late_path);
	if (!O.late_path)
		late_open(&O.late, NULL);
	/* several operands: the merge orders events and applies the lateness */
	struct cep_opts co = { O.skip, O.eof_flush, O.partials, O.ids, (uint64_t)O.max_partials,
	                       merged ? 0 : O.lateness, &cx.fm, emit, NULL, &O.late, NULL, NULL, NULL, 0 };
	co.saved = O.state_path != NULL;
	if (O.nsdefs) {
		co.hook_event = saga_hook_event;
		co.hook_time = saga_hook_time;
		co.hook_arg = &O;
	}
	cep_init(&O.eng, O.pat, O.npat, &co);
	struct saga_opts so = { O.partials, (uint64_t)O.max_partials, &cx.fm, emit, saga_unfit, &O };
	saga_init(&O.saga, O.sdefs, O.nsdefs, &so);
	if (O.state_path) {
		/* fail before any output if the state cannot be saved */
		struct atomic_file *probe = atomic_open(O.state_path);
		if (!probe)
			ev_die_errno(EV_USAGE, "--state %s: cannot write", O.state_path);
		atomic_abort(probe);
		O.fingerprint = fingerprint(&O);
		state_load(&O);
		if (merged) {
			run_merged_state(&O);
		} else {
			ev_progress_begin(&cx, argc - ind, argv + ind);
			resume_run(&cx, &O.rs, argc - ind, argv + ind, on_event, &O);
			ev_progress_end(&cx);
		}
	} else if (merged) {
		run_merged(&O, argc - ind, argv + ind);
	} else {
		ev_run(&cx, argc - ind, argv + ind, on_event, &O);
	}
	/* with --state, what waits stays in the state for a later run */
	cep_end(&O.eng, O.state_path && !O.flush);
	saga_end(&O.saga, O.stats);
	wfile_flush(ev_out);
	if (O.state_path && cx.status < EV_IO)
		state_save(&O);
	if (O.eng.overflow) {
		ev_warn("%" PRIu64 " partial match%s dropped by --max-partials %" PRId64, O.eng.overflow,
		        O.eng.overflow == 1 ? "" : "es", O.max_partials);
		ev_raise(&cx, EV_REJECT);
	}
	if (O.saga.overflow) {
		ev_warn("%" PRIu64 " running saga%s dropped by --max-partials %" PRId64, O.saga.overflow,
		        O.saga.overflow == 1 ? "" : "s", O.max_partials);
		ev_raise(&cx, EV_REJECT);
	}
	ev_raise(&cx, late_finish(&O.late, "matched nothing"));
	if (O.exit_status && O.eng.matches == 0 && O.saga.records == 0)
		ev_raise(&cx, EV_NOMATCH);
	int rc = ev_finish(&cx); /* (it reads the watched paths of the patterns) */
	cep_free(&O.eng);
	saga_free(&O.saga);
	saga_defs_free(O.sdefs, O.nsdefs);
	free(O.saga_files);
	free(O.held_pos);
	free(O.label);
	for (size_t i = 0; i < O.npat; i++)
		cep_pattern_free(O.pat[i]);
	free(O.pat);
	free(O.src);
	free(O.fingerprint);
	free(O.in);
	return rc;
}
