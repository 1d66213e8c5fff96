#!/usr/bin/env bats
# evjoin: interval joins of two streams merged by event time, join kinds,
# output forms, --lookup, late events, rejections, memory.

load helper

FJ="$BATS_TEST_DIRNAME/fixtures/evjoin"

# e ID KEY TIME: one event; KEY is JSON text ('"a"', 42, null), TIME the
# part after 2026-11-01T (seconds precision or more).
e() { printf '{"id":"%s","k":%s,"timestamp":"2026-11-01T%sZ"}\n' "$1" "$2" "$3"; }
# the pair record of two such events
pair() { printf '{"join_key":%s,"left":%s,"right":%s}' "$1" "$2" "$3"; }

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# ---- the ksqlDB / Kafka Streams example ----------------------------------
# The stream-stream join example of the "Kafka Streams Join Semantics"
# page of the Apache Kafka wiki (Kafka Streams is the engine under
# ksqlDB's stream-stream joins): one key, every record inside one window.  LEFT: 3:A
# 5:B 9:C 15:D; RIGHT: 4:a 6:b 10:c 14:d (the null-value records of the
# example are left out: Kafka drops them before joining).  Documented
# result, in processing order: 4 [A,a]; 5 [B,a]; 6 [A,b] [B,b]; 9 [C,a]
# [C,b]; 10 [A,c] [B,c] [C,c]; 14 [A,d] [B,d] [C,d]; 15 [D,a] [D,b] [D,c]
# [D,d].  Its LEFT and OUTER columns add an eager [A,null] at 3, which
# evjoin (like Kafka Streams since 3.1) does not emit: A finds a partner
# inside the window, so it is not unmatched.

ksql_rows() {
	local L R
	while read -r l r; do
		L=$(grep "\"value\":\"$l\"" "$FJ/ksql-left.ndjson")
		R=$(grep "\"value\":\"$r\"" "$FJ/ksql-right.ndjson")
		pair '"k"' "$L" "$R"
		echo
	done <<-EOF
		A a
		B a
		A b
		B b
		C a
		C b
		A c
		B c
		C c
		A d
		B d
		C d
		D a
		D b
		D c
		D d
	EOF
}

@test "evjoin gives the documented Kafka Streams (ksqlDB) stream-stream INNER join rows in processing order" {
	run_split evjoin --on key "$FJ/ksql-left.ndjson" "$FJ/ksql-right.ndjson"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "$output" = "$(ksql_rows)" ] || fail_with "got"
	[ "${#lines[@]}" -eq 16 ]
}

@test "evjoin LEFT and OUTER joins of the Kafka Streams example equal INNER when every record finds a partner" {
	for k in left outer right; do
		run_split evjoin --on key --kind $k "$FJ/ksql-left.ndjson" "$FJ/ksql-right.ndjson"
		[ "$status" -eq 0 ] && [ "$output" = "$(ksql_rows)" ] || fail_with "--kind $k"
	done
}

