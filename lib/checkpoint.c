/* checkpoint.c — resumable input positions (see checkpoint.h). */
#include "checkpoint.h"
#include "ev.h"
#include "event.h"
#include "jwrite.h"
#include "strset.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CK_WINDOW (64 * 1024)

static void hash_range(int fd, uint64_t from, uint64_t to, uint64_t *h)
{
	char chunk[8192];
	while (from < to) {
		size_t want = to - from < sizeof chunk ? (size_t)(to - from) : sizeof chunk;
		ssize_t n = pread(fd, chunk, want, (off_t)from);
		if (n <= 0) {
			*h ^= 0xdeadbeef; /* unreadable: cannot match */
			return;
		}
		for (ssize_t i = 0; i < n; i++)
			*h = (*h ^ (unsigned char)chunk[i]) * UINT64_C(1099511628211);
		from += (uint64_t)n;
	}
}

static uint64_t prefix_sum(int fd, uint64_t off)
{
	uint64_t h = UINT64_C(14695981039346656037);
	uint64_t head = off < CK_WINDOW ? off : CK_WINDOW;
	hash_range(fd, 0, head, &h);
	uint64_t tail = off > 2 * CK_WINDOW ? off - CK_WINDOW : head;
	hash_range(fd, tail > head ? tail : head, off, &h);
	return h;
}

int ckpt_mark_file(struct ckpt *c, int fd, uint64_t offset)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		c->has_file = 0;
		return -1;
	}
	c->has_file = 1;
	c->dev = (uint64_t)st.st_dev;
	c->ino = (uint64_t)st.st_ino;
	c->offset = offset;
	c->cksum = prefix_sum(fd, offset);
	return 0;
}

enum ckpt_resume ckpt_check(const struct ckpt *c, int fd, char *why, size_t whylen)
{
	struct stat st;
	why[0] = '\0';
	if (!c->has_file)
		return c->has_seq ? CK_SEQ : CK_FRESH;
	int reg = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (!reg)
		snprintf(why, whylen, "the saved position is in a regular file, not this input");
	else if ((uint64_t)st.st_dev != c->dev || (uint64_t)st.st_ino != c->ino)
		snprintf(why, whylen, "the file was replaced since the state was saved");
	else if ((uint64_t)st.st_size < c->offset)
		snprintf(why, whylen, "the file shrank from at least %" PRIu64 " to %" PRIu64 " bytes since the state was saved",
		         c->offset, (uint64_t)st.st_size);
	else if (prefix_sum(fd, c->offset) != c->cksum)
		snprintf(why, whylen, "the file changed before byte %" PRIu64 " since the state was saved", c->offset);
	else
		return CK_SEEK;
	return c->has_seq ? CK_SEQ : CK_CHANGED;
}

static int get_u64(const struct jdoc *d, uint32_t obj, const char *k, uint64_t *v)
{
	int64_t iv;
	if (json_tok_int(d, json_get(d, obj, k, strlen(k)), 0, INT64_MAX, &iv) < 0)
		return -1;
	*v = (uint64_t)iv;
	return 0;
}

static int parse_header(const char *line, size_t len, struct ckpt *c)
{
	struct jdoc d = {0};
	struct jerr jerr;
	int rc = -1;
	memset(c, 0, sizeof *c);
	if (json_parse(&d, line, len, 0, &jerr) < 0)
		goto out;
	uint32_t v = json_get(&d, 0, "checkpoint", 10), s = json_get(&d, 0, "seq", 3),
	         f = json_get(&d, 0, "file", 4);
	if (v == JNONE || s == JNONE || f == JNONE)
		goto out;
	int64_t iv;
	if (d.tok[s].type == J_NUM) {
		if (json_tok_int(&d, s, INT64_MIN, INT64_MAX, &iv) < 0)
			goto out;
		c->has_seq = 1;
		c->seq = iv;
	}
	if (d.tok[f].type == J_OBJ) {
		uint32_t ck = json_get(&d, f, "cksum", 5);
		if (get_u64(&d, f, "dev", &c->dev) < 0 || get_u64(&d, f, "ino", &c->ino) < 0 ||
		    get_u64(&d, f, "offset", &c->offset) < 0 || ck == JNONE || d.tok[ck].type != J_STR ||
		    d.tok[ck].len != 18)
			goto out;
		char hex[17];
		memcpy(hex, d.text + d.tok[ck].start + 1, 16);
		hex[16] = '\0';
		char *end;
		c->cksum = strtoull(hex, &end, 16);
		if (*end)
			goto out;
		c->has_file = 1;
	}
	rc = 0;
out:
	json_doc_free(&d);
	return rc;
}

