/* logbuf.c: log lines written in lots by a thread of their own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "logbuf.h"

#define HOUR_MS (3600 * 1000)

/* Reads fd to its end into out. */
static void read_all(int fd, struct buf *out)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(out, chunk, (size_t)n);
}

struct adder {
	struct logbuf *log;
	int            id;
	int            lines;
};

static void *add_lines(void *arg)
{
	struct adder *a = arg;
	char line[64];

	for (int i = 0; i < a->lines; i++) {
		int n = snprintf(line, sizeof(line), "t%d %d\n", a->id, i);

		logbuf_add(a->log, line, (size_t)n);
	}
	return NULL;
}

/* Each thread's lines come out once each and in its order, though the
 * delay is an hour: logbuf_free writes what waits. */
static void lines_from_threads_all_come_out_in_order(void **state)
{
	FILE *tmp = tmpfile();
	struct logbuf *log = logbuf_new(fileno(tmp), HOUR_MS);
	struct adder a[4];
	pthread_t t[4];
	struct buf out = BUF_INIT;
	int next[4] = { 0 };
	char *line, *save = NULL;

	(void)state;
	assert_non_null(log);
	for (int i = 0; i < 4; i++) {
		a[i] = (struct adder){ log, i, 5000 };
		assert_int_equal(pthread_create(&t[i], NULL, add_lines, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	logbuf_free(log);
	rewind(tmp);
	read_all(fileno(tmp), &out);
	for (line = strtok_r(out.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		int id, i;

		assert_int_equal(sscanf(line, "t%d %d", &id, &i), 2);
		assert_in_range(id, 0, 3);
		assert_int_equal(i, next[id]);
		next[id]++;
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(next[i], 5000);
	buf_release(&out);
	fclose(tmp);
}

/* A full lot is written at once, not after the delay. */
static void a_full_lot_is_written_before_the_delay(void **state)
{
	int p[2];
	struct logbuf *log;
	struct pollfd pfd;
	char line[100];

	(void)state;
	assert_int_equal(pipe(p), 0);
	log = logbuf_new(p[1], HOUR_MS);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (size_t n = 0; n < LOGBUF_LOT; n += sizeof(line))
		logbuf_add(log, line, sizeof(line));
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 10 * 1000), 1);	/* not an hour */
	/* what is left cannot be written: logbuf_free must not hang */
	signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	logbuf_free(log);
	close(p[1]);
}

struct drain {
	int        fd;
	struct buf out;
};

static void *drain_to_end(void *arg)
{
	struct drain *d = arg;

	read_all(d->fd, &d->out);
	return NULL;
}

/* Nobody reads: memory stays bounded, the lines that did not fit are
 * counted, and the count is said once the reader catches up. The lines
 * are added before anyone reads, so the writer may say a count more
 * than once; written and dropped lines add up to those added. */
static void a_stuck_reader_costs_dropped_lines_not_memory(void **state)
{
	int p[2], total = 0, written = 0;
	size_t dropped = 0, n;
	struct logbuf *log;
	struct drain d = { 0, BUF_INIT };
	pthread_t reader;
	const char *note = "bulletin: warning: ";
	char line[] = "0123456789012345678901234567890123456789\n";

	(void)state;
	assert_int_equal(pipe(p), 0);
	log = logbuf_new(p[1], 1);
	/* more than the pipe and the buffer can hold */
	for (; total < 2 * LOGBUF_MAX / (int)(sizeof(line) - 1); total++)
		logbuf_add(log, line, sizeof(line) - 1);
	d.fd = p[0];
	assert_int_equal(pthread_create(&reader, NULL, drain_to_end, &d), 0);
	logbuf_free(log);
	close(p[1]);
	pthread_join(reader, NULL);
	close(p[0]);
	for (const char *at = d.out.data; (at = strstr(at, note)); at++) {
		assert_int_equal(sscanf(at, "bulletin: warning: %zu log lines "
					"dropped", &n), 1);
		dropped += n;
	}
	for (const char *at = d.out.data; (at = strstr(at, line)); at++)
		written++;
	assert_true(dropped > 0);
	assert_int_equal((size_t)written + dropped, (size_t)total);
	buf_release(&d.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_from_threads_all_come_out_in_order),
		cmocka_unit_test(a_full_lot_is_written_before_the_delay),
		cmocka_unit_test(a_stuck_reader_costs_dropped_lines_not_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
