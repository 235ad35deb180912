#include "inbox.h"

#include <ctype.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "arf.h"
#include "bounceshape.h"
#include "buf.h"
#include "dsn.h"
#include "fields.h"
#include "util.h"

/* Nesting beyond this is not walked: no bounce is that deep. */
#define INBOX_MAX_DEPTH 8
/* Prose read for the bounce shapes. */
#define INBOX_MAX_TEXT (256 * 1024)

static const char *const kind_names[] = {
	[INBOX_HARD] = "hard-bounce",
	[INBOX_SOFT] = "soft-bounce",
	[INBOX_COMPLAINT] = "complaint",
	[INBOX_UNSUB] = "unsubscribe",
	[INBOX_AUTOREPLY] = "auto-reply",
	[INBOX_OTHER] = "other",
};

const char *inbox_kind_name(enum inbox_kind k)
{
	return (unsigned)k <= INBOX_OTHER ? kind_names[k] : NULL;
}

/* ---- reading ------------------------------------------------------------ */

/* What the walk over the parts gathers. inbox_read sets each member
 * but dsn and arf itself: a new member needs its line there. */
struct gather {
	struct inbox_msg *m;
	struct dsn        dsn;
	int               has_dsn;
	struct arf        arf;
	int               has_arf;
	struct buf        text;		/* text parts outside the original */
	/* top-level header signals */
	int               auto_submitted;	/* Auto-Submitted other than "no" */
	int               vacation;	/* X-Autoreply, Precedence auto_reply, ... */
	int               from_daemon;	/* From mailer-daemon/postmaster, Return-Path <> */
};

static void add_to(struct inbox_msg *m, const char *value)
{
	char addr[INBOX_ADDR_MAX];

	if (m->nto < INBOX_MAX_CAND && fields_address(value, addr, sizeof(addr)))
		memcpy(m->to[m->nto++], addr, strlen(addr) + 1);
}

static void add_msgid(struct inbox_msg *m, const char *value)
{
	const char *lt = strchr(value, '<'), *gt;
	size_t n;

	if (!lt || !(gt = strchr(lt, '>')) || m->nmsgid == INBOX_MAX_CAND)
		return;
	n = (size_t)(gt - lt - 1);
	if (!n || n >= sizeof(m->msgid[0]))
		return;
	/* RFC 5322 msg-id: visible ASCII only (ours always is); anything
	 * else is nobody's and must not reach the store or a terminal */
	for (size_t i = 1; i <= n; i++)
		if ((unsigned char)lt[i] < 0x21 || (unsigned char)lt[i] > 0x7e)
			return;
	for (size_t i = 0; i < m->nmsgid; i++)
		if (!strncmp(m->msgid[i], lt + 1, n) && !m->msgid[i][n])
			return;
	memcpy(m->msgid[m->nmsgid], lt + 1, n);
	m->msgid[m->nmsgid++][n] = '\0';
}

static int has_ci(const char *s, const char *needle)
{
	return strcasestr(s, needle) != NULL;
}

/* Subjects that say "I am away" in the languages most seen. */
static int vacation_subject(const char *s)
{
	static const char *const words[] = {
		"out of office", "out of the office", "automatic reply",
		"auto reply", "autoreply", "auto-reply", "vacation",
		"abwesenheit", "absence", "away from", "réponse automatique",
		"respuesta automática", "on leave",
	};

	if (!strncasecmp(s, "auto:", 5))
		return 1;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (has_ci(s, words[i]))
			return 1;
	return 0;
}

/* Reads the top-level header (up to the first blank line). */
static void read_header(const char *msg, size_t len, struct gather *g)
{
	struct fields f;
	struct buf name = BUF_INIT, value = BUF_INIT;
	struct inbox_msg *m = g->m;

	fields_init(&f, msg, len);
	while (fields_next(&f, &name, &value) == 1) {
		if (fields_is(&name, "Delivered-To") ||
		    fields_is(&name, "X-Original-To") ||
		    fields_is(&name, "Envelope-To") ||
		    fields_is(&name, "X-Envelope-To") || fields_is(&name, "To"))
			add_to(m, value.data);
		else if (fields_is(&name, "Subject"))
			snprintf(m->subject, sizeof(m->subject), "%s", value.data);
		else if (fields_is(&name, "Auto-Submitted"))
			g->auto_submitted |= strncasecmp(value.data, "no", 2) != 0;
		else if (fields_is(&name, "X-Autoreply") ||
			 fields_is(&name, "X-Autorespond") ||
			 fields_is(&name, "X-Auto-Response-Suppress") ||
			 (fields_is(&name, "Precedence") &&
			  has_ci(value.data, "auto_reply")))
			g->vacation = 1;
		else if (fields_is(&name, "From"))
			g->from_daemon |= has_ci(value.data, "mailer-daemon") ||
					  has_ci(value.data, "mailer_daemon") ||
					  has_ci(value.data, "postmaster") ||
					  has_ci(value.data, "mail delivery");
		else if (fields_is(&name, "Return-Path"))
			g->from_daemon |= !strcmp(value.data, "<>");
	}
	buf_release(&name);
	buf_release(&value);
}

