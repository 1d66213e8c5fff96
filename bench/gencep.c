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
 *
 *   gencep --saga N [SEED]
 *
 * Writes the events of N CreateOrder sagas (examples/saga/create-order.json:
 * OrderCreated, InventoryReserved, PaymentCharged, ShipmentCreated,
 * ConfirmationSent, keyed by metadata.correlation_id), one saga starting
 * every 100 ms and its events 1 s apart, in time order: 85% complete, 10%
 * fail (a third each at reserve, charge, ship) and 5% stop answering after
 * one to three steps, so they time out.  The sagas running at once do not
 * depend on N (about 40 in flight, plus the 5% that wait for their
 * 5-minute timeout), so the input grows with N and the state does not.
 * Money is in integer cents, so a JSON round trip keeps every byte.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GENCEP_VERSION "2"

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

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The events of saga i: how many (1 to 5), and whether the last one is a
 * failure. */
static int saga_fate(uint64_t seed, uint64_t i, int *fail)
{
	uint64_t h = mix(seed * 0x9e3779b97f4a7c15ULL + i + 1);
	unsigned r = (unsigned)(h % 100), w = (unsigned)(h / 100 % 3);
	*fail = 0;
	if (r < 10) { /* fails at reserve (1), charge (2) or ship (3) */
		*fail = 1;
		return (int)w + 2;
	}
	if (r < 15) /* stops after one to three steps: times out */
		return (int)w + 2;
	return 5;
}

static int gen_sagas(uint64_t n, uint64_t seed)
{
	static const char *done[] = { "OrderCreated", "InventoryReserved", "PaymentCharged", "ShipmentCreated",
	                              "ConfirmationSent" };
	static const char *failed[] = { NULL, "InventoryReservationFailed", "PaymentFailed", "ShipmentFailed", NULL };
	int64_t t0 = INT64_C(1795996800000000); /* 2026-11-30T00:00:00Z */
	/* slot m (100 ms): event k of saga m - 10k, at t0 + m * 100 ms + k us */
	for (uint64_t m = 0; m < n + 40; m++) {
		for (int k = 0; k < 5; k++) {
			if (m < (uint64_t)k * 10 || m - (uint64_t)k * 10 >= n)
				continue;
			uint64_t i = m - (uint64_t)k * 10;
			int fail, nev = saga_fate(seed, i, &fail);
			if (k >= nev)
				continue;
			const char *type = fail && k == nev - 1 ? failed[k] : done[k];
			printf("{\"event_id\":\"e%" PRIu64 "-%d\",\"event_type\":\"%s\",\"timestamp\":", i, k, type);
			put_time(t0 + (int64_t)m * 100000 + k);
			printf(",\"metadata\":{\"correlation_id\":\"o-%" PRIu64 "\",\"source\":\"gencep\"},\"payload\":", i);
			uint64_t h = mix(i * 7 + (uint64_t)k);
			switch (k) {
			case 0:
				printf("{\"order_id\":\"o-%" PRIu64 "\",\"customer\":\"c-%u\",\"total\":%u}}\n", i,
				       (unsigned)(h % 5000), (unsigned)(100 + h / 5000 % 100000));
				break;
			case 1:
				printf("{\"reservation\":\"r-%" PRIu64 "\",\"warehouse\":\"w%u\"}}\n", i, (unsigned)(h % 8));
				break;
			case 2:
				printf("{\"payment\":\"p-%" PRIu64 "\",\"amount\":%u}}\n", i, (unsigned)(100 + h % 100000));
				break;
			case 3:
				printf("{\"shipment\":\"s-%" PRIu64 "\",\"carrier\":\"%s\"}}\n", i, h % 2 ? "DHL" : "UPS");
				break;
			default:
				printf("{\"email\":\"c-%u@example.com\"}}\n", (unsigned)(h % 5000));
			}
		}
	}
	return fflush(stdout) == 0 ? 0 : 5;
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "--saga") == 0)
		return gen_sagas(strtoull(argv[2], NULL, 10), argc > 3 ? strtoull(argv[3], NULL, 10) : 1);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		puts("gencep " GENCEP_VERSION);
		return 0;
	}
	if (argc < 2) {
		fputs("usage: gencep N [SEED] [USERS]\n       gencep --saga N [SEED]\n", stderr);
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
