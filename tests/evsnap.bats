#!/usr/bin/env bats
# evsnap: snapshots (the replay row plus the rule-set hash), --every,
# --snapshots, -o; compaction of a store, its invariants and its crash
# safety, and compaction next to writers.

load helper

FX="$BATS_TEST_DIRNAME/fixtures/evsnap"
EV="$BATS_TEST_DIRNAME/fixtures/evreplay/events.ndjson"
NOW=2026-11-01T05:00:00Z

# gen_store N FILE: N events over 97 aggregates, one second apart from
# 2026-11-01T00:00:01Z, with per-aggregate versions and a global seq.
gen_store() {
	awk -v N="$1" 'BEGIN {
		for (i = 1; i <= N; i++) {
			a = i % 97; v[a]++
			t = v[a] == 1 ? "ThingCreated" : (i % 13 == 0 ? "ThingDeleted" : "ThingChanged")
			printf "{\"event_id\":\"e%d\",\"aggregate_id\":\"agg-%d\",\"event_type\":\"%s\",\"payload\":{\"n\":%d,\"x\":\"v%d\"},\"timestamp\":\"2026-11-01T%02d:%02d:%02dZ\",\"version\":%d,\"seq\":%d}\n",
				i, a, t, i, i % 5, int(i / 3600), int(i % 3600 / 60), i % 60, v[a], i
		}
	}' > "$2"
}

# replay_of STORE SNAPS: what a reader rebuilds from the store (and the
# snapshots, when they exist)
replay_of() {
	if [ -f "$2" ]; then
		evreplay --snapshots "$2" "$1"
	else
		evreplay "$1"
	fi
}

compact() {
	evsnap --compact --store "$T/store.ndjson" --archive "$T/arch" --snapshots "$T/snaps.ndjson" \
		--now "$NOW" "$@"
}

setup() {
	T="$BATS_TEST_TMPDIR"
}

@test "evsnap writes the latest snapshot per aggregate: the replay row plus the rules hash" {
	run evsnap "$EV"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	# default rules: FNV-1a 64 of "*Created\tcreate\n*Deleted\tdelete\n*\tmerge\n"
	[ "${lines[0]}" = '{"aggregate_id":"order-1","version":3,"state":{"customer":"c1","total":1.05e1,"address":{"city":"Paris"},"paid":true},"events_replayed":3,"first_at":"2026-11-01T10:00:00.000000Z","last_at":"2026-11-01T10:06:00.000000Z","last_event_id":"e7","rules":"0e6ba35201d9a946"}' ] || fail_with "row"
	diff <(evsnap "$EV" | sed 's/,"rules":"[0-9a-f]*"}$/}/') <(evreplay "$EV")
}

@test "evsnap's rules hash changes with the rules and their order, not with spelling of JSON" {
	h() { evsnap "$@" "$EV" | head -n 1 | sed 's/.*"rules":"\([0-9a-f]*\)"}$/\1/'; }
	d=$(h)
	a=$(h --rule 'X=set:a={"b": 1}')
	b=$(h --rule 'X=set:a={"b":1}')
	c=$(h --rule 'Y=ignore' --rule 'X=set:a={"b":1}')
	e=$(h --rule 'X=set:a={"b":1}' --rule 'Y=ignore')
	[ "$a" = "$b" ]
	[ "$a" != "$d" ]
	[ "$c" != "$e" ]
	[ "${#d}" -eq 16 ]
}

@test "evsnap --every N snapshots an aggregate each time it has N more events" {
	gen_store 400 "$T/s"
	run evsnap --every 5 "$T/s"
	[ "$status" -eq 0 ]
	# agg-1 .. agg-12 have 5 events (seq a, a+97, ... a+388), the others 4
	[ "${#lines[@]}" -eq 12 ]
	[ "$(printf '%s\n' "$output" | grep -c '"version":5,')" -eq 12 ]
	[[ "${lines[0]}" == '{"aggregate_id":"agg-1","version":5,'* ]]
	run evsnap --every 1 "$EV"
	[ "${#lines[@]}" -eq 8 ]
	run evsnap --every 2 "$EV"
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == '{"aggregate_id":"order-1","version":2,'* ]]
	[[ "${lines[1]}" == '{"aggregate_id":"order-2","version":2,'* ]]
}

