/* path.c — field paths (see path.h). */
#include "path.h"
#include "buf.h"
#include "ev.h"

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
	if (keylen > 0 && keylen <= 18 && (key[0] != '0' || keylen == 1)) {
		int64_t v = 0;
		size_t i;
		for (i = 0; i < keylen && key[i] >= '0' && key[i] <= '9'; i++)
			v = v * 10 + (key[i] - '0');
		if (i == keylen)
			s->index = v;
	}
}

void path_free(struct path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->seg[i].key);
	free(p->seg);
	free(p->text);
	memset(p, 0, sizeof *p);
}

static int is_blank(char c)
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
		/* blanks around commas are not part of the item */
		const char *e = p;
		while (start < e && is_blank(*start))
			start++;
		while (e > start && is_blank(e[-1]))
			e--;
		*list = xrealloc(*list, (*n + 1) * sizeof **list);
		(*list)[(*n)++] = xmemdup(start, (size_t)(e - start));
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
		if (!*q)
			break;
		q++;
	}
	buf_free(&k);
	return 0;
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
			path_push(p, k.p ? k.p : "", k.len);
			p->seg[p->n - 1].index = -1; /* ["0"] is a key */
			buf_free(&k);
		}
		json_doc_free(&d);
		buf_free(&js);
		buf_free(&raw);
		return ok ? (size_t)(q + 2 - s) : 0;
	}
	const char *start = q;
	while (*q >= '0' && *q <= '9')
		q++;
	if (q == start || *q != ']')
		return 0;
	path_push(p, start, (size_t)(q - start));
	return (size_t)(q + 1 - s);
}

int path_parse(struct path *p, const char *s, char *err, size_t errlen)
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
		if (*q == '[') {
			size_t k = parse_bracket(p, q);
			if (!k)
				return perr(err, errlen, s, "expected [\"name\"] or [index]");
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

uint32_t path_lookup(const struct jdoc *d, uint32_t root, const struct path *p)
{
	uint32_t t = root;
	for (size_t i = 0; i < p->n && t != JNONE; i++) {
		const struct pseg *s = &p->seg[i];
		int type = d->tok[t].type;
		if (type == J_OBJ)
			t = json_get(d, t, s->key, s->keylen);
		else if (type == J_ARR && s->index >= 0)
			t = json_index(d, t, (size_t)s->index);
		else
			t = JNONE;
	}
	/* bookkeeping for ev_watch_path: the path's value is untouched */
	((struct path *)p)->seen |= t != JNONE ? PATH_LOOKED | PATH_FOUND : PATH_LOOKED;
	return t;
}

/* ---- items of -s and -g lists ----------------------------------------- */

void path_item_name(const char *s, char **name, const char **rest)
{
	*name = NULL;
	*rest = s;
	const char *eq = strchr(s, '=');
	if (!eq || eq == s || strchr("/.@[(", s[0]))
		return;
	for (const char *p = s; p < eq; p++)
		if (strchr("[\"'(", *p))
			return;
	*name = xmemdup(s, (size_t)(eq - s));
	*rest = eq + 1;
}

int path_parse_item(struct path *p, const char *s, char *err, size_t errlen)
{
	if (s[0] != '/') {
		/* outside ["..."] a path has no blanks and no operator */
		char quote = 0;
		for (const char *q = s; *q; q++) {
			if (quote) {
				if (*q == '\\' && q[1])
					q++;
				else if (*q == quote)
					quote = 0;
				continue;
			}
			if (q[0] == '[' && (q[1] == '"' || q[1] == '\'')) {
				quote = *++q;
				continue;
			}
			if (is_blank(*q) || strchr("()=\"'<>!&|*+?,{}", *q)) {
				memset(p, 0, sizeof *p);
				snprintf(err, errlen, "'%s' is not a path", s);
				return -1;
			}
		}
	}
	return path_parse(p, s, err, errlen);
}
