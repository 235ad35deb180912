/*
 * Mustache templates: what a template renders to, given data, and which
 * templates are refused. Partials come from a temporary folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "capture.h"
#include "buf.h"
#include "template.h"

/* ---- helpers ------------------------------------------------------------ */

static char *render_t(const struct tmpl *t, const struct tv *data)
{
	struct buf out = BUF_INIT;

	assert_non_null(t);
	assert_int_equal(tmpl_render(t, data, SIZE_MAX, &out), 0);
	return buf_detach(&out, NULL);
}

/* Compiles src under name, renders it with data and compares; frees data. */
static void check(const char *name, const char *src, struct tv *data,
		  const char *want)
{
	struct tmpl *t = tmpl_compile(NULL, name, src, strlen(src));
	char *got = render_t(t, data);

	assert_string_equal(got, want);
	free(got);
	tmpl_free(t);
	tv_free(data);
}

static void refuse(const char *name, const char *src)
{
	assert_null(tmpl_compile(NULL, name, src, strlen(src)));
}

/* Runs compile and returns what it wrote to stderr, for message checks. */
static char *stderr_of_compile(const char *name, const char *src)
{
	int saved;
	FILE *tmp = capture_start(&saved);

	assert_null(tmpl_compile(NULL, name, src, strlen(src)));
	return capture_end(tmp, saved);
}

static void assert_message(const char *name, const char *src, const char *want)
{
	char *msg = stderr_of_compile(name, src);

	if (!strstr(msg, want))
		fail_msg("expected '%s' in '%s'", want, msg);
	free(msg);
}

static struct tv *map1(const char *key, const char *value)
{
	struct tv *m = tv_map();

	tv_set_str(m, key, value);
	return m;
}

/* ---- the partials folder ------------------------------------------------ */

static const char *const files[][2] = {
	{ "header.html.mustache", "<h1>{{title}}</h1>\n" },
	{ "item.html.mustache", "<li>{{.}}</li>" },
	{ "page.html.mustache",
	  "{{> header}}<ul>{{#items}}{{> item}}{{/items}}</ul>\n" },
	{ "header.txt.mustache", "== {{title}} ==\n" },
	{ "outer.txt.mustache", "[{{> inner}}]" },
	{ "inner.txt.mustache", "in({{> sub/leaf}})" },
	{ "sub/leaf.txt.mustache", "leaf {{x}}" },
	{ "list.txt.mustache", "{{#items}}\n- {{.}}\n{{/items}}\n" },
	{ "block.txt.mustache", "|\n{{{content}}}\n|\n" },
	{ "framed.txt.mustache", "top\n  {{> list}}\n" },
	{ "self.txt.mustache", "x{{> self}}" },
	{ "ping.txt.mustache", "{{#q}}{{> pong}}{{/q}}" },
	{ "pong.txt.mustache", "{{> ping}}" },
	{ "broken.txt.mustache", "line one\n{{#open}}\n" },
	/* names with dots that are no ".." segment; every partial-name class */
	{ "dots..txt.mustache", "dots" },
	{ "sub/..leaf.txt.mustache", "hidden" },
	{ "azAZ09_-.txt.mustache", "chars" },
};

#define NFILES (sizeof(files) / sizeof(files[0]))

