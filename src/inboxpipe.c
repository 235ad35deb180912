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

/* A claimed slot's state, under lock (set again by the next claim). */
enum { READING, READ, FAILED };

struct worker {
	struct inboxpipe *p;
	pthread_t         thread;
	struct buf        data;		/* the message being read */
};

struct inboxpipe {
	DIR            *dir;
	int             dirfd;
	const char     *folder;
	int           (*skip)(const char *name, const void *arg);
	const void     *skip_arg;
	const char     *our_domain;

	int             nworkers;	/* 0: read on the owner's thread */
	struct worker   worker[INBOXPIPE_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t  filled;		/* slots read in order, or the end */
	pthread_cond_t  freed;		/* slots given back, or stop */
	/* under lock; slot n % INBOXPIPE_DEPTH holds the folder's nth message */
	size_t          claimed;	/* slots given to a worker */
	size_t          ready;		/* slots read, all before them too */
	size_t          given_back;	/* slots the owner is done with */
	int             listed;		/* the listing is over: no more claims */
	int             list_failed;	/* ... because readdir failed */
	int             stop;		/* the owner wants no more */
	int             owner_waits, workers_wait;
	unsigned char   state[INBOXPIPE_DEPTH];
	/* the owner's alone: */
	size_t          head;		/* the next slot to hand back */
	size_t          avail;		/* ready slots from head on */
	int             failed;		/* the folder or a message could not
					 * be read: -1 from now on */

	struct inboxpipe_item slot[INBOXPIPE_DEPTH];
};

/* The next name of the folder not to skip (p->lock held: readdir on
 * one DIR is not safe from two threads): 1, 0 at its end, or error() -1. */
static int next_name(struct inboxpipe *p, char name[256])
{
	struct dirent *de;

	do {
		errno = 0;
		de = readdir(p->dir);
		if (!de)
			return errno ? error("cannot read Maildir folder '%s': %s",
					     p->folder, strerror(errno)) : 0;
	} while (p->skip(de->d_name, p->skip_arg));
	snprintf(name, 256, "%s", de->d_name);
	return 1;
}

/* Reads and parses the message called it->name into it: 1, or -1 after
 * error() when it cannot be read. */
static int produce(struct inboxpipe *p, struct buf *data,
		   struct inboxpipe_item *it)
{
	if (read_regular_at(p->dirfd, p->folder, it->name, INBOX_MAX_MESSAGE,
			    data) < 0)
		return -1;
	inbox_read(data->data, data->len, p->our_domain, &it->msg);
	return 1;
}

/* Slots read before the owner is woken: one wake-up for several
 * messages, not one each (perf: a hand-over per message cost a fifth
 * of the run in futex calls; by half the ring, a few per cent). */
#define HANDOVER (INBOXPIPE_DEPTH / 2)

/* Marks slot n read (or failed), moves ready past the slots read in
 * order, and wakes the owner when enough waits for it or nothing is
 * being read. p->lock held. */
static void finish_slot(struct inboxpipe *p, size_t n, int failed)
{
	p->state[n % INBOXPIPE_DEPTH] = failed ? FAILED : READ;
	if (failed)
		p->listed = 1;	/* no more claims: the owner stops there */
	while (p->ready < p->claimed &&
	       p->state[p->ready % INBOXPIPE_DEPTH] >= READ)
		p->ready++;
	if (p->owner_waits &&
	    (p->ready - p->head >= HANDOVER || p->ready == p->claimed))
		pthread_cond_signal(&p->filled);
}

/* A worker: claims the next name and slot under the lock, reads and
 * parses outside it, until the listing ends, a message fails or stop.
 * Slots are written outside the lock: until ready covers them, the
 * owner does not look at them. */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct inboxpipe *p = w->p;
	struct inboxpipe_item *it;
	char name[256];
	size_t n;
	int rc;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && !p->listed &&
		       p->claimed - p->given_back == INBOXPIPE_DEPTH) {
			p->workers_wait++;
			pthread_cond_wait(&p->freed, &p->lock);
			p->workers_wait--;
		}
		if (p->stop || p->listed)
			break;
		rc = next_name(p, name);
		if (rc != 1) {
			p->listed = 1;
			p->list_failed = rc < 0;
			if (p->owner_waits && p->ready == p->claimed)
				pthread_cond_signal(&p->filled);
			break;
		}
		n = p->claimed++;
		p->state[n % INBOXPIPE_DEPTH] = READING;
		pthread_mutex_unlock(&p->lock);
		it = &p->slot[n % INBOXPIPE_DEPTH];
		memcpy(it->name, name, sizeof(it->name));
		rc = produce(p, &w->data, it);
		pthread_mutex_lock(&p->lock);
		finish_slot(p, n, rc != 1);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* One reading thread per core, within INBOXPIPE_THREADS. */
