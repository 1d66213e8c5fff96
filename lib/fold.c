/*
 * fold.c — rules, aggregates and the fold operations (see fold.h).
 *
 * The hot path is fold_event: one hash lookup for the aggregate (keyed by
 * the value-key bytes), one cached lookup for the rule of the event type,
 * then the operation on the state.  The state of an aggregate is a jtree
 * value whose top level is opened once; replacing a member reuses its
 * buffer, so an event seldom allocates.
 */
#include "fold.h"
#include "jload.h"
#include "ev.h"
#include "jwrite.h"
#include "strset.h"
#include "timeutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- glob ----------------------------------------------------------- */

/* Match a bracket expression at pat[*pi] (just past '['); advances *pi
 * past ']'.  Returns 1/0 for a match of c, -1 if unterminated. */
static int bracket(const char *pat, size_t pn, size_t *pi, unsigned char c)
{
	size_t i = *pi;
	int neg = 0, hit = 0;
	if (i < pn && (pat[i] == '!' || pat[i] == '^')) {
		neg = 1;
		i++;
	}
	size_t first = i;
	while (i < pn && (pat[i] != ']' || i == first)) {
		unsigned char lo = (unsigned char)pat[i];
		if (lo == '\\' && i + 1 < pn)
			lo = (unsigned char)pat[++i];
		i++;
		unsigned char hi = lo;
		if (i + 1 < pn && pat[i] == '-' && pat[i + 1] != ']') {
			hi = (unsigned char)pat[i + 1];
			if (hi == '\\' && i + 2 < pn) {
				hi = (unsigned char)pat[i + 2];
				i++;
			}
			i += 2;
		}
		if (c >= lo && c <= hi)
			hit = 1;
	}
	if (i >= pn)
		return -1;
	*pi = i + 1;
	return hit != neg;
}

int glob_match(const char *pat, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
	while (si < sn) {
		if (pi < pn) {
			char c = pat[pi];
			if (c == '*') {
				star_p = ++pi;
				star_s = si;
				continue;
			}
			if (c == '?') {
				pi++;
				si++;
				continue;
			}
			if (c == '[') {
				size_t q = pi + 1;
				int r = bracket(pat, pn, &q, (unsigned char)s[si]);
				if (r == 1) {
					pi = q;
					si++;
					continue;
				}
				if (r == 0)
					goto backtrack;
				/* unterminated: a literal '[' */
			}
			if (c == '\\' && pi + 1 < pn)
				c = pat[++pi];
			if (c == s[si]) {
				pi++;
				si++;
				continue;
			}
		}
	backtrack:
		if (star_p == (size_t)-1)
			return 0;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < pn && pat[pi] == '*')
		pi++;
	return pi == pn;
}

/* ---- rules ---------------------------------------------------------- */

static const struct {
	const char *name;
	enum fold_op op;
	int arg; /* 0 none, 1 PATH=JSON, 2 PATH[=FIELD] */
} ops[] = {
	{ "create", OP_CREATE, 0 }, { "merge", OP_MERGE, 0 },   { "patch", OP_PATCH, 0 },
	{ "delete", OP_DELETE, 0 }, { "ignore", OP_IGNORE, 0 }, { "set", OP_SET, 1 },
	{ "inc", OP_INC, 2 },       { "dec", OP_DEC, 2 },       { "append", OP_APPEND, 2 },
};

static const char ops_list[] =
	"create, merge, patch, delete, ignore, set:PATH=JSON, inc:PATH[=FIELD], "
	"dec:PATH[=FIELD] or append:PATH[=FIELD]";

/* The first c outside a double-quoted part of s (a set value may hold
 * one), or NULL. */
static const char *find_unquoted(const char *s, char c)
{
	int q = 0;
	for (; *s; s++) {
		if (q && *s == '\\' && s[1])
			s++;
		else if (*s == '"')
			q = !q;
		else if (!q && *s == c)
			return s;
	}
	return NULL;
}

static void rule_free(struct fold_rule *r)
{
	free(r->glob);
	path_free(&r->path);
	path_free(&r->field);
	free(r->json);
	free(r->canon);
	memset(r, 0, sizeof *r);
}

