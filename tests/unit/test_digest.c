/* digest.c: front matter and the checks that protect the editor. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "util.h"

static const char issue_md[] =
	"---\nsubject: \"arXiv 精选：2021 年 3 月\"\npreheader: 九篇论文\n---\n\n导语。\n";

static const char entry_md[] =
	"---\n"
	"title: \"TransGAN: Two Transformers Can Make One Strong GAN\"\n"
	"url: https://arxiv.org/abs/2102.07074\n"
	"authors: [Yifan Jiang, Shiyu Chang, Zhangyang Wang]\n"
	"links:\n  code: https://github.com/VITA-Group/TransGAN\n"
	"tags: [GAN]\n"
	"---\n\n### 为什么值得读\n\n正文。\n";

/* A fresh digest folder holding the given files (name, text pairs). */
static char *make_digest(const char *const *files)
{
	char *dir = strdup("/tmp/bulletin-digest-XXXXXX");

	assert_non_null(mkdtemp(dir));
	for (; files[0]; files += 2) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, files[0]);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(files[1], f);
		fclose(f);
	}
	return dir;
}

static void remove_digest(char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static int load(const char *const *files)
{
	char *dir = make_digest(files);
	struct digest d;
	int rc = digest_load(&d, dir);

	if (!rc)
		digest_release(&d);
	remove_digest(dir);
	return rc;
}

static void test_good_digest(void **state)
{
	const char *files[] = { "issue.md", issue_md, "01-a.md", entry_md,
				"fig.png", "\x89PNG", NULL };
	char *dir = make_digest(files);
	struct digest d;

	(void)state;
	assert_int_equal(digest_load(&d, dir), 0);
	assert_string_equal(d.subject, "arXiv 精选：2021 年 3 月");
	assert_string_equal(d.title, d.subject);
	assert_string_equal(d.preheader, "九篇论文");
	assert_int_equal(d.nentries, 1);
	assert_int_equal(d.entries[0].nauthors, 3);
	assert_string_equal(d.entries[0].authors[2], "Zhangyang Wang");
	assert_int_equal(d.entries[0].nlinks, 1);
	assert_string_equal(d.entries[0].links[0].kind, "code");
	assert_int_equal(d.entries[0].ntags, 1);
	assert_null(d.outro);
	digest_release(&d);
	remove_digest(dir);
}

static void test_entries_in_file_name_order(void **state)
{
	const char *files[] = { "issue.md", issue_md, "10-b.md", entry_md,
				"02-a.md", entry_md, ".hidden.md", "junk", NULL };
	char *dir = make_digest(files);
	struct digest d;

	(void)state;
	assert_int_equal(digest_load(&d, dir), 0);
	assert_int_equal(d.nentries, 2);
	assert_non_null(strstr(d.entries[0].file, "02-a.md"));
	assert_non_null(strstr(d.entries[1].file, "10-b.md"));
	digest_release(&d);
	remove_digest(dir);
}

/* One entry from memory, as the fuzz harness parses it: the same checks
 * as a file, images looked up in d.dir, nothing kept on failure. */
static void test_parse_entry_from_memory(void **state)
{
	const char *files[] = { "fig.png", "\x89PNG", NULL };
	static const char with_image[] =
		"---\ntitle: T\nurl: https://a.org/\n---\n![f](fig.png)\n";
	char *dir = make_digest(files);
	struct digest d;
	struct entry e;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.dir = dir;
	assert_int_equal(digest_parse_entry(&d, &e, "01-a.md", entry_md,
					    strlen(entry_md)), 0);
	assert_string_equal(e.file, "01-a.md");
	assert_string_equal(e.url, "https://arxiv.org/abs/2102.07074");
	assert_int_equal(e.nauthors, 3);
	assert_non_null(e.body);
	digest_entry_release(&e);
	assert_null(e.title);
	assert_int_equal(digest_parse_entry(&d, &e, "02-b.md", with_image,
					    strlen(with_image)), 0);
	assert_int_equal(d.nimages, 1);
	assert_string_equal(d.images[0], "fig.png");
	digest_entry_release(&e);
	/* len counts, not the NUL: cut short, the front matter never closes */
	assert_int_equal(digest_parse_entry(&d, &e, "03-c.md", with_image,
					    strlen("---\ntitle: T\n---\n")), -1);
	assert_null(e.file);
	assert_null(e.title);
	d.dir = NULL;
	digest_release(&d);
	remove_digest(dir);
}

static void test_front_matter_errors(void **state)
{
	static const char *bad_entries[] = {
		"---\nurl: https://arxiv.org/abs/1\n---\nbody\n",		/* no title */
		"---\ntitle: x\n---\nbody\n",					/* no url */
		"---\ntitle: x\nurl: ftp://arxiv.org/abs/1\n---\n",		/* not http */
		"---\ntitle: x\nurl: https://a.org/\ntags: [a\n---\n",	/* YAML */
		"---\ntitle: x\nurl: https://a.org/\ncolour: red\n---\n",	/* unknown */
		"---\ntitle: x\nurl: https://a.org/\nlinks: [a, b]\n---\n",	/* links list */
		"---\ntitle: x\nurl: https://a.org/\nlinks: {code: file.zip}\n---\n",
		"---\ntitle: [a, b]\nurl: https://a.org/\n---\n",		/* title list */
		"---\ntitle: \"a\\nb\"\nurl: https://a.org/\n---\n",		/* line break */
		"---\ntitle: x\nurl: https://a.org/\n",				/* never closed */
		"---\ntitle: x\nurl: https://a.org/\n---\n![x](missing.png)\n",
		"---\ntitle: x\nurl: https://a.org/\n---\n![x](../fig.png)\n",
		"---\ntitle: x\nurl: https://a.org/\n---\n[rel](page.html)\n",
		"---\ntitle: x\nurl: https://a.org/\n---\nbell \a\n",
		"---\ntitle: x\nurl: https://a.org/\n---\nbad \xff utf-8\n",
		"---\n- a\n- b\n---\n",						/* not a map */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad_entries) / sizeof(bad_entries[0]); i++) {
		const char *files[] = { "issue.md", issue_md, "01-a.md", bad_entries[i], NULL };

		if (load(files) != -1)
			fail_msg("entry case %zu was accepted", i);
	}
}

