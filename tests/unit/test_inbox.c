/*
 * What comes back: the header-field reader, RFC 3464 DSN fields, RFC
 * 5965 ARF fields, each recognised prose bounce shape, auto-replies,
 * VERP tags (valid, forged, truncated) and inbox_read's verdicts on
 * whole messages.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arf.h"
#include "bounceshape.h"
#include "buf.h"
#include "dsn.h"
#include "fields.h"
#include "inbox.h"
#include "inboxpipe.h"
#include "mailmove.h"
#include "token.h"
#include "util.h"

/* ---- fields ---------------------------------------------------------------- */

static void test_fields_unfold_and_groups(void **state)
{
	const char text[] = "A: one\r\nB-Name:  two\r\n\tfolded  \r\nnot a field\n"
			    "\nC: three";
	struct fields f;
	struct buf name = BUF_INIT, value = BUF_INIT;

	(void)state;
	fields_init(&f, text, strlen(text));
	assert_int_equal(fields_next(&f, &name, &value), 1);
	assert_string_equal(name.data, "A");
	assert_string_equal(value.data, "one");
	assert_int_equal(fields_next(&f, &name, &value), 1);
	assert_true(fields_is(&name, "b-name"));
	assert_string_equal(value.data, "two folded");
	assert_int_equal(fields_next(&f, &name, &value), 0);	/* blank line */
	assert_int_equal(fields_next(&f, &name, &value), 1);
	assert_string_equal(value.data, "three");
	assert_int_equal(fields_next(&f, &name, &value), -1);
	buf_release(&name);
	buf_release(&value);
}

static void test_fields_address(void **state)
{
	char a[64];

	(void)state;
	assert_true(fields_address("rfc822; ada@example.org", a, sizeof(a)));
	assert_string_equal(a, "ada@example.org");
	assert_true(fields_address("\"Ada\" <ada@example.org>", a, sizeof(a)));
	assert_string_equal(a, "ada@example.org");
	assert_true(fields_address("SMTP=bob@example.COM", a, sizeof(a)));
	assert_string_equal(a, "bob@example.COM");
	assert_true(fields_address("mail to cy@example.org.", a, sizeof(a)));
	assert_string_equal(a, "cy@example.org");
	assert_false(fields_address("rfc822; nobody", a, sizeof(a)));
	assert_string_equal(a, "");
	assert_false(fields_address("<@>", a, sizeof(a)));
	assert_false(fields_address("x@y", a, 3));	/* too long for out */
}

/* ---- DSN ------------------------------------------------------------------- */

static void test_dsn_fields(void **state)
{
	const char body[] =
		"Reporting-MTA: dns; mx.example.org\n"
		"Arrival-Date: Sun, 29 Nov 2026 10:00:00 +0000\n"
		"\n"
		"Final-Recipient: rfc822; alias@example.org\n"
		"Original-Recipient: rfc822;ada@example.org\n"
		"Action: failed\n"
		"Status: 5.1.1 (user unknown)\n"
		"\n"
		"Final-Recipient: rfc822; <bob@example.org>\n"
		"Action: delayed\n"
		"Status: 4.4.7\n"
		"Final-Recipient: rfc822; cy@example.org\n"	/* no blank line */
		"Action: delivered\n"
		"Status: 2.0.0\n";
	struct dsn *d = malloc(sizeof(*d));

	(void)state;
	assert_int_equal(dsn_parse(body, strlen(body), d), 3);
	assert_string_equal(d->rcpt[0].final, "alias@example.org");
	assert_string_equal(d->rcpt[0].original, "ada@example.org");
	assert_int_equal(d->rcpt[0].action, DSN_FAILED);
	assert_string_equal(d->rcpt[0].status, "5.1.1");
	assert_string_equal(d->rcpt[1].final, "bob@example.org");
	assert_int_equal(d->rcpt[1].action, DSN_DELAYED);
	assert_string_equal(d->rcpt[1].status, "4.4.7");
	assert_int_equal(d->rcpt[2].action, DSN_DELIVERED);
	/* a per-message group alone is no recipient */
	assert_int_equal(dsn_parse(body, 46, d), 0);
	free(d);
}

