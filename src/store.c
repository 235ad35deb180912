#include "store.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "address.h"
#include "buf.h"
#include "util.h"

/* How long a writer waits for another one: an import holds the write
 * lock until it commits, about 15 s for a million rows on a small
 * machine, and a `sub add` meanwhile should wait, not fail. */
#define BUSY_TIMEOUT_MS 30000

/* ---- schema ------------------------------------------------------------- */

/*
 * Migration i takes the schema from version i to i + 1. Never edit one
 * that has shipped: append a new one. Each runs in its own transaction
 * together with the PRAGMA user_version that records it.
 */
static const char *const migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE subscribers ("
	"  id      INTEGER PRIMARY KEY,"
	"  email   TEXT NOT NULL UNIQUE,"	/* normalised: domain lower-cased */
	"  name    TEXT,"
	/* OR, not IN: a CHECK with IN (...) builds a temporary b-tree at
	 * every insert, a third of an import's time */
	"  status  TEXT NOT NULL CHECK (status = 'active' OR status = 'pending'"
	"          OR status = 'unsubscribed' OR status = 'bounced'"
	"          OR status = 'complained'),"
	"  attrs   TEXT CHECK (attrs IS NULL OR json_valid(attrs)),"
	"  created TEXT NOT NULL,"
	"  updated TEXT NOT NULL"
	");"
	"CREATE TABLE campaigns ("
	"  id           TEXT PRIMARY KEY,"	/* the digest folder name */
	"  subject      TEXT NOT NULL,"
	"  content_hash TEXT NOT NULL,"
	"  created      TEXT NOT NULL,"
	"  started      TEXT,"
	"  finished     TEXT"
	");"
	"CREATE TABLE deliveries ("
	"  campaign_id   TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,"
	"  subscriber_id INTEGER NOT NULL"
	"                REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  state         TEXT NOT NULL DEFAULT 'queued' CHECK (state = 'queued'"
	"                OR state = 'sending' OR state = 'sent'"
	"                OR state = 'deferred' OR state = 'failed'),"
	"  attempts      INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt  TEXT,"
	"  last_reply    TEXT,"
	"  message_id    TEXT,"
	"  updated       TEXT NOT NULL,"
	"  PRIMARY KEY (campaign_id, subscriber_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX deliveries_subscriber ON deliveries(subscriber_id);"
	"CREATE TABLE events ("
	"  id            INTEGER PRIMARY KEY,"
	"  type          TEXT NOT NULL CHECK (type = 'subscribe'"
	"                OR type = 'confirm' OR type = 'unsubscribe'"
	"                OR type = 'resubscribe' OR type = 'bounce'"
	"                OR type = 'complaint' OR type = 'erase'),"
	"  subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  campaign_id   TEXT REFERENCES campaigns(id) ON DELETE SET NULL,"
	"  method        TEXT NOT NULL,"
	"  detail        TEXT,"
	"  created       TEXT NOT NULL"
	");"
	"CREATE INDEX events_subscriber ON events(subscriber_id);"
	"CREATE INDEX events_campaign ON events(campaign_id)"
	"  WHERE campaign_id IS NOT NULL;"
	"CREATE TABLE suppressions ("
	"  hash    TEXT PRIMARY KEY,"	/* sha256 hex of the normalised address */
	"  reason  TEXT NOT NULL,"
	"  created TEXT NOT NULL"
	") WITHOUT ROWID;",

	/*
	 * 2: one row per person. email stays as typed (mail goes there);
	 * canon, the canonical identity (address.h), is unique and what
	 * every lookup and the suppression hash use. The table is rebuilt
	 * to drop email's UNIQUE (migrate() runs with foreign keys off and
	 * checks them before committing); bulletin_canonical() and
	 * bulletin_hash() are store.c's C functions (register_functions).
	 * Rows of one identity merge into the one with the most restrictive
	 * status (complained > bounced > unsubscribed > active > pending;
	 * then the oldest), which takes their events, their deliveries (one
	 * per campaign: the furthest along) and the earliest created. A
	 * person whose identity is on the suppression list is erased. Only
	 * those few rows are looked at: two sorts in all, for a million
	 * subscribers.
	 */
	"CREATE TABLE subscribers_v2 ("
	"  id      INTEGER PRIMARY KEY,"
	"  email   TEXT NOT NULL,"		/* as typed, domain normalised */
	"  canon   TEXT NOT NULL,"		/* address_canonical(email) */
	"  name    TEXT,"
	"  status  TEXT NOT NULL CHECK (status = 'active' OR status = 'pending'"
	"          OR status = 'unsubscribed' OR status = 'bounced'"
	"          OR status = 'complained'),"
	"  attrs   TEXT CHECK (attrs IS NULL OR json_valid(attrs)),"
	"  created TEXT NOT NULL,"
	"  updated TEXT NOT NULL"
	");"
	"INSERT INTO subscribers_v2 (id, email, canon, name, status, attrs,"
	"  created, updated)"
	"  SELECT id, email, bulletin_canonical(email), name, status, attrs,"
	"   created, updated FROM main.subscribers ORDER BY id;"
	"DROP TABLE main.subscribers;"
	"ALTER TABLE subscribers_v2 RENAME TO subscribers;"
	"CREATE TEMP TABLE merged AS"
	"  SELECT id, min(created) OVER same AS created,"
	"   first_value(id) OVER (same ORDER BY CASE status"
	"    WHEN 'complained' THEN 4 WHEN 'bounced' THEN 3"
	"    WHEN 'unsubscribed' THEN 2 WHEN 'active' THEN 1 ELSE 0 END DESC,"
	"    id) AS keep"
	"  FROM main.subscribers WHERE canon IN (SELECT canon"
	"   FROM main.subscribers GROUP BY canon HAVING count(*) > 1)"
	"  WINDOW same AS (PARTITION BY canon);"
	"DELETE FROM deliveries WHERE (campaign_id, subscriber_id) IN ("
	"  SELECT campaign_id, subscriber_id FROM ("
	"   SELECT d.campaign_id, d.subscriber_id, row_number() OVER ("
	"     PARTITION BY d.campaign_id, m.keep ORDER BY CASE d.state"
	"     WHEN 'sent' THEN 4 WHEN 'sending' THEN 3 WHEN 'deferred' THEN 2"
	"     WHEN 'failed' THEN 1 ELSE 0 END DESC,"
	"     d.subscriber_id = m.keep DESC"
	"   ) AS n FROM deliveries d JOIN merged m ON m.id = d.subscriber_id)"
	"  WHERE n > 1);"
	"UPDATE deliveries SET subscriber_id ="
	"  (SELECT keep FROM merged WHERE id = subscriber_id)"
	"  WHERE subscriber_id IN (SELECT id FROM merged WHERE id != keep);"
	"UPDATE events SET subscriber_id ="
	"  (SELECT keep FROM merged WHERE id = subscriber_id)"
	"  WHERE subscriber_id IN (SELECT id FROM merged WHERE id != keep);"
	"UPDATE main.subscribers SET created ="
	"  (SELECT created FROM merged WHERE merged.id = subscribers.id)"
	"  WHERE id IN (SELECT keep FROM merged);"
	"DELETE FROM main.subscribers"
	"  WHERE id IN (SELECT id FROM merged WHERE id != keep);"
	"CREATE TEMP TABLE erased AS"
	"  SELECT id FROM main.subscribers"
	"  WHERE EXISTS (SELECT 1 FROM main.suppressions)"
	"   AND bulletin_hash(canon) IN (SELECT hash FROM main.suppressions);"
	"DELETE FROM deliveries WHERE subscriber_id IN (SELECT id FROM erased);"
	"DELETE FROM events WHERE subscriber_id IN (SELECT id FROM erased);"
	"DELETE FROM main.subscribers WHERE id IN (SELECT id FROM erased);"
	"INSERT INTO events (type, method, detail, created)"
	"  SELECT 'erase', 'migration', 'erased before under another form',"
	"   strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM erased ORDER BY id;"
	"DROP TABLE temp.merged;"
	"DROP TABLE temp.erased;"
	"CREATE UNIQUE INDEX subscribers_canon ON subscribers(canon);",
	/* 3: the dispatcher's states 'uncertain' (claimed when a run died) and
	 * 'skipped' (left the list while the campaign ran), the reply code,
	 * and the indexes its queue reads. SQLite cannot change a CHECK
	 * constraint in place, so the table is rebuilt and its rows copied;
	 * the states stay enforced by the database. */
	"CREATE TABLE deliveries_v2 ("
	"  campaign_id   TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,"
	"  subscriber_id INTEGER NOT NULL"
	"                REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  state         TEXT NOT NULL DEFAULT 'queued' CHECK (state = 'queued'"
	"                OR state = 'sending' OR state = 'sent'"
	"                OR state = 'deferred' OR state = 'failed'"
	"                OR state = 'uncertain' OR state = 'skipped'),"
	"  attempts      INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt  TEXT,"
	"  last_reply    TEXT,"
	"  reply_code    INTEGER,"
	"  message_id    TEXT,"
	"  updated       TEXT NOT NULL,"
	"  PRIMARY KEY (campaign_id, subscriber_id)"
	") WITHOUT ROWID;"
	"INSERT INTO deliveries_v2 (campaign_id, subscriber_id, state, attempts,"
	"  next_attempt, last_reply, message_id, updated)"
	"  SELECT campaign_id, subscriber_id, state, attempts, next_attempt,"
	"  last_reply, message_id, updated FROM deliveries;"
	"DROP TABLE deliveries;"
	"ALTER TABLE deliveries_v2 RENAME TO deliveries;"
	"CREATE INDEX deliveries_subscriber ON deliveries(subscriber_id);"
	/* the queue: queued rows in id order, counts per state */
	"CREATE INDEX deliveries_state ON deliveries(campaign_id, state);"
	"CREATE INDEX deliveries_due ON deliveries(campaign_id, next_attempt)"
	"  WHERE state = 'deferred';",
	/* 4: what came back. bounces logs each bounce and complaint read (the
	 * report counts them per campaign); bounce_scores keeps each
	 * subscriber's soft-bounce score; the index ties a returned
	 * message to its delivery by Message-ID. IF NOT EXISTS: it may
	 * run again on a database whose version was set back (as
	 * test_store does). */
	"CREATE INDEX IF NOT EXISTS deliveries_message_id ON deliveries(message_id)"
	"  WHERE message_id IS NOT NULL;"
	"CREATE TABLE IF NOT EXISTS bounces ("
	"  id            INTEGER PRIMARY KEY,"
	"  subscriber_id INTEGER NOT NULL"
	"                REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  campaign_id   TEXT REFERENCES campaigns(id) ON DELETE SET NULL,"
	"  kind          TEXT NOT NULL CHECK (kind = 'hard' OR kind = 'soft'"
	"                OR kind = 'complaint'),"
	"  status        TEXT,"
	"  created       TEXT NOT NULL"
	");"
	"CREATE INDEX IF NOT EXISTS bounces_campaign ON bounces(campaign_id)"
	"  WHERE campaign_id IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS bounces_subscriber ON bounces(subscriber_id);"
	"CREATE TABLE IF NOT EXISTS bounce_scores ("
	"  subscriber_id INTEGER PRIMARY KEY"
	"                REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  score         INTEGER NOT NULL,"
	"  last_day      TEXT NOT NULL"	/* "2026-11-03": one point a day */
	");",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- statements --------------------------------------------------------- */

enum query {
	Q_BEGIN, Q_BEGIN_READ, Q_COMMIT,
	Q_USER_VERSION,
	Q_SUB_BY_EMAIL, Q_SUB_INSERT, Q_SUB_INSERT_NEW, Q_SUB_UPDATE, Q_SUB_STATUS,
	Q_SUB_DELETE, Q_EVENT_INSERT, Q_EVENTS_NEW,
	Q_SUPP_GET, Q_SUPP_INSERT, Q_SUPP_DELETE, Q_SUPP_NONE,
	Q_EVENTS, Q_COUNT_STATUS, Q_MONTHLY, Q_ATTR_KEYS,
	/* campaigns and deliveries */
	Q_CAMP_GET, Q_CAMP_INSERT, Q_CAMP_SNAPSHOT, Q_CAMP_STARTED,
	Q_CAMP_FINISHED, Q_CAMP_LIST, Q_DLV_MOVE, Q_DLV_RETRY_FAILED,
	Q_DLV_COUNTS, Q_DLV_REPLIES, Q_DLV_DUE, Q_DLV_QUEUED, Q_DLV_NEXT_DUE,
	Q_DLV_CLAIM, Q_DLV_RESULT, Q_DLV_SENT_SINCE, Q_DLV_LIST,
	/* the unsubscribe endpoint and its report */
	Q_SUB_BY_ID, Q_EVENT_IF_CAMP, Q_UNSUB_BY_METHOD,
	/* the inbox */
	Q_IB_BY_MSGID, Q_IB_DLV_EXISTS, Q_IB_RECORD, Q_IB_SCORE_GET,
	Q_IB_SCORE_PUT, Q_IB_COUNTS,
	NQUERIES
};

/* Every fixed statement; prepared on first use and kept. */
static const char *const sql[NQUERIES] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_BEGIN_READ] = "BEGIN",
	[Q_COMMIT] = "COMMIT",
	[Q_USER_VERSION] = "PRAGMA user_version",
	[Q_SUB_BY_EMAIL] =
		"SELECT id, email, name, status, created, updated, attrs"
		" FROM subscribers WHERE canon = ?1",
	[Q_SUB_INSERT] =
		"INSERT INTO subscribers (email, name, status, attrs, created,"
		" updated, canon)"
		" VALUES (?1, nullif(?2, ''), ?3, ?4, ?5, ?6, ?7)",
	/* Inserts only a new address: sqlite3_changes() says which it was.
	 * OR IGNORE rather than ON CONFLICT DO NOTHING: a statement that
	 * cannot abort needs no statement journal, a copy of every page it
	 * touches (the values bound are valid: store.c makes them). attrs
	 * is stored as given, not through json(): the CHECK validates it
	 * and callers hand in minified JSON, so an import costs one parse
	 * less per row. */
	[Q_SUB_INSERT_NEW] =
		"INSERT OR IGNORE INTO subscribers (email, name, status, attrs,"
		" created, updated, canon)"
		" VALUES (?1, nullif(?2, ''), ?3, ?4, ?5, ?6, ?7)",
	/* Changes the row only when something differs, so sqlite3_changes()
	 * tells updated from unchanged. */
	[Q_SUB_UPDATE] =
		"UPDATE subscribers SET name = coalesce(nullif(?2, ''), name),"
		" attrs = iif(?3 IS NULL, attrs,"
		"             json_patch(coalesce(attrs, '{}'), ?3)),"
		" status = ?4, updated = ?5"
		" WHERE id = ?1 AND (status IS NOT ?4"
		"  OR name IS NOT coalesce(nullif(?2, ''), name)"
		"  OR attrs IS NOT iif(?3 IS NULL, attrs,"
		"                      json_patch(coalesce(attrs, '{}'), ?3)))",
	[Q_SUB_STATUS] =
		"UPDATE subscribers SET status = ?2, updated = ?3 WHERE id = ?1",
	[Q_SUB_DELETE] = "DELETE FROM subscribers WHERE id = ?1",
	[Q_EVENT_INSERT] =
		"INSERT INTO events (type, subscriber_id, campaign_id, method,"
		" detail, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* The first events of the rows added since ?1, in one statement. */
	[Q_EVENTS_NEW] =
		"INSERT INTO events (type, subscriber_id, campaign_id, method,"
		" detail, created)"
		" SELECT CASE status WHEN 'unsubscribed' THEN 'unsubscribe'"
		"  WHEN 'bounced' THEN 'bounce' WHEN 'complained' THEN 'complaint'"
		"  ELSE 'subscribe' END, id, ?2, ?3, ?4, created"
		" FROM subscribers WHERE id > ?1 ORDER BY id",
	[Q_SUPP_GET] = "SELECT 1 FROM suppressions WHERE hash = ?1",
	[Q_SUPP_INSERT] =
		"INSERT OR IGNORE INTO suppressions (hash, reason, created)"
		" VALUES (?1, ?2, ?3)",
	[Q_SUPP_DELETE] = "DELETE FROM suppressions WHERE hash = ?1",
	[Q_SUPP_NONE] = "SELECT NOT EXISTS (SELECT 1 FROM suppressions)",
	[Q_EVENTS] =
		"SELECT type, method, detail, campaign_id, created FROM events"
		" WHERE subscriber_id = ?1 ORDER BY id",
	/* one pass, no GROUP BY: no sorter, whatever the size */
	[Q_COUNT_STATUS] =
		"SELECT total(status = 'pending'), total(status = 'active'),"
		" total(status = 'unsubscribed'), total(status = 'bounced'),"
		" total(status = 'complained') FROM subscribers",
	[Q_MONTHLY] =
		"SELECT substr(created, 1, 7) AS month,"
		" sum(type = 'subscribe'),"
		" sum(type IN ('unsubscribe', 'complaint'))"
		" FROM events WHERE type IN ('subscribe', 'unsubscribe', 'complaint')"
		" GROUP BY month ORDER BY month",
	[Q_ATTR_KEYS] =
		/* no ORDER BY: sorting every row's keys before the DISTINCT
		 * would take memory; the few distinct keys are sorted by the
		 * caller */
		"SELECT DISTINCT j.key FROM subscribers, json_each(subscribers.attrs) AS j"
		" WHERE ?1 IS NULL OR subscribers.status = ?1",
	[Q_CAMP_GET] =
		"SELECT id, subject, content_hash, created, started, finished"
		" FROM campaigns WHERE id = ?1",
	[Q_CAMP_INSERT] =
		"INSERT INTO campaigns (id, subject, content_hash, created)"
		" VALUES (?1, ?2, ?3, ?4)",
	[Q_CAMP_SNAPSHOT] =
		"INSERT INTO deliveries (campaign_id, subscriber_id, updated)"
		" SELECT ?1, id, ?2 FROM subscribers WHERE status = 'active'"
		" ORDER BY id",
	[Q_CAMP_STARTED] =
		"UPDATE campaigns SET started = coalesce(started, ?2),"
		" finished = NULL WHERE id = ?1",
	[Q_CAMP_FINISHED] = "UPDATE campaigns SET finished = ?2 WHERE id = ?1",
	[Q_CAMP_LIST] =
		"SELECT c.id, c.subject, c.started, c.finished,"
		" total(d.state = 'queued'), total(d.state = 'sending'),"
		" total(d.state = 'sent'), total(d.state = 'deferred'),"
		" total(d.state = 'failed'), total(d.state = 'uncertain'),"
		" total(d.state = 'skipped')"
		" FROM campaigns c LEFT JOIN deliveries d ON d.campaign_id = c.id"
		" GROUP BY c.id ORDER BY c.created, c.id",
	[Q_DLV_MOVE] =
		"UPDATE deliveries SET state = ?3, updated = ?4"
		" WHERE campaign_id = ?1 AND state = ?2",
	[Q_DLV_RETRY_FAILED] =
		"UPDATE deliveries SET state = 'queued', attempts = 0,"
		" next_attempt = NULL, updated = ?2"
		" WHERE campaign_id = ?1 AND state = 'failed'",
	[Q_DLV_COUNTS] =
		"SELECT state, count(*) FROM deliveries WHERE campaign_id = ?1"
		" GROUP BY state",
	[Q_DLV_REPLIES] =
		"SELECT reply_code, count(*), max(last_reply) FROM deliveries"
		" WHERE campaign_id = ?1 AND reply_code IS NOT NULL"
		" GROUP BY reply_code ORDER BY reply_code",
	[Q_DLV_DUE] =
		"SELECT d.subscriber_id, s.email, s.name, s.status, d.attempts"
		" FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
		" WHERE d.campaign_id = ?1 AND d.state = 'deferred'"
		" AND d.next_attempt <= ?2 ORDER BY d.next_attempt LIMIT ?3",
	[Q_DLV_QUEUED] =
		"SELECT d.subscriber_id, s.email, s.name, s.status, d.attempts"
		" FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
		" WHERE d.campaign_id = ?1 AND d.state = 'queued'"
		" AND d.subscriber_id > ?2 ORDER BY d.subscriber_id LIMIT ?3",
	[Q_DLV_NEXT_DUE] =
		"SELECT min(next_attempt), count(*) FROM deliveries"
		" WHERE campaign_id = ?1 AND state = 'deferred'",
	[Q_DLV_CLAIM] =
		"UPDATE deliveries SET state = ?3, message_id = ?4,"
		" last_reply = coalesce(?5, last_reply), updated = ?6"
		" WHERE campaign_id = ?1 AND subscriber_id = ?2",
	[Q_DLV_RESULT] =
		"UPDATE deliveries SET state = ?3, attempts = ?4, next_attempt = ?5,"
		" last_reply = ?6, reply_code = ?7, updated = ?8"
		" WHERE campaign_id = ?1 AND subscriber_id = ?2 AND state = 'sending'",
	[Q_DLV_SENT_SINCE] =
		"SELECT count(*) FROM deliveries WHERE state = 'sent'"
		" AND updated >= ?1",
	[Q_DLV_LIST] =
		"SELECT s.email, d.message_id, d.last_reply, d.updated"
		" FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
		" WHERE d.campaign_id = ?1 AND d.state = ?2 ORDER BY d.subscriber_id",
	[Q_SUB_BY_ID] =
		"SELECT id, email, name, status, created, updated, attrs"
		" FROM subscribers WHERE id = ?1",
	/* An event whose campaign is dropped when there is no such one (a
	 * token from a preview names a campaign never sent). */
	[Q_EVENT_IF_CAMP] =
		"INSERT INTO events (type, subscriber_id, campaign_id, method,"
		" detail, created) VALUES (?1, ?2,"
		" (SELECT id FROM campaigns WHERE id = ?3), ?4, ?5, ?6)",
	[Q_UNSUB_BY_METHOD] =
		"SELECT type, method, count(*) FROM events WHERE campaign_id = ?1"
		" AND type IN ('unsubscribe', 'resubscribe')"
		" GROUP BY type, method ORDER BY type DESC, method",
	[Q_IB_BY_MSGID] =
		"SELECT campaign_id, subscriber_id FROM deliveries"
		" WHERE message_id = ?1 LIMIT 1",
	[Q_IB_DLV_EXISTS] =
		"SELECT 1 FROM deliveries WHERE campaign_id = ?1"
		" AND subscriber_id = ?2",
	[Q_IB_RECORD] =
		"INSERT INTO bounces (subscriber_id, campaign_id, kind, status,"
		" created) VALUES (?1, (SELECT id FROM campaigns WHERE id = ?2),"
		" ?3, ?4, ?5)",
	/* the score, and the days since its last point */
	[Q_IB_SCORE_GET] =
		"SELECT score, julianday(?2) - julianday(last_day)"
		" FROM bounce_scores WHERE subscriber_id = ?1",
	[Q_IB_SCORE_PUT] =
		"INSERT OR REPLACE INTO bounce_scores (subscriber_id, score,"
		" last_day) VALUES (?1, ?2, ?3)",
	[Q_IB_COUNTS] =
		"SELECT count(DISTINCT iif(kind = 'hard', subscriber_id, NULL)),"
		" count(DISTINCT iif(kind = 'soft', subscriber_id, NULL)),"
		" count(DISTINCT iif(kind = 'complaint', subscriber_id, NULL))"
		" FROM bounces WHERE campaign_id = ?1",
};

