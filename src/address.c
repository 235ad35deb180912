#include "address.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "utf8.h"
#include "util.h"

#define LOCAL_MAX	64	/* RFC 5321 §4.5.3.1.1 */
#define DOMAIN_MAX	253	/* RFC 5321 §4.5.3.1.2: 255, less the brackets of a path */
#define LABEL_MAX	63	/* RFC 1035 §2.3.4 */
#define ADDRESS_MAX	254	/* RFC 5321 §4.5.3.1.3: a path, less "<>" */
#define DISPLAY_MAX	256	/* ours: longer names are mistakes, not names */

static const char non_ascii_local[] =
	"non-ASCII local part (SMTPUTF8 is not supported)";

/* ---- characters --------------------------------------------------------- */

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* RFC 5322 §3.2.3 atext; '.' is handled by the dot-atom rules. */
static int is_atext(unsigned char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static void add_lower(struct buf *out, const char *s, size_t len)
{
	buf_grow(out, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		/* ASCII only: UTF-8 bytes must pass through untouched. */
		out->data[out->len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out->data[out->len] = '\0';
}

/* Why a character that may not appear outside quotes is there. */
static const char *stray_reason(unsigned char c, const char *fallback)
{
	switch (c) {
	case '\0': return "missing '@'";
	case '@': return "more than one '@'";
	case ' ': return "unquoted space in address";
	case '(': case ')': return "comments are not allowed";
	case '<': case '>': return "angle brackets are not allowed";
	default: return fallback;
	}
}

/* CR, LF and other controls are refused anywhere, even quoted: RFC 5321
 * §4.1.2 qtextSMTP and quoted-pairSMTP exclude them. */
static const char *check_controls(const char *s)
{
	size_t len = strlen(s);

	if (has_crlf(s, len))
		return "CR or LF in address";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\t')
			return "tab in address";
		if (c < 0x20 || c == 0x7f)
			return "control character in address";
	}
	return NULL;
}

/* ---- local part --------------------------------------------------------- */

/* RFC 5321 §4.1.2 Dot-string; sets *at to the '@' that ends it. */
static const char *check_dot_atom(const char *s, const char **at)
{
	const char *p;

	for (p = s; *p != '@'; p++) {
		unsigned char c = (unsigned char)*p;

		if (is_atext(c))
			continue;
		if (c == '.' && p == s)
			return "local part starts with a dot";
		if (c == '.' && p[1] == '.')
			return "consecutive dots in local part";
		if (c == '.' && p[1] == '@')
			return "local part ends with a dot";
		if (c == '.')
			continue;
		if (c == '"')	/* RFC 5322 §4.4 obs-local-part: word *("." word) */
			return "quoted string inside a dot-atom (obsolete syntax)";
		if (c >= 0x80)
			return non_ascii_local;
		return stray_reason(c, "invalid character in local part");
	}
	if (p == s)
		return "empty local part";
	*at = p;
	return NULL;
}

/* RFC 5321 §4.1.2 Quoted-string: qtextSMTP and quoted-pairSMTP, both
 * printable ASCII (controls were refused before we got here). */
static const char *check_quoted(const char *s, const char **at)
{
	const char *p = s + 1;

	while (*p != '"') {
		if (*p == '\\')
			p++;
		if (!*p)
			return "unterminated quoted local part";
		if ((unsigned char)*p >= 0x80)
			return non_ascii_local;
		p++;
	}
	/* The grammar allows "" but it names no mailbox anyone delivers to. */
	if (p == s + 1)
		return "empty local part";
	if (*++p == '@') {
		*at = p;
		return NULL;
	}
	if (*p == '.')	/* RFC 5322 §4.4 obs-local-part */
		return "quoted string mixed with a dot-atom (obsolete syntax)";
	return *p ? "text after the quoted local part" : "missing '@'";
}

static const char *check_local(const char *s, const char **at)
{
	const char *why = *s == '"' ? check_quoted(s, at) : check_dot_atom(s, at);

	if (!why && *at - s > LOCAL_MAX)
		return "local part longer than 64 octets";
	return why;
}

/* ---- address literals --------------------------------------------------- */

/* RFC 5321 §4.1.3 IPv4-address-literal: four Snum, each 0-255. Leading
 * zeros are refused: inet_aton() and friends would read them as octal. */
static int valid_ipv4(const char *s, size_t len)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start;
		unsigned value = 0;

		if (part && (i >= len || s[i++] != '.'))
			return 0;
		start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			value = value * 10 + (unsigned)(s[i++] - '0');
		if (i == start || value > 255 || (s[start] == '0' && i - start > 1))
			return 0;
	}
	return i == len;
}

