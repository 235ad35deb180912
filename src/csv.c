#include "csv.h"

#include <stdint.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

/*
 * The reader parses straight out of its input buffer: fields are copied
 * span by span into one reusable buffer (each followed by a NUL), and
 * the field arrays are reused too, so a record costs no allocation once
 * the buffers have grown to the widest record seen. The input buffer
 * keeps the current record's raw bytes (from mark), so that a broken
 * record can be read again from the line after its stray quote.
 */

#define CHUNK	65536

struct csv_reader {
	FILE        *f;
	char        *in;	/* the input: the record's bytes from mark on */
	size_t       cap;
	size_t       mark;	/* where the current record starts in in[] */
	size_t       pos, end;	/* unread bytes are in[pos..end) */
	int          eof;
	int          started;	/* the BOM check is done */
	int          open_line;	/* bytes were read after the last line end */
	long         line;	/* the physical line in[pos] is on, from 1 */
	long         mark_line;	/* the line in[mark] is on */
	long         quote_line; /* where the record's last quoted field
				  * spanning lines opened, or 0 */
	long         nul_line;	/* the record's first line with a NUL, or 0 */
	long         max_lines;
	size_t       max_bytes;
	size_t       expect;	/* fields of a record spanning lines, or 0 */
	struct buf   data;	/* the record's fields, each NUL-terminated */
	struct buf   reason;	/* a formatted reason for csv_read */
	size_t       nfields, alloc;
	size_t      *offs;	/* where each field starts in data */
	size_t      *lens;
	const char **fields;
};

/* Bytes that end a span: for unquoted fields, and inside quotes. */
enum { STOP_PLAIN = 1, STOP_QUOTED = 2 };

static const unsigned char stop[256] = {
	['\0'] = STOP_PLAIN | STOP_QUOTED,
	['\n'] = STOP_PLAIN | STOP_QUOTED,
	['\r'] = STOP_PLAIN | STOP_QUOTED,
	['"'] = STOP_PLAIN | STOP_QUOTED,
	[','] = STOP_PLAIN,
};

/* Faults word_fault words itself. */
static const char too_long[] = "record too long";
static const char too_many_lines[] = "record spans too many lines";
static const char wrong_fields[] = "wrong number of fields";

/* ---- input -------------------------------------------------------------- */

/* Moves the record's bytes to the front and makes room for a chunk. */
static void make_room(struct csv_reader *r)
{
	if (r->mark) {
		memmove(r->in, r->in + r->mark, r->end - r->mark);
		r->pos -= r->mark;
		r->end -= r->mark;
		r->mark = 0;
	}
	if (r->cap - r->end < CHUNK) {
		r->cap = r->end + CHUNK > 2 * r->cap ? r->end + CHUNK : 2 * r->cap;
		r->in = xrealloc(r->in, r->cap);
	}
}

/* Makes at least one byte available; 0 at the end of the input. */
static int fill(struct csv_reader *r)
{
	size_t n;

	if (r->pos < r->end)
		return 1;
	if (r->eof)
		return 0;
	make_room(r);
	n = fread(r->in + r->end, 1, CHUNK, r->f);
	if (!n) {
		r->eof = 1;
		return 0;
	}
	r->end += n;
	if (!r->started) {
		r->started = 1;
		if (n >= 3 && !memcmp(r->in + r->pos, "\xef\xbb\xbf", 3))
			r->mark = r->pos += 3;
		if (r->pos == r->end)
			return fill(r);
	}
	r->open_line = r->in[r->end - 1] != '\n' && r->in[r->end - 1] != '\r';
	return 1;
}

/* The next byte, or -1 at the end of the input. */
static inline int peek(struct csv_reader *r)
{
	return fill(r) ? (unsigned char)r->in[r->pos] : -1;
}

/*
 * Consumes the line end starting with c (at in[pos]): LF, CRLF or a lone
 * CR, as Python's csv module also accepts. Returns how many bytes it was.
 */
static int line_end(struct csv_reader *r, int c)
{
	r->pos++;
	r->line++;
	if (c == '\r' && peek(r) == '\n') {
		r->pos++;
		return 2;
	}
	return 1;
}

/* Drops the rest of the physical line and its end; 0 at the end of the
 * input. The bytes dropped are let go (mark follows), so a long line
 * takes no memory. */
static int skip_line(struct csv_reader *r)
{
	while (fill(r)) {
		const char *p = r->in + r->pos;
		size_t n = r->end - r->pos, i;

		for (i = 0; i < n && p[i] != '\n' && p[i] != '\r'; i++)
			;
		r->pos += i;
		r->mark = r->pos;
		if (i < n) {
			line_end(r, p[i]);
			r->mark = r->pos;
			return 1;
		}
	}
	return 0;
}

/* Goes back to the record's start and on to the line after line upto. */
static void restart_after(struct csv_reader *r, long upto)
{
	r->pos = r->mark;
	r->line = r->mark_line;
	while (r->line <= upto && skip_line(r))
		;
}

