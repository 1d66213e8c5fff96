/*
 * cep_pattern.c — evcep's pattern language (see cep.h): the -p text
 * parser, with errors that point at a column, and the JSON form loaded
 * with jansson; both end in one check of the rules (finish()) and
 * conditions compiled against the pattern's aliases.
 */
#include "cep.h"
#include "ev.h"
#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== patterns ============================================================= */

static int perr(struct cep_error *err, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(struct cep_error *err, size_t col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	err->column = col;
	return -1;
}

void cep_pattern_free(struct cep_pattern *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nsteps; i++) {
		struct cep_step *s = &p->steps[i];
		free(s->alias);
		free(s->type);
		free(s->where_src);
		if (s->where)
			expr_free(s->where);
	}
	free(p->steps);
	for (size_t i = 0; i < p->nby; i++)
		path_free(&p->by[i]);
	free(p->by);
	for (size_t i = 0; i < p->nactions; i++)
		free(p->actions[i]);
	free(p->actions);
	free(p->aliases);
	free(p->alias_step);
	free(p->step_alias);
	free(p->name);
	free(p->text);
	free(p);
}

static struct cep_step *new_step(struct cep_pattern *p)
{
	p->steps = xrealloc(p->steps, (p->nsteps + 1) * sizeof *p->steps);
	struct cep_step *s = &p->steps[p->nsteps++];
	memset(s, 0, sizeof *s);
	s->min = s->max = 1;
	return s;
}

static void set_type(struct cep_step *s, const char *t, size_t n)
{
	if (n == 1 && t[0] == '*') {
		s->type = NULL;
		return;
	}
	s->type = xmemdup(t, n);
	s->glob = memchr(t, '*', n) || memchr(t, '?', n) || memchr(t, '[', n);
}

static int ident_start(int c) { return isalpha(c) || c == '_'; }
static int ident_char(int c) { return isalnum(c) || c == '_'; }

/*
 * Rules shared by both forms, checked once the steps are known: the
 * alias table, the first step, absences, within, and the conditions
 * compiled against the aliases.  cols (may be NULL) gives each step's
 * column and its condition's column for messages.
 */
struct stepcols { size_t step, cond; };

static int finish(struct cep_pattern *p, const struct expr_env *env0, const struct stepcols *cols,
                  int has_within, struct cep_error *err)
{
	size_t n = p->nsteps;
#define COL(i) (cols ? cols[i].step : 0)
	if (n == 0)
		return perr(err, 0, "pattern '%s' has no steps", p->name);
	if (n > CEP_MAX_STEPS - 1)
		return perr(err, COL(n - 1), "more than %d steps", CEP_MAX_STEPS - 1);
	p->aliases = xcalloc(n, sizeof *p->aliases);
	p->alias_step = xcalloc(n, sizeof *p->alias_step);
	p->step_alias = xcalloc(n, sizeof *p->step_alias);
	p->last_pos = -1;
	for (size_t i = 0; i < n; i++) {
		struct cep_step *s = &p->steps[i];
		p->step_alias[i] = -1;
		if (!s->type)
			p->any_type = 1;
		if (s->absent) {
			if (i == 0)
				return perr(err, COL(i), "a pattern cannot start with an absence");
			if (s->alias)
				return perr(err, COL(i), "an absence has no alias");
			if (s->quantified)
				return perr(err, COL(i), "an absence takes no quantifier");
			continue;
		}
		if (s->max == 0 || s->min > s->max)
			return perr(err, COL(i), "bad quantifier {%u,%u}", s->min, s->max);
		if (i == 0 && s->min == 0)
			return perr(err, COL(i), "the first step cannot be optional");
		p->last_pos = (int)i;
		if (s->alias) {
			for (size_t a = 0; a < p->naliases; a++)
				if (strcmp(p->aliases[a], s->alias) == 0)
					return perr(err, COL(i), "alias '%s' is used twice", s->alias);
			p->step_alias[i] = (int)p->naliases;
			p->alias_step[p->naliases] = (int)i;
			p->aliases[p->naliases++] = s->alias;
		}
	}
	for (size_t i = (size_t)p->last_pos + 1; i < n; i++)
		p->trailing = 1;
	p->single = n == 1 && !p->steps[0].quantified;
	if (!has_within && !p->single)
		return perr(err, cols ? strlen(p->text) + 1 : 0,
		            "pattern '%s' needs 'within DUR' (only a one-event pattern goes without)", p->name);
	if (!has_within)
		p->within = -1;
	struct expr_env env = *env0;
	env.aliases = p->aliases;
	env.naliases = p->naliases;
	for (size_t i = 0; i < n; i++) {
		struct cep_step *s = &p->steps[i];
		if (!s->where_src)
			continue;
		struct expr_error ee;
		s->where = expr_compile(s->where_src, &env, &ee);
		size_t cc = cols ? cols[i].cond : 0;
		if (!s->where) {
			snprintf(err->msg, sizeof err->msg, "%s", ee.msg);
			err->column = cols ? cc + ee.column - 1 : ee.column;
			return -1;
		}
		s->uses = expr_alias_mask(s->where);
		for (size_t a = 0; a < p->naliases; a++)
			if ((s->uses >> a & 1) && (size_t)p->alias_step[a] > i)
				return perr(err, cc, "alias '%s' names a later step", p->aliases[a]);
	}
	return 0;
#undef COL
}

