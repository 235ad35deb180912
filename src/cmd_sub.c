/*
 * bulletin sub: the subscriber list. A nested command table; each
 * subcommand declares its options and arguments in the table, parses
 * nothing itself, calls the store and prints.
 */

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "address.h"
#include "buf.h"
#include "commands.h"
#include "csv.h"
#include "importfmt.h"
#include "json.h"
#include "progress.h"
#include "store.h"
#include "subcsv.h"
#include "utf8.h"
#include "util.h"

enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

#define MAX_MAPS 64	/* --map options */

/* Every option of every subcommand; each subcommand lists the letters
 * it accepts. */
struct opts {
	const char *name;
	const char *status;
	const char *format;
	const char *limit;
	const char *reason;
	const char *from;
	const char *map[MAX_MAPS];	/* --map, in order */
	int         nmaps;		/* MAX_MAPS + 1: too many */
	int         dry_run;
	int         atomic;
	int         help;
	/* the values converted, before anything is set up (convert_values) */
	int             any_status;	/* no --status */
	enum sub_status st;
	enum format     fmt;
	long            lim;		/* 0: no --limit */
	enum importfmt_kind from_kind;
};

struct opt_def {
	int         key;	/* the letter a subcommand lists it by */
	const char *name;
	int         has_arg;
	size_t      offset;	/* of its const char * or int in struct opts */
};

#define O(key, name, arg, field) \
	{ key, name, arg, offsetof(struct opts, field) }

static const struct opt_def opt_defs[] = {
	O('n', "name", required_argument, name),
	O('s', "status", required_argument, status),
	O('f', "format", required_argument, format),
	O('l', "limit", required_argument, limit),
	O('r', "reason", required_argument, reason),
	O('F', "from", required_argument, from),
	O('m', "map", required_argument, map),
	O('d', "dry-run", no_argument, dry_run),
	O('a', "atomic", no_argument, atomic),
	O('h', "help", no_argument, help),
};

#define NOPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

struct subcommand {
	const char *name;
	int (*fn)(struct store *s, const struct opts *o, char **args);
	const char *options;	/* letters of opt_defs, besides --help */
	int         nargs;	/* positional arguments */
	int         needs;	/* NEED_STORE, or NEED_STORE_RO: only reads */
	const char *summary;
	const char *usage;	/* --help: usage line(s) and description */
};

/* What a command-line change records as its cause. */
static const struct store_why by_command = { "command", NULL, NULL };

/* ---- small helpers ------------------------------------------------------ */

/* Normalises an address from the command line; NULL after error(). */
static char *normalize_arg(const char *arg)
{
	struct buf shown = BUF_INIT;
	const char *why = NULL;
	char *email = NULL;

	if (address_normalize(arg, &email, &why)) {
		utf8_escape_controls(&shown, arg, strlen(arg));
		error("invalid address '%s': %s", shown.data, why);
	}
	buf_release(&shown);
	return email;
}

/* " (as 'STORED')" when the row was added in another form of email. */
static const char *stored_as(struct buf *b, const struct store_row *row,
			     const char *email)
{
	buf_reset(b);
	if (strcmp(row->email, email))
		buf_addf(b, " (as '%s')", row->email);
	return b->data;
}


/* Appends s padded with spaces to width columns. */
static void add_padded(struct buf *b, const char *s, size_t width)
{
	size_t w = utf8_width(s, strlen(s));

	buf_adds(b, s);
	buf_addchars(b, ' ', width > w ? width - w : 0);
}

/* Writes b to stdout once it holds enough; force empties it. */
static int emit(struct buf *b, int force)
{
	if (!force && b->len < 65536)
		return 0;
	if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
		return error("cannot write: %s", strerror(errno));
	buf_reset(b);
	if (force && fflush(stdout))
		return error("cannot write: %s", strerror(errno));
	return 0;
}

/* ---- add, rm, unsubscribe, resubscribe ---------------------------------- */

/* Explains why an address was not added: its status, or erased. */
static void explain_suppressed(struct store *s, const char *email)
{
	struct buf as = BUF_INIT;
	struct store_row row;

	if (store_sub_get(s, email, &row) == 1)
		error("'%s'%s is %s: not added (only 'bulletin sub resubscribe' "
		      "makes it active again)", email,
		      stored_as(&as, &row, email),
		      store_status_name(row.status));
	else
		error("'%s' was erased and is on the suppression list: not "
		      "added (see 'bulletin sub resubscribe --help')", email);
	buf_release(&as);
}

