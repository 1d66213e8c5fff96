/*
 * timeutil.c — event times, option times and durations (see timeutil.h).
 *
 * Every number is read as text: a run of decimal digits, the position of
 * the decimal point and an exponent.  Scaling by a unit (s, ms, us, ns) or
 * by an exponent is moving that point, so nothing ever goes through a
 * double and the same text always gives the same microsecond.  Digits
 * below the microsecond are dropped by rounding toward the past (floor):
 * for non-negative values that is plain truncation, and for negative
 * epochs it keeps an epoch number and the ISO string of the same instant
 * equal ("-0.0000005" s and "1969-12-31T23:59:59.9999995Z" are both -1 us).
 *
 * Calendar arithmetic is on days since 1970-01-01 in the proleptic
 * Gregorian calendar.  Civil dates in a zone other than UTC come from the
 * system tz database through localtime_r(), after TZ is set once by
 * time_set_tz(); UTC never touches libc.
 */
#include "timeutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define US_PER_MIN (60 * US_PER_S)
#define US_PER_DAY (86400 * US_PER_S)
/* An exponent is clamped here: far beyond any text length, yet small
 * enough that point positions computed from it never overflow. */
#define EXP_LIMIT INT64_C(1000000000000000)

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	int64_t r = a % b;
	return (r != 0 && (r < 0) != (b < 0)) ? r + b : r;
}

static int add_ok(int64_t a, int64_t b, int64_t *r)
{
	if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
		return -1;
	*r = a + b;
	return 0;
}

static int mul_ok(int64_t a, int64_t b, int64_t *r)
{
	/* Only non-negative operands occur here. */
	if (a != 0 && b > INT64_MAX / a)
		return -1;
	*r = a * b;
	return 0;
}

/* ---- calendar ------------------------------------------------------- */

static int is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/*
 * Both directions count years from March, so that the leap day is the
 * last day of a "year" and months March..February have lengths that a
 * linear formula gives: day-of-year d of month index i (March = 0) is
 * (153 * i + 2) / 5.  A 400-year era always has 146097 days; 1970-01-01
 * is day 719468 counted from 0000-03-01.
 */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	if (m <= 2)
		y--;                            /* Jan, Feb belong to the previous March-year */
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;            /* [0, 399] */
	int64_t mi = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9; /* March = 0 */
	int64_t doy = (153 * mi + 2) / 5 + (int64_t)d - 1;    /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;         /* [0, 146096] */
	/* Remove the leap days before doe (one per 4 years, less one per
	 * century, plus the era's last day) to get whole 365-day years. */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mi = (5 * doy + 2) / 153;       /* [0, 11], March = 0 */
	*d = (unsigned)(doy - (153 * mi + 2) / 5 + 1);
	*m = (unsigned)(mi < 10 ? mi + 3 : mi - 9);
	*y = era * 400 + yoe + (*m <= 2);
}

/* ---- decimal numbers ---------------------------------------------- */

/* A number as written: sign, integer digits, fraction digits, exponent. */
struct decnum {
	const char *ip, *fp;
	size_t ni, nf;
	int64_t exp;
	int neg;
};

static int dn_digit(const struct decnum *d, size_t k)
{
	return (k < d->ni ? d->ip[k] : d->fp[k - d->ni]) - '0';
}

/* -?D+(.D+)? and, when allow_exp, ([eE][+-]?D+)?; the whole of s[0..n). */
static int dn_scan(const char *s, size_t n, int allow_exp, struct decnum *d)
{
	size_t i = 0;
	memset(d, 0, sizeof *d);
	if (i < n && s[i] == '-') {
		d->neg = 1;
		i++;
	}
	d->ip = s + i;
	while (i < n && IS_DIGIT(s[i]))
		i++;
	d->ni = (size_t)(s + i - d->ip);
	if (d->ni == 0)
		return -1;
	d->fp = s + i;
	if (i < n && s[i] == '.') {
		d->fp = s + ++i;
		while (i < n && IS_DIGIT(s[i]))
			i++;
		d->nf = (size_t)(s + i - d->fp);
		if (d->nf == 0)
			return -1;
	}
	if (allow_exp && i < n && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0;
		size_t e0;
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (e0 = i; i < n && IS_DIGIT(s[i]); i++)
			if (d->exp < EXP_LIMIT)
				d->exp = d->exp * 10 + (s[i] - '0');
		if (i == e0)
			return -1;
		if (eneg)
			d->exp = -d->exp;
	}
	return i == n ? 0 : -1;
}

