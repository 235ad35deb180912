#ifndef BULLETIN_BOUNCESHAPE_H
#define BULLETIN_BOUNCESHAPE_H

/*
 * The bounces real MTAs send that are not RFC 3464 (qmail, Exim, old
 * Sendmail and Postfix, Microsoft, Yahoo, Gmail, GroupWise, ...): the
 * failed addresses and the reason are in the prose. Recognised by an
 * introduction phrase, after which the addresses follow until a line
 * that ends the list (see the table in bounceshape.c, whose comments
 * name the MTA of each shape). Pure: no library state, bounded memory.
 */

#include <stddef.h>

#define SHAPE_MAX_RCPT 16
#define SHAPE_ADDR_MAX 321

enum shape_verdict {
	SHAPE_NONE,		/* no known shape */
	SHAPE_HARD,		/* permanent failure */
	SHAPE_SOFT,		/* temporary: delayed, mailbox full */
};

struct shape {
	enum shape_verdict verdict;
	const char        *mta;		/* which shape matched (static), or NULL */
	char               status[12];	/* an enhanced status code in the text, or "" */
	char               rcpt[SHAPE_MAX_RCPT][SHAPE_ADDR_MAX];
	size_t             n;
};

/*
 * Looks for a known shape in the text of a bounce (len bytes: the
 * decoded text parts, the returned message excluded when it is a part
 * of its own). Returns the verdict (also in s->verdict); addresses that
 * are our own (ignore_domain, NULL for none) are not collected.
 */
enum shape_verdict shape_parse(const char *text, size_t len,
			       const char *ignore_domain, struct shape *s);

/* True if the text says the failure is temporary (a full mailbox, a
 * delay, "will retry"): what makes a failure soft when no status code
 * says so. */
int shape_text_soft(const char *text, size_t len);

#endif
