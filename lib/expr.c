/*
 * expr.c — the evtools expression language (evtools-expr(7), expr.h).
 *
 * expr_compile() lexes and parses the source once into a tree whose
 * leaves are ready to use: paths split into segments, strings unescaped,
 * numbers converted, array literals and $NAME values parsed into small
 * documents of their own, regular expressions compiled (and JIT-compiled)
 * with their match data, and the time and duration readings of constant
 * strings done.  expr_test() walks the tree once per event.
 *
 * Why values point into the event instead of copying it: a filter such
 * as `event_type == "OrderPlaced"` runs on millions of lines the scanner
 * has already validated, so a string without escapes is compared where
 * it lies and a number is converted from its text only when reached.
 * Whatever evaluation has to build (an unescaped string, lower(), str(),
 * a concatenation) goes to a per-expression arena that is rewound, not
 * freed, before each event: a warm evaluation does not call malloc (PCRE2
 * keeps its backtracking memory in the node's match data).
 *
 * Why numbers keep their text: two numbers written in the input or the
 * expression compare exactly by their decimal texts (json_num_cmp), so
 * 9007199254740993 > 9007199254740992.0 and 1e400 > 1e399; two int64
 * compare directly, which is the common case and stays fast.
 *
 * Why regular expressions are limited per subject: a backtracking
 * matcher can take exponential time; PCRE2's match, depth and heap
 * limits, set for each match from the subject's length, make a match
 * give up instead, and expr_test then fails so the tool rejects the
 * event with the reason rather than calling it false.
 *
 * Why both a nesting limit and a node height limit: parser and evaluator
 * recurse, so each stays within a small fixed stack however hostile the
 * source.  && and || chains are flat lists, so long chains cost nothing.
 */
#include "expr.h"
#include "bmap.h"
#include "ev.h"
#include "jwrite.h"
#include "timeutil.h"
#include "wfile.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#define EXPR_MAX_DEPTH 256  /* nesting levels and tree height */
#define RE_MAX_LEN 1024     /* bytes of a pattern */

/* ---- arena ---------------------------------------------------------- */

struct ablock {
	struct ablock *next;
	size_t cap, used;
	char mem[];
};

struct arena {
	struct ablock *head, *cur;
};

/* n bytes, valid until the next arena_rewind (never moved). */
static char *arena_alloc(struct arena *a, size_t n)
{
	struct ablock *b = a->cur;
	if (!b || b->cap - b->used < n) {
		while (b && b->next) {
			b = b->next;
			b->used = 0;
			if (b->cap >= n)
				goto take;
		}
		size_t cap = b ? b->cap * 2 : 4096;
		if (cap < n)
			cap = n;
		struct ablock *nb = xmalloc(sizeof *nb + cap);
		nb->next = NULL;
		nb->cap = cap;
		nb->used = 0;
		if (b)
			b->next = nb;
		else
			a->head = nb;
		b = nb;
	}
take:
	a->cur = b;
	char *p = b->mem + b->used;
	b->used += n;
	return p;
}

static void arena_rewind(struct arena *a)
{
	a->cur = a->head;
	if (a->head)
		a->head->used = 0;
}

static void arena_free(struct arena *a)
{
	struct ablock *b = a->head;
	while (b) {
		struct ablock *next = b->next;
		free(b);
		b = next;
	}
	a->head = a->cur = NULL;
}

/*
 * A struct buf over cap bytes of arena memory, for the json.c and
 * jwrite.c writers.  Callers only use it where the output is known to
 * fit (unescaping and compacting never lengthen a value), so the buffer
 * never grows and the arena memory is never handed to realloc.
 */
static struct buf fixed_buf(char *mem, size_t cap)
{
	struct buf b = { mem, 0, cap };
	return b;
}

/* ---- values --------------------------------------------------------- */

enum vtype { VT_NULL, VT_BOOL, VT_INT, VT_DBL, VT_STR, VT_ARR, VT_OBJ, VT_TIME, VT_DUR };

static const char *const vtype_name[] = {
	"null", "boolean", "number", "number", "string", "array", "object", "time", "duration"
};

/* What a constant string or number reads as, worked out at compile time. */
struct kconv {
	unsigned char time_ok, dur_ok;
	int64_t time, dur;
};

struct val {
	unsigned char t;       /* enum vtype */
	union {
		int64_t i;     /* VT_BOOL (0/1), VT_INT, VT_TIME, VT_DUR (us) */
		double d;      /* VT_DBL */
	};
	const char *p;         /* VT_STR: the bytes; VT_INT/VT_DBL: text as written or NULL */
	size_t n;
	const struct jdoc *doc; /* VT_ARR, VT_OBJ */
	uint32_t tok;
	const struct kconv *kc; /* constants only */
};

static const struct val vnull = { .t = VT_NULL };

static inline struct val vbool(int b)
{
	struct val v = { .t = VT_BOOL };
	v.i = b != 0;
	return v;
}

static inline struct val vint(int64_t i)
{
	struct val v = { .t = VT_INT };
	v.i = i;
	return v;
}

static inline struct val vdbl(double d)
{
	struct val v = { .t = VT_DBL };
	v.d = d;
	return v;
}

static inline struct val vtyped(int t, int64_t us)
{
	struct val v = { .t = (unsigned char)t };
	v.i = us;
	return v;
}

static inline struct val vstr(const char *p, size_t n)
{
	struct val v = { .t = VT_STR };
	v.p = p;
	v.n = n;
	return v;
}

static inline int is_true(const struct val *v)
{
	return v->t == VT_BOOL && v->i;
}

static inline int is_num(const struct val *v)
{
	return v->t == VT_INT || v->t == VT_DBL;
}

/* Value of token t of d; escaped strings are decoded into a. */
static struct val tokval(struct arena *a, const struct jdoc *d, uint32_t t)
{
	if (t == JNONE)
		return vnull;
	const struct jtok *k = &d->tok[t];
	struct val v = { .t = VT_NULL };
	switch (k->type) {
	case J_TRUE:
	case J_FALSE:
		return vbool(k->type == J_TRUE);
	case J_NUM:
		v.p = d->text + k->start;
		v.n = k->len;
		v.t = json_num(v.p, v.n, &v.i, &v.d) ? VT_INT : VT_DBL;
		return v;
	case J_STR:
		v.t = VT_STR;
		if (!(k->flags & JF_ESC)) {
			v.p = d->text + k->start + 1;
			v.n = k->len - 2;
		} else {
			char *mem = arena_alloc(a, k->len);
			struct buf b = fixed_buf(mem, k->len);
			json_unescape(d->text + k->start + 1, k->len - 2, &b);
			v.p = mem;
			v.n = b.len;
		}
		return v;
	case J_ARR:
	case J_OBJ:
		v.t = k->type == J_ARR ? VT_ARR : VT_OBJ;
		v.doc = d;
		v.tok = t;
		return v;
	}
	return v;
}

/* ---- the tree ------------------------------------------------------- */

enum op {
	N_CONST, N_PATH, N_ALIAS, N_TIME, N_LINE,
	N_COND, N_OR, N_AND, N_NOT, N_NEG,
	N_EQ, N_NE, N_LT, N_LE, N_GT, N_GE, N_IN, N_MATCH,
	N_COAL, N_ADD, N_SUB, N_MUL, N_DIV, N_MOD,
	N_HAS, N_LEN, N_LOWER, N_UPPER, N_CONTAINS, N_STARTS, N_ENDS,
	N_ABS, N_NUM, N_STR, N_TYPE,
	N_GET, N_ELEM, N_ANY, N_ALL, N_FROMJSON, N_SPLIT, N_JOIN, N_RSUB, N_RGSUB,
	N_TRIM, N_LTRIM, N_RTRIM, N_LTRIMSTR, N_RTRIMSTR, N_TOSTRING, N_TOJSON,
	N_HOUR, N_DATE, N_STRFTIME,
	/* compiled into constants */
	N_NOWFN, N_DURFN
};

struct node {
	int op;
	size_t col;             /* 0-based byte offset, for messages */
	unsigned height;        /* operator levels below and including this */
	struct node *a, *b, *c; /* operands, function arguments; N_COND: a ? b : c */
	struct node **kids;     /* N_OR, N_AND */
	size_t nkids;
	int alias;              /* N_ALIAS, N_HAS: alias index, -1 = the event,
	                           ALIAS_ELEM = the element of any()/all() */
	struct path path;       /* N_PATH, N_ALIAS, N_TIME, N_HAS, N_GET, N_ELEM */
	int user;               /* N_PATH, N_ALIAS: written by the user, and
	                           not exempt from the missing-path warning
	                           (has() arguments, the left side of ??) */
	struct val k;           /* N_CONST */
	struct kconv kc;
	char *kstr;             /* owned bytes behind k */
	struct jdoc kdoc;       /* owned document behind k (arrays, $NAME) */
	char *ktext;            /* its text */
	struct val *elems;      /* N_CONST array: its elements */
	size_t nelems;
	struct bmap *set;       /* N_CONST array of SET_MIN elements or more: their
	                           in_key()s, so x in it is one look-up */
	pcre2_code *re;         /* N_MATCH, N_RSUB, N_RGSUB */
	pcre2_match_data *md;   /* kept, so matching does not allocate */
	struct rpart *repl;     /* N_RSUB, N_RGSUB: the replacement, parsed */
	size_t nrepl;
	struct jdoc rdoc;       /* N_FROMJSON, N_SPLIT: the result, rebuilt per */
	struct buf rbuf;        /* evaluation (its text in rbuf or the arena) */
	size_t ls, le, rs, re_; /* N_LT..N_GE: source spans of the two sides */
	int warned;             /* N_LT..N_GE: string/number warning given */
};

struct expr {
	struct node *root;
	struct node **nodes;    /* every node, for expr_free */
	size_t nnodes, capnodes;
	struct arena scratch;   /* rewound per evaluation */
	struct arena perm;      /* compile-time strings */
	int64_t now;
	enum time_unit unit;
	size_t naliases;
	char *src;              /* the source, for messages at evaluation */
	char *what;             /* the option, for messages; may be NULL */
	pcre2_match_context *mctx; /* limits, set per match */
	int failed;             /* the current evaluation failed */
	char reason[256];       /* why */
	struct val elem;        /* the element any()/all() is looking at */
	struct buf kbuf;        /* in: the key of the value looked up */
};

#define ALIAS_ELEM (-2)
#define SET_MIN 16 /* arrays this long are hashed for in */

/* One piece of a sub()/gsub() replacement: literal bytes, or group
 * number group (>= 0) of the match. */
struct rpart {
	int group;
	const char *lit;
	size_t len;
};

/* ---- --arg and --argjson -------------------------------------------- */

static size_t args_slot(struct expr_args *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->name[i], name) == 0) {
			free(a->text[i]);
			json_doc_free(&a->doc[i]);
			return i;
		}
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		a->name = xrealloc(a->name, cap * sizeof *a->name);
		a->text = xrealloc(a->text, cap * sizeof *a->text);
		a->doc = xrealloc(a->doc, cap * sizeof *a->doc);
		a->cap = cap;
	}
	a->name[a->n] = xstrdup(name);
	return a->n++;
}

static void args_set(struct expr_args *a, size_t i, char *text)
{
	struct jerr je;
	memset(&a->doc[i], 0, sizeof a->doc[i]);
	a->text[i] = text;
	json_parse(&a->doc[i], text, strlen(text), JSON_ANY, &je);
}

/* value[0..n) as UTF-8 (a bad byte becomes U+FFFD) and JSON-quoted into js. */
static void json_string_fixed(struct buf *js, const char *value, size_t n)
{
	struct buf fixed = {0};
	while (!utf8_valid(value, n)) {
		size_t bad = utf8_check(value, n);
		buf_add(&fixed, value, bad);
		buf_adds(&fixed, "\xEF\xBF\xBD");
		value += bad + 1;
		n -= bad + 1;
	}
	if (fixed.len) {
		buf_add(&fixed, value, n);
		value = fixed.p;
		n = fixed.len;
	}
	jw_string(js, value, n);
	buf_free(&fixed);
}

/* The file's bytes into b, or -1 with "FILE: reason" in err. */
static int args_read(struct buf *b, const char *file, char *err, size_t errlen)
{
	if (buf_read_file(b, file) < 0) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		buf_free(b);
		return -1;
	}
	return 0;
}

int expr_args_add_rawfile(struct expr_args *a, const char *name, const char *file, char *err, size_t errlen)
{
	struct buf b = {0}, js = {0};
	if (args_read(&b, file, err, errlen) < 0)
		return -1;
	json_string_fixed(&js, b.p ? b.p : "", b.len);
	buf_free(&b);
	args_set(a, args_slot(a, name), js.p);
	return 0;
}

int expr_args_add_linesfile(struct expr_args *a, const char *name, const char *file, char *err, size_t errlen)
{
	struct buf b = {0}, js = {0};
	if (args_read(&b, file, err, errlen) < 0)
		return -1;
	const char *p = b.p ? b.p : "", *end = p + b.len;
	if (b.len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3; /* a BOM */
	buf_addc(&js, '[');
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end, *q;
		if (le > p && le[-1] == '\r')
			le--;
		for (q = p; q < le && (*q == ' ' || *q == '\t'); q++)
			;
		if (q < le) { /* not blank */
			if (js.len > 1)
				buf_addc(&js, ',');
			json_string_fixed(&js, p, (size_t)(le - p));
		}
		p = nl ? nl + 1 : end;
	}
	buf_addc(&js, ']');
	buf_free(&b);
	args_set(a, args_slot(a, name), js.p);
	return 0;
}

