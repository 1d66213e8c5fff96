#!/usr/bin/env bats
# evquery: selection, output forms, and the shared input conventions
# (rejections, byte preservation) exercised through it.

load helper

EV="$BATS_TEST_DIRNAME/fixtures/evquery/events.ndjson"
FQ="$BATS_TEST_DIRNAME/fixtures/evquery"

# ids of the events in $output, one per line, comma-joined
ids() { printf '%s\n' "$output" | sed -n 's/^{"event_id":"\([^"]*\)".*/\1/p' | paste -sd, -; }

@test "evquery with no filter passes every event through byte for byte" {
	run evquery "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$EV")" ]
}

@test "evquery reads standard input when given no file or -" {
	run sh -c "evquery < '$EV' | cmp - '$EV' && evquery - < '$EV' | cmp - '$EV'"
	[ "$status" -eq 0 ]
}

@test "evquery -t keeps the listed types" {
	run evquery -t OrderPaid,OrderShipped "$EV"
	[ "$status" -eq 0 ]
	[ "$(ids)" = "e2,e4" ]
}

@test "evquery --type with one type and -v inverts it" {
	run evquery -v --type OrderPlaced "$EV"
	[ "$(ids)" = "e2,e4,e6,e7" ]
}

@test "evquery -A matches string keys only; several -A are ORed" {
	run evquery -A order-2 -A order-3 "$EV"
	[ "$(ids)" = "e3,e5,e6" ]
	run evquery -A 42 "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "evquery -w filters by expression, repeated -w are ANDed" {
	run evquery -w 'payload.total > 100' "$EV"
	[ "$(ids)" = "e1,e5" ]
	run evquery -w 'payload.total > 100' -w 'payload.customer_id == "c1"' -w '@key != "order-1"' "$EV"
	[ "$(ids)" = "e5" ]
}

@test "evquery -w combines with -t and -A (all ANDed)" {
	run evquery -t OrderPlaced -A order-1 -w 'payload.total > 100' "$EV"
	[ "$(ids)" = "e1" ]
}

@test "evquery -w with --arg and --argjson" {
	run evquery --arg c c1 --argjson min 500 -w 'payload.customer_id == $c && payload.total > $min' "$EV"
	[ "$(ids)" = "e5" ]
}

@test "evquery -w matches a numeric key with @key" {
	run evquery -w '@key == 42' -s event_id "$EV"
	[ "$output" = '{"event_id":"e8"}' ]
}

@test "evquery a bad expression is a usage error with the column" {
	run_split evquery -w 'payload.total >' "$EV"
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[[ "${stderr%%$'\n'*}" == "evquery: -w: column 16: "* ]] || fail_with "stderr"
}

@test "evquery --since and --until are inclusive" {
	run evquery --since 2026-11-01T10:05:00Z --until 2026-11-02T09:30Z "$EV"
	[ "$(ids)" = "e2,e3,e4,e5" ]
}

@test "evquery --until one microsecond before an event excludes it" {
	run evquery --until 2026-11-01T10:04:59.999999Z "$EV"
	[ "$(ids)" = "e1" ]
	run evquery --since 2026-11-02T10:00:00.000001Z "$EV"
	[ "$(ids)" = "e8" ]
}

@test "evquery --since reads epoch-second times with --time-unit" {
	run evquery --since 2026-11-03 --time-unit s -s event_id "$EV"
	[ "$output" = '{"event_id":"e8"}' ]
}

@test "evquery --since with a date alone starts at its midnight UTC" {
	run evquery --since 2026-11-02 -c "$EV"
	[ "$output" = "4" ]
}

@test "evquery relative --since uses --now" {
	run evquery --now 2026-11-02T10:30:00Z --since -1h -s event_id "$EV"
	[ "$output" = $'{"event_id":"e5"}\n{"event_id":"e6"}\n{"event_id":"e7"}\n{"event_id":"e8"}' ] || fail_with "got"
	EV_NOW=2026-11-02T10:30:00Z run evquery --since -1h -c "$EV"
	[ "$output" = "4" ]
	run evquery --now 2026-11-02T10:30:00Z --since -1h1s --until -30m -c "$EV"
	[ "$output" = "3" ]
}

@test "evquery --since rejects events without a usable time" {
	printf '%s\n' '{"event_id":"a","timestamp":"2026-11-05T00:00:00Z"}' \
		'{"event_id":"b"}' '{"event_id":"c","timestamp":"yesterday"}' > "$BATS_TEST_TMPDIR/t.ndjson"
	run_split evquery --since 2026-11-01 "$BATS_TEST_TMPDIR/t.ndjson"
	[ "$status" -eq 3 ]
	[ "$output" = '{"event_id":"a","timestamp":"2026-11-05T00:00:00Z"}' ]
	[ "$stderr" = "evquery: $BATS_TEST_TMPDIR/t.ndjson:2: missing time field 'timestamp'
evquery: $BATS_TEST_TMPDIR/t.ndjson:3: unparsable time \"yesterday\" in 'timestamp'" ] || fail_with "stderr"
}