/* ---- fields ------------------------------------------------------------- */

/* Appends the run of bytes from in[pos] up to the next stop byte;
 * 0 when the record has grown past the limit. */
static int add_span(struct csv_reader *r, unsigned char kind)
{
	const unsigned char *p = (const unsigned char *)r->in + r->pos;
	size_t n = r->end - r->pos, i = 0;

	while (i < n && !(stop[p[i]] & kind))
		i++;
	buf_add(&r->data, p, i);
	r->pos += i;
	return r->pos - r->mark <= r->max_bytes;
}

/* A NUL byte is bad content, not a field end: noted and dropped. */
static void skip_nul(struct csv_reader *r)
{
	if (!r->nul_line)
		r->nul_line = r->line;
	r->pos++;
}

/* An unquoted field; stops before its terminator (comma, line end, EOF). */
static const char *read_plain(struct csv_reader *r)
{
	int c;

	for (;;) {
		if (!fill(r))
			return NULL;
		if (!add_span(r, STOP_PLAIN))
			return too_long;
		if (r->pos == r->end)
			continue;
		c = (unsigned char)r->in[r->pos];
		if (c == '"')
			return "quote inside an unquoted field";
		if (c)
			return NULL;
		skip_nul(r);
	}
}

/* After a closing quote: a doubled quote, the field's end, or garbage. */
static const char *after_quote(struct csv_reader *r, int *done)
{
	int c = peek(r);

	if (c == '"') {
		buf_addch(&r->data, '"');
		r->pos++;
		return NULL;
	}
	*done = 1;
	if (c < 0 || c == ',' || c == '\n' || c == '\r')
		return NULL;
	return "text after a closing quote";
}

/* A line break inside quotes: data, unless the record gets too long. */
static const char *quoted_break(struct csv_reader *r, int c, long opened)
{
	buf_add(&r->data, c == '\n' ? "\n" : "\r\n", (size_t)line_end(r, c));
	r->quote_line = opened;
	return r->line - r->mark_line >= r->max_lines ? too_many_lines : NULL;
}

/* A quoted field, the opening quote consumed; stops after the closing one. */
static const char *read_quoted(struct csv_reader *r)
{
	const char *why = NULL;
	long opened = r->line;
	int c, done = 0;

	while (!done && !why) {
		if (!fill(r))
			return "quoted field not closed at the end of the file";
		if (!add_span(r, STOP_QUOTED))
			return too_long;
		if (r->pos == r->end)
			continue;
		c = (unsigned char)r->in[r->pos];
		if (c == '"') {
			r->pos++;
			why = after_quote(r, &done);
		} else if (c == '\0') {
			skip_nul(r);
		} else {
			why = quoted_break(r, c, opened);
		}
	}
	return why;
}

static void start_field(struct csv_reader *r)
{
	if (r->nfields == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 16;
		r->offs = xrealloc(r->offs, r->alloc * sizeof(*r->offs));
		r->lens = xrealloc(r->lens, r->alloc * sizeof(*r->lens));
		r->fields = xrealloc(r->fields, r->alloc * sizeof(*r->fields));
	}
	r->offs[r->nfields] = r->data.len;
}

static void end_field(struct csv_reader *r)
{
	size_t i = r->nfields++;

	r->lens[i] = r->data.len - r->offs[i];
	buf_addch(&r->data, '\0');
}

/* ---- records ------------------------------------------------------------ */

/* Reads fields up to and including the record's line end; *last is the
 * record's last line. Returns NULL or what breaks its structure. */
static const char *read_fields(struct csv_reader *r, long *last)
{
	const char *why;
	int c;

	for (;;) {
		start_field(r);
		if (peek(r) == '"') {
			r->pos++;
			why = read_quoted(r);
		} else {
			why = read_plain(r);
		}
		if (why)
			return why;
		end_field(r);
		c = peek(r);
		if (c != ',')
			break;
		r->pos++;
	}
	*last = r->line;
	if (c >= 0)
		line_end(r, c);
	if (r->expect && *last > r->mark_line && r->nfields != r->expect)
		return wrong_fields;
	return NULL;
}

/* Skips empty lines, letting go of them and of the record before;
 * returns 0 at the end of the input. */
static int skip_empty_lines(struct csv_reader *r)
{
	int c;

	r->mark = r->pos;
	while ((c = peek(r)) == '\n' || c == '\r') {
		line_end(r, c);
		r->mark = r->pos;
	}
	return c >= 0;
}

/* The line of the record's last quoted field spanning lines, where a
 * stray quote would be; the record's first line when there is none. */
static long suspect_line(const struct csv_reader *r)
{
	return r->quote_line ? r->quote_line : r->mark_line;
}

