#include "mime.h"

#include <gnutls/crypto.h>
#include <libetpan/libetpan.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

/* ---- encodings -------------------------------------------------------------- */

void base64_encode(struct buf *out, const unsigned char *data, size_t len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	buf_grow(out, (len + 2) / 3 * 4);
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];

		buf_addch(out, abc[v >> 18]);
		buf_addch(out, abc[v >> 12 & 63]);
		buf_addch(out, abc[v >> 6 & 63]);
		buf_addch(out, abc[v & 63]);
	}
	if (i < len) {
		unsigned v = (unsigned)data[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)data[i + 1] << 8;
		buf_addch(out, abc[v >> 18]);
		buf_addch(out, abc[v >> 12 & 63]);
		buf_addch(out, i + 1 < len ? abc[v >> 6 & 63] : '=');
		buf_addch(out, '=');
	}
}

void mime_base64_lines(struct buf *out, const unsigned char *data, size_t len)
{
	/* 57 octets make one 76-character line */
	for (size_t i = 0; i < len; i += 57) {
		base64_encode(out, data + i, len - i < 57 ? len - i : 57);
		buf_add(out, "\r\n", 2);
	}
}

#define QP_MAX 76	/* octets on a line, the soft break's '=' included */

/* How a byte is written: 0 as itself, 1 as =XX; white space depends on
 * what follows it, so it is decided where it is written. */
static int qp_needs_escape(unsigned char c)
{
	return c == '=' || c > 126 || (c < 32 && c != '\t');
}

static void qp_char(struct buf *out, unsigned char c, int escape, size_t *col)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t width = escape ? 3 : 1;

	if (*col + width > QP_MAX - 1) {
		buf_add(out, "=\r\n", 3);
		*col = 0;
	}
	if (escape) {
		char e[3] = { '=', hex[c >> 4], hex[c & 15] };

		buf_add(out, e, 3);
	} else {
		buf_addch(out, c);
	}
	*col += width;
}

void mime_qp_encode(struct buf *out, const char *s, size_t len, int soft_end)
{
	size_t col = 0;

	buf_grow(out, len + len / 8 + 8);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int at_line_end = i + 1 == len || (s[i + 1] == '\r' &&
			i + 2 < len && s[i + 2] == '\n');

		if (c == '\r' && i + 1 < len && s[i + 1] == '\n') {
			buf_add(out, "\r\n", 2);
			col = 0;
			i++;
		} else if (c == ' ' || c == '\t') {
			/* trailing white space would be eaten by transports */
			qp_char(out, c, at_line_end && !(soft_end && i + 1 == len), &col);
		} else {
			/* "From " at a line start is mangled by mbox readers */
			qp_char(out, c, qp_needs_escape(c) ||
				(c == 'F' && !col && len - i >= 5 &&
				 !memcmp(s + i, "From ", 5)), &col);
		}
	}
	if (soft_end && col)
		buf_add(out, "=\r\n", 3);
}

static int needs_encoding(const char *s)
{
	if (strstr(s, "=?"))
		return 1;
	for (; *s; s++)
		if ((unsigned char)*s >= 0x7f || (unsigned char)*s < 0x20)
			return 1;
	return 0;
}

/* 45 octets make 60 base64 characters: with "=?utf-8?B?" and "?=", 72. */
#define WORD_OCTETS 45

void mime_header_text(struct buf *out, const char *s)
{
	size_t len = strlen(s), start = 0;

	if (!needs_encoding(s)) {
		buf_adds(out, s);
		return;
	}
	while (start < len) {
		size_t end = start;

		/* take whole characters while they fit in one word */
		while (end < len) {
			uint32_t cp;
			size_t n = utf8_decode(s + end, len - end, &cp);

			if (!n)
				n = 1;
			if (end + n - start > WORD_OCTETS)
				break;
			end += n;
		}
		if (start)
			buf_addch(out, ' ');
		buf_adds(out, "=?utf-8?B?");
		base64_encode(out, (const unsigned char *)s + start, end - start);
		buf_adds(out, "?=");
		start = end;
	}
}

void mime_new_message_id(struct buf *out, const char *domain)
{
	unsigned char rnd[12];
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)))
		die(EX_OSERR, "cannot get random bytes");
	buf_addf(out, "%lld.", (long long)now.tv_sec);
	for (size_t i = 0; i < sizeof(rnd); i++)
		buf_addf(out, "%02x", rnd[i]);
	buf_addf(out, "@%s", domain);
}

/* ---- libetpan ----------------------------------------------------------------- */

static char *encoded(const char *s)
{
	struct buf b = BUF_INIT;

	mime_header_text(&b, s);
	return buf_detach(&b, NULL);
}

static struct mailimf_mailbox *mailbox(const char *name, const char *addr)
{
	return mailimf_mailbox_new(name && *name ? encoded(name) : NULL,
				   xstrdup(addr));
}

static struct mailimf_address_list *address_list(const char *name,
						 const char *addr)
{
	struct mailimf_address_list *list = mailimf_address_list_new_empty();

	mailimf_address_list_add(list, mailimf_address_new(MAILIMF_ADDRESS_MAILBOX,
							   mailbox(name, addr), NULL));
	return list;
}

