/* rows.c — row output formats (see rows.h). */
#include "rows.h"
#include "ev.h"
#include "json.h"
#include "jwrite.h"
#include "wfile.h"

#include <stdlib.h>
#include <string.h>

int rowfmt_parse(const char *s)
{
	static const char *const names[] = { "ndjson", "tsv", "csv", "table" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void rows_init(struct rows *r, enum rowfmt fmt, size_t ncol, const char *const *names)
{
	memset(r, 0, sizeof *r);
	r->fmt = fmt;
	r->ncol = ncol;
	r->names = xcalloc(ncol, sizeof *r->names);
	r->width = xcalloc(ncol, sizeof *r->width);
	for (size_t i = 0; i < ncol; i++)
		r->names[i] = xstrdup(names[i]);
}

/* The text of a cell for tsv/csv/table: strings unescaped, null empty. */
static void cell_text(const char *json, size_t n, struct buf *out)
{
	if (!json || (n == 4 && memcmp(json, "null", 4) == 0))
		return;
	if (n >= 2 && json[0] == '"')
		json_unescape(json + 1, n - 2, out);
	else
		buf_add(out, json, n);
}

static const char hexd[] = "0123456789abcdef";

static void put_hex(struct buf *out, unsigned v)
{
	char e[4] = { '\\', 'x', hexd[v >> 4], hexd[v & 15] };
	buf_add(out, e, 4);
}

/* A control character starting at p[i]: its code (0x00-0x1F, 0x7F or
 * U+0080-U+009F) and its length in bytes in *len; -1 if none. */
static int ctl_at(const char *p, size_t n, size_t i, size_t *len)
{
	unsigned char c = (unsigned char)p[i];
	*len = 1;
	if (c < 0x20 || c == 0x7F)
		return c;
	if (c == 0xC2 && i + 1 < n && (unsigned char)p[i + 1] >= 0x80 && (unsigned char)p[i + 1] <= 0x9F) {
		*len = 2;
		return (unsigned char)p[i + 1];
	}
	return -1;
}

void rows_escape_ctl(const char *p, size_t n, int keep_tab_nl, struct buf *out)
{
	size_t i = 0, run = 0, len;
	while (i < n) {
		int c = ctl_at(p, n, i, &len);
		if (c < 0 || (keep_tab_nl && (c == '\t' || c == '\n'))) {
			i += len;
			continue;
		}
		buf_add(out, p + run, i - run);
		put_hex(out, (unsigned)c);
		i += len;
		run = i;
	}
	buf_add(out, p + run, n - run);
}

/* tsv and table: tsv's own escapes, then every other control as \xHH. */
static void tsv_escape(const char *p, size_t n, struct buf *out)
{
	size_t len;
	for (size_t i = 0; i < n; i += len) {
		int c = ctl_at(p, n, i, &len);
		switch (c) {
		case '\t': buf_add(out, "\\t", 2); break;
		case '\n': buf_add(out, "\\n", 2); break;
		case '\r': buf_add(out, "\\r", 2); break;
		case -1:
			if (p[i] == '\\')
				buf_add(out, "\\\\", 2);
			else
				buf_addc(out, p[i]);
			break;
		default: put_hex(out, (unsigned)c);
		}
	}
}

/* csv: RFC 4180 quoting (which carries tab, newline and CR), and every
 * other control as \xHH. */
static void csv_escape(const char *p, size_t n, struct buf *out)
{
	int quote = n && (p[0] == ' ' || p[n - 1] == ' ');
	for (size_t i = 0; i < n && !quote; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r')
			quote = 1;
	if (quote)
		buf_addc(out, '"');
	size_t len;
	for (size_t i = 0; i < n; i += len) {
		int c = ctl_at(p, n, i, &len);
		if (c < 0 || c == '\t' || c == '\n' || c == '\r') {
			if (p[i] == '"')
				buf_addc(out, '"');
			buf_add(out, p + i, len);
		} else {
			put_hex(out, (unsigned)c);
		}
	}
	if (quote)
		buf_addc(out, '"');
}

static void header(struct rows *r)
{
	if (r->header_done || r->fmt == RF_NDJSON || r->fmt == RF_TABLE)
		return;
	r->header_done = 1;
	struct buf b = {0};
	for (size_t i = 0; i < r->ncol; i++) {
		if (i)
			buf_addc(&b, r->fmt == RF_TSV ? '\t' : ',');
		if (r->fmt == RF_TSV)
			tsv_escape(r->names[i], strlen(r->names[i]), &b);
		else
			csv_escape(r->names[i], strlen(r->names[i]), &b);
	}
	wfile_line(ev_out, b.p ? b.p : "", b.len);
	buf_free(&b);
}

void rows_begin(struct rows *r)
{
	header(r);
	buf_reset(&r->line);
	r->cell = 0;
	if (r->fmt == RF_NDJSON)
		buf_addc(&r->line, '{');
}

static size_t width_of(const char *p, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)p[i] & 0xC0) != 0x80)
			w++;
	return w;
}