@test "evjoin on the Kafka Streams example with a window narrower than any gap keeps unmatched rows by deadline, left first" {
	A=$(sed -n 1p "$FJ/ksql-left.ndjson") B=$(sed -n 2p "$FJ/ksql-left.ndjson")
	C=$(sed -n 3p "$FJ/ksql-left.ndjson") D=$(sed -n 4p "$FJ/ksql-left.ndjson")
	a=$(sed -n 1p "$FJ/ksql-right.ndjson") b=$(sed -n 2p "$FJ/ksql-right.ndjson")
	c=$(sed -n 3p "$FJ/ksql-right.ndjson") d=$(sed -n 4p "$FJ/ksql-right.ndjson")
	run_split evjoin --on key --within 500ms --kind inner "$FJ/ksql-left.ndjson" "$FJ/ksql-right.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = "" ] || fail_with "inner"
	run_split evjoin --on key --within 500ms --kind left "$FJ/ksql-left.ndjson" "$FJ/ksql-right.ndjson"
	[ "$output" = "$(pair '"k"' "$A" null; echo; pair '"k"' "$B" null; echo; pair '"k"' "$C" null; echo; pair '"k"' "$D" null)" ] || fail_with "left"
	run_split evjoin --on key --within 500ms --kind outer "$FJ/ksql-left.ndjson" "$FJ/ksql-right.ndjson"
	[ "$output" = "$(pair '"k"' "$A" null; echo; pair '"k"' null "$a"; echo; pair '"k"' "$B" null; echo
		pair '"k"' null "$b"; echo; pair '"k"' "$C" null; echo; pair '"k"' null "$c"; echo
		pair '"k"' null "$d"; echo; pair '"k"' "$D" null)" ] || fail_with "outer"
	run_split evjoin --on key --within 500ms --kind right "$FJ/ksql-left.ndjson" "$FJ/ksql-right.ndjson"
	[ "$output" = "$(pair '"k"' null "$a"; echo; pair '"k"' null "$b"; echo; pair '"k"' null "$c"; echo; pair '"k"' null "$d")" ] || fail_with "right"
}

# The same page's table for the improved left/outer join (Kafka Streams
# 3.1 and later), with a window of 10 and more records: LEFT adds 30:E
# 45:F 75:G, RIGHT 60:f.  Documented rows: as above but without [A,d]
# and [D,a] (11 apart); 45 [E,null] (left, outer); 60 [F,null] (left,
# outer); 75 [null,f] (outer).  [G,null] is not in the table (it comes
# later there); evjoin writes it at the end of input.
kstreams_rows() { # KIND
	local l r L R
	while read -r l r; do
		case $1:$l:$r in inner:*:-|inner:-:*|left:-:*) continue ;; esac
		L=null R=null
		[ "$l" = - ] || L=$(grep "\"value\":\"$l\"" "$FJ/kstreams-left.ndjson")
		[ "$r" = - ] || R=$(grep "\"value\":\"$r\"" "$FJ/kstreams-right.ndjson")
		pair '"k"' "$L" "$R"
		echo
	done <<-EOF
		A a
		B a
		A b
		B b
		C a
		C b
		A c
		B c
		C c
		B d
		C d
		D b
		D c
		D d
		E -
		F -
		- f
		G -
	EOF
}