static size_t skip_blank(const char *s, size_t i)
{
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	return i;
}

/* The end of a bracketed condition starting at s[i] == '[': the index of
 * its closing ']', or 0. */
static size_t cond_end(const char *s, size_t i)
{
	int depth = 0;
	char q = 0;
	for (; s[i]; i++) {
		char c = s[i];
		if (q) {
			if (c == '\\' && s[i + 1])
				i++;
			else if (c == q)
				q = 0;
			continue;
		}
		if (c == '"' || c == '\'')
			q = c;
		else if (c == '[' || c == '(')
			depth++;
		else if (c == ']' || c == ')') {
			if (--depth == 0)
				return c == ']' ? i : 0;
		}
	}
	return 0;
}

static int word_at(const char *s, size_t i, const char *w)
{
	size_t n = strlen(w);
	return strncmp(s + i, w, n) == 0 && (s[i + n] == '\0' || strchr(" \t\r\n", s[i + n]));
}

/* {n}, {n,m}; i at '{'.  Returns the index after '}', or 0. */
static size_t parse_braces(const char *s, size_t i, struct cep_step *st, struct cep_error *err)
{
	char *end;
	errno = 0;
	unsigned long a = strtoul(s + i + 1, &end, 10), b;
	if (end == s + i + 1 || errno || a > 1000000) {
		perr(err, i + 2, "expected {n} or {n,m} with n a number up to 1000000");
		return 0;
	}
	b = a;
	if (*end == ',') {
		const char *bs = end + 1;
		b = strtoul(bs, &end, 10);
		if (end == bs || errno || b > 1000000) {
			perr(err, (size_t)(bs - s) + 1, "expected a number up to 1000000 after ','");
			return 0;
		}
	}
	if (*end != '}') {
		perr(err, (size_t)(end - s) + 1, "expected '}'");
		return 0;
	}
	st->min = (uint32_t)a;
	st->max = (uint32_t)b;
	st->quantified = 1;
	return (size_t)(end - s) + 1;
}