struct store {
	sqlite3      *db;
	char         *path;
	sqlite3_stmt *stmt[NQUERIES];
	int           no_supp;		/* in store_begin's transaction: no suppressions */
	/* New rows whose first event is still to be written (see try_insert) */
	int           deferred;		/* there are some */
	long long     deferred_after;	/* their ids are greater than this */
	char         *deferred_why[3];	/* their campaign, method, detail */
	time_t        now_t;		/* the second now[] was formatted for */
	char          now[24];		/* "2026-11-03T10:00:00Z" */
	struct buf    canon;		/* canon_of's answer, reused */
	void        (*wal_fn)(void *arg, int pages);	/* store_wal_hook's */
	void         *wal_arg;
};

static const char *const status_names[SUB_NSTATUS] = {
	[SUB_PENDING] = "pending",
	[SUB_ACTIVE] = "active",
	[SUB_UNSUBSCRIBED] = "unsubscribed",
	[SUB_BOUNCED] = "bounced",
	[SUB_COMPLAINED] = "complained",
};

/* The event that records a move into each status. */
static const char *const status_events[SUB_NSTATUS] = {
	[SUB_PENDING] = "subscribe",
	[SUB_ACTIVE] = "subscribe",
	[SUB_UNSUBSCRIBED] = "unsubscribe",
	[SUB_BOUNCED] = "bounce",
	[SUB_COMPLAINED] = "complaint",
};

