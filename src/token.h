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
#include <time.h>

#include "buf.h"

#define TOKEN_SECRET_BYTES 32
/* 48 bits: a forger must send about 2^47 bounces to tie one to a person. */
#define TOKEN_MAC_HEX 12

struct token_key {
	unsigned char secret[TOKEN_SECRET_BYTES];
	/* The secret before the last rotation, still accepted (never used
	 * to sign) until its grace period ends: token_key_load_previous. */
	unsigned char previous[TOKEN_SECRET_BYTES];
	int           has_previous;
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

/* Wipes the secrets (current and previous) from memory. */
void token_key_release(struct token_key *k);

/* Appends "PAYLOAD.MAC" for purpose. */
void token_sign(const struct token_key *k, const char *purpose,
		const char *payload, size_t len, struct buf *out);

/*
 * Checks a token made by token_sign for purpose with k's secret or,
 * within its grace period, the previous one (token_key_load_previous:
 * mail sent before a rotation still bounces and unsubscribes after it).
 * Returns the length of its payload (the token's first bytes) when the
 * MAC is right, or -1 (silently) when it is forged, truncated or
 * malformed. Tries every accepted secret and compares with token_equal.
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
 * campaign[65]) and the subscriber id when the tag is genuine (signed
 * with a secret token_verify accepts), -1 (silently) when it is forged,
 * truncated or malformed.
 */
int token_verp_parse(const struct token_key *k, const char *tag,
		     char campaign[65], long long *subscriber_id);

/* True if id (a campaign, a digest folder name) is 1 to 64 letters,
 * digits, '-' or '_': safe in a Message-ID and a VERP tag. */
int campaign_id_valid(const char *id);

/* ---- unsubscribe tokens ------------------------------------------------ */

/*
 * An unsubscribe token names a subscriber (by id, not address) and the
 * campaign the message belonged to, and is signed:
 *
 *   base64url-without-padding( VERSION(1) | ID(8, big-endian) | N(1) |
 *                              CAMPAIGN(N) | MAC(16) )
 *
 * MAC is the first 16 bytes (128 bits) of HMAC-SHA256(secret,
 * "bulletin-unsubscribe" NUL | everything before it). VERSION is 1; a new
 * scheme gets a new version byte. CAMPAIGN is empty for a message outside
 * a campaign (a test send). The alphabet (A-Z a-z 0-9 - _) is safe in a
 * URL path and in a mailto subject.
 */
#define TOKEN_UNSUB_VERSION 1
#define TOKEN_UNSUB_MAC 16
/* No token is longer: version, id, length, 64-byte campaign, MAC. */
#define TOKEN_UNSUB_MAX ((1 + 8 + 1 + 64 + TOKEN_UNSUB_MAC + 2) / 3 * 4)

/* Appends the token for subscriber id and campaign (NULL or a
 * campaign_id_valid id) signed with k's current secret. */
void token_unsub_make(const struct token_key *k, long long id,
		      const char *campaign, struct buf *out);

/*
 * Checks a token (len bytes, not NUL-terminated). Returns 0 with *id
 * and campaign (copied into campaign[65], "" for none) when it was made
 * by token_unsub_make with k's secret or, within its grace period, the
 * previous one; -1 (silently, whatever the reason: a changed byte, a
 * truncated or extended token, another secret, another version) when
 * not. The MAC is compared with token_equal.
 */
int token_unsub_check(const struct token_key *k, const char *token, size_t len,
		      long long *id, char campaign[65]);

/* True if the n bytes at a and b are equal. Takes the same time
 * whichever byte differs: it always reads all n. */
int token_equal(const void *a, const void *b, size_t n);

/* ---- rotation ----------------------------------------------------------- */

/*
 * The previous secret lives next to the secret, in PATH.previous (mode
 * 0600): its 64 hex digits, a line end, and the time of the rotation in
 * seconds since the epoch.
 *
 * token_key_load_previous reads it into k when it exists and the
 * rotation is less than grace_days old; otherwise k->has_previous is 0.
 * Returns 0, or error() -1 when the file is there but unreadable or
 * malformed (naming the file).
 */
int token_key_load_previous(struct token_key *k, const char *path,
			    long grace_days);

/*
 * Makes a new secret at path, keeping the current one (when there is
 * one) as PATH.previous with the time now. Each file is replaced
 * atomically, the previous one first, so a crash leaves every token
 * made so far valid. A secret rotated twice within the grace period
 * loses the older one. Returns 0, or error() -1.
 */
int token_secret_rotate(const char *path, time_t now);

#endif
