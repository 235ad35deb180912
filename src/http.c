#include "http.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "logbuf.h"
#include "unsub.h"
#include "util.h"

struct http_server {
	struct MHD_Daemon *d;
	struct unsub      *u;
	struct logbuf     *log;	/* the request lines, to stderr */
	size_t             max_body;
	atomic_int         in_flight;	/* requests begun and not completed */
	unsigned           max_open;	/* connections served at once */
	atomic_uint        open;	/* connections now */
};

enum route { R_NONE, R_HEALTH, R_UNSUB };

/* One request's state, from its first call to its completion. */
struct req {
	double            start;
	enum route        route;
	const char       *method;	/* one of the static names below */
	unsigned          status;
	size_t            body;		/* bytes received */
	int               answered;
	int               form;		/* the body is urlencoded: kept */
	struct buf        body_text;	/* its text, at most max_body */
	struct unsub_job *job;		/* a POST's change, queued */
	struct buf        page;
};

/* A method name safe to log (the client's own could be anything). */
static const char *method_name(const char *m)
{
	static const char *const known[] = { "GET", "HEAD", "POST", "PUT",
		"DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT" };

	for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
		if (!strcmp(m, known[i]))
			return known[i];
	return "OTHER";
}

static const char *route_path(enum route r)
{
	return r == R_HEALTH ? "/healthz" : r == R_UNSUB ? "/u/-" : "(other)";
}

static void log_request(struct http_server *h, const struct req *r)
{
	char when[32], line[128];
	time_t t = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s %s %s %u %.1fms\n", when,
		     r->method, route_path(r->route), r->status,
		     (monotonic_s() - r->start) * 1e3);
	if (n > 0 && (size_t)n < sizeof(line))
		logbuf_add(h->log, line, (size_t)n);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct http_server *h = cls;
	struct req *r = *con_cls;

	(void)c;
	if (!r)
		return;
	if (why != MHD_REQUEST_TERMINATED_COMPLETED_OK && !r->answered)
		r->status = 0;	/* the client left, or timed out */
	if (r->job)		/* the change asked for is made all the same */
		unsub_flush(h->u, r->job);
	log_request(h, r);
	buf_release(&r->body_text);
	buf_release(&r->page);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&h->in_flight, 1);
}

/* Queues a response (takes body's bytes) with the given status. */
static enum MHD_Result reply(struct MHD_Connection *c, struct req *r,
			     unsigned status, const char *type, struct buf *body)
{
	size_t len;
	char *data = buf_detach(body, &len);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, data,
		MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!resp) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Content-Security-Policy",
		"default-src 'none'; style-src 'unsafe-inline'; "
		"form-action 'self'; frame-ancestors 'none'");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, "Allow",
			r->route == R_UNSUB ? "GET, HEAD, POST" : "GET, HEAD");
	r->status = status;
	r->answered = 1;
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, struct req *r,
				  unsigned status, const char *text)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, text);
	return reply(c, r, status, "text/plain; charset=utf-8", &b);
}

/*
 * What a POST's body asks for: the pages' forms send action=unsubscribe
 * or action=resubscribe (urlencoded); anything else, a mail client's
 * List-Unsubscribe=One-Click (urlencoded or multipart), an empty or a
 * text/plain body, is a one-click unsubscribe: the token alone decides.
 */
static enum unsub_action body_action(const struct req *r)
{
	const char *p = r->body_text.data;

	if (!r->form)
		return UNSUB_ONE_CLICK;
	while (*p) {
		size_t n = strcspn(p, "&");

		if (n == 18 && !memcmp(p, "action=resubscribe", 18))
			return UNSUB_UNDO;
		if (n == 18 && !memcmp(p, "action=unsubscribe", 18))
			return UNSUB_PAGE;
		p += n + (p[n] == '&');
	}
	return UNSUB_ONE_CLICK;
}

