#!/usr/bin/env bats
# lib/keyed: keyed table in creation order, deadline heap with safe
# unscheduling, saturating deadline arithmetic.  Driven through
# $EVUNIT/keyed_test (tests/unit/keyed_test.c).

load helper

kt() { run_split "$EVUNIT/keyed_test" <<<"$1"; }

@test "keyed keeps keys in creation order and reuses an entry for the same key" {
	kt $'get b\nget a\nget b\nget c\ndel a\nkeys\nget a\nkeys\ndel zz'
	[ "$status" -eq 0 ] && [ "$stderr" = "" ]
	[ "$output" = "new 0
new 1
old 0
new 2
ok
b c
new 3
b c a
absent" ] || fail_with "got"
}

@test "keyed pops deadlines the watermark has passed, in (deadline, seq) order; equal to the watermark waits unless inclusive" {
	kt $'at c 30 1\nat a 10 5\nat b 10 2\nat d 20 0\nnext\nexpire 20\nexpire 20 incl\nexpire 100'
	[ "$output" = "ok
ok
ok
ok
b 10
 b 10 a 10 (2)
 d 20 (1)
 c 30 (1)" ] || fail_with "got"
}

@test "keyed unscheduling takes a timer out of the heap, rescheduling moves it, and a callback may schedule" {
	kt $'at a 10 0\nat b 20 0\nat c 30 0\nun b\nat c 5 0\nexpire 100\ncascade\nat a 10 0\nexpire 50\nnext'
	[ "$output" = "ok
ok
ok
ok
ok
 c 5 a 10 (2)
ok
ok
 a 10 b 11 (2)
none" ] || fail_with "got"
}

@test "keyed deadline arithmetic saturates at the int64 ends" {
	kt $'add 9223372036854775000 1000\nadd -9223372036854775000 -1000\nadd 5 -7\nat a 9223372036854775807 0\nexpire max\nexpire max incl'
	[ "$output" = "9223372036854775807
-9223372036854775808
-2
ok
 (0)
 a 9223372036854775807 (1)" ] || fail_with "got"
}

@test "keyed keeps heap order through 100000 schedules and unschedules" {
	kt 'fill 100000'
	[ "$output" = "ok 75000 100000" ] || fail_with "got"
}

@test "keyed lanes: in-order deadlines queue in their lane, one that would break the order goes to the heap, and pops stay in (deadline, seq) order" {
	kt $'lane 0 a 10 1\nlane 0 b 20 2\nlane 0 c 15 3\nlane 1 d 12 4\nlane 0 e 20 5\nwhere a\nwhere b\nwhere c\nwhere d\nwhere e\nexpire 100\nwhere a'
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = "ok
ok
ok
ok
ok
lane 0
lane 0
heap
lane 1
lane 0
 a 10 d 12 c 15 b 20 e 20 (5)
none" ] || fail_with "got"
}

@test "keyed lanes: an equal deadline with a smaller seq goes to the heap; unscheduling from a lane's middle keeps the rest" {
	kt $'lane 2 a 10 5\nlane 2 b 10 4\nlane 2 c 30 6\nlane 2 d 40 7\nun c\nwhere b\nexpire 100'
	[ "$output" = "ok
ok
ok
ok
ok
heap
 b 10 a 10 d 40 (3)" ] || fail_with "got"
}

@test "keyed lanes and heap together pop exactly as a heap alone, through 100000 schedules and unschedules" {
	kt 'fill 100000 lanes'
	[ "$output" = "ok 75000 100000 mostly-laned" ] || fail_with "got"
}