/* "type/subtype" of a part, lower-case, into out[64]. */
static void content_type(const struct mailmime *mm, char out[64])
{
	const struct mailmime_content *c = mm->mm_content_type;
	const char *type = "text", *sub = "plain";

	if (c && c->ct_type) {
		const struct mailmime_type *t = c->ct_type;

		sub = c->ct_subtype ? c->ct_subtype : "";
		if (t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE) {
			const struct mailmime_composite_type *ct =
				t->tp_data.tp_composite_type;

			type = ct->ct_type == MAILMIME_COMPOSITE_TYPE_MESSAGE ? "message" :
			       ct->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART ? "multipart" :
			       ct->ct_token ? ct->ct_token : "";
		} else {
			static const char *const names[] = {
				"", "text", "image", "audio", "video", "application",
			};
			const struct mailmime_discrete_type *dt =
				t->tp_data.tp_discrete_type;

			type = dt->dt_type == MAILMIME_DISCRETE_TYPE_EXTENSION ?
				       (dt->dt_extension ? dt->dt_extension : "") :
			       (unsigned)dt->dt_type < 6 ? names[dt->dt_type] : "";
		}
	}
	snprintf(out, 64, "%s/%s", type, sub);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* The decoded body of a single part: 0 with *out (free with
 * mailmime_decoded_part_free) or -1. */
static int part_body(const struct mailmime *mm, char **out, size_t *len)
{
	const struct mailmime_data *d = mm->mm_data.mm_single;
	size_t idx = 0;

	if (!d || d->dt_type != MAILMIME_DATA_TEXT)
		return -1;
	return mailmime_part_parse(d->dt_data.dt_text.dt_data,
				   d->dt_data.dt_text.dt_length, &idx,
				   d->dt_encoding, out, len) == MAILIMF_NO_ERROR ?
		       0 : -1;
}

/* Header fields of the returned original (text/rfc822-headers, or an
 * original inline in the prose): its Message-ID and Return-Path. */
static void original_fields(struct inbox_msg *m, const char *text, size_t len)
{
	struct fields f;
	struct buf name = BUF_INIT, value = BUF_INIT;
	int rc;

	fields_init(&f, text, len);
	while ((rc = fields_next(&f, &name, &value)) != -1) {
		if (rc != 1)
			continue;
		if (fields_is(&name, "Message-ID"))
			add_msgid(m, value.data);
		else if (fields_is(&name, "Return-Path"))
			add_to(m, value.data);
	}
	buf_release(&name);
	buf_release(&value);
}

/* The returned original as libetpan parsed it (message/rfc822). */
static void original_message(struct inbox_msg *m, const struct mailmime *mm)
{
	const struct mailimf_fields *fl = mm->mm_data.mm_message.mm_fields;

	if (!fl)
		return;
	for (clistiter *it = clist_begin(fl->fld_list); it; it = clist_next(it)) {
		const struct mailimf_field *f = clist_content(it);

		if (f->fld_type == MAILIMF_FIELD_MESSAGE_ID &&
		    f->fld_data.fld_message_id->mid_value) {
			char tmp[260];

			snprintf(tmp, sizeof(tmp), "<%s>",
				 f->fld_data.fld_message_id->mid_value);
			add_msgid(m, tmp);
		} else if (f->fld_type == MAILIMF_FIELD_RETURN_PATH &&
			   f->fld_data.fld_return_path->ret_path &&
			   f->fld_data.fld_return_path->ret_path->pt_addr_spec) {
			add_to(m, f->fld_data.fld_return_path->ret_path->pt_addr_spec);
		}
	}
}

/* The text of an HTML part for the prose shapes: tags dropped, <br>
 * and </p> as line ends (some MTAs send only HTML). */
static void add_html_text(struct buf *out, const char *s, size_t len)
{
	const char *end = s + len;

	while (s < end) {
		const char *gt;

		if (*s != '<') {
			buf_addch(out, *s++);
			continue;
		}
		gt = memchr(s, '>', (size_t)(end - s));
		if (!gt)
			break;
		if (!strncasecmp(s, "<br", 3) || !strncasecmp(s, "</p", 3) ||
		    !strncasecmp(s, "</div", 5))
			buf_addch(out, '\n');
		else
			buf_addch(out, ' ');
		s = gt + 1;
	}
	buf_addch(out, '\n');
}

static void single_part(struct gather *g, const struct mailmime *mm,
			const char *type)
{
	char *body = NULL;
	size_t len = 0;
	int is_text = !strncmp(type, "text/", 5);

	if (strcmp(type, "message/delivery-status") &&
	    strcmp(type, "message/feedback-report") &&
	    strcmp(type, "text/rfc822-headers") && !is_text)
		return;
	if (part_body(mm, &body, &len))
		return;
	if (!strcmp(type, "message/delivery-status"))
		g->has_dsn |= dsn_parse(body, len, &g->dsn) > 0;
	else if (!strcmp(type, "message/feedback-report"))
		g->has_arf |= arf_parse(body, len, &g->arf);
	else if (!strcmp(type, "text/rfc822-headers"))
		original_fields(g->m, body, len);
	else if (g->text.len < INBOX_MAX_TEXT && !strcmp(type, "text/html"))
		add_html_text(&g->text, body, len < INBOX_MAX_TEXT ? len : INBOX_MAX_TEXT);
	else if (g->text.len < INBOX_MAX_TEXT) {
		buf_add(&g->text, body, len < INBOX_MAX_TEXT ? len : INBOX_MAX_TEXT);
		buf_addch(&g->text, '\n');
	}
	mailmime_decoded_part_free(body);
}

static void walk(struct gather *g, const struct mailmime *mm, int depth)
{
	char type[64];

	if (!mm || depth > INBOX_MAX_DEPTH)
		return;
	content_type(mm, type);
	switch (mm->mm_type) {
	case MAILMIME_SINGLE:
		single_part(g, mm, type);
		break;
	case MAILMIME_MULTIPLE:
		for (clistiter *it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
		     it; it = clist_next(it))
			walk(g, clist_content(it), depth + 1);
		break;
	case MAILMIME_MESSAGE:
		if (depth == 0) {
			walk(g, mm->mm_data.mm_message.mm_msg_mime, depth + 1);
			break;
		}
		/* a returned original: its header only, not its prose */
		original_message(g->m, mm);
		break;
	}
}

static void copy_rcpt(struct inbox_msg *m, const char *addr)
{
	if (!addr[0] || m->nrcpt == INBOX_MAX_RCPT)
		return;
	for (size_t i = 0; i < m->nrcpt; i++)
		if (!strcasecmp(m->rcpt[i], addr))
			return;
	snprintf(m->rcpt[m->nrcpt++], INBOX_ADDR_MAX, "%s", addr);
}

/* The verdict of a DSN: the worst recipient's. */
static void from_dsn(struct inbox_msg *m, const struct dsn *d)
{
	int hard = 0, soft = 0;

	for (size_t i = 0; i < d->n; i++) {
		const struct dsn_rcpt *r = &d->rcpt[i];
		int h = r->status[0] == '5' ||
			(r->action == DSN_FAILED && r->status[0] != '4');
		int s = !h && (r->status[0] == '4' || r->action == DSN_DELAYED ||
			       r->action == DSN_FAILED);

		if (!h && !s)
			continue;	/* delivered, relayed, expanded */
		/* Original-Recipient is the address as we gave it; Final-
		 * Recipient may be rewritten (an alias, a local host) */
		copy_rcpt(m, r->original[0] ? r->original : r->final);
		if ((h && !hard) || (s && !hard && !soft))
			snprintf(m->status, sizeof(m->status), "%s", r->status);
		hard |= h;
		soft |= s;
	}
	m->shape = "dsn";
	m->understood = 1;
	m->kind = hard ? INBOX_HARD : soft ? INBOX_SOFT : INBOX_OTHER;
}

static void from_arf(struct inbox_msg *m, const struct arf *a)
{
	m->shape = "arf";
	m->understood = 1;
	snprintf(m->feedback_type, sizeof(m->feedback_type), "%s",
		 a->feedback_type);
	m->kind = arf_is_complaint(a) ? INBOX_COMPLAINT : INBOX_OTHER;
	copy_rcpt(m, a->original_rcpt);
	copy_rcpt(m, a->removal_rcpt);
	if (a->original_from[0])
		add_to(m, a->original_from);
}

/* True if addr is one the message was delivered to: the bounce
 * address (a list's own, in forwarded bounces), not a failed
 * recipient. */
static int delivered_to(const struct inbox_msg *m, const char *addr)
{
	for (size_t i = 0; i < m->nto; i++)
		if (!strcasecmp(m->to[i], addr))
			return 1;
	return 0;
}

static int from_shape(struct inbox_msg *m, const struct buf *text,
		      const char *our_domain)
{
	struct shape shape, *s = &shape;	/* on the stack, as gather */
	int found = shape_parse(text->data, text->len, our_domain, s) != SHAPE_NONE;

	if (found) {
		m->shape = s->mta;
		m->understood = 1;
		m->kind = s->verdict == SHAPE_SOFT ? INBOX_SOFT : INBOX_HARD;
		snprintf(m->status, sizeof(m->status), "%.*s",
			 (int)sizeof(m->status) - 1, s->status);
		for (size_t i = 0; i < s->n; i++)
			if (!delivered_to(m, s->rcpt[i]))
				copy_rcpt(m, s->rcpt[i]);
		/* unless it names nobody else (Exchange copies the failed
		 * address into X-Original-To) */
		for (size_t i = 0; !m->nrcpt && i < s->n; i++)
			copy_rcpt(m, s->rcpt[i]);
		/* an original inline in the prose (qmail, Exim) */
		original_fields(m, text->data, text->len);
	}
	return found;
}

/*
 * What the message is, in order: a DSN, an ARF report, a prose bounce
 * (unless everything says "I am away": an out-of-office may quote a
 * bounce), an auto-reply; else other (perhaps a mailto reply, which
 * inbox_decide checks with the key).
 */
static void decide_kind(struct gather *g, const char *our_domain)
{
	struct inbox_msg *m = g->m;
	int away = g->vacation || vacation_subject(m->subject);

	if (g->has_dsn)
		from_dsn(m, &g->dsn);
	else if (g->has_arf)
		from_arf(m, &g->arf);
	else if (!(away && !g->from_daemon) &&
		 from_shape(m, &g->text, our_domain))
		return;
	else if (away || g->auto_submitted) {
		m->kind = INBOX_AUTOREPLY;
		m->understood = 1;
	}
}

/* True if the header line [p, end) (its line end cut off) is a field
 * "NAME: value" every parser reads alike: NAME printable ASCII without
 * ':', a value that is not blank, no NUL or CR in it. */
static int plain_field(const char *p, const char *end)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));
	int blank = 1;

	if (!colon || colon == p)
		return 0;
	for (const char *q = p; q < colon; q++)
		if (*q < 33 || *q > 126)
			return 0;
	for (const char *q = colon + 1; q < end; q++) {
		if (*q == '\0' || *q == '\r')
			return 0;
		blank &= *q == ' ' || *q == '\t';
	}
	return !blank;
}

