#include "digest.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "buf.h"
#include "utf8.h"
#include "util.h"

/*
 * Bounds that keep hostile input cheap: a digest file is prose of a few
 * kilobytes (cmark may take 160 bytes of tree per byte of a hostile
 * file, so 256 KiB stays near 40 MB); front matter needs two levels (a map of lists or of links);
 * Markdown rarely nests beyond a quote in a list in a list. Renderers
 * recurse per level and the text one builds a prefix per level, so depth
 * must be bounded before rendering.
 */
#define DIGEST_MAX_FILE  (256 * 1024)
#define YAML_MAX_DEPTH   8
#define MD_MAX_DEPTH     32
#define MAX_LINKS        64

/* One Markdown file split into its parts. */
struct source {
	const char *path;
	struct buf  text;
	const char *yaml;	/* the front matter, or NULL */
	size_t      yaml_len;
	const char *body;
	size_t      body_len;
	int         body_line;	/* the file line the body starts on */
};

/*
 * The first C0 or C1 control character (or DEL) in n bytes of valid
 * UTF-8 at s, but those in allowed; *cp gets it. Returns 0 when none.
 * Control characters would drive the reader's terminal, and NUL would
 * cut a C string short.
 */
static int find_control(const char *s, size_t n, const char *allowed,
			uint32_t *cp)
{
	for (size_t i = 0, len; i < n; i += len) {
		len = utf8_decode(s + i, n - i, cp);
		if (!len) {	/* not UTF-8: check_text() says so */
			len = 1;
			continue;
		}
		if ((*cp < 0x20 || (*cp >= 0x7f && *cp <= 0x9f)) &&
		    !(*cp && strchr(allowed, (int)*cp)))
			return 1;
	}
	return 0;
}

/* Line by line: valid UTF-8, and no control characters but tab and CR. */
static int check_text(const char *path, const struct buf *text)
{
	const char *p = text->data, *end = text->data + text->len;
	uint32_t cp;

	for (int line = 1; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (!utf8_valid(p, n))
			return error("%s:%d: not valid UTF-8", path, line);
		if (find_control(p, n, "\t\r", &cp))
			return error("%s:%d: control character U+%04X", path,
				     line, (unsigned)cp);
		p += n + 1;
	}
	return 0;
}

static int is_fence(const char *line, size_t len)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	return len == 3 && (!memcmp(line, "---", 3) || !memcmp(line, "...", 3));
}

/* Finds the front matter: a first line "---" up to the next "---". */
static int split_source(struct source *src)
{
	const char *p = src->text.data, *end = p + src->text.len;
	const char *nl = memchr(p, '\n', src->text.len);
	int line = 2;

	src->body = p;
	src->body_len = src->text.len;
	src->body_line = 1;
	if (!nl || !is_fence(p, (size_t)(nl - p)))
		return 0;
	src->yaml = nl + 1;
	for (p = nl + 1; p < end; line++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (is_fence(p, (size_t)(nl - p))) {
			src->yaml_len = (size_t)(p - src->yaml);
			src->body = nl < end ? nl + 1 : end;
			src->body_len = (size_t)(end - src->body);
			src->body_line = line + 1;
			return 0;
		}
		p = nl + 1;
	}
	return error("%s:1: front matter opened with '---' is never closed",
		     src->path);
}

/* Reads path, the file name inside the folder dir, bounded in size and
 * refused when a symlink leads it outside the folder; or takes the text
 * from memory when text is not NULL (digest_parse_entry). Either way
 * src->text owns a copy. */
static int read_source(struct source *src, const char *dir, const char *path,
		       const char *text, size_t len)
{
	memset(src, 0, sizeof(*src));
	src->path = path;
	buf_init(&src->text, 0);
	if (text) {
		if (len > DIGEST_MAX_FILE)
			return error("'%s' is larger than %d bytes", path,
				     DIGEST_MAX_FILE);
		buf_add(&src->text, text, len);
	} else if (read_file_inside(dir, path_basename(path), DIGEST_MAX_FILE,
				    &src->text)) {
		return -1;
	}
	if (check_text(path, &src->text))
		return -1;
	return split_source(src);
}

