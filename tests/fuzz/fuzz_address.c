/*
 * The address parsers (address.h) on any string. Properties:
 *  - success gives an output and failure a reason, never both, never
 *    neither;
 *  - a normalised address is a fixed point: normalising it again
 *    succeeds and changes nothing;
 *  - nothing accepted holds CR, LF or another control character (the
 *    result ends up in headers);
 *  - a mailbox's display name passes address_check_name.
 */
#include <string.h>

#include "address.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static void check_normalized(const char *addr)
{
	const char *why = NULL;
	char *again = NULL;

	fuzz_check(strchr(addr, '@'));
	fuzz_check(!has_control(addr));
	fuzz_check(address_normalize(addr, &again, &why) == 0);
	fuzz_check(again && !strcmp(again, addr));
	free(again);
}

static void check_normalize(const char *in)
{
	const char *why = NULL;
	char *norm = NULL;

	if (address_normalize(in, &norm, &why) == 0) {
		fuzz_check(norm);
		check_normalized(norm);
	} else {
		fuzz_check(!norm && why && *why);
	}
	free(norm);
}

static void check_mailbox(const char *in)
{
	char *display = NULL, *addr = NULL;
	const char *why = NULL;

	if (address_parse_mailbox(in, &display, &addr, &why) == 0) {
		fuzz_check(addr);
		check_normalized(addr);
		fuzz_check(!display || !address_check_name(display));
	} else {
		fuzz_check(!display && !addr && why && *why);
	}
	free(display);
	free(addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *why;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	check_normalize(s);
	check_mailbox(s);
	why = address_check_name(s);
	fuzz_check(!why || *why);
	if (!why)
		fuzz_check(!strchr(s, '\r') && !strchr(s, '\n'));
	free(s);
	return 0;
}
