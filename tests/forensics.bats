#!/usr/bin/env bats
# Forensics power (issue 13): [] in paths, computed and conditional
# aggregations, times in min/max, any percentile, one column-name rule,
# value counts without duplicate keys.

load helper

DNS="$FIX/forensics/dns.ndjson"
ORD="$FIX/forensics/orders.ndjson"

# a line whose payload.s makes "(a|aa)+$" give up (39 bytes: match limit 4900)
limit_fixture() {
	{
		echo '{"aggregate_id":"k","event_type":"X","timestamp":"2026-01-01T00:00:00Z","payload":{"s":"aa"}}'
		echo '{"aggregate_id":"k","event_type":"X","timestamp":"2026-01-01T00:00:01Z","payload":{"s":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}}'
		echo '{"aggregate_id":"k","event_type":"X","timestamp":"2026-01-01T00:00:02Z","payload":{"s":"b"}}'
	} >"$BATS_TEST_TMPDIR/lim.ndjson"
}

# ---- [] ---------------------------------------------------------------------

@test "evquery -s P[] gives the list of elements; missing or not an array is null, an empty array []" {
	run_split evquery -s 'uid,answers[],TTLs[]' "$DNS"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"uid":"C1","answers[]":["192.0.2.1","192.0.2.2"],"TTLs[]":[60,60]}
{"uid":"C2","answers[]":null,"TTLs[]":null}
{"uid":"C3","answers[]":["192.0.2.2","192.0.2.1","192.0.2.2"],"TTLs[]":[30,30,30]}
{"uid":"C4","answers[]":[],"TTLs[]":null}
{"uid":"C5","answers[]":null,"TTLs[]":[5]}' ] || fail_with "output"
}

@test "evquery -s: several [] multiply, a path after [] reads each element, NAME= names the list" {
	printf '%s\n' '{"n":[[1,2],[3]],"b":[{"c":1},{"d":2},{"c":"x"}]}' '{"n":[[],[]],"b":[{}]}' >"$BATS_TEST_TMPDIR/n.ndjson"
	run_split evquery -s 'n[][],n[],c=b[].c' "$BATS_TEST_TMPDIR/n.ndjson"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"n[][]":[1,2,3],"n[]":[[1,2],[3]],"c":[1,"x"]}
{"n[][]":[],"n[]":[[],[]],"c":null}' ] || fail_with "output"
	run_split evquery --format tsv -s 'n[][]' "$BATS_TEST_TMPDIR/n.ndjson"
	[ "$output" = 'n[][]
[1,2,3]
[]' ] || fail_with "tsv"
}

@test "evquery -s: member names with dots are found before and after []" {
	echo '{"dns.answers":[{"r.data":"x"},{"r.data":"y"}]}' >"$BATS_TEST_TMPDIR/d.ndjson"
	run_split evquery -s 'dns.answers[].r.data' "$BATS_TEST_TMPDIR/d.ndjson"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] && [ "$output" = '{"dns.answers[].r.data":["x","y"]}' ] || fail_with "output"
}

@test "evquery -s warns about a path with [] that matched no event, not about one that met empty arrays" {
	run_split evquery -s 'answerz[]' "$DNS"
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$stderr" = "evquery: warning: path 'answerz[]' (-s) matched no event" ] || fail_with "stderr"
	run_split evquery -s 'answers[]' -w 'uid == "C4"' "$DNS"
	[ "$output" = '{"answers[]":[]}' ] && [ "$stderr" = "" ] || fail_with "empty array"
}

