#!/bin/sh
# bench/cepratio.sh — the "evcep at most 2x evquery" measured in
# pairs: N times (default 9), the seed's three patterns with evcep, then
# evquery -t ServiceError, back to back over the same file, and the ratio
# of their CPU times (user+sys, GNU time) per pair.  A pair runs within a
# second or two, so a shared machine whose speed drifts between minutes
# moves both sides alike; the median of the pair ratios is the figure.
#
#   sh bench/cepratio.sh FILE [N]     (FILE: gencep output; EVBIN: build/bin)
set -u
f=${1:?usage: sh bench/cepratio.sh FILE [N]}
n=${2:-9}
b=${EVBIN:-build/bin}
t=$(mktemp -d) || exit 2
trap 'rm -rf "$t"' EXIT
i=0
while [ "$i" -lt "$n" ]; do
	/usr/bin/time -f '%U %S' -o "$t/c" "$b/evcep" --ids \
		-p 'fraud: l=Login -> t=HighValueTransaction[payload.amount > 10000] -> LocationChange[payload.distance > 1000] within 5m by user_id' \
		-p 'abandoned: AddToCart -> ViewCart -> !Checkout within 30m by session_id' \
		-p 'outage: ServiceError{3} within 1m by user_id' "$f" >/dev/null || exit 1
	/usr/bin/time -f '%U %S' -o "$t/q" "$b/evquery" -t ServiceError "$f" >/dev/null || exit 1
	c=$(awk '{ print $1 + $2 }' "$t/c")
	q=$(awk '{ print $1 + $2 }' "$t/q")
	awk -v c="$c" -v q="$q" 'BEGIN { printf "%.3f %s %s\n", c / q, c, q }' >>"$t/pairs"
	i=$((i + 1))
done
sort -n "$t/pairs" | awk '{ r[NR] = $1; c[NR] = $2; q[NR] = $3 }
	END { for (i = 1; i <= NR; i++) printf "ratio %.3f  (evcep %.2f s, evquery %.2f s)\n", r[i], c[i], q[i]
	      printf "median ratio %.3f of %d pairs (lowest %.3f, highest %.3f)\n", r[int((NR + 1) / 2)], NR, r[1], r[NR] }'
