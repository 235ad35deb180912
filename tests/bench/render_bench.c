/*
 * Renders N personalised messages of one digest, as `send` will: the issue
 * is composed once, then each recipient's message is built in full (slots
 * filled, MIME written by libetpan) and counted, not stored.
 *
 * usage: render_bench CONFIG DIGEST N
 * prints: messages=N bytes=B seconds=S
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "compose.h"
#include "config.h"
#include "digest.h"
#include "mime.h"
#include "util.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct config c;
	struct digest d;
	struct issue *is;
	struct buf msg = BUF_INIT, name = BUF_INIT, email = BUF_INIT,
		   url = BUF_INIT, mid = BUF_INIT, mailto = BUF_INIT;
	unsigned long long bytes = 0;
	long n;
	double start;

	if (argc != 4)
		die(EX_USAGE, "usage: render_bench CONFIG DIGEST N");
	n = atol(argv[3]);
	config_defaults(&c);
	if (config_load(&c, argv[1]) || digest_load(&d, argv[2]))
		return EX_DATAERR;
	start = now();
	if (!(is = issue_compose(&d, &c)))
		return EX_DATAERR;
	for (long i = 0; i < n; i++) {
		buf_reset(&name); buf_reset(&email); buf_reset(&url); buf_reset(&mailto); buf_reset(&mid);
		buf_reset(&msg);
		buf_addf(&name, "读者 %ld", i);
		buf_addf(&email, "reader%ld@example.org", i);
		buf_addf(&url, "%s/u/%016lx", c.base_url, (unsigned long)i * 2654435761u);
		buf_addf(&mailto, "mailto:%s?subject=unsubscribe%%20%016lx",
			 c.unsubscribe_mailto, (unsigned long)i * 2654435761u);
		mime_new_message_id(&mid, c.from_domain);
		struct recipient r = { name.data, email.data, url.data, mailto.data };

		if (issue_message(is, &r, mid.data, time(NULL), &msg))
			return EX_SOFTWARE;
		bytes += msg.len;
	}
	printf("messages=%ld bytes=%llu seconds=%.3f\n", n, bytes, now() - start);
	issue_free(is);
	digest_release(&d);
	config_release(&c);
	buf_release(&msg); buf_release(&name); buf_release(&email);
	buf_release(&url);
	buf_release(&mailto); buf_release(&mid);
	return 0;
}
