/*
 * store_base.c — FILE.base: what compaction archived out of a store, so
 * that numbering goes on after it (the format is in store.h).
 *
 * Guarantees: the file is replaced atomically (atomic.h), so a reader sees
 * the old base or the new one; a malformed or unreadable base is an error,
 * never an empty base (numbering would restart); an absent one is empty.
 * An aggregate's entry only ever moves up (store_base_set keeps the larger
 * version).  Keys are compared as JSON values (strset.h json_value_key).
 */
#include "store_int.h"
#include "atomic.h"
#include "ev.h"
#include "jwrite.h"
#include "strset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

uint64_t store_base_version(const struct store_base *b, const char *vkey, size_t n)
{
	struct bmap_ent *e = bmap_find(&b->map, vkey, n);
	return e ? b->v[e->v[0]].version : 0;
}

void store_base_set_key(struct store_base *b, const char *vkey, size_t vn, const char *json,
                        size_t jn, uint64_t version)
{
	int created;
	struct bmap_ent *e = bmap_get(&b->map, vkey, vn, &created);
	if (!created) {
		struct store_basever *v = &b->v[e->v[0]];
		if (version > v->version)
			v->version = version;
		return;
	}
	e->v[0] = b->n;
	b->v = xgrow(b->v, &b->cap, b->n + 1, sizeof *b->v);
	struct store_basever *v = &b->v[b->n++];
	v->vkey = xmemdup(vkey, vn);
	v->vkeylen = vn;
	v->json = xmemdup(json, jn);
	v->jsonlen = jn;
	v->version = version;
}

void store_base_set(struct store_base *b, const struct jdoc *d, uint32_t t, uint64_t version)
{
	struct buf vk = {0}, js = {0};
	json_value_key(d, t, &vk);
	if (t == JNONE)
		buf_adds(&js, "null");
	else
		json_write_compact(d, t, &js);
	store_base_set_key(b, vk.p, vk.len, js.p, js.len, version);
	buf_free(&vk);
	buf_free(&js);
}

int store_base_read(const char *store, struct store_base *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof *b);
	char *path = store_file(store, ".base");
	struct buf text = {0};
	struct jdoc d = {0};
	struct jerr je;
	int rc = 0;
	if (buf_read_file(&text, path) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -1;
		}
		goto out;
	}
	size_t n = text.len;
	while (n && (text.p[n - 1] == '\n' || text.p[n - 1] == '\r'))
		n--;
	if (json_parse(&d, text.p ? text.p : "", n, 0, &je) < 0) {
		snprintf(err, errlen, "%s: %s", path, je.msg);
		rc = -1;
		goto out;
	}
	uint32_t ls = json_get(&d, 0, "last_seq", 8), vs = json_get(&d, 0, "versions", 8);
	if (store_pos_int(&d, ls, &b->last_seq) < 0 || vs == JNONE || d.tok[vs].type != J_ARR) {
		snprintf(err, errlen, "%s: expected {\"last_seq\":N,\"versions\":[[KEY,V],...]}", path);
		rc = -1;
		goto out;
	}
	struct buf vk = {0}, js = {0};
	size_t cnt = json_count(&d, vs);
	for (size_t i = 0; i < cnt && rc == 0; i++) {
		uint32_t pair = json_index(&d, vs, i), k, v;
		uint64_t ver;
		if (d.tok[pair].type != J_ARR || json_count(&d, pair) != 2 ||
		    (k = json_index(&d, pair, 0)) == JNONE || (v = json_index(&d, pair, 1)) == JNONE ||
		    store_pos_int(&d, v, &ver) < 0) {
			snprintf(err, errlen, "%s: versions[%zu]: expected [KEY,VERSION]", path, i);
			rc = -1;
			break;
		}
		buf_reset(&vk);
		buf_reset(&js);
		json_value_key(&d, k, &vk);
		json_write_compact(&d, k, &js);
		store_base_set_key(b, vk.p, vk.len, js.p, js.len, ver);
	}
	buf_free(&vk);
	buf_free(&js);
out:
	if (rc < 0)
		store_base_free(b);
	json_doc_free(&d);
	buf_free(&text);
	free(path);
	return rc;
}

int store_base_write(const char *store, const struct store_base *b)
{
	char *path = store_file(store, ".base");
	struct atomic_file *a = atomic_open(path);
	free(path);
	if (!a)
		return -1;
	struct buf t = {0};
	buf_adds(&t, "{\"last_seq\":");
	jw_uint(&t, b->last_seq);
	buf_adds(&t, ",\"versions\":[");
	for (size_t i = 0; i < b->n; i++) {
		if (i)
			buf_addc(&t, ',');
		buf_addc(&t, '[');
		buf_add(&t, b->v[i].json, b->v[i].jsonlen);
		buf_addc(&t, ',');
		jw_uint(&t, b->v[i].version);
		buf_addc(&t, ']');
		if (t.len > 65536) {
			wfile_write(a->w, t.p, t.len);
			buf_reset(&t);
		}
	}
	buf_adds(&t, "]}\n");
	wfile_write(a->w, t.p, t.len);
	buf_free(&t);
	return atomic_commit(a);
}

void store_base_free(struct store_base *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].json);
		free(b->v[i].vkey);
	}
	free(b->v);
	bmap_free(&b->map);
	memset(b, 0, sizeof *b);
}

void store_base_identity(const char *store, uint64_t *ino, uint64_t *size, uint64_t *mtime)
{
	char *p = store_file(store, ".base");
	struct stat st;
	if (stat(p, &st) == 0) {
		*ino = (uint64_t)st.st_ino;
		*size = (uint64_t)st.st_size;
		*mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	} else {
		*ino = *size = *mtime = 0;
	}
	free(p);
}
