#include "compose.h"

#include <gnutls/crypto.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "digest.h"
#include "image.h"
#include "markdown.h"
#include "mime.h"
#include "template.h"
#include "theme.h"
#include "util.h"
#include "wrap.h"

#define TEXT_WIDTH 72
/* the content column of templates/digest.html.mustache */
#define IMAGE_MAX_WIDTH 536

/*
 * What differs per recipient, marked in rendered bodies as \x1e X \x1e.
 * A marker must come from the slot values alone, never from content: the
 * templates are rendered once with harmless stand-ins first, and a body
 * that then holds the marker byte is refused (see render()).
 */
enum slot { SLOT_EMAIL, SLOT_NAME, SLOT_UNSUBSCRIBE, NSLOTS };
#define SLOT_MARK '\x1e'

struct slot_at {
	size_t    offset;	/* in text, where the value goes */
	enum slot which;
};

/* A rendered body with the per-recipient holes taken out. */
struct slotted {
	struct buf      text;
	struct slot_at *slots;
	size_t          nslots;
};

struct issue {
	char              *subject;
	char              *list_name;
	char              *list_id;
	char              *from_name;
	char              *from_addr;
	char              *reply_to;
	struct slotted     html, text;	/* as rendered, LF */
	struct slotted     html_qp, text_qp;	/* quoted-printable, for messages */
	struct image      *images;
	struct buf        *base64;	/* each image encoded, once */
	struct mime_image *parts;	/* the images as MIME parts */
	char             **cids;	/* "cid:..." URLs, the HTML's img src */
	size_t             nimages;
};

/* Takes the slot markers (and any CR) out of rendered. */
static void slotted_init(struct slotted *s, const struct buf *rendered)
{
	const char *p = rendered->data, *end = p + rendered->len;

	buf_init(&s->text, rendered->len + rendered->len / 16);
	s->slots = NULL;
	s->nslots = 0;
	for (; p < end; p++) {
		if (*p == SLOT_MARK && end - p >= 3 && p[2] == SLOT_MARK &&
			   p[1] >= 'A' && p[1] < 'A' + NSLOTS) {
			s->slots = xrealloc(s->slots, (s->nslots + 1) * sizeof(*s->slots));
			s->slots[s->nslots].offset = s->text.len;
			s->slots[s->nslots++].which = (enum slot)(p[1] - 'A');
			p += 2;
		} else if (*p != '\r') {
			buf_addch(&s->text, *p);
		}
	}
}

static void slotted_release(struct slotted *s)
{
	buf_release(&s->text);
	free(s->slots);
}

enum fill { FILL_TEXT, FILL_HTML, FILL_TEXT_QP, FILL_HTML_QP };

static void add_value(struct buf *out, const char *v, enum fill how)
{
	struct buf escaped = BUF_INIT;

	switch (how) {
	case FILL_TEXT:
		buf_adds(out, v);
		break;
	case FILL_HTML:
		html_escape(out, v, strlen(v));
		break;
	case FILL_TEXT_QP:
		mime_qp_encode(out, v, strlen(v), 1);
		break;
	case FILL_HTML_QP:
		html_escape(&escaped, v, strlen(v));
		mime_qp_encode(out, escaped.data, escaped.len, 1);
		break;
	}
	buf_release(&escaped);
}

/* Appends s with the recipient's values in its slots. */
static void slotted_fill(const struct slotted *s, const struct recipient *r,
			 enum fill how, struct buf *out)
{
	size_t at = 0;

	buf_grow(out, s->text.len + 256);
	for (size_t i = 0; i < s->nslots; i++) {
		const char *v = s->slots[i].which == SLOT_EMAIL ? r->email :
				s->slots[i].which == SLOT_NAME ? r->name :
				r->unsubscribe_url;

		buf_add(out, s->text.data + at, s->slots[i].offset - at);
		at = s->slots[i].offset;
		if (v)
			add_value(out, v, how);
	}
	buf_add(out, s->text.data + at, s->text.len - at);
}

/*
 * Encodes the text between the slots once; each piece ends in a soft
 * line break, so a value encoded on its own can go between two pieces.
 */
