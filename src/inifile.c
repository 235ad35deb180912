#include "inifile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

struct parser {
	const char *name;
	int         line;
	char        section[INIFILE_LINE_MAX + 1];	/* "" before the first */
	inifile_fn *fn;
	void       *user;
};

const char *inifile_text_problem(const char *s, size_t n)
{
#define STR(x) #x
#define XSTR(x) STR(x)
	if (n > INIFILE_LINE_MAX)
		return "longer than " XSTR(INIFILE_LINE_MAX) " bytes";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		unsigned char next = i + 1 < n ? (unsigned char)s[i + 1] : 0;

		if (!ch)
			return "NUL bytes are not allowed";
		if (ch == '\r' || ch == '\n')
			return "line breaks are not allowed";
		/* C0 but tab, DEL, and C1 (U+0080-U+009F: 0xc2 0x80-0x9f) */
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f ||
		    (ch == 0xc2 && next >= 0x80 && next < 0xa0))
			return "control characters are not allowed";
	}
	return utf8_valid(s, n) ? NULL : "not valid UTF-8";
}

/* Trims spaces and tabs at both ends, in place. */
static char *trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static int parse_section(struct parser *p, char *s)
{
	size_t n = strlen(s);

	if (s[n - 1] != ']')
		return error("%s:%d: expected [section] or key = value", p->name,
			     p->line);
	s[n - 1] = '\0';
	strcpy(p->section, trim(s + 1));
	return p->fn(p->user, p->line, p->section, NULL, NULL);
}

static int parse_pair(struct parser *p, char *s)
{
	char *eq = strchr(s, '='), *key;

	if (!eq)
		return error("%s:%d: expected [section] or key = value", p->name,
			     p->line);
	*eq = '\0';
	key = trim(s);
	if (!*p->section)
		return error("%s:%d: key '%s' comes before any [section]",
			     p->name, p->line, key);
	return p->fn(p->user, p->line, p->section, key, trim(eq + 1));
}

static int parse_line(struct parser *p, const char *s, size_t n)
{
	char line[INIFILE_LINE_MAX + 1], *t;
	const char *why;

	if (n && s[n - 1] == '\r')
		n--;
	why = inifile_text_problem(s, n);
	if (why)
		return error("%s:%d: bad line: %s", p->name, p->line, why);
	memcpy(line, s, n);
	line[n] = '\0';
	t = trim(line);
	if (!*t || *t == ';' || *t == '#')
		return 0;
	return *t == '[' ? parse_section(p, t) : parse_pair(p, t);
}

int inifile_parse(const char *name, const char *data, size_t len,
		  inifile_fn *fn, void *user)
{
	struct parser *p;
	const char *end;
	int ret = 0;

	if (!len)
		return 0;	/* data may be NULL then */
	p = xcalloc(1, sizeof(*p));
	*p = (struct parser){ .name = name, .fn = fn, .user = user };
	end = data + len;
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		data += 3;	/* the BOM some editors write */
	while (!ret && data < end) {
		const char *nl = memchr(data, '\n', (size_t)(end - data));

		p->line++;
		ret = parse_line(p, data, (size_t)((nl ? nl : end) - data));
		data = nl ? nl + 1 : end;
	}
	free(p);
	return ret;
}

int inifile_read(const char *path, struct buf *out)
{
	char chunk[8192];
	FILE *f = fopen(path, "rb");
	size_t n, start = out->len;
	int ret = 0;

	if (!f)
		return error("cannot open '%s': %s", path, strerror(errno));
	while (out->len - start <= INIFILE_SIZE_MAX &&
	       (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	if (ferror(f))
		ret = error("cannot read '%s': %s", path, strerror(errno));
	else if (out->len - start > INIFILE_SIZE_MAX)
		ret = error("%s: larger than %d bytes: not an INI file", path,
			    INIFILE_SIZE_MAX);
	fclose(f);
	return ret;
}
