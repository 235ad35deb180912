#include "logbuf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

struct logbuf {
	int             fd;
	unsigned        delay_ms;
	pthread_mutex_t lock;
	pthread_cond_t  cond;	/* a first line waits, a lot is full, or stop */
	struct buf      waiting;
	size_t          dropped;	/* lines, since the last note of it */
	int             stopping;
	pthread_t       thread;
};

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* Waits (l->lock held) until a lot is due; 0 when stopped with nothing
 * left to write. */
static int wait_lot(struct logbuf *l)
{
	struct timespec until;

	while (!l->waiting.len && !l->stopping)
		pthread_cond_wait(&l->cond, &l->lock);
	monotonic_deadline(&until, l->delay_ms);
	while (!l->stopping && l->waiting.len < LOGBUF_LOT &&
	       pthread_cond_timedwait(&l->cond, &l->lock, &until) != ETIMEDOUT)
		;
	return l->waiting.len > 0 || l->dropped > 0;
}

static void *run(void *arg)
{
	struct logbuf *l = arg;
	struct buf out = BUF_INIT, spare;

	pthread_mutex_lock(&l->lock);
	while (wait_lot(l)) {
		/* swapped, so that the next lot reuses this one's memory */
		spare = l->waiting;
		l->waiting = out;
		out = spare;
		if (l->dropped)
			buf_addf(&out, "bulletin: warning: %zu log lines dropped "
				 "(the log is not read fast enough)\n", l->dropped);
		l->dropped = 0;
		pthread_mutex_unlock(&l->lock);
		write_all(l->fd, out.data, out.len);
		buf_reset(&out);
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	buf_release(&out);
	return NULL;
}

struct logbuf *logbuf_new(int fd, unsigned delay_ms)
{
	struct logbuf *l = xcalloc(1, sizeof(*l));

	l->fd = fd;
	l->delay_ms = delay_ms;
	buf_init(&l->waiting, 0);
	pthread_mutex_init(&l->lock, NULL);
	monotonic_cond_init(&l->cond);
	if (!pthread_create(&l->thread, NULL, run, l))
		return l;
	error("cannot start the log thread");
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	buf_release(&l->waiting);
	free(l);
	return NULL;
}

void logbuf_add(struct logbuf *l, const char *line, size_t len)
{
	size_t had;

	pthread_mutex_lock(&l->lock);
	had = l->waiting.len;
	if (had + len > LOGBUF_MAX) {
		l->dropped++;
	} else {
		buf_add(&l->waiting, line, len);
		/* the thread waits for a first line, then for a full lot */
		if (!had || (had < LOGBUF_LOT && had + len >= LOGBUF_LOT))
			pthread_cond_signal(&l->cond);
	}
	pthread_mutex_unlock(&l->lock);
}

void logbuf_free(struct logbuf *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stopping = 1;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thread, NULL);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	buf_release(&l->waiting);
	free(l);
}
