/*
 * json.c — validating scanner onto a flat token tape (see json.h).
 *
 * Why not jansson for reading events: jansson allocates a node per value,
 * hashes every key and converts every number, and it cannot keep an
 * integer beyond 64 bits.  A filter that only looks at two fields of an
 * event needs none of that, but it still must reject anything that is not
 * valid JSON.  So the scanner validates everything in one pass and defers
 * every conversion to the moment a value is actually used.
 */
#include "json.h"
#include "bmap.h"
#include "ev.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ---------------------------------------------------------- */

size_t utf8_check(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		/* ASCII fast path: eight bytes at a time. */
		while (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		unsigned c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t need;
		unsigned min;
		unsigned cp;
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1; min = 0x80; cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2; min = 0x800; cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3; min = 0x10000; cp = c & 0x07;
		} else {
			return i;
		}
		for (size_t k = 1; k <= need; k++) {
			if (i + k >= n || (p[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += need + 1;
	}
	return n;
}

int utf8_valid(const char *p, size_t n)
{
	return utf8_check(p, n) == n;
}

/* ---- scanner -------------------------------------------------------- */

struct scan {
	struct jdoc *d;
	const unsigned char *p;
	size_t n, i;
	struct jerr *err;
};

static int fail(struct scan *s, size_t at, const char *what)
{
	s->err->offset = at;
	snprintf(s->err->msg, sizeof s->err->msg, "invalid JSON: %.100s at column %zu", what, at + 1);
	return -1;
}

static int fail_char(struct scan *s, const char *expected)
{
	char buf[100];
	if (s->i >= s->n) {
		snprintf(buf, sizeof buf, "unexpected end of line, expected %s", expected);
		return fail(s, s->i, buf);
	}
	unsigned c = s->p[s->i];
	if (c >= 0x21 && c < 0x7f)
		snprintf(buf, sizeof buf, "unexpected '%c', expected %s", c, expected);
	else
		snprintf(buf, sizeof buf, "unexpected byte 0x%02x, expected %s", c, expected);
	return fail(s, s->i, buf);
}

static inline void skip_ws(struct scan *s)
{
	while (s->i < s->n) {
		unsigned c = s->p[s->i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		s->i++;
	}
}

static uint32_t push(struct scan *s, int type, size_t start)
{
	struct jdoc *d = s->d;
	if (d->ntok == d->cap)
		d->tok = xgrow(d->tok, &d->cap, d->ntok + 1, sizeof *d->tok);
	struct jtok *t = &d->tok[d->ntok];
	t->start = (uint32_t)start;
	t->len = 0;
	t->type = (uint8_t)type;
	t->flags = 0;
	t->next = (uint32_t)d->ntok + 1;
	return (uint32_t)d->ntok++;
}

static int hexval(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	return -1;
}

static int hex4(struct scan *s, size_t at, unsigned *out)
{
	unsigned v = 0;
	if (at + 4 > s->n)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = hexval(s->p[at + k]);
		if (h < 0)
			return -1;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return 0;
}

/* A table of bytes that end the fast string loop: quote, backslash,
 * control characters. */
static unsigned char str_special[256];

static void init_tables(void)
{
	static int done;
	if (done)
		return;
	for (int c = 0; c < 0x20; c++)
		str_special[c] = 1;
	str_special['"'] = 1;
	str_special['\\'] = 1;
	done = 1;
}

static int scan_string(struct scan *s)
{
	size_t start = s->i;
	uint32_t t = push(s, J_STR, start);
	const unsigned char *p = s->p;
	size_t i = s->i + 1, n = s->n;
	for (;;) {
		while (i < n && !str_special[p[i]])
			i++;
		if (i >= n)
			return fail(s, start, "unterminated string");
		unsigned c = p[i];
		if (c == '"')
			break;
		if (c != '\\') {
			char b[60];
			snprintf(b, sizeof b, "unescaped control character 0x%02x in string", c);
			return fail(s, i, b);
		}
		s->d->tok[t].flags |= JF_ESC;
		if (i + 1 >= n)
			return fail(s, start, "unterminated string");
		c = p[i + 1];
		switch (c) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			i += 2;
			break;
		case 'u': {
			unsigned u, u2;
			if (hex4(s, i + 2, &u) < 0)
				return fail(s, i, "bad \\u escape");
			if (u >= 0xD800 && u <= 0xDBFF) {
				if (i + 12 <= n && p[i + 6] == '\\' && p[i + 7] == 'u' &&
				    hex4(s, i + 8, &u2) == 0 && u2 >= 0xDC00 && u2 <= 0xDFFF) {
					i += 12;
					break;
				}
				s->err->offset = i;
				snprintf(s->err->msg, sizeof s->err->msg,
				         "lone surrogate escape \\u%04X at column %zu", u, i + 1);
				return -1;
			}
			if (u >= 0xDC00 && u <= 0xDFFF) {
				s->err->offset = i;
				snprintf(s->err->msg, sizeof s->err->msg,
				         "lone surrogate escape \\u%04X at column %zu", u, i + 1);
				return -1;
			}
			i += 6;
			break;
		}
		default:
			return fail(s, i, "bad escape in string");
		}
	}
	i++; /* closing quote */
	s->d->tok[t].len = (uint32_t)(i - start);
	s->i = i;
	return 0;
}

static int scan_number(struct scan *s)
{
	const unsigned char *p = s->p;
	size_t start = s->i, i = s->i, n = s->n;
	int isint = 1;
	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0') {
		i++;
	} else if (i < n && p[i] >= '1' && p[i] <= '9') {
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	} else {
		s->i = i;
		return fail_char(s, "a digit");
	}
	if (i < n && p[i] == '.') {
		isint = 0;
		i++;
		if (i >= n || p[i] < '0' || p[i] > '9') {
			s->i = i;
			return fail_char(s, "a digit after '.'");
		}
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		isint = 0;
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= n || p[i] < '0' || p[i] > '9') {
			s->i = i;
			return fail_char(s, "a digit in the exponent");
		}
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	}
	uint32_t t = push(s, J_NUM, start);
	s->d->tok[t].len = (uint32_t)(i - start);
	if (isint)
		s->d->tok[t].flags = JF_INT;
	s->i = i;
	return 0;
}

static int scan_literal(struct scan *s, const char *word, int type)
{
	size_t k = strlen(word);
	if (s->n - s->i < k || memcmp(s->p + s->i, word, k) != 0)
		return fail_char(s, "a value");
	uint32_t t = push(s, type, s->i);
	s->d->tok[t].len = (uint32_t)k;
	s->i += k;
	return 0;
}

/* Keys of one object are compared by their unescaped bytes. */
static int key_equal(struct jdoc *d, uint32_t a, uint32_t b)
{
	const struct jtok *ta = &d->tok[a], *tb = &d->tok[b];
	if (!((ta->flags | tb->flags) & JF_ESC))
		return ta->len == tb->len &&
		       memcmp(d->text + ta->start, d->text + tb->start, ta->len) == 0;
	buf_reset(&d->scratch);
	json_unescape(d->text + ta->start + 1, ta->len - 2, &d->scratch);
	size_t alen = d->scratch.len;
	json_unescape(d->text + tb->start + 1, tb->len - 2, &d->scratch);
	return d->scratch.len - alen == alen &&
	       memcmp(d->scratch.p, d->scratch.p + alen, alen) == 0;
}

static int dup_found(struct scan *s, uint32_t key)
{
	struct jdoc *d = s->d;
	const struct jtok *t = &d->tok[key];
	s->err->offset = t->start;
	struct buf name = {0};
	json_unescape(d->text + t->start + 1, t->len - 2, &name);
	/* keep the message short and printable */
	if (name.len > 60)
		name.len = 60;
	for (size_t i = 0; i < name.len; i++)
		if ((unsigned char)name.p[i] < 0x20 || name.p[i] == '"')
			name.p[i] = '?';
	snprintf(s->err->msg, sizeof s->err->msg, "duplicate key \"%.*s\" at column %u",
	         (int)name.len, name.p ? name.p : "", t->start + 1);
	buf_free(&name);
	return -1;
}

static int check_duplicates(struct scan *s, uint32_t obj)
{
	struct jdoc *d = s->d;
	uint32_t end = d->tok[obj].next;
	size_t nkeys = 0;
	for (uint32_t k = obj + 1; k < end; k = d->tok[k + 1].next)
		nkeys++;
	if (nkeys < 2)
		return 0;
	if (nkeys <= 24) {
		for (uint32_t a = obj + 1; a < end; a = d->tok[a + 1].next)
			for (uint32_t b = d->tok[a + 1].next; b < end; b = d->tok[b + 1].next)
				if (key_equal(d, a, b))
					return dup_found(s, b);
		return 0;
	}
	/* Large object: a set of the unescaped names (the one hash map). */
	struct bmap seen = {0};
	struct buf name = {0};
	int rc = 0;
	for (uint32_t k = obj + 1; k < end && rc == 0; k = d->tok[k + 1].next) {
		const struct jtok *t = &d->tok[k];
		const char *p = d->text + t->start + 1;
		size_t n = t->len - 2;
		if (t->flags & JF_ESC) {
			buf_reset(&name);
			json_unescape(p, n, &name);
			p = name.p;
			n = name.len;
		}
		int created;
		bmap_get(&seen, p, n, &created);
		if (!created)
			rc = dup_found(s, k);
	}
	buf_free(&name);
	bmap_free(&seen);
	return rc;
}

static int scan_value(struct scan *s, int depth);

static int scan_container(struct scan *s, int depth, int isobj)
{
	if (depth >= JSON_MAX_DEPTH) {
		s->err->offset = s->i;
		snprintf(s->err->msg, sizeof s->err->msg,
		         "nesting deeper than %d levels at column %zu", JSON_MAX_DEPTH, s->i + 1);
		return -1;
	}
	size_t start = s->i;
	uint32_t t = push(s, isobj ? J_OBJ : J_ARR, start);
	char close = isobj ? '}' : ']';
	s->i++;
	skip_ws(s);
	if (s->i < s->n && s->p[s->i] == (unsigned char)close) {
		s->i++;
	} else {
		for (;;) {
			if (isobj) {
				if (s->i >= s->n || s->p[s->i] != '"')
					return fail_char(s, "a string key");
				if (scan_string(s) < 0)
					return -1;
				skip_ws(s);
				if (s->i >= s->n || s->p[s->i] != ':')
					return fail_char(s, "':'");
				s->i++;
				skip_ws(s);
			}
			if (scan_value(s, depth + 1) < 0)
				return -1;
			skip_ws(s);
			if (s->i < s->n && s->p[s->i] == ',') {
				s->i++;
				skip_ws(s);
				continue;
			}
			if (s->i < s->n && s->p[s->i] == (unsigned char)close) {
				s->i++;
				break;
			}
			return fail_char(s, isobj ? "',' or '}'" : "',' or ']'");
		}
	}
	struct jtok *tk = &s->d->tok[t];
	tk->len = (uint32_t)(s->i - start);
	tk->next = (uint32_t)s->d->ntok;
	if (isobj)
		return check_duplicates(s, t);
	return 0;
}

static int scan_value(struct scan *s, int depth)
{
	if (s->i >= s->n)
		return fail_char(s, "a value");
	switch (s->p[s->i]) {
	case '{': return scan_container(s, depth, 1);
	case '[': return scan_container(s, depth, 0);
	case '"': return scan_string(s);
	case 't': return scan_literal(s, "true", J_TRUE);
	case 'f': return scan_literal(s, "false", J_FALSE);
	case 'n': return scan_literal(s, "null", J_NULL);
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return scan_number(s);
	default:
		return fail_char(s, "a value");
	}
}

int json_parse(struct jdoc *d, const char *text, size_t len, int flags, struct jerr *err)
{
	init_tables();
	d->text = text;
	d->len = len;
	d->ntok = 0;
	err->msg[0] = '\0';
	err->offset = 0;
	if (len > UINT32_MAX - 1) {
		snprintf(err->msg, sizeof err->msg, "line longer than 4 GiB");
		return -1;
	}
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		err->offset = (size_t)(nul - text);
		snprintf(err->msg, sizeof err->msg, "raw NUL byte at column %zu", err->offset + 1);
		return -1;
	}
	size_t bad = utf8_check(text, len);
	if (bad != len) {
		err->offset = bad;
		snprintf(err->msg, sizeof err->msg, "invalid UTF-8 at column %zu", bad + 1);
		return -1;
	}
	struct scan s = { d, (const unsigned char *)text, len, 0, err };
	skip_ws(&s);
	if (flags & JSON_SEQ) {
		/* token 0 stands for the array of the values; its text is
		 * the whole input, which is not itself that array */
		uint32_t t = push(&s, J_ARR, 0);
		while (s.i < s.n) {
			if (scan_value(&s, 1) < 0)
				return -1;
			skip_ws(&s);
		}
		d->tok[t].len = (uint32_t)len;
		d->tok[t].next = (uint32_t)d->ntok;
		return 0;
	}
	if (s.i >= s.n) {
		snprintf(err->msg, sizeof err->msg, "invalid JSON: empty");
		return -1;
	}
	if (scan_value(&s, 0) < 0)
		return -1;
	skip_ws(&s);
	if (s.i < s.n)
		return fail(&s, s.i, "trailing characters after the value");
	if (!(flags & JSON_ANY) && d->tok[0].type != J_OBJ) {
		snprintf(err->msg, sizeof err->msg, "not an object (%s)", json_type_name(d->tok[0].type));
		return -1;
	}
	return 0;
}