/* Says that email was already there, maybe in another form. */
static void print_unchanged(struct store *s, const char *email)
{
	struct buf as = BUF_INIT;
	struct store_row row;

	if (store_sub_get(s, email, &row) == 1)
		stored_as(&as, &row, email);
	printf("%s%s is already subscribed: unchanged\n", email, as.data);
	buf_release(&as);
}

static int add_status(const struct opts *o, enum sub_status *st)
{
	*st = SUB_ACTIVE;
	if (!o->status)
		return 0;
	if (store_status_parse(o->status, st) ||
	    (*st != SUB_ACTIVE && *st != SUB_PENDING))
		return error("--status must be pending or active, not '%s'",
			     o->status);
	return 0;
}

static int sub_add(struct store *s, const struct opts *o, char **args)
{
	struct store_sub sub = { NULL, o->name, NULL, SUB_ACTIVE, NULL };
	enum store_outcome outcome;
	const char *why = o->name ? address_check_name(o->name) : NULL;
	char *email = NULL;
	int ret = EX_USAGE;

	if (add_status(o, &sub.status))
		goto out;
	ret = EX_DATAERR;
	if (why) {
		error("invalid name '%s': %s", o->name, why);
		goto out;
	}
	if (!(email = normalize_arg(args[0])))
		goto out;
	sub.email = email;
	ret = EX_SOFTWARE;
	if (store_sub_put(s, &sub, &by_command, &outcome))
		goto out;
	ret = 0;
	if (outcome == STORE_ADDED)
		printf("added %s (%s)\n", email, store_status_name(sub.status));
	else if (outcome == STORE_UPDATED)
		printf("updated %s\n", email);
	else if (outcome == STORE_UNCHANGED)
		print_unchanged(s, email);
	else {
		explain_suppressed(s, email);
		ret = EX_DATAERR;
	}
out:
	free(email);
	return ret;
}

/* Prints what happened to email; NOT_FOUND is an error (EX_NOINPUT). */
static int report(struct store *s, const char *email, enum store_outcome oc,
		  const char *done, const char *note)
{
	struct store_row row;

	switch (oc) {
	case STORE_ADDED:
	case STORE_UPDATED:
		printf("%s %s%s\n", done, email, note);
		return 0;
	case STORE_UNCHANGED:
		if (store_sub_get(s, email, &row) == 1)
			printf("%s is already %s: unchanged\n", email,
			       store_status_name(row.status));
		else
			printf("%s was already erased: unchanged\n", email);
		return 0;
	default:
		error("no subscriber '%s'", email);
		return EX_NOINPUT;
	}
}

typedef int (*change_fn)(struct store *s, const char *email,
			 const struct store_why *why, enum store_outcome *oc);

/* The shape of rm, unsubscribe, resubscribe: an address, a change. */
struct change {
	change_fn   fn;
	const char *done;	/* "unsubscribed": what is printed, then the address */
	const char *note;	/* printed after the address */
};

static int change(struct store *s, const char *arg, const struct change *c,
		  const char *reason)
{
	struct store_why why = by_command;
	enum store_outcome outcome;
	char *email = normalize_arg(arg);
	int ret = EX_DATAERR;

	why.detail = reason;
	if (email)
		ret = c->fn(s, email, &why, &outcome) ? EX_SOFTWARE :
		      report(s, email, outcome, c->done, c->note);
	free(email);
	return ret;
}

static int unsubscribe(struct store *s, const char *email,
		       const struct store_why *why, enum store_outcome *oc)
{
	return store_sub_suppress(s, email, SUB_UNSUBSCRIBED, why, oc);
}

static int sub_unsubscribe(struct store *s, const struct opts *o, char **args)
{
	static const struct change c = { unsubscribe, "unsubscribed", "" };

	return change(s, args[0], &c, o->reason);
}

static int sub_resubscribe(struct store *s, const struct opts *o, char **args)
{
	static const struct change c = {
		store_sub_resubscribe, "resubscribed", ""
	};

	if (!o->reason || !*o->reason) {
		error("resubscribe needs --reason TEXT: why this address may "
		      "receive mail again");
		return EX_USAGE;
	}
	return change(s, args[0], &c, o->reason);
}

