/* path.c — field paths (see path.h). */
#include "path.h"
#include "buf.h"
#include "ev.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void path_push(struct path *p, const char *key, size_t keylen)
{
	p->seg = xgrow(p->seg, &p->cap, p->n + 1, sizeof *p->seg);
	struct pseg *s = &p->seg[p->n++];
	s->key = xmemdup(key, keylen);
	s->keylen = keylen;
	s->index = -1;
	s->exact = 0;
	s->each = 0;
	s->fromend = 0;
	if (keylen > 0 && keylen <= 18 && (key[0] != '0' || keylen == 1)) {
		int64_t v = 0;
		size_t i;
		for (i = 0; i < keylen && key[i] >= '0' && key[i] <= '9'; i++)
			v = v * 10 + (key[i] - '0');
		if (i == keylen)
			s->index = v;
	}
}

void path_push_quoted(struct path *p, const char *key, size_t keylen)
{
	path_push(p, key, keylen);
	p->seg[p->n - 1].index = -1;
	p->seg[p->n - 1].exact = 1;
}

void path_free(struct path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->seg[i].key);
	free(p->seg);
	free(p->text);
	memset(p, 0, sizeof *p);
}

static int is_blank_ch(char c)
{
	return c == ' ' || c == '\t';
}

void path_split_list(const char *s, char ***list, size_t *n)
{
	const char *start = s;
	char quote = 0;
	int depth = 0; /* inside () or [] */
	for (const char *p = s;; p++) {
		if (quote) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == quote)
				quote = 0;
			if (*p)
				continue;
		}
		if (*p == '"' || *p == '\'') {
			quote = *p;
			continue;
		}
		if (*p == '(' || *p == '[')
			depth++;
		else if ((*p == ')' || *p == ']') && depth > 0)
			depth--;
		if (*p && (*p != ',' || depth > 0))
			continue;
		/* blanks around commas are not part of an item */
		const char *a = start, *b = p;
		while (a < b && is_blank_ch(*a))
			a++;
		while (b > a && is_blank_ch(b[-1]))
			b--;
		*list = xrealloc(*list, (*n + 1) * sizeof **list);
		(*list)[(*n)++] = xmemdup(a, (size_t)(b - a));
		if (!*p)
			return;
		start = p + 1;
	}
}

static int perr(char *err, size_t errlen, const char *s, const char *why)
{
	snprintf(err, errlen, "bad path '%s': %s", s, why);
	return -1;
}

static int parse_pointer(struct path *p, const char *s, char *err, size_t errlen)
{
	struct buf k = {0};
	const char *q = s + 1;
	for (;;) {
		buf_reset(&k);
		while (*q && *q != '/') {
			if (*q == '~') {
				if (q[1] == '0')
					buf_addc(&k, '~');
				else if (q[1] == '1')
					buf_addc(&k, '/');
				else {
					buf_free(&k);
					return perr(err, errlen, s, "'~' must be followed by 0 or 1");
				}
				q += 2;
				continue;
			}
			buf_addc(&k, *q++);
		}
		path_push(p, k.len ? k.p : "", k.len);
		p->seg[p->n - 1].exact = 1;
		if (!*q)
			break;
		q++;
	}
	buf_free(&k);
	return 0;
}

/* [N] or [-N] (the Nth element from the end; on an object, the member
 * named "-N"), the text s[0..n) being the digits with their sign. */
static void push_index(struct path *p, const char *s, size_t n)
{
	path_push(p, s, n);
	if (s[0] == '-') {
		struct pseg *g = &p->seg[p->n - 1];
		int64_t v = 0;
		for (size_t i = 1; i < n && v <= INT64_MAX / 10 - 9; i++)
			v = v * 10 + (s[i] - '0');
		g->index = v > 0 ? v : -1; /* [-0] names nothing */
		g->fromend = 1;
	}
}

/* A quoted member: ["..."] with JSON string syntax inside.  Returns the
 * length consumed from the '[' or 0 on error. */
