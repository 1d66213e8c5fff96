#!/usr/bin/env bats
# evdlq: dead letters, retry schedules, redrive, TTL expiry, breakers.

load helper

F="$FIX/evdlq"
T0=2026-12-01T00:00:00Z

# rec ID REASON FIRST FAILED RETRY_COUNT [MAX [STRATEGY]]: one DLQ record.
rec() {
	printf '{"message":{"message_id":"%s"},"reason":"%s","first_failed_at":"%s","failed_at":"%s","retry_count":%s' \
		"$1" "$2" "$3" "$4" "$5"
	[ -z "${6-}" ] || printf ',"max_retries":%s' "$6"
	[ -z "${7-}" ] || printf ',"strategy":"%s"' "$7"
	printf ',"history":[]}\n'
}

# Seconds between 1970-01-01T00:00:00Z and each next_retry_at on stdin
# (same day), as "S" or "S.ffffff".
delays() {
	sed -n 's/.*"next_retry_at":"1970-01-01T\([0-9:.]*\)Z".*/\1/p' |
		awk -F: '{ s = $1 * 3600 + $2 * 60 + $3; printf (s == int(s) ? "%d\n" : "%.6f\n"), s }' | paste -sd' '
}

# table STRATEGY [OPTIONS...]: delays for retry_count 0..10.
table() {
	local s=$1
	shift
	for n in 0 1 2 3 4 5 6 7 8 9 10; do
		rec m$n r 1970-01-01T00:00:00Z 1970-01-01T00:00:00Z $n 100 "$s"
	done | evdlq triage --now 1970-01-01T00:00:00Z "$@" | delays
}

# The message ids in files (DLQ records, messages, --errors records),
# one a line, sorted.
ids() {
	for f in "$@"; do
		case $f in
		*errors*) jq -r .raw "$f" ;;
		*) cat "$f" ;;
		esac
	done | grep -o '"message_id":"[a-z0-9]*"' | sed 's/.*:"//; s/"//' | sort
}

# ---- fail ---------------------------------------------------------------

@test "fail turns each message into a DLQ record with the message byte for byte" {
	run_split evdlq fail --reason timeout --now 2026-12-01T00:00:10Z "$F/msgs.ndjson"
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$stderr" = "" ] || fail_with "stderr"
	m1=$(sed -n 1p "$F/msgs.ndjson")
	m2=$(sed -n 2p "$F/msgs.ndjson")
	m3=$(sed -n 3p "$F/msgs.ndjson")
	at='"2026-12-01T00:00:10.000000Z"'
	h='"history":[{"reason":"timeout","at":'$at'}]}'
	[ "${lines[0]}" = '{"message":'"$m1"',"reason":"timeout","first_failed_at":'$at',"failed_at":'$at',"retry_count":0,"max_retries":3,"strategy":"exponential",'"$h" ] || fail_with "m1"
	[ "${lines[1]}" = '{"message":'"$m2"',"reason":"timeout","first_failed_at":'$at',"failed_at":'$at',"retry_count":2,"max_retries":5,"strategy":"exponential",'"$h" ] || fail_with "m2"
	[ "${lines[2]}" = '{"message":'"$m3"',"reason":"timeout","first_failed_at":'$at',"failed_at":'$at',"retry_count":0,"max_retries":5,"strategy":"exponential",'"$h" ] || fail_with "m3"
	[ "${#lines[@]}" -eq 3 ]
}

@test "fail: the envelope's routing.max_retries wins over --max-retries, which wins over the default" {
	run_split evdlq fail --reason r --max-retries 7 --strategy fibonacci --now $T0 "$F/msgs.ndjson"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"retry_count":0,"max_retries":3,"strategy":"fibonacci",'* ]] || fail_with "envelope value"
	[[ "${lines[1]}" == *'"retry_count":2,"max_retries":7,"strategy":"fibonacci",'* ]] || fail_with "option (envelope null)"
	[[ "${lines[2]}" == *'"retry_count":0,"max_retries":7,"strategy":"fibonacci",'* ]] || fail_with "option"
}

@test "fail continues the count of a redriven message: retry_count + 1, first failure and history kept" {
	msg='{"message_id":"m1","routing":{"retry_count":0},"dlq":{"retry_count":1,"first_failed_at":"2026-11-30T00:00:00Z","history":[{"reason":"a","at":"2026-11-30T00:00:00Z"},{"reason":"b","at":"2026-11-30T01:00:00Z"}]}}'
	run_split sh -c "echo '$msg' | evdlq fail --reason c --now 2026-11-30T02:00:00Z"
	[ "$status" -eq 0 ]
	[ "$output" = '{"message":'"$msg"',"reason":"c","first_failed_at":"2026-11-30T00:00:00Z","failed_at":"2026-11-30T02:00:00.000000Z","retry_count":2,"max_retries":5,"strategy":"exponential","history":[{"reason":"a","at":"2026-11-30T00:00:00Z"},{"reason":"b","at":"2026-11-30T01:00:00Z"},{"reason":"c","at":"2026-11-30T02:00:00.000000Z"}]}' ] || fail_with "record"
}

