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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "store.h"
#include "util.h"

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
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	fx->s = store_open(fx->path);
	assert_non_null(fx->s);
	/* set back: the later migrations run again, harmlessly */
	assert_int_equal(store_schema_version(fx->s), store_schema_latest());
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


/* ---- one person, one row ---------------------------------------------------- */

static void one_row_per_identity(void **state)
{
	struct fixture *fx = *state;
	enum store_outcome oc;
	struct store_row row;

	assert_int_equal(put(fx->s, "ada@example.org", "Ada", SUB_ACTIVE),
			 STORE_ADDED);
	/* every form finds the row, which keeps the address as typed */
	assert_int_equal(store_sub_get(fx->s, "ADA@example.org", &row), 1);
	assert_string_equal(row.email, "ada@example.org");
	assert_int_equal(put(fx->s, "\"Ada\"@example.org", NULL, SUB_ACTIVE),
			 STORE_UNCHANGED);
	assert_int_equal(store_sub_suppress(fx->s, "Ada@example.org",
					    SUB_UNSUBSCRIBED, &by_test, &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	/* the suppression promise holds in every form, in a transaction too */
	assert_int_equal(put(fx->s, "ADA@example.org", NULL, SUB_ACTIVE),
			 STORE_SUPPRESSED);
	assert_int_equal(store_begin(fx->s), 0);
	assert_int_equal(put(fx->s, "Case@example.org", NULL, SUB_ACTIVE),
			 STORE_ADDED);
	assert_int_equal(put(fx->s, "case@example.org", NULL, SUB_ACTIVE),
			 STORE_UNCHANGED);
	assert_int_equal(put(fx->s, "CASE@example.org", NULL, SUB_ACTIVE),
			 STORE_UNCHANGED);
	assert_int_equal(put(fx->s, "\"ada\"@example.org", NULL, SUB_ACTIVE),
			 STORE_SUPPRESSED);
	assert_int_equal(store_commit(fx->s), 0);
	assert_int_equal(status_of(fx->s, "ada@example.org"), SUB_UNSUBSCRIBED);
	assert_int_equal(history(fx->s, "case@example.org").n, 1);
	assert_int_equal(store_sub_get(fx->s, "case@example.org", &row), 1);
	assert_string_equal(row.email, "Case@example.org");
}

static void erased_in_every_form(void **state)
{
	struct fixture *fx = *state;
	struct store_why why = { "command", "asked to come back", NULL };
	enum store_outcome oc;
	char a[65], b[65];

	/* the hash is of the canonical identity */
	store_address_hash("Erase.Me@example.org", a);
	store_address_hash("\"erase.me\"@example.org", b);
	assert_string_equal(a, b);
	put(fx->s, "erase.me@example.org", NULL, SUB_ACTIVE);
	assert_int_equal(store_sub_erase(fx->s, "erase.me@example.org",
					 &by_test, &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	assert_int_equal(store_is_erased(fx->s, "ERASE.ME@example.org"), 1);
	assert_int_equal(put(fx->s, "Erase.Me@example.org", NULL, SUB_ACTIVE),
			 STORE_SUPPRESSED);
	assert_int_equal(store_sub_erase(fx->s, "\"Erase.Me\"@example.org",
					 &by_test, &oc), 0);
	assert_int_equal(oc, STORE_UNCHANGED);
	assert_int_equal(store_sub_resubscribe(fx->s, "Erase.Me@example.org",
					       &why, &oc), 0);
	assert_int_equal(oc, STORE_ADDED);
	assert_int_equal(store_is_erased(fx->s, "erase.me@example.org"), 0);
}

/* ---- migration 2 on a version 1 database --------------------------------- */

/* Migration 1 as it shipped (it is never edited): a real v1 database. */
static const char v1_schema[] =
	"CREATE TABLE subscribers (id INTEGER PRIMARY KEY,"
	" email TEXT NOT NULL UNIQUE, name TEXT, status TEXT NOT NULL CHECK"
	" (status = 'active' OR status = 'pending' OR status = 'unsubscribed'"
	" OR status = 'bounced' OR status = 'complained'), attrs TEXT CHECK"
	" (attrs IS NULL OR json_valid(attrs)), created TEXT NOT NULL,"
	" updated TEXT NOT NULL);"
	"CREATE TABLE campaigns (id TEXT PRIMARY KEY, subject TEXT NOT NULL,"
	" content_hash TEXT NOT NULL, created TEXT NOT NULL, started TEXT,"
	" finished TEXT);"
	"CREATE TABLE deliveries (campaign_id TEXT NOT NULL REFERENCES"
	" campaigns(id) ON DELETE CASCADE, subscriber_id INTEGER NOT NULL"
	" REFERENCES subscribers(id) ON DELETE CASCADE, state TEXT NOT NULL"
	" DEFAULT 'queued' CHECK (state = 'queued' OR state = 'sending' OR"
	" state = 'sent' OR state = 'deferred' OR state = 'failed'), attempts"
	" INTEGER NOT NULL DEFAULT 0, next_attempt TEXT, last_reply TEXT,"
	" message_id TEXT, updated TEXT NOT NULL, PRIMARY KEY (campaign_id,"
	" subscriber_id)) WITHOUT ROWID;"
	"CREATE INDEX deliveries_subscriber ON deliveries(subscriber_id);"
	"CREATE TABLE events (id INTEGER PRIMARY KEY, type TEXT NOT NULL CHECK"
	" (type = 'subscribe' OR type = 'confirm' OR type = 'unsubscribe' OR"
	" type = 'resubscribe' OR type = 'bounce' OR type = 'complaint' OR"
	" type = 'erase'), subscriber_id INTEGER REFERENCES subscribers(id) ON"
	" DELETE CASCADE, campaign_id TEXT REFERENCES campaigns(id) ON DELETE"
	" SET NULL, method TEXT NOT NULL, detail TEXT, created TEXT NOT NULL);"
	"CREATE INDEX events_subscriber ON events(subscriber_id);"
	"CREATE INDEX events_campaign ON events(campaign_id)"
	" WHERE campaign_id IS NOT NULL;"
	"CREATE TABLE suppressions (hash TEXT PRIMARY KEY, reason TEXT NOT NULL,"
	" created TEXT NOT NULL) WITHOUT ROWID;"
	"PRAGMA user_version = 1;";

/*
 * Ada three times (the unsubscribed row wins over active and pending),
 * Bob twice (complained over bounced), Carol in a form whose identity
 * was erased, Dan once; two campaigns delivered to several Adas.
 */
static const char v1_rows[] =
	"INSERT INTO subscribers VALUES"
	" (1, 'ada@example.org', 'Ada', 'active', NULL,"
	"  '2026-01-02T00:00:00Z', '2026-01-02T00:00:00Z'),"
	" (2, 'ADA@example.org', NULL, 'unsubscribed', '{\"city\":\"Paris\"}',"
	"  '2026-01-01T00:00:00Z', '2026-01-05T00:00:00Z'),"
	" (3, '\"ada\"@example.org', NULL, 'pending', NULL,"
	"  '2026-01-03T00:00:00Z', '2026-01-03T00:00:00Z'),"
	" (4, 'bob@example.org', NULL, 'bounced', NULL,"
	"  '2026-02-01T00:00:00Z', '2026-02-01T00:00:00Z'),"
	" (5, 'Bob@example.org', NULL, 'complained', NULL,"
	"  '2026-02-02T00:00:00Z', '2026-02-02T00:00:00Z'),"
	" (6, 'Carol@example.org', 'Carol Secret', 'active', NULL,"
	"  '2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z'),"
	" (7, 'dan@example.org', NULL, 'active', NULL,"
	"  '2026-04-01T00:00:00Z', '2026-04-01T00:00:00Z');"
	"INSERT INTO events (type, subscriber_id, method, created) VALUES"
	" ('subscribe', 1, 'import', '2026-01-02T00:00:00Z'),"
	" ('subscribe', 2, 'import', '2026-01-01T00:00:00Z'),"
	" ('unsubscribe', 2, 'one-click', '2026-01-05T00:00:00Z'),"
	" ('subscribe', 3, 'command', '2026-01-03T00:00:00Z'),"
	" ('bounce', 4, 'inbox', '2026-02-01T00:00:00Z'),"
	" ('complaint', 5, 'inbox', '2026-02-02T00:00:00Z'),"
	" ('subscribe', 6, 'command', '2026-03-01T00:00:00Z'),"
	" ('subscribe', 7, 'command', '2026-04-01T00:00:00Z');"
	"INSERT INTO campaigns VALUES ('2026-01', 's', 'h', 'now', NULL, NULL),"
	" ('2026-02', 's', 'h', 'now', NULL, NULL);"
	"INSERT INTO deliveries (campaign_id, subscriber_id, state, updated)"
	" VALUES ('2026-01', 1, 'sent', 'now'), ('2026-01', 2, 'queued', 'now'),"
	" ('2026-02', 3, 'failed', 'now'), ('2026-01', 6, 'sent', 'now');"
	/* printf %s carol@example.org | sha256sum: erased in that form */
	"INSERT INTO suppressions VALUES"
	" ('b39a07821bb2ed23b1d535a66cea5c2c165b26cfc19d01cf59db1d2d43ca408b',"
	"  'erased', 'now');";

static void exec_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s", msg);
	sqlite3_close(db);
}

/* The integer answer of a one-row, one-column query. */
static long long query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void remove_db(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[160];

	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
}

static void migration_merges_duplicates(void **state)
{
	struct fixture *fx = *state;
	char path[128], carol[65], sql[256];
	struct store *s;
	struct store_row row;
	struct log log;

	/* the hash in v1_rows is what the store computes for Carol */
	store_address_hash("Carol@example.org", carol);
	assert_string_equal(carol, "b39a07821bb2ed23b1d535a66cea5c2c"
				   "165b26cfc19d01cf59db1d2d43ca408b");
	snprintf(path, sizeof(path), "%s/v1.db", fx->dir);
	exec_sql(path, v1_schema);
	exec_sql(path, v1_rows);
	s = store_open(path);
	assert_non_null(s);
	assert_int_equal(store_schema_version(s), store_schema_latest());

	/* Ada: the unsubscribed row, as it was typed, the earliest created */
	assert_int_equal(store_sub_get(s, "ada@example.org", &row), 1);
	assert_int_equal(row.id, 2);
	assert_string_equal(row.email, "ADA@example.org");
	assert_int_equal(row.status, SUB_UNSUBSCRIBED);
	assert_string_equal(row.created, "2026-01-01T00:00:00Z");
	assert_string_equal(row.attrs, "{\"city\":\"Paris\"}");
	log = history(s, "\"ada\"@example.org");
	assert_int_equal(log.n, 4);	/* every Ada's events, in order */
	assert_string_equal(log.types[0], "subscribe");
	assert_string_equal(log.types[1], "subscribe");
	assert_string_equal(log.types[2], "unsubscribe");
	assert_string_equal(log.types[3], "subscribe");
	assert_int_equal(status_of(s, "BOB@example.org"), SUB_COMPLAINED);
	assert_int_equal(history(s, "bob@example.org").n, 2);
	assert_int_equal(status_of(s, "dan@example.org"), SUB_ACTIVE);
	/* Carol is erased: no row, no events, no deliveries; one erase event */
	assert_int_equal(store_sub_get(s, "carol@example.org", &row), 0);
	assert_int_equal(store_is_erased(s, "Carol@example.org"), 1);
	store_close(s);
	assert_int_equal(query_int(path, "SELECT count(*) FROM subscribers"), 3);
	assert_int_equal(query_int(path, "SELECT count(*) FROM events WHERE"
				   " subscriber_id IS NULL AND type = 'erase'"
				   " AND method = 'migration'"), 1);
	assert_int_equal(query_int(path, "SELECT count(*) FROM events"), 8);
	/* deliveries: one per campaign and person, the furthest along */
	assert_int_equal(query_int(path, "SELECT count(*) FROM deliveries"), 2);
	assert_int_equal(query_int(path, "SELECT count(*) FROM deliveries WHERE"
				   " subscriber_id = 2 AND ((campaign_id ="
				   " '2026-01' AND state = 'sent') OR (campaign_id"
				   " = '2026-02' AND state = 'failed'))"), 2);
	/* the identity is unique in the file itself */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_index_list("
		 "'subscribers') AS l, pragma_index_info(l.name) AS i WHERE"
		 " l.\"unique\" AND i.name = 'canon'");
	assert_int_equal(query_int(path, sql), 1);
	assert_int_equal(query_int(path, "SELECT count(*) FROM"
				   " pragma_foreign_key_check"), 0);
	remove_db(path);
}

/* Entries written before schema 2 hashed the address as typed. */
static void old_suppressions_still_hold(void **state)
{
	struct fixture *fx = *state;
	struct store_why why = { "command", "asked", NULL };
	enum store_outcome oc;
	char path[128];
	struct store *s;

	snprintf(path, sizeof(path), "%s/v1.db", fx->dir);
	exec_sql(path, v1_schema);
	/* printf %s Old.Case@example.org | sha256sum: v1 hashed that form */
	exec_sql(path, "INSERT INTO suppressions VALUES ('"
		 "f423f479276dbd0be31891f55617297b3b3d35a13f9d5ddbe96cacf8dd83e407"
		 "', 'erased', 'now')");
	s = store_open(path);
	assert_non_null(s);
	assert_int_equal(store_is_erased(s, "Old.Case@example.org"), 1);
	assert_int_equal(put(s, "Old.Case@example.org", NULL, SUB_ACTIVE),
			 STORE_SUPPRESSED);
	assert_int_equal(store_sub_resubscribe(s, "Old.Case@example.org", &why,
					       &oc), 0);
	assert_int_equal(oc, STORE_ADDED);
	assert_int_equal(store_is_erased(s, "Old.Case@example.org"), 0);
	store_close(s);
	assert_int_equal(query_int(path, "SELECT count(*) FROM suppressions"), 0);
	remove_db(path);
}


/* ---- the file ------------------------------------------------------------- */

/* Whether needle appears in the file at path (missing: no). */
static int file_has(const char *path, const char *needle)
{
	struct buf b = BUF_INIT;
	int found;

	if (access(path, F_OK))
		return 0;
	assert_int_equal(read_file(path, &b), 0);
	found = memmem(b.data, b.len, needle, strlen(needle)) != NULL;
	buf_release(&b);
	return found;
}

/* What secure_delete is for: nothing of an erased person stays in the
 * file's free pages or free space, without a VACUUM. */
static void erase_leaves_no_bytes(void **state)
{
	struct fixture *fx = *state;
	static const char *const secrets[] = {
		"Secret.Person@example.org", "secret.person@example.org",
		"Very Secret Name", "a very private reason",
	};
	struct store_why why = { "command", "a very private reason", NULL };
	char wal[128];
	enum store_outcome oc;

	/* enough neighbours that the pages stay in use after the erase */
	for (int i = 0; i < 200; i++) {
		char email[64];

		snprintf(email, sizeof(email), "neighbour%d@example.org", i);
		put(fx->s, email, "Neighbour", SUB_ACTIVE);
		if (i == 100)
			put(fx->s, secrets[0], secrets[2], SUB_ACTIVE);
	}
	assert_int_equal(store_sub_suppress(fx->s, secrets[0], SUB_UNSUBSCRIBED,
					    &why, &oc), 0);
	store_close(fx->s);
	fx->s = store_open(fx->path);
	assert_non_null(fx->s);
	/* the data was there, in the file: the test can see it */
	assert_true(file_has(fx->path, secrets[0]));
	assert_int_equal(store_sub_erase(fx->s, secrets[1], &by_test, &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	store_close(fx->s);	/* checkpoints the WAL into the file */
	fx->s = NULL;
	snprintf(wal, sizeof(wal), "%s-wal", fx->path);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		assert_false(file_has(fx->path, secrets[i]));
		assert_false(file_has(wal, secrets[i]));
	}
	assert_true(file_has(fx->path, "neighbour199@example.org"));
	fx->s = store_open(fx->path);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* A new database holds personal data: its owner's alone, whatever the
 * umask; so are its folder and the -wal and -shm files. */
static void new_files_are_private(void **state)
{
	struct fixture *fx = *state;
	char dir[128], path[160], p[168];
	mode_t old = umask(022);
	struct store *s;

	snprintf(dir, sizeof(dir), "%s/private", fx->dir);
	snprintf(path, sizeof(path), "%s/list.db", dir);
	s = store_open(path);
	/* the caller's umask is given back */
	assert_int_equal(umask(old), 022);
	assert_non_null(s);
	put(s, "ada@example.org", NULL, SUB_ACTIVE);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(mode_of(path), 0600);
	snprintf(p, sizeof(p), "%s-wal", path);
	assert_int_equal(mode_of(p), 0600);
	snprintf(p, sizeof(p), "%s-shm", path);
	assert_int_equal(mode_of(p), 0600);
	store_close(s);
	remove_db(path);
	rmdir(dir);
}

static void open_existing_never_creates(void **state)
{
	struct fixture *fx = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/typo/bulletin.db", fx->dir);
	assert_null(store_open_existing(path));
	snprintf(path, sizeof(path), "%s/typo", fx->dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/missing.db", fx->dir);
	assert_null(store_open_existing(path));
	assert_int_equal(access(path, F_OK), -1);
	/* an existing one opens */
	store_close(fx->s);
	fx->s = store_open_existing(fx->path);
	assert_non_null(fx->s);
}

/* Someone else's database, or a damaged one, is refused untouched. */
static void foreign_databases_refused(void **state)
{
	struct fixture *fx = *state;
	static const char *const setups[] = {
		"CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);"
		"INSERT INTO notes (text) VALUES ('mine');",
		"PRAGMA user_version = -3;",
		"PRAGMA user_version = -1;",
	};
	char path[128], wal[136];
	struct buf before = BUF_INIT, after = BUF_INIT;

	snprintf(path, sizeof(path), "%s/other.db", fx->dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	for (size_t i = 0; i < sizeof(setups) / sizeof(setups[0]); i++) {
		exec_sql(path, setups[i]);
		buf_reset(&before);
		assert_int_equal(read_file(path, &before), 0);
		assert_null(store_open(path));
		assert_null(store_open_existing(path));
		buf_reset(&after);
		assert_int_equal(read_file(path, &after), 0);
		assert_int_equal(after.len, before.len);
		assert_memory_equal(after.data, before.data, before.len);
		assert_int_equal(access(wal, F_OK), -1);	/* not made WAL */
		remove_db(path);
	}
	buf_release(&before);
	buf_release(&after);
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

/* The endpoint's call: the change and the address for its page, in
 * every outcome but not found. */
static void unsubscribe_by_id_with_the_address(void **state)
{
	struct fixture *fx = *state;
	struct store_why click = { "one-click", NULL, "1999-01" };
	enum store_outcome oc;
	char email[STORE_EMAIL_MAX];
	long long ada;

	put(fx->s, "ada@example.org", NULL, SUB_ACTIVE);
	ada = id_of(fx->s, "ada@example.org");
	assert_int_equal(store_unsub_by_id_email(fx->s, ada, 0, &click, email,
						 &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	assert_string_equal(email, "ada@example.org");
	assert_int_equal(status_of(fx->s, "ada@example.org"), SUB_UNSUBSCRIBED);
	strcpy(email, "-");
	assert_int_equal(store_unsub_by_id_email(fx->s, ada, 0, &click, email,
						 &oc), 0);
	assert_int_equal(oc, STORE_UNCHANGED);
	assert_string_equal(email, "ada@example.org");
	assert_int_equal(history(fx->s, "ada@example.org").n, 2);
	assert_int_equal(store_unsub_by_id_email(fx->s, ada, 1, &click, email,
						 &oc), 0);
	assert_int_equal(oc, STORE_UPDATED);
	assert_int_equal(status_of(fx->s, "ada@example.org"), SUB_ACTIVE);
	assert_int_equal(store_unsub_by_id_email(fx->s, ada + 1000, 0, &click,
						 email, &oc), 0);
	assert_int_equal(oc, STORE_NOT_FOUND);
}

static void note_pages(void *arg, int pages)
{
	*(int *)arg = pages;
}

/* With a WAL hook, commits leave the WAL to it (no checkpoint of their
 * own); another connection's checkpoint copies all of it, which an open
 * reader of the newest pages would prevent. */
static void checkpoints_apart(void **state)
{
	struct fixture *fx = *state;
	struct store *other = store_open(fx->path);
	char email[STORE_EMAIL_MAX];
	enum sub_status status;
	int pages = 0;

	assert_non_null(other);
	store_wal_hook(fx->s, note_pages, &pages);
	for (int i = 0; i < 50; i++) {
		int before = pages;

		snprintf(email, sizeof(email), "p%d@example.org", i);
		put(fx->s, email, NULL, SUB_ACTIVE);
		assert_true(pages > before);	/* never reset by a checkpoint */
	}
	assert_int_equal(store_checkpoint(other), 1);
	assert_int_equal(store_begin_read(other), 0);
	assert_int_equal(store_sub_by_id(other, id_of(fx->s, "p0@example.org"),
					 email, &status), 1);
	put(fx->s, "late@example.org", NULL, SUB_ACTIVE);
	/* other still reads its snapshot: the late pages cannot be copied */
	assert_int_equal(store_checkpoint(fx->s), 0);
	store_rollback(other);
	assert_int_equal(store_checkpoint(fx->s), 1);
	store_close(other);
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
		T(one_row_per_identity),
		T(erased_in_every_form),
		T(migration_merges_duplicates),
		T(old_suppressions_still_hold),
		T(erase_leaves_no_bytes),
		T(new_files_are_private),
		T(open_existing_never_creates),
		T(foreign_databases_refused),
		T(unsubscribe_by_id),
		T(unsubscribe_by_id_with_the_address),
		T(checkpoints_apart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
