#!/usr/bin/env bats
# evreplay: fold rules and their operations, rows, temporal filters,
# versions, rejections and snapshots.

load helper

FX="$BATS_TEST_DIRNAME/fixtures/evreplay"
EV="$FX/events.ndjson"

# ev ID KEY TYPE PAYLOAD [TIME] [VERSION]: one event line
ev() {
	local v=""
	[ -n "${6:-}" ] && v=",\"version\":$6"
	printf '{"event_id":"%s","aggregate_id":%s,"event_type":"%s","payload":%s,"timestamp":"%s"%s}\n' \
		"$1" "$2" "$3" "$4" "${5:-2026-11-01T10:00:00Z}" "$v"
}

# the "state" member of each row in $output
states() { printf '%s\n' "$output" | sed 's/^.*"state":\(.*\),"events_replayed".*$/\1/'; }

@test "evreplay folds with the default rules, one row per aggregate in order of first appearance" {
	run evreplay "$EV"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"aggregate_id":"order-1","version":3,"state":{"customer":"c1","total":1.05e1,"address":{"city":"Paris"},"paid":true},"events_replayed":3,"first_at":"2026-11-01T10:00:00.000000Z","last_at":"2026-11-01T10:06:00.000000Z","last_event_id":"e7"}' ] || fail_with "row 0"
	[ "${lines[1]}" = '{"aggregate_id":"order-2","version":3,"state":{"customer":"c2","total":7},"events_replayed":3,"first_at":"2026-11-01T10:01:00.000000Z","last_at":"2026-11-01T10:07:00.000000Z","last_event_id":"e8"}' ] || fail_with "row 1"
	[ "${lines[2]}" = '{"aggregate_id":42,"version":1,"state":{"customer":"c3"},"events_replayed":1,"first_at":"2026-11-01T10:03:00.000001Z","last_at":"2026-11-01T10:03:00.000001Z","last_event_id":"e4"}' ] || fail_with "row 2"
	[ "${lines[3]}" = '{"aggregate_id":"42","version":1,"state":{"customer":"c4"},"events_replayed":1,"first_at":"2026-11-01T10:05:00.000000Z","last_at":"2026-11-01T10:05:00.000000Z","last_event_id":"e6"}' ] || fail_with "row 3"
	[ "${#lines[@]}" -eq 4 ]
}

@test "evreplay reads standard input and keeps numbers as written" {
	run sh -c "evreplay < '$EV' | head -n 1"
	[[ "$output" == *'"total":1.05e1'* ]] || fail_with "number text"
}

