/*
 * compact.c — the compaction protocol of compact.h.
 *
 * Guarantees (each step's file is replaced atomically, and the steps run
 * in this order): an archive batch file is named FIRST-LAST only once it
 * is complete; it counts only once FILE.base covers LAST, so the next run
 * removes a batch a crash left uncommitted; the snapshots are rewritten
 * before the base, so a committed batch is always in them; the store is
 * rewritten after the base, so a line both archived and still in the
 * store is recognised by its seq and only dropped.  Archived lines are
 * copied byte for byte from the store, never re-serialised.
 */
#include "compact.h"
#include "atomic.h"
#include "ev.h"
#include "store.h"
#include "store_int.h"

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

struct compaction {
	const struct compact_opts *o;
	const struct compact_ops *ops;
	const char *name;      /* the store's base name */
	struct store_base base;
	uint64_t prev_base_seq;
	int rfd;               /* the store, for copying bytes */
	struct jdoc doc;
	/* the batch being written */
	struct atomic_file *batch;
	uint64_t batch_first, batch_last, batch_lines;
	char batch_label[300];
	struct compact_counts n;
};

/* Fault injection for the crash tests (compact.h). */
static void crash_point(const char *step)
{
	const char *at = getenv("EVSNAP_CRASH_AT");
	if (at && strcmp(at, step) == 0)
		kill(getpid(), SIGKILL);
}

static char *path_join(const char *dir, const char *name, const char *suffix)
{
	size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	char *p = xmalloc(n);
	snprintf(p, n, "%s/%s%s", dir, name, suffix);
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

/* Remove what a crashed compaction left in the archive: batch files the
 * base does not cover (never committed) and temporary files of ours. */
static void clean_archive(struct compaction *c)
{
	DIR *dir = opendir(c->o->archive);
	if (!dir)
		ev_die_errno(EV_IO, "--archive %s", c->o->archive);
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
		char *p = path_join(c->o->archive, de->d_name, "");
		if (unlink(p) < 0 && errno != ENOENT)
			ev_die_errno(EV_IO, "remove %s", p);
		free(p);
	}
	closedir(dir);
}

