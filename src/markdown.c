#include "markdown.h"

#include <string.h>

#include "theme.h"
#include "utf8.h"
#include "util.h"
#include "wrap.h"

size_t md_links_add(struct md_links *links, const char *url)
{
	for (size_t i = 0; i < links->n; i++)
		if (!strcmp(links->urls[i], url))
			return i + 1;
	links->urls = xrealloc(links->urls, (links->n + 1) * sizeof(char *));
	links->urls[links->n++] = xstrdup(url);
	return links->n;
}

void md_links_release(struct md_links *links)
{
	for (size_t i = 0; i < links->n; i++)
		free(links->urls[i]);
	free(links->urls);
	links->urls = NULL;
	links->n = 0;
}

void md_link_ref(struct buf *out, size_t n)
{
	buf_addf(out, "[L%zu]", n);
}

static const char *literal(cmark_node *node)
{
	const char *s = cmark_node_get_literal(node);

	return s ? s : "";
}

/* The plain text under node: an image's alt text, a heading's words. */
static void plain_text(struct buf *out, cmark_node *node)
{
	for (cmark_node *c = cmark_node_first_child(node); c; c = cmark_node_next(c)) {
		switch (cmark_node_get_type(c)) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
			buf_adds(out, literal(c));
			break;
		case CMARK_NODE_SOFTBREAK:
		case CMARK_NODE_LINEBREAK:
			buf_addch(out, ' ');
			break;
		default:
			plain_text(out, c);
		}
	}
}

static const struct md_image *find_image(const struct md_opts *o,
					 const char *path)
{
	for (size_t i = 0; i < o->nimages; i++)
		if (!strcmp(o->images[i].path, path))
			return &o->images[i];
	return NULL;
}

/* Is the code point just before or after a soft break wide (CJK)? */
static uint32_t last_cp(cmark_node *node)
{
	const char *s;
	size_t n, i;
	uint32_t cp = 0;

	if (!node || cmark_node_get_type(node) != CMARK_NODE_TEXT)
		return 0;
	s = literal(node);
	n = strlen(s);
	for (i = n; i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80; i--)
		;
	if (i > 0 && !utf8_decode(s + i - 1, n - i + 1, &cp))
		cp = 0;
	return cp;
}

static uint32_t first_cp(cmark_node *node)
{
	const char *s;
	uint32_t cp = 0;

	if (!node || cmark_node_get_type(node) != CMARK_NODE_TEXT)
		return 0;
	s = literal(node);
	if (!*s || !utf8_decode(s, strlen(s), &cp))
		cp = 0;
	return cp;
}

/* A line break inside Chinese text is not a space (CSS Text 3 agrees,
 * but not every mail client implements it). */
static int break_joins_wide(cmark_node *softbreak)
{
	return utf8_cp_width(last_cp(cmark_node_previous(softbreak))) == 2 &&
	       utf8_cp_width(first_cp(cmark_node_next(softbreak))) == 2;
}

/* ---- HTML ------------------------------------------------------------------ */

struct html {
	struct buf           *out;
	const struct md_opts *o;
};

static void open_tag(struct html *h, const char *tag, const char *style_key)
{
	const char *css = theme_style(h->o->theme, style_key);

	buf_addf(h->out, "<%s", tag);
	if (*css)
		buf_addf(h->out, " style=\"%s\"", css);
	buf_addch(h->out, '>');
}

static void html_children(struct html *h, cmark_node *node);

static int in_tight_list(cmark_node *paragraph)
{
	cmark_node *item = cmark_node_parent(paragraph);
	cmark_node *list = item ? cmark_node_parent(item) : NULL;

	return list && cmark_node_get_type(list) == CMARK_NODE_LIST &&
	       cmark_node_get_list_tight(list);
}