static void slotted_encode(const struct slotted *raw, struct slotted *qp)
{
	struct buf crlf = BUF_INIT;
	size_t at = 0;

	buf_init(&qp->text, raw->text.len * 2);
	qp->slots = xcalloc(raw->nslots + 1, sizeof(*qp->slots));
	qp->nslots = raw->nslots;
	for (size_t i = 0; i <= raw->nslots; i++) {
		size_t end = i < raw->nslots ? raw->slots[i].offset : raw->text.len;

		/* quoted-printable's canonical form has CRLF line ends */
		buf_reset(&crlf);
		for (const char *p = raw->text.data + at; p < raw->text.data + end; p++)
			if (*p == '\n')
				buf_add(&crlf, "\r\n", 2);
			else
				buf_addch(&crlf, *p);
		mime_qp_encode(&qp->text, crlf.data, crlf.len, i < raw->nslots);
		if (i < raw->nslots)
			qp->slots[i] = (struct slot_at){ qp->text.len, raw->slots[i].which };
		at = end;
	}
	buf_release(&crlf);
}

/* ---- template data ------------------------------------------------------------ */

static struct tv *slot_value(enum slot which, int marked)
{
	char mark[3] = { SLOT_MARK, (char)('A' + (int)which), SLOT_MARK };

	/* the stand-in is as truthy as the marker: same sections render */
	return marked ? tv_strn(mark, sizeof(mark)) : tv_str("x");
}

/* Sets the per-recipient values of data to markers or to stand-ins. */
static void set_slots(struct tv *data, int marked)
{
	struct tv *recipient = tv_set(data, "recipient", tv_map());

	tv_set(recipient, "email", slot_value(SLOT_EMAIL, marked));
	tv_set(recipient, "name", slot_value(SLOT_NAME, marked));
	tv_set(data, "unsubscribe_url", slot_value(SLOT_UNSUBSCRIBE, marked));
}

/* Builds the data of one template: the HTML or the text flavour. */
struct builder {
	const struct md_opts *o;
	int                   text;	/* prose wrapped, Markdown as text */
	struct md_links       links;	/* the text's numbered references */
};

/* Sets a prose value: in the text flavour, wrapped to the text width. */
static void set_prose(struct builder *b, struct tv *map, const char *key,
		      const char *s)
{
	struct buf w = BUF_INIT;

	if (!s || !b->text) {
		tv_set_str(map, key, s);
		return;
	}
	wrap_paragraph(&w, s, strlen(s), TEXT_WIDTH, "", "");
	if (w.len && w.data[w.len - 1] == '\n')
		buf_truncate(&w, w.len - 1);
	tv_set(map, key, tv_strn(w.data, w.len));
	buf_release(&w);
}

static void set_markdown(struct builder *b, struct tv *map, const char *key,
			 cmark_node *doc)
{
	struct buf out = BUF_INIT;

	if (doc && b->text)
		md_text(&out, doc, b->o, &b->links);
	else if (doc)
		md_html(&out, doc, b->o);
	/* the template's line supplies the final line break */
	while (b->text && out.len && out.data[out.len - 1] == '\n')
		buf_truncate(&out, out.len - 1);
	tv_set(map, key, tv_strn(out.data, out.len));
	buf_release(&out);
}

static struct tv *entry_links(const struct entry *e, const struct theme *th)
{
	struct tv *list = tv_list(), *paper = tv_push(list, tv_map());

	tv_set_str(paper, "kind", "paper");
	tv_set_str(paper, "label", theme_label(th, "paper"));
	tv_set_str(paper, "url", e->url);
	for (size_t i = 0; i < e->nlinks; i++) {
		struct tv *l = tv_push(list, tv_map());

		tv_set_str(l, "kind", e->links[i].kind);
		tv_set_str(l, "label", theme_label(th, e->links[i].kind));
		tv_set_str(l, "url", e->links[i].url);
	}
	return list;
}

static struct tv *entry_data(struct builder *b, const struct entry *e,
			     size_t index)
{
	struct tv *m = tv_map(), *tags = tv_list();
	struct buf authors = BUF_INIT;
	char n[24];

	for (size_t i = 0; i < e->nauthors; i++)
		buf_addf(&authors, "%s%s", i ? ", " : "", e->authors[i]);
	for (size_t i = 0; i < e->ntags; i++)
		tv_push(tags, tv_str(e->tags[i]));
	snprintf(n, sizeof(n), "%zu", index);
	tv_set_str(m, "index", n);
	set_prose(b, m, "title", e->title);
	tv_set_str(m, "url", e->url);
	set_prose(b, m, "authors", authors.len ? authors.data : NULL);
	tv_set(m, "tags", tags);
	tv_set(m, "links", entry_links(e, b->o->theme));
	set_markdown(b, m, "body", e->body);
	buf_release(&authors);
	return m;
}

