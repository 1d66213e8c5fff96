/*
 * strset.h — a set of byte strings (a bmap without values), for ids seen
 * (evquery --trace).  Members are copied into the set.
 *
 * Also the value keys the family agrees on: json_value_key() turns a JSON
 * value into bytes such that two values have the same key exactly when
 * they are the same JSON value ("42" and 42 differ); json_key_part() and
 * json_composite_key() join several into one key (group keys).
 */
#ifndef STRSET_H
#define STRSET_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bmap.h"
#include "buf.h"
#include "json.h"

struct strset {
	struct bmap m;
};

/* 1 if added, 0 if it was there. */
int strset_add(struct strset *s, const void *p, size_t n);
int strset_has(const struct strset *s, const void *p, size_t n);
void strset_free(struct strset *s);

/* Append the key bytes of value t (JNONE counts as null): a string as 's'
 * and its unescaped bytes, anything else as 'j' and its compact JSON. */
void json_value_key(const struct jdoc *d, uint32_t t, struct buf *out);

/* Composite keys (a group key over several values): each part is a value
 * key prefixed by its length (4 bytes), so two sequences of values have
 * the same key exactly when they are the same JSON values in order. */
/* A part's length goes in front of it once its bytes are known. */
static inline size_t json_key_part_open(struct buf *out)
{
	uint32_t len = 0;
	size_t at = out->len;
	if (at + sizeof len + 1 > out->cap)
		buf_reserve(out, sizeof len);
	memcpy(out->p + at, &len, sizeof len);
	out->len += sizeof len;
	out->p[out->len] = '\0';
	return at;
}
static inline void json_key_part_close(struct buf *out, size_t at)
{
	uint32_t len = (uint32_t)(out->len - at - sizeof len);
	memcpy(out->p + at, &len, sizeof len);
}
/* Append the part of value t (JNONE counts as null); inline, as it is on
 * every event's path. */
static inline void json_key_part(const struct jdoc *d, uint32_t t, struct buf *out)
{
	size_t at = json_key_part_open(out);
	json_value_key(d, t, out);
	json_key_part_close(out, at);
}
/* Append the part of the JSON string whose unescaped bytes are s. */
void json_key_part_str(const char *s, size_t n, struct buf *out);
/* Append the parts of the elements of array arr (up to max of them, and
 * their compact JSON texts to cells, offsets in coff[], when cells is not
 * NULL); returns how many elements arr has. */
size_t json_composite_key(const struct jdoc *d, uint32_t arr, size_t max, struct buf *out,
                          struct buf *cells, uint32_t *coff);

/* The --shard hash: FNV-1a 64 of a string's unescaped UTF-8 bytes, or of
 * any other value's compact JSON text (null, and missing, as "null"). */
uint64_t json_shard_hash(const struct jdoc *d, uint32_t t, struct buf *scratch);

#endif
