/*
 * The configuration: which files are refused and with what message,
 * long lines and values, every key's syntax, environment overrides.
 * Each bad input must give exactly one message, naming FILE:LINE or the
 * variable, and -1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "capture.h"
#include "config.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The keys without a default: a valid config needs no more. */
#define MINIMAL \
	"[newsletter]\n" \
	"name = News\n" \
	"from = News <news@example.org>\n" \
	"list-id = news.example.org\n" \
	"base-url = https://news.example.org\n" \
	"postal-address = 1 Sample Street\n"

/* ---- helpers ------------------------------------------------------------ */

/* Parses len bytes of text as t.conf; returns config_parse_buf's result
 * and what it printed in *msg (caller frees). */
static int parse(struct config *c, const char *text, size_t len, char **msg)
{
	int saved, ret;
	FILE *tmp = capture_start(&saved);

	config_defaults(c);
	ret = config_parse_buf(c, "t.conf", text, len);
	*msg = capture_end(tmp, saved);
	return ret;
}

static void assert_refused(const char *text, size_t len, const char *want)
{
	struct config c;
	char *msg;
	struct buf expected = BUF_INIT;

	buf_addf(&expected, "bulletin: error: %s\n", want);
	if (parse(&c, text, len, &msg) != -1)
		fail_msg("accepted: %s", text);
	if (strcmp(msg, expected.data))
		fail_msg("for '%.80s'\nexpected: %sgot:      %s", text,
			 expected.data, msg);
	free(msg);
	buf_release(&expected);
	config_release(&c);
}

/* Parses MINIMAL followed by extra, which must be accepted. */
static void parse_ok(struct config *c, const char *extra)
{
	struct buf text = BUF_INIT;
	char *msg;

	buf_adds(&text, MINIMAL);
	buf_adds(&text, extra);
	if (parse(c, text.data, text.len, &msg))
		fail_msg("refused '%s': %s", extra, msg);
	assert_string_equal(msg, "");
	free(msg);
	buf_release(&text);
}

