/*
 * evsnap — snapshots of aggregate state, and compaction of an event store.
 *
 * A snapshot is evreplay's row plus "rules", the hash of the rule set, so
 * evreplay --snapshots can start from it (and ignores one made under other
 * rules).  The fold is lib/fold.c, the same code evreplay runs.
 *
 * Compaction moves the old head of a store into archive files, under the
 * store's lock (lib/store.h), in an order chosen so that a crash at any
 * point leaves a state that replays the same and that a re-run completes:
 *   1. lock; refuse a torn store; read FILE.base and SNAPS;
 *   2. drop leftovers of a crashed run: archive files that start after the
 *      base's last_seq (never committed) and our temporary files;
 *   3. read the store: lines whose seq the base already covers were
 *      archived by a run that crashed before rewriting the store, and are
 *      only dropped; then the longest prefix of events older than now-DUR
 *      is copied, byte for byte, into batch files (each written
 *      atomically) and folded into the snapshots;
 *   4. write SNAPS atomically (it now covers events still in the store:
 *      replay skips them by version, so replay is unchanged);
 *   5. write FILE.base atomically (this commits the archive files);
 *   6. replace the store atomically with the rest, bytes unchanged;
 *   7. invalidate the index; unlock.
 */
#include "atomic.h"
#include "cli.h"
#include "ev.h"
#include "fold.h"
#include "store.h"
#include "strset.h"
#include "timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	"\n"
	"Options:\n"
	"      --rules FILE         rules from FILE, a JSON array of [\"GLOB\",\"OP\"]\n"
	"      --rule GLOB=OP       one more rule (repeatable; after --rules)\n"
	"      --no-default-rules   drop the defaults *Created=create *Deleted=delete *=merge\n"
	"      --strict-versions    reject events whose version is out of sequence\n"
	"      --every N            a snapshot each time an aggregate has N more events\n"
	"                           (default: the latest per aggregate, at end of input)\n"
	"      --snapshots FILE     continue from the snapshots in FILE (if it exists)\n"
	"  -o, --output FILE        write to FILE atomically instead of standard output\n"
	"\n"
	"Compaction:\n"
	"      --compact            archive the old head of a store (needs the four below)\n"
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

/* Fault injection for the crash tests: EVSNAP_CRASH_AT=STEP kills the
 * process with SIGKILL at that step (batch, snapshots, base, store,
 * index), as a power cut would. */
static void crash_point(const char *step)
{
	const char *at = getenv("EVSNAP_CRASH_AT");
	if (at && strcmp(at, step) == 0)
		kill(getpid(), SIGKILL);
}

struct compaction {
	struct snap *s;
	const char *name;      /* the store's base name */
	struct store_base base;
	uint64_t prev_base_seq;
	int64_t cutoff;
	int rfd;               /* the store, for copying bytes */
	/* the batch being written */
	struct atomic_file *batch;
	uint64_t batch_first, batch_last, batch_lines;
	char batch_label[300];
	/* counts */
	uint64_t archived, dropped, files;
};

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = xmalloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Is name "STORE.NNN-NNN.ndjson" of our store?  Sets *first. */
static int archive_name(const char *store, const char *name, uint64_t *first)
{
	size_t sl = strlen(store);
	if (strncmp(name, store, sl) != 0 || name[sl] != '.')
		return 0;
	const char *p = name + sl + 1;
	char *end;
	if (*p < '0' || *p > '9')
		return 0;
	unsigned long long a = strtoull(p, &end, 10);
	if (*end != '-' || end[1] < '0' || end[1] > '9')
		return 0;
	strtoull(end + 1, &end, 10);
	if (strcmp(end, ".ndjson") != 0)
		return 0;
	*first = a;
	return 1;
}

/* Remove what a crashed compaction left in DIR: batch files the base does
 * not cover (never committed) and temporary files of ours. */
