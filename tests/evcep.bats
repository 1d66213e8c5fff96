#!/usr/bin/env bats
# evcep: patterns (sequences, absences, quantifiers, thresholds, policies)
# per key in event time; lateness, --state, bounded memory.

load helper

FC="$BATS_TEST_DIRNAME/fixtures/evcep"
SEED="$FC/seed.ndjson"
FRAUD='fraud: l=Login -> t=HighValueTransaction[payload.amount > 10000] -> LocationChange[payload.distance > 1000] within 5m by user_id'
CART='abandoned: AddToCart -> ViewCart -> !Checkout within 30m by session_id'
OUTAGE='outage: ServiceError{3} within 1m by payload.service'

# ev ID KEY TYPE SECONDS [PAYLOAD]: one event at 10:00:00 + SECONDS on 2026-11-01
ev() {
	printf '{"event_id":"%s","aggregate_id":"%s","event_type":"%s","timestamp":"2026-11-01T10:%02d:%02dZ","payload":%s}\n' \
		"$1" "$2" "$3" $(($4 / 60)) $(($4 % 60)) "${5:-{\}}"
}

setup() { cd "$BATS_TEST_TMPDIR"; }

# ---- the seed's three patterns -------------------------------------------

@test "evcep finds the seed's fraud sequence, cart abandonment and outage threshold, events byte for byte" {
	run_split evcep -p "$FRAUD" -p "$CART" -p "$OUTAGE" "$SEED"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"pattern":"fraud","key":"u1","start":"2026-11-27T09:00:00.000000Z","end":"2026-11-27T09:03:00.000000Z","events":[{"event_id":"e01","event_type":"Login","timestamp":"2026-11-27T09:00:00Z","user_id":"u1","payload":{"ip":"10.0.0.1"}},{"event_id":"e03","event_type":"HighValueTransaction","timestamp":"2026-11-27T09:01:00Z","user_id":"u1","payload":{"amount":25000}},{"event_id":"e07","event_type":"LocationChange","timestamp":"2026-11-27T09:03:00Z","user_id":"u1","payload":{"distance":4200}}]}
{"pattern":"outage","key":"billing","start":"2026-11-27T09:10:00.000000Z","end":"2026-11-27T09:10:50.000000Z","events":[{"event_id":"e11","event_type":"ServiceError","timestamp":"2026-11-27T09:10:00Z","payload":{"service":"billing","code":503}},{"event_id":"e13","event_type":"ServiceError","timestamp":"2026-11-27T09:10:25Z","payload":{"service":"billing","code":503}},{"event_id":"e15","event_type":"ServiceError","timestamp":"2026-11-27T09:10:50Z","payload":{"service":"billing","code":504}}]}
{"pattern":"abandoned","key":"s1","start":"2026-11-27T09:01:10.000000Z","end":"2026-11-27T09:02:00.000000Z","events":[{"event_id":"e04","event_type":"AddToCart","timestamp":"2026-11-27T09:01:10Z","session_id":"s1","payload":{"sku":"A-1"}},{"event_id":"e06","event_type":"ViewCart","timestamp":"2026-11-27T09:02:00Z","session_id":"s1","payload":{}}]}' ] || fail_with "got"
}

@test "evcep --ids lists event ids in every events array" {
	run_split evcep --ids -p "$FRAUD" -p "$CART" -p "$OUTAGE" "$SEED"
	[ "$status" -eq 0 ]
	[ "$output" = '{"pattern":"fraud","key":"u1","start":"2026-11-27T09:00:00.000000Z","end":"2026-11-27T09:03:00.000000Z","events":["e01","e03","e07"]}
{"pattern":"outage","key":"billing","start":"2026-11-27T09:10:00.000000Z","end":"2026-11-27T09:10:50.000000Z","events":["e11","e13","e15"]}
{"pattern":"abandoned","key":"s1","start":"2026-11-27T09:01:10.000000Z","end":"2026-11-27T09:02:00.000000Z","events":["e04","e06"]}' ] || fail_with "got"
}

@test "evcep -f loads the same patterns from a JSON file and finds the same matches" {
	run evcep --ids -p "$FRAUD" -p "$CART" -p "$OUTAGE" "$SEED"
	want="$output"
	run_split evcep --ids -f "$FC/seed-patterns.json" "$SEED"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = "$want" ] || fail_with "got"
}

@test "evcep embeds events byte for byte: spacing, escapes and big numbers kept" {
	printf '%s\n' '{ "event_id" : "x1", "aggregate_id":"k", "event_type":"A", "timestamp":"2026-11-01T10:00:00Z", "payload":{"n":12345678901234567890123,"s":"\u00e9\/"} }' \
		'{"event_id":"x2","aggregate_id":"k","event_type":"B","timestamp":"2026-11-01T10:00:01Z","payload":{"f":1.50}}' > in.ndjson
	run_split evcep -p 'ab: A -> B within 1m' in.ndjson
	[ "$output" = '{"pattern":"ab","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:01.000000Z","events":[{ "event_id" : "x1", "aggregate_id":"k", "event_type":"A", "timestamp":"2026-11-01T10:00:00Z", "payload":{"n":12345678901234567890123,"s":"\u00e9\/"} },{"event_id":"x2","aggregate_id":"k","event_type":"B","timestamp":"2026-11-01T10:00:01Z","payload":{"f":1.50}}]}' ] || fail_with "got"
}

# ---- semantics --------------------------------------------------------------

@test "evcep skips unrelated events between steps and a step takes the first event that fits" {
	{ ev a k A 0; ev x k X 1; ev b1 k B 2 '{"ok":false}'; ev b2 k B 3 '{"ok":true}'; ev b3 k B 4 '{"ok":true}'; ev c k C 5; } > in.ndjson
	run_split evcep --ids -p 'p: A -> B[payload.ok] -> C within 1m' in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ]
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:05.000000Z","events":["a","b2","c"]}' ] || fail_with "got"
}

@test "evcep lets every first-step event start a match (seen with --skip next)" {
	{ ev a1 k A 0; ev a2 k A 1; ev b k B 2; } > in.ndjson
	run evcep --ids --skip next -p 'p: A -> B within 1m' in.ndjson
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:02.000000Z","events":["a1","b"]}
{"pattern":"p","key":"k","start":"2026-11-01T10:00:01.000000Z","end":"2026-11-01T10:00:02.000000Z","events":["a2","b"]}' ] || fail_with "got"
	run evcep --ids -p 'p: A -> B within 1m' in.ndjson
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:02.000000Z","events":["a1","b"]}' ] || fail_with "past-last"
}

@test "evcep within is inclusive: last - first equal to within matches, one microsecond more does not" {
	printf '%s\n' '{"event_id":"a","aggregate_id":"k","event_type":"A","timestamp":"2026-11-01T10:00:00Z"}' \
		'{"event_id":"b","aggregate_id":"k","event_type":"B","timestamp":"2026-11-01T10:01:00Z"}' \
		'{"event_id":"a2","aggregate_id":"j","event_type":"A","timestamp":"2026-11-01T10:02:00Z"}' \
		'{"event_id":"b2","aggregate_id":"j","event_type":"B","timestamp":"2026-11-01T10:03:00.000001Z"}' > in.ndjson
	run_split evcep --ids -p 'p: A -> B within 1m' in.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:01:00.000000Z","events":["a","b"]}' ] || fail_with "got"
}