const char *store_status_name(enum sub_status st)
{
	return (unsigned)st < SUB_NSTATUS ? status_names[st] : NULL;
}

int store_status_parse(const char *name, enum sub_status *st)
{
	for (int i = 0; i < SUB_NSTATUS; i++)
		if (!strcmp(name, status_names[i])) {
			*st = (enum sub_status)i;
			return 0;
		}
	return -1;
}

int store_status_suppressed(enum sub_status st)
{
	return st == SUB_UNSUBSCRIBED || st == SUB_BOUNCED ||
	       st == SUB_COMPLAINED;
}

/* ---- errors and helpers ------------------------------------------------- */

static int db_error(struct store *s, const char *what)
{
	int rc = sqlite3_extended_errcode(s->db);

	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return error("database '%s' is busy: another process kept it "
			     "locked for more than %d s (%s)", s->path,
			     BUSY_TIMEOUT_MS / 1000, what);
	return error("database '%s': %s: %s", s->path, what,
		     sqlite3_errmsg(s->db));
}

/* Returns the statement ready to bind, or NULL after error(). */
static sqlite3_stmt *stmt(struct store *s, enum query q)
{
	if (!s->stmt[q] &&
	    sqlite3_prepare_v3(s->db, sql[q], -1, SQLITE_PREPARE_PERSISTENT,
			       &s->stmt[q], NULL) != SQLITE_OK) {
		db_error(s, "cannot prepare a statement");
		return NULL;
	}
	sqlite3_reset(s->stmt[q]);
	sqlite3_clear_bindings(s->stmt[q]);
	return s->stmt[q];
}

/* Steps a statement that returns no rows to the end. 0 or -1. */
static int run(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return db_error(s, "cannot write");
}

static void bind_text(sqlite3_stmt *st, int i, const char *text)
{
	if (text)
		sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* The current time, formatted once per second. */
static const char *now(struct store *s)
{
	time_t t = time(NULL);
	struct tm tm;

	if (t != s->now_t) {
		gmtime_r(&t, &tm);
		strftime(s->now, sizeof(s->now), "%Y-%m-%dT%H:%M:%SZ", &tm);
		s->now_t = t;
	}
	return s->now;
}

static int exec_simple(struct store *s, enum query q)
{
	sqlite3_stmt *st = stmt(s, q);

	return st ? run(s, st) : -1;
}

/* ---- deferred events ---------------------------------------------------- */

/*
 * In an import, writing each new row's "subscribe" event with its own
 * INSERT costs a third of the time: the events of a run of new rows are
 * written by one INSERT ... SELECT instead, before anything else touches
 * the rows or the events and before the commit, so the log's order and
 * content are what one INSERT per row would give.
 */
static void forget_deferred(struct store *s)
{
	for (int i = 0; i < 3; i++) {
		free(s->deferred_why[i]);
		s->deferred_why[i] = NULL;
	}
	s->deferred = 0;
}

static int flush_events(struct store *s)
{
	sqlite3_stmt *st;
	int ret;

	if (!s->deferred)
		return 0;
	st = stmt(s, Q_EVENTS_NEW);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, s->deferred_after);
	for (int i = 0; i < 3; i++)
		bind_text(st, 2 + i, s->deferred_why[i]);
	ret = run(s, st);
	forget_deferred(s);
	return ret;
}

static int same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Notes that row id's first event is due, with why. */
static int defer_event(struct store *s, long long id,
		       const struct store_why *why)
{
	const char *w[3] = { why->campaign, why->method, why->detail };

	if (s->deferred && same(w[0], s->deferred_why[0]) &&
	    same(w[1], s->deferred_why[1]) && same(w[2], s->deferred_why[2]))
		return 0;
	if (flush_events(s))
		return -1;
	s->deferred = 1;
	s->deferred_after = id - 1;
	for (int i = 0; i < 3; i++)
		s->deferred_why[i] = w[i] ? xstrdup(w[i]) : NULL;
	return 0;
}

/* ---- transactions ------------------------------------------------------- */

static int begin_immediate(struct store *s)
{
	return exec_simple(s, Q_BEGIN);
}

/* Whether the suppression list is empty: then, until the transaction
 * ends, nobody else can add to it, and new addresses need no hash. */
static int check_suppressions(struct store *s)
{
	sqlite3_stmt *st = stmt(s, Q_SUPP_NONE);

	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_error(s, "cannot read");
	}
	s->no_supp = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return 0;
}

int store_begin(struct store *s)
{
	if (begin_immediate(s))
		return -1;
	if (!check_suppressions(s))
		return 0;
	store_rollback(s);
	return -1;
}

int store_begin_read(struct store *s)
{
	return exec_simple(s, Q_BEGIN_READ);
}

int store_commit(struct store *s)
{
	s->no_supp = 0;
	if (!flush_events(s) && !exec_simple(s, Q_COMMIT))
		return 0;
	store_rollback(s);
	return -1;
}

