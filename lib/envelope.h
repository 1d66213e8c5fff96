/*
 * envelope.h — the event envelope as the tools write it: UUIDs (v4, v5,
 * v7), the members an event lacks added without touching the ones it has,
 * pub/sub message envelopes, and events made from CQRS commands.
 *
 * evwrite enriches events, builds messages (--message) and turns commands
 * into events (--commands) with it; evdlq reads and builds the same
 * message envelopes; evcep policies that emit commands or events use the
 * same builders; every tool's --errors records (rejected lines, evdlq's
 * to read back) are built here too.  Layer: beside event.h and jwrite.h (it uses json, path,
 * event, jwrite, timeutil; nothing above them).
 *
 * Byte preservation: every member an input has is copied as its bytes
 * (numbers keep their text, strings their escapes); what is added goes at
 * the end of the object, or at the end of "metadata" for metadata
 * members.  Added members come in a fixed order, documented per builder.
 * Names: the id, key, type, time, payload and version members are the
 * field map's (one-segment paths: the caller checks that, since only a
 * top-level member can be added); "seq", "metadata" and the metadata
 * member "source" are fixed.  The correlation and causation ids are the
 * field map's too (--correlation-field, --causation-field): read at
 * their path, and added either as a member of "metadata" (a path
 * metadata.NAME, the default) or as a top-level member (a one-segment
 * path); env_addable tells whether a mapping is one of those.
 */
#ifndef ENVELOPE_H
#define ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "json.h"
#include "path.h"

/* ---- UUIDs (RFC 9562), written lower-case, 36 characters + NUL ---- */

/* State of a v7 generator: UUIDs it makes are strictly increasing. */
struct env_uuidgen {
	int v7;                  /* env_uuid makes v7 (else v4) */
	int used;                /* last_ms and last_frac are set */
	uint64_t last_ms, last_frac;
};

/* Version 4: 122 random bits (getrandom, read 4 KiB at a time; libuuid's
 * generator when the kernel's fails). */
void env_uuid_v4(char out[37]);
/* Version 7: 48 bits of Unix milliseconds from now_us, 12 bits of
 * sub-millisecond fraction (bumped so that two UUIDs from one generator
 * never compare equal or go backwards), 62 random bits.  libuuid 2.38
 * has no v7: it is built here from the same random bytes as v4. */
void env_uuid_v7(struct env_uuidgen *g, int64_t now_us, char out[37]);
/* v4 or v7 (at time_now()) as g->v7 says. */
void env_uuid(struct env_uuidgen *g, char out[37]);
/* Version 5: SHA-1 of the namespace's 16 bytes then the name's bytes
 * (SHA-1 from libcrypto, RFC 9562 §5.5).  The same name always gives the same
 * UUID: a deterministic id from a client's id. */
void env_uuid_v5(const unsigned char ns[16], const char *name, size_t n, char out[37]);
/* The namespace of command ids:
 *   28425f0f-7c0f-58ed-8563-b5278b3fffdc = UUID v5 of the URL namespace
 *   (RFC 9562: 6ba7b811-9dad-11d1-80b4-00c04fd430c8) and the name
 *   "urn:evtools:command".
 * So in Python: uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL,
 * "urn:evtools:command"), command_id) gives the same event_id. */
extern const unsigned char env_ns_command[16];

/* ---- the envelope --------------------------------------------------- */

/* Where a correlation or causation id is added. */
enum env_place { EP_NONE, EP_META, EP_TOP };

struct envelope {
	const struct fieldmap *fm;
	struct env_uuidgen gen;     /* for generated ids */
	struct path seq, meta, src;
	const struct path *corr, *cause; /* the field map's */
	enum env_place corr_at, cause_at;
	const char *corr_name, *cause_name; /* the member added */
	struct buf name[F_NFIELDS]; /* each mapped top-level name as "NAME": */
	struct buf add, madd, sc;   /* scratch, reused per event */
};

/* fm must be complete (options parsed) and outlive e.  v7: generated
 * event and message ids are v7. */
void env_init(struct envelope *e, const struct fieldmap *fm, int v7);
void env_free(struct envelope *e);
/* Can the envelope add field f (F_CORR or F_CAUSE) where the map puts
 * it: 1 for a top-level member or metadata.NAME, else 0. */
int env_addable(const struct fieldmap *fm, enum ev_field f);

/* Is t (JNONE: absent) a valid present id: a non-empty string or an
 * integer?  1 or 0. */
int env_id_ok(const struct jdoc *d, uint32_t t);
/* Is t a valid expected_version: a whole number >= 0 or one of the
 * strings "any", "no_stream", "exists"?  1 or 0. */
int env_expected_ok(const struct jdoc *d, uint32_t t);

/* What env_fill adds to an event when it lacks it. */
struct env_fill {
	const char *id;          /* a generated id (36-char UUID) to add;
	                            NULL: the event has its own */
	uint64_t version, seq;   /* added when absent */
	const char *source;      /* metadata.source; NULL: not added */
	const char *correlation; /* the correlation id; NULL: a new v4 */
	const char *causation;   /* the causation id; NULL: not added */
};