@test "evreplay semantics: create, merge, delete and recreate after delete" {
	{
		ev a1 '"A"' ThingCreated '{"x":1,"n":{"p":1,"q":2}}'
		ev a2 '"A"' ThingChanged '{"y":2,"n":{"p":9},"x":null}'
		ev a3 '"A"' ThingDeleted '{"ignored":true}' 2026-11-01T11:00:00.5Z
		ev a4 '"A"' ThingChanged '{"z":3}'
		ev a5 '"A"' ThingCreated '{"fresh":true}'
	} > "$BATS_TEST_TMPDIR/e"
	run evreplay --history "$BATS_TEST_TMPDIR/e"
	[ "$status" -eq 0 ]
	[ "$(states)" = '{"x":1,"n":{"p":1,"q":2}}
{"x":null,"n":{"p":9},"y":2}
{"x":null,"n":{"p":9},"y":2,"deleted":true,"deleted_at":"2026-11-01T11:00:00.500000Z"}
{"x":null,"n":{"p":9},"y":2,"deleted":true,"deleted_at":"2026-11-01T11:00:00.500000Z","z":3}
{"fresh":true}' ] || fail_with "states"
}

@test "evreplay semantics: patch merges nested objects and null deletes (RFC 7386)" {
	{
		ev p1 '"P"' Created '{"a":{"b":1,"c":{"d":2,"e":3}},"k":[1,2],"gone":0}'
		ev p2 '"P"' Patched '{"a":{"c":{"d":null,"f":{"g":null,"h":4}},"b":null},"k":[3],"gone":null,"new":{"n":null}}'
		ev p3 '"P"' Patched '"scalar"'
		ev p4 '"P"' Patched '{"again":1}'
	} > "$BATS_TEST_TMPDIR/e"
	run evreplay --history --rule 'Patched=patch' "$BATS_TEST_TMPDIR/e"
	[ "$status" -eq 0 ]
	[ "$(states)" = '{"a":{"b":1,"c":{"d":2,"e":3}},"k":[1,2],"gone":0}
{"a":{"c":{"e":3,"f":{"h":4}}},"k":[3],"new":{}}
"scalar"
{"again":1}' ] || fail_with "states"
}

@test "evreplay semantics: merge is shallow, patch is deep, on the same events" {
	{
		ev m1 '"M"' Created '{"n":{"p":1,"q":2},"s":"x"}'
		ev m2 '"M"' Changed '{"n":{"q":null,"r":3},"s":null}'
	} > "$BATS_TEST_TMPDIR/e"
	run evreplay "$BATS_TEST_TMPDIR/e"
	[ "$(states)" = '{"n":{"q":null,"r":3},"s":null}' ] || fail_with "merge"
	run evreplay --rule Changed=patch "$BATS_TEST_TMPDIR/e"
	[ "$(states)" = '{"n":{"p":1,"r":3}}' ] || fail_with "patch"
}

@test "evreplay semantics: ignore counts the event but leaves the state" {
	{
		ev i1 '"I"' Created '{"a":1}'
		ev i2 '"I"' Viewed '{"a":2}'
	} > "$BATS_TEST_TMPDIR/e"
	run evreplay --rule Viewed=ignore "$BATS_TEST_TMPDIR/e"
	[ "$output" = '{"aggregate_id":"I","version":2,"state":{"a":1},"events_replayed":2,"first_at":"2026-11-01T10:00:00.000000Z","last_at":"2026-11-01T10:00:00.000000Z","last_event_id":"i2"}' ] || fail_with "row"
}

@test "evreplay semantics: set writes a JSON value at a path, creating objects on the way" {
	{
		ev s1 '"S"' Paid '{}'
		ev s2 '"S"' Shipped '{}'
		ev s3 '"S"' Tagged '{}'
	} > "$BATS_TEST_TMPDIR/e"
	run evreplay --history --rule 'Paid=set:status="paid"' --rule 'Shipped=set:shipping.info={"at":1, "by":[ "ups" ]}' \
		--rule 'Tagged=set:shipping.info.by.0="dhl"' "$BATS_TEST_TMPDIR/e"
	[ "$status" -eq 0 ]
	[ "$(states)" = '{"status":"paid"}
{"status":"paid","shipping":{"info":{"at":1,"by":["ups"]}}}
{"status":"paid","shipping":{"info":{"at":1,"by":["dhl"]}}}' ] || fail_with "states"
}

@test "evreplay semantics: inc and dec add a payload field, or 1; integers stay exact" {
	{
		ev n1 '"N"' Deposit '{"amount":9007199254740993}'
		ev n2 '"N"' Deposit '{"amount":1}'
		ev n3 '"N"' Withdraw '{"amount":0.1}'
		ev n4 '"N"' Visit '{}'
		ev n5 '"N"' Visit '{}'
		ev n6 '"N"' Deposit '{"amount":9223372036854775807}'
	} > "$BATS_TEST_TMPDIR/e"
	run evreplay --history --rule 'Deposit=inc:balance=amount' --rule 'Withdraw=dec:cash=amount' \
		--rule 'Visit=inc:stats.visits' "$BATS_TEST_TMPDIR/e"
	[ "$status" -eq 0 ]
	[ "$(states)" = '{"balance":9007199254740993}
{"balance":9007199254740994}
{"balance":9007199254740994,"cash":-0.1}
{"balance":9007199254740994,"cash":-0.1,"stats":{"visits":1}}
{"balance":9007199254740994,"cash":-0.1,"stats":{"visits":2}}
{"balance":9.232379236109517e+18,"cash":-0.1,"stats":{"visits":2}}' ] || fail_with "states"
}

@test "evreplay semantics: append pushes a payload field, or the whole payload" {
	{
		ev l1 '"L"' ItemAdded '{"item":{"sku":"a","qty":1.50}}'
		ev l2 '"L"' ItemAdded '{"item":"b"}'
		ev l3 '"L"' Noted '{"text":"hi"}'
	} > "$BATS_TEST_TMPDIR/e"
	run evreplay --history --rule 'ItemAdded=append:items=item' --rule 'Noted=append:log' "$BATS_TEST_TMPDIR/e"
	[ "$status" -eq 0 ]
	[ "$(states)" = '{"items":[{"sku":"a","qty":1.50}]}
{"items":[{"sku":"a","qty":1.50},"b"]}
{"items":[{"sku":"a","qty":1.50},"b"],"log":[{"text":"hi"}]}' ] || fail_with "states"
}

@test "evreplay rules: --rules FILE first, then --rule, then the defaults; first match wins" {
	{
		ev r1 '"R"' OrderCreated '{"a":1}'
		ev r2 '"R"' OrderPaid '{"p":1}'
		ev r3 '"R"' ItemAdded '{"item":"x"}'
		ev r4 '"R"' OrderPaid '{"p":2}'
	} > "$BATS_TEST_TMPDIR/e"
	run evreplay --rules "$FX/rules.json" --rule 'Order?aid=ignore' --rule 'Item*=ignore' "$BATS_TEST_TMPDIR/e"
	[ "$status" -eq 0 ]
	[ "$(states)" = '{"a":1,"status":"paid","items":["x"]}' ] || fail_with "file first"
	run evreplay --rule 'Order[A-Z]aid=ignore' --rules "$FX/rules.json" "$BATS_TEST_TMPDIR/e"
	[ "$(states)" = '{"a":1,"status":"paid","items":["x"]}' ] || fail_with "order of options does not matter"
	run evreplay --rule '*Paid=ignore' --rule 'Item*=ignore' "$BATS_TEST_TMPDIR/e"
	[ "$(states)" = '{"a":1}' ] || fail_with "--rule before defaults"
}

@test "evreplay --no-default-rules: events no rule matches are counted and change nothing" {
	{
		ev d1 '"D"' OrderCreated '{"a":1}'
		ev d2 '"D"' OrderPaid '{"p":1}'
	} > "$BATS_TEST_TMPDIR/e"
	run evreplay --no-default-rules --rule 'Order[CD]*=create' "$BATS_TEST_TMPDIR/e"
	[ "$output" = '{"aggregate_id":"D","version":2,"state":{"a":1},"events_replayed":2,"first_at":"2026-11-01T10:00:00.000000Z","last_at":"2026-11-01T10:00:00.000000Z","last_event_id":"d2"}' ] || fail_with "row"
	run evreplay --no-default-rules "$BATS_TEST_TMPDIR/e"
	[ "$(states)" = 'null' ]
}

@test "evreplay globs: ? [set] [!set] and a quoted star" {
	{
		ev g1 '"G"' 'A*B' '{"star":1}'
		ev g2 '"G"' AxB '{"x":1}'
		ev g3 '"G"' AyB '{"y":1}'
	} > "$BATS_TEST_TMPDIR/e"
	run evreplay --no-default-rules --rule 'A\*B=merge' --rule 'A[!x]B=merge' "$BATS_TEST_TMPDIR/e"
	[ "$(states)" = '{"star":1,"y":1}' ] || fail_with "globs"
}

@test "evreplay a bad --rule or --rules is a usage error" {
	run_split evreplay --rule 'nonsense' "$EV"
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[ "${stderr%%$'\n'*}" = "evreplay: --rule 'nonsense': expected GLOB=OP, not 'nonsense'" ] || fail_with "no ="
	run_split evreplay --rule 'X=frobnicate' "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evreplay: --rule 'X=frobnicate': unknown operation 'frobnicate' (expected create, merge, patch, delete, ignore, set:PATH=JSON, inc:PATH[=FIELD], dec:PATH[=FIELD] or append:PATH[=FIELD])" ] || fail_with "unknown op"
	run_split evreplay --rule 'X=set:a=nope' "$EV"
	[ "$status" -eq 2 ]
	[[ "${stderr%%$'\n'*}" == "evreplay: --rule 'X=set:a=nope': 'set' needs PATH=JSON, in 'set:a=nope': "* ]] || fail_with "bad json"
	run_split evreplay --rule 'X=merge:a' "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evreplay: --rule 'X=merge:a': 'merge' takes no argument, in 'merge:a'" ] || fail_with "arg"
	run_split evreplay --rule '=merge' "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evreplay: --rule '=merge': empty event type pattern" ] || fail_with "empty"
	printf '[["A","merge"],["B"]]' > "$BATS_TEST_TMPDIR/r.json"
	run_split evreplay --rules "$BATS_TEST_TMPDIR/r.json" "$EV"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evreplay: --rules $BATS_TEST_TMPDIR/r.json: rule 2: expected [\"GLOB\",\"OP\"]" ] || fail_with "file"
	run_split evreplay --rules "$BATS_TEST_TMPDIR/none.json" "$EV"
	[ "$status" -eq 2 ]
}

@test "evreplay version is the version field, else the count of events read" {
	{
		printf '%s\n' '{"event_id":"x1","aggregate_id":"V","event_type":"Created","payload":{},"timestamp":"2026-11-01T10:00:00Z"}'
		printf '%s\n' '{"event_id":"x2","aggregate_id":"V","event_type":"Changed","payload":{},"timestamp":"2026-11-01T10:00:00Z"}'
		ev y1 '"W"' Created '{}' 2026-11-01T10:00:00Z 7
		ev y2 '"W"' Changed '{}' 2026-11-01T10:00:00Z 8
	} > "$BATS_TEST_TMPDIR/e"
	run evreplay "$BATS_TEST_TMPDIR/e"
	[[ "${lines[0]}" == '{"aggregate_id":"V","version":2,'* ]] || fail_with "count"
	[[ "${lines[1]}" == '{"aggregate_id":"W","version":8,'*'"events_replayed":2,'* ]] || fail_with "field"
}

@test "evreplay --aggregate keeps the aggregates with those string keys" {
	run evreplay -A order-2 --aggregate 42 "$EV"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == '{"aggregate_id":"order-2",'* ]]
	[[ "${lines[1]}" == '{"aggregate_id":"42",'* ]]
}

