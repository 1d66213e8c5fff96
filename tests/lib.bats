#!/usr/bin/env bats
# Unit tests of lib/ modules through small C drivers (tests/unit/*.c).
load helper

@test "bmap: put, get, overwrite, delete and count" {
	run_split "$EVUNIT/bmap_test" <<'EOF_IN'
put a 1
put b 2
put a 3
get a
get b
get c
del a
del a
get a
get b
count
EOF_IN
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "$(printf 'new\nnew\nold\n3\n2\nabsent\ndeleted\nabsent\nabsent\n2\n1')" ] || fail_with "output"
}

@test "bmap: a million sequential keys need about 1.4 probes a lookup" {
	run_split "$EVUNIT/bmap_test" <<<'seq 1000000 order-'
	[ "$status" -eq 0 ] || fail_with "status"
	[[ "$output" =~ ^count\ 1000000\ probes\ 1\.([0-4][0-9])$ ]] || fail_with "more than 1.49 probes"
}

@test "bmap: deletions never lose a live key (backward-shift deletion)" {
	run_split "$EVUNIT/bmap_test" <<<'churn 100000'
	[ "$status" -eq 0 ] && [ "$output" = ok ] || fail_with "a key was lost"
}

@test "json: duplicate keys are found in objects of more than 24 members, escaped or not" {
	awk 'BEGIN { for (i = 0; i < 100; i++) k = k (i ? "," : "") "\"k" i "\":" i
		print "{" k "}"; print "{" k ",\"k\\u0035\":1}"; print "{" k ",\"k50\":1}" }' >"$BATS_TEST_TMPDIR/big.ndjson"
	run_split evquery -c "$BATS_TEST_TMPDIR/big.ndjson"
	[ "$status" -eq 3 ] && [ "$output" = 1 ] || fail_with "status/count"
	[ "$stderr" = "evquery: $BATS_TEST_TMPDIR/big.ndjson:2: duplicate key \"k5\" at column 882
evquery: $BATS_TEST_TMPDIR/big.ndjson:3: duplicate key \"k50\" at column 882" ] || fail_with "stderr"
}

# ---- lib/agg.c through tests/unit/agg_test.c --------------------------------

