#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "buf.h"
#include "inifile.h"
#include "util.h"

#define KIB 1024.0
#define MIB (1024.0 * 1024.0)

enum key_type { KEY_TEXT, KEY_LONG, KEY_DOUBLE, KEY_SIZE, KEY_BOOL };
/* What an empty value means: an error, or "unset" (NULL). */
enum key_need { OPTIONAL, REQUIRED };

/* Checks a text value, and may shorten it in place (normalising it).
 * Returns NULL or the reason it is bad. */
typedef const char *check_fn(char *value);

struct key {
	const char   *section;
	const char   *name;
	enum key_type type;
	size_t        offset;	/* of the field in struct config */
	const char   *fallback;	/* default value, as written in the file */
	enum key_need need;
	check_fn     *check;	/* text: the syntax beyond plain UTF-8 text */
	double        min, max;	/* numbers: the accepted range */
};

static int is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

static int is_hex(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

static const char *check_mailbox(char *value)
{
	char *display = NULL, *addr = NULL;
	const char *why = NULL;
	int bad = address_parse_mailbox(value, &display, &addr, &why);

	free(display);
	free(addr);
	return bad ? why : NULL;
}

static const char *check_address(char *value)
{
	char *addr = NULL;
	const char *why = NULL;
	int bad = address_normalize(value, &addr, &why);

	free(addr);
	return bad ? why : NULL;
}

/* RFC 2919: list-label "." namespace, a dot-atom-text; 255 octets at most. */
static const char *check_list_id(char *value)
{
	size_t n = strlen(value);

	if (n > 255 || !strchr(value, '.'))
		goto bad;
	for (size_t i = 0; i < n; i++) {
		int dot_ok = i > 0 && i < n - 1 && value[i - 1] != '.';

		if (value[i] == '.' ? !dot_ok :
		    !is_alnum(value[i]) && !strchr("!#$%&'*+-/=?^_`{|}~", value[i]))
			goto bad;
	}
	return NULL;
bad:
	return "expected a dot-atom such as news.example.org (RFC 2919), "
	       "at most 255 octets";
}

/* Labels of letters, digits and '-' (not at either end), 1-63 octets each,
 * 253 in all. */
static int is_ldh_name(const char *s, size_t n)
{
	size_t label = 0;

	if (!n || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (!label || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if (is_alnum(s[i]) || (s[i] == '-' && label)) {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label && s[n - 1] != '-';
}

static int is_port(const char *s, size_t n)
{
	long port = 0;

	if (!n || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		port = port * 10 + (s[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

static int is_local_host(const char *s, size_t n)
{
	static const char *const local[] = { "localhost", "127.0.0.1", "[::1]" };

	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (strlen(local[i]) == n && !memcmp(s, local[i], n))
			return 1;
	return 0;
}

/* HOST[:PORT] between s and end; HOST a name or an [IP literal]. */
static const char *check_authority(const char *s, const char *end,
				   int plain_http)
{
	const char *host_end = s, *colon;
	size_t n = (size_t)(end - s);

	if (*s == '[') {
		host_end = memchr(s, ']', n);
		if (!host_end || host_end == s + 1 ||
		    strspn(s + 1, "0123456789abcdefABCDEF:.") !=
		    (size_t)(host_end - s - 1))
			return "bad IP literal host";
		host_end++;
		colon = host_end < end ? host_end : NULL;
		if (colon && *colon != ':')
			return "bad IP literal host";
	} else {
		colon = memchr(s, ':', n);
		host_end = colon ? colon : end;
		if (!is_ldh_name(s, (size_t)(host_end - s)))
			return "bad host: expected letters, digits, '-' and dots "
			       "(an international name in its xn-- form)";
	}
	if (colon && !is_port(colon + 1, (size_t)(end - colon - 1)))
		return "bad port: expected a number from 1 to 65535";
	if (plain_http && !is_local_host(s, (size_t)(host_end - s)))
		return "http:// is only for localhost, 127.0.0.1 or [::1]: use https://";
	return NULL;
}

/* RFC 3986 path characters, without ',' (it separates List-Unsubscribe
 * URLs) and without a query or fragment. */
static const char *check_url_path(const char *p)
{
	for (; *p; p++) {
		if (*p == '?' || *p == '#')
			return "no query (?) or fragment (#) allowed";
		if (*p == '%') {
			if (!is_hex(p[1]) || !is_hex(p[2]))
				return "bad %-escape in the path";
			p += 2;
		} else if (!is_alnum(*p) && !strchr("-._~!$&'()*+;=:@/", *p)) {
			return "only RFC 3986 path characters allowed (no spaces, "
			       "quotes, <, > or ,)";
		}
	}
	return NULL;
}

static const char *check_base_url(char *value)
{
	int plain_http = !strncmp(value, "http://", 7);
	char *host, *path;
	const char *why;
	size_t len;

	if (strncmp(value, "https://", 8) && !plain_http)
		return "must start with https://";
	host = value + (plain_http ? 7 : 8);
	path = host + strcspn(host, "/?#");
	if (path == host)
		return "missing host";
	why = check_authority(host, path, plain_http);
	if (!why)
		why = check_url_path(path);
	len = strlen(value);
	while (!why && value + len > path && value[len - 1] == '/')
		value[--len] = '\0';
	return why;
}

/* The send command checks the URL further when it connects. */
static const char *check_smtp_url(char *value)
{
	static const char *const schemes[] = { "smtp://", "smtps://", "maildir:" };

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);

		if (!strncmp(value, schemes[i], n) && value[n] &&
		    !strpbrk(value, " \t"))
			return NULL;
	}
	return "expected smtp://HOST[:PORT], smtps://HOST[:PORT] or maildir:PATH";
}

static const char *check_starttls(char *value)
{
	static const char *const policies[] = { "require", "try", "never" };

	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (!strcmp(value, policies[i]))
			return NULL;
	return "expected require, try or never";
}

/* A language tag names a file (labels-LANG.ini): letters, digits, '-'. */
static const char *check_lang(char *value)
{
	for (const char *p = value; *p; p++)
		if (!is_alnum(*p) && (*p != '-' || p == value))
			return "expected a language tag such as en, zh or pt-BR";
	return NULL;
}

static const char *check_env_name(char *value)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789_";

	if ((value[0] >= '0' && value[0] <= '9') ||
	    strspn(value, chars) != strlen(value))
		return "expected a variable name (letters, digits and _)";
	return NULL;
}

/* DKIM's d= and s=: LDH labels (RFC 6376 §3.1, §3.5); d= lower-cased, so
 * alignment with from's (lower-cased) domain is a plain comparison. */
int config_is_dns_name(const char *s)
{
	return is_ldh_name(s, strlen(s));
}

static const char *check_dns_name(char *value)
{
	if (!config_is_dns_name(value))
		return "expected a DNS name of letters, digits, '-' and dots "
		       "(an international name in its xn-- form)";
	return NULL;
}

static const char *check_domain(char *value)
{
	for (char *p = value; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return check_dns_name(value);
}

#define TEXT(sec, name, field, def, need, check) \
	{ sec, name, KEY_TEXT, offsetof(struct config, field), def, need, \
	  check, 0, 0 }
#define NUM(sec, name, type, field, def, min, max) \
	{ sec, name, type, offsetof(struct config, field), def, REQUIRED, \
	  NULL, min, max }

/* One table, one line per key: the defaults, the parser, the environment
 * and the checks all read it. A NULL default makes a required key
 * mandatory in the file. */
static const struct key keys[] = {
	TEXT("newsletter", "name", name, NULL, REQUIRED, NULL),
	TEXT("newsletter", "from", from, NULL, REQUIRED, check_mailbox),
	TEXT("newsletter", "reply-to", reply_to, NULL, OPTIONAL, check_address),
	TEXT("newsletter", "list-id", list_id, NULL, REQUIRED, check_list_id),
	TEXT("newsletter", "base-url", base_url, NULL, REQUIRED, check_base_url),
	TEXT("newsletter", "postal-address", postal_address, NULL, REQUIRED, NULL),
	TEXT("newsletter", "reason", reason,
	     "You receive this because you subscribed to this newsletter.",
	     REQUIRED, NULL),
	TEXT("newsletter", "sample-to", sample_to,
	     "Sample Reader <reader@example.org>", REQUIRED, check_mailbox),
	NUM("newsletter", "max-message-size", KEY_SIZE, max_message_size, "10M",
	    KIB, 1024 * MIB),
	TEXT("newsletter", "unsubscribe-mailto", unsubscribe_mailto, NULL,
	     OPTIONAL, check_address),
	TEXT("smtp", "url", smtp_url, "maildir:outbox", REQUIRED, check_smtp_url),
	TEXT("smtp", "username", smtp_username, NULL, OPTIONAL, NULL),
	TEXT("smtp", "password-file", smtp_password_file, NULL, OPTIONAL, NULL),
	TEXT("smtp", "password-env", smtp_password_env, NULL, OPTIONAL,
	     check_env_name),
	TEXT("smtp", "starttls", smtp_starttls, "require", REQUIRED, check_starttls),
	NUM("smtp", "connections", KEY_LONG, smtp_connections, "4", 1, 64),
	NUM("smtp", "rate", KEY_DOUBLE, smtp_rate, "0", 0, 1e6),
	NUM("smtp", "max-per-hour", KEY_LONG, smtp_max_per_hour, "0", 0, 1e9),
	TEXT("smtp", "ehlo-name", smtp_ehlo_name, NULL, OPTIONAL, check_domain),
	TEXT("smtp", "bounce-address", smtp_bounce_address, NULL, OPTIONAL,
	     check_address),
	NUM("smtp", "verp", KEY_BOOL, smtp_verp, "false", 0, 1),
	TEXT("smtp", "ca-file", smtp_ca_file, NULL, OPTIONAL, NULL),
	NUM("smtp", "max-attempts", KEY_LONG, smtp_max_attempts, "5", 1, 100),
	NUM("smtp", "retry-delay", KEY_DOUBLE, smtp_retry_delay, "60", 0, 86400),
	NUM("smtp", "connect-timeout", KEY_DOUBLE, smtp_connect_timeout, "30",
	    0.1, 3600),
	NUM("smtp", "reply-timeout", KEY_DOUBLE, smtp_reply_timeout, "300",
	    0.1, 3600),
	TEXT("store", "path", store_path, "subscribers/bulletin.db", REQUIRED, NULL),
	TEXT("templates", "dir", templates_dir, "templates", REQUIRED, NULL),
	TEXT("templates", "lang", templates_lang, "en", REQUIRED, check_lang),
	NUM("templates", "allow-raw-html", KEY_BOOL, allow_raw_html, "false", 0, 1),
	TEXT("tokens", "secret-file", secret_file, "config/secret", REQUIRED, NULL),
	NUM("tokens", "grace-days", KEY_LONG, grace_days, "90", 0, 3650),
	TEXT("dkim", "domain", dkim_domain, NULL, OPTIONAL, check_domain),
	TEXT("dkim", "selector", dkim_selector, NULL, OPTIONAL, check_dns_name),
	TEXT("dkim", "key-file", dkim_key_file, NULL, OPTIONAL, NULL),
	TEXT("dkim", "selector2", dkim_selector2, NULL, OPTIONAL, check_dns_name),
	TEXT("dkim", "key-file2", dkim_key_file2, NULL, OPTIONAL, NULL),
	NUM("inbox", "trust-unverified", KEY_BOOL, inbox_trust_unverified,
	    "false", 0, 1),
	NUM("inbox", "soft-bounce-threshold", KEY_LONG, inbox_soft_threshold,
	    "5", 1, 1000),
	NUM("inbox", "soft-bounce-stale-days", KEY_LONG, inbox_soft_stale_days,
	    "7", 1, 3650),
	NUM("inbox", "soft-bounce-interval-days", KEY_LONG,
	    inbox_soft_interval_days, "1", 1, 365),
	TEXT("inbox", "imap-password-file", inbox_imap_password_file, NULL,
	     OPTIONAL, NULL),
	TEXT("inbox", "imap-password-env", inbox_imap_password_env, NULL,
	     OPTIONAL, check_env_name),
	TEXT("inbox", "imap-done-folder", inbox_imap_done_folder,
	     "bulletin-handled", REQUIRED, NULL),
	TEXT("inbox", "imap-ca-file", inbox_imap_ca_file, NULL, OPTIONAL, NULL),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].section, section) &&
		    !strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static int is_section(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].section, name))
			return 1;
	return 0;
}

static int set_text(char **field, const struct key *k, const char *value,
		    struct buf *why)
{
	char *copy = *value ? xstrdup(value) : NULL;
	const char *bad = copy && k->check ? k->check(copy) : NULL;

	if (bad) {
		buf_adds(why, bad);
		free(copy);
		return -1;
	}
	free(*field);
	*field = copy;
	return 0;
}

static int set_bool(int *field, const char *value, struct buf *why)
{
	static const struct { const char *word; int value; } words[] = {
		{ "true", 1 }, { "yes", 1 }, { "1", 1 },
		{ "false", 0 }, { "no", 0 }, { "0", 0 },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcmp(value, words[i].word)) {
			*field = words[i].value;
			return 0;
		}
	}
	buf_adds(why, "expected true or false");
	return -1;
}

/* Plain decimal digits, a fraction for KEY_DOUBLE, a K or M suffix for
 * KEY_SIZE: nothing strtod would also take (sign, exponent, hex, inf). */
static int parse_number(const char *s, enum key_type type, double *out)
{
	size_t n = strlen(s), digits = strspn(s, "0123456789"), end = digits;
	double scale = 1;

	if (type == KEY_SIZE && n && strchr("KkMm", s[n - 1])) {
		scale = strchr("Kk", s[n - 1]) ? KIB : MIB;
		n--;
	}
	if (type == KEY_DOUBLE && s[end] == '.' && end + 1 < n)
		end += 1 + strspn(s + end + 1, "0123456789");
	if (!digits || digits > 15 || end != n)
		return -1;
	*out = strtod(s, NULL) * scale;
	return 0;
}

static int set_number(void *field, const struct key *k, const char *value,
		      struct buf *why)
{
	static const char *const what[] = {
		[KEY_LONG] = "a whole number",
		[KEY_DOUBLE] = "a number",
		[KEY_SIZE] = "a size in bytes (K or M suffix allowed)",
	};
	double v;

	if (parse_number(value, k->type, &v) || v < k->min || v > k->max) {
		buf_addf(why, "expected %s from %.0f to %.0f", what[k->type],
			 k->min, k->max);
		return -1;
	}
	if (k->type == KEY_LONG)
		*(long *)field = (long)v;
	else if (k->type == KEY_SIZE)
		*(size_t *)field = (size_t)v;
	else
		*(double *)field = v;
	return 0;
}

/* Stores value in the field k names; returns 0, or -1 with the reason
 * in why. */
static int set_key(struct config *c, const struct key *k, const char *value,
		   struct buf *why)
{
	void *field = (char *)c + k->offset;
	const char *bad = inifile_text_problem(value, strlen(value));

	if (!bad && !*value && k->need == REQUIRED)
		bad = "must not be empty";
	if (bad) {
		buf_adds(why, bad);
		return -1;
	}
	switch (k->type) {
	case KEY_TEXT:
		return set_text(field, k, value, why);
	case KEY_BOOL:
		return set_bool(field, value, why);
	default:
		return set_number(field, k, value, why);
	}
}

/* origin: "FILE:LINE" or "environment variable NAME", for the message. */
static int set_or_report(struct config *c, const struct key *k,
			 const char *value, const char *origin)
{
	struct buf why = BUF_INIT;
	int ret = set_key(c, k, value, &why);

	if (ret)
		error("%s: bad value for '%s' in [%s]: %s", origin, k->name,
		      k->section, why.data);
	buf_release(&why);
	return ret;
}

void config_defaults(struct config *c)
{
	struct buf why = BUF_INIT;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].fallback)
			set_key(c, &keys[i], keys[i].fallback, &why);
	buf_release(&why);
}

