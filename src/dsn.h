#ifndef BULLETIN_DSN_H
#define BULLETIN_DSN_H

/*
 * RFC 3464 delivery status notifications: the fields of a
 * message/delivery-status body (one per-message group, then one group
 * per recipient). Pure: no library state, bounded memory.
 */

#include <stddef.h>

#define DSN_MAX_RCPT 32
#define DSN_ADDR_MAX 321

enum dsn_action {
	DSN_NONE,		/* no Action field */
	DSN_FAILED,
	DSN_DELAYED,
	DSN_DELIVERED,
	DSN_RELAYED,
	DSN_EXPANDED,
};

struct dsn_rcpt {
	char            final[DSN_ADDR_MAX];	/* Final-Recipient's address, or "" */
	char            original[DSN_ADDR_MAX];	/* Original-Recipient's, or "" */
	enum dsn_action action;
	char            status[12];		/* "5.1.1", or "" */
};

struct dsn {
	struct dsn_rcpt rcpt[DSN_MAX_RCPT];
	size_t          n;		/* recipients read (more are dropped) */
};

/*
 * Reads the fields of a message/delivery-status body (len bytes, any
 * line ends). A recipient is a group that has Final-Recipient,
 * Original-Recipient, Action or Status. Returns the number of
 * recipients found (d->n), 0 when none.
 */
size_t dsn_parse(const char *text, size_t len, struct dsn *d);

/*
 * Copies the first status code "C.S.D" (C 2, 4 or 5; S and D 1 to 3
 * digits) found in s into out[12]. Returns 1, or 0 when there is none.
 */
int dsn_status_find(const char *s, size_t len, char out[12]);

#endif
