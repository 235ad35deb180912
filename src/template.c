#include "template.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* ---- values ------------------------------------------------------------------ */

struct tv {
	enum tv_kind kind;
	int          truth;	/* TV_BOOL */
	char        *s;		/* TV_STRING */
	size_t       len;
	char       **keys;	/* TV_MAP: keys[i] names items[i] */
	struct tv  **items;	/* TV_LIST and TV_MAP */
	size_t       n, cap;
};

static struct tv *tv_new(enum tv_kind kind)
{
	struct tv *v = xcalloc(1, sizeof(*v));

	v->kind = kind;
	return v;
}

struct tv *tv_map(void) { return tv_new(TV_MAP); }
struct tv *tv_list(void) { return tv_new(TV_LIST); }

struct tv *tv_bool(int truth)
{
	struct tv *v = tv_new(TV_BOOL);

	v->truth = !!truth;
	return v;
}

struct tv *tv_strn(const char *s, size_t n)
{
	struct tv *v = tv_new(TV_STRING);

	v->s = xstrndup(s, n);
	v->len = n;
	return v;
}

struct tv *tv_str(const char *s)
{
	return tv_strn(s, strlen(s));
}

static void tv_append(struct tv *v, char *key, struct tv *child)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 8;
		v->items = xrealloc(v->items, v->cap * sizeof(*v->items));
		if (v->kind == TV_MAP)
			v->keys = xrealloc(v->keys, v->cap * sizeof(*v->keys));
	}
	if (v->kind == TV_MAP)
		v->keys[v->n] = key;
	v->items[v->n++] = child;
}

struct tv *tv_set(struct tv *map, const char *key, struct tv *child)
{
	for (size_t i = 0; i < map->n; i++) {
		if (!strcmp(map->keys[i], key)) {
			tv_free(map->items[i]);
			map->items[i] = child;
			return child;
		}
	}
	tv_append(map, xstrdup(key), child);
	return child;
}

void tv_set_str(struct tv *map, const char *key, const char *s)
{
	tv_set(map, key, s ? tv_str(s) : tv_new(TV_NULL));
}

struct tv *tv_push(struct tv *list, struct tv *child)
{
	tv_append(list, NULL, child);
	return child;
}

void tv_free(struct tv *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		tv_free(v->items[i]);
	}
	free(v->keys);
	free(v->items);
	free(v->s);
	free(v);
}

static const struct tv *tv_get(const struct tv *map, const char *key, size_t len)
{
	if (!map || map->kind != TV_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!strncmp(map->keys[i], key, len) && !map->keys[i][len])
			return map->items[i];
	return NULL;
}

static int tv_truthy(const struct tv *v)
{
	if (!v)
		return 0;
	switch (v->kind) {
	case TV_NULL:   return 0;
	case TV_BOOL:   return v->truth;
	case TV_STRING: return v->len > 0;
	case TV_LIST:   return v->n > 0;
	case TV_MAP:    return 1;
	}
	return 0;
}

/* ---- compiled templates ------------------------------------------------------- */

enum node_type { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL };

struct node {
	enum node_type     type;
	char              *text;	/* N_TEXT: the text; else the name */
	size_t             len;
	struct node       *children;	/* sections */
	size_t             nchildren;
	const struct tmpl *partial;	/* N_PARTIAL: owned by the tmpl_dir */
	char              *indent;	/* N_PARTIAL standing alone: its indentation */
};

struct tmpl {
	char        *name;
	int          escape_html;
	struct node  root;	/* a section holding the whole template */
};

#define MAX_PARTIAL_DEPTH 32

struct tmpl_dir {
	char          *dir;
	struct tmpl  **loaded;
	size_t         nloaded;
	const char    *loading[MAX_PARTIAL_DEPTH];	/* names being compiled */
	size_t         nloading;
};

/* The parser's state: where it is, and the delimiters in force. */
struct parser {
	struct tmpl_dir *dir;
	const char      *name;	/* for messages */
	const char      *src, *p, *end;
	char             otag[8], ctag[8];
	size_t           olen, clen;
};

static int line_of(const struct parser *ps, const char *at)
{
	int line = 1;

	for (const char *q = ps->src; q < at; q++)
		line += *q == '\n';
	return line;
}

static struct node *add_node(struct node *parent, enum node_type type,
			     const char *text, size_t len)
{
	struct node *n;

	parent->children = xrealloc(parent->children,
				    (parent->nchildren + 1) * sizeof(*n));
	n = &parent->children[parent->nchildren++];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->text = xstrndup(text, len);
	n->len = len;
	return n;
}

