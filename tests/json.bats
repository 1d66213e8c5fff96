#!/usr/bin/env bats
# lib/json.c (scanner, numbers, equality, UTF-8), lib/path.c, the --shard
# hash and lib/jwrite.c, through the unit driver json_test.

load helper

# table: lines of "command<TAB>input<TAB>expected"; runs all, compares all
check_table() {
	local input expected
	input=$(printf '%s\n' "$@" | awk -F'\t' 'BEGIN{OFS="\t"} { e = $NF; NF--; print }')
	expected=$(printf '%s\n' "$@" | awk -F'\t' '{ print $NF }')
	run "$EVUNIT/json_test" <<<"$input"
	[ "$status" -eq 0 ]
	if [ "$output" != "$expected" ]; then
		diff <(echo "$expected") <(echo "$output") >&2 || true
		return 1
	fi
}

T=$'\t'

@test "json: valid documents of every kind" {
	check_table \
		"parse${T}{}${T}ok" \
		"parse${T} { \"a\" : [ 1 , -0.5e+3 , true , false , null , \"x\" , { } , [ ] ] } ${T}ok" \
		"parse${T}{\"\":\"\",\"\\\\\":\"\\\"\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"}${T}ok" \
		"parse${T}{\"a\":\"\\u0000\"}${T}ok" \
		"any${T}42${T}ok" \
		"any${T}\"s\"${T}ok" \
		"any${T}[]${T}ok" \
		"parse${T}{\"a\":1,\"A\":2}${T}ok"
}

@test "json: syntax errors name what was expected and the column" {
	check_table \
		"parse${T}${T}invalid JSON: empty" \
		"parse${T}   ${T}invalid JSON: empty" \
		"parse${T}{${T}invalid JSON: unexpected end of line, expected a string key at column 2" \
		"parse${T}{\"a\"${T}invalid JSON: unexpected end of line, expected ':' at column 5" \
		"parse${T}{\"a\":}${T}invalid JSON: unexpected '}', expected a value at column 6" \
		"parse${T}{\"a\":1,}${T}invalid JSON: unexpected '}', expected a string key at column 8" \
		"parse${T}{\"a\":[1,]}${T}invalid JSON: unexpected ']', expected a value at column 9" \
		"parse${T}{\"a\":tru}${T}invalid JSON: unexpected 't', expected a value at column 6" \
		"parse${T}{\"a\":-}${T}invalid JSON: unexpected '}', expected a digit at column 7" \
		"parse${T}{\"a\":1.}${T}invalid JSON: unexpected '}', expected a digit after '.' at column 8" \
		"parse${T}{\"a\":1e}${T}invalid JSON: unexpected '}', expected a digit in the exponent at column 8" \
		"parse${T}{\"a\":+1}${T}invalid JSON: unexpected '+', expected a value at column 6" \
		"parse${T}{\"a\":.5}${T}invalid JSON: unexpected '.', expected a value at column 6" \
		"parse${T}{\"a\":NaN}${T}invalid JSON: unexpected 'N', expected a value at column 6" \
		"parse${T}{\"a\":\"\\x\"}${T}invalid JSON: bad escape in string at column 7" \
		"parse${T}{\"a\":\"\\u12G4\"}${T}invalid JSON: bad \\u escape at column 7" \
		"parse${T}{'a':1}${T}invalid JSON: unexpected ''', expected a string key at column 2" \
		"parse${T}{\"a\":1}{}${T}invalid JSON: trailing characters after the value at column 8" \
		"parse${T}[1]${T}not an object (array)" \
		"parse${T}\"s\"${T}not an object (string)" \
		"parse${T}null${T}not an object (null)" \
		"parse${T}true${T}not an object (boolean)"
}

