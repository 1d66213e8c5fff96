/*
 * agg.c — aggregations and their partial states (see agg.h).
 *
 * Why exact decimals: --merge must give exactly what one pass gives, and
 * a double sum depends on the order of its terms (0.1 + 0.2 + 0.3 is not
 * 0.3 + 0.2 + 0.1).  Numbers are read from their text into a 128-bit
 * mantissa and a decimal scale, so sums of prices and counts are exact in
 * any order; the result is then rounded once, correctly, by strtod.
 */
#include "agg.h"
#include "ev.h"
#include "jwrite.h"
#include "timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- parsing specs -------------------------------------------------- */

static const char *const kind_names[AG_NKINDS] = {
	"count", "sum", "avg", "min", "max", "first", "last", "distinct", "collect", "stddev",
	"pct", "valcount", "tmin", "tmax"
};

const char *agg_kind_name(const struct aggspec *a)
{
	return a->kind == AG_PCT ? a->pname : kind_names[a->kind];
}

int agg_needs_pos(enum agg_kind k)
{
	return k == AG_MIN || k == AG_MAX || k == AG_FIRST || k == AG_LAST || k == AG_COLLECT ||
	       k == AG_VALCOUNT;
}

/* The kind written spec[0..n): an index of kind_names, or AG_PCT with
 * *pct set; -1 if unknown. */
static int kind_of(const char *spec, size_t n, int *pct)
{
	for (int i = 0; i < AG_PCT; i++)
		if (strlen(kind_names[i]) == n && memcmp(kind_names[i], spec, n) == 0)
			return i;
	if (n == 6 && memcmp(spec, "median", 6) == 0) {
		*pct = 50;
		return AG_PCT;
	}
	/* pN, N from 1 to 99 without a leading zero */
	if ((n == 2 || n == 3) && spec[0] == 'p' && spec[1] >= '1' && spec[1] <= '9' &&
	    (n == 2 || (spec[2] >= '0' && spec[2] <= '9'))) {
		*pct = n == 2 ? spec[1] - '0' : (spec[1] - '0') * 10 + (spec[2] - '0');
		return AG_PCT;
	}
	return -1;
}

int agg_parse(const char *s, struct aggspec *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	const char *eq = strchr(s, '=');
	const char *colon = strchr(s, ':');
	if (eq && colon && colon < eq)
		eq = NULL; /* '=' inside the path */
	const char *spec = eq ? eq + 1 : s;
	if (eq && eq == s) {
		snprintf(err, errlen, "empty name in '%s'", s);
		return -1;
	}
	colon = strchr(spec, ':');
	size_t kl = colon ? (size_t)(colon - spec) : strlen(spec);
	int pct = 0;
	int k = kind_of(spec, kl, &pct);
	if (k < 0) {
		snprintf(err, errlen,
		         "unknown aggregation '%.*s' in '%s' (count, sum, avg, min, max, first, last, "
		         "distinct, collect, stddev, p1 ... p99, median)",
		         (int)kl, spec, s);
		return -1;
	}
	int expr = colon && colon[1] == '(';
	if (k == AG_COUNT && colon && !expr) {
		snprintf(err, errlen, "count takes no path (count:(EXPR) counts events where EXPR is true): '%s'", s);
		return -1;
	}
	if (k != AG_COUNT && (!colon || !colon[1])) {
		snprintf(err, errlen, "%.*s needs a path: '%.*s:PATH'", (int)kl, spec, (int)kl, spec);
		return -1;
	}
	if (expr && !eq) {
		snprintf(err, errlen, "a computed aggregation needs a name: NAME=%s", s);
		return -1;
	}
	a->kind = (enum agg_kind)k;
	a->pct = pct;
	if (k == AG_PCT)
		snprintf(a->pname, sizeof a->pname, "p%d", pct);
	a->text = xstrdup(spec);
	if (colon)
		a->pathtext = xstrdup(colon + 1);
	if (eq) {
		a->name = xmemdup(s, (size_t)(eq - s));
	} else if (k == AG_COUNT) {
		a->name = xstrdup("count");
	} else {
		char kind[16];
		snprintf(kind, sizeof kind, "%.*s", (int)kl, spec);
		a->name = agg_default_name(kind, a->pathtext);
	}
	return 0;
}

