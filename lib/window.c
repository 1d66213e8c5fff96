/* window.c — event-time windows, watermark, late events (see window.h). */
#include "window.h"
#include "dlist.h"
#include "ev.h"
#include "timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* floor(a / b) for b > 0, in 128 bits: no operand or result overflows */
static __int128 floor_div(__int128 a, int64_t b)
{
	__int128 q = a / b;
	if ((a % b != 0) && (a < 0))
		q--;
	return q;
}

static int64_t clamp64(__int128 v)
{
	return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
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

void window_iter(const struct winspec *w, int64_t t, struct winiter *it)
{
	/* starts k*step with k*step <= t < k*step + size, computed exactly
	 * in 128 bits and clamped to the int64 range only when given out */
	it->size = w->size;
	it->step = w->step;
	it->last = floor_div(t, w->step);
	it->k = floor_div((__int128)t - w->size, w->step) + 1;
}

int window_next(struct winiter *it, int64_t *start, int64_t *end)
{
	if (it->k > it->last)
		return 0;
	__int128 s = it->k++ * it->step;
	*start = clamp64(s);
	*end = clamp64(s + it->size);
	return 1;
}

int64_t window_iter_first_end(const struct winiter *it)
{
	return clamp64(it->k * it->step + it->size);
}

int64_t window_first_end(const struct winspec *w, int64_t t)
{
	struct winiter it;
	window_iter(w, t, &it);
	return window_iter_first_end(&it);
}

int wm_lateness_parse(struct watermark *m, const char *s)
{
	if (!strcmp(s, "inf")) {
		m->inf = 1;
		m->lateness = INT64_MAX;
		return 0;
	}
	int64_t us;
	if (!*s || dur_parse(s, strlen(s), &us) < 0 || us < 0)
		return -1;
	m->inf = 0;
	m->lateness = us;
	return 0;
}

int wm_closed(const struct watermark *m, int64_t end)
{
	/* an end clamped to INT64_MAX stands for one past it: never closed */
	if (!m->have || m->inf || end == INT64_MAX)
		return 0;
	/* wm - lateness >= end; the difference of two int64 as a uint64 is
	 * exact when wm >= end */
	return m->wm >= end && (uint64_t)m->wm - (uint64_t)end >= (uint64_t)m->lateness;
}

/* ---- the window table ---------------------------------------------- */

void wtab_add(struct wtable *t, struct kentry *ke, struct wnode *w)
{
	w->ke = ke;
	DLIST_APPEND(t, w);
}

void wtab_schedule(struct wtable *t, const struct watermark *m, struct wnode *w)
{
	if (m->inf || (w->tm.hidx && w->tm.when == w->end))
		return;
	/* windows mostly close in the order they open: lane 0 (keyed.h) */
	keyed_schedule_lane(&t->k, &w->tm, w->end, ++t->seq, 0);
}

struct wnode *wtab_next_closed(struct wtable *t, const struct watermark *m)
{
	struct ktimer *tm = keyed_next(&t->k);
	if (!tm || !wm_closed(m, tm->when))
		return NULL;
	keyed_unschedule(&t->k, tm);
	return (struct wnode *)((char *)tm - offsetof(struct wnode, tm));
}

void wtab_remove(struct wtable *t, struct wnode *w, int own_key)
{
	keyed_unschedule(&t->k, &w->tm);
	DLIST_REMOVE(t, w);
	if (own_key && w->ke)
		keyed_del(&t->k, w->ke);
	w->ke = NULL;
}

void wtab_free(struct wtable *t)
{
	keyed_free(&t->k);
	t->head = t->tail = NULL;
	t->seq = 0;
}

/* ---- sessions ------------------------------------------------------- */

static void session_unlist(struct sessions *g, size_t i)
{
	memmove(g->s + i, g->s + i + 1, (g->n - i - 1) * sizeof *g->s);
	g->n--;
}

static void session_remove(struct sessions *g, struct wnode *w)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->s[i] == w) {
			session_unlist(g, i);
			return;
		}
}