@test "evquery --correlation keeps one correlation id" {
	run evquery --correlation k2 "$EV"
	[ "$(ids)" = "e3,e6" ]
}

@test "evquery --trace follows causation transitively" {
	run evquery --trace e2 "$EV"
	[ "$(ids)" = "e2,e4,e7" ]
	run evquery --trace e3 "$EV"
	[ "$(ids)" = "e3,e6" ]
}

@test "evquery --trace runs through events other filters drop" {
	run evquery --trace e1 -t Email "$EV"
	[ "$(ids)" = "e7" ]
}

@test "evquery --trace of an unknown id matches nothing, -e says so" {
	run evquery --trace nope -e "$EV"
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
}

@test "evquery --shard partitions the stream by key" {
	run sh -c "for i in 0 1 2; do evquery --shard \$i/3 '$EV'; done | sort"
	[ "$output" = "$(sort "$EV")" ]
	# every key lands in exactly one shard
	for i in 0 1 2; do
		evquery --shard $i/3 -s @key "$EV" | sort -u > "$BATS_TEST_TMPDIR/k$i"
	done
	run sh -c "cat '$BATS_TEST_TMPDIR'/k* | sort | uniq -d"
	[ "$output" = "" ]
}

@test "evquery --shard hashes keys with FNV-1a 64 (strings by content, others by JSON text)" {
	# FNV-1a 64: "a" = 0xaf63dc4c8601ec8c (mod 7 = 5), "foobar" = 0x85944171f73967e8
	# (mod 7 = 6), "42" = 0x07ee7e07b4b19223 (mod 7 = 5), "null" = 0x5b9bc4ba528108e4
	# (mod 7 = 1), "" = 0xcbf29ce484222325 (mod 7 = 2)
	printf '%s\n' '{"k":"a"}' '{"k":"foobar"}' '{"k":42}' '{"k":"42"}' '{}' '{"k":null}' '{"k":""}' > "$BATS_TEST_TMPDIR/k.ndjson"
	for i in 0 1 2 3 4 5 6; do
		printf '%s:' $i
		evquery --key-field k --shard $i/7 -s @line "$BATS_TEST_TMPDIR/k.ndjson" | sed 's/{"line":\([0-9]*\)}/\1/' | paste -sd, -
	done > "$BATS_TEST_TMPDIR/out"
	run cat "$BATS_TEST_TMPDIR/out"
	[ "$output" = '0:
1:5,6
2:7
3:
4:
5:1,3,4
6:2' ] || fail_with "got"
}

@test "evquery --shard rejects malformed I/N" {
	for bad in x 3/3 1/0 -1/2 1/2x; do
		run evquery --shard "$bad" "$EV"
		[ "$status" -eq 2 ] || fail_with "$bad accepted"
	done
	run evquery --shard 0/1 -c "$EV"
	[ "$output" = "8" ]
}

@test "evquery -s selects flat records keyed by the path text, envelope fields by their mapped names" {
	run_split evquery -t OrderPlaced -s 'event_id,payload.total,payload.missing,@type,@time,@line' "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = '{"event_id":"e1","payload.total":120.5,"payload.missing":null,"event_type":"OrderPlaced","timestamp":"2026-11-01T10:00:00.000000Z","line":1}
{"event_id":"e3","payload.total":35,"payload.missing":null,"event_type":"OrderPlaced","timestamp":"2026-11-01T11:00:00.000000Z","line":3}
{"event_id":"e5","payload.total":999.99,"payload.missing":null,"event_type":"OrderPlaced","timestamp":"2026-11-02T09:30:00.000000Z","line":5}
{"event_id":"e8","payload.total":"n/a","payload.missing":null,"event_type":"OrderPlaced","timestamp":"2026-11-03T09:00:00.000000Z","line":8}' ] || fail_with "got"
	[ "$stderr" = "evquery: warning: path 'payload.missing' (-s) matched no event" ] || fail_with "stderr"
}

@test "evquery -s @time is null when the time is missing or unparsable" {
	printf '%s\n' '{"timestamp":"yesterday"}' '{}' > "$BATS_TEST_TMPDIR/t.ndjson"
	run evquery -s @time,@id "$BATS_TEST_TMPDIR/t.ndjson"
	[ "$output" = $'{"timestamp":null,"event_id":null}\n{"timestamp":null,"event_id":null}' ]
}

@test "evquery -s with a JSON pointer, an index and a quoted member" {
	printf '%s\n' '{"a":{"b.c":[10,{"d":"x"}]},"m/n":1}' > "$BATS_TEST_TMPDIR/p.ndjson"
	run evquery -s '/m~1n,a["b.c"].1.d,a["b.c"].0,/a/b.c/0' "$BATS_TEST_TMPDIR/p.ndjson"
	[ "$output" = '{"/m~1n":1,"a[\"b.c\"].1.d":"x","a[\"b.c\"].0":10,"/a/b.c/0":10}' ] || fail_with "got"
}

@test "evquery -s given twice selects the columns of both, in order; [-N] counts from the end in -s and -g" {
	printf '%s\n' '{"event_id":"e1","event_type":"T","timestamp":1,"aggregate_id":"k","payload":{"items":[1,2,3],"o":{"-1":"m"}}}' > "$BATS_TEST_TMPDIR/n.ndjson"
	run_split evquery -s 'event_id' -s 'last=payload.items[-1], payload.items[-3]' -s 'payload.items[-4]' -s 'payload.o[-1]' "$BATS_TEST_TMPDIR/n.ndjson"
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = '{"event_id":"e1","last":3,"payload.items[-3]":1,"payload.items[-4]":null,"payload.o[-1]":"m"}' ] || fail_with "output"
	[ "$stderr" = "evquery: warning: path 'payload.items[-4]' (-s) matched no event" ] || fail_with "stderr"
	run_split evquery -s 'event_id' -s 'event_id' "$BATS_TEST_TMPDIR/n.ndjson"
	[ "$status" -eq 2 ] || fail_with "a column twice across -s is a usage error"
	run_split evproject -g 'payload.items[-1]' -a count "$BATS_TEST_TMPDIR/n.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = '{"payload.items[-1]":3,"count":1}' ] || fail_with "evproject -g"
	run_split evquery --key-field 'payload.items[-1]' -s @key "$BATS_TEST_TMPDIR/n.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = '{"payload.items[-1]":3}' ] || fail_with "--key-field"
}

