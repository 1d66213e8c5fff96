#!/usr/bin/env bats
# evquery --follow and --state: a catch-up subscription over a growing
# store that resumes after the last event seen.

load helper

EV="$BATS_TEST_DIRNAME/fixtures/evproject/orders.ndjson"

# wait_lines FILE N: until FILE has N lines (at most 10 s)
wait_lines() {
	local i=0
	while [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
		sleep 0.05
		i=$((i + 1))
		[ $i -lt 200 ] || { echo "timeout waiting for $2 lines in $1" >&2; return 1; }
	done
}

# wait_seq STATE N: until the saved position is seq N (at most 10 s)
wait_seq() {
	local i=0
	until grep -q "\"seq\":$2," "$1" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
		[ $i -lt 200 ] || { echo "timeout waiting for seq $2 in $1" >&2; return 1; }
	done
}

setup() {
	S="$BATS_TEST_TMPDIR/store.ndjson"
	O="$BATS_TEST_TMPDIR/out"
	ST="$BATS_TEST_TMPDIR/state"
}

@test "evquery --follow writes events appended while it runs exactly once" {
	head -n 2 "$EV" > "$S"
	evquery --follow -t OrderPlaced,OrderPaid -s event_id "$S" > "$O" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_lines "$O" 2
	sed -n 3,5p "$EV" >> "$S"
	wait_lines "$O" 4
	# a line written in two pieces is read once it is whole
	line=$(sed -n 6p "$EV")
	printf '%s' "${line%%,*}" >> "$S"
	sleep 0.3
	printf '%s\n' ",${line#*,}" >> "$S"
	sed -n 7,10p "$EV" >> "$S"
	wait_lines "$O" 8
	kill -TERM $pid
	wait $pid
	run cat "$O"
	[ "$output" = '{"event_id":"e1"}
{"event_id":"e2"}
{"event_id":"e3"}
{"event_id":"e5"}
{"event_id":"e7"}
{"event_id":"e8"}
{"event_id":"e9"}
{"event_id":"e10"}' ] || fail_with "got"
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "evquery --follow passes matching events byte for byte" {
	: > "$S"
	evquery --follow "$S" > "$O" &
	pid=$!
	sleep 0.2
	cat "$EV" >> "$S"
	wait_lines "$O" 10
	kill $pid
	wait $pid
	cmp "$O" "$EV"
}

@test "evquery --follow --state: a killed and restarted follower resumes with no loss and no repeat" {
	head -n 3 "$EV" > "$S"
	evquery --follow --state "$ST" "$S" > "$O" &
	pid=$!
	wait_lines "$O" 3
	sed -n 4,5p "$EV" >> "$S"
	wait_lines "$O" 5
	wait_seq "$ST" 5 # idle, its position saved
	kill -KILL $pid
	wait $pid || true
	sed -n 6,7p "$EV" >> "$S" # appended while nobody follows
	evquery --follow --state "$ST" "$S" >> "$O" &
	pid=$!
	wait_lines "$O" 7
	sed -n 8p "$EV" >> "$S"
	wait_lines "$O" 8
	kill -TERM $pid # a clean stop saves the position at once
	wait $pid
	sed -n 9,10p "$EV" >> "$S"
	evquery --follow --state "$ST" "$S" >> "$O" &
	pid=$!
	wait_lines "$O" 10
	kill -INT $pid
	wait $pid
	cmp "$O" "$EV"
}

@test "evquery --state without --follow reads only what is new" {
	head -n 4 "$EV" > "$S"
	run evquery --state "$ST" -s event_id "$S"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 4 ]
	run evquery --state "$ST" -s event_id "$S"
	[ "$output" = "" ]
	tail -n +5 "$EV" >> "$S"
	run evquery --state "$ST" -s event_id -t OrderPlaced "$S"
	[ "$output" = '{"event_id":"e5"}
{"event_id":"e7"}
{"event_id":"e8"}
{"event_id":"e9"}
{"event_id":"e10"}' ] || fail_with "got"
	grep -q '^{"checkpoint":1,"seq":10,"file":{' "$ST"
}

@test "evquery --follow: a compaction of the store (seq kept) repeats nothing" {
	head -n 5 "$EV" > "$S"
	evquery --follow --state "$ST" "$S" > "$O" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_lines "$O" 5
	# the compactor rewrites the store with its newer events, then writers go on
	sed -n 4,6p "$EV" > "$S.new"
	mv "$S.new" "$S"
	wait_lines "$O" 6
	sed -n 7,10p "$EV" >> "$S"
	wait_lines "$O" 10
	kill $pid
	wait $pid
	cmp "$O" "$EV"
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "evquery: $S: replaced or truncated; reading it from the start after seq 5" ] || fail_with "stderr"
	# and a restart over the compacted store repeats nothing either
	run evquery --state "$ST" "$S"
	[ "$output" = "" ]
}

@test "evquery --state without seq: a truncated store is reported, not reread" {
	sed 's/,"seq":[0-9]*//' "$EV" > "$S"
	evquery --state "$ST" "$S" > /dev/null
	head -n 3 "$EV" | sed 's/,"seq":[0-9]*//' > "$S.short"
	cat "$S.short" > "$S"
	run_split evquery --state "$ST" "$S"
	[ "$status" -eq 5 ]
	[ "$output" = "" ]
	[[ "$stderr" == "evquery: --state $ST: $S: the file shrank from at least "* ]] || fail_with "stderr"
}

@test "evquery --follow --progress: a stop by signal ends with the final line, lines read = events + rejected" {
	head -n 2 "$EV" > "$S"
	evquery --follow --progress --errors "$BATS_TEST_TMPDIR/rej" "$S" > "$O" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_lines "$O" 2
	printf 'nope\n' >> "$S"
	sed -n 3,4p "$EV" >> "$S"
	wait_lines "$O" 4
	kill -TERM $pid
	st=0
	wait $pid || st=$?
	[ "$st" -eq 3 ] || fail_with "status $st"
	run cat "$BATS_TEST_TMPDIR/err"
	[ "$(printf '%s\n' "$output" | tr '\r' '\n' | grep -v '^$' | sed -n 1p)" = "evquery: $S:3: invalid JSON: unexpected 'n', expected a value at column 1" ] || fail_with "rejection"
	[ "$(printf '%s\n' "$output" | tr '\r' '\n' | sed -n 's/^evquery: [0-9.]* MB, \([0-9]*\) events, .*/\1/p' | tail -1)" = 5 ] || fail_with "final line"
	[ "$(tail -c 1 "$BATS_TEST_TMPDIR/err" | od -An -c | tr -d ' ')" = '\n' ] || fail_with "ends its line"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/rej")" -eq 1 ]
}

@test "evquery --follow usage errors" {
	for args in "-c" "--tail 2" "-q" "--sorted" "--format table"; do
		run evquery --follow $args "$EV"
		[ "$status" -eq 2 ] || fail_with "accepted: $args"
	done
	run_split evquery --follow "$EV" "$EV"
	[ "$status" -eq 2 ]
	[ "$stderr" = "evquery: --follow needs one file operand" ]
	run evquery --follow < "$EV"
	[ "$status" -eq 2 ]
	echo junk > "$ST"
	run evquery --state "$ST" "$EV"
	[ "$status" -eq 2 ]
}

@test "evquery --help lists --follow and --state, and the man page documents them" {
	run evquery --help
	for o in --follow --state; do
		help_has "$o" || fail_with "help lacks $o"
		grep -q -- "^\.It Fl -${o#--}" "$BATS_TEST_DIRNAME/../man/evquery.1" || fail_with "man lacks $o"
	done
}
