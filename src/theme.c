#include "theme.h"

#include <ini.h>
#include <string.h>

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

/* Returning 0 makes inih report this line as the first error. */
static int on_key(void *user, const char *section, const char *key,
		  const char *value)
{
	struct theme *t = user;

	if (!strcmp(section, "style")) {
		/* a quote would end the style attribute early */
		if (strchr(value, '"'))
			return 0;
		pairs_set(&t->style, key, value);
	} else if (!strcmp(section, "labels")) {
		pairs_set(&t->labels, key, value);
	} else {
		return 0;
	}
	return 1;
}

struct theme *theme_load(const char *path)
{
	struct theme *t = xcalloc(1, sizeof(*t));
	int rc = ini_parse(path, on_key, t);

	if (rc < 0) {
		error("cannot open theme '%s'", path);
	} else if (rc > 0) {
		error("%s:%d: expected a [style] or [labels] key = value "
		      "(no double quotes in styles)", path, rc);
	} else {
		return t;
	}
	theme_free(t);
	return NULL;
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

struct tv *theme_labels(const struct theme *t)
{
	struct tv *map = tv_map();

	for (size_t i = 0; i < t->labels.n; i++)
		tv_set_str(map, t->labels.items[i].key, t->labels.items[i].value);
	return map;
}
