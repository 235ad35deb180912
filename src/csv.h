#ifndef BULLETIN_CSV_H
#define BULLETIN_CSV_H

/*
 * RFC 4180 CSV, streamed: one record in memory at a time.
 *
 * Reading accepts CRLF or LF line ends, a UTF-8 byte order mark at the
 * start of the file, quoted fields holding commas, doubled quotes and
 * line breaks. A malformed record (a quote inside an unquoted field,
 * text after a closing quote, a quote left open at the end of the file,
 * invalid UTF-8) is reported with the line it starts on; the reader then
 * carries on with the next line, so a caller can list every bad line.
 */

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

struct csv_reader;

struct csv_record {
	size_t       nfields;
	const char **fields;	/* NUL-terminated; valid until the next csv_read */
	const size_t *lens;	/* their lengths; a NUL byte in a field is malformed */
	long         line;	/* the line the record starts on, from 1 */
};

/* Reads from f, which the caller keeps open and closes after csv_free. */
struct csv_reader *csv_reader_new(FILE *f);
void csv_free(struct csv_reader *r);

/*
 * Reads the next record into rec. Returns 1 for a record, 0 at the end
 * of the file, -1 for a malformed record: then rec->line is its line
 * and *reason (static) says what is wrong. An empty line is skipped.
 */
int csv_read(struct csv_reader *r, struct csv_record *rec,
	     const char **reason);

/* Appends one field to out, quoted only when it must be (comma, quote,
 * CR, LF, or leading/trailing space). */
void csv_add_field(struct buf *out, const char *field, size_t len);
/* Appends a record of n fields and its CRLF line end. */
void csv_add_record(struct buf *out, const char *const *fields, size_t n);

#endif
