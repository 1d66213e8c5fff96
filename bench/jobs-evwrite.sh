#!/bin/sh
# bench/jobs-evwrite.sh — evwrite: the latency of appending one event to a
# store of $DATA's million events (target: median <= 20 ms), and bulk
# appends with --fsync batch (target: >= 100,000 events/s).
#
# Sourced by bench/run.sh (uses its $DATA, $EVBIN, $OUT and `job`), or run
# on its own from the top directory:  sh bench/jobs-evwrite.sh
# (then DATA defaults to bench/out/events-1M.ndjson, which run.sh makes).
#
# Results: rows in the run.sh table (append1, bulk) and, for the latency,
# which one run under GNU time cannot show, bench/out/evwrite-latency.txt.

EW_DATA=${DATA:-bench/out/events-1M.ndjson}
EW_BIN=${EVBIN:-build/bin}
EW_OUT=${OUT:-bench/out}
EW_RUNS=${EVWRITE_RUNS:-101}
EW_BULK=${EVWRITE_BULK:-200000}
EW_CMDS=${EVWRITE_CMDS:-100000}
EW_CMD_RUNS=${EVWRITE_CMD_RUNS:-5}

ew_say() { printf 'bench: evwrite: %s\n' "$*" >&2; }
ew_ms() { date +%s%N | awk '{ printf "%.3f", $1 / 1e6 }'; }

ew_main() {
	ew=$EW_BIN/evwrite
	[ -x "$ew" ] || { ew_say "$ew not built: skipped"; return 0; }
	[ -s "$EW_DATA" ] || { ew_say "$EW_DATA missing: skipped"; return 0; }
	store=$EW_OUT/evwrite-store.ndjson
	rm -f "$store" "$store.idx" "$store.base"
	cp "$EW_DATA" "$store" || return 0
	n=$(wc -l <"$store" | tr -d ' ')
	one=$EW_OUT/evwrite-one.ndjson
	echo '{"aggregate_id":"order-1","event_type":"OrderNoted","payload":{"note":"bench"}}' >"$one"

	# the first append builds the index by one scan of the store
	t0=$(ew_ms)
	"$ew" -q --store "$store" <"$one" || ew_say "first append failed"
	t1=$(ew_ms)
	ew_say "index built from $n events in $(echo "$t0 $t1" | awk '{ printf "%.0f", $2 - $1 }') ms"

	# one event at a time: each run locks, checks the index, appends,
	# fsyncs.  hyperfine when there is one (no shell in between), else a
	# bash loop on $EPOCHREALTIME; `evwrite --version` is the floor (the
	# cost of starting a process here).
	lat=$EW_OUT/evwrite-latency.ms
	: >"$lat"
	if command -v hyperfine >/dev/null 2>&1 && command -v jq >/dev/null 2>&1; then
		hyperfine -N --warmup 3 --runs "$EW_RUNS" "$ew -q --store $store $one" "$ew --version" \
			--export-json "$EW_OUT/evwrite-latency.json" >/dev/null 2>&1
		jq -r '.results[0].times[] | . * 1000' "$EW_OUT/evwrite-latency.json" >"$lat"
		floor=$(jq -r '.results[1].median * 1000' "$EW_OUT/evwrite-latency.json")
	elif command -v bash >/dev/null 2>&1; then
		bash -c 'for i in $(seq 1 "$1"); do t0=$EPOCHREALTIME; "$2" -q --store "$3" "$4"; t1=$EPOCHREALTIME;
			echo "$t0 $t1"; done' - "$EW_RUNS" "$ew" "$store" "$one" | awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' >"$lat"
		floor='?'
	fi
	sort -n "$lat" | awk -v n="$n" -v floor="${floor:-?}" '
		{ v[NR] = $1 }
		END {
			printf "evwrite append of 1 event to a %d-event store, %d runs: median %.2f ms, p90 %.2f ms, max %.2f ms (target: median <= 20 ms; process start alone: %s ms)\n",
				n, NR, v[int((NR + 1) / 2)], v[int(NR * 0.9)], v[NR], floor
		}' | tee "$EW_OUT/evwrite-latency.txt" >&2

	# bulk: events without envelope fields, over 5,000 aggregates
	bulk=$EW_OUT/evwrite-bulk-in.ndjson
	awk -v n="$EW_BULK" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"aggregate_id\":\"order-%d\",\"event_type\":\"OrderNoted\",\"payload\":{\"i\":%d,\"note\":\"bench\"}}\n", i % 5000, i
	}' >"$bulk"
	bstore=$EW_OUT/evwrite-bulk.ndjson
	rm -f "$bstore" "$bstore.idx"
	if command -v job >/dev/null 2>&1 && [ -n "${ROWS-}" ]; then
		job -i "$one" append1 "$ew" --store "$store"
		job -i "$bulk" bulk "$ew" -q --fsync batch --store "$bstore"
		rm -f "$bstore" "$bstore.idx"
		job -i "$bulk" bulk-1M "$ew" -q --fsync batch --store "$store"
	fi
	rm -f "$bstore" "$bstore.idx"
	t0=$(ew_ms)
	"$ew" -q --fsync batch --store "$bstore" <"$bulk" || ew_say "bulk append failed"
	t1=$(ew_ms)
	echo "$t0 $t1" | awk -v n="$EW_BULK" '{ s = ($2 - $1) / 1000; printf "evwrite bulk append of %d events to a new store, --fsync batch: %.2f s, %.0f events/s (target: >= 100000)\n", n, s, n / s }' |
		tee -a "$EW_OUT/evwrite-latency.txt" >&2
	t0=$(ew_ms)
	"$ew" -q --fsync batch --store "$store" <"$bulk" || ew_say "bulk append failed"
	t1=$(ew_ms)
	echo "$t0 $t1 $n" | awk -v n="$EW_BULK" '{ s = ($2 - $1) / 1000; printf "evwrite bulk append of %d events to the %d-event store, --fsync batch: %.2f s, %.0f events/s\n", n, $3, s, n / s }' |
		tee -a "$EW_OUT/evwrite-latency.txt" >&2
	rm -f "$bulk" "$bstore" "$bstore.idx" "$bstore.lock" "$store" "$store.idx" "$store.lock" "$one"
}

