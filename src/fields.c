#include "fields.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

void fields_init(struct fields *f, const char *text, size_t len)
{
	f->p = text;
	f->end = text + len;
}

/* The end of the line at p (its '\n', or end). */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl : end;
}

static int blank_line(const char *p, const char *e)
{
	while (p < e && (*p == '\r' || *p == ' ' || *p == '\t'))
		p++;
	return p == e;
}

/* Appends s..e with blanks at both ends dropped, within FIELDS_MAX. */
static void add_trimmed(struct buf *b, const char *s, const char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (b->len && s < e)
		buf_addch(b, ' ');
	if (b->len + (size_t)(e - s) > FIELDS_MAX)
		e = s + (FIELDS_MAX > b->len ? FIELDS_MAX - b->len : 0);
	buf_add(b, s, (size_t)(e - s));
}

int fields_next(struct fields *f, struct buf *name, struct buf *value)
{
	for (;;) {
		const char *s = f->p, *e, *colon;

		if (s >= f->end)
			return -1;
		e = line_end(s, f->end);
		f->p = e < f->end ? e + 1 : e;
		if (blank_line(s, e))
			return 0;
		colon = memchr(s, ':', (size_t)(e - s));
		if (!colon || *s == ' ' || *s == '\t')
			continue;	/* not a field, or a stray continuation */
		buf_reset(name);
		buf_reset(value);
		add_trimmed(name, s, colon);
		add_trimmed(value, colon + 1, e);
		/* folded continuation lines */
		while (f->p < f->end && (*f->p == ' ' || *f->p == '\t')) {
			s = f->p;
			e = line_end(s, f->end);
			if (blank_line(s, e))
				break;
			f->p = e < f->end ? e + 1 : e;
			add_trimmed(value, s, e);
		}
		return 1;
	}
}

int fields_is(const struct buf *name, const char *want)
{
	return !strcasecmp(name->data, want);
}

static int addr_char(int c)
{
	return c > ' ' && c < 127 && !strchr("<>()[],;:\"'", c);
}

int fields_address(const char *s, char *out, size_t size)
{
	const char *at, *b, *e, *lt = strchr(s, '<');
	const char *semi = strchr(s, ';');

	out[0] = '\0';
	if (lt && strchr(lt, '>'))
		s = lt + 1;
	else if (semi)
		s = semi + 1;
	at = strchr(s, '@');
	if (!at || !size)
		return 0;
	for (b = at; b > s && addr_char((unsigned char)b[-1]); b--)
		;
	for (e = at + 1; *e && addr_char((unsigned char)*e); e++)
		;
	while (e > at + 1 && e[-1] == '.')
		e--;
	/* Exchange writes "SMTP=user@host" and "[SMTP:user@host]" */
	if (at - b > 5 && !strncasecmp(b, "smtp=", 5))
		b += 5;
	if (b == at || e == at + 1 || (size_t)(e - b) >= size)
		return 0;
	memcpy(out, b, (size_t)(e - b));
	out[e - b] = '\0';
	return 1;
}
