# bench/jobs-scaleout.sh — scale-out on one machine, sourced by
# bench/run.sh: one process against the same job split over
# BENCH_JOBS (default 2) processes by GNU parallel and merged
# (bench/scaleout.sh; the recipes of evtools(7)).  The outputs are the
# same rows (compared by line count here, byte for byte in
# tests/scaleout.bats).
SJ=${BENCH_JOBS:-2}
SO=bench/scaleout.sh
SAGG="-g payload.customer_id -a count -a sum:payload.total -a p90:payload.total -a distinct:@type"
sh .ci/deps parallel >&2 || say "GNU parallel is missing: the scale-out rows fail"

# key shards: each process reads the whole file (evquery --shard), and
# aggregates its part
# shellcheck disable=SC2086 # SAGG is a list of words
job pshard "$EVBIN/evproject" $SAGG "$DATA"
# shellcheck disable=SC2086
job pshard "$SO" shard "$SJ" "$DATA" $SAGG

# blocks of lines: each process reads its own part of the file
# shellcheck disable=SC2086
job ppipe "$EVBIN/evproject" $SAGG "$DATA"
# shellcheck disable=SC2086
job ppipe "$SO" pipepart "$SJ" "$DATA" $SAGG

# the file split in line-aligned files first, one process per file
# shellcheck disable=SC2086
job pfiles "$EVBIN/evproject" $SAGG "$DATA"
# shellcheck disable=SC2086
job pfiles "$SO" files "$SJ" "$DATA" $SAGG

job rshard "$EVBIN/evreplay" "$DATA"
job rshard "$SO" replay "$SJ" "$DATA"
