/*
 * envelope.c — UUIDs, enrichment, message envelopes and command events
 * (see envelope.h).  Everything here writes into buffers the caller
 * reuses: no allocation per event once the buffers have grown.
 */
#include "envelope.h"

#include "jwrite.h"
#include "timeutil.h"

#include <errno.h>
/* SHA1_Init/Update/Final: see v5_sha1 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

const unsigned char env_ns_command[16] = {
	0x28, 0x42, 0x5f, 0x0f, 0x7c, 0x0f, 0x58, 0xed, 0x85, 0x63, 0xb5, 0x27, 0x8b, 0x3f, 0xff, 0xdc
};

/* ---- UUIDs ---------------------------------------------------------- */

/* The text form: 8-4-4-4-12 lower-case hex digits.  libuuid's
 * uuid_unparse_lower goes through a format string per byte; this is a
 * table lookup per nibble. */
static void uuid_text(const unsigned char u[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	/* where each byte's two digits go */
	static const unsigned char at[16] = { 0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34 };
	for (int i = 0; i < 16; i++) {
		out[at[i]] = hex[u[i] >> 4];
		out[at[i] + 1] = hex[u[i] & 15];
	}
	out[8] = out[13] = out[18] = out[23] = '-';
	out[36] = '\0';
}

/* Random bytes come from the kernel in blocks of 4 KiB: libuuid's
 * uuid_generate_random makes several system calls per UUID, which would
 * cost more than the rest of an append.  When getrandom fails, libuuid's
 * own generator fills the block. */
static void random_bytes(unsigned char *out, size_t n)
{
	static unsigned char pool[4096];
	static size_t avail;
	if (avail < n) {
		size_t got = 0;
		while (got < sizeof pool) {
			ssize_t k = getrandom(pool + got, sizeof pool - got, 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		while (got < sizeof pool) {
			uuid_t u;
			size_t k = sizeof pool - got < 16 ? sizeof pool - got : 16;
			uuid_generate_random(u);
			memcpy(pool + got, u, k);
			got += k;
		}
		avail = sizeof pool;
	}
	memcpy(out, pool + sizeof pool - avail, n);
	avail -= n;
}

static void v4_bytes(uuid_t u)
{
	random_bytes(u, 16);
	u[6] = (unsigned char)(0x40 | (u[6] & 0x0f));
	u[8] = (unsigned char)(0x80 | (u[8] & 0x3f));
}

void env_uuid_v4(char out[37])
{
	uuid_t u;
	v4_bytes(u);
	uuid_text(u, out);
}

void env_uuid_v7(struct env_uuidgen *g, int64_t now_us, char out[37])
{
	uuid_t u;
	random_bytes(u, 16);
	/* RFC 9562 §6.2 method 3: the 12 bits after the milliseconds are
	 * the sub-millisecond fraction, bumped when it would not increase,
	 * so one generator's UUIDs sort in the order they were made. */
	uint64_t ms = now_us < 0 ? 0 : (uint64_t)(now_us / 1000);
	uint64_t frac = now_us < 0 ? 0 : (uint64_t)(now_us % 1000) * 4096 / 1000;
	if (g->used && (ms < g->last_ms || (ms == g->last_ms && frac <= g->last_frac))) {
		ms = g->last_ms;
		frac = g->last_frac + 1;
	}
	if (frac > 0xfff) {
		ms++;
		frac = 0;
	}
	g->used = 1;
	g->last_ms = ms;
	g->last_frac = frac;
	for (int i = 0; i < 6; i++)
		u[i] = (unsigned char)(ms >> (40 - 8 * i));
	u[6] = (unsigned char)(0x70 | (frac >> 8));
	u[7] = (unsigned char)(frac & 0xff);
	u[8] = (unsigned char)(0x80 | (u[8] & 0x3f));
	uuid_text(u, out);
}

void env_uuid(struct env_uuidgen *g, char out[37])
{
	if (g->v7)
		env_uuid_v7(g, time_now(), out);
	else
		env_uuid_v4(out);
}

/* SHA-1 comes from libcrypto: libuuid's own SHA-1 (uuid_generate_sha1)
 * costs about 4,000 instructions per UUID, which made evwrite --commands
 * measurably slower than appending events.  The EVP interface costs
 * most of the rest: EVP_DigestInit_ex2 frees and allocates the
 * provider's context on every restart (~560 instructions), and
 * EVP_MD_CTX_copy_ex from a context that has hashed the namespace
 * allocates too (~450).  So the low-level SHA1_* functions (deprecated
 * in OpenSSL 3, still built and still using the same SHA-NI/AVX block
 * code): a SHA_CTX that has hashed the namespace is kept, and each UUID
 * copies the struct and hashes only its name.  No allocation, no
 * failure path. */
static SHA_CTX v5_ns_ctx;
static unsigned char v5_ns[16];
static int v5_have_ns;

static void v5_sha1(const unsigned char ns[16], const char *name, size_t n, unsigned char d[SHA_DIGEST_LENGTH])
{
	if (!v5_have_ns || memcmp(ns, v5_ns, 16)) {
		SHA1_Init(&v5_ns_ctx);
		SHA1_Update(&v5_ns_ctx, ns, 16);
		memcpy(v5_ns, ns, 16);
		v5_have_ns = 1;
	}
	SHA_CTX c = v5_ns_ctx;
	SHA1_Update(&c, name, n);
	SHA1_Final(d, &c);
}

void env_uuid_v5(const unsigned char ns[16], const char *name, size_t n, char out[37])
{
	unsigned char d[SHA_DIGEST_LENGTH];
	v5_sha1(ns, name, n, d);
	/* RFC 9562 §5.5: the digest's first 16 bytes, version 5 in the
	 * high nibble of byte 6, variant 10 in the top bits of byte 8 */
	d[6] = (unsigned char)((d[6] & 0x0f) | 0x50);
	d[8] = (unsigned char)((d[8] & 0x3f) | 0x80);
	uuid_text(d, out);
}

/* ---- the envelope --------------------------------------------------- */

void env_init(struct envelope *e, const struct fieldmap *fm, int v7)
{
	char err[64];
	memset(e, 0, sizeof *e);
	e->fm = fm;
	e->gen.v7 = v7;
	path_parse(&e->seq, "seq", err, sizeof err);
	path_parse(&e->meta, "metadata", err, sizeof err);
	path_parse(&e->src, "metadata.source", err, sizeof err);
	e->corr = &fm->f[F_CORR];
	e->cause = &fm->f[F_CAUSE];
	e->corr_at = env_addable(fm, F_CORR) ? (e->corr->n == 1 ? EP_TOP : EP_META) : EP_NONE;
	e->cause_at = env_addable(fm, F_CAUSE) ? (e->cause->n == 1 ? EP_TOP : EP_META) : EP_NONE;
	e->corr_name = e->corr_at ? e->corr->seg[e->corr->n - 1].key : "correlation_id";
	e->cause_name = e->cause_at ? e->cause->seg[e->cause->n - 1].key : "causation_id";
	for (int f = 0; f < F_NFIELDS; f++)
		if (fm->f[f].n >= 1) {
			jw_string(&e->name[f], fm->f[f].seg[0].key, fm->f[f].seg[0].keylen);
			buf_addc(&e->name[f], ':');
		}
}

void env_free(struct envelope *e)
{
	path_free(&e->seq);
	path_free(&e->meta);
	path_free(&e->src);
	for (int f = 0; f < F_NFIELDS; f++)
		buf_free(&e->name[f]);
	buf_free(&e->add);
	buf_free(&e->madd);
	buf_free(&e->sc);
}

int env_addable(const struct fieldmap *fm, enum ev_field f)
{
	const struct path *p = &fm->f[f];
	if (p->n == 1)
		return p->seg[0].index < 0 || p->seg[0].exact;
	return p->n == 2 && strcmp(p->seg[0].key, "metadata") == 0 && (p->seg[1].index < 0 || p->seg[1].exact);
}

int env_id_ok(const struct jdoc *d, uint32_t t)
{
	return t != JNONE && ((d->tok[t].type == J_STR && d->tok[t].len > 2) ||
	                      (d->tok[t].type == J_NUM && (d->tok[t].flags & JF_INT)));
}

int env_expected_ok(const struct jdoc *d, uint32_t t)
{
	int64_t i;
	if (t == JNONE)
		return 0;
	if (d->tok[t].type == J_NUM)
		return json_tok_int(d, t, 0, INT64_MAX, &i) == 0;
	if (d->tok[t].type != J_STR || (d->tok[t].flags & JF_ESC))
		return 0;
	const char *p = d->text + d->tok[t].start + 1;
	size_t n = d->tok[t].len - 2;
	return (n == 3 && !memcmp(p, "any", 3)) || (n == 9 && !memcmp(p, "no_stream", 9)) ||
	       (n == 6 && !memcmp(p, "exists", 6));
}

/* ---- members -------------------------------------------------------- */

static void member(struct buf *b, int *first, const char *name, size_t nlen, const char *json, size_t jlen)
{
	if (!*first)
		buf_addc(b, ',');
	*first = 0;
	jw_string(b, name, nlen);
	buf_addc(b, ':');
	buf_add(b, json, jlen);
}

/* A member under a mapped field's top-level name. */
static void member_f(struct envelope *e, struct buf *b, int *first, enum ev_field f, const char *json, size_t jlen)
{
	if (!*first)
		buf_addc(b, ',');
	*first = 0;
	buf_add(b, e->name[f].p, e->name[f].len);
	buf_add(b, json, jlen);
}

/* A member whose value is a UUID (no character to escape). */
static void member_uuid(struct buf *b, int *first, const char *name, const char *uuid)
{
	if (!*first)
		buf_addc(b, ',');
	*first = 0;
	jw_cstring(b, name);
	buf_add(b, ":\"", 2);
	buf_add(b, uuid, 36);
	buf_addc(b, '"');
}

static void member_str(struct buf *b, int *first, const char *name, const char *val)
{
	if (!*first)
		buf_addc(b, ',');
	*first = 0;
	jw_cstring(b, name);
	buf_addc(b, ':');
	jw_cstring(b, val);
}

static void member_uint(struct envelope *e, struct buf *b, int *first, enum ev_field f, uint64_t v)
{
	if (!*first)
		buf_addc(b, ',');
	*first = 0;
	if (f == F_NFIELDS)
		buf_add(b, "\"seq\":", 6);
	else
		buf_add(b, e->name[f].p, e->name[f].len);
	jw_uint(b, v);
}

static void member_now(struct envelope *e, struct buf *b, int *first)
{
	char tb[48];
	size_t n = time_format(time_now(), tb + 1);
	tb[0] = '"';
	tb[n + 1] = '"';
	member_f(e, b, first, F_TIME, tb, n + 2);
}

static const char *tok_text(const struct jdoc *d, uint32_t t, size_t *n)
{
	*n = d->tok[t].len;
	return d->text + d->tok[t].start;
}

void env_fill(struct envelope *e, const struct jdoc *d, const char *line, size_t len,
              const struct env_fill *f, struct buf *out)
{
	int first = json_count(d, 0) == 0;
	struct buf *add = &e->add, *madd = &e->madd;
	buf_reset(add);
	if (f->id) {
		char q[40];
		q[0] = '"';
		memcpy(q + 1, f->id, 36);
		q[37] = '"';
		member_f(e, add, &first, F_ID, q, 38);
	}
	if (event_field(d, e->fm, F_TIME) == JNONE)
		member_now(e, add, &first);
	if (event_field(d, e->fm, F_VERSION) == JNONE)
		member_uint(e, add, &first, F_VERSION, f->version);
	if (path_lookup(d, 0, &e->seq) == JNONE)
		member_uint(e, add, &first, F_NFIELDS, f->seq);
	/* metadata: what it lacks, inside it when it is there */
	uint32_t meta = path_lookup(d, 0, &e->meta);
	int mfirst = meta == JNONE || json_count(d, meta) == 0;
	char cid[37];
	buf_reset(madd);
	if (f->source && (meta == JNONE || path_lookup(d, 0, &e->src) == JNONE))
		member_str(madd, &mfirst, "source", f->source);
	/* the ids where the field map puts them: in metadata or top-level */
	if (e->corr_at && path_lookup(d, 0, e->corr) == JNONE) {
		struct buf *b = e->corr_at == EP_META ? madd : add;
		int *fp = e->corr_at == EP_META ? &mfirst : &first;
		if (f->correlation) {
			member_str(b, fp, e->corr_name, f->correlation);
		} else {
			env_uuid_v4(cid);
			member_uuid(b, fp, e->corr_name, cid);
		}
	}
	if (f->causation && e->cause_at && path_lookup(d, 0, e->cause) == JNONE)
		member_str(e->cause_at == EP_META ? madd : add, e->cause_at == EP_META ? &mfirst : &first,
		           e->cause_name, f->causation);
	size_t close = d->tok[0].start + d->tok[0].len - 1;
	buf_reset(out);
	if (meta == JNONE) {
		if (madd->len) {
			member(add, &first, "metadata", 8, "{", 1);
			buf_add(add, madd->p, madd->len);
			buf_addc(add, '}');
		}
		buf_add(out, line, close);
	} else {
		size_t mclose = d->tok[meta].start + d->tok[meta].len - 1;
		buf_add(out, line, mclose);
		buf_add(out, madd->p ? madd->p : "", madd->len);
		buf_add(out, line + mclose, close - mclose);
	}
	buf_add(out, add->p ? add->p : "", add->len);
	buf_add(out, line + close, len - close);
}

/* ---- message envelopes ---------------------------------------------- */

void env_message(struct envelope *e, const struct env_msg *m, const struct jdoc *d, struct buf *b)
{
	char u[37], tb[48];
	uint32_t t, type = event_field(d, e->fm, F_TYPE);
	size_t n;
	const char *p;
	buf_reset(b);
	buf_adds(b, "{\"message_id\":");
	if ((t = event_field(d, e->fm, F_ID)) != JNONE) {
		p = tok_text(d, t, &n);
		buf_add(b, p, n);
	} else {
		env_uuid(&e->gen, u);
		jw_cstring(b, u);
	}
	buf_adds(b, ",\"topic\":");
	if (m->topic) {
		jw_cstring(b, m->topic);
	} else {
		p = tok_text(d, type, &n);
		buf_add(b, p, n);
	}
	t = event_field(d, e->fm, F_PAYLOAD);
	buf_adds(b, ",\"payload\":");
	p = tok_text(d, t, &n);
	buf_add(b, p, n);
	buf_adds(b, ",\"headers\":{\"content_type\":\"application/json\",\"timestamp\":");
	int64_t us;
	if ((t = event_field(d, e->fm, F_TIME)) == JNONE || time_of_token(d, t, e->fm->unit, &us) < 0)
		us = time_now();
	jw_string(b, tb, time_format(us, tb));
	buf_adds(b, ",\"source\":");
	if (m->source) {
		jw_cstring(b, m->source);
	} else if ((t = path_lookup(d, 0, &e->src)) != JNONE) {
		p = tok_text(d, t, &n);
		buf_add(b, p, n);
	} else {
		buf_adds(b, "null");
	}
	buf_adds(b, ",\"correlation_id\":");
	if (m->correlation) {
		jw_cstring(b, m->correlation);
	} else if ((t = path_lookup(d, 0, e->corr)) != JNONE) {
		p = tok_text(d, t, &n);
		buf_add(b, p, n);
	} else {
		env_uuid_v4(u);
		jw_cstring(b, u);
	}
	buf_adds(b, ",\"priority\":");
	jw_int(b, m->priority);
	buf_adds(b, ",\"ttl\":");
	if (m->have_ttl)
		jw_int(b, m->ttl_s);
	else
		buf_adds(b, "null");
	buf_adds(b, "},\"routing\":{\"key\":");
	if (m->routing_key) {
		jw_cstring(b, m->routing_key);
	} else if (m->topic) {
		jw_cstring(b, m->topic);
	} else {
		p = tok_text(d, type, &n);
		buf_add(b, p, n);
	}
	buf_adds(b, ",\"exchange\":");
	if (m->exchange)
		jw_cstring(b, m->exchange);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"partition_key\":");
	t = m->partition_key ? path_lookup(d, 0, m->partition_key) : event_field(d, e->fm, F_KEY);
	if (t != JNONE) {
		p = tok_text(d, t, &n);
		buf_add(b, p, n);
	} else {
		buf_adds(b, "null");
	}
	buf_adds(b, ",\"retry_count\":0,\"max_retries\":");
	jw_int(b, m->max_retries);
	buf_addc(b, '}');
	if (m->have_deliver) {
		buf_adds(b, ",\"deliver_at\":");
		jw_string(b, tb, time_format(m->deliver_at, tb));
	}
	buf_addc(b, '}');
}

/* ---- commands ------------------------------------------------------- */

#define GET(d, name) json_get(d, 0, name, sizeof name - 1)

const char *env_command_read(const struct jdoc *d, struct env_command *c)
{
	c->type = GET(d, "command_type");
	c->key = GET(d, "aggregate_id");
	c->payload = GET(d, "payload");
	c->id = GET(d, "command_id");
	c->expected = GET(d, "expected_version");
	c->meta = GET(d, "metadata");
	if (c->type == JNONE)
		return "command lacks command_type";
	if (d->tok[c->type].type != J_STR)
		return "command_type is not a string";
	if (c->key == JNONE || d->tok[c->key].type == J_NULL)
		return "command lacks aggregate_id";
	if (c->payload == JNONE)
		return "command lacks payload";
	if (c->id != JNONE && !env_id_ok(d, c->id))
		return "command_id must be a non-empty string or an integer";
	if (c->expected != JNONE && !env_expected_ok(d, c->expected))
		return "expected_version must be a version, \"any\", \"no_stream\" or \"exists\"";
	if (c->meta != JNONE && d->tok[c->meta].type != J_OBJ)
		return "metadata is not an object";
	return NULL;
}

const char *env_command_name(struct envelope *e, const struct jdoc *d, uint32_t id, size_t *n)
{
	const struct jtok *k = &d->tok[id];
	if (k->type != J_STR) {
		*n = k->len;
		return d->text + k->start;
	}
	if (!(k->flags & JF_ESC)) {
		*n = k->len - 2;
		return d->text + k->start + 1;
	}
	buf_reset(&e->sc);
	json_unescape(d->text + k->start + 1, k->len - 2, &e->sc);
	*n = e->sc.len;
	return e->sc.p;
}

/* Is the member name token t the causation id's name in metadata? */
static int is_causation(const struct envelope *e, const struct jdoc *d, uint32_t t, struct buf *sc)
{
	const char *p;
	size_t n;
	if (e->cause_at != EP_META)
		return 0;
	buf_reset(sc);
	json_str(d, t, sc, &p, &n);
	return n == strlen(e->cause_name) && !memcmp(p, e->cause_name, n);
}

void env_command_event(struct envelope *e, const struct jdoc *d, const struct env_command *c,
                       const struct env_cmd_fill *f, struct buf *b)
{
	const char *p;
	size_t n;
	int first = 1;
	buf_reset(b);
	buf_addc(b, '{');
	p = tok_text(d, c->key, &n);
	member_f(e, b, &first, F_KEY, p, n);
	buf_addc(b, ',');
	buf_add(b, e->name[F_TYPE].p, e->name[F_TYPE].len);
	jw_string(b, f->event_type, f->event_type_len);
	p = tok_text(d, c->payload, &n);
	member_f(e, b, &first, F_PAYLOAD, p, n);
	buf_adds(b, ",\"metadata\":{");
	int mfirst = 1;
	if (c->meta != JNONE) {
		uint32_t o = c->meta;
		for (uint32_t k = o + 1; k < d->tok[o].next; k = d->tok[k + 1].next) {
			if (is_causation(e, d, k, &e->sc))
				continue;
			if (!mfirst)
				buf_addc(b, ',');
			mfirst = 0;
			uint32_t v = k + 1;
			buf_add(b, d->text + d->tok[k].start, d->tok[v].start + d->tok[v].len - d->tok[k].start);
		}
	}
	if (f->source && (c->meta == JNONE || path_lookup(d, 0, &e->src) == JNONE))
		member_str(b, &mfirst, "source", f->source);
	/* the ids where the field map puts them: in metadata or after it */
	struct buf *top = &e->add;
	int tfirst = 0;
	buf_reset(top);
	uint32_t ct = path_lookup(d, 0, e->corr);
	if (ct != JNONE && e->corr_at == EP_TOP) {
		size_t n;
		const char *p = tok_text(d, ct, &n); /* the command's own, kept */
		member(top, &tfirst, e->corr_name, strlen(e->corr_name), p, n);
	} else if (ct == JNONE) {
		struct buf *cb = e->corr_at == EP_TOP ? top : b;
		int *fp = e->corr_at == EP_TOP ? &tfirst : &mfirst;
		char cid[37];
		if (f->correlation) {
			member_str(cb, fp, e->corr_name, f->correlation);
		} else {
			env_uuid_v4(cid);
			member_uuid(cb, fp, e->corr_name, cid);
		}
	}
	if (e->cause_at == EP_TOP)
		member(top, &tfirst, e->cause_name, strlen(e->cause_name), f->causation, f->causation_len);
	else
		member(b, &mfirst, e->cause_name, strlen(e->cause_name), f->causation, f->causation_len);
	buf_addc(b, '}');
	buf_add(b, top->p ? top->p : "", top->len);
	char q[40];
	q[0] = '"';
	memcpy(q + 1, f->event_id, 36);
	q[37] = '"';
	member_f(e, b, &first, F_ID, q, 38);
	member_now(e, b, &first);
	member_uint(e, b, &first, F_VERSION, f->version);
	member_uint(e, b, &first, F_NFIELDS, f->seq);
	buf_addc(b, '}');
}