/* Writes text to a new temporary file; returns its path (caller frees). */
static char *temp_config(const char *text)
{
	char *path = strdup("/tmp/test_config_XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* config_load with the environment; returns its result, *msg the output. */
static int load(struct config *c, const char *path, char **msg)
{
	int saved, ret;
	FILE *tmp = capture_start(&saved);

	config_defaults(c);
	ret = config_load(c, path);
	*msg = capture_end(tmp, saved);
	return ret;
}

/* ---- the table of bad configurations ----------------------------------- */

struct bad {
	const char *text;
	const char *message;	/* exactly what is printed, after "error: " */
};

#define NL "[newsletter]\n"
#define BADV(key, sec) "t.conf:2: bad value for '" key "' in [" sec "]: "

static const struct bad bad_configs[] = {
	/* syntax of the file */
	{ "[newsletter\n", "t.conf:1: expected [section] or key = value" },
	{ "[nope]\n", "t.conf:1: unknown section [nope]" },
	{ "name = News\n", "t.conf:1: key 'name' comes before any [section]" },
	{ NL "just words\n", "t.conf:2: expected [section] or key = value" },
	{ NL "colour = red\n",
	  "t.conf:2: unknown key 'colour' in section [newsletter]" },
	{ NL "starttls = require\n",
	  "t.conf:2: unknown key 'starttls' in section [newsletter]" },
	{ NL "name = A\r\n; note\nname = B\n",
	  "t.conf:4: duplicate key 'name' in section [newsletter] "
	  "(first set on line 2)" },
	{ NL "name = a\x01" "b\n", "t.conf:2: bad line: control characters are not allowed" },
	{ NL "name = a\x7f\n", "t.conf:2: bad line: control characters are not allowed" },
	{ NL "name = a\xc2\x85\n", "t.conf:2: bad line: control characters are not allowed" },
	{ NL "; \x1b[31m\n", "t.conf:2: bad line: control characters are not allowed" },
	{ NL "name = a\rb\n", "t.conf:2: bad line: line breaks are not allowed" },
	{ NL "name = \xff\n", "t.conf:2: bad line: not valid UTF-8" },
	{ NL "name = \xe4\xb8\n", "t.conf:2: bad line: not valid UTF-8" },
	{ NL "name = \xed\xa0\x80\n", "t.conf:2: bad line: not valid UTF-8" },
	/* empty values of required keys; each used to crash */
	{ "[smtp]\nstarttls =\n", BADV("starttls", "smtp") "must not be empty" },
	{ "[store]\npath =\n", BADV("path", "store") "must not be empty" },
	{ "[templates]\ndir =  \t\n", BADV("dir", "templates") "must not be empty" },
	{ NL "sample-to =\n", BADV("sample-to", "newsletter") "must not be empty" },
	{ NL "name =\n", BADV("name", "newsletter") "must not be empty" },
	{ NL "reason =\n", BADV("reason", "newsletter") "must not be empty" },
	{ "[smtp]\nurl =\n", BADV("url", "smtp") "must not be empty" },
	{ "[smtp]\nconnections =\n", BADV("connections", "smtp") "must not be empty" },
	{ "[tokens]\nsecret-file =\n", BADV("secret-file", "tokens") "must not be empty" },
	{ "[templates]\nallow-raw-html =\n",
	  BADV("allow-raw-html", "templates") "must not be empty" },
	/* addresses */
	{ NL "sample-to = nobody\n", BADV("sample-to", "newsletter") "missing '@'" },
	{ NL "from = not an address\n",
	  BADV("from", "newsletter") "unquoted space in address" },
	{ NL "reply-to = ed@@example.org\n",
	  BADV("reply-to", "newsletter") "more than one '@'" },
	/* list-id: an RFC 2919 dot-atom */
#define LIST_ID_WHY BADV("list-id", "newsletter") \
	"expected a dot-atom such as news.example.org (RFC 2919), at most 255 octets"
	{ NL "list-id = news example.org\n", LIST_ID_WHY },
	{ NL "list-id = <news.example.org>\n", LIST_ID_WHY },
	{ NL "list-id = news.example.org>, <x.org\n", LIST_ID_WHY },
	{ NL "list-id = localonly\n", LIST_ID_WHY },
	{ NL "list-id = .news.example.org\n", LIST_ID_WHY },
	{ NL "list-id = news..example.org\n", LIST_ID_WHY },
	{ NL "list-id = news.example.org.\n", LIST_ID_WHY },
	{ NL "list-id = news\"q\".example.org\n", LIST_ID_WHY },
	{ NL "list-id = nouvelles.exemple.été\n", LIST_ID_WHY },
	/* base-url */
#define URL_WHY(why) BADV("base-url", "newsletter") why
	{ NL "base-url = ftp://news.example.org\n", URL_WHY("must start with https://") },
	{ NL "base-url = news.example.org\n", URL_WHY("must start with https://") },
	{ NL "base-url = HTTPS://news.example.org\n", URL_WHY("must start with https://") },
	{ NL "base-url = https://\n", URL_WHY("missing host") },
	{ NL "base-url = https:///u\n", URL_WHY("missing host") },
	{ NL "base-url = http://news.example.org\n",
	  URL_WHY("http:// is only for localhost, 127.0.0.1 or [::1]: use https://") },
	{ NL "base-url = http://localhost.evil.org\n",
	  URL_WHY("http:// is only for localhost, 127.0.0.1 or [::1]: use https://") },
	{ NL "base-url = https://news.example.org/u>x\n",
	  URL_WHY("only RFC 3986 path characters allowed (no spaces, quotes, <, > or ,)") },
	{ NL "base-url = https://news.example.org/a, <https://evil.org\n",
	  URL_WHY("only RFC 3986 path characters allowed (no spaces, quotes, <, > or ,)") },
	{ NL "base-url = https://news.example.org/a b\n",
	  URL_WHY("only RFC 3986 path characters allowed (no spaces, quotes, <, > or ,)") },
	{ NL "base-url = https://news.example.org/\"x\n",
	  URL_WHY("only RFC 3986 path characters allowed (no spaces, quotes, <, > or ,)") },
	{ NL "base-url = https://news.example.org/%zz\n", URL_WHY("bad %-escape in the path") },
	{ NL "base-url = https://news.example.org/%4\n", URL_WHY("bad %-escape in the path") },
	{ NL "base-url = https://news.example.org/?a=1\n",
	  URL_WHY("no query (?) or fragment (#) allowed") },
	{ NL "base-url = https://news.example.org#top\n",
	  URL_WHY("no query (?) or fragment (#) allowed") },
#define HOST_WHY URL_WHY("bad host: expected letters, digits, '-' and dots " \
			 "(an international name in its xn-- form)")
	{ NL "base-url = https://news.example.org>\n", HOST_WHY },
	{ NL "base-url = https://user@news.example.org\n", HOST_WHY },
	{ NL "base-url = https://-news.example.org\n", HOST_WHY },
	{ NL "base-url = https://news-.example.org\n", HOST_WHY },
	{ NL "base-url = https://news..example.org\n", HOST_WHY },
	{ NL "base-url = https://news.example.org.\n", HOST_WHY },
	{ NL "base-url = https://nouvelles.exemple.fr\xc3\xa9\n", HOST_WHY },
	{ NL "base-url = https://[::1\n", URL_WHY("bad IP literal host") },
	{ NL "base-url = https://[]/\n", URL_WHY("bad IP literal host") },
	{ NL "base-url = https://[::1]x/\n", URL_WHY("bad IP literal host") },
	{ NL "base-url = https://[fe80::1%eth0]/\n", URL_WHY("bad IP literal host") },
#define PORT_WHY URL_WHY("bad port: expected a number from 1 to 65535")
	{ NL "base-url = https://news.example.org:\n", PORT_WHY },
	{ NL "base-url = https://news.example.org:0\n", PORT_WHY },
	{ NL "base-url = https://news.example.org:65536\n", PORT_WHY },
	{ NL "base-url = https://news.example.org:443:443\n", PORT_WHY },
	{ NL "base-url = https://news.example.org:-1\n", PORT_WHY },
	/* numbers, strictly */
#define CONN_WHY BADV("connections", "smtp") "expected a whole number from 1 to 64"
	{ "[smtp]\nconnections = 0\n", CONN_WHY },
	{ "[smtp]\nconnections = 65\n", CONN_WHY },
	{ "[smtp]\nconnections = -1\n", CONN_WHY },
	{ "[smtp]\nconnections = +4\n", CONN_WHY },
	{ "[smtp]\nconnections = 4.0\n", CONN_WHY },
	{ "[smtp]\nconnections = 0x10\n", CONN_WHY },
	{ "[smtp]\nconnections = 1e1\n", CONN_WHY },
	{ "[smtp]\nconnections = 4 connections\n", CONN_WHY },
	{ "[smtp]\nconnections = 99999999999999999999999\n", CONN_WHY },
#define RATE_WHY BADV("rate", "smtp") "expected a number from 0 to 1000000"
	{ "[smtp]\nrate = -1\n", RATE_WHY },
	{ "[smtp]\nrate = nan\n", RATE_WHY },
	{ "[smtp]\nrate = inf\n", RATE_WHY },
	{ "[smtp]\nrate = 1e3\n", RATE_WHY },
	{ "[smtp]\nrate = 1.\n", RATE_WHY },
	{ "[smtp]\nrate = .5\n", RATE_WHY },
	{ "[smtp]\nrate = 1000001\n", RATE_WHY },
#define SIZE_WHY BADV("max-message-size", "newsletter") \
	"expected a size in bytes (K or M suffix allowed) from 1024 to 1073741824"
	{ NL "max-message-size = 0\n", SIZE_WHY },
	{ NL "max-message-size = 1023\n", SIZE_WHY },
	{ NL "max-message-size = 1025M\n", SIZE_WHY },
	{ NL "max-message-size = 10G\n", SIZE_WHY },
	{ NL "max-message-size = 10MB\n", SIZE_WHY },
	{ NL "max-message-size = 10 M\n", SIZE_WHY },
	{ NL "max-message-size = M\n", SIZE_WHY },
	{ NL "max-message-size = 1.5M\n", SIZE_WHY },
	{ NL "max-message-size = 99999999999999999999K\n", SIZE_WHY },
	{ "[templates]\nallow-raw-html = maybe\n",
	  BADV("allow-raw-html", "templates") "expected true or false" },
	/* the other [smtp] keys */
#define SMTP_URL_WHY BADV("url", "smtp") \
	"expected smtp://HOST[:PORT], smtps://HOST[:PORT] or maildir:PATH"
	{ "[smtp]\nurl = http://relay.example.org\n", SMTP_URL_WHY },
	{ "[smtp]\nurl = maildir:\n", SMTP_URL_WHY },
	{ "[smtp]\nurl = smtp://\n", SMTP_URL_WHY },
	{ "[smtp]\nurl = smtp://relay example.org\n", SMTP_URL_WHY },
	{ "[smtp]\nstarttls = maybe\n", BADV("starttls", "smtp") "expected require, try or never" },
	{ "[smtp]\npassword-env = 1PASS\n",
	  BADV("password-env", "smtp") "expected a variable name (letters, digits and _)" },
	{ "[smtp]\npassword-env = SMTP-PASS\n",
	  BADV("password-env", "smtp") "expected a variable name (letters, digits and _)" },
};

static void test_bad_configs(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(bad_configs); i++)
		assert_refused(bad_configs[i].text, strlen(bad_configs[i].text),
			       bad_configs[i].message);
}