@test "evjoin gives the documented Kafka Streams 3.1 stream-stream rows with a 10 s window: inner, left and outer" {
	for k in inner left outer; do
		run_split evjoin --on key --within 10s --kind $k "$FJ/kstreams-left.ndjson" "$FJ/kstreams-right.ndjson"
		[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "--kind $k status"
		[ "$output" = "$(kstreams_rows $k)" ] || fail_with "--kind $k"
	done
	[ "$(kstreams_rows outer | wc -l)" -eq 18 ]
}

# ---- the window ------------------------------------------------------------

@test "evjoin --within is inclusive: exactly within apart joins, one microsecond more does not" {
	e L1 '"a"' 10:00:00 > l
	e R1 '"a"' 10:01:00 > r
	e R2 '"a"' 10:01:00.000001 > r2
	run_split evjoin --on k l r
	[ "$status" -eq 0 ]
	[ "$output" = "$(pair '"a"' "$(cat l)" "$(cat r)")" ] || fail_with "60s apart"
	run_split evjoin --on k l r2
	[ "$status" -eq 0 ] && [ "$output" = "" ] || fail_with "60.000001s apart"
	run_split evjoin --on k --within 60000001us l r2
	[ "$output" = "$(pair '"a"' "$(cat l)" "$(cat r2)")" ] || fail_with "--within 60000001us"
	# and the other way round: the right event first
	run_split evjoin --on k r l
	[ "$output" = "$(pair '"a"' "$(cat r)" "$(cat l)")" ] || fail_with "right first"
	run_split evjoin --on k r2 l
	[ "$output" = "" ] || fail_with "right first, 1us more"
}

@test "evjoin pairs events 10 s apart across a minute boundary, once" {
	{ e L1 '"a"' 10:00:55; e L2 '"b"' 10:00:20; } | sort -t'"' -k12 > l
	{ e R1 '"a"' 10:01:05; e R2 '"b"' 10:00:30; } | sort -t'"' -k12 > r
	run_split evjoin --on k --within 10s l r
	[ "$status" -eq 0 ]
	[ "$output" = "$(pair '"b"' "$(e L2 '"b"' 10:00:20)" "$(e R2 '"b"' 10:00:30)"; echo
		pair '"a"' "$(e L1 '"a"' 10:00:55)" "$(e R1 '"a"' 10:01:05)")" ] || fail_with "got"
}

@test "evjoin never joins different keys, nor \"42\" with 42, nor null with null" {
	{ e L1 '"a"' 10:00:00; e L2 42 10:00:01; e L3 null 10:00:02; echo '{"id":"L4","timestamp":"2026-11-01T10:00:03Z"}'; } > l
	{ e R1 '"b"' 10:00:00; e R2 '"42"' 10:00:01; e R3 null 10:00:02; echo '{"id":"R4","timestamp":"2026-11-01T10:00:03Z"}'; } > r
	run_split evjoin --on k l r
	[ "$status" -eq 0 ] && [ "$output" = "" ] && [ "$stderr" = "" ] || fail_with "inner"
	run_split evjoin --on k -e l r
	[ "$status" -eq 1 ] && [ "$output" = "" ] || fail_with "-e"
	# outer: every event once, unmatched, null and missing keys as null
	run_split evjoin --on k --kind outer l r
	[ "$status" -eq 0 ]
	[ "$output" = "$(pair '"a"' "$(sed -n 1p l)" null; echo; pair '"b"' null "$(sed -n 1p r)"; echo
		pair 42 "$(sed -n 2p l)" null; echo; pair '"42"' null "$(sed -n 2p r)"; echo
		pair null "$(sed -n 3p l)" null; echo; pair null null "$(sed -n 3p r)"; echo
		pair null "$(sed -n 4p l)" null; echo; pair null null "$(sed -n 4p r)")" ] || fail_with "outer"
}

@test "evjoin compares keys as JSON values: an escaped string joins its plain form, 1.0 is not 1" {
	{ e L1 1.0 10:00:00; e L2 '"\u0061"' 10:00:01; } > l
	{ e R1 1 10:00:00; e R2 '"a"' 10:00:01; } > r
	run_split evjoin --on k l r
	[ "$status" -eq 0 ]
	[ "$output" = "$(pair '"\u0061"' "$(sed -n 2p l)" "$(sed -n 2p r)")" ] || fail_with "got"
}

@test "evjoin 3 left x 4 right events of one key inside the window give 12 pairs, each once, partners in arrival order" {
	for i in 1 2 3; do e L$i '"x"' 10:00:0$i; done > l
	for i in 1 2 3 4; do e R$i '"x"' 10:00:0$((i + 4)); done > r
	run_split evjoin --on k l r
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 12 ]
	exp=$(for j in 1 2 3 4; do for i in 1 2 3; do pair '"x"' "$(sed -n ${i}p l)" "$(sed -n ${j}p r)"; echo; done; done)
	[ "$output" = "$exp" ] || fail_with "got"
	[ "$(printf '%s\n' "$output" | sort -u | wc -l)" -eq 12 ]
}

@test "evjoin emits a pair when its second event comes, the later time deciding, left first at equal times" {
	{ e L1 '"a"' 10:00:00; e L2 '"b"' 10:00:05; } > l
	{ e R1 '"b"' 10:00:02; e R2 '"a"' 10:00:05; } > r
	run_split evjoin --on k l r
	# at 10:00:05 L2 comes before R2 (left first): (L2,R1), then (L1,R2)
	[ "$output" = "$(pair '"b"' "$(sed -n 2p l)" "$(sed -n 1p r)"; echo; pair '"a"' "$(sed -n 1p l)" "$(sed -n 2p r)")" ] || fail_with "got"
}