static int rule_add_one(struct fold_rules *rs, const char *glob, const char *op, char *err, size_t errlen)
{
	struct fold_rule r = {0};
	const char *colon = strchr(op, ':');
	size_t nlen = colon ? (size_t)(colon - op) : strlen(op);
	size_t k;
	for (k = 0; k < sizeof ops / sizeof *ops; k++)
		if (strlen(ops[k].name) == nlen && memcmp(ops[k].name, op, nlen) == 0)
			break;
	if (k == sizeof ops / sizeof *ops) {
		snprintf(err, errlen, "unknown operation '%s' (expected %s)", op, ops_list);
		return -1;
	}
	if (!*glob) {
		snprintf(err, errlen, "empty event type pattern");
		return -1;
	}
	if (ops[k].arg == 0 && colon) {
		snprintf(err, errlen, "'%s' takes no argument, in '%s'", ops[k].name, op);
		return -1;
	}
	r.op = ops[k].op;
	struct buf canon = {0};
	buf_adds(&canon, ops[k].name);
	if (ops[k].arg) {
		if (!colon || !colon[1]) {
			snprintf(err, errlen, "'%s' needs %s, in '%s'", ops[k].name,
			         ops[k].arg == 1 ? "PATH=JSON" : "a PATH", op);
			buf_free(&canon);
			return -1;
		}
		const char *arg = colon + 1;
		const char *eq = find_unquoted(arg, '=');
		char *ptext = eq ? xmemdup(arg, (size_t)(eq - arg)) : xstrdup(arg);
		char perr[256];
		if (!*ptext || path_parse(&r.path, ptext, perr, sizeof perr) < 0) {
			snprintf(err, errlen, "bad path '%s' in '%s'%s%s", ptext, op, *ptext ? ": " : "",
			         *ptext ? perr : "");
			free(ptext);
			buf_free(&canon);
			rule_free(&r);
			return -1;
		}
		buf_printf(&canon, ":%s", ptext);
		free(ptext);
		if (ops[k].arg == 1) {
			struct jdoc d = {0};
			struct jerr je;
			if (!eq || json_parse(&d, eq + 1, strlen(eq + 1), JSON_ANY, &je) < 0) {
				snprintf(err, errlen, "'set' needs PATH=JSON, in '%s'%s%s", op, eq ? ": " : "",
				         eq ? je.msg : "");
				json_doc_free(&d);
				buf_free(&canon);
				rule_free(&r);
				return -1;
			}
			struct buf j = {0};
			json_write_compact(&d, 0, &j);
			r.json = j.p;
			r.jsonlen = j.len;
			r.jsontype = d.tok[0].type;
			json_doc_free(&d);
			buf_printf(&canon, "=%s", r.json);
		} else if (eq) {
			if (!eq[1] || path_parse(&r.field, eq + 1, perr, sizeof perr) < 0) {
				snprintf(err, errlen, "bad field '%s' in '%s'%s%s", eq + 1, op, eq[1] ? ": " : "",
				         eq[1] ? perr : "");
				buf_free(&canon);
				rule_free(&r);
				return -1;
			}
			r.has_field = 1;
			buf_printf(&canon, "=%s", eq + 1);
		}
	}
	r.glob = xstrdup(glob);
	r.canon = canon.p;
	rs->r = xgrow(rs->r, &rs->cap, rs->n + 1, sizeof *rs->r);
	rs->r[rs->n++] = r;
	return 0;
}


int fold_rule_add(struct fold_rules *rs, const char *glob, const char *op, char *err, size_t errlen)
{
	size_t first = rs->n;
	for (const char *p = op;;) {
		const char *end = find_unquoted(p, ';');
		if (!end)
			end = p + strlen(p);
		const char *a = p, *b = end;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		char *one = xmemdup(a, (size_t)(b - a));
		int rc = -1;
		if (!*one)
			snprintf(err, errlen, "empty operation in '%s'", op);
		else
			rc = rule_add_one(rs, glob, one, err, errlen);
		free(one);
		if (rc < 0) {
			while (rs->n > first)
				rule_free(&rs->r[--rs->n]);
			return -1;
		}
		if (!*end)
			break;
		rs->r[rs->n - 1].more = 1;
		p = end + 1;
	}
	return 0;
}

int fold_rule_add_spec(struct fold_rules *rs, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	if (!eq) {
		snprintf(err, errlen, "expected GLOB=OP, not '%s'", spec);
		return -1;
	}
	char *glob = xmemdup(spec, (size_t)(eq - spec));
	int rc = fold_rule_add(rs, glob, eq + 1, err, errlen);
	free(glob);
	return rc;
}