/* Copy store bytes [from, to) to w. */
static void copy_range(struct compaction *c, struct wfile *w, uint64_t from, uint64_t to)
{
	char chunk[65536];
	while (from < to) {
		size_t n = to - from < sizeof chunk ? (size_t)(to - from) : sizeof chunk;
		ssize_t k = input_pread(c->rfd, chunk, n, from);
		if (k <= 0)
			ev_die_errno(EV_IO, "read %s", c->o->store);
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
	char *final = path_join(c->o->archive, c->name, name);
	/* the temporary file was named after a provisional target */
	free(c->batch->path);
	c->batch->path = final;
	c->batch->w->name = final;
	if (atomic_commit(c->batch) < 0)
		ev_die_errno(EV_IO, "archive file %s", final);
	c->batch = NULL;
	c->n.files++;
	crash_point("batch");
}

static void batch_line(struct compaction *c, uint64_t seq, uint64_t from, uint64_t to)
{
	if (!c->batch) {
		char *p = path_join(c->o->archive, c->name, ".ndjson");
		c->batch = atomic_open(p);
		if (!c->batch)
			ev_die_errno(EV_IO, "archive file in %s", c->o->archive);
		free(p);
		/* its name is known only at its end: messages name the batch */
		snprintf(c->batch_label, sizeof c->batch_label, "the archive batch from seq %" PRIu64 " in %.200s",
		         seq, c->o->archive);
		c->batch->w->name = c->batch_label;
		c->batch_first = seq;
		c->batch_lines = 0;
	}
	copy_range(c, c->batch->w, from, to);
	c->batch_last = seq;
	if (++c->batch_lines >= c->o->batch)
		batch_close(c);
}

/* The version an archived event leaves its aggregate at, for the base:
 * its version field when positive, else one more than the base's. */
static void base_record(struct compaction *c, const struct jdoc *d)
{
	uint32_t kt = event_field(d, c->o->fm, F_KEY);
	if (kt == JNONE || d->tok[kt].type == J_NULL)
		return;
	struct buf vk = {0};
	json_value_key(d, kt, &vk);
	uint64_t v;
	if (store_pos_int(d, event_field(d, c->o->fm, F_VERSION), &v) < 0 || v == 0)
		v = store_base_version(&c->base, vk.p, vk.len) + 1;
	buf_free(&vk);
	store_base_set(&c->base, d, kt, v);
}

static int has_version(const struct jdoc *d, const struct fieldmap *fm)
{
	uint32_t vt = event_field(d, fm, F_VERSION);
	int64_t v;
	return json_tok_int(d, vt, INT64_MIN, INT64_MAX, &v) == 0;
}

/* Read the store; archive and hand on its old head.  Returns the offset
 * where the kept lines start. */
static uint64_t archive_head(struct compaction *c)
{
	const struct compact_opts *o = c->o;
	struct input in;
	if (input_open(&in, o->store) < 0)
		ev_die_errno(EV_IO, "%s", o->store);
	const char *line;
	size_t len;
	int rc;
	uint64_t seq = c->base.last_seq, keep_from = 0;
	struct jerr err;
	char why[300];
	while ((rc = input_next(&in, &line, &len)) > 0) {
		int ok = json_parse(&c->doc, line, len, 0, &err) == 0;
		uint64_t lseq = ok ? store_line_seq(&c->doc, seq) : seq + 1;
		if (ok && c->n.archived == 0 && lseq <= c->prev_base_seq) {
			/* archived by a run that crashed before the store was
			 * rewritten: already in the archive and the snapshots */
			c->n.dropped++;
			keep_from = in.consumed;
			seq = lseq;
			continue;
		}
		int64_t t;
		if (!ok) {
			ev_warn("%s:%" PRIu64 ": %s; compaction stops before it", in.label, in.lineno, err.msg);
			break;
		}
		if (event_time(&c->doc, o->fm, &t, why, sizeof why) < 0) {
			ev_warn("%s:%" PRIu64 ": %s; compaction stops before it", in.label, in.lineno, why);
			break;
		}
		if (t >= o->cutoff)
			break;
		if (!has_version(&c->doc, o->fm)) {
			/* snapshots skip events by version: without one, a
			 * replay could not tell an archived event from a kept one */
			ev_warn("%s:%" PRIu64 ": no integer version field '%s'; compaction stops before it",
			        in.label, in.lineno, o->fm->f[F_VERSION].text);
			break;
		}
		batch_line(c, lseq, keep_from, in.consumed);
		keep_from = in.consumed;
		seq = lseq;
		base_record(c, &c->doc);
		if (seq > c->base.last_seq)
			c->base.last_seq = seq;
		c->n.archived++;
		if (c->ops->event(c->ops->arg, line, len, &c->doc, &in))
			break;
	}
	if (rc < 0)
		ev_die_errno(EV_IO, "read %s", o->store);
	batch_close(c);
	input_close(&in);
	return keep_from;
}

static void write_snapshots(struct compaction *c)
{
	struct atomic_file *af = atomic_open(c->o->snapshots);
	if (!af)
		ev_die_errno(EV_IO, "--snapshots %s", c->o->snapshots);
	c->ops->snapshots(c->ops->arg, af->w);
	if (atomic_commit(af) < 0)
		ev_die_errno(EV_IO, "--snapshots %s", c->o->snapshots);
}

static void rewrite_store(struct compaction *c, uint64_t from)
{
	const char *store = c->o->store;
	struct stat st;
	if (fstat(c->rfd, &st) < 0)
		ev_die_errno(EV_IO, "%s", store);
	struct atomic_file *af = atomic_open(store);
	if (!af)
		ev_die_errno(EV_IO, "%s", store);
	if (fchmod(af->w->fd, st.st_mode & 07777) < 0)
		ev_warn_errno("%s: keeping the mode", store);
	copy_range(c, af->w, from, (uint64_t)st.st_size);
	if (atomic_commit(af) < 0)
		ev_die_errno(EV_IO, "rewrite %s", store);
}

void compact_run(const struct compact_opts *o, const struct compact_ops *ops, struct compact_counts *n)
{
	struct compaction c = { .o = o, .ops = ops };
	const char *store = o->store;
	const char *slash = strrchr(store, '/');
	c.name = slash ? slash + 1 : store;
	/* a store that is not there (a typo) is an error, and creates
	 * nothing: no lock file, no archive directory, no snapshots */
	struct stat sst;
	if (stat(store, &sst) < 0)
		ev_die_errno(EV_USAGE, "--store %s", store);
	if (!S_ISREG(sst.st_mode))
		ev_die(EV_USAGE, "--store %s: not a regular file", store);

	int lockfd = store_lock(store, o->lock_timeout_us);
	if (lockfd < 0) {
		if (errno == ETIMEDOUT)
			ev_die(EV_CONFLICT, "%s: lock not had within --lock-timeout", store);
		ev_die_errno(EV_IO, "%s.lock", store);
	}
	c.rfd = open(store, O_RDONLY | O_CLOEXEC);
	if (c.rfd < 0)
		ev_die_errno(errno == ENOENT ? EV_USAGE : EV_IO, "--store %s", store);
	uint64_t torn;
	int tc = store_tail_check(c.rfd, &torn);
	if (tc < 0)
		ev_die_errno(EV_IO, "%s", store);
	if (tc > 0)
		ev_die(EV_IO, "%s: torn last line at byte %" PRIu64 " (evwrite --repair moves it aside)",
		       store, torn);
	char err[512];
	if (store_base_read(store, &c.base, err, sizeof err) < 0)
		ev_die(EV_IO, "%s", err);
	c.prev_base_seq = c.base.last_seq;
	ops->begin(ops->arg);
	if (mkdir(o->archive, 0777) < 0 && errno != EEXIST)
		ev_die_errno(EV_IO, "--archive %s", o->archive);
	clean_archive(&c);

	uint64_t keep_from = archive_head(&c);
	if (c.n.archived || c.n.dropped) {
		if (c.n.archived)
			write_snapshots(&c);
		crash_point("snapshots");
		if (c.base.last_seq != c.prev_base_seq && store_base_write(store, &c.base) < 0)
			ev_die_errno(EV_IO, "%s.base", store);
		crash_point("base");
		rewrite_store(&c, keep_from);
		crash_point("store");
		if (store_index_invalidate(store) < 0)
			ev_die_errno(EV_IO, "%s index", store);
		crash_point("index");
	}
	close(c.rfd);
	json_doc_free(&c.doc);
	store_base_free(&c.base);
	store_unlock(lockfd);
	if (n)
		*n = c.n;
}
