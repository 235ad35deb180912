/*
 * address.c: RFC 5321 Mailbox syntax, normalisation and display names.
 *
 * Each case names the rule it comes from. Non-ASCII local parts are
 * refused: they need SMTPUTF8 (RFC 6531) end to end, which bulletin
 * does not rely on (see EMAIL-NOTES.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "address.h"
#include "buf.h"

/* Length cases, spelled out so the table shows the exact octets. */
#define X10 "xxxxxxxxxx"
#define L63 X10 X10 X10 X10 X10 X10 "xxx"
#define L64 L63 "x"
#define L65 L64 "x"
#define L61 X10 X10 X10 X10 X10 X10 "x"
#define L62 L61 "x"
#define D253 L63 "." L63 "." L63 "." L61	/* 63*3 + 61 + 3 dots */
#define D254 L63 "." L63 "." L63 "." L62
#define L60 X10 X10 X10 X10 X10 X10
#define D252 L63 "." L63 "." L63 "." L60
#define D189 L63 "." L63 "." L61		/* with a 64-octet local part: 254 */
#define D190 L63 "." L63 "." L62
/* 12 U-labels of 6 octets grow to 11 as A-labels (xn--fsqu00a) */
#define CJK4 "例子.例子.例子.例子."
#define CJK12 CJK4 CJK4 CJK4

struct addr_case {
	const char *in;
	const char *out;	/* the normalised form, or NULL if refused */
	const char *why;	/* when refused: a substring of the reason */
};

