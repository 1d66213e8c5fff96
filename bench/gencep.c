/*
 * gencep.c — deterministic generator of user activity for the evcep
 * benchmarks (bench/jobs-evcep.sh).
 *
 *   gencep N [SEED] [USERS]
 *
 * Writes N NDJSON events: USERS users (default 2000) doing logins,
 * transactions (some high-value), location changes, carts (AddToCart,
 * ViewCart, sometimes Checkout) and service errors, so that the seed's
 * three patterns all find matches:
 *   fraud:     Login -> HighValueTransaction[amount > 10000]
 *              -> LocationChange[distance > 1000] within 5m by user_id
 *   abandoned: AddToCart -> ViewCart -> !Checkout within 30m by session_id
 *   outage:    ServiceError{3} within 1m by user_id
 * Each event: event_id, event_type, timestamp (RFC 3339 with
 * microseconds, from 2026-11-30, strictly increasing by 1 ms to 200 ms,
 * about 100 ms on average), user_id, session_id (cart events), payload.
 * The user of an event is drawn from a skewed mix (20 busy users make a
 * third of the events), so per-user sequences happen within the
 * windows.  Our own PRNG (splitmix64) and no floating point: the bytes
 * depend only on the arguments.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GENCEP_VERSION "1"

static uint64_t S;
static uint64_t rnd(void)
{
	uint64_t z = (S += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static uint64_t below(uint64_t n) { return rnd() % n; }

static void put_time(int64_t us)
{
	int64_t s = us / 1000000, frac = us % 1000000;
	int64_t days = s / 86400, rem = s % 86400;
	/* civil from days (Howard Hinnant) */
	int64_t z = days + 719468, era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	printf("\"%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%06dZ\"", y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
	       (int)(rem % 60), (int)frac);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		puts("gencep " GENCEP_VERSION);
		return 0;
	}
	if (argc < 2) {
		fputs("usage: gencep N [SEED] [USERS]\n", stderr);
		return 2;
	}
	uint64_t n = strtoull(argv[1], NULL, 10);
	S = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	uint64_t users = argc > 3 ? strtoull(argv[3], NULL, 10) : 2000;
	if (users == 0)
		users = 1;
	int64_t t = INT64_C(1795996800000000); /* 2026-11-30T00:00:00Z */
	uint64_t *sess = calloc(users, sizeof *sess);
	unsigned char *stage = calloc(users, 1);
	if (!sess || !stage)
		return 5;
	static const char *services[] = { "billing", "search", "auth", "cart" };
	for (uint64_t i = 0; i < n; i++) {
		t += 1000 + (int64_t)below(200000);
		uint64_t u = below(3) == 0 ? below(users < 20 ? users : 20) : below(users);
		uint64_t r = below(100);
		const char *type;
		char payload[160];
		int cart = 0;
		if (r < 20) {
			type = "Login";
			snprintf(payload, sizeof payload, "{\"ip\":\"10.%u.%u.%u\"}", (unsigned)below(256),
			         (unsigned)below(256), (unsigned)below(256));
		} else if (r < 38) {
			type = "HighValueTransaction";
			snprintf(payload, sizeof payload, "{\"amount\":%u,\"currency\":\"EUR\"}",
			         (unsigned)(below(4) ? 100 + below(9000) : 10000 + below(90000)));
		} else if (r < 52) {
			type = "LocationChange";
			snprintf(payload, sizeof payload, "{\"distance\":%u,\"country\":\"%s\"}",
			         (unsigned)(below(3) ? below(1000) : 1000 + below(9000)), below(2) ? "FR" : "JP");
		} else if (r < 82) {
			cart = 1;
			/* a user's cart: AddToCart, ViewCart, then maybe Checkout */
			if (stage[u] == 0) {
				sess[u]++;
				type = "AddToCart";
				stage[u] = 1;
			} else if (stage[u] == 1) {
				type = below(4) ? "ViewCart" : "AddToCart";
				stage[u] = type[0] == 'V' ? 2 : 1;
			} else {
				type = below(2) ? "Checkout" : "ViewCart";
				stage[u] = type[0] == 'C' ? 0 : 2;
			}
			snprintf(payload, sizeof payload, "{\"sku\":\"SKU-%u\",\"qty\":%u}", (unsigned)below(5000),
			         (unsigned)(1 + below(3)));
		} else {
			type = "ServiceError";
			snprintf(payload, sizeof payload, "{\"service\":\"%s\",\"code\":%u}", services[below(4)],
			         (unsigned)(500 + below(4)));
		}
		printf("{\"event_id\":\"ev-%" PRIu64 "\",\"event_type\":\"%s\",\"timestamp\":", i + 1, type);
		put_time(t);
		printf(",\"user_id\":\"u%" PRIu64 "\"", u);
		if (cart)
			printf(",\"session_id\":\"s%" PRIu64 "-%" PRIu64 "\"", u, sess[u]);
		printf(",\"payload\":%s}\n", payload);
	}
	free(sess);
	free(stage);
	return fflush(stdout) == 0 ? 0 : 5;
}
