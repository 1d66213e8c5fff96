/*
 * evsnap — snapshots of aggregate state, and compaction of an event store.
 *
 * What it adds over lib: the options, and the two jobs' callbacks.  A
 * snapshot is evreplay's row plus "rules", the hash of the rule set, so
 * evreplay --snapshots can start from it (and ignores one made under other
 * rules); the fold is lib/fold.c, the same code evreplay runs.  Compaction
 * is lib/compact.c (its protocol and crash safety are described in
 * compact.h), run as the archive mode of ev_run: evsnap gives it the
 * loading of the snapshots, the fold of each archived event (an ordinary
 * event callback) and the writing of the snapshots.
 */
#include "atomic.h"
#include "cli.h"
#include "compact.h"
#include "ev.h"
#include "fold.h"
#include "timeutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum {
	OPT_RULES = OPT_TOOL_BASE, OPT_RULE, OPT_NO_DEFAULTS, OPT_EVERY, OPT_SNAPSHOTS, OPT_COMPACT,
	OPT_STORE, OPT_RETAIN, OPT_ARCHIVE, OPT_BATCH, OPT_LOCK_TIMEOUT, OPT_STRICT_VERSIONS
};

static const struct option longopts[] = {
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "rule", required_argument, NULL, OPT_RULE },
	{ "no-default-rules", no_argument, NULL, OPT_NO_DEFAULTS },
	{ "every", required_argument, NULL, OPT_EVERY },
	{ "snapshots", required_argument, NULL, OPT_SNAPSHOTS },
	{ "output", required_argument, NULL, 'o' },
	{ "strict-versions", no_argument, NULL, OPT_STRICT_VERSIONS },
	{ "compact", no_argument, NULL, OPT_COMPACT },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "retain", required_argument, NULL, OPT_RETAIN },
	{ "archive", required_argument, NULL, OPT_ARCHIVE },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
	{ NULL, 0, NULL, 0 }
};

static const char help_text[] =
	"Snapshots of aggregate state (evreplay rows plus the rule-set hash),\n"
	"and compaction of an event store.\n"
	"      --rules FILE         rules from FILE, a JSON array of [\"GLOB\",\"OP\"]\n"
	"      --rule GLOB=OP       one more rule (repeatable; after --rules)\n"
	"      --no-default-rules   drop *Created=create *Deleted=delete *=merge\n"
	"      --strict-versions    reject events whose version is out of sequence\n"
	"      --every N            a snapshot each time an aggregate has N more events\n"
	"                           (default: the latest per aggregate, at end of input)\n"
	"      --snapshots FILE     continue from the snapshots in FILE (if it exists)\n"
	"  -o, --output FILE        write to FILE atomically instead of standard output\n"
	"Compaction:\n"
	"      --compact            archive the old head of a store (needs the 4 below)\n"
	"      --store FILE         the event store\n"
	"      --retain DUR         keep events newer than now - DUR in the store\n"
	"      --archive DIR        where archive batch files go (created if missing)\n"
	"      --snapshots FILE     snapshots covering every archived event (rewritten)\n"
	"      --batch N            lines per archive file (default 10000)\n"
	"      --lock-timeout DUR   wait at most DUR for the store's lock (default 10s)\n";

struct snap {
	struct fold f;
	const char *rules_file;
	const char **rule_specs;
	size_t nrule_specs;
	int no_defaults;
	uint64_t every;
	const char *snapshots, *output;
	int compact;
	const char *store, *retain_arg, *archive;
	uint64_t batch;
	int64_t lock_timeout;
	struct wfile *out;
	struct buf row;
};

static struct evctx cx;

static int option(int c, const char *arg, void *tool)
{
	struct snap *s = tool;
	int64_t n;
	switch (c) {
	case 'o': s->output = arg; return 0;
	case OPT_RULES: s->rules_file = arg; return 0;
	case OPT_RULE:
		s->rule_specs = xrealloc(s->rule_specs, (s->nrule_specs + 1) * sizeof *s->rule_specs);
		s->rule_specs[s->nrule_specs++] = arg;
		return 0;
	case OPT_NO_DEFAULTS: s->no_defaults = 1; return 0;
	case OPT_STRICT_VERSIONS: s->f.strict_versions = 1; return 0;
	case OPT_EVERY:
		if (ev_int_arg("--every", arg, 1, INT64_MAX, &n) < 0)
			return -1;
		s->every = (uint64_t)n;
		return 0;
	case OPT_BATCH:
		if (ev_int_arg("--batch", arg, 1, INT64_MAX, &n) < 0)
			return -1;
		s->batch = (uint64_t)n;
		return 0;
	case OPT_SNAPSHOTS: s->snapshots = arg; return 0;
	case OPT_COMPACT: s->compact = 1; return 0;
	case OPT_STORE: s->store = arg; return 0;
	case OPT_RETAIN: s->retain_arg = arg; return 0;
	case OPT_ARCHIVE: s->archive = arg; return 0;
	case OPT_LOCK_TIMEOUT:
		if (ev_dur_arg("--lock-timeout", arg, &s->lock_timeout) < 0)
			return -1;
		return 0;
	}
	return -1;
}

static void emit(struct snap *s, const struct fold_agg *a)
{
	buf_reset(&s->row);
	fold_row(&s->f, a, 1, &s->row);
	wfile_line(s->out, s->row.p, s->row.len);
}

static void emit_all(struct snap *s)
{
	for (size_t i = 0; i < s->f.norder; i++)
		emit(s, s->f.order[i]);
}

