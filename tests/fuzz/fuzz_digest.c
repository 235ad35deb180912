/*
 * One digest entry file (front matter and Markdown body) from memory,
 * through digest_parse_entry, the code digest_load runs on each NN-x.md.
 * Images resolve against a scratch folder holding "fig.png". Properties:
 *  - a loaded entry has a title and an http(s) url, both one line, and a
 *    body; every link is http(s); lists are as long as they say;
 *  - every image it uses is "fig.png", the one that exists;
 *  - a rejected entry is fully released (ASan's leak check sees the rest).
 */
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "fuzz.h"
#include "util.h"

static char dir[] = "/tmp/bulletin-fuzz-digest-XXXXXX";
static char image[sizeof(dir) + 16];

static void cleanup(void)
{
	unlink(image);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *f;

	(void)argc;
	(void)argv;
	fuzz_quiet();
	if (!mkdtemp(dir))
		abort();
	snprintf(image, sizeof(image), "%s/fig.png", dir);
	if (!(f = fopen(image, "w")))
		abort();
	fclose(f);
	atexit(cleanup);
	return 0;
}

static int one_line(const char *s)
{
	return s && *s && !strchr(s, '\n') && !strchr(s, '\r');
}

static void check_entry(const struct digest *d, const struct entry *e)
{
	fuzz_check(e->file && !strcmp(e->file, "01-fuzz.md"));
	fuzz_check(one_line(e->title));
	fuzz_check(one_line(e->url) && url_is_web(e->url));
	fuzz_check(e->body);
	for (size_t i = 0; i < e->nauthors; i++)
		fuzz_check(e->authors[i]);
	for (size_t i = 0; i < e->ntags; i++)
		fuzz_check(e->tags[i]);
	for (size_t i = 0; i < e->nlinks; i++)
		fuzz_check(e->links[i].kind && url_is_web(e->links[i].url));
	for (size_t i = 0; i < d->nimages; i++)
		fuzz_check(!strcmp(d->images[i], "fig.png"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct digest d;
	struct entry e;

	memset(&d, 0, sizeof(d));
	d.dir = xstrdup(dir);
	if (digest_parse_entry(&d, &e, "01-fuzz.md", (const char *)data,
			       size) == 0) {
		check_entry(&d, &e);
		digest_entry_release(&e);
	} else {
		fuzz_check(!e.file && !e.title && !e.body && !e.nlinks);
	}
	digest_release(&d);
	return 0;
}
