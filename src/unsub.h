#ifndef BULLETIN_UNSUB_H
#define BULLETIN_UNSUB_H

/*
 * One-click unsubscribe: the one place that makes a recipient's
 * unsubscribe links, and what answers them (the pages and the store
 * changes behind `bulletin serve`). No HTTP here: http.c speaks it and
 * calls unsub_check, unsub_show and unsub_queue.
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
	UNSUB_ONE_CLICK,	/* POST from a mail client (RFC 8058) */
	UNSUB_PAGE,	/* POST from the page's button */
	UNSUB_UNDO,	/* POST from the confirmation page's undo button */
};

struct unsub;	/* the templates, the key and a pool of store connections */

/*
 * Renders the pages (unsubscribe, unsubscribed, resubscribed,
 * link-invalid .html.mustache in the config's templates folder, with
 * theme.ini's labels), opens connections store connections for reading
 * (one per server thread) and one for the writer thread, and starts
 * it. k is borrowed and must outlive u. Returns u, freed with
 * unsub_free, or NULL after error().
 */
struct unsub *unsub_new(const struct config *c, const struct token_key *k,
			int connections);
void unsub_free(struct unsub *u);

/* What a genuine token names. */
struct unsub_target {
	long long id;
	char      campaign[65];	/* "" for none */
};

/*
 * Checks token (len bytes, from the URL): 0 with *t filled, or 400 with
 * the neutral page appended to out (bad, forged, expired: the page never
 * says which).
 */
int unsub_check(struct unsub *u, const char *token, size_t len,
		struct unsub_target *t, struct buf *out);

/*
 * GET: appends the page for token to out and returns the HTTP status:
 * 200 (the button, or the undo for an address already unsubscribed),
 * 400 (a bad token or an erased subscriber: the neutral page), 500 (the
 * database failed). Changes nothing. Safe from several threads at once.
 */
int unsub_show(struct unsub *u, const char *token, size_t len,
	       struct buf *out);

/*
 * POST (unsubscribe, or undo): queues the change for t (from
 * unsub_check) and returns at once. The writer thread makes the queued
 * changes in one transaction, appends the page to out, sets *status
 * (200; 400 for an erased subscriber; 500 when the database failed) and
 * calls done(arg) from its own thread; out and status must stay valid
 * until then. Idempotent: unsubscribing twice records one event. Safe
 * from several threads at once; unsub_free answers what is queued
 * before it returns.
 */
void unsub_queue(struct unsub *u, enum unsub_action action,
		 const struct unsub_target *t, struct buf *out, int *status,
		 void (*done)(void *arg), void *arg);

#endif
