#!/usr/bin/env bats
# lib/timeutil: event times, option times, durations, formatting, zones.
# Driven through $EVUNIT/time_test (tests/unit/time_test.c), which reads
# one command a line and prints one result a line ("error" when refused).

load helper

# table: rows "COMMAND => EXPECTED" on stdin (blank and # lines skipped).
# Runs every command through one time_test process; each output line must
# equal its row's EXPECTED, the status must be 1 exactly when some row
# expects "error" (else 0), and nothing may be written to stderr.
table() {
	local cmds=() want=() line i code=0
	while IFS= read -r line; do
		case $line in '' | '#'*) continue ;; esac
		cmds+=("${line%% => *}")
		want+=("${line#* => }")
		[ "${line#* => }" = error ] && code=1
	done
	run_split "$EVUNIT/time_test" < <(printf '%s\n' "${cmds[@]}")
	for i in "${!want[@]}"; do
		if [ "${lines[$i]-<no output>}" != "${want[$i]}" ]; then
			fail_with "row '${cmds[$i]}': got '${lines[$i]-<no output>}', want '${want[$i]}'"
			return 1
		fi
	done
	[ "${#lines[@]}" -eq "${#want[@]}" ] || fail_with "extra output lines"
	[ "$status" -eq "$code" ] || fail_with "status $status, want $code"
	[ -z "$stderr" ] || fail_with "unexpected stderr"
}

# ---- ISO 8601 / RFC 3339 -------------------------------------------------

@test "iso: UTC instants with Z or z, T, t or a space" {
	table <<'EOF'
iso 2026-11-27T15:45:16Z => 1795794316000000 2026-11-27T15:45:16.000000Z
iso 2026-11-27t15:45:16z => 1795794316000000 2026-11-27T15:45:16.000000Z
iso 2026-11-27 15:45:16Z => 1795794316000000 2026-11-27T15:45:16.000000Z
iso 2026-11-27T15:45:16.123456Z => 1795794316123456 2026-11-27T15:45:16.123456Z
iso 1970-01-01T00:00:00Z => 0 1970-01-01T00:00:00.000000Z
iso 1970-01-01T00:00:00.000001Z => 1 1970-01-01T00:00:00.000001Z
EOF
}

@test "iso: consecutive times on changing dates, six fraction digits at the end, and more than six" {
	table <<'EOF'
iso 2026-11-27T15:45:16.123456Z => 1795794316123456 2026-11-27T15:45:16.123456Z
iso 2026-11-28T15:45:16.123456Z => 1795880716123456 2026-11-28T15:45:16.123456Z
iso 2026-11-27T15:45:16.123456 => 1795794316123456 2026-11-27T15:45:16.123456Z
iso 2026-11-27T15:45:16.1234567Z => 1795794316123456 2026-11-27T15:45:16.123456Z
iso 2026-11-27T15:45:16.12345Z => 1795794316123450 2026-11-27T15:45:16.123450Z
iso 2026-11-27T15:45:16.123a56Z => error
iso 2026-02-30T00:00:00Z => error
iso 2026-11-27T15:45:16.Z => error
iso 2026-11-27T24:00:00Z => error
iso 1969-12-31T23:59:59.999999Z => -1 1969-12-31T23:59:59.999999Z
iso 1969-12-31T23:59:59.999999Z => -1 1969-12-31T23:59:59.999999Z
iso 2026-11-28T00:00:00Z => 1795824000000000 2026-11-28T00:00:00.000000Z
EOF
}

@test "iso: minutes without seconds, naive times are UTC, a date alone is its midnight" {
	table <<'EOF'
iso 2026-11-27T15:45Z => 1795794300000000 2026-11-27T15:45:00.000000Z
iso 2026-11-27T15:45 => 1795794300000000 2026-11-27T15:45:00.000000Z
iso 2026-11-27 15:45 => 1795794300000000 2026-11-27T15:45:00.000000Z
iso 2026-11-27T15:45:16 => 1795794316000000 2026-11-27T15:45:16.000000Z
iso 2026-11-27 15:45:16.5 => 1795794316500000 2026-11-27T15:45:16.500000Z
iso 2026-11-27 => 1795737600000000 2026-11-27T00:00:00.000000Z
iso 2026-11-27T00:00 => 1795737600000000 2026-11-27T00:00:00.000000Z
EOF
}

@test "iso: offsets +HH:MM, -HH:MM, +HHMM, +HH and -00:00" {
	table <<'EOF'
iso 2026-11-27T15:45:16.123456+01:00 => 1795790716123456 2026-11-27T14:45:16.123456Z
iso 2026-11-27T15:45:16+05:30 => 1795774516000000 2026-11-27T10:15:16.000000Z
iso 2026-11-27T15:45:16-08:00 => 1795823116000000 2026-11-27T23:45:16.000000Z
iso 2026-11-27T15:45:16+0000 => 1795794316000000 2026-11-27T15:45:16.000000Z
iso 2026-11-27T15:45:16+0530 => 1795774516000000 2026-11-27T10:15:16.000000Z
iso 2026-11-27T15:45:16-0800 => 1795823116000000 2026-11-27T23:45:16.000000Z
iso 2026-11-27T15:45:16+05 => 1795776316000000 2026-11-27T10:45:16.000000Z
iso 2026-11-27T15:45:16-00:00 => 1795794316000000 2026-11-27T15:45:16.000000Z
iso 2026-11-27T15:45+01:00 => 1795790700000000 2026-11-27T14:45:00.000000Z
iso 2026-11-27 15:45:16.25-08:00 => 1795823116250000 2026-11-27T23:45:16.250000Z
EOF
}

