/* strset.c — set of byte strings, value keys (see strset.h). */
#include "strset.h"
#include "ev.h"

#include <stdlib.h>
#include <string.h>

static void rehash(struct strset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 64;
	struct sentry *nt = xcalloc(ncap, sizeof *nt);
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->tab[i].p)
			continue;
		size_t j = s->tab[i].h & (ncap - 1);
		while (nt[j].p)
			j = (j + 1) & (ncap - 1);
		nt[j] = s->tab[i];
	}
	free(s->tab);
	s->tab = nt;
	s->cap = ncap;
}

static struct sentry *find(const struct strset *s, uint64_t h, const void *p, size_t n)
{
	if (!s->cap)
		return NULL;
	size_t j = h & (s->cap - 1);
	while (s->tab[j].p) {
		if (s->tab[j].h == h && s->tab[j].n == n && memcmp(s->tab[j].p, p, n) == 0)
			return &s->tab[j];
		j = (j + 1) & (s->cap - 1);
	}
	return &s->tab[j];
}

int strset_has(const struct strset *s, const void *p, size_t n)
{
	struct sentry *e = find(s, fnv1a64(p, n), p, n);
	return e && e->p;
}

int strset_add(struct strset *s, const void *p, size_t n)
{
	if ((s->count + 1) * 2 > s->cap)
		rehash(s);
	uint64_t h = fnv1a64(p, n);
	struct sentry *e = find(s, h, p, n);
	if (e->p)
		return 0;
	e->h = h;
	e->p = xmemdup(p, n);
	e->n = n;
	s->count++;
	return 1;
}

void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->tab[i].p);
	free(s->tab);
	memset(s, 0, sizeof *s);
}

void json_value_key(const struct jdoc *d, uint32_t t, struct buf *out)
{
	if (t == JNONE) {
		buf_add(out, "jnull", 5);
		return;
	}
	if (d->tok[t].type == J_STR) {
		buf_addc(out, 's');
		const struct jtok *k = &d->tok[t];
		if (k->flags & JF_ESC)
			json_unescape(d->text + k->start + 1, k->len - 2, out);
		else
			buf_add(out, d->text + k->start + 1, k->len - 2);
		return;
	}
	buf_addc(out, 'j');
	json_write_compact(d, t, out);
}

uint64_t json_shard_hash(const struct jdoc *d, uint32_t t, struct buf *scratch)
{
	buf_reset(scratch);
	json_value_key(d, t, scratch);
	return fnv1a64(scratch->p + 1, scratch->len - 1);
}