int expr_args_add_slurpfile(struct expr_args *a, const char *name, const char *file, char *err, size_t errlen)
{
	struct buf b = {0}, js = {0};
	struct jdoc d = {0};
	struct jerr je;
	if (args_read(&b, file, err, errlen) < 0)
		return -1;
	const char *p = b.p ? b.p : "";
	size_t n = b.len, skip = n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	if (json_parse(&d, p + skip, n - skip, JSON_SEQ, &je) < 0) {
		/* FILE:LINE:COLUMN: reason, the column in bytes from 1 */
		size_t at = skip + (je.offset < n - skip ? je.offset : n - skip), line = 1, col = 1;
		for (size_t i = 0; i < at; i++) {
			col++;
			if (p[i] == '\n') {
				line++;
				col = 1;
			}
		}
		char tail[40];
		size_t ml = strlen(je.msg);
		int tl = snprintf(tail, sizeof tail, " at column %zu", je.offset + 1);
		if (tl > 0 && ml >= (size_t)tl && strcmp(je.msg + ml - (size_t)tl, tail) == 0)
			je.msg[ml - (size_t)tl] = '\0';
		snprintf(err, errlen, "%s:%zu:%zu: %s", file, line, col, je.msg);
		json_doc_free(&d);
		buf_free(&b);
		return -1;
	}
	buf_addc(&js, '[');
	for (uint32_t t = 1; t < d.ntok; t = d.tok[t].next) {
		if (js.len > 1)
			buf_addc(&js, ',');
		json_write_compact(&d, t, &js);
	}
	buf_addc(&js, ']');
	json_doc_free(&d);
	buf_free(&b);
	args_set(a, args_slot(a, name), js.p);
	return 0;
}

void expr_args_add_string(struct expr_args *a, const char *name, const char *value)
{
	struct buf js = {0};
	/* an argument that is not UTF-8 gets U+FFFD for each bad byte */
	json_string_fixed(&js, value, strlen(value));
	args_set(a, args_slot(a, name), js.p);
}

int expr_args_add_json(struct expr_args *a, const char *name, const char *json, char *err, size_t errlen)
{
	struct jdoc d = {0};
	struct jerr je;
	int rc = json_parse(&d, json, strlen(json), JSON_ANY, &je);
	json_doc_free(&d);
	if (rc < 0) {
		snprintf(err, errlen, "%s", je.msg);
		return -1;
	}
	args_set(a, args_slot(a, name), xstrdup(json));
	return 0;
}

void expr_args_free(struct expr_args *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->name[i]);
		free(a->text[i]);
		json_doc_free(&a->doc[i]);
	}
	free(a->name);
	free(a->text);
	free(a->doc);
	memset(a, 0, sizeof *a);
}

/* ---- lexer ---------------------------------------------------------- */

enum tk {
	T_END, T_NUM, T_STR, T_PATH, T_FIELD, T_VAR, T_FUNC,
	T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_QUEST, T_COLON,
	T_OR, T_AND, T_NOT, T_BANG, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_MATCH, T_IMATCH, T_IN,
	T_COAL, T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PCT, T_TRUE, T_FALSE, T_NULL
};

struct token {
	int type;
	size_t pos, len;          /* span in the source */
	size_t name_pos, name_len; /* T_FIELD, T_VAR, T_FUNC: the name */
	int dot;                  /* T_PATH: written with a leading '.' */
};

struct parser {
	const char *src;
	size_t len, i;
	struct token tok;
	struct path tpath;        /* segments of the current path-like token */
	struct buf tstr;          /* bytes of the current string token */
	struct expr *e;
	const struct expr_env *env;
	const struct fieldmap *fm;
	struct expr_error *err;
	int failed;
	int depth;
	int elem;                 /* inside the COND of any()/all() */
	size_t prev_end;          /* end of the token before ps->tok */
};

