#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "config.h"
#include "store.h"
#include "util.h"

#define BULLETIN_VERSION "0.1.0"
#define DEFAULT_CONFIG "config/bulletin.conf"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct ctx *ctx);
	int needs;
	const char *summary;
};

static const struct command commands[] = {
	{ "init", cmd_init, 0,
	  "create the configuration, token secret and database" },
	{ "preview", cmd_preview, NEED_CONFIG | NEED_ARGS,
	  "write an issue's message, HTML and text to files" },
	{ "sub", cmd_sub, NEED_ARGS,
	  "add, import, list, export and remove subscribers" },
	{ "dkim", cmd_dkim, NEED_CONFIG | NEED_ARGS,
	  "make a DKIM key, show the DNS record to publish" },
	{ "send", cmd_send, NEED_STORE | NEED_ARGS,
	  "send an issue to every active subscriber, or resume sending it" },
	{ "report", cmd_report, NEED_STORE,
	  "what a campaign sent, deferred and failed, and the replies" },
	{ "serve", cmd_serve, NEED_CONFIG,
	  "answer the unsubscribe links and one-click unsubscribes (HTTP)" },
	{ "secret", cmd_secret, NEED_CONFIG | NEED_ARGS,
	  "rotate the secret that signs unsubscribe tokens" },
	{ "inbox", cmd_inbox, NEED_STORE | NEED_ARGS,
	  "apply bounces, complaints and mailto unsubscribes from a Maildir" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Commands whose subcommands need different set-ups: the function says
 * the NEED_* flags from the arguments, instead of the table. */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} needs_by_args[] = {
	{ "sub", cmd_sub_needs },
};

#define NNEEDS_BY_ARGS (sizeof(needs_by_args) / sizeof(needs_by_args[0]))

static int needs_of(const struct command *cmd, int argc, char **argv)
{
	for (size_t i = 0; i < NNEEDS_BY_ARGS; i++)
		if (!strcmp(needs_by_args[i].name, cmd->name))
			return needs_by_args[i].fn(argc, argv);
	return cmd->needs;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bulletin [-c CONFIG] COMMAND [ARGS]\n"
		"       bulletin --help | --version\n\n"
		"commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\nThe configuration is read from -c CONFIG, else $BULLETIN_CONFIG,\n"
		"else " DEFAULT_CONFIG ". 'bulletin COMMAND --help' tells more.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* True if the command was asked for --help: then it needs no set-up. */
static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

static int run(const struct command *cmd, int argc, char **argv,
	       struct ctx *ctx)
{
	struct config config;
	int bare = argc == 1 && (cmd->needs & NEED_ARGS);
	int needs = bare || wants_help(argc, argv) ? 0 :
		    needs_of(cmd, argc, argv);
	int status;

	if (needs & (NEED_STORE | NEED_STORE_RO))
		needs |= NEED_CONFIG;
	config_defaults(&config);
	status = EX_CONFIG;
	if (needs & NEED_CONFIG) {
		if (config_load(&config, ctx->config_path))
			goto out;
		ctx->config = &config;
	}
	status = EX_CANTCREAT;
	if (needs & NEED_STORE) {
		ctx->store = store_open(config.store_path);
		if (!ctx->store)
			goto out;
	}
	status = EX_NOINPUT;
	if (needs & NEED_STORE_RO) {
		ctx->store = store_open_existing(config.store_path);
		if (!ctx->store)
			goto out;
	}
	status = cmd->fn(argc, argv, ctx);
	store_close(ctx->store);
	ctx->store = NULL;
out:
	config_release(&config);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx ctx = { 0 };
	const struct command *cmd;
	int c;

	ctx.config_path = getenv("BULLETIN_CONFIG");
	if (!ctx.config_path || !*ctx.config_path)
		ctx.config_path = DEFAULT_CONFIG;
	/* '+' stops at the command name: the rest belongs to the command. */
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("bulletin %s\n", BULLETIN_VERSION);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		error("unknown command '%s' (see 'bulletin --help')", argv[optind]);
		return EX_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: 0 re-initialises getopt for the command */
	return run(cmd, argc, argv, &ctx);
}