/* ---- YAML ---------------------------------------------------------------- */

struct yaml_ctx {
	const char    *path;
	int            line0;	/* file line of the YAML's first line, minus one */
	yaml_document_t doc;
};

static int node_line(const struct yaml_ctx *y, const yaml_node_t *n)
{
	return y->line0 + (int)n->start_mark.line + 1;
}

/* A value as YAML unescaped it ("\e", "\0", "\x9b" ...): one line of
 * text, no control character. */
static char *scalar(const struct yaml_ctx *y, const yaml_node_t *n,
		    const char *key)
{
	const char *v;
	size_t len;
	uint32_t cp;

	if (n->type != YAML_SCALAR_NODE) {
		error("%s:%d: '%s' must be a single value", y->path,
		      node_line(y, n), key);
		return NULL;
	}
	v = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	/* every value may end up in a header or on a terminal */
	if (has_crlf(v, len)) {
		error("%s:%d: '%s' must be one line", y->path, node_line(y, n),
		      key);
		return NULL;
	}
	if (find_control(v, len, "", &cp)) {
		error("%s:%d: '%s' holds control character U+%04X", y->path,
		      node_line(y, n), key, (unsigned)cp);
		return NULL;
	}
	return xstrndup(v, len);
}

static int scalar_list(const struct yaml_ctx *y, yaml_node_t *n,
		       const char *key, char ***out, size_t *count)
{
	yaml_node_item_t *it;

	if (n->type == YAML_SCALAR_NODE) {
		*out = xcalloc(1, sizeof(char *));
		(*out)[0] = scalar(y, n, key);
		*count = (*out)[0] != NULL;
		return *count ? 0 : -1;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return error("%s:%d: '%s' must be a list", y->path,
			     node_line(y, n), key);
	*count = 0;
	*out = xcalloc((size_t)(n->data.sequence.items.top -
				n->data.sequence.items.start) + 1, sizeof(char *));
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node((yaml_document_t *)&y->doc, *it);
		char *s = scalar(y, item, key);

		if (!s)
			return -1;
		(*out)[(*count)++] = s;
	}
	return 0;
}

/* The first of the pairs before last whose key is the scalar key, or NULL. */
static yaml_node_t *earlier_key(const struct yaml_ctx *y, yaml_node_pair_t *first,
				yaml_node_pair_t *last, const yaml_node_t *key)
{
	yaml_document_t *doc = (yaml_document_t *)&y->doc;

	for (yaml_node_pair_t *p = first; p < last; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == key->data.scalar.length &&
		    !memcmp(k->data.scalar.value, key->data.scalar.value,
			    key->data.scalar.length))
			return k;
	}
	return NULL;
}

/* A key given twice is a mistake the editor should see, not a value lost. */
static int repeated_key(const struct yaml_ctx *y, yaml_node_pair_t *first,
			yaml_node_pair_t *pair, const yaml_node_t *k)
{
	yaml_node_t *before = earlier_key(y, first, pair, k);

	if (!before)
		return 0;
	return error("%s:%d: repeated key '%s' (first on line %d)", y->path,
		     node_line(y, k), (const char *)k->data.scalar.value,
		     node_line(y, before));
}

static int link_map(const struct yaml_ctx *y, yaml_node_t *n,
		    struct entry *e)
{
	yaml_node_pair_t *pair;

	if (n->type != YAML_MAPPING_NODE)
		return error("%s:%d: 'links' must be a map such as 'code: URL'",
			     y->path, node_line(y, n));
	if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > MAX_LINKS)
		return error("%s:%d: more than %d links", y->path,
			     node_line(y, n), MAX_LINKS);
	e->links = xcalloc((size_t)(n->data.mapping.pairs.top -
				    n->data.mapping.pairs.start) + 1,
			   sizeof(*e->links));
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_document_t *doc = (yaml_document_t *)&y->doc;
		yaml_node_t *k = yaml_document_get_node(doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(doc, pair->value);
		struct link *l = &e->links[e->nlinks];

		if (!(l->kind = scalar(y, k, "links")))
			return -1;
		e->nlinks++;
		if (repeated_key(y, n->data.mapping.pairs.start, pair, k))
			return -1;
		if (!(l->url = scalar(y, v, l->kind)))
			return -1;
		if (!url_is_web(l->url))
			return error("%s:%d: link '%s' is not an http(s) URL: '%s'",
				     y->path, node_line(y, v), l->kind, l->url);
	}
	return 0;
}

