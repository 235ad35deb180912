#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "util.h"

enum key_type { KEY_STRING, KEY_LONG, KEY_DOUBLE, KEY_BOOL };

struct key {
	const char   *section;
	const char   *name;
	enum key_type type;
	size_t        offset;
	const char   *fallback;	/* default value, as written in the file */
};

#define K(sec, name, type, field, def) \
	{ sec, name, type, offsetof(struct config, field), def }

/* One table: the defaults, the parser and the environment all read it. */
static const struct key keys[] = {
	K("newsletter", "name", KEY_STRING, name, NULL),
	K("newsletter", "from", KEY_STRING, from, NULL),
	K("newsletter", "reply-to", KEY_STRING, reply_to, NULL),
	K("newsletter", "list-id", KEY_STRING, list_id, NULL),
	K("newsletter", "base-url", KEY_STRING, base_url, NULL),
	K("newsletter", "postal-address", KEY_STRING, postal_address, NULL),
	K("newsletter", "reason", KEY_STRING, reason,
	  "You receive this because you subscribed to this newsletter."),
	K("newsletter", "sample-to", KEY_STRING, sample_to,
	  "Sample Reader <reader@example.org>"),
	K("newsletter", "unsubscribe-mailto", KEY_STRING, unsubscribe_mailto, NULL),
	K("smtp", "url", KEY_STRING, smtp_url, "maildir:outbox"),
	K("smtp", "username", KEY_STRING, smtp_username, NULL),
	K("smtp", "password-file", KEY_STRING, smtp_password_file, NULL),
	K("smtp", "password-env", KEY_STRING, smtp_password_env, NULL),
	K("smtp", "starttls", KEY_STRING, smtp_starttls, "require"),
	K("smtp", "connections", KEY_LONG, smtp_connections, "4"),
	K("smtp", "rate", KEY_DOUBLE, smtp_rate, "0"),
	K("smtp", "max-per-hour", KEY_LONG, smtp_max_per_hour, "0"),
	K("smtp", "ehlo-name", KEY_STRING, smtp_ehlo_name, NULL),
	K("smtp", "bounce-address", KEY_STRING, smtp_bounce_address, NULL),
	K("smtp", "verp", KEY_BOOL, smtp_verp, "false"),
	K("smtp", "ca-file", KEY_STRING, smtp_ca_file, NULL),
	K("smtp", "max-attempts", KEY_LONG, smtp_max_attempts, "5"),
	K("smtp", "retry-delay", KEY_DOUBLE, smtp_retry_delay, "60"),
	K("smtp", "connect-timeout", KEY_DOUBLE, smtp_connect_timeout, "30"),
	K("smtp", "reply-timeout", KEY_DOUBLE, smtp_reply_timeout, "300"),
	K("store", "path", KEY_STRING, store_path, "subscribers/bulletin.db"),
	K("templates", "dir", KEY_STRING, templates_dir, "templates"),
	K("templates", "allow-raw-html", KEY_BOOL, allow_raw_html, "false"),
	K("tokens", "secret-file", KEY_STRING, secret_file, "config/secret"),
	K("tokens", "grace-days", KEY_LONG, grace_days, "90"),
	K("inbox", "trust-unverified", KEY_BOOL, inbox_trust_unverified, "false"),
	K("inbox", "soft-bounce-threshold", KEY_LONG, inbox_soft_threshold, "5"),
	K("inbox", "soft-bounce-stale-days", KEY_LONG, inbox_soft_stale_days, "7"),
	K("inbox", "soft-bounce-interval-days", KEY_LONG, inbox_soft_interval_days, "1"),
	K("inbox", "imap-password-file", KEY_STRING, inbox_imap_password_file, NULL),
	K("inbox", "imap-password-env", KEY_STRING, inbox_imap_password_env, NULL),
	K("inbox", "imap-done-folder", KEY_STRING, inbox_imap_done_folder, "bulletin-handled"),
	K("inbox", "imap-ca-file", KEY_STRING, inbox_imap_ca_file, NULL),
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

/* Stores value in the field k names; returns NULL or a reason it is bad. */
static const char *set_key(struct config *c, const struct key *k,
			   const char *value)
{
	char *field = (char *)c + k->offset;
	char *end;

	if (has_crlf(value, strlen(value)))
		return "line breaks are not allowed";
	switch (k->type) {
	case KEY_STRING:
		free(*(char **)field);
		*(char **)field = *value ? xstrdup(value) : NULL;
		return NULL;
	case KEY_LONG:
		errno = 0;
		*(long *)field = strtol(value, &end, 10);
		if (errno || end == value || *end || *(long *)field < 0)
			return "expected a whole number";
		return NULL;
	case KEY_DOUBLE:
		errno = 0;
		*(double *)field = strtod(value, &end);
		if (errno || end == value || *end || *(double *)field < 0)
			return "expected a number";
		return NULL;
	case KEY_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "yes") ||
		    !strcmp(value, "1"))
			*(int *)field = 1;
		else if (!strcmp(value, "false") || !strcmp(value, "no") ||
			 !strcmp(value, "0"))
			*(int *)field = 0;
		else
			return "expected true or false";
		return NULL;
	}
	return "unknown key type";
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].fallback)
			set_key(c, &keys[i], keys[i].fallback);
}

