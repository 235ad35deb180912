#include "dsn.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "fields.h"

static size_t digits(const char *s, const char *e, size_t max)
{
	size_t n = 0;

	while (s + n < e && n <= max && isdigit((unsigned char)s[n]))
		n++;
	return n >= 1 && n <= max ? n : 0;
}

int dsn_status_find(const char *s, size_t len, char out[12])
{
	const char *e = s + len;

	for (const char *p = s; p + 5 <= e; p++) {
		size_t a, b;

		if ((*p != '2' && *p != '4' && *p != '5') || p[1] != '.' ||
		    (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
			continue;
		a = digits(p + 2, e, 3);
		if (!a || p + 2 + a >= e || p[2 + a] != '.')
			continue;
		b = digits(p + 3 + a, e, 3);
		if (!b || (p + 3 + a + b < e &&
			   (isdigit((unsigned char)p[3 + a + b]) ||
			    p[3 + a + b] == '.')))
			continue;
		memcpy(out, p, 3 + a + b);
		out[3 + a + b] = '\0';
		return 1;
	}
	out[0] = '\0';
	return 0;
}

static enum dsn_action action_parse(const char *v)
{
	static const struct { const char *name; enum dsn_action a; } names[] = {
		/* "failure": NTMail and others */
		{ "fail", DSN_FAILED }, { "delayed", DSN_DELAYED },
		{ "delivered", DSN_DELIVERED }, { "relayed", DSN_RELAYED },
		{ "expanded", DSN_EXPANDED },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncasecmp(v, names[i].name, strlen(names[i].name)))
			return names[i].a;
	return DSN_NONE;
}

/* Applies one field to r; returns 1 if it is a recipient field. */
static int rcpt_field(struct dsn_rcpt *r, const struct buf *name,
		      const struct buf *value)
{
	if (fields_is(name, "Final-Recipient"))
		fields_address(value->data, r->final, sizeof(r->final));
	else if (fields_is(name, "Original-Recipient"))
		fields_address(value->data, r->original, sizeof(r->original));
	else if (fields_is(name, "Action"))
		r->action = action_parse(value->data);
	else if (fields_is(name, "Status"))
		dsn_status_find(value->data, value->len, r->status);
	else
		return 0;
	return 1;
}

size_t dsn_parse(const char *text, size_t len, struct dsn *d)
{
	struct fields f;
	struct buf name = BUF_INIT, value = BUF_INIT;
	struct dsn_rcpt cur;
	int in_rcpt = 0, rc;

	memset(d, 0, sizeof(*d));
	memset(&cur, 0, sizeof(cur));
	fields_init(&f, text, len);
	do {
		rc = fields_next(&f, &name, &value);
		if (rc == 1 && in_rcpt && fields_is(&name, "Final-Recipient") &&
		    cur.final[0]) {
			/* no blank line between two recipients */
			if (d->n < DSN_MAX_RCPT)
				d->rcpt[d->n++] = cur;
			memset(&cur, 0, sizeof(cur));
		}
		if (rc == 1) {
			in_rcpt |= rcpt_field(&cur, &name, &value);
			continue;
		}
		if (in_rcpt && d->n < DSN_MAX_RCPT)
			d->rcpt[d->n++] = cur;
		memset(&cur, 0, sizeof(cur));
		in_rcpt = 0;
	} while (rc != -1);
	buf_release(&name);
	buf_release(&value);
	return d->n;
}
