/* wrap.c: filling lines by display width, with the CJK line-breaking rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"
#include "wrap.h"

/* Wraps text and returns what wrap_paragraph() appended, to free(). */
static char *wrap(const char *text, size_t width, const char *first,
		  const char *rest)
{
	struct buf out = BUF_INIT;

	wrap_paragraph(&out, text, strlen(text), width, first, rest);
	return buf_detach(&out, NULL);
}

/* The lines of s, each without its "\n", which every line must have. */
struct lines {
	char  *text[64];
	size_t n;
};

static void split_lines(char *s, struct lines *l)
{
	char *nl;

	l->n = 0;
	while (*s) {
		nl = strchr(s, '\n');
		assert_non_null(nl);	/* the last line ends in "\n" too */
		assert_true(l->n < 64);
		*nl = '\0';
		l->text[l->n++] = s;
		s = nl + 1;
	}
}

static size_t sw(const char *s)
{
	return utf8_width(s, strlen(s));
}

static int starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* No line is blank, wider than width, or begins or ends with a space. */
static void assert_tidy(const struct lines *l, size_t width)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *s = l->text[i];

		if (!*s || s[0] == ' ' || ends_with(s, " "))
			fail_msg("line %zu badly trimmed: '%s'", i + 1, s);
		if (sw(s) > width)
			fail_msg("line %zu is %zu columns: '%s'", i + 1,
				 sw(s), s);
	}
}

/* Joins the lines with sep into a buffer. */
static void join(const struct lines *l, const char *sep, struct buf *out)
{
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			buf_adds(out, sep);
		buf_adds(out, l->text[i]);
	}
}

static const char lorem[] =
	"Bulletin is a small program that composes a monthly digest from a\n"
	"folder of Markdown files and sends it to a list of subscribers.\n"
	"It renders  every issue twice, as HTML for the mail clients that\n"
	"show it and as plain text for those that do not, and the text part\n"
	"is wrapped by display width so that it reads well in a fixed-width\n"
	"font.\tNothing in this paragraph is longer than a line, so every\n"
	"word should survive the wrapping exactly as it was written here.";

static void ascii_fills_lines_and_keeps_words(void **state)
{
	struct buf words = BUF_INIT, joined = BUF_INIT;
	char *out = wrap(lorem, 72, "", ""), *w;
	struct lines l;

	(void)state;
	split_lines(out, &l);
	assert_true(l.n >= 5);
	assert_tidy(&l, 72);
	/* Greedy: the next line's first word would not have fitted. */
	for (size_t i = 0; i + 1 < l.n; i++)
		assert_true(sw(l.text[i]) + 1 + strcspn(l.text[i + 1], " ") > 72);
	/* The words, re-joined, are the input's words in order. */
	buf_adds(&words, lorem);
	for (w = words.data; *w; w++)
		if (*w == '\n' || *w == '\t')
			*w = ' ';
	w = strstr(words.data, "  ");
	memmove(w, w + 1, strlen(w));
	join(&l, " ", &joined);
	assert_string_equal(joined.data, words.data);
	buf_release(&words);
	buf_release(&joined);
	free(out);
}

static const char chinese[] =
	"这份月刊汇集了本月最值得一读的文章、工具和讨论。我们希望它能够简短而有用，"
	"每一期都可以在十分钟内读完。本期的主题是文本排版：如何在等宽字体的邮件"
	"客户端里正确地折行，如何处理中文、日文和韩文的全角字符，以及为什么标点"
	"符号不应该出现在行首。传统的排版规则称为避头尾，它规定逗号、句号、问号"
	"和右括号等不能位于一行的开头，而左括号和左引号不能位于一行的末尾。许多"
	"邮件程序忽略了这些规则，结果读者常常看到孤零零的句号挂在下一行的开头，"
	"既难看又影响阅读。我们的实现采用贪心算法，逐个放置不可分割的片段。";

