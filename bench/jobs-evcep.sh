# bench/jobs-evcep.sh — evcep's comparisons, sourced by bench/run.sh (which
# defines job, $EVBIN, $OUT, $N and $CC).  The evtools command comes first
# in each job: it is the baseline of the ratios.
#
# Data: bench/gencep.c (users doing logins, transactions, location
# changes, carts and service errors; $N events, 2000 users), not the order
# events of gen.c.
#   cep3     the seed's three patterns together: evcep, and the seed's
#            Python algorithm (bench/cep_seed.py: every partial match of
#            every key scanned per event) on a smaller file, since it is
#            slow: BENCH_CEP_PY_N events (default 100000) — job cep3py
#   cepscan  evquery scanning the same file (the issue's "at most 2x")
#   thresh   ServiceError{3} within 1m by user_id: evcep and SEC
#            (SingleWithThreshold, bench/sec-threshold.conf).  SEC counts
#            in its own clock (reading time), evcep in event time, so
#            their match counts differ by design.
EVC=$EVBIN/evcep
PY_N=${BENCH_CEP_PY_N:-100000}
sh .ci/deps sec >&2 || say "sec missing: its row is skipped"
$CC -O2 -std=c11 -Wall -Wextra -o "$OUT/gencep" bench/gencep.c || die "cannot build bench/gencep.c"
cep_data() { # N FILE
	st="$("$OUT/gencep" --version) n=$1 src=$(cksum <bench/gencep.c | cut -d' ' -f1)"
	if ! [ -s "$2" ] || [ "$(cat "$2.stamp" 2>/dev/null)" != "$st" ]; then
		say "generating $2 ($1 events)"
		"$OUT/gencep" "$1" >"$2.tmp" && mv "$2.tmp" "$2" && printf '%s\n' "$st" >"$2.stamp" ||
			die "gencep failed"
	fi
}
CEP=$OUT/cep-$N.ndjson
CEPPY=$OUT/cep-$PY_N.ndjson
cep_data "$N" "$CEP"
cep_data "$PY_N" "$CEPPY"
cat "$CEP" >/dev/null
FRAUD='fraud: l=Login -> t=HighValueTransaction[payload.amount > 10000] -> LocationChange[payload.distance > 1000] within 5m by user_id'
CART='abandoned: AddToCart -> ViewCart -> !Checkout within 30m by session_id'
OUTAGE='outage: ServiceError{3} within 1m by user_id'

job cep3 "$EVC" --ids -p "$FRAUD" -p "$CART" -p "$OUTAGE" "$CEP"
job cepscan "$EVBIN/evquery" -t ServiceError "$CEP"
job cep3py "$EVC" --ids -p "$FRAUD" -p "$CART" -p "$OUTAGE" "$CEPPY"
job cep3py python3 bench/cep_seed.py "$CEPPY"
job thresh "$EVC" -p "$OUTAGE" "$CEP"
job thresh sec --conf=bench/sec-threshold.conf --input="$CEP" --notail --nointevents --log=/dev/null
