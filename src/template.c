#include "template.h"

#include <stdint.h>
#include <string.h>

#include "util.h"

/*
 * A template compiles to a flat list of ops. A section op records the
 * index just past its body, so rendering is a loop over the list that
 * recurses into a body once per context pushed; names are split into
 * their dotted segments at compile time. The context stack lives in
 * frames on the C stack, so a render allocates nothing but its output.
 */

/* The parser keeps open sections in a fixed array, and rendering recurses
 * once per level: a bound keeps a hostile template off the C stack. */
#define TMPL_MAX_DEPTH 100
/* A template is a page of markup; bigger is a mistake or an attack. */
#define TMPL_MAX_FILE (1024 * 1024)

/* ---- values ------------------------------------------------------------- */

struct tv_slot {
	char      *key;		/* NULL in lists */
	size_t     klen;
	struct tv *v;		/* owned */
};

struct tv {
	enum tv_kind    kind;
	int             truth;	/* TV_BOOL */
	char           *s;	/* TV_STRING, NUL-terminated */
	size_t          len;	/* TV_STRING, may hold NULs */
	struct tv_slot *slots;	/* TV_LIST, TV_MAP: in insertion order */
	size_t          n, cap;
};

/* Grows an array of size-byte items so that it holds need of them. */
static void *S_grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 8;

	if (need <= *cap)
		return p;
	if (need > SIZE_MAX / size / 2)
		die(EX_SOFTWARE, "array size overflow");
	while (c < need)
		c *= 2;
	*cap = c;
	return xrealloc(p, c * size);
}

static struct tv *S_tv_new(enum tv_kind kind)
{
	struct tv *v = xcalloc(1, sizeof(*v));

	v->kind = kind;
	return v;
}

struct tv *tv_map(void)
{
	return S_tv_new(TV_MAP);
}

struct tv *tv_list(void)
{
	return S_tv_new(TV_LIST);
}

struct tv *tv_bool(int truth)
{
	struct tv *v = S_tv_new(TV_BOOL);

	v->truth = !!truth;
	return v;
}

struct tv *tv_strn(const char *s, size_t n)
{
	struct tv *v = S_tv_new(TV_STRING);

	v->s = xstrndup(s, n);
	v->len = n;
	return v;
}

struct tv *tv_str(const char *s)
{
	return s ? tv_strn(s, strlen(s)) : S_tv_new(TV_NULL);
}

static struct tv_slot *S_slot(const struct tv *map, const char *key,
			      size_t klen)
{
	for (size_t i = 0; i < map->n; i++)
		if (map->slots[i].klen == klen &&
		    !memcmp(map->slots[i].key, key, klen))
			return &map->slots[i];
	return NULL;
}

static struct tv_slot *S_append(struct tv *v)
{
	struct tv_slot *slot;

	v->slots = S_grow(v->slots, &v->cap, v->n + 1, sizeof(*v->slots));
	slot = &v->slots[v->n++];
	memset(slot, 0, sizeof(*slot));
	return slot;
}

struct tv *tv_set(struct tv *map, const char *key, struct tv *child)
{
	size_t klen = strlen(key);
	struct tv_slot *slot;

	if (!map || map->kind != TV_MAP)
		die(EX_SOFTWARE, "tv_set '%s' on a value that is not a map",
		    key);
	if (!child)
		child = S_tv_new(TV_NULL);
	slot = S_slot(map, key, klen);
	if (!slot) {
		slot = S_append(map);
		slot->key = xstrndup(key, klen);
		slot->klen = klen;
	} else if (slot->v != child) {
		tv_free(slot->v);
	}
	slot->v = child;
	return child;
}

void tv_set_str(struct tv *map, const char *key, const char *s)
{
	tv_set(map, key, tv_str(s));
}

struct tv *tv_push(struct tv *list, struct tv *child)
{
	if (!list || list->kind != TV_LIST)
		die(EX_SOFTWARE, "tv_push on a value that is not a list");
	if (!child)
		child = S_tv_new(TV_NULL);
	S_append(list)->v = child;
	return child;
}

void tv_free(struct tv *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->slots[i].key);
		tv_free(v->slots[i].v);
	}
	free(v->slots);
	free(v->s);
	free(v);
}

/* ---- compiled templates ------------------------------------------------- */

enum op_kind { OP_TEXT, OP_VAR, OP_RAW, OP_SECTION, OP_INVERTED, OP_PARTIAL };

