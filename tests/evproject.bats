#!/usr/bin/env bats
# evproject: built-in projections, aggregations, windows, lateness,
# --state, --partial/--merge, memory.

load helper

FP="$BATS_TEST_DIRNAME/fixtures/evproject"
EV="$FP/orders.ndjson"
WIN="$FP/windows.ndjson"
SES="$FP/sessions.ndjson"

# every aggregation but collect/first/last, by customer
NUMAGGS="-a count -a sum:payload.total -a avg:payload.total -a min:payload.total -a max:payload.total -a stddev:payload.total -a p50:payload.total -a p90:payload.total -a p99:payload.total"
ALLAGGS="$NUMAGGS -a first:event_id -a last:payload.total -a distinct:@key -a collect:event_id"

# ---- built-ins ----------------------------------------------------------

@test "evproject -p by-type counts events per type in order of first appearance" {
	run_split evproject -p by-type "$EV"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "$output" = '{"event_type":"OrderPlaced","count":7}
{"event_type":"OrderPaid","count":1}
{"event_type":"OrderShipped","count":1}
{"event_type":"OrderCancelled","count":1}' ] || fail_with "got"
}

@test "evproject -p by-aggregate keeps \"42\" and 42 apart and names the column by the key field" {
	run evproject -p by-aggregate "$EV"
	[ "$output" = '{"aggregate_id":"order-1","count":3}
{"aggregate_id":"order-2","count":2}
{"aggregate_id":"order-3","count":1}
{"aggregate_id":"order-4","count":1}
{"aggregate_id":42,"count":1}
{"aggregate_id":"42","count":1}
{"aggregate_id":"order-5","count":1}' ] || fail_with "got"
	run evproject --key-field payload.customer_id -p by-aggregate "$EV"
	[ "${lines[0]}" = '{"payload.customer_id":"c1","count":3}' ] || fail_with "got"
}

@test "evproject -p by-date buckets by calendar date, in --tz" {
	run evproject -p by-date "$EV"
	[ "$output" = '{"date":"2026-11-01","count":4}
{"date":"2026-11-02","count":2}
{"date":"2026-11-03","count":4}' ] || fail_with "got"
	run evproject -p by-date --tz America/New_York "$EV"
	[ "$output" = '{"date":"2026-11-01","count":4}
{"date":"2026-11-02","count":3}
{"date":"2026-11-03","count":3}' ] || fail_with "got"
}

@test "evproject -g @hour labels hours in --tz" {
	run evproject -g @hour --tz Asia/Kolkata --top 2 "$EV"
	[ "$output" = '{"hour":"2026-11-01T15","count":2}
{"hour":"2026-11-01T16","count":1}' ] || fail_with "got"
}

@test "evproject -p stats summarises the stream" {
	run evproject -p stats "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = '{"total_events":10,"event_types":{"OrderPlaced":7,"OrderPaid":1,"OrderShipped":1,"OrderCancelled":1},"aggregates_affected":7,"first_at":"2026-11-01T10:00:00.000000Z","last_at":"2026-11-03T10:00:00.000000Z"}' ] || fail_with "got"
}

@test "evproject on empty input: no groups, but one row without -g" {
	run evproject -p by-type < /dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	run evproject -p stats < /dev/null
	[ "$output" = '{"total_events":0,"event_types":{},"aggregates_affected":0,"first_at":null,"last_at":null}' ]
	run evproject -a count -a sum:x -a collect:x -a distinct:x < /dev/null
	[ "$output" = '{"count":0,"sum_x":null,"collect_x":[],"distinct_x":0}' ] || fail_with "got"
}

# ---- aggregations -----------------------------------------------------------

@test "evproject numeric aggregations skip null silently and count non-numbers in one warning each" {
	run_split evproject -g payload.customer_id $NUMAGGS "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = '{"payload.customer_id":"c1","count":3,"sum_payload_total":1120.59,"avg_payload_total":373.53,"min_payload_total":0.1,"max_payload_total":999.99,"stddev_payload_total":545.8599991756128,"p50_payload_total":120.5,"p90_payload_total":999.99,"p99_payload_total":999.99}
{"payload.customer_id":null,"count":3,"sum_payload_total":null,"avg_payload_total":null,"min_payload_total":null,"max_payload_total":null,"stddev_payload_total":null,"p50_payload_total":null,"p90_payload_total":null,"p99_payload_total":null}
{"payload.customer_id":"c2","count":2,"sum_payload_total":35,"avg_payload_total":35,"min_payload_total":35,"max_payload_total":35,"stddev_payload_total":null,"p50_payload_total":35,"p90_payload_total":35,"p99_payload_total":35}
{"payload.customer_id":"c9","count":1,"sum_payload_total":null,"avg_payload_total":null,"min_payload_total":null,"max_payload_total":null,"stddev_payload_total":null,"p50_payload_total":null,"p90_payload_total":null,"p99_payload_total":null}
{"payload.customer_id":"c3","count":1,"sum_payload_total":100,"avg_payload_total":100,"min_payload_total":1e2,"max_payload_total":1e2,"stddev_payload_total":null,"p50_payload_total":1e2,"p90_payload_total":1e2,"p99_payload_total":1e2}' ] || fail_with "got"
	[ "$stderr" = 'evproject: 1 non-numeric value skipped (sum:payload.total)
evproject: 1 non-numeric value skipped (avg:payload.total)
evproject: 1 non-numeric value skipped (min:payload.total)
evproject: 1 non-numeric value skipped (max:payload.total)
evproject: 1 non-numeric value skipped (stddev:payload.total)
evproject: 1 non-numeric value skipped (p50:payload.total)
evproject: 1 non-numeric value skipped (p90:payload.total)
evproject: 1 non-numeric value skipped (p99:payload.total)' ] || fail_with "stderr"
}

@test "evproject first, last, distinct and collect keep values as written" {
	run evproject -g payload.customer_id -a first:payload.total -a last:payload.total -a distinct:payload.total -a collect:payload.total -a distinct:@key -a collect:@key "$EV"
	[ "$output" = '{"payload.customer_id":"c1","first_payload_total":120.5,"last_payload_total":0.1,"distinct_payload_total":3,"collect_payload_total":[120.5,999.99,0.1],"distinct_aggregate_id":3,"collect_aggregate_id":["order-1","order-3","42"]}
{"payload.customer_id":null,"first_payload_total":null,"last_payload_total":null,"distinct_payload_total":0,"collect_payload_total":[],"distinct_aggregate_id":2,"collect_aggregate_id":["order-1","order-1","order-2"]}
{"payload.customer_id":"c2","first_payload_total":35,"last_payload_total":null,"distinct_payload_total":2,"collect_payload_total":[35,null],"distinct_aggregate_id":2,"collect_aggregate_id":["order-2","order-4"]}
{"payload.customer_id":"c9","first_payload_total":"n/a","last_payload_total":"n/a","distinct_payload_total":1,"collect_payload_total":["n/a"],"distinct_aggregate_id":1,"collect_aggregate_id":[42]}
{"payload.customer_id":"c3","first_payload_total":1e2,"last_payload_total":1e2,"distinct_payload_total":1,"collect_payload_total":[1e2],"distinct_aggregate_id":1,"collect_aggregate_id":["order-5"]}' ] || fail_with "got"
}

@test "evproject distinct compares JSON values: 1 and \"1\" differ, null counts, missing does not" {
	printf '%s\n' '{"v":1}' '{"v":"1"}' '{"v":1}' '{"v":[1,2]}' '{"v":[1,2]}' '{"v":null}' '{}' > "$BATS_TEST_TMPDIR/d.ndjson"
	run evproject -a distinct:v -a count "$BATS_TEST_TMPDIR/d.ndjson"
	[ "$output" = '{"distinct_v":4,"count":7}' ] || fail_with "got"
}

@test "evproject sums decimals exactly and keeps integer sums integral" {
	printf '%s\n' '{"v":0.1}' '{"v":0.2}' | evproject -a sum:v -a avg:v > "$BATS_TEST_TMPDIR/o"
	[ "$(cat "$BATS_TEST_TMPDIR/o")" = '{"sum_v":0.3,"avg_v":0.15}' ]
	run sh -c "printf '%s\n' '{\"v\":9007199254740993}' '{\"v\":2}' '{\"v\":-1.5e1}' | evproject -a sum:v"
	[ "$output" = '{"sum_v":9007199254740980}' ] || fail_with "got"
	run sh -c "printf '%s\n' '{\"v\":9223372036854775807}' '{\"v\":1}' | evproject -a sum:v -a max:v"
	[ "$output" = '{"sum_v":9.223372036854776e+18,"max_v":9223372036854775807}' ] || fail_with "got"
}

@test "evproject percentiles are nearest-rank over the values" {
	seq 1 10 | sed 's/.*/{"v":&}/' > "$BATS_TEST_TMPDIR/p.ndjson"
	run evproject -a p50:v -a p90:v -a p99:v -a median=p50:v -a stddev:v "$BATS_TEST_TMPDIR/p.ndjson"
	[ "$output" = '{"p50_v":5,"p90_v":9,"p99_v":10,"median":5,"stddev_v":3.0276503540974917}' ] || fail_with "got"
}

@test "evproject compares numbers exactly: max, min and percentiles beyond 2^53 keep the value as written" {
	printf '%s\n' '{"g":1,"v":9007199254740992}' '{"g":1,"v":9007199254740993}' '{"g":1,"v":9007199254740992.5}' \
		'{"g":2,"v":1.10}' '{"g":2,"v":1.1000000000000000001}' '{"g":2,"v":-0}' > "$BATS_TEST_TMPDIR/n.ndjson"
	run_split evproject -g g -a max:v -a min:v -a p50:v -a p90:v "$BATS_TEST_TMPDIR/n.ndjson"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ]
	[ "$output" = '{"g":1,"max_v":9007199254740993,"min_v":9007199254740992,"p50_v":9007199254740992.5,"p90_v":9007199254740993}
{"g":2,"max_v":1.1000000000000000001,"min_v":-0,"p50_v":1.10,"p90_v":1.1000000000000000001}' ] || fail_with "got"
	# the same through --partial/--merge
	run_split sh -c "evproject -g g -a max:v -a min:v -a p50:v -a p90:v --partial '$BATS_TEST_TMPDIR/n.ndjson' | evproject -g g -a max:v -a min:v -a p50:v -a p90:v --merge"
	[ "$output" = '{"g":1,"max_v":9007199254740993,"min_v":9007199254740992,"p50_v":9007199254740992.5,"p90_v":9007199254740993}
{"g":2,"max_v":1.1000000000000000001,"min_v":-0,"p50_v":1.10,"p90_v":1.1000000000000000001}' ] || fail_with "merged"
	# --sort orders by exact value, not through a double
	run_split evproject -g v --sort -v "$BATS_TEST_TMPDIR/n.ndjson"
	[ "$output" = '{"v":9007199254740993,"count":1}
{"v":9007199254740992.5,"count":1}
{"v":9007199254740992,"count":1}
{"v":1.1000000000000000001,"count":1}
{"v":1.10,"count":1}
{"v":-0,"count":1}' ] || fail_with "sort"
}

@test "evproject NAME=AGG names columns; default names use underscores" {
	run evproject -g payload.customer_id -a n=count -a revenue=sum:payload.total -a 'x.y=max:payload["total"]' -w 'payload.customer_id == "c2"' "$EV"
	[ "$output" = '{"payload.customer_id":"c2","n":2,"revenue":35,"x.y":35}' ] || fail_with "got"
}

@test "evproject -g takes blanks around commas, NAME=PATH and NAME=(EXPR); column names follow one rule" {
	run_split evproject -g ' @type , payload.customer_id	' -a count "$EV"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "blanks"
	[ "${lines[0]}" = '{"event_type":"OrderPlaced","payload.customer_id":"c1","count":3}' ] || fail_with "blanks"
	run_split evproject -g 'type=@type, customer=payload.customer_id' -a 'min:@time' -a max:@time -a 'sum:payload["total"]' \
		-w '@type == "OrderPlaced" && payload.customer_id == "c2"' "$EV"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "names"
	[ "$output" = '{"type":"OrderPlaced","customer":"c2","min_timestamp":"2026-11-01T11:00:00.000000Z","max_timestamp":"2026-11-03T02:30:00.000000Z","sum_payload_total":35}' ] || fail_with "names"
	# an '=' inside brackets or quotes is part of the path, not a name
	printf '%s\n' '{"a=b":1}' '{"a=b":1}' > "$BATS_TEST_TMPDIR/eq.ndjson"
	run_split evproject -g '["a=b"]' "$BATS_TEST_TMPDIR/eq.ndjson"
	[ "$output" = '{"[\"a=b\"]":1,"count":2}' ] || fail_with "bracket"
	# a computed key, with commas inside it
	# (one event's total is "n/a": the comparison says so, once)
	run_split evproject -g 'big=(payload.total >= 100), t=(startswith(lower(@type), "order"))' -a count -w '@type == "OrderPlaced"' "$EV"
	[ "$status" -eq 0 ] || fail_with "computed"
	[ "$stderr" = "evproject: warning: -g: column 16: payload.total >= 100 compares a string with a number (false); use num(payload.total) to compare as numbers" ] || fail_with "computed warning"
	[ "$output" = '{"big":true,"t":true,"count":3}
{"big":false,"t":true,"count":4}' ] || fail_with "computed"
}

@test "evproject -g refuses what is not a path, a computed key without a name, and a duplicate column" {
	run_split evproject -g 'lower(query)' "$EV"
	[ "$status" -eq 2 ] && [ "$output" = "" ]
	[ "${stderr%%$'\n'*}" = "evproject: -g: 'lower(query)' is not a path (computed columns are NAME=(EXPR))" ] || fail_with "call"
	run_split evproject -g 'payload.total * 2' "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evproject: -g: 'payload.total * 2' is not a path (computed columns are NAME=(EXPR))" ] || fail_with "product"
	run_split evproject -g '(payload.total * 2)' "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evproject: -g: a computed group key needs a name: NAME=(payload.total * 2)" ] || fail_with "unnamed"
	run_split evproject -g 'count=@type' -a count "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evproject: column name 'count' used twice (name an aggregation with NAME=AGG)" ] || fail_with "dup"
	run_split evproject -g 'x=@type' -a x=count "$EV"
	[ "$status" -eq 2 ]
	run_split evproject -g 'a,,b' "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evproject: -g: empty path in 'a,,b'" ] || fail_with "empty"
}

@test "evproject warns about a -g or -a path that matched no event" {
	run_split evproject -g qurey -a sum:rttt -a count "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = '{"qurey":null,"sum_rttt":null,"count":10}' ] || fail_with "got"
	[ "$stderr" = "evproject: warning: path 'qurey' (-g) matched no event
evproject: warning: path 'rttt' (-a) matched no event" ] || fail_with "stderr"
	# a path that is sometimes there, or null, is not warned about
	run_split evproject -g payload.customer_id -a sum:payload.total "$EV"
	[ "$stderr" = "evproject: 1 non-numeric value skipped (sum:payload.total)" ] || fail_with "present"
	# nor any path when no event was read
	run_split evproject -g qurey < /dev/null
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "empty input"
}

@test "evproject groups by several paths, @type and @key; a missing path is null" {
	run evproject -g @type,payload.customer_id -a count -w '@type == "OrderPlaced" || @type == "OrderPaid"' "$EV"
	[ "$output" = '{"event_type":"OrderPlaced","payload.customer_id":"c1","count":3}
{"event_type":"OrderPaid","payload.customer_id":null,"count":1}
{"event_type":"OrderPlaced","payload.customer_id":"c2","count":2}
{"event_type":"OrderPlaced","payload.customer_id":"c9","count":1}
{"event_type":"OrderPlaced","payload.customer_id":"c3","count":1}' ] || fail_with "got"
}

@test "evproject --where filters before grouping, with --arg" {
	run evproject -p by-type --arg t OrderPlaced -w '@type != $t' "$EV"
	[ "$output" = '{"event_type":"OrderPaid","count":1}
{"event_type":"OrderShipped","count":1}
{"event_type":"OrderCancelled","count":1}' ] || fail_with "got"
}

@test "evproject --sort and --top order and cut rows" {
	run evproject -p by-aggregate --sort -count --sort aggregate_id "$EV"
	[ "$output" = '{"aggregate_id":"order-1","count":3}
{"aggregate_id":"order-2","count":2}
{"aggregate_id":42,"count":1}
{"aggregate_id":"42","count":1}
{"aggregate_id":"order-3","count":1}
{"aggregate_id":"order-4","count":1}
{"aggregate_id":"order-5","count":1}' ] || fail_with "got"
	run_split evproject -g payload.customer_id -a sum:payload.total --sort -sum_payload_total --top 2 "$EV"
	[ "$output" = '{"payload.customer_id":"c1","sum_payload_total":1120.59}
{"payload.customer_id":"c3","sum_payload_total":100}' ] || fail_with "got"
	run evproject -p by-type --top 1 "$EV"
	[ "$output" = '{"event_type":"OrderPlaced","count":7}' ]
	run evproject -p by-type --sort nope "$EV"
	[ "$status" -eq 2 ]
}

@test "evproject --format tsv, csv and table" {
	run evproject -p by-type --format tsv --top 2 "$EV"
	[ "$output" = $'event_type\tcount\nOrderPlaced\t7\nOrderPaid\t1' ] || fail_with "got"
	run_split evproject -g payload.customer_id -a sum:payload.total --format csv "$EV"
	[ "$output" = 'payload.customer_id,sum_payload_total
c1,1120.59
,
c2,35
c9,
c3,100' ] || fail_with "got"
	run evproject -p by-type --format table "$EV"
	[ "$output" = 'event_type      count
OrderPlaced     7
OrderPaid       1
OrderShipped    1
OrderCancelled  1' ] || fail_with "got"
}

# ---- errors ---------------------------------------------------------------

@test "evproject rejects a bad JSON line, goes on, and exits 3" {
	{ head -n 2 "$EV"; echo '{"event_type":'; echo '[1]'; tail -n 1 "$EV"; } > "$BATS_TEST_TMPDIR/bad.ndjson"
	run_split evproject -p by-type "$BATS_TEST_TMPDIR/bad.ndjson"
	[ "$status" -eq 3 ]
	[ "$output" = '{"event_type":"OrderPlaced","count":2}
{"event_type":"OrderPaid","count":1}' ] || fail_with "got"
	[ "${#stderr}" -gt 0 ]
	[[ "$stderr" == "evproject: $BATS_TEST_TMPDIR/bad.ndjson:3: "* ]] || fail_with "stderr"
	[[ "$stderr" == *$'\n'"evproject: $BATS_TEST_TMPDIR/bad.ndjson:4: "* ]] || fail_with "stderr"
}

@test "evproject usage errors exit 2: bad -a, name clash, -p with -g, bad window" {
	for args in "-a sum" "-a nope:x" "-a count:x" "-a =count" "-a count -a count" "-g count -a count" \
		"-a sum:a.b -a sum:a_b" "-p by-type -g x" "-p nope" "--window tumbling:0" "--window hopping:1m/2m" \
		"--window sliding:1m" "--lateness 1m" "--late x" "--flush" "--partial --merge" "--emit sometimes" \
		"--top x" "-g @nope" "-w 'a =='"; do
		run_split sh -c "evproject $args '$EV'"
		[ "$status" -eq 2 ] || fail_with "accepted: $args"
		[ "$output" = "" ] || fail_with "output for: $args"
	done
	run_split evproject -a count -a count "$EV"
	[[ "$stderr" == "evproject: column name 'count' used twice"* ]] || fail_with "stderr"
}

@test "evproject with --window rejects events without a usable time" {
	printf '%s\n' '{"timestamp":"2026-11-01T00:00:00Z"}' '{"x":1}' '{"timestamp":"soon"}' > "$BATS_TEST_TMPDIR/t.ndjson"
	run_split evproject --window tumbling:1h "$BATS_TEST_TMPDIR/t.ndjson"
	[ "$status" -eq 3 ]
	[ "$output" = '{"window_start":"2026-11-01T00:00:00.000000Z","window_end":"2026-11-01T01:00:00.000000Z","count":1}' ] || fail_with "got"
	[ "$stderr" = "evproject: $BATS_TEST_TMPDIR/t.ndjson:2: missing time field 'timestamp'
evproject: $BATS_TEST_TMPDIR/t.ndjson:3: unparsable time \"soon\" in 'timestamp'" ] || fail_with "stderr"
}

# ---- windows ----------------------------------------------------------------

@test "evproject tumbling windows on a pipe: an event at a window's end belongs to the next; late events set status 3" {
	run_split sh -c "cat '$WIN' | evproject -g @type --window tumbling:1m"
	[ "$status" -eq 3 ]
	[ "$output" = '{"event_type":"A","window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:01:00.000000Z","count":2}
{"event_type":"B","window_start":"2026-11-01T10:01:00.000000Z","window_end":"2026-11-01T10:02:00.000000Z","count":1}
{"event_type":"A","window_start":"2026-11-01T10:01:00.000000Z","window_end":"2026-11-01T10:02:00.000000Z","count":1}
{"event_type":"A","window_start":"2026-11-01T10:03:00.000000Z","window_end":"2026-11-01T10:04:00.000000Z","count":1}' ] || fail_with "got"
	[ "$stderr" = "evproject: 2 late events not counted in any window; use --lateness DUR or --late FILE" ] || fail_with "stderr"
}

WIN_BATCH='{"event_type":"A","window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:01:00.000000Z","count":3}
{"event_type":"B","window_start":"2026-11-01T10:01:00.000000Z","window_end":"2026-11-01T10:02:00.000000Z","count":1}
{"event_type":"A","window_start":"2026-11-01T10:01:00.000000Z","window_end":"2026-11-01T10:02:00.000000Z","count":2}
{"event_type":"A","window_start":"2026-11-01T10:03:00.000000Z","window_end":"2026-11-01T10:04:00.000000Z","count":1}'

# run_batch SHELL-CMD: the command must give the batch rows of $WIN, no late event
run_batch() {
	run_split sh -c "$1"
	[ "$status" -eq 0 ] || fail_with "$1: status"
	[ "$stderr" = "" ] || fail_with "$1: stderr"
	[ "$output" = "$WIN_BATCH" ] || fail_with "$1: got"
}

@test "evproject windows over regular files wait for the whole input: no event is late, rows by window end" {
	run_batch "evproject -g @type --window tumbling:1m '$WIN'"
	run_batch "evproject -g @type --window tumbling:1m < '$WIN'"
	run_batch "evproject -g @type --window tumbling:1m - < '$WIN'"
	run_batch "evproject -g @type --window tumbling:1m --late '$BATS_TEST_TMPDIR/late' '$WIN'"
	[ ! -e "$BATS_TEST_TMPDIR/late" ] # created only for a late event
	# a pipe gets the same with --lateness inf, and --lateness inf changes nothing on a file
	run_batch "cat '$WIN' | evproject -g @type --window tumbling:1m --lateness inf"
	run_batch "evproject -g @type --window tumbling:1m --lateness inf '$WIN'"
}

@test "evproject streams when one operand is a pipe, or with --lateness or --emit update" {
	run_split sh -c "cat '$WIN' | evproject -g @type --window tumbling:1m '$WIN' -"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evproject: 8 late events not counted in any window; use --lateness DUR or --late FILE" ] || fail_with "stderr"
	run_split evproject -g @type --window tumbling:1m --lateness 0 "$WIN"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evproject: 2 late events not counted in any window; use --lateness DUR or --late FILE" ] || fail_with "stderr"
	run_split evproject --window tumbling:1m --emit update "$WIN"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evproject: 2 late events not counted in any window; use --lateness DUR or --late FILE" ] || fail_with "stderr"
}

@test "evproject over Suricata alerts written up to an hour out of order: a file counts them all, a pipe reports the late ones" {
	EVE="$FP/eve.ndjson" # 48 alerts, each written up to an hour after its time
	sum_counts() { echo $(( $(printf "%s\n" "$output" | sed "s/.*\"count\":\([0-9]*\)}/\1/" | paste -sd+) )); }
	run_split evproject --window tumbling:10m "$EVE"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "file"
	[ "$(sum_counts)" -eq 48 ]
	[ "${#lines[@]}" -eq 12 ]
	batch=$output
	run_split sh -c "cat '$EVE' | evproject --window tumbling:10m"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evproject: 28 late events not counted in any window; use --lateness DUR or --late FILE" ] || fail_with "pipe"
	[ "$(sum_counts)" -eq 20 ]
	# routed, they are kept and the status stays 0
	run_split sh -c "cat '$EVE' | evproject --window tumbling:10m --late '$BATS_TEST_TMPDIR/late.ndjson'"
	[ "$status" -eq 0 ]
	[ "$stderr" = "evproject: 28 late events not counted in any window (written to $BATS_TEST_TMPDIR/late.ndjson)" ] || fail_with "routed"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/late.ndjson")" -eq 28 ]
	# an hour of lateness covers an hour of disorder: the rows of the file
	run_split sh -c "cat '$EVE' | evproject --window tumbling:10m --lateness 1h"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] && [ "$output" = "$batch" ] || fail_with "lateness 1h"
}

@test "evproject --late: created only at the first late event; a directory it cannot be made in is a usage error" {
	run_split sh -c "cat '$WIN' | evproject --window tumbling:1m --late '$BATS_TEST_TMPDIR/no/late.ndjson'"
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "no dir"
	[ "$stderr" = "evproject: --late $BATS_TEST_TMPDIR/no/late.ndjson: No such file or directory" ] || fail_with "no dir"
	# an input that cannot be opened: status 2, and no late file
	run_split evproject --window tumbling:1m --late "$BATS_TEST_TMPDIR/late.ndjson" "$BATS_TEST_TMPDIR/missing.ndjson"
	[ "$status" -eq 2 ]
	[ ! -e "$BATS_TEST_TMPDIR/late.ndjson" ]
	# an existing file is appended to
	echo '{"old":1}' > "$BATS_TEST_TMPDIR/late.ndjson"
	run_split sh -c "cat '$WIN' | evproject --window tumbling:1m --late '$BATS_TEST_TMPDIR/late.ndjson'"
	[ "$status" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/late.ndjson")" = "$(printf '%s\n' '{"old":1}'; sed -n '5p;7p' "$WIN")" ] || fail_with "append"
}

@test "evproject rows come out as windows close, before the input ends" {
	# the first window's row is out while the writer still holds the pipe open
	run sh -c "( head -n 3 '$WIN'; sleep 2; tail -n 1 '$WIN' ) | evproject --window tumbling:1m > '$BATS_TEST_TMPDIR/o' & sleep 1; cat '$BATS_TEST_TMPDIR/o'; wait"
	[ "$output" = '{"window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:01:00.000000Z","count":2}' ] || fail_with "got"
}

@test "evproject --lateness keeps slightly late events; later ones go to --late and stderr" {
	run_split evproject -g @type --window tumbling:1m --lateness 1m --late "$BATS_TEST_TMPDIR/late.ndjson" "$WIN"
	[ "$status" -eq 0 ]
	[ "$output" = '{"event_type":"A","window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:01:00.000000Z","count":3}
{"event_type":"B","window_start":"2026-11-01T10:01:00.000000Z","window_end":"2026-11-01T10:02:00.000000Z","count":1}
{"event_type":"A","window_start":"2026-11-01T10:01:00.000000Z","window_end":"2026-11-01T10:02:00.000000Z","count":1}
{"event_type":"A","window_start":"2026-11-01T10:03:00.000000Z","window_end":"2026-11-01T10:04:00.000000Z","count":1}' ] || fail_with "got"
	[ "$stderr" = "evproject: 1 late event not counted in any window (written to $BATS_TEST_TMPDIR/late.ndjson)" ] || fail_with "stderr"
	[ "$(cat "$BATS_TEST_TMPDIR/late.ndjson")" = "$(sed -n 7p "$WIN")" ]
	# counted + late = input
	run_split evproject --window tumbling:1m --lateness 1m --late "$BATS_TEST_TMPDIR/late2.ndjson" -a count "$WIN"
	total=0
	for n in $(printf '%s\n' "$output" | sed 's/.*"count":\([0-9]*\)}/\1/'); do total=$((total + n)); done
	[ $((total + $(wc -l < "$BATS_TEST_TMPDIR/late2.ndjson"))) -eq 7 ]
}

@test "evproject hopping windows overlap: each event is in DUR/STEP windows" {
	run_split evproject --window hopping:2m/1m -a count -a collect:seq "$WIN"
	[ "$status" -eq 0 ]
	[ "$output" = '{"window_start":"2026-11-01T09:59:00.000000Z","window_end":"2026-11-01T10:01:00.000000Z","count":3,"collect_seq":[1,2,5]}
{"window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:02:00.000000Z","count":6,"collect_seq":[1,2,3,4,5,7]}
{"window_start":"2026-11-01T10:01:00.000000Z","window_end":"2026-11-01T10:03:00.000000Z","count":3,"collect_seq":[3,4,7]}
{"window_start":"2026-11-01T10:02:00.000000Z","window_end":"2026-11-01T10:04:00.000000Z","count":1,"collect_seq":[6]}
{"window_start":"2026-11-01T10:03:00.000000Z","window_end":"2026-11-01T10:05:00.000000Z","count":1,"collect_seq":[6]}' ] || fail_with "got"
	# streaming, an event is late once its earliest window has closed
	run_split sh -c "cat '$WIN' | evproject --window hopping:2m/1m -a count -a collect:seq"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evproject: 2 late events not counted in any window; use --lateness DUR or --late FILE" ] || fail_with "stderr"
	[ "$output" = '{"window_start":"2026-11-01T09:59:00.000000Z","window_end":"2026-11-01T10:01:00.000000Z","count":2,"collect_seq":[1,2]}
{"window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:02:00.000000Z","count":4,"collect_seq":[1,2,3,4]}
{"window_start":"2026-11-01T10:01:00.000000Z","window_end":"2026-11-01T10:03:00.000000Z","count":2,"collect_seq":[3,4]}
{"window_start":"2026-11-01T10:02:00.000000Z","window_end":"2026-11-01T10:04:00.000000Z","count":1,"collect_seq":[6]}
{"window_start":"2026-11-01T10:03:00.000000Z","window_end":"2026-11-01T10:05:00.000000Z","count":1,"collect_seq":[6]}' ] || fail_with "got"
}

@test "evproject session windows extend by less than GAP and split at GAP" {
	run_split evproject -g user -a collect:n --window session:1m "$SES"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "$output" = '{"user":"u2","window_start":"2026-11-01T10:00:10.000000Z","window_end":"2026-11-01T10:01:10.000000Z","collect_n":[2]}
{"user":"u1","window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:01:50.000000Z","collect_n":[1,3]}
{"user":"u1","window_start":"2026-11-01T10:01:50.000000Z","window_end":"2026-11-01T10:03:49.999999Z","collect_n":[4,5]}
{"user":"u2","window_start":"2026-11-01T10:05:00.000000Z","window_end":"2026-11-01T10:06:00.000000Z","collect_n":[6]}
{"user":"u1","window_start":"2026-11-01T10:05:30.000000Z","window_end":"2026-11-01T10:07:00.000000Z","collect_n":[7,8]}' ] || fail_with "got"
}

@test "evproject a late event within lateness bridges two sessions into one" {
	printf '%s\n' '{"u":"a","timestamp":"2026-11-01T10:00:00Z","n":1}' '{"u":"a","timestamp":"2026-11-01T10:01:30Z","n":2}' \
		'{"u":"a","timestamp":"2026-11-01T10:00:45Z","n":3}' > "$BATS_TEST_TMPDIR/s.ndjson"
	run evproject -g u -a collect:n --window session:1m --lateness 10m "$BATS_TEST_TMPDIR/s.ndjson"
	[ "$output" = '{"u":"a","window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:02:30.000000Z","collect_n":[1,2,3]}' ] || fail_with "got"
	# a file is read as a whole: the same sessions
	run_split evproject -g u -a collect:n --window session:1m "$BATS_TEST_TMPDIR/s.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = '{"u":"a","window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:02:30.000000Z","collect_n":[1,2,3]}' ] || fail_with "got"
	# a pipe without lateness: the first session closed before the straggler came
	run_split sh -c "cat '$BATS_TEST_TMPDIR/s.ndjson' | evproject -g u -a collect:n --window session:1m"
	[ "$status" -eq 3 ]
	[ "$output" = '{"u":"a","window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:01:00.000000Z","collect_n":[1]}
{"u":"a","window_start":"2026-11-01T10:01:30.000000Z","window_end":"2026-11-01T10:02:30.000000Z","collect_n":[2]}' ] || fail_with "got"
	[ "$stderr" = "evproject: 1 late event not counted in any window; use --lateness DUR or --late FILE" ]
}

@test "evproject --emit update writes a row each time a window changes" {
	run_split evproject --window tumbling:1m --emit update "$WIN"
	[ "$output" = '{"window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:01:00.000000Z","count":1}
{"window_start":"2026-11-01T10:00:00.000000Z","window_end":"2026-11-01T10:01:00.000000Z","count":2}
{"window_start":"2026-11-01T10:01:00.000000Z","window_end":"2026-11-01T10:02:00.000000Z","count":1}
{"window_start":"2026-11-01T10:01:00.000000Z","window_end":"2026-11-01T10:02:00.000000Z","count":2}
{"window_start":"2026-11-01T10:03:00.000000Z","window_end":"2026-11-01T10:04:00.000000Z","count":1}' ] || fail_with "got"
}

@test "evproject windows over epoch-number times and before 1970" {
	printf '%s\n' '{"timestamp":-1}' '{"timestamp":-61}' '{"timestamp":0}' > "$BATS_TEST_TMPDIR/e.ndjson"
	run evproject --window tumbling:1m --lateness 1h --time-unit s "$BATS_TEST_TMPDIR/e.ndjson"
	[ "$output" = '{"window_start":"1969-12-31T23:58:00.000000Z","window_end":"1969-12-31T23:59:00.000000Z","count":1}
{"window_start":"1969-12-31T23:59:00.000000Z","window_end":"1970-01-01T00:00:00.000000Z","count":1}
{"window_start":"1970-01-01T00:00:00.000000Z","window_end":"1970-01-01T00:01:00.000000Z","count":1}' ] || fail_with "got"
}

@test "evproject windows at the ends of the time range saturate instead of overflowing" {
	# times of +-2^63 us and durations of ~2^63 us: bounds are clamped
	# (run under the sanitizer build, this is where signed overflow was)
	printf '%s\n' '{"timestamp":9223372036854775807}' '{"timestamp":9223372036854775806}' '{"timestamp":-9223372036854775808}' \
		'{"timestamp":-9223372036854775807}' '{"timestamp":0}' > "$BATS_TEST_TMPDIR/big.ndjson"
	run_split evproject --time-unit us --window tumbling:1h "$BATS_TEST_TMPDIR/big.ndjson"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "tumbling"
	[ "$output" = '{"window_start":"-290308-12-21T19:59:05.224192Z","window_end":"-290308-12-21T20:00:00.000000Z","count":2}
{"window_start":"1970-01-01T00:00:00.000000Z","window_end":"1970-01-01T01:00:00.000000Z","count":1}
{"window_start":"+294247-01-10T04:00:00.000000Z","window_end":"+294247-01-10T04:00:54.775807Z","count":2}' ] || fail_with "tumbling"
	run_split evproject --time-unit us --window hopping:2h/1h "$BATS_TEST_TMPDIR/big.ndjson"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "hopping"
	[ "$output" = '{"window_start":"-290308-12-21T19:59:05.224192Z","window_end":"-290308-12-21T20:00:00.000000Z","count":2}
{"window_start":"-290308-12-21T19:59:05.224192Z","window_end":"-290308-12-21T21:00:00.000000Z","count":2}
{"window_start":"1969-12-31T23:00:00.000000Z","window_end":"1970-01-01T01:00:00.000000Z","count":1}
{"window_start":"1970-01-01T00:00:00.000000Z","window_end":"1970-01-01T02:00:00.000000Z","count":1}
{"window_start":"+294247-01-10T03:00:00.000000Z","window_end":"+294247-01-10T04:00:54.775807Z","count":2}
{"window_start":"+294247-01-10T04:00:00.000000Z","window_end":"+294247-01-10T04:00:54.775807Z","count":2}' ] || fail_with "hopping"
	# the last microsecond is one session with the one before it, on a pipe too
	for src in "'$BATS_TEST_TMPDIR/big.ndjson'" "- < '$BATS_TEST_TMPDIR/big.ndjson' --lateness inf"; do
		run_split sh -c "evproject --time-unit us --window session:1h $src"
		[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "session"
		[ "$output" = '{"window_start":"-290308-12-21T19:59:05.224192Z","window_end":"-290308-12-21T20:59:05.224193Z","count":2}
{"window_start":"1970-01-01T00:00:00.000000Z","window_end":"1970-01-01T01:00:00.000000Z","count":1}
{"window_start":"+294247-01-10T04:00:54.775806Z","window_end":"+294247-01-10T04:00:54.775807Z","count":2}' ] || fail_with "session"
	done
	run_split sh -c "cat '$BATS_TEST_TMPDIR/big.ndjson' | evproject --time-unit us --window session:1h"
	[ "$status" -eq 3 ]
	[ "$output" = '{"window_start":"+294247-01-10T04:00:54.775806Z","window_end":"+294247-01-10T04:00:54.775807Z","count":2}' ] || fail_with "session pipe"
	# a window and a lateness of 106751991 days (just under 2^63 us)
	run_split sh -c "cat '$BATS_TEST_TMPDIR/big.ndjson' | evproject --time-unit us --window tumbling:106751991d --lateness 106751991d"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evproject: 2 late events not counted in any window; use --lateness DUR or --late FILE" ] || fail_with "huge"
	[ "$output" = '{"window_start":"1970-01-01T00:00:00.000000Z","window_end":"+294247-01-10T00:00:00.000000Z","count":1}
{"window_start":"+294247-01-10T00:00:00.000000Z","window_end":"+294247-01-10T04:00:54.775807Z","count":2}' ] || fail_with "huge"
	# epoch nanoseconds at the int64 limits (auto unit)
	printf '%s\n' '{"timestamp":-9223372036854775808}' '{"timestamp":9223372036854775807}' > "$BATS_TEST_TMPDIR/ns.ndjson"
	run_split evproject --window session:106751991d "$BATS_TEST_TMPDIR/ns.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = '{"window_start":"1677-09-21T00:12:43.145224Z","window_end":"+294247-01-10T04:00:54.775807Z","count":2}' ] || fail_with "ns"
}

# ---- --state ----------------------------------------------------------------

@test "evproject --state: a re-run over a grown store equals a full run" {
	S="$BATS_TEST_TMPDIR/store.ndjson"
	head -n 4 "$EV" > "$S"
	run_split evproject -g payload.customer_id $ALLAGGS --state "$BATS_TEST_TMPDIR/st" "$S"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"payload.customer_id":"c1","count":1,"sum_payload_total":120.5,"avg_payload_total":120.5,"min_payload_total":120.5,"max_payload_total":120.5,"stddev_payload_total":null,"p50_payload_total":120.5,"p90_payload_total":120.5,"p99_payload_total":120.5,"first_event_id":"e1","last_payload_total":120.5,"distinct_aggregate_id":1,"collect_event_id":["e1"]}' ] || fail_with "got"
	tail -n +5 "$EV" >> "$S"
	run_split evproject -g payload.customer_id $ALLAGGS --state "$BATS_TEST_TMPDIR/st" "$S"
	full=$(evproject -g payload.customer_id $ALLAGGS "$EV" 2>/dev/null)
	[ "$output" = "$full" ] || fail_with "incremental differs"
	# nothing new: the same rows again
	run_split evproject -g payload.customer_id $ALLAGGS --state "$BATS_TEST_TMPDIR/st" "$S"
	[ "$output" = "$full" ] || fail_with "third run differs"
}

@test "evproject --state without seq resumes at the byte offset" {
	S="$BATS_TEST_TMPDIR/store.ndjson"
	sed 's/,"seq":[0-9]*//' "$EV" > "$BATS_TEST_TMPDIR/noseq.ndjson"
	head -n 6 "$BATS_TEST_TMPDIR/noseq.ndjson" > "$S"
	evproject -g payload.customer_id $ALLAGGS --state "$BATS_TEST_TMPDIR/st" "$S" > /dev/null 2>&1
	grep -q '"seq":null,"file":{' "$BATS_TEST_TMPDIR/st"
	tail -n +7 "$BATS_TEST_TMPDIR/noseq.ndjson" >> "$S"
	run_split evproject -g payload.customer_id $ALLAGGS --state "$BATS_TEST_TMPDIR/st" "$S"
	[ "$output" = "$(evproject -g payload.customer_id $ALLAGGS "$BATS_TEST_TMPDIR/noseq.ndjson" 2>/dev/null)" ] || fail_with "differs"
}

@test "evproject --state leaves a last line without newline for the next run" {
	S="$BATS_TEST_TMPDIR/store.ndjson"
	sed 's/,"seq":[0-9]*//' "$EV" > "$BATS_TEST_TMPDIR/noseq.ndjson"
	head -n 3 "$BATS_TEST_TMPDIR/noseq.ndjson" > "$S"
	line=$(sed -n 4p "$BATS_TEST_TMPDIR/noseq.ndjson")
	printf '%s' "$line" >> "$S" # whole JSON, no newline yet
	run evproject -p by-type --state "$BATS_TEST_TMPDIR/st" "$S"
	[ "$status" -eq 0 ]
	[ "$output" = '{"event_type":"OrderPlaced","count":2}
{"event_type":"OrderPaid","count":1}' ] || fail_with "got"
	printf '\n' >> "$S"
	line=$(sed -n 5p "$BATS_TEST_TMPDIR/noseq.ndjson")
	printf '%s' "${line%%,*}" >> "$S" # half a line: deferred (not rejected), read whole later
	run_split evproject -p by-type --state "$BATS_TEST_TMPDIR/st" "$S"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ] || fail_with "stderr"
	printf '%s\n' ",${line#*,}" >> "$S"
	tail -n +6 "$BATS_TEST_TMPDIR/noseq.ndjson" >> "$S"
	run evproject -p by-type --state "$BATS_TEST_TMPDIR/st" "$S"
	[ "$status" -eq 0 ]
	[ "$output" = "$(evproject -p by-type "$EV")" ] || fail_with "differs"
}

@test "evproject --state with windows: runs together emit what a full run emits" {
	S="$BATS_TEST_TMPDIR/store.ndjson"
	head -n 4 "$WIN" > "$S"
	evproject -g @type --window tumbling:1m --lateness 1m --late "$BATS_TEST_TMPDIR/late" --state "$BATS_TEST_TMPDIR/st" "$S" > "$BATS_TEST_TMPDIR/out" 2>/dev/null
	[ ! -s "$BATS_TEST_TMPDIR/out" ] # nothing has closed yet
	tail -n +5 "$WIN" >> "$S"
	evproject -g @type --window tumbling:1m --lateness 1m --late "$BATS_TEST_TMPDIR/late" --state "$BATS_TEST_TMPDIR/st" "$S" >> "$BATS_TEST_TMPDIR/out" 2>/dev/null
	evproject -g @type --window tumbling:1m --lateness 1m --late "$BATS_TEST_TMPDIR/late" --state "$BATS_TEST_TMPDIR/st" --flush "$S" >> "$BATS_TEST_TMPDIR/out" 2>/dev/null
	run cat "$BATS_TEST_TMPDIR/out"
	[ "$output" = "$(evproject -g @type --window tumbling:1m --lateness 1m --late /dev/null "$WIN" 2>/dev/null)" ] || fail_with "differs"
	[ "$(cat "$BATS_TEST_TMPDIR/late")" = "$(sed -n 7p "$WIN")" ]
	# sessions, one event per run
	rm -f "$BATS_TEST_TMPDIR/st2" "$S"
	: > "$BATS_TEST_TMPDIR/out"
	while IFS= read -r line; do
		printf '%s\n' "$line" >> "$S"
		evproject -g user -a collect:n --window session:1m --state "$BATS_TEST_TMPDIR/st2" "$S" >> "$BATS_TEST_TMPDIR/out" 2>/dev/null
	done < "$SES"
	evproject -g user -a collect:n --window session:1m --state "$BATS_TEST_TMPDIR/st2" --flush "$S" >> "$BATS_TEST_TMPDIR/out"
	run cat "$BATS_TEST_TMPDIR/out"
	[ "$output" = "$(evproject -g user -a collect:n --window session:1m "$SES")" ] || fail_with "sessions differ"
}

@test "evproject --state: a compaction between runs is harmless (positions by seq)" {
	S="$BATS_TEST_TMPDIR/store.ndjson"
	head -n 5 "$EV" > "$S"
	evproject -p stats --state "$BATS_TEST_TMPDIR/st" "$S" > /dev/null
	# compaction: the store is rewritten with its newer events, seq kept
	sed -n '4,5p' "$EV" > "$S.new" && mv "$S.new" "$S"
	tail -n +6 "$EV" >> "$S"
	run_split evproject -p stats --state "$BATS_TEST_TMPDIR/st" "$S"
	[ "$status" -eq 0 ]
	[ "$output" = "$(evproject -p stats "$EV")" ] || fail_with "differs"
}

@test "evproject --state: a store truncated or rewritten under a byte-offset state is reported, not mixed" {
	S="$BATS_TEST_TMPDIR/store.ndjson"
	sed 's/,"seq":[0-9]*//' "$EV" > "$S"
	evproject -p by-type --state "$BATS_TEST_TMPDIR/st" "$S" > /dev/null
	cp "$BATS_TEST_TMPDIR/st" "$BATS_TEST_TMPDIR/st.saved"
	head -n 3 "$S" > "$S.short"
	cat "$S.short" > "$S" # same file, fewer bytes
	run_split evproject -p by-type --state "$BATS_TEST_TMPDIR/st" "$S"
	[ "$status" -eq 5 ]
	[ "$output" = "" ]
	[[ "$stderr" == "evproject: --state $BATS_TEST_TMPDIR/st: $S: the file shrank from at least "*" not mixing it with the saved state"* ]] || fail_with "stderr"
	cmp "$BATS_TEST_TMPDIR/st" "$BATS_TEST_TMPDIR/st.saved"
	# same length, other bytes
	sed 's/,"seq":[0-9]*//' "$EV" | sed 's/order-1/order-X/' > "$S"
	run_split evproject -p by-type --state "$BATS_TEST_TMPDIR/st" "$S"
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"the file changed before byte"* ]] || fail_with "stderr"
}

@test "evproject --state refuses a state saved under other options, and junk" {
	evproject -p by-type --state "$BATS_TEST_TMPDIR/st" "$EV" > /dev/null
	run_split evproject -p by-aggregate --state "$BATS_TEST_TMPDIR/st" "$EV"
	[ "$status" -eq 2 ]
	[ "$stderr" = "evproject: --state $BATS_TEST_TMPDIR/st: saved by a run with other options" ]
	echo junk > "$BATS_TEST_TMPDIR/junk"
	run evproject -p by-type --state "$BATS_TEST_TMPDIR/junk" "$EV"
	[ "$status" -eq 2 ]
	run evproject -p by-type --state "$BATS_TEST_TMPDIR/st" "$EV" "$EV"
	[ "$status" -eq 2 ]
}

@test "evproject --state: the zone is --tz, not the environment's TZ, so a state saved under TZ=Europe/Paris resumes under TZ=UTC" {
	S="$BATS_TEST_TMPDIR/store.ndjson"
	head -n 4 "$EV" > "$S"
	TZ=Europe/Paris evproject -p by-date --state "$BATS_TEST_TMPDIR/st" "$S" > /dev/null
	tail -n +5 "$EV" >> "$S"
	TZ=UTC run_split evproject -p by-date --state "$BATS_TEST_TMPDIR/st" "$S"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ] || fail_with "stderr"
	[ "$output" = '{"date":"2026-11-01","count":4}
{"date":"2026-11-02","count":2}
{"date":"2026-11-03","count":4}' ] || fail_with "got"
	# --tz is what counts: the same --tz under another TZ resumes ...
	head -n 4 "$EV" > "$S"
	TZ=UTC evproject -p by-date --tz America/New_York --state "$BATS_TEST_TMPDIR/ny" "$S" > /dev/null
	tail -n +5 "$EV" >> "$S"
	TZ=Asia/Tokyo run_split evproject -p by-date --tz America/New_York --state "$BATS_TEST_TMPDIR/ny" "$S"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "same --tz"
	[ "$output" = "$(evproject -p by-date --tz America/New_York "$EV")" ] || fail_with "differs"
	# ... and another --tz (buckets that differ) is refused
	run_split evproject -p by-date --tz UTC --state "$BATS_TEST_TMPDIR/ny" "$S"
	[ "$status" -eq 2 ]
	[ "$stderr" = "evproject: --state $BATS_TEST_TMPDIR/ny: saved by a run with other options" ] || fail_with "other --tz"
}

@test "evproject --state on a pipe resumes by seq, and a seq below 1 is no position (one seq rule: a whole number from 1)" {
	printf '%s\n' '{"seq":1,"event_type":"A"}' '{"seq":2,"event_type":"B"}' > "$BATS_TEST_TMPDIR/in"
	run_split sh -c "cat '$BATS_TEST_TMPDIR/in' | evproject -p by-type --state '$BATS_TEST_TMPDIR/st'"
	[ "$status" -eq 0 ] || fail_with "first"
	printf '%s\n' '{"seq":2,"event_type":"B"}' '{"seq":3,"event_type":"A"}' '{"seq":0,"event_type":"C"}' '{"seq":"4","event_type":"C"}' > "$BATS_TEST_TMPDIR/in"
	run_split sh -c "cat '$BATS_TEST_TMPDIR/in' | evproject -p by-type --state '$BATS_TEST_TMPDIR/st'"
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$output" = '{"event_type":"A","count":2}
{"event_type":"B","count":1}' ] || fail_with "rows"
	[ "$stderr" = "evproject: <stdin>:3: no seq (a whole number from 1): --state cannot resume in a stream that is not a regular file without it
evproject: <stdin>:4: no seq (a whole number from 1): --state cannot resume in a stream that is not a regular file without it" ] || fail_with "stderr"
}

@test "evproject --top takes a whole number as written: no blank, no plus sign, no fraction" {
	for n in ' 2' '+2' '2.0' '2 ' ''; do
		run_split evproject -p by-type --top "$n" "$EV"
		[ "$status" -eq 2 ] || fail_with "--top '$n'"
		[ "${stderr%%$'\n'*}" = "evproject: --top: expected a whole number of at least 0, not '$n'" ] || fail_with "--top '$n' message"
	done
	run evproject -p by-type --top 1 "$EV"
	[ "$status" -eq 0 ] && [ "$output" = '{"event_type":"OrderPlaced","count":7}' ] || fail_with "--top 1"
}

@test "evproject session windows: an event late for some of its [] groups only is counted in the others, and the summary says so" {
	cd "$BATS_TEST_TMPDIR"
	{ printf '{"event_id":"x0","event_type":"T","timestamp":0,"aggregate_id":"k","payload":{"tags":["a"]}}\n'
	  for t in 50 58 66 74 82 90 98; do printf '{"event_id":"x%d","event_type":"T","timestamp":%d,"aggregate_id":"k","payload":{"tags":["b"]}}\n' $t $t; done
	  printf '{"event_id":"y","event_type":"T","timestamp":55,"aggregate_id":"k","payload":{"tags":["a","b"]}}\n'; } > s.ndjson
	rows='{"tag":"a","window_start":"1970-01-01T00:00:00.000000Z","window_end":"1970-01-01T00:00:10.000000Z","count":1}
{"tag":"b","window_start":"1970-01-01T00:00:50.000000Z","window_end":"1970-01-01T00:01:48.000000Z","count":8}'
	# (from a pipe: with only regular files, windows wait for the whole input)
	run_split sh -c 'cat s.ndjson | evproject -g "tag=payload.tags[]" -a count --window session:10s'
	[ "$status" -eq 3 ] && [ "$output" = "$rows" ] || fail_with "rows/status"
	[ "$stderr" = "evproject: 1 late event counted in the windows of some of their groups only; use --lateness DUR or --late FILE" ] || fail_with "stderr"
	# with a fully late one too
	printf '{"event_id":"z","event_type":"T","timestamp":1,"aggregate_id":"k","payload":{"tags":["a"]}}\n' >> s.ndjson
	run_split sh -c 'cat s.ndjson | evproject -g "tag=payload.tags[]" -a count --window session:10s --late late.ndjson'
	[ "$status" -eq 0 ] && [ "$output" = "$rows" ] || fail_with "rows/status with --late"
	[ "$stderr" = "evproject: 2 late events not counted in any window, or (1 of them) only in the windows of some of their groups (written to late.ndjson)" ] || fail_with "stderr with --late"
	[ "$(cut -d, -f1 late.ndjson)" = '{"event_id":"y"
{"event_id":"z"' ] || fail_with "late file"
}

# ---- --partial / --merge ----------------------------------------------------

shards() { # shards FILE ARGS...: partial rows of 3 shards, concatenated
	local f=$1
	shift
	for i in 0 1 2; do evquery --shard $i/3 "$f" | evproject "$@" --partial; done
}

@test "evproject --merge of 3 shards equals the unsharded run, for every aggregation" {
	shards "$EV" -g payload.customer_id $ALLAGGS > "$BATS_TEST_TMPDIR/parts" 2>/dev/null
	[ "$(wc -l < "$BATS_TEST_TMPDIR/parts")" -ge 5 ]
	run evproject -g payload.customer_id $ALLAGGS --merge "$BATS_TEST_TMPDIR/parts"
	[ "$status" -eq 0 ]
	[ "$output" = "$(evproject -g payload.customer_id $ALLAGGS "$EV" 2>/dev/null)" ] || fail_with "differs"
	for p in by-type by-aggregate by-date stats; do
		shards "$EV" -p $p > "$BATS_TEST_TMPDIR/parts"
		run evproject -p $p --merge "$BATS_TEST_TMPDIR/parts"
		[ "$output" = "$(evproject -p $p "$EV")" ] || fail_with "$p differs"
	done
}

@test "evproject --merge is exact on a larger stream with decimals, keys spread over shards" {
	awk 'BEGIN { for (i = 1; i <= 600; i++) printf "{\"aggregate_id\":\"a%d\",\"event_type\":\"T%d\",\"payload\":{\"g\":\"g%d\",\"v\":%d.%02d},\"timestamp\":%d,\"seq\":%d}\n", i % 37, i % 3, i % 5, (i * 7919) % 1000 - 300, (i * 31) % 100, 1790000000 + i * 13, i }' > "$BATS_TEST_TMPDIR/big.ndjson"
	args="-g payload.g $NUMAGGS -a first:payload.v -a last:payload.v -a distinct:payload.v -a collect:seq"
	args=${args//payload.total/payload.v}
	shards "$BATS_TEST_TMPDIR/big.ndjson" $args > "$BATS_TEST_TMPDIR/parts"
	run evproject $args --merge "$BATS_TEST_TMPDIR/parts"
	[ "$output" = "$(evproject $args "$BATS_TEST_TMPDIR/big.ndjson")" ] || fail_with "differs"
	for w in tumbling:5m hopping:10m/5m session:40s; do
		shards "$BATS_TEST_TMPDIR/big.ndjson" -g payload.g -a count -a sum:payload.v -a p90:payload.v --window $w > "$BATS_TEST_TMPDIR/parts"
		run evproject -g payload.g -a count -a sum:payload.v -a p90:payload.v --window $w --merge "$BATS_TEST_TMPDIR/parts"
		[ "$output" = "$(evproject -g payload.g -a count -a sum:payload.v -a p90:payload.v --window $w "$BATS_TEST_TMPDIR/big.ndjson")" ] || fail_with "$w differs"
	done
}

@test "evproject --merge warns when a group spans parts whose positions are line numbers (no seq) and first, last or collect is asked" {
	cd "$BATS_TEST_TMPDIR"
	for i in 1 2 3 4 5 6; do printf '{"event_id":"e%d","event_type":"T","timestamp":"2026-01-01T00:00:0%dZ","aggregate_id":"a","payload":{"v":%d}}\n' $i $i $i; done > all.ndjson
	A=(-g @key -a first:payload.v -a last:payload.v)
	# blocks of lines, not keys: the group is in both parts
	{ tail -n 3 all.ndjson | evproject "${A[@]}" --partial; head -n 3 all.ndjson | evproject "${A[@]}" --partial; } > parts
	[ "$(grep -c '"lines":true' parts)" -eq 2 ] || fail_with "partial rows do not say their positions are line numbers"
	run_split evproject "${A[@]}" --merge parts
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = '{"aggregate_id":"a","first_payload_v":4,"last_payload_v":3}' ] || fail_with "rows"
	[ "$stderr" = "evproject: warning: --merge: a group is in several parts and its positions are line numbers within each part (its events had no seq), so first, last and collect across the parts follow those numbers, not the order of the stream; give the events a seq before splitting (evwrite does), or split by key (evquery --shard)" ] || fail_with "stderr"
	# count and sum do not depend on positions: no warning
	run_split evproject -g @key -a count -a sum:payload.v --merge <({ tail -n 3 all.ndjson | evproject -g @key -a count -a sum:payload.v --partial; head -n 3 all.ndjson | evproject -g @key -a count -a sum:payload.v --partial; })
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] && [ "$output" = '{"aggregate_id":"a","count":6,"sum_payload_v":21}' ] || fail_with "count/sum"
	# the same blocks with a seq: exact, no warning
	awk '{ sub(/}$/, ",\"seq\":" NR "}"); print }' all.ndjson > seq.ndjson
	{ tail -n 3 seq.ndjson | evproject "${A[@]}" --partial; head -n 3 seq.ndjson | evproject "${A[@]}" --partial; } > parts
	run_split evproject "${A[@]}" --merge parts
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "seq: stderr"
	[ "$output" = '{"aggregate_id":"a","first_payload_v":1,"last_payload_v":6}' ] || fail_with "seq: rows"
	# split by key, no seq: every group in one part, no warning
	printf '%s\n' '{"event_id":"b1","event_type":"T","timestamp":"2026-01-01T00:00:07Z","aggregate_id":"b","payload":{"v":7}}' >> all.ndjson
	for i in 0 1; do evquery --shard $i/2 all.ndjson | evproject "${A[@]}" --partial; done > parts
	run_split evproject "${A[@]}" --merge parts
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "key shards: stderr"
	[ "$output" = "$(evproject "${A[@]}" all.ndjson)" ] || fail_with "key shards: rows"
}

@test "evproject --merge rejects lines that are not partial rows of this projection" {
	printf '%s\n' '{"x":1}' > "$BATS_TEST_TMPDIR/p"
	evproject -p by-type --partial "$EV" >> "$BATS_TEST_TMPDIR/p"
	run_split evproject -p by-aggregate --merge "$BATS_TEST_TMPDIR/p"
	[ "$status" -eq 3 ]
	[[ "$stderr" == "evproject: $BATS_TEST_TMPDIR/p:1: not an evproject partial row"* ]] || fail_with "stderr"
	run_split evproject -g @type -a count -a sum:x --merge "$BATS_TEST_TMPDIR/p"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"expected 1 and 2"* ]] || fail_with "stderr"
}

# ---- memory and the interface ------------------------------------------------

@test "evproject -p by-type memory stays flat on a long input (ulimit -v)" {
	# a sanitizer build reserves terabytes of address space: there the
	# output is still checked, and the RSS comparison below still bites
	lim="ulimit -v 65536;"
	nm "$EVBIN/evproject" 2>/dev/null | grep -q __asan_init && lim=""
	run sh -c "$lim awk 'BEGIN { for (i = 0; i < 400000; i++) printf \"{\\\"event_type\\\":\\\"T%d\\\",\\\"p\\\":\\\"%0200d\\\"}\\n\", i % 9, i }' | evproject -p by-type | tail -n 1"
	[ "$status" -eq 0 ]
	[ "$output" = '{"event_type":"T8","count":44444}' ] || fail_with "got"
	small=$(awk 'BEGIN { for (i = 0; i < 10000; i++) printf "{\"event_type\":\"T%d\",\"p\":\"%0200d\"}\n", i % 9, i }' | /usr/bin/time -f %M evproject -p by-type 2>&1 >/dev/null | tail -n 1)
	big=$(awk 'BEGIN { for (i = 0; i < 400000; i++) printf "{\"event_type\":\"T%d\",\"p\":\"%0200d\"}\n", i % 9, i }' | /usr/bin/time -f %M evproject -p by-type 2>&1 >/dev/null | tail -n 1)
	[ -n "$small" ] && [ -n "$big" ] || fail_with "no RSS from /usr/bin/time"
	[ "$big" -lt $((small + 2048)) ] || fail_with "RSS grew: $small KiB -> $big KiB"
}

@test "evproject --help lists every option and the man page documents each" {
	run evproject --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: evproject "* ]]
	for o in --projection --group-by --agg --where --sort --top --format --window --lateness --late --emit --state --flush --partial --merge --errors --strict --time-unit --tz --now --arg --argjson --progress --id-field --key-field --type-field --time-field; do
		help_has "$o" || fail_with "help lacks $o"
		grep -q -- "^\.It Fl $o\|Fl ${o#--} \|Fl ${o#--}$\|Fl -${o#--}" "$BATS_TEST_DIRNAME/../man/evproject.1" || fail_with "man lacks $o"
	done
	run evproject -V
	[ "$output" = "evproject (evtools) 0.1.0" ]
}

@test "evproject man page EXAMPLES over examples/orders.ndjson print what the page says" {
	# each "$ command" (continued by a trailing \e or |) in a literal
	# display, then its output up to the next "$ " or the display's end
	awk -v dir="$BATS_TEST_TMPDIR" '
		function flush() {
			if (cmd ~ /examples\/orders\.ndjson/) {
				n++
				printf "%s\n", cmd > (dir "/ex" n ".cmd"); close(dir "/ex" n ".cmd")
				printf "%s", out > (dir "/ex" n ".out"); close(dir "/ex" n ".out")
			}
			cmd = ""; out = ""
		}
		/^\.Bd -literal/ { inb = 1; cmd = ""; out = ""; next }
		/^\.Ed/ { if (inb) flush(); inb = 0; next }
		!inb { next }
		{ line = $0; gsub(/\\e/, "\\", line) }
		line ~ /^\$ / { flush(); cmd = substr(line, 3); cont = line ~ /[\\|]$/; next }
		cont { cmd = cmd "\n" line; cont = line ~ /[\\|]$/; next }
		{ out = out line "\n" }
		END { print n + 0 > (dir "/count") }
	' "$BATS_TEST_DIRNAME/../man/evproject.1"
	[ "$(cat "$BATS_TEST_TMPDIR/count")" -ge 6 ] || fail_with "examples not found"
	cd "$BATS_TEST_DIRNAME/.."
	for cmdf in "$BATS_TEST_TMPDIR"/ex*.cmd; do
		run_split sh -c "$(cat "$cmdf")"
		[ "$output" = "$(cat "${cmdf%.cmd}.out")" ] || fail_with "$(cat "$cmdf")"
	done
}

@test "evproject man page is clean for mandoc -Tlint and groff -ww" {
	run mandoc -Tlint -Wwarning "$BATS_TEST_DIRNAME/../man/evproject.1"
	[ "$output" = "" ] || fail_with "lint"
	run groff -man -ww -z "$BATS_TEST_DIRNAME/../man/evproject.1"
	[ "$status" -eq 0 ] && [ "$output" = "" ] || fail_with "groff"
}