static int sub_rm(struct store *s, const struct opts *o, char **args)
{
	static const struct change c = {
		store_sub_erase, "erased",
		": only a hash of the address stays, on the suppression list"
	};

	(void)o;
	return change(s, args[0], &c, NULL);
}

/* ---- show --------------------------------------------------------------- */

/* Appends stored text as a terminal may show it: controls escaped. */
static void add_shown(struct buf *b, const char *s)
{
	utf8_escape_controls(b, s, strlen(s));
}

static int add_event(const struct store_event *ev, void *arg)
{
	struct buf *b = arg;

	buf_adds(b, "  ");
	add_shown(b, ev->created);
	buf_addf(b, "  %-11s  ", ev->type);
	add_shown(b, ev->method);
	if (ev->campaign) {
		buf_adds(b, "  campaign ");
		add_shown(b, ev->campaign);
	}
	if (ev->detail) {
		buf_adds(b, "  ");
		add_shown(b, ev->detail);
	}
	buf_addch(b, '\n');
	return emit(b, 0);
}

static void add_row(struct buf *b, const struct store_row *row)
{
	const char *label[] = { "email:    ", "name:     ", "status:   ",
				"created:  ", "updated:  ", "attrs:    " };
	const char *value[] = { row->email, row->name ? row->name : "",
				store_status_name(row->status), row->created,
				row->updated, row->attrs };

	for (size_t i = 0; i < 6; i++) {
		if (!value[i])	/* no attributes */
			continue;
		buf_adds(b, label[i]);
		add_shown(b, value[i]);
		buf_addch(b, '\n');
	}
}

static int sub_show(struct store *s, const struct opts *o, char **args)
{
	struct buf b = BUF_INIT;
	struct store_row row;
	char *email = normalize_arg(args[0]);
	int ret = EX_DATAERR, rc;

	(void)o;
	if (!email)
		goto out;
	ret = EX_SOFTWARE;
	rc = store_sub_get(s, email, &row);
	if (rc < 0)
		goto out;
	ret = EX_NOINPUT;
	if (rc == 0) {
		rc = store_is_erased(s, email);
		error(rc == 1 ? "no subscriber '%s' (the address was erased and "
				"is on the suppression list)" :
				"no subscriber '%s'", email);
		goto out;
	}
	add_row(&b, &row);
	buf_adds(&b, "history:\n");
	ret = store_sub_events(s, row.id, add_event, &b) || emit(&b, 1) ?
	      EX_SOFTWARE : 0;
out:
	buf_release(&b);
	free(email);
	return ret;
}

/* ---- list --------------------------------------------------------------- */

static const char *const list_header[] = {
	"email", "name", "status", "created", "updated",
};
#define LIST_COLS 5

/* The row's fields in list_header's order. */
static void row_fields(const struct store_row *row, const char **f)
{
	f[0] = row->email;
	f[1] = row->name ? row->name : "";
	f[2] = store_status_name(row->status);
	f[3] = row->created;
	f[4] = row->updated;
}

/* The row's fields as a terminal shows them (see add_shown), each in
 * its own buffer of cell, reused from row to row. */
static void table_fields(const struct store_row *row, struct buf *cell,
			 const char **f)
{
	row_fields(row, f);
	for (int i = 0; i < LIST_COLS; i++) {
		buf_reset(&cell[i]);
		add_shown(&cell[i], f[i]);
		f[i] = cell[i].data;
	}
}

static void release_cells(struct buf *cell)
{
	for (int i = 0; i < LIST_COLS; i++)
		buf_release(&cell[i]);
}

static void table_line(struct buf *b, const char *const *f,
		       const size_t *width)
{
	for (int i = 0; i < LIST_COLS - 1; i++) {
		add_padded(b, f[i], width[i]);
		buf_adds(b, "  ");
	}
	buf_adds(b, f[LIST_COLS - 1]);
	buf_addch(b, '\n');
}

/* Pass one of a table: the widest cell of each column. */
static int table_widths(struct store *s, const struct store_query *q,
			size_t *width)
{
	struct store_iter *it = store_iter_new(s, q);
	struct buf cell[LIST_COLS] = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT,
				       BUF_INIT };
	const char *f[LIST_COLS];
	struct store_row row;
	int rc;

	if (!it)
		return -1;
	for (int i = 0; i < LIST_COLS; i++)
		width[i] = utf8_width(list_header[i], strlen(list_header[i]));
	while ((rc = store_iter_next(it, &row)) == 1) {
		table_fields(&row, cell, f);
		for (int i = 0; i < LIST_COLS; i++) {
			size_t w = utf8_width(f[i], strlen(f[i]));

			width[i] = w > width[i] ? w : width[i];
		}
	}
	release_cells(cell);
	store_iter_free(it);
	return rc;
}

