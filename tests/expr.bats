#!/usr/bin/env bats
# lib/expr: the expression language of evtools-expr(7).
# Driven through $EVUNIT/expr_test (tests/unit/expr_test.c): it compiles
# one expression and prints, per input event, "true"/"false" or (with
# --value) the value as JSON.

load helper

NOW=2026-11-27T12:00:00Z

# The event most rows look at.  payload.note is "café" written with an
# escape, payload.customer the same word capitalised and raw.
EV='{"event_id":"e1","aggregate_id":"order-42","event_type":"OrderPlaced","timestamp":"2026-11-20T10:00:00Z","version":3,"seq":17,"payload":{"total":150,"amount":99.5,"currency":"EUR","customer":"Café","note":"caf\u00e9","items":[{"sku":"A-1","qty":2},{"sku":"B-2","qty":1}],"b-c":5,"odd key":"x","0":"zero","tags":["new","vip"],"nul":null,"flag":true,"off":false,"empty":"","esc":"a\"b\\c","limit":100},"big":9223372036854775807,"bigger":9223372036854775808,"d53":9007199254740993,"f53":9007199254740992.0,"neg":-7}'

# rows OPTION... : rows "EXPR => WANT" on stdin (blank and # lines
# skipped).  Each EXPR is compiled with the options and --now $NOW and
# run over the one event $EVENT (default $EV); with --value WANT is the
# JSON value, else "true" or "false".  Status 0 and an empty stderr are
# required.
rows() {
	local line expr want
	while IFS= read -r line; do
		case $line in '' | '#'*) continue ;; esac
		expr=${line%% => *}
		want=${line#* => }
		run_split "$EVUNIT/expr_test" --now "$NOW" "$@" "$expr" <<<"${EVENT:-$EV}"
		if [ "$status" -ne 0 ] || [ -n "$stderr" ] || [ "$output" != "$want" ]; then
			fail_with "expr '$expr': want '$want'"
			return 1
		fi
	done
}

values() { rows --value "$@"; }