@test "json: surrogates and duplicate keys" {
	check_table \
		"parse${T}{\"a\":\"\\ud800\\udc00\"}${T}ok" \
		"parse${T}{\"a\":\"\\ud800\\u0041\"}${T}lone surrogate escape \\uD800 at column 7" \
		"parse${T}{\"a\":\"x\\udfff\"}${T}lone surrogate escape \\uDFFF at column 8" \
		"parse${T}{\"a\":\"\\ud800\"}${T}lone surrogate escape \\uD800 at column 7" \
		"parse${T}{\"a\":1,\"b\":2,\"a\":3}${T}duplicate key \"a\" at column 14" \
		"parse${T}{\"x\":{\"a\":1},\"y\":{\"a\":1}}${T}ok" \
		"parse${T}{\"\\u0061\":1,\"a\":2}${T}duplicate key \"a\" at column 13" \
		"parse${T}{\"k1\":1,\"k2\":1,\"k3\":1,\"k4\":1,\"k5\":1,\"k6\":1,\"k7\":1,\"k8\":1,\"k9\":1,\"k10\":1,\"k11\":1,\"k12\":1,\"k13\":1,\"k14\":1,\"k15\":1,\"k16\":1,\"k17\":1,\"k18\":1,\"k19\":1,\"k20\":1,\"k21\":1,\"k22\":1,\"k23\":1,\"k24\":1,\"k25\":1,\"k26\":1,\"k3\":2}${T}duplicate key \"k3\" at column 201"
}

@test "json: UTF-8 validation (RFC 3629)" {
	check_table \
		"utf8${T}41${T}valid" \
		"utf8${T}c3a9${T}valid" \
		"utf8${T}e282ac${T}valid" \
		"utf8${T}f09f9880${T}valid" \
		"utf8${T}f48fbfbf${T}valid" \
		"utf8${T}f4908080${T}invalid at 0" \
		"utf8${T}c0af${T}invalid at 0" \
		"utf8${T}e080af${T}invalid at 0" \
		"utf8${T}eda080${T}invalid at 0" \
		"utf8${T}414141414141414180${T}invalid at 8" \
		"utf8${T}c3${T}invalid at 0" \
		"utf8${T}41e282${T}invalid at 1" \
		"utf8${T}ff${T}invalid at 0"
}

@test "json: numbers are exact int64 or double" {
	check_table \
		"num${T}0${T}int 0" \
		"num${T}-0${T}int 0" \
		"num${T}9223372036854775807${T}int 9223372036854775807" \
		"num${T}-9223372036854775808${T}int -9223372036854775808" \
		"num${T}9223372036854775808${T}double 9.2233720368547758e+18" \
		"num${T}123456789012345678901234567890${T}double 1.2345678901234568e+29" \
		"num${T}1.5${T}double 1.5" \
		"num${T}1e3${T}double 1000"
}

@test "json: numbers compare exactly by decimal value, never through a double" {
	check_table \
		"numcmp${T}9007199254740993${T}9007199254740992${T}>" \
		"numcmp${T}9007199254740992${T}9007199254740993${T}<" \
		"numcmp${T}1${T}1.0${T}=" \
		"numcmp${T}1${T}1e0${T}=" \
		"numcmp${T}100${T}1e2${T}=" \
		"numcmp${T}-0${T}0.0${T}=" \
		"numcmp${T}-1${T}0${T}<" \
		"numcmp${T}-2${T}-10${T}>" \
		"numcmp${T}0.1${T}0.10000000000000001${T}<" \
		"numcmp${T}123456789012345678901234567891${T}123456789012345678901234567890${T}>" \
		"numcmp${T}1e400${T}1e399${T}>" \
		"numcmp${T}-1e400${T}-1e399${T}<" \
		"numcmp${T}0.001${T}1E-3${T}=" \
		"numcmp${T}0.0012${T}0.0011${T}>" \
		"numcmp${T}18446744073709551616${T}18446744073709551615${T}>" \
		"numcmp${T}9.5${T}10${T}<"
}

