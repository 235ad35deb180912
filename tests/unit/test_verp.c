/*
 * VERP tags and the signed tokens under them: a genuine tag reads back, a forged,
 * altered, truncated or re-purposed one does not; the secret file must
 * be private.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "token.h"

static struct token_key key(unsigned char fill)
{
	struct token_key k;

	memset(&k, 0, sizeof(k));
	memset(k.secret, fill, sizeof(k.secret));
	return k;
}

static void verp_round_trip(void **state)
{
	struct token_key k = key(0x55);
	struct buf tag = BUF_INIT;
	char campaign[65];
	long long id = 0;

	(void)state;
	token_verp_tag(&k, "2021-03", 4711, &tag);
	/* "ID.CAMPAIGN.MAC": dot-atom characters only, 12 hex digits of MAC */
	assert_int_equal(strncmp(tag.data, "4711.2021-03.", 13), 0);
	assert_int_equal(tag.len, 13 + TOKEN_MAC_HEX);
	assert_int_equal(strspn(tag.data + 13, "0123456789abcdef"), TOKEN_MAC_HEX);
	assert_int_equal(token_verp_parse(&k, tag.data, campaign, &id), 0);
	assert_string_equal(campaign, "2021-03");
	assert_int_equal(id, 4711);
	buf_release(&tag);
}

static void verp_matches_python_hmac(void **state)
{
	/* HMAC-SHA256(key 0x55 x 32, "verp\0" "4711.2021-03"), first 6 bytes,
	 * as tests/integration/sendlib.py computes it */
	struct token_key k = key(0x55);
	struct buf tag = BUF_INIT;

	(void)state;
	token_verp_tag(&k, "2021-03", 4711, &tag);
	assert_string_equal(tag.data + 13, "d164326fb628");
	buf_release(&tag);
}

static void forged_tags_are_refused(void **state)
{
	struct token_key k = key(0x55), other = key(0x56);
	struct buf tag = BUF_INIT, forged = BUF_INIT;
	char campaign[65];
	long long id = 0;

	(void)state;
	token_verp_tag(&k, "2021-03", 4711, &tag);
	/* another subscriber's id with the same MAC */
	buf_addf(&forged, "4712%s", tag.data + 4);
	assert_int_equal(token_verp_parse(&k, forged.data, campaign, &id), -1);
	/* another secret */
	assert_int_equal(token_verp_parse(&other, tag.data, campaign, &id), -1);
	/* one MAC digit changed */
	buf_reset(&forged);
	buf_add(&forged, tag.data, tag.len);
	forged.data[forged.len - 1] = forged.data[forged.len - 1] == '0' ? '1' : '0';
	assert_int_equal(token_verp_parse(&k, forged.data, campaign, &id), -1);
	/* truncated, at every length */
	for (size_t n = 0; n < tag.len; n++) {
		char *cut = strndup(tag.data, n);

		assert_int_equal(token_verp_parse(&k, cut, campaign, &id), -1);
		free(cut);
	}
	/* a token signed for another purpose */
	buf_reset(&forged);
	token_sign(&k, "unsubscribe", "4711.2021-03", 12, &forged);
	assert_int_equal(token_verp_parse(&k, forged.data, campaign, &id), -1);
	/* garbage */
	assert_int_equal(token_verp_parse(&k, "", campaign, &id), -1);
	assert_int_equal(token_verp_parse(&k, "....", campaign, &id), -1);
	assert_int_equal(token_verp_parse(&k, "x.2021-03.000000000000", campaign,
					  &id), -1);
	assert_int_equal(id, 0);
	buf_release(&tag);
	buf_release(&forged);
}

static void sign_and_verify(void **state)
{
	struct token_key k = key(1);
	struct buf t = BUF_INIT;

	(void)state;
	token_sign(&k, "unsubscribe", "42", 2, &t);
	assert_int_equal(token_verify(&k, "unsubscribe", t.data, t.len), 2);
	assert_int_equal(token_verify(&k, "verp", t.data, t.len), -1);
	assert_int_equal(token_verify(&k, "unsubscribe", t.data, t.len - 1), -1);
	buf_release(&t);
}