# --commands against events: the same aggregates and payloads, into a new
# store each run (a re-run of the same commands would only skip
# duplicates).  Runs alternate so that the machine's load hits both alike;
# the medians of wall and user CPU time are compared, then (with valgrind)
# the instructions of one run of each.  "events" lack ids
# (evwrite makes v4 ones); "events+id" carry an event_id as commands
# carry a command_id, so both look up every id in the store.
ew_commands() {
	ew=$EW_BIN/evwrite
	[ -x "$ew" ] || return 0
	d=$EW_OUT/evwrite-cmd
	mkdir -p "$d"
	awk -v n="$EW_CMDS" -v d="$d" 'BEGIN {
		for (i = 1; i <= n; i++) {
			p = sprintf("\"aggregate_id\":\"order-%d\",\"payload\":{\"i\":%d,\"note\":\"bench\"}", i % 5000, i)
			printf "{%s,\"event_type\":\"OrderNoted\"}\n", p >(d "/events.ndjson")
			printf "{\"event_id\":\"ev-%d\",%s,\"event_type\":\"OrderNoted\"}\n", i, p >(d "/events-id.ndjson")
			printf "{\"command_type\":\"NoteOrder\",\"command_id\":\"cmd-%d\",%s}\n", i, p >(d "/commands.ndjson")
		}
	}'
	echo '{"NoteOrder":"OrderNoted"}' >"$d/map.json"
	: >"$d/times"
	tm=
	[ -x /usr/bin/time ] && tm="/usr/bin/time -f %U -o $d/user"
	r=0
	while [ "$r" -lt "$EW_CMD_RUNS" ]; do
		r=$((r + 1))
		for kind in events events+id commands; do
			rm -f "$d/store" "$d/store.idx" "$d/store.lock"
			case $kind in
			events) set -- "$d/events.ndjson" ;;
			events+id) set -- "$d/events-id.ndjson" ;;
			commands) set -- --commands "$d/map.json" "$d/commands.ndjson" ;;
			esac
			echo 0 >"$d/user"
			t0=$(ew_ms)
			$tm "$ew" -q --store "$d/store" "$@" || ew_say "$kind run failed"
			t1=$(ew_ms)
			echo "$kind $t0 $t1 $(cat "$d/user")" >>"$d/times"
		done
	done
	awk -v n="$EW_CMDS" -v runs="$EW_CMD_RUNS" '
		function median(k, x,   m, i, j, t) {
			m = c[k]
			for (i = 1; i <= m; i++) t[i] = v[k, x, i]
			for (i = 2; i <= m; i++) for (j = i; j > 1 && t[j - 1] > t[j]; j--) { s = t[j]; t[j] = t[j - 1]; t[j - 1] = s }
			return m % 2 ? t[(m + 1) / 2] : (t[m / 2] + t[m / 2 + 1]) / 2
		}
		{ k = $1; c[k]++; v[k, "wall", c[k]] = ($3 - $2) / 1000; v[k, "user", c[k]] = $4 }
		END {
			for (i = 1; i <= 3; i++) {
				k = i == 1 ? "events" : i == 2 ? "events+id" : "commands"
				w[k] = median(k, "wall"); u[k] = median(k, "user")
				printf "evwrite --store, %d %s, %d runs: median %.2f s wall (%.0f/s), %.2f s user\n", n, k, runs, w[k], n / w[k], u[k]
			}
			printf "evwrite --commands / events: wall %.2f, user %.2f; / events+id: wall %.2f, user %.2f (target: wall within 1.10)\n",
				w["commands"] / w["events"], u["commands"] / u["events"], w["commands"] / w["events+id"], u["commands"] / u["events+id"]
		}' "$d/times" | tee -a "$EW_OUT/evwrite-latency.txt" >&2
	# instructions (callgrind), which the machine's load cannot blur
	if command -v valgrind >/dev/null 2>&1; then
		for kind in events events+id commands; do
			rm -f "$d/store" "$d/store.idx" "$d/store.lock"
			case $kind in
			events) set -- "$d/events.ndjson" ;;
			events+id) set -- "$d/events-id.ndjson" ;;
			commands) set -- --commands "$d/map.json" "$d/commands.ndjson" ;;
			esac
			printf '%s ' "$kind"
			valgrind --tool=callgrind --callgrind-out-file=/dev/null "$ew" -q --store "$d/store" "$@" 2>&1 >/dev/null |
				sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
		done | awk -v n="$EW_CMDS" '
			{ i[$1] = $2 }
			END {
				printf "evwrite --store, %d lines, instructions: events %.0f/line, events+id %.0f/line, commands %.0f/line; commands / events %.3f, / events+id %.3f (target: within 1.10)\n",
					n, i["events"] / n, i["events+id"] / n, i["commands"] / n, i["commands"] / i["events"], i["commands"] / i["events+id"]
			}' | tee -a "$EW_OUT/evwrite-latency.txt" >&2
	fi
	rm -rf "$d"
}

ew_main
ew_commands
