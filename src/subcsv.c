#include "subcsv.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "buf.h"
#include "csv.h"
#include "importfmt.h"
#include "json.h"
#include "util.h"

enum col_kind { COL_EMAIL, COL_NAME, COL_STATUS, COL_CREATED, COL_ATTR };

/* The columns with a meaning of their own; every other one is an attribute. */
static const char *const reserved[] = {
	[COL_EMAIL] = "email",
	[COL_NAME] = "name",
	[COL_STATUS] = "status",
	[COL_CREATED] = "created",
};

#define NRESERVED (sizeof(reserved) / sizeof(reserved[0]))

struct importer {
	struct store                *s;
	const struct subcsv_options *o;
	const char                  *name;	/* the input, for messages */
	struct subcsv_summary       *sum;
	struct store_why             why;
	size_t                       ncols;
	enum col_kind               *kinds;	/* per column */
	char                       **keys;	/* per column: attribute name or NULL */
	/* reused from row to row, so a row costs no allocation of ours */
	struct buf                   attrs;
	struct buf                   email;
	struct buf                   reason;
};

static const char *reason_value(struct importer *im, const char *what,
				const char *value, const char *why);

/* ---- the header --------------------------------------------------------- */

static enum col_kind col_kind(const char *name, size_t len)
{
	for (size_t i = 0; i < NRESERVED; i++)
		if (strlen(reserved[i]) == len &&
		    !strncasecmp(name, reserved[i], len))
			return (enum col_kind)i;
	return COL_ATTR;
}

/* Rejects a header that names a column twice (or not at all). */
static int check_column(struct importer *im, size_t col, long line)
{
	for (size_t j = 0; j < col; j++) {
		int same = im->kinds[col] == COL_ATTR ?
			   im->keys[j] && !strcmp(im->keys[j], im->keys[col]) :
			   im->kinds[j] == im->kinds[col];

		if (same)
			return error("%s:%ld: column %zu repeats column %zu's name",
				     im->name, line, col + 1, j + 1);
	}
	if (im->kinds[col] == COL_ATTR && !*im->keys[col])
		return error("%s:%ld: column %zu has no name", im->name, line,
			     col + 1);
	return 0;
}

/* A control character or line break in a column name would not survive
 * the trip through the attributes and back: refused. */
static int check_name_chars(struct importer *im, size_t col, long line)
{
	const char *key = im->keys[col];
	char what[48];

	for (size_t i = 0; key && key[i]; i++) {
		if ((unsigned char)key[i] >= 0x20 && key[i] != 0x7f)
			continue;
		snprintf(what, sizeof(what), "column %zu's name", col + 1);
		return error("%s:%ld: %s", im->name, line,
			     reason_value(im, what, key, "control characters "
					  "and line breaks are not allowed"));
	}
	return 0;
}

static int read_header(struct importer *im, struct csv_reader *r)
{
	struct csv_record rec;
	const char *why = NULL;
	int rc = csv_read(r, &rec, &why), email = 0;
	size_t raw;

	if (rc < 0)
		return error("%s:%ld: %s", im->name, rec.line, why);
	if (rc == 0)
		return error("%s: empty file: expected a header row with an "
			     "'email' column", im->name);
	raw = rec.nfields;	/* what the reader sees, before any rewriting */
	if (im->o->fmt && importfmt_header(im->o->fmt, im->name, &rec))
		return -1;
	im->ncols = rec.nfields;
	im->kinds = xcalloc(rec.nfields, sizeof(*im->kinds));
	im->keys = xcalloc(rec.nfields, sizeof(*im->keys));
	for (size_t i = 0; i < rec.nfields; i++) {
		size_t len = rec.lens[i];
		const char *f = trim_blanks(rec.fields[i], &len);

		im->kinds[i] = col_kind(f, len);
		if (im->kinds[i] == COL_ATTR)
			im->keys[i] = xstrndup(f, len);
		email |= im->kinds[i] == COL_EMAIL;
		if (check_column(im, i, rec.line) ||
		    check_name_chars(im, i, rec.line))
			return -1;
	}
	if (!email)
		return error("%s:%ld: no 'email' column in the header", im->name,
			     rec.line);
	csv_expect_fields(r, raw);
	return 0;
}