static void format_csv(struct buf *b, const struct store_row *row)
{
	const char *f[LIST_COLS];

	row_fields(row, f);
	csv_add_record(b, f, LIST_COLS);
}

static void format_json(struct buf *b, const struct store_row *row, int first)
{
	const char *f[LIST_COLS];

	row_fields(row, f);
	buf_adds(b, first ? "\n  {" : ",\n  {");
	for (int i = 0; i < LIST_COLS; i++) {
		buf_addf(b, "\"%s\": ", list_header[i]);
		if (i == 1)
			json_add_string_or_null(b, row->name);
		else
			json_add_string(b, f[i], strlen(f[i]));
		buf_adds(b, ", ");
	}
	buf_adds(b, "\"attrs\": ");
	buf_adds(b, row->attrs ? row->attrs : "null");
	buf_addch(b, '}');
}

/* Pass two (or the only pass): every row in the chosen format. */
static int list_rows(struct store *s, const struct store_query *q,
		     enum format fmt, const size_t *width)
{
	struct store_iter *it = store_iter_new(s, q);
	struct buf b = BUF_INIT;
	struct buf cell[LIST_COLS] = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT,
				       BUF_INIT };
	const char *f[LIST_COLS];
	struct store_row row;
	int rc = -1, n = 0;

	if (!it)
		return -1;
	if (fmt == FORMAT_TABLE)
		table_line(&b, list_header, width);
	else if (fmt == FORMAT_CSV)
		csv_add_record(&b, list_header, LIST_COLS);
	else
		buf_addch(&b, '[');
	while ((rc = store_iter_next(it, &row)) == 1) {
		if (fmt == FORMAT_TABLE) {
			table_fields(&row, cell, f);
			table_line(&b, f, width);
		} else if (fmt == FORMAT_CSV) {
			format_csv(&b, &row);
		} else {
			format_json(&b, &row, !n++);
		}
		if (emit(&b, 0))
			break;
	}
	if (fmt == FORMAT_JSON)
		buf_adds(&b, n ? "\n]\n" : "]\n");
	rc = rc < 0 || emit(&b, 1) ? -1 : 0;
	store_iter_free(it);
	release_cells(cell);
	buf_release(&b);
	return rc;
}

static int sub_list(struct store *s, const struct opts *o, char **args)
{
	struct store_query q = { o->any_status, o->st, o->lim, NULL, 0 };
	size_t width[LIST_COLS] = { 0 };
	int ret;

	(void)args;
	/* one snapshot for both passes, so the widths fit the rows */
	if (store_begin_read(s))
		return EX_SOFTWARE;
	ret = o->fmt == FORMAT_TABLE ? table_widths(s, &q, width) : 0;
	if (!ret)
		ret = list_rows(s, &q, o->fmt, width);
	store_rollback(s);
	return ret ? EX_SOFTWARE : 0;
}

/* ---- import, export ----------------------------------------------------- */

static void print_summary(const struct subcsv_summary *sum,
			  const struct subcsv_options *o)
{
	printf("lines %ld: added %ld, updated %ld, unchanged %ld, "
	       "suppressed %ld, rejected %ld", sum->lines, sum->added,
	       sum->updated, sum->unchanged, sum->suppressed, sum->rejected);
	if (sum->rejected)
		printf(" (%sline %ld-%ld: %s)", sum->rejected > 1 ? "first: " : "",
		       sum->first_line, sum->first_last, sum->first_reason);
	printf("\n");
	if (o->dry_run)
		printf("dry run: nothing was changed\n");
	else if (!sum->committed)
		printf("nothing was imported: %ld record%s rejected (--atomic)\n",
		       sum->rejected, sum->rejected == 1 ? "" : "s");
}

/* The progress bar of an import on a terminal: lines read of the
 * file's lines (counted first; "?" for a pipe), rate, ETA, rejects. */
struct import_bar {
	struct progress bar;
	long            total;	/* lines in the file, or -1 */
};

/* The lines of f from where it is, as csv_lines counts them (a last
 * line without its line break counts too), f put back where it was;
 * -1 when f is not a regular file (a pipe cannot be read twice). */
