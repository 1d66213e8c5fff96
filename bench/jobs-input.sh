# bench/jobs-input.sh — reading compressed input, sourced by bench/run.sh
# (which defines job, $DATA, $EVBIN, $OUT, $N).
# shellcheck shell=sh
#
# gzread:   evquery -c --type OrderShipped on the gzip-compressed data
#           (gzip -6), decompressed by lib/input through zlib, against
#           `zcat FILE | evquery ...` (the same count; zcat in the pipe
#           runs on a second core, so compare wall and CPU time both).
# zstread:  the same with zstd (level 3) and `zstd -dc FILE | evquery`.
# The compressed copies are made once (bench/out/*.gz, *.zst) and kept
# while the data file is unchanged.

EVQ=$EVBIN/evquery

compressed_copy() { # compressed_copy EXT CMD...: $DATA.EXT, made once
	ext=$1
	shift
	if [ ! -s "$DATA.$ext" ] || [ "$DATA" -nt "$DATA.$ext" ]; then
		say "compressing $DATA to $DATA.$ext"
		"$@" <"$DATA" >"$DATA.$ext.tmp" && mv "$DATA.$ext.tmp" "$DATA.$ext"
	fi
	cat "$DATA.$ext" >/dev/null
}

if have gzip; then
	compressed_copy gz gzip -6 -c
	job -c gzread "$EVQ" -c --type OrderShipped "$DATA.gz"
	job -c gzread sh -c 'zcat "$1" | "$2" -c --type OrderShipped' zcat-pipe "$DATA.gz" "$EVQ"
fi
if have zstd; then
	compressed_copy zst zstd -q -3 -c
	job -c zstread "$EVQ" -c --type OrderShipped "$DATA.zst"
	job -c zstread sh -c 'zstd -dc "$1" | "$2" -c --type OrderShipped' zstd-pipe "$DATA.zst" "$EVQ"
fi
