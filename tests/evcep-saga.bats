#!/usr/bin/env bats
# evcep --saga: saga files, orchestration (next commands), compensation,
# timeouts, monitoring records, --partials, --stats, --state, sagas with
# patterns, bounded memory.

load helper

FS="$BATS_TEST_DIRNAME/fixtures/evcep/saga"
ORDER="$FS/order.json"

# ev ID TYPE HH:MM:SS KEY [PAYLOAD]: one event on 2026-12-01, keyed by
# metadata.correlation_id
ev() {
	printf '{"event_id":"%s","event_type":"%s","timestamp":"2026-12-01T%sZ","metadata":{"correlation_id":"%s"},"payload":%s}\n' \
		"$1" "$2" "$3" "$4" "${5:-{\}}"
}

# brief ARGS...: evcep ARGS with each record as one tab-separated line
# (key, record, status, command, step, kind, trigger_event, at; times
# without the date); its exit status is evcep's.
brief() {
	local rc=0
	evcep "$@" >"$BATS_TEST_TMPDIR/full" || rc=$?
	evquery -s 'key,record,status,command,step,kind,trigger_event,at' --format tsv "$BATS_TEST_TMPDIR/full" |
		tail -n +2 | sed 's/2026-12-01T//g; s/\.000000Z//g'
	return $rc
}

setup() { cd "$BATS_TEST_TMPDIR"; }

# ---- orchestration ---------------------------------------------------------

@test "evcep --saga: a saga that completes gives started, each next command as a step is done, then completed" {
	{
		ev a1 OrderCreated 10:00:00 o-1 '{"order_id":"o-1","total":40}'
		ev a2 InventoryReserved 10:00:01 o-1 '{"reservation":"r-9"}'
		ev a3 PaymentCharged 10:00:02 o-1 '{"payment":"p-3","total":41}'
		ev a4 ShipmentCreated 10:00:03 o-1
		ev a5 ConfirmationSent 10:00:04 o-1
	} >in.ndjson
	run_split evcep --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"record":"saga","saga":"CreateOrder","key":"o-1","status":"started","at":"2026-12-01T10:00:00.000000Z","started_at":"2026-12-01T10:00:00.000000Z","steps_completed":[],"failed_step":null,"events":["a1"]}
{"record":"command","saga":"CreateOrder","key":"o-1","command":"ReserveInventory","step":"reserve","kind":"step","trigger_event":"a1","at":"2026-12-01T10:00:00.000000Z","context":{"order_id":"o-1","total":40}}
{"record":"command","saga":"CreateOrder","key":"o-1","command":"ChargePayment","step":"charge","kind":"step","trigger_event":"a2","at":"2026-12-01T10:00:01.000000Z","context":{"order_id":"o-1","total":40,"reservation":"r-9"}}
{"record":"command","saga":"CreateOrder","key":"o-1","command":"CreateShipment","step":"ship","kind":"step","trigger_event":"a3","at":"2026-12-01T10:00:02.000000Z","context":{"order_id":"o-1","total":41,"reservation":"r-9","payment":"p-3"}}
{"record":"command","saga":"CreateOrder","key":"o-1","command":"SendConfirmation","step":"confirm","kind":"step","trigger_event":"a4","at":"2026-12-01T10:00:03.000000Z","context":{"order_id":"o-1","total":41,"reservation":"r-9","payment":"p-3"}}
{"record":"saga","saga":"CreateOrder","key":"o-1","status":"completed","at":"2026-12-01T10:00:04.000000Z","started_at":"2026-12-01T10:00:00.000000Z","steps_completed":["reserve","charge","ship","confirm"],"failed_step":null,"events":["a1","a2","a3","a4","a5"]}' ] || fail_with "got"
}

@test "evcep --saga: a failed step gives the compensations of the done steps, newest first, then failed" {
	{
		ev a1 OrderCreated 10:00:00 o-1 '{"order_id":"o-1"}'
		ev a2 InventoryReserved 10:00:01 o-1
		ev a3 PaymentCharged 10:00:02 o-1 '{"payment":"p-3"}'
		ev a4 ShipmentFailed 10:00:03 o-1 '{"reason":"no carrier"}'
	} >in.ndjson
	run_split evcep --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "${lines[4]}" = '{"record":"command","saga":"CreateOrder","key":"o-1","command":"RefundPayment","step":"charge","kind":"compensation","trigger_event":"a4","at":"2026-12-01T10:00:03.000000Z","context":{"order_id":"o-1","payment":"p-3"}}' ] || fail_with "refund"
	[ "${lines[5]}" = '{"record":"command","saga":"CreateOrder","key":"o-1","command":"ReleaseInventory","step":"reserve","kind":"compensation","trigger_event":"a4","at":"2026-12-01T10:00:03.000000Z","context":{"order_id":"o-1","payment":"p-3"}}' ] || fail_with "release"
	[ "${lines[6]}" = '{"record":"saga","saga":"CreateOrder","key":"o-1","status":"failed","at":"2026-12-01T10:00:03.000000Z","started_at":"2026-12-01T10:00:00.000000Z","steps_completed":["reserve","charge"],"failed_step":"ship","events":["a1","a2","a3","a4"]}' ] || fail_with "failed"
	[ "${#lines[@]}" -eq 7 ] || fail_with "count"
}

@test "evcep --saga: a saga whose first step fails gives no compensation, only failed" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev a2 InventoryReservationFailed 10:00:01 o-1
	} >in.ndjson
	run_split brief --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 'o-1	saga	started					10:00:00
o-1	command		ReserveInventory	reserve	step	a1	10:00:00
o-1	saga	failed					10:00:01' ] || fail_with "got"
	[ "$(sed -n 3p full)" = '{"record":"saga","saga":"CreateOrder","key":"o-1","status":"failed","at":"2026-12-01T10:00:01.000000Z","started_at":"2026-12-01T10:00:00.000000Z","steps_completed":[],"failed_step":"reserve","events":["a1","a2"]}' ] || fail_with "record"
}