static size_t parse_bracket(struct path *p, const char *s)
{
	const char *q = s + 1;
	if (*q == '"' || *q == '\'') {
		char quote = *q++;
		struct buf raw = {0};
		while (*q && *q != quote) {
			if (*q == '\\' && q[1])
				buf_addc(&raw, *q++);
			buf_addc(&raw, *q++);
		}
		if (*q != quote || q[1] != ']') {
			buf_free(&raw);
			return 0;
		}
		/* validate as a JSON string body */
		struct buf js = {0};
		struct jdoc d = {0};
		struct jerr e;
		buf_addc(&js, '"');
		if (quote == '\'') {
			/* \' is not JSON: turn it into a plain quote */
			for (size_t i = 0; i < raw.len; i++) {
				if (raw.p[i] == '\\' && i + 1 < raw.len && raw.p[i + 1] == '\'') {
					buf_addc(&js, '\'');
					i++;
				} else if (raw.p[i] == '"') {
					buf_adds(&js, "\\\"");
				} else {
					buf_addc(&js, raw.p[i]);
				}
			}
		} else {
			buf_add(&js, raw.p ? raw.p : "", raw.len);
		}
		buf_addc(&js, '"');
		int ok = json_parse(&d, js.p, js.len, JSON_ANY, &e) == 0;
		if (ok) {
			struct buf k = {0};
			json_unescape(js.p + 1, js.len - 2, &k);
			path_push_quoted(p, k.p ? k.p : "", k.len); /* ["0"] is a key */
			buf_free(&k);
		}
		json_doc_free(&d);
		buf_free(&js);
		buf_free(&raw);
		return ok ? (size_t)(q + 2 - s) : 0;
	}
	const char *start = q;
	if (*q == '-')
		q++;
	const char *digits = q;
	while (*q >= '0' && *q <= '9')
		q++;
	if (q == digits || *q != ']')
		return 0;
	push_index(p, start, (size_t)(q - start));
	return (size_t)(q + 1 - s);
}

/* "[]": every element of an array (PATH_EACH), or why not here. */
static int push_each(struct path *p, const char *s, unsigned flags, char *err, size_t errlen)
{
	if (!p->n)
		return perr(err, errlen, s, "'[]' must follow a segment (answers[])");
	if (!(flags & PATH_EACH))
		return perr(err, errlen, s,
		            flags & PATH_EXPR
		                    ? "'[]' (every element) is for -s, -g and -a; in an expression use any(ARR, COND) or all(ARR, COND)"
		                    : "'[]' (every element) is for -s, -g and -a; this option takes one value");
	path_push(p, "", 0);
	p->seg[p->n - 1].each = 1;
	p->neach++;
	return 0;
}

int path_parse(struct path *p, const char *s, char *err, size_t errlen)
{
	return path_parse_flags(p, s, 0, err, errlen);
}

int path_parse_flags(struct path *p, const char *s, unsigned flags, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->text = xstrdup(s);
	if (s[0] == '/')
		return parse_pointer(p, s, err, errlen);
	const char *q = s;
	if (*q == '.')
		q++;
	if (!*q)
		return perr(err, errlen, s, "empty");
	while (*q) {
		if (q[0] == '[' && q[1] == ']') {
			if (push_each(p, s, flags, err, errlen) < 0)
				return -1;
			q += 2;
			if (*q && *q != '.' && *q != '[')
				return perr(err, errlen, s, "expected '.' or '[' after ']'");
		} else if (*q == '[') {
			size_t k = parse_bracket(p, q);
			if (!k)
				return perr(err, errlen, s,
				            flags & PATH_EACH ? "expected [\"name\"], [index] or []"
				                              : "expected [\"name\"] or [index]");
			q += k;
			if (*q && *q != '.' && *q != '[')
				return perr(err, errlen, s, "expected '.' or '[' after ']'");
		} else {
			const char *start = q;
			while (*q && *q != '.' && *q != '[')
				q++;
			if (q == start)
				return perr(err, errlen, s, "empty segment");
			path_push(p, start, (size_t)(q - start));
		}
		if (*q == '.' && !*++q)
			return perr(err, errlen, s, "ends with '.'");
	}
	return 0;
}

/* Does member name k[0..kn) equal segments i..j of p joined with dots? */
static int joins(const struct path *p, size_t i, size_t j, const char *k, size_t kn)
{
	size_t pos = 0;
	for (size_t s = i; s <= j; s++) {
		const struct pseg *g = &p->seg[s];
		if (s > i) {
			if (pos >= kn || k[pos] != '.')
				return 0;
			pos++;
		}
		if (kn - pos < g->keylen || memcmp(k + pos, g->key, g->keylen) != 0)
			return 0;
		pos += g->keylen;
	}
	return pos == kn;
}

