/*
 * path.h — field paths, as options and expressions write them:
 *   a.b.c              members
 *   items.0.sku        an array index (a digit segment on an object is a key)
 *   payload["odd.key"] a quoted member (JSON string syntax inside)
 *   /a/b~1c            RFC 6901 JSON Pointer (options only)
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
};

struct path {
	struct pseg *seg;
	size_t n, cap;
	char *text; /* as the user wrote it: column names use this */
	/* Bookkeeping, not part of the path's value: path_lookup sets
	 * PATH_LOOKED on every lookup and PATH_FOUND when the path resolved
	 * (to any value, null included), so a tool can tell a path the user
	 * mistyped from one that is sometimes null (ev_watch_path). */
	unsigned seen;
};

enum { PATH_LOOKED = 1, PATH_FOUND = 2 };

/* Parse an option path.  0 ok; -1 with a message in err. */
int path_parse(struct path *p, const char *s, char *err, size_t errlen);
void path_push(struct path *p, const char *key, size_t keylen);
void path_free(struct path *p);
/* Split a comma-separated list of paths (-s, -g, --require, -t), appending
 * NUL-terminated copies to *list; a comma inside quotes (payload["a,b"]),
 * () or [] does not split, and blanks around an item are dropped. */
void path_split_list(const char *s, char ***list, size_t *n);

/*
 * One item of a -s or -g list (evtools(7) Paths): it is NAME=REST when it
 * does not start with / . @ [ ( and the text before its first '=' holds
 * none of [ " ' ( ; then *name is a new string, else NULL.  *rest points
 * into s at what follows "NAME=" (or at s).
 */
void path_item_name(const char *s, char **name, const char **rest);
/* path_parse for an item of a list option: outside ["..."] a path holds no
 * blank and none of ( ) = " ' < > ! & | * + ? , { }, so that an expression
 * ("payload.total * 2", "lower(q)") is "'S' is not a path" (-1 with err),
 * never a path to a member of that name.  JSON Pointers are exempt. */
int path_parse_item(struct path *p, const char *s, char *err, size_t errlen);

/* Resolve from token root (normally 0, the event).  JNONE if missing.
 * Updates p->seen (the only thing it writes). */
uint32_t path_lookup(const struct jdoc *d, uint32_t root, const struct path *p);

#endif