struct parser {
	struct config *c;
	int            seen[NKEYS];	/* the line each key was set on, or 0 */
};

static int on_line(void *user, int line, const char *section,
		   const char *name, const char *value)
{
	struct parser *p = user;
	struct buf origin = BUF_INIT;
	const struct key *k;
	int ret;

	if (!name)
		return is_section(section) ? 0 :
		       error("%s:%d: unknown section [%s]", p->c->path, line,
			     section);
	k = find_key(section, name);
	if (!k)
		return error("%s:%d: unknown key '%s' in section [%s]",
			     p->c->path, line, name, section);
	if (p->seen[k - keys])
		return error("%s:%d: duplicate key '%s' in section [%s] "
			     "(first set on line %d)", p->c->path, line, name,
			     section, p->seen[k - keys]);
	p->seen[k - keys] = line;
	buf_addf(&origin, "%s:%d", p->c->path, line);
	ret = set_or_report(p->c, k, value, origin.data);
	buf_release(&origin);
	return ret;
}

static int parse_text(struct config *c, const char *data, size_t len)
{
	struct parser p = { c, { 0 } };

	return inifile_parse(c->path, data, len, on_line, &p);
}

static int apply_environment(struct config *c)
{
	int ret = 0;

	for (size_t i = 0; i < NKEYS && !ret; i++) {
		struct buf var = BUF_INIT, origin = BUF_INIT;
		const char *value;

		buf_addf(&var, "BULLETIN_%s_%s", keys[i].section, keys[i].name);
		for (char *p = var.data; *p; p++)
			*p = (char)(*p == '-' ? '_' : *p >= 'a' && *p <= 'z' ?
				    *p - 'a' + 'A' : *p);
		value = getenv(var.data);
		if (value) {
			buf_addf(&origin, "environment variable %s", var.data);
			ret = set_or_report(c, &keys[i], value, origin.data);
		}
		buf_release(&var);
		buf_release(&origin);
	}
	return ret;
}