@test "json: equality of values" {
	check_table \
		"equal${T}1${T}1.0${T}true" \
		"equal${T}9007199254740993${T}9007199254740992${T}false" \
		"equal${T}9007199254740993${T}9007199254740992.0${T}false" \
		"equal${T}\"caf\\u00e9\"${T}\"café\"${T}true" \
		"equal${T}\"42\"${T}42${T}false" \
		"equal${T}{\"a\":1,\"b\":[1,2]}${T}{\"b\":[1,2],\"a\":1}${T}true" \
		"equal${T}[1,2]${T}[2,1]${T}false" \
		"equal${T}{\"a\":1}${T}{\"a\":1,\"b\":2}${T}false" \
		"equal${T}null${T}null${T}true"
}

@test "paths: members, indexes, quoted members, pointers" {
	D='{"a":{"b":[10,{"c":"x"}],"0":"zero","odd.key":1,"m/n":2,"t~":3},"l":[[1,2]]}'
	check_table \
		"path${T}a.b.0${T}$D${T}10" \
		"path${T}a.b.1.c${T}$D${T}\"x\"" \
		"path${T}.a.b.1${T}$D${T}{\"c\":\"x\"}" \
		"path${T}a.0${T}$D${T}\"zero\"" \
		"path${T}a[\"odd.key\"]${T}$D${T}1" \
		"path${T}a['odd.key']${T}$D${T}1" \
		"path${T}a.b[1].c${T}$D${T}\"x\"" \
		"path${T}l.0.1${T}$D${T}2" \
		"path${T}a.b.9${T}$D${T}missing" \
		"path${T}a.b.c${T}$D${T}missing" \
		"path${T}nope.x${T}$D${T}missing" \
		"path${T}/a/m~1n${T}$D${T}2" \
		"path${T}/a/t~0${T}$D${T}3" \
		"path${T}/a/b/1/c${T}$D${T}\"x\"" \
		"path${T}a..b${T}$D${T}bad path 'a..b': empty segment" \
		"path${T}a.${T}$D${T}bad path 'a.': ends with '.'" \
		"path${T}a[\"x${T}$D${T}bad path 'a[\"x': expected [\"name\"] or [index]" \
		"path${T}/a/~2${T}$D${T}bad path '/a/~2': '~' must be followed by 0 or 1"
}

@test "shard hash: FNV-1a 64 of string content or compact JSON" {
	check_table \
		"shard${T}\"a\"${T}af63dc4c8601ec8c" \
		"shard${T}\"foobar\"${T}85944171f73967e8" \
		"shard${T}\"\"${T}cbf29ce484222325" \
		"shard${T}\"\\u0061\"${T}af63dc4c8601ec8c" \
		"shard${T}42${T}07ee7e07b4b19223" \
		"shard${T}null${T}5b9bc4ba528108e4"
}

@test "jwrite: computed numbers in shortest form, strings minimally escaped" {
	check_table \
		"double${T}0.1${T}0.1" \
		"double${T}2${T}2" \
		"double${T}-0${T}0" \
		"double${T}1.5e-7${T}1.5e-07" \
		"double${T}0.30000000000000004${T}0.30000000000000004" \
		"double${T}123456789.125${T}123456789.125" \
		"double${T}nan${T}null" \
		"double${T}inf${T}null" \
		"string${T}0a09220d5c01${T}\"\\n\\t\\\"\\r\\\\\\u0001\"" \
		"string${T}c3a92f${T}\"é/\""
}

@test "path lists split at commas, not inside quoted members" {
	printf '%s\n' '{"a,b":1,"c":{"x,y":3},"d":4}' > "$BATS_TEST_TMPDIR/p.ndjson"
	run evquery -s '["a,b"],c["x,y"],c['"'"'x,y'"'"'],d' "$BATS_TEST_TMPDIR/p.ndjson"
	[ "$output" = '{"[\"a,b\"]":1,"c[\"x,y\"]":3,"c['"'"'x,y'"'"']":3,"d":4}' ] || fail_with "got"
}

