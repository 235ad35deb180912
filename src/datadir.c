#include "datadir.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "util.h"

#ifndef BULLETIN_DATADIR
#define BULLETIN_DATADIR "/usr/local/share/bulletin"
#endif

/* True if dir holds the default templates. */
static int holds_defaults(const char *dir)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int ok;

	buf_addf(&path, "%s/templates/theme.ini", dir);
	ok = !stat(path.data, &st) && S_ISREG(st.st_mode);
	buf_release(&path);
	return ok;
}

/* The folder of the running program's real path, or NULL. */
static char *exe_dir(void)
{
	char *exe = realpath("/proc/self/exe", NULL);
	char *slash = exe ? strrchr(exe, '/') : NULL;

	if (!slash) {
		free(exe);
		return NULL;
	}
	*slash = '\0';
	return exe;
}

/* Tries the installed layout, then the build tree, next to the program. */
static char *next_to_program(struct buf *tried)
{
	char *dir = exe_dir();
	struct buf cand = BUF_INIT;

	if (!dir)
		return NULL;
	buf_addf(&cand, "%s/../share/bulletin", dir);
	buf_addf(tried, "'%s', '%s', ", cand.data, dir);
	if (holds_defaults(cand.data)) {
		free(dir);
		return buf_detach(&cand, NULL);
	}
	buf_release(&cand);
	if (holds_defaults(dir))
		return dir;
	free(dir);
	return NULL;
}

char *datadir_find(void)
{
	const char *env = getenv("BULLETIN_DATADIR");
	struct buf tried = BUF_INIT;
	char *found = NULL;

	if (env && *env) {
		if (holds_defaults(env))
			found = xstrdup(env);
		else
			error("BULLETIN_DATADIR: '%s' holds no templates/theme.ini",
			      env);
		return found;
	}
	found = next_to_program(&tried);
	if (!found && holds_defaults(BULLETIN_DATADIR))
		found = xstrdup(BULLETIN_DATADIR);
	if (!found)
		error("no default templates: looked in %s'%s' (set "
		      "BULLETIN_DATADIR to the folder holding templates/)",
		      tried.data, BULLETIN_DATADIR);
	buf_release(&tried);
	return found;
}
