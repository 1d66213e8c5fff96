/*
 * gen.c — deterministic generator of realistic order events for the
 * evtools benchmarks.
 *
 *   gen N [SEED] [--bad K]
 *
 * Writes N NDJSON event envelopes (DESIGN §1) to stdout.  The output
 * depends only on N and SEED (default 1): the PRNG is our own
 * (splitmix64), no floating point is involved, and times are formatted
 * by hand, so every machine produces the same bytes.
 *
 * Shape of the stream:
 *   - min(N/20, 50000) aggregates "order-<k>", picked uniformly, so each
 *     has about 20 events (for N <= 1M);
 *   - an aggregate's first event is OrderCreated, later ones follow a
 *     skewed mix (ItemAdded ~32%, ..., OrderShipped ~12%, OrderDeleted ~4%);
 *   - "version" counts per aggregate from 1, "seq" globally from 1;
 *   - "timestamp" starts at 2026-11-01T00:00:00Z and increases strictly,
 *     by 2 ms to 10 s per event (about 0.9 s on average), with
 *     microseconds;
 *   - "payload" holds customer, items (1-4), a total equal to the sum of
 *     qty*price (money with two decimals, or an integer when whole),
 *     an address (some city names in raw UTF-8) and, on ~12% of events,
 *     a note with escapes (\u00e9, \"quoted\", \n, surrogate pairs, \u0000);
 *   - "metadata": source "bench", a correlation_id per aggregate and, from
 *     version 2 on, causation_id = the aggregate's previous event_id.
 *
 * --bad K inserts a malformed line after every K good lines (truncated
 * JSON, trailing comma, non-object, duplicate key, invalid UTF-8, lone
 * surrogate, raw NUL, trailing garbage, ...).  The good lines are the
 * same bytes as without --bad, so a validating tool must give the same
 * result on both files and reject exactly floor(N/K) lines.  Malformed
 * lines mostly claim to be OrderShipped events with a large total, so a
 * tool that does not validate shows up in the counts.
 *
 * Bump GEN_VERSION whenever the bytes produced change.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_VERSION "3"

/* ---- PRNG: splitmix64 ------------------------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift, bias negligible). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* A stateless hash for per-entity attributes (customer of an order,
 * price of a SKU): the same entity gets the same values in every run. */
static uint64_t mix(uint64_t a, uint64_t b)
{
	struct rng r = { a * 0x2545f4914f6cdd1dULL ^ b };
	rng_next(&r);
	return rng_next(&r);
}

/* ---- output buffer ------------------------------------------------------ */

static char line[4096];
static size_t len;

static void put(const char *s)
{
	size_t n = strlen(s);
	memcpy(line + len, s, n);
	len += n;
}

static void putn(const char *s, size_t n)
{
	memcpy(line + len, s, n);
	len += n;
}

static void putu(uint64_t v)
{
	char tmp[24];
	int i = 0;
	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		line[len++] = tmp[--i];
}

/* Zero-padded to WIDTH digits. */
static void putu0(uint64_t v, int width)
{
	char tmp[24];
	int i = 0;
	while (i < width || v) {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	}
	while (i)
		line[len++] = tmp[--i];
}

/* Money in cents: "12.50", or "12" when whole. */
static void putmoney(uint64_t cents)
{
	putu(cents / 100);
	if (cents % 100) {
		line[len++] = '.';
		putu0(cents % 100, 2);
	}
}

/* ---- values ------------------------------------------------------------- */

#define UUID_LEN 36

