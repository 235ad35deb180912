#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

char buf_empty[1];

void buf_init(struct buf *b, size_t hint)
{
	b->data = buf_empty;
	b->len = 0;
	b->cap = 0;
	if (hint)
		buf_grow(b, hint);
}

void buf_release(struct buf *b)
{
	if (b->cap)
		free(b->data);
	buf_init(b, 0);
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;

	if (need <= b->cap)
		return;
	if (need < b->len)
		die(EX_SOFTWARE, "buffer size overflow");
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap / 2 < SIZE_MAX / 3 ? cap + cap / 2 + 64 : need;
	if (b->cap) {
		b->data = xrealloc(b->data, cap);
	} else {
		b->data = xmalloc(cap);
		b->data[0] = '\0';
	}
	b->cap = cap;
}

void buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len > b->len)
		die(EX_SOFTWARE, "buf_truncate beyond end");
	b->len = len;
	if (b->cap)
		b->data[len] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *data;

	if (!b->cap)
		buf_grow(b, 0);
	data = b->data;
	if (len)
		*len = b->len;
	buf_init(b, 0);
	return data;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	buf_grow(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, int c)
{
	buf_grow(b, 1);
	b->data[b->len++] = (char)c;
	b->data[b->len] = '\0';
}

void buf_addchars(struct buf *b, int c, size_t n)
{
	if (!n)
		return;
	buf_grow(b, n);
	memset(b->data + b->len, c, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, b->cap ? b->cap - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		die(EX_SOFTWARE, "vsnprintf failed");
	if ((size_t)n >= (b->cap ? b->cap - b->len : 0)) {
		buf_grow(b, (size_t)n);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

int buf_ends_with(const struct buf *b, const char *s)
{
	size_t n = strlen(s);

	return n <= b->len && !memcmp(b->data + b->len - n, s, n);
}
