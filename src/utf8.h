#ifndef BULLETIN_UTF8_H
#define BULLETIN_UTF8_H

/*
 * UTF-8 decoding and display width (the columns a terminal or a
 * fixed-width mail reader gives a character).
 */

#include <stddef.h>
#include <stdint.h>

struct buf;

/*
 * Decodes the UTF-8 sequence at s (n bytes available). Returns its length
 * (1 to 4) and stores the code point in *cp, or returns 0 when the bytes
 * are not valid UTF-8 (truncated, overlong, a surrogate, above U+10FFFF,
 * a stray continuation byte).
 */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* True if all n bytes at s are valid UTF-8. */
int utf8_valid(const char *s, size_t n);

/*
 * Columns the code point takes: 0 for combining marks, zero-width
 * characters (ZWJ, variation selectors) and controls; 2 for East Asian
 * Wide and Fullwidth characters (CJK ideographs, kana, hangul, fullwidth
 * forms and punctuation) and emoji with default emoji presentation;
 * 1 otherwise.
 */
int utf8_cp_width(uint32_t cp);

/* Display width of n bytes at s; an invalid byte counts as one column. */
size_t utf8_width(const char *s, size_t n);

/*
 * Appends n bytes of s to out with everything a terminal would act on
 * made visible, for printing stored text (a reason, a name) safely: C0
 * controls and DEL as \t, \n, \r or \xHH, C1 controls (U+0080 to
 * U+009F, 8-bit CSI among them) as \u0080 and so on, invalid UTF-8
 * bytes as \xHH. Everything else, backslashes included, is copied.
 */
void utf8_escape_controls(struct buf *out, const char *s, size_t n);

#endif