@test "iso: an offset can move the instant to another day" {
	table <<'EOF'
iso 2026-11-27T00:30:00+01:00 => 1795735800000000 2026-11-26T23:30:00.000000Z
iso 2026-11-27T23:59:59-23:59 => 1795910339000000 2026-11-28T23:58:59.000000Z
iso 2026-12-31T20:00:00-05:00 => 1798765200000000 2027-01-01T01:00:00.000000Z
iso 1970-01-01T00:00:00+00:01 => -60000000 1969-12-31T23:59:00.000000Z
EOF
}

@test "iso: malformed offsets are refused" {
	table <<'EOF'
iso 2026-11-27T15:45:16+24:00 => error
iso 2026-11-27T15:45:16+05:60 => error
iso 2026-11-27T15:45:16+5 => error
iso 2026-11-27T15:45:16+05: => error
iso 2026-11-27T15:45:16+05:3 => error
iso 2026-11-27T15:45:16+053 => error
iso 2026-11-27T15:45:16+05:30:00 => error
iso 2026-11-27T15:45:16 +01:00 => error
iso 2026-11-27T15:45:16+ => error
iso 2026-11-27T15:45:16ZZ => error
iso 2026-11-27T15:45:16UTC => error
iso 2026-11-27T15:45:16 Z => error
iso 2026-11-27Z => error
iso 2026-11-27+01:00 => error
EOF
}

@test "iso: leap days follow the Gregorian rules" {
	table <<'EOF'
iso 2024-02-29 => 1709164800000000 2024-02-29T00:00:00.000000Z
iso 2023-02-29 => error
iso 2000-02-29 => 951782400000000 2000-02-29T00:00:00.000000Z
iso 1900-02-29 => error
iso 1600-02-29 => -11670998400000000 1600-02-29T00:00:00.000000Z
iso 2100-02-29 => error
iso 2024-02-30 => error
iso 2023-02-28T23:59:59Z => 1677628799000000 2023-02-28T23:59:59.000000Z
EOF
}

@test "iso: month, day, hour, minute and second ranges are checked" {
	table <<'EOF'
iso 2026-04-30 => 1777507200000000 2026-04-30T00:00:00.000000Z
iso 2026-04-31 => error
iso 2026-12-31 => 1798675200000000 2026-12-31T00:00:00.000000Z
iso 2026-12-32 => error
iso 2026-00-10 => error
iso 2026-13-01 => error
iso 2026-01-00 => error
iso 2026-11-27T23:59:59Z => 1795823999000000 2026-11-27T23:59:59.000000Z
iso 2026-11-27T24:00:00Z => error
iso 2026-11-27T23:60:00Z => error
iso 2026-11-27T23:59:61Z => error
iso 2026-11-27T99:00Z => error
EOF
}

@test "iso: years 0000 and 9999 are the bounds" {
	table <<'EOF'
iso 0000-01-01 => -62167219200000000 0000-01-01T00:00:00.000000Z
iso 0001-01-01T00:00:00Z => -62135596800000000 0001-01-01T00:00:00.000000Z
iso 9999-12-31T23:59:59.999999Z => 253402300799999999 9999-12-31T23:59:59.999999Z
iso 9999-12-31T23:59:59.999999-23:59 => 253402387139999999 +010000-01-01T23:58:59.999999Z
iso 10000-01-01 => error
iso -0001-01-01 => error
EOF
}

@test "iso: second 60 is a leap second, read as the next minute's :00" {
	table <<'EOF'
iso 2016-12-31T23:59:59Z => 1483228799000000 2016-12-31T23:59:59.000000Z
iso 2016-12-31T23:59:60Z => 1483228800000000 2017-01-01T00:00:00.000000Z
iso 2016-12-31T23:59:60.5Z => 1483228800500000 2017-01-01T00:00:00.500000Z
iso 2017-01-01T00:00:00Z => 1483228800000000 2017-01-01T00:00:00.000000Z
iso 2017-01-01T05:29:60+05:30 => 1483228800000000 2017-01-01T00:00:00.000000Z
EOF
}

@test "iso: fractions of 1 to 9 digits, truncated to microseconds" {
	table <<'EOF'
iso 2026-11-27T15:45:16.1Z => 1795794316100000 2026-11-27T15:45:16.100000Z
iso 2026-11-27T15:45:16.12Z => 1795794316120000 2026-11-27T15:45:16.120000Z
iso 2026-11-27T15:45:16.123Z => 1795794316123000 2026-11-27T15:45:16.123000Z
iso 2026-11-27T15:45:16.1234Z => 1795794316123400 2026-11-27T15:45:16.123400Z
iso 2026-11-27T15:45:16.12345Z => 1795794316123450 2026-11-27T15:45:16.123450Z
iso 2026-11-27T15:45:16.123456Z => 1795794316123456 2026-11-27T15:45:16.123456Z
iso 2026-11-27T15:45:16.1234567Z => 1795794316123456 2026-11-27T15:45:16.123456Z
iso 2026-11-27T15:45:16.12345678Z => 1795794316123456 2026-11-27T15:45:16.123456Z
iso 2026-11-27T15:45:16.123456789Z => 1795794316123456 2026-11-27T15:45:16.123456Z
iso 2026-11-27T15:45:16.999999999Z => 1795794316999999 2026-11-27T15:45:16.999999Z
iso 2026-11-27T15:45:16.000000999Z => 1795794316000000 2026-11-27T15:45:16.000000Z
iso 2026-11-27T15:45:16.123456789012345678901234567890Z => 1795794316123456 2026-11-27T15:45:16.123456Z
iso 2026-11-27T15:45:16.000001+01:00 => 1795790716000001 2026-11-27T14:45:16.000001Z
iso 1969-12-31T23:59:59.9999995Z => -1 1969-12-31T23:59:59.999999Z
EOF
}