@test "evcep keeps each key apart: events of other keys neither complete nor cancel a run" {
	{ ev a k1 A 0; ev b k2 B 1; ev c k1 C 2; ev b1 k1 B 3; } > in.ndjson
	run evcep --ids -p 'p: A -> !C -> B within 1m' in.ndjson
	[ "$output" = "" ] || fail_with "k1 has a C between"
	run evcep --ids -p 'p: A -> B within 1m' in.ndjson
	[ "$output" = '{"pattern":"p","key":"k1","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["a","b1"]}' ] || fail_with "got"
}

@test "evcep cancels a run when an absence between two steps occurs between them" {
	{ ev a1 k1 A 0; ev c1 k1 C 1; ev b1 k1 B 2; ev a2 k2 A 3; ev b2 k2 B 4; ev c2 k2 C 5; } > in.ndjson
	run_split evcep --ids -p 'p: A -> !C -> B within 1m' in.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = '{"pattern":"p","key":"k2","start":"2026-11-01T10:00:03.000000Z","end":"2026-11-01T10:00:04.000000Z","events":["a2","b2"]}' ] || fail_with "got"
}

@test "evcep trailing absence (Flink NotPattern at the end): only the A without a B fires, once the watermark passes" {
	{ ev a1 k1 A 0; ev b1 k1 B 5; ev a2 k2 A 7; ev x k3 X 17; ev y k3 X 18; } > in.ndjson
	run_split evcep --ids -p 'p: A -> !B within 10s' in.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = '{"pattern":"p","key":"k2","start":"2026-11-01T10:00:07.000000Z","end":"2026-11-01T10:00:07.000000Z","events":["a2"]}' ] || fail_with "got"
	# the watermark reaches 10:00:17 = the deadline, not past it: nothing yet
	head -n 4 in.ndjson > part.ndjson
	run_split evcep --ids -p 'p: A -> !B within 10s' part.ndjson
	[ "$output" = "" ] || fail_with "fired at the deadline"
}

@test "evcep trailing absence: an absence event exactly at the deadline still cancels" {
	{ ev a k A 0; ev b k B 10; ev x z X 30; } > in.ndjson
	run evcep --ids -p 'p: A -> !B within 10s' in.ndjson
	[ "$output" = "" ] || fail_with "got"
	{ ev a k A 0; ev b k B 11; ev x z X 30; } > in.ndjson
	run evcep --ids -p 'p: A -> !B within 10s' in.ndjson
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:00.000000Z","events":["a"]}' ] || fail_with "late B"
}

