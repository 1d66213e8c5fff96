# bench/jobs-evjoin.sh — evjoin jobs, sourced by bench/run.sh (which
# defines job, $EVBIN, $OUT, $N).
# shellcheck shell=sh disable=SC2016 # jq and SQL programs are single-quoted on purpose
#
# Data (generated here, BENCH_JOIN_N events per stream, default $N):
#   join-orders:    OrderPlaced events one second apart, ISO times, with
#                   aggregate_id order-I and a top-level customer_id;
#   join-payments:  a PaymentAuthorized for 90% of the orders, 1 to 55 s
#                   after its order, in time order, keyed by order_id;
#   join-customers: a reference table of 100,000 customers.
# Jobs:
#   ijoin:    interval join, orders with their payment within 60 s:
#             evjoin against sqlite3 loading both streams with its JSON
#             functions into tables (times as unixepoch), an index on the
#             key, then JOIN ... ON l.k = r.k AND abs(l.t - r.t) <= 60,
#             writing one JSON object per pair; load time included.
#   ijoin1d:  the same evjoin with a one-day window (for peak RSS: memory
#             follows the events inside the window).
#   lookup:   every order enriched with its customer (inner, merged into
#             one object): evjoin --lookup --flat against
#             mlr join -j customer_id -f TABLE and jq with --slurpfile and
#             an index object.  jq 1.6's INDEX builds its object with |=,
#             which copies the object on every row (quadratic: 5,000 rows
#             took 1 s of CPU, 100,000 did not finish in 8 minutes), so the
#             jq row builds the same index with reduce and = instead.
#             BENCH_JOIN_LOOKUP_N orders (default: BENCH_JOIN_N).
# Each job's output line counts must agree (run.sh checks).

EVJ=$EVBIN/evjoin
JC=$OUT/join-customers.ndjson

# join_data N: orders and payments of N events (JO, JP), made once
join_data() {
	JO=$OUT/join-orders-$1.ndjson
	JP=$OUT/join-payments-$1.ndjson
	jn=$1
	jstamp="jn=$jn gen=2"
	[ -s "$JO" ] && [ -s "$JC" ] && [ "$(cat "$JO.stamp" 2>/dev/null)" = "$jstamp" ] && return 0
	say "generating $JO, $JP and $JC"
	awk -v n="$jn" 'BEGIN {
		base = 1793523600 # 2026-11-01T09:00:00Z
		for (i = 0; i < n; i++) {
			t = base + i
			printf "{\"event_id\":\"o%d\",\"aggregate_id\":\"order-%d\",\"event_type\":\"OrderPlaced\",\"customer_id\":\"cust-%d\",\"payload\":{\"total\":%d.%02d,\"items\":%d},\"timestamp\":\"%s\"}\n", i, i, (i * 7919) % 100000, i % 500, i % 100, i % 7 + 1, strftime("%Y-%m-%dT%H:%M:%SZ", t, 1)
		}
	}' > "$JO"
	awk -v n="$jn" 'BEGIN {
		base = 1793523600
		for (i = 0; i < n; i++) {
			if (i % 10 == 9) continue
			t = base + i + 1 + (i * 13) % 55
			printf "%d\t{\"event_id\":\"p%d\",\"order_id\":\"order-%d\",\"event_type\":\"PaymentAuthorized\",\"amount\":%d.%02d,\"timestamp\":\"%s\"}\n", t, i, i, i % 500, i % 100, strftime("%Y-%m-%dT%H:%M:%SZ", t, 1)
		}
	}' | sort -s -n -k1,1 | cut -f2- > "$JP"
	awk 'BEGIN {
		split("gold silver bronze", tier, " ")
		for (i = 0; i < 100000; i++)
			printf "{\"customer_id\":\"cust-%d\",\"name\":\"Customer %d\",\"tier\":\"%s\",\"since\":%d}\n", i, i, tier[i % 3 + 1], 2000 + i % 26
	}' > "$JC"
	printf '%s\n' "$jstamp" > "$JO.stamp"
}

join_data "${BENCH_JOIN_N:-$N}"

# one line is one column: the field separator is a byte NDJSON never
# holds raw (0x1E, record separator); sqlite3 takes no escape for it
RS=$(printf '\036')
IJOIN_SQL="
CREATE TABLE rl(line TEXT);
CREATE TABLE rr(line TEXT);
.separator \"$RS\" \"\\n\"
.import $JO rl
.import $JP rr
CREATE TABLE l AS SELECT json_extract(line, '\$.aggregate_id') AS k,
  unixepoch(json_extract(line, '\$.timestamp')) AS t, line FROM rl;
CREATE TABLE r AS SELECT json_extract(line, '\$.order_id') AS k,
  unixepoch(json_extract(line, '\$.timestamp')) AS t, line FROM rr;
DROP TABLE rl;
DROP TABLE rr;
CREATE INDEX r_k ON r(k);
.mode list
SELECT json_object('join_key', l.k, 'left', json(l.line), 'right', json(r.line))
  FROM l JOIN r ON l.k = r.k AND abs(l.t - r.t) <= 60;
"
printf '%s\n' "$IJOIN_SQL" > "$OUT/ijoin.sql"

job ijoin "$EVJ" --left-on aggregate_id --right-on order_id --within 60s "$JO" "$JP"
job -i "$OUT/ijoin.sql" ijoin sqlite3 :memory:
job ijoin1d "$EVJ" --left-on aggregate_id --right-on order_id --within 1d "$JO" "$JP"

join_data "${BENCH_JOIN_LOOKUP_N:-${BENCH_JOIN_N:-$N}}"
job lookup "$EVJ" --lookup --on customer_id --flat "$JO" "$JC"
job lookup mlr --ijsonl --ojsonl join -j customer_id -f "$JC" "$JO"
job lookup jq -n -c --slurpfile t "$JC" \
	'(reduce $t[] as $c ({}; .[$c.customer_id] = $c)) as $idx | inputs | . as $o | ($idx[$o.customer_id] // empty) as $c | $o + $c' "$JO"