/*
 * Count of digits left of the point once the exponent is applied,
 * leading zeros not counted (so |value| < 10^k iff the count is <= k);
 * INT64_MIN for zero.
 */
static int64_t dn_magnitude(const struct decnum *d)
{
	size_t n = d->ni + d->nf;
	for (size_t k = 0; k < n; k++)
		if (dn_digit(d, k) != 0)
			return (int64_t)d->ni + d->exp - (int64_t)k;
	return INT64_MIN;
}

/* floor(value * 10^shift) into *out; -1 when it does not fit. */
static int dn_to_int(const struct decnum *d, int64_t shift, int64_t *out)
{
	int64_t p = (int64_t)d->ni + d->exp + shift; /* digits left of the point */
	size_t n = d->ni + d->nf;
	/* the magnitude may reach 2^63 when negative (INT64_MIN) */
	uint64_t lim = d->neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t acc = 0;
	unsigned rest = 0; /* a nonzero digit right of the point */
	for (size_t k = 0; k < n; k++) {
		unsigned dig = (unsigned)dn_digit(d, k);
		if ((int64_t)k < p) {
			if (acc > (lim - dig) / 10)
				return -1;
			acc = acc * 10 + dig;
		} else if (dig != 0) {
			rest = 1;
			break;
		}
	}
	for (int64_t k = (int64_t)n; acc != 0 && k < p; k++) {
		if (acc > lim / 10)
			return -1;
		acc *= 10;
	}
	if (!d->neg)
		*out = (int64_t)acc;
	else if (acc + rest > lim)
		return -1;
	else if (acc + rest == lim)
		*out = INT64_MIN;
	else
		*out = -(int64_t)(acc + rest);
	return 0;
}

int time_unit_parse(const char *s)
{
	static const char *const names[] = {"auto", "s", "ms", "us", "ns"};
	for (int u = 0; s && u < 5; u++)
		if (strcmp(s, names[u]) == 0)
			return u; /* same order as enum time_unit */
	return -1;
}

static int epoch_from_dn(const struct decnum *d, enum time_unit unit, int64_t *us)
{
	if (unit == TU_AUTO) {
		int64_t mag = dn_magnitude(d);
		unit = mag <= 11 ? TU_S : mag <= 14 ? TU_MS : mag <= 17 ? TU_US : TU_NS;
	}
	switch (unit) {
	case TU_S:
		return dn_to_int(d, 6, us);
	case TU_MS:
		return dn_to_int(d, 3, us);
	case TU_US:
		return dn_to_int(d, 0, us);
	case TU_NS:
		return dn_to_int(d, -3, us);
	default:
		return -1;
	}
}

int time_from_epoch_text(const char *s, size_t n, enum time_unit unit, int64_t *us)
{
	struct decnum d;
	if (dn_scan(s, n, 1, &d) != 0)
		return -1;
	return epoch_from_dn(&d, unit, us);
}

/* ---- ISO 8601 / RFC 3339 ------------------------------------------ */

/* Exactly count digits at s[*i]. */
static int fixed_digits(const char *s, size_t n, size_t *i, int count, int *v)
{
	int x = 0;
	if (n - *i < (size_t)count)
		return -1;
	for (int k = 0; k < count; k++) {
		char c = s[*i + (size_t)k];
		if (!IS_DIGIT(c))
			return -1;
		x = x * 10 + (c - '0');
	}
	*i += (size_t)count;
	*v = x;
	return 0;
}

static int lit(const char *s, size_t n, size_t *i, char c)
{
	if (*i < n && s[*i] == c) {
		(*i)++;
		return 0;
	}
	return -1;
}