static void clean_archive(struct compaction *c)
{
	DIR *dir = opendir(c->s->archive);
	if (!dir)
		ev_die_errno(EV_IO, "--archive %s", c->s->archive);
	struct dirent *de;
	size_t nl = strlen(c->name);
	while ((de = readdir(dir))) {
		uint64_t first;
		int stale = 0;
		if (archive_name(c->name, de->d_name, &first))
			stale = first > c->base.last_seq;
		else if (de->d_name[0] == '.' && strncmp(de->d_name + 1, c->name, nl) == 0 &&
		         de->d_name[1 + nl] == '.' && strstr(de->d_name, ".ndjson.tmp."))
			stale = 1;
		if (!stale)
			continue;
		char *p = path_join(c->s->archive, de->d_name);
		if (unlink(p) < 0 && errno != ENOENT)
			ev_die_errno(EV_IO, "remove %s", p);
		free(p);
	}
	closedir(dir);
}

static void copy_range(struct compaction *c, struct wfile *w, uint64_t from, uint64_t to)
{
	char chunk[65536];
	while (from < to) {
		size_t n = to - from < sizeof chunk ? (size_t)(to - from) : sizeof chunk;
		ssize_t k = pread(c->rfd, chunk, n, (off_t)from);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			ev_die_errno(EV_IO, "read %s", c->s->store);
		wfile_write(w, chunk, (size_t)k);
		from += (uint64_t)k;
	}
}

static void batch_close(struct compaction *c)
{
	if (!c->batch)
		return;
	char name[64];
	snprintf(name, sizeof name, ".%012" PRIu64 "-%012" PRIu64 ".ndjson", c->batch_first, c->batch_last);
	size_t n = strlen(c->s->archive) + strlen(c->name) + strlen(name) + 2;
	char *final = xmalloc(n);
	snprintf(final, n, "%s/%s%s", c->s->archive, c->name, name);
	/* the temporary file was named after a provisional target */
	free(c->batch->path);
	c->batch->path = final;
	c->batch->w->name = final;
	if (atomic_commit(c->batch) < 0)
		ev_die_errno(EV_IO, "archive file %s", final);
	c->batch = NULL;
	c->files++;
	crash_point("batch");
}

static void batch_line(struct compaction *c, uint64_t seq, uint64_t from, uint64_t to)
{
	if (!c->batch) {
		char *prov = path_join(c->s->archive, c->name);
		size_t n = strlen(prov) + 16;
		char *p = xmalloc(n);
		snprintf(p, n, "%s.ndjson", prov);
		free(prov);
		c->batch = atomic_open(p);
		if (!c->batch)
			ev_die_errno(EV_IO, "archive file in %s", c->s->archive);
		free(p);
		/* its name is known only at its end: messages name the batch */
		snprintf(c->batch_label, sizeof c->batch_label, "the archive batch from seq %" PRIu64 " in %.200s",
		         seq, c->s->archive);
		c->batch->w->name = c->batch_label;
		c->batch_first = seq;
		c->batch_lines = 0;
	}
	copy_range(c, c->batch->w, from, to);
	c->batch_last = seq;
	if (++c->batch_lines >= c->s->batch)
		batch_close(c);
}

/* The version an archived event leaves its aggregate at, for the base. */
static void base_record(struct compaction *c, const struct jdoc *d)
{
	const struct fieldmap *fm = &cx.fm;
	uint32_t kt = event_field(d, fm, F_KEY);
	if (kt == JNONE || d->tok[kt].type == J_NULL)
		return;
	struct buf vk = {0};
	json_value_key(d, kt, &vk);
	uint64_t v = store_base_version(&c->base, vk.p, vk.len) + 1;
	uint32_t vt = event_field(d, fm, F_VERSION);
	int64_t iv;
	double x;
	if (vt != JNONE && d->tok[vt].type == J_NUM && json_tok_num(d, vt, &iv, &x) && iv > 0)
		v = (uint64_t)iv;
	buf_free(&vk);
	store_base_set(&c->base, d, kt, v);
}

