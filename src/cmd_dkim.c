/*
 * bulletin dkim keygen | show: the DKIM key and the DNS record that
 * publishes it. The signing itself is dkim.h's, called by preview and
 * send.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "config.h"
#include "dkim.h"
#include "util.h"

#define EXIT_CODES \
	"\nExit status: 0, 64 usage, 73 cannot write the key, 78 bad\n" \
	"configuration (a key file missing, readable by others, unparsable\n" \
	"or too weak; a domain that does not align with from).\n"

static const char keygen_usage[] =
	"usage: bulletin dkim keygen [--selector S] [--type rsa|ed25519]\n"
	"                            [--bits N] [--output FILE]\n\n"
	"Generates a DKIM private key, writes it (PKCS#8 PEM, mode 0600; an\n"
	"existing file is never overwritten) and prints the DNS TXT record to\n"
	"publish at S._domainkey.DOMAIN, as a zone-file line whose text is\n"
	"split into strings of 255 octets, after comment lines saying what\n"
	"to put in the [dkim] section. DOMAIN is [dkim] domain, else the\n"
	"From domain.\n\n"
	"  -s, --selector S   the selector (default: [dkim] selector for rsa,\n"
	"                     selector2 for ed25519, else TYPE-YYYYMM)\n"
	"  -t, --type T       rsa (rsa-sha256, default) or ed25519\n"
	"                     (ed25519-sha256, RFC 8463: sign with both)\n"
	"  -b, --bits N       RSA key size, 2048 (default) to 4096\n"
	"  -o, --output FILE  where the key goes (default: the key-file of the\n"
	"                     configured selector S, else dkim-S.pem next to\n"
	"                     the configuration)\n"
	EXIT_CODES;

static const char show_usage[] =
	"usage: bulletin dkim show\n\n"
	"Prints the DNS TXT record of each configured key ([dkim] key-file,\n"
	"key-file2), after checking the keys as preview and send do.\n"
	EXIT_CODES;

static const char dkim_usage[] =
	"usage: bulletin dkim keygen | show\n\n"
	"  keygen   make a key and print the DNS record to publish\n"
	"  show     print the DNS record of the configured key(s)\n\n"
	"'bulletin dkim COMMAND --help' tells more.\n";

struct keygen {
	const char        *selector;
	const char        *output;
	enum dkim_key_type type;
	unsigned           bits;
	int                second;	/* the key of [dkim] selector2 */
	struct buf         default_selector;
	struct buf         default_output;
};

static int parse_type(struct keygen *k, const char *arg)
{
	if (!strcmp(arg, "rsa"))
		k->type = DKIM_KEY_RSA;
	else if (!strcmp(arg, "ed25519"))
		k->type = DKIM_KEY_ED25519;
	else
		return error("unknown key type '%s': expected rsa or ed25519",
			     arg);
	return 0;
}

static int parse_bits(struct keygen *k, const char *arg)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);

	if (*arg < '0' || *arg > '9' || *end || n < DKIM_MIN_RSA_BITS ||
	    n > DKIM_MAX_RSA_BITS)
		return error("bad --bits '%s': expected %d to %d", arg,
			     DKIM_MIN_RSA_BITS, DKIM_MAX_RSA_BITS);
	k->bits = (unsigned)n;
	return 0;
}

/* Fills k from argv; returns 0, -1 after --help, or EX_USAGE. */
static int parse_keygen(int argc, char **argv, struct keygen *k)
{
	static const struct option opts[] = {
		{ "selector", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "bits", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, bits_set = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "s:t:b:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': k->selector = optarg; break;
		case 'o': k->output = optarg; break;
		case 't': if (parse_type(k, optarg)) return EX_USAGE; break;
		case 'b':
			if (parse_bits(k, optarg))
				return EX_USAGE;
			bits_set = 1;
			break;
		case 'h': fputs(keygen_usage, stdout); return -1;
		default:  fputs(keygen_usage, stderr); return EX_USAGE;
		}
	}
	if (optind != argc) {
		error("dkim keygen takes no arguments");
		return EX_USAGE;
	}
	if (k->selector && !config_is_dns_name(k->selector)) {
		error("bad --selector '%s': expected letters, digits, '-' and "
		      "dots", k->selector);
		return EX_USAGE;
	}
	if (bits_set && k->type == DKIM_KEY_ED25519) {
		error("--bits is for RSA keys: an Ed25519 key has a fixed size");
		return EX_USAGE;
	}
	return 0;
}