/* A NUL byte is refused where it is, not taken as the end of the file. */
static void test_nul_byte(void **state)
{
	static const char text[] = NL "name = News\0\nfrom = x\n";

	(void)state;
	assert_refused(text, sizeof(text) - 1,
		       "t.conf:2: bad line: NUL bytes are not allowed");
}

static void test_missing_keys_all_named(void **state)
{
	static const char text[] = NL "name = News\n";

	(void)state;
	assert_refused(text, strlen(text),
		       "t.conf: missing 'from' in section [newsletter]\n"
		       "bulletin: error: t.conf: missing 'list-id' in section [newsletter]\n"
		       "bulletin: error: t.conf: missing 'base-url' in section [newsletter]\n"
		       "bulletin: error: t.conf: missing 'postal-address' in section [newsletter]");
}

/* ---- what is accepted --------------------------------------------------- */

static void test_minimal_and_defaults(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "");
	assert_string_equal(c.name, "News");
	assert_string_equal(c.from_domain, "example.org");
	assert_null(c.reply_to);
	assert_null(c.smtp_username);
	assert_string_equal(c.smtp_starttls, "require");
	assert_string_equal(c.sample_to, "Sample Reader <reader@example.org>");
	assert_int_equal(c.max_message_size, 10 * 1024 * 1024);
	assert_int_equal(c.smtp_connections, 4);
	assert_int_equal(c.allow_raw_html, 0);
	config_release(&c);
}