static void node_release(struct node *n)
{
	for (size_t i = 0; i < n->nchildren; i++)
		node_release(&n->children[i]);
	free(n->children);
	free(n->text);
	free(n->indent);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A tag as read: its kind character, name and place. */
struct tag {
	char        kind;	/* '#', '^', '/', '!', '>', '=', '{', '&' or 0 */
	const char *name;	/* trimmed */
	size_t      len;
	const char *start;	/* the opening delimiter */
	const char *after;	/* just past the closing delimiter */
};

static const char *find(const char *p, const char *end, const char *s, size_t n)
{
	return memmem(p, (size_t)(end - p), s, n);
}

/* Reads the tag whose opening delimiter is at at. Returns 0 or error() -1. */
static int read_tag(struct parser *ps, const char *at, struct tag *t)
{
	const char *p = at + ps->olen, *close;
	char closer[10];
	size_t clen;

	while (p < ps->end && is_blank(*p))
		p++;
	t->kind = p < ps->end && strchr("#^/!>={&", *p) ? *p++ : 0;
	t->start = at;
	/* {{{x}}} and {{=a b=}} end with a character before the delimiter */
	clen = (size_t)snprintf(closer, sizeof(closer), "%s%s",
				t->kind == '{' ? "}" : t->kind == '=' ? "=" : "",
				ps->ctag);
	close = find(p, ps->end, closer, clen);
	if (!close)
		return error("%s:%d: unclosed tag '%.20s'", ps->name,
			     line_of(ps, at), at);
	t->after = close + clen;
	while (p < close && is_blank(*p))
		p++;
	while (close > p && is_blank(close[-1]))
		close--;
	t->name = p;
	t->len = (size_t)(close - p);
	if (!t->len && t->kind != '!')
		return error("%s:%d: empty tag", ps->name, line_of(ps, at));
	return 0;
}

/* A tag alone on its line disappears with the line (the spec's rule). */
static int standalone(const struct parser *ps, const struct tag *t,
		      const char **line_start, const char **next)
{
	const char *ls = t->start, *p = t->after;

	if (!t->kind || t->kind == '{' || t->kind == '&')
		return 0;
	while (ls > ps->src && ls[-1] != '\n')
		ls--;
	for (const char *q = ls; q < t->start; q++)
		if (!is_blank(*q))
			return 0;
	while (p < ps->end && is_blank(*p))
		p++;
	if (p < ps->end && *p == '\r' && p + 1 < ps->end && p[1] == '\n')
		p++;
	if (p < ps->end && *p != '\n')
		return 0;
	*line_start = ls;
	*next = p < ps->end ? p + 1 : p;
	return 1;
}

static int set_delimiters(struct parser *ps, const struct tag *t)
{
	const char *p = t->name, *end = t->name + t->len;
	size_t o = 0, c;

	while (o < t->len && !is_blank(p[o]))
		o++;
	p += o;
	while (p < end && is_blank(*p))
		p++;
	c = (size_t)(end - p);
	if (!o || !c || o >= sizeof(ps->otag) || c >= sizeof(ps->ctag) ||
	    memchr(p, ' ', c) || memchr(p, '=', c) || memchr(t->name, '=', o))
		return error("%s:%d: bad delimiters '%.*s'", ps->name,
			     line_of(ps, t->start), (int)t->len, t->name);
	memcpy(ps->otag, t->name, o);
	ps->otag[o] = '\0';
	ps->olen = o;
	memcpy(ps->ctag, p, c);
	ps->ctag[c] = '\0';
	ps->clen = c;
	return 0;
}

static int valid_partial_name(const char *s, size_t len)
{
	int segment = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '/') {
			if (!segment)
				return 0;
			segment = 0;
		} else if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			   (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-') {
			segment = 1;
		} else {
			return 0;
		}
	}
	return segment;
}

static const struct tmpl *load_partial(struct parser *ps, const struct tag *t)
{
	struct buf file = BUF_INIT;
	const char *base = strrchr(ps->name, '/'), *suffix;
	const struct tmpl *partial = NULL;

	suffix = strchr(base ? base + 1 : ps->name, '.');
	if (!valid_partial_name(t->name, t->len))
		error("%s:%d: partial name '%.*s' is not allowed (letters, digits,"
		      " '-', '_' and '/' only)", ps->name, line_of(ps, t->start),
		      (int)t->len, t->name);
	else if (!ps->dir)
		error("%s:%d: unknown partial '%.*s'", ps->name,
		      line_of(ps, t->start), (int)t->len, t->name);
	else {
		buf_add(&file, t->name, t->len);
		buf_adds(&file, suffix ? suffix : "");
		partial = tmpl_dir_load(ps->dir, file.data);
		if (!partial)
			error("%s:%d: in partial '%s'", ps->name,
			      line_of(ps, t->start), file.data);
	}
	buf_release(&file);
	return partial;
}

