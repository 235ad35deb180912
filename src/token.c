#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

void token_random(void *buf, size_t n)
{
	if (gnutls_rnd(GNUTLS_RND_NONCE, buf, n))
		die(EX_OSERR, "cannot get random bytes");
}

void token_hex(struct buf *out, const void *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;

	buf_grow(out, 2 * n);
	for (size_t i = 0; i < n; i++) {
		buf_addch(out, digits[p[i] >> 4]);
		buf_addch(out, digits[p[i] & 15]);
	}
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_secret(struct token_key *k, const struct buf *b)
{
	size_t len = b->len;

	while (len && (b->data[len - 1] == '\n' || b->data[len - 1] == '\r'))
		len--;
	if (len != 2 * TOKEN_SECRET_BYTES)
		return -1;
	for (size_t i = 0; i < TOKEN_SECRET_BYTES; i++) {
		int hi = hex_value(b->data[2 * i]), lo = hex_value(b->data[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		k->secret[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int token_key_load(struct token_key *k, const char *path)
{
	struct buf b = BUF_INIT;
	struct stat st;
	int ret = -1;

	k->has_previous = 0;
	if (stat(path, &st)) {
		return error("cannot read the token secret '%s': %s (run "
			     "'bulletin init' to make one)", path, strerror(errno));
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return error("token secret '%s' must be owned by you and readable "
			     "by you alone (chmod 600 '%s')", path, path);
	if (read_file(path, &b))
		goto out;
	if (parse_secret(k, &b)) {
		error("token secret '%s': expected 64 hex digits", path);
		goto out;
	}
	ret = 0;
out:
	memset(b.data, 0, b.len);
	buf_release(&b);
	return ret;
}

void token_key_release(struct token_key *k)
{
	/* volatile: the compiler may not drop a wipe of memory it frees next */
	volatile unsigned char *p = k->secret, *q = k->previous;

	for (size_t i = 0; i < sizeof(k->secret); i++)
		p[i] = q[i] = 0;
	k->has_previous = 0;
}

/*
 * The secrets a token may be signed with, the current one first, then
 * the previous one while its grace period lasts (token_key_load_previous):
 * every check of a signed token accepts exactly these. Returns how many
 * (1 or 2).
 */
static size_t accepted_secrets(const struct token_key *k,
			       const unsigned char *out[2])
{
	out[0] = k->secret;
	out[1] = k->previous;
	return k->has_previous ? 2 : 1;
}

static void mac_hex(const unsigned char secret[TOKEN_SECRET_BYTES],
		    const char *purpose, const char *payload, size_t len,
		    char hex[TOKEN_MAC_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	struct buf msg = BUF_INIT;

	buf_adds(&msg, purpose);
	buf_addch(&msg, '\0');
	buf_add(&msg, payload, len);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, TOKEN_SECRET_BYTES,
			     msg.data, msg.len, md))
		die(EX_SOFTWARE, "HMAC-SHA256 is not available");
	for (int i = 0; i < TOKEN_MAC_HEX / 2; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[TOKEN_MAC_HEX] = '\0';
	buf_release(&msg);
}

void token_sign(const struct token_key *k, const char *purpose,
		const char *payload, size_t len, struct buf *out)
{
	char hex[TOKEN_MAC_HEX + 1];

	mac_hex(k->secret, purpose, payload, len, hex);
	buf_add(out, payload, len);
	buf_addch(out, '.');
	buf_add(out, hex, TOKEN_MAC_HEX);
}

long token_verify(const struct token_key *k, const char *purpose,
		  const char *token, size_t len)
{
	const unsigned char *secrets[2];
	size_t n = accepted_secrets(k, secrets), payload;
	char hex[TOKEN_MAC_HEX + 1];
	int ok = 0;

	if (len < TOKEN_MAC_HEX + 2 || token[len - TOKEN_MAC_HEX - 1] != '.')
		return -1;
	payload = len - TOKEN_MAC_HEX - 1;
	/* every secret tried, whichever matches: the time says nothing */
	for (size_t i = 0; i < n; i++) {
		mac_hex(secrets[i], purpose, token, payload, hex);
		ok |= token_equal(hex, token + payload + 1, TOKEN_MAC_HEX);
	}
	return ok ? (long)payload : -1;
}

int campaign_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 64)
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789-_") == n;
}

void token_verp_tag(const struct token_key *k, const char *campaign,
		    long long subscriber_id, struct buf *out)
{
	struct buf payload = BUF_INIT;

	buf_addf(&payload, "%lld.%s", subscriber_id, campaign);
	token_sign(k, "verp", payload.data, payload.len, out);
	buf_release(&payload);
}

int token_verp_parse(const struct token_key *k, const char *tag,
		     char campaign[65], long long *subscriber_id)
{
	long len = token_verify(k, "verp", tag, strlen(tag));
	const char *dot;
	char *end;
	long long id;

	if (len < 0)
		return -1;
	dot = memchr(tag, '.', (size_t)len);
	if (!dot || dot == tag || len - (dot + 1 - tag) > 64)
		return -1;
	errno = 0;
	id = strtoll(tag, &end, 10);
	if (errno || end != dot || id <= 0)
		return -1;
	memcpy(campaign, dot + 1, (size_t)(len - (dot + 1 - tag)));
	campaign[len - (dot + 1 - tag)] = '\0';
	if (!campaign_id_valid(campaign))
		return -1;
	*subscriber_id = id;
	return 0;
}

/* ---- unsubscribe tokens ------------------------------------------------ */

#define UNSUB_PURPOSE "bulletin-unsubscribe"
#define UNSUB_HEAD (1 + 8 + 1)	/* version, id, campaign length */

int token_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned)(x[i] ^ y[i]);
	return diff == 0;
}

static void unsub_mac(const unsigned char secret[TOKEN_SECRET_BYTES],
		      const unsigned char *data, size_t len,
		      unsigned char mac[32])
{
	unsigned char msg[sizeof(UNSUB_PURPOSE) + UNSUB_HEAD + 64];

	memcpy(msg, UNSUB_PURPOSE, sizeof(UNSUB_PURPOSE));	/* with its NUL */
	memcpy(msg + sizeof(UNSUB_PURPOSE), data, len);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, TOKEN_SECRET_BYTES, msg,
			     sizeof(UNSUB_PURPOSE) + len, mac))
		die(EX_SOFTWARE, "HMAC-SHA256 is not available");
}

/* URL-safe base64 (RFC 4648 section 5) without padding. */
static void base64url(struct buf *out, const unsigned char *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				"0123456789-_";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		buf_addch(out, a[v >> 18 & 63]);
		buf_addch(out, a[v >> 12 & 63]);
		if (i + 1 < n)
			buf_addch(out, a[v >> 6 & 63]);
		if (i + 2 < n)
			buf_addch(out, a[v & 63]);
	}
}

