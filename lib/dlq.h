/*
 * dlq.h — dead-letter records, retry decisions, message envelopes as a
 * queue reads them, and circuit breakers (evdlq(1)).
 *
 * A DLQ record, as `dlq_fail` builds it (key order fixed):
 *   {"message":{...},"reason":R,"first_failed_at":T,"failed_at":T,
 *    "retry_count":N,"max_retries":M,"strategy":S,
 *    "history":[{"reason":R,"at":T}...]}
 * The message is embedded byte for byte.  Records are read back by
 * `dlq_read`, which names what is wrong with one that is not a DLQ record.
 * Records built from records (triage, redrive) keep every input byte
 * except the members they replace (next_retry_at, decision, a message's
 * dlq member), so nothing a user added is lost.
 *
 * Times are int64 microseconds and written RFC 3339 UTC with
 * microseconds; deadline arithmetic saturates (backoff.h), so a record
 * far in the future never wraps to the past.
 *
 * The envelope readers here (retry count, max retries, priority, ttl,
 * deliver_at of an evwrite --message envelope) are the ones to use
 * wherever a tool reads a message envelope.
 */
#ifndef DLQ_H
#define DLQ_H

#include <stddef.h>
#include <stdint.h>

#include "backoff.h"
#include "bmap.h"
#include "buf.h"
#include "json.h"
#include "timeutil.h"

#define DLQ_DEFAULT_MAX_RETRIES 5

/* ---- records -------------------------------------------------------- */

struct dlq_rec {
	/* tokens of the record; JNONE when absent */
	uint32_t message, first_failed_at, history, next_retry_at;
	int64_t first_us, failed_us, next_us;
	int64_t retry_count;
	int64_t max_retries; /* -1: absent or null */
	int strategy;        /* -1: absent or null */
};

/* Read a DLQ record (token 0 of d).  0 ok; -1 with the reason for a
 * rejection in why: not a DLQ record (no message object, no reason
 * string, no retry_count), a bad or missing time, a retry_count or
 * max_retries that is not a whole number >= 0, an unknown strategy, a
 * history that is not an array, a bad next_retry_at. */
int dlq_read(const struct jdoc *d, enum time_unit unit, struct dlq_rec *r, char *why, size_t whylen);

/* ---- fail and expire: building records ------------------------------ */

struct dlq_fail {
	const char *reason;  /* NUL-terminated */
	int64_t at;          /* failed_at: --now or the clock */
	int64_t max_retries; /* --max-retries, or -1 */
	int strategy;        /* --strategy, or -1 */
};

/*
 * The DLQ record of a failed message (token 0 of d), appended to out
 * (no newline).  retry_count: a dlq member's retry_count + 1 (its
 * first_failed_at and history kept), else routing.retry_count, else 0;
 * max_retries: routing.max_retries, else the option, else 5.  0 ok; -1
 * with why (a bad dlq member, a negative or fractional retry count).
 */
int dlq_fail_record(const struct jdoc *d, enum time_unit unit, const struct dlq_fail *f,
                    struct buf *out, char *why, size_t whylen);

/* 1 when the envelope's headers.timestamp + headers.ttl (seconds, any
 * decimal) is at or before now, 0 when not or when the ttl is null or
 * absent; -1 with why (a negative or non-number ttl, a ttl without a
 * timestamp, a bad timestamp). */
int dlq_ttl_expired(const struct jdoc *d, enum time_unit unit, int64_t now, char *why, size_t whylen);

/* ---- triage --------------------------------------------------------- */

enum dlq_decision { DLQ_EXPIRED, DLQ_DEAD, DLQ_RETRY, DLQ_NDECISIONS };

struct dlq_policy {
	int64_t max_age;     /* expired when now - first_failed_at > max_age */
	int64_t max_retries; /* option, or -1 */
	int strategy;        /* option, or -1 */
	int64_t base;        /* option, or -1: the strategy's default */
	int64_t cap;         /* BACKOFF_NO_CAP when none */
	enum backoff_jitter jitter;
	struct prng prng;    /* one draw per retry decision unless BJ_NONE */
};

const char *dlq_decision_name(enum dlq_decision d);

/* The decision for r at now; for DLQ_RETRY, *next = failed_at + the
 * (jittered) delay of retry_count. */