@test "evcep --saga: a failed event of a later step (not yet done) fails the saga too" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev a2 InventoryReserved 10:00:01 o-1
		ev a3 ShipmentFailed 10:00:02 o-1
	} >in.ndjson
	run_split brief --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 'o-1	saga	started					10:00:00
o-1	command		ReserveInventory	reserve	step	a1	10:00:00
o-1	command		ChargePayment	charge	step	a2	10:00:01
o-1	command		ReleaseInventory	reserve	compensation	a3	10:00:02
o-1	saga	failed					10:00:02' ] || fail_with "got"
	grep -q '"failed_step":"ship"' full || fail_with "failed_step"
}

@test "evcep --saga: without start, the first step's done event starts the saga and completes that step" {
	{
		ev a1 Packed 10:00:00 s-1 '{"box":3}'
		ev a2 Sent 10:00:30 s-1
		ev a3 Delivered 10:01:00 s-1
	} >in.ndjson
	run_split brief --saga "$FS/nostart.json" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 's-1	saga	started					10:00:00
s-1	command		Send	send	step	a1	10:00:00
s-1	command		Deliver	deliver	step	a2	10:00:30
s-1	saga	completed					10:01:00' ] || fail_with "got"
	[ "$(sed -n 1p full)" = '{"record":"saga","saga":"Ship","key":"s-1","status":"started","at":"2026-12-01T10:00:00.000000Z","started_at":"2026-12-01T10:00:00.000000Z","steps_completed":["pack"],"failed_step":null,"events":["a1"]}' ] || fail_with "started"
}

@test "evcep --saga: without start, a failed first step with no running saga is a warning" {
	ev a1 PackFailed 10:00:00 s-1 >in.ndjson
	run_split evcep --saga "$FS/nostart.json" in.ndjson
	[ "$status" -eq 0 ] && [ "$output" = "" ] || fail_with "status"
	[ "$stderr" = 'evcep: in.ndjson:1: warning: event "a1" (PackFailed) fits no running saga: no Ship saga is running (key "s-1")' ] || fail_with "stderr"
}

@test "evcep --saga: two keys interleaved run as two sagas" {
	{
		ev a1 OrderCreated 10:00:00 A
		ev b1 OrderCreated 10:00:01 B
		ev b2 InventoryReserved 10:00:02 B
		ev a2 InventoryReserved 10:00:03 A
		ev a3 PaymentFailed 10:00:04 A
		ev b3 PaymentCharged 10:00:05 B
	} >in.ndjson
	run_split brief --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 'A	saga	started					10:00:00
A	command		ReserveInventory	reserve	step	a1	10:00:00
B	saga	started					10:00:01
B	command		ReserveInventory	reserve	step	b1	10:00:01
B	command		ChargePayment	charge	step	b2	10:00:02
A	command		ChargePayment	charge	step	a2	10:00:03
A	command		ReleaseInventory	reserve	compensation	a3	10:00:04
A	saga	failed					10:00:04
B	command		CreateShipment	ship	step	b3	10:00:05' ] || fail_with "got"
}

@test "evcep --saga: keys are JSON values, so \"1\" and 1 are two sagas" {
	{
		printf '{"event_id":"x1","event_type":"OrderCreated","timestamp":"2026-12-01T10:00:00Z","metadata":{"correlation_id":"1"}}\n'
		printf '{"event_id":"x2","event_type":"OrderCreated","timestamp":"2026-12-01T10:00:01Z","metadata":{"correlation_id":1}}\n'
	} >in.ndjson
	run_split brief --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '1	saga	started					10:00:00
1	command		ReserveInventory	reserve	step	x1	10:00:00
1	saga	started					10:00:01
1	command		ReserveInventory	reserve	step	x2	10:00:01' ] || fail_with "got"
	grep -c '"key":"1"' full | grep -qx 2 && grep -c '"key":1,' full | grep -qx 2 || fail_with "keys"
}

# ---- events that fit no running saga ------------------------------------------

@test "evcep --saga: a done event arriving twice is a warning naming its event_id and changes nothing" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev a2 InventoryReserved 10:00:01 o-1 '{"n":1}'
		ev a2 InventoryReserved 10:00:02 o-1 '{"n":2}'
		ev a3 PaymentCharged 10:00:03 o-1
	} >in.ndjson
	run_split brief --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$stderr" = 'evcep: in.ndjson:3: warning: event "a2" (InventoryReserved) fits no running saga: step reserve of its CreateOrder saga is already done (key "o-1")' ] || fail_with "stderr"
	[ "$output" = 'o-1	saga	started					10:00:00
o-1	command		ReserveInventory	reserve	step	a1	10:00:00
o-1	command		ChargePayment	charge	step	a2	10:00:01
o-1	command		CreateShipment	ship	step	a3	10:00:03' ] || fail_with "got"
	grep -q '"context":{"n":1}}$' full || fail_with "the duplicate's payload was merged"
}

@test "evcep --saga: a failed event for a step already done is a warning and the saga goes on" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev a2 InventoryReserved 10:00:01 o-1
		ev a3 InventoryReservationFailed 10:00:02 o-1
		ev a4 PaymentCharged 10:00:03 o-1
	} >in.ndjson
	run_split brief --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$stderr" = 'evcep: in.ndjson:3: warning: event "a3" (InventoryReservationFailed) fits no running saga: step reserve of its CreateOrder saga is already done (key "o-1")' ] || fail_with "stderr"
	[ "$output" = 'o-1	saga	started					10:00:00
o-1	command		ReserveInventory	reserve	step	a1	10:00:00
o-1	command		ChargePayment	charge	step	a2	10:00:01
o-1	command		CreateShipment	ship	step	a4	10:00:03' ] || fail_with "got"
}