static const struct addr_case cases[] = {
	/* ---- accepted ---- */
	/* RFC 5321 §4.1.2 Dot-string */
	{ "ada@example.org", "ada@example.org", NULL },
	/* RFC 5322 §3.2.3 atext includes '+': plus-tags */
	{ "ada+news@example.org", "ada+news@example.org", NULL },
	/* RFC 5322 §3.2.3 dot-atom: dots between atoms */
	{ "first.last@example.org", "first.last@example.org", NULL },
	/* RFC 5321 §2.4: the local part is case-sensitive, domains are not */
	{ "Ada@Example.ORG", "Ada@example.org", NULL },
	/* RFC 5321 §2.4: upper-case domain lowered */
	{ "user@EXAMPLE.COM", "user@example.com", NULL },
	/* RFC 5321 §4.1.2 Quoted-string: a space inside quotes */
	{ "\"john doe\"@example.org", "\"john doe\"@example.org", NULL },
	/* RFC 5321 §4.1.2 quoted-pairSMTP: an escaped quote */
	{ "\"john\\\"doe\"@example.org", "\"john\\\"doe\"@example.org", NULL },
	/* RFC 5321 §4.1.2 quoted-pairSMTP: an escaped backslash */
	{ "\"a\\\\b\"@example.org", "\"a\\\\b\"@example.org", NULL },
	/* RFC 3696 §3: "@" is fine inside quotes */
	{ "\"Abc@def\"@example.com", "\"Abc@def\"@example.com", NULL },
	/* RFC 3696 §3: consecutive dots are fine inside quotes */
	{ "\"a..b\"@example.org", "\"a..b\"@example.org", NULL },
	/* RFC 5321 §4.1.2: needless quotes are kept (local part as given) */
	{ "\"john\"@example.org", "\"john\"@example.org", NULL },
	/* RFC 5322 §3.2.3: every atext special */
	{ "!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~@example.org",
	  NULL },
	/* RFC 3696 §3 examples */
	{ "customer/department=shipping@example.com",
	  "customer/department=shipping@example.com", NULL },
	{ "$A12345@example.com", "$A12345@example.com", NULL },
	{ "!def!xyz%abc@example.com", "!def!xyz%abc@example.com", NULL },
	{ "_somename@example.com", "_somename@example.com", NULL },
	/* RFC 5322 §3.2.3: digits are atext */
	{ "1234567890@example.com", "1234567890@example.com", NULL },
	/* RFC 5322 §3.2.3: several plus-tags */
	{ "user.name+tag+sorting@example.com",
	  "user.name+tag+sorting@example.com", NULL },
	/* RFC 5321 §4.1.2: one-octet parts */
	{ "a@b.c", "a@b.c", NULL },
	/* RFC 5321 §4.1.3 IPv4-address-literal */
	{ "user@[192.0.2.1]", "user@[192.0.2.1]", NULL },
	{ "user@[255.255.255.255]", "user@[255.255.255.255]", NULL },
	{ "user@[0.0.0.0]", "user@[0.0.0.0]", NULL },
	/* RFC 5321 §4.1.3 IPv6-address-literal, IPv6-comp */
	{ "user@[IPv6:2001:db8::1]", "user@[IPv6:2001:db8::1]", NULL },
	/* RFC 5321 §4.1.3: hex lowered like the rest of the domain */
	{ "user@[IPv6:2001:DB8::1]", "user@[IPv6:2001:db8::1]", NULL },
	/* RFC 5321 §4.1.3 IPv6v4-comp */
	{ "user@[IPv6:::ffff:192.0.2.1]", "user@[IPv6:::ffff:192.0.2.1]", NULL },
	/* RFC 5321 §4.1.3 IPv6-full */
	{ "user@[IPv6:2001:db8:0:0:0:0:0:1]", "user@[IPv6:2001:db8:0:0:0:0:0:1]",
	  NULL },
	/* RFC 5321 §4.1.3 (RFC 5234 §2.3: "IPv6:" is case-insensitive) */
	{ "user@[ipv6:::1]", "user@[IPv6:::1]", NULL },
	/* RFC 5321 §4.1.2 Domain: one sub-domain is grammatical */
	{ "user@localhost", "user@localhost", NULL },
	/* RFC 5321 §4.1.2 Let-dig: an all-numeric TLD is grammatical */
	{ "user@example.123", "user@example.123", NULL },
	/* RFC 5321 §4.1.2 (RFC 1123 §2.1): a label may start with a digit */
	{ "user@3com.example", "user@3com.example", NULL },
	/* RFC 5321 §4.1.2 Ldh-str: hyphens inside a label */
	{ "user@a-b--c.example", "user@a-b--c.example", NULL },
	/* RFC 5890 §2.3.2.1: a valid A-label passes as it is */
	{ "user@xn--bcher-kva.de", "user@xn--bcher-kva.de", NULL },
	/* RFC 5890 §2.3.2.1: A-labels are lowered too */
	{ "user@XN--Bcher-KVA.de", "user@xn--bcher-kva.de", NULL },
	/* RFC 5891 §4.4: U-label to A-label */
	{ "user@bücher.de", "user@xn--bcher-kva.de", NULL },
	/* RFC 5891 §4.4: CJK labels (广告 is xn--4rr70v) */
	{ "user@例子.广告", "user@xn--fsqu00a.xn--4rr70v", NULL },
	/* RFC 5895 §2 (UTS #46 mapping): upper-case U-labels are mapped */
	{ "user@BÜCHER.DE", "user@xn--bcher-kva.de", NULL },
	/* RFC 5892 (ß is PVALID): non-transitional keeps ß */
	{ "user@faß.de", "user@xn--fa-hia.de", NULL },
	/* RFC 5895 §2 (UTS #46): the ideographic full stop separates labels */
	{ "user@例子。广告", "user@xn--fsqu00a.xn--4rr70v", NULL },
	/* RFC 5321 §4.5.3.1.1: a 64-octet local part */
	{ L64 "@example.org", L64 "@example.org", NULL },
	/* RFC 5321 §4.5.3.1.2 (RFC 1035 §2.3.4): a 63-octet label */
	{ "a@" L63 ".org", "a@" L63 ".org", NULL },
	/* RFC 5321 §4.5.3.1.2: a 252-octet domain (253 leaves no room, below) */
	{ "a@" D252, "a@" D252, NULL },
	/* RFC 5321 §4.5.3.1.3: a path of 256 octets, 254 without "<>" */
	{ L64 "@" D189, L64 "@" D189, NULL },

	/* ---- refused ---- */
	/* RFC 5321 §4.1.2 Mailbox: both parts are required */
	{ "", NULL, "empty address" },
	{ "plainaddress", NULL, "missing '@'" },
	{ "a@b@example.org", NULL, "more than one '@'" },
	{ "@example.org", NULL, "empty local part" },
	{ "user@", NULL, "empty domain" },
	/* RFC 5321 §4.1.2 Quoted-string allows "", but it names no mailbox */
	{ "\"\"@example.org", NULL, "empty local part" },
	/* RFC 5322 §3.2.3 dot-atom-text: no leading, trailing or double dot */
	{ ".user@example.org", NULL, "local part starts with a dot" },
	{ "user.@example.org", NULL, "local part ends with a dot" },
	{ "us..er@example.org", NULL, "consecutive dots in local part" },
	/* RFC 3696 §3: the same example */
	{ "Abc..123@example.com", NULL, "consecutive dots" },
	/* RFC 5321 §4.1.2 Domain: no empty label */
	{ "user@.example.org", NULL, "domain starts with a dot" },
	{ "user@example..org", NULL, "consecutive dots in domain" },
	{ "user@example.com.", NULL, "domain ends with a dot" },
	/* RFC 5322 §3.2.3: space is not atext */
	{ "john doe@example.org", NULL, "unquoted space" },
	{ " user@example.org", NULL, "unquoted space" },
	{ "user@example.org ", NULL, "unquoted space" },
	{ "user@exa mple.org", NULL, "unquoted space" },
	/* RFC 5322 §4.4 obs-local-part: CFWS around the dots */
	{ "a . b@example.org", NULL, "unquoted space" },
	/* RFC 5321 §4.1.2: qtextSMTP and atext exclude HT, CR, LF, controls */
	{ "user\t@example.org", NULL, "tab" },
	{ "user\r@example.org", NULL, "CR or LF" },
	{ "user@example.org\n", NULL, "CR or LF" },
	{ "user@example.org\r\nBcc: x@example.org", NULL, "CR or LF" },
	{ "user\x01@example.org", NULL, "control character" },
	{ "user\x7f@example.org", NULL, "control character" },
	/* RFC 5322 §4.4 obs-qtext: controls inside quotes */
	{ "\"a\x01z\"@example.org", NULL, "control character" },
	{ "\"a\tz\"@example.org", NULL, "tab" },
	/* RFC 5322 §4.4 obs-qp: an escaped control */
	{ "\"a\\\x01z\"@example.org", NULL, "control character" },
	/* RFC 5322 §3.2.2 CFWS: RFC 5321 has no comments */
	{ "user(comment)@example.org", NULL, "comments" },
	{ "(comment)user@example.org", NULL, "comments" },
	{ "user@(comment)example.org", NULL, "comments" },
	{ "user@example.org(comment)", NULL, "comments" },
	/* RFC 5322 §3.4.1 addr-spec: no angle brackets around a bare address */
	{ "<user@example.org>", NULL, "angle brackets" },
	{ "user@example.org>", NULL, "angle brackets" },
	/* RFC 5322 §4.4 obs-local-part: word *("." word) */
	{ "\"a\".b@example.org", NULL, "obsolete syntax" },
	{ "a.\"b\"@example.org", NULL, "obsolete syntax" },
	/* RFC 5321 §4.1.2, Appendix C: source routes */
	{ "@a.example,@b.example:user@example.org", NULL, "source route" },
	/* RFC 5321 §4.1.2 Quoted-string: the quote must close */
	{ "\"unterminated@example.org", NULL, "unterminated" },
	{ "\"a\\\"@example.org", NULL, "unterminated" },
	{ "\"a\"b@example.org", NULL, "text after the quoted local part" },
	/* RFC 5322 §3.2.3: specials are not atext */
	{ "a\\b@example.org", NULL, "invalid character in local part" },
	{ "a,b@example.org", NULL, "invalid character in local part" },
	{ "a:b@example.org", NULL, "invalid character in local part" },
	{ "a[b]@example.org", NULL, "invalid character in local part" },
	/* RFC 6531 §3.3: non-ASCII local parts need SMTPUTF8 */
	{ "josé@bücher.de", NULL, "SMTPUTF8" },
	{ "用户@例子.广告", NULL, "SMTPUTF8" },
	{ "\"josé\"@example.org", NULL, "SMTPUTF8" },
	/* RFC 5321 §4.5.3.1.1: 64 octets at most */
	{ L65 "@example.org", NULL, "local part longer than 64 octets" },
	{ "\"" L63 "\"@example.org", NULL, "local part longer than 64 octets" },
	/* RFC 5321 §4.5.3.1.2 (RFC 1035 §2.3.4): labels of 63 octets at most */
	{ "a@" L64 ".org", NULL, "domain label longer than 63 octets" },
	/* RFC 5321 §4.5.3.1.2: 253 octets at most (255 less brackets) */
	{ "a@" D254, NULL, "domain longer than 253 octets" },
	/* RFC 5321 §4.5.3.1.3: the whole path, 254 octets without "<>" */
	{ "a@" D253, NULL, "address longer than 254 octets" },
	{ L64 "@" D190, NULL, "address longer than 254 octets" },
	/* RFC 5321 §4.5.3.1.3: counted after IDNA (225 octets as typed) */
	{ L64 "@" L63 "." CJK12 "广告", NULL, "address longer than 254 octets" },
	/* RFC 5321 §4.1.2 Ldh-str: no hyphen at either end of a label */
	{ "user@-example.org", NULL, "hyphen" },
	{ "user@example-.org", NULL, "hyphen" },
	{ "user@example.org-", NULL, "hyphen" },
	/* RFC 5321 §4.1.2 Let-dig / Ldh-str: no underscore, no other symbol */
	{ "user@ex_ample.org", NULL, "underscore" },
	{ "user@exa!mple.org", NULL, "invalid character in domain" },
	{ "user@exa\"mple.org", NULL, "invalid character in domain" },
	/* RFC 5321 §4.1.3 Snum: 0-255, four of them */
	{ "user@[192.0.2.256]", NULL, "invalid IPv4" },
	{ "user@[192.0.2]", NULL, "invalid IPv4" },
	{ "user@[192.0.2.1.5]", NULL, "invalid IPv4" },
	{ "user@[192.0.2.a]", NULL, "invalid IPv4" },
	/* RFC 5321 §4.1.3 Snum allows "000", refused: inet_aton reads octal */
	{ "user@[192.000.2.1]", NULL, "invalid IPv4" },
	/* RFC 5321 §4.1.3 IPv6-addr */
	{ "user@[IPv6:2001:db8::g]", NULL, "invalid IPv6" },
	{ "user@[IPv6:192.0.2.1]", NULL, "invalid IPv6" },
	{ "user@[IPv6:fe80::1%eth0]", NULL, "invalid IPv6" },
	/* RFC 5321 §4.1.3 IPv6-comp: "::" stands for two or more groups */
	{ "user@[IPv6:1:2:3:4:5:6:7::]", NULL, "invalid IPv6" },
	/* RFC 5321 §4.1.3: an IPv6 address needs its "IPv6:" tag */
	{ "user@[2001:db8::1]", NULL, "unsupported address literal" },
	/* RFC 5321 §4.1.3 General-address-literal: no tags are registered */
	{ "user@[x400:c=us]", NULL, "unsupported address literal" },
	/* RFC 5321 §4.1.2: the literal is the whole domain */
	{ "user@[192.0.2.1", NULL, "address literal" },
	{ "user@[192.0.2.1].org", NULL, "address literal" },
	/* RFC 5891 §5.4: an A-label must decode */
	{ "user@xn--zz.de", NULL, "punycode" },
	/* RFC 5892 §2.6: symbols are DISALLOWED */
	{ "user@☃.net", NULL, "disallowed" },
	/* RFC 5891 §4.2.3.1: no hyphen at either end of a U-label */
	{ "user@ä-.de", NULL, "hyphen" },
	/* RFC 5890 §2.3.2.1: U-labels are UTF-8 */
	{ "user@b\xfc" "cher.de", NULL, "invalid UTF-8" },
};

