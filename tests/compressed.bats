#!/usr/bin/env bats
# Compressed input (evtools(7) Input): gzip and zstd files and pipes are
# read through lib/input by their magic bytes, in every tool; modes that
# seek or follow refuse them.  Fixtures are made here with gzip and zstd.

load helper

setup() {
	D="$BATS_TEST_TMPDIR"
	for i in 1 2 3; do
		printf '{"event_id":"e%s","aggregate_id":"a%s","event_type":"T","timestamp":"2026-11-0%sT00:00:00Z","payload":{"n":%s}}\n' \
			"$i" $((i % 2)) "$i" "$i"
	done > "$D/ev.ndjson"
	gzip -c "$D/ev.ndjson" > "$D/ev.gz"
	zstd -qc "$D/ev.ndjson" > "$D/ev.zst"
}

@test "gzip and zstd files read as their decompressed lines, byte for byte" {
	run_split evquery "$D/ev.gz"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$output" = "$(cat "$D/ev.ndjson")" ] || fail_with gz
	run_split evquery "$D/ev.zst"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$output" = "$(cat "$D/ev.ndjson")" ] || fail_with zst
}

@test "compressed standard input is recognised too (redirect and pipe)" {
	run_split sh -c 'evquery -c < "$1"' sh "$D/ev.gz"
	[ "$status" -eq 0 ] && [ "$output" = 3 ] && [ -z "$stderr" ] || fail_with redirect
	run_split sh -c 'cat "$1" | evquery -s @line,@id' sh "$D/ev.zst"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail_with pipe
	[ "$output" = $'{"line":1,"event_id":"e1"}\n{"line":2,"event_id":"e2"}\n{"line":3,"event_id":"e3"}' ] || fail_with pipe
}

@test "line numbers in rejections count decompressed lines" {
	{ printf '{"a":1}\n\nnot json\n{"a":2}\n'; } | gzip -c > "$D/bad.gz"
	run_split evquery "$D/bad.gz"
	[ "$status" -eq 3 ]
	[ "$output" = $'{"a":1}\n{"a":2}' ]
	[ "$stderr" = "evquery: $D/bad.gz:3: invalid JSON: unexpected 'n', expected a value at column 1" ] || fail_with stderr
}

@test "concatenated gzip members and several zstd frames read whole" {
	cat "$D/ev.gz" "$D/ev.gz" > "$D/two.gz"
	zstd -qc "$D/ev.ndjson" > "$D/f2.zst"
	cat "$D/ev.zst" "$D/f2.zst" > "$D/two.zst"
	run_split evquery -c "$D/two.gz" "$D/two.zst"
	[ "$status" -eq 0 ] && [ "$output" = 12 ] && [ -z "$stderr" ] || fail_with count
}

@test "a long line crossing many decompressed buffers stays whole" {
	python3 -c 'import json; print(json.dumps({"event_id":"big","s":"x"*1500000}))' > "$D/big.ndjson"
	cat "$D/ev.ndjson" >> "$D/big.ndjson"
	gzip -c "$D/big.ndjson" > "$D/big.gz"
	zstd -qc "$D/big.ndjson" > "$D/big.zst"
	for f in "$D/big.gz" "$D/big.zst"; do
		evquery "$f" > "$D/out"
		cmp "$D/out" "$D/big.ndjson"
	done
}

@test "a truncated gzip file is a read error naming the file (status 5)" {
	head -c 30 "$D/ev.gz" > "$D/t.gz"
	run_split evquery -c "$D/t.gz" "$D/ev.ndjson"
	[ "$status" -eq 5 ]
	[ "$stderr" = "evquery: $D/t.gz: read error: truncated gzip data" ] || fail_with stderr
}

@test "a truncated zstd file is a read error naming the file (status 5)" {
	head -c 20 "$D/ev.zst" > "$D/t.zst"
	run_split evquery -c "$D/t.zst"
	[ "$status" -eq 5 ]
	[ "$output" = 0 ]
	[ "$stderr" = "evquery: $D/t.zst: read error: truncated zstd data" ] || fail_with stderr
}

@test "corrupt compressed data is a read error saying what the decoder found" {
	cp "$D/ev.gz" "$D/c.gz"
	printf '\377\377\377\377' | dd of="$D/c.gz" bs=1 seek=24 conv=notrunc 2>/dev/null
	run_split evquery -c "$D/c.gz"
	[ "$status" -eq 5 ]
	case "$stderr" in "evquery: $D/c.gz: read error: corrupt gzip data: "?*) ;; *) fail_with gz ;; esac
	cp "$D/ev.zst" "$D/c.zst"
	printf 'garbage' | dd of="$D/c.zst" bs=1 seek=4 conv=notrunc 2>/dev/null
	run_split evquery -c "$D/c.zst"
	[ "$status" -eq 5 ]
	case "$stderr" in "evquery: $D/c.zst: read error: corrupt zstd data: "?*) ;; *) fail_with zst ;; esac
}

