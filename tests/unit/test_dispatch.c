/*
 * The send path's pure parts and its store contract: SMTP reply codes,
 * what each reply means, and the delivery states a campaign moves
 * through (claim, record, crash, resume), on a real SQLite file.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "store.h"
#include "transport.h"

/* ---- reply codes ------------------------------------------------------------ */

static void reply_codes(void **state)
{
	char e[16];

	(void)state;
	assert_int_equal(smtp_reply_code("550 5.1.1 No such user", e), 550);
	assert_string_equal(e, "5.1.1");
	assert_int_equal(smtp_reply_code("452-4.2.2 Mailbox full", e), 452);
	assert_string_equal(e, "4.2.2");
	assert_int_equal(smtp_reply_code("250 OK", e), 250);
	assert_string_equal(e, "");
	assert_int_equal(smtp_reply_code("421", e), 421);
	/* an enhanced code of another class is not one */
	assert_int_equal(smtp_reply_code("550 4.1.1 odd", e), 550);
	assert_string_equal(e, "");
	assert_int_equal(smtp_reply_code("550 5.1234.1 odd", e), 550);
	assert_string_equal(e, "");
	assert_int_equal(smtp_reply_code("550 5.1. odd", e), 550);
	assert_string_equal(e, "");
	assert_int_equal(smtp_reply_code("hello", e), 0);
	assert_int_equal(smtp_reply_code("", e), 0);
	assert_int_equal(smtp_reply_code("6000", e), 0);
	assert_int_equal(smtp_reply_code("55", e), 0);
}

static enum verdict verdict(enum tr_outcome o, enum tr_stage st,
			    const char *line)
{
	struct tresult r = { o, st, 0, "", "" };

	r.code = smtp_reply_code(line, r.enhanced);
	return dispatch_verdict(&r);
}

static void what_replies_mean(void **state)
{
	(void)state;
	assert_int_equal(verdict(TR_SENT, TR_STAGE_DATA, "250 OK"), V_SENT);
	assert_int_equal(verdict(TR_TEMP, TR_STAGE_RCPT, "450 4.2.1 busy"), V_DEFER);
	assert_int_equal(verdict(TR_TEMP, TR_STAGE_CONNECT, ""), V_DEFER);
	assert_int_equal(verdict(TR_TEMP, TR_STAGE_RCPT, "421 4.3.2 bye"), V_DEFER);
	/* hard bounces, on the recipient */
	assert_int_equal(verdict(TR_PERM, TR_STAGE_RCPT, "550 5.1.1 no"), V_BOUNCE);
	assert_int_equal(verdict(TR_PERM, TR_STAGE_RCPT, "551 no"), V_BOUNCE);
	assert_int_equal(verdict(TR_PERM, TR_STAGE_RCPT, "553 5.1.3 no"), V_BOUNCE);
	assert_int_equal(verdict(TR_PERM, TR_STAGE_RCPT, "554 5.1.2 no"), V_BOUNCE);
	/* not the recipient's fault */
	assert_int_equal(verdict(TR_PERM, TR_STAGE_RCPT, "554 5.0.0 no"), V_FAIL);
	assert_int_equal(verdict(TR_PERM, TR_STAGE_DATA, "550 5.6.0 bad"), V_FAIL);
	assert_int_equal(verdict(TR_PERM, TR_STAGE_DATA, "552 5.3.4 big"), V_FAIL);
	/* 552 to RCPT is read as 452 (RFC 5321 4.5.3.1.10) */
	assert_int_equal(verdict(TR_PERM, TR_STAGE_RCPT, "552 5.2.2 full"), V_DEFER);
	/* policy: never the subscriber's fault */
	assert_int_equal(verdict(TR_PERM, TR_STAGE_RCPT, "550 5.7.1 policy"),
			 V_POLICY_FAIL);
	assert_int_equal(verdict(TR_PERM, TR_STAGE_DATA, "554 5.7.26 dmarc"),
			 V_POLICY_FAIL);
	assert_int_equal(verdict(TR_TEMP, TR_STAGE_RCPT, "421 4.7.28 rate"),
			 V_POLICY_DEFER);
	assert_int_equal(verdict(TR_PERM, TR_STAGE_MAIL, "550 5.1.8 sender"),
			 V_POLICY_FAIL);
	assert_int_equal(verdict(TR_FATAL, TR_STAGE_CONNECT, ""), V_FATAL);
}

/* ---- the delivery states ------------------------------------------------------ */

struct fixture {
	char          dir[64];
	char          path[96];
	struct store *s;
};

static const struct store_why by_test = { "command", NULL, NULL };

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char email[64];

	strcpy(fx->dir, "/tmp/test_dispatch.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/bulletin.db", fx->dir);
	fx->s = store_open(fx->path);
	assert_non_null(fx->s);
	for (int i = 1; i <= 10; i++) {
		struct store_sub sub = { email, NULL, NULL, SUB_ACTIVE, NULL };
		enum store_outcome oc;

		snprintf(email, sizeof(email), "r%d@example.org", i);
		sub.status = i == 10 ? SUB_UNSUBSCRIBED : SUB_ACTIVE;
		assert_int_equal(store_sub_put(fx->s, &sub, &by_test, &oc), 0);
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[128];

	store_close(fx->s);
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", fx->path, suffix[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Claims up to max due deliveries in one transaction, as dispatch does. */
static size_t claim(struct store *s, long long *cursor, struct store_dlv *d,
		    size_t max)
{
	size_t n = 0;

	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_dlv_due(s, "c1", "9999-12-31T00:00:00.000Z",
				       cursor, d, max, &n), 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(d[i].message_id, sizeof(d[i].message_id), "c1.%lld.x@d",
			 d[i].subscriber_id);
		assert_int_equal(store_dlv_claim(s, "c1", &d[i]), 0);
	}
	assert_int_equal(store_commit(s), 0);
	return n;
}

