# bench/jobs-evproject.sh — evproject's comparisons, sourced by bench/run.sh
# (which defines job, $DATA, $EVBIN and $OUT).  The evtools command comes
# first in each job: it is the baseline of the ratios.
#
# jq's programs end in `| to_entries[]` so that, like evproject and
# Miller, they print one line per group and the line counts can be
# compared; that last step runs once, on the finished object.  With many
# groups jq's `.[$k] += $v` copies the whole object on every event
# (quadratic: 100k events with 12k customers did not finish in two
# minutes), so the jobs with many groups use the setpath/getpath form,
# the fast way to write the same reduction in jq.
# Miller keeps nested maps when it reads JSON, so stats1 sees
# payload.total only after an explicit `flatten`.
# shellcheck disable=SC2016 # jq and Miller programs are single-quoted on purpose
EVP=$EVBIN/evproject

# events per type (issue: >= 3x faster than jq, faster than Miller;
# peak RSS <= 16 MiB whatever the input length)
job by-type "$EVP" -p by-type "$DATA"
job by-type jq -n -c 'reduce inputs as $e ({}; .[$e.event_type] += 1) | to_entries[]' "$DATA"
job by-type mlr --ijson --ojsonl count-distinct -f event_type "$DATA"

# revenue per customer
job sum "$EVP" -g payload.customer_id -a sum:payload.total "$DATA"
job sum jq -n -c 'reduce (inputs | [.payload.customer_id, .payload.total]) as [$k, $v] ({}; setpath([$k]; getpath([$k]) + $v)) | to_entries[]' "$DATA"
job sum mlr --ijson --ojsonl flatten 'then' stats1 -a sum -f payload.total -g payload.customer_id "$DATA"

# events per minute: a tumbling 1-minute window (the data is in time order,
# so bucketing by the timestamp's first 16 characters is the same thing)
job minute "$EVP" --window tumbling:1m "$DATA"
job minute jq -n -c 'reduce (inputs | .timestamp[0:16]) as $k ({}; setpath([$k]; getpath([$k]) + 1)) | to_entries[]' "$DATA"
job minute mlr --ijson --ojsonl put '$minute = substr0($timestamp, 0, 15)' 'then' count -g minute "$DATA"
