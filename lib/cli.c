/*
 * cli.c — common options, the file loop, rejections and the exit status
 * (see cli.h).
 *
 * The loop is the one place that turns bytes into events, so every tool
 * rejects the same lines with the same words, and the invariant "lines in
 * = events handed on + lines rejected" holds for all of them.
 */
#include "cli.h"
#include "ev.h"
#include "jwrite.h"
#include "timeutil.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	OPT_ERRORS = OPT_COMMON_BASE, OPT_STRICT, OPT_ID, OPT_KEY, OPT_TYPE, OPT_TIME,
	OPT_PAYLOAD, OPT_VERSIONF, OPT_UNIT, OPT_TZ, OPT_NOW, OPT_ARG, OPT_ARGJSON,
	OPT_PROGRESS
};

static const struct option common_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "errors", required_argument, NULL, OPT_ERRORS },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "id-field", required_argument, NULL, OPT_ID },
	{ "key-field", required_argument, NULL, OPT_KEY },
	{ "type-field", required_argument, NULL, OPT_TYPE },
	{ "time-field", required_argument, NULL, OPT_TIME },
	{ "payload-field", required_argument, NULL, OPT_PAYLOAD },
	{ "version-field", required_argument, NULL, OPT_VERSIONF },
	{ "time-unit", required_argument, NULL, OPT_UNIT },
	{ "tz", required_argument, NULL, OPT_TZ },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "arg", required_argument, NULL, OPT_ARG },
	{ "argjson", required_argument, NULL, OPT_ARGJSON },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
};
#define NCOMMON (sizeof common_opts / sizeof common_opts[0])

static const char common_help[] =
	"Common options:\n"
	"  -h, --help               show this help and exit\n"
	"  -V, --version            show the version and exit\n"
	"      --errors FILE        append each rejected line to FILE as a JSON record\n"
	"      --strict             stop at the first rejected line (exit 3)\n"
	"      --id-field PATH      event id field (event_id; env EV_ID_FIELD)\n"
	"      --key-field PATH     aggregate key field (aggregate_id; env EV_KEY_FIELD)\n"
	"      --type-field PATH    event type field (event_type; env EV_TYPE_FIELD)\n"
	"      --time-field PATH    event time field (timestamp; env EV_TIME_FIELD)\n"
	"      --payload-field PATH payload field (payload; env EV_PAYLOAD_FIELD)\n"
	"      --version-field PATH version field (version; env EV_VERSION_FIELD)\n"
	"      --time-unit UNIT     epoch times are auto|s|ms|us|ns (default auto)\n"
	"      --tz ZONE            time zone for calendar buckets (default UTC)\n"
	"      --now TIME           the current time, for reproducible runs (env EV_NOW)\n"
	"      --arg NAME VALUE     $NAME in expressions is the string VALUE\n"
	"      --argjson NAME JSON  $NAME in expressions is the JSON value\n"
	"      --progress           show bytes, events/s and ETA on stderr\n";

_Noreturn void ev_usage(const struct ev_tool *t)
{
	fprintf(stderr, "usage: %s %s\n", t->name, t->synopsis);
	fprintf(stderr, "Try '%s --help' for more information.\n", t->name);
	exit(EV_USAGE);
}

static _Noreturn void help(const struct ev_tool *t)
{
	printf("usage: %s %s\n\n%s\n%s\nExit status: 0 success, 1 nothing matched (-e), 2 usage error,\n"
	       "3 lines rejected, 4 conflict, 5 I/O failure.  See %s(1).\n",
	       t->name, t->synopsis, t->help, common_help, t->name);
	if (fflush(stdout) != 0 || ferror(stdout))
		ev_die_errno(EV_IO, "write error on standard output");
	exit(EV_OK);
}

static int set_now(struct evctx *cx, const char *s, const char *what)
{
	int64_t real = time_now(), v;
	if (time_parse_option(s, real, &v) < 0) {
		ev_warn("%s: bad time '%s'", what, s);
		return -1;
	}
	cx->now = v;
	time_set_now(v);
	return 0;
}

static void init(struct evctx *cx)
{
	memset(cx, 0, sizeof *cx);
	signal(SIGPIPE, SIG_DFL);
	setlocale(LC_CTYPE, "C.UTF-8");
	fieldmap_init(&cx->fm);
	cx->now = time_now();
}

