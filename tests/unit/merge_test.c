/*
 * merge_test.c — drives lib/merge over its operands, for tests/merge.bats.
 * Prints one line per callback:
 *   w TIME            advance: the watermark moved to TIME ("end" for +inf)
 *   SRC:LINE TIME     an event of operand SRC (0-based), its line number
 * Options: --lateness DUR|inf, --late FILE (else late events are rejected
 * as out of time order), and the common ones (--time-field, --strict ...).
 * Exit status as a tool's.
 */
#include "cli.h"
#include "ev.h"
#include "merge.h"
#include "timeutil.h"

#include <inttypes.h>
#include <stdio.h>

enum { OPT_LATENESS = OPT_TOOL_BASE, OPT_LATE };

static const struct option longopts[] = {
	{ "lateness", required_argument, NULL, OPT_LATENESS },
	{ "late", required_argument, NULL, OPT_LATE },
	{ NULL, 0, NULL, 0 }
};

struct drv {
	int64_t lateness;
	const char *late_path;
};

static int option(int c, const char *arg, void *tool)
{
	struct drv *d = tool;
	switch (c) {
	case OPT_LATENESS: return merge_lateness_arg("--lateness", arg, &d->lateness);
	case OPT_LATE: d->late_path = arg; return 0;
	}
	return -1;
}

static void on_event(struct evctx *cx, struct ev_event *ev, int src, int64_t t, void *arg)
{
	(void)cx;
	(void)arg;
	char tb[40], out[120];
	time_format(t, tb);
	int n = snprintf(out, sizeof out, "%d:%" PRIu64 " %s", src, ev->in->lineno, tb);
	wfile_line(ev_out, out, (size_t)n);
}

static void on_advance(struct evctx *cx, int64_t w, void *arg)
{
	(void)cx;
	(void)arg;
	char tb[40], out[64];
	if (w == INT64_MAX) {
		wfile_line(ev_out, "w end", 5);
		return;
	}
	time_format(w, tb);
	int n = snprintf(out, sizeof out, "w %s", tb);
	wfile_line(ev_out, out, (size_t)n);
}

int main(int argc, char **argv)
{
	static struct evctx cx;
	static struct drv d;
	static const struct ev_tool tool = {
		"merge_test", "[--lateness dur] [--late file] file ...", "", "", longopts, option
	};
	int ind = ev_parse_args(&cx, &tool, &d, argc, argv);
	struct latesink late;
	struct merge m = {0};
	merge_open(&m, &cx, argc - ind, argv + ind);
	m.lateness = d.lateness;
	m.event = on_event;
	m.advance = on_advance;
	if (d.late_path) {
		if (late_open(&late, d.late_path) < 0)
			ev_die_errno(EV_USAGE, "--late %s", d.late_path);
		m.late = &late;
	}
	merge_run(&m);
	merge_close(&m);
	if (d.late_path)
		ev_raise(&cx, late_finish(&late, "merged nowhere"));
	return ev_finish(&cx);
}