@test "iso: a comma may separate the fraction (ISO 8601, log4j)" {
	table <<'EOF'
iso 2026-11-27 15:45:16,123 => 1795794316123000 2026-11-27T15:45:16.123000Z
iso 2026-11-27T15:45:16,5Z => 1795794316500000 2026-11-27T15:45:16.500000Z
EOF
}

@test "iso: malformed fractions are refused" {
	table <<'EOF'
iso 2026-11-27T15:45:16.Z => error
iso 2026-11-27T15:45:16. => error
iso 2026-11-27T15:45.5Z => error
iso 2026-11-27T15:45:16.12a => error
iso 2026-11-27T15:45:16..1Z => error
iso 2026-11-27T15:45:16.1.2Z => error
iso 2026-11-27T15:45:16.-1Z => error
EOF
}

@test "iso: garbage, truncated and other formats are refused" {
	table <<'EOF'
iso => error
iso 2026 => error
iso 2026-11 => error
iso 2026-1-27 => error
iso 2026-11-7 => error
iso 26-11-27 => error
iso 2026/11/27 => error
iso 20261127 => error
iso 20261127T154516Z => error
iso  2026-11-27 => error
iso 2026-11-27  => error
iso 2026-11-27T => error
iso 2026-11-27T15 => error
iso 2026-11-27T15: => error
iso 2026-11-27T15:4 => error
iso 2026-11-27T15:45: => error
iso 2026-11-27T15:45:1 => error
iso 2026-11-27T15:45:167Z => error
iso 2026-11-27T5:45:16Z => error
iso 2026-11-27X15:45:16Z => error
iso 2026-11-27  15:45:16Z => error
iso +2026-11-27 => error
iso 2026-11-27T15:45:16Z  => error
iso 2026-11-27T15:45:16Zjunk => error
iso 2026-11-27T15h45 => error
iso 2O26-11-27 => error
iso 1700000000 => error
iso now => error
EOF
}

# ---- event times: strings and epoch numbers ------------------------------

@test "event: ISO strings and epoch digit strings" {
	table <<'EOF'
event 2026-11-27T15:45:16Z auto => 1795794316000000 2026-11-27T15:45:16.000000Z
event 2026-11-27 15:45 auto => 1795794300000000 2026-11-27T15:45:00.000000Z
event 2026-11-27 ns => 1795737600000000 2026-11-27T00:00:00.000000Z
event 1700000000 auto => 1700000000000000 2023-11-14T22:13:20.000000Z
event 1700000000.5 s => 1700000000500000 2023-11-14T22:13:20.500000Z
event 1700000000.5 auto => 1700000000500000 2023-11-14T22:13:20.500000Z
event 1700000000123 ms => 1700000000123000 2023-11-14T22:13:20.123000Z
event 1700000000123 auto => 1700000000123000 2023-11-14T22:13:20.123000Z
event 1700000000123456 us => 1700000000123456 2023-11-14T22:13:20.123456Z
event 1700000000123456 auto => 1700000000123456 2023-11-14T22:13:20.123456Z
event 1700000000123456789 ns => 1700000000123456 2023-11-14T22:13:20.123456Z
event 1700000000123456789 auto => 1700000000123456 2023-11-14T22:13:20.123456Z
event 0 auto => 0 1970-01-01T00:00:00.000000Z
event 0.000001 s => 1 1970-01-01T00:00:00.000001Z
event 1700000000.1234569 s => 1700000000123456 2023-11-14T22:13:20.123456Z
EOF
}

@test "event: one text under each explicit unit" {
	table <<'EOF'
event 1700000000 s => 1700000000000000 2023-11-14T22:13:20.000000Z
event 1700000000 ms => 1700000000000 1970-01-20T16:13:20.000000Z
event 1700000000 us => 1700000000 1970-01-01T00:28:20.000000Z
event 1700000000 ns => 1700000 1970-01-01T00:00:01.700000Z
event 1.5 ms => 1500 1970-01-01T00:00:00.001500Z
event 1.5 us => 1 1970-01-01T00:00:00.000001Z
event 1999 ns => 1 1970-01-01T00:00:00.000001Z
event 999 ns => 0 1970-01-01T00:00:00.000000Z
event 1.0009 ms => 1000 1970-01-01T00:00:00.001000Z
EOF
}