void store_rollback(struct store *s)
{
	s->no_supp = 0;
	forget_deferred(s);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Opens a transaction unless the caller has one; *own says which. */
static int tx_enter(struct store *s, int *own)
{
	/* store_sub_get's row may still be held: let go of its snapshot. */
	if (s->stmt[Q_SUB_BY_EMAIL])
		sqlite3_reset(s->stmt[Q_SUB_BY_EMAIL]);
	*own = sqlite3_get_autocommit(s->db);
	return *own ? begin_immediate(s) : 0;
}

/* Ends what tx_enter began: commit on ret == 0, else roll back. A
 * failure inside the caller's transaction leaves it to the caller. */
static int tx_leave(struct store *s, int own, int ret)
{
	if (!own)
		return ret;
	if (ret)
		store_rollback(s);
	else
		ret = store_commit(s);
	return ret;
}

/* ---- lifecycle ---------------------------------------------------------- */

int store_schema_latest(void)
{
	return NMIGRATIONS;
}

/* Reads PRAGMA user_version into *v. 0 or -1. */
static int read_version(struct store *s, int *v)
{
	sqlite3_stmt *st = stmt(s, Q_USER_VERSION);
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_error(s, "cannot read the schema version");
	return 0;
}

int store_schema_version(struct store *s)
{
	int v;

	return read_version(s, &v) ? -1 : v;
}

/* Adds one to the int at arg per row of an answer. */
static int count_row(void *arg, int ncols, char **values, char **names)
{
	(void)ncols; (void)values; (void)names;
	++*(int *)arg;
	return 0;
}

/* After a migration that rebuilt a table, every reference must hold. */
static int check_references(struct store *s, int version)
{
	int broken = 0;

	if (sqlite3_exec(s->db, "PRAGMA foreign_key_check", count_row, &broken,
			 NULL) != SQLITE_OK)
		return db_error(s, "cannot check references");
	if (broken)
		return error("database '%s': migration to version %d failed: it "
			     "would leave %d broken reference%s", s->path,
			     version, broken, broken == 1 ? "" : "s");
	return 0;
}

/* Applies migration v (version v to v + 1) unless another process
 * already did while we waited for the lock. */
static int migrate_one(struct store *s, int v)
{
	char pragma[48];
	char *msg = NULL;
	int cur;

	if (begin_immediate(s))
		return -1;
	if (read_version(s, &cur))
		goto fail;
	if (cur > v) {
		store_rollback(s);
		return 0;
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
	if (sqlite3_exec(s->db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, pragma, NULL, NULL, &msg) != SQLITE_OK) {
		error("database '%s': migration to version %d failed: %s",
		      s->path, v + 1, msg ? msg : "?");
		sqlite3_free(msg);
		goto fail;
	}
	if (check_references(s, v + 1))
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

/*
 * Migrations run with foreign keys off, so that one may rebuild a table
 * others reference (SQLite's procedure for changes ALTER TABLE cannot
 * make: a DROP TABLE would otherwise cascade to the events); each checks
 * the references itself before it commits.
 */
static int migrate(struct store *s)
{
	int v, ret = 0;

	if (read_version(s, &v))
		return -1;
	if (v >= NMIGRATIONS)
		return 0;
	if (sqlite3_exec(s->db, "PRAGMA foreign_keys = OFF", NULL, NULL,
			 NULL) != SQLITE_OK)
		return db_error(s, "cannot migrate");
	for (; v < NMIGRATIONS && !ret; v++)
		ret = migrate_one(s, v);
	if (sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL,
			 NULL) != SQLITE_OK && !ret)
		ret = db_error(s, "cannot migrate");
	return ret;
}

/* Stores the columns of the answer, numbers, in the ints at arg. */
static int int_answer(void *arg, int ncols, char **values, char **names)
{
	(void)names;
	for (int i = 0; i < ncols; i++)
		((int *)arg)[i] = values[i] ? atoi(values[i]) : 0;
	return 0;
}

/*
 * Refuses a file that is not a bulletin database, before anything is
 * written to it (even the switch to WAL): a schema version bulletin
 * never writes (negative) or a newer one, or tables without a bulletin
 * schema (version 0): someone else's database, behind a mistyped path.
 */
static int check_ours(struct store *s)
{
	/* one statement, one snapshot: a bulletin creating the database
	 * meanwhile commits its tables and version together */
	static const char query[] =
		"SELECT user_version, (SELECT count(*) FROM sqlite_master)"
		" FROM pragma_user_version";
	int answer[2] = { 0, 0 }, v, tables;

	if (sqlite3_exec(s->db, query, int_answer, answer, NULL) != SQLITE_OK)
		return db_error(s, "cannot read the schema");
	v = answer[0];
	tables = answer[1];
	if (v < 0)
		return error("database '%s' has schema version %d, which "
			     "bulletin never writes: it is not a bulletin "
			     "database, or it is damaged", s->path, v);
	if (v > NMIGRATIONS)
		return error("database '%s' has schema version %d, newer than "
			     "this bulletin knows (%d): upgrade bulletin",
			     s->path, v, NMIGRATIONS);
	if (v == 0 && tables)
		return error("database '%s' holds other tables and no bulletin "
			     "schema: not using it (check [store] path in the "
			     "configuration)", s->path);
	return 0;
}

/* Stores the first column of the pragma's answer in arg. */
static int pragma_answer(void *arg, int ncols, char **values, char **names)
{
	(void)names;
	if (ncols > 0 && values[0])
		snprintf(arg, 16, "%s", values[0]);
	return 0;
}

/*
 * Puts the file in WAL mode (which persists in the file). Two processes
 * creating the database at once can get SQLITE_BUSY here without the
 * busy handler being asked, so this waits and retries itself.
 */
static int set_wal(struct store *s)
{
	char mode[16] = "";
	int rc, waited = 0;

	for (;;) {
		rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL",
				  pragma_answer, mode, NULL);
		if ((rc & 0xff) != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS)
			break;
		waited += sqlite3_sleep(20);
	}
	if (rc != SQLITE_OK)
		return db_error(s, "cannot switch to WAL mode");
	if (strcmp(mode, "wal"))
		return error("database '%s': cannot switch to WAL mode (%s)",
			     s->path, mode);
	return 0;
}

/* Connection settings, on every open. */
static int configure(struct store *s)
{
	static const char pragmas[] =
		"PRAGMA synchronous = NORMAL;"	/* durable at checkpoints, safe in WAL */
		"PRAGMA foreign_keys = ON;"
		/* what is deleted is overwritten, so an erased person leaves
		 * nothing in free pages or free space of a page */
		"PRAGMA secure_delete = ON;"
		"PRAGMA cache_size = -8192;";	/* 8 MiB, whatever the file size */

	/* A new database only (the size of an existing one stays): an
	 * import writes every page twice, to the WAL and back, two system
	 * calls a frame; 16 KiB pages make a quarter of the calls and
	 * B-tree splits (a sorted 300,000-row import: a fifth less time). */
	if (sqlite3_exec(s->db, "PRAGMA page_size = 16384", NULL, NULL,
			 NULL) != SQLITE_OK)
		return db_error(s, "cannot open");
	if (set_wal(s))
		return -1;
	if (sqlite3_exec(s->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, "cannot open");
	return 0;
}

/* ---- SQL functions, for the migrations ---------------------------------- */

/* bulletin_canonical(email): address_canonical's answer. */
static void sql_canonical(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *email = (const char *)sqlite3_value_text(argv[0]);
	struct buf out = BUF_INIT;
	size_t len;
	char *text;

	(void)argc;
	if (!email) {
		sqlite3_result_null(ctx);
		return;
	}
	address_canonical(email, &out);
	text = buf_detach(&out, &len);
	sqlite3_result_text64(ctx, text, len, free, SQLITE_UTF8);
}

/* The lower-case hex SHA-256 of text. */
static void hash_hex(const char *text, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, text, strlen(text), md);
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

/* bulletin_hash(text): the hex SHA-256 the suppression list keeps. */
static void sql_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *text = (const char *)sqlite3_value_text(argv[0]);
	char hex[65];

	(void)argc;
	if (!text) {
		sqlite3_result_null(ctx);
		return;
	}
	hash_hex(text, hex);
	sqlite3_result_text(ctx, hex, 64, SQLITE_TRANSIENT);
}

static int register_functions(struct store *s)
{
	static const struct {
		const char *name;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
	} fns[] = {
		{ "bulletin_canonical", sql_canonical },
		{ "bulletin_hash", sql_hash },
	};
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (sqlite3_create_function_v2(s->db, fns[i].name, 1, flags,
					       NULL, fns[i].fn, NULL, NULL,
					       NULL) != SQLITE_OK)
			return db_error(s, "cannot register a function");
	return 0;
}

/* ---- opening ------------------------------------------------------------ */

/* Creates the folder the database goes in, when it has one: for its
 * owner alone, like the database. */
static int make_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct stat st;
	char *dir;
	int ret = 0;

	if (!slash || slash == path)
		return 0;
	dir = xstrndup(path, (size_t)(slash - path));
	if (stat(dir, &st))
		ret = mkdir_p(dir, 0700);
	free(dir);
	return ret;
}

/* For commands that only read: a missing database is a mistake to name. */
static int check_exists(const char *path)
{
	struct stat st;

	if (!stat(path, &st))
		return 0;
	if (errno == ENOENT)
		return error("no database '%s': 'bulletin init' creates one (or "
			     "check [store] path in the configuration)", path);
	return error("cannot open database '%s': %s", path, strerror(errno));
}