@test "evquery -s keeps number text and compacts objects" {
	run evquery -s 'f,e,d,a,z' "$FQ/preserve.ndjson"
	[ "${lines[0]}" = '{"f":null,"e":null,"d":null,"a":[1,2],"z":1}' ]
	[ "${lines[2]}" = '{"f":1.0,"e":1e3,"d":0.1,"a":null,"z":null}' ]
}

@test "evquery -c prints a bare count" {
	run evquery -c -t OrderPlaced "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = "4" ]
	run evquery -c -t Nope "$EV"
	[ "$output" = "0" ]
}

@test "evquery -n stops after N matches" {
	run evquery -n 2 -t OrderPlaced "$EV"
	[ "$(ids)" = "e1,e3" ]
	run evquery -n 2 -c "$EV"
	[ "$output" = "2" ]
	run evquery -n 0 "$EV"
	[ "$output" = "" ]
	run evquery -n x "$EV"
	[ "$status" -eq 2 ]
}

@test "evquery -n does not read past the last match" {
	{ cat "$EV"; echo 'not json'; } > "$BATS_TEST_TMPDIR/t.ndjson"
	run_split evquery -n 1 "$BATS_TEST_TMPDIR/t.ndjson"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
}

@test "evquery --tail keeps the last N matches" {
	run evquery --tail 2 -t OrderPlaced "$EV"
	[ "$(ids)" = "e5,e8" ]
	run evquery --tail 3 -s event_id -t OrderPlaced "$EV"
	[ "$output" = $'{"event_id":"e3"}\n{"event_id":"e5"}\n{"event_id":"e8"}' ]
	run evquery --tail 100 -c "$EV"
	[ "$output" = "8" ]
	run evquery --tail 0 "$EV"
	[ "$output" = "" ]
	run evquery --tail 0 -c "$EV"
	[ "$output" = "0" ]
}

@test "evquery -s @line under --tail names the original line" {
	run evquery --tail 1 -s @line,event_id -t OrderShipped "$EV"
	[ "$output" = '{"line":4,"event_id":"e4"}' ]
}

@test "evquery -q prints nothing and exits 0 on a match, 1 otherwise" {
	run evquery -q -t OrderPaid "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	run evquery -q -t Nope "$EV"
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
}

@test "evquery -e exits 1 when nothing matched, 0 otherwise" {
	run evquery -e -t Nope "$EV"
	[ "$status" -eq 1 ]
	run evquery -e -t Email "$EV"
	[ "$status" -eq 0 ]
	run evquery -t Nope "$EV"
	[ "$status" -eq 0 ]
}

