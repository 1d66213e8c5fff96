#!/usr/bin/env bats
# The input conventions every tool shares (evtools(7)), exercised through
# evquery: what is rejected and with which words, what survives byte for
# byte, and the invariant lines in = lines out + lines rejected.

load helper

FQ="$BATS_TEST_DIRNAME/fixtures/evquery"

# corpus: one good line, then each bad line followed by a good one
make_corpus() {
	local f="$BATS_TEST_TMPDIR/bad.ndjson"
	{
		printf '%s\n' '{"n":1}'
		printf '%s\n' 'not json'
		printf '%s\n' '[1,2]'
		printf '%s\n' '42'
		printf '%s\n' '{"a":1'
		printf '{"a":"\xff"}\n'
		printf '{"a":"x\0y"}\n'
		printf '%s\n' '{"a":"\ud800"}'
		printf '%s\n' '{"a":"\udc00x"}'
		printf '%s\n' '{"a":1,"a":2}'
		printf '%s\n' '{"a":{"b":1,"\u0062":2}}'
		printf '%s\n' '{"a":1}x'
		printf '%s\n' '{"a":01}'
		printf '%s\n' '{"a":"tab	in string"}'
		printf '%s\n' '{"n":2}'
	} > "$f"
	echo "$f"
}

@test "each kind of bad line is rejected with its reason, good lines still come out" {
	f=$(make_corpus)
	run_split evquery "$f"
	[ "$status" -eq 3 ]
	[ "$output" = $'{"n":1}\n{"n":2}' ]
	[ "$stderr" = "evquery: $f:2: invalid JSON: unexpected 'n', expected a value at column 1
evquery: $f:3: not an object (array)
evquery: $f:4: not an object (number)
evquery: $f:5: invalid JSON: unexpected end of line, expected ',' or '}' at column 7
evquery: $f:6: invalid UTF-8 at column 7
evquery: $f:7: raw NUL byte at column 8
evquery: $f:8: lone surrogate escape \\uD800 at column 7
evquery: $f:9: lone surrogate escape \\uDC00 at column 7
evquery: $f:10: duplicate key \"a\" at column 8
evquery: $f:11: duplicate key \"b\" at column 13
evquery: $f:12: invalid JSON: trailing characters after the value at column 8
evquery: $f:13: invalid JSON: unexpected '1', expected ',' or '}' at column 7
evquery: $f:14: invalid JSON: unescaped control character 0x09 in string at column 10" ] || fail_with "stderr"
}

@test "--errors holds exactly the rejected lines, raw_base64 for invalid UTF-8" {
	f=$(make_corpus)
	run evquery --errors "$BATS_TEST_TMPDIR/err.ndjson" "$f"
	[ "$status" -eq 3 ]
	[ "$(wc -l < "$BATS_TEST_TMPDIR/err.ndjson")" -eq 13 ]
	run sed -n '1p;5p;6p' "$BATS_TEST_TMPDIR/err.ndjson"
	[ "${lines[0]}" = "{\"file\":\"$f\",\"line\":2,\"error\":\"invalid JSON: unexpected 'n', expected a value at column 1\",\"raw\":\"not json\"}" ] || fail_with "0"
	[ "${lines[1]}" = "{\"file\":\"$f\",\"line\":6,\"error\":\"invalid UTF-8 at column 7\",\"raw_base64\":\"eyJhIjoi/yJ9\"}" ] || fail_with "1"
	[ "${lines[2]}" = "{\"file\":\"$f\",\"line\":7,\"error\":\"raw NUL byte at column 8\",\"raw\":\"{\\\"a\\\":\\\"x\\u0000y\\\"}\"}" ] || fail_with "2"
	# the records are valid JSON and give back the original bytes
	jq -r 'select(.raw) | .raw' "$BATS_TEST_TMPDIR/err.ndjson" | head -3 > "$BATS_TEST_TMPDIR/back"
	[ "$(cat "$BATS_TEST_TMPDIR/back")" = $'not json\n[1,2]\n42' ]
	jq -r 'select(.raw_base64) | .raw_base64' "$BATS_TEST_TMPDIR/err.ndjson" | base64 -d | od -An -c | tr -s ' ' > "$BATS_TEST_TMPDIR/b64"
	grep -q '377' "$BATS_TEST_TMPDIR/b64"
}

@test "--errors appends, and an unwritable --errors file is a usage error" {
	f=$(make_corpus)
	evquery --errors "$BATS_TEST_TMPDIR/e" "$f" >/dev/null 2>&1 || true
	evquery --errors "$BATS_TEST_TMPDIR/e" "$f" >/dev/null 2>&1 || true
	[ "$(wc -l < "$BATS_TEST_TMPDIR/e")" -eq 26 ]
	run_split evquery --errors /nonexistent/dir/e "$f"
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[ "$stderr" = "evquery: --errors /nonexistent/dir/e: No such file or directory" ]
}

@test "counts: lines in = lines out + lines rejected" {
	f=$(make_corpus)
	out=$(evquery --errors "$BATS_TEST_TMPDIR/e2" "$f" 2>/dev/null | wc -l)
	rej=$(wc -l < "$BATS_TEST_TMPDIR/e2")
	[ $((out + rej)) -eq "$(wc -l < "$f")" ]
}

@test "--strict stops at the first rejected line with status 3" {
	f=$(make_corpus)
	run_split evquery --strict "$f"
	[ "$status" -eq 3 ]
	[ "$output" = '{"n":1}' ]
	[ "$stderr" = "evquery: $f:2: invalid JSON: unexpected 'n', expected a value at column 1" ]
}

@test "standard input is named <stdin> in messages" {
	run_split sh -c "printf '{}\nnope\n' | evquery"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evquery: <stdin>:2: invalid JSON: unexpected 'n', expected a value at column 1" ]
}

@test "byte preservation: spacing, key order, escapes, number forms survive" {
	run evquery -t X "$FQ/preserve.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$FQ/preserve.ndjson")" ]
	run sh -c "evquery -t X '$FQ/preserve.ndjson' | cmp - '$FQ/preserve.ndjson'"
	[ "$status" -eq 0 ]
}