static size_t parse_step(struct cep_pattern *p, const char *s, size_t i, struct stepcols *col, struct cep_error *err)
{
	struct cep_step *st = new_step(p);
	col->step = i + 1;
	col->cond = 0;
	if (s[i] == '!') {
		st->absent = 1;
		i = skip_blank(s, i + 1);
	}
	/* alias= (not ==, not =>) */
	size_t j = i;
	if (ident_start((unsigned char)s[j])) {
		while (ident_char((unsigned char)s[j]))
			j++;
		if (s[j] == '=' && s[j + 1] != '=' && s[j + 1] != '>') {
			st->alias = xmemdup(s + i, j - i);
			i = j + 1;
		}
	}
	if (s[i] == '"') {
		struct jdoc d = {0};
		struct jerr je;
		size_t k = i + 1;
		while (s[k] && s[k] != '"')
			k += s[k] == '\\' && s[k + 1] ? 2 : 1;
		if (s[k] != '"' || json_parse(&d, s + i, k + 1 - i, JSON_ANY, &je) < 0) {
			json_doc_free(&d);
			perr(err, i + 1, "bad quoted type");
			return 0;
		}
		struct buf b = {0};
		json_unescape(s + i + 1, k - i - 1, &b);
		json_doc_free(&d);
		st->type = xmemdup(b.p ? b.p : "", b.len);
		buf_free(&b);
		i = k + 1;
	} else {
		size_t t0 = i;
		while (s[i] && !strchr(" \t\r\n[{", s[i]) && !(s[i] == '-' && s[i + 1] == '>') &&
		       !(s[i] == '=' && s[i + 1] == '>'))
			i++;
		size_t t1 = i;
		/* a trailing + or ? is the quantifier */
		if (t1 > t0 + 1 && (s[t1 - 1] == '+' || s[t1 - 1] == '?')) {
			st->quantified = 1;
			st->min = s[t1 - 1] == '+' ? 1 : 0;
			st->max = s[t1 - 1] == '+' ? CEP_UNBOUNDED : 1;
			t1--;
		}
		if (t1 == t0) {
			perr(err, t0 + 1, s[t0] ? "expected an event type or '*'" : "expected a step at the end of the pattern");
			return 0;
		}
		set_type(st, s + t0, t1 - t0);
	}
	for (int round = 0; round < 2; round++) {
		size_t k = skip_blank(s, i);
		if (s[k] == '[' && !st->where_src) {
			size_t e = cond_end(s, k);
			if (!e) {
				perr(err, k + 1, "unclosed '[' condition");
				return 0;
			}
			st->where_src = xmemdup(s + k + 1, e - k - 1);
			col->cond = k + 2;
			i = e + 1;
		} else if (!st->quantified && (s[k] == '{' || ((s[k] == '+' || s[k] == '?') && k == i))) {
			if (s[k] == '{') {
				i = parse_braces(s, k, st, err);
				if (!i)
					return 0;
			} else {
				st->quantified = 1;
				st->min = s[k] == '+' ? 1 : 0;
				st->max = s[k] == '+' ? CEP_UNBOUNDED : 1;
				i = k + 1;
			}
		}
	}
	return i;
}

static int parse_by(struct cep_pattern *p, const char *s, size_t i, size_t e, struct cep_error *err)
{
	char *txt = xmemdup(s + i, e - i);
	char **list = NULL;
	size_t n = 0;
	path_split_list(txt, &list, &n);
	int rc = 0;
	size_t at = i;
	p->by = xcalloc(n, sizeof *p->by);
	for (size_t k = 0; k < n; k++) {
		char *a = list[k], *z = a + strlen(a);
		while (*a == ' ' || *a == '\t')
			a++, at++;
		while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
			*--z = '\0';
		char perrs[256];
		if (!rc && strstr(a, "[]")) {
			rc = perr(err, at + 1, "'[]' is not allowed in 'by' (one value per event)");
		} else if (!rc && path_parse(&p->by[p->nby], a, perrs, sizeof perrs) < 0) {
			path_free(&p->by[p->nby]);
			rc = perr(err, at + 1, "%s", perrs);
		} else if (!rc) {
			p->nby++;
		}
		at += strlen(list[k]) + 1;
		free(list[k]);
	}
	free(list);
	free(txt);
	return rc;
}

