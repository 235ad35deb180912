#include "importfmt.h"

#include <limits.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "utf8.h"
#include "util.h"

/* What a column of the export means. */
enum role { R_ATTR, R_IGNORE, R_EMAIL, R_NAME, R_FIRST, R_LAST, R_STATUS,
	    R_CREATED };

/* The columns of bulletin's layout, then one per attribute. */
enum { OUT_EMAIL, OUT_NAME, OUT_STATUS, OUT_CREATED, OUT_FIXED };

static const char *const out_header[OUT_FIXED] = {
	"email", "name", "status", "created",
};

/* Maps a status value of the export to bulletin's ("" for the default),
 * or NULL when it is not a value the tool writes. */
typedef const char *status_fn(const char *value);

struct format {
	const char        *name;
	const char *const *status_cols;	/* normalised names, NULL-ended */
	status_fn         *status;
	const char *const *created_cols;	/* by preference, NULL-ended */
};

/* A column of the export. */
struct column {
	enum role role;
	int       mapped;	/* by --map: status values are bulletin's */
	int       rank;		/* created: preference, lower first */
	size_t    attr;		/* attribute: its index */
	char     *header;	/* its name in the export, for messages */
	char     *attr_name;	/* attribute: its name in bulletin */
};

struct importfmt {
	enum importfmt_kind         kind;
	const struct format        *fmt;
	const struct importfmt_map *maps;
	size_t                      nmaps;
	size_t                      ncols;	/* of the export */
	struct column              *cols;
	size_t                      nattrs;
	const char                 *file_status;	/* for every row, or NULL */
	const char                **fields;	/* the record handed back */
	size_t                     *lens;
	struct buf                  name;	/* first + last */
	struct buf                  reason;
	char                        created[21];
};

/* ---- the formats -------------------------------------------------------- */

static int is_any(const char *value, const char *const *list)
{
	for (; *list; list++)
		if (!strcasecmp(value, *list))
			return 1;
	return 0;
}

static const char *status_as_is(const char *value)
{
	return value;
}

/* Substack's email_disabled: the reader turned its emails off. */
static const char *status_substack(const char *value)
{
	static const char *const yes[] = { "true", "yes", "1", NULL };
	static const char *const no[] = { "false", "no", "0", "", NULL };

	if (is_any(value, yes))
		return "unsubscribed";
	return is_any(value, no) ? "" : NULL;
}

static const char *status_listmonk(const char *value)
{
	static const char *const off[] = { "blocklisted", "disabled", NULL };
	static const char *const on[] = { "enabled", "", NULL };

	if (is_any(value, off))
		return "unsubscribed";
	return is_any(value, on) ? "" : NULL;
}

static const char *status_buttondown(const char *value)
{
	static const struct { const char *type, *status; } types[] = {
		{ "unsubscribed", "unsubscribed" }, { "removed", "unsubscribed" },
		{ "paused", "unsubscribed" }, { "undeliverable", "bounced" },
		{ "complained", "complained" }, { "spammy", "complained" },
		{ "unactivated", "pending" }, { "regular", "" },
		{ "premium", "" }, { "gifted", "" }, { "trialed", "" },
		{ "churning", "" }, { "past_due", "" }, { "unpaid", "" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(value, types[i].type))
			return types[i].status;
	return NULL;
}

static const char *const csv_status[] = { "status", NULL };
static const char *const csv_created[] = { "created", NULL };
static const char *const mc_created[] = { "optintime", "confirmtime", NULL };
static const char *const ss_status[] = { "emaildisabled", NULL };
static const char *const created_at[] = { "createdat", NULL };
static const char *const bd_status[] = { "subscribertype", "type", NULL };
static const char *const bd_created[] = { "creationdate", NULL };
static const char *const none[] = { NULL };

static const struct format formats[] = {
	[IMPORTFMT_AUTO] = { "auto", none, status_as_is, none },
	[IMPORTFMT_CSV] = { "csv", csv_status, status_as_is, csv_created },
	[IMPORTFMT_MAILCHIMP] = { "mailchimp", none, status_as_is, mc_created },
	[IMPORTFMT_SUBSTACK] = { "substack", ss_status, status_substack,
				 created_at },
	[IMPORTFMT_LISTMONK] = { "listmonk", csv_status, status_listmonk,
				 created_at },
	[IMPORTFMT_BUTTONDOWN] = { "buttondown", bd_status, status_buttondown,
				   bd_created },
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

int importfmt_parse_kind(const char *name, enum importfmt_kind *kind)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (!strcmp(name, formats[i].name)) {
			*kind = (enum importfmt_kind)i;
			return 0;
		}
	return -1;
}

const char *importfmt_kind_name(enum importfmt_kind kind)
{
	return formats[kind].name;
}

/* ---- the header --------------------------------------------------------- */

/* A column name lower-cased without blanks, '_' and '-' (caller frees). */
static char *normalise(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++)
		if (!strchr(" \t_-", *s))
			*o++ = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	*o = '\0';
	return out;
}

