#ifndef BULLETIN_DIGEST_H
#define BULLETIN_DIGEST_H

/*
 * A digest folder: one issue of the newsletter, as the editor wrote it.
 *
 *   digests/2021-03/issue.md    front matter: subject (required), title,
 *                               preheader, date; body: the introduction
 *   digests/2021-03/outro.md    optional closing text, no front matter
 *   digests/2021-03/NN-x.md     one curated entry each, in file-name order:
 *                               title, url (required), authors (a list),
 *                               links (a map kind: URL), tags (a list)
 *   digests/2021-03/fig.png     images, referenced by relative paths (only:
 *                               remote images are blocked by many clients
 *                               and cannot be given a size)
 *
 * Front matter is YAML between a first line "---" and a line "---".
 * Loading checks everything an editor can get wrong and reports each
 * problem as FILE:LINE: what; nothing is half-loaded. Hostile input
 * included: each file is at most 256 KiB, front matter nests at most 8
 * levels and has no aliases, Markdown nests at most 32, an entry has at
 * most 64 links, keys are never repeated, no file (through a
 * symlink) lies outside the folder, and no text holds a control
 * character but tabs and (in bodies) line breaks, after YAML escapes and
 * HTML entities are decoded.
 */

#include <cmark.h>
#include <stddef.h>

struct link {
	char *kind;		/* "code", "demo" ... as written */
	char *url;
};

struct entry {
	char        *file;	/* the path it was read from */
	char        *title;
	char        *url;
	char       **authors;
	size_t       nauthors;
	struct link *links;
	size_t       nlinks;
	char       **tags;
	size_t       ntags;
	cmark_node  *body;	/* the Markdown document */
};

struct digest {
	char         *dir;	/* as given */
	char         *id;	/* the folder's name: "2021-03" */
	char         *subject;
	char         *title;	/* defaults to the subject */
	char         *preheader;/* may be NULL */
	char         *date;	/* may be NULL */
	cmark_node   *intro;	/* issue.md's body */
	cmark_node   *outro;	/* outro.md's body, or NULL */
	struct entry *entries;
	size_t        nentries;
	char        **images;	/* relative image paths the bodies use, unique */
	size_t        nimages;
	char        **raw_html;	/* "FILE:LINE" of each raw HTML block or inline */
	size_t        nraw_html;
};

/*
 * Loads the folder dir into d. Returns 0, or -1 after error() for every
 * problem found (FILE:LINE: ...), with d released.
 */
int digest_load(struct digest *d, const char *dir);
void digest_release(struct digest *d);

/*
 * Parses one entry file from memory, exactly as digest_load parses each
 * NN-x.md: text (len bytes, need not be NUL-terminated) is checked,
 * split into front matter and Markdown body, and loaded into e (which
 * is overwritten). path names the file in messages. Images the body
 * uses are looked up in d->dir and added to d->images; d needs nothing
 * else set. For tests and the fuzz harness (tests/fuzz/fuzz_digest.c).
 *
 * Returns 0 with e filled, which the caller frees with
 * digest_entry_release(); or -1 after error() with e released.
 */
int digest_parse_entry(struct digest *d, struct entry *e, const char *path,
		       const char *text, size_t len);
/* Frees what e holds and zeroes it. */
void digest_entry_release(struct entry *e);

/* True if url is an absolute http:// or https:// URL. */
int url_is_web(const char *url);

#endif
