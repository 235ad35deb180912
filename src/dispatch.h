#ifndef BULLETIN_DISPATCH_H
#define BULLETIN_DISPATCH_H

/*
 * A campaign's send loop: claim deliveries from the store in small
 * batches (committed as 'sending' before any byte goes out), build each
 * recipient's message, pace it (a token bucket and a per-hour cap), hand
 * it to the transport, and record the outcomes in batches, with retries
 * and backoff for temporary failures.
 *
 * The window: at most dispatch_window(transport) deliveries are
 * 'sending' at any moment (claimed, on the wire, or done and not yet
 * recorded): four times the connections, and at least 32. That is the
 * bound on the deliveries a crash can leave uncertain.
 *
 * Signing: with a signer, the loop builds each message and hands it to
 * a signpool (signpool.h: one thread per online core, at most 8, two
 * messages each), then gives it to the transport when it comes back
 * signed, oldest first. A message being signed is claimed and not on
 * the wire, like one waiting for a connection: a stop gives it back to
 * the queue. --test and --dry-run sign inline (letter_build).
 */

#include <signal.h>
#include <stdio.h>

#include "buf.h"
#include "compose.h"
#include "store.h"
#include "transport.h"

struct config;
struct dkim_signer;
struct issue;
struct token_key;

/*
 * The per-recipient path: everything about a recipient's message that
 * does not depend on the recipient is worked out once in letter_init;
 * letter_build only fills slots, signs and encodes, reusing buffers.
 */
struct letter {
	const struct issue     *issue;		/* borrowed for the run */
	const struct config    *config;		/* borrowed */
	const struct token_key *key;		/* borrowed */
	const char             *campaign;	/* borrowed; NULL: a test message */
	const struct dkim_signer *signer;	/* borrowed; NULL: unsigned */
	char                   *bounce_local;	/* envelope sender, split */
	char                   *bounce_domain;
	struct buf              url;		/* scratch, reused */
	struct buf              mailto;		/* scratch, reused */
	struct issue_scratch    bodies;		/* scratch, reused */
};

/* Sets l up; signer (NULL: none) signs each finished message. Returns
 * 0, or error() -1 (a bad bounce-address). */
int letter_init(struct letter *l, const struct issue *is,
		const struct config *c, const struct token_key *key,
		const struct dkim_signer *signer, const char *campaign);
void letter_release(struct letter *l);

/*
 * Builds recipient d's message into m: the data (m->data is emptied and
 * reused; DKIM-signed last, so what is sent is what was signed), the
 * envelope sender (the bounce address, with a VERP tag when
 * the config asks: bounces+TAG@domain) and recipient; m->id is left to
 * the caller. d->message_id must
 * be set (letter_message_id). Returns 0, or error() -1.
 */
int letter_build(struct letter *l, const struct store_dlv *d, struct tmsg *m);

/* Sets d->message_id to "CAMPAIGN.ID.RANDOM@from-domain" ("test.RANDOM@"
 * when there is no campaign). */
void letter_message_id(const struct letter *l, struct store_dlv *d);

/* What a reply means for the delivery and for the run. */
enum verdict {
	V_SENT,
	V_DEFER,	/* 4xx, dropped, timed out; 552 to RCPT (RFC 5321 4.5.3.1.10) */
	V_FAIL,		/* 5xx: failed, the subscriber untouched */
	V_BOUNCE,	/* 550/551/553 or 5.1.x to RCPT: failed, subscriber bounced */
	V_POLICY_DEFER,	/* 4.7.x: our set-up; deferred, and the run slows down */
	V_POLICY_FAIL,	/* 5.7.x, or a refused MAIL FROM: our set-up; failed,
			 * the subscriber untouched; many in a row stop the run */
	V_FATAL,	/* no message can get through: not sent, stop */
};

/* Classifies a transport's result (a pure function). */
enum verdict dispatch_verdict(const struct tresult *r);

/* The counts a progress display shows. */
struct dispatch_stats {
	long long total;	/* deliveries in the campaign */
	long long sent;		/* sent, earlier runs included */
	long long sent_now;	/* sent by this run */
	long long deferred;	/* waiting for a retry */
	long long failed;
	long long uncertain;
	long long skipped;
	long long bounced;	/* subscribers this run marked bounced */
	double    elapsed;	/* seconds since this run began */
	double    rate;		/* messages per second, this run */
	double    eta;		/* seconds left at that rate; < 0 unknown */
	const char *waiting;	/* why nothing moves ("rate", "hourly cap",
				 * "retry"), or NULL */
};

enum dispatch_end {
	DISPATCH_DONE,		/* nothing left to do */
	DISPATCH_INTERRUPTED,	/* *stop was set: in-flight work recorded */
	DISPATCH_STOPPED,	/* the transport failed or policy refusals
				 * piled up: message in stopped_why */
	DISPATCH_ERROR,		/* the store failed (error() said why) */
};

struct dispatch_opts {
	struct letter          *letter;	/* the campaign's, set up */
	struct transport       *transport;
	double                  rate;		/* messages per second, 0: none */
	long                    max_per_hour;	/* 0: no cap */
	int                     max_attempts;
	double                  retry_delay;	/* seconds, first retry */
	const volatile sig_atomic_t *stop;	/* set by a signal handler */
	/* called about ten times a second, and once at the end (final 1) */
	void (*progress)(const struct dispatch_stats *st, int final, void *arg);
	void                   *progress_arg;
};

/* The most deliveries 'sending' at once for transport t. */
size_t dispatch_window(const struct transport *t);

/*
 * Works campaign o->letter->campaign's queue until it is empty, *stop is
 * set, or the run must stop. The campaign exists (cmd_send creates it)
 * and its leftover 'sending' rows were made uncertain. Fills *st (final
 * counts) and, for DISPATCH_STOPPED, why[] (a message for the user).
 */
enum dispatch_end dispatch_run(struct store *s, const struct dispatch_opts *o,
			       struct dispatch_stats *st, char why[512]);

#endif