static struct tv *newsletter_data(struct builder *b, const struct config *c)
{
	struct tv *m = tv_map();

	set_prose(b, m, "name", c->name);
	set_prose(b, m, "postal_address", c->postal_address);
	set_prose(b, m, "reason", c->reason);
	tv_set_str(m, "base_url", c->base_url);
	return m;
}

static struct tv *issue_data(struct builder *b, const struct digest *d)
{
	struct tv *m = tv_map();

	tv_set_str(m, "id", d->id);
	tv_set_str(m, "subject", d->subject);
	set_prose(b, m, "title", d->title);
	set_prose(b, m, "preheader", d->preheader);
	tv_set_str(m, "date", d->date);
	return m;
}

static struct tv *links_data(const struct md_links *links)
{
	struct tv *list = tv_list();

	for (size_t i = 0; i < links->n; i++) {
		struct tv *l = tv_push(list, tv_map());
		struct buf ref = BUF_INIT;
		char n[24];

		snprintf(n, sizeof(n), "%zu", i + 1);
		md_link_ref(&ref, i + 1);
		tv_set_str(l, "n", n);
		tv_set_str(l, "ref", ref.data);
		tv_set_str(l, "url", links->urls[i]);
		buf_release(&ref);
	}
	return list;
}

/* Everything a template may use; templates/README.md lists it. */
static struct tv *template_data(const struct digest *d, const struct config *c,
				const struct md_opts *o, int text)
{
	struct builder b = { o, text, { NULL, 0 } };
	struct tv *data = tv_map(), *entries = tv_list();

	tv_set(data, "newsletter", newsletter_data(&b, c));
	tv_set(data, "issue", issue_data(&b, d));
	tv_set(data, "labels", theme_labels(o->theme));
	set_markdown(&b, data, "intro", d->intro);
	for (size_t i = 0; i < d->nentries; i++)
		tv_push(entries, entry_data(&b, &d->entries[i], i + 1));
	tv_set(data, "entries", entries);
	set_markdown(&b, data, "outro", d->outro);
	tv_set(data, "links", links_data(&b.links));
	tv_set(data, "has_links", tv_bool(b.links.n > 0));
	md_links_release(&b.links);
	return data;
}

/* ---- images ------------------------------------------------------------------- */

/* "cid:img1.2021-03@news.example.org": the URL, and past "cid:" the id. */
static char *content_id(size_t i, const char *issue_id, const char *domain)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "cid:img%zu.", i + 1);
	/* keep to characters a msg-id's dot-atom allows */
	for (const char *p = issue_id; *p; p++)
		buf_addch(&b, strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789-_", *p) ? *p : '-');
	buf_addf(&b, "@%s", domain);
	return buf_detach(&b, NULL);
}

static int load_images(struct issue *is, const struct digest *d,
		       const struct config *c, struct md_image *md)
{
	is->images = xcalloc(d->nimages + 1, sizeof(*is->images));
	is->parts = xcalloc(d->nimages + 1, sizeof(*is->parts));
	is->base64 = xcalloc(d->nimages + 1, sizeof(*is->base64));
	is->cids = xcalloc(d->nimages + 1, sizeof(*is->cids));
	for (size_t i = 0; i < d->nimages; i++) {
		struct image *img = &is->images[i];
		unsigned fitted_height;	/* the HTML lets it follow the width */

		is->nimages++;
		if (image_load(img, d->dir, d->images[i]))
			return -1;
		is->cids[i] = content_id(i, d->id, c->from_domain);
		buf_init(&is->base64[i], 0);
		mime_base64_lines(&is->base64[i], (const unsigned char *)img->data.data,
				  img->data.len);
		/* the issue outlives the digest: point into its own copies */
		is->parts[i] = (struct mime_image){ is->cids[i] + 4, img->mime_type,
			path_basename(img->path), is->base64[i].data,
			is->base64[i].len };
		md[i].path = d->images[i];
		md[i].src = is->cids[i];
		image_fit(img->width, img->height, IMAGE_MAX_WIDTH,
			  &md[i].width, &fitted_height);
	}
	return 0;
}

