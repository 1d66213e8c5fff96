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
		const struct jtok *k = &d->tok[t];
		size_t n = k->len - 2;
		if (k->flags & JF_ESC) {
			buf_addc(out, 's');
			json_unescape(d->text + k->start + 1, n, out);
			return;
		}
		/* the common case in one copy: on every event's path */
		buf_reserve(out, n + 1);
		out->p[out->len] = 's';
		memcpy(out->p + out->len + 1, d->text + k->start + 1, n);
		out->len += n + 1;
		out->p[out->len] = '\0';
		return;
	}
	buf_addc(out, 'j');
	json_write_compact(d, t, out);
}

void json_key_part_str(const char *s, size_t n, struct buf *out)
{
	size_t at = json_key_part_open(out);
	buf_addc(out, 's');
	buf_add(out, s, n);
	json_key_part_close(out, at);
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