static int worker_count(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (cores < 1)
		return 1;
	return cores > INBOXPIPE_THREADS ? INBOXPIPE_THREADS : (int)cores;
}

struct inboxpipe *inboxpipe_start(int dirfd, const char *folder,
				  int (*skip)(const char *name, const void *arg),
				  const void *arg, const char *our_domain)
{
	struct inboxpipe *p = xcalloc(1, sizeof(*p));
	/* a descriptor of its own: a dup would share the listing's offset */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int want = worker_count();

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
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->filled, NULL);
	pthread_cond_init(&p->freed, NULL);
	for (int i = 0; i < INBOXPIPE_THREADS; i++) {
		p->worker[i].p = p;
		p->worker[i].data = (struct buf)BUF_INIT;
	}
	while (p->nworkers < want &&
	       !pthread_create(&p->worker[p->nworkers].thread, NULL, work,
			       &p->worker[p->nworkers]))
		p->nworkers++;
	return p;
}

/* Without threads: the next message, read here into slot 0. */
static int next_unthreaded(struct inboxpipe *p,
			   const struct inboxpipe_item **item)
{
	struct inboxpipe_item *it = &p->slot[0];
	int rc;

	if (p->listed)
		return p->failed ? -1 : 0;
	rc = next_name(p, it->name);
	if (rc == 1)
		rc = produce(p, &p->worker[0].data, it);
	if (rc != 1) {
		p->listed = 1;
		p->failed = rc < 0;
	}
	*item = it;
	return rc;
}

/* Gives back the slots handed back so far (all of them done with now)
 * and counts those ready, waiting for some when there are none:
 * p->avail is how many, 0 at the end. */
static void refill(struct inboxpipe *p)
{
	pthread_mutex_lock(&p->lock);
	p->given_back = p->head;
	if (p->workers_wait)
		pthread_cond_broadcast(&p->freed);
	while (p->ready == p->head && !(p->listed && p->ready == p->claimed)) {
		p->owner_waits = 1;
		pthread_cond_wait(&p->filled, &p->lock);
		p->owner_waits = 0;
	}
	p->avail = p->ready - p->head;
	if (!p->avail)
		p->failed = p->list_failed;
	pthread_mutex_unlock(&p->lock);
}

/* Slots handed back before they are given back together: often enough
 * that the workers never find the ring full while the owner works
 * through what it took, rarely enough that the lock costs nothing. */
#define GIVE_BACK (INBOXPIPE_DEPTH / 4)

int inboxpipe_next(struct inboxpipe *p, const struct inboxpipe_item **item)
{
	if (!p->nworkers)
		return next_unthreaded(p, item);
	if (p->failed)
		return -1;
	if (!p->avail || p->head - p->given_back >= GIVE_BACK)
		refill(p);
	if (!p->avail)
		return p->failed ? -1 : 0;
	/* slots before ready stay as the workers left them until given back */
	if (p->state[p->head % INBOXPIPE_DEPTH] == FAILED) {
		p->failed = 1;
		return -1;
	}
	*item = &p->slot[p->head % INBOXPIPE_DEPTH];
	p->head++;
	p->avail--;
	return 1;
}

void inboxpipe_stop(struct inboxpipe *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nworkers; i++)
		pthread_join(p->worker[i].thread, NULL);
	for (int i = 0; i < INBOXPIPE_THREADS; i++)
		buf_release(&p->worker[i].data);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->filled);
	pthread_cond_destroy(&p->freed);
	closedir(p->dir);
	free(p);
}