static int has(char *const *norm, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(norm[i], name))
			return 1;
	return 0;
}

static enum importfmt_kind recognise(char *const *norm, size_t n)
{
	/* what subcsv_export writes, whatever attributes an earlier import
	 * left (LEID, uuid ...): its status column must be read as such */
	if (n >= 4 && !strcmp(norm[0], "email") && !strcmp(norm[1], "name") &&
	    !strcmp(norm[2], "status") && !strcmp(norm[3], "created"))
		return IMPORTFMT_CSV;
	if (has(norm, n, "uuid") && has(norm, n, "attributes"))
		return IMPORTFMT_LISTMONK;
	if (has(norm, n, "emaildisabled"))
		return IMPORTFMT_SUBSTACK;
	if (has(norm, n, "subscribertype") ||
	    (has(norm, n, "creationdate") && has(norm, n, "type")))
		return IMPORTFMT_BUTTONDOWN;
	if (has(norm, n, "optintime") || has(norm, n, "memberrating") ||
	    has(norm, n, "leid") || has(norm, n, "euid"))
		return IMPORTFMT_MAILCHIMP;
	return IMPORTFMT_CSV;
}

static int index_of(const char *const *list, const char *name)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(list[i], name))
			return i;
	return -1;
}

/* The role a --map FIELD names; an attribute otherwise. */
static enum role mapped_role(const char *field)
{
	static const struct { const char *field; enum role role; } roles[] = {
		{ "email", R_EMAIL }, { "name", R_NAME }, { "firstname", R_FIRST },
		{ "lastname", R_LAST }, { "status", R_STATUS },
		{ "created", R_CREATED }, { "ignore", R_IGNORE },
	};
	char *norm = normalise(field);
	enum role role = R_ATTR;

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(norm, roles[i].field))
			role = roles[i].role;
	free(norm);
	return role;
}

/* The role column c has by its name in the format. */
static enum role named_role(struct importfmt *f, struct column *c,
			    const char *norm)
{
	static const char *const email[] = { "email", "emailaddress", NULL };
	static const char *const name[] = { "name", "fullname", NULL };
	static const char *const first[] = { "firstname", "fname", NULL };
	static const char *const last[] = { "lastname", "lname", NULL };
	int rank = index_of(f->fmt->created_cols, norm);

	if (index_of(email, norm) >= 0)
		return R_EMAIL;
	if (index_of(name, norm) >= 0)
		return R_NAME;
	if (index_of(first, norm) >= 0)
		return R_FIRST;
	if (index_of(last, norm) >= 0)
		return R_LAST;
	if (index_of(f->fmt->status_cols, norm) >= 0)
		return R_STATUS;
	if (rank < 0)
		return R_ATTR;
	c->rank = rank;
	return R_CREATED;
}

