#ifndef BULLETIN_MARKDOWN_H
#define BULLETIN_MARKDOWN_H

/*
 * Markdown (a cmark AST) to the two bodies of an email: HTML with inline
 * styles from the theme, and wrapped plain text with numbered links.
 * Two walks over the same tree, side by side.
 */

#include <cmark.h>
#include <stddef.h>

#include "buf.h"

struct theme;

/* An image the HTML may show: the Markdown path and what to put in <img>. */
struct md_image {
	const char *path;	/* as written in the Markdown: "fig.png" */
	const char *src;	/* "cid:fig.2021-03@news.example.org" */
	unsigned    width;	/* already fitted to the column; the height
				   follows it (height:auto) */
};

struct md_opts {
	const struct theme    *theme;
	const struct md_image *images;
	size_t                 nimages;
	int                    allow_raw_html;	/* else raw HTML is dropped */
	size_t                 text_width;	/* columns for the text body */
};

/*
 * The numbered link references of a text body ("[L3]"), shared by every
 * Markdown document of one message so numbers run on; the same URL keeps
 * its number. The "L" keeps them apart from an issue's own numbered lists
 * and citations ("[3]", "3.").
 */
struct md_links {
	char  **urls;
	size_t  n;
};

/* Returns url's number (from 1), adding it when new. */
size_t md_links_add(struct md_links *links, const char *url);
void md_links_release(struct md_links *links);

/* Appends the reference to link n as the text shows it: "[L3]". */
void md_link_ref(struct buf *out, size_t n);

/* Appends doc as HTML to out. An image not in o->images is skipped. */
void md_html(struct buf *out, cmark_node *doc, const struct md_opts *o);

/* Appends doc as plain text to out (LF line ends), adding its links to
 * links and referring to them as "text [Ln]", a no-break space between. */
void md_text(struct buf *out, cmark_node *doc, const struct md_opts *o,
	     struct md_links *links);

#endif
