#!/usr/bin/env bats
# evwrite: validation, enrichment, the event store (numbering, expected
# versions, idempotency, units of work, torn tails, index, base), crash
# safety, concurrency, disk full, message envelopes.

load helper

FX="$BATS_TEST_DIRNAME/fixtures/evwrite"
UUID='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
NOW=2026-11-27T10:00:00Z
TS='"timestamp":"2026-11-27T10:00:00.000000Z"'

setup() {
	S="$BATS_TEST_TMPDIR/store.ndjson"
	cd "$BATS_TEST_TMPDIR" || return 1
}

# check_store FILE [FIRST_SEQ]: seq gapless from FIRST_SEQ, each
# aggregate's versions gapless from 1 (lines as evwrite writes them:
# aggregate_id first, version and seq added).  Prints what is wrong.
check_store() {
	awk -v first="${2:-1}" '
	{
		if (!match($0, /"seq":[0-9]+/)) { print "line " NR ": no seq"; exit 1 }
		s = substr($0, RSTART + 6, RLENGTH - 6) + 0
		if (s != first + NR - 1) { print "line " NR ": seq " s; exit 1 }
		if (!match($0, /^\{"aggregate_id":"[^"]*"/)) { print "line " NR ": no key"; exit 1 }
		a = substr($0, RSTART + 17, RLENGTH - 18)
		if (!match($0, /"version":[0-9]+/)) { print "line " NR ": no version"; exit 1 }
		v = substr($0, RSTART + 10, RLENGTH - 10) + 0
		if (v != ver[a] + 1) { print "line " NR ": version " v " of " a " after " (ver[a] + 0); exit 1 }
		ver[a] = v
	}' "$1"
}

# whole FILE: empty or ends with a newline
whole() { [ ! -s "$1" ] || [ "$(tail -c1 "$1" | od -An -c | tr -d ' ')" = '\n' ]; }

# gen N AGGS [TAG]: N events over AGGS aggregates, no envelope fields
gen() {
	awk -v n="$1" -v k="$2" -v tag="${3:-t}" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"aggregate_id\":\"agg-%d\",\"event_type\":\"Tick\",\"payload\":{\"tag\":\"%s\",\"i\":%d}}\n", i % k, tag, i
	}'
}

@test "evwrite adds what is absent at the end and keeps every present byte" {
	run_split evwrite --now $NOW --correlation-id c-1 "$FX/orders.ndjson"
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" =~ ^'{"aggregate_id":"order-1","event_type":"OrderPlaced","payload":{"total":10.50,"note":"caf\u00e9"},"event_id":"'$UUID'",'$TS',"version":1,"seq":1,"metadata":{"correlation_id":"c-1"}}'$ ]] || fail_with "line 1"
	[[ "${lines[1]}" =~ ^'{"aggregate_id":"order-2","event_type":"OrderPlaced","payload":{"total":5},"event_id":"'$UUID'",'$TS',"version":1,"seq":2,"metadata":{"correlation_id":"c-1"}}'$ ]] || fail_with "line 2"
	# metadata present: what it lacks goes inside it
	[[ "${lines[2]}" =~ ^'{"aggregate_id":"order-1","event_type":"OrderPaid","payload":{"amount":1e1},"metadata":{"source":"shop","correlation_id":"c-1"},"event_id":"'$UUID'",'$TS',"version":2,"seq":3}'$ ]] || fail_with "line 3"
}

@test "evwrite keeps present envelope fields and only adds the missing ones" {
	in='{"event_id":"0b9b3c3e-5a5f-4f39-9c59-1f1d0d7e2a11","aggregate_id":42,"event_type":"T","payload":{},"timestamp":"2026-01-01T00:00:00+01:00","metadata":{"correlation_id":"x","causation_id":"y"}  }'
	run_split sh -c "printf '%s\n' '$in' | evwrite --source app --causation-id z"
	[ "$status" -eq 0 ]
	[ "$output" = '{"event_id":"0b9b3c3e-5a5f-4f39-9c59-1f1d0d7e2a11","aggregate_id":42,"event_type":"T","payload":{},"timestamp":"2026-01-01T00:00:00+01:00","metadata":{"correlation_id":"x","causation_id":"y","source":"app"}  ,"version":1,"seq":1}' ] || fail_with "output"
}

@test "evwrite without --store numbers the input as if appended to an empty store" {
	run evwrite --now $NOW "$FX/orders.ndjson" "$FX/orders.ndjson"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -o '"version":[0-9]*' | paste -sd' ' -)" = '"version":1 "version":1 "version":2 "version":3 "version":2 "version":4' ] || fail_with "numbers"
	[ "$(printf '%s\n' "$output" | grep -o '"seq":[0-9]*' | paste -sd' ' -)" = '"seq":1 "seq":2 "seq":3 "seq":4 "seq":5 "seq":6' ]
}

@test "evwrite --store numbers versions and seq across runs and echoes what it appended" {
	run evwrite --store "$S" --now $NOW "$FX/orders.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$S")" ]
	run evwrite --store "$S" --now $NOW "$FX/orders.ndjson"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$S")" -eq 6 ]
	check_store "$S"
	[ "$(grep -o '"version":[0-9]*' "$S" | paste -sd' ' -)" = '"version":1 "version":1 "version":2 "version":3 "version":2 "version":4' ]
	run evwrite -q --store "$S" "$FX/orders.ndjson"
	[ "$output" = "" ]
	[ "$(tail -n1 "$S" | grep -o '"seq":[0-9]*')" = '"seq":9' ]
	[ -f "$S.lock" ]
	[ -f "$S.idx" ]
}

