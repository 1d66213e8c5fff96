# bench/jobs-evdlq.sh — evdlq jobs, sourced by bench/run.sh (which defines
# job, $EVBIN, $OUT, $N), or run on its own from the top directory:
#   sh bench/jobs-evdlq.sh            (BENCH_DLQ_N records, default 100000)
# shellcheck shell=sh disable=SC2016 # jq programs are single-quoted on purpose
#
# triage:  evdlq triage of DLQ records (exponential backoff, --max-age 7d,
#          max_retries from each record) routed to three files, against a
#          jq program that computes the same decisions and next_retry_at
#          and writes every record with them.  Each prints the number of
#          records written (-c); both must be all of them.
# breaker: evdlq breaker over outcomes of 1,000 keys against
#          bench/dlq-breaker.py, a per-key Python circuit breaker with the
#          same rules; both print the transitions.
# The data is made by awk with a fixed seed: DLQ records in the shape
# evdlq fail writes (an evwrite --message envelope inside, about 640
# bytes), first failures spread over the nine days before --now, so about
# a fifth are expired; outcomes 10 ms apart, each key's failure rate
# drifting between 2% and 62%, so breakers open and close.

DLQ_N=${BENCH_DLQ_N:-${N:-100000}}
DLQ_OUT=${OUT:-bench/out}
DLQ_BIN=${EVBIN:-build/bin}
DLQ_NOW=2026-12-10T00:00:00Z
mkdir -p "$DLQ_OUT"

if ! command -v job >/dev/null 2>&1; then
	# standalone: one run each under GNU time, a line per command
	job() {
		count=
		[ "$1" = -c ] && { count=1; shift; }
		name=$1
		shift
		command -v "$1" >/dev/null 2>&1 || { echo "$name ${1##*/}: skipped (not found)"; return 0; }
		/usr/bin/time -f '%e %U %S %M' -o "$DLQ_OUT/$name.time" "$@" >"$DLQ_OUT/$name.${1##*/}.out" 2>"$DLQ_OUT/$name.${1##*/}.err"
		rc=$?
		if [ -n "$count" ]; then res=$(head -n 1 "$DLQ_OUT/$name.${1##*/}.out"); else res=$(wc -l <"$DLQ_OUT/$name.${1##*/}.out"); fi
		tail -n 1 "$DLQ_OUT/$name.time" | awk -v n="$name" -v t="${1##*/}" -v r="$res" -v rc="$rc" \
			'{ printf "%-8s %-8s wall %6.2f s  cpu %6.2f s  RSS %6.1f MiB  result %s%s\n", n, t, $1, $2 + $3, $4 / 1024, r, rc ? "  exit " rc : "" }'
	}
fi

DLQ_DATA=$DLQ_OUT/dlq-$DLQ_N.ndjson
if [ ! -s "$DLQ_DATA" ]; then
	awk -v n="$DLQ_N" 'BEGIN {
		srand(7)
		split("timeout refused http_503 validation", reasons, " ")
		for (i = 1; i <= n; i++) {
			# first failure: December 1-9 2026; this failure up to 20 h later
			fs = int(rand() * 9 * 86400); fu = int(rand() * 1000000)
			ls = fs + int(rand() * 72000); if (ls >= 9 * 86400) ls = 9 * 86400 - 1
			lu = int(rand() * 1000000)
			first = sprintf("2026-12-%02dT%02d:%02d:%02d.%06dZ", 1 + int(fs / 86400), int(fs % 86400 / 3600), int(fs % 3600 / 60), fs % 60, fu)
			last = sprintf("2026-12-%02dT%02d:%02d:%02d.%06dZ", 1 + int(ls / 86400), int(ls % 86400 / 3600), int(ls % 3600 / 60), ls % 60, lu)
			r = reasons[1 + int(rand() * 4)]
			printf "{\"message\":{\"message_id\":\"m-%d\",\"topic\":\"orders\",\"payload\":{\"order_id\":\"order-%d\",\"total\":%d.%02d},\"headers\":{\"content_type\":\"application/json\",\"timestamp\":\"%s\",\"source\":\"shop\",\"correlation_id\":\"c-%d\",\"priority\":0,\"ttl\":null},\"routing\":{\"key\":\"orders\",\"exchange\":null,\"partition_key\":\"order-%d\",\"retry_count\":0,\"max_retries\":3}},", i, i % 50000, int(rand() * 900), int(rand() * 100), first, i, i % 50000
			printf "\"reason\":\"%s\",\"first_failed_at\":\"%s\",\"failed_at\":\"%s\",\"retry_count\":%d,\"max_retries\":%d,\"strategy\":\"exponential\",\"history\":[{\"reason\":\"%s\",\"at\":\"%s\"}]}\n", r, first, last, int(rand() * 7), rand() < 0.5 ? 3 : 5, r, first
		}
	}' >"$DLQ_DATA.tmp" && mv "$DLQ_DATA.tmp" "$DLQ_DATA"