static void *fail(struct parser *ps, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void *fail(struct parser *ps, size_t pos, const char *fmt, ...)
{
	if (!ps->failed) {
		va_list ap;
		ps->failed = 1;
		ps->err->column = pos + 1;
		va_start(ap, fmt);
		vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

static inline int is_ident0(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static inline int is_identc(int c)
{
	return is_ident0(c) || (c >= '0' && c <= '9');
}

static inline int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A string literal at *k ("..." or '...', JSON escapes, \' in single
 * quotes), decoded into out by path.c's one reader of quoted text. */
static int lex_string(struct parser *ps, size_t *k, struct buf *out)
{
	char msg[160];
	size_t at;
	long m = path_quoted(ps->src + *k, ps->len - *k, out, &at, msg, sizeof msg);
	if (m < 0) {
		fail(ps, *k + at, "%s", msg);
		return -1;
	}
	*k += (size_t)m;
	return 0;
}

/* The path at s[*pk] (cont 0) or the segments after a name (cont 1),
 * read by path.c (path_scan_expr) into ps->tpath. */
static int lex_path(struct parser *ps, size_t *pk, int cont)
{
	char msg[160];
	size_t at;
	long m = path_scan_expr(&ps->tpath, ps->src + *pk, ps->len - *pk, cont, &at, msg, sizeof msg);
	if (m < 0) {
		fail(ps, *pk + at, "%s", msg);
		return -1;
	}
	*pk += (size_t)m;
	return 0;
}

static int lex_number(struct parser *ps, size_t *pk)
{
	const char *s = ps->src;
	size_t n = ps->len, st = *pk, k = st;
	while (k < n && is_digit((unsigned char)s[k]))
		k++;
	if (s[st] == '0' && k - st > 1)
		goto bad;
	if (k < n && s[k] == '.') {
		k++;
		if (k >= n || !is_digit((unsigned char)s[k]))
			goto bad;
		while (k < n && is_digit((unsigned char)s[k]))
			k++;
	}
	if (k < n && (s[k] == 'e' || s[k] == 'E')) {
		k++;
		if (k < n && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k >= n || !is_digit((unsigned char)s[k]))
			goto bad;
		while (k < n && is_digit((unsigned char)s[k]))
			k++;
	}
	if (k < n && (is_identc((unsigned char)s[k]) || s[k] == '.'))
		goto bad;
	*pk = k;
	return 0;
bad:
	while (k < n && (is_identc((unsigned char)s[k]) || s[k] == '.'))
		k++;
	fail(ps, st, "bad number '%.*s'", (int)(k - st > 40 ? 40 : k - st), s + st);
	return -1;
}

static const struct {
	const char *word;
	int type;
} keywords[] = {
	{ "and", T_AND }, { "false", T_FALSE }, { "in", T_IN }, { "not", T_NOT },
	{ "null", T_NULL }, { "or", T_OR }, { "true", T_TRUE },
};

/* Names, paths, @fields, $variables, keywords, function names. */
static int lex_word(struct parser *ps, size_t i)
{
	const char *s = ps->src;
	size_t n = ps->len, k;
	struct token *t = &ps->tok;
	char c = s[i];
	if (c == '@' || c == '$') {
		k = i + 1;
		if (k >= n || !is_ident0((unsigned char)s[k])) {
			fail(ps, i, c == '@' ? "expected a field name after '@'" : "expected a name after '$'");
			return -1;
		}
		while (k < n && is_identc((unsigned char)s[k]))
			k++;
		t->type = c == '@' ? T_FIELD : T_VAR;
		t->name_pos = i + 1;
		t->name_len = k - i - 1;
	} else if (c == '.') {
		t->type = T_PATH;
		t->dot = 1;
		k = i;
		if (lex_path(ps, &k, 0) < 0)
			return -1;
		t->len = k - i;
		ps->i = k;
		return 0;
	} else {
		k = i;
		while (k < n && is_identc((unsigned char)s[k]))
			k++;
		for (size_t j = 0; j < sizeof keywords / sizeof *keywords; j++) {
			if (strlen(keywords[j].word) == k - i && memcmp(keywords[j].word, s + i, k - i) == 0) {
				t->type = keywords[j].type;
				t->len = k - i;
				ps->i = k;
				return 0;
			}
		}
		size_t j = k;
		while (j < n && is_space((unsigned char)s[j]))
			j++;
		if (k < n && s[k] != '.' && s[k] != '[' && j < n && s[j] == '(') {
			t->type = T_FUNC;
			t->name_pos = i;
			t->name_len = k - i;
			t->len = k - i;
			ps->i = k;
			return 0;
		}
		t->type = T_PATH;
		k = i;
		if (lex_path(ps, &k, 0) < 0)
			return -1;
		t->len = k - i;
		ps->i = k;
		return 0;
	}
	if (lex_path(ps, &k, 1) < 0)
		return -1;
	t->len = k - i;
	ps->i = k;
	return 0;
}

/* The next token into ps->tok.  0, or -1 with the error set. */
static int lex(struct parser *ps)
{
	const char *s = ps->src;
	size_t n = ps->len, i = ps->i;
	struct token *t = &ps->tok;
	ps->prev_end = t->pos + t->len;
	path_free(&ps->tpath);
	buf_reset(&ps->tstr);
	while (i < n && is_space((unsigned char)s[i]))
		i++;
	memset(t, 0, sizeof *t);
	t->pos = i;
	if (i >= n) {
		t->type = T_END;
		ps->i = i;
		return 0;
	}
	unsigned char c = (unsigned char)s[i];
	char c1 = i + 1 < n ? s[i + 1] : '\0';
	int type = -1;
	size_t len = 1;
	switch (c) {
	case '(': type = T_LPAREN; break;
	case ')': type = T_RPAREN; break;
	case '[': type = T_LBRACK; break;
	case ']': type = T_RBRACK; break;
	case ',': type = T_COMMA; break;
	case '+': type = T_PLUS; break;
	case '-': type = T_MINUS; break;
	case '*': type = T_STAR; break;
	case '/':
		if (c1 == '/')
			return fail(ps, i, "unexpected '//' (jq's alternative operator is '?\?' here: a ?\? b)"), -1;
		type = T_SLASH;
		break;
	case '%': type = T_PCT; break;
	case '|':
		if (c1 != '|')
			return fail(ps, i, "unexpected '|': evtools expressions are not a pipe language "
			            "(use '||' or 'or'; f(x), not x | f; any(ARR, COND) for elements)"), -1;
		type = T_OR; len = 2;
		break;
	case '&':
		if (c1 != '&')
			return fail(ps, i, "unexpected '&' (use '&&' or 'and')"), -1;
		type = T_AND; len = 2;
		break;
	case '?':
		type = c1 == '?' ? T_COAL : T_QUEST;
		len = c1 == '?' ? 2 : 1;
		break;
	case ':': type = T_COLON; break;
	case '=':
		if (c1 == '=') {
			type = T_EQ; len = 2;
		} else if (c1 == '~' && i + 2 < n && s[i + 2] == '*') {
			type = T_IMATCH; len = 3;
		} else if (c1 == '~') {
			type = T_MATCH; len = 2;
		} else {
			return fail(ps, i, "unexpected '=' (use '==' to compare)"), -1;
		}
		break;
	case '!':
		if (c1 == '=') {
			type = T_NE; len = 2;
		} else {
			type = T_BANG;
		}
		break;
	case '<':
		type = c1 == '=' ? T_LE : T_LT;
		len = c1 == '=' ? 2 : 1;
		break;
	case '>':
		type = c1 == '=' ? T_GE : T_GT;
		len = c1 == '=' ? 2 : 1;
		break;
	}
	if (type >= 0) {
		t->type = type;
		t->len = len;
		ps->i = i + len;
		return 0;
	}
	size_t k = i;
	if (c == '"' || c == '\'') {
		if (lex_string(ps, &k, &ps->tstr) < 0)
			return -1;
		t->type = T_STR;
	} else if (is_digit(c)) {
		if (lex_number(ps, &k) < 0)
			return -1;
		t->type = T_NUM;
	} else if (c == '.' || c == '@' || c == '$' || is_ident0(c)) {
		return lex_word(ps, i);
	} else if (c >= 0x21 && c < 0x7f) {
		return fail(ps, i, "unexpected character '%c'", c), -1;
	} else if (c < 0x80) {
		return fail(ps, i, "unexpected byte 0x%02x", c), -1;
	} else {
		size_t e = i + 1;
		while (e < n && ((unsigned char)s[e] & 0xC0) == 0x80)
			e++;
		return fail(ps, i, "unexpected character '%.*s'", (int)(e - i), s + i), -1;
	}
	t->len = k - i;
	ps->i = k;
	return 0;
}

/* The current token as messages quote it. */
static const char *tokname(const struct parser *ps, char *out, size_t cap)
{
	const char *p = ps->src + ps->tok.pos;
	size_t n = ps->tok.len;
	int cut = 0;
	if (n > 24) {
		n = 24;
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--;
		cut = 1;
	}
	snprintf(out, cap, "'%.*s%s'", (int)n, p, cut ? "..." : "");
	return out;
}

/* ---- parser --------------------------------------------------------- */

static struct node *parse_expr(struct parser *ps);

static struct node *mknode(struct parser *ps, int op, size_t col)
{
	struct expr *e = ps->e;
	struct node *nd = xcalloc(1, sizeof *nd);
	nd->op = op;
	nd->col = col;
	nd->alias = -1;
	e->nodes = xgrow(e->nodes, &e->capnodes, e->nnodes + 1, sizeof *e->nodes);
	e->nodes[e->nnodes++] = nd;
	return nd;
}

static struct node *mkop(struct parser *ps, int op, size_t col, struct node *a, struct node *b)
{
	struct node *nd = mknode(ps, op, col);
	nd->a = a;
	nd->b = b;
	unsigned h = a ? a->height : 0;
	if (b && b->height > h)
		h = b->height;
	nd->height = h + 1;
	if (nd->height > EXPR_MAX_DEPTH)
		return fail(ps, col, "expression nested too deeply");
	return nd;
}

/* Copy the segments of src from index from on to dst. */
static void path_append(struct path *dst, const struct path *src, size_t from)
{
	for (size_t i = from; i < src->n; i++) {
		path_push(dst, src->seg[i].key, src->seg[i].keylen);
		dst->seg[dst->n - 1].index = src->seg[i].index;
		dst->seg[dst->n - 1].exact = src->seg[i].exact;
		dst->seg[dst->n - 1].fromend = src->seg[i].fromend;
	}
}

static void path_take(struct path *dst, struct path *src)
{
	*dst = *src;
	memset(src, 0, sizeof *src);
}

/* Signed duration text: "-15m" is minus fifteen minutes. */
static int sdur_parse(const char *p, size_t n, int64_t *us)
{
	int neg = n > 0 && p[0] == '-';
	if (neg) {
		p++;
		n--;
	}
	if (n == 0 || p[0] == '-' || p[0] == '+')
		return -1;
	if (dur_parse(p, n, us) < 0)
		return -1;
	if (neg)
		*us = -*us;
	return 0;
}

/* Work out what a constant string or number reads as, once. */
static void set_kconv(struct parser *ps, struct node *nd)
{
	struct val *v = &nd->k;
	struct kconv *kc = &nd->kc;
	if (v->t == VT_STR) {
		if (!memchr(v->p, '\0', v->n)) {
			char *z = xmemdup(v->p, v->n);
			kc->time_ok = time_parse_option(z, ps->e->now, &kc->time) == 0;
			free(z);
		}
		kc->dur_ok = sdur_parse(v->p, v->n, &kc->dur) == 0;
	} else if (is_num(v)) {
		kc->time_ok = time_from_epoch_text(v->p, v->n, ps->e->unit, &kc->time) == 0;
		kc->dur_ok = sdur_parse(v->p, v->n, &kc->dur) == 0;
	} else {
		return;
	}
	v->kc = kc;
}

/* A constant node for the number token, negated when neg. */
static struct node *number_const(struct parser *ps, size_t col, int neg)
{
	struct node *nd = mknode(ps, N_CONST, col);
	const char *p = ps->src + ps->tok.pos;
	size_t n = ps->tok.len;
	nd->kstr = xmalloc(n + 2);
	nd->kstr[0] = '-';
	memcpy(nd->kstr + 1, p, n);
	nd->kstr[n + 1] = '\0';
	nd->k.p = neg ? nd->kstr : nd->kstr + 1;
	nd->k.n = neg ? n + 1 : n;
	nd->k.t = json_num(nd->k.p, nd->k.n, &nd->k.i, &nd->k.d) ? VT_INT : VT_DBL;
	set_kconv(ps, nd);
	return nd;
}

/*
 * The key of a value in the set of a constant array: a type letter and
 * bytes, numbers by value (json_num_key), so that x in ARR agrees with
 * x == e for each element e.  1, or 0 when the value has no key and is
 * compared one element at a time (arrays, objects, times, durations and
 * computed decimals, whose == is not by text).
 */
static int in_key(const struct val *v, struct buf *k)
{
	char tx[24];
	buf_reset(k);
	switch (v->t) {
	case VT_NULL:
		buf_addc(k, 'z');
		return 1;
	case VT_BOOL:
		buf_addc(k, v->i ? 't' : 'f');
		return 1;
	case VT_STR:
		buf_addc(k, 's');
		buf_add(k, v->p, v->n);
		return 1;
	case VT_INT:
	case VT_DBL:
		buf_addc(k, 'n');
		if (v->p) {
			json_num_key(v->p, v->n, k);
		} else if (v->t == VT_INT) {
			int tn = snprintf(tx, sizeof tx, "%lld", (long long)v->i);
			json_num_key(tx, (size_t)tn, k);
		} else {
			return 0;
		}
		return 1;
	}
	return 0;
}

/* A constant node holding token t of its own document nd->kdoc. */
static void const_from_doc(struct parser *ps, struct node *nd, uint32_t t)
{
	nd->k = tokval(&ps->e->perm, &nd->kdoc, t);
	if (nd->k.t == VT_ARR) {
		nd->nelems = json_count(&nd->kdoc, t);
		nd->elems = xcalloc(nd->nelems ? nd->nelems : 1, sizeof *nd->elems);
		size_t k = 0;
		for (uint32_t i = t + 1; i < nd->kdoc.tok[t].next; i = nd->kdoc.tok[i].next)
			nd->elems[k++] = tokval(&ps->e->perm, &nd->kdoc, i);
		if (nd->nelems >= SET_MIN) {
			struct buf key = {0};
			nd->set = xcalloc(1, sizeof *nd->set);
			for (size_t i = 0; i < nd->nelems; i++)
				if (in_key(&nd->elems[i], &key))
					bmap_get(nd->set, key.p, key.len, NULL);
			buf_free(&key);
		}
	}
	set_kconv(ps, nd);
}

static int find_arg(const struct parser *ps, const char *name, size_t n)
{
	const struct expr_args *a = ps->env ? ps->env->args : NULL;
	if (!a)
		return -1;
	for (size_t i = a->n; i-- > 0;)
		if (strlen(a->name[i]) == n && memcmp(a->name[i], name, n) == 0)
			return (int)i;
	return -1;
}

/* Parse the JSON text of argument i into nd->kdoc; the token the
 * current $NAME token's path leads to (JNONE if missing), or -1 on error. */
static int64_t var_doc(struct parser *ps, struct node *nd)
{
	const struct token *t = &ps->tok;
	int i = find_arg(ps, ps->src + t->name_pos, t->name_len);
	if (i < 0) {
		fail(ps, t->pos, "$%.*s is not defined (use --arg or --argjson)",
		     (int)t->name_len, ps->src + t->name_pos);
		return -1;
	}
	struct jerr je;
	nd->ktext = xstrdup(ps->env->args->text[i]);
	if (json_parse(&nd->kdoc, nd->ktext, strlen(nd->ktext), JSON_ANY, &je) < 0) {
		fail(ps, t->pos, "$%.*s: %s", (int)t->name_len, ps->src + t->name_pos, je.msg);
		return -1;
	}
	return path_lookup(&nd->kdoc, 0, &ps->tpath);
}

static struct node *parse_var(struct parser *ps)
{
	struct node *nd = mknode(ps, N_CONST, ps->tok.pos);
	int64_t t = var_doc(ps, nd);
	if (t < 0)
		return NULL;
	const_from_doc(ps, nd, (uint32_t)t);
	return lex(ps) < 0 ? NULL : nd;
}

/* An array literal's elements as JSON text, for json_parse. */
static int array_json(struct parser *ps, struct buf *out)
{
	char what[64];
	if (++ps->depth > EXPR_MAX_DEPTH) {
		fail(ps, ps->tok.pos, "expression nested too deeply");
		return -1;
	}
	if (lex(ps) < 0) /* past '[' */
		return -1;
	buf_addc(out, '[');
	if (ps->tok.type == T_RBRACK)
		goto close;
	for (;;) {
		const struct token *t = &ps->tok;
		int nested = t->type == T_LBRACK;
		switch (t->type) {
		case T_MINUS:
			if (lex(ps) < 0)
				return -1;
			if (t->type != T_NUM) {
				fail(ps, t->pos, "array elements must be constants");
				return -1;
			}
			buf_addc(out, '-');
			/* fall through */
		case T_NUM:
		case T_TRUE:
		case T_FALSE:
		case T_NULL:
			buf_add(out, ps->src + t->pos, t->len);
			break;
		case T_STR:
			jw_string(out, ps->tstr.p ? ps->tstr.p : "", ps->tstr.len);
			break;
		case T_LBRACK:
			if (array_json(ps, out) < 0) /* moves past its ']' */
				return -1;
			break;
		case T_VAR: {
			struct node *tmp = mknode(ps, N_CONST, t->pos);
			int64_t tok = var_doc(ps, tmp);
			if (tok < 0)
				return -1;
			if (tok == JNONE)
				buf_adds(out, "null");
			else
				json_write_compact(&tmp->kdoc, (uint32_t)tok, out);
			break;
		}
		case T_END:
			fail(ps, t->pos, "unexpected end of expression");
			return -1;
		case T_PATH: case T_FIELD: case T_FUNC: case T_LPAREN: case T_NOT: case T_BANG:
			fail(ps, t->pos, "array elements must be constants");
			return -1;
		default:
			fail(ps, t->pos, "expected a value, found %s", tokname(ps, what, sizeof what));
			return -1;
		}
		if (!nested && lex(ps) < 0)
			return -1;
		if (ps->tok.type == T_COMMA) {
			buf_addc(out, ',');
			if (lex(ps) < 0)
				return -1;
			continue;
		}
		if (ps->tok.type == T_RBRACK)
			break;
		if (ps->tok.type == T_END)
			fail(ps, ps->tok.pos, "expected ']'");
		else
			fail(ps, ps->tok.pos, "expected ',' or ']', found %s", tokname(ps, what, sizeof what));
		return -1;
	}
close:
	buf_addc(out, ']');
	ps->depth--;
	return lex(ps); /* past ']' */
}

static struct node *parse_array(struct parser *ps)
{
	struct node *nd = mknode(ps, N_CONST, ps->tok.pos);
	struct buf js = {0};
	if (array_json(ps, &js) < 0) {
		buf_free(&js);
		return NULL;
	}
	struct jerr je;
	nd->ktext = js.p;
	if (json_parse(&nd->kdoc, nd->ktext, js.len, JSON_ANY, &je) < 0)
		return fail(ps, nd->col, "bad array: %s", je.msg);
	const_from_doc(ps, nd, 0);
	return nd;
}

static struct node *parse_path(struct parser *ps)
{
	const struct token *t = &ps->tok;
	struct node *nd = mknode(ps, N_PATH, t->pos);
	const struct expr_env *env = ps->env;
	if (!t->dot && env && env->aliases) {
		const struct pseg *s0 = &ps->tpath.seg[0];
		for (size_t i = 0; i < env->naliases; i++) {
			if (strlen(env->aliases[i]) == s0->keylen &&
			    memcmp(env->aliases[i], s0->key, s0->keylen) == 0) {
				nd->op = N_ALIAS;
				nd->alias = (int)i;
				path_append(&nd->path, &ps->tpath, 1);
				nd->path.text = xmemdup(ps->src + t->pos, t->len);
				nd->user = 1;
				return lex(ps) < 0 ? NULL : nd;
			}
		}
	}
	if (t->dot && ps->elem)
		nd->op = N_ELEM; /* .x inside any()/all(): of the element */
	path_take(&nd->path, &ps->tpath);
	free(nd->path.text);
	nd->path.text = xmemdup(ps->src + t->pos, t->len);
	nd->user = 1;
	return lex(ps) < 0 ? NULL : nd;
}

static struct node *parse_field(struct parser *ps)
{
	const struct token *t = &ps->tok;
	const char *name = ps->src + t->name_pos;
	int at = ev_at_find(name, t->name_len);
	if (at < 0)
		return fail(ps, t->pos, "unknown field '@%.*s' (known: " EV_AT_LIST ")", (int)t->name_len, name);
	int op = at == AT_TIME ? N_TIME : at == AT_LINE ? N_LINE : N_PATH;
	if (op != N_PATH && ps->tpath.n > 0)
		return fail(ps, t->pos + 1 + t->name_len, "@%.*s has no members", (int)t->name_len, name);
	struct node *nd = mknode(ps, op, t->pos);
	if (at < AT_SEQ)
		path_append(&nd->path, &ps->fm->f[at], 0);
	else if (at == AT_SEQ)
		path_push(&nd->path, "seq", 3);
	path_append(&nd->path, &ps->tpath, 0);
	return lex(ps) < 0 ? NULL : nd;
}

static const struct {
	const char *name;
	int op, nargs;
} functions[] = {
	{ "abs", N_ABS, 1 }, { "all", N_ALL, 2 }, { "any", N_ANY, 2 },
	{ "contains", N_CONTAINS, 2 }, { "date", N_DATE, 1 }, { "dur", N_DURFN, 1 },
	{ "endswith", N_ENDS, 2 }, { "fromjson", N_FROMJSON, 1 }, { "gsub", N_RGSUB, 3 },
	{ "has", N_HAS, 1 }, { "hour", N_HOUR, 1 }, { "join", N_JOIN, 2 }, { "len", N_LEN, 1 },
	{ "length", N_LEN, 1 }, { "lower", N_LOWER, 1 }, { "ltrim", N_LTRIM, 1 },
	{ "ltrimstr", N_LTRIMSTR, 2 }, { "now", N_NOWFN, 0 }, { "num", N_NUM, 1 },
	{ "rtrim", N_RTRIM, 1 }, { "rtrimstr", N_RTRIMSTR, 2 }, { "split", N_SPLIT, 2 },
	{ "startswith", N_STARTS, 2 }, { "str", N_STR, 1 }, { "strftime", N_STRFTIME, 2 },
	{ "sub", N_RSUB, 3 }, { "tojson", N_TOJSON, 1 }, { "tostring", N_TOSTRING, 1 },
	{ "trim", N_TRIM, 1 }, { "type", N_TYPE, 1 }, { "upper", N_UPPER, 1 },
};

/* jq functions that are written otherwise here, for the message. */
static const struct {
	const char *name, *hint;
} jq_hints[] = {
	{ "select", "an expression is already a condition: write COND, not select(COND)" },
	{ "map", "no map(); any(ARR, COND) and all(ARR, COND) look at elements" },
	{ "test", "write s =~ \"RE\"" },
	{ "ascii_downcase", "use lower(s)" },
	{ "ascii_upcase", "use upper(s)" },
	{ "tonumber", "use num(x)" },
	{ "keys", "use has(path)" },
	{ "empty", "no empty(); a condition that is not true filters the event out" },
};

#define MAX_ARGS 3

static struct node *compile_re(struct parser *ps, struct node *nd, const char *pat, size_t plen,
                               size_t pcol, int icase);

/* A constant string argument (a literal or $NAME), or NULL after fail. */
static const struct val *const_str_arg(struct parser *ps, const struct node *a, size_t col,
                                       const char *fn, const char *what)
{
	if (a->op != N_CONST || a->k.t != VT_STR)
		return fail(ps, col, "%s() takes %s as a string literal or $NAME", fn, what);
	return &a->k;
}

/* The replacement of sub()/gsub(): $N, ${N}, ${name} and $$, checked
 * against the pattern's groups now, so evaluation cannot meet a bad one. */
static int parse_repl(struct parser *ps, struct node *nd, const struct val *r, size_t col)
{
	const char *p = r->p;
	size_t n = r->n, i = 0, lit = 0, cap = 0;
	uint32_t ngroups = 0;
	pcre2_pattern_info(nd->re, PCRE2_INFO_CAPTURECOUNT, &ngroups);
	for (;;) {
		if (i < n && p[i] != '$') {
			i++;
			continue;
		}
		if (i > lit) {
			nd->repl = xgrow(nd->repl, &cap, nd->nrepl + 1, sizeof *nd->repl);
			nd->repl[nd->nrepl++] = (struct rpart){ -1, p + lit, i - lit };
		}
		if (i >= n)
			return 0;
		size_t st = i++;
		long g = -1;
		if (i < n && p[i] == '$') {
			nd->repl = xgrow(nd->repl, &cap, nd->nrepl + 1, sizeof *nd->repl);
			nd->repl[nd->nrepl++] = (struct rpart){ -1, p + i, 1 };
			lit = ++i;
			continue;
		}
		int brace = i < n && p[i] == '{';
		i += brace;
		size_t ns = i;
		while (i < n && is_identc((unsigned char)p[i]) && (brace || is_digit((unsigned char)p[i])))
			i++;
		size_t ne = i;
		if (ne == ns || (brace && (i >= n || p[i] != '}')))
			return fail(ps, col, "bad replacement at byte %zu: write $N, ${N}, ${name} or $$", st + 1), -1;
		i += brace;
		if (is_digit((unsigned char)p[ns])) {
			g = 0;
			for (size_t k = ns; k < ne && g <= 1000; k++)
				g = is_digit((unsigned char)p[k]) ? g * 10 + (p[k] - '0') : 100000;
			if (g > (long)ngroups)
				return fail(ps, col, "bad replacement at byte %zu: the pattern has no group %.*s", st + 1,
				            (int)(ne - ns), p + ns), -1;
		} else {
			char name[64];
			if (ne - ns >= sizeof name)
				return fail(ps, col, "bad replacement at byte %zu: group name too long", st + 1), -1;
			memcpy(name, p + ns, ne - ns);
			name[ne - ns] = '\0';
			int num = pcre2_substring_number_from_name(nd->re, (PCRE2_SPTR)name);
			if (num < 0)
				return fail(ps, col, "bad replacement at byte %zu: the pattern has no group '%s'", st + 1,
				            name), -1;
			g = num;
		}
		nd->repl = xgrow(nd->repl, &cap, nd->nrepl + 1, sizeof *nd->repl);
		nd->repl[nd->nrepl++] = (struct rpart){ (int)g, NULL, 0 };
		lit = i;
	}
}

/* The node of a call whose arguments are parsed; acol: where each
 * argument starts, for messages. */
static struct node *finish_call(struct parser *ps, const char *name, int op, size_t col,
                                struct node **arg, const size_t *acol)
{
	struct node *nd;
	const struct val *v;
	switch (op) {
	case N_NOWFN:
		nd = mknode(ps, N_CONST, col);
		nd->k = vtyped(VT_TIME, ps->e->now);
		return nd;
	case N_DURFN: {
		int64_t us;
		if (arg[0]->op != N_CONST || arg[0]->k.t != VT_STR)
			return fail(ps, acol[0], "dur() takes a string such as \"15m\"");
		if (sdur_parse(arg[0]->k.p, arg[0]->k.n, &us) < 0)
			return fail(ps, acol[0], "bad duration \"%.*s\"",
			            (int)(arg[0]->k.n > 40 ? 40 : arg[0]->k.n), arg[0]->k.p);
		nd = mknode(ps, N_CONST, col);
		nd->k = vtyped(VT_DUR, us);
		return nd;
	}
	case N_HAS:
		if (arg[0]->op != N_PATH && arg[0]->op != N_ALIAS && arg[0]->op != N_TIME &&
		    arg[0]->op != N_ELEM)
			return fail(ps, acol[0], "%s() takes a path", name);
		nd = mknode(ps, N_HAS, col);
		nd->alias = arg[0]->op == N_ELEM ? ALIAS_ELEM : arg[0]->alias;
		path_take(&nd->path, &arg[0]->path);
		nd->height = 1;
		return nd;
	case N_RSUB:
	case N_RGSUB:
		if (!(v = const_str_arg(ps, arg[1], acol[1], name, "its pattern")))
			return NULL;
		if (v->n > RE_MAX_LEN)
			return fail(ps, acol[1], "regular expression longer than %d bytes", RE_MAX_LEN);
		nd = mkop(ps, op, col, arg[0], NULL);
		if (!nd || !compile_re(ps, nd, v->p, v->n, acol[1], 0))
			return NULL;
		if (!(v = const_str_arg(ps, arg[2], acol[2], name, "its replacement")))
			return NULL;
		return parse_repl(ps, nd, v, acol[2]) < 0 ? NULL : nd;
	}
	struct node *nd2 = mkop(ps, op, col, arg[0], arg[1]);
	if (nd2 && arg[2]) {
		nd2->c = arg[2];
		if (arg[2]->height + 1 > nd2->height)
			nd2->height = arg[2]->height + 1;
	}
	return nd2;
}

static struct node *parse_call(struct parser *ps)
{
	const struct token t = ps->tok;
	const char *name = ps->src + t.name_pos;
	int fi = -1;
	for (size_t i = 0; i < sizeof functions / sizeof *functions; i++)
		if (strlen(functions[i].name) == t.name_len && memcmp(functions[i].name, name, t.name_len) == 0)
			fi = (int)i;
	if (fi < 0) {
		for (size_t i = 0; i < sizeof jq_hints / sizeof *jq_hints; i++)
			if (strlen(jq_hints[i].name) == t.name_len && memcmp(jq_hints[i].name, name, t.name_len) == 0)
				return fail(ps, t.pos, "unknown function '%.*s' (%s)", (int)t.name_len, name,
				            jq_hints[i].hint);
		return fail(ps, t.pos, "unknown function '%.*s'", (int)t.name_len, name);
	}
	if (++ps->depth > EXPR_MAX_DEPTH)
		return fail(ps, t.pos, "expression nested too deeply");
	if (lex(ps) < 0 || lex(ps) < 0) /* the name, '(' */
		return NULL;
	struct node *arg[MAX_ARGS] = { NULL, NULL, NULL };
	size_t acol[MAX_ARGS] = { 0, 0, 0 };
	int nargs = 0, op = functions[fi].op;
	char what[64];
	if (ps->tok.type != T_RPAREN) {
		for (;;) {
			size_t at = ps->tok.pos;
			/* any(ARR, COND): in COND, .x is of the element */
			int cond = (op == N_ANY || op == N_ALL) && nargs == 1, saved = ps->elem;
			if (cond)
				ps->elem = 1;
			struct node *a = parse_expr(ps);
			ps->elem = saved;
			if (!a)
				return NULL;
			if (nargs < MAX_ARGS) {
				arg[nargs] = a;
				acol[nargs] = at;
			}
			nargs++;
			if (ps->tok.type == T_COMMA) {
				if (lex(ps) < 0)
					return NULL;
				continue;
			}
			if (ps->tok.type == T_RPAREN)
				break;
			if (ps->tok.type == T_END)
				return fail(ps, ps->tok.pos, "expected ')'");
			return fail(ps, ps->tok.pos, "expected ',' or ')', found %s", tokname(ps, what, sizeof what));
		}
	}
	if (nargs != functions[fi].nargs)
		return fail(ps, t.pos, "%s() takes %d argument%s, not %d", functions[fi].name,
		            functions[fi].nargs, functions[fi].nargs == 1 ? "" : "s", nargs);
	if (lex(ps) < 0) /* ')' */
		return NULL;
	ps->depth--;
	return finish_call(ps, functions[fi].name, op, t.pos, arg, acol);
}

/* f(x).a.b, (x)["k"], f(x)[-1]: segments right after a ')' read the
 * value before them (N_GET). */
static struct node *parse_suffix(struct parser *ps, struct node *a, size_t start)
{
	const struct token *t = &ps->tok;
	if (!a || t->pos != ps->prev_end || !((t->type == T_PATH && t->dot) || t->type == T_LBRACK))
		return a;
	size_t k = t->pos;
	path_free(&ps->tpath);
	if (lex_path(ps, &k, 1) < 0)
		return NULL;
	struct node *nd = mkop(ps, N_GET, t->pos, a, NULL);
	if (!nd)
		return NULL;
	path_take(&nd->path, &ps->tpath);
	nd->path.text = xmemdup(ps->src + start, k - start);
	nd->user = 1;
	ps->i = k;
	return lex(ps) < 0 ? NULL : nd;
}

static struct node *parse_primary(struct parser *ps)
{
	const struct token *t = &ps->tok;
	struct node *nd;
	char what[64];
	switch (t->type) {
	case T_NUM:
		nd = number_const(ps, t->pos, 0);
		return lex(ps) < 0 ? NULL : nd;
	case T_STR:
		nd = mknode(ps, N_CONST, t->pos);
		nd->kstr = xmemdup(ps->tstr.p ? ps->tstr.p : "", ps->tstr.len);
		nd->k = vstr(nd->kstr, ps->tstr.len);
		set_kconv(ps, nd);
		return lex(ps) < 0 ? NULL : nd;
	case T_TRUE:
	case T_FALSE:
	case T_NULL:
		nd = mknode(ps, N_CONST, t->pos);
		nd->k = t->type == T_NULL ? vnull : vbool(t->type == T_TRUE);
		return lex(ps) < 0 ? NULL : nd;
	case T_LBRACK:
		return parse_array(ps);
	case T_LPAREN: {
		size_t start = t->pos;
		if (++ps->depth > EXPR_MAX_DEPTH)
			return fail(ps, t->pos, "expression nested too deeply");
		if (lex(ps) < 0)
			return NULL;
		nd = parse_expr(ps);
		if (!nd)
			return NULL;
		if (ps->tok.type != T_RPAREN) {
			if (ps->tok.type == T_END)
				return fail(ps, ps->tok.pos, "expected ')'");
			return fail(ps, ps->tok.pos, "expected ')', found %s", tokname(ps, what, sizeof what));
		}
		ps->depth--;
		return lex(ps) < 0 ? NULL : parse_suffix(ps, nd, start);
	}
	case T_PATH:
		return parse_path(ps);
	case T_FIELD:
		return parse_field(ps);
	case T_VAR:
		return parse_var(ps);
	case T_FUNC: {
		size_t start = t->pos;
		return parse_suffix(ps, parse_call(ps), start);
	}
	case T_END:
		return fail(ps, t->pos, "unexpected end of expression");
	case T_NOT:
		/* "a == not b": the word binds looser than comparisons */
		return fail(ps, t->pos, "expected a value, found 'not' (write '!x' or '(not x)' here)");
	}
	return fail(ps, t->pos, "expected a value, found %s", tokname(ps, what, sizeof what));
}

/*
 * Operator precedence, loosest first.  This table is the one place it is
 * written (evtools-expr(7) "Operators" shows it to users); parse_level()
 * climbs it.
 *
 *   P_COND    c ? a : b                    right to left; branches are whole
 *                                          expressions
 *   P_OR      || or                        one flat list
 *   P_AND     && and                       one flat list
 *   P_NOT     not (the word, prefix)       not a == b is not (a == b)
 *   P_CMP     == != < <= > >= in =~ =~*    do not chain
 *   P_COAL    ??                           left to right
 *   P_SUM     + -                          left to right
 *   P_PROD    * / %                        left to right
 *   P_UNARY   ! - (prefix)                 !a == b is (!a) == b
 *   P_PRIMARY literals, paths, @fields, $NAME, calls, ( expr )
 */
enum prec { P_COND, P_OR, P_AND, P_NOT, P_CMP, P_COAL, P_SUM, P_PROD, P_UNARY, P_PRIMARY };

static const struct opdef {
	int tok, op, prec, prefix;
} opdefs[] = {
	{ T_QUEST, N_COND, P_COND, 0 },
	{ T_OR, N_OR, P_OR, 0 },
	{ T_AND, N_AND, P_AND, 0 },
	{ T_NOT, N_NOT, P_NOT, 1 },
	{ T_EQ, N_EQ, P_CMP, 0 }, { T_NE, N_NE, P_CMP, 0 },
	{ T_LT, N_LT, P_CMP, 0 }, { T_LE, N_LE, P_CMP, 0 },
	{ T_GT, N_GT, P_CMP, 0 }, { T_GE, N_GE, P_CMP, 0 },
	{ T_IN, N_IN, P_CMP, 0 }, { T_MATCH, N_MATCH, P_CMP, 0 }, { T_IMATCH, N_MATCH, P_CMP, 0 },
	{ T_COAL, N_COAL, P_COAL, 0 },
	{ T_PLUS, N_ADD, P_SUM, 0 }, { T_MINUS, N_SUB, P_SUM, 0 },
	{ T_STAR, N_MUL, P_PROD, 0 }, { T_SLASH, N_DIV, P_PROD, 0 }, { T_PCT, N_MOD, P_PROD, 0 },
	{ T_BANG, N_NOT, P_UNARY, 1 }, { T_MINUS, N_NEG, P_UNARY, 1 },
};

/* The operator token tt is at level prec (as a prefix or not), or NULL. */
static const struct opdef *opdef_at(int tt, int prec, int prefix)
{
	for (size_t i = 0; i < sizeof opdefs / sizeof *opdefs; i++)
		if (opdefs[i].tok == tt && opdefs[i].prec == prec && opdefs[i].prefix == prefix)
			return &opdefs[i];
	return NULL;
}

static struct node *parse_level(struct parser *ps, int prec);

static struct node *parse_expr(struct parser *ps)
{
	return parse_level(ps, P_COND);
}

/* not x, !x, -x: the operand is parsed at the operator's own level. */
static struct node *parse_prefix(struct parser *ps, const struct opdef *d)
{
	size_t col = ps->tok.pos;
	if (++ps->depth > EXPR_MAX_DEPTH)
		return fail(ps, col, "expression nested too deeply");
	if (lex(ps) < 0)
		return NULL;
	struct node *nd;
	if (d->op == N_NEG && ps->tok.type == T_NUM) {
		/* a negative literal, so -9223372036854775808 stays exact */
		nd = number_const(ps, col, 1);
		if (lex(ps) < 0)
			return NULL;
	} else {
		struct node *a = parse_level(ps, d->prec);
		if (!a)
			return NULL;
		nd = mkop(ps, d->op, col, a, NULL);
	}
	ps->depth--;
	return nd;
}

/* c ? a : b */
static struct node *parse_cond(struct parser *ps)
{
	char what[64];
	struct node *c = parse_level(ps, P_COND + 1);
	if (!c || ps->tok.type != T_QUEST)
		return c;
	size_t col = ps->tok.pos;
	if (++ps->depth > EXPR_MAX_DEPTH)
		return fail(ps, col, "expression nested too deeply");
	if (lex(ps) < 0)
		return NULL;
	struct node *a = parse_level(ps, P_COND);
	if (!a)
		return NULL;
	if (ps->tok.type != T_COLON) {
		if (ps->tok.type == T_END)
			return fail(ps, ps->tok.pos, "expected ':'");
		return fail(ps, ps->tok.pos, "expected ':', found %s", tokname(ps, what, sizeof what));
	}
	if (lex(ps) < 0)
		return NULL;
	struct node *b = parse_level(ps, P_COND);
	if (!b)
		return NULL;
	ps->depth--;
	struct node *nd = mkop(ps, N_COND, col, c, a);
	if (!nd)
		return NULL;
	nd->c = b;
	if (b->height + 1 > nd->height)
		nd->height = b->height + 1;
	if (nd->height > EXPR_MAX_DEPTH)
		return fail(ps, col, "expression nested too deeply");
	return nd;
}

/* a || b || c (or &&) as one node with a list of operands. */
static struct node *parse_list(struct parser *ps, int prec)
{
	struct node *a = parse_level(ps, prec + 1);
	const struct opdef *d;
	if (!a || !(d = opdef_at(ps->tok.type, prec, 0)))
		return a;
	struct node *nd = mknode(ps, d->op, ps->tok.pos);
	size_t cap = 0;
	unsigned h = 0;
	for (;;) {
		nd->kids = xgrow(nd->kids, &cap, nd->nkids + 1, sizeof *nd->kids);
		nd->kids[nd->nkids++] = a;
		if (a->height > h)
			h = a->height;
		if (ps->tok.type != d->tok)
			break;
		if (lex(ps) < 0)
			return NULL;
		a = parse_level(ps, prec + 1);
		if (!a)
			return NULL;
	}
	nd->height = h + 1;
	if (nd->height > EXPR_MAX_DEPTH)
		return fail(ps, nd->col, "expression nested too deeply");
	return nd;
}

/* The pattern after =~ or =~*: a string literal or $NAME, compiled now
 * (PCRE2 with UTF, UCP, DOTALL and DOLLAR_ENDONLY; caseless for =~*),
 * and JIT-compiled where the platform allows. */
static struct node *parse_match(struct parser *ps, struct node *a, size_t col, int icase)
{
	const struct token *t = &ps->tok;
	size_t pcol = t->pos;
	const char *pat;
	size_t plen;
	struct node *var = NULL;
	if (t->type == T_STR) {
		pat = ps->tstr.p ? ps->tstr.p : "";
		plen = ps->tstr.len;
	} else if (t->type == T_VAR) {
		size_t nlen = t->name_len;
		const char *name = ps->src + t->name_pos;
		var = parse_var(ps);
		if (!var)
			return NULL;
		if (var->k.t != VT_STR)
			return fail(ps, pcol, "$%.*s is not a string", (int)nlen, name);
		pat = var->k.p;
		plen = var->k.n;
	} else {
		return fail(ps, pcol, "expected a string or $NAME after '%s'", icase ? "=~*" : "=~");
	}
	if (plen > RE_MAX_LEN)
		return fail(ps, pcol, "regular expression longer than %d bytes", RE_MAX_LEN);
	struct node *nd = mkop(ps, N_MATCH, col, a, NULL);
	if (!nd || !compile_re(ps, nd, pat, plen, pcol, icase))
		return NULL;
	if (!var && lex(ps) < 0)
		return NULL;
	return nd;
}

/* Compile the pattern into nd (PCRE2 with UTF, UCP, DOTALL and
 * DOLLAR_ENDONLY; caseless when icase), JIT-compiled where the platform
 * allows.  nd, or NULL after fail. */
static struct node *compile_re(struct parser *ps, struct node *nd, const char *pat, size_t plen,
                               size_t pcol, int icase)
{
	uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY |
	                PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C | (icase ? PCRE2_CASELESS : 0);
	int ec;
	PCRE2_SIZE eo;
	nd->re = pcre2_compile((PCRE2_SPTR)(plen ? pat : ""), plen, opts, &ec, &eo, NULL);
	if (!nd->re) {
		PCRE2_UCHAR msg[160];
		if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
			snprintf((char *)msg, sizeof msg, "error %d", ec);
		return fail(ps, pcol, "bad regular expression at byte %zu of the pattern: %s",
		            (size_t)eo + 1, (char *)msg);
	}
	/* when the platform has no JIT (or refuses executable memory), the
	 * interpreter runs the same pattern under the same limits */
	(void)pcre2_jit_compile(nd->re, PCRE2_JIT_COMPLETE);
	nd->md = nd->op == N_MATCH ? pcre2_match_data_create(1, NULL)
	                           : pcre2_match_data_create_from_pattern(nd->re, NULL);
	if (!ps->e->mctx)
		ps->e->mctx = pcre2_match_context_create(NULL);
	if (!nd->md || !ps->e->mctx)
		ev_die(EV_IO, "out of memory (regular expression)");
	return nd;
}

/* a OP b, one comparison: comparisons do not chain. */
static struct node *parse_cmp(struct parser *ps)
{
	size_t ls = ps->tok.pos;
	struct node *a = parse_level(ps, P_CMP + 1);
	const struct opdef *d;
	if (!a || !(d = opdef_at(ps->tok.type, P_CMP, 0)))
		return a;
	size_t le = ps->prev_end, col = ps->tok.pos;
	int tt = ps->tok.type;
	if (lex(ps) < 0)
		return NULL;
	struct node *nd;
	if (d->op == N_MATCH) {
		nd = parse_match(ps, a, col, tt == T_IMATCH);
	} else {
		size_t rs = ps->tok.pos;
		struct node *b = parse_level(ps, P_CMP + 1);
		nd = b ? mkop(ps, d->op, col, a, b) : NULL;
		if (nd) {
			nd->ls = ls;
			nd->le = le;
			nd->rs = rs;
			nd->re_ = ps->prev_end;
		}
	}
	if (nd && opdef_at(ps->tok.type, P_CMP, 0))
		return fail(ps, ps->tok.pos, "comparison operators do not chain");
	return nd;
}

/* An expression at level prec of the table above. */
static struct node *parse_level(struct parser *ps, int prec)
{
	if (prec == P_PRIMARY)
		return parse_primary(ps);
	const struct opdef *d = opdef_at(ps->tok.type, prec, 1);
	if (d)
		return parse_prefix(ps, d);
	switch (prec) {
	case P_COND:
		return parse_cond(ps);
	case P_OR:
	case P_AND:
		return parse_list(ps, prec);
	case P_CMP:
		return parse_cmp(ps);
	}
	struct node *a = parse_level(ps, prec + 1);
	while (a && (d = opdef_at(ps->tok.type, prec, 0))) {
		size_t col = ps->tok.pos;
		if (lex(ps) < 0)
			return NULL;
		struct node *b = parse_level(ps, prec + 1);
		if (b && d->op == N_COAL && (a->op == N_PATH || a->op == N_ALIAS))
			a->user = 0; /* "x ?? default": a missing x is expected */
		a = b ? mkop(ps, d->op, col, a, b) : NULL;
	}
	return a;
}

/* ---- evaluation ----------------------------------------------------- */

static struct val eval(struct expr *e, const struct node *n, const struct expr_input *in);

/* Compare an int64 with a double exactly: -1, 0, 1. */
static int cmp_int_dbl(int64_t i, double d)
{
	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	int64_t t = (int64_t)d; /* truncated, exact in range */
	if (i != t)
		return i < t ? -1 : 1;
	double frac = d - (double)t; /* exact: |d| < 2^53 or frac == 0 */
	return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

/* Numbers a and b: 0 with *r = -1/0/1, or -1 when unordered (NaN).
 * Two int64 compare directly; otherwise two numbers that have their
 * text (written in the input or the expression) compare exactly by it,
 * and so does a computed integer against such a text; the rest (a
 * computed double) by value. */
static int num_cmp(const struct val *a, const struct val *b, int *r)
{
	if (a->t == VT_INT && b->t == VT_INT) {
		*r = (a->i > b->i) - (a->i < b->i);
		return 0;
	}
	if (a->p && b->p) {
		*r = json_num_cmp(a->p, a->n, b->p, b->n);
		return 0;
	}
	if ((a->t == VT_INT && b->p) || (b->t == VT_INT && a->p)) {
		char tx[24];
		const struct val *iv = a->t == VT_INT ? a : b, *tv = a->t == VT_INT ? b : a;
		int tn = snprintf(tx, sizeof tx, "%lld", (long long)iv->i);
		int c = json_num_cmp(tx, (size_t)tn, tv->p, tv->n);
		*r = iv == a ? c : -c;
		return 0;
	}
	if (a->t == VT_DBL && isnan(a->d))
		return -1;
	if (b->t == VT_DBL && isnan(b->d))
		return -1;
	if (a->t == VT_INT)
		*r = cmp_int_dbl(a->i, b->d);
	else if (b->t == VT_INT)
		*r = -cmp_int_dbl(b->i, a->d);
	else
		*r = (a->d > b->d) - (a->d < b->d);
	return 0;
}

/* A number's text: as written, or formatted. */
static void num_text(struct expr *e, const struct val *v, const char **p, size_t *n)
{
	if (v->p) {
		*p = v->p;
		*n = v->n;
		return;
	}
	char *mem = arena_alloc(&e->scratch, 48);
	struct buf b = fixed_buf(mem, 48);
	if (v->t == VT_INT)
		jw_int(&b, v->i);
	else
		jw_double(&b, v->d);
	*p = mem;
	*n = b.len;
}

/* A value read as a time: a time, a string as in options, a number as
 * an epoch.  0 or -1. */
static int to_time(struct expr *e, const struct val *v, int64_t *us)
{
	if (v->t == VT_TIME) {
		*us = v->i;
		return 0;
	}
	if (v->kc) {
		*us = v->kc->time;
		return v->kc->time_ok ? 0 : -1;
	}
	if (v->t == VT_STR) {
		if (memchr(v->p, '\0', v->n))
			return -1;
		char *z = arena_alloc(&e->scratch, v->n + 1);
		memcpy(z, v->p, v->n);
		z[v->n] = '\0';
		return time_parse_option(z, e->now, us);
	}
	if (is_num(v)) {
		const char *p;
		size_t n;
		num_text(e, v, &p, &n);
		return time_from_epoch_text(p, n, e->unit, us);
	}
	return -1;
}

/* A value read as a duration: a duration, a string such as "15m" or
 * "-1h", a number as seconds.  0 or -1. */
static int to_dur(struct expr *e, const struct val *v, int64_t *us)
{
	if (v->t == VT_DUR) {
		*us = v->i;
		return 0;
	}
	if (v->kc) {
		*us = v->kc->dur;
		return v->kc->dur_ok ? 0 : -1;
	}
	if (v->t == VT_STR)
		return sdur_parse(v->p, v->n, us);
	if (is_num(v)) {
		const char *p;
		size_t n;
		num_text(e, v, &p, &n);
		return sdur_parse(p, n, us);
	}
	return -1;
}

/* Times and durations against each other or against strings and
 * numbers: 0 with *r, or -1 when not comparable. */
static int temporal_cmp(struct expr *e, const struct val *a, const struct val *b, int *r)
{
	int64_t x, y;
	int ok;
	if (a->t == VT_TIME || b->t == VT_TIME) {
		if ((a->t != VT_TIME && a->t != VT_STR && !is_num(a)) ||
		    (b->t != VT_TIME && b->t != VT_STR && !is_num(b)))
			return -1;
		ok = to_time(e, a, &x) == 0 && to_time(e, b, &y) == 0;
	} else {
		if ((a->t != VT_DUR && a->t != VT_STR && !is_num(a)) ||
		    (b->t != VT_DUR && b->t != VT_STR && !is_num(b)))
			return -1;
		ok = to_dur(e, a, &x) == 0 && to_dur(e, b, &y) == 0;
	}
	if (!ok)
		return -1;
	*r = (x > y) - (x < y);
	return 0;
}

static int val_eq(struct expr *e, const struct val *a, const struct val *b)
{
	int r;
	if (is_num(a) && is_num(b))
		return num_cmp(a, b, &r) == 0 && r == 0;
	if (a->t == b->t) {
		switch (a->t) {
		case VT_NULL:
			return 1;
		case VT_BOOL: case VT_TIME: case VT_DUR:
			return a->i == b->i;
		case VT_STR:
			return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
		case VT_ARR: case VT_OBJ:
			return json_values_equal(a->doc, a->tok, b->doc, b->tok);
		}
		return 0;
	}
	if (a->t == VT_TIME || b->t == VT_TIME || a->t == VT_DUR || b->t == VT_DUR)
		return temporal_cmp(e, a, b, &r) == 0 && r == 0;
	return 0;
}

/* Ordering: 0 with *r, or -1 when the two do not compare. */
static int val_cmp(struct expr *e, const struct val *a, const struct val *b, int *r)
{
	if (is_num(a) && is_num(b))
		return num_cmp(a, b, r);
	if (a->t == VT_STR && b->t == VT_STR) {
		int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);
		*r = c ? (c < 0 ? -1 : 1) : (a->n > b->n) - (a->n < b->n);
		return 0;
	}
	if (a->t == VT_TIME || b->t == VT_TIME || a->t == VT_DUR || b->t == VT_DUR)
		return temporal_cmp(e, a, b, r);
	return -1;
}

static double to_dbl(const struct val *v)
{
	return v->t == VT_INT ? (double)v->i : v->d;
}

static struct val temporal_arith(int op, const struct val *a, const struct val *b)
{
	int64_t r;
	int at = a->t, bt = b->t;
	if (op == N_ADD) {
		if (at == VT_TIME && bt == VT_DUR && !__builtin_add_overflow(a->i, b->i, &r))
			return vtyped(VT_TIME, r);
		if (at == VT_DUR && bt == VT_TIME && !__builtin_add_overflow(a->i, b->i, &r))
			return vtyped(VT_TIME, r);
		if (at == VT_DUR && bt == VT_DUR && !__builtin_add_overflow(a->i, b->i, &r))
			return vtyped(VT_DUR, r);
	} else if (op == N_SUB) {
		if (at == VT_TIME && bt == VT_DUR && !__builtin_sub_overflow(a->i, b->i, &r))
			return vtyped(VT_TIME, r);
		if (at == VT_TIME && bt == VT_TIME && !__builtin_sub_overflow(a->i, b->i, &r))
			return vtyped(VT_DUR, r);
		if (at == VT_DUR && bt == VT_DUR && !__builtin_sub_overflow(a->i, b->i, &r))
			return vtyped(VT_DUR, r);
	}
	return vnull;
}

static struct val arith(struct expr *e, int op, const struct val *a, const struct val *b)
{
	if (op == N_ADD && a->t == VT_STR && b->t == VT_STR) {
		/* "a" + "b" joins, as in jq */
		char *mem = arena_alloc(&e->scratch, a->n + b->n);
		if (a->n)
			memcpy(mem, a->p, a->n);
		if (b->n)
			memcpy(mem + a->n, b->p, b->n);
		return vstr(mem, a->n + b->n);
	}
	if (a->t == VT_TIME || a->t == VT_DUR || b->t == VT_TIME || b->t == VT_DUR)
		return temporal_arith(op, a, b);
	if (!is_num(a) || !is_num(b))
		return vnull;
	if (a->t == VT_INT && b->t == VT_INT) {
		int64_t x = a->i, y = b->i, r;
		switch (op) {
		case N_ADD:
			if (!__builtin_add_overflow(x, y, &r))
				return vint(r);
			break;
		case N_SUB:
			if (!__builtin_sub_overflow(x, y, &r))
				return vint(r);
			break;
		case N_MUL:
			if (!__builtin_mul_overflow(x, y, &r))
				return vint(r);
			break;
		case N_DIV:
			if (y == 0)
				return vnull;
			if (!(x == INT64_MIN && y == -1) && x % y == 0)
				return vint(x / y); /* exact quotient */
			break;
		case N_MOD:
			if (y == 0)
				return vnull;
			return vint(y == -1 ? 0 : x % y);
		}
	}
	double x = to_dbl(a), y = to_dbl(b), r;
	switch (op) {
	case N_ADD: r = x + y; break;
	case N_SUB: r = x - y; break;
	case N_MUL: r = x * y; break;
	case N_DIV:
		if (y == 0)
			return vnull;
		r = x / y;
		break;
	default:
		if (y == 0)
			return vnull;
		r = fmod(x, y);
		break;
	}
	return isnan(r) ? vnull : vdbl(r);
}

static struct val negate(const struct val *a)
{
	switch (a->t) {
	case VT_INT:
		return a->i == INT64_MIN ? vdbl(9223372036854775808.0) : vint(-a->i);
	case VT_DBL:
		return vdbl(-a->d);
	case VT_DUR:
		return a->i == INT64_MIN ? vnull : vtyped(VT_DUR, -a->i);
	}
	return vnull;
}

static int val_in(struct expr *e, const struct val *x, const struct node *arr, const struct expr_input *in)
{
	if (arr->op == N_CONST) {
		if (arr->k.t != VT_ARR)
			return 0;
		if (arr->set && in_key(x, &e->kbuf))
			return bmap_find(arr->set, e->kbuf.p, e->kbuf.len) != NULL;
		for (size_t i = 0; i < arr->nelems; i++)
			if (val_eq(e, x, &arr->elems[i]))
				return 1;
		return 0;
	}
	struct val a = eval(e, arr, in);
	if (a.t != VT_ARR)
		return 0;
	for (uint32_t i = a.tok + 1; i < a.doc->tok[a.tok].next; i = a.doc->tok[i].next) {
		struct val el = tokval(&e->scratch, a.doc, i);
		if (val_eq(e, x, &el))
			return 1;
	}
	return 0;
}

/* The evaluation fails: why, with the option and the column, for the
 * tool's rejection of the event. */
static void eval_fail(struct expr *e, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void eval_fail(struct expr *e, size_t col, const char *fmt, ...)
{
	if (e->failed)
		return;
	e->failed = 1;
	int n = snprintf(e->reason, sizeof e->reason, "%s%scolumn %zu: ", e->what ? e->what : "",
	                 e->what ? ": " : "", col + 1);
	if (n < 0 || (size_t)n >= sizeof e->reason)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->reason + n, sizeof e->reason - (size_t)n, fmt, ap);
	va_end(ap);
}

static uint32_t clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Does the pattern of n match somewhere in v?  1, 0, or -1 after
 * eval_fail when the match gave up.  The limits grow with the subject,
 * so a match costs at most in proportion to it: match and depth limits
 * of 1000 + 100 per byte, a heap limit of 1 MiB + 64 bytes per byte
 * (PCRE2 counts it in KiB).  The JIT has its own stack; when that runs
 * out, the interpreter tries again under the same limits. */
static int re_run(struct expr *e, const struct node *n, const struct val *v, size_t start, uint32_t opts)
{
	uint64_t len = v->n;
	uint32_t lim = clamp32(1000 + 100 * len);
	pcre2_set_match_limit(e->mctx, lim);
	pcre2_set_depth_limit(e->mctx, lim);
	pcre2_set_heap_limit(e->mctx, clamp32(1024 + (64 * len + 1023) / 1024));
	PCRE2_SPTR p = (PCRE2_SPTR)(v->p ? v->p : "");
	int rc = pcre2_match(n->re, p, v->n, start, opts, n->md, e->mctx);
	if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
		rc = pcre2_match(n->re, p, v->n, start, opts | PCRE2_NO_JIT, n->md, e->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	PCRE2_UCHAR msg[120];
	if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
		snprintf((char *)msg, sizeof msg, "error %d", rc);
	eval_fail(e, n->col, "regular expression: %s on a string of %zu bytes", (char *)msg, v->n);
	return -1;
}

static int re_test(struct expr *e, const struct node *n, const struct val *v)
{
	return re_run(e, n, v, 0, 0);
}

/* Source bytes [from, to) on one line: runs of blanks become one space. */
static void src_line(const struct expr *e, size_t from, size_t to, struct buf *out)
{
	int blank = 0;
	for (size_t i = from; i < to; i++) {
		char c = e->src[i];
		if (is_space((unsigned char)c)) {
			blank = 1;
			continue;
		}
		if (blank)
			buf_addc(out, ' ');
		blank = 0;
		buf_addc(out, c);
	}
}

/* An ordering met a string and a number (false): say so, once for this
 * comparison of the source, pointing at num() on the string side. */
static void warn_str_num(struct expr *e, struct node *n, int left_is_str, const struct expr_input *in)
{
	struct buf msg = {0};
	n->warned = 1;
	if (e->what) {
		buf_adds(&msg, e->what);
		buf_adds(&msg, ": ");
	}
	char col[40];
	snprintf(col, sizeof col, "column %zu: ", n->col + 1);
	buf_adds(&msg, col);
	src_line(e, n->ls, n->re_, &msg);
	buf_adds(&msg, " compares a string with a number (false); use num(");
	if (left_is_str)
		src_line(e, n->ls, n->le, &msg);
	else
		src_line(e, n->rs, n->re_, &msg);
	buf_adds(&msg, ") to compare as numbers");
	if (in->warn) {
		in->warn(in->warn_arg, msg.p);
	} else {
		if (ev_out)
			wfile_flush(ev_out); /* keep stdout and stderr in order */
		ev_warn("warning: %s", msg.p);
	}
	buf_free(&msg);
}

/* One code point at p (valid UTF-8 assumed; a stray byte is itself). */
static size_t utf8_next(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned c = p[0];
	size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (c < 0x80 || c < 0xC2 || c > 0xF4 || len > n) {
		*cp = c < 0x80 ? c : 0xFFFFFFFFu;
		return 1;
	}
	unsigned v = c & (0x7F >> len);
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xC0) != 0x80) {
			*cp = 0xFFFFFFFFu;
			return 1;
		}
		v = v << 6 | (p[k] & 0x3F);
	}
	*cp = v;
	return len;
}

static struct val casemap(struct expr *e, const struct val *v, int upper)
{
	/* ASCII maps to ASCII; any other character is two bytes or more
	 * and maps to at most four, so twice the length is enough */
	char *out = arena_alloc(&e->scratch, v->n * 2 + 1);
	struct buf b = fixed_buf(out, v->n * 2 + 1);
	const unsigned char *p = (const unsigned char *)v->p;
	size_t i = 0;
	while (i < v->n) {
		unsigned c = p[i];
		if (c < 0x80) {
			if (upper && c >= 'a' && c <= 'z')
				c -= 32;
			else if (!upper && c >= 'A' && c <= 'Z')
				c += 32;
			out[b.len++] = (char)c;
			i++;
			continue;
		}
		unsigned cp;
		size_t len = utf8_next(p + i, v->n - i, &cp);
		unsigned m = cp;
		if (cp != 0xFFFFFFFFu)
			m = (unsigned)(upper ? towupper((wint_t)cp) : towlower((wint_t)cp));
		if (cp == 0xFFFFFFFFu || m == 0 || m > 0x10FFFF || (m >= 0xD800 && m <= 0xDFFF))
			buf_add(&b, p + i, len); /* keep it: stay valid UTF-8 */
		else
			utf8_put(&b, m);
		i += len;
	}
	return vstr(out, b.len);
}

static size_t utf8_count(const char *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)p[i] & 0xC0) != 0x80;
	return k;
}