static int common_option(struct evctx *cx, int c, int argc, char **argv)
{
	static const enum ev_field fmap[] = { F_ID, F_KEY, F_TYPE, F_TIME, F_PAYLOAD, F_VERSION };
	char err[256];
	switch (c) {
	case OPT_ERRORS: cx->errors_path = optarg; return 0;
	case OPT_STRICT: cx->strict = 1; return 0;
	case OPT_ID: case OPT_KEY: case OPT_TYPE: case OPT_TIME: case OPT_PAYLOAD: case OPT_VERSIONF:
		return fieldmap_set(&cx->fm, fmap[c - OPT_ID], optarg);
	case OPT_UNIT: {
		int u = time_unit_parse(optarg);
		if (u < 0) {
			ev_warn("--time-unit: expected auto, s, ms, us or ns, not '%s'", optarg);
			return -1;
		}
		cx->fm.unit = (enum time_unit)u;
		return 0;
	}
	case OPT_TZ:
		if (time_set_tz(optarg) < 0) {
			ev_warn("--tz: unknown time zone '%s'", optarg);
			return -1;
		}
		return 0;
	case OPT_NOW: return set_now(cx, optarg, "--now");
	case OPT_ARG: case OPT_ARGJSON: {
		const char *name = optarg;
		if (optind >= argc) {
			ev_warn("--%s: needs NAME and VALUE", c == OPT_ARG ? "arg" : "argjson");
			return -1;
		}
		const char *val = argv[optind++];
		if (c == OPT_ARG) {
			expr_args_add_string(&cx->args, name, val);
		} else if (expr_args_add_json(&cx->args, name, val, err, sizeof err) < 0) {
			ev_warn("--argjson %s: %s", name, err);
			return -1;
		}
		return 0;
	}
	case OPT_PROGRESS: cx->progress = 1; return 0;
	}
	return -1;
}

int ev_parse_args(struct evctx *cx, const struct ev_tool *t, void *tool, int argc, char **argv)
{
	ev_setprogname(t->name);
	init(cx);
	const char *env_now = getenv("EV_NOW");
	if (env_now && *env_now && set_now(cx, env_now, "EV_NOW") < 0)
		exit(EV_USAGE);

	size_t ntool = 0;
	while (t->longopts && t->longopts[ntool].name)
		ntool++;
	/* static: still reachable when a usage error exits from the loop */
	static struct option *all;
	static char *shorts;
	all = xcalloc(NCOMMON + ntool + 1, sizeof *all);
	memcpy(all, common_opts, sizeof common_opts);
	if (ntool)
		memcpy(all + NCOMMON, t->longopts, ntool * sizeof *all);
	size_t slen = strlen(t->shortopts);
	shorts = xmalloc(slen + 4);
	memcpy(shorts, "hV", 2);
	memcpy(shorts + 2, t->shortopts, slen + 1);

	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
		int rc;
		switch (c) {
		case 'h':
			help(t);
		case 'V':
			printf("%s (evtools) %s\n", t->name, EV_VERSION);
			exit(fflush(stdout) == 0 ? EV_OK : EV_IO);
		case '?':
			if (optopt && optopt < 256 && strchr(shorts, optopt))
				ev_warn("option -%c needs an argument", optopt);
			else if (optopt && optopt < 256)
				ev_warn("unknown option -%c", optopt);
			else
				ev_warn("unknown option or missing argument: %s", argv[optind - 1]);
			ev_usage(t);
		case ':':
			ev_usage(t);
		default:
			if (c >= OPT_COMMON_BASE && c < OPT_TOOL_BASE)
				rc = common_option(cx, c, argc, argv);
			else
				rc = t->option(c, optarg, tool);
			if (rc < 0)
				ev_usage(t);
		}
	}
	free(all);
	free(shorts);
	if (cx->errors_path) {
		cx->errors = wfile_append(cx->errors_path);
		if (!cx->errors)
			ev_die_errno(EV_USAGE, "--errors %s", cx->errors_path);
	}
	return optind;
}

int ev_int_arg(const char *name, const char *s, int64_t lo, int64_t hi, int64_t *v)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (!errno && *s && !*end && x >= lo && x <= hi) {
		*v = x;
		return 0;
	}
	if (!name)
		return -1;
	if (hi == INT64_MAX)
		ev_warn("%s: expected a whole number of at least %lld, not '%s'", name, (long long)lo, s);
	else
		ev_warn("%s: expected a whole number from %lld to %lld, not '%s'", name, (long long)lo,
		        (long long)hi, s);
	return -1;
}

int ev_time_arg(const struct evctx *cx, const char *name, const char *s, int64_t *v)
{
	if (time_parse_option(s, cx->now, v) == 0)
		return 0;
	ev_warn("%s: bad time '%s'", name, s);
	return -1;
}

int ev_dur_arg(const char *name, const char *s, int64_t *v)
{
	if (dur_parse(s, strlen(s), v) == 0)
		return 0;
	ev_warn("%s: bad duration '%s'", name, s);
	return -1;
}