static void test_dsn_status_find(void **state)
{
	char st[12];

	(void)state;
	assert_true(dsn_status_find("550 5.1.1 <a@b>", 15, st));
	assert_string_equal(st, "5.1.1");
	assert_true(dsn_status_find("#4.2.22", 7, st));
	assert_string_equal(st, "4.2.22");
	assert_false(dsn_status_find("version 15.5.1.2", 16, st));
	assert_false(dsn_status_find("3.1.1", 5, st));
	assert_false(dsn_status_find("5.1234.1", 8, st));
	assert_false(dsn_status_find("5.1.", 4, st));
	assert_string_equal(st, "");
}

static void test_dsn_many_recipients_are_bounded(void **state)
{
	struct buf b = BUF_INIT;
	struct dsn *d = malloc(sizeof(*d));

	(void)state;
	for (int i = 0; i < 1000; i++)
		buf_addf(&b, "Final-Recipient: rfc822; u%d@example.org\n"
			 "Action: failed\n\n", i);
	assert_int_equal(dsn_parse(b.data, b.len, d), DSN_MAX_RCPT);
	buf_release(&b);
	free(d);
}

/* ---- ARF ------------------------------------------------------------------- */

static void test_arf_fields(void **state)
{
	const char body[] =
		"Feedback-Type: Abuse\n"
		"User-Agent: SomeGenerator/1.0\n"
		"Version: 1\n"
		"Original-Mail-From: <digest+1.x.abc@news.example.org>\n"
		"Original-Rcpt-To: <ada@example.org>\n"
		"Removal-Recipient: bob@example.org\n";
	struct arf a;

	(void)state;
	assert_true(arf_parse(body, strlen(body), &a));
	assert_string_equal(a.feedback_type, "abuse");
	assert_string_equal(a.original_rcpt, "ada@example.org");
	assert_string_equal(a.removal_rcpt, "bob@example.org");
	assert_string_equal(a.original_from, "digest+1.x.abc@news.example.org");
	assert_true(arf_is_complaint(&a));
	assert_true(arf_parse("Feedback-Type: auth-failure\n", 27, &a));
	assert_false(arf_is_complaint(&a));
	assert_false(arf_parse("Version: 1\n", 11, &a));
}

/* ---- prose shapes ---------------------------------------------------------- */

struct shape_case {
	const char        *mta;
	const char        *text;
	enum shape_verdict verdict;
	const char        *rcpt;	/* the first address */
};

static const struct shape_case shapes[] = {
	{ "qmail", "Hi. This is the qmail-send program at mx.example.net.\n"
	  "I'm afraid I wasn't able to deliver your message to the following "
	  "addresses.\nThis is a permanent error; I've given up.\n\n"
	  "<ada@example.net>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
	  "--- Below this line is a copy of the message.\n\n"
	  "Return-Path: <x@other.example>\n", SHAPE_HARD, "ada@example.net" },
	{ "gmail", "Delivery to the following recipient failed permanently:\n\n"
	  "     bob@example.com\n\nTechnical details of permanent failure:\n",
	  SHAPE_HARD, "bob@example.com" },
	{ "gmail", "Delivery to the following recipient has been delayed:\n\n"
	  "     bob@example.com\n\nMessage will be retried for 2 more day(s)\n",
	  SHAPE_SOFT, "bob@example.com" },
	{ "exim", "This message was created automatically by mail delivery "
	  "software.\n\nA message that you sent could not be delivered to one "
	  "or more of its\nrecipients. This is a permanent error. The following "
	  "address(es) failed:\n\n  cy@example.org\n    SMTP error from remote "
	  "mail server after RCPT TO:<cy@example.org>:\n    550 5.1.1 User "
	  "unknown\n", SHAPE_HARD, "cy@example.org" },
	{ "exim", "A message that you sent has not yet been delivered to one or "
	  "more of its\nrecipients after more than 24 hours on the queue.\n\n"
	  "  di@example.org\n    Delay reason: mailbox is full\n", SHAPE_SOFT,
	  "di@example.org" },
	{ "sendmail", "   ----- The following addresses had permanent fatal "
	  "errors -----\n<ed@example.org>\n\n   ----- Transcript of session "
	  "follows -----\n... while talking to mx:\n>>> RCPT To:<ed@example.org>\n"
	  "<<< 550 User unknown\n", SHAPE_HARD, "ed@example.org" },
	{ "postfix", "This is the mail system at host mx.example.org.\n\nI'm "
	  "sorry to have to inform you that your message could not\nbe delivered "
	  "to one or more recipients.\n\n<fay@example.org>: host mx said: 452 "
	  "4.2.2 mailbox full\n", SHAPE_SOFT, "fay@example.org" },
	{ "microsoft", "Delivery has failed to these recipients or groups:\n\n"
	  "gus@example.com\nThe e-mail address you entered couldn't be found.\n",
	  SHAPE_HARD, "gus@example.com" },
	{ "yahoo", "Sorry, we were unable to deliver your message to the "
	  "following address.\n\n<hal@yahoo.example>:\nRemote host said: 554 "
	  "delivery error: dd This user doesn't have a yahoo.com account\n",
	  SHAPE_HARD, "hal@yahoo.example" },
	{ "qmail", "Bonjour. Votre message n'a pas pu être livré.\n\n"
	  "<ivy@example.fr>:\nBoîte inexistante\n\n--- Below this line is a "
	  "copy of the message.\n", SHAPE_HARD, "ivy@example.fr" },
	{ "smtp32", "Delivery failed 20 attempts: jo@example.ph\n\nOriginal "
	  "message follows.\n", SHAPE_HARD, "jo@example.ph" },
	{ "smtp32", "Unknown user: kit@example.net\nRCPT TO generated following "
	  "response:\n553 5.3.0 <kit@example.net>... Addressee unknown\n",
	  SHAPE_HARD, "kit@example.net" },
	{ "smtp32", "undeliverable  to lee@example.com\n", SHAPE_HARD,
	  "lee@example.com" },
	{ "generic", "Delivery of email to this address\n\n\"max@example.com\"\n\n"
	  "has been postponed due to a full mailbox.\n", SHAPE_SOFT,
	  "max@example.com" },
};