@test "event: auto unit thresholds at 1e11, 1e14 and 1e17" {
	table <<'EOF'
event 99999999999 auto => 99999999999000000 5138-11-16T09:46:39.000000Z
event 100000000000 auto => 100000000000000 1973-03-03T09:46:40.000000Z
event 99999999999.999999 auto => 99999999999999999 5138-11-16T09:46:39.999999Z
event 99999999999999 auto => 99999999999999000 5138-11-16T09:46:39.999000Z
event 100000000000000 auto => 100000000000000 1973-03-03T09:46:40.000000Z
event 99999999999999999 auto => 99999999999999999 5138-11-16T09:46:39.999999Z
event 100000000000000000 auto => 100000000000000 1973-03-03T09:46:40.000000Z
event 9223372036854775807 auto => 9223372036854775 2262-04-11T23:47:16.854775Z
event 0099999999999 auto => 99999999999000000 5138-11-16T09:46:39.000000Z
event -99999999999 auto => -99999999999000000 -001199-02-15T14:13:21.000000Z
event -100000000000 auto => -100000000000000 1966-10-31T14:13:20.000000Z
event -100000000000000000 auto => -100000000000000 1966-10-31T14:13:20.000000Z
EOF
}

@test "event: negative epochs, rounded toward the past below a microsecond" {
	table <<'EOF'
event -1 auto => -1000000 1969-12-31T23:59:59.000000Z
event -1.5 s => -1500000 1969-12-31T23:59:58.500000Z
event -14182940 auto => -14182940000000 1969-07-20T20:17:40.000000Z
event -0.0000005 s => -1 1969-12-31T23:59:59.999999Z
event -0.5 us => -1 1969-12-31T23:59:59.999999Z
event -1 ns => -1 1969-12-31T23:59:59.999999Z
event -1000 ns => -1 1969-12-31T23:59:59.999999Z
event -1001 ns => -2 1969-12-31T23:59:59.999998Z
event -0 auto => 0 1970-01-01T00:00:00.000000Z
iso 1969-07-20T20:17:40Z => -14182940000000 1969-07-20T20:17:40.000000Z
EOF
}

@test "event: malformed epoch strings and overflow are refused" {
	table <<'EOF'
event 1e9 auto => error
event 1.7E9 s => error
event +1700000000 auto => error
event 1700000000. auto => error
event .5 auto => error
event 1,700,000,000 auto => error
event 0x10 auto => error
event  1700000000 auto => error
event 1700000000  auto => error
event --1 auto => error
event - auto => error
event  auto => error
event 9223372036855 s => error
event 9223372036854775808 us => error
event 9223372036854775807999 ns => 9223372036854775807 +294247-01-10T04:00:54.775807Z
event 9223372036854775808000 ns => error
EOF
}

@test "num: JSON numbers with exponents are shifted exactly" {
	table <<'EOF'
num 1.7e9 auto => 1700000000000000 2023-11-14T22:13:20.000000Z
num 1.7E+9 s => 1700000000000000 2023-11-14T22:13:20.000000Z
num 17e-1 s => 1700000 1970-01-01T00:00:01.700000Z
num 1.5e3 ms => 1500000 1970-01-01T00:00:01.500000Z
num 1e-3 s => 1000 1970-01-01T00:00:00.001000Z
num 1E2 us => 100 1970-01-01T00:00:00.000100Z
num 1e-7 s => 0 1970-01-01T00:00:00.000000Z
num -1e-7 s => -1 1969-12-31T23:59:59.999999Z
num 0e999999999999 s => 0 1970-01-01T00:00:00.000000Z
num 1e11 auto => 100000000000000 1973-03-03T09:46:40.000000Z
num 9.9999999999e10 auto => 99999999999000000 5138-11-16T09:46:39.000000Z
num 1700000000123456789e-9 auto => 1700000000123456 2023-11-14T22:13:20.123456Z
num 1.7000000001234568e18 auto => 1700000000123456 2023-11-14T22:13:20.123456Z
num 1700000000 auto => 1700000000000000 2023-11-14T22:13:20.000000Z
num -1.5 auto => -1500000 1969-12-31T23:59:58.500000Z
EOF
}

@test "num: bounds of int64 microseconds, and malformed numbers" {
	table <<'EOF'
num 9223372036854.775807 s => 9223372036854775807 +294247-01-10T04:00:54.775807Z
num 9223372036854.775808 s => error
num -9223372036854.775808 s => -9223372036854775808 -290308-12-21T19:59:05.224192Z
num -9223372036854.775809 s => error
num 1e400 s => error
num 1e s => error
num 1e+ s => error
num 1.e5 s => error
num e5 s => error
num 1.5x s => error
num  s => error
EOF
}

@test "unit names: auto s ms us ns, nothing else" {
	table <<'EOF'
unit auto => 0
unit s => 1
unit ms => 2
unit us => 3
unit ns => 4
unit sec => error
unit S => error
unit => error
EOF
}

# ---- formatting ---------------------------------------------------------