@test "evjoin writes an unmatched row once the watermark passes time + within, before the records of the event that moved it" {
	{ e L1 '"a"' 10:00:00; e L2 '"b"' 10:02:00; } > l
	e R1 '"b"' 10:02:00 > r
	run_split evjoin --on k --kind left l r
	[ "$status" -eq 0 ]
	[ "$output" = "$(pair '"a"' "$(sed -n 1p l)" null; echo; pair '"b"' "$(sed -n 2p l)" "$(cat r)")" ] || fail_with "got"
	# a right event exactly at the deadline still joins
	e R0 '"a"' 10:01:00 > r0
	run_split evjoin --on k --kind left l r0
	[ "$output" = "$(pair '"a"' "$(sed -n 1p l)" "$(cat r0)"; echo; pair '"b"' "$(sed -n 2p l)" null)" ] || fail_with "deadline"
}

# ---- operands --------------------------------------------------------------

@test "evjoin reads standard input as either side, and refuses it as both" {
	e L1 '"a"' 10:00:00 > l
	e R1 '"a"' 10:00:30 > r
	exp=$(pair '"a"' "$(cat l)" "$(cat r)")
	run_split sh -c "evjoin --on k - r < l"
	[ "$status" -eq 0 ] && [ "$output" = "$exp" ] || fail_with "left stdin"
	run_split sh -c "cat r | evjoin --on k l -"
	[ "$status" -eq 0 ] && [ "$output" = "$exp" ] || fail_with "right stdin"
	run_split sh -c "evjoin --on k - - < l"
	[ "$status" -eq 2 ] && [ "$output" = "" ]
	[ "${stderr%%$'\n'*}" = "evjoin: only one of LEFT and RIGHT can be standard input" ] || fail_with "stderr"
}

@test "evjoin with an empty side: inner gives nothing, -e exits 1, left keeps every left event" {
	{ e L1 '"a"' 10:00:00; e L2 '"b"' 10:00:01; } > l
	: > r
	run_split evjoin --on k l r
	[ "$status" -eq 0 ] && [ "$output" = "" ] && [ "$stderr" = "" ] || fail_with "inner"
	run_split evjoin --on k -e l r
	[ "$status" -eq 1 ] && [ "$output" = "" ] || fail_with "-e"
	run_split evjoin --on k --kind left l r
	[ "$output" = "$(pair '"a"' "$(sed -n 1p l)" null; echo; pair '"b"' "$(sed -n 2p l)" null)" ] || fail_with "left"
	run_split evjoin --on k --kind right r l
	[ "$output" = "$(pair '"a"' null "$(sed -n 1p l)"; echo; pair '"b"' null "$(sed -n 2p l)")" ] || fail_with "right"
}

@test "evjoin needs two operands and both must open before any output" {
	e L1 '"a"' 10:00:00 > l
	run_split evjoin --on k l
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evjoin: needs two operands, LEFT and RIGHT" ] || fail_with "one operand"
	run_split evjoin --on k --kind left --late late.ndjson l missing.ndjson
	[ "$status" -eq 2 ] && [ "$output" = "" ]
	[ "$stderr" = "evjoin: missing.ndjson: No such file or directory" ] || fail_with "stderr"
	[ ! -e late.ndjson ] || fail_with "--late file created"
}

# ---- late events and the merge ------------------------------------------------

@test "evjoin reports an event out of time order in its input as late, joins it with nothing, status 3" {
	{ e L1 '"a"' 10:00:10; e L2 '"a"' 10:00:00; } > l
	e R1 '"a"' 10:00:05 > r
	run_split evjoin --on k l r
	[ "$status" -eq 3 ]
	[ "$output" = "$(pair '"a"' "$(sed -n 1p l)" "$(cat r)")" ] || fail_with "output"
	[ "$stderr" = "evjoin: 1 late event joined nothing; use --lateness DUR or --late FILE" ] || fail_with "stderr"
}

