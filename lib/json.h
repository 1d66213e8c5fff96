/*
 * json.h — the validating JSON scanner every tool reads events with.
 *
 * json_parse() checks one line against RFC 8259 plus the evtools rules
 * (UTF-8 only, no raw NUL byte, no lone surrogate escape, no duplicate
 * key, bounded depth) and records every value as a token on a flat tape:
 * nothing is copied, unescaped or converted until somebody asks.  The
 * line's own bytes stay the source of truth, so a tool can pass an event
 * through or embed it byte for byte, and numbers keep their text.
 *
 * Tape layout: a value is one token; an object's token is followed by
 * key, value, key, value ... tokens (a key is a J_STR token); an array's by
 * its elements.  tok[i].next is the index just past value i and all its
 * children, so siblings are reached without looking inside.
 *
 * The tape lives in the struct jdoc and is reused from line to line; its
 * size is bounded by the line's length.  Lines are limited to 4 GiB.
 */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum jtype { J_NONE = 0, J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

#define JF_ESC 1 /* J_STR: contains backslash escapes */
#define JF_INT 2 /* J_NUM: integer syntax (no fraction, no exponent) */

#define JNONE UINT32_MAX /* "no such token": a missing path */
#define JSON_MAX_DEPTH 1000

struct jtok {
	uint32_t start; /* byte offset of the value (a string's opening quote) */
	uint32_t len;   /* bytes of the value, quotes and brackets included */
	uint32_t next;  /* index of the token after this value and its children */
	uint8_t type;   /* enum jtype */
	uint8_t flags;  /* JF_* */
};

struct jdoc {
	const char *text; /* the line (not owned, not NUL-terminated) */
	size_t len;
	struct jtok *tok;
	size_t ntok, cap;
	struct buf scratch; /* for duplicate-key checks of escaped keys */
};

struct jerr {
	char msg[200]; /* the reason, ready for "TOOL: FILE:LINE: reason" */
	size_t offset; /* byte offset in the line where it was noticed */
};

#define JSON_ANY 1 /* accept any JSON value at the top, not only an object */
/* A sequence of any JSON values separated by optional white space (jq's
 * input, --slurpfile): token 0 is an array of them, though its text is the
 * input as it is (write its elements, not token 0).  An empty input is an
 * empty array. */
#define JSON_SEQ 2

/* Parse text[0..len) into d.  0 on success, -1 with err filled. */
int json_parse(struct jdoc *d, const char *text, size_t len, int flags, struct jerr *err);
void json_doc_free(struct jdoc *d);

/* 1 if p[0..n) is valid UTF-8 (RFC 3629: no overlongs, no surrogates). */
int utf8_valid(const char *p, size_t n);
/* Offset of the first invalid byte, or n. */
size_t utf8_check(const char *p, size_t n);
/* Append code point cp (at most U+10FFFF) encoded as UTF-8. */
void utf8_put(struct buf *out, unsigned cp);

/* Object member lookup: the value token of key k (k[0..kn), unescaped), or JNONE. */
uint32_t json_get(const struct jdoc *d, uint32_t obj, const char *k, size_t kn);
/* Array element i, or JNONE. */
uint32_t json_index(const struct jdoc *d, uint32_t arr, size_t i);
/* Number of members or elements of a container (0 for others). */
size_t json_count(const struct jdoc *d, uint32_t t);

/*
 * The contents of a J_STR token, unescaped.  When the string has no
 * escapes *p points into the line and nothing is copied; otherwise the
 * decoded bytes are appended to scratch and *p points there (so the
 * pointer is valid until scratch is next reset or grown).
 */
void json_str(const struct jdoc *d, uint32_t t, struct buf *scratch, const char **p, size_t *n);
/* Decode a JSON string body (between the quotes, already validated). */
void json_unescape(const char *p, size_t n, struct buf *out);

/* Numbers.  Integer syntax within int64: *i set, returns 1.  Otherwise
 * (fraction, exponent, or an integer beyond 64 bits) *dbl set, returns 0. */
int json_num(const char *p, size_t n, int64_t *i, double *dbl);
int json_tok_num(const struct jdoc *d, uint32_t t, int64_t *i, double *dbl);
/* Token t (JNONE allowed) as a whole number in [lo, hi]: a JSON number in
 * integer syntax (no fraction, no exponent) that fits; 0 and *v set, else
 * -1.  The one reader of whole numbers from the tape (counters, seqs,
 * offsets and versions in states, indexes and events). */
static inline int json_tok_int(const struct jdoc *d, uint32_t t, int64_t lo, int64_t hi, int64_t *v)
{
	int64_t iv;
	double dv;
	/* json_num gives an integer for integer syntax only (no fraction,
	 * no exponent) */
	if (t == JNONE || d->tok[t].type != J_NUM || !json_tok_num(d, t, &iv, &dv) || iv < lo || iv > hi)
		return -1;
	*v = iv;
	return 0;
}
/* Compare two valid JSON number texts exactly by value (any size, any
 * precision: never through a double): -1, 0 or 1.  The one number
 * comparison of evtools; 1.0 == 1 == 1e0, -0 == 0. */
int json_num_cmp(const char *a, size_t an, const char *b, size_t bn);
/* Append a canonical text of a valid JSON number: two numbers get the same
 * text exactly when json_num_cmp calls them equal (1, 1.0, 1e0 and 10e-1
 * all give "1e1"), for hashing numbers by value. */
void json_num_key(const char *p, size_t n, struct buf *out);

/* Append value t as compact JSON: the input bytes minus insignificant
 * white space (strings and numbers exactly as written). */
void json_write_compact(const struct jdoc *d, uint32_t t, struct buf *out);

/* Deep equality of two values of (maybe different) documents: strings by
 * their unescaped bytes, numbers by value, objects regardless of order. */
int json_values_equal(const struct jdoc *a, uint32_t ta, const struct jdoc *b, uint32_t tb);
/* (not json_equal: that name is jansson's, and tools link both) */

/* Name of a type for messages: "object", "array", "string", ... */
const char *json_type_name(int type);

#endif
