#!/usr/bin/env bats
# Rules that hold across the whole family of tools.

load helper

tools() { for t in "$EVBIN"/ev*; do [ -x "$t" ] && basename "$t"; done; }

@test "no short option letter means two different things across the tools" {
	for t in $(tools); do
		"$t" --help | sed -n 's/^ *-\([A-Za-z0-9]\), \(--[a-z-]*\).*/\1 \2/p' | sed "s/\$/ $t/"
	done | sort -u > "$BATS_TEST_TMPDIR/letters"
	[ -s "$BATS_TEST_TMPDIR/letters" ]
	# -p is each tool's program (DESIGN: evproject's projection, evcep's pattern)
	run sh -c "awk '\$1 != \"p\" { print \$1, \$2 }' '$BATS_TEST_TMPDIR/letters' | sort -u | awk '{ print \$1 }' | uniq -d"
	[ "$output" = "" ] || fail_with "letters with two meanings: $(grep -E "^($(echo $output | tr ' ' '|')) " "$BATS_TEST_TMPDIR/letters")"
}

@test "every tool has a man page that lints clean and an exit status table" {
	for t in $(tools); do
		m="$BATS_TEST_DIRNAME/../man/$t.1"
		[ -f "$m" ] || fail_with "$t has no man page"
		grep -q '^\.Sh EXIT STATUS' "$m" || fail_with "$t.1 lacks EXIT STATUS"
		grep -q '^\.Sh EXAMPLES' "$m" || fail_with "$t.1 lacks EXAMPLES"
		run mandoc -Tlint -Wwarning "$m"
		[ "$output" = "" ] || fail_with "mandoc: $t.1"
	done
}

@test "every tool answers --version and rejects an unknown option with status 2" {
	for t in $(tools); do
		run "$t" --version
		[ "$status" -eq 0 ] && [ "$output" = "$t (evtools) 0.1.0" ] || fail_with "$t --version"
		run "$t" --no-such-option
		[ "$status" -eq 2 ] || fail_with "$t unknown option"
	done
}

@test "every tool reports a full disk on standard output with status 5" {
	for t in $(tools); do
		run_split sh -c "'$t' --help > /dev/full"
		[ "$status" -eq 5 ] || fail_with "$t --help > /dev/full"
	done
}

@test "every tool reports a full disk while writing events with status 5" {
	printf '%s\n' '{"aggregate_id":"a","event_type":"X","payload":{},"timestamp":"2026-11-01T00:00:00Z"}' > "$BATS_TEST_TMPDIR/e.ndjson"
	for cmd in evquery evreplay evsnap "evproject -p by-type" evwrite "evcep -p x:X"; do
		[ -x "$EVBIN/${cmd%% *}" ] || continue
		run_split sh -c "$cmd '$BATS_TEST_TMPDIR/e.ndjson' > /dev/full"
		[ "$status" -eq 5 ] || fail_with "$cmd > /dev/full"
		[ "$stderr" = "${cmd%% *}: write error on standard output: No space left on device" ] || fail_with "$cmd message"
	done
}