/* A version-4-looking UUID from two random words. */
static void make_uuid(char out[UUID_LEN + 1], uint64_t hi, uint64_t lo)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	for (int i = 0; i < 8; i++) {
		b[i] = (unsigned char)(hi >> (56 - 8 * i));
		b[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	int o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

/* Days since 1970-01-01 -> civil date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* RFC 3339 UTC with microseconds: 2026-11-01T00:00:00.000000Z */
static void put_time(int64_t us)
{
	int64_t secs = us / 1000000, days = secs / 86400;
	int64_t sod = secs % 86400, y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	putu0((uint64_t)y, 4);
	line[len++] = '-';
	putu0(m, 2);
	line[len++] = '-';
	putu0(d, 2);
	line[len++] = 'T';
	putu0((uint64_t)(sod / 3600), 2);
	line[len++] = ':';
	putu0((uint64_t)(sod / 60 % 60), 2);
	line[len++] = ':';
	putu0((uint64_t)(sod % 60), 2);
	line[len++] = '.';
	putu0((uint64_t)(us % 1000000), 6);
	line[len++] = 'Z';
}

/* 2026-11-01T00:00:00Z in microseconds since the epoch. */
#define T0_US (INT64_C(1793491200) * 1000000)

/* Event types after an aggregate's first event (always OrderCreated).
 * Weights sum to 100. */
static const struct {
	const char *name;
	unsigned weight;
} types[] = {
	{ "ItemAdded", 32 },      { "OrderPlaced", 16 },
	{ "OrderPaid", 14 },      { "OrderShipped", 13 },
	{ "ItemRemoved", 10 },    { "OrderCancelled", 6 },
	{ "OrderDeleted", 4 },    { "OrderUpdated", 5 },
};

static const char *pick_type(struct rng *r)
{
	unsigned x = rng_below(r, 100);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (x < types[i].weight)
			return types[i].name;
		x -= types[i].weight;
	}
	return types[0].name;
}

static const char *const cities[] = {
	"Berlin", "Hamburg", "M\xc3\xbcnchen", "K\xc3\xb6ln", "Paris", "Lyon",
	"London", "Manchester", "Madrid", "S\xc3\xa3o Paulo", "Krak\xc3\xb3w",
	"Z\xc3\xbcrich", "Wien", "Amsterdam", "New York", "Chicago", "Austin",
	"Seattle", "Toronto", "Tokyo",
};
#define NCITIES (sizeof cities / sizeof cities[0])

/* JSON string contents, already escaped. */
static const char *const notes[] = {
	"Leave at the door",
	"Deliver to the caf\\u00e9 next door",
	"Customer said \\\"urgent\\\"",
	"Ring twice\\nthen wait",
	"Gift wrap \\u2764 please",
	"Invoice path C:\\\\orders\\\\in",
	"\\ud83d\\ude9a express",
	"Stra\\u00dfe 5\\t2. OG",
	"Fragile \\/ handle with care",
	"Legacy import: nul\\u0000byte kept",
	"Na\\u00efve r\\u00e9sum\\u00e9 of the call",
	"\\u00a1Gracias! \\u2014 repeat customer",
};
#define NNOTES (sizeof notes / sizeof notes[0])

#define NSKUS 5000

/* Price of a SKU in cents: mostly 1.99 .. ~250, skewed to cheap;
 * one SKU in five has a whole price. */
static uint64_t sku_price(uint64_t seed, unsigned sku)
{
	uint64_t h = mix(seed ^ 0x5157, sku);
	unsigned tier = (unsigned)(h % 10);
	uint64_t base;
	if (tier < 5)
		base = 199 + (h >> 8) % 2000;     /* 1.99 .. 21.98 */
	else if (tier < 8)
		base = 1000 + (h >> 8) % 9000;    /* 10.00 .. 99.99 */
	else
		base = 5000 + (h >> 8) % 25000;   /* 50.00 .. 299.99 */
	if ((h >> 40) % 5 == 0)
		base -= base % 100;
	if (base % 100 != 0 && (h >> 44) % 2)
		base = base - base % 100 + 99;    /* x.99 pricing */
	return base;
}

struct agg {
	uint32_t version;
	char corr[UUID_LEN + 1];
	char last[UUID_LEN + 1];
};

/* ---- malformed lines ---------------------------------------------------- */

static void bad_line(uint64_t n, const char *prev, size_t prevlen)
{
	static const char *const bad[] = {
		"{\"event_id\":\"bad-%\",\"event_type\":\"OrderShipped\",\"payload\":{\"total\":999},}",
		"[\"OrderShipped\",{\"event_id\":\"bad-%\",\"payload\":{\"total\":999}}]",
		"{\"event_id\":\"bad-%\",\"event_type\":\"OrderPaid\",\"event_type\":\"OrderShipped\",\"payload\":{\"total\":999}}",
		"{\"event_id\":\"bad-%\",\"event_type\":\"OrderShipped\",\"payload\":{\"total\":999,\"note\":\"caf\xe9 latin-1\"}}",
		"{\"event_id\":\"bad-%\",\"event_type\":\"OrderShipped\",\"payload\":{\"total\":999,\"note\":\"lone \\ud800 surrogate\"}}",
		"{\"event_id\":\"bad-%\",\"event_type\":\"OrderShipped\",\"payload\":{\"total\":999,\"note\":\"raw\001control\"}}",
		"{\"event_id\":\"bad-%\",\"event_type\":\"OrderShipped\",\"payload\":{\"total\":999}} trailing",
		"{event_id:\"bad-%\",event_type:\"OrderShipped\",payload:{total:999}}",
		"{\"event_id\":\"bad-%\",\"event_type\":\"OrderShipped\",\"payload\":{\"total\":0999}}",
		"{\"event_id\":\"bad-%\",\"event_type\":\"OrderShipped\",\"payload\":{\"total\":999,\"note\":\"unterminated}}",
		"\"OrderShipped\"",
		"{\"event_id\":\"bad-%\",\"event_type\":\"OrderShipped\",\"payload\":{\"total\":NaN}}",
	};
	enum { NBAD = sizeof bad / sizeof bad[0] + 2 };
	unsigned kind = (unsigned)(n % NBAD);
	len = 0;
	if (kind == NBAD - 2) {
		/* the previous good line cut in half */
		putn(prev, prevlen / 2);
	} else if (kind == NBAD - 1) {
		/* a raw NUL byte inside a string */
		put("{\"event_id\":\"bad-");
		putu(n);
		put("\",\"event_type\":\"OrderShipped\",\"payload\":{\"total\":999,\"note\":\"nul");
		line[len++] = '\0';
		put("byte\"}}");
	} else {
		for (const char *p = bad[kind]; *p; p++) {
			if (*p == '%')
				putu(n);
			else
				line[len++] = *p;
		}
	}
	line[len++] = '\n';
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: gen N [SEED] [--bad K]\n"
	      "  N NDJSON order events on stdout, deterministic for (N, SEED);\n"
	      "  --bad K inserts a malformed line after every K good lines.\n"
	      "  gen --version prints the generator version.\n", f);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = 0, seed = 1, badk = 0;
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("gen %s\n", GEN_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--bad")) {
			if (++i >= argc || parse_u64(argv[i], &badk) || badk == 0) {
				fputs("gen: --bad needs a positive integer\n", stderr);
				return 2;
			}
		} else if (npos < 2) {
			if (parse_u64(argv[i], npos == 0 ? &n : &seed)) {
				fprintf(stderr, "gen: not a number: %s\n", argv[i]);
				return 2;
			}
			npos++;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (npos == 0) {
		usage(stderr);
		return 2;
	}

	uint64_t naggs = n / 20;
	if (naggs > 50000)
		naggs = 50000;
	if (naggs == 0)
		naggs = 1;
	uint64_t ncust = naggs / 4 ? naggs / 4 : 1;
	struct agg *aggs = calloc(naggs, sizeof *aggs);
	if (!aggs) {
		fputs("gen: out of memory\n", stderr);
		return 5;
	}

	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);

	struct rng r = { seed };
	int64_t t = T0_US;
	char id[UUID_LEN + 1];

	for (uint64_t seq = 1; seq <= n; seq++) {
		uint32_t k = rng_below(&r, (uint32_t)naggs);
		struct agg *a = &aggs[k];
		uint32_t ver = ++a->version;
		if (ver == 1)
			make_uuid(a->corr, mix(seed, k), mix(seed ^ 0xc0ffee, k));
		make_uuid(id, rng_next(&r), rng_next(&r));

		/* 70%: 2-500 ms, 25%: 0.5-3 s, 5%: 3-10 s */
		unsigned gap = rng_below(&r, 100);
		if (gap < 70)
			t += 2000 + rng_below(&r, 498000);
		else if (gap < 95)
			t += 500000 + rng_below(&r, 2500000);
		else
			t += 3000000 + rng_below(&r, 7000000);

		len = 0;
		put("{\"event_id\":\"");
		put(id);
		put("\",\"aggregate_id\":\"order-");
		putu(k + 1);
		put("\",\"event_type\":\"");
		put(ver == 1 ? "OrderCreated" : pick_type(&r));

		uint64_t cust = mix(seed ^ 0xc057, k) % ncust;
		uint64_t caddr = mix(seed ^ 0xadd2, cust);
		put("\",\"payload\":{\"customer_id\":\"cust-");
		putu(cust + 1);
		put("\",\"total\":");
		size_t total_at = len;
		put("                    "); /* patched below */

		/* items: 1 (50%), 2 (30%), 3 (15%), 4 (5%) */
		unsigned x = rng_below(&r, 20);
		unsigned nitems = x < 10 ? 1 : x < 16 ? 2 : x < 19 ? 3 : 4;
		uint64_t total = 0;
		put(",\"items\":[");
		for (unsigned i = 0; i < nitems; i++) {
			unsigned sku = rng_below(&r, NSKUS);
			unsigned q = rng_below(&r, 10);
			unsigned qty = q < 6 ? 1 : q < 9 ? 2 : 3 + rng_below(&r, 3);
			uint64_t price = sku_price(seed, sku);
			total += qty * price;
			put(i ? ",{\"sku\":\"SKU-" : "{\"sku\":\"SKU-");
			putu0(sku + 1, 4);
			put("\",\"qty\":");
			putu(qty);
			put(",\"price\":");
			putmoney(price);
			put("}");
		}
		put("],\"address\":{\"city\":\"");
		put(cities[caddr % NCITIES]);
		put("\",\"zip\":\"");
		putu0((caddr >> 16) % 100000, 5);
		put("\"}");
		if (rng_below(&r, 100) < 12) {
			put(",\"note\":\"");
			put(notes[rng_below(&r, NNOTES)]);
			put("\"");
		}
		put("},\"timestamp\":\"");
		put_time(t);
		put("\",\"version\":");
		putu(ver);
		put(",\"seq\":");
		putu(seq);
		put(",\"metadata\":{\"source\":\"bench\",\"correlation_id\":\"");
		put(a->corr);
		if (ver > 1) {
			put("\",\"causation_id\":\"");
			put(a->last);
		}
		put("\"}}\n");
		memcpy(a->last, id, sizeof id);

		/* patch the total in place: shift the tail left over the blanks */
		{
			size_t save = len;
			len = total_at;
			putmoney(total);
			size_t end = len, gapn = total_at + 20 - end;
			memmove(line + end, line + total_at + 20, save - (total_at + 20));
			len = save - gapn;
		}

		if (fwrite(line, 1, len, stdout) != len)
			break;

		if (badk && seq % badk == 0) {
			static char prev[sizeof line];
			size_t prevlen = len - 1;
			memcpy(prev, line, prevlen);
			bad_line(seq / badk, prev, prevlen);
			if (fwrite(line, 1, len, stdout) != len)
				break;
		}
	}
	free(aggs);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror("gen: write error");
		return 5;
	}
	return 0;
}