@test "evjoin --late FILE keeps late events byte for byte (status 0); --lateness lets them join" {
	{ e L1 '"a"' 10:00:10; e L2 '"a"' '10:00:00.0'; } > l
	e R1 '"a"' 10:00:05 > r
	run_split evjoin --on k --late late.ndjson l r
	[ "$status" -eq 0 ]
	[ "$stderr" = "evjoin: 1 late event joined nothing (written to late.ndjson)" ] || fail_with "stderr"
	[ "$(cat late.ndjson)" = "$(sed -n 2p l)" ] || fail_with "late file"
	run_split evjoin --on k --lateness 10s l r
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "--lateness"
	# merged by time: L2 (10:00:00) is put back before R1 (10:00:05)
	[ "$output" = "$(pair '"a"' "$(sed -n 2p l)" "$(cat r)"; echo; pair '"a"' "$(sed -n 1p l)" "$(cat r)")" ] || fail_with "got"
	run_split evjoin --on k --lateness inf l r
	[ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 2 ] || fail_with "inf"
	run_split evjoin --on k --lateness soon l r
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evjoin: --lateness: expected a duration or inf, not 'soon'" ] || fail_with "bad lateness"
}

# ---- rejections and the common options -------------------------------------------

@test "evjoin rejects bad lines and events without a time with their file and line, and goes on" {
	{ e L1 '"a"' 10:00:00; echo 'not json'; echo '{"id":"L3","k":"a"}'; echo '{"id":"L4","k":"a","timestamp":"soon"}'; } > l
	e R1 '"a"' 10:00:30 > r
	run_split evjoin --on k --errors err.ndjson l r
	[ "$status" -eq 3 ]
	[ "$output" = "$(pair '"a"' "$(sed -n 1p l)" "$(cat r)")" ] || fail_with "output"
	[ "$stderr" = "evjoin: l:2: invalid JSON: unexpected 'n', expected a value at column 1
evjoin: l:3: missing time field 'timestamp'
evjoin: l:4: unparsable time \"soon\" in 'timestamp'" ] || fail_with "stderr"
	[ "$(sed -n 2p err.ndjson)" = '{"file":"l","line":3,"error":"missing time field '"'"'timestamp'"'"'","raw":"{\"id\":\"L3\",\"k\":\"a\"}"}' ] || fail_with "errors file"
	[ "$(wc -l < err.ndjson)" -eq 3 ]
}

@test "evjoin --strict stops at the first rejected line" {
	{ e L1 '"a"' 10:00:00; echo 'not json'; e L3 '"a"' 10:00:02; } > l
	e R1 '"a"' 10:00:30 > r
	run_split evjoin --on k --strict l r
	[ "$status" -eq 3 ]
	[ "$stderr" = "evjoin: l:2: invalid JSON: unexpected 'n', expected a value at column 1" ] || fail_with "stderr"
	[ "$output" = "" ] || fail_with "output"
}

@test "evjoin reads the key field by default and follows the field mapping" {
	printf '%s\n' '{"aggregate_id":"o1","timestamp":"2026-11-01T10:00:00Z"}' > l
	printf '%s\n' '{"aggregate_id":"o1","timestamp":"2026-11-01T10:00:20Z"}' > r
	run_split evjoin l r
	[ "$output" = "$(pair '"o1"' "$(cat l)" "$(cat r)")" ] || fail_with "default key"
	printf '%s\n' '{"ref":{"order":7},"ts":1793527200}' > l2
	printf '%s\n' '{"order_id":7,"ts":1793527230000}' > r2
	run_split evjoin --time-field ts --left-on ref.order --right-on order_id l2 r2
	[ "$status" -eq 0 ]
	[ "$output" = "$(pair 7 "$(cat l2)" "$(cat r2)")" ] || fail_with "mapping"
	run_split env EV_KEY_FIELD=order_id EV_TIME_FIELD=ts evjoin --right-on order_id --left-on /ref/order l2 r2
	[ "$output" = "$(pair 7 "$(cat l2)" "$(cat r2)")" ] || fail_with "env and pointer"
}

