#!/usr/bin/env bats
# Scale-out (evtools(7) Scale-out): independent processes over parts of a
# stream, run by GNU parallel, then one merge, give exactly the result of
# one process.  The events come from bench/gen.c (they carry seq, as a
# store written by evwrite does).

load helper

AGGS=(-g payload.customer_id -a count -a sum:payload.total -a avg:payload.total
	-a p90:payload.total -a distinct:@type -a first:@type -a last:@type
	-a min:@time -a max:@time -a 'items=collect:payload.items.0.sku')

setup_file() {
	cc -O2 -o "$BATS_FILE_TMPDIR/gen" "$BATS_TEST_DIRNAME/../bench/gen.c"
	"$BATS_FILE_TMPDIR/gen" 20000 7 > "$BATS_FILE_TMPDIR/ev.ndjson"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	EV="$BATS_FILE_TMPDIR/ev.ndjson"
	# one quoted argument list for the command lines parallel runs
	A=$(printf "'%s' " "${AGGS[@]}")
}

@test "evproject --partial over key shards run by parallel, then --merge, gives the rows of one run" {
	evproject "${AGGS[@]}" "$EV" > single
	[ "$(wc -l < single)" -gt 100 ] || fail_with "too few groups"
	run_split parallel --will-cite -j2 "evquery --shard {}/4 '$EV' | evproject $A --partial > part.{}" ::: 0 1 2 3
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "parallel"
	run_split sh -c 'cat part.0 part.1 part.2 part.3 | evproject "$@" --merge' sh "${AGGS[@]}"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "merge"
	[ "$output" = "$(cat single)" ] || fail_with "merged rows differ"
	# the parts in another order merge to the same rows
	run_split sh -c 'cat part.3 part.1 part.0 part.2 | evproject "$@" --merge' sh "${AGGS[@]}"
	[ "$output" = "$(cat single)" ] || fail_with "merge order"
}

@test "evproject --partial over blocks of lines (parallel --pipepart), then --merge, gives the rows of one run" {
	evproject "${AGGS[@]}" "$EV" > single
	# blocks cut at line ends, so a group spreads over every part
	run_split parallel --will-cite --pipepart -a "$EV" --block 300k -j2 "evproject $A --partial"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "pipepart"
	printf '%s\n' "$output" > parts
	[ "$(grep -c '"group":\["cust-1"\]' parts)" -gt 2 ] || fail_with "the blocks did not split the groups"
	run_split evproject "${AGGS[@]}" --merge parts
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "merge"
	[ "$output" = "$(cat single)" ] || fail_with "merged rows differ"
}

@test "evreplay over key shards run by parallel gives one run's states, each aggregate in one shard" {
	evreplay "$EV" | sort > single
	run_split parallel --will-cite -j2 "evquery --shard {}/3 '$EV' | evreplay > state.{}" ::: 0 1 2
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "parallel"
	[ "$(cat state.0 state.1 state.2 | wc -l)" -eq "$(wc -l < single)" ] || fail_with "an aggregate in two shards"
	[ "$(cat state.0 state.1 state.2 | sort)" = "$(cat single)" ] || fail_with "states differ"
}
