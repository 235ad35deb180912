/*
 * bulletin inbox: reads the Maildir that receives bounces, complaints
 * and unsubscribe replies, and applies them to the store (inbox.h).
 *
 * A Maildir folder is read and parsed by worker threads (inboxpipe.h);
 * this one ties each message to a delivery, writes the store, prints,
 * and every BATCH handled messages commits, then hands them to another
 * (mailmove.h) that moves them to cur/.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "config.h"
#include "inbox.h"
#include "inboxpipe.h"
#include "json.h"
#include "mailmove.h"
#include "progress.h"
#include "store.h"
#include "token.h"
#include "transport.h"
#include "util.h"

static const char usage[] =
	"usage: bulletin inbox (--maildir DIR | --imap URL) [--dry-run]\n"
	"                      [--format text|json]\n"
	"\n"
	"Reads the mailbox that receives bounces and unsubscribe replies:\n"
	"hard bounces mark the subscriber bounced, soft bounces are scored\n"
	"([inbox] soft-bounce-threshold, -stale-days, -interval-days), ARF\n"
	"complaints mark them complained, replies to the unsubscribe mailto\n"
	"with a valid token unsubscribe them. A bounce counts only when its\n"
	"VERP tag or the Message-ID of the returned message names one of our\n"
	"deliveries, unless [inbox] trust-unverified = true. Each message\n"
	"handled moves from new/ to cur/ with the S flag (IMAP: flagged \\Seen\n"
	"and moved to [inbox] imap-done-folder); mail that is not understood\n"
	"stays where it is.\n"
	"\n"
	"  -m, --maildir DIR  a Maildir (with new/ and cur/)\n"
	"  -i, --imap URL     imaps://USER@HOST[:PORT]/FOLDER; the password from\n"
	"                     [inbox] imap-password-env or imap-password-file\n"
	"  -n, --dry-run      say what would be done; change nothing\n"
	"  -f, --format F     text (default) or json (one object per message)\n"
	"  -h, --help         this text\n"
	"\n"
	"Exit status: 0, 64 usage, 66 no such Maildir, 69 IMAP server failed,\n"
	"74 database or Maildir error, 78 configuration error.\n";

/* Messages whose store changes are committed together, then moved. A
 * commit writes every page the batch changed, and bounces for random
 * subscribers touch most of the table's pages each time: 1,024 a batch
 * wrote 24,000 pages for 100,000 messages, 4,096 about half as many,
 * and the run took 15% less. A crash reads a batch again, harmlessly. */
#define BATCH 4096

struct run {
	struct store        *store;
	struct token_key     key;
	struct inbox_opts    opts;
	char                 day[16];	/* today, UTC: opts.day */
	const char          *dir;
	int                  subfd;	/* the Maildir folder being read */
	struct buf           folder;	/* its path, "DIR/new" or "DIR/cur" */
	int                  curfd;	/* cur/, where handled messages go */
	struct buf           cur;	/* its path */
	const char          *imap_url;
	struct inbox_imap   *imap;
	unsigned            *uids;	/* handled IMAP messages in this batch */
	const char          *our_domain;
	int                  json;
	struct inbox_msg     msg;
	struct buf           data;
	struct buf           out;
	struct mailmove     *mv;	/* moves them out of subfd into curfd */
	struct buf           moves;	/* names (in sub) of handled messages in
					 * this batch, each NUL-terminated */
	size_t               nmoves;	/* how many: names or uids */
	long long            read, handled, left;
	struct progress      bar;	/* on a terminal: read of total */
	long long            total;
	int                  stdout_tty;
};

static int parse_opts(int argc, char **argv, struct run *r)
{
	static const struct option lopts[] = {
		{ "maildir", required_argument, NULL, 'm' },
		{ "imap", required_argument, NULL, 'i' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "m:i:nf:h", lopts, NULL)) != -1) {
		if (c == 'h')
			return fputs(usage, stdout), -1;
		else if (c == 'm')
			r->dir = optarg;
		else if (c == 'i')
			r->imap_url = optarg;
		else if (c == 'n')
			r->opts.dry_run = 1;
		else if (c == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "text")))
			r->json = !strcmp(optarg, "json");
		else if (c == 'f')
			return error("unknown format '%s' (text or json)", optarg),
			       EX_USAGE;
		else
			return fputs(usage, stderr), EX_USAGE;
	}
	if (optind < argc || !r->dir == !r->imap_url)
		return fputs(usage, stderr), EX_USAGE;
	return 0;
}