static void campaign_ids(void **state)
{
	(void)state;
	assert_true(campaign_id_valid("2021-03"));
	assert_true(campaign_id_valid("issue_7"));
	assert_false(campaign_id_valid(""));
	assert_false(campaign_id_valid("a.b"));
	assert_false(campaign_id_valid("a b"));
	assert_false(campaign_id_valid("née"));
	assert_false(campaign_id_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void secret_file_rules(void **state)
{
	char dir[] = "/tmp/test_token.XXXXXX", path[64];
	struct token_key k;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secret", dir);
	assert_int_equal(token_key_load(&k, path), -1);	/* missing */
	f = fopen(path, "w");
	fputs("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", f);
	fclose(f);
	chmod(path, 0644);
	assert_int_equal(token_key_load(&k, path), -1);	/* others can read */
	chmod(path, 0600);
	assert_int_equal(token_key_load(&k, path), 0);
	assert_int_equal(k.secret[0], 0);
	assert_int_equal(k.secret[31], 0x1f);
	f = fopen(path, "w");
	fputs("00010203", f);
	fclose(f);
	assert_int_equal(token_key_load(&k, path), -1);	/* too short */
	unlink(path);
	rmdir(dir);
}

/* A bounce that comes back after `bulletin secret rotate` for mail sent
 * before it carries a tag signed with the old secret: read back within
 * the grace period, refused after it, and never under a third secret. */
static void tags_survive_a_rotation(void **state)
{
	char dir[] = "/tmp/test_verp.XXXXXX", path[64], prev[80], camp[65];
	struct token_key old, cur, other = key(9);
	struct buf tag = BUF_INIT, fresh = BUF_INIT;
	long long id = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secret", dir);
	snprintf(prev, sizeof(prev), "%s.previous", path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("0202020202020202020202020202020202020202020202020202020202020202\n", f);
	fclose(f);
	chmod(path, 0600);
	assert_int_equal(token_key_load(&old, path), 0);
	token_verp_tag(&old, "2021-03", 42, &tag);

	assert_int_equal(token_secret_rotate(path, time(NULL) - 89 * 86400), 0);
	assert_int_equal(token_key_load(&cur, path), 0);
	assert_int_equal(token_key_load_previous(&cur, path, 90), 0);
	assert_true(cur.has_previous);
	assert_int_equal(token_verp_parse(&cur, tag.data, camp, &id), 0);
	assert_true(id == 42);
	assert_string_equal(camp, "2021-03");
	/* new tags are signed with the new secret alone */
	token_verp_tag(&cur, "2021-03", 42, &fresh);
	assert_string_not_equal(fresh.data, tag.data);
	assert_int_equal(token_verp_parse(&cur, fresh.data, camp, &id), 0);
	assert_int_equal(token_verp_parse(&old, fresh.data, camp, &id), -1);
	/* the old secret does not make a forgery under it pass */
	tag.data[0] = '5';
	assert_int_equal(token_verp_parse(&cur, tag.data, camp, &id), -1);
	tag.data[0] = '4';
	/* a third secret's tags are refused */
	buf_reset(&fresh);
	token_verp_tag(&other, "2021-03", 42, &fresh);
	assert_int_equal(token_verp_parse(&cur, fresh.data, camp, &id), -1);

	/* past the grace period the old tag is refused */
	assert_int_equal(token_key_load_previous(&cur, path, 88), 0);
	assert_false(cur.has_previous);
	assert_int_equal(token_verp_parse(&cur, tag.data, camp, &id), -1);

	token_key_release(&old);
	token_key_release(&cur);
	unlink(path);
	unlink(prev);
	rmdir(dir);
	buf_release(&tag);
	buf_release(&fresh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verp_round_trip),
		cmocka_unit_test(verp_matches_python_hmac),
		cmocka_unit_test(forged_tags_are_refused),
		cmocka_unit_test(sign_and_verify),
		cmocka_unit_test(campaign_ids),
		cmocka_unit_test(secret_file_rules),
		cmocka_unit_test(tags_survive_a_rotation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
