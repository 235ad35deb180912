#ifndef BULLETIN_STORE_H
#define BULLETIN_STORE_H

/*
 * The subscriber store: one SQLite database (WAL mode, foreign keys on,
 * a busy timeout), its schema and migrations, and every SQL statement of
 * bulletin. Nothing outside store.c includes sqlite3.h.
 *
 * Tables (see the migrations in store.c for the full definitions):
 *   subscribers   id, email (normalised, as typed: where mail goes),
 *                 canon (UNIQUE: the canonical identity, see address.h),
 *                 name, status, attrs (a JSON object of extra CSV
 *                 columns), created, updated
 *   campaigns     one per issue sent
 *   deliveries    campaign x subscriber send state
 *   events        append-only log: type, subscriber, campaign, method,
 *                 detail, created
 *   suppressions  SHA-256 (hex) of the canonical identities of erased
 *                 people, so they are never added again
 *
 * One person, one row: every function taking an address finds the row
 * by the address's canonical identity (address_canonical), so
 * "ADA@example.org" and "\"ada\"@example.org" find the row added as
 * "ada@example.org", and an erased address stays suppressed in every
 * form. (Suppression entries written before schema 2 hashed the address
 * as typed; an address is checked in that form too.)
 *
 * The file holds personal data: a new database is created mode 0600 in
 * a new folder of mode 0700, and deleted content is overwritten
 * (secure_delete), so an erased person leaves nothing in free pages.
 * Older page images stay in the -wal file until the last connection
 * closes, which checkpoints the WAL into the file and removes it.
 *
 * The rules that keep people who left out of the list live here:
 *  - every change of a subscriber's status appends an event in the same
 *    transaction;
 *  - an unsubscribed, complained or bounced subscriber is never made
 *    pending or active again by store_sub_put (import, `sub add`): only
 *    store_sub_resubscribe does that, and it records why;
 *  - store_sub_erase deletes the person's row, events and deliveries and
 *    keeps the hash of the address; store_sub_put refuses that address.
 *
 * Errors: functions print the reason with error() and return -1 (or
 * NULL). When another process holds the write lock for longer than the
 * busy timeout the message says so. Strings handed in are copied by
 * SQLite; nothing returned needs freeing unless said so. Timestamps are
 * UTC in ISO 8601: "2026-11-03T10:00:00Z".
 *
 * Transactions: each writing function runs in its own BEGIN IMMEDIATE
 * transaction, unless the caller opened one with store_begin(), in which
 * case it joins it (an import is one transaction: all or nothing).
 */

#include <stddef.h>

struct store;

enum sub_status {
	SUB_PENDING,
	SUB_ACTIVE,
	SUB_UNSUBSCRIBED,
	SUB_BOUNCED,
	SUB_COMPLAINED,
};
#define SUB_NSTATUS 5

/* "pending", "active", ... (static); NULL for an out-of-range value. */
const char *store_status_name(enum sub_status st);
/* Parses a status name. Returns 0, or -1 (silently) when it is unknown. */
int store_status_parse(const char *name, enum sub_status *st);
/* True for unsubscribed, complained and bounced: nobody sends to them. */
int store_status_suppressed(enum sub_status st);

/* What a writing function did. */
enum store_outcome {
	STORE_ADDED,		/* a new subscriber row */
	STORE_UPDATED,		/* an existing row changed (or was erased) */
	STORE_UNCHANGED,	/* there was nothing to change */
	STORE_SUPPRESSED,	/* refused: unsubscribed, complained, bounced or erased */
	STORE_NOT_FOUND,	/* no such subscriber */
};

/* Who or what caused a change, recorded in the event it appends. */
struct store_why {
	const char *method;	/* "command", "import", "one-click", "page", "mailto", ... */
	const char *detail;	/* a reason or an SMTP status, or NULL */
	const char *campaign;	/* the campaign id, or NULL */
};

/* ---- lifecycle ---------------------------------------------------------- */