static int parse_actions(struct cep_pattern *p, const char *s, size_t i, struct cep_error *err)
{
	const char *q = s + i;
	for (;;) {
		while (*q && strchr(" \t\r\n", *q))
			q++;
		const char *a = q;
		while (*q && *q != ',')
			q++;
		const char *z = q;
		while (z > a && strchr(" \t\r\n", z[-1]))
			z--;
		if (z == a)
			return perr(err, (size_t)(a - s) + 1, "expected an action name");
		p->actions = xrealloc(p->actions, (p->nactions + 1) * sizeof *p->actions);
		p->actions[p->nactions++] = xmemdup(a, (size_t)(z - a));
		if (!*q)
			return 0;
		q++;
	}
}

struct cep_pattern *cep_parse(const char *src, const struct expr_env *env, struct cep_error *err)
{
	struct cep_pattern *p = xcalloc(1, sizeof *p);
	p->text = xstrdup(src);
	struct stepcols cols[CEP_MAX_STEPS];
	const char *s = src;
	size_t i = skip_blank(s, 0), n0 = i;
	while (s[i] && (isalnum((unsigned char)s[i]) || strchr("_.-", s[i])))
		i++;
	if (i == n0 || s[i] != ':') {
		perr(err, i + 1, "expected 'NAME:' before the steps");
		goto bad;
	}
	p->name = xmemdup(s + n0, i - n0);
	i = skip_blank(s, i + 1);
	for (;;) {
		if (p->nsteps >= CEP_MAX_STEPS - 1) {
			perr(err, i + 1, "more than %d steps", CEP_MAX_STEPS - 1);
			goto bad;
		}
		i = parse_step(p, s, i, &cols[p->nsteps], err);
		if (!i)
			goto bad;
		i = skip_blank(s, i);
		if (s[i] == '-' && s[i + 1] == '>') {
			i = skip_blank(s, i + 2);
			continue;
		}
		break;
	}
	int has_within = 0;
	while (s[i]) {
		if (word_at(s, i, "within") && !has_within) {
			i = skip_blank(s, i + 6);
			size_t d0 = i;
			while (s[i] && !strchr(" \t\r\n", s[i]))
				i++;
			if (dur_parse(s + d0, i - d0, &p->within) < 0 || p->within < 0) {
				perr(err, d0 + 1, "bad duration '%.*s' after 'within'", (int)(i - d0), s + d0);
				goto bad;
			}
			has_within = 1;
		} else if (word_at(s, i, "by") && !p->by) {
			i = skip_blank(s, i + 2);
			size_t b0 = i, e = i;
			while (s[e] && !(s[e] == '=' && s[e + 1] == '>') &&
			       !(strchr(" \t\r\n", s[e - 1]) && word_at(s, e, "within")))
				e++;
			size_t z = e;
			while (z > b0 && strchr(" \t\r\n", s[z - 1]))
				z--;
			if (z == b0) {
				perr(err, b0 + 1, "expected a path after 'by'");
				goto bad;
			}
			if (parse_by(p, s, b0, z, err) < 0)
				goto bad;
			i = e;
		} else if (s[i] == '=' && s[i + 1] == '>') {
			if (parse_actions(p, s, i + 2, err) < 0)
				goto bad;
			break;
		} else {
			perr(err, i + 1, p->nsteps && !has_within ? "expected '->', 'within', 'by' or '=>'"
			                                          : "expected 'within', 'by' or '=>'");
			goto bad;
		}
		i = skip_blank(s, i);
	}
	if (finish(p, env, cols, has_within, err) < 0)
		goto bad;
	return p;
bad:
	cep_pattern_free(p);
	return NULL;
}

/* ---- the JSON form ------------------------------------------------------ */

static int jstr(json_t *o, const char *k, const char **v, int required, char *msg, size_t ml)
{
	json_t *x = json_object_get(o, k);
	*v = NULL;
	if (!x || json_is_null(x)) {
		if (required)
			snprintf(msg, ml, "\"%s\" is required", k);
		return required ? -1 : 0;
	}
	if (!json_is_string(x)) {
		snprintf(msg, ml, "\"%s\" must be a string", k);
		return -1;
	}
	*v = json_string_value(x);
	return 0;
}