/* Duration text in the form dur() reads: "1h30m", "250ms", "-5s", "0s". */
static size_t dur_format(int64_t us, char *out)
{
	static const struct {
		uint64_t us;
		const char *unit;
	} units[] = {
		{ UINT64_C(86400000000), "d" }, { UINT64_C(3600000000), "h" }, { UINT64_C(60000000), "m" },
		{ UINT64_C(1000000), "s" }, { UINT64_C(1000), "ms" }, { 1, "us" },
	};
	char *o = out;
	uint64_t u = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
	if (u == 0)
		return (size_t)sprintf(out, "0s");
	if (us < 0)
		*o++ = '-';
	for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
		if (u >= units[i].us) {
			o += sprintf(o, "%llu%s", (unsigned long long)(u / units[i].us), units[i].unit);
			u %= units[i].us;
		}
	}
	return (size_t)(o - out);
}

static struct val to_str(struct expr *e, const struct val *v)
{
	char *mem;
	size_t n;
	switch (v->t) {
	case VT_STR:
		return *v;
	case VT_BOOL:
		return v->i ? vstr("true", 4) : vstr("false", 5);
	case VT_INT:
	case VT_DBL: {
		if (v->t == VT_DBL && !v->p && !isfinite(v->d))
			return vnull;
		const char *p;
		num_text(e, v, &p, &n);
		return vstr(p, n);
	}
	case VT_TIME:
		mem = arena_alloc(&e->scratch, 40);
		n = time_format(v->i, mem);
		return vstr(mem, n);
	case VT_DUR:
		mem = arena_alloc(&e->scratch, 64);
		n = dur_format(v->i, mem);
		return vstr(mem, n);
	case VT_ARR:
	case VT_OBJ: {
		size_t cap = v->doc->tok[v->tok].len + 1;
		mem = arena_alloc(&e->scratch, cap);
		struct buf b = fixed_buf(mem, cap);
		json_write_compact(v->doc, v->tok, &b);
		return vstr(mem, b.len);
	}
	}
	return vnull;
}

