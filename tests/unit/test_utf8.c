/* utf8.c: strict decoding and display widths. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "utf8.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct seq {
	const char *bytes;
	size_t      len;
	uint32_t    cp;	/* expected code point when valid */
	const char *what;
};

static const struct seq valid[] = {
	{ "A", 1, 0x41, "ASCII" },
	{ "\x7f", 1, 0x7f, "DEL" },
	{ "\xc2\x80", 2, 0x80, "smallest two-byte" },
	{ "\xc3\xa9", 2, 0xe9, "e acute" },
	{ "\xdf\xbf", 2, 0x7ff, "largest two-byte" },
	{ "\xe0\xa0\x80", 3, 0x800, "smallest three-byte" },
	{ "\xe4\xb8\xad", 3, 0x4e2d, "CJK ideograph" },
	{ "\xed\x9f\xbf", 3, 0xd7ff, "just below the surrogates" },
	{ "\xee\x80\x80", 3, 0xe000, "just above the surrogates" },
	{ "\xef\xbf\xbf", 3, 0xffff, "largest three-byte" },
	{ "\xf0\x90\x80\x80", 4, 0x10000, "smallest four-byte" },
	{ "\xf0\x9f\x98\x80", 4, 0x1f600, "emoji" },
	{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff, "largest code point" },
};

static const struct seq invalid[] = {
	{ "\xc0\x80", 2, 0, "overlong NUL" },
	{ "\xc1\xbf", 2, 0, "overlong two-byte" },
	{ "\xe0\x80\x80", 3, 0, "overlong three-byte NUL" },
	{ "\xe0\x9f\xbf", 3, 0, "overlong U+07FF" },
	{ "\xf0\x80\x80\x80", 4, 0, "overlong four-byte NUL" },
	{ "\xf0\x8f\xbf\xbf", 4, 0, "overlong U+FFFF" },
	{ "\xed\xa0\x80", 3, 0, "high surrogate U+D800" },
	{ "\xed\xbf\xbf", 3, 0, "low surrogate U+DFFF" },
	{ "\xf4\x90\x80\x80", 4, 0, "U+110000" },
	{ "\xf5\x80\x80\x80", 4, 0, "lead byte F5" },
	{ "\xff", 1, 0, "byte FF" },
	{ "\x80", 1, 0, "stray continuation 80" },
	{ "\xbf", 1, 0, "stray continuation BF" },
	{ "\xc3", 1, 0, "truncated two-byte" },
	{ "\xe4\xb8", 2, 0, "truncated three-byte" },
	{ "\xf0\x9f\x98", 3, 0, "truncated four-byte" },
	{ "\xc3\x41", 2, 0, "ASCII where a continuation belongs" },
	{ "\xe4\x41\xad", 3, 0, "ASCII inside a three-byte sequence" },
	{ "\xf0\x9f\x98\xc3", 4, 0, "lead byte inside a four-byte sequence" },
};

/* What a terminal would act on comes out visible; the rest unchanged. */
static void escape_controls_for_terminals(void **state)
{
	static const char *const cases[][2] = {
		{ "plain text", "plain text" },
		{ "Zoë 李小龍 محمد 🦊", "Zoë 李小龍 محمد 🦊" },
		{ "back\\slash \"quoted\"", "back\\slash \"quoted\"" },
		{ "\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m" },
		{ "bell\a tab\t nl\n cr\r", "bell\\x07 tab\\t nl\\n cr\\r" },
		{ "del\x7f", "del\\x7f" },
		/* C1: U+009B is CSI for terminals that read 8-bit controls */
		{ "\xc2\x9b" "2J \xc2\x85", "\\u009b2J \\u0085" },
		/* U+00A0 is the first printable code point after C1 */
		{ "\xc2\xa0", "\xc2\xa0" },
		/* invalid UTF-8: each bad byte */
		{ "a\xff\xc3(", "a\\xff\\xc3(" },
	};
	struct buf out = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&out);
		utf8_escape_controls(&out, cases[i][0], strlen(cases[i][0]));
		assert_string_equal(out.data, cases[i][1]);
	}
	/* n bytes, not up to a NUL */
	buf_reset(&out);
	utf8_escape_controls(&out, "a\0b", 3);
	assert_int_equal(out.len, 6);
	assert_memory_equal(out.data, "a\\x00b", 6);
	buf_release(&out);
}

static void decode_accepts_valid_sequences(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(valid); i++) {
		uint32_t cp = 0;
		size_t n = utf8_decode(valid[i].bytes, valid[i].len, &cp);

		if (n != valid[i].len || cp != valid[i].cp)
			fail_msg("%s: length %zu, U+%04X", valid[i].what, n,
				 (unsigned)cp);
		assert_true(utf8_valid(valid[i].bytes, valid[i].len));
	}
}

