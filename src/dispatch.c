#include "dispatch.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "compose.h"
#include "config.h"
#include "dkim.h"
#include "signpool.h"
#include "token.h"
#include "unsub.h"
#include "util.h"

/* ---- the per-recipient message --------------------------------------------- */

int letter_init(struct letter *l, const struct issue *is,
		const struct config *c, const struct token_key *key,
		const struct dkim_signer *signer, const char *campaign)
{
	const char *src = c->smtp_bounce_address ? c->smtp_bounce_address : c->from;
	char *display = NULL, *addr = NULL;
	const char *why, *at;

	memset(l, 0, sizeof(*l));
	l->issue = is;
	l->config = c;
	l->key = key;
	l->campaign = campaign;
	l->signer = signer;
	buf_init(&l->url, 0);
	buf_init(&l->mailto, 0);
	buf_init(&l->bodies.html, 0);
	buf_init(&l->bodies.text, 0);
	if (address_parse_mailbox(src, &display, &addr, &why))
		return error("%s: bad '%s' address '%s': %s", c->path,
			     c->smtp_bounce_address ? "bounce-address" : "from",
			     src, why);
	at = strrchr(addr, '@');
	l->bounce_local = xstrndup(addr, (size_t)(at - addr));
	l->bounce_domain = xstrdup(at + 1);
	free(display);
	free(addr);
	return 0;
}

void letter_release(struct letter *l)
{
	free(l->bounce_local);
	free(l->bounce_domain);
	buf_release(&l->url);
	buf_release(&l->mailto);
	buf_release(&l->bodies.html);
	buf_release(&l->bodies.text);
}

void letter_message_id(const struct letter *l, struct store_dlv *d)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char rnd[6];
	char hex[13];

	token_random(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++) {
		hex[2 * i] = digits[rnd[i] >> 4];
		hex[2 * i + 1] = digits[rnd[i] & 15];
	}
	hex[12] = '\0';
	if (l->campaign)
		snprintf(d->message_id, sizeof(d->message_id), "%s.%lld.%s@%s",
			 l->campaign, d->subscriber_id, hex,
			 l->config->from_domain);
	else
		snprintf(d->message_id, sizeof(d->message_id), "test.%s@%s", hex,
			 l->config->from_domain);
}

static void envelope_from(const struct letter *l, long long id, struct tmsg *m)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, l->bounce_local);
	if (l->config->smtp_verp && l->campaign) {
		buf_addch(&b, '+');
		token_verp_tag(l->key, l->campaign, id, &b);
	}
	buf_addf(&b, "@%s", l->bounce_domain);
	snprintf(m->from, sizeof(m->from), "%s", b.data);
	buf_release(&b);
}

/* The recipient's unsubscribe links (unsub.h), for the footer and
 * List-Unsubscribe. */
static void unsubscribe_links(struct letter *l, long long id)
{
	buf_reset(&l->url);
	buf_reset(&l->mailto);
	unsub_links(l->key, l->config, id, l->campaign, &l->url, &l->mailto);
}

/* letter_build without the signature: the send loop signs in its pool. */
static int letter_compose(struct letter *l, const struct store_dlv *d,
			  struct tmsg *m)
{
	struct recipient r;

	unsubscribe_links(l, d->subscriber_id);
	r = (struct recipient){ d->name[0] ? d->name : NULL, d->email,
				l->url.data, l->mailto.data };
	m->id = d->subscriber_id;
	snprintf(m->rcpt, sizeof(m->rcpt), "%s", d->email);
	envelope_from(l, d->subscriber_id, m);
	buf_reset(&m->data);
	return issue_message_reuse(l->issue, &r, d->message_id, time(NULL),
				   &l->bodies, &m->data);
}

int letter_build(struct letter *l, const struct store_dlv *d, struct tmsg *m)
{
	if (letter_compose(l, d, m))
		return -1;
	return dkim_signer_prepend(l->signer, &m->data);
}

/* ---- what a reply means ------------------------------------------------------ */

enum verdict dispatch_verdict(const struct tresult *r)
{
	const char *e = r->enhanced;
	int policy = e[0] && !strncmp(e + 1, ".7.", 3);

