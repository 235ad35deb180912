/*
 * bulletin inbox: reads the Maildir that receives bounces, complaints
 * and unsubscribe replies, and applies them to the store (inbox.h).
 */

#include <dirent.h>
#include <errno.h>
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
#include "json.h"
#include "store.h"
#include "token.h"
#include "util.h"

static const char usage[] =
	"usage: bulletin inbox --maildir DIR [--dry-run] [--format text|json]\n"
	"\n"
	"Reads the Maildir that receives bounces and unsubscribe replies:\n"
	"hard bounces mark the subscriber bounced, soft bounces are scored\n"
	"([inbox] soft-bounce-threshold, -stale-days, -interval-days), ARF\n"
	"complaints mark them complained, replies to the unsubscribe mailto\n"
	"with a valid token unsubscribe them. A bounce counts only when its\n"
	"VERP tag or the Message-ID of the returned message names one of our\n"
	"deliveries, unless [inbox] trust-unverified = true. Each message\n"
	"handled moves from new/ to cur/ with the S flag; mail that is not\n"
	"understood stays where it is.\n"
	"\n"
	"  -m, --maildir DIR  the Maildir (with new/ and cur/)\n"
	"  -n, --dry-run      say what would be done; change nothing\n"
	"  -f, --format F     text (default) or json (one object per message)\n"
	"  -h, --help         this text\n"
	"\n"
	"Exit status: 0, 64 usage, 66 no such Maildir, 74 database or\n"
	"Maildir error, 78 configuration error.\n";

/* Messages whose store changes are committed together, then moved. */
#define BATCH 256

struct run {
	struct store        *store;
	struct token_key     key;
	struct inbox_opts    opts;
	const char          *dir;
	const char          *our_domain;
	int                  json;
	struct inbox_msg     msg;
	struct buf           data;
	struct buf           out;
	char               **moves;	/* "sub/name" of handled messages in this batch */
	size_t               nmoves;
	long long            read, handled, left;
};

static int parse_opts(int argc, char **argv, struct run *r)
{
	static const struct option lopts[] = {
		{ "maildir", required_argument, NULL, 'm' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "m:nf:h", lopts, NULL)) != -1) {
		if (c == 'h')
			return fputs(usage, stdout), -1;
		else if (c == 'm')
			r->dir = optarg;
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
	if (optind < argc || !r->dir)
		return fputs(usage, stderr), EX_USAGE;
	return 0;
}

static void print_json(struct run *r, const char *name,
		       const struct inbox_action *a)
{
	const struct inbox_msg *m = &r->msg;

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

static void print_text(struct run *r, const char *name,
		       const struct inbox_action *a)
{
	const struct inbox_msg *m = &r->msg;

	printf("%s: %s", name, inbox_kind_name(a->kind));
	for (size_t i = 0; i < m->nrcpt; i++)
		printf("%s%s", i ? ", " : " ", m->rcpt[i]);
	if (m->status[0])
		printf(" (%s)", m->status);
	printf("%s: %s\n", a->verified ? ", verified" : "", a->what);
}

/* cur/NAME:2,FLAGS with S added (flags stay sorted), for a message now at
 * SUB/NAME. */
static void handled_name(const char *sub, const char *name, struct buf *out)
{
	const char *info = strstr(name, ":2,");
	size_t base = info ? (size_t)(info - name) : strlen(name);
	const char *flags = info ? info + 3 : "";

	buf_reset(out);
	buf_addf(out, "cur/%.*s:2,", (int)base, name);
	(void)sub;
	for (const char *f = flags; *f && *f < 'S'; f++)
		buf_addch(out, *f);
	buf_addch(out, 'S');
	for (const char *f = flags; *f; f++)
		if (*f > 'S')
			buf_addch(out, *f);
}

/* Moves the batch's handled messages: after the commit, so a crash in
 * between reads them again (the store changes are idempotent). */
static int move_batch(struct run *r)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	int ret = 0;

	for (size_t i = 0; i < r->nmoves; i++) {
		const char *slash = strchr(r->moves[i], '/');
		struct buf rel = BUF_INIT;

		handled_name(r->moves[i], slash + 1, &rel);
		buf_reset(&from);
		buf_reset(&to);
		buf_addf(&from, "%s/%s", r->dir, r->moves[i]);
		buf_addf(&to, "%s/%s", r->dir, rel.data);
		buf_release(&rel);
		if (rename(from.data, to.data) && !ret)
			ret = error("cannot move '%s' to '%s': %s", from.data,
				    to.data, strerror(errno));
		free(r->moves[i]);
	}
	r->nmoves = 0;
	buf_release(&from);
	buf_release(&to);
	return ret;
}

