#ifndef BULLETIN_TEST_CAPTURE_H
#define BULLETIN_TEST_CAPTURE_H

/*
 * Captures what the code under test writes to stderr, so that a test
 * asserts the message and not only the status:
 *
 *	int saved;
 *	FILE *tmp = capture_start(&saved);
 *	rc = digest_load(&d, dir);
 *	msg = capture_end(tmp, saved);	// caller frees
 */

#include <stdio.h>
#include <unistd.h>

#include "buf.h"

static inline FILE *capture_start(int *saved)
{
	FILE *tmp = tmpfile();

	assert_non_null(tmp);
	fflush(stderr);
	*saved = dup(2);
	dup2(fileno(tmp), 2);
	return tmp;
}

/* Restores stderr and returns what was written to it (caller frees). */
static inline char *capture_end(FILE *tmp, int saved)
{
	struct buf out = BUF_INIT;
	char chunk[4096];
	size_t n;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	while ((n = fread(chunk, 1, sizeof(chunk), tmp)) > 0)
		buf_add(&out, chunk, n);
	fclose(tmp);
	return buf_detach(&out, NULL);
}

#endif