/* Gives column c its role: a --map, else its name. */
static void assign(struct importfmt *f, struct column *c, const char *norm,
		   int *mapped)
{
	for (size_t m = 0; m < f->nmaps; m++) {
		if (strcasecmp(f->maps[m].column, c->header))
			continue;
		mapped[m] = 1;
		c->mapped = 1;
		c->role = mapped_role(f->maps[m].field);
		c->rank = -1;	/* a mapped date comes first */
		if (c->role == R_ATTR)
			c->attr_name = xstrdup(f->maps[m].field);
		return;
	}
	c->role = named_role(f, c, norm);
	if (c->role == R_ATTR)
		c->attr_name = xstrdup(c->header);
}

/* A column name fit to be an attribute's: named, and without control
 * characters or line breaks (they would not survive an export). The
 * messages are subcsv's, with the column's number in the export. */
static int check_name(const struct importfmt *f, size_t i, const char *name,
		      long line)
{
	const char *h = f->cols[i].header;
	size_t len = strlen(h);
	struct buf shown = BUF_INIT;
	int bad = 0;

	if (!len && f->cols[i].role == R_ATTR)
		return error("%s:%ld: column %zu has no name", name, line, i + 1);
	for (size_t k = 0; k < len; k++) {
		int ctl = (unsigned char)h[k] < 0x20 || h[k] == 0x7f;

		if (k < 64)
			buf_addch(&shown, ctl ? '?' : h[k]);
		bad |= ctl;
	}
	if (bad)
		error("%s:%ld: column %zu's name '%s%s': control characters and "
		      "line breaks are not allowed", name, line, i + 1,
		      shown.data, len > 64 ? "..." : "");
	buf_release(&shown);
	return bad ? -1 : 0;
}

/* True if columns i and j cannot both be: one meaning, or one name. */
static int clash(const struct column *c, size_t i, size_t j)
{
	if (c[i].role == R_ATTR)
		return c[j].role == R_ATTR &&
		       !strcmp(c[i].attr_name, c[j].attr_name);
	return c[i].role == c[j].role && c[i].role != R_IGNORE &&
	       c[i].role != R_CREATED;
}

/* One column at most per meaning (dates excepted: the first filled wins). */
static int check_roles(const struct importfmt *f, const char *name, long line)
{
	const struct column *c = f->cols;

	for (size_t i = 0; i < f->ncols; i++) {
		if (check_name(f, i, name, line))
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (!clash(c, i, j))
				continue;
			if (c[i].role == R_ATTR ||
			    !strcasecmp(c[i].header, c[j].header))
				return error("%s:%ld: column %zu repeats column "
					     "%zu's name", name, line, i + 1,
					     j + 1);
			return error("%s:%ld: columns '%s' and '%s' both give "
				     "the %s", name, line, c[j].header,
				     c[i].header, c[i].role == R_EMAIL ?
				     "address" : c[i].role == R_STATUS ?
				     "status" : "name");
		}
	}
	for (size_t i = 0; i < f->ncols; i++)
		if (c[i].role == R_EMAIL)
			return 0;
	return error("%s:%ld: no 'email' column in the header (email, Email "
		     "Address, email_address or E-mail; or --map COLUMN=email)",
		     name, line);
}

/* Mailchimp's unsubscribed and cleaned files say the status of all. */
static const char *file_status(const struct importfmt *f, char *const *norm,
			       const char *name)
{
	const char *base = path_basename(name);

	if (f->kind != IMPORTFMT_MAILCHIMP)
		return NULL;
	if (has(norm, f->ncols, "unsubtime"))
		return "unsubscribed";
	if (has(norm, f->ncols, "cleantime"))
		return "bounced";
	/* the columns say nothing more: the export's file names do */
	if (strstr(base, "unsubscribed"))
		return "unsubscribed";
	if (strstr(base, "cleaned"))
		return "bounced";
	/* contacts who never subscribed (transactional): never sent to */
	return strstr(base, "nonsubscribed") ? "pending" : NULL;
}

