#include "theme.h"

#include <string.h>

#include "inifile.h"
#include "template.h"
#include "util.h"

struct pair {
	char *key;
	char *value;
};

struct pairs {
	struct pair *items;
	size_t       n, cap;
};

struct theme {
	struct pairs style;
	struct pairs labels;
};

static void pairs_set(struct pairs *p, const char *key, const char *value)
{
	for (size_t i = 0; i < p->n; i++) {
		if (!strcmp(p->items[i].key, key)) {
			free(p->items[i].value);
			p->items[i].value = xstrdup(value);
			return;
		}
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->items = xrealloc(p->items, p->cap * sizeof(*p->items));
	}
	p->items[p->n].key = xstrdup(key);
	p->items[p->n].value = xstrdup(value);
	p->n++;
}

static const char *pairs_get(const struct pairs *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->items[i].key, key))
			return p->items[i].value;
	return NULL;
}

static void pairs_release(struct pairs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].key);
		free(p->items[i].value);
	}
	free(p->items);
}

struct theme_file {
	struct theme *t;
	const char   *path;
	const char   *section;	/* the one this file may hold */
};

static int on_line(void *user, int line, const char *section,
		   const char *key, const char *value)
{
	struct theme_file *f = user;

	if (strcmp(section, f->section))
		return error("%s:%d: unknown section [%s] (expected [%s]%s)",
			     f->path, line, section, f->section,
			     !strcmp(section, "labels") ?
			     ": the labels live in labels-LANG.ini" : "");
	if (!key)
		return 0;
	if (!strcmp(section, "labels")) {
		pairs_set(&f->t->labels, key, value);
		return 0;
	}
	/* a quote would end the style attribute early */
	if (strchr(value, '"'))
		return error("%s:%d: no double quotes in styles", f->path, line);
	pairs_set(&f->t->style, key, value);
	return 0;
}

static int read_file_into(struct theme *t, const char *path,
			  const char *section)
{
	struct theme_file f = { t, path, section };
	struct buf text = BUF_INIT;
	int ret = inifile_read(path, &text);

	if (!ret)
		ret = inifile_parse(path, text.data, text.len, on_line, &f);
	buf_release(&text);
	return ret;
}

struct theme *theme_load(const char *path)
{
	struct theme *t = xcalloc(1, sizeof(*t));

	if (!read_file_into(t, path, "style"))
		return t;
	theme_free(t);
	return NULL;
}

int theme_load_labels(struct theme *t, const char *path)
{
	return read_file_into(t, path, "labels");
}

void theme_free(struct theme *t)
{
	if (!t)
		return;
	pairs_release(&t->style);
	pairs_release(&t->labels);
	free(t);
}

const char *theme_style(const struct theme *t, const char *element)
{
	const char *css = pairs_get(&t->style, element);

	return css ? css : "";
}

const char *theme_label(const struct theme *t, const char *key)
{
	const char *label = pairs_get(&t->labels, key);

	return label ? label : key;
}

struct theme *theme_open(const char *dir, const char *lang)
{
	struct buf path = BUF_INIT;
	struct theme *t;

	buf_addf(&path, "%s/theme.ini", dir);
	t = theme_load(path.data);
	buf_reset(&path);
	buf_addf(&path, "%s/labels-%s.ini", dir, lang);
	if (t && theme_load_labels(t, path.data)) {
		theme_free(t);
		t = NULL;
	}
	buf_release(&path);
	return t;
}

struct tv *theme_labels(const struct theme *t)
{
	struct tv *map = tv_map();

	for (size_t i = 0; i < t->labels.n; i++)
		tv_set_str(map, t->labels.items[i].key, t->labels.items[i].value);
	return map;
}
