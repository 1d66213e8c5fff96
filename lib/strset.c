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

uint64_t json_shard_hash(const struct jdoc *d, uint32_t t, struct buf *scratch)
{
	buf_reset(scratch);
	json_value_key(d, t, scratch);
	return fnv1a64(scratch->p + 1, scratch->len - 1);
}