@test "evproject -g P[] makes each element a group, duplicates kept; missing, non-array and empty go to the null group" {
	run_split evproject -g 'answers[]' -a count -a 'distinct:uid' "$DNS"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	# C3 answers 192.0.2.2 twice: counted twice in that group
	[ "$output" = '{"answers[]":"192.0.2.1","count":2,"distinct_uid":2}
{"answers[]":"192.0.2.2","count":3,"distinct_uid":2}
{"answers[]":null,"count":3,"distinct_uid":3}' ] || fail_with "output"
}

@test "evproject -g: [] columns multiply with each other, in order, the last column fastest" {
	printf '%s\n' '{"a":["x","y"],"b":[1,2],"k":"K"}' >"$BATS_TEST_TMPDIR/m.ndjson"
	run_split evproject -g 'a[],k,b[]' "$BATS_TEST_TMPDIR/m.ndjson"
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = '{"a[]":"x","k":"K","b[]":1,"count":1}
{"a[]":"x","k":"K","b[]":2,"count":1}
{"a[]":"y","k":"K","b[]":1,"count":1}
{"a[]":"y","k":"K","b[]":2,"count":1}' ] || fail_with "output"
}

@test "evproject -a over P[] takes every element: distinct, sum, collect, first and last" {
	run_split evproject -g id.orig_h -a 'distinct:answers[]' -a 'sum:TTLs[]' -a 'collect:answers[]' -a 'first:answers[]' -a 'last:answers[]' "$DNS"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"id.orig_h":"10.0.0.5","distinct_answers":2,"sum_TTLs":125,"collect_answers":["192.0.2.1","192.0.2.2"],"first_answers":"192.0.2.1","last_answers":"192.0.2.2"}
{"id.orig_h":"10.0.0.7","distinct_answers":2,"sum_TTLs":90,"collect_answers":["192.0.2.2","192.0.2.1","192.0.2.2"],"first_answers":"192.0.2.2","last_answers":"192.0.2.2"}' ] ||
		fail_with "output"
	run_split evproject -g payload.customer -a 'sum:payload.items[].qty' -a 'skus=distinct:payload.items[].sku' "$ORD"
	[ "$output" = '{"payload.customer":"c1","sum_payload_items_qty":5,"skus":3}
{"payload.customer":"c2","sum_payload_items_qty":3,"skus":1}
{"payload.customer":null,"sum_payload_items_qty":null,"skus":0}' ] || fail_with "items"
}

@test "evproject with [] in -g and -a: --partial and --merge give the rows of one run" {
	head -n 2 "$DNS" >"$BATS_TEST_TMPDIR/s1.ndjson"
	tail -n +3 "$DNS" >"$BATS_TEST_TMPDIR/s2.ndjson"
	local opts=(-g 'answers[]' -a 'distinct:id.orig_h' -a 'collect:TTLs[]' -a 'p50:TTLs[]' -a 'min:ts')
	run evproject "${opts[@]}" "$DNS"
	local whole=$output
	{
		evproject --partial "${opts[@]}" "$BATS_TEST_TMPDIR/s1.ndjson"
		evproject --partial "${opts[@]}" "$BATS_TEST_TMPDIR/s2.ndjson"
	} >"$BATS_TEST_TMPDIR/parts.ndjson"
	run_split evproject --merge "${opts[@]}" "$BATS_TEST_TMPDIR/parts.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = "$whole" ] || fail_with "merge differs from: $whole"
}

@test "evproject warns about a -g or -a path with [] that matched no event" {
	run_split evproject -g 'answerz[]' -a 'sum:TTLz[]' "$DNS"
	[ "$status" -eq 0 ] && [ "$output" = '{"answerz[]":null,"sum_TTLz":null}' ] || fail_with "output"
	[ "$stderr" = "evproject: warning: path 'answerz[]' (-g) matched no event
evproject: warning: path 'TTLz[]' (-a) matched no event" ] || fail_with "stderr"
}

@test "[] is a usage error in single-value options and in expressions, with where it belongs" {
	local msg="bad path 'k[]': '[]' (every element) is for -s, -g and -a; this option takes one value"
	run_split evquery --key-field 'k[]' "$DNS"
	[ "$status" -eq 2 ] && [ "$output" = "" ] && [ "${stderr%%$'\n'*}" = "evquery: --key-field: $msg" ] || fail_with "--key-field"
	run_split evproject --type-field 'k[]' "$DNS"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evproject: --type-field: $msg" ] || fail_with "--type-field"
	run_split evjoin --on 'k[]' "$DNS" "$DNS"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evjoin: --on: $msg" ] || fail_with "--on"
	run_split evdlq dequeue --now 2026-12-01 --queue 'k[]' "$DNS"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evdlq: --queue: $msg" ] || fail_with "--queue"
	run_split evcep -p 'x: A -> B within 1m by k[]' "$DNS"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evcep: -p: column 24: '[]' is not allowed in 'by' (one value per event)" ] || fail_with "by"
	run_split evquery -w 'answers[] == "x"' "$DNS"
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "-w"
	run_split evquery -s '[]' "$DNS"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: -s: bad path '[]': '[]' must follow a segment (answers[])" ] || fail_with "leading []"
	run_split evproject -g 'a["x' "$DNS"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evproject: -g: bad path 'a[\"x': expected [\"name\"], [index] or []" ] || fail_with "unterminated"
	run_split evproject -g 'a[]x' "$DNS"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evproject: -g: bad path 'a[]x': expected '.' or '[' after ']'" ] || fail_with "after []"
}

# ---- computed and conditional aggregations -----------------------------------

@test "evproject -a NAME=KIND:(EXPR) aggregates an expression's value; count:(EXPR) counts where it is true" {
	run_split evproject -g payload.customer -a 'revenue=sum:(payload.items[0].qty * payload.items[0].price)' \
		-a 'big=count:(len(payload.items) > 1)' -a 'top=max:(payload.items[0].price)' -w '@type == "OrderPlaced"' "$ORD"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"payload.customer":"c1","revenue":3.1,"big":2,"top":1.5}
{"payload.customer":"c2","revenue":4.5,"big":0,"top":1.5}' ] || fail_with "output"
	run_split evproject -a 'nx=count:(rcode_name == "NXDOMAIN")' -a 'hosts=distinct:(lower(query))' -a count "$DNS"
	[ "$output" = '{"nx":2,"hosts":4,"count":5}' ] || fail_with "nx"
}

@test "evproject -a: a computed aggregation needs NAME=, count:PATH and unknown kinds are usage errors" {
	run_split evproject -a 'sum:(payload.total * 2)' "$ORD"
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "status"
	[ "${stderr%%$'\n'*}" = "evproject: -a: a computed aggregation needs a name: NAME=sum:(payload.total * 2)" ] || fail_with "unnamed"
	run_split evproject -a 'count:rcode_name' "$DNS"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evproject: -a: count takes no path (count:(EXPR) counts events where EXPR is true): 'count:rcode_name'" ] || fail_with "count:PATH"
	run_split evproject -a 'p100:TTLs[]' "$DNS"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evproject: -a: unknown aggregation 'p100' in 'p100:TTLs[]' (count, sum, avg, min, max, first, last, distinct, collect, stddev, p1 ... p99, median)" ] || fail_with "p100"
	run_split evproject -a 'x=sum:(payload.total *)' "$ORD"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evproject: -a: column 17: expected a value, found ')'" ] || fail_with "bad expr"
}

@test "evproject -a expressions have their paths watched" {
	run_split evproject -a 'x=sum:(payload.totl * 2)' "$ORD"
	[ "$status" -eq 0 ] && [ "$output" = '{"x":null}' ] || fail_with "output"
	[ "$stderr" = "evproject: warning: path 'payload.totl' (-a) matched no event" ] || fail_with "stderr"
}

@test "a computed aggregation, group key or column whose evaluation fails rejects the event, as -w does" {
	limit_fixture
	local f=$BATS_TEST_TMPDIR/lim.ndjson
	local why="$f:2: %s: column 12: regular expression: match limit exceeded on a string of 39 bytes"
	run_split evproject -a 'm=count:(payload.s =~ "(a|aa)+$")' -a count "$f"
	[ "$status" -eq 3 ] && [ "$output" = '{"m":1,"count":2}' ] || fail_with "count:(EXPR)"
	[ "$stderr" = "evproject: $(printf "$why" -a)" ] || fail_with "count:(EXPR) stderr"
	run_split evproject -a 'm=collect:(payload.s =~ "(a|aa)+$")' "$f"
	[ "$status" -eq 3 ] && [ "$output" = '{"m":[true,false]}' ] || fail_with "collect:(EXPR)"
	[ "$stderr" = "evproject: $(printf "$why" -a)" ] || fail_with "collect stderr"
	run_split evproject -g 'm=(payload.s =~ "(a|aa)+$")' "$f"
	[ "$status" -eq 3 ] && [ "$output" = '{"m":true,"count":1}
{"m":false,"count":1}' ] || fail_with "-g"
	[ "$stderr" = "evproject: $(printf "$why" -g)" ] || fail_with "-g stderr"
	run_split evquery -s 't=@type,m=(payload.s =~ "(a|aa)+$")' "$f"
	[ "$status" -eq 3 ] && [ "$output" = '{"t":"X","m":true}
{"t":"X","m":false}' ] || fail_with "-s"
	[ "$stderr" = "evquery: $(printf "$why" -s)" ] || fail_with "-s stderr"
	run_split evquery --tail 1 -c -s 'm=(payload.s =~ "(a|aa)+$")' "$f"
	[ "$status" -eq 0 ] && [ "$output" = 1 ] && [ "$stderr" = "" ] || fail_with "-c computes no column"
}

# ---- times, percentiles --------------------------------------------------------

@test "evproject min and max of @time, of the time field and of RFC 3339 strings give RFC 3339 times" {
	run_split evproject -g id.orig_h -a 'min:@time' -a 'max:@time' -a 'first=min:ts' -a 'last=max:ts' --time-field ts "$DNS"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"id.orig_h":"10.0.0.5","min_ts":"2026-11-20T10:00:00.000000Z","max_ts":"2026-11-20T10:02:00.000000Z","first":"2026-11-20T10:00:00.000000Z","last":"2026-11-20T10:02:00.000000Z"}
{"id.orig_h":"10.0.0.7","min_ts":"2026-11-20T09:59:00.000000Z","max_ts":"2026-11-20T10:01:00.000000Z","first":"2026-11-20T09:59:00.000000Z","last":"2026-11-20T10:01:00.000000Z"}' ] ||
		fail_with "output"
	# offsets are read as instants; the result is UTC
	printf '%s\n' '{"at":"2026-11-01T10:30:00+01:00"}' '{"at":"2026-11-01T09:45:00Z"}' '{"at":"2026-11-01"}' >"$BATS_TEST_TMPDIR/t.ndjson"
	run_split evproject -a min:at -a max:at "$BATS_TEST_TMPDIR/t.ndjson"
	[ "$output" = '{"min_at":"2026-11-01T00:00:00.000000Z","max_at":"2026-11-01T09:45:00.000000Z"}' ] || fail_with "offsets"
}

@test "evproject min:timestamp reads epoch numbers by the time rules, as min:@time" {
	printf '%s\n' '{"timestamp":"2026-11-01T10:00:00Z"}' '{"timestamp":1793520000}' '{"timestamp":"2026-11-01T09:00:00Z"}' >"$BATS_TEST_TMPDIR/e.ndjson"
	run_split evproject -a min:timestamp -a max:timestamp "$BATS_TEST_TMPDIR/e.ndjson"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"min_timestamp":"2026-11-01T08:00:00.000000Z","max_timestamp":"2026-11-01T10:00:00.000000Z"}' ] || fail_with "output"
}

@test "evproject min over numbers and time strings: numbers win, the times are counted as skipped" {
	printf '%s\n' '{"g":1,"v":"2026-11-01T10:00:00Z"}' '{"g":1,"v":5}' '{"g":2,"v":"2026-11-01T10:00:00Z"}' '{"g":1,"v":"2026-11-01T09:00:00Z"}' '{"g":2,"v":"n/a"}' >"$BATS_TEST_TMPDIR/mix.ndjson"
	run_split evproject -g g -a min:v "$BATS_TEST_TMPDIR/mix.ndjson"
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = '{"g":1,"min_v":5}
{"g":2,"min_v":"2026-11-01T10:00:00.000000Z"}' ] || fail_with "output"
	[ "$stderr" = "evproject: 3 non-numeric values skipped (min:v)" ] || fail_with "stderr"
}

@test "evproject takes any percentile pN from p1 to p99, and median as p50" {
	printf '%s\n' 1 2 3 4 5 6 7 8 9 10 | sed 's/.*/{"v":&}/' >"$BATS_TEST_TMPDIR/p.ndjson"
	run_split evproject -a p1:v -a p25:v -a median:v -a p50:v -a p95:v -a p99:v "$BATS_TEST_TMPDIR/p.ndjson"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"p1_v":1,"p25_v":3,"median_v":5,"p50_v":5,"p95_v":10,"p99_v":10}' ] || fail_with "output"
}