@test "evquery --format tsv shows time, type, key, id and payload" {
	run evquery --format tsv -A order-2 "$EV"
	[ "$output" = $'timestamp\tevent_type\taggregate_id\tevent_id\tpayload\n2026-11-01T11:00:00.000000Z\tOrderPlaced\torder-2\te3\t{"customer_id":"c2","total":35}\n2026-11-02T10:00:00.000000Z\tOrderCancelled\torder-2\te6\t{"reason":"fraud"}' ] || fail_with "got"
}

@test "evquery --format csv quotes per RFC 4180 and writes null empty" {
	printf '%s\n' '{"a":"x,y","b":"say \"hi\"","c":null,"d":[1,2],"e":" pad"}' > "$BATS_TEST_TMPDIR/c.ndjson"
	run_split evquery --format csv -s a,b,c,d,e,f "$BATS_TEST_TMPDIR/c.ndjson"
	[ "$output" = 'a,b,c,d,e,f
"x,y","say ""hi""",,"[1,2]"," pad",' ] || fail_with "got"
}

@test "evquery --format tsv escapes tabs, newlines and backslashes" {
	printf '%s\n' '{"a":"t\tn\nb\\"}' > "$BATS_TEST_TMPDIR/c.ndjson"
	run evquery --format tsv -s a "$BATS_TEST_TMPDIR/c.ndjson"
	[ "$output" = 'a
t\tn\nb\\' ] || fail_with "got"
}

@test "evquery --format table aligns columns" {
	run evquery --format table -s event_id,@type,payload.total -t OrderPlaced "$EV"
	[ "$output" = 'event_id  event_type   payload.total
e1        OrderPlaced  120.5
e3        OrderPlaced  35
e5        OrderPlaced  999.99
e8        OrderPlaced  n/a' ] || fail_with "got"
}

@test "evquery --format with no match still prints the header" {
	run evquery --format csv -s a,b -t Nope "$EV"
	[ "$output" = "a,b" ]
	run evquery --format yaml "$EV"
	[ "$status" -eq 2 ]
}

@test "evquery --sorted seeks to --since and stops after --until" {
	run evquery --sorted --since 2026-11-01T11:00Z --until 2026-11-02T09:30Z "$EV"
	[ "$(ids)" = "e3,e4,e5" ]
}

@test "evquery --sorted gives the same result as a full scan on a large file" {
	awk 'BEGIN { for (i = 0; i < 5000; i++) { printf "{\"event_id\":\"x%d\",\"timestamp\":%d}\n", i, 1790000000 + i * 7
		if (i % 97 == 5) print "garbage"; if (i % 211 == 3) print "{\"event_id\":\"no time\"}" } }' > "$BATS_TEST_TMPDIR/big.ndjson"
	for since in @1790000000 @1790000006 @1790000007 @1790012345 @1790034993 @1790034994 @1790099999 @1700000000; do
		a=$(evquery --sorted --since $since "$BATS_TEST_TMPDIR/big.ndjson" 2>/dev/null | md5sum)
		b=$(evquery --since $since "$BATS_TEST_TMPDIR/big.ndjson" 2>/dev/null | md5sum)
		[ "$a" = "$b" ] || fail_with "since $since differs"
	done
}

@test "evquery --sorted names byte offsets and reports events out of order" {
	printf '%s\n' '{"event_id":"a","timestamp":"2026-11-01T00:00:00Z"}' \
		'{"event_id":"b","timestamp":"2026-11-03T00:00:00Z"}' \
		'{"event_id":"c","timestamp":"2026-11-02T00:00:00Z"}' 'bad' > "$BATS_TEST_TMPDIR/s.ndjson"
	run_split evquery --sorted --until 2026-11-05 "$BATS_TEST_TMPDIR/s.ndjson"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evquery: $BATS_TEST_TMPDIR/s.ndjson:byte 104: warning: out of time order: 2026-11-02T00:00:00.000000Z after 2026-11-03T00:00:00.000000Z; reading the whole file
evquery: $BATS_TEST_TMPDIR/s.ndjson:byte 156: invalid JSON: unexpected 'b', expected a value at column 1" ] || fail_with "stderr"
}

@test "evquery --sorted refuses standard input" {
	run_split evquery --sorted --since 2026-11-01 < "$EV"
	[ "$status" -eq 2 ]
	[ "$stderr" = "evquery: --sorted needs regular files, not standard input" ]
}

@test "evquery field mapping options and EV_* variables" {
	printf '%s\n' '{"MESSAGE":"boom","SYSLOG_IDENTIFIER":"sshd","__REALTIME_TIMESTAMP":"1793696400000000","_HOSTNAME":"h1"}' \
		'{"MESSAGE":"ok","SYSLOG_IDENTIFIER":"cron","__REALTIME_TIMESTAMP":"1793696460000000","_HOSTNAME":"h2"}' > "$BATS_TEST_TMPDIR/j.ndjson"
	run evquery --type-field SYSLOG_IDENTIFIER --time-field __REALTIME_TIMESTAMP -t sshd -s @type,@time,MESSAGE "$BATS_TEST_TMPDIR/j.ndjson"
	[ "$output" = '{"SYSLOG_IDENTIFIER":"sshd","__REALTIME_TIMESTAMP":"2026-11-03T09:00:00.000000Z","MESSAGE":"boom"}' ] || fail_with "got"
	EV_KEY_FIELD=_HOSTNAME run evquery -A h2 -s MESSAGE "$BATS_TEST_TMPDIR/j.ndjson"
	[ "$output" = '{"MESSAGE":"ok"}' ]
	EV_KEY_FIELD=_HOSTNAME run evquery --key-field SYSLOG_IDENTIFIER -A cron -s MESSAGE "$BATS_TEST_TMPDIR/j.ndjson"
	[ "$output" = '{"MESSAGE":"ok"}' ]
}

@test "evquery unknown option and missing argument are usage errors" {
	run_split evquery --bogus "$EV"
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[[ "$stderr" == *"usage: evquery"* ]]
	run evquery -w
	[ "$status" -eq 2 ]
	run evquery --time-unit years "$EV"
	[ "$status" -eq 2 ]
	run evquery --since tomorrowish "$EV"
	[ "$status" -eq 2 ]
}

@test "evquery --help and --version" {
	run evquery --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: evquery "* ]]
	for o in --where --type --aggregate --since --until --correlation --trace --shard --invert --select --count --limit --tail --quiet --exit-status --format --sorted --follow --state --errors --strict --time-unit --tz --now --arg --argjson --progress; do
		help_has "$o" || fail_with "help lacks $o"
		grep -q -- "${o#--}" "$BATS_TEST_DIRNAME/../man/evquery.1" "$BATS_TEST_DIRNAME/../man/evtools.7" || fail_with "man lacks $o"
	done
	run evquery -V
	[ "$output" = "evquery (evtools) 0.1.0" ]
}

@test "evquery --progress writes a final progress line to stderr only" {
	run_split evquery --progress -c "$EV"
	[ "$output" = "8" ]
	[[ "$stderr" == *"8 events"* ]] || fail_with "stderr"
}

@test "evquery bad numbers and times in options name the option" {
	run_split evquery -n -1 "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evquery: -n: expected a whole number of at least 0, not '-1'" ]
	run_split evquery --tail 3x "$EV"
	[ "${stderr%%$'\n'*}" = "evquery: --tail: expected a whole number of at least 0, not '3x'" ]
	run_split evquery --until 2026-13-01 "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evquery: --until: bad time '2026-13-01'; expected 2026-11-27, 2026-11-27T15:45:16Z (offsets +01:00 or +0100), @EPOCH, an epoch number, now, today, yesterday, -15m or +1h (from now), or 15m (ago)" ]
}

