/*
 * store.c — appending to the event store (evwrite): open it under its
 * lock, answer what numbering needs (next seq, an aggregate's version, is
 * this id stored?), stage lines and append them.
 *
 * Guarantees: the store is opened only once its lock is had, and a torn
 * last line is refused (or moved aside with --repair) before anything is
 * appended.  Staged lines are appended whole, in order, in batches (4 MiB;
 * 1 MiB with --fsync never; one line at a time with --fsync always), and
 * fdatasync'ed unless --fsync never; a batch that cannot be written or
 * synced is cut back off the store (the store is left as it was) and is
 * never echoed.  What the index answers is confirmed against the store's
 * lines, and a disagreement rebuilds the index (store_index.c).
 */
#include "store_int.h"
#include "atomic.h"
#include "ev.h"
#include "strset.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH_BYTES (4u << 20)
#define NEVER_BYTES (1u << 20)

int store_open(struct store **sp, const struct store_opts *o)
{
	struct store *s = xcalloc(1, sizeof *s);
	s->o = *o;
	s->lockfd = s->fd = s->idxfd = -1;
	*sp = s;
	if (!o->path)
		return 0;
	s->idxpath = store_file(o->path, ".idx");
	s->fm_hash = store_fm_hash(o->fm);
	if (o->dry_run && access(o->path, F_OK) < 0 && errno == ENOENT) {
		/* a dry run on a store that does not exist: create nothing */
		store_base_identity(o->path, &s->base_ino, &s->base_size, &s->base_mtime);
		return store_index_scan(s) < 0 ? EV_IO : 0;
	}
	s->lockfd = store_lock(o->path, o->lock_timeout_us);
	if (s->lockfd < 0) {
		if (errno == ETIMEDOUT) {
			ev_warn("%s: store is locked by another writer (waited %.3gs for %s.lock)", o->path,
			        (double)o->lock_timeout_us / 1e6, o->path);
			return EV_CONFLICT;
		}
		ev_warn_errno("%s.lock", o->path);
		return EV_IO;
	}
	if (o->dry_run) {
		s->fd = open(o->path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0 && errno != ENOENT) {
			ev_warn_errno("%s", o->path);
			return EV_IO;
		}
	} else {
		s->fd = open(o->path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (s->fd >= 0) {
			if (fsync_dir_of(o->path) < 0) {
				ev_warn_errno("%s: fsync of its directory", o->path);
				return EV_IO;
			}
		} else if (errno == EEXIST) {
			s->fd = open(o->path, O_RDWR | O_APPEND | O_CLOEXEC);
		}
		if (s->fd < 0) {
			ev_warn_errno("%s", o->path);
			return EV_IO;
		}
	}
	s->fm_hash = store_fm_hash(o->fm);
	store_base_identity(o->path, &s->base_ino, &s->base_size, &s->base_mtime);
	if (s->fd < 0) /* a dry run on a store that does not exist yet */
		return store_load_base(s) < 0 ? EV_IO : (store_index_scan(s) < 0 ? EV_IO : 0);

	uint64_t torn;
	int t = store_tail_check(s->fd, &torn);
	if (t < 0) {
		ev_warn_errno("%s: read error", o->path);
		return EV_IO;
	}
	if (t == 1) {
		if (!o->repair || o->dry_run) {
			ev_warn("%s: torn last line at byte %" PRIu64 " (use --repair)", o->path, torn);
			return EV_IO;
		}
		if (store_repair(o->path, s->fd, torn) < 0) {
			ev_warn_errno("%s: cannot repair the torn last line at byte %" PRIu64, o->path, torn);
			return EV_IO;
		}
		ev_warn("%s: torn last line at byte %" PRIu64 " moved to %s.torn.%" PRIu64, o->path, torn,
		        o->path, torn);
	}
	struct stat st;
	if (fstat(s->fd, &st) < 0) {
		ev_warn_errno("%s", o->path);
		return EV_IO;
	}
	s->dev = (uint64_t)st.st_dev;
	s->ino = (uint64_t)st.st_ino;
	s->size = (uint64_t)st.st_size;
	if (store_index_load(s) < 0) {
		s->nstj = 0;
		if (store_index_scan(s) < 0)
			return EV_IO;
	}
	s->seq = s->committed_seq;
	return 0;
}

uint64_t store_next_seq(const struct store *s)
{
	return s->seq + 1;
}

uint64_t store_appended(const struct store *s)
{
	return s->appended;
}

static int id_at(struct store *s, uint64_t off, void *arg)
{
	const struct buf *k = arg;
	return store_line_has(s, off, F_ID, k->p, k->len, NULL);
}

int store_has_id(struct store *s, const char *vkey, size_t n)
{
	if (strset_has(&s->run_ids, vkey, n))
		return 1;
	if (s->fd < 0)
		return 0;
	struct buf k = { (char *)vkey, n, n };
	return store_index_ids(s, store_id_hash(vkey, n), id_at, &k);
}

int store_version(struct store *s, const char *vkey, size_t n, uint64_t *version)
{
	struct bmap_ent *e = bmap_find(&s->run_aggs, vkey, n);
	if (e) {
		*version = e->v[0];
		return 0;
	}
	uint64_t h1, h2, off = STORE_NONE, v = 0;
	store_key_hash(vkey, n, &h1, &h2);
	for (int pass = 0; pass < 2; pass++) {
		if (store_index_agg(s, h1, h2, &off, &v) != 0) {
			v = 0;
			break;
		}
		if (s->fresh)
			break;
		int ok;
		if (off == STORE_NONE) {
			if (store_load_base(s) < 0)
				return -1;
			ok = store_base_version(&s->base, vkey, n) == v;
		} else {
			ok = store_line_has(s, off, F_KEY, vkey, n, &v);
		}
		if (ok)
			break;
		if (pass == 1 || store_index_scan(s) < 0) {
			ev_warn("%s: the index disagrees with the store and cannot be rebuilt", s->o.path);
			return -1;
		}
		/* the staged lines are already in run_aggs and stj */
	}
	e = bmap_get(&s->run_aggs, vkey, n, NULL);
	e->v[0] = v;
	*version = v;
	return 0;
}

int store_stage(struct store *s, const char *line, size_t len, const char *idkey, size_t idn,
                const char *akey, size_t an, uint64_t version)
{
	struct jrec r = {0};
	r.seq = ++s->seq;
	r.off = s->size + s->pend.len;
	r.len = len + 1;
	r.version = version;
	if (idkey) {
		strset_add(&s->run_ids, idkey, idn);
		r.idh = store_id_hash(idkey, idn);
	}
	if (akey) {
		bmap_get(&s->run_aggs, akey, an, NULL)->v[0] = version;
		store_key_hash(akey, an, &r.kh1, &r.kh2);
	}
	size_t at = s->pend.len;
	buf_add(&s->pend, line, len);
	buf_addc(&s->pend, '\n');
	r.lh = store_line_hash(s->pend.p + at, len + 1);
	store_rec_check(&r);
	s->stj = xgrow(s->stj, &s->capstj, s->nstj + 1, sizeof *s->stj);
	s->stj[s->nstj++] = r;
	if (s->o.hold)
		return 0;
	if (s->o.fsync == STORE_FSYNC_ALWAYS && s->fd >= 0 && !s->o.dry_run)
		return store_flush(s);
	if (s->pend.len >= (s->o.fsync == STORE_FSYNC_NEVER ? NEVER_BYTES : BATCH_BYTES))
		return store_flush(s);
	return 0;
}

static void echo(struct store *s)
{
	if (s->o.echo) {
		wfile_write(s->o.echo, s->pend.p, s->pend.len);
		wfile_flush(s->o.echo);
	}
}

int store_flush(struct store *s)
{
	if (!s->pend.len)
		return 0;
	if (s->fd < 0 || s->o.dry_run) {
		echo(s);
		s->appended += s->nstj;
		buf_reset(&s->pend);
		s->nstj = 0;
		return 0;
	}
	uint64_t pre = s->size;
	if (store_write_all(s->fd, s->pend.p, s->pend.len) < 0 ||
	    (s->o.fsync != STORE_FSYNC_NEVER && fdatasync(s->fd) < 0)) {
		int e = errno;
		int back = ftruncate(s->fd, (off_t)pre) == 0;
		if (back && s->o.fsync != STORE_FSYNC_NEVER)
			fdatasync(s->fd);
		errno = e;
		ev_warn_errno("%s: cannot append %zu event%s%s", s->o.path, s->nstj, s->nstj == 1 ? "" : "s",
		              back ? " (store left as it was)" : " (and the store could not be truncated back)");
		buf_reset(&s->pend);
		s->nstj = 0;
		s->seq = s->committed_seq;
		return EV_IO;
	}
	s->size += s->pend.len;
	for (size_t i = 0; i < s->nstj; i++)
		store_apply(s, &s->stj[i]);
	store_index_journal(s, s->stj, s->nstj);
	echo(s);
	s->appended += s->nstj;
	buf_reset(&s->pend);
	s->nstj = 0;
	return 0;
}

void store_discard(struct store *s)
{
	buf_reset(&s->pend);
	s->nstj = 0;
	s->seq = s->committed_seq;
}

int store_close(struct store *s)
{
	int rc = 0;
	if (!s->o.hold)
		rc = store_flush(s);
	else
		store_discard(s);
	if (s->fd >= 0 && !s->o.dry_run && (s->need_snapshot || s->njournal > STORE_JOURNAL_MAX))
		store_index_write(s);
	store_index_drop(s);
	if (s->fd >= 0 && close(s->fd) < 0 && rc == 0) {
		ev_warn_errno("%s: close", s->o.path);
		rc = EV_IO;
	}
	store_unlock(s->lockfd);
	store_base_free(&s->base);
	strset_free(&s->run_ids);
	bmap_free(&s->run_aggs);
	buf_free(&s->pend);
	buf_free(&s->line);
	buf_free(&s->scratch);
	json_doc_free(&s->doc);
	free(s->stj);
	free(s->idxpath);
	free(s);
	return rc;
}