static void html_image(struct html *h, cmark_node *node)
{
	const struct md_image *img = find_image(h->o, cmark_node_get_url(node));
	struct buf alt = BUF_INIT;
	const char *css = theme_style(h->o->theme, "img");

	if (!img)
		return;
	plain_text(&alt, node);
	buf_adds(h->out, "<img src=\"");
	html_escape(h->out, img->src, strlen(img->src));
	buf_adds(h->out, "\" alt=\"");
	html_escape(h->out, alt.data, alt.len);
	/* the width twice: Outlook reads the attribute, Apple Mail ignores it
	 * on cid: images; no height attribute, which Yahoo turns into a
	 * min-height that stretches a figure scaled down to a phone */
	buf_addf(h->out, "\" width=\"%u\"", img->width);
	buf_addf(h->out, " style=\"%s%swidth:%upx;max-width:100%%;height:auto\">",
		 css, *css && css[strlen(css) - 1] != ';' ? ";" : "", img->width);
	buf_release(&alt);
}

static void html_link(struct html *h, cmark_node *node)
{
	const char *url = cmark_node_get_url(node);
	const char *title = cmark_node_get_title(node);
	const char *css = theme_style(h->o->theme, "a");

	buf_adds(h->out, "<a href=\"");
	html_escape(h->out, url, strlen(url));
	buf_addch(h->out, '"');
	if (title && *title) {
		buf_adds(h->out, " title=\"");
		html_escape(h->out, title, strlen(title));
		buf_addch(h->out, '"');
	}
	if (*css)
		buf_addf(h->out, " style=\"%s\"", css);
	buf_addch(h->out, '>');
	html_children(h, node);
	buf_adds(h->out, "</a>");
}

static void html_list(struct html *h, cmark_node *node)
{
	int ordered = cmark_node_get_list_type(node) == CMARK_ORDERED_LIST;
	int start = cmark_node_get_list_start(node);
	const char *tag = ordered ? "ol" : "ul";
	const char *css = theme_style(h->o->theme, tag);

	buf_addf(h->out, "<%s", tag);
	if (ordered && start != 1)
		buf_addf(h->out, " start=\"%d\"", start);
	if (*css)
		buf_addf(h->out, " style=\"%s\"", css);
	buf_adds(h->out, ">\n");
	html_children(h, node);
	buf_addf(h->out, "</%s>\n", tag);
}

static void html_code_block(struct html *h, cmark_node *node)
{
	const char *code = literal(node);

	open_tag(h, "pre", "pre");
	html_escape(h->out, code, strlen(code));
	buf_adds(h->out, "</pre>\n");
}

/* Wraps node's children in <tag style=...>...</tag>. */
static void html_wrap(struct html *h, cmark_node *node, const char *tag,
		      const char *after)
{
	open_tag(h, tag, tag);
	html_children(h, node);
	buf_addf(h->out, "</%s>%s", tag, after);
}

static void html_raw(struct html *h, cmark_node *node)
{
	if (h->o->allow_raw_html)
		buf_adds(h->out, literal(node));
}

static void html_node(struct html *h, cmark_node *node)
{
	static const char *const headings[] = { "h1", "h2", "h3", "h4", "h5", "h6" };
	const char *s;

	switch (cmark_node_get_type(node)) {
	case CMARK_NODE_BLOCK_QUOTE: html_wrap(h, node, "blockquote", "\n"); break;
	case CMARK_NODE_LIST:        html_list(h, node); break;
	case CMARK_NODE_ITEM:        html_wrap(h, node, "li", "\n"); break;
	case CMARK_NODE_CODE_BLOCK:  html_code_block(h, node); break;
	case CMARK_NODE_HTML_BLOCK:
	case CMARK_NODE_HTML_INLINE: html_raw(h, node); break;
	case CMARK_NODE_PARAGRAPH:
		if (in_tight_list(node))
			html_children(h, node);
		else
			html_wrap(h, node, "p", "\n");
		break;
	case CMARK_NODE_HEADING:
		html_wrap(h, node, headings[cmark_node_get_heading_level(node) - 1], "\n");
		break;
	case CMARK_NODE_THEMATIC_BREAK: open_tag(h, "hr", "hr"); buf_addch(h->out, '\n'); break;
	case CMARK_NODE_TEXT:
		s = literal(node);
		html_escape(h->out, s, strlen(s));
		break;
	case CMARK_NODE_SOFTBREAK:
		if (!break_joins_wide(node))
			buf_addch(h->out, '\n');
		break;
	case CMARK_NODE_LINEBREAK: buf_adds(h->out, "<br>\n"); break;
	case CMARK_NODE_CODE:
		open_tag(h, "code", "code");
		s = literal(node);
		html_escape(h->out, s, strlen(s));
		buf_adds(h->out, "</code>");
		break;
	case CMARK_NODE_EMPH:   html_wrap(h, node, "em", ""); break;
	case CMARK_NODE_STRONG: html_wrap(h, node, "strong", ""); break;
	case CMARK_NODE_LINK:   html_link(h, node); break;
	case CMARK_NODE_IMAGE:  html_image(h, node); break;
	default:                html_children(h, node); break;
	}
}