	switch (r->outcome) {
	case TR_SENT:
		return V_SENT;
	case TR_FATAL:
		return V_FATAL;
	case TR_TEMP:
		return policy ? V_POLICY_DEFER : V_DEFER;
	case TR_PERM:
		break;
	}
	if (policy || r->stage == TR_STAGE_MAIL)
		return V_POLICY_FAIL;
	if (r->stage == TR_STAGE_RCPT && r->code == 552)
		return V_DEFER;		/* RFC 5321 4.5.3.1.10: read as 452 */
	if (r->stage == TR_STAGE_RCPT &&
	    (r->code == 550 || r->code == 551 || r->code == 553 ||
	     !strncmp(e, "5.1.", 4)))
		return V_BOUNCE;
	return V_FAIL;
}

/* ---- the loop ------------------------------------------------------------------ */

/* Policy refusals (5.7.x) in a row that stop the run. */
#define POLICY_STOP 5
/* Seconds between records of progress when little happens. */
#define RECORD_EVERY 0.5

/* Signing threads at most: more cores than this rarely send one list. */
#define SIGN_THREADS_MAX 8

/* READY: claimed; SIGNING: built, in the signing pool (claimed and not
 * on the wire, as READY); FLIGHT: with the transport. */
enum entry_state { E_FREE, E_READY, E_SIGNING, E_FLIGHT, E_DONE };

struct entry {
	enum entry_state state;
	struct store_dlv d;
	struct tmsg     *m;		/* signing or on the wire: one of the
					 * run's buffers */
	struct tresult   r;
	enum verdict     v;		/* what r means */
};

struct run {
	struct store               *s;
	const struct dispatch_opts *o;
	const char                 *campaign;
	struct entry               *e;
	size_t                      n;		/* the window */
	/* one message buffer per connection and per message the signing
	 * pool holds, reused: memory does not grow with the window */
	struct tmsg                *msgs;
	size_t                      nmsgs;
	struct tmsg               **spare;
	size_t                      nspare;
	struct signpool            *pool;	/* with a signer; else NULL */
	size_t                      count[5];	/* entries per state */
	long long                   cursor;	/* queued rows read up to here */
	int                         dry;	/* nothing was due last time */
	double                      started, last_record, last_progress;
	double                      next_due;	/* a deferred row is due then */
	/* pacing */
	double                      rate;	/* current limit, 0: none */
	double                      tokens, token_time;
	long long                   hour[60];	/* sends per minute, last hour */
	long long                   minute;	/* the minute hour[] ends at */
	long long                   hour_total;
	double                      last_slowdown;
	/* the run's fate */
	int                         any_sent;	/* ramp up after the first */
	int                         marked_started;
	int                         policy_row;	/* 5.7.x in a row */
	enum dispatch_end           end;
	char                       *why;
	struct dispatch_stats       st;
};