/* The selector and key file the options leave to the configuration. */
static void keygen_defaults(struct keygen *k, const struct config *c)
{
	const char *conf_sel = k->type == DKIM_KEY_RSA ? c->dkim_selector :
			       c->dkim_selector2;
	const char *slash = strrchr(c->path, '/');
	time_t now = time(NULL);
	char month[16];

	if (!k->selector && conf_sel) {
		k->selector = conf_sel;
	} else if (!k->selector) {
		strftime(month, sizeof(month), "%Y%m", gmtime(&now));
		buf_addf(&k->default_selector, "%s-%s",
			 k->type == DKIM_KEY_RSA ? "rsa" : "ed25519", month);
		k->selector = k->default_selector.data;
	}
	k->second = c->dkim_selector2 && !strcmp(k->selector, c->dkim_selector2);
	if (k->output)
		return;
	if (c->dkim_selector && !strcmp(k->selector, c->dkim_selector))
		k->output = c->dkim_key_file;
	else if (k->second)
		k->output = c->dkim_key_file2;
	if (k->output)
		return;
	buf_addf(&k->default_output, "%.*sdkim-%s.pem",
		 slash ? (int)(slash - c->path + 1) : 0, c->path, k->selector);
	k->output = k->default_output.data;
}

static int dkim_cmd_keygen(int argc, char **argv, const struct config *c)
{
	struct keygen k = { NULL, NULL, DKIM_KEY_RSA, 2048, 0, BUF_INIT, BUF_INIT };
	struct buf record = BUF_INIT;
	const char *domain;
	int ret = parse_keygen(argc, argv, &k);

	if (ret)	/* c is NULL after --help: main set nothing up */
		return ret < 0 ? 0 : ret;
	domain = c->dkim_domain ? c->dkim_domain : c->from_domain;
	keygen_defaults(&k, c);
	ret = EX_CANTCREAT;
	if (dkim_keygen(k.output, k.type, k.bits, k.selector, domain, &record))
		goto out;
	printf("; wrote %s: %s private key, mode 0600\n"
	       "; publish this record in the DNS; then [dkim] needs\n"
	       ";   domain = %s\n;   %s = %s\n;   %s = %s\n%s",
	       k.output, k.type == DKIM_KEY_RSA ? "an RSA" : "an Ed25519",
	       domain, k.second ? "selector2" : "selector", k.selector,
	       k.second ? "key-file2" : "key-file", k.output, record.data);
	ret = 0;
out:
	buf_release(&record);
	buf_release(&k.default_selector);
	buf_release(&k.default_output);
	return ret;
}

static int dkim_cmd_show(int argc, char **argv, const struct config *c)
{
	struct dkim_signer *s = NULL;
	struct buf out = BUF_INIT;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(show_usage, stdout);
		return 0;
	}
	if (argc != 1) {
		fputs(show_usage, stderr);
		return EX_USAGE;
	}
	if (dkim_signer_load(c, &s))
		return EX_CONFIG;
	if (!s) {
		error("%s has no [dkim] section: 'bulletin dkim keygen' makes a "
		      "key and says what to add", c->path);
		return EX_CONFIG;
	}
	dkim_signer_records(s, &out);
	fputs(out.data, stdout);
	buf_release(&out);
	dkim_signer_free(s);
	return 0;
}

int cmd_dkim(int argc, char **argv, struct ctx *ctx)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(dkim_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : 0;
	}
	if (!strcmp(argv[1], "keygen"))
		return dkim_cmd_keygen(argc - 1, argv + 1, ctx->config);
	if (!strcmp(argv[1], "show"))
		return dkim_cmd_show(argc - 1, argv + 1, ctx->config);
	error("unknown command 'dkim %s' (see 'bulletin dkim --help')", argv[1]);
	return EX_USAGE;
}
