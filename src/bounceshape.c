#include "bounceshape.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "fields.h"
#include "util.h"

/* Lines read after an introduction before giving up on a list. */
#define SHAPE_WINDOW 40

struct intro {
	const char        *phrase;	/* case-insensitive, within one line */
	const char        *mta;
	enum shape_verdict verdict;	/* SHAPE_NONE: decided by the text */
};

/*
 * Introductions of the failed-address lists, the most specific first.
 * Studied on the shapes Mailman's detectors (flufl.bounce) and Sisimai
 * know; the phrases are what the MTAs write.
 */
static const struct intro intros[] = {
	{ "this is the qmail-send program", "qmail", SHAPE_HARD },
	{ "delivery to the following recipient failed permanently", "gmail", SHAPE_HARD },
	{ "delivery to the following recipient has been delayed", "gmail", SHAPE_SOFT },
	{ "delivery to the following recipients failed", "gmail", SHAPE_HARD },
	{ "delivery to the following recipient failed", "gmail", SHAPE_HARD },
	{ "this is a permanent error. the following address(es) failed", "exim", SHAPE_HARD },
	{ "the following address(es) failed", "exim", SHAPE_HARD },
	{ "message has not yet been delivered to the following", "exim", SHAPE_SOFT },
	{ "has not yet been delivered to one or more", "exim", SHAPE_SOFT },
	{ "a message that you sent could not be delivered", "exim", SHAPE_NONE },
	{ "the following addresses had permanent fatal errors", "sendmail", SHAPE_HARD },
	{ "the following addresses had transient non-fatal errors", "sendmail", SHAPE_SOFT },
	{ "here is your list of failed recipients", "sendmail", SHAPE_HARD },
	{ "this is the mail system at host", "postfix", SHAPE_NONE },
	{ "this is the postfix program at host", "postfix", SHAPE_NONE },
	{ "could not be delivered to one or more", "postfix", SHAPE_NONE },
	{ "has not yet been delivered to all its recipients", "exim", SHAPE_SOFT },
	{ "your mail was not delivered to the following address", "qmail", SHAPE_HARD },
	{ "wasn't able to deliver your message to the following", "qmail", SHAPE_HARD },
	{ "was not delivered to:", "domino", SHAPE_HARD },
	{ "to the following recipients was aborted", "generic", SHAPE_HARD },
	{ "delivery failed", "smtp32", SHAPE_HARD },
	{ "undeliverable to", "smtp32", SHAPE_HARD },
	{ "to the following recipients failed", "generic", SHAPE_HARD },
	{ "was automatically rejected", "dovecot", SHAPE_HARD },
	{ "your message to:", "generic", SHAPE_NONE },
	{ "unknown user:", "smtp32", SHAPE_HARD },
	{ "could not be delivered to the following recipients", "generic", SHAPE_NONE },
	{ "delivery of email to this address", "generic", SHAPE_NONE },
	{ "the following recipients did not receive your message", "netscape", SHAPE_NONE },
	{ "delivery has failed to these recipients or groups", "microsoft", SHAPE_HARD },
	{ "the following recipient(s) could not be reached", "microsoft", SHAPE_HARD },
	{ "did not reach the following recipient", "microsoft", SHAPE_HARD },
	{ "message could not be delivered to some recipients", "microsoft", SHAPE_HARD },
	{ "unable to deliver message to the following address", "yahoo", SHAPE_HARD },
	{ "we were unable to deliver your message to the following", "yahoo", SHAPE_HARD },
	{ "sorry, unable to deliver your message to", "yahoo", SHAPE_HARD },
	{ "the following addresses did not receive a copy", "groupwise", SHAPE_HARD },
	{ "the email below could not be delivered to the following user", "netscape", SHAPE_HARD },
	{ "failed addresses follow:", "smtp32", SHAPE_HARD },
	{ "undeliverable address:", "smtp32", SHAPE_HARD },
	{ "intended recipient:", "generic", SHAPE_HARD },
	{ "could not deliver message to the following recipient", "generic", SHAPE_HARD },
	{ "message not delivered to the following addresses", "generic", SHAPE_HARD },
	{ "a message that you sent was rejected", "generic", SHAPE_HARD },
	{ "a message could not be delivered to:", "generic", SHAPE_HARD },
	{ "the following address failed:", "generic", SHAPE_HARD },
	{ "------ failed recipients ------", "generic", SHAPE_HARD },
	{ "invalid final delivery userid:", "generic", SHAPE_HARD },
	{ "user's mailbox is full:", "generic", SHAPE_SOFT },
	{ "your message could not be delivered", "generic", SHAPE_NONE },
	{ "unable to deliver message to", "generic", SHAPE_HARD },
	{ "error-for:", "generic", SHAPE_HARD },
	{ "this is the deliver program at", "generic", SHAPE_HARD },
	{ "this is the email server at", "generic", SHAPE_HARD },
	{ "this is a delivery failure notification message", "generic", SHAPE_HARD },
	{ "wasn't able to deliver the following message", "generic", SHAPE_HARD },
	{ "your message has encountered delivery problems", "generic", SHAPE_HARD },
	{ "- no such user here", "generic", SHAPE_HARD },
};
#define NINTROS (sizeof(intros) / sizeof(intros[0]))