/* ---- one row ------------------------------------------------------------ */

/* "2026-11-03T10:00:00Z", the form the store keeps. */
static int valid_timestamp(const char *s, size_t len)
{
	static const char form[] = "0000-00-00T00:00:00Z";

	if (len != sizeof(form) - 1)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (form[i] == '0' ? (s[i] < '0' || s[i] > '9') : s[i] != form[i])
			return 0;
	return memcmp(s + 5, "13", 2) < 0 && memcmp(s + 5, "00", 2) > 0 &&
	       memcmp(s + 8, "32", 2) < 0 && memcmp(s + 8, "00", 2) > 0 &&
	       memcmp(s + 11, "24", 2) < 0 && memcmp(s + 14, "60", 2) < 0 &&
	       memcmp(s + 17, "61", 2) < 0;
}

/* Formats a reason into im->reason and returns it. */
__attribute__((format(printf, 2, 3)))
static const char *reasonf(struct importer *im, const char *fmt, ...)
{
	va_list ap;

	buf_reset(&im->reason);
	va_start(ap, fmt);
	buf_vaddf(&im->reason, fmt, ap);
	va_end(ap);
	return im->reason.data;
}

/*
 * "WHAT 'VALUE': WHY" into im->reason: the value as read, but at most
 * 64 bytes and with control characters as '?', so a bad line cannot
 * put escape sequences on the user's terminal.
 */
static const char *reason_value(struct importer *im, const char *what,
				const char *value, const char *why)
{
	size_t n = strlen(value);

	buf_reset(&im->reason);
	buf_addf(&im->reason, "%s '", what);
	for (size_t i = 0; i < n && i < 64; i++)
		buf_addch(&im->reason,
			  (unsigned char)value[i] < 0x20 || value[i] == 0x7f ?
			  '?' : value[i]);
	buf_adds(&im->reason, n > 64 ? "...'" : "'");
	if (why)
		buf_addf(&im->reason, ": %s", why);
	return im->reason.data;
}

static void add_attr(struct importer *im, const char *key, const char *value,
		     size_t len)
{
	buf_addch(&im->attrs, im->attrs.len ? ',' : '{');
	json_add_string(&im->attrs, key, strlen(key));
	buf_addch(&im->attrs, ':');
	json_add_string(&im->attrs, value, len);
}

/* Checks field i of a row and puts it into sub; NULL or the reason. */
static const char *take_field(struct importer *im, size_t i, const char *f,
			      size_t len, struct store_sub *sub)
{
	const char *why;

	switch (im->kinds[i]) {
	case COL_EMAIL:
		f = trim_blanks(f, &len);
		buf_add(&im->email, f, len);
		return NULL;
	case COL_NAME:
		why = len ? address_check_name(f) : NULL;
		sub->name = len ? f : NULL;
		return why ? reasonf(im, "invalid name: %s", why) : NULL;
	case COL_STATUS:
		if (len && store_status_parse(f, &sub->status))
			return reason_value(im, "unknown status", f, NULL);
		return NULL;
	case COL_CREATED:
		if (len && !valid_timestamp(f, len))
			return reason_value(im, "invalid created time", f,
					    "expected a form like "
					    "2026-11-03T10:00:00Z");
		sub->created = len ? f : NULL;
		return NULL;
	case COL_ATTR:
		if (len)
			add_attr(im, im->keys[i], f, len);
		return NULL;
	}
	return "unknown column";
}

/* Fills sub from the record; returns NULL, or why the row is rejected.
 * On success *email is the normalised address, for the caller to free. */
static const char *take_row(struct importer *im, const struct csv_record *rec,
			    struct store_sub *sub, char **email)
{
	const char *why = NULL;

	if (rec->nfields != im->ncols)
		return reasonf(im, "expected %zu fields, found %zu", im->ncols,
			       rec->nfields);
	buf_reset(&im->attrs);
	buf_reset(&im->email);
	sub->status = im->o->status;
	for (size_t i = 0; i < rec->nfields && !why; i++)
		why = take_field(im, i, rec->fields[i], rec->lens[i], sub);
	if (why)
		return why;
	if (!im->email.len)
		return "no email address";
	if (address_normalize(im->email.data, email, &why))
		return reason_value(im, "invalid address", im->email.data,
				    why);
	if (im->attrs.len)
		buf_addch(&im->attrs, '}');
	sub->attrs = im->attrs.len ? im->attrs.data : NULL;
	return NULL;
}

