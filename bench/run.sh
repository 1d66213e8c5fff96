#!/bin/sh
# bench/run.sh — evtools against jq and Miller on the same jobs, same data,
# plus the floor (a bare jansson parse of every line).  Run by `make bench`
# (after `make all`), or directly: sh bench/run.sh
#
# Environment:
#   BENCH_N=1000000     events to generate (bench/out/events-1M.ndjson)
#   BENCH_SEED=1        generator seed
#   BENCH_HYPERFINE=K   also run each job's commands K times under hyperfine
#                       (bench/out/hyperfine-JOB.md); default: off
#   EVBIN=build/bin     where the evtools binaries are
#
# Each command runs ONCE under GNU time (wall seconds, user+sys CPU seconds,
# peak RSS).  Results: a table on stdout and in bench/out/results.txt;
# every command's stdout and stderr stay in bench/out/JOB.TOOL.{out,err}.
#
# Adding a tool's jobs: call `job NAME CMD ARG...` once per command of the
# comparison, the evtools command first (see "jobs" at the bottom).  Rows
# with the same NAME form one comparison: their output line counts must
# agree, and every other row is given as a ratio to the row whose tool name
# starts with "ev".
# shellcheck disable=SC2016 # jq and Miller programs are single-quoted on purpose
set -u
cd "$(dirname "$0")/.." || exit 2
export LC_ALL=C

OUT=bench/out
N=${BENCH_N:-1000000}
SEED=${BENCH_SEED:-1}
HF_RUNS=${BENCH_HYPERFINE:-0}
EVBIN=${EVBIN:-build/bin}
CC=${CC:-cc}
TIME=/usr/bin/time

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }
have() { command -v "$1" >/dev/null 2>&1; }

case $N in '' | *[!0-9]* | 0) die "BENCH_N must be a positive integer: $N" ;; esac
case $SEED in '' | *[!0-9]*) die "BENCH_SEED must be a non-negative integer: $SEED" ;; esac
case $HF_RUNS in '' | *[!0-9]*) die "BENCH_HYPERFINE must be a number of runs: $HF_RUNS" ;; esac
mkdir -p "$OUT" || exit 2

# ---- tools ---------------------------------------------------------------
# .ci/deps installs what is missing when we are root, else names it.
sh .ci/deps jq miller hyperfine time >&2 ||
	say "some benchmark tools are missing: their rows will be skipped"
if ! { [ -x "$TIME" ] && "$TIME" -f '%e' -o /dev/null true 2>/dev/null; }; then
	die "GNU time is needed at $TIME (Debian package: time)"
fi
for t in jq mlr hyperfine; do
	have "$t" || say "$t not found: its rows are skipped"
done
[ "$HF_RUNS" -gt 0 ] && ! have hyperfine && HF_RUNS=0

# ---- build the generator and the floor -------------------------------------
WFLAGS="-std=c11 -Wall -Wextra"
JCFLAGS=$(pkg-config --cflags jansson 2>/dev/null)
JLIBS=$(pkg-config --libs jansson 2>/dev/null || echo -ljansson)
# shellcheck disable=SC2086 # flag lists are split on purpose
$CC -O2 $WFLAGS -o "$OUT/gen" bench/gen.c || die "cannot build bench/gen.c"
# shellcheck disable=SC2086
$CC -O2 $WFLAGS $JCFLAGS -o "$OUT/jparse" bench/jparse.c $JLIBS ||
	die "cannot build bench/jparse.c"

# ---- data --------------------------------------------------------------------
if [ $((N % 1000000)) -eq 0 ]; then size=$((N / 1000000))M
elif [ $((N % 1000)) -eq 0 ]; then size=$((N / 1000))k
else size=$N
fi
DATA=$OUT/events-$size.ndjson
[ "$SEED" = 1 ] || DATA=$OUT/events-$size-s$SEED.ndjson
stamp="$("$OUT/gen" --version) n=$N seed=$SEED src=$(cksum <bench/gen.c | cut -d' ' -f1)"
if [ -s "$DATA" ] && [ "$(cat "$DATA.stamp" 2>/dev/null)" = "$stamp" ]; then
	say "reusing $DATA ($stamp)"
else
	say "generating $DATA ($N events)"
	rm -f "$DATA.stamp"
	if ! { "$OUT/gen" "$N" "$SEED" >"$DATA.tmp" && mv "$DATA.tmp" "$DATA"; }; then
		rm -f "$DATA.tmp"
		die "generation failed"
	fi
	printf '%s\n' "$stamp" >"$DATA.stamp"
fi
BYTES=$(wc -c <"$DATA" | tr -d ' ')
cat "$DATA" >/dev/null # into the page cache: no run pays the first read