static long count_lines(FILE *f)
{
	char chunk[65536];
	long lines = 0;
	size_t n;
	int last = '\n';
	struct stat st;
	off_t at = ftello(f);

	if (at < 0 || fstat(fileno(f), &st) || !S_ISREG(st.st_mode))
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		for (const char *p = chunk; (p = memchr(p, '\n',
				(size_t)(chunk + n - p))) != NULL; p++)
			lines++;
		last = chunk[n - 1];
	}
	if (ferror(f) || fseeko(f, at, SEEK_SET)) {
		clearerr(f);
		return -1;
	}
	return lines + (last != '\n');
}

static void import_progress(long lines, const struct subcsv_summary *sum,
			    void *arg)
{
	struct import_bar *ib = arg;
	char extra[64];

	if (lines < 0) {	/* a reject is about to be reported */
		progress_clear(&ib->bar);
		return;
	}
	snprintf(extra, sizeof(extra), "lines, rejected %ld", sum->rejected);
	progress_count(&ib->bar, lines, ib->total, extra, 0);
}

static int import_file(struct store *s, const char *path,
		       const struct subcsv_options *o)
{
	int is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	struct subcsv_options with_bar = *o;
	struct import_bar ib;
	struct subcsv_summary sum;
	int rc;

	if (!f) {
		error("cannot open '%s': %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	progress_start(&ib.bar);
	if (ib.bar.tty) {
		ib.total = count_lines(f);
		with_bar.progress = import_progress;
		with_bar.progress_arg = &ib;
	}
	rc = subcsv_import(s, f, is_stdin ? "stdin" : path, &with_bar, &sum);
	if (!rc)
		progress_count(&ib.bar, sum.lines, sum.lines, "lines", 1);
	progress_clear(&ib.bar);
	if (!is_stdin)
		fclose(f);
	if (rc == SUBCSV_BAD_INPUT)
		return EX_DATAERR;
	if (rc)
		return EX_SOFTWARE;
	print_summary(&sum, o);
	return sum.rejected ? EX_DATAERR : 0;
}

static int sub_import(struct store *s, const struct opts *o, char **args)
{
	struct importfmt_map maps[MAX_MAPS];
	struct subcsv_options so = {
		.status = o->any_status ? SUB_ACTIVE : o->st,
		.dry_run = o->dry_run, .atomic = o->atomic,
	};
	int ret;

	/* COLUMN=FIELD, split at the last '=' (convert_values checked it) */
	for (int i = 0; i < o->nmaps; i++) {
		const char *eq = strrchr(o->map[i], '=');

		maps[i].column = xstrndup(o->map[i], (size_t)(eq - o->map[i]));
		maps[i].field = eq + 1;
	}
	so.fmt = importfmt_new(o->from ? o->from_kind : IMPORTFMT_AUTO, maps,
			       (size_t)o->nmaps);
	ret = import_file(s, args[0], &so);
	importfmt_free(so.fmt);
	for (int i = 0; i < o->nmaps; i++)
		free((char *)maps[i].column);
	return ret;
}

static int sub_export(struct store *s, const struct opts *o, char **args)
{
	struct store_query q = { o->any_status, o->st, 0, NULL, 0 };

	(void)args;
	return subcsv_export(s, &q, stdout) < 0 ? EX_SOFTWARE : 0;
}

/* ---- stats -------------------------------------------------------------- */

static int print_month(const struct store_month *m, void *arg)
{
	int *first = arg;

	if (*first)
		printf("\nmonth    %12s %12s\n", "new", "unsubscribed");
	*first = 0;
	printf("%-8s %12lld %12lld\n", m->month, m->subscribed,
	       m->unsubscribed);
	return 0;
}

static int sub_stats(struct store *s, const struct opts *o, char **args)
{
	long long counts[SUB_NSTATUS], total = 0;
	int first = 1, ret = EX_SOFTWARE;

	(void)o; (void)args;
	if (store_begin_read(s))
		return EX_SOFTWARE;
	if (store_count_by_status(s, counts))
		goto out;
	printf("%-13s %12s\n", "status", "subscribers");
	for (int i = 0; i < SUB_NSTATUS; i++) {
		printf("%-13s %12lld\n", store_status_name((enum sub_status)i),
		       counts[i]);
		total += counts[i];
	}
	printf("%-13s %12lld\n", "total", total);
	if (!store_monthly(s, print_month, &first))
		ret = 0;
out:
	store_rollback(s);
	return ret;
}

/* ---- the table ---------------------------------------------------------- */

#define EXIT_CODES \
	"\nExit status: 0 done; 64 bad usage; 65 bad input (an invalid\n" \
	"address, rejected lines); 66 no such file or subscriber, or no\n" \
	"usable database for a command that only reads (show, list,\n" \
	"export, stats, import --dry-run: they never create one; 'bulletin\n" \
	"init' does); 70 internal or database error; 73 the database cannot\n" \
	"be created or opened.\n"

static const struct subcommand subcommands[] = {
	{ "add", sub_add, "ns", 1, NEED_STORE,
	  "add a subscriber, or update one",
	  "usage: bulletin sub add EMAIL [--name NAME] [--status pending|active]\n\n"
	  "Adds EMAIL with status active (or pending). An existing pending or\n"
	  "active subscriber gets the new name; pending becomes active with\n"
	  "--status active. An unsubscribed, complained or bounced address, or\n"
	  "one erased with 'sub rm', is not added: that is refused (status 65)\n"
	  "and only 'bulletin sub resubscribe' makes it active again.\n\n"
	  "One person, one row: an address is found whatever the case of its\n"
	  "local part and without needless quotes, so ADA@example.org and\n"
	  "\"ada\"@example.org are ada@example.org. Mail goes to the address\n"
	  "as first added. Addresses longer than 254 octets are refused.\n" },
	{ "rm", sub_rm, "", 1, NEED_STORE,
	  "erase a person's data, keep them suppressed",
	  "usage: bulletin sub rm EMAIL\n\n"
	  "Erases the person (right to be forgotten): their subscriber row,\n"
	  "their events and their deliveries are deleted. Only a SHA-256 hash\n"
	  "of the address (lower-cased, needless quotes removed) stays, on the\n"
	  "suppression list, so the address is never imported or added again,\n"
	  "in any form ('sub resubscribe' with a reason lifts that, should the\n"
	  "person ask to come back). What is deleted is overwritten.\n" },
	{ "show", sub_show, "", 1, NEED_STORE_RO,
	  "show a subscriber and their history",
	  "usage: bulletin sub show EMAIL\n\n"
	  "Prints the subscriber's status, name, dates and attributes, then\n"
	  "their events, oldest first. Control characters in stored text are\n"
	  "shown escaped (\\n, \\x1b, \\u009b), never sent to the terminal.\n" },
	{ "list", sub_list, "sfl", 0, NEED_STORE_RO, "list subscribers",
	  "usage: bulletin sub list [--status S] [--format table|csv|json] "
	  "[--limit N]\n\n"
	  "Lists subscribers in the order they were added: a table aligned for\n"
	  "a terminal (default), CSV or JSON for scripts. --status keeps one\n"
	  "status (pending, active, unsubscribed, bounced, complained);\n"
	  "--limit N stops after N subscribers.\n" },
	{ "import", sub_import, "sdaFm", 1, NEED_STORE,
	  "import subscribers from CSV",
	  "usage: bulletin sub import FILE.csv [--from FORMAT] [--map COLUMN=FIELD]...\n"
	  "                           [--status S] [--dry-run] [--atomic]\n\n"
	  "Imports a CSV file (RFC 4180, UTF-8; '-' reads standard input) with a\n"
	  "header row: 'email' is required; 'name', 'status' and 'created'\n"
	  "(2026-11-03T10:00:00Z) are optional; any other column is kept as an\n"
	  "attribute. Rows with no status get --status S (default active).\n\n"
	  "--from mailchimp|substack|listmonk|buttondown|csv reads another\n"
	  "tool's export (default: recognised from the header). The address is\n"
	  "read from email, Email Address, email_address or E-mail; the name\n"
	  "from name, or First Name and Last Name; the original subscription\n"
	  "date is kept as created. Statuses are mapped as each tool exports\n"
	  "them: Mailchimp's unsubscribed and cleaned files, Substack's\n"
	  "email_disabled, listmonk's blocklisted, Buttondown's subscriber type\n"
	  "arrive unsubscribed, bounced or complained, never active (see\n"
	  "bulletin(1)). --map COLUMN=FIELD reads a column as email, name,\n"
	  "first_name, last_name, status, created, ignore, or an attribute of\n"
	  "another name; it can be repeated.\n\n"
	  "New addresses are added; existing pending or active subscribers are\n"
	  "updated (an empty field changes nothing). Unsubscribed, complained\n"
	  "and bounced subscribers, and erased addresses, are never made active\n"
	  "again: they are counted as suppressed. Importing a file twice changes\n"
	  "nothing the second time. Addresses are matched as 'sub add' matches\n"
	  "them: Case@x and case@x, in the file or the list, are one person.\n\n"
	  "Bad records (an unterminated quote, a wrong number of fields, a NUL\n"
	  "byte, invalid UTF-8, an invalid address or name) are reported on\n"
	  "stderr as FILE:LINE: reason (FILE:FIRST-LAST: for several lines).\n"
	  "A stray quote costs only its own line: a quoted field that runs\n"
	  "over 100 lines or ends badly is rejected up to the quote's line and\n"
	  "the lines after it are read again. The summary counts the lines\n"
	  "read. The good rows are imported anyway and the exit status is 65;\n"
	  "with --atomic nothing at all is imported when a record is rejected.\n"
	  "--dry-run reports the same summary and changes nothing.\n"
	  "The import is one transaction: interrupted, it changes nothing.\n" },
	{ "export", sub_export, "s", 0, NEED_STORE_RO,
	  "write subscribers as CSV",
	  "usage: bulletin sub export [--status S]\n\n"
	  "Writes CSV to standard output: email, name, status, created and a\n"
	  "column per attribute. The output imports back with 'sub import'.\n" },
	{ "unsubscribe", sub_unsubscribe, "r", 1, NEED_STORE,
	  "unsubscribe an address",
	  "usage: bulletin sub unsubscribe EMAIL [--reason TEXT]\n\n"
	  "Marks the subscriber unsubscribed and records the reason. They stay\n"
	  "in the list so that no import or 'sub add' subscribes them again.\n" },
	{ "resubscribe", sub_resubscribe, "r", 1, NEED_STORE,
	  "make an unsubscribed address active again",
	  "usage: bulletin sub resubscribe EMAIL --reason TEXT\n\n"
	  "Makes an unsubscribed, complained, bounced or erased address active\n"
	  "again, and records why (required): only do this when the person has\n"
	  "asked for it.\n" },
	{ "stats", sub_stats, "", 0, NEED_STORE_RO,
	  "count subscribers by status and month",
	  "usage: bulletin sub stats\n\n"
	  "Counts subscribers by status, then per month the new subscribers\n"
	  "and the unsubscribes (complaints included), from the events.\n" },
};

#define NSUB (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: bulletin sub COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NSUB; i++)
		fprintf(out, "  %-12s %s\n", subcommands[i].name,
			subcommands[i].summary);
	fprintf(out, "\n'bulletin sub COMMAND --help' tells more.\n"
		"Bounced addresses are treated like unsubscribed ones: no import\n"
		"and no 'sub add' makes them active; they stay bounced.\n"
		EXIT_CODES);
}

/* ---- option parsing ----------------------------------------------------- */

static void set_opt(struct opts *o, const struct opt_def *d, const char *arg)
{
	char *field = (char *)o + d->offset;

	if (d->key == 'm') {	/* the one option given many times */
		if (o->nmaps < MAX_MAPS)
			o->map[o->nmaps] = arg;
		o->nmaps += o->nmaps <= MAX_MAPS;
		return;
	}
	if (d->has_arg)
		*(const char **)field = arg;
	else
		*(int *)field = 1;
}

/* The getopt_long table for a subcommand: its letters plus --help. */
static size_t build_longopts(const struct subcommand *sc, struct option *lo)
{
	size_t n = 0;

	for (size_t i = 0; i < NOPTS; i++)
		if (opt_defs[i].key == 'h' || strchr(sc->options, opt_defs[i].key))
			lo[n++] = (struct option){ opt_defs[i].name,
				opt_defs[i].has_arg, NULL, opt_defs[i].key };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	return n;
}

static int parse_format(const char *arg, enum format *fmt)
{
	static const char *const names[] = { "table", "csv", "json" };

	*fmt = FORMAT_TABLE;
	for (int i = 0; arg && i < 3; i++)
		if (!strcmp(arg, names[i])) {
			*fmt = (enum format)i;
			return 0;
		}
	return arg ? -1 : 0;
}

static int parse_limit(const char *arg, long *limit)
{
	char *end;

	*limit = 0;
	if (!arg)
		return 0;
	errno = 0;
	*limit = strtol(arg, &end, 10);
	return errno || end == arg || *end || *limit <= 0 ? -1 : 0;
}

/* Converts --status, --format and --limit, so that a wrong value is a
 * usage mistake found before anything is set up. Returns 0, or -1 with
 * the reason in why. */
static int convert_values(struct opts *o, struct buf *why)
{
	o->any_status = !o->status;
	if (o->status && store_status_parse(o->status, &o->st))
		buf_addf(why, "unknown status '%s' (pending, active, "
			 "unsubscribed, bounced or complained)", o->status);
	else if (parse_format(o->format, &o->fmt))
		buf_addf(why, "unknown format '%s' (table, csv or json)",
			 o->format);
	else if (parse_limit(o->limit, &o->lim))
		buf_addf(why, "--limit wants a positive whole number, not '%s'",
			 o->limit);
	else if (o->from && importfmt_parse_kind(o->from, &o->from_kind))
		buf_addf(why, "unknown format '%s' (mailchimp, substack, "
			 "listmonk, buttondown, csv or auto)", o->from);
	else if (o->nmaps > MAX_MAPS)
		buf_addf(why, "more than %d --map options", MAX_MAPS);
	for (int i = 0; !why->len && i < o->nmaps; i++)
		if (!strchr(o->map[i], '=') || *o->map[i] == '=' ||
		    !strrchr(o->map[i], '=')[1])
			buf_addf(why, "--map wants COLUMN=FIELD, not '%s'",
				 o->map[i]);
	return why->len ? -1 : 0;
}

/* Fills o from argv. Returns 0, or -1 on bad usage, after a message
 * unless quiet. */
static int read_opts(const struct subcommand *sc, int argc, char **argv,
		     struct opts *o, int quiet)
{
	struct option lo[NOPTS + 1];
	struct buf why = BUF_INIT;
	int c, ret = 0;

	build_longopts(sc, lo);
	optind = 0;
	opterr = !quiet;
	while (!ret && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		size_t i = 0;

		while (i < NOPTS && opt_defs[i].key != c)
			i++;
		if (c == '?' || i == NOPTS)
			ret = -1;
		else
			set_opt(o, &opt_defs[i], optarg);
	}
	opterr = 1;
	if (!ret && !o->help && argc - optind != sc->nargs) {
		if (!quiet)
			error("sub %s takes %d argument%s", sc->name,
			      sc->nargs, sc->nargs == 1 ? "" : "s");
		ret = -1;
	}
	if (!ret && !o->help && convert_values(o, &why)) {
		if (!quiet)
			error("%s", why.data);
		ret = -1;
	}
	buf_release(&why);
	return ret;
}

/* Fills o from argv; returns 0, or EX_USAGE after a message. */
static int parse_opts(const struct subcommand *sc, int argc, char **argv,
		      struct opts *o)
{
	if (!read_opts(sc, argc, argv, o, 0))
		return 0;
	fprintf(stderr, "%s", sc->usage);
	return EX_USAGE;
}

static const struct subcommand *find_sub(const char *name)
{
	for (size_t i = 0; i < NSUB; i++)
		if (!strcmp(subcommands[i].name, name))
			return &subcommands[i];
	return NULL;
}

int cmd_sub_needs(int argc, char **argv)
{
	const struct subcommand *sc = argc > 1 ? find_sub(argv[1]) : NULL;
	struct opts o = { 0 };

	/* a mistake needs nothing set up: cmd_sub reports it */
	if (!sc || read_opts(sc, argc - 1, argv + 1, &o, 1))
		return 0;
	return o.dry_run ? NEED_STORE_RO : sc->needs;
}

int cmd_sub(int argc, char **argv, struct ctx *ctx)
{
	const struct subcommand *sc;
	struct opts o = { 0 };
	int ret;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : 0;
	}
	sc = find_sub(argv[1]);
	if (!sc) {
		error("unknown command 'sub %s' (see 'bulletin sub --help')",
		      argv[1]);
		return EX_USAGE;
	}
	ret = parse_opts(sc, argc - 1, argv + 1, &o);
	if (ret || o.help) {
		if (o.help && !ret)
			printf("%s%s", sc->usage, EXIT_CODES);
		return ret;
	}
	if (!ctx->store) {
		/* main skips the set-up when it sees --help anywhere */
		error("'--help' cannot be an option's value");
		return EX_USAGE;
	}
	return sc->fn(ctx->store, &o, argv + 1 + optind);
}
