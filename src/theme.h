#ifndef BULLETIN_THEME_H
#define BULLETIN_THEME_H

/*
 * The theme: the style map (templates/theme.ini) and the words of the
 * newsletter's language (templates/labels-LANG.ini, LANG being the
 * config's [templates] lang), two files so that one style serves every
 * language.
 *
 *   [style]   in theme.ini: one key per element the Markdown renderer
 *             emits (p, h1..h6, a, ul, ol, li, blockquote, pre, code,
 *             img, hr, strong, em, figcaption): its inline CSS, written
 *             into a style attribute because many mail clients ignore
 *             <style> blocks.
 *   [labels]  in labels-LANG.ini: words the templates and renderers
 *             show: lang (the HTML lang attribute), link kinds (code,
 *             demo, blog ...), "unsubscribe", "links" ...
 * Each file holds only its own section; any other is refused.
 */

struct theme;
struct tv;

/* Reads the [style] file path. Returns a theme without labels, which
 * the caller frees, or NULL after error() naming path:line. */
struct theme *theme_load(const char *path);
/* Reads the [labels] file path into t. Returns 0, or -1 after error()
 * naming path:line (t keeps the labels read before it). */
int theme_load_labels(struct theme *t, const char *path);
/* Both at once, as every command wants them: DIR/theme.ini and
 * DIR/labels-LANG.ini. Returns the theme or NULL after error(). */
struct theme *theme_open(const char *dir, const char *lang);
void theme_free(struct theme *t);

/* The CSS for element ("p"), or "" when the theme has none. */
const char *theme_style(const struct theme *t, const char *element);
/* The label for key ("code"), or key itself when the theme has none. */
const char *theme_label(const struct theme *t, const char *key);
/* All labels as a template map (caller frees with tv_free). */
struct tv *theme_labels(const struct theme *t);

#endif