@test "evcep --saga: a done event out of order, a start for a running key and events after the end are warnings" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev a2 PaymentCharged 10:00:01 o-1
		ev a3 OrderCreated 10:00:02 o-1
		ev a4 InventoryReservationFailed 10:00:03 o-1
		ev a5 InventoryReserved 10:00:04 o-1
		ev z1 PaymentCharged 10:00:05 nobody
	} >in.ndjson
	run_split brief --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$stderr" = 'evcep: in.ndjson:2: warning: event "a2" (PaymentCharged) fits no running saga: its CreateOrder saga waits for step reserve, not charge (key "o-1")
evcep: in.ndjson:3: warning: event "a3" (OrderCreated) fits no running saga: a CreateOrder saga is already running (key "o-1")
evcep: in.ndjson:5: warning: event "a5" (InventoryReserved) fits no running saga: no CreateOrder saga is running (key "o-1")
evcep: in.ndjson:6: warning: event "z1" (PaymentCharged) fits no running saga: no CreateOrder saga is running (key "nobody")' ] || fail_with "stderr"
	[ "$output" = 'o-1	saga	started					10:00:00
o-1	command		ReserveInventory	reserve	step	a1	10:00:00
o-1	saga	failed					10:00:03' ] || fail_with "got"
}

@test "evcep --saga --strict rejects an event that fits no running saga (status 3) and reads on" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev a2 InventoryReserved 10:00:01 o-1
		ev a2 InventoryReserved 10:00:02 o-1
		ev a3 PaymentCharged 10:00:03 o-1
	} >in.ndjson
	run_split brief --strict --errors err.ndjson --saga "$ORDER" in.ndjson
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$stderr" = 'evcep: in.ndjson:3: event "a2" (InventoryReserved) fits no running saga: step reserve of its CreateOrder saga is already done (key "o-1")' ] || fail_with "stderr"
	[ "$(sed -n 4p <<<"$output")" = 'o-1	command		CreateShipment	ship	step	a3	10:00:03' ] || fail_with "read on"
	[ "$(cat err.ndjson)" = '{"file":"in.ndjson","line":3,"error":"event \"a2\" (InventoryReserved) fits no running saga: step reserve of its CreateOrder saga is already done (key \"o-1\")","raw":"{\"event_id\":\"a2\",\"event_type\":\"InventoryReserved\",\"timestamp\":\"2026-12-01T10:00:02Z\",\"metadata\":{\"correlation_id\":\"o-1\"},\"payload\":{}}"}' ] || fail_with "errors"
}

@test "evcep --saga --strict: a rejected saga event reaches no pattern; without --strict it does" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev a2 InventoryReserved 10:00:01 o-1
		ev a2 InventoryReserved 10:00:02 o-1
	} >in.ndjson
	P='twice: InventoryReserved{2} within 1m'
	run_split evcep --ids --key-field metadata.correlation_id -p "$P" --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "${lines[3]}" = '{"pattern":"twice","key":"o-1","start":"2026-12-01T10:00:01.000000Z","end":"2026-12-01T10:00:02.000000Z","events":["a2","a2"]}' ] || fail_with "warned"
	run_split evcep --strict --ids --key-field metadata.correlation_id -p "$P" --saga "$ORDER" in.ndjson
	[ "$status" -eq 3 ] && [ "${#lines[@]}" -eq 3 ] || fail_with "rejected"
}

@test "evcep --saga rejects a saga event whose key is null or missing; other events only move the watermark" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		printf '{"event_id":"n1","event_type":"OrderCreated","timestamp":"2026-12-01T10:00:01Z","metadata":{"correlation_id":null}}\n'
		printf '{"event_id":"n2","event_type":"InventoryReserved","timestamp":"2026-12-01T10:00:02Z"}\n'
		printf '{"event_id":"n3","event_type":"Heartbeat","timestamp":"2026-12-01T10:06:00Z"}\n'
	} >in.ndjson
	run_split brief --saga "$ORDER" in.ndjson
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$stderr" = 'evcep: in.ndjson:2: saga CreateOrder: key metadata.correlation_id is null
evcep: in.ndjson:3: saga CreateOrder: key metadata.correlation_id is missing' ] || fail_with "stderr"
	[ "$output" = 'o-1	saga	started					10:00:00
o-1	command		ReserveInventory	reserve	step	a1	10:00:00
o-1	saga	timed_out					10:05:00' ] || fail_with "got"
}

@test "evcep --saga: a key path that no saga event has gets the end-of-run missing-path warning" {
	printf '{"saga":"S","key":"payload.order_no","timeout":"1m","steps":[{"name":"a","done":"A"}]}\n' >s.json
	{ ev x1 A 10:00:00 k; ev x2 Other 10:00:01 k; } >in.ndjson
	run_split evcep --saga s.json in.ndjson
	[ "$status" -eq 3 ] && [ "$output" = "" ] || fail_with "status"
	[ "$stderr" = "evcep: in.ndjson:1: saga S: key payload.order_no is missing
evcep: warning: path 'payload.order_no' (--saga key) matched no event" ] || fail_with "stderr"
}

# ---- timeouts ----------------------------------------------------------------

@test "evcep --saga: when the watermark passes the deadline, compensations newest first, then timed_out at the deadline" {
	{
		ev a1 OrderCreated 10:00:00 o-1 '{"order_id":"o-1"}'
		ev a2 InventoryReserved 10:00:01 o-1
		ev a3 PaymentCharged 10:00:02 o-1
		ev b1 OrderCreated 10:05:01 o-2
	} >in.ndjson
	run_split evcep --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "${lines[4]}" = '{"record":"command","saga":"CreateOrder","key":"o-1","command":"RefundPayment","step":"charge","kind":"compensation","trigger_event":null,"at":"2026-12-01T10:05:00.000000Z","context":{"order_id":"o-1"}}' ] || fail_with "refund"
	[ "${lines[5]}" = '{"record":"command","saga":"CreateOrder","key":"o-1","command":"ReleaseInventory","step":"reserve","kind":"compensation","trigger_event":null,"at":"2026-12-01T10:05:00.000000Z","context":{"order_id":"o-1"}}' ] || fail_with "release"
	[ "${lines[6]}" = '{"record":"saga","saga":"CreateOrder","key":"o-1","status":"timed_out","at":"2026-12-01T10:05:00.000000Z","started_at":"2026-12-01T10:00:00.000000Z","steps_completed":["reserve","charge"],"failed_step":null,"events":["a1","a2","a3"]}' ] || fail_with "timed_out"
	[ "${lines[7]}" = '{"record":"saga","saga":"CreateOrder","key":"o-2","status":"started","at":"2026-12-01T10:05:01.000000Z","started_at":"2026-12-01T10:05:01.000000Z","steps_completed":[],"failed_step":null,"events":["b1"]}' ] || fail_with "the event's own records come after"
}

