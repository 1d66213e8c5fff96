/*
 * timeutil.h — event time, option times and durations, in int64
 * microseconds since the Unix epoch (UTC).  Nothing here goes through a
 * double: fractions and epoch numbers are read digit by digit, so
 * 1700000000.123456 is exactly 1700000000123456 us.
 *
 * Accepted in events (time_parse_event):
 *   RFC 3339 / ISO 8601 extended strings: 2026-11-27T15:45:16.123456Z,
 *   "T" or a space between date and time, seconds optional, any number of
 *   fraction digits (truncated to microseconds), "Z", "z", "+HH:MM",
 *   "-HH:MM", "+HHMM", "+HH", none (naive = UTC); a date alone is its
 *   midnight UTC.  Epoch numbers (JSON numbers, or strings of digits with
 *   an optional sign and fraction) scaled by the time unit.
 * Accepted in options (time_parse_option): the ISO forms above; "@EPOCH"
 *   (seconds, sign and fraction allowed); an unsigned all-digit number
 *   (fraction allowed) as an epoch in the auto unit, whatever --time-unit;
 *   "now", "today" and "yesterday" (midnight in the zone of time_set_tz);
 *   a signed offset from now ("-15m", "+1h30m"); an unsigned duration
 *   with a unit, meaning that long ago ("15m", "1h30m", "7d").
 * Durations (dur_parse): "90" (seconds), "90s", "250ms", "15us", "10ns"
 *   (truncated), "15m", "2h", "7d", "1w", combined "1h30m"; fractions as in
 *   "1.5h".  No sign.
 * Dates are proleptic Gregorian; years 0000-9999.
 *
 * Choices, in detail:
 * - Digits below the microsecond are dropped toward the past (floor):
 *   truncation for positive values; for negative epochs this keeps the
 *   epoch and the ISO string of one instant equal (-0.0000005 s is -1 us,
 *   like 1969-12-31T23:59:59.9999995Z).  Results beyond int64 us: -1.
 * - Exponents ("1.7e9", "17E+8", "1e-3") are accepted in JSON numbers
 *   (time_from_epoch_text) and applied exactly by moving the decimal
 *   point; the auto unit looks at the value after the exponent.  Epoch
 *   strings in events and "@EPOCH" take no exponent (digits only).
 * - Seconds may be 60 (a leap second): read as the next minute's :00, so
 *   23:59:60Z equals the next day's 00:00:00Z.  Hours 00-23 (no 24:00),
 *   offsets up to +-23:59; "-00:00" is UTC.  The fraction separator may be
 *   '.' or ',' (ISO 8601, as in log4j's "2026-11-27 15:45:16,123").  A
 *   fraction needs seconds before it; an offset needs a time before it.
 * - In options "-90" is 90 seconds before now (write "@-90" for the
 *   epoch), "90" is the epoch 90 s and "90s" 90 seconds ago.  Only
 *   YYYY-MM-DD... is a date: "2026" and "20261130" are epoch numbers.
 * - Durations: parts in any order, summed; a unit is required on each
 *   part unless the whole duration is one bare number (seconds); unit
 *   names are lower case; sub-microsecond parts are summed, then dropped.
 * - time_format writes years outside 0000-9999 in the expanded form
 *   "+010000-..." / "-000001-..." (at most 30 characters).  The bucket
 *   labels (time_format_date/_hour) keep their fixed width and read
 *   "0000-00-00" / "0000-00-00T00" for such years.
 * - The zone is set once (time_set_tz, from --tz) and read through
 *   time_tz(); the environment's TZ plays no part (for a zone other than
 *   UTC, time_set_tz writes TZ=":ZONE" for libc's localtime_r and calls
 *   tzset()).  The zone must be a TZif file under $TZDIR or
 *   /usr/share/zoneinfo.  "UTC" is always known and uses no tz database.
 */
#ifndef TIMEUTIL_H
#define TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

enum time_unit { TU_AUTO = 0, TU_S, TU_MS, TU_US, TU_NS };

#define US_PER_S INT64_C(1000000)

/* a + b, clamped to [INT64_MIN, INT64_MAX] instead of overflowing: the
 * one saturating addition of times and durations (deadlines, window
 * ends, watermarks), so "forever" or a time near an end of the range
 * never wraps. */
static inline int64_t time_add_sat(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* "auto"|"s"|"ms"|"us"|"ns" -> unit; -1 if unknown. */
int time_unit_parse(const char *s);

/*
 * An epoch number given as text (JSON number syntax or all digits with an
 * optional fraction), scaled by unit; TU_AUTO reads |value| below 1e11 as
 * seconds, below 1e14 as milliseconds, below 1e17 as microseconds, else
 * nanoseconds.  0 on success, -1 if unparsable or out of range.
 */
int time_from_epoch_text(const char *s, size_t n, enum time_unit unit, int64_t *us);

/* An RFC 3339 / ISO 8601 string (not an epoch).  0 or -1. */
int time_parse_iso(const char *s, size_t n, int64_t *us);

/* A time string as found in an event: ISO forms, or an all-digit epoch
 * string read with unit.  0 or -1. */
int time_parse_event_str(const char *s, size_t n, enum time_unit unit, int64_t *us);

/* A time given in an option (the forms above), relative ones against
 * now.  0 or -1. */
int time_parse_option(const char *s, int64_t now, int64_t *us);

/* The start (midnight, or the first instant when a DST change skips it)
 * of the civil day containing us, in the zone of time_set_tz.  0 or -1. */
int time_day_start(int64_t us, int64_t *out);

/* A duration ("90", "250ms", "1h30m", "1.5h").  0 or -1. */
int dur_parse(const char *s, size_t n, int64_t *us);

/* RFC 3339 UTC with microseconds and Z: "2026-11-27T15:45:16.123456Z".
 * Writes at most 32 bytes including the NUL; returns the length. */
size_t time_format(int64_t us, char *out);

/* The current time: EV_NOW or --now when set (time_set_now), else the
 * clock. */
int64_t time_now(void);
void time_set_now(int64_t us);

/* Civil date and hour of an instant in the zone set by time_set_tz (UTC
 * by default): "2026-11-27" and "2026-11-27T15" (bucket labels). */
int time_set_tz(const char *zone); /* 0 ok, -1 unknown zone */
/* The zone time_set_tz set: "UTC" (the default) or the IANA name given.
 * The environment's TZ plays no part. */
const char *time_tz(void);
size_t time_format_date(int64_t us, char *out); /* 11 bytes with NUL */
size_t time_format_hour(int64_t us, char *out); /* 14 bytes with NUL */
/* The broken-down civil time of us in that zone, with tm_gmtoff and
 * tm_zone ("UTC" for UTC), for strftime(3).  0, or -1 out of range. */
struct tm;
int time_local_tm(int64_t us, struct tm *tm);

/* Days since 1970-01-01 for a proleptic Gregorian date (helper shared by
 * the parsers and formatters). */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
