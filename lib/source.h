/*
 * source.h — where to start reading a time-ordered file for a lower time
 * bound (--sorted): a binary search over the lines of a regular file.
 *
 * The search reads single lines with pread and never moves a reader.
 * Every line it looks at (a probe) is kept with its time, and each new
 * probe is checked against the others: two that contradict the order stop
 * the search (the caller then reads the whole file).  The first line is
 * always a probe, so a file that starts late (rotated, concatenated out of
 * order) is caught when any later probe is older.  Lines that are not
 * events with a time are stepped over here; the reading loop reports them
 * when (if) it reads them.  A failed pread is a read error, never an end
 * of file.
 *
 * Layer: beside input (it reads a file), using event for the time field.
 */
#ifndef SOURCE_H
#define SOURCE_H

#include <stdint.h>

#include "event.h"

struct src_probe {
	uint64_t off;
	int64_t t;
};

struct src_seek {
	uint64_t off;           /* start reading here (a line starts there) */
	int contradicted;       /* the order is broken: off is 0 */
	struct src_probe a, b;  /* then: a before b in the file, b older */
};

/* Search regular file fd of size bytes for the start of the events at or
 * after since: 0 with *out set, -1 on a read error (errno set). */
int src_seek_since(int fd, uint64_t size, const struct fieldmap *fm, int64_t since, struct src_seek *out);

#endif