@test "fail rejects a negative or fractional retry count and a bad dlq member, with file and line" {
	printf '%s\n' '{"message_id":"a","routing":{"retry_count":-1}}' '{"message_id":"b","routing":{"retry_count":1.5}}' \
		'{"message_id":"c","dlq":{"retry_count":0,"first_failed_at":"soon"}}' '{"message_id":"d","dlq":[]}' \
		'{"message_id":"e"}' > "$BATS_TEST_TMPDIR/in.ndjson"
	run_split evdlq fail --reason r --now $T0 "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 3 ]
	[ "${#lines[@]}" -eq 1 ] && [[ "$output" == '{"message":{"message_id":"e"},'* ]] || fail_with "the good one"
	f="$BATS_TEST_TMPDIR/in.ndjson"
	[ "$stderr" = "evdlq: $f:1: negative routing.retry_count -1
evdlq: $f:2: routing.retry_count is not a whole number: 1.5
evdlq: $f:3: dlq member without a valid first_failed_at
evdlq: $f:4: dlq member is not an object" ] || fail_with "messages"
}

@test "fail needs --reason" {
	run_split evdlq fail "$F/msgs.ndjson"
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[[ "$stderr" == "evdlq: evdlq fail: needs --reason R"* ]] || fail_with "message"
}

@test "fail --where turns only matching messages into records; the others pass through unchanged" {
	run_split evdlq fail --reason r --now $T0 -w 'payload.order == 2' "$F/msgs.ndjson"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(sed -n 1p "$F/msgs.ndjson")" ] || fail_with "m1 unchanged"
	[[ "${lines[1]}" == '{"message":{"message_id":"m2"'* ]] || fail_with "m2 a record"
	[ "${lines[2]}" = "$(sed -n 3p "$F/msgs.ndjson")" ] || fail_with "m3 unchanged"
}

# ---- triage: delays -------------------------------------------------------

@test "exponential backoff for n = 0..10: base * 2^n, default base 1s, with and without --cap" {
	[ "$(table exponential)" = "1 2 4 8 16 32 64 128 256 512 1024" ]
	[ "$(table exponential --cap 100s)" = "1 2 4 8 16 32 64 100 100 100 100" ]
	[ "$(table exponential --base 250ms)" = "0.250000 0.500000 1 2 4 8 16 32 64 128 256" ]
}

@test "linear backoff for n = 0..10: base * n, default base 60s, with and without --cap" {
	[ "$(table linear)" = "0 60 120 180 240 300 360 420 480 540 600" ]
	[ "$(table linear --cap 5m)" = "0 60 120 180 240 300 300 300 300 300 300" ]
}

@test "fibonacci backoff for n = 0..10: base * F(n+1), default base 60s, with and without --cap" {
	[ "$(table fibonacci)" = "60 60 120 180 300 480 780 1260 2040 3300 5340" ]
	[ "$(table fibonacci --cap 1000s)" = "60 60 120 180 300 480 780 1000 1000 1000 1000" ]
	[ "$(table fibonacci --base 1s)" = "1 1 2 3 5 8 13 21 34 55 89" ]
}

@test "fixed backoff for n = 0..10: base, default 1s, with and without --cap" {
	[ "$(table fixed)" = "1 1 1 1 1 1 1 1 1 1 1" ]
	[ "$(table fixed --cap 500ms)" = "0.500000 0.500000 0.500000 0.500000 0.500000 0.500000 0.500000 0.500000 0.500000 0.500000 0.500000" ]
}

@test "a record's strategy wins over --strategy, which wins over exponential" {
	{
		rec a r 1970-01-01T00:00:00Z 1970-01-01T00:00:00Z 2 9 linear
		rec b r 1970-01-01T00:00:00Z 1970-01-01T00:00:00Z 2 9
	} > "$BATS_TEST_TMPDIR/in"
	[ "$(evdlq triage --now 1970-01-01T00:00:00Z --strategy fixed < "$BATS_TEST_TMPDIR/in" | delays)" = "120 1" ]
	[ "$(evdlq triage --now 1970-01-01T00:00:00Z < "$BATS_TEST_TMPDIR/in" | delays)" = "120 4" ]
}

@test "delays saturate: a huge retry count gives the latest time, never a time in the past" {
	rec a r 1970-01-01T00:00:00Z 1970-01-01T00:00:00Z 5000 9223372036854775807 > "$BATS_TEST_TMPDIR/in"
	run_split evdlq triage --now 1970-01-01T00:00:00Z "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"next_retry_at":"+294247-01-10T04:00:54.775807Z","decision":"retry"}' ]] || fail_with "saturated"
}

@test "the PRNG and the delay arithmetic give their known answers" {
	run_split "$EVUNIT/backoff_test" <<-'EOF'
	seed 0
	next 3
	seed 1234567
	next 5
	seed 42
	uniform 0 9 10
	seed 42
	uniform -5 5 5
	seed 7
	uniform 0 9223372036854775807 3
	seed 7
	uniform -9223372036854775808 9223372036854775807 2
	seed 1
	jitter full 8000000 1000000 -
	seed 1
	jitter equal 8000000 1000000 -
	seed 1
	jitter decorrelated 8000000 1000000 -
	jitter decorrelated 8000000 1000000 10000000
	jitter none 8000000 1000000 -
	delay exponential 1000000 62 -
	delay fibonacci 1 91 -
	delay fibonacci 1 92 -
	delay linear 60000000 0 -
	delay exponential 0 500 -
	sat 9223372036854775807 1
	sat -9223372036854775808 -1
	sat 4611686018427387904 -2
	EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "ok
e220a8397b1dcdaf 6e789e6aa1b965f4 06c45d188009454f
ok
599ed017fb08fc85 2c73f08458540fa5 883ebce5a3f27c77 3fbef740e9177b3f e3b8346708cb5ecd
ok
7 1 2 3 0 8 2 8 3 6
ok
3 -4 -2 -2 -5
ok
3595544800446187243 154844686297477902 8308050873407804673
ok
-2032282435962401321 -8913682664259820004
ok
4532493
ok
6266246
ok
14030916
10000000
8000000
9223372036854775807
7540113804746346429
9223372036854775807
0
0
9223372036854775807 9223372036854775807
-9223372036854775808 9223372036854775807
4611686018427387902 -9223372036854775808" ] || fail_with "answers"
}

# ---- triage: jitter -------------------------------------------------------

# jitter_run J SEED [OPTIONS...]: delays of 10,000 records with retry_count 3
# (exponential, base 1s: d = 8s), in microseconds, one a line.
jitter_run() {
	local j=$1 seed=$2
	shift 2
	awk 'BEGIN { for (i = 0; i < 10000; i++)
		printf "{\"message\":{\"message_id\":\"m%d\"},\"reason\":\"r\",\"first_failed_at\":\"1970-01-01T00:00:00Z\",\"failed_at\":\"1970-01-01T00:00:00Z\",\"retry_count\":3,\"max_retries\":9,\"history\":[]}\n", i }' |
		evdlq triage --now 1970-01-01T00:00:00Z --jitter "$j" --seed "$seed" "$@" |
		sed -n 's/.*"next_retry_at":"1970-01-01T\([0-9:.]*\)Z".*/\1/p' |
		awk -F: '{ split($3, s, "."); printf "%d\n", (($1 * 60 + $2) * 60 + s[1]) * 1000000 + s[2] }'
}

# bounds LO HI < values: min and max within [LO, HI] and reaching within 1%
# of each end (10,000 uniform draws all but surely do).
bounds() {
	awk -v lo="$1" -v hi="$2" 'NR == 1 { min = max = $1 } { if ($1 < min) min = $1; if ($1 > max) max = $1 }
		END { e = (hi - lo) / 100; if (NR != 10000 || min < lo || max > hi || min > lo + e || max < hi - e) {
			printf "n=%d min=%d max=%d not in [%d, %d]\n", NR, min, max, lo, hi; exit 1 } }'
}

@test "full jitter stays in [0, d] over 10,000 draws" {
	jitter_run full 11 > "$BATS_TEST_TMPDIR/d"
	bounds 0 8000000 < "$BATS_TEST_TMPDIR/d"
}

@test "equal jitter stays in [d/2, d] over 10,000 draws" {
	jitter_run equal 12 > "$BATS_TEST_TMPDIR/d"
	bounds 4000000 8000000 < "$BATS_TEST_TMPDIR/d"
}

@test "decorrelated jitter stays in [base, 3d], and under --cap, over 10,000 draws" {
	jitter_run decorrelated 13 > "$BATS_TEST_TMPDIR/d"
	bounds 1000000 24000000 < "$BATS_TEST_TMPDIR/d"
	jitter_run decorrelated 13 --cap 20s > "$BATS_TEST_TMPDIR/c"
	awk '$1 > 20000000 { exit 1 }' "$BATS_TEST_TMPDIR/c"
	[ "$(grep -c '^20000000$' "$BATS_TEST_TMPDIR/c")" -gt 1000 ]
}