/* The value of the member of obj named by segments i..j joined, or JNONE. */
static uint32_t get_joined(const struct jdoc *d, uint32_t obj, const struct path *p, size_t i, size_t j)
{
	size_t want = j - i; /* the dots */
	for (size_t s = i; s <= j; s++)
		want += p->seg[s].keylen;
	uint32_t end = d->tok[obj].next;
	for (uint32_t m = obj + 1; m < end; m = d->tok[m + 1].next) {
		const struct jtok *t = &d->tok[m];
		if (!(t->flags & JF_ESC)) {
			if (t->len - 2 == want && joins(p, i, j, d->text + t->start + 1, want))
				return m + 1;
		} else if (t->len - 2 >= want) { /* escapes only shrink a name */
			struct buf k = {0};
			json_unescape(d->text + t->start + 1, t->len - 2, &k);
			int eq = joins(p, i, j, k.p ? k.p : "", k.len);
			buf_free(&k);
			if (eq)
				return m + 1;
		}
	}
	return JNONE;
}

/* Element of array t that segment s names, or JNONE. */
static uint32_t seg_index(const struct jdoc *d, uint32_t t, const struct pseg *s)
{
	if (s->index < 0)
		return JNONE;
	if (!s->fromend)
		return json_index(d, t, (size_t)s->index);
	size_t n = json_count(d, t);
	return (uint64_t)s->index <= n ? json_index(d, t, n - (size_t)s->index) : JNONE;
}

/* The backtracking search of path_lookup, from segment i at token t,
 * up to (not including) segment end. */
static uint32_t search(const struct jdoc *d, uint32_t t, const struct path *p, size_t i, size_t end)
{
	if (i == end)
		return t;
	const struct pseg *s = &p->seg[i];
	int type = d->tok[t].type;
	if (type == J_ARR)
		return (t = seg_index(d, t, s)) != JNONE
		               ? search(d, t, p, i + 1, end)
		               : JNONE;
	if (type != J_OBJ)
		return JNONE;
	uint32_t v = json_get(d, t, s->key, s->keylen), r;
	if (v != JNONE && (r = search(d, v, p, i + 1, end)) != JNONE)
		return r;
	for (size_t j = i + 1; j < end && !s->exact && !p->seg[j].exact; j++) {
		v = get_joined(d, t, p, i, j);
		if (v != JNONE && (r = search(d, v, p, j + 1, end)) != JNONE)
			return r;
	}
	return JNONE;
}

/* Segments [from, end) of p (none of them "[]") from token root. */
static inline __attribute__((always_inline)) uint32_t lookup_range(const struct jdoc *d, uint32_t root,
                                                                  const struct path *p, size_t from, size_t end)
{
	uint32_t t = root;
	for (size_t i = from; i < end && t != JNONE; i++) {
		const struct pseg *s = &p->seg[i];
		int type = d->tok[t].type;
		if (type == J_OBJ)
			t = json_get(d, t, s->key, s->keylen);
		else if (type == J_ARR)
			t = seg_index(d, t, s);
		else
			t = JNONE;
	}
	/* a miss: maybe member names with dots in them (see path.h) */
	if (t == JNONE && end - from > 1 && root != JNONE)
		t = search(d, root, p, from, end);
	return t;
}

uint32_t path_lookup(const struct jdoc *d, uint32_t root, const struct path *p)
{
	uint32_t t = p->neach ? JNONE : lookup_range(d, root, p, 0, p->n);
	/* bookkeeping for ev_watch_path: the path's value is untouched */
	((struct path *)p)->seen |= t != JNONE ? PATH_LOOKED | PATH_FOUND : PATH_LOOKED;
	return t;
}

struct each_walk {
	const struct jdoc *d;
	const struct path *p;
	void (*fn)(void *arg, uint32_t t);
	void *arg;
	size_t given;
	int missed; /* a part was missing, or not an array at "[]" */
};