static int juint(json_t *o, const char *k, uint32_t *v, int *given, char *msg, size_t ml)
{
	json_t *x = json_object_get(o, k);
	*given = x != NULL;
	if (!x)
		return 0;
	if (json_is_null(x)) {
		*v = CEP_UNBOUNDED;
		return 0;
	}
	if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 1000000) {
		snprintf(msg, ml, "\"%s\" must be a whole number from 0 to 1000000%s", k,
		         strcmp(k, "max") == 0 ? " or null" : "");
		return -1;
	}
	*v = (uint32_t)json_integer_value(x);
	return 0;
}

static const char *const pattern_keys[] = { "name", "steps", "within", "by", "actions", NULL };
static const char *const step_keys[] = { "alias", "type", "where", "min", "max", "absent", NULL };

static int known_keys(json_t *o, const char *const *keys, char *msg, size_t ml)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], k) != 0)
			i++;
		if (!keys[i]) {
			snprintf(msg, ml, "unknown member \"%s\"", k);
			return -1;
		}
	}
	return 0;
}

static struct cep_pattern *from_json(json_t *o, const struct expr_env *env, char *msg, size_t ml, const char *label)
{
	struct cep_pattern *p = xcalloc(1, sizeof *p);
	p->text = xstrdup(label);
	const char *name, *within;
	struct cep_error err;
	if (!json_is_object(o)) {
		snprintf(msg, ml, "expected an object");
		goto bad;
	}
	if (known_keys(o, pattern_keys, msg, ml) < 0 || jstr(o, "name", &name, 1, msg, ml) < 0 ||
	    jstr(o, "within", &within, 0, msg, ml) < 0)
		goto bad;
	p->name = xstrdup(name);
	if (within && (dur_parse(within, strlen(within), &p->within) < 0 || p->within < 0)) {
		snprintf(msg, ml, "bad duration \"%s\" in \"within\"", within);
		goto bad;
	}
	json_t *steps = json_object_get(o, "steps");
	if (!json_is_array(steps) || json_array_size(steps) == 0) {
		snprintf(msg, ml, "\"steps\" must be a non-empty array");
		goto bad;
	}
	if (json_array_size(steps) > CEP_MAX_STEPS - 1) {
		snprintf(msg, ml, "more than %d steps", CEP_MAX_STEPS - 1);
		goto bad;
	}
	size_t i;
	json_t *js;
	json_array_foreach(steps, i, js) {
		struct cep_step *st = new_step(p);
		char sm[200];
		const char *alias, *type, *where;
		int gmin, gmax;
		if (!json_is_object(js)) {
			snprintf(msg, ml, "steps[%zu]: expected an object", i);
			goto bad;
		}
		if (known_keys(js, step_keys, sm, sizeof sm) < 0 || jstr(js, "alias", &alias, 0, sm, sizeof sm) < 0 ||
		    jstr(js, "type", &type, 1, sm, sizeof sm) < 0 || jstr(js, "where", &where, 0, sm, sizeof sm) < 0 ||
		    juint(js, "min", &st->min, &gmin, sm, sizeof sm) < 0 ||
		    juint(js, "max", &st->max, &gmax, sm, sizeof sm) < 0) {
			snprintf(msg, ml, "steps[%zu]: %s", i, sm);
			goto bad;
		}
		if (gmin && st->min == CEP_UNBOUNDED) {
			snprintf(msg, ml, "steps[%zu]: \"min\" must be a whole number", i);
			goto bad;
		}
		json_t *ab = json_object_get(js, "absent");
		if (ab && !json_is_boolean(ab)) {
			snprintf(msg, ml, "steps[%zu]: \"absent\" must be true or false", i);
			goto bad;
		}
		st->absent = ab && json_is_true(ab);
		if (gmin && !gmax)
			st->max = st->min;
		st->quantified = gmin || gmax;
		if (alias) {
			const char *a = alias;
			int ok = ident_start((unsigned char)*a);
			while (ok && *++a)
				ok = ident_char((unsigned char)*a);
			if (!ok) {
				snprintf(msg, ml, "steps[%zu]: bad alias \"%s\"", i, alias);
				goto bad;
			}
			st->alias = xstrdup(alias);
		}
		if (!*type) {
			snprintf(msg, ml, "steps[%zu]: empty \"type\"", i);
			goto bad;
		}
		set_type(st, type, strlen(type));
		if (where)
			st->where_src = xstrdup(where);
	}
	json_t *by = json_object_get(o, "by");
	if (by && !json_is_null(by)) {
		if (json_is_string(by)) {
			p->by = xcalloc(1, sizeof *p->by);
			char pe[256];
			if (strstr(json_string_value(by), "[]") || path_parse(&p->by[0], json_string_value(by), pe, sizeof pe) < 0) {
				snprintf(msg, ml, "\"by\": %s", strstr(json_string_value(by), "[]") ? "'[]' is not allowed" : pe);
				path_free(&p->by[0]);
				goto bad;
			}
			p->nby = 1;
		} else if (json_is_array(by) && json_array_size(by) > 0) {
			p->by = xcalloc(json_array_size(by), sizeof *p->by);
			json_t *b;
			json_array_foreach(by, i, b) {
				char pe[256];
				if (!json_is_string(b)) {
					snprintf(msg, ml, "\"by\"[%zu]: expected a path string", i);
					goto bad;
				}
				if (strstr(json_string_value(b), "[]") ||
				    path_parse(&p->by[p->nby], json_string_value(b), pe, sizeof pe) < 0) {
					snprintf(msg, ml, "\"by\"[%zu]: %s", i,
					         strstr(json_string_value(b), "[]") ? "'[]' is not allowed" : pe);
					path_free(&p->by[p->nby]);
					goto bad;
				}
				p->nby++;
			}
		} else {
			snprintf(msg, ml, "\"by\" must be a path or a non-empty array of paths");
			goto bad;
		}
	}
	json_t *acts = json_object_get(o, "actions");
	if (acts && !json_is_null(acts)) {
		json_t *a;
		if (!json_is_array(acts)) {
			snprintf(msg, ml, "\"actions\" must be an array of strings");
			goto bad;
		}
		json_array_foreach(acts, i, a) {
			if (!json_is_string(a) || !*json_string_value(a)) {
				snprintf(msg, ml, "\"actions\"[%zu]: expected a non-empty string", i);
				goto bad;
			}
			p->actions = xrealloc(p->actions, (p->nactions + 1) * sizeof *p->actions);
			p->actions[p->nactions++] = xstrdup(json_string_value(a));
		}
	}
	if (finish(p, env, NULL, within != NULL, &err) < 0) {
		snprintf(msg, ml, "%s", err.msg);
		goto bad;
	}
	return p;
bad:
	cep_pattern_free(p);
	return NULL;
}