@test "one seed gives the same draws on every run; the first draws are the documented ones" {
	jitter_run full 42 > "$BATS_TEST_TMPDIR/a"
	jitter_run full 42 > "$BATS_TEST_TMPDIR/b"
	jitter_run full 43 > "$BATS_TEST_TMPDIR/c"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	! cmp -s "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/c"
	[ "$(jitter_run full 1 | head -n 3 | paste -sd' ')" = "4532493 5966254 7768022" ]
	[ "$(jitter_run equal 1 | head -n 3 | paste -sd' ')" = "6266246 6983127 7884011" ]
	[ "$(jitter_run decorrelated 1 | head -n 3 | paste -sd' ')" = "14030916 18152981 23333064" ]
}

@test "only retry decisions draw: dead and expired records between them do not shift the draws" {
	{
		rec a r 1970-01-01T00:00:00Z 1970-01-01T00:00:00Z 3 9
		rec b r 1970-01-01T00:00:00Z 1970-01-01T00:00:00Z 9 9
		rec c r 1970-01-01T00:00:00Z 1970-01-01T00:00:00Z 3 9
		rec d r 1970-01-01T00:00:00Z 1970-01-01T00:00:00Z 3 9
	} | evdlq triage --now 1970-01-01T00:00:00Z --jitter full --seed 1 > "$BATS_TEST_TMPDIR/out"
	[ "$(delays < "$BATS_TEST_TMPDIR/out")" = "4.532493 5.966254 7.768022" ]
	grep -q '"message_id":"b".*"decision":"dead"}$' "$BATS_TEST_TMPDIR/out"
}

# ---- triage: decisions and boundaries ----------------------------------------

@test "triage: retry_count = max_retries - 1 is retried, = max_retries is dead" {
	{
		rec a r $T0 $T0 2 3
		rec b r $T0 $T0 3 3
		rec c r $T0 $T0 4
		rec d r $T0 $T0 5
	} > "$BATS_TEST_TMPDIR/in"
	run_split evdlq triage --now $T0 "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"history":[],"next_retry_at":"2026-12-01T00:00:04.000000Z","decision":"retry"}' ]] || fail_with "a"
	[[ "${lines[1]}" == *'"history":[],"decision":"dead"}' ]] || fail_with "b"
	[[ "${lines[2]}" == *'"decision":"retry"}' ]] || fail_with "c: default max 5"
	[[ "${lines[3]}" == *'"decision":"dead"}' ]] || fail_with "d: default max 5"
	run_split evdlq triage --now $T0 --max-retries 4 "$BATS_TEST_TMPDIR/in"
	[[ "${lines[0]}" == *'"decision":"retry"}' ]] || fail_with "record's max 3 wins over the option"
	[[ "${lines[1]}" == *'"decision":"dead"}' ]] || fail_with "record's max 3"
	[[ "${lines[2]}" == *'"decision":"dead"}' ]] || fail_with "option 4"
}

@test "triage: a first failure exactly --max-age ago is not expired; a microsecond more is" {
	{
		rec a r 2026-11-24T00:00:00Z $T0 0 3
		rec b r 2026-11-23T23:59:59.999999Z $T0 0 3
		rec c r 2026-11-30T00:00:00Z $T0 9 3
		rec d r 2026-11-30T00:00:00Z $T0 9 3
	} > "$BATS_TEST_TMPDIR/in"
	run_split evdlq triage --now $T0 "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"decision":"retry"}' ]] || fail_with "exactly 7d"
	[[ "${lines[1]}" == *'"decision":"expired"}' ]] || fail_with "7d + 1us"
	run_split evdlq triage --now $T0 --max-age 1d "$BATS_TEST_TMPDIR/in"
	[[ "${lines[2]}" == *'"decision":"dead"}' ]] || fail_with "exactly 1d, dead"
	run_split evdlq triage --now 2026-12-01T00:00:00.000001Z --max-age 1d "$BATS_TEST_TMPDIR/in"
	[[ "${lines[3]}" == *'"decision":"expired"}' ]] || fail_with "expired wins over dead"
}

@test "triage takes now from EV_NOW, and --now over EV_NOW" {
	rec a r 2026-11-20T00:00:00Z 2026-11-20T00:00:00Z 0 3 > "$BATS_TEST_TMPDIR/in"
	run_split env EV_NOW=2026-11-21T00:00:00Z evdlq triage "$BATS_TEST_TMPDIR/in"
	[[ "$output" == *'"decision":"retry"}' ]] || fail_with "EV_NOW"
	run_split env EV_NOW=2026-11-21T00:00:00Z evdlq triage --now 2026-12-01T00:00:00Z "$BATS_TEST_TMPDIR/in"
	[[ "$output" == *'"decision":"expired"}' ]] || fail_with "--now"
}

@test "triage replaces an earlier next_retry_at and decision instead of duplicating them" {
	echo '{"message":{"message_id":"a"},"next_retry_at":"2020-01-01T00:00:00Z","reason":"r","first_failed_at":"2026-12-01T00:00:00Z","failed_at":"2026-12-01T00:00:00Z","retry_count":0,"decision":"dead","x":1}' > "$BATS_TEST_TMPDIR/in"
	run_split evdlq triage --now $T0 "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "$output" = '{"message":{"message_id":"a"},"reason":"r","first_failed_at":"2026-12-01T00:00:00Z","failed_at":"2026-12-01T00:00:00Z","retry_count":0,"x":1,"next_retry_at":"2026-12-01T00:00:01.000000Z","decision":"retry"}' ] || fail_with "record"
}

