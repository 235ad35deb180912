/*
 * The template compiler and renderer (template.h). The first input byte
 * picks the escaping (an .html or a .txt template); the rest is the
 * template, compiled against the real templates folder (so {{> digest}}
 * pulls in a real partial) and rendered with a fixed data tree holding
 * every kind of value. Properties:
 *  - rendering is deterministic: twice the same output;
 *  - a template with no "{{" is its own output, byte for byte;
 *  - an .html template whose text holds no '<', '>', '&' or '=' and no
 *    triple mustache cannot produce '<': the data's "<raw>" is escaped.
 */
#include <string.h>

#include "fuzz.h"
#include "template.h"

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

static struct tmpl_dir *dir;
static struct tv *data_tree;
/* renders past this are refused (bulletin passes max-message-size) */
#define FUZZ_MAX_OUTPUT ((size_t)1 << 20)

static struct tv *make_data(void)
{
	struct tv *d = tv_map(), *list = tv_set(d, "a", tv_list());
	struct tv *m = tv_set(d, "m", tv_map());

	tv_push(list, tv_str("one"));
	tv_set_str(tv_push(list, tv_map()), "b", "two");
	tv_set_str(d, "c", "<raw>");
	tv_set_str(d, "e", "");
	tv_set_str(d, "n", NULL);
	tv_set(d, "t", tv_bool(1));
	tv_set(d, "f", tv_bool(0));
	tv_set(d, "l", tv_list());
	tv_set_str(m, "x", "y & z");
	tv_set(m, "a", tv_list());
	tv_push(tv_set(d, "entries", tv_list()), tv_str("\"quoted\" 'single'"));
	return d;
}

static void cleanup(void)
{
	tv_free(data_tree);
	tmpl_dir_free(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	dir = tmpl_dir_new(FUZZ_TOP "/templates");
	data_tree = make_data();
	atexit(cleanup);
	return 0;
}

static int has(const char *src, size_t len, const char *what)
{
	return memmem(src, len, what, strlen(what)) != NULL;
}

static int may_emit_markup(const char *src, size_t len)
{
	return has(src, len, "<") || has(src, len, ">") ||
	       has(src, len, "&") || has(src, len, "=") ||
	       has(src, len, "{{{");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT, again = BUF_INIT;
	const char *src = (const char *)data + 1;
	size_t len = size - 1;
	struct tmpl *t;
	int html;

	if (!size)
		return 0;
	html = data[0] & 1;
	t = tmpl_compile(dir, html ? "fuzz.html.mustache" : "fuzz.txt.mustache",
			 src, len);
	if (!t) {
		fuzz_check(has(src, len, "{{"));
		return 0;
	}
	if (tmpl_render(t, data_tree, FUZZ_MAX_OUTPUT, &out)) {
		/* a render too large to finish stops at the limit, every time */
		fuzz_check(out.len > FUZZ_MAX_OUTPUT);
		fuzz_check(tmpl_render(t, data_tree, FUZZ_MAX_OUTPUT, &again) == -1);
		goto out;
	}
	fuzz_check(!tmpl_render(t, data_tree, FUZZ_MAX_OUTPUT, &again));
	fuzz_check(out.len == again.len && !memcmp(out.data, again.data, out.len));
	if (!has(src, len, "{{"))
		fuzz_check(out.len == len && !memcmp(out.data, src, len));
	if (html && !may_emit_markup(src, len))
		fuzz_check(!memchr(out.data, '<', out.len));
out:
	tmpl_free(t);
	buf_release(&out);
	buf_release(&again);
	return 0;
}
