#ifndef BULLETIN_FIELDS_H
#define BULLETIN_FIELDS_H

/*
 * Header-style fields ("Name: value", RFC 5322 section 2.2), as found in
 * a message's header, a text/rfc822-headers part, an RFC 3464
 * message/delivery-status body or an RFC 5965 feedback report. Pure: no
 * library, no allocation beyond the caller's buffer.
 */

#include <stddef.h>

#include "buf.h"

/* Where fields_next is in the text. */
struct fields {
	const char *p;		/* next byte to read */
	const char *end;
};

/* Starts reading len bytes of text. */
void fields_init(struct fields *f, const char *text, size_t len);

/*
 * Reads the next field: its name (without the colon) and its value with
 * folded lines joined and surrounding blanks trimmed, both replacing
 * name's and value's contents. Returns 1 for a field, 0 at a blank line
 * (the end of a group of fields: call again for the next group), -1 at
 * the end of the text. A line that is not a field (no colon) is
 * skipped. Names and values are cut at FIELDS_MAX bytes.
 */
#define FIELDS_MAX 998
int fields_next(struct fields *f, struct buf *name, struct buf *value);

/* True if name (any case) is want. */
int fields_is(const struct buf *name, const char *want);

/*
 * Copies the first addr-spec found in s (inside <...> when there is
 * one; after "rfc822;" in a DSN address field) into out[size], without
 * quotes' delimiters removed. Returns 1 when something with an '@'
 * was found, 0 when not (out is then "").
 */
int fields_address(const char *s, char *out, size_t size);

#endif