static void write_text(const char *folder, const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", folder, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The folder's name is the group state, which each test receives. */
static int setup_folder(void **state)
{
	char *folder = strdup("/tmp/test_template.XXXXXX");
	char sub[256];

	if (!folder || !mkdtemp(folder))
		return -1;
	*state = folder;
	snprintf(sub, sizeof(sub), "%s/sub", folder);
	if (mkdir(sub, 0700))
		return -1;
	for (size_t i = 0; i < NFILES; i++)
		write_text(folder, files[i][0], files[i][1]);
	return 0;
}

static int teardown_folder(void **state)
{
	char *folder = *state;
	char path[256];

	for (size_t i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", folder, files[i][0]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/sub", folder);
	rmdir(path);
	rmdir(folder);
	free(folder);
	return 0;
}

/* Loads name from the folder, renders it with data and compares. */
static void check_file(const char *folder, const char *name, struct tv *data,
		       const char *want)
{
	struct tmpl_dir *d = tmpl_dir_new(folder);
	char *got = render_t(tmpl_dir_load(d, name), data);

	assert_string_equal(got, want);
	free(got);
	tmpl_dir_free(d);
	tv_free(data);
}

static void check_compiled(const char *folder, const char *name,
			   const char *src, struct tv *data, const char *want)
{
	struct tmpl_dir *d = tmpl_dir_new(folder);
	struct tmpl *t = tmpl_compile(d, name, src, strlen(src));
	char *got = render_t(t, data);

	assert_string_equal(got, want);
	free(got);
	tmpl_free(t);
	tmpl_dir_free(d);
	tv_free(data);
}

static void refuse_with_folder(const char *folder, const char *name,
			       const char *src)
{
	struct tmpl_dir *d = tmpl_dir_new(folder);

	assert_null(tmpl_compile(d, name, src, strlen(src)));
	tmpl_dir_free(d);
}

/* ---- variables ---------------------------------------------------------- */

static void test_escape_html_not_txt(void **state)
{
	const char *v = "a & b < c > d \"e\" 'f'";

	(void)state;
	check("x.html.mustache", "[{{v}}]", map1("v", v),
	      "[a &amp; b &lt; c &gt; d &quot;e&quot; &#39;f&#39;]");
	check("x.txt.mustache", "[{{v}}]", map1("v", v),
	      "[a & b < c > d \"e\" 'f']");
}

static void test_triple_and_ampersand_are_raw(void **state)
{
	(void)state;
	check("x.html.mustache", "{{{v}}}|{{& v}}|{{ v }}", map1("v", "<b>"),
	      "<b>|<b>|&lt;b&gt;");
}

static void test_missing_and_non_strings(void **state)
{
	struct tv *m = tv_map();

	(void)state;
	tv_set(m, "yes", tv_bool(1));
	tv_set(m, "list", tv_list());
	tv_set_str(m, "null", NULL);
	check("x.txt", "[{{nope}}|{{yes}}|{{list}}|{{null}}]", m, "[|true||]");
	check("x.txt", "[{{a}}]", NULL, "[]");
}

static void test_dotted_names(void **state)
{
	struct tv *m = tv_map();
	struct tv *a = tv_set(m, "a", tv_map());

	(void)state;
	tv_set(tv_set(a, "b", tv_map()), "c", tv_str("deep"));
	check("x.txt", "{{a.b.c}}|{{a.x.c}}|{{a.b}}|{{#a.b}}{{c}}{{/a.b}}", m,
	      "deep|||deep");
}

static void test_context_stack_lookup(void **state)
{
	struct tv *m = tv_map(), *inner;

	(void)state;
	tv_set_str(m, "outer", "O");
	tv_set_str(m, "name", "outside");
	inner = tv_set(m, "inner", tv_map());
	tv_set_str(inner, "name", "inside");
	tv_set(inner, "b", tv_map());
	tv_set(tv_set(m, "b", tv_map()), "c", tv_str("ERROR"));
	/* innermost first; a dotted name does not fall back once its first
	 * segment is found */
	check("x.txt",
	      "{{#inner}}{{name}} {{outer}} [{{b.c}}]{{/inner}} {{name}}",
	      m, "inside O [] outside");
}

static void test_implicit_iterator(void **state)
{
	struct tv *m = tv_map(), *l = tv_set(m, "l", tv_list());

	(void)state;
	tv_push(l, tv_str("a<"));
	tv_push(l, tv_str("b"));
	check("x.html", "{{#l}}({{.}}){{/l}}", m, "(a&lt;)(b)");
}

/* ---- sections ----------------------------------------------------------- */

static void test_section_over_list_of_maps(void **state)
{
	struct tv *m = tv_map(), *l = tv_set(m, "entries", tv_list());

	(void)state;
	tv_push(l, map1("title", "one"));
	tv_push(l, map1("title", "two"));
	tv_set_str(m, "sep", ";");
	check("x.txt", "{{#entries}}{{title}}{{sep}}{{/entries}}", m,
	      "one;two;");
}

static void test_section_over_map(void **state)
{
	struct tv *m = tv_map();

	(void)state;
	tv_set(m, "issue", map1("date", "2021-03"));
	check("x.txt", "{{#issue}}on {{date}}{{/issue}}", m, "on 2021-03");
	/* an empty map is truthy */
	m = tv_map();
	tv_set(m, "e", tv_map());
	check("x.txt", "{{#e}}yes{{/e}}{{^e}}no{{/e}}", m, "yes");
}

static void test_section_over_bool_and_string(void **state)
{
	struct tv *m = tv_map();

	(void)state;
	tv_set(m, "t", tv_bool(1));
	tv_set(m, "f", tv_bool(0));
	tv_set_str(m, "s", "Ada");
	tv_set_str(m, "x", "X");
	check("x.txt", "{{#t}}T{{x}}{{/t}}{{#f}}F{{/f}}{{#s}}hi {{.}}{{/s}}", m,
	      "TXhi Ada");
}

static void test_empty_string_and_list_are_false(void **state)
{
	struct tv *m = tv_map();

	(void)state;
	tv_set_str(m, "es", "");
	tv_set(m, "el", tv_list());
	tv_set_str(m, "nul", NULL);
	check("x.txt", "{{#es}}1{{/es}}{{#el}}2{{/el}}{{#nul}}3{{/nul}}"
	      "{{#gone}}4{{/gone}}.", m, ".");
}

static void test_inverted_sections(void **state)
{
	struct tv *m = tv_map(), *l;

	(void)state;
	tv_set_str(m, "es", "");
	tv_set(m, "f", tv_bool(0));
	tv_set(m, "t", tv_bool(1));
	l = tv_set(m, "l", tv_list());
	tv_push(l, tv_str("x"));
	check("x.txt", "{{^es}}a{{/es}}{{^f}}b{{/f}}{{^gone}}c{{/gone}}"
	      "{{^t}}d{{/t}}{{^l}}e{{/l}}", m, "abc");
}

static void test_nested_sections(void **state)
{
	struct tv *m = tv_map(), *l = tv_set(m, "entries", tv_list());
	struct tv *e = tv_push(l, tv_map());
	struct tv *tags = tv_set(e, "tags", tv_list());

	(void)state;
	tv_set_str(e, "title", "T");
	tv_push(tags, tv_str("x"));
	tv_push(tags, tv_str("y"));
	tv_push(l, map1("title", "U"));
	check("x.txt", "{{#entries}}{{title}}:{{#tags}}#{{.}}{{/tags}}"
	      "{{^tags}}none{{/tags}};{{/entries}}", m, "T:#x#y;U:none;");
}

static void test_comments(void **state)
{
	(void)state;
	check("x.txt", "a{{! hidden }}b{{!\nmulti\nline}}c", NULL, "abc");
	check("x.txt", "begin\n{{! alone }}\n  {{!\n spans\n }}\nend\n", NULL,
	      "begin\nend\n");
}

/* ---- whitespace --------------------------------------------------------- */

static void test_standalone_lines_vanish(void **state)
{
	struct tv *m = tv_map(), *l = tv_set(m, "links", tv_list());

	(void)state;
	tv_push(l, map1("url", "https://a.example"));
	tv_push(l, map1("url", "https://b.example"));
	check("digest.txt.mustache",
	      "Links:\n"
	      "{{#links}}\n"
	      "  * {{url}}\n"
	      "{{/links}}\n"
	      "  {{^links}}  \n"
	      "none\n"
	      "\t{{/links}}\n"
	      "end\n", m,
	      "Links:\n  * https://a.example\n  * https://b.example\nend\n");
}

static void test_standalone_edges(void **state)
{
	(void)state;
	/* CRLF, start and end of input, no final newline */
	check("x.txt", "|\r\n{{#t}}\r\n{{/t}}\r\n|", tv_map(), "|\r\n|");
	check("x.txt", "  {{^t}}\n#{{/t}}\n/", NULL, "#\n/");
	check("x.txt", "#{{^t}}\n/\n  {{/t}}", NULL, "#\n/\n");
	/* not alone on its line: whitespace stays */
	check("x.txt", " {{^t}} x{{/t}}\n", NULL, "  x\n");
	check("x.txt", "{{^t}}{{/t}}\nx", NULL, "\nx");
	/* variables are never standalone */
	check("x.txt", "  {{v}}\nx", map1("v", "V"), "  V\nx");
}

static void test_set_delimiters(void **state)
{
	struct tv *m = tv_map();

	(void)state;
	tv_set_str(m, "v", "<x>");
	tv_set(m, "t", tv_bool(1));
	check("x.html", "{{=<% %>=}}<%v%> {{v}} <%{v}%> <%& v%>"
	      "<%#t%>!<%/t%><%={{ }}=%> {{v}}", m,
	      "&lt;x&gt; {{v}} <x> <x>! &lt;x&gt;");
	check("x.txt", "a\n{{= | | =}}\n|v|\n|={{ }}=|\n{{v}}\n",
	      map1("v", "V"), "a\nV\nV\n");
}

static void test_utf8_passes_through(void **state)
{
	struct tv *m = tv_map();
	const char *src = "《{{title}}》{{#t}}·精选 {{{raw}}}{{/t}}";

	(void)state;
	tv_set_str(m, "title", "机器学习周报 & 更多");
	tv_set_str(m, "raw", "<b>论文</b>");
	tv_set(m, "t", tv_bool(1));
	check("x.html", src, m,
	      "《机器学习周报 &amp; 更多》·精选 <b>论文</b>");
	check("x.txt", "标题：{{t}}\n", map1("t", "中文标题"), "标题：中文标题\n");
}

/* Sections over lists multiply: the caller's bound stops the render. */
static void test_render_bounded(void **state)
{
	const char *src = "{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}ab{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}";
	struct tmpl *t = tmpl_compile(NULL, "x.txt", src, strlen(src));
	struct tv *m = tv_map(), *l = tv_set(m, "l", tv_list());
	struct buf out = BUF_INIT;

	(void)state;
	for (int i = 0; i < 10; i++)
		tv_push(l, tv_str("i"));
	/* 10^5 items of 2 bytes: exactly 200,000 fits, one byte less not */
	assert_int_equal(tmpl_render(t, m, 200000, &out), 0);
	assert_int_equal(out.len, 200000);
	buf_reset(&out);
	assert_int_equal(tmpl_render(t, m, 199999, &out), -1);
	assert_true(out.len >= 199999 && out.len <= 200001);
	buf_release(&out);
	tmpl_free(t);
	tv_free(m);
}

static void test_render_many_times(void **state)
{
	const char *src = "{{#l}}{{.}},{{/l}}";
	struct tmpl *t = tmpl_compile(NULL, "x.txt", src, strlen(src));
	struct tv *m = tv_map(), *l = tv_set(m, "l", tv_list());
	struct buf out = BUF_INIT;

	(void)state;
	assert_non_null(t);
	tv_push(l, tv_str("a"));
	tv_push(l, tv_str("b"));
	for (int i = 0; i < 3; i++)
		assert_int_equal(tmpl_render(t, m, SIZE_MAX, &out), 0);
	assert_string_equal(out.data, "a,b,a,b,a,b,");
	buf_release(&out);
	tmpl_free(t);
	tv_free(m);
}

static void test_tv_set_replaces(void **state)
{
	struct tv *m = tv_map();

	(void)state;
	tv_set_str(m, "k", "old");
	tv_set_str(m, "k", "new");
	tv_set(m, "n", NULL);
	check("x.txt", "{{k}}{{n}}", m, "new");
}

/* ---- partials ----------------------------------------------------------- */

static void test_partials_take_parent_suffix(void **state)
{
	struct tv *m = tv_map(), *l = tv_set(m, "items", tv_list());

	tv_set_str(m, "title", "A&B");
	tv_push(l, tv_str("<1>"));
	tv_push(l, tv_str("2"));
	check_file(*state, "page.html.mustache", m,
		   "<h1>A&amp;B</h1>\n<ul><li>&lt;1&gt;</li><li>2</li></ul>\n");
	check_compiled(*state, "mail.txt.mustache", "{{> header}}",
		       map1("title", "A&B"), "== A&B ==\n");
}

static void test_nested_partials(void **state)
{
	check_file(*state, "outer.txt.mustache", map1("x", "中"), "[in(leaf 中)]");
}

static void test_partial_indentation(void **state)
{
	struct tv *m = tv_map(), *l = tv_set(m, "items", tv_list());

	tv_push(l, tv_str("a"));
	tv_push(l, tv_str("b"));
	check_compiled(*state, "x.txt.mustache", "Items:\n  {{> list}}\nEnd\n",
		       m, "Items:\n  - a\n  - b\nEnd\n");
	/* the partial's lines are indented, interpolated lines are not */
	check_compiled(*state, "x.txt.mustache", "\\\n {{> block}}\n/\n",
		       map1("content", "<\n->"), "\\\n |\n <\n->\n |\n/\n");
	/* not standalone: no indentation */
	check_compiled(*state, "x.txt.mustache", "  >{{> block}}\n",
		       map1("content", "c"), "  >|\nc\n|\n\n");
	/* indentation adds up through nested standalone partials */
	m = tv_map();
	l = tv_set(m, "items", tv_list());
	tv_push(l, tv_str("a"));
	check_compiled(*state, "x.txt.mustache", "  {{> framed}}", m,
		       "  top\n    - a\n");
}

static void test_same_name_same_template(void **state)
{
	struct tmpl_dir *d = tmpl_dir_new(*state);
	const struct tmpl *a = tmpl_dir_load(d, "page.html.mustache");

	assert_non_null(a);
	assert_ptr_equal(a, tmpl_dir_load(d, "page.html.mustache"));
	assert_ptr_not_equal(a, tmpl_dir_load(d, "header.html.mustache"));
	tmpl_dir_free(d);
}

/* ---- refused templates -------------------------------------------------- */

static void test_unclosed_section(void **state)
{
	(void)state;
	refuse("x.txt", "{{#a}}x");
	refuse("x.txt", "{{#a}}{{#b}}{{/b}}");
	refuse("x.txt", "{{^a}}");
	assert_message("digest.html.mustache", "a\nb\n{{#entries}}\nx\n",
		       "digest.html.mustache:3: unclosed section 'entries'");
}

static void test_mismatched_close(void **state)
{
	(void)state;
	refuse("x.txt", "{{#a}}{{/b}}");
	refuse("x.txt", "{{#a}}{{#b}}{{/a}}{{/b}}");
	refuse("x.txt", "{{/a}}");
	assert_message("x.txt", "{{#a}}\n{{/b}}",
		       "x.txt:2: mismatched close 'b'");
}

static void test_unclosed_tag(void **state)
{
	(void)state;
	refuse("x.txt", "a {{b");
	refuse("x.txt", "a {{{b}}");
	refuse("x.txt", "{{=<% %>=}}<%a");
	refuse("x.txt", "{{! never closed");
	assert_message("x.txt", "\n\n{{oops", "x.txt:3: unclosed tag");
}

static void test_bad_names_and_delimiters(void **state)
{
	(void)state;
	refuse("x.txt", "{{}}");
	refuse("x.txt", "{{a b}}");
	refuse("x.txt", "{{a..b}}");
	refuse("x.txt", "{{#.a}}{{/.a}}");
	refuse("x.txt", "{{=<%=}}");
	refuse("x.txt", "{{=<% %> x=}}");
	refuse("x.txt", "{{==}}");
}

static void test_unknown_partial(void **state)
{
	refuse_with_folder(*state, "x.txt.mustache", "{{> nowhere}}");
	/* page.html needs item.html; there is no item.txt */
	refuse_with_folder(*state, "x.txt.mustache", "{{> item}}");
	/* no folder at all */
	refuse("x.txt", "{{> header}}");
}

static void test_bad_partial_names(void **state)
{
	refuse_with_folder(*state, "x.txt", "{{> ../etc/passwd}}");
	refuse_with_folder(*state, "x.txt", "{{> /abs}}");
	refuse_with_folder(*state, "x.txt", "{{> /etc/passwd}}");
	refuse_with_folder(*state, "x.txt", "{{> sub/../header}}");
	refuse_with_folder(*state, "x.txt", "{{> a//b}}");
	refuse_with_folder(*state, "x.txt", "{{> sub/}}");
	refuse_with_folder(*state, "x.txt", "{{> header.txt}}");
	refuse_with_folder(*state, "x.txt", "{{> }}");
	assert_message("x.txt", "{{> ../etc/passwd}}",
		       "x.txt:1: bad partial name '../etc/passwd'");
}

static void test_recursive_partials(void **state)
{
	struct tmpl_dir *d = tmpl_dir_new(*state);

	assert_null(tmpl_dir_load(d, "self.txt.mustache"));
	assert_null(tmpl_dir_load(d, "ping.txt.mustache"));
	tmpl_dir_free(d);
	refuse_with_folder(*state, "ping.txt.mustache", "{{> pong}}");
}

static void test_broken_partial_fails_parent(void **state)
{
	struct tmpl_dir *d = tmpl_dir_new(*state);

	assert_null(tmpl_dir_load(d, "broken.txt.mustache"));
	tmpl_dir_free(d);
	refuse_with_folder(*state, "x.txt.mustache", "a\n{{> broken}}\n");
}

static void test_load_names_stay_inside(void **state)
{
	struct tmpl_dir *d = tmpl_dir_new(*state);

	assert_null(tmpl_dir_load(d, "../x.txt.mustache"));
	assert_null(tmpl_dir_load(d, "/etc/passwd"));
	assert_null(tmpl_dir_load(d, "sub/../../x"));
	assert_null(tmpl_dir_load(d, "missing.txt.mustache"));
	assert_non_null(tmpl_dir_load(d, "sub/leaf.txt.mustache"));
	tmpl_dir_free(d);
}

/* A symlink in the templates folder that leads out is not followed, for
 * partials and top-level templates alike; one that stays inside is. */
static void test_symlinks_stay_inside(void **state)
{
	const char *folder = *state;
	struct tmpl_dir *d = tmpl_dir_new(folder);
	char link[300], text[1024];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	snprintf(link, sizeof(link), "%s/outside.txt.mustache", folder);
	assert_int_equal(symlink("/etc/hostname", link), 0);
	snprintf(link, sizeof(link), "%s/alias.txt.mustache", folder);
	assert_int_equal(symlink("header.txt.mustache", link), 0);
	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	assert_null(tmpl_compile(d, "x.txt.mustache", "{{> outside}}", 13));
	assert_null(tmpl_dir_load(d, "outside.txt.mustache"));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(text, 1, sizeof(text) - 1, tmp);
	text[n] = '\0';
	fclose(tmp);
	assert_non_null(strstr(text, "outside.txt.mustache' leads outside"));
	assert_non_null(strstr(text, "x.txt.mustache:1: unknown partial 'outside'"));
	assert_non_null(tmpl_dir_load(d, "alias.txt.mustache"));
	tmpl_dir_free(d);
	snprintf(link, sizeof(link), "%s/outside.txt.mustache", folder);
	unlink(link);
	snprintf(link, sizeof(link), "%s/alias.txt.mustache", folder);
	unlink(link);
}

/* ---- "..": refused even when what it names exists ----------------------- */

/* "../FOLDER/": the folder's own name from its parent, which exists. */
static void up_and_back(const char *folder, const char *rest, char *out,
			size_t size)
{
	snprintf(out, size, "../%s/%s", strrchr(folder, '/') + 1, rest);
}

static void test_dotdot_refused_with_existing_targets(void **state)
{
	struct tmpl_dir *d = tmpl_dir_new(*state);
	char name[256], src[300];

	/* each of these names a file that is there */
	assert_null(tmpl_dir_load(d, "sub/../header.txt.mustache"));
	up_and_back(*state, "header.txt.mustache", name, sizeof(name));
	assert_null(tmpl_dir_load(d, name));
	assert_null(tmpl_dir_load(d, "sub/.."));
	assert_null(tmpl_dir_load(d, ".."));
	assert_null(tmpl_dir_load(d, ""));
	/* dots that make no ".." segment are fine */
	assert_non_null(tmpl_dir_load(d, "dots..txt.mustache"));
	assert_non_null(tmpl_dir_load(d, "sub/..leaf.txt.mustache"));
	assert_non_null(tmpl_dir_load(d, "./header.txt.mustache"));
	tmpl_dir_free(d);

	/* partials: header.txt.mustache is there */
	refuse_with_folder(*state, "x.txt.mustache", "{{> sub/../header}}");
	up_and_back(*state, "header", name, sizeof(name));
	snprintf(src, sizeof(src), "{{> %s}}", name);
	refuse_with_folder(*state, "x.txt.mustache", src);
	refuse_with_folder(*state, "x.txt.mustache", "{{> ./header}}");
	check_compiled(*state, "x.txt.mustache", "{{> header}}", map1("title", "t"),
		       "== t ==\n");
}

/* Partial names: [A-Za-z0-9_-] and '/', the neighbours of each range refused. */
static void test_partial_name_classes(void **state)
{
	static const char *const bad[] = { "a@b", "a[b", "a`b", "a{b", "a:b",
					   "a.b", "a b", "a\\b", "a%b", "/a",
					   "a/", "a//b", "" };
	char src[64], want[80];

	check_compiled(*state, "x.txt.mustache", "{{> azAZ09_-}}", NULL, "chars");
	check_compiled(*state, "x.txt.mustache", "[{{>sub/leaf}}]",
		       map1("x", "1"), "[leaf 1]");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(src, sizeof(src), "{{> %s}}", bad[i]);
		snprintf(want, sizeof(want), "x.txt:1: bad partial name '%s'", bad[i]);
		assert_message("x.txt", src, want);
	}
}

