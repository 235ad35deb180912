/*
 * bulletin report [CAMPAIGN]: what a campaign did, from the deliveries
 * table; alone, one line per campaign.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "json.h"
#include "store.h"
#include "util.h"

static const char usage[] =
	"usage: bulletin report [CAMPAIGN] [--format table|json]\n"
	"\n"
	"With CAMPAIGN (a digest folder's name): its deliveries counted by\n"
	"state (queued, sending, sent, deferred, failed, uncertain, skipped),\n"
	"the SMTP replies grouped by code, start, end, duration and rate, and\n"
	"the uncertain deliveries (possibly sent when a run died: 'send\n"
	"--resend-uncertain' sends them again), then the unsubscribes by\n"
	"method (one-click, page, mailto ...) as counts and shares of the\n"
	"messages sent, and those undone, then the bounces (hard, soft) and\n"
	"complaints 'bulletin inbox' read, as counts and shares of the\n"
	"messages delivered, with a warning past the limits mailbox providers\n"
	"publish (complaints 0.3%%, bounces 2%%). Without: one line per campaign.\n"
	"\n"
	"  -f, --format F   table (default) or json\n"
	"  -h, --help       this text\n"
	"\n"
	"Exit status: 0, 64 usage, 66 no such campaign, 74 database error.\n";

enum format { FMT_TABLE, FMT_JSON };

static int parse_opts(int argc, char **argv, enum format *fmt,
		      const char **campaign)
{
	static const struct option lopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*fmt = FMT_TABLE;
	while ((c = getopt_long(argc, argv, "f:h", lopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return -1;
		}
		if (c == 'f' && !strcmp(optarg, "json"))
			*fmt = FMT_JSON;
		else if (c == 'f' && !strcmp(optarg, "table"))
			*fmt = FMT_TABLE;
		else if (c == 'f')
			return error("unknown format '%s' (table or json)", optarg),
			       EX_USAGE;
		else
			return fputs(usage, stderr), EX_USAGE;
	}
	if (argc - optind > 1)
		return fputs(usage, stderr), EX_USAGE;
	*campaign = optind < argc ? argv[optind] : NULL;
	return 0;
}

/* Seconds between two of the store's ISO 8601 times; -1 if unknown. */
static double seconds_between(const char *from, const char *to)
{
	struct tm a = { 0 }, b = { 0 };

	if (!from || !to || !strptime(from, "%Y-%m-%dT%H:%M:%SZ", &a) ||
	    !strptime(to, "%Y-%m-%dT%H:%M:%SZ", &b))
		return -1;
	return difftime(timegm(&b), timegm(&a));
}

static void now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct report {
	enum format fmt;
	struct buf  out;
	int         n;
};

static int add_reply(const struct store_reply *r, void *arg)
{
	struct report *rp = arg;

	if (rp->fmt == FMT_JSON) {
		buf_addf(&rp->out, "%s{\"code\":%d,\"count\":%lld,\"example\":",
			 rp->n++ ? "," : "", r->code, r->count);
		json_add_string_or_null(&rp->out, r->example);
		buf_addch(&rp->out, '}');
	} else {
		buf_addf(&rp->out, "  %3d %10lld  %s\n", r->code, r->count,
			 r->example ? r->example : "");
	}
	return 0;
}

static int add_uncertain(const struct store_dlv_row *r, void *arg)
{
	struct report *rp = arg;

	if (rp->fmt == FMT_JSON) {
		buf_adds(&rp->out, rp->n++ ? "," : "");
		buf_adds(&rp->out, "{\"email\":");
		json_add_string_or_null(&rp->out, r->email);
		buf_adds(&rp->out, ",\"message_id\":");
		json_add_string_or_null(&rp->out, r->message_id);
		buf_adds(&rp->out, "}");
	} else {
		buf_addf(&rp->out, "  %s  <%s>\n", r->email,
			 r->message_id ? r->message_id : "");
	}
	return 0;
}

static void add_times(struct report *rp, const struct store_campaign *c,
		      long long sent)
{
	char now[32];
	double d;

	now_iso(now);
	d = seconds_between(c->started, c->finished ? c->finished : now);
	if (rp->fmt == FMT_JSON) {
		buf_adds(&rp->out, ",\"started\":");
		json_add_string_or_null(&rp->out, c->started);
		buf_adds(&rp->out, ",\"finished\":");
		json_add_string_or_null(&rp->out, c->finished);
		if (d >= 0)
			buf_addf(&rp->out, ",\"duration\":%.0f,\"rate\":%.2f", d,
				 d > 0 ? (double)sent / d : 0);
		else
			buf_adds(&rp->out, ",\"duration\":null,\"rate\":null");
		return;
	}
	buf_addf(&rp->out, "started   %s\nfinished  %s\n",
		 c->started ? c->started : "-", c->finished ? c->finished : "-");
	if (d >= 0)
		buf_addf(&rp->out, "duration  %.0f s\n", d);
	if (d > 0)
		buf_addf(&rp->out, "rate      %.1f messages/s\n", (double)sent / d);
}