void json_doc_free(struct jdoc *d)
{
	free(d->tok);
	buf_free(&d->scratch);
	d->tok = NULL;
	d->ntok = d->cap = 0;
}

/* ---- access --------------------------------------------------------- */

/* The first and the last w bytes of a and b are equal (w <= n <= 2w,
 * w at most 8): two loads a side cover the n bytes. */
static inline int ends_eq(const char *a, const char *b, size_t n, size_t w)
{
	uint64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
	memcpy(&x0, a, w);
	memcpy(&y0, b, w);
	memcpy(&x1, a + n - w, w);
	memcpy(&y1, b + n - w, w);
	return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}

/* a == b over n bytes; short names (most member names) without a call */
static inline int name_eq(const char *a, const char *b, size_t n)
{
	if (n > 16)
		return memcmp(a, b, n) == 0;
	if (n >= 8)
		return ends_eq(a, b, n, 8);
	if (n >= 4)
		return ends_eq(a, b, n, 4);
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* A member name with escapes compared unescaped (rare: kept out of the
 * loop of json_get). */
static __attribute__((noinline)) int esc_name_eq(const struct jdoc *d, const struct jtok *t, const char *k, size_t kn)
{
	struct buf tmp = {0};
	json_unescape(d->text + t->start + 1, t->len - 2, &tmp);
	int eq = tmp.len == kn && memcmp(tmp.p, k, kn) == 0;
	buf_free(&tmp);
	return eq;
}

uint32_t json_get(const struct jdoc *d, uint32_t obj, const char *k, size_t kn)
{
	if (obj == JNONE || d->tok[obj].type != J_OBJ)
		return JNONE;
	uint32_t end = d->tok[obj].next;
	for (uint32_t i = obj + 1; i < end; i = d->tok[i + 1].next) {
		const struct jtok *t = &d->tok[i];
		if (!(t->flags & JF_ESC)) {
			if (t->len - 2 == kn && name_eq(d->text + t->start + 1, k, kn))
				return i + 1;
		} else if (esc_name_eq(d, t, k, kn)) {
			return i + 1;
		}
	}
	return JNONE;
}

uint32_t json_index(const struct jdoc *d, uint32_t arr, size_t idx)
{
	if (arr == JNONE || d->tok[arr].type != J_ARR)
		return JNONE;
	uint32_t end = d->tok[arr].next;
	size_t k = 0;
	for (uint32_t i = arr + 1; i < end; i = d->tok[i].next, k++)
		if (k == idx)
			return i;
	return JNONE;
}

size_t json_count(const struct jdoc *d, uint32_t t)
{
	if (t == JNONE)
		return 0;
	uint32_t end = d->tok[t].next;
	size_t k = 0;
	if (d->tok[t].type == J_OBJ) {
		for (uint32_t i = t + 1; i < end; i = d->tok[i + 1].next)
			k++;
	} else if (d->tok[t].type == J_ARR) {
		for (uint32_t i = t + 1; i < end; i = d->tok[i].next)
			k++;
	}
	return k;
}

void utf8_put(struct buf *out, unsigned cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp; n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6); b[1] = (char)(0x80 | (cp & 0x3F)); n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12); b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
	} else {
		b[0] = (char)(0xF0 | cp >> 18); b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); b[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
	}
	buf_add(out, b, n);
}