/* ---- the issue ------------------------------------------------------------------ */

/*
 * Renders the template name into out, slots taken out. Rendered first
 * with stand-ins for the slots: if that holds the marker byte, content
 * (a template, the config, the digest) could forge a slot and fill in
 * one recipient's address where it wants, so it is refused.
 */
static int render(struct tmpl_dir *dir, const char *name, struct tv *data,
		  size_t max, struct slotted *out)
{
	const struct tmpl *t = tmpl_dir_load(dir, name);
	struct buf b = BUF_INIT;
	int ret = -1;

	if (!t)
		return -1;
	set_slots(data, 0);
	if (tmpl_render(t, data, max, &b))
		goto out;
	if (memchr(b.data, SLOT_MARK, b.len)) {
		error("%s: the rendered body holds byte 0x%02x, which marks "
		      "per-recipient values", name, SLOT_MARK);
		goto out;
	}
	buf_reset(&b);
	set_slots(data, 1);
	if (tmpl_render(t, data, max, &b))
		goto out;
	slotted_init(out, &b);
	ret = 0;
out:
	buf_release(&b);
	return ret;
}

/* Raw HTML is dropped unless allowed: say where, so nothing vanishes
 * without the editor knowing. */
static void warn_raw_html(const struct digest *d, const struct config *c)
{
	if (c->allow_raw_html)
		return;
	for (size_t i = 0; i < d->nraw_html; i++)
		warning("%s: raw HTML dropped (set allow-raw-html in [templates] "
			"to send it)", d->raw_html[i]);
}

static int set_from(struct issue *is, const struct config *c)
{
	const char *why;

	if (address_parse_mailbox(c->from, &is->from_name, &is->from_addr, &why))
		return error("%s: bad 'from' address '%s': %s", c->path, c->from, why);
	if (c->reply_to && address_normalize(c->reply_to, &is->reply_to, &why))
		return error("%s: bad 'reply-to' address '%s': %s", c->path,
			     c->reply_to, why);
	return 0;
}

static int compose(struct issue *is, const struct digest *d,
		   const struct config *c, struct theme *theme,
		   struct tmpl_dir *dir)
{
	struct md_image *md = xcalloc(d->nimages + 1, sizeof(*md));
	struct md_opts o = { theme, md, d->nimages, c->allow_raw_html, TEXT_WIDTH };
	struct tv *html = NULL, *text = NULL;
	int ret = -1;

	if (set_from(is, c) || load_images(is, d, c, md))
		goto out;
	warn_raw_html(d, c);
	html = template_data(d, c, &o, 0);
	text = template_data(d, c, &o, 1);
	/* a body larger than the largest message could never be sent */
	if (render(dir, "digest.html.mustache", html, c->max_message_size,
		   &is->html) ||
	    render(dir, "digest.txt.mustache", text, c->max_message_size,
		   &is->text))
		goto out;
	slotted_encode(&is->html, &is->html_qp);
	slotted_encode(&is->text, &is->text_qp);
	ret = 0;
out:
	tv_free(html);
	tv_free(text);
	free(md);
	return ret;
}

struct issue *issue_compose(const struct digest *d, const struct config *c)
{
	struct issue *is = xcalloc(1, sizeof(*is));
	struct theme *theme;
	struct tmpl_dir *dir = tmpl_dir_new(c->templates_dir);
	int bad = 1;

	buf_init(&is->html.text, 0);
	buf_init(&is->text.text, 0);
	buf_init(&is->html_qp.text, 0);
	buf_init(&is->text_qp.text, 0);
	is->subject = xstrdup(d->subject);
	is->list_name = xstrdup(c->name);
	is->list_id = xstrdup(c->list_id);
	theme = theme_open(c->templates_dir, c->templates_lang);
	if (theme)
		bad = compose(is, d, c, theme, dir);
	theme_free(theme);
	tmpl_dir_free(dir);
	if (bad) {
		issue_free(is);
		return NULL;
	}
	return is;
}

void issue_free(struct issue *is)
{
	if (!is)
		return;
	free(is->subject);
	free(is->list_name);
	free(is->list_id);
	free(is->from_name);
	free(is->from_addr);
	free(is->reply_to);
	slotted_release(&is->html);
	slotted_release(&is->text);
	slotted_release(&is->html_qp);
	slotted_release(&is->text_qp);
	for (size_t i = 0; i < is->nimages; i++) {
		image_release(&is->images[i]);
		buf_release(&is->base64[i]);
		free(is->cids[i]);
	}
	free(is->images);
	free(is->base64);
	free(is->parts);
	free(is->cids);
	free(is);
}