/*
 * Opens the database at path, creating it (and its folder) when missing,
 * and applies pending migrations, each in its own transaction. Returns
 * the store, which the caller closes with store_close(), or NULL after
 * error(): cannot open or create; not a database; a database holding
 * other tables and no bulletin schema (refused untouched: never
 * migrated); a negative schema version (bulletin never writes one); a
 * schema newer than this program.
 */
struct store *store_open(const char *path);
/*
 * The same for a database that must exist already (commands that only
 * read): never creates one. A missing file is an error() that names
 * 'bulletin init'. An existing database is still migrated.
 */
struct store *store_open_existing(const char *path);
/* Closes the database and frees s. NULL is allowed. */
void store_close(struct store *s);
/* The schema version this program migrates to (PRAGMA user_version). */
int store_schema_latest(void);
/* The database's PRAGMA user_version, or -1 after error(). */
int store_schema_version(struct store *s);

/*
 * Checkpoints copy the WAL back into the database file, with an fsync
 * of each. SQLite runs one in the commit that takes the WAL past 1000
 * pages, which then waits for those fsyncs (tens of milliseconds).
 * After store_wal_hook, s runs none itself: after each of its commits
 * it calls fn(arg, pages) with the WAL's size in pages, and fn may have
 * another connection (another thread) call store_checkpoint, or call it
 * on s itself.
 */
void store_wal_hook(struct store *s, void (*fn)(void *arg, int pages),
		    void *arg);
/* Copies what it can of the WAL into the database file, waiting for no
 * lock (a PASSIVE checkpoint). Returns 1 when all of it is copied (the
 * next write starts the WAL over), 0 when some is left (written
 * meanwhile, still read, or another process's checkpoint under way),
 * -1 after error(). */
int store_checkpoint(struct store *s);

/* ---- transactions ------------------------------------------------------- */

/* BEGIN IMMEDIATE: takes the write lock now (waiting up to the busy
 * timeout), so a writer never fails half-way for a lock. 0 or -1. */
int store_begin(struct store *s);
/* BEGIN (deferred): a consistent snapshot for several reads. 0 or -1. */
int store_begin_read(struct store *s);
int store_commit(struct store *s);
/* Rolls back the open transaction, if any. Never fails. */
void store_rollback(struct store *s);

/* ---- subscribers -------------------------------------------------------- */

/* One subscriber row. Strings are borrowed from the store: valid until
 * the next call with the same store; copy what must live longer. */
struct store_row {
	long long        id;
	const char      *email;		/* normalised, as first added */
	const char      *name;		/* NULL when there is none */
	enum sub_status  status;
	const char      *created;
	const char      *updated;
	const char      *attrs;		/* JSON object text, or NULL */
	const char     **values;	/* store_iter_new's attribute values, NULL if absent */
};

/*
 * Looks a subscriber up by normalised address (by its canonical
 * identity: row->email may be written differently). Returns 1 with
 * *row filled, 0 when there is none, or -1 after error().
 */
int store_sub_get(struct store *s, const char *email, struct store_row *row);

/* A subscriber to add or update, as given by `sub add` or an import. */
struct store_sub {
	const char      *email;		/* normalised (address_normalize); kept
					 * as given for a new row */
	const char      *name;		/* NULL or "": keep the current name */
	const char      *attrs;		/* a JSON object merged into attrs, or
					 * NULL; minified: a new row keeps it as
					 * given */
	enum sub_status  status;	/* wanted status */
	const char      *created;	/* NULL: now; used only for a new row */
};

/*
 * Adds the subscriber, or updates an existing one; *outcome says which:
 *  - new address: STORE_ADDED, unless its hash is in the suppression list
 *    (STORE_SUPPRESSED); the event is "subscribe" (or the wanted status's
 *    own event when it is a suppressed status: "unsubscribe", ...);
 *  - existing pending/active row: name and attrs updated, pending becomes
 *    active when active is wanted (event "confirm"), a suppressed status
 *    is applied (its event); active never goes back to pending;
 *    STORE_UPDATED or STORE_UNCHANGED;
 *  - existing unsubscribed, complained or bounced row: left as it is;
 *    STORE_SUPPRESSED when pending/active was wanted, else
 *    STORE_UNCHANGED.
 * Returns 0, or -1 after error().
 */