# compile_error EXPR COLUMN MESSAGE [OPTION...]: exit 2, nothing on
# stdout, and exactly this on stderr (EXPR is ASCII, one line):
#   expr_test: expression: column COLUMN: MESSAGE
#     EXPR
#     <COLUMN-1 spaces>^
compile_error() {
	local pad want
	pad=$(printf '%*s' "$(($2 - 1))" '')
	want="expr_test: expression: column $2: $3
  $1
  $pad^"
	run_split "$EVUNIT/expr_test" "${@:4}" "$1" <<<"$EV"
	[ "$status" -eq 2 ] || { fail_with "'$1': status $status, want 2"; return 1; }
	[ -z "$output" ] || { fail_with "'$1': stdout not empty"; return 1; }
	[ "$stderr" = "$want" ] || { fail_with "'$1': stderr differs, want:
$want"; return 1; }
}

# ---- literals -------------------------------------------------------------

@test "literals: numbers keep their text, strings in either quote, true false null" {
	values <<'EOF'
42 => 42
-7 => -7
3.25 => 3.25
1e3 => 1e3
2.5E-3 => 2.5E-3
0 => 0
"it's" => "it's"
'say "hi"' => "say \"hi\""
'it\'s' => "it's"
"tab\there" => "tab\there"
"caf\u00e9" => "café"
"\ud83d\ude00" => "😀"
"a\/b" => "a/b"
'' => ""
true => true
false => false
null => null
EOF
}

@test "literals: arrays of constants, nested, with negative numbers and \$NAME" {
	values --arg a OrderPlaced --argjson o '{"k":[1]}' <<'EOF'
[] => []
[1, "a", [2, [true, null]], -3, 1.5] => [1,"a",[2,[true,null]],-3,1.5]
['x', "y"] => ["x","y"]
[$a, $o, $o.k] => ["OrderPlaced",{"k":[1]},[1]]
len([[], [], []]) => 3
EOF
}

# ---- paths ----------------------------------------------------------------

@test "paths: members, indexes, quoted members, a leading dot" {
	values <<'EOF'
payload.total => 150
.payload.total => 150
payload.items.0.sku => "A-1"
payload.items[1].sku => "B-2"
payload.items.1["sku"] => "B-2"
payload["b-c"] => 5
payload['b-c'] => 5
payload[ "b-c" ] => 5
.["payload"]["odd key"] => "x"
.payload.["odd key"] => "x"
payload.items.0 => {"sku":"A-1","qty":2}
payload.tags => ["new","vip"]
type(.) => "object"
EOF
}

@test "paths: a digit segment indexes an array and names a member of an object" {
	values <<'EOF'
payload.0 => "zero"
payload[0] => "zero"
payload["0"] => "zero"
payload.tags.1 => "vip"
payload.tags[0] => "new"
payload.tags["0"] => null
EOF
}

@test "paths: anything missing is null, never an error" {
	values <<'EOF'
nothing => null
nothing.deeper.still => null
payload.items.5 => null
payload.items.sku => null
payload.total.x => null
payload.tags.01 => null
payload.nul => null
EOF
}

@test "paths: keywords are ordinary member names after a dot" {
	EVENT='{"in":"kw","not":{"and":1},"true":2}' values <<'EOF'
.in => "kw"
.not.and => 1
.true => 2
.["true"] + 1 => 3
EOF
}

# ---- envelope fields ------------------------------------------------------

@test "fields: @id @key @type @version @seq @payload @time @line" {
	values <<'EOF'
@id => "e1"
@key => "order-42"
@type => "OrderPlaced"
@version => 3
@seq => 17
@payload.total => 150
@payload["b-c"] => 5
@payload.items.1.qty => 1
@time => "2026-11-20T10:00:00.000000Z"
type(@time) => "time"
@line => 1
type(@line) => "number"
EOF
}

@test "fields: the field map moves @type @key @time, and the time unit applies" {
	EVENT='{"kind":"Login","ts":1795737600123,"payload":{"user":"u1"}}' \
	values --type-field kind --time-field ts --key-field payload.user <<'EOF'
@type => "Login"
@key => "u1"
@time => "2026-11-27T00:00:00.123000Z"
@time == 1795737600123 => true
EOF
	EVENT='{"timestamp":1795737600}' values --time-unit ms <<'EOF'
@time => "1970-01-21T18:48:57.600000Z"
EOF
}

@test "fields: an unparsable or missing @time is null; has(@time) only asks for the field" {
	EVENT='{"timestamp":"yesterday"}' values <<'EOF'
@time => null
type(@time) => "null"
has(@time) => true
@time > "2000-01-01" => false
EOF
	EVENT='{}' values <<'EOF'
@time => null
has(@time) => false
EOF
}

@test "fields: @line counts input lines" {
	run_split "$EVUNIT/expr_test" --value '@line * 10' <<'EOF'
{"a":1}
{"a":2}
{"a":3}
EOF
	[ "$status" -eq 0 ] && [ "$output" = $'10\n20\n30' ] && [ -z "$stderr" ] || fail_with "line"
}

# ---- precedence -----------------------------------------------------------

@test "precedence: && binds tighter than ||, and/or the same" {
	values <<'EOF'
true || false && false => true
(true || false) && false => false
false && true || true => true
true or false and false => true
false and true or true => true
EOF
}

@test "precedence: ! binds tighter than comparisons, the word not looser" {
	values <<'EOF'
!1 == 2 => false
!(1 == 2) => true
not 1 == 2 => true
(not 1) == 2 => false
not (1 == 2) => true
!null == true => true
!!true => true
!!!true => false
not not true => true
not payload.total > 100 => false
not payload.currency == "USD" => true
not payload.total - 50 > 100 => true
EOF
}

@test "precedence: not binds tighter than && and ||" {
	values <<'EOF'
not false and false => false
not true or true => true
true and not false => true
false or not 1 == 2 => true
1 == 1 and not 2 == 3 => true
not !true => true
EOF
}

@test "precedence: not cannot follow a comparison or arithmetic operator" {
	compile_error 'a == not b' 6 "expected a value, found 'not' (write '!x' or '(not x)' here)"
	compile_error '1 + not 2' 5 "expected a value, found 'not' (write '!x' or '(not x)' here)"
	values <<'EOF'
false == !true => true
false == (not true) => true
EOF
}

@test "precedence: c ? a : b is loosest and groups to the right" {
	values <<'EOF'
true ? 1 : 2 => 1
false ? 1 : 2 => 2
null ? 1 : 2 => 2
1 ? "y" : "n" => "n"
payload.total > 100 ? "big" : "small" => "big"
false ? 1 : true ? 2 : 3 => 2
true ? false ? 1 : 2 : 3 => 2
true || false ? 1 : 2 => 1
false && true ? 1 : 2 => 2
not true ? 1 : 2 => 2
nothing ?? 0 > 5 ? "yes" : "no" => "no"
(true ? 1 : 2) + 10 => 11
true ? nothing : 1 => null
EOF
	compile_error 'a ? b' 6 "expected ':'"
	compile_error 'a ? b c' 7 "expected ':', found 'c'"
	compile_error 'a : b' 3 "unexpected ':'"
	compile_error 'a ? : b' 5 "expected a value, found ':'"
}

@test "precedence: ?? binds tighter than comparisons and looser than arithmetic" {
	values <<'EOF'
1 ?? 2 == 2 => false
1 ?? (2 == 2) => 1
null ?? 2 == 2 => true
1 ?? 2 + 10 => 1
(1 ?? 2) + 10 => 11
nothing ?? payload.nul ?? 4 => 4
payload.empty ?? "x" => ""
payload.off ?? true => false
EOF
}

@test "precedence: * / % before + -, left to right, unary minus first" {
	values <<'EOF'
1 + 2 * 3 => 7
(1 + 2) * 3 => 9
10 - 4 - 3 => 3
100 / 10 / 5 => 2
2 * 3 % 4 => 2
2 * (3 % 4) => 6
-2 * -3 => 6
- 2 * 3 => -6
-(2 + 3) => -5
--5 => 5
-payload.total => -150
1 + 2 == 3 && 2 * 2 == 4 => true
EOF
}

# ---- comparisons ----------------------------------------------------------

@test "comparisons: numbers by value, strings bytewise" {
	values <<'EOF'
1 == 1 => true
1 == 1.0 => true
1e2 == 100 => true
1 != 2 => true
2 > 1 => true
2 >= 2 => true
1 < 1 => false
1 <= 1 => true
1.5 < 2 => true
-0.0 == 0 => true
"abc" < "abd" => true
"ab" < "abc" => true
"b" > "abc" => true
"Z" < "a" => true
"é" > "z" => true
"a" == "a" => true
"a" == "A" => false
"a" <= "a" => true
EOF
}

@test "comparisons: different types are never equal and never ordered" {
	values <<'EOF'
1 == "1" => false
1 != "1" => true
true == 1 => false
true > false => false
null == false => false
null == 0 => false
"" == null => false
[1] < [2] => false
payload < payload => false
EOF
}

@test "comparisons: a string ordered against a number is false, with one warning per comparison" {
	run_split "$EVUNIT/expr_test" 'PRIORITY <= 3' <<'EOF'
{"PRIORITY":"6"}
{"PRIORITY":"2"}
{"PRIORITY":2}
EOF
	[ "$status" -eq 0 ] && [ "$output" = $'false\nfalse\ntrue' ] || fail_with "output"
	[ "$stderr" = "expr_test: warning: expression: column 10: PRIORITY <= 3 compares a string with a number (false); use num(PRIORITY) to compare as numbers" ] ||
		fail_with "stderr"
	# each comparison of the source once, naming the string side; the
	# source is shown on one line
	run_split "$EVUNIT/expr_test" $'a > 1 ||\n  2.5 >= b || a < 1' <<<'{"a":"x","b":"y"}'
	[ "$status" -eq 0 ] && [ "$output" = false ] || fail_with "output 2"
	[ "$stderr" = "expr_test: warning: expression: column 3: a > 1 compares a string with a number (false); use num(a) to compare as numbers
expr_test: warning: expression: column 16: 2.5 >= b compares a string with a number (false); use num(b) to compare as numbers
expr_test: warning: expression: column 26: a < 1 compares a string with a number (false); use num(a) to compare as numbers" ] ||
		fail_with "stderr 2"
	run_split "$EVUNIT/expr_test" '(lower(a) + "1") > -(2)' <<<'{"a":"X"}'
	[ "$stderr" = 'expr_test: warning: expression: column 18: (lower(a) + "1") > -(2) compares a string with a number (false); use num((lower(a) + "1")) to compare as numbers' ] ||
		fail_with "stderr 3"
}

@test "comparisons: ==, num(), null, times and two strings do not warn" {
	rows <<'EOF'
payload.currency == 3 => false
payload.currency != 3 => true
num("7") > 3 => true
nothing < 3 => false
"b" > "a" => true
@time > 1764000000 => true
payload.currency in [1, 2] => false
EOF
}

@test "comparisons: arrays and objects compare deeply" {
	values --argjson o '{"qty":2,"sku":"A-1"}' <<'EOF'
[1,2] == [1,2] => true
[1,2] == [2,1] => false
[1,[2]] == [1,[2.0]] => true
[1] != [1] => false
payload.tags == ["new","vip"] => true
payload.tags == ["vip","new"] => false
payload.items.0 == $o => true
payload.items.1 == $o => false
payload == payload => true
EOF
}

@test "comparisons: do not chain" {
	compile_error 'a < b < c' 7 'comparison operators do not chain'
	compile_error 'a == b != c' 8 'comparison operators do not chain'
	compile_error '1 in [1] in [[1]]' 10 'comparison operators do not chain'
	compile_error 'a =~ "x" == true' 10 'comparison operators do not chain'
	values <<'EOF'
(1 < 2) == true => true
(1 < 2) == (2 < 3) => true
EOF
}

# ---- null and truth -------------------------------------------------------

@test "truth: a condition holds only when it is exactly true" {
	rows <<'EOF'
true => true
false => false
null => false
nothing => false
1 => false
"true" => false
[true] => false
payload.flag => true
payload.off => false
EOF
}

@test "truth: ! and not are true for anything that is not true" {
	rows <<'EOF'
!null => true
!nothing => true
!1 => true
!"x" => true
!false => true
!true => false
not payload.flag => false
not payload.nul => true
EOF
}

@test "null: missing paths compare equal to null only, and order with nothing" {
	rows <<'EOF'
nothing == null => true
nothing != null => false
nothing == payload.nul => true
payload.nul == null => true
null == null => true
null != null => false
nothing > 0 => false
nothing < 0 => false
nothing >= null => false
nothing == 0 => false
nothing != 0 => true
EOF
}

@test "&& and || short-circuit and give booleans" {
	values <<'EOF'
1 && true => false
true && 1 => false
1 || true => true
null || null => false
true || nothing.x => true
payload.total > 100 && payload.currency == "EUR" => true
payload.total > 200 || payload.currency == "USD" => false
a || b || c || d || payload.flag => true
EOF
}

# ---- arithmetic -----------------------------------------------------------

@test "arithmetic: integers stay exact, / gives a decimal unless it divides" {
	values <<'EOF'
payload.total + 1 => 151
payload.total - 200 => -50
payload.total * 2 => 300
7 / 2 => 3.5
6 / 3 => 2
6 / 3 == 2 => true
-7 / 2 => -3.5
1 / 3 => 0.3333333333333333
0.1 + 0.2 => 0.30000000000000004
2 * 0.5 => 1
payload.amount * 2 => 199
payload.amount + 0.25 => 99.75
EOF
}

@test "arithmetic: % is the remainder with the dividend's sign, fmod on decimals" {
	values <<'EOF'
7 % 3 => 1
-7 % 3 => -1
7 % -3 => 1
7.5 % 2 => 1.5
-7.5 % 2 => -1.5
9223372036854775807 % 10 => 7
-9223372036854775808 % -1 => 0
EOF
}

@test "arithmetic: division or remainder by zero is null" {
	values <<'EOF'
payload.total / 0 => null
payload.total % 0 => null
1.5 / 0 => null
1 / 0.0 => null
0 / 0 => null
5 % 0.0 => null
EOF
}

@test "arithmetic: null or a non-number operand gives null" {
	values <<'EOF'
nothing + 1 => null
1 - nothing => null
null * 2 => null
"2" + 1 => null
"a" - "b" => null
"a" * 2 => null
true + 1 => null
[1] + [2] => null
payload + 1 => null
-"x" => null
-null => null
EOF
}

@test "+ joins two strings, as in jq" {
	values --arg sep / <<'EOF'
"a" + "b" => "ab"
"" + "" => ""
payload.currency + $sep + @type => "EUR/OrderPlaced"
payload.note + "!" => "café!"
payload.esc + payload.esc => "a\"b\\ca\"b\\c"
len("ab" + "cd") => 4
"a" + "b" == "ab" => true
"a\u0000" + "b" => "a\u0000b"
"a" + 1 => null
1 + "a" => null
"a" + nothing => null
"x" + str(1) => "x1"
EOF
}

# ---- 64-bit integers ------------------------------------------------------

@test "int64: exact up to 2^63-1, overflow falls back to a double" {
	values <<'EOF'
big => 9223372036854775807
big == 9223372036854775807 => true
big - 1 => 9223372036854775806
big + 0 => 9223372036854775807
big + 1 => 9.223372036854776e+18
big + 1 > big => true
big + 1 == big => false
4611686018427387903 * 2 => 9223372036854775806
4611686018427387904 * 2 => 9.223372036854776e+18
3037000500 * 3037000500 => 9.22337203700025e+18
-9223372036854775808 => -9223372036854775808
-9223372036854775808 - 1 => -9.223372036854776e+18
-(-9223372036854775808) => 9.223372036854776e+18
-9223372036854775808 / -1 => 9.223372036854776e+18
EOF
}

@test "int64: integers and doubles compare exactly, beyond 2^53 too" {
	values <<'EOF'
d53 => 9007199254740993
d53 == 9007199254740993 => true
d53 == 9007199254740992 => false
d53 == f53 => false
d53 > f53 => true
f53 == 9007199254740992 => true
9007199254740993 != 9007199254740992.0 => true
9007199254740992 == 9007199254740992.0 => true
9223372036854775807 == 9223372036854775808.0 => false
9223372036854775807 < 9223372036854775808.0 => true
EOF
}

@test "int64: integers beyond 64 bits are doubles that keep their text" {
	values <<'EOF'
bigger => 9223372036854775808
type(bigger) => "number"
str(bigger) => "9223372036854775808"
bigger > big => true
bigger == big => false
bigger == 9223372036854775808 => true
bigger - 1 => 9.223372036854776e+18
12345678901234567890 > big => true
EOF
}

@test "numbers: two numbers as written compare exactly, whatever their size" {
	EVENT='{"x":9007199254740993.0,"y":9007199254740992.0,"h":1e400,"g":1e399,"s":"9007199254740993","i":9007199254740992}' values <<'EOF'
x > y => true
x == y => false
9007199254740993.0 > 9007199254740992.0 => true
9007199254740993.0 == 9007199254740992 => false
1e400 > 1e399 => true
1e400 == 1e401 => false
-1e400 < -1e399 => true
h > g => true
h == 1e400 => true
h == 10e399 => true
1e-400 > 0 => true
0.1e1 == 1 => true
1.50 == 1.5 => true
-0 == 0 => true
num(s) > i => true
num(s) == i + 1 => true
2 * 3 == 6.0 => true
x - 1 > y => false
EOF
}

@test "numbers: in agrees with == on exact numbers, deep equality too" {
	EVENT='{"a":[9007199254740992.0,1e400],"x":9007199254740993.0}' values <<'EOF'
9007199254740993.0 in [9007199254740992.0] => false
9007199254740992 in [9007199254740992.0] => true
x in a => false
1e400 in a => true
1e401 in a => false
100 in [1e2] => true
[9007199254740993.0] == [9007199254740992.0] => false
[1e400] == [1e401] => false
[1.0, 1e2] == [1, 100] => true
contains(a, 1e400) => true
contains(a, 1e401) => false
EOF
}

# ---- strings --------------------------------------------------------------

@test "strings: escaped and raw spellings of the same text are equal" {
	values <<'EOF'
payload.note == "café" => true
payload.note == "caf\u00e9" => true
"caf\u00e9" == "café" => true
payload.note == payload.customer => false
lower(payload.customer) == payload.note => true
payload.esc == 'a"b\\c' => true
payload.esc == "a\"b\\c" => true
len(payload.esc) => 5
payload.note => "café"
"a\u0000b" == "a\u0000b" => true
"a\u0000b" == "a" => false
len("a\u0000b") => 3
EOF
}

# ---- in -------------------------------------------------------------------

@test "in: array literals" {
	values <<'EOF'
"vip" in ["new", "vip"] => true
"old" in ["new", "vip"] => false
1 in [1.0, 2] => true
2 in ["2"] => false
null in [null] => true
nothing in [null] => true
[1] in [[1], [2]] => true
payload.currency in ["EUR", "USD"] => true
@type in ["OrderPlaced", "OrderPaid"] => true
payload.note in ["café"] => true
"x" in [] => false
EOF
}

@test "in: arrays from the event and from \$NAME; anything else is false" {
	values --argjson types '["OrderPlaced","OrderPaid"]' --argjson o '{"qty":1,"sku":"B-2"}' \
		--arg s vip --argjson n 5 <<'EOF'
"vip" in payload.tags => true
"old" in payload.tags => false
$s in payload.tags => true
$o in payload.items => true
"A-1" in payload.items => false
@type in $types => true
"x" in "xyz" => false
"x" in payload => false
"x" in nothing => false
5 in $n => false
EOF
}

# ---- regular expressions --------------------------------------------------

@test "regex: =~ searches with PCRE2 (Perl) syntax, =~* ignores case" {
	values --arg re '^Order(Placed|Paid)$' <<'EOF'
event_type =~ "^Order" => true
event_type =~ "placed$" => false
event_type =~* "placed$" => true
event_type =~* "^ORDER(PLACED|PAID)$" => true
event_type =~ "(?i)^orderplaced$" => true
event_type =~ $re => true
"abc" =~ "b" => true
"" =~ "^$" => true
"aaa" =~ "^a{3}$" => true
"aaaa" =~ "^a{1,3}$" => false
"x.y" =~ "^x\\.y$" => true
"xzy" =~ "^x\\.y$" => false
"a|b" =~ "[|]" => true
"A-1" =~ "^[[:upper:]]-[[:digit:]]$" => true
"aaa" =~ "^a+?$" => true
"price: 10 EUR" =~ "\\d+(?= EUR)" => true
"price: 10 USD" =~ "\\d+(?= EUR)" => false
EOF
}

@test "regex: \\d \\w \\s \\b and the other Perl escapes work" {
	values <<'EOF'
"order 42" =~ "\\d+" => true
"order" =~ "\\d" => false
"order 42" =~ "^\\w+\\s\\d+$" => true
"a-b" =~ "^\\w+$" => false
"foo bar" =~ "\\bbar\\b" => true
"foobar" =~ "\\bbar\\b" => false
"a\tb" =~ "a\\sb" => true
"10.0.0.1" =~ "^\\d{1,3}(\\.\\d{1,3}){3}$" => true
"a.b" =~ "\\Qa.b\\E" => true
"axb" =~ "\\Qa.b\\E" => false
"\u0001" =~ "\\x01" => true
EOF
}

@test "regex: back-references and named groups work" {
	values <<'EOF'
"abcabc" =~ "^(abc)\\1$" => true
"abcabd" =~ "^(abc)\\1$" => false
"hello" =~ "(\\w)\\1" => true
"helo" =~ "(\\w)\\1" => false
"say \"hi\"" =~ "([\"'])hi\\1" => true
"say \"hi'" =~ "([\"'])hi\\1" => false
"abab" =~ "^(?<p>ab)\\k<p>$" => true
EOF
}

@test "regex: . matches a newline, \$ only at the very end, ^ only at the start" {
	values <<'EOF'
"a\nb" =~ "^a.b$" => true
"ab\n" =~ "b$" => false
"ab\n" =~ "b\\n$" => true
"a\nb" =~ "^b" => false
"a\nb" =~ "(?m)^b" => true
"a\nb" =~ "a$" => false
EOF
}

@test "regex: UTF-8 characters and Unicode classes and case" {
	values <<'EOF'
payload.note =~ "^caf.$" => true
payload.customer =~* "^CAFÉ$" => true
payload.customer =~ "^CAFÉ$" => false
"é" =~ "^\\w$" => true
"٣" =~ "^\\d$" => true
"Σ" =~* "σ" => true
"日本" =~ "^.{2}$" => true
"x\u00a0y" =~ "x\\sy" => true
EOF
}

@test "regex: the left side must be a string" {
	values <<'EOF'
payload.total =~ "150" => false
nothing =~ ".*" => false
payload.tags =~ "vip" => false
payload.nul =~* "" => false
EOF
}

@test "regex: strings with \\u0000 are matched whole, and patterns may hold one" {
	values <<'EOF'
"a\u0000b" =~ "b$" => true
"a\u0000b" =~ "^a" => true
"a\u0000b" =~ "^ab$" => false
"a\u0000b" =~ "^a.b$" => true
"a\u0000b" =~ "a\u0000b" => true
"a\u0000b" =~ "a\\x00b" => true
EOF
}

@test "regex: a pathological pattern does not compile, at once" {
	compile_error 's =~ "a{1,255}+++++++++++++"' 6 \
		'bad regular expression at byte 10 of the pattern: quantifier does not follow a repeatable item'
	compile_error 's =~ "((a{255}){255}){255}"' 6 \
		'bad regular expression at byte 21 of the pattern: regular expression is too large'
	compile_error 'a =~ "(a)\\2"' 6 \
		'bad regular expression at byte 5 of the pattern: reference to non-existent subpattern'
	compile_error 'a =~ "\\C"' 6 \
		'bad regular expression at byte 3 of the pattern: using \C is disabled by the application'
}

@test "regex: a+\$ on one 50 KB string is fast, not quadratic" {
	local a
	a=$(printf 'a%.0s' $(seq 51199))
	printf '{"s":"%sb"}\n{"s":"%s"}\n' "$a" "$a" >"$BATS_TEST_TMPDIR/big.ndjson"
	run_split timeout 10 "$EVUNIT/expr_test" 's =~ "a+$"' <"$BATS_TEST_TMPDIR/big.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = $'false\ntrue' ] && [ -z "$stderr" ] || fail_with "a+\$"
	run_split timeout 10 "$EVUNIT/expr_test" 's =~ "\\w+\\W\\W"' <"$BATS_TEST_TMPDIR/big.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = $'false\nfalse' ] && [ -z "$stderr" ] || fail_with "\\w+\\W\\W"
}

@test "regex: a match that hits its limit fails the evaluation, with the reason" {
	local a
	a=$(printf 'a%.0s' $(seq 51199))
	printf '{"s":"%sb"}\n{"s":"aab"}\n{"s":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}\n' "$a" >"$BATS_TEST_TMPDIR/big.ndjson"
	run_split timeout 10 "$EVUNIT/expr_test" 's =~ "(a|aa)+$"' <"$BATS_TEST_TMPDIR/big.ndjson"
	[ "$status" -eq 3 ] || fail_with "status"
	[ "$output" = "false" ] || fail_with "output"
	[ "$stderr" = "expr_test: <stdin>:1: expression: column 3: regular expression: heap limit exceeded on a string of 51200 bytes
expr_test: <stdin>:3: expression: column 3: regular expression: match limit exceeded on a string of 39 bytes" ] ||
		fail_with "stderr"
	# a pattern's own settings may lower the limits, never raise them
	run_split "$EVUNIT/expr_test" 's =~ "(*LIMIT_MATCH=100000000)(*LIMIT_DEPTH=100000000)(*LIMIT_HEAP=1000000)(a|aa)+$"' \
		<<<'{"s":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}'
	[ "$status" -eq 3 ] && [ -z "$output" ] || fail_with "inline limits"
	[ "$stderr" = "expr_test: <stdin>:1: expression: column 3: regular expression: match limit exceeded on a string of 39 bytes" ] ||
		fail_with "inline limits stderr"
	run_split "$EVUNIT/expr_test" 's =~ "(*LIMIT_MATCH=10)(a|aa)+$"' <<<'{"s":"aaaaaaaaaaab"}'
	[ "$status" -eq 3 ] && [ -z "$output" ] || fail_with "lower limit"
	[ "$stderr" = "expr_test: <stdin>:1: expression: column 3: regular expression: match limit exceeded on a string of 12 bytes" ] ||
		fail_with "lower limit stderr"
	# never a silent false: not, || and --value fail the same way
	run_split "$EVUNIT/expr_test" --value 'not (s =~ "(a|aa)+$") || true' <<<'{"s":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}'
	[ "$status" -eq 3 ] && [ -z "$output" ] || fail_with "not/||"
	[ "$stderr" = "expr_test: <stdin>:1: expression: column 8: regular expression: match limit exceeded on a string of 39 bytes" ] ||
		fail_with "not/|| stderr"
}

@test "regex: patterns are at most 1024 bytes" {
	local a1022 a1025
	a1022=$(printf 'a%.0s' $(seq 1022))
	a1025=${a1022}aaa
	EVENT="{\"s\":\"$a1022\"}" values <<EOF
s =~ "^$a1022\$" => true
EOF
	run_split "$EVUNIT/expr_test" "s =~ \"$a1025\"" </dev/null
	[ "$status" -eq 2 ] || fail_with "status"
	[ "${stderr%%$'\n'*}" = "expr_test: expression: column 6: regular expression longer than 1024 bytes" ] ||
		fail_with "message"
}

@test "regex: a bad pattern is reported at its column, with the byte of the pattern" {
	compile_error 'event_type =~ "(Order"' 15 \
		'bad regular expression at byte 7 of the pattern: missing closing parenthesis'
	compile_error 'a =~ "[z-a]"' 6 \
		'bad regular expression at byte 4 of the pattern: range out of order in character class'
}

@test "regex: the pattern must be a string literal or a string \$NAME" {
	compile_error 'a =~ b' 6 "expected a string or \$NAME after '=~'"
	compile_error 'a =~* (1)' 7 "expected a string or \$NAME after '=~*'"
	compile_error 'a =~ $n' 6 '$n is not a string' --argjson n 5
	compile_error 'a =~ $re' 6 \
		'bad regular expression at byte 3 of the pattern: quantifier does not follow a repeatable item' --arg re 'x**'
}

# ---- functions ------------------------------------------------------------

@test "has(): true when the path resolves, even to null" {
	values <<'EOF'
has(payload.total) => true
has(payload.nul) => true
has(payload.missing) => false
has(.payload["b-c"]) => true
has(payload.items.1.sku) => true
has(payload.items.2) => false
has(@id) => true
has(@payload.total) => true
has(.) => true
!has(x) => true
EOF
	compile_error 'has(1)' 5 'has() takes a path'
	compile_error 'has(a ?? b)' 5 'has() takes a path'
	compile_error 'has(@line)' 5 'has() takes a path'
	compile_error 'has($s)' 5 'has() takes a path' --arg s x
}

@test "len(): code points, elements, members, else null" {
	values <<'EOF'
len("") => 0
len("café") => 4
len(payload.note) => 4
len("😀") => 1
len(payload.items) => 2
len(payload.items.0) => 2
len([]) => 0
len(5) => null
len(nothing) => null
len(true) => null
EOF
}

@test "lower() and upper(): letters of any script, other values null" {
	values <<'EOF'
lower("ÀÉÎ Straße") => "àéî straße"
upper("àéî straße") => "ÀÉÎ STRAßE"
upper("ǆemal") => "ǄEMAL"
lower("ΣΟΦΙΑ") => "σοφια"
upper(payload.note) => "CAFÉ"
lower("ABC-123") => "abc-123"
lower(5) => null
upper(nothing) => null
EOF
}

@test "contains(), startswith(), endswith()" {
	values <<'EOF'
contains("haystack", "st") => true
contains("haystack", "") => true
contains("haystack", "x") => false
contains(payload.note, "é") => true
contains(payload.tags, "vip") => true
contains(payload.tags, "old") => false
contains(payload.items, payload.items.1) => true
contains(5, 5) => false
contains("5", 5) => false
contains(nothing, "x") => false
startswith("prefix", "pre") => true
startswith("prefix", "fix") => false
startswith("pre", "prefix") => false
startswith(5, "5") => false
startswith(payload.note, "caf") => true
endswith("prefix", "fix") => true
endswith(payload.note, "é") => true
endswith("", "") => true
endswith("x", nothing) => false
EOF
}

@test "abs() and num()" {
	values <<'EOF'
abs(-5) => 5
abs(5) => 5
abs(-2.5) => 2.5
abs(neg) => 7
abs("5") => null
abs(nothing) => null
num(5) => 5
num("42") => 42
num("42") + 1 => 43
num("-1.5e3") => -1.5e3
num("-1.5e3") < 0 => true
num("12345678901234567890") => 12345678901234567890
num("0x10") => null
num(" 1") => null
num("01") => null
num("1.") => null
num("") => null
num(true) => null
num(payload.tags) => null
EOF
}

@test "str(): text as written, shortest decimals, RFC 3339, compact JSON" {
	values <<'EOF'
str("x") => "x"
str(42) => "42"
str(1.50) => "1.50"
str(payload.amount) => "99.5"
str(1e3) => "1e3"
str(1.0 / 4) => "0.25"
str(2 * 0.5) => "1"
str(0.1 + 0.2) => "0.30000000000000004"
str(big + 1) => "9.223372036854776e+18"
str(-7 * 3) => "-21"
str(true) => "true"
str(false) => "false"
str(null) => null
str(nothing) => null
str(payload.items.0) => "{\"sku\":\"A-1\",\"qty\":2}"
str([1, "a"]) => "[1,\"a\"]"
str(@time) => "2026-11-20T10:00:00.000000Z"
str(payload.total) == "150" => true
EOF
}

@test "str(): durations as days, hours, minutes, seconds, ms and us" {
	values <<'EOF'
str(dur("90s")) => "1m30s"
str(dur("1h30m")) => "1h30m"
str(dur("250ms")) => "250ms"
str(dur("0s")) => "0s"
str(dur("36h")) => "1d12h"
str(dur("1.5s")) => "1s500ms"
str(-dur("1d")) => "-1d"
str(now() - @time) => "7d2h"
EOF
}

@test "type(): every type" {
	values <<'EOF'
type(null) => "null"
type(nothing) => "null"
type(payload.nul) => "null"
type(true) => "boolean"
type(1) => "number"
type(1.5) => "number"
type(big + 1) => "number"
type("s") => "string"
type([]) => "array"
type(payload) => "object"
type(@time) => "time"
type(now()) => "time"
type(dur("1s")) => "duration"
EOF
}

@test "functions: unknown names and wrong argument counts do not compile" {
	compile_error 'foo(1)' 1 "unknown function 'foo'"
	compile_error 'x == bar ()' 6 "unknown function 'bar'"
	compile_error 'len()' 1 'len() takes 1 argument, not 0'
	compile_error 'len(1, 2)' 1 'len() takes 1 argument, not 2'
	compile_error 'a && contains("a")' 6 'contains() takes 2 arguments, not 1'
	compile_error 'now(1)' 1 'now() takes 0 arguments, not 1'
	compile_error 'len(1' 6 "expected ')'"
	compile_error 'len(1 2)' 7 "expected ',' or ')', found '2'"
}

# ---- time -----------------------------------------------------------------

@test "time: @time against strings, as option times are read" {
	values <<'EOF'
@time == "2026-11-20T10:00:00Z" => true
@time == "2026-11-20T11:00:00+01:00" => true
@time == "2026-11-20 10:00" => true
@time >= "2026-11-01" => true
@time < "2026-11-20" => false
@time > "2026-11-20" => true
@time <= "2026-11-20T10:00" => true
"2026-11-21" > @time => true
@time >= "-7d" => false
@time >= "-8d" => true
@time >= "@1795168800" => true
@time > "@1795168800" => false
EOF
}

@test "time: @time against numbers, read as epochs with the time unit" {
	values <<'EOF'
@time == 1795168800 => true
@time == 1795168800000 => true
@time == 1795168800000000 => true
@time == 1795168800.5 => false
@time < 1795168800.5 => true
@time > 5 => true
EOF
	EVENT='{"timestamp":"2026-11-20T10:00:00Z"}' values --time-unit ms <<'EOF'
@time == 1795168800000 => true
@time == 1795168800 => false
EOF
}

@test "time: now(), dur() and their arithmetic" {
	values <<'EOF'
now() => "2026-11-27T12:00:00.000000Z"
now() + dur("1h") => "2026-11-27T13:00:00.000000Z"
dur("1h") + now() => "2026-11-27T13:00:00.000000Z"
@time - dur("1h") => "2026-11-20T09:00:00.000000Z"
now() - now() => "0s"
now() - @time => "7d2h"
@time - now() => "-7d2h"
@time > now() - dur("15m") => false
@time > now() - dur("8d") => true
@time < now() => true
dur("1h") + dur("30m") => "1h30m"
dur("1h") - dur("2h") => "-1h"
dur("1.5h") => "1h30m"
dur("-5m") => "-5m"
abs(dur("-5m")) => "5m"
-dur("5m") => "-5m"
EOF
}

@test "time: durations against durations, strings and numbers (seconds)" {
	values <<'EOF'
now() - @time > dur("7d") => true
now() - @time > "7d" => true
now() - @time < "1w" => false
dur("1h") > dur("30m") => true
dur("1h") == "60m" => true
dur("90s") == "1m30s" => true
dur("1h") == 3600 => true
dur("1h") > 3599.5 => true
dur("-1h") < "-59m" => true
"2h" > dur("1h") => true
EOF
}

@test "time: what cannot be read as a time or duration compares false" {
	values <<'EOF'
@time > "garbage" => false
@time == "garbage" => false
@time != "garbage" => true
@time == true => false
@time > null => false
@time == payload => false
dur("1h") < "bad" => false
dur("1h") == @time => false
dur("1h") > @time => false
EOF
}

@test "time: other arithmetic on times and durations is null" {
	values <<'EOF'
@time + 1 => null
@time * 2 => null
@time + @time => null
dur("1h") + 1 => null
dur("5m") * 2 => null
@time - "2026-11-20" => null
EOF
}

@test "time: dur() takes a constant duration string" {
	compile_error 'dur("15x")' 5 'bad duration "15x"'
	compile_error 'dur(x)' 5 'dur() takes a string such as "15m"'
	compile_error 'dur(15)' 5 'dur() takes a string such as "15m"'
	values --arg d 2h <<'EOF'
dur($d) => "2h"
EOF
}

# ---- --arg and --argjson --------------------------------------------------

@test "\$NAME: --arg is a string, --argjson any JSON value" {
	values --arg s 5 --argjson n 5 --arg who "O'Brien \"x\"" --argjson cfg '{"limit":{"eur":100}}' <<'EOF'
$s => "5"
$s == 5 => false
$s == "5" => true
num($s) == 5 => true
$n == 5 => true
$n + 1 => 6
$who => "O'Brien \"x\""
$who == 'O\'Brien "x"' => true
$cfg.limit.eur => 100
$cfg.limit["eur"] => 100
$cfg.missing => null
payload.total > $cfg.limit.eur => true
EOF
}

@test "\$NAME: values are taken as they are, never as expression text" {
	values --arg s '\u0041" || true || "' --arg t 2026-11-01 --arg re '^Order' <<'EOF'
len($s) => 20
$s == "A" => false
@time >= $t => true
@type =~ $re => true
EOF
}

@test "\$NAME: the last definition wins, a bad byte becomes U+FFFD" {
	values --arg x 1 --arg x 2 --arg b $'a\xffb' <<'EOF'
$x => "2"
$b == "a\ufffdb" => true
EOF
}

@test "\$NAME: an undefined name does not compile" {
	compile_error 'payload.total > $limit' 17 '$limit is not defined (use --arg or --argjson)'
	compile_error '@type in [$a]' 11 '$a is not defined (use --arg or --argjson)'
}

@test "\$NAME: --argjson must be valid JSON" {
	run_split "$EVUNIT/expr_test" --argjson x '{bad' 'x' </dev/null
	[ "$status" -eq 2 ] || fail_with "status"
	[ "$stderr" = "expr_test: --argjson x: invalid JSON: unexpected 'b', expected a string key at column 2" ] ||
		fail_with "stderr"
}

# ---- aliases (evcep step names) -------------------------------------------

@test "aliases: NAME.path reads the event bound to the step, a bare name is that event" {
	EVENT='{"payload":{"amount":150},"l":"own"}' \
	values --alias l '{"payload":{"limit":100},"user":"u1"}' --alias m - <<'EOF'
l.payload.limit => 100
payload.amount > l.payload.limit => true
l => {"payload":{"limit":100},"user":"u1"}
l.user == "u1" => true
has(l.payload.limit) => true
has(l.nothing) => false
.l => "own"
m => null
m.x => null
has(m) => false
has(m.x) => false
m == null => true
EOF
}

@test "aliases: without them the same text is a path in the event" {
	EVENT='{"l":{"payload":{"limit":7}}}' values <<'EOF'
l.payload.limit => 7
EOF
}

# ---- syntax errors --------------------------------------------------------

@test "errors: the message names the column and draws a caret under it" {
	run_split "$EVUNIT/expr_test" 'payload.total >' </dev/null
	[ "$status" -eq 2 ] || fail_with "status"
	[ -z "$output" ] || fail_with "stdout"
	[ "$stderr" = "expr_test: expression: column 16: unexpected end of expression
  payload.total >
                 ^" ] || fail_with "stderr"
}

@test "errors: the caret counts characters, not bytes, and keeps tabs" {
	run_split "$EVUNIT/expr_test" '"é" == x &&' </dev/null
	[ "$stderr" = 'expr_test: expression: column 13: unexpected end of expression
  "é" == x &&
             ^' ] || fail_with "stderr"
	run_split "$EVUNIT/expr_test" $'a\t&& b b' </dev/null
	[ "$stderr" = $'expr_test: expression: column 8: unexpected \'b\'\n  a\t&& b b\n   \t     ^' ] ||
		fail_with "stderr"
}

@test "errors: in a source of several lines, the line of the column is shown" {
	run_split "$EVUNIT/expr_test" $'a &&\nb ==' </dev/null
	[ "$status" -eq 2 ] || fail_with "status"
	[ "$stderr" = 'expr_test: expression: column 10: unexpected end of expression
  b ==
      ^' ] || fail_with "stderr"
}

@test "errors: values, parentheses and stray tokens" {
	compile_error '' 1 'unexpected end of expression'
	compile_error '   ' 4 'unexpected end of expression'
	compile_error '(a' 3 "expected ')'"
	compile_error '(a b' 4 "expected ')', found 'b'"
	compile_error 'a b' 3 "unexpected 'b'"
	compile_error 'a )' 3 "unexpected ')'"
	compile_error 'a == )' 6 "expected a value, found ')'"
	compile_error 'a == ,' 6 "expected a value, found ','"
	compile_error '!' 2 'unexpected end of expression'
	compile_error 'true.x' 5 "unexpected '.x'"
}

@test "errors: operators that do not exist say what to write" {
	compile_error 'a = 1' 3 "unexpected '=' (use '==' to compare)"
	compile_error 'a & b' 3 "unexpected '&' (use '&&' or 'and')"
	compile_error 'a | b' 3 "unexpected '|': evtools expressions are not a pipe language (use '||' or 'or'; f(x), not x | f; any(ARR, COND) for elements)"
	compile_error 'a // b' 3 "unexpected '//' (jq's alternative operator is '??' here: a ?? b)"
	compile_error 'select(a > 1)' 1 "unknown function 'select' (an expression is already a condition: write COND, not select(COND))"
	compile_error 'test(a; "x")' 1 "unknown function 'test' (write s =~ \"RE\")"
	compile_error 'a # b' 3 "unexpected character '#'"
	compile_error 'a ^ 2' 3 "unexpected character '^'"
}

@test "errors: strings and numbers" {
	compile_error "a == 'x" 6 'unterminated string'
	compile_error 'a == "x\' 6 'unterminated string'
	compile_error 'a == "\q"' 7 "bad escape '\\q' in string"
	compile_error "a == \"it\\'s\"" 9 "bad escape '\\'' in string"
	compile_error '"\u12"' 2 'bad \u escape in string'
	compile_error '"\ud800"' 2 'lone surrogate escape \uD800 in string'
	compile_error '"\udc00x"' 2 'lone surrogate escape \uDC00 in string'
	compile_error '01 == 1' 1 "bad number '01'"
	compile_error '1.x' 1 "bad number '1.x'"
	compile_error 'x > 1.' 5 "bad number '1.'"
	compile_error '1e' 1 "bad number '1e'"
	compile_error '2abc' 1 "bad number '2abc'"
}

@test "errors: paths, fields and array literals" {
	compile_error 'a..b' 3 "expected a name after '.'"
	compile_error 'a.' 3 "expected a name after '.'"
	compile_error 'a[' 3 "expected a quoted name or an index after '['"
	compile_error 'a[x]' 3 "expected a quoted name or an index after '['"
	compile_error 'a[-]' 3 "expected a quoted name or an index after '['"
	compile_error 'a[]' 2 '[] (every element) is not allowed in expressions: use any(ARR, COND) or all(ARR, COND)'
	compile_error '.[] == 1' 2 '[] (every element) is not allowed in expressions: use any(ARR, COND) or all(ARR, COND)'
	compile_error 'a.-1' 3 "expected a name after '.'"
	compile_error 'a["x"' 6 "expected ']'"
	compile_error '@' 1 "expected a field name after '@'"
	compile_error '@foo' 1 "unknown field '@foo' (known: @id @key @type @time @payload @version @seq @line)"
	compile_error '@time.x' 6 '@time has no members'
	compile_error '@line[0]' 6 '@line has no members'
	compile_error '$' 1 "expected a name after '\$'"
	compile_error '[1, a]' 5 'array elements must be constants'
	compile_error '[1, -a]' 6 'array elements must be constants'
	compile_error '[1, (2)]' 5 'array elements must be constants'
	compile_error '[1, 2' 6 "expected ']'"
	compile_error '[1 2]' 4 "expected ',' or ']', found '2'"
	compile_error '[1,]' 4 "expected a value, found ']'"
}

@test "errors: a source that is not UTF-8" {
	compile_error $'a == "\xff"' 7 'invalid UTF-8'
}

# ---- limits ---------------------------------------------------------------

# nest N OPEN CORE CLOSE: OPEN N times, CORE, CLOSE N times.
nest() {
	local i s=
	for ((i = 0; i < $1; i++)); do s+=$2; done
	s+=$3
	for ((i = 0; i < $1; i++)); do s+=$4; done
	printf '%s' "$s"
}

@test "limits: 256 levels of parentheses, ! and arrays compile, 257 do not" {
	rows <<EOF
$(nest 256 '(' true ')') => true
$(nest 256 '!' true '') => true
$(nest 255 '[' 'true' ']') == $(nest 255 '[' 'true' ']') => true
len($(nest 254 'len(' '"x"' ')')) => false
EOF
	local x
	for x in "$(nest 257 '(' true ')')" "$(nest 257 '!' true '')" "$(nest 257 '[' '' ']')"; do
		run_split "$EVUNIT/expr_test" "$x" </dev/null
		[ "$status" -eq 2 ] || fail_with "status"
		[ "${stderr%%$'\n'*}" = "expr_test: expression: column 257: expression nested too deeply" ] ||
			fail_with "message"
	done
}

@test "limits: a chain of 256 operators compiles, 257 do not; || and && chains are flat" {
	local sum256 sum257 ors
	sum256="1$(printf '+1%.0s' $(seq 256))"
	sum257="$sum256+1"
	ors="$(printf 'x%.0s || ' $(seq 5000))true"
	values <<EOF
$sum256 => 257
$ors => true
EOF
	run_split "$EVUNIT/expr_test" "$sum257" </dev/null
	[ "$status" -eq 2 ] || fail_with "status"
	[ "${stderr%%$'\n'*}" = "expr_test: expression: column 514: expression nested too deeply" ] ||
		fail_with "message"
}

# ---- the driver's loop ----------------------------------------------------

@test "one compiled expression runs over every event of the input" {
	run_split "$EVUNIT/expr_test" 'payload.total > 100 && @type != "OrderCancelled"' <<'EOF'
{"event_type":"OrderPlaced","payload":{"total":150}}
{"event_type":"OrderPlaced","payload":{"total":50}}
{"event_type":"OrderCancelled","payload":{"total":150}}
{"event_type":"OrderPlaced","payload":{"total":"150"}}
{"event_type":"OrderPlaced","payload":{"total":100.5}}
{"event_type":"OrderPlaced"}
EOF
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = $'true\nfalse\nfalse\nfalse\ntrue\nfalse' ] || fail_with "output"
}

@test "strings are compared in place and decoded per event, whichever way they are written" {
	run_split "$EVUNIT/expr_test" 'lower(name) == "café" && name =~* "^CAF"' <<'EOF'
{"name":"café"}
{"name":"caf\u00e9"}
{"name":"CAF\u00c9"}
{"name":"cafe"}
{"name":"\u0063af\u00e9 "}
EOF
	[ "$status" -eq 0 ] && [ "$output" = $'true\ntrue\ntrue\nfalse\nfalse' ] || fail_with "output"
}

@test "a path in -w that matched no event is warned about once, after the output" {
	printf '{"a":1,"payload":{"city":"Lyon"}}\n{"a":2,"payload":{"city":null}}\n' >"$BATS_TEST_TMPDIR/c.ndjson"
	run_split evquery -w 'payload.cty == "Lyon" || payload.cty == "Osaka" || payload.city == null' "$BATS_TEST_TMPDIR/c.ndjson"
	[ "$status" -eq 0 ] || fail_with "status"
	[ "$output" = '{"a":2,"payload":{"city":null}}' ] || fail_with "output"
	[ "$stderr" = "evquery: warning: path 'payload.cty' (-w) matched no event" ] || fail_with "stderr"
}

@test "paths under has(), left of ??, a null value and no events at all are not warned about" {
	printf '{"a":1,"b":null}\n' >"$BATS_TEST_TMPDIR/c.ndjson"
	run_split evquery -c -w 'has(zz) || (yy ?? 1) == 1 || b == 1' "$BATS_TEST_TMPDIR/c.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = 1 ] && [ -z "$stderr" ] || fail_with "has/??/null"
	run_split evquery -c -w 'zz == 1' /dev/null
	[ "$status" -eq 0 ] && [ "$output" = 0 ] && [ -z "$stderr" ] || fail_with "no events"
	printf '{"aggregate_id":"a","event_type":"X","timestamp":"2026-01-01T00:00:00Z","payload":{}}\n' >"$BATS_TEST_TMPDIR/r.ndjson"
	run_split evreplay --where 'payload.qq == 1' "$BATS_TEST_TMPDIR/r.ndjson"
	[ "$stderr" = "evreplay: warning: path 'payload.qq' (--where) matched no event" ] || fail_with "evreplay"
}

@test "evquery -w: a string ordered against a number warns once, at the first such event" {
	printf '{"PRIORITY":2,"m":"a"}\n{"PRIORITY":"6","m":"b"}\n{"PRIORITY":"3","m":"c"}\n' >"$BATS_TEST_TMPDIR/j.ndjson"
	run_split evquery -w 'PRIORITY <= 3' "$BATS_TEST_TMPDIR/j.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = '{"PRIORITY":2,"m":"a"}' ] || fail_with "output"
	[ "$stderr" = "evquery: $BATS_TEST_TMPDIR/j.ndjson:2: warning: -w: column 10: PRIORITY <= 3 compares a string with a number (false); use num(PRIORITY) to compare as numbers" ] ||
		fail_with "stderr"
	run_split evquery -c -w 'num(PRIORITY) <= 3' "$BATS_TEST_TMPDIR/j.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = 2 ] && [ -z "$stderr" ] || fail_with "num()"
	run_split evproject -a count --where '3 >= PRIORITY' "$BATS_TEST_TMPDIR/j.ndjson"
	[ "$status" -eq 0 ] && [ "$output" = '{"count":1}' ] || fail_with "evproject"
	[ "$stderr" = "evproject: $BATS_TEST_TMPDIR/j.ndjson:2: warning: --where: column 3: 3 >= PRIORITY compares a string with a number (false); use num(PRIORITY) to compare as numbers" ] ||
		fail_with "evproject stderr"
}

# a line whose payload.s makes "(a|aa)+$" give up (39 bytes: match limit 4900)
limit_fixture() {
	{
		echo '{"aggregate_id":"k","event_type":"X","timestamp":"2026-01-01T00:00:00Z","payload":{"s":"aa"}}'
		echo '{"aggregate_id":"k","event_type":"X","timestamp":"2026-01-01T00:00:01Z","payload":{"s":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}}'
		echo '{"aggregate_id":"k","event_type":"X","timestamp":"2026-01-01T00:00:02Z","payload":{"s":"b"}}'
	} >"$BATS_TEST_TMPDIR/lim.ndjson"
}

@test "evquery -w: an event whose match hits a limit is rejected, with -v and -c too" {
	limit_fixture
	local f=$BATS_TEST_TMPDIR/lim.ndjson
	local why="evquery: $f:2: -w: column 11: regular expression: match limit exceeded on a string of 39 bytes"
	run_split evquery -w 'payload.s =~ "(a|aa)+$"' "$f"
	[ "$status" -eq 3 ] && [ "$output" = "$(sed -n 1p "$f")" ] && [ "$stderr" = "$why" ] || fail_with "-w"
	run_split evquery -v -w 'payload.s =~ "(a|aa)+$"' "$f"
	[ "$status" -eq 3 ] && [ "$output" = "$(sed -n 3p "$f")" ] && [ "$stderr" = "$why" ] || fail_with "-v"
	run_split evquery -c -w 'payload.s =~ "(a|aa)+$"' --errors "$BATS_TEST_TMPDIR/err.ndjson" "$f"
	[ "$status" -eq 3 ] && [ "$output" = 1 ] && [ "$stderr" = "$why" ] || fail_with "-c"
	run jq -r '"\(.line) \(.error)"' "$BATS_TEST_TMPDIR/err.ndjson"
	[ "$output" = "2 -w: column 11: regular expression: match limit exceeded on a string of 39 bytes" ] ||
		fail_with "--errors"
}

@test "evproject --where and evreplay --where reject an event whose match hits a limit" {
	limit_fixture
	local f=$BATS_TEST_TMPDIR/lim.ndjson
	run_split evproject -a count --where 'payload.s =~ "(a|aa)+$"' "$f"
	[ "$status" -eq 3 ] && [ "$output" = '{"count":1}' ] || fail_with "evproject"
	[ "$stderr" = "evproject: $f:2: --where: column 11: regular expression: match limit exceeded on a string of 39 bytes" ] ||
		fail_with "evproject stderr"
	run_split evreplay --where 'payload.s =~ "(a|aa)+$|b"' "$f"
	[ "$status" -eq 3 ] || fail_with "evreplay status"
	[ "$(jq -c '[.version, .state.s, .events_replayed]' <<<"$output")" = '[2,"b",2]' ] || fail_with "evreplay output"
	[ "$stderr" = "evreplay: $f:2: --where: column 11: regular expression: match limit exceeded on a string of 39 bytes" ] ||
		fail_with "evreplay stderr"
}

# ---- functions an analyst reaches for (jq's names) --------------------------

# A CloudTrail record: its CloudTrailEvent member is JSON inside a string.
CT='{"eventName":"ConsoleLogin","CloudTrailEvent":"{\"userIdentity\":{\"type\":\"Root\",\"arn\":\"arn:aws:iam::1:root\"},\"sourceIPAddress\":\"198.51.100.7\",\"n\":[1,2,3],\"big\":12345678901234567890}","bad":"{\"a\":","ips":[{"ip":"10.0.0.1","port":22},{"ip":"198.51.100.7","port":443}],"msg":"  Failed password for root  ","t":"2026-11-27T03:45:16.123456Z","e":1764215116}'

@test "fromjson parses JSON inside a string with the scanner; paths may follow a call" {
	EVENT=$CT values <<'EOF'
fromjson(CloudTrailEvent).userIdentity.type => "Root"
fromjson(CloudTrailEvent)["sourceIPAddress"] => "198.51.100.7"
fromjson(CloudTrailEvent).n[-1] => 3
fromjson(CloudTrailEvent).big => 12345678901234567890
fromjson(CloudTrailEvent).missing => null
fromjson(bad) => null
fromjson(eventName) => null
fromjson(ips) => null
fromjson("[1, 2]") => [1,2]
fromjson("\"x\"") => "x"
fromjson(" 7 ") => 7
fromjson("1 2") => null
fromjson("{\"a\":1,\"a\":2}") => null
(ips)[0].port => 22
(fromjson("[[1,2]]"))[0][1] => 2
len(fromjson(CloudTrailEvent).n) => 3
EOF
	EVENT=$CT rows <<'EOF'
fromjson(CloudTrailEvent).userIdentity.type == "Root" => true
fromjson(CloudTrailEvent).big == 12345678901234567890.0 => true
EOF
}

@test "negative indexes count from the end of an array; on an object [-1] is the member \"-1\"" {
	EVENT='{"a":[1,2,3],"o":{"-1":"m"},"s":"x"}' values <<'EOF'
a[-1] => 3
a[ -3 ] => 1
a[-4] => null
a[-0] => null
o[-1] => "m"
s[-1] => null
EOF
	EVENT='{"a":[1,2,3]}' values --argjson l '["y","z"]' <<'EOF'
$l[-1] => "z"
$l[-2] => "y"
EOF
}

@test "any and all: paths starting with . are of the element, others of the event" {
	EVENT=$CT values --argjson o '{"port":22,"ip":"10.0.0.1"}' <<'EOF'
any(ips, .port == 22) => true
all(ips, .port == 22) => false
all(ips, .port > 0) => true
any(ips, .ip == fromjson(CloudTrailEvent).sourceIPAddress && .port == 443) => true
any(ips, eventName == "ConsoleLogin") => true
any(fromjson(CloudTrailEvent).n, . > 2) => true
all(fromjson(CloudTrailEvent).n, . > 2) => false
any([], true) => false
all([], false) => true
any(missing, true) => false
all(missing, true) => false
all(eventName, true) => false
any(ips, has(.port)) => true
all(ips, has(.host)) => false
any([[1, 2], [3]], any(., . == 3)) => true
any([[1, 2], [3]], all(., . < 3)) => true
all([[1, 2], [3]], any(., . == 1)) => false
any(ips, . == $o) => true
EOF
}

@test "any and all: the condition must be a whole expression, the array any expression" {
	compile_error 'any(ips)' 1 'any() takes 2 arguments, not 1'
	compile_error 'all(ips, .port ==)' 18 "expected a value, found ')'"
	EVENT=$CT values <<'EOF'
any(ips, .port == 22) ? "ssh" : "other" => "ssh"
not any(ips, .port == 3389) => true
EOF
}

@test "split, join, trim, ltrimstr, rtrimstr, tostring, tojson, length: jq's meanings" {
	EVENT=$CT values <<'EOF'
split("a,b,,c", ",") => ["a","b","","c"]
split("a, b", ", ") => ["a","b"]
split("", ",") => []
split("abc", "") => ["a","b","c"]
split("é\"x", "") => ["é","\"","x"]
split(1, ",") => null
split("a", 1) => null
join(["a", "b"], ", ") => "a, b"
join([1, "a", null, true, 2.50], "-") => "1-a--true-2.50"
join([], "-") => ""
join([[1]], "-") => null
join("ab", "-") => null
join(split("a.b.c", "."), "/") => "a/b/c"
trim(msg) => "Failed password for root"
ltrim(msg) => "Failed password for root  "
rtrim(msg) => "  Failed password for root"
trim(" \t\n x \r\n") => "x"
trim(5) => null
ltrimstr("foobar", "foo") => "bar"
ltrimstr("foobar", "bar") => "foobar"
rtrimstr("foobar", "bar") => "foo"
rtrimstr("foo", "foobar") => "foo"
ltrimstr(5, "x") => 5
ltrimstr("x", 5) => "x"
tostring("a\"b") => "a\"b"
tostring(ips[0]) => "{\"ip\":\"10.0.0.1\",\"port\":22}"
tostring(2.50) => "2.50"
tostring(null) => "null"
tostring(true) => "true"
tostring(dur("90s")) => "1m30s"
tojson("a\"b") => "\"a\\\"b\""
tojson(null) => "null"
tojson(1e3) => "1e3"
tojson([1, "x"]) => "[1,\"x\"]"
length("héllo") => 5
length(ips) => 2
length(null) => null
EOF
}

@test "sub and gsub: PCRE2 like =~, replacement with \$N, \${N}, \${name} and \$\$" {
	EVENT=$CT values <<'EOF'
sub(msg, "root", "admin") => "  Failed password for admin  "
sub("aaa", "a", "b") => "baa"
gsub("aaa", "a", "b") => "bbb"
gsub("a.b.c", "\\.", "/") => "a/b/c"
gsub("abc", "", "-") => "-a-b-c-"
gsub("héé", "é", "e") => "hee"
gsub("héé", "(?=é)", "|") => "h|é|é"
sub("2026-11-27", "(\\d+)-(\\d+)-(\\d+)", "$3/$2/$1") => "27/11/2026"
sub("2026-11", "(?<y>\\d+)-(?<m>\\d+)", "${m}.${y}") => "11.2026"
sub("ab", "(a)(x)?", "[$2]$${1}") => "[]${1}b"
sub("x", "y", "z") => "x"
sub(5, "5", "6") => null
sub("ABC", "(?i)b", "-") => "A-C"
EOF
	EVENT=$CT values --arg s foo --arg re 'o+' --arg r '<$0>' <<'EOF'
sub($s, $re, $r) => "f<oo>"
gsub($s, "o", "0") => "f00"
EOF
	compile_error 'sub(a, b, "x")' 8 'sub() takes its pattern as a string literal or $NAME'
	compile_error 'sub(a, "x", b)' 13 'sub() takes its replacement as a string literal or $NAME'
	compile_error 'sub(a, "(x", "y")' 8 'bad regular expression at byte 3 of the pattern: missing closing parenthesis'
	compile_error 'sub(a, "(x)", "$2")' 15 'bad replacement at byte 1: the pattern has no group 2'
	compile_error 'gsub(a, "(x)", "${y}")' 16 "bad replacement at byte 1: the pattern has no group 'y'"
	compile_error 'sub(a, "x", "a$")' 13 'bad replacement at byte 2: write $N, ${N}, ${name} or $$'
	compile_error 'sub(a, "x")' 1 'sub() takes 3 arguments, not 2'
}

@test "sub on a match that hits a limit fails the evaluation as =~ does" {
	s=$(printf 'a%.0s' $(seq 1 3000))
	run_split "$EVUNIT/expr_test" --value 'sub(s, "(a|aa)+$", "x")' <<<"{\"s\":\"${s}b\"}"
	[ "$status" -eq 3 ] && [ -z "$output" ] || fail_with "status"
	[ "$stderr" = "expr_test: <stdin>:1: expression: column 1: regular expression: match limit exceeded on a string of 3001 bytes" ] || fail_with "stderr"
}

@test "gsub's result is at most 1 MiB + 64 bytes per byte of the string" {
	run_split "$EVUNIT/expr_test" --value --arg r "$(printf 'x%.0s' $(seq 1 200))" 'gsub(s, "", $r)' <<<'{"s":"abcdefghij"}'
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] && [ "${#output}" -eq $((11 * 200 + 10 + 2)) ] || fail_with "short"
	s=$(printf 'a%.0s' $(seq 1 5000))
	run_split "$EVUNIT/expr_test" --value --arg r "$(printf 'x%.0s' $(seq 1 300))" 'gsub(s, "", $r)' <<<"{\"s\":\"$s\"}"
	[ "$status" -eq 3 ] && [ -z "$output" ] || fail_with "status"
	[ "$stderr" = "expr_test: <stdin>:1: expression: column 1: gsub(): result longer than 1368576 bytes" ] || fail_with "stderr"
}

@test "hour, date and strftime read a time in the zone of --tz" {
	EVENT=$CT values <<'EOF'
hour(t) => 3
date(t) => "2026-11-27"
strftime(t, "%Y-%m-%dT%H:%M:%S.%fZ") => "2026-11-27T03:45:16.123456Z"
strftime(t, "%a %d %b %Y %Z %z, 100%%, %%f") => "Fri 27 Nov 2026 UTC +0000, 100%, %f"
strftime(@time, "%F") => null
strftime(t, "") => ""
strftime(t, 5) => null
hour(e) => 3
hour("2026-11-27T23:59:59+01:00") => 22
date(now()) => "2026-11-27"
hour(now() - dur("13h")) => 23
hour("yesterday") => 0
hour("not a time") => null
hour(5 == 5) => null
date(null) => null
EOF
	EVENT=$CT values --tz America/New_York <<'EOF'
hour(t) => 22
date(t) => "2026-11-26"
strftime(t, "%F %T %Z %z") => "2026-11-26 22:45:16 EST -0500"
strftime("2026-07-01T12:00:00Z", "%H %Z") => "08 EDT"
EOF
	EVENT=$CT values --tz Asia/Kolkata <<'EOF'
strftime(t, "%H:%M %z") => "09:15 +0530"
EOF
}

# ---- in, hashed ----------------------------------------------------------

@test "x in a large array agrees with ==: numbers by value, types apart" {
	# 40 numbers and strings: hashed (16 elements or more)
	big='[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,1e3,0.5,-0,9007199254740993,"7","x","caf\u00e9",true,null,[1],{"a":1},25,26,27,28,29,30,31,32,33]'
	EVENT='{"n":1.0,"s":"7","z":0,"f":false,"arr":[1],"obj":{"a":1},"t":"2026-11-27T00:00:00Z"}' rows --argjson a "$big" <<'EOF'
1 in $a => true
1.0 in $a => true
1e0 in $a => true
10e-1 in $a => true
n in $a => true
1000 in $a => true
1e3 in $a => true
0.50 in $a => true
5e-1 in $a => true
z in $a => true
-0.0 in $a => true
9007199254740993 in $a => true
9007199254740992 in $a => false
9007199254740993.0 in $a => true
(3 - 2) in $a => true
(1 / 2) in $a => true
(0.25 * 2) in $a => true
"1" in $a => false
s in $a => true
21 in $a => false
num(s) in $a => true
"café" in $a => true
"cafe" in $a => false
true in $a => true
f in $a => false
null in $a => true
missing in $a => true
arr in $a => true
obj in $a => true
[2] in $a => false
34 in $a => false
now() in $a => false
dur("1s") in $a => true
EOF
}

@test "x in a small array and in an array of the event: the same answers" {
	EVENT='{"n":1.0,"list":[1,"7",null,[1]]}' rows <<'EOF'
1 in [1e0] => true
n in list => true
"1" in list => false
"7" in list => true
null in list => true
[1] in list => true
2 in list => false
EOF
}

@test "--linesfile: 50,000 ids, CR stripped, blank lines skipped, with evquery -w" {
	ids=$BATS_TEST_TMPDIR/ids.txt
	awk 'BEGIN { for (i = 1; i <= 50000; i++) printf "id-%d\r\n", i * 2; print ""; print "  " }' >"$ids"
	ev=$BATS_TEST_TMPDIR/ev.ndjson
	awk 'BEGIN { for (i = 99990; i <= 100003; i++) printf "{\"event_id\":\"id-%d\",\"n\":%d}\n", i, i }' >"$ev"
	run_split "$EVBIN/evquery" --linesfile ids "$ids" -w '@id in $ids' -s n "$ev"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '{"n":99990}
{"n":99992}
{"n":99994}
{"n":99996}
{"n":99998}
{"n":100000}' ] || fail_with "output"
	run_split "$EVBIN/evquery" --linesfile ids "$ids" -c -w 'len($ids) == 50000 && $ids[-1] == "id-100000"' "$ev"
	[ "$status" -eq 0 ] && [ "$output" = 14 ] || fail_with "count"
}

@test "--linesfile keeps blanks inside a line and reads a file without a final newline" {
	f=$BATS_TEST_TMPDIR/l.txt
	printf '\xef\xbb\xbfa b\n\n \t \r\n x\r\nlast' >"$f"
	run_split "$EVUNIT/expr_test" --value --linesfile l "$f" '$l' <<<'{}'
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '["a b"," x","last"]' ] || fail_with "output"
	: >"$f"
	run_split "$EVUNIT/expr_test" --value --linesfile l "$f" '$l' <<<'{}'
	[ "$output" = '[]' ] || fail_with "empty"
}

@test "--slurpfile: every JSON value of the file, any layout, as an array; numbers keep their text" {
	f=$BATS_TEST_TMPDIR/s.json
	printf '{"ip": "10.0.0.1",\n "port": 22}\n[1, 2]"x"  12345678901234567890 1.50\ntrue null\n' >"$f"
	run_split "$EVUNIT/expr_test" --value --slurpfile s "$f" '$s' <<<'{}'
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '[{"ip":"10.0.0.1","port":22},[1,2],"x",12345678901234567890,1.50,true,null]' ] || fail_with "output"
	printf '\n\n' >"$f"
	run_split "$EVUNIT/expr_test" --value --slurpfile s "$f" '$s' <<<'{}'
	[ "$output" = '[]' ] || fail_with "empty"
	ev=$BATS_TEST_TMPDIR/ev.ndjson
	printf '{"event_id":"a","ip":"10.0.0.1"}\n{"event_id":"b","ip":"10.0.0.2"}\n' >"$ev"
	printf '{"ip":"10.0.0.1"}\n{"ip":"10.9.9.9"}\n' >"$f"
	run_split "$EVBIN/evquery" --slurpfile bad "$f" -w 'any($bad, .ip == ip)' -s @id "$ev"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] && [ "$output" = '{"event_id":"a"}' ] || fail_with "evquery"
}

@test "--slurpfile: bad JSON is a usage error naming the file, line and column" {
	f=$BATS_TEST_TMPDIR/s.json
	printf '[1,\n 2,\n  3 4]\n' >"$f"
	run_split "$EVBIN/evquery" --slurpfile s "$f" -w 'true' /dev/null
	[ "$status" -eq 2 ] && [ -z "$output" ] || fail_with "status"
	[ "$stderr" = "evquery: --slurpfile s: $f:3:5: invalid JSON: unexpected '4', expected ',' or ']'
usage: evquery [-ceqrv] [option ...] [file ...]
Try 'evquery --help' for more information." ] || fail_with "stderr"
	printf '{"a":1,"a":2}' >"$f"
	run_split "$EVBIN/evquery" --slurpfile s "$f" -w 'true' /dev/null
	[ "$status" -eq 2 ] || fail_with "status dup"
	[[ "$stderr" == "evquery: --slurpfile s: $f:1:"*"duplicate key"* ]] || fail_with "dup"
	run_split "$EVBIN/evquery" --slurpfile s "$BATS_TEST_TMPDIR/none" -w 'true' /dev/null
	[ "$status" -eq 2 ] && [ "$stderr" = "evquery: --slurpfile s: $BATS_TEST_TMPDIR/none: No such file or directory
usage: evquery [-ceqrv] [option ...] [file ...]
Try 'evquery --help' for more information." ] || fail_with "missing"
	run_split "$EVBIN/evquery" --linesfile s "$BATS_TEST_TMPDIR" -w 'true' /dev/null
	[ "$status" -eq 2 ] && [ "$stderr" = "evquery: --linesfile s: $BATS_TEST_TMPDIR: Is a directory
usage: evquery [-ceqrv] [option ...] [file ...]
Try 'evquery --help' for more information." ] || fail_with "dir"
	run_split "$EVBIN/evquery" --rawfile s -w 'true' /dev/null
	[ "$status" -eq 2 ] || fail_with "one arg"
}

@test "--rawfile: the whole text as one string, bad UTF-8 as U+FFFD, NUL kept" {
	f=$BATS_TEST_TMPDIR/r.txt
	printf 'line 1\r\nl\xff2\000\n' >"$f"
	run_split "$EVUNIT/expr_test" --value --rawfile r "$f" '$r' <<<'{}'
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = '"line 1\r\nl�2\u0000\n"' ] || fail_with "output"
	run_split "$EVBIN/evquery" --rawfile r "$f" -c -w 'startswith($r, "line") && len(split($r, "\n")) == 3' <<<'{"event_id":1}'
	[ "$status" -eq 0 ] && [ "$output" = 1 ] || fail_with "evquery"
}

@test "paths of elements and after calls that match nothing get the end-of-run warning" {
	run_split "$EVBIN/evquery" -c -w 'any(l, .skuu == 1) || fromjson(j).b == 1 || (o).itemz == 1 || any(l, .a == 9)' \
		<<<'{"event_id":1,"j":"{\"a\":1}","l":[{"a":1}],"o":{}}'
	[ "$status" -eq 0 ] && [ "$output" = 0 ] || fail_with "status"
	[ "$stderr" = "evquery: warning: path '.skuu' (-w) matched no event
evquery: warning: path 'fromjson(j).b' (-w) matched no event
evquery: warning: path '(o).itemz' (-w) matched no event" ] || fail_with "stderr"
}
