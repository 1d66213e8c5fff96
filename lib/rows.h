/*
 * rows.h — printing rows a person reads: --format ndjson|tsv|csv|table.
 *
 * Cells are handed over as JSON text (a value's compact form, as copied
 * from the input or written by jwrite), so every format starts from the
 * same value.  ndjson writes {"COLUMN":value,...} in column order; tsv and
 * csv write a header line, then strings unquoted, null as an empty cell,
 * other values as JSON.  tsv escapes backslash, tab, newline and CR as
 * \\ \t \n \r; csv quotes per RFC 4180.  Every other control character
 * of the data (0x00-0x1F, 0x7F, U+0080-U+009F) is written \xHH in tsv, csv
 * and table (a terminal never gets ESC or BEL from a log line); ndjson is
 * left byte-exact.  table pads columns to their widest
 * cell (in code points) for a terminal, and so holds every row until the
 * end: it is the one format that does not stream.
 */
#ifndef ROWS_H
#define ROWS_H

#include <stddef.h>

#include "buf.h"

enum rowfmt { RF_NDJSON, RF_TSV, RF_CSV, RF_TABLE };

/* -1 if not one of ndjson, tsv, csv, table. */
int rowfmt_parse(const char *s);

struct rows {
	enum rowfmt fmt;
	size_t ncol;
	char **names;      /* column names (copied) */
	struct buf line;   /* the row being built */
	size_t cell;       /* cells added to the current row */
	/* table: every cell's text, and widths */
	struct buf cells;
	size_t *offs, noffs, capoffs;
	size_t *width;
	int header_done;
};

void rows_init(struct rows *r, enum rowfmt fmt, size_t ncol, const char *const *names);
void rows_begin(struct rows *r);
/* Add the next cell, given as JSON text (NULL = null). */
void rows_cell(struct rows *r, const char *json, size_t n);
void rows_end(struct rows *r);
/* Print what is held (table) and free everything. */
void rows_finish(struct rows *r);

/* Append p[0..n) with control characters (0x00-0x1F, 0x7F, U+0080-U+009F)
 * written as \xHH, keeping tab and newline when keep_tab_nl: what a raw
 * (-r) string output must write, as tsv/csv/table do. */
void rows_escape_ctl(const char *p, size_t n, int keep_tab_nl, struct buf *out);

#endif
