#include "dkim.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <opendkim/dkim.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "mime.h"
#include "util.h"

#define MAX_KEY_FILE (64 * 1024)
#define SIG_FIELD "DKIM-Signature: "
#define TXT_STRING 255		/* octets in one DNS character-string */
#define MAX_KEYS 2

/* Signed once more than present (over-signed), so none can be added. */
static const char *const signed_fields[] = {
	"From", "To", "Subject", "Date", "Message-ID", "Reply-To",
	"MIME-Version", "Content-Type", "List-Id", "List-Unsubscribe",
	"List-Unsubscribe-Post", NULL,
};

struct dkim_key {
	char       *selector;
	char       *pem;	/* PKCS#8 PEM, what libopendkim reads */
	char       *pubkey;	/* base64: the p= of the TXT record */
	const char *k;		/* the k= of the TXT record: rsa, ed25519 */
	dkim_alg_t  alg;
	unsigned    bits;
};

struct dkim_signer {
	DKIM_LIB       *lib;	/* shared by every thread (see dkim.h) */
	char           *domain;
	struct dkim_key keys[MAX_KEYS];
	int             nkeys;
};

/* Where a key came from, for messages: "CONFIG: [dkim] key-file 'PATH'". */
struct origin {
	struct buf what;
	const char *path;
};

/* The key file's bytes, refused unless only its owner may read it. */
static int read_key_file(const struct origin *o, struct buf *data)
{
	struct stat st;

	if (stat(o->path, &st))
		return error("%s: cannot open: %s", o->what.data, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return error("%s: not a regular file", o->what.data);
	if (st.st_mode & 077)
		return error("%s can be read by others (mode %04o): make it "
			     "readable by its owner alone (chmod 600)",
			     o->what.data, (unsigned)(st.st_mode & 07777));
	if (st.st_size > MAX_KEY_FILE)
		return error("%s: larger than %d KB: not a private key",
			     o->what.data, MAX_KEY_FILE / 1024);
	return read_file(o->path, data);
}

static int import_key(gnutls_x509_privkey_t k, const struct origin *o,
		      const struct buf *data)
{
	gnutls_datum_t d = { (unsigned char *)data->data, (unsigned)data->len };
	int rc = gnutls_x509_privkey_import2(k, &d, GNUTLS_X509_FMT_PEM, NULL,
					     GNUTLS_PKCS_PLAIN);

	if (rc)
		return error("%s: not an unencrypted PEM private key (%s)",
			     o->what.data, gnutls_strerror(rc));
	return 0;
}

/* The algorithm the key signs with, refusing short RSA keys and
 * algorithms DKIM has not defined. */
static int key_algorithm(gnutls_x509_privkey_t k, const struct origin *o,
			 struct dkim_key *key)
{
	unsigned bits = 0;
	int pk = gnutls_x509_privkey_get_pk_algorithm2(k, &bits);

	key->bits = bits;
	if (pk == GNUTLS_PK_RSA) {
		if (bits < DKIM_MIN_RSA_BITS)
			return error("%s: an RSA key of %u bits is too weak: DKIM "
				     "needs %d bits or more", o->what.data, bits,
				     DKIM_MIN_RSA_BITS);
		key->alg = DKIM_SIGN_RSASHA256;
		key->k = "rsa";
		return 0;
	}
	if (pk == GNUTLS_PK_EDDSA_ED25519) {
		key->alg = DKIM_SIGN_ED25519SHA256;
		key->k = "ed25519";
		return 0;
	}
	return error("%s: an algorithm DKIM does not sign with (%s): use RSA "
		     "(%d bits or more) or Ed25519", o->what.data,
		     gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)pk),
		     DKIM_MIN_RSA_BITS);
}

/* p=: the SubjectPublicKeyInfo for RSA (RFC 6376 §3.6.1), the raw 32
 * bytes for Ed25519 (RFC 8463 §4.2). */