@test "integers beyond 2^53 and beyond 64 bits pass filters unchanged" {
	run evquery -w 'big == 9007199254740993' -s big,max,min "$FQ/preserve.ndjson"
	[ "$output" = '{"big":9007199254740993,"max":9223372036854775807,"min":-9223372036854775808}' ]
	run evquery -w 'has(huge)' "$FQ/preserve.ndjson"
	[ "$output" = '{"event_type":"X","huge":123456789012345678901234567890,"neg":-99999999999999999999999}' ]
	run evquery -w 'huge > 1e29' -s huge,neg "$FQ/preserve.ndjson"
	[ "$output" = '{"huge":123456789012345678901234567890,"neg":-99999999999999999999999}' ]
}

@test "CRLF endings and a missing final newline are accepted" {
	run evquery "$FQ/crlf.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = $'{"event_type":"X","crlf":true}\n{"event_type":"X","last":"no newline"}' ]
	run sh -c "evquery '$FQ/crlf.ndjson' | od -c | grep -c '\\\\r'"
	[ "$output" = "0" ]
}

@test "a UTF-8 BOM at the start is dropped" {
	run evquery -s bom,n "$FQ/bom.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = $'{"bom":true,"n":null}\n{"bom":null,"n":2}' ]
}

@test "blank lines are skipped but counted in line numbers" {
	printf '{"a":1}\n\n   \n\t\r\nbad\n' > "$BATS_TEST_TMPDIR/b.ndjson"
	run_split evquery "$BATS_TEST_TMPDIR/b.ndjson"
	[ "$status" -eq 3 ]
	[ "$output" = '{"a":1}' ]
	[ "$stderr" = "evquery: $BATS_TEST_TMPDIR/b.ndjson:5: invalid JSON: unexpected 'b', expected a value at column 1" ]
}

@test "an empty file gives no output and status 0" {
	run_split evquery "$FQ/empty.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$stderr" = "" ]
}

@test "a 20 MB line is read whole, valid or not" {
	f="$BATS_TEST_TMPDIR/huge.ndjson"
	{ printf '{"event_type":"Big","s":"'; head -c 20000000 /dev/zero | tr '\0' 'a'; printf '"}\n'
	  printf '{"s":"'; head -c 20000000 /dev/zero | tr '\0' 'b'; printf '\n'
	  printf '{"event_type":"After"}\n'; } > "$f"
	run_split evquery -s @type "$f"
	[ "$status" -eq 3 ]
	[ "$output" = $'{"event_type":"Big"}\n{"event_type":"After"}' ]
	[ "$stderr" = "evquery: $f:2: invalid JSON: unterminated string at column 6" ]
	run sh -c "evquery -t Big '$f' 2>/dev/null | wc -c"
	[ "$output" = "20000028" ]
}

@test "deep nesting is rejected past 1000 levels, accepted below" {
	f="$BATS_TEST_TMPDIR/deep.ndjson"
	{ printf '{"a":'; for i in $(seq 998); do printf '['; done; for i in $(seq 998); do printf ']'; done; printf '}\n'
	  printf '{"a":'; for i in $(seq 1000); do printf '['; done; for i in $(seq 1000); do printf ']'; done; printf '}\n'; } > "$f"
	run_split evquery -c "$f"
	[ "$status" -eq 3 ]
	[ "$output" = "1" ]
	[ "$stderr" = "evquery: $f:2: nesting deeper than 1000 levels at column 1005" ] || fail_with "stderr"
}

