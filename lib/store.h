/*
 * store.h — the event store: an append-only NDJSON file whose line order is
 * append order, with its lock, its base, its torn-tail check and a sidecar
 * index.  evwrite appends through it; evsnap --compact rewrites it.
 *
 * Files beside the store FILE:
 *   FILE.lock  every writer and every compaction holds an exclusive flock on
 *              it for its whole run and opens FILE only once it has it.  It
 *              is created when missing and never renamed or removed, so a
 *              compaction that renames a new FILE into place cannot swallow
 *              an append made through the old one.
 *   FILE.base  one JSON object and a newline, replaced atomically (atomic.h):
 *                {"last_seq":N,"versions":[[KEY,V],...]}
 *              N is the seq of the last event ever archived out of FILE;
 *              each pair is an archived aggregate's key (its JSON value, as
 *              compact JSON text: "order-1", 42, ...) and its last version.
 *              Numbering continues from it: the next seq is
 *              max(N, seqs in FILE) + 1, an aggregate's next version
 *              max(V, its versions in FILE) + 1.  Absent = {"last_seq":0,...}.
 *   FILE.idx   the sidecar index (rebuildable, never the source of truth):
 *              see store_index.c.  It is checked against FILE on every open (the
 *              file's identity, its size, the bytes of its last line, the
 *              base's identity and the field mapping) and rebuilt by a scan
 *              when it does not match; what it says about an aggregate or a
 *              duplicate id is confirmed against the line it points at.
 *   FILE.torn.OFFSET  the bytes of a torn last line moved aside by --repair.
 *
 * Numbering: seq is the "seq" member of a line (a positive integer), or the
 * previous seq + 1 when a line lacks one; an aggregate's version is the
 * mapped version field, or its previous version + 1.  Keys and ids are
 * compared as JSON values (strset.h json_value_key: "42" and 42 differ).
 *
 * Compaction (lib/compact.h, run by evsnap --compact) holds the lock
 * throughout and writes the base before it rewrites the store: a crash
 * between the two leaves a base that is ahead of nothing, and numbering
 * takes the max, so nothing restarts.
 *
 * The modules: store_lock.c (the lock), store_tail.c (torn tail and
 * --repair), store_base.c (FILE.base), store_index.c (FILE.idx),
 * store_scan.c (reading store lines), store.c (open, append, fsync);
 * store_int.h is what they share.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "bmap.h"
#include "buf.h"
#include "event.h"
#include "json.h"
#include "wfile.h"

/* The seq of a store line parsed into d: its "seq" member when that is a
 * positive integer, else prev + 1 (prev: the seq of the line before). */
uint64_t store_line_seq(const struct jdoc *d, uint64_t prev);

/* ---- lock ----------------------------------------------------------- */

/*
 * Take the exclusive flock on STORE.lock (created if missing, permissions
 * from the umask), waiting at most timeout_us microseconds (0: do not
 * wait).  Returns the lock's fd (keep it open: closing it releases the
 * lock), or -1 with errno = ETIMEDOUT when the lock was not had in time
 * (exit 4) or another errno when the lock file cannot be opened (exit 5).
 */
int store_lock(const char *store, int64_t timeout_us);
void store_unlock(int lockfd);

/* ---- torn tail ------------------------------------------------------ */

/*
 * Does the store open on fd end in a newline?  0: yes, or it is empty;
 * 1: torn, *off = the byte offset where its unterminated last line starts
 * (just after the last newline, or 0); -1: read error (errno).
 */
int store_tail_check(int fd, uint64_t *off);
/*
 * Move the bytes from off to the end of the store (path, open on fd for
 * writing) to PATH.torn.OFFSET (created with O_EXCL, fsynced), then
 * truncate the store to off and fsync it and its directory.  0, or -1 with
 * errno (nothing truncated unless the torn bytes are safely elsewhere).
 */
int store_repair(const char *store, int fd, uint64_t off);

/* ---- FILE.base ------------------------------------------------------ */

struct store_basever {
	char *json;   /* the key as compact JSON text */
	size_t jsonlen;
	char *vkey;   /* its json_value_key bytes */
	size_t vkeylen;
	uint64_t version;
};