@test "evjoin warns about a join path that matched no event, and refuses mixed key options" {
	e L1 '"a"' 10:00:00 > l
	e R1 '"a"' 10:00:30 > r
	run_split evjoin --on payload.nope l r
	[ "$status" -eq 0 ] && [ "$output" = "" ]
	[ "$stderr" = "evjoin: warning: path 'payload.nope' (--on) matched no event" ] || fail_with "warning"
	run_split evjoin --on k --left-on k --right-on k l r
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evjoin: --on and --left-on/--right-on: give one or the other" ] || fail_with "both"
	run_split evjoin --left-on k l r
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evjoin: --left-on needs --right-on too" ] || fail_with "half"
	run_split evjoin --kind full l r
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evjoin: --kind: expected inner, left, right or outer, not 'full'" ] || fail_with "kind"
	run_split evjoin --within soon l r
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evjoin: --within: bad duration 'soon'" ] || fail_with "within"
}

@test "evjoin --progress ends with a summary line on stderr" {
	{ e L1 '"a"' 10:00:00; e L2 '"a"' 10:00:01; } > l
	e R1 '"a"' 10:00:30 > r
	run_split evjoin --on k --progress l r
	[ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 2 ]
	[[ "$stderr" == *"evjoin: 0.0 MB, 3 events, "*" events/s"* ]] || fail_with "progress"
}

@test "evjoin reports a full disk with status 5 and an unwritable --late file with status 2" {
	e L1 '"a"' 10:00:00 > l
	e R1 '"a"' 10:00:30 > r
	run_split sh -c "evjoin --on k l r > /dev/full"
	[ "$status" -eq 5 ]
	[ "$stderr" = "evjoin: write error on standard output: No space left on device" ] || fail_with "full"
	run_split evjoin --on k --late /nonexistent/dir/late.ndjson l r
	[ "$status" -eq 2 ] && [ "$output" = "" ]
	[ "$stderr" = "evjoin: --late /nonexistent/dir/late.ndjson: No such file or directory" ] || fail_with "late"
}

# ---- output forms ---------------------------------------------------------------

