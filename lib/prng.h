/*
 * prng.h — the project's own pseudo-random numbers, for draws that must be
 * the same on every machine (evdlq --jitter with --seed): splitmix64
 * (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", 2014), 64-bit state, seeded with the seed itself.
 *
 * Guarantees: prng_next after prng_seed(s) gives the published splitmix64
 * sequence for state s (seed 0 starts e220a8397b1dcdaf, 6e789e6aa1b965f4);
 * prng_uniform(lo, hi) is lo + (r * (hi - lo + 1) >> 64) with one 64-bit
 * draw r and a 128-bit product, so it takes exactly one draw, never loops,
 * and its result depends only on the seed and the number of draws before.
 * Not for secrets.
 */
#ifndef PRNG_H
#define PRNG_H

#include <stdint.h>

struct prng {
	uint64_t state;
};

void prng_seed(struct prng *p, uint64_t seed);
/* A seed from the system's random source (getrandom), else the clock. */
uint64_t prng_random_seed(void);
uint64_t prng_next(struct prng *p);
/* Uniform on [lo, hi] (lo <= hi; any int64 range); one draw. */
int64_t prng_uniform(struct prng *p, int64_t lo, int64_t hi);

#endif