struct span {
	size_t at, len;		/* in the template's src */
};

struct op {
	enum op_kind       kind;
	size_t             at, len;	/* the text, or the tag's name */
	size_t             part, nparts; /* name segments in t->parts */
	size_t             end;		/* sections: past the body */
	const struct tmpl *partial;	/* owned by the folder */
};

struct tmpl {
	char        *name;	/* chooses escaping and partials' suffix */
	char        *path;	/* for messages */
	char        *src;	/* ops and delimiters point into it */
	size_t       len;
	int          html;	/* escape {{x}} for HTML */
	struct op   *ops;
	size_t       nops, ops_cap;
	struct span *parts;	/* "." has none */
	size_t       nparts, parts_cap;
};

struct tmpl_entry {
	char        *name;	/* file name inside the folder */
	char        *indent;	/* a standalone partial's indentation */
	struct tmpl *t;
};

struct tmpl_dir {
	char              *dir;
	struct tmpl_entry *v;
	size_t             n, cap;
};

/* The names being compiled, innermost first: a partial found here recurses. */
struct chain {
	const char         *name;
	const struct chain *up;
};

struct parser {
	struct tmpl_dir    *d;		/* may be NULL: no partials */
	struct tmpl        *t;
	const struct chain *chain;
	size_t              pos;	/* where the next text starts */
	const char         *open, *close; /* the current delimiters */
	size_t              olen, clen;
	size_t              secs[TMPL_MAX_DEPTH]; /* open section ops */
	size_t              depth;
};

struct tag {
	int    sigil;		/* # ^ / ! > & { =, or 0 for a variable */
	size_t start, end;	/* the whole tag, delimiters included */
	size_t at, len;		/* its contents, trimmed */
};

static int S_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int S_line(const struct tmpl *t, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && i < t->len; i++)
		line += t->src[i] == '\n';
	return line;
}

static struct op *S_add_op(struct tmpl *t, enum op_kind kind, size_t at,
			   size_t len)
{
	struct op *op;

	t->ops = S_grow(t->ops, &t->ops_cap, t->nops + 1, sizeof(*t->ops));
	op = &t->ops[t->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->at = at;
	op->len = len;
	return op;
}

static void S_add_text(struct tmpl *t, size_t from, size_t to)
{
	if (to > from)
		S_add_op(t, OP_TEXT, from, to - from);
}

static void S_add_part(struct tmpl *t, size_t at, size_t len)
{
	t->parts = S_grow(t->parts, &t->parts_cap, t->nparts + 1,
			  sizeof(*t->parts));
	t->parts[t->nparts].at = at;
	t->parts[t->nparts].len = len;
	t->nparts++;
}

void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->path);
	free(t->src);
	free(t->ops);
	free(t->parts);
	free(t);
}

/* ---- parsing: tags ------------------------------------------------------ */

static int S_bad_name(const struct parser *p, const struct tag *tag)
{
	return error("%s:%d: bad name '%.*s'", p->t->path,
		     S_line(p->t, tag->start), (int)tag->len,
		     p->t->src + tag->at);
}

/* Splits the tag's name at its dots into t->parts. */
static int S_name(struct parser *p, const struct tag *tag, struct op *op)
{
	const char *s = p->t->src + tag->at;
	size_t seg = 0;

	op->part = p->t->nparts;
	if (!tag->len)
		return error("%s:%d: missing name in tag", p->t->path,
			     S_line(p->t, tag->start));
	if (tag->len == 1 && *s == '.')
		return 0;
	for (size_t i = 0; i <= tag->len; i++) {
		if (i < tag->len && S_is_space(s[i]))
			return S_bad_name(p, tag);
		if (i < tag->len && s[i] != '.')
			continue;
		if (i == seg)
			return S_bad_name(p, tag);
		S_add_part(p->t, tag->at + seg, i - seg);
		op->nparts++;
		seg = i + 1;
	}
	return 0;
}

static int S_var(struct parser *p, const struct tag *tag, enum op_kind kind)
{
	return S_name(p, tag, S_add_op(p->t, kind, tag->at, tag->len));
}

static int S_open(struct parser *p, const struct tag *tag)
{
	enum op_kind kind = tag->sigil == '#' ? OP_SECTION : OP_INVERTED;

	if (p->depth == TMPL_MAX_DEPTH)
		return error("%s:%d: sections nested too deeply", p->t->path,
			     S_line(p->t, tag->start));
	p->secs[p->depth++] = p->t->nops;
	return S_name(p, tag, S_add_op(p->t, kind, tag->at, tag->len));
}