@test "triage routes records to files without a decision member; the rest to stdout with one" {
	cd "$BATS_TEST_TMPDIR"
	{
		rec a timeout $T0 $T0 0 3
		rec b timeout $T0 $T0 3 3
		rec c refused 2026-11-01T00:00:00Z $T0 0 3
		rec d refused $T0 $T0 1 3
	} > in
	run_split evdlq triage --now $T0 --retry-out retry.ndjson --dead-out dead.ndjson in
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$stderr" = '{"alert":"dead_rate","dead":1,"total":4,"rate":0.25}' ] || fail_with "alert"
	[ "$output" = "$(sed -n 3p in | sed 's/}$/,"decision":"expired"}/')" ] || fail_with "stdout"
	[ "$(cat dead.ndjson)" = "$(sed -n 2p in)" ] || fail_with "dead"
	[ "$(cat retry.ndjson)" = "$(sed -n 1p in | sed 's/}$/,"next_retry_at":"2026-12-01T00:00:01.000000Z"}/')
$(sed -n 4p in | sed 's/}$/,"next_retry_at":"2026-12-01T00:00:02.000000Z"}/')" ] || fail_with "retry"
	[ "$(ls -A)" = "$(printf 'dead.ndjson\nin\nretry.ndjson\nstderr.%s\nstdout.%s' $$ $$)" ] || fail_with "no temp files: $(ls -A)"
}

@test "triage --stats counts per decision and per reason; --stats-out writes them to a file" {
	cd "$BATS_TEST_TMPDIR"
	{
		rec a timeout $T0 $T0 0 3
		rec b timeout $T0 $T0 3 3
		rec c 'bad \"x\"' 2026-11-01T00:00:00Z $T0 0 3
		rec d timeout $T0 $T0 1 3
	} > in
	run_split evdlq triage --now $T0 --stats --alert-rate 0.5 in
	[ "$status" -eq 0 ]
	[ "$stderr" = '{"total":4,"decisions":{"expired":1,"dead":1,"retry":2},"reasons":{"timeout":{"expired":0,"dead":1,"retry":2},"bad \"x\"":{"expired":1,"dead":0,"retry":0}}}' ] || fail_with "stats"
	run_split evdlq triage --now $T0 --stats-out stats.json --alert-rate 0.5 in
	[ "$stderr" = "" ] || fail_with "stderr"
	[ "$(cat stats.json)" = '{"total":4,"decisions":{"expired":1,"dead":1,"retry":2},"reasons":{"timeout":{"expired":0,"dead":1,"retry":2},"bad \"x\"":{"expired":1,"dead":0,"retry":0}}}' ] || fail_with "file"
}

@test "the dead-rate alert fires only above --alert-rate over at least --alert-min records; --alerts appends" {
	cd "$BATS_TEST_TMPDIR"
	{
		rec a r $T0 $T0 3 3
		rec b r $T0 $T0 0 3
		rec c r $T0 $T0 0 3
		rec d r $T0 $T0 0 3
	} > in
	run_split evdlq triage --now $T0 --alert-rate 0.25 in
	[ "$stderr" = "" ] || fail_with "rate equal: no alert"
	run_split evdlq triage --now $T0 --alert-rate 0.2 --alert-min 5 in
	[ "$stderr" = "" ] || fail_with "below --alert-min: no alert"
	run_split evdlq triage --now $T0 --alert-rate 0.2 --alert-min 4 in
	[ "$stderr" = '{"alert":"dead_rate","dead":1,"total":4,"rate":0.25}' ] || fail_with "alert"
	echo old > alerts.ndjson
	run_split evdlq triage --now $T0 --alert-rate 0.2 --alerts alerts.ndjson in
	run_split evdlq triage --now $T0 --alert-rate 0.2 --alerts alerts.ndjson in
	[ "$stderr" = "" ]
	[ "$(cat alerts.ndjson)" = 'old
{"alert":"dead_rate","dead":1,"total":4,"rate":0.25}
{"alert":"dead_rate","dead":1,"total":4,"rate":0.25}' ] || fail_with "appended"
}

@test "triage --where decides only matching records; the others pass through unchanged" {
	{
		rec a timeout $T0 $T0 3 3
		rec b refused $T0 $T0 3 3
	} > "$BATS_TEST_TMPDIR/in"
	run_split evdlq triage --now $T0 -w 'reason == "timeout"' --stats "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"decision":"dead"}' ]] || fail_with "a decided"
	[ "${lines[1]}" = "$(sed -n 2p "$BATS_TEST_TMPDIR/in")" ] || fail_with "b unchanged"
	[[ "$stderr" == '{"total":1,'* ]] || fail_with "only a counted"
}

@test "bad records are rejected with file and line and the rest are triaged" {
	f="$F/bad.ndjson"
	run_split evdlq triage --now $T0 "$f"
	[ "$status" -eq 3 ]
	[ "${#lines[@]}" -eq 2 ] || fail_with "two good records"
	[[ "${lines[0]}" == '{"message":{"message_id":"g1"}'*'"decision":"retry"}' ]] || fail_with "g1"
	[[ "${lines[1]}" == '{"message":{"message_id":"g2"}'*'"decision":"dead"}' ]] || fail_with "g2"
	[ "$stderr" = "evdlq: $f:2: not a DLQ record: no \"message\" object
evdlq: $f:3: bad time in failed_at: \"yesterday\"
evdlq: $f:4: negative retry_count -1
evdlq: $f:5: invalid JSON: unexpected 'n', expected a value at column 1
evdlq: $f:6: not a DLQ record: no first_failed_at
evdlq: $f:7: retry_count is not a whole number: 1.5
evdlq: $f:8: unknown strategy \"random\" (exponential, linear, fibonacci or fixed)
{\"alert\":\"dead_rate\",\"dead\":1,\"total\":2,\"rate\":0.5}" ] || fail_with "messages"
}

@test "--errors keeps every rejected record for a later run" {
	run_split evdlq triage --now $T0 --errors "$BATS_TEST_TMPDIR/errors.ndjson" --alert-rate 1 "$F/bad.ndjson"
	[ "$status" -eq 3 ]
	[ "$(jq -r .line "$BATS_TEST_TMPDIR/errors.ndjson" | paste -sd' ')" = "2 3 4 5 6 7 8" ]
	[ "$(jq -r .raw "$BATS_TEST_TMPDIR/errors.ndjson" | sed -n 4p)" = "not json" ]
}

@test "bad options are usage errors that name the option" {
	run_split evdlq triage --strategy random
	[ "$status" -eq 2 ]
	[[ "$stderr" == "evdlq: --strategy: expected exponential, linear, fibonacci or fixed, not 'random'"* ]] || fail_with "strategy"
	run_split evdlq triage --jitter some
	[ "$status" -eq 2 ] && [[ "$stderr" == "evdlq: --jitter: expected none, full, equal or decorrelated, not 'some'"* ]] || fail_with "jitter"
	run_split evdlq triage --seed -1
	[ "$status" -eq 2 ] && [[ "$stderr" == "evdlq: --seed: expected a whole number"* ]] || fail_with "seed"
	run_split evdlq triage --alert-rate x
	[ "$status" -eq 2 ] && [[ "$stderr" == "evdlq: --alert-rate: expected a number of at least 0, not 'x'"* ]] || fail_with "rate"
	run_split evdlq due --dead-out x
	[ "$status" -eq 2 ] && [[ "$stderr" == "evdlq: --dead-out is not an option of evdlq due"* ]] || fail_with "not an option"
	run_split evdlq triage --retry-out a --dead-out a
	[ "$status" -eq 2 ] && [[ "$stderr" == "evdlq: --retry-out and --dead-out name the same file"* ]] || fail_with "same file"
	run_split evdlq breaker --probes 2
	[ "$status" -eq 2 ] && [[ "$stderr" == "evdlq: --successes 3 is more than --probes 2: the breaker could never close"* ]] || fail_with "successes"
	run_split evdlq -w 'payload.x >'
	[ "$status" -eq 2 ] && [[ "$stderr" == "evdlq: --where: column"* ]] || fail_with "where"
}

# ---- due ------------------------------------------------------------------------

@test "due releases records with next_retry_at <= --now as messages with a dlq member; the rest stay" {
	cd "$BATS_TEST_TMPDIR"
	{
		rec a r $T0 $T0 0 3
		rec b r $T0 $T0 1 3
	} | evdlq triage --now $T0 --retry-out retry.ndjson
	run_split evdlq due --now 2026-12-01T00:00:01Z retry.ndjson
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"message_id":"a","dlq":{"retry_count":0,"first_failed_at":"2026-12-01T00:00:00Z","history":[]}}' ] || fail_with "a due exactly at --now"
	[ "${lines[1]}" = "$(sed -n 2p retry.ndjson)" ] || fail_with "b unchanged on stdout"
	run_split evdlq due --now 2026-12-01T00:00:01.999999Z --keep-out keep.ndjson retry.ndjson
	[ "${#lines[@]}" -eq 1 ] && [[ "$output" == '{"message_id":"a",'* ]] || fail_with "a only"
	[ "$(cat keep.ndjson)" = "$(sed -n 2p retry.ndjson)" ] || fail_with "b kept a microsecond early"
}

@test "due replaces a message's own dlq member" {
	run_split sh -c "echo '{\"message\":{\"message_id\":\"a\",\"dlq\":{\"retry_count\":7},\"z\":1},\"reason\":\"r\",\"first_failed_at\":\"2026-12-01T00:00:00Z\",\"failed_at\":\"2026-12-01T00:00:00Z\",\"retry_count\":1,\"history\":[{\"reason\":\"r\",\"at\":\"x\"}],\"next_retry_at\":\"2026-12-01T00:00:00Z\"}' | evdlq due --now $T0"
	[ "$status" -eq 0 ]
	[ "$output" = '{"message_id":"a","z":1,"dlq":{"retry_count":1,"first_failed_at":"2026-12-01T00:00:00Z","history":[{"reason":"r","at":"x"}]}}' ] || fail_with "message"
}

@test "due rejects records that are not retry records, with file and line" {
	{
		rec a r $T0 $T0 3 3
		echo '{"message":{"message_id":"b"},"reason":"r","first_failed_at":"2026-12-01T00:00:00Z","failed_at":"2026-12-01T00:00:00Z","retry_count":0,"next_retry_at":"later"}'
	} > "$BATS_TEST_TMPDIR/in"
	run_split evdlq due --now $T0 "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	[ "$stderr" = "evdlq: $BATS_TEST_TMPDIR/in:1: not a retry record: no next_retry_at (evdlq triage gives it)
evdlq: $BATS_TEST_TMPDIR/in:2: bad time in next_retry_at: \"later\"" ] || fail_with "messages"
}

@test "three rounds of fail, triage and due count the retries until the message is dead" {
	cd "$BATS_TEST_TMPDIR"
	sed -n 1p "$F/msgs.ndjson" > msg.ndjson # routing.max_retries 3
	t=0
	for round in 1 2 3 4; do
		now=$(printf '2026-12-01T00:%02d:00Z' $t)
		evdlq fail --reason "round$round" --now "$now" msg.ndjson > dlq.ndjson
		run_split evdlq triage --now "$now" --retry-out retry.ndjson --dead-out dead.ndjson --alert-rate 1 dlq.ndjson
		[ "$status" -eq 0 ] || fail_with "triage $round"
		if [ $round -le 3 ]; then
			[ ! -s dead.ndjson ] || fail_with "dead too early in round $round"
			n=$((round - 1))
			[ "$(jq -c '[.retry_count, .first_failed_at, (.history | length)]' retry.ndjson)" = "[$n,\"2026-12-01T00:00:00.000000Z\",$round]" ] || fail_with "round $round: $(cat retry.ndjson)"
			delay=$((1 << n))
			[ "$(jq -r .next_retry_at retry.ndjson)" = "$(printf '2026-12-01T00:%02d:%02d.000000Z' $t $delay)" ] || fail_with "next_retry_at $round"
			# not due a microsecond early; due at next_retry_at
			evdlq due --now "$(printf '2026-12-01T00:%02d:%02d.999999Z' $t $((delay - 1)))" --keep-out keep.ndjson retry.ndjson > msg.ndjson
			[ ! -s msg.ndjson ] && cmp -s keep.ndjson retry.ndjson || fail_with "early $round"
			evdlq due --now "$(printf '2026-12-01T00:%02d:%02d.000000Z' $t $delay)" --keep-out keep.ndjson retry.ndjson > msg.ndjson
			[ "$(wc -l < msg.ndjson)" -eq 1 ] && [ ! -s keep.ndjson ] || fail_with "due $round"
			[ "$(jq -c .dlq.retry_count msg.ndjson)" = "$n" ] || fail_with "dlq member $round"
		else
			[ ! -s retry.ndjson ] || fail_with "retried after max"
			[ "$(jq -c '[.retry_count, .max_retries, [.history[].reason]]' dead.ndjson)" = '[3,3,["round1","round2","round3","round4"]]' ] || fail_with "dead: $(cat dead.ndjson)"
			[ "$(jq -c .message.message_id dead.ndjson)" = '"m1"' ]
		fi
		t=$((t + 1))
	done
}

# ---- dequeue ----------------------------------------------------------------------

@test "dequeue gives each queue's ready messages by priority then FIFO, queue by queue" {
	run_split evdlq dequeue --now 2026-12-01T00:10:00Z --keep-out "$BATS_TEST_TMPDIR/keep" "$F/queue.ndjson"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -o '"message_id":"q[0-9]*"' | sed 's/.*"q/q/; s/"//' | paste -sd' ')" = "q3 q7 q1 q10 q4 q2 q6 q8" ] || fail_with "order"
	[ "$(cat "$BATS_TEST_TMPDIR/keep")" = "$(sed -n '5p;9p' "$F/queue.ndjson")" ] || fail_with "kept: the delayed ones"
	[ "${lines[0]}" = "$(sed -n 3p "$F/queue.ndjson")" ] || fail_with "byte for byte"
}

