#include "csv.h"

#include <stdint.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

/*
 * The reader parses straight out of its own input chunk: fields are
 * copied span by span into one reusable buffer (each followed by a NUL),
 * and the field arrays are reused too, so a record costs no allocation
 * once the buffers have grown to the widest record seen.
 */

#define CHUNK		65536
#define RECORD_MAX	(64u << 20)	/* past this a quote was surely left open */

struct csv_reader {
	FILE        *f;
	char        *in;	/* CHUNK bytes of input */
	size_t       pos, end;	/* unread bytes are in[pos..end) */
	int          eof;
	int          started;	/* the BOM check is done */
	long         line;	/* the physical line in[pos] is on, from 1 */
	struct buf   data;	/* the record's fields, each NUL-terminated */
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

static const char bad_nul[] = "NUL byte in field";

/* ---- input -------------------------------------------------------------- */

/* Makes at least one byte available; 0 at the end of the input. */
static int fill(struct csv_reader *r)
{
	if (r->pos < r->end)
		return 1;
	if (r->eof)
		return 0;
	r->pos = 0;
	r->end = fread(r->in, 1, CHUNK, r->f);
	if (!r->end) {
		r->eof = 1;
		return 0;
	}
	if (!r->started) {
		r->started = 1;
		if (r->end >= 3 && !memcmp(r->in, "\xef\xbb\xbf", 3))
			r->pos = 3;
		return fill(r);
	}
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

/* After a malformed record: drops the rest of the physical line. */
static void skip_line(struct csv_reader *r)
{
	while (fill(r)) {
		const char *p = r->in + r->pos;
		size_t n = r->end - r->pos, i;

		for (i = 0; i < n && p[i] != '\n' && p[i] != '\r'; i++)
			;
		r->pos += i;
		if (i < n) {
			line_end(r, p[i]);
			return;
		}
	}
}

/* ---- fields ------------------------------------------------------------- */

/* Appends the run of bytes from in[pos] up to the next stop byte. */
static int add_span(struct csv_reader *r, unsigned char kind)
{
	const unsigned char *p = (const unsigned char *)r->in + r->pos;
	size_t n = r->end - r->pos, i = 0;

	while (i < n && !(stop[p[i]] & kind))
		i++;
	buf_add(&r->data, p, i);
	r->pos += i;
	return r->data.len <= RECORD_MAX;
}

static const char *too_long(struct csv_reader *r)
{
	skip_line(r);
	return "record longer than 64 MiB";
}

/* An unquoted field; stops before its terminator (comma, line end, EOF). */
static const char *read_plain(struct csv_reader *r)
{
	int c;

	for (;;) {
		if (!fill(r))
			return NULL;
		if (!add_span(r, STOP_PLAIN))
			return too_long(r);
		if (r->pos == r->end)
			continue;
		c = (unsigned char)r->in[r->pos];
		if (c == '"' || c == '\0') {
			skip_line(r);
			return c ? "quote inside an unquoted field" : bad_nul;
		}
		return NULL;
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
	skip_line(r);
	return "text after a closing quote";
}

/* A quoted field, the opening quote consumed; stops after the closing one. */
static const char *read_quoted(struct csv_reader *r)
{
	const char *why = NULL;
	int c, done = 0;

	while (!done && !why) {
		if (!fill(r))
			return "quoted field not closed at the end of the file";
		if (!add_span(r, STOP_QUOTED))
			return too_long(r);
		if (r->pos == r->end)
			continue;
		c = (unsigned char)r->in[r->pos];
		if (c == '"') {
			r->pos++;
			why = after_quote(r, &done);
		} else if (c == '\0') {
			skip_line(r);
			why = bad_nul;
		} else {	/* a line break inside the field is data */
			buf_add(&r->data, c == '\n' ? "\n" : "\r\n",
				(size_t)line_end(r, c));
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

/* Reads fields up to and including the record's line end. */
static const char *read_fields(struct csv_reader *r)
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
	if (c >= 0)
		line_end(r, c);
	return NULL;
}

/* Skips empty lines; returns 0 at the end of the input. */
static int skip_empty_lines(struct csv_reader *r)
{
	int c;

	while ((c = peek(r)) == '\n' || c == '\r')
		line_end(r, c);
	return c >= 0;
}

int csv_read(struct csv_reader *r, struct csv_record *rec,
	     const char **reason)
{
	const char *why;

	rec->nfields = 0;
	rec->fields = r->fields;
	rec->lens = r->lens;
	rec->line = r->line;
	if (!skip_empty_lines(r))
		return 0;
	rec->line = r->line;
	buf_reset(&r->data);
	r->nfields = 0;
	why = read_fields(r);
	if (!why && !utf8_valid(r->data.data, r->data.len))
		why = "invalid UTF-8";
	if (why) {
		*reason = why;
		return -1;
	}
	for (size_t i = 0; i < r->nfields; i++)
		r->fields[i] = r->data.data + r->offs[i];
	rec->nfields = r->nfields;
	rec->fields = r->fields;
	rec->lens = r->lens;
	return 1;
}

struct csv_reader *csv_reader_new(FILE *f)
{
	struct csv_reader *r = xcalloc(1, sizeof(*r));

	r->f = f;
	r->in = xmalloc(CHUNK);
	r->line = 1;
	buf_init(&r->data, 256);
	return r;
}

void csv_free(struct csv_reader *r)
{
	if (!r)
		return;
	free(r->in);
	buf_release(&r->data);
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