static int open_db(struct store *s, int flags)
{
	if (sqlite3_open_v2(s->path, &s->db, flags, NULL) != SQLITE_OK) {
		if (!s->db)
			return error("cannot open database '%s': out of memory",
				     s->path);
		return db_error(s, "cannot open");
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if (register_functions(s) || check_ours(s) || configure(s) ||
	    migrate(s))
		return -1;
	return 0;
}

static struct store *open_store(const char *path, int create)
{
	struct store *s = xcalloc(1, sizeof(*s));
	/* one connection per process, used by one thread: no mutexes */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
		    (create ? SQLITE_OPEN_CREATE : 0);
	mode_t mask;
	int ret;

	s->path = xstrdup(path);
	s->canon = (struct buf)BUF_INIT;
	if (create ? make_parent(path) : check_exists(path))
		goto fail;
	/* a new file holds personal data: its owner's alone (SQLite gives
	 * the -wal and -shm files the database's mode) */
	mask = umask(077);
	ret = open_db(s, flags);
	umask(mask);
	if (!ret)
		return s;
fail:
	store_close(s);
	return NULL;
}

struct store *store_open(const char *path)
{
	return open_store(path, 1);
}

struct store *store_open_existing(const char *path)
{
	return open_store(path, 0);
}

void store_close(struct store *s)
{
	if (!s)
		return;
	forget_deferred(s);
	for (int i = 0; i < NQUERIES; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	buf_release(&s->canon);
	free(s->path);
	free(s);
}

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *s = arg;

	(void)db;
	(void)name;
	s->wal_fn(s->wal_arg, pages);
	return SQLITE_OK;
}

void store_wal_hook(struct store *s, void (*fn)(void *arg, int pages),
		    void *arg)
{
	s->wal_fn = fn;
	s->wal_arg = arg;
	/* replaces SQLite's own hook, which checkpoints */
	sqlite3_wal_hook(s->db, wal_hook, s);
}

int store_checkpoint(struct store *s)
{
	int pages = 0, copied = 0;
	int rc = sqlite3_wal_checkpoint_v2(s->db, NULL,
					   SQLITE_CHECKPOINT_PASSIVE, &pages,
					   &copied);

	if (rc == SQLITE_OK)
		return copied >= pages;
	if ((rc & 0xff) == SQLITE_BUSY)
		return 0;
	return db_error(s, "cannot checkpoint");
}

/* ---- subscribers -------------------------------------------------------- */

void store_address_hash(const char *email, char hex[65])
{
	struct buf canon = BUF_INIT;

	address_canonical(email, &canon);
	hash_hex(canon.data, hex);
	buf_release(&canon);
}

/* The canonical identity of email, in s->canon: valid until the next
 * call. Every lookup goes through it. */
static const char *canon_of(struct store *s, const char *email)
{
	buf_reset(&s->canon);
	address_canonical(email, &s->canon);
	return s->canon.data;
}

static void fill_row(sqlite3_stmt *st, struct store_row *row)
{
	enum sub_status status = SUB_PENDING;

	store_status_parse(col_text(st, 3), &status);
	row->id = sqlite3_column_int64(st, 0);
	row->email = col_text(st, 1);
	row->name = col_text(st, 2);
	row->status = status;
	row->created = col_text(st, 4);
	row->updated = col_text(st, 5);
	row->attrs = col_text(st, 6);
	row->values = NULL;
}

/* Looks a subscriber up by canonical identity; as store_sub_get. */
static int get_by_canon(struct store *s, const char *canon,
			struct store_row *row)
{
	sqlite3_stmt *st = stmt(s, Q_SUB_BY_EMAIL);
	int rc;

	if (!st)
		return -1;
	bind_text(st, 1, canon);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fill_row(st, row);
		return 1;	/* the row stays readable until the next reset */
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_error(s, "cannot read");
}

int store_sub_get(struct store *s, const char *email, struct store_row *row)
{
	return get_by_canon(s, canon_of(s, email), row);
}

/* Looks the identity up for a writer: *id and *status, 1 found, 0 not. */
static int lookup(struct store *s, const char *canon, long long *id,
		  enum sub_status *status)
{
	struct store_row row;
	int rc = get_by_canon(s, canon, &row);

	if (rc == 1) {
		*id = row.id;
		*status = row.status;
		sqlite3_reset(s->stmt[Q_SUB_BY_EMAIL]);
	}
	return rc;
}

static int add_event(struct store *s, const char *type, long long id,
		     const struct store_why *why, const char *when)
{
	sqlite3_stmt *st = stmt(s, Q_EVENT_INSERT);

	if (!st)
		return -1;
	bind_text(st, 1, type);
	if (id)
		sqlite3_bind_int64(st, 2, id);
	bind_text(st, 3, why->campaign);
	bind_text(st, 4, why->method);
	bind_text(st, 5, why->detail);
	bind_text(st, 6, when ? when : now(s));
	return run(s, st);
}

/* Whether text's hash is on the suppression list: 1, 0 or -1. */
static int supp_has(struct store *s, const char *text)
{
	sqlite3_stmt *st = stmt(s, Q_SUPP_GET);
	char hash[65];
	int rc;

	if (!st)
		return -1;
	hash_hex(text, hash);
	bind_text(st, 1, hash);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_error(s, "cannot read");
}

/* Before schema 2 the list hashed the address as typed: such an entry
 * still matches that form (see store.h). */
static int is_erased(struct store *s, const char *canon, const char *email)
{
	int rc = supp_has(s, canon);

	if (rc == 0 && strcmp(canon, email))
		rc = supp_has(s, email);
	return rc;
}

int store_is_erased(struct store *s, const char *email)
{
	return is_erased(s, canon_of(s, email), email);
}

/* Binds a new row's values to an insert statement. */
static void bind_sub(struct store *s, sqlite3_stmt *st,
		     const struct store_sub *sub, const char *canon,
		     const char *created)
{
	bind_text(st, 1, sub->email);
	bind_text(st, 2, sub->name);
	bind_text(st, 3, status_names[sub->status]);
	bind_text(st, 4, sub->attrs);
	bind_text(st, 5, created);
	bind_text(st, 6, now(s));
	bind_text(st, 7, canon);
}

/* Runs the insert q for sub, whose identity is canon. Returns the new
 * row's id, 0 when q inserted nothing (the identity exists), or -1. */
static long long insert_row(struct store *s, enum query q,
			    const struct store_sub *sub, const char *canon,
			    const char *created)
{
	sqlite3_stmt *st = stmt(s, q);

	if (!st)
		return -1;
	bind_sub(s, st, sub, canon, created);
	if (run(s, st))
		return -1;
	return sqlite3_changes(s->db) ? sqlite3_last_insert_rowid(s->db) : 0;
}

/* Inserts a new row and its first event. */
static int insert_sub(struct store *s, const struct store_sub *sub,
		      const char *canon, const struct store_why *why,
		      const char *event)
{
	const char *created = sub->created ? sub->created : now(s);
	long long id = insert_row(s, Q_SUB_INSERT, sub, canon, created);

	if (id <= 0)
		return -1;
	return add_event(s, event, id, why, created);
}

static int put_new(struct store *s, const struct store_sub *sub,
		   const char *canon, const struct store_why *why,
		   enum store_outcome *outcome)
{
	int erased = is_erased(s, canon, sub->email);

	if (erased < 0)
		return -1;
	if (erased) {
		*outcome = STORE_SUPPRESSED;
		return 0;
	}
	*outcome = STORE_ADDED;
	return insert_sub(s, sub, canon, why, status_events[sub->status]);
}

/* Inserts sub if its address is new, which the caller knows is not
 * suppressed, deferring its event. Returns 1 if it was added, 0 if it
 * exists, or -1. */
static int try_insert(struct store *s, const struct store_sub *sub,
		      const char *canon, const struct store_why *why,
		      enum store_outcome *outcome)
{
	long long id = insert_row(s, Q_SUB_INSERT_NEW, sub, canon,
				  sub->created ? sub->created : now(s));

	if (id <= 0)
		return (int)id;
	*outcome = STORE_ADDED;
	if (defer_event(s, id, why))
		return -1;
	return 1;
}

/* The status an existing row gets when sub->status is wanted. */
static enum sub_status next_status(enum sub_status cur, enum sub_status want)
{
	if (store_status_suppressed(cur))
		return cur;
	if (store_status_suppressed(want))
		return want;
	return cur == SUB_PENDING && want == SUB_ACTIVE ? SUB_ACTIVE : cur;
}

static int put_existing(struct store *s, long long id, enum sub_status cur,
			const struct store_sub *sub,
			const struct store_why *why, enum store_outcome *outcome)
{
	sqlite3_stmt *st = stmt(s, Q_SUB_UPDATE);
	enum sub_status next = next_status(cur, sub->status);

	if (store_status_suppressed(cur)) {
		*outcome = store_status_suppressed(sub->status) ?
			   STORE_UNCHANGED : STORE_SUPPRESSED;
		return 0;
	}
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, sub->name);
	bind_text(st, 3, sub->attrs);
	bind_text(st, 4, status_names[next]);
	bind_text(st, 5, now(s));
	if (run(s, st))
		return -1;
	*outcome = sqlite3_changes(s->db) ? STORE_UPDATED : STORE_UNCHANGED;
	if (next == cur)
		return 0;
	return add_event(s, next == SUB_ACTIVE ? "confirm" : status_events[next],
			 id, why, NULL);
}

int store_sub_put(struct store *s, const struct store_sub *sub,
		  const struct store_why *why, enum store_outcome *outcome)
{
	enum sub_status cur = SUB_PENDING;
	const char *canon;
	long long id = 0;
	int own, ret;

	if (tx_enter(s, &own))
		return -1;
	canon = canon_of(s, sub->email);
	/* With no suppressions, trying the insert first saves a lookup
	 * for every new address: the common case of an import. */
	ret = s->no_supp ? try_insert(s, sub, canon, why, outcome) : 0;
	if (ret)
		return tx_leave(s, own, ret < 0 ? -1 : 0);
	ret = flush_events(s);
	if (!ret)
		ret = lookup(s, canon, &id, &cur);
	if (ret == 0)
		ret = put_new(s, sub, canon, why, outcome);
	else if (ret == 1)
		ret = put_existing(s, id, cur, sub, why, outcome);
	return tx_leave(s, own, ret);
}

/* The status alone: every caller adds the event. */
static int update_status(struct store *s, long long id, enum sub_status to)
{
	sqlite3_stmt *st = stmt(s, Q_SUB_STATUS);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, status_names[to]);
	bind_text(st, 3, now(s));
	return run(s, st);
}