static void record(struct store *s, long long id, enum dlv_state st,
		   int attempts, int code)
{
	struct store_result r = { id, st, attempts, "2000-01-01T00:00:00.000Z",
				  code, "reply" };

	assert_int_equal(store_dlv_result(s, "c1", &r), 0);
}

static void campaign_snapshot_claim_record(void **state)
{
	struct fixture *fx = *state;
	struct store_dlv d[4];
	long long n = 0, cursor = 0, c[DLV_NSTATES];
	struct store_campaign camp;
	enum store_outcome oc;

	assert_int_equal(store_campaign_create(fx->s, "c1", "Subject", "h", &n), 0);
	assert_int_equal(n, 9);		/* the unsubscribed one is not in it */
	assert_int_equal(store_campaign_create(fx->s, "c1", "Subject", "h", &n), -1);
	assert_int_equal(store_campaign_get(fx->s, "c1", &camp), 1);
	assert_string_equal(camp.content_hash, "h");
	assert_null(camp.started);

	assert_int_equal(claim(fx->s, &cursor, d, 4), 4);
	assert_int_equal(d[0].subscriber_id, 1);
	assert_int_equal(cursor, 4);
	assert_string_equal(d[0].email, "r1@example.org");
	assert_int_equal(store_dlv_counts(fx->s, "c1", c), 0);
	assert_int_equal(c[DLV_SENDING], 4);
	assert_int_equal(c[DLV_QUEUED], 5);

	record(fx->s, 1, DLV_SENT, 1, 250);
	record(fx->s, 2, DLV_DEFERRED, 1, 450);
	record(fx->s, 3, DLV_FAILED, 1, 550);
	/* a result for a row not 'sending' changes nothing */
	record(fx->s, 1, DLV_FAILED, 2, 550);

	/* someone leaves while the campaign runs: skipped when reached */
	assert_int_equal(store_sub_suppress(fx->s, "r5@example.org",
					    SUB_UNSUBSCRIBED, &by_test, &oc), 0);
	/* the deferred one (due long ago) comes first, then the queue */
	assert_int_equal(claim(fx->s, &cursor, d, 4), 4);
	assert_int_equal(d[0].subscriber_id, 2);
	assert_true(d[0].deferred);
	assert_int_equal(d[0].attempts, 1);
	assert_int_equal(d[1].subscriber_id, 5);
	assert_int_equal(d[1].status, SUB_UNSUBSCRIBED);

	/* the run dies here: its 'sending' rows become uncertain */
	assert_int_equal(store_dlv_move(fx->s, "c1", DLV_SENDING, DLV_UNCERTAIN,
					&n), 0);
	assert_int_equal(n, 4);		/* 4 (claimed before), 2, 6, 7 */
	assert_int_equal(store_dlv_counts(fx->s, "c1", c), 0);
	assert_int_equal(c[DLV_SENT], 1);
	assert_int_equal(c[DLV_FAILED], 1);
	assert_int_equal(c[DLV_SKIPPED], 1);
	assert_int_equal(c[DLV_UNCERTAIN], 4);
	assert_int_equal(c[DLV_QUEUED], 2);
	assert_int_equal(c[DLV_SENDING], 0);

	/* asked for: failed ones queued again with their attempts reset */
	assert_int_equal(store_dlv_retry_failed(fx->s, "c1", &n), 0);
	assert_int_equal(n, 1);
	cursor = 0;
	assert_int_equal(claim(fx->s, &cursor, d, 4), 3);
	assert_int_equal(d[0].subscriber_id, 3);
	assert_int_equal(d[0].attempts, 0);
}

static void next_due_and_hourly_count(void **state)
{
	struct fixture *fx = *state;
	struct store_dlv d[2];
	long long n = 0, cursor = 0;
	char next[32];

	assert_int_equal(store_campaign_create(fx->s, "c1", "S", "h", &n), 0);
	assert_int_equal(store_dlv_next_due(fx->s, "c1", next, &n), 0);
	assert_int_equal(claim(fx->s, &cursor, d, 2), 2);
	record(fx->s, 1, DLV_SENT, 1, 250);
	record(fx->s, 2, DLV_DEFERRED, 1, 451);
	assert_int_equal(store_dlv_next_due(fx->s, "c1", next, &n), 1);
	assert_string_equal(next, "2000-01-01T00:00:00.000Z");
	assert_int_equal(n, 1);
	assert_int_equal(store_dlv_sent_since(fx->s, "2000-01-01T00:00:00Z"), 1);
	assert_int_equal(store_dlv_sent_since(fx->s, "9999-01-01T00:00:00Z"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reply_codes),
		cmocka_unit_test(what_replies_mean),
		cmocka_unit_test_setup_teardown(campaign_snapshot_claim_record,
						setup, teardown),
		cmocka_unit_test_setup_teardown(next_due_and_hourly_count,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
