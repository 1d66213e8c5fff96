#!/bin/sh
# Demo steps for evcep over examples/activity.ndjson (logins, transactions,
# carts, service errors; wired into make demo by examples/demo.sh).
# EVBIN names the built tools.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH="${EVBIN:-$here/../build/bin}:$PATH"

step() { printf '\n$ %s\n' "$*"; sh -c "$*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$here/activity.ndjson" "$tmp/"
cd "$tmp"

# the seed's three patterns
step "evcep --ids -p 'fraud: l=Login -> t=HighValueTransaction[payload.amount > 10000] -> LocationChange[payload.distance > 1000] within 5m by user_id' activity.ndjson"
step "evcep --ids -p 'abandoned: AddToCart -> ViewCart -> !Checkout within 30m by session_id' activity.ndjson"
step "evcep --ids -p 'outage: ServiceError{3} within 1m by payload.service' activity.ndjson"
# partial matches: what timed out, what is still open
step "evcep --ids --partials -p 'outage: ServiceError{3} within 1m by payload.service' activity.ndjson"
# a policy: matches become commands for a mailer
step "evcep -p 'abandoned: AddToCart -> ViewCart -> !Checkout within 30m by session_id => mailer.SendReminder' activity.ndjson | evquery -s action,trigger_event,key --format table"
# a cron job: the first run sees half the log, the second only the rest
step "head -n 5 activity.ndjson > log.ndjson && evcep --ids --state st -p 'fraud: Login -> HighValueTransaction -> LocationChange within 5m by user_id' log.ndjson"
step "tail -n +6 activity.ndjson >> log.ndjson && evcep --ids --state st -p 'fraud: Login -> HighValueTransaction -> LocationChange within 5m by user_id' log.ndjson"

# sagas: the CreateOrder saga (examples/saga/create-order.json) over the
# logs of the order, inventory, payment and shipping services, merged by
# event time: o-1001 completes, o-1002's payment fails, o-1003 times out
# (payment never answers), o-1004 is still running at the end
cp "$here"/saga/*.json "$here"/saga/*.ndjson .
SAGA="evcep --saga create-order.json orders.ndjson inventory.ndjson payments.ndjson shipping.ndjson"
# orchestration: the next command of each saga, compensations newest first
step "$SAGA | evquery -s key,record,status,command,kind,at --format table"
# monitoring: how each saga ended, what still runs, counts
step "evcep --partials --stats --saga create-order.json orders.ndjson inventory.ndjson payments.ndjson shipping.ndjson | evquery -w 'record != \"command\"' -s record,key,status,steps_completed,failed_step,started,completed,failed,timed_out,running --format table"