static enum route find_route(const char *url)
{
	if (!strcmp(url, "/healthz"))
		return R_HEALTH;
	if (!strncmp(url, "/u/", 3) && !strchr(url + 3, '/'))
		return R_UNSUB;
	return R_NONE;
}

/*
 * The first call: headers are in, the body (if any) is not. Only a body
 * announced too large is answered now (and the connection closed);
 * everything else on a later call, which libmicrohttpd needs in order
 * to keep the connection alive.
 */
static enum MHD_Result begin(struct http_server *h, struct MHD_Connection *c,
			     const char *url, const char *method, void **con_cls)
{
	struct req *r = xcalloc(1, sizeof(*r));
	const char *len, *type;

	r->start = monotonic_s();
	r->method = method_name(method);
	r->route = find_route(url);
	buf_init(&r->body_text, 0);
	buf_init(&r->page, 0);
	*con_cls = r;
	atomic_fetch_add(&h->in_flight, 1);
	if (r->route != R_UNSUB || strcmp(r->method, "POST"))
		return MHD_YES;
	len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					  MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (len && strtoull(len, NULL, 10) > h->max_body)
		return reply_text(c, r, MHD_HTTP_CONTENT_TOO_LARGE,
				  "request body too large\n");
	type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_CONTENT_TYPE);
	r->form = type && !strncasecmp(type, "application/x-www-form-urlencoded",
				       33);
	return MHD_YES;
}

/*
 * A POST to /u/TOKEN: a genuine token's change is queued, and the call
 * returns with no response, which makes libmicrohttpd call again once
 * it has served the other connections that are ready (it documents
 * this) and, meanwhile, those connections' POSTs queue their changes
 * too. The call after that writes them all in one transaction (unless
 * another thread has already) and answers.
 */
static enum MHD_Result post(struct http_server *h, struct MHD_Connection *c,
			    struct req *r, const char *token)
{
	struct unsub_target t;
	int status;

	if (r->job) {
		status = unsub_answer(h->u, r->job, &r->page);
		if (!status)	/* not yet: libmicrohttpd calls again */
			return MHD_YES;
		r->job = NULL;
		return reply(c, r, (unsigned)status, status == 500 ?
			     "text/plain; charset=utf-8" :
			     "text/html; charset=utf-8", &r->page);
	}
	status = unsub_check(h->u, token, strlen(token), &t, &r->page);
	if (status)
		return reply(c, r, (unsigned)status, "text/html; charset=utf-8",
			     &r->page);
	r->job = unsub_queue(h->u, body_action(r), &t);
	return MHD_YES;
}

/* The last call: the whole request is in. */
static enum MHD_Result answer(struct http_server *h, struct MHD_Connection *c,
			      struct req *r, const char *url)
{
	int get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	struct buf page = BUF_INIT;
	unsigned status;

	if (r->route == R_NONE)
		return reply_text(c, r, MHD_HTTP_NOT_FOUND, "not found\n");
	if (r->route == R_HEALTH && get)
		return reply_text(c, r, MHD_HTTP_OK, "ok\n");
	if (r->route == R_HEALTH || (!get && strcmp(r->method, "POST")))
		return reply_text(c, r, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "method not allowed\n");
	if (!get)
		return post(h, c, r, url + 3);
	status = (unsigned)unsub_show(h->u, url + 3, strlen(url + 3), &page);
	return reply(c, r, status, status == 500 ? "text/plain; charset=utf-8" :
		     "text/html; charset=utf-8", &page);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http_server *h = cls;
	struct req *r = *con_cls;

	(void)version;
	if (!r)
		return begin(h, c, url, method, con_cls);
	if (r->answered) {	/* refused early: drop the rest of the body */
		*upload_size = 0;
		return MHD_YES;
	}
	if (!*upload_size)
		return answer(h, c, r, url);
	r->body += *upload_size;
	if (r->body > h->max_body) {
		/* no response can be queued half-way through a body
		 * (libmicrohttpd): close the connection */
		r->status = MHD_HTTP_CONTENT_TOO_LARGE;
		r->answered = 1;
		return MHD_NO;
	}
	if (r->form)
		buf_add(&r->body_text, upload, *upload_size);
	*upload_size = 0;
	return MHD_YES;
}

