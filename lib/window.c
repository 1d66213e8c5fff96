/* window.c — event-time windows, watermark, late events (see window.h). */
#include "window.h"
#include "ev.h"
#include "timeutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* floor(a / b) for b > 0 */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && (a < 0))
		q--;
	return q;
}

static int dur_arg(const char *s, size_t n, int64_t *us, const char *what, const char *all, char *err, size_t errlen)
{
	if (n == 0 || dur_parse(s, n, us) < 0 || *us <= 0) {
		snprintf(err, errlen, "bad %s '%.*s' in '%s'", what, (int)n, s, all);
		return -1;
	}
	return 0;
}

int winspec_parse(const char *s, struct winspec *w, char *err, size_t errlen)
{
	memset(w, 0, sizeof *w);
	const char *colon = strchr(s, ':');
	if (!colon) {
		snprintf(err, errlen, "expected tumbling:DUR, hopping:DUR/STEP or session:GAP, not '%s'", s);
		return -1;
	}
	size_t kl = (size_t)(colon - s);
	const char *a = colon + 1;
	if (kl == 8 && !memcmp(s, "tumbling", 8)) {
		w->kind = WIN_TUMBLING;
		if (dur_arg(a, strlen(a), &w->size, "duration", s, err, errlen) < 0)
			return -1;
		w->step = w->size;
	} else if (kl == 7 && !memcmp(s, "hopping", 7)) {
		w->kind = WIN_HOPPING;
		const char *slash = strchr(a, '/');
		if (!slash) {
			snprintf(err, errlen, "hopping needs DUR/STEP, not '%s'", s);
			return -1;
		}
		if (dur_arg(a, (size_t)(slash - a), &w->size, "duration", s, err, errlen) < 0 ||
		    dur_arg(slash + 1, strlen(slash + 1), &w->step, "step", s, err, errlen) < 0)
			return -1;
		if (w->step > w->size) {
			snprintf(err, errlen, "hopping step longer than the window in '%s'", s);
			return -1;
		}
		if (w->size / w->step >= WIN_MAX_OVERLAP) {
			snprintf(err, errlen, "hopping: more than %d windows per event in '%s'", WIN_MAX_OVERLAP, s);
			return -1;
		}
	} else if (kl == 7 && !memcmp(s, "session", 7)) {
		w->kind = WIN_SESSION;
		if (dur_arg(a, strlen(a), &w->gap, "gap", s, err, errlen) < 0)
			return -1;
	} else {
		snprintf(err, errlen, "expected tumbling:DUR, hopping:DUR/STEP or session:GAP, not '%s'", s);
		return -1;
	}
	return 0;
}

size_t window_starts(const struct winspec *w, int64_t t, int64_t *starts)
{
	/* starts k*step with k*step <= t < k*step + size */
	int64_t last = floor_div(t, w->step);
	int64_t first = floor_div(t - w->size, w->step) + 1;
	size_t n = 0;
	for (int64_t k = first; k <= last && n < WIN_MAX_OVERLAP; k++)
		starts[n++] = k * w->step;
	return n;
}

int64_t window_first_end(const struct winspec *w, int64_t t)
{
	return (floor_div(t - w->size, w->step) + 1) * w->step + w->size;
}

int wm_closed(const struct watermark *m, int64_t end)
{
	if (!m->have)
		return 0;
	/* wm - lateness >= end, without overflow */
	return m->wm >= end && m->wm - end >= m->lateness;
}

/* ---- close queue ---------------------------------------------------- */

static int cq_less(const struct cq_ent *a, const struct cq_ent *b)
{
	return a->end < b->end || (a->end == b->end && a->seq < b->seq);
}

void closeq_push(struct closeq *q, int64_t end, uint64_t seq, void *p)
{
	q->h = xgrow(q->h, &q->cap, q->n + 1, sizeof *q->h);
	size_t i = q->n++;
	struct cq_ent e = { end, seq, p };
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!cq_less(&e, &q->h[up]))
			break;
		q->h[i] = q->h[up];
		i = up;
	}
	q->h[i] = e;
}

const struct cq_ent *closeq_peek(const struct closeq *q)
{
	return q->n ? &q->h[0] : NULL;
}

void closeq_pop(struct closeq *q)
{
	if (!q->n)
		return;
	struct cq_ent e = q->h[--q->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct cq_ent *best = &e;
		if (l < q->n && cq_less(&q->h[l], best)) {
			m = l;
			best = &q->h[l];
		}
		if (r < q->n && cq_less(&q->h[r], best))
			m = r;
		if (m == i)
			break;
		q->h[i] = q->h[m];
		i = m;
	}
	if (q->n)
		q->h[i] = e;
}

void closeq_free(struct closeq *q)
{
	free(q->h);
	memset(q, 0, sizeof *q);
}

/* ---- late sink ------------------------------------------------------ */

int late_open(struct latesink *l, const char *path)
{
	memset(l, 0, sizeof *l);
	l->path = path;
	if (path && !(l->w = wfile_append(path)))
		return -1;
	return 0;
}

void late_write(struct latesink *l, const char *line, size_t len)
{
	l->count++;
	if (l->w) {
		wfile_line(l->w, line, len);
		wfile_flush(l->w); /* rare, and kept even if the run stops early */
	}
}

void late_finish(struct latesink *l)
{
	if (l->w) {
		wfile_close(l->w, 0);
		l->w = NULL;
	}
	if (!l->count)
		return;
	wfile_flush(ev_out);
	if (l->path)
		ev_warn("%" PRIu64 " late event%s not counted in any window (written to %s)", l->count,
		        l->count == 1 ? "" : "s", l->path);
	else
		ev_warn("%" PRIu64 " late event%s not counted in any window (keep them with --late FILE)",
		        l->count, l->count == 1 ? "" : "s");
}
