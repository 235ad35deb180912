#ifndef BULLETIN_CONFIG_H
#define BULLETIN_CONFIG_H

/*
 * The configuration: config/bulletin.conf (INI), then environment
 * overrides, then validation.
 *
 * Every key can be overridden from the environment as
 * BULLETIN_<SECTION>_<KEY>, upper-cased, '-' as '_' (for instance
 * BULLETIN_STORE_PATH). Relative paths are relative to the folder
 * bulletin runs in. Secrets are never stored here: the SMTP password is
 * read when needed from the file or variable the config names.
 */

struct config {
	/* [newsletter] */
	char *name;		/* "Best of arXiv" */
	char *from;		/* "Best of arXiv <digest@news.example.org>" */
	char *reply_to;		/* optional */
	char *list_id;		/* "arxiv.news.example.org" (the label, no <>) */
	char *base_url;		/* https://news.example.org, where `serve` is reached */
	char *postal_address;	/* printed in the footer */
	char *reason;		/* why the reader gets this mail, for the footer */
	char *sample_to;	/* preview recipient: "Ada Lovelace <ada@example.org>" */
	char *unsubscribe_mailto;	/* List-Unsubscribe's mailto address;
					 * default unsubscribe@ the From domain */
	/* [smtp] */
	char *smtp_url;		/* smtp://, smtps:// or maildir:PATH */
	char *smtp_username;
	char *smtp_password_file;	/* readable by its owner alone */
	char *smtp_password_env;	/* name of a variable holding it */
	char *smtp_starttls;	/* "require" (default), "try", "never" */
	long  smtp_connections;
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
	int   allow_raw_html;	/* raw HTML in Markdown passes through */
	/* [tokens] */
	char *secret_file;	/* config/secret, mode 0600 */
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
 * Returns 0, or error() -1 naming path:line or the missing key.
 */
int config_load(struct config *c, const char *path);
void config_release(struct config *c);

#endif