static int has_version(const struct jdoc *d)
{
	uint32_t vt = event_field(d, &cx.fm, F_VERSION);
	int64_t v;
	double x;
	return vt != JNONE && d->tok[vt].type == J_NUM && json_tok_num(d, vt, &v, &x);
}

static uint64_t line_seq(const struct jdoc *d, uint64_t prev)
{
	uint32_t t = json_get(d, 0, "seq", 3);
	int64_t v;
	double x;
	if (t != JNONE && d->tok[t].type == J_NUM && json_tok_num(d, t, &v, &x) && v > 0)
		return (uint64_t)v;
	return prev + 1;
}

/* Read the store; archive and fold its old head.  Returns the offset
 * where the kept lines start. */
static void compact_fold(struct evctx *c, struct ev_event *ev, void *arg)
{
	struct snap *s = arg;
	struct fold_agg *a;
	fold_event(&s->f, c, ev, &a);
}

static uint64_t archive_head(struct compaction *c)
{
	struct input in;
	if (input_open(&in, c->s->store) < 0)
		ev_die_errno(EV_IO, "%s", c->s->store);
	const char *line;
	size_t len;
	int rc;
	uint64_t seq = c->base.last_seq, keep_from = 0;
	struct jerr err;
	struct ev_event ev = { NULL, 0, &cx.doc, &in };
	char why[300];
	while ((rc = input_next(&in, &line, &len)) > 0) {
		ev.line = line;
		ev.len = len;
		int ok = json_parse(&cx.doc, line, len, 0, &err) == 0;
		uint64_t lseq = ok ? line_seq(&cx.doc, seq) : seq + 1;
		if (ok && c->archived == 0 && lseq <= c->prev_base_seq) {
			/* archived by a run that crashed before the store was
			 * rewritten: already in the archive and the snapshots */
			c->dropped++;
			keep_from = in.consumed;
			seq = lseq;
			continue;
		}
		int64_t t;
		if (!ok) {
			ev_warn("%s:%" PRIu64 ": %s; compaction stops before it", in.label, in.lineno, err.msg);
			break;
		}
		if (event_time(&cx.doc, &cx.fm, &t, why, sizeof why) < 0) {
			ev_warn("%s:%" PRIu64 ": %s; compaction stops before it", in.label, in.lineno, why);
			break;
		}
		if (t >= c->cutoff)
			break;
		if (!has_version(&cx.doc)) {
			/* snapshots skip events by version: without one, a
			 * replay could not tell an archived event from a kept one */
			ev_warn("%s:%" PRIu64 ": no integer version field '%s'; compaction stops before it",
			        in.label, in.lineno, cx.fm.f[F_VERSION].text);
			break;
		}
		batch_line(c, lseq, keep_from, in.consumed);
		keep_from = in.consumed;
		seq = lseq;
		base_record(c, &cx.doc);
		if (seq > c->base.last_seq)
			c->base.last_seq = seq;
		c->archived++;
		ev_hand(&cx, &ev, compact_fold, c->s);
		if (cx.stop) /* --strict: a rejected event ends the archived part */
			break;
	}
	if (rc < 0)
		ev_die_errno(EV_IO, "read %s", c->s->store);
	batch_close(c);
	input_close(&in);
	return keep_from;
}

static void write_snapshots(struct snap *s)
{
	struct atomic_file *af = atomic_open(s->snapshots);
	if (!af)
		ev_die_errno(EV_IO, "--snapshots %s", s->snapshots);
	s->out = af->w;
	emit_all(s);
	if (atomic_commit(af) < 0)
		ev_die_errno(EV_IO, "--snapshots %s", s->snapshots);
	s->out = NULL;
}

