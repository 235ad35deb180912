/*
 * bulletin send DIGEST: the campaign's first run creates it and
 * snapshots the recipients; every later run resumes it. The work itself
 * is dispatch.c's; this file checks, asks, draws progress and reports.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "commands.h"
#include "compose.h"
#include "config.h"
#include "digest.h"
#include "dkim.h"
#include "dispatch.h"
#include "progress.h"
#include "store.h"
#include "token.h"
#include "transport.h"
#include "util.h"

static const char usage[] =
	"usage: bulletin send DIGEST [options]\n"
	"\n"
	"Sends the issue in folder DIGEST to every active subscriber, once.\n"
	"The first run creates the campaign (named after the folder) and\n"
	"snapshots its recipients; running it again resumes where it stopped.\n"
	"\n"
	"  -n, --dry-run          compose every message, send none, record nothing\n"
	"  -t, --test ADDRESS     send one sample message to ADDRESS, outside\n"
	"                         the campaign\n"
	"  -C, --connections N    connections to the relay (config: connections)\n"
	"  -r, --rate N           at most N messages a second (config: rate)\n"
	"  -H, --max-per-hour N   at most N messages an hour (config: max-per-hour)\n"
	"  -y, --yes              do not ask for confirmation\n"
	"      --retry-failed     queue the failed deliveries again\n"
	"      --resend-uncertain queue again the deliveries a crash left\n"
	"                         uncertain (their recipients may get two copies)\n"
	"  -h, --help             this text\n"
	"\n"
	"Without a terminal, --yes is required. Ctrl-C stops taking new work,\n"
	"finishes what is in flight and records it.\n"
	"Exit status: 0 done, 64 usage, 65 bad digest or changed content,\n"
	"66 no such digest, 69 the relay refused or failed (the run stopped),\n"
	"74 database error, 75 interrupted, 78 bad configuration.\n";

struct opts {
	int         dry_run, yes, retry_failed, resend_uncertain;
	const char *test;
	long        connections, max_per_hour;
	double      rate;
	int         has_rate;
	const char *digest;
};

static int parse_number(const char *arg, const char *what, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(arg, &end);
	if (errno || end == arg || *end || *v < 0)
		return error("%s: expected a number, not '%s'", what, arg);
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { RETRY = 256, RESEND };
	static const struct option lopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "test", required_argument, NULL, 't' },
		{ "connections", required_argument, NULL, 'C' },
		{ "rate", required_argument, NULL, 'r' },
		{ "max-per-hour", required_argument, NULL, 'H' },
		{ "yes", no_argument, NULL, 'y' },
		{ "retry-failed", no_argument, NULL, RETRY },
		{ "resend-uncertain", no_argument, NULL, RESEND },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	while ((c = getopt_long(argc, argv, "nt:C:r:H:yh", lopts, NULL)) != -1) {
		switch (c) {
		case 'n': o->dry_run = 1; break;
		case 't': o->test = optarg; break;
		case 'y': o->yes = 1; break;
		case RETRY: o->retry_failed = 1; break;
		case RESEND: o->resend_uncertain = 1; break;
		case 'C':
			if (parse_number(optarg, "--connections", &v))
				return EX_USAGE;
			if (v < 1 || v > 64 || v != (double)(long)v)
				return error("--connections: expected 1 to 64"), EX_USAGE;
			o->connections = (long)v;
			break;
		case 'r':
			if (parse_number(optarg, "--rate", &o->rate))
				return EX_USAGE;
			o->has_rate = 1;
			break;
		case 'H':
			if (parse_number(optarg, "--max-per-hour", &v))
				return EX_USAGE;
			o->max_per_hour = (long)v;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			fputs(usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return EX_USAGE;
	}
	if (o->test && o->dry_run)
		return error("--test and --dry-run do not go together"), EX_USAGE;
	o->digest = argv[optind];
	return 0;
}

/* What the law and the big mailbox providers require of a bulk sender. */
static int check_sendable(const struct config *c)
{
	const char *host = c->base_url + (strncmp(c->base_url, "https://", 8) ?
					  0 : 8);
	size_t hostlen = strcspn(host, "/:?#");

	if (!c->postal_address || !*c->postal_address)
		return error("%s: a postal address ('postal-address') is required "
			     "in every message (CAN-SPAM)", c->path);
	if (host == c->base_url || !memchr(host, '.', hostlen))
		return error("%s: 'base-url' must be an https:// URL on a public "
			     "name: the unsubscribe links (RFC 8058) are made "
			     "from it, not '%s'", c->path, c->base_url);
	if (!strchr(c->from_domain, '.') || c->from_domain[0] == '[')
		return error("%s: the From address must be on a domain name "
			     "(DMARC alignment), not '%s'", c->path,
			     c->from_domain);
	return 0;
}

