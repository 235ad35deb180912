/* mime.c: RFC 2047 words, quoted-printable bodies, header injection. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libetpan/libetpan.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "mime.h"
#include "utf8.h"

/* Decodes header text with libetpan's own RFC 2047 decoder. */
static char *decode_words(const char *s)
{
	size_t index = 0;
	char *out = NULL;

	assert_int_equal(mailmime_encoded_phrase_parse("us-ascii", s, strlen(s),
						       &index, "utf-8", &out),
			 MAILIMF_NO_ERROR);
	return out;
}

static void check_words(const char *s)
{
	struct buf b = BUF_INIT;
	char *decoded;
	const char *p;

	mime_header_text(&b, s);
	for (p = b.data; *p; p++)
		assert_true((unsigned char)*p < 0x7f && *p >= 0x20);
	/* every word at most 75 characters and valid UTF-8 on its own */
	for (p = b.data; *p;) {
		size_t n = strcspn(p, " ");

		assert_true(n <= 75);
		if (!strncmp(p, "=?utf-8?B?", 10)) {
			char *word = strndup(p, n), *one = decode_words(word);

			assert_true(utf8_valid(one, strlen(one)));
			free(word);
			free(one);
		}
		p += n + (p[n] == ' ');
	}
	decoded = decode_words(b.data);
	assert_string_equal(decoded, s);
	free(decoded);
	buf_release(&b);
}

static void test_ascii_unchanged(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	mime_header_text(&b, "Best of arXiv: March 2021");
	assert_string_equal(b.data, "Best of arXiv: March 2021");
	buf_release(&b);
}

static void test_encoded_ascii_lookalike_is_encoded(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	mime_header_text(&b, "=?utf-8?B?SGk=?= is not a word here");
	assert_true(!strncmp(b.data, "=?utf-8?B?", 10));
	buf_release(&b);
	check_words("=?utf-8?B?SGk=?= is not a word here");
}

static void test_round_trip_chinese(void **state)
{
	(void)state;
	check_words("arXiv 精选：2021 年 3 月");
	check_words("林晓");
	check_words("Ünïcödé Ålphabet");
}

static void test_round_trip_every_length(void **state)
{
	/* 1 to 3 byte and 4 byte characters: no length may split one */
	static const char *pieces[] = { "a", "é", "中", "😀" };
	struct buf s = BUF_INIT;

	(void)state;
	for (int i = 0; i < 160; i++) {
		buf_adds(&s, pieces[i % 4]);
		check_words(s.data);
	}
	buf_release(&s);
}

static void test_base64_vectors(void **state)
{
	static const char *cases[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		base64_encode(&b, (const unsigned char *)cases[i][0], strlen(cases[i][0]));
		assert_string_equal(b.data, cases[i][1]);
		buf_release(&b);
	}
}

/* RFC 2045 §6.7 decoding, written out here so the test does not trust
 * libetpan's decoder. */
static size_t qp_decode(const char *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] != '=') {
			out[o++] = in[i];
		} else if (i + 2 < len && in[i + 1] == '\r' && in[i + 2] == '\n') {
			i += 2;
		} else {
			unsigned v;

			assert_true(i + 2 < len);
			assert_int_equal(sscanf(in + i + 1, "%2X", &v), 1);
			out[o++] = (char)v;
			i += 2;
		}
	}
	return o;
}

static struct mime_headers headers(void)
{
	struct mime_headers h = { 0 };

	h.from_name = "Best of arXiv";
	h.from_addr = "digest@news.example.org";
	h.to_name = "林晓";
	h.to_addr = "reader@example.org";
	h.subject = "arXiv 精选：2021 年 3 月";
	h.message_id = "1.abc@news.example.org";
	h.date = 1617192000;
	h.list_name = "Best of arXiv";
	h.list_id = "arxiv.news.example.org";
	h.unsubscribe_url = "https://news.example.org/u/x";
	return h;
}

static void check_qp_lines(const struct buf *qp)
{
	for (const char *p = qp->data; p < qp->data + qp->len;) {
		size_t n = strcspn(p, "\r");

		assert_true(n <= 76);
		assert_true(p[n] == '\0' || (p[n] == '\r' && p[n + 1] == '\n'));
		/* no white space before a hard line end */
		if (n && p[n] == '\r')
			assert_true(p[n - 1] != ' ' && p[n - 1] != '\t');
		for (size_t i = 0; i < n; i++)
			assert_true((unsigned char)p[i] < 0x7f);
		p += n + (p[n] ? 2 : 0);
	}
}