/* Z, z, +HH:MM, +HHMM, +HH (or -): the offset east of UTC, in minutes. */
static int parse_offset(const char *s, size_t n, size_t *i, int *minutes)
{
	int oh, om = 0;
	if (s[*i] == 'Z' || s[*i] == 'z') {
		(*i)++;
		*minutes = 0;
		return 0;
	}
	if (s[*i] != '+' && s[*i] != '-')
		return -1;
	int neg = s[(*i)++] == '-';
	if (fixed_digits(s, n, i, 2, &oh) != 0)
		return -1;
	if (*i < n && s[*i] == ':') {
		(*i)++;
		if (fixed_digits(s, n, i, 2, &om) != 0)
			return -1;
	} else if (*i < n && IS_DIGIT(s[*i])) {
		if (fixed_digits(s, n, i, 2, &om) != 0)
			return -1;
	}
	if (oh > 23 || om > 59)
		return -1;
	*minutes = (neg ? -1 : 1) * (oh * 60 + om);
	return 0;
}

/* [.,]D+ after the seconds: microseconds, digits beyond six dropped. */
static int parse_fraction(const char *s, size_t n, size_t *i, int64_t *frac)
{
	size_t k = 0;
	int64_t f = 0;
	(*i)++;
	for (; *i < n && IS_DIGIT(s[*i]); (*i)++, k++)
		if (k < 6)
			f = f * 10 + (s[*i] - '0');
	if (k == 0)
		return -1;
	for (; k < 6; k++)
		f *= 10;
	*frac = f;
	return 0;
}

/* Two digits at p, or -1. */
static inline int two_digits(const char *p)
{
	unsigned a = (unsigned char)p[0] - '0', b = (unsigned char)p[1] - '0';
	return a < 10 && b < 10 ? (int)(a * 10 + b) : -1;
}

/* The day number of the date YYYY-MM-DD at s, or INT64_MIN when it is
 * no date.  The last one is remembered (consecutive events share their
 * date). */
static int64_t date_days(const char *s)
{
	static uint64_t memo8;
	static uint16_t memo2;
	static int64_t memo_days = INT64_MIN;
	uint64_t a;
	uint16_t b;
	memcpy(&a, s, 8);
	memcpy(&b, s + 8, 2);
	if (memo_days != INT64_MIN && a == memo8 && b == memo2)
		return memo_days;
	int y1 = two_digits(s), y2 = two_digits(s + 2), mo = two_digits(s + 5), d = two_digits(s + 8);
	if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1)
		return INT64_MIN;
	int y = y1 * 100 + y2;
	if ((unsigned)d > days_in_month(y, (unsigned)mo))
		return INT64_MIN;
	memo8 = a;
	memo2 = b;
	memo_days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	return memo_days;
}

/*
 * The shape nearly every log writes, YYYY-MM-DDTHH:MM:SS then an
 * optional fraction and offset, read at fixed places.  1 when s has
 * another shape (the general reader decides); 0 or -1 as time_parse_iso.
 */
static int parse_iso_common(const char *s, size_t n, int64_t *us)
{
	if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return 1;
	int64_t days = date_days(s);
	if (days == INT64_MIN)
		return -1;
	int h = two_digits(s + 11), mi = two_digits(s + 14), sec = two_digits(s + 17), off = 0;
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	size_t i = 19;
	int64_t frac = 0;
	if (i < n && (s[i] == '.' || s[i] == ',')) {
		/* six digits, the common fraction, at once */
		if (n - i > 6 && two_digits(s + i + 1) >= 0 && two_digits(s + i + 3) >= 0 && two_digits(s + i + 5) >= 0 &&
		    (n - i == 7 || !IS_DIGIT(s[i + 7]))) {
			frac = (int64_t)two_digits(s + i + 1) * 10000 + two_digits(s + i + 3) * 100 + two_digits(s + i + 5);
			i += 7;
		} else if (parse_fraction(s, n, &i, &frac) != 0) {
			return -1;
		}
	}
	if (i < n && parse_offset(s, n, &i, &off) != 0)
		return -1;
	if (i != n)
		return -1;
	*us = (((days * 24 + h) * 60 + mi - off) * 60 + sec) * US_PER_S + frac;
	return 0;
}