# ---- the job runner ------------------------------------------------------------
ROWS=$OUT/rows.tsv   # job tool status wall cpu rss_kib result note
CMDS=$OUT/commands.txt
: >"$ROWS"
: >"$CMDS"
HF_JOB=
HF_LIST=
HF_DONE=
rm -f "$OUT"/hyperfine-*.md

# Shell-quote the arguments onto one line (for the report and hyperfine).
shquote() {
	q=
	for a in "$@"; do
		case $a in
		'' | *[!A-Za-z0-9_./=:,+@%^-]*)
			a="'$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'" ;;
		esac
		q="$q${q:+ }$a"
	done
	printf '%s' "$q"
}

hyperfine_flush() {
	if [ "$HF_RUNS" -gt 0 ] && [ -n "$HF_LIST" ]; then
		say "hyperfine: $HF_JOB ($HF_RUNS runs per command)"
		(
			IFS='
'
			set -f
			# shellcheck disable=SC2086
			set -- $HF_LIST
			hyperfine --style basic --warmup 1 --runs "$HF_RUNS" \
				--export-markdown "$OUT/hyperfine-$HF_JOB.md" "$@" >&2
		)
		HF_DONE="$HF_DONE $HF_JOB"
	fi
	HF_JOB=
	HF_LIST=
}

