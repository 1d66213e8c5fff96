#!/bin/sh
# examples/demo-evwrite.sh — evwrite steps of `make demo` (run by
# examples/demo.sh).  Works on a copy of the store in a temporary
# directory: examples/orders.ndjson is never touched.  EVBIN names the
# built tools.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH="${EVBIN:-$here/../build/bin}:$PATH"

step() { printf '\n$ %s\n' "$*"; sh -c "$*"; }

ewdir=$(mktemp -d)
cp "$here/orders.ndjson" "$ewdir/store.ndjson"
cp "$here/commands.ndjson" "$here/command-map.json" "$ewdir/"
cd "$ewdir" || exit 1
step "echo '{\"aggregate_id\":\"order-1\",\"event_type\":\"OrderRefunded\",\"payload\":{\"amount\":10}}' | evwrite --store store.ndjson --source demo --now 2026-11-27T10:00Z"
step "echo '{\"aggregate_id\":\"order-1\",\"event_type\":\"OrderRefunded\",\"payload\":{\"amount\":5}}' | evwrite --store store.ndjson --expect 2 || echo \"exit status \$? (someone else wrote order-1 first)\""
step "tail -n 1 store.ndjson | evwrite --store store.ndjson; echo \"exit status \$?, still \$(wc -l < store.ndjson) events (re-sending is idempotent)\""
step "printf '{\"aggregate_id\":\"order-9\",\"event_type\":\"OrderPlaced\",\"payload\":{}}\n{\"aggregate_id\":\"order-9\"}\n' | evwrite --store store.ndjson --atomic || echo \"exit status \$? (nothing appended)\""
step "printf '{\"aggregate_id\":\"order-9\",\"eve' >> store.ndjson; evwrite --store store.ndjson < /dev/null || evwrite --store store.ndjson --repair < /dev/null && ls store.ndjson.torn.*"
step "evwrite --store store.ndjson --commands command-map.json --correlation-id batch-7 --now 2026-11-27T10:05Z --stats commands.ndjson || echo \"exit status \$? (one unknown command type, one stale expected_version)\""
step "evwrite --store store.ndjson --commands command-map.json --stats commands.ndjson 2>&1 | grep -v '^evwrite:' ; echo \"still \$(wc -l < store.ndjson) events (a re-sent command is skipped by its command_id)\""
step "evquery -t OrderPlaced -n 2 store.ndjson | evwrite --message --topic orders --partition-key payload.customer_id --priority 5 --ttl 1h --now 2026-11-27T10:00Z"
cd "$here" || exit 1
rm -rf "$ewdir"
