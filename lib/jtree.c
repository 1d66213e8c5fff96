/* jtree.c — mutable JSON values (see jtree.h). */
#include "jtree.h"
#include "ev.h"
#include "jwrite.h"
#include "strset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- interned keys -------------------------------------------------- */

static const char *intern(struct jt_ctx *c, const char *p, size_t n)
{
	return bmap_get(&c->keys, p, n, NULL)->k;
}

void jt_ctx_free(struct jt_ctx *c)
{
	bmap_free(&c->keys);
	json_doc_free(&c->doc);
	buf_free(&c->scratch);
	buf_free(&c->scratch2);
	memset(c, 0, sizeof *c);
}

/* ---- values --------------------------------------------------------- */

void jt_free(struct jt *v)
{
	switch (v->kind) {
	case JT_RAW:
		free(v->u.raw);
		break;
	case JT_OBJ:
		for (uint32_t i = 0; i < v->n; i++)
			jt_free(&v->u.mem[i].v);
		free(v->u.mem);
		break;
	case JT_ARR:
		for (uint32_t i = 0; i < v->n; i++)
			jt_free(&v->u.el[i]);
		free(v->u.el);
		break;
	}
	memset(v, 0, sizeof *v);
}

int jt_type(const struct jt *v)
{
	switch (v->kind) {
	case JT_RAW: return v->type;
	case JT_OBJ: return J_OBJ;
	case JT_ARR: return J_ARR;
	}
	return J_NULL;
}

void jt_set_raw(struct jt *v, const char *p, size_t n, int type)
{
	if (v->kind != JT_RAW) {
		jt_free(v);
		v->kind = JT_RAW;
	}
	if (n + 1 > v->cap) {
		free(v->u.raw);
		v->cap = (uint32_t)(n + 1);
		v->u.raw = xmalloc(v->cap);
	}
	memcpy(v->u.raw, p, n);
	v->u.raw[n] = '\0';
	v->n = (uint32_t)n;
	v->type = (uint8_t)type;
}

/* Is the text of container t already compact (no white space between
 * tokens)?  Then it is copied as is.  It is exactly when its length is
 * the sum of its leaves, two brackets per container, one ':' per member
 * and one ',' between siblings. */
static int tok_compact(const struct jdoc *d, uint32_t t)
{
	const struct jtok *k = &d->tok[t];
	size_t need = 0;
	for (uint32_t i = t; i < k->next; i++) {
		const struct jtok *c = &d->tok[i];
		if (c->type != J_OBJ && c->type != J_ARR) {
			need += c->len;
			continue;
		}
		size_t m = 0;
		if (c->type == J_OBJ)
			for (uint32_t j = i + 1; j < c->next; j = d->tok[j + 1].next)
				m++;
		else
			for (uint32_t j = i + 1; j < c->next; j = d->tok[j].next)
				m++;
		need += 2 + (m ? m - 1 : 0) + (c->type == J_OBJ ? m : 0);
		if (need > k->len)
			return 0;
	}
	return need == k->len;
}

void jt_set_tok(struct jt_ctx *c, struct jt *v, const struct jdoc *d, uint32_t t)
{
	const struct jtok *k = &d->tok[t];
	if (k->type != J_OBJ && k->type != J_ARR) {
		jt_set_raw(v, d->text + k->start, k->len, k->type);
		return;
	}
	if (k->len < 4096 && tok_compact(d, t)) {
		jt_set_raw(v, d->text + k->start, k->len, k->type);
		return;
	}
	buf_reset(&c->scratch2);
	json_write_compact(d, t, &c->scratch2);
	jt_set_raw(v, c->scratch2.p, c->scratch2.len, k->type);
}

void jt_set_object(struct jt *v)
{
	jt_free(v);
	v->kind = JT_OBJ;
}

static void obj_reserve(struct jt *v, size_t n)
{
	if (n <= v->cap)
		return;
	size_t cap = v->cap ? v->cap : 4;
	while (cap < n)
		cap *= 2;
	v->u.mem = xrealloc(v->u.mem, cap * sizeof *v->u.mem);
	memset(v->u.mem + v->cap, 0, (cap - v->cap) * sizeof *v->u.mem);
	v->cap = (uint32_t)cap;
}