static void decode_rejects_invalid_sequences(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(invalid); i++) {
		uint32_t cp = 0;

		if (utf8_decode(invalid[i].bytes, invalid[i].len, &cp))
			fail_msg("%s: accepted", invalid[i].what);
		if (utf8_valid(invalid[i].bytes, invalid[i].len))
			fail_msg("%s: valid", invalid[i].what);
	}
}

static void decode_reads_no_further_than_n(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(utf8_decode("", 0, &cp), 0);
	/* A whole sequence that n cuts short is truncated. */
	assert_int_equal(utf8_decode("\xe4\xb8\xad", 2, &cp), 0);
	assert_int_equal(utf8_decode("ab", 2, &cp), 1);
	assert_int_equal(cp, 'a');
}

static void valid_checks_whole_strings(void **state)
{
	static const char mixed[] = "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 "
				    "\xf0\x9f\x98\x80";

	(void)state;
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid(mixed, strlen(mixed)));
	assert_false(utf8_valid("ab\x80" "cd", 5));
	assert_false(utf8_valid("abc\xe4\xb8", 5));
	/* A NUL is a valid character: n, not the terminator, is the end. */
	assert_true(utf8_valid("a\0b", 3));
}

struct width_case {
	uint32_t cp;
	int      width;
	const char *what;
};

static const struct width_case widths[] = {
	{ 'a', 1, "ASCII letter" },
	{ ' ', 1, "space" },
	{ 0x00, 0, "NUL" },
	{ '\t', 0, "tab (a control)" },
	{ 0x1b, 0, "ESC" },
	{ 0x7f, 0, "DEL" },
	{ 0x85, 0, "C1 control NEL" },
	{ 0xa0, 1, "no-break space" },
	{ 0xad, 1, "soft hyphen" },
	{ 0xe9, 1, "e acute" },
	{ 0x0301, 0, "combining acute" },
	{ 0x0483, 0, "combining Cyrillic titlo" },
	{ 0x05b0, 0, "Hebrew point sheva" },
	{ 0x20dd, 0, "combining enclosing circle" },
	{ 0x200b, 0, "zero width space" },
	{ 0x200d, 0, "zero width joiner" },
	{ 0x2028, 0, "line separator" },
	{ 0x2060, 0, "word joiner" },
	{ 0xfe0f, 0, "variation selector 16" },
	{ 0xfe20, 0, "combining ligature left half" },
	{ 0xfeff, 0, "byte order mark" },
	{ 0xe0100, 0, "variation selector 17" },
	{ 0x1160, 0, "hangul jungseong filler" },
	{ 0x0600, 1, "Arabic number sign (visible)" },
	{ 0x4e2d, 2, "CJK ideograph" },
	{ 0x3002, 2, "ideographic full stop" },
	{ 0xff0c, 2, "fullwidth comma" },
	{ 0xff61, 1, "halfwidth ideographic full stop" },
	{ 0x3042, 2, "hiragana a" },
	{ 0x30a2, 2, "katakana a" },
	{ 0xd55c, 2, "hangul syllable han" },
	{ 0x1100, 2, "hangul choseong" },
	{ 0x3099, 0, "combining kana voiced mark" },
	{ 0x20000, 2, "CJK extension B" },
	{ 0x2fffd, 2, "unassigned in plane 2" },
	{ 0x1f600, 2, "grinning face" },
	{ 0x1f44d, 2, "thumbs up" },
	{ 0x1f680, 2, "rocket" },
	{ 0x1f90d, 2, "white heart" },
	{ 0x231a, 2, "watch" },
	{ 0x2705, 2, "check mark button" },
	{ 0x2b50, 2, "star" },
	{ 0x1f004, 2, "mahjong red dragon" },
	{ 0x1f1e6, 1, "regional indicator A" },
	{ 0x2764, 1, "heavy black heart (text presentation)" },
	{ 0x263a, 1, "white smiling face (text presentation)" },
	{ 0x2190, 1, "leftwards arrow" },
	{ 0x0416, 1, "Cyrillic Zhe" },
	{ 0xfffd, 1, "replacement character" },
};

static void cp_width_follows_unicode(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(widths); i++) {
		int w = utf8_cp_width(widths[i].cp);

		if (w != widths[i].width)
			fail_msg("U+%04X %s: width %d, want %d",
				 (unsigned)widths[i].cp, widths[i].what, w,
				 widths[i].width);
	}
}

static size_t sw(const char *s)
{
	return utf8_width(s, strlen(s));
}

