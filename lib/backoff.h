/*
 * backoff.h — retry delays: how long to wait before redelivery number
 * n + 1, given that n redeliveries were already made (evdlq triage).
 *
 *   exponential  base * 2^n          (default base 1s)
 *   linear       base * n            (default base 60s; n = 0 gives 0)
 *   fibonacci    base * F(n + 1)     (F: 1, 1, 2, 3, 5, 8 ...; default 60s)
 *   fixed        base                (default base 1s)
 *
 * then d = min(delay, cap) when there is a cap, and the jitter:
 *
 *   none          d                                  (no draw)
 *   full          uniform[0, d]
 *   equal         d/2 + uniform[0, d - d/2]          (integer halves)
 *   decorrelated  min(cap, uniform[base, max(base, 3d)])
 *                 (d standing for the previous sleep)
 *
 * with uniform from prng.h, one draw per call for every jitter but none.
 * All values are int64 microseconds; arithmetic saturates at INT64_MAX
 * instead of overflowing, so a huge n or base gives the largest delay,
 * never a negative one.
 */
#ifndef BACKOFF_H
#define BACKOFF_H

#include <stddef.h>
#include <stdint.h>

#include "prng.h"

enum backoff_strategy { BO_EXPONENTIAL, BO_LINEAR, BO_FIBONACCI, BO_FIXED, BO_NSTRATEGIES };
enum backoff_jitter { BJ_NONE, BJ_FULL, BJ_EQUAL, BJ_DECORRELATED };

#define BACKOFF_NO_CAP INT64_MAX

/* "exponential" ... -> strategy; -1 if unknown. */
int backoff_strategy_parse(const char *s, size_t n);
const char *backoff_strategy_name(enum backoff_strategy s);
/* "none" "full" "equal" "decorrelated" -> jitter; -1 if unknown. */
int backoff_jitter_parse(const char *s);
int64_t backoff_default_base(enum backoff_strategy s);

/* The capped delay before retry n (n >= 0, base >= 0, cap >= 0). */
int64_t backoff_delay(enum backoff_strategy s, int64_t base, int64_t n, int64_t cap);
/* Jitter applied to the capped delay d (draws from p unless BJ_NONE). */
int64_t backoff_jitter(enum backoff_jitter j, int64_t d, int64_t base, int64_t cap, struct prng *p);

/* Saturating multiplication on int64 (clamps to INT64_MIN/INT64_MAX; the
 * saturating addition is time_add_sat in timeutil.h). */
int64_t sat_mul(int64_t a, int64_t b);

#endif