@test "a missing file among others is reported, the others are read, status 2" {
	run_split evquery "$FQ/bom.ndjson" /nonexistent.ndjson "$FQ/crlf.ndjson"
	[ "$status" -eq 2 ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 4 ]
	[ "$stderr" = "evquery: /nonexistent.ndjson: No such file or directory" ]
}

@test "a directory operand is reported like an unreadable file" {
	run_split evquery "$FQ"
	[ "$status" -eq 2 ]
	[ "$stderr" = "evquery: $FQ: Is a directory" ]
}

@test "rejected lines and a missing file: the larger status wins" {
	f=$(make_corpus)
	run evquery "$f" /nonexistent.ndjson
	[ "$status" -eq 3 ]
}

@test "a full disk on standard output is exit 5 with a message" {
	run_split sh -c "evquery '$FQ/preserve.ndjson' > /dev/full"
	[ "$status" -eq 5 ]
	[ "$stderr" = "evquery: write error on standard output: No space left on device" ]
}

@test "a closed pipe ends evquery quietly" {
	awk 'BEGIN { for (i = 0; i < 200000; i++) print "{\"i\":" i "}" }' > "$BATS_TEST_TMPDIR/many.ndjson"
	run_split sh -c "evquery '$BATS_TEST_TMPDIR/many.ndjson' | head -n 1"
	[ "$output" = '{"i":0}' ]
	[ "$stderr" = "" ]
}

@test "\\u0000 inside a string is valid and kept" {
	run evquery -w 'len(nul) == 3' -s nul "$FQ/preserve.ndjson"
	[ "$output" = '{"nul":"a\u0000b"}' ]
}

@test "lines crossing the read buffer's edges come out whole (LF and CRLF)" {
	f="$BATS_TEST_TMPDIR/edges.ndjson"
	# lengths chosen so line ends fall just before, on and after 256 KiB edges
	awk 'BEGIN { pad = "x"; while (length(pad) < 262200) pad = pad pad
		for (i = 0; i < 12; i++) printf "{\"i\":%d,\"p\":\"%s\"}%s\n", i, substr(pad, 1, 262100 + i * 7 - (i % 3) * 40000), (i % 2 ? "\r" : "") }' > "$f"
	run sh -c "evquery '$f' | md5sum"
	[ "$output" = "$(tr -d '\r' < "$f" | md5sum)" ]
	run evquery -c "$f"
	[ "$output" = "12" ]
}

# ---- control characters in rows a person reads ---------------------------

ctl_file() {
	# ESC [31m, BEL, a raw DEL, a raw C1 (U+009B, CSI), \u0085 escaped, a
	# tab, a backslash; and an object cell holding a raw C1 too
	printf '{"s":"\\u001b[31mred\\u0007 x\x7fy \xc2\x9b2J \\u0085 a\\tb \\\\ \xc3\xa9","o":{"k":"\xc2\x9b"}}\n' > "$BATS_TEST_TMPDIR/ctl.ndjson"
	echo "$BATS_TEST_TMPDIR/ctl.ndjson"
}

