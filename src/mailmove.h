#ifndef BULLETIN_MAILMOVE_H
#define BULLETIN_MAILMOVE_H

/*
 * Handled Maildir messages put away: renamed from the folder being read
 * (new/ or cur/) into cur/ with the S flag, a batch at a time, on a
 * thread of its own. A rename in a folder of many thousand messages
 * costs about as much as reading and parsing the message (perf over the
 * inbox bench: 23% of the run), and done between two batches it left
 * the reading thread idle; on its own thread it overlaps both.
 *
 *     struct mailmove *mv = mailmove_start(subfd, "DIR/new", curfd,
 *                                          "DIR/cur");
 *     ... commit the batch, then:
 *     mailmove_batch(mv, &names, n);     names now empty, ready to refill
 *     ...
 *     rc = mailmove_finish(mv);
 *
 * The caller commits a batch before handing it over: a crash before
 * the moves reads those messages again, which inbox.h makes harmless.
 * Batches are moved in the order given, one at a time: a batch waits
 * for the one before it, so at most two are held. When no thread can
 * be started the moves happen on the caller's thread, in
 * mailmove_batch.
 */

#include <stddef.h>

#include "buf.h"

struct mailmove;

/* Starts moving names out of the folder open as fromfd (path from, for
 * messages) into the one open as curfd (path cur). The descriptors and
 * paths are borrowed until mailmove_finish. */
struct mailmove *mailmove_start(int fromfd, const char *from, int curfd,
				const char *cur);

/* Hands over the n NUL-terminated names in *names, after waiting for
 * the batch before; *names comes back empty (its memory that batch's).
 * -1 when a move of an earlier batch failed (said with error()), else 0. */
int mailmove_batch(struct mailmove *m, struct buf *names, size_t n);

/* Moves what is left, stops the thread and frees m (NULL: 0). -1 when
 * any move failed, each said with error(). */
int mailmove_finish(struct mailmove *m);

/* NAME:2,FLAGS with S added in order: the name in cur/ of a handled
 * message called NAME. */
void mailmove_handled_name(const char *name, struct buf *out);

#endif
