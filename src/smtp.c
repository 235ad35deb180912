/*
 * The SMTP transport: one thread per connection, each with its own
 * libcurl easy handle, which keeps its connection open after a message
 * (EHLO, STARTTLS and AUTH happen once per connection), so a thread's
 * next message goes out on the same connection. libcurl closes a
 * connection after any failed transfer (a 421 included); the thread's
 * next message then opens a new one.
 *
 * Why threads and not libcurl's multi interface: libcurl 7.88 waits for
 * the reply to the data (the 250 after the final dot) inside the call
 * that sent it, even through a multi handle, so one handle's connections
 * took turns: while one waited for its relay, the others sat idle.
 *
 * The caller's thread only queues messages (submit) and collects
 * results (run); it never waits for the network.
 *
 * Only this file speaks libcurl.
 */

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transport.h"
#include "util.h"

/* libcurl's smallest upload buffer: the relay starts on a message
 * sooner, and sends went faster than with its largest (512 KiB) */
#define READ_BUFFER (16 * 1024)

/* Slots beyond the connections: messages built and waiting while the
 * others are on the wire, so that a connection never waits for the
 * caller and the caller need not wake for every message. */
#define QUEUED 4

/* One connection: its thread, its handle and the message it sends. */
struct slot {
	struct smtp      *sm;
	pthread_t         thread;
	int               started;
	CURL             *easy;
	struct tmsg      *msg;		/* being sent */
	size_t            off;		/* bytes of msg->data handed to libcurl */
	struct curl_slist rcpt;		/* one recipient: libcurl does not copy it */
	char              last[512];	/* the last reply line */
	char              refusal[512];	/* the latest 4xx or 5xx reply: after
					 * it libcurl says QUIT, whose 221
					 * would be the last */
	int               saw_354;	/* the data had begun: a reply after it
					 * answers the data */
	char              errbuf[CURL_ERROR_SIZE];
};

/* A message sent, waiting for run() to report it. */
struct finished {
	struct tmsg   *msg;
	struct tresult r;
};

struct smtp {
	struct transport t;
	struct slot     *slots;
	size_t           nslots;
	char            *url;		/* with the EHLO name as its path */

	pthread_mutex_t  lock;		/* guards what follows */
	pthread_cond_t   work;		/* a message queued, or stopping */
	pthread_cond_t   done;		/* a message finished */
	struct tmsg    **queue;		/* submitted, not taken yet: a ring */
	size_t           qhead, qlen;
	struct finished *fin;		/* finished, not reported yet */
	size_t           nfin;
	struct finished *out;		/* run()'s copy of fin, reported
					 * without the lock */
	size_t           busy;		/* submitted and not yet reported */
	int              stopping;
};

static size_t read_cb(char *to, size_t size, size_t n, void *arg)
{
	struct slot *sl = arg;
	size_t left = sl->msg->data.len - sl->off, want = size * n;

	if (want > left)
		want = left;
	memcpy(to, sl->msg->data.data + sl->off, want);
	sl->off += want;
	return want;
}

/* libcurl hands every reply line of the server to the header callback. */
static size_t header_cb(char *line, size_t size, size_t n, void *arg)
{
	struct slot *sl = arg;
	size_t len = size * n, keep = len;

	while (keep && (line[keep - 1] == '\n' || line[keep - 1] == '\r'))
		keep--;
	if (keep >= sizeof(sl->last))
		keep = sizeof(sl->last) - 1;
	/* a multi-line reply's first line carries its meaning */
	if (!(keep > 3 && line[3] == '-' && sl->last[0] &&
	      !strncmp(sl->last, line, 3) && sl->last[3] == '-')) {
		memcpy(sl->last, line, keep);
		sl->last[keep] = '\0';
		for (size_t i = 0; i < keep; i++)
			if ((unsigned char)sl->last[i] < 32)
				sl->last[i] = ' ';
	}
	if (keep >= 3 && !strncmp(line, "354", 3))
		sl->saw_354 = 1;
	if (keep && (line[0] == '4' || line[0] == '5'))
		memcpy(sl->refusal, sl->last, sizeof(sl->refusal));
	return len;
}

static size_t discard_cb(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

static int slot_init(struct smtp *sm, struct slot *sl, const struct relay *r)
{
	CURL *e = curl_easy_init();

	if (!e)
		return error("cannot make a libcurl handle");
	sl->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, sm->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)READ_BUFFER);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(e, CURLOPT_READDATA, sl);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, sl);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, sl->errbuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(r->connect_timeout * 1000));
	curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
			 (long)(r->reply_timeout < 1 ? 1 : r->reply_timeout));
	curl_easy_setopt(e, CURLOPT_USE_SSL,
			 r->starttls == 2 ? (long)CURLUSESSL_ALL :
			 r->starttls == 1 ? (long)CURLUSESSL_TRY :
			 (long)CURLUSESSL_NONE);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (r->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
	if (r->username) {
		curl_easy_setopt(e, CURLOPT_USERNAME, r->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, r->password);
	}
	return 0;
}

