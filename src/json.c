#include "json.h"

#include <string.h>

/* The short escapes JSON has; other control characters become \u00XX. */
static const char *short_escape(unsigned char c)
{
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\b': return "\\b";
	case '\f': return "\\f";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	default: return NULL;
	}
}

void json_add_string(struct buf *out, const char *s, size_t len)
{
	size_t start = 0;

	buf_addch(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		/* copy the run of plain bytes in one go */
		buf_add(out, s + start, i - start);
		start = i + 1;
		esc = short_escape(c);
		if (esc)
			buf_adds(out, esc);
		else
			buf_addf(out, "\\u%04x", c);
	}
	buf_add(out, s + start, len - start);
	buf_addch(out, '"');
}

void json_add_string_or_null(struct buf *out, const char *s)
{
	if (s)
		json_add_string(out, s, strlen(s));
	else
		buf_adds(out, "null");
}
