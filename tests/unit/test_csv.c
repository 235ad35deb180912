/*
 * csv.c: RFC 4180 reading (streamed, with line numbers and recovery
 * after malformed records) and writing.
 *
 * Reader results are rendered one record a line, "LINE:[f1][f2]" or
 * "LINE:E:reason" ("FIRST:LAST:..." for a record of several lines), so
 * each case reads as input and expected output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "csv.h"

#define CHUNK 65536	/* the reader's chunk size, to test its edges */

static FILE *input(const char *data, size_t len)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	rewind(f);
	return f;
}

/* Reader settings for a case; zeros keep the defaults. */
struct opts {
	size_t expect;		/* csv_expect_fields */
	long   max_lines;	/* csv_set_limits */
	size_t max_bytes;
};

/* Reads every record of data into out, rendered as described above. */
static void render_opts(const char *data, size_t len, struct buf *out,
			struct opts o)
{
	FILE *f = input(data, len);
	struct csv_reader *r = csv_reader_new(f);
	struct csv_record rec;
	const char *why;
	int rc;

	csv_expect_fields(r, o.expect);
	if (o.max_lines)
		csv_set_limits(r, o.max_lines, o.max_bytes);

	while ((rc = csv_read(r, &rec, &why)) != 0) {
		buf_addf(out, "%ld:", rec.line);
		if (rec.last != rec.line)
			buf_addf(out, "%ld:", rec.last);
		if (rc < 0)
			buf_addf(out, "E:%s", why);
		for (size_t i = 0; rc > 0 && i < rec.nfields; i++) {
			assert_int_equal(strlen(rec.fields[i]), rec.lens[i]);
			buf_addch(out, '[');
			buf_add(out, rec.fields[i], rec.lens[i]);
			buf_addch(out, ']');
		}
		buf_addch(out, '\n');
	}
	/* The end is sticky. */
	assert_int_equal(csv_read(r, &rec, &why), 0);
	csv_free(r);
	fclose(f);
}

static void render(const char *data, size_t len, struct buf *out)
{
	render_opts(data, len, out, (struct opts){ 0, 0, 0 });
}

static void check_n(const char *data, size_t len, const char *want)
{
	struct buf got = BUF_INIT;

	render(data, len, &got);
	assert_string_equal(got.data, want);
	buf_release(&got);
}

#define check(data, want) check_n(data, sizeof(data) - 1, want)

/* ---- reading ------------------------------------------------------------ */

static void test_simple(void **state)
{
	(void)state;
	check("a,b,c\nd,e,f\n", "1:[a][b][c]\n2:[d][e][f]\n");
	check("a,b", "1:[a][b]\n");		/* no final line end */
	check("", "");
	check("x", "1:[x]\n");
}

static void test_bom(void **state)
{
	(void)state;
	check("\xef\xbb\xbf" "email,name\r\nx,y\r\n",
	      "1:[email][name]\n2:[x][y]\n");
	check("\xef\xbb\xbf", "");
	/* Only the first three bytes of the file may be a BOM. */
	check("a\n\xef\xbb\xbf" "b\n", "1:[a]\n2:[\xef\xbb\xbf" "b]\n");
}

static void test_line_ends(void **state)
{
	(void)state;
	check("a,b\r\nc,d\r\n", "1:[a][b]\n2:[c][d]\n");
	check("a\r\nb\nc\rd", "1:[a]\n2:[b]\n3:[c]\n4:[d]\n");
}

static void test_quoted(void **state)
{
	(void)state;
	check("\"a,b\",c\n", "1:[a,b][c]\n");
	check("\"say \"\"hi\"\"\",x\n", "1:[say \"hi\"][x]\n");
	check("\"\"\"\"\n", "1:[\"]\n");
	check("\"\",x\n", "1:[][x]\n");
	check("\"a\"", "1:[a]\n");
	check("\" spaced \"\n", "1:[ spaced ]\n");
}

static void test_embedded_line_breaks(void **state)
{
	(void)state;
	check("\"line1\nline2\",x\nnext,y\n",
	      "1:2:[line1\nline2][x]\n3:[next][y]\n");
	check("\"a\r\nb\r\nc\"\r\nd\r\n", "1:3:[a\r\nb\r\nc]\n4:[d]\n");
	check("\"\n\n\n\"\nz\n", "1:4:[\n\n\n]\n5:[z]\n");
}