size_t issue_html_size(const struct issue *is)
{
	return is->html.text.len;
}

int issue_message_reuse(const struct issue *is, const struct recipient *r,
			const char *message_id, time_t date,
			struct issue_scratch *sc, struct buf *out)
{
	struct mime_headers h = {
		is->from_name, is->from_addr, is->reply_to, r->name, r->email,
		is->subject, message_id, date, is->list_name, is->list_id,
		r->unsubscribe_url, r->unsubscribe_mailto,
	};
	struct mime_body body;

	buf_reset(&sc->html);
	buf_reset(&sc->text);
	slotted_fill(&is->html_qp, r, FILL_HTML_QP, &sc->html);
	slotted_fill(&is->text_qp, r, FILL_TEXT_QP, &sc->text);
	body = (struct mime_body){ sc->text.data, sc->text.len, sc->html.data,
				   sc->html.len, is->parts, is->nimages };
	return mime_message(out, &h, &body);
}

int issue_message(const struct issue *is, const struct recipient *r,
		  const char *message_id, time_t date, struct buf *out)
{
	struct issue_scratch sc = { BUF_INIT, BUF_INIT };
	int ret = issue_message_reuse(is, r, message_id, date, &sc, out);

	buf_release(&sc.html);
	buf_release(&sc.text);
	return ret;
}

/* Replaces each "cid:..." image URL with the image as a data: URL. */
static void inline_images(const struct issue *is, const struct buf *in,
			  struct buf *out)
{
	const char *p = in->data, *end = in->data + in->len;

	while (p < end) {
		const char *cid = memmem(p, (size_t)(end - p), "\"cid:", 5);
		size_t i;

		if (!cid) {
			buf_add(out, p, (size_t)(end - p));
			return;
		}
		cid++;
		buf_add(out, p, (size_t)(cid - p));
		for (i = 0; i < is->nimages; i++)
			if (!strncmp(cid, is->cids[i], strlen(is->cids[i])))
				break;
		if (i == is->nimages) {
			p = cid;
			buf_addch(out, *p++);
			continue;
		}
		buf_addf(out, "data:%s;base64,", is->images[i].mime_type);
		base64_encode(out, (const unsigned char *)is->images[i].data.data,
			      is->images[i].data.len);
		p = cid + strlen(is->cids[i]);
	}
}

void issue_preview(const struct issue *is, const struct recipient *r,
		   struct buf *html, struct buf *text)
{
	struct buf b = BUF_INIT;

	if (html) {
		slotted_fill(&is->html, r, FILL_HTML, &b);
		inline_images(is, &b, html);
	}
	if (text)
		slotted_fill(&is->text, r, FILL_TEXT, text);
	buf_release(&b);
}

static void hash_str(gnutls_hash_hd_t h, const char *s)
{
	/* with its NUL, so that "ab" + "c" differs from "a" + "bc" */
	if (s)
		gnutls_hash(h, s, strlen(s) + 1);
	else
		gnutls_hash(h, "", 1);
}

static void hash_slotted(gnutls_hash_hd_t h, const struct slotted *s)
{
	gnutls_hash(h, s->text.data, s->text.len);
	for (size_t i = 0; i < s->nslots; i++) {
		unsigned long long v[2] = { s->slots[i].offset, s->slots[i].which };

		gnutls_hash(h, v, sizeof(v));
	}
}

void issue_hash(const struct issue *is, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	gnutls_hash_hd_t h;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256))
		die(EX_SOFTWARE, "SHA-256 is not available");
	hash_str(h, is->subject);
	hash_str(h, is->list_name);
	hash_str(h, is->list_id);
	hash_str(h, is->from_name);
	hash_str(h, is->from_addr);
	hash_str(h, is->reply_to);
	hash_slotted(h, &is->html_qp);
	hash_slotted(h, &is->text_qp);
	for (size_t i = 0; i < is->nimages; i++) {
		hash_str(h, is->cids[i]);
		gnutls_hash(h, is->base64[i].data, is->base64[i].len);
	}
	gnutls_hash_deinit(h, md);
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}