/* ---- progress ---------------------------------------------------------------- */

struct display {
	struct progress bar;
	double          last_line;	/* when the last summary line was printed */
};

static void show_progress(const struct dispatch_stats *st, int final, void *arg)
{
	struct display *d = arg;
	char eta[48], extra[256];

	if (d->bar.tty) {
		snprintf(extra, sizeof(extra), "deferred %lld failed %lld%s%s",
			 st->deferred, st->failed,
			 st->waiting ? " waiting: " : "",
			 st->waiting ? st->waiting : "");
		progress_draw(&d->bar, st->sent, st->total, st->rate, st->eta,
			      extra, final);
		return;
	}
	if (final || st->elapsed - d->last_line < 5)
		return;
	d->last_line = st->elapsed;
	progress_hms(st->eta, eta);
	fprintf(stderr, "bulletin: sent %lld/%lld, %.1f/s, deferred %lld, "
		"failed %lld, ETA %s%s%s\n", st->sent, st->total, st->rate,
		st->deferred, st->failed, eta, st->waiting ? ", waiting: " : "",
		st->waiting ? st->waiting : "");
}

static void summary(const char *id, const struct dispatch_stats *st)
{
	printf("campaign %s: %lld sent (%lld this run), %lld deferred, "
	       "%lld failed, %lld uncertain, %lld skipped, of %lld; "
	       "%.1f s, %.1f messages/s\n", id, st->sent, st->sent_now,
	       st->deferred, st->failed, st->uncertain, st->skipped, st->total,
	       st->elapsed, st->rate);
	if (st->bounced)
		printf("%lld subscribers bounced (marked 'bounced')\n", st->bounced);
}

/* ---- signals ----------------------------------------------------------------- */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* The first Ctrl-C asks for a clean stop; a second one kills. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---- the parts of a run ------------------------------------------------------- */

struct send {
	struct opts         o;
	struct config      *c;
	struct store       *s;
	struct digest       d;
	int                 have_digest;
	struct issue       *is;
	char                hash[65];
	struct token_key    key;
	struct relay        relay;
	int                 have_relay;
	struct dkim_signer *signer;	/* NULL without [dkim] */
	struct letter       letter;
	int                 have_letter;
	struct transport   *t;
	int                 lock_fd;
};

/* One send per database at a time: a second one would take the first's
 * messages in flight for a crash's. */
static int take_lock(struct send *sn)
{
	struct buf path = BUF_INIT;
	int ret = 0;

	buf_addf(&path, "%s-send.lock", sn->c->store_path);
	sn->lock_fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sn->lock_fd < 0)
		ret = error("cannot open '%s': %s", path.data, strerror(errno));
	else if (flock(sn->lock_fd, LOCK_EX | LOCK_NB))
		ret = error("another 'bulletin send' is running on '%s'",
			    sn->c->store_path);
	buf_release(&path);
	return ret;
}

/* Loads and composes the issue. Returns 0 or an exit status. */
static int prepare(struct send *sn)
{
	if (access(sn->o.digest, R_OK | X_OK))
		return error("cannot read digest folder '%s'", sn->o.digest),
		       EX_NOINPUT;
	if (check_sendable(sn->c))
		return EX_CONFIG;
	if (digest_load(&sn->d, sn->o.digest))
		return EX_DATAERR;
	sn->have_digest = 1;
	if (!campaign_id_valid(sn->d.id))
		return error("digest folder name '%s' cannot name a campaign: use "
			     "letters, digits, '-' and '_' (at most 64)", sn->d.id),
		       EX_DATAERR;
	sn->is = issue_compose(&sn->d, sn->c);
	if (!sn->is)
		return EX_DATAERR;
	issue_hash(sn->is, sn->hash);
	if (token_key_load(&sn->key, sn->c->secret_file))
		return EX_CONFIG;
	if (relay_from_config(&sn->relay, sn->c))
		return EX_CONFIG;
	sn->have_relay = 1;
	if (sn->o.connections)
		sn->relay.connections = sn->o.connections;
	if (sn->o.has_rate)
		sn->relay.rate = sn->o.rate;
	if (sn->o.max_per_hour)
		sn->relay.max_per_hour = sn->o.max_per_hour;
	if (dkim_signer_load(sn->c, &sn->signer))
		return EX_CONFIG;
	if (!sn->signer)
		warning("no [dkim] section: messages go out unsigned and will "
			"likely land in spam ('bulletin dkim keygen' makes a key)");
	if (letter_init(&sn->letter, sn->is, sn->c, &sn->key, sn->signer,
			sn->o.test ? NULL : sn->d.id))
		return EX_CONFIG;
	sn->have_letter = 1;
	return 0;
}