enum field_type { F_SCALAR, F_LIST, F_LINKS };

struct field {
	const char      *key;
	enum field_type  type;
	size_t           offset;	/* of the char * (or char **) member */
	size_t           count;		/* of the size_t count, for lists */
};

static const struct field issue_fields[] = {
	{ "subject", F_SCALAR, offsetof(struct digest, subject), 0 },
	{ "title", F_SCALAR, offsetof(struct digest, title), 0 },
	{ "preheader", F_SCALAR, offsetof(struct digest, preheader), 0 },
	{ "date", F_SCALAR, offsetof(struct digest, date), 0 },
	{ NULL, F_SCALAR, 0, 0 },
};

static const struct field entry_fields[] = {
	{ "title", F_SCALAR, offsetof(struct entry, title), 0 },
	{ "url", F_SCALAR, offsetof(struct entry, url), 0 },
	{ "authors", F_LIST, offsetof(struct entry, authors),
	  offsetof(struct entry, nauthors) },
	{ "tags", F_LIST, offsetof(struct entry, tags),
	  offsetof(struct entry, ntags) },
	{ "links", F_LINKS, 0, 0 },
	{ NULL, F_SCALAR, 0, 0 },
};

static int set_field(const struct yaml_ctx *y, const struct field *f,
		     yaml_node_t *v, void *target)
{
	char **member = (char **)((char *)target + f->offset);

	switch (f->type) {
	case F_SCALAR:
		*member = scalar(y, v, f->key);
		if (!*member)
			return -1;
		if (!strcmp(f->key, "url") && !url_is_web(*member))
			return error("%s:%d: 'url' is not an http(s) URL: '%s'",
				     y->path, node_line(y, v), *member);
		return 0;
	case F_LIST:
		return scalar_list(y, v, f->key, (char ***)member,
				   (size_t *)((char *)target + f->count));
	case F_LINKS:
		return link_map(y, v, target);
	}
	return -1;
}

static const struct field *find_field(const struct field *fields,
				      const char *key)
{
	for (; fields->key; fields++)
		if (!strcmp(fields->key, key))
			return fields;
	return NULL;
}

static int walk_mapping(struct yaml_ctx *y, const struct field *fields,
			void *target)
{
	yaml_node_t *root = yaml_document_get_root_node(&y->doc);
	yaml_node_pair_t *pair;

	if (!root)
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return error("%s:%d: front matter must be 'key: value' lines",
			     y->path, node_line(y, root));
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&y->doc, pair->value);
		const struct field *f;

		if (k->type != YAML_SCALAR_NODE)
			return error("%s:%d: keys must be plain words", y->path,
				     node_line(y, k));
		f = find_field(fields, (const char *)k->data.scalar.value);
		if (!f)
			return error("%s:%d: unknown key '%s'", y->path,
				     node_line(y, k), k->data.scalar.value);
		/* known keys only, so this stays a short loop */
		if (repeated_key(y, root->data.mapping.pairs.start, pair, k) ||
		    set_field(y, f, v, target))
			return -1;
	}
	return 0;
}

/*
 * Refuses front matter nested deeper than YAML_MAX_DEPTH or using
 * aliases, reading events and stopping at the first refused: libyaml's
 * loader would build (slowly) whatever depth it is given. Syntax errors
 * are left to the loader, which reports them better.
 */