static void test_issue_errors(void **state)
{
	const char *no_subject[] = { "issue.md", "---\ntitle: x\n---\n", "01-a.md", entry_md, NULL };
	const char *no_issue[] = { "01-a.md", entry_md, NULL };
	const char *no_entries[] = { "issue.md", issue_md, NULL };
	const char *outro_front[] = { "issue.md", issue_md, "01-a.md", entry_md,
				      "outro.md", "---\ntitle: x\n---\n", NULL };

	(void)state;
	assert_int_equal(load(no_subject), -1);
	assert_int_equal(load(no_issue), -1);
	assert_int_equal(load(no_entries), -1);
	assert_int_equal(load(outro_front), -1);
}

static void test_url_is_web(void **state)
{
	(void)state;
	assert_true(url_is_web("https://arxiv.org/abs/2102.07074"));
	assert_true(url_is_web("HTTP://example.org"));
	assert_false(url_is_web("https://"));
	assert_false(url_is_web("https:///path"));
	assert_false(url_is_web("javascript:alert(1)"));
	assert_false(url_is_web("https://a.org/x y"));
	assert_false(url_is_web("//a.org/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_digest),
		cmocka_unit_test(test_entries_in_file_name_order),
		cmocka_unit_test(test_parse_entry_from_memory),
		cmocka_unit_test(test_front_matter_errors),
		cmocka_unit_test(test_issue_errors),
		cmocka_unit_test(test_url_is_web),
	};

	return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
