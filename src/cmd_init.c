/*
 * bulletin init: a new project's configuration, token secret, database,
 * templates (copied from the installed defaults, so they can be edited)
 * and first issue. It never overwrites anything: if one of them exists,
 * it stops, and what it created itself is removed again on failure.
 */

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "config.h"
#include "datadir.h"
#include "store.h"
#include "util.h"

#define SECRET_BYTES 32
#define MAX_TREE_DEPTH 8

static const char usage_text[] =
	"usage: bulletin [-c CONFIG] init [--lang LANG]\n\n"
	"Creates a new project in the current folder:\n"
	"  - the configuration (config/bulletin.conf, or -c CONFIG), a sample\n"
	"    to edit: the newsletter's name, sender, URLs and postal address;\n"
	"  - the secret for unsubscribe tokens ([tokens] secret-file,\n"
	"    config/secret): 32 random bytes, hex, readable by the owner alone;\n"
	"  - the subscriber database ([store] path, subscribers/bulletin.db);\n"
	"  - the templates ([templates] dir, templates/), copied from the\n"
	"    installed defaults so that they can be edited;\n"
	"  - a first issue, digests/YYYY-MM/ (this month): an issue.md and one\n"
	"    example entry, ready for 'bulletin preview'.\n"
	"--lang LANG sets the newsletter's language ([templates] lang): en\n"
	"(the default) or zh, the labels of templates/labels-LANG.ini.\n"
	"The defaults are looked for in $BULLETIN_DATADIR, next to the program\n"
	"(PREFIX/share/bulletin, or its build tree), then where it was\n"
	"installed.\n\n"
	"Exit status: 0 done; 64 bad usage or unknown language; 66 no\n"
	"installed defaults; 73 something already exists (nothing is\n"
	"overwritten) or cannot be written; 78 the configuration is bad.\n";

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
	"# the language of the labels: templates/labels-LANG.ini\n"
	"lang = %s\n"
	"\n"
	"[tokens]\n"
	"# created by 'bulletin init', mode 0600: keep it secret\n"
	"secret-file = config/secret\n";

/* What init created so far, removed again if a later step fails. */
struct created {
	const char *paths[3];	/* files */
	int         n;
	char       *trees[8];	/* folders it made, with all they hold */
	int         ntrees;
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

/* Notes the top-most of path's folders that does not exist yet: init is
 * about to make it, so undo removes it again. */
static void note_new_folders(struct created *c, const char *path)
{
	char *p = xstrdup(path);

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (!exists(p)) {
			c->trees[c->ntrees++] = p;
			return;
		}
		*s = '/';
	}
	free(p);
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
	note_new_folders(c, path);
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
	struct store *s;

	note_new_folders(c, path);
	s = store_open(path);
	if (!s)
		return -1;
	store_close(s);
	c->paths[c->n++] = path;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st; (void)type; (void)ftw;
	remove(path);
	return 0;
}

