#include "unsub.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "store.h"
#include "template.h"
#include "theme.h"
#include "token.h"
#include "util.h"

/* ---- links ---------------------------------------------------------------- */

/* Appends an address for a mailto: URI (RFC 6068): characters other than
 * unreserved ones and "some-delims" percent-encoded. */
static void mailto_address(struct buf *out, const char *addr)
{
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~!$'()*+,;:@", *p))
			buf_addch(out, *p);
		else
			buf_addf(out, "%%%02X", *p);
	}
}

void unsub_links(const struct token_key *k, const struct config *c,
		 long long id, const char *campaign, struct buf *url,
		 struct buf *mailto)
{
	struct buf token = BUF_INIT;
	size_t base = strlen(c->base_url);

	token_unsub_make(k, id, campaign, &token);
	while (base && c->base_url[base - 1] == '/')
		base--;
	if (url) {
		buf_add(url, c->base_url, base);
		buf_adds(url, "/u/");
		buf_add(url, token.data, token.len);
	}
	if (mailto) {
		buf_adds(mailto, "mailto:");
		mailto_address(mailto, c->unsubscribe_mailto);
		buf_adds(mailto, "?subject=unsubscribe%20");
		buf_add(mailto, token.data, token.len);
	}
	buf_release(&token);
}

/* ---- the pages ------------------------------------------------------------- */

enum page { PAGE_CONFIRM, PAGE_DONE, PAGE_UNDONE, PAGE_INVALID, NPAGES };

static const char *const page_files[NPAGES] = {
	[PAGE_CONFIRM] = "unsubscribe.html.mustache",
	[PAGE_DONE] = "unsubscribed.html.mustache",
	[PAGE_UNDONE] = "resubscribed.html.mustache",
	[PAGE_INVALID] = "link-invalid.html.mustache",
};

/*
 * A page rendered once at start-up, split where the address goes: only
 * the address differs from one request to the next, so a request joins
 * the pieces around it (rendering a page each time cost more than the
 * rest of a GET).
 */
struct page_text {
	struct buf *pieces;	/* n + 1 pieces around n addresses */
	size_t      n;
};

/*
 * Each commit that takes the WAL past another CKPT_PAGES pages
 * (SQLite's own threshold) asks for a checkpoint, which a thread of its
 * own makes with its own connection: made in the commit, it kept the
 * POSTs of every polling thread waiting for two fsyncs (a quarter of
 * the time under load, and the p99). The WAL starts over only once a
 * checkpoint has copied all of it, which the thread's cannot while
 * writes go on: it tries once more when they pause, and past
 * CKPT_PAGES_MAX (128 MiB with bulletin's 16 KiB pages) a commit waits
 * for the thread's checkpoint and makes one itself, which then has
 * little left to copy.
 */
#define CKPT_PAGES 1000
#define CKPT_PAGES_MAX 8000
#define CKPT_RETRY_MS 20

/* Seconds a lot of POSTs may wait for more (see lot_growing). */
#define LOT_WAIT 0.001

struct checkpointer {
	struct store   *store;
	pthread_t       thread;
	int             started;
	pthread_mutex_t lock;
	pthread_cond_t  cond;	/* asked, stopping, or one done */
	int             asked, running, stopping;
	int             pages;	/* the WAL's, after the last commit */
};

struct unsub {
	const struct token_key *key;
	struct page_text        pages[NPAGES];
	/* the store connections not in use: a stack under pool_lock */
	struct store          **stores;
	int                     nstores, nfree;
	pthread_mutex_t         pool_lock;
	pthread_cond_t          pool_cond;
	/* Changes wait in a queue until one of them is to be answered:
	 * then that thread writes all that are queued, in one transaction
	 * (a commit costs far more than the change itself), with the one
	 * write connection. write_lock keeps our threads from writing at
	 * once, and so SQLite's busy handler (which sleeps milliseconds)
	 * out of the way; it is taken before queue_lock. */
	pthread_mutex_t         write_lock;
	struct store           *writer_store;
	pthread_mutex_t         queue_lock;
	struct unsub_job       *queue;	/* newest first */
	atomic_ulong            queued;	/* jobs ever queued */
	_Atomic double          lot_began;	/* when the first one in queue was */
	struct checkpointer     ckpt;
};

/* A change from its unsub_queue to its unsub_answer. */
struct unsub_job {
	enum unsub_action   action;
	struct unsub_target t;
	atomic_int          written;	/* set, under write_lock, once done */
	unsigned long       seen;	/* u->queued when last looked at */
	int                 rc;		/* the write's: 0 or -1 */
	enum store_outcome  outcome;
	char                email[STORE_EMAIL_MAX];
	struct unsub_job   *next;
};