static void print_json(struct run *r, const char *name,
		       const struct inbox_msg *m, const struct inbox_action *a)
{
	buf_reset(&r->out);
	buf_adds(&r->out, "{\"message\": ");
	json_add_string(&r->out, name, strlen(name));
	buf_addf(&r->out, ", \"kind\": \"%s\", \"recipients\": [",
		 inbox_kind_name(a->kind));
	for (size_t i = 0; i < m->nrcpt; i++) {
		if (i)
			buf_adds(&r->out, ", ");
		json_add_string(&r->out, m->rcpt[i], strlen(m->rcpt[i]));
	}
	buf_adds(&r->out, "], \"status\": ");
	json_add_string_or_null(&r->out, m->status[0] ? m->status : NULL);
	buf_addf(&r->out, ", \"verified\": %s, \"action\": ",
		 a->verified ? "true" : "false");
	json_add_string(&r->out, a->what, strlen(a->what));
	buf_adds(&r->out, "}\n");
	fwrite(r->out.data, 1, r->out.len, stdout);
}

static void print_text(const char *name, const struct inbox_msg *m,
		       const struct inbox_action *a)
{
	printf("%s: %s", name, inbox_kind_name(a->kind));
	for (size_t i = 0; i < m->nrcpt; i++)
		printf("%s%s", i ? ", " : " ", m->rcpt[i]);
	if (m->status[0])
		printf(" (%s)", m->status);
	printf("%s: %s\n", a->verified ? ", verified" : "", a->what);
}

static int flush(struct run *r, int *in_tx)
{
	size_t n = r->nmoves;

	r->nmoves = 0;
	if (*in_tx) {
		*in_tx = 0;
		if (store_commit(r->store))
			return -1;
	}
	if (r->imap)
		return inbox_imap_done(r->imap, r->uids, n);
	/* after the commit, so a crash or a failed move in between reads
	 * them again, and applying them again changes no status, event,
	 * score or report count (a bounce is recorded once more in the
	 * bounces log, which the report counts by subscriber) */
	return mailmove_batch(r->mv, &r->moves, n);
}

static void show_progress(struct run *r, int final)
{
	char extra[64];

	snprintf(extra, sizeof(extra), "handled %lld", r->handled);
	progress_count(&r->bar, r->read, r->total, extra, final);
}

/* Applies the message m, called name; *handled says whether it can
 * be put away. 0 or -1 (store). */
static int one(struct run *r, const char *name, const struct inbox_msg *m,
	       int *in_tx, int *handled)
{
	struct inbox_action a;

	if (!*in_tx && !r->opts.dry_run) {
		if (store_begin(r->store))
			return -1;
		*in_tx = 1;
	}
	if (inbox_decide(r->store, &r->key, &r->opts, m, &a))
		return -1;
	r->read++;
	if (a.handled)
		r->handled++;
	else
		r->left++;
	if (r->stdout_tty)
		progress_clear(&r->bar);
	if (r->json)
		print_json(r, name, m, &a);
	else
		print_text(name, m, &a);
	*handled = a.handled && !r->opts.dry_run;
	if (progress_due(&r->bar))
		show_progress(r, 0);
	return 0;
}

/* Whether the Maildir folder sub's entry name is to be left alone: a
 * file in cur/ already handled (S flag), or not a message at all.
 * Called on the inboxpipe's workers. */
static int skip(const char *name, const void *sub)
{
	const char *info = strstr(name, ":2,");

	if (name[0] == '.')
		return 1;
	return !strcmp(sub, "cur") && info && strchr(info + 3, 'S');
}

/* Opens the folder sub of the Maildir dir, its path left in path;
 * or error() -1. */