@test "evsnap --snapshots continues: snapshots of a prefix, then the rest, equal snapshots of all" {
	head -n 4 "$EV" | evsnap > "$T/s1"
	run evsnap --snapshots "$T/s1" "$EV"
	[ "$output" = "$(evsnap "$EV")" ]
	tail -n +5 "$EV" > "$T/rest"
	run evsnap --snapshots "$T/s1" "$T/rest"
	[ "$output" = "$(evsnap "$EV")" ]
	# a missing snapshots file is an empty one
	run evsnap --snapshots "$T/none" "$EV"
	[ "$output" = "$(evsnap "$EV")" ]
}

@test "evsnap --every with --snapshots passes the earlier snapshots through first" {
	head -n 4 "$EV" | evsnap --every 1 > "$T/s1"
	tail -n +5 "$EV" | evsnap --every 1 --snapshots "$T/s1" -o "$T/s1"
	[ "$(wc -l < "$T/s1")" -eq 8 ]
	run evreplay --snapshots "$T/s1" /dev/null
	[ "$(printf '%s\n' "$output" | sort)" = "$(evreplay "$EV" | sort)" ]
}

@test "evsnap -o writes the file atomically and leaves no temporary file" {
	printf 'old\n' > "$T/out"
	run evsnap -o "$T/out" "$EV"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$(cat "$T/out")" = "$(evsnap "$EV")" ]
	[ "$(ls -A "$T" | grep -c tmp)" -eq 0 ]
}

@test "evsnap -o into a place that cannot be written fails with status 5" {
	printf 'x\n' > "$T/file"
	run_split evsnap -o "$T/file/out" "$EV"
	[ "$status" -eq 5 ]
	[ "$output" = "" ]
	[ "$stderr" = "evsnap: -o $T/file/out: Not a directory" ] || fail_with "stderr"
	run_split evsnap -o /nonexistent-dir/out "$EV"
	[ "$status" -eq 5 ]
	[ "$stderr" = "evsnap: -o /nonexistent-dir/out: No such file or directory" ] || fail_with "stderr"
}

