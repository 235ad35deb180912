#ifndef BULLETIN_MIME_H
#define BULLETIN_MIME_H

/*
 * The MIME message a subscriber receives, built with libetpan:
 *
 *   multipart/alternative
 *     text/plain; charset=utf-8              quoted-printable
 *     multipart/related; type="text/html"    (only when there are images)
 *       text/html; charset=utf-8             quoted-printable
 *       image/png ... Content-ID, inline     base64
 *
 * The whole message is 7-bit, with CRLF line ends and no line over 76
 * octets in the bodies. Non-ASCII header text is written as RFC 2047
 * encoded words. From, To, Subject and List-Id are folded here, not by
 * libetpan: the first word stays on the header's line (a fold straight
 * after "Subject:" decodes with a leading space), lines stay within 78
 * octets (only an address longer than a line may pass it), and a value
 * that could not fold there (an ASCII word longer than a line) is
 * encoded, so that it can. Only this file (and inbox.c) speak libetpan.
 */

#include <stddef.h>
#include <time.h>

#include "buf.h"

struct mime_image {
	const char *content_id;	/* "fig.2021-03@news.example.org", no <> */
	const char *mime_type;	/* "image/png" */
	const char *filename;	/* "fig.png", for the disposition */
	const char *base64;	/* the bytes, from mime_base64_lines() */
	size_t      len;
};

struct mime_headers {
	const char *from_name;	/* display names: UTF-8, may be NULL */
	const char *from_addr;
	const char *reply_to;	/* an address, or NULL */
	const char *to_name;
	const char *to_addr;
	const char *subject;	/* UTF-8 */
	const char *message_id;	/* "id@domain", no <> */
	time_t      date;
	const char *list_name;	/* List-Id's phrase, UTF-8 */
	const char *list_id;	/* the label: "arxiv.news.example.org" */
	const char *unsubscribe_url;	/* https://...; NULL for none */
	const char *unsubscribe_mailto;	/* mailto:...; NULL for none */
};

/*
 * The bodies arrive encoded (mime_qp_encode, mime_base64_lines), so that
 * what is the same in every message of an issue is encoded once.
 */
struct mime_body {
	const char              *text;	/* quoted-printable */
	size_t                   text_len;
	const char              *html;	/* quoted-printable */
	size_t                   html_len;
	const struct mime_image *images;
	size_t                   nimages;
};

/*
 * Appends the whole message to out. Returns 0, or error() -1 when a
 * header value holds CR or LF (no header injection) or libetpan fails.
 */
int mime_message(struct buf *out, const struct mime_headers *h,
		 const struct mime_body *body);

/*
 * Appends s as header text, not folded: unchanged when it is printable
 * ASCII (and holds no "=?"), else as RFC 2047 "=?utf-8?B?...?=" words of
 * at most 75 characters, separated by spaces, never splitting a UTF-8
 * character. (mime_message folds its own header values.)
 */
void mime_header_text(struct buf *out, const char *s);

/* Appends a new unique Message-ID for domain ("...@domain", no <>). */
void mime_new_message_id(struct buf *out, const char *domain);

/*
 * Appends s (len bytes, CRLF line ends) quoted-printable encoded (RFC 2045
 * §6.7): no line over 76 octets, '=', controls, 8-bit bytes and white
 * space at a line's end encoded. With soft_end, output that does not end
 * a line ends with a soft line break, so that encoded pieces can be
 * joined in any order and still decode to the joined text. (libetpan's
 * own encoder doubles a line's trailing space and calls snprintf per
 * byte; this one does neither.)
 */
void mime_qp_encode(struct buf *out, const char *s, size_t len, int soft_end);

/* Appends data in base64, in CRLF-terminated lines of 76 characters. */
void mime_base64_lines(struct buf *out, const unsigned char *data, size_t len);

/* Appends len bytes of data in base64, without line breaks. */
void base64_encode(struct buf *out, const unsigned char *data, size_t len);

#endif