int store_sub_put(struct store *s, const struct store_sub *sub,
		  const struct store_why *why, enum store_outcome *outcome);

/*
 * Sets a suppressed status (unsubscribed, bounced, complained) on the
 * subscriber, with its event ("unsubscribe", "bounce", "complaint").
 * A complained subscriber stays complained; an unsubscribed one is not
 * made bounced. *outcome: STORE_UPDATED, STORE_UNCHANGED or
 * STORE_NOT_FOUND. Returns 0, or -1 after error().
 */
int store_sub_suppress(struct store *s, const char *email,
		       enum sub_status status, const struct store_why *why,
		       enum store_outcome *outcome);

/*
 * Makes an unsubscribed, complained or bounced subscriber active again,
 * with a "resubscribe" event carrying why->detail (the reason: the
 * caller makes sure there is one). An erased address is taken off the
 * suppression list and added anew. *outcome: STORE_UPDATED (or
 * STORE_ADDED for an erased one), STORE_UNCHANGED when already pending
 * or active, STORE_NOT_FOUND. Returns 0, or -1 after error().
 */
int store_sub_resubscribe(struct store *s, const char *email,
			  const struct store_why *why,
			  enum store_outcome *outcome);

/*
 * Erases a person (right to be forgotten): deletes the subscriber row,
 * their events and deliveries, records the SHA-256 of the address in the
 * suppression list and appends an "erase" event that names nobody.
 * *outcome: STORE_UPDATED, STORE_UNCHANGED (already erased) or
 * STORE_NOT_FOUND. Returns 0, or -1 after error().
 */
int store_sub_erase(struct store *s, const char *email,
		    const struct store_why *why, enum store_outcome *outcome);

/* True (1) if the address's hash is in the suppression list, 0 if not,
 * -1 after error(). */
int store_is_erased(struct store *s, const char *email);

/* Writes the lower-case hex SHA-256 of the address's canonical identity
 * into hex (65 bytes with the NUL): what the suppression list keeps. */
void store_address_hash(const char *email, char hex[65]);

/* ---- reading many rows -------------------------------------------------- */

struct store_iter;

/* Which subscribers an iterator returns, in order of id. */
struct store_query {
	int                 any_status;	/* 1: all; 0: only status */
	enum sub_status     status;
	long                limit;	/* <= 0: no limit */
	const char *const  *keys;	/* attribute names whose values to fetch */
	size_t              nkeys;
};

/* Starts a query. Returns the iterator (store_iter_free) or NULL after
 * error(). The store must not be used for writing while it is open. */
struct store_iter *store_iter_new(struct store *s, const struct store_query *q);
/* Returns 1 with *row filled (valid until the next call), 0 at the end,
 * -1 after error(). row->values has q->nkeys entries. */
int store_iter_next(struct store_iter *it, struct store_row *row);
void store_iter_free(struct store_iter *it);

/*
 * Calls fn(key, arg) for each attribute name used by the subscribers q
 * selects (q->keys and limit ignored), in no particular order. Returns
 * 0, -1 after error(), or fn's non-zero return value, which stops the
 * walk.
 */
int store_attr_keys(struct store *s, const struct store_query *q,
		    int (*fn)(const char *key, void *arg), void *arg);

/* One event of a subscriber's history; strings borrowed for the call. */
struct store_event {
	const char *type;	/* subscribe, confirm, unsubscribe, resubscribe, bounce, complaint */
	const char *method;
	const char *detail;	/* NULL when none */
	const char *campaign;	/* NULL when none */
	const char *created;
};

/* Calls fn for each event of the subscriber, oldest first. Returns 0, -1
 * after error(), or fn's non-zero return value, which stops the walk. */