static void set_reply(struct tresult *r, const char *what, const char *detail)
{
	snprintf(r->reply, sizeof(r->reply), "%s%.400s", what, detail);
}

/* Failures that mean no message can get through this relay. */
static int fatal(struct slot *sl, CURLcode rc, struct tresult *r)
{
	curl_off_t connect_us = 0;

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		set_reply(r, "cannot connect: ", sl->errbuf);
		return 1;
	case CURLE_LOGIN_DENIED:
		set_reply(r, "authentication failed: ",
			  sl->refusal[0] ? sl->refusal : sl->errbuf);
		return 1;
	case CURLE_USE_SSL_FAILED:
		set_reply(r, "the server does not offer STARTTLS, and "
			  "starttls = require", "");
		return 1;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		set_reply(r, "TLS failed: ", sl->errbuf);
		return 1;
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(sl->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
		if (connect_us || sl->last[0])
			return 0;
		set_reply(r, "cannot connect: ", sl->errbuf);
		return 1;
	default:
		return 0;
	}
}

static enum tr_stage stage_of(const struct slot *sl)
{
	if (!strncmp(sl->errbuf, "RCPT", 4))
		return TR_STAGE_RCPT;
	if (!strncmp(sl->errbuf, "MAIL", 4))
		return TR_STAGE_MAIL;
	return sl->saw_354 ? TR_STAGE_DATA : TR_STAGE_CONNECT;
}

static void result_of(struct slot *sl, CURLcode rc, struct tresult *r)
{
	const char *reply = rc != CURLE_OK && sl->refusal[0] ? sl->refusal :
			    sl->last;

	memset(r, 0, sizeof(*r));
	r->stage = stage_of(sl);
	r->code = smtp_reply_code(reply, r->enhanced);
	if (rc == CURLE_OK) {
		r->outcome = TR_SENT;
		snprintf(r->reply, sizeof(r->reply), "%s", sl->last);
		return;
	}
	if (fatal(sl, rc, r)) {
		r->outcome = TR_FATAL;
		return;
	}
	if (r->code >= 400) {
		r->outcome = r->code >= 500 ? TR_PERM : TR_TEMP;
		snprintf(r->reply, sizeof(r->reply), "%s", reply);
		return;
	}
	/* no refusal was heard: the connection broke or went silent */
	r->outcome = TR_TEMP;
	r->code = 0;
	r->enhanced[0] = '\0';
	snprintf(r->reply, sizeof(r->reply), "%s",
		 rc == CURLE_OPERATION_TIMEDOUT ? "timed out waiting for a reply" :
		 sl->errbuf[0] ? sl->errbuf : curl_easy_strerror(rc));
}

/* Sends one message on the slot's connection, in the slot's thread. */
static void send_one(struct slot *sl, struct tmsg *m, struct tresult *r)
{
	CURLcode rc;

	sl->msg = m;
	sl->off = 0;
	sl->last[0] = '\0';
	sl->refusal[0] = '\0';
	sl->errbuf[0] = '\0';
	sl->saw_354 = 0;
	sl->rcpt = (struct curl_slist){ m->rcpt, NULL };
	curl_easy_setopt(sl->easy, CURLOPT_MAIL_FROM, m->from);
	curl_easy_setopt(sl->easy, CURLOPT_MAIL_RCPT, &sl->rcpt);
	curl_easy_setopt(sl->easy, CURLOPT_INFILESIZE_LARGE,
			 (curl_off_t)m->data.len);
	rc = curl_easy_perform(sl->easy);
	result_of(sl, rc, r);
	sl->msg = NULL;
}

static void *slot_thread(void *arg)
{
	struct slot *sl = arg;
	struct smtp *sm = sl->sm;

	pthread_setname_np(pthread_self(), "smtp");
	pthread_mutex_lock(&sm->lock);
	for (;;) {
		struct tmsg *m;
		struct tresult r;

		while (!sm->stopping && !sm->qlen)
			pthread_cond_wait(&sm->work, &sm->lock);
		if (sm->stopping)
			break;
		m = sm->queue[sm->qhead];
		sm->qhead = (sm->qhead + 1) % sm->t.slots;
		sm->qlen--;
		pthread_mutex_unlock(&sm->lock);
		send_one(sl, m, &r);
		pthread_mutex_lock(&sm->lock);
		sm->fin[sm->nfin++] = (struct finished){ m, r };
		/* waking the caller costs a context switch per message: do it
		 * when the queue runs low or something went wrong; otherwise
		 * it collects the results at its next turn */
		if (sm->qlen <= QUEUED / 2 || r.outcome != TR_SENT)
			pthread_cond_signal(&sm->done);
	}
	pthread_mutex_unlock(&sm->lock);
	return NULL;
}