/* CRLF, a BOM, comments, blank lines, spaces and tabs around everything. */
static void test_layout(void **state)
{
	static const char text[] =
		"\xef\xbb\xbf; a comment\r\n"
		"# another\r\n"
		"\r\n"
		"  [ newsletter ]  \r\n"
		"\tname\t=\t Best of arXiv \t\r\n"
		"from=News <news@example.org>\r\n"
		"list-id = news.example.org\r\n"
		"base-url = https://news.example.org\r\n"
		"postal-address = 1 Street; Brussels # not a comment\r\n"
		"reason = a = b\r\n"
		"[smtp]\r\n"
		"rate = 2.5\r\n"
		"[newsletter]\r\n"
		"reply-to =\r\n"
		"[templates]\n"
		"allow-raw-html = yes";	/* no final line break */
	struct config c;
	char *msg;

	(void)state;
	assert_int_equal(parse(&c, text, strlen(text), &msg), 0);
	assert_string_equal(msg, "");
	assert_string_equal(c.name, "Best of arXiv");
	assert_string_equal(c.postal_address, "1 Street; Brussels # not a comment");
	assert_string_equal(c.reason, "a = b");
	assert_null(c.reply_to);
	assert_true(c.smtp_rate == 2.5);
	assert_int_equal(c.allow_raw_html, 1);
	free(msg);
	config_release(&c);
}

