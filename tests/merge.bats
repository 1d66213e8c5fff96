#!/usr/bin/env bats
# lib/merge: several inputs as one stream in event-time order, driven
# through $EVUNIT/merge_test (tests/unit/merge_test.c), which prints
# "w TIME" when the watermark moves and "SRC:LINE TIME" per event.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# t N: an event at N seconds past 2026-11-01T00:00:00Z
t() { printf '{"timestamp":"2026-11-01T00:00:%02dZ"}\n' "$1"; }
T() { printf '2026-11-01T00:00:%02d.000000Z' "$1"; }

@test "merge interleaves time-ordered inputs, ties in operand order then input order" {
	{ t 1; t 3; t 3; t 5; } > a
	{ t 2; t 3; t 4; } > b
	run_split "$EVUNIT/merge_test" a b
	[ "$status" -eq 0 ] && [ "$stderr" = "" ]
	[ "$output" = "w $(T 1)
0:1 $(T 1)
w $(T 2)
1:1 $(T 2)
w $(T 3)
0:2 $(T 3)
0:3 $(T 3)
1:2 $(T 3)
w $(T 4)
1:3 $(T 4)
w $(T 5)
0:4 $(T 5)
w end" ] || fail_with "got"
	# operand order decides ties, whatever the file names
	run_split "$EVUNIT/merge_test" b a
	[ "${lines[5]}" = "0:2 $(T 3)" ] && [ "${lines[6]}" = "1:2 $(T 3)" ] && [ "${lines[7]}" = "1:3 $(T 3)" ] || fail_with "b a"
}

@test "merge rejects bad lines and events without time with their own file and line, and counts late events" {
	{ t 1; echo 'oops'; t 4; t 2; echo '{"x":1}'; t 6; } > a
	{ t 3; } > b
	run_split "$EVUNIT/merge_test" a b
	[ "$status" -eq 3 ]
	[ "$output" = "w $(T 1)
0:1 $(T 1)
w $(T 3)
1:1 $(T 3)
w $(T 4)
0:3 $(T 4)
w $(T 6)
0:6 $(T 6)
w end" ] || fail_with "got"
	[ "$stderr" = "merge_test: a:2: invalid JSON: unexpected 'o', expected a value at column 1
merge_test: a:4: out of time order ($(T 2), after $(T 4) in this input)
merge_test: a:5: missing time field 'timestamp'" ] || fail_with "stderr"
}

@test "merge with a lateness puts slightly late events back in order and keeps their line numbers" {
	{ t 1; t 5; t 3; t 9; t 2; } > a
	{ t 4; } > b
	run_split "$EVUNIT/merge_test" --lateness 3s --late late.ndjson a b
	[ "$status" -eq 0 ]
	[ "$output" = "w $(T 1)
0:1 $(T 1)
w $(T 3)
0:3 $(T 3)
w $(T 4)
1:1 $(T 4)
w $(T 5)
0:2 $(T 5)
w $(T 9)
0:4 $(T 9)
w end" ] || fail_with "got"
	[ "$(cat late.ndjson)" = "$(t 2)" ] || fail_with "late"
	[ "$stderr" = "merge_test: 1 late event merged nowhere (written to late.ndjson)" ] || fail_with "stderr"
}

@test "merge reports an input that cannot be opened and reads the others" {
	t 1 > a
	run_split "$EVUNIT/merge_test" missing a
	[ "$status" -eq 2 ]
	[ "$output" = "w $(T 1)
1:1 $(T 1)
w end" ] || fail_with "got"
	[ "$stderr" = "merge_test: missing: No such file or directory" ] || fail_with "stderr"
}

@test "merge --lateness inf holds everything until the end, then gives it in order" {
	{ t 5; t 1; } > a
	{ t 3; } > b
	run_split "$EVUNIT/merge_test" --lateness inf a b
	[ "$status" -eq 0 ]
	[ "$output" = "w $(T 1)
0:2 $(T 1)
w $(T 3)
1:1 $(T 3)
w $(T 5)
0:1 $(T 5)
w end" ] || fail_with "got"
}