static unsigned hex4s(const char *p)
{
	unsigned v = 0;
	for (int k = 0; k < 4; k++)
		v = v << 4 | (unsigned)hexval((unsigned char)p[k]);
	return v;
}

void json_unescape(const char *p, size_t n, struct buf *out)
{
	size_t i = 0;
	buf_reserve(out, n);
	while (i < n) {
		const char *bs = memchr(p + i, '\\', n - i);
		size_t run = bs ? (size_t)(bs - (p + i)) : n - i;
		buf_add(out, p + i, run);
		i += run;
		if (i >= n)
			break;
		char c = p[i + 1];
		i += 2;
		switch (c) {
		case 'b': buf_addc(out, '\b'); break;
		case 'f': buf_addc(out, '\f'); break;
		case 'n': buf_addc(out, '\n'); break;
		case 'r': buf_addc(out, '\r'); break;
		case 't': buf_addc(out, '\t'); break;
		case 'u': {
			unsigned u = hex4s(p + i);
			i += 4;
			if (u >= 0xD800 && u <= 0xDBFF && i + 6 <= n && p[i] == '\\' && p[i + 1] == 'u') {
				unsigned lo = hex4s(p + i + 2);
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			}
			utf8_put(out, u);
			break;
		}
		default: buf_addc(out, c); break;
		}
	}
}

