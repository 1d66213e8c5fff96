/* merge.c — event-time merge of several inputs (see merge.h). */
#include "merge.h"
#include "ev.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

struct merge_item {
	int64_t t;
	uint64_t seq;       /* arrival in its input */
	uint64_t lineno, offset;
	char *line;
	size_t len;
};

int merge_lateness_arg(const char *opt, const char *s, int64_t *lateness)
{
	if (strcmp(s, "inf") == 0) {
		*lateness = INT64_MAX;
		return 0;
	}
	int64_t v;
	if (dur_parse(s, strlen(s), &v) < 0 || v < 0) {
		ev_warn("%s: expected a duration or inf, not '%s'", opt, s);
		return -1;
	}
	*lateness = v;
	return 0;
}

/* max - lateness, saturated at the bottom of the range */
static int64_t floor_of(const struct merge *m, const struct merge_src *s)
{
	if (!s->have_max)
		return INT64_MIN;
	return time_add_sat(s->max, -m->lateness);
}

/* ---- the reorder buffer of one input (lib/heap) --------------------- */

static int item_less(const void *x, const void *y)
{
	const struct merge_item *a = x, *b = y;
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* The earliest buffered item of s, or NULL. */
static const struct merge_item *q_top(const struct merge_src *s)
{
	return heap_top(&s->q);
}

/* ---- reading ---------------------------------------------------------- */

static void tick(struct merge *m)
{
	if (!m->cx->progress || (++m->tick & 1023) != 0)
		return;
	uint64_t done = 0;
	for (int i = 0; i < m->n; i++)
		done += m->src[i].in.consumed;
	ev_progress(m->cx, done, 0);
}

/* The next valid event of s into s->line/len/doc and *t: 1, or 0 at the
 * end (or a read error, reported). */
static int src_read(struct merge *m, struct merge_src *s, int64_t *t)
{
	struct evctx *cx = m->cx;
	char why[200];
	struct ev_event ev;
	enum ev_next k;
	while (!cx->stop && (k = ev_next_event(cx, &s->in, &s->doc, 0, &ev)) != EV_NEXT_END) {
		tick(m);
		if (k == EV_NEXT_REJECTED)
			continue;
		if (event_time(&s->doc, &cx->fm, t, why, sizeof why) < 0) {
			ev_reject(cx, &ev, "%s", why);
			continue;
		}
		s->line = ev.line;
		s->len = ev.len;
		return 1;
	}
	return 0;
}

static void on_late(struct evctx *cx, struct ev_event *ev, void *arg)
{
	struct merge *m = arg;
	if (m->late) {
		late_write(m->late, ev->line, ev->len);
		return;
	}
	char a[40], b[40];
	time_format(m->cur_t, a);
	time_format(m->src[m->cur_src].max, b);
	ev_reject(cx, ev, "out of time order (%s, after %s in this input)", a, b);
}

/* Read s until its next event in time order is known for certain (or s
 * ended): lateness 0, one event ahead; else until the smallest buffered
 * time is at or below max - lateness. */
static void fill(struct merge *m, struct merge_src *s)
{
	while (!s->done && !m->cx->stop) {
		if (m->lateness == 0 ? s->live : (q_top(s) && q_top(s)->t <= floor_of(m, s)))
			return;
		int64_t t;
		if (!src_read(m, s, &t)) {
			s->done = 1;
			return;
		}
		if (t < floor_of(m, s)) {
			struct ev_event ev = { s->line, s->len, &s->doc, &s->in };
			m->cur_src = (int)(s - m->src);
			m->cur_t = t;
			ev_hand(m->cx, &ev, on_late, m);
			continue;
		}
		if (!s->have_max || t > s->max) {
			s->max = t;
			s->have_max = 1;
		}
		if (m->lateness == 0) {
			s->live = 1;
			s->t = t;
		} else {
			struct merge_item it = { t, s->seq++, s->in.lineno, s->in.offset,
			                         xmemdup(s->line, s->len), s->len };
			if (!s->q.less)
				heap_init(&s->q, sizeof it, item_less, NULL);
			heap_push(&s->q, &it);
		}
	}
}

/* ---- the merge -------------------------------------------------------- */

int merge_open(struct merge *m, struct evctx *cx, int n, char **files)
{
	static char *stdin_only[] = { "-" };
	if (n == 0) {
		files = stdin_only;
		n = 1;
	}
	m->cx = cx;
	m->n = n;
	m->src = xcalloc((size_t)n, sizeof *m->src);
	m->w = INT64_MIN;
	int failed = 0;
	for (int i = 0; i < n; i++) {
		struct merge_src *s = &m->src[i];
		if (input_open(&s->in, files[i]) < 0) {
			ev_warn_errno("%s", files[i]);
			ev_raise(cx, EV_USAGE);
			s->done = 1;
			failed++;
			continue;
		}
		s->open = 1;
		if (s->in.is_reg)
			cx->total_bytes += (uint64_t)s->in.size;
	}
	return failed;
}

static void on_event(struct evctx *cx, struct ev_event *ev, void *arg)
{
	struct merge *m = arg;
	m->event(cx, ev, m->cur_src, m->cur_t, m->arg);
}

static void announce(struct merge *m, int64_t w)
{
	if (w <= m->w)
		return;
	m->w = w;
	if (m->advance)
		m->advance(m->cx, w, m->arg);
}

void merge_run(struct merge *m)
{
	struct evctx *cx = m->cx;
	if (cx->progress)
		ev_progress(cx, 0, 0); /* starts the clock */
	for (;;) {
		for (int i = 0; i < m->n; i++)
			fill(m, &m->src[i]);
		if (cx->stop)
			break;
		/* the input whose next event is earliest; ties: the first operand */
		struct merge_src *best = NULL;
		int64_t bt = 0;
		for (int i = 0; i < m->n; i++) {
			struct merge_src *s = &m->src[i];
			int has = m->lateness == 0 ? s->live : s->q.n > 0;
			int64_t t = m->lateness == 0 ? s->t : (s->q.n ? q_top(s)->t : 0);
			if (has && (!best || t < bt)) {
				best = s;
				bt = t;
			}
		}
		if (!best)
			break;
		announce(m, bt);
		if (cx->stop)
			break;
		m->cur_src = (int)(best - m->src);
		m->cur_t = bt;
		if (m->lateness == 0) {
			best->live = 0;
			struct ev_event ev = { best->line, best->len, &best->doc, &best->in };
			ev_hand(cx, &ev, on_event, m);
		} else {
			struct merge_item it;
			heap_pop(&best->q, &it);
			struct jerr err;
			/* it parsed when read: this cannot fail */
			if (json_parse(&best->doc, it.line, it.len, 0, &err) < 0)
				ev_die(EV_IO, "internal error: a buffered event no longer parses");
			m->shadow.name = best->in.name;
			m->shadow.label = best->in.label;
			m->shadow.lineno = it.lineno;
			m->shadow.offset = it.offset;
			struct ev_event ev = { it.line, it.len, &best->doc, &m->shadow };
			ev_hand(cx, &ev, on_event, m);
			free(it.line);
		}
	}
	if (!cx->stop)
		announce(m, INT64_MAX);
	if (cx->progress) {
		uint64_t done = 0;
		for (int i = 0; i < m->n; i++)
			done += m->src[i].in.consumed;
		ev_progress(cx, done, 1);
	}
}

void merge_close(struct merge *m)
{
	for (int i = 0; i < m->n; i++) {
		struct merge_src *s = &m->src[i];
		struct merge_item it;
		while (s->q.n) {
			heap_pop(&s->q, &it);
			free(it.line);
		}
		heap_free(&s->q);
		json_doc_free(&s->doc);
		if (s->open)
			input_close(&s->in);
	}
	free(m->src);
	m->src = NULL;
	m->n = 0;
}
