# bench/jobs-evquery.sh — evquery jobs beyond run.sh's own, sourced by
# bench/run.sh (which defines job, $DATA, $EVBIN, $OUT, $N).
# shellcheck shell=sh disable=SC2016 # jq programs are single-quoted on purpose
#
# ids:      @id in a list of 100,000 event ids (--linesfile), half of them
#           ids of the data (every 20th event of the first 1M, at most
#           50,000), half made up: evquery hashes the list once when it
#           compiles the expression.  jq gets its fastest form: the list
#           read once with -n and --rawfile, made an object with INDEX,
#           and one look-up per event (jq's IN($ids[]) scans the list for
#           every event: 10^11 comparisons at 1M events).

EVQ=$EVBIN/evquery
IDS=$OUT/ids-100k.txt
if [ ! -s "$IDS" ] || [ "$DATA" -nt "$IDS" ]; then
	{
		sed -n 's/^{"event_id":"\([^"]*\)".*/\1/p' "$DATA" | awk 'NR % 20 == 1 && n < 50000 { print; n++ }'
		awk 'BEGIN { for (i = 0; i < 50000; i++) printf "00000000-0000-4000-8000-%012d\n", i }'
	} >"$IDS.tmp" && mv "$IDS.tmp" "$IDS"
fi

job ids "$EVQ" --linesfile ids "$IDS" -w '@id in $ids' "$DATA"
job ids jq -n -c --rawfile ids "$IDS" \
	'($ids | split("\n") | map(select(length > 0)) | INDEX(.)) as $set
	 | inputs | select($set[.event_id] != null)' "$DATA"
