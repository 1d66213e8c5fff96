/* event.c — envelope field mapping and event time (see event.h). */
#include "event.h"
#include "ev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *option, *env, *def;
} fields[F_NMAP] = {
	[F_ID] = { "id-field", "EV_ID_FIELD", "event_id" },
	[F_KEY] = { "key-field", "EV_KEY_FIELD", "aggregate_id" },
	[F_TYPE] = { "type-field", "EV_TYPE_FIELD", "event_type" },
	[F_TIME] = { "time-field", "EV_TIME_FIELD", "timestamp" },
	[F_PAYLOAD] = { "payload-field", "EV_PAYLOAD_FIELD", "payload" },
	[F_VERSION] = { "version-field", "EV_VERSION_FIELD", "version" },
	[F_CORR] = { "correlation-field", "EV_CORRELATION_FIELD", "metadata.correlation_id" },
	[F_CAUSE] = { "causation-field", "EV_CAUSATION_FIELD", "metadata.causation_id" },
};

const char *fieldmap_option(enum ev_field f)
{
	return fields[f].option;
}

const char *fieldmap_env(enum ev_field f)
{
	return fields[f].env;
}

int ev_at_find(const char *name, size_t n)
{
	static const char *const names[AT_N] = { "id", "key", "type", "time", "payload", "version", "seq", "line" };
	for (int i = 0; i < AT_N; i++)
		if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0)
			return i;
	return -1;
}

int fieldmap_set_from(struct fieldmap *fm, enum ev_field f, const char *s, const char *what)
{
	struct path p;
	char err[256];
	if (f == F_PAYLOAD && strcmp(s, ".") == 0) {
		/* the whole event: no segments, so path_lookup gives the root */
		memset(&p, 0, sizeof p);
		p.text = xstrdup(s);
	} else if (path_parse(&p, s, err, sizeof err) < 0) {
		ev_warn("%s: %s", what, err);
		path_free(&p);
		return -1;
	}
	path_free(&fm->f[f]);
	fm->f[f] = p;
	return 0;
}

int fieldmap_set(struct fieldmap *fm, enum ev_field f, const char *s)
{
	char what[40];
	snprintf(what, sizeof what, "--%s", fields[f].option);
	return fieldmap_set_from(fm, f, s, what);
}

void fieldmap_defaults(struct fieldmap *fm)
{
	memset(fm, 0, sizeof *fm);
	fm->unit = TU_AUTO;
	for (int f = 0; f < F_NMAP; f++) {
		char err[64];
		path_parse(&fm->f[f], fields[f].def, err, sizeof err);
	}
}

void fieldmap_init(struct fieldmap *fm)
{
	fieldmap_defaults(fm);
	for (int f = 0; f < F_NMAP; f++) {
		const char *e = getenv(fields[f].env);
		if (e && *e && fieldmap_set_from(fm, f, e, fields[f].env) < 0)
			ev_warn("%s: ignored, using '%s'", fields[f].env, fields[f].def);
	}
}

void fieldmap_free(struct fieldmap *fm)
{
	for (int f = 0; f < F_NMAP; f++)
		path_free(&fm->f[f]);
}

int time_of_token(const struct jdoc *d, uint32_t t, enum time_unit unit, int64_t *us)
{
	if (t == JNONE)
		return -1;
	const struct jtok *k = &d->tok[t];
	if (k->type == J_NUM)
		return time_from_epoch_text(d->text + k->start, k->len, unit, us);
	if (k->type != J_STR)
		return -1;
	if (!(k->flags & JF_ESC))
		return time_parse_event_str(d->text + k->start + 1, k->len - 2, unit, us);
	struct buf b = {0};
	json_unescape(d->text + k->start + 1, k->len - 2, &b);
	int rc = time_parse_event_str(b.p ? b.p : "", b.len, unit, us);
	buf_free(&b);
	return rc;
}

int event_time(const struct jdoc *d, const struct fieldmap *fm, int64_t *us, char *why, size_t whylen)
{
	uint32_t t = path_lookup(d, 0, &fm->f[F_TIME]);
	if (t == JNONE) {
		snprintf(why, whylen, "missing time field '%s'", fm->f[F_TIME].text);
		return -1;
	}
	if (time_of_token(d, t, fm->unit, us) == 0)
		return 0;
	const struct jtok *k = &d->tok[t];
	int n = k->len > 40 ? 40 : (int)k->len;
	snprintf(why, whylen, "unparsable time %.*s%s in '%s'", n, d->text + k->start,
	         k->len > 40 ? "..." : "", fm->f[F_TIME].text);
	return -1;
}

int event_seq(const struct jdoc *d, int64_t *seq)
{
	return json_tok_int(d, json_get(d, 0, "seq", 3), 1, INT64_MAX, seq) == 0;
}
