/*
 * The store on a real SQLite file in a temporary folder: migrations,
 * the event log that every status change appends, the suppression rule
 * and the erase-by-hash list, import transactions.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>	/* only to tamper with the file as another program would */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

struct fixture {
	char          dir[64];
	char          path[96];
	struct store *s;
};

static const struct store_why by_test = { "command", NULL, NULL };

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	strcpy(fx->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/sub/bulletin.db", fx->dir);
	fx->s = store_open(fx->path);
	assert_non_null(fx->s);
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
	snprintf(p, sizeof(p), "%s/sub", fx->dir);
	rmdir(p);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* ---- events, collected ---------------------------------------------------- */

struct log {
	int  n;
	char types[16][16];
	char details[16][64];
};

static int collect(const struct store_event *ev, void *arg)
{
	struct log *log = arg;

	if (log->n < 16) {
		snprintf(log->types[log->n], 16, "%s", ev->type);
		snprintf(log->details[log->n], 64, "%s",
			 ev->detail ? ev->detail : "");
	}
	log->n++;
	return 0;
}

static struct log history(struct store *s, const char *email)
{
	struct log log = { 0 };
	struct store_row row;

	assert_int_equal(store_sub_get(s, email, &row), 1);
	assert_int_equal(store_sub_events(s, row.id, collect, &log), 0);
	return log;
}

static enum store_outcome put(struct store *s, const char *email,
			      const char *name, enum sub_status st)
{
	struct store_sub sub = { email, name, NULL, st, NULL };
	enum store_outcome oc;

	assert_int_equal(store_sub_put(s, &sub, &by_test, &oc), 0);
	return oc;
}

static enum sub_status status_of(struct store *s, const char *email)
{
	struct store_row row;

	assert_int_equal(store_sub_get(s, email, &row), 1);
	return row.status;
}

/* ---- tests ---------------------------------------------------------------- */

static void migrations_applied(void **state)
{
	struct fixture *fx = *state;
	sqlite3 *db;

	assert_true(store_schema_latest() >= 1);
	assert_int_equal(store_schema_version(fx->s), store_schema_latest());
	/* reopening applies nothing twice */
	store_close(fx->s);
	fx->s = store_open(fx->path);
	assert_non_null(fx->s);
	assert_int_equal(store_schema_version(fx->s), store_schema_latest());
	/* a schema from a newer bulletin is refused, not damaged */
	store_close(fx->s);
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	fx->s = store_open(fx->path);
	assert_null(fx->s);
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 1", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	fx->s = store_open(fx->path);
	assert_non_null(fx->s);
}

static void status_change_appends_event(void **state)
{
	struct fixture *fx = *state;
	struct store_why why = { "command", "moved abroad", NULL };
	enum store_outcome oc;
	struct log log;

	assert_int_equal(put(fx->s, "ada@example.org", "Ada", SUB_PENDING),
			 STORE_ADDED);
	assert_int_equal(put(fx->s, "ada@example.org", NULL, SUB_ACTIVE),
			 STORE_UPDATED);
	assert_int_equal(store_sub_suppress(fx->s, "ada@example.org",
					    SUB_UNSUBSCRIBED, &why, &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	log = history(fx->s, "ada@example.org");
	assert_int_equal(log.n, 3);
	assert_string_equal(log.types[0], "subscribe");
	assert_string_equal(log.types[1], "confirm");
	assert_string_equal(log.types[2], "unsubscribe");
	assert_string_equal(log.details[2], "moved abroad");

	/* nothing changes: no event */
	assert_int_equal(store_sub_suppress(fx->s, "ada@example.org",
					    SUB_UNSUBSCRIBED, &why, &oc), 0);
	assert_int_equal(oc, STORE_UNCHANGED);
	assert_int_equal(history(fx->s, "ada@example.org").n, 3);
}

static void unsubscribed_stay_unsubscribed(void **state)
{
	struct fixture *fx = *state;
	struct store_why why = { "command", "asked by phone", NULL };
	enum store_outcome oc;
	struct log log;

	put(fx->s, "bob@example.org", NULL, SUB_ACTIVE);
	store_sub_suppress(fx->s, "bob@example.org", SUB_COMPLAINED, &by_test,
			   &oc);
	assert_int_equal(oc, STORE_UPDATED);
	assert_int_equal(put(fx->s, "bob@example.org", "Bob", SUB_ACTIVE),
			 STORE_SUPPRESSED);
	assert_int_equal(status_of(fx->s, "bob@example.org"), SUB_COMPLAINED);
	/* complained is final for a bounce too */
	store_sub_suppress(fx->s, "bob@example.org", SUB_BOUNCED, &by_test, &oc);
	assert_int_equal(oc, STORE_UNCHANGED);
	/* only resubscribe, with its reason, brings them back */
	assert_int_equal(store_sub_resubscribe(fx->s, "bob@example.org", &why,
					       &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	assert_int_equal(status_of(fx->s, "bob@example.org"), SUB_ACTIVE);
	log = history(fx->s, "bob@example.org");
	assert_int_equal(log.n, 3);
	assert_string_equal(log.types[1], "complaint");
	assert_string_equal(log.types[2], "resubscribe");
	assert_string_equal(log.details[2], "asked by phone");
}

static void erase_keeps_only_the_hash(void **state)
{
	struct fixture *fx = *state;
	struct store_why why = { "command", "came back", NULL };
	struct store_row row;
	enum store_outcome oc;
	char hex[65];
	sqlite3 *db;
	sqlite3_stmt *st;

	/* sha256("cy@example.org"), as `printf %s cy@example.org | sha256sum` */
	store_address_hash("cy@example.org", hex);
	assert_string_equal(hex, "cef73ab6ea35cb9e87465dc432aa0ba8"
				 "c9ea8ae9ff9b32a48d109363c61615bb");

	put(fx->s, "cy@example.org", "Cy", SUB_ACTIVE);
	assert_int_equal(store_sub_erase(fx->s, "cy@example.org", &by_test,
					 &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	assert_int_equal(store_sub_get(fx->s, "cy@example.org", &row), 0);
	assert_int_equal(store_is_erased(fx->s, "cy@example.org"), 1);
	assert_int_equal(store_is_erased(fx->s, "dee@example.org"), 0);
	assert_int_equal(put(fx->s, "cy@example.org", "Cy", SUB_ACTIVE),
			 STORE_SUPPRESSED);
	assert_int_equal(store_sub_erase(fx->s, "cy@example.org", &by_test,
					 &oc), 0);
	assert_int_equal(oc, STORE_UNCHANGED);

	/* the file holds the hash, and no trace of the address or name */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT (SELECT count(*) FROM suppressions WHERE hash = ?1),"
		" (SELECT count(*) FROM subscribers),"
		" (SELECT count(*) FROM events WHERE subscriber_id IS NOT NULL)",
		-1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	assert_int_equal(sqlite3_column_int(st, 1), 0);
	assert_int_equal(sqlite3_column_int(st, 2), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);

	/* the person's own request lifts it */
	assert_int_equal(store_sub_resubscribe(fx->s, "cy@example.org", &why,
					       &oc), 0);
	assert_int_equal(oc, STORE_ADDED);
	assert_int_equal(store_is_erased(fx->s, "cy@example.org"), 0);
	assert_int_equal(status_of(fx->s, "cy@example.org"), SUB_ACTIVE);
}

static void import_transaction_keeps_event_order(void **state)
{
	struct fixture *fx = *state;
	struct log log;

	/* new rows in a caller's transaction have their events deferred;
	 * a later change of the same row must still come after them */
	assert_int_equal(store_begin(fx->s), 0);
	assert_int_equal(put(fx->s, "a@example.org", NULL, SUB_PENDING),
			 STORE_ADDED);
	assert_int_equal(put(fx->s, "b@example.org", NULL, SUB_ACTIVE),
			 STORE_ADDED);
	assert_int_equal(put(fx->s, "a@example.org", NULL, SUB_ACTIVE),
			 STORE_UPDATED);
	assert_int_equal(put(fx->s, "c@example.org", NULL, SUB_UNSUBSCRIBED),
			 STORE_ADDED);
	assert_int_equal(store_commit(fx->s), 0);
	log = history(fx->s, "a@example.org");
	assert_int_equal(log.n, 2);
	assert_string_equal(log.types[0], "subscribe");
	assert_string_equal(log.types[1], "confirm");
	assert_int_equal(history(fx->s, "b@example.org").n, 1);
	log = history(fx->s, "c@example.org");
	assert_int_equal(log.n, 1);
	assert_string_equal(log.types[0], "unsubscribe");
}

static void rollback_leaves_nothing(void **state)
{
	struct fixture *fx = *state;
	long long counts[SUB_NSTATUS];
	struct store_row row;

	assert_int_equal(store_begin(fx->s), 0);
	put(fx->s, "gone@example.org", NULL, SUB_ACTIVE);
	store_rollback(fx->s);
	assert_int_equal(store_sub_get(fx->s, "gone@example.org", &row), 0);
	assert_int_equal(store_count_by_status(fx->s, counts), 0);
	for (int i = 0; i < SUB_NSTATUS; i++)
		assert_int_equal(counts[i], 0);
}

static void update_merges_name_and_attrs(void **state)
{
	struct fixture *fx = *state;
	struct store_sub sub = { "d@example.org", "Dee", "{\"city\":\"Paris\"}",
				 SUB_ACTIVE, "2024-01-15T10:00:00Z" };
	enum store_outcome oc;
	struct store_row row;

	assert_int_equal(store_sub_put(fx->s, &sub, &by_test, &oc), 0);
	assert_int_equal(oc, STORE_ADDED);
	assert_int_equal(store_sub_put(fx->s, &sub, &by_test, &oc), 0);
	assert_int_equal(oc, STORE_UNCHANGED);
	sub.name = NULL;	/* keeps the name */
	sub.attrs = "{\"lang\":\"fr\"}";
	assert_int_equal(store_sub_put(fx->s, &sub, &by_test, &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	assert_int_equal(store_sub_get(fx->s, "d@example.org", &row), 1);
	assert_string_equal(row.name, "Dee");
	assert_string_equal(row.attrs, "{\"city\":\"Paris\",\"lang\":\"fr\"}");
	assert_string_equal(row.created, "2024-01-15T10:00:00Z");
	/* active never goes back to pending */
	sub.status = SUB_PENDING;
	assert_int_equal(store_sub_put(fx->s, &sub, &by_test, &oc), 0);
	assert_int_equal(oc, STORE_UNCHANGED);
}

static int month_cb(const struct store_month *m, void *arg)
{
	char *out = arg;

	sprintf(out + strlen(out), "%s:%lld/%lld ", m->month, m->subscribed,
		m->unsubscribed);
	return 0;
}

static int key_cb(const char *key, void *arg)
{
	strcat(arg, key);
	strcat(arg, ",");
	return 0;
}

static void queries(void **state)
{
	struct fixture *fx = *state;
	struct store_sub sub = { "e@example.org", "Eve", "{\"b\":\"2\",\"a\":\"1\"}",
				 SUB_ACTIVE, "2024-02-01T00:00:00Z" };
	const char *keys[] = { "a", "b" };
	struct store_query q = { 1, SUB_ACTIVE, 0, keys, 2 };
	long long counts[SUB_NSTATUS];
	char months[128] = "", names[64] = "";
	struct store_iter *it;
	struct store_row row;
	enum store_outcome oc;

	store_sub_put(fx->s, &sub, &by_test, &oc);
	put(fx->s, "f@example.org", NULL, SUB_PENDING);
	store_sub_suppress(fx->s, "f@example.org", SUB_UNSUBSCRIBED, &by_test,
			   &oc);
	assert_int_equal(store_count_by_status(fx->s, counts), 0);
	assert_int_equal(counts[SUB_ACTIVE], 1);
	assert_int_equal(counts[SUB_UNSUBSCRIBED], 1);
	assert_int_equal(store_monthly(fx->s, month_cb, months), 0);
	assert_true(!strncmp(months, "2024-02:1/0 ", 12));
	assert_int_equal(store_attr_keys(fx->s, &q, key_cb, names), 0);
	/* in no particular order */
	assert_true(!strcmp(names, "a,b,") || !strcmp(names, "b,a,"));

	it = store_iter_new(fx->s, &q);
	assert_non_null(it);
	assert_int_equal(store_iter_next(it, &row), 1);
	assert_string_equal(row.email, "e@example.org");
	assert_string_equal(row.values[0], "1");
	assert_string_equal(row.values[1], "2");
	assert_int_equal(store_iter_next(it, &row), 1);
	assert_null(row.values[0]);
	assert_int_equal(store_iter_next(it, &row), 0);
	store_iter_free(it);

	q.any_status = 0;
	q.status = SUB_UNSUBSCRIBED;
	it = store_iter_new(fx->s, &q);
	assert_int_equal(store_iter_next(it, &row), 1);
	assert_string_equal(row.email, "f@example.org");
	assert_int_equal(store_iter_next(it, &row), 0);
	store_iter_free(it);
}

/* ---- the unsubscribe endpoint -------------------------------------------- */

struct counts { int n; char rows[8][48]; };

static int count_row(const struct store_unsub_count *c, void *arg)
{
	struct counts *k = arg;

	if (k->n < 8)
		snprintf(k->rows[k->n], 48, "%s %s %lld", c->type, c->method,
			 c->count);
	k->n++;
	return 0;
}

static long long id_of(struct store *s, const char *email)
{
	struct store_row row;

	assert_int_equal(store_sub_get(s, email, &row), 1);
	return row.id;
}

/* By id: idempotent, one event with its method and campaign (dropped
 * when the campaign is unknown), undo only from unsubscribed, a
 * complained subscriber stays complained, an erased one is not found. */
static void unsubscribe_by_id(void **state)
{
	struct fixture *fx = *state;
	struct store_why click = { "one-click", NULL, "2021-03" };
	struct store_why page = { "page", NULL, "2021-03" };
	struct store_why unknown = { "one-click", NULL, "1999-01" };
	enum store_outcome oc;
	struct counts k = { 0 };
	char email[STORE_EMAIL_MAX];
	enum sub_status st;
	long long ada, bob, cy, n;

	put(fx->s, "ada@example.org", NULL, SUB_ACTIVE);
	put(fx->s, "bob@example.org", NULL, SUB_ACTIVE);
	put(fx->s, "cy@example.org", NULL, SUB_ACTIVE);
	ada = id_of(fx->s, "ada@example.org");
	bob = id_of(fx->s, "bob@example.org");
	cy = id_of(fx->s, "cy@example.org");
	assert_int_equal(store_campaign_create(fx->s, "2021-03", "S", "h", &n), 0);

	assert_int_equal(store_sub_by_id(fx->s, ada, email, &st), 1);
	assert_string_equal(email, "ada@example.org");
	assert_int_equal(st, SUB_ACTIVE);
	assert_int_equal(store_unsub_by_id(fx->s, ada, &click, &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	assert_int_equal(store_unsub_by_id(fx->s, ada, &click, &oc), 0);
	assert_int_equal(oc, STORE_UNCHANGED);
	assert_int_equal(status_of(fx->s, "ada@example.org"), SUB_UNSUBSCRIBED);
	assert_int_equal(history(fx->s, "ada@example.org").n, 2);

	/* undo, then unsubscribe again from the page */
	assert_int_equal(store_undo_unsub_by_id(fx->s, bob, &page, &oc), 0);
	assert_int_equal(oc, STORE_UNCHANGED);	/* active: nothing to undo */
	assert_int_equal(store_unsub_by_id(fx->s, bob, &page, &oc), 0);
	assert_int_equal(store_undo_unsub_by_id(fx->s, bob, &page, &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	assert_int_equal(status_of(fx->s, "bob@example.org"), SUB_ACTIVE);

	/* a campaign the database does not know is not recorded */
	assert_int_equal(store_unsub_by_id(fx->s, cy, &unknown, &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	assert_int_equal(store_unsub_counts(fx->s, "2021-03", count_row, &k), 0);
	assert_int_equal(k.n, 3);
	assert_string_equal(k.rows[0], "unsubscribe one-click 1");
	assert_string_equal(k.rows[1], "unsubscribe page 1");
	assert_string_equal(k.rows[2], "resubscribe page 1");

	/* complained stays complained; no undo turns it active */
	assert_int_equal(store_sub_suppress(fx->s, "cy@example.org",
					    SUB_COMPLAINED, &by_test, &oc), 0);
	assert_int_equal(store_undo_unsub_by_id(fx->s, cy, &page, &oc), 0);
	assert_int_equal(oc, STORE_UNCHANGED);
	assert_int_equal(store_unsub_by_id(fx->s, cy, &page, &oc), 0);
	assert_int_equal(oc, STORE_UNCHANGED);
	assert_int_equal(status_of(fx->s, "cy@example.org"), SUB_COMPLAINED);

	/* erased: not found */
	assert_int_equal(store_sub_erase(fx->s, "cy@example.org", &by_test, &oc), 0);
	assert_int_equal(store_sub_by_id(fx->s, cy, email, &st), 0);
	assert_int_equal(store_unsub_by_id(fx->s, cy, &click, &oc), 0);
	assert_int_equal(oc, STORE_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(migrations_applied),
		T(status_change_appends_event),
		T(unsubscribed_stay_unsubscribed),
		T(erase_keeps_only_the_hash),
		T(import_transaction_keeps_event_order),
		T(rollback_leaves_nothing),
		T(update_merges_name_and_attrs),
		T(queries),
		T(unsubscribe_by_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