fi
OUTCOMES=$DLQ_OUT/outcomes-$DLQ_N.ndjson
if [ ! -s "$OUTCOMES" ]; then
	awk -v n="$DLQ_N" 'BEGIN {
		srand(11)
		for (i = 0; i < n; i++) {
			k = (i * 7919) % 1000
			t = i * 10000             # microseconds from 2026-12-01
			phase = (t / 1000000 + k * 37) % 3600
			p = 0.02 + 0.6 * (phase < 600 ? phase / 600 : 0)
			s = int(t / 1000000); us = t % 1000000
			printf "{\"svc\":\"svc-%d\",\"ok\":%s,\"timestamp\":\"2026-12-%02dT%02d:%02d:%02d.%06dZ\",\"latency_ms\":%d}\n", k, rand() < p ? "false" : "true", 1 + int(s / 86400), int(s % 86400 / 3600), int(s % 3600 / 60), s % 60, us, int(rand() * 900)
		}
	}' >"$OUTCOMES.tmp" && mv "$OUTCOMES.tmp" "$OUTCOMES"
fi

# The same decisions as evdlq triage --now $DLQ_NOW (max-age 7d,
# exponential base 1s, max_retries from the record or 5), next_retry_at
# written as evdlq writes it (RFC 3339, microseconds).
TRIAGE_JQ='def us: (.[0:19] + "Z" | fromdateiso8601) * 1000000 + (.[20:26] | tonumber);
def iso: (. / 1000000 | floor) as $s
  | ($s | todate | .[0:19]) + "." + ("000000" + (. - $s * 1000000 | tostring))[-6:] + "Z";
(.first_failed_at | us) as $first
| if $now - $first > 604800000000 then . + {decision: "expired"}
  elif .retry_count >= (.max_retries // 5) then . + {decision: "dead"}
  else . + {next_retry_at: ((.failed_at | us) + 1000000 * pow(2; .retry_count) | iso), decision: "retry"}
  end'
NOW_US=$(printf '"%s"' "$DLQ_NOW" | jq '(fromdateiso8601 * 1000000)' 2>/dev/null || echo 0)

# Each prints the number of records it wrote (named so that run.sh takes
# the evdlq row as the base of the ratio).
cat >"$DLQ_OUT/evdlq-triage" <<EOS
#!/bin/sh
"$DLQ_BIN/evdlq" triage --now $DLQ_NOW --retry-out "$DLQ_OUT/dlq.retry" --dead-out "$DLQ_OUT/dlq.dead" \\
	--expired-out "$DLQ_OUT/dlq.expired" --alert-rate 1 "$DLQ_DATA" && cat "$DLQ_OUT/dlq.retry" "$DLQ_OUT/dlq.dead" "$DLQ_OUT/dlq.expired" | wc -l
EOS
cat >"$DLQ_OUT/jq-triage" <<EOS
#!/bin/sh
jq -c --argjson now $NOW_US '$TRIAGE_JQ' "$DLQ_DATA" > "$DLQ_OUT/dlq.jq" && wc -l < "$DLQ_OUT/dlq.jq"
EOS
chmod +x "$DLQ_OUT/evdlq-triage" "$DLQ_OUT/jq-triage"

job -c triage "$DLQ_OUT/evdlq-triage"
job -c triage "$DLQ_OUT/jq-triage"
job breaker "$DLQ_BIN/evdlq" breaker --key-field svc "$OUTCOMES"
job breaker python3 bench/dlq-breaker.py "$OUTCOMES"