static void rewrite_store(struct compaction *c, uint64_t from)
{
	struct stat st;
	if (fstat(c->rfd, &st) < 0)
		ev_die_errno(EV_IO, "%s", c->s->store);
	struct atomic_file *af = atomic_open(c->s->store);
	if (!af)
		ev_die_errno(EV_IO, "%s", c->s->store);
	if (fchmod(af->w->fd, st.st_mode & 07777) < 0)
		ev_warn_errno("%s: keeping the mode", c->s->store);
	copy_range(c, af->w, from, (uint64_t)st.st_size);
	if (atomic_commit(af) < 0)
		ev_die_errno(EV_IO, "rewrite %s", c->s->store);
}

static void run_compaction(struct snap *s)
{
	struct compaction c = { .s = s };
	int64_t retain;
	if (ev_dur_arg("--retain", s->retain_arg, &retain) < 0)
		exit(EV_USAGE);
	c.cutoff = cx.now - retain;
	const char *slash = strrchr(s->store, '/');
	c.name = slash ? slash + 1 : s->store;
	/* a store that is not there (a typo) is an error, and creates
	 * nothing: no lock file, no archive directory, no snapshots */
	struct stat sst;
	if (stat(s->store, &sst) < 0)
		ev_die_errno(EV_USAGE, "--store %s", s->store);
	if (!S_ISREG(sst.st_mode))
		ev_die(EV_USAGE, "--store %s: not a regular file", s->store);

	int lockfd = store_lock(s->store, s->lock_timeout);
	if (lockfd < 0) {
		if (errno == ETIMEDOUT)
			ev_die(EV_CONFLICT, "%s: lock not had within --lock-timeout", s->store);
		ev_die_errno(EV_IO, "%s.lock", s->store);
	}
	c.rfd = open(s->store, O_RDONLY | O_CLOEXEC);
	if (c.rfd < 0)
		ev_die_errno(errno == ENOENT ? EV_USAGE : EV_IO, "--store %s", s->store);
	uint64_t torn;
	int tc = store_tail_check(c.rfd, &torn);
	if (tc < 0)
		ev_die_errno(EV_IO, "%s", s->store);
	if (tc > 0)
		ev_die(EV_IO, "%s: torn last line at byte %" PRIu64 " (evwrite --repair moves it aside)",
		       s->store, torn);
	char err[512];
	if (store_base_read(s->store, &c.base, err, sizeof err) < 0)
		ev_die(EV_IO, "%s", err);
	c.prev_base_seq = c.base.last_seq;

	uint64_t rejected = cx.rejected;
	if (load_snapshots(s, s->snapshots) && s->f.snaps_other_rules)
		ev_die(EV_USAGE, "%s: %" PRIu64 " snapshots were taken under other rules; "
		       "compacting would lose them", s->snapshots, s->f.snaps_other_rules);
	if (cx.rejected != rejected)
		ev_die(EV_USAGE, "%s: lines that are not snapshots; compacting would lose them",
		       s->snapshots);
	if (mkdir(s->archive, 0777) < 0 && errno != EEXIST)
		ev_die_errno(EV_IO, "--archive %s", s->archive);
	clean_archive(&c);

	uint64_t keep_from = archive_head(&c);
	if (c.archived == 0 && c.dropped == 0) {
		close(c.rfd);
		store_base_free(&c.base);
		store_unlock(lockfd);
		return;
	}
	if (c.archived)
		write_snapshots(s);
	crash_point("snapshots");
	if (c.base.last_seq != c.prev_base_seq && store_base_write(s->store, &c.base) < 0)
		ev_die_errno(EV_IO, "%s.base", s->store);
	crash_point("base");
	rewrite_store(&c, keep_from);
	crash_point("store");
	if (store_index_invalidate(s->store) < 0)
		ev_die_errno(EV_IO, "%s index", s->store);
	crash_point("index");
	close(c.rfd);
	store_base_free(&c.base);
	store_unlock(lockfd);
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
