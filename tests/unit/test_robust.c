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

/* Appends s to out (n bytes used, max in all) if it fits. */
static void emit(char *out, size_t *n, size_t max, const char *s)
{
	size_t len = strlen(s);

	if (*n + len <= max) {
		memcpy(out + *n, s, len);
		*n += len;
	}
}

/*
 * A random template that is mostly well formed: text, every kind of tag,
 * sections nested a few deep. One piece in 25 breaks it (a close tag
 * dropped or misnamed, a stray "{{", a delimiter change), so about one
 * in ten fails to compile.
 */
static void random_template(char *out, size_t *n, size_t max, int depth)
{
	static const char *leaves[] = { "x", " ", "\n", "中文", "<p>", "}}",
		"{{.}}", "{{b}}", "{{c}}", "{{{c}}}", "{{& c}}", "{{a.b}}",
		"{{! note }}", "{{missing}}", "\r\n", "  " };
	static const char *breaks[] = { "{{", "{{/a}}", "{{#a}}", "{{/b}}",
		"{{=<% %>=}}", "{{{c}}", "{{=x=}}" };
	size_t k = rnd() % 5;

	while (k--) {
		uint32_t r = rnd() % 25;

		if (r == 0) {
			emit(out, n, max, breaks[rnd() % (sizeof(breaks) / sizeof(breaks[0]))]);
		} else if (r < 5 && depth < 4) {
			int inverted = r == 4;

			emit(out, n, max, inverted ? "{{^b}}" : "{{#a}}");
			random_template(out, n, max, depth + 1);
			emit(out, n, max, inverted ? "{{/b}}" : "{{/a}}");
		} else {
			emit(out, n, max, leaves[rnd() % (sizeof(leaves) / sizeof(leaves[0]))]);
		}
	}
}

static int has(const char *s, size_t n, const char *what)
{
	return memmem(s, n, what, strlen(what)) != NULL;
}

/* Whether the template may write a value unescaped: a triple mustache,
 * an & tag, or a delimiter change (after which tags are unknowable). */
static int may_write_raw(const char *src, size_t n)
{
	return has(src, n, "{{{") || has(src, n, "&") || has(src, n, "=");
}

/* The message error() wrote to errs since offset *seen (then moved on). */
static void read_message(FILE *errs, long *seen, char *msg, size_t size)
{
	size_t n;

	fflush(errs);
	assert_int_equal(fseek(errs, *seen, SEEK_SET), 0);
	n = fread(msg, 1, size - 1, errs);
	msg[n] = '\0';
	*seen = ftell(errs);
}

/*
 * Random templates either compile or fail. A compiled one renders the
 * same twice, reproduces a template without "{{" byte for byte, and, as
 * .html, writes the markup in the data escaped unless a tag asks for it
 * raw. A failed one says why, naming the template and a line. Both
 * outcomes must be common, or the generator is testing nothing.
 */
static void test_templates_compile_or_explain(void **state)
{
	char src[512], msg[1024];
	struct tv *data = tv_map(), *list = tv_set(data, "a", tv_list());
	FILE *errs = tmpfile();
	int saved = dup(2);
	long seen = 0, compiled = 0, failed = 0, escaped = 0;

	(void)state;
	assert_non_null(errs);
	/* markup in every value the generator's tags can reach ({{.}} in
	 * {{#a}}, {{b}} in its second item, {{{c}}}) */
	tv_push(list, tv_str("<one>"));
	tv_set_str(tv_push(list, tv_map()), "b", "<two>");
	tv_set_str(data, "c", "<raw>");
	for (int i = 0; i < ROUNDS; i++) {
		size_t n = 0;
		const char *name = i % 2 ? "x.html" : "x.txt";
		struct buf out = BUF_INIT, again = BUF_INIT;
		char prefix[64];
		struct tmpl *t;

		random_template(src, &n, sizeof(src), 0);
		/* only while compiling: cmocka reports failures on stderr */
		dup2(fileno(errs), 2);
		t = tmpl_compile(NULL, name, src, n);
		dup2(saved, 2);
		read_message(errs, &seen, msg, sizeof(msg));
		if (!t) {
			failed++;
			snprintf(prefix, sizeof(prefix), "bulletin: error: %s:", name);
			assert_true(has(src, n, "{{"));
			assert_true(!strncmp(msg, prefix, strlen(prefix)));
			assert_in_range(msg[strlen(prefix)], '1', '9');
			continue;
		}
		compiled++;
		assert_string_equal(msg, "");
		assert_int_equal(tmpl_render(t, data, 1 << 20, &out), 0);
		assert_int_equal(tmpl_render(t, data, 1 << 20, &again), 0);
		assert_int_equal(out.len, again.len);
		assert_memory_equal(out.data, again.data, out.len);
		if (!has(src, n, "{{")) {
			assert_int_equal(out.len, n);
			assert_memory_equal(out.data, src, n);
		}
		if (i % 2 && !may_write_raw(src, n)) {
			assert_false(has(out.data, out.len, "<one>"));
			assert_false(has(out.data, out.len, "<two>"));
			escaped += has(out.data, out.len, "&lt;");
		}
		tmpl_free(t);
		buf_release(&out);
		buf_release(&again);
	}
	close(saved);
	fclose(errs);
	tv_free(data);
	/* each kind of outcome happens (9 in 10 compile; 1 in 20 .html ones
	 * escapes markup from the data), or the generator tests nothing */
	assert_true(compiled > ROUNDS / 2);
	assert_true(failed > ROUNDS / 20);
	assert_true(escaped > ROUNDS / 50);
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
		cmocka_unit_test(test_templates_compile_or_explain),
		cmocka_unit_test(test_wrap_keeps_every_word),
		cmocka_unit_test(test_quoted_printable_always_decodes),
		cmocka_unit_test(test_csv_never_crashes),
	};

	return cmocka_run_group_tests_name("robust", tests, NULL, NULL);
}