static int base64url_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/*
 * Decodes base64url without padding into out (room for len * 3 / 4
 * bytes). Strict: only the alphabet, no length of the form 4k + 1, and
 * the unused low bits of the last character zero, so that each byte
 * string has exactly one encoding. Returns the byte count or -1.
 */
static long unbase64url(const char *s, size_t len, unsigned char *out)
{
	unsigned v = 0;
	int bits = 0;
	long n = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int d = base64url_value((unsigned char)s[i]);

		if (d < 0)
			return -1;
		v = (v << 6 | (unsigned)d) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(v >> bits);
		}
	}
	return (v & ((1u << bits) - 1)) ? -1 : n;
}

void token_unsub_make(const struct token_key *k, long long id,
		      const char *campaign, struct buf *out)
{
	unsigned char t[UNSUB_HEAD + 64 + TOKEN_UNSUB_MAC], mac[32];
	size_t n = campaign ? strlen(campaign) : 0;

	if (n > 64)
		n = 64;		/* campaign_id_valid ids are never longer */
	t[0] = TOKEN_UNSUB_VERSION;
	for (int i = 0; i < 8; i++)
		t[1 + i] = (unsigned char)((unsigned long long)id >> (56 - 8 * i));
	t[9] = (unsigned char)n;
	if (n)
		memcpy(t + UNSUB_HEAD, campaign, n);
	unsub_mac(k->secret, t, UNSUB_HEAD + n, mac);
	memcpy(t + UNSUB_HEAD + n, mac, TOKEN_UNSUB_MAC);
	base64url(out, t, UNSUB_HEAD + n + TOKEN_UNSUB_MAC);
	memset(mac, 0, sizeof(mac));
}

/* Whether the MAC at the end of t (len bytes in all) is right under
 * one of the accepted secrets. */
static int unsub_signed(const struct token_key *k, const unsigned char *t,
			size_t len)
{
	const unsigned char *secrets[2];
	size_t n = accepted_secrets(k, secrets), body = len - TOKEN_UNSUB_MAC;
	unsigned char mac[32];
	int ok = 0;

	for (size_t i = 0; i < n; i++) {
		unsub_mac(secrets[i], t, body, mac);
		ok |= token_equal(mac, t + body, TOKEN_UNSUB_MAC);
	}
	memset(mac, 0, sizeof(mac));
	return ok;
}