void ev_raise(struct evctx *cx, int status)
{
	if (status > cx->status)
		cx->status = status;
}

/* ---- rejections ----------------------------------------------------- */

static void where(const struct evctx *cx, const struct ev_event *ev, struct buf *b)
{
	if (cx->by_offset)
		buf_printf(b, "%s:byte %llu", ev->in->label, (unsigned long long)ev->in->offset);
	else
		buf_printf(b, "%s:%llu", ev->in->label, (unsigned long long)ev->in->lineno);
}

static void errors_record(struct evctx *cx, const struct ev_event *ev, const char *reason)
{
	struct buf b = {0};
	buf_adds(&b, "{\"file\":");
	jw_cstring(&b, ev->in->label);
	if (cx->by_offset) {
		buf_adds(&b, ",\"offset\":");
		jw_uint(&b, ev->in->offset);
	} else {
		buf_adds(&b, ",\"line\":");
		jw_uint(&b, ev->in->lineno);
	}
	buf_adds(&b, ",\"error\":");
	jw_cstring(&b, reason);
	if (utf8_valid(ev->line, ev->len)) {
		buf_adds(&b, ",\"raw\":");
		jw_string(&b, ev->line, ev->len);
	} else {
		buf_adds(&b, ",\"raw_base64\":\"");
		jw_base64(&b, ev->line, ev->len);
		buf_addc(&b, '"');
	}
	buf_adds(&b, "}\n");
	wfile_write(cx->errors, b.p, b.len);
	buf_free(&b);
}

static void vline_msg(struct evctx *cx, const struct ev_event *ev, const char *prefix,
                      const char *fmt, va_list ap, struct buf *reason)
{
	buf_reset(reason);
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n > 0) {
		buf_reserve(reason, (size_t)n);
		vsnprintf(reason->p, (size_t)n + 1, fmt, ap);
		reason->len = (size_t)n;
	}
	struct buf w = {0};
	where(cx, ev, &w);
	wfile_flush(ev_out); /* keep stdout and stderr in a sensible order */
	fprintf(stderr, "%s: %s: %s%s\n", ev_progname, w.p, prefix, reason->p ? reason->p : "");
	buf_free(&w);
}

void ev_reject(struct evctx *cx, const struct ev_event *ev, const char *fmt, ...)
{
	struct buf reason = {0};
	va_list ap;
	va_start(ap, fmt);
	vline_msg(cx, ev, "", fmt, ap, &reason);
	va_end(ap);
	cx->rejected++;
	if (ev == cx->handed) {
		cx->events--; /* it was handed on as valid */
		cx->handed = NULL;
	}
	ev_raise(cx, EV_REJECT);
	if (cx->errors)
		errors_record(cx, ev, reason.p ? reason.p : "");
	buf_free(&reason);
	if (cx->strict) {
		ev_finish(cx);
		exit(EV_REJECT > cx->status ? EV_REJECT : cx->status);
	}
}

void ev_line_warn(struct evctx *cx, const struct ev_event *ev, const char *fmt, ...)
{
	struct buf reason = {0};
	va_list ap;
	va_start(ap, fmt);
	vline_msg(cx, ev, "warning: ", fmt, ap, &reason);
	va_end(ap);
	buf_free(&reason);
}

/* ---- progress ------------------------------------------------------- */

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(struct evctx *cx, uint64_t bytes, int final)
{
	double t = mono();
	if (!final && t - cx->last_tick < 0.5)
		return;
	cx->last_tick = t;
	double el = t - cx->t0;
	uint64_t lines = cx->events + cx->rejected;
	double rate = el > 0 ? (double)lines / el : 0;
	fprintf(stderr, "\r%s: %.1f MB, %llu events, %.0f events/s", ev_progname, (double)bytes / 1e6,
	        (unsigned long long)lines, rate);
	if (cx->total_bytes && bytes && el > 0 && !final) {
		double eta = el * ((double)cx->total_bytes / (double)bytes - 1);
		fprintf(stderr, ", ETA %d:%02d", (int)eta / 60, (int)eta % 60);
	} else {
		fputs("          ", stderr);
	}
	if (final)
		fputc('\n', stderr);
}

/* ---- the loop ------------------------------------------------------- */

void ev_hand(struct evctx *cx, struct ev_event *ev, ev_event_fn fn, void *arg)
{
	cx->events++;
	cx->handed = ev;
	fn(cx, ev, arg);
	cx->handed = NULL;
}

