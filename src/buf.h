#ifndef BULLETIN_BUF_H
#define BULLETIN_BUF_H

/*
 * A growable byte buffer, used for every piece of assembly in bulletin
 * (HTML, text, MIME, headers, SQL-free CSV lines ...).
 *
 * Rules (after git's strbuf):
 *  - b->data is never NULL and always NUL-terminated, even when empty,
 *    so it can be handed to any function that wants a C string;
 *  - the buffer may hold NUL bytes; b->len is the truth;
 *  - allocation failure exits the program (see util.h), so no function
 *    here reports an error;
 *  - buf_detach() hands the bytes over to the caller, who frees them.
 *
 * Use:  struct buf b = BUF_INIT;  buf_adds(&b, "x");  ...  buf_release(&b);
 */

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char   *data;	/* never NULL; NUL-terminated */
	size_t  len;	/* bytes in use, not counting the NUL */
	size_t  cap;	/* bytes allocated; 0 while data is the shared empty string */
};

extern char buf_empty[];
#define BUF_INIT { buf_empty, 0, 0 }

void buf_init(struct buf *b, size_t hint);
/* Frees the contents and leaves b as BUF_INIT. */
void buf_release(struct buf *b);
/* Makes room for at least extra more bytes (plus the NUL). */
void buf_grow(struct buf *b, size_t extra);
/* Empties the buffer but keeps its allocation. */
void buf_reset(struct buf *b);
/* Shortens to len bytes (len <= b->len). */
void buf_truncate(struct buf *b, size_t len);
/* Returns the contents, which the caller must free(); b becomes empty.
 * If len is not NULL it receives the length. Never returns NULL. */
char *buf_detach(struct buf *b, size_t *len);

void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, int c);
/* Appends n copies of the byte c. */
void buf_addchars(struct buf *b, int c, size_t n);
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* True if the buffer ends with the string s. */
int buf_ends_with(const struct buf *b, const char *s);

#endif