int token_unsub_check(const struct token_key *k, const char *token, size_t len,
		      long long *id, char campaign[65])
{
	unsigned char t[TOKEN_UNSUB_MAX];
	unsigned long long v = 0;
	long n;

	if (len > TOKEN_UNSUB_MAX)
		return -1;
	n = unbase64url(token, len, t);
	if (n < UNSUB_HEAD + TOKEN_UNSUB_MAC || t[0] != TOKEN_UNSUB_VERSION ||
	    t[9] > 64 || n != UNSUB_HEAD + t[9] + TOKEN_UNSUB_MAC)
		return -1;
	if (!unsub_signed(k, t, (size_t)n))
		return -1;
	for (int i = 0; i < 8; i++)
		v = v << 8 | t[1 + i];
	memcpy(campaign, t + UNSUB_HEAD, t[9]);
	campaign[t[9]] = '\0';
	if (v > (unsigned long long)LLONG_MAX || (t[9] && !campaign_id_valid(campaign)))
		return -1;
	*id = (long long)v;
	return 0;
}

/* ---- rotation ----------------------------------------------------------- */

static void previous_path(struct buf *b, const char *path)
{
	buf_addf(b, "%s.previous", path);
}

/* Parses "HEX\nEPOCH\n" into k->previous and *when. */
static int parse_previous(struct token_key *k, const struct buf *b,
			  long long *when)
{
	struct token_key tmp;
	struct buf hex = BUF_INIT;
	const char *nl = memchr(b->data, '\n', b->len);
	char *end;
	int ret = -1;

	if (!nl)
		return -1;
	buf_add(&hex, b->data, (size_t)(nl - b->data));
	errno = 0;
	*when = strtoll(nl + 1, &end, 10);
	if (!parse_secret(&tmp, &hex) && !errno && end != nl + 1 &&
	    (*end == '\0' || !strcmp(end, "\n"))) {
		memcpy(k->previous, tmp.secret, sizeof(k->previous));
		ret = 0;
	}
	token_key_release(&tmp);
	memset(hex.data, 0, hex.len);
	buf_release(&hex);
	return ret;
}

int token_key_load_previous(struct token_key *k, const char *path,
			    long grace_days)
{
	struct buf p = BUF_INIT, b = BUF_INIT;
	struct stat st;
	long long when = 0;
	int ret = -1;

	k->has_previous = 0;
	previous_path(&p, path);
	if (stat(p.data, &st) && errno == ENOENT) {
		ret = 0;
		goto out;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		error("previous token secret '%s' must be owned by you and "
		      "readable by you alone (chmod 600 '%s')", p.data, p.data);
		goto out;
	}
	if (read_file(p.data, &b))
		goto out;
	if (parse_previous(k, &b, &when)) {
		error("previous token secret '%s': expected 64 hex digits, then "
		      "the time of the rotation", p.data);
		goto out;
	}
	k->has_previous = (long long)time(NULL) - when < grace_days * 86400LL;
	ret = 0;
out:
	memset(b.data, 0, b.len);
	buf_release(&b);
	buf_release(&p);
	return ret;
}

int token_secret_rotate(const char *path, time_t now)
{
	struct buf p = BUF_INIT, old = BUF_INIT, fresh = BUF_INIT;
	struct token_key k;
	unsigned char key[TOKEN_SECRET_BYTES];
	int ret = -1;

	previous_path(&p, path);
	if (!access(path, F_OK)) {
		if (token_key_load(&k, path))
			goto out;
		token_hex(&old, k.secret, sizeof(k.secret));
		buf_addf(&old, "\n%lld\n", (long long)now);
		token_key_release(&k);
		if (write_file_atomic(p.data, old.data, old.len, 0600, 0))
			goto out;
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, key, sizeof(key))) {
		error("cannot get random bytes for the token secret");
		goto out;
	}
	token_hex(&fresh, key, sizeof(key));
	ret = write_file_atomic(path, fresh.data, fresh.len, 0600, 0);
out:
	memset(key, 0, sizeof(key));
	memset(old.data, 0, old.len);
	memset(fresh.data, 0, fresh.len);
	buf_release(&p);
	buf_release(&old);
	buf_release(&fresh);
	return ret;
}
