/*
 * DKIM signing throughput, for bench_dkim.py: signs one message (the
 * sample issue's .eml) again and again for a given time, inline or
 * through a signpool of N threads, and prints
 *     mode=MODE threads=N signatures=S seconds=T per_second=R cpu_ms=C
 * where C is the CPU time (all threads) per signature: on a shared
 * machine, wall-clock rates depend on the load, CPU time much less.
 *
 *   dkim_bench CONFIG MESSAGE SECONDS MODE...   (MODE: inline or pool:N)
 *
 * CONFIG is a bulletin.conf with a [dkim] section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "dkim.h"
#include "signpool.h"
#include "util.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static double cpu_start;

static void report(const char *mode, int threads, long n, double t)
{
	double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;

	printf("mode=%s threads=%d signatures=%ld seconds=%.3f per_second=%.1f "
	       "cpu_ms=%.3f\n", mode, threads, n, t, (double)n / t,
	       1000 * cpu / (double)n);
	fflush(stdout);
}

static void run_inline(const struct dkim_signer *s, const struct buf *msg,
		       double seconds)
{
	struct buf sig = BUF_INIT;
	double start = now(), t;
	long n = 0;

	cpu_start = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	do {
		buf_reset(&sig);
		if (dkim_signer_sign(s, msg->data, msg->len, &sig))
			exit(1);
		n++;
	} while ((t = now() - start) < seconds);
	report("inline", 1, n, t);
	buf_release(&sig);
}

/* The owner copies each message in (as send would build it) and takes
 * signed ones back, keeping the pool full. */
static void run_pool(const struct dkim_signer *s, const struct buf *msg,
		     int threads, double seconds)
{
	struct signpool *p = signpool_new(s, threads, 2 * (size_t)threads);
	struct buf m = BUF_INIT, out = BUF_INIT;
	double start = now(), t;
	long n = 0;
	void *tag;

	if (!p)
		exit(1);
	cpu_start = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	do {
		while (signpool_pending(p) < signpool_depth(p)) {
			buf_add(&m, msg->data, msg->len);
			signpool_submit(p, &m, NULL);
		}
		if (signpool_next(p, &out, &tag, 1) != 1)
			exit(1);
		n++;
	} while ((t = now() - start) < seconds);
	report("pool", threads, n, t);
	signpool_free(p);
	buf_release(&m);
	buf_release(&out);
}

int main(int argc, char **argv)
{
	struct config c;
	struct dkim_signer *s = NULL;
	struct buf msg = BUF_INIT;

	if (argc < 5)
		die(EX_USAGE, "usage: dkim_bench CONFIG MESSAGE SECONDS MODE...");
	config_defaults(&c);
	if (config_load(&c, argv[1]) || dkim_signer_load(&c, &s) || !s ||
	    read_file(argv[2], &msg))
		return 1;
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "inline"))
			run_inline(s, &msg, atof(argv[3]));
		else if (!strncmp(argv[i], "pool:", 5))
			run_pool(s, &msg, atoi(argv[i] + 5), atof(argv[3]));
	}
	dkim_signer_free(s);
	config_release(&c);
	buf_release(&msg);
	return 0;
}
