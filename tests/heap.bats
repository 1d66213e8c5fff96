#!/usr/bin/env bats
# lib/heap: the one binary min-heap (merge's reorder buffer, window's
# close queue, keyed's deadlines).  Driven through $EVUNIT/heap_test
# (tests/unit/heap_test.c).

load helper

ht() { run_split "$EVUNIT/heap_test" <<<"$1"; }

@test "heap pops the smallest key first, equal keys in the order the caller's tie-break gives" {
	ht $'push a 5\npush b 3\npush c 9\npush d 3\npush e 1\ncheck\ntop\ndrain\npop'
	[ "$status" -eq 0 ] && [ "$stderr" = "" ]
	[ "$output" = "ok
ok
ok
ok
ok
ok 5
e 1
 e 1 b 3 d 3 a 5 c 9
none" ] || fail_with "got"
}

@test "heap tells each element its index, so one can be taken out of the middle and the order holds" {
	ht $'push a 5\npush b 3\npush c 9\npush d 3\npush e 1\npush f 4\nrm b\ncheck\nrm e\ncheck\nrm b\nrm c\ndrain'
	[ "$status" -eq 0 ] && [ "$stderr" = "" ]
	[ "$output" = "ok
ok
ok
ok
ok
ok
ok
ok 5
ok
ok 4
absent
ok
 d 3 f 4 a 5" ] || fail_with "got"
}

@test "heap keeps order and indices through thousands of pushes, removals from the middle and pops" {
	ht $'fill 5000 1\nfill 777 42\nfill 1 3\nfill 2 9'
	[ "$status" -eq 0 ] && [ "$stderr" = "" ]
	[ "$output" = "ok 5000
ok 777
ok 1
ok 2" ] || fail_with "got"
}
