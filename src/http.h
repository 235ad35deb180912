#ifndef BULLETIN_HTTP_H
#define BULLETIN_HTTP_H

/*
 * The unsubscribe web endpoint (libmicrohttpd; nothing else in bulletin
 * speaks it). Routes:
 *
 *   GET|HEAD /u/TOKEN   the page with the button (changes nothing)
 *   POST     /u/TOKEN   unsubscribe: a mail client's one-click POST
 *                       (RFC 8058, urlencoded or multipart, or any other
 *                       body: the token alone decides) or the page's
 *                       button; action=resubscribe undoes it
 *   GET|HEAD /healthz   "ok", for a reverse proxy
 *
 * 400 (a neutral page) for a bad token, 404 for other paths, 405 for
 * other methods, 413 for a body announced over max_body (one that grows
 * past it, chunked, has its connection closed). No redirects, no
 * cookies. A connection over max_connections in all, or over per_ip
 * from one address, is closed at once, the others unharmed.
 * Each request is logged to stderr in one line (time, method, path with
 * the token left out, status, duration); never a token or an address.
 * The lines are written in lots (logbuf.h), at most 100 ms late.
 *
 * Threads: a pool of polling threads; a slow client costs a connection
 * slot, not a thread. A POST's change is queued (unsub_queue) and its
 * answer left for a later call, which libmicrohttpd makes once it has
 * served the other connections ready at the time; that call writes
 * what all of them queued in one transaction (unsub_answer), in the
 * polling thread. So a commit is shared by as many POSTs as arrive
 * while one is written, with no thread hand-over, and a POST is
 * answered only once its change is committed. The cost: a polling
 * thread waits while another process holds the database's write lock.
 */

#include <stddef.h>

struct unsub;

struct http_opts {
	const char *listen;		/* "ADDR:PORT", "[V6ADDR]:PORT"; port 0: any */
	unsigned    threads;		/* polling threads (>= 1) */
	unsigned    max_connections;	/* in all; more are refused at once */
	unsigned    per_ip;		/* per client address; 0: no limit */
	unsigned    timeout;		/* seconds a connection may stay idle */
	size_t      max_body;		/* bytes of a POST body */
};

struct http_server;

/* Starts serving u (borrowed: it must outlive the server) in background
 * threads. Returns the server, or NULL after error() (a bad address, a
 * port in use). */
struct http_server *http_start(const struct http_opts *o, struct unsub *u);

/* The port the server listens on (useful with port 0). */
unsigned http_port(const struct http_server *h);

/*
 * Stops: accepts no new connection, lets the requests in flight finish
 * (waiting up to grace seconds), then closes everything and frees h.
 */
void http_stop(struct http_server *h, double grace);

#endif