@test "evreplay --as-of includes an event at the instant and excludes it one microsecond earlier" {
	run evreplay -A 42 --as-of 2026-11-01T10:05:00Z "$EV"
	[ "${#lines[@]}" -eq 1 ]
	run evreplay --as-of 2026-11-01T10:03:00.000001Z "$EV"
	[ "${lines[2]}" = '{"aggregate_id":42,"version":1,"state":{"customer":"c3"},"events_replayed":1,"first_at":"2026-11-01T10:03:00.000001Z","last_at":"2026-11-01T10:03:00.000001Z","last_event_id":"e4"}' ] || fail_with "included"
	[ "${#lines[@]}" -eq 3 ]
	run evreplay --as-of 2026-11-01T10:03:00Z "$EV"
	[ "${#lines[@]}" -eq 2 ] || fail_with "excluded"
	[ "${lines[0]}" = '{"aggregate_id":"order-1","version":2,"state":{"customer":"c1","total":10.50,"address":{"city":"Paris"}},"events_replayed":2,"first_at":"2026-11-01T10:00:00.000000Z","last_at":"2026-11-01T10:02:00.000000Z","last_event_id":"e3"}' ] || fail_with "state as of"
}

@test "evreplay --as-of shows the state before a delete, and after it" {
	run evreplay -A order-2 --as-of 2026-11-01T10:03:59.999999Z "$EV"
	[ "$(states)" = '{"customer":"c2","total":5}' ]
	run evreplay -A order-2 --as-of 2026-11-01T10:04Z "$EV"
	[ "$(states)" = '{"customer":"c2","total":5,"deleted":true,"deleted_at":"2026-11-01T10:04:00.000000Z"}' ]
}