/* The values of segments i.. of the path from token t. */
static void each_from(struct each_walk *w, uint32_t t, size_t i)
{
	size_t j = i;
	while (j < w->p->n && !w->p->seg[j].each)
		j++;
	uint32_t v = j > i ? lookup_range(w->d, t, w->p, i, j) : t;
	if (j == w->p->n) {
		if (v == JNONE) {
			w->missed = 1;
		} else {
			w->given++;
			w->fn(w->arg, v);
		}
		return;
	}
	if (v == JNONE || w->d->tok[v].type != J_ARR) {
		w->missed = 1;
		return;
	}
	for (uint32_t e = v + 1; e < w->d->tok[v].next; e = w->d->tok[e].next)
		each_from(w, e, j + 1);
}

size_t path_each(const struct jdoc *d, uint32_t root, const struct path *p,
                 void (*fn)(void *arg, uint32_t t), void *arg, int *found)
{
	struct each_walk w = { d, p, fn, arg, 0, 0 };
	if (root != JNONE)
		each_from(&w, root, 0);
	else
		w.missed = 1;
	int f = w.given || !w.missed;
	((struct path *)p)->seen |= f ? PATH_LOOKED | PATH_FOUND : PATH_LOOKED;
	if (found)
		*found = f;
	return w.given;
}

/*
 * Bare path text (outside ["..."] members) never holds blanks or the
 * characters of expressions: "payload.total * 2" and "lower(q)" are not
 * paths, though every byte could be a member name.  Members with such
 * characters are written quoted: ["a b"].
 */
static int looks_like_path(const char *s)
{
	if (s[0] == '/')
		return 1; /* a JSON Pointer takes any member name */
	for (const char *p = s; *p; p++) {
		if (*p == '[') {
			/* skip a quoted member or an index */
			char quote = 0;
			for (p++; *p; p++) {
				if (quote) {
					if (*p == '\\' && p[1])
						p++;
					else if (*p == quote)
						quote = 0;
				} else if (*p == '"' || *p == '\'') {
					quote = *p;
				} else if (*p == ']') {
					break;
				}
			}
			if (!*p)
				return 1; /* unterminated: path_parse says why */
			continue;
		}
		if (strchr(" \t()*+<>!=|&?,;'\"{}", *p))
			return 0;
	}
	return 1;
}

int path_item(const char *item, char **name, const char **body, char *err, size_t errlen)
{
	*name = NULL;
	*body = item;
	const char *eq = strchr(item, '=');
	if (eq && !strchr("/.@[(", item[0])) {
		const char *q;
		for (q = item; q < eq && !strchr("[\"'(", *q); q++)
			;
		if (q == eq) {
			const char *a = item, *b = eq;
			while (b > a && is_blank_ch(b[-1]))
				b--;
			if (b == a) {
				snprintf(err, errlen, "'%s': empty column name before '='", item);
				return -1;
			}
			*name = xmemdup(a, (size_t)(b - a));
			*body = eq + 1;
			while (is_blank_ch(**body))
				(*body)++;
		}
	}
	if (**body == '(')
		return PATH_ITEM_EXPR;
	if (!**body || looks_like_path(*body))
		return PATH_ITEM_PATH;
	snprintf(err, errlen, "'%s' is not a path (computed columns are NAME=(EXPR))", item);
	free(*name);
	*name = NULL;
	return -1;
}

/* ---- expressions ----------------------------------------------------- */