static void test_address_table(void **state)
{
	size_t failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct addr_case *c = &cases[i];
		char *norm = (char *)"sentinel";
		const char *why = NULL;
		int rc = address_normalize(c->in, &norm, &why);
		int ok = c->out ? !rc && norm && !strcmp(norm, c->out)
				: rc == -1 && !norm && why && strstr(why, c->why);

		if (!ok) {
			print_error("case %zu '%s': got rc=%d '%s' (%s), want '%s' (%s)\n",
				    i, c->in, rc, norm ? norm : "", why ? why : "-",
				    c->out ? c->out : "", c->why ? c->why : "-");
			failures++;
		}
		free(norm);
	}
	assert_int_equal(failures, 0);
}

static void test_table_is_large(void **state)
{
	(void)state;
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 80);
}

/* ---- mailboxes ---------------------------------------------------------- */

struct mbox_case {
	const char *in;
	const char *display;	/* NULL when none */
	const char *addr;	/* NULL if refused */
	const char *why;
};

static const struct mbox_case mboxes[] = {
	/* RFC 5322 §3.4 name-addr */
	{ "Ada Lovelace <Ada@Example.org>", "Ada Lovelace", "Ada@example.org",
	  NULL },
	/* RFC 5322 §3.2.4: a quoted display name holding a comma */
	{ "\"Lovelace, Ada\" <ada@example.org>", "Lovelace, Ada",
	  "ada@example.org", NULL },
	/* RFC 5322 §3.2.4 quoted-pair inside the display name */
	{ "\"Ada \\\"The Countess\\\" L.\" <ada@example.org>",
	  "Ada \"The Countess\" L.", "ada@example.org", NULL },
	/* RFC 5322 §3.4 mailbox = addr-spec */
	{ "ada@example.org", NULL, "ada@example.org", NULL },
	/* RFC 5322 §3.4 angle-addr without a name; spaces around are trimmed */
	{ "  <ada@example.org>  ", NULL, "ada@example.org", NULL },
	{ "  ada@example.org\t", NULL, "ada@example.org", NULL },
	/* RFC 5322 §3.4 angle-addr = [CFWS] "<" addr-spec ">" [CFWS] */
	{ "Ada<ada@example.org>", "Ada", "ada@example.org", NULL },
	{ "Ada < ada@example.org >", "Ada", "ada@example.org", NULL },
	/* RFC 6532 §3.2: UTF-8 display names (encoded later, RFC 2047) */
	{ "张三 <zhang@example.cn>", "张三", "zhang@example.cn", NULL },
	{ "\"李四\" <li@例子.广告>", "李四", "li@xn--fsqu00a.xn--4rr70v", NULL },
	{ "أدا لوفلايس <ada@example.org>", "أدا لوفلايس", "ada@example.org",
	  NULL },
	/* RFC 5322 §3.2.4: an empty quoted name is no name */
	{ "\"\" <ada@example.org>", NULL, "ada@example.org", NULL },
	/* RFC 5322 §2.2: header injection */
	{ "Ada\r\nBcc: eve@example.org <ada@example.org>", NULL, NULL, "CR or LF" },
	{ "\"Ada\nL\" <ada@example.org>", NULL, NULL, "CR or LF" },
	{ "Ada <ada@example.org>\r\n", NULL, NULL, "CR or LF" },
	/* RFC 5322 §3.2.2: comments are not supported */
	{ "Ada (work) <ada@example.org>", NULL, NULL, "comments" },
	/* RFC 5322 §3.2.4: an unterminated quoted name */
	{ "\"Ada <ada@example.org>", NULL, NULL, "unterminated" },
	{ "\"Ada\" x <ada@example.org>", NULL, NULL, "text after" },
	/* RFC 5322 §3.4: unbalanced angle brackets */
	{ "ada@example.org>", NULL, NULL, "'>' without '<'" },
	{ "Ada <ada@example.org", NULL, NULL, "unquoted space" },
	/* RFC 5321 §4.1.2: the address inside is checked */
	{ "Ada <ada@@example.org>", NULL, NULL, "more than one '@'" },
	{ "Ada <>", NULL, NULL, "empty address" },
	{ "", NULL, NULL, "empty address" },
	/* display-name rules: controls and invalid UTF-8 */
	{ "Ada\x01 <ada@example.org>", NULL, NULL, "control character" },
	{ "\xc3" "A <ada@example.org>", NULL, NULL, "invalid UTF-8" },
};