static struct mailimf_date_time *date_time(time_t t)
{
	struct tm tm;
	long off;
	int zone;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	zone = (int)((off < 0 ? -1 : 1) * (labs(off) / 60 * 100 + labs(off) % 60));
	return mailimf_date_time_new(tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900,
				     tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
}

static void add_custom(struct mailimf_fields *f, const char *name, char *value)
{
	mailimf_fields_add(f, mailimf_field_new_custom(xstrdup(name), value));
}

struct holes;
static char *header_hole(struct holes *holes, const char *data, size_t len);

/*
 * List-Unsubscribe's value, folded by us between its URIs: libetpan
 * would fold before the first one (an empty first line) and cannot fold
 * inside one, so the value goes in as a hole (below), spliced in after
 * libetpan has written the headers. A URI is never split: RFC 2369 lets
 * clients ignore white space inside the brackets, but one-click senders
 * do not all do so.
 */
static char *list_unsubscribe(const struct mime_headers *h)
{
	struct buf b = BUF_INIT;

	if (h->unsubscribe_url)
		buf_addf(&b, "<%s>", h->unsubscribe_url);
	if (h->unsubscribe_mailto)
		buf_addf(&b, "%s<%s>", b.len ? ",\r\n " : "", h->unsubscribe_mailto);
	return buf_detach(&b, NULL);
}

static struct mailimf_fields *header_fields(const struct mime_headers *h,
					    struct holes *holes, char **unsub)
{
	struct mailimf_mailbox_list *from = mailimf_mailbox_list_new_empty();
	struct mailimf_fields *f;
	struct buf list_id = BUF_INIT;

	mailimf_mailbox_list_add(from, mailbox(h->from_name, h->from_addr));
	f = mailimf_fields_new_with_data_all(date_time(h->date), from, NULL,
		h->reply_to ? address_list(NULL, h->reply_to) : NULL,
		address_list(h->to_name, h->to_addr), NULL, NULL,
		xstrdup(h->message_id), NULL, NULL, encoded(h->subject));
	mime_header_text(&list_id, h->list_name);
	buf_addf(&list_id, " <%s>", h->list_id);
	add_custom(f, "List-Id", buf_detach(&list_id, NULL));
	if (h->unsubscribe_url || h->unsubscribe_mailto) {
		*unsub = list_unsubscribe(h);
		add_custom(f, "List-Unsubscribe",
			   header_hole(holes, *unsub, strlen(*unsub)));
	}
	/* RFC 8058: one-click needs an HTTPS URI to POST to */
	if (h->unsubscribe_url && !strncmp(h->unsubscribe_url, "https://", 8))
		add_custom(f, "List-Unsubscribe-Post",
			   xstrdup("List-Unsubscribe=One-Click"));
	add_custom(f, "Auto-Submitted", xstrdup("auto-generated"));
	return f;
}

/*
 * libetpan writes the message's skeleton (headers, part headers,
 * boundaries) with a short mark where each body goes, and the bodies,
 * already encoded, are spliced in afterwards: libetpan's writer looks at
 * every byte it writes, which for 150 KB of body was most of the time a
 * message took. A mark is \x01 N \x01, which no header can hold
 * (check_headers refuses control characters).
 */
struct hole {
	char        mark[24];
	const char *data;
	size_t      len;
};

#define MAX_HOLES 64

struct holes {
	struct hole h[MAX_HOLES];
	size_t      n;
};

/* Gives part a mark for data; libetpan keeps the mark's pointer. */
static void set_encoded_body(struct mailmime *part, int mechanism,
			     struct holes *holes, const char *data, size_t len)
{
	struct hole *h = &holes->h[holes->n];
	int n = snprintf(h->mark, sizeof(h->mark), "\x01%zu\x01", holes->n);

	h->data = data;
	h->len = len;
	holes->n++;
	part->mm_data.mm_single = mailmime_data_new_data(mechanism, 1, h->mark,
							 (size_t)n);
}

/* A header value that is a mark for data (which must live until the
 * splice); the value is newly allocated, for libetpan to own. */
static char *header_hole(struct holes *holes, const char *data, size_t len)
{
	struct hole *h = &holes->h[holes->n];

	snprintf(h->mark, sizeof(h->mark), "\x01%zu\x01", holes->n);
	h->data = data;
	h->len = len;
	holes->n++;
	return xstrdup(h->mark);
}

static void splice_bodies(struct buf *out, const char *s, size_t len,
			  const struct holes *holes)
{
	const char *end = s + len;

	while (s < end) {
		const char *mark = memchr(s, '\x01', (size_t)(end - s));
		char *after;
		unsigned long i;

		if (!mark) {
			buf_add(out, s, (size_t)(end - s));
			return;
		}
		buf_add(out, s, (size_t)(mark - s));
		i = strtoul(mark + 1, &after, 10);
		if (i >= holes->n || *after != '\x01')
			die(EX_SOFTWARE, "mime: lost track of a body");
		buf_add(out, holes->h[i].data, holes->h[i].len);
		s = after + 1;
	}
}

static struct mailmime *single_part(const char *type, struct mailmime_fields *fields)
{
	struct mailmime_content *ct = mailmime_content_new_with_str(type);