@test "evreplay --since and --until select the events folded (inclusive)" {
	run evreplay --since 2026-11-01T10:02Z --until 2026-11-01T10:04Z "$EV"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"aggregate_id":"order-1","version":2,"state":{"address":{"city":"Paris"}},"events_replayed":1,"first_at":"2026-11-01T10:02:00.000000Z","last_at":"2026-11-01T10:02:00.000000Z","last_event_id":"e3"}' ] || fail_with "since"
	[[ "${lines[1]}" == '{"aggregate_id":42,'* ]]
	[[ "${lines[2]}" == '{"aggregate_id":"order-2","version":2,'* ]]
	[ "${#lines[@]}" -eq 3 ]
}

@test "evreplay --to-version folds each aggregate up to that version" {
	run evreplay --to-version 2 -A order-1 -A order-2 "$EV"
	[ "${lines[0]}" = '{"aggregate_id":"order-1","version":2,"state":{"customer":"c1","total":10.50,"address":{"city":"Paris"}},"events_replayed":2,"first_at":"2026-11-01T10:00:00.000000Z","last_at":"2026-11-01T10:02:00.000000Z","last_event_id":"e3"}' ] || fail_with "v2"
	[[ "${lines[1]}" == '{"aggregate_id":"order-2","version":2,"state":{"customer":"c2","total":5,"deleted":true,'* ]] || fail_with "order-2"
	run_split evreplay --to-version two "$EV"
	[ "$status" -eq 2 ]
}

@test "evreplay --where folds only matching events; several are ANDed" {
	run evreplay --where '@type != "AddressChanged"' -A order-1 "$EV"
	[ "$(states)" = '{"customer":"c1","total":1.05e1,"address":{"city":"Lyon","zip":"69001"},"paid":true}' ] || fail_with "where"
	run evreplay -w '@type != "AddressChanged"' -w '@type != "OrderPaid"' -A order-1 "$EV"
	[ "$(states)" = '{"customer":"c1","total":10.50,"address":{"city":"Lyon","zip":"69001"}}' ] || fail_with "ANDed"
	run_split evreplay --where 'payload.x >' "$EV"
	[ "$status" -eq 2 ]
	[[ "${stderr%%$'\n'*}" == "evreplay: --where: column "* ]] || fail_with "bad where"
}

