/*
 * store_tail.c — a store's torn tail: finding an unterminated last line
 * (what a writer killed mid-append leaves) and, with --repair, moving it
 * aside.
 *
 * Guarantees: the check reads backwards from the end in 64 KiB chunks, so
 * it costs one read for a whole store.  The repair never loses bytes: the
 * torn bytes are written to FILE.torn.OFFSET (a new file, O_EXCL, with a
 * ".N" suffix when that name is taken), fsynced with its directory, and
 * only then is the store truncated and fsynced.
 */
#include "store_int.h"
#include "atomic.h"
#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int store_tail_check(int fd, uint64_t *off)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	uint64_t size = (uint64_t)st.st_size;
	if (size == 0)
		return 0;
	char c;
	if (input_pread(fd, &c, 1, size - 1) != 1)
		return -1;
	if (c == '\n')
		return 0;
	char chunk[65536];
	uint64_t end = size;
	while (end > 0) {
		size_t n = end < sizeof chunk ? (size_t)end : sizeof chunk;
		if (input_pread(fd, chunk, n, end - n) != (ssize_t)n)
			return -1;
		for (size_t i = n; i-- > 0;)
			if (chunk[i] == '\n') {
				*off = end - n + i + 1;
				return 1;
			}
		end -= n;
	}
	*off = 0;
	return 1;
}

int store_repair(const char *store, int fd, uint64_t off)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	uint64_t size = (uint64_t)st.st_size;
	char *name = xmalloc(strlen(store) + 64);
	int tfd = -1;
	for (int k = 0; k < 1000 && tfd < 0; k++) {
		if (k == 0)
			sprintf(name, "%s.torn.%" PRIu64, store, off);
		else
			sprintf(name, "%s.torn.%" PRIu64 ".%d", store, off, k);
		tfd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (tfd < 0 && errno != EEXIST)
			break;
	}
	if (tfd < 0) {
		free(name);
		return -1;
	}
	char chunk[65536];
	int rc = 0;
	for (uint64_t at = off; at < size && rc == 0;) {
		size_t n = size - at < sizeof chunk ? (size_t)(size - at) : sizeof chunk;
		if (input_pread(fd, chunk, n, at) != (ssize_t)n || store_write_all(tfd, chunk, n) < 0)
			rc = -1;
		at += n;
	}
	if (rc == 0 && fsync(tfd) < 0)
		rc = -1;
	int e = errno;
	if (close(tfd) < 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && fsync_dir_of(name) < 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && (ftruncate(fd, (off_t)off) < 0 || fsync(fd) < 0)) {
		rc = -1;
		e = errno;
	}
	free(name);
	errno = e;
	return rc;
}
