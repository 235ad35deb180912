#include "inboxpipe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

struct inboxpipe {
	DIR            *dir;
	int             dirfd;
	const char     *folder;
	int           (*skip)(const char *name, const void *arg);
	const void     *skip_arg;
	const char     *our_domain;
	struct buf      data;		/* the message being read */

	int             threaded;	/* else read on the owner's thread */
	pthread_t       thread;
	pthread_mutex_t lock;
	pthread_cond_t  filled;		/* a slot was filled, or the end */
	pthread_cond_t  freed;		/* a slot was given back, or stop */
	/* under lock: */
	size_t          count;		/* filled slots handed over, the owner's
					 * not yet given back included */
	int             end;		/* 1: the folder is done; -1: failed */
	int             stop;		/* the owner wants no more */
	int             owner_waits, reader_waits;
	/* the owner's alone: */
	size_t          head;		/* the slot handed back last */
	size_t          taken;		/* slots handed back since the lock */
	size_t          avail;		/* handed over and not yet handed back */

	struct inboxpipe_item slot[INBOXPIPE_DEPTH];
};

/* Reads the next message of the folder into it: 1, 0 at the end, or
 * error() -1. */
static int produce(struct inboxpipe *p, struct inboxpipe_item *it)
{
	struct dirent *de;

	do {
		errno = 0;
		de = readdir(p->dir);
		if (!de)
			return errno ? error("cannot read Maildir folder '%s': %s",
					     p->folder, strerror(errno)) : 0;
	} while (p->skip(de->d_name, p->skip_arg));
	snprintf(it->name, sizeof(it->name), "%s", de->d_name);
	if (read_regular_at(p->dirfd, p->folder, it->name, INBOX_MAX_MESSAGE,
			    &p->data) < 0)
		return -1;
	inbox_read(p->data.data, p->data.len, p->our_domain, &it->msg);
	return 1;
}

/* Slots filled before they are handed over together: one lock and at
 * most one wake-up for several messages, not one each (perf: the
 * futex calls of a hand-over per message cost a fifth of the run; by 8,
 * 5%; by 32, half the ring, a third of the context switches of 8). */
#define HANDOVER (INBOXPIPE_DEPTH / 2)

/* Hands over n filled slots and, when rc is not 1, the end. Returns
 * whether the owner asked to stop. */
static int hand_over(struct inboxpipe *p, size_t n, int rc)
{
	int stop;

	pthread_mutex_lock(&p->lock);
	p->count += n;
	if (rc != 1)
		p->end = rc ? -1 : 1;
	if (p->owner_waits)
		pthread_cond_signal(&p->filled);
	stop = p->stop;
	pthread_mutex_unlock(&p->lock);
	return stop;
}

/* Waits for free slots: how many (0 when stopped). */
static size_t wait_room(struct inboxpipe *p)
{
	size_t room;

	pthread_mutex_lock(&p->lock);
	while (p->count == INBOXPIPE_DEPTH && !p->stop) {
		p->reader_waits = 1;
		pthread_cond_wait(&p->freed, &p->lock);
		p->reader_waits = 0;
	}
	room = p->stop ? 0 : INBOXPIPE_DEPTH - p->count;
	pthread_mutex_unlock(&p->lock);
	return room;
}

/* The thread: fills free slots in order until the end, a failure or
 * stop. Slots are written outside the lock: until count covers them,
 * the owner does not look at them. */
static void *reader(void *arg)
{
	struct inboxpipe *p = arg;
	size_t tail = 0, room = 0, filled = 0;
	int rc = 1;

	while (rc == 1) {
		if (!room && !(room = wait_room(p)))
			return NULL;
		rc = produce(p, &p->slot[tail]);
		if (rc == 1) {
			tail = (tail + 1) % INBOXPIPE_DEPTH;
			room--;
			filled++;
		}
		if (rc != 1 || filled == HANDOVER || !room) {
			if (hand_over(p, filled, rc))
				return NULL;
			filled = 0;
		}
	}
	return NULL;
}

struct inboxpipe *inboxpipe_start(int dirfd, const char *folder,
				  int (*skip)(const char *name, const void *arg),
				  const void *arg, const char *our_domain)
{
	struct inboxpipe *p = xcalloc(1, sizeof(*p));
	/* a descriptor of its own: a dup would share the listing's offset */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	p->dir = fd < 0 ? NULL : fdopendir(fd);
	if (!p->dir) {
		error("cannot read Maildir folder '%s': %s", folder,
		      strerror(errno));
		if (fd >= 0)
			close(fd);
		free(p);
		return NULL;
	}
	p->dirfd = dirfd;
	p->folder = folder;
	p->skip = skip;
	p->skip_arg = arg;
	p->our_domain = our_domain;
	p->data = (struct buf)BUF_INIT;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->filled, NULL);
	pthread_cond_init(&p->freed, NULL);
	p->threaded = !pthread_create(&p->thread, NULL, reader, p);
	return p;
}

int inboxpipe_next(struct inboxpipe *p, const struct inboxpipe_item **item)
{
	int rc;

	if (!p->threaded) {
		rc = p->end ? (p->end < 0 ? -1 : 0) : produce(p, &p->slot[0]);
		if (rc != 1)
			p->end = rc ? -1 : 1;
		*item = &p->slot[0];
		return rc;
	}
	if (p->taken)
		p->head = (p->head + 1) % INBOXPIPE_DEPTH;
	if (!p->avail) {
		/* give back what was handed back (all but the last is done
		 * with, and the last is now), take what is there */
		pthread_mutex_lock(&p->lock);
		p->count -= p->taken;
		p->taken = 0;
		if (p->reader_waits)
			pthread_cond_signal(&p->freed);
		while (!p->count && !p->end) {
			p->owner_waits = 1;
			pthread_cond_wait(&p->filled, &p->lock);
			p->owner_waits = 0;
		}
		p->avail = p->count;
		rc = p->end < 0 ? -1 : 0;
		pthread_mutex_unlock(&p->lock);
		if (!p->avail)
			return rc;
	}
	p->avail--;
	p->taken++;
	*item = &p->slot[p->head];
	return 1;
}

void inboxpipe_stop(struct inboxpipe *p)
{
	if (!p)
		return;
	if (p->threaded) {
		pthread_mutex_lock(&p->lock);
		p->stop = 1;
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->filled);
	pthread_cond_destroy(&p->freed);
	closedir(p->dir);
	buf_release(&p->data);
	free(p);
}
