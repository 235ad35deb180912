/* markdown.c: the HTML and text walks over one cmark tree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "markdown.h"
#include "theme.h"

static struct theme *theme;

static int setup(void **state)
{
	char path[] = "/tmp/bulletin-theme-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	fputs("[style]\np = margin:0\na = color:blue\nh3 = color:red\n", f);
	fclose(f);
	theme = theme_load(path);
	f = fopen(path, "w");
	fputs("[labels]\nimage = 图\n", f);
	fclose(f);
	if (theme && theme_load_labels(theme, path))
		return -1;
	unlink(path);
	return theme ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	theme_free(theme);
	return 0;
}

static char *render(const char *md, int html, int raw, struct md_links *links)
{
	static const struct md_image images[] = {
		{ "fig.png", "cid:img1@x.org", 536 },
	};
	struct md_opts o = { theme, images, 1, raw, 72 };
	cmark_node *doc = cmark_parse_document(md, strlen(md), CMARK_OPT_DEFAULT);
	struct buf out = BUF_INIT;

	if (html)
		md_html(&out, doc, &o);
	else
		md_text(&out, doc, &o, links);
	cmark_node_free(doc);
	return buf_detach(&out, NULL);
}

static void test_html_inline_styles(void **state)
{
	char *s = render("### 为什么\n\n读 [论文](https://a.org/?x=1&y=\"2\")。\n", 1, 0, NULL);

	(void)state;
	assert_string_equal(s,
		"<h3 style=\"color:red\">为什么</h3>\n"
		"<p style=\"margin:0\">读 <a href=\"https://a.org/?x=1&amp;y=&quot;2&quot;\" "
		"style=\"color:blue\">论文</a>。</p>\n");
	free(s);
}

static void test_html_image(void **state)
{
	char *s = render("![一张 \"图\"](fig.png)\n", 1, 0, NULL);

	(void)state;
	assert_non_null(strstr(s, "<img src=\"cid:img1@x.org\" alt=\"一张 &quot;图&quot;\" "
				  "width=\"536\" style=\"width:536px;max-width:100%;height:auto\">"));
	assert_null(strstr(s, "height=\""));
	free(s);
}

static void test_raw_html_dropped_unless_allowed(void **state)
{
	char *dropped = render("<script>alert(1)</script>\n\nhi <b>x</b>\n", 1, 0, NULL);
	char *kept = render("hi <b>x</b>\n", 1, 1, NULL);

	(void)state;
	assert_null(strstr(dropped, "<script"));
	assert_null(strstr(dropped, "<b>"));
	assert_non_null(strstr(kept, "<b>x</b>"));
	free(dropped);
	free(kept);
}

static void test_soft_break_between_cjk(void **state)
{
	char *html = render("第一行\n第二行 and\nmore\n", 1, 0, NULL);
	struct md_links links = { NULL, 0 };
	char *text = render("第一行\n第二行 and\nmore\n", 0, 0, &links);

	(void)state;
	assert_non_null(strstr(html, "第一行第二行 and\nmore"));
	assert_string_equal(text, "第一行第二行 and more\n");
	free(html);
	free(text);
}

static void test_text_links_numbered_and_shared(void **state)
{
	struct md_links links = { NULL, 0 };
	char *a = render("see [code](https://c.org) and [paper](https://p.org)\n", 0, 0, &links);
	char *b = render("again [code](https://c.org), <https://auto.org>\n", 0, 0, &links);

	(void)state;
	assert_string_equal(a, "see code\xc2\xa0[L1] and paper\xc2\xa0[L2]\n");
	assert_string_equal(b, "again code\xc2\xa0[L1], https://auto.org\n");
	assert_int_equal(links.n, 2);
	assert_string_equal(links.urls[1], "https://p.org");
	md_links_release(&links);
	free(a);
	free(b);
}

static void test_text_blocks(void **state)
{
	struct md_links links = { NULL, 0 };
	char *s = render("# Title\n\n### 关键洞见\n\n- one\n- two\n  - nested\n\n"
			 "1. first\n2. second\n\n> quoted\n\n    code  line\n\n"
			 "![a figure](fig.png)\n", 0, 0, &links);

	(void)state;
	assert_string_equal(s,
		"Title\n=====\n\n"
		"关键洞见\n--------\n\n"
		"- one\n- two\n  - nested\n\n"
		"1. first\n2. second\n\n"
		"> quoted\n\n"
		"    code  line\n\n"
		"[图: a figure]\n");
	free(s);
}

static void test_text_wraps_list_items(void **state)
{
	struct md_links links = { NULL, 0 };
	char *s = render("- word word word word word word word word word word word "
			 "word word word word word word\n", 0, 0, &links);

	(void)state;
	assert_string_equal(s,
		"- word word word word word word word word word word word word word word\n"
		"  word word word\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_inline_styles),
		cmocka_unit_test(test_html_image),
		cmocka_unit_test(test_raw_html_dropped_unless_allowed),
		cmocka_unit_test(test_soft_break_between_cjk),
		cmocka_unit_test(test_text_links_numbered_and_shared),
		cmocka_unit_test(test_text_blocks),
		cmocka_unit_test(test_text_wraps_list_items),
	};

	return cmocka_run_group_tests_name("markdown", tests, setup, teardown);
}
