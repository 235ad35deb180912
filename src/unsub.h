#ifndef BULLETIN_UNSUB_H
#define BULLETIN_UNSUB_H

/*
 * One-click unsubscribe: the one place that makes a recipient's
 * unsubscribe links, and what answers them (the pages and the store
 * changes behind `bulletin serve`). No HTTP here: http.c speaks it and
 * calls unsub_handle.
 */

#include <stddef.h>

#include "buf.h"

struct config;
struct token_key;

/*
 * Appends the links of subscriber id for campaign (NULL for a message
 * outside a campaign) to url and mailto (either may be NULL):
 *   url:    BASE-URL/u/TOKEN
 *   mailto: mailto:UNSUBSCRIBE-MAILTO?subject=unsubscribe%20TOKEN
 * which List-Unsubscribe carries as <url>, <mailto> (RFC 2369, 8058)
 * and the footer links to. The token is token_unsub_make's.
 */
void unsub_links(const struct token_key *k, const struct config *c,
		 long long id, const char *campaign, struct buf *url,
		 struct buf *mailto);

/* What a request asks for. */
enum unsub_action {
	UNSUB_SHOW,	/* GET: the page with the button; changes nothing */
	UNSUB_ONE_CLICK,	/* POST from a mail client (RFC 8058) */
	UNSUB_PAGE,	/* POST from the page's button */
	UNSUB_UNDO,	/* POST from the confirmation page's undo button */
};

struct unsub;	/* the templates, the key and a pool of store connections */

/*
 * Compiles the pages (unsubscribe, unsubscribed, resubscribed,
 * link-invalid .html.mustache in the config's templates folder, with
 * theme.ini's labels) and opens connections store connections (one per
 * server thread). k is borrowed and must outlive u. Returns u, freed
 * with unsub_free, or NULL after error().
 */
struct unsub *unsub_new(const struct config *c, const struct token_key *k,
			int connections);
void unsub_free(struct unsub *u);

/*
 * Answers action for token (len bytes, from the URL): appends the page
 * to out and returns the HTTP status: 200; 400 with a neutral page for
 * a bad, forged or expired token or an erased subscriber (the page never
 * says which); 500 when the database fails. Unsubscribing is idempotent:
 * a second POST records nothing more. Safe to call from several threads
 * at once.
 */
int unsub_handle(struct unsub *u, enum unsub_action action, const char *token,
		 size_t len, struct buf *out);

#endif