static void test_empty_fields(void **state)
{
	(void)state;
	check(",,\n", "1:[][][]\n");
	check("a,,b\n", "1:[a][][b]\n");
	check("a,b,\n", "1:[a][b][]\n");	/* trailing empty field */
	check("a,", "1:[a][]\n");
	check(" \n", "1:[ ]\n");		/* not an empty line */
}

static void test_empty_lines(void **state)
{
	(void)state;
	check("\n\na\n\r\n\nb\n\n", "3:[a]\n6:[b]\n");
	check("\r\n\r\n", "");
}

static void test_unterminated_quote(void **state)
{
	(void)state;
	/* the quote may be stray: the lines after it are read again */
	check("a,b\n\"open,x\ny,z\n",
	      "1:[a][b]\n2:E:quoted field not closed at the end of the file "
	      "on line 3 (the quote opened on line 2 may be stray: lines 3-3 "
	      "are read again)\n3:[y][z]\n");
	check("x\ny,\"", "1:[x]\n2:E:quoted field not closed at the end of the file\n");
}

static void test_quote_in_unquoted_field(void **state)
{
	(void)state;
	check("ab\"c,d\nok,1\n", "1:E:quote inside an unquoted field\n2:[ok][1]\n");
	check("a, \"b\"\nok\n", "1:E:quote inside an unquoted field\n2:[ok]\n");
}

static void test_text_after_closing_quote(void **state)
{
	(void)state;
	check("\"ab\"c,d\nok\n", "1:E:text after a closing quote\n2:[ok]\n");
	check("\"ab\" ,d\r\nok\r\n", "1:E:text after a closing quote\n2:[ok]\n");
	/* The error is on line 2 of a record from line 1: line 1 is
	 * rejected and line 2 is read again, as a record of its own. */
	check("\"a\nb\"x,y\nnext\n",
	      "1:E:text after a closing quote on line 2 (the quote opened on "
	      "line 1 may be stray: lines 2-2 are read again)\n"
	      "2:E:quote inside an unquoted field\n3:[next]\n");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	check("good\nbad\xff,x\nnext\n", "1:[good]\n2:E:invalid UTF-8\n3:[next]\n");
	check("x,\"bad\xc3\"\nnext\n", "1:E:invalid UTF-8\n2:[next]\n");
	check("\xc0\xaf\nok\n", "1:E:invalid UTF-8\n2:[ok]\n");	/* overlong */
	check("\xed\xa0\x80\nok\n", "1:E:invalid UTF-8\n2:[ok]\n"); /* surrogate */
	check("\xf4\x90\x80\x80\n", "1:E:invalid UTF-8\n");	/* > U+10FFFF */
	check("caf\xc3\xa9,\xf0\x9f\x98\x80\n", "1:[caf\xc3\xa9][\xf0\x9f\x98\x80]\n");
}

static void test_nul_byte(void **state)
{
	(void)state;
	check("a\0b,c\nnext\n", "1:E:NUL byte\n2:[next]\n");
	check("\"a\0b\",c\nnext\n", "1:E:NUL byte\n2:[next]\n");
	check("a,b\0\n\0,c\n", "1:E:NUL byte\n2:E:NUL byte\n");
	/* A NUL in a quoted field of several lines rejects the whole
	 * record; the lines after the NUL are not read as records. */
	check("id,notes\n"
	      "1,\"first\nsecond \0 here\nx@example.org,third\"\n"
	      "2,ok\n",
	      "1:[id][notes]\n2:4:E:NUL byte on line 3\n5:[2][ok]\n");
}

static void test_many_errors_keep_line_numbers(void **state)
{
	(void)state;
	check("h1,h2\n"
	      "\"multi\nline\",ok\n"
	      "bad\"quote\n"
	      "\n"
	      "\"x\"y\n"
	      "fine,\xff\n"
	      "last,row",
	      "1:[h1][h2]\n"
	      "2:3:[multi\nline][ok]\n"
	      "4:E:quote inside an unquoted field\n"
	      "6:E:text after a closing quote\n"
	      "7:E:invalid UTF-8\n"
	      "8:[last][row]\n");
}

/* ---- a stray quote: recovery -------------------------------------------- */

/* A 5,000-row file with one stray quote on line 37 and no other quote:
 * only line 37 is lost, every other row is read. */
