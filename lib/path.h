/*
 * path.h — field paths, as options and expressions write them:
 *   a.b.c              members
 *   items.0.sku        an array index (a digit segment on an object is a key)
 *   payload["odd.key"] a quoted member (JSON string syntax inside)
 *   /a/b~1c            RFC 6901 JSON Pointer (options only)
 *   answers[]          every element of an array (options that take
 *                      several values only: -s, -g, -a; see path_each)
 * A path that does not resolve is "missing" (JNONE), never an error.
 */
#ifndef PATH_H
#define PATH_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

struct pseg {
	char *key;    /* the member name, unescaped, NUL-terminated */
	size_t keylen;
	int64_t index; /* >= 0 when the segment is all digits; else -1 */
	/* Written quoted (["a.b"]) or in a JSON Pointer: matched exactly,
	 * never joined with its neighbours into a dotted member name. */
	unsigned char exact;
	/* "[]": every element of the array reached so far (key ""). */
	unsigned char each;
	/* Written [-N] (expressions): index counts from the end of an
	 * array, index = N; on an object, key "-N" names a member. */
	unsigned char fromend;
};

struct path {
	struct pseg *seg;
	size_t n, cap;
	char *text; /* as the user wrote it: column names use this */
	size_t neach; /* "[]" segments: read with path_each, not path_lookup */
	/* Bookkeeping, not part of the path's value: path_lookup sets
	 * PATH_LOOKED on every lookup and PATH_FOUND when the path resolved
	 * (to any value, null included), so a tool can tell a path the user
	 * mistyped from one that is sometimes null (ev_watch_path). */
	unsigned seen;
};

enum { PATH_LOOKED = 1, PATH_FOUND = 2 };

/* Parse an option path.  0 ok; -1 with a message in err.  "[]" is
 * refused (single-value options: --key-field, by, --on, --queue ...). */
int path_parse(struct path *p, const char *s, char *err, size_t errlen);
/*
 * The one path grammar, with flags: PATH_EACH lets "[]" follow a segment
 * (options that take every value: -s, -g, -a); without it "[]" is an
 * error that says where it belongs, worded for an expression when
 * PATH_EXPR is given ("use any() or all()").  path_parse is flags 0.
 */
enum { PATH_EACH = 1, PATH_EXPR = 2 };
int path_parse_flags(struct path *p, const char *s, unsigned flags, char *err, size_t errlen);
void path_push(struct path *p, const char *key, size_t keylen);
/* A quoted member (["0"], ["a.b"]): a key, never an index, matched
 * exactly. */
void path_push_quoted(struct path *p, const char *key, size_t keylen);
void path_free(struct path *p);

/*
 * Expressions (evtools-expr(7)) read their paths with this, so the path
 * grammar is written once.  The path at the start of s[0..n): with cont
 * 0, "." alone (the whole event; no segment) or an optional leading '.'
 * and a first segment; with cont 1, only the segments that continue a
 * name ($x.a, f(x)["b"]): nothing when s starts with neither '.' nor
 * '['.  Segments: .name (letters, digits, '_'), ["quoted"] or ['quoted']
 * (path_quoted), [N], and [-N] counted from the end of an array; blanks
 * are allowed inside the brackets.  '-' and every other character end
 * the path; there are no JSON Pointers ('/' is division) and no [] (each
 * element: expressions use any() and all()).  A path without a leading
 * '.' starts with a name the caller has checked (not a digit).
 * Appends the segments to p (not p->text) and returns the bytes taken;
 * -1 on an error, with err and *errpos (the byte of s it is about).
 */
long path_scan_expr(struct path *p, const char *s, size_t n, int cont, size_t *errpos, char *err,
                    size_t errlen);
/*
 * A quoted string at s[0] (" or '): JSON escapes, and \' inside single
 * quotes; any other byte stands for itself.  The decoded bytes are
 * appended to out.  Returns the bytes taken, or -1 with err and *errpos
 * ("unterminated string", "bad escape '\q' in string", ...).
 */
long path_quoted(const char *s, size_t n, struct buf *out, size_t *errpos, char *err, size_t errlen);
/* Split a comma-separated list of paths (-s, -g, --require, -t), appending
 * NUL-terminated copies to *list; a comma inside quotes
 * (payload["a,b"]), brackets or parentheses does not split, and blanks
 * around commas are dropped ('a, b' is "a" and "b"). */
void path_split_list(const char *s, char ***list, size_t *n);

/*
 * One item of a column list (-s, -g), by the rule of evtools(7): it is
 * NAME=BODY only when it does not start with / . @ [ ( and the text
 * before its first '=' holds no [ " ' (.  Sets *name (allocated; NULL
 * when unnamed) and *body (inside item, blanks after '=' skipped).
 * Returns PATH_ITEM_PATH (body is to be parsed with path_parse),
 * PATH_ITEM_EXPR (body starts with '(': a computed column), or -1 with
 * err set when the body is not a path ("'payload.total * 2' is not a
 * path (computed columns are NAME=(EXPR))").
 */
enum { PATH_ITEM_PATH = 1, PATH_ITEM_EXPR = 2 };
int path_item(const char *item, char **name, const char **body, char *err, size_t errlen);

/*
 * Resolve from token root (normally 0, the event).  JNONE if missing.
 * Updates p->seen (the only thing it writes).
 *
 * Member names that contain dots (Zeek "id.orig_h", ECS "log.level" next
 * to an object "log"): at each level the nested member is tried first;
 * when the rest of the path then misses, members whose names join the
 * next segments with dots are tried, shortest first ("a.b", then
 * "a.b.c"), each followed by the rest of the path, backtracking until one
 * resolves.  Only segments written bare take part (not quoted ones or
 * pointer segments).  A path that resolves the plain way costs what it
 * always did; the search runs only on a miss, and visits each token of
 * the document at most once.
 */
uint32_t path_lookup(const struct jdoc *d, uint32_t root, const struct path *p);

/*
 * Every value of a path with "[]" segments, in document order, each
 * element of an array in turn (several "[]" multiply, duplicates kept):
 * fn(arg, token) once per value.  A part that is missing, or not an
 * array where "[]" stands, gives nothing (so does a missing value after
 * it).  A path without "[]" gives its one value, when present.  Returns
 * how many values were given.  The path is "found" (*found, when not
 * NULL, and the PATH_FOUND bookkeeping of ev_watch_path) when it gave a
 * value, or when nothing was missing: every "[]" met an array, and those
 * were empty.  path_lookup on a path with "[]" is JNONE.
 */
size_t path_each(const struct jdoc *d, uint32_t root, const struct path *p,
                 void (*fn)(void *arg, uint32_t t), void *arg, int *found);

#endif
