#!/bin/sh
# bench/scaleout.sh MODE JOBS DATA ARG... — the scale-out recipes of
# evtools(7), as one command for bench/run.sh to time against one process:
#   shard     JOBS key shards (evquery --shard I/JOBS | evproject ARG...
#             --partial), run by GNU parallel, then evproject ARG... --merge
#   pipepart  DATA cut in blocks of lines by parallel --pipepart (one block
#             per job), evproject ARG... --partial on each, then --merge
#   files     DATA cut in JOBS files at line ends (split -n l/JOBS), then
#             evproject ARG... --partial on each file, and --merge
#   replay    JOBS key shards of evreplay ARG..., concatenated
# The rows are those of `evproject ARG... DATA` (replay: the same lines as
# `evreplay ARG... DATA`, in shard order).  EVBIN: where the tools are.
set -eu
mode=$1 jobs=$2 data=$3
shift 3
bin=${EVBIN:-build/bin}
args=
for a in "$@"; do
	args="$args '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shards=$(seq 0 $((jobs - 1)))
case $mode in
shard)
	# shellcheck disable=SC2086 # the shard numbers are words
	parallel --will-cite -j "$jobs" \
		"'$bin/evquery' --shard {}/$jobs '$data' | '$bin/evproject' $args --partial > '$tmp/part.{}'" ::: $shards
	cat "$tmp"/part.* | "$bin/evproject" "$@" --merge
	;;
pipepart)
	size=$(wc -c < "$data")
	parallel --will-cite --pipepart -a "$data" --block $((size / jobs + 1)) -j "$jobs" \
		"'$bin/evproject' $args --partial" > "$tmp/parts"
	"$bin/evproject" "$@" --merge "$tmp/parts"
	;;
files)
	# the file cut in JOBS files at line ends first (split, in C), then
	# one evproject per file: what runs over a store kept in several files
	split -n l/"$jobs" "$data" "$tmp/in."
	# shellcheck disable=SC2086
	parallel --will-cite -j "$jobs" "'$bin/evproject' $args --partial {}" ::: "$tmp"/in.* > "$tmp/parts"
	"$bin/evproject" "$@" --merge "$tmp/parts"
	;;
replay)
	# shellcheck disable=SC2086
	parallel --will-cite -j "$jobs" -k \
		"'$bin/evquery' --shard {}/$jobs '$data' | '$bin/evreplay' $args" ::: $shards
	;;
*)
	echo "scaleout.sh: unknown mode '$mode' (shard, pipepart, files or replay)" >&2
	exit 2
	;;
esac
