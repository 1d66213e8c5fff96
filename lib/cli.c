/*
 * cli.c — common options, the file loop, rejections and the exit status
 * (see cli.h).
 *
 * The loop is the one place that turns bytes into events, so every tool
 * rejects the same lines with the same words, and the invariant "lines in
 * = events handed on + lines rejected" holds for all of them.
 */
#include "cli.h"
#include "atomic.h"
#include "envelope.h"
#include "ev.h"
#include "jwrite.h"
#include "source.h"
#include "timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	OPT_ERRORS = OPT_COMMON_BASE, OPT_STRICT, OPT_ID, OPT_KEY, OPT_TYPE, OPT_TIME,
	OPT_PAYLOAD, OPT_VERSIONF, OPT_UNIT, OPT_TZ, OPT_NOW, OPT_ARG, OPT_ARGJSON,
	OPT_PROGRESS, OPT_SLURPFILE, OPT_RAWFILE, OPT_LINESFILE
};
enum { OPT_CORRF = OPT_COMMON_BASE + 60, OPT_CAUSEF };

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
	{ "correlation-field", required_argument, NULL, OPT_CORRF },
	{ "causation-field", required_argument, NULL, OPT_CAUSEF },
	{ "time-unit", required_argument, NULL, OPT_UNIT },
	{ "tz", required_argument, NULL, OPT_TZ },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "arg", required_argument, NULL, OPT_ARG },
	{ "argjson", required_argument, NULL, OPT_ARGJSON },
	{ "slurpfile", required_argument, NULL, OPT_SLURPFILE },
	{ "rawfile", required_argument, NULL, OPT_RAWFILE },
	{ "linesfile", required_argument, NULL, OPT_LINESFILE },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
};
#define NCOMMON (sizeof common_opts / sizeof common_opts[0])

/* The letters of the tool's short options that take no argument, sorted
 * ("ceqv"), for the one-line usage. */
static void flag_letters(const struct ev_tool *t, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = t->shortopts; *p && n + 1 < cap; p++) {
		if (*p == ':' || p[1] == ':')
			continue;
		size_t k = n++;
		while (k > 0 && out[k - 1] > *p) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = *p;
	}
	out[n] = '\0';
}

_Noreturn void ev_usage(const struct ev_tool *t)
{
	char flags[64];
	flag_letters(t, flags, sizeof flags);
	fprintf(stderr, "usage: %s %s%s%s[option ...] [file ...]\n", t->name, *flags ? "[-" : "", flags,
	        *flags ? "] " : "");
	fprintf(stderr, "Try '%s --help' for more information.\n", t->name);
	exit(EV_USAGE);
}

/*
 * --help fits a screen (30 lines of 80 columns, tested): the usage, the
 * tool's own options, then the common options as a list of names made
 * from common_opts (details in evtools(7) and the man page) and the exit
 * statuses.  Text is wrapped at HELP_COLS, between bracketed groups (a
 * synopsis) or words, continuation lines indented.
 */
#define HELP_COLS 79

static void put_wrapped(struct buf *b, const char *s, size_t indent)
{
	size_t col = 0;
	while (*s == ' ') {
		buf_addc(b, ' ');
		col++, s++;
	}
	while (*s) {
		/* the next unit: up to a blank outside brackets */
		size_t n = 0;
		int depth = 0;
		while (s[n] && !(s[n] == ' ' && depth == 0)) {
			depth += s[n] == '[' ? 1 : s[n] == ']' ? -1 : 0;
			n++;
		}
		if (col > indent && col + 1 + n > HELP_COLS) {
			buf_addc(b, '\n');
			for (col = 0; col < indent; col++)
				buf_addc(b, ' ');
		} else if (col > 0) {
			buf_addc(b, ' ');
			col++;
		}
		buf_add(b, s, n);
		col += n;
		s += n;
		while (*s == ' ')
			s++;
	}
	buf_addc(b, '\n');
}

