/*
 * importfmt.c: other tools' exports rewritten into bulletin's layout.
 * A header and rows go in as CSV text; what comes out is rendered
 * "[f1][f2]..." per record (or "E:reason"), so each case reads as the
 * export and the record subcsv gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "csv.h"
#include "importfmt.h"

static void add_record(struct buf *out, const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->nfields; i++)
		buf_addf(out, "[%s]", rec->fields[i]);
	buf_addch(out, '\n');
}

/* Runs the CSV text through a reader of kind; returns the rendering, or
 * "H:error" when the header is refused. The caller frees it. */
static char *rewrite(enum importfmt_kind kind, const struct importfmt_map *maps,
		     size_t nmaps, const char *text, enum importfmt_kind *found)
{
	FILE *f = tmpfile();
	struct csv_reader *r;
	struct importfmt *fmt = importfmt_new(kind, maps, nmaps);
	struct buf out = BUF_INIT;
	struct csv_record rec;
	const char *why;

	fputs(text, f);
	rewind(f);
	r = csv_reader_new(f);
	assert_int_equal(csv_read(r, &rec, &why), 1);
	if (importfmt_header(fmt, "x.csv", &rec)) {
		buf_adds(&out, "H:error\n");
		goto out;
	}
	add_record(&out, &rec);
	while (csv_read(r, &rec, &why) == 1) {
		why = importfmt_row(fmt, &rec);
		if (why)
			buf_addf(&out, "E:%s\n", why);
		else
			add_record(&out, &rec);
	}
	if (found)
		*found = importfmt_kind(fmt);
out:
	csv_free(r);
	fclose(f);
	importfmt_free(fmt);
	return buf_detach(&out, NULL);
}

static void expect(enum importfmt_kind kind, const char *text, const char *want,
		   enum importfmt_kind want_kind)
{
	enum importfmt_kind found = IMPORTFMT_AUTO;
	char *got = rewrite(kind, NULL, 0, text, &found);

	assert_string_equal(got, want);
	assert_int_equal(found, want_kind);
	free(got);
}

static void test_dates(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "2021-03-04", "2021-03-04T00:00:00Z" },
		{ "2021-03-04 10:11:12", "2021-03-04T10:11:12Z" },
		{ "2021-03-04T10:11", "2021-03-04T10:11:00Z" },
		{ "2020-09-14T08:31:12.512Z", "2020-09-14T08:31:12Z" },
		{ "2020-01-02 03:04:05.678901+00", "2020-01-02T03:04:05Z" },
		{ "2020-02-03 10:00:00+01", "2020-02-03T09:00:00Z" },
		{ "2021-01-01T01:30:00+05:30", "2020-12-31T20:00:00Z" },
		{ "2021-01-01T23:00:00-0200", "2021-01-02T01:00:00Z" },
		{ "2021-01-01 12:00:00 UTC", "2021-01-01T12:00:00Z" },
		{ "2024-02-29", "2024-02-29T00:00:00Z" },
	};
	static const char *const bad[] = {
		"", "2021", "2021-3-4", "2021-02-30", "2021-13-01", "2021-00-10",
		"04/03/2021", "2021-03-04T25:00:00", "2021-03-04 10:61",
		"2021-03-04T10:00:00+25:00", "2021-03-04x", "2021-03-04T10:00:00ZZ",
		"yesterday", "2021-03-04T",
	};
	char out[21];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(importfmt_date(ok[i].in, strlen(ok[i].in), out), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(importfmt_date(bad[i], strlen(bad[i]), out), -1);
}

static void test_kinds(void **state)
{
	enum importfmt_kind k;

	(void)state;
	assert_int_equal(importfmt_parse_kind("listmonk", &k), 0);
	assert_int_equal(k, IMPORTFMT_LISTMONK);
	assert_string_equal(importfmt_kind_name(IMPORTFMT_MAILCHIMP), "mailchimp");
	assert_int_equal(importfmt_parse_kind("MailChimp", &k), -1);
	assert_int_equal(importfmt_parse_kind("", &k), -1);
}