static void cjk_fills_lines_by_columns(void **state)
{
	struct buf joined = BUF_INIT;
	char *out = wrap(chinese, 72, "", "");
	struct lines l;

	(void)state;
	split_lines(out, &l);
	assert_true(l.n >= 5);
	assert_tidy(&l, 72);
	for (size_t i = 0; i < l.n; i++) {
		/* Only kinsoku may leave a line a character short. */
		if (i + 1 < l.n && sw(l.text[i]) < 70)
			fail_msg("line %zu is short: %zu", i + 1, sw(l.text[i]));
		assert_false(starts_with(l.text[i], "\xef\xbc\x8c"));	/* ， */
		assert_false(starts_with(l.text[i], "\xe3\x80\x82"));	/* 。 */
		assert_false(starts_with(l.text[i], "\xe3\x80\x81"));	/* 、 */
	}
	join(&l, "", &joined);
	assert_string_equal(joined.data, chinese);
	buf_release(&joined);
	free(out);
}

static void closing_punctuation_takes_its_character_along(void **state)
{
	struct buf text = BUF_INIT, want = BUF_INIT;
	char *out;

	(void)state;
	/* 36 ideographs fill 72 columns exactly; the comma after them may
	 * not start the next line, so the 36th moves down with it. */
	for (int i = 0; i < 36; i++)
		buf_adds(&text, "\xe5\xad\x97");	/* 字 */
	buf_adds(&text, "\xef\xbc\x8c\xe5\xa5\xbd\xe3\x80\x82");	/* ，好。 */
	for (int i = 0; i < 35; i++)
		buf_adds(&want, "\xe5\xad\x97");
	buf_adds(&want, "\n\xe5\xad\x97\xef\xbc\x8c\xe5\xa5\xbd\xe3\x80\x82\n");
	out = wrap(text.data, 72, "", "");
	assert_string_equal(out, want.data);
	free(out);
	buf_release(&text);
	buf_release(&want);
}

static void opening_punctuation_never_ends_a_line(void **state)
{
	/* 这是一个（测试）的例子 at 10 columns: "（" would fit after 个,
	 * but must go down with 测. */
	char *out = wrap("这是一个（测试）的例子", 10, "", "");

	(void)state;
	assert_string_equal(out, "这是一个\n（测试）的\n例子\n");
	free(out);
	out = wrap("an aside (with more words) here", 10, "", "");
	assert_string_equal(out, "an aside\n(with more\nwords)\nhere\n");
	free(out);
}

static const char mixed[] =
	"我们用Python和SQLite写了一个叫bulletin的小工具，它能把Markdown"
	"转换成HTML与纯文本两种格式，并通过SMTP发送给订阅者。详细说明见"
	"https://example.org/bulletin/docs/getting-started页面。";

static void mixed_text_keeps_latin_words_whole(void **state)
{
	static const char *const latin[] = {
		"Python", "SQLite", "bulletin", "Markdown", "HTML", "SMTP",
		"https://example.org/bulletin/docs/getting-started",
	};
	struct buf joined = BUF_INIT;
	char *out = wrap(mixed, 24, "", "");
	struct lines l;

	(void)state;
	split_lines(out, &l);
	for (size_t i = 0; i < l.n; i++) {
		/* the URL is the one thing wider than a line */
		if (strcmp(l.text[i], latin[6]))
			assert_true(sw(l.text[i]) <= 24);
		assert_false(starts_with(l.text[i], "，"));
		assert_false(starts_with(l.text[i], "。"));
	}
	for (size_t w = 0; w < sizeof(latin) / sizeof(latin[0]); w++) {
		size_t i = 0;

		while (i < l.n && !strstr(l.text[i], latin[w]))
			i++;
		if (i == l.n)
			fail_msg("'%s' was split", latin[w]);
	}
	join(&l, "", &joined);
	assert_string_equal(joined.data, mixed);
	buf_release(&joined);
	free(out);
}