static void test_each_shape(void **state)
{
	struct shape *s = malloc(sizeof(*s));

	(void)state;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape_case *c = &shapes[i];

		assert_int_equal(shape_parse(c->text, strlen(c->text),
					     "news.example.org", s), c->verdict);
		assert_string_equal(s->mta, c->mta);
		assert_true(s->n >= 1);
		assert_string_equal(s->rcpt[0], c->rcpt);
	}
	free(s);
}

static void test_shapes_skip_our_own_and_the_daemon(void **state)
{
	const char text[] = "The following address(es) failed:\n\n"
			    "  digest@news.example.org\n  postmaster@mx.example\n"
			    "  kim@example.org\n";
	struct shape *s = malloc(sizeof(*s));

	(void)state;
	assert_int_equal(shape_parse(text, strlen(text), "news.example.org", s),
			 SHAPE_HARD);
	assert_int_equal(s->n, 1);
	assert_string_equal(s->rcpt[0], "kim@example.org");
	/* prose that is no bounce */
	assert_int_equal(shape_parse("Hello, see you at lu@example.org\n", 33,
				     NULL, s), SHAPE_NONE);
	assert_null(s->mta);
	/* an introduction without an address */
	assert_int_equal(shape_parse("The following address(es) failed:\n\n", 35,
				     NULL, s), SHAPE_NONE);
	free(s);
}

/* ---- whole messages ------------------------------------------------------- */

static void read_msg(const char *text, struct inbox_msg *m)
{
	inbox_read(text, strlen(text), "news.example.org", m);
}

static void test_read_dsn(void **state)
{
	const char msg[] =
		"From: MAILER-DAEMON@mx.example.org\r\n"
		"To: digest+1.2021-03.abcdefabcdef@news.example.org\r\n"
		"Subject: Undelivered Mail Returned to Sender\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/report; report-type=delivery-status; "
		"boundary=\"b\"\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
		"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
		"Reporting-MTA: dns; mx\r\n\r\n"
		"Final-Recipient: rfc822; ada@example.org\r\n"
		"Action: failed\r\nStatus: 5.2.1\r\n\r\n"
		"--b\r\nContent-Type: message/rfc822\r\n\r\n"
		"From: digest@news.example.org\r\nTo: ada@example.org\r\n"
		"Message-ID: <2021-03.1.abc@news.example.org>\r\n\r\nHello\r\n"
		"--b--\r\n";
	struct inbox_msg *m = malloc(sizeof(*m));

	(void)state;
	read_msg(msg, m);
	assert_int_equal(m->kind, INBOX_HARD);
	assert_true(m->understood);
	assert_string_equal(m->shape, "dsn");
	assert_string_equal(m->status, "5.2.1");
	assert_int_equal(m->nrcpt, 1);
	assert_string_equal(m->rcpt[0], "ada@example.org");
	assert_int_equal(m->nmsgid, 1);
	assert_string_equal(m->msgid[0], "2021-03.1.abc@news.example.org");
	assert_string_equal(m->to[0], "digest+1.2021-03.abcdefabcdef@news.example.org");
	free(m);
}

