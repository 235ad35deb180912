/*
 * inbox_read (inbox.c and the pure parsers behind it: fields.c, dsn.c,
 * arf.c, bounceshape.c) on any message. Properties:
 *  - every count stays within its array, every string is terminated
 *    inside its field and holds no control character (they reach the
 *    store, JSON output and terminals);
 *  - a status is empty or CLASS.SUBJECT.DETAIL with class 2, 4 or 5;
 *  - a message nothing recognised is "other";
 *  - reading the same bytes twice says the same thing.
 */
#include <string.h>

#include "fuzz.h"
#include "inbox.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static void check_text(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	fuzz_check(n < size);
	for (size_t i = 0; i < n; i++)
		fuzz_check((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void check_status(const char *s)
{
	size_t n = strlen(s);

	if (!n)
		return;
	fuzz_check(s[0] == '2' || s[0] == '4' || s[0] == '5');
	fuzz_check(s[1] == '.' && strchr(s + 2, '.'));
	for (size_t i = 0; i < n; i++)
		fuzz_check(s[i] == '.' || (s[i] >= '0' && s[i] <= '9'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct inbox_msg a, b;
	const char *msg = (const char *)data;

	inbox_read(msg, size, "news.example.org", &a);
	fuzz_check(a.kind >= INBOX_HARD && a.kind <= INBOX_OTHER);
	fuzz_check(a.understood || a.kind == INBOX_OTHER);
	fuzz_check(a.nrcpt <= INBOX_MAX_RCPT && a.nto <= INBOX_MAX_CAND &&
		   a.nmsgid <= INBOX_MAX_CAND);
	for (size_t i = 0; i < a.nrcpt; i++)
		check_text(a.rcpt[i], sizeof(a.rcpt[i]));
	for (size_t i = 0; i < a.nto; i++)
		check_text(a.to[i], sizeof(a.to[i]));
	for (size_t i = 0; i < a.nmsgid; i++)
		check_text(a.msgid[i], sizeof(a.msgid[i]));
	check_text(a.status, sizeof(a.status));
	check_status(a.status);
	check_text(a.feedback_type, sizeof(a.feedback_type));
	inbox_read(msg, size, "news.example.org", &b);
	fuzz_check(a.kind == b.kind && a.nrcpt == b.nrcpt &&
		   !strcmp(a.status, b.status) && a.nto == b.nto);
	return 0;
}
