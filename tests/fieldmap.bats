#!/usr/bin/env bats
# The correlation and causation fields of the envelope mapping
# (--correlation-field, --causation-field, EV_CORRELATION_FIELD,
# EV_CAUSATION_FIELD; options win) and --payload-field . (the whole event).

load helper

setup() {
	D="$BATS_TEST_TMPDIR"
	# Azure-style: top-level ids
	printf '%s\n' \
		'{"event_id":"a","correlation_id":"c1","operation":"write"}' \
		'{"event_id":"b","causation_id":"a","correlation_id":"c1"}' \
		'{"event_id":"c","causation_id":"b","correlation_id":"c2"}' \
		'{"event_id":"d","causation_id":"x","metadata":{"correlation_id":"c1","causation_id":"a"}}' > "$D/az.ndjson"
}

@test "evquery --correlation reads the field --correlation-field maps" {
	run_split evquery --correlation c1 --correlation-field correlation_id -s @id "$D/az.ndjson"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$output" = $'{"event_id":"a"}\n{"event_id":"b"}' ] || fail_with mapped
	# the default is metadata.correlation_id
	run_split evquery --correlation c1 -s @id "$D/az.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = '{"event_id":"d"}' ] || fail_with default
}

@test "evquery --trace follows the causation field; the option wins over EV_CAUSATION_FIELD" {
	run_split env EV_CAUSATION_FIELD=causation_id evquery --trace a -s @id "$D/az.ndjson"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$output" = $'{"event_id":"a"}\n{"event_id":"b"}\n{"event_id":"c"}' ] || fail_with env
	run_split env EV_CAUSATION_FIELD=causation_id evquery --causation-field metadata.causation_id --trace a -s @id "$D/az.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = $'{"event_id":"a"}\n{"event_id":"d"}' ] || fail_with option
	run_split env EV_CORRELATION_FIELD=correlation_id evquery --correlation c2 -c "$D/az.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = 1 ] || fail_with corr-env
}

@test "a mapped correlation or causation field that matched no event is warned about; a bad one is a usage error" {
	run_split evquery --causation-field causedBy --trace a -c "$D/az.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = 1 ]
	[ "$stderr" = "evquery: warning: path 'causedBy' (--causation-field) matched no event" ] || fail_with warn
	run_split evquery --correlation-field 'a[' -c "$D/az.ndjson"
	[ "$status" -eq 2 ] && [ -z "$output" ]
	case "$stderr" in "evquery: --correlation-field: "*) ;; *) fail_with bad ;; esac
	run_split env EV_CORRELATION_FIELD='a[' evquery -c "$D/az.ndjson"
	[ "$status" -eq 2 ] && [ -z "$output" ]
	case "$stderr" in "evquery: EV_CORRELATION_FIELD: "*) ;; *) fail_with badenv ;; esac
}

@test "evwrite adds the correlation and causation ids where they are mapped" {
	e='{"aggregate_id":"a","event_type":"T","payload":{},"event_id":"x","timestamp":"2026-01-01T00:00:00Z"}'
	run_split sh -c "echo '$e' | evwrite --dry-run --correlation-field correlation_id --causation-field causation_id --correlation-id C --causation-id K"
	[ "$status" -eq 0 ]
	[ "$output" = '{"aggregate_id":"a","event_type":"T","payload":{},"event_id":"x","timestamp":"2026-01-01T00:00:00Z","version":1,"seq":1,"correlation_id":"C","causation_id":"K"}' ] || fail_with top
	run_split sh -c "echo '$e' | evwrite --dry-run --correlation-field metadata.corr --correlation-id C --source s"
	[ "$status" -eq 0 ]
	[ "$output" = '{"aggregate_id":"a","event_type":"T","payload":{},"event_id":"x","timestamp":"2026-01-01T00:00:00Z","version":1,"seq":1,"metadata":{"source":"s","corr":"C"}}' ] || fail_with meta
	# a present id is kept
	run_split sh -c "echo '{\"aggregate_id\":\"a\",\"event_type\":\"T\",\"payload\":{},\"event_id\":\"x\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"correlation_id\":7}' | EV_CORRELATION_FIELD=correlation_id evwrite --dry-run --correlation-id C"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$output" = '{"aggregate_id":"a","event_type":"T","payload":{},"event_id":"x","timestamp":"2026-01-01T00:00:00Z","correlation_id":7,"version":1,"seq":1}' ] || fail_with kept
}

