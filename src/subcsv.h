#ifndef BULLETIN_SUBCSV_H
#define BULLETIN_SUBCSV_H

/*
 * Subscribers to and from CSV (RFC 4180, UTF-8, streamed: memory does
 * not grow with the file).
 *
 * Columns, matched by header name without regard to case:
 *   email    required; leading and trailing blanks ignored; normalised
 *   name     optional; an empty field keeps the current name
 *   status   optional; pending, active, unsubscribed, bounced or
 *            complained; an empty field means the default status
 *   created  optional; 2026-11-03T10:00:00Z, used for new rows only
 *   any other column: an attribute, kept in the subscriber's attrs (an
 *            empty field leaves the attribute as it is)
 * This is the layout subcsv_export writes, so an export imports back.
 */

#include <stdio.h>

#include "store.h"

struct importfmt;

struct subcsv_summary;

struct subcsv_options {
	enum sub_status status;	/* for rows with no status field */
	int             dry_run;	/* roll back at the end */
	int             atomic;		/* roll back if any line was rejected */
	struct importfmt *fmt;	/* optional: the export of another tool,
				 * rewritten into the layout above
				 * (importfmt.h) */
	/* optional: called every SUBCSV_TICK records with the lines read
	 * so far and the summary until then, and with lines = -1 just
	 * before a rejected record is reported on stderr (so that a
	 * progress bar can get out of its way) */
	void (*progress)(long lines, const struct subcsv_summary *sum,
			 void *arg);
	void *progress_arg;
};

#define SUBCSV_TICK 4096

struct subcsv_summary {
	long lines;		/* in the input, the header's included */
	long added;
	long updated;
	long unchanged;
	long suppressed;	/* refused: unsubscribed, complained, bounced, erased */
	long rejected;		/* bad records, each reported on stderr */
	long first_line;	/* the first rejected record's lines */
	long first_last;
	char first_reason[256];	/* and why (cut to fit) */
	int  committed;		/* 1 if the changes were kept */
};

/*
 * Imports the CSV read from f in one transaction (the store's write lock
 * is held until the end; a crash leaves the database as it was). Every
 * line is accounted for: each rejected record is reported on stderr as
 * "NAME:LINE: reason" or "NAME:FIRST-LAST: reason" (name being what the
 * caller calls the input); a stray quote costs only its own line (see
 * csv.h). A record of several lines with a line break in the email,
 * name, status or created field is taken for a stray quote's work too:
 * rejected up to the quote's line, the lines after it read again. A
 * column name with a control character or line break is refused. Following store_sub_put, existing
 * subscribers are updated and unsubscribed, complained, bounced and
 * erased addresses are never made active again.
 *
 * Returns 0 when the whole file was read (sum says what happened; the
 * transaction was committed unless o->dry_run, or o->atomic with
 * rejects). After error(), with nothing changed, returns
 * SUBCSV_BAD_INPUT (no header, no email column, a read error) or
 * SUBCSV_STORE_FAILED (a database error).
 */
enum { SUBCSV_BAD_INPUT = -1, SUBCSV_STORE_FAILED = -2 };
int subcsv_import(struct store *s, FILE *f, const char *name,
		  const struct subcsv_options *o, struct subcsv_summary *sum);

/*
 * Writes the subscribers q selects (q->keys ignored: every attribute in
 * use gets a column) as CSV to out: a header row email, name, status,
 * created and the attribute names sorted, then a row per subscriber in
 * order of id, CRLF line ends. Returns the number of rows, or -1 after
 * error() (a database or write error).
 */
long subcsv_export(struct store *s, const struct store_query *q, FILE *out);

#endif
