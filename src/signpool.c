#include "signpool.h"

#include <pthread.h>
#include <string.h>

#include "dkim.h"
#include "util.h"

#define MAX_THREADS 64

enum job_state { JOB_FREE, JOB_QUEUED, JOB_SIGNING, JOB_DONE, JOB_FAILED };

struct job {
	struct buf     msg;	/* as submitted, then signed (dkim.h) */
	void          *tag;	/* the owner's */
	enum job_state state;
};

/* A ring of depth jobs: [head, claim) being signed or signed, [claim,
 * tail) waiting for a worker; counters only grow, slot = counter % depth. */
struct signpool {
	const struct dkim_signer *signer;
	pthread_mutex_t lock;
	pthread_cond_t  work;	/* a job was queued, or stop */
	pthread_cond_t  done;	/* a job was signed */
	struct job     *jobs;
	size_t          depth;
	size_t          head, claim, tail;
	int             stop;
	pthread_t       threads[MAX_THREADS];
	int             nthreads;
};

static struct job *slot(struct signpool *p, size_t n)
{
	return &p->jobs[n % p->depth];
}

/* Waits for a queued job and claims it; NULL when the pool stops. */
static struct job *claim(struct signpool *p)
{
	struct job *j = NULL;

	pthread_mutex_lock(&p->lock);
	while (!p->stop && p->claim == p->tail)
		pthread_cond_wait(&p->work, &p->lock);
	if (!p->stop) {
		j = slot(p, p->claim++);
		j->state = JOB_SIGNING;
	}
	pthread_mutex_unlock(&p->lock);
	return j;
}

static void *worker(void *arg)
{
	struct signpool *p = arg;
	struct job *j;

	while ((j = claim(p)) != NULL) {
		/* outside the lock: the job is this worker's until DONE */
		int failed = dkim_signer_prepend(p->signer, &j->msg);

		pthread_mutex_lock(&p->lock);
		j->state = failed ? JOB_FAILED : JOB_DONE;
		pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

struct signpool *signpool_new(const struct dkim_signer *signer, int threads,
			      size_t depth)
{
	struct signpool *p = xcalloc(1, sizeof(*p));

	p->signer = signer;
	p->depth = depth ? depth : 1;
	p->jobs = xcalloc(p->depth, sizeof(*p->jobs));
	for (size_t i = 0; i < p->depth; i++)
		p->jobs[i] = (struct job){ BUF_INIT, NULL, JOB_FREE };
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
	while (p->nthreads < threads &&
	       !pthread_create(&p->threads[p->nthreads], NULL, worker, p))
		p->nthreads++;
	if (!p->nthreads) {
		error("cannot start a signing thread");
		signpool_free(p);
		return NULL;
	}
	return p;
}

size_t signpool_pending(const struct signpool *p)
{
	return p->tail - p->head;	/* only the owner moves head and tail */
}

size_t signpool_depth(const struct signpool *p)
{
	return p->depth;
}

int signpool_submit(struct signpool *p, struct buf *msg, void *tag)
{
	struct job *j;

	if (signpool_pending(p) >= p->depth)
		return error("signing pool full (%zu messages): take one first",
			     p->depth);
	pthread_mutex_lock(&p->lock);
	j = slot(p, p->tail++);
	buf_release(&j->msg);
	j->msg = *msg;
	*msg = (struct buf)BUF_INIT;
	j->tag = tag;
	j->state = JOB_QUEUED;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Hands the oldest job's result to out and frees its slot (lock held). */
static int take(struct signpool *p, struct job *j, struct buf *out,
		void **tag)
{
	int ret = j->state == JOB_DONE ? 1 : -1;

	*tag = j->tag;
	buf_release(out);
	if (ret == 1) {
		*out = j->msg;
		j->msg = (struct buf)BUF_INIT;
	}
	buf_release(&j->msg);
	j->state = JOB_FREE;
	p->head++;
	return ret;
}

int signpool_next(struct signpool *p, struct buf *out, void **tag, int wait)
{
	struct job *j;
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (p->head == p->tail)
		goto out;
	j = slot(p, p->head);
	while (wait && j->state != JOB_DONE && j->state != JOB_FAILED)
		pthread_cond_wait(&p->done, &p->lock);
	if (j->state == JOB_DONE || j->state == JOB_FAILED)
		ret = take(p, j, out, tag);
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void signpool_free(struct signpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (size_t i = 0; i < p->depth; i++)
		buf_release(&p->jobs[i].msg);
	free(p->jobs);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
