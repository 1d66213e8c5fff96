/*
 * event.h — the event envelope: which fields mean id, key, type, time,
 * payload, version, correlation and causation (options --id-field ... and
 * EV_*_FIELD, options win), and reading the event time with the
 * configured unit.
 *
 * The first F_NFIELDS fields have an @name in expressions and columns
 * (@id ... @version); the correlation and causation fields come after
 * them (F_NMAP counts all).  A payload field of "." is the whole event
 * (path "." has no segments: path_lookup gives the root).
 */
#ifndef EVENT_H
#define EVENT_H

#include <stdint.h>

#include "json.h"
#include "path.h"
#include "timeutil.h"

enum ev_field {
	F_ID, F_KEY, F_TYPE, F_TIME, F_PAYLOAD, F_VERSION,
	F_NFIELDS,                     /* the fields with an @name */
	F_CORR = F_NFIELDS, F_CAUSE,   /* metadata.correlation_id, metadata.causation_id */
	F_NMAP                         /* every mapped field */
};

struct fieldmap {
	struct path f[F_NMAP];
	enum time_unit unit;
};

/* The event's position: its top-level "seq" when that is a JSON integer
 * from 1 (1-based, as the store writes it): 1 and *seq set, else 0.  The
 * one seq rule: the store's line positions, --state positions and
 * evproject's event order all read it so. */
int event_seq(const struct jdoc *d, int64_t *seq);

/* The envelope's defaults only. */
void fieldmap_defaults(struct fieldmap *fm);
/* Defaults, then EV_*_FIELD from the environment (a bad one is warned
 * about, naming the variable, and the default kept).  The tools' start-up
 * (lib/cli.c) applies the variables itself, after the options, and makes
 * a bad one a usage error. */
void fieldmap_init(struct fieldmap *fm);
/* Set one field from an option value; 0 ok, -1 bad path (message
 * "--key-field: bad path ..." printed). */
int fieldmap_set(struct fieldmap *fm, enum ev_field f, const char *path);
/* The same, naming WHAT in the message ("EV_KEY_FIELD"). */
int fieldmap_set_from(struct fieldmap *fm, enum ev_field f, const char *path, const char *what);
/* Free the paths of every field. */
void fieldmap_free(struct fieldmap *fm);
/* The option name of a field ("key-field"), its variable ("EV_KEY_FIELD"). */
const char *fieldmap_option(enum ev_field f);
const char *fieldmap_env(enum ev_field f);

static inline uint32_t event_field(const struct jdoc *d, const struct fieldmap *fm, enum ev_field f)
{
	return path_lookup(d, 0, &fm->f[f]);
}

/*
 * The @ fields, one table for expressions and -s columns: @id @key @type
 * @time @payload @version follow the field mapping (AT_ID..AT_VERSION are
 * the enum ev_field of the same order), @seq is the top-level member
 * "seq", @line the number of the input line.
 */
enum ev_at { AT_ID, AT_KEY, AT_TYPE, AT_TIME, AT_PAYLOAD, AT_VERSION, AT_SEQ, AT_LINE, AT_N };
#define EV_AT_LIST "@id @key @type @time @payload @version @seq @line"
/* The field named name[0..n) (without the '@'), or -1. */
int ev_at_find(const char *name, size_t n);

/* Event time of token t (a string or number).  0 ok, -1 unparsable. */
int time_of_token(const struct jdoc *d, uint32_t t, enum time_unit unit, int64_t *us);

/*
 * The event's time.  0 ok; -1 missing or unparsable, with a reason for a
 * rejection written to why ("missing time field 'timestamp'",
 * "unparsable time \"yesterday\"").
 */
int event_time(const struct jdoc *d, const struct fieldmap *fm, int64_t *us, char *why, size_t whylen);

#endif