@test "agg: pN and median through lib/agg; partial states of times merge exactly" {
	run_split "$EVUNIT/agg_test" <<'EOF_IN'
spec p95:x
v 1
v 2
v 3
result
spec median:x
v 5
v 1
v 3
v 2
result
partial
spec min:x
v "2026-11-01T10:00:00+01:00"
v "2026-11-01T08:30:00Z"
v "n/a"
result
partial
nonnumeric
state 1
v "2026-11-01T08:00:00Z"
v 7
v "2026-11-01T07:00:00Z"
result
nonnumeric
partial
state 0
merge 1
result
state 2
mergepartial {"t":1793520000000000,"tn":1}
result
mergepartial {"t":"x","tn":1}
spec p07:x
spec x=count:(a > 1)
EOF_IN
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = 'ok p95_x
3
ok median_x
2
{"v":[1,2,3,5]}
ok min_x
"2026-11-01T08:30:00.000000Z"
{"t":1793521800000000,"tn":2}
1
7
3
{"v":7,"x":4,"t":1793520000000000,"tn":1}
7
ok
"2026-11-01T08:00:00.000000Z"
error: min_x: bad min state
error: unknown aggregation '"'"'p07'"'"' in '"'"'p07:x'"'"' (count, sum, avg, min, max, first, last, distinct, collect, stddev, p1 ... p99, median)
ok x' ] || fail_with "output"
}