static void test_values_accepted(void **state)
{
	static const struct { const char *line, *base_url; } urls[] = {
		{ "base-url = https://news.example.org/\n", "https://news.example.org" },
		{ "base-url = https://news.example.org/b/u//\n", "https://news.example.org/b/u" },
		{ "base-url = https://xn--nouvelles-6ta.example:8443/%7Ea\n",
		  "https://xn--nouvelles-6ta.example:8443/%7Ea" },
		{ "base-url = http://127.0.0.1:8080/\n", "http://127.0.0.1:8080" },
		{ "base-url = http://localhost\n", "http://localhost" },
		{ "base-url = http://[::1]:9000\n", "http://[::1]:9000" },
		{ "base-url = https://[2001:db8::1]/news;v=1\n", "https://[2001:db8::1]/news;v=1" },
	};
	struct config c;

	(void)state;
	for (size_t i = 0; i < NELEM(urls); i++) {
		struct buf text = BUF_INIT;
		char *msg;

		buf_adds(&text, "[newsletter]\nname = N\nfrom = n@example.org\n"
			 "list-id = a.b\npostal-address = P\n");
		buf_adds(&text, urls[i].line);
		if (parse(&c, text.data, text.len, &msg))
			fail_msg("refused %s: %s", urls[i].line, msg);
		assert_string_equal(c.base_url, urls[i].base_url);
		free(msg);
		buf_release(&text);
		config_release(&c);
	}
	parse_ok(&c, "max-message-size = 512k\n[smtp]\nconnections = 64\n"
		 "url = smtps://relay.example.org:465\npassword-env = SMTP_PASS_2\n");
	assert_int_equal(c.max_message_size, 512 * 1024);
	assert_int_equal(c.smtp_connections, 64);
	config_release(&c);
	parse_ok(&c, "max-message-size = 1024\n");
	assert_int_equal(c.max_message_size, 1024);
	config_release(&c);
}

/* ---- long lines --------------------------------------------------------- */

/* Values of 1,000 bytes and more, ASCII and Chinese, come back whole. */
static void test_long_values(void **state)
{
	struct buf address = BUF_INIT, reason = BUF_INIT, extra = BUF_INIT;
	struct config c;

	(void)state;
	for (int i = 0; i < 150; i++)
		buf_adds(&address, "Sample St ");	/* 1,500 bytes */
	buf_adds(&address, "Reply-To: phisher@example.net");
	for (int i = 0; i < 400; i++)
		buf_adds(&reason, "订");		/* 1,200 bytes */
	buf_addf(&extra, "reason = %s\n[smtp]\nusername = %s\n", reason.data,
		 address.data);
	parse_ok(&c, extra.data);
	assert_string_equal(c.reason, reason.data);
	assert_string_equal(c.smtp_username, address.data);
	config_release(&c);
	buf_release(&address);
	buf_release(&reason);
	buf_release(&extra);
}

/* A line of exactly 4096 bytes is read whole; one byte more is refused
 * with its line, never split into a second key. */
static void test_line_limit(void **state)
{
	struct buf line = BUF_INIT, text = BUF_INIT;
	struct config c;

	(void)state;
	buf_adds(&line, "username = ");
	buf_addchars(&line, 'x', 4096 - line.len);
	assert_int_equal(line.len, 4096);
	buf_addf(&text, "[smtp]\n%s\n", line.data);
	parse_ok(&c, text.data);
	assert_int_equal(strlen(c.smtp_username), 4096 - strlen("username = "));
	config_release(&c);

	buf_reset(&text);
	buf_addf(&text, "[smtp]\n%sx\r\n", line.data);
	assert_refused(text.data, text.len, "t.conf:2: bad line: longer than 4096 bytes");

	buf_reset(&text);
	buf_adds(&text, "[newsletter]\npostal-address = ");
	buf_addchars(&text, 'a', 5000);
	buf_adds(&text, "Reply-To: phisher@example.net\n");
	assert_refused(text.data, text.len, "t.conf:2: bad line: longer than 4096 bytes");
	buf_release(&line);
	buf_release(&text);
}

/* ---- files and the environment ------------------------------------------ */

static void test_file_too_big(void **state)
{
	struct config c;
	char *msg;

	(void)state;
	assert_int_equal(load(&c, "/dev/zero", &msg), -1);
	assert_string_equal(msg, "bulletin: error: /dev/zero: larger than 1048576 "
			    "bytes: not an INI file\n");
	free(msg);
	config_release(&c);
}

struct env_case {
	const char *var, *value;
	const char *message;	/* NULL when accepted */
};