struct store_base {
	uint64_t last_seq;
	struct store_basever *v; /* in the order added or read */
	size_t n, cap;
	struct bmap map;         /* vkey -> v[0] = its index in v */
};

/* Read STORE.base into b (zeroed first; an absent file is an empty base).
 * 0, or -1 with a message in err (unreadable or malformed). */
int store_base_read(const char *store, struct store_base *b, char *err, size_t errlen);
/* Record that aggregate key t of d (a value token; JNONE is null) was
 * archived at version v: the base keeps the larger version. */
void store_base_set(struct store_base *b, const struct jdoc *d, uint32_t t, uint64_t v);
/* The same with the key given as value-key bytes and compact JSON text. */
void store_base_set_key(struct store_base *b, const char *vkey, size_t vn, const char *json,
                        size_t jn, uint64_t v);
/* An aggregate's archived version by its value key; 0 when absent. */
uint64_t store_base_version(const struct store_base *b, const char *vkey, size_t n);
/* Replace STORE.base atomically.  0, or -1 with errno. */
int store_base_write(const char *store, const struct store_base *b);
void store_base_free(struct store_base *b);

/* ---- the index ------------------------------------------------------ */

/* Remove STORE.idx (after a compaction rewrote the store; an absent index
 * is fine).  Call with the lock held.  0, or -1 with errno. */
int store_index_invalidate(const char *store);
/* Rebuild STORE.idx now by a scan of the store (and its base), under the
 * lock the caller holds, for the given field mapping.  Optional: the next
 * writer rebuilds a missing or stale index by itself.  0, or -1 with a
 * message in err. */
int store_index_rebuild(const char *store, const struct fieldmap *fm, char *err, size_t errlen);

/* ---- appending (evwrite) -------------------------------------------- */

enum store_fsync { STORE_FSYNC_BATCH = 0, STORE_FSYNC_ALWAYS, STORE_FSYNC_NEVER };

struct store_opts {
	const char *path;         /* NULL: no file; number as an empty store */
	const struct fieldmap *fm;
	int64_t lock_timeout_us;
	enum store_fsync fsync;
	int repair;               /* move a torn tail aside instead of failing */
	int dry_run;              /* never write the store */
	int hold;                 /* stage everything until store_flush (--atomic) */
	struct wfile *echo;       /* lines are written here once durable */
};

struct store;

/*
 * Lock, open (creating an empty store), check the tail, load or rebuild
 * the index.  Returns 0 with *sp set, or an exit status (EV_CONFLICT on a
 * lock timeout, EV_IO otherwise) after printing the reason.
 */
int store_open(struct store **sp, const struct store_opts *o);

/* The seq the next staged line gets. */
uint64_t store_next_seq(const struct store *s);
/* An aggregate's last version (archived, stored or staged) by its value
 * key; 0 for a new aggregate.  Returns -1 (message printed) on an I/O
 * error while confirming it against the store, else 0. */
int store_version(struct store *s, const char *vkey, size_t n, uint64_t *version);
/* Is an event with this id (value key) stored or staged?  1, 0, or -1 on
 * an I/O error (message printed). */
int store_has_id(struct store *s, const char *vkey, size_t n);
/*
 * Stage one line (without its newline) holding the event with id idkey
 * (NULL: none), aggregate akey, at version and seq = store_next_seq().
 * Staged lines are written in order, whole, by store_flush, which stage
 * calls itself when the batch is full, or at once with --fsync always,
 * unless hold is set.  0, or EV_IO (message printed).
 */
int store_stage(struct store *s, const char *line, size_t len, const char *idkey, size_t idn,
                const char *akey, size_t an, uint64_t version);
/* Append what is staged: whole lines, fsync as the policy says, then echo.
 * On a write or fsync error the store is truncated back to its size before
 * the batch and EV_IO is returned (message printed, nothing echoed). */
int store_flush(struct store *s);
/* Forget what is staged (a failed --atomic unit).  The store object is
 * then only good for store_close. */
void store_discard(struct store *s);
/* Lines appended through s so far (echoed). */
uint64_t store_appended(const struct store *s);
/* Update the index, release the lock, free.  0 or EV_IO. */
int store_close(struct store *s);

#endif