/* Exact outputs for white space in and around tags. */
static void test_tag_white_space(void **state)
{
	(void)state;
	check("x.txt", "{{\ta\t}}|{{\na\r\n}}|{{& a}}|{{{ a }}}", map1("a", "v"),
	      "v|v|v|v");
	check("x.txt", "{{#\ta\t}}[{{.}}]{{/\ta}}", map1("a", "v"), "[v]");
	check("x.txt", "{{= <% %> =}}<%a%>|<% a %>", map1("a", "v"), "v|v");
	check("x.txt", "{{=<%\t%>=}}<%a%>", map1("a", "v"), "v");
	check("x.txt", "{{=<% |%>=}}<%a|%>", map1("a", "v"), "v");
	assert_message("x.txt", "{{a\tb}}", "x.txt:1: bad name 'a\tb'");
	assert_message("x.txt", "\n{{a\rb}}", "x.txt:2: bad name 'a\rb'");
	assert_message("x.txt", "\n\n{{a\nb}}", "x.txt:3: bad name 'a\nb'");
	assert_message("x.txt", "{{a.}}", "x.txt:1: bad name 'a.'");
	assert_message("x.txt", "{{{}}}", "x.txt:1: missing name in tag");
	assert_message("x.txt", "{{=<%%>=}}", "x.txt:1: bad delimiters");
	assert_message("x.txt", "{{= <% =}}", "x.txt:1: bad delimiters");
	assert_message("x.txt", "{{=<% %>=}}\n<%/a%>", "x.txt:2: close of unopened");
	refuse("x.txt", "{{{a}}");
	refuse("x.txt", "{{{a}");
}

