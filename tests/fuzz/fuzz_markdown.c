/*
 * Both Markdown renderers (markdown.h), HTML and text, over the same
 * cmark tree, with the real theme (templates/theme.ini). The first input
 * byte picks the options (raw HTML allowed or not, the text width); the
 * rest is the Markdown. Properties:
 *  - both outputs are free of NUL bytes (cmark replaces them) and, for
 *    valid UTF-8 input (what digest_load lets through), valid UTF-8: the
 *    renderers must not split characters when wrapping or truncating;
 *  - with raw HTML not allowed, no "<script" reaches the HTML;
 *  - every numbered link of the text body has a URL.
 */
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "markdown.h"
#include "theme.h"
#include "utf8.h"

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

static struct theme *theme;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	theme = theme_load(FUZZ_TOP "/templates/theme.ini");
	if (!theme)
		abort();
	fuzz_quiet();
	return 0;
}

static int has_script(const struct buf *b)
{
	for (const char *p = b->data; (p = strchr(p, '<')); p++)
		if (!strncasecmp(p, "<script", 7))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct md_image images[] = {
		{ "fig.png", "cid:fig.fuzz@news.example.org", 600 },
	};
	struct md_opts o = { theme, images, 1, 0, 72 };
	struct md_links links = { NULL, 0 };
	struct buf html = BUF_INIT, text = BUF_INIT;
	cmark_node *doc;

	if (!size)
		return 0;
	o.allow_raw_html = data[0] & 1;
	o.text_width = 1 + (data[0] >> 1) % 100;
	doc = cmark_parse_document((const char *)data + 1, size - 1,
				   CMARK_OPT_DEFAULT);
	md_html(&html, doc, &o);
	md_text(&text, doc, &o, &links);
	fuzz_check(strlen(html.data) == html.len);
	fuzz_check(strlen(text.data) == text.len);
	if (utf8_valid((const char *)data + 1, size - 1)) {
		fuzz_check(utf8_valid(html.data, html.len));
		fuzz_check(utf8_valid(text.data, text.len));
	}
	if (!o.allow_raw_html)
		fuzz_check(!has_script(&html));
	for (size_t i = 0; i < links.n; i++)
		fuzz_check(links.urls[i]);
	md_links_release(&links);
	buf_release(&html);
	buf_release(&text);
	cmark_node_free(doc);
	return 0;
}
