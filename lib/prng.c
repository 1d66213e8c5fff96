/* prng.c — splitmix64 and uniform integer draws (see prng.h). */
#include "prng.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void prng_seed(struct prng *p, uint64_t seed)
{
	p->state = seed;
}

uint64_t prng_random_seed(void)
{
	uint64_t s;
	if (getrandom(&s, sizeof s, GRND_NONBLOCK) == (ssize_t)sizeof s)
		return s;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000007) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
}

uint64_t prng_next(struct prng *p)
{
	uint64_t z = (p->state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Lemire's multiply-shift without the rejection step, so that a draw is
 * one call of prng_next and the formula alone reproduces it; the bias is
 * at most span / 2^64 (below 2^-27 for a range of a day in microseconds). */
int64_t prng_uniform(struct prng *p, int64_t lo, int64_t hi)
{
	uint64_t r = prng_next(p);
	uint64_t span = (uint64_t)hi - (uint64_t)lo + 1; /* 0: the whole 2^64 range */
	uint64_t off = span ? (uint64_t)(((unsigned __int128)r * span) >> 64) : r;
	return (int64_t)((uint64_t)lo + off);
}