char *agg_default_name(const char *kind, const char *src)
{
	struct buf b = {0};
	buf_adds(&b, kind);
	buf_addc(&b, '_');
	for (const char *p = src; *p; p++) {
		int word = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
		if (word)
			buf_addc(&b, *p);
		else if (b.p[b.len - 1] != '_' || p == src)
			buf_addc(&b, '_'); /* a run of others is one '_' */
	}
	if (b.len > strlen(kind) + 1 && b.p[b.len - 1] == '_')
		b.p[--b.len] = 0;
	return b.p;
}

void aggspec_free(struct aggspec *a)
{
	free(a->name);
	free(a->text);
	free(a->pathtext);
	memset(a, 0, sizeof *a);
}

/* ---- exact decimals ------------------------------------------------- */

#define DEC_MAX_SCALE 36

static __int128 pow10_128(int k)
{
	__int128 p = 1;
	while (k-- > 0)
		p *= 10;
	return p;
}

/* Read JSON number text exactly: 0, or -1 when it does not fit. */
static int dec_parse(const char *p, size_t n, int maxscale, __int128 *m, int *scale)
{
	size_t i = 0;
	int neg = 0, frac = 0, digits = 0;
	__int128 acc = 0;
	if (i < n && p[i] == '-') {
		neg = 1;
		i++;
	}
	int seen_point = 0;
	for (; i < n; i++) {
		char c = p[i];
		if (c == '.') {
			seen_point = 1;
			continue;
		}
		if (c < '0' || c > '9')
			break;
		if (acc || c != '0')
			digits++;
		if (digits > 37)
			return -1;
		acc = acc * 10 + (c - '0');
		if (seen_point)
			frac++;
	}
	long exp = 0;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		int eneg = 0;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			eneg = p[i++] == '-';
		for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
			exp = exp * 10 + (p[i] - '0');
			if (exp > 100000)
				return -1;
		}
		if (eneg)
			exp = -exp;
	}
	if (i != n)
		return -1;
	long sc = frac - exp;
	if (acc == 0)
		sc = 0;
	while (sc > 0 && acc % 10 == 0) {
		acc /= 10;
		sc--;
	}
	if (sc < 0) {
		if (sc < -37)
			return -1;
		__int128 mul = pow10_128((int)-sc), r;
		if (__builtin_mul_overflow(acc, mul, &r))
			return -1;
		acc = r;
		sc = 0;
	}
	if (sc > maxscale)
		return -1;
	*m = neg ? -acc : acc;
	*scale = (int)sc;
	return 0;
}