@test "paths: member names with dots, nested member first, then joins shortest first" {
	Z='{"id.orig_h":"10.0.0.1","id.resp_p":443,"id":{"x":1}}'
	E='{"log.level":"error","log":{"logger":"db","origin":{"file.name":"db.py"}}}'
	check_table \
		"path${T}id.orig_h${T}$Z${T}\"10.0.0.1\"" \
		"path${T}id.resp_p${T}$Z${T}443" \
		"path${T}id.x${T}$Z${T}1" \
		"path${T}log.level${T}$E${T}\"error\"" \
		"path${T}log.logger${T}$E${T}\"db\"" \
		"path${T}log.origin.file.name${T}$E${T}\"db.py\"" \
		"path${T}.log.level${T}$E${T}\"error\"" \
		"path${T}a.b.c${T}{\"a.b\":{\"c\":1},\"a\":{\"b.c\":2}}${T}2" \
		"path${T}a.b.c${T}{\"a.b\":{\"c\":1},\"a\":{\"b\":{\"d\":3}}}${T}1" \
		"path${T}a.b.c${T}{\"a.b.c\":3,\"a.b\":{\"c\":1}}${T}1" \
		"path${T}a.b.c${T}{\"a.b.c\":3,\"a.b\":{\"d\":1}}${T}3" \
		"path${T}a.b.c.d${T}{\"a.b.c.d\":4}${T}4" \
		"path${T}a.b.0${T}{\"a.b\":[7,8]}${T}7" \
		"path${T}items.0.sku${T}{\"items.0.sku\":\"k\"}${T}\"k\"" \
		"path${T}x.y${T}{\"x.y\":null}${T}null" \
		"path${T}a.b${T}{\"a\\u002eb\":5}${T}5" \
		"path${T}a.b${T}{\"a\":{\"c\":1},\"a.c\":2}${T}missing" \
		"path${T}a.b${T}{\"a\":[1],\"a.x\":2}${T}missing"
}

@test "paths: quoted members and pointers are exact, never joined" {
	Z='{"id.orig_h":"10.0.0.1","a.b":{"c":1}}'
	check_table \
		"path${T}.[\"id.orig_h\"]${T}$Z${T}\"10.0.0.1\"" \
		"path${T}[\"id.orig_h\"]${T}$Z${T}\"10.0.0.1\"" \
		"path${T}.['id.orig_h']${T}$Z${T}\"10.0.0.1\"" \
		"path${T}[\"a.b\"].c${T}$Z${T}1" \
		"path${T}id[\"orig_h\"]${T}$Z${T}missing" \
		"path${T}[\"id\"].orig_h${T}$Z${T}missing" \
		"path${T}/id.orig_h${T}$Z${T}\"10.0.0.1\"" \
		"path${T}/id/orig_h${T}$Z${T}missing" \
		"path${T}/a.b/c${T}$Z${T}1"
}

@test "paths: a search through many dotted names ends quickly" {
	# every level has "a" and "a.a"; the path of 60 segments then misses
	doc=$(awk 'BEGIN { s = "{}"; for (i = 0; i < 60; i++) s = "{\"a\":" s ",\"a.a\":{\"a\":{\"a.a\":{\"a.a.a\":1}}}}"; print s }')
	p=$(printf 'a.%.0s' $(seq 60))z
	run timeout 10 "$EVUNIT/json_test" <<<"path${T}${p}${T}${doc}"
	[ "$status" -eq 0 ] && [ "$output" = "missing" ] || fail_with "search"
	# the deepest "a" is {}: the last five segments go through its
	# sibling "a.a", then "a", then "a.a" (shortest joins first)
	run timeout 10 "$EVUNIT/json_test" <<<"path${T}$(printf 'a.%.0s' $(seq 63))a${T}${doc}"
	[ "$status" -eq 0 ] && [ "$output" = '{"a.a.a":1}' ] || fail_with "found"
	run timeout 10 "$EVUNIT/json_test" <<<"path${T}$(printf 'a.%.0s' $(seq 66))a${T}${doc}"
	[ "$status" -eq 0 ] && [ "$output" = '1' ] || fail_with "found deeper"
}