static int S_close(struct parser *p, const struct tag *tag)
{
	struct tmpl *t = p->t;
	const char *name = t->src + tag->at;
	struct op *open;

	if (!p->depth)
		return error("%s:%d: close of unopened section '%.*s'", t->path,
			     S_line(t, tag->start), (int)tag->len, name);
	open = &t->ops[p->secs[p->depth - 1]];
	if (open->len != tag->len || memcmp(t->src + open->at, name, tag->len))
		return error("%s:%d: mismatched close '%.*s' of section '%.*s'",
			     t->path, S_line(t, tag->start), (int)tag->len,
			     name, (int)open->len, t->src + open->at);
	open->end = t->nops;
	p->depth--;
	return 0;
}

/* {{=<% %>=}}: the new delimiters point into src, which outlives them. */
static int S_delims(struct parser *p, const struct tag *tag)
{
	const char *s = p->t->src + tag->at;
	size_t n = tag->len, a = 0, b;

	while (a < n && !S_is_space(s[a]) && s[a] != '=')
		a++;
	for (b = a; b < n && S_is_space(s[b]); b++)
		;
	if (!a || b == a || b == n)
		goto bad;
	for (size_t i = b; i < n; i++)
		if (S_is_space(s[i]) || s[i] == '=')
			goto bad;
	p->open = s;
	p->olen = a;
	p->close = s + b;
	p->clen = n - b;
	return 0;
bad:
	return error("%s:%d: bad delimiters '%.*s'", p->t->path,
		     S_line(p->t, tag->start), (int)n, s);
}

/* ---- partials ----------------------------------------------------------- */

static const struct tmpl *S_cached(const struct tmpl_dir *d, const char *name,
				   const char *ind, size_t ilen)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].name, name) &&
		    strlen(d->v[i].indent) == ilen &&
		    !memcmp(d->v[i].indent, ind, ilen))
			return d->v[i].t;
	return NULL;
}

static char *S_path(const struct tmpl_dir *d, const char *name)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, d->dir);
	if (b.len && !buf_ends_with(&b, "/"))
		buf_addch(&b, '/');
	buf_adds(&b, name);
	return buf_detach(&b, NULL);
}

/* [A-Za-z0-9_-] segments joined by '/': no dots, so never "..". */
static int S_partial_name_ok(const char *s, size_t n)
{
	size_t seg = 0;

	for (size_t i = 0; i <= n; i++) {
		int c = i < n ? (unsigned char)s[i] : '/';

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-')
			continue;
		if (c != '/' || i == seg)
			return 0;
		seg = i + 1;
	}
	return 1;
}

/* The partial's file: its name plus the suffix of the parent's file name. */
static char *S_partial_file(const char *parent, const char *s, size_t n)
{
	const char *suffix = strchr(path_basename(parent), '.');
	struct buf b = BUF_INIT;

	buf_add(&b, s, n);
	buf_adds(&b, suffix ? suffix : "");
	return buf_detach(&b, NULL);
}

static int S_in_chain(const struct chain *c, const char *name)
{
	for (; c; c = c->up)
		if (!strcmp(c->name, name))
			return 1;
	return 0;
}

static const struct tmpl *S_build(struct tmpl_dir *d, const char *name,
				  char **path, struct buf *src,
				  const char *ind, size_t ilen,
				  const struct chain *up);

/* Loads the partial file name, with the indentation of its line; sets
 * *missing when the file cannot be read. Returns NULL after error(). */
static const struct tmpl *S_load_partial(struct parser *p, const char *name,
					 const char *ind, size_t ilen,
					 int *missing)
{
	struct buf src = BUF_INIT;
	char *path = NULL;
	const struct tmpl *sub = S_cached(p->d, name, ind, ilen);

	if (sub)
		goto out;
	path = S_path(p->d, name);
	/* names are checked, but a symlink in the folder may still lead out */
	*missing = read_file_inside(p->d->dir, name, TMPL_MAX_FILE, &src) != 0;
	if (*missing)
		goto out;
	sub = S_build(p->d, name, &path, &src, ind, ilen, p->chain);
out:
	free(path);
	buf_release(&src);
	return sub;
}