static int check_yaml_shape(const struct source *src, int line0)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, ret = 0, done = 0, line;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)src->yaml,
				     src->yaml_len);
	while (!done && yaml_parser_parse(&parser, &ev)) {
		if (ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (ev.type == YAML_SEQUENCE_END_EVENT ||
			 ev.type == YAML_MAPPING_END_EVENT)
			depth--;
		line = line0 + (int)ev.start_mark.line + 1;
		if (depth > YAML_MAX_DEPTH)
			ret = error("%s:%d: front matter nested deeper than %d "
				    "levels", src->path, line, YAML_MAX_DEPTH);
		/* each use of an alias copies its value: a few bytes of
		 * "*a, *a, ..." would take gigabytes */
		else if (ev.type == YAML_ALIAS_EVENT)
			ret = error("%s:%d: front matter may not use aliases "
				    "('*name')", src->path, line);
		done = ret || ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return ret;
}

static int parse_front_matter(const struct source *src,
			      const struct field *fields, void *target)
{
	struct yaml_ctx y;
	yaml_parser_t parser;
	int ret;

	if (!src->yaml)
		return 0;
	memset(&y, 0, sizeof(y));
	y.path = src->path;
	y.line0 = 1;	/* the "---" line */
	if (check_yaml_shape(src, y.line0))
		return -1;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)src->yaml,
				     src->yaml_len);
	if (!yaml_parser_load(&parser, &y.doc)) {
		/* the context ("while parsing a flow sequence") points at the
		 * line the editor wrote; the problem mark may be past it */
		yaml_mark_t mark = parser.context ? parser.context_mark
						  : parser.problem_mark;

		ret = error("%s:%d: front matter is not valid YAML: %s%s%s",
			    src->path, y.line0 + (int)mark.line + 1,
			    parser.context ? parser.context : "",
			    parser.context ? ", " : "",
			    parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return ret;
	}
	ret = walk_mapping(&y, fields, target);
	yaml_document_delete(&y.doc);
	yaml_parser_delete(&parser);
	return ret;
}

/* ---- Markdown bodies ----------------------------------------------------- */

int url_is_web(const char *url)
{
	const char *rest;

	if (!strncasecmp(url, "https://", 8))
		rest = url + 8;
	else if (!strncasecmp(url, "http://", 7))
		rest = url + 7;
	else
		return 0;
	if (!*rest || *rest == '/')
		return 0;
	for (; *rest; rest++)
		if ((unsigned char)*rest <= ' ')
			return 0;
	return 1;
}