static int open_folder(const char *dir, const char *sub, struct buf *path)
{
	int fd;

	buf_reset(path);
	buf_addf(path, "%s/%s", dir, sub);
	fd = open(path->data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		error("cannot read Maildir folder '%s': %s", path->data,
		      strerror(errno));
	return fd;
}

/*
 * Reads the folder sub: the messages are read and parsed on the
 * inboxpipe's workers, applied here, and every BATCH handled ones are
 * committed, then moved (flush). 0 or -1.
 */
static int read_folder(struct run *r, const char *sub)
{
	const struct inboxpipe_item *it;
	struct inboxpipe *p = NULL;
	int in_tx = 0, ret = -1, rc, handled;

	r->subfd = open_folder(r->dir, sub, &r->folder);
	if (r->subfd < 0)
		return -1;
	r->mv = mailmove_start(r->subfd, r->folder.data, r->curfd, r->cur.data);
	p = inboxpipe_start(r->subfd, r->folder.data, skip, sub, r->our_domain);
	if (!p)
		goto out;
	/* renames happen after each batch, into cur/: a name listed in cur/
	 * after being renamed there has the S flag and is skipped */
	while ((rc = inboxpipe_next(p, &it)) == 1) {
		if (one(r, it->name, &it->msg, &in_tx, &handled))
			goto out;
		if (handled) {
			buf_add(&r->moves, it->name, strlen(it->name) + 1);
			r->nmoves++;
		}
		if (r->nmoves == BATCH && flush(r, &in_tx))
			goto out;
	}
	if (rc == 0 && !flush(r, &in_tx))
		ret = 0;
out:
	/* a failure commits nothing more and moves nothing more */
	if (in_tx)
		store_rollback(r->store);
	inboxpipe_stop(p);
	if (mailmove_finish(r->mv))
		ret = -1;
	r->mv = NULL;
	close(r->subfd);
	r->subfd = -1;
	r->nmoves = 0;
	buf_reset(&r->moves);
	return ret;
}

/* Splits imaps://USER@HOST[:PORT]/FOLDER into o (pointing into buf, a
 * copy of url). 0 or error() -1. */
static int parse_imap_url(const char *url, char *buf, struct inbox_imap_opts *o)
{
	char *p, *at, *slash, *colon;

	strcpy(buf, url);
	if (strncmp(buf, "imaps://", 8))
		return error("imap url '%s': must start with imaps://", url);
	p = buf + 8;
	at = strchr(p, '@');
	slash = strchr(p, '/');
	if (!at || !slash || at > slash || at == p)
		return error("imap url '%s': expected imaps://USER@HOST[:PORT]/FOLDER",
			     url);
	*at = *slash = '\0';
	o->user = p;
	o->host = at + 1;
	o->folder = slash[1] ? slash + 1 : "INBOX";
	o->port = 993;
	colon = strchr(o->host, ':');
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (*end || port < 1 || port > 65535)
			return error("imap url '%s': bad port", url);
		o->port = (unsigned)port;
		*colon = '\0';
	}
	if (!*o->host)
		return error("imap url '%s': no host", url);
	return 0;
}

/* The IMAP password, as for SMTP: the variable, else the file. */
static int imap_password(const struct config *c, char **password)
{
	const char *v = c->inbox_imap_password_env ?
				getenv(c->inbox_imap_password_env) : NULL;

	if (v && *v) {
		*password = xstrdup(v);
		return 0;
	}
	if (c->inbox_imap_password_file)
		return read_password_file(c->inbox_imap_password_file, password);
	if (c->inbox_imap_password_env)
		return error("%s: environment variable %s (imap-password-env) is "
			     "not set", c->path, c->inbox_imap_password_env);
	return error("%s: [inbox] has neither 'imap-password-env' nor "
		     "'imap-password-file'", c->path);
}

static int read_imap(struct run *r, const struct config *c)
{
	struct inbox_imap_opts o = { 0 };
	char *url = xstrdup(r->imap_url), *password = NULL, name[16];
	int in_tx = 0, ret = EX_CONFIG, rc;
	unsigned uid;

	if (parse_imap_url(r->imap_url, url, &o) || imap_password(c, &password))
		goto out;
	o.password = password;
	o.done_folder = c->inbox_imap_done_folder;
	o.ca_file = c->inbox_imap_ca_file;
	ret = EX_UNAVAILABLE;
	if (inbox_imap_open(&o, &r->imap))
		goto out;
	r->total = (long long)inbox_imap_count(r->imap);
	r->uids = xcalloc(BATCH, sizeof(*r->uids));
	while ((rc = inbox_imap_next(r->imap, &uid, &r->data)) == 1) {
		int handled = 0;

		snprintf(name, sizeof(name), "%u", uid);
		inbox_read(r->data.data, r->data.len, r->our_domain, &r->msg);
		if (one(r, name, &r->msg, &in_tx, &handled)) {
			ret = EX_IOERR;
			goto out;
		}
		if (handled)
			r->uids[r->nmoves++] = uid;
		if (r->nmoves == BATCH && flush(r, &in_tx))
			goto out;
	}
	if (rc < 0 || flush(r, &in_tx))
		goto out;
	ret = EX_OK;
out:
	if (in_tx)
		store_rollback(r->store);
	inbox_imap_close(r->imap);
	r->imap = NULL;
	free(r->uids);
	if (password) {
		memset(password, 0, strlen(password));
		free(password);
	}
	free(url);
	return ret;
}