static void dec_text(const struct dec *x, struct buf *out)
{
	char t[64];
	int k = 0;
	unsigned __int128 u = x->m < 0 ? -(unsigned __int128)x->m : (unsigned __int128)x->m;
	do {
		t[k++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	while (k <= x->scale)
		t[k++] = '0';
	if (x->m < 0)
		buf_addc(out, '-');
	for (int i = k - 1; i >= 0; i--) {
		buf_addc(out, t[i]);
		if (i == x->scale && i > 0)
			buf_addc(out, '.');
	}
}

static double dec_double(const struct dec *x)
{
	if (x->inexact)
		return x->d;
	if (x->scale == 0 && x->m >= -((__int128)1 << 53) && x->m <= ((__int128)1 << 53))
		return (double)x->m;
	struct buf b = {0};
	dec_text(x, &b);
	double v = strtod(b.p, NULL);
	buf_free(&b);
	return v;
}

static void dec_make_inexact(struct dec *x)
{
	if (!x->inexact) {
		x->d = dec_double(x);
		x->inexact = 1;
	}
}

/* x += m * 10^-scale (dv is the same value as a double). */
static void dec_add(struct dec *x, __int128 m, int scale, double dv)
{
	if (x->inexact) {
		x->d += dv;
		return;
	}
	__int128 r;
	if (scale > x->scale) {
		if (__builtin_mul_overflow(x->m, pow10_128(scale - x->scale), &r))
			goto overflow;
		x->m = r;
		x->scale = scale;
	} else if (scale < x->scale) {
		if (__builtin_mul_overflow(m, pow10_128(x->scale - scale), &r))
			goto overflow;
		m = r;
	}
	if (__builtin_add_overflow(x->m, m, &r))
		goto overflow;
	x->m = r;
	return;
overflow:
	dec_make_inexact(x);
	x->d += dv;
}

static void dec_add_dec(struct dec *x, const struct dec *y)
{
	if (x->inexact || y->inexact) {
		dec_make_inexact(x);
		x->d += dec_double(y);
		return;
	}
	dec_add(x, y->m, y->scale, dec_double(y));
}

static void dec_write(const struct dec *x, struct buf *out)
{
	if (x->inexact) {
		buf_addc(out, '[');
		jw_double(out, x->d);
		buf_addc(out, ']');
	} else {
		dec_text(x, out);
	}
}

static int dec_read(const struct jdoc *d, uint32_t t, struct dec *x)
{
	memset(x, 0, sizeof *x);
	if (t == JNONE)
		return -1;
	const struct jtok *k = &d->tok[t];
	if (k->type == J_NUM)
		return dec_parse(d->text + k->start, k->len, DEC_MAX_SCALE, &x->m, &x->scale);
	if (k->type == J_ARR && json_count(d, t) == 1) {
		uint32_t e = json_index(d, t, 0);
		int64_t iv;
		double dv;
		if (d->tok[e].type != J_NUM)
			return -1;
		x->inexact = 1;
		x->d = json_tok_num(d, e, &iv, &dv) ? (double)iv : dv;
		return 0;
	}
	return -1;
}

static void dec_result(const struct dec *x, struct buf *out)
{
	if (!x->inexact && x->scale == 0 && x->m >= INT64_MIN && x->m <= INT64_MAX)
		jw_int(out, (int64_t)x->m);
	else
		jw_double(out, dec_double(x));
}

/* ---- updating ------------------------------------------------------- */

/* A number token as exact decimal (when it fits) and as double. */
static void read_number(const struct jdoc *d, uint32_t t, __int128 *m, int *scale, int *exact, double *dv)
{
	const struct jtok *k = &d->tok[t];
	int64_t iv;
	double x;
	if ((k->flags & JF_INT) && json_tok_num(d, t, &iv, &x)) {
		*m = iv;
		*scale = 0;
		*exact = 1;
		*dv = (double)iv;
		return;
	}
	*exact = dec_parse(d->text + k->start, k->len, 18, m, scale) == 0;
	*dv = json_tok_num(d, t, &iv, &x) ? (double)iv : x;
}

static void set_text(struct buf *b, const struct jdoc *d, uint32_t t)
{
	buf_reset(b);
	json_write_compact(d, t, b);
}

/* A number's text for the percentiles (s->has: sorted). */
static void percentile_push(struct aggstate *s, const char *p, size_t n)
{
	s->nums = xgrow(s->nums, &s->cap, s->nv + 1, sizeof *s->nums);
	s->nums[s->nv].off = s->v.len;
	s->nums[s->nv++].len = n;
	buf_add(&s->v, p, n);
	s->has = 0;
}

/* Should the number text p replace the one held by a min/max state? */
static int minmax_takes(const struct aggspec *a, const struct aggstate *s, const char *p, size_t n,
                        uint64_t pos)
{
	if (!s->has)
		return 1;
	int c = json_num_cmp(p, n, s->v.p, s->v.len);
	return (a->kind == AG_MIN ? c < 0 : c > 0) || (c == 0 && pos < s->pos);
}

/* min/max of a time string (RFC 3339 / ISO 8601): 1 when it was one
 * (taken, or skipped because the group holds numbers), 0 when not. */
static int minmax_time(struct aggspec *a, struct aggstate *s, const struct jdoc *d, uint32_t t,
                       struct buf *scratch)
{
	const char *p;
	size_t n;
	int64_t us;
	buf_reset(scratch);
	json_str(d, t, scratch, &p, &n);
	if (time_parse_iso(p, n, &us) < 0)
		return 0;
	if (s->has) {
		a->nonnumeric++; /* numbers win */
		return 1;
	}
	if (!s->n || (a->kind == AG_MIN ? us < s->t : us > s->t))
		s->t = us;
	s->n++; /* min/max: how many times the state holds */
	return 1;
}

static void collect_push(struct aggstate *s, const char *json, size_t n, uint64_t pos)
{
	if (s->nv == s->cap) {
		size_t c1 = s->cap, c2 = s->cap;
		s->off = xgrow(s->off, &c1, s->nv + 1, sizeof *s->off);
		s->vpos = xgrow(s->vpos, &c2, s->nv + 1, sizeof *s->vpos);
		s->cap = c1;
	}
	if (s->nv && pos < s->vpos[s->nv - 1])
		s->has = 1; /* out of position order: sort before output */
	s->off[s->nv] = s->v.len;
	s->vpos[s->nv++] = pos;
	buf_add(&s->v, json, n);
}

static void valcount_add(struct aggstate *s, const char *key, size_t kn, const char *json, size_t n,
                         uint64_t count, uint64_t pos)
{
	int created;
	void **slot = bmap_slot(&s->map, key, kn, &created);
	if (created) {
		s->vc = xgrow(s->vc, &s->cap, s->nv + 1, sizeof *s->vc);
		struct valcount *v = &s->vc[s->nv];
		v->count = 0;
		v->pos = pos;
		v->json = xmemdup(json, n);
		v->n = n;
		*slot = (void *)(uintptr_t)(s->nv + 1);
		s->nv++;
	}
	struct valcount *v = &s->vc[(uintptr_t)*slot - 1];
	v->count += count;
	if (pos < v->pos)
		v->pos = pos;
}

void agg_update(struct aggspec *a, struct aggstate *s, const struct agg_in *in, struct buf *scratch)
{
	const struct jdoc *d = in->d;
	uint32_t t = in->t;
	switch (a->kind) {
	case AG_COUNT:
		s->n++;
		return;
	case AG_TMIN:
	case AG_TMAX:
		if (in->has_time && (!s->has || (a->kind == AG_TMIN ? in->time < s->t : in->time > s->t))) {
			s->t = in->time;
			s->has = 1;
		}
		return;
	case AG_FIRST:
	case AG_LAST:
		if (t == JNONE)
			return;
		if (!s->has || (a->kind == AG_FIRST ? in->pos < s->pos : in->pos >= s->pos)) {
			set_text(&s->v, d, t);
			s->pos = in->pos;
			s->has = 1;
		}
		return;
	case AG_DISTINCT:
		if (t == JNONE)
			return;
		buf_reset(scratch);
		json_value_key(d, t, scratch);
		strset_add(&s->set, scratch->p, scratch->len);
		return;
	case AG_COLLECT:
		if (t == JNONE)
			return;
		buf_reset(scratch);
		json_write_compact(d, t, scratch);
		collect_push(s, scratch->p, scratch->len, in->pos);
		return;
	case AG_VALCOUNT: {
		buf_reset(scratch);
		json_value_key(d, t, scratch);
		size_t kn = scratch->len;
		if (t == JNONE)
			buf_add(scratch, "null", 4);
		else
			json_write_compact(d, t, scratch);
		valcount_add(s, scratch->p, kn, scratch->p + kn, scratch->len - kn, 1, in->pos);
		return;
	}
	default:
		break;
	}
	/* numeric kinds */
	if (t == JNONE || d->tok[t].type == J_NULL)
		return;
	if ((a->kind == AG_MIN || a->kind == AG_MAX) && d->tok[t].type == J_STR &&
	    minmax_time(a, s, d, t, scratch))
		return;
	if (d->tok[t].type != J_NUM) {
		a->nonnumeric++;
		return;
	}
	const char *np = d->text + d->tok[t].start;
	size_t nn = d->tok[t].len;
	switch (a->kind) {
	case AG_MIN:
	case AG_MAX:
		if (!s->has)
			a->nonnumeric += s->n; /* the times held so far: numbers win */
		if (minmax_takes(a, s, np, nn, in->pos)) {
			buf_reset(&s->v);
			buf_add(&s->v, np, nn);
			s->pos = in->pos;
			s->has = 1;
		}
		return;
	case AG_PCT:
		percentile_push(s, np, nn);
		return;
	default:
		break;
	}
	__int128 m;
	int scale, exact;
	double dv;
	read_number(d, t, &m, &scale, &exact, &dv);
	switch (a->kind) {
	case AG_SUM:
	case AG_AVG:
	case AG_STDDEV:
		s->n++;
		if (exact) {
			dec_add(&s->s, m, scale, dv);
		} else {
			dec_make_inexact(&s->s);
			s->s.d += dv;
		}
		if (a->kind == AG_STDDEV) {
			__int128 sq;
			if (exact && !__builtin_mul_overflow(m, m, &sq)) {
				dec_add(&s->q, sq, 2 * scale, dv * dv);
			} else {
				dec_make_inexact(&s->q);
				s->q.d += dv * dv;
			}
		}
		return;
	default:
		return;
	}
}

/* ---- results -------------------------------------------------------- */

static const char *sort_text; /* qsort has no argument for the comparator */

static int cmp_numtext(const void *pa, const void *pb)
{
	const struct numtext *a = pa, *b = pb;
	int c = json_num_cmp(sort_text + a->off, a->len, sort_text + b->off, b->len);
	return c ? c : a->off < b->off ? -1 : a->off > b->off; /* equal: as read */
}

static void sort_values(struct aggstate *s)
{
	if (!s->has && s->nv) {
		sort_text = s->v.p;
		qsort(s->nums, s->nv, sizeof *s->nums, cmp_numtext);
		s->has = 1;
	}
}

/* collect: order by position, stably (insertion sort on the rare
 * out-of-order tail is enough for merged shards; use a merge sort). */
static void sort_collect(struct aggstate *s)
{
	if (!s->has || s->nv < 2)
		return;
	size_t n = s->nv;
	size_t *idx = xmalloc(n * sizeof *idx), *tmp = xmalloc(n * sizeof *tmp);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				tmp[k++] = s->vpos[idx[j]] < s->vpos[idx[i]] ? idx[j++] : idx[i++];
			while (i < mid)
				tmp[k++] = idx[i++];
			while (j < hi)
				tmp[k++] = idx[j++];
		}
		memcpy(idx, tmp, n * sizeof *idx);
	}
	struct buf nv = {0};
	size_t *noff = xmalloc(n * sizeof *noff);
	uint64_t *npos = xmalloc(n * sizeof *npos);
	for (size_t k = 0; k < n; k++) {
		size_t i = idx[k];
		size_t end = i + 1 < n ? s->off[i + 1] : s->v.len;
		noff[k] = nv.len;
		npos[k] = s->vpos[i];
		buf_add(&nv, s->v.p + s->off[i], end - s->off[i]);
	}
	buf_free(&s->v);
	s->v = nv;
	memcpy(s->off, noff, n * sizeof *noff);
	memcpy(s->vpos, npos, n * sizeof *npos);
	free(noff);
	free(npos);
	free(idx);
	free(tmp);
	s->has = 0;
}

