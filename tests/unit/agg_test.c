/*
 * agg_test — drives lib/agg.c for tests/lib.bats.  One command a line;
 * four states, 0 to 3, of one spec:
 *   spec AGG         agg_parse("[NAME=]KIND[:PATH]"); the path is not
 *                    read (values are given) -> "ok NAME", or "error: MSG";
 *                    the states start empty
 *   kind K           the spec's kind by name (valcount, tmin, tmax: the
 *                    stats kinds agg_parse does not offer) -> "ok"
 *   state N          the state the next commands use (default 0)
 *   v JSON           agg_update with this value (any JSON value)
 *   missing          agg_update with a missing value
 *   t TIME           agg_update with an event time (RFC 3339) and no value
 *   pos N            the position of the next update (default: one more
 *                    than the last)
 *   result           agg_result                 -> JSON
 *   partial          agg_partial                -> JSON
 *   merge N          agg_merge state N into the current one
 *   mergepartial J   agg_merge_partial J into the current one -> "ok" or
 *                    "error: MSG"
 *   nonnumeric       values skipped as not numbers -> N
 * Exit status 0, 2 for a malformed command.
 */
#include "agg.h"
#include "ev.h"
#include "unit.h"
#include "timeutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSTATE 4

static struct aggspec spec;
static int have_spec;
static struct aggstate st[NSTATE];
static size_t cur;
static uint64_t pos;

static void reset(void)
{
	for (size_t i = 0; i < NSTATE; i++)
		agg_state_free(&st[i]);
	if (have_spec)
		aggspec_free(&spec);
	memset(&spec, 0, sizeof spec);
	have_spec = 0;
	cur = 0;
	pos = 0;
}

static void update(const char *json, int64_t t, int has_time)
{
	struct jdoc d = {0};
	struct jerr jerr;
	struct buf scratch = {0};
	struct agg_in in = { &d, JNONE, pos++, t, has_time };
	if (json) {
		if (json_parse(&d, json, strlen(json), JSON_ANY, &jerr) < 0) {
			fprintf(stderr, "agg_test: bad JSON '%s': %s\n", json, jerr.msg);
			exit(2);
		}
		in.t = 0;
	}
	agg_update(&spec, &st[cur], &in, &scratch);
	buf_free(&scratch);
	json_doc_free(&d);
}

int main(void)
{
	char line[65536], err[256];
	struct buf out = {0};
	ev_setprogname("agg_test");
	char *arg;
	while (unit_command(line, sizeof line, &arg)) {
		buf_reset(&out);
		if (!strcmp(line, "spec")) {
			reset();
			if (agg_parse(arg, &spec, err, sizeof err) < 0) {
				printf("error: %s\n", err);
			} else {
				have_spec = 1;
				printf("ok %s\n", spec.name);
			}
		} else if (!strcmp(line, "kind")) {
			static const struct { const char *name; enum agg_kind k; } kinds[] = {
				{ "valcount", AG_VALCOUNT }, { "tmin", AG_TMIN }, { "tmax", AG_TMAX }
			};
			size_t i = 0;
			while (i < 3 && strcmp(arg, kinds[i].name))
				i++;
			if (i == 3)
				return 2;
			spec.kind = kinds[i].k;
			puts("ok");
		} else if (!strcmp(line, "state")) {
			cur = (size_t)atoi(arg) % NSTATE;
		} else if (!strcmp(line, "v")) {
			update(arg, 0, 0);
		} else if (!strcmp(line, "missing")) {
			update(NULL, 0, 0);
		} else if (!strcmp(line, "t")) {
			int64_t us;
			if (time_parse_iso(arg, strlen(arg), &us) < 0)
				return 2;
			update(NULL, us, 1);
		} else if (!strcmp(line, "pos")) {
			pos = strtoull(arg, NULL, 10);
		} else if (!strcmp(line, "result")) {
			agg_result(&spec, &st[cur], &out);
			printf("%.*s\n", (int)out.len, out.p);
		} else if (!strcmp(line, "partial")) {
			agg_partial(&spec, &st[cur], &out);
			printf("%.*s\n", (int)out.len, out.p);
		} else if (!strcmp(line, "merge")) {
			agg_merge(&spec, &st[cur], &st[(size_t)atoi(arg) % NSTATE]);
		} else if (!strcmp(line, "mergepartial")) {
			struct jdoc d = {0};
			struct jerr jerr;
			if (json_parse(&d, arg, strlen(arg), JSON_ANY, &jerr) < 0)
				printf("error: %s\n", jerr.msg);
			else if (agg_merge_partial(&spec, &st[cur], &d, 0, err, sizeof err) < 0)
				printf("error: %s\n", err);
			else
				puts("ok");
			json_doc_free(&d);
		} else if (!strcmp(line, "nonnumeric")) {
			printf("%" PRIu64 "\n", spec.nonnumeric);
		} else {
			fprintf(stderr, "agg_test: unknown command '%s'\n", line);
			return 2;
		}
		fflush(stdout);
	}
	reset();
	buf_free(&out);
	return 0;
}
