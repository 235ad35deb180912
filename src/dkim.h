#ifndef BULLETIN_DKIM_H
#define BULLETIN_DKIM_H

/*
 * DKIM signing (RFC 6376, RFC 8463 for Ed25519) with libopendkim: the
 * only module that speaks it. Keys are read and generated with GnuTLS.
 * libopendkim owns the dkim_ prefix (dkim_sign, dkim_init ...): this
 * module's names are dkim_signer_* and dkim_keygen.
 *
 * What a signature covers: relaxed/relaxed canonicalization, the whole
 * body (no l=), and h= lists each of From, To, Subject, Date,
 * Message-ID, Reply-To, MIME-Version, Content-Type, List-Id,
 * List-Unsubscribe and List-Unsubscribe-Post once more than the message
 * has it (over-signing): a header added later, even one the message
 * lacked, breaks the signature. RFC 8058 one-click unsubscribe is only
 * honoured when both List-Unsubscribe fields are covered.
 *
 * The [dkim] section (config.h): domain, selector and key-file go
 * together; selector2 and key-file2 add a second signature (typically
 * rsa-sha256 plus ed25519-sha256). The key type decides the algorithm:
 * an RSA key of 2048 bits or more signs rsa-sha256, an Ed25519 key
 * ed25519-sha256. Alignment is relaxed: domain must be the From
 * domain or a parent of it with at least one dot (news.example.org is
 * signed by news.example.org or example.org), which is what DMARC's
 * relaxed alignment accepts for all but public-suffix parents.
 *
 * Threads: a loaded signer is read-only. libopendkim documents that one
 * library handle serves several threads at once; each dkim_signer_sign
 * call makes its own per-message handle, so several threads may call
 * dkim_signer_sign on the same signer at the same time. Load, fix_time and
 * free must not run concurrently with anything else on the signer.
 *
 * Memory: Debian 12's libopendkim (2.11.0~beta2) leaks about 470 bytes
 * per ed25519-sha256 signature (its dkim_free forgets the Ed25519 key;
 * fixed upstream in OpenDKIM pull request 321): 47 MB per 100,000
 * messages with an Ed25519 key configured. RSA signing does not leak.
 *
 * For the send path: load the signer once before anything is sent (a
 * refusal is EX_CONFIG), then call dkim_signer_prepend after
 * issue_message has completed the recipient's message and before the
 * transport gets it, so what is sent is exactly what was signed. A
 * libopendkim signature costs more than its private-key operation: it parses the PEM key and sets up RSA blinding for every
 * message (OpenSSL 3), about 1.1 ms of CPU for rsa-sha256 where a bare
 * RSA-2048 signature takes 0.3 ms, plus about 0.6 ms to canonicalize and
 * hash a 150 KB message (tests/bench/bench_dkim.py measures it).
 * signpool.h spreads it over threads.
 */

#include <stddef.h>
#include <time.h>

#include "buf.h"

struct config;
struct dkim_signer;

/*
 * Reads the [dkim] section of c (c->path names it in messages). Without
 * a [dkim] section (none of its keys set) returns 0 with *out NULL: the
 * caller sends unsigned mail (and send warns). Otherwise checks, each a
 * refusal with error() -1 naming the key and file: the keys that go
 * together; the alignment of domain with c->from_domain; each key file
 * exists, is readable by its owner alone (no group or other permission
 * bits), is at most 64 KB, parses as an unencrypted PEM private key
 * (PKCS#1 or PKCS#8), and is RSA of 2048 bits or more or Ed25519. On
 * success *out is a new signer the caller frees with dkim_signer_free.
 */
int dkim_signer_load(const struct config *c, struct dkim_signer **out);
void dkim_signer_free(struct dkim_signer *s);

/* Signs as if at time t (t= tag), for reproducible output and tests.
 * RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic, so the
 * same message then gets the same signature fields. */
int dkim_signer_fix_time(struct dkim_signer *s, time_t t);

/*
 * Signs a complete message (len bytes, CRLF line ends, not
 * dot-stuffed) and appends one "DKIM-Signature: ...\r\n" field per key
 * to sig, folded at 78 columns where the base64 allows, in the order of
 * the configuration. The message to send is sig's fields followed by
 * msg, unchanged. Returns 0, or error() -1 (a message without a header
 * block, a library failure); sig is then left as it was.
 */
int dkim_signer_sign(const struct dkim_signer *s, const char *msg, size_t len,
	      struct buf *sig);

/*
 * The one call for a per-recipient path: signs the complete message in
 * msg and puts the signature fields in front of it. With s NULL (no
 * [dkim] section) does nothing. Returns 0, or error() -1 with msg
 * unchanged. Thread-safe as dkim_signer_sign is.
 */
int dkim_signer_prepend(const struct dkim_signer *s, struct buf *msg);

/*
 * Appends the DNS TXT record for each of the signer's keys as a zone
 * file line: "SEL._domainkey.DOMAIN. IN TXT ( "v=DKIM1; k=rsa; p=..." )"
 * with the text split into quoted strings of at most 255 octets.
 */
void dkim_signer_records(const struct dkim_signer *s, struct buf *out);

enum dkim_key_type { DKIM_KEY_RSA, DKIM_KEY_ED25519 };
#define DKIM_MIN_RSA_BITS 2048	/* RFC 8301 says 1024; Gmail wants 2048 */
#define DKIM_MAX_RSA_BITS 4096	/* a TXT record that stays under 1 KB */

/*
 * Generates a private key (RSA of bits bits, DKIM_MIN_RSA_BITS to
 * DKIM_MAX_RSA_BITS, else error; Ed25519 ignores bits) and writes it to path as PKCS#8 PEM, mode 0600,
 * refusing to overwrite an existing file. Appends the TXT record for
 * selector and domain to record. Returns 0 or error() -1 (nothing
 * written).
 */
int dkim_keygen(const char *path, enum dkim_key_type type, unsigned bits,
		const char *selector, const char *domain, struct buf *record);

#endif