static const struct env_case env_cases[] = {
	{ "BULLETIN_STORE_PATH", "",
	  "environment variable BULLETIN_STORE_PATH: bad value for 'path' in "
	  "[store]: must not be empty" },
	{ "BULLETIN_TEMPLATES_DIR", "",
	  "environment variable BULLETIN_TEMPLATES_DIR: bad value for 'dir' in "
	  "[templates]: must not be empty" },
	{ "BULLETIN_SMTP_STARTTLS", "",
	  "environment variable BULLETIN_SMTP_STARTTLS: bad value for 'starttls' "
	  "in [smtp]: must not be empty" },
	{ "BULLETIN_NEWSLETTER_NAME", "News\r\nBcc: x@example.org",
	  "environment variable BULLETIN_NEWSLETTER_NAME: bad value for 'name' in "
	  "[newsletter]: line breaks are not allowed" },
	{ "BULLETIN_NEWSLETTER_LIST_ID", "a>b.org",
	  "environment variable BULLETIN_NEWSLETTER_LIST_ID: bad value for 'list-id' "
	  "in [newsletter]: expected a dot-atom such as news.example.org (RFC 2919), "
	  "at most 255 octets" },
	{ "BULLETIN_SMTP_CONNECTIONS", " 4",
	  "environment variable BULLETIN_SMTP_CONNECTIONS: bad value for "
	  "'connections' in [smtp]: expected a whole number from 1 to 64" },
	{ "BULLETIN_NEWSLETTER_REASON", "\xc3",
	  "environment variable BULLETIN_NEWSLETTER_REASON: bad value for 'reason' "
	  "in [newsletter]: not valid UTF-8" },
};

static void test_environment_refused(void **state)
{
	char *path = temp_config(MINIMAL);

	(void)state;
	for (size_t i = 0; i < NELEM(env_cases); i++) {
		struct buf want = BUF_INIT;
		struct config c;
		char *msg;

		setenv(env_cases[i].var, env_cases[i].value, 1);
		buf_addf(&want, "bulletin: error: %s\n", env_cases[i].message);
		assert_int_equal(load(&c, path, &msg), -1);
		assert_string_equal(msg, want.data);
		unsetenv(env_cases[i].var);
		free(msg);
		buf_release(&want);
		config_release(&c);
	}
	unlink(path);
	free(path);
}

/* Overrides win over the file; an empty optional one unsets the key. */
static void test_environment_overrides(void **state)
{
	char *path = temp_config(MINIMAL "reply-to = ed@example.org\n"
				 "[smtp]\nconnections = 2\n");
	struct buf long_reason = BUF_INIT;
	struct config c;
	char *msg;

	(void)state;
	for (int i = 0; i < 500; i++)
		buf_adds(&long_reason, "é");
	setenv("BULLETIN_NEWSLETTER_REPLY_TO", "", 1);
	setenv("BULLETIN_SMTP_CONNECTIONS", "8", 1);
	setenv("BULLETIN_NEWSLETTER_MAX_MESSAGE_SIZE", "2M", 1);
	setenv("BULLETIN_NEWSLETTER_REASON", long_reason.data, 1);
	assert_int_equal(load(&c, path, &msg), 0);
	assert_string_equal(msg, "");
	assert_null(c.reply_to);
	assert_int_equal(c.smtp_connections, 8);
	assert_int_equal(c.max_message_size, 2 * 1024 * 1024);
	assert_string_equal(c.reason, long_reason.data);
	unsetenv("BULLETIN_NEWSLETTER_REPLY_TO");
	unsetenv("BULLETIN_SMTP_CONNECTIONS");
	unsetenv("BULLETIN_NEWSLETTER_MAX_MESSAGE_SIZE");
	unsetenv("BULLETIN_NEWSLETTER_REASON");
	free(msg);
	config_release(&c);
	buf_release(&long_reason);
	unlink(path);
	free(path);
}

/* An empty buffer (as a fuzzer may pass, even as NULL) misses every key. */
static void test_empty_buffer(void **state)
{
	struct config c;
	char *msg;

	(void)state;
	assert_int_equal(parse(&c, NULL, 0, &msg), -1);
	assert_non_null(strstr(msg, "t.conf: missing 'name' in section [newsletter]"));
	free(msg);
	config_release(&c);
}

extern char **environ;

/* The caller's BULLETIN_* variables must not change what is tested. */
static void clean_environment(void)
{
	for (size_t i = 0; environ[i];) {
		const char *eq = strchr(environ[i], '=');

		if (!strncmp(environ[i], "BULLETIN_", 9) && eq) {
			char *name = strndup(environ[i], (size_t)(eq - environ[i]));

			unsetenv(name);
			free(name);
		} else {
			i++;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_missing_keys_all_named),
		cmocka_unit_test(test_minimal_and_defaults),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_values_accepted),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_file_too_big),
		cmocka_unit_test(test_environment_refused),
		cmocka_unit_test(test_environment_overrides),
		cmocka_unit_test(test_empty_buffer),
	};

	clean_environment();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
