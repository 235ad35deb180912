/*
 * Unsubscribe tokens: a round trip, and every way of tampering with one
 * (a changed character, a truncated or extended token, another secret,
 * another version) is refused; the previous secret is accepted during
 * its grace period only; the MAC comparison takes the same time
 * whichever byte differs.
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

#include "buf.h"
#include "token.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void key_from(struct token_key *k, unsigned char fill)
{
	memset(k, 0, sizeof(*k));
	memset(k->secret, fill, sizeof(k->secret));
}

static int check(const struct token_key *k, const char *t, size_t len,
		 long long *id, char camp[65])
{
	return token_unsub_check(k, t, len, id, camp);
}

static void test_round_trip(void **state)
{
	static const char *const campaigns[] = { "2021-03", "", "a", NULL,
		"0123456789012345678901234567890123456789012345678901234567890123" };
	struct token_key k;
	long long ids[] = { 1, 42, 1LL << 40, 9223372036854775807LL };

	(void)state;
	key_from(&k, 7);
	for (size_t c = 0; c < sizeof(campaigns) / sizeof(*campaigns); c++) {
		for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++) {
			struct buf t = BUF_INIT;
			char camp[65];
			long long id = 0;

			token_unsub_make(&k, ids[i], campaigns[c], &t);
			assert_true(t.len <= TOKEN_UNSUB_MAX);
			assert_int_equal(strspn(t.data, alphabet), t.len);
			assert_int_equal(check(&k, t.data, t.len, &id, camp), 0);
			assert_true(id == ids[i]);
			assert_string_equal(camp, campaigns[c] ? campaigns[c] : "");
			buf_release(&t);
		}
	}
}

/* Every character replaced by every other character of the alphabet
 * (and by a few outside it): never accepted. */
static void test_changed_character(void **state)
{
	struct token_key k;
	struct buf t = BUF_INIT;
	long long id;
	char camp[65];

	(void)state;
	key_from(&k, 7);
	token_unsub_make(&k, 1234, "2021-03", &t);
	for (size_t i = 0; i < t.len; i++) {
		char orig = t.data[i];

		for (const char *c = alphabet; *c; c++) {
			if (*c == orig)
				continue;
			t.data[i] = *c;
			assert_int_equal(check(&k, t.data, t.len, &id, camp), -1);
		}
		for (const char *c = "=+/. %"; *c; c++) {
			t.data[i] = *c;
			assert_int_equal(check(&k, t.data, t.len, &id, camp), -1);
		}
		t.data[i] = orig;
	}
	assert_int_equal(check(&k, t.data, t.len, &id, camp), 0);
	buf_release(&t);
}

static void test_truncated_and_extended(void **state)
{
	struct token_key k;
	struct buf t = BUF_INIT;
	long long id;
	char camp[65];

	(void)state;
	key_from(&k, 7);
	token_unsub_make(&k, 99, "2021-03", &t);
	for (size_t n = 0; n < t.len; n++)
		assert_int_equal(check(&k, t.data, n, &id, camp), -1);
	for (const char *c = alphabet; *c; c++) {
		struct buf longer = BUF_INIT;

		buf_add(&longer, t.data, t.len);
		buf_addch(&longer, *c);
		assert_int_equal(check(&k, longer.data, longer.len, &id, camp), -1);
		buf_adds(&longer, "AAAA");
		assert_int_equal(check(&k, longer.data, longer.len, &id, camp), -1);
		buf_release(&longer);
	}
	buf_release(&t);
}

static void test_other_secret(void **state)
{
	struct token_key k, other;
	struct buf t = BUF_INIT;
	long long id;
	char camp[65];

	(void)state;
	key_from(&k, 7);
	key_from(&other, 7);
	other.secret[31] ^= 1;
	token_unsub_make(&k, 5, "2021-03", &t);
	assert_int_equal(check(&other, t.data, t.len, &id, camp), -1);
	/* the VERP tag scheme's MAC is not an unsubscribe token either */
	buf_reset(&t);
	token_verp_tag(&k, "2021-03", 5, &t);
	assert_int_equal(check(&k, t.data, t.len, &id, camp), -1);
	buf_release(&t);
}

/* A token of another version, correctly signed, is refused. */
static void test_other_version(void **state)
{
	struct token_key k;
	struct buf t = BUF_INIT;
	long long id;
	char camp[65];

	(void)state;
	key_from(&k, 7);
	token_unsub_make(&k, 5, NULL, &t);
	/* "AQ" encodes the version byte 1 and the id's first bits; "Ag" is 2 */
	assert_memory_equal(t.data, "AQ", 2);
	t.data[1] = 'g';
	t.data[0] = 'A';
	assert_int_equal(check(&k, t.data, t.len, &id, camp), -1);
	buf_release(&t);
}

