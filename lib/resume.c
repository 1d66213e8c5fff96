/* resume.c — resumable reading for --state (see resume.h). */
#include "resume.h"
#include "ev.h"

#include <stdlib.h>
#include <unistd.h>

int resume_skip(struct evctx *cx, struct resume *r, struct ev_event *ev)
{
	int64_t seq;
	if (ev->in->unterminated && ev->in->is_reg) {
		cx->events--; /* maybe still being written: the next run reads it whole */
		cx->handed = NULL;
		return 1;
	}
	if (ckpt_event_seq(ev->doc, &seq)) {
		if (r->skipping && seq <= r->skip_seq) {
			cx->events--; /* read by an earlier run */
			cx->handed = NULL;
			return 1;
		}
		if (!r->have_seq || seq > r->max_seq)
			r->max_seq = seq;
		r->have_seq = 1;
	} else if (r->need_seq) {
		ev_reject(cx, ev, "no integer seq: --state cannot resume in a stream that is not a regular file without it");
		return 1;
	}
	return 0;
}

void resume_run(struct evctx *cx, struct resume *r, int nfiles, char **files, ev_event_fn fn, void *arg)
{
	if (nfiles > 1) {
		ev_warn("--state reads one file (or standard input), not %d", nfiles);
		exit(EV_USAGE);
	}
	struct input in;
	const char *name = nfiles ? files[0] : "-";
	if (input_open(&in, name) < 0) {
		ev_warn_errno("%s", name);
		ev_raise(cx, EV_USAGE);
		return;
	}
	char why[300];
	enum ckpt_resume how = ckpt_check(&r->ck, in.is_reg ? in.fd : -1, why, sizeof why);
	if (!in.is_reg && r->ck.has_file && !r->ck.has_seq)
		how = CK_CHANGED;
	if (!in.is_reg)
		r->need_seq = 1;
	switch (how) {
	case CK_CHANGED:
		ev_warn("--state %s: %s: %s; not mixing it with the saved state (remove the state to start over)",
		        r->state_path, in.label, why);
		input_close(&in);
		exit(EV_IO);
	case CK_SEEK:
		if (input_seek(&in, r->ck.offset) < 0)
			ev_die_errno(EV_IO, "%s: seek", in.label);
		if (r->ck.has_seq) {
			r->skipping = 1;
			r->skip_seq = r->ck.seq;
		}
		break;
	case CK_SEQ:
		r->skipping = 1;
		r->skip_seq = r->ck.seq;
		break;
	case CK_FRESH:
		break;
	}
	if (r->ck.has_seq) {
		r->max_seq = r->ck.seq;
		r->have_seq = 1;
	}
	ev_run_input(cx, &in, fn, arg);
	/* an unterminated last line may still be being written: reread it */
	uint64_t offset = in.consumed;
	char last;
	if (in.is_reg && offset > 0 && pread(in.fd, &last, 1, (off_t)offset - 1) == 1 && last != '\n')
		offset = in.offset;
	if (in.is_reg)
		ckpt_mark_file(&r->ck, in.fd, offset);
	else
		r->ck.has_file = 0;
	r->ck.has_seq = r->have_seq;
	r->ck.seq = r->max_seq;
	input_close(&in);
}