@test "dequeue --batch and --stats: per-queue counts, delays and the oldest ready message" {
	run_split evdlq dequeue --now 2026-12-01T00:30:00Z --batch 2 --stats --keep-out "$BATS_TEST_TMPDIR/keep" "$F/queue.ndjson"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -o '"message_id":"q[0-9]*"' | sed 's/.*"q/q/; s/"//' | paste -sd' ')" = "q3 q7 q2 q6 q8" ] || fail_with "order"
	[ "$stderr" = '{"queue":"email","dequeued":2,"remaining":4,"delayed":1,"oldest_ready_at":"2026-12-01T00:00:01.000000Z"}
{"queue":"sms","dequeued":2,"remaining":1,"delayed":0,"oldest_ready_at":"2026-12-01T00:00:02.000000Z"}
{"queue":null,"dequeued":1,"remaining":0,"delayed":0,"oldest_ready_at":"2026-12-01T00:00:08.000000Z"}' ] || fail_with "stats"
	[ "$(grep -o '"message_id":"q[0-9]*"' "$BATS_TEST_TMPDIR/keep" | sed 's/.*"q/q/; s/"//' | paste -sd' ')" = "q1 q4 q5 q9 q10" ] || fail_with "kept in input order"
}

@test "a queue file cycled through runs gives every message once, in order, never before deliver_at" {
	cd "$BATS_TEST_TMPDIR"
	cp "$F/queue.ndjson" q.ndjson
	: > all
	for now in 00:10 00:20 00:30 00:40 00:50 01:00 01:10; do
		run_split evdlq dequeue --now "2026-12-01T$now:00Z" --batch 1 --keep-out q.ndjson --stats-out "stats.$now" q.ndjson
		[ "$status" -eq 0 ] || fail_with "run $now"
		printf '%s\n' "$output" | grep -o '"message_id":"q[0-9]*"' | sed "s/.*\"q/$now q/; s/\"//" >> all
	done
	[ ! -s q.ndjson ] || fail_with "left: $(cat q.ndjson)"
	[ "$(cat all | paste -sd' ')" = "00:10 q3 00:10 q2 00:10 q8 00:20 q7 00:20 q6 00:30 q1 00:30 q9 00:40 q10 00:50 q4 01:00 q5" ] || fail_with "$(cat all)"
	[ "$(cat stats.00:30)" = '{"queue":"email","dequeued":1,"remaining":3,"delayed":1,"oldest_ready_at":"2026-12-01T00:00:01.000000Z"}
{"queue":"sms","dequeued":1,"remaining":0,"delayed":0,"oldest_ready_at":"2026-12-01T00:00:09.000000Z"}' ] || fail_with "stats: $(cat stats.00:30)"
}

@test "dequeue without --keep-out says how many messages it drops" {
	run_split evdlq dequeue --now 2026-12-01T00:10:00Z --batch 1 "$F/queue.ndjson"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$stderr" = "evdlq: warning: 7 messages not dequeued are dropped: give --keep-out FILE to keep them" ] || fail_with "warning"
}

@test "dequeue --queue PATH and --where: unmatched messages stay in the queue" {
	run_split evdlq dequeue --now 2026-12-01T00:10:00Z --queue headers.priority -w 'message_id != "q3"' --keep-out "$BATS_TEST_TMPDIR/keep" "$F/queue.ndjson"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -o '"message_id":"q[0-9]*"' | sed 's/.*"q/q/; s/"//' | paste -sd' ')" = "q1 q10 q2 q7 q4 q6 q8" ] || fail_with "order: $output"
	[ "$(grep -o '"message_id":"q[0-9]*"' "$BATS_TEST_TMPDIR/keep" | sed 's/.*"q/q/; s/"//' | paste -sd' ')" = "q3 q5 q9" ] || fail_with "kept"
}

