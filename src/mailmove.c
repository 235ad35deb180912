#include "mailmove.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct mailmove {
	int             fromfd, curfd;
	const char     *from, *cur;
	struct buf      to;		/* the moving thread's */

	int             threaded;
	pthread_t       thread;
	pthread_mutex_t lock;
	pthread_cond_t  cond;		/* a batch handed over, moved, or stop */
	/* under lock: */
	struct buf      names;		/* the batch handed over */
	size_t          n;		/* its names; 0: none waiting */
	int             stop;
	int             failed;
};

void mailmove_handled_name(const char *name, struct buf *out)
{
	const char *info = strstr(name, ":2,");
	size_t base = info ? (size_t)(info - name) : strlen(name);
	const char *flags = info ? info + 3 : "";

	buf_reset(out);
	buf_add(out, name, base);
	buf_adds(out, ":2,");
	for (const char *f = flags; *f && *f < 'S'; f++)
		buf_addch(out, *f);
	buf_addch(out, 'S');
	for (const char *f = flags; *f; f++)
		if (*f > 'S')
			buf_addch(out, *f);
}

/* Moves n names; 0, or -1 when any failed (each said). */
static int move_names(struct mailmove *m, const char *name, size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n; i++, name += strlen(name) + 1) {
		mailmove_handled_name(name, &m->to);
		if (renameat(m->fromfd, name, m->curfd, m->to.data))
			ret = error("cannot move '%s/%s' to '%s/%s': %s",
				    m->from, name, m->cur, m->to.data,
				    strerror(errno));
	}
	return ret;
}

/* The thread: the batch is moved while it stays in m->names, so the
 * owner's next hand-over waits until it is done. */
static void *mover(void *arg)
{
	struct mailmove *m = arg;
	int rc;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		while (!m->n && !m->stop)
			pthread_cond_wait(&m->cond, &m->lock);
		if (!m->n)
			break;
		pthread_mutex_unlock(&m->lock);
		rc = move_names(m, m->names.data, m->n);
		pthread_mutex_lock(&m->lock);
		if (rc)
			m->failed = 1;
		m->n = 0;
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

struct mailmove *mailmove_start(int fromfd, const char *from, int curfd,
				const char *cur)
{
	struct mailmove *m = xcalloc(1, sizeof(*m));

	m->fromfd = fromfd;
	m->curfd = curfd;
	m->from = from;
	m->cur = cur;
	m->to = (struct buf)BUF_INIT;
	m->names = (struct buf)BUF_INIT;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->threaded = !pthread_create(&m->thread, NULL, mover, m);
	return m;
}

int mailmove_batch(struct mailmove *m, struct buf *names, size_t n)
{
	struct buf spare;
	int failed;

	if (!n)
		return 0;
	if (!m->threaded) {
		if (move_names(m, names->data, n))
			m->failed = 1;
		buf_reset(names);
		return m->failed ? -1 : 0;
	}
	pthread_mutex_lock(&m->lock);
	while (m->n)
		pthread_cond_wait(&m->cond, &m->lock);
	/* swapped: the batch moved last lends its memory to the next */
	spare = m->names;
	m->names = *names;
	*names = spare;
	buf_reset(names);
	m->n = n;
	failed = m->failed;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return failed ? -1 : 0;
}

int mailmove_finish(struct mailmove *m)
{
	int failed;

	if (!m)
		return 0;
	if (m->threaded) {
		pthread_mutex_lock(&m->lock);
		m->stop = 1;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
	}
	failed = m->failed;
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	buf_release(&m->names);
	buf_release(&m->to);
	free(m);
	return failed ? -1 : 0;
}
