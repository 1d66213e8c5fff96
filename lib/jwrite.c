/* jwrite.c — JSON output for created records (see jwrite.h). */
#include "jwrite.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_string(struct buf *b, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_reserve(b, n + 2);
	buf_addc(b, '"');
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, p + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_add(b, u, 6);
		}
		}
	}
	buf_add(b, p + run, n - run);
	buf_addc(b, '"');
}

void jw_int(struct buf *b, int64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof t, "%" PRId64, v);
	buf_add(b, t, (size_t)n);
}

void jw_uint(struct buf *b, uint64_t v)
{
	/* digits by hand: snprintf costs more than the rest of a small
	 * member (evwrite writes two per event) */
	char t[24];
	size_t i = sizeof t;
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_add(b, t + i, sizeof t - i);
}

void jw_double(struct buf *b, double v)
{
	char t[40];
	if (!isfinite(v)) {
		buf_add(b, "null", 4);
		return;
	}
	if (v == floor(v) && fabs(v) < 1e17) {
		int n = snprintf(t, sizeof t, "%.0f", v);
		if (n == 2 && t[0] == '-' && t[1] == '0')
			n = snprintf(t, sizeof t, "0");
		buf_add(b, t, (size_t)n);
		return;
	}
	int n = 0;
	for (int prec = 1; prec <= 17; prec++) {
		n = snprintf(t, sizeof t, "%.*g", prec, v);
		if (strtod(t, NULL) == v)
			break;
	}
	buf_add(b, t, (size_t)n);
}

void jw_base64(struct buf *b, const void *data, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	buf_reserve(b, (n + 2) / 3 * 4);
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		char o[4] = { tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63] };
		buf_add(b, o, 4);
	}
	if (n - i == 1) {
		unsigned v = (unsigned)p[i] << 16;
		char o[4] = { tab[v >> 18], tab[(v >> 12) & 63], '=', '=' };
		buf_add(b, o, 4);
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		char o[4] = { tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], '=' };
		buf_add(b, o, 4);
	}
}

static int key_is(const struct jdoc *d, uint32_t k, const char *name, struct buf *scratch)
{
	const char *p;
	size_t n;
	buf_reset(scratch);
	json_str(d, k, scratch, &p, &n);
	return n == strlen(name) && memcmp(p, name, n) == 0;
}

size_t jw_object_except(struct buf *b, const struct jdoc *d, uint32_t obj,
                        const char *const *drop, size_t ndrop)
{
	const struct jtok *o = &d->tok[obj];
	struct buf scratch = {0};
	size_t members = 0, dropped = 0;
	for (uint32_t k = obj + 1; k < o->next; k = d->tok[k + 1].next) {
		members++;
		for (size_t i = 0; i < ndrop; i++)
			if (key_is(d, k, drop[i], &scratch)) {
				dropped++;
				break;
			}
	}
	if (!dropped) {
		/* the input's bytes up to the closing brace */
		buf_add(b, d->text + o->start, o->len - 1);
		buf_free(&scratch);
		return members;
	}
	buf_addc(b, '{');
	size_t kept = 0;
	for (uint32_t k = obj + 1; k < o->next; k = d->tok[k + 1].next) {
		int skip = 0;
		for (size_t i = 0; i < ndrop && !skip; i++)
			skip = key_is(d, k, drop[i], &scratch);
		if (skip)
			continue;
		const struct jtok *v = &d->tok[k + 1];
		if (kept++)
			buf_addc(b, ',');
		buf_add(b, d->text + d->tok[k].start, v->start + v->len - d->tok[k].start);
	}
	buf_free(&scratch);
	return kept;
}