@test "fmt: RFC 3339 UTC with six fraction digits, before 1970 too" {
	table <<'EOF'
fmt 0 => 1970-01-01T00:00:00.000000Z
fmt 1795790716123456 => 2026-11-27T14:45:16.123456Z
fmt 951782400000000 => 2000-02-29T00:00:00.000000Z
fmt -1 => 1969-12-31T23:59:59.999999Z
fmt -999999 => 1969-12-31T23:59:59.000001Z
fmt -1000000 => 1969-12-31T23:59:59.000000Z
fmt -1000001 => 1969-12-31T23:59:58.999999Z
fmt -86400000000 => 1969-12-31T00:00:00.000000Z
fmt -86400000001 => 1969-12-30T23:59:59.999999Z
fmt -2208988800000000 => 1900-01-01T00:00:00.000000Z
fmt -11670998400000000 => 1600-02-29T00:00:00.000000Z
fmt -62135596800000000 => 0001-01-01T00:00:00.000000Z
fmt -62167219200000000 => 0000-01-01T00:00:00.000000Z
EOF
}

@test "fmt: years outside 0000-9999 use the expanded form, to the int64 limits" {
	table <<'EOF'
fmt -62167219200000001 => -000001-12-31T23:59:59.999999Z
fmt 253402300799999999 => 9999-12-31T23:59:59.999999Z
fmt 253402300800000000 => +010000-01-01T00:00:00.000000Z
fmt -9223372036854775808 => -290308-12-21T19:59:05.224192Z
fmt 9223372036854775807 => +294247-01-10T04:00:54.775807Z
EOF
}

@test "calendar: days_from_civil and civil_from_days" {
	table <<'EOF'
days 1970 1 1 => 0
days 1969 12 31 => -1
days 2000 3 1 => 11017
days 2024 2 29 => 19782
days 0 3 1 => -719468
days 0 1 1 => -719528
days -1 12 31 => -719529
civil 0 => 1970-01-01
civil -1 => 1969-12-31
civil 19782 => 2024-02-29
civil -719468 => 0-03-01
civil -719529 => -1-12-31
civil 2932896 => 9999-12-31
EOF
}

@test "calendar: every day of years 0000-9999 agrees with a stepped calendar" {
	table <<'EOF'
walk -750000 2950000 => ok
EOF
}

# ---- durations ----------------------------------------------------------

@test "dur: each unit, and a bare number is seconds" {
	table <<'EOF'
dur 90 => 90000000
dur 0 => 0
dur 90s => 90000000
dur 250ms => 250000
dur 15us => 15
dur 10ns => 0
dur 1000ns => 1
dur 1999ns => 1
dur 15m => 900000000
dur 2h => 7200000000
dur 7d => 604800000000
dur 1w => 604800000000
dur 0s => 0
dur 007m => 420000000
EOF
}

@test "dur: combined parts are summed" {
	table <<'EOF'
dur 1h30m => 5400000000
dur 1m30s => 90000000
dur 1d2h3m4s5ms6us => 93784005006
dur 1w1d => 691200000000
dur 30m1h => 5400000000
dur 1s1s => 2000000
dur 500ns500ns => 1
dur 1ms999us1000ns => 2000
EOF
}

@test "dur: fractions are exact and truncated to microseconds" {
	table <<'EOF'
dur 1.5h => 5400000000
dur 0.5s => 500000
dur 1.5 => 1500000
dur 0.1s => 100000
dur 0.25d => 21600000000
dur 1.0000001s => 1000000
dur 0.001ms => 1
dur 0.0001ms => 0
dur 1.5us => 1
dur 0.5us0.5us => 1
dur 1.333333333333333333333h => 4799999999
dur 0.000000000000000000001w => 0
dur 1h0.5m => 3630000000
EOF
}

@test "dur: overflow at the int64 limit" {
	table <<'EOF'
dur 15250284w => 9223371763200000000
dur 15250285w => error
dur 9223372036854775807us => 9223372036854775807
dur 9223372036854775808us => error
dur 9223372036854775807us1us => error
dur 9223372036854775807999ns => 9223372036854775807
dur 9223372036854775807998ns1ns => 9223372036854775807
dur 9223372036854775807999ns1ns => error
dur 9223372036854775807999ns1000ns => error
dur 99999999999999999999999999s => error
EOF
}

@test "dur: empty, signed, unknown units and malformed numbers are refused" {
	table <<'EOF'
dur => error
dur -5m => error
dur +5m => error
dur 5x => error
dur 5M => error
dur 5H => error
dur 5mins => error
dur 1hm => error
dur 1h30 => error
dur 30 1h => error
dur h => error
dur 1.h => error
dur .5h => error
dur 1..5h => error
dur 1 h => error
dur  1h => error
dur 1h  => error
dur 1e3s => error
dur 1,5h => error
dur µs => error
EOF
}

# ---- option times -------------------------------------------------------

@test "opt: signed durations are relative to now" {
	table <<'EOF'
now 2026-11-27T12:00:00Z => ok
opt -15m => 1795779900000000 2026-11-27T11:45:00.000000Z
opt +1h30m => 1795786200000000 2026-11-27T13:30:00.000000Z
opt +1h => 1795784400000000 2026-11-27T13:00:00.000000Z
opt -90 => 1795780710000000 2026-11-27T11:58:30.000000Z
opt +0s => 1795780800000000 2026-11-27T12:00:00.000000Z
opt -1.5h => 1795775400000000 2026-11-27T10:30:00.000000Z
opt -1d => 1795694400000000 2026-11-26T12:00:00.000000Z
opt -250ms => 1795780799750000 2026-11-27T11:59:59.750000Z
clock => 1795780800000000 2026-11-27T12:00:00.000000Z
EOF
}

