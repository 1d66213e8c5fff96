/*
 * time_test.c — drives lib/timeutil from stdin, one command a line, for
 * tests/time.bats.  Each command prints one line: its result, or "error"
 * when the library refused the input.
 *
 *   iso STR            time_parse_iso          -> US RFC3339
 *   event STR UNIT     time_parse_event_str    -> US RFC3339
 *   num TEXT UNIT      time_from_epoch_text    -> US RFC3339
 *   now T              fix the clock (T: integer us or ISO) -> ok
 *   opt STR            time_parse_option(STR, now) -> US RFC3339
 *   dur STR            dur_parse               -> US
 *   fmt T              time_format             -> RFC3339
 *   date T ZONE        time_set_tz + time_format_date -> label
 *   hour T ZONE        time_set_tz + time_format_hour -> label
 *                      (ZONE "-": the zone already set)
 *   clock              time_now                -> US RFC3339
 *   tz ZONE            time_set_tz             -> ok
 *   unit NAME          time_unit_parse         -> number
 *   days Y M D         days_from_civil         -> days
 *   civil DAYS         civil_from_days         -> Y-M-D
 *   walk LO HI         days LO..HI: both helpers agree with a calendar
 *                      stepped one day at a time, and each date's
 *                      midnight reads back through the parser -> ok
 *
 * STR is the rest of the line (spaces included); in event and num the
 * unit is the last word.  Text handed to the (pointer, length) functions
 * is copied to a buffer of exactly that length, without a NUL, so that
 * ASan catches any read past the end.  Exit status: 0, 1 if any command
 * printed "error", 2 for a malformed command.
 */
#include "ev.h"
#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t now_for_opt;

static int parse_int(const char *s, int64_t *v)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

/* An instant argument: integer microseconds or an ISO string. */
static int instant(const char *s, int64_t *us)
{
	return parse_int(s, us) == 0 ? 0 : time_parse_iso(s, strlen(s), us);
}

/* Copy of s[0..n) in a buffer of exactly n bytes (no terminator). */
static char *exact(const char *s, size_t n)
{
	char *p = xmalloc(n ? n : 1);
	memcpy(p, s, n);
	return p;
}

static void print_time(int64_t us)
{
	char buf[32];
	time_format(us, buf);
	printf("%lld %s\n", (long long)us, buf);
}

/* "STR UNIT" -> STR and the unit; -1 if the last word is no unit. */
static int split_unit(char *arg, int *unit)
{
	char *sp = strrchr(arg, ' ');
	if (!sp)
		return -1;
	*sp = '\0';
	*unit = time_unit_parse(sp + 1);
	return *unit < 0 ? -1 : 0;
}

static int leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/*
 * Steps a calendar by hand from civil_from_days(lo) and requires both
 * helpers, and for years 0000-9999 the ISO parser and time_format, to
 * agree with it on every day up to hi.
 */
