/* resume.c — resumable reading for --state (see resume.h). */
#include "resume.h"
#include "ev.h"

#include <stdlib.h>
#include <unistd.h>

int resume_skip(struct evctx *cx, struct resume *r, struct ev_event *ev)
{
	if (ev->in->unterminated && ev->in->is_reg) {
		cx->events--; /* maybe still being written: the next run reads it whole */
		cx->handed = NULL;
		return 1;
	}
	switch (ckpt_admit(&r->rd, ev->doc)) {
	case CK_SKIP:
		cx->events--; /* read by an earlier run */
		cx->handed = NULL;
		return 1;
	case CK_NO_SEQ:
		ev_reject(cx, ev, "%s", ckpt_no_seq);
		return 1;
	case CK_TAKE:
		break;
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
	r->rd.need_seq = !in.is_reg;
	if (ckpt_start(&r->ck, &r->rd, &in, why, sizeof why) == CK_CHANGED) {
		ev_warn("--state %s: %s: %s; not mixing it with the saved state (remove the state to start over)",
		        r->state_path, in.label, why);
		input_close(&in);
		exit(EV_IO);
	}
	ev_run_input(cx, &in, fn, arg);
	/* an unterminated last line may still be being written: reread it */
	uint64_t offset = in.consumed;
	char last;
	if (in.is_reg && offset > 0 && pread(in.fd, &last, 1, (off_t)offset - 1) == 1 && last != '\n')
		offset = in.offset;
	ckpt_mark(&r->ck, &r->rd, in.is_reg ? in.fd : -1, offset);
	input_close(&in);
}