static void test_mailboxes(void **state)
{
	size_t failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(mboxes) / sizeof(mboxes[0]); i++) {
		const struct mbox_case *c = &mboxes[i];
		char *display = (char *)"x", *addr = (char *)"x";
		const char *why = NULL;
		int rc = address_parse_mailbox(c->in, &display, &addr, &why);
		int ok;

		if (c->addr)
			ok = !rc && addr && !strcmp(addr, c->addr) &&
			     (c->display ? display && !strcmp(display, c->display)
					 : !display);
		else
			ok = rc == -1 && !display && !addr && why &&
			     strstr(why, c->why);
		if (!ok) {
			print_error("mailbox %zu '%s': rc=%d name '%s' addr '%s' (%s)\n",
				    i, c->in, rc, display ? display : "(null)",
				    addr ? addr : "(null)", why ? why : "-");
			failures++;
		}
		free(display);
		free(addr);
	}
	assert_int_equal(failures, 0);
}

static void test_long_display_name(void **state)
{
	char name[300], line[400];
	char *display, *addr;
	const char *why = NULL;

	(void)state;
	memset(name, 'n', 256);
	name[256] = '\0';
	snprintf(line, sizeof(line), "%s <ada@example.org>", name);
	assert_int_equal(address_parse_mailbox(line, &display, &addr, &why), 0);
	assert_int_equal(strlen(display), 256);
	free(display);
	free(addr);
	strcat(name, "n");
	snprintf(line, sizeof(line), "%s <ada@example.org>", name);
	assert_int_equal(address_parse_mailbox(line, &display, &addr, &why), -1);
	assert_non_null(strstr(why, "longer than 256 octets"));
	assert_null(display);
	assert_null(addr);
}