/* Lines that end a list: the returned message or the transcript starts. */
static const char *const ends[] = {
	"below this line is a copy", "original message", "returned mail",
	"transcript of session", "copy of the original message",
	"message headers follow", "included is a copy", "reporting-mta",
	"------ this is a copy", "the original message was received",
	"content-type:", "received:", "return-path:", "message-id:",
	"diagnostic information for administrators",
};

/* Phrases that make a failure temporary. */
static const char *const soft_phrases[] = {
	"mailbox is full", "mailbox full", "over quota", "quota exceeded",
	"exceeded storage", "has been delayed", "not yet been delivered",
	"will retry", "will be retried", "temporarily", "temporary failure",
	"try again later", "delivery delayed", "insufficient system storage",
	"attempts will continue", "will continue to try", "postponed",
};

/* Longest line compared with the phrases; longer lines are cut. */
#define LINE_MAX_CMP 1024

/* A line lower-cased (phrases are lower-case), NUL-terminated, so that
 * strstr, which is fast, does the searching. */
struct lower {
	char s[LINE_MAX_CMP];
};

static const char *lower(struct lower *l, const char *s, size_t len)
{
	size_t n = 0;

	/* runs of blanks count as one: "undeliverable  to" */
	for (size_t i = 0; i < len && n < sizeof(l->s) - 1; i++) {
		char c = (char)tolower((unsigned char)s[i]);

		if (c == '\t')
			c = ' ';
		if (c != ' ' || !n || l->s[n - 1] != ' ')
			l->s[n++] = c;
	}
	l->s[n] = '\0';
	return l->s;
}

/* True if the lower-cased line contains a phrase of list. */
static int any_of(const char *line, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(line, list[i]))
			return 1;
	return 0;
}

static int any_ci(const char *s, size_t len, const char *const *list, size_t n)
{
	struct lower l;

	return any_of(lower(&l, s, len), list, n);
}

int shape_text_soft(const char *text, size_t len)
{
	char *low = xmalloc(len + 1);
	int soft;

	for (size_t i = 0; i < len; i++)
		low[i] = text[i] ? (char)tolower((unsigned char)text[i]) : ' ';
	low[len] = '\0';
	soft = any_of(low, soft_phrases,
		      sizeof(soft_phrases) / sizeof(soft_phrases[0]));
	free(low);
	return soft;
}

static const char *next_line(const char *p, const char *end, size_t *len)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *e = nl ? nl : end;

	*len = (size_t)(e - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return nl ? nl + 1 : end;
}

static int blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Adds the address in the line (len bytes) to s, unless it is ours or
 * already there. */
