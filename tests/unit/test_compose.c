/* compose.c: the issue owns what it uses; per-recipient slots cannot be forged. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "compose.h"
#include "config.h"
#include "digest.h"
#include "util.h"

static const char config_text[] =
	"[newsletter]\n"
	"name = Best of arXiv\n"
	"from = Best of arXiv <digest@news.example.org>\n"
	"list-id = arxiv.news.example.org\n"
	"base-url = https://news.example.org\n"
	"postal-address = Example Press, 1 Sample Street, Brussels\n"
	"reason = You subscribed at news.example.org.\n"
	"[templates]\n"
	"dir = %s\n";

static const struct recipient ada = {
	"Ada Lovelace", "ada@example.org", "https://news.example.org/u/ada",
	"mailto:unsubscribe@news.example.org?subject=unsubscribe%20ada",
};

/* A scratch folder: a config naming the templates folder templates. */
struct scratch {
	char dir[64];
	struct config c;
};

static void scratch_init(struct scratch *s, const char *templates)
{
	char path[128];
	FILE *f;

	strcpy(s->dir, "/tmp/bulletin-compose-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(path, sizeof(path), "%s/bulletin.conf", s->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, config_text, templates);
	fclose(f);
	config_defaults(&s->c);
	assert_int_equal(config_load(&s->c, path), 0);
}

static void scratch_release(struct scratch *s)
{
	char cmd[128];

	config_release(&s->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	assert_int_equal(system(cmd), 0);
}

/* Runs issue_compose with stderr captured into msg. */
static struct issue *compose_msg(const struct digest *d, const struct config *c,
				 char *msg, size_t size)
{
	int saved;
	FILE *tmp = capture_start(&saved);
	struct issue *is = issue_compose(d, c);
	char *text = capture_end(tmp, saved);

	snprintf(msg, size, "%s", text);
	free(text);
	return is;
}

/*
 * The send loop keeps an issue long after the digest is released: every
 * message built then must come from the issue's own memory (ASan reads
 * freed memory otherwise, as it did for image file names).
 */
static void test_issue_outlives_its_digest(void **state)
{
	struct scratch s;
	struct digest d;
	struct issue *is;
	struct buf eml = BUF_INIT, html = BUF_INIT, text = BUF_INIT;

	(void)state;
	scratch_init(&s, "templates");
	assert_int_equal(digest_load(&d, "digests/2021-03"), 0);
	is = issue_compose(&d, &s.c);
	assert_non_null(is);
	digest_release(&d);
	config_release(&s.c);
	config_defaults(&s.c);

	assert_int_equal(issue_message(is, &ada, "1.x@news.example.org", 0, &eml), 0);
	assert_non_null(strstr(eml.data, "filename=\"fig-transgan-attention.png\""));
	assert_non_null(strstr(eml.data, "ada@example.org"));
	issue_preview(is, &ada, &html, &text);
	assert_non_null(strstr(html.data, "data:image/png;base64,"));
	assert_non_null(strstr(text.data, "TransGAN"));
	issue_free(is);
	buf_release(&eml);
	buf_release(&html);
	buf_release(&text);
	scratch_release(&s);
}

/* A template whose own text holds a slot marker would let content decide
 * where a recipient's address goes: it is refused. */
static void test_forged_slot_refused(void **state)
{
	struct scratch s;
	struct digest d;
	char templates[128], cmd[300], msg[1024];
	FILE *f;

	(void)state;
	strcpy(templates, "/tmp/bulletin-templates-XXXXXX");
	assert_non_null(mkdtemp(templates));
	snprintf(cmd, sizeof(cmd), "cp templates/* '%s'/", templates);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/digest.txt.mustache", templates);
	f = fopen(cmd, "a");
	assert_non_null(f);
	fputs("mail \x1e" "A\x1e here\n", f);
	fclose(f);
	scratch_init(&s, templates);
	assert_int_equal(digest_load(&d, "digests/2021-03"), 0);
	assert_null(compose_msg(&d, &s.c, msg, sizeof(msg)));
	if (!strstr(msg, "digest.txt.mustache: the rendered body holds byte 0x1e, "
		    "which marks per-recipient values"))
		fail_msg("got '%s'", msg);
	digest_release(&d);
	scratch_release(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", templates);
	assert_int_equal(system(cmd), 0);
}

/* Dropped raw HTML is reported where it is; allowed, nothing is said. */
static void test_raw_html_warned(void **state)
{
	struct scratch s;
	struct digest d;
	struct issue *is;
	char dir[64], cmd[200], msg[1024];
	FILE *f;

	(void)state;
	strcpy(dir, "/tmp/bulletin-raw-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cp -r digests/2021-03 '%s/2021-03'", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/2021-03/outro.md", dir);
	f = fopen(cmd, "w");
	assert_non_null(f);
	fputs("Thanks.\n\n<script>alert(1)</script>\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s/2021-03", dir);
	scratch_init(&s, "templates");
	assert_int_equal(digest_load(&d, cmd), 0);
	is = compose_msg(&d, &s.c, msg, sizeof(msg));
	assert_non_null(is);
	issue_free(is);
	snprintf(cmd, sizeof(cmd), "warning: %s/2021-03/outro.md:3: raw HTML dropped", dir);
	if (!strstr(msg, cmd))
		fail_msg("expected '%s' in '%s'", cmd, msg);
	s.c.allow_raw_html = 1;
	is = compose_msg(&d, &s.c, msg, sizeof(msg));
	assert_non_null(is);
	assert_string_equal(msg, "");
	issue_free(is);
	digest_release(&d);
	scratch_release(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_outlives_its_digest),
		cmocka_unit_test(test_forged_slot_refused),
		cmocka_unit_test(test_raw_html_warned),
	};

	return cmocka_run_group_tests_name("compose", tests, NULL, NULL);
}
