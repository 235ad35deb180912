/*
 * theme.ini and labels-LANG.ini through the shared INI reader: long
 * style lines read whole, bad files refused with FILE:LINE and one exact
 * message, each file holding only its own section.
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
static char labels_path[] = "/tmp/bulletin-labels-XXXXXX";

static void write_to(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void write_theme(const char *text)
{
	write_to(path, text);
}

/* Loads text as the theme (labels = 0) or, over an empty style, as the
 * labels; returns whether it was accepted. */
static int load(const char *text, int labels)
{
	struct theme *t;
	int ok;

	write_theme(labels ? "[style]\n" : text);
	write_to(labels_path, text);
	t = theme_load(path);
	ok = t && (!labels || !theme_load_labels(t, labels_path));
	theme_free(t);
	return ok;
}

/* Loads the theme or the labels, which must fail, and checks its one
 * message. */
static void assert_refused_as(const char *text, int labels, const char *want)
{
	struct buf expected = BUF_INIT;
	int saved;
	FILE *tmp;
	char *got;

	tmp = capture_start(&saved);
	assert_false(load(text, labels));
	got = capture_end(tmp, saved);
	buf_addf(&expected, "bulletin: error: %s%s\n",
		 labels ? labels_path : path, want);
	assert_string_equal(got, expected.data);
	buf_release(&expected);
	free(got);
}

static void assert_refused(const char *text, const char *want)
{
	assert_refused_as(text, 0, want);
}

/* inih cut lines at 200 bytes; a style of 1,000 bytes comes back whole. */
static void test_long_style(void **state)
{
	struct buf style = BUF_INIT, text = BUF_INIT;
	struct theme *t;

	(void)state;
	while (style.len < 1000)
		buf_adds(&style, "margin:0 0 16px;font-family:Georgia,serif;");
	buf_addf(&text, "; comment\r\n[style]\r\np = %s\r\n", style.data);
	write_theme(text.data);
	write_to(labels_path, "[labels]\r\ncode = 代码\r\n");
	t = theme_load(path);
	assert_non_null(t);
	assert_string_equal(theme_label(t, "code"), "code");
	assert_int_equal(theme_load_labels(t, labels_path), 0);
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
		       "[style])");
	assert_refused("[style]\n[labels]\ncode = x\n", ":2: unknown section "
		       "[labels] (expected [style]: the labels live in "
		       "labels-LANG.ini)");
	assert_refused_as("[style]\np = margin:0\n", 1, ":1: unknown section "
			  "[style] (expected [labels])");
	assert_refused("[style]\np = font-family:\"Noto\"\n",
		       ":2: no double quotes in styles");
	assert_refused("p = margin:0\n", ":1: key 'p' comes before any [section]");
	assert_refused("[style]\np margin:0\n", ":2: expected [section] or key = value");
	assert_refused_as("[labels]\ncode = \x1b[31m\n", 1,
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
	int fd = mkstemp(path), fd2 = mkstemp(labels_path), ret;

	if (fd < 0 || fd2 < 0)
		return 1;
	close(fd);
	close(fd2);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	unlink(labels_path);
	return ret;
}
