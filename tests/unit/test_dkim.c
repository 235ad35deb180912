/*
 * dkim.h and signpool.h: a signer loaded from a config, signatures that
 * do not depend on the thread that made them, the pool handing messages
 * back in order. That the signatures verify is test_dkim.py's part
 * (python3-dkim and Mail::DKIM).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "dkim.h"
#include "signpool.h"

#define NMSG 24
#define FIXED_TIME 1700000000

static char dir[] = "/tmp/bulletin-dkim-XXXXXX";
static struct buf rsa_path = BUF_INIT, ed_path = BUF_INIT;

static const char base_config[] =
	"[newsletter]\n"
	"name = Test\n"
	"from = Test <news@news.example.org>\n"
	"list-id = test.news.example.org\n"
	"base-url = https://news.example.org\n"
	"postal-address = 1 Street\n";

static int make_keys(void **state)
{
	struct buf record = BUF_INIT;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	buf_addf(&rsa_path, "%s/rsa.pem", dir);
	buf_addf(&ed_path, "%s/ed.pem", dir);
	if (dkim_keygen(rsa_path.data, DKIM_KEY_RSA, 2048, "r", "example.org",
			&record) ||
	    dkim_keygen(ed_path.data, DKIM_KEY_ED25519, 0, "e", "example.org",
			&record))
		return -1;
	buf_release(&record);
	return 0;
}

static int remove_keys(void **state)
{
	(void)state;
	unlink(rsa_path.data);
	unlink(ed_path.data);
	rmdir(dir);
	buf_release(&rsa_path);
	buf_release(&ed_path);
	return 0;
}

/* A signer for [dkim] text appended to the base config; NULL if refused. */
static struct dkim_signer *load(const char *dkim_section)
{
	struct config c;
	struct buf text = BUF_INIT;
	struct dkim_signer *s = NULL;

	config_defaults(&c);
	buf_adds(&text, base_config);
	buf_adds(&text, dkim_section);
	if (!config_parse_buf(&c, "test.conf", text.data, text.len) &&
	    dkim_signer_load(&c, &s) == 0 && s)
		assert_int_equal(dkim_signer_fix_time(s, FIXED_TIME), 0);
	config_release(&c);
	buf_release(&text);
	return s;
}

static struct dkim_signer *load_dual(void)
{
	struct buf section = BUF_INIT;
	struct dkim_signer *s;

	buf_addf(&section, "[dkim]\ndomain = example.org\nselector = r\n"
		 "key-file = %s\nselector2 = e\nkey-file2 = %s\n",
		 rsa_path.data, ed_path.data);
	s = load(section.data);
	buf_release(&section);
	assert_non_null(s);
	return s;
}

static void message(struct buf *m, int i)
{
	buf_addf(m, "From: Test <news@news.example.org>\r\n"
		 "To: reader%d@example.org\r\n"
		 "Subject: issue %d\r\n"
		 "List-Unsubscribe: <https://news.example.org/u/%d>\r\n"
		 "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
		 "\r\n"
		 "Hello reader %d.\r\n", i, i, i, i);
}

static void sign_direct(const struct dkim_signer *s, int i, struct buf *out)
{
	struct buf m = BUF_INIT;

	message(&m, i);
	assert_int_equal(dkim_signer_sign(s, m.data, m.len, out), 0);
	buf_release(&m);
}

static void test_no_section_no_signer(void **state)
{
	struct config c;
	struct dkim_signer *s = (struct dkim_signer *)&c;

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_parse_buf(&c, "t", base_config,
					  strlen(base_config)), 0);
	assert_int_equal(dkim_signer_load(&c, &s), 0);
	assert_null(s);
	config_release(&c);
}

static void test_two_fields_in_config_order(void **state)
{
	struct dkim_signer *s = load_dual();
	static const char first[] = "DKIM-Signature: v=1; a=rsa-sha256;";
	struct buf sig = BUF_INIT, again = BUF_INIT;
	const char *second;

	(void)state;
	sign_direct(s, 1, &sig);
	assert_memory_equal(sig.data, first, strlen(first));
	second = strstr(sig.data, "\r\nDKIM-Signature: ");
	assert_non_null(second);
	assert_non_null(strstr(second, "a=ed25519-sha256;"));
	assert_non_null(strstr(sig.data, "t=1700000000;"));
	assert_true(buf_ends_with(&sig, "\r\n"));
	assert_non_null(strstr(sig.data, "List-Unsubscribe-Post"));
	/* deterministic: the same message, the same fields */
	sign_direct(s, 1, &again);
	assert_string_equal(sig.data, again.data);
	buf_release(&sig);
	buf_release(&again);
	dkim_signer_free(s);
}

static void test_prepend(void **state)
{
	struct dkim_signer *s = load_dual();
	struct buf m = BUF_INIT, want = BUF_INIT;

	(void)state;
	message(&m, 7);
	assert_int_equal(dkim_signer_prepend(NULL, &m), 0);
	message(&want, 7);
	assert_string_equal(m.data, want.data);
	buf_reset(&want);
	sign_direct(s, 7, &want);
	message(&want, 7);
	assert_int_equal(dkim_signer_prepend(s, &m), 0);
	assert_string_equal(m.data, want.data);
	buf_release(&m);
	buf_release(&want);
	dkim_signer_free(s);
}