static void long_url_stands_alone_and_whole(void **state)
{
	struct buf url = BUF_INIT, text = BUF_INIT, want = BUF_INIT;
	char *out;

	(void)state;
	buf_adds(&url, "https://example.org/archive/2021/03/");
	while (url.len < 150)
		buf_addch(&url, (int)('a' + url.len % 26));
	buf_addf(&text, "See %s for the details.", url.data);
	buf_addf(&want, "See\n%s\nfor the details.\n", url.data);
	out = wrap(text.data, 72, "", "");
	assert_string_equal(out, want.data);
	free(out);
	buf_release(&url);
	buf_release(&text);
	buf_release(&want);
}

static void prefixes_count_towards_the_width(void **state)
{
	char *out;

	(void)state;
	out = wrap("one two three four five six seven eight nine ten", 20,
		   "  - ", "    ");
	assert_string_equal(out,
		"  - one two three\n"
		"    four five six\n"
		"    seven eight nine\n"
		"    ten\n");
	free(out);
	out = wrap("quoted text goes on", 10, "> ", "> ");
	assert_string_equal(out, "> quoted\n> text\n> goes on\n");
	free(out);
	/* 中文 prefixes are wide too: 2 + 2 columns leave 6 for text */
	out = wrap("一二三四五六七", 10, "中：", "  ");
	assert_string_equal(out, "中：一二三\n  四五六七\n");
	free(out);
}

static void soft_break_between_cjk_disappears(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "中文\n文本", "中文文本\n" },
		{ "中文，\n  文本", "中文，文本\n" },	/* ， is wide too */
		{ "中文  文本", "中文 文本\n" },	/* no newline: a space */
		{ "中文\nEnglish", "中文 English\n" },
		{ "English\n中文", "English 中文\n" },
		{ "one\ntwo", "one two\n" },
		{ " \t lead\r\n\n trail \n", "lead trail\n" },
	};
	char *out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = wrap(cases[i].in, 72, "", "");
		assert_string_equal(out, cases[i].want);
		free(out);
	}
}

static void clusters_are_not_split(void **state)
{
	char *out;

	(void)state;
	/* 👨‍👩‍👧 is one sequence; 中́ keeps its combining mark */
	out = wrap("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
		   "\xf0\x9f\x91\xa7\xe4\xb8\xad\xcc\x81\xe6\x96\x87", 2, "", "");
	assert_string_equal(out,
		"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
		"\xf0\x9f\x91\xa7\n\xe4\xb8\xad\xcc\x81\n\xe6\x96\x87\n");
	free(out);
}

static void width_one_puts_a_segment_per_line(void **state)
{
	char *out;

	(void)state;
	out = wrap("ab cd 中文，好", 1, "", "");
	assert_string_equal(out, "ab\ncd\n中\n文，\n好\n");
	free(out);
	out = wrap("x y", 0, "> ", "> ");
	assert_string_equal(out, "> x\n> y\n");
	free(out);
}

static void invalid_utf8_passes_through(void **state)
{
	char *out = wrap("a\xff\xfe b \xe4\xb8", 72, "", "");

	(void)state;
	assert_string_equal(out, "a\xff\xfe b \xe4\xb8\n");
	free(out);
}

static void empty_paragraph_writes_nothing(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	buf_adds(&out, "kept");
	wrap_paragraph(&out, "", 0, 72, "> ", "> ");
	wrap_paragraph(&out, " \n\t \n", 5, 72, "> ", "> ");
	wrap_paragraph(&out, "ignored", 0, 72, "> ", "> ");
	assert_string_equal(out.data, "kept");
	/* and what it does write, it appends */
	wrap_paragraph(&out, "x", 1, 72, NULL, NULL);
	assert_string_equal(out.data, "keptx\n");
	buf_release(&out);
}

