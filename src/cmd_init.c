/*
 * bulletin init: a new project's configuration, token secret and
 * database. It never overwrites anything: if one of them exists, it
 * stops, and what it created itself is removed again on failure.
 */

#include <errno.h>
#include <getopt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "store.h"
#include "util.h"

#define SECRET_BYTES 32

static const char usage_text[] =
	"usage: bulletin [-c CONFIG] init\n\n"
	"Creates a new project in the current folder:\n"
	"  - the configuration (config/bulletin.conf, or -c CONFIG), a sample\n"
	"    to edit: the newsletter's name, sender, URLs and postal address;\n"
	"  - the secret for unsubscribe tokens ([tokens] secret-file,\n"
	"    config/secret): 32 random bytes, hex, readable by the owner alone;\n"
	"  - the subscriber database ([store] path, subscribers/bulletin.db).\n"
	"It refuses to overwrite any of them (exit status 73).\n";

static const char sample_config[] =
	"# bulletin configuration. Relative paths are relative to the folder\n"
	"# bulletin runs in. Any key can be overridden from the environment as\n"
	"# BULLETIN_<SECTION>_<KEY>, for instance BULLETIN_STORE_PATH.\n"
	"\n"
	"[newsletter]\n"
	"name = My Newsletter\n"
	"from = My Newsletter <news@example.org>\n"
	"# reply-to = editor@example.org\n"
	"list-id = news.example.org\n"
	"# where 'bulletin serve' is reached, for the unsubscribe links\n"
	"base-url = https://news.example.org\n"
	"postal-address = Example Press, 1 Sample Street, 1000 Brussels, Belgium\n"
	"reason = You receive this because you subscribed at news.example.org.\n"
	"sample-to = Sample Reader <reader@example.org>\n"
	"# the biggest message preview and send accept, in bytes (K or M\n"
	"# suffix); Gmail clipping HTML near 102 KB is a separate warning\n"
	"max-message-size = 10M\n"
	"\n"
	"[smtp]\n"
	"# smtp://host:587, smtps://host:465 or maildir:PATH (to look first)\n"
	"url = maildir:outbox\n"
	"# username = news@example.org\n"
	"# the password is never written here: a file only its owner can\n"
	"# read, or an environment variable\n"
	"# password-file = config/smtp-password\n"
	"# password-env = BULLETIN_SMTP_PASSWORD\n"
	"starttls = require\n"
	"connections = 4\n"
	"# messages per second, 0 for no limit\n"
	"rate = 0\n"
	"\n"
	"[store]\n"
	"path = subscribers/bulletin.db\n"
	"\n"
	"[templates]\n"
	"dir = templates\n"
	"\n"
	"[tokens]\n"
	"# created by 'bulletin init', mode 0600: keep it secret\n"
	"secret-file = config/secret\n";

/* What init created so far, removed again if a later step fails. */
struct created {
	const char *paths[3];
	int         n;
};

static int exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st) || errno != ENOENT;
}

static int refuse_existing(const char *path, const char *what)
{
	if (!exists(path))
		return 0;
	return error("%s '%s' already exists: not overwriting it", what, path);
}

/* Creates path's folder, when it has one. */
static int make_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int ret;

	if (!slash || slash == path)
		return 0;
	dir = xstrndup(path, (size_t)(slash - path));
	ret = mkdir_p(dir, 0777);
	free(dir);
	return ret;
}

static int write_new(struct created *c, const char *path, const char *data,
		     size_t len, mode_t mode)
{
	if (make_parent(path) || write_file_atomic(path, data, len, mode, 1))
		return -1;
	c->paths[c->n++] = path;
	return 0;
}

static int write_secret(struct created *c, const char *path)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char key[SECRET_BYTES];
	char hex[2 * SECRET_BYTES];
	int ret;

	if (gnutls_rnd(GNUTLS_RND_KEY, key, sizeof(key)))
		return error("cannot get random bytes for the token secret");
	for (size_t i = 0; i < sizeof(key); i++) {
		hex[2 * i] = digits[key[i] >> 4];
		hex[2 * i + 1] = digits[key[i] & 15];
	}
	/* no line end: the file holds exactly the 64 hex digits */
	ret = write_new(c, path, hex, sizeof(hex), 0600);
	memset(key, 0, sizeof(key));
	memset(hex, 0, sizeof(hex));
	return ret;
}

static int create_store(struct created *c, const char *path)
{
	struct store *s = store_open(path);

	if (!s)
		return -1;
	store_close(s);
	c->paths[c->n++] = path;
	return 0;
}

/* Removes what was created, newest first (and the database's companions). */
static void undo(const struct created *c, const char *db)
{
	for (int i = c->n - 1; i >= 0; i--) {
		unlink(c->paths[i]);
		if (c->paths[i] == db) {
			struct buf b = BUF_INIT;

			buf_addf(&b, "%s-wal", db);
			unlink(b.data);
			buf_truncate(&b, b.len - 4);
			buf_adds(&b, "-shm");
			unlink(b.data);
			buf_release(&b);
		}
	}
}

/* Everything after the config file: its paths come from reading it. */
static int init_rest(struct created *c, struct config *cfg, const char *path)
{
	if (config_load(cfg, path))
		return EX_CONFIG;
	if (refuse_existing(cfg->secret_file, "token secret") ||
	    refuse_existing(cfg->store_path, "database"))
		return EX_CANTCREAT;
	if (write_secret(c, cfg->secret_file) ||
	    create_store(c, cfg->store_path))
		return EX_CANTCREAT;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		fputs(usage_text, c == 'h' ? stdout : stderr);
		return c == 'h' ? -1 : EX_USAGE;
	}
	if (optind < argc) {
		error("init takes no arguments");
		fputs(usage_text, stderr);
		return EX_USAGE;
	}
	return 0;
}

int cmd_init(int argc, char **argv, struct ctx *ctx)
{
	const char *path = ctx->config_path;
	struct created c = { { NULL }, 0 };
	struct config cfg;
	int ret = parse_args(argc, argv);

	if (ret)
		return ret < 0 ? 0 : ret;
	config_defaults(&cfg);
	ret = EX_CANTCREAT;
	if (refuse_existing(path, "configuration") ||
	    write_new(&c, path, sample_config, sizeof(sample_config) - 1, 0644))
		goto out;
	ret = init_rest(&c, &cfg, path);
	if (ret) {
		undo(&c, cfg.store_path);
		goto out;
	}
	printf("created %s (edit it: name, from, base-url, postal-address)\n"
	       "created %s (the token secret, mode 0600)\n"
	       "created %s (the subscriber database)\n",
	       path, cfg.secret_file, cfg.store_path);
out:
	config_release(&cfg);
	return ret;
}
