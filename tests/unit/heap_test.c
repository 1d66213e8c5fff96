/*
 * heap_test.c — drives lib/heap from stdin, one command a line, for
 * tests/heap.bats.  Elements are named items (a-z) with a key; each item
 * remembers its index through the moved() callback, as keyed's timers do.
 *
 *   push NAME KEY    heap_push                -> ok
 *   top              heap_top                 -> NAME KEY | none
 *   pop              heap_pop                 -> NAME KEY | none
 *   rm NAME          heap_remove at the item's tracked index -> ok | absent
 *   drain            pop all                  -> NAME KEY ... (one line)
 *   check            every parent <= its children and every tracked
 *                    index right                -> ok N | bad ...
 *   fill N SEED      N random pushes, a third removed from the middle by
 *                    tracked index, then all popped: order and indices
 *                    checked                   -> ok N | bad ...
 */
#include "ev.h"
#include "heap.h"
#include "prng.h"
#include "unit.h"

#include <inttypes.h>
#include <stdlib.h>

struct item { int64_t key; uint64_t seq; char name; };

static size_t where[256];   /* 1 + index by name; 0: not in the heap */
static size_t *places;      /* fill: 1 + index by seq */
static uint64_t seq;

static int less(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static void moved(void *e, size_t i)
{
	struct item *it = e;
	if (places)
		places[it->seq] = i + 1;
	else
		where[(unsigned char)it->name] = i + 1;
}

static int check(const struct heap *h, char *why, size_t n)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct item *it = heap_at(h, i);
		size_t at = places ? places[it->seq] : where[(unsigned char)it->name];
		if (at != i + 1) {
			snprintf(why, n, "bad index of %c: %zu, is at %zu", it->name, at, i + 1);
			return -1;
		}
		if (i && less(it, heap_at(h, (i - 1) / 2))) {
			snprintf(why, n, "bad order at %zu", i);
			return -1;
		}
	}
	return 0;
}

static void fill(struct heap *h, unsigned n, uint64_t s)
{
	struct prng r;
	prng_seed(&r, s);
	places = xcalloc(n, sizeof *places);
	char why[100];
	for (unsigned i = 0; i < n; i++) {
		struct item it = { (int64_t)(prng_next(&r) % 50) - 25, i, 'x' };
		heap_push(h, &it);
	}
	unsigned removed = 0;
	for (unsigned i = 0; i < n; i += 3) {
		struct item out;
		heap_remove(h, places[i] - 1, &out);
		if (out.seq != i) {
			printf("bad removal: %" PRIu64 " for %u\n", out.seq, i);
			goto done;
		}
		places[i] = 0;
		removed++;
		if (check(h, why, sizeof why) < 0) {
			printf("%s\n", why);
			goto done;
		}
	}
	struct item last = { INT64_MIN, 0, 0 }, it;
	unsigned popped = 0;
	while (h->n) {
		heap_pop(h, &it);
		if (it.seq % 3 == 0 || less(&it, &last)) {
			printf("bad pop: %" PRId64 " %" PRIu64 "\n", it.key, it.seq);
			goto done;
		}
		last = it;
		popped++;
	}
	printf("ok %u\n", removed + popped);
done:
	free(places);
	places = NULL;
	heap_free(h);
}

int main(void)
{
	struct heap h;
	heap_init(&h, sizeof(struct item), less, moved);
	char line[256], *arg, why[100];
	while (unit_command(line, sizeof line, &arg)) {
		struct item it;
		if (!strcmp(line, "push")) {
			char name;
			if (sscanf(arg, " %c %" SCNd64, &name, &it.key) != 2)
				return 2;
			it.name = name;
			it.seq = seq++;
			heap_push(&h, &it);
			printf("ok\n");
		} else if (!strcmp(line, "top") || !strcmp(line, "pop")) {
			if (!heap_top(&h)) {
				printf("none\n");
				continue;
			}
			it = *(struct item *)heap_top(&h);
			if (line[0] == 'p') {
				heap_pop(&h, NULL);
				where[(unsigned char)it.name] = 0;
			}
			printf("%c %" PRId64 "\n", it.name, it.key);
		} else if (!strcmp(line, "rm")) {
			size_t at = where[(unsigned char)arg[0]];
			if (!at) {
				printf("absent\n");
				continue;
			}
			heap_remove(&h, at - 1, &it);
			where[(unsigned char)it.name] = 0;
			printf(it.name == arg[0] ? "ok\n" : "removed %c\n", it.name);
		} else if (!strcmp(line, "drain")) {
			while (h.n) {
				heap_pop(&h, &it);
				where[(unsigned char)it.name] = 0;
				printf(" %c %" PRId64, it.name, it.key);
			}
			printf("\n");
		} else if (!strcmp(line, "check")) {
			if (check(&h, why, sizeof why) < 0)
				printf("%s\n", why);
			else
				printf("ok %zu\n", h.n);
		} else if (!strcmp(line, "fill")) {
			unsigned n;
			uint64_t s;
			if (sscanf(arg, "%u %" SCNu64, &n, &s) != 2)
				return 2;
			fill(&h, n, s);
			heap_init(&h, sizeof(struct item), less, moved);
		} else {
			return 2;
		}
		fflush(stdout);
	}
	heap_free(&h);
	return 0;
}