static int public_key(gnutls_x509_privkey_t k, struct dkim_key *key)
{
	gnutls_privkey_t priv = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	struct buf b64 = BUF_INIT;
	int rc;

	if (key->alg == DKIM_SIGN_ED25519SHA256) {
		rc = gnutls_x509_privkey_export_ecc_raw(k, &curve, &der, NULL, NULL);
	} else {
		rc = gnutls_privkey_init(&priv);
		if (!rc)
			rc = gnutls_privkey_import_x509(priv, k, 0);
		if (!rc)
			rc = gnutls_pubkey_init(&pub);
		if (!rc)
			rc = gnutls_pubkey_import_privkey(pub, priv, 0, 0);
		if (!rc)
			rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der);
	}
	if (!rc) {
		base64_encode(&b64, der.data, der.size);
		key->pubkey = buf_detach(&b64, NULL);
	}
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(priv);
	return rc ? error("cannot derive the public key: %s", gnutls_strerror(rc))
		  : 0;
}

/* Fills key from a parsed private key: algorithm, PKCS#8 PEM (whatever
 * form the file had), public key. */
static int describe_key(gnutls_x509_privkey_t k, const struct origin *o,
			struct dkim_key *key)
{
	gnutls_datum_t pem = { NULL, 0 };
	int rc;

	if (key_algorithm(k, o, key))
		return -1;
	rc = gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM, NULL,
					       GNUTLS_PKCS_PLAIN, &pem);
	if (rc)
		return error("%s: cannot convert to PKCS#8: %s", o->what.data,
			     gnutls_strerror(rc));
	key->pem = xstrndup((char *)pem.data, pem.size);
	gnutls_free(pem.data);
	return public_key(k, key);
}

static int load_key(struct dkim_key *key, const char *cfg, const char *name,
		    const char *path, const char *selector)
{
	struct origin o = { BUF_INIT, path };
	struct buf data = BUF_INIT;
	gnutls_x509_privkey_t k = NULL;
	int ret = -1;

	buf_addf(&o.what, "%s: [dkim] %s '%s'", cfg, name, path);
	key->selector = xstrdup(selector);
	if (read_key_file(&o, &data))
		goto out;
	if (gnutls_x509_privkey_init(&k)) {
		error("%s: cannot initialise GnuTLS", o.what.data);
		goto out;
	}
	if (!import_key(k, &o, &data))
		ret = describe_key(k, &o, key);
out:
	gnutls_x509_privkey_deinit(k);
	memset(data.data, 0, data.len);
	buf_release(&data);
	buf_release(&o.what);
	return ret;
}

/* Keys that go together (named in what): a missing one is named. */
static int check_group(const char *cfg, const char *what,
		       const char *const names[], char *const values[], int n)
{
	int set = 0;

	for (int i = 0; i < n; i++)
		set += values[i] != NULL;
	for (int i = 0; set && set < n && i < n; i++)
		if (!values[i])
			return error("%s: [dkim] '%s' is missing (%s go together)",
				     cfg, names[i], what);
	return 0;
}

static int check_complete(const struct config *c)
{
	static const char *const first[] = { "domain", "selector", "key-file" };
	static const char *const second[] = { "selector2", "key-file2" };
	char *const v1[] = { c->dkim_domain, c->dkim_selector, c->dkim_key_file };
	char *const v2[] = { c->dkim_selector2, c->dkim_key_file2 };

	if (check_group(c->path, "domain, selector and key-file", first, v1, 3) ||
	    check_group(c->path, "selector2 and key-file2", second, v2, 2))
		return -1;
	if (v2[0] && !v1[0])
		return error("%s: [dkim] selector2 needs domain, selector and "
			     "key-file", c->path);
	return 0;
}

/* Relaxed alignment: d= is the From domain or a parent of it, and not a
 * top-level domain. Both are lower-cased by config.c. */
static int check_alignment(const struct config *c)
{
	const char *d = c->dkim_domain, *from = c->from_domain;
	size_t dn = strlen(d), fn = strlen(from);
	int parent = fn > dn && from[fn - dn - 1] == '.' &&
		     !strcmp(from + fn - dn, d);

	if ((strcmp(d, from) && !parent) || !strchr(d, '.'))
		return error("%s: [dkim] domain '%s' does not align with the "
			     "From domain '%s': it must be that domain or a "
			     "parent of it (DMARC)", c->path, d, from);
	return 0;
}

