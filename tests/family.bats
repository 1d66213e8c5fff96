#!/usr/bin/env bats
# Rules that hold across the whole family of tools.

load helper

tools() { for t in "$EVBIN"/ev*; do [ -x "$t" ] && basename "$t"; done; }

@test "no short option letter means two different things across the tools" {
	for t in $(tools); do
		"$t" --help | sed -n 's/^ *-\([A-Za-z0-9]\), \(--[a-z-]*\).*/\1 \2/p' | sed "s/\$/ $t/"
	done | sort -u > "$BATS_TEST_TMPDIR/letters"
	[ -s "$BATS_TEST_TMPDIR/letters" ]
	# -p is each tool's program (DESIGN: evproject's projection, evcep's pattern)
	run sh -c "awk '\$1 != \"p\" { print \$1, \$2 }' '$BATS_TEST_TMPDIR/letters' | sort -u | awk '{ print \$1 }' | uniq -d"
	[ "$output" = "" ] || fail_with "letters with two meanings: $(grep -E "^($(echo $output | tr ' ' '|')) " "$BATS_TEST_TMPDIR/letters")"
}

@test "every tool has a man page that lints clean and an exit status table" {
	for t in $(tools); do
		m="$BATS_TEST_DIRNAME/../man/$t.1"
		[ -f "$m" ] || fail_with "$t has no man page"
		grep -q '^\.Sh EXIT STATUS' "$m" || fail_with "$t.1 lacks EXIT STATUS"
		grep -q '^\.Sh EXAMPLES' "$m" || fail_with "$t.1 lacks EXAMPLES"
		run mandoc -Tlint -Wwarning "$m"
		[ "$output" = "" ] || fail_with "mandoc: $t.1"
	done
}

@test "every tool answers --version and rejects an unknown option with status 2" {
	for t in $(tools); do
		run "$t" --version
		[ "$status" -eq 0 ] && [ "$output" = "$t (evtools) 0.1.0" ] || fail_with "$t --version"
		run "$t" --no-such-option
		[ "$status" -eq 2 ] || fail_with "$t unknown option"
	done
}

@test "every tool reports a full disk on standard output with status 5" {
	for t in $(tools); do
		run_split sh -c "'$t' --help > /dev/full"
		[ "$status" -eq 5 ] || fail_with "$t --help > /dev/full"
	done
}

@test "every tool reports a full disk while writing events with status 5" {
	printf '%s\n' '{"aggregate_id":"a","event_type":"X","payload":{},"timestamp":"2026-11-01T00:00:00Z"}' > "$BATS_TEST_TMPDIR/e.ndjson"
	for cmd in evquery evreplay evsnap "evproject -p by-type" evwrite "evcep -p x:X"; do
		[ -x "$EVBIN/${cmd%% *}" ] || continue
		run_split sh -c "$cmd '$BATS_TEST_TMPDIR/e.ndjson' > /dev/full"
		[ "$status" -eq 5 ] || fail_with "$cmd > /dev/full"
		[ "$stderr" = "${cmd%% *}: write error on standard output: No space left on device" ] || fail_with "$cmd message"
	done
}

@test "--strict stops every tool at the first rejected line; the tool ends as at the end of its input, status 3" {
	f="$BATS_TEST_TMPDIR/s.ndjson"
	printf '%s\n' '{"aggregate_id":"a","event_type":"X","payload":{},"timestamp":"2026-11-01T00:00:00Z","event_id":"e1"}' 'nope' \
		'{"aggregate_id":"b","event_type":"X","payload":{},"timestamp":"2026-11-01T00:00:01Z","event_id":"e2"}' > "$f"
	head -n 1 "$f" > "$BATS_TEST_TMPDIR/first.ndjson"
	for cmd in evquery "evquery -c" evreplay evsnap "evproject -p by-type" "evproject -g @key -a count" "evwrite --dry-run --correlation-id c"; do
		t=${cmd%% *}
		[ -x "$EVBIN/$t" ] || continue
		run_split sh -c "$cmd --strict '$f'"
		[ "$status" -eq 3 ] || fail_with "$cmd status"
		[ "$stderr" = "$t: $f:2: invalid JSON: unexpected 'n', expected a value at column 1" ] || fail_with "$cmd stderr"
		# what it printed is what it prints for the lines before
		[ -n "$output" ] && [ "$output" = "$($cmd "$BATS_TEST_TMPDIR/first.ndjson")" ] || fail_with "$cmd output"
	done
	# a rejection by the tool itself (not bad JSON) stops it too
	run_split evquery --strict --since 2026-01-01 - <<<'{"n":1}
{"timestamp":"2026-11-01T00:00:00Z"}'
	[ "$status" -eq 3 ]
	[ "$output" = "" ]
	[ "$stderr" = "evquery: <stdin>:1: missing time field 'timestamp'" ] || fail_with "evquery --since"
}

