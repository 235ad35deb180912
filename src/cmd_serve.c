/*
 * bulletin serve: the unsubscribe endpoint in the foreground, until
 * SIGTERM or SIGINT; then the requests in flight finish.
 */

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "http.h"
#include "token.h"
#include "unsub.h"
#include "util.h"

static const char usage[] =
	"usage: bulletin serve [--listen ADDR:PORT] [options]\n"
	"\n"
	"Answers the unsubscribe links of sent mail (GET /u/TOKEN shows a\n"
	"page, POST /u/TOKEN unsubscribes: RFC 8058 one-click or the page's\n"
	"button) and GET /healthz. Runs in the foreground and logs one line\n"
	"per request to stderr; SIGTERM or SIGINT stops it once the requests\n"
	"in flight are answered. Put it behind a TLS reverse proxy whose\n"
	"public URL is the config's base-url.\n"
	"\n"
	"  -l, --listen ADDR:PORT   where to listen (default 127.0.0.1:8080;\n"
	"                           port 0: any free port, printed)\n"
	"  -t, --threads N          polling threads (default 4)\n"
	"  -m, --max-connections N  open connections in all; more are closed at\n"
	"                           once (default 1024)\n"
	"  -p, --per-ip N           open connections per client address\n"
	"                           (default 64; 0: no limit, behind a proxy)\n"
	"  -T, --timeout S          seconds an idle connection is kept (default 10)\n"
	"  -h, --help               this text\n"
	"\n"
	"Exit status: 0 stopped by a signal, 64 usage, 69 cannot listen,\n"
	"74 database error, 78 bad configuration or secret.\n";

struct serve_opts {
	struct http_opts http;
};

static int number(const char *s, const char *what, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > max || s[0] == '-')
		return error("bad %s '%s' (a whole number up to %u)", what, s, max);
	*out = (unsigned)v;
	return 0;
}

/* Returns 0, -1 for --help (printed), or EX_USAGE. */
static int parse_opts(int argc, char **argv, struct http_opts *o)
{
	static const struct option lopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-connections", required_argument, NULL, 'm' },
		{ "per-ip", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, bad = 0;

	*o = (struct http_opts){ "127.0.0.1:8080", 4, 1024, 64, 10, 4096 };
	while ((c = getopt_long(argc, argv, "l:t:m:p:T:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = optarg; break;
		case 't': bad |= number(optarg, "--threads", 256, &o->threads); break;
		case 'm': bad |= number(optarg, "--max-connections", 65536,
					&o->max_connections); break;
		case 'p': bad |= number(optarg, "--per-ip", 65536, &o->per_ip); break;
		case 'T': bad |= number(optarg, "--timeout", 3600, &o->timeout); break;
		case 'h': fputs(usage, stdout); return -1;
		default: fputs(usage, stderr); return EX_USAGE;
		}
	}
	if (!bad && !o->threads)
		bad = error("--threads must be at least 1");
	if (!bad && optind < argc)
		bad = error("serve takes no arguments");
	if (bad)
		fputs(usage, stderr);
	return bad ? EX_USAGE : 0;
}

/* Blocks the stop signals in this thread and every thread it starts
 * after, so that only sigwait() sees them. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int run(const struct http_opts *o, struct unsub *u, sigset_t *set)
{
	struct http_server *h;
	int sig = 0;

	h = http_start(o, u);
	if (!h)
		return EX_UNAVAILABLE;
	printf("listening on %.*s:%u\n", (int)(strrchr(o->listen, ':') - o->listen),
	       o->listen, http_port(h));
	fflush(stdout);
	sigwait(set, &sig);
	fprintf(stderr, "bulletin: %s: finishing the requests in flight\n",
		strsignal(sig));
	http_stop(h, 10.0);
	return 0;
}

int cmd_serve(int argc, char **argv, struct ctx *ctx)
{
	struct http_opts o;
	struct token_key key;
	struct unsub *u = NULL;
	sigset_t set;
	int ret = parse_opts(argc, argv, &o);

	if (ret)
		return ret < 0 ? 0 : ret;
	if (token_key_load(&key, ctx->config->secret_file) ||
	    token_key_load_previous(&key, ctx->config->secret_file,
				    ctx->config->grace_days))
		return EX_CONFIG;
	ret = EX_IOERR;
	/* before any thread starts: they inherit the mask */
	block_signals(&set);
	/* one store connection per thread: reads run side by side */
	u = unsub_new(ctx->config, &key, (int)o.threads);
	if (u)
		ret = run(&o, u, &set);
	unsub_free(u);
	token_key_release(&key);
	return ret;
}