static void arr_reserve(struct jt *v, size_t n)
{
	if (n <= v->cap)
		return;
	size_t cap = v->cap ? v->cap : 4;
	while (cap < n)
		cap *= 2;
	v->u.el = xrealloc(v->u.el, cap * sizeof *v->u.el);
	memset(v->u.el + v->cap, 0, (cap - v->cap) * sizeof *v->u.el);
	v->cap = (uint32_t)cap;
}

/* Build an opened container from token t of d (children stay raw). */
static void open_from(struct jt_ctx *c, struct jt *v, const struct jdoc *d, uint32_t t)
{
	const struct jtok *k = &d->tok[t];
	struct jt nv = {0};
	if (k->type == J_OBJ) {
		nv.kind = JT_OBJ;
		obj_reserve(&nv, json_count(d, t));
		for (uint32_t i = t + 1; i < k->next; i = d->tok[i + 1].next) {
			const struct jtok *kt = &d->tok[i];
			struct jt_mem *m = &nv.u.mem[nv.n++];
			m->key = intern(c, d->text + kt->start, kt->len);
			m->klen = kt->len;
			m->kesc = (kt->flags & JF_ESC) != 0;
			jt_set_tok(c, &m->v, d, i + 1);
		}
	} else {
		nv.kind = JT_ARR;
		arr_reserve(&nv, json_count(d, t));
		for (uint32_t i = t + 1; i < k->next; i = d->tok[i].next)
			jt_set_tok(c, &nv.u.el[nv.n++], d, i);
	}
	jt_free(v);
	*v = nv;
}

void jt_set_tok_open(struct jt_ctx *c, struct jt *v, const struct jdoc *d, uint32_t t)
{
	if (d->tok[t].type == J_OBJ)
		open_from(c, v, d, t);
	else
		jt_set_tok(c, v, d, t);
}

void jt_open(struct jt_ctx *c, struct jt *v)
{
	if (v->kind != JT_RAW || (v->type != J_OBJ && v->type != J_ARR))
		return;
	struct jerr err;
	/* the text is JSON we wrote or copied from a valid document */
	char *text = v->u.raw;
	size_t n = v->n;
	if (json_parse(&c->doc, text, n, JSON_ANY, &err) < 0)
		ev_die(EV_IO, "internal error: state does not parse: %s", err.msg);
	v->u.raw = NULL;
	v->kind = JT_NONE;
	v->cap = 0;
	open_from(c, v, &c->doc, 0);
	free(text);
}

/* ---- members -------------------------------------------------------- */

static int key_eq(struct jt_ctx *c, const char *a, size_t an, int aesc, const char *b, size_t bn, int besc)
{
	if (!aesc && !besc)
		return an == bn && memcmp(a, b, an) == 0;
	buf_reset(&c->scratch);
	json_unescape(a + 1, an - 2, &c->scratch);
	size_t mark = c->scratch.len;
	json_unescape(b + 1, bn - 2, &c->scratch);
	return c->scratch.len - mark == mark && memcmp(c->scratch.p, c->scratch.p + mark, mark) == 0;
}

static int has_esc(const char *k, size_t n)
{
	return memchr(k, '\\', n) != NULL;
}

static struct jt_mem *find_mem(struct jt_ctx *c, struct jt *obj, const char *key, size_t klen, int kesc)
{
	for (uint32_t i = 0; i < obj->n; i++) {
		struct jt_mem *m = &obj->u.mem[i];
		if (m->klen == klen && !kesc && !m->kesc) {
			if (memcmp(m->key, key, klen) == 0)
				return m;
		} else if ((kesc || m->kesc) && key_eq(c, m->key, m->klen, m->kesc, key, klen, kesc)) {
			return m;
		}
	}
	return NULL;
}

struct jt *jt_get(struct jt_ctx *c, struct jt *obj, const char *key, size_t klen)
{
	struct jt_mem *m = find_mem(c, obj, key, klen, has_esc(key, klen));
	return m ? &m->v : NULL;
}

struct jt *jt_put(struct jt_ctx *c, struct jt *obj, const char *key, size_t klen)
{
	int kesc = has_esc(key, klen);
	struct jt_mem *m = find_mem(c, obj, key, klen, kesc);
	if (m)
		return &m->v;
	obj_reserve(obj, obj->n + 1);
	m = &obj->u.mem[obj->n++];
	m->key = intern(c, key, klen);
	m->klen = (uint32_t)klen;
	m->kesc = (uint8_t)kesc;
	memset(&m->v, 0, sizeof m->v);
	return &m->v;
}