/* A relative image path that stays inside the folder: no "..", no "/" start. */
static int local_path_ok(const char *path)
{
	const char *p = path;

	if (!*path || *path == '/' || strchr(path, ':') || strchr(path, '\\'))
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");

		if ((n == 2 && !memcmp(p, "..", 2)) || n == 0)
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

static void add_image(struct digest *d, const char *path)
{
	for (size_t i = 0; i < d->nimages; i++)
		if (!strcmp(d->images[i], path))
			return;
	d->images = xrealloc(d->images, (d->nimages + 1) * sizeof(char *));
	d->images[d->nimages++] = xstrdup(path);
}

static int check_image(struct digest *d, const struct source *src,
		       const char *url, int line)
{
	struct stat st;
	char *real;
	int ret = 0;

	/* Remote images are blocked by many clients and cannot be sized. */
	if (!local_path_ok(url))
		return error("%s:%d: image '%s' must be a file in the digest "
			     "folder", src->path, line, url);
	/* the text of the path is not enough: a symlink may lead out */
	real = path_inside(d->dir, url);
	if (!real && errno == EXDEV)
		ret = error("%s:%d: image '%s' leads outside the digest folder",
			    src->path, line, url);
	else if (!real || stat(real, &st) || !S_ISREG(st.st_mode))
		ret = error("%s:%d: image '%s' does not exist", src->path,
			    line, url);
	else
		add_image(d, url);
	free(real);
	return ret;
}

/* The line of a node: inlines have none, so use the nearest block's. */
static int source_line(const struct source *src, cmark_node *node)
{
	while (node && !cmark_node_get_start_line(node))
		node = cmark_node_parent(node);
	return src->body_line - 1 + (node ? cmark_node_get_start_line(node) : 1);
}

/* Remembers raw HTML, which the issue drops unless allow-raw-html is set. */
static void add_raw_html(struct digest *d, const struct source *src, int line)
{
	struct buf at = BUF_INIT;

	buf_addf(&at, "%s:%d", src->path, line);
	/* "<b>x</b>" is two inlines: one line, one warning */
	if (d->nraw_html && !strcmp(d->raw_html[d->nraw_html - 1], at.data)) {
		buf_release(&at);
		return;
	}
	d->raw_html = xrealloc(d->raw_html, (d->nraw_html + 1) * sizeof(char *));
	d->raw_html[d->nraw_html++] = buf_detach(&at, NULL);
}

/*
 * Text as cmark decoded it (entities such as "&#x1b;" included) keeps
 * to tabs and line breaks: control characters would reach the reader's
 * terminal through the text part. cmark turns NUL into U+FFFD.
 */
static int check_literal(const struct source *src, const char *what,
			 const char *s, int line)
{
	uint32_t cp;

	if (s && find_control(s, strlen(s), "\t\n", &cp))
		return error("%s:%d: control character U+%04X in %s", src->path,
			     line, (unsigned)cp, what);
	return 0;
}

static int check_node(struct digest *d, const struct source *src,
		      cmark_node *node)
{
	cmark_node_type type = cmark_node_get_type(node);
	const char *url = cmark_node_get_url(node);
	int line = source_line(src, node);

	if (check_literal(src, "the text", cmark_node_get_literal(node), line) ||
	    check_literal(src, "a URL", url, line) ||
	    check_literal(src, "a title", cmark_node_get_title(node), line) ||
	    check_literal(src, "a code block's info",
			  cmark_node_get_fence_info(node), line))
		return -1;
	if (type == CMARK_NODE_HTML_BLOCK || type == CMARK_NODE_HTML_INLINE)
		add_raw_html(d, src, line);
	if (type == CMARK_NODE_IMAGE)
		return check_image(d, src, url, line);
	if (type == CMARK_NODE_LINK && !url_is_web(url) &&
	    strncasecmp(url, "mailto:", 7))
		return error("%s:%d: link '%s' must be an absolute http(s) or "
			     "mailto URL", src->path, line, url);
	return 0;
}

/* The iterator walks without recursion, so depth is checked here before
 * any renderer recurses into the tree; counting stops past the bound. */
static int too_deep(const struct source *src, cmark_node *node)
{
	int depth = 0;

	for (cmark_node *p = node; p && depth <= MD_MAX_DEPTH; p = cmark_node_parent(p))
		depth++;
	if (depth <= MD_MAX_DEPTH)
		return 0;
	return error("%s:%d: Markdown nested deeper than %d levels", src->path,
		     source_line(src, node), MD_MAX_DEPTH);
}

static cmark_node *parse_body(struct digest *d, const struct source *src)
{
	cmark_node *doc = cmark_parse_document(src->body, src->body_len,
					       CMARK_OPT_DEFAULT);
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;
	int bad = 0;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *node = cmark_iter_get_node(it);

		if (ev != CMARK_EVENT_ENTER)
			continue;
		if (too_deep(src, node)) {
			bad = 1;
			break;
		}
		if (check_node(d, src, node))
			bad = 1;
	}
	cmark_iter_free(it);
	if (bad) {
		cmark_node_free(doc);
		return NULL;
	}
	return doc;
}

/* ---- the folder ------------------------------------------------------------ */

static int require(const struct source *src, const char *value,
		   const char *key)
{
	if (!value || !*value)
		return error("%s:1: missing required '%s'", src->path, key);
	return 0;
}

static int load_issue(struct digest *d, const char *path, int must_exist)
{
	struct source src;
	struct stat st;
	int ret = -1;

	if (!must_exist && lstat(path, &st))
		return 0;
	if (read_source(&src, d->dir, path, NULL, 0))
		goto out;
	if (must_exist) {
		if (parse_front_matter(&src, issue_fields, d) ||
		    require(&src, d->subject, "subject"))
			goto out;
		d->intro = parse_body(d, &src);
		ret = d->intro ? 0 : -1;
	} else {
		/* an outro has nothing to say in front matter but may have one */
		if (src.yaml_len)
			error("%s: outro.md takes no front matter", path);
		else
			d->outro = parse_body(d, &src);
		ret = d->outro ? 0 : -1;
	}
out:
	buf_release(&src.text);
	return ret;
}