/*
 * The event line (d parsed from line[0..len)) with what it lacks, into
 * out (reset first): metadata members inside its "metadata" object when
 * it has one; then at the end, in this order, id, time (time_now(), RFC
 * 3339 with microseconds), version, "seq", a top-level correlation and
 * causation id (when so mapped), and "metadata" when the event had none.
 */
void env_fill(struct envelope *e, const struct jdoc *d, const char *line, size_t len,
              const struct env_fill *f, struct buf *out);

/* ---- message envelopes (evwrite --message, evdlq) --------------------- */

struct env_msg {
	const char *topic;          /* NULL: the event's type */
	const char *routing_key;    /* NULL: the topic */
	const char *exchange;       /* NULL: null */
	const char *source;         /* NULL: metadata.source, else null */
	const char *correlation;    /* NULL: metadata.correlation_id, else new */
	const struct path *partition_key; /* NULL: the key field */
	int64_t priority;           /* 0-9 */
	int64_t max_retries;
	int64_t ttl_s;              /* headers.ttl, whole seconds */
	int have_ttl;               /* else "ttl":null */
	int64_t deliver_at;         /* microseconds */
	int have_deliver;           /* else no deliver_at member */
};

/*
 * The message envelope of an event, into out (reset first):
 *   {"message_id","topic","payload","headers":{"content_type","timestamp",
 *    "source","correlation_id","priority","ttl"},"routing":{"key",
 *    "exchange","partition_key","retry_count","max_retries"}[,"deliver_at"]}
 * message_id is the event's id (its bytes) or a new UUID; payload,
 * source, correlation and partition key are copied as bytes; timestamp is
 * the event's time (now when absent) rewritten as RFC 3339; retry_count 0.
 * The caller checks that the event has a payload and, without m->topic, a
 * type.
 */
void env_message(struct envelope *e, const struct env_msg *m, const struct jdoc *d, struct buf *out);

/* ---- commands (evwrite --commands) ------------------------------------ */

/* The members of a command {"command_type","aggregate_id","payload",
 * ["command_id"],["expected_version"],["metadata"]}: tokens of its
 * document, JNONE when absent.  Other members are not read. */
struct env_command {
	uint32_t type, key, payload, id, expected, meta;
};

/*
 * Find and check the members of the command d.  NULL when it is a valid
 * command, else the reason for its rejection ("command lacks
 * aggregate_id", "command_type is not a string", ...).  aggregate_id must
 * be present and not null; command_id a non-empty string or an integer.
 */
const char *env_command_read(const struct jdoc *d, struct env_command *c);

/*
 * The name a command id gives to UUID v5: a string's unescaped bytes, an
 * integer's text (so "42" and 42 name the same command).  Points into d's
 * text or into e's scratch, valid until the next call on e.
 */
const char *env_command_name(struct envelope *e, const struct jdoc *d, uint32_t id, size_t *n);

/* What env_command_event writes besides the command's values. */
struct env_cmd_fill {
	const char *event_type;  /* the mapped type, unescaped */
	size_t event_type_len;
	const char *event_id;    /* UUID v5 of the command id */
	const char *causation;   /* JSON text: the command_id's bytes or a
	                            quoted generated UUID */
	size_t causation_len;
	uint64_t version, seq;
	const char *source;      /* metadata.source when absent; NULL: none */
	const char *correlation; /* metadata.correlation_id when absent;
	                            NULL: a new v4 */
};

/*
 * The event a command becomes, into out (reset first):
 *   {KEY:aggregate_id,TYPE:event_type,PAYLOAD:payload,"metadata":{...},
 *    ID:event_id,TIME:now,VERSION:version,"seq":seq}
 * aggregate_id, payload and the command's metadata members are its bytes;
 * the metadata holds the command's members except a causation_id, then
 * source and correlation_id when the command's lack them, then
 * "causation_id" (the command that caused the event).  KEY, TYPE, ... are
 * the field map's top-level names.
 */
void env_command_event(struct envelope *e, const struct jdoc *d, const struct env_command *c,
                       const struct env_cmd_fill *f, struct buf *out);

/* ---- rejected lines (--errors) -------------------------------------- */

/*
 * The record of a rejected line, appended to out with its newline:
 *   {"file":FILE,"line":N,"error":REASON,"raw":TEXT}
 * "offset":N (a byte offset) instead of "line" when by_offset is set;
 * "raw_base64":"..." (RFC 4648) instead of "raw" when the line is not
 * valid UTF-8, so that every line can be kept and fed back.  file and
 * reason are C strings; the line is line[0..len) as read, without its
 * line ending.
 */
void env_error_record(struct buf *out, const char *file, int by_offset, uint64_t pos,
                      const char *reason, const char *line, size_t len);

#endif