/* The stand-in for the address: no template text holds it, and HTML
 * escaping leaves it as it is. */
#define EMAIL_MARK "\x01email\x01"

static void split_page(struct page_text *p, const struct buf *text)
{
	const char *at = text->data, *end = text->data + text->len, *m;

	p->pieces = xcalloc(1, sizeof(*p->pieces));
	while ((m = memmem(at, (size_t)(end - at), EMAIL_MARK,
			   sizeof(EMAIL_MARK) - 1))) {
		buf_add(&p->pieces[p->n], at, (size_t)(m - at));
		p->pieces = xrealloc(p->pieces, (p->n + 2) * sizeof(*p->pieces));
		buf_init(&p->pieces[++p->n], 0);
		at = m + sizeof(EMAIL_MARK) - 1;
	}
	buf_add(&p->pieces[p->n], at, (size_t)(end - at));
}

/* Renders every page once with the config's words and the theme's. */
static int load_pages(struct unsub *u, const struct config *c)
{
	struct tmpl_dir *dir = tmpl_dir_new(c->templates_dir);
	struct buf text = BUF_INIT;
	struct theme *theme;
	struct tv *data = tv_map(), *nl;
	int ret = -1;

	theme = theme_open(c->templates_dir, c->templates_lang);
	if (!theme)
		goto out;
	tv_set(data, "labels", theme_labels(theme));
	nl = tv_set(data, "newsletter", tv_map());
	tv_set_str(nl, "name", c->name);
	tv_set_str(nl, "postal_address", c->postal_address);
	for (int i = 0; i < NPAGES; i++) {
		const struct tmpl *t = tmpl_dir_load(dir, page_files[i]);

		if (!t)
			goto out;
		tv_set_str(data, "email", i == PAGE_INVALID ? NULL : EMAIL_MARK);
		buf_reset(&text);
		if (tmpl_render(t, data, c->max_message_size, &text))
			goto out;
		split_page(&u->pages[i], &text);
	}
	ret = 0;
out:
	tv_free(data);
	theme_free(theme);
	tmpl_dir_free(dir);
	buf_release(&text);
	return ret;
}

/* Waits (k->lock held) until a checkpoint is due: asked for, or, when
 * the last one left part of the WAL (written while it ran), once writes
 * pause for CKPT_RETRY_MS, so that the next write starts the WAL over.
 * 0 when stopping. */
static int checkpoint_due(struct checkpointer *k, int behind)
{
	struct timespec until;

	monotonic_deadline(&until, CKPT_RETRY_MS);
	while (!k->asked && !k->stopping) {
		if (!behind)
			pthread_cond_wait(&k->cond, &k->lock);
		else if (pthread_cond_timedwait(&k->cond, &k->lock,
						&until) == ETIMEDOUT)
			break;
	}
	return !k->stopping;
}