@test "evcep --saga: a done event exactly at the deadline still counts" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev a2 InventoryReserved 10:05:00 o-1
		ev a3 PaymentCharged 10:05:00.000001 o-1
	} >in.ndjson
	run_split brief --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = 'o-1	saga	started					10:00:00
o-1	command		ReserveInventory	reserve	step	a1	10:00:00
o-1	command		ChargePayment	charge	step	a2	10:05:00
o-1	command		ReleaseInventory	reserve	compensation		10:05:00
o-1	saga	timed_out					10:05:00' ] || fail_with "got"
	[ "$stderr" = 'evcep: in.ndjson:3: warning: event "a3" (PaymentCharged) fits no running saga: no CreateOrder saga is running (key "o-1")' ] || fail_with "stderr"
}

@test "evcep --saga: a deadline crossed by an event of another key fires before that event's records; end of input fires nothing" {
	{
		ev a1 OrderCreated 10:00:00 A
		ev b1 OrderCreated 10:04:00 B
		ev b2 InventoryReserved 10:05:30 B
	} >in.ndjson
	run_split brief --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 'A	saga	started					10:00:00
A	command		ReserveInventory	reserve	step	a1	10:00:00
B	saga	started					10:04:00
B	command		ReserveInventory	reserve	step	b1	10:04:00
A	saga	timed_out					10:05:00
B	command		ChargePayment	charge	step	b2	10:05:30' ] || fail_with "got"
}

@test "evcep --saga: timeouts fired by one event come out by deadline, then by start order" {
	{
		ev a1 OrderCreated 10:00:02 A
		ev b1 OrderCreated 10:00:01 B
		ev c1 OrderCreated 10:00:02 C
		ev z1 Heartbeat 10:09:00 -
	} >in.ndjson
	run_split brief --lateness 5s --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 'B	saga	started					10:00:01
B	command		ReserveInventory	reserve	step	b1	10:00:01
A	saga	started					10:00:02
A	command		ReserveInventory	reserve	step	a1	10:00:02
C	saga	started					10:00:02
C	command		ReserveInventory	reserve	step	c1	10:00:02
B	saga	timed_out					10:05:01
A	saga	timed_out					10:05:02
C	saga	timed_out					10:05:02' ] || fail_with "got"
}

@test "evcep --saga: on_timeout report gives timed_out without compensations" {
	{
		printf '{"event_id":"t1","event_type":"TripBooked","timestamp":"2026-12-01T10:00:00Z","payload":{"trip":7}}\n'
		printf '{"event_id":"t2","event_type":"FlightBooked","timestamp":"2026-12-01T10:10:00Z","payload":{"trip":7,"flight":"LH1"}}\n'
		printf '{"event_id":"t3","event_type":"Tick","timestamp":"2026-12-01T11:00:01Z"}\n'
	} >in.ndjson
	run_split brief --saga "$FS/report.json" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '7	saga	started					10:00:00
7	command		BookFlight	flight	step	t1	10:00:00
7	command		BookHotel	hotel	step	t2	10:10:00
7	saga	timed_out					11:00:00' ] || fail_with "got"
}

@test "evcep --saga --lateness: events out of order within the lateness give the same records as in order" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev b1 OrderCreated 10:00:01 o-2
		ev a2 InventoryReserved 10:00:03 o-1
		ev b2 InventoryReserved 10:00:04 o-2
		ev a3 PaymentFailed 10:00:06 o-1
	} >sorted.ndjson
	{ sed -n 2p sorted.ndjson; sed -n 1p sorted.ndjson; sed -n 4p sorted.ndjson; sed -n 3p sorted.ndjson; sed -n 5p sorted.ndjson; } >shuffled.ndjson
	evcep --saga "$ORDER" sorted.ndjson >want
	run_split evcep --lateness 3s --saga "$ORDER" shuffled.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = "$(cat want)" ] || fail_with "differs"
	[ "$(wc -l <want)" -eq 8 ] || fail_with "want"
}

@test "evcep --saga --lateness: a held event that fits no running saga is reported with its own line" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev a3 PaymentCharged 10:00:02 o-1
		ev a2 InventoryReserved 10:00:01 o-1
		ev z1 Tick 10:00:09 -
	} >in.ndjson
	run_split brief --lateness 5s --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$stderr" = "" ] || fail_with "in order after the reorder: no warning"
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev a2 InventoryReserved 10:00:01 o-1
		ev a9 InventoryReserved 10:00:03 o-1
		ev z1 Tick 10:00:02 -
		ev z2 Tick 10:00:09 -
	} >in2.ndjson
	run_split evcep --lateness 5s --saga "$ORDER" in2.ndjson
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$stderr" = 'evcep: in2.ndjson:3: warning: event "a9" (InventoryReserved) fits no running saga: step reserve of its CreateOrder saga is already done (key "o-1")' ] || fail_with "stderr"
	run_split evcep --strict --lateness 5s --saga "$ORDER" in2.ndjson
	[ "$status" -eq 3 ] && [ "${#lines[@]}" -eq 3 ] || fail_with "strict"
	[ "$stderr" = 'evcep: in2.ndjson:3: event "a9" (InventoryReserved) fits no running saga: step reserve of its CreateOrder saga is already done (key "o-1")' ] || fail_with "strict stderr"
}