# job [-i FILE] [-c] NAME CMD [ARG...]
#   Time one run of CMD; its stdout goes to $OUT/NAME.TOOL.out (TOOL is the
#   base name of CMD).  -i FILE: stdin from FILE (else /dev/null).
#   -c: CMD prints a count; that number is its result (else: lines output).
#   A CMD that is not there gives a "skipped" row.
job() {
	in=/dev/null
	count=
	while :; do
		case ${1-} in
		-i) in=$2; shift 2 ;;
		-c) count=1; shift ;;
		*) break ;;
		esac
	done
	name=$1
	shift
	tool=${1##*/}
	[ "$name" = "$HF_JOB" ] || hyperfine_flush
	case $1 in
	*/*) [ -x "$1" ] ;;
	*) have "$1" ;;
	esac || {
		case $tool in
		ev*) why="not built ($1 missing)" ;;
		*) why="not installed" ;;
		esac
		say "$name: $tool $why: skipped"
		printf '%s\t%s\tskip\t-\t-\t-\t-\t%s\n' "$name" "$tool" "$why" >>"$ROWS"
		return 0
	}
	cmd=$(shquote "$@")
	[ "$in" = /dev/null ] || cmd="$cmd < $(shquote "$in")"
	printf '%-12s %-8s %s\n' "$name" "$tool" "$cmd" >>"$CMDS"
	say "$name: $cmd"
	o=$OUT/$name.$tool
	"$TIME" -f '%e %U %S %M' -o "$o.time" "$@" <"$in" >"$o.out" 2>"$o.err"
	rc=$?
	# GNU time writes "Command exited with non-zero status N" first.
	# shellcheck disable=SC2046
	set -- $(tail -n 1 "$o.time" 2>/dev/null) - - - -
	wall=$1
	cpu=$(echo "$2 $3" | awk '{printf "%.2f", $1 + $2}')
	rss=$4
	if [ -n "$count" ]; then
		result=$(head -n 1 "$o.out" | tr -dc '0-9')
	else
		result=$(wc -l <"$o.out" | tr -d ' ')
	fi
	status=ok
	note=
	if [ "$rc" -ne 0 ]; then
		status=fail
		note="exit $rc: $(head -n 1 "$o.err" | cut -c1-60)"
		say "$name: $tool exited with status $rc (see $o.err)"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$name" "$tool" "$status" "$wall" "$cpu" "$rss" "${result:-?}" "$note" >>"$ROWS"
	HF_JOB=$name
	[ "$status" = ok ] && HF_LIST="$HF_LIST${HF_LIST:+
}$cmd"
	return 0
}

# ---- jobs ------------------------------------------------------------------------
EVQ=$EVBIN/evquery

job -c -i "$DATA" floor "$OUT/jparse"

job type "$EVQ" --type OrderShipped "$DATA"
job type jq -c 'select(.event_type == "OrderShipped")' "$DATA"
job type mlr --ijson --ojsonl filter '$event_type == "OrderShipped"' "$DATA"

# Miller keeps nested maps when both sides are JSON (no auto-flatten), so the
# flattened name ${payload.total} would be absent there: index the map.
job total "$EVQ" -w 'payload.total > 500' "$DATA"
job total jq -c 'select(.payload.total > 500)' "$DATA"
job total mlr --ijson --ojsonl filter '$payload["total"] > 500' "$DATA"

# Each tool adds its comparisons in bench/jobs-TOOL.sh, sourced here (it may
# use job, $DATA, $EVBIN, $OUT), e.g.
#   job by-type "$EVBIN/evproject" -p by-type "$DATA"
#   job by-type jq -n -c 'reduce inputs as $e ({}; .[$e.event_type] += 1)' "$DATA"
for jobs in bench/jobs-*.sh; do
	[ -f "$jobs" ] || continue
	# shellcheck disable=SC1090 # the fragments are ours
	. "./$jobs"
done

hyperfine_flush

# ---- report -------------------------------------------------------------------------
ver() { "$@" 2>/dev/null | head -n 1; }
{
	echo "evtools benchmark  $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
	echo "data:   $DATA  $N events, $((BYTES / 1048576)) MiB, $((BYTES / N)) bytes/event  ($stamp)"
	echo "host:   $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'), $(nproc 2>/dev/null || echo '?') CPUs, $(uname -sr)"
	evv="(not built)"
	[ -x "$EVQ" ] && evv=$(ver "$EVQ" --version | sed 's/^evquery //')
	echo "tools:  evquery $evv," \
		"$(ver jq --version), $(ver mlr --version), jansson $(pkg-config --modversion jansson 2>/dev/null)"
	echo "one run each; wall and cpu (user+sys) in seconds, peak RSS in MiB;"
	echo "\"x floor\" = wall / wall of the bare jansson parse (jparse)"
	echo
	awk -F '\t' -v n="$N" '
	{
		job[NR] = $1; tool[NR] = $2; st[NR] = $3; wall[NR] = $4
		cpu[NR] = $5; rss[NR] = $6; res[NR] = $7; note[NR] = $8
		if ($1 == "floor" && $3 == "ok") floor = $4 + 0
		if ($2 ~ /^ev/ && $3 == "ok") base[$1] = NR
	}
	function x(a, b) {
		if (b <= 0) return "-"
		return sprintf(a / b < 10 ? "%.2fx" : "%.1fx", a / b)
	}
	END {
		fmt = "%-7s %-8s %8s %8s %8s %10s  %-8s %s\n"
		printf fmt, "job", "tool", "wall s", "cpu s", "RSS MiB", "out lines", "x floor", "ratio"
		printf fmt, "-------", "--------", "------", "-----", "-------", "---------", "-------", "-----"
		for (i = 1; i <= NR; i++) {
			if (st[i] == "skip") {
				printf fmt, job[i], tool[i], "-", "-", "-", "-", "-", "skipped: " note[i]
				continue
			}
			r = ""
			if (job[i] == "floor")
				r = "(the floor)"
			else if (job[i] in base && base[job[i]] != i) {
				b = base[job[i]]
				r = sprintf("%s/%s = %s", tool[i], tool[b], x(wall[i], wall[b]))
			}
			xf = x(wall[i], floor)
			if (st[i] != "ok") { r = "FAILED " note[i]; xf = "-" }
			line = sprintf(fmt, job[i], tool[i], wall[i], cpu[i], sprintf("%.1f", rss[i] / 1024), \
				res[i], xf, r)
			sub(/ +\n$/, "\n", line)
			printf "%s", line
		}
		print ""
		# output agreement per job
		for (i = 1; i <= NR; i++) {
			j = job[i]
			if (st[i] == "fail") failed[job[i]] = failed[job[i]] " " tool[i]
			if (st[i] != "ok") continue
			if (!(j in seen)) { seen[j] = res[i]; order[++nj] = j; list[j] = tool[i] "=" res[i]; cnt[j] = 1; continue }
			list[j] = list[j] ", " tool[i] "=" res[i]; cnt[j]++
			if (res[i] != seen[j]) bad[j] = 1
		}
		for (k = 1; k <= nj; k++) {
			j = order[k]
			if (j == "floor")
				printf "check  floor: jparse parsed %s objects of %s events: %s\n", seen[j], n, seen[j] == n ? "ok" : "MISMATCH"
			else if (j in bad)
				printf "check  %s: output lines DIFFER: %s\n", j, list[j]
			else if (cnt[j] > 1)
				printf "check  %s: same number of output lines (%s) from %s\n", j, seen[j], list[j]
			else
				printf "check  %s: only %s ran, nothing to compare\n", j, list[j]
			if (j in failed)
				printf "check  %s: FAILED (not compared):%s\n", j, failed[j]
		}
	}' "$ROWS"
	echo
	echo "commands (cwd: $(pwd)):"
	cat "$CMDS"
	if [ "$HF_RUNS" -gt 0 ]; then
		for j in $HF_DONE; do
			f=$OUT/hyperfine-$j.md
			[ -f "$f" ] || continue
			echo
			echo "hyperfine, $HF_RUNS runs: ${f##*/}"
			cat "$f"
		done
	fi
} >"$OUT/results.txt"
echo
cat "$OUT/results.txt"
echo
echo "(also in $OUT/results.txt)"