static void result_done(void *arg, struct tmsg *m, const struct tresult *r)
{
	(void)m;
	*(struct tresult *)arg = *r;
}

/* --test: one message to ADDRESS, as a sample subscriber would get it. */
static int send_test(struct send *sn)
{
	struct store_dlv d = { 0 };
	struct tmsg m = { 0 };
	struct tresult r = { .outcome = TR_FATAL };
	char *name = NULL, *addr = NULL, *sname = NULL, *saddr = NULL;
	const char *why;
	int ret = EX_USAGE;

	buf_init(&m.data, 0);
	if (address_parse_mailbox(sn->o.test, &name, &addr, &why)) {
		error("bad --test address '%s': %s", sn->o.test, why);
		goto out;
	}
	/* the sample subscriber's name, unless the address has its own */
	if (!name && !address_parse_mailbox(sn->c->sample_to, &sname, &saddr, &why))
		name = sname, sname = NULL;
	snprintf(d.email, sizeof(d.email), "%s", addr);
	snprintf(d.name, sizeof(d.name), "%s", name ? name : "");
	letter_message_id(&sn->letter, &d);
	ret = EX_DATAERR;
	if (letter_build(&sn->letter, &d, &m))
		goto out;
	ret = EX_UNAVAILABLE;
	sn->relay.connections = 1;
	sn->t = transport_open(&sn->relay);
	if (!sn->t || sn->t->ops->submit(sn->t, &m))
		goto out;
	while (sn->t->ops->run(sn->t, 1000, result_done, &r) > 0)
		;
	if (r.outcome != TR_SENT) {
		error("test message to '%s' not sent: %s", addr, r.reply);
		goto out;
	}
	printf("test message sent to %s via %s: %s\n", addr,
	       relay_describe(&sn->relay), r.reply);
	ret = 0;
out:
	buf_release(&m.data);
	free(name);
	free(addr);
	free(sname);
	free(saddr);
	return ret;
}

/* --dry-run: every message composed, none sent, nothing recorded. */
static int dry_run(struct send *sn)
{
	struct store_query q = { 0, SUB_ACTIVE, 0, NULL, 0 };
	struct store_iter *it = store_iter_new(sn->s, &q);
	struct store_row row;
	struct store_dlv d = { 0 };
	struct tmsg m = { 0 };
	long long n = 0, bytes = 0;
	size_t largest = 0;
	int rc, ret = EX_IOERR;

	if (!it)
		return EX_IOERR;
	buf_init(&m.data, 0);
	while ((rc = store_iter_next(it, &row)) == 1) {
		d.subscriber_id = row.id;
		snprintf(d.email, sizeof(d.email), "%s", row.email);
		snprintf(d.name, sizeof(d.name), "%s", row.name ? row.name : "");
		letter_message_id(&sn->letter, &d);
		if (letter_build(&sn->letter, &d, &m)) {
			ret = EX_DATAERR;
			goto out;
		}
		n++;
		bytes += (long long)m.data.len;
		if (m.data.len > largest)
			largest = m.data.len;
	}
	if (rc < 0)
		goto out;
	printf("dry run: %lld messages composed for campaign %s (%lld bytes, "
	       "largest %zu); nothing sent, nothing recorded\n", n, sn->d.id,
	       bytes, largest);
	ret = 0;
out:
	store_iter_free(it);
	buf_release(&m.data);
	return ret;
}

static int confirm(struct send *sn, long long recipients)
{
	char line[16];

	if (sn->o.yes)
		return 0;
	if (!isatty(STDIN_FILENO))
		return error("no terminal to confirm on: add --yes to send '%s' "
			     "to %lld recipients", sn->is ? sn->d.subject : "",
			     recipients);
	fprintf(stderr, "Send \"%s\" to %lld recipients via %s? [y/N] ",
		sn->d.subject, recipients, relay_describe(&sn->relay));
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin) ||
	    (strcmp(line, "y\n") && strcmp(line, "yes\n")))
		return error("not sent");
	return 0;
}

/* Creates the campaign or checks that it is the same issue. Returns 0,
 * or an exit status. */