/* The header handed back: bulletin's columns, then the attributes. */
static void out_header_record(struct importfmt *f, struct csv_record *rec)
{
	size_t n = OUT_FIXED;

	for (size_t i = 0; i < f->ncols; i++)
		if (f->cols[i].role == R_ATTR)
			n++;
	f->fields = xcalloc(n, sizeof(*f->fields));
	f->lens = xcalloc(n, sizeof(*f->lens));
	for (size_t i = 0; i < OUT_FIXED; i++)
		f->fields[i] = out_header[i];
	for (size_t i = 0; i < f->ncols; i++)
		if (f->cols[i].role == R_ATTR) {
			f->cols[i].attr = f->nattrs;
			f->fields[OUT_FIXED + f->nattrs++] = f->cols[i].attr_name;
		}
	for (size_t i = 0; i < n; i++)
		f->lens[i] = strlen(f->fields[i]);
	rec->fields = f->fields;
	rec->lens = f->lens;
	rec->nfields = n;
}

int importfmt_header(struct importfmt *f, const char *name,
		     struct csv_record *rec)
{
	char **norm = xcalloc(rec->nfields, sizeof(*norm));
	int *mapped = xcalloc(f->nmaps + 1, sizeof(*mapped));
	int ret = -1;

	f->ncols = rec->nfields;
	f->cols = xcalloc(f->ncols, sizeof(*f->cols));
	for (size_t i = 0; i < f->ncols; i++) {
		size_t len = rec->lens[i];
		const char *h = trim_blanks(rec->fields[i], &len);

		f->cols[i].header = xstrndup(h, len);
		norm[i] = normalise(f->cols[i].header);
	}
	if (f->kind == IMPORTFMT_AUTO)
		f->kind = recognise(norm, f->ncols);
	f->fmt = &formats[f->kind];
	for (size_t i = 0; i < f->ncols; i++)
		assign(f, &f->cols[i], norm[i], mapped);
	for (size_t m = 0; m < f->nmaps; m++)
		if (!mapped[m]) {
			error("%s:%ld: --map: no column '%s' in the header",
			      name, rec->line, f->maps[m].column);
			goto out;
		}
	if (check_roles(f, name, rec->line))
		goto out;
	f->file_status = file_status(f, norm, name);
	out_header_record(f, rec);
	ret = 0;
out:
	for (size_t i = 0; i < f->ncols; i++)
		free(norm[i]);
	free(norm);
	free(mapped);
	return ret;
}

enum importfmt_kind importfmt_kind(const struct importfmt *f)
{
	return f->kind;
}

/* ---- a row -------------------------------------------------------------- */

/* "WHAT 'VALUE' (column COLUMN): WHY": at most 64 bytes of the value,
 * its controls escaped. */
static const char *reason_value(struct importfmt *f, const char *what,
				const char *value, size_t len,
				const char *column, const char *why)
{
	size_t n = len < 64 ? len : 64;

	while (n < len && n && ((unsigned char)value[n] & 0xc0) == 0x80)
		n--;	/* not in the middle of a character */
	buf_reset(&f->reason);
	buf_addf(&f->reason, "%s '", what);
	utf8_escape_controls(&f->reason, value, n);
	buf_adds(&f->reason, n < len ? "...'" : "'");
	buf_addf(&f->reason, " (column %s)", column);
	if (why)
		buf_addf(&f->reason, ": %s", why);
	return f->reason.data;
}

/* The name: its own column, else first and last joined. */
static void join_name(struct importfmt *f, const struct csv_record *rec,
		      long first, long last)
{
	const char *parts[2] = { NULL, NULL };
	size_t lens[2] = { 0, 0 };

	if (f->lens[OUT_NAME])
		return;
	if (first >= 0) {
		lens[0] = rec->lens[first];
		parts[0] = trim_blanks(rec->fields[first], &lens[0]);
	}
	if (last >= 0) {
		lens[1] = rec->lens[last];
		parts[1] = trim_blanks(rec->fields[last], &lens[1]);
	}
	buf_reset(&f->name);
	for (int k = 0; k < 2; k++) {
		if (!lens[k])
			continue;
		if (f->name.len)
			buf_addch(&f->name, ' ');
		buf_add(&f->name, parts[k], lens[k]);
	}
	f->fields[OUT_NAME] = f->name.data;
	f->lens[OUT_NAME] = f->name.len;
}