/* A string holding exactly a JSON number. */
static int is_json_number(const char *p, size_t n)
{
	size_t i = 0;
	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else if (i < n && p[i] >= '1' && p[i] <= '9')
		while (i < n && is_digit((unsigned char)p[i]))
			i++;
	else
		return 0;
	if (i < n && p[i] == '.') {
		if (++i >= n || !is_digit((unsigned char)p[i]))
			return 0;
		while (i < n && is_digit((unsigned char)p[i]))
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= n || !is_digit((unsigned char)p[i]))
			return 0;
		while (i < n && is_digit((unsigned char)p[i]))
			i++;
	}
	return i == n;
}

static struct val to_num(const struct val *v)
{
	if (is_num(v))
		return *v;
	if (v->t != VT_STR || !is_json_number(v->p, v->n))
		return vnull;
	struct val r = { .t = VT_INT };
	r.p = v->p;
	r.n = v->n;
	r.t = json_num(v->p, v->n, &r.i, &r.d) ? VT_INT : VT_DBL;
	return r;
}

/* 1 if needle[0..m) occurs in hay[0..n) (memmem is not POSIX). */
static int find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
	if (m == 0)
		return 1;
	const char *p = hay, *end = hay + n;
	while ((size_t)(end - p) >= m) {
		p = memchr(p, needle[0], (size_t)(end - p) - m + 1);
		if (!p)
			return 0;
		if (memcmp(p, needle, m) == 0)
			return 1;
		p++;
	}
	return 0;
}