static void test_read_arf(void **state)
{
	const char msg[] =
		"From: fbl@isp.example\nTo: abuse@news.example.org\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=feedback-report; "
		"boundary=a\n\n"
		"--a\nContent-Type: text/plain\n\nA report.\n"
		"--a\nContent-Type: message/feedback-report\n\n"
		"Feedback-Type: abuse\nVersion: 1\n\n"
		"--a\nContent-Type: text/rfc822-headers\n\n"
		"From: digest@news.example.org\nTo: redacted@isp.example\n"
		"Message-ID: <2021-03.2.def@news.example.org>\n\n"
		"--a--\n";
	struct inbox_msg *m = malloc(sizeof(*m));

	(void)state;
	read_msg(msg, m);
	assert_int_equal(m->kind, INBOX_COMPLAINT);
	assert_string_equal(m->feedback_type, "abuse");
	assert_int_equal(m->nmsgid, 1);
	assert_string_equal(m->msgid[0], "2021-03.2.def@news.example.org");
	free(m);
}

static void test_read_html_only_bounce(void **state)
{
	const char msg[] =
		"From: MAILER-DAEMON@mx.example.net\nMIME-Version: 1.0\n"
		"Content-Type: text/html\n\n"
		"<p>Hi. This is the deliver program at mx.</p><br>"
		"I'm afraid I wasn't able to deliver your message to the following "
		"addresses.<br><br>ned@example.com<br>No such user<br>\n";
	struct inbox_msg *m = malloc(sizeof(*m));

	(void)state;
	read_msg(msg, m);
	assert_int_equal(m->kind, INBOX_HARD);
	assert_int_equal(m->nrcpt, 1);
	assert_string_equal(m->rcpt[0], "ned@example.com");
	free(m);
}

static void test_read_auto_replies(void **state)
{
	static const char *const msgs[] = {
		"From: a@example.org\nAuto-Submitted: auto-replied\n"
		"Subject: Re: Best of arXiv\n\nAway.\n",
		"From: a@example.org\nX-Autoreply: yes\nSubject: hi\n\nAway.\n",
		"From: a@example.org\nPrecedence: auto_reply\n\nAway.\n",
		"From: a@example.org\nSubject: Out of Office: Best of\n\nAway.\n",
		"From: a@example.org\nSubject: Automatic reply: Best of\n\nAway.\n",
		/* an auto-reply that quotes a bounce's words is still one */
		"From: a@example.org\nX-Autoreply: yes\nSubject: vacation\n\n"
		"The following address(es) failed:\n  b@example.org\n",
	};
	struct inbox_msg *m = malloc(sizeof(*m));

	(void)state;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		read_msg(msgs[i], m);
		assert_int_equal(m->kind, INBOX_AUTOREPLY);
		assert_int_equal(m->nrcpt, 0);
	}
	free(m);
}

static void test_read_junk_is_other(void **state)
{
	static const char *const msgs[] = {
		"", "\n\n\n", "From: x@y\n\nhello\n",
		"Content-Type: multipart/report; boundary=\n\n--\n--\n",
		"From x\n", "Content-Type: message/delivery-status\n\n\n",
	};
	struct inbox_msg *m = malloc(sizeof(*m));

	(void)state;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		read_msg(msgs[i], m);
		assert_int_equal(m->kind, INBOX_OTHER);
		assert_false(m->understood);
	}
	free(m);
}

/* ---- VERP tags ------------------------------------------------------------- */

static void test_verp_tags(void **state)
{
	struct token_key k;
	struct buf tag = BUF_INIT;
	char camp[65], *bad;
	long long id = 0;

	(void)state;
	memset(&k, 0, sizeof(k));
	memset(k.secret, 7, sizeof(k.secret));
	token_verp_tag(&k, "2021-03", 42, &tag);
	assert_int_equal(token_verp_parse(&k, tag.data, camp, &id), 0);
	assert_int_equal(id, 42);
	assert_string_equal(camp, "2021-03");
	/* forged: another id under the same MAC */
	bad = strdup(tag.data);
	bad[0] = '5';
	assert_int_equal(token_verp_parse(&k, bad, camp, &id), -1);
	/* truncated */
	bad[0] = tag.data[0];
	bad[tag.len - 1] = '\0';
	assert_int_equal(token_verp_parse(&k, bad, camp, &id), -1);
	/* another secret */
	memset(k.secret, 8, sizeof(k.secret));
	assert_int_equal(token_verp_parse(&k, tag.data, camp, &id), -1);
	free(bad);
	buf_release(&tag);
}