@test "evcep --saga: late events go to --late and move nothing" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev z1 Tick 10:00:10 -
		ev a2 InventoryReserved 10:00:01 o-1
	} >in.ndjson
	run_split brief --late late.ndjson --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "evcep: 1 late event matched nothing (written to late.ndjson)" ] || fail_with "status"
	[ "$output" = 'o-1	saga	started					10:00:00
o-1	command		ReserveInventory	reserve	step	a1	10:00:00' ] || fail_with "got"
	[ "$(cat late.ndjson)" = "$(sed -n 3p in.ndjson)" ] || fail_with "late"
}

# ---- globs, several saga types, context -----------------------------------------

@test "evcep --saga: several saga types in one run; globs try failed before done, steps in file order" {
	{
		printf '{"event_id":"r1","event_type":"RefundApproved","timestamp":"2026-12-01T10:00:00Z","payload":{"order":5,"amount":9}}\n'
		printf '{"event_id":"t1","event_type":"TripBooked","timestamp":"2026-12-01T10:00:01Z","payload":{"trip":7}}\n'
		printf '{"event_id":"r2","event_type":"RefundRejected","timestamp":"2026-12-01T10:00:02Z","payload":{"order":5}}\n'
		printf '{"event_id":"r3","event_type":"RefundApproved","timestamp":"2026-12-01T10:00:03Z","payload":{"order":6}}\n'
		printf '{"event_id":"r4","event_type":"RefundIssued","timestamp":"2026-12-01T10:00:04Z","payload":{"order":6,"amount":3}}\n'
		printf '{"event_id":"t2","event_type":"FlightFailed","timestamp":"2026-12-01T10:00:05Z","payload":{"trip":7}}\n'
	} >in.ndjson
	run_split brief --stats --saga "$FS/report.json" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '5	saga	started					10:00:00
5	command		PayRefund	pay	step	r1	10:00:00
7	saga	started					10:00:01
7	command		BookFlight	flight	step	t1	10:00:01
5	saga	failed					10:00:02
6	saga	started					10:00:03
6	command		PayRefund	pay	step	r3	10:00:03
6	saga	completed					10:00:04
7	saga	failed					10:00:05
	stats						
	stats						' ] || fail_with "got"
	[ "$(grep stats full)" = '{"record":"stats","saga":"Trip","started":1,"completed":0,"failed":1,"timed_out":0,"running":0}
{"record":"stats","saga":"Refund","started":2,"completed":1,"failed":1,"timed_out":0,"running":0}' ] || fail_with "stats"
	[ "$(grep '"status":"completed"' full)" = '{"record":"saga","saga":"Refund","key":6,"status":"completed","at":"2026-12-01T10:00:04.000000Z","started_at":"2026-12-01T10:00:03.000000Z","steps_completed":["approve","pay"],"failed_step":null,"events":["r3","r4"]}' ] || fail_with "completed"
}

@test "evcep --saga: one event that two saga types wait for advances both, in file order" {
	printf '%s\n' '[{"saga":"A","start":"Go","timeout":"1m","steps":[{"name":"x","command":"DoX","done":"Done"},{"name":"y","command":"DoY","done":"Y"}]},' \
		'{"saga":"B","start":"Go","timeout":"1m","steps":[{"name":"x","command":"AlsoX","done":"Done"},{"name":"z","command":"DoZ","done":"Z"}]}]' >two.json
	{ ev g1 Go 10:00:00 k; ev d1 Done 10:00:01 k; } >in.ndjson
	run_split brief --saga two.json in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 'k	saga	started					10:00:00
k	command		DoX	x	step	g1	10:00:00
k	saga	started					10:00:00
k	command		AlsoX	x	step	g1	10:00:00
k	command		DoY	y	step	d1	10:00:01
k	command		DoZ	z	step	d1	10:00:01' ] || fail_with "got"
}

@test "evcep --saga: the context merges the payloads shallowly, the later value wins in its first place" {
	{
		ev a1 OrderCreated 10:00:00 o-1 '{"a":1,"b":{"x":1},"c":"s"}'
		ev a2 InventoryReserved 10:00:01 o-1 '{"b":{"y":2},"d":[1, 2]}'
		ev a3 PaymentCharged 10:00:02 o-1 '"not an object"'
		ev a4 ShipmentCreated 10:00:03 o-1 '{"a":null,"e":1.50}'
	} >in.ndjson
	run_split evcep --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$(grep -o '"context":.*' <<<"$output")" = '"context":{"a":1,"b":{"x":1},"c":"s"}}
"context":{"a":1,"b":{"y":2},"c":"s","d":[1,2]}}
"context":{"a":1,"b":{"y":2},"c":"s","d":[1,2]}}
"context":{"a":null,"b":{"y":2},"c":"s","d":[1,2],"e":1.50}}' ] || fail_with "got"
}

@test "evcep --saga with -p patterns: one stream of records, saga records before pattern records of one event" {
	{
		ev a1 OrderCreated 10:00:00 o-1
		ev a2 InventoryReserved 10:00:01 o-1
		ev a3 PaymentFailed 10:00:02 o-1
	} >in.ndjson
	run_split evcep --ids --key-field metadata.correlation_id -p 'fail: OrderCreated -> PaymentFailed within 1m' \
		-p 'alert: PaymentFailed => ops.Page' --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"record":"saga","saga":"CreateOrder","key":"o-1","status":"started","at":"2026-12-01T10:00:00.000000Z","started_at":"2026-12-01T10:00:00.000000Z","steps_completed":[],"failed_step":null,"events":["a1"]}
{"record":"command","saga":"CreateOrder","key":"o-1","command":"ReserveInventory","step":"reserve","kind":"step","trigger_event":"a1","at":"2026-12-01T10:00:00.000000Z","context":{}}
{"record":"command","saga":"CreateOrder","key":"o-1","command":"ChargePayment","step":"charge","kind":"step","trigger_event":"a2","at":"2026-12-01T10:00:01.000000Z","context":{}}
{"record":"command","saga":"CreateOrder","key":"o-1","command":"ReleaseInventory","step":"reserve","kind":"compensation","trigger_event":"a3","at":"2026-12-01T10:00:02.000000Z","context":{}}
{"record":"saga","saga":"CreateOrder","key":"o-1","status":"failed","at":"2026-12-01T10:00:02.000000Z","started_at":"2026-12-01T10:00:00.000000Z","steps_completed":["reserve"],"failed_step":"charge","events":["a1","a2","a3"]}
{"pattern":"fail","key":"o-1","start":"2026-12-01T10:00:00.000000Z","end":"2026-12-01T10:00:02.000000Z","events":["a1","a3"]}
{"action":"ops.Page","policy":"alert","trigger_event":"a3","key":"o-1","context":{"start":"2026-12-01T10:00:02.000000Z","end":"2026-12-01T10:00:02.000000Z","events":["a3"]}}' ] || fail_with "got"
}