FZ="$BATS_TEST_DIRNAME/fixtures/paths/zeek_conn.ndjson"
FE="$BATS_TEST_DIRNAME/fixtures/paths/ecs.ndjson"

@test "evquery -s and -w find Zeek's dotted member names" {
	run_split evquery -s id.orig_h,id.resp_p,service "$FZ"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"id.orig_h":"10.0.0.1","id.resp_p":443,"service":"ssl"}
{"id.orig_h":"10.0.0.2","id.resp_p":53,"service":"dns"}
{"id.orig_h":"10.0.0.1","id.resp_p":22,"service":null}' ] || fail_with "output"
	run_split evquery -w 'id.orig_h == "10.0.0.1" && id.resp_p < 100' -s uid "$FZ"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] && [ "$output" = '{"uid":"CUM0KZ3MLUfNB0cl11"}' ] || fail_with "-w"
	run_split evquery -w '.["id.orig_h"] == "10.0.0.2"' -s '.["id.resp_h"]' "$FZ"
	[ "$output" = '{".[\"id.resp_h\"]":"10.0.0.53"}' ] || fail_with "quoted"
	run_split evquery --key-field id.orig_h -A 10.0.0.1 -c "$FZ"
	[ "$status" -eq 0 ] && [ "$output" = 2 ] && [ "$stderr" = "" ] || fail_with "--key-field"
	run_split evquery --time-field ts --since 2026-11-27T09:00:01Z -s uid "$FZ"
	[ "$output" = '{"uid":"C4J4Th3PJpwUYZZ6gc"}
{"uid":"CUM0KZ3MLUfNB0cl11"}' ] || fail_with "--time-field"
}

@test "evquery finds ECS's log.level next to the object log, and the nested form" {
	run_split evquery --format tsv -s log.level,log.logger,service.name,log.origin.file.line "$FE"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = "log.level	log.logger	service.name	log.origin.file.line
error	app.db	billing	42
info	app.http	billing	
warn	app.http	gateway	" ] || fail_with "output"
	run_split evquery -c -w 'log.level == "warn" || log.level == "error"' "$FE"
	[ "$output" = 2 ] && [ "$stderr" = "" ] || fail_with "-w"
}

@test "a quoted member is exact: id[\"orig_h\"] does not find id.orig_h and is warned about" {
	run_split evquery -c -w 'id["orig_h"] == "10.0.0.1"' "$FZ"
	[ "$status" -eq 0 ] && [ "$output" = 0 ] || fail_with "status"
	[ "$stderr" = "evquery: warning: path 'id[\"orig_h\"]' (-w) matched no event" ] || fail_with "stderr"
}

@test "rows_escape_ctl (for raw -r output): C0, DEL and C1 as \\xHH, tab and newline kept on request" {
	check_table \
		"ctl${T}611b5b316d07${T}a\\x1b[1m\\x07|a\\x1b[1m\\x07" \
		"ctl${T}7f00${T}\\x7f\\x00|\\x7f\\x00" \
		"ctl${T}c29bc285c2a0c3a9${T}\\x9b\\x85$(printf '\xc2\xa0\xc3\xa9')|\\x9b\\x85$(printf '\xc2\xa0\xc3\xa9')" \
		"ctl${T}c2${T}$(printf '\xc2')|$(printf '\xc2')" \
		"ctl${T}0d5c${T}\\x0d\\|\\x0d\\"
	run "$EVUNIT/json_test" <<<"ctl${T}6109620a63"
	[ "$status" -eq 0 ] && [ "$output" = $'a\tb\nc|a\\x09b\\x0ac' ] || fail_with "tab and newline"
}