/* List-Unsubscribe's mailto address, normalised; by default
 * unsubscribe@ the From domain. */
static int set_unsubscribe_mailto(struct config *c)
{
	char *addr = NULL;
	const char *why;

	if (!c->unsubscribe_mailto) {
		struct buf b = BUF_INIT;

		buf_addf(&b, "unsubscribe@%s", c->from_domain);
		c->unsubscribe_mailto = buf_detach(&b, NULL);
		return 0;
	}
	if (address_normalize(c->unsubscribe_mailto, &addr, &why))
		return error("%s: bad 'unsubscribe-mailto' address '%s': %s",
			     c->path, c->unsubscribe_mailto, why);
	free(c->unsubscribe_mailto);
	c->unsubscribe_mailto = addr;
	return 0;
}

/* Every key without a default must have been set; from's domain kept. */
static int finish(struct config *c)
{
	char *display = NULL, *addr = NULL;
	const char *why;
	int bad = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		if (k->type == KEY_TEXT && k->need == REQUIRED &&
		    !*(char **)((char *)c + k->offset))
			bad = error("%s: missing '%s' in section [%s]", c->path,
				    k->name, k->section);
	}
	if (bad)
		return -1;
	if (address_parse_mailbox(c->from, &display, &addr, &why))
		return error("%s: bad 'from' address '%s': %s", c->path, c->from,
			     why);
	free(c->from_domain);
	c->from_domain = xstrdup(strrchr(addr, '@') + 1);
	free(display);
	free(addr);
	return set_unsubscribe_mailto(c);
}

int config_load(struct config *c, const char *path)
{
	struct buf data = BUF_INIT;
	int ret = -1;

	free(c->path);
	c->path = xstrdup(path);
	if (!inifile_read(path, &data) &&
	    !parse_text(c, data.data, data.len) && !apply_environment(c))
		ret = finish(c);
	buf_release(&data);
	return ret;
}

int config_parse_buf(struct config *c, const char *name, const char *data,
		     size_t len)
{
	free(c->path);
	c->path = xstrdup(name);
	if (parse_text(c, data, len))
		return -1;
	return finish(c);
}

void config_release(struct config *c)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == KEY_TEXT)
			free(*(char **)((char *)c + keys[i].offset));
	free(c->path);
	free(c->from_domain);
	memset(c, 0, sizeof(*c));
}