/* Loads e from path, or from text when it is not NULL. */
static int load_entry(struct digest *d, struct entry *e, const char *path,
		      const char *text, size_t len)
{
	struct source src;
	int ret = -1;

	e->file = xstrdup(path);
	if (read_source(&src, d->dir, path, text, len))
		goto out;
	if (parse_front_matter(&src, entry_fields, e) ||
	    require(&src, e->title, "title") || require(&src, e->url, "url"))
		goto out;
	e->body = parse_body(d, &src);
	ret = e->body ? 0 : -1;
out:
	buf_release(&src.text);
	return ret;
}

static int is_entry_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 3 && !strcmp(name + n - 3, ".md") &&
	       strcmp(name, "issue.md") && strcmp(name, "outro.md");
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int entry_filter(const struct dirent *de)
{
	return is_entry_name(de->d_name);
}

static int load_entries(struct digest *d)
{
	struct dirent **names;
	int n = scandir(d->dir, &names, entry_filter, by_name), bad = 0;

	if (n < 0)
		return error("cannot read folder '%s'", d->dir);
	d->entries = xcalloc((size_t)n + 1, sizeof(*d->entries));
	for (int i = 0; i < n; i++) {
		struct buf path = BUF_INIT;

		buf_addf(&path, "%s/%s", d->dir, names[i]->d_name);
		if (load_entry(d, &d->entries[d->nentries++], path.data, NULL, 0))
			bad = 1;
		buf_release(&path);
		free(names[i]);
	}
	free(names);
	if (!bad && !d->nentries)
		return error("'%s' has no entries (*.md files besides issue.md)",
			     d->dir);
	return bad ? -1 : 0;
}

int digest_parse_entry(struct digest *d, struct entry *e, const char *path,
		       const char *text, size_t len)
{
	memset(e, 0, sizeof(*e));
	if (!load_entry(d, e, path, text, len))
		return 0;
	digest_entry_release(e);
	return -1;
}

static char *folder_id(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	const char *start = dir + n;

	while (start > dir && start[-1] != '/')
		start--;
	return xstrndup(start, (size_t)(dir + n - start));
}

int digest_load(struct digest *d, const char *dir)
{
	struct buf issue = BUF_INIT, outro = BUF_INIT;
	int bad = 0;

	memset(d, 0, sizeof(*d));
	d->dir = xstrdup(dir);
	d->id = folder_id(dir);
	buf_addf(&issue, "%s/issue.md", dir);
	buf_addf(&outro, "%s/outro.md", dir);
	bad |= load_issue(d, issue.data, 1);
	bad |= load_entries(d);
	bad |= load_issue(d, outro.data, 0);
	buf_release(&issue);
	buf_release(&outro);
	if (bad) {
		digest_release(d);
		return -1;
	}
	if (!d->title)
		d->title = xstrdup(d->subject);
	return 0;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void entry_release(struct entry *e)
{
	free(e->file);
	free(e->title);
	free(e->url);
	free_strings(e->authors, e->nauthors);
	free_strings(e->tags, e->ntags);
	for (size_t i = 0; i < e->nlinks; i++) {
		free(e->links[i].kind);
		free(e->links[i].url);
	}
	free(e->links);
	if (e->body)
		cmark_node_free(e->body);
}

void digest_entry_release(struct entry *e)
{
	entry_release(e);
	memset(e, 0, sizeof(*e));
}

void digest_release(struct digest *d)
{
	free(d->dir);
	free(d->id);
	free(d->subject);
	free(d->title);
	free(d->preheader);
	free(d->date);
	if (d->intro)
		cmark_node_free(d->intro);
	if (d->outro)
		cmark_node_free(d->outro);
	for (size_t i = 0; i < d->nentries; i++)
		entry_release(&d->entries[i]);
	free(d->entries);
	free_strings(d->images, d->nimages);
	free_strings(d->raw_html, d->nraw_html);
	memset(d, 0, sizeof(*d));
}