static void test_stray_quote_recovers(void **state)
{
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT;

	(void)state;
	buf_adds(&in, "email,name\n");
	buf_adds(&want, "1:[email][name]\n");
	for (int i = 2; i <= 5001; i++) {
		buf_addf(&in, "u%d@example.org,%sName %d\n", i,
			 i == 37 ? "\"" : "", i);
		if (i == 37)
			buf_adds(&want, "37:E:record spans more than 100 lines "
				 "on line 137 (the quote opened on line 37 may "
				 "be stray: lines 38-137 are read again)\n");
		else
			buf_addf(&want, "%d:[u%d@example.org][Name %d]\n", i,
				 i, i);
	}
	render(in.data, in.len, &got);
	assert_string_equal(got.data, want.data);
	buf_release(&in);
	buf_release(&want);
	buf_release(&got);
}

static void test_stray_quote_closed_by_another(void **state)
{
	(void)state;
	/* the stray quote of line 2 is closed by line 4's opening quote */
	check("h,n\n1,\"stray\n2,ok\n3,\"Quoted, x\"\n4,z\n",
	      "1:[h][n]\n"
	      "2:E:text after a closing quote on line 4 (the quote opened "
	      "on line 2 may be stray: lines 3-4 are read again)\n"
	      "3:[2][ok]\n4:[3][Quoted, x]\n5:[4][z]\n");
	/* the last field spanning lines is the suspect, not the first */
	check("\"a\nb\",\"c\nd\"x\ne\n",
	      "1:2:E:text after a closing quote on line 3 (the quote opened "
	      "on line 2 may be stray: lines 3-3 are read again)\n"
	      "3:E:quote inside an unquoted field\n4:[e]\n");
}

static void test_expected_fields(void **state)
{
	struct opts two = { 2, 0, 0 };
	struct buf got = BUF_INIT;
	static const char in[] = "a,b\n1,\"x\n2,y\",w\n3,\"z\nz\"\n4,\"q\"\n";

	(void)state;
	/* a record of several lines with 3 fields: its quote was stray;
	 * one line with the wrong count is the caller's business */
	render_opts(in, sizeof(in) - 1, &got, two);
	assert_string_equal(got.data,
		"1:[a][b]\n"
		"2:E:record of lines 2-3 has 3 fields, expected 2 (the quote "
		"opened on line 2 may be stray: lines 3-3 are read again)\n"
		"3:E:quote inside an unquoted field\n"
		"4:5:[3][z\nz]\n6:[4][q]\n");
	buf_release(&got);
	buf_reset(&got);
	check("a,b\n1,\"x\n2,y\",w\n",
	      "1:[a][b]\n2:3:[1][x\n2,y][w]\n");	/* no check asked */
}

static void test_limits(void **state)
{
	static const char three[] = "\"1\n2\n3\",x\nok\n";
	struct buf in = BUF_INIT, got = BUF_INIT;

	(void)state;
	check(three, "1:3:[1\n2\n3][x]\n4:[ok]\n");
	render_opts(three, sizeof(three) - 1, &got, (struct opts){ 0, 2, 100 });
	assert_string_equal(got.data,
		"1:E:record spans more than 2 lines on line 3 (the quote "
		"opened on line 1 may be stray: lines 2-3 are read again)\n"
		"2:[2]\n3:E:quote inside an unquoted field\n4:[ok]\n");
	/* one line over the byte limit is skipped, memory stays bounded */
	buf_reset(&got);
	buf_addchars(&in, 'x', (1 << 20) + 10);
	buf_adds(&in, "\nok\n");
	render(in.data, in.len, &got);
	assert_string_equal(got.data,
		"1:E:record longer than 1048576 bytes\n2:[ok]\n");
	buf_release(&in);
	buf_release(&got);
}

