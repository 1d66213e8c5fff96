#!/usr/bin/env bats
# lib/window.c through its unit driver (tests/unit/window_test.c): window
# bounds, the watermark and lateness, sessions, the late sink.  Times are
# microseconds (Ns: seconds; min and max: the int64 ends).
load helper

win() {
	run_split "$EVUNIT/window_test"
}

@test "window: tumbling windows are aligned to the epoch, half-open, and below zero too" {
	win <<'EOF'
spec tumbling:10s
bounds 0
bounds 9999999
bounds 10s
bounds -1
bounds -10s
bounds -10000001
first -1
EOF
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail_with "status"
	[ "$output" = "ok
[0,10000000)
[0,10000000)
[10000000,20000000)
[-10000000,0)
[-10000000,0)
[-20000000,-10000000)
0" ] || fail_with "output"
}

@test "window: a hopping event is in every window that holds it, ascending" {
	win <<'EOF'
spec hopping:10s/3s
bounds 0
bounds -1
bounds 7s
first -1
count 5
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "ok
[-9000000,1000000) [-6000000,4000000) [-3000000,7000000) [0,10000000)
[-9000000,1000000) [-6000000,4000000) [-3000000,7000000)
[0,10000000) [3000000,13000000) [6000000,16000000)
1000000
4" ] || fail_with "output"
}

@test "window: bounds at the int64 ends are clamped, never wrapped" {
	win <<'EOF'
spec tumbling:10s
bounds max
bounds min
first max
first min
spec hopping:10s/3s
bounds max
bounds min
first max
sat max 1
sat min -1
sat max min
sat 1 2
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "ok
[9223372036850000000,9223372036854775807)
[-9223372036854775808,-9223372036850000000)
9223372036854775807
-9223372036850000000
ok
[9223372036845000000,9223372036854775807) [9223372036848000000,9223372036854775807) [9223372036851000000,9223372036854775807) [9223372036854000000,9223372036854775807)
[-9223372036854775808,-9223372036853000000) [-9223372036854775808,-9223372036850000000) [-9223372036854775808,-9223372036847000000)
9223372036854775807
9223372036854775807
-9223372036854775808
-1
3" ] || fail_with "output"
}

@test "window: a hopping spec of up to 9,999 windows an event is walked one window at a time, more is refused" {
	win <<'EOF'
spec hopping:1s/101us
count 0
count max
count min
spec hopping:1s/100us
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "ok
9901
9901
9901
error: hopping: more than 10000 windows per event in 'hopping:1s/100us'" ] || fail_with "output"
}

@test "window: bad window specs are refused with the reason" {
	win <<'EOF'
spec hopping:10s/20s
spec sliding:1s
spec tumbling:0s
spec tumbling:-1s
spec hopping:10s
spec session:
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "error: hopping step longer than the window in 'hopping:10s/20s'
error: expected tumbling:DUR, hopping:DUR/STEP or session:GAP, not 'sliding:1s'
error: bad duration '0s' in 'tumbling:0s'
error: bad duration '-1s' in 'tumbling:-1s'
error: hopping needs DUR/STEP, not 'hopping:10s'
error: bad gap '' in 'session:'" ] || fail_with "output"
}

@test "window: a window closes once the largest time seen minus the lateness reaches its end" {
	win <<'EOF'
closed min
lateness 5s
see 24s
see 3s
closed 10s
closed 19s
closed 20s
lateness 0
closed 24s
closed 25s
closed max
lateness inf
closed min
lateness -1s
lateness abc
lateness
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "open
ok
closed
closed
open
ok
closed
open
open
ok
open
error
error
error" ] || fail_with "output"
}

@test "window: the watermark at the int64 ends: min closes min, max never closes the clamped end" {
	win <<'EOF'
see min
closed min
closed -9223372036854775807
see max
closed 9223372036854775806
closed max
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "closed
open
closed
open" ] || fail_with "output"
}

@test "window: sessions grow, bridge and close by end; a merged-away session leaves the table and the queue at once" {
	win <<'EOF'
spec session:10s
ev 100s 1
ev 105s 2
ev 118s 4
ev 130s 3
open
queued
ev 122s 5
open
queued
ev 112s 6
open
queued
see 200s
close
open
queued
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "ok
new 1 [100000000,110000000)
join 1 [100000000,115000000) pos 1
new 2 [118000000,128000000)
new 3 [130000000,140000000)
1 [100000000,115000000) 2 [118000000,128000000) 3 [130000000,140000000)
queued 3
merge 3 into 2
release 3
join 2 [118000000,140000000) pos 3
1 [100000000,115000000) 2 [118000000,140000000)
queued 2
merge 2 into 1
release 2
join 1 [100000000,140000000) pos 1
1 [100000000,140000000)
queued 1
close 1 [100000000,140000000) pos 1
release 1

closed_end 140000000
queued 0" ] || fail_with "output"
}

@test "window: a session event before a closed session's end, or whose own session is closed, is late; touching is not joining" {
	win <<'EOF'
spec session:10s
lateness 5s
ev 100s 1
ev 300s 2
close
open
ev 109s 3
ev 280s 4
ev 290s 5
ev 286s 6
open
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "ok
ok
new 1 [100000000,110000000)
new 2 [300000000,310000000)
close 1 [100000000,110000000) pos 1
release 1
2 [300000000,310000000)
closed_end 110000000
late
late
new 3 [290000000,300000000)
join 3 [286000000,300000000) pos 5
3 [286000000,300000000) 2 [300000000,310000000)
closed_end 110000000" ] || fail_with "output"
}

@test "window: with lateness inf no session closes before the end (nothing is queued), and old events still join" {
	win <<'EOF'
spec session:10s
lateness inf
ev 100s 1
ev 1000s 2
close
ev 95s 3
open
queued
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "ok
ok
new 1 [100000000,110000000)
new 2 [1000000000,1010000000)
join 1 [95000000,110000000) pos 1
1 [95000000,110000000) 2 [1000000000,1010000000)
queued 0" ] || fail_with "output"
}

@test "window: sessions at the int64 ends saturate, and the clamped end holds max" {
	win <<'EOF'
spec session:1s
lateness inf
ev max 1
ev 9223372036854775000 2
ev min 3
ev -9223372036854775000 4
open
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "ok
ok
new 1 [9223372036854775807,9223372036854775807)
join 1 [9223372036854775000,9223372036854775807) pos 1
new 2 [-9223372036854775808,-9223372036853775808)
join 2 [-9223372036854775808,-9223372036853775000) pos 3
2 [-9223372036854775808,-9223372036853775000) 1 [9223372036854775000,9223372036854775807)" ] || fail_with "output"
}

@test "window: late events not routed are counted and call for status 3" {
	win <<'EOF'
late -
lateline {"a":1}
lateline {"a":2}
latefinish
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "ok
status 3" ] || fail_with "output"
	[ "$stderr" = "window_test: 2 late events not counted in any window; use --lateness DUR or --late FILE" ] || fail_with "stderr"
}

@test "window: late events routed to a file are written byte for byte, and the status stays 0" {
	f=$BATS_TEST_TMPDIR/late.ndjson
	win <<EOF
late $f
lateline {"a":1,  "b":"x"}
latefinish
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = "ok
status 0" ] || fail_with "output"
	[ "$stderr" = "window_test: 1 late event not counted in any window (written to $f)" ] || fail_with "stderr"
	[ "$(cat "$f")" = '{"a":1,  "b":"x"}' ] || fail_with "file"
}

@test "window: no late event: no file is created, no line, status 0; an impossible directory fails at once" {
	f=$BATS_TEST_TMPDIR/none.ndjson
	win <<EOF
late $BATS_TEST_TMPDIR/no/such/dir/late.ndjson
late $f
latefinish
EOF
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || fail_with "status"
	[ "$output" = "error
ok
status 0" ] || fail_with "output"
	[ ! -e "$f" ] || fail_with "a file was created"
}