/* RFC 5321 §4.1.3 IPv6-addr via inet_pton, plus its one extra rule:
 * "::" stands for at least two groups, so at most 6 (or 4 before an
 * IPv4 tail) may be written beside it. */
static int valid_ipv6(const char *s, size_t len)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	int groups = 0, v4;

	if (len >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET6, tmp, bin) != 1)
		return 0;
	if (!strstr(tmp, "::"))
		return 1;
	v4 = strchr(tmp, '.') != NULL;
	for (size_t i = 0; i < len; i++)
		if (tmp[i] != ':' && tmp[i] != '.' && (!i || tmp[i - 1] == ':'))
			groups++;
	return groups - v4 <= (v4 ? 4 : 6);
}

static const char *check_literal(const char *d, struct buf *out)
{
	size_t len = strlen(d), n;
	const char *in = d + 1;

	if (len < 2 || d[len - 1] != ']' || memchr(in, ']', len - 2))
		return "address literal must be the whole domain, in brackets";
	n = len - 2;
	if (n > 5 && !strncasecmp(in, "IPv6:", 5)) {
		if (!valid_ipv6(in + 5, n - 5))
			return "invalid IPv6 address literal";
		buf_adds(out, "[IPv6:");
		add_lower(out, in + 5, n - 5);
		buf_addch(out, ']');
		return NULL;
	}
	/* RFC 5321 §4.1.3 General-address-literal: no tag is registered. */
	if (memchr(in, ':', n))
		return "unsupported address literal (only IPv4 and IPv6)";
	if (!valid_ipv4(in, n))
		return "invalid IPv4 address literal";
	buf_add(out, d, len);
	return NULL;
}

/* ---- domains ------------------------------------------------------------ */

/* Only LDH, dots and (for IDNs) UTF-8 may reach the label checks. */
static const char *check_domain_chars(const char *d)
{
	for (const char *p = d; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (is_alnum(c) || c == '-' || c == '.' || c >= 0x80)
			continue;
		if (c == '_')
			return "underscore in domain (labels are letters, digits "
			       "and hyphens)";
		return stray_reason(c, "invalid character in domain (labels "
				    "are letters, digits and hyphens)");
	}
	return NULL;
}

/* Dot placement, checked before IDN conversion so the reason is ours. */
static const char *check_dots(const char *d)
{
	size_t len = strlen(d);

	if (d[0] == '.')
		return "domain starts with a dot";
	if (d[len - 1] == '.')	/* a root dot is not a mailbox domain */
		return "domain ends with a dot";
	if (strstr(d, ".."))
		return "consecutive dots in domain";
	return NULL;
}

/*
 * RFC 5321 §4.1.2 Domain as sub-domains of Let-dig [Ldh-str]. A single
 * label ("localhost") is accepted: the grammar allows it and local
 * relays use it; RFC 5321 §2.3.5 only asks for FQDNs in DNS lookups.
 */
static const char *check_labels(const char *d)
{
	size_t len = strlen(d);
	const char *why = check_dots(d);

	if (why)
		return why;
	if (len > DOMAIN_MAX)
		return "domain longer than 253 octets";
	for (const char *p = d; *p; ) {
		size_t n = strcspn(p, ".");

		if (n > LABEL_MAX)
			return "domain label longer than 63 octets";
		if (p[0] == '-' || p[n - 1] == '-')
			return "domain label starts or ends with a hyphen";
		p += n + (p[n] == '.');
	}
	return NULL;
}

