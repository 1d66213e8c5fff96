#!/usr/bin/env bats
# The README's examples run as written from the top of the tree: each
# command of the indented block that starts with the PATH export exits 0,
# says nothing on stderr and prints something.  Files the examples put in
# /tmp go to the test's own directory instead.
load helper

ROOT="$BATS_TEST_DIRNAME/.."

# The example commands, one per line (continuations joined), /tmp mapped.
readme_commands() {
	awk '/^    export PATH=/ { on = 1 } on && !/^    / { exit } on { print }' "$ROOT/README.md" |
		sed -e 's/^    //' | awk '/\\$/ { sub(/\\$/, ""); printf "%s", $0; next } /\|$/ { printf "%s ", $0; next } { print }' |
		grep -v -e '^#' -e '^export PATH' -e '^[[:space:]]*$' |
		sed -e "s#/tmp/#$BATS_TEST_TMPDIR/#g"
}

@test "README: every example command runs as written and prints something" {
	cd "$ROOT"
	local n=0 cmd
	while IFS= read -r cmd; do
		n=$((n + 1))
		run_split bash -c "$cmd"
		[ "$status" -eq 0 ] || fail_with "example $n failed: $cmd"
		[ -z "$stderr" ] || fail_with "example $n wrote to stderr: $cmd"
		[ -n "$output" ] || case "$cmd" in cp\ *|evsnap\ *|*--retry-out*) ;; *) fail_with "example $n printed nothing: $cmd" ;; esac
	done < <(readme_commands)
	[ "$n" -ge 8 ] || fail_with "only $n example commands found in README.md"
}

@test "README: the journald example finds the two nginx errors of the quarter hour" {
	cd "$ROOT"
	local cmd
	cmd=$(readme_commands | grep -e '--type-field SYSLOG_IDENTIFIER')
	run_split bash -c "$cmd"
	[ "$status" -eq 0 ] || fail_with "status"
	[ "${#lines[@]}" -eq 2 ] || fail_with "two lines expected"
	[[ "${lines[0]}" == *'upstream timed out'* ]] && [[ "${lines[1]}" == *'worker process exited'* ]] || fail_with "output"
}