@test "evwrite --uuid v7 makes time-ordered version 7 ids" {
	run sh -c "$(declare -f gen); gen 5 2 | evwrite --uuid v7 --now 2026-11-27T10:00:00Z | sed 's/.*\"event_id\":\"\\([^\"]*\\)\".*/\\1/'"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	for l in "${lines[@]}"; do
		[[ "$l" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] || fail_with "$l"
	done
	[ "$(printf '%s\n' "${lines[@]}" | sort -c && echo sorted)" = sorted ]
}

@test "evwrite rejects missing required fields, naming them" {
	run_split sh -c "printf '%s\n' '{\"event_type\":\"T\"}' '{\"aggregate_id\":null,\"event_type\":\"T\",\"payload\":1}' '{\"aggregate_id\":\"a\",\"event_type\":\"T\",\"payload\":{}}' | evwrite --require payload.sku,user"
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	[ "$stderr" = "evwrite: <stdin>:1: missing required fields 'aggregate_id', 'payload', 'payload.sku', 'user'
evwrite: <stdin>:2: missing required fields 'aggregate_id', 'payload.sku', 'user'
evwrite: <stdin>:3: missing required fields 'payload.sku', 'user'" ] || fail_with "stderr"
}

@test "evwrite rejects present but invalid envelope values instead of fixing them" {
	printf '%s\n' \
		'{"aggregate_id":"a","event_type":"T","payload":{},"event_id":""}' \
		'{"aggregate_id":"a","event_type":"T","payload":{},"timestamp":"yesterday"}' \
		'{"aggregate_id":"a","event_type":"T","payload":{},"version":0}' \
		'{"aggregate_id":"a","event_type":"T","payload":{},"seq":"1"}' \
		'{"aggregate_id":"a","event_type":"T","payload":{},"metadata":[]}' \
		'{"aggregate_id":"a","event_type":"T","payload":{},"expected_version":"soon"}' \
		'{"aggregate_id":"a","event_type":"T","payload":{}' >bad.ndjson
	run_split evwrite --store "$S" --errors rej.ndjson bad.ndjson
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	[[ "$stderr" == 'evwrite: bad.ndjson:1: event_id must be a non-empty string or an integer, not ""
evwrite: bad.ndjson:2: unparsable timestamp "yesterday"
evwrite: bad.ndjson:3: version is not a positive integer
evwrite: bad.ndjson:4: seq is not a positive integer
evwrite: bad.ndjson:5: metadata is not an object
evwrite: bad.ndjson:6: expected_version must be a version, "any", "no_stream" or "exists"
evwrite: bad.ndjson:7: invalid JSON: '* ]] || fail_with "stderr"
	[ ! -s "$S" ]
	[ "$(wc -l <rej.ndjson)" -eq 7 ]
}

@test "evwrite --schema checks domain events and names the missing payload fields" {
	printf '%s\n' \
		'{"aggregate_id":"o1","aggregate_type":"Order","event_type":"OrderPlaced","payload":{"customer_id":"c","items":[],"total":1}}' \
		'{"aggregate_id":"o1","aggregate_type":"Order","event_type":"OrderPlaced","payload":{"items":[]}}' \
		'{"aggregate_id":"o1","aggregate_type":"Order","event_type":"OrderLost","payload":{}}' \
		'{"aggregate_id":"o1","event_type":"OrderPaid","payload":{"amount":1}}' \
		'{"aggregate_id":"o1","aggregate_type":"Order","event_type":"OrderPaid","payload":{"amount":1}}' >dom.ndjson
	run_split evwrite --schema "$FX/schema.json" dom.ndjson
	[ "$status" -eq 3 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$stderr" = "evwrite: dom.ndjson:2: payload lacks customer_id, total (schema Order.OrderPlaced)
evwrite: dom.ndjson:3: --schema has no event type 'OrderLost' for aggregate type 'Order'
evwrite: dom.ndjson:4: missing aggregate_type (needed by --schema)" ] || fail_with "stderr"
	[[ "${lines[1]}" == *'"version":2,"seq":2'* ]]
	run_split evwrite --schema /nonexistent dom.ndjson
	[ "$status" -eq 2 ]
	echo '{"Order":[]}' >bad-schema.json
	run_split evwrite --schema bad-schema.json dom.ndjson
	[ "$status" -eq 2 ]
	[ "$stderr" = "evwrite: --schema bad-schema.json: Order: expected an object of event types" ]
}

@test "evwrite --expect: any, no_stream, exists and N, matching and not; the store is unchanged on conflict" {
	ev='{"aggregate_id":"a","event_type":"T","payload":{}}'
	evb='{"aggregate_id":"b","event_type":"T","payload":{}}'
	run_split sh -c "echo '$ev' | evwrite -q --store '$S' --expect no_stream"
	[ "$status" -eq 0 ]
	cp "$S" before
	for e in no_stream 0 2 5; do
		run_split sh -c "echo '$ev' | evwrite --store '$S' --expect $e"
		[ "$status" -eq 4 ] || fail_with "--expect $e"
		[ "$output" = "" ]
		cmp -s "$S" before || fail_with "store changed"
	done
	[ "$stderr" = "evwrite: expected 5, actual 1 (aggregate a)" ]
	run_split sh -c "echo '$evb' | evwrite --store '$S' --expect exists"
	[ "$status" -eq 4 ]
	[ "$stderr" = "evwrite: expected exists, actual 0 (aggregate b)" ]
	run_split sh -c "echo '$ev' | evwrite --store '$S' --expect no_stream"
	[ "$stderr" = "evwrite: expected no_stream, actual 1 (aggregate a)" ]
	cmp "$S" before
	for e in 1 any exists; do
		run_split sh -c "echo '$ev' | evwrite -q --store '$S' --expect $e"
		[ "$status" -eq 0 ] || fail_with "--expect $e"
	done
	[ "$(grep -c '"aggregate_id":"a"' "$S")" -eq 4 ]
	run_split sh -c "echo '$evb' | evwrite -q --store '$S' --expect 0"
	[ "$status" -eq 0 ]
	check_store "$S"
}

@test "evwrite --expect applies to each aggregate's first event; the rest follow on" {
	evwrite -q --store "$S" "$FX/orders.ndjson"
	cp "$S" before
	printf '%s\n' '{"aggregate_id":"order-1","event_type":"T","payload":{}}' '{"aggregate_id":"order-1","event_type":"T","payload":{}}' \
		'{"aggregate_id":"order-2","event_type":"T","payload":{}}' >two.ndjson
	run_split evwrite -q --store "$S" --expect 2 two.ndjson
	[ "$status" -eq 4 ]
	[ "$stderr" = "evwrite: expected 2, actual 1 (aggregate order-2)" ]
	[ "$(wc -l <"$S")" -eq 5 ]
	[[ "$(sed -n 5p "$S")" == *'"version":4,"seq":5'* ]]
	# a conflicting first event takes the rest of its aggregate with it
	run_split evwrite -q --store "$S" --expect 2 two.ndjson
	[ "$status" -eq 4 ]
	[ "$stderr" = "evwrite: expected 2, actual 4 (aggregate order-1)
evwrite: expected 3, actual 4 (aggregate order-1)
evwrite: expected 2, actual 1 (aggregate order-2)" ] || fail_with "stderr"
	[ "$(wc -l <"$S")" -eq 5 ]
}

@test "evwrite per-event expected_version and a present version override --expect" {
	evwrite -q --store "$S" "$FX/orders.ndjson"
	printf '%s\n' '{"aggregate_id":"order-1","event_type":"T","payload":{},"expected_version":2}' \
		'{"aggregate_id":"order-1","event_type":"T","payload":{},"expected_version":2}' \
		'{"aggregate_id":"order-2","event_type":"T","payload":{},"version":2}' \
		'{"aggregate_id":"order-2","event_type":"T","payload":{},"version":5}' \
		'{"aggregate_id":"new","event_type":"T","payload":{},"expected_version":"no_stream"}' >ev.ndjson
	run_split evwrite --store "$S" --expect 99 ev.ndjson
	[ "$status" -eq 4 ]
	[ "$stderr" = "evwrite: expected 2, actual 3 (aggregate order-1)
evwrite: expected 4, actual 2 (aggregate order-2)" ] || fail_with "stderr"
	[ "${#lines[@]}" -eq 3 ]
	check_store "$S"
}

@test "evwrite skips and reports an event whose id is already stored: re-sending is idempotent" {
	run evwrite --store "$S" --now $NOW "$FX/orders.ndjson"
	cp "$S" before
	run_split evwrite --store "$S" before
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	cmp "$S" before
	[ "${stderr%%$'\n'*}" = "evwrite: before:1: warning: duplicate event_id \"$(sed -n '1s/.*"event_id":"\([^"]*\)".*/\1/p' before)\" skipped: already in the store" ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 3 ]
	# a duplicate inside one input is skipped too
	id=0b9b3c3e-5a5f-4f39-9c59-1f1d0d7e2a11
	run_split sh -c "printf '%s\n' '{\"aggregate_id\":\"z\",\"event_id\":\"$id\",\"event_type\":\"T\",\"payload\":{}}' '{\"aggregate_id\":\"z\",\"event_id\":\"$id\",\"event_type\":\"T\",\"payload\":{}}' | evwrite -q --store '$S'"
	[ "$status" -eq 0 ]
	[ "$(grep -c "$id" "$S")" -eq 1 ]
	# ids are compared as JSON values after unescaping
	run_split sh -c "printf '%s\n' '{\"aggregate_id\":\"z\",\"event_id\":\"\\u0030b9b3c3e-5a5f-4f39-9c59-1f1d0d7e2a11\",\"event_type\":\"T\",\"payload\":{}}' | evwrite -q --store '$S'"
	[[ "$stderr" == *"duplicate event_id"* ]]
	check_store "$S"
}

@test "evwrite keeps any present non-empty string or integer event_id, compared as a JSON value" {
	printf '%s\n' \
		'{"aggregate_id":"a","event_type":"T","payload":{},"event_id":"34502641367"}' \
		'{"aggregate_id":"a","event_type":"T","payload":{},"event_id":"ev-001"}' \
		'{"aggregate_id":"a","event_type":"T","payload":{},"event_id":34502641367}' \
		'{"aggregate_id":"a","event_type":"T","payload":{},"event_id":-7}' \
		'{"aggregate_id":"a","event_type":"T","payload":{},"event_id":123456789012345678901234567890}' >ids.ndjson
	run_split evwrite --store "$S" --now $NOW ids.ndjson
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 5 ]
	# kept byte for byte: "34502641367" and 34502641367 are two ids
	[ "$(sed 's/.*"event_id":\([^,]*\),.*/\1/' "$S")" = '"34502641367"
"ev-001"
34502641367
-7
123456789012345678901234567890' ] || fail_with "ids"
	check_store "$S"
	cp "$S" before
	# re-sent: every one is a duplicate, through the sidecar index ...
	[ -s "$S.idx" ]
	run_split evwrite --store "$S" ids.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$stderr" = 'evwrite: ids.ndjson:1: warning: duplicate event_id "34502641367" skipped: already in the store
evwrite: ids.ndjson:2: warning: duplicate event_id "ev-001" skipped: already in the store
evwrite: ids.ndjson:3: warning: duplicate event_id 34502641367 skipped: already in the store
evwrite: ids.ndjson:4: warning: duplicate event_id -7 skipped: already in the store
evwrite: ids.ndjson:5: warning: duplicate event_id 123456789012345678901234567890 skipped: already in the store' ] || fail_with "stderr"
	cmp "$S" before
	# ... and through an index rebuilt by a scan
	rm "$S.idx"
	run_split evwrite --store "$S" ids.ndjson
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -c 'skipped: already in the store')" -eq 5 ]
	cmp "$S" before
	# "42" and 42 are different ids, each a duplicate only of itself
	printf '%s\n' '{"aggregate_id":"b","event_type":"T","payload":{},"event_id":"42"}' \
		'{"aggregate_id":"b","event_type":"T","payload":{},"event_id":42}' \
		'{"aggregate_id":"b","event_type":"T","payload":{},"event_id":42}' >ft.ndjson
	run_split evwrite -q --store "$S" ft.ndjson
	[ "$status" -eq 0 ]
	[ "$stderr" = 'evwrite: ft.ndjson:3: warning: duplicate event_id 42 skipped: already in the store' ] || fail_with "42"
	[ "$(wc -l <"$S")" -eq 7 ]
	check_store "$S"
	# what is not an id is rejected, not fixed
	printf '%s\n' '{"aggregate_id":"c","event_type":"T","payload":{},"event_id":1.5}' \
		'{"aggregate_id":"c","event_type":"T","payload":{},"event_id":null}' \
		'{"aggregate_id":"c","event_type":"T","payload":{},"event_id":{"id":1}}' \
		'{"aggregate_id":"c","event_type":"T","payload":{},"event_id":true}' >badid.ndjson
	cp "$S" before
	run_split evwrite --store "$S" badid.ndjson
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	[ "$stderr" = 'evwrite: badid.ndjson:1: event_id must be a non-empty string or an integer, not 1.5
evwrite: badid.ndjson:2: event_id must be a non-empty string or an integer, not null
evwrite: badid.ndjson:3: event_id must be a non-empty string or an integer, not {"id":1}
evwrite: badid.ndjson:4: event_id must be a non-empty string or an integer, not true' ] || fail_with "bad ids"
	cmp "$S" before
	# ids evwrite makes are UUIDs
	printf '%s\n' '{"aggregate_id":"d","event_type":"T","payload":{}}' | evwrite -q --store "$S"
	[[ "$(tail -n 1 "$S")" =~ \"event_id\":\"$UUID\" ]]
}

@test "evwrite --store with an input that cannot be opened appends nothing, creates nothing and exits 2" {
	mkdir w && cd w
	S=$PWD/store.ndjson
	printf '%s\n' '{"aggregate_id":"a","event_type":"T","payload":{}}' >a.ndjson
	run_split evwrite --store "$S" --errors rej.ndjson a.ndjson missing.ndjson
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[ "$stderr" = "evwrite: missing.ndjson: No such file or directory
evwrite: nothing written: an input cannot be opened" ] || fail_with "stderr"
	[ "$(ls -A)" = "a.ndjson" ] || fail_with "created: $(ls -A)"
	# an existing store is left as it was
	evwrite -q --store "$S" a.ndjson
	cp "$S" before
	mkdir dir
	run_split evwrite --store "$S" a.ndjson dir missing.ndjson
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[ "$stderr" = "evwrite: dir: Is a directory
evwrite: missing.ndjson: No such file or directory
evwrite: nothing written: inputs cannot be opened" ] || fail_with "stderr 2"
	cmp "$S" before
	# without a store (standard output only) the other inputs are read
	run_split evwrite --now $NOW a.ndjson missing.ndjson a.ndjson
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$stderr" = "evwrite: missing.ndjson: No such file or directory" ] || fail_with "stdout only"
}

@test "evwrite --atomic appends the whole input or nothing" {
	evwrite -q --store "$S" "$FX/orders.ndjson"
	cp "$S" before
	printf '%s\n' '{"aggregate_id":"a","event_type":"T","payload":{}}' '{"aggregate_id":"a","event_type":"T"}' >half.ndjson
	run_split evwrite --atomic --store "$S" half.ndjson
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	[[ "$stderr" == *"nothing appended"* ]]
	cmp "$S" before
	printf '%s\n' '{"aggregate_id":"a","event_type":"T","payload":{}}' '{"aggregate_id":"order-1","event_type":"T","payload":{},"expected_version":7}' >conf.ndjson
	run_split evwrite --atomic --store "$S" conf.ndjson
	[ "$status" -eq 4 ]
	cmp "$S" before
	# without --atomic each event is its own unit
	run_split evwrite --store "$S" conf.ndjson
	[ "$status" -eq 4 ]
	[ "${#lines[@]}" -eq 1 ]
	run_split evwrite --atomic --store "$S" "$FX/orders.ndjson"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	check_store "$S"
}

@test "evwrite --dry-run validates and prints without appending" {
	evwrite -q --store "$S" "$FX/orders.ndjson"
	cp "$S" before
	run_split evwrite --dry-run --store "$S" "$FX/orders.ndjson"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[2]}" == *'"version":4,"seq":6}' ]]
	cmp "$S" before
	run_split evwrite --dry-run --store new.ndjson "$FX/orders.ndjson"
	[ "$status" -eq 0 ]
	[ ! -e new.ndjson ]
	[ ! -e new.ndjson.lock ]
}

@test "evwrite detects a torn last line, names its offset, and --repair moves it aside" {
	evwrite -q --store "$S" "$FX/orders.ndjson"
	size=$(wc -c <"$S")
	printf '{"aggregate_id":"order-1","event_ty' >>"$S"
	cp "$S" torn
	run_split evwrite --store "$S" "$FX/orders.ndjson"
	[ "$status" -eq 5 ]
	[ "$output" = "" ]
	[ "$stderr" = "evwrite: $S: torn last line at byte $size (use --repair)" ]
	cmp "$S" torn
	run_split evwrite -q --repair --store "$S" "$FX/orders.ndjson"
	[ "$status" -eq 0 ]
	[ "$stderr" = "evwrite: $S: torn last line at byte $size moved to $S.torn.$size" ]
	[ "$(cat "$S.torn.$size")" = '{"aggregate_id":"order-1","event_ty' ]
	[ "$(wc -l <"$S")" -eq 6 ]
	whole "$S"
	check_store "$S"
}

@test "evwrite waits for the store lock at most --lock-timeout, then exits 4" {
	touch "$S"
	flock "$S.lock" -c 'touch held; sleep 3' &
	while [ ! -e held ]; do sleep 0.01; done
	run_split evwrite --lock-timeout 200ms --store "$S" "$FX/orders.ndjson"
	[ "$status" -eq 4 ]
	[ "$output" = "" ]
	[[ "$stderr" == "evwrite: $S: store is locked by another writer"* ]] || fail_with "stderr"
	[ ! -s "$S" ]
	kill %1 2>/dev/null || true
	wait || true
}

@test "8 writers appending at once: every event once, seq and versions gapless" {
	for w in 1 2 3 4 5 6 7 8; do
		for r in 1 2 3 4 5; do gen 30 7 "w$w-r$r"; done >"in.$w"
	done
	for w in 1 2 3 4 5 6 7 8; do
		(
			for r in 1 2 3 4 5; do
				sed -n "$(((r - 1) * 30 + 1)),$((r * 30))p" "in.$w" | evwrite -q --store "$S" --fsync batch || exit 1
			done
		) &
	done
	fails=0
	for w in 1 2 3 4 5 6 7 8; do wait %$w || fails=$((fails + 1)); done
	[ "$fails" -eq 0 ]
	[ "$(wc -l <"$S")" -eq 1200 ]
	check_store "$S"
	[ "$(grep -o '"tag":"[^"]*","i":[0-9]*' "$S" | sort | uniq | wc -l)" -eq 1200 ]
	# and bigger, overlapping bulk runs
	for w in 1 2 3 4 5 6 7 8; do gen 200 13 "b$w" | evwrite -q --store "$S" & done
	wait
	[ "$(wc -l <"$S")" -eq 2800 ]
	check_store "$S"
}

@test "crash safety: kill -9 at random moments leaves whole lines or a repairable torn tail" {
	gen 4000 37 crash >in.ndjson
	total=0
	gen 8000 101 bulk >bulk.ndjson
	for i in $(seq 1 20); do
		before=$(wc -l <"$S" 2>/dev/null || echo 0)
		if [ $((i % 2)) -eq 0 ]; then
			evwrite --store "$S" --fsync always in.ndjson >"echo.$i" 2>/dev/null &
		else
			evwrite --store "$S" --fsync batch bulk.ndjson >"echo.$i" 2>/dev/null &
		fi
		pid=$!
		# random moments, later ones later: on a loaded machine (a sanitizer
		# build) the first kills may all land before the first append
		sleep "0.$(printf '%03d' $((RANDOM % 120 + 5 + i * 20)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		run_split evwrite --store "$S" </dev/null
		if [ "$status" -eq 5 ]; then
			[[ "$stderr" == *"torn last line at byte"* ]] || fail_with "iteration $i"
			run_split evwrite --repair --store "$S" </dev/null
		fi
		[ "$status" -eq 0 ] || fail_with "iteration $i: store not usable"
		whole "$S" || fail_with "iteration $i: not whole lines"
		run check_store "$S"
		[ "$status" -eq 0 ] || fail_with "iteration $i: numbering"
		# every event echoed before the kill is in the store, in order,
		# right after what was there before
		n=$(wc -l <"echo.$i")
		head -n "$n" "echo.$i" >"echoed.$i"
		tail -n +$((before + 1)) "$S" | head -n "$n" | cmp -s - "echoed.$i" || fail_with "iteration $i: echoed events missing"
		total=$((total + $(wc -l <"$S") - before))
	done
	run_split evwrite -q --store "$S" in.ndjson
	[ "$status" -eq 0 ]
	check_store "$S"
	jq -c . "$S" >/dev/null
	[ "$total" -gt 0 ]
}

@test "disk full: an append that cannot be written exits 5 and leaves the store valid" {
	evwrite -q --store "$S" "$FX/orders.ndjson"
	cp "$S" before
	gen 300 5 full >big.ndjson
	# the file-size limit's signal is ignored by the tool itself: the
	# write fails with EFBIG and the append is cut back
	run_split bash -c "ulimit -f 16; evwrite --store '$S' big.ndjson"
	[ "$status" -eq 5 ]
	[ "$output" = "" ]
	[ "$stderr" = "evwrite: $S: cannot append 300 events (store left as it was): File too large" ] || fail_with "stderr"
	cmp "$S" before
	[ "$(ls -A | grep -c tmp)" -eq 0 ]
	# one event at a time: those written before the limit stay, and were echoed
	run_split bash -c "ulimit -f 16; evwrite --fsync always --store '$S' big.ndjson"
	[ "$status" -eq 5 ]
	[ "$(wc -c <"$S")" -le 16384 ]
	whole "$S"
	check_store "$S"
	[ "$(tail -n +4 "$S")" = "$output" ]
	# and the store goes on afterwards
	run_split evwrite -q --store "$S" "$FX/orders.ndjson"
	[ "$status" -eq 0 ]
	check_store "$S"
}

@test "evwrite continues numbering from FILE.base after a compaction archived a whole aggregate" {
	printf '%s\n' '{"aggregate_id":"a","event_type":"T","payload":{}}' '{"aggregate_id":"a","event_type":"T","payload":{}}' \
		'{"aggregate_id":"a","event_type":"T","payload":{}}' '{"aggregate_id":"b","event_type":"T","payload":{}}' >in.ndjson
	evwrite -q --store "$S" in.ndjson
	# what evsnap --compact does: base first, then the kept lines renamed in
	printf '%s\n' '{"last_seq":3,"versions":[["a",3]]}' >"$S.base"
	tail -n 1 "$S" >kept && mv kept "$S"
	run_split evwrite --store "$S" in.ndjson
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -o '"version":[0-9]*,"seq":[0-9]*' | paste -sd' ' -)" = '"version":4,"seq":5 "version":5,"seq":6 "version":6,"seq":7 "version":2,"seq":8' ]
	# everything archived: the store is empty, numbering goes on
	printf '%s\n' '{"last_seq":8,"versions":[["a",6],["b",2]]}' >"$S.base"
	: >kept && mv kept "$S"
	run_split evwrite --store "$S" in.ndjson
	[ "$(printf '%s\n' "$output" | grep -o '"version":[0-9]*,"seq":[0-9]*' | paste -sd' ' -)" = '"version":7,"seq":9 "version":8,"seq":10 "version":9,"seq":11 "version":3,"seq":12' ]
	# a malformed base is an I/O failure, not a restart from 1
	echo '{"last_seq":"x"}' >"$S.base"
	rm -f "$S.idx"
	run_split evwrite --store "$S" in.ndjson
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"$S.base: expected"* ]]
}

@test "the index is rebuilt when missing, stale or damaged, and catches up with foreign appends" {
	gen 50 4 x | evwrite -q --store "$S"
	rm "$S.idx"
	gen 10 4 y | evwrite -q --store "$S"
	check_store "$S"
	# a line appended by another program is taken into account
	echo '{"aggregate_id":"agg-1","event_type":"T","payload":{},"version":17,"seq":61}' >>"$S"
	gen 4 4 z | evwrite -q --store "$S"
	check_store "$S"
	# damage the aggregates table: detected, rebuilt, numbering right
	size=$(wc -c <"$S.idx")
	dd if=/dev/zero of="$S.idx" bs=1 seek=$((size - 200)) count=100 conv=notrunc 2>/dev/null
	gen 4 4 w | evwrite -q --store "$S"
	check_store "$S"
	head -c 100 /dev/urandom >"$S.idx"
	gen 4 4 v | evwrite -q --store "$S"
	check_store "$S"
	# another field mapping means another index
	gen 3 3 u | sed 's/aggregate_id/k/' | evwrite -q --key-field k --store "$S"
	[ "$(tail -n 3 "$S" | grep -o '"version":[0-9]*' | paste -sd' ' -)" = '"version":1 "version":1 "version":1' ]
}

@test "evwrite appends to a large store without rescanning it" {
	gen 20000 500 big | evwrite -q --store "$S"
	echo '{"aggregate_id":"agg-7","event_type":"T","payload":{}}' | evwrite -q --store "$S"
	echo '{"aggregate_id":"agg-7","event_type":"T","payload":{}}' >one.ndjson
	# strace is installed by .ci/deps: without it the test fails, never weakens
	ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=read,pread64 -o trace.txt evwrite -q --store "$S" one.ndjson
	bytes=$(awk -F'= ' '/pread64\(|read\(/ { s += $NF } END { print s + 0 }' trace.txt)
	[ "$(grep -c 'pread64(\|read(' trace.txt)" -gt 0 ] || fail_with "strace saw no reads"
	[ "$bytes" -lt 1000000 ] || fail_with "read $bytes bytes of a $(wc -c <"$S")-byte store"
	[ "$(tail -n1 "$S" | grep -o '"version":[0-9]*,"seq":[0-9]*')" = '"version":42,"seq":20002' ]
}

@test "evwrite --fsync always, batch and never append alike; a present seq must be the next position" {
	for p in always batch never; do
		run_split evwrite -q --fsync $p --store "$S" "$FX/orders.ndjson"
		[ "$status" -eq 0 ] || fail_with "--fsync $p"
	done
	[ "$(wc -l <"$S")" -eq 9 ]
	check_store "$S"
	run_split sh -c "echo '{\"aggregate_id\":\"a\",\"event_type\":\"T\",\"payload\":{},\"seq\":3}' | evwrite --store '$S'"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evwrite: <stdin>:1: seq 3 is not the store's next position 10" ]
	run_split sh -c "echo '{\"aggregate_id\":\"a\",\"event_type\":\"T\",\"payload\":{},\"seq\":10}' | evwrite -q --store '$S'"
	[ "$status" -eq 0 ]
	[ "$(tail -n1 "$S")" = '{"aggregate_id":"a","event_type":"T","payload":{},"seq":10,"event_id":'"$(tail -n1 "$S" | sed 's/.*"event_id":\([^,]*\),.*/\1/')"',"timestamp":'"$(tail -n1 "$S" | sed 's/.*"timestamp":\([^,]*\),.*/\1/')"',"version":1,"metadata":{"correlation_id":'"$(tail -n1 "$S" | sed 's/.*"correlation_id":\("[^"]*"\).*/\1/')"'}}' ] || fail_with "$(tail -n1 "$S")"
}

@test "evwrite --message writes pub/sub envelopes" {
	run_split evwrite --message --now $NOW --topic orders --priority 5 --ttl 30s --partition-key payload.total \
		--exchange ex --max-retries 2 --deliver-at 2026-11-27T11:00Z --source shop --correlation-id c9 "$FX/orders.ndjson"
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" =~ ^'{"message_id":"'$UUID'","topic":"orders","payload":{"total":5},"headers":{"content_type":"application/json","timestamp":"2026-11-27T10:00:00.000000Z","source":"shop","correlation_id":"c9","priority":5,"ttl":30},"routing":{"key":"orders","exchange":"ex","partition_key":5,"retry_count":0,"max_retries":2},"deliver_at":"2026-11-27T11:00:00.000000Z"}'$ ]] || fail_with "envelope"
	run_split sh -c "echo '{\"event_id\":\"0b9b3c3e-5a5f-4f39-9c59-1f1d0d7e2a11\",\"event_type\":\"Ping\",\"payload\":[1],\"timestamp\":1700000000}' | evwrite --message --routing-key rk"
	[[ "$output" =~ ^'{"message_id":"0b9b3c3e-5a5f-4f39-9c59-1f1d0d7e2a11","topic":"Ping","payload":[1],"headers":{"content_type":"application/json","timestamp":"2023-11-14T22:13:20.000000Z","source":null,"correlation_id":"'$UUID'","priority":0,"ttl":null},"routing":{"key":"rk","exchange":null,"partition_key":null,"retry_count":0,"max_retries":3}}'$ ]] || fail_with "defaults"
	run_split evwrite --message --store "$S" "$FX/orders.ndjson"
	[ "$status" -eq 2 ]
}

@test "evwrite --message writes headers.ttl in whole seconds and refuses a fraction of a second" {
	ev='{"aggregate_id":"o-1","event_type":"Ping","payload":{},"timestamp":"2026-11-27T10:00:00Z"}'
	for t in 1h:3600 90s:90 1h30m:5400 0s:0 7d:604800 2000ms:2; do
		run_split sh -c "echo '$ev' | evwrite --message --correlation-id c --ttl ${t%%:*}"
		[ "$status" -eq 0 ] || fail_with "$t"
		[[ "$output" == *'"priority":0,"ttl":'"${t#*:}"'},"routing"'* ]] || fail_with "$t"
	done
	run_split sh -c "echo '$ev' | evwrite --message --ttl 1500ms"
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[[ "$stderr" == "evwrite: --ttl: '1500ms' is not a whole number of seconds"* ]] || fail_with "fraction"
}

@test "evwrite usage errors exit 2" {
	for a in "--uuid v5" "--expect maybe" "--fsync sometimes" "--lock-timeout soon" "--priority 10" "--ttl x" "--deliver-at never" "--require a..b"; do
		run_split evwrite $a </dev/null
		[ "$status" -eq 2 ] || fail_with "$a"
	done
}

@test "evwrite --strict stops at the first rejected line after appending what came before" {
	printf '%s\n' '{"aggregate_id":"a","event_type":"T","payload":{}}' '{"aggregate_id":"a"}' '{"aggregate_id":"a","event_type":"T","payload":{}}' >s.ndjson
	run_split evwrite --strict --store "$S" s.ndjson
	[ "$status" -eq 3 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(wc -l <"$S")" -eq 1 ]
}

@test "evwrite --strict appends what came before the rejected line; a failed append then exits 5" {
	gen 300 5 strict >big.ndjson
	echo '{"aggregate_id":"a"}' >>big.ndjson
	gen 2 1 after >>big.ndjson
	evwrite -q --store "$S" "$FX/orders.ndjson"
	cp "$S" before
	# the rejected line stops the run; the final append fails on the limit
	run_split bash -c "ulimit -f 16; evwrite --strict --store '$S' big.ndjson"
	[ "$status" -eq 5 ] || fail_with "status"
	[ "$output" = "" ]
	[ "$stderr" = "evwrite: big.ndjson:301: missing required fields 'event_type', 'payload'
evwrite: $S: cannot append 300 events (store left as it was): File too large" ] || fail_with "stderr"
	cmp "$S" before
	# echoing what was appended fails on a full disk: 5 as well
	run_split sh -c "evwrite --strict --store '$S' big.ndjson >/dev/full"
	[ "$status" -eq 5 ]
	[ "$stderr" = "evwrite: big.ndjson:301: missing required fields 'event_type', 'payload'
evwrite: write error on standard output: No space left on device" ] || fail_with "stderr full"
	[ "$(wc -l <"$S")" -eq $(($(wc -l <before) + 300)) ]
	check_store "$S"
	# --strict with --atomic: nothing appended, status 3
	cp "$S" before
	run_split evwrite --strict --atomic --store "$S" big.ndjson
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	cmp "$S" before
}

@test "evwrite rejects an event after version or seq 2^63-1 instead of overflowing" {
	M=9223372036854775807
	printf '%s\n' "{\"aggregate_id\":\"a\",\"event_type\":\"T\",\"payload\":{},\"event_id\":\"x1\",\"timestamp\":\"2026-11-27T10:00:00Z\",\"version\":$M,\"seq\":1}" >"$S"
	cp "$S" before
	printf '%s\n' '{"aggregate_id":"a","event_type":"T","payload":{}}' '{"aggregate_id":"b","event_type":"T","payload":{}}' >in.ndjson
	run_split evwrite --now $NOW --store "$S" in.ndjson
	[ "$status" -eq 3 ]
	[ "$stderr" = "evwrite: in.ndjson:1: aggregate a is at version $M, the largest there can be: no event can follow" ] || fail_with "version"
	[[ "$output" =~ ^\{\"aggregate_id\":\"b\",\"event_type\":\"T\",\"payload\":\{\},\"event_id\":\"$UUID\",$TS,\"version\":1,\"seq\":2,\"metadata\":\{\"correlation_id\":\"$UUID\"\}\}$ ]] || fail_with "b"
	# seq
	printf '%s\n' "{\"aggregate_id\":\"a\",\"event_type\":\"T\",\"payload\":{},\"event_id\":\"x1\",\"timestamp\":\"2026-11-27T10:00:00Z\",\"version\":1,\"seq\":$M}" >"$S"
	rm -f "$S.idx"
	cp "$S" before
	run_split evwrite --store "$S" in.ndjson
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	[ "$stderr" = "evwrite: in.ndjson:1: the store is at seq $M, the largest there can be: no event can follow
evwrite: in.ndjson:2: the store is at seq $M, the largest there can be: no event can follow" ] || fail_with "seq"
	cmp "$S" before
}

@test "evwrite --help lists every option and the man page documents it" {
	run evwrite --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: evwrite "* ]]
	for o in --store --require --schema --uuid --source --correlation-id --causation-id --expect --atomic --fsync --repair --lock-timeout --dry-run --quiet --message --topic --priority --ttl --routing-key --partition-key --exchange --max-retries --deliver-at --commands --stats --errors --strict --id-field --key-field --version-field --time-unit --now; do
		help_has "$o" || fail_with "help lacks $o"
		grep -q -- "${o#--}" "$BATS_TEST_DIRNAME/../man/evwrite.1" || fail_with "man lacks $o"
	done
	run evwrite -V
	[ "$output" = "evwrite (evtools) 0.1.0" ]
	run mandoc -Tlint -Wwarning "$BATS_TEST_DIRNAME/../man/evwrite.1"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

# ---- --commands (the CQRS command side) ----------------------------------

MAP="$BATS_TEST_DIRNAME/fixtures/evwrite/command-map.json"
E1='{"aggregate_id":"order-1","event_type":"OrderCreated","payload":{"total":10.50,"note":"caf\u00e9"},"metadata":{"correlation_id":"c-1","causation_id":"cmd-1"},"event_id":"16b927d9-2082-5450-8a91-085dc9b80c1e","timestamp":"2026-11-27T10:00:00.000000Z","version":1,"seq":1}'
E2='{"aggregate_id":"order-1","event_type":"OrderUpdated","payload":{"total":1.2e1},"metadata":{"user":"ann","source":"web","correlation_id":"c-1","causation_id":"cmd-2"},"event_id":"5d9869a1-8f34-55ad-b5a2-10b42789fda7","timestamp":"2026-11-27T10:00:00.000000Z","version":2,"seq":2}'
E3='{"aggregate_id":7,"event_type":"OrderCreated","payload":null,"metadata":{"correlation_id":"c-1","causation_id":42},"event_id":"a8633eca-b048-5936-965e-1e2c10a72003","timestamp":"2026-11-27T10:00:00.000000Z","version":1,"seq":3}'

@test "evwrite --commands appends one event of the mapped type per command, values kept byte for byte" {
	run_split evwrite --commands "$MAP" --store "$S" --now $NOW --correlation-id c-1 "$FX/commands.ndjson"
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$output" = "$E1
$E2
$E3" ] || fail_with "events"
	[ "$stderr" = "evwrite: $FX/commands.ndjson:3: unknown command type \"ShipOrder\"
evwrite: $FX/commands.ndjson:4: command lacks aggregate_id" ] || fail_with "stderr"
	# the store holds what was echoed; the command-only members
	# (command_type, command_id, expected_version, issued_by) are not stored
	[ "$(cat "$S")" = "$output" ]
}

@test "evwrite --commands skips a re-sent command as a duplicate of its event" {
	evwrite -q --commands "$MAP" --store "$S" --now $NOW "$FX/commands.ndjson" 2>/dev/null || true
	cp "$S" before
	run_split evwrite --commands "$MAP" --store "$S" --stats "$FX/commands.ndjson"
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	F="$FX/commands.ndjson"
	[ "$stderr" = "evwrite: $F:1: warning: duplicate command_id \"cmd-1\" skipped: its event 16b927d9-2082-5450-8a91-085dc9b80c1e is already in the store
evwrite: $F:2: warning: duplicate command_id \"cmd-2\" skipped: its event 5d9869a1-8f34-55ad-b5a2-10b42789fda7 is already in the store
evwrite: $F:3: unknown command type \"ShipOrder\"
evwrite: $F:4: warning: duplicate command_id 42 skipped: its event a8633eca-b048-5936-965e-1e2c10a72003 is already in the store" ] && false || true
	[[ "$stderr" == *'duplicate command_id "cmd-1" skipped: its event 16b927d9-2082-5450-8a91-085dc9b80c1e is already in the store'* ]] || fail_with "dup"
	[[ "$stderr" == *'{"commands":5,"events":0,"skipped":3,"rejected":{"unknown_type":1,"invalid":1,"conflict":0}}' ]] || fail_with "stats"
	cmp "$S" before
	# "42" names the same command as 42: the command id is a name
	run_split sh -c "echo '{\"command_type\":\"CreateOrder\",\"command_id\":\"42\",\"aggregate_id\":8,\"payload\":{}}' | evwrite --commands '$MAP' --store '$S'"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$stderr" = "evwrite: <stdin>:1: warning: duplicate command_id \"42\" skipped: its event a8633eca-b048-5936-965e-1e2c10a72003 is already in the store" ] || fail_with "name"
}

@test "evwrite --commands generates a command_id when absent: it is the causation_id and names the event" {
	run_split sh -c "echo '{\"command_type\":\"CancelOrder\",\"aggregate_id\":\"o-9\",\"payload\":{}}' | evwrite --commands '$MAP' --store '$S' --now $NOW --correlation-id c"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[[ "$output" =~ ^'{"aggregate_id":"o-9","event_type":"OrderCancelled","payload":{},"metadata":{"correlation_id":"c","causation_id":"'($UUID)'"},"event_id":"'[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'",'$TS',"version":1,"seq":1}'$ ]] || fail_with "event"
	cid=${BASH_REMATCH[1]}
	# the same command sent again with the echoed id is the same command
	run_split sh -c "echo '{\"command_type\":\"CancelOrder\",\"command_id\":\"$cid\",\"aggregate_id\":\"o-9\",\"payload\":{}}' | evwrite --commands '$MAP' --store '$S'"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[[ "$stderr" == "evwrite: <stdin>:1: warning: duplicate command_id \"$cid\" skipped: its event "*" is already in the store" ]] || fail_with "dup"
	[ "$(wc -l <"$S")" -eq 1 ]
	# --uuid v7 makes generated command ids time-ordered
	run_split sh -c "echo '{\"command_type\":\"CancelOrder\",\"aggregate_id\":\"o-8\",\"payload\":{}}' | evwrite --commands '$MAP' --uuid v7 --dry-run"
	[[ "$output" =~ '"causation_id":"'[0-9a-f]{8}-[0-9a-f]{4}-7 ]] || fail_with "v7"
}

@test "evwrite --commands rejects each bad command with its reason and appends the others" {
	cat >in.ndjson <<'IN'
{"command_type":"ShipOrder","aggregate_id":"o-1","payload":{}}
{"command_type":"CreateOrder","payload":{}}
{"command_type":"CreateOrder","aggregate_id":null,"payload":{}}
{"aggregate_id":"o-1","payload":{}}
{"command_type":["CreateOrder"],"aggregate_id":"o-1","payload":{}}
{"command_type":"CreateOrder","aggregate_id":"o-1"}
{"command_type":"CreateOrder","aggregate_id":"o-1","payload":{},"command_id":""}
{"command_type":"CreateOrder","aggregate_id":"o-1","payload":{},"command_id":1.5}
{"command_type":"CreateOrder","aggregate_id":"o-1","payload":{},"expected_version":-1}
{"command_type":"CreateOrder","aggregate_id":"o-1","payload":{},"metadata":[]}
{"command_type":"CreateOrder",
{"command_type":"createorder","aggregate_id":"o-1","payload":{}}
{"command_type":"CreateOrder","aggregate_id":"o-1","payload":{},"command_id":"ok-1"}
IN
	run_split evwrite --commands "$MAP" --store "$S" --now $NOW --correlation-id c --stats in.ndjson
	[ "$status" -eq 3 ]
	[ "$output" = '{"aggregate_id":"o-1","event_type":"OrderCreated","payload":{},"metadata":{"correlation_id":"c","causation_id":"ok-1"},"event_id":"eda75844-86b3-5d95-a0fa-ac84a1751604",'$TS',"version":1,"seq":1}' ] || fail_with "event"
	[ "$stderr" = 'evwrite: in.ndjson:1: unknown command type "ShipOrder"
evwrite: in.ndjson:2: command lacks aggregate_id
evwrite: in.ndjson:3: command lacks aggregate_id
evwrite: in.ndjson:4: command lacks command_type
evwrite: in.ndjson:5: command_type is not a string
evwrite: in.ndjson:6: command lacks payload
evwrite: in.ndjson:7: command_id must be a non-empty string or an integer
evwrite: in.ndjson:8: command_id must be a non-empty string or an integer
evwrite: in.ndjson:9: expected_version must be a version, "any", "no_stream" or "exists"
evwrite: in.ndjson:10: metadata is not an object
evwrite: in.ndjson:11: invalid JSON: unexpected end of line, expected a string key at column 31
evwrite: in.ndjson:12: unknown command type "createorder"
{"commands":13,"events":1,"skipped":0,"rejected":{"unknown_type":2,"invalid":10,"conflict":0}}' ] || fail_with "stderr"
	[ "$(wc -l <"$S")" -eq 1 ]
}

@test "evwrite --commands --errors keeps rejected commands so they can be fixed and fed back" {
	run_split evwrite --commands "$MAP" --store "$S" --errors err.ndjson --now $NOW -q "$FX/commands.ndjson"
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	F="$FX/commands.ndjson"
	[ "$(cat err.ndjson)" = '{"file":"'"$F"'","line":3,"error":"unknown command type \"ShipOrder\"","raw":"{\"command_type\":\"ShipOrder\",\"command_id\":\"cmd-3\",\"aggregate_id\":\"order-1\",\"payload\":{}}"}
{"file":"'"$F"'","line":4,"error":"command lacks aggregate_id","raw":"{\"command_type\":\"CancelOrder\",\"command_id\":\"cmd-4\",\"payload\":{}}"}' ] || fail_with "errors"
	# fix: ShipOrder is not a command this service knows; cancel instead,
	# and give the cancel its aggregate
	jq -r .raw err.ndjson | sed 's/"ShipOrder"/"CancelOrder"/; s/"cmd-4",/"cmd-4","aggregate_id":"order-9",/' >fixed.ndjson
	run_split evwrite --commands "$MAP" --store "$S" --now $NOW --correlation-id c fixed.ndjson
	[ "$status" -eq 0 ] || fail_with "fed back"
	[ "$stderr" = "" ]
	[ "${lines[0]}" = '{"aggregate_id":"order-1","event_type":"OrderCancelled","payload":{},"metadata":{"correlation_id":"c","causation_id":"cmd-3"},"event_id":"'"$(evwrite --commands "$MAP" --dry-run <<<'{"command_type":"CancelOrder","command_id":"cmd-3","aggregate_id":"x","payload":{}}' | sed 's/.*"event_id":"\([^"]*\)".*/\1/')"'",'$TS',"version":3,"seq":4}' ] || fail_with "line 1"
	[ "${lines[1]}" = '{"aggregate_id":"order-9","event_type":"OrderCancelled","payload":{},"metadata":{"correlation_id":"c","causation_id":"cmd-4"},"event_id":"'"$(evwrite --commands "$MAP" --dry-run <<<'{"command_type":"CancelOrder","command_id":"cmd-4","aggregate_id":"x","payload":{}}' | sed 's/.*"event_id":"\([^"]*\)".*/\1/')"'",'$TS',"version":1,"seq":5}' ] || fail_with "line 2"
	[ "$(wc -l <"$S")" -eq 5 ]
}

@test "evwrite --commands carries expected_version per command: a conflict exits 4 and the others are appended" {
	evwrite -q --commands "$MAP" --store "$S" --now $NOW "$FX/commands.ndjson" 2>/dev/null || true
	cat >in.ndjson <<'IN'
{"command_type":"UpdateOrder","command_id":"u-1","aggregate_id":"order-1","payload":{"total":3},"expected_version":1}
{"command_type":"UpdateOrder","command_id":"u-2","aggregate_id":"order-1","payload":{"total":4},"expected_version":2}
{"command_type":"CancelOrder","command_id":"u-3","aggregate_id":"order-2","payload":{},"expected_version":"exists"}
{"command_type":"CreateOrder","command_id":"u-4","aggregate_id":7,"payload":{},"expected_version":"no_stream"}
{"command_type":"CreateOrder","command_id":"u-5","aggregate_id":"order-3","payload":{},"expected_version":"no_stream"}
IN
	run_split evwrite --commands "$MAP" --store "$S" --now $NOW --correlation-id c --stats in.ndjson
	[ "$status" -eq 4 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == '{"aggregate_id":"order-1","event_type":"OrderUpdated","payload":{"total":4},"metadata":{"correlation_id":"c","causation_id":"u-2"},"event_id":"'*'","version":3,"seq":4}' ]] || fail_with "u-2"
	[[ "${lines[1]}" == '{"aggregate_id":"order-3",'*'"causation_id":"u-5"},'*'"version":1,"seq":5}' ]] || fail_with "u-5"
	[ "$stderr" = 'evwrite: expected 1, actual 2 (aggregate order-1)
evwrite: expected exists, actual 0 (aggregate order-2)
evwrite: expected no_stream, actual 1 (aggregate 7)
{"commands":5,"events":2,"skipped":0,"rejected":{"unknown_type":0,"invalid":0,"conflict":3}}' ] || fail_with "stderr"
	# the command's expected_version is not stored
	! grep -q expected_version "$S"
	# --expect applies to the first command of each aggregate without its own
	run_split sh -c "echo '{\"command_type\":\"UpdateOrder\",\"aggregate_id\":\"order-3\",\"payload\":{}}' | evwrite --commands '$MAP' --store '$S' --expect 5"
	[ "$status" -eq 4 ]
	[ "$stderr" = "evwrite: expected 5, actual 1 (aggregate order-3)" ]
}

@test "a command whose expected_version conflicts under 4 concurrent writers: exactly one wins" {
	echo '{"command_type":"CreateOrder","command_id":"c-0","aggregate_id":"race","payload":{}}' | evwrite -q --commands "$MAP" --store "$S"
	for i in 1 2 3 4; do
		echo '{"command_type":"UpdateOrder","command_id":"w-'$i'","aggregate_id":"race","payload":{"writer":'$i'},"expected_version":1}' >c$i.ndjson
	done
	for i in 1 2 3 4; do
		( rc=0; evwrite -q --commands "$MAP" --store "$S" c$i.ndjson 2>e$i || rc=$?; echo $rc >rc$i ) &
	done
	wait
	[ "$(cat rc1 rc2 rc3 rc4 | sort | tr '\n' ' ')" = "0 4 4 4 " ] || fail_with "statuses: $(cat rc1 rc2 rc3 rc4 | tr '\n' ' ')"
	for i in 1 2 3 4; do
		if [ "$(cat rc$i)" -eq 0 ]; then
			[ ! -s e$i ]
			w=$i
		else
			[ "$(cat e$i)" = "evwrite: expected 1, actual 2 (aggregate race)" ]
		fi
	done
	[ "$(wc -l <"$S")" -eq 2 ]
	[[ "$(tail -n 1 "$S")" == '{"aggregate_id":"race","event_type":"OrderUpdated","payload":{"writer":'$w'},'*'"version":2,"seq":2}' ]]
	check_store "$S"
}

@test "evwrite --commands --atomic appends every event of the batch or none" {
	run_split evwrite --commands "$MAP" --store "$S" --atomic --stats "$FX/commands.ndjson"
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	[[ "$stderr" == *'evwrite: nothing appended: the input is one unit (--atomic) and lines were rejected
{"commands":5,"events":0,"skipped":0,"rejected":{"unknown_type":1,"invalid":1,"conflict":0}}' ]] || fail_with "rejected"
	[ ! -s "$S" ]
	head -n 2 "$FX/commands.ndjson" >good.ndjson
	echo '{"command_type":"CancelOrder","command_id":"x","aggregate_id":"order-1","payload":{},"expected_version":5}' >>good.ndjson
	run_split evwrite --commands "$MAP" --store "$S" --atomic good.ndjson
	[ "$status" -eq 4 ]
	[ "$output" = "" ]
	[ "$stderr" = "evwrite: expected 5, actual 2 (aggregate order-1)
evwrite: nothing appended: the input is one unit (--atomic) and it has a conflict" ] || fail_with "conflict"
	[ ! -s "$S" ]
	head -n 2 "$FX/commands.ndjson" | evwrite --commands "$MAP" --store "$S" --atomic -q
	[ "$(wc -l <"$S")" -eq 2 ]
}

@test "evwrite --commands --dry-run prints the events and appends nothing" {
	run_split evwrite --commands "$MAP" --store "$S" --dry-run --now $NOW --correlation-id c-1 --stats "$FX/commands.ndjson"
	[ "$status" -eq 3 ]
	[ "$output" = "$E1
$E2
$E3" ] || fail_with "events"
	[[ "$stderr" == *'
{"commands":5,"events":3,"skipped":0,"rejected":{"unknown_type":1,"invalid":1,"conflict":0}}' ]] || fail_with "stats"
	[ ! -e "$S" ]
}

@test "evwrite --commands writes the event with the mapped field names and checks --require on commands" {
	run_split sh -c "echo '{\"command_type\":\"CreateOrder\",\"command_id\":\"k\",\"aggregate_id\":\"o\",\"payload\":{\"a\":1}}' | evwrite --commands '$MAP' --key-field stream --type-field type --id-field id --time-field at --version-field v --payload-field data --now $NOW --correlation-id c"
	[ "$status" -eq 0 ]
	[[ "$output" == '{"stream":"o","type":"OrderCreated","data":{"a":1},"metadata":{"correlation_id":"c","causation_id":"k"},"id":"'*'","at":"2026-11-27T10:00:00.000000Z","v":1,"seq":1}' ]] || fail_with "names"
	run_split evwrite --commands "$MAP" --require payload.total --dry-run --now $NOW --correlation-id c-1 "$FX/commands.ndjson"
	[ "$status" -eq 3 ]
	[ "$output" = "$E1
$E2" ] || fail_with "events"
	F="$FX/commands.ndjson"
	[ "$stderr" = "evwrite: $F:3: command lacks payload.total (--require)
evwrite: $F:4: command lacks aggregate_id
evwrite: $F:5: command lacks payload.total (--require)" ] || fail_with "require"
}

@test "evwrite --commands refuses a missing or bad MAP and options that do not go with it, exit 2" {
	printf '{"A":"B",\n "C" "D"}\n' >bad.json
	printf '{"A":"B",\n "C":3}\n' >nostr.json
	printf '["A"]\n' >arr.json
	printf '{"A":"B","A":"C"}\n' >dup.json
	printf '{"A":""}\n' >empty.json
	for c in "nope.json|evwrite: --commands: nope.json: No such file or directory" \
		"bad.json|evwrite: --commands: bad.json:2:8: ':' expected near '\"D\"'" \
		"nostr.json|evwrite: --commands: nostr.json: the event type of \"C\" is not a string" \
		"arr.json|evwrite: --commands: arr.json: expected an object from command type to event type" \
		"dup.json|evwrite: --commands: dup.json:1:12: duplicate object key near '\"A\"'" \
		"empty.json|evwrite: --commands: empty.json: the event type of \"A\" is empty"; do
		run_split evwrite --commands "${c%%|*}" --store "$S" "$FX/commands.ndjson"
		[ "$status" -eq 2 ] || fail_with "$c"
		[ "$output" = "" ]
		[ "$stderr" = "${c#*|}" ] || fail_with "$c"
		[ ! -e "$S" ]
	done
	for a in "--message" "--schema $FX/schema.json" "--causation-id x" "--key-field a.b" "--payload-field ."; do
		run_split evwrite --commands "$MAP" $a </dev/null
		[ "$status" -eq 2 ] || fail_with "$a"
		[[ "$stderr" == "evwrite: "*"usage: evwrite "* ]] || fail_with "$a"
	done
	run_split evwrite --stats </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == "evwrite: --stats counts commands: it goes with --commands"* ]]
}

@test "evwrite --commands skips a command sent twice in one batch and --strict stops at the first refused command" {
	cat >in.ndjson <<'IN'
{"command_type":"CreateOrder","command_id":"a-1","aggregate_id":"o-1","payload":{}}
{"command_type":"CreateOrder","command_id":"a-1","aggregate_id":"o-1","payload":{"again":true}}
{"command_type":"ShipOrder","command_id":"a-2","aggregate_id":"o-1","payload":{}}
{"command_type":"CancelOrder","command_id":"a-3","aggregate_id":"o-1","payload":{}}
IN
	run_split evwrite --commands "$MAP" --store "$S" --strict --stats -q in.ndjson
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	[ "$stderr" = 'evwrite: in.ndjson:2: warning: duplicate command_id "a-1" skipped: its event bd6fd20d-a6d7-5376-a41c-9aa487bd1c21 is already in the store
evwrite: in.ndjson:3: unknown command type "ShipOrder"
{"commands":3,"events":1,"skipped":1,"rejected":{"unknown_type":1,"invalid":0,"conflict":0}}' ] || fail_with "stderr"
	[ "$(wc -l <"$S")" -eq 1 ]
	[[ "$(cat "$S")" == '{"aggregate_id":"o-1","event_type":"OrderCreated","payload":{},'* ]]
}

@test "lib/envelope UUIDs: v5 known answers, v4 shape, v7 strictly ordered within one millisecond" {
	run_split "$EVUNIT/envelope_test" <<'IN'
v5 6ba7b810-9dad-11d1-80b4-00c04fd430c8 www.example.com
v5 command cmd-1
v5 command 42
v4 10000
v7 5000 1764000000123456
v7 1 0
v5 6ba7b810-9dad-11d1-80b4-00c04fd430c8 www.example.com
IN
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	# RFC 9562 A.4: "www.example.com" in the DNS namespace; the command
	# namespace as evwrite(1) gives it (Python's uuid5 agrees)
	[ "${lines[0]}" = 2ed6657d-e927-568b-95e1-2665a8aea6a2 ]
	[ "${lines[1]}" = 16b927d9-2082-5450-8a91-085dc9b80c1e ]
	[ "${lines[2]}" = a8633eca-b048-5936-965e-1e2c10a72003 ]
	[ "${lines[3]}" = ok ]
	# 1764000000123456 us: 48 bits of ms 0x019ab697e87b, then 0x74b = 456/1000 of 4096
	[[ "${lines[4]}" =~ ^019ab697-e87b-774b-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] || fail_with "v7"
	[ "${lines[5]}" = ordered ]
	[[ "${lines[6]}" =~ ^00000000-0000-7000-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] || fail_with "v7 at 0"
	[ "${lines[7]}" = ordered ]
	# back to the first namespace: the namespace's hashed prefix is redone
	[ "${lines[8]}" = 2ed6657d-e927-568b-95e1-2665a8aea6a2 ]
	[ "${#lines[@]}" -eq 9 ]
}

@test "evwrite --commands --stats still prints its object when the store's lock is not had" {
	touch "$S"
	flock "$S.lock" -c 'touch held; sleep 3' &
	while [ ! -e held ]; do sleep 0.01; done
	run_split evwrite --commands "$MAP" --stats --lock-timeout 100ms --store "$S" "$FX/commands.ndjson"
	[ "$status" -eq 4 ]
	[ "$output" = "" ]
	[[ "$stderr" == "evwrite: $S: store is locked by another writer"*'
{"commands":0,"events":0,"skipped":0,"rejected":{"unknown_type":0,"invalid":0,"conflict":0}}' ]] || fail_with "stderr"
	[ ! -s "$S" ]
	kill %1 2>/dev/null || true
	wait || true
}