static int submit(struct transport *t, struct tmsg *m)
{
	struct smtp *sm = (struct smtp *)t;

	pthread_mutex_lock(&sm->lock);
	if (sm->busy == t->slots) {
		pthread_mutex_unlock(&sm->lock);
		return error("smtp: no free connection slot");
	}
	sm->queue[(sm->qhead + sm->qlen++) % t->slots] = m;
	sm->busy++;
	pthread_cond_signal(&sm->work);
	pthread_mutex_unlock(&sm->lock);
	return 0;
}

/* Waits until something is finished or timeout_ms has passed. */
static void wait_finished(struct smtp *sm, int timeout_ms)
{
	struct timespec until;

	monotonic_deadline(&until, (unsigned)timeout_ms);
	while (!sm->nfin &&
	       pthread_cond_timedwait(&sm->done, &sm->lock, &until) != ETIMEDOUT)
		;
}

static int run(struct transport *t, int timeout_ms, tr_done_fn *done,
	       void *arg)
{
	struct smtp *sm = (struct smtp *)t;
	size_t n;
	int busy;

	pthread_mutex_lock(&sm->lock);
	if (timeout_ms > 0)
		wait_finished(sm, timeout_ms);
	n = sm->nfin;
	memcpy(sm->out, sm->fin, n * sizeof(*sm->fin));
	sm->nfin = 0;
	sm->busy -= n;
	busy = (int)sm->busy;
	pthread_mutex_unlock(&sm->lock);
	/* done may submit: the lock is not held */
	for (size_t i = 0; i < n; i++)
		done(arg, sm->out[i].msg, &sm->out[i].r);
	return busy;
}

/* Stops the threads once their message (if any) is sent; messages not
 * taken yet are dropped. */
static void smtp_free(struct transport *t)
{
	struct smtp *sm = (struct smtp *)t;

	pthread_mutex_lock(&sm->lock);
	sm->stopping = 1;
	pthread_cond_broadcast(&sm->work);
	pthread_mutex_unlock(&sm->lock);
	for (size_t i = 0; i < sm->nslots; i++) {
		if (sm->slots[i].started)
			pthread_join(sm->slots[i].thread, NULL);
		/* closes the connection (QUIT) */
		if (sm->slots[i].easy)
			curl_easy_cleanup(sm->slots[i].easy);
	}
	pthread_cond_destroy(&sm->done);
	pthread_cond_destroy(&sm->work);
	pthread_mutex_destroy(&sm->lock);
	free(sm->queue);
	free(sm->fin);
	free(sm->out);
	free(sm->slots);
	free(sm->url);
	free(sm);
	curl_global_cleanup();
}

static const struct transport_ops smtp_ops = { submit, run, smtp_free };

/* "smtp://host:port" + "/" + the EHLO name: libcurl takes it from the
 * path (without one it would say the machine's host name). */
static char *url_with_ehlo(const struct relay *r)
{
	struct buf b = BUF_INIT;
	const char *host = strstr(r->url, "://") + 3;
	const char *slash = strchr(host, '/');

	buf_add(&b, r->url, slash ? (size_t)(slash - r->url) : strlen(r->url));
	buf_addf(&b, "/%s", r->ehlo_name);
	return buf_detach(&b, NULL);
}

struct transport *smtp_open(const struct relay *r)
{
	struct smtp *sm;

	if (!r->ehlo_name || !strchr(r->ehlo_name, '.'))
		return error("'ehlo-name' must be a fully qualified name, not '%s'",
			     r->ehlo_name ? r->ehlo_name : ""), NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return error("cannot initialise libcurl"), NULL;
	sm = xcalloc(1, sizeof(*sm));
	sm->t = (struct transport){ &smtp_ops, "smtp",
				    (size_t)r->connections + QUEUED };
	sm->url = url_with_ehlo(r);
	sm->nslots = (size_t)r->connections;
	sm->slots = xcalloc(sm->nslots, sizeof(*sm->slots));
	sm->queue = xcalloc(sm->t.slots, sizeof(*sm->queue));
	sm->fin = xcalloc(sm->t.slots, sizeof(*sm->fin));
	sm->out = xcalloc(sm->t.slots, sizeof(*sm->out));
	pthread_mutex_init(&sm->lock, NULL);
	pthread_cond_init(&sm->work, NULL);
	monotonic_cond_init(&sm->done);
	for (size_t i = 0; i < sm->nslots; i++) {
		struct slot *sl = &sm->slots[i];

		sl->sm = sm;
		if (slot_init(sm, sl, r))
			goto fail;
		if (pthread_create(&sl->thread, NULL, slot_thread, sl)) {
			error("cannot start a thread for connection %zu", i + 1);
			goto fail;
		}
		sl->started = 1;
	}
	return &sm->t;
fail:
	smtp_free(&sm->t);
	return NULL;
}