@test "evreplay --history prints the state after every event" {
	run evreplay --history -A order-2 "$EV"
	[ "${#lines[@]}" -eq 3 ]
	[ "$(states)" = '{"customer":"c2","total":5}
{"customer":"c2","total":5,"deleted":true,"deleted_at":"2026-11-01T10:04:00.000000Z"}
{"customer":"c2","total":7}' ] || fail_with "history"
}

@test "evreplay warns about version gaps, duplicates and reordering, naming the events" {
	{
		ev v1 '"A"' Created '{"n":1}' 2026-11-01T10:00:00Z 1
		ev v2 '"A"' Changed '{"n":2}' 2026-11-01T10:00:00Z 2
		ev v4 '"A"' Changed '{"n":4}' 2026-11-01T10:00:00Z 4
		ev v4b '"A"' Changed '{"n":44}' 2026-11-01T10:00:00Z 4
		ev v3 '"A"' Changed '{"n":3}' 2026-11-01T10:00:00Z 3
		ev v5 '"A"' Changed '{"n":5}' 2026-11-01T10:00:00Z 5
	} > "$BATS_TEST_TMPDIR/e"
	run_split evreplay "$BATS_TEST_TMPDIR/e"
	[ "$status" -eq 0 ]
	[ "$stderr" = "evreplay: $BATS_TEST_TMPDIR/e:3: warning: version gap in aggregate A: event v4 has version 4, expected 3
evreplay: $BATS_TEST_TMPDIR/e:4: warning: duplicate version in aggregate A: event v4b has version 4 again
evreplay: $BATS_TEST_TMPDIR/e:5: warning: version out of order in aggregate A: event v3 has version 3 after 4" ] || fail_with "stderr"
	[[ "$output" == *'"version":5,"state":{"n":5},"events_replayed":6,'* ]] || fail_with "row"
}

@test "evreplay --strict-versions rejects the events out of sequence" {
	{
		ev v1 '"A"' Created '{"n":1}' 2026-11-01T10:00:00Z 1
		ev v3 '"A"' Changed '{"n":3}' 2026-11-01T10:00:00Z 3
		ev v2 '"A"' Changed '{"n":2}' 2026-11-01T10:00:00Z 2
		ev v2b '"A"' Changed '{"n":22}' 2026-11-01T10:00:00Z 2
	} > "$BATS_TEST_TMPDIR/e"
	run_split evreplay --strict-versions --errors "$BATS_TEST_TMPDIR/rej" "$BATS_TEST_TMPDIR/e"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evreplay: $BATS_TEST_TMPDIR/e:2: version gap in aggregate A: event v3 has version 3, expected 2
evreplay: $BATS_TEST_TMPDIR/e:4: duplicate version in aggregate A: event v2b has version 2 again" ] || fail_with "stderr"
	[[ "$output" == '{"aggregate_id":"A","version":2,"state":{"n":2},"events_replayed":2,'* ]] || fail_with "row"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/rej")" -eq 2 ]
}

@test "evreplay rejects bad lines and failing events with their event_id; the aggregate goes on" {
	{
		ev f1 '"F"' Created '{"a":1}'
		echo '{"event_id":"f2","aggregate_id":"F",'
		ev f3 '"F"' Changed '[1,2]'
		printf '%s\n' '{"event_id":"f4","event_type":"Changed","payload":{},"timestamp":"2026-11-01T10:00:00Z"}'
		ev f5 '"F"' Counted '{"n":"x"}'
		printf '%s\n' '{"event_id":"f6","aggregate_id":"F","event_type":"Changed","payload":{}}'
		ev f7 '"F"' Changed '{"b":2}' 2026-11-01T10:00:07Z
	} > "$BATS_TEST_TMPDIR/e"
	run_split evreplay --rule 'Counted=inc:n=n' "$BATS_TEST_TMPDIR/e"
	[ "$status" -eq 3 ]
	[ "$output" = '{"aggregate_id":"F","version":2,"state":{"a":1,"b":2},"events_replayed":2,"first_at":"2026-11-01T10:00:00.000000Z","last_at":"2026-11-01T10:00:07.000000Z","last_event_id":"f7"}' ] || fail_with "row"
	T="$BATS_TEST_TMPDIR/e"
	[ "$stderr" = "evreplay: $T:2: invalid JSON: unexpected end of line, expected a string key at column 37
evreplay: $T:3: event f3: merge: payload is an array, not an object
evreplay: $T:4: missing key field 'aggregate_id'
evreplay: $T:5: event f5: inc: payload field 'n' is a string, not a number
evreplay: $T:6: missing time field 'timestamp'" ] || fail_with "stderr"
}

@test "evreplay rejects operations that cannot apply to the state" {
	{
		ev s1 '"S"' Created '"text"'
		ev s2 '"S"' Changed '{"a":1}'
		ev s3 '"S"' Gone '{}'
		ev t1 '"T"' Created '{"list":5,"n":"x"}'
		ev t2 '"T"' Pushed '{"v":1}'
		ev t3 '"T"' Counted '{}'
		ev t4 '"T"' Flagged '{}'
	} > "$BATS_TEST_TMPDIR/e"
	run_split evreplay --rule 'Gone=delete' --rule 'Pushed=append:list=v' --rule 'Counted=inc:n' \
		--rule 'Flagged=set:list.x=true' "$BATS_TEST_TMPDIR/e"
	[ "$status" -eq 3 ]
	T="$BATS_TEST_TMPDIR/e"
	[ "$stderr" = "evreplay: $T:2: event s2: merge: the state is a string, not an object
evreplay: $T:3: event s3: delete: the state is a string, not an object
evreplay: $T:5: event t2: append: 'list' is a number, not an array
evreplay: $T:6: event t3: inc: 'n' is a string, not a number
evreplay: $T:7: event t4: set: cannot enter a number at 'list.x'" ] || fail_with "stderr"
	[ "$(states)" = '"text"
{"list":5,"n":"x"}' ] || fail_with "states unchanged"
}

@test "evreplay --snapshots: snapshots of a prefix plus the later events equal a full replay" {
	head -n 5 "$EV" > "$BATS_TEST_TMPDIR/prefix"
	evsnap "$BATS_TEST_TMPDIR/prefix" > "$BATS_TEST_TMPDIR/snaps"
	run_split evreplay --snapshots "$BATS_TEST_TMPDIR/snaps" "$EV"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "$output" = "$(evreplay "$EV")" ]
	# also with only the events after the prefix
	tail -n +6 "$EV" > "$BATS_TEST_TMPDIR/rest"
	run evreplay --snapshots "$BATS_TEST_TMPDIR/snaps" "$BATS_TEST_TMPDIR/rest"
	[ "$output" = "$(evreplay "$EV")" ]
}

@test "evreplay ignores, with a warning, snapshots taken under other rules" {
	head -n 5 "$EV" > "$BATS_TEST_TMPDIR/prefix"
	evsnap --rule 'X=ignore' "$BATS_TEST_TMPDIR/prefix" > "$BATS_TEST_TMPDIR/snaps"
	run_split evreplay --snapshots "$BATS_TEST_TMPDIR/snaps" "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = "$(evreplay "$EV")" ]
	[[ "$stderr" == "evreplay: $BATS_TEST_TMPDIR/snaps: 3 snapshots taken under other rules ignored (ours: "*")" ]] || fail_with "warning"
}

@test "evreplay --as-of earlier than a snapshot does not use it" {
	evsnap "$EV" > "$BATS_TEST_TMPDIR/snaps"
	run_split evreplay --snapshots "$BATS_TEST_TMPDIR/snaps" --as-of 2026-11-01T10:03Z "$EV"
	[ "$output" = "$(evreplay --as-of 2026-11-01T10:03Z "$EV")" ]
	[ "$stderr" = "evreplay: $BATS_TEST_TMPDIR/snaps: 4 snapshots later than --as-of/--until/--to-version ignored" ] || fail_with "warning"
}

@test "evreplay --snapshots with a missing file is a usage error" {
	run_split evreplay --snapshots "$BATS_TEST_TMPDIR/none" "$EV"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "evreplay: --snapshots $BATS_TEST_TMPDIR/none: "* ]]
}

@test "evreplay with other field names" {
	printf '%s\n' '{"id":1,"k":{"u":"x"},"t":"UserCreated","body":{"n":1},"at":1700000000,"rev":4}' \
		'{"id":2,"k":{"u":"x"},"t":"UserRenamed","body":{"n":2},"at":1700000001,"rev":5}' > "$BATS_TEST_TMPDIR/e"
	run evreplay --id-field id --key-field k.u --type-field t --payload-field body --time-field at \
		--version-field rev "$BATS_TEST_TMPDIR/e"
	[ "$output" = '{"aggregate_id":"x","version":5,"state":{"n":2},"events_replayed":2,"first_at":"2023-11-14T22:13:20.000000Z","last_at":"2023-11-14T22:13:21.000000Z","last_event_id":2}' ] || fail_with "row"
}

@test "evreplay writes nothing for empty input and fails on an unreadable file" {
	run evreplay /dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	run_split evreplay "$BATS_TEST_TMPDIR/missing" "$EV"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 4 ]
}