void json_str(const struct jdoc *d, uint32_t t, struct buf *scratch, const char **p, size_t *n)
{
	const struct jtok *k = &d->tok[t];
	if (!(k->flags & JF_ESC)) {
		*p = d->text + k->start + 1;
		*n = k->len - 2;
		return;
	}
	size_t at = scratch->len;
	json_unescape(d->text + k->start + 1, k->len - 2, scratch);
	*p = scratch->p + at;
	*n = scratch->len - at;
}

int json_num(const char *p, size_t n, int64_t *iv, double *dv)
{
	size_t i = 0;
	int neg = 0;
	if (n && p[0] == '-') {
		neg = 1;
		i = 1;
	}
	int isint = i < n;
	uint64_t acc = 0;
	for (size_t k = i; k < n && isint; k++) {
		unsigned c = (unsigned char)p[k] - '0';
		if (c > 9) {
			isint = 0;
			break;
		}
		if (acc > (UINT64_MAX - c) / 10) {
			isint = 0;
			break;
		}
		acc = acc * 10 + c;
	}
	if (isint) {
		if (!neg && acc <= (uint64_t)INT64_MAX) {
			*iv = (int64_t)acc;
			return 1;
		}
		if (neg && acc <= (uint64_t)INT64_MAX + 1) {
			*iv = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
			return 1;
		}
	}
	char small[64];
	char *s = n < sizeof small ? small : xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	*dv = strtod(s, NULL);
	if (s != small)
		free(s);
	return 0;
}