/* csv_resync: the caller decides the record's shape is wrong. */
static void test_resync(void **state)
{
	static const char in[] = "1,\"Bob\n2,Carol\"\n3,Dan\n";
	FILE *f = input(in, sizeof(in) - 1);
	struct csv_reader *r = csv_reader_new(f);
	struct csv_record rec;
	const char *why;

	(void)state;
	assert_int_equal(csv_read(r, &rec, &why), 1);
	assert_int_equal(rec.line, 1);
	assert_int_equal(rec.last, 2);
	assert_string_equal(rec.fields[1], "Bob\n2,Carol");
	assert_int_equal(csv_resync(r), 1);
	assert_int_equal(csv_read(r, &rec, &why), -1);	/* 2,Carol" */
	assert_int_equal(rec.line, 2);
	assert_string_equal(why, "quote inside an unquoted field");
	assert_int_equal(csv_read(r, &rec, &why), 1);
	assert_int_equal(rec.line, 3);
	assert_string_equal(rec.fields[1], "Dan");
	assert_int_equal(csv_read(r, &rec, &why), 0);
	assert_int_equal(csv_lines(r), 3);
	csv_free(r);
	fclose(f);
}

static long lines_of(const char *data, size_t len)
{
	FILE *f = input(data, len ? len : 1);
	struct csv_reader *r = csv_reader_new(f);
	struct csv_record rec;
	const char *why;
	long n;

	if (!len)	/* tmpfile of one byte, truncated back to empty */
		assert_int_equal(ftruncate(fileno(f), 0), 0);
	while (csv_read(r, &rec, &why))
		;
	n = csv_lines(r);
	csv_free(r);
	fclose(f);
	return n;
}

static void test_line_count(void **state)
{
	(void)state;
	assert_int_equal(lines_of("", 0), 0);
	assert_int_equal(lines_of("a", 1), 1);
	assert_int_equal(lines_of("a\nb", 3), 2);
	assert_int_equal(lines_of("a\nb\n", 4), 2);
	assert_int_equal(lines_of("\n\n", 2), 2);
	assert_int_equal(lines_of("a\r\nb\r\n", 6), 2);
	assert_int_equal(lines_of("\xef\xbb\xbf", 3), 0);
	assert_int_equal(lines_of("\"x\ny\"\n\"bad\n", 11), 3);
}

/* ---- records longer than the reader's chunk ----------------------------- */

static void test_long_fields(void **state)
{
	size_t n = 200 * 1000;
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	char *big = malloc(n);

	(void)state;
	for (size_t i = 0; i < n; i++)
		big[i] = "abc,\"\n"[i % 6];
	/* quoted: commas, doubled quotes and line breaks across chunks */
	buf_adds(&in, "id,\"");
	for (size_t i = 0; i < n; i++) {
		buf_addch(&in, big[i]);
		if (big[i] == '"')
			buf_addch(&in, '"');
	}
	buf_adds(&in, "\",z\n");
	/* unquoted: plain letters */
	buf_adds(&in, "p,");
	buf_addchars(&in, 'q', n);
	buf_adds(&in, "\nend\n");

	buf_addf(&want, "1:%zu:[id][", 1 + n / 6);
	buf_add(&want, big, n);
	buf_adds(&want, "][z]\n");
	buf_addf(&want, "%zu:[p][", 1 + n / 6 + 1);
	buf_addchars(&want, 'q', n);
	buf_addf(&want, "]\n%zu:[end]\n", 1 + n / 6 + 2);

	/* 33,334 lines is past the default limit */
	render_opts(in.data, in.len, &got, (struct opts){ 0, 100000, 1 << 20 });
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	free(big);
	buf_release(&in);
	buf_release(&want);
	buf_release(&got);
}

/* A CRLF and a doubled quote split by the chunk boundary. */
static void test_chunk_edges(void **state)
{
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT;

	(void)state;
	buf_addchars(&in, 'a', CHUNK - 1);	/* '\r' is the chunk's last byte */
	buf_adds(&in, "\r\nb\r\n");
	buf_addchars(&want, 'a', CHUNK - 1);
	buf_adds(&want, "]\n2:[b]\n");
	render(in.data, in.len, &got);
	assert_string_equal(got.data + 3, want.data);

	buf_reset(&in);
	buf_reset(&got);
	buf_addch(&in, '"');
	buf_addchars(&in, 'a', CHUNK - 2);	/* the "" straddles the edge */
	buf_adds(&in, "\"\"\"\nb\n");
	render(in.data, in.len, &got);
	assert_int_equal(got.len, 3 + CHUNK - 2 + 2 + 7);
	assert_memory_equal(got.data + 3 + CHUNK - 2, "\"]\n2:[b]\n", 9);
	buf_release(&in);
	buf_release(&want);
	buf_release(&got);
}

/* ---- writing ------------------------------------------------------------ */

