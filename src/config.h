#ifndef BULLETIN_CONFIG_H
#define BULLETIN_CONFIG_H

/*
 * The configuration: config/bulletin.conf (INI), then environment
 * overrides, then validation.
 *
 * The file's syntax is inifile.h's (4096-byte lines, refused rather than
 * split; UTF-8 without control characters; values to the end of the
 * line). On top of it, refused with FILE:LINE: an unknown section or
 * key, a key set twice, a value of the wrong syntax.
 *
 * Every key can be overridden from the environment as
 * BULLETIN_<SECTION>_<KEY>, upper-cased, '-' as '_' (for instance
 * BULLETIN_STORE_PATH). Relative paths are relative to the folder
 * bulletin runs in. Secrets are never stored here: the SMTP password is
 * read when needed from the file or variable the config names.
 *
 * Empty values: for a required key (all but reply-to, the [smtp]
 * username, password-file, password-env and the [dkim] keys) an empty
 * value, in the file or
 * the environment, is an error; for an optional key it means "unset"
 * (the field is NULL). After a successful config_load every field not
 * marked "optional" below is non-NULL and valid.
 *
 * Syntax each key must have (checked when read, so errors name the line
 * or variable): from and sample-to are mailboxes (address.h), reply-to a
 * bare address; list-id an RFC 2919 dot-atom with at least one dot, at
 * most 255 octets; base-url is https://HOST[:PORT][/PATH] with HOST a
 * name of LDH labels (IDN in its xn-- form) or an [IP literal] and PATH
 * made of RFC 3986 path characters except ',' (no query, fragment,
 * spaces, quotes, < or >), trailing slashes dropped; http:// is accepted
 * only for localhost, 127.0.0.1 and [::1] (tests), because subscribers'
 * mail clients offer one-click unsubscribe (RFC 8058) only over https.
 * Numbers are plain decimals within their range (no sign, exponent,
 * hex or spaces). The [dkim] domain and selectors are DNS names of
 * letters, digits, '-' and dots (the domain is lower-cased); whether
 * the [dkim] keys go together, align with from and name usable keys is
 * dkim_signer_load's check (dkim.h).
 */

#include <stddef.h>

struct config {
	/* [newsletter] */
	char *name;		/* "Best of arXiv" */
	char *from;		/* "Best of arXiv <digest@news.example.org>" */
	char *reply_to;		/* optional: a bare address */
	char *list_id;		/* "arxiv.news.example.org" (the label, no <>) */
	char *base_url;		/* https://news.example.org, no trailing '/' */
	char *postal_address;	/* printed in the footer */
	char *reason;		/* why the reader gets this mail, for the footer */
	char *sample_to;	/* preview recipient: "Ada Lovelace <ada@example.org>" */
	size_t max_message_size; /* bytes a whole message may have (10M):
				  * preview and send refuse bigger ones */
	char *unsubscribe_mailto;	/* List-Unsubscribe's mailto address;
					 * default unsubscribe@ the From domain */
	/* [smtp] */
	char *smtp_url;		/* smtp://, smtps:// or maildir:PATH */
	char *smtp_username;	/* optional */
	char *smtp_password_file;	/* optional; readable by its owner alone */
	char *smtp_password_env;	/* optional; name of a variable holding it */
	char *smtp_starttls;	/* "require" (default), "try", "never" */
	long  smtp_connections;	/* 1 to 64 */
	double smtp_rate;	/* messages per second, 0 = unlimited */
	long  smtp_max_per_hour;	/* 0 = no cap */
	char *smtp_ehlo_name;	/* our fully qualified name; NULL: From's domain */
	char *smtp_bounce_address;	/* envelope sender; NULL: the From address */
	int   smtp_verp;	/* bounces+TAG@domain per delivery */
	char *smtp_ca_file;	/* CA bundle for a private relay; NULL: system's */
	long  smtp_max_attempts;	/* then a deferred delivery has failed */
	double smtp_retry_delay;	/* seconds before the first retry, doubling */
	double smtp_connect_timeout;	/* seconds */
	double smtp_reply_timeout;	/* seconds to wait for each reply */
	/* [store] */
	char *store_path;	/* subscribers/bulletin.db */
	/* [templates] */
	char *templates_dir;	/* templates */
	char *templates_lang;	/* en: the labels are DIR/labels-LANG.ini */
	int   allow_raw_html;	/* raw HTML in Markdown passes through */
	/* [tokens] */
	char *secret_file;	/* config/secret, mode 0600 */
	/* [dkim]: all optional; dkim.h checks they go together */
	char *dkim_domain;	/* d=, lower-cased: the From domain or a parent */
	char *dkim_selector;	/* s= of the first signature */
	char *dkim_key_file;	/* its private key (PEM), mode 0600 */
	char *dkim_selector2;	/* a second signature (say ed25519) */
	char *dkim_key_file2;	/* its private key */
	long  grace_days;	/* a rotated-out secret is accepted this long */
	/* [inbox] */
	int   inbox_trust_unverified;	/* act on bounces no VERP tag or Message-ID ties to us */
	long  inbox_soft_threshold;	/* soft-bounce score that makes a bounce hard */
	long  inbox_soft_stale_days;	/* a score with no new point for longer is forgotten */
	long  inbox_soft_interval_days;	/* at most one point per this many days */
	char *inbox_imap_password_file;	/* readable by its owner alone */
	char *inbox_imap_password_env;	/* name of a variable holding it */
	char *inbox_imap_done_folder;	/* where handled IMAP messages go */
	char *inbox_imap_ca_file;	/* CAs for the IMAP server; NULL: system's */

	char *path;		/* the file this was read from */
	char *from_domain;	/* the domain of from's address, lower-cased */
};

/* Fills c with the built-in defaults (no file read). */
void config_defaults(struct config *c);
/*
 * Reads path over the defaults, applies the environment, validates.
 * Returns 0, or error() -1 naming path:line, the environment variable
 * or the missing key. c must be released either way.
 */
int config_load(struct config *c, const char *path);
/*
 * The same without a file and without the environment: parses len bytes
 * of INI text (NUL bytes are refused, not terminators) over c, which
 * config_defaults filled, and validates; name stands for the file in
 * messages. Returns 0 or error() -1; c must be released either way.
 * A fuzzing entry point as much as a test helper.
 */
int config_parse_buf(struct config *c, const char *name, const char *data,
		     size_t len);
/* True if s is a DNS name as the [dkim] domain and selectors must be:
 * labels of letters, digits and '-', 1-63 octets each, 253 in all. */
int config_is_dns_name(const char *s);

/* Frees the contents; c can be filled again with config_defaults. */
void config_release(struct config *c);

#endif