static const struct jdoc *alias_doc(const struct expr_input *in, int alias)
{
	return in->alias_doc ? in->alias_doc[alias] : NULL;
}

static int has_path(const struct expr *e, const struct node *n, const struct expr_input *in)
{
	if (n->alias == ALIAS_ELEM) {
		const struct val *v = &e->elem;
		if (n->path.n == 0)
			return 1;
		return (v->t == VT_ARR || v->t == VT_OBJ) && path_lookup(v->doc, v->tok, &n->path) != JNONE;
	}
	const struct jdoc *d = n->alias >= 0 ? alias_doc(in, n->alias) : in->doc;
	return d && path_lookup(d, 0, &n->path) != JNONE;
}

/* Value at path p below v (an array or object), or null. */
static struct val val_get(struct expr *e, const struct val *v, const struct path *p)
{
	if (p->n == 0)
		return *v;
	if (v->t != VT_ARR && v->t != VT_OBJ)
		return vnull;
	return tokval(&e->scratch, v->doc, path_lookup(v->doc, v->tok, p));
}

/* A copy of b's bytes in the scratch arena, as a string value. */
static struct val arena_str(struct expr *e, const struct buf *b)
{
	char *mem = arena_alloc(&e->scratch, b->len ? b->len : 1);
	if (b->len)
		memcpy(mem, b->p, b->len);
	return vstr(mem, b->len);
}