/* Whether the field starting at p is one libetpan's MIME reader uses. */
static int mime_field(const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	return (n >= 8 && !strncasecmp(p, "Content-", 8)) ||
	       (n >= 13 && !strncasecmp(p, "MIME-Version:", 13));
}

/* Whether the field starting at p is one libetpan parses by its grammar
 * (addresses, dates, Message-IDs): folded, such a field may end, for
 * libetpan, where a line does, and its next line then ends the header. */
static int grammar_field(const char *p, const char *end)
{
	static const char *const names[] = {
		"From:", "Sender:", "Reply-To:", "To:", "Cc:", "Bcc:",
		"Message-ID:", "In-Reply-To:", "References:", "Date:",
	};
	size_t n = (size_t)(end - p);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (n >= strlen(names[i]) &&
		    !strncasecmp(p, names[i], strlen(names[i])))
			return 1;
	return 0;
}

/*
 * libetpan parses the whole top-level header into structures (every
 * address list, date and Message-ID) before it looks at the MIME parts,
 * and inbox_read uses none of them (read_header reads what it needs):
 * a third of its parse (perf over the inbox bench). When the header is
 * plain, every line a plain_field or the continuation of one that is
 * not a grammar_field, and then an empty line, libetpan finds the same
 * fields and the same end in it (a differential run over the fixtures,
 * the bench's messages and 65,000 mutations of them agreed),
 * so it can be given just the MIME fields, byte for byte, and the rest
 * of the message: it builds the same tree. Puts that text in out and
 * returns 1; 0 (out untouched) for any other header, which libetpan then
 * reads whole.
 */
