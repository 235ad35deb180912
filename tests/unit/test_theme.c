/*
 * theme.ini through the shared INI reader: long style lines read whole,
 * bad files refused with THEME:LINE and one exact message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "buf.h"
#include "theme.h"

static char path[] = "/tmp/bulletin-theme-XXXXXX";

static void write_theme(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Loads the theme, which must fail, and checks its one message. */
static void assert_refused(const char *text, const char *want)
{
	struct buf expected = BUF_INIT;
	int saved;
	FILE *tmp;
	char *got;

	write_theme(text);
	tmp = capture_start(&saved);
	assert_null(theme_load(path));
	got = capture_end(tmp, saved);
	buf_addf(&expected, "bulletin: error: %s%s\n", path, want);
	assert_string_equal(got, expected.data);
	buf_release(&expected);
	free(got);
}

/* inih cut lines at 200 bytes; a style of 1,000 bytes comes back whole. */
static void test_long_style(void **state)
{
	struct buf style = BUF_INIT, text = BUF_INIT;
	struct theme *t;

	(void)state;
	while (style.len < 1000)
		buf_adds(&style, "margin:0 0 16px;font-family:Georgia,serif;");
	buf_addf(&text, "; comment\r\n[style]\r\np = %s\r\n[labels]\r\ncode = 代码\r\n",
		 style.data);
	write_theme(text.data);
	t = theme_load(path);
	assert_non_null(t);
	assert_string_equal(theme_style(t, "p"), style.data);
	assert_string_equal(theme_label(t, "code"), "代码");
	assert_string_equal(theme_style(t, "h1"), "");
	theme_free(t);
	buf_release(&style);
	buf_release(&text);
}

static void test_refused(void **state)
{
	struct buf text = BUF_INIT;

	(void)state;
	assert_refused("[colours]\n", ":1: unknown section [colours] (expected "
		       "[style] or [labels])");
	assert_refused("[style]\np = font-family:\"Noto\"\n",
		       ":2: no double quotes in styles");
	assert_refused("p = margin:0\n", ":1: key 'p' comes before any [section]");
	assert_refused("[style]\np margin:0\n", ":2: expected [section] or key = value");
	assert_refused("[labels]\ncode = \x1b[31m\n",
		       ":2: bad line: control characters are not allowed");
	buf_adds(&text, "[style]\np = ");
	buf_addchars(&text, 'x', 4100);
	assert_refused(text.data, ":2: bad line: longer than 4096 bytes");
	buf_release(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_style),
		cmocka_unit_test(test_refused),
	};
	int fd = mkstemp(path), ret;

	if (fd < 0)
		return 1;
	close(fd);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return ret;
}