@test "evcep writes a fired absence before the records of the event that moved the watermark" {
	{ ev a k A 0; ev c j C 20; } > in.ndjson
	run evcep --ids -p 'gone: A -> !B within 10s' -p 'seen: C within 1s' in.ndjson
	[ "$output" = '{"pattern":"gone","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:00.000000Z","events":["a"]}
{"pattern":"seen","key":"j","start":"2026-11-01T10:00:20.000000Z","end":"2026-11-01T10:00:20.000000Z","events":["c"]}' ] || fail_with "got"
}

@test "evcep --eof drop (default) drops matches waiting on a trailing absence; --eof flush emits them" {
	{ ev a k A 0; ev v k V 1; } > in.ndjson
	run_split evcep --ids -p "$CART" in.ndjson
	[ "$status" -eq 0 ] && [ "$output" = "" ] || fail_with "drop"
	run_split evcep --ids -p 'c: A -> V -> !C within 30m' --eof flush in.ndjson
	[ "$output" = '{"pattern":"c","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:01.000000Z","events":["a","v"]}' ] || fail_with "flush"
	run_split evcep --ids -p 'c: A -> V -> !C within 30m' --eof drop --partials in.ndjson
	[ "$output" = '{"pattern":"c","key":"k","matched":2,"total":3,"events":["a","v"],"status":"eof"}' ] || fail_with "partials"
}

@test "evcep --partials lists runs whose window passed (timeout) and those open at the end (eof)" {
	{ ev a1 k1 A 0; ev b1 k1 B 1; ev a2 k2 A 2; ev x z X 100; ev a3 k3 A 101; } > in.ndjson
	run_split evcep --ids --partials -p 'p: A -> B -> C within 1m' in.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = '{"pattern":"p","key":"k1","matched":2,"total":3,"events":["a1","b1"],"status":"timeout"}
{"pattern":"p","key":"k2","matched":1,"total":3,"events":["a2"],"status":"timeout"}
{"pattern":"p","key":"k3","matched":1,"total":3,"events":["a3"],"status":"eof"}' ] || fail_with "got"
	run evcep --ids -p 'p: A -> B -> C within 1m' in.ndjson
	[ "$output" = "" ] || fail_with "without --partials"
}

@test "evcep threshold per key (SEC SingleWithThreshold): no overlapping re-fire under the default skip" {
	for i in 1 2 3 4 5 6 7; do ev e$i svc ServiceError $i; done > in.ndjson
	ev o1 other ServiceError 8 >> in.ndjson
	run_split evcep --ids -p 'outage: ServiceError{3} within 1m' in.ndjson
	[ "$output" = '{"pattern":"outage","key":"svc","start":"2026-11-01T10:00:01.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["e1","e2","e3"]}
{"pattern":"outage","key":"svc","start":"2026-11-01T10:00:04.000000Z","end":"2026-11-01T10:00:06.000000Z","events":["e4","e5","e6"]}' ] || fail_with "got"
}

@test "evcep --skip next discards only the run that matched: overlapping thresholds" {
	for i in 1 2 3 4 5; do ev e$i svc E $i; done > in.ndjson
	run evcep --ids --skip next -p 'o: E{3} within 1m' in.ndjson
	[ "$output" = '{"pattern":"o","key":"svc","start":"2026-11-01T10:00:01.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["e1","e2","e3"]}
{"pattern":"o","key":"svc","start":"2026-11-01T10:00:02.000000Z","end":"2026-11-01T10:00:04.000000Z","events":["e2","e3","e4"]}
{"pattern":"o","key":"svc","start":"2026-11-01T10:00:03.000000Z","end":"2026-11-01T10:00:05.000000Z","events":["e3","e4","e5"]}' ] || fail_with "got"
}

@test "evcep --skip none reports every match of a quantified last step as it grows" {
	for i in 1 2 3 4; do ev e$i svc E $i; done > in.ndjson
	run evcep --ids --skip none -p 'o: E{2,3} within 1m' in.ndjson
	[ "$output" = '{"pattern":"o","key":"svc","start":"2026-11-01T10:00:01.000000Z","end":"2026-11-01T10:00:02.000000Z","events":["e1","e2"]}
{"pattern":"o","key":"svc","start":"2026-11-01T10:00:01.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["e1","e2","e3"]}
{"pattern":"o","key":"svc","start":"2026-11-01T10:00:02.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["e2","e3"]}
{"pattern":"o","key":"svc","start":"2026-11-01T10:00:02.000000Z","end":"2026-11-01T10:00:04.000000Z","events":["e2","e3","e4"]}
{"pattern":"o","key":"svc","start":"2026-11-01T10:00:03.000000Z","end":"2026-11-01T10:00:04.000000Z","events":["e3","e4"]}' ] || fail_with "got"
}

@test "evcep quantifier {2,3} between steps: 1 event no match, 2 and 3 match, a 4th is skipped" {
	for n in 1 2 3 4; do
		{ ev s k Start 0; for i in $(seq 1 $n); do ev b$i k B $i; done; ev e k End 8; } > in.$n
	done
	run evcep --ids -p 'q: Start -> B{2,3} -> End within 1m' in.1
	[ "$output" = "" ] || fail_with "1"
	run evcep --ids -p 'q: Start -> B{2,3} -> End within 1m' in.2
	[ "$output" = '{"pattern":"q","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:08.000000Z","events":["s","b1","b2","e"]}' ] || fail_with "2"
	run evcep --ids -p 'q: Start -> B{2,3} -> End within 1m' in.3
	[ "$output" = '{"pattern":"q","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:08.000000Z","events":["s","b1","b2","b3","e"]}' ] || fail_with "3"
	run evcep --ids -p 'q: Start -> B{2,3} -> End within 1m' in.4
	[ "$output" = '{"pattern":"q","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:08.000000Z","events":["s","b1","b2","b3","e"]}' ] || fail_with "4"
}

@test "evcep quantifier {2,3} as the last step: completes at 3, or holding 2 when the watermark passes the window" {
	for n in 1 2 3 4; do
		{ ev s k Start 0; for i in $(seq 1 $n); do ev b$i k B $i; done; ev z other Z 120; } > in.$n
	done
	run evcep --ids --partials -p 'q: Start -> B{2,3} within 1m' in.1
	[ "$output" = '{"pattern":"q","key":"k","matched":1,"total":2,"events":["s","b1"],"status":"timeout"}' ] || fail_with "1"
	run evcep --ids -p 'q: Start -> B{2,3} within 1m' in.2
	[ "$output" = '{"pattern":"q","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:02.000000Z","events":["s","b1","b2"]}' ] || fail_with "2"
	run evcep --ids -p 'q: Start -> B{2,3} within 1m' in.3
	[ "$output" = '{"pattern":"q","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["s","b1","b2","b3"]}' ] || fail_with "3"
	run evcep --ids -p 'q: Start -> B{2,3} within 1m' in.4
	[ "$output" = '{"pattern":"q","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["s","b1","b2","b3"]}' ] || fail_with "4"
	# holding 2 at end of input: waits on its deadline, so --eof decides
	head -n 3 in.2 > short
	run evcep --ids -p 'q: Start -> B{2,3} within 1m' short
	[ "$output" = "" ] || fail_with "eof drop"
	run evcep --ids --eof flush -p 'q: Start -> B{2,3} within 1m' short
	[ "$output" = '{"pattern":"q","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:02.000000Z","events":["s","b1","b2"]}' ] || fail_with "eof flush"
}

@test "evcep + takes every fitting event until the next step fits; ? makes a step optional" {
	{ ev s k S 0; ev b1 k B 1; ev b2 k B 2; ev e k E 3; ev b3 k B 4; } > in.ndjson
	run evcep --ids -p 'p: S -> B+ -> E within 1m' in.ndjson
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["s","b1","b2","e"]}' ] || fail_with "+"
	{ ev s k S 0; ev e k E 3; } > in2.ndjson
	run evcep --ids -p 'p: S -> B? -> E within 1m' in2.ndjson
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["s","e"]}' ] || fail_with "? skipped"
	run evcep --ids -p 'p: S -> B? -> E within 1m' in.ndjson
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["s","b1","e"]}' ] || fail_with "? taken"
}

@test "evcep conditions on aliases compare a step's event with earlier steps' events" {
	{ ev l k Login 0 '{"limit":100}'; ev t1 k Txn 1 '{"amount":50}'; ev t2 k Txn 2 '{"amount":150}'; } > in.ndjson
	run_split evcep --ids -p 'over: l=Login -> t=Txn[t.payload.amount > l.payload.limit] within 1m' in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ]
	[ "$output" = '{"pattern":"over","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:02.000000Z","events":["l","t2"]}' ] || fail_with "got"
	# a quantified step's alias names its last event
	{ ev a k A 0 '{"v":1}'; ev b1 k B 1 '{"v":5}'; ev b2 k B 2 '{"v":7}'; ev c1 k C 3 '{"v":6}'; ev c2 k C 4 '{"v":8}'; } > q.ndjson
	run evcep --ids -p 'p: A -> b=B{2} -> C[payload.v > b.payload.v] within 1m' q.ndjson
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:04.000000Z","events":["a","b1","b2","c2"]}' ] || fail_with "quantified alias"
}

@test "evcep over events with no key field runs the pattern over the whole stream (null is one more key)" {
	printf '%s\n' '{"event_id":1,"event_type":"A","timestamp":"2026-11-01T10:00:00Z"}' \
		'{"event_id":2,"aggregate_id":null,"event_type":"B","timestamp":"2026-11-01T10:00:01Z"}' \
		'{"event_id":3,"aggregate_id":"k","event_type":"B","timestamp":"2026-11-01T10:00:02Z"}' > in.ndjson
	run_split evcep --ids -p 'p: A -> B within 1m' in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ]
	[ "$output" = '{"pattern":"p","key":null,"start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:01.000000Z","events":[1,2]}' ] || fail_with "got"
}

@test "evcep keys are JSON values: \"42\" and 42 are different keys; by with several paths gives an array key" {
	printf '%s\n' '{"event_id":"a","aggregate_id":42,"event_type":"A","timestamp":"2026-11-01T10:00:00Z"}' \
		'{"event_id":"b","aggregate_id":"42","event_type":"B","timestamp":"2026-11-01T10:00:01Z"}' \
		'{"event_id":"c","aggregate_id":42,"event_type":"B","timestamp":"2026-11-01T10:00:02Z"}' > in.ndjson
	run evcep --ids -p 'p: A -> B within 1m' in.ndjson
	[ "$output" = '{"pattern":"p","key":42,"start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:02.000000Z","events":["a","c"]}' ] || fail_with "got"
	printf '%s\n' '{"event_id":"a","u":"x","r":1,"event_type":"A","timestamp":"2026-11-01T10:00:00Z"}' \
		'{"event_id":"b","u":"x","r":2,"event_type":"B","timestamp":"2026-11-01T10:00:01Z"}' \
		'{"event_id":"c","u":"x","r":1,"event_type":"B","timestamp":"2026-11-01T10:00:02Z"}' > two.ndjson
	run evcep --ids -p 'p: A -> B within 1m by u, r' two.ndjson
	[ "$output" = '{"pattern":"p","key":["x",1],"start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:02.000000Z","events":["a","c"]}' ] || fail_with "composite"
}

@test "evcep step types: * takes any type, a type with * or ? is a glob, a quoted type may hold blanks" {
	{ ev a k Order.Placed 0; ev b k Order.Paid 1; ev c k 'Odd Type' 2; ev d k Zed 3; } > in.ndjson
	run evcep --ids -p 'p: Order.* -> "Odd Type" -> * within 1m' in.ndjson
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["a","c","d"]}' ] || fail_with "got"
	run evcep --ids -p 'p: Order.Pa?d within 1m' in.ndjson
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:01.000000Z","end":"2026-11-01T10:00:01.000000Z","events":["b"]}' ] || fail_with "glob ?"
}

