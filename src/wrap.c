#include "wrap.h"

#include <stdint.h>
#include <string.h>

#include "utf8.h"

/*
 * Two passes: normalize() collapses the white space, so that the text
 * holds single spaces only where a space will show; then wrap_paragraph()
 * cuts it into unbreakable segments and fills lines greedily. All the
 * line-breaking rules live in can_break().
 */

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ZWJ 0x200d

/* What a line-breaking decision needs to know about a character. */
enum {
	CL_WIDE  = 1 << 0,	/* wide (CJK): a break may fall either side */
	CL_OPEN  = 1 << 1,	/* opening punctuation: never ends a line */
	CL_CLOSE = 1 << 2,	/* closing punctuation: never starts a line */
};

/* A base character with the zero-width characters that cling to it. */
struct cluster {
	size_t end;	/* offset just past the cluster */
	size_t width;	/* columns */
	int    cls;	/* CL_* of the base character */
};

/* Kinsoku shori: the Chinese and Japanese rules, and their ASCII kin. */
static const uint32_t opening[] = {
	'(', '[', '{', 0x2018, 0x201c, 0x3008, 0x300a, 0x300c, 0x300e,
	0x3010, 0x3014, 0x3016, 0x3018, 0x301a, 0x301d, 0xff08, 0xff3b,
	0xff5b, 0xff5f, 0xff62,
};

static const uint32_t closing[] = {
	'!', ')', ',', '.', ':', ';', '?', ']', '}', 0x2019, 0x201d,
	0x2026, 0x203c, 0x3001, 0x3002, 0x3009, 0x300b, 0x300d, 0x300f,
	0x3011, 0x3015, 0x3017, 0x3019, 0x301b, 0x301e, 0x301f, 0x30fb,
	0xff01, 0xff09, 0xff0c, 0xff0e, 0xff1a, 0xff1b, 0xff1f, 0xff3d,
	0xff5d, 0xff60, 0xff61, 0xff63, 0xff64,
};

static int in_list(uint32_t cp, const uint32_t *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == cp)
			return 1;
	return 0;
}

static int classify(uint32_t cp, int width)
{
	int cls = width == 2 ? CL_WIDE : 0;

	if (in_list(cp, opening, NELEM(opening)))
		cls |= CL_OPEN;
	else if (in_list(cp, closing, NELEM(closing)))
		cls |= CL_CLOSE;
	return cls;
}

/* Like utf8_decode(), but an invalid byte reads as one U+FFFD, as in
 * utf8_width(), so that the widths here agree with it. */
static size_t decode_at(const char *s, size_t n, size_t pos, uint32_t *cp)
{
	size_t k = utf8_decode(s + pos, n - pos, cp);

	if (k)
		return k;
	*cp = 0xfffd;
	return 1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\v' || c == '\f';
}

/*
 * Combining marks, variation selectors and other zero-width characters
 * belong to the character before them, and a ZWJ also joins the one after
 * it, so that no break falls inside an accented letter or an emoji
 * sequence.
 */
static void next_cluster(const char *s, size_t n, size_t pos,
			 struct cluster *c)
{
	uint32_t cp;
	int w, joined;

	pos += decode_at(s, n, pos, &cp);
	w = utf8_cp_width(cp);
	c->width = (size_t)w;
	c->cls = classify(cp, w);
	joined = cp == ZWJ;
	while (pos < n && s[pos] != ' ') {
		size_t k = decode_at(s, n, pos, &cp);

		w = utf8_cp_width(cp);
		if (w && !joined)
			break;
		c->width += (size_t)w;
		pos += k;
		joined = cp == ZWJ;
	}
	c->end = pos;
}

/*
 * Collapses the white-space run at s[i] to one space, or to nothing at
 * either end of the text and where a source line break falls between two
 * wide characters: Chinese and Japanese put no space between words, so
 * such a break (a Markdown soft break) is no word gap. prev_wide says
 * whether the last visible character before the run is wide. Returns the
 * offset after the run.
 */
static size_t collapse_space(struct buf *out, const char *s, size_t n,
			     size_t i, int prev_wide)
{
	int newline = 0;
	uint32_t cp;

	for (; i < n && is_space(s[i]); i++)
		if (s[i] == '\n' || s[i] == '\r')
			newline = 1;
	if (!out->len || i == n)
		return i;
	decode_at(s, n, i, &cp);
	if (!(newline && prev_wide && utf8_cp_width(cp) == 2))
		buf_addch(out, ' ');
	return i;
}

static void normalize(struct buf *out, const char *s, size_t n)
{
	int prev_wide = 0, w;
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		if (is_space(s[i])) {
			i = collapse_space(out, s, n, i, prev_wide);
			continue;
		}
		k = decode_at(s, n, i, &cp);
		w = utf8_cp_width(cp);
		if (w)
			prev_wide = w == 2;
		buf_add(out, s + i, k);
		i += k;
	}
}

/* May a line end after a and the next start with b? */
static int can_break(const struct cluster *a, const struct cluster *b,
		     int space)
{
	if ((a->cls & CL_OPEN) || (b->cls & CL_CLOSE))
		return 0;
	return space || (a->cls & CL_WIDE) || (b->cls & CL_WIDE);
}

/*
 * Finds the end of the unbreakable segment starting at pos (a Latin word,
 * a URL, a CJK character with the punctuation kinsoku ties to it), and
 * its width. Normalized text never ends in a space, so one is always
 * followed by a cluster.
 */
static size_t segment_end(const char *s, size_t n, size_t pos,
			  size_t *width)
{
	struct cluster a, b;
	int space;

	next_cluster(s, n, pos, &a);
	*width = a.width;
	while (a.end < n) {
		space = s[a.end] == ' ';
		next_cluster(s, n, a.end + (size_t)space, &b);
		if (can_break(&a, &b, space))
			break;
		*width += (size_t)space + b.width;
		a = b;
	}
	return a.end;
}

static size_t add_prefix(struct buf *out, const char *prefix)
{
	if (!prefix)
		return 0;
	buf_adds(out, prefix);
	return utf8_width(prefix, strlen(prefix));
}

void wrap_paragraph(struct buf *out, const char *text, size_t len,
		    size_t width, const char *first_prefix,
		    const char *rest_prefix)
{
	struct buf norm = BUF_INIT;
	size_t pos = 0, end, seg, used = 0;
	int space;

	normalize(&norm, text, len);
	while (pos < norm.len) {
		space = norm.data[pos] == ' ';
		pos += (size_t)space;
		end = segment_end(norm.data, norm.len, pos, &seg);
		/* A segment always goes on an empty line, fitting or not,
		 * so that each line makes progress however narrow. */
		if (pos == 0) {
			used = add_prefix(out, first_prefix);
		} else if (used + (size_t)space + seg > width) {
			buf_addch(out, '\n');
			used = add_prefix(out, rest_prefix);
			space = 0;
		}
		if (space)
			buf_addch(out, ' ');
		buf_add(out, norm.data + pos, end - pos);
		used += (size_t)space + seg;
		pos = end;
	}
	if (norm.len)
		buf_addch(out, '\n');
	buf_release(&norm);
}
