/*
 * jtree.h — mutable JSON values for state that is built up event by event
 * (the fold engine of evreplay and evsnap).
 *
 * A value is one of:
 *   JT_NONE  nothing (a slot not yet filled; written as null)
 *   JT_RAW   compact JSON text of any type, kept exactly as copied from an
 *            input (numbers keep their text, strings their escapes) or as
 *            written by jwrite for a computed number
 *   JT_OBJ   an ordered object: members in insertion order, keys kept as
 *            their quoted input text (so writing a value back gives the
 *            bytes it was read from), compared by their unescaped bytes
 *   JT_ARR   an array of values
 * Containers are opened lazily: a value copied from an event stays one
 * JT_RAW blob until an operation has to look inside it (jt_open), and then
 * only one level is opened.  Writing never depends on how far a value was
 * opened: jt_write of an opened value gives the text it was opened from.
 *
 * Member keys are interned in a struct jt_ctx (one copy of "customer_id"
 * for all aggregates), and values reuse their buffers when replaced, so
 * folding an event into an existing state seldom allocates.
 */
#ifndef JTREE_H
#define JTREE_H

#include <stddef.h>
#include <stdint.h>

#include "bmap.h"
#include "buf.h"
#include "json.h"
#include "path.h"

enum jt_kind { JT_NONE = 0, JT_RAW, JT_OBJ, JT_ARR };

struct jt_mem;

struct jt {
	uint8_t kind;   /* enum jt_kind */
	uint8_t type;   /* JT_RAW: the enum jtype of the text */
	uint32_t n;     /* RAW: bytes; OBJ: members; ARR: elements */
	uint32_t cap;
	union {
		char *raw;
		struct jt_mem *mem;
		struct jt *el;
	} u;
};

struct jt_mem {
	const char *key; /* quoted key text, interned in the ctx */
	uint32_t klen;
	uint8_t kesc;    /* the key text has escapes */
	struct jt v;
};

/* Interned keys and scratch space shared by all values of one fold. */
struct jt_ctx {
	struct bmap keys;    /* interned key texts */
	struct jdoc doc;     /* for opening raw containers */
	struct buf scratch;  /* compact copies, key comparisons */
	struct buf scratch2;
};

void jt_ctx_free(struct jt_ctx *c);

void jt_free(struct jt *v);

/* The JSON type of a value (J_NULL for JT_NONE). */
int jt_type(const struct jt *v);

/* v = the compact text p[0..n) of a value of the given type. */
void jt_set_raw(struct jt *v, const char *p, size_t n, int type);
/* v = value t of document d, copied as compact text. */
void jt_set_tok(struct jt_ctx *c, struct jt *v, const struct jdoc *d, uint32_t t);
/* v = value t of d, with one level opened when it is an object. */
void jt_set_tok_open(struct jt_ctx *c, struct jt *v, const struct jdoc *d, uint32_t t);
/* An empty object. */
void jt_set_object(struct jt *v);

/* Open a raw object or array one level (no effect on others). */
void jt_open(struct jt_ctx *c, struct jt *v);

/* Member of an opened object by quoted key text, or NULL. */
struct jt *jt_get(struct jt_ctx *c, struct jt *obj, const char *key, size_t klen);
/* The member, added (JT_NONE, at the end) when absent. */
struct jt *jt_put(struct jt_ctx *c, struct jt *obj, const char *key, size_t klen);
/* Remove a member; 1 if it was there. */
int jt_del(struct jt_ctx *c, struct jt *obj, const char *key, size_t klen);
/* Append an element to an opened array and return it (JT_NONE). */
struct jt *jt_push(struct jt *arr);

/* RFC 7386 JSON merge patch of target by value t of d. */
void jt_merge_patch(struct jt_ctx *c, struct jt *target, const struct jdoc *d, uint32_t t);

/*
 * Follow path p from root.  Objects are entered by key (a digit segment
 * too), arrays by index.  With create, missing or null members on the way
 * become empty objects and the last one is added (JT_NONE); without it, a
 * missing step gives *out = NULL.  -1, with a reason in why, when a step
 * meets a value that cannot be entered (a number, a string, an index past
 * the end of an array); nothing has been changed then.
 */
int jt_walk(struct jt_ctx *c, struct jt *root, const struct path *p, int create,
            struct jt **out, char *why, size_t whylen);

/* Append v as compact JSON. */
void jt_write(const struct jt *v, struct buf *out);

#endif