@test "evreplay write errors are fatal with status 5" {
	[ -w /dev/full ] || skip "no /dev/full"
	run_split sh -c "evreplay '$EV' > /dev/full"
	[ "$status" -eq 5 ]
	[[ "$stderr" == "evreplay: write error on standard output: "* ]] || fail_with "stderr"
}

@test "evreplay --help lists every option and the man page documents it" {
	run evreplay --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: evreplay "* ]]
	for o in --rules --rule --no-default-rules --aggregate --where --type --format --since --until --as-of --to-version --snapshots --history --strict-versions --errors --strict --id-field --key-field --type-field --time-field --payload-field --version-field --correlation-field --causation-field --time-unit --tz --now --arg --argjson --progress; do
		help_has "$o" || fail_with "help lacks $o"
		grep -q -- "Fl -${o#--}" "$BATS_TEST_DIRNAME/../man/evreplay.1" || fail_with "man lacks $o"
	done
	run evreplay -V
	[ "$output" = "evreplay (evtools) 0.1.0" ]
}

@test "evreplay man page is lint-clean" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	run mandoc -Tlint -Wwarning "$BATS_TEST_DIRNAME/../man/evreplay.1"
	[ "$output" = "" ]
}

@test "evreplay --rules: a rules file that is not JSON is named with its line and column" {
	printf '[\n  ["*Created", "create"],\n  ["*Updated" "merge"]\n]\n' >"$BATS_TEST_TMPDIR/r.json"
	run_split evreplay --rules "$BATS_TEST_TMPDIR/r.json" /dev/null
	[ "$status" -eq 2 ] || fail_with "status"
	[ "${stderr%%$'\n'*}" = "evreplay: --rules $BATS_TEST_TMPDIR/r.json:3:21: ']' expected near '\"merge\"'" ] || fail_with "message"
	printf '[["a","create"],["a","merge"],{"x":1,"x":2}]' >"$BATS_TEST_TMPDIR/d.json"
	run_split evreplay --rules "$BATS_TEST_TMPDIR/d.json" /dev/null
	[ "$status" -eq 2 ] || fail_with "status dup"
	[ "${stderr%%$'\n'*}" = "evreplay: --rules $BATS_TEST_TMPDIR/d.json:1:40: duplicate object key near '\"x\"'" ] || fail_with "duplicate"
}

# GitHub-archive-shaped events (repo as the key, payload.size commits)
gh_events() {
	printf '%s\n' \
		'{"event_id":"g1","aggregate_id":"r/a","event_type":"PushEvent","timestamp":"2026-01-01T00:00:00Z","payload":{"size":3}}' \
		'{"event_id":"g2","aggregate_id":"r/a","event_type":"PushEvent","timestamp":"2026-01-01T00:01:00Z","payload":{"size":2}}' \
		'{"event_id":"g3","aggregate_id":"r/a","event_type":"PushEvent","timestamp":"2026-01-01T00:02:00Z","payload":{"size":"x"}}' \
		'{"event_id":"g4","aggregate_id":"r/b","event_type":"WatchEvent","timestamp":"2026-01-01T00:03:00Z","payload":{}}' \
		'{"event_id":"g5","aggregate_id":"r/a","event_type":"WatchEvent","timestamp":"2026-01-01T00:04:00Z","payload":{}}'
}