static void write_time(int64_t us, struct buf *out)
{
	char tb[40];
	size_t n = time_format(us, tb);
	jw_string(out, tb, n);
}

/* A key of json_value_key back to JSON text. */
static void key_json(const char *k, size_t n, struct buf *out)
{
	if (n && k[0] == 's')
		jw_string(out, k + 1, n - 1);
	else
		buf_add(out, k + 1, n - 1);
}

/*
 * The member name of a value in a value count, so that no two values
 * share one: a string is itself, unless its text is itself JSON (the
 * string "1", "null", "[1]"), when it is written as JSON text, quotes
 * included ("\"1\""); any other value is its compact JSON text (1,
 * null, [1]).  Names of other values are JSON text that is not a string;
 * names of strings of the first kind are not JSON; the quoted ones are
 * JSON strings: the three never meet.
 */
static void valcount_key(const char *json, size_t n, struct buf *out)
{
	if (!n || json[0] != '"') {
		jw_string(out, json, n);
		return;
	}
	struct buf k = {0};
	struct jdoc d = {0};
	struct jerr jerr;
	json_unescape(json + 1, n - 2, &k);
	if (k.len && json_parse(&d, k.p, k.len, JSON_ANY, &jerr) == 0)
		jw_string(out, json, n); /* the string's JSON text, quotes and all */
	else
		buf_add(out, json, n);
	json_doc_free(&d);
	buf_free(&k);
}