/* Removes what was created, newest first (and the database's companions). */
static void undo(const struct created *c, const char *db)
{
	for (int i = c->ntrees - 1; i >= 0; i--)
		nftw(c->trees[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
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

static int copy_tree(const char *src, const char *dst, int depth);

/* Copies one entry of a folder: a file, or a folder, recursively. */
static int copy_entry(const char *src, const char *dst, int depth)
{
	struct buf data = BUF_INIT;
	struct stat st;
	int ret = -1;

	if (lstat(src, &st))
		return error("cannot read '%s': %s", src, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(dst, 0777))
			return error("cannot create '%s': %s", dst,
				     strerror(errno));
		return copy_tree(src, dst, depth + 1);
	}
	if (!S_ISREG(st.st_mode))
		return 0;	/* the defaults hold files and folders only */
	if (!read_file(src, &data))
		ret = write_file_atomic(dst, data.data, data.len, 0644, 1);
	buf_release(&data);
	return ret;
}

/* Copies what the folder src holds into the empty folder dst. */
static int copy_tree(const char *src, const char *dst, int depth)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	if (depth > MAX_TREE_DEPTH)
		return error("'%s': folders nested too deep", src);
	dir = opendir(src);
	if (!dir)
		return error("cannot read '%s': %s", src, strerror(errno));
	while (!ret && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		buf_reset(&from);
		buf_reset(&to);
		buf_addf(&from, "%s/%s", src, de->d_name);
		buf_addf(&to, "%s/%s", dst, de->d_name);
		ret = copy_entry(from.data, to.data, depth);
	}
	closedir(dir);
	buf_release(&from);
	buf_release(&to);
	return ret;
}

/* Copies DATADIR/what to dst, a new folder init owns from then on. */
static int copy_new_tree(struct created *c, const char *datadir,
			 const char *what, const char *dst)
{
	struct buf src = BUF_INIT;
	int ret;

	buf_addf(&src, "%s/%s", datadir, what);
	note_new_folders(c, dst);
	ret = make_parent(dst);
	if (!ret && mkdir(dst, 0777))
		ret = error("cannot create '%s': %s", dst, strerror(errno));
	if (!ret) {
		c->trees[c->ntrees++] = xstrdup(dst);
		ret = copy_tree(src.data, dst, 0);
	}
	buf_release(&src);
	return ret;
}

/* What init was asked for and where it takes it from. */
struct init_job {
	const char *lang;	/* en, zh ... */
	char       *datadir;	/* the installed defaults */
	char        issue[32];	/* digests/YYYY-MM, this month */
};

/* Everything after the config file: its paths come from reading it. */
static int init_rest(struct created *c, struct config *cfg, const char *path,
		     const struct init_job *job)
{
	struct buf starter = BUF_INIT;
	int ret = EX_CONFIG;

	buf_addf(&starter, "starter/%s", job->lang);
	if (config_load(cfg, path))
		goto out;
	ret = EX_CANTCREAT;
	if (refuse_existing(cfg->secret_file, "token secret") ||
	    refuse_existing(cfg->store_path, "database") ||
	    refuse_existing(cfg->templates_dir, "templates folder") ||
	    refuse_existing(job->issue, "issue folder"))
		goto out;
	if (write_secret(c, cfg->secret_file) ||
	    create_store(c, cfg->store_path) ||
	    copy_new_tree(c, job->datadir, "templates", cfg->templates_dir) ||
	    copy_new_tree(c, job->datadir, starter.data, job->issue))
		goto out;
	ret = 0;
out:
	buf_release(&starter);
	return ret;
}

/* A language init has defaults for: DATADIR/templates/labels-LANG.ini and
 * DATADIR/starter/LANG/. */
static int check_lang(const struct init_job *job)
{
	struct buf labels = BUF_INIT, starter = BUF_INIT;
	int ok = strspn(job->lang, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") ==
		 strlen(job->lang) && *job->lang && *job->lang != '-';

	buf_addf(&labels, "%s/templates/labels-%s.ini", job->datadir, job->lang);
	buf_addf(&starter, "%s/starter/%s/issue.md", job->datadir, job->lang);
	ok = ok && !access(labels.data, R_OK) && !access(starter.data, R_OK);
	if (!ok)
		error("unknown language '%s': no labels-%s.ini and starter "
		      "issue in '%s' (en or zh)", job->lang, job->lang,
		      job->datadir);
	buf_release(&labels);
	buf_release(&starter);
	return ok ? 0 : -1;
}

/* Fills job from the arguments; 0, -1 after --help, or EX_USAGE. */
static int parse_args(int argc, char **argv, struct init_job *job)
{
	static const struct option opts[] = {
		{ "lang", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
		if (c == 'l') {
			job->lang = optarg;
			continue;
		}
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

/* Finds the defaults and checks the language; 0 or an exit status. */
static int prepare(struct init_job *job)
{
	time_t now = time(NULL);
	struct tm tm;

	job->datadir = datadir_find();
	if (!job->datadir)
		return EX_NOINPUT;
	if (check_lang(job))
		return EX_USAGE;
	localtime_r(&now, &tm);
	strftime(job->issue, sizeof(job->issue), "digests/%Y-%m", &tm);
	return 0;
}

static void print_created(const char *path, const struct config *cfg,
			  const struct init_job *job)
{
	printf("created %s (edit it: name, from, base-url, postal-address)\n"
	       "created %s (the token secret, mode 0600)\n"
	       "created %s (the subscriber database)\n"
	       "created %s/ (the templates, labels-%s.ini: edit them freely)\n"
	       "created %s/ (the first issue)\n"
	       "next: bulletin preview %s -o out\n",
	       path, cfg->secret_file, cfg->store_path, cfg->templates_dir,
	       job->lang, job->issue, job->issue);
}

int cmd_init(int argc, char **argv, struct ctx *ctx)
{
	const char *path = ctx->config_path;
	struct created c = { { NULL }, 0, { NULL }, 0 };
	struct init_job job = { "en", NULL, "" };
	struct buf text = BUF_INIT;
	struct config cfg;
	int ret = parse_args(argc, argv, &job);

	config_defaults(&cfg);
	if (ret) {
		ret = ret < 0 ? 0 : ret;
		goto out;
	}
	ret = prepare(&job);
	if (ret)
		goto out;
	buf_addf(&text, sample_config, job.lang);
	ret = EX_CANTCREAT;
	if (refuse_existing(path, "configuration") ||
	    write_new(&c, path, text.data, text.len, 0644))
		goto out;
	ret = init_rest(&c, &cfg, path, &job);
	if (ret) {
		undo(&c, cfg.store_path);
		goto out;
	}
	print_created(path, &cfg, &job);
out:
	for (int i = 0; i < c.ntrees; i++)
		free(c.trees[i]);
	buf_release(&text);
	free(job.datadir);
	config_release(&cfg);
	return ret;
}