static int set_status(struct store *s, long long id, enum sub_status to,
		      const char *event, const struct store_why *why)
{
	if (update_status(s, id, to))
		return -1;
	return add_event(s, event, id, why, NULL);
}

/* Whether a subscriber in status cur moves to the suppressed status to:
 * complained is final; unsubscribed is not downgraded to bounced. */
static int suppress_applies(enum sub_status cur, enum sub_status to)
{
	if (cur == to || cur == SUB_COMPLAINED)
		return 0;
	return !(cur == SUB_UNSUBSCRIBED && to == SUB_BOUNCED);
}

int store_sub_suppress(struct store *s, const char *email,
		       enum sub_status status, const struct store_why *why,
		       enum store_outcome *outcome)
{
	enum sub_status cur = SUB_PENDING;
	long long id = 0;
	int own, ret;

	if (!store_status_suppressed(status))
		return error("store_sub_suppress: '%s' is not a suppressed status",
			     store_status_name(status));
	/* a caller's transaction may have deferred events: write them */
	if (tx_enter(s, &own) || flush_events(s))
		return -1;
	ret = lookup(s, canon_of(s, email), &id, &cur);
	*outcome = ret == 1 ? STORE_UNCHANGED : STORE_NOT_FOUND;
	if (ret == 1 && suppress_applies(cur, status)) {
		*outcome = STORE_UPDATED;
		ret = set_status(s, id, status, status_events[status], why);
	}
	return tx_leave(s, own, ret < 0 ? -1 : 0);
}

/* Takes text's hash off the suppression list. 0 or -1. */
static int supp_delete(struct store *s, const char *text)
{
	sqlite3_stmt *st = stmt(s, Q_SUPP_DELETE);
	char hash[65];

	if (!st)
		return -1;
	hash_hex(text, hash);
	bind_text(st, 1, hash);
	return run(s, st);
}

/* Resubscribing an erased address: off the suppression list (in both
 * forms is_erased knows), in anew. */
static int unerase(struct store *s, const char *email, const char *canon,
		   const struct store_why *why, enum store_outcome *outcome)
{
	struct store_sub sub = { email, NULL, NULL, SUB_ACTIVE, NULL };

	if (supp_delete(s, canon) || supp_delete(s, email))
		return -1;
	*outcome = STORE_ADDED;
	return insert_sub(s, &sub, canon, why, "resubscribe");
}

int store_sub_resubscribe(struct store *s, const char *email,
			  const struct store_why *why,
			  enum store_outcome *outcome)
{
	enum sub_status cur = SUB_PENDING;
	const char *canon;
	long long id = 0;
	int own, ret;

	/* a caller's transaction may have deferred events: write them */
	if (tx_enter(s, &own) || flush_events(s))
		return -1;
	canon = canon_of(s, email);
	ret = lookup(s, canon, &id, &cur);
	if (ret == 1 && !store_status_suppressed(cur)) {
		*outcome = STORE_UNCHANGED;
	} else if (ret == 1) {
		*outcome = STORE_UPDATED;
		ret = set_status(s, id, SUB_ACTIVE, "resubscribe", why);
	} else if (ret == 0) {
		*outcome = STORE_NOT_FOUND;
		ret = is_erased(s, canon, email);
		if (ret == 1)
			ret = unerase(s, email, canon, why, outcome);
	}
	return tx_leave(s, own, ret < 0 ? -1 : 0);
}

/* Deletes the row (events and deliveries follow by ON DELETE CASCADE),
 * keeps the hash, and logs an erase that names nobody. */
static int erase_row(struct store *s, const char *canon, long long id,
		     const struct store_why *why)
{
	sqlite3_stmt *st = stmt(s, Q_SUPP_INSERT);
	char hash[65];

	if (!st)
		return -1;
	hash_hex(canon, hash);
	bind_text(st, 1, hash);
	bind_text(st, 2, "erased");
	bind_text(st, 3, now(s));
	if (run(s, st))
		return -1;
	s->no_supp = 0;
	st = stmt(s, Q_SUB_DELETE);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (run(s, st))
		return -1;
	return add_event(s, "erase", 0, why, NULL);
}

int store_sub_erase(struct store *s, const char *email,
		    const struct store_why *why, enum store_outcome *outcome)
{
	enum sub_status cur = SUB_PENDING;
	const char *canon;
	long long id = 0;
	int own, ret;

	/* a caller's transaction may have deferred events: write them */
	if (tx_enter(s, &own) || flush_events(s))
		return -1;
	canon = canon_of(s, email);
	ret = lookup(s, canon, &id, &cur);
	if (ret == 1) {
		*outcome = STORE_UPDATED;
		ret = erase_row(s, canon, id, why);
	} else if (ret == 0) {
		ret = is_erased(s, canon, email);
		*outcome = ret == 1 ? STORE_UNCHANGED : STORE_NOT_FOUND;
	}
	return tx_leave(s, own, ret < 0 ? -1 : 0);
}

/* ---- reading many rows -------------------------------------------------- */

struct store_iter {
	struct store  *s;
	sqlite3_stmt  *st;
	size_t         nkeys;
	const char   **values;
};

/* Binds the status filter of q to parameter i (NULL: any status). */
static void bind_status(sqlite3_stmt *st, int i, const struct store_query *q)
{
	bind_text(st, i, q->any_status ? NULL : status_names[q->status]);
}

/*
 * One column per attribute key, looked up with json_each, whose keys are
 * the decoded names: a JSON path compares its label with the key as
 * escaped in the JSON text, so a name holding '\', '"' or a control
 * character would not be found (and '.', '$' or '[' need quoting).
 */
static void add_key_column(struct buf *q, int param)
{
	buf_addf(q, ", (SELECT value FROM json_each(attrs) WHERE key = ?%d)",
		 param);
}

struct store_iter *store_iter_new(struct store *s, const struct store_query *q)
{
	struct store_iter *it = xcalloc(1, sizeof(*it));
	struct buf text = BUF_INIT;

	buf_adds(&text, "SELECT id, email, name, status, created, updated, attrs");
	for (size_t i = 0; i < q->nkeys; i++)
		add_key_column(&text, (int)i + 3);
	buf_adds(&text, " FROM subscribers WHERE ?1 IS NULL OR status = ?1"
		 " ORDER BY id LIMIT ?2");
	it->s = s;
	it->nkeys = q->nkeys;
	it->values = xcalloc(q->nkeys ? q->nkeys : 1, sizeof(*it->values));
	if (sqlite3_prepare_v2(s->db, text.data, -1, &it->st, NULL) != SQLITE_OK) {
		db_error(s, "cannot prepare a query");
		store_iter_free(it);
		it = NULL;
		goto out;
	}
	bind_status(it->st, 1, q);
	sqlite3_bind_int64(it->st, 2, q->limit > 0 ? q->limit : -1);
	for (size_t i = 0; i < q->nkeys; i++)
		sqlite3_bind_text(it->st, (int)i + 3, q->keys[i], -1,
				  SQLITE_TRANSIENT);
out:
	buf_release(&text);
	return it;
}

int store_iter_next(struct store_iter *it, struct store_row *row)
{
	int rc = sqlite3_step(it->st);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return db_error(it->s, "cannot read");
	fill_row(it->st, row);
	for (size_t i = 0; i < it->nkeys; i++)
		it->values[i] = col_text(it->st, 7 + (int)i);
	row->values = it->values;
	return 1;
}

void store_iter_free(struct store_iter *it)
{
	if (!it)
		return;
	sqlite3_finalize(it->st);
	free(it->values);
	free(it);
}

/* Steps st to the end calling each(st, fn, arg) per row; see store.h. */
static int walk(struct store *s, sqlite3_stmt *st,
		int (*each)(sqlite3_stmt *st, void *fn, void *arg),
		void *fn, void *arg)
{
	int rc, ret = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((ret = each(st, fn, arg)) != 0)
			break;
	if (!ret && rc != SQLITE_DONE)
		ret = db_error(s, "cannot read");
	sqlite3_reset(st);
	return ret;
}

/* The callbacks are passed through walk() as void *; these wrappers turn
 * them back into their types. */
struct key_cb { int (*fn)(const char *key, void *arg); };
struct event_cb { int (*fn)(const struct store_event *ev, void *arg); };
struct month_cb { int (*fn)(const struct store_month *m, void *arg); };

static int each_key(sqlite3_stmt *st, void *fn, void *arg)
{
	return ((struct key_cb *)fn)->fn(col_text(st, 0), arg);
}

int store_attr_keys(struct store *s, const struct store_query *q,
		    int (*fn)(const char *key, void *arg), void *arg)
{
	sqlite3_stmt *st = stmt(s, Q_ATTR_KEYS);
	struct key_cb cb = { fn };

	if (!st)
		return -1;
	bind_status(st, 1, q);
	return walk(s, st, each_key, &cb, arg);
}

static int each_event(sqlite3_stmt *st, void *fn, void *arg)
{
	struct store_event ev = {
		col_text(st, 0), col_text(st, 1), col_text(st, 2),
		col_text(st, 3), col_text(st, 4),
	};

	return ((struct event_cb *)fn)->fn(&ev, arg);
}

int store_sub_events(struct store *s, long long id,
		     int (*fn)(const struct store_event *ev, void *arg),
		     void *arg)
{
	sqlite3_stmt *st = stmt(s, Q_EVENTS);
	struct event_cb cb = { fn };

	if (!st || flush_events(s))
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return walk(s, st, each_event, &cb, arg);
}

static int each_count(sqlite3_stmt *st, void *fn, void *arg)
{
	long long *counts = arg;

	(void)fn;
	for (int i = 0; i < SUB_NSTATUS; i++)
		counts[i] = sqlite3_column_int64(st, i);
	return 0;
}

int store_count_by_status(struct store *s, long long counts[SUB_NSTATUS])
{
	sqlite3_stmt *st = stmt(s, Q_COUNT_STATUS);

	memset(counts, 0, SUB_NSTATUS * sizeof(*counts));
	if (!st)
		return -1;
	return walk(s, st, each_count, NULL, counts);
}

