/*
 * bulletin secret rotate: a new token secret; the old one stays valid
 * for [tokens] grace-days, so the links in mail already sent keep
 * working.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "token.h"
#include "util.h"

static const char usage[] =
	"usage: bulletin secret rotate\n"
	"\n"
	"Makes a new secret for unsubscribe tokens and VERP tags ([tokens]\n"
	"secret-file). The one it replaces is kept as SECRET-FILE.previous\n"
	"and still accepted for [tokens] grace-days (default 90), so the\n"
	"unsubscribe links and bounce addresses of mail already sent keep\n"
	"working; new mail is signed with the new secret. Without a secret\n"
	"yet, it makes the first one.\n"
	"Restart 'bulletin serve' afterwards.\n"
	"\n"
	"Exit status: 0, 64 usage, 73 cannot write, 78 bad configuration.\n";

int cmd_secret(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path;
	int c, had;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		fputs(usage, c == 'h' ? stdout : stderr);
		return c == 'h' ? 0 : EX_USAGE;
	}
	if (optind != argc - 1 || strcmp(argv[optind], "rotate")) {
		if (optind < argc)
			error("unknown secret command '%s'", argv[optind]);
		fputs(usage, stderr);
		return EX_USAGE;
	}
	path = ctx->config->secret_file;
	had = !access(path, F_OK);
	if (token_secret_rotate(path, time(NULL)))
		return EX_CANTCREAT;
	if (had)
		printf("rotated %s: the previous secret, in %s.previous, stays "
		       "valid for %ld days\n", path, path,
		       ctx->config->grace_days);
	else
		printf("created %s (the token secret, mode 0600)\n", path);
	return 0;
}