@test "tsv, csv and table write control characters as \\xHH, never raw" {
	f=$(ctl_file)
	run_split evquery -s s,o --format tsv "$f"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 's	o
\x1b[31mred\x07 x\x7fy \x9b2J \x85 a\tb \\ é	{"k":"\x9b"}' ] || fail_with "tsv"
	run_split evquery -s s,o --format csv "$f"
	[ "$output" = 's,o
\x1b[31mred\x07 x\x7fy \x9b2J \x85 a	b \ é,"{""k"":""\x9b""}"' ] || fail_with "csv"
	run_split evquery -s s --format table "$f"
	[ "$output" = 's
\x1b[31mred\x07 x\x7fy \x9b2J \x85 a\tb \\ é' ] || fail_with "table"
	# no control below 0x20 (but tab and newline), no DEL, no C1 reaches stdout
	for fmt in tsv csv table; do
		evquery -s s,o --format $fmt "$f" > "$BATS_TEST_TMPDIR/out"
		LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$BATS_TEST_TMPDIR/out" && fail_with "$fmt: raw C0 or DEL"
		LC_ALL=C grep -q $'\xc2[\x80-\x9f]' "$BATS_TEST_TMPDIR/out" && fail_with "$fmt: raw C1"
	done
	true
}

@test "ndjson output stays byte-exact with control characters" {
	f=$(ctl_file)
	run_split evquery "$f"
	[ "$status" -eq 0 ] && [ "$output" = "$(cat "$f")" ] || fail_with "pass-through"
	run_split evquery -s o "$f"
	[ "$output" = "$(printf '{"o":{"k":"\xc2\x9b"}}')" ] || fail_with "-s ndjson"
}

@test "column names go through the same escapes as cells: tsv doubles a backslash in the header" {
	printf '{"a\\u001bb":1}\n' > "$BATS_TEST_TMPDIR/h.ndjson"
	run_split evquery -s '.["a\u001bb"]' --format tsv "$BATS_TEST_TMPDIR/h.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = $'.["a\\\\u001bb"]\n1' ] || fail_with "header"
}

# ---- hints for input that is not NDJSON ------------------------------------

@test "with no file and a terminal on stdin, a one-line hint says where input is read from" {
	run_split script -qec "'$EVBIN/evquery' -c" /dev/null < /dev/null
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$(printf '%s' "$output" | tr -d '\r')" = "evquery: reading events from the terminal (Ctrl-D to end); give a file or pipe NDJSON
0" ] || fail_with "hint"
	# a pipe or a file gets no hint
	run_split evquery -c < /dev/null
	[ "$output" = 0 ] && [ "$stderr" = "" ] || fail_with "no hint on a pipe"
}

@test "a pretty-printed JSON file gets one hint after its rejections" {
	printf '{\n  "a": 1,\n  "b": [\n    2\n  ]\n}\n' > "$BATS_TEST_TMPDIR/p.json"
	f="$BATS_TEST_TMPDIR/p.json"
	run_split evquery -c "$f" "$f"
	[ "$status" -eq 3 ] && [ "$output" = 0 ] || fail_with "status"
	[ "$(printf '%s\n' "$stderr" | grep -c 'looks like')" = 1 ] || fail_with "one hint"
	[ "$(printf '%s\n' "$stderr" | sed -n 7p)" = "evquery: $f: looks like multi-line JSON; NDJSON needs one object per line, e.g. jq -c ." ] || fail_with "after the first file"
	[ "$(printf '%s\n' "$stderr" | wc -l)" = 13 ] || fail_with "per-line rejections kept"
	run_split evquery --strict -c "$f"
	[ "$status" -eq 3 ] || fail_with "strict status"
	[ "$stderr" = "evquery: $f:1: invalid JSON: unexpected end of line, expected a string key at column 2
evquery: $f: looks like multi-line JSON; NDJSON needs one object per line, e.g. jq -c ." ] || fail_with "strict"
}

@test "an array of objects on one line gets the jq -c '.[]' hint; a torn line gets none" {
	run_split evquery -c <<<'[{"a":1},{"a":2}]'
	[ "$status" -eq 3 ] && [ "$output" = 0 ] || fail_with "status"
	[ "$stderr" = "evquery: <stdin>:1: not an object (array)
evquery: <stdin>: looks like a JSON array; NDJSON needs one object per line, e.g. jq -c '.[]'" ] || fail_with "array"
	run_split evquery -c <<<'{"a":1,'
	[ "$stderr" = "evquery: <stdin>:1: invalid JSON: unexpected end of line, expected a string key at column 8" ] || fail_with "torn"
}

# ---- field mappings from the environment -----------------------------------

@test "a bad EV_*_FIELD names the variable and is a usage error unless an option wins" {
	for v in EV_ID_FIELD EV_KEY_FIELD EV_TYPE_FIELD EV_TIME_FIELD EV_PAYLOAD_FIELD EV_VERSION_FIELD; do
		run_split env "$v=a..b" evquery -c "$FQ/events.ndjson"
		[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "$v status"
		[ "$stderr" = "evquery: $v: bad path 'a..b': empty segment" ] || fail_with "$v"
	done
	EV_KEY_FIELD='a..b' run_split evquery --key-field aggregate_id -A order-2 -c "$FQ/events.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = 2 ] && [ "$stderr" = "" ] || fail_with "option wins"
	run_split evquery --key-field 'a..b' -c "$FQ/events.ndjson"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: --key-field: bad path 'a..b': empty segment" ] || fail_with "option"
}

@test "a field mapping the user gave that matched no event is warned about; defaults are not" {
	run_split evquery --key-field aggregateid -A order-1 -c "$FQ/events.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = 0 ] || fail_with "status"
	[ "$stderr" = "evquery: warning: path 'aggregateid' (--key-field) matched no event" ] || fail_with "option"
	EV_KEY_FIELD=aggregateId run_split evquery -A order-1 -c "$FQ/events.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = 0 ] || fail_with "env status"
	[ "$stderr" = "evquery: warning: path 'aggregateId' (EV_KEY_FIELD) matched no event" ] || fail_with "env"
	printf '%s\n' '{"event_type":"A"}' > "$BATS_TEST_TMPDIR/nokey.ndjson"
	run_split evquery -A x -c "$BATS_TEST_TMPDIR/nokey.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = 0 ] && [ "$stderr" = "" ] || fail_with "default"
	run_split evquery --key-field aggregate_id -A order-1 -c "$FQ/events.ndjson"
	[ "$output" = 4 ] && [ "$stderr" = "" ] || fail_with "found"
}