# ---- column names ------------------------------------------------------------------

@test "column names follow one rule in -s, -g and -a: mapped names, date hour seq line, KIND_ names" {
	local f=$FIX/evproject/orders.ndjson
	run_split evproject -g '@date' -a 'min:@time' -a 'max:@seq' -a 'distinct:@hour' -a 'max:@line' -a 'first:@key' -a 'median:payload["total"]' --key-field aggregate_id "$f"
	[ "$status" -eq 0 ] || fail_with "status"
	[ "${lines[0]}" = '{"date":"2026-11-01","min_timestamp":"2026-11-01T10:00:00.000000Z","max_seq":4,"distinct_hour":3,"max_line":4,"first_aggregate_id":"order-1","median_payload_total":35}' ] ||
		fail_with "evproject"
	run_split evproject -g '@seq,@line,@id,@version' -a count "$f"
	[ "${lines[0]}" = '{"seq":1,"line":1,"event_id":"e1","version":1,"count":1}' ] || fail_with "-g names"
	run_split evproject -a 'x=min:@time' -a 'y=count' --time-field timestamp "$f"
	[ "$output" = '{"x":"2026-11-01T10:00:00.000000Z","y":10}' ] || fail_with "NAME= wins"
	run_split evquery -n 1 -s '@seq,@line,@date,@hour,@time,@key' --tz Europe/Paris "$f"
	[ "$output" = '{"seq":1,"line":1,"date":"2026-11-01","hour":"2026-11-01T11","timestamp":"2026-11-01T10:00:00.000000Z","aggregate_id":"order-1"}' ] ||
		fail_with "evquery"
	run_split evquery -s '(len(@type))' "$f"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: -s: a computed column needs a name: NAME=(len(@type))" ] || fail_with "unnamed"
	run_split evproject -g 'date=@type' -a 'date=count' "$f"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evproject: column name 'date' used twice (name an aggregation with NAME=AGG)" ] || fail_with "dup"
}

