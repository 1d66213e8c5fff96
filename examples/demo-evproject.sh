#!/bin/sh
# Demo steps for evproject over examples/orders.ndjson (wired into make demo
# by examples/demo.sh).  EVBIN names the built tools.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH="${EVBIN:-$here/../build/bin}:$PATH"

step() { printf '\n$ %s\n' "$*"; sh -c "$*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$here/orders.ndjson" "$tmp/"
cd "$tmp"

step "evproject -p by-type --format table orders.ndjson"
step "evproject -p stats orders.ndjson"
step "evquery -t OrderPlaced orders.ndjson | evproject -g payload.customer_id -a orders=count -a revenue=sum:payload.total -a p90:payload.total --sort -revenue --top 3 --format table"
step "evproject -g @type --window tumbling:1h -w '@type == \"OrderPlaced\" || @type == \"PaymentFailed\"' --format table orders.ndjson"
step "evproject -g @key --window session:30m -a events=count -a collect:@type --top 3 orders.ndjson"
# a cron job: the first run sees half the store, the second only the rest
step "head -n 15 orders.ndjson > store.ndjson && evproject -p by-type --state state store.ndjson --format table"
step "tail -n +16 orders.ndjson >> store.ndjson && evproject -p by-type --state state store.ndjson --format table"
# three shards, merged: the same numbers as one pass
step "for i in 0 1 2; do evquery --shard \$i/3 orders.ndjson | evproject -w 'has(payload.city)' -g payload.city -a sum:payload.total -a p50:payload.total --partial; done | evproject -g payload.city -a sum:payload.total -a p50:payload.total --merge --format table"