static _Noreturn void help(const struct ev_tool *t)
{
	struct buf b = {0}, l = {0};
	/* a synopsis may hold several forms, one a line ("\n  tool ...") */
	for (const char *syn = t->synopsis, *nl; syn; syn = nl ? nl + 1 : NULL) {
		nl = strchr(syn, '\n');
		size_t n = nl ? (size_t)(nl - syn) : strlen(syn);
		buf_reset(&l);
		if (syn == t->synopsis) {
			buf_printf(&l, "usage: %s %.*s", t->name, (int)n, syn);
		} else {
			while (n && *syn == ' ')
				syn++, n--;
			buf_printf(&l, "       %.*s", (int)n, syn);
		}
		put_wrapped(&b, l.p, 8 + strlen(t->name));
	}
	buf_printf(&b, "\n%s\n", t->help);
	buf_reset(&l);
	buf_adds(&l, "Common:");
	int fields = 0;
	for (size_t i = 2; i < NCOMMON; i++) {
		const char *name = common_opts[i].name;
		size_t n = strlen(name);
		if (n > 6 && strcmp(name + n - 6, "-field") == 0) {
			if (fields++)
				continue;
			name = "*-field";
		}
		buf_printf(&l, " --%s", name);
	}
	buf_printf(&l, " -h -V: evtools(7), %s(1).", t->name);
	put_wrapped(&b, l.p, 2);
	/* exit 1 belongs only to tools with -e (and evquery's -q) */
	int e = strchr(t->shortopts, 'e') != NULL, q = e && strchr(t->shortopts, 'q') != NULL;
	buf_reset(&l);
	buf_printf(&l, "Exit: 0 ok, %s2 usage, 3 lines rejected, 4 conflict, 5 I/O.",
	           !e ? "" : q ? "1 no match (-e -q), " : "1 no match (-e), ");
	put_wrapped(&b, l.p, 2);
	fwrite(b.p, 1, b.len, stdout);
	buf_free(&b);
	buf_free(&l);
	if (fflush(stdout) != 0 || ferror(stdout))
		ev_die_errno(EV_IO, "write error on standard output");
	exit(EV_OK);
}

/* --list-options (hidden; for completion scripts and tests): every long
 * option, "--name" or "--name=" when it takes an argument, then the short
 * letters as "-x" or "-x=". */
static _Noreturn void list_options(const struct option *all, const char *shorts)
{
	for (const struct option *o = all; o->name; o++)
		printf("--%s%s\n", o->name, o->has_arg == no_argument ? "" : "=");
	for (const char *p = shorts; *p; p++)
		if (*p != ':')
			printf("-%c%s\n", *p, p[1] == ':' ? "=" : "");
	exit(fflush(stdout) == 0 ? EV_OK : EV_IO);
}

static const char time_forms[] =
	"expected 2026-11-27, 2026-11-27T15:45:16Z (offsets +01:00 or +0100), @EPOCH, "
	"an epoch number, now, today, yesterday, -15m or +1h (from now), or 15m (ago)";