@test "evjoin --flat merges each pair into one object, right's clashing fields as right.NAME" {
	printf '%s\n' '{"id":"o1","k":"a", "total":5,"timestamp":"2026-11-01T10:00:00Z"}' > l
	printf '%s\n' '{"id":"p1","k":"a","amount":5.0,"timestamp":"2026-11-01T10:00:09Z","x":{"y":[1, 2]}}' > r
	run_split evjoin --on k --flat l r
	[ "$status" -eq 0 ]
	[ "$output" = '{"id":"o1","k":"a","total":5,"timestamp":"2026-11-01T10:00:00Z","right.id":"p1","right.k":"a","amount":5.0,"right.timestamp":"2026-11-01T10:00:09Z","x":{"y":[1, 2]}}' ] || fail_with "pair"
	run_split evjoin --on k --flat --kind outer --within 1s l r
	[ "$output" = '{"id":"o1","k":"a", "total":5,"timestamp":"2026-11-01T10:00:00Z"}
{"id":"p1","k":"a","amount":5.0,"timestamp":"2026-11-01T10:00:09Z","x":{"y":[1, 2]}}' ] || fail_with "unmatched"
}

@test "evjoin --format tsv, csv, table and json" {
	e L1 '"a"' 10:00:00 > l
	printf '%s\n' '{"id":"R1","k":"a","note":"x,\ty","timestamp":"2026-11-01T10:00:30Z"}' > r
	e L2 '"b"' 10:00:01 >> l
	run_split evjoin --on k --kind left --format tsv l r
	[ "$output" = "join_key	left	right
a	$(sed -n 1p l)	{\"id\":\"R1\",\"k\":\"a\",\"note\":\"x,\\\\ty\",\"timestamp\":\"2026-11-01T10:00:30Z\"}
b	$(sed -n 2p l)	" ] || fail_with "tsv"
	run_split evjoin --on k --format csv l r
	[ "$output" = "join_key,left,right
a,\"{\"\"id\"\":\"\"L1\"\",\"\"k\"\":\"\"a\"\",\"\"timestamp\"\":\"\"2026-11-01T10:00:00Z\"\"}\",\"{\"\"id\"\":\"\"R1\"\",\"\"k\"\":\"\"a\"\",\"\"note\"\":\"\"x,\\ty\"\",\"\"timestamp\"\":\"\"2026-11-01T10:00:30Z\"\"}\"" ] || fail_with "csv"
	run_split evjoin --on k --kind left --format table l l
	L1=$(sed -n 1p l) L2=$(sed -n 2p l)
	w=${#L1}
	[ "$output" = "$(printf "join_key  %-${w}s  right\na         %s  %s\nb         %s  %s" left "$L1" "$L1" "$L2" "$L2")" ] || fail_with "table"
	run_split evjoin --on k --kind left --format json l r
	[ "$output" = "[
$(pair '"a"' "$(sed -n 1p l)" "$(cat r)"),
$(pair '"b"' "$(sed -n 2p l)" null)
]" ] || fail_with "json"
	: > empty
	run_split evjoin --on k --format json l empty
	[ "$status" -eq 0 ] && [ "$output" = "[
]" ] || fail_with "empty json"
	run_split evjoin --on k --flat --format tsv l r
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evjoin: --flat writes objects: use it with --format ndjson or json" ] || fail_with "flat tsv"
}

@test "evjoin writes events byte for byte inside pair records" {
	printf '%s\r\n' '{ "k" : "a", "n": 1.50, "big": 123456789012345678901234567890, "s":"\u00e9\t", "timestamp":"2026-11-01T10:00:00Z" }' > l
	printf '\xef\xbb\xbf%s\n' '{"k":"a","timestamp":1793527201}' > r
	run_split evjoin --on k l r
	[ "$status" -eq 0 ]
	[ "$output" = '{"join_key":"a","left":{ "k" : "a", "n": 1.50, "big": 123456789012345678901234567890, "s":"\u00e9\t", "timestamp":"2026-11-01T10:00:00Z" },"right":{"k":"a","timestamp":1793527201}}' ] || fail_with "got"
}

# ---- --lookup ------------------------------------------------------------------------

@test "evjoin --lookup enriches every LEFT event in input order from a table; the last duplicate row wins, with a warning" {
	printf '%s\n' '{"customer_id":"c1","name":"Ada"}' '{"customer_id":"c2","name":"Bo"}' '{"customer_id":"c1","name":"Ada L."}' '{"name":"nobody"}' > table
	printf '%s\n' '{"id":"o2","c":"c2"}' '{"id":"o1","c":"c1"}' '{"id":"o3","c":"c9"}' '{"id":"o4"}' > left
	run_split evjoin --lookup --left-on c --right-on customer_id left table
	[ "$status" -eq 0 ]
	[ "$output" = '{"join_key":"c2","left":{"id":"o2","c":"c2"},"right":{"customer_id":"c2","name":"Bo"}}
{"join_key":"c1","left":{"id":"o1","c":"c1"},"right":{"customer_id":"c1","name":"Ada L."}}' ] || fail_with "inner"
	[ "$stderr" = "evjoin: table:3: warning: duplicate key \"c1\": this row replaces the one of line 1
evjoin: warning: 1 row of table has no key (customer_id) and never joins" ] || fail_with "stderr"
	run_split evjoin --lookup --kind left --left-on c --right-on customer_id --flat left table
	[ "$output" = '{"id":"o2","c":"c2","customer_id":"c2","name":"Bo"}
{"id":"o1","c":"c1","customer_id":"c1","name":"Ada L."}
{"id":"o3","c":"c9"}
{"id":"o4"}' ] || fail_with "left flat"
	run_split evjoin --lookup -e --left-on c --right-on customer_id left /dev/null
	[ "$status" -eq 1 ] && [ "$output" = "" ] || fail_with "-e"
}

@test "evjoin --lookup refuses a time window, late options and the right and outer kinds" {
	: > a
	for o in "--within 1m" "--kind right" "--kind outer" "--lateness 1s" "--late x"; do
		run_split evjoin --lookup $o a a
		[ "$status" -eq 2 ] || fail_with "$o"
		[ "$output" = "" ]
	done
	run_split evjoin --lookup --within 1m a a
	[ "${stderr%%$'\n'*}" = "evjoin: --within: --lookup joins on the key alone, without time" ] || fail_with "msg"
	run_split evjoin --lookup --kind outer a a
	[ "${stderr%%$'\n'*}" = "evjoin: --kind outer: --lookup keeps LEFT events only (inner or left)" ] || fail_with "msg"
}

# ---- memory and the interface ------------------------------------------------------

# 1,000,000 orders one second apart and a payment 5 s after 90% of them:
# a whole-input join would hold about 150 MB of events.
gen_big() {
	awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "{\"k\":\"o%d\",\"timestamp\":%d,\"pad\":\"%040d\"}\n", i, 1793527200 + i, i }' > big-l
	awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "{\"k\":\"%s%d\",\"timestamp\":%d,\"pad\":\"%040d\"}\n", (i % 10 ? "o" : "x"), i, 1793527205 + i, i }' > big-r
}

@test "evjoin joins 2 x 1,000,000 events with a 10 s window in bounded memory" {
	gen_big
	if nm "$EVBIN/evjoin" 2>/dev/null | grep -q __asan_init; then
		# ASan reserves terabytes of address space: bound the resident size
		run_split sh -c "ASAN_OPTIONS=quarantine_size_mb=0:detect_leaks=1 /usr/bin/time -f %M -o rss evjoin --within 10s --on k big-l big-r | wc -l"
		[ "$(cat rss)" -lt 262144 ] || fail_with "RSS $(cat rss) KiB"
	else
		# a window over the whole input does not fit under the limit
		run_split sh -c "ulimit -v 65536; evjoin --within 2000000s --on k big-l big-r > /dev/null"
		[ "$status" -ne 0 ] || fail_with "a whole-input window fit under the limit: the test proves nothing"
		run_split sh -c "ulimit -v 65536; evjoin --within 10s --on k big-l big-r | wc -l"
	fi
	[ "$status" -eq 0 ] && [ "$output" = 900000 ] || fail_with "count"
}

@test "evjoin --help lists every option and the man page documents each" {
	run evjoin --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: evjoin "* ]]
	for o in --on --left-on --right-on --within --kind --exit-status --flat --format --lookup --lateness --late --errors --strict --time-unit --progress --key-field --time-field; do
		help_has "$o" || fail_with "help lacks $o"
		grep -q -- "^\.It Fl $o\|Fl ${o#--} \|Fl ${o#--}$\|Fl -${o#--}" "$BATS_TEST_DIRNAME/../man/evjoin.1" || fail_with "man lacks $o"
	done
}

@test "evjoin man page is mandoc-lint clean and its examples run as written" {
	run mandoc -Tlint -Wwarning "$BATS_TEST_DIRNAME/../man/evjoin.1"
	[ "$output" = "" ] || fail_with "lint"
	cp "$BATS_TEST_DIRNAME/../examples/orders.ndjson" "$BATS_TEST_DIRNAME/../examples/payments.ndjson" \
		"$BATS_TEST_DIRNAME/../examples/customers.ndjson" .
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$BATS_TEST_DIRNAME/../man/evjoin.1" |
		sed -n '/^\.Bd/,/^\.Ed/p' | grep -v '^\.[BE]d' | sed 's/\\e/\\/g; s/\\(aq/'"'"'/g' > examples.sh
	[ -s examples.sh ]
	run_split sh -e examples.sh
	[ "$status" -eq 0 ] || fail_with "examples"
	[ "$stderr" = "" ] || fail_with "examples stderr"
}
