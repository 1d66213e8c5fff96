/* strset.c — set of byte strings, value keys (see strset.h). */
#include "strset.h"
#include "ev.h"

#include <stdlib.h>
#include <string.h>

int strset_has(const struct strset *s, const void *p, size_t n)
{
	return bmap_find(&s->m, p, n) != NULL;
}

int strset_add(struct strset *s, const void *p, size_t n)
{
	int created;
	bmap_get(&s->m, p, n, &created);
	return created;
}

void strset_free(struct strset *s)
{
	bmap_free(&s->m);
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

/* A part's length goes in front of it once its bytes are known. */
static size_t part_open(struct buf *out)
{
	uint32_t len = 0;
	size_t at = out->len;
	buf_add(out, &len, sizeof len);
	return at;
}

static void part_close(struct buf *out, size_t at)
{
	uint32_t len = (uint32_t)(out->len - at - sizeof len);
	memcpy(out->p + at, &len, sizeof len);
}

void json_key_part(const struct jdoc *d, uint32_t t, struct buf *out)
{
	size_t at = part_open(out);
	json_value_key(d, t, out);
	part_close(out, at);
}

void json_key_part_str(const char *s, size_t n, struct buf *out)
{
	size_t at = part_open(out);
	buf_addc(out, 's');
	buf_add(out, s, n);
	part_close(out, at);
}

size_t json_composite_key(const struct jdoc *d, uint32_t arr, size_t max, struct buf *out,
                          struct buf *cells, uint32_t *coff)
{
	size_t i = 0;
	for (uint32_t e = arr + 1; e < d->tok[arr].next; e = d->tok[e].next, i++) {
		if (i >= max)
			continue;
		json_key_part(d, e, out);
		if (cells) {
			coff[i] = (uint32_t)cells->len;
			json_write_compact(d, e, cells);
		}
	}
	return i;
}

uint64_t json_shard_hash(const struct jdoc *d, uint32_t t, struct buf *scratch)
{
	buf_reset(scratch);
	json_value_key(d, t, scratch);
	return fnv1a64(scratch->p + 1, scratch->len - 1);
}