/* The status of the row from column i; NULL or the reason. */
static const char *take_status(struct importfmt *f,
			       const struct csv_record *rec, size_t i)
{
	size_t len = rec->lens[i];
	const char *v = trim_blanks(rec->fields[i], &len);
	char *value = xstrndup(v, len);
	/* --map COLUMN=status: bulletin's names, which subcsv checks */
	const char *st = f->cols[i].mapped ? value : f->fmt->status(value);

	if (!st) {
		free(value);
		return reason_value(f, "unknown status", v, len,
				    f->cols[i].header, NULL);
	}
	/* as_is hands back value itself: keep the field's bytes instead */
	f->fields[OUT_STATUS] = st == value ? rec->fields[i] : st;
	f->lens[OUT_STATUS] = st == value ? rec->lens[i] : strlen(st);
	free(value);
	return NULL;
}

static const char *take_created(struct importfmt *f,
				const struct csv_record *rec, long i)
{
	size_t len = rec->lens[i];
	const char *v = trim_blanks(rec->fields[i], &len);

	if (importfmt_date(v, len, f->created))
		return reason_value(f, "invalid created time", v, len,
				    f->cols[i].header,
				    "expected a date such as 2026-11-03 or "
				    "2026-11-03T10:00:00Z");
	f->fields[OUT_CREATED] = f->created;
	f->lens[OUT_CREATED] = strlen(f->created);
	return NULL;
}

/* Where the columns of a row go; first, last and created are the
 * columns that give them (-1: none). NULL or the reason. */
static const char *take_columns(struct importfmt *f,
				const struct csv_record *in, long *first,
				long *last, long *created)
{
	const char *why = NULL;

	for (size_t i = 0; i < f->ncols && !why; i++) {
		const struct column *c = &f->cols[i];
		const char *v = in->fields[i];
		size_t len = in->lens[i], out;

		switch (c->role) {
		case R_EMAIL: case R_NAME:
			out = c->role == R_EMAIL ? OUT_EMAIL : OUT_NAME;
			f->fields[out] = v;
			f->lens[out] = len;
			break;
		case R_FIRST: *first = (long)i; break;
		case R_LAST: *last = (long)i; break;
		case R_STATUS:
			if (!f->file_status)
				why = take_status(f, in, i);
			break;
		case R_CREATED:
			if (len && (*created < 0 ||
				    c->rank < f->cols[*created].rank))
				*created = (long)i;
			break;
		case R_ATTR:
			f->fields[OUT_FIXED + c->attr] = v;
			f->lens[OUT_FIXED + c->attr] = len;
			break;
		case R_IGNORE:
			break;
		}
	}
	return why;
}

const char *importfmt_row(struct importfmt *f, struct csv_record *rec)
{
	long first = -1, last = -1, created = -1;
	const char *why;
	struct csv_record in = *rec;
	size_t n = OUT_FIXED + f->nattrs;

	if (in.nfields != f->ncols) {
		buf_reset(&f->reason);
		buf_addf(&f->reason, "expected %zu fields, found %zu", f->ncols,
			 in.nfields);
		return f->reason.data;
	}
	for (size_t k = 0; k < n; k++) {
		f->fields[k] = "";
		f->lens[k] = 0;
	}
	if (f->file_status) {
		f->fields[OUT_STATUS] = f->file_status;
		f->lens[OUT_STATUS] = strlen(f->file_status);
	}
	why = take_columns(f, &in, &first, &last, &created);
	if (!why && created >= 0)
		why = take_created(f, &in, created);
	if (why)
		return why;
	join_name(f, &in, first, last);
	rec->fields = f->fields;
	rec->lens = f->lens;
	rec->nfields = n;
	return NULL;
}

/* ---- dates -------------------------------------------------------------- */