static void *checkpoints(void *arg)
{
	struct checkpointer *k = arg;
	int behind = 0, retry;

	pthread_mutex_lock(&k->lock);
	while (checkpoint_due(k, behind)) {
		retry = !k->asked;
		k->asked = 0;
		k->running = 1;
		pthread_mutex_unlock(&k->lock);
		/* a retry is not retried: a reader of another process may
		 * keep the WAL from being all copied for long */
		behind = !store_checkpoint(k->store) && !retry;
		pthread_mutex_lock(&k->lock);
		k->running = 0;
		pthread_cond_broadcast(&k->cond);
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

/* store_wal_hook's, after each commit of the writer (write_lock held). */
static void wal_grew(void *arg, int pages)
{
	struct unsub *u = arg;
	struct checkpointer *k = &u->ckpt;
	int grown = pages / CKPT_PAGES > k->pages / CKPT_PAGES;
	int full = grown && pages >= CKPT_PAGES_MAX;

	k->pages = pages;	/* fewer: the WAL started over */
	if (!grown)
		return;
	pthread_mutex_lock(&k->lock);
	k->asked = 1;
	pthread_cond_broadcast(&k->cond);
	while (full && (k->running || k->asked))
		pthread_cond_wait(&k->cond, &k->lock);
	pthread_mutex_unlock(&k->lock);
	if (full)
		store_checkpoint(u->writer_store);
}

static int checkpointer_start(struct unsub *u, const char *path)
{
	struct checkpointer *k = &u->ckpt;

	k->store = store_open(path);
	if (!k->store)
		return -1;
	if (pthread_create(&k->thread, NULL, checkpoints, k))
		return error("cannot start the checkpoint thread");
	k->started = 1;
	store_wal_hook(u->writer_store, wal_grew, u);
	return 0;
}

static void checkpointer_stop(struct checkpointer *k)
{
	if (k->started) {
		pthread_mutex_lock(&k->lock);
		k->stopping = 1;
		pthread_cond_broadcast(&k->cond);
		pthread_mutex_unlock(&k->lock);
		pthread_join(k->thread, NULL);
	}
	store_close(k->store);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->lock);
}

struct unsub *unsub_new(const struct config *c, const struct token_key *k,
			int connections)
{
	struct unsub *u = xcalloc(1, sizeof(*u));

	u->key = k;
	pthread_mutex_init(&u->pool_lock, NULL);
	pthread_cond_init(&u->pool_cond, NULL);
	pthread_mutex_init(&u->write_lock, NULL);
	pthread_mutex_init(&u->queue_lock, NULL);
	pthread_mutex_init(&u->ckpt.lock, NULL);
	monotonic_cond_init(&u->ckpt.cond);	/* for its timed waits */
	u->stores = xcalloc((size_t)connections, sizeof(*u->stores));
	if (load_pages(u, c))
		goto fail;
	for (; u->nstores < connections; u->nstores++) {
		u->stores[u->nstores] = store_open(c->store_path);
		if (!u->stores[u->nstores])
			goto fail;
	}
	u->nfree = u->nstores;
	u->writer_store = store_open(c->store_path);
	if (!u->writer_store || checkpointer_start(u, c->store_path))
		goto fail;
	return u;
fail:
	unsub_free(u);
	return NULL;
}

void unsub_free(struct unsub *u)
{
	if (!u)
		return;
	checkpointer_stop(&u->ckpt);
	store_close(u->writer_store);
	for (int i = 0; i < u->nstores; i++)
		store_close(u->stores[i]);
	free(u->stores);
	for (int i = 0; i < NPAGES; i++) {
		for (size_t j = 0; u->pages[i].pieces && j <= u->pages[i].n; j++)
			buf_release(&u->pages[i].pieces[j]);
		free(u->pages[i].pieces);
	}
	pthread_mutex_destroy(&u->pool_lock);
	pthread_cond_destroy(&u->pool_cond);
	pthread_mutex_destroy(&u->write_lock);
	pthread_mutex_destroy(&u->queue_lock);
	free(u);
}

static struct store *take_store(struct unsub *u)
{
	struct store *s;

	pthread_mutex_lock(&u->pool_lock);
	while (!u->nfree)
		pthread_cond_wait(&u->pool_cond, &u->pool_lock);
	s = u->stores[--u->nfree];
	pthread_mutex_unlock(&u->pool_lock);
	return s;
}

static void give_store(struct unsub *u, struct store *s)
{
	pthread_mutex_lock(&u->pool_lock);
	u->stores[u->nfree++] = s;
	pthread_cond_signal(&u->pool_cond);
	pthread_mutex_unlock(&u->pool_lock);
}

/* Appends page p with email (HTML-escaped) where the address goes. */
static void render(const struct unsub *u, enum page p, const char *email,
		   struct buf *out)
{
	const struct page_text *t = &u->pages[p];

	for (size_t i = 0; i <= t->n; i++) {
		if (i)
			html_escape(out, email, strlen(email));
		buf_add(out, t->pieces[i].data, t->pieces[i].len);
	}
}

/* ---- requests ----------------------------------------------------------- */

static int apply(struct store *s, struct unsub_job *j)
{
	struct store_why why = {
		j->action == UNSUB_ONE_CLICK ? "one-click" : "page", NULL,
		*j->t.campaign ? j->t.campaign : NULL };

	/* the address comes back with the change, for the page */
	return store_unsub_by_id_email(s, j->t.id, j->action == UNSUB_UNDO,
				       &why, j->email, &j->outcome);
}

/* Writes the jobs in one transaction, all or none; *jobs (newest
 * first) is turned around first, to write them in the order they came.
 * Returns 0 or -1. */
static int write_batch(struct store *s, struct unsub_job **jobs)
{
	struct unsub_job *order = NULL, *j, *next;
	int rc = store_begin(s);

	for (j = *jobs; j; j = next) {
		next = j->next;
		j->next = order;
		order = j;
	}
	*jobs = order;
	for (j = order; j && !rc; j = j->next)
		rc = apply(s, j);
	if (!rc)
		return store_commit(s);
	store_rollback(s);
	return -1;
}

/* Writes what is queued, unless j is written already (with an earlier
 * lot, perhaps by another thread): then j is. */
static void write_queued(struct unsub *u, struct unsub_job *j)
{
	struct unsub_job *lot, *next;
	int rc;

	pthread_mutex_lock(&u->write_lock);
	if (!atomic_load(&j->written)) {	/* then it is in the queue */
		pthread_mutex_lock(&u->queue_lock);
		lot = u->queue;
		u->queue = NULL;
		pthread_mutex_unlock(&u->queue_lock);
		rc = write_batch(u->writer_store, &lot);
		for (; lot; lot = next) {
			next = lot->next;	/* once written, its owner frees it */
			lot->rc = rc;
			atomic_store(&lot->written, 1);
		}
	}
	pthread_mutex_unlock(&u->write_lock);
}

int unsub_check(struct unsub *u, const char *token, size_t len,
		struct unsub_target *t, struct buf *out)
{
	if (!token_unsub_check(u->key, token, len, &t->id, t->campaign) &&
	    t->id > 0)
		return 0;
	render(u, PAGE_INVALID, NULL, out);
	return 400;
}

struct unsub_job *unsub_queue(struct unsub *u, enum unsub_action action,
			      const struct unsub_target *t)
{
	struct unsub_job *j = xcalloc(1, sizeof(*j));

	j->action = action;
	j->t = *t;
	pthread_mutex_lock(&u->queue_lock);
	if (!u->queue)
		atomic_store(&u->lot_began, monotonic_s());
	j->next = u->queue;
	u->queue = j;
	j->seen = atomic_fetch_add(&u->queued, 1) + 1;
	pthread_mutex_unlock(&u->queue_lock);
	return j;
}

/* Writes j unless it is, appends its page to out (unless NULL), frees
 * it and returns its HTTP status. */
static int answer(struct unsub *u, struct unsub_job *j, struct buf *out)
{
	int status = 200;

	if (!atomic_load(&j->written))
		write_queued(u, j);
	if (j->rc)
		status = 500;
	else if (j->outcome == STORE_NOT_FOUND)
		status = 400;
	if (out && status == 500)
		buf_adds(out, "internal error\n");
	else if (out && status == 400)
		render(u, PAGE_INVALID, NULL, out);
	else if (out)
		render(u, j->action == UNSUB_UNDO ? PAGE_UNDONE : PAGE_DONE,
		       j->email, out);
	free(j);
	return status;
}

/*
 * Whether j's lot had better wait for more: while POSTs keep coming
 * (each call finds new ones queued since the last) and for LOT_WAIT at
 * most. A lone POST is written at once; under load, a lot grows to
 * about as many POSTs as there are clients, and the commit, the WAL
 * pages and the checkpoints are shared by all of them.
 */
static int lot_growing(struct unsub *u, struct unsub_job *j)
{
	unsigned long queued = atomic_load(&u->queued);
	int grow = queued != j->seen &&
		   monotonic_s() - atomic_load(&u->lot_began) < LOT_WAIT;

	j->seen = queued;
	return grow;
}

int unsub_answer(struct unsub *u, struct unsub_job *j, struct buf *out)
{
	if (!atomic_load(&j->written) && lot_growing(u, j))
		return 0;
	return answer(u, j, out);
}

void unsub_flush(struct unsub *u, struct unsub_job *j)
{
	answer(u, j, NULL);
}

/* Answers a GET for subscriber id; the status, or -1 after error(). */
static int show(struct unsub *u, struct store *s, long long id,
		struct buf *out)
{
	char email[STORE_EMAIL_MAX];
	enum sub_status status;
	int rc = store_sub_by_id(s, id, email, &status);

	if (rc <= 0)
		return rc < 0 ? -1 : 400;
	/* an address already unsubscribed is offered the undo */
	render(u, status == SUB_UNSUBSCRIBED ? PAGE_DONE : PAGE_CONFIRM, email,
	       out);
	return 200;
}

int unsub_show(struct unsub *u, const char *token, size_t len,
	       struct buf *out)
{
	struct unsub_target t;
	struct store *s;
	int status = unsub_check(u, token, len, &t, out);

	if (status)
		return status;
	s = take_store(u);
	status = show(u, s, t.id, out);
	give_store(u, s);
	if (status == 400)
		render(u, PAGE_INVALID, NULL, out);
	if (status < 0) {
		buf_adds(out, "internal error\n");
		status = 500;
	}
	return status;
}