/*
 * libetpan is handed only the MIME fields of a plain header, the whole
 * message otherwise: both ways the verdict is libetpan's reading. A
 * folded Subject or Content-Type is plain; a folded From whose next
 * line looks like a field is not: libetpan ends the header there, so the
 * report behind it is not seen as one (and must not be, here either).
 */
static void test_read_header_as_libetpan_does(void **state)
{
	static const char *const head[] = {
		"From: MAILER-DAEMON@mx.example.org\r\n"
		"Subject: Undelivered Mail\r\n Returned to Sender\r\n",
		"From: MAILER-DAEMON@mx.example.org\n"
		"Subject: Undelivered Mail Returned to Sender\n",
		"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
		" o: digest@news.example.org\r\n",
		"From: MAILER-DAEMON@mx.example.org\r\nBad Name: x\r\n",
	};
	static const char body[] =
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/report; report-type=delivery-status;\r\n"
		"\tboundary=\"b\"\r\n\r\n"
		"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
		"Reporting-MTA: dns; mx\r\n\r\n"
		"Final-Recipient: rfc822; ada@example.org\r\n"
		"Action: failed\r\nStatus: 5.2.1\r\n\r\n--b--\r\n";
	struct inbox_msg *m = malloc(sizeof(*m));
	struct buf text = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		buf_reset(&text);
		buf_adds(&text, head[i]);
		buf_adds(&text, body);
		read_msg(text.data, m);
		if (i < 2) {
			assert_string_equal(m->shape, "dsn");
			assert_int_equal(m->kind, INBOX_HARD);
			assert_string_equal(m->status, "5.2.1");
		} else {
			assert_true(m->shape == NULL || strcmp(m->shape, "dsn"));
		}
	}
	buf_release(&text);
	free(m);
}

/* ---- reading a Maildir folder ------------------------------------------ */