@test "opt: ISO forms, a date alone is its midnight UTC" {
	table <<'EOF'
now 0 => ok
opt 2026-11-30 => 1795996800000000 2026-11-30T00:00:00.000000Z
opt 2026-11-30T08:00:00+01:00 => 1796022000000000 2026-11-30T07:00:00.000000Z
opt 2026-11-30 08:00 => 1796025600000000 2026-11-30T08:00:00.000000Z
opt 2026-11-30T08:00:00.5Z => 1796025600500000 2026-11-30T08:00:00.500000Z
EOF
}

@test "opt: @EPOCH is seconds, with fraction and sign" {
	table <<'EOF'
opt @1700000000 => 1700000000000000 2023-11-14T22:13:20.000000Z
opt @1700000000.5 => 1700000000500000 2023-11-14T22:13:20.500000Z
opt @1700000000123 => 1700000000123000000 +055840-11-08T22:15:23.000000Z
opt @-1.5 => -1500000 1969-12-31T23:59:58.500000Z
opt @0 => 0 1970-01-01T00:00:00.000000Z
opt @-90 => -90000000 1969-12-31T23:58:30.000000Z
EOF
}

@test "opt: malformed option times are refused" {
	table <<'EOF'
now 2026-11-27T12:00:00Z => ok
opt => error
opt @ => error
opt @1e9 => error
opt @+5 => error
opt @abc => error
opt @ 5 => error
opt @9223372036855 => error
opt - => error
opt + => error
opt --15m => error
opt +-15m => error
opt -15x => error
opt  -15m => error
EOF
}

@test "opt: an unsigned duration with a unit is that long ago" {
	table <<'EOF'
now 2026-11-27T12:34:56Z => ok
opt 15m => 1795781996000000 2026-11-27T12:19:56.000000Z
opt 1h30m => 1795777496000000 2026-11-27T11:04:56.000000Z
opt 1.5h => 1795777496000000 2026-11-27T11:04:56.000000Z
opt 7d => 1795178096000000 2026-11-20T12:34:56.000000Z
opt 250ms => 1795782895750000 2026-11-27T12:34:55.750000Z
opt 0s => 1795782896000000 2026-11-27T12:34:56.000000Z
opt 15 m => error
opt 15M => error
opt 15x => error
EOF
}

@test "opt: a bare unsigned number is an epoch in the auto unit" {
	table <<'EOF'
now 2026-11-27T12:34:56Z => ok
opt 1700000000 => 1700000000000000 2023-11-14T22:13:20.000000Z
opt 1700000000.25 => 1700000000250000 2023-11-14T22:13:20.250000Z
opt 1700000000123 => 1700000000123000 2023-11-14T22:13:20.123000Z
opt 1700000000123456 => 1700000000123456 2023-11-14T22:13:20.123456Z
opt 1700000000123456789 => 1700000000123456 2023-11-14T22:13:20.123456Z
opt 99999999999 => 99999999999000000 5138-11-16T09:46:39.000000Z
opt 100000000000 => 100000000000000 1973-03-03T09:46:40.000000Z
opt 2026 => 2026000000 1970-01-01T00:33:46.000000Z
opt 0 => 0 1970-01-01T00:00:00.000000Z
opt 1e9 => error
opt 1700000000. => error
opt .5 => error
EOF
}

@test "opt: now, today and yesterday; midnight in the zone set" {
	table <<'EOF'
now 2026-11-27T12:34:56.5Z => ok
opt now => 1795782896500000 2026-11-27T12:34:56.500000Z
opt today => 1795737600000000 2026-11-27T00:00:00.000000Z
opt yesterday => 1795651200000000 2026-11-26T00:00:00.000000Z
opt Now => error
opt tomorrow => error
opt today+1h => error
tz America/New_York => ok
opt today => 1795755600000000 2026-11-27T05:00:00.000000Z
opt yesterday => 1795669200000000 2026-11-26T05:00:00.000000Z
# 2026-03-08 has 23 hours there: midnight EST, then midnight EDT
now 2026-03-09T12:00:00Z => ok
opt today => 1773028800000000 2026-03-09T04:00:00.000000Z
opt yesterday => 1772946000000000 2026-03-08T05:00:00.000000Z
# 23:00 on 2026-03-08 in New York is already the 9th in UTC
now 2026-03-09T03:00:00Z => ok
opt today => 1772946000000000 2026-03-08T05:00:00.000000Z
tz UTC => ok
opt today => 1773014400000000 2026-03-09T00:00:00.000000Z
EOF
}

@test "opt: offsets +01:00, +0100 and -05:00 in option times" {
	table <<'EOF'
opt 2026-11-30T08:00+01:00 => 1796022000000000 2026-11-30T07:00:00.000000Z
opt 2026-11-30T08:00+0100 => 1796022000000000 2026-11-30T07:00:00.000000Z
opt 2026-11-30T08:00:00-05:00 => 1796043600000000 2026-11-30T13:00:00.000000Z
opt 2026-11-30T08:00+1:00 => error
EOF
}

@test "opt: an offset that leaves int64 is refused" {
	table <<'EOF'
now 9223372036854775807 => ok
opt +1us => error
opt -1us => 9223372036854775806 +294247-01-10T04:00:54.775806Z
now -9223372036854775808 => ok
opt -1us => error
opt +1us => -9223372036854775807 -290308-12-21T19:59:05.224193Z
EOF
}