/* RFC 5891 §5: U-labels become A-labels (IDNA2008, with UTS #46
 * non-transitional mapping, as browsers and MTAs do). */
static const char *to_a_labels(const char *d, struct buf *out)
{
	struct buf lower = BUF_INIT;
	char *ascii = NULL;
	const char *why = NULL;
	int rc;

	if (!utf8_valid(d, strlen(d)))
		return "invalid UTF-8 in domain";
	add_lower(&lower, d, strlen(d));
	rc = idn2_to_ascii_8z(lower.data, &ascii, IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		why = idn2_strerror(rc);
	else
		add_lower(out, ascii, strlen(ascii));
	idn2_free(ascii);
	buf_release(&lower);
	return why;
}

/* True for U-labels (non-ASCII bytes) and for A-labels ("xn--"), which
 * idn2 checks by decoding them and encoding them back (RFC 5891 §5.4). */
static int needs_idna(const char *d)
{
	for (const char *p = d; *p; p++) {
		if ((unsigned char)*p >= 0x80)
			return 1;
		if ((p == d || p[-1] == '.') && !strncasecmp(p, "xn--", 4))
			return 1;
	}
	return 0;
}

/* Appends the normalised domain to out, or returns why it is refused. */
static const char *check_domain(const char *d, struct buf *out)
{
	size_t start = out->len;
	const char *why;

	if (!*d)
		return "empty domain";
	if (*d == '[')
		return check_literal(d, out);
	if ((why = check_domain_chars(d)) || (why = check_dots(d)))
		return why;
	if (needs_idna(d))
		why = to_a_labels(d, out);
	else
		add_lower(out, d, strlen(d));
	return why ? why : check_labels(out->data + start);
}

/* ---- public ------------------------------------------------------------- */

/* Everything but the domain; sets *at to the '@' between the two. */
static const char *check_before_domain(const char *in, const char **at)
{
	const char *why;

	if (!in || !*in)
		return "empty address";
	if ((why = check_controls(in)))
		return why;
	if (in[0] == '@' && strchr(in, ':'))	/* RFC 5321 §4.1.2 obs Path */
		return "source routes are not allowed (obsolete syntax)";
	return check_local(in, at);
}

int address_normalize(const char *in, char **normalized, const char **reason)
{
	struct buf out = BUF_INIT;
	const char *at = NULL, *why = check_before_domain(in, &at);

	*normalized = NULL;
	if (!why) {
		buf_add(&out, in, (size_t)(at - in + 1));
		why = check_domain(at + 1, &out);
	}
	/* after IDNA: the A-labels are what goes into the SMTP path */
	if (!why && out.len > ADDRESS_MAX)
		why = "address longer than 254 octets";
	if (why) {
		*reason = why;
		buf_release(&out);
		return -1;
	}
	*normalized = buf_detach(&out, NULL);
	return 0;
}

/* ---- canonical identity ------------------------------------------------ */

/* RFC 5322 §3.2.3 dot-atom-text: atext runs joined by single dots. */
static int is_dot_atom(const char *s, size_t len)
{
	if (!len || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' ? s[i + 1] == '.' : !is_atext(c))
			return 0;
	}
	return 1;
}

/* Appends the quoted local part q (len bytes, quotes included) to out,
 * lower-cased, without its quotes when they are needless. */
static void add_canonical_quoted(struct buf *out, const char *q, size_t len)
{
	size_t start = out->len;
	char *text;

	for (size_t i = 1; i + 1 < len; i++) {
		/* a quoted-pair stands for its second character */
		if (q[i] == '\\' && i + 2 < len)
			i++;
		add_lower(out, q + i, 1);
	}
	if (is_dot_atom(out->data + start, out->len - start))
		return;
	text = xstrndup(out->data + start, out->len - start);
	buf_truncate(out, start);
	buf_addch(out, '"');
	for (const char *p = text; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addch(out, '\\');
		buf_addch(out, *p);
	}
	buf_addch(out, '"');
	free(text);
}

void address_canonical(const char *normalized, struct buf *out)
{
	/* the domain holds no '@'; a quoted local part may */
	const char *at = strrchr(normalized, '@');
	size_t local = at ? (size_t)(at - normalized) : 0;

	if (local >= 2 && normalized[0] == '"' && normalized[local - 1] == '"') {
		add_canonical_quoted(out, normalized, local);
		normalized += local;
	}
	add_lower(out, normalized, strlen(normalized));
}

const char *address_check_name(const char *name)
{
	size_t len = strlen(name), n;
	uint32_t cp;

	if (len > DISPLAY_MAX)
		return "display name longer than 256 octets";
	if (has_crlf(name, len))
		return "CR or LF in display name";
	for (size_t i = 0; i < len; i += n) {
		if (!(n = utf8_decode(name + i, len - i, &cp)))
			return "invalid UTF-8 in display name";
		/* C0, DEL and C1: none belongs in a header. */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return "control character in display name";
	}
	return NULL;
}

/* ---- mailboxes ---------------------------------------------------------- */

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Reads the quoted-string at *p (RFC 5322 §3.2.4) into name, undoing
 * quoted-pairs; stops before end. Leaves *p after the closing quote. */
static const char *unquote_name(const char **p, const char *end,
				struct buf *name)
{
	const char *s = *p + 1;

	for (; s < end && *s != '"'; s++) {
		if (*s == '\\' && ++s == end)
			break;
		buf_addch(name, *s);
	}
	if (s >= end)
		return "unterminated quoted display name";
	*p = s + 1;
	return NULL;
}

/* An unquoted display name: lenient (dots and commas are fine, one
 * mailbox is parsed, not a list) but without quotes or comments. */
static const char *check_bare_name(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			return "quote or backslash in an unquoted display name";
		if (s[i] == '(' || s[i] == ')')
			return "comments are not allowed";
		if (s[i] == '>')
			return "'>' in display name";
	}
	return NULL;
}

