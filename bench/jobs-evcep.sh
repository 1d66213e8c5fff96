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
#   cepscan  evquery scanning the same file (the issue's "at most 2x"; one
#            run each here: bench/cepratio.sh measures it in pairs)
#   thresh   ServiceError{3} within 1m by user_id: evcep and SEC
#            (SingleWithThreshold, bench/sec-threshold.conf).  SEC counts
#            in its own clock (reading time), evcep in event time, so
#            their match counts differ by design.
#   saga     BENCH_SAGA_N (default 100000) CreateOrder sagas of 4 steps
#            (bench/gencep --saga: ~470k events, 10% failing, 5% timing
#            out): evcep --saga, and the seed-style orchestrator in Python
#            (bench/saga_seed.py: a dict of saga states, per event look up
#            and advance, timeouts in a heap); both write the same bytes
#   sagamem  4x as many sagas, as many running at once: evcep's peak RSS
#            stays that of the saga job
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

SAGA_N=${BENCH_SAGA_N:-100000}
saga_data() { # N FILE
	st="$("$OUT/gencep" --version) saga n=$1 src=$(cksum <bench/gencep.c | cut -d' ' -f1)"
	if ! [ -s "$2" ] || [ "$(cat "$2.stamp" 2>/dev/null)" != "$st" ]; then
		say "generating $2 ($1 sagas)"
		"$OUT/gencep" --saga "$1" >"$2.tmp" && mv "$2.tmp" "$2" && printf '%s\n' "$st" >"$2.stamp" ||
			die "gencep --saga failed"
	fi
}
SAGA1=$OUT/saga-$SAGA_N.ndjson
SAGA4=$OUT/saga-$((SAGA_N * 4)).ndjson
saga_data "$SAGA_N" "$SAGA1"
saga_data $((SAGA_N * 4)) "$SAGA4"
SAGAF=examples/saga/create-order.json
job saga "$EVC" --saga "$SAGAF" "$SAGA1"
job saga python3 bench/saga_seed.py "$SAGAF" "$SAGA1"
job sagamem "$EVC" --saga "$SAGAF" "$SAGA4"
