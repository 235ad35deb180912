#include "unsub.h"

#include <pthread.h>
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

struct unsub {
	const struct token_key *key;
	struct page_text        pages[NPAGES];
	/* the store connections not in use: a stack under pool_lock */
	struct store          **stores;
	int                     nstores, nfree;
	pthread_mutex_t         pool_lock;
	pthread_cond_t          pool_cond;
	/* Changes wait in a queue; one of the waiting threads (the leader)
	 * writes all that are queued in one transaction, then the next lot:
	 * a commit costs far more than the change itself, and one writer
	 * at a time keeps SQLite's busy handler (which sleeps
	 * milliseconds) out of the way. */
	pthread_mutex_t         queue_lock;
	pthread_cond_t          queue_done;
	struct job             *queue;
	int                     leading;
};

/* A change waiting for the leader. */
struct job {
	enum unsub_action   action;
	long long           id;
	const char         *campaign;	/* "" for none */
	enum store_outcome  outcome;
	int                 rc;		/* 0, or -1: the database failed */
	int                 done;
	struct job         *next;
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

struct unsub *unsub_new(const struct config *c, const struct token_key *k,
			int connections)
{
	struct unsub *u = xcalloc(1, sizeof(*u));

	u->key = k;
	pthread_mutex_init(&u->pool_lock, NULL);
	pthread_cond_init(&u->pool_cond, NULL);
	pthread_mutex_init(&u->queue_lock, NULL);
	pthread_cond_init(&u->queue_done, NULL);
	u->stores = xcalloc((size_t)connections, sizeof(*u->stores));
	if (load_pages(u, c))
		goto fail;
	for (; u->nstores < connections; u->nstores++) {
		u->stores[u->nstores] = store_open(c->store_path);
		if (!u->stores[u->nstores])
			goto fail;
	}
	u->nfree = u->nstores;
	return u;
fail:
	unsub_free(u);
	return NULL;
}

void unsub_free(struct unsub *u)
{
	if (!u)
		return;
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
	pthread_mutex_destroy(&u->queue_lock);
	pthread_cond_destroy(&u->queue_done);
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

static int apply(struct store *s, struct job *j)
{
	struct store_why why = {
		j->action == UNSUB_ONE_CLICK ? "one-click" : "page", NULL,
		*j->campaign ? j->campaign : NULL };

	if (j->action == UNSUB_UNDO)
		return store_undo_unsub_by_id(s, j->id, &why, &j->outcome);
	return store_unsub_by_id(s, j->id, &why, &j->outcome);
}

/* Writes the jobs in one transaction, all or none; *jobs (newest
 * first) is turned around first, to write them in the order they came. */
static void write_batch(struct store *s, struct job **jobs)
{
	struct job *order = NULL, *j, *next;
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
		rc = store_commit(s);
	else
		store_rollback(s);
	for (j = order; j; j = j->next)
		j->rc = rc;
}

/* The leader: writes what is queued until the queue is empty. Called
 * and returns with queue_lock held. */
static void lead(struct unsub *u, struct store *s)
{
	u->leading = 1;
	while (u->queue) {
		struct job *batch = u->queue, *j, *next;

		u->queue = NULL;
		pthread_mutex_unlock(&u->queue_lock);
		write_batch(s, &batch);
		pthread_mutex_lock(&u->queue_lock);
		for (j = batch; j; j = next) {
			next = j->next;	/* j lives on its waiter's stack */
			j->done = 1;
		}
		pthread_cond_broadcast(&u->queue_done);
	}
	u->leading = 0;
}

/* Does what a POST asks; *p receives the page to show. 0 or -1. */
static int change(struct unsub *u, struct store *s, enum unsub_action a,
		  long long id, const char *campaign, enum page *p)
{
	struct job j = { a, id, campaign, STORE_UNCHANGED, 0, 0, NULL };

	pthread_mutex_lock(&u->queue_lock);
	j.next = u->queue;
	u->queue = &j;
	while (!j.done) {
		if (!u->leading)
			lead(u, s);
		else
			pthread_cond_wait(&u->queue_done, &u->queue_lock);
	}
	pthread_mutex_unlock(&u->queue_lock);
	if (j.rc)
		return -1;
	if (j.outcome == STORE_NOT_FOUND)
		*p = PAGE_INVALID;	/* erased between the check and now */
	else
		*p = a == UNSUB_UNDO ? PAGE_UNDONE : PAGE_DONE;
	return 0;
}

/* Answers a request for subscriber id; the status, or -1 after error(). */
static int answer(struct unsub *u, struct store *s, enum unsub_action a,
		  long long id, const char *campaign, struct buf *out)
{
	char email[STORE_EMAIL_MAX];
	enum sub_status status;
	enum page p = PAGE_CONFIRM;
	int rc = store_sub_by_id(s, id, email, &status);

	if (rc <= 0)
		return rc < 0 ? -1 : 400;
	if (a == UNSUB_SHOW && status == SUB_UNSUBSCRIBED)
		p = PAGE_DONE;	/* already: offer the undo */
	if (a != UNSUB_SHOW && change(u, s, a, id, campaign, &p))
		return -1;
	if (p == PAGE_INVALID)
		return 400;
	render(u, p, email, out);
	return 200;
}

int unsub_handle(struct unsub *u, enum unsub_action action, const char *token,
		 size_t len, struct buf *out)
{
	char campaign[65];
	long long id;
	struct store *s;
	int status;

	if (token_unsub_check(u->key, token, len, &id, campaign) || id <= 0) {
		render(u, PAGE_INVALID, NULL, out);
		return 400;
	}
	s = take_store(u);
	status = answer(u, s, action, id, campaign, out);
	give_store(u, s);
	if (status == 400)
		render(u, PAGE_INVALID, NULL, out);
	if (status < 0) {
		buf_reset(out);
		buf_adds(out, "internal error\n");
		status = 500;
	}
	return status;
}