/*
 * Spec-style table: input (len bytes, or all of it when len is -1),
 * width, prefixes, and the exact bytes expected, NULs and length included.
 */
struct wrap_case {
	const char *text;
	int         len;
	size_t      width;
	const char *first, *rest;
	const char *want;
};

static const struct wrap_case wrap_cases[] = {
	/* '(' (first of the openers) binds to what follows it */
	{ "x ( y", -1, 3, NULL, NULL, "x\n( y\n" },
	/* '!' (first of the closers) binds to what precedes it */
	{ "x ! y", -1, 2, NULL, NULL, "x !\ny\n" },
	/* every ASCII white-space character is a word gap */
	{ "a\vb\fc\rd\te\nf", -1, 80, "", "", "a b c d e f\n" },
	/* len is obeyed: a character cut by it is not read whole */
	{ "ab\xc3\xa9", 3, 80, "", "", "ab\xc3\n" },
	/* nor is a space just past len */
	{ "a  b", 2, 80, "", "", "a\n" },
	/* a line break after a leading combining mark (no width) is a gap */
	{ "\xcc\x81\n\xe4\xb8\xad", -1, 80, "", "", "\xcc\x81 \xe4\xb8\xad\n" },
	/* a NULL prefix takes no column: exactly the width fits */
	{ "aa bb", -1, 5, NULL, NULL, "aa bb\n" },
	{ "aa bb", -1, 4, NULL, NULL, "aa\nbb\n" },
	{ "aa bb", -1, 6, "-", NULL, "-aa bb\n" },
	{ "aa bb cc", -1, 5, NULL, "--", "aa bb\n--cc\n" },
	/* a ZWJ at the very end holds nothing past the text */
	{ "a\xe2\x80\x8d", -1, 80, "", "", "a\xe2\x80\x8d\n" },
	/* wide characters: 2 columns each, a break on either side */
	{ "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", -1, 4, "", "",
	  "\xe4\xb8\xad\xe6\x96\x87\n\xe5\xad\x97\n" },
	{ "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", -1, 5, "", "",
	  "\xe4\xb8\xad\xe6\x96\x87\n\xe5\xad\x97\n" },
	{ "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", -1, 6, "", "",
	  "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\n" },
	/* a combining mark adds no column */
	{ "e\xcc\x81 ab", -1, 4, "", "", "e\xcc\x81 ab\n" },
	{ "e\xcc\x81 ab", -1, 3, "", "", "e\xcc\x81\nab\n" },
};

static void wrap_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(wrap_cases) / sizeof(wrap_cases[0]); i++) {
		const struct wrap_case *c = &wrap_cases[i];
		struct buf out = BUF_INIT;
		size_t len = c->len < 0 ? strlen(c->text) : (size_t)c->len;

		wrap_paragraph(&out, c->text, len, c->width, c->first, c->rest);
		if (out.len != strlen(c->want) || memcmp(out.data, c->want, out.len)) {
			print_error("wrap case %zu: got \"%s\" (%zu bytes), want \"%s\"\n",
				    i, out.data, out.len, c->want);
			fail();
		}
		buf_release(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ascii_fills_lines_and_keeps_words),
		cmocka_unit_test(cjk_fills_lines_by_columns),
		cmocka_unit_test(closing_punctuation_takes_its_character_along),
		cmocka_unit_test(opening_punctuation_never_ends_a_line),
		cmocka_unit_test(mixed_text_keeps_latin_words_whole),
		cmocka_unit_test(long_url_stands_alone_and_whole),
		cmocka_unit_test(prefixes_count_towards_the_width),
		cmocka_unit_test(soft_break_between_cjk_disappears),
		cmocka_unit_test(clusters_are_not_split),
		cmocka_unit_test(width_one_puts_a_segment_per_line),
		cmocka_unit_test(invalid_utf8_passes_through),
		cmocka_unit_test(empty_paragraph_writes_nothing),
		cmocka_unit_test(wrap_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