# ---- value counts --------------------------------------------------------------------

@test "evproject -p stats: the string \"1\" and the number 1 are different keys of event_types" {
	printf '%s\n' '{"event_type":"1"}' '{"event_type":1}' '{"event_type":"null"}' '{"event_type":null}' '{"event_type":"[1]"}' '{"event_type":[1]}' '{"event_type":"Login"}' '{"event_type":"1"}' >"$BATS_TEST_TMPDIR/v.ndjson"
	run_split evproject -p stats "$BATS_TEST_TMPDIR/v.ndjson"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"total_events":8,"event_types":{"\"1\"":2,"1":1,"\"null\"":1,"null":1,"\"[1]\"":1,"[1]":1,"Login":1},"aggregates_affected":0,"first_at":null,"last_at":null}' ] ||
		fail_with "output"
	# the object has no duplicate key: jq reads every count back
	command -v jq >/dev/null || fail_with "jq is needed"
	run jq -c '.event_types | length' <<<"$output"
	[ "$output" = 7 ] || fail_with "jq"
}

@test "the man page examples over dns.ndjson (tests/fixtures/forensics) print what the pages say" {
	local n=0
	for page in evproject.1 evquery.1; do
		awk -v dir="$BATS_TEST_TMPDIR" -v tag="${page%.1}" '
			function flush() {
				if (cmd ~ /dns\.ndjson/) {
					n++
					printf "%s\n", cmd > (dir "/" tag n ".cmd"); close(dir "/" tag n ".cmd")
					printf "%s", out > (dir "/" tag n ".out"); close(dir "/" tag n ".out")
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
		' "$BATS_TEST_DIRNAME/../man/$page"
	done
	cd "$FIX/forensics"
	for cmdf in "$BATS_TEST_TMPDIR"/*.cmd; do
		n=$((n + 1))
		run_split sh -c "$(cat "$cmdf")"
		[ "$status" -eq 0 ] && [ "$output" = "$(cat "${cmdf%.cmd}.out")" ] || fail_with "$(cat "$cmdf")"
	done
	[ "$n" -eq 2 ] || fail_with "found $n examples"
}

@test "evproject -g P[] with session windows: an event late for one of its groups goes to --late once, and counts in the others" {
	printf '%s\n' '{"t":0,"g":["a"]}' '{"t":40,"g":["b"]}' '{"t":100,"g":["c"]}' '{"t":20,"g":["a","b"]}' >"$BATS_TEST_TMPDIR/sl.ndjson"
	run_split sh -c "cat '$BATS_TEST_TMPDIR/sl.ndjson' | evproject -g 'g[]' --time-field t --window session:30s --lateness 50s --late '$BATS_TEST_TMPDIR/late.ndjson'"
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = '{"g[]":"a","window_start":"1970-01-01T00:00:00.000000Z","window_end":"1970-01-01T00:00:30.000000Z","count":1}
{"g[]":"b","window_start":"1970-01-01T00:00:20.000000Z","window_end":"1970-01-01T00:01:10.000000Z","count":2}
{"g[]":"c","window_start":"1970-01-01T00:01:40.000000Z","window_end":"1970-01-01T00:02:10.000000Z","count":1}' ] || fail_with "output"
	[ "$(cat "$BATS_TEST_TMPDIR/late.ndjson")" = '{"t":20,"g":["a","b"]}' ] || fail_with "late file"
}