/* Reads n digits at s[*pos]; -1 if they are not there. */
static int digits(const char *s, size_t len, size_t *pos, int n)
{
	int v = 0;

	if (*pos + (size_t)n > len)
		return -1;
	for (int k = 0; k < n; k++) {
		char c = s[*pos + (size_t)k];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*pos += (size_t)n;
	return v;
}

static int eat(const char *s, size_t len, size_t *pos, char c)
{
	if (*pos < len && s[*pos] == c) {
		(*pos)++;
		return 1;
	}
	return 0;
}

/* [T or space]HH:MM[:SS[.fraction]] into tm; 0 or -1. */
static int read_time(const char *s, size_t len, size_t *pos, struct tm *tm)
{
	if (*pos == len || (s[*pos] != 'T' && s[*pos] != ' ') ||
	    *pos + 1 == len || s[*pos + 1] < '0' || s[*pos + 1] > '9')
		return 0;	/* a date alone */
	(*pos)++;
	tm->tm_hour = digits(s, len, pos, 2);
	if (tm->tm_hour < 0 || !eat(s, len, pos, ':') ||
	    (tm->tm_min = digits(s, len, pos, 2)) < 0)
		return -1;
	if (eat(s, len, pos, ':') && (tm->tm_sec = digits(s, len, pos, 2)) < 0)
		return -1;
	if (eat(s, len, pos, '.') || eat(s, len, pos, ','))
		while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9')
			(*pos)++;
	return tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60 ? -1 : 0;
}

/* Z, UTC, GMT, +HH, +HHMM, +HH:MM (or -): the offset in seconds. */
static int read_zone(const char *s, size_t len, size_t *pos, long *offset)
{
	int sign, h, m = 0;

	*offset = 0;
	if (*pos < len && s[*pos] == ' ' && *pos + 1 < len)
		(*pos)++;
	if (*pos == len || eat(s, len, pos, 'Z'))
		return 0;
	if (len - *pos == 3 && (!strncmp(s + *pos, "UTC", 3) ||
				!strncmp(s + *pos, "GMT", 3))) {
		*pos = len;
		return 0;
	}
	sign = eat(s, len, pos, '+') ? 1 : eat(s, len, pos, '-') ? -1 : 0;
	if (!sign || (h = digits(s, len, pos, 2)) < 0 || h > 14)
		return -1;
	if (*pos < len && ((eat(s, len, pos, ':'), m = digits(s, len, pos, 2))
			   < 0 || m > 59))
		return -1;
	*offset = sign * (h * 3600L + m * 60L);
	return 0;
}

int importfmt_date(const char *s, size_t len, char out[21])
{
	struct tm tm = { 0 }, check;
	size_t pos = 0;
	long offset;
	time_t t;

	tm.tm_year = digits(s, len, &pos, 4) - 1900;
	if (tm.tm_year < 0 || !eat(s, len, &pos, '-') ||
	    (tm.tm_mon = digits(s, len, &pos, 2) - 1) < 0 ||
	    !eat(s, len, &pos, '-') || (tm.tm_mday = digits(s, len, &pos, 2)) < 1)
		return -1;
	if (read_time(s, len, &pos, &tm) || read_zone(s, len, &pos, &offset) ||
	    pos != len || tm.tm_mon > 11)
		return -1;
	if (tm.tm_sec == 60)
		tm.tm_sec = 59;	/* a leap second: the store has none */
	check = tm;
	t = timegm(&tm);
	/* timegm normalises 31 February into March: refuse that */
	if (t == (time_t)-1 || tm.tm_mday != check.tm_mday ||
	    tm.tm_mon != check.tm_mon)
		return -1;
	t -= offset;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999)
		return -1;
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

struct importfmt *importfmt_new(enum importfmt_kind kind,
				const struct importfmt_map *maps, size_t nmaps)
{
	struct importfmt *f = xcalloc(1, sizeof(*f));

	f->kind = kind;
	f->fmt = &formats[kind];
	f->maps = maps;
	f->nmaps = nmaps;
	buf_init(&f->name, 0);
	buf_init(&f->reason, 0);
	return f;
}

void importfmt_free(struct importfmt *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->ncols; i++) {
		free(f->cols[i].header);
		free(f->cols[i].attr_name);
	}
	free(f->cols);
	free(f->fields);
	free(f->lens);
	buf_release(&f->name);
	buf_release(&f->reason);
	free(f);
}
