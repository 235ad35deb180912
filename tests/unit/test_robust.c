/*
 * Robustness: every parser that takes a user's bytes is fed thousands of
 * random and mutated inputs (a fixed seed, so runs repeat). Under ASan and
 * UBSan this finds the reads past the end and the overflows that examples
 * miss; here it also checks the invariants that must hold for any input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "mime.h"
#include "template.h"
#include "utf8.h"
#include "wrap.h"

#define ROUNDS 3000

static uint64_t seed = 0x9E3779B97F4A7C15u;

static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)seed;
}

/* Random bytes drawn mostly from pieces that matter to the parsers. */
static size_t random_input(char *out, size_t max)
{
	static const char *pieces[] = { "{{", "}}", "{{#a}}", "{{/a}}", "{{^b}}",
		"{{/b}}", "{{{c}}}", "{{&d}}", "{{=<% %>=}}", "<%e%>", "{{! x }}",
		"{{.}}", "{{a.b}}", "\n", "\r\n", " ", "\t", ",", "\"", "\"\"", "中文",
		"，", "。", "😀", "\xff", "\xc3", "=", "x", "word ", "https://a.org/x" };
	size_t n = 0, want = rnd() % max;

	while (n < want) {
		const char *p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t len = strlen(p);

		if (rnd() % 8 == 0) {
			out[n++] = (char)(rnd() & 0xff);
			continue;
		}
		if (n + len > want)
			break;
		memcpy(out + n, p, len);
		n += len;
	}
	return n;
}

static void test_templates_never_crash(void **state)
{
	char src[512];
	struct tv *data = tv_map(), *list = tv_set(data, "a", tv_list());

	int saved = dup(2), quiet = open("/dev/null", O_WRONLY);

	/* template errors are expected by the thousand: keep them quiet */
	(void)state;
	dup2(quiet, 2);
	tv_push(list, tv_str("one"));
	tv_set_str(tv_push(list, tv_map()), "b", "two");
	tv_set_str(data, "c", "<raw>");
	for (int i = 0; i < ROUNDS; i++) {
		size_t n = random_input(src, sizeof(src));
		struct tmpl *t = tmpl_compile(NULL, i % 2 ? "x.html" : "x.txt", src, n);
		struct buf out = BUF_INIT;

		if (t) {
			tmpl_render(t, data, &out);
			tmpl_free(t);
		}
		buf_release(&out);
	}
	tv_free(data);
	dup2(saved, 2);
	close(saved);
	close(quiet);
}

static void test_wrap_keeps_every_word(void **state)
{
	char src[512];

	(void)state;
	for (int i = 0; i < ROUNDS; i++) {
		size_t n = random_input(src, sizeof(src)), width = 1 + rnd() % 80;
		struct buf out = BUF_INIT;

		wrap_paragraph(&out, src, n, width, "> ", "  ");
		/* every non-space byte of the input is still there, in order */
		size_t j = 0;
		for (size_t k = 0; k < out.len && j < n; k++) {
			while (j < n && strchr(" \t\r\n\v\f", src[j]))
				j++;
			if (j < n && out.data[k] == src[j])
				j++;
		}
		while (j < n && strchr(" \t\r\n\v\f", src[j]))
			j++;
		assert_int_equal(j, n);
		buf_release(&out);
	}
}

static void test_quoted_printable_always_decodes(void **state)
{
	char src[512], decoded[512];

	(void)state;
	for (int i = 0; i < ROUNDS; i++) {
		size_t n = random_input(src, sizeof(src)), o = 0;
		struct buf qp = BUF_INIT;

		mime_qp_encode(&qp, src, n, rnd() % 2);
		for (size_t k = 0; k < qp.len; k++) {
			unsigned v;

			assert_true((unsigned char)qp.data[k] < 0x7f);
			if (qp.data[k] != '=') {
				decoded[o++] = qp.data[k];
			} else if (qp.data[k + 1] == '\r') {
				k += 2;
			} else {
				assert_int_equal(sscanf(qp.data + k + 1, "%2X", &v), 1);
				decoded[o++] = (char)v;
				k += 2;
			}
		}
		assert_int_equal(o, n);
		assert_memory_equal(decoded, src, n);
		buf_release(&qp);
	}
}

static void test_csv_never_crashes(void **state)
{
	char src[512];

	(void)state;
	for (int i = 0; i < ROUNDS; i++) {
		size_t n = random_input(src, sizeof(src));
		FILE *f = fmemopen(src, n ? n : 1, "r");
		struct csv_reader *r = csv_reader_new(f);
		struct csv_record rec;
		const char *why;
		long last = 0;
		int rc;

		csv_expect_fields(r, (size_t)(i % 4));
		while ((rc = csv_read(r, &rec, &why)) != 0) {
			/* every line in one record at most, in order */
			assert_true(rec.line > last && rec.last >= rec.line);
			last = rec.last;
			if (rc > 0)
				for (size_t k = 0; k < rec.nfields; k++)
					assert_true(utf8_valid(rec.fields[k], rec.lens[k]));
		}
		assert_true(last <= csv_lines(r));
		csv_free(r);
		fclose(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_templates_never_crash),
		cmocka_unit_test(test_wrap_keeps_every_word),
		cmocka_unit_test(test_quoted_printable_always_decodes),
		cmocka_unit_test(test_csv_never_crashes),
	};

	return cmocka_run_group_tests_name("robust", tests, NULL, NULL);
}