/* ---- display names ------------------------------------------------------ */

static void test_check_name(void **state)
{
	(void)state;
	assert_null(address_check_name("Ada Lovelace"));
	assert_null(address_check_name("张三"));
	assert_null(address_check_name("مرحبا"));
	assert_null(address_check_name("Ada 👩‍🔬"));
	assert_null(address_check_name(""));
	assert_non_null(strstr(address_check_name("a\rb"), "CR or LF"));
	assert_non_null(strstr(address_check_name("a\nb"), "CR or LF"));
	assert_non_null(strstr(address_check_name("a\tb"), "control"));
	assert_non_null(strstr(address_check_name("a\x7f"), "control"));
	/* U+0085 NEXT LINE, a C1 control */
	assert_non_null(strstr(address_check_name("a\xc2\x85"), "control"));
	/* overlong '/', a lone surrogate, a stray continuation byte */
	assert_non_null(strstr(address_check_name("\xc0\xaf"), "UTF-8"));
	assert_non_null(strstr(address_check_name("\xed\xa0\x80"), "UTF-8"));
	assert_non_null(strstr(address_check_name("a\x80"), "UTF-8"));
	assert_non_null(strstr(address_check_name("\xe4\xb8"), "UTF-8"));
}

/* ---- canonical identity ------------------------------------------------ */

struct canon_case {
	const char *in;		/* as typed: normalised first */
	const char *canon;
};