@test "agg: count counts every event, null and missing values too" {
	run_split "$EVUNIT/agg_test" <<'EOF_IN'
spec count
v 1
missing
v null
result
partial
spec n=count
result
EOF_IN
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail_with "status"
	[ "$output" = 'ok count
3
{"n":3}
ok n
0' ] || fail_with "output"
}

@test "agg: sum and avg are exact decimals; non-numbers are skipped and counted; no value gives null" {
	run_split "$EVUNIT/agg_test" <<'EOF_IN'
spec sum:x
v 0.1
v 0.2
v 0.3
result
spec sum:x
v 9007199254740993
v 1
v "3"
v null
v true
missing
result
nonnumeric
partial
spec sum:x
v 1.5
v 9007199254740993
partial
result
spec sum:x
result
spec avg:x
v 1
v 2
v 2
result
spec avg:x
v 0.1
v 0.2
result
spec avg:x
result
EOF_IN
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = 'ok sum_x
0.6
ok sum_x
9007199254740994
2
{"n":2,"s":9007199254740994}
ok sum_x
{"n":2,"s":9007199254740994.5}
9007199254740994
ok sum_x
null
ok avg_x
1.6666666666666667
ok avg_x
0.15
ok avg_x
null' ] || fail_with "output"
}

@test "agg: min and max compare exactly beyond 2^53 and write the value as it was written" {
	run_split "$EVUNIT/agg_test" <<'EOF_IN'
spec min:x
v 9007199254740993
v 9007199254740992
v 1.0e0
v "0"
result
spec max:x
v 9007199254740992
v 9007199254740993
v 9007199254740992.5
v -1e400
result
nonnumeric
spec max:x
v "a"
result
EOF_IN
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = 'ok min_x
1.0e0
ok max_x
9007199254740993
0
ok max_x
null' ] || fail_with "output"
}

@test "agg: percentiles are exact nearest-rank over the numeric values" {
	run_split "$EVUNIT/agg_test" <<'EOF_IN'
spec p50:x
v 5
v 1
v 4
v 2
v 3
v "x"
v null
result
spec p90:x
v 1
v 2
v 3
v 4
v 5
v 6
v 7
v 8
v 9
v 10
result
spec p99:x
v 1
v 2
result
spec p50:x
v 9007199254740993
v 9007199254740992
result
spec p50:x
result
EOF_IN
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = 'ok p50_x
3
ok p90_x
9
ok p99_x
2
ok p50_x
9007199254740992
ok p50_x
null' ] || fail_with "output"
}

@test "agg: distinct counts JSON values (\"1\" and 1 differ, null counts, missing does not)" {
	run_split "$EVUNIT/agg_test" <<'EOF_IN'
spec distinct:x
v 1
v "1"
v 1
v null
missing
v {"a":1}
v {"a":1}
result
EOF_IN
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = 'ok distinct_x
4' ] || fail_with "output"
}

@test "agg: first, last and collect follow positions; stddev is the sample deviation" {
	run_split "$EVUNIT/agg_test" <<'EOF_IN'
spec first:x
missing
v null
v 2
result
spec last:x
v 1
v 2
missing
result
spec collect:x
v 1
v null
missing
v "a"
result
spec stddev:x
v 2
v 4
v 4
v 4
v 5
v 5
v 7
v 9
result
EOF_IN
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = 'ok first_x
null
ok last_x
2
ok collect_x
[1,null,"a"]
ok stddev_x
2.138089935299395' ] || fail_with "output"
}

@test "agg: merged states equal one pass: sums, first/last by position, percentiles, distinct" {
	run_split "$EVUNIT/agg_test" <<'EOF_IN'
spec sum:x
v 0.1
v 0.2
state 1
v 0.3
merge 0
result
spec first:x
pos 10
v "b"
state 1
pos 5
v "a"
state 0
merge 1
result
partial
spec last:x
pos 10
v "b"
state 1
pos 5
v "a"
merge 0
result
spec p50:x
v 1
v 2
state 1
v 3
v 4
v 5
merge 0
result
partial
spec distinct:x
v 1
state 1
v 1
v 2
state 0
merge 1
result
EOF_IN
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = 'ok sum_x
0.6
ok first_x
"a"
{"v":"a","x":5}
ok last_x
"b"
ok p50_x
3
{"v":[1,2,3,4,5]}
ok distinct_x
2' ] || fail_with "output"
}

@test "agg: a partial state merges in; a malformed one is refused with the reason" {
	run_split "$EVUNIT/agg_test" <<'EOF_IN'
spec count
mergepartial {"n":3}
v 1
result
mergepartial {"x":3}
mergepartial [1]
spec bogus:x
spec sum
EOF_IN
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = 'ok count
ok
4
error: count: bad count state
error: count: partial state is not an object
error: unknown aggregation '"'"'bogus'"'"' in '"'"'bogus:x'"'"' (count, sum, avg, min, max, first, last, distinct, collect, stddev, p1 ... p99, median)
error: sum needs a path: '"'"'sum:PATH'"'"'' ] || fail_with "output"
}

@test "agg: the stats kinds: earliest and latest time, a count per value" {
	run_split "$EVUNIT/agg_test" <<'EOF_IN'
spec first:@time
kind tmin
t 2026-01-01T00:00:10Z
t 2026-01-01T00:00:05Z
missing
result
spec last:@time
kind tmax
t 2026-01-01T00:00:10Z
t 2026-01-01T00:00:05Z
result
spec first:x
kind valcount
v "A"
v "B"
v "A"
result
EOF_IN
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = 'ok first__time
ok
"2026-01-01T00:00:05.000000Z"
ok last__time
ok
"2026-01-01T00:00:10.000000Z"
ok first_x
ok
{"A":2,"B":1}' ] || fail_with "output"
}
