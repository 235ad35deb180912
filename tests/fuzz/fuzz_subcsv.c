/*
 * Subscriber CSV import and export (subcsv.h) as a round trip through
 * real SQLite stores in a scratch folder (on /dev/shm when there is one):
 *
 *   import the input into an empty store A, export A as E1;
 *   import E1 into an empty store B, export B as E2.
 *
 * Properties: E1 imports back without a rejected line, adds one
 * subscriber per row and nothing else, and E2 == E1 byte for byte (what
 * an export promises: "an export imports back").
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "subcsv.h"

static char dir[64];
static char path_a[96], path_b[96];

static void remove_db(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char name[128];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", path, suffixes[i]);
		unlink(name);
	}
}

static void cleanup(void)
{
	remove_db(path_a);
	remove_db(path_b);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct stat st;

	(void)argc;
	(void)argv;
	fuzz_quiet();
	snprintf(dir, sizeof(dir), "%s/bulletin-fuzz-subcsv-XXXXXX",
		 stat("/dev/shm", &st) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(dir))
		abort();
	snprintf(path_a, sizeof(path_a), "%s/a.db", dir);
	snprintf(path_b, sizeof(path_b), "%s/b.db", dir);
	atexit(cleanup);
	return 0;
}

/* Imports in into a fresh store at path and exports it. Returns the
 * export (caller frees) or NULL when the import refused the input. */
static char *import_export(const char *path, FILE *in, size_t *len,
			   struct subcsv_summary *sum, long *rows)
{
	const struct subcsv_options o = { .status = SUB_PENDING };
	const struct store_query all = { 1, SUB_PENDING, 0, NULL, 0 };
	struct store *s;
	char *out = NULL;
	FILE *f;

	remove_db(path);
	s = store_open(path);
	fuzz_check(s);
	if (subcsv_import(s, in, "fuzz.csv", &o, sum) == 0) {
		f = open_memstream(&out, len);
		fuzz_check(f);
		*rows = subcsv_export(s, &all, f);
		fuzz_check(*rows >= 0);
		fclose(f);
	}
	store_close(s);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct subcsv_summary sum1, sum2;
	char *e1, *e2 = NULL;
	size_t len1 = 0, len2 = 0;
	long rows1 = 0, rows2 = 0;
	FILE *in = fuzz_stream(data, size);

	e1 = import_export(path_a, in, &len1, &sum1, &rows1);
	fclose(in);
	if (!e1)
		return 0;
	fuzz_check(sum1.committed);
	in = fuzz_stream((const uint8_t *)e1, len1);
	e2 = import_export(path_b, in, &len2, &sum2, &rows2);
	fclose(in);
	fuzz_check(e2);
	fuzz_check(sum2.rejected == 0);
	fuzz_check(sum2.added == rows1 && sum2.updated == 0 &&
		   sum2.unchanged == 0 && sum2.suppressed == 0);
	fuzz_check(rows2 == rows1);
	fuzz_check(len2 == len1 && !memcmp(e1, e2, len1));
	free(e1);
	free(e2);
	return 0;
}
