#!/bin/sh
# examples/demo-evdlq.sh — evdlq steps of `make demo` (run by
# examples/demo.sh): one full round of the dead-letter cycle, fail ->
# triage -> due -> fail again, over messages made from
# examples/orders.ndjson, then a circuit breaker.  Works in a temporary
# directory.  EVBIN names the built tools.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH="${EVBIN:-$here/../build/bin}:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

step() { printf '\n$ %s\n' "$*"; sh -c "$*"; }

cd "$tmp"
echo "evdlq demo: three payment messages fail in the consumer at 12:00"
evquery -t OrderPaid -n 3 "$here/orders.ndjson" |
	evwrite --message --topic payments --now 2026-11-01T11:59Z > failed.ndjson

# The consumer's failures become DLQ records: retry_count 0, history.
step "evdlq fail --reason gateway_timeout --now 2026-11-01T12:00Z failed.ndjson > dlq.ndjson && head -n 1 dlq.ndjson"
# Triage: each one is retried (exponential backoff), dead or too old.
step "evdlq triage --now 2026-11-01T12:00Z --stats --retry-out retry.ndjson --dead-out dead.ndjson dlq.ndjson && evquery -s message.message_id,retry_count,next_retry_at --format table retry.ndjson"
# At 12:00:01 they are due: the messages come back with a dlq member.
step "evdlq due --now 2026-11-01T12:00:01Z --keep-out retry.ndjson retry.ndjson > redeliver.ndjson && evquery -s message_id,dlq.retry_count,dlq.first_failed_at --format table redeliver.ndjson"
# They fail again: the count goes on, the first failure is kept.
step "evdlq fail --reason gateway_timeout --now 2026-11-01T12:00:05Z redeliver.ndjson | evdlq triage --now 2026-11-01T12:00:05Z | evquery -s retry_count,first_failed_at,next_retry_at,decision --format table"
# A payment gateway's outcome log through a circuit breaker.
printf '%s\n' \
	'{"svc":"gateway","ok":false,"timestamp":"2026-11-01T12:00:00Z"}' \
	'{"svc":"gateway","ok":false,"timestamp":"2026-11-01T12:00:01Z"}' \
	'{"svc":"gateway","ok":false,"timestamp":"2026-11-01T12:00:02Z"}' \
	'{"svc":"gateway","ok":true,"timestamp":"2026-11-01T12:00:40Z"}' \
	'{"svc":"gateway","ok":true,"timestamp":"2026-11-01T12:00:41Z"}' > outcomes.ndjson
step "evdlq breaker --key-field svc --failures 3 --probes 2 --successes 2 outcomes.ndjson"