static long serr(size_t *errpos, size_t at, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static long serr(size_t *errpos, size_t at, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	*errpos = at;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int hex4at(const char *s, size_t n, size_t at, unsigned *out)
{
	unsigned v = 0;
	if (at + 4 > n)
		return -1;
	for (int k = 0; k < 4; k++) {
		unsigned c = (unsigned char)s[at + k], h;
		if (c >= '0' && c <= '9')
			h = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			h = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | h;
	}
	*out = v;
	return 0;
}

long path_quoted(const char *s, size_t n, struct buf *out, size_t *errpos, char *err, size_t errlen)
{
	size_t i = 0;
	char q = s[i++];
	buf_reserve(out, 0);
	for (;;) {
		size_t run = i;
		while (run < n && s[run] != q && s[run] != '\\')
			run++;
		buf_add(out, s + i, run - i);
		i = run;
		if (i >= n || (i + 1 >= n && s[i] == '\\'))
			return serr(errpos, 0, err, errlen, "unterminated string");
		if (s[i] == q)
			return (long)(i + 1);
		char x = s[i + 1];
		switch (x) {
		case '"': case '\\': case '/': buf_addc(out, x); i += 2; break;
		case 'b': buf_addc(out, '\b'); i += 2; break;
		case 'f': buf_addc(out, '\f'); i += 2; break;
		case 'n': buf_addc(out, '\n'); i += 2; break;
		case 'r': buf_addc(out, '\r'); i += 2; break;
		case 't': buf_addc(out, '\t'); i += 2; break;
		case '\'':
			if (q != '\'')
				goto bad;
			buf_addc(out, '\'');
			i += 2;
			break;
		case 'u': {
			unsigned u, lo;
			size_t adv = 6;
			if (hex4at(s, n, i + 2, &u) < 0)
				return serr(errpos, i, err, errlen, "bad \\u escape in string");
			if (u >= 0xD800 && u <= 0xDBFF && i + 12 <= n && s[i + 6] == '\\' &&
			    s[i + 7] == 'u' && hex4at(s, n, i + 8, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				adv = 12;
			} else if (u >= 0xD800 && u <= 0xDFFF) {
				return serr(errpos, i, err, errlen, "lone surrogate escape \\u%04X in string", u);
			}
			utf8_put(out, u);
			i += adv;
			break;
		}
		default:
		bad:
			if (x > 0x20 && x < 0x7f)
				return serr(errpos, i, err, errlen, "bad escape '\\%c' in string", x);
			return serr(errpos, i, err, errlen, "bad escape in string");
		}
	}
}

static int is_namec(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_blank_c(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* [ ... ] at s[k]: a quoted name, [N] or [-N].  The index after ']',
 * or -1. */
static long scan_bracket(struct path *p, const char *s, size_t n, size_t k, size_t *errpos, char *err,
                         size_t errlen)
{
	size_t open = k++;
	while (k < n && is_blank_c((unsigned char)s[k]))
		k++;
	if (k < n && (s[k] == '"' || s[k] == '\'')) {
		struct buf key = {0};
		long m = path_quoted(s + k, n - k, &key, errpos, err, errlen);
		if (m < 0) {
			*errpos += k;
			buf_free(&key);
			return -1;
		}
		path_push_quoted(p, key.p ? key.p : "", key.len); /* ["0"] is a key */
		buf_free(&key);
		k += (size_t)m;
	} else if (k < n && (s[k] == '-' || (s[k] >= '0' && s[k] <= '9'))) {
		size_t st = k;
		if (s[k] == '-')
			k++;
		size_t d0 = k;
		while (k < n && s[k] >= '0' && s[k] <= '9')
			k++;
		if (k == d0)
			return serr(errpos, st, err, errlen, "expected a quoted name or an index after '['");
		push_index(p, s + st, k - st);
	} else if (k < n && s[k] == ']') {
		return serr(errpos, open, err, errlen,
		            "[] (every element) is not allowed in expressions: use any(ARR, COND) or all(ARR, COND)");
	} else {
		return serr(errpos, k, err, errlen, "expected a quoted name or an index after '['");
	}
	while (k < n && is_blank_c((unsigned char)s[k]))
		k++;
	if (k >= n || s[k] != ']')
		return serr(errpos, k, err, errlen, "expected ']'");
	return (long)(k + 1);
}

long path_scan_expr(struct path *p, const char *s, size_t n, int cont, size_t *errpos, char *err,
                    size_t errlen)
{
	size_t k = 0;
	if (!cont) {
		if (n > 0 && s[0] == '.') {
			if (!(n > 1 && (is_namec((unsigned char)s[1]) || s[1] == '[')))
				return 1; /* "." alone: the whole event */
		} else {
			while (k < n && is_namec((unsigned char)s[k]))
				k++;
			path_push(p, s, k);
		}
	}
	for (;;) {
		if (k < n && s[k] == '.') {
			if (k + 1 < n && s[k + 1] == '[') {
				k++;
				continue;
			}
			size_t st = k + 1, e = st;
			while (e < n && is_namec((unsigned char)s[e]))
				e++;
			if (e == st)
				return serr(errpos, st, err, errlen, "expected a name after '.'");
			path_push(p, s + st, e - st);
			k = e;
		} else if (k < n && s[k] == '[') {
			long m = scan_bracket(p, s, n, k, errpos, err, errlen);
			if (m < 0)
				return -1;
			k = (size_t)m;
		} else {
			return (long)k;
		}
	}
}