static void collect(struct shape *s, const char *line, size_t len,
		    const char *ignore_domain)
{
	char tmp[1024], addr[SHAPE_ADDR_MAX];
	const char *at;

	if (len >= sizeof(tmp))
		len = sizeof(tmp) - 1;
	memcpy(tmp, line, len);
	tmp[len] = '\0';
	if (!fields_address(tmp, addr, sizeof(addr)) || s->n == SHAPE_MAX_RCPT)
		return;
	at = strrchr(addr, '@');
	if (ignore_domain && at && !strcasecmp(at + 1, ignore_domain))
		return;
	if (!strncasecmp(addr, "mailer-daemon@", 14) ||
	    !strncasecmp(addr, "postmaster@", 11))
		return;
	for (size_t i = 0; i < s->n; i++)
		if (!strcasecmp(s->rcpt[i], addr))
			return;
	memcpy(s->rcpt[s->n++], addr, strlen(addr) + 1);
}

/* Reads the list after the introduction, from p. */
static void read_list(struct shape *s, const char *p, const char *end,
		      const char *ignore_domain)
{
	/* blank lines do not end it: Yahoo puts one between addresses */
	for (int i = 0; i < SHAPE_WINDOW && p < end; i++) {
		size_t len;
		const char *line = p;

		p = next_line(p, end, &len);
		if (any_ci(line, len, ends, sizeof(ends) / sizeof(ends[0])))
			return;
		if (!blank(line, len) && memchr(line, '@', len))
			collect(s, line, len, ignore_domain);
	}
}

/*
 * qmail and Postfix without their introduction (translated or
 * rewritten by a provider): each failed address on a line of its own as
 * "<user@host>:", the reason after it or below.
 */
static void angle_colon(struct shape *s, const char *p, const char *end,
			const char *ignore_domain)
{
	while (p < end) {
		size_t len;
		const char *line = p, *gt;

		p = next_line(p, end, &len);
		if (len > 3 && any_ci(line, len, ends, 2))
			break;	/* "below this line is a copy", "original message" */
		if (len < 5 || line[0] != '<')
			continue;
		gt = memchr(line, '>', len);
		if (gt && gt + 1 < line + len && gt[1] == ':' &&
		    memchr(line, '@', (size_t)(gt - line)))
			collect(s, line, (size_t)(gt + 1 - line), ignore_domain);
	}
	if (s->n) {
		s->mta = "qmail";
		s->verdict = SHAPE_NONE;
	}
}

enum shape_verdict shape_parse(const char *text, size_t len,
			       const char *ignore_domain, struct shape *s)
{
	const char *end = text + len, *p = text;

	memset(s, 0, sizeof(*s));
	while (p < end && !s->mta) {
		size_t llen;
		const char *line = p;

		p = next_line(p, end, &llen);
		struct lower l;

		lower(&l, line, llen);
		for (size_t i = 0; i < NINTROS; i++) {
			if (!strstr(l.s, intros[i].phrase))
				continue;
			s->mta = intros[i].mta;
			s->verdict = intros[i].verdict;
			/* the address may be on the introduction's own line,
			 * before the phrase or after it */
			if (memchr(line, '@', llen))
				collect(s, line, llen, ignore_domain);
			read_list(s, p, end, ignore_domain);
			break;
		}
	}
	if (!s->mta || !s->n) {
		memset(s, 0, sizeof(*s));
		angle_colon(s, text, end, ignore_domain);
	}
	if (!s->mta || !s->n) {
		memset(s, 0, sizeof(*s));
		return SHAPE_NONE;
	}
	/* in prose, only a failure's code: "2.0.13" is a version number */
	if (dsn_status_find(text, len, s->status) && s->status[0] == '2')
		s->status[0] = '\0';
	if (s->verdict == SHAPE_NONE || s->verdict == SHAPE_HARD) {
		if (s->status[0] == '4' || (!s->status[0] && shape_text_soft(text, len)))
			s->verdict = SHAPE_SOFT;
		else
			s->verdict = SHAPE_HARD;
	}
	return s->verdict;
}
