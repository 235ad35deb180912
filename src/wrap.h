#ifndef BULLETIN_WRAP_H
#define BULLETIN_WRAP_H

/*
 * Word wrapping for the plain-text part, by display width (utf8.h).
 *
 * Breaks at spaces, and before or after any wide (CJK) character, except that a line never starts with closing punctuation
 * (，。、；：？！）」』》〉】 and their ASCII kin) nor ends with opening
 * punctuation (（「『《〈【). Latin words are never split; a run without
 * a break opportunity that is wider than the line (a long URL) is put on
 * a line of its own and left whole, over-long.
 */

#include <stddef.h>

#include "buf.h"

/*
 * Wraps the paragraph text (len bytes of UTF-8, where runs of spaces,
 * tabs and newlines count as one space) to width columns, and appends
 * the lines to out, each ending in "\n". The first line starts with
 * first_prefix, the others with rest_prefix (indentation, "> ", a list
 * marker); prefix widths count towards width.
 */
void wrap_paragraph(struct buf *out, const char *text, size_t len,
		    size_t width, const char *first_prefix,
		    const char *rest_prefix);

#endif