static void field_is(const char *field, const char *want)
{
	struct buf out = BUF_INIT;

	csv_add_field(&out, field, strlen(field));
	assert_string_equal(out.data, want);
	buf_release(&out);
}

static void test_writer_quoting(void **state)
{
	(void)state;
	field_is("plain", "plain");
	field_is("mid space", "mid space");
	field_is("", "");
	field_is("a,b", "\"a,b\"");
	field_is("say \"hi\"", "\"say \"\"hi\"\"\"");
	field_is("\"", "\"\"\"\"");
	field_is("a\nb", "\"a\nb\"");
	field_is("a\rb", "\"a\rb\"");
	field_is(" lead", "\" lead\"");
	field_is("trail ", "\"trail \"");
	field_is("张三", "张三");
	/* a leading U+FEFF would be read as a byte order mark */
	field_is("\xef\xbb\xbfx", "\"\xef\xbb\xbfx\"");
	field_is("x\xef\xbb\xbf", "x\xef\xbb\xbf");
}

static void test_writer_records(void **state)
{
	const char *rec[] = { "a", "b,c", "" };
	const char *lone[] = { "" };
	struct buf out = BUF_INIT;

	(void)state;
	csv_add_record(&out, rec, 3);
	assert_string_equal(out.data, "a,\"b,c\",\r\n");
	buf_reset(&out);
	/* A lone empty field is quoted, or it would read as an empty line. */
	csv_add_record(&out, lone, 1);
	assert_string_equal(out.data, "\"\"\r\n");
	buf_release(&out);
}

static void test_round_trip(void **state)
{
	static const char *const rows[][4] = {
		{ "email", "name", "note", "" },
		{ "a@example.org", "Lovelace, Ada", "say \"hi\"", " padded " },
		{ "b@example.org", "multi\nline\r\nbreaks\rhere", "", "," },
		{ "c@example.org", "emoji 😀 👩‍👩‍👧 🇪🇺", "مرحبا بالعالم", "\"" },
		{ "d@example.org", "עברית and English", "張三 李四", "\"\",\"\"" },
	};
	size_t nrows = sizeof(rows) / sizeof(rows[0]);
	struct buf out = BUF_INIT;
	struct csv_reader *r;
	struct csv_record rec;
	const char *why;
	FILE *f;

	(void)state;
	for (size_t i = 0; i < nrows; i++)
		csv_add_record(&out, rows[i], 4);
	f = input(out.data, out.len);
	r = csv_reader_new(f);
	for (size_t i = 0; i < nrows; i++) {
		assert_int_equal(csv_read(r, &rec, &why), 1);
		assert_int_equal(rec.nfields, 4);
		for (size_t j = 0; j < 4; j++) {
			assert_int_equal(rec.lens[j], strlen(rows[i][j]));
			assert_string_equal(rec.fields[j], rows[i][j]);
		}
	}
	assert_int_equal(csv_read(r, &rec, &why), 0);
	csv_free(r);
	fclose(f);
	buf_release(&out);
}