static void width_of_strings_adds_up(void **state)
{
	(void)state;
	assert_int_equal(sw(""), 0);
	assert_int_equal(sw("hello"), 5);
	assert_int_equal(sw("caf\xc3\xa9"), 4);
	assert_int_equal(sw("cafe\xcc\x81"), 4);	/* e + combining acute */
	assert_int_equal(sw("\xe4\xb8\xad\xe6\x96\x87"), 4);	/* 中文 */
	assert_int_equal(sw("\xe4\xb8\xad\xef\xbc\x8c" "abc"), 7);	/* 中，abc */
	assert_int_equal(sw("\xed\x95\x9c\xea\xb5\xad"), 4);	/* 한국 */
	assert_int_equal(sw("ok \xf0\x9f\x98\x80!"), 6);	/* ok 😀! */
	assert_int_equal(sw("\xe2\x9d\xa4\xef\xb8\x8f"), 1);	/* ❤ VS16 */
	/* 👨‍👩: each person counts, the ZWJ does not */
	assert_int_equal(sw("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9"), 4);
	/* an invalid byte takes one column, like the U+FFFD shown for it */
	assert_int_equal(sw("a\xff" "b"), 3);
	assert_int_equal(sw("\xe4\xb8"), 2);
}

/* Widths at the edges of the control ranges and of the tables' ranges. */
static const struct width_case edges[] = {
	{ 0x1f, 0, "last C0 control" },
	{ 0x20, 1, "first printable" },
	{ 0x7e, 1, "tilde" },
	{ 0x9f, 0, "last C1 control" },
	{ 0x2ff, 1, "last before the combining marks" },
	{ 0x300, 0, "first combining mark (first zero-width range)" },
	{ 0x36f, 0, "end of the first zero-width range" },
	{ 0x370, 1, "just after it" },
	{ 0x0489, 0, "end of the second zero-width range" },
	{ 0x048a, 1, "just after it" },
	{ 0x10ff, 1, "just before the first wide range" },
	{ 0x115f, 2, "end of the first wide range" },
	{ 0x231b, 2, "end of the second wide range" },
	{ 0x231c, 1, "just after it" },
	{ 0x2319, 1, "just before it" },
	{ 0x23f0, 2, "a one-point wide range" },
	{ 0x23f1, 1, "just after it" },
	{ 0xe0000, 1, "just before the last zero-width range" },
	{ 0xe0001, 0, "start of the last zero-width range" },
	{ 0xe01ef, 0, "end of the last zero-width range" },
	{ 0xe01f0, 1, "past every zero-width range" },
	{ 0x1ffff, 1, "just before the last wide range" },
	{ 0x3fffd, 2, "end of the last wide range" },
	{ 0x3fffe, 1, "past every wide range" },
	{ 0x10ffff, 1, "last code point" },
};

static void cp_width_at_range_edges(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(edges); i++) {
		int w = utf8_cp_width(edges[i].cp);

		if (w != edges[i].width)
			fail_msg("U+%04X %s: width %d, want %d",
				 (unsigned)edges[i].cp, edges[i].what, w,
				 edges[i].width);
	}
}

/* utf8_valid reads ASCII eight bytes at a time: bad bytes at every
 * place around those words. */
static void valid_around_eight_byte_words(void **state)
{
	static const struct { const char *s; int valid; } cases[] = {
		{ "abcdefgh", 1 },
		{ "abcdefg\xff", 0 },
		{ "\xff" "abcdefg", 0 },
		{ "abcdefgh\xff", 0 },
		{ "\x80" "abcdefghijklmnop", 0 },
		{ "abcdefghijklmnop\x80", 0 },
		{ "abcdefg\xc3\xa9", 1 },
		{ "abcdefgh\xc3\xa9", 1 },
		{ "abcdefgh\xe4\xb8", 0 },
		{ "\xe4\xb8\xad" "abcdefgh\xe4\xb8\xad", 1 },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 1 },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3", 0 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		if (utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].valid)
			fail_msg("case %zu: valid is not %d", i, cases[i].valid);
}

/* Widths of strings, exactly, with invalid and zero-width bytes. */
static void width_table(void **state)
{
	static const struct { const char *s; size_t len, width; } cases[] = {
		{ "\xff\xfe", 2, 2 },
		{ "\xe4\xb8\xad", 2, 2 },	/* cut short: two bad bytes */
		{ "\xe4\xb8\xad", 3, 2 },
		{ "a\xcc\x81\xcc\x81", 5, 1 },
		{ "\x01\x02", 2, 0 },
		{ "a\0b", 3, 2 },
		{ "\xf0\x9f\x98\x80\xe4\xb8", 6, 4 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		if (utf8_width(cases[i].s, cases[i].len) != cases[i].width)
			fail_msg("case %zu: width %zu, want %zu", i,
				 utf8_width(cases[i].s, cases[i].len),
				 cases[i].width);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_accepts_valid_sequences),
		cmocka_unit_test(decode_rejects_invalid_sequences),
		cmocka_unit_test(decode_reads_no_further_than_n),
		cmocka_unit_test(valid_checks_whole_strings),
		cmocka_unit_test(cp_width_follows_unicode),
		cmocka_unit_test(width_of_strings_adds_up),
		cmocka_unit_test(escape_controls_for_terminals),
		cmocka_unit_test(cp_width_at_range_edges),
		cmocka_unit_test(valid_around_eight_byte_words),
		cmocka_unit_test(width_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