void agg_result(const struct aggspec *a, struct aggstate *s, struct buf *out)
{
	switch (a->kind) {
	case AG_COUNT:
		jw_uint(out, s->n);
		return;
	case AG_SUM:
		if (!s->n)
			buf_adds(out, "null");
		else
			dec_result(&s->s, out);
		return;
	case AG_AVG:
		if (!s->n)
			buf_adds(out, "null");
		else
			jw_double(out, dec_double(&s->s) / (double)s->n);
		return;
	case AG_STDDEV: {
		if (s->n < 2) {
			buf_adds(out, "null");
			return;
		}
		long double n = (long double)s->n, sum = dec_double(&s->s), q;
		if (!s->q.inexact) {
			struct buf b = {0};
			dec_text(&s->q, &b);
			q = strtold(b.p, NULL);
			buf_free(&b);
			if (!s->s.inexact) {
				buf_reset(&b);
				dec_text(&s->s, &b);
				sum = strtold(b.p, NULL);
				buf_free(&b);
			}
		} else {
			q = s->q.d;
		}
		long double var = (q - sum * sum / n) / (n - 1);
		if (var < 0)
			var = 0;
		jw_double(out, (double)sqrtl(var));
		return;
	}
	case AG_MIN:
	case AG_MAX:
	case AG_FIRST:
	case AG_LAST:
		if (s->has)
			buf_add(out, s->v.p, s->v.len);
		else if ((a->kind == AG_MIN || a->kind == AG_MAX) && s->n)
			write_time(s->t, out);
		else
			buf_adds(out, "null");
		return;
	case AG_DISTINCT:
		jw_uint(out, s->set.m.count);
		return;
	case AG_COLLECT:
		sort_collect(s);
		buf_addc(out, '[');
		for (size_t i = 0; i < s->nv; i++) {
			size_t end = i + 1 < s->nv ? s->off[i + 1] : s->v.len;
			if (i)
				buf_addc(out, ',');
			buf_add(out, s->v.p + s->off[i], end - s->off[i]);
		}
		buf_addc(out, ']');
		return;
	case AG_PCT: {
		if (!s->nv) {
			buf_adds(out, "null");
			return;
		}
		sort_values(s);
		int p = a->pct;
		size_t rank = (size_t)(((unsigned __int128)p * s->nv + 99) / 100);
		if (rank < 1)
			rank = 1;
		buf_add(out, s->v.p + s->nums[rank - 1].off, s->nums[rank - 1].len);
		return;
	}
	case AG_VALCOUNT: {
		/* an object keyed by the value (strings as themselves, other values
		 * by their JSON text), in order of first position */
		size_t *idx = xmalloc((s->nv + 1) * sizeof *idx);
		for (size_t i = 0; i < s->nv; i++)
			idx[i] = i;
		for (size_t i = 1; i < s->nv; i++) { /* insertion sort: few values */
			size_t v = idx[i], j = i;
			while (j > 0 && s->vc[idx[j - 1]].pos > s->vc[v].pos) {
				idx[j] = idx[j - 1];
				j--;
			}
			idx[j] = v;
		}
		buf_addc(out, '{');
		for (size_t k = 0; k < s->nv; k++) {
			struct valcount *v = &s->vc[idx[k]];
			if (k)
				buf_addc(out, ',');
			valcount_key(v->json, v->n, out);
			buf_addc(out, ':');
			jw_uint(out, v->count);
		}
		buf_addc(out, '}');
		free(idx);
		return;
	}
	case AG_TMIN:
	case AG_TMAX:
		if (s->has)
			write_time(s->t, out);
		else
			buf_adds(out, "null");
		return;
	default:
		buf_adds(out, "null");
	}
}