static int each_month(sqlite3_stmt *st, void *fn, void *arg)
{
	struct store_month m = {
		col_text(st, 0), sqlite3_column_int64(st, 1),
		sqlite3_column_int64(st, 2),
	};

	return ((struct month_cb *)fn)->fn(&m, arg);
}

int store_monthly(struct store *s,
		  int (*fn)(const struct store_month *m, void *arg), void *arg)
{
	sqlite3_stmt *st = stmt(s, Q_MONTHLY);
	struct month_cb cb = { fn };

	if (!st || flush_events(s))
		return -1;
	return walk(s, st, each_month, &cb, arg);
}

/* ---- campaigns and deliveries ------------------------------------------- */

static const char *const dlv_names[DLV_NSTATES] = {
	[DLV_QUEUED] = "queued",
	[DLV_SENDING] = "sending",
	[DLV_SENT] = "sent",
	[DLV_DEFERRED] = "deferred",
	[DLV_FAILED] = "failed",
	[DLV_UNCERTAIN] = "uncertain",
	[DLV_SKIPPED] = "skipped",
};

const char *store_dlv_state_name(enum dlv_state st)
{
	return (unsigned)st < DLV_NSTATES ? dlv_names[st] : NULL;
}

static int dlv_state_parse(const char *name, enum dlv_state *st)
{
	for (int i = 0; name && i < DLV_NSTATES; i++)
		if (!strcmp(name, dlv_names[i])) {
			*st = (enum dlv_state)i;
			return 0;
		}
	return -1;
}

static void fill_campaign(sqlite3_stmt *st, struct store_campaign *c)
{
	c->id = col_text(st, 0);
	c->subject = col_text(st, 1);
	c->content_hash = col_text(st, 2);
	c->created = col_text(st, 3);
	c->started = col_text(st, 4);
	c->finished = col_text(st, 5);
}

int store_campaign_get(struct store *s, const char *id,
		       struct store_campaign *c)
{
	sqlite3_stmt *st = stmt(s, Q_CAMP_GET);
	int rc;

	if (!st)
		return -1;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fill_campaign(st, c);
		return 1;	/* readable until the next reset */
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_error(s, "cannot read");
}

int store_campaign_create(struct store *s, const char *id, const char *subject,
			  const char *content_hash, long long *recipients)
{
	sqlite3_stmt *st;
	int own, ret = -1;

	if (tx_enter(s, &own))
		return -1;
	st = stmt(s, Q_CAMP_INSERT);
	if (!st)
		goto out;
	bind_text(st, 1, id);
	bind_text(st, 2, subject);
	bind_text(st, 3, content_hash);
	bind_text(st, 4, now(s));
	if (run(s, st))
		goto out;
	st = stmt(s, Q_CAMP_SNAPSHOT);
	if (!st)
		goto out;
	bind_text(st, 1, id);
	bind_text(st, 2, now(s));
	if (run(s, st))
		goto out;
	*recipients = sqlite3_changes64(s->db);
	ret = 0;
out:
	return tx_leave(s, own, ret);
}

static int campaign_stamp(struct store *s, enum query q, const char *id)
{
	sqlite3_stmt *st = stmt(s, q);

	if (!st)
		return -1;
	bind_text(st, 1, id);
	bind_text(st, 2, now(s));
	return run(s, st);
}

int store_campaign_started(struct store *s, const char *id)
{
	return campaign_stamp(s, Q_CAMP_STARTED, id);
}

int store_campaign_finished(struct store *s, const char *id)
{
	return campaign_stamp(s, Q_CAMP_FINISHED, id);
}

int store_dlv_move(struct store *s, const char *campaign, enum dlv_state from,
		   enum dlv_state to, long long *n)
{
	sqlite3_stmt *st = stmt(s, Q_DLV_MOVE);

	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	bind_text(st, 2, dlv_names[from]);
	bind_text(st, 3, dlv_names[to]);
	bind_text(st, 4, now(s));
	if (run(s, st))
		return -1;
	*n = sqlite3_changes64(s->db);
	return 0;
}

int store_dlv_retry_failed(struct store *s, const char *campaign, long long *n)
{
	sqlite3_stmt *st = stmt(s, Q_DLV_RETRY_FAILED);

	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	bind_text(st, 2, now(s));
	if (run(s, st))
		return -1;
	*n = sqlite3_changes64(s->db);
	return 0;
}

static int each_dlv_count(sqlite3_stmt *st, void *fn, void *arg)
{
	long long *counts = arg;
	enum dlv_state state;

	(void)fn;
	if (!dlv_state_parse(col_text(st, 0), &state))
		counts[state] = sqlite3_column_int64(st, 1);
	return 0;
}

int store_dlv_counts(struct store *s, const char *campaign,
		     long long counts[DLV_NSTATES])
{
	sqlite3_stmt *st = stmt(s, Q_DLV_COUNTS);

	memset(counts, 0, DLV_NSTATES * sizeof(*counts));
	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	return walk(s, st, each_dlv_count, NULL, counts);
}

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* Appends the rows of st (a due or queued query) to out. */
static int read_dlvs(struct store *s, sqlite3_stmt *st, struct store_dlv *out,
		     size_t max, size_t *n, long long *cursor)
{
	int rc = SQLITE_DONE;

	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_dlv *d = &out[(*n)++];

		d->subscriber_id = sqlite3_column_int64(st, 0);
		copy_text(d->email, sizeof(d->email), col_text(st, 1));
		copy_text(d->name, sizeof(d->name), col_text(st, 2));
		d->status = SUB_PENDING;
		store_status_parse(col_text(st, 3), &d->status);
		d->attempts = sqlite3_column_int(st, 4);
		d->deferred = cursor == NULL;
		d->message_id[0] = '\0';
		if (cursor && d->subscriber_id > *cursor)
			*cursor = d->subscriber_id;
	}
	if (*n < max && rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return db_error(s, "cannot read");
	}
	sqlite3_reset(st);
	return 0;
}

int store_dlv_due(struct store *s, const char *campaign, const char *now_ms,
		  long long *cursor, struct store_dlv *out, size_t max,
		  size_t *n)
{
	sqlite3_stmt *st = stmt(s, Q_DLV_DUE);

	*n = 0;
	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	bind_text(st, 2, now_ms);
	sqlite3_bind_int64(st, 3, (long long)max);
	if (read_dlvs(s, st, out, max, n, NULL))
		return -1;
	if (*n == max)
		return 0;
	st = stmt(s, Q_DLV_QUEUED);
	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	sqlite3_bind_int64(st, 2, *cursor);
	sqlite3_bind_int64(st, 3, (long long)(max - *n));
	return read_dlvs(s, st, out, max, n, cursor);
}

int store_dlv_claim(struct store *s, const char *campaign,
		    const struct store_dlv *d)
{
	sqlite3_stmt *st = stmt(s, Q_DLV_CLAIM);
	char why[64];
	int active = d->status == SUB_ACTIVE;

	if (!st)
		return -1;
	snprintf(why, sizeof(why), "subscriber is %s",
		 status_names[d->status]);
	bind_text(st, 1, campaign);
	sqlite3_bind_int64(st, 2, d->subscriber_id);
	bind_text(st, 3, dlv_names[active ? DLV_SENDING : DLV_SKIPPED]);
	bind_text(st, 4, active ? d->message_id : NULL);
	bind_text(st, 5, active ? NULL : why);
	bind_text(st, 6, now(s));
	return run(s, st);
}

int store_dlv_result(struct store *s, const char *campaign,
		     const struct store_result *r)
{
	sqlite3_stmt *st = stmt(s, Q_DLV_RESULT);

	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	sqlite3_bind_int64(st, 2, r->subscriber_id);
	bind_text(st, 3, dlv_names[r->state]);
	sqlite3_bind_int(st, 4, r->attempts);
	bind_text(st, 5, r->state == DLV_DEFERRED ? r->next_attempt : NULL);
	bind_text(st, 6, r->reply);
	if (r->reply_code)
		sqlite3_bind_int(st, 7, r->reply_code);
	bind_text(st, 8, now(s));
	return run(s, st);
}

int store_dlv_next_due(struct store *s, const char *campaign, char next[32],
		       long long *n)
{
	sqlite3_stmt *st = stmt(s, Q_DLV_NEXT_DUE);
	int rc, ret;

	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_error(s, "cannot read");
	}
	*n = sqlite3_column_int64(st, 1);
	ret = col_text(st, 0) != NULL;
	copy_text(next, 32, col_text(st, 0));
	sqlite3_reset(st);
	return ret;
}

long long store_dlv_sent_since(struct store *s, const char *since)
{
	sqlite3_stmt *st = stmt(s, Q_DLV_SENT_SINCE);
	long long n;

	if (!st)
		return -1;
	bind_text(st, 1, since);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_error(s, "cannot read");
	}
	n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

struct reply_cb { int (*fn)(const struct store_reply *r, void *arg); };
struct camp_cb { int (*fn)(const struct store_campaign_sum *c, void *arg); };

static int each_reply(sqlite3_stmt *st, void *fn, void *arg)
{
	struct store_reply r = {
		sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1),
		col_text(st, 2),
	};

	return ((struct reply_cb *)fn)->fn(&r, arg);
}

int store_dlv_replies(struct store *s, const char *campaign,
		      int (*fn)(const struct store_reply *r, void *arg),
		      void *arg)
{
	sqlite3_stmt *st = stmt(s, Q_DLV_REPLIES);
	struct reply_cb cb = { fn };

	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	return walk(s, st, each_reply, &cb, arg);
}

static int each_campaign(sqlite3_stmt *st, void *fn, void *arg)
{
	struct store_campaign_sum c = { {
		col_text(st, 0), col_text(st, 1), NULL, NULL,
		col_text(st, 2), col_text(st, 3) }, { 0 } };

	for (int i = 0; i < DLV_NSTATES; i++)
		c.counts[i] = sqlite3_column_int64(st, 4 + i);
	return ((struct camp_cb *)fn)->fn(&c, arg);
}