static int parse_block(struct parser *ps, struct node *parent,
		       const struct tag *open);

/* Handles one tag; sections recurse. Returns 1 when it closes parent. */
static int handle_tag(struct parser *ps, struct node *parent,
		      const struct tag *open, const struct tag *t,
		      const char *indent, size_t indent_len)
{
	struct node *n;

	switch (t->kind) {
	case '!':
		return 0;
	case '=':
		return set_delimiters(ps, t);
	case '#':
	case '^':
		n = add_node(parent, t->kind == '#' ? N_SECTION : N_INVERTED,
			     t->name, t->len);
		return parse_block(ps, n, t);
	case '/':
		if (!open)
			return error("%s:%d: '/%.*s' closes no section", ps->name,
				     line_of(ps, t->start), (int)t->len, t->name);
		if (open->len != t->len || memcmp(open->name, t->name, t->len))
			return error("%s:%d: '/%.*s' closes section '%.*s' (line %d)",
				     ps->name, line_of(ps, t->start), (int)t->len,
				     t->name, (int)open->len, open->name,
				     line_of(ps, open->start));
		return 1;
	case '>':
		n = add_node(parent, N_PARTIAL, t->name, t->len);
		n->partial = load_partial(ps, t);
		if (indent_len)
			n->indent = xstrndup(indent, indent_len);
		return n->partial ? 0 : -1;
	default:
		add_node(parent, t->kind ? N_RAW : N_VAR, t->name, t->len);
		return 0;
	}
}

/* Parses until the tag closing open (or the end, for the top level). */
static int parse_block(struct parser *ps, struct node *parent,
		       const struct tag *open)
{
	for (;;) {
		const char *at = find(ps->p, ps->end, ps->otag, ps->olen);
		const char *text_end, *next, *line_start = NULL;
		struct tag t;
		int rc;

		if (!at) {
			if (ps->p < ps->end)
				add_node(parent, N_TEXT, ps->p, (size_t)(ps->end - ps->p));
			ps->p = ps->end;
			if (open)
				return error("%s:%d: section '%.*s' is never closed",
					     ps->name, line_of(ps, open->start),
					     (int)open->len, open->name);
			return 0;
		}
		if (read_tag(ps, at, &t))
			return -1;
		text_end = at;
		next = t.after;
		if (standalone(ps, &t, &line_start, &next))
			text_end = line_start;
		if (text_end > ps->p)
			add_node(parent, N_TEXT, ps->p, (size_t)(text_end - ps->p));
		ps->p = next;
		rc = handle_tag(ps, parent, open, &t, line_start,
				line_start ? (size_t)(at - line_start) : 0);
		if (rc)
			return rc > 0 ? 0 : -1;
	}
}

struct tmpl *tmpl_compile(struct tmpl_dir *d, const char *name,
			  const char *src, size_t len)
{
	struct tmpl *t = xcalloc(1, sizeof(*t));
	struct parser ps = { d, name, src, src, src + len, "{{", "}}", 2, 2 };
	const char *base = strrchr(name, '/');

	t->name = xstrdup(name);
	t->escape_html = strstr(base ? base : name, ".html") != NULL;
	t->root.type = N_SECTION;
	if (parse_block(&ps, &t->root, NULL)) {
		tmpl_free(t);
		return NULL;
	}
	return t;
}

void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	node_release(&t->root);
	free(t->name);
	free(t);
}

/* ---- the templates folder --------------------------------------------------------- */

struct tmpl_dir *tmpl_dir_new(const char *dir)
{
	struct tmpl_dir *d = xcalloc(1, sizeof(*d));

	d->dir = xstrdup(dir);
	return d;
}

void tmpl_dir_free(struct tmpl_dir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nloaded; i++)
		tmpl_free(d->loaded[i]);
	free(d->loaded);
	free(d->dir);
	free(d);
}

static const struct tmpl *find_loaded(const struct tmpl_dir *d, const char *path)
{
	for (size_t i = 0; i < d->nloaded; i++)
		if (!strcmp(d->loaded[i]->name, path))
			return d->loaded[i];
	return NULL;
}

static int being_loaded(const struct tmpl_dir *d, const char *path)
{
	for (size_t i = 0; i < d->nloading; i++)
		if (!strcmp(d->loading[i], path))
			return 1;
	return 0;
}