/* ---- partial states --------------------------------------------------- */

void agg_partial(const struct aggspec *a, const struct aggstate *cs, struct buf *out)
{
	struct aggstate *s = (struct aggstate *)cs; /* sorting is not a change */
	switch (a->kind) {
	case AG_COUNT:
		buf_adds(out, "{\"n\":");
		jw_uint(out, s->n);
		buf_addc(out, '}');
		return;
	case AG_SUM:
	case AG_AVG:
	case AG_STDDEV:
		buf_adds(out, "{\"n\":");
		jw_uint(out, s->n);
		buf_adds(out, ",\"s\":");
		dec_write(&s->s, out);
		if (a->kind == AG_STDDEV) {
			buf_adds(out, ",\"q\":");
			dec_write(&s->q, out);
		}
		buf_addc(out, '}');
		return;
	case AG_MIN:
	case AG_MAX:
	case AG_FIRST:
	case AG_LAST:
		buf_addc(out, '{');
		if (s->has) {
			buf_adds(out, "\"v\":");
			buf_add(out, s->v.p, s->v.len);
			buf_adds(out, ",\"x\":");
			jw_uint(out, s->pos);
		}
		if ((a->kind == AG_MIN || a->kind == AG_MAX) && s->n) {
			/* times: the instant and how many were held */
			buf_adds(out, s->has ? ",\"t\":" : "\"t\":");
			jw_int(out, s->t);
			buf_adds(out, ",\"tn\":");
			jw_uint(out, s->n);
		}
		buf_addc(out, '}');
		return;
	case AG_DISTINCT: {
		buf_adds(out, "{\"v\":[");
		int first = 1;
		for (size_t i = 0; i < s->set.m.cap; i++) {
			if (!s->set.m.tab[i].k)
				continue;
			if (!first)
				buf_addc(out, ',');
			first = 0;
			key_json(s->set.m.tab[i].k, s->set.m.tab[i].n, out);
		}
		buf_adds(out, "]}");
		return;
	}
	case AG_COLLECT:
		sort_collect(s);
		buf_adds(out, "{\"v\":[");
		for (size_t i = 0; i < s->nv; i++) {
			size_t end = i + 1 < s->nv ? s->off[i + 1] : s->v.len;
			if (i)
				buf_addc(out, ',');
			buf_addc(out, '[');
			jw_uint(out, s->vpos[i]);
			buf_addc(out, ',');
			buf_add(out, s->v.p + s->off[i], end - s->off[i]);
			buf_addc(out, ']');
		}
		buf_adds(out, "]}");
		return;
	case AG_PCT:
		sort_values(s);
		buf_adds(out, "{\"v\":[");
		for (size_t i = 0; i < s->nv; i++) {
			if (i)
				buf_addc(out, ',');
			buf_add(out, s->v.p + s->nums[i].off, s->nums[i].len);
		}
		buf_adds(out, "]}");
		return;
	case AG_VALCOUNT:
		buf_adds(out, "{\"v\":[");
		for (size_t i = 0; i < s->nv; i++) {
			if (i)
				buf_addc(out, ',');
			buf_addc(out, '[');
			buf_add(out, s->vc[i].json, s->vc[i].n);
			buf_addc(out, ',');
			jw_uint(out, s->vc[i].count);
			buf_addc(out, ',');
			jw_uint(out, s->vc[i].pos);
			buf_addc(out, ']');
		}
		buf_adds(out, "]}");
		return;
	case AG_TMIN:
	case AG_TMAX:
		if (!s->has) {
			buf_adds(out, "{}");
			return;
		}
		buf_adds(out, "{\"v\":");
		jw_int(out, s->t);
		buf_addc(out, '}');
		return;
	default:
		buf_adds(out, "{}");
	}
}

