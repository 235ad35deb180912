#ifndef BULLETIN_THEME_H
#define BULLETIN_THEME_H

/*
 * The theme: templates/theme.ini, the style map and the words of the
 * newsletter's language.
 *
 *   [style]   one key per element the Markdown renderer emits (p, h1..h6,
 *             a, ul, ol, li, blockquote, pre, code, img, hr, strong, em,
 *             figcaption): its inline CSS, written into a style attribute
 *             because many mail clients ignore <style> blocks.
 *   [labels]  words the templates and renderers show: link kinds (code,
 *             demo, blog ...), "unsubscribe", "links" ...
 */

struct theme;
struct tv;

/* Reads path. Returns a theme the caller frees, or NULL after error()
 * naming path:line. */
struct theme *theme_load(const char *path);
void theme_free(struct theme *t);

/* The CSS for element ("p"), or "" when the theme has none. */
const char *theme_style(const struct theme *t, const char *element);
/* The label for key ("code"), or key itself when the theme has none. */
const char *theme_label(const struct theme *t, const char *key);
/* All labels as a template map (caller frees with tv_free). */
struct tv *theme_labels(const struct theme *t);

#endif