const struct tmpl *tmpl_dir_load(struct tmpl_dir *d, const char *name)
{
	struct buf path = BUF_INIT, src = BUF_INIT;
	struct tmpl *t = NULL;
	const struct tmpl *done = NULL;

	buf_addf(&path, "%s/%s", d->dir, name);
	if ((done = find_loaded(d, path.data)))
		goto out;
	if (being_loaded(d, path.data) || d->nloading == MAX_PARTIAL_DEPTH) {
		error("'%s': partials include each other without end", path.data);
		goto out;
	}
	if (read_file(path.data, &src))
		goto out;
	d->loading[d->nloading++] = path.data;
	t = tmpl_compile(d, path.data, src.data, src.len);
	d->nloading--;
	if (t) {
		d->loaded = xrealloc(d->loaded, (d->nloaded + 1) * sizeof(*d->loaded));
		d->loaded[d->nloaded++] = t;
	}
	done = t;
out:
	buf_release(&path);
	buf_release(&src);
	return done;
}

/* ---- rendering ------------------------------------------------------------------- */

struct stack {
	const struct tv **items;
	size_t            n, cap;
};

static void push(struct stack *s, const struct tv *v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
	}
	s->items[s->n++] = v;
}

/* The spec's lookup: the first part of a dotted name is searched for
 * through the stack, innermost first; the rest only inside what it found. */
static const struct tv *lookup(const struct stack *s, const char *name, size_t len)
{
	const char *dot = memchr(name, '.', len);
	size_t first = dot ? (size_t)(dot - name) : len;
	const struct tv *v = NULL;

	if (len == 1 && *name == '.')
		return s->n ? s->items[s->n - 1] : NULL;
	for (size_t i = s->n; i-- > 0 && !v;)
		v = tv_get(s->items[i], name, first);
	while (v && dot) {
		name = dot + 1;
		len -= first + 1;
		dot = memchr(name, '.', len);
		first = dot ? (size_t)(dot - name) : len;
		v = tv_get(v, name, first);
	}
	return v;
}

static void render_nodes(const struct tmpl *t, const struct node *parent,
			 struct stack *s, struct buf *out);

static void render_value(const struct tmpl *t, const struct node *n,
			 const struct stack *s, struct buf *out)
{
	const struct tv *v = lookup(s, n->text, n->len);

	if (!v || (v->kind != TV_STRING && v->kind != TV_BOOL))
		return;
	if (v->kind == TV_BOOL)
		buf_adds(out, v->truth ? "true" : "false");
	else if (n->type == N_VAR && t->escape_html)
		html_escape(out, v->s, v->len);
	else
		buf_add(out, v->s, v->len);
}

static void render_section(const struct tmpl *t, const struct node *n,
			   struct stack *s, struct buf *out)
{
	const struct tv *v = lookup(s, n->text, n->len);

	if (n->type == N_INVERTED) {
		if (!tv_truthy(v))
			render_nodes(t, n, s, out);
		return;
	}
	if (!tv_truthy(v))
		return;
	if (v->kind == TV_LIST) {
		for (size_t i = 0; i < v->n; i++) {
			push(s, v->items[i]);
			render_nodes(t, n, s, out);
			s->n--;
		}
		return;
	}
	push(s, v);
	render_nodes(t, n, s, out);
	s->n--;
}

/* A standalone partial is indented like the tag that named it. */
static void render_partial(const struct node *n, struct stack *s, struct buf *out)
{
	struct buf tmp = BUF_INIT;

	if (!n->indent) {
		render_nodes(n->partial, &n->partial->root, s, out);
		return;
	}
	render_nodes(n->partial, &n->partial->root, s, &tmp);
	for (const char *p = tmp.data; *p;) {
		size_t len = strcspn(p, "\n");

		buf_adds(out, n->indent);
		buf_add(out, p, len + (p[len] == '\n'));
		p += len + (p[len] == '\n');
	}
	buf_release(&tmp);
}

static void render_nodes(const struct tmpl *t, const struct node *parent,
			 struct stack *s, struct buf *out)
{
	for (size_t i = 0; i < parent->nchildren; i++) {
		const struct node *n = &parent->children[i];

		switch (n->type) {
		case N_TEXT:     buf_add(out, n->text, n->len); break;
		case N_VAR:
		case N_RAW:      render_value(t, n, s, out); break;
		case N_SECTION:
		case N_INVERTED: render_section(t, n, s, out); break;
		case N_PARTIAL:  render_partial(n, s, out); break;
		}
	}
}

void tmpl_render(const struct tmpl *t, const struct tv *data, struct buf *out)
{
	struct stack s = { NULL, 0, 0 };

	if (data)
		push(&s, data);
	render_nodes(t, &t->root, &s, out);
	free(s.items);
}