static int mime_fields_only(const char *msg, size_t len, struct buf *out)
{
	const char *p = msg, *end = msg + len;
	int keep = 0, grammar = 0;

	buf_reset(out);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl;

		if (!nl)
			return 0;
		if (stop > p && stop[-1] == '\r')
			stop--;
		if (stop == p) {	/* the empty line: the body follows */
			buf_add(out, p, (size_t)(end - p));
			return 1;
		}
		if (*p == ' ' || *p == '\t') {	/* a continuation */
			if (p == msg || grammar ||
			    memchr(p, '\r', (size_t)(stop - p)) ||
			    memchr(p, '\0', (size_t)(stop - p)))
				return 0;
		} else if (plain_field(p, stop)) {
			keep = mime_field(p, stop);
			grammar = grammar_field(p, stop);
		} else {
			return 0;
		}
		if (keep)
			buf_add(out, p, (size_t)(nl + 1 - p));
		p = nl + 1;
	}
	return 0;
}

/*
 * libetpan decodes every Content-Type value, and every phrase of
 * Content-Description, as RFC 2047 text: a conversion from us-ascii to
 * UTF-8, with an iconv_open and iconv_close each time (7% of an inbox
 * run). ASCII converts to itself, so it is copied here; anything else
 * is left to iconv (UNKNOWN_CHARSET makes libetpan fall back to it),
 * so that the result is always the one iconv gives.
 */
