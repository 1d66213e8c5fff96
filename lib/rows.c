/* rows.c — row output formats (see rows.h). */
#include "rows.h"
#include "ev.h"
#include "json.h"
#include "jwrite.h"
#include "wfile.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rowfmt_parse(const char *s)
{
	static const char *const names[] = { "ndjson", "tsv", "csv", "table", "json" };
	for (int i = 0; i < 5; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int rowopts_option(struct rowopts *o, int c, const char *arg)
{
	switch (c) {
	case ROWS_OPT_FORMAT:
		o->fmt = rowfmt_parse(arg);
		if (o->fmt < 0) {
			ev_warn("--format: expected ndjson, json, tsv, csv or table, not '%s'", arg);
			return -1;
		}
		o->fmt_given = 1;
		return 0;
	case ROWS_OPT_NO_HEADER: o->no_header = 1; return 0;
	case ROWS_OPT_COLOR:
		if (!strcmp(arg, "auto"))
			o->color = ROWS_COLOR_AUTO;
		else if (!strcmp(arg, "always"))
			o->color = ROWS_COLOR_ALWAYS;
		else if (!strcmp(arg, "never"))
			o->color = ROWS_COLOR_NEVER;
		else {
			ev_warn("--color: expected auto, always or never, not '%s'", arg);
			return -1;
		}
		return 0;
	case 'r': o->raw = 1; return 0;
	}
	return 1;
}

int rowopts_check(const struct rowopts *o)
{
	if (o->raw && o->fmt_given) {
		ev_warn("-r is a format of its own: give -r or --format, not both");
		return -1;
	}
	if (o->no_header && o->fmt != RF_TSV && o->fmt != RF_CSV && o->fmt != RF_TABLE) {
		ev_warn("--no-header applies to --format tsv, csv or table");
		return -1;
	}
	return 0;
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

int rows_open(struct rows *r, const struct rowopts *o, size_t ncol, const char *const *names)
{
	if (o->raw && ncol != 1) {
		ev_warn("-r prints the values of one column, not %zu (for several: --format tsv --no-header)",
		        ncol);
		return -1;
	}
	rows_init(r, o->raw ? RF_RAW : (enum rowfmt)o->fmt, ncol, names);
	r->no_header = o->no_header;
	if (r->fmt == RF_NDJSON || r->fmt == RF_JSON || r->fmt == RF_TABLE) {
		const char *nc = getenv("NO_COLOR");
		r->color = o->color == ROWS_COLOR_ALWAYS ||
		           (o->color == ROWS_COLOR_AUTO && isatty(1) && !(nc && *nc));
	}
	return 0;
}

/* The text of a cell for tsv/csv/table/raw: strings unescaped, null
 * empty (null_text: "null"). */
static void cell_text(const char *json, size_t n, int null_text, struct buf *out)
{
	if (!json || (n == 4 && memcmp(json, "null", 4) == 0)) {
		if (null_text)
			buf_add(out, "null", 4);
		return;
	}
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

static void escape_ctl(const char *p, size_t n, int keep_tab, int keep_nl, struct buf *out)
{
	size_t i = 0, run = 0, len;
	while (i < n) {
		int c = ctl_at(p, n, i, &len);
		if (c < 0 || (keep_tab && c == '\t') || (keep_nl && c == '\n')) {
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

void rows_escape_ctl(const char *p, size_t n, int keep_tab_nl, struct buf *out)
{
	escape_ctl(p, n, keep_tab_nl, keep_tab_nl, out);
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

/* ---- color --------------------------------------------------------- */

#define C_KEY "\033[34;1m"
#define C_STR "\033[0;32m"
#define C_NUM "\033[0;36m"
#define C_BOOL "\033[0;33m"
#define C_NULL "\033[0;90m"
#define C_OFF "\033[0m"

static void colored(struct buf *out, const char *color, const char *p, size_t n)
{
	buf_adds(out, color);
	buf_add(out, p, n);
	buf_adds(out, C_OFF);
}

/* The text is valid JSON (an event as read, or what we wrote): strings
 * end at an unescaped quote, a string followed by ':' is a key, and
 * what is between tokens is copied as it is. */
void rows_color_json(const char *p, size_t n, struct buf *out)
{
	size_t i = 0;
	while (i < n) {
		char c = p[i];
		size_t j = i + 1;
		if (c == '"') {
			while (j < n && p[j] != '"')
				j += p[j] == '\\' ? 2 : 1;
			if (j < n)
				j++;
			size_t k = j;
			while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\n' || p[k] == '\r'))
				k++;
			colored(out, k < n && p[k] == ':' ? C_KEY : C_STR, p + i, j - i);
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			while (j < n && strchr("0123456789+-.eE", p[j]))
				j++;
			colored(out, C_NUM, p + i, j - i);
		} else if (c == 't' || c == 'f' || c == 'n') {
			while (j < n && p[j] >= 'a' && p[j] <= 'z')
				j++;
			colored(out, c == 'n' ? C_NULL : C_BOOL, p + i, j - i);
		} else {
			buf_addc(out, c);
		}
		i = j;
	}
}

/* The color of a cell by its JSON text (NULL: none). */
static const char *cell_color(const char *json, size_t n)
{
	if (!json || !n)
		return C_NULL;
	switch (json[0]) {
	case '"': return C_STR;
	case 't': case 'f': return C_BOOL;
	case 'n': return C_NULL;
	case '{': case '[': return NULL;
	default: return C_NUM;
	}
}

/* ---- rows ------------------------------------------------------------ */

static void header(struct rows *r)
{
	if (r->header_done || r->no_header || (r->fmt != RF_TSV && r->fmt != RF_CSV))
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

/* json: what comes before a record */
static void json_sep(struct rows *r)
{
	wfile_puts(ev_out, r->nrows ? ",\n" : "[\n");
}

void rows_begin(struct rows *r)
{
	header(r);
	buf_reset(&r->line);
	r->cell = 0;
	if (r->fmt == RF_NDJSON || r->fmt == RF_JSON)
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
	if (r->fmt == RF_NDJSON || r->fmt == RF_JSON) {
		if (i)
			buf_addc(&r->line, ',');
		jw_cstring(&r->line, r->names[i]);
		buf_addc(&r->line, ':');
		buf_add(&r->line, json, n);
		return;
	}
	struct buf t = {0};
	cell_text(json, n, r->fmt == RF_TABLE || r->fmt == RF_RAW, &t);
	if (r->fmt == RF_TSV) {
		if (i)
			buf_addc(&r->line, '\t');
		tsv_escape(t.p ? t.p : "", t.len, &r->line);
	} else if (r->fmt == RF_CSV) {
		if (i)
			buf_addc(&r->line, ',');
		csv_escape(t.p ? t.p : "", t.len, &r->line);
	} else if (r->fmt == RF_RAW) {
		escape_ctl(t.p ? t.p : "", t.len, 1, 0, &r->line); /* one value, one line */
	} else {
		r->offs = xgrow(r->offs, &r->capoffs, r->noffs + 1, sizeof *r->offs);
		r->offs[r->noffs++] = r->cells.len;
		buf_addc(&r->types, json[0]);
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
	if (r->fmt == RF_NDJSON || r->fmt == RF_JSON)
		buf_addc(&r->line, '}');
	rows_record(r, r->line.p, r->line.len);
}

/* JSON text to the output, colored when asked, then a newline (nl). */
static void put_json(struct rows *r, const char *p, size_t n, int nl)
{
	if (r->color) {
		struct buf c = {0};
		rows_color_json(p, n, &c);
		wfile_write(ev_out, c.p, c.len);
		buf_free(&c);
	} else {
		wfile_write(ev_out, p, n);
	}
	if (nl)
		wfile_putc(ev_out, '\n');
}

void rows_record(struct rows *r, const char *json, size_t n)
{
	if (r->fmt == RF_JSON)
		json_sep(r);
	r->nrows++;
	if (r->fmt == RF_JSON)
		put_json(r, json, n, 0);
	else if (r->color)
		put_json(r, json, n, 1);
	else
		wfile_line(ev_out, json, n);
}

static void table_row(struct rows *r, const char *const *cell, const size_t *len, const char *types)
{
	struct buf b = {0};
	for (size_t i = 0; i < r->ncol; i++) {
		const char *color = !r->color ? NULL : types ? cell_color(types + i, 1) : C_KEY;
		if (color)
			colored(&b, color, cell[i], len[i]);
		else
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

static void table_finish(struct rows *r)
{
	const char **cell = xcalloc(r->ncol, sizeof *cell);
	size_t *len = xcalloc(r->ncol, sizeof *len);
	for (size_t i = 0; i < r->ncol; i++) {
		cell[i] = r->names[i];
		len[i] = strlen(r->names[i]);
		size_t w = width_of(cell[i], len[i]);
		if (!r->no_header && w > r->width[i])
			r->width[i] = w;
	}
	if (!r->no_header)
		table_row(r, cell, len, NULL);
	for (size_t k = 0; k < r->noffs; k += r->ncol) {
		for (size_t i = 0; i < r->ncol; i++) {
			size_t o = r->offs[k + i];
			size_t e = k + i + 1 < r->noffs ? r->offs[k + i + 1] : r->cells.len;
			cell[i] = r->cells.p + o;
			len[i] = e - o;
		}
		table_row(r, cell, len, r->types.p + k);
	}
	free(cell);
	free(len);
}

void rows_finish(struct rows *r)
{
	if (r->fmt == RF_TABLE)
		table_finish(r);
	else if (r->fmt == RF_JSON)
		wfile_puts(ev_out, r->nrows ? "\n]\n" : "[\n]\n");
	else
		header(r);
	for (size_t i = 0; i < r->ncol; i++)
		free(r->names[i]);
	free(r->names);
	free(r->width);
	free(r->offs);
	buf_free(&r->line);
	buf_free(&r->cells);
	buf_free(&r->types);
	memset(r, 0, sizeof *r);
}