int ckpt_load(const char *path, struct ckpt *c, struct buf *body, char *err, size_t errlen)
{
	struct buf all = {0};
	if (buf_read_file(&all, path) < 0) {
		if (errno == ENOENT && !all.len) {
			buf_free(&all);
			return 0;
		}
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		buf_free(&all);
		return -1;
	}
	const char *p = all.p ? all.p : "";
	const char *nl = memchr(p, '\n', all.len);
	if (!nl || parse_header(p, (size_t)(nl - p), c) < 0) {
		snprintf(err, errlen, "%s: not a checkpoint file (bad header line)", path);
		buf_free(&all);
		return -1;
	}
	size_t hl = (size_t)(nl - p) + 1;
	buf_add(body, p + hl, all.len - hl);
	buf_free(&all);
	return 1;
}

struct atomic_file *ckpt_begin(const char *path, const struct ckpt *c)
{
	struct atomic_file *a = atomic_open(path);
	if (!a)
		ev_die_errno(EV_IO, "--state %s: cannot write", path);
	struct buf b = {0};
	buf_adds(&b, "{\"checkpoint\":1,\"seq\":");
	if (c->has_seq)
		jw_int(&b, c->seq);
	else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"file\":");
	if (c->has_file)
		buf_printf(&b, "{\"dev\":%" PRIu64 ",\"ino\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"cksum\":\"%016" PRIx64 "\"}",
		           c->dev, c->ino, c->offset, c->cksum);
	else
		buf_adds(&b, "null");
	buf_adds(&b, "}\n");
	wfile_write(a->w, b.p, b.len);
	buf_free(&b);
	return a;
}

void ckpt_commit(struct atomic_file *a)
{
	char *path = xstrdup(a->path);
	if (atomic_commit(a) < 0)
		ev_die_errno(EV_IO, "--state %s: cannot save", path);
	free(path);
}

/* ---- a reader resuming from a checkpoint ------------------------------ */

enum ckpt_resume ckpt_start(const struct ckpt *c, struct ckpt_reader *rd, struct input *in, char *why,
                            size_t whylen)
{
	enum ckpt_resume k = ckpt_check(c, in->fd, why, whylen);
	rd->skipping = 0;
	rd->have_seq = c->has_seq;
	rd->max_seq = c->seq;
	if (k == CK_CHANGED)
		return k;
	if (k == CK_SEEK && input_seek(in, c->offset) < 0)
		ev_die_errno(EV_IO, "%s: seek", in->label);
	if (c->has_seq) {
		rd->skipping = 1;
		rd->skip_seq = c->seq;
	}
	return k;
}

const char ckpt_no_seq[] =
	"no seq (a whole number from 1): --state cannot resume in a stream that is not a regular file without it";

enum ckpt_admit ckpt_admit(struct ckpt_reader *rd, const struct jdoc *d)
{
	int64_t seq;
	if (event_seq(d, &seq)) {
		if (rd->skipping && seq <= rd->skip_seq)
			return CK_SKIP;
		if (!rd->have_seq || seq > rd->max_seq) {
			rd->max_seq = seq;
			rd->have_seq = 1;
		}
		return CK_TAKE;
	}
	return rd->need_seq ? CK_NO_SEQ : CK_TAKE;
}

void ckpt_mark(struct ckpt *c, const struct ckpt_reader *rd, int fd, uint64_t offset)
{
	ckpt_mark_file(c, fd, offset);
	c->has_seq = rd->have_seq;
	c->seq = rd->max_seq;
}