static int open_campaign(struct send *sn)
{
	struct store_campaign camp;
	long long counts[SUB_NSTATUS], dl[DLV_NSTATES], n = 0;
	int rc = store_campaign_get(sn->s, sn->d.id, &camp);

	if (rc < 0)
		return EX_IOERR;
	if (rc == 1 && strcmp(camp.content_hash, sn->hash)) {
		error("digest '%s' changed since campaign %s began (%s): its "
		      "recipients must all get the same issue; restore the "
		      "digest as it was, or send the new content as a new "
		      "campaign by giving the folder a new name", sn->o.digest,
		      sn->d.id, camp.created);
		return EX_DATAERR;
	}
	if (rc == 1) {
		if (store_dlv_counts(sn->s, sn->d.id, dl))
			return EX_IOERR;
		n = dl[DLV_QUEUED] + dl[DLV_DEFERRED] + dl[DLV_SENDING] +
		    (sn->o.retry_failed ? dl[DLV_FAILED] : 0) +
		    (sn->o.resend_uncertain ? dl[DLV_UNCERTAIN] : 0);
	} else {
		if (store_count_by_status(sn->s, counts))
			return EX_IOERR;
		n = counts[SUB_ACTIVE];
	}
	if (confirm(sn, n))
		return EX_USAGE;
	if (rc == 0 && store_campaign_create(sn->s, sn->d.id, sn->d.subject,
					     sn->hash, &n))
		return EX_IOERR;
	if (rc == 0)
		printf("campaign %s created: %lld recipients\n", sn->d.id, n);
	return 0;
}

/* What a crash left 'sending' is uncertain; asked-for requeues. */
static int recover(struct send *sn)
{
	long long n = 0;

	if (store_dlv_move(sn->s, sn->d.id, DLV_SENDING, DLV_UNCERTAIN, &n))
		return EX_IOERR;
	if (n)
		warning("%lld deliveries were in flight when the last run "
			"stopped: marked uncertain ('bulletin report %s' lists "
			"them; --resend-uncertain sends them again)", n, sn->d.id);
	if (sn->o.resend_uncertain &&
	    store_dlv_move(sn->s, sn->d.id, DLV_UNCERTAIN, DLV_QUEUED, &n))
		return EX_IOERR;
	if (sn->o.resend_uncertain)
		printf("%lld uncertain deliveries queued again\n", n);
	if (sn->o.retry_failed && store_dlv_retry_failed(sn->s, sn->d.id, &n))
		return EX_IOERR;
	if (sn->o.retry_failed)
		printf("%lld failed deliveries queued again\n", n);
	return 0;
}

static int run_campaign(struct send *sn)
{
	struct display disp = { .last_line = 0 };
	struct dispatch_opts o = {
		&sn->letter, NULL, sn->relay.rate, sn->relay.max_per_hour,
		(int)sn->c->smtp_max_attempts, sn->c->smtp_retry_delay,
		&stop_flag, show_progress, &disp,
	};
	struct dispatch_stats st;
	char why[512];
	int ret;

	progress_start(&disp.bar);
	if ((ret = open_campaign(sn)) || (ret = recover(sn)))
		return ret;
	sn->t = transport_open(&sn->relay);
	if (!sn->t)
		return EX_CONFIG;
	o.transport = sn->t;
	catch_signals();
	switch (dispatch_run(sn->s, &o, &st, why)) {
	case DISPATCH_DONE:
		summary(sn->d.id, &st);
		return 0;
	case DISPATCH_INTERRUPTED:
		summary(sn->d.id, &st);
		error("interrupted: everything in flight is recorded; run "
		      "'bulletin send %s' again to resume", sn->o.digest);
		return EX_TEMPFAIL;
	case DISPATCH_STOPPED:
		summary(sn->d.id, &st);
		error("%s", why);
		error("everything is recorded: run 'bulletin send %s' again to "
		      "resume", sn->o.digest);
		return EX_UNAVAILABLE;
	case DISPATCH_ERROR:
		break;
	}
	return EX_IOERR;
}

static void release(struct send *sn)
{
	if (sn->t)
		sn->t->ops->free(sn->t);
	if (sn->have_letter)
		letter_release(&sn->letter);
	dkim_signer_free(sn->signer);
	if (sn->have_relay)
		relay_release(&sn->relay);
	token_key_release(&sn->key);
	issue_free(sn->is);
	if (sn->have_digest)
		digest_release(&sn->d);
	if (sn->lock_fd >= 0)
		close(sn->lock_fd);
}

int cmd_send(int argc, char **argv, struct ctx *ctx)
{
	struct send sn = { .lock_fd = -1 };
	int ret = parse_opts(argc, argv, &sn.o);

	if (ret)
		return ret < 0 ? 0 : ret;
	sn.c = ctx->config;
	sn.s = ctx->store;
	ret = prepare(&sn);
	if (!ret && sn.o.test)
		ret = send_test(&sn);
	else if (!ret && sn.o.dry_run)
		ret = dry_run(&sn);
	else if (!ret)
		ret = take_lock(&sn) ? EX_TEMPFAIL : run_campaign(&sn);
	release(&sn);
	return ret;
}