@test "evcep --saga reads several logs merged by event time" {
	ev a1 OrderCreated 10:00:00 o-1 >orders.ndjson
	ev a3 OrderCreated 10:06:00 o-2 >>orders.ndjson
	ev a2 InventoryReserved 10:00:01 o-1 >inventory.ndjson
	run_split brief --saga "$ORDER" orders.ndjson inventory.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 'o-1	saga	started					10:00:00
o-1	command		ReserveInventory	reserve	step	a1	10:00:00
o-1	command		ChargePayment	charge	step	a2	10:00:01
o-1	command		ReleaseInventory	reserve	compensation		10:05:00
o-1	saga	timed_out					10:05:00
o-2	saga	started					10:06:00
o-2	command		ReserveInventory	reserve	step	a3	10:06:00' ] || fail_with "got"
}

@test "evcep --correlation-field and EV_CORRELATION_FIELD set the sagas' default key" {
	printf '{"saga":"S","timeout":"1m","steps":[{"name":"a","done":"A"},{"name":"b","command":"DoB","done":"B"}]}\n' >s.json
	printf '{"event_id":1,"event_type":"A","timestamp":"2026-12-01T10:00:00Z","cid":"c-1"}\n' >in.ndjson
	run_split brief --correlation-field cid --saga s.json in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 'c-1	saga	started					10:00:00
c-1	command		DoB	b	step	1	10:00:00' ] || fail_with "got"
	EV_CORRELATION_FIELD=cid run_split brief --saga s.json in.ndjson
	[ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 2 ] || fail_with "env"
}

# ---- --partials, --stats, --max-partials, -e ---------------------------------------

@test "evcep --saga --partials --stats: running sagas at end of input and one count record per saga type" {
	{
		ev a1 OrderCreated 10:00:00 A
		ev b1 OrderCreated 10:00:01 B
		ev b2 InventoryReserved 10:00:02 B '{"r":1}'
		ev c1 OrderCreated 10:00:03 C
		ev c2 InventoryReservationFailed 10:00:04 C
	} >in.ndjson
	run_split evcep --partials --stats --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$(tail -n 3 <<<"$output")" = '{"record":"saga","saga":"CreateOrder","key":"A","status":"running","at":"2026-12-01T10:00:00.000000Z","started_at":"2026-12-01T10:00:00.000000Z","steps_completed":[],"failed_step":null,"events":["a1"]}
{"record":"saga","saga":"CreateOrder","key":"B","status":"running","at":"2026-12-01T10:00:02.000000Z","started_at":"2026-12-01T10:00:01.000000Z","steps_completed":["reserve"],"failed_step":null,"events":["b1","b2"]}
{"record":"stats","saga":"CreateOrder","started":3,"completed":0,"failed":1,"timed_out":0,"running":2}' ] || fail_with "got"
}