static int ascii_charconv(const char *tocode, const char *fromcode,
			  const char *str, size_t length, char *result,
			  size_t *result_len)
{
	if (strcasecmp(tocode, "utf-8") ||
	    (strcasecmp(fromcode, "us-ascii") && strcasecmp(fromcode, "utf-8")) ||
	    length > *result_len)
		return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
	for (size_t i = 0; i < length; i++)
		if ((unsigned char)str[i] >= 0x80)
			return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
	memcpy(result, str, length);
	*result_len = length;
	return MAIL_CHARCONV_NO_ERROR;
}

static void use_ascii_charconv(void)
{
	extended_charconv = ascii_charconv;
}

void inbox_read(const char *msg, size_t len, const char *our_domain,
		struct inbox_msg *m)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	/* on the stack: a 22 KiB malloc per message made glibc consolidate
	 * the small chunks libetpan frees each time (2% of an inbox run);
	 * not zeroed whole: dsn (21 KiB) and arf are filled by their
	 * parsers before has_dsn or has_arf says they hold anything, and
	 * zeroing them for every message cost 3% */
	struct gather gather, *g = &gather;
	struct mailmime *mime = NULL;
	struct buf mime_text = BUF_INIT;	/* what libetpan reads, when not msg */
	size_t idx = 0;

	pthread_once(&once, use_ascii_charconv);
	memset(m, 0, sizeof(*m));
	m->kind = INBOX_OTHER;
	g->m = m;
	g->has_dsn = g->has_arf = 0;
	g->text = (struct buf)BUF_INIT;
	g->auto_submitted = g->vacation = g->from_daemon = 0;
	if (len > INBOX_MAX_MESSAGE)
		goto out;
	if (len > 5 && !memcmp(msg, "From ", 5)) {
		/* an mbox separator some delivery agents keep */
		const char *nl = memchr(msg, '\n', len);

		len -= nl ? (size_t)(nl + 1 - msg) : len;
		msg = nl ? nl + 1 : msg + len;
	}
	read_header(msg, len, g);
	if (mime_fields_only(msg, len, &mime_text)) {
		msg = mime_text.data;
		len = mime_text.len;
	}
	if (mailmime_parse(msg, len, &idx, &mime) != MAILIMF_NO_ERROR)
		goto out;
	walk(g, mime, 0);
	decide_kind(g, our_domain);
out:
	if (mime)
		mailmime_free(mime);
	buf_release(&mime_text);
	buf_release(&g->text);
}

/* ---- deciding ----------------------------------------------------------- */

/* Looks for a valid VERP tag in the addresses the message went to. */
static int by_verp(const struct token_key *k, const struct inbox_msg *m,
		   struct inbox_action *a)
{
	for (size_t i = 0; i < m->nto; i++) {
		char tag[INBOX_ADDR_MAX];
		const char *plus = strchr(m->to[i], '+');
		const char *at = strrchr(m->to[i], '@');

		if (!plus || !at || at < plus)
			continue;
		snprintf(tag, sizeof(tag), "%.*s", (int)(at - plus - 1), plus + 1);
		if (!token_verp_parse(k, tag, a->campaign, &a->subscriber_id))
			return 1;
	}
	return 0;
}

/* Ties the message to a delivery: VERP tag, then Message-ID. 1 when
 * tied, 0 when not, -1 after error(). */
static int tie(struct store *s, const struct token_key *k,
	       const struct inbox_msg *m, struct inbox_action *a)
{
	int rc;

	if (by_verp(k, m, a)) {
		rc = store_dlv_exists(s, a->campaign, a->subscriber_id);
		if (rc)
			return rc;
	}
	a->campaign[0] = '\0';
	a->subscriber_id = 0;
	for (size_t i = 0; i < m->nmsgid; i++) {
		rc = store_dlv_by_message_id(s, m->msgid[i], a->campaign,
					     &a->subscriber_id);
		if (rc)
			return rc;
	}
	return 0;
}

/* An unverified bounce, trusted by the config: the first recipient
 * named who is a subscriber. 1, 0 or -1. */
static int by_address(struct store *s, const struct inbox_msg *m,
		      struct inbox_action *a)
{
	for (size_t i = 0; i < m->nrcpt; i++) {
		char *norm = NULL;
		const char *reason;
		struct store_row row;
		int rc;

		if (address_normalize(m->rcpt[i], &norm, &reason))
			continue;
		rc = store_sub_get(s, norm, &row);
		free(norm);
		if (rc == 1)
			a->subscriber_id = row.id;
		if (rc)
			return rc;
	}
	return 0;
}