@test "evcep writes the matches one event detects in deadline order, then start order, and pattern records in -p order" {
	{ ev a1 k A 0; ev a2 k A 5; ev b k B 6; } > in.ndjson
	run evcep --ids --skip next -p 'long: A -> B within 1m' -p 'short: A -> B within 10s' in.ndjson
	[ "$output" = '{"pattern":"long","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:06.000000Z","events":["a1","b"]}
{"pattern":"long","key":"k","start":"2026-11-01T10:00:05.000000Z","end":"2026-11-01T10:00:06.000000Z","events":["a2","b"]}
{"pattern":"short","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:06.000000Z","events":["a1","b"]}
{"pattern":"short","key":"k","start":"2026-11-01T10:00:05.000000Z","end":"2026-11-01T10:00:06.000000Z","events":["a2","b"]}' ] || fail_with "got"
}

@test "evcep -e exits 1 when nothing was detected and 0 when something was" {
	run_split evcep -e -p 'p: Nothing -> Here within 1m' "$SEED"
	[ "$status" -eq 1 ] && [ "$output" = "" ] && [ "$stderr" = "" ] || fail_with "none"
	run_split evcep -e -p "$OUTAGE" "$SEED"
	[ "$status" -eq 0 ] || fail_with "found"
}

# ---- policies --------------------------------------------------------------

@test "evcep policy: => ACTION,ACTION writes one command record per action, in order, instead of the match" {
	printf '%s\n' '{"event_id":"o1","aggregate_id":"order-1","event_type":"OrderCreated","timestamp":"2026-11-01T10:00:00Z","payload":{"sku":"A"}}' > in.ndjson
	run_split evcep -p 'reserve: OrderCreated => inventory.ReserveItems, payment.AuthorizePayment' in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ]
	[ "$output" = '{"action":"inventory.ReserveItems","policy":"reserve","trigger_event":"o1","key":"order-1","context":{"start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:00.000000Z","events":[{"event_id":"o1","aggregate_id":"order-1","event_type":"OrderCreated","timestamp":"2026-11-01T10:00:00Z","payload":{"sku":"A"}}]}}
{"action":"payment.AuthorizePayment","policy":"reserve","trigger_event":"o1","key":"order-1","context":{"start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:00.000000Z","events":[{"event_id":"o1","aggregate_id":"order-1","event_type":"OrderCreated","timestamp":"2026-11-01T10:00:00Z","payload":{"sku":"A"}}]}}' ] || fail_with "got"
}

@test "evcep policy on a trailing absence: the cart mailer gets a command whose trigger is the match's last event" {
	run_split evcep --ids -p "$CART => mailer.SendReminder" "$SEED"
	[ "$status" -eq 0 ]
	[ "$output" = '{"action":"mailer.SendReminder","policy":"abandoned","trigger_event":"e06","key":"s1","context":{"start":"2026-11-27T09:01:10.000000Z","end":"2026-11-27T09:02:00.000000Z","events":["e04","e06"]}}' ] || fail_with "got"
}

@test "evcep Esper-style keyed cart abandonment: only the session without a checkout within 30m" {
	printf '%s\n' \
		'{"event_id":1,"session_id":"a","event_type":"AddToCart","timestamp":"2026-11-01T10:00:00Z"}' \
		'{"event_id":2,"session_id":"b","event_type":"AddToCart","timestamp":"2026-11-01T10:01:00Z"}' \
		'{"event_id":3,"session_id":"a","event_type":"ViewCart","timestamp":"2026-11-01T10:02:00Z"}' \
		'{"event_id":4,"session_id":"b","event_type":"ViewCart","timestamp":"2026-11-01T10:03:00Z"}' \
		'{"event_id":5,"session_id":"b","event_type":"Checkout","timestamp":"2026-11-01T10:20:00Z"}' \
		'{"event_id":6,"session_id":"c","event_type":"AddToCart","timestamp":"2026-11-01T10:29:00Z"}' \
		'{"event_id":7,"session_id":"a","event_type":"Checkout","timestamp":"2026-11-01T10:31:00Z"}' > in.ndjson
	run_split evcep --ids -p "$CART" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"pattern":"abandoned","key":"a","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:02:00.000000Z","events":[1,3]}' ] || fail_with "got"
}

# ---- time: lateness and late events ---------------------------------------------

@test "evcep without --lateness counts an out-of-order event as late (status 3, one summary line) and never matches it" {
	{ ev a k A 0; ev c k C 10; ev b k B 5; ev x k X 20; } > in.ndjson
	run_split evcep --ids -p 'p: A -> B -> C within 1m' in.ndjson
	[ "$status" -eq 3 ] && [ "$output" = "" ] || fail_with "status"
	[ "$stderr" = "evcep: 1 late event matched nothing; use --lateness DUR or --late FILE" ] || fail_with "stderr"
}

@test "evcep --late FILE writes late events byte for byte and the run succeeds" {
	{ ev a k A 0; ev c k C 10; ev b k B 5; } > in.ndjson
	run_split evcep --ids -p 'p: A -> B -> C within 1m' --late late.ndjson in.ndjson
	[ "$status" -eq 0 ] && [ "$output" = "" ] || fail_with "status"
	[ "$stderr" = "evcep: 1 late event matched nothing (written to late.ndjson)" ] || fail_with "stderr"
	[ "$(cat late.ndjson)" = "$(sed -n 3p in.ndjson)" ] || fail_with "late file"
}

@test "evcep --lateness DUR reorders slightly late events into event-time order" {
	{ ev a k A 0; ev c k C 10; ev b k B 5; ev x k X 20; ev old k B 1; } > in.ndjson
	run_split evcep --ids --lateness 10s -p 'p: A -> B -> C within 1m' in.ndjson
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:10.000000Z","events":["a","b","c"]}' ] || fail_with "got"
	# "old" (10:00:01) is older than the watermark 10:00:20 - 10s: late
	[ "$stderr" = "evcep: 1 late event matched nothing; use --lateness DUR or --late FILE" ] || fail_with "stderr"
}

@test "evcep --lateness holds trailing absences until the watermark (largest time - lateness) passes them" {
	{ ev a k A 0; ev x z X 15; ev b k B 9; ev y z X 40; } > in.ndjson
	run_split evcep --ids --lateness 10s -p 'p: A -> !B within 10s' in.ndjson
	[ "$status" -eq 0 ] && [ "$output" = "" ] || fail_with "B arrived late but in time"
	{ ev a k A 0; ev x z X 15; ev y z X 40; } > in2.ndjson
	run_split evcep --ids --lateness 10s -p 'p: A -> !B within 10s' in2.ndjson
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:00.000000Z","events":["a"]}' ] || fail_with "fired"
}

# ---- --state ----------------------------------------------------------------------

@test "evcep --state: split runs over a growing file give the same matches as one run" {
	P=(-p "$FRAUD" -p "$CART" -p "$OUTAGE")
	evcep "${P[@]}" "$SEED" > one.out
	for k in 1 4 6 10 11 13 16; do
		rm -f st grow.ndjson
		head -n $k "$SEED" > grow.ndjson
		evcep --state st "${P[@]}" grow.ndjson > split.out
		tail -n +$((k + 1)) "$SEED" >> grow.ndjson
		evcep --state st --flush "${P[@]}" grow.ndjson >> split.out
		cmp one.out split.out || fail_with "split after line $k differs"
	done
	[ "$(wc -l < one.out)" -eq 3 ]
}