@test "dequeue rejects a bad priority or deliver_at with file and line" {
	printf '%s\n' '{"message_id":"a","headers":{"priority":"urgent"}}' '{"message_id":"b","deliver_at":"tomorrow"}' \
		'{"message_id":"c","headers":{"priority":true}}' '{"message_id":"d","headers":{"priority":2.5}}' > "$BATS_TEST_TMPDIR/in"
	run_split evdlq dequeue --now $T0 "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 3 ]
	[ "$output" = '{"message_id":"d","headers":{"priority":2.5}}' ] || fail_with "d"
	[ "$stderr" = "evdlq: $BATS_TEST_TMPDIR/in:1: bad headers.priority \"urgent\" (a number, \"high\", \"normal\" or \"low\")
evdlq: $BATS_TEST_TMPDIR/in:2: bad time in deliver_at: \"tomorrow\"
evdlq: $BATS_TEST_TMPDIR/in:3: bad headers.priority true (a number, \"high\", \"normal\" or \"low\")" ] || fail_with "messages"
}

# ---- expire ----------------------------------------------------------------------

@test "expire: a message expires exactly at headers.timestamp + ttl seconds, not a microsecond before" {
	run_split evdlq expire --now 2026-12-01T00:59:59.999999Z "$F/msgs.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$F/msgs.ndjson")" ] || fail_with "all pass through"
	run_split evdlq expire --now 2026-12-01T01:00:00Z --keep-out "$BATS_TEST_TMPDIR/keep" "$F/msgs.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = '{"message":'"$(sed -n 1p "$F/msgs.ndjson")"',"reason":"ttl_expired","first_failed_at":"2026-12-01T01:00:00.000000Z","failed_at":"2026-12-01T01:00:00.000000Z","retry_count":0,"max_retries":3,"strategy":"exponential","history":[{"reason":"ttl_expired","at":"2026-12-01T01:00:00.000000Z"}]}' ] || fail_with "record"
	[ "$(cat "$BATS_TEST_TMPDIR/keep")" = "$(sed -n 2,3p "$F/msgs.ndjson")" ] || fail_with "a null and an absent ttl never expire"
}

@test "expire rejects a negative or non-number ttl and a ttl without a timestamp" {
	printf '%s\n' '{"message_id":"a","headers":{"timestamp":"2026-12-01T00:00:00Z","ttl":-1}}' \
		'{"message_id":"b","headers":{"timestamp":"2026-12-01T00:00:00Z","ttl":"1h"}}' \
		'{"message_id":"c","headers":{"ttl":60}}' '{"message_id":"d","headers":{"timestamp":"x","ttl":60}}' \
		'{"message_id":"e","headers":{"timestamp":"2026-12-01T00:00:00Z","ttl":0.5}}' > "$BATS_TEST_TMPDIR/in"
	run_split evdlq expire --now 2026-12-01T00:00:00.5Z --expired-out "$BATS_TEST_TMPDIR/exp" "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	[[ "$(cat "$BATS_TEST_TMPDIR/exp")" == '{"message":{"message_id":"e",'*'"reason":"ttl_expired",'* ]] || fail_with "e expires after half a second"
	f="$BATS_TEST_TMPDIR/in"
	[ "$stderr" = "evdlq: $f:1: negative headers.ttl -1
evdlq: $f:2: headers.ttl is not a number of seconds: \"1h\"
evdlq: $f:3: headers.ttl without headers.timestamp
evdlq: $f:4: bad time in headers.timestamp: \"x\"" ] || fail_with "messages"
}

