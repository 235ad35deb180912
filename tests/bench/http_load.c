/*
 * A small HTTP/1.1 load client for bench_serve.py: C, so that it costs
 * less than the server it measures. N keep-alive connections on one
 * epoll loop; each sends its next request as soon as the last answer is
 * in. Prints the count, errors, requests per second and latency
 * percentiles.
 *
 *   http_load PORT CONNECTIONS get PATH COUNT
 *   http_load PORT CONNECTIONS post FILE     (one path per line; the body
 *                                             is List-Unsubscribe=One-Click)
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BODY "List-Unsubscribe=One-Click"

struct conn {
	int    fd;
	long   req;		/* index of the request in flight, -1: none */
	double start;
	char   in[8192];
	size_t have;
};

static char **paths;
static long npaths, next_req, done, errors, reconnects;
static int post, port;
static double *lat;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int send_next(struct conn *c)
{
	char req[1024];
	int n;

	if (next_req >= npaths) {
		c->req = -1;
		return 0;
	}
	c->req = next_req++;
	if (post)
		n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: bench\r\n"
			     "Content-Type: application/x-www-form-urlencoded\r\n"
			     "Content-Length: %zu\r\n\r\n" BODY, paths[c->req],
			     strlen(BODY));
	else
		n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n",
			     paths[c->req]);
	c->start = now_s();
	c->have = 0;
	return write(c->fd, req, (size_t)n) == n ? 0 : -1;
}

/* 1 when a whole response is in c->in (status in *status), 0 if not. */
static int response_done(struct conn *c, int *status)
{
	char *end, *cl;
	size_t head, len;

	c->in[c->have] = '\0';
	end = strstr(c->in, "\r\n\r\n");
	if (!end)
		return 0;
	head = (size_t)(end + 4 - c->in);
	cl = strcasestr(c->in, "\r\nContent-Length:");
	len = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
	if (c->have < head + len)
		return 0;
	*status = atoi(c->in + 9);
	return 1;
}

static void reconnect(int ep, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN };

	close(c->fd);
	c->fd = dial();
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	reconnects++;
	if (c->req >= 0) {	/* resend the one that was lost */
		next_req--;
		paths[next_req] = paths[c->req];
	}
	send_next(c);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void load_paths(int argc, char **argv)
{
	if (!post) {
		npaths = atol(argv[5]);
		paths = malloc((size_t)npaths * sizeof(*paths));
		for (long i = 0; i < npaths; i++)
			paths[i] = argv[4];
		return;
	}
	FILE *f = fopen(argv[4], "r");
	char line[512];

	(void)argc;
	if (!f) {
		perror(argv[4]);
		exit(1);
	}
	paths = malloc(sizeof(*paths) * 1000000);
	while (fgets(line, sizeof(line), f) && npaths < 1000000) {
		line[strcspn(line, "\n")] = '\0';
		paths[npaths++] = strdup(line);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	int nconn, ep, status;
	struct conn *conns;
	struct epoll_event evs[256];
	double t0, t1;

	if (argc < 5 || (strcmp(argv[3], "get") && strcmp(argv[3], "post")) ||
	    (!strcmp(argv[3], "get") && argc < 6)) {
		fprintf(stderr, "usage: http_load PORT CONNS get PATH COUNT | "
			"http_load PORT CONNS post FILE\n");
		return 2;
	}
	port = atoi(argv[1]);
	nconn = atoi(argv[2]);
	post = !strcmp(argv[3], "post");
	load_paths(argc, argv);
	lat = malloc((size_t)npaths * sizeof(*lat));
	conns = calloc((size_t)nconn, sizeof(*conns));
	ep = epoll_create1(0);
	t0 = now_s();
	for (int i = 0; i < nconn; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conns[i] };

		conns[i].fd = dial();
		epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
		send_next(&conns[i]);
	}
	while (done < npaths) {
		int n = epoll_wait(ep, evs, 256, 10000);

		if (n <= 0) {
			fprintf(stderr, "http_load: no answer for 10 s\n");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r = read(c->fd, c->in + c->have,
					 sizeof(c->in) - 1 - c->have);

			if (r <= 0) {
				reconnect(ep, c);
				continue;
			}
			c->have += (size_t)r;
			if (!response_done(c, &status))
				continue;
			lat[done++] = now_s() - c->start;
			if (status != 200)
				errors++;
			send_next(c);
		}
	}
	t1 = now_s();
	qsort(lat, (size_t)done, sizeof(*lat), cmp);
	printf("requests %ld errors %ld reconnects %ld seconds %.3f rps %.0f "
	       "p50_ms %.3f p99_ms %.3f\n", done, errors, reconnects, t1 - t0,
	       (double)done / (t1 - t0), lat[done / 2] * 1e3,
	       lat[(size_t)((double)done * 0.99)] * 1e3);
	return errors ? 1 : 0;
}