static int S_partial(struct parser *p, const struct tag *tag, size_t ind_at,
		     size_t ilen)
{
	struct tmpl *t = p->t;
	const char *s = t->src + tag->at;
	int line = S_line(t, tag->start), n = (int)tag->len, ret = -1;
	int missing = 0;
	char *name = NULL;
	const struct tmpl *sub;

	if (!S_partial_name_ok(s, tag->len)) {
		error("%s:%d: bad partial name '%.*s'", t->path, line, n, s);
		goto out;
	}
	if (!p->d) {
		error("%s:%d: partial '%.*s' without a templates folder",
		      t->path, line, n, s);
		goto out;
	}
	name = S_partial_file(t->name, s, tag->len);
	if (S_in_chain(p->chain, name)) {
		error("%s:%d: recursive partial '%.*s'", t->path, line, n, s);
		goto out;
	}
	sub = S_load_partial(p, name, t->src + ind_at, ilen, &missing);
	if (!sub) {
		error("%s:%d: %s partial '%.*s'", t->path, line,
		      missing ? "unknown" : "in", n, s);
		goto out;
	}
	S_add_op(t, OP_PARTIAL, tag->at, tag->len)->partial = sub;
	ret = 0;
out:
	free(name);
	return ret;
}

/* ---- parsing: the template ---------------------------------------------- */

/* Finds the close delimiter from from; { and = tags end with } or = first.
 * Returns the tag's end and sets *content_end, or returns 0. */
static size_t S_find_close(const struct parser *p, size_t from, int want,
			   size_t *content_end)
{
	const char *s = p->t->src, *hit;
	size_t k = from;

	while ((hit = memmem(s + k, p->t->len - k, p->close, p->clen))) {
		k = (size_t)(hit - s);
		if (!want || (k > from && s[k - 1] == want)) {
			*content_end = want ? k - 1 : k;
			return k + p->clen;
		}
		k++;
	}
	return 0;
}

static int S_scan_tag(const struct parser *p, size_t start, struct tag *tag)
{
	const char *s = p->t->src;
	size_t q = start + p->olen, e = 0;
	int want;

	while (q < p->t->len && S_is_space(s[q]))
		q++;
	tag->sigil = 0;
	if (q < p->t->len && s[q] && strchr("#^/!>&{=", s[q]))
		tag->sigil = s[q];
	if (tag->sigil)
		q++;
	want = tag->sigil == '{' ? '}' : tag->sigil == '=' ? '=' : 0;
	tag->start = start;
	tag->end = S_find_close(p, q, want, &e);
	if (!tag->end)
		return error("%s:%d: unclosed tag", p->t->path,
			     S_line(p->t, start));
	while (q < e && S_is_space(s[q]))
		q++;
	while (e > q && S_is_space(s[e - 1]))
		e--;
	tag->at = q;
	tag->len = e - q;
	return 0;
}

/* The spec's standalone rule: a block, comment, partial or delimiter tag
 * alone on its line (but for spaces and tabs) takes the whole line with it.
 * Then *line_start is where its indentation begins, *next past its line. */
