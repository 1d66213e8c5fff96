#!/bin/sh
# make demo: a real pipeline over examples/orders.ndjson, a small shop's
# event store.  EVBIN names the built tools (make sets it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH="${EVBIN:-$here/../build/bin}:$PATH"
store="$here/orders.ndjson"

step() { printf '\n$ %s\n' "$*"; sh -c "$*"; }

cd "$here"
echo "evtools demo — the store has $(wc -l < "$store") events (examples/orders.ndjson)"

step "evquery -t PaymentFailed --format table orders.ndjson"
step "evquery --since 2026-11-01T11:00Z --until 2026-11-01T12:00Z -s seq,@time,@type,@key orders.ndjson"
step "evquery -w 'payload.total > 300 && payload.city in [\"Lyon\", \"Osaka\"]' -s @key,payload.customer_id,payload.total --format table orders.ndjson"
step "evquery --trace ev-001 --format table orders.ndjson"
step "evquery -c -t OrderShipped orders.ndjson"
step "printf '{\"event_type\":\"OrderPlaced\"}\nnot json\n' | evquery -c --errors /dev/stderr || echo \"exit status \$? (a line was rejected)\""

# The other tools' demo steps, in pipeline order, each in its own file.
for t in evwrite evreplay evsnap evproject evcep evjoin evdlq; do
	if [ -f "$here/demo-$t.sh" ] && command -v "$t" >/dev/null 2>&1; then
		printf '\n# --- %s\n' "$t"
		EVBIN="${EVBIN:-}" sh "$here/demo-$t.sh"
	fi
done