int time_parse_iso(const char *s, size_t n, int64_t *us)
{
	size_t i = 0;
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	int64_t frac = 0;

	int rc = parse_iso_common(s, n, us);
	if (rc <= 0)
		return rc;
	if (fixed_digits(s, n, &i, 4, &y) || lit(s, n, &i, '-') ||
	    fixed_digits(s, n, &i, 2, &mo) || lit(s, n, &i, '-') ||
	    fixed_digits(s, n, &i, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)mo))
		return -1;
	if (i < n) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return -1;
		i++;
		if (fixed_digits(s, n, &i, 2, &h) || lit(s, n, &i, ':') ||
		    fixed_digits(s, n, &i, 2, &mi) || h > 23 || mi > 59)
			return -1;
		if (i < n && s[i] == ':') {
			i++;
			/* :60 is a leap second, read as the next minute's :00 */
			if (fixed_digits(s, n, &i, 2, &sec) || sec > 60)
				return -1;
			if (i < n && (s[i] == '.' || s[i] == ',') &&
			    parse_fraction(s, n, &i, &frac) != 0)
				return -1;
		}
		if (i < n && parse_offset(s, n, &i, &off) != 0)
			return -1;
	}
	if (i != n)
		return -1;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	int64_t secs = ((days * 24 + h) * 60 + mi - off) * 60 + sec;
	*us = secs * US_PER_S + frac;
	return 0;
}

int time_parse_event_str(const char *s, size_t n, enum time_unit unit, int64_t *us)
{
	struct decnum d;
	/* '-' at 4 and 7 is a date, never a number (a number has one '-'
	 * after its first character at most: its exponent's) */
	if (n >= 10 && s[4] == '-' && s[7] == '-')
		return time_parse_iso(s, n, us);
	if (dn_scan(s, n, 0, &d) == 0)
		return epoch_from_dn(&d, unit, us);
	return time_parse_iso(s, n, us);
}

/* ---- durations ---------------------------------------------------- */

/* A unit name at s[*i] (the longest run of letters), in nanoseconds;
 * 0 when there is none, -1 when unknown. */
static int64_t dur_unit(const char *s, size_t n, size_t *i)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {
		{"ns", 1},
		{"us", 1000},
		{"ms", 1000000},
		{"s", 1000000000},
		{"m", INT64_C(60000000000)},
		{"h", INT64_C(3600000000000)},
		{"d", INT64_C(86400000000000)},
		{"w", INT64_C(604800000000000)},
	};
	size_t j = *i;
	while (j < n && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z')))
		j++;
	if (j == *i)
		return 0;
	for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
		if (strlen(units[u].name) == j - *i && memcmp(units[u].name, s + *i, j - *i) == 0) {
			*i = j;
			return units[u].ns;
		}
	return -1;
}

/*
 * Each part is NUMBER UNIT; its whole part scales exactly, and its
 * fraction 0.f1f2...fk times the unit is floored digit by digit from the
 * last: floor((u*f + x) / 10) == floor((u*f + floor(x)) / 10) for
 * integers u*f and x >= 0, so no intermediate ever exceeds 10 units.
 * Sub-microsecond remainders of all parts are summed before truncating.
 */
int dur_parse(const char *s, size_t n, int64_t *us)
{
	int64_t total = 0, rem_ns = 0;
	size_t i = 0;
	if (n == 0)
		return -1;
	while (i < n) {
		struct decnum d;
		size_t start = i;
		while (i < n && (IS_DIGIT(s[i]) || s[i] == '.'))
			i++;
		if (i == start || dn_scan(s + start, i - start, 0, &d) != 0)
			return -1;
		int64_t u = dur_unit(s, n, &i);
		if (u < 0)
			return -1;
		if (u == 0) {
			/* a bare number is seconds, and only on its own */
			if (start != 0 || i != n)
				return -1;
			u = 1000000000;
		}
		struct decnum w = d;
		int64_t whole, part, fns = 0;
		w.nf = 0; /* the whole part; the fraction follows */
		if (u >= 1000) {
			if (dn_to_int(&w, 0, &whole) != 0 || mul_ok(whole, u / 1000, &part) != 0)
				return -1;
		} else {
			/* nanoseconds: the point moves left by three; the last
			 * three integer digits are the remainder */
			int64_t last3 = 0;
			if (dn_to_int(&w, -3, &part) != 0)
				return -1;
			for (size_t k = w.ni > 3 ? w.ni - 3 : 0; k < w.ni; k++)
				last3 = last3 * 10 + (w.ip[k] - '0');
			rem_ns += last3;
		}
		for (size_t k = d.nf; k-- > 0;)
			fns = (u * (d.fp[k] - '0') + fns) / 10;
		if (add_ok(part, fns / 1000, &part) != 0 || add_ok(total, part, &total) != 0)
			return -1;
		rem_ns += fns % 1000;
	}
	if (add_ok(total, rem_ns / 1000, &total) != 0)
		return -1;
	*us = total;
	return 0;
}

