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