static void put(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A regular file is read whole; a symlink, a FIFO and a folder read as
 * nothing (0), without following or waiting; a file over max too; a
 * missing one is an error naming it. */
static void test_read_regular_at(void **state)
{
	char dir[] = "/tmp/test_inbox.XXXXXX", path[256];
	struct buf b = BUF_INIT;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put(dir, "m", "Subject: hi\n\nbody\n");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("m", path), 0);
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);

	assert_int_equal(read_regular_at(fd, dir, "m", 100, &b), 1);
	assert_string_equal(b.data, "Subject: hi\n\nbody\n");
	assert_int_equal(read_regular_at(fd, dir, "m", 10, &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(read_regular_at(fd, dir, "fifo", 100, &b), 0);
	assert_int_equal(read_regular_at(fd, dir, "link", 100, &b), 0);
	assert_int_equal(read_regular_at(fd, dir, "sub", 100, &b), 0);
	assert_int_equal(read_regular_at(fd, dir, "gone", 100, &b), -1);
	assert_int_equal(b.len, 0);

	close(fd);
	buf_release(&b);
	for (const char *const *n = (const char *const[]){ "m", "fifo", "link",
							   NULL }; *n; n++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

static int skip_dot_and_x(const char *name, const void *arg)
{
	(void)arg;
	return name[0] == '.' || name[0] == 'x';
}

/* More messages than the pipe holds come back in the folder's order,
 * each what inbox_read makes of its file; skipped names never come. */
static void test_inboxpipe_order_and_results(void **state)
{
	enum { N = 3 * INBOXPIPE_DEPTH + 5 };
	char dir[] = "/tmp/test_inbox.XXXXXX", name[64], path[256];
	char (*order)[256] = calloc(N, sizeof(*order));
	const struct inboxpipe_item *it;
	struct inbox_msg *want = malloc(sizeof(*want));
	struct inboxpipe *p;
	struct dirent *de;
	struct buf b = BUF_INIT;
	size_t n = 0, got = 0;
	int fd, rc;
	DIR *d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "%d.m", i);
		put(dir, name, i % 3 == 0 ?
			    "From: MAILER-DAEMON@mx.example.org\n"
			    "Subject: failure\n\n<gone@example.org>:\n"
			    "550 5.1.1 user unknown\n" :
		       i % 3 == 1 ? "Auto-Submitted: auto-replied\n"
				    "Subject: Out of office\n\nAway.\n" :
				    "Subject: hello\n\nhi\n");
	}
	put(dir, "x-skipped", "Subject: no\n\n");
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (!skip_dot_and_x(de->d_name, NULL))
			snprintf(order[n++], sizeof(order[0]), "%s", de->d_name);
	closedir(d);
	assert_int_equal(n, N);

	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	p = inboxpipe_start(fd, dir, skip_dot_and_x, NULL, "news.example.org");
	assert_non_null(p);
	while ((rc = inboxpipe_next(p, &it)) == 1) {
		assert_true(got < n);
		assert_string_equal(it->name, order[got]);
		assert_int_equal(read_regular_at(fd, dir, it->name, 1 << 20, &b), 1);
		inbox_read(b.data, b.len, "news.example.org", want);
		assert_memory_equal(&it->msg, want, sizeof(*want));
		got++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(got, n);
	assert_int_equal(inboxpipe_next(p, &it), 0);	/* stays done */
	inboxpipe_stop(p);

	/* stopped early, with the thread ahead: nothing leaks or hangs */
	p = inboxpipe_start(fd, dir, skip_dot_and_x, NULL, NULL);
	assert_int_equal(inboxpipe_next(p, &it), 1);
	inboxpipe_stop(p);
	inboxpipe_stop(NULL);

	close(fd);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, order[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/x-skipped", dir);
	unlink(path);
	rmdir(dir);
	buf_release(&b);
	free(order);
	free(want);
}

/* The S flag joins the flags in order, a name without flags gets them. */
static void test_mailmove_handled_name(void **state)
{
	static const char *const cases[][2] = {
		{ "1.M1P1.host", "1.M1P1.host:2,S" },
		{ "1.M1P1.host:2,", "1.M1P1.host:2,S" },
		{ "1.M1P1.host:2,FR", "1.M1P1.host:2,FRS" },
		{ "1.M1P1.host:2,FT", "1.M1P1.host:2,FST" },
		{ "1.M1P1.host:2,T", "1.M1P1.host:2,ST" },
	};
	struct buf out = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mailmove_handled_name(cases[i][0], &out);
		assert_string_equal(out.data, cases[i][1]);
	}
	buf_release(&out);
}

/* Batches handed over are all moved, in cur/ with the S flag, by the
 * time mailmove_finish returns; a name that cannot be moved is said,
 * the others still move, and the next hand-over and finish say -1. */
static void test_mailmove_batches(void **state)
{
	char dir[] = "/tmp/test_mailmove.XXXXXX", from[256], cur[256];
	char path[300], name[64];
	struct buf names = BUF_INIT;
	struct mailmove *mv;
	struct stat st;
	int fromfd, curfd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(from, sizeof(from), "%s/new", dir);
	snprintf(cur, sizeof(cur), "%s/cur", dir);
	assert_int_equal(mkdir(from, 0700), 0);
	assert_int_equal(mkdir(cur, 0700), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "%d.m", i);
		put(from, name, "Subject: x\n\n");
	}
	fromfd = open(from, O_RDONLY | O_DIRECTORY);
	curfd = open(cur, O_RDONLY | O_DIRECTORY);
	mv = mailmove_start(fromfd, from, curfd, cur);
	for (int batch = 0; batch < 2; batch++) {
		for (int i = batch * 5; i < batch * 5 + 5; i++) {
			snprintf(name, sizeof(name), "%d.m", i);
			buf_add(&names, name, strlen(name) + 1);
		}
		assert_int_equal(mailmove_batch(mv, &names, 5), 0);
		assert_int_equal(names.len, 0);
	}
	assert_int_equal(mailmove_finish(mv), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/%d.m:2,S", cur, i);
		assert_int_equal(stat(path, &st), 0);
		snprintf(path, sizeof(path), "%s/%d.m", from, i);
		assert_int_not_equal(stat(path, &st), 0);
	}

	/* 0.m is gone from new/: said, the rest of its batch moved */
	put(from, "a.m", "Subject: x\n\n");
	put(from, "b.m", "Subject: x\n\n");
	mv = mailmove_start(fromfd, from, curfd, cur);
	buf_add(&names, "0.m", 4);
	buf_add(&names, "a.m", 4);
	assert_int_equal(mailmove_batch(mv, &names, 2), 0);
	buf_add(&names, "b.m", 4);
	assert_int_equal(mailmove_batch(mv, &names, 1), -1);
	assert_int_equal(mailmove_finish(mv), -1);
	snprintf(path, sizeof(path), "%s/a.m:2,S", cur);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/b.m:2,S", cur);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(mailmove_finish(NULL), 0);

	close(fromfd);
	close(curfd);
	for (int i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/%d.m:2,S", cur, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/a.m:2,S", cur);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b.m:2,S", cur);
	unlink(path);
	rmdir(from);
	rmdir(cur);
	rmdir(dir);
	buf_release(&names);
}

/* ---- hostile input ------------------------------------------------------- */

/* Random bytes and mutations of real shapes: every reader stays within
 * its bounds (ASan would stop it otherwise) and its counts within their
 * limits. */
static void test_mutated_messages(void **state)
{
	static const char *const seeds[] = {
		"Content-Type: multipart/report; report-type=delivery-status; "
		"boundary=b\n\n--b\nContent-Type: message/delivery-status\n\n"
		"Final-Recipient: rfc822; a@b.c\nAction: failed\nStatus: 5.1.1\n"
		"\n--b\nContent-Type: message/rfc822\n\nMessage-ID: <x@y>\n\nhi"
		"\n--b--\n",
		"Content-Type: multipart/report; report-type=feedback-report; "
		"boundary=a\n\n--a\nContent-Type: message/feedback-report\n\n"
		"Feedback-Type: abuse\n\n--a\nContent-Type: text/rfc822-headers\n"
		"\nMessage-ID: <m@n>\n\n--a--\n",
		"From: MAILER-DAEMON@x\n\nThe following address(es) failed:\n\n"
		"  a@b.c\n<d@e.f>:\n550 5.1.1\n",
	};
	struct inbox_msg *m = malloc(sizeof(*m));
	struct shape *sh = malloc(sizeof(*sh));
	struct dsn *d = malloc(sizeof(*d));
	struct arf a;
	char buf[1024];

	(void)state;
	srand(7);
	for (int round = 0; round < 20000; round++) {
		const char *seed = seeds[round % 3];
		size_t len = strlen(seed);

		memcpy(buf, seed, len);
		for (int k = rand() % 8; k >= 0; k--)
			buf[rand() % len] = (char)(rand() % 256);
		if (round % 7 == 0)
			len = (size_t)rand() % len;
		inbox_read(buf, len, "b.c", m);
		assert_true(m->nrcpt <= INBOX_MAX_RCPT);
		assert_true(m->nto <= INBOX_MAX_CAND);
		assert_true(m->nmsgid <= INBOX_MAX_CAND);
		assert_true(shape_parse(buf, len, NULL, sh) <= SHAPE_SOFT);
		assert_true(dsn_parse(buf, len, d) <= DSN_MAX_RCPT);
		arf_parse(buf, len, &a);
		assert_true(strlen(a.feedback_type) < sizeof(a.feedback_type));
	}
	free(m);
	free(sh);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_unfold_and_groups),
		cmocka_unit_test(test_fields_address),
		cmocka_unit_test(test_dsn_fields),
		cmocka_unit_test(test_dsn_status_find),
		cmocka_unit_test(test_dsn_many_recipients_are_bounded),
		cmocka_unit_test(test_arf_fields),
		cmocka_unit_test(test_each_shape),
		cmocka_unit_test(test_shapes_skip_our_own_and_the_daemon),
		cmocka_unit_test(test_read_dsn),
		cmocka_unit_test(test_read_arf),
		cmocka_unit_test(test_read_html_only_bounce),
		cmocka_unit_test(test_read_auto_replies),
		cmocka_unit_test(test_read_junk_is_other),
		cmocka_unit_test(test_verp_tags),
		cmocka_unit_test(test_read_header_as_libetpan_does),
		cmocka_unit_test(test_read_regular_at),
		cmocka_unit_test(test_inboxpipe_order_and_results),
		cmocka_unit_test(test_mailmove_handled_name),
		cmocka_unit_test(test_mailmove_batches),
		cmocka_unit_test(test_mutated_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
