#!/bin/sh
# Writes the demo store examples/orders.ndjson: a small shop's events,
# in time order with a gapless seq.  Event ids are short names (ev-001) to
# keep the demo readable; evwrite itself would require UUIDs.
awk 'BEGIN {
	split("Austin Berlin Lyon Osaka Porto", city, " ")
	t = 1793523600  # 2026-11-01T09:00:00Z
	seq = 0
	for (o = 1; o <= 12; o++) {
		c = "cust-" (o % 5 + 1)
		v = 0
		t += 600 + (o * 137) % 900
		total = (o * 4711) % 50000 / 100 + 5
		seq++; v++
		printf "%d\t{\"event_id\":\"ev-%03d\",\"aggregate_id\":\"order-%d\",\"event_type\":\"OrderPlaced\",\"payload\":{\"customer_id\":\"%s\",\"total\":%.2f,\"city\":\"%s\"},\"timestamp\":\"%s\",\"version\":%d,\"seq\":SEQ,\"metadata\":{\"correlation_id\":\"req-%d\"}}\n", t, seq, o, c, total, city[o % 5 + 1], iso(t), v, o
		placed = seq
		if (o % 4 == 0) {
			t += 120; seq++; v++
			printf "%d\t{\"event_id\":\"ev-%03d\",\"aggregate_id\":\"order-%d\",\"event_type\":\"PaymentFailed\",\"payload\":{\"reason\":\"card declined\"},\"timestamp\":\"%s\",\"version\":%d,\"seq\":SEQ,\"metadata\":{\"correlation_id\":\"req-%d\",\"causation_id\":\"ev-%03d\"}}\n", t, seq, o, iso(t), v, o, placed
			continue
		}
		t += 60; seq++; v++
		printf "%d\t{\"event_id\":\"ev-%03d\",\"aggregate_id\":\"order-%d\",\"event_type\":\"OrderPaid\",\"payload\":{\"amount\":%.2f},\"timestamp\":\"%s\",\"version\":%d,\"seq\":SEQ,\"metadata\":{\"correlation_id\":\"req-%d\",\"causation_id\":\"ev-%03d\"}}\n", t, seq, o, total, iso(t), v, o, placed
		paid = seq
		if (o % 3 != 0) {
			t += 3600; seq++; v++
			printf "%d\t{\"event_id\":\"ev-%03d\",\"aggregate_id\":\"order-%d\",\"event_type\":\"OrderShipped\",\"payload\":{\"carrier\":\"%s\"},\"timestamp\":\"%s\",\"version\":%d,\"seq\":SEQ,\"metadata\":{\"correlation_id\":\"req-%d\",\"causation_id\":\"ev-%03d\"}}\n", t, seq, o, (o % 2 ? "ups" : "dhl"), iso(t), v, o, paid
			t -= 3300
		}
	}
}
function iso(t,   d, s, y, m, dd, mdays, i) {
	d = int(t / 86400); s = t % 86400
	y = 1970
	while (d >= (leap(y) ? 366 : 365)) { d -= leap(y) ? 366 : 365; y++ }
	split("31 28 31 30 31 30 31 31 30 31 30 31", mdays, " ")
	if (leap(y)) mdays[2] = 29
	for (m = 1; d >= mdays[m]; m++) d -= mdays[m]
	return sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d + 1, int(s / 3600), int(s % 3600 / 60), s % 60)
}
function leap(y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }' | sort -s -n -k1,1 | awk -F'\t' '{ sub(/SEQ/, NR, $2); print $2 }'