int json_tok_num(const struct jdoc *d, uint32_t t, int64_t *iv, double *dv)
{
	const struct jtok *k = &d->tok[t];
	return json_num(d->text + k->start, k->len, iv, dv);
}

void json_write_compact(const struct jdoc *d, uint32_t t, struct buf *out)
{
	const struct jtok *k = &d->tok[t];
	const char *p = d->text + k->start;
	size_t n = k->len;
	if (k->type != J_OBJ && k->type != J_ARR) {
		buf_add(out, p, n);
		return;
	}
	buf_reserve(out, n);
	size_t i = 0;
	while (i < n) {
		char c = p[i];
		if (c == '"') {
			/* copy the whole string */
			size_t j = i + 1;
			while (p[j] != '"') {
				if (p[j] == '\\')
					j++;
				j++;
			}
			buf_add(out, p + i, j + 1 - i);
			i = j + 1;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			i++;
		} else {
			size_t j = i + 1;
			while (j < n && p[j] != '"' && p[j] != ' ' && p[j] != '\t' && p[j] != '\n' && p[j] != '\r')
				j++;
			buf_add(out, p + i, j - i);
			i = j;
		}
	}
}

static int num_equal(const struct jdoc *a, uint32_t ta, const struct jdoc *b, uint32_t tb)
{
	int64_t ia, ib;
	double da, db;
	if (json_tok_num(a, ta, &ia, &da) && json_tok_num(b, tb, &ib, &db))
		return ia == ib;
	/* exactly, by the texts: 9007199254740993.0 != 9007199254740992.0 */
	return json_num_cmp(a->text + a->tok[ta].start, a->tok[ta].len,
	                    b->text + b->tok[tb].start, b->tok[tb].len) == 0;
}