/* Wall-clock ISO 8601 with milliseconds, offset by delay seconds. */
static void iso_ms(double delay, char out[64])
{
	struct timespec ts;
	struct tm tm;
	long long ms;
	time_t t;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	     (long long)(delay * 1000);
	t = (time_t)(ms / 1000);
	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void set_state(struct run *rn, struct entry *e, enum entry_state to)
{
	rn->count[e->state]--;
	rn->count[to]++;
	e->state = to;
}

static void stop(struct run *rn, enum dispatch_end end, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Ends the run (the first reason wins); fmt describes why. */
static void stop(struct run *rn, enum dispatch_end end, const char *fmt, ...)
{
	va_list ap;

	if (rn->end != DISPATCH_DONE)
		return;
	rn->end = end;
	va_start(ap, fmt);
	vsnprintf(rn->why, 512, fmt, ap);
	va_end(ap);
}

/* ---- pacing ---- */

static void hour_advance(struct run *rn)
{
	long long m = (long long)(time(NULL) / 60);

	for (; rn->minute < m; rn->minute++) {
		rn->hour_total -= rn->hour[(rn->minute + 1) % 60];
		rn->hour[(rn->minute + 1) % 60] = 0;
	}
}

/* Seconds until one more message may go: 0 now. */
static double pace_wait(struct run *rn, double t)
{
	double burst;

	if (rn->o->max_per_hour > 0) {
		hour_advance(rn);
		if (rn->hour_total >= rn->o->max_per_hour) {
			rn->st.waiting = "hourly cap";
			return (double)(60 - time(NULL) % 60);
		}
	}
	if (rn->rate <= 0)
		return 0;
	burst = rn->rate < 4 ? 1 : rn->rate / 4;
	if (burst > (double)rn->o->transport->slots)
		burst = (double)rn->o->transport->slots;
	if (burst < 1)
		burst = 1;
	rn->tokens += (t - rn->token_time) * rn->rate;
	rn->token_time = t;
	if (rn->tokens > burst)
		rn->tokens = burst;
	if (rn->tokens >= 1)
		return 0;
	rn->st.waiting = "rate";
	return (1 - rn->tokens) / rn->rate;
}

static void pace_take(struct run *rn)
{
	rn->tokens -= 1;
	if (rn->o->max_per_hour > 0) {
		hour_advance(rn);
		rn->hour[rn->minute % 60]++;
		rn->hour_total++;
	}
}

/* 4.7.x: the receiving side asks us to slow down; halve the pace. */
static void slow_down(struct run *rn, const struct tresult *r, double t)
{
	/* the pace now: the limit, else what was achieved (once measurable),
	 * else a guess of ten a second per connection */
	double base = rn->rate > 0 ? rn->rate :
		      t - rn->started >= 2 && rn->st.sent_now ?
		      (double)rn->st.sent_now / (t - rn->started) :
		      10.0 * (double)rn->o->transport->slots;

	if (t - rn->last_slowdown < 10)
		return;
	rn->last_slowdown = t;
	rn->rate = base / 2 < 1 ? 1 : base / 2;
	warning("the server asks us to slow down (%s): now at most %.1f "
		"messages a second; check the sending set-up (SPF, DKIM, "
		"reputation)", r->reply, rn->rate);
}

/* ---- outcomes ---- */

/* When a deferred delivery is tried again: exponential, with jitter. */
static double backoff(const struct run *rn, int attempts)
{
	unsigned char j;
	double d = rn->o->retry_delay;

	for (int i = 1; i < attempts && i < 30; i++)
		d *= 2;

	token_random(&j, 1);
	return d * (0.75 + (double)j / 510.0);
}

/* Counts the outcome and decides at once what it means for the run, so
 * that nothing more is sent after a fatal reply. */
static enum verdict assess(struct run *rn, const struct tresult *r, double t)
{
	enum verdict v = dispatch_verdict(r);

	if (v != V_POLICY_FAIL)
		rn->policy_row = 0;
	switch (v) {
	case V_SENT:
		rn->st.sent++;
		rn->st.sent_now++;
		rn->any_sent = 1;
		break;
	case V_POLICY_DEFER:
		slow_down(rn, r, t);
		break;
	case V_POLICY_FAIL:
		if (++rn->policy_row >= POLICY_STOP)
			stop(rn, DISPATCH_STOPPED, "stopping: %d recipients in a row "
			     "refused by policy, last '%s': our set-up is at fault "
			     "(relay permissions, SPF, DKIM), not the subscribers; "
			     "fix it, then run send again with --retry-failed",
			     POLICY_STOP, r->reply);
		break;
	case V_FATAL:
		stop(rn, DISPATCH_STOPPED, "stopping: %s", r->reply);
		break;
	case V_DEFER:
	case V_FAIL:
	case V_BOUNCE:
		break;
	}
	return v;
}

static void on_done(void *arg, struct tmsg *m, const struct tresult *r)
{
	struct run *rn = arg;
	struct entry *e = &rn->e[m->id];	/* submit_ready set it */

	rn->spare[rn->nspare++] = m;
	e->m = NULL;
	e->r = *r;
	e->v = assess(rn, r, monotonic_s());
	set_state(rn, e, E_DONE);
}

/* Turns a finished entry into the store's result; counts it. */
static void judge(struct run *rn, struct entry *e, struct store_result *res,
		  char next[64])
{
	int attempts = e->d.attempts + 1;

	*res = (struct store_result){ e->d.subscriber_id, DLV_SENT, attempts,
				      NULL, e->r.code, e->r.reply };
	switch (e->v) {
	case V_SENT:
		break;
	case V_POLICY_DEFER:
	case V_DEFER:
		if (attempts < rn->o->max_attempts) {
			res->state = DLV_DEFERRED;
			iso_ms(backoff(rn, attempts), next);
			res->next_attempt = next;
			rn->st.deferred++;
			break;
		}
		res->state = DLV_FAILED;
		rn->st.failed++;
		break;
	case V_POLICY_FAIL:
	case V_FAIL:
	case V_BOUNCE:
		res->state = DLV_FAILED;
		rn->st.failed++;
		break;
	case V_FATAL:
		res->state = DLV_QUEUED;	/* it never went out */
		res->attempts = e->d.attempts;
		break;
	}
}

static int record_one(struct run *rn, struct entry *e)
{
	static const struct store_why none = { NULL, NULL, NULL };
	struct store_why why = none;
	struct store_result res;
	enum store_outcome oc;
	char next[64];

	judge(rn, e, &res, next);
	if (e->v == V_BOUNCE) {
		why = (struct store_why){ "smtp", e->r.reply, rn->campaign };
		if (store_sub_suppress(rn->s, e->d.email, SUB_BOUNCED, &why, &oc))
			return -1;
		rn->st.bounced += oc == STORE_UPDATED;
	}
	if (store_dlv_result(rn->s, rn->campaign, &res))
		return -1;
	set_state(rn, e, E_FREE);
	return 0;
}

/* Gives back a claimed delivery that never went out. */
static int unclaim(struct run *rn, struct entry *e)
{
	struct store_result res = { e->d.subscriber_id, DLV_QUEUED,
				    e->d.attempts, NULL, 0, NULL };

	if (e->d.deferred) {
		char next[64];

		iso_ms(0, next);
		res = (struct store_result){ e->d.subscriber_id, DLV_DEFERRED,
					     e->d.attempts, next, 0, NULL };
	}
	if (store_dlv_result(rn->s, rn->campaign, &res))
		return -1;
	set_state(rn, e, E_FREE);
	return 0;
}

/* Claims due deliveries into the free entries. */
static int claim(struct run *rn)
{
	size_t nfree = rn->count[E_FREE], n = 0, k = 0;
	struct store_dlv *d = xcalloc(nfree, sizeof(*d));
	char now[64];
	int ret = -1;

	if (!nfree) {	/* nothing read: says nothing about the queue */
		free(d);
		return 0;
	}
	iso_ms(0, now);
	if (store_dlv_due(rn->s, rn->campaign, now, &rn->cursor, d, nfree, &n))
		goto out;
	rn->dry = n == 0;
	if (rn->dry)	/* look again for deferred ones a little later */
		rn->next_due = monotonic_s() + RECORD_EVERY;
	for (size_t i = 0; i < n; i++) {
		if (d[i].status == SUB_ACTIVE)
			letter_message_id(rn->o->letter, &d[i]);
		if (store_dlv_claim(rn->s, rn->campaign, &d[i]))
			goto out;
		rn->st.deferred -= d[i].deferred;
		if (d[i].status != SUB_ACTIVE) {
			rn->st.skipped++;
			continue;
		}
		while (rn->e[k].state != E_FREE)
			k++;
		rn->e[k].d = d[i];
		set_state(rn, &rn->e[k], E_READY);
	}
	ret = 0;
out:
	free(d);
	return ret;
}

/* One transaction: outcomes recorded, new work claimed. */
static int record(struct run *rn, double t, int claim_more)
{
	if (store_begin(rn->s))
		return -1;
	for (size_t i = 0; i < rn->n; i++) {
		struct entry *e = &rn->e[i];

		if ((e->state == E_DONE && record_one(rn, e)) ||
		    (e->state == E_READY && rn->end != DISPATCH_DONE &&
		     unclaim(rn, e)))
			goto fail;
	}
	if (claim_more && rn->end == DISPATCH_DONE && claim(rn))
		goto fail;
	if (!rn->marked_started && rn->count[E_READY]) {
		if (store_campaign_started(rn->s, rn->campaign))
			goto fail;
		rn->marked_started = 1;
	}
	if (store_commit(rn->s))
		return -1;
	rn->last_record = t;
	return 0;
fail:
	store_rollback(rn->s);
	return -1;
}

static struct entry *first_ready(struct run *rn)
{
	for (size_t i = 0; i < rn->n; i++)
		if (rn->e[i].state == E_READY)
			return &rn->e[i];
	return NULL;
}

/* A message that will not go out: its buffer back, the delivery READY
 * again (record() gives it back to the queue). */
static void give_back(struct run *rn, struct entry *e)
{
	rn->spare[rn->nspare++] = e->m;
	e->m = NULL;
	set_state(rn, e, E_READY);
}

/* Builds ready messages into the signing pool while it has room. */
static void sign_ready(struct run *rn)
{
	struct entry *e;

	while (rn->end == DISPATCH_DONE && rn->nspare &&
	       signpool_pending(rn->pool) < signpool_depth(rn->pool) &&
	       (e = first_ready(rn)) != NULL) {
		e->m = rn->spare[--rn->nspare];
		set_state(rn, e, E_SIGNING);
		if (letter_compose(rn->o->letter, &e->d, e->m)) {
			give_back(rn, e);
			stop(rn, DISPATCH_STOPPED, "stopping: cannot build the "
			     "message for '%s'", e->d.email);
			return;
		}
		signpool_submit(rn->pool, &e->m->data, e);	/* has room */
	}
}

/* Takes the oldest message back from the signing pool: the entry, or
 * NULL when it is not signed yet (wait unset) or signing failed. */
static struct entry *take_signed(struct run *rn, int wait)
{
	struct buf out = BUF_INIT;
	void *tag = NULL;
	struct entry *e;
	int rc = signpool_next(rn->pool, &out, &tag, wait);

	if (rc == 0)
		return NULL;
	e = tag;
	e->m->data = out;	/* emptied by signpool_submit */
	if (rc < 0) {
		give_back(rn, e);
		stop(rn, DISPATCH_STOPPED, "stopping: cannot sign the message "
		     "for '%s'", e->d.email);
		return NULL;
	}
	return e;
}

/* Stopping: the messages being signed never go out. */
static void sign_cancel(struct run *rn)
{
	struct entry *e;

	while (rn->pool && rn->count[E_SIGNING])
		if ((e = take_signed(rn, 1)) != NULL)
			give_back(rn, e);
}

/* The next message to send, complete and signed: built here, or the
 * oldest from the signing pool. NULL when none is ready. */
static struct entry *next_message(struct run *rn)
{
	struct entry *e;

	if (rn->pool)
		return take_signed(rn, 0);
	if (!rn->nspare || (e = first_ready(rn)) == NULL)
		return NULL;
	e->m = rn->spare[--rn->nspare];
	if (letter_build(rn->o->letter, &e->d, e->m)) {
		rn->spare[rn->nspare++] = e->m;
		e->m = NULL;
		stop(rn, DISPATCH_STOPPED, "stopping: cannot build the "
		     "message for '%s'", e->d.email);
		return NULL;
	}
	return e;
}

/*
 * Hands ready messages to the transport while pace and slots allow,
 * keeping the signing pool (if any) full. Returns seconds to wait for
 * the pace, or for a signature: 0 when there is nothing to wait for.
 */
static double submit_ready(struct run *rn, double t)
{
	size_t limit = rn->any_sent ? rn->o->transport->slots : 1;
	struct entry *e;

	if (rn->pool)
		sign_ready(rn);
	while (rn->count[E_READY] + rn->count[E_SIGNING]) {
		double wait;

		if (rn->count[E_FLIGHT] >= limit || rn->end != DISPATCH_DONE)
			return 0;
		wait = pace_wait(rn, t);
		if (wait > 0)
			return wait;
		if ((e = next_message(rn)) == NULL)
			/* a signature takes a millisecond or two */
			return rn->pool && rn->count[E_SIGNING] ? 0.001 : 0;
		e->m->id = (long long)(e - rn->e);
		if (rn->o->transport->ops->submit(rn->o->transport, e->m)) {
			stop(rn, DISPATCH_STOPPED, "stopping: the transport "
			     "refused a message");
			return 0;
		}
		pace_take(rn);
		set_state(rn, e, E_FLIGHT);
		if (rn->pool)
			sign_ready(rn);
	}
	rn->st.waiting = NULL;
	return 0;
}

static void progress(struct run *rn, double t, int final)
{
	struct dispatch_stats *st = &rn->st;
	long long left = st->total - st->sent - st->failed - st->skipped -
			 st->uncertain;

	st->elapsed = t - rn->started;
	st->rate = st->elapsed > 0 ? (double)st->sent_now / st->elapsed : 0;
	st->eta = st->rate > 0 ? (double)left / st->rate : -1;
	rn->last_progress = t;
	if (rn->o->progress)
		rn->o->progress(st, final, rn->o->progress_arg);
}

static int need_record(const struct run *rn, double t)
{
	size_t slots = rn->o->transport->slots;

	/* stopping: give back what was claimed and not sent */
	if (rn->end != DISPATCH_DONE && rn->count[E_READY])
		return 1;
	if (rn->count[E_DONE] && (rn->count[E_DONE] >= rn->n / 2 ||
				  rn->end != DISPATCH_DONE ||
				  t - rn->last_record >= RECORD_EVERY))
		return 1;
	/* running low on claimed work, and there may be more */
	return rn->end == DISPATCH_DONE && rn->count[E_READY] < slots &&
	       rn->count[E_FREE] >= rn->n / 2 && (!rn->dry || t >= rn->next_due);
}

/* When nothing is in hand: is a deferred delivery due later? */
static int check_deferred(struct run *rn, double t)
{
	char next[32], now[64];
	long long n = 0;
	int rc = store_dlv_next_due(rn->s, rn->campaign, next, &n);
	struct tm tm = { 0 };
	double ms = 0;

	if (rc <= 0)
		return rc;	/* 0: nothing deferred, the queue is done */
	rn->st.deferred = n;
	iso_ms(0, now);
	if (strcmp(next, now) <= 0) {
		rn->next_due = t;
		return 1;
	}
	/* "YYYY-mm-ddTHH:MM:SS.mmmZ" */
	if (strptime(next, "%Y-%m-%dT%H:%M:%S", &tm))
		ms = atof(next + 19);
	rn->next_due = t + difftime(timegm(&tm), time(NULL)) + ms;
	rn->st.waiting = "retry";
	return 1;
}

/* One turn of the loop; returns 1 to go on, 0 when finished, -1 error. */
static int turn(struct run *rn)
{
	double t = monotonic_s(), wait = 0.1;
	int busy;

	if (rn->o->stop && *rn->o->stop)
		stop(rn, DISPATCH_INTERRUPTED, "interrupted");
	if (rn->end != DISPATCH_DONE)
		sign_cancel(rn);
	/* free connections get their next message before any bookkeeping */
	if (rn->end == DISPATCH_DONE && rn->count[E_READY] + rn->count[E_SIGNING])
		submit_ready(rn, t);
	/* with nothing on the wire, signing or ready, there is nothing to
	 * wait for */
	if ((need_record(rn, t) || (!rn->count[E_FLIGHT] && !rn->count[E_READY] &&
				    !rn->count[E_SIGNING] && rn->count[E_DONE])) &&
	    record(rn, t, 1))
		return -1;
	if (rn->end == DISPATCH_DONE && rn->count[E_READY] + rn->count[E_SIGNING]) {
		double w = submit_ready(rn, t);

		if (w > 0 && w < wait)
			wait = w;
	}
	if (rn->count[E_FREE] == rn->n) {
		int rc;

		if (rn->end != DISPATCH_DONE)
			return 0;
		if (!rn->dry)
			return 1;	/* claim at once */
		rc = check_deferred(rn, t);
		if (rc <= 0)
			return rc;
		wait = rn->next_due - t;
		wait = wait < 0 ? 0 : wait > 0.1 ? 0.1 : wait;
	}
	/* the poll returns as soon as a reply arrives */
	busy = rn->o->transport->ops->run(rn->o->transport, (int)(wait * 1000),
					  on_done, rn);
	if (busy < 0)
		stop(rn, DISPATCH_STOPPED, "stopping: the transport failed");
	if (t - rn->last_progress >= 0.1)
		progress(rn, t, 0);
	return 1;
}

size_t dispatch_window(const struct transport *t)
{
	/* at least 32: fewer, larger transactions with few connections */
	return 4 * t->slots < 32 ? 32 : 4 * t->slots;
}

static int initial_counts(struct run *rn)
{
	long long c[DLV_NSTATES];
	char since[32];

	if (store_dlv_counts(rn->s, rn->campaign, c))
		return -1;
	for (int i = 0; i < DLV_NSTATES; i++)
		rn->st.total += c[i];
	rn->st.sent = c[DLV_SENT];
	rn->st.deferred = c[DLV_DEFERRED];
	rn->st.failed = c[DLV_FAILED];
	rn->st.uncertain = c[DLV_UNCERTAIN];
	rn->st.skipped = c[DLV_SKIPPED];
	if (rn->o->max_per_hour > 0) {
		/* what earlier runs sent in the last hour counts too */
		time_t h = time(NULL) - 3600;
		struct tm tm;
		long long n;

		gmtime_r(&h, &tm);
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
		n = store_dlv_sent_since(rn->s, since);
		if (n < 0)
			return -1;
		rn->minute = (long long)(time(NULL) / 60);
		rn->hour[rn->minute % 60] = n;
		rn->hour_total = n;
	}
	return 0;
}

/* Waits for what is on the wire, then records everything. */
static int drain(struct run *rn)
{
	sign_cancel(rn);
	while (rn->count[E_FLIGHT])
		if (rn->o->transport->ops->run(rn->o->transport, 100, on_done, rn) < 0)
			break;
	return record(rn, monotonic_s(), 0);
}

/* Signing threads, one per online core (a signature is CPU only), with
 * two messages each in the pool so that none waits for the main thread;
 * *nmsgs grows by the pool's depth. NULL (after error()) signs inline. */
static struct signpool *sign_pool(const struct dkim_signer *signer,
				  size_t *nmsgs)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int threads = cores < 1 ? 1 : cores > SIGN_THREADS_MAX ?
		      SIGN_THREADS_MAX : (int)cores;
	struct signpool *p = signpool_new(signer, threads, 2 * (size_t)threads);

	if (p)
		*nmsgs += signpool_depth(p);
	return p;
}

enum dispatch_end dispatch_run(struct store *s, const struct dispatch_opts *o,
			       struct dispatch_stats *st, char why[512])
{
	struct run rn = { .s = s, .o = o, .campaign = o->letter->campaign,
			  .why = why, .end = DISPATCH_DONE };
	int rc = 1;

	why[0] = '\0';
	rn.n = dispatch_window(o->transport);
	rn.e = xcalloc(rn.n, sizeof(*rn.e));
	rn.nmsgs = o->transport->slots;
	if (o->letter->signer)
		rn.pool = sign_pool(o->letter->signer, &rn.nmsgs);
	rn.nspare = rn.nmsgs;
	rn.msgs = xcalloc(rn.nmsgs, sizeof(*rn.msgs));
	rn.spare = xcalloc(rn.nmsgs, sizeof(*rn.spare));
	for (size_t i = 0; i < rn.nmsgs; i++) {
		buf_init(&rn.msgs[i].data, 0);
		rn.spare[i] = &rn.msgs[i];
	}
	rn.count[E_FREE] = rn.n;
	rn.started = rn.token_time = monotonic_s();
	rn.rate = o->rate;
	rn.tokens = 1;
	rn.last_slowdown = -1e9;
	if (initial_counts(&rn))
		rc = -1;
	while (rc > 0)
		rc = turn(&rn);
	if (rc < 0 || drain(&rn))
		rn.end = DISPATCH_ERROR;
	else if (rn.end == DISPATCH_DONE && !rn.count[E_READY] &&
		 store_campaign_finished(s, rn.campaign))
		rn.end = DISPATCH_ERROR;
	progress(&rn, monotonic_s(), 1);
	*st = rn.st;
	signpool_free(rn.pool);
	for (size_t i = 0; i < rn.nmsgs; i++)
		buf_release(&rn.msgs[i].data);
	free(rn.msgs);
	free(rn.spare);
	free(rn.e);
	return rn.end;
}