int store_sub_events(struct store *s, long long id,
		     int (*fn)(const struct store_event *ev, void *arg),
		     void *arg);

/* Fills counts[SUB_NSTATUS] with the number of subscribers per status.
 * Returns 0 or -1. */
int store_count_by_status(struct store *s, long long counts[SUB_NSTATUS]);

/* Per month ("2026-11"), from the events: new subscribers (subscribe)
 * and unsubscribes (unsubscribe and complaint). */
struct store_month {
	const char *month;
	long long   subscribed;
	long long   unsubscribed;
};

/* Calls fn per month with events, oldest first. Returns as
 * store_sub_events does. */
int store_monthly(struct store *s,
		  int (*fn)(const struct store_month *m, void *arg), void *arg);

/* ---- campaigns and deliveries ------------------------------------------- */

/*
 * A campaign is one issue sent; its deliveries are the recipients
 * snapshotted when it was created, one row each, moving through:
 *
 *   queued -> sending -> sent | deferred | failed
 *             (claimed, committed before any byte goes out)
 *   deferred -> sending (when next_attempt is due)
 *   sending (found at start-up: the run died) -> uncertain
 *   queued | deferred (the subscriber left the list) -> skipped
 *
 * The dispatcher claims rows in small batches inside its own
 * transaction (store_begin ... store_commit), so the database never
 * holds more 'sending' rows than it has in hand.
 */

enum dlv_state {
	DLV_QUEUED,
	DLV_SENDING,
	DLV_SENT,
	DLV_DEFERRED,
	DLV_FAILED,
	DLV_UNCERTAIN,
	DLV_SKIPPED,
};
#define DLV_NSTATES 7

/* "queued", "sending", ... (static); NULL for an out-of-range value. */
const char *store_dlv_state_name(enum dlv_state st);

/* A campaign row; strings borrowed until the next call with the store. */
struct store_campaign {
	const char *id;
	const char *subject;
	const char *content_hash;
	const char *created;
	const char *started;	/* NULL until the first message went out */
	const char *finished;	/* NULL until nothing is left to do */
};

/* Returns 1 with *c filled, 0 when there is no such campaign, -1 after
 * error(). */
int store_campaign_get(struct store *s, const char *id,
		       struct store_campaign *c);

/*
 * Creates campaign id and queues one delivery per subscriber active at
 * this moment, in one transaction. *recipients receives their number.
 * Returns 0, or -1 after error() (the campaign exists already, ...).
 */
int store_campaign_create(struct store *s, const char *id, const char *subject,
			  const char *content_hash, long long *recipients);

/* Records that sending began (the first time) or has ended: 0 or -1. */
int store_campaign_started(struct store *s, const char *id);
int store_campaign_finished(struct store *s, const char *id);

/*
 * Moves every delivery of the campaign in state from to state to
 * (sending -> uncertain at start-up, uncertain -> queued when asked).
 * *n receives how many moved. Returns 0 or -1.
 */
int store_dlv_move(struct store *s, const char *campaign, enum dlv_state from,
		   enum dlv_state to, long long *n);

/* Queues the failed deliveries again, with their attempts reset. */
int store_dlv_retry_failed(struct store *s, const char *campaign, long long *n);

/* Fills counts[DLV_NSTATES] with the campaign's deliveries per state. */
int store_dlv_counts(struct store *s, const char *campaign,
		     long long counts[DLV_NSTATES]);

/* A delivery the dispatcher may claim, copied out of the database. */
struct store_dlv {
	long long       subscriber_id;
	char            email[256];	/* normalised address, as stored */
	char            name[512];	/* "" when there is none */
	enum sub_status status;		/* the subscriber's, now */
	int             attempts;	/* made so far */
	int             deferred;	/* 1: it was deferred, 0: queued */
	char            message_id[256];	/* set by the caller before claiming */
};

