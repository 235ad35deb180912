#ifndef BULLETIN_CSV_H
#define BULLETIN_CSV_H

/*
 * RFC 4180 CSV, streamed: one record in memory at a time.
 *
 * Reading accepts CRLF, LF or lone CR line ends, a UTF-8 byte order
 * mark at the start of the file, quoted fields holding commas, doubled
 * quotes and line breaks. Every line of the input ends up in a record
 * or in a rejected one, with its line range, so a caller can account
 * for all of them.
 *
 * Rejected records, and where reading goes on:
 *
 *  - A broken structure: a quote inside an unquoted field, text after
 *    a closing quote, a quote left open at the end of the file, a
 *    record spanning more than CSV_MAX_LINES lines or CSV_MAX_BYTES
 *    bytes, or (see csv_expect_fields) a record spanning several lines
 *    with the wrong number of fields. The usual cause is one stray
 *    quote, which swallows the lines after it into one field. So the
 *    record is rejected from its first line up to the line Q where the
 *    last of its quoted fields that spans lines opened (its first line
 *    when none does), and reading starts again on line Q + 1: the lines
 *    a stray quote swallowed are read again as records of their own.
 *    Rejected ranges never overlap, so no line is counted twice. As a
 *    record is bounded, a hostile file costs at most CSV_MAX_LINES
 *    times a plain read, and a legitimate field of more lines is
 *    rejected (its lines then read as records, most of them rejected).
 *  - A bad content: a NUL byte or invalid UTF-8. The record is rejected
 *    as a whole, all its lines, and reading goes on after it; the NUL
 *    is not a field end, so it shifts no field.
 *
 * An empty line is skipped (it is no record).
 */

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

#define CSV_MAX_LINES	100		/* lines one record may span */
#define CSV_MAX_BYTES	(1u << 20)	/* bytes one record may take */

struct csv_reader;

struct csv_record {
	size_t        nfields;
	const char  **fields;	/* NUL-terminated; valid until the next csv_read */
	const size_t *lens;	/* their lengths */
	long          line;	/* the line the record starts on, from 1 */
	long          last;	/* its last line; for a rejected record, the
				 * last line rejected (see above) */
};

/* Reads from f, which the caller keeps open and closes after csv_free.
 * Memory stays below about CSV_MAX_BYTES whatever the input. */
struct csv_reader *csv_reader_new(FILE *f);
void csv_free(struct csv_reader *r);

/* Changes the limits (for tests, or a caller with huge fields). */
void csv_set_limits(struct csv_reader *r, long max_lines, size_t max_bytes);

/* From now on a record spanning several lines must have n fields, or
 * its structure counts as broken (a stray quote that closed further
 * down). Records on one line are left to the caller. 0: no check. */
void csv_expect_fields(struct csv_reader *r, size_t n);

/*
 * Reads the next record into rec. Returns 1 for a record, 0 at the end
 * of the file (sticky), -1 for a rejected one: then rec->line and
 * rec->last are the lines rejected and *reason (valid until the next
 * call) says why.
 */
int csv_read(struct csv_reader *r, struct csv_record *rec,
	     const char **reason);

/*
 * For a caller who finds the record csv_read just returned (1) broken
 * in its structure, say a line break in a field that cannot hold one:
 * drops it as csv_read drops a broken record (its lines up to Q, see
 * above) and makes the next csv_read start on line Q + 1. Returns Q.
 */
long csv_resync(struct csv_reader *r);

/* The number of lines read, counting a last line without a line end;
 * after csv_read returned 0, the number of lines in the input. */
long csv_lines(const struct csv_reader *r);

/* Appends one field to out, quoted only when it must be (comma, quote,
 * CR, LF, or leading/trailing space). */
void csv_add_field(struct buf *out, const char *field, size_t len);
/* Appends a record of n fields and its CRLF line end. */
void csv_add_record(struct buf *out, const char *const *fields, size_t n);

#endif
