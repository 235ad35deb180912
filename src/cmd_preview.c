#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "commands.h"
#include "compose.h"
#include "config.h"
#include "digest.h"
#include "dkim.h"
#include "mime.h"
#include "store.h"
#include "token.h"
#include "unsub.h"
#include "util.h"

/* Gmail clips a message whose HTML is larger than about 102 KB: only a
 * warning. The hard limit on the whole message is max-message-size. */
#define HTML_CLIP_SIZE (100 * 1024)

static const char usage[] =
	"usage: bulletin preview DIGEST [-o DIR] [--to ADDRESS]\n"
	"\n"
	"Writes DIR/ISSUE.eml (the message exactly as a subscriber gets it),\n"
	"DIR/ISSUE.html (its HTML, images inline, for a browser) and\n"
	"DIR/ISSUE.txt (its text part). ISSUE is the digest folder's name.\n"
	"\n"
	"  -o, --output DIR   where to write (default: out)\n"
	"  -t, --to ADDRESS   the sample recipient, \"Name <address>\" or an\n"
	"                     address (default: the config's sample-to)\n"
	"  -h, --help         this text\n"
	"\n"
	"With a [dkim] section the .eml is signed with the configured keys, as\n"
	"send signs, so the signature can be checked before sending.\n"
	"Nothing is written unless the whole digest is valid; each problem is\n"
	"reported as FILE:LINE. Exit status: 0, 64 usage, 65 bad digest,\n"
	"66 no such digest, 73 cannot write, 78 bad configuration (a DKIM\n"
	"key included).\n";

struct preview {
	struct recipient    rcpt;
	char               *name;
	char               *email;
	struct buf          unsubscribe;
	struct buf          mailto;
	struct dkim_signer *signer;	/* NULL without [dkim] */
};

/* The sample recipient's subscriber id when the database exists and
 * holds the address, else 0: a token for 0 is genuine but names nobody,
 * so `serve` answers it as it does any link that leads nowhere. */
static long long sample_id(const struct config *c, const char *email)
{
	struct store *s;
	struct store_row row;
	long long id = 0;

	if (access(c->store_path, F_OK))
		return 0;
	s = store_open(c->store_path);
	if (s && store_sub_get(s, email, &row) == 1)
		id = row.id;
	store_close(s);
	return id;
}

static int set_recipient(struct preview *p, const char *to)
{
	const char *why;

	if (address_parse_mailbox(to, &p->name, &p->email, &why))
		return error("bad recipient '%s': %s", to, why);
	return 0;
}

/* The recipient's real unsubscribe links, signed with the secret, for
 * campaign (the digest's id). */
static int set_links(struct preview *p, const struct config *c,
		     const char *campaign)
{
	struct token_key key;

	if (token_key_load(&key, c->secret_file))
		return -1;
	unsub_links(&key, c, sample_id(c, p->email),
		    campaign_id_valid(campaign) ? campaign : NULL,
		    &p->unsubscribe, &p->mailto);
	token_key_release(&key);
	p->rcpt = (struct recipient){ p->name, p->email, p->unsubscribe.data,
				      p->mailto.data };
	return 0;
}

static int write_output(const char *dir, const char *id, const char *ext,
			const struct buf *data)
{
	struct buf path = BUF_INIT;
	int ret;

	buf_addf(&path, "%s/%s.%s", dir, id, ext);
	ret = write_file_atomic(path.data, data->data, data->len, 0644, 0);
	if (!ret)
		printf("wrote %s (%zu bytes)\n", path.data, data->len);
	buf_release(&path);
	return ret;
}

/* The same limit send enforces: a bigger message is refused, not cut. */
static int check_size(const struct buf *eml, size_t max)
{
	if (eml->len <= max)
		return 0;
	return error("the message is %zu bytes, larger than the limit of %zu "
		     "bytes ([newsletter] max-message-size)", eml->len, max);
}

static int write_all(const struct issue *is, const struct preview *p,
		     const struct config *c, const char *dir, const char *id)
{
	struct buf eml = BUF_INIT, html = BUF_INIT, text = BUF_INIT, mid = BUF_INIT;
	int ret = EX_CANTCREAT;

	mime_new_message_id(&mid, c->from_domain);
	if (issue_message(is, &p->rcpt, mid.data, time(NULL), &eml) ||
	    dkim_signer_prepend(p->signer, &eml) ||
	    check_size(&eml, c->max_message_size)) {
		ret = EX_DATAERR;
		goto out;
	}
	issue_preview(is, &p->rcpt, &html, &text);
	if (issue_html_size(is) > HTML_CLIP_SIZE)
		warning("the HTML part is %zu KB: Gmail clips messages near 102 KB",
			issue_html_size(is) / 1024);
	if (mkdir_p(dir, 0755) || write_output(dir, id, "eml", &eml) ||
	    write_output(dir, id, "html", &html) ||
	    write_output(dir, id, "txt", &text))
		goto out;
	ret = 0;
out:
	buf_release(&eml);
	buf_release(&html);
	buf_release(&text);
	buf_release(&mid);
	return ret;
}

int cmd_preview(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "out", *to = NULL;
	struct preview p = { .unsubscribe = BUF_INIT, .mailto = BUF_INIT };
	struct digest d;
	struct issue *is = NULL;
	int c, ret = EX_DATAERR;

	while ((c = getopt_long(argc, argv, "o:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': dir = optarg; break;
		case 't': to = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default:  fputs(usage, stderr); return EX_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return EX_USAGE;
	}
	if (!to)
		to = ctx->config->sample_to;
	if (access(argv[optind], R_OK | X_OK)) {
		error("cannot read digest folder '%s'", argv[optind]);
		return EX_NOINPUT;
	}
	if (set_recipient(&p, to))
		return EX_USAGE;
	ret = EX_CONFIG;
	if (dkim_signer_load(ctx->config, &p.signer))
		goto out_recipient;
	ret = EX_DATAERR;
	if (digest_load(&d, argv[optind]))
		goto out_recipient;
	if (set_links(&p, ctx->config, d.id)) {
		ret = EX_CONFIG;
		goto out_digest;
	}
	is = issue_compose(&d, ctx->config);
	if (is)
		ret = write_all(is, &p, ctx->config, dir, d.id);
	issue_free(is);
out_digest:
	digest_release(&d);
out_recipient:
	dkim_signer_free(p.signer);
	free(p.name);
	free(p.email);
	buf_release(&p.unsubscribe);
	buf_release(&p.mailto);
	return ret;
}