static const struct canon_case canons[] = {
	{ "ada@example.org", "ada@example.org" },
	/* case-insensitive local part: what every large provider does */
	{ "Ada@Example.ORG", "ada@example.org" },
	{ "ADA@example.org", "ada@example.org" },
	{ "Erase.Me@example.org", "erase.me@example.org" },
	/* dots and plus-tags are part of the identity (no provider rules) */
	{ "First.Last+News@example.org", "first.last+news@example.org" },
	/* needless quotes go: a quoted dot-atom is the dot-atom */
	{ "\"ada\"@example.org", "ada@example.org" },
	{ "\"Ada\"@example.org", "ada@example.org" },
	{ "\"a.b\"@example.org", "a.b@example.org" },
	{ "\"!#$%&'*+-/=?^_`{|}~\"@example.org", "!#$%&'*+-/=?^_`{|}~@example.org" },
	/* a needless quoted-pair is the character itself */
	{ "\"j\\ohn\"@example.org", "john@example.org" },
	/* quotes that are needed stay, content lower-cased */
	{ "\"John Doe\"@example.org", "\"john doe\"@example.org" },
	{ "\"John\\ Doe\"@example.org", "\"john doe\"@example.org" },
	{ "\"a..b\"@example.org", "\"a..b\"@example.org" },
	{ "\".a\"@example.org", "\".a\"@example.org" },
	{ "\"a.\"@example.org", "\"a.\"@example.org" },
	{ "\"Abc@Def\"@example.com", "\"abc@def\"@example.com" },
	/* only '"' and '\\' stay escaped */
	{ "\"a\\\"B\"@example.org", "\"a\\\"b\"@example.org" },
	{ "\"a\\\\B\"@example.org", "\"a\\\\b\"@example.org" },
	/* IDNA: U-labels and A-labels of one domain are one identity */
	{ "User@BÜCHER.de", "user@xn--bcher-kva.de" },
	{ "user@XN--Bcher-KVA.de", "user@xn--bcher-kva.de" },
	{ "Ada@例子.广告", "ada@xn--fsqu00a.xn--4rr70v" },
	/* address literals */
	{ "User@[192.0.2.1]", "user@[192.0.2.1]" },
	{ "user@[IPv6:2001:DB8::1]", "user@[ipv6:2001:db8::1]" },
};

static char *canonical(const char *in)
{
	struct buf out = BUF_INIT;
	const char *why = NULL;
	char *norm = NULL;

	assert_int_equal(address_normalize(in, &norm, &why), 0);
	address_canonical(norm, &out);
	free(norm);
	return buf_detach(&out, NULL);
}

static void test_canonical_table(void **state)
{
	size_t failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(canons) / sizeof(canons[0]); i++) {
		char *got = canonical(canons[i].in);
		char *again = canonical(got);

		/* the canonical form is itself an address, its own identity */
		if (strcmp(got, canons[i].canon) || strcmp(again, got)) {
			print_error("case %zu '%s': got '%s' then '%s', want '%s'\n",
				    i, canons[i].in, got, again, canons[i].canon);
			failures++;
		}
		free(got);
		free(again);
	}
	assert_int_equal(failures, 0);
}

/* The forms of the issue's reproductions are one person; others are not. */
static void test_canonical_same_person(void **state)
{
	static const char *const ada[] = {
		"ada@example.org", "ADA@example.org", "Ada@EXAMPLE.ORG",
		"\"ada\"@example.org", "\"ADA\"@Example.org", "\"a\\da\"@example.org",
	};
	static const char *const others[] = {
		"ada.l@example.org", "ada@example.com", "\"ada \"@example.org",
		"ada+x@example.org",
	};
	char *first = canonical(ada[0]);

	(void)state;
	for (size_t i = 1; i < sizeof(ada) / sizeof(ada[0]); i++) {
		char *c = canonical(ada[i]);

		assert_string_equal(c, first);
		free(c);
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		char *c = canonical(others[i]);

		assert_string_not_equal(c, first);
		free(c);
	}
	free(first);
}

