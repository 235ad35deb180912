#ifndef BULLETIN_ARF_H
#define BULLETIN_ARF_H

/*
 * RFC 5965 abuse reports: the fields of a message/feedback-report body.
 * Pure: no library state, bounded memory.
 */

#include <stddef.h>

#define ARF_ADDR_MAX 321

struct arf {
	char feedback_type[32];		/* "abuse", "fraud", "auth-failure", ... lower-case, "" if none */
	char original_rcpt[ARF_ADDR_MAX];	/* Original-Rcpt-To, or "" */
	char removal_rcpt[ARF_ADDR_MAX];	/* Removal-Recipient (RFC 6650), or "" */
	char original_from[ARF_ADDR_MAX];	/* Original-Mail-From (the bounce address), or "" */
};

/* Reads the fields of a feedback report (len bytes). Returns 1 when it
 * has a Feedback-Type, 0 when not (not a report). */
int arf_parse(const char *text, size_t len, struct arf *a);

/* True for a feedback type that is a complaint about the mail (abuse,
 * fraud, virus, other, not-spam is not): DMARC auth-failure reports
 * are not. */
int arf_is_complaint(const struct arf *a);

#endif