	return mailmime_new_empty(ct, fields);
}

static struct mailmime *text_part(const char *type, struct holes *holes,
				  const char *data, size_t len)
{
	struct mailmime *part = single_part(type,
		mailmime_fields_new_encoding(MAILMIME_MECHANISM_QUOTED_PRINTABLE));

	clist_append(part->mm_content_type->ct_parameters,
		     mailmime_param_new_with_data("charset", "utf-8"));
	set_encoded_body(part, MAILMIME_MECHANISM_QUOTED_PRINTABLE, holes, data, len);
	return part;
}

static struct mailmime *image_part(struct holes *holes,
				   const struct mime_image *img)
{
	struct mailmime_fields *fields = mailmime_fields_new_with_data(
		mailmime_mechanism_new(MAILMIME_MECHANISM_BASE64, NULL),
		xstrdup(img->content_id), NULL,
		mailmime_disposition_new_with_data(MAILMIME_DISPOSITION_TYPE_INLINE,
			xstrdup(img->filename), NULL, NULL, NULL, (size_t)-1),
		NULL);
	struct mailmime *part = single_part(img->mime_type, fields);

	set_encoded_body(part, MAILMIME_MECHANISM_BASE64, holes, img->base64, img->len);
	return part;
}

/* A boundary with "=_" cannot occur in quoted-printable or base64 text. */
static struct mailmime *multipart(const char *type)
{
	struct mailmime *m = mailmime_multiple_new(type);
	unsigned char rnd[12];
	struct buf b = BUF_INIT;
	clistiter *it;

	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)))
		die(EX_OSERR, "cannot get random bytes");
	buf_adds(&b, "=_");
	for (size_t i = 0; i < sizeof(rnd); i++)
		buf_addf(&b, "%02x", rnd[i]);
	for (it = clist_begin(m->mm_content_type->ct_parameters); it; it = clist_next(it)) {
		struct mailmime_parameter *p = clist_content(it);

		if (!strcasecmp(p->pa_name, "boundary")) {
			free(p->pa_value);
			p->pa_value = buf_detach(&b, NULL);
		}
	}
	buf_release(&b);
	return m;
}

static struct mailmime *html_with_images(struct holes *holes,
					const struct mime_body *body)
{
	struct mailmime *html = text_part("text/html", holes, body->html,
					  body->html_len);
	struct mailmime *related;

	if (!body->nimages)
		return html;
	related = multipart("multipart/related");
	clist_append(related->mm_content_type->ct_parameters,
		     mailmime_param_new_with_data("type", "text/html"));
	mailmime_smart_add_part(related, html);
	for (size_t i = 0; i < body->nimages; i++)
		mailmime_smart_add_part(related, image_part(holes, &body->images[i]));
	return related;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int check_headers(const struct mime_headers *h)
{
	const char *values[] = { h->from_name, h->from_addr, h->reply_to,
		h->to_name, h->to_addr, h->subject, h->message_id, h->list_name,
		h->list_id, h->unsubscribe_url, h->unsubscribe_mailto };
	static const char *const names[] = { "From name", "From address",
		"Reply-To", "To name", "To address", "Subject", "Message-ID",
		"List-Id name", "List-Id", "List-Unsubscribe URL",
		"List-Unsubscribe mailto" };

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		if (values[i] && has_control(values[i]))
			return error("refusing a %s with a line break or another "
				     "control character in it", names[i]);
	if (!h->from_addr || !h->to_addr || !h->subject || !h->message_id ||
	    !h->list_id || !h->list_name)
		return error("a required header is missing");
	return 0;
}

int mime_message(struct buf *out, const struct mime_headers *h,
		 const struct mime_body *body)
{
	struct mailmime *msg, *alt;
	struct holes holes;
	char *unsub = NULL;
	MMAPString *s;
	int col = 0, ret = 0;

	if (check_headers(h))
		return -1;
	if (body->nimages + 3 > MAX_HOLES)
		return error("too many images in one message (at most %d)",
			     MAX_HOLES - 3);
	holes.n = 0;
	msg = mailmime_new_message_data(NULL);
	mailmime_set_imf_fields(msg, header_fields(h, &holes, &unsub));
	alt = multipart("multipart/alternative");
	mailmime_smart_add_part(alt, text_part("text/plain", &holes, body->text,
					       body->text_len));
	mailmime_smart_add_part(alt, html_with_images(&holes, body));
	mailmime_smart_add_part(msg, alt);
	s = mmap_string_sized_new(4096);
	if (!s || mailmime_write_mem(s, &col, msg) != MAILIMF_NO_ERROR) {
		ret = error("cannot write the MIME message");
	} else {
		buf_grow(out, s->len + body->text_len + body->html_len);
		splice_bodies(out, s->str, s->len, &holes);
	}
	if (s)
		mmap_string_free(s);
	mailmime_free(msg);
	free(unsub);
	return ret;
}
