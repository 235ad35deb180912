#include "digest.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "buf.h"
#include "utf8.h"
#include "util.h"

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

/* Line by line: valid UTF-8, and no control characters but tab and CR. */
static int check_text(const char *path, const struct buf *text)
{
	const char *p = text->data, *end = text->data + text->len;

	for (int line = 1; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (!utf8_valid(p, n))
			return error("%s:%d: not valid UTF-8", path, line);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];

			if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
				return error("%s:%d: control character 0x%02x",
					     path, line, c);
		}
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

/* Reads path into src, or takes the text from memory when text is not
 * NULL (digest_parse_entry); either way src->text owns a copy. */
static int read_source(struct source *src, const char *path,
		       const char *text, size_t len)
{
	memset(src, 0, sizeof(*src));
	src->path = path;
	buf_init(&src->text, 0);
	if (text)
		buf_add(&src->text, text, len);
	else if (read_file(path, &src->text))
		return -1;
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

static char *scalar(const struct yaml_ctx *y, const yaml_node_t *n,
		    const char *key)
{
	if (n->type != YAML_SCALAR_NODE) {
		error("%s:%d: '%s' must be a single value", y->path,
		      node_line(y, n), key);
		return NULL;
	}
	return xstrndup((const char *)n->data.scalar.value,
			n->data.scalar.length);
}

static int scalar_list(const struct yaml_ctx *y, yaml_node_t *n,
		       const char *key, char ***out, size_t *count)
{
	yaml_node_item_t *it;

	if (n->type == YAML_SCALAR_NODE) {
		*out = xcalloc(1, sizeof(char *));
		(*out)[0] = scalar(y, n, key);
		*count = 1;
		return 0;
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

static int link_map(const struct yaml_ctx *y, yaml_node_t *n,
		    struct entry *e)
{
	yaml_node_pair_t *pair;

	if (n->type != YAML_MAPPING_NODE)
		return error("%s:%d: 'links' must be a map such as 'code: URL'",
			     y->path, node_line(y, n));
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
		free(*member);
		*member = scalar(y, v, f->key);
		if (!*member)
			return -1;
		/* every scalar may end up in a header: one line only */
		if (has_crlf(*member, strlen(*member)))
			return error("%s:%d: '%s' must be one line", y->path,
				     node_line(y, v), f->key);
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
		if (set_field(y, f, v, target))
			return -1;
	}
	return 0;
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
	struct buf file = BUF_INIT;
	struct stat st;
	int ret = 0;

	/* Remote images are blocked by many clients and cannot be sized. */
	if (!local_path_ok(url))
		return error("%s:%d: image '%s' must be a file in the digest "
			     "folder", src->path, line, url);
	buf_addf(&file, "%s/%s", d->dir, url);
	if (stat(file.data, &st) || !S_ISREG(st.st_mode))
		ret = error("%s:%d: image '%s' does not exist", src->path,
			    line, url);
	else
		add_image(d, url);
	buf_release(&file);
	return ret;
}

/* The line of a node: inlines have none, so use the nearest block's. */
static int source_line(const struct source *src, cmark_node *node)
{
	while (node && !cmark_node_get_start_line(node))
		node = cmark_node_parent(node);
	return src->body_line - 1 + (node ? cmark_node_get_start_line(node) : 1);
}

static int check_node(struct digest *d, const struct source *src,
		      cmark_node *node)
{
	cmark_node_type type = cmark_node_get_type(node);
	const char *url = cmark_node_get_url(node);
	int line = source_line(src, node);

	if (type == CMARK_NODE_IMAGE)
		return check_image(d, src, url, line);
	if (type == CMARK_NODE_LINK && !url_is_web(url) &&
	    strncasecmp(url, "mailto:", 7))
		return error("%s:%d: link '%s' must be an absolute http(s) or "
			     "mailto URL", src->path, line, url);
	return 0;
}

static cmark_node *parse_body(struct digest *d, const struct source *src)
{
	cmark_node *doc = cmark_parse_document(src->body, src->body_len,
					       CMARK_OPT_DEFAULT);
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;
	int bad = 0;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE)
		if (ev == CMARK_EVENT_ENTER &&
		    check_node(d, src, cmark_iter_get_node(it)))
			bad = 1;
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

	if (!must_exist && stat(path, &st))
		return 0;
	if (read_source(&src, path, NULL, 0))
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
	if (read_source(&src, path, text, len))
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
	memset(d, 0, sizeof(*d));
}