int json_values_equal(const struct jdoc *a, uint32_t ta, const struct jdoc *b, uint32_t tb)
{
	if (ta == JNONE || tb == JNONE)
		return ta == tb;
	const struct jtok *x = &a->tok[ta], *y = &b->tok[tb];
	if (x->type != y->type)
		return 0;
	switch (x->type) {
	case J_NULL: case J_TRUE: case J_FALSE:
		return 1;
	case J_NUM:
		return num_equal(a, ta, b, tb);
	case J_STR: {
		if (!((x->flags | y->flags) & JF_ESC))
			return x->len == y->len && memcmp(a->text + x->start, b->text + y->start, x->len) == 0;
		struct buf s = {0};
		const char *p, *q;
		size_t pn, qn;
		json_str(a, ta, &s, &p, &pn);
		size_t mark = s.len;
		json_str(b, tb, &s, &q, &qn);
		/* pointers into s may have moved when it grew: recompute */
		if (x->flags & JF_ESC)
			p = s.p;
		if (y->flags & JF_ESC)
			q = s.p + mark;
		int eq = pn == qn && memcmp(p, q, pn) == 0;
		buf_free(&s);
		return eq;
	}
	case J_ARR: {
		if (json_count(a, ta) != json_count(b, tb))
			return 0;
		uint32_t i = ta + 1, j = tb + 1;
		for (; i < x->next; i = a->tok[i].next, j = b->tok[j].next)
			if (!json_values_equal(a, i, b, j))
				return 0;
		return 1;
	}
	case J_OBJ: {
		if (json_count(a, ta) != json_count(b, tb))
			return 0;
		struct buf s = {0};
		for (uint32_t i = ta + 1; i < x->next; i = a->tok[i + 1].next) {
			const char *k;
			size_t kn;
			buf_reset(&s);
			json_str(a, i, &s, &k, &kn);
			uint32_t v = json_get(b, tb, k, kn);
			if (v == JNONE || !json_values_equal(a, i + 1, b, v)) {
				buf_free(&s);
				return 0;
			}
		}
		buf_free(&s);
		return 1;
	}
	}
	return 0;
}