int jt_del(struct jt_ctx *c, struct jt *obj, const char *key, size_t klen)
{
	struct jt_mem *m = find_mem(c, obj, key, klen, has_esc(key, klen));
	if (!m)
		return 0;
	jt_free(&m->v);
	size_t i = (size_t)(m - obj->u.mem);
	memmove(m, m + 1, (obj->n - i - 1) * sizeof *m);
	obj->n--;
	memset(&obj->u.mem[obj->n], 0, sizeof *m);
	return 1;
}

struct jt *jt_push(struct jt *arr)
{
	arr_reserve(arr, arr->n + 1);
	struct jt *e = &arr->u.el[arr->n++];
	memset(e, 0, sizeof *e);
	return e;
}

/* ---- merge patch ---------------------------------------------------- */

static int has_null(const struct jdoc *d, uint32_t t)
{
	for (uint32_t i = t; i < d->tok[t].next; i++)
		if (d->tok[i].type == J_NULL)
			return 1;
	return 0;
}

void jt_merge_patch(struct jt_ctx *c, struct jt *target, const struct jdoc *d, uint32_t t)
{
	const struct jtok *k = &d->tok[t];
	if (k->type != J_OBJ) {
		jt_set_tok(c, target, d, t);
		return;
	}
	if (jt_type(target) != J_OBJ) {
		/* patching a non-object: start from {}; a patch without nulls
		 * is then its own result */
		if (!has_null(d, t)) {
			jt_set_tok(c, target, d, t);
			return;
		}
		jt_set_object(target);
	}
	jt_open(c, target);
	for (uint32_t i = t + 1; i < k->next; i = d->tok[i + 1].next) {
		const struct jtok *kt = &d->tok[i];
		const char *key = d->text + kt->start;
		if (d->tok[i + 1].type == J_NULL) {
			jt_del(c, target, key, kt->len);
			continue;
		}
		jt_merge_patch(c, jt_put(c, target, key, kt->len), d, i + 1);
	}
}

/* ---- paths ---------------------------------------------------------- */

int jt_walk(struct jt_ctx *c, struct jt *root, const struct path *p, int create,
            struct jt **out, char *why, size_t whylen)
{
	struct jt *cur = root;
	struct buf key = {0};
	*out = NULL;
	for (size_t s = 0; s < p->n; s++) {
		const struct pseg *g = &p->seg[s];
		int ty = jt_type(cur);
		if (ty == J_NULL) {
			if (!create)
				goto missing;
			jt_set_object(cur);
			ty = J_OBJ;
		}
		if (ty == J_ARR && g->index >= 0) {
			jt_open(c, cur);
			if ((uint64_t)g->index >= cur->n) {
				snprintf(why, whylen, "index %lld is past the end of the array at '%s'",
				         (long long)g->index, p->text);
				buf_free(&key);
				return -1;
			}
			cur = &cur->u.el[g->index];
			continue;
		}
		if (ty != J_OBJ) {
			snprintf(why, whylen, "cannot enter %s %s at '%s'",
			         ty == J_ARR ? "an" : "a", json_type_name(ty), p->text);
			buf_free(&key);
			return -1;
		}
		jt_open(c, cur);
		buf_reset(&key);
		jw_string(&key, g->key, g->keylen);
		struct jt *next = create ? jt_put(c, cur, key.p, key.len) : jt_get(c, cur, key.p, key.len);
		if (!next)
			goto missing;
		cur = next;
	}
	*out = cur;
	buf_free(&key);
	return 0;
missing:
	buf_free(&key);
	*out = NULL;
	return 0;
}

/* ---- output --------------------------------------------------------- */

void jt_write(const struct jt *v, struct buf *out)
{
	switch (v->kind) {
	case JT_NONE:
		buf_add(out, "null", 4);
		return;
	case JT_RAW:
		buf_add(out, v->u.raw, v->n);
		return;
	case JT_OBJ:
		buf_addc(out, '{');
		for (uint32_t i = 0; i < v->n; i++) {
			if (i)
				buf_addc(out, ',');
			buf_add(out, v->u.mem[i].key, v->u.mem[i].klen);
			buf_addc(out, ':');
			jt_write(&v->u.mem[i].v, out);
		}
		buf_addc(out, '}');
		return;
	case JT_ARR:
		buf_addc(out, '[');
		for (uint32_t i = 0; i < v->n; i++) {
			if (i)
				buf_addc(out, ',');
			jt_write(&v->u.el[i], out);
		}
		buf_addc(out, ']');
		return;
	}
}