/* ---- unsubscribes (bulletin serve, inbox) ---------------------------------- */

struct unsub_report {
	enum format fmt;
	long long   sent;
	long long   total;		/* unsubscribes, all methods */
	struct buf  unsub, undo;	/* the rows of each kind */
};

static void add_row(enum format fmt, struct buf *out, const char *method,
		    long long count, long long sent, int share)
{
	double part = sent ? (double)count / (double)sent : 0;

	if (fmt == FMT_JSON) {
		buf_adds(out, out->len ? "," : "");
		json_add_string_or_null(out, method);
		if (share)
			buf_addf(out, ":{\"count\":%lld,\"share\":%.6f}", count, part);
		else
			buf_addf(out, ":%lld", count);
	} else if (share) {
		buf_addf(out, "  %-10s %8lld  %6.2f%%\n", method, count, 100 * part);
	} else {
		buf_addf(out, "  %-10s %8lld\n", method, count);
	}
}

static int add_unsub_row(const struct store_unsub_count *c, void *arg)
{
	struct unsub_report *u = arg;
	int unsub = !strcmp(c->type, "unsubscribe");

	add_row(u->fmt, unsub ? &u->unsub : &u->undo, c->method, c->count,
		u->sent, unsub);
	if (unsub)
		u->total += c->count;
	return 0;
}

/*
 * The campaign's unsubscribes by method, each as a count and as a share
 * of the messages sent, and the ones undone from the confirmation page.
 */
static int add_unsubscribes(struct store *s, struct report *rp,
			    const char *id, long long sent)
{
	struct unsub_report u = { rp->fmt, sent, 0, BUF_INIT, BUF_INIT };
	int ret = -1;

	if (store_unsub_counts(s, id, add_unsub_row, &u))
		goto out;
	if (rp->fmt == FMT_JSON) {
		buf_addf(&rp->out, ",\"unsubscribed\":%lld,\"unsubscribes\":{%s}"
			 ",\"resubscribes\":{%s}", u.total, u.unsub.data,
			 u.undo.data);
	} else {
		buf_addf(&rp->out, "unsubscribes (share of %lld sent)\n%s", sent,
			 u.unsub.data);
		add_row(FMT_TABLE, &rp->out, "total", u.total, sent, 1);
		if (u.undo.len)
			buf_addf(&rp->out, "undone (resubscribed from the page)\n%s",
				 u.undo.data);
	}
	ret = 0;
out:
	buf_release(&u.unsub);
	buf_release(&u.undo);
	return ret;
}

/* ---- bounces and complaints (bulletin inbox) ----------------------------- */

/* The limits mailbox providers publish: Gmail's and Yahoo's sender rules
 * (2024) ask for spam complaints under 0.3%; bounce rates above 2%
 * hurt a sender's reputation with most of them. */
#define COMPLAINT_LIMIT 0.003
#define BOUNCE_LIMIT 0.02

/* Appends the warning (text) or its JSON string when count is past
 * limit's share of sent. */
static void add_warning(struct report *rp, struct buf *warn, const char *what,
			long long count, long long sent, double limit)
{
	double part = sent ? (double)count / (double)sent : 0;

	if (part <= limit)
		return;
	if (rp->fmt == FMT_JSON)
		buf_addf(warn, "%s\"%s above %.1f%%\"", warn->len ? "," : "",
			 what, 100 * limit);
	else
		buf_addf(warn, "warning: %s at %.2f%% of delivered, above the "
			 "%.1f%% mailbox providers accept\n", what, 100 * part,
			 100 * limit);
}

/*
 * Hard and soft bounces and complaints of the campaign (subscribers
 * with at least one), each as a count and a share of the messages
 * delivered, with a warning past the providers' limits.
 */
static int add_bounces(struct store *s, struct report *rp, const char *id,
		       long long sent)
{
	struct buf rows = BUF_INIT, warn = BUF_INIT;
	long long hard, soft, compl;

	if (store_bounce_counts(s, id, &hard, &soft, &compl))
		return -1;
	add_row(rp->fmt, &rows, "hard", hard, sent, 1);
	add_row(rp->fmt, &rows, "soft", soft, sent, 1);
	add_row(rp->fmt, &rows, "complaints", compl, sent, 1);
	add_warning(rp, &warn, "hard bounces", hard, sent, BOUNCE_LIMIT);
	add_warning(rp, &warn, "complaints", compl, sent, COMPLAINT_LIMIT);
	if (rp->fmt == FMT_JSON)
		buf_addf(&rp->out, ",\"bounces\":{%s},\"warnings\":[%s]",
			 rows.data, warn.data);
	else
		buf_addf(&rp->out, "bounces and complaints (share of %lld "
			 "delivered)\n%s%s", sent, rows.data, warn.data);
	buf_release(&rows);
	buf_release(&warn);
	return 0;
}