@test "evwrite --message --ttl 1h output expires in evdlq expire exactly one hour after its timestamp" {
	echo '{"aggregate_id":"o1","event_type":"OrderPlaced","payload":{},"timestamp":"2026-12-01T10:00:00Z"}' |
		evwrite --message --ttl 1h > "$BATS_TEST_TMPDIR/msg"
	run_split evdlq expire --now 2026-12-01T10:59:59.999999Z "$BATS_TEST_TMPDIR/msg"
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/msg")" ] || fail_with "not yet expired"
	run_split evdlq expire --now 2026-12-01T11:00:00Z "$BATS_TEST_TMPDIR/msg"
	[ "$status" -eq 0 ]
	[[ "$output" == '{"message":'*'"reason":"ttl_expired",'* ]] || fail_with "expired at timestamp + 1h (headers.ttl in seconds)"
}

@test "expire --where leaves unmatched messages alone" {
	run_split evdlq expire --now 2027-01-01T00:00:00Z -w 'message_id == "m2"' "$F/msgs.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$F/msgs.ndjson")" ] || fail_with "m1 not expired"
}

# ---- breaker ----------------------------------------------------------------------

@test "breaker: closed, open at the 5th failure, half-open exactly --open-for later, re-open, close at the last probe" {
	run_split evdlq breaker --key-field service "$F/outcomes.ndjson"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "$output" = '{"key":"pay","from":"closed","to":"open","at":"2026-12-01T00:00:06.000000Z","reason":"failure_threshold"}
{"key":"pay","from":"open","to":"half_open","at":"2026-12-01T00:00:36.000000Z","reason":"open_timeout"}
{"key":"pay","from":"half_open","to":"open","at":"2026-12-01T00:00:37.000000Z","reason":"probe_failure"}
{"key":"pay","from":"open","to":"half_open","at":"2026-12-01T00:01:07.000000Z","reason":"open_timeout"}
{"key":"pay","from":"half_open","to":"closed","at":"2026-12-01T00:01:09.000000Z","reason":"success_threshold"}' ] || fail_with "transitions"
}

@test "breaker --annotate passes every outcome through with the state it met" {
	run_split evdlq breaker --key-field service --annotate "$F/outcomes.ndjson"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"service":"pay","ok":false,"timestamp":"2026-12-01T00:00:01Z","n":1,"breaker":"closed"}' ] || fail_with "byte for byte"
	[ "$(printf '%s\n' "$output" | sed 's/.*"breaker":"\([a-z_]*\)"}$/\1/' | paste -sd' ')" = "closed closed closed closed closed closed closed open half_open half_open open half_open half_open half_open closed closed closed closed" ] || fail_with "states"
}

@test "breaker: --failures, --open-for, --probes, --successes; one success can half-open and close at once" {
	printf '%s\n' '{"k":1,"ok":false,"t":0}' '{"k":1,"ok":true,"t":10}' '{"k":"1","ok":false,"t":10}' '{"k":1,"ok":false,"t":11}' > "$BATS_TEST_TMPDIR/in"
	run_split evdlq breaker --key-field k --time-field t --failures 1 --open-for 10s --probes 1 --successes 1 "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "$output" = '{"key":1,"from":"closed","to":"open","at":"1970-01-01T00:00:00.000000Z","reason":"failure_threshold"}
{"key":1,"from":"open","to":"half_open","at":"1970-01-01T00:00:10.000000Z","reason":"open_timeout"}
{"key":1,"from":"half_open","to":"closed","at":"1970-01-01T00:00:10.000000Z","reason":"success_threshold"}
{"key":"1","from":"closed","to":"open","at":"1970-01-01T00:00:10.000000Z","reason":"failure_threshold"}
{"key":1,"from":"closed","to":"open","at":"1970-01-01T00:00:11.000000Z","reason":"failure_threshold"}' ] || fail_with "transitions"
}

@test "breaker: outcomes beyond the probes change nothing while half-open" {
	printf '%s\n' '{"ok":false,"t":0}' '{"ok":true,"t":5}' '{"ok":true,"t":6}' '{"ok":false,"t":7}' > "$BATS_TEST_TMPDIR/in"
	run_split evdlq breaker --time-field t --failures 1 --open-for 5s --probes 2 --successes 2 --annotate "$BATS_TEST_TMPDIR/in"
	[ "$(printf '%s\n' "$output" | sed 's/.*"breaker":"\([a-z_]*\)"}$/\1/' | paste -sd' ')" = "closed half_open half_open closed" ] || fail_with "$output"
}

