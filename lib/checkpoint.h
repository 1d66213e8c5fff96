/*
 * checkpoint.h — where a resumable reader stopped (evproject --state,
 * evquery --follow --state; evcep will use it too), saved crash-safely.
 *
 * A position is the last `seq` read when events carry one (event_seq in
 * event.h says what a seq is), and, for a
 * regular file, the byte offset reached plus the file's identity: device,
 * inode, and a checksum of bytes before the offset (its first and last
 * 64 KiB).  On resume (ckpt_check):
 * - same file, not shorter, same checksum: continue at the offset;
 * - otherwise, with a seq: read from the start and skip events whose seq
 *   is at or below the saved one — so a compaction (the store rewritten
 *   keeping each event's seq) is harmless;
 * - otherwise (a byte-offset position under a file that shrank, was
 *   replaced or was rewritten): CK_CHANGED, with the reason.  The caller
 *   reports it rather than mixing old state with other data.
 *
 * File format: one JSON header line
 *   {"checkpoint":1,"seq":N|null,"file":{"dev":D,"ino":I,"offset":O,"cksum":"HEX"}|null}
 * then the tool's own lines, opaque here.  Written through atomic.h: a
 * crash leaves the old checkpoint or the new one.
 */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include <stdint.h>

#include "atomic.h"
#include "buf.h"
#include "input.h"
#include "json.h"

struct ckpt {
	int has_seq;
	int64_t seq;        /* last seq read */
	int has_file;
	uint64_t dev, ino;
	uint64_t offset;    /* bytes consumed: the next line starts here */
	uint64_t cksum;
};

enum ckpt_resume {
	CK_FRESH,   /* nothing saved: read from the start */
	CK_SEEK,    /* same file: continue at c->offset */
	CK_SEQ,     /* read from the start, skip seq <= c->seq */
	CK_CHANGED  /* byte-offset position no longer valid */
};

/* 1 loaded (the tool's lines in body), 0 no such file, -1 unreadable or
 * malformed (reason in err). */
int ckpt_load(const char *path, struct ckpt *c, struct buf *body, char *err, size_t errlen);

/* Record the position of regular file fd at offset (identity, checksum). */
int ckpt_mark_file(struct ckpt *c, int fd, uint64_t offset);

/* How to resume reading fd (may be -1 or a non-regular file). */
enum ckpt_resume ckpt_check(const struct ckpt *c, int fd, char *why, size_t whylen);

/* Start writing path: the header is written; the tool then writes its
 * lines to a->w and calls ckpt_commit.  Dies (status 5) on failure. */
struct atomic_file *ckpt_begin(const char *path, const struct ckpt *c);
void ckpt_commit(struct atomic_file *a);


/*
 * A reader resuming from a checkpoint: the one implementation behind
 * ev_run's --state/--follow mode (cli.c) and evcep's resume_run.
 *   ckpt_start   positions a freshly opened input from c: seeks (CK_SEEK),
 *                or reads from the start skipping seq <= c->seq (CK_SEQ);
 *                CK_CHANGED (why says why) moves nothing, and the caller
 *                reports it or, after a file was replaced, reads it all.
 *   ckpt_admit   per event: take it, skip it (an earlier run read it), or
 *                refuse it (no seq where need_seq is set: a stream that
 *                cannot be positioned by byte offset).
 *   ckpt_mark    the position reached, into c, for the next save.
 */
struct ckpt_reader {
	int skipping;       /* skip events with seq <= skip_seq */
	int64_t skip_seq;
	int have_seq;       /* max_seq: the largest seq taken (or saved) */
	int64_t max_seq;
	int need_seq;       /* set by the caller */
};
enum ckpt_resume ckpt_start(const struct ckpt *c, struct ckpt_reader *rd, struct input *in, char *why,
                            size_t whylen);
enum ckpt_admit { CK_TAKE, CK_SKIP, CK_NO_SEQ };
/* The reason a CK_NO_SEQ event is rejected with. */
extern const char ckpt_no_seq[];
enum ckpt_admit ckpt_admit(struct ckpt_reader *rd, const struct jdoc *d);
/* fd: the input's descriptor when it is a regular file, else -1. */
void ckpt_mark(struct ckpt *c, const struct ckpt_reader *rd, int fd, uint64_t offset);

#endif