static void S_standalone(const struct parser *p, const struct tag *tag,
			 size_t *line_start, size_t *next)
{
	const char *s = p->t->src;
	size_t b = tag->start, e = tag->end, len = p->t->len;

	if (!tag->sigil || !strchr("#^/!>=", tag->sigil))
		return;
	while (b > p->pos && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (b > 0 && s[b - 1] != '\n')
		return;
	while (e < len && (s[e] == ' ' || s[e] == '\t'))
		e++;
	if (e + 1 < len && s[e] == '\r' && s[e + 1] == '\n')
		e += 2;
	else if (e < len && s[e] == '\n')
		e++;
	else if (e < len)
		return;
	*line_start = b;
	*next = e;
}

static int S_handle(struct parser *p, const struct tag *tag, size_t ind_at,
		    size_t ilen)
{
	switch (tag->sigil) {
	case '!':
		return 0;
	case '=':
		return S_delims(p, tag);
	case '#':
	case '^':
		return S_open(p, tag);
	case '/':
		return S_close(p, tag);
	case '>':
		return S_partial(p, tag, ind_at, ilen);
	case '&':
	case '{':
		return S_var(p, tag, OP_RAW);
	default:
		return S_var(p, tag, OP_VAR);
	}
}

static int S_parse(struct parser *p)
{
	struct tmpl *t = p->t;
	const char *hit;
	struct tag tag;
	size_t text_end, next;

	while ((hit = memmem(t->src + p->pos, t->len - p->pos, p->open,
			     p->olen))) {
		if (S_scan_tag(p, (size_t)(hit - t->src), &tag))
			return -1;
		text_end = tag.start;
		next = tag.end;
		S_standalone(p, &tag, &text_end, &next);
		S_add_text(t, p->pos, text_end);
		if (S_handle(p, &tag, text_end, tag.start - text_end))
			return -1;
		p->pos = next;
	}
	S_add_text(t, p->pos, t->len);
	if (p->depth) {
		const struct op *open = &t->ops[p->secs[p->depth - 1]];

		return error("%s:%d: unclosed section '%.*s'", t->path,
			     S_line(t, open->at), (int)open->len,
			     t->src + open->at);
	}
	return 0;
}

/* Compiles src (len bytes, NUL-terminated), taking ownership of path and
 * src. Returns NULL after error(). */
static struct tmpl *S_compile(struct tmpl_dir *d, const char *name, char *path,
			      char *src, size_t len, const struct chain *chain)
{
	struct tmpl *t = xcalloc(1, sizeof(*t));
	struct parser p;

	t->name = xstrdup(name);
	t->path = path;
	t->src = src;
	t->len = len;
	t->html = strstr(name, ".html") != NULL;
	memset(&p, 0, sizeof(p));
	p.d = d;
	p.t = t;
	p.chain = chain;
	p.open = "{{";
	p.olen = 2;
	p.close = "}}";
	p.clen = 2;
	if (S_parse(&p)) {
		tmpl_free(t);
		t = NULL;
	}
	return t;
}

/* Prefixes every line of in with the indentation of a standalone partial,
 * as the spec says; done on the source so interpolated values stay as
 * they are. */
static void S_indent(const struct buf *in, const char *ind, size_t ilen,
		     struct buf *out)
{
	size_t i = 0, j;

	while (i < in->len) {
		const char *nl = memchr(in->data + i, '\n', in->len - i);

		j = nl ? (size_t)(nl - in->data) + 1 : in->len;
		buf_add(out, ind, ilen);
		buf_add(out, in->data + i, j - i);
		i = j;
	}
}

/* Compiles the file name from src and keeps it in d. Takes *path and
 * src's contents. Returns NULL after error(). */
static const struct tmpl *S_build(struct tmpl_dir *d, const char *name,
				  char **path, struct buf *src,
				  const char *ind, size_t ilen,
				  const struct chain *up)
{
	struct chain link = { name, up };
	struct buf indented = BUF_INIT;
	struct tmpl_entry *e;
	struct tmpl *t;
	size_t len;
	char *data;

	if (ilen)
		S_indent(src, ind, ilen, &indented);
	data = buf_detach(ilen ? &indented : src, &len);
	t = S_compile(d, name, *path, data, len, &link);
	*path = NULL;
	if (!t)
		return NULL;
	d->v = S_grow(d->v, &d->cap, d->n + 1, sizeof(*d->v));
	e = &d->v[d->n++];
	e->name = xstrdup(name);
	e->indent = xstrndup(ind, ilen);
	e->t = t;
	return t;
}

/* ---- the folder --------------------------------------------------------- */

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
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].indent);
		tmpl_free(d->v[i].t);
	}
	free(d->v);
	free(d->dir);
	free(d);
}

/* Top-level names come from configuration, not templates, so they may
 * hold dots; still they stay inside the folder. */
static int S_load_name_ok(const char *name)
{
	const char *s = name;

	if (!*name || *name == '/')
		return 0;
	while (s) {
		if (!strncmp(s, "..", 2) && (s[2] == '/' || !s[2]))
			return 0;
		s = strchr(s, '/');
		s = s ? s + 1 : NULL;
	}
	return 1;
}

const struct tmpl *tmpl_dir_load(struct tmpl_dir *d, const char *name)
{
	struct buf src = BUF_INIT;
	char *path = NULL;
	const struct tmpl *t = NULL;

	if (!S_load_name_ok(name)) {
		error("bad template name '%s'", name);
		goto out;
	}
	t = S_cached(d, name, "", 0);
	if (t)
		goto out;
	path = S_path(d, name);
	if (read_file_inside(d->dir, name, TMPL_MAX_FILE, &src))
		goto out;
	t = S_build(d, name, &path, &src, "", 0, NULL);
out:
	free(path);
	buf_release(&src);
	return t;
}

