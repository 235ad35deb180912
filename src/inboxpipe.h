#ifndef BULLETIN_INBOXPIPE_H
#define BULLETIN_INBOXPIPE_H

/*
 * The messages of one Maildir folder, read (read_regular_at) and taken
 * apart (inbox_read) by worker threads, one per core up to
 * INBOXPIPE_THREADS, and handed back in the order of the folder, while
 * the caller's thread ties them to deliveries, writes the store and
 * has the files moved. Reading and parsing cost more than the rest
 * together (perf over the inbox bench: 53%, against 20% for the store
 * and 26% for the renames), so one reading thread was the slowest link
 * of the chain:
 *
 *     struct inboxpipe *p = inboxpipe_start(fd, "DIR/new", skip, arg,
 *                                           our_domain);
 *     while ((rc = inboxpipe_next(p, &item)) == 1)
 *         apply(item->name, &item->msg);
 *     inboxpipe_stop(p);
 *
 * The workers only read the folder and fill their slots: the store,
 * the renames and the output stay with the caller, so what is committed
 * and moved, and when, is the caller's alone. Names the caller renames
 * in the folder meanwhile may or may not be listed again (readdir says
 * nothing about entries changed after opendir): skip must refuse the
 * names it gives them. Memory is bounded: INBOXPIPE_DEPTH results, and
 * the bytes of one message at a time.
 *
 * Every function is called from the owner's thread. When no thread can
 * be started the folder is read on the owner's, one message per
 * inboxpipe_next: slower, the same results.
 */

#include "inbox.h"

/* Parsed messages waiting for the caller: enough to ride out a slow
 * commit or a batch of renames, small next to the page cache. */
#define INBOXPIPE_DEPTH 64

/* Reading threads at most: four cores keep ahead of one store. */
#define INBOXPIPE_THREADS 4

struct inboxpipe_item {
	char             name[256];	/* the file's name in the folder */
	struct inbox_msg msg;		/* what inbox_read made of it */
};

struct inboxpipe;

/*
 * Starts listing the folder open as dirfd (not taken: the caller closes
 * it after inboxpipe_stop; folder is its path, for messages) and reading
 * each entry skip(name, arg) refuses to skip, with inbox_read(...,
 * our_domain, ...). skip is called on the workers, one at a time. dirfd, folder, arg and
 * our_domain must stay valid until inboxpipe_stop. Returns the pipe, or
 * NULL after error() when the folder cannot be listed.
 */
struct inboxpipe *inboxpipe_start(int dirfd, const char *folder,
				  int (*skip)(const char *name, const void *arg),
				  const void *arg, const char *our_domain);

/*
 * Hands back the next message: 1 with *item, which stays valid until
 * the next call or inboxpipe_stop; 0 when the folder is done; -1 after
 * error() (a message that cannot be opened or read, the folder that
 * cannot be listed), once every message before it was handed back.
 */
int inboxpipe_next(struct inboxpipe *p, const struct inboxpipe_item **item);

/* Stops the workers (each finishes the message it reads) and frees p.
 * NULL is allowed. */
void inboxpipe_stop(struct inboxpipe *p);

#endif
