#ifndef BULLETIN_COMMANDS_H
#define BULLETIN_COMMANDS_H

/*
 * The commands and the context they run in.
 *
 * To add a command: write src/cmd_NAME.c defining
 *     int cmd_NAME(int argc, char **argv, struct ctx *ctx);
 * declare it below, and add one line to the table in main.c whose flags
 * say what main must set up first (NEED_CONFIG, NEED_STORE,
 * NEED_STORE_RO), or a function that says it from the arguments, for a
 * family of subcommands whose needs differ (cmd_sub_needs). argv[0] is
 * the command's name; parse options with getopt_long, print usage on
 * --help (exit 0) and on bad usage (EX_USAGE). Return an exit status
 * from <sysexits.h>; main returns it.
 *
 * When the command's arguments include "--help", main sets nothing up
 * (ctx->config and ctx->store stay NULL), so help works without a
 * configuration or a database: a command prints its usage first.
 */

struct config;
struct store;

struct ctx {
	const char    *config_path;	/* -c FILE, $BULLETIN_CONFIG or the default */
	struct config *config;		/* set when the command has NEED_CONFIG */
	struct store  *store;		/* set with NEED_STORE(_RO) */
};

enum {
	NEED_CONFIG   = 1 << 0,
	NEED_STORE    = 1 << 1,	/* implies NEED_CONFIG; the database is
				 * created when missing (EX_CANTCREAT) */
	NEED_ARGS     = 1 << 2,	/* without arguments it only prints usage:
				 * main sets nothing up then */
	NEED_STORE_RO = 1 << 3,	/* for commands that only read: the database
				 * must exist, it is never created; missing
				 * or unusable: EX_NOINPUT */
};

int cmd_preview(int argc, char **argv, struct ctx *ctx);
int cmd_sub(int argc, char **argv, struct ctx *ctx);
/* What 'sub SUBCOMMAND ...' needs: NEED_STORE_RO for the ones that only
 * read (and import --dry-run), NEED_STORE for the others, 0 for a usage
 * mistake (cmd_sub reports it). */
int cmd_sub_needs(int argc, char **argv);
int cmd_init(int argc, char **argv, struct ctx *ctx);
int cmd_dkim(int argc, char **argv, struct ctx *ctx);
int cmd_send(int argc, char **argv, struct ctx *ctx);
int cmd_report(int argc, char **argv, struct ctx *ctx);
int cmd_secret(int argc, char **argv, struct ctx *ctx);
int cmd_serve(int argc, char **argv, struct ctx *ctx);
int cmd_inbox(int argc, char **argv, struct ctx *ctx);

#endif
