#!/usr/bin/env bats
# Output options shared through lib/rows: -r, --no-header, --format json,
# --color, null cells and events without an envelope in tables; --help
# that fits a screen; the bash completion made from the option tables.

load helper

tools() { for t in "$EVBIN"/ev*; do [ -x "$t" ] && basename "$t"; done; }

setup() {
	cd "$BATS_TEST_TMPDIR"
	{
		printf '%s\n' '{"event_id":"e1","event_type":"A","aggregate_id":"k1","timestamp":"2026-11-01T10:00:00Z","payload":{"s":"x\u001by","n":1.50}}'
		printf '%s\n' '{"event_id":"e2","event_type":"B","aggregate_id":"k1","timestamp":"2026-11-01T10:00:01Z","payload":{"s":"tab\there\nnl","n":null}}'
		printf '%s\n' '{"event_id":3,"event_type":"A","aggregate_id":"k2","timestamp":"2026-11-01T10:00:02Z","payload":{"s":"caf\u00e9 \u0085","n":[1,2]}}'
	} > ev.ndjson
}

@test "evquery -r prints one column's values a line each: strings unquoted, controls as \\xHH, null as null" {
	run_split evquery -r -s payload.s ev.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 'x\x1by
tab	here\x0anl
café \x85' ] || fail_with "strings"
	run_split evquery -r -s payload.n ev.ndjson
	[ "$output" = '1.50
null
[1,2]' ] || fail_with "other values"
	run_split evquery --raw -s @id ev.ndjson
	[ "$output" = 'e1
e2
3' ] || fail_with "--raw"
}

@test "-r is a usage error without exactly one column, or with --format" {
	run_split evquery -r -s event_id,event_type ev.ndjson
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "two columns"
	[ "$stderr" = "evquery: -r prints the values of one column, not 2 (for several: --format tsv --no-header)
usage: evquery [-ceqrv] [option ...] [file ...]
Try 'evquery --help' for more information." ] || fail_with "two columns message"
	run_split evquery -r ev.ndjson
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: -r prints one column: name it with -s" ] || fail_with "no -s"
	run_split evquery -r --format tsv -s event_id ev.ndjson
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: -r is a format of its own: give -r or --format, not both" ] || fail_with "--format"
	run_split evproject -g @type -a count -r ev.ndjson
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evproject: -r prints the values of one column, not 2 (for several: --format tsv --no-header)" ] || fail_with "evproject"
	run_split evproject -a count -r --partial ev.ndjson
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evproject: --partial writes partial rows: no --format, -r, --sort, --top or --emit update" ] || fail_with "partial"
}

@test "evproject -r prints a one-column projection bare" {
	run_split evproject -a count -r ev.ndjson
	[ "$status" -eq 0 ] && [ "$output" = "3" ] || fail_with "count"
	run_split evproject -a 'types=collect:@type' -r ev.ndjson
	[ "$output" = '["A","B","A"]' ] || fail_with "collect"
}

@test "--no-header drops the header line of tsv, csv and table, and is refused elsewhere" {
	run_split evquery -s @id,payload.n --format tsv --no-header ev.ndjson
	[ "$status" -eq 0 ] && [ "$output" = 'e1	1.50
e2	
3	[1,2]' ] || fail_with "tsv"
	run_split evquery -s @id,payload.n --format csv --no-header ev.ndjson
	[ "$output" = 'e1,1.50
e2,
3,"[1,2]"' ] || fail_with "csv"
	run_split evproject -g @type -a count --format table --no-header ev.ndjson
	[ "$output" = 'A  2
B  1' ] || fail_with "table"
	run_split evjoin --on aggregate_id --format tsv --no-header ev.ndjson /dev/null
	[ "$status" -eq 0 ] && [ "$output" = "" ] || fail_with "evjoin empty tsv"
	run_split evquery --no-header ev.ndjson
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: --no-header applies to --format tsv, csv or table" ] || fail_with "ndjson"
}

@test "--format json is one array of the events or rows, and [ ] when there is none" {
	run_split evquery --format json -t A ev.ndjson
	[ "$status" -eq 0 ] && [ "$output" = "[
$(sed -n 1p ev.ndjson),
$(sed -n 3p ev.ndjson)
]" ] || fail_with "events"
	run_split evquery --format json -s @id,n=payload.n ev.ndjson
	[ "$output" = '[
{"event_id":"e1","n":1.50},
{"event_id":"e2","n":null},
{"event_id":3,"n":[1,2]}
]' ] || fail_with "-s"
	run_split evquery --format json -t Z ev.ndjson
	[ "$status" -eq 0 ] && [ "$output" = "[
]" ] || fail_with "empty"
	printf '%s\n' "$output" | jq -e 'length == 0' >/dev/null || fail_with "empty is not valid JSON"
	run_split evproject -g @type -a count --format json ev.ndjson
	[ "$output" = '[
{"event_type":"A","count":2},
{"event_type":"B","count":1}
]' ] || fail_with "evproject"
	run_split evproject -g @type -a count --format json /dev/null
	[ "$output" = "[
]" ] || fail_with "evproject empty"
	run_split evquery --format json --follow ev.ndjson
	[ "$status" -eq 2 ] || fail_with "--follow json"
}

@test "tables show null as null, tsv and csv as an empty cell" {
	run_split evquery -s @id,payload.n,payload.none --format table ev.ndjson
	[ "$output" = 'event_id  payload.n  payload.none
e1        1.50       null
e2        null       null
3         [1,2]      null' ] || fail_with "table"
	run_split evquery -s @id,payload.none --format csv ev.ndjson
	[ "$output" = 'event_id,payload.none
e1,
e2,
3,' ] || fail_with "csv"
}

@test "a table of events without the envelope shows each event whole in the payload column" {
	printf '%s\n' '{"ts":1,"id.orig_h":"10.0.0.1","msg":"a\tb"}' '{"event_type":"X","payload":{"k":1}}' > zeek.ndjson
	run_split evquery --format table zeek.ndjson
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = 'timestamp  event_type  aggregate_id  event_id  payload
null       null        null          null      {"ts":1,"id.orig_h":"10.0.0.1","msg":"a\\tb"}
null       X           null          null      {"k":1}' ] || fail_with "table"
	run_split evquery --format tsv zeek.ndjson
	[ "${lines[1]}" = '				{"ts":1,"id.orig_h":"10.0.0.1","msg":"a\\tb"}' ] || fail_with "tsv"
}

@test "--color always colors ndjson, json and tables in jq's scheme, even under NO_COLOR" {
	E=$'\033'
	want="{${E}[34;1m\"a\"${E}[0m:${E}[0;32m\"x\"${E}[0m,${E}[34;1m\"n\"${E}[0m:${E}[0;36m-1.5e3${E}[0m,${E}[34;1m\"b\"${E}[0m:[${E}[0;33mtrue${E}[0m,${E}[0;90mnull${E}[0m]}"
	printf '%s\n' '{"a":"x","n":-1.5e3,"b":[true,null]}' > c.ndjson
	run_split evquery --color always c.ndjson
	[ "$status" -eq 0 ] && [ "$output" = "$want" ] || fail_with "ndjson"
	NO_COLOR=1 run_split evquery --color always c.ndjson
	[ "$output" = "$want" ] || fail_with "NO_COLOR with always"
	run_split evquery --color always --format json c.ndjson
	[ "$output" = "[
$want
]" ] || fail_with "json"
	run_split evproject -g @type -a count --format table --color always ev.ndjson
	[ "$output" = "${E}[34;1mevent_type${E}[0m  ${E}[34;1mcount${E}[0m
${E}[0;32mA${E}[0m           ${E}[0;36m2${E}[0m
${E}[0;32mB${E}[0m           ${E}[0;36m1${E}[0m" ] || fail_with "table"
	run_split evquery --color always --format tsv c.ndjson
	[[ "$output" != *"$E"* ]] || fail_with "tsv is never colored"
	run_split evquery --color never c.ndjson
	[ "$output" = "$(cat c.ndjson)" ] || fail_with "never"
	run_split evquery --color sometimes c.ndjson
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: --color: expected auto, always or never, not 'sometimes'" ] || fail_with "bad"
}

@test "--color auto colors a terminal only, and not under a non-empty NO_COLOR" {
	printf '%s\n' '{"a":1}' > c.ndjson
	run_split evquery c.ndjson
	[ "$output" = '{"a":1}' ] || fail_with "a pipe"
	out=$(NO_COLOR= script -qec "evquery c.ndjson" /dev/null | tr -d '\r')
	[ "$out" = $'{\033[34;1m"a"\033[0m:\033[0;36m1\033[0m}' ] || fail_with "terminal: $out"
	out=$(NO_COLOR=1 script -qec "evquery --color auto c.ndjson" /dev/null | tr -d '\r')
	[ "$out" = '{"a":1}' ] || fail_with "NO_COLOR: $out"
}

@test "every tool's --help fits a screen: at most 30 lines of 80 columns" {
	for t in $(tools); do
		run_split "$t" --help
		[ "$status" -eq 0 ] || fail_with "$t status"
		[ "${#lines[@]}" -le 30 ] || fail_with "$t: ${#lines[@]} lines"
		for l in "${lines[@]}"; do
			[ "${#l}" -le 80 ] || fail_with "$t: a line of ${#l} columns: $l"
		done
		[[ "$output" == *"Common: --errors --strict --*-field"*"-h -V: evtools(7), $t(1)."* ]] || fail_with "$t common line"
	done
}

@test "every long option of every tool is in its --help and its man page" {
	for t in $(tools); do
		run_split "$t" --list-options
		[ "$status" -eq 0 ] && [ -n "$output" ] || fail_with "$t --list-options"
		opts=$output
		run_split "$t" --help
		for o in $(printf '%s\n' "$opts" | sed -n 's/^\(--[a-z-]*\)=\{0,1\}$/\1/p'); do
			help_has "$o" || fail_with "$t --help lacks $o"
			grep -q -- "Fl -${o#--}\( \|$\)" "$BATS_TEST_DIRNAME/../man/$t.1" || fail_with "$t.1 lacks $o"
		done
	done
}

@test "the bash completion completes every tool's options from its option table" {
	comp="$EVBIN/../completions/evtools.bash"
	[ -f "$comp" ] || fail_with "no $comp"
	run bash -c "source '$comp'; complete -p evquery"
	[ "$status" -eq 0 ] && [ "$output" = "complete -o default -F _evtools evquery" ] || fail_with "complete -p"
	run bash -c "source '$comp'; COMP_WORDS=(evquery --for); COMP_CWORD=1; _evtools; printf '%s\n' \"\${COMPREPLY[@]}\""
	[ "$output" = "--format" ] || fail_with "--for"
	run bash -c "source '$comp'; COMP_WORDS=(evproject --format t); COMP_CWORD=2; _evtools; printf '%s\n' \"\${COMPREPLY[@]}\""
	[ "$output" = "tsv
table" ] || fail_with "--format values"
	run bash -c "source '$comp'; COMP_WORDS=(evjoin --no-h); COMP_CWORD=1; _evtools; printf '%s\n' \"\${COMPREPLY[@]}\""
	[ "$output" = "--no-header" ] || fail_with "evjoin --no"
	for t in $(tools); do
		run bash -c "source '$comp'; complete -p $t"
		[ "$status" -eq 0 ] || fail_with "$t has no completion"
	done
}

@test "make install puts the completion in share/bash-completion/completions and make uninstall removes it" {
	B=$(cd "$EVBIN/.." && pwd)
	# -o all: install what is built, never rebuild it here (with other flags)
	make -s -o all -C "$BATS_TEST_DIRNAME/.." B="$B" DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/usr install >/dev/null
	d="$BATS_TEST_TMPDIR/root/usr/share/bash-completion/completions"
	cmp "$d/evtools" "$B/completions/evtools.bash" || fail_with "evtools"
	for t in $(tools); do
		[ "$(readlink "$d/$t")" = evtools ] || fail_with "$t link"
	done
	make -s -C "$BATS_TEST_DIRNAME/.." B="$B" DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/usr uninstall >/dev/null
	run find "$BATS_TEST_TMPDIR/root" -type f -o -type l
	[ "$output" = "" ] || fail_with "left behind"
}
