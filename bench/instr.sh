#!/bin/sh
# bench/instr.sh — instructions each tool executes on the same jobs, at two
# revisions: a before/after table that a loaded machine cannot blur
# (valgrind's callgrind counts instructions, not seconds; the same binary
# and input give the same count).  Wall-clock comparisons with jq and
# Miller stay in bench/run.sh.
#
#   sh bench/instr.sh [BASE_REV]       (default BASE_REV: HEAD~1)
#   BENCH_N=20000                      events generated (default 20000)
#
# It builds BASE_REV in a temporary git worktree and the working tree as
# it is, runs every job of both under callgrind, and prints one row per
# job: instructions before, after, and after/before.
set -u
cd "$(dirname "$0")/.." || exit 2
base=${1:-HEAD~1}
N=${BENCH_N:-20000}
out=bench/out/instr
mkdir -p "$out" || exit 2
command -v valgrind >/dev/null 2>&1 || { echo "bench/instr.sh: valgrind is needed" >&2; exit 2; }

cc -O2 -o "$out/gen" bench/gen.c || exit 2
"$out/gen" "$N" 1 >"$out/events.ndjson" || exit 2
data=$out/events.ndjson

wt=$(mktemp -d)
trap 'git worktree remove --force "$wt/src" >/dev/null 2>&1; rm -rf "$wt"' EXIT INT TERM
git worktree add -q --detach "$wt/src" "$base" || exit 2
make -s -C "$wt/src" -j2 all >/dev/null 2>&1 || { echo "bench/instr.sh: $base does not build" >&2; exit 2; }
make -s -j2 all >/dev/null || exit 2

# instr BIN ARG...: instructions of one run (stdout discarded)
instr() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-44s %14s %14s %7s\n' job before after ratio
while IFS='|' read -r name cmd; do
	[ -n "$name" ] || continue
	b=$(eval "instr $wt/src/build/bin/$cmd")
	a=$(eval "instr build/bin/$cmd")
	printf '%-44s %14s %14s %7s\n' "$name" "$b" "$a" "$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f", a / b }')"
done <<JOBS
evquery --type|evquery --type OrderShipped $data
evquery -w|evquery -w 'payload.total > 500' $data
evquery -s --format tsv|evquery -s @id,@type,payload.total --format tsv $data
evproject -p by-type|evproject -p by-type $data
evproject -g -a sum|evproject -g payload.customer_id -a sum:payload.total $data
evproject tumbling:1m|evproject --window tumbling:1m $data
evreplay|evreplay $data
evsnap|evsnap $data
evwrite --dry-run|evwrite --dry-run --now 2026-11-27T10:00Z $data
JOBS