static void check_round_trip(const char *s, size_t len)
{
	struct buf qp = BUF_INIT;
	char *decoded = malloc(len + 1);

	mime_qp_encode(&qp, s, len, 0);
	check_qp_lines(&qp);
	assert_int_equal(qp_decode(qp.data, qp.len, decoded), len);
	assert_memory_equal(decoded, s, len);
	free(decoded);
	buf_release(&qp);
}

static void test_quoted_printable(void **state)
{
	struct buf text = BUF_INIT;

	(void)state;
	for (int i = 0; i < 300; i++)
		buf_adds(&text, "中文");
	buf_adds(&text, "\r\ntrailing spaces   \r\n.\r\nFrom the start\r\n");
	buf_addchars(&text, 'x', 2000);
	buf_adds(&text, "\r\ntab\t\r\n=equals=\r\nlone\rcr and\nlf\r\nend space ");
	check_round_trip(text.data, text.len);
	/* every length of a line of '=' crosses the 76-octet limit somewhere */
	for (size_t n = 70; n < 80; n++) {
		buf_reset(&text);
		buf_addchars(&text, '=', n);
		check_round_trip(text.data, text.len);
	}
	buf_release(&text);
}

/* Pieces encoded apart with soft ends decode, joined, to the joined text. */
static void test_quoted_printable_pieces(void **state)
{
	static const char *pieces[] = { "Dear ", "林晓", ",\r\nthe end is near ",
					"x@example.org", " \r\n" };
	struct buf qp = BUF_INIT, joined = BUF_INIT;
	char decoded[256];

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		mime_qp_encode(&qp, pieces[i], strlen(pieces[i]), i < 4);
		buf_adds(&joined, pieces[i]);
	}
	check_qp_lines(&qp);
	assert_int_equal(qp_decode(qp.data, qp.len, decoded), joined.len);
	assert_memory_equal(decoded, joined.data, joined.len);
	buf_release(&qp);
	buf_release(&joined);
}

static void test_base64_lines(void **state)
{
	unsigned char data[200];
	struct buf b = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	mime_base64_lines(&b, data, sizeof(data));
	assert_int_equal(b.len, 3 * (76 + 2) + 40 + 2);	/* 200 = 3 * 57 + 29 */
	assert_memory_equal(b.data + 76, "\r\n", 2);
	buf_release(&b);
}

static void test_message_is_7bit_crlf(void **state)
{
	struct mime_headers h = headers();
	struct buf text = BUF_INIT, html = BUF_INIT, msg = BUF_INIT;
	struct mime_body body;

	(void)state;
	mime_qp_encode(&text, "中文 text\r\n", 12, 0);
	mime_qp_encode(&html, "<p>中文</p>\r\n", 15, 0);
	body = (struct mime_body){ text.data, text.len, html.data, html.len, NULL, 0 };
	assert_int_equal(mime_message(&msg, &h, &body), 0);
	for (const char *p = msg.data; *p;) {
		size_t n = strcspn(p, "\r");

		assert_true(n <= 78);
		assert_true(p[n] == '\r' && p[n + 1] == '\n');
		p += n + 2;
	}
	for (size_t i = 0; i < msg.len; i++)
		assert_true((unsigned char)msg.data[i] < 0x80);
	assert_non_null(strstr(msg.data, text.data));
	buf_release(&text);
	buf_release(&html);
	buf_release(&msg);
}

static void test_header_injection_refused(void **state)
{
	struct mime_headers h = headers();
	struct mime_body body = { "x\r\n", 3, "<p>x</p>\r\n", 10, NULL, 0 };
	struct buf msg = BUF_INIT;

	(void)state;
	h.to_name = "Eve\r\nBcc: victim@example.org";
	assert_int_equal(mime_message(&msg, &h, &body), -1);
	h = headers();
	h.subject = "Hello\nBcc: victim@example.org";
	assert_int_equal(mime_message(&msg, &h, &body), -1);
	assert_int_equal(msg.len, 0);
	buf_release(&msg);
}