@test "evsnap -o with an input that cannot be opened writes nothing and exits 2" {
	mkdir "$T/w" && cd "$T/w"
	printf 'old\n' > s.ndjson
	run_split evsnap -o s.ndjson --errors rej.ndjson "$EV" missing.ndjson
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[ "$stderr" = "evsnap: missing.ndjson: No such file or directory
evsnap: nothing written: an input cannot be opened" ] || fail_with "stderr"
	[ "$(cat s.ndjson)" = "old" ]
	[ "$(ls -A)" = "s.ndjson" ] || fail_with "files: $(ls -A)"
	# an absent output stays absent; an unreadable --snapshots is an input too
	mkdir snapdir
	run_split evsnap -o new.ndjson --snapshots snapdir "$EV"
	[ "$status" -eq 2 ]
	[ "$stderr" = "evsnap: snapdir: Is a directory
evsnap: nothing written: an input cannot be opened" ] || fail_with "stderr 2"
	[ ! -e new.ndjson ]
	# to standard output, the other inputs are read
	run_split evsnap missing.ndjson "$EV"
	[ "$status" -eq 2 ]
	[ "$output" = "$(evsnap "$EV")" ]
	[ "$stderr" = "evsnap: missing.ndjson: No such file or directory" ] || fail_with "stderr 3"
}

@test "evsnap -o under a file-size limit exits 5, leaves no temporary file and keeps the old file" {
	mkdir "$T/w" && cd "$T/w"
	gen_store 2000 big.ndjson
	printf 'old\n' > s.ndjson
	run_split bash -c "ulimit -f 16; evsnap --every 1 -o s.ndjson big.ndjson"
	[ "$status" -eq 5 ] || fail_with "status"
	[ "$output" = "" ]
	[ "$stderr" = "evsnap: write error on s.ndjson: File too large" ] || fail_with "stderr"
	[ "$(cat s.ndjson)" = "old" ]
	[ "$(ls -A)" = "$(printf 'big.ndjson\ns.ndjson')" ] || fail_with "files: $(ls -A)"
}

@test "evsnap to a full device: a write error on standard output is status 5" {
	[ -c /dev/full ] || fail_with "this test needs /dev/full (Linux)"
	run_split sh -c "evsnap '$EV' > /dev/full"
	[ "$status" -eq 5 ]
	[ "$stderr" = "evsnap: write error on standard output: No space left on device" ] || fail_with "stderr"
}

@test "evsnap rejects events like evreplay (exit 3) and still snapshots the rest" {
	{ cat "$EV"; echo 'nope'; } > "$T/e"
	run_split evsnap "$T/e"
	[ "$status" -eq 3 ]
	[ "${#lines[@]}" -eq 4 ]
	[[ "$stderr" == "evsnap: $T/e:9: invalid JSON"* ]] || fail_with "stderr"
}

# ---- compaction ------------------------------------------------------------

@test "evsnap --compact: archive files in name order plus the kept store are the original bytes" {
	gen_store 5000 "$T/store.ndjson"
	cp "$T/store.ndjson" "$T/orig"
	before=$(evreplay "$T/orig")
	# cutoff 01:00:00 with --retain 4h: events 1..3599 are older
	run_split compact --retain 4h --batch 1000
	[ "$status" -eq 0 ] || fail_with "compact"
	[ "$stderr" = "" ]
	run ls "$T/arch"
	[ "$output" = "store.ndjson.000000000001-000000001000.ndjson
store.ndjson.000000001001-000000002000.ndjson
store.ndjson.000000002001-000000003000.ndjson
store.ndjson.000000003001-000000003599.ndjson" ] || fail_with "names"
	cat "$T"/arch/* "$T/store.ndjson" | cmp - "$T/orig"
	[ "$(head -c 60 "$T/store.ndjson")" = '{"event_id":"e3600","aggregate_id":"agg-11","event_type":"Th' ]
	[ "$(replay_of "$T/store.ndjson" "$T/snaps.ndjson")" = "$before" ]
	[[ "$(cat "$T/store.ndjson.base")" == '{"last_seq":3599,"versions":[["agg-1",'* ]] || fail_with "base"
}

@test "evsnap --compact twice continues the archive and the snapshots" {
	gen_store 3000 "$T/store.ndjson"
	cp "$T/store.ndjson" "$T/orig"
	before=$(evreplay "$T/orig")
	compact --retain 4h30m --batch 400
	[ "$(replay_of "$T/store.ndjson" "$T/snaps.ndjson")" = "$before" ]
	compact --retain 4h10m --batch 400
	[ "$(replay_of "$T/store.ndjson" "$T/snaps.ndjson")" = "$before" ]
	cat "$T"/arch/* "$T/store.ndjson" | cmp - "$T/orig"
	[ "$(ls "$T/arch" | tail -n 1)" = "store.ndjson.000000002600-000000002999.ndjson" ]
	# nothing old enough: nothing changes
	cp "$T/store.ndjson" "$T/kept"
	compact --retain 1d
	cmp "$T/store.ndjson" "$T/kept"
	# everything
	compact --retain 0
	[ ! -s "$T/store.ndjson" ]
	cat "$T"/arch/* | cmp - "$T/orig"
	[ "$(evreplay --snapshots "$T/snaps.ndjson" "$T/store.ndjson")" = "$before" ]
}

@test "evsnap --compact killed at each step: replay is unchanged and a re-run completes" {
	gen_store 3000 "$T/orig"
	before=$(evreplay "$T/orig")
	for step in batch snapshots base store index; do
		rm -rf "$T/arch" "$T/snaps.ndjson" "$T"/store.ndjson*
		cp "$T/orig" "$T/store.ndjson"
		compact --retain 4h55m --batch 1000   # a first, complete compaction
		run env EVSNAP_CRASH_AT=$step evsnap --compact --store "$T/store.ndjson" --archive "$T/arch" \
			--snapshots "$T/snaps.ndjson" --now "$NOW" --retain 4h20m --batch 500
		[ "$status" -eq 137 ] || fail_with "not killed at $step"
		[ "$(replay_of "$T/store.ndjson" "$T/snaps.ndjson")" = "$before" ] || fail_with "replay after a crash at $step"
		compact --retain 4h10m --batch 500
		cat "$T"/arch/* "$T/store.ndjson" | cmp - "$T/orig" || fail_with "bytes after a crash at $step"
		[ "$(replay_of "$T/store.ndjson" "$T/snaps.ndjson")" = "$before" ] || fail_with "replay after re-run ($step)"
		[ "$(ls -A "$T/arch" | grep -c tmp)" -eq 0 ]
	done
}

@test "evsnap --compact killed at random points (loop): replay never changes and it converges" {
	gen_store 20000 "$T/orig"
	cp "$T/orig" "$T/store.ndjson"
	before=$(evreplay "$T/orig")
	done_ok=0
	for i in $(seq 1 25); do
		delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", r % 300 / 1000 }')
		set +e
		timeout -s KILL "$delay" evsnap --compact --store "$T/store.ndjson" --archive "$T/arch" \
			--snapshots "$T/snaps.ndjson" --now "$NOW" --retain 1h --batch 50 2>/dev/null
		rc=$?
		set -e
		[ "$(replay_of "$T/store.ndjson" "$T/snaps.ndjson")" = "$before" ] || fail_with "replay after kill $i ($delay s, rc $rc)"
		if [ "$rc" -eq 0 ]; then done_ok=1; break; fi
	done
	[ "$done_ok" -eq 1 ] || compact --retain 1h --batch 50
	cat "$T"/arch/* "$T/store.ndjson" | cmp - "$T/orig"
	[ "$(replay_of "$T/store.ndjson" "$T/snaps.ndjson")" = "$before" ]
}

@test "evsnap --compact refuses a torn store (status 5) and changes nothing" {
	gen_store 100 "$T/store.ndjson"
	printf '{"event_id":"torn"' >> "$T/store.ndjson"
	cp "$T/store.ndjson" "$T/orig"
	run_split compact --retain 0
	[ "$status" -eq 5 ]
	[[ "$stderr" == "evsnap: $T/store.ndjson: torn last line at byte "* ]] || fail_with "stderr"
	cmp "$T/store.ndjson" "$T/orig"
	[ ! -e "$T/snaps.ndjson" ]
}

@test "evsnap --compact waits for the store's lock, then gives up with status 4" {
	gen_store 100 "$T/store.ndjson"
	cp "$T/store.ndjson" "$T/orig"
	flock "$T/store.ndjson.lock" sleep 3 &
	sleep 0.5
	run_split compact --retain 0 --lock-timeout 200ms
	wait
	[ "$status" -eq 4 ] || fail_with "status"
	[ "$stderr" = "evsnap: $T/store.ndjson: lock not had within --lock-timeout" ] || fail_with "stderr"
	cmp "$T/store.ndjson" "$T/orig"
}

@test "evsnap --compact refuses snapshots made under other rules" {
	gen_store 100 "$T/store.ndjson"
	evsnap --rule 'X=ignore' "$T/store.ndjson" > "$T/snaps.ndjson"
	cp "$T/store.ndjson" "$T/orig"
	run_split compact --retain 0
	[ "$status" -eq 2 ]
	[ "$stderr" = "evsnap: $T/snaps.ndjson: 97 snapshots were taken under other rules; compacting would lose them" ] || fail_with "stderr"
	cmp "$T/store.ndjson" "$T/orig"
}

@test "evsnap --compact refuses a snapshots file with lines that are not snapshots" {
	gen_store 100 "$T/store.ndjson"
	evsnap "$T/store.ndjson" > "$T/snaps.ndjson"
	echo '{"not":"a snapshot"}' >> "$T/snaps.ndjson"
	cp "$T/store.ndjson" "$T/orig"
	run_split compact --retain 0
	[ "$status" -eq 2 ]
	[ "$stderr" = "evsnap: $T/snaps.ndjson:98: not a snapshot: missing or bad 'aggregate_id'
evsnap: $T/snaps.ndjson: lines that are not snapshots; compacting would lose them" ] || fail_with "stderr"
	cmp "$T/store.ndjson" "$T/orig"
}

@test "evsnap --compact stops before an event without a time or a version" {
	gen_store 10 "$T/store.ndjson"
	sed -i '6s/,"version":[0-9]*//' "$T/store.ndjson"
	cp "$T/store.ndjson" "$T/orig"
	run_split compact --retain 0
	[ "$status" -eq 0 ]
	[ "$stderr" = "evsnap: $T/store.ndjson:6: no integer version field 'version'; compaction stops before it" ] || fail_with "stderr"
	[ "$(cat "$T"/arch/*)" = "$(head -n 5 "$T/orig")" ]
	[ "$(cat "$T/store.ndjson")" = "$(tail -n 5 "$T/orig")" ]
}

@test "evsnap --compact needs --store, --retain, --archive and --snapshots" {
	run_split evsnap --compact --store "$T/s" --retain 1d --archive "$T/a"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evsnap: --compact needs --snapshots" ]
	run_split evsnap --compact --store "$T/s" --retain 1x --archive "$T/a" --snapshots "$T/n"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "evsnap: --retain: bad duration '1x'" ]
	run_split evsnap --store "$T/s" "$EV"
	[ "$status" -eq 2 ]
}

@test "evsnap --compact of a missing store exits 2 and creates nothing" {
	mkdir "$T/w" && cd "$T/w"
	run_split evsnap --compact --store typo.ndjson --retain 1d --archive arch --snapshots snaps.ndjson
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[ "$stderr" = "evsnap: --store typo.ndjson: No such file or directory" ] || fail_with "stderr"
	[ "$(ls -A)" = "" ] || fail_with "created: $(ls -A)"
	# an existing snapshots file and archive directory are left alone
	mkdir arch
	printf 'old\n' > snaps.ndjson
	run_split evsnap --compact --store typo.ndjson --retain 1d --archive arch --snapshots snaps.ndjson
	[ "$status" -eq 2 ]
	[ "$(ls -A)" = "$(printf 'arch\nsnaps.ndjson')" ]
	[ "$(ls -A arch)" = "" ]
	[ "$(cat snaps.ndjson)" = "old" ]
}

@test "evsnap --compact under a file-size limit exits 5, leaves no temporary file and keeps the old files" {
	gen_store 5000 "$T/store.ndjson"
	# a first compaction, so that there are old snapshots and an old base
	compact --retain 4h --batch 1000
	for f in store.ndjson snaps.ndjson store.ndjson.base; do cp "$T/$f" "$T/$f.orig"; done
	ls "$T/arch" > "$T/arch.orig"
	before=$(replay_of "$T/store.ndjson" "$T/snaps.ndjson")
	run_split bash -c "ulimit -f 16; evsnap --compact --store '$T/store.ndjson' --archive '$T/arch' --snapshots '$T/snaps.ndjson' --now 2026-11-02T00:00:00Z --retain 1h"
	[ "$status" -eq 5 ] || fail_with "status"
	[ "$stderr" = "evsnap: write error on the archive batch from seq 3600 in $T/arch: File too large" ] || fail_with "stderr"
	for f in store.ndjson snaps.ndjson store.ndjson.base; do cmp "$T/$f" "$T/$f.orig"; done
	[ "$(ls "$T/arch")" = "$(cat "$T/arch.orig")" ] || fail_with "archive"
	[ "$(ls -A "$T" "$T/arch" | grep -c '\.tmp\.')" -eq 0 ] || fail_with "temporary files: $(ls -A "$T" "$T/arch")"
	[ "$(replay_of "$T/store.ndjson" "$T/snaps.ndjson")" = "$before" ]
	# without the limit it completes
	run_split evsnap --compact --store "$T/store.ndjson" --archive "$T/arch" --snapshots "$T/snaps.ndjson" --now 2026-11-02T00:00:00Z --retain 1h
	[ "$status" -eq 0 ] || fail_with "re-run"
	[ ! -s "$T/store.ndjson" ]
	[ "$(replay_of "$T/store.ndjson" "$T/snaps.ndjson")" = "$before" ]
}

@test "evsnap --strict stops at the first rejected line with status 3 and snapshots what came before" {
	{ head -n 4 "$EV"; echo 'nope'; tail -n +5 "$EV"; } > "$T/e"
	run_split evsnap --strict "$T/e"
	[ "$status" -eq 3 ]
	[ "$output" = "$(head -n 4 "$EV" | evsnap)" ]
	[ "$stderr" = "evsnap: $T/e:5: invalid JSON: unexpected 'n', expected a value at column 1" ] || fail_with "stderr"
	# with -o the snapshots of the lines before it are written (status 3)
	run_split evsnap --strict -o "$T/out" "$T/e"
	[ "$status" -eq 3 ]
	[ "$(cat "$T/out")" = "$(head -n 4 "$EV" | evsnap)" ]
}

@test "evsnap --compact --strict: an event the fold rejects ends the archived part, after it" {
	gen_store 300 "$T/store.ndjson"
	cp "$T/store.ndjson" "$T/orig"
	# the first ThingChanged (seq 98) fails: x is a string
	run_split compact --strict --rule 'ThingChanged=inc:n=x' --retain 0 --now 2026-11-02T00:00:00Z
	[ "$status" -eq 3 ]
	[ "$stderr" = "evsnap: $T/store.ndjson:98: event e98: inc: payload field 'x' is a string, not a number" ] || fail_with "stderr"
	[ "$(ls "$T/arch")" = "store.ndjson.000000000001-000000000098.ndjson" ]
	cat "$T"/arch/* "$T/store.ndjson" | cmp - "$T/orig"
	[ "$(wc -l < "$T/store.ndjson")" -eq 202 ]
}

@test "evsnap at version 2^63-1: an event after it is a duplicate, never an overflow" {
	M=9223372036854775807
	printf '%s\n' "{\"event_id\":\"e1\",\"aggregate_id\":\"a\",\"event_type\":\"ACreated\",\"payload\":{\"n\":1},\"timestamp\":\"2026-11-01T00:00:00Z\",\"version\":$M}" \
		"{\"event_id\":\"e2\",\"aggregate_id\":\"a\",\"event_type\":\"AChanged\",\"payload\":{\"n\":2},\"timestamp\":\"2026-11-01T00:00:01Z\",\"version\":$M}" > "$T/e"
	run_split evsnap --strict-versions "$T/e"
	[ "$status" -eq 3 ]
	[ "$stderr" = "evsnap: $T/e:2: duplicate version in aggregate a: event e2 has version $M again" ] || fail_with "stderr"
	[[ "$output" == "{\"aggregate_id\":\"a\",\"version\":$M,\"state\":{\"n\":1},"* ]] || fail_with "output"
}

@test "evsnap --compact with writers appending all along: no event is lost" {
	gen_store 2000 "$T/store.ndjson"
	(
		for i in $(seq 1 40); do
			printf '{"aggregate_id":"agg-w%d","event_type":"ThingChanged","payload":{"w":%d},"timestamp":"2026-11-01T04:59:00Z"}\n' \
				$((i % 3)) "$i" | evwrite -q --store "$T/store.ndjson" --lock-timeout 30s || exit 1
		done
	) &
	writer=$!
	for r in 1 2 3 4 5 6; do
		compact --retain "$((6 - r))h" --batch 300 --lock-timeout 30s
	done
	wait "$writer"
	compact --retain 0 --lock-timeout 30s
	n=$(cat "$T"/arch/* "$T/store.ndjson" | wc -l)
	[ "$n" -eq 2040 ] || fail_with "lines: $n"
	[ "$(cat "$T"/arch/* "$T/store.ndjson" | grep -c '"payload":{"w":')" -eq 40 ]
	seqs=$(cat "$T"/arch/* "$T/store.ndjson" | sed 's/.*"seq":\([0-9]*\).*/\1/' | sort -n | uniq | wc -l)
	[ "$seqs" -eq 2040 ] || fail_with "distinct seqs: $seqs"
}

@test "evsnap --compact of every event of an aggregate: the next append continues its version and the seq" {
	gen_store 200 "$T/store.ndjson"
	compact --retain 0
	[ ! -s "$T/store.ndjson" ]
	printf '{"aggregate_id":"agg-5","event_type":"ThingChanged","payload":{"z":1},"timestamp":"2026-11-01T05:00:00Z"}\n' |
		evwrite -q --store "$T/store.ndjson"
	run cat "$T/store.ndjson"
	[[ "$output" == *'"version":4'* ]] || fail_with "version"
	[[ "$output" == *'"seq":201'* ]] || fail_with "seq"
	run evreplay --snapshots "$T/snaps.ndjson" -A agg-5 "$T/store.ndjson"
	[[ "$output" == '{"aggregate_id":"agg-5","version":4,'*'"events_replayed":4,'* ]] || fail_with "replay"
}

@test "evsnap --help lists every option and the man page documents it" {
	run evsnap --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: evsnap "* ]]
	for o in --rules --rule --no-default-rules --strict-versions --every --snapshots --output --compact --store --retain --archive --batch --lock-timeout --errors --strict --id-field --key-field --type-field --time-field --payload-field --version-field --time-unit --tz --now --arg --argjson --progress; do
		help_has "$o" || fail_with "help lacks $o"
		grep -q -- "Fl -${o#--}" "$BATS_TEST_DIRNAME/../man/evsnap.1" || fail_with "man lacks $o"
	done
	run evsnap -V
	[ "$output" = "evsnap (evtools) 0.1.0" ]
}

@test "evsnap man page is lint-clean" {
	run mandoc -Tlint -Wwarning "$BATS_TEST_DIRNAME/../man/evsnap.1"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "evsnap --compact with an unreadable or malformed FILE.base exits 5, says why and changes nothing" {
	gen_store 100 "$T/store.ndjson"
	cp "$T/store.ndjson" "$T/orig"
	mkdir "$T/store.ndjson.base"
	run_split compact --retain 0
	[ "$status" -eq 5 ]
	[ "$stderr" = "evsnap: $T/store.ndjson.base: Is a directory" ] || fail_with "stderr"
	rmdir "$T/store.ndjson.base"
	echo '{"last_seq":-1,"versions":[]}' > "$T/store.ndjson.base"
	run_split compact --retain 0
	[ "$status" -eq 5 ]
	[ "$stderr" = "evsnap: $T/store.ndjson.base: expected {\"last_seq\":N,\"versions\":[[KEY,V],...]}" ] || fail_with "stderr 2"
	cmp "$T/store.ndjson" "$T/orig"
	[ ! -e "$T/snaps.ndjson" ]
	[ ! -e "$T/arch" ]
}

@test "evsnap --compact of a store with a BOM, CRLF endings and blank lines keeps every byte" {
	gen_store 300 "$T/plain"
	before=$(evreplay "$T/plain")
	{ printf '\357\273\277'; sed -n '1,100p' "$T/plain" | sed 's/$/\r/'; printf '\n  \r\n'; sed -n '101,300p' "$T/plain"; } > "$T/store.ndjson"
	cp "$T/store.ndjson" "$T/orig"
	run_split compact --retain 4h57m --batch 60
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	# cutoff 00:03:00: events 1..179 are older
	[ "$(ls "$T/arch" | paste -sd' ' -)" = "store.ndjson.000000000001-000000000060.ndjson store.ndjson.000000000061-000000000120.ndjson store.ndjson.000000000121-000000000179.ndjson" ] || fail_with "$(ls "$T/arch")"
	cat "$T"/arch/* "$T/store.ndjson" | cmp - "$T/orig"
	[ "$(replay_of "$T/store.ndjson" "$T/snaps.ndjson")" = "$before" ]
	# the next append continues the numbering
	printf '{"aggregate_id":"agg-5","event_type":"ThingChanged","payload":{},"timestamp":"2026-11-01T05:00:00Z"}\n' |
		evwrite -q --store "$T/store.ndjson"
	[[ "$(tail -n 1 "$T/store.ndjson")" == *'"version":5,"seq":301,'* ]] || fail_with "$(tail -n 1 "$T/store.ndjson")"
}