static void test_mailchimp(void **state)
{
	(void)state;
	/* the subscribed file: name joined, OPTIN_TIME, else CONFIRM_TIME */
	expect(IMPORTFMT_AUTO,
	       "\"Email Address\",\"First Name\",\"Last Name\",MEMBER_RATING,"
	       "OPTIN_TIME,CONFIRM_TIME,LEID\n"
	       "a@x.org,Ada,Lovelace,2,2019-05-02 09:15:00,2019-05-02 09:16:40,1\n"
	       "b@x.org,,Hopper,4,,2020-02-29 23:30:00,2\n"
	       "c@x.org,,,1,,,3\n",
	       "[email][name][status][created][MEMBER_RATING][LEID]\n"
	       "[a@x.org][Ada Lovelace][][2019-05-02T09:15:00Z][2][1]\n"
	       "[b@x.org][Hopper][][2020-02-29T23:30:00Z][4][2]\n"
	       "[c@x.org][][][][1][3]\n", IMPORTFMT_MAILCHIMP);
	/* the unsubscribed and the cleaned files */
	expect(IMPORTFMT_AUTO,
	       "Email Address,OPTIN_TIME,UNSUB_TIME\na@x.org,,2021-02-01 07:00:00\n",
	       "[email][name][status][created][UNSUB_TIME]\n"
	       "[a@x.org][][unsubscribed][][2021-02-01 07:00:00]\n",
	       IMPORTFMT_MAILCHIMP);
	expect(IMPORTFMT_MAILCHIMP,
	       "Email Address,CLEAN_TIME\na@x.org,2020-12-01 10:00:00\n",
	       "[email][name][status][created][CLEAN_TIME]\n"
	       "[a@x.org][][bounced][][2020-12-01 10:00:00]\n",
	       IMPORTFMT_MAILCHIMP);
}

static void test_substack(void **state)
{
	(void)state;
	expect(IMPORTFMT_AUTO,
	       "email,active_subscription,email_disabled,created_at\n"
	       "a@x.org,false,false,2020-09-14T08:31:12.512Z\n"
	       "b@x.org,false,true,2020-10-01T12:00:00.000Z\n"
	       "c@x.org,false,TRUE,\n"
	       "d@x.org,false,maybe,\n",
	       "[email][name][status][created][active_subscription]\n"
	       "[a@x.org][][][2020-09-14T08:31:12Z][false]\n"
	       "[b@x.org][][unsubscribed][2020-10-01T12:00:00Z][false]\n"
	       "[c@x.org][][unsubscribed][][false]\n"
	       "E:unknown status 'maybe' (column email_disabled)\n", IMPORTFMT_SUBSTACK);
}

static void test_listmonk(void **state)
{
	(void)state;
	expect(IMPORTFMT_AUTO,
	       "uuid,email,name,attributes,status,created_at\n"
	       "u1,a@x.org,Ada,{},enabled,2020-01-02 03:04:05+00\n"
	       "u2,b@x.org,Bo,{},blocklisted,2020-02-03 10:00:00+01\n"
	       "u3,c@x.org,Cy,{},disabled,\n"
	       "u4,d@x.org,Di,{},gone,\n",
	       "[email][name][status][created][uuid][attributes]\n"
	       "[a@x.org][Ada][][2020-01-02T03:04:05Z][u1][{}]\n"
	       "[b@x.org][Bo][unsubscribed][2020-02-03T09:00:00Z][u2][{}]\n"
	       "[c@x.org][Cy][unsubscribed][][u3][{}]\n"
	       "E:unknown status 'gone' (column status)\n", IMPORTFMT_LISTMONK);
}

static void test_buttondown(void **state)
{
	(void)state;
	expect(IMPORTFMT_AUTO,
	       "email,creation_date,subscriber_type\n"
	       "a@x.org,2021-04-05 06:07:08.1+00:00,regular\n"
	       "b@x.org,,unsubscribed\nc@x.org,,undeliverable\n"
	       "d@x.org,,spammy\ne@x.org,,unactivated\nf@x.org,,premium\n"
	       "g@x.org,,removed\nh@x.org,,paused\ni@x.org,,vip\n",
	       "[email][name][status][created]\n"
	       "[a@x.org][][][2021-04-05T06:07:08Z]\n"
	       "[b@x.org][][unsubscribed][]\n[c@x.org][][bounced][]\n"
	       "[d@x.org][][complained][]\n[e@x.org][][pending][]\n"
	       "[f@x.org][][][]\n[g@x.org][][unsubscribed][]\n"
	       "[h@x.org][][unsubscribed][]\n"
	       "E:unknown status 'vip' (column subscriber_type)\n", IMPORTFMT_BUTTONDOWN);
	/* the newer export: email_address and type */
	expect(IMPORTFMT_AUTO,
	       "email_address,creation_date,type\nb@x.org,2021-01-01,unsubscribed\n",
	       "[email][name][status][created]\n"
	       "[b@x.org][][unsubscribed][2021-01-01T00:00:00Z]\n",
	       IMPORTFMT_BUTTONDOWN);
}