static int get_u64(const struct jdoc *d, uint32_t t, uint64_t *v)
{
	int64_t iv;
	if (json_tok_int(d, t, 0, INT64_MAX, &iv) < 0)
		return -1;
	*v = (uint64_t)iv;
	return 0;
}

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

int agg_merge_partial(const struct aggspec *a, struct aggstate *s, const struct jdoc *d, uint32_t t,
                      char *err, size_t errlen)
{
	if (t == JNONE || d->tok[t].type != J_OBJ)
		BAD("%s: partial state is not an object", a->name);
	uint32_t n = json_get(d, t, "n", 1), v = json_get(d, t, "v", 1), x = json_get(d, t, "x", 1);
	struct buf scratch = {0};
	int rc = 0;
	switch (a->kind) {
	case AG_COUNT: {
		uint64_t k;
		if (get_u64(d, n, &k) < 0)
			BAD("%s: bad count state", a->name);
		s->n += k;
		break;
	}
	case AG_SUM:
	case AG_AVG:
	case AG_STDDEV: {
		uint64_t k;
		struct dec sum, sq;
		if (get_u64(d, n, &k) < 0 || dec_read(d, json_get(d, t, "s", 1), &sum) < 0)
			BAD("%s: bad %s state", a->name, kind_names[a->kind]);
		if (a->kind == AG_STDDEV) {
			if (dec_read(d, json_get(d, t, "q", 1), &sq) < 0)
				BAD("%s: bad stddev state", a->name);
			dec_add_dec(&s->q, &sq);
		}
		s->n += k;
		dec_add_dec(&s->s, &sum);
		break;
	}
	case AG_MIN:
	case AG_MAX:
	case AG_FIRST:
	case AG_LAST: {
		uint32_t tt = json_get(d, t, "t", 1), tn = json_get(d, t, "tn", 2);
		if ((a->kind == AG_MIN || a->kind == AG_MAX) && (tt != JNONE || tn != JNONE)) {
			int64_t iv;
			double dv;
			uint64_t k;
			if (tt == JNONE || d->tok[tt].type != J_NUM || !json_tok_num(d, tt, &iv, &dv) ||
			    get_u64(d, tn, &k) < 0 || k == 0)
				BAD("%s: bad %s state", a->name, kind_names[a->kind]);
			if (!s->n || (a->kind == AG_MIN ? iv < s->t : iv > s->t))
				s->t = iv;
			s->n += k;
		}
		if (v == JNONE)
			break;
		uint64_t pos;
		if (get_u64(d, x, &pos) < 0)
			BAD("%s: bad %s state", a->name, kind_names[a->kind]);
		int take;
		if (a->kind == AG_FIRST || a->kind == AG_LAST) {
			take = !s->has || (a->kind == AG_FIRST ? pos < s->pos : pos >= s->pos);
		} else {
			if (d->tok[v].type != J_NUM)
				BAD("%s: bad %s state", a->name, kind_names[a->kind]);
			take = minmax_takes(a, s, d->text + d->tok[v].start, d->tok[v].len, pos);
		}
		if (take) {
			set_text(&s->v, d, v);
			s->pos = pos;
			s->has = 1;
		}
		break;
	}
	case AG_DISTINCT:
		if (v == JNONE || d->tok[v].type != J_ARR)
			BAD("%s: bad distinct state", a->name);
		for (uint32_t e = v + 1; e < d->tok[v].next; e = d->tok[e].next) {
			buf_reset(&scratch);
			json_value_key(d, e, &scratch);
			strset_add(&s->set, scratch.p, scratch.len);
		}
		break;
	case AG_COLLECT:
		if (v == JNONE || d->tok[v].type != J_ARR)
			BAD("%s: bad collect state", a->name);
		for (uint32_t e = v + 1; e < d->tok[v].next; e = d->tok[e].next) {
			uint64_t pos;
			if (d->tok[e].type != J_ARR || json_count(d, e) != 2 || get_u64(d, json_index(d, e, 0), &pos) < 0) {
				rc = -1;
				snprintf(err, errlen, "%s: bad collect state", a->name);
				break;
			}
			buf_reset(&scratch);
			json_write_compact(d, json_index(d, e, 1), &scratch);
			collect_push(s, scratch.p, scratch.len, pos);
		}
		break;
	case AG_PCT:
		if (v == JNONE || d->tok[v].type != J_ARR)
			BAD("%s: bad percentile state", a->name);
		for (uint32_t e = v + 1; e < d->tok[v].next; e = d->tok[e].next) {
			if (d->tok[e].type != J_NUM) {
				rc = -1;
				snprintf(err, errlen, "%s: bad percentile state", a->name);
				break;
			}
			percentile_push(s, d->text + d->tok[e].start, d->tok[e].len);
		}
		break;
	case AG_VALCOUNT:
		if (v == JNONE || d->tok[v].type != J_ARR)
			BAD("%s: bad value-count state", a->name);
		for (uint32_t e = v + 1; e < d->tok[v].next; e = d->tok[e].next) {
			uint64_t cnt, pos;
			if (d->tok[e].type != J_ARR || json_count(d, e) != 3 ||
			    get_u64(d, json_index(d, e, 1), &cnt) < 0 || get_u64(d, json_index(d, e, 2), &pos) < 0) {
				rc = -1;
				snprintf(err, errlen, "%s: bad value-count state", a->name);
				break;
			}
			uint32_t val = json_index(d, e, 0);
			buf_reset(&scratch);
			json_value_key(d, val, &scratch);
			size_t kn = scratch.len;
			json_write_compact(d, val, &scratch);
			valcount_add(s, scratch.p, kn, scratch.p + kn, scratch.len - kn, cnt, pos);
		}
		break;
	case AG_TMIN:
	case AG_TMAX: {
		if (v == JNONE)
			break;
		int64_t iv;
		if (json_tok_int(d, v, INT64_MIN, INT64_MAX, &iv) < 0)
			BAD("%s: bad time state", a->name);
		if (!s->has || (a->kind == AG_TMIN ? iv < s->t : iv > s->t)) {
			s->t = iv;
			s->has = 1;
		}
		break;
	}
	default:
		break;
	}
	buf_free(&scratch);
	return rc;
}

void agg_merge(const struct aggspec *a, struct aggstate *dst, const struct aggstate *src)
{
	struct buf b = {0};
	struct jdoc d = {0};
	struct jerr jerr;
	char err[200];
	agg_partial(a, src, &b);
	if (json_parse(&d, b.p, b.len, 0, &jerr) == 0)
		agg_merge_partial(a, dst, &d, 0, err, sizeof err);
	json_doc_free(&d);
	buf_free(&b);
}

void agg_state_free(struct aggstate *s)
{
	buf_free(&s->v);
	free(s->off);
	free(s->vpos);
	free(s->nums);
	strset_free(&s->set);
	bmap_free(&s->map);
	for (size_t i = 0; s->vc && i < s->nv; i++)
		free(s->vc[i].json);
	free(s->vc);
	memset(s, 0, sizeof *s);
}