@test "evcep --state keeps waiting absences and held events in the state until --flush" {
	C='c: A -> V -> !C within 30m'
	{ ev a k A 0; ev v k V 1; ev x other X 10; } > in.ndjson
	run_split evcep --ids --state st --lateness 5s -p "$C" in.ndjson
	[ "$status" -eq 0 ] && [ "$output" = "" ] || fail_with "first"
	grep -q '^{"run":0,"name":"c","key":"k",' st || fail_with "no run in the state"
	grep -q '^{"held":{"event_id":"x",' st || fail_with "no held event in the state"
	run_split evcep --ids --state st --lateness 5s -p "$C" in.ndjson
	[ "$status" -eq 0 ] && [ "$output" = "" ] || fail_with "second"
	run_split evcep --ids --state st --lateness 5s --flush --eof flush -p "$C" in.ndjson
	[ "$status" -eq 0 ] || fail_with "flush"
	[ "$output" = '{"pattern":"c","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:01.000000Z","events":["a","v"]}' ] || fail_with "flushed"
	run evcep --ids --lateness 5s --eof flush -p "$C" in.ndjson
	[ "$output" = '{"pattern":"c","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:01.000000Z","events":["a","v"]}' ] || fail_with "one run"
}

@test "evcep --state refuses a state saved with other patterns, and --flush needs --state" {
	ev a k A 0 > in.ndjson
	evcep --state st -p 'p: A -> B within 1m' in.ndjson
	run_split evcep --state st -p 'p: A -> C within 1m' in.ndjson
	[ "$status" -eq 2 ] && [ "$stderr" = "evcep: --state st: saved by a run with other patterns or options" ] || fail_with "other"
	run_split evcep --flush -p 'p: A -> C within 1m' in.ndjson
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evcep: --flush needs --state" ] || fail_with "flush"
}

@test "evcep --state --partials lists the runs still open at the end of each run" {
	{ ev a k A 0; } > in.ndjson
	run_split evcep --ids --partials --state st -p 'p: A -> B within 1m' in.ndjson
	[ "$output" = '{"pattern":"p","key":"k","matched":1,"total":2,"events":["a"],"status":"eof"}' ] || fail_with "got"
	ev b k B 30 >> in.ndjson
	run_split evcep --ids --partials --state st -p 'p: A -> B within 1m' in.ndjson
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:30.000000Z","events":["a","b"]}' ] || fail_with "second"
}