static int walk(int64_t lo, int64_t hi)
{
	static const unsigned dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int64_t y, yy;
	unsigned m, d, mm, dd;
	char iso[32], out[32];

	civil_from_days(lo, &y, &m, &d);
	for (int64_t z = lo; z <= hi; z++) {
		civil_from_days(z, &yy, &mm, &dd);
		if (yy != y || mm != m || dd != d || days_from_civil(y, m, d) != z) {
			printf("day %lld: %lld-%u-%u, stepped %lld-%u-%u\n", (long long)z,
			       (long long)yy, mm, dd, (long long)y, m, d);
			return -1;
		}
		if (y >= 0 && y <= 9999) {
			int64_t us;
			snprintf(iso, sizeof iso, "%04lld-%02u-%02u", (long long)y, m, d);
			time_format(z * 86400 * INT64_C(1000000), out);
			if (time_parse_iso(iso, strlen(iso), &us) != 0 ||
			    us != z * 86400 * INT64_C(1000000) ||
			    strncmp(out, iso, 10) != 0 || strcmp(out + 10, "T00:00:00.000000Z") != 0) {
				printf("day %lld: %s read or written wrong (%s)\n", (long long)z, iso, out);
				return -1;
			}
		}
		if (++d > (m == 2 && leap(y) ? 29 : dim[m])) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	return 0;
}

/* Runs one command; 0 done, 1 refused ("error" printed), 2 malformed. */
static int run(const char *cmd, char *arg)
{
	int64_t us, v;
	int unit = 0, rc = -1;
	char buf[32];

	if (strcmp(cmd, "iso") == 0 || strcmp(cmd, "event") == 0 || strcmp(cmd, "num") == 0) {
		if (cmd[0] != 'i' && split_unit(arg, &unit) != 0)
			return 2;
		size_t n = strlen(arg);
		char *p = exact(arg, n);
		if (cmd[0] == 'i')
			rc = time_parse_iso(p, n, &us);
		else if (cmd[0] == 'e')
			rc = time_parse_event_str(p, n, (enum time_unit)unit, &us);
		else
			rc = time_from_epoch_text(p, n, (enum time_unit)unit, &us);
		free(p);
		if (rc == 0)
			print_time(us);
	} else if (strcmp(cmd, "now") == 0) {
		if (instant(arg, &now_for_opt) != 0)
			return 2;
		time_set_now(now_for_opt);
		puts("ok");
		return 0;
	} else if (strcmp(cmd, "opt") == 0) {
		if ((rc = time_parse_option(arg, now_for_opt, &us)) == 0)
			print_time(us);
	} else if (strcmp(cmd, "dur") == 0) {
		size_t n = strlen(arg);
		char *p = exact(arg, n);
		rc = dur_parse(p, n, &us);
		free(p);
		if (rc == 0)
			printf("%lld\n", (long long)us);
	} else if (strcmp(cmd, "fmt") == 0) {
		if (instant(arg, &us) != 0)
			return 2;
		time_format(us, buf);
		puts(buf);
		return 0;
	} else if (strcmp(cmd, "date") == 0 || strcmp(cmd, "hour") == 0) {
		char *zone = strrchr(arg, ' ');
		if (!zone)
			return 2;
		*zone++ = '\0';
		if (instant(arg, &us) != 0)
			return 2;
		if ((rc = strcmp(zone, "-") == 0 ? 0 : time_set_tz(zone)) == 0) {
			size_t len = cmd[0] == 'd' ? time_format_date(us, buf) : time_format_hour(us, buf);
			if (len != strlen(buf))
				return 2;
			puts(buf);
		}
	} else if (strcmp(cmd, "clock") == 0) {
		print_time(time_now());
		return 0;
	} else if (strcmp(cmd, "walk") == 0) {
		long long lo, hi;
		char extra;
		if (sscanf(arg, "%lld %lld %c", &lo, &hi, &extra) != 2 || lo > hi)
			return 2;
		rc = walk(lo, hi);
		if (rc == 0)
			puts("ok");
	} else if (strcmp(cmd, "tz") == 0) {
		if ((rc = time_set_tz(arg)) == 0)
			puts("ok");
	} else if (strcmp(cmd, "unit") == 0) {
		if ((rc = time_unit_parse(arg)) >= 0)
			printf("%d\n", rc);
	} else if (strcmp(cmd, "days") == 0) {
		long long y;
		unsigned m, d;
		char extra;
		if (sscanf(arg, "%lld %u %u %c", &y, &m, &d, &extra) != 3)
			return 2;
		printf("%lld\n", (long long)days_from_civil(y, m, d));
		return 0;
	} else if (strcmp(cmd, "civil") == 0) {
		unsigned m, d;
		if (parse_int(arg, &v) != 0)
			return 2;
		civil_from_days(v, &us, &m, &d);
		printf("%lld-%02u-%02u\n", (long long)us, m, d);
		return 0;
	} else {
		return 2;
	}
	if (rc < 0) {
		puts("error");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int status = 0;
	long lineno = 0;

	(void)argc;
	ev_setprogname(argv[0]);
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		char *arg = strchr(line, ' ');
		if (arg)
			*arg++ = '\0';
		else
			arg = line + len;
		int r = run(line, arg);
		if (r == 2) {
			ev_warn("<stdin>:%ld: bad command '%s'", lineno, line);
			free(line);
			return 2;
		}
		if (r == 1)
			status = 1;
	}
	free(line);
	if (fflush(stdout) != 0 || ferror(stdout))
		ev_die_errno(EV_IO, "write");
	return status;
}