/* ---- snapshots ------------------------------------------------------ */

static void on_event(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct snap *s = arg;
	struct fold_agg *a;
	if (fold_event(&s->f, c, ev, &a) != FOLD_APPLIED || !s->every)
		return;
	if (a->since_snap >= s->every) {
		emit(s, a);
		a->since_snap = 0;
	}
}

/* With --every, the earlier snapshots are passed through first, so the
 * output holds the whole history and can replace the file it came from. */
static void on_snapshot(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct snap *s = arg;
	if (fold_load_snapshot(&s->f, c, ev) == 1 && s->every && s->out)
		wfile_line(s->out, ev->line, ev->len);
}

/* Read --snapshots FILE when it exists: 1 read, 0 absent. */
static int load_snapshots(struct snap *s, const char *path)
{
	struct input in;
	if (input_open(&in, path) < 0) {
		if (errno == ENOENT)
			return 0;
		ev_die_errno(EV_USAGE, "--snapshots %s", path);
	}
	ev_run_input(&cx, &in, on_snapshot, s);
	input_close(&in);
	return 1;
}

static void run_snapshots(struct snap *s, int nfiles, char **files)
{
	struct atomic_file *af = NULL;
	if (s->output) {
		/* nothing is created before every input is known to open */
		ev_need_inputs(&cx, nfiles, files);
		if (s->snapshots && access(s->snapshots, F_OK) == 0)
			ev_need_inputs(&cx, 1, (char **)&s->snapshots);
		af = atomic_open(s->output);
		if (!af)
			ev_die_errno(EV_IO, "-o %s", s->output);
		s->out = af->w;
	} else {
		s->out = ev_out;
	}
	if (s->snapshots) {
		load_snapshots(s, s->snapshots);
		fold_snapshot_report(&s->f, s->snapshots);
	}
	ev_run(&cx, nfiles, files, on_event, s);
	if (!s->every)
		emit_all(s);
	if (af)
		ev_commit(&cx, af, "-o"); /* replaces the old file only after success */
}

/* ---- compaction ----------------------------------------------------- */

/* Under the store's lock: the snapshots the archive continues, which must
 * all survive the rewrite. */
static void compact_begin(void *arg)
{
	struct snap *s = arg;
	uint64_t rejected = cx.rejected;
	if (load_snapshots(s, s->snapshots) && s->f.snaps_other_rules)
		ev_die(EV_USAGE, "%s: %" PRIu64 " snapshots were taken under other rules; "
		       "compacting would lose them", s->snapshots, s->f.snaps_other_rules);
	if (cx.rejected != rejected)
		ev_die(EV_USAGE, "%s: lines that are not snapshots; compacting would lose them",
		       s->snapshots);
}

static void compact_fold(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct snap *s = arg;
	struct fold_agg *a;
	fold_event(&s->f, c, ev, &a);
}

static void compact_snapshots(void *arg, struct wfile *w)
{
	struct snap *s = arg;
	s->out = w;
	emit_all(s);
	s->out = NULL;
}

static void run_compaction(struct snap *s)
{
	int64_t retain;
	if (ev_dur_arg("--retain", s->retain_arg, &retain) < 0)
		exit(EV_USAGE);
	struct compact_opts o = { s->store, s->archive, s->snapshots, s->batch, s->lock_timeout,
	                          cx.now - retain, &cx.fm };
	/* a mode of the one loop: lib/compact reads the store's old head and
	 * writes the batches; each archived event is folded like any input
	 * line (--strict: a rejected event ends the archived part) */
	cx.mode.archive = (struct ev_archive){ &o, compact_run, compact_begin, compact_snapshots, s, { 0, 0, 0 } };
	ev_run(&cx, 0, NULL, compact_fold, s);
}

int main(int argc, char **argv)
{
	static struct snap s;
	static const struct ev_tool tool = {
		"evsnap",
		"[--rules file] [--rule glob=op] [--no-default-rules] [--every N] [--snapshots file] "
		"[-o file] [file ...]\n"
		"       evsnap --compact --store file --retain dur --archive dir --snapshots file "
		"[--batch N] [--lock-timeout dur]",
		help_text, "o:", longopts, option
	};
	s.batch = 10000;
	s.lock_timeout = 10 * US_PER_S;
	int ind = ev_parse_args(&cx, &tool, &s, argc, argv);
	if (fold_rules_build(&s.f.rules, s.rules_file, s.rule_specs, s.nrule_specs, s.no_defaults) < 0)
		ev_usage(&tool);
	fold_init(&s.f, &cx.fm);

	if (s.compact) {
		const char *miss = !s.store ? "--store" : !s.retain_arg ? "--retain" :
		                   !s.archive ? "--archive" : !s.snapshots ? "--snapshots" : NULL;
		if (miss) {
			ev_warn("--compact needs %s", miss);
			ev_usage(&tool);
		}
		if (ind < argc || s.output || s.every) {
			ev_warn("--compact reads the store only: no files, -o or --every");
			ev_usage(&tool);
		}
		run_compaction(&s);
	} else {
		if (s.store || s.retain_arg || s.archive) {
			ev_warn("--store, --retain and --archive go with --compact");
			ev_usage(&tool);
		}
		run_snapshots(&s, argc - ind, argv + ind);
	}
	buf_free(&s.row);
	free(s.rule_specs);
	fold_free(&s.f);
	return ev_finish(&cx);
}