void session_add(struct sessions *g, struct wnode *w)
{
	g->s = xgrow(g->s, &g->cap, g->n + 1, sizeof *g->s);
	size_t i = g->n;
	while (i > 0 && g->s[i - 1]->start > w->start) {
		g->s[i] = g->s[i - 1];
		i--;
	}
	g->s[i] = w;
	g->n++;
}

struct wnode *session_join(struct sessions *g, int64_t lo, int64_t hi, uint64_t pos,
                           session_merge_fn *merge, void *arg)
{
	struct wnode *into = NULL;
	for (size_t i = 0; i < g->n;) {
		struct wnode *s = g->s[i];
		/* an end clamped to INT64_MAX holds INT64_MAX (window.h) */
		if (!((lo < s->end || s->end == INT64_MAX) && (s->start < hi || hi == INT64_MAX))) {
			i++;
			continue;
		}
		if (!into) {
			into = s;
			i++;
			continue;
		}
		if (s->start < into->start)
			into->start = s->start;
		if (s->end > into->end)
			into->end = s->end;
		if (s->pos < into->pos)
			into->pos = s->pos;
		session_unlist(g, i);
		merge(arg, into, s);
	}
	if (!into)
		return NULL;
	if (lo < into->start) {
		into->start = lo;
		session_remove(g, into);
		session_add(g, into);
	}
	if (hi > into->end)
		into->end = hi;
	if (pos < into->pos)
		into->pos = pos;
	return into;
}

struct wnode *session_assign(struct sessions *g, const struct winspec *w, const struct watermark *m,
                             int64_t t, uint64_t pos, session_merge_fn *merge, void *arg, int *late)
{
	*late = 0;
	if (g->have_closed && t < g->closed_end) {
		*late = 1;
		return NULL;
	}
	int64_t tend = time_add_sat(t, w->gap);
	struct wnode *s = session_join(g, t, tend, pos, merge, arg);
	if (!s && wm_closed(m, tend))
		*late = 1;
	return s;
}

void session_closed(struct sessions *g, struct wnode *w)
{
	session_remove(g, w);
	if (!g->have_closed || w->end > g->closed_end)
		g->closed_end = w->end;
	g->have_closed = 1;
}

void sessions_free(struct sessions *g)
{
	free(g->s);
	g->s = NULL;
	g->n = g->cap = 0;
}

/* ---- late sink ------------------------------------------------------ */

int late_open(struct latesink *l, const char *path)
{
	memset(l, 0, sizeof *l);
	l->path = path;
	if (!path)
		return 0;
	/* an existing file is opened now (appending neither truncates nor
	 * creates); a new one only at the first late event, so that a run
	 * without late events, or one that fails on its inputs, creates no
	 * file, but a directory it could not be created in fails now */
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0) {
		l->w = wfile_fd(fd, path);
		return 0;
	}
	if (errno != ENOENT)
		return -1;
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int rc = access(slash ? (slash == dir ? "/" : (*slash = 0, dir)) : ".", W_OK | X_OK);
	free(dir);
	if (rc < 0)
		return -1;
	errno = 0;
	return 0;
}

void late_write(struct latesink *l, const char *line, size_t len)
{
	l->count++;
	if (l->path && !l->w && !(l->w = wfile_append(l->path)))
		ev_die_errno(EV_IO, "--late %s", l->path);
	if (l->w) {
		wfile_line(l->w, line, len);
		wfile_flush(l->w); /* rare, and kept even if the run stops early */
	}
}

int late_finish(struct latesink *l, const char *what)
{
	if (l->w) {
		wfile_close(l->w, 0);
		l->w = NULL;
	}
	if (!l->count)
		return EV_OK;
	wfile_flush(ev_out);
	const char *s = l->count == 1 ? "" : "s";
	if (l->path) {
		ev_warn("%" PRIu64 " late event%s %s (written to %s)", l->count, s, what, l->path);
		return EV_OK;
	}
	ev_warn("%" PRIu64 " late event%s %s; use --lateness DUR or --late FILE", l->count, s, what);
	return EV_REJECT;
}