@test "evcep --state resumes standard input by seq, and rejects an event there without one" {
	{ ev a k A 0 | sed 's/^{/{"seq":1,/'; ev b k B 10 | sed 's/^{/{"seq":2,/'; } > in.ndjson
	run_split sh -c "cat in.ndjson | evcep --ids --state st -p 'p: A -> B within 1m'"
	[ "$status" -eq 0 ] && [ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:10.000000Z","events":["a","b"]}' ] || fail_with "first"
	# the same events again and one more: only seq 3 is new
	{ cat in.ndjson; ev b2 k B 20 | sed 's/^{/{"seq":3,/'; ev c k A 30; } > more.ndjson
	run_split sh -c "cat more.ndjson | evcep --ids --state st -p 'p: A -> B within 1m'"
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$output" = "" ] || fail_with "second"
	[ "$stderr" = "evcep: <stdin>:4: no seq (a whole number from 1): --state cannot resume in a stream that is not a regular file without it" ] || fail_with "stderr"
}

@test "evcep --state refuses a byte-offset position in a file rewritten since (status 5), and reads nothing" {
	{ ev a k A 0; ev b k B 10; } > in.ndjson
	evcep --ids --state st -p 'p: A -> B within 1m' in.ndjson > /dev/null
	{ ev x k A 0; ev y k B 10; } > in.ndjson
	run_split evcep --ids --state st -p 'p: A -> B within 1m' in.ndjson
	[ "$status" -eq 5 ] && [ "$output" = "" ] || fail_with "status"
	[ "$stderr" = "evcep: --state st: in.ndjson: the file changed before byte 202 since the state was saved; not mixing it with the saved state (remove the state to start over)" ] || fail_with "stderr"
}

# ---- bounded memory ------------------------------------------------------------------

@test "evcep --max-partials N drops the run with the earliest deadline, lists it as overflow and exits 3" {
	{ ev a1 k1 A 0; ev a2 k2 A 1; ev a3 k3 A 2; ev b3 k3 B 3; } > in.ndjson
	run_split evcep --ids --partials --max-partials 2 -p 'p: A -> B within 1m' in.ndjson
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$output" = '{"pattern":"p","key":"k1","matched":1,"total":2,"events":["a1"],"status":"overflow"}
{"pattern":"p","key":"k3","start":"2026-11-01T10:00:02.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["a3","b3"]}
{"pattern":"p","key":"k2","matched":1,"total":2,"events":["a2"],"status":"eof"}' ] || fail_with "got"
	[ "$stderr" = "evcep: 1 partial match dropped by --max-partials 2" ] || fail_with "stderr"
}

@test "evcep keeps memory bounded over 1,000,000 starts that never complete (ulimit -v)" {
	# a sanitizer build reserves terabytes of address space: there the
	# same run goes without the limit (and still has to give this output)
	lim="ulimit -v 65536;"
	nm "$EVBIN/evcep" 2>/dev/null | grep -q __asan_init && lim=""
	run_split sh -c "$lim awk 'BEGIN { for (i = 0; i < 1000000; i++) printf \"{\\\"event_id\\\":%d,\\\"aggregate_id\\\":\\\"k%d\\\",\\\"event_type\\\":\\\"Start\\\",\\\"timestamp\\\":%d}\\n\", i, i, 1700000000 + i }' | evcep --partials -p 'p: Start -> End within 1m' | tail -n 2"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"pattern":"p","key":"k999998","matched":1,"total":2,"events":[{"event_id":999998,"aggregate_id":"k999998","event_type":"Start","timestamp":1700999998}],"status":"eof"}
{"pattern":"p","key":"k999999","matched":1,"total":2,"events":[{"event_id":999999,"aggregate_id":"k999999","event_type":"Start","timestamp":1700999999}],"status":"eof"}' ] || fail_with "got"
}

# ---- input rules -----------------------------------------------------------------------

@test "evcep rejects bad lines around good ones with file:line and the matches are unaffected" {
	{ ev a k A 0; echo 'not json'; echo '{"event_id":"t","aggregate_id":"k","event_type":"B"}'; echo '[1]'; ev b k B 2; ev c k C 3; } > in.ndjson
	run_split evcep --ids --errors err.ndjson -p 'p: A -> B -> C within 1m' in.ndjson
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$output" = '{"pattern":"p","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:03.000000Z","events":["a","b","c"]}' ] || fail_with "got"
	[ "$stderr" = "evcep: in.ndjson:2: invalid JSON: unexpected 'n', expected a value at column 1
evcep: in.ndjson:3: missing time field 'timestamp'
evcep: in.ndjson:4: not an object (array)" ] || fail_with "stderr"
	[ "$(wc -l < err.ndjson)" -eq 3 ] || fail_with "errors file"
	run_split evcep --strict --ids -p 'p: A -> B -> C within 1m' in.ndjson
	[ "$status" -eq 3 ] && [ "$output" = "" ] || fail_with "strict"
}

@test "evcep rejects an event whose step condition hits a regex limit: it moves no watermark and reaches no pattern" {
	local a
	a=$(printf 'a%.0s' $(seq 38))
	{ ev e1 k E 0 '{"s":"x"}'; ev e2 k E 300 "{\"s\":\"${a}b\"}"; ev e3 k E 30 '{"s":"x"}'; } >in.ndjson
	# were e2 (10:05) taken, e3 (10:00:30) would be late and e1's run
	# would time out; rejected, it changes nothing: e1 and e3 match
	run_split evcep --ids --partials -p 'burst: E[payload.s =~ "(a|aa)+$" || payload.s == "x"]{2} within 1m' in.ndjson
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$output" = '{"pattern":"burst","key":"k","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:30.000000Z","events":["e1","e3"]}' ] ||
		fail_with "output"
	[ "$stderr" = 'evcep: in.ndjson:2: -p: column 11: regular expression: match limit exceeded on a string of 39 bytes' ] ||
		fail_with "stderr"
	# --errors keeps the line for a retry
	run_split evcep --errors err.ndjson -p 'burst: E[payload.s =~ "(a|aa)+$" || payload.s == "x"]{2} within 1m' in.ndjson
	[ "$status" -eq 3 ] && [ "$(wc -l <err.ndjson)" -eq 1 ] || fail_with "--errors"
	[[ "$(cat err.ndjson)" == '{"file":"in.ndjson","line":2,"error":"-p: column 11: regular expression: match limit exceeded on a string of 39 bytes",'* ]] ||
		fail_with "errors record"
	# a condition without a regex never fails: the same line is taken
	run_split evcep --ids -p 'burst: E[len(payload.s) > 0]{2} within 1m' in.ndjson
	[ "$status" -eq 3 ] && [ "$output" = "" ] || fail_with "no regex"
	[ "$stderr" = 'evcep: 1 late event matched nothing; use --lateness DUR or --late FILE' ] || fail_with "no regex stderr"
}

@test "evcep field mapping: --type-field, --time-field and --key-field read other logs" {
	printf '%s\n' '{"MSG":"a","UNIT":"sshd","ID":"fail","T":"1700000000"}' '{"MSG":"b","UNIT":"sshd","ID":"fail","T":"1700000001"}' \
		'{"MSG":"c","UNIT":"cron","ID":"fail","T":"1700000002"}' '{"MSG":"d","UNIT":"sshd","ID":"fail","T":"1700000003"}' > j.ndjson
	run_split evcep --type-field ID --time-field T --key-field UNIT --id-field MSG --ids -p 'burst: fail{3} within 1m' j.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"pattern":"burst","key":"sshd","start":"2023-11-14T22:13:20.000000Z","end":"2023-11-14T22:13:23.000000Z","events":["a","b","d"]}' ] || fail_with "got"
}

@test "evcep warns about a by path or condition path that matched no event" {
	run_split evcep -p 'p: Login -> HighValueTransaction[payload.amont > 1] within 1m by usr' "$SEED"
	[ "$status" -eq 0 ] && [ "$output" = "" ] || fail_with "status"
	[ "$stderr" = "evcep: warning: path 'usr' (by) matched no event
evcep: warning: path 'payload.amont' (-p) matched no event" ] || fail_with "stderr"
}

# ---- usage errors ---------------------------------------------------------------------

@test "evcep shows a pattern syntax error with the pattern and a caret at the column (exit 2)" {
	run_split evcep -p 'p: A -> B{3,2} within 1m' "$SEED"
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "status"
	[ "$stderr" = "evcep: -p: column 9: bad quantifier {3,2}
  p: A -> B{3,2} within 1m
          ^" ] || fail_with "stderr"
	run_split evcep -p 'p: A -> B[payload.x > ] within 1m' "$SEED"
	[ "$stderr" = "evcep: -p: column 23: unexpected end of expression
  p: A -> B[payload.x > ] within 1m
                        ^" ] || fail_with "condition"
	run_split evcep -p 'p: A -> B' "$SEED"
	[ "$status" -eq 2 ] && [ "$stderr" = "evcep: -p: column 10: pattern 'p' needs 'within DUR' (only a one-event pattern goes without)
  p: A -> B
           ^" ] || fail_with "within"
}

@test "evcep refuses patterns that cannot mean anything: absence first, optional first, later aliases, [] in by" {
	for p in 'p: !A -> B within 1m' 'p: A? -> B within 1m' 'p: A[l.x > 1] -> l=B within 1m' 'p: A -> B within 1m by x[]' \
		'p: a=A -> a=B within 1m' 'p: A -> !B{2} within 1m' 'p: A within 1m extra' 'p: A -> B within soon'; do
		run_split evcep -p "$p" "$SEED"
		[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "$p"
	done
	run_split evcep -p 'p: A[l.x > 1] -> l=B within 1m' "$SEED"
	[ "${stderr%%$'\n'*}" = "evcep: -p: column 6: alias 'l' names a later step" ] || fail_with "alias"
}

@test "evcep -f reports JSON syntax errors with line:column, duplicate keys, and bad members" {
	printf '[\n  {"name": "p",\n   "steps": [}\n]\n' > bad.json
	run_split evcep -f bad.json "$SEED"
	[ "$status" -eq 2 ] && [ "$stderr" = "evcep: -f bad.json:3:14: unexpected token near '}'" ] || fail_with "syntax"
	printf '{"name":"p","name":"q","steps":[{"type":"A"}]}\n' > dup.json
	run_split evcep -f dup.json "$SEED"
	[ "$status" -eq 2 ] && [ "${stderr#*: }" != "$stderr" ] && [[ "$stderr" == *"duplicate object key"* ]] || fail_with "dup"
	printf '{"name":"p","steps":[{"type":"A","when":"x"}]}\n' > unk.json
	run_split evcep -f unk.json "$SEED"
	[ "$status" -eq 2 ] && [ "$stderr" = 'evcep: -f unk.json: pattern 1 (p): steps[0]: unknown member "when"' ] || fail_with "member"
	printf '{"name":"p","steps":[{"type":"A"},{"type":"B"}]}\n' > nowithin.json
	run_split evcep -f nowithin.json "$SEED"
	[ "$status" -eq 2 ] && [ "$stderr" = "evcep: -f nowithin.json: pattern 1 (p): pattern 'p' needs 'within DUR' (only a one-event pattern goes without)" ] || fail_with "within"
}

# ---- several operands: one stream in event time (lib/merge) --------------------

@test "evcep merges several files by event time into one stream" {
	{ ev a1 u1 Login 0; ev a2 u2 Login 20; ev a3 u1 Logout 100; } > auth.ndjson
	{ ev p1 u1 Txn 10; ev p2 u2 Txn 30; ev p3 u1 Txn 40; } > pay.ndjson
	run_split evcep --ids -p 'all: *' auth.ndjson pay.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"pattern":"all","key":"u1","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:00.000000Z","events":["a1"]}
{"pattern":"all","key":"u1","start":"2026-11-01T10:00:10.000000Z","end":"2026-11-01T10:00:10.000000Z","events":["p1"]}
{"pattern":"all","key":"u2","start":"2026-11-01T10:00:20.000000Z","end":"2026-11-01T10:00:20.000000Z","events":["a2"]}
{"pattern":"all","key":"u2","start":"2026-11-01T10:00:30.000000Z","end":"2026-11-01T10:00:30.000000Z","events":["p2"]}
{"pattern":"all","key":"u1","start":"2026-11-01T10:00:40.000000Z","end":"2026-11-01T10:00:40.000000Z","events":["p3"]}
{"pattern":"all","key":"u1","start":"2026-11-01T10:01:40.000000Z","end":"2026-11-01T10:01:40.000000Z","events":["a3"]}' ] || fail_with "got"
}

@test "evcep matches a pattern across files: Login in one, Txn in another, same user" {
	{ ev a1 u1 Login 0; ev a2 u2 Login 50; } > auth.ndjson
	{ ev p1 u2 Txn 10; ev p2 u1 Txn 30; ev p3 u2 Txn 70; } > pay.ndjson
	run_split evcep -p 'x: Login -> Txn within 1m' auth.ndjson pay.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"pattern":"x","key":"u1","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:30.000000Z","events":[{"event_id":"a1","aggregate_id":"u1","event_type":"Login","timestamp":"2026-11-01T10:00:00Z","payload":{}},{"event_id":"p2","aggregate_id":"u1","event_type":"Txn","timestamp":"2026-11-01T10:00:30Z","payload":{}}]}
{"pattern":"x","key":"u2","start":"2026-11-01T10:00:50.000000Z","end":"2026-11-01T10:01:10.000000Z","events":[{"event_id":"a2","aggregate_id":"u2","event_type":"Login","timestamp":"2026-11-01T10:00:50Z","payload":{}},{"event_id":"p3","aggregate_id":"u2","event_type":"Txn","timestamp":"2026-11-01T10:01:10Z","payload":{}}]}' ] || fail_with "got"
	# an absence sees the other file: the Txn in pay.ndjson cancels it
	run_split evcep --ids -p 'quiet: Login -> !Txn within 1m' auth.ndjson pay.ndjson
	[ "$status" -eq 0 ] && [ "$output" = "" ] && [ "$stderr" = "" ] || fail_with "absence"
}

@test "evcep gives events of equal time in operand order" {
	{ ev a1 u1 A 0; ev a2 u1 A 10; } > one.ndjson
	{ ev b1 u1 B 0; ev b2 u1 B 10; } > two.ndjson
	run_split evcep --ids --skip none -p 'ab: A -> B within 1m' one.ndjson two.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"pattern":"ab","key":"u1","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:00.000000Z","events":["a1","b1"]}
{"pattern":"ab","key":"u1","start":"2026-11-01T10:00:10.000000Z","end":"2026-11-01T10:00:10.000000Z","events":["a2","b2"]}' ] || fail_with "one two"
	# the other way round, B comes first at each time and only a2 -> b2 fits
	run_split evcep --ids --skip none -p 'ab: A -> B within 1m' two.ndjson one.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status 2"
	[ "$output" = '{"pattern":"ab","key":"u1","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:10.000000Z","events":["a1","b2"]}' ] || fail_with "two one"
}

@test "evcep judges lateness per input: an event older than its own input's latest is late, not one older than another input's" {
	{ ev a1 u1 A 0; ev a2 u1 A 100; } > one.ndjson
	# b2 (50s) is older than one.ndjson's 100s but not than its own 10s; b3 (5s) is late
	{ ev b1 u1 B 10; ev b2 u1 B 50; ev b3 u1 B 5; } > two.ndjson
	run_split evcep --ids -p 'all: *' one.ndjson two.ndjson
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$stderr" = "evcep: 1 late event matched nothing; use --lateness DUR or --late FILE" ] || fail_with "stderr"
	[ "$output" = '{"pattern":"all","key":"u1","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:00.000000Z","events":["a1"]}
{"pattern":"all","key":"u1","start":"2026-11-01T10:00:10.000000Z","end":"2026-11-01T10:00:10.000000Z","events":["b1"]}
{"pattern":"all","key":"u1","start":"2026-11-01T10:00:50.000000Z","end":"2026-11-01T10:00:50.000000Z","events":["b2"]}
{"pattern":"all","key":"u1","start":"2026-11-01T10:01:40.000000Z","end":"2026-11-01T10:01:40.000000Z","events":["a2"]}' ] || fail_with "got"
	run_split evcep --ids -p 'all: *' --late late.ndjson one.ndjson two.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "evcep: 1 late event matched nothing (written to late.ndjson)" ] || fail_with "routed"
	[ "$(cat late.ndjson)" = "$(sed -n 3p two.ndjson)" ] || fail_with "late file"
	# --lateness 1m takes b3 back (5s >= 50s - 1m), in its place in time
	run_split evcep --ids -p 'all: *' --lateness 1m one.ndjson two.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "lateness"
	[ "$(printf '%s\n' "$output" | sed 's/.*"events":\["\([^"]*\)"\]}/\1/' | tr '\n' ' ')" = "a1 b3 b1 b2 a2 " ] || fail_with "reordered"
}

@test "evcep rejects a bad line of the second file with that file's name and line number" {
	{ ev a1 u1 A 0; ev a2 u1 A 20; } > one.ndjson
	{ ev b1 u1 B 10; echo 'nope'; echo '{"event_id":"b3","event_type":"B"}'; ev b4 u1 B 30; } > two.ndjson
	run_split evcep --ids -p 'all: *' one.ndjson two.ndjson
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$stderr" = "evcep: two.ndjson:2: invalid JSON: unexpected 'n', expected a value at column 1
evcep: two.ndjson:3: missing time field 'timestamp'" ] || fail_with "stderr"
	[ "$output" = '{"pattern":"all","key":"u1","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:00.000000Z","events":["a1"]}
{"pattern":"all","key":"u1","start":"2026-11-01T10:00:10.000000Z","end":"2026-11-01T10:00:10.000000Z","events":["b1"]}
{"pattern":"all","key":"u1","start":"2026-11-01T10:00:20.000000Z","end":"2026-11-01T10:00:20.000000Z","events":["a2"]}
{"pattern":"all","key":"u1","start":"2026-11-01T10:00:30.000000Z","end":"2026-11-01T10:00:30.000000Z","events":["b4"]}' ] || fail_with "got"
}

@test "evcep reads nothing when one of several operands cannot be opened" {
	ev a1 u1 A 0 > one.ndjson
	run_split evcep --ids -p 'all: *' one.ndjson missing.ndjson
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "missing"
	[ "$stderr" = "evcep: missing.ndjson: No such file or directory" ] || fail_with "missing msg"
}

# two growing logs for --state with several operands: logins in A.all,
# transactions in B.all (a tie at 10:00:40: A's login comes first)
two_logs() {
	{ ev a1 u1 Login 0; ev a2 u2 Login 10; ev a3 u1 Login 40; ev a4 u3 Login 70; ev a5 u2 Login 100; ev a6 u1 Login 130; } >A.all
	{ ev b1 u1 Txn 5; ev b2 u2 Txn 20; ev b3 u1 Txn 40; ev b4 u3 Txn 80; ev b5 u1 Txn 90; ev b6 u2 Txn 105; ev b7 u1 Txn 200; } >B.all
}
TWO=(--ids -p 'lt: l=Login -> t=Txn within 30s' -p 'quiet: Login -> !Txn within 20s')

@test "evcep --state with two operands: split runs over two growing files give the same matches as one run" {
	two_logs
	evcep "${TWO[@]}" A.all B.all >one.out
	[ "$(cat one.out)" = '{"pattern":"lt","key":"u1","start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:05.000000Z","events":["a1","b1"]}
{"pattern":"lt","key":"u2","start":"2026-11-01T10:00:10.000000Z","end":"2026-11-01T10:00:20.000000Z","events":["a2","b2"]}
{"pattern":"lt","key":"u1","start":"2026-11-01T10:00:40.000000Z","end":"2026-11-01T10:00:40.000000Z","events":["a3","b3"]}
{"pattern":"lt","key":"u3","start":"2026-11-01T10:01:10.000000Z","end":"2026-11-01T10:01:20.000000Z","events":["a4","b4"]}
{"pattern":"lt","key":"u2","start":"2026-11-01T10:01:40.000000Z","end":"2026-11-01T10:01:45.000000Z","events":["a5","b6"]}
{"pattern":"quiet","key":"u1","start":"2026-11-01T10:02:10.000000Z","end":"2026-11-01T10:02:10.000000Z","events":["a6"]}' ] ||
		fail_with "one run"
	# A and B cut at different places (one ahead of the other, one empty,
	# at the tie), then three runs where each file grows in turn
	for cut in "0 0" "1 5" "3 2" "3 3" "6 1" "2 7" "5 4"; do
		set -- $cut
		rm -f st
		head -n "$1" A.all >A
		head -n "$2" B.all >B
		run_split evcep --state st "${TWO[@]}" A B
		[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail_with "cut $cut: first run"
		echo -n "$output${output:+$'\n'}" >split.out
		cp A.all A
		cp B.all B
		evcep --state st --flush "${TWO[@]}" A B >>split.out
		cmp one.out split.out || fail_with "cut $cut differs"
	done
	rm -f st
	: >split.out
	for cut in "2 1" "2 6" "4 6" "6 7"; do
		set -- $cut
		head -n "$1" A.all >A
		head -n "$2" B.all >B
		evcep --state st "${TWO[@]}" A B >>split.out
	done
	evcep --state st --flush "${TWO[@]}" A B >>split.out
	cmp one.out split.out || fail_with "three runs differ"
}

@test "evcep --state with several operands refuses a state of other inputs, a lateness, and a pipe" {
	two_logs
	cp A.all A
	cp B.all B
	evcep --state st "${TWO[@]}" A B >/dev/null
	run_split evcep --state st "${TWO[@]}" A B A
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "count"
	[ "$stderr" = "evcep: --state st: saved by a run with 2 inputs, this run has 3" ] || fail_with "count msg"
	run_split evcep --state st "${TWO[@]}" A
	[ "$status" -eq 2 ] && [ "$stderr" = "evcep: --state st: saved by a run with 2 inputs, this run has 1" ] || fail_with "one"
	cp B B2
	run_split evcep --state st "${TWO[@]}" A B2
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "name"
	[ "$stderr" = "evcep: --state st: input 2 is B2 in this run, B in the state" ] || fail_with "name msg"
	evcep --state st1 "${TWO[@]}" A >/dev/null
	run_split evcep --state st1 "${TWO[@]}" A B
	[ "$status" -eq 2 ] && [ "$stderr" = "evcep: --state st1: saved by a run with 1 input, this run has 2" ] || fail_with "from one"
	run_split evcep --state st2 --lateness 1m "${TWO[@]}" A B
	[ "$status" -eq 2 ] && [ "$output" = "" ] && [ ! -e st2 ] || fail_with "lateness"
	[ "${stderr%%$'\n'*}" = "evcep: --state with several operands needs --lateness 0: the events the time merge holds back are not kept in the state (merge the inputs first, e.g. evquery --interleave)" ] ||
		fail_with "lateness msg"
	run_split evcep --state st3 "${TWO[@]}" A - < <(cat B)
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "pipe"
	[ "$stderr" = "evcep: --state with several operands reads regular files: <stdin> is not one" ] || fail_with "pipe msg"
}

@test "evcep without a pattern, or with a bad --skip, --eof or --max-partials, is a usage error" {
	for a in "" "--skip last" "--eof keep" "--max-partials 0" "--lateness soon"; do
		run_split evcep $a -p "$OUTAGE" "$SEED"
		[ -z "$a" ] && run_split evcep "$SEED"
		[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "$a"
	done
}

@test "evcep --help lists every option and --progress ends with a summary line" {
	run evcep --help
	for o in --pattern --pattern-file --exit-status --ids --skip --eof --partials --max-partials --lateness --late --state --flush --errors --strict --progress --key-field; do
		help_has "$o" || fail_with "$o missing"
	done
	run_split evcep --progress -p "$OUTAGE" "$SEED"
	[ "$status" -eq 0 ] && [[ "$stderr" == *"17 events"* ]] || fail_with "progress"
	run_split evcep --progress --state st -p "$OUTAGE" "$SEED"
	[ "$status" -eq 0 ] && [[ "$stderr" == *"evcep: 0.0 MB, 17 events, "*" events/s"* ]] || fail_with "progress --state"
}

@test "evcep unreadable input is status 2 with a message" {
	run_split evcep -p "$OUTAGE" no-such-file
	[ "$status" -eq 2 ] && [ "$stderr" = "evcep: no-such-file: No such file or directory" ] || fail_with "got"
}

@test "evcep(1) EXAMPLES over the example data run as written and find something" {
	man="$BATS_TEST_DIRNAME/../man/evcep.1"
	awk '/^\.Bd -literal/ { on = 1; cmd = ""; next } /^\.Ed/ { if (on && cmd ~ /(activity|orders)\.ndjson/) { n++; f = "ex." n; printf "%s", cmd > f; close(f) } on = 0; next } on { gsub(/\\e/, "\\"); cmd = cmd $0 "\n" }' "$man"
	[ -f ex.5 ] || fail_with "expected 5 examples over the example data"
	for f in ex.*; do
		run_split sh -c "cd '$BATS_TEST_DIRNAME/../examples' && . '$PWD/$f'"
		[ "$status" -eq 0 ] && [ -n "$output" ] && [ "$stderr" = "" ] || fail_with "$(cat $f)"
	done
}

@test "evcep --state refuses a state made with a pattern file whose contents changed" {
	ev a k A 0 > in.ndjson
	printf '{"name":"p","steps":[{"type":"A"},{"type":"B"}],"within":"1m"}\n' > pat.json
	run_split evcep --state st -f pat.json in.ndjson
	[ "$status" -eq 0 ] || fail_with "first"
	printf '{"name":"p","steps":[{"type":"A"},{"type":"C"}],"within":"1m"}\n' > pat.json
	run_split evcep --state st -f pat.json in.ndjson
	[ "$status" -eq 2 ] && [ "$stderr" = "evcep: --state st: saved by a run with other patterns or options" ] || fail_with "changed"
}

@test "evcep warns when no event had the type field, and such events still fit a * step" {
	printf '%s\n' '{"t":"2026-11-01T10:00:00Z","kind":"A","event_id":1}' > in.ndjson
	run_split evcep --ids --time-field t -p 'any: *' in.ndjson
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = '{"pattern":"any","key":null,"start":"2026-11-01T10:00:00.000000Z","end":"2026-11-01T10:00:00.000000Z","events":[1]}' ] || fail_with "got"
	[ "$stderr" = "evcep: warning: path 'event_type' (--type-field) matched no event" ] || fail_with "stderr"
}

@test "evcep --state with --skip none does not report a growing match twice across runs" {
	for i in 1 2 3; do ev e$i svc E $i; done > all.ndjson
	evcep --ids --skip none -p 'o: E{2,3} within 1m' all.ndjson > one.out
	head -n 2 all.ndjson > grow.ndjson
	evcep --ids --skip none --state st -p 'o: E{2,3} within 1m' grow.ndjson > split.out
	tail -n 1 all.ndjson >> grow.ndjson
	evcep --ids --skip none --state st --flush -p 'o: E{2,3} within 1m' grow.ndjson >> split.out
	run cat split.out
	[ "$output" = "$(cat one.out)" ] || fail_with "split differs: $(cat one.out)"
	[ "$(wc -l < one.out)" -eq 3 ]
}