/* ---- option times ------------------------------------------------- */

int time_parse_option(const char *s, int64_t now, int64_t *us)
{
	if (!s || !*s)
		return -1;
	size_t n = strlen(s);
	struct decnum d;
	if (s[0] == '@') {
		if (dn_scan(s + 1, n - 1, 0, &d) != 0)
			return -1;
		return dn_to_int(&d, 6, us);
	}
	if (s[0] == '+' || s[0] == '-') {
		int64_t off;
		if (dur_parse(s + 1, n - 1, &off) != 0)
			return -1;
		return add_ok(now, s[0] == '-' ? -off : off, us);
	}
	if (strcmp(s, "now") == 0) {
		*us = now;
		return 0;
	}
	if (strcmp(s, "today") == 0)
		return time_day_start(now, us);
	if (strcmp(s, "yesterday") == 0) {
		int64_t today;
		return time_day_start(now, &today) != 0 || today == INT64_MIN ? -1 : time_day_start(today - 1, us);
	}
	/* an unsigned number: an epoch in the auto unit */
	if (dn_scan(s, n, 0, &d) == 0)
		return epoch_from_dn(&d, TU_AUTO, us);
	if (time_parse_iso(s, n, us) == 0)
		return 0;
	/* an unsigned duration with a unit: that long ago */
	int64_t ago;
	if (IS_DIGIT(s[0]) && dur_parse(s, n, &ago) == 0)
		return add_ok(now, -ago, us);
	return -1;
}

/* ---- formatting --------------------------------------------------- */

static char *put_digits(char *p, int64_t v, int width)
{
	for (int k = width - 1; k >= 0; k--) {
		p[k] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

static char *put_year(char *p, int64_t y)
{
	if (y >= 0 && y <= 9999)
		return put_digits(p, y, 4);
	*p++ = y < 0 ? '-' : '+'; /* ISO 8601 expanded year */
	return put_digits(p, y < 0 ? -y : y, 6);
}

size_t time_format(int64_t us, char *out)
{
	int64_t frac = floor_mod(us, US_PER_S);
	int64_t secs = floor_div(us, US_PER_S);
	int64_t days = floor_div(secs, 86400), sod = floor_mod(secs, 86400);
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	char *p = put_year(out, y);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, sod / 3600, 2);
	*p++ = ':';
	p = put_digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, sod % 60, 2);
	*p++ = '.';
	p = put_digits(p, frac, 6);
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - out);
}

/* ---- clock -------------------------------------------------------- */

static int now_fixed;
static int64_t now_us;

void time_set_now(int64_t us)
{
	now_fixed = 1;
	now_us = us;
}

int64_t time_now(void)
{
	struct timespec ts;
	if (now_fixed)
		return now_us;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

/* ---- zones -------------------------------------------------------- */

/* The zone of calendar buckets: set once by --tz (time_set_tz), read
 * through time_tz().  Nothing reads the environment's TZ back: the
 * process's TZ is written here only because libc's localtime_r takes its
 * zone from there, and only for a zone other than UTC (UTC never touches
 * libc), so a TZ the user's shell exports changes nothing. */
static int tz_utc = 1;
static char tz_name[208] = "UTC";

/* An IANA name: relative, no "." or ".." component, plain characters. */
static int zone_name_ok(const char *z)
{
	size_t n = strlen(z);
	if (n == 0 || n > 200 || z[0] == '/' || z[n - 1] == '/')
		return 0;
	for (const char *p = z; *p; p++) {
		char c = *p;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IS_DIGIT(c) ||
		      c == '/' || c == '_' || c == '-' || c == '+' || c == '.'))
			return 0;
		if (c == '.' && (p == z || p[-1] == '/'))
			return 0; /* no hidden files, "." or ".." */
		if (c == '/' && p[1] == '/')
			return 0;
	}
	return 1;
}