/* Words the fault why, found on line found, into r->reason. */
static void word_fault(struct csv_reader *r, const char *why, long found)
{
	long upto = suspect_line(r);

	buf_reset(&r->reason);
	if (why == too_many_lines)
		buf_addf(&r->reason, "record spans more than %ld lines",
			 r->max_lines);
	else if (why == too_long)
		buf_addf(&r->reason, "record longer than %zu bytes",
			 r->max_bytes);
	else if (why == wrong_fields)
		buf_addf(&r->reason, "record of lines %ld-%ld has %zu fields, "
			 "expected %zu", r->mark_line, found, r->nfields,
			 r->expect);
	else
		buf_adds(&r->reason, why);
	if (found > upto && why != wrong_fields)
		buf_addf(&r->reason, " on line %ld", found);
	if (found > upto)
		buf_addf(&r->reason, " (the quote opened on line %ld may be "
			 "stray: lines %ld-%ld are read again)", upto, upto + 1,
			 found);
}

/* Checks the content of a record read whole; NULL or why it is bad. */
static const char *bad_content(struct csv_reader *r, long last)
{
	buf_reset(&r->reason);
	if (r->nul_line && last == r->mark_line)
		return "NUL byte";
	if (r->nul_line)
		buf_addf(&r->reason, "NUL byte on line %ld", r->nul_line);
	else if (!utf8_valid(r->data.data, r->data.len))
		buf_adds(&r->reason, "invalid UTF-8");
	return r->reason.len ? r->reason.data : NULL;
}

int csv_read(struct csv_reader *r, struct csv_record *rec,
	     const char **reason)
{
	const char *why;
	long last = 0;

	rec->nfields = 0;
	rec->fields = r->fields;
	rec->lens = r->lens;
	if (!skip_empty_lines(r)) {
		rec->line = rec->last = r->line;
		return 0;
	}
	rec->line = r->mark_line = r->line;
	r->quote_line = r->nul_line = 0;
	buf_reset(&r->data);
	r->nfields = 0;
	why = read_fields(r, &last);
	if (why) {
		/* at the end of the input, the line after a final line end
		 * does not exist */
		last = last ? last : r->line;
		if (r->eof && r->pos == r->end && last > csv_lines(r))
			last = csv_lines(r);
		word_fault(r, why, last);
		*reason = r->reason.data;
		rec->last = csv_resync(r);
		return -1;
	}
	rec->last = last;
	if ((*reason = bad_content(r, last)) != NULL)
		return -1;
	for (size_t i = 0; i < r->nfields; i++)
		r->fields[i] = r->data.data + r->offs[i];
	rec->nfields = r->nfields;
	rec->fields = r->fields;
	rec->lens = r->lens;
	return 1;
}

/* Drops a broken record (see csv.h): reading goes on after the line
 * of its suspect quote. */
long csv_resync(struct csv_reader *r)
{
	long upto = suspect_line(r);

	restart_after(r, upto);
	return upto;
}

long csv_lines(const struct csv_reader *r)
{
	return r->line - 1 + (r->eof && r->open_line);
}

void csv_set_limits(struct csv_reader *r, long max_lines, size_t max_bytes)
{
	r->max_lines = max_lines;
	r->max_bytes = max_bytes;
}

void csv_expect_fields(struct csv_reader *r, size_t n)
{
	r->expect = n;
}

struct csv_reader *csv_reader_new(FILE *f)
{
	struct csv_reader *r = xcalloc(1, sizeof(*r));

	r->f = f;
	r->line = 1;
	r->max_lines = CSV_MAX_LINES;
	r->max_bytes = CSV_MAX_BYTES;
	buf_init(&r->data, 256);
	buf_init(&r->reason, 128);
	return r;
}

void csv_free(struct csv_reader *r)
{
	if (!r)
		return;
	free(r->in);
	buf_release(&r->data);
	buf_release(&r->reason);
	free(r->offs);
	free(r->lens);
	free(r->fields);
	free(r);
}

/* ---- writing ------------------------------------------------------------ */

static int needs_quotes(const char *s, size_t len)
{
	if (!len)
		return 0;
	if (s[0] == ' ' || s[len - 1] == ' ')	/* readers that trim would lose it */
		return 1;
	/* first in a file, readers take it for a byte order mark */
	if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		return 1;
	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return 1;
	return 0;
}

void csv_add_field(struct buf *out, const char *field, size_t len)
{
	const char *q;

	if (!needs_quotes(field, len)) {
		buf_add(out, field, len);
		return;
	}
	buf_addch(out, '"');
	while ((q = memchr(field, '"', len))) {
		size_t n = (size_t)(q - field) + 1;

		buf_add(out, field, n);
		buf_addch(out, '"');
		field += n;
		len -= n;
	}
	buf_add(out, field, len);
	buf_addch(out, '"');
}

void csv_add_record(struct buf *out, const char *const *fields, size_t n)
{
	/* A lone empty field would be an empty line, which readers skip. */
	if (n == 1 && !*fields[0]) {
		buf_adds(out, "\"\"\r\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addch(out, ',');
		csv_add_field(out, fields[i], strlen(fields[i]));
	}
	buf_adds(out, "\r\n");
}