@test "bytes after the last gzip member are a read error, not ignored" {
	{ cat "$D/ev.gz"; echo junk; } > "$D/g.gz"
	run_split evquery -c "$D/g.gz"
	[ "$status" -eq 5 ]
	[ "$output" = 3 ]
	[ "$stderr" = "evquery: $D/g.gz: read error: bytes after the end of the gzip data" ] || fail_with stderr
}

@test "--sorted, --follow and evquery --state refuse a compressed file (status 2)" {
	run_split evquery --sorted --since 2026-11-02 "$D/ev.gz" "$D/ev.ndjson"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = '{"event_id":"e2","aggregate_id":"a0","event_type":"T","timestamp":"2026-11-02T00:00:00Z","payload":{"n":2}}' ] || fail_with sorted
	[ "${#lines[@]}" -eq 2 ]
	[ "$stderr" = "evquery: $D/ev.gz: --sorted cannot seek in gzip-compressed data; decompress it first" ] || fail_with sorted
	run_split evquery --follow "$D/ev.zst"
	[ "$status" -eq 2 ] && [ -z "$output" ]
	[ "$stderr" = "evquery: $D/ev.zst: --follow needs an uncompressed file (this one is zstd-compressed)" ] || fail_with follow
	run_split evquery --state "$D/st" "$D/ev.gz"
	[ "$status" -eq 2 ] && [ -z "$output" ] && [ ! -e "$D/st" ]
	[ "$stderr" = "evquery: $D/ev.gz: --state needs an uncompressed file (this one is gzip-compressed)" ] || fail_with state
}

@test "evproject --state over a compressed file is positioned by seq, as a pipe is" {
	for i in 1 2 3; do
		printf '{"seq":%s,"event_type":"T","timestamp":"2026-11-0%sT00:00:00Z"}\n' "$i" "$i"
	done | gzip -c > "$D/s.gz"
	run_split evproject --state "$D/st" -p by-type "$D/s.gz"
	[ "$status" -eq 0 ] && [ "$output" = '{"event_type":"T","count":3}' ] && [ -z "$stderr" ] || fail_with first
	run_split evproject --state "$D/st" -p by-type "$D/ev.gz"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = '{"event_type":"T","count":3}' ] || fail_with second
	[ "$(printf '%s\n' "$stderr" | head -n 1)" = "evproject: $D/ev.gz:1: no seq (a whole number from 1): --state cannot resume in a stream that is not a regular file without it" ] || fail_with second
}

@test "every tool reads compressed operands: evproject, evreplay, evsnap, evcep, evjoin, evdlq" {
	run_split evproject -p by-aggregate "$D/ev.zst"
	[ "$status" -eq 0 ] && [ "$output" = $'{"aggregate_id":"a1","count":2}\n{"aggregate_id":"a0","count":1}' ] || fail_with evproject
	run_split evreplay "$D/ev.gz"
	[ "$status" -eq 0 ] || fail_with evreplay
	[ "${lines[0]}" = '{"aggregate_id":"a1","version":2,"state":{"n":3},"events_replayed":2,"first_at":"2026-11-01T00:00:00.000000Z","last_at":"2026-11-03T00:00:00.000000Z","last_event_id":"e3"}' ] || fail_with evreplay
	run_split evsnap "$D/ev.zst"
	[ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 2 ] || fail_with evsnap
	run_split evcep -p 'two: T -> T within 2d' "$D/ev.gz"
	[ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 1 ] || fail_with evcep
	run_split evjoin --within 0 "$D/ev.gz" "$D/ev.zst"
	[ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 3 ] || fail_with evjoin
	evwrite --dry-run "$D/ev.ndjson" | evdlq fail --reason r --now 2026-11-05 | gzip -c > "$D/dlq.gz"
	run_split evdlq triage --now 2026-11-05 "$D/dlq.gz"
	[ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 3 ] || fail_with evdlq
}

@test "a pipe's first short line is not held back waiting for more magic bytes" {
	# '{}' and its newline are 3 bytes: evquery -q must answer at once,
	# not wait for a fourth byte (the writer sleeps 5 s before ending)
	run_split sh -c '{ echo "{}"; sleep 5; } | { s=$(date +%s%N); evquery -q; r=$?; e=$(date +%s%N); echo "$r $(( (e - s) / 1000000 ))"; }'
	set -- $output
	[ "$1" -eq 0 ] && [ "$2" -lt 3000 ] || fail_with "took $2 ms"
}
