#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

static const struct {
	const char *prefix;
	struct transport *(*open)(const struct relay *r);
} backends[] = {
	{ "smtp://", smtp_open },
	{ "smtps://", smtp_open },
	{ "maildir:", maildir_open },
};

struct transport *transport_open(const struct relay *r)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strncmp(r->url, backends[i].prefix, strlen(backends[i].prefix)))
			return backends[i].open(r);
	error("unknown transport '%s' (smtp://, smtps:// or maildir:)",
	      relay_describe(r));
	return NULL;
}

const char *relay_describe(const struct relay *r)
{
	/* the config never holds credentials in the URL: refuse_userinfo */
	return r->url;
}

/* Reads the password file, which only its owner may read (transport.h). */
int read_password_file(const char *path, char **password)
{
	struct buf b = BUF_INIT;
	struct stat st;

	if (stat(path, &st))
		return error("cannot read password file '%s': %s", path,
			     strerror(errno));
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return error("password file '%s' is readable by others: it must "
			     "be yours and mode 600 (chmod 600 '%s')", path, path);
	if (read_file(path, &b))
		return -1;
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		buf_truncate(&b, b.len - 1);
	*password = buf_detach(&b, NULL);
	return 0;
}

static int read_password(struct relay *r, const struct config *c)
{
	const char *v;

	if (c->smtp_password_env) {
		v = getenv(c->smtp_password_env);
		if (v && *v) {
			r->password = xstrdup(v);
			return 0;
		}
		if (!c->smtp_password_file)
			return error("%s: environment variable %s (password-env) "
				     "is not set", c->path, c->smtp_password_env);
	}
	if (c->smtp_password_file)
		return read_password_file(c->smtp_password_file, &r->password);
	return error("%s: 'username' is set but neither 'password-env' nor "
		     "'password-file'", c->path);
}

/* A user name or password in the URL would end up in messages and ps. */
static int refuse_userinfo(const struct config *c)
{
	const char *p = strstr(c->smtp_url, "://");
	const char *at, *slash;

	if (!p)
		return 0;
	p += 3;
	at = strchr(p, '@');
	slash = strchr(p, '/');
	if (at && (!slash || at < slash))
		return error("%s: 'url' must not hold a user name or password: "
			     "use 'username' and 'password-env' or "
			     "'password-file'", c->path);
	return 0;
}

int relay_from_config(struct relay *r, const struct config *c)
{
	memset(r, 0, sizeof(*r));
	if (refuse_userinfo(c))
		return -1;
	r->url = xstrdup(c->smtp_url);
	r->ehlo_name = xstrdup(c->smtp_ehlo_name ? c->smtp_ehlo_name :
			       c->from_domain);
	r->ca_file = c->smtp_ca_file ? xstrdup(c->smtp_ca_file) : NULL;
	r->starttls = !strcmp(c->smtp_starttls, "never") ? 0 :
		      !strcmp(c->smtp_starttls, "try") ? 1 : 2;
	r->connections = c->smtp_connections;
	r->rate = c->smtp_rate;
	r->max_per_hour = c->smtp_max_per_hour;
	r->connect_timeout = c->smtp_connect_timeout;
	r->reply_timeout = c->smtp_reply_timeout;
	if (c->smtp_username) {
		r->username = xstrdup(c->smtp_username);
		if (read_password(r, c)) {
			relay_release(r);
			return -1;
		}
	}
	return 0;
}

void relay_release(struct relay *r)
{
	if (r->password) {
		volatile char *p = r->password;

		while (*p)
			*p++ = 0;
	}
	free(r->url);
	free(r->username);
	free(r->password);
	free(r->ehlo_name);
	free(r->ca_file);
	memset(r, 0, sizeof(*r));
}

/* "D.D{1,3}.D{1,3}" (RFC 3463 §2), for the n bytes at p. */
static int enhanced_valid(const char *p, size_t n)
{
	size_t part = 0, digits = 0;

	for (size_t i = 2; i < n; i++) {
		if (p[i] == '.') {
			if (!digits || ++part > 1)
				return 0;
			digits = 0;
		} else if (++digits > 3) {
			return 0;
		}
	}
	return part == 1 && digits > 0;
}

int smtp_reply_code(const char *line, char enhanced[16])
{
	const char *p = line + 4;
	size_t n;
	int code;

	enhanced[0] = '\0';
	if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
		return 0;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (line[3] != ' ' && line[3] != '-')
		return line[3] ? 0 : code;
	/* class "." subject "." detail, the class matching the code's */
	n = strspn(p, "0123456789.");
	if (n >= 5 && n < 16 && p[0] == line[0] && p[1] == '.' &&
	    (p[n] == ' ' || p[n] == '\0') && enhanced_valid(p, n)) {
		memcpy(enhanced, p, n);
		enhanced[n] = '\0';
	}
	return code;
}