static void write_mode(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* After a rotation the old secret's tokens are accepted, within the
 * grace period only; new tokens are signed with the new secret. */
static void test_rotation(void **state)
{
	char dir[] = "/tmp/test_token.XXXXXX", path[64], prev[80];
	struct token_key old, cur;
	struct buf t = BUF_INIT, fresh = BUF_INIT;
	long long id;
	char camp[65];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secret", dir);
	snprintf(prev, sizeof(prev), "%s.previous", path);
	write_mode(path, "0101010101010101010101010101010101010101010101010101010101010101",
		   0600);
	assert_int_equal(token_key_load(&old, path), 0);
	assert_int_equal(token_key_load_previous(&old, path, 90), 0);
	assert_false(old.has_previous);
	token_unsub_make(&old, 77, "2021-03", &t);

	assert_int_equal(token_secret_rotate(path, time(NULL) - 89 * 86400), 0);
	assert_int_equal(token_key_load(&cur, path), 0);
	assert_memory_not_equal(cur.secret, old.secret, sizeof(cur.secret));
	assert_int_equal(token_key_load_previous(&cur, path, 0), 0);
	assert_false(cur.has_previous);
	assert_int_equal(check(&cur, t.data, t.len, &id, camp), -1);
	assert_int_equal(token_key_load_previous(&cur, path, 90), 0);
	assert_true(cur.has_previous);
	assert_int_equal(check(&cur, t.data, t.len, &id, camp), 0);
	assert_true(id == 77);
	token_unsub_make(&cur, 77, "2021-03", &fresh);
	assert_string_not_equal(fresh.data, t.data);
	assert_int_equal(check(&old, fresh.data, fresh.len, &id, camp), -1);

	/* older than the grace period: refused */
	assert_int_equal(token_secret_rotate(path, time(NULL) - 91 * 86400), 0);
	assert_int_equal(token_key_load(&cur, path), 0);
	assert_int_equal(token_key_load_previous(&cur, path, 90), 0);
	assert_false(cur.has_previous);
	assert_int_equal(check(&cur, fresh.data, fresh.len, &id, camp), -1);

	/* a readable-by-others or malformed previous file is an error */
	chmod(prev, 0644);
	assert_int_equal(token_key_load_previous(&cur, path, 90), -1);
	write_mode(prev, "0101\n5\n", 0600);
	assert_int_equal(token_key_load_previous(&cur, path, 90), -1);

	unlink(path);
	unlink(prev);
	rmdir(dir);
	buf_release(&t);
	buf_release(&fresh);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double one_run(const unsigned char *a, const unsigned char *b, size_t n)
{
	double t = now_s();

	assert_false(token_equal(a, b, n));
	return now_s() - t;
}

/*
 * Constant time: on 4 MiB a compare that stops at the first difference
 * (memcmp) is thousands of times faster when the first byte differs than
 * when the last does; token_equal takes the same time. The runs of the
 * two cases alternate and the fastest of each is kept, so the load of a
 * busy machine weighs on both alike.
 */
static void test_equal_constant_time(void **state)
{
	size_t n = 4 << 20;
	unsigned char *a = malloc(n), *first = malloc(n), *last = malloc(n);
	double t_first = 1e9, t_last = 1e9, ratio;

	(void)state;
	memset(a, 'x', n);
	memcpy(first, a, n);
	memcpy(last, a, n);
	first[0] ^= 1;
	last[n - 1] ^= 1;
	assert_true(token_equal(a, a, n));
	for (int r = 0; r < 31; r++) {
		double f = one_run(a, first, n), l = one_run(a, last, n);

		t_first = f < t_first ? f : t_first;
		t_last = l < t_last ? l : t_last;
	}
	ratio = t_first / t_last;
	printf("token_equal on 4 MiB: first byte differs %.3f ms, last %.3f ms\n",
	       t_first * 1e3, t_last * 1e3);
	free(a);
	free(first);
	free(last);
	assert_true(ratio > 0.33 && ratio < 3.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_changed_character),
		cmocka_unit_test(test_truncated_and_extended),
		cmocka_unit_test(test_other_secret),
		cmocka_unit_test(test_other_version),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_equal_constant_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