static const char *outcome_word(enum store_outcome o)
{
	return o == STORE_UPDATED ? "" : o == STORE_NOT_FOUND ?
		" (no such subscriber)" : " (already so)";
}

/* Applies a bounce or complaint to a->subscriber_id. */
static int apply(struct store *s, const struct inbox_opts *o,
		 const struct inbox_msg *m, struct inbox_action *a)
{
	struct store_why why = { "inbox", NULL, a->campaign[0] ? a->campaign : NULL };
	enum store_outcome out = STORE_UNCHANGED;
	long score = 0;
	int rc = 0;

	why.detail = m->kind == INBOX_COMPLAINT ? m->feedback_type :
		     m->status[0] ? m->status : NULL;
	if (m->kind == INBOX_COMPLAINT)
		why.method = "arf";
	if (o->dry_run) {
		snprintf(a->what, sizeof(a->what), "would %s subscriber %lld",
			 m->kind == INBOX_HARD ? "mark bounced" :
			 m->kind == INBOX_SOFT ? "score a soft bounce for" :
			 "mark complained", a->subscriber_id);
		return 0;
	}
	if (m->kind == INBOX_HARD)
		rc = store_hard_bounce(s, a->subscriber_id, &why, &out);
	else if (m->kind == INBOX_COMPLAINT)
		rc = store_complaint(s, a->subscriber_id, &why, &out);
	else
		rc = store_soft_bounce(s, a->subscriber_id, o->day, &o->soft,
				       &why, &score, &out);
	if (rc)
		return -1;
	if (m->kind == INBOX_SOFT)
		snprintf(a->what, sizeof(a->what),
			 "soft bounce of subscriber %lld scored %ld of %ld%s",
			 a->subscriber_id, score, o->soft.threshold,
			 score >= o->soft.threshold ? ": bounced" : "");
	else
		snprintf(a->what, sizeof(a->what), "marked subscriber %lld %s%s",
			 a->subscriber_id,
			 m->kind == INBOX_HARD ? "bounced" : "complained",
			 outcome_word(out));
	return 0;
}

/* A reply to the unsubscribe mailto: the token in the subject's words
 * or the address's +TAG. 1 with a->subscriber_id, 0 when none. */
static int mailto_token(const struct token_key *k, const struct inbox_opts *o,
			const struct inbox_msg *m, struct inbox_action *a)
{
	const char *mat = o->mailto ? strrchr(o->mailto, '@') : NULL;
	size_t local = mat ? (size_t)(mat - o->mailto) : 0;
	int to_us = 0;

	for (size_t i = 0; mat && i < m->nto; i++) {
		const char *at = strrchr(m->to[i], '@'), *plus;

		if (!at || strcasecmp(at, mat) || strncasecmp(m->to[i], o->mailto, local))
			continue;
		plus = m->to[i] + local;
		if (plus == at) {
			to_us = 1;
		} else if (*plus == '+' &&
			   !token_unsub_check(k, plus + 1, (size_t)(at - plus - 1),
					      &a->subscriber_id, a->campaign)) {
			return 1;
		}
	}
	for (const char *p = m->subject; to_us && *p;) {
		size_t n = 0;

		while (*p && !isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			p++;
		while (isalnum((unsigned char)p[n]) || p[n] == '-' || p[n] == '_')
			n++;
		if (n >= 16 && n <= TOKEN_UNSUB_MAX &&
		    !token_unsub_check(k, p, n, &a->subscriber_id, a->campaign))
			return 1;
		p += n;
	}
	return 0;
}

static int unsubscribe(struct store *s, const struct inbox_opts *o,
		       struct inbox_action *a)
{
	struct store_why why = { "mailto", NULL, a->campaign[0] ? a->campaign : NULL };
	enum store_outcome out;

	if (o->dry_run) {
		snprintf(a->what, sizeof(a->what),
			 "would unsubscribe subscriber %lld", a->subscriber_id);
		return 0;
	}
	if (store_unsub_by_id(s, a->subscriber_id, &why, &out))
		return -1;
	snprintf(a->what, sizeof(a->what), "unsubscribed subscriber %lld%s",
		 a->subscriber_id, outcome_word(out));
	return 0;
}

int inbox_decide(struct store *s, const struct token_key *k,
		 const struct inbox_opts *o, const struct inbox_msg *m,
		 struct inbox_action *a)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->kind = m->kind;
	a->handled = m->understood;
	if (m->kind == INBOX_AUTOREPLY) {
		snprintf(a->what, sizeof(a->what), "none: an auto-reply");
		return 0;
	}
	if (m->kind == INBOX_OTHER && m->understood) {
		snprintf(a->what, sizeof(a->what), "none: %s%s",
			 m->feedback_type[0] ? "a report of type " :
						"a notice of delivery",
			 m->feedback_type);
		return 0;
	}
	if (m->kind == INBOX_OTHER) {
		if (!mailto_token(k, o, m, a)) {
			snprintf(a->what, sizeof(a->what),
				 "left in place: not understood");
			return 0;
		}
		a->kind = INBOX_UNSUB;
		a->verified = a->handled = 1;
		return unsubscribe(s, o, a);
	}
	rc = tie(s, k, m, a);
	if (rc < 0)
		return -1;
	a->verified = rc;
	if (!rc && o->trust_unverified) {
		rc = by_address(s, m, a);
		if (rc < 0)
			return -1;
	}
	if (!rc) {
		snprintf(a->what, sizeof(a->what), "none: %s",
			 a->verified || o->trust_unverified ?
				 "no subscriber named" :
				 "not tied to a delivery of ours (unverified)");
		return 0;
	}
	return apply(s, o, m, a);
}

