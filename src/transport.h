#ifndef BULLETIN_TRANSPORT_H
#define BULLETIN_TRANSPORT_H

/*
 * Where messages go: one small interface, one file per backend
 * (smtp.c: an SMTP relay through libcurl, a thread per connection;
 * maildir.c: a local Maildir). Adding a backend touches its own file
 * and one line of the table in transport.c.
 *
 * A transport works asynchronously: submit() hands it a message when it
 * has a free slot (t->slots says how many it takes at once), run()
 * reports each message that is done, once, through the callback, in
 * the caller's thread. The caller owns each struct tmsg; the transport
 * borrows it from submit() until it reports it.
 */

#include <stddef.h>

#include "buf.h"

struct config;

/* One message on its way. */
struct tmsg {
	long long  id;		/* the caller's; transports leave it alone */
	struct buf data;	/* the whole message, CRLF line ends */
	char       from[320];	/* envelope sender (MAIL FROM) */
	char       rcpt[256];	/* envelope recipient (RCPT TO) */
};

enum tr_outcome {
	TR_SENT,	/* accepted: 2xx after the data, or written */
	TR_TEMP,	/* not now: a 4xx, a dropped connection, a timeout */
	TR_PERM,	/* refused for good: a 5xx */
	TR_FATAL,	/* nothing can go through (no server, TLS, login):
			 * the message did not go out; stop the run */
};

/* Which command the last reply answered. */
enum tr_stage { TR_STAGE_CONNECT, TR_STAGE_MAIL, TR_STAGE_RCPT, TR_STAGE_DATA };

struct tresult {
	enum tr_outcome outcome;
	enum tr_stage   stage;
	int             code;		/* the SMTP reply code; 0 for none */
	char            enhanced[16];	/* RFC 3463 "5.1.1", or "" */
	char            reply[512];	/* the reply line, or what went wrong */
};

typedef void tr_done_fn(void *arg, struct tmsg *m, const struct tresult *r);

struct transport;

struct transport_ops {
	/* Takes m into a free slot. Returns 0, or error() -1 (no free slot,
	 * which is the caller's mistake). */
	int  (*submit)(struct transport *t, struct tmsg *m);
	/* Works for at most timeout_ms (less when something is done or
	 * nothing is in flight and there is nothing to wait for), calling
	 * done for each message finished. Returns the number of messages
	 * still in flight, or error() -1 when the transport is broken. */
	int  (*run)(struct transport *t, int timeout_ms, tr_done_fn *done,
		    void *arg);
	/* Closes connections and frees t; messages in flight are dropped
	 * unreported (smtp: one already on the wire is finished first, so
	 * this can take up to a reply timeout). */
	void (*free)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	const char                 *name;	/* "smtp", "maildir" */
	size_t                      slots;	/* messages it takes at once */
};

/*
 * The relay: a value handed to the dispatcher (not a global), so that
 * a run can one day use several, each with its own connections and rate.
 * Strings are owned: relay_release() frees them (and wipes the password).
 */
struct relay {
	char  *url;		/* smtp://host:port, smtps://host:port, maildir:PATH */
	char  *username;	/* NULL: no AUTH */
	char  *password;
	char  *ehlo_name;	/* a fully qualified name */
	char  *ca_file;		/* NULL: the system's CAs */
	int    starttls;	/* 0 never, 1 try, 2 require */
	long   connections;
	double rate;		/* messages per second, 0: no limit */
	long   max_per_hour;	/* 0: no cap */
	double connect_timeout;	/* seconds */
	double reply_timeout;	/* seconds, for each reply */
};

/*
 * Fills r from the [smtp] section of c. The password comes from the
 * environment variable password-env names, or from password-file, which
 * must belong to us and be readable by its owner alone. Returns 0, or
 * error() -1 (a password that cannot be read, a group- or
 * world-readable password file, a username without a password).
 */
int relay_from_config(struct relay *r, const struct config *c);
void relay_release(struct relay *r);

/* "smtp://relay:587" without any user name or password in it, for
 * messages (static storage or r->url). */
const char *relay_describe(const struct relay *r);

/* Opens the transport r->url names. Returns it (t->ops->free) or NULL
 * after error() (an unknown scheme, a Maildir that cannot be made). */
struct transport *transport_open(const struct relay *r);

/* The backends, for transport.c's table. */
struct transport *smtp_open(const struct relay *r);
struct transport *maildir_open(const struct relay *r);

/*
 * Reads an SMTP reply line: its code (0 when the line does not start
 * with three digits) and its RFC 3463 enhanced code ("5.1.1", copied
 * into enhanced[16], "" when absent).
 */
int smtp_reply_code(const char *line, char enhanced[16]);

/*
 * Reads a password file (one line; the line end dropped) into *password
 * (the caller frees it). The file must be ours and mode 600. Returns 0,
 * or error() -1 naming the file. Used for [smtp] and [inbox] (IMAP).
 */
int read_password_file(const char *path, char **password);

#endif
