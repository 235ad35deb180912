#ifndef BULLETIN_FUZZ_H
#define BULLETIN_FUZZ_H

/*
 * What every harness in tests/fuzz/ shares. A harness defines
 * LLVMFuzzerTestOneInput (and may define LLVMFuzzerInitialize); it is
 * linked either with libFuzzer (make fuzz: clang -fsanitize=fuzzer) or
 * with replay.c (make fuzz-replay: any compiler, ASan+UBSan), which runs
 * the committed corpus once.
 *
 * A harness checks properties, not just "no crash": fuzz_check() aborts,
 * naming the property, which libFuzzer reports as a crash with the input.
 *
 * The code under test reports bad input with error(), on stderr, for
 * nearly every input: fuzz_quiet() (called by each harness's
 * LLVMFuzzerInitialize) points the stderr stream at /dev/null, unless
 * FUZZ_VERBOSE is set. File descriptor 2 stays open, so sanitizer
 * reports, libFuzzer's own output and fuzz_check() still show.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_check(cond) \
	((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))

static inline void fuzz_fail(const char *what, const char *file, int line)
{
	dprintf(2, "%s:%d: property violated: %s\n", file, line, what);
	abort();
}

/*
 * A read-only stream over the input (fmemopen refuses a size of 0, so
 * an empty input reads from an empty string instead). Never NULL.
 */
static inline FILE *fuzz_stream(const uint8_t *data, size_t size)
{
	static char empty[1];
	FILE *f = size ? fmemopen((void *)data, size, "r")
		       : fmemopen(empty, 1, "r");

	if (!f)
		abort();
	if (!size)
		fgetc(f);	/* past the one byte: at the end */
	return f;
}

static inline void fuzz_quiet(void)
{
	FILE *null;

	if (getenv("FUZZ_VERBOSE") || !(null = fopen("/dev/null", "w")))
		return;
	stderr = null;
}

#endif