/*
 * Reads up to max deliveries that are due: deferred ones whose
 * next_attempt (ISO 8601 with milliseconds) is at or before now, then
 * queued ones whose subscriber id is greater than *cursor, which moves
 * past them. Changes nothing. *n receives the number read; 0 with no
 * deferred ones due and *cursor unchanged means the queue is empty.
 * Call inside a transaction so that the claim that follows sees the
 * same rows. Returns 0 or -1.
 */
int store_dlv_due(struct store *s, const char *campaign, const char *now,
		  long long *cursor, struct store_dlv *out, size_t max,
		  size_t *n);

/*
 * Claims d: state 'sending' and its Message-ID, or, for a subscriber who
 * is no longer active, state 'skipped' with the reason. Returns 0 or -1.
 */
int store_dlv_claim(struct store *s, const char *campaign,
		    const struct store_dlv *d);

/* The outcome of one delivery attempt. */
struct store_result {
	long long       subscriber_id;
	enum dlv_state  state;		/* sent, deferred, failed, or queued
					 * when it never went out */
	int             attempts;	/* made so far, this one included */
	const char     *next_attempt;	/* deferred: when, ISO 8601 with ms */
	int             reply_code;	/* 0 for none (no reply, a timeout) */
	const char     *reply;		/* the last reply, or what went wrong */
};

/* Records r for a delivery in state 'sending' (else nothing changes). */
int store_dlv_result(struct store *s, const char *campaign,
		     const struct store_result *r);

/*
 * When the earliest deferred delivery is due: 1 with next (the ISO
 * string, copied into next[32]) and *n (how many are deferred), 0 when
 * none is deferred, -1 after error().
 */
int store_dlv_next_due(struct store *s, const char *campaign, char next[32],
		       long long *n);

/* Number of messages of any campaign sent at or after since (ISO 8601):
 * what a per-hour cap counts across runs. -1 after error(). */
long long store_dlv_sent_since(struct store *s, const char *since);

/* One group of SMTP replies of a campaign. */
struct store_reply {
	int         code;
	long long   count;
	const char *example;	/* one reply text with that code */
};

/* Calls fn per reply code, in order. Returns as store_sub_events does. */
int store_dlv_replies(struct store *s, const char *campaign,
		      int (*fn)(const struct store_reply *r, void *arg),
		      void *arg);

/* One campaign with its deliveries counted per state. */
struct store_campaign_sum {
	struct store_campaign c;	/* content_hash and created are NULL */
	long long             counts[DLV_NSTATES];
};

/* Calls fn per campaign, oldest first. Returns as store_sub_events. */
int store_campaign_list(struct store *s,
			int (*fn)(const struct store_campaign_sum *c, void *arg),
			void *arg);

/* One delivery, as a report lists it; strings borrowed for the call. */
struct store_dlv_row {
	const char *email;
	const char *message_id;
	const char *last_reply;
	const char *updated;
};

/* Calls fn for each delivery of the campaign in state st, by subscriber
 * id. Returns as store_sub_events does. */
int store_dlv_list(struct store *s, const char *campaign, enum dlv_state st,
		   int (*fn)(const struct store_dlv_row *r, void *arg),
		   void *arg);

/* ---- the unsubscribe endpoint ------------------------------------------- */

#define STORE_EMAIL_MAX 320

/* Looks a subscriber up by id (what an unsubscribe token names). Returns
 * 1 with the address copied into email (unless NULL) and *status, 0 when
 * there is none (never was, or erased), -1 after error(). */
int store_sub_by_id(struct store *s, long long id, char email[STORE_EMAIL_MAX],
		    enum sub_status *status);

/*
 * Unsubscribes subscriber id (a pending, active or bounced one; a
 * complained one stays complained) with an "unsubscribe" event carrying
 * why (method "one-click", "page", "mailto" ...; why->campaign is
 * dropped when the database has no such campaign). Idempotent: an
 * unsubscribed subscriber is STORE_UNCHANGED and gets no second event.
 * *outcome: STORE_UPDATED, STORE_UNCHANGED or STORE_NOT_FOUND.
 * Returns 0, or -1 after error().
 */
