#ifndef BULLETIN_INBOX_H
#define BULLETIN_INBOX_H

/*
 * What comes back after a send: bounces (RFC 3464 DSNs and the common
 * non-standard shapes, bounceshape.h), complaints (RFC 5965 ARF),
 * auto-replies (RFC 3834 and the usual vacation headers) and replies to
 * the unsubscribe mailto.
 *
 * inbox_read takes one message apart with libetpan's MIME parser (the
 * only libetpan use besides mime.c) and says what it is; inbox_decide
 * ties it to a delivery and changes the store. A bounce is trusted only
 * when a VERP tag (token.h) or the Message-ID of the returned original
 * names one of our deliveries, unless opts->trust_unverified.
 */

#include <stddef.h>

#include "buf.h"
#include "store.h"
#include "token.h"

enum inbox_kind {
	INBOX_HARD,		/* a permanent failure */
	INBOX_SOFT,		/* a temporary one, a delay */
	INBOX_COMPLAINT,	/* an ARF abuse report */
	INBOX_UNSUB,		/* a reply to the unsubscribe mailto */
	INBOX_AUTOREPLY,	/* out of office, vacation, Auto-Submitted */
	INBOX_OTHER,		/* anything else */
};

/* "hard-bounce", "soft-bounce", "complaint", "unsubscribe",
 * "auto-reply", "other" (static). */
const char *inbox_kind_name(enum inbox_kind k);

#define INBOX_MAX_RCPT 16
#define INBOX_MAX_CAND 8
#define INBOX_ADDR_MAX 321
/* Messages larger than this are not read (no bounce is that big). */
#define INBOX_MAX_MESSAGE (8 * 1024 * 1024)

/* What one message says, read by inbox_read. */
struct inbox_msg {
	enum inbox_kind kind;
	int             understood;	/* 0: nothing known was recognised */
	const char     *shape;		/* "dsn", "arf", "qmail", ... (static) or NULL */
	char            status[12];	/* "5.1.1", or "" */
	char            feedback_type[32];	/* ARF, or "" */
	char            rcpt[INBOX_MAX_RCPT][INBOX_ADDR_MAX];	/* addresses named */
	size_t          nrcpt;
	/* where the message was delivered: Delivered-To, X-Original-To,
	 * Envelope-To, To, and the returned original's Return-Path (VERP
	 * tags, the unsubscribe mailto) */
	char            to[INBOX_MAX_CAND][INBOX_ADDR_MAX];
	size_t          nto;
	/* Message-IDs of the returned original (without <>) */
	char            msgid[INBOX_MAX_CAND][256];
	size_t          nmsgid;
	char            subject[256];	/* the subject as written, cut */
};

/*
 * Reads one message (len bytes). Always fills m: a message libetpan
 * cannot parse, or that is too large, is INBOX_OTHER, not understood.
 * our_domain (NULL for none) is the From domain: its addresses are
 * never taken for failed recipients.
 */
void inbox_read(const char *msg, size_t len, const char *our_domain,
		struct inbox_msg *m);

/* What inbox_decide works with. Borrowed for the call. */
struct inbox_opts {
	int                     dry_run;	/* say what would be done, change nothing */
	int                     trust_unverified;
	struct store_soft_rules soft;
	const char             *mailto;		/* the unsubscribe mailto address */
	const char             *day;		/* today, "2026-11-03" (UTC) */
};

/* What inbox_decide did. */
struct inbox_action {
	enum inbox_kind kind;		/* m's, or INBOX_UNSUB for a mailto reply */
	int       verified;		/* tied to a delivery (or a valid token) */
	long long subscriber_id;	/* 0 when nobody */
	char      campaign[65];		/* "" when none */
	char      what[200];		/* what it did or would do, for people */
	int       handled;		/* the message can be put away */
};

/*
 * Ties m to a subscriber and applies it: hard bounce -> bounced, soft
 * -> scored (store_soft_bounce), complaint -> complained, mailto reply
 * with a valid token -> unsubscribed (method "mailto"). Auto-replies
 * and DMARC reports change nothing but are handled; what is not
 * understood is not. With opts->dry_run nothing is written. Returns 0,
 * or -1 after error() from the store.
 */
int inbox_decide(struct store *s, const struct token_key *k,
		 const struct inbox_opts *o, const struct inbox_msg *m,
		 struct inbox_action *a);

/* ---- IMAP --------------------------------------------------------------- */

/* Where the mailbox is (bulletin inbox --imap imaps://USER@HOST[:PORT]/FOLDER). */
struct inbox_imap_opts {
	const char *host;
	unsigned    port;		/* 993 for imaps */
	const char *user;
	const char *password;
	const char *folder;		/* "INBOX" */
	const char *done_folder;	/* where handled messages go (created) */
	const char *ca_file;		/* trusted CAs (PEM); NULL: the system's */
};

struct inbox_imap;

/*
 * Connects over TLS (the server's certificate chain checked against the
 * CAs and the host name before the password is sent), logs in, selects
 * the folder and lists the messages without the \Seen flag. Returns 0
 * with *out (inbox_imap_close), or error() -1 naming the server and
 * what failed.
 */
int inbox_imap_open(const struct inbox_imap_opts *o, struct inbox_imap **out);

/*
 * Fetches the next unseen message (at most INBOX_MAX_MESSAGE + 1 bytes,
 * without setting \Seen) into msg, its UID into *uid. Returns 1, 0 when
 * there are no more, or error() -1.
 */
int inbox_imap_next(struct inbox_imap *im, unsigned *uid, struct buf *msg);

/* How many messages the run reads: those unseen at inbox_imap_open. */
size_t inbox_imap_count(const struct inbox_imap *im);

/* Flags the n messages \Seen and moves them to the done folder (MOVE,
 * else COPY, \Deleted and EXPUNGE). 0 or error() -1. */
int inbox_imap_done(struct inbox_imap *im, const unsigned *uids, size_t n);

/* Logs out and frees im. NULL is allowed. */
void inbox_imap_close(struct inbox_imap *im);

#endif
