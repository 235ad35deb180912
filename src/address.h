#ifndef BULLETIN_ADDRESS_H
#define BULLETIN_ADDRESS_H

/*
 * Email addresses: RFC 5321 Mailbox syntax, normalisation, display names.
 *
 * Accepted: a local part that is a dot-atom or a quoted-string, at most
 * 64 octets; a domain of LDH labels (each 1-63 octets, 253 in all, not
 * starting or ending with '-') or an address literal ([192.0.2.1],
 * [IPv6:2001:db8::1]). A domain with non-ASCII labels (U-labels) is
 * converted to A-labels (xn--) with libidn2. The whole address (the
 * normalised form) is at most 254 octets: RFC 5321 §4.5.3.1.3's path of
 * 256 less its angle brackets. Normalised form: the local part as given,
 * "@", the domain lower-cased. Mail is sent to the normalised form.
 *
 * Canonical identity: what tells two people apart. Two addresses that
 * differ only in the case of the local part, or in needless quotes
 * ("ada"@example.org), name the same person: every large mailbox provider
 * delivers them to one mailbox, so bulletin keeps one row for them.
 *
 * Rejected, with a reason: no '@', an empty part, leading, trailing or
 * consecutive dots, spaces, control characters, CR or LF anywhere, RFC
 * 5322 comments and obsolete syntax, over-long parts or addresses, an
 * invalid IDN.
 *
 * Functions here print nothing: they return a reason, a static string
 * such as "local part is longer than 64 octets", and the caller reports
 * it with the file, line or field it came from.
 */

struct buf;

/*
 * Validates and normalises a bare address ("Ada@Example.ORG", no display
 * name, no angle brackets). On success returns 0 and stores a new string
 * in *normalized that the caller frees; on failure returns -1, stores
 * the reason in *reason and leaves *normalized NULL.
 */
int address_normalize(const char *in, char **normalized, const char **reason);

/*
 * Appends the canonical identity of a normalised address (one that
 * address_normalize returned) to out: the whole address in ASCII lower
 * case (the local part compared case-insensitively: ASCII is enough, as
 * non-ASCII local parts are refused), and the local part without its
 * quotes when what they hold is a valid dot-atom ("Ada"@x is ada@x). A
 * local part that needs its quotes keeps them, escaping only '"' and
 * '\\' ("John\ Doe"@x is "john doe"@x). Two addresses name the same
 * person when their canonical identities are equal.
 *
 * Pure and infallible: a string that is not a normalised address gets a
 * defined result too (lower-cased), so stored data cannot make it fail.
 */
void address_canonical(const char *normalized, struct buf *out);

/*
 * Checks a display name (UTF-8): returns NULL when it may be used, or
 * a reason (CR or LF, other control characters, invalid UTF-8, longer
 * than 256 octets).
 */
const char *address_check_name(const char *name);

/*
 * Parses a mailbox as written in the config or on the command line:
 * "Display Name <local@domain>", "\"Quoted, Name\" <local@domain>" or a
 * bare "local@domain". On success returns 0 with *display (NULL when
 * there is none) and *addr (normalised) newly allocated for the caller;
 * on failure returns -1 with *reason set and both outputs NULL.
 */
int address_parse_mailbox(const char *in, char **display, char **addr,
			  const char **reason);

#endif