/* Reports a rejected record, lines line to last, and keeps the first. */
static void reject(struct importer *im, long line, long last, const char *why)
{
	struct subcsv_summary *sum = im->sum;

	if (im->o->progress)
		im->o->progress(-1, sum, im->o->progress_arg);
	if (last > line)
		fprintf(stderr, "%s:%ld-%ld: %s\n", im->name, line, last, why);
	else
		fprintf(stderr, "%s:%ld: %s\n", im->name, line, why);
	if (!sum->rejected++) {
		sum->first_line = line;
		sum->first_last = last;
		snprintf(sum->first_reason, sizeof(sum->first_reason), "%s", why);
	}
}

static void count(struct subcsv_summary *sum, enum store_outcome outcome)
{
	switch (outcome) {
	case STORE_ADDED: sum->added++; break;
	case STORE_UPDATED: sum->updated++; break;
	case STORE_UNCHANGED: sum->unchanged++; break;
	case STORE_SUPPRESSED: sum->suppressed++; break;
	case STORE_NOT_FOUND: break;
	}
}

/* Imports one record. Returns 0 (imported or rejected) or -1 (fatal). */
static int import_row(struct importer *im, const struct csv_record *rec)
{
	struct store_sub sub = { 0 };
	enum store_outcome outcome;
	char *email = NULL;
	const char *why = take_row(im, rec, &sub, &email);
	int ret = 0;

	if (why) {
		reject(im, rec->line, rec->last, why);
		return 0;
	}
	sub.email = email;
	ret = store_sub_put(im->s, &sub, &im->why, &outcome);
	if (!ret)
		count(im->sum, outcome);
	free(email);
	return ret;
}

/* ---- the whole file ----------------------------------------------------- */

/*
 * A record of several lines with a line break in a column that cannot
 * hold one (all but attributes) is the mark of a stray quote that closed
 * further down: returns that column's name, or NULL.
 */
static const char *misplaced_break(const struct importer *im,
				   const struct csv_record *rec)
{
	if (rec->last == rec->line || rec->nfields != im->ncols)
		return NULL;
	for (size_t i = 0; i < rec->nfields; i++)
		if (im->kinds[i] != COL_ATTR &&
		    memchr(rec->fields[i], '\n', rec->lens[i]))
			return reserved[im->kinds[i]];
	return NULL;
}

/* Rejects such a record as the reader rejects a broken one (csv.h). */
static void reject_broken(struct importer *im, struct csv_reader *r,
			  const struct csv_record *rec, const char *column)
{
	long upto = csv_resync(r);

	reject(im, rec->line, upto,
	       reasonf(im, "line break in the %s field (the quote opened on "
		       "line %ld may be stray: lines %ld-%ld are read again)",
		       column, upto, upto + 1, rec->last));
}

static int import_rows(struct importer *im, struct csv_reader *r, FILE *f)
{
	struct csv_record rec;
	const char *why, *column;
	unsigned long n = 0;
	int rc;

	while ((rc = csv_read(r, &rec, &why)) != 0) {
		if (im->o->progress && ++n % SUBCSV_TICK == 0)
			im->o->progress(csv_lines(r), im->sum,
					im->o->progress_arg);
		if (rc > 0 && im->o->fmt)
			rc = (why = importfmt_row(im->o->fmt, &rec)) ? -1 : 1;
		if (rc < 0)
			reject(im, rec.line, rec.last, why);
		else if ((column = misplaced_break(im, &rec)) != NULL)
			reject_broken(im, r, &rec, column);
		else if (import_row(im, &rec))
			return SUBCSV_STORE_FAILED;
	}
	im->sum->lines = csv_lines(r);
	if (ferror(f)) {
		error("cannot read '%s': %s", im->name, strerror(errno));
		return SUBCSV_BAD_INPUT;
	}
	return 0;
}