@test "evquery --progress counts every line once, rejected by the parser or by the tool" {
	printf '%s\n' '{"timestamp":"2026-11-05T00:00:00Z"}' '{}' 'bad' '{"timestamp":"2026-11-06T00:00:00Z"}' > "$BATS_TEST_TMPDIR/t.ndjson"
	run_split evquery --progress --since 2026-11-01 -c "$BATS_TEST_TMPDIR/t.ndjson"
	[ "$status" -eq 3 ]
	[ "$output" = "2" ]
	[[ "$stderr" == *", 4 events, "* ]] || fail_with "stderr"
}

# ---- --sorted when the file is not in time order ---------------------

# the N in the final --progress line: lines read (events + rejected)
progress_lines() { printf '%s\n' "$stderr" | tr '\r' '\n' | sed -n 's/^evquery: [0-9.]* MB, \([0-9]*\) events,.*/\1/p' | tail -1; }

@test "evquery --sorted: probes that contradict the order are warned about and the whole file is read before any output" {
	# p2 (the 9th) sits near the start; a plain binary search for the 6th
	# walks right past it and finds only p7 and p8
	F="$FQ/sorted-probes.ndjson"
	run_split evquery --sorted --since 2026-11-06 --until 2026-11-09 --progress "$F"
	[ "$status" -eq 0 ]
	[ "$(ids)" = "p2,p7,p8" ] || fail_with "ids"
	[ "$(printf '%s\n' "$stderr" | sed -n 1p)" = "evquery: $F: warning: not in time order: byte 0 is at 2026-11-05T00:00:00.000000Z, byte 265 at 2026-11-04T00:00:00.000000Z; reading the whole file" ] || fail_with "stderr"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 2 ] || fail_with "one warning, one progress line"
	[ "$(progress_lines)" = 8 ] || fail_with "every line read once"
	# the same answer as a scan without --sorted
	[ "$output" = "$(evquery --since 2026-11-06 --until 2026-11-09 "$F")" ]
}