const char *json_type_name(int type)
{
	switch (type) {
	case J_NULL: return "null";
	case J_TRUE: case J_FALSE: return "boolean";
	case J_NUM: return "number";
	case J_STR: return "string";
	case J_ARR: return "array";
	case J_OBJ: return "object";
	}
	return "none";
}

/*
 * Exact comparison of two JSON number texts, by their decimal value: no
 * conversion to double, so 9007199254740993 > 9007199254740992 and 1e400
 * > 1e399.  A number is seen as 0.D x 10^E with D its significant digits
 * (leading and trailing zeros dropped); magnitudes compare by E, then by
 * D digit by digit.
 */
struct decnum {
	int neg, zero;
	const char *ip, *fp; /* integer and fraction digits */
	size_t in, fn;
	int64_t e;           /* decimal exponent of 0.D */
	size_t lead;         /* zeros to skip at the start of ip.fp */
	size_t nd;           /* significant digits (trailing zeros dropped) */
};

static void decnum_read(const char *p, size_t n, struct decnum *x)
{
	size_t i = 0;
	memset(x, 0, sizeof *x);
	if (i < n && p[i] == '-') {
		x->neg = 1;
		i++;
	}
	x->ip = p + i;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	x->in = (size_t)(p + i - x->ip);
	x->fp = p + i;
	if (i < n && p[i] == '.') {
		x->fp = p + ++i;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
		x->fn = (size_t)(p + i - x->fp);
	}
	int64_t exp = 0;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		int eneg = 0;
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			eneg = p[i++] == '-';
		for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			if (exp < ((int64_t)1 << 50))
				exp = exp * 10 + (p[i] - '0');
		if (eneg)
			exp = -exp;
	}
	size_t total = x->in + x->fn, lead = 0, end = total;
#define DIG(k) ((k) < x->in ? x->ip[k] : x->fp[(k) - x->in])
	while (lead < total && DIG(lead) == '0')
		lead++;
	while (end > lead && DIG(end - 1) == '0')
		end--;
#undef DIG
	x->lead = lead;
	x->nd = end - lead;
	x->zero = x->nd == 0;
	x->e = exp + (int64_t)x->in - (int64_t)lead;
}

static int decnum_digit(const struct decnum *x, size_t k)
{
	k += x->lead;
	return k < x->in ? x->ip[k] : x->fp[k - x->in];
}

void json_num_key(const char *p, size_t n, struct buf *out)
{
	struct decnum x;
	decnum_read(p, n, &x);
	if (x.zero) {
		buf_addc(out, '0');
		return;
	}
	if (x.neg)
		buf_addc(out, '-');
	for (size_t k = 0; k < x.nd; k++)
		buf_addc(out, (char)decnum_digit(&x, k));
	buf_printf(out, "e%lld", (long long)x.e);
}

int json_num_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	struct decnum x, y;
	decnum_read(a, an, &x);
	decnum_read(b, bn, &y);
	int sx = x.zero ? 0 : x.neg ? -1 : 1, sy = y.zero ? 0 : y.neg ? -1 : 1;
	if (sx != sy)
		return sx < sy ? -1 : 1;
	if (sx == 0)
		return 0;
	int mag = 0; /* |x| vs |y| */
	if (x.e != y.e)
		mag = x.e < y.e ? -1 : 1;
	else {
		size_t n = x.nd < y.nd ? x.nd : y.nd;
		for (size_t k = 0; k < n && !mag; k++) {
			int dx = decnum_digit(&x, k), dy = decnum_digit(&y, k);
			if (dx != dy)
				mag = dx < dy ? -1 : 1;
		}
		if (!mag && x.nd != y.nd)
			mag = x.nd < y.nd ? -1 : 1;
	}
	return sx < 0 ? -mag : mag;
}
