/*
 * atomic.h — replacing a file so that a crash at any moment leaves either
 * the old contents or the new, never a mix: write a temporary file in the
 * same directory (created with O_EXCL, permissions from the umask), fsync
 * it, rename it over the target, fsync the directory.
 *
 * Used for evsnap -o, compaction (store, snapshots, FILE.base) and every
 * --state checkpoint.  Writes go through a struct wfile, so a write error
 * stops the tool with status 5; the temporary file ".NAME.tmp.PID" is then
 * removed by atomic_cleanup() registered with atexit.
 */
#ifndef ATOMIC_H
#define ATOMIC_H

#include "wfile.h"

struct atomic_file {
	char *path;      /* the target */
	char *tmp;       /* the temporary file */
	struct wfile *w; /* write here */
	struct atomic_file *next; /* open ones, for cleanup at exit */
};

/* NULL with errno set when the temporary file cannot be created. */
struct atomic_file *atomic_open(const char *path);
/* fsync, rename over the target, fsync the directory; 0 or -1 (errno).
 * The handle is freed either way. */
int atomic_commit(struct atomic_file *a);
/* Remove the temporary file and free the handle. */
void atomic_abort(struct atomic_file *a);
/* fsync the directory that holds path; 0 or -1. */
int fsync_dir_of(const char *path);

#endif