static void importer_release(struct importer *im)
{
	for (size_t i = 0; i < im->ncols; i++)
		free(im->keys[i]);
	free(im->keys);
	free(im->kinds);
	buf_release(&im->attrs);
	buf_release(&im->email);
	buf_release(&im->reason);
}

int subcsv_import(struct store *s, FILE *f, const char *name,
		  const struct subcsv_options *o, struct subcsv_summary *sum)
{
	struct importer im = { s, o, name, sum, { "import", NULL, NULL }, 0,
			       NULL, NULL, BUF_INIT, BUF_INIT, BUF_INIT };
	struct csv_reader *r = csv_reader_new(f);
	int ret = SUBCSV_BAD_INPUT;

	memset(sum, 0, sizeof(*sum));
	im.why.detail = path_basename(name);
	if (read_header(&im, r))
		goto out;
	ret = SUBCSV_STORE_FAILED;
	if (store_begin(s))
		goto out;
	ret = import_rows(&im, r, f);
	if (ret || o->dry_run || (o->atomic && sum->rejected))
		store_rollback(s);
	else if (store_commit(s))
		ret = SUBCSV_STORE_FAILED;
	else
		sum->committed = 1;
out:
	csv_free(r);
	importer_release(&im);
	return ret;
}

/* ---- export ------------------------------------------------------------- */

struct key_list {
	char   **keys;
	size_t   n;
};

static int collect_key(const char *key, void *arg)
{
	struct key_list *kl = arg;

	kl->keys = xrealloc(kl->keys, (kl->n + 1) * sizeof(*kl->keys));
	kl->keys[kl->n++] = xstrdup(key);
	return 0;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int flush(struct buf *b, FILE *out)
{
	if (b->len && fwrite(b->data, 1, b->len, out) != b->len)
		return error("cannot write the export: %s", strerror(errno));
	buf_reset(b);
	return 0;
}

/* Writes the header and the rows; returns the number of rows or -1. */
static long export_rows(struct store_iter *it, const struct key_list *kl,
			FILE *out)
{
	const char **fields = xcalloc(NRESERVED + kl->n, sizeof(*fields));
	struct buf b = BUF_INIT;
	struct store_row row;
	long n = 0;
	int rc;

	memcpy(fields, reserved, sizeof(reserved));
	for (size_t i = 0; i < kl->n; i++)
		fields[NRESERVED + i] = kl->keys[i];
	csv_add_record(&b, fields, NRESERVED + kl->n);
	while ((rc = store_iter_next(it, &row)) == 1) {
		fields[COL_EMAIL] = row.email;
		fields[COL_NAME] = row.name ? row.name : "";
		fields[COL_STATUS] = store_status_name(row.status);
		fields[COL_CREATED] = row.created;
		for (size_t i = 0; i < kl->n; i++)
			fields[NRESERVED + i] = row.values[i] ? row.values[i] : "";
		csv_add_record(&b, fields, NRESERVED + kl->n);
		n++;
		if (b.len >= 65536 && flush(&b, out))
			rc = -1;
		if (rc < 0)
			break;
	}
	if (rc < 0 || flush(&b, out))
		n = -1;
	else if (fflush(out))
		n = error("cannot write the export: %s", strerror(errno));
	free(fields);
	buf_release(&b);
	return n;
}

long subcsv_export(struct store *s, const struct store_query *q, FILE *out)
{
	struct store_query all = *q;
	struct key_list kl = { NULL, 0 };
	struct store_iter *it = NULL;
	long n = -1;

	/* one snapshot, so the header names the columns the rows have */
	if (store_begin_read(s))
		return -1;
	if (store_attr_keys(s, q, collect_key, &kl))
		goto out;
	if (kl.n)
		qsort(kl.keys, kl.n, sizeof(*kl.keys), cmp_keys);
	all.keys = (const char *const *)kl.keys;
	all.nkeys = kl.n;
	it = store_iter_new(s, &all);
	if (it)
		n = export_rows(it, &kl, out);
out:
	store_iter_free(it);
	store_rollback(s);
	for (size_t i = 0; i < kl.n; i++)
		free(kl.keys[i]);
	free(kl.keys);
	return n;
}