/* The zone's file in the tz database starts with the TZif magic (this
 * also turns away zone.tab, tzdata.zi and directories). */
static int zone_file_ok(const char *z)
{
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	int len = snprintf(path, sizeof path, "%s/%s", dir, z);
	if (len < 0 || (size_t)len >= sizeof path)
		return 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t r = read(fd, magic, sizeof magic);
	close(fd);
	return r == (ssize_t)sizeof magic && memcmp(magic, "TZif", 4) == 0;
}

int time_set_tz(const char *zone)
{
	char tz[256];
	if (!zone)
		return -1;
	if (strcmp(zone, "UTC") == 0) {
		tz_utc = 1;
		strcpy(tz_name, "UTC");
		return 0;
	}
	if (!zone_name_ok(zone) || !zone_file_ok(zone))
		return -1;
	snprintf(tz, sizeof tz, ":%s", zone);
	if (setenv("TZ", tz, 1) != 0)
		return -1;
	tzset();
	tz_utc = 0;
	snprintf(tz_name, sizeof tz_name, "%s", zone); /* zone_name_ok: at most 200 */
	return 0;
}

const char *time_tz(void)
{
	return tz_name;
}

int time_day_start(int64_t us, int64_t *out)
{
	int64_t secs = floor_div(us, US_PER_S), day;
	if (tz_utc) {
		day = floor_div(secs, 86400) * 86400;
	} else {
		time_t t = (time_t)secs;
		struct tm tm;
		if ((int64_t)t != secs || !localtime_r(&t, &tm))
			return -1;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1; /* a midnight that does not exist moves forward */
		time_t m = mktime(&tm);
		if (m == (time_t)-1 && secs - (int64_t)m > 86400)
			return -1;
		day = (int64_t)m;
	}
	if (day < INT64_MIN / US_PER_S || day > INT64_MAX / US_PER_S)
		return -1;
	*out = day * US_PER_S;
	return 0;
}

/* Civil date and hour of us in the current zone; -1 outside 0000-9999. */
static int civil_in_zone(int64_t us, int64_t *y, unsigned *m, unsigned *d, unsigned *h)
{
	int64_t secs = floor_div(us, US_PER_S);
	if (tz_utc) {
		civil_from_days(floor_div(secs, 86400), y, m, d);
		*h = (unsigned)(floor_mod(secs, 86400) / 3600);
	} else {
		time_t t = (time_t)secs;
		struct tm tm;
		if ((int64_t)t != secs || !localtime_r(&t, &tm))
			return -1;
		*y = (int64_t)tm.tm_year + 1900;
		*m = (unsigned)tm.tm_mon + 1;
		*d = (unsigned)tm.tm_mday;
		*h = (unsigned)tm.tm_hour;
	}
	return *y >= 0 && *y <= 9999 ? 0 : -1;
}

int time_local_tm(int64_t us, struct tm *tm)
{
	int64_t secs = floor_div(us, US_PER_S);
	time_t t = (time_t)secs;
	if ((int64_t)t != secs)
		return -1;
	if (tz_utc) {
		if (!gmtime_r(&t, tm))
			return -1;
		tm->tm_gmtoff = 0;
		tm->tm_zone = "UTC";
		return 0;
	}
	return localtime_r(&t, tm) ? 0 : -1;
}

size_t time_format_date(int64_t us, char *out)
{
	int64_t y;
	unsigned m, d, h;
	if (civil_in_zone(us, &y, &m, &d, &h) != 0) {
		y = 0;
		m = d = 0;
	}
	char *p = put_digits(out, y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p = '\0';
	return (size_t)(p - out);
}

size_t time_format_hour(int64_t us, char *out)
{
	int64_t y;
	unsigned m, d, h;
	if (civil_in_zone(us, &y, &m, &d, &h) != 0) {
		y = 0;
		m = d = h = 0;
	}
	char *p = put_digits(out, y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, h, 2);
	*p = '\0';
	return (size_t)(p - out);
}