@test "evreplay: one rule may hold several operations separated by ';', applied in order" {
	gh_events > "$BATS_TEST_TMPDIR/gh"
	run_split evreplay --no-default-rules --rule 'PushEvent=inc:pushes; inc:commits=size' \
		--rule 'WatchEvent=inc:stars;set:last="watch;ed"' "$BATS_TEST_TMPDIR/gh"
	[ "$status" -eq 3 ]
	[ "$output" = '{"aggregate_id":"r/a","version":3,"state":{"pushes":2,"commits":5,"stars":1,"last":"watch;ed"},"events_replayed":3,"first_at":"2026-01-01T00:00:00.000000Z","last_at":"2026-01-01T00:04:00.000000Z","last_event_id":"g5"}
{"aggregate_id":"r/b","version":1,"state":{"stars":1,"last":"watch;ed"},"events_replayed":1,"first_at":"2026-01-01T00:03:00.000000Z","last_at":"2026-01-01T00:03:00.000000Z","last_event_id":"g4"}' ] || fail_with output
	# g3's second operation fails: its first one is undone too (pushes stays 2)
	[ "$stderr" = "evreplay: $BATS_TEST_TMPDIR/gh:3: event g3: inc: payload field 'size' is a string, not a number" ] || fail_with stderr
}

@test "evreplay: several operations in a --rules file entry; an empty operation is a usage error" {
	gh_events > "$BATS_TEST_TMPDIR/gh"
	echo '[["Push*","inc:pushes; append:sizes=size"]]' > "$BATS_TEST_TMPDIR/r.json"
	run_split evreplay --rules "$BATS_TEST_TMPDIR/r.json" -t PushEvent -A r/a "$BATS_TEST_TMPDIR/gh"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail_with file
	[ "$output" = '{"aggregate_id":"r/a","version":3,"state":{"pushes":3,"sizes":[3,2,"x"]},"events_replayed":3,"first_at":"2026-01-01T00:00:00.000000Z","last_at":"2026-01-01T00:02:00.000000Z","last_event_id":"g3"}' ] || fail_with file
	run_split evreplay --rule 'PushEvent=inc:pushes;' /dev/null
	[ "$status" -eq 2 ] && [ -z "$output" ]
	[ "${stderr%%$'\n'*}" = "evreplay: --rule 'PushEvent=inc:pushes;': empty operation in 'inc:pushes;'" ] || fail_with empty
	run_split evreplay --rule 'PushEvent=inc:pushes; frob' /dev/null
	[ "$status" -eq 2 ]
	case "${stderr%%$'\n'*}" in "evreplay: --rule 'PushEvent=inc:pushes; frob': unknown operation 'frob'"*) ;; *) fail_with unknown ;; esac
}

@test "evreplay: a several-operation rule changes the rules hash of snapshots; one operation keeps it" {
	gh_events > "$BATS_TEST_TMPDIR/gh"
	a=$(evsnap --rule 'PushEvent=inc:pushes' "$BATS_TEST_TMPDIR/gh" 2>/dev/null | head -n 1 | sed 's/.*"rules":"\([0-9a-f]*\)".*/\1/')
	b=$(evsnap --rule 'PushEvent=inc:pushes' "$BATS_TEST_TMPDIR/gh" 2>/dev/null | head -n 1 | sed 's/.*"rules":"\([0-9a-f]*\)".*/\1/')
	c=$(evsnap --rule 'PushEvent=inc:pushes;inc:n' "$BATS_TEST_TMPDIR/gh" 2>/dev/null | head -n 1 | sed 's/.*"rules":"\([0-9a-f]*\)".*/\1/')
	d=$(evsnap --rule 'PushEvent=inc:pushes ; inc:n' "$BATS_TEST_TMPDIR/gh" 2>/dev/null | head -n 1 | sed 's/.*"rules":"\([0-9a-f]*\)".*/\1/')
	[ "${#a}" -eq 16 ] && [ "$a" = "$b" ] && [ "$a" != "$c" ] && [ "$c" = "$d" ] || fail_with "$a $b $c $d"
}

@test "evreplay -t folds only the events of those types" {
	gh_events > "$BATS_TEST_TMPDIR/gh"
	run_split evreplay --no-default-rules --rule '*=inc:n' -t 'WatchEvent, Nope' "$BATS_TEST_TMPDIR/gh"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$output" = '{"aggregate_id":"r/b","version":1,"state":{"n":1},"events_replayed":1,"first_at":"2026-01-01T00:03:00.000000Z","last_at":"2026-01-01T00:03:00.000000Z","last_event_id":"g4"}
{"aggregate_id":"r/a","version":4,"state":{"n":1},"events_replayed":1,"first_at":"2026-01-01T00:04:00.000000Z","last_at":"2026-01-01T00:04:00.000000Z","last_event_id":"g5"}' ] || fail_with output
	run_split evreplay -t 'A,,B' /dev/null
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evreplay: -t: empty type in 'A,,B'" ] || fail_with empty
}