@test "clock: time_now reads the real clock unless set" {
	run_split "$EVUNIT/time_test" <<<"clock"
	[ "$status" -eq 0 ] || fail_with "status"
	local us=${output%% *} real
	real=$(date +%s)
	[ $((us / 1000000 - real)) -le 5 ] && [ $((real - us / 1000000)) -le 5 ] ||
		fail_with "clock $us, date +%s $real"
}

# ---- zones --------------------------------------------------------------

@test "zones: UTC is the default and needs no tz database" {
	table <<'EOF'
date 2026-11-27T23:59:59Z - => 2026-11-27
hour 2026-11-27T23:59:59Z - => 2026-11-27T23
date -1 - => 1969-12-31
hour -1 - => 1969-12-31T23
date 2026-11-28T00:00:00Z UTC => 2026-11-28
hour 0 UTC => 1970-01-01T00
EOF
	TZDIR=/nonexistent run_split "$EVUNIT/time_test" <<<$'tz UTC\ntz America/New_York'
	[ "$output" = $'ok\nerror' ] || fail_with "TZDIR"
}

@test "zones: America/New_York dates and hours around the DST changes" {
	table <<'EOF'
date 2026-03-08T04:59:59Z America/New_York => 2026-03-07
date 2026-03-08T05:00:00Z America/New_York => 2026-03-08
hour 2026-03-08T06:59:59Z America/New_York => 2026-03-08T01
hour 2026-03-08T07:00:00Z America/New_York => 2026-03-08T03
date 2026-03-09T03:59:59Z America/New_York => 2026-03-08
date 2026-03-09T04:00:00Z America/New_York => 2026-03-09
hour 2026-11-01T05:30:00Z America/New_York => 2026-11-01T01
hour 2026-11-01T06:30:00Z America/New_York => 2026-11-01T01
hour 2026-11-01T07:00:00Z America/New_York => 2026-11-01T02
date 2026-11-01T03:59:59Z America/New_York => 2026-10-31
date 2026-11-01T04:00:00Z America/New_York => 2026-11-01
date 2026-11-02T04:59:59Z America/New_York => 2026-11-01
date 2026-11-02T05:00:00Z America/New_York => 2026-11-02
EOF
}

@test "zones: Asia/Kolkata is five and a half hours ahead" {
	table <<'EOF'
hour 2026-11-27T18:29:59Z Asia/Kolkata => 2026-11-27T23
hour 2026-11-27T18:30:00Z Asia/Kolkata => 2026-11-28T00
date 2026-11-27T18:29:59Z Asia/Kolkata => 2026-11-27
date 2026-11-27T18:30:00Z Asia/Kolkata => 2026-11-28
hour -1 Asia/Kolkata => 1970-01-01T05
hour 2026-11-27T15:45:16+05:30 - => 2026-11-27T15
EOF
}

@test "zones: switching zones, and back to UTC" {
	table <<'EOF'
hour 2026-11-27T12:00:00Z Asia/Kolkata => 2026-11-27T17
hour 2026-11-27T12:00:00Z America/New_York => 2026-11-27T07
hour 2026-11-27T12:00:00Z UTC => 2026-11-27T12
hour 2026-11-27T12:00:00Z Etc/UTC => 2026-11-27T12
hour 2026-11-27T12:00:00Z Europe/London => 2026-11-27T12
hour 2026-07-01T12:00:00Z Europe/London => 2026-07-01T13
EOF
}

@test "zones: unknown or unsafe names are refused and keep the zone" {
	table <<'EOF'
tz Asia/Kolkata => ok
tz Mars/Olympus_Mons => error
tz  => error
tz America => error
tz America/ => error
tz /usr/share/zoneinfo/UTC => error
tz ../zoneinfo/UTC => error
tz Asia/../UTC => error
tz zone.tab => error
tz EST+5 => error
tz America//New_York => error
hour 2026-11-27T12:00:00Z - => 2026-11-27T17
EOF
}

@test "zones: labels of years beyond 0000-9999 keep their width" {
	table <<'EOF'
date 253402300800000000 UTC => 0000-00-00
hour 253402300800000000 UTC => 0000-00-00T00
date -62167219200000001 UTC => 0000-00-00
date 253402300799999999 UTC => 9999-12-31
hour 253402300800000000 Asia/Kolkata => 0000-00-00T00
EOF
}

# ---- the driver ---------------------------------------------------------

@test "time_test: an unknown command is a usage error" {
	run_split "$EVUNIT/time_test" <<<$'fmt 0\nbogus 1'
	[ "$status" -eq 2 ] || fail_with "status"
	[ "$output" = "1970-01-01T00:00:00.000000Z" ] || fail_with "output"
	[ "$stderr" = "time_test: <stdin>:2: bad command 'bogus'" ] || fail_with "stderr"
}

# ---- option times in the tools --------------------------------------------

EVQ="$BATS_TEST_DIRNAME/fixtures/evquery/events.ndjson"

# ids: the event_id of each event evquery keeps, on one line