static int set_now(struct evctx *cx, const char *s, const char *what)
{
	int64_t real = time_now(), v;
	if (time_parse_option(s, real, &v) < 0) {
		ev_warn("%s: bad time '%s'; %s", what, s, time_forms);
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
	/* a file-size limit (ulimit -f) is a write error like ENOSPC: the
	 * write fails with EFBIG, so an append is cut back and temporary
	 * files are removed, instead of a kill that leaves both behind */
	signal(SIGXFSZ, SIG_IGN);
	setlocale(LC_CTYPE, "C.UTF-8");
	fieldmap_defaults(&cx->fm);
	cx->now = time_now();
}

/* Field mappings given as options (bits of enum ev_field), and the
 * option texts the missing-path warning names. */
static unsigned fm_by_option;
static const char *const fm_opt_name[F_NMAP] = {
	"--id-field", "--key-field", "--type-field", "--time-field", "--payload-field", "--version-field",
	"--correlation-field", "--causation-field",
};
static const char *now_arg;

static int common_option(struct evctx *cx, int c, int argc, char **argv)
{
	static const enum ev_field fmap[] = { F_ID, F_KEY, F_TYPE, F_TIME, F_PAYLOAD, F_VERSION };
	char err[256];
	switch (c) {
	case OPT_ERRORS: cx->errors_path = optarg; return 0;
	case OPT_STRICT: cx->strict = 1; return 0;
	case OPT_ID: case OPT_KEY: case OPT_TYPE: case OPT_TIME: case OPT_PAYLOAD: case OPT_VERSIONF:
		fm_by_option |= 1u << fmap[c - OPT_ID];
		return fieldmap_set(&cx->fm, fmap[c - OPT_ID], optarg);
	case OPT_CORRF: case OPT_CAUSEF: {
		enum ev_field f = c == OPT_CORRF ? F_CORR : F_CAUSE;
		fm_by_option |= 1u << f;
		return fieldmap_set(&cx->fm, f, optarg);
	}
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
	case OPT_NOW: now_arg = optarg; return 0; /* read after --tz */
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
	case OPT_SLURPFILE: case OPT_RAWFILE: case OPT_LINESFILE: {
		static const char *const opt[] = { "slurpfile", "rawfile", "linesfile" };
		const char *o = opt[c - OPT_SLURPFILE], *name = optarg;
		if (optind >= argc) {
			ev_warn("--%s: needs NAME and FILE", o);
			return -1;
		}
		const char *file = argv[optind++];
		int rc = c == OPT_SLURPFILE ? expr_args_add_slurpfile(&cx->args, name, file, err, sizeof err)
		       : c == OPT_RAWFILE   ? expr_args_add_rawfile(&cx->args, name, file, err, sizeof err)
		                            : expr_args_add_linesfile(&cx->args, name, file, err, sizeof err);
		if (rc < 0) {
			ev_warn("--%s %s: %s", o, name, err);
			return -1;
		}
		return 0;
	}
	case OPT_PROGRESS: cx->progress = 1; return 0;
	}
	return -1;
}

/* The name of a long option as written in arg ("--sort=x" -> "sort"). */
static size_t long_name(const char *arg, const char **name)
{
	*name = arg + 2;
	return strcspn(arg + 2, "=");
}

static const struct option *find_long(const struct option *all, const char *name, size_t n)
{
	for (const struct option *o = all; o->name; o++)
		if (strlen(o->name) == n && memcmp(o->name, name, n) == 0)
			return o;
	return NULL;
}

/* "unknown option '--sort' (did you mean --sorted?)": long options are
 * matched exactly, never abbreviated. */
static void unknown_long(const struct option *all, const char *arg)
{
	const char *name;
	size_t n = long_name(arg, &name), k = 0;
	struct buf b = {0};
	for (const struct option *o = all; o->name; o++)
		if (n > 0 && strncmp(o->name, name, n) == 0 && k++ < 4)
			buf_printf(&b, "%s--%s", k > 1 ? ", " : "", o->name);
	if (k)
		ev_warn("unknown option '%.*s' (did you mean %s?)", (int)(n + 2), arg, b.p);
	else
		ev_warn("unknown option '%.*s'", (int)(n + 2), arg);
	buf_free(&b);
}

/* getopt_long returned long option o: the argv element it came from.
 * getopt permutes operands only when it next scans, so the element is
 * just before optind, or two before when the argument was the next
 * element. */
static const char *long_elem(const struct option *o, char **argv)
{
	const char *a = argv[optind - 1], *name;
	if (o->has_arg != required_argument || optind < 2)
		return a;
	size_t n = long_name(a, &name);
	if (strncmp(a, "--", 2) == 0 && name[n] == '=' && strncmp(o->name, name, n) == 0)
		return a; /* --name=value */
	return argv[optind - 2];
}

/* Does the element name o exactly?  (getopt_long would take a unique
 * prefix: --sort for --sorted.) */
static int long_exact(const struct option *o, const char *a)
{
	const char *name;
	size_t n = long_name(a, &name);
	return strlen(o->name) == n && memcmp(o->name, name, n) == 0;
}

/* What getopt_long refused, in words.  For a long option it leaves
 * optopt 0 (unknown, ambiguous) or the option's value (argument missing
 * or not wanted); for a short one, the letter. */
static void option_error(const struct option *all, const char *shorts, char **argv)
{
	const char *a = argv[optind - 1], *name;
	if (strncmp(a, "--", 2) == 0 && a[2]) {
		size_t n = long_name(a, &name);
		const struct option *o = find_long(all, name, n);
		if (!optopt || (o && o->val == optopt)) {
			if (!o)
				unknown_long(all, a);
			else if (o->has_arg == no_argument && name[n] == '=')
				ev_warn("option --%s takes no argument", o->name);
			else
				ev_warn("option --%s needs an argument", o->name);
			return;
		}
	}
	if (optopt && optopt < 256 && strchr(shorts, optopt))
		ev_warn("option -%c needs an argument", optopt);
	else if (optopt && optopt < 256)
		ev_warn("unknown option -%c", optopt);
	else
		ev_warn("unknown option or missing argument: %s", a);
}

/* EV_*_FIELD for the fields no option set (options win): a bad one is a
 * usage error naming the variable.  Mappings the user gave are watched
 * for the missing-path warning; the defaults are not. */
static void apply_field_env(struct evctx *cx)
{
	for (int f = 0; f < F_NMAP; f++) {
		if (fm_by_option & (1u << f)) {
			ev_watch_path(cx, &cx->fm.f[f], fm_opt_name[f]);
			continue;
		}
		const char *e = getenv(fieldmap_env((enum ev_field)f));
		if (!e || !*e)
			continue;
		if (fieldmap_set_from(&cx->fm, (enum ev_field)f, e, fieldmap_env((enum ev_field)f)) < 0)
			exit(EV_USAGE); /* not the command line: no usage line */
		ev_watch_path(cx, &cx->fm.f[f], fieldmap_env((enum ev_field)f));
	}
}

int ev_parse_args(struct evctx *cx, const struct ev_tool *t, void *tool, int argc, char **argv)
{
	ev_setprogname(t->name);
	init(cx);

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

	if (argc == 2 && strcmp(argv[1], "--list-options") == 0)
		list_options(all, shorts);
	int c, li;
	opterr = 0;
	while ((li = -1, c = getopt_long(argc, argv, shorts, all, &li)) != -1) {
		int rc;
		if (li >= 0 && c != '?' && !long_exact(&all[li], long_elem(&all[li], argv))) {
			unknown_long(all, long_elem(&all[li], argv));
			ev_usage(t);
		}
		switch (c) {
		case 'h':
			help(t);
		case 'V':
			printf("%s (evtools) %s\n", t->name, EV_VERSION);
			exit(fflush(stdout) == 0 ? EV_OK : EV_IO);
		case '?':
			option_error(all, shorts, argv);
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
	/* the clock after --tz, so that --now today is midnight there */
	const char *env_now = getenv("EV_NOW");
	if (now_arg && set_now(cx, now_arg, "--now") < 0)
		ev_usage(t);
	if (!now_arg && env_now && *env_now && set_now(cx, env_now, "EV_NOW") < 0)
		exit(EV_USAGE);
	apply_field_env(cx);
	if (cx->errors_path) {
		cx->errors = wfile_append(cx->errors_path);
		if (!cx->errors)
			ev_die_errno(EV_USAGE, "--errors %s", cx->errors_path);
	}
	return optind;
}

int ev_int_arg(const char *name, const char *s, int64_t lo, int64_t hi, int64_t *v)
{
	/* the one whole-number text reader (json_num): digits with an
	 * optional '-', no blanks, no '+' */
	int64_t x;
	double d;
	if (json_num(s, strlen(s), &x, &d) == 1 && x >= lo && x <= hi) {
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
	if (time_parse_option(s, cx->now, v) < 0) {
		ev_warn("%s: bad time '%s'; %s", name, s, time_forms);
		return -1;
	}
	/* "2026" or "20261130" meant as a date reads as an epoch in 1970 */
	if (strspn(s, "0123456789") == strlen(s) && *v < INT64_C(1000000000) * US_PER_S) {
		char tb[32];
		time_format(*v, tb);
		ev_warn("warning: %s: '%s' is read as an epoch number, %s; a date is written YYYY-MM-DD",
		        name, s, tb);
	}
	return 0;
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
	env_error_record(&b, ev->in->label, cx->by_offset, cx->by_offset ? ev->in->offset : ev->in->lineno,
	                 reason, ev->line, ev->len);
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
	/* --strict ends the run through the normal end of the loop (the
	 * loops test cx->stop), so what the tool does at the end (flush an
	 * append, commit or drop an output file) decides the status too */
	if (cx->strict)
		cx->stop = 1;
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

void ev_progress(struct evctx *cx, uint64_t bytes, int final)
{
	if (cx->t0 == 0) {
		/* starting the clock shows nothing yet (as ev_progress_begin) */
		cx->t0 = cx->last_tick = mono();
		if (!final)
			return;
	}
	progress(cx, bytes, final);
}

/* ---- the loop ------------------------------------------------------- */

void ev_hand(struct evctx *cx, struct ev_event *ev, ev_event_fn fn, void *arg)
{
	cx->events++;
	cx->handed = ev;
	fn(cx, ev, arg);
	cx->handed = NULL;
}

/* One hint per run about input that is not NDJSON at all, given after
 * the file's own rejections (or at the end, when --strict stops early). */
static const char *shape_hint;
static char *shape_label;

static void flush_shape_hint(void)
{
	if (!shape_label)
		return;
	wfile_flush(ev_out);
	ev_warn("%s: %s", shape_label, shape_hint);
	free(shape_label);
	shape_label = NULL;
	shape_hint = "";
}

/* A rejected line that is only "{", "[" or "[{" opens a pretty-printed
 * document (as jq and json.dump(indent=...) write them); an array of
 * objects on one line is a JSON array file. */
static void note_shape(const struct input *in, const char *line, size_t len, const struct jerr *err)
{
	if (shape_hint)
		return;
	char c[3];
	size_t k = 0;
	for (size_t i = 0; i < len && k < 3; i++)
		if (line[i] != ' ' && line[i] != '\t')
			c[k++] = line[i];
	if (k >= 1 && (c[0] == '{' || c[0] == '[') &&
	    (k == 1 || (k == 2 && c[0] == '[' && c[1] == '{')) && strstr(err->msg, "unexpected end of line"))
		shape_hint = "looks like multi-line JSON; NDJSON needs one object per line, e.g. jq -c .";
	else if (k >= 2 && c[0] == '[' && c[1] == '{' && strcmp(err->msg, "not an object (array)") == 0)
		shape_hint = "looks like a JSON array; NDJSON needs one object per line, e.g. jq -c '.[]'";
	else
		return;
	shape_label = xstrdup(in->label);
}

static void tty_hint(const struct input *in)
{
	static int tty_hinted;
	if (in->fd == 0 && !tty_hinted && isatty(0)) {
		tty_hinted = 1;
		ev_warn("reading events from the terminal (Ctrl-D to end); give a file or pipe NDJSON");
	}
}

/* The step itself, inlined into the loops here (the hot path); merge
 * calls it through ev_next_event. */
static inline __attribute__((always_inline)) enum ev_next
next_event(struct evctx *cx, struct input *in, struct jdoc *doc, int defer_torn, struct ev_event *ev)
{
	const char *line;
	size_t len;
	struct jerr err;
	int rc = input_next(in, &line, &len);
	if (rc < 0) {
		ev_warn("%s: read error: %s", in->label, input_errstr(in));
		ev_raise(cx, EV_IO);
		return EV_NEXT_END;
	}
	if (rc == 0)
		return EV_NEXT_END;
	if (defer_torn && in->unterminated && in->is_reg) {
		/* maybe still being written: read it again once it is whole */
		uint64_t no = in->lineno - 1;
		if (input_seek(in, in->offset) < 0)
			ev_die_errno(EV_IO, "%s: seek", in->label);
		in->lineno = no;
		return EV_NEXT_END;
	}
	ev->line = line; /* ev->doc and ev->in are set by the caller, once */
	ev->len = len;
	if (json_parse(doc, line, len, 0, &err) < 0) {
		note_shape(in, line, len, &err);
		ev_reject(cx, ev, "%s", err.msg);
		return EV_NEXT_REJECTED;
	}
	return EV_NEXT_EVENT;
}

enum ev_next ev_next_event(struct evctx *cx, struct input *in, struct jdoc *doc, int defer_torn,
                           struct ev_event *ev)
{
	ev->doc = doc;
	ev->in = in;
	return next_event(cx, in, doc, defer_torn, ev);
}

/* ---- modes: --sorted ------------------------------------------------ */

/*
 * Watch the order of what is read.  The first event older than one before
 * it makes the file be read whole (one warning per file): --until stops
 * nothing more, and the part before the seek point is read afterwards.
 * The event past --until that ends a file is read (counted), not handed.
 */
static void sorted_event(struct evctx *cx, struct ev_sorted *so, struct ev_event *ev, ev_event_fn fn,
                         void *arg)
{
	if (so->have_since || so->have_until) {
		char why[200];
		int64_t t;
		if (event_time(ev->doc, &cx->fm, &t, why, sizeof why) < 0) {
			ev_reject(cx, ev, "%s", why);
			return;
		}
		so->has_time = 1;
		so->time = t;
		if (so->have_prev && t < so->prev && !so->disorder) {
			char a[40], b[40];
			time_format(t, a);
			time_format(so->prev, b);
			ev_line_warn(cx, ev, "out of time order: %s after %s; reading the whole file", a, b);
			so->disorder = 1;
		}
		if (!so->have_prev || t > so->prev)
			so->prev = t;
		so->have_prev = 1;
		if (so->have_until && t > so->until && !so->disorder) {
			so->done = 1;
			cx->events++;
			return;
		}
	}
	ev_hand(cx, ev, fn, arg);
}

/* Position in for --since; 0, or -1 after a read error was reported. */
static int sorted_start(struct evctx *cx, struct ev_sorted *so, struct input *in)
{
	so->have_prev = so->done = so->disorder = 0;
	so->seek = 0;
	if (!so->have_since)
		return 0;
	struct src_seek sk;
	if (src_seek_since(in->fd, (uint64_t)in->size, &cx->fm, so->since, &sk) < 0) {
		ev_warn_errno("%s: read error", in->label);
		ev_raise(cx, EV_IO);
		return -1;
	}
	if (sk.contradicted) {
		char a[40], b[40];
		time_format(sk.a.t, a);
		time_format(sk.b.t, b);
		ev_warn("%s: warning: not in time order: byte %" PRIu64 " is at %s, byte %" PRIu64
		        " at %s; reading the whole file",
		        in->label, sk.a.off, a, sk.b.off, b);
		so->disorder = 1;
	}
	so->seek = sk.off;
	if (sk.off > 0 && input_seek(in, sk.off) < 0)
		ev_die_errno(EV_IO, "%s: seek", in->label);
	return 0;
}

/* ---- modes: --state and --follow ------------------------------------ */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

static void resume_event(struct evctx *cx, struct ev_resume *r, struct ev_event *ev, ev_event_fn fn,
                         void *arg)
{
	switch (ckpt_admit(&r->rd, ev->doc)) {
	case CK_SKIP:
		return; /* read by an earlier run */
	case CK_NO_SEQ:
		ev_reject(cx, ev, "%s", ckpt_no_seq);
		return;
	case CK_TAKE:
		ev_hand(cx, ev, fn, arg);
	}
}

/* The position reached in in, for the next save. */
static void resume_mark(struct ev_resume *r, struct input *in)
{
	ckpt_mark(&r->ck, &r->rd, in->is_reg ? in->fd : -1, in->consumed);
}

void ev_state_save(struct evctx *cx)
{
	struct ev_resume *r = &cx->mode.resume;
	wfile_flush(ev_out); /* the output the position covers comes first */
	r->since_save = 0;
	if (!r->path)
		return;
	struct atomic_file *a = ckpt_begin(r->path, &r->ck);
	if (r->save)
		r->save(cx, a->w, r->arg);
	ckpt_commit(a);
}

/* Decide where to start in a (re)opened input from the position known. */
static void resume_position(struct ev_resume *r, struct input *in, int reopened)
{
	char why[300];
	if (ckpt_start(&r->ck, &r->rd, in, why, sizeof why) == CK_CHANGED && !reopened) {
		ev_warn("--state %s: %s: %s; not mixing it with the saved state (remove the state to start over)",
		        r->path, in->label, why);
		exit(EV_IO);
	}
}

/* ---- the loop ------------------------------------------------------- */

/* Read in to its end (or a stop) in the mode of cx; base is where
 * reading started, for --progress. */
static void read_pass(struct evctx *cx, struct input *in, ev_event_fn fn, void *arg, uint64_t base)
{
	struct ev_resume *r = cx->mode.resume.path || cx->mode.resume.follow ? &cx->mode.resume : NULL;
	struct ev_sorted *so = cx->mode.sorted.on ? &cx->mode.sorted : NULL;
	struct ev_event ev = { NULL, 0, &cx->doc, in };
	enum ev_next k;
	unsigned tick = 0;
	if (!r && !so) { /* plain files: the hot loop, nothing else to test */
		while (!cx->stop && (k = next_event(cx, in, &cx->doc, 0, &ev)) != EV_NEXT_END) {
			if (k == EV_NEXT_EVENT)
				ev_hand(cx, &ev, fn, arg);
			if (cx->progress && (++tick & 1023) == 0)
				progress(cx, cx->done_bytes + in->consumed - base, 0);
		}
		flush_shape_hint();
		return;
	}
	while (!cx->stop && !got_signal && !(so && so->done) &&
	       (k = next_event(cx, in, &cx->doc, r != NULL, &ev)) != EV_NEXT_END) {
		if (k == EV_NEXT_EVENT) {
			if (r)
				resume_event(cx, r, &ev, fn, arg);
			else if (so)
				sorted_event(cx, so, &ev, fn, arg);
			else
				ev_hand(cx, &ev, fn, arg);
		}
		if (cx->progress && (++tick & 1023) == 0)
			progress(cx, cx->done_bytes + in->consumed - base, 0);
		if (r && r->autosave && ++r->since_save >= EV_SAVE_EVERY) {
			resume_mark(r, in);
			ev_state_save(cx);
		}
	}
	flush_shape_hint();
}

void ev_run_input(struct evctx *cx, struct input *in, ev_event_fn fn, void *arg)
{
	tty_hint(in);
	uint64_t base = in->consumed;
	read_pass(cx, in, fn, arg, base);
	cx->done_bytes += in->consumed - base;
}

/* Has the file at path been replaced or truncated under in? */
static int file_moved(const char *path, struct input *in)
{
	struct stat a, b;
	if (stat(path, &a) < 0 || fstat(in->fd, &b) < 0)
		return 0; /* gone for now: keep the old one (as tail -F) */
	return a.st_dev != b.st_dev || a.st_ino != b.st_ino || (uint64_t)b.st_size < in->consumed;
}

#define FOLLOW_POLL_NS 100000000L

/*
 * --state and --follow: read the one input from the saved position to
 * its end, then (--follow) wait for it to grow.  With autosave the
 * position is saved after the output it covers has been written: every
 * EV_SAVE_EVERY lines, whenever the end of the file is reached, and when
 * a signal ends the run.  So a follower stopped by SIGTERM or SIGINT and
 * started again writes every event exactly once; one killed outright can
 * repeat at most the lines read since its last save.
 */
static void run_resume(struct evctx *cx, int nfiles, char **files, ev_event_fn fn, void *arg)
{
	struct ev_resume *r = &cx->mode.resume;
	if (r->need_file || r->follow) {
		if (nfiles != 1 || !strcmp(files[0], "-")) {
			ev_warn("%s needs one file operand", r->follow ? "--follow" : "--state");
			exit(EV_USAGE);
		}
	} else if (nfiles > 1) {
		ev_warn("--state reads one file (or standard input), not %d", nfiles);
		exit(EV_USAGE);
	}
	char *path = nfiles ? files[0] : "-";
	if (r->path) {
		struct buf body = {0};
		char err[300];
		int rc = ckpt_load(r->path, &r->ck, &body, err, sizeof err);
		if (rc < 0)
			ev_die(EV_USAGE, "--state %s", err);
		if (rc > 0 && r->load)
			r->load(cx, body.p ? body.p : "", body.len, r->arg);
		buf_free(&body);
	}
	if (r->follow || r->autosave) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	ev_progress_begin(cx, 1, &path);
	struct input in;
	if (input_open(&in, path) < 0) {
		ev_warn_errno("%s", path);
		ev_raise(cx, EV_USAGE);
		ev_progress_end(cx);
		return;
	}
	if (in.comp && (r->follow || r->need_file)) {
		/* byte offsets of the decompressed stream cannot be sought */
		ev_warn("%s: %s needs an uncompressed file (this one is %s-compressed)", path,
		        r->follow ? "--follow" : "--state", input_comp_name(in.comp));
		exit(EV_USAGE);
	}
	tty_hint(&in);
	r->rd.need_seq = r->path && !in.is_reg;
	resume_position(r, &in, 0);
	uint64_t base = in.consumed;
	for (;;) {
		in.eof = 0;
		read_pass(cx, &in, fn, arg, base);
		if (r->autosave && (r->since_save || !r->follow) && ev_status_commits(cx)) {
			resume_mark(r, &in);
			ev_state_save(cx);
		}
		if (!r->follow || cx->stop || got_signal || !ev_status_commits(cx))
			break;
		struct timespec ts = { 0, FOLLOW_POLL_NS };
		nanosleep(&ts, NULL);
		if (got_signal)
			break;
		if (file_moved(path, &in)) {
			struct input next;
			if (input_open(&next, path) < 0)
				continue;
			cx->done_bytes += in.consumed - base;
			input_close(&in);
			in = next;
			/* the position known so far decides where to go on */
			r->ck.has_file = 0;
			r->ck.has_seq = r->rd.have_seq;
			r->ck.seq = r->rd.max_seq;
			wfile_flush(ev_out);
			if (r->rd.have_seq)
				ev_warn("%s: replaced or truncated; reading it from the start after seq %" PRId64, path,
				        r->rd.max_seq);
			else
				ev_warn("%s: replaced or truncated; reading it from the start", path);
			resume_position(r, &in, 1);
			base = in.consumed;
		}
	}
	resume_mark(r, &in);
	if (r->autosave && r->since_save && ev_status_commits(cx))
		ev_state_save(cx);
	cx->done_bytes += in.consumed - base;
	input_close(&in);
	ev_progress_end(cx);
}

/* The archive mode: lib/compact reads, each event comes through here
 * (compact_ops has one arg for its three callbacks: ours carries the
 * tool's). */
struct archive_run { struct evctx *cx; ev_event_fn fn; void *arg; struct ev_archive *m; };

static void archive_begin(void *a)
{
	struct archive_run *r = a;
	if (r->m->begin)
		r->m->begin(r->m->arg);
}

static int archive_event(void *a, const char *line, size_t len, struct jdoc *doc, struct input *in)
{
	struct archive_run *r = a;
	struct ev_event ev = { line, len, doc, in };
	ev_hand(r->cx, &ev, r->fn, r->arg);
	return r->cx->stop;
}

static void archive_snapshots(void *a, struct wfile *w)
{
	struct archive_run *r = a;
	r->m->snapshots(r->m->arg, w);
}

static void run_archive(struct evctx *cx, int nfiles, ev_event_fn fn, void *arg)
{
	if (nfiles) {
		ev_warn("--compact reads the store only, not file operands");
		exit(EV_USAGE);
	}
	struct archive_run r = { cx, fn, arg, &cx->mode.archive };
	struct compact_ops ops = { archive_begin, archive_event, archive_snapshots, &r };
	r.m->read(r.m->opts, &ops, &r.m->n);
}

void ev_run(struct evctx *cx, int nfiles, char **files, ev_event_fn fn, void *arg)
{
	static char *stdin_only[] = { "-" };
	struct ev_sorted *so = cx->mode.sorted.on ? &cx->mode.sorted : NULL;
	if (cx->mode.resume.path || cx->mode.resume.follow) {
		run_resume(cx, nfiles, files, fn, arg);
		return;
	}
	if (cx->mode.archive.opts) {
		run_archive(cx, nfiles, fn, arg);
		return;
	}
	if (so) {
		cx->by_offset = 1;
		if (nfiles == 0) {
			ev_warn("--sorted needs regular files, not standard input");
			exit(EV_USAGE);
		}
	}
	if (nfiles == 0) {
		files = stdin_only;
		nfiles = 1;
	}
	ev_progress_begin(cx, nfiles, files);
	for (int i = 0; i < nfiles && !cx->stop; i++) {
		struct input in;
		if (input_open(&in, files[i]) < 0) {
			ev_warn_errno("%s", files[i]);
			ev_raise(cx, EV_USAGE);
			continue;
		}
		if (so && in.comp) {
			ev_warn("%s: --sorted cannot seek in %s-compressed data; decompress it first",
			        files[i], input_comp_name(in.comp));
			ev_raise(cx, EV_USAGE);
			input_close(&in);
			continue;
		}
		if (so && !in.is_reg) {
			ev_warn("%s: --sorted needs a regular file", files[i]);
			ev_raise(cx, EV_USAGE);
			input_close(&in);
			continue;
		}
		if (so && sorted_start(cx, so, &in) < 0) {
			input_close(&in);
			continue;
		}
		ev_run_input(cx, &in, fn, arg);
		/* after disorder, the part before the seek point, read last */
		if (so && so->disorder && so->seek > 0 && !cx->stop) {
			if (input_seek(&in, 0) < 0)
				ev_die_errno(EV_IO, "%s: seek", in.label);
			in.end = so->seek;
			ev_run_input(cx, &in, fn, arg);
		}
		input_close(&in);
	}
	ev_progress_end(cx);
}

void ev_progress_begin(struct evctx *cx, int nfiles, char **files)
{
	if (!cx->progress)
		return;
	cx->t0 = cx->last_tick = mono();
	for (int i = 0; i < nfiles; i++) {
		struct input probe;
		if (strcmp(files[i], "-") != 0 && input_open(&probe, files[i]) == 0) {
			if (probe.is_reg)
				cx->total_bytes += (uint64_t)probe.size;
			input_close(&probe);
		}
	}
}

void ev_progress_end(struct evctx *cx)
{
	if (cx->progress)
		progress(cx, cx->done_bytes, 1);
}

/* Can the operand be opened for reading?  Nothing is read, and a FIFO
 * or device is not opened (that could take its data or its writer's
 * place): it only has to exist and be readable. */
static int probe_input(const char *path)
{
	struct stat st;
	if (strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return access(path, R_OK);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

void ev_need_inputs(struct evctx *cx, int nfiles, char **files)
{
	int bad = 0;
	for (int i = 0; i < nfiles; i++)
		if (probe_input(files[i]) < 0) {
			ev_warn_errno("%s", files[i]);
			bad++;
		}
	if (!bad)
		return;
	ev_warn("nothing written: %s cannot be opened", bad == 1 ? "an input" : "inputs");
	ev_raise(cx, EV_USAGE);
	exit(cx->status);
}

int ev_status_commits(const struct evctx *cx)
{
	return cx->status == EV_OK || cx->status == EV_NOMATCH || cx->status == EV_REJECT;
}

void ev_commit(struct evctx *cx, struct atomic_file *a, const char *what)
{
	if (!ev_status_commits(cx)) {
		atomic_abort(a);
		return;
	}
	char *path = xstrdup(a->path);
	if (atomic_commit(a) < 0)
		ev_die_errno(EV_IO, "%s%s%s", what ? what : "", what ? " " : "", path);
	free(path);
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
	flush_shape_hint();
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