/* Writer, spec-style: the fields of a record and the exact line. */
static void test_writer_table(void **state)
{
	static const struct {
		size_t      n;
		const char *fields[3];
		const char *want;
	} cases[] = {
		{ 0, { NULL }, "\r\n" },
		{ 1, { "a" }, "a\r\n" },
		{ 1, { "" }, "\"\"\r\n" },
		{ 1, { " " }, "\" \"\r\n" },
		{ 1, { "a,b" }, "\"a,b\"\r\n" },
		{ 2, { "", "" }, ",\r\n" },
		{ 2, { "", "a" }, ",a\r\n" },
		{ 2, { "a", "" }, "a,\r\n" },
		{ 3, { "", "", "" }, ",,\r\n" },
		{ 3, { "", "b c", "\"" }, ",b c,\"\"\"\"\r\n" },
		{ 2, { "a\"", "\"b" }, "\"a\"\"\",\"\"\"b\"\r\n" },
		{ 1, { "a\"\"b" }, "\"a\"\"\"\"b\"\r\n" },
		{ 2, { "x ", " y" }, "\"x \",\" y\"\r\n" },
		{ 1, { "a\r\nb" }, "\"a\r\nb\"\r\n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out = BUF_INIT;

		csv_add_record(&out, cases[i].fields, cases[i].n);
		if (strcmp(out.data, cases[i].want)) {
			print_error("writer case %zu: got \"%s\", want \"%s\"\n",
				    i, out.data, cases[i].want);
			fail();
		}
		buf_release(&out);
	}
}

/* ---- edges, spec-style -------------------------------------------------- */

/* NUL bytes where a record or a field may end. */
static void test_nul_edges(void **state)
{
	(void)state;
	check("\"a\"\0b\nc\n", "1:E:text after a closing quote\n2:[c]\n");
	check("\0a\nb\n", "1:E:NUL byte\n2:[b]\n");
}

/* Each chunk is read afresh: a BOM only counts at the file's start, a
 * line end may be a chunk's first byte, and nothing of the previous
 * chunk is read again. */
static void test_chunk_starts(void **state)
{
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT;

	(void)state;
	buf_addchars(&in, 'a', CHUNK - 1);
	buf_adds(&in, "\n\xef\xbb\xbf" "b\n");
	buf_adds(&want, "1:[");
	buf_addchars(&want, 'a', CHUNK - 1);
	buf_adds(&want, "]\n2:[\xef\xbb\xbf" "b]\n");
	render(in.data, in.len, &got);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);

	/* a malformed line whose line end opens the next chunk */
	buf_reset(&in);
	buf_reset(&got);
	buf_adds(&in, "a\"");
	buf_addchars(&in, 'x', CHUNK - 2);
	buf_adds(&in, "\nok\n");
	render(in.data, in.len, &got);
	assert_string_equal(got.data, "1:E:quote inside an unquoted field\n2:[ok]\n");

	/* a short last chunk after a full one */
	buf_reset(&in);
	buf_reset(&want);
	buf_reset(&got);
	buf_addchars(&in, 'b', CHUNK - 1);
	buf_adds(&in, "\ny,x");
	buf_adds(&want, "1:[");
	buf_addchars(&want, 'b', CHUNK - 1);
	buf_adds(&want, "]\n2:[y][x]\n");
	render(in.data, in.len, &got);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	buf_release(&in);
	buf_release(&want);
	buf_release(&got);
}

/* After the end or a malformed record, rec holds no fields. */
static void test_no_fields_without_a_record(void **state)
{
	FILE *f = input("a,b\n\"x\n", 7);
	struct csv_reader *r = csv_reader_new(f);
	struct csv_record rec;
	const char *why;

	(void)state;
	assert_int_equal(csv_read(r, &rec, &why), 1);
	assert_int_equal(rec.nfields, 2);
	assert_int_equal(csv_read(r, &rec, &why), -1);
	assert_int_equal(rec.nfields, 0);
	assert_int_equal(csv_read(r, &rec, &why), 0);
	assert_int_equal(rec.nfields, 0);
	csv_free(r);
	csv_free(NULL);
	fclose(f);
}

/* csv_add_field reads len bytes, not up to a NUL. */
static void test_writer_reads_len_bytes(void **state)
{
	static const struct { const char *field; size_t len; const char *want; } cases[] = {
		{ "a,b", 1, "a" },
		{ "a b ", 3, "a b" },
		{ " a", 0, "" },
		{ "a\"", 1, "a" },
		{ "\"a\"", 2, "\"\"\"a\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out = BUF_INIT;

		csv_add_field(&out, cases[i].field, cases[i].len);
		if (strcmp(out.data, cases[i].want)) {
			print_error("field case %zu: got \"%s\", want \"%s\"\n",
				    i, out.data, cases[i].want);
			fail();
		}
		buf_release(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_embedded_line_breaks),
		cmocka_unit_test(test_empty_fields),
		cmocka_unit_test(test_empty_lines),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_quote_in_unquoted_field),
		cmocka_unit_test(test_text_after_closing_quote),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_many_errors_keep_line_numbers),
		cmocka_unit_test(test_stray_quote_recovers),
		cmocka_unit_test(test_stray_quote_closed_by_another),
		cmocka_unit_test(test_expected_fields),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_line_count),
		cmocka_unit_test(test_long_fields),
		cmocka_unit_test(test_chunk_edges),
		cmocka_unit_test(test_writer_quoting),
		cmocka_unit_test(test_writer_records),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_writer_table),
		cmocka_unit_test(test_nul_edges),
		cmocka_unit_test(test_chunk_starts),
		cmocka_unit_test(test_no_fields_without_a_record),
		cmocka_unit_test(test_writer_reads_len_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
