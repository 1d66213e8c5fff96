/* backoff.c — retry delays and jitter (see backoff.h). */
#include "backoff.h"
#include "timeutil.h"

#include <string.h>

static const char *const names[BO_NSTRATEGIES] = { "exponential", "linear", "fibonacci", "fixed" };

int backoff_strategy_parse(const char *s, size_t n)
{
	for (int i = 0; i < BO_NSTRATEGIES; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return i;
	return -1;
}

const char *backoff_strategy_name(enum backoff_strategy s)
{
	return names[s];
}

int backoff_jitter_parse(const char *s)
{
	static const char *const j[] = { "none", "full", "equal", "decorrelated" };
	for (int i = 0; i < 4; i++)
		if (strcmp(j[i], s) == 0)
			return i;
	return -1;
}

int64_t backoff_default_base(enum backoff_strategy s)
{
	return s == BO_LINEAR || s == BO_FIBONACCI ? INT64_C(60000000) : INT64_C(1000000);
}

int64_t sat_mul(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_mul_overflow(a, b, &r))
		return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
	return r;
}

/* F(k) with F(1) = F(2) = 1, saturating (F(93) is beyond int64). */
static int64_t fib(int64_t k)
{
	int64_t a = 0, b = 1; /* F(0), F(1) */
	for (int64_t i = 1; i < k; i++) {
		int64_t c = time_add_sat(a, b);
		a = b;
		b = c;
		if (b == INT64_MAX)
			break;
	}
	return k <= 0 ? 0 : b;
}

int64_t backoff_delay(enum backoff_strategy s, int64_t base, int64_t n, int64_t cap)
{
	int64_t d;
	switch (s) {
	case BO_EXPONENTIAL:
		d = n >= 63 ? (base ? INT64_MAX : 0) : sat_mul(base, INT64_C(1) << n);
		break;
	case BO_LINEAR: d = sat_mul(base, n); break;
	case BO_FIBONACCI: d = sat_mul(base, fib(time_add_sat(n, 1))); break;
	default: d = base; break;
	}
	return d < cap ? d : cap;
}

int64_t backoff_jitter(enum backoff_jitter j, int64_t d, int64_t base, int64_t cap, struct prng *p)
{
	switch (j) {
	case BJ_FULL: return prng_uniform(p, 0, d);
	case BJ_EQUAL: return d / 2 + prng_uniform(p, 0, d - d / 2);
	case BJ_DECORRELATED: {
		int64_t hi = sat_mul(d, 3);
		int64_t v = prng_uniform(p, base, hi > base ? hi : base);
		return v < cap ? v : cap;
	}
	default: return d;
	}
}
