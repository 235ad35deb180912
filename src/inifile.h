#ifndef BULLETIN_INIFILE_H
#define BULLETIN_INIFILE_H

/*
 * The INI syntax of config/bulletin.conf and templates/theme.ini; what
 * sections and keys mean is the caller's business.
 *
 * Lines: "[section]", "key = value", comments starting with ';' or '#',
 * blank lines. Names and values are trimmed of spaces and tabs; a value
 * runs to the end of its line (no inline comments, quotes or
 * continuations). LF or CRLF line ends, an optional UTF-8 BOM.
 *
 * Refused with error() naming NAME:LINE, and parsing stops: a line of
 * more than INIFILE_LINE_MAX bytes (never split), invalid UTF-8, NUL,
 * CR inside a line or other control characters (C0 but tab, DEL, C1), a
 * line that is neither a section nor key = value, a key before any
 * section. inifile_read refuses a file over INIFILE_SIZE_MAX bytes.
 */

#include <stddef.h>

#include "buf.h"

#define INIFILE_LINE_MAX 4096
#define INIFILE_SIZE_MAX (1024 * 1024)

/*
 * Called once per "[section]" line with key and value NULL, and once per
 * "key = value" line with the current section. The strings live until
 * the call returns. Returns 0 to go on, or -1 (after its own error())
 * to stop.
 */
typedef int inifile_fn(void *user, int line, const char *section,
		       const char *key, const char *value);

/*
 * Parses len bytes at data (NUL bytes are refused, not terminators;
 * data may be NULL when len is 0); name stands for the file in messages.
 * Returns 0, or -1 after an error() or a callback's -1.
 */
int inifile_parse(const char *name, const char *data, size_t len,
		  inifile_fn *fn, void *user);

/* Appends path's contents to out, reading no more than INIFILE_SIZE_MAX
 * bytes (a device or a log given by mistake). Returns 0 or error() -1. */
int inifile_read(const char *path, struct buf *out);

/*
 * Why n bytes at s cannot be a line or a value (longer than
 * INIFILE_LINE_MAX, NUL, CR or LF, a control character, invalid UTF-8),
 * as a static string, or NULL when they can. For values that come from
 * elsewhere, such as the environment.
 */
const char *inifile_text_problem(const char *s, size_t n);

#endif