void ev_run_input(struct evctx *cx, struct input *in, ev_event_fn fn, void *arg)
{
	const char *line;
	size_t len;
	int rc = 0;
	struct ev_event ev = { NULL, 0, &cx->doc, in };
	struct jerr err;
	unsigned tick = 0;
	while (!cx->stop && (rc = input_next(in, &line, &len)) > 0) {
		ev.line = line;
		ev.len = len;
		if (json_parse(&cx->doc, line, len, 0, &err) < 0) {
			ev_reject(cx, &ev, "%s", err.msg);
		} else {
			ev_hand(cx, &ev, fn, arg);
		}
		if (cx->progress && (++tick & 1023) == 0)
			progress(cx, cx->done_bytes + in->consumed, 0);
	}
	if (!cx->stop && rc < 0) {
		ev_warn_errno("%s: read error", in->label);
		ev_raise(cx, EV_IO);
	}
	cx->done_bytes += in->consumed;
}

void ev_run(struct evctx *cx, int nfiles, char **files, ev_event_fn fn, void *arg)
{
	static char *stdin_only[] = { "-" };
	if (nfiles == 0) {
		files = stdin_only;
		nfiles = 1;
	}
	if (cx->progress) {
		cx->t0 = mono();
		for (int i = 0; i < nfiles; i++) {
			struct input probe;
			if (strcmp(files[i], "-") != 0 && input_open(&probe, files[i]) == 0) {
				if (probe.is_reg)
					cx->total_bytes += (uint64_t)probe.size;
				input_close(&probe);
			}
		}
	}
	for (int i = 0; i < nfiles && !cx->stop; i++) {
		struct input in;
		if (input_open(&in, files[i]) < 0) {
			ev_warn_errno("%s", files[i]);
			ev_raise(cx, EV_USAGE);
			continue;
		}
		ev_run_input(cx, &in, fn, arg);
		input_close(&in);
	}
	if (cx->progress)
		progress(cx, cx->done_bytes, 1);
}

void ev_watch_path(struct evctx *cx, const struct path *p, const char *opt)
{
	cx->watch = xgrow(cx->watch, &cx->capwatch, cx->nwatch + 1, sizeof *cx->watch);
	cx->watch[cx->nwatch++] = (struct ev_watch){ p, opt };
}

/* One warning per (path text, option) that was looked up and never
 * found; copies of one path (an expression naming it twice) count as
 * found when any of them was. */
static void warn_paths(struct evctx *cx)
{
	for (size_t i = 0; cx->events > 0 && i < cx->nwatch; i++) {
		const struct ev_watch *w = &cx->watch[i];
		unsigned seen = 0;
		size_t first = i;
		for (size_t j = 0; j < cx->nwatch; j++) {
			const struct ev_watch *v = &cx->watch[j];
			if (strcmp(v->p->text, w->p->text) == 0 && strcmp(v->opt, w->opt) == 0) {
				seen |= v->p->seen;
				if (j < first)
					first = j;
			}
		}
		if (first == i && seen == PATH_LOOKED)
			ev_warn("warning: path '%s' (%s) matched no event", w->p->text, w->opt);
	}
	free(cx->watch);
	cx->watch = NULL;
	cx->nwatch = cx->capwatch = 0;
}

int ev_finish(struct evctx *cx)
{
	wfile_close(ev_out, 0);
	warn_paths(cx);
	if (cx->errors) {
		wfile_close(cx->errors, 0);
		cx->errors = NULL;
	}
	json_doc_free(&cx->doc);
	return cx->status;
}

struct watch_arg { struct evctx *cx; const char *what; };

static void watch_expr_path(const struct path *p, void *arg)
{
	struct watch_arg *wa = arg;
	ev_watch_path(wa->cx, p, wa->what);
}

struct expr *ev_compile_expr(struct evctx *cx, const char *what, const char *src,
                             const char *const *aliases, size_t naliases)
{
	struct expr_env env = { &cx->fm, &cx->args, cx->now, aliases, naliases, what };
	struct expr_error err;
	struct expr *e = expr_compile(src, &env, &err);
	if (!e) {
		expr_print_error(what, src, &err);
		exit(EV_USAGE);
	}
	struct watch_arg wa = { cx, what };
	expr_watch_paths(e, watch_expr_path, &wa);
	return e;
}

struct expr_warn_arg { struct evctx *cx; const struct ev_event *ev; };

static void expr_line_warn(void *arg, const char *msg)
{
	struct expr_warn_arg *w = arg;
	ev_line_warn(w->cx, w->ev, "%s", msg);
}

int ev_expr_test(struct evctx *cx, const struct ev_event *ev, struct expr *e, const struct expr_input *in)
{
	struct expr_warn_arg wa = { cx, ev };
	struct expr_input x = *in;
	x.warn = expr_line_warn;
	x.warn_arg = &wa;
	int r = expr_test(e, &x);
	if (r < 0)
		ev_reject(cx, ev, "%s", expr_error_reason(e));
	return r;
}