/* s (len bytes, trimmed) ends with '>': splits "name <spec>". */
static const char *split_name_addr(const char *s, size_t len,
				   struct buf *name, struct buf *spec)
{
	const char *end = s + len - 1, *lt, *why = NULL;

	if (*s == '"') {
		lt = s;
		if ((why = unquote_name(&lt, end, name)))
			return why;
		while (is_space(*lt))
			lt++;
		if (*lt != '<')
			return "text after the quoted display name";
	} else {
		size_t n;

		if (!(lt = memchr(s, '<', len)))
			return "'>' without '<'";
		for (n = (size_t)(lt - s); n && is_space(s[n - 1]); n--)
			;
		if ((why = check_bare_name(s, n)))
			return why;
		buf_add(name, s, n);
	}
	for (lt++; lt < end && is_space(*lt); lt++)
		;
	while (end > lt && is_space(end[-1]))
		end--;
	buf_add(spec, lt, (size_t)(end - lt));
	return NULL;
}

int address_parse_mailbox(const char *in, char **display, char **addr,
			  const char **reason)
{
	struct buf name = BUF_INIT, spec = BUF_INIT;
	const char *why = NULL;
	size_t len;
	int ret = -1;

	*display = *addr = NULL;
	while (in && is_space(*in))
		in++;
	len = in ? strlen(in) : 0;
	while (len && is_space(in[len - 1]))
		len--;
	if (len && has_crlf(in, len))
		why = "CR or LF in mailbox";
	else if (len && in[len - 1] == '>')
		why = split_name_addr(in, len, &name, &spec);
	else
		buf_add(&spec, in ? in : "", len);
	if (!why && name.len)
		why = address_check_name(name.data);
	if (why || address_normalize(spec.data, addr, &why))
		goto out;
	*display = name.len ? buf_detach(&name, NULL) : NULL;
	ret = 0;
out:
	if (ret)
		*reason = why;
	buf_release(&name);
	buf_release(&spec);
	return ret;
}