struct tmpl *tmpl_compile(struct tmpl_dir *d, const char *name,
			  const char *src, size_t len)
{
	struct chain link = { name, NULL };

	return S_compile(d, name, xstrdup(name), xstrndup(src, len), len,
			 &link);
}

/* ---- rendering ---------------------------------------------------------- */

/* One context on the stack of sections being rendered. */
struct frame {
	const struct tv    *v;
	const struct frame *up;
};

static const struct tv *S_get(const struct tv *v, const char *key, size_t klen)
{
	const struct tv_slot *slot;

	if (!v || v->kind != TV_MAP)
		return NULL;
	slot = S_slot(v, key, klen);
	return slot ? slot->v : NULL;
}

/* The first segment is searched up the stack; the rest only below it,
 * so a broken chain renders nothing rather than an outer value. */
static const struct tv *S_lookup(const struct tmpl *t, const struct op *op,
				 const struct frame *f)
{
	const struct span *part;
	const struct tv *v = NULL;

	if (!op->nparts)
		return f->v;
	part = &t->parts[op->part];
	for (; f && !v; f = f->up)
		v = S_get(f->v, t->src + part->at, part->len);
	for (size_t i = 1; v && i < op->nparts; i++)
		v = S_get(v, t->src + part[i].at, part[i].len);
	return v;
}

static int S_truthy(const struct tv *v)
{
	if (!v)
		return 0;
	switch (v->kind) {
	case TV_NULL:
		return 0;
	case TV_BOOL:
		return v->truth;
	case TV_STRING:
		return v->len > 0;
	case TV_LIST:
		return v->n > 0;
	case TV_MAP:
		return 1;
	}
	return 0;
}

/* Strings as they are, booleans as words; lists and maps have no text. */
static void S_emit(struct buf *out, const struct tv *v, int html)
{
	if (!v)
		return;
	if (v->kind == TV_BOOL)
		buf_adds(out, v->truth ? "true" : "false");
	else if (v->kind == TV_STRING && html)
		html_escape(out, v->s, v->len);
	else if (v->kind == TV_STRING)
		buf_add(out, v->s, v->len);
}

/* Where a render writes, and where it must stop: sections over lists
 * multiply, so a 500-byte template can ask for 2^40 bytes. */
struct render {
	struct buf *out;
	size_t      limit;	/* out->len past which rendering stops */
};

static int S_over(const struct render *r)
{
	return r->out->len > r->limit;
}

static void S_render(const struct tmpl *t, size_t from, size_t to,
		     const struct frame *f, struct render *r);

/* A list renders the body once per item; any other truthy value once,
 * pushed as the innermost context. */
static void S_section(const struct tmpl *t, const struct op *op, size_t body,
		      const struct frame *f, struct render *r)
{
	const struct tv *v = S_lookup(t, op, f);
	struct frame inner = { v, f };

	if (!S_truthy(v))
		return;
	if (v->kind != TV_LIST) {
		S_render(t, body, op->end, &inner, r);
		return;
	}
	for (size_t i = 0; i < v->n && !S_over(r); i++) {
		inner.v = v->slots[i].v;
		S_render(t, body, op->end, &inner, r);
	}
}

static void S_render(const struct tmpl *t, size_t from, size_t to,
		     const struct frame *f, struct render *r)
{
	for (size_t i = from; i < to && !S_over(r); i++) {
		const struct op *op = &t->ops[i];

		switch (op->kind) {
		case OP_TEXT:
			buf_add(r->out, t->src + op->at, op->len);
			break;
		case OP_VAR:
		case OP_RAW:
			S_emit(r->out, S_lookup(t, op, f),
			       op->kind == OP_VAR && t->html);
			break;
		case OP_SECTION:
			S_section(t, op, i + 1, f, r);
			i = op->end - 1;
			break;
		case OP_INVERTED:
			if (!S_truthy(S_lookup(t, op, f)))
				S_render(t, i + 1, op->end, f, r);
			i = op->end - 1;
			break;
		case OP_PARTIAL:
			S_render(op->partial, 0, op->partial->nops, f, r);
			break;
		}
	}
}

int tmpl_render(const struct tmpl *t, const struct tv *data, size_t max,
		struct buf *out)
{
	struct frame root = { data, NULL };
	struct render r = { out, max > SIZE_MAX - out->len ? SIZE_MAX
					   : out->len + max };

	if (t)
		S_render(t, 0, t->nops, &root, &r);
	if (S_over(&r))
		return error("%s: renders to more than %zu bytes", t->path, max);
	return 0;
}