static void test_csv(void **state)
{
	(void)state;
	/* bulletin's own layout passes through; the usual names are read */
	expect(IMPORTFMT_AUTO,
	       "E-mail,Full Name,status,created,city\n"
	       "a@x.org,Ada,unsubscribed,2026-11-03T10:00:00Z,London\n"
	       "b@x.org,Bo,nonsense,,\n"
	       "c@x.org,Cy\n",
	       "[email][name][status][created][city]\n"
	       "[a@x.org][Ada][unsubscribed][2026-11-03T10:00:00Z][London]\n"
	       "[b@x.org][Bo][nonsense][][]\n"
	       "E:expected 5 fields, found 2\n", IMPORTFMT_CSV);
	/* bulletin's export of an earlier listmonk import stays bulletin's */
	expect(IMPORTFMT_AUTO, "email,name,status,created,attributes,uuid\n"
	       "a@x.org,,bounced,,{},u1\n",
	       "[email][name][status][created][attributes][uuid]\n"
	       "[a@x.org][][bounced][][{}][u1]\n", IMPORTFMT_CSV);
	expect(IMPORTFMT_CSV, "email,created\na@x.org,03/04/2021\n",
	       "[email][name][status][created]\n"
	       "E:invalid created time '03/04/2021' (column created): expected a date such as "
	       "2026-11-03 or 2026-11-03T10:00:00Z\n", IMPORTFMT_CSV);
	/* a value shown in a reason is cut and its controls escaped */
	expect(IMPORTFMT_CSV, "email,created\na@x.org,\"\x1b[31m\"\n",
	       "[email][name][status][created]\n"
	       "E:invalid created time '\\x1b[31m' (column created): expected a date such as "
	       "2026-11-03 or 2026-11-03T10:00:00Z\n", IMPORTFMT_CSV);
}

static void test_maps(void **state)
{
	static const struct importfmt_map maps[] = {
		{ "Mail", "email" }, { "Joined", "created" },
		{ "Secret", "ignore" }, { "Town", "city" }, { "State", "status" },
	};
	static const struct importfmt_map bad[] = { { "Nowhere", "email" } };
	char *got;

	(void)state;
	got = rewrite(IMPORTFMT_AUTO, maps, 5,
		      "Mail,Joined,Secret,Town,State\n"
		      "a@x.org,2021-01-01,pw,Paris,bounced\n", NULL);
	assert_string_equal(got, "[email][name][status][created][city]\n"
			    "[a@x.org][][bounced][2021-01-01T00:00:00Z][Paris]\n");
	free(got);
	got = rewrite(IMPORTFMT_AUTO, bad, 1, "email\na@x.org\n", NULL);
	assert_string_equal(got, "H:error\n");
	free(got);
}

static void test_bad_headers(void **state)
{
	char *got;

	(void)state;
	got = rewrite(IMPORTFMT_AUTO, NULL, 0, "mail,name\na@x.org,A\n", NULL);
	assert_string_equal(got, "H:error\n");
	free(got);
	got = rewrite(IMPORTFMT_AUTO, NULL, 0, "email,Email Address\na,b\n", NULL);
	assert_string_equal(got, "H:error\n");
	free(got);
	got = rewrite(IMPORTFMT_AUTO, NULL, 0, "email,city,city\na,b,c\n", NULL);
	assert_string_equal(got, "H:error\n");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_mailchimp),
		cmocka_unit_test(test_substack),
		cmocka_unit_test(test_listmonk),
		cmocka_unit_test(test_buttondown),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_bad_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
