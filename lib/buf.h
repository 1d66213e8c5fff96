/*
 * buf.h — a growable byte buffer.  Always NUL-terminated after its
 * contents (so it can be handed to C string functions), but may also hold
 * NUL bytes; len is the truth.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

struct buf {
	char *p;
	size_t len, cap;
};

void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void buf_reset(struct buf *b) { b->len = 0; if (b->p) b->p[0] = '\0'; }
void buf_free(struct buf *b);
/* Append the whole file at path (a small one: rules, checkpoints).  0, or
 * -1 with errno set (the buffer then holds what was read). */
int buf_read_file(struct buf *b, const char *path);

#endif