/* ---- IMAP --------------------------------------------------------------- */

struct inbox_imap {
	mailimap   *imap;
	char       *host;
	char       *done_folder;
	int         has_move;
	unsigned   *uids;		/* unseen at open */
	size_t      nuids, next;
};

static int imap_error(const struct inbox_imap *im, const char *what, int rc)
{
	const char *said = im->imap && im->imap->imap_response ?
				   im->imap->imap_response : "";

	return error("imap server '%s': %s failed (libetpan error %d)%s%s",
		     im->host, what, rc, *said ? ": " : "", said);
}

/* Checks the server's certificate chain against the trusted CAs and
 * the host name, before any password is sent. 0 or error() -1. */
static int imap_verify(const struct inbox_imap *im, const char *ca_file)
{
	carray *chain = mailstream_get_certificate_chain(im->imap->imap_stream);
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t *certs = NULL;
	gnutls_typed_vdata_st host = { GNUTLS_DT_DNS_HOSTNAME,
				       (unsigned char *)im->host, 0 };
	unsigned n = chain ? carray_count(chain) : 0, status = 1, got = 0;
	int ret = -1;

	if (!n) {
		error("imap server '%s': no certificate", im->host);
		goto out;
	}
	certs = xcalloc(n, sizeof(*certs));
	for (; got < n; got++) {
		MMAPString *der = carray_get(chain, got);
		gnutls_datum_t d = { (unsigned char *)der->str, (unsigned)der->len };

		if (gnutls_x509_crt_init(&certs[got]) ||
		    gnutls_x509_crt_import(certs[got], &d, GNUTLS_X509_FMT_DER)) {
			error("imap server '%s': unreadable certificate", im->host);
			got++;
			goto out;
		}
	}
	if (gnutls_x509_trust_list_init(&tl, 0) ||
	    (ca_file ? gnutls_x509_trust_list_add_trust_file(
			       tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0)
		     : gnutls_x509_trust_list_add_system_trust(tl, 0, 0)) <= 0) {
		error("imap: cannot load trusted certificates from '%s'",
		      ca_file ? ca_file : "the system");
		goto out;
	}
	if (gnutls_x509_trust_list_verify_crt2(tl, certs, n, &host, 1, 0,
					       &status, NULL) || status) {
		gnutls_datum_t why = { NULL, 0 };

		gnutls_certificate_verification_status_print(
			status, GNUTLS_CRT_X509, &why, 0);
		error("imap server '%s': certificate not trusted: %s", im->host,
		      why.data ? (char *)why.data : "verification failed");
		gnutls_free(why.data);
		goto out;
	}
	ret = 0;
out:
	for (unsigned i = 0; i < got; i++)
		gnutls_x509_crt_deinit(certs[i]);
	free(certs);
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	if (chain)
		mailstream_certificate_chain_free(chain);
	return ret;
}

/* Lists the UIDs of the messages without \Seen. */
static int imap_unseen(struct inbox_imap *im)
{
	struct mailimap_search_key *key = mailimap_search_key_new(
		MAILIMAP_SEARCH_KEY_UNSEEN, NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL,
		NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL);
	clist *res = NULL;
	int rc = mailimap_uid_search(im->imap, NULL, key, &res);

	mailimap_search_key_free(key);
	if (rc != MAILIMAP_NO_ERROR)
		return imap_error(im, "SEARCH UNSEEN", rc);
	im->uids = xcalloc((size_t)clist_count(res) + 1, sizeof(*im->uids));
	for (clistiter *it = clist_begin(res); it; it = clist_next(it))
		im->uids[im->nuids++] = *(uint32_t *)clist_content(it);
	mailimap_search_result_free(res);
	return 0;
}