/* The document of node n's result, parsed from n->rbuf: its root. */
static struct val rdoc_val(struct expr *e, struct node *n)
{
	struct jerr je;
	if (json_parse(&n->rdoc, n->rbuf.p, n->rbuf.len, JSON_ANY, &je) < 0)
		return vnull; /* not reached: rbuf holds JSON we wrote */
	return tokval(&e->scratch, &n->rdoc, 0);
}

/* any(ARR, COND), all(ARR, COND): COND for each element, with .x of
 * the element.  Not an array: false for both; all() of [] is true. */
static struct val quantify(struct expr *e, const struct node *n, const struct expr_input *in)
{
	struct val a = eval(e, n->a, in), saved = e->elem;
	if (a.t != VT_ARR)
		return vbool(0);
	int any = n->op == N_ANY, r = !any;
	for (uint32_t i = a.tok + 1; i < a.doc->tok[a.tok].next && !e->failed; i = a.doc->tok[i].next) {
		e->elem = tokval(&e->scratch, a.doc, i);
		struct val c = eval(e, n->b, in);
		if (is_true(&c) == any) {
			r = any;
			break;
		}
	}
	e->elem = saved;
	return vbool(r);
}

/* split(s, sep): the pieces of s between occurrences of sep (jq's
 * meaning: "" gives [], sep "" gives the characters). */
static struct val split_str(struct expr *e, struct node *n, const struct val *s, const struct val *sep)
{
	struct buf *b = &n->rbuf;
	buf_reset(b);
	buf_addc(b, '[');
	size_t i = 0, piece = 0;
	while (i < s->n) {
		size_t adv;
		if (sep->n == 0) {
			unsigned cp;
			adv = utf8_next((const unsigned char *)s->p + i, s->n - i, &cp);
			if (b->len > 1)
				buf_addc(b, ',');
			jw_string(b, s->p + i, adv);
			i += adv;
			continue;
		}
		if (sep->n <= s->n - i && memcmp(s->p + i, sep->p, sep->n) == 0) {
			if (b->len > 1)
				buf_addc(b, ',');
			jw_string(b, s->p + piece, i - piece);
			i += sep->n;
			piece = i;
			continue;
		}
		i++;
	}
	if (sep->n && s->n) {
		if (b->len > 1)
			buf_addc(b, ',');
		jw_string(b, s->p + piece, s->n - piece);
	}
	buf_addc(b, ']');
	return rdoc_val(e, n);
}

/* join(arr, sep): strings as they are, numbers and booleans as their
 * text, null as ""; an array or object in arr makes it null (jq). */
static struct val join_arr(struct expr *e, struct node *n, const struct val *a, const struct val *sep)
{
	struct buf *b = &n->rbuf;
	buf_reset(b);
	int first = 1;
	for (uint32_t i = a->tok + 1; i < a->doc->tok[a->tok].next; i = a->doc->tok[i].next) {
		struct val el = tokval(&e->scratch, a->doc, i);
		if (!first)
			buf_add(b, sep->p, sep->n);
		first = 0;
		if (el.t == VT_ARR || el.t == VT_OBJ)
			return vnull;
		if (el.t == VT_NULL)
			continue;
		el = to_str(e, &el);
		buf_add(b, el.p, el.n);
	}
	return arena_str(e, b);
}

/* sub()/gsub(): the first or every match of n's pattern in s replaced;
 * the result may be at most 1 MiB + 64 bytes per byte of s. */