/*
 * Over max_connections a new connection is closed at once, as one over
 * the per-IP limit is: a client (or the reverse proxy) learns it has to
 * try later, instead of waiting in the listen queue behind slow ones.
 * The count is read without a lock, so threads accepting at the same
 * moment may each let one more in: libmicrohttpd's own limit, a little
 * higher, is the hard one.
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr,
				 socklen_t len)
{
	struct http_server *h = cls;

	(void)addr;
	(void)len;
	return atomic_load(&h->open) < h->max_open ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
			  enum MHD_ConnectionNotificationCode what)
{
	struct http_server *h = cls;

	(void)c;
	(void)ctx;
	if (what == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&h->open, 1);
	else if (what == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_sub(&h->open, 1);
}

/* Resolves "ADDR:PORT" (or "[ADDR]:PORT") into ss. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss,
			int *v6)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	const char *colon = strrchr(listen, ':');
	char *host;
	int rc;

	if (!colon || !colon[1])
		return error("bad listen address '%s' (expected ADDR:PORT)", listen);
	host = listen[0] == '[' && colon > listen && colon[-1] == ']' ?
	       xstrndup(listen + 1, (size_t)(colon - listen - 2)) :
	       xstrndup(listen, (size_t)(colon - listen));
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai);
	free(host);
	if (rc)
		return error("bad listen address '%s': %s", listen,
			     gai_strerror(rc));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	return 0;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;

	(void)cls;
	buf_vaddf(&b, fmt, ap);
	while (b.len && b.data[b.len - 1] == '\n')
		buf_truncate(&b, b.len - 1);
	warning("http: %s", b.data);
	buf_release(&b);
}

struct http_server *http_start(const struct http_opts *o, struct unsub *u)
{
	struct http_server *h = xcalloc(1, sizeof(*h));
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG;
	int v6 = 0;

	if (parse_listen(o->listen, &ss, &v6))
		goto fail;
	h->u = u;
	h->max_body = o->max_body;
	h->max_open = o->max_connections;
	/* one write(2) per line cost as much as the rest of a request */
	h->log = logbuf_new(STDERR_FILENO, 100);
	if (!h->log)
		goto fail;
	h->d = MHD_start_daemon(flags | (v6 ? MHD_USE_IPv6 : 0), 0, on_accept, h,
		on_request, h,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		/* 1 is no pool: the polling thread answers */
		MHD_OPTION_THREAD_POOL_SIZE, o->threads > 1 ? o->threads : 0U,
		/* a hard cap a little over on_accept's (each polling
		 * thread gets its share) */
		MHD_OPTION_CONNECTION_LIMIT,
		o->max_connections + (o->threads > 1 ? o->threads : 1U) * 2,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, o->timeout,
		/* headers and the post processor's buffer live here */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_END);
	if (!h->d) {
		error("cannot listen on '%s' (in use, or not an address of "
		      "this machine?)", o->listen);
		goto fail;
	}
	return h;
fail:
	logbuf_free(h->log);
	free(h);
	return NULL;
}

unsigned http_port(const struct http_server *h)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);

	return i ? i->port : 0;
}

void http_stop(struct http_server *h, double grace)
{
	double until = monotonic_s() + grace;
	MHD_socket s = MHD_quiesce_daemon(h->d);

	if (s != MHD_INVALID_SOCKET)
		close(s);
	while (atomic_load(&h->in_flight) > 0 && monotonic_s() < until) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(h->d);
	logbuf_free(h->log);	/* every request has logged its line */
	free(h);
}
