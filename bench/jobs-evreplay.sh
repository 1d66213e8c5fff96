# bench/jobs-evreplay.sh — evreplay and evsnap jobs, sourced by bench/run.sh
# (which defines job, $DATA, $EVBIN, $OUT, $N).
# shellcheck shell=sh disable=SC2016 # jq and Miller programs are single-quoted on purpose
#
# replay:   the state of every aggregate under the default rules
#           (*Created=create, *Deleted=delete, *=merge), one row per
#           aggregate with version, events_replayed, first_at, last_at and
#           last_event_id: evreplay against the same fold in Miller (a map
#           of states, emitted at the end) and in jq (reduce inputs).  The
#           three outputs were checked to hold the same rows (jq -S and
#           sort) on the 20k file; the order of rows differs (evreplay:
#           first appearance; jq and Miller: their map order).
# rep20k:   the same on the first 20,000 events, for jq, which does not
#           finish the full file in reasonable time.
# snap:     evsnap, the latest snapshot per aggregate (throughput).
# compact:  evsnap --compact of a copy of the store, archiving about half
#           of it into batch files (fsynced), rewriting snapshots, base and
#           store.

EVR=$EVBIN/evreplay
EVS=$EVBIN/evsnap

# jq 1.6 copies the object of states on every update once it is shared, so
# its time grows with events x aggregates; this form (bind, then assign) was
# the fastest of those tried (about 2.8x faster than '.[$k] |= ...').
REPLAY_JQ='reduce inputs as $e ({};
  ($e.aggregate_id) as $k
  | .[$k] as $a
  | ($e.event_type) as $t
  | .[$k] = { aggregate_id: $k,
        version: $e.version,
        state: (if ($t | endswith("Created")) then $e.payload
                elif ($t | endswith("Deleted")) then (($a.state // {}) + {deleted: true, deleted_at: $e.timestamp})
                else (($a.state // {}) + $e.payload) end),
        events_replayed: (($a.events_replayed // 0) + 1),
        first_at: ($a.first_at // $e.timestamp),
        last_at: $e.timestamp,
        last_event_id: $e.event_id })
| .[]'

REPLAY_MLR='k = $aggregate_id;
t = $event_type;
if (is_absent(@s[k])) {
  @s[k] = {"aggregate_id": k, "version": 0, "state": {}, "events_replayed": 0,
           "first_at": $timestamp, "last_at": "", "last_event_id": ""};
}
if (t =~ "Created$") {
  @s[k]["state"] = $payload;
} elif (t =~ "Deleted$") {
  @s[k]["state"]["deleted"] = true;
  @s[k]["state"]["deleted_at"] = $timestamp;
} else {
  @s[k]["state"] = mapsum(@s[k]["state"], $payload);
}
@s[k]["version"] = $version;
@s[k]["events_replayed"] += 1;
@s[k]["last_at"] = $timestamp;
@s[k]["last_event_id"] = $event_id;
end {
  for (k, v in @s) {
    emit v;
  }
}'

job replay "$EVR" "$DATA"
job replay mlr --ijson --ojsonl put -q "$REPLAY_MLR" "$DATA"
if [ "${BENCH_JQ_FULL:-0}" = 1 ]; then
	job replay jq -n -c "$REPLAY_JQ" "$DATA"
fi

# jq at a size it finishes in reasonable time: the first 20k events (about
# 16k aggregates; 50k events took jq 100 s of CPU, 200k did not finish in
# 19 minutes).  BENCH_JQ_FULL=1 adds jq to the full-size job.
SMALL=$OUT/events-replay-20k.ndjson
if [ ! -s "$SMALL" ] || [ "$DATA" -nt "$SMALL" ]; then
	head -n 20000 "$DATA" >"$SMALL"
fi
job rep20k "$EVR" "$SMALL"
job rep20k mlr --ijson --ojsonl put -q "$REPLAY_MLR" "$SMALL"
job rep20k jq -n -c "$REPLAY_JQ" "$SMALL"

job snap "$EVS" "$DATA"

# Compaction rewrites its store: work on a copy, fresh for every run.
# The data starts on 2026-11-01 and spans about ten days: with this --now
# and --retain, about half the events are archived.
CSTORE=$OUT/compact-store.ndjson
rm -rf "$CSTORE" "$CSTORE".* "$OUT/compact-archive" "$OUT/compact-snaps.ndjson"
cp "$DATA" "$CSTORE"
job compact "$EVS" --compact --store "$CSTORE" --retain 14d --now 2026-11-20T00:00:00Z \
	--archive "$OUT/compact-archive" --snapshots "$OUT/compact-snaps.ndjson"
