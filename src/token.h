#ifndef BULLETIN_TOKEN_H
#define BULLETIN_TOKEN_H

/*
 * Random bytes, hex, and signed tokens (HMAC-SHA256 with GnuTLS) under
 * the secret `bulletin init` writes ([tokens] secret-file: 64 hex
 * digits, readable by its owner alone).
 *
 * A signed token is "PAYLOAD.MAC": MAC is the first TOKEN_MAC_HEX hex
 * digits of HMAC-SHA256(secret, PURPOSE "\0" PAYLOAD), so a token made
 * for one purpose (a VERP tag) is worth nothing for another. Payloads
 * are made of characters allowed in an address's local part.
 */

#include <stddef.h>

#include "buf.h"

#define TOKEN_SECRET_BYTES 32
/* 48 bits: a forger must send about 2^47 bounces to tie one to a person. */
#define TOKEN_MAC_HEX 12

struct token_key {
	unsigned char secret[TOKEN_SECRET_BYTES];
};

/* Fills buf with n random bytes (GnuTLS nonce quality). Dies if the
 * system has none to give: nothing sensible can go on without them. */
void token_random(void *buf, size_t n);

/* Appends n bytes as lower-case hex. */
void token_hex(struct buf *out, const void *data, size_t n);

/*
 * Reads the secret file: exactly 64 hex digits (a final line end is
 * allowed), owned by us and readable by its owner alone. Returns 0, or
 * error() -1 naming the file and what is wrong with it.
 */
int token_key_load(struct token_key *k, const char *path);

/* Wipes the secret from memory. */
void token_key_release(struct token_key *k);

/* Appends "PAYLOAD.MAC" for purpose. */
void token_sign(const struct token_key *k, const char *purpose,
		const char *payload, size_t len, struct buf *out);

/*
 * Checks a token made by token_sign for purpose. Returns the length of
 * its payload (the token's first bytes) when the MAC is right, or -1
 * (silently) when it is forged, truncated or malformed. Compares in
 * constant time.
 */
long token_verify(const struct token_key *k, const char *purpose,
		  const char *token, size_t len);

/*
 * VERP: appends the tag that names one delivery, "ID.CAMPAIGN.MAC", for
 * the envelope sender "bounces+TAG@domain". The campaign id must be
 * made of letters, digits, '-' and '_' (campaign_id_valid).
 */
void token_verp_tag(const struct token_key *k, const char *campaign,
		    long long subscriber_id, struct buf *out);

/*
 * Reads a VERP tag back. Returns 0 with the campaign (copied into
 * campaign[65]) and the subscriber id when the tag is genuine, -1
 * (silently) when it is forged, truncated or malformed.
 */
int token_verp_parse(const struct token_key *k, const char *tag,
		     char campaign[65], long long *subscriber_id);

/* True if id (a campaign, a digest folder name) is 1 to 64 letters,
 * digits, '-' or '_': safe in a Message-ID and a VERP tag. */
int campaign_id_valid(const char *id);

#endif