enum dlq_decision dlq_triage(struct dlq_policy *p, const struct dlq_rec *r, int64_t now, int64_t *next);

/* The record of d with next_retry_at (for a retry) and, when
 * with_decision, "decision" appended; earlier values of those two members
 * are left out. */
void dlq_triaged(const struct jdoc *d, enum dlq_decision dec, int64_t next, int with_decision,
                 struct buf *out);

/* The message of r, ready to redeliver: its bytes without any dlq member,
 * then "dlq":{"retry_count","first_failed_at","history"} from r. */
void dlq_redrive(const struct jdoc *d, const struct dlq_rec *r, struct buf *out);

/* ---- queued messages ------------------------------------------------ */

/* The priority of an envelope (headers.priority): a JSON number text in
 * *p, *n (high = "1", normal = "0", low = "-1", null or absent = "0").
 * 0 ok; -1 with why for anything else. */
int dlq_priority(const struct jdoc *d, const char **p, size_t *n, char *why, size_t whylen);

/*
 * A queue run (evdlq dequeue): messages are added in input order; the
 * lines go to an unlinked spool file in $TMPDIR (memory holds about 60
 * bytes per message, never the lines).  dlq_queue_run then gives, queue
 * by queue (queues in order of their first message), at most batch ready
 * messages of each, highest priority first and FIFO within a priority,
 * to out; then every other message, in input order, to keep; then one
 * stats call per queue.
 */
struct dlq_queue;

struct dlq_queue_sink {
	void (*out)(const char *line, size_t len, void *arg);
	void (*keep)(const char *line, size_t len, void *arg);
	/* queue: the queue value as compact JSON ("null" for none) */
	void (*stats)(const char *queue, size_t qn, uint64_t dequeued, uint64_t remaining,
	              uint64_t delayed, int have_oldest, int64_t oldest_ready_at, void *arg);
	void *arg;
};

struct dlq_queue *dlq_queue_new(void);
/*
 * One message.  key[0..kn): its queue's json_value_key; qjson[0..qjn):
 * the queue value as compact JSON.  prio[0..pn): its priority number
 * text (inside line, or a string that outlives the queue, as
 * dlq_priority gives); prio NULL: the message is kept (delayed when
 * delayed is set, else held back by the caller, e.g. --where).
 * have_ts, ts: its headers.timestamp.
 */
void dlq_queue_add(struct dlq_queue *q, const char *line, size_t len, const void *key, size_t kn,
                   const char *qjson, size_t qjn, const char *prio, size_t pn, int delayed,
                   int have_ts, int64_t ts);
/* batch < 0: every ready message. */
void dlq_queue_run(struct dlq_queue *q, int64_t batch, const struct dlq_queue_sink *s);
void dlq_queue_free(struct dlq_queue *q);

/* ---- circuit breaker ------------------------------------------------ */

enum breaker_state { BR_CLOSED, BR_OPEN, BR_HALF_OPEN };
enum breaker_reason { BR_FAILURE_THRESHOLD, BR_OPEN_TIMEOUT, BR_SUCCESS_THRESHOLD, BR_PROBE_FAILURE };

struct breaker_params {
	int64_t failures;  /* failures since it last closed that open it */
	int64_t open_for;  /* the first outcome this long after opening half-opens it */
	int64_t probes;    /* outcomes let through half-open */
	int64_t successes; /* successes among them that close it (<= probes) */
};

struct breaker {
	struct breaker_params p;
	struct bmap keys; /* json_value_key -> v[0] state, v[1] failures,
	                     v[2] opened at, v[3] probes | successes << 32 */
};

struct breaker_step {
	int ntrans; /* 0, 1 or 2 (half-opened, then closed or re-opened) */
	struct { enum breaker_state from, to; enum breaker_reason why; } t[2];
	enum breaker_state met; /* the state the outcome met, after a half-opening */
};

/* Feed one outcome of the breaker of key k[0..kn) (created closed). */
void breaker_outcome(struct breaker *b, const void *k, size_t kn, int ok, int64_t at,
                     struct breaker_step *s);
const char *breaker_state_name(enum breaker_state s);
const char *breaker_reason_name(enum breaker_reason r);
void breaker_free(struct breaker *b);

/* ---- small writers -------------------------------------------------- */

/* "RFC3339" with quotes. */
void dlq_put_time(struct buf *b, int64_t us);

#endif