static int setup_lib(struct dkim_signer *s)
{
	unsigned minbits = DKIM_MIN_RSA_BITS;

	s->lib = dkim_init(NULL, NULL);
	if (!s->lib)
		return error("cannot initialise libopendkim");
	if (dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
			 (void *)signed_fields, sizeof(char **)) != DKIM_STAT_OK ||
	    dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
			 (void *)signed_fields, sizeof(char **)) != DKIM_STAT_OK ||
	    dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS,
			 &minbits, sizeof(minbits)) != DKIM_STAT_OK)
		return error("cannot set libopendkim's signing options");
	return 0;
}

int dkim_signer_load(const struct config *c, struct dkim_signer **out)
{
	struct dkim_signer *s;

	*out = NULL;
	if (check_complete(c))
		return -1;
	if (!c->dkim_domain)
		return 0;
	if (check_alignment(c))
		return -1;
	s = xcalloc(1, sizeof(*s));
	s->domain = xstrdup(c->dkim_domain);
	if (load_key(&s->keys[s->nkeys++], c->path, "key-file",
		     c->dkim_key_file, c->dkim_selector) ||
	    (c->dkim_key_file2 &&
	     load_key(&s->keys[s->nkeys++], c->path, "key-file2",
		      c->dkim_key_file2, c->dkim_selector2)) ||
	    setup_lib(s)) {
		dkim_signer_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void dkim_signer_free(struct dkim_signer *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nkeys; i++) {
		struct dkim_key *k = &s->keys[i];

		if (k->pem)
			memset(k->pem, 0, strlen(k->pem));
		free(k->pem);
		free(k->selector);
		free(k->pubkey);
	}
	if (s->lib)
		dkim_close(s->lib);
	free(s->domain);
	free(s);
}

int dkim_signer_fix_time(struct dkim_signer *s, time_t t)
{
	uint64_t when = (uint64_t)t;

	if (dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &when,
			 sizeof(when)) != DKIM_STAT_OK)
		return error("cannot fix libopendkim's signing time");
	return 0;
}

/* "what: the library's reason" for a failed step. */
static int sign_error(DKIM *d, DKIM_STAT st, const char *what)
{
	const char *why = d ? dkim_geterror(d) : NULL;

	return error("cannot sign the message: %s: %s", what,
		     why && *why ? why : dkim_getresultstr(st));
}

static int sign_one(const struct dkim_signer *s, const struct dkim_key *k,
		    const char *msg, size_t len, struct buf *sig)
{
	DKIM_STAT st;
	DKIM *d = dkim_sign(s->lib, (const unsigned char *)"bulletin", NULL,
			    (unsigned char *)k->pem,
			    (const unsigned char *)k->selector,
			    (const unsigned char *)s->domain, DKIM_CANON_RELAXED,
			    DKIM_CANON_RELAXED, k->alg, -1, &st);
	unsigned char *value = NULL;
	size_t vlen = 0;
	int ret = -1;

	if (!d)
		return sign_error(NULL, st, "dkim_sign");
	/* libopendkim takes the bytes as unsigned char * but only reads them */
	if ((st = dkim_chunk(d, (unsigned char *)msg, len)) != DKIM_STAT_OK ||
	    (st = dkim_chunk(d, NULL, 0)) != DKIM_STAT_OK) {
		sign_error(d, st, "reading the message");
		goto out;
	}
	if ((st = dkim_eom(d, NULL)) != DKIM_STAT_OK ||
	    (st = dkim_getsighdr_d(d, strlen(SIG_FIELD), &value, &vlen)) !=
	    DKIM_STAT_OK) {
		sign_error(d, st, "computing the signature");
		goto out;
	}
	buf_adds(sig, SIG_FIELD);
	buf_add(sig, value, vlen);
	buf_adds(sig, "\r\n");
	ret = 0;
out:
	dkim_free(d);
	return ret;
}

