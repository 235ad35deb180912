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

#include "capture.h"
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

/* Runs fn with stderr captured; returns what it wrote (caller frees). */
static char *capture_stderr(int (*fn)(void *), void *arg, int *rc)
{
	int saved;
	FILE *tmp = capture_start(&saved);

	*rc = fn(arg);
	return capture_end(tmp, saved);
}

static int load_dir(void *dir)
{
	struct digest d;
	int rc = digest_load(&d, dir);

	if (!rc)
		digest_release(&d);
	return rc;
}

/* Loads a folder of files; returns its status and stderr (caller frees). */
static char *load_msg(const char *const *files, int *rc)
{
	char *dir = make_digest(files);
	char *msg = capture_stderr(load_dir, dir, rc);

	remove_digest(dir);
	return msg;
}

/* The folder is refused and stderr names the problem as want says. */
static void assert_refused(const char *const *files, const char *want)
{
	int rc;
	char *msg = load_msg(files, &rc);

	if (rc != -1 || !strstr(msg, want))
		fail_msg("rc %d, expected '%s' in '%s'", rc, want, msg);
	free(msg);
}

/* An entry 01-a.md, with issue.md, is refused with message want. */
static void assert_entry_refused(const char *entry, const char *want)
{
	const char *files[] = { "issue.md", issue_md, "01-a.md", entry, NULL };

	assert_refused(files, want);
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
	static const char *const cases[][2] = {
		{ "---\nurl: https://arxiv.org/abs/1\n---\nbody\n",
		  "01-a.md:1: missing required 'title'" },
		{ "---\ntitle: x\n---\nbody\n", "01-a.md:1: missing required 'url'" },
		{ "---\ntitle: x\nurl: ftp://arxiv.org/abs/1\n---\n",
		  "01-a.md:3: 'url' is not an http(s) URL: 'ftp://arxiv.org/abs/1'" },
		{ "---\ntitle: x\nurl: https://a.org/\ntags: [a\n---\n",
		  "01-a.md:4: front matter is not valid YAML" },
		{ "---\ntitle: x\nurl: https://a.org/\ncolour: red\n---\n",
		  "01-a.md:4: unknown key 'colour'" },
		{ "---\ntitle: x\nurl: https://a.org/\nlinks: [a, b]\n---\n",
		  "01-a.md:4: 'links' must be a map such as 'code: URL'" },
		{ "---\ntitle: x\nurl: https://a.org/\nlinks: {code: file.zip}\n---\n",
		  "01-a.md:4: link 'code' is not an http(s) URL: 'file.zip'" },
		{ "---\ntitle: [a, b]\nurl: https://a.org/\n---\n",
		  "01-a.md:2: 'title' must be a single value" },
		{ "---\ntitle: \"a\\nb\"\nurl: https://a.org/\n---\n",
		  "01-a.md:2: 'title' must be one line" },
		{ "---\ntitle: x\nurl: https://a.org/\n",
		  "01-a.md:1: front matter opened with '---' is never closed" },
		{ "---\ntitle: x\nurl: https://a.org/\n---\n![x](missing.png)\n",
		  "01-a.md:5: image 'missing.png' does not exist" },
		{ "---\ntitle: x\nurl: https://a.org/\n---\n![x](../fig.png)\n",
		  "01-a.md:5: image '../fig.png' must be a file in the digest folder" },
		{ "---\ntitle: x\nurl: https://a.org/\n---\n[rel](page.html)\n",
		  "01-a.md:5: link 'page.html' must be an absolute http(s) or mailto URL" },
		{ "---\ntitle: x\nurl: https://a.org/\n---\nbell \a\n",
		  "01-a.md:5: control character U+0007" },
		{ "---\ntitle: x\nurl: https://a.org/\n---\nbad \xff utf-8\n",
		  "01-a.md:5: not valid UTF-8" },
		{ "---\n- a\n- b\n---\n",
		  "01-a.md:2: front matter must be 'key: value' lines" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_entry_refused(cases[i][0], cases[i][1]);
}

static void test_issue_errors(void **state)
{
	const char *no_subject[] = { "issue.md", "---\ntitle: x\n---\n", "01-a.md", entry_md, NULL };
	const char *no_issue[] = { "01-a.md", entry_md, NULL };
	const char *no_entries[] = { "issue.md", issue_md, NULL };
	const char *outro_front[] = { "issue.md", issue_md, "01-a.md", entry_md,
				      "outro.md", "---\ntitle: x\n---\n", NULL };

	(void)state;
	assert_refused(no_subject, "issue.md:1: missing required 'subject'");
	assert_refused(no_issue, "issue.md': No such file or directory");
	assert_refused(no_entries, "has no entries (*.md files besides issue.md)");
	assert_refused(outro_front, "outro.md: outro.md takes no front matter");
}

/* Each key once: a second 'links' used to write past the links array. */
static void test_repeated_keys(void **state)
{
	const char *issue[] = { "issue.md", "---\nsubject: a\nsubject: b\n---\n",
				"01-a.md", entry_md, NULL };

	(void)state;
	assert_entry_refused("---\ntitle: x\nurl: https://a.org/\n"
			     "links:\n  code: https://a.org/c\n  demo: https://a.org/d\n"
			     "links:\n  code: https://a.org/c\n---\n",
			     "01-a.md:7: repeated key 'links' (first on line 4)");
	assert_entry_refused("---\ntitle: x\nurl: https://a.org/\n"
			     "authors: [a, b]\nauthors: [c]\n---\n",
			     "01-a.md:5: repeated key 'authors' (first on line 4)");
	assert_entry_refused("---\ntitle: x\nurl: https://a.org/\n"
			     "tags: a\ntags: [b]\n---\n",
			     "01-a.md:5: repeated key 'tags' (first on line 4)");
	assert_entry_refused("---\ntitle: x\nurl: https://a.org/\ntitle: y\n---\n",
			     "01-a.md:4: repeated key 'title' (first on line 2)");
	assert_entry_refused("---\ntitle: x\nurl: https://a.org/\n"
			     "links: {code: https://a.org/1, code: https://a.org/2}\n---\n",
			     "01-a.md:4: repeated key 'code' (first on line 4)");
	assert_refused(issue, "issue.md:3: repeated key 'subject' (first on line 2)");
}

/* A string of n copies of unit followed by tail (caller frees). */
static char *repeat(const char *head, const char *unit, size_t n,
		    const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + n * ul + tl + 1);

	assert_non_null(s);
	memcpy(s, head, hl);
	for (size_t i = 0; i < n; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + n * ul, tail, tl + 1);
	return s;
}

static void test_nesting_is_bounded(void **state)
{
	const char *head = "---\ntitle: x\nurl: https://a.org/\n---\n";
	char *quotes = repeat(head, "> ", 100000, "x\n");
	char *lists = repeat(head, "- ", 20000, "x\n");
	char *yaml = repeat("---\ntitle: x\nurl: https://a.org/\ntags: ", "[", 100000, "\n---\n");

	(void)state;
	assert_entry_refused(quotes, "01-a.md:5: Markdown nested deeper than 32 levels");
	assert_entry_refused(lists, "01-a.md:5: Markdown nested deeper than 32 levels");
	assert_entry_refused(yaml, "01-a.md:4: front matter nested deeper than 8 levels");
	free(quotes);
	free(lists);
	free(yaml);
}

/* An alias copies its value each time it is used: refused outright, as
 * are more links than an entry can show. */
static void test_yaml_amplification_refused(void **state)
{
	char *aliases = repeat("---\ntitle: x\nurl: https://a.org/\ntags: [&a big, ",
			       "*a, ", 1000, "x]\n---\n");
	char links[4096];
	int n = sprintf(links, "---\ntitle: x\nurl: https://a.org/\nlinks:\n");

	(void)state;
	assert_entry_refused(aliases, "01-a.md:4: front matter may not use aliases ('*name')");
	for (int i = 0; i < 65; i++)
		n += sprintf(links + n, "  k%d: https://a.org/%d\n", i, i);
	strcpy(links + n, "---\n");
	assert_entry_refused(links, "01-a.md:5: more than 64 links");
	free(aliases);
}

static void test_file_size_is_bounded(void **state)
{
	char *big = repeat("---\ntitle: x\nurl: https://a.org/\n---\n", "word ",
			   220000, "\n");

	(void)state;
	assert_entry_refused(big, "01-a.md' is larger than 262144 bytes");
	free(big);
}

/* After YAML escapes and HTML entities are decoded: no control character
 * reaches a header or the reader's terminal. */
static void test_control_characters_refused(void **state)
{
	const char *nul_subject[] = { "issue.md", "---\nsubject: \"a\\0b\"\n---\n",
				      "01-a.md", entry_md, NULL };
	static const char *const cases[][2] = {
		{ "---\ntitle: \"\\e]0;owned\\a\"\nurl: https://a.org/\n---\n",
		  "01-a.md:2: 'title' holds control character U+001B" },
		{ "---\ntitle: \"\\x9b2J\"\nurl: https://a.org/\n---\n",
		  "01-a.md:2: 'title' holds control character U+009B" },
		{ "---\ntitle: x\nurl: https://a.org/\nauthors: [\"a\\tb\"]\n---\n",
		  "01-a.md:4: 'authors' holds control character U+0009" },
		{ "---\ntitle: x\nurl: https://a.org/\n---\n\ntext &#x1b;[2J\n",
		  "01-a.md:6: control character U+001B in the text" },
		{ "---\ntitle: x\nurl: https://a.org/\n---\n\n`&#27;` and \xc2\x9b\n",
		  "01-a.md:6: control character U+009B" },
		{ "---\ntitle: x\nurl: https://a.org/\n---\n\n    code \x1b[2J\n",
		  "01-a.md:6: control character U+001B" },
		{ "---\ntitle: x\nurl: https://a.org/\n---\n\nslot &#x1e;A&#x1e;\n",
		  "01-a.md:6: control character U+001E in the text" },
		{ "---\ntitle: x\nurl: https://a.org/\n---\n\n[a](mailto:x&#x1b;@a.org)\n",
		  "01-a.md:6: control character U+001B in a URL" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_entry_refused(cases[i][0], cases[i][1]);
	assert_refused(nul_subject, "issue.md:2: 'subject' holds control character U+0000");
}

/* A NUL byte in the file itself is refused too, with its line. */
static void test_nul_byte_refused(void **state)
{
	static const char entry[] = "---\ntitle: x\nurl: https://a.org/\n---\n\nnul \0 byte\n";
	const char *files[] = { "issue.md", issue_md, NULL };
	char *dir = make_digest(files), path[600];
	FILE *f;
	int rc;
	char *msg;

	(void)state;
	snprintf(path, sizeof(path), "%s/01-a.md", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(entry, 1, sizeof(entry) - 1, f), sizeof(entry) - 1);
	fclose(f);
	msg = capture_stderr(load_dir, dir, &rc);
	assert_int_equal(rc, -1);
	if (!strstr(msg, "01-a.md:6: control character U+0000"))
		fail_msg("got '%s'", msg);
	free(msg);
	remove_digest(dir);
}

/* Text with tabs and a NUL entity (cmark makes it U+FFFD) is fine. */
static void test_tabs_and_entities_pass(void **state)
{
	const char *files[] = { "issue.md", issue_md, "01-a.md",
		"---\ntitle: x\nurl: https://a.org/\n---\n\na\tb &#0; &amp;\n", NULL };
	int rc;
	char *msg = load_msg(files, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_string_equal(msg, "");
	free(msg);
}

/* A symlink inside the folder must not bring in a file from outside. */
static void test_symlinks_out_are_refused(void **state)
{
	const char *image[] = { "issue.md", issue_md, "01-a.md",
		"---\ntitle: x\nurl: https://a.org/\n---\n![x](fig.png)\n", NULL };
	const char *entry[] = { "issue.md", issue_md, NULL };
	char *dir = make_digest(image), link[600];
	int rc;
	char *msg;

	(void)state;
	snprintf(link, sizeof(link), "%s/fig.png", dir);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	msg = capture_stderr(load_dir, dir, &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(msg, "01-a.md:5: image 'fig.png' leads outside the digest folder"));
	free(msg);
	remove_digest(dir);

	dir = make_digest(entry);
	snprintf(link, sizeof(link), "%s/01-a.md", dir);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	msg = capture_stderr(load_dir, dir, &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(msg, "01-a.md' leads outside"));
	free(msg);
	remove_digest(dir);
}

/* A symlink that stays inside is only another name. */
static void test_symlink_inside_is_fine(void **state)
{
	const char *files[] = { "issue.md", issue_md, "01-a.md",
		"---\ntitle: x\nurl: https://a.org/\n---\n![x](fig.png)\n",
		"real.png", "\x89PNG", NULL };
	char *dir = make_digest(files), link[600];
	int rc;
	char *msg;

	(void)state;
	snprintf(link, sizeof(link), "%s/fig.png", dir);
	assert_int_equal(symlink("real.png", link), 0);
	msg = capture_stderr(load_dir, dir, &rc);
	assert_int_equal(rc, 0);
	free(msg);
	remove_digest(dir);
}

/* Raw HTML is remembered by FILE:LINE, once per line, for the warning. */
static void test_raw_html_is_located(void **state)
{
	const char *files[] = { "issue.md", issue_md, "01-a.md",
		"---\ntitle: x\nurl: https://a.org/\n---\n\n<b>bold</b> text\n\n"
		"<div>\nblock\n</div>\n", NULL };
	char *dir = make_digest(files), want[600];
	struct digest d;

	(void)state;
	assert_int_equal(digest_load(&d, dir), 0);
	assert_int_equal(d.nraw_html, 2);
	snprintf(want, sizeof(want), "%s/01-a.md:6", dir);
	assert_string_equal(d.raw_html[0], want);
	snprintf(want, sizeof(want), "%s/01-a.md:8", dir);
	assert_string_equal(d.raw_html[1], want);
	digest_release(&d);
	remove_digest(dir);
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
		cmocka_unit_test(test_repeated_keys),
		cmocka_unit_test(test_nesting_is_bounded),
		cmocka_unit_test(test_yaml_amplification_refused),
		cmocka_unit_test(test_file_size_is_bounded),
		cmocka_unit_test(test_control_characters_refused),
		cmocka_unit_test(test_nul_byte_refused),
		cmocka_unit_test(test_tabs_and_entities_pass),
		cmocka_unit_test(test_symlinks_out_are_refused),
		cmocka_unit_test(test_symlink_inside_is_fine),
		cmocka_unit_test(test_raw_html_is_located),
		cmocka_unit_test(test_url_is_web),
	};

	return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