static void test_headers_present(void **state)
{
	struct mime_headers h = headers();
	struct mime_body body = { "x\r\n", 3, "<p>x</p>\r\n", 10, NULL, 0 };
	struct buf msg = BUF_INIT;

	(void)state;
	assert_int_equal(mime_message(&msg, &h, &body), 0);
	assert_non_null(strstr(msg.data, "\r\nMessage-ID: <1.abc@news.example.org>\r\n"));
	assert_non_null(strstr(msg.data, "\r\nList-Id: Best of arXiv <arxiv.news.example.org>\r\n"));
	assert_non_null(strstr(msg.data, "\r\nList-Unsubscribe: <https://news.example.org/u/x>\r\n"));
	assert_non_null(strstr(msg.data, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
	assert_non_null(strstr(msg.data, "To: =?utf-8?B?5p6X5pmT?= <reader@example.org>\r\n"));
	assert_non_null(strstr(msg.data, "boundary=\"=_"));
	assert_null(strstr(msg.data, "multipart/related"));
	buf_release(&msg);
}

/* The first word of a long value stays on the header's line: a fold
 * straight after "Subject:" decodes with a leading space. */
static void test_long_headers_fold_after_first_word(void **state)
{
	struct mime_headers h = headers();
	struct mime_body body = { "x\r\n", 3, "<p>x</p>\r\n", 10, NULL, 0 };
	struct buf msg = BUF_INIT, subject = BUF_INIT;
	const char *p;

	(void)state;
	for (int i = 0; i < 40; i++)
		buf_adds(&subject, "中文");
	h.subject = subject.data;
	h.to_name = subject.data;
	assert_int_equal(mime_message(&msg, &h, &body), 0);
	assert_non_null(strstr(msg.data, "\r\nSubject: =?utf-8?B?"));
	assert_non_null(strstr(msg.data, "\r\nTo: =?utf-8?B?"));
	p = strstr(msg.data, "\r\nSubject: ") + 2;
	assert_true(strcspn(p, "\r") <= 78);
	assert_non_null(strstr(p, "?=\r\n =?utf-8?B?"));
	buf_release(&subject);
	buf_release(&msg);
}

/* The value of header name in msg, unfolded (CRLF taken out). */
static char *header_value(const char *msg, const char *name)
{
	struct buf want = BUF_INIT, v = BUF_INIT;
	const char *p;

	buf_addf(&want, "\r\n%s: ", name);
	p = strstr(msg, want.data);
	assert_non_null(p);
	for (p += want.len; !(p[0] == '\r' && p[1] == '\n' && p[2] != ' '); p++)
		if (*p != '\r' && *p != '\n')
			buf_addch(&v, *p);
	buf_release(&want);
	return buf_detach(&v, NULL);
}

/* Random subjects and names of every shape: lines within 78, the first
 * word on the header's line, and the Subject decodes back exactly. */
static void test_random_headers_fold_and_decode(void **state)
{
	static const char *pieces[] = { "a", "word", " ", "é", "中", "😀", "\"",
		",", "=?", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" };
	struct mime_body body = { "x\r\n", 3, "<p>x</p>\r\n", 10, NULL, 0 };

	(void)state;
	srand(2047);
	for (int round = 0; round < 1500; round++) {
		struct mime_headers h = headers();
		struct buf subject = BUF_INIT, name = BUF_INIT, msg = BUF_INIT;
		int n = 1 + rand() % 60;
		char *value, *decoded;

		for (int i = 0; i < n; i++) {
			buf_adds(&subject, pieces[rand() % 10]);
			if (name.len < 200)
				buf_adds(&name, pieces[rand() % 10]);
		}
		h.subject = subject.data;
		h.to_name = name.data;
		h.from_name = name.data;
		assert_int_equal(mime_message(&msg, &h, &body), 0);
		for (const char *p = msg.data; p < strstr(msg.data, "\r\n\r\n");) {
			size_t len = strcspn(p, "\r");

			assert_true(len <= 78);
			assert_true(len > strlen("Subject: ") || strncmp(p, "Subject:", 8));
			p += len + 2;
		}
		value = header_value(msg.data, "Subject");
		if (!strncmp(value, "=?utf-8?B?", 10))	/* encoded, all of it */
			decoded = decode_words(value);
		else
			decoded = strdup(value);
		assert_string_equal(decoded, subject.data);
		free(value);
		free(decoded);
		buf_release(&subject);
		buf_release(&name);
		buf_release(&msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_unchanged),
		cmocka_unit_test(test_encoded_ascii_lookalike_is_encoded),
		cmocka_unit_test(test_round_trip_chinese),
		cmocka_unit_test(test_round_trip_every_length),
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_quoted_printable),
		cmocka_unit_test(test_quoted_printable_pieces),
		cmocka_unit_test(test_base64_lines),
		cmocka_unit_test(test_message_is_7bit_crlf),
		cmocka_unit_test(test_header_injection_refused),
		cmocka_unit_test(test_headers_present),
		cmocka_unit_test(test_long_headers_fold_after_first_word),
		cmocka_unit_test(test_random_headers_fold_and_decode),
	};

	return cmocka_run_group_tests_name("mime", tests, NULL, NULL);
}