int cep_load_file(const char *path, const struct expr_env *env, struct cep_pattern ***pats, size_t *npats)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (je.line <= 0)
			ev_warn("-f %s: %s", path, je.text);
		else
			ev_warn("-f %s:%d:%d: %s", path, je.line, je.column, je.text);
		return -1;
	}
	size_t n = json_is_array(root) ? json_array_size(root) : 1;
	if (json_is_array(root) && n == 0) {
		ev_warn("-f %s: no patterns in the array", path);
		json_decref(root);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_is_array(root) ? json_array_get(root, i) : root;
		char msg[400], label[64];
		snprintf(label, sizeof label, "pattern %zu", i + 1);
		struct cep_pattern *p = from_json(o, env, msg, sizeof msg, label);
		if (!p) {
			json_t *nm = json_is_object(o) ? json_object_get(o, "name") : NULL;
			if (json_is_string(nm))
				ev_warn("-f %s: pattern %zu (%s): %s", path, i + 1, json_string_value(nm), msg);
			else
				ev_warn("-f %s: pattern %zu: %s", path, i + 1, msg);
			json_decref(root);
			return -1;
		}
		*pats = xrealloc(*pats, (*npats + 1) * sizeof **pats);
		(*pats)[(*npats)++] = p;
	}
	json_decref(root);
	return 0;
}