static int flush(struct run *r, int *in_tx)
{
	if (*in_tx) {
		*in_tx = 0;
		if (store_commit(r->store))
			return -1;
	}
	return move_batch(r);
}

/* Reads and applies one message, SUB/NAME. 0 or -1 (store, file). */
static int one(struct run *r, const char *sub, const char *name, int *in_tx)
{
	struct inbox_action a;
	struct buf path = BUF_INIT;
	int ret = -1;

	buf_addf(&path, "%s/%s/%s", r->dir, sub, name);
	buf_reset(&r->data);
	if (read_file(path.data, &r->data))
		goto out;
	inbox_read(r->data.data, r->data.len, r->our_domain, &r->msg);
	if (!*in_tx && !r->opts.dry_run) {
		if (store_begin(r->store))
			goto out;
		*in_tx = 1;
	}
	if (inbox_decide(r->store, &r->key, &r->opts, &r->msg, &a))
		goto out;
	r->read++;
	if (a.handled)
		r->handled++;
	else
		r->left++;
	if (r->json)
		print_json(r, name, &a);
	else
		print_text(r, name, &a);
	if (a.handled && !r->opts.dry_run) {
		struct buf rel = BUF_INIT;

		buf_addf(&rel, "%s/%s", sub, name);
		r->moves[r->nmoves++] = buf_detach(&rel, NULL);
	}
	ret = r->nmoves == BATCH ? flush(r, in_tx) : 0;
out:
	buf_release(&path);
	return ret;
}

/* A file in cur/ already handled (S flag), or not a message at all. */
static int skip(const char *sub, const char *name)
{
	const char *info = strstr(name, ":2,");

	if (name[0] == '.')
		return 1;
	return !strcmp(sub, "cur") && info && strchr(info + 3, 'S');
}

static int read_folder(struct run *r, const char *sub)
{
	struct buf path = BUF_INIT;
	struct dirent *de;
	DIR *d;
	int in_tx = 0, ret = 0;

	buf_addf(&path, "%s/%s", r->dir, sub);
	d = opendir(path.data);
	if (!d) {
		ret = error("cannot read Maildir folder '%s': %s", path.data,
			    strerror(errno));
		goto out;
	}
	/* renames happen after each batch, into cur/: a name read from cur/
	 * after being renamed there has the S flag and is skipped */
	while (!ret && (errno = 0, de = readdir(d)))
		if (!skip(sub, de->d_name))
			ret = one(r, sub, de->d_name, &in_tx);
	if (!ret)
		ret = flush(r, &in_tx);
	if (in_tx)
		store_rollback(r->store);
	closedir(d);
out:
	buf_release(&path);
	return ret;
}

static int setup(struct run *r, struct ctx *ctx)
{
	const struct config *c = ctx->config;
	time_t t = time(NULL);
	static char day[16];
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
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	r->opts.day = day;
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
	rc = parse_opts(argc, argv, &r);
	if (rc)
		return rc < 0 ? EX_OK : rc;
	rc = setup(&r, ctx);
	if (rc)
		return rc;
	r.moves = xcalloc(BATCH, sizeof(*r.moves));
	{
		struct buf p = BUF_INIT;

		buf_addf(&p, "%s/new", r.dir);
		if (access(p.data, R_OK | X_OK)) {
			error("'%s' is not a Maildir (no readable new/)", r.dir);
			status = EX_NOINPUT;
		}
		buf_release(&p);
	}
	if (status == EX_OK &&
	    (read_folder(&r, "new") || read_folder(&r, "cur")))
		status = EX_IOERR;
	fflush(stdout);
	fprintf(stderr, "inbox: %lld read, %lld handled, %lld left in place%s\n",
		r.read, r.handled, r.left, r.opts.dry_run ? " (dry run)" : "");
	for (size_t i = 0; i < r.nmoves; i++)
		free(r.moves[i]);
	free(r.moves);
	buf_release(&r.data);
	buf_release(&r.out);
	token_key_release(&r.key);
	return status;
}
