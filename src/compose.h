#ifndef BULLETIN_COMPOSE_H
#define BULLETIN_COMPOSE_H

/*
 * An issue composed for sending: everything that does not depend on the
 * recipient is done once here (Markdown rendering, templates, images);
 * what does (name, address, unsubscribe URL) is left as slots that are
 * filled for each message. That split is what makes sending fast.
 */

#include <time.h>

#include "buf.h"

struct config;
struct digest;
struct issue;

struct recipient {
	const char *name;		/* display name, may be NULL or "" */
	const char *email;		/* normalised address */
	const char *unsubscribe_url;	/* the recipient's own link */
	const char *unsubscribe_mailto;	/* "mailto:...", or NULL (unsub_links) */
};

/*
 * Renders digest d with the templates and theme of config c.
 * Returns an issue the caller frees with issue_free(), or NULL after
 * error() (a template that does not compile, an image that cannot be read,
 * a rendered body that holds the slot marker byte 0x1e). The issue owns
 * copies of all it uses: d and c may be released right after. Raw HTML
 * that c does not allow is dropped with a warning naming FILE:LINE.
 */
struct issue *issue_compose(const struct digest *d, const struct config *c);
void issue_free(struct issue *is);

/* Writes the lower-case hex SHA-256 of everything the issue's messages
 * share (headers, encoded bodies with their slots, images) into hex:
 * it changes when the digest, the templates or the config change what
 * subscribers would get. */
void issue_hash(const struct issue *is, char hex[65]);

/* Octets of the HTML part before per-recipient values (Gmail clips near 102 KB). */
size_t issue_html_size(const struct issue *is);

/*
 * Appends the complete message for r to out (CRLF, 7-bit), with the given
 * Message-ID ("id@domain") and date. Returns 0 or error() -1.
 */
int issue_message(const struct issue *is, const struct recipient *r,
		  const char *message_id, time_t date, struct buf *out);

/* The per-recipient bodies, kept from one message to the next by a
 * sender so that a message allocates none: { BUF_INIT, BUF_INIT }, and
 * buf_release both at the end. */
struct issue_scratch {
	struct buf html;
	struct buf text;
};

/* issue_message, filling the bodies in sc's buffers (emptied first). */
int issue_message_reuse(const struct issue *is, const struct recipient *r,
			const char *message_id, time_t date,
			struct issue_scratch *sc, struct buf *out);

/*
 * Appends the bodies for r as a browser and a terminal show them: the
 * HTML with its images inline as data: URLs, the text with LF line ends.
 * Either out may be NULL.
 */
void issue_preview(const struct issue *is, const struct recipient *r,
		   struct buf *html, struct buf *text);

#endif