@test "every tool ignores SIGXFSZ: a file-size limit is a write error with status 5" {
	awk 'BEGIN { for (i = 1; i <= 200; i++) printf "{\"aggregate_id\":\"a%d\",\"event_type\":\"X\",\"payload\":{\"i\":%d},\"timestamp\":\"2026-11-01T00:00:00Z\",\"event_id\":\"e%d\"}\n", i, i, i }' > "$BATS_TEST_TMPDIR/e.ndjson"
	for cmd in evquery evreplay evsnap "evproject -g @id -a count" evwrite; do
		[ -x "$EVBIN/${cmd%% *}" ] || continue
		run_split bash -c "ulimit -f 1; $cmd '$BATS_TEST_TMPDIR/e.ndjson' > '$BATS_TEST_TMPDIR/out'"
		[ "$status" -eq 5 ] || fail_with "$cmd status"
		[ "$stderr" = "${cmd%% *}: write error on standard output: File too large" ] || fail_with "$cmd message"
	done
}

@test "a tool that writes output files and cannot open an operand writes nothing and exits 2" {
	cd "$BATS_TEST_TMPDIR"
	printf '%s\n' '{"aggregate_id":"a","event_type":"X","payload":{},"timestamp":"2026-11-01T00:00:00Z"}' > e.ndjson
	evproject -p by-type --state st e.ndjson >/dev/null
	cp st st.orig
	printf 'old\n' > out
	for cmd in "evproject -p by-type --state st" "evsnap -o out" "evwrite -q --store store.ndjson"; do
		t=${cmd%% *}
		run_split sh -c "$cmd --errors rej.ndjson e.ndjson missing.ndjson"
		[ "$status" -eq 2 ] || fail_with "$cmd status"
		[ "$output" = "" ] || fail_with "$cmd output"
		[ "$stderr" = "$t: missing.ndjson: No such file or directory
$t: nothing written: an input cannot be opened" ] || fail_with "$cmd stderr"
		cmp st st.orig
		[ "$(cat out)" = old ]
		[ ! -e store.ndjson ] && [ ! -e store.ndjson.lock ] && [ ! -e rej.ndjson ] || fail_with "$cmd created files"
		[ "$(ls -A | grep -c '\.tmp\.')" -eq 0 ] || fail_with "$cmd temporary files"
	done
	# tools writing only to standard output read the other operands
	for cmd in evquery evreplay evsnap "evproject -p by-type" "evwrite -q --dry-run"; do
		run_split sh -c "$cmd missing.ndjson e.ndjson"
		[ "$status" -eq 2 ] || fail_with "$cmd status"
		[ "$output" = "$($cmd e.ndjson)" ] || fail_with "$cmd output"
	done
}

@test "long options are matched exactly: an abbreviation is a usage error naming the candidates" {
	E="$BATS_TEST_DIRNAME/fixtures/evquery/events.ndjson"
	run_split evquery --sort "$E"
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "status"
	[ "$stderr" = "evquery: unknown option '--sort' (did you mean --sorted?)
usage: evquery [-ceqrv] [option ...] [file ...]
Try 'evquery --help' for more information." ] || fail_with "--sort"
	run_split evquery "$E" --form=tsv
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: unknown option '--form' (did you mean --format?)" ] || fail_with "--form="
	run_split evquery --lim 1 "$E"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: unknown option '--lim' (did you mean --limit?)" ] || fail_with "--lim"
	run_split evquery --time-f ts "$E"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: unknown option '--time-f' (did you mean --time-field?)" ] || fail_with "--time-f"
	for t in $(tools); do
		run_split "$t" --hel
		[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "$t --hel"
		[ "${stderr%%$'\n'*}" = "$t: unknown option '--hel' (did you mean --help?)" ] || fail_with "$t --hel message"
	done
	# exact names, with = or a separate argument, anywhere among operands
	run_split evquery "$E" --format=tsv --limit 1 -s event_id
	[ "$status" -eq 0 ] && [ "$output" = $'event_id\ne1' ] || fail_with "exact"
}

@test "a usage error is the reason, one usage line and a pointer to --help" {
	for t in $(tools); do
		run_split "$t" --no-such-option
		[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "$t status"
		[ "$(printf '%s\n' "$stderr" | wc -l)" = 3 ] || fail_with "$t: three lines"
		[ "$(printf '%s\n' "$stderr" | sed -n 1p)" = "$t: unknown option '--no-such-option'" ] || fail_with "$t reason"
		[[ "$(printf '%s\n' "$stderr" | sed -n 2p)" == "usage: $t "*"[option ...] [file ...]" ]] || fail_with "$t usage"
		[ "$(printf '%s\n' "$stderr" | sed -n 3p)" = "Try '$t --help' for more information." ] || fail_with "$t try"
	done
	run_split evquery --count=3
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: option --count takes no argument" ] || fail_with "takes no argument"
	run_split evquery --where
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: option --where needs an argument" ] || fail_with "needs an argument"
	run_split evquery -w
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: option -w needs an argument" ] || fail_with "-w"
	run_split evquery -x
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: unknown option -x" ] || fail_with "-x"
	run_split evwrite --bogus
	[ "$(printf '%s\n' "$stderr" | sed -n 2p)" = "usage: evwrite [-q] [option ...] [file ...]" ] || fail_with "evwrite usage"
	run_split evproject --bogus
	[ "$(printf '%s\n' "$stderr" | sed -n 2p)" = "usage: evproject [-r] [option ...] [file ...]" ] || fail_with "evproject usage"
}

@test "--help names exit status 1 only in tools that have -e" {
	for t in $(tools); do
		run "$t" --help
		[ "$status" -eq 0 ] || fail_with "$t --help"
		if printf '%s\n' "$output" | grep -q '^  -e, '; then
			[[ "$output" == *"1 no match (-e"* ]] || fail_with "$t has -e but no status 1"
		else
			[[ "$output" != *"-e)"* && "$output" != *"1 no match"* ]] || fail_with "$t lists -e without having it"
		fi
	done
	run evquery --help
	[[ "$output" == *"Exit: 0 ok, 1 no match (-e -q), 2 usage, 3 lines rejected, 4 conflict, 5 I/O."* ]] || fail_with "evquery"
}

# ---- the reading loop: lines read = events + rejected, in every tool and mode

# count_file: six lines, a blank one (not a line), two broken ones and one
# without a time
count_file() {
	printf '%s\n' \
		'{"event_id":"e1","aggregate_id":"a","event_type":"X","payload":{"n":1},"timestamp":"2026-11-01T00:00:00Z","version":1,"seq":1}' \
		'nope' \
		'{"event_id":"e2","aggregate_id":"a","event_type":"X","payload":{"n":2},"timestamp":"2026-11-01T00:00:01Z","version":2,"seq":2}' \
		'' \
		'{"event_id":"e3","aggregate_id":"b","event_type":"Y","payload":{"n":3},"version":1,"seq":3}' \
		'[1,2]' \
		'{"event_id":"e4","aggregate_id":"b","event_type":"Y","payload":{"n":4},"timestamp":"2026-11-01T00:00:03Z","version":2,"seq":4}' > "$1"
}

# the N of the last --progress line of TOOL in $stderr: lines read
progress_n() { printf '%s\n' "$stderr" | tr '\r' '\n' | sed -n "s/^$1: [0-9.]* MB, \([0-9]*\) events, [0-9]* events\/s *\$/\1/p" | tail -1; }

@test "every tool counts each line once in every reading mode: --progress's final line shows lines read = events + rejected" {
	cd "$BATS_TEST_TMPDIR"
	count_file c.ndjson
	# LINES REJECTED|command (the input operand is appended)
	while IFS='|' read -r n r cmd; do
		t=${cmd%% *}
		rm -f errs st
		run_split sh -c "$cmd --progress --errors errs $( [ "$t" = evjoin ] && echo c.ndjson ) c.ndjson"
		[ "$status" -eq 3 ] || fail_with "$cmd: status $status"
		[ "$(progress_n "$t")" = "$n" ] || fail_with "$cmd: lines read $(progress_n "$t"), not $n"
		# the rejected lines are those reported, once each
		[ "$(wc -l < errs)" -eq "$r" ] || fail_with "$cmd: $(wc -l < errs) rejected, not $r"
		[ "$(printf '%s\n' "$stderr" | tr '\r' '\n' | grep -v ': warning: ' | grep -c "^$t: c.ndjson:")" -eq "$r" ] || fail_with "$cmd: messages"
		[ "$(printf '%s\n' "$stderr" | tr '\r' '\n' | grep -c "^$t: [0-9.]* MB, .* events/s *\$")" -ge 1 ] || fail_with "$cmd: no final line"
	done <<'JOBS'
6|2|evquery
6|3|evquery --since 2026-01-01
6|3|evquery --sorted --until 2027-01-01
6|2|evquery --state st
6|2|evproject -p by-type
6|3|evproject -g @type -a count --window tumbling:1m
6|2|evproject -p by-type --state st
6|3|evreplay
6|3|evsnap
6|2|evwrite --dry-run
12|6|evjoin
12|4|evjoin --lookup
JOBS
}

@test "a half-written last line is deferred, not rejected, by every resumable reader; once whole it is read once" {
	cd "$BATS_TEST_TMPDIR"
	count_file full.ndjson
	grep -v -e '^nope$' -e '^\[' -e '^$' full.ndjson > whole.ndjson
	head -n 3 whole.ndjson > s.ndjson
	line=$(sed -n 4p whole.ndjson)
	printf '%s' "${line%%,*}" >> s.ndjson # half of the last line, no newline
	for cmd in "evquery" "evproject -p by-type"; do
		t=${cmd%% *}
		rm -f st errs
		cp s.ndjson store.ndjson
		run_split sh -c "$cmd --state st --errors errs --progress store.ndjson"
		[ "$status" -eq 0 ] || fail_with "$cmd: first run status $status"
		[ "$(progress_n "$t")" = 3 ] || fail_with "$cmd: the half line was counted"
		[ ! -s errs ] || fail_with "$cmd: a dead letter: $(cat errs)"
		first=$output
		printf '%s\n' ",${line#*,}" >> store.ndjson
		run_split sh -c "$cmd --state st --errors errs --progress store.ndjson"
		[ "$status" -eq 0 ] || fail_with "$cmd: second run status $status"
		[ "$(progress_n "$t")" = 1 ] || fail_with "$cmd: second run read $(progress_n "$t") lines"
		[ ! -s errs ] || fail_with "$cmd: a dead letter: $(cat errs)"
		if [ "$t" = evquery ]; then
			# together the two runs wrote each event once
			[ "$first"$'\n'"$output" = "$(cat whole.ndjson)" ] || fail_with "$cmd: rows"
		else
			# the second run's rows are those of one run over everything
			[ "$output" = "$($cmd whole.ndjson)" ] || fail_with "$cmd: rows"
		fi
	done
}

@test "a read error in a resumable run is an error (status 5), not the end of the file, and the state is not saved" {
	command -v strace >/dev/null || fail_with "strace is needed (.ci/deps)"
	export ASAN_OPTIONS=detect_leaks=0
	cd "$BATS_TEST_TMPDIR"
	count_file c.ndjson
	for cmd in "evquery" "evproject -p by-type"; do
		t=${cmd%% *}
		rm -f st
		# the reads before ours are those of a run that reads nothing
		n=$(strace -f -qq -e trace=read -o tr "$EVBIN/$t" --version >/dev/null && grep -c 'read(' tr)
		run_split strace -f -qq -o /dev/null -e trace=read -e inject=read:error=EIO:when=$((n + 1)) \
			"$EVBIN/$t" ${cmd#"$t"} --state st c.ndjson
		[ "$status" -eq 5 ] || fail_with "$cmd: status $status"
		[ "$stderr" = "$t: c.ndjson: read error: Input/output error" ] || fail_with "$cmd: stderr"
		[ ! -e st ] || fail_with "$cmd: saved a position past what it read"
	done
}
