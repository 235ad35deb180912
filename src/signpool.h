#ifndef BULLETIN_SIGNPOOL_H
#define BULLETIN_SIGNPOOL_H

/*
 * DKIM signing spread over threads, results handed back in the order
 * the messages went in.
 *
 * One RSA-2048 signature costs about 1 ms of one core: signed inline it
 * would set the send rate. The send loop instead builds each message,
 * submits it, and takes signed messages back (oldest first) while the
 * workers sign the next ones:
 *
 *     struct signpool *p = signpool_new(signer, threads, 2 * threads);
 *     for (each recipient) {
 *         while (signpool_pending(p) == signpool_depth(p))
 *             send(signpool_next(p, &out, &tag, 1) ...);
 *         issue_message(..., &msg);
 *         signpool_submit(p, &msg, tag);
 *         while (signpool_next(p, &out, &tag, 0) != 0)   // ready ones
 *             send(...);
 *     }
 *     while (signpool_next(p, &out, &tag, 1) != 0)         // the rest
 *         send(...);
 *     signpool_free(p);
 *
 * Every function is called from one thread, the owner's; the workers
 * only call dkim_signer_sign, which dkim.h allows on a shared signer.
 * Memory is bounded: at most depth messages are in the pool.
 */

#include <stddef.h>

#include "buf.h"

struct dkim_signer;
struct signpool;

/*
 * Starts threads workers (1 to 64) signing with signer, which must stay
 * loaded until signpool_free. depth (at least 1) is how many messages
 * may be in the pool, submitted and not yet taken back: twice the
 * threads keeps every worker busy while the owner sends.
 * Returns the pool, or NULL after error() when no thread could start.
 */
struct signpool *signpool_new(const struct dkim_signer *signer, int threads,
			      size_t depth);

/* Messages submitted and not yet taken back; the pool's depth. */
size_t signpool_pending(const struct signpool *p);
size_t signpool_depth(const struct signpool *p);

/*
 * Hands msg to the pool (its bytes are taken: msg is left empty) with
 * an opaque tag for the owner. Never blocks; the pool must have room
 * (pending < depth): a full pool is refused with error() -1 and msg is
 * kept.
 */
int signpool_submit(struct signpool *p, struct buf *msg, void *tag);

/*
 * Takes back the oldest message submitted. With wait set, waits until
 * it is signed; without, returns 0 when it is not signed yet. Returns 0
 * when the pool is empty, 1 with out holding the signature fields
 * followed by the message (out's old contents are replaced) and *tag
 * its tag, or -1 when signing failed (the worker printed why): *tag is
 * set and out is empty. Either way out's old allocation is freed and
 * out takes over the pool's buffer (no copy).
 */
int signpool_next(struct signpool *p, struct buf *out, void **tag, int wait);

/* Stops the workers (after the messages they are signing) and frees the
 * pool with any message not taken back. NULL is allowed. */
void signpool_free(struct signpool *p);

#endif