int store_campaign_list(struct store *s,
			int (*fn)(const struct store_campaign_sum *c, void *arg),
			void *arg)
{
	sqlite3_stmt *st = stmt(s, Q_CAMP_LIST);
	struct camp_cb cb = { fn };

	if (!st)
		return -1;
	return walk(s, st, each_campaign, &cb, arg);
}

struct dlv_row_cb { int (*fn)(const struct store_dlv_row *r, void *arg); };

static int each_dlv_row(sqlite3_stmt *st, void *fn, void *arg)
{
	struct store_dlv_row r = {
		col_text(st, 0), col_text(st, 1), col_text(st, 2), col_text(st, 3),
	};

	return ((struct dlv_row_cb *)fn)->fn(&r, arg);
}

int store_dlv_list(struct store *s, const char *campaign, enum dlv_state state,
		   int (*fn)(const struct store_dlv_row *r, void *arg),
		   void *arg)
{
	sqlite3_stmt *st = stmt(s, Q_DLV_LIST);
	struct dlv_row_cb cb = { fn };

	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	bind_text(st, 2, dlv_names[state]);
	return walk(s, st, each_dlv_row, &cb, arg);
}

/* ---- the unsubscribe endpoint -------------------------------------------- */

int store_sub_by_id(struct store *s, long long id, char email[STORE_EMAIL_MAX],
		    enum sub_status *status)
{
	sqlite3_stmt *st = stmt(s, Q_SUB_BY_ID);
	struct store_row row;
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fill_row(st, &row);
		if (email)
			snprintf(email, STORE_EMAIL_MAX, "%s", row.email);
		*status = row.status;
	}
	/* reset at once: a statement left on a row holds a read snapshot,
	 * which keeps WAL checkpoints from finishing */
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_error(s, "cannot read");
}

static int add_event_if_campaign(struct store *s, const char *type,
				 long long id, const struct store_why *why)
{
	sqlite3_stmt *st = stmt(s, Q_EVENT_IF_CAMP);

	if (!st)
		return -1;
	bind_text(st, 1, type);
	sqlite3_bind_int64(st, 2, id);
	bind_text(st, 3, why->campaign);
	bind_text(st, 4, why->method);
	bind_text(st, 5, why->detail);
	bind_text(st, 6, now(s));
	return run(s, st);
}

/* Moves subscriber id to status to (with its event) when allowed(cur)
 * says so; copies its address into email (unless NULL); the outcome as
 * store.h says. Three statements (the endpoint writes lots of these:
 * RETURNING, which would save one, costs more here). */
static int change_by_id(struct store *s, long long id, enum sub_status to,
			int (*allowed)(enum sub_status cur),
			const char *event, const struct store_why *why,
			char *email, enum store_outcome *outcome)
{
	enum sub_status cur;
	int own, ret;

	if (tx_enter(s, &own) || flush_events(s))
		return -1;
	ret = store_sub_by_id(s, id, email, &cur);
	*outcome = ret == 1 ? STORE_UNCHANGED : STORE_NOT_FOUND;
	if (ret == 1 && allowed(cur)) {
		*outcome = STORE_UPDATED;
		ret = update_status(s, id, to);
		if (!ret)
			ret = add_event_if_campaign(s, event, id, why);
	}
	return tx_leave(s, own, ret < 0 ? -1 : 0);
}

static int may_unsubscribe(enum sub_status cur)
{
	return suppress_applies(cur, SUB_UNSUBSCRIBED);
}

static int may_undo(enum sub_status cur)
{
	return cur == SUB_UNSUBSCRIBED;
}

int store_unsub_by_id(struct store *s, long long id,
		      const struct store_why *why, enum store_outcome *outcome)
{
	return store_unsub_by_id_email(s, id, 0, why, NULL, outcome);
}

int store_undo_unsub_by_id(struct store *s, long long id,
			   const struct store_why *why,
			   enum store_outcome *outcome)
{
	return store_unsub_by_id_email(s, id, 1, why, NULL, outcome);
}

int store_unsub_by_id_email(struct store *s, long long id, int undo,
			    const struct store_why *why,
			    char email[STORE_EMAIL_MAX],
			    enum store_outcome *outcome)
{
	if (undo)
		return change_by_id(s, id, SUB_ACTIVE, may_undo, "resubscribe",
				    why, email, outcome);
	return change_by_id(s, id, SUB_UNSUBSCRIBED, may_unsubscribe,
			    "unsubscribe", why, email, outcome);
}

struct unsub_cb { int (*fn)(const struct store_unsub_count *c, void *arg); };

static int each_unsub(sqlite3_stmt *st, void *fn, void *arg)
{
	struct store_unsub_count c = {
		col_text(st, 0), col_text(st, 1), sqlite3_column_int64(st, 2),
	};

	return ((struct unsub_cb *)fn)->fn(&c, arg);
}

int store_unsub_counts(struct store *s, const char *campaign,
		       int (*fn)(const struct store_unsub_count *c, void *arg),
		       void *arg)
{
	sqlite3_stmt *st = stmt(s, Q_UNSUB_BY_METHOD);
	struct unsub_cb cb = { fn };

	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	return walk(s, st, each_unsub, &cb, arg);
}

/* ---- the inbox ---------------------------------------------------------- */

int store_dlv_by_message_id(struct store *s, const char *message_id,
			    char campaign[65], long long *subscriber_id)
{
	sqlite3_stmt *st = stmt(s, Q_IB_BY_MSGID);
	int rc;

	if (!st)
		return -1;
	bind_text(st, 1, message_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(campaign, 65, "%s", col_text(st, 0));
		*subscriber_id = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_error(s, "cannot read");
}

int store_dlv_exists(struct store *s, const char *campaign,
		     long long subscriber_id)
{
	sqlite3_stmt *st = stmt(s, Q_IB_DLV_EXISTS);
	int rc;

	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	sqlite3_bind_int64(st, 2, subscriber_id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_error(s, "cannot read");
}

static int record_bounce(struct store *s, long long id, const char *kind,
			 const struct store_why *why)
{
	sqlite3_stmt *st = stmt(s, Q_IB_RECORD);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, why->campaign);
	bind_text(st, 3, kind);
	bind_text(st, 4, why->detail);
	bind_text(st, 5, now(s));
	return run(s, st);
}

static int may_bounce(enum sub_status cur)
{
	return suppress_applies(cur, SUB_BOUNCED);
}

static int may_complain(enum sub_status cur)
{
	return suppress_applies(cur, SUB_COMPLAINED);
}

int store_hard_bounce(struct store *s, long long id,
		      const struct store_why *why, enum store_outcome *outcome)
{
	int own, ret;

	if (tx_enter(s, &own))
		return -1;
	ret = change_by_id(s, id, SUB_BOUNCED, may_bounce, "bounce", why,
			   NULL, outcome);
	if (!ret && *outcome != STORE_NOT_FOUND)
		ret = record_bounce(s, id, "hard", why);
	return tx_leave(s, own, ret);
}

int store_complaint(struct store *s, long long id,
		    const struct store_why *why, enum store_outcome *outcome)
{
	int own, ret;

	if (tx_enter(s, &own))
		return -1;
	ret = change_by_id(s, id, SUB_COMPLAINED, may_complain, "complaint",
			   why, NULL, outcome);
	if (!ret && *outcome != STORE_NOT_FOUND)
		ret = record_bounce(s, id, "complaint", why);
	return tx_leave(s, own, ret);
}

/* Reads the score: *score and *days (since the last point; a large
 * number when there is none). 0 or -1. */
static int score_get(struct store *s, long long id, const char *day,
		     long *score, double *days)
{
	sqlite3_stmt *st = stmt(s, Q_IB_SCORE_GET);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, day);
	rc = sqlite3_step(st);
	*score = 0;
	*days = 1e9;
	if (rc == SQLITE_ROW) {
		*score = (long)sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			*days = sqlite3_column_double(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
						     : db_error(s, "cannot read");
}

static int score_put(struct store *s, long long id, long score,
		     const char *day)
{
	sqlite3_stmt *st = stmt(s, Q_IB_SCORE_PUT);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, score);
	bind_text(st, 3, day);
	return run(s, st);
}

/* The score after a soft bounce on day: stale ones are forgotten, one
 * point per interval at most. */
static long next_score(long score, double days,
		       const struct store_soft_rules *r)
{
	if (days > (double)r->stale_days)
		score = 0;
	if (days >= (double)r->interval_days || days < 0)
		score += 1;
	return score;
}

int store_soft_bounce(struct store *s, long long id, const char *day,
		      const struct store_soft_rules *r,
		      const struct store_why *why, long *score,
		      enum store_outcome *outcome)
{
	enum sub_status cur;
	double days;
	int own, ret, found;

	*outcome = STORE_NOT_FOUND;
	if (tx_enter(s, &own))
		return -1;
	ret = found = store_sub_by_id(s, id, NULL, &cur);
	if (found == 1)
		ret = score_get(s, id, day, score, &days);
	if (found == 1 && !ret) {
		long was = *score;

		*score = next_score(*score, days, r);
		*outcome = *score != was ? STORE_UPDATED : STORE_UNCHANGED;
		ret = record_bounce(s, id, "soft", why);
		if (!ret && *score != was)
			ret = score_put(s, id, *score, day);
		if (!ret && *score >= r->threshold &&
		    suppress_applies(cur, SUB_BOUNCED)) {
			struct store_why w = *why;

			w.detail = "soft bounces";
			ret = change_by_id(s, id, SUB_BOUNCED, may_bounce,
					   "bounce", &w, NULL, outcome);
		}
	}
	return tx_leave(s, own, ret < 0 ? -1 : 0);
}

int store_bounce_counts(struct store *s, const char *campaign,
			long long *hard, long long *soft, long long *complaints)
{
	sqlite3_stmt *st = stmt(s, Q_IB_COUNTS);
	int rc;

	if (!st)
		return -1;
	bind_text(st, 1, campaign);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*hard = sqlite3_column_int64(st, 0);
		*soft = sqlite3_column_int64(st, 1);
		*complaints = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : db_error(s, "cannot read");
}
