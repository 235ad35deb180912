#ifndef BULLETIN_TEMPLATE_H
#define BULLETIN_TEMPLATE_H

/*
 * Mustache templates: compile once, render many.
 *
 * Supported: {{name}} (escaped), {{{name}}} and {{& name}} (raw), dotted
 * names (entry.title), the implicit iterator {{.}}, sections {{#x}}..{{/x}}
 * over lists, maps and truthy values, inverted sections {{^x}}..{{/x}},
 * comments {{! ..}}, partials {{> name}}, set delimiters {{=<% %>=}}, and
 * the spec's standalone-line rule (a line holding only a section, comment
 * or partial tag disappears entirely, so .txt templates stay tidy).
 *
 * Escaping is decided by the template's file name: a name containing
 * ".html" escapes {{x}} for HTML (& < > " '); any other name (".txt")
 * escapes nothing.
 *
 * Falsey: a missing name, TV_NULL, false, the empty string, the empty list.
 * A name is looked up through the stack of section contexts, innermost
 * first, as the spec says. Missing names render as nothing.
 */

#include <stddef.h>

#include "buf.h"

/* ---- the data a template is rendered with ------------------------------ */

enum tv_kind { TV_NULL, TV_BOOL, TV_STRING, TV_LIST, TV_MAP };

struct tv;	/* a template value: a tree of maps, lists, strings, booleans */

struct tv *tv_map(void);
struct tv *tv_list(void);
struct tv *tv_bool(int truth);
struct tv *tv_str(const char *s);		/* copies s */
struct tv *tv_strn(const char *s, size_t n);	/* copies n bytes */

/* Puts child under key in map (key copied), taking ownership of child;
 * an existing value under key is freed. Returns child. */
struct tv *tv_set(struct tv *map, const char *key, struct tv *child);
/* Shorthand for tv_set(map, key, tv_str(s)); s may be NULL for TV_NULL. */
void tv_set_str(struct tv *map, const char *key, const char *s);
/* Appends child to list, taking ownership. Returns child. */
struct tv *tv_push(struct tv *list, struct tv *child);
/* Frees v and everything below it. NULL is fine. */
void tv_free(struct tv *v);

/* ---- templates ---------------------------------------------------------- */

struct tmpl_dir;	/* a templates folder; owns the templates it compiled */
struct tmpl;		/* one compiled template, partials resolved */

/* Opens the templates folder dir (not read until a template is loaded). */
struct tmpl_dir *tmpl_dir_new(const char *dir);
/* Frees the folder and every template loaded from it. NULL is fine. */
void tmpl_dir_free(struct tmpl_dir *d);

/*
 * Compiles the file dir/name (for instance "digest.html.mustache") and,
 * recursively, its partials. {{> footer}} in "digest.html.mustache" loads
 * "footer.html.mustache" from the same folder: a partial takes the
 * suffix of the file that names it (from its first '.'). Partial names are
 * [A-Za-z0-9_-] segments joined by '/', and a file that a symlink leads
 * outside the folder is refused, so nothing outside the folder is ever
 * read; nor a file over 1 MiB. Compiling the same name twice returns the
 * same template.
 *
 * Returns a template owned by d, or NULL after error() naming file:line
 * (unclosed or mismatched section, unclosed tag, bad delimiters, unknown
 * or recursive partial, a partial name that is not allowed).
 */
const struct tmpl *tmpl_dir_load(struct tmpl_dir *d, const char *name);

/*
 * Compiles a template from memory; name is used for messages and to
 * choose escaping. Partials are loaded from d, which may be NULL (then
 * any partial is an error). Returns a template the caller frees with
 * tmpl_free(), before d, whose partials it uses; or NULL after error().
 */
struct tmpl *tmpl_compile(struct tmpl_dir *d, const char *name,
			  const char *src, size_t len);
void tmpl_free(struct tmpl *t);

/*
 * Renders t with data (a TV_MAP, or NULL) appended to out. Returns 0, or
 * error() -1 when the output would pass max bytes (out then holds a
 * truncated render the caller discards). Sections nested over lists
 * multiply their bodies, so a short template can ask for terabytes: the
 * caller bounds it, with the largest message it would send.
 */
int tmpl_render(const struct tmpl *t, const struct tv *data, size_t max,
		struct buf *out);

#endif
