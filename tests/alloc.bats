#!/usr/bin/env bats
# Allocation failures (EV_FAIL_ALLOC=N fails the Nth checked allocation,
# lib/ev.c): walked over a small run of each tool, every failure must end
# with "out of memory" and status 5 — never a crash, a torn store or a
# half-written output file — and a run past the last allocation must give
# the normal result.
load helper

ORDERS="$BATS_TEST_DIRNAME/../examples/orders.ndjson"

# walk SETUP CHECK CMD...: for N = 1, 2, ... (steps growing by an eighth
# past 50) run SETUP, then CMD with EV_FAIL_ALLOC=N, then CHECK; stop at
# the first N where CMD succeeds as without the fault (same status and
# output; same status only with WALK_ANY_OUTPUT set, for generated ids).
walk() {
	local setup=$1 check=$2 n=1 runs=0
	shift 2
	$setup
	run_split "$@"
	local want_status=$status want_output=$output
	while :; do
		$setup
		run_split env EV_FAIL_ALLOC=$n "$@"
		runs=$((runs + 1))
		if [ "$status" -eq "$want_status" ] && { [ -n "${WALK_ANY_OUTPUT:-}" ] || [ "$output" = "$want_output" ]; } &&
			[[ "$stderr" != *"out of memory"* ]]; then
			break
		fi
		[ "$status" -eq 5 ] || fail_with "EV_FAIL_ALLOC=$n: status $status, not 5"
		[[ "$stderr" == *"out of memory"* ]] || fail_with "EV_FAIL_ALLOC=$n: no message"
		$check || fail_with "EV_FAIL_ALLOC=$n: check failed"
		[ "$n" -lt 100000 ] || fail_with "never succeeded"
		if [ "$n" -lt 50 ]; then n=$((n + 1)); else n=$((n + n / 8)); fi
	done
	[ "$runs" -gt 5 ] || fail_with "only $runs runs: the hook did not fire"
}

none() { :; }

@test "allocation failures: evquery ends with status 5 and a message at every point" {
	walk none none evquery -w 'payload.total > 100' -s @key,payload.total --format table "$ORDERS"
}

@test "allocation failures: evproject and evreplay end with status 5 at every point" {
	walk none none evproject -g payload.customer_id -a sum:payload.total --window tumbling:1h "$ORDERS"
	walk none none evreplay "$ORDERS"
}

snap_setup() { rm -rf "$BATS_TEST_TMPDIR/s"; mkdir "$BATS_TEST_TMPDIR/s"; echo old >"$BATS_TEST_TMPDIR/s/snaps.ndjson"; }
snap_check() {
	[ "$(cat "$BATS_TEST_TMPDIR/s/snaps.ndjson")" = old ] && [ "$(ls -A "$BATS_TEST_TMPDIR/s")" = snaps.ndjson ]
}

@test "allocation failures: evsnap -o leaves the old file and no temp file" {
	walk snap_setup snap_check evsnap -o "$BATS_TEST_TMPDIR/s/snaps.ndjson" "$ORDERS"
}

store_setup() {
	rm -rf "$BATS_TEST_TMPDIR/w"; mkdir "$BATS_TEST_TMPDIR/w"
	cp "$ORDERS" "$BATS_TEST_TMPDIR/w/store.ndjson"
	printf '{"aggregate_id":"order-1","event_type":"OrderNoted","payload":{"n":%d}}\n' 1 2 3 >"$BATS_TEST_TMPDIR/new.ndjson"
}
# the store is the original plus whole appended events, and opens cleanly
store_check() {
	local s="$BATS_TEST_TMPDIR/w/store.ndjson"
	cmp -s -n "$(wc -c <"$ORDERS")" "$s" "$ORDERS" || return 1
	[ -z "$(tail -c 1 "$s")" ] || return 1
	evwrite --store "$s" </dev/null >/dev/null 2>&1
}

@test "allocation failures: evwrite --store never leaves a torn or damaged store" {
	WALK_ANY_OUTPUT=1 walk store_setup store_check sh -c 'evwrite --store "$1/w/store.ndjson" --now 2026-11-27T10:00Z <"$1/new.ndjson"' _ "$BATS_TEST_TMPDIR"
}
