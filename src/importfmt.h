#ifndef BULLETIN_IMPORTFMT_H
#define BULLETIN_IMPORTFMT_H

/*
 * The CSV exports of other newsletter tools, read as bulletin's own
 * layout (subcsv.h): each record of the export is rewritten into a
 * record whose columns are email, name, status, created and then the
 * attributes, which subcsv imports as usual. Pure: no store, no I/O.
 *
 * Columns are matched by name without regard to case, spaces, '_' and
 * '-' ("Email Address" = email_address = EMAILADDRESS):
 *   email    email, Email Address, E-mail (email_address, e_mail ...)
 *   name     name, full name; or first name + last name (fname, lname),
 *            joined with a space
 *   created  the original subscription date, per format (below),
 *            converted to 2026-11-03T10:00:00Z
 *   status   per format (below)
 *   every other column: an attribute under its own name.
 * --map COLUMN=FIELD (struct importfmt_map) reads a column as email,
 * name, first_name, last_name, status, created, ignore (dropped) or, any
 * other FIELD, an attribute named FIELD.
 *
 * The formats, as each tool documents its export (a header that starts
 * with email, name, status, created is bulletin's own, whatever else it
 * holds):
 *   mailchimp   recognised by OPTIN_TIME, MEMBER_RATING, LEID or EUID.
 *               Audiences export as separate files: the unsubscribed
 *               members' file (an UNSUB_TIME column) imports everyone as
 *               unsubscribed, the cleaned members' one (CLEAN_TIME) as
 *               bounced; without those columns, the file's name says it
 *               (unsubscribed_..., cleaned_..., nonsubscribed_...: the
 *               contacts who never subscribed arrive pending).
 *               created: OPTIN_TIME, else CONFIRM_TIME.
 *   substack    recognised by email_disabled; true (true, yes, 1) means
 *               unsubscribed. created: created_at.
 *   listmonk    recognised by uuid and attributes; status blocklisted or
 *               disabled means unsubscribed, enabled the default.
 *               created: created_at.
 *   buttondown  recognised by subscriber_type (or creation_date with
 *               type); the type: unsubscribed, removed, paused ->
 *               unsubscribed; undeliverable -> bounced; complained,
 *               spammy -> complained; unactivated -> pending; regular,
 *               premium, gifted, trialed, churning, past_due, unpaid ->
 *               the default. created: creation_date.
 *   csv         bulletin's layout: status (bulletin's names) and created
 *               columns as they are named.
 * An unknown status value rejects the row: nobody unsubscribed arrives
 * active because a value was not understood.
 *
 * Dates: YYYY-MM-DD, then optionally [T or space]HH:MM[:SS[.fraction]],
 * then optionally Z, UTC, +HH, +HHMM or +HH:MM (also -); no zone is UTC.
 */

#include <stddef.h>

#include "csv.h"

enum importfmt_kind {
	IMPORTFMT_AUTO,		/* recognised from the header */
	IMPORTFMT_CSV,
	IMPORTFMT_MAILCHIMP,
	IMPORTFMT_SUBSTACK,
	IMPORTFMT_LISTMONK,
	IMPORTFMT_BUTTONDOWN,
};

struct importfmt_map {
	const char *column;	/* as named in the header */
	const char *field;	/* email, name, ..., ignore, or an attribute */
};

struct importfmt;

/* The format named name (auto, csv, mailchimp ...); 0, or -1 if none. */
int importfmt_parse_kind(const char *name, enum importfmt_kind *kind);
/* The format's name ("mailchimp"). */
const char *importfmt_kind_name(enum importfmt_kind kind);

/* A reader for kind with the maps (borrowed: they must outlive it).
 * The caller frees it with importfmt_free. */
struct importfmt *importfmt_new(enum importfmt_kind kind,
				const struct importfmt_map *maps, size_t nmaps);
void importfmt_free(struct importfmt *f);

/*
 * Reads the export's header rec and rewrites it into bulletin's header
 * (rec then points into f, valid until the next call); name is the
 * file's path (Mailchimp's file names say who is in them), also used in
 * messages. Returns 0, or -1
 * after error() naming name:line: no email column, a column named twice
 * for one meaning, a --map naming no column.
 */
int importfmt_header(struct importfmt *f, const char *name,
		     struct csv_record *rec);
/* The format recognised (or given), once the header is read. */
enum importfmt_kind importfmt_kind(const struct importfmt *f);

/*
 * Rewrites a row rec of the export into bulletin's layout in place (rec
 * then points into f until the next call). Returns NULL, or why the row
 * is rejected (a bad date or status, a wrong number of fields), valid
 * until the next call.
 */
const char *importfmt_row(struct importfmt *f, struct csv_record *rec);

/* Converts a date (the forms above) to 2026-11-03T10:00:00Z in out[21].
 * Returns 0, or -1 when s is not such a date. */
int importfmt_date(const char *s, size_t len, char out[21]);

#endif