int inbox_imap_open(const struct inbox_imap_opts *o, struct inbox_imap **out)
{
	struct inbox_imap *im = xcalloc(1, sizeof(*im));
	int rc;

	*out = NULL;
	im->host = xstrdup(o->host);
	im->done_folder = xstrdup(o->done_folder);
	im->imap = mailimap_new(0, NULL);
	mailimap_set_timeout(im->imap, 60);
	rc = mailimap_ssl_connect(im->imap, o->host, (uint16_t)o->port);
	if (rc != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    rc != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		imap_error(im, "TLS connection", rc);
		goto fail;
	}
	if (imap_verify(im, o->ca_file))
		goto fail;
	rc = mailimap_login(im->imap, o->user, o->password);
	if (rc != MAILIMAP_NO_ERROR) {
		imap_error(im, "LOGIN", rc);
		goto fail;
	}
	im->has_move = mailimap_has_extension(im->imap, "MOVE");
	/* an existing folder answers NO: that is fine */
	mailimap_create(im->imap, o->done_folder);
	rc = mailimap_select(im->imap, o->folder);
	if (rc != MAILIMAP_NO_ERROR) {
		imap_error(im, "SELECT", rc);
		goto fail;
	}
	if (imap_unseen(im))
		goto fail;
	*out = im;
	return 0;
fail:
	inbox_imap_close(im);
	return -1;
}

/* Copies the body section of a FETCH answer into msg. */
static void fetched_body(clist *res, struct buf *msg)
{
	for (clistiter *i = clist_begin(res); i; i = clist_next(i)) {
		struct mailimap_msg_att *att = clist_content(i);

		for (clistiter *j = clist_begin(att->att_list); j; j = clist_next(j)) {
			struct mailimap_msg_att_item *it = clist_content(j);
			struct mailimap_msg_att_static *st;

			if (it->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			st = it->att_data.att_static;
			if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
			    st->att_data.att_body_section->sec_body_part)
				buf_add(msg, st->att_data.att_body_section->sec_body_part,
					st->att_data.att_body_section->sec_length);
		}
	}
}

int inbox_imap_next(struct inbox_imap *im, unsigned *uid, struct buf *msg)
{
	struct mailimap_set *set;
	struct mailimap_fetch_type *ft;
	clist *res = NULL;
	int rc;

	if (im->next == im->nuids)
		return 0;
	*uid = im->uids[im->next++];
	set = mailimap_set_new_single(*uid);
	/* BODY.PEEK: reading does not set \Seen; at most one byte more than
	 * inbox_read reads, so a huge message costs no memory */
	ft = mailimap_fetch_type_new_fetch_att(
		mailimap_fetch_att_new_body_peek_section_partial(
			mailimap_section_new(NULL), 0, INBOX_MAX_MESSAGE + 1));
	rc = mailimap_uid_fetch(im->imap, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (rc != MAILIMAP_NO_ERROR)
		return imap_error(im, "FETCH", rc);
	buf_reset(msg);
	fetched_body(res, msg);
	mailimap_fetch_list_free(res);
	return 1;
}

/* UID STORE +FLAGS.SILENT (flag) on set. */
static int imap_flag(struct inbox_imap *im, struct mailimap_set *set,
		     struct mailimap_flag *flag)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa;
	int rc;

	mailimap_flag_list_add(fl, flag);
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	rc = mailimap_uid_store(im->imap, set, sa);
	mailimap_store_att_flags_free(sa);
	return rc == MAILIMAP_NO_ERROR ? 0 : imap_error(im, "STORE", rc);
}

size_t inbox_imap_count(const struct inbox_imap *im)
{
	return im->nuids;
}

int inbox_imap_done(struct inbox_imap *im, const unsigned *uids, size_t n)
{
	struct mailimap_set *set;
	int ret = -1, rc;

	if (!n)
		return 0;
	set = mailimap_set_new_empty();
	for (size_t i = 0; i < n; i++)
		mailimap_set_add_single(set, uids[i]);
	if (imap_flag(im, set, mailimap_flag_new_seen()))
		goto out;
	if (im->has_move) {
		rc = mailimap_uid_move(im->imap, set, im->done_folder);
		if (rc != MAILIMAP_NO_ERROR) {
			imap_error(im, "MOVE", rc);
			goto out;
		}
	} else {
		rc = mailimap_uid_copy(im->imap, set, im->done_folder);
		if (rc != MAILIMAP_NO_ERROR) {
			imap_error(im, "COPY", rc);
			goto out;
		}
		if (imap_flag(im, set, mailimap_flag_new_deleted()))
			goto out;
		rc = mailimap_expunge(im->imap);
		if (rc != MAILIMAP_NO_ERROR) {
			imap_error(im, "EXPUNGE", rc);
			goto out;
		}
	}
	ret = 0;
out:
	mailimap_set_free(set);
	return ret;
}

void inbox_imap_close(struct inbox_imap *im)
{
	if (!im)
		return;
	if (im->imap) {
		if (im->imap->imap_stream)
			mailimap_logout(im->imap);
		mailimap_free(im->imap);
	}
	free(im->host);
	free(im->done_folder);
	free(im->uids);
	free(im);
}
