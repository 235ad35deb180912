#include "token.h"

#include <errno.h>
#include <fcntl.h>
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
	volatile unsigned char *p = k->secret;

	for (size_t i = 0; i < sizeof(k->secret); i++)
		p[i] = 0;
}

static void mac_hex(const struct token_key *k, const char *purpose,
		    const char *payload, size_t len, char hex[TOKEN_MAC_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	struct buf msg = BUF_INIT;

	buf_adds(&msg, purpose);
	buf_addch(&msg, '\0');
	buf_add(&msg, payload, len);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, k->secret, sizeof(k->secret),
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

	mac_hex(k, purpose, payload, len, hex);
	buf_add(out, payload, len);
	buf_addch(out, '.');
	buf_add(out, hex, TOKEN_MAC_HEX);
}

long token_verify(const struct token_key *k, const char *purpose,
		  const char *token, size_t len)
{
	char hex[TOKEN_MAC_HEX + 1];
	unsigned diff = 0;
	size_t payload;

	if (len < TOKEN_MAC_HEX + 2 || token[len - TOKEN_MAC_HEX - 1] != '.')
		return -1;
	payload = len - TOKEN_MAC_HEX - 1;
	mac_hex(k, purpose, token, payload, hex);
	for (size_t i = 0; i < TOKEN_MAC_HEX; i++)
		diff |= (unsigned)(hex[i] ^ token[payload + 1 + i]);
	return diff ? -1 : (long)payload;
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