static void test_refuses_message_without_body_separator(void **state)
{
	struct dkim_signer *s = load_dual();
	struct buf sig = BUF_INIT;
	static const char headers_only[] = "From: a@news.example.org\r\n";

	(void)state;
	buf_adds(&sig, "kept");
	assert_int_equal(dkim_signer_sign(s, headers_only,
					  strlen(headers_only), &sig), -1);
	assert_string_equal(sig.data, "kept");
	buf_release(&sig);
	dkim_signer_free(s);
}

struct shared {
	const struct dkim_signer *s;
	struct buf                out[NMSG];
	int                       first;
};

static void *sign_half(void *arg)
{
	struct shared *sh = arg;

	for (int i = sh->first; i < NMSG; i += 2)
		sign_direct(sh->s, i, &sh->out[i]);
	return NULL;
}

/* Two threads on one signer make what one thread makes. */
static void test_one_signer_two_threads(void **state)
{
	struct dkim_signer *s = load_dual();
	struct shared a = { s, { BUF_INIT }, 0 }, b = { s, { BUF_INIT }, 1 };
	pthread_t ta, tb;

	(void)state;
	for (int i = 0; i < NMSG; i++)
		a.out[i] = b.out[i] = (struct buf)BUF_INIT;
	assert_int_equal(pthread_create(&ta, NULL, sign_half, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, sign_half, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	for (int i = 0; i < NMSG; i++) {
		struct buf want = BUF_INIT;

		sign_direct(s, i, &want);
		assert_string_equal((i % 2 ? b.out : a.out)[i].data, want.data);
		buf_release(&want);
		buf_release(&a.out[i]);
		buf_release(&b.out[i]);
	}
	dkim_signer_free(s);
}

/* Every message back once, in order, with its tag, signed as directly. */
static void run_pool(int threads, size_t depth)
{
	struct dkim_signer *s = load_dual();
	struct signpool *p = signpool_new(s, threads, depth);
	struct buf out = BUF_INIT;
	int sent = 0, taken = 0;
	void *tag;

	assert_non_null(p);
	while (taken < NMSG) {
		struct buf m = BUF_INIT;
		int r;

		if (sent < NMSG && signpool_pending(p) < signpool_depth(p)) {
			message(&m, sent);
			assert_int_equal(signpool_submit(p, &m, (void *)(intptr_t)sent), 0);
			assert_int_equal(m.len, 0);
			sent++;
			continue;
		}
		r = signpool_next(p, &out, &tag, 1);
		assert_int_equal(r, 1);
		assert_int_equal((intptr_t)tag, taken);
		buf_reset(&m);
		sign_direct(s, taken, &m);
		message(&m, taken);
		assert_int_equal(out.len, m.len);
		assert_memory_equal(out.data, m.data, m.len);
		buf_release(&m);
		taken++;
	}
	assert_int_equal(signpool_next(p, &out, &tag, 1), 0);
	buf_release(&out);
	signpool_free(p);
	dkim_signer_free(s);
}

static void test_pool_one_thread(void **state)
{
	(void)state;
	run_pool(1, 1);
}

static void test_pool_threads_in_order(void **state)
{
	(void)state;
	run_pool(3, 5);
}

static void test_pool_full_and_failure(void **state)
{
	struct dkim_signer *s = load_dual();
	struct signpool *p = signpool_new(s, 2, 2);
	struct buf m = BUF_INIT, out = BUF_INIT;
	void *tag = NULL;

	(void)state;
	assert_int_equal(signpool_next(p, &out, &tag, 0), 0);
	buf_adds(&m, "not a message");
	assert_int_equal(signpool_submit(p, &m, (void *)1), 0);
	message(&m, 2);
	assert_int_equal(signpool_submit(p, &m, (void *)2), 0);
	message(&m, 3);
	assert_int_equal(signpool_submit(p, &m, (void *)3), -1);
	assert_true(m.len > 0);	/* refused: still the caller's */
	buf_adds(&out, "old");
	assert_int_equal(signpool_next(p, &out, &tag, 1), -1);
	assert_ptr_equal(tag, (void *)1);
	assert_int_equal(out.len, 0);
	assert_int_equal(signpool_next(p, &out, &tag, 1), 1);
	assert_ptr_equal(tag, (void *)2);
	assert_int_equal(signpool_submit(p, &m, (void *)3), 0);
	buf_release(&m);
	buf_release(&out);
	signpool_free(p);	/* frees the one never taken */
	dkim_signer_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_section_no_signer),
		cmocka_unit_test(test_two_fields_in_config_order),
		cmocka_unit_test(test_prepend),
		cmocka_unit_test(test_refuses_message_without_body_separator),
		cmocka_unit_test(test_one_signer_two_threads),
		cmocka_unit_test(test_pool_one_thread),
		cmocka_unit_test(test_pool_threads_in_order),
		cmocka_unit_test(test_pool_full_and_failure),
	};

	return cmocka_run_group_tests(tests, make_keys, remove_keys);
}