/* Exact outputs for the standalone rule at its edges. */
static void test_standalone_table(void **state)
{
	static const char *const cases[][2] = {
		{ "{{#a}}\r\nx\r\n{{/a}}\r\n", "x\r\n" },
		{ "x\n{{! c}}", "x\n" },
		{ "x\n  {{! c}}  ", "x\n" },
		{ "x {{! c}}\n", "x \n" },
		{ "{{! c}} x\n", " x\n" },
		{ "{{! c}}\ry", "\ry" },
		{ "{{! c}}\r", "\r" },
		{ "{{v}}{{! c}}\n", "V\n" },
		{ "{{! c}}{{! d}}\nz", "\nz" },	/* two tags: neither stands alone */
		{ "\t{{#a}}\t\nx\n\t{{/a}}\t\n", "x\n" },
		{ "|\n{{#a}}\n{{v}}\n{{/a}}\n|", "|\nV\n|" },
		{ "|\n{{^b}}\nnot b\n{{/b}}\n|", "|\nnot b\n|" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tv *m = map1("v", "V");

		tv_set(m, "a", tv_bool(1));
		check("x.txt", cases[i][0], m, cases[i][1]);
	}
}

/* ---- programming errors die; NULL frees are no-ops ----------------------- */

/* Runs fn in a child and returns its exit status (-1 if it did not exit). */
static int status_of(void (*fn)(void))
{
	int st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);	/* die()'s message is not the test's output */
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void set_on_list(void) { tv_set(tv_list(), "k", NULL); }
static void set_on_null(void) { tv_set(NULL, "k", NULL); }
static void push_on_map(void) { tv_push(tv_map(), NULL); }
static void push_on_null(void) { tv_push(NULL, NULL); }
static void set_on_map(void)
{
	struct tv *m = tv_map();

	tv_set(m, "k", NULL);
	tv_free(m);
}

static void test_misuse_dies(void **state)
{
	(void)state;
	assert_int_equal(status_of(set_on_list), EX_SOFTWARE);
	assert_int_equal(status_of(set_on_null), EX_SOFTWARE);
	assert_int_equal(status_of(push_on_map), EX_SOFTWARE);
	assert_int_equal(status_of(push_on_null), EX_SOFTWARE);
	assert_int_equal(status_of(set_on_map), 0);
	tv_free(NULL);
	tmpl_free(NULL);
	tmpl_dir_free(NULL);
}

/* ---- section structure, exactly ------------------------------------------ */

static void test_section_nesting_limit(void **state)
{
	struct buf src = BUF_INIT;
	char *msg;

	(void)state;
	for (int i = 0; i < 100; i++)
		buf_adds(&src, "{{#a}}");
	buf_adds(&src, "x");
	for (int i = 0; i < 100; i++)
		buf_adds(&src, "{{/a}}");
	check("x.txt", src.data, map1("a", "y"), "x");
	buf_reset(&src);
	for (int i = 0; i < 101; i++)
		buf_adds(&src, "{{#a}}");
	for (int i = 0; i < 101; i++)
		buf_adds(&src, "{{/a}}");
	msg = stderr_of_compile("x.txt", src.data);
	assert_non_null(strstr(msg, "x.txt:1: sections nested too deeply"));
	free(msg);
	/* refused there, not for the section left open after it */
	buf_reset(&src);
	for (int i = 0; i < 101; i++)
		buf_adds(&src, "{{#a}}");
	for (int i = 0; i < 100; i++)
		buf_adds(&src, "{{/a}}");
	refuse("x.txt", src.data);
	buf_release(&src);
}

static void test_close_errors_exactly(void **state)
{
	(void)state;
	refuse("x.txt", "{{#a}}{{/b}}{{/a}}");
	refuse("x.txt", "{{=}}");
	refuse("x.txt", "{{== %>=}}");
	assert_message("x.txt", "{{#a}}\n{{/b}}",
		       "x.txt:2: mismatched close 'b' of section 'a'");
	assert_message("x.txt", "{{#ab}}{{/a}}",
		       "x.txt:1: mismatched close 'a' of section 'ab'");
	assert_message("x.txt", "{{=}}", "x.txt:1: unclosed tag");
	assert_message("x.txt", "{{== %>=}}", "x.txt:1: bad delimiters '= %>'");
}

/* A template loaded twice is compiled once, whatever else is cached;
 * a folder given as "" is the current one. */
static void test_cache_and_empty_folder(void **state)
{
	struct tmpl_dir *d = tmpl_dir_new(*state);
	const struct tmpl *a = tmpl_dir_load(d, "header.txt.mustache");
	int cwd = open(".", O_RDONLY);
	char *got;

	assert_non_null(a);
	assert_ptr_equal(a, tmpl_dir_load(d, "header.txt.mustache"));
	tmpl_dir_free(d);

	assert_true(cwd >= 0);
	assert_int_equal(chdir(*state), 0);
	d = tmpl_dir_new("");
	got = render_t(tmpl_dir_load(d, "header.txt.mustache"), NULL);
	assert_int_equal(fchdir(cwd), 0);
	close(cwd);
	assert_string_equal(got, "==  ==\n");
	free(got);
	tmpl_dir_free(d);
	d = tmpl_dir_new("/");
	assert_null(tmpl_dir_load(d, "nonexistent-bulletin-template"));
	tmpl_dir_free(d);
}

/* tmpl_dir_load's refusal, with what it wrote to stderr. */
static void assert_load_refused(const char *folder, const char *name,
				const char *want)
{
	struct tmpl_dir *d = tmpl_dir_new(folder);
	FILE *tmp = tmpfile();
	int saved = dup(2);
	char text[1024];
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	assert_null(tmpl_dir_load(d, name));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(text, 1, sizeof(text) - 1, tmp);
	text[n] = '\0';
	fclose(tmp);
	tmpl_dir_free(d);
	if (!strstr(text, want))
		fail_msg("expected '%s' in '%s'", want, text);
}

static void test_load_name_messages(void **state)
{
	assert_load_refused(*state, "", "bad template name ''");
	assert_load_refused(*state, "/etc/passwd", "bad template name '/etc/passwd'");
	assert_load_refused(*state, "sub/../header.txt.mustache",
			    "bad template name 'sub/../header.txt.mustache'");
	assert_load_refused(*state, "sub/..", "bad template name 'sub/..'");
	assert_load_refused(*state, "missing.txt.mustache", "cannot open");
	/* a tag with a sigil and only white space names nothing */
	assert_message("x.txt", "{{# }}", "x.txt:1: missing name in tag");
	assert_message("x.txt", "{{&\t}}", "x.txt:1: missing name in tag");
	assert_message("x.txt", "{{> }}", "x.txt:1: bad partial name ''");
}

/* An empty list renders an inverted section once, a section never. */
static void test_empty_list_inverted(void **state)
{
	struct tv *m = tv_map();

	(void)state;
	tv_set(m, "el", tv_list());
	check("x.txt", "[{{^el}}none{{/el}}|{{#el}}some{{/el}}]", m, "[none|]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_html_not_txt),
		cmocka_unit_test(test_triple_and_ampersand_are_raw),
		cmocka_unit_test(test_missing_and_non_strings),
		cmocka_unit_test(test_dotted_names),
		cmocka_unit_test(test_context_stack_lookup),
		cmocka_unit_test(test_implicit_iterator),
		cmocka_unit_test(test_section_over_list_of_maps),
		cmocka_unit_test(test_section_over_map),
		cmocka_unit_test(test_section_over_bool_and_string),
		cmocka_unit_test(test_empty_string_and_list_are_false),
		cmocka_unit_test(test_inverted_sections),
		cmocka_unit_test(test_nested_sections),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_standalone_lines_vanish),
		cmocka_unit_test(test_standalone_edges),
		cmocka_unit_test(test_set_delimiters),
		cmocka_unit_test(test_utf8_passes_through),
		cmocka_unit_test(test_render_many_times),
		cmocka_unit_test(test_render_bounded),
		cmocka_unit_test(test_tv_set_replaces),
		cmocka_unit_test(test_partials_take_parent_suffix),
		cmocka_unit_test(test_nested_partials),
		cmocka_unit_test(test_partial_indentation),
		cmocka_unit_test(test_same_name_same_template),
		cmocka_unit_test(test_unclosed_section),
		cmocka_unit_test(test_mismatched_close),
		cmocka_unit_test(test_unclosed_tag),
		cmocka_unit_test(test_bad_names_and_delimiters),
		cmocka_unit_test(test_unknown_partial),
		cmocka_unit_test(test_bad_partial_names),
		cmocka_unit_test(test_recursive_partials),
		cmocka_unit_test(test_broken_partial_fails_parent),
		cmocka_unit_test(test_load_names_stay_inside),
		cmocka_unit_test(test_dotdot_refused_with_existing_targets),
		cmocka_unit_test(test_partial_name_classes),
		cmocka_unit_test(test_tag_white_space),
		cmocka_unit_test(test_standalone_table),
		cmocka_unit_test(test_misuse_dies),
		cmocka_unit_test(test_section_nesting_limit),
		cmocka_unit_test(test_close_errors_exactly),
		cmocka_unit_test(test_cache_and_empty_folder),
		cmocka_unit_test(test_load_name_messages),
		cmocka_unit_test(test_empty_list_inverted),
		cmocka_unit_test(test_symlinks_stay_inside),
	};

	return cmocka_run_group_tests(tests, setup_folder, teardown_folder);
}