struct parse_state {
	struct config *c;
	FILE          *f;
	int            line;	/* the line the reader returned last */
	int            failed;
};

/* inih's handler does not know the line; counting in the reader does. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_state *ps = stream;
	char *s = fgets(str, num, ps->f);

	if (s && strchr(s, '\n'))
		ps->line++;
	else if (s && feof(ps->f))
		ps->line++;
	return s;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parse_state *ps = user;
	const struct key *k = find_key(section, name);
	const char *why;

	if (!k) {
		error("%s:%d: unknown key '%s' in section [%s]", ps->c->path,
		      ps->line, name, section);
		ps->failed = 1;
		return 1;
	}
	why = set_key(ps->c, k, value);
	if (why) {
		error("%s:%d: bad value for '%s': %s", ps->c->path, ps->line,
		      name, why);
		ps->failed = 1;
	}
	return 1;
}

static int apply_environment(struct config *c)
{
	for (size_t i = 0; i < NKEYS; i++) {
		struct buf var = BUF_INIT;
		const char *value, *why;

		buf_addf(&var, "BULLETIN_%s_%s", keys[i].section, keys[i].name);
		for (char *p = var.data; *p; p++)
			*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		value = getenv(var.data);
		why = value ? set_key(c, &keys[i], value) : NULL;
		if (why)
			error("environment variable %s: %s", var.data, why);
		buf_release(&var);
		if (why)
			return -1;
	}
	return 0;
}

static int require(const struct config *c, const char *value,
		   const char *section, const char *name)
{
	if (value)
		return 0;
	return error("%s: missing '%s' in section [%s]", c->path, name, section);
}

/* Checks the From mailbox and keeps its (normalised) domain. */
static int set_from_domain(struct config *c)
{
	char *display = NULL, *addr = NULL;
	const char *why;

	if (address_parse_mailbox(c->from, &display, &addr, &why))
		return error("%s: bad 'from' address '%s': %s", c->path, c->from,
			     why);
	free(c->from_domain);
	c->from_domain = xstrdup(strrchr(addr, '@') + 1);
	free(display);
	free(addr);
	return 0;
}

/* The mailto address of List-Unsubscribe: a bare address, by default
 * unsubscribe@ the From domain. */
static int set_unsubscribe_mailto(struct config *c)
{
	char *display = NULL, *addr = NULL;
	const char *why;
	int ret = 0;

	if (!c->unsubscribe_mailto) {
		c->unsubscribe_mailto = xmalloc(strlen(c->from_domain) + 13);
		sprintf(c->unsubscribe_mailto, "unsubscribe@%s", c->from_domain);
		return 0;
	}
	if (address_parse_mailbox(c->unsubscribe_mailto, &display, &addr, &why))
		ret = error("%s: bad 'unsubscribe-mailto' address '%s': %s",
			    c->path, c->unsubscribe_mailto, why);
	else if (display)
		ret = error("%s: 'unsubscribe-mailto' must be a bare address, "
			    "not '%s'", c->path, c->unsubscribe_mailto);
	if (!ret) {
		free(c->unsubscribe_mailto);
		c->unsubscribe_mailto = addr;	/* normalised */
		addr = NULL;
	}
	free(display);
	free(addr);
	return ret;
}

static int validate(struct config *c)
{
	int bad = 0;

	bad |= require(c, c->name, "newsletter", "name");
	bad |= require(c, c->from, "newsletter", "from");
	bad |= require(c, c->list_id, "newsletter", "list-id");
	bad |= require(c, c->base_url, "newsletter", "base-url");
	bad |= require(c, c->postal_address, "newsletter", "postal-address");
	if (bad)
		return -1;
	if (set_from_domain(c) || set_unsubscribe_mailto(c))
		return -1;
	if (strncmp(c->base_url, "https://", 8) &&
	    strncmp(c->base_url, "http://", 7))
		return error("%s: 'base-url' must start with https:// or http://",
			     c->path);
	if (strcmp(c->smtp_starttls, "require") &&
	    strcmp(c->smtp_starttls, "try") && strcmp(c->smtp_starttls, "never"))
		return error("%s: 'starttls' must be require, try or never",
			     c->path);
	if (c->smtp_connections < 1 || c->smtp_connections > 64)
		return error("%s: 'connections' must be 1 to 64", c->path);
	if (c->smtp_max_attempts < 1)
		return error("%s: 'max-attempts' must be at least 1", c->path);
	return 0;
}

int config_load(struct config *c, const char *path)
{
	struct parse_state ps = { c, NULL, 0, 0 };
	int rc;

	c->path = xstrdup(path);
	ps.f = fopen(path, "r");
	if (!ps.f)
		return error("cannot open '%s': %s", path, strerror(errno));
	rc = ini_parse_stream(read_line, &ps, on_key, &ps);
	fclose(ps.f);
	if (rc > 0 && !ps.failed)
		return error("%s:%d: not a valid line (expected [section] or key = value)",
			     path, rc);
	if (rc || ps.failed)
		return -1;
	if (apply_environment(c))
		return -1;
	return validate(c);
}

void config_release(struct config *c)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == KEY_STRING)
			free(*(char **)((char *)c + keys[i].offset));
	free(c->path);
	free(c->from_domain);
	memset(c, 0, sizeof(*c));
}