int fold_rules_load(struct fold_rules *rs, const char *file, char *err, size_t errlen)
{
	json_t *doc = jload_file(file, err, errlen);
	if (!doc)
		return -1;
	int rc = -1;
	if (!json_is_array(doc)) {
		snprintf(err, errlen, "%s: expected a JSON array of [\"GLOB\",\"OP\"] pairs", file);
		goto out;
	}
	size_t idx;
	json_t *r;
	json_array_foreach(doc, idx, r) {
		json_t *g = json_array_get(r, 0), *o = json_array_get(r, 1);
		if (!json_is_array(r) || json_array_size(r) != 2 || !json_is_string(g) || !json_is_string(o)) {
			snprintf(err, errlen, "%s: rule %zu: expected [\"GLOB\",\"OP\"]", file, idx + 1);
			goto out;
		}
		char e2[300];
		if (fold_rule_add(rs, json_string_value(g), json_string_value(o), e2, sizeof e2) < 0) {
			snprintf(err, errlen, "%s: rule %zu: %s", file, idx + 1, e2);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

void fold_rules_finish(struct fold_rules *rs, int no_defaults)
{
	if (!no_defaults) {
		char err[256];
		fold_rule_add(rs, "*Created", "create", err, sizeof err);
		fold_rule_add(rs, "*Deleted", "delete", err, sizeof err);
		fold_rule_add(rs, "*", "merge", err, sizeof err);
	}
	struct buf c = {0};
	for (size_t i = 0; i < rs->n; i++) {
		buf_printf(&c, "%s\t%s", rs->r[i].glob, rs->r[i].canon);
		while (rs->r[i].more)
			buf_printf(&c, "; %s", rs->r[++i].canon);
		buf_addc(&c, '\n');
	}
	uint64_t h = fnv1a64(c.p ? c.p : "", c.len);
	snprintf(rs->hash, sizeof rs->hash, "%016" PRIx64, h);
	buf_free(&c);
}

static long match_uncached(const struct fold_rules *rs, const char *t, size_t n)
{
	for (size_t i = 0; i < rs->n; i++) {
		if (glob_match(rs->r[i].glob, strlen(rs->r[i].glob), t, n))
			return (long)i;
		while (rs->r[i].more) /* the rule's other operations */
			i++;
	}
	return -1;
}

#define TCACHE_MAX 4096

const struct fold_rule *fold_rules_match(struct fold_rules *rs, const char *t, size_t n)
{
	struct bmap_ent *e = bmap_find(&rs->tcache, t, n);
	if (e)
		return e->v[0] ? &rs->r[e->v[0] - 1] : NULL;
	long rule = match_uncached(rs, t, n);
	if (rs->tcache.count < TCACHE_MAX)
		bmap_get(&rs->tcache, t, n, NULL)->v[0] = (uint64_t)(rule + 1);
	return rule < 0 ? NULL : &rs->r[rule];
}

void fold_rules_free(struct fold_rules *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rule_free(&rs->r[i]);
	free(rs->r);
	bmap_free(&rs->tcache);
	memset(rs, 0, sizeof *rs);
}

/* ---- aggregates ----------------------------------------------------- */

void fold_init(struct fold *f, struct fieldmap *fm)
{
	f->fm = fm;
}

static void agg_free(struct fold_agg *a)
{
	jt_free(&a->state);
	free(a->last_id);
	free(a);
}

void fold_free(struct fold *f)
{
	for (size_t i = 0; i < f->aggmap.cap; i++)
		if (f->aggmap.tab[i].k)
			agg_free(f->aggmap.tab[i].ptr);
	bmap_free(&f->aggmap);
	free(f->order);
	jt_ctx_free(&f->jc);
	buf_free(&f->key);
	buf_free(&f->scratch);
	buf_free(&f->idbuf);
	buf_free(&f->undo);
	json_doc_free(&f->undo_doc);
	fold_rules_free(&f->rules);
}

/* The aggregate of key bytes k[0..kn) (value key) with compact JSON kj;
 * created when absent. */
static struct fold_agg *agg_get(struct fold *f, const char *k, size_t kn, const char *kj, size_t kjn)
{
	int created;
	struct bmap_ent *e = bmap_get(&f->aggmap, k, kn, &created);
	if (!created)
		return e->ptr;
	struct fold_agg *a = xcalloc(1, sizeof *a + kn + kjn + 2);
	a->key = a->keybuf;
	memcpy(a->key, k, kn);
	a->key[kn] = '\0';
	a->keylen = (uint32_t)kn;
	a->keyjson = a->key + kn + 1;
	memcpy(a->keyjson, kj, kjn);
	a->keyjson[kjn] = '\0';
	a->keyjsonlen = (uint32_t)kjn;
	e->ptr = a;
	return a;
}

static void make_present(struct fold *f, struct fold_agg *a)
{
	if (a->present)
		return;
	a->present = 1;
	f->order = xgrow(f->order, &f->ordercap, f->norder + 1, sizeof *f->order);
	f->order[f->norder++] = a;
}

static void set_last_id(struct fold_agg *a, const char *p, size_t n)
{
	if (!p) {
		a->last_id_len = 0;
		if (a->last_id)
			a->last_id[0] = '\0';
		return;
	}
	if (n + 1 > a->last_id_cap) {
		free(a->last_id);
		a->last_id_cap = (uint32_t)(n + 1);
		a->last_id = xmalloc(a->last_id_cap);
	}
	memcpy(a->last_id, p, n);
	a->last_id[n] = '\0';
	a->last_id_len = (uint32_t)n;
}

/* ---- operations ----------------------------------------------------- */

/* Make the state an object to write into: null becomes {}; -1 for other
 * types. */
static int state_object(struct fold *f, struct jt *st, const char *op, char *why, size_t wl)
{
	int ty = jt_type(st);
	if (ty == J_NULL) {
		jt_set_object(st);
		return 0;
	}
	if (ty != J_OBJ) {
		snprintf(why, wl, "%s: the state is %s %s, not an object", op, ty == J_ARR ? "an" : "a",
		         json_type_name(ty));
		return -1;
	}
	jt_open(&f->jc, st);
	return 0;
}

static const char *op_name(enum fold_op op)
{
	for (size_t k = 0; k < sizeof ops / sizeof *ops; k++)
		if (ops[k].op == op)
			return ops[k].name;
	return "?";
}

/* jt_walk with the operation's name in front of its reason. */
static int walk(struct fold *f, struct jt *root, const struct path *p, int create, struct jt **out,
                const char *op, char *why, size_t wl)
{
	char r[400];
	if (jt_walk(&f->jc, root, p, create, out, r, sizeof r) == 0)
		return 0;
	snprintf(why, wl, "%s: %s", op, r);
	return -1;
}

static int op_inc(struct fold *f, struct fold_agg *a, const struct fold_rule *r, const struct jdoc *d,
                  uint32_t payload, char *why, size_t wl)
{
	const char *name = op_name(r->op);
	int64_t bi = 1;
	double bx = 1;
	int bint = 1;
	if (r->has_field) {
		uint32_t ft = payload == JNONE ? JNONE : path_lookup(d, payload, &r->field);
		if (ft == JNONE) {
			snprintf(why, wl, "%s: missing payload field '%s'", name, r->field.text);
			return -1;
		}
		if (d->tok[ft].type != J_NUM) {
			snprintf(why, wl, "%s: payload field '%s' is %s %s, not a number", name, r->field.text,
			         d->tok[ft].type == J_ARR || d->tok[ft].type == J_OBJ ? "an" : "a",
			         json_type_name(d->tok[ft].type));
			return -1;
		}
		bint = json_tok_num(d, ft, &bi, &bx);
	}
	if (jt_type(&a->state) != J_NULL && jt_type(&a->state) != J_OBJ) {
		int ty = jt_type(&a->state);
		snprintf(why, wl, "%s: the state is %s %s, not an object", name, ty == J_ARR ? "an" : "a",
		         json_type_name(ty));
		return -1;
	}
	struct jt *t;
	if (walk(f, &a->state, &r->path, 0, &t, name, why, wl) < 0)
		return -1;
	int64_t ai = 0;
	double ax = 0;
	int aint = 1;
	if (t && jt_type(t) != J_NULL) {
		if (jt_type(t) != J_NUM) {
			int ty = jt_type(t);
			snprintf(why, wl, "%s: '%s' is %s %s, not a number", name, r->path.text,
			         ty == J_ARR || ty == J_OBJ ? "an" : "a", json_type_name(ty));
			return -1;
		}
		aint = json_num(t->u.raw, t->n, &ai, &ax);
	}
	struct buf *out = &f->scratch;
	buf_reset(out);
	int64_t ri;
	if (aint && bint &&
	    !(r->op == OP_INC ? __builtin_add_overflow(ai, bi, &ri) : __builtin_sub_overflow(ai, bi, &ri))) {
		jw_int(out, ri);
	} else {
		if (aint)
			ax = (double)ai;
		if (bint)
			bx = (double)bi;
		jw_double(out, r->op == OP_INC ? ax + bx : ax - bx);
	}
	if (walk(f, &a->state, &r->path, 1, &t, name, why, wl) < 0)
		return -1;
	jt_set_raw(t, out->p, out->len, J_NUM);
	return 0;
}

static int op_append(struct fold *f, struct fold_agg *a, const struct fold_rule *r, const struct jdoc *d,
                     uint32_t payload, char *why, size_t wl)
{
	uint32_t v = payload;
	if (r->has_field && payload != JNONE)
		v = path_lookup(d, payload, &r->field);
	if (v == JNONE) {
		if (r->has_field)
			snprintf(why, wl, "append: missing payload field '%s'", r->field.text);
		else
			snprintf(why, wl, "append: missing payload field '%s'", f->fm->f[F_PAYLOAD].text);
		return -1;
	}
	if (jt_type(&a->state) != J_NULL && jt_type(&a->state) != J_OBJ) {
		int ty = jt_type(&a->state);
		snprintf(why, wl, "append: the state is %s %s, not an object", ty == J_ARR ? "an" : "a",
		         json_type_name(ty));
		return -1;
	}
	struct jt *t;
	if (walk(f, &a->state, &r->path, 0, &t, "append", why, wl) < 0)
		return -1;
	if (t && jt_type(t) != J_NULL && jt_type(t) != J_ARR) {
		int ty = jt_type(t);
		snprintf(why, wl, "append: '%s' is %s %s, not an array", r->path.text, ty == J_OBJ ? "an" : "a",
		         json_type_name(ty));
		return -1;
	}
	if (walk(f, &a->state, &r->path, 1, &t, "append", why, wl) < 0)
		return -1;
	if (jt_type(t) == J_NULL) {
		jt_free(t);
		t->kind = JT_ARR;
	}
	jt_open(&f->jc, t);
	jt_set_tok(&f->jc, jt_push(t), d, v);
	return 0;
}

static int op_set(struct fold *f, struct fold_agg *a, const struct fold_rule *r, char *why, size_t wl)
{
	if (jt_type(&a->state) != J_NULL && jt_type(&a->state) != J_OBJ) {
		int ty = jt_type(&a->state);
		snprintf(why, wl, "set: the state is %s %s, not an object", ty == J_ARR ? "an" : "a",
		         json_type_name(ty));
		return -1;
	}
	struct jt *t;
	if (walk(f, &a->state, &r->path, 0, &t, "set", why, wl) < 0)
		return -1;
	if (walk(f, &a->state, &r->path, 1, &t, "set", why, wl) < 0)
		return -1;
	jt_set_raw(t, r->json, r->jsonlen, r->jsontype);
	return 0;
}

static int payload_missing(struct fold *f, const char *op, char *why, size_t wl)
{
	snprintf(why, wl, "%s: missing payload field '%s'", op, f->fm->f[F_PAYLOAD].text);
	return -1;
}

static int apply(struct fold *f, struct fold_agg *a, const struct fold_rule *r, const struct jdoc *d,
                 int64_t t, char *why, size_t wl)
{
	uint32_t payload = event_field(d, f->fm, F_PAYLOAD);
	switch (r ? r->op : OP_IGNORE) {
	case OP_IGNORE:
		return 0;
	case OP_CREATE:
		if (payload == JNONE)
			return payload_missing(f, "create", why, wl);
		jt_set_tok_open(&f->jc, &a->state, d, payload);
		return 0;
	case OP_MERGE: {
		if (payload == JNONE)
			return payload_missing(f, "merge", why, wl);
		int ty = d->tok[payload].type;
		if (ty != J_OBJ) {
			snprintf(why, wl, "merge: payload is %s %s, not an object", ty == J_ARR ? "an" : "a",
			         json_type_name(ty));
			return -1;
		}
		if (state_object(f, &a->state, "merge", why, wl) < 0)
			return -1;
		for (uint32_t i = payload + 1; i < d->tok[payload].next; i = d->tok[i + 1].next) {
			const struct jtok *k = &d->tok[i];
			struct jt *m = jt_put(&f->jc, &a->state, d->text + k->start, k->len);
			jt_set_tok(&f->jc, m, d, i + 1);
		}
		return 0;
	}
	case OP_PATCH:
		if (payload == JNONE)
			return payload_missing(f, "patch", why, wl);
		jt_merge_patch(&f->jc, &a->state, d, payload);
		return 0;
	case OP_DELETE: {
		if (state_object(f, &a->state, "delete", why, wl) < 0)
			return -1;
		char tb[40] = "\"";
		size_t n = time_format(t, tb + 1);
		tb[n + 1] = '"';
		jt_set_raw(jt_put(&f->jc, &a->state, "\"deleted\"", 9), "true", 4, J_TRUE);
		jt_set_raw(jt_put(&f->jc, &a->state, "\"deleted_at\"", 12), tb, n + 2, J_STR);
		return 0;
	}
	case OP_SET:
		return op_set(f, a, r, why, wl);
	case OP_INC:
	case OP_DEC:
		return op_inc(f, a, r, d, payload, why, wl);
	case OP_APPEND:
		return op_append(f, a, r, d, payload, why, wl);
	}
	return 0;
}

/* A rule's operations in order; with several, all or nothing: the state
 * is written out before the first and read back when one fails. */
static int apply_rule(struct fold *f, struct fold_agg *a, const struct fold_rule *r, const struct jdoc *d,
                      int64_t t, char *why, size_t wl)
{
	if (!r || !r->more)
		return apply(f, a, r, d, t, why, wl);
	int was_none = a->state.kind == JT_NONE;
	buf_reset(&f->undo);
	if (!was_none)
		jt_write(&a->state, &f->undo);
	for (;; r++) {
		if (apply(f, a, r, d, t, why, wl) < 0)
			break;
		if (!r->more)
			return 0;
	}
	jt_free(&a->state);
	memset(&a->state, 0, sizeof a->state);
	if (!was_none) {
		struct jerr err;
		if (json_parse(&f->undo_doc, f->undo.p, f->undo.len, JSON_ANY, &err) < 0)
			ev_die(EV_IO, "internal error: a state no longer parses");
		jt_set_tok_open(&f->jc, &a->state, &f->undo_doc, 0);
	}
	return -1;
}

/* ---- events --------------------------------------------------------- */

/* A value for a message: a plain string bare, anything else as JSON. */
static void show(struct buf *b, const char *json, size_t n)
{
	if (n >= 2 && json[0] == '"' && !memchr(json, '\\', n))
		buf_add(b, json + 1, n - 2);
	else
		buf_add(b, json, n);
}

static int type_selected(const struct fold_filter *fl, const char *t, size_t n)
{
	for (size_t i = 0; i < fl->ntypes; i++)
		if (strlen(fl->types[i]) == n && memcmp(fl->types[i], t, n) == 0)
			return 1;
	return 0;
}

static int key_selected(struct fold *f, const struct jdoc *d, uint32_t k)
{
	if (d->tok[k].type != J_STR)
		return 0;
	const char *p;
	size_t n;
	buf_reset(&f->scratch);
	json_str(d, k, &f->scratch, &p, &n);
	for (size_t i = 0; i < f->filter.naggs; i++)
		if (strlen(f->filter.aggs[i]) == n && memcmp(f->filter.aggs[i], p, n) == 0)
			return 1;
	return 0;
}

/* Check the event's version against the aggregate's: 0 in sequence (or
 * no version), 1 out of sequence (warned, or rejected when strict). */
static int check_version(struct fold *f, struct evctx *cx, struct ev_event *ev, struct fold_agg *a,
                         int64_t v, const char *id, size_t idn)
{
	if (!a->have_last_ver) {
		a->last_ver = v;
		a->have_last_ver = 1;
		return 0;
	}
	/* nothing follows INT64_MAX: such an event is a duplicate or out of
	 * order below, never an overflow */
	if (a->last_ver < INT64_MAX && v == a->last_ver + 1) {
		a->last_ver = v;
		return 0;
	}
	struct buf m = {0};
	if (v > a->last_ver)
		buf_adds(&m, "version gap in aggregate ");
	else if (v == a->last_ver)
		buf_adds(&m, "duplicate version in aggregate ");
	else
		buf_adds(&m, "version out of order in aggregate ");
	show(&m, a->keyjson, a->keyjsonlen);
	buf_adds(&m, ": event ");
	if (id)
		show(&m, id, idn);
	else
		buf_adds(&m, "(no id)");
	if (v > a->last_ver)
		buf_printf(&m, " has version %" PRId64 ", expected %" PRId64, v, a->last_ver + 1);
	else if (v == a->last_ver)
		buf_printf(&m, " has version %" PRId64 " again", v);
	else
		buf_printf(&m, " has version %" PRId64 " after %" PRId64, v, a->last_ver);
	int strict = f->strict_versions;
	if (strict) {
		ev_reject(cx, ev, "%s", m.p);
	} else {
		ev_line_warn(cx, ev, "%s", m.p);
		if (v > a->last_ver)
			a->last_ver = v;
	}
	buf_free(&m);
	return strict;
}

enum fold_result fold_event(struct fold *f, struct evctx *cx, struct ev_event *ev, struct fold_agg **agg)
{
	const struct jdoc *d = ev->doc;
	const struct fieldmap *fm = f->fm;
	char why[512];
	*agg = NULL;

	uint32_t kt = event_field(d, fm, F_KEY);
	if (kt == JNONE || d->tok[kt].type == J_NULL) {
		ev_reject(cx, ev, "missing key field '%s'", fm->f[F_KEY].text);
		return FOLD_REJECTED;
	}
	if (f->filter.naggs && !key_selected(f, d, kt))
		return FOLD_SKIPPED;
	uint32_t tt = event_field(d, fm, F_TYPE);
	if (tt == JNONE || d->tok[tt].type != J_STR) {
		if (tt == JNONE)
			ev_reject(cx, ev, "missing type field '%s'", fm->f[F_TYPE].text);
		else
			ev_reject(cx, ev, "type field '%s' is not a string", fm->f[F_TYPE].text);
		return FOLD_REJECTED;
	}
	int64_t t;
	if (event_time(d, fm, &t, why, sizeof why) < 0) {
		ev_reject(cx, ev, "%s", why);
		return FOLD_REJECTED;
	}
	uint32_t vt = event_field(d, fm, F_VERSION);
	int64_t v = 0;
	int has_v = 0;
	if (vt != JNONE && d->tok[vt].type != J_NULL) {
		if (json_tok_int(d, vt, INT64_MIN, INT64_MAX, &v) < 0) {
			const struct jtok *k = &d->tok[vt];
			int n = k->len > 40 ? 40 : (int)k->len;
			ev_reject(cx, ev, "version field '%s' is not an integer: %.*s%s", fm->f[F_VERSION].text, n,
			          d->text + k->start, k->len > 40 ? "..." : "");
			return FOLD_REJECTED;
		}
		has_v = 1;
	}

	buf_reset(&f->key);
	json_value_key(d, kt, &f->key);
	size_t kn = f->key.len;
	json_write_compact(d, kt, &f->key);
	struct fold_agg *a = agg_get(f, f->key.p, kn, f->key.p + kn, f->key.len - kn);

	/* a version-less event's version is its position among the
	 * aggregate's events read (rejected ones do not count) */
	int64_t ver = has_v ? v : (int64_t)a->read + 1;
	if (a->have_snap && ver <= a->snap_version) {
		a->read++;
		return FOLD_SKIPPED;
	}

	uint32_t it = event_field(d, fm, F_ID);
	const char *id = NULL;
	size_t idn = 0;
	if (it != JNONE) {
		id = d->text + d->tok[it].start;
		idn = d->tok[it].len;
		if (d->tok[it].type == J_OBJ || d->tok[it].type == J_ARR) {
			buf_reset(&f->idbuf);
			json_write_compact(d, it, &f->idbuf);
			id = f->idbuf.p;
			idn = f->idbuf.len;
		}
	}
	if (has_v && check_version(f, cx, ev, a, v, id, idn))
		return FOLD_REJECTED;

	const struct fold_filter *fl = &f->filter;
	if ((fl->have_since && t < fl->since) || (fl->have_until && t > fl->until) ||
	    (fl->have_to_version && ver > fl->to_version)) {
		a->read++;
		return FOLD_SKIPPED;
	}
	if (fl->nwhere) {
		struct expr_input in = { .doc = d, .line = ev->in->lineno };
		for (size_t i = 0; i < fl->nwhere; i++) {
			int r = ev_expr_test(cx, ev, fl->where[i], &in);
			if (r < 0)
				return FOLD_REJECTED;
			if (r == 0) {
				a->read++;
				return FOLD_SKIPPED;
			}
		}
	}

	const char *tp;
	size_t tn;
	struct buf tscratch = {0};
	json_str(d, tt, &tscratch, &tp, &tn);
	if (fl->ntypes && !type_selected(fl, tp, tn)) {
		buf_free(&tscratch);
		a->read++;
		return FOLD_SKIPPED;
	}
	const struct fold_rule *r = fold_rules_match(&f->rules, tp, tn);
	buf_free(&tscratch);
	if (apply_rule(f, a, r, d, t, why, sizeof why) < 0) {
		struct buf m = {0};
		buf_adds(&m, "event ");
		if (id)
			show(&m, id, idn);
		else
			buf_adds(&m, "(no id)");
		ev_reject(cx, ev, "%s: %s", m.p, why);
		buf_free(&m);
		return FOLD_REJECTED;
	}
	a->read++;
	make_present(f, a);
	if (a->events == 0 && !a->have_snap)
		a->first_at = t;
	a->events++;
	a->version = ver;
	a->last_at = t;
	set_last_id(a, id, idn);
	a->since_snap++;
	*agg = a;
	return FOLD_APPLIED;
}

/* ---- snapshots ------------------------------------------------------ */

static int snap_time(const struct jdoc *d, uint32_t t, int64_t *us)
{
	if (t == JNONE || d->tok[t].type != J_STR || (d->tok[t].flags & JF_ESC))
		return -1;
	return time_parse_iso(d->text + d->tok[t].start + 1, d->tok[t].len - 2, us);
}

int fold_load_snapshot(struct fold *f, struct evctx *cx, struct ev_event *ev)
{
	const struct jdoc *d = ev->doc;
	uint32_t kt = json_get(d, 0, "aggregate_id", 12);
	uint32_t vt = json_get(d, 0, "version", 7);
	uint32_t st = json_get(d, 0, "state", 5);
	uint32_t nt = json_get(d, 0, "events_replayed", 15);
	uint32_t ft = json_get(d, 0, "first_at", 8);
	uint32_t lt = json_get(d, 0, "last_at", 7);
	uint32_t it = json_get(d, 0, "last_event_id", 13);
	uint32_t rt = json_get(d, 0, "rules", 5);
	int64_t v, n, t0, t1;
	const char *bad = NULL;
	if (kt == JNONE || d->tok[kt].type == J_NULL)
		bad = "aggregate_id";
	else if (json_tok_int(d, vt, INT64_MIN, INT64_MAX, &v) < 0)
		bad = "version";
	else if (st == JNONE)
		bad = "state";
	else if (json_tok_int(d, nt, 0, INT64_MAX, &n) < 0)
		bad = "events_replayed";
	else if (snap_time(d, ft, &t0) < 0)
		bad = "first_at";
	else if (snap_time(d, lt, &t1) < 0)
		bad = "last_at";
	else if (rt == JNONE || d->tok[rt].type != J_STR)
		bad = "rules";
	if (bad) {
		ev_reject(cx, ev, "not a snapshot: missing or bad '%s'", bad);
		return -1;
	}
	f->snaps_loaded++;
	if (d->tok[rt].len != 18 || memcmp(d->text + d->tok[rt].start + 1, f->rules.hash, 16) != 0) {
		f->snaps_other_rules++;
		return 0;
	}
	if (f->filter.naggs && !key_selected(f, d, kt))
		return 0;
	const struct fold_filter *fl = &f->filter;
	if ((fl->have_until && t1 > fl->until) || (fl->have_to_version && v > fl->to_version)) {
		f->snaps_unusable++;
		return 0;
	}
	buf_reset(&f->key);
	json_value_key(d, kt, &f->key);
	size_t kn = f->key.len;
	json_write_compact(d, kt, &f->key);
	struct fold_agg *a = agg_get(f, f->key.p, kn, f->key.p + kn, f->key.len - kn);
	if (a->have_snap && a->snap_version > v)
		return 0;
	jt_set_tok(&f->jc, &a->state, d, st);
	a->have_snap = 1;
	a->snap_version = v;
	a->version = v;
	a->last_ver = v;
	a->have_last_ver = 1;
	a->events = (uint64_t)n;
	a->first_at = t0;
	a->last_at = t1;
	if (it == JNONE || d->tok[it].type == J_NULL) {
		set_last_id(a, NULL, 0);
	} else {
		buf_reset(&f->scratch);
		json_write_compact(d, it, &f->scratch);
		set_last_id(a, f->scratch.p, f->scratch.len);
	}
	make_present(f, a);
	return 1;
}

void fold_snapshot_report(struct fold *f, const char *what)
{
	if (f->snaps_other_rules)
		ev_warn("%s: %" PRIu64 " snapshot%s taken under other rules ignored (ours: %s)", what,
		        f->snaps_other_rules, f->snaps_other_rules == 1 ? "" : "s", f->rules.hash);
	if (f->snaps_unusable)
		ev_warn("%s: %" PRIu64 " snapshot%s later than --as-of/--until/--to-version ignored", what,
		        f->snaps_unusable, f->snaps_unusable == 1 ? "" : "s");
	f->snaps_other_rules = f->snaps_unusable = 0;
}

/* ---- rows ----------------------------------------------------------- */

void fold_row(struct fold *f, const struct fold_agg *a, int with_rules, struct buf *out)
{
	char tb[40];
	size_t n;
	buf_adds(out, "{\"aggregate_id\":");
	buf_add(out, a->keyjson, a->keyjsonlen);
	buf_adds(out, ",\"version\":");
	jw_int(out, a->version);
	buf_adds(out, ",\"state\":");
	jt_write(&a->state, out);
	buf_adds(out, ",\"events_replayed\":");
	jw_uint(out, a->events);
	buf_adds(out, ",\"first_at\":");
	n = time_format(a->first_at, tb);
	jw_string(out, tb, n);
	buf_adds(out, ",\"last_at\":");
	n = time_format(a->last_at, tb);
	jw_string(out, tb, n);
	buf_adds(out, ",\"last_event_id\":");
	if (a->last_id_len)
		buf_add(out, a->last_id, a->last_id_len);
	else
		buf_adds(out, "null");
	if (with_rules) {
		buf_adds(out, ",\"rules\":\"");
		buf_adds(out, f->rules.hash);
		buf_addc(out, '"');
	}
	buf_addc(out, '}');
}

int fold_rules_build(struct fold_rules *rs, const char *file, const char *const *specs, size_t nspecs,
                     int no_defaults)
{
	char err[512];
	if (file && fold_rules_load(rs, file, err, sizeof err) < 0) {
		ev_warn("--rules %s", err);
		return -1;
	}
	for (size_t i = 0; i < nspecs; i++)
		if (fold_rule_add_spec(rs, specs[i], err, sizeof err) < 0) {
			ev_warn("--rule '%s': %s", specs[i], err);
			return -1;
		}
	fold_rules_finish(rs, no_defaults);
	return 0;
}
