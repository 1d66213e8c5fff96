/*
 * rows.h — printing rows a person reads: --format
 * ndjson|json|tsv|csv|table, --no-header, --color and -r (evtools(7)
 * Output).
 *
 * Cells are handed over as JSON text (a value's compact form, as copied
 * from the input or written by jwrite), so every format starts from the
 * same value.  ndjson writes {"COLUMN":value,...} in column order; json
 * writes the same objects as one array ("[", one row per line joined by
 * ",", "]"; "[" and "]" alone when there is no row); tsv and csv write a
 * header line (unless --no-header), then strings unquoted, null as an
 * empty cell, other values as JSON.  tsv escapes backslash, tab, newline
 * and CR as \\ \t \n \r; csv quotes per RFC 4180.  Every other control
 * character of the data (0x00-0x1F, 0x7F, U+0080-U+009F) is written \xHH
 * in tsv, csv, table and raw (a terminal never gets ESC or BEL from a log
 * line); ndjson and json are left byte-exact.  table pads columns to
 * their widest cell (in code points) for a terminal, shows null as
 * "null", and so holds every row until the end: it is the one format that
 * does not stream.  raw (-r) has one column: each value on a line of its
 * own, strings unquoted, every control character but tab as \xHH (so one
 * value is one line), anything else as its JSON text (null is "null", as
 * jq -r writes it).
 *
 * Whole records (an event as read, a join pair) go through rows_record
 * in ndjson and json, so --color and the json array apply to them too.
 * Color (jq's scheme: keys bold blue, strings green, numbers cyan, true
 * and false yellow, null grey) is for ndjson, json and table, when
 * --color always, or auto with standard output a terminal and NO_COLOR
 * unset or empty.
 */
#ifndef ROWS_H
#define ROWS_H

#include <getopt.h>
#include <stddef.h>

#include "buf.h"

enum rowfmt { RF_NDJSON, RF_TSV, RF_CSV, RF_TABLE, RF_JSON, RF_RAW };

/* -1 if not one of ndjson, json, tsv, csv, table. */
int rowfmt_parse(const char *s);

/* The output options of a tool that prints rows (evquery, evproject,
 * evjoin, evreplay), parsed by rowopts_option from the tool's option
 * callback.  Zero-initialised: ndjson, header, --color auto. */
enum { ROWS_COLOR_AUTO, ROWS_COLOR_ALWAYS, ROWS_COLOR_NEVER };
struct rowopts {
	int fmt;        /* enum rowfmt (RF_RAW with -r) */
	int fmt_given;  /* --format was given */
	int no_header;  /* --no-header */
	int color;      /* ROWS_COLOR_* */
	int raw;        /* -r */
};

/* Option ids: within the tools' range (cli.h OPT_TOOL_BASE, 1100), above
 * any tool's own. */
enum { ROWS_OPT_FORMAT = 1190, ROWS_OPT_NO_HEADER, ROWS_OPT_COLOR };
#define ROWS_LONGOPTS \
	{ "format", required_argument, NULL, ROWS_OPT_FORMAT }, \
	{ "no-header", no_argument, NULL, ROWS_OPT_NO_HEADER }, \
	{ "color", required_argument, NULL, ROWS_OPT_COLOR }
#define ROWS_RAW_LONGOPT { "raw", no_argument, NULL, 'r' }
#define ROWS_HELP \
	"      --format FMT         ndjson (default), json (one array), tsv, csv or table\n" \
	"      --no-header          no header line (tsv, csv, table)\n" \
	"      --color WHEN         auto (default: on a terminal), always or never\n"

/* Handle c if it is one of the options above ('r' included): 0 done, -1
 * usage error (message printed), 1 not a row option. */
int rowopts_option(struct rowopts *o, int c, const char *arg);
/* After parsing: -r with --format, --no-header without a format that has
 * a header: -1 after a message. */
int rowopts_check(const struct rowopts *o);

struct rows {
	enum rowfmt fmt;
	size_t ncol;
	char **names;      /* column names (copied) */
	struct buf line;   /* the row being built */
	size_t cell;       /* cells added to the current row */
	/* table: every cell's text, its JSON type (a byte each), and widths */
	struct buf cells, types;
	size_t *offs, noffs, capoffs;
	size_t *width;
	int header_done;
	int no_header, color;
	unsigned long long nrows; /* rows and records written (json: commas) */
};

void rows_init(struct rows *r, enum rowfmt fmt, size_t ncol, const char *const *names);
/* rows_init with the options: format (raw when -r), header, color
 * (decided here: --color, NO_COLOR, isatty).  -1 after a message when -r
 * is asked of more or fewer than one column. */
int rows_open(struct rows *r, const struct rowopts *o, size_t ncol, const char *const *names);
void rows_begin(struct rows *r);
/* Add the next cell, given as JSON text (NULL = null). */
void rows_cell(struct rows *r, const char *json, size_t n);
void rows_end(struct rows *r);
/* ndjson and json: one whole record, an object's JSON text written as it
 * is (colored when color is on). */
void rows_record(struct rows *r, const char *json, size_t n);
/* Print what is held (table, the end of the json array) and free
 * everything. */
void rows_finish(struct rows *r);

/* Append p[0..n) with control characters (0x00-0x1F, 0x7F, U+0080-U+009F)
 * written as \xHH, keeping tab and newline when keep_tab_nl (raw output
 * keeps only tab, so that one value stays one line). */
void rows_escape_ctl(const char *p, size_t n, int keep_tab_nl, struct buf *out);

/* Append JSON text p[0..n) with the color escapes of the scheme above. */
void rows_color_json(const char *p, size_t n, struct buf *out);

#endif
