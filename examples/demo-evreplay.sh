#!/bin/sh
# Demo steps for evreplay and evsnap over examples/orders.ndjson (the lead
# wires this into `make demo`).  EVBIN names the built tools.  Nothing is
# written next to the examples: the compaction works on a copy in a
# temporary directory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH="${EVBIN:-$here/../build/bin}:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

step() { printf '\n$ %s\n' "$*"; sh -c "$*"; }

cp "$here/orders.ndjson" "$tmp/orders.ndjson"
cd "$tmp"
echo "evreplay / evsnap demo over orders.ndjson ($(wc -l < orders.ndjson) events)"

# The state of one order, and how it got there.
step "evreplay -A order-1 orders.ndjson"
step "evreplay --history -A order-1 orders.ndjson"

# A temporal query: order-5 as it was before it was shipped.
step "evreplay --as-of 2026-11-01T11:00Z -A order-5 orders.ndjson"

# Rules of our own: a status per event type, and a count of payment failures.
step "evreplay --no-default-rules --rule 'OrderPlaced=create' --rule 'OrderPaid=set:status=\"paid\"' --rule 'OrderShipped=set:status=\"shipped\"' --rule 'PaymentFailed=inc:failures' -A order-4 -A order-5 orders.ndjson"

# Snapshots of the first 20 events, then a replay from them: the same rows
# as a full replay.
evreplay orders.ndjson > full.ndjson
step "head -n 20 orders.ndjson | evsnap -o snaps.ndjson && wc -l < snaps.ndjson"
step "evreplay --snapshots snaps.ndjson orders.ndjson | cmp - full.ndjson && echo 'snapshots + events = full replay'"

# Compaction of a copy of the store: events before noon go to the archive,
# the snapshots cover them, and the replay does not change.
cp orders.ndjson store.ndjson
step "evsnap --compact --store store.ndjson --retain 0 --now 2026-11-01T12:00Z --archive archive --snapshots store.snaps.ndjson --batch 10"
step "ls archive && wc -l < store.ndjson && cat store.ndjson.base"
step "cat archive/* store.ndjson | cmp - orders.ndjson && echo 'archive + store = the original bytes'"
step "evreplay --snapshots store.snaps.ndjson store.ndjson | cmp - full.ndjson && echo 'replay unchanged'"