@test "evwrite refuses a correlation mapping it cannot add to; --message reads it at the mapped path" {
	run_split evwrite --dry-run --correlation-field trace.corr /dev/null
	[ "$status" -eq 2 ] && [ -z "$output" ]
	[ "${stderr%%$'\n'*}" = "evwrite: --correlation-field 'trace.corr': evwrite adds it as a top-level member or as metadata.NAME" ] || fail_with refuse
	run_split sh -c "echo '{\"event_id\":\"m1\",\"event_type\":\"T\",\"payload\":{},\"timestamp\":\"2026-01-01T00:00:00Z\",\"trace\":{\"corr\":\"R\"}}' | evwrite --message --correlation-field trace.corr"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$output" = '{"message_id":"m1","topic":"T","payload":{},"headers":{"content_type":"application/json","timestamp":"2026-01-01T00:00:00.000000Z","source":null,"correlation_id":"R","priority":0,"ttl":null},"routing":{"key":"T","exchange":null,"partition_key":null,"retry_count":0,"max_retries":3}}' ] || fail_with message
}

@test "evwrite --commands reads and writes the ids where they are mapped" {
	echo '{"CreateOrder":"OrderCreated"}' > "$D/map.json"
	echo '{"command_type":"CreateOrder","aggregate_id":"o1","payload":{"x":1},"command_id":"c1","correlation_id":"R","metadata":{"user":"u"}}' > "$D/cmd.ndjson"
	run_split evwrite --dry-run --now 2026-01-01 --commands "$D/map.json" --correlation-field correlation_id --causation-field causation_id "$D/cmd.ndjson"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$output" = '{"aggregate_id":"o1","event_type":"OrderCreated","payload":{"x":1},"metadata":{"user":"u"},"correlation_id":"R","causation_id":"c1","event_id":"3480c0e3-ac3b-5713-96f5-eb4f258211f4","timestamp":"2026-01-01T00:00:00.000000Z","version":1,"seq":1}' ] || fail_with top
	run_split evwrite --dry-run --now 2026-01-01 --commands "$D/map.json" --correlation-id K --causation-field metadata.cause "$D/cmd.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = '{"aggregate_id":"o1","event_type":"OrderCreated","payload":{"x":1},"metadata":{"user":"u","correlation_id":"K","cause":"c1"},"event_id":"3480c0e3-ac3b-5713-96f5-eb4f258211f4","timestamp":"2026-01-01T00:00:00.000000Z","version":1,"seq":1}' ] || fail_with meta
}

@test "--payload-field . makes the whole event the payload in expressions and columns" {
	printf '%s\n' '{"host":"h1","cpu":3}' '{"host":"h2","cpu":5}' > "$D/top"
	run_split evquery --payload-field . -w '@payload.cpu > 3' -s 'h=host' "$D/top"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$output" = '{"h":"h2"}' ] || fail_with expr
	run_split env EV_PAYLOAD_FIELD=. evquery -s @payload -n 1 "$D/top"
	[ "$status" -eq 0 ] && [ "$output" = '{".":{"host":"h1","cpu":3}}' ] || fail_with column
	# "." is the whole event only as the payload field
	run_split evquery --key-field . -c "$D/top"
	[ "$status" -eq 2 ]
	case "${stderr%%$'\n'*}" in "evquery: --key-field: bad path '.'"*) ;; *) fail_with key ;; esac
}
