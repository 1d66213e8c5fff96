#!/bin/sh
# Demo steps for evjoin: the shop's orders (examples/orders.ndjson) with
# the payment service's log (examples/payments.ndjson) and a customer
# table (examples/customers.ndjson).  Wired into make demo by
# examples/demo.sh.  EVBIN names the built tools.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH="${EVBIN:-$here/../build/bin}:$PATH"

step() { printf '\n$ %s\n' "$*"; sh -c "$*"; }

cd "$here"
# each order with its payment authorization, when it came within a minute
step "evquery -t OrderPlaced orders.ndjson | evjoin --left-on aggregate_id --right-on order_id --within 60s - payments.ndjson | head -n 2"
# an outer join as a table: orders not paid in time, payments without an order
step "evquery -t OrderPlaced orders.ndjson | evjoin --left-on aggregate_id --right-on order_id --kind outer - payments.ndjson | evquery -s left.aggregate_id,right.payment_id,left.timestamp,right.timestamp --format table"
# orders enriched from a reference table, flattened into one object
step "evquery -t OrderPlaced orders.ndjson | evjoin --lookup --left-on payload.customer_id --right-on customer_id --flat - customers.ndjson | evquery -s aggregate_id,payload.total,name,tier --format table"
