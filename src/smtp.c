/*
 * The SMTP transport: libcurl's multi interface with one easy handle per
 * connection slot. The multi handle keeps each connection open after a
 * message (EHLO, STARTTLS and AUTH happen once per connection), so a
 * slot's next message goes out on the same connection. libcurl closes a
 * connection after any failed transfer (a 421 included); the slot's next
 * message then opens a new one.
 *
 * Only this file speaks libcurl.
 */

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "transport.h"
#include "util.h"

#define READ_BUFFER (512 * 1024)	/* libcurl's largest upload buffer */

struct slot {
	CURL             *easy;
	struct tmsg      *msg;		/* NULL when idle */
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

struct smtp {
	struct transport t;
	CURLM           *multi;
	struct slot     *slots;
	size_t           nslots;
	size_t           busy;
	char            *url;		/* with the EHLO name as its path */
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
	curl_easy_setopt(e, CURLOPT_PRIVATE, sl);
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

static int submit(struct transport *t, struct tmsg *m)
{
	struct smtp *sm = (struct smtp *)t;
	struct slot *sl = NULL;

	for (size_t i = 0; i < sm->nslots && !sl; i++)
		if (!sm->slots[i].msg)
			sl = &sm->slots[i];
	if (!sl)
		return error("smtp: no free connection slot");
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
	if (curl_multi_add_handle(sm->multi, sl->easy) != CURLM_OK) {
		sl->msg = NULL;
		return error("smtp: cannot start a transfer");
	}
	sm->busy++;
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

static int run(struct transport *t, int timeout_ms, tr_done_fn *done,
	       void *arg)
{
	struct smtp *sm = (struct smtp *)t;
	CURLMsg *cm;
	int running, left;

	if (curl_multi_perform(sm->multi, &running) != CURLM_OK)
		return error("smtp: libcurl's multi interface failed");
	/* libcurl waits for the reply to the data inside perform, so a
	 * message is often done by now: waiting would idle its connection
	 * (and, with one, the whole send) for the full timeout */
	if ((size_t)running == sm->busy &&
	    (curl_multi_poll(sm->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK ||
	     curl_multi_perform(sm->multi, &running) != CURLM_OK))
		return error("smtp: libcurl's multi interface failed");
	while ((cm = curl_multi_info_read(sm->multi, &left))) {
		struct slot *sl = NULL;
		struct tmsg *m;
		struct tresult r;

		if (cm->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
		result_of(sl, cm->data.result, &r);
		curl_multi_remove_handle(sm->multi, sl->easy);
		m = sl->msg;
		sl->msg = NULL;
		sm->busy--;
		done(arg, m, &r);
	}
	return (int)sm->busy;
}

static void smtp_free(struct transport *t)
{
	struct smtp *sm = (struct smtp *)t;

	for (size_t i = 0; i < sm->nslots; i++) {
		if (!sm->slots[i].easy)
			continue;
		if (sm->slots[i].msg)
			curl_multi_remove_handle(sm->multi, sm->slots[i].easy);
		curl_easy_cleanup(sm->slots[i].easy);
	}
	/* closes the cached connections (QUIT) */
	curl_multi_cleanup(sm->multi);
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
	sm->t = (struct transport){ &smtp_ops, "smtp", (size_t)r->connections };
	sm->url = url_with_ehlo(r);
	sm->multi = curl_multi_init();
	sm->nslots = (size_t)r->connections;
	sm->slots = xcalloc(sm->nslots, sizeof(*sm->slots));
	if (!sm->multi) {
		error("cannot make a libcurl multi handle");
		smtp_free(&sm->t);
		return NULL;
	}
	curl_multi_setopt(sm->multi, CURLMOPT_MAX_HOST_CONNECTIONS, r->connections);
	curl_multi_setopt(sm->multi, CURLMOPT_MAXCONNECTS, r->connections);
	for (size_t i = 0; i < sm->nslots; i++)
		if (slot_init(sm, &sm->slots[i], r)) {
			smtp_free(&sm->t);
			return NULL;
		}
	return &sm->t;
}