@test "evreplay --format tsv, csv and table print the row's columns; a bad format is a usage error" {
	gh_events > "$BATS_TEST_TMPDIR/gh"
	run_split evreplay --rule 'PushEvent=inc:pushes; inc:commits=size' -t PushEvent --format tsv "$BATS_TEST_TMPDIR/gh"
	[ "$status" -eq 3 ]
	[ "$output" = "aggregate_id	version	state	events_replayed	first_at	last_at	last_event_id
r/a	2	{\"pushes\":2,\"commits\":5}	2	2026-01-01T00:00:00.000000Z	2026-01-01T00:01:00.000000Z	g2" ] || fail_with tsv
	run_split evreplay --history --format csv -A r/b "$BATS_TEST_TMPDIR/gh"
	[ "$status" -eq 0 ]
	[ "$output" = 'aggregate_id,version,state,events_replayed,first_at,last_at,last_event_id
r/b,1,{},1,2026-01-01T00:03:00.000000Z,2026-01-01T00:03:00.000000Z,g4' ] || fail_with csv
	run_split evreplay --format table -A r/b "$BATS_TEST_TMPDIR/gh"
	[ "$status" -eq 0 ]
	[ "$output" = 'aggregate_id  version  state  events_replayed  first_at                     last_at                      last_event_id
r/b           1        {}     1                2026-01-01T00:03:00.000000Z  2026-01-01T00:03:00.000000Z  g4' ] || fail_with table
	run_split evreplay --format yaml /dev/null
	[ "$status" -eq 2 ] && [ -z "$output" ]
	[ "${stderr%%$'\n'*}" = "evreplay: --format: expected ndjson, json, tsv, csv or table, not 'yaml'" ] || fail_with bad
}

@test "evreplay --format json writes one array of the rows, --no-header drops the tsv header, --color always colors" {
	gh_events > "$BATS_TEST_TMPDIR/gh"
	run_split evreplay --format json -A r/b "$BATS_TEST_TMPDIR/gh"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail_with status
	[ "$output" = '[
{"aggregate_id":"r/b","version":1,"state":{},"events_replayed":1,"first_at":"2026-01-01T00:03:00.000000Z","last_at":"2026-01-01T00:03:00.000000Z","last_event_id":"g4"}
]' ] || fail_with json
	[ "$(evreplay --format json -A r/b "$BATS_TEST_TMPDIR/gh" | jq -c 'length')" = 1 ] || fail_with jq
	[ "$(evreplay --format json -A nobody "$BATS_TEST_TMPDIR/gh" | jq -c .)" = '[]' ] || fail_with empty
	run_split evreplay --format tsv --no-header -A r/b "$BATS_TEST_TMPDIR/gh"
	[ "$status" -eq 0 ]
	[ "$output" = 'r/b	1	{}	1	2026-01-01T00:03:00.000000Z	2026-01-01T00:03:00.000000Z	g4' ] || fail_with noheader
	run_split evreplay --no-header "$BATS_TEST_TMPDIR/gh"
	[ "$status" -eq 2 ] && [ -z "$output" ] || fail_with "no-header on ndjson"
	out=$(NO_COLOR=1 evreplay --color always -A r/b "$BATS_TEST_TMPDIR/gh")
	[[ "$out" == *$'\e['* ]] || fail_with "always colors"
	out=$(evreplay --color auto -A r/b "$BATS_TEST_TMPDIR/gh")
	[[ "$out" != *$'\e['* ]] || fail_with "auto on a pipe does not color"
}

@test "evreplay --payload-field . folds logs whose fields are top-level (no payload member)" {
	printf '%s\n' '{"host":"h1","kind":"Up","ts":1700000000,"cpu":3}' \
		'{"host":"h1","kind":"Load","ts":1700000060,"cpu":5,"mem":2}' \
		'{"host":"h2","kind":"Load","ts":1700000120,"cpu":1}' > "$BATS_TEST_TMPDIR/top"
	run_split evreplay --payload-field . --key-field host --type-field kind --time-field ts "$BATS_TEST_TMPDIR/top"
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail_with merge
	[ "$output" = '{"aggregate_id":"h1","version":2,"state":{"host":"h1","kind":"Load","ts":1700000060,"cpu":5,"mem":2},"events_replayed":2,"first_at":"2023-11-14T22:13:20.000000Z","last_at":"2023-11-14T22:14:20.000000Z","last_event_id":null}
{"aggregate_id":"h2","version":1,"state":{"host":"h2","kind":"Load","ts":1700000120,"cpu":1},"events_replayed":1,"first_at":"2023-11-14T22:15:20.000000Z","last_at":"2023-11-14T22:15:20.000000Z","last_event_id":null}' ] || fail_with merge
	run_split env EV_PAYLOAD_FIELD=. evreplay --no-default-rules --rule 'Load=inc:load=cpu; append:mems=mem' \
		--key-field host --type-field kind --time-field ts "$BATS_TEST_TMPDIR/top"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = '{"aggregate_id":"h1","version":2,"state":{"load":5,"mems":[2]},"events_replayed":2,"first_at":"2023-11-14T22:13:20.000000Z","last_at":"2023-11-14T22:14:20.000000Z","last_event_id":null}' ] || fail_with ops
	[ "$stderr" = "evreplay: $BATS_TEST_TMPDIR/top:3: event (no id): append: missing payload field 'mem'" ] || fail_with ops
}
