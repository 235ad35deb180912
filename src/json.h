#ifndef BULLETIN_JSON_H
#define BULLETIN_JSON_H

/*
 * Writing JSON: just enough for machine-readable output. UTF-8 passes
 * through unchanged; '"', '\' and control characters are escaped, so
 * the result is valid JSON whatever the input bytes (invalid UTF-8 is
 * the caller's business: bulletin checks text on the way in).
 */

#include <stddef.h>

#include "buf.h"

/* Appends s (len bytes) as a JSON string, quotes included. */
void json_add_string(struct buf *out, const char *s, size_t len);
/* Appends s as a JSON string, or null when s is NULL. */
void json_add_string_or_null(struct buf *out, const char *s);

#endif