int store_unsub_by_id(struct store *s, long long id,
		      const struct store_why *why, enum store_outcome *outcome);

/*
 * Undoes an unsubscribe (the confirmation page's button): an
 * unsubscribed subscriber becomes active with a "resubscribe" event
 * carrying why. Anyone else (bounced, complained, already active) is
 * STORE_UNCHANGED. Returns as store_unsub_by_id does.
 */
int store_undo_unsub_by_id(struct store *s, long long id,
			   const struct store_why *why,
			   enum store_outcome *outcome);

/*
 * Either of those two (undo: the second), which also copies the
 * subscriber's address into email (unless NULL; unless the outcome is
 * STORE_NOT_FOUND), for the endpoint's pages: no second query. A change
 * takes two statements; the endpoint writes lots of them.
 */
int store_unsub_by_id_email(struct store *s, long long id, int undo,
			    const struct store_why *why,
			    char email[STORE_EMAIL_MAX],
			    enum store_outcome *outcome);

/* Unsubscribes (or their undoing) of one campaign, per method. */
struct store_unsub_count {
	const char *type;	/* "unsubscribe" or "resubscribe" */
	const char *method;	/* "one-click", "page", "mailto", ... */
	long long   count;	/* events */
};

/* Calls fn per type and method, unsubscribes first. Returns as
 * store_sub_events does. */
int store_unsub_counts(struct store *s, const char *campaign,
		       int (*fn)(const struct store_unsub_count *c, void *arg),
		       void *arg);

/* ---- the inbox: what comes back ----------------------------------------- */

/*
 * The delivery whose message had this Message-ID (without <>): 1 with
 * its campaign (copied into campaign[65]) and subscriber, 0 when no
 * delivery has it, -1 after error().
 */
int store_dlv_by_message_id(struct store *s, const char *message_id,
			    char campaign[65], long long *subscriber_id);

/* 1 if campaign has a delivery to subscriber_id, 0 if not, -1. */
int store_dlv_exists(struct store *s, const char *campaign,
		     long long subscriber_id);

/*
 * A hard bounce (a complaint) of subscriber id: status bounced
 * (complained) with its event carrying why (method "inbox", detail the
 * status or the feedback type, campaign or NULL), unless the status
 * stays (complained is final; unsubscribed is not made bounced), and a
 * row in the bounce log that `report` counts in any case. *outcome:
 * STORE_UPDATED, STORE_UNCHANGED or STORE_NOT_FOUND. Returns 0 or -1.
 */
int store_hard_bounce(struct store *s, long long id,
		      const struct store_why *why, enum store_outcome *outcome);
int store_complaint(struct store *s, long long id,
		    const struct store_why *why, enum store_outcome *outcome);

/* How soft bounces add up (the [inbox] keys). */
struct store_soft_rules {
	long threshold;		/* this score makes the subscriber bounced */
	long stale_days;	/* a score with no point for longer is forgotten */
	long interval_days;	/* at most one point per this many days */
};

/*
 * A soft bounce of subscriber id on day ("2026-11-03", UTC): logged;
 * the score gains one point unless it gained one less than
 * r->interval_days ago (1: one a day), and
 * starts again from zero when its last point is more than
 * r->stale_days old; at r->threshold the subscriber is made bounced
 * (event detail "soft bounces"). *score receives the score. *outcome:
 * STORE_UPDATED (the score or the status changed), STORE_UNCHANGED,
 * STORE_NOT_FOUND. Returns 0 or -1.
 */
int store_soft_bounce(struct store *s, long long id, const char *day,
		      const struct store_soft_rules *r,
		      const struct store_why *why, long *score,
		      enum store_outcome *outcome);

/* The campaign's subscribers with a hard bounce, a soft bounce, a
 * complaint logged. Returns 0 or -1. */
int store_bounce_counts(struct store *s, const char *campaign,
			long long *hard, long long *soft, long long *complaints);

#endif
