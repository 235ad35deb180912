/*
 * The CSV reader (csv.h) on any bytes. Properties:
 *  - a record's fields are valid UTF-8 without NUL bytes, as promised;
 *  - a malformed record comes with a reason; record lines never go back;
 *  - a record written with csv_add_record reads back as the same fields
 *    (what subcsv_export relies on), except a lone empty field, which is
 *    an empty line and skipped by design. The record is written after a
 *    first line, as an export writes rows after its header: as the very
 *    first line, a field starting with U+FEFF would be taken for a byte
 *    order mark and lose it (csv_add_field does not quote it).
 */
#include <string.h>

#include "csv.h"
#include "fuzz.h"
#include "utf8.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static void check_round_trip(const struct csv_record *rec)
{
	struct buf out = BUF_INIT;
	struct csv_record back;
	struct csv_reader *r;
	const char *why = NULL;
	FILE *f;

	if (rec->nfields == 1 && rec->lens[0] == 0)
		return;
	buf_adds(&out, "first\r\n");
	csv_add_record(&out, rec->fields, rec->nfields);
	f = fuzz_stream((const uint8_t *)out.data, out.len);
	r = csv_reader_new(f);
	fuzz_check(csv_read(r, &back, &why) == 1);
	fuzz_check(back.nfields == 1 && !strcmp(back.fields[0], "first"));
	fuzz_check(csv_read(r, &back, &why) == 1);
	fuzz_check(back.nfields == rec->nfields);
	for (size_t i = 0; i < rec->nfields; i++) {
		fuzz_check(back.lens[i] == rec->lens[i]);
		fuzz_check(!memcmp(back.fields[i], rec->fields[i], rec->lens[i]));
	}
	fuzz_check(csv_read(r, &back, &why) == 0);
	csv_free(r);
	fclose(f);
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fuzz_stream(data, size);
	struct csv_reader *r = csv_reader_new(f);
	struct csv_record rec;
	long last = 0;
	int rc;

	for (;;) {
		const char *why = NULL;

		rc = csv_read(r, &rec, &why);
		if (!rc)
			break;
		fuzz_check(rec.line >= 1 && rec.line >= last);
		last = rec.line;
		if (rc < 0) {
			fuzz_check(rc == -1 && why && *why);
			continue;
		}
		fuzz_check(rc == 1 && rec.nfields >= 1);
		for (size_t i = 0; i < rec.nfields; i++) {
			fuzz_check(strlen(rec.fields[i]) == rec.lens[i]);
			fuzz_check(utf8_valid(rec.fields[i], rec.lens[i]));
		}
		/* the copies below outlive nothing: rec stays valid until
		 * the next csv_read on r */
		check_round_trip(&rec);
	}
	csv_free(r);
	fclose(f);
	return 0;
}