@test "evquery --sorted: disorder after the seek point is warned about and --until stops reading no more" {
	# a7 (the 6th) after a6 (the 7th); a8 (the 9th) would stop the read
	# before a9 (the 8th)
	F="$FQ/sorted-after.ndjson"
	run_split evquery --sorted --since 2026-11-05 --until 2026-11-08 --progress "$F"
	[ "$status" -eq 0 ]
	[ "$(ids)" = "a5,a6,a7,a9" ] || fail_with "ids"
	[ "$(printf '%s\n' "$stderr" | sed -n 1p)" = "evquery: $F:byte 318: warning: out of time order: 2026-11-06T00:00:00.000000Z after 2026-11-07T00:00:00.000000Z; reading the whole file" ] || fail_with "stderr"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 2 ] || fail_with "one warning, one progress line"
	# from the seek point (a5) to the end, then a1..a4 again
	[ "$(progress_lines)" = 10 ] || fail_with "lines read"
}

@test "evquery --sorted: after disorder, the part before the seek point is read last and its matches written then" {
	# b3 (the 6th) sits before the seek point (b7); b9 (the 4th, 12:00)
	# shows the disorder after it
	F="$FQ/sorted-before.ndjson"
	run_split evquery --sorted --since 2026-11-06 --until 2026-11-09 --progress "$F"
	[ "$status" -eq 0 ]
	[ "$(ids)" = "b7,b8,b10,b3" ] || fail_with "ids"
	[ "$(printf '%s\n' "$stderr" | sed -n 1p)" = "evquery: $F:byte 424: warning: out of time order: 2026-11-04T12:00:00.000000Z after 2026-11-08T00:00:00.000000Z; reading the whole file" ] || fail_with "stderr"
	[ "$(progress_lines)" = 10 ] || fail_with "every line read once"
	# the set is the full scan's
	[ "$(ids | tr , '\n' | sort | paste -sd, -)" = "$(evquery --since 2026-11-06 --until 2026-11-09 "$F" | sed -n 's/^{"event_id":"\([^"]*\)".*/\1/p' | sort | paste -sd, -)" ]
}

@test "evquery --sorted: rejected lines met in the part read afterwards are reported by byte offset" {
	F="$BATS_TEST_TMPDIR/r.ndjson"
	{ sed -n 1,2p "$FQ/sorted-before.ndjson"; echo 'oops'; sed -n '3,$p' "$FQ/sorted-before.ndjson"; } > "$F"
	run_split evquery --sorted --since 2026-11-06 --progress "$F"
	[ "$status" -eq 3 ]
	[ "$(ids)" = "b7,b8,b10,b3" ] || fail_with "ids"
	[ "$(printf '%s\n' "$stderr" | sed -n 1,2p)" = "evquery: $F:byte 429: warning: out of time order: 2026-11-04T12:00:00.000000Z after 2026-11-08T00:00:00.000000Z; reading the whole file
evquery: $F:byte 106: invalid JSON: unexpected 'o', expected a value at column 1" ] || fail_with "stderr"
	[ "$(progress_lines)" = 11 ] || fail_with "lines read"
}

@test "evquery --sorted --errors records a line met after a seek by its byte offset" {
	F="$BATS_TEST_TMPDIR/r.ndjson"
	{ sed -n 1,2p "$FQ/sorted-before.ndjson"; echo 'oops'; sed -n '3,$p' "$FQ/sorted-before.ndjson"; } > "$F"
	run_split evquery --sorted --since 2026-11-06 --errors "$BATS_TEST_TMPDIR/err" "$F"
	[ "$status" -eq 3 ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "{\"file\":\"$F\",\"offset\":106,\"error\":\"invalid JSON: unexpected 'o', expected a value at column 1\",\"raw\":\"oops\"}" ] || fail_with "errors file"
}

@test "evquery --sorted trusts the order of bytes it never reads (documented)" {
	# b3 (the 6th) lies before the seek point and nothing read after it is
	# out of order: it is not found, and nothing says so
	F="$BATS_TEST_TMPDIR/u.ndjson"
	sed 9d "$FQ/sorted-before.ndjson" > "$F"
	run_split evquery --sorted --since 2026-11-06 "$F"
	[ "$status" -eq 0 ]
	[ "$(ids)" = "b7,b8,b10" ]
	[ -z "$stderr" ]
}

@test "evquery --sorted -v neither seeks nor stops early: the range it leaves out is not where its events are" {
	F="$FQ/sorted-after.ndjson"
	run_split evquery --sorted -v --since 2026-11-05 --until 2026-11-08 "$F"
	[ "$status" -eq 0 ]
	[ "$(ids)" = "a1,a2,a3,a4,a8,a10" ] || fail_with "ids"
	[ -z "$stderr" ]
}

@test "evquery --sorted: a failed read while searching is a read error (exit 5), not an end of file" {
	command -v strace >/dev/null || fail_with "strace is needed (tests/.ci deps)"
	export ASAN_OPTIONS=detect_leaks=0
	# preads of the dynamic loader come first; fail the second one of ours
	n=$(strace -f -qq -e trace=pread64 -o "$BATS_TEST_TMPDIR/tr" "$EVBIN/evquery" --version >/dev/null && grep -c pread64 "$BATS_TEST_TMPDIR/tr")
	run_split strace -f -qq -o /dev/null -e trace=pread64 -e inject=pread64:error=EIO:when=$((n + 2)) \
		"$EVBIN/evquery" --sorted --since 2026-11-05 "$FQ/sorted-before.ndjson" "$FQ/sorted-after.ndjson"
	[ "$status" -eq 5 ]
	[ "$stderr" = "evquery: $FQ/sorted-before.ndjson: read error: Input/output error
evquery: $FQ/sorted-after.ndjson:byte 318: warning: out of time order: 2026-11-06T00:00:00.000000Z after 2026-11-07T00:00:00.000000Z; reading the whole file" ] || fail_with "stderr"
	# the other file is still read
	[ "$(ids)" = "a5,a6,a7,a8,a9,a10" ] || fail_with "ids"
}

# ---- -v, --shard and -q ----------------------------------------------

@test "evquery -v inverts the filters, never --shard: the shards of -v X add up to -v X" {
	for i in 0 1 2; do evquery -v -t OrderPlaced --shard $i/3 "$EV"; done | sort > "$BATS_TEST_TMPDIR/sharded"
	evquery -v -t OrderPlaced "$EV" | sort > "$BATS_TEST_TMPDIR/whole"
	[ -s "$BATS_TEST_TMPDIR/whole" ]
	run cmp "$BATS_TEST_TMPDIR/sharded" "$BATS_TEST_TMPDIR/whole"
	[ "$status" -eq 0 ] || fail_with "differ"
	# and each shard of -v X holds only events of that shard
	for i in 0 1 2; do
		a=$(evquery -v -t OrderPlaced --shard $i/3 "$EV" | evquery -c --shard $i/3)
		b=$(evquery -v -t OrderPlaced --shard $i/3 "$EV" | evquery -c)
		[ "$a" = "$b" ] || fail_with "shard $i leaks"
	done
	# with no other filter, -v --shard I/N is the empty set, not the other shards
	run evquery -v --shard 1/3 -c "$EV"
	[ "$output" = 0 ]
}

@test "evquery -q: a match is exit 0 even after a rejected line (grep's rule)" {
	printf '%s\n' 'not json' '{"event_type":"A"}' '{"event_type":"B"}' > "$BATS_TEST_TMPDIR/q.ndjson"
	run_split evquery -q -t A --progress "$BATS_TEST_TMPDIR/q.ndjson"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(printf '%s\n' "$stderr" | sed -n 1p)" = "evquery: $BATS_TEST_TMPDIR/q.ndjson:1: invalid JSON: unexpected 'n', expected a value at column 1" ] || fail_with "stderr"
	# it stops at the match: two lines read
	[ "$(progress_lines)" = 2 ]
	# no match: the largest code, 3 over 1
	run_split evquery -q -t C "$BATS_TEST_TMPDIR/q.ndjson"
	[ "$status" -eq 3 ]
	# a missing file does not undo a match either
	run_split evquery -q -t A "$BATS_TEST_TMPDIR/q.ndjson" "$BATS_TEST_TMPDIR/missing"
	[ "$status" -eq 0 ]
}

@test "evquery -q -c prints nothing" {
	run_split evquery -q -c -t OrderPlaced "$EV"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	run_split evquery -q -c -t Nope "$EV"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

# ---- -s and -t lists ---------------------------------------------------

@test "evquery -s and -t ignore blanks around commas" {
	run_split evquery -s 'event_id , payload.total,  @type' -t 'OrderPaid, OrderPlaced' -n 2 "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = '{"event_id":"e1","payload.total":120.5,"event_type":"OrderPlaced"}
{"event_id":"e2","payload.total":null,"event_type":"OrderPaid"}' ] || fail_with "got"
	[ -z "$stderr" ]
	run evquery -t 'OrderPaid, OrderShipped' -c "$EV"
	[ "$output" = 2 ]
	run_split evquery -t 'OrderPaid,' "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evquery: -t: empty type in 'OrderPaid,'" ]
}

@test "evquery -s NAME=PATH names a column and NAME=(EXPR) computes one" {
	run_split evquery -s 'id=event_id, total = payload.total,double=(payload.total * 2),when=@time,k=payload["customer_id"]' -t OrderPlaced -n 2 "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = '{"id":"e1","total":120.5,"double":241,"when":"2026-11-01T10:00:00.000000Z","k":"c1"}
{"id":"e3","total":35,"double":70,"when":"2026-11-01T11:00:00.000000Z","k":"c2"}' ] || fail_with "got"
	[ -z "$stderr" ]
	# envelope fields are named by the mapped field; @seq and @line by their word
	run evquery -s '@id,@key,@version,@payload,@seq,@line' -n 1 "$EV"
	[ "$output" = '{"event_id":"e1","aggregate_id":"order-1","version":1,"payload":{"customer_id":"c1","total":120.5},"seq":1,"line":1}' ] || fail_with "names"
}

@test "evquery -s: an item is NAME=... only when nothing before its '=' makes it a path" {
	printf '%s\n' '{"a=b":1,"x":{"c=d":2},"@ts":3}' > "$BATS_TEST_TMPDIR/n.ndjson"
	run_split evquery -s '["a=b"],x["c=d"],/a=b,@ts' "$BATS_TEST_TMPDIR/n.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = '{"[\"a=b\"]":1,"x[\"c=d\"]":2,"/a=b":1,"@ts":3}' ] || fail_with "got"
	[ -z "$stderr" ]
}

@test "evquery -s: something that is not a path is a usage error saying so" {
	for bad in 'payload.total * 2' 'lower(event_type)' 'x==1' 't=payload.total + 1' '.a=b'; do
		run_split evquery -s "event_id,$bad" "$EV"
		[ "$status" -eq 2 ] || fail_with "$bad accepted"
		[ -z "$output" ]
		[ "${stderr%%$'\n'*}" = "evquery: -s: '$bad' is not a path (computed columns are NAME=(EXPR))" ] || fail_with "$bad"
	done
	run_split evquery -s '=event_id' "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evquery: -s: '=event_id': empty column name before '='" ] || fail_with "empty name"
	run_split evquery -s 'x=(payload.total +)' "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evquery: -s: column 17: expected a value, found ')'" ] || fail_with "bad expression"
}

@test "evquery -s: two columns with one name are a usage error" {
	for dup in 'event_id,@id' '@time,timestamp' 'a=x,a=y' 'seq,@seq'; do
		run_split evquery -s "$dup" "$EV"
		[ "$status" -eq 2 ] || fail_with "$dup accepted"
		[[ "${stderr%%$'\n'*}" == "evquery: -s: two columns named '"*"' (name one with NAME=PATH)" ]] || fail_with "$dup"
	done
	run_split evquery -s 'a=@id,@id' -n 1 "$EV"
	[ "$output" = '{"a":"e1","event_id":"e1"}' ]
}

@test "evquery -s warns at the end about a path that matched no event (CloudTrail EventTime)" {
	F="$FQ/cloudtrail.ndjson"
	run_split evquery --type-field EventName --time-field EventTime -s 'eventTime, EventName, when=@time' "$F"
	[ "$status" -eq 0 ]
	[ "$output" = '{"eventTime":null,"EventName":"ConsoleLogin","when":"2026-11-20T08:01:12.000000Z"}
{"eventTime":null,"EventName":"AssumeRole","when":"2026-11-20T08:03:40.000000Z"}
{"eventTime":null,"EventName":"DeleteTrail","when":"2026-11-20T08:04:05.000000Z"}' ] || fail_with "got"
	[ "$stderr" = "evquery: warning: path 'eventTime' (-s) matched no event" ] || fail_with "stderr"
	# a path that is sometimes there, or null, is no mistake
	run_split evquery -s 'EventTime,Resources.0.ResourceType' "$F"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ] || fail_with "warned"
	# and nothing is said when no event was selected
	run_split evquery -t Nope -s eventTime "$F"
	[ -z "$stderr" ]
}

@test "evquery --sorted: the part read afterwards starts at the file's start, byte order mark dropped" {
	F="$BATS_TEST_TMPDIR/bom.ndjson"
	{ printf '\357\273\277{"event_id":"x0","timestamp":"2026-11-01T00:00:00Z"}\n'; sed 1d "$FQ/sorted-before.ndjson"; } > "$F"
	run_split evquery --sorted --since 2026-11-06 "$F"
	[ "$status" -eq 0 ]
	[ "$(ids)" = "b7,b8,b10,b3" ] || fail_with "ids"
	[ "$stderr" = "evquery: $F:byte 427: warning: out of time order: 2026-11-04T12:00:00.000000Z after 2026-11-08T00:00:00.000000Z; reading the whole file" ] || fail_with "stderr"
}