static struct val re_sub(struct expr *e, struct node *n, const struct val *s, int global)
{
	struct buf *b = &n->rbuf;
	uint64_t cap = (UINT64_C(1) << 20) + 64 * (uint64_t)s->n;
	size_t pos = 0, start = 0;
	uint32_t opts = 0;
	buf_reset(b);
	for (;;) {
		int r = re_run(e, n, s, start, opts);
		if (r < 0)
			return vnull;
		if (r == 0) {
			if (!opts || start >= s->n)
				break;
			unsigned cp; /* after an empty match: on by one character */
			start += utf8_next((const unsigned char *)s->p + start, s->n - start, &cp);
			opts = 0;
			continue;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(n->md);
		size_t ms = ov[0] < pos ? pos : ov[0], me = ov[1] < ms ? ms : ov[1];
		buf_add(b, s->p + pos, ms - pos);
		for (size_t k = 0; k < n->nrepl; k++) {
			const struct rpart *rp = &n->repl[k];
			if (rp->group < 0)
				buf_add(b, rp->lit, rp->len);
			else if (ov[2 * rp->group] != PCRE2_UNSET)
				buf_add(b, s->p + ov[2 * rp->group], ov[2 * rp->group + 1] - ov[2 * rp->group]);
		}
		if (b->len > cap) {
			eval_fail(e, n->col, "%s(): result longer than %llu bytes", global ? "gsub" : "sub",
			          (unsigned long long)cap);
			return vnull;
		}
		pos = me;
		if (!global)
			break;
		start = me;
		opts = ov[0] == ov[1] ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED : 0;
	}
	buf_add(b, s->p + pos, s->n - pos);
	return arena_str(e, b);
}

static int is_trim_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static struct val trim_str(const struct val *s, int left, int right)
{
	size_t i = 0, j = s->n;
	while (left && i < j && is_trim_space((unsigned char)s->p[i]))
		i++;
	while (right && j > i && is_trim_space((unsigned char)s->p[j - 1]))
		j--;
	return vstr(s->p + i, j - i);
}

/* The one place expressions read the calendar of --tz (timeutil.h). */
static int zone_tm(int64_t us, struct tm *tm)
{
	return time_local_tm(us, tm);
}

/* strftime(t, FMT) in the zone of --tz; %f is the microseconds. */
static struct val format_time(struct expr *e, struct node *n, const struct val *t, const struct val *f)
{
	int64_t us;
	struct tm tm;
	if (f->t != VT_STR || memchr(f->p, '\0', f->n) || to_time(e, t, &us) < 0 || zone_tm(us, &tm) < 0)
		return vnull;
	struct buf *b = &n->rbuf;
	buf_reset(b);
	for (size_t i = 0; i < f->n; i++) {
		if (f->p[i] == '%' && i + 1 < f->n && f->p[i + 1] == 'f') {
			int64_t frac = us % US_PER_S;
			buf_printf(b, "%06lld", (long long)(frac < 0 ? frac + US_PER_S : frac));
			i++;
		} else if (f->p[i] == '%' && i + 1 < f->n) {
			buf_add(b, f->p + i, 2);
			i++;
		} else {
			buf_addc(b, f->p[i]);
		}
	}
	if (b->len == 0)
		return vstr("", 0);
	size_t cap = 64 + 40 * b->len;
	char *mem = arena_alloc(&e->scratch, cap);
	size_t len = strftime(mem, cap, b->p, &tm);
	return len ? vstr(mem, len) : vnull;
}

/* tojson(x): x as JSON text (a string quoted; times and durations as
 * the strings str() gives, quoted). */
static struct val to_json(struct expr *e, struct node *n, const struct val *v)
{
	struct buf *b = &n->rbuf;
	buf_reset(b);
	switch (v->t) {
	case VT_NULL:
		return vstr("null", 4);
	case VT_STR:
	case VT_TIME:
	case VT_DUR: {
		struct val s = to_str(e, v);
		jw_string(b, s.p, s.n);
		return arena_str(e, b);
	}
	}
	struct val s = to_str(e, v);
	return s.t == VT_STR ? s : vstr("null", 4);
}

static struct val eval(struct expr *e, const struct node *n, const struct expr_input *in)
{
	struct val a, b;
	int r;
	switch (n->op) {
	case N_CONST:
		return n->k;
	case N_PATH:
		return tokval(&e->scratch, in->doc, path_lookup(in->doc, 0, &n->path));
	case N_ALIAS: {
		const struct jdoc *d = alias_doc(in, n->alias);
		return d ? tokval(&e->scratch, d, path_lookup(d, 0, &n->path)) : vnull;
	}
	case N_TIME: {
		int64_t us;
		uint32_t t = path_lookup(in->doc, 0, &n->path);
		if (t == JNONE || time_of_token(in->doc, t, e->unit, &us) < 0)
			return vnull;
		return vtyped(VT_TIME, us);
	}
	case N_LINE:
		return in->line > (uint64_t)INT64_MAX ? vdbl((double)in->line) : vint((int64_t)in->line);
	case N_COND:
		a = eval(e, n->a, in);
		return eval(e, is_true(&a) ? n->b : n->c, in);
	case N_OR:
		for (size_t i = 0; i < n->nkids; i++) {
			a = eval(e, n->kids[i], in);
			if (is_true(&a))
				return vbool(1);
		}
		return vbool(0);
	case N_AND:
		for (size_t i = 0; i < n->nkids; i++) {
			a = eval(e, n->kids[i], in);
			if (!is_true(&a))
				return vbool(0);
		}
		return vbool(1);
	case N_NOT:
		a = eval(e, n->a, in);
		return vbool(!is_true(&a));
	case N_NEG:
		a = eval(e, n->a, in);
		return negate(&a);
	case N_EQ:
	case N_NE:
		a = eval(e, n->a, in);
		b = eval(e, n->b, in);
		return vbool(val_eq(e, &a, &b) == (n->op == N_EQ));
	case N_LT:
	case N_LE:
	case N_GT:
	case N_GE:
		a = eval(e, n->a, in);
		b = eval(e, n->b, in);
		if (val_cmp(e, &a, &b, &r) < 0) {
			if (!n->warned && ((a.t == VT_STR && is_num(&b)) || (is_num(&a) && b.t == VT_STR)))
				warn_str_num(e, (struct node *)n, a.t == VT_STR, in);
			return vbool(0);
		}
		switch (n->op) {
		case N_LT: return vbool(r < 0);
		case N_LE: return vbool(r <= 0);
		case N_GT: return vbool(r > 0);
		default: return vbool(r >= 0);
		}
	case N_IN:
		a = eval(e, n->a, in);
		return vbool(val_in(e, &a, n->b, in));
	case N_MATCH:
		a = eval(e, n->a, in);
		if (a.t != VT_STR)
			return vbool(0);
		r = re_test(e, n, &a);
		return r < 0 ? vnull : vbool(r);
	case N_COAL:
		a = eval(e, n->a, in);
		return a.t != VT_NULL ? a : eval(e, n->b, in);
	case N_ADD:
	case N_SUB:
	case N_MUL:
	case N_DIV:
	case N_MOD:
		a = eval(e, n->a, in);
		b = eval(e, n->b, in);
		return arith(e, n->op, &a, &b);
	case N_HAS:
		return vbool(has_path(e, n, in));
	case N_GET:
		a = eval(e, n->a, in);
		return val_get(e, &a, &n->path);
	case N_ELEM:
		return val_get(e, &e->elem, &n->path);
	case N_ANY:
	case N_ALL:
		return quantify(e, n, in);
	case N_FROMJSON: {
		struct jerr je;
		struct node *m = (struct node *)n;
		a = eval(e, n->a, in);
		if (a.t != VT_STR || json_parse(&m->rdoc, a.n ? a.p : "", a.n, JSON_ANY, &je) < 0)
			return vnull;
		return tokval(&e->scratch, &m->rdoc, 0);
	}
	case N_SPLIT:
		a = eval(e, n->a, in);
		b = eval(e, n->b, in);
		if (a.t != VT_STR || b.t != VT_STR)
			return vnull;
		return split_str(e, (struct node *)n, &a, &b);
	case N_JOIN:
		a = eval(e, n->a, in);
		b = eval(e, n->b, in);
		if (a.t != VT_ARR || b.t != VT_STR)
			return vnull;
		return join_arr(e, (struct node *)n, &a, &b);
	case N_RSUB:
	case N_RGSUB:
		a = eval(e, n->a, in);
		return a.t == VT_STR ? re_sub(e, (struct node *)n, &a, n->op == N_RGSUB) : vnull;
	case N_TRIM:
	case N_LTRIM:
	case N_RTRIM:
		a = eval(e, n->a, in);
		return a.t == VT_STR ? trim_str(&a, n->op != N_RTRIM, n->op != N_LTRIM) : vnull;
	case N_LTRIMSTR:
	case N_RTRIMSTR:
		a = eval(e, n->a, in);
		b = eval(e, n->b, in);
		if (a.t != VT_STR || b.t != VT_STR || b.n > a.n)
			return a;
		if (n->op == N_LTRIMSTR)
			return memcmp(a.p, b.p, b.n) == 0 ? vstr(a.p + b.n, a.n - b.n) : a;
		return memcmp(a.p + a.n - b.n, b.p, b.n) == 0 ? vstr(a.p, a.n - b.n) : a;
	case N_TOSTRING:
		a = eval(e, n->a, in);
		if (a.t == VT_NULL)
			return vstr("null", 4);
		a = to_str(e, &a);
		return a.t == VT_STR ? a : vstr("null", 4);
	case N_TOJSON:
		a = eval(e, n->a, in);
		return to_json(e, (struct node *)n, &a);
	case N_HOUR:
	case N_DATE: {
		int64_t us;
		struct tm tm;
		a = eval(e, n->a, in);
		if (to_time(e, &a, &us) < 0 || zone_tm(us, &tm) < 0)
			return vnull;
		if (n->op == N_HOUR)
			return vint(tm.tm_hour);
		if (tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
			return vnull;
		char *mem = arena_alloc(&e->scratch, 16);
		int len = snprintf(mem, 16, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		return vstr(mem, (size_t)len);
	}
	case N_STRFTIME:
		a = eval(e, n->a, in);
		b = eval(e, n->b, in);
		return format_time(e, (struct node *)n, &a, &b);
	case N_LEN:
		a = eval(e, n->a, in);
		if (a.t == VT_STR)
			return vint((int64_t)utf8_count(a.p, a.n));
		if (a.t == VT_ARR || a.t == VT_OBJ)
			return vint((int64_t)json_count(a.doc, a.tok));
		return vnull;
	case N_LOWER:
	case N_UPPER:
		a = eval(e, n->a, in);
		return a.t == VT_STR ? casemap(e, &a, n->op == N_UPPER) : vnull;
	case N_CONTAINS:
		a = eval(e, n->a, in);
		b = eval(e, n->b, in);
		if (a.t == VT_STR)
			return vbool(b.t == VT_STR && find_bytes(a.p, a.n, b.p, b.n));
		if (a.t == VT_ARR) {
			for (uint32_t i = a.tok + 1; i < a.doc->tok[a.tok].next; i = a.doc->tok[i].next) {
				struct val el = tokval(&e->scratch, a.doc, i);
				if (val_eq(e, &el, &b))
					return vbool(1);
			}
		}
		return vbool(0);
	case N_STARTS:
	case N_ENDS:
		a = eval(e, n->a, in);
		b = eval(e, n->b, in);
		if (a.t != VT_STR || b.t != VT_STR || b.n > a.n)
			return vbool(0);
		return vbool(memcmp(n->op == N_STARTS ? a.p : a.p + a.n - b.n, b.p, b.n) == 0);
	case N_ABS:
		a = eval(e, n->a, in);
		if ((a.t == VT_INT || a.t == VT_DUR) && a.i < 0)
			return negate(&a);
		if (a.t == VT_DBL && signbit(a.d))
			return vdbl(-a.d);
		return is_num(&a) || a.t == VT_DUR ? a : vnull;
	case N_NUM:
		a = eval(e, n->a, in);
		return to_num(&a);
	case N_STR:
		a = eval(e, n->a, in);
		return to_str(e, &a);
	case N_TYPE: {
		a = eval(e, n->a, in);
		const char *s = vtype_name[a.t];
		return vstr(s, strlen(s));
	}
	}
	return vnull;
}

/* ---- public --------------------------------------------------------- */

struct expr *expr_compile(const char *src, const struct expr_env *env, struct expr_error *err)
{
	struct expr *e = xcalloc(1, sizeof *e);
	struct fieldmap deffm;
	const struct fieldmap *fm = env ? env->fm : NULL;
	if (!fm) {
		fieldmap_init(&deffm);
		fm = &deffm;
	}
	e->now = env ? env->now : time_now();
	e->src = xstrdup(src);
	e->what = env && env->what ? xstrdup(env->what) : NULL;
	e->unit = fm->unit;
	e->naliases = env && env->aliases ? env->naliases : 0;
	err->column = 0;
	err->msg[0] = '\0';

	struct parser ps = {0};
	ps.src = src;
	ps.len = strlen(src);
	ps.e = e;
	ps.env = env;
	ps.fm = fm;
	ps.err = err;
	size_t bad = utf8_check(src, ps.len);
	if (bad != ps.len) {
		fail(&ps, bad, "invalid UTF-8");
	} else if (lex(&ps) == 0) {
		e->root = parse_expr(&ps);
		char what[64];
		if (e->root && ps.tok.type != T_END)
			fail(&ps, ps.tok.pos, "unexpected %s", tokname(&ps, what, sizeof what));
	}
	path_free(&ps.tpath);
	buf_free(&ps.tstr);
	if (fm == &deffm)
		fieldmap_free(&deffm);
	if (ps.failed) {
		expr_free(e);
		return NULL;
	}
	return e;
}

void expr_free(struct expr *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nnodes; i++) {
		struct node *nd = e->nodes[i];
		path_free(&nd->path);
		json_doc_free(&nd->kdoc);
		free(nd->ktext);
		free(nd->kstr);
		free(nd->elems);
		free(nd->kids);
		pcre2_match_data_free(nd->md);
		pcre2_code_free(nd->re);
		if (nd->set) {
			bmap_free(nd->set);
			free(nd->set);
		}
		free(nd->repl);
		json_doc_free(&nd->rdoc);
		buf_free(&nd->rbuf);
		free(nd);
	}
	free(e->nodes);
	pcre2_match_context_free(e->mctx);
	free(e->src);
	free(e->what);
	buf_free(&e->kbuf);
	arena_free(&e->scratch);
	arena_free(&e->perm);
	free(e);
}

int expr_test(struct expr *e, const struct expr_input *in)
{
	arena_rewind(&e->scratch);
	e->failed = 0;
	struct val v = eval(e, e->root, in);
	return e->failed ? -1 : is_true(&v);
}

const char *expr_error_reason(const struct expr *e)
{
	return e->failed ? e->reason : "";
}

int expr_eval_json(struct expr *e, const struct expr_input *in, struct buf *out)
{
	arena_rewind(&e->scratch);
	e->failed = 0;
	struct val v = eval(e, e->root, in);
	if (e->failed)
		return -1;
	switch (v.t) {
	case VT_NULL:
		buf_adds(out, "null");
		break;
	case VT_BOOL:
		buf_adds(out, v.i ? "true" : "false");
		break;
	case VT_INT:
	case VT_DBL:
		if (v.p)
			buf_add(out, v.p, v.n);
		else if (v.t == VT_INT)
			jw_int(out, v.i);
		else
			jw_double(out, v.d);
		break;
	case VT_ARR:
	case VT_OBJ:
		json_write_compact(v.doc, v.tok, out);
		break;
	default:
		v = to_str(e, &v);
		jw_string(out, v.p, v.n);
		break;
	}
	return 0;
}

void expr_print_error(const char *what, const char *src, const struct expr_error *err)
{
	/* show the source line that holds the column, and a caret under it
	 * that counts characters, not bytes, and keeps tabs */
	size_t len = strlen(src);
	size_t at = err->column ? err->column - 1 : 0;
	if (at > len)
		at = len;
	size_t ls = at, le = at;
	while (ls > 0 && src[ls - 1] != '\n')
		ls--;
	while (le < len && src[le] != '\n')
		le++;
	struct buf pad = {0};
	for (size_t i = ls; i < at; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '\t')
			buf_addc(&pad, '\t');
		else if ((c & 0xC0) != 0x80)
			buf_addc(&pad, ' ');
	}
	if (what && *what)
		fprintf(stderr, "%s: %s: column %zu: %s\n", ev_progname, what, err->column, err->msg);
	else
		fprintf(stderr, "%s: column %zu: %s\n", ev_progname, err->column, err->msg);
	fprintf(stderr, "  %.*s\n  %s^\n", (int)(le - ls), src + ls, pad.p ? pad.p : "");
	buf_free(&pad);
}

void expr_watch_paths(const struct expr *e, void (*fn)(const struct path *p, void *arg), void *arg)
{
	for (size_t i = 0; i < e->nnodes; i++) {
		const struct node *nd = e->nodes[i];
		if ((nd->op == N_PATH || nd->op == N_ALIAS || nd->op == N_ELEM || nd->op == N_GET) && nd->user &&
		    nd->path.n > 0)
			fn(&nd->path, arg);
	}
}

uint64_t expr_alias_mask(const struct expr *e)
{
	uint64_t m = 0;
	for (size_t i = 0; i < e->nnodes; i++) {
		const struct node *nd = e->nodes[i];
		if ((nd->op == N_ALIAS || nd->op == N_HAS) && nd->alias >= 0 && nd->alias < 64)
			m |= UINT64_C(1) << nd->alias;
	}
	return m;
}
