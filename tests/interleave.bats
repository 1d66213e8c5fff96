#!/usr/bin/env bats
# evquery --interleave: several time-ordered logs as one stream in time
# order (lib/merge), over Zeek-shaped logs (dotted member names, ts as
# epoch seconds with a fraction).

load helper

Z="$BATS_TEST_DIRNAME/fixtures/evquery/zeek"

setup() {
	D="$BATS_TEST_TMPDIR"
	printf '%s\n' '{"ts":1700000000.2,"uid":"X1"}' '{"ts":1700000002.5,"uid":"X2"}' \
		'{"ts":1700000001.0,"uid":"X3"}' '{"ts":1700000003.5,"uid":"X4"}' > "$D/dis.log"
}

@test "evquery --interleave merges Zeek logs by ts, ties in operand order" {
	run_split evquery --interleave --time-field ts -s '@time,uid,id.orig_h,note' \
		"$Z/dns.log" "$Z/ssl.log" "$Z/weird.log" "$Z/notice.log"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail_with status
	[ "$output" = '{"ts":"2023-11-14T22:13:20.100000Z","uid":"CdnsA1","id.orig_h":"10.0.0.5","note":null}
{"ts":"2023-11-14T22:13:20.500000Z","uid":"CsslB1","id.orig_h":"10.0.0.5","note":null}
{"ts":"2023-11-14T22:13:21.250000Z","uid":"CdnsA2","id.orig_h":"10.0.0.5","note":null}
{"ts":"2023-11-14T22:13:21.250000Z","uid":"CsslB1","id.orig_h":"10.0.0.5","note":null}
{"ts":"2023-11-14T22:13:22.000000Z","uid":"CsslB1","id.orig_h":"10.0.0.5","note":"SSL::Invalid_Server_Cert"}
{"ts":"2023-11-14T22:13:23.000000Z","uid":"CdnsA3","id.orig_h":"10.0.0.9","note":null}
{"ts":"2023-11-14T22:13:23.000000Z","uid":"CsslB2","id.orig_h":"10.0.0.9","note":null}
{"ts":"2023-11-14T22:13:24.750000Z","uid":"CsslB2","id.orig_h":"10.0.0.9","note":"SSL::Invalid_Server_Cert"}' ] || fail_with output
	# operand order decides the tie at 21.25: weird first now
	run_split evquery --interleave --time-field ts -s uid "$Z/weird.log" "$Z/dns.log"
	[ "$output" = $'{"uid":"CdnsA1"}\n{"uid":"CsslB1"}\n{"uid":"CdnsA2"}\n{"uid":"CdnsA3"}' ] || fail_with ties
}

@test "evquery --interleave writes events byte for byte and applies the filters" {
	run_split evquery --interleave --time-field ts -w 'id.orig_h == "10.0.0.9"' "$Z/ssl.log" "$Z/notice.log"
	[ "$status" -eq 0 ]
	[ "$output" = "$(sed -n 2p "$Z/ssl.log")
$(sed -n 2p "$Z/notice.log")" ] || fail_with output
	run_split evquery --interleave --time-field ts -n 2 -c "$Z/dns.log" "$Z/ssl.log"
	[ "$status" -eq 0 ] && [ "$output" = 2 ] || fail_with limit
}

@test "an event out of time order in its own file is rejected with FILE:LINE, not misplaced" {
	run_split evquery --interleave --time-field ts -s uid "$Z/dns.log" "$D/dis.log"
	[ "$status" -eq 3 ]
	[ "$output" = $'{"uid":"CdnsA1"}\n{"uid":"X1"}\n{"uid":"CdnsA2"}\n{"uid":"X2"}\n{"uid":"CdnsA3"}\n{"uid":"X4"}' ] || fail_with output
	[ "$stderr" = "evquery: $D/dis.log:3: out of time order (2023-11-14T22:13:21.000000Z, after 2023-11-14T22:13:22.500000Z in this input)" ] || fail_with stderr
	run_split evquery --interleave --time-field ts --strict -c "$D/dis.log"
	[ "$status" -eq 3 ] && [ "$output" = 2 ] || fail_with strict
}

@test "--lateness reorders events within it; --late routes the rest; unrouted late events set status 3" {
	run_split evquery --interleave --time-field ts --lateness 2s -s uid "$Z/dns.log" "$D/dis.log"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail_with lateness
	[ "$output" = $'{"uid":"CdnsA1"}\n{"uid":"X1"}\n{"uid":"X3"}\n{"uid":"CdnsA2"}\n{"uid":"X2"}\n{"uid":"CdnsA3"}\n{"uid":"X4"}' ] || fail_with lateness
	run_split evquery --interleave --time-field ts --late "$D/late.ndjson" -c "$Z/dns.log" "$D/dis.log"
	[ "$status" -eq 0 ] && [ "$output" = 6 ] || fail_with late
	[ "$stderr" = "evquery: 1 late event left out of the stream (written to $D/late.ndjson)" ] || fail_with late
	[ "$(cat "$D/late.ndjson")" = '{"ts":1700000001.0,"uid":"X3"}' ]
	run_split evquery --interleave --time-field ts --lateness 1s -c "$D/dis.log"
	[ "$status" -eq 3 ] && [ "$output" = 3 ] || fail_with counted
	[ "$stderr" = "evquery: 1 late event left out of the stream; use --lateness DUR or --late FILE" ] || fail_with counted
}

@test "evquery --interleave rejects events without a time; an unreadable operand is reported, the rest still read" {
	printf '%s\n' '{"uid":"none"}' '{"ts":1700000000.0,"uid":"Y"}' > "$D/nots.log"
	run_split evquery --interleave --time-field ts -s uid "$D/missing.log" "$Z/weird.log"
	[ "$status" -eq 2 ] && [ "$output" = '{"uid":"CsslB1"}' ] || fail_with missing
	run_split evquery --interleave --time-field ts -s uid "$D/nots.log" "$D/missing.log" "$Z/weird.log"
	[ "$status" -eq 3 ]
	[ "$output" = $'{"uid":"Y"}\n{"uid":"CsslB1"}' ] || fail_with output
	[ "$stderr" = "evquery: $D/missing.log: No such file or directory
evquery: $D/nots.log:1: missing time field 'ts'" ] || fail_with stderr
}

@test "evquery --interleave reads compressed logs and standard input" {
	gzip -c "$Z/dns.log" > "$D/dns.log.gz"
	run_split sh -c 'evquery --interleave --time-field ts -s uid "$1" - < "$2"' sh "$D/dns.log.gz" "$Z/notice.log"
	[ "$status" -eq 0 ]
	[ "$output" = $'{"uid":"CdnsA1"}\n{"uid":"CdnsA2"}\n{"uid":"CsslB1"}\n{"uid":"CdnsA3"}\n{"uid":"CsslB2"}' ] || fail_with output
}

@test "--interleave with --sorted, --follow or --state, and --lateness without it, are usage errors" {
	for o in --sorted --follow "--state $D/st"; do
		# shellcheck disable=SC2086
		run_split evquery --interleave $o "$Z/dns.log" "$Z/ssl.log"
		[ "$status" -eq 2 ] && [ -z "$output" ] || fail_with "$o"
		[ "${stderr%%$'\n'*}" = "evquery: --interleave cannot be combined with --sorted, --follow or --state" ] || fail_with "$o"
	done
	run_split evquery --lateness 1s "$Z/dns.log"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: --lateness and --late need --interleave" ] || fail_with lateness
	run_split evquery --interleave --lateness soon "$Z/dns.log"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: --lateness: expected a duration or inf, not 'soon'" ] || fail_with bad
}
