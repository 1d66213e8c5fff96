/*
 * store_io.c — the small things every store module needs: the names of the
 * files beside a store, whole writes and reads on a file descriptor (EINTR
 * retried; a short read only at end of file).
 */
#include "store_int.h"
#include "ev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *store_file(const char *store, const char *suffix)
{
	size_t na = strlen(store), nb = strlen(suffix);
	char *s = xmalloc(na + nb + 1);
	memcpy(s, store, na);
	memcpy(s + na, suffix, nb + 1);
	return s;
}

int store_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = EIO;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