/* Stored data may be anything: the result is defined, nothing breaks. */
static void test_canonical_of_anything(void **state)
{
	static const char *const in[][2] = {
		{ "", "" }, { "NoAt", "noat" }, { "\"", "\"" }, { "\"@X", "\"@x" },
		{ "\"\"@X", "\"\"@x" }, { "\"a\\\"@X", "\"a\\\\\"@x" },
		{ "A@B@C", "a@b@c" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct buf out = BUF_INIT;

		buf_adds(&out, "kept:");
		address_canonical(in[i][0], &out);
		assert_memory_equal(out.data, "kept:", 5);
		assert_string_equal(out.data + 5, in[i][1]);
		buf_release(&out);
	}
}

static void test_outputs_on_failure(void **state)
{
	char *norm = (char *)"x";
	const char *why = NULL;

	(void)state;
	assert_int_equal(address_normalize(NULL, &norm, &why), -1);
	assert_null(norm);
	assert_string_equal(why, "empty address");
}

/* ---- edges, spec-style: the boundary of every character class, length
 * and count, on both sides ------------------------------------------------- */

static const struct addr_case edges[] = {
	/* RFC 5321 §2.4: every upper-case letter is lowered in the domain,
	 * 'A' and 'Z' included; the local part keeps its case */
	{ "AZaz09@AZ.ZA", "AZaz09@az.za", NULL },
	{ "USER@ZEBRA.ZZ", "USER@zebra.zz", NULL },
	{ "u@a-z.0-9.Z", "u@a-z.0-9.z", NULL },
	/* RFC 5322 §3.2.3 atext around the letters: '`' '{' '/' yes, '[' ':' no */
	{ "`{/@example.org", "`{/@example.org", NULL },
	{ "a[@example.org", NULL, "invalid character in local part" },
	{ "a@b@example.org", NULL, "more than one '@'" },
	/* RFC 5321 §4.1.2 Let-dig: the ASCII just outside the letters and
	 * digits is refused in a domain */
	{ "u@a`b.org", NULL, "invalid character in domain" },
	{ "u@a{b.org", NULL, "invalid character in domain" },
	{ "u@a[b.org", NULL, "invalid character in domain" },
	{ "u@a/b.org", NULL, "invalid character in domain" },
	{ "u@a:b.org", NULL, "invalid character in domain" },
	{ "u@a b.org", NULL, "unquoted space" },
	/* bytes from 0x80 on are UTF-8, checked as such */
	{ "u@b\x80.de", NULL, "invalid UTF-8" },
	{ "a\x80@example.org", NULL, "SMTPUTF8" },
	{ "\"a\x80\"@example.org", NULL, "SMTPUTF8" },
	/* a control is named as such in the first place too */
	{ "\x01" "a@example.org", NULL, "control character" },
	{ "\ta@example.org", NULL, "tab" },
	{ "\x7f" "a@example.org", NULL, "control character" },
	/* RFC 5321 §4.5.3.1.1: a quoted local part of 64 octets, quotes in */
	{ "\"" L62 "\"@example.org", "\"" L62 "\"@example.org", NULL },
	/* RFC 5890 §2.3.2.1: an A-label in a later label is checked too,
	 * "xn--" inside a label is no A-label */
	{ "u@mail.XN--bcher-kva.de", "u@mail.xn--bcher-kva.de", NULL },
	{ "u@mail.xn--zz.de", NULL, "punycode" },
	{ "u@axn--b.de", "u@axn--b.de", NULL },
	/* RFC 5321 §4.1.3 Snum: the digits' edges and 255 */
	{ "u@[9.99.199.255]", "u@[9.99.199.255]", NULL },
	{ "u@[1.2.3.04]", NULL, "invalid IPv4" },
	{ "u@[1.2.3.]", NULL, "invalid IPv4" },
	{ "u@[.1.2.3]", NULL, "invalid IPv4" },
	{ "u@[1.2.3.4.]", NULL, "invalid IPv4" },
	{ "u@[1.2.3.1000]", NULL, "invalid IPv4" },
	{ "u@[1.2.3.25a]", NULL, "invalid IPv4" },
	{ "u@[]", NULL, "invalid IPv4" },
	{ "u@[", NULL, "address literal must be the whole domain" },
	{ "u@[]]", NULL, "address literal must be the whole domain" },
	{ "u@[1.2.3.4]]", NULL, "address literal must be the whole domain" },
	{ "u@[1.2.3.4", NULL, "address literal must be the whole domain" },
	{ "u@[1.2]3.4]", NULL, "address literal must be the whole domain" },
	/* RFC 5895 §2 (UTS #46): dots that the mapping makes are checked too */
	{ "u@例子。", NULL, "domain ends with a dot" },
	{ "u@。例子", NULL, "domain starts with a dot" },
	{ "u@例子。。广告", NULL, "consecutive dots in domain" },
	/* RFC 5321 §4.1.3: "IPv6:" with nothing after it is a general tag */
	{ "u@[IPv6:]", NULL, "unsupported address literal" },
	{ "u@[IPV6:::]", "u@[IPv6:::]", NULL },
	/* RFC 5321 §4.1.3 IPv6-comp: at most 6 groups beside "::" */
	{ "u@[IPv6:1:2:3:4:5:6::]", "u@[IPv6:1:2:3:4:5:6::]", NULL },
	{ "u@[IPv6:::1:2:3:4:5:6]", "u@[IPv6:::1:2:3:4:5:6]", NULL },
	{ "u@[IPv6:1:2:3::4:5:6]", "u@[IPv6:1:2:3::4:5:6]", NULL },
	{ "u@[IPv6:1::2:3:4:5:6:7]", NULL, "invalid IPv6" },
	{ "u@[IPv6:1:2:3:4:5:6::7]", NULL, "invalid IPv6" },
	{ "u@[IPv6:A:B:C:D:E:F::]", "u@[IPv6:a:b:c:d:e:f::]", NULL },
	/* RFC 5321 §4.1.3 IPv6v4-comp: at most 4 beside "::" and the IPv4 */
	{ "u@[IPv6:1:2:3:4::1.2.3.4]", "u@[IPv6:1:2:3:4::1.2.3.4]", NULL },
	{ "u@[IPv6:::1.2.3.4]", "u@[IPv6:::1.2.3.4]", NULL },
	{ "u@[IPv6:1:2:3:4:5::1.2.3.4]", NULL, "invalid IPv6" },
	/* RFC 5321 §4.1.3 IPv6v4-full: six groups and the IPv4, no "::" */
	{ "u@[IPv6:1:2:3:4:5:6:1.2.3.4]", "u@[IPv6:1:2:3:4:5:6:1.2.3.4]", NULL },
	/* the longest text form, 45 octets; one more is refused unread */
	{ "u@[IPv6:ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]",
	  "u@[IPv6:ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]", NULL },
	{ "u@[IPv6:00ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]", NULL,
	  "invalid IPv6" },
};

static const struct mbox_case mbox_edges[] = {
	/* RFC 5322 §3.2.2 WSP is space and tab, trimmed on every side */
	{ "\tAda\t<\tada@example.org\t>\t", "Ada", "ada@example.org", NULL },
	{ "\"Ada\"\t<ada@example.org>", "Ada", "ada@example.org", NULL },
	{ "<ada@example.org>", NULL, "ada@example.org", NULL },
	{ "A  B <ada@example.org>", "A  B", "ada@example.org", NULL },
	/* RFC 5322 §3.2.4: a quoted-pair is the character itself */
	{ "\"a\\\\\" <ada@example.org>", "a\\", "ada@example.org", NULL },
	{ "\"a\\\" <ada@example.org>", NULL, NULL, "unterminated" },
	{ "\"a\" <ada@example.org>", "a", "ada@example.org", NULL },
	/* what a bare name may not hold */
	{ "x> <ada@example.org>", NULL, NULL, "'>' in display name" },
	{ "x\\ <ada@example.org>", NULL, NULL, "quote or backslash" },
	{ "x\" <ada@example.org>", NULL, NULL, "quote or backslash" },
	{ "x) <ada@example.org>", NULL, NULL, "comments" },
	{ "(x <ada@example.org>", NULL, NULL, "comments" },
	{ "\\x <ada@example.org>", NULL, NULL, "quote or backslash" },
	{ ">x <ada@example.org>", NULL, NULL, "'>' in display name" },
	/* C1 ends at U+009F; U+00A0 is a (no-break) space */
	{ "a\xc2\x9f <ada@example.org>", NULL, NULL, "control character" },
	{ "a\xc2\xa0" "b <ada@example.org>", "a\xc2\xa0" "b", "ada@example.org",
	  NULL },
	{ "~ <ada@example.org>", "~", "ada@example.org", NULL },
	{ "a\x1f <ada@example.org>", NULL, NULL, "control character" },
	{ ">", NULL, NULL, "'>' without '<'" },
	{ "<>", NULL, NULL, "empty address" },
	{ "Ada <  >", NULL, NULL, "empty address" },
	{ "Ada < \t>", NULL, NULL, "empty address" },
};

static int addr_case_ok(const struct addr_case *c, size_t i)
{
	char *norm = (char *)"sentinel";
	const char *why = NULL;
	int rc = address_normalize(c->in, &norm, &why);
	int ok = c->out ? !rc && norm && !strcmp(norm, c->out)
			: rc == -1 && !norm && why && strstr(why, c->why);

	if (!ok)
		print_error("edge %zu '%s': got rc=%d '%s' (%s), want '%s' (%s)\n",
			    i, c->in, rc, norm ? norm : "", why ? why : "-",
			    c->out ? c->out : "", c->why ? c->why : "-");
	free(norm);
	return ok;
}

static int mbox_case_ok(const struct mbox_case *c, size_t i)
{
	char *display = (char *)"x", *addr = (char *)"x";
	const char *why = NULL;
	int rc = address_parse_mailbox(c->in, &display, &addr, &why);
	int ok;

	if (c->addr)
		ok = !rc && addr && !strcmp(addr, c->addr) &&
		     (c->display ? display && !strcmp(display, c->display)
				 : !display);
	else
		ok = rc == -1 && !display && !addr && why && strstr(why, c->why);
	if (!ok)
		print_error("mailbox edge %zu '%s': rc=%d name '%s' addr '%s' (%s)\n",
			    i, c->in, rc, display ? display : "(null)",
			    addr ? addr : "(null)", why ? why : "-");
	free(display);
	free(addr);
	return ok;
}

static void test_edges(void **state)
{
	size_t failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		failures += !addr_case_ok(&edges[i], i);
	for (size_t i = 0; i < sizeof(mbox_edges) / sizeof(mbox_edges[0]); i++)
		failures += !mbox_case_ok(&mbox_edges[i], i);
	assert_int_equal(failures, 0);
}

static void test_mailbox_null(void **state)
{
	char *display = (char *)"x", *addr = (char *)"x";
	const char *why = NULL;

	(void)state;
	assert_int_equal(address_parse_mailbox(NULL, &display, &addr, &why), -1);
	assert_null(display);
	assert_null(addr);
	assert_string_equal(why, "empty address");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_large),
		cmocka_unit_test(test_address_table),
		cmocka_unit_test(test_mailboxes),
		cmocka_unit_test(test_long_display_name),
		cmocka_unit_test(test_check_name),
		cmocka_unit_test(test_outputs_on_failure),
		cmocka_unit_test(test_canonical_table),
		cmocka_unit_test(test_canonical_same_person),
		cmocka_unit_test(test_canonical_of_anything),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_mailbox_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