@test "breaker rejects outcomes without a boolean ok or a time; --where ignores outcomes" {
	printf '%s\n' '{"ok":"yes","timestamp":0}' '{"timestamp":0}' '{"ok":false}' '{"ok":false,"timestamp":1,"x":1}' '{"ok":false,"timestamp":2}' > "$BATS_TEST_TMPDIR/in"
	run_split evdlq breaker --failures 1 -w 'x != 1' "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 3 ]
	[ "$output" = '{"key":null,"from":"closed","to":"open","at":"1970-01-01T00:00:02.000000Z","reason":"failure_threshold"}' ] || fail_with "output"
	f="$BATS_TEST_TMPDIR/in"
	[ "$stderr" = "evdlq: $f:1: outcome 'ok' is not true or false: \"yes\"
evdlq: $f:2: missing outcome field 'ok'
evdlq: $f:3: missing time field 'timestamp'" ] || fail_with "messages"
	run_split evdlq breaker --failures 1 -w 'x != 1' --annotate "$BATS_TEST_TMPDIR/in"
	[ "${lines[0]}" = '{"ok":false,"timestamp":1,"x":1}' ] || fail_with "ignored, passed through"
}

# ---- conservation and safe outputs ------------------------------------------------

# The input of the conservation tests: every kind of record, bad ones too.
mixed() {
	rec c1 timeout $T0 $T0 0 3
	rec c2 timeout $T0 $T0 3 3
	rec c3 refused 2026-11-01T00:00:00Z $T0 0 3
	echo '{"message":{"message_id":"c4"},"reason":"r","first_failed_at":"2026-12-01T00:00:00Z","failed_at":"bad","retry_count":0}'
	rec c5 refused $T0 $T0 1 3
	echo '{"message":{"message_id":"c6"},"reason":"r","retry_count":-2,"first_failed_at":"2026-12-01T00:00:00Z","failed_at":"2026-12-01T00:00:00Z"}'
	rec c7 skip $T0 $T0 0 3
}

@test "triage conserves records: each in exactly one output, or rejected, for every routing combination" {
	cd "$BATS_TEST_TMPDIR"
	mixed > in
	ids in > want
	for r in "" --retry-out; do
		for d in "" --dead-out; do
			for e in "" --expired-out; do
				rm -f out.* errors
				set -- ${r:+$r out.r} ${d:+$d out.d} ${e:+$e out.e}
				evdlq triage --now $T0 -w 'reason != "skip"' --errors errors --alert-rate 1 "$@" in > out.stdout && false || [ $? -eq 3 ]
				ids out.* errors > got
				cmp -s got want || fail_with "triage $*: $(diff got want)"
			done
		done
	done
}

@test "fail, due, expire, dequeue and breaker --annotate conserve records for every routing combination" {
	cd "$BATS_TEST_TMPDIR"
	mixed > in
	ids in > want
	# fail: every line becomes one record (bad DLQ records are still messages)
	evdlq fail --reason x --now $T0 in > out.f
	[ "$(ids out.f)" = "$(cat want)" ] || fail_with fail
	# due
	evdlq triage --now $T0 --alert-rate 1 --retry-out retry in 2>/dev/null || true
	cat in >> retry
	ids retry > want.due
	for k in "" --keep-out; do
		rm -f out.* errors
		evdlq due --now 2026-12-01T00:00:01Z --errors errors -w 'message.message_id != "c5"' ${k:+$k out.k} retry > out.s || true
		ids out.* errors > got
		cmp -s got want.due || fail_with "due $k: $(diff got want.due)"
	done
	# expire and dequeue over messages
	cp "$F/msgs.ndjson" msgs
	echo '{"message_id":"bad1","headers":{"timestamp":"2026-12-01T00:00:00Z","ttl":-5,"priority":"x"}}' >> msgs
	cat "$F/queue.ndjson" >> msgs
	ids msgs > want.msgs
	for k in "" --keep-out; do
		for e in "" --expired-out; do
			rm -f out.* errors
			evdlq expire --now 2026-12-01T01:00:00Z --errors errors ${k:+$k out.k} ${e:+$e out.e} msgs > out.s || true
			ids out.* errors > got
			cmp -s got want.msgs || fail_with "expire $k $e: $(diff got want.msgs)"
		done
	done
	for b in "" "--batch 1"; do
		rm -f out.* errors
		evdlq dequeue --now 2026-12-01T00:10:00Z --errors errors $b --keep-out out.k -w 'message_id != "q1"' msgs > out.s || true
		ids out.* errors > got
		cmp -s got want.msgs || fail_with "dequeue $b: $(diff got want.msgs)"
	done
	# breaker --annotate: every outcome once
	evdlq breaker --annotate -w 'n != 3' --key-field service "$F/outcomes.ndjson" | sed 's/,"breaker":"[a-z_]*"}$/}/' > out.b
	cmp out.b "$F/outcomes.ndjson"
}

@test "a run that cannot open an operand writes no output file and leaves the old ones" {
	cd "$BATS_TEST_TMPDIR"
	rec a r $T0 $T0 0 3 > in
	echo old > retry.ndjson
	run_split evdlq triage --now $T0 --retry-out retry.ndjson --dead-out dead.ndjson in missing.ndjson
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[ "$stderr" = "evdlq: missing.ndjson: No such file or directory" ] || fail_with "message"
	[ "$(cat retry.ndjson)" = old ] && [ ! -e dead.ndjson ] || fail_with "files touched"
	[ "$(ls -A | grep -c tmp)" -eq 0 ] || fail_with "temp files left"
}

@test "a run that fails while writing leaves the routed files as they were" {
	cd "$BATS_TEST_TMPDIR"
	{
		rec a r $T0 $T0 0 3
		rec b r 2026-11-01T00:00:00Z $T0 0 3
	} > in
	echo old > retry.ndjson
	run_split sh -c "evdlq triage --now $T0 --retry-out retry.ndjson in > /dev/full"
	[ "$status" -eq 5 ]
	[ "$stderr" = "evdlq: write error on standard output: No space left on device" ] || fail_with "message"
	[ "$(cat retry.ndjson)" = old ] || fail_with "replaced"
	[ "$(ls -A | grep -c tmp)" -eq 0 ] || fail_with "temp files left"
}

@test "due --where keeps unmatched records where records that are not due go" {
	cd "$BATS_TEST_TMPDIR"
	{
		rec a r $T0 $T0 0 3
		rec b r $T0 $T0 0 3
	} | evdlq triage --now $T0 --retry-out retry.ndjson
	run_split evdlq due --now 2026-12-01T00:00:05Z -w 'message.message_id == "b"' --keep-out keep.ndjson retry.ndjson
	[ "$status" -eq 0 ]
	[[ "$output" == '{"message_id":"b",'* ]] && [ "${#lines[@]}" -eq 1 ] || fail_with "b due"
	[ "$(cat keep.ndjson)" = "$(sed -n 1p retry.ndjson)" ] || fail_with "a kept unchanged"
}

@test "--strict stops at the first rejected line; the routed files hold what came before it (status 3)" {
	cd "$BATS_TEST_TMPDIR"
	echo old > retry.ndjson
	run_split evdlq triage --strict --now $T0 --retry-out retry.ndjson "$F/bad.ndjson"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evdlq: $F/bad.ndjson:2: not a DLQ record: no \"message\" object" ] || fail_with "message"
	[ "$(wc -l < retry.ndjson)" -eq 1 ] && [[ "$(cat retry.ndjson)" == '{"message":{"message_id":"g1"},'* ]] || fail_with "not the first record only"
	[ "$(ls -A | grep -c tmp)" -eq 0 ] || fail_with "temp files left"
}

@test "due can read and replace its own keep file (the cron cycle)" {
	cd "$BATS_TEST_TMPDIR"
	{
		rec a r $T0 $T0 0 3
		rec b r $T0 $T0 4 9
	} | evdlq triage --now $T0 --retry-out retry.ndjson
	run_split evdlq due --now 2026-12-01T00:00:05Z --keep-out retry.ndjson retry.ndjson
	[ "$status" -eq 0 ]
	[[ "$output" == '{"message_id":"a",'* ]] || fail_with "a due"
	[ "$(jq -r .message.message_id retry.ndjson)" = b ] || fail_with "b kept in place"
}

@test "a full disk on standard output is status 5 for every subcommand" {
	cd "$BATS_TEST_TMPDIR"
	rec a r $T0 $T0 0 3 | evdlq triage --now $T0 --retry-out retry.ndjson
	for cmd in "fail --reason r $F/msgs.ndjson" "triage --alert-rate 1 $F/bad.ndjson" "due retry.ndjson" \
		"dequeue $F/queue.ndjson" "expire $F/msgs.ndjson" "breaker --annotate $F/outcomes.ndjson"; do
		run_split sh -c "evdlq $cmd --now 2026-12-01T01:00:00Z > /dev/full"
		[ "$status" -eq 5 ] || fail_with "$cmd"
		[ "${stderr##*$'\n'}" = "evdlq: write error on standard output: No space left on device" ] || fail_with "$cmd: message"
	done
}

@test "--help names every option and subcommand, and the man page documents each" {
	run_split evdlq --help
	[ "$status" -eq 0 ]
	man="$BATS_TEST_DIRNAME/../man/evdlq.1"
	for o in $(printf '%s\n' "$output" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -- "Fl -${o#--}\( \|$\)" "$man" || fail_with "$o not in evdlq.1"
	done
	for s in fail triage due dequeue expire breaker; do
		[[ "$output" == *"  $s "* ]] || fail_with "$s in --help"
		grep -q "^\.Ss $s" "$man" || fail_with "$s section in evdlq.1"
	done
}