static void html_children(struct html *h, cmark_node *node)
{
	for (cmark_node *c = cmark_node_first_child(node); c; c = cmark_node_next(c))
		html_node(h, c);
}

void md_html(struct buf *out, cmark_node *doc, const struct md_opts *o)
{
	struct html h = { out, o };

	html_children(&h, doc);
}

/* ---- plain text ----------------------------------------------------------- */

/* Marks a hard line break inside a flattened paragraph; input text never
 * holds control characters (digest.c refuses them). */
#define HARD_BREAK '\x1f'

struct text {
	struct buf           *out;
	const struct md_opts *o;
	struct md_links      *links;
};

static void text_inlines(struct text *t, struct buf *line, cmark_node *node);

static void text_link(struct text *t, struct buf *line, cmark_node *node)
{
	const char *url = cmark_node_get_url(node);
	size_t start = line->len;

	text_inlines(t, line, node);
	/* an autolink shows its URL already */
	if (!strcmp(line->data + start, url) ||
	    (!strncmp(url, "mailto:", 7) && !strcmp(line->data + start, url + 7)))
		return;
	/* a no-break space keeps the number on the line of its link */
	buf_adds(line, "\xc2\xa0");
	md_link_ref(line, md_links_add(t->links, url));
}

static void text_inline(struct text *t, struct buf *line, cmark_node *node)
{
	switch (cmark_node_get_type(node)) {
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
		buf_adds(line, literal(node));
		break;
	case CMARK_NODE_SOFTBREAK:
		buf_addch(line, '\n');
		break;
	case CMARK_NODE_LINEBREAK:
		buf_addch(line, HARD_BREAK);
		break;
	case CMARK_NODE_LINK:
		text_link(t, line, node);
		break;
	case CMARK_NODE_IMAGE:
		buf_addf(line, "[%s: ", theme_label(t->o->theme, "image"));
		plain_text(line, node);
		buf_addch(line, ']');
		break;
	case CMARK_NODE_HTML_INLINE:
		break;
	default:
		text_inlines(t, line, node);
	}
}

static void text_inlines(struct text *t, struct buf *line, cmark_node *node)
{
	for (cmark_node *c = cmark_node_first_child(node); c; c = cmark_node_next(c))
		text_inline(t, line, c);
}

/* Wraps a flattened paragraph, starting a new line at each hard break. */
static void text_wrap(struct text *t, const struct buf *para,
		      const char *first, const char *rest)
{
	const char *p = para->data, *end = para->data + para->len;

	while (p <= end) {
		const char *brk = memchr(p, HARD_BREAK, (size_t)(end - p));

		if (!brk)
			brk = end;
		wrap_paragraph(t->out, p, (size_t)(brk - p), t->o->text_width,
			       p == para->data ? first : rest, rest);
		p = brk + 1;
	}
}

