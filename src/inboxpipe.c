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
	size_t          head;		/* the oldest filled slot */
	size_t          count;		/* filled slots, the one held included */
	int             held;		/* the owner holds slot[head] */
	int             end;		/* 1: the folder is done; -1: failed */
	int             stop;		/* the owner wants no more */

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

/* The thread: fills free slots in order until the end, a failure or
 * stop. A slot is written outside the lock: until count covers it, the
 * owner does not look at it. */
static void *reader(void *arg)
{
	struct inboxpipe *p = arg;
	size_t tail = 0;
	int rc, stop;

	do {
		pthread_mutex_lock(&p->lock);
		while (p->count == INBOXPIPE_DEPTH && !p->stop)
			pthread_cond_wait(&p->freed, &p->lock);
		stop = p->stop;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			break;
		rc = produce(p, &p->slot[tail]);
		pthread_mutex_lock(&p->lock);
		if (rc == 1)
			p->count++;
		else
			p->end = rc ? -1 : 1;
		pthread_cond_signal(&p->filled);
		pthread_mutex_unlock(&p->lock);
		tail = (tail + 1) % INBOXPIPE_DEPTH;
	} while (rc == 1);
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
	pthread_mutex_lock(&p->lock);
	if (p->held) {
		p->held = 0;
		p->head = (p->head + 1) % INBOXPIPE_DEPTH;
		p->count--;
		pthread_cond_signal(&p->freed);
	}
	while (!p->count && !p->end)
		pthread_cond_wait(&p->filled, &p->lock);
	if (p->count) {
		p->held = 1;
		*item = &p->slot[p->head];
		rc = 1;
	} else {
		rc = p->end < 0 ? -1 : 0;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
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
