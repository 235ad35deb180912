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
 * theme.ini's labels), opens connections store connections for
 * reading (one per server thread), one for writing and one for
 * checkpoints, whose thread it starts (see unsub.c). k is borrowed and
 * must outlive u. Returns u, freed with unsub_free, or NULL after
 * error().
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
 * POST (unsubscribe, or undo), in two steps, so that the changes of
 * many requests are written in one transaction (a commit costs far more
 * than the change itself):
 *
 * unsub_queue queues the change for t (from unsub_check) and returns
 * the job, at once: nothing is written yet. The caller goes on serving
 * other requests (which queue theirs), then calls unsub_answer.
 *
 * unsub_answer returns 0 while j's lot had better wait for more (POSTs
 * are still coming, for a millisecond at most: a lone one never waits):
 * call it again after serving the other requests ready. Otherwise it
 * writes everything queued, unless j was already written with an
 * earlier lot, in one transaction, in the calling thread; appends j's
 * page to out, frees j and returns the HTTP status: 200 once the change
 * is committed (synchronous=NORMAL in WAL mode, store.c: it survives
 * the process, and power loss once the WAL is checkpointed); 400 for an
 * erased subscriber; 500 when the database failed (the whole lot is
 * rolled back). Idempotent: unsubscribing twice records one event.
 *
 * unsub_flush writes j at once (with what is queued) and frees it, for
 * a request whose client has gone. Every queued job must be answered or
 * flushed exactly once, before unsub_free.
 *
 * All three are safe from several threads at once. One thread writes
 * at a time: another that must write waits for it (its lot may hold
 * the job). While another process holds the database's write lock, the
 * writing thread waits for it (up to the store's busy timeout).
 */
struct unsub_job;
struct unsub_job *unsub_queue(struct unsub *u, enum unsub_action action,
			      const struct unsub_target *t);
int unsub_answer(struct unsub *u, struct unsub_job *j, struct buf *out);
void unsub_flush(struct unsub *u, struct unsub_job *j);

#endif