/* How many messages of the folder sub are to be read (for the bar). */
static long long count_folder(const char *dir, const char *sub)
{
	struct buf path = BUF_INIT;
	struct dirent *de;
	long long n = 0;
	DIR *d;

	buf_addf(&path, "%s/%s", dir, sub);
	d = opendir(path.data);
	buf_release(&path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += !skip(de->d_name, sub);
	closedir(d);
	return n;
}

static int read_maildir(struct run *r)
{
	struct buf p = BUF_INIT;
	int bad, status;

	buf_addf(&p, "%s/new", r->dir);
	bad = access(p.data, R_OK | X_OK);
	buf_release(&p);
	if (bad) {
		error("'%s' is not a Maildir (no readable new/)", r->dir);
		return EX_NOINPUT;
	}
	r->curfd = open_folder(r->dir, "cur", &r->cur);
	if (r->curfd < 0)
		return EX_IOERR;
	if (r->bar.tty)
		r->total = count_folder(r->dir, "new") +
			   count_folder(r->dir, "cur");
	status = read_folder(r, "new") || read_folder(r, "cur") ? EX_IOERR : EX_OK;
	close(r->curfd);
	return status;
}

static int setup(struct run *r, struct ctx *ctx)
{
	const struct config *c = ctx->config;
	time_t t = time(NULL);
	struct tm tm;

	if (c->inbox_soft_threshold < 1 || c->inbox_soft_stale_days < 1 ||
	    c->inbox_soft_interval_days < 1)
		return error("%s: [inbox] soft-bounce-threshold, -stale-days and "
			     "-interval-days must be at least 1", c->path),
		       EX_CONFIG;
	if (token_key_load(&r->key, c->secret_file) ||
	    token_key_load_previous(&r->key, c->secret_file, c->grace_days))
		return EX_CONFIG;
	gmtime_r(&t, &tm);
	strftime(r->day, sizeof(r->day), "%Y-%m-%d", &tm);
	r->opts.day = r->day;
	r->opts.trust_unverified = c->inbox_trust_unverified;
	r->opts.soft.threshold = c->inbox_soft_threshold;
	r->opts.soft.stale_days = c->inbox_soft_stale_days;
	r->opts.soft.interval_days = c->inbox_soft_interval_days;
	r->opts.mailto = c->unsubscribe_mailto;
	r->our_domain = c->from_domain;
	r->store = ctx->store;
	return 0;
}

int cmd_inbox(int argc, char **argv, struct ctx *ctx)
{
	struct run r;
	int rc, status = EX_OK;

	memset(&r, 0, sizeof(r));
	r.data = (struct buf)BUF_INIT;
	r.out = (struct buf)BUF_INIT;
	r.moves = (struct buf)BUF_INIT;
	r.folder = (struct buf)BUF_INIT;
	r.cur = (struct buf)BUF_INIT;
	r.subfd = r.curfd = -1;
	rc = parse_opts(argc, argv, &r);
	if (rc)
		return rc < 0 ? EX_OK : rc;
	rc = setup(&r, ctx);
	if (rc)
		return rc;
	progress_start(&r.bar);
	r.stdout_tty = isatty(STDOUT_FILENO);
	if (r.imap_url)
		status = read_imap(&r, ctx->config);
	else
		status = read_maildir(&r);
	fflush(stdout);
	if (r.read)
		show_progress(&r, 1);
	fprintf(stderr, "inbox: %lld read, %lld handled, %lld left in place%s\n",
		r.read, r.handled, r.left, r.opts.dry_run ? " (dry run)" : "");
	buf_release(&r.moves);
	buf_release(&r.folder);
	buf_release(&r.cur);
	buf_release(&r.data);
	buf_release(&r.out);
	token_key_release(&r.key);
	return status;
}
