/*
 * Replays fuzz inputs without libFuzzer: `fuzz_x FILE|DIR ...` runs
 * LLVMFuzzerTestOneInput once per file (a folder: each file in it), so
 * the committed corpora run under ASan+UBSan with gcc or clang in
 * seconds (make fuzz-replay). When a sanitizer or a property stops the
 * process, the last input run is named (a leak is only reported at
 * exit: then any input may be the culprit; replay them one by one).
 */
#include <dirent.h>
#include <sanitizer/common_interface_defs.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz.h"
#include "util.h"

static char current[4096];

static void name_current(void)
{
	static int named;

	if (named++)
		return;
	dprintf(2, "replay: the last input run was '%s'\n", current);
}

static void on_abort(int sig)
{
	(void)sig;
	name_current();
	_exit(134);
}

static int run_file(const char *path)
{
	struct buf data = BUF_INIT;

	snprintf(current, sizeof(current), "%s", path);
	if (read_file(path, &data)) {
		dprintf(2, "replay: cannot read '%s'\n", path);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data.data, data.len);
	buf_release(&data);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Runs path, or every file in it when it is a folder; counts the runs. */
static int run_path(const char *path, long *runs)
{
	struct dirent **names;
	struct stat st;
	int n, bad = 0;

	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		(*runs)++;
		return run_file(path);
	}
	n = scandir(path, &names, NULL, by_name);
	if (n < 0) {
		dprintf(2, "replay: cannot read '%s'\n", path);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char sub[4096];

		if (names[i]->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
			bad |= run_file(sub);
			(*runs)++;
		}
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0;
	long runs = 0;

	__sanitizer_set_death_callback(name_current);
	signal(SIGABRT, on_abort);
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		bad |= run_path(argv[i], &runs);
	dprintf(2, "replay: %s: %ld inputs%s\n", argv[0], runs,
		bad ? ", some unreadable" : "");
	return bad ? 1 : 0;
}
