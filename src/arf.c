#include "arf.h"

#include <ctype.h>
#include <string.h>

#include "buf.h"
#include "fields.h"

static void copy_type(char out[32], const char *v)
{
	size_t n = 0;

	while (v[n] && n < 31 && (isalnum((unsigned char)v[n]) || v[n] == '-')) {
		out[n] = (char)tolower((unsigned char)v[n]);
		n++;
	}
	out[n] = '\0';
}

int arf_parse(const char *text, size_t len, struct arf *a)
{
	struct fields f;
	struct buf name = BUF_INIT, value = BUF_INIT;
	int rc;

	memset(a, 0, sizeof(*a));
	fields_init(&f, text, len);
	while ((rc = fields_next(&f, &name, &value)) != -1) {
		if (rc == 0)
			continue;
		if (fields_is(&name, "Feedback-Type"))
			copy_type(a->feedback_type, value.data);
		else if (fields_is(&name, "Original-Rcpt-To") && !a->original_rcpt[0])
			fields_address(value.data, a->original_rcpt,
				       sizeof(a->original_rcpt));
		else if (fields_is(&name, "Removal-Recipient") && !a->removal_rcpt[0])
			fields_address(value.data, a->removal_rcpt,
				       sizeof(a->removal_rcpt));
		else if (fields_is(&name, "Original-Mail-From"))
			fields_address(value.data, a->original_from,
				       sizeof(a->original_from));
	}
	buf_release(&name);
	buf_release(&value);
	return a->feedback_type[0] != '\0';
}

int arf_is_complaint(const struct arf *a)
{
	return a->feedback_type[0] && strcmp(a->feedback_type, "auth-failure") &&
	       strcmp(a->feedback_type, "not-spam");
}
