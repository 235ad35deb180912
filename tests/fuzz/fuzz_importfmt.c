/*
 * Other tools' exports (importfmt.h), read as CSV with the format
 * recognised from the header, each row rewritten or rejected.
 *
 * Properties: a rewritten row has the rewritten header's number of
 * fields; its created field is empty or a timestamp of bulletin's form
 * that importfmt_date reads back unchanged; unless the format is
 * bulletin's own (statuses passed on for subcsv to check), its status is
 * empty or one of bulletin's; a rejected row says why, and the reason
 * holds no control character (it goes to a terminal).
 */
#include <string.h>

#include "csv.h"
#include "fuzz.h"
#include "importfmt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static int is_status(const char *s)
{
	static const char *const names[] = {
		"", "pending", "active", "unsubscribed", "bounced", "complained",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return 1;
	return 0;
}

static void check_row(const struct importfmt *f, const struct csv_record *rec,
		      size_t nfields)
{
	char again[21];

	fuzz_check(rec->nfields == nfields);
	if (*rec->fields[3]) {
		fuzz_check(strlen(rec->fields[3]) == 20);
		fuzz_check(!importfmt_date(rec->fields[3], 20, again));
		fuzz_check(!strcmp(again, rec->fields[3]));
	}
	if (importfmt_kind(f) != IMPORTFMT_CSV)
		fuzz_check(is_status(rec->fields[2]));
}

static void check_reason(const char *why)
{
	fuzz_check(*why);
	for (; *why; why++)
		fuzz_check((unsigned char)*why >= 0x20 && *why != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *in = fuzz_stream(data, size);
	struct csv_reader *r = csv_reader_new(in);
	struct importfmt *f = importfmt_new(IMPORTFMT_AUTO, NULL, 0);
	struct csv_record rec;
	const char *why;
	size_t nfields;
	int rc;

	if (csv_read(r, &rec, &why) != 1 || importfmt_header(f, "fuzz", &rec))
		goto out;
	nfields = rec.nfields;
	fuzz_check(nfields >= 4 && !strcmp(rec.fields[0], "email"));
	while ((rc = csv_read(r, &rec, &why)) != 0) {
		if (rc < 0)
			continue;
		why = importfmt_row(f, &rec);
		if (why)
			check_reason(why);
		else
			check_row(f, &rec, nfields);
	}
out:
	importfmt_free(f);
	csv_free(r);
	fclose(in);
	return 0;
}
