/*
 * jwrite.h — writing the records a tool creates.  Key order is the
 * caller's (fixed and documented per tool); strings are escaped minimally
 * (quote, backslash, control characters; UTF-8 as is); computed numbers
 * are integers when integral and otherwise the shortest text that reads
 * back as the same double (0.1, not 0.10000000000000001).  Values copied
 * from an event are appended as their input text (json_write_compact).
 */
#ifndef JWRITE_H
#define JWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"

void jw_string(struct buf *b, const char *p, size_t n);
static inline void jw_cstring(struct buf *b, const char *s);
void jw_int(struct buf *b, int64_t v);
void jw_uint(struct buf *b, uint64_t v);
/* NaN and infinities become null. */
void jw_double(struct buf *b, double v);
/* RFC 4648 base64 of p[0..n), no quotes. */
void jw_base64(struct buf *b, const void *p, size_t n);

/*
 * Append object obj of d without its closing brace, leaving out the
 * members named in drop[0..ndrop) (plain names, compared unescaped), so
 * the caller can append members and close it.  When nothing is left out
 * the bytes are the input's, exactly; otherwise the members kept are
 * copied byte for byte, joined by commas.  Returns the number of members
 * written (0: the caller appends its first member without a comma).
 */
size_t jw_object_except(struct buf *b, const struct jdoc *d, uint32_t obj,
                        const char *const *drop, size_t ndrop);

#include <string.h>
static inline void jw_cstring(struct buf *b, const char *s) { jw_string(b, s, strlen(s)); }

#endif