@test "evcep --saga --max-partials caps the running sagas: the earliest deadline is dropped, listed as overflow, status 3" {
	{
		ev a1 OrderCreated 10:00:00 A
		ev b1 OrderCreated 10:00:01 B
		ev c1 OrderCreated 10:00:02 C
		ev a2 InventoryReserved 10:00:03 A
	} >in.ndjson
	run_split brief --max-partials 2 --partials --stats --saga "$ORDER" in.ndjson
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$output" = 'A	saga	started					10:00:00
A	command		ReserveInventory	reserve	step	a1	10:00:00
B	saga	started					10:00:01
B	command		ReserveInventory	reserve	step	b1	10:00:01
C	saga	started					10:00:02
C	command		ReserveInventory	reserve	step	c1	10:00:02
A	saga	overflow					10:00:02
B	saga	running					10:00:01
C	saga	running					10:00:02
	stats						' ] || fail_with "got"
	[ "$stderr" = 'evcep: in.ndjson:4: warning: event "a2" (InventoryReserved) fits no running saga: no CreateOrder saga is running (key "A")
evcep: 1 running saga dropped by --max-partials 2' ] || fail_with "stderr"
	grep -q '"started":3,"completed":0,"failed":0,"timed_out":0,"running":2' full || fail_with "stats"
}

@test "evcep --saga -e exits 1 when no saga record was written, 0 when one was" {
	ev z1 Tick 10:00:00 k >in.ndjson
	run_split evcep -e --saga "$ORDER" in.ndjson
	[ "$status" -eq 1 ] && [ "$output" = "" ] && [ "$stderr" = "" ] || fail_with "nothing"
	ev a1 OrderCreated 10:00:00 k >in.ndjson
	run_split evcep -e --saga "$ORDER" in.ndjson
	[ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 2 ] || fail_with "something"
}

# ---- --state ------------------------------------------------------------------

state_input() {
	ev a1 OrderCreated 10:00:00 A '{"n":1}'
	ev b1 OrderCreated 10:00:01 B
	ev a2 InventoryReserved 10:00:02 A '{"r":"x"}'
	ev c1 OrderCreated 10:00:03 C
	ev b2 InventoryReservationFailed 10:00:04 B
	ev a3 PaymentCharged 10:00:05 A
	ev c2 InventoryReserved 10:00:06 C
	ev a4 ShipmentCreated 10:00:07 A
	ev a4 ShipmentCreated 10:00:08 A
	ev a5 ConfirmationSent 10:00:09 A
	ev d1 OrderCreated 10:04:00 D
	ev z1 Tick 10:05:04 -
	ev d2 InventoryReserved 10:05:05 D
	ev z2 Tick 10:09:10 -
}

@test "evcep --saga --state: a run split at any line gives the same records as one run" {
	state_input >all.ndjson
	evcep --stats --saga "$ORDER" all.ndjson | grep -v '"stats"' >want
	[ "$(wc -l <want)" -eq 19 ] || fail_with "want"
	n=$(wc -l <all.ndjson)
	for k in $(seq 1 $((n - 1))); do
		rm -f st grow.ndjson
		head -n "$k" all.ndjson >grow.ndjson
		evcep --state st --saga "$ORDER" grow.ndjson >split.out 2>split.err
		tail -n +$((k + 1)) all.ndjson >>grow.ndjson
		evcep --state st --saga "$ORDER" grow.ndjson >>split.out 2>>split.err
		diff want split.out >/dev/null || { status=$k; output=$(diff want split.out); fail_with "split after line $k"; }
	done
	[ "$(grep -c . split.err)" -eq 1 ] || fail_with "one warning (the duplicate)"
	# with a lateness, out of order: held events carry over in the state too
	{ sed -n 1,3p all.ndjson; sed -n 5p all.ndjson; sed -n 4p all.ndjson; sed -n '6,$p' all.ndjson; } >late.ndjson
	evcep --lateness 2s --saga "$ORDER" late.ndjson 2>/dev/null | cmp -s - want || fail_with "lateness: not the sorted records"
	for k in $(seq 1 $((n - 1))); do
		rm -f st grow.ndjson
		head -n "$k" late.ndjson >grow.ndjson
		evcep --lateness 2s --state st --saga "$ORDER" grow.ndjson >split.out 2>/dev/null
		tail -n +$((k + 1)) late.ndjson >>grow.ndjson
		evcep --lateness 2s --state st --saga "$ORDER" grow.ndjson >>split.out 2>/dev/null
		cmp -s want split.out || { status=$k; output=$(diff want split.out); fail_with "lateness: split after line $k"; }
	done
}

@test "evcep --saga --state --flush ends the patterns' stream, not the running sagas" {
	state_input | head -n 3 >grow.ndjson
	evcep --state st --flush --saga "$ORDER" grow.ndjson >/dev/null
	state_input | sed -n 4,6p >>grow.ndjson
	run_split brief --state st --saga "$ORDER" grow.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 'C	saga	started					10:00:03
C	command		ReserveInventory	reserve	step	c1	10:00:03
B	saga	failed					10:00:04
A	command		CreateShipment	ship	step	a3	10:00:05' ] || fail_with "got"
}

@test "evcep --saga --state: a split between a step's command and its done event, three runs, counts accumulate" {
	state_input >all.ndjson
	head -n 2 all.ndjson >grow.ndjson
	run_split evcep --state st --stats --saga "$ORDER" grow.ndjson
	[ "$status" -eq 0 ] || fail_with "status"
	[ "${lines[4]}" = '{"record":"stats","saga":"CreateOrder","started":2,"completed":0,"failed":0,"timed_out":0,"running":2}' ] || fail_with "first"
	sed -n 3,5p all.ndjson >>grow.ndjson
	run_split brief --state st --partials --saga "$ORDER" grow.ndjson
	[ "$output" = 'A	command		ChargePayment	charge	step	a2	10:00:02
C	saga	started					10:00:03
C	command		ReserveInventory	reserve	step	c1	10:00:03
B	saga	failed					10:00:04
A	saga	running					10:00:02
C	saga	running					10:00:03' ] || fail_with "second"
	tail -n +6 all.ndjson >>grow.ndjson
	run_split evcep --state st --stats --saga "$ORDER" grow.ndjson
	[ "$(tail -n 1 <<<"$output")" = '{"record":"stats","saga":"CreateOrder","started":4,"completed":1,"failed":1,"timed_out":2,"running":0}' ] || fail_with "third"
}

@test "evcep --saga --state refuses a state saved with another saga file" {
	state_input | head -n 2 >in.ndjson
	evcep --state st --saga "$ORDER" in.ndjson >/dev/null
	run_split evcep --state st --saga "$FS/nostart.json" in.ndjson
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "status"
	[ "$stderr" = "evcep: --state st: saved by a run with other patterns or options" ] || fail_with "stderr"
}

@test "evcep --help lists the saga options and evcep(1) documents each" {
	run evcep --help
	for o in --saga --stats --correlation-field; do
		help_has "$o" || fail_with "$o missing from --help"
		grep -q "^\.It Fl -${o#--}" "$BATS_TEST_DIRNAME/../man/evcep.1" || fail_with "$o missing from the man page"
	done
	grep -q '^\.Sh SAGAS' "$BATS_TEST_DIRNAME/../man/evcep.1" || fail_with "SAGAS"
}

# ---- bad saga files ---------------------------------------------------------------

@test "evcep --saga: a file that is not JSON is exit 2 naming the file, line and column" {
	printf '{"saga": "S",\n  "steps": [}\n' >bad.json
	run_split evcep --saga bad.json /dev/null
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "status"
	[ "$stderr" = "evcep: --saga bad.json:2:13: unexpected token near '}'" ] || fail_with "stderr"
}

@test "evcep --saga: incomplete or wrong saga files are exit 2 saying what is wrong" {
	check() { # JSON MESSAGE
		printf '%s\n' "$1" >bad.json
		run_split evcep --saga bad.json /dev/null
		[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "status for $1"
		[ "$stderr" = "evcep: --saga bad.json: $2" ] || fail_with "stderr for $1"
	}
	check '{"saga":"S","timeout":"1m"}' 'saga 1 (S): "steps" is required'
	check '{"saga":"S","timeout":"1m","steps":[{"name":"a","command":"DoA"}]}' 'saga 1 (S): step 1 (a): "done" is required'
	check '{"saga":"S","timeout":"5 minutes","steps":[{"name":"a","done":"A"}]}' "saga 1 (S): \"timeout\": bad duration '5 minutes' (expected a positive duration such as 90s, 5m, 1h30m)"
	check '{"saga":"S","steps":[{"name":"a","done":"A"}]}' 'saga 1 (S): "timeout" is required'
	check '[{"saga":"S","timeout":"1m","steps":[{"name":"a","done":"A"}]},{"saga":"S","timeout":"1m","steps":[{"name":"b","done":"B"}]}]' 'saga 2 (S): two sagas are named "S"'
	check '{"timeout":"1m","steps":[{"name":"a","done":"A"}]}' 'saga 1: "saga" is required'
	check '{"saga":"S","timeout":"1m","steps":[{"name":"a","done":"A"},{"name":"a","done":"B"}]}' 'saga 1 (S): step 2: two steps are named "a"'
	check '{"saga":"S","timeout":"1m","stpes":[]}' 'saga 1 (S): unknown member "stpes" (expected saga, start, key, timeout, on_timeout, steps)'
	check '{"saga":"S","timeout":"1m","on_timeout":"retry","steps":[{"name":"a","done":"A"}]}' "saga 1 (S): \"on_timeout\": expected compensate or report, not 'retry'"
	check '{"saga":"S","timeout":"1m","key":"items[].id","steps":[{"name":"a","done":"A"}]}' "saga 1 (S): \"key\": '[]' is not allowed (one value per event)"
	check '{"saga":"S","timeout":"1m","steps":[]}' 'saga 1 (S): "steps": expected a non-empty array of steps'
	check '{"saga":"S","timeout":"1m","steps":[{"name":"a","done":7}]}' 'saga 1 (S): step 1 (a): "done": expected a non-empty string'
	check '[]' 'no sagas in the array'
	printf '{"saga":"S","timeout":"1m","steps":[{"name":"a","done":"A"}]} {}\n' >bad.json
	run_split evcep --saga bad.json /dev/null
	[ "$status" -eq 2 ] && [ "$stderr" = "evcep: --saga bad.json:1:63: end of file expected near '{'" ] || fail_with "trailing"
}

@test "evcep --saga: two files may not name one saga twice; a missing file is exit 2" {
	run_split evcep --saga "$ORDER" --saga "$ORDER" /dev/null
	[ "$status" -eq 2 ] && [ "$stderr" = "evcep: --saga $ORDER: saga 1 (CreateOrder): two sagas are named \"CreateOrder\"" ] || fail_with "twice"
	run_split evcep --saga nosuch.json /dev/null
	[ "$status" -eq 2 ] && [ "$stderr" = "evcep: --saga nosuch.json: No such file or directory" ] || fail_with "missing"
}

@test "evcep: --stats needs --saga; with neither -p, -f nor --saga there is nothing to do" {
	run_split evcep --stats -p 'x: A' /dev/null
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evcep: --stats needs --saga" ] || fail_with "stats"
	run_split evcep /dev/null
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evcep: no pattern: give -p TEXT, -f FILE or --saga FILE" ] || fail_with "none"
}

# ---- memory ------------------------------------------------------------------------

@test "evcep --saga: finished sagas are freed at once, so memory stays flat over 4x more sagas" {
	gen() { # N: N sagas of 3 events, 10 s apart, each done within 3 s
		awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) { t = i * 10
			printf "{\"event_id\":\"a%d\",\"event_type\":\"OrderCreated\",\"timestamp\":%d,\"metadata\":{\"correlation_id\":\"o-%d\"},\"payload\":{\"pad\":\"%0200d\"}}\n", i, 1700000000 + t, i, 0
			printf "{\"event_id\":\"b%d\",\"event_type\":\"InventoryReserved\",\"timestamp\":%d,\"metadata\":{\"correlation_id\":\"o-%d\"}}\n", i, 1700000001 + t, i
			printf "{\"event_id\":\"c%d\",\"event_type\":\"PaymentFailed\",\"timestamp\":%d,\"metadata\":{\"correlation_id\":\"o-%d\"}}\n", i, 1700000002 + t, i } }'
	}
	gen 20000 >small.ndjson
	gen 80000 >big.ndjson
	# (a sanitizer build keeps freed memory in quarantine: none here)
	rss() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" /usr/bin/time -f '%M' \
		evcep --stats --saga "$ORDER" "$1" 2>&1 >/dev/null | tail -n 1; }
	small=$(rss small.ndjson)
	big=$(rss big.ndjson)
	[ "$small" -gt 0 ] && [ "$big" -lt $((small + small / 4)) ] || { output="small=$small big=$big"; fail_with "grew"; }
	[ "$(evcep --stats --saga "$ORDER" big.ndjson | tail -n 1)" = '{"record":"stats","saga":"CreateOrder","started":80000,"completed":0,"failed":80000,"timed_out":0,"running":0}' ] || fail_with "stats"
}

# ---- the demo ----------------------------------------------------------------------

@test "make demo's saga steps show one saga completed, one failed at payment, one timed out" {
	run_split sh "$BATS_TEST_DIRNAME/../examples/demo-evcep.sh"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	grep -Eq '^saga +o-1001 +completed +\["reserve","charge","ship","confirm"\]' <<<"$output" || fail_with "completed"
	grep -Eq '^saga +o-1002 +failed +\["reserve"\] +charge' <<<"$output" || fail_with "failed"
	grep -Eq '^saga +o-1003 +timed_out +\["reserve"\]' <<<"$output" || fail_with "timed out"
	grep -Eq '^o-1003 +command +null +ReleaseInventory +compensation +2026-12-01T10:07:00.000000Z' <<<"$output" || fail_with "compensation at the deadline"
	grep -Eq '^stats( +null){4}( +[0-9]+){5}$' <<<"$output" || fail_with "stats"
}