static int one(struct store *s, const char *id, enum format fmt)
{
	struct report rp = { fmt, BUF_INIT, 0 };
	struct store_campaign c;
	long long n[DLV_NSTATES];
	int rc = store_campaign_get(s, id, &c), ret = EX_IOERR;

	if (rc <= 0) {
		if (rc == 0)
			error("no campaign '%s' (see 'bulletin report')", id);
		return rc == 0 ? EX_NOINPUT : EX_IOERR;
	}
	if (fmt == FMT_JSON) {
		buf_adds(&rp.out, "{\"campaign\":");
		json_add_string_or_null(&rp.out, c.id);
		buf_adds(&rp.out, ",\"subject\":");
		json_add_string_or_null(&rp.out, c.subject);
	} else {
		buf_addf(&rp.out, "campaign  %s\nsubject   %s\n", c.id, c.subject);
	}
	/* c's strings live until the next statement: times first */
	if (store_dlv_counts(s, id, n))
		goto out;
	rc = store_campaign_get(s, id, &c);
	if (rc <= 0)
		goto out;
	add_times(&rp, &c, n[DLV_SENT]);
	for (int i = 0; i < DLV_NSTATES; i++)
		if (fmt == FMT_JSON)
			buf_addf(&rp.out, ",\"%s\":%lld",
				 store_dlv_state_name((enum dlv_state)i), n[i]);
		else
			buf_addf(&rp.out, "%-9s %lld\n",
				 store_dlv_state_name((enum dlv_state)i), n[i]);
	buf_adds(&rp.out, fmt == FMT_JSON ? ",\"replies\":[" :
		 "replies\n  code      count  example\n");
	if (store_dlv_replies(s, id, add_reply, &rp))
		goto out;
	rp.n = 0;
	buf_adds(&rp.out, fmt == FMT_JSON ? "],\"uncertain_deliveries\":[" :
		 n[DLV_UNCERTAIN] ? "uncertain (possibly sent when a run died)\n" : "");
	if (store_dlv_list(s, id, DLV_UNCERTAIN, add_uncertain, &rp))
		goto out;
	buf_adds(&rp.out, fmt == FMT_JSON ? "]" : "");
	if (add_unsubscribes(s, &rp, id, n[DLV_SENT]))
		goto out;
	if (add_bounces(s, &rp, id, n[DLV_SENT]))
		goto out;
	buf_adds(&rp.out, fmt == FMT_JSON ? "}\n" : "");
	fwrite(rp.out.data, 1, rp.out.len, stdout);
	ret = 0;
out:
	buf_release(&rp.out);
	return ret;
}

static int list_one(const struct store_campaign_sum *c, void *arg)
{
	struct report *rp = arg;
	static const enum dlv_state shown[] = { DLV_QUEUED, DLV_SENT,
		DLV_DEFERRED, DLV_FAILED, DLV_UNCERTAIN, DLV_SKIPPED };

	if (rp->fmt == FMT_JSON) {
		buf_adds(&rp->out, rp->n++ ? ",{\"campaign\":" : "{\"campaign\":");
		json_add_string_or_null(&rp->out, c->c.id);
		buf_adds(&rp->out, ",\"subject\":");
		json_add_string_or_null(&rp->out, c->c.subject);
		buf_adds(&rp->out, ",\"started\":");
		json_add_string_or_null(&rp->out, c->c.started);
		buf_adds(&rp->out, ",\"finished\":");
		json_add_string_or_null(&rp->out, c->c.finished);
		for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
			buf_addf(&rp->out, ",\"%s\":%lld",
				 store_dlv_state_name(shown[i]), c->counts[shown[i]]);
		buf_addch(&rp->out, '}');
		return 0;
	}
	buf_addf(&rp->out, "%s  %s", c->c.id,
		 c->c.finished ? "finished" : c->c.started ? "started" : "created");
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		buf_addf(&rp->out, "  %s %lld", store_dlv_state_name(shown[i]),
			 c->counts[shown[i]]);
	buf_addf(&rp->out, "  %s\n", c->c.subject);
	return 0;
}

static int all(struct store *s, enum format fmt)
{
	struct report rp = { fmt, BUF_INIT, 0 };
	int ret = EX_IOERR;

	if (fmt == FMT_JSON)
		buf_addch(&rp.out, '[');
	if (store_campaign_list(s, list_one, &rp))
		goto out;
	if (fmt == FMT_JSON)
		buf_adds(&rp.out, "]\n");
	fwrite(rp.out.data, 1, rp.out.len, stdout);
	ret = 0;
out:
	buf_release(&rp.out);
	return ret;
}

int cmd_report(int argc, char **argv, struct ctx *ctx)
{
	const char *campaign;
	enum format fmt;
	int ret = parse_opts(argc, argv, &fmt, &campaign);

	if (ret)
		return ret < 0 ? 0 : ret;
	return campaign ? one(ctx->store, campaign, fmt) : all(ctx->store, fmt);
}