static void text_heading(struct text *t, cmark_node *node, const char *first,
			 const char *rest)
{
	struct buf title = BUF_INIT;
	size_t start = t->out->len, widest = 0;
	int level = cmark_node_get_heading_level(node);

	text_inlines(t, &title, node);
	wrap_paragraph(t->out, title.data, title.len, t->o->text_width, first, rest);
	/* underline as wide as the widest line of the heading, prefix excluded */
	for (const char *p = t->out->data + start; *p;) {
		size_t n = strcspn(p, "\n"), w = utf8_width(p, n) - utf8_width(rest, strlen(rest));

		if (w > widest)
			widest = w;
		p += n + (p[n] == '\n');
	}
	buf_adds(t->out, rest);
	buf_addchars(t->out, level == 1 ? '=' : '-', widest);
	buf_addch(t->out, '\n');
	buf_release(&title);
}

static void text_code_block(struct text *t, cmark_node *node, const char *rest)
{
	const char *p = literal(node);

	while (*p) {
		size_t n = strcspn(p, "\n");

		buf_adds(t->out, rest);
		buf_adds(t->out, "    ");
		buf_add(t->out, p, n);
		buf_addch(t->out, '\n');
		p += n + (p[n] == '\n');
	}
}

static void text_blocks(struct text *t, cmark_node *parent, const char *first,
			const char *rest, int tight);

static void text_list(struct text *t, cmark_node *list, const char *first,
		      const char *rest)
{
	int ordered = cmark_node_get_list_type(list) == CMARK_ORDERED_LIST;
	int n = cmark_node_get_list_start(list);
	int tight = cmark_node_get_list_tight(list);

	for (cmark_node *item = cmark_node_first_child(list); item;
	     item = cmark_node_next(item), n++) {
		struct buf f = BUF_INIT, r = BUF_INIT;
		char marker[24];
		int len = ordered ? snprintf(marker, sizeof(marker), "%d. ", n)
				  : snprintf(marker, sizeof(marker), "- ");

		buf_adds(&f, item == cmark_node_first_child(list) ? first : rest);
		buf_adds(&f, marker);
		buf_adds(&r, rest);
		buf_addchars(&r, ' ', (size_t)len);
		if (item != cmark_node_first_child(list) && !tight)
			buf_addch(t->out, '\n');
		text_blocks(t, item, f.data, r.data, tight);
		buf_release(&f);
		buf_release(&r);
	}
}

static void text_block(struct text *t, cmark_node *node, const char *first,
		       const char *rest)
{
	struct buf para = BUF_INIT, f = BUF_INIT, r = BUF_INIT;

	switch (cmark_node_get_type(node)) {
	case CMARK_NODE_PARAGRAPH:
		text_inlines(t, &para, node);
		text_wrap(t, &para, first, rest);
		break;
	case CMARK_NODE_HEADING:
		text_heading(t, node, first, rest);
		break;
	case CMARK_NODE_BLOCK_QUOTE:
		buf_addf(&f, "%s> ", first);
		buf_addf(&r, "%s> ", rest);
		text_blocks(t, node, f.data, r.data, 0);
		break;
	case CMARK_NODE_LIST:
		text_list(t, node, first, rest);
		break;
	case CMARK_NODE_CODE_BLOCK:
		text_code_block(t, node, rest);
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		buf_adds(t->out, first);
		buf_addchars(t->out, '-', 20);
		buf_addch(t->out, '\n');
		break;
	default:	/* raw HTML blocks have no text form */
		break;
	}
	buf_release(&para);
	buf_release(&f);
	buf_release(&r);
}

/* Blocks of a container, a blank line between them unless tight. */
static void text_blocks(struct text *t, cmark_node *parent, const char *first,
			const char *rest, int tight)
{
	for (cmark_node *c = cmark_node_first_child(parent); c; c = cmark_node_next(c)) {
		if (c != cmark_node_first_child(parent) && !tight) {
			size_t n = strlen(rest);

			while (n && rest[n - 1] == ' ')
				n--;
			buf_add(t->out, rest, n);
			buf_addch(t->out, '\n');
		}
		text_block(t, c, c == cmark_node_first_child(parent) ? first : rest,
			   rest);
	}
}

void md_text(struct buf *out, cmark_node *doc, const struct md_opts *o,
	     struct md_links *links)
{
	struct text t = { out, o, links };

	text_blocks(&t, doc, "", "", 0);
}