@test "tools: --since 1h is an hour ago, -1h and +1h are offsets from --now" {
	run_split evquery --now 2026-11-02T10:30:00Z --since 1h -s event_id --format tsv "$EVQ"
	[ "$status" -eq 0 ] && [ "$stderr" = "" ] || fail_with "status"
	[ "$output" = $'event_id\ne5\ne6\ne7\ne8' ] || fail_with "--since 1h"
	run_split evquery --now 2026-11-02T10:30:00Z --until -1h -c "$EVQ"
	[ "$output" = 5 ] || fail_with "--until -1h"
	run_split evquery --now 2026-11-02T08:30:00Z --since +1h -c "$EVQ"
	[ "$output" = 4 ] || fail_with "--since +1h"
	run_split evquery --now 2026-11-03T10:00:00Z --since 1d1h -c "$EVQ"
	[ "$output" = 4 ] || fail_with "--since 1d1h"
}

@test "tools: now, today and yesterday, midnight in --tz whatever the option order" {
	run_split evquery --now 2026-11-02T10:30:00Z --since today -c "$EVQ"
	[ "$status" -eq 0 ] && [ "$output" = 4 ] && [ "$stderr" = "" ] || fail_with "today"
	run_split evquery --now 2026-11-02T10:30:00Z --since yesterday --until today -c "$EVQ"
	[ "$output" = 4 ] || fail_with "yesterday"
	run_split evquery --now 2026-11-02T10:30:00Z --until now -c "$EVQ"
	[ "$output" = 7 ] || fail_with "now"
	# 2026-11-02T03:00Z is the evening of 11-01 in New York (EST); its
	# midnight was still EDT: 2026-11-01T04:00Z
	run_split evquery --now 2026-11-02T03:00:00Z --since today --tz America/New_York -c "$EVQ"
	[ "$output" = 8 ] || fail_with "--tz after --now"
	run_split evquery --tz America/New_York --now 2026-11-02T03:00:00Z --until today -c "$EVQ"
	[ "$output" = 0 ] || fail_with "--until today in New York"
	EV_NOW=2026-11-02T10:30:00Z run_split evquery --since today -c "$EVQ"
	[ "$output" = 4 ] || fail_with "EV_NOW"
	run_split evquery --now today --tz Asia/Tokyo --since now -c "$EVQ"
	[ "$status" -eq 0 ] || fail_with "--now today"
}

@test "tools: a bare number is an epoch in the auto unit whatever --time-unit; @EPOCH is seconds" {
	run_split evquery --since 1793696400 -s event_id "$EVQ"
	[ "$status" -eq 0 ] && [ "$output" = '{"event_id":"e8"}' ] && [ "$stderr" = "" ] || fail_with "seconds"
	run_split evquery --since 1793696400000 -c "$EVQ"
	[ "$output" = 1 ] || fail_with "ms"
	# --time-unit ms reads e8's number as 1970; the option stays seconds
	run_split evquery --time-unit ms --until 1793696400 -c "$EVQ"
	[ "$output" = 8 ] || fail_with "auto whatever --time-unit"
	run_split evquery --time-unit ms --until 1793696400000 -c "$EVQ"
	[ "$output" = 8 ] || fail_with "auto ms whatever --time-unit"
	run_split evquery --since @1793696399.5 -c "$EVQ"
	[ "$output" = 1 ] || fail_with "@EPOCH"
	run_split evquery --since 2026-11-02T10:00:00+01:00 -c "$EVQ"
	[ "$output" = 4 ] || fail_with "+01:00"
	run_split evquery --since 2026-11-02T10:00:00+0100 -c "$EVQ"
	[ "$output" = 4 ] || fail_with "+0100"
}

@test "tools: a small bare number is warned about as an epoch, not a year" {
	run_split evquery --since 2026 -c "$EVQ"
	[ "$status" -eq 0 ] && [ "$output" = 8 ] || fail_with "status"
	[ "$stderr" = "evquery: warning: --since: '2026' is read as an epoch number, 1970-01-01T00:33:46.000000Z; a date is written YYYY-MM-DD" ] || fail_with "stderr"
}

@test "tools: a bad time lists the accepted forms, in every tool that takes one" {
	forms="expected 2026-11-27, 2026-11-27T15:45:16Z (offsets +01:00 or +0100), @EPOCH, an epoch number, now, today, yesterday, -15m or +1h (from now), or 15m (ago)"
	run_split evquery --since 'last tuesday' "$EVQ"
	[ "$status" -eq 2 ] && [ "$output" = "" ] || fail_with "status"
	[ "$stderr" = "evquery: --since: bad time 'last tuesday'; $forms
usage: evquery [-ceqrv] [option ...] [file ...]
Try 'evquery --help' for more information." ] || fail_with "stderr"
	run_split evreplay --as-of 15 "$EVQ"
	[ "$status" -eq 0 ] || fail_with "evreplay --as-of 15 is an epoch"
	run_split evreplay --as-of 2026-02-30 "$EVQ"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evreplay: --as-of: bad time '2026-02-30'; $forms" ] || fail_with "evreplay"
	run_split evquery --now soon -c "$EVQ"
	[ "$status" -eq 2 ] && [ "${stderr%%$'\n'*}" = "evquery: --now: bad time 'soon'; $forms" ] || fail_with "--now"
	EV_NOW=soon run_split evquery -c "$EVQ"
	[ "$status" -eq 2 ] && [ "$stderr" = "evquery: EV_NOW: bad time 'soon'; $forms" ] || fail_with "EV_NOW"
}