/* A message is a header block, an empty line, a body: without the empty
 * line libopendkim would sign headers only and say nothing. */
static int has_header_end(const char *msg, size_t len)
{
	return memmem(msg, len, "\r\n\r\n", 4) != NULL;
}

int dkim_signer_sign(const struct dkim_signer *s, const char *msg, size_t len,
	      struct buf *sig)
{
	size_t start = sig->len;

	if (!has_header_end(msg, len))
		return error("cannot sign the message: no empty line after its "
			     "header");
	for (int i = 0; i < s->nkeys; i++) {
		if (sign_one(s, &s->keys[i], msg, len, sig)) {
			buf_truncate(sig, start);
			return -1;
		}
	}
	return 0;
}

int dkim_signer_prepend(const struct dkim_signer *s, struct buf *msg)
{
	struct buf out = BUF_INIT;

	if (!s)
		return 0;
	if (dkim_signer_sign(s, msg->data, msg->len, &out)) {
		buf_release(&out);
		return -1;
	}
	buf_add(&out, msg->data, msg->len);
	buf_release(msg);
	*msg = out;
	return 0;
}

/* One zone-file line; the text in quoted strings of at most 255 octets
 * (RFC 1035 §3.3), which resolvers join (RFC 6376 §3.6.2.2). */
static void add_record(struct buf *out, const char *selector,
		       const char *domain, const char *k, const char *pubkey)
{
	struct buf txt = BUF_INIT;

	buf_addf(&txt, "v=DKIM1; k=%s; p=%s", k, pubkey);
	buf_addf(out, "%s._domainkey.%s. IN TXT (", selector, domain);
	for (size_t at = 0; at < txt.len; at += TXT_STRING) {
		size_t n = txt.len - at < TXT_STRING ? txt.len - at : TXT_STRING;

		buf_addf(out, "%s\"%.*s\"", at ? "\n\t" : " ", (int)n,
			 txt.data + at);
	}
	buf_adds(out, " )\n");
	buf_release(&txt);
}

void dkim_signer_records(const struct dkim_signer *s, struct buf *out)
{
	for (int i = 0; i < s->nkeys; i++)
		add_record(out, s->keys[i].selector, s->domain, s->keys[i].k,
			   s->keys[i].pubkey);
}

static int generate(gnutls_x509_privkey_t k, enum dkim_key_type type,
		    unsigned bits)
{
	int rc;

	if (type == DKIM_KEY_RSA && (bits < DKIM_MIN_RSA_BITS || bits > DKIM_MAX_RSA_BITS))
		return error("an RSA key must have %d to %d bits, not %u",
			     DKIM_MIN_RSA_BITS, DKIM_MAX_RSA_BITS, bits);
	rc = type == DKIM_KEY_RSA ?
	     gnutls_x509_privkey_generate(k, GNUTLS_PK_RSA, bits, 0) :
	     gnutls_x509_privkey_generate(k, GNUTLS_PK_EDDSA_ED25519, 256, 0);
	if (rc)
		return error("cannot generate the key: %s", gnutls_strerror(rc));
	return 0;
}

int dkim_keygen(const char *path, enum dkim_key_type type, unsigned bits,
		const char *selector, const char *domain, struct buf *record)
{
	struct origin o = { BUF_INIT, path };
	struct dkim_key key = { 0 };
	gnutls_x509_privkey_t k = NULL;
	int ret = -1;

	buf_addf(&o.what, "new key '%s'", path);
	if (gnutls_x509_privkey_init(&k)) {
		error("cannot initialise GnuTLS");
		goto out;
	}
	if (generate(k, type, bits) || describe_key(k, &o, &key) ||
	    write_file_atomic(path, key.pem, strlen(key.pem), 0600, 1))
		goto out;
	add_record(record, selector, domain, key.k, key.pubkey);
	ret = 0;
out:
	if (key.pem)
		memset(key.pem, 0, strlen(key.pem));
	free(key.pem);
	free(key.pubkey);
	gnutls_x509_privkey_deinit(k);
	buf_release(&o.what);
	return ret;
}