void rows_cell(struct rows *r, const char *json, size_t n)
{
	size_t i = r->cell++;
	if (i >= r->ncol)
		return;
	if (!json) {
		json = "null";
		n = 4;
	}
	if (r->fmt == RF_NDJSON) {
		if (i)
			buf_addc(&r->line, ',');
		jw_cstring(&r->line, r->names[i]);
		buf_addc(&r->line, ':');
		buf_add(&r->line, json, n);
		return;
	}
	struct buf t = {0};
	cell_text(json, n, &t);
	if (r->fmt == RF_TSV) {
		if (i)
			buf_addc(&r->line, '\t');
		tsv_escape(t.p ? t.p : "", t.len, &r->line);
	} else if (r->fmt == RF_CSV) {
		if (i)
			buf_addc(&r->line, ',');
		csv_escape(t.p ? t.p : "", t.len, &r->line);
	} else {
		r->offs = xgrow(r->offs, &r->capoffs, r->noffs + 1, sizeof *r->offs);
		r->offs[r->noffs++] = r->cells.len;
		size_t before = r->cells.len;
		tsv_escape(t.p ? t.p : "", t.len, &r->cells);
		size_t w = width_of(r->cells.p + before, r->cells.len - before);
		if (w > r->width[i])
			r->width[i] = w;
	}
	buf_free(&t);
}

void rows_end(struct rows *r)
{
	while (r->cell < r->ncol)
		rows_cell(r, NULL, 0);
	if (r->fmt == RF_TABLE)
		return;
	if (r->fmt == RF_NDJSON)
		buf_addc(&r->line, '}');
	wfile_line(ev_out, r->line.p, r->line.len);
}

static void table_row(struct rows *r, const char *const *cell, const size_t *len)
{
	struct buf b = {0};
	for (size_t i = 0; i < r->ncol; i++) {
		buf_add(&b, cell[i], len[i]);
		if (i + 1 < r->ncol) {
			size_t w = width_of(cell[i], len[i]);
			for (size_t k = w; k < r->width[i] + 2; k++)
				buf_addc(&b, ' ');
		}
	}
	/* no trailing blanks */
	while (b.len && b.p[b.len - 1] == ' ')
		b.len--;
	wfile_line(ev_out, b.p ? b.p : "", b.len);
	buf_free(&b);
}

void rows_finish(struct rows *r)
{
	if (r->fmt == RF_TABLE) {
		const char **cell = xcalloc(r->ncol, sizeof *cell);
		size_t *len = xcalloc(r->ncol, sizeof *len);
		for (size_t i = 0; i < r->ncol; i++) {
			size_t w = width_of(r->names[i], strlen(r->names[i]));
			if (w > r->width[i])
				r->width[i] = w;
			cell[i] = r->names[i];
			len[i] = strlen(r->names[i]);
		}
		table_row(r, cell, len);
		for (size_t k = 0; k < r->noffs; k += r->ncol) {
			for (size_t i = 0; i < r->ncol; i++) {
				size_t o = r->offs[k + i];
				size_t e = k + i + 1 < r->noffs ? r->offs[k + i + 1] : r->cells.len;
				cell[i] = r->cells.p + o;
				len[i] = e - o;
			}
			table_row(r, cell, len);
		}
		free(cell);
		free(len);
	} else {
		header(r);
	}
	for (size_t i = 0; i < r->ncol; i++)
		free(r->names[i]);
	free(r->names);
	free(r->width);
	free(r->offs);
	buf_free(&r->line);
	buf_free(&r->cells);
}
