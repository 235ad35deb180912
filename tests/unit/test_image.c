/* image.c: sizes from the headers, and broken or hostile files refused by name. */
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
#include "image.h"

static const unsigned char png[] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
	0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 2, 0x58, 0, 0, 1, 0x2c,
	8, 2, 0, 0, 0, 0, 0, 0, 0,			/* IHDR data, CRC */
	0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82,
};

static const unsigned char gif[] = {
	'G', 'I', 'F', '8', '9', 'a', 3, 0, 2, 0, 0, 0, 0, 0x3b,
};

static const unsigned char jpeg[] = {
	0xff, 0xd8,
	0xff, 0xe0, 0, 6, 'J', 'F', 'I', 'F',		/* APP0 */
	0xff, 0xc0, 0, 11, 8, 0, 40, 0, 30, 1, 1, 0x11, 0,	/* SOF0 */
	0xff, 0xda, 0, 2, 0x12, 0xff, 0x00, 0x34,	/* SOS, data */
	0xff, 0xd9,
};

struct tmp {
	char dir[64];
};

static void tmp_init(struct tmp *t)
{
	strcpy(t->dir, "/tmp/bulletin-image-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
}

static void tmp_write(struct tmp *t, const char *name, const void *data, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void tmp_remove(struct tmp *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
}

/* Loads dir/name with stderr captured; returns the status, fills msg. */
static int load(struct image *img, const char *dir, const char *name,
		char *msg, size_t size)
{
	int saved, rc;
	FILE *tmp = capture_start(&saved);
	char *text;

	rc = image_load(img, dir, name);
	text = capture_end(tmp, saved);
	snprintf(msg, size, "%s", text);
	free(text);
	return rc;
}

/* name holding n bytes of data is refused with want in the message. */
static void assert_refused(const char *name, const void *data, size_t n,
			   const char *want)
{
	struct tmp t;
	struct image img;
	char msg[512];

	tmp_init(&t);
	tmp_write(&t, name, data, n);
	if (load(&img, t.dir, name, msg, sizeof(msg)) != -1 || !strstr(msg, want))
		fail_msg("%s: expected '%s' in '%s'", name, want, msg);
	/* the message names the file */
	assert_non_null(strstr(msg, name));
	image_release(&img);
	tmp_remove(&t);
}

static void assert_size(const char *name, const void *data, size_t n,
			const char *type, unsigned w, unsigned h)
{
	struct tmp t;
	struct image img;
	char msg[512];

	tmp_init(&t);
	tmp_write(&t, name, data, n);
	assert_int_equal(load(&img, t.dir, name, msg, sizeof(msg)), 0);
	assert_string_equal(img.mime_type, type);
	assert_int_equal(img.width, w);
	assert_int_equal(img.height, h);
	assert_int_equal(img.data.len, n);
	image_release(&img);
	tmp_remove(&t);
}

static void test_whole_images_load(void **state)
{
	struct image img;
	char msg[512];

	(void)state;
	assert_size("a.png", png, sizeof(png), "image/png", 600, 300);
	assert_size("a.gif", gif, sizeof(gif), "image/gif", 3, 2);
	assert_size("a.jpg", jpeg, sizeof(jpeg), "image/jpeg", 30, 40);
	assert_int_equal(load(&img, "digests/2021-03", "fig-scaling-law.png",
			      msg, sizeof(msg)), 0);
	assert_int_equal(img.width, 600);
	image_release(&img);
}

static void test_broken_png_refused(void **state)
{
	unsigned char huge[sizeof(png)];

	(void)state;
	assert_refused("cut.png", png, sizeof(png) - 12,
		       "is a truncated PNG image: no IEND chunk");
	assert_refused("short.png", png, 20, "is not a valid PNG image: no IHDR chunk");
	memcpy(huge, png, sizeof(png));
	huge[33] = 0x7f;	/* IEND's length far past the end */
	assert_refused("huge.png", huge, sizeof(huge),
		       "is a truncated PNG image: no IEND chunk");
}

static void test_broken_gif_and_jpeg_refused(void **state)
{
	(void)state;
	assert_refused("cut.gif", gif, sizeof(gif) - 1,
		       "is a truncated GIF image: no trailer");
	assert_refused("cut.jpg", jpeg, sizeof(jpeg) - 2,
		       "is a truncated JPEG image: no end of image");
	assert_refused("head.jpg", jpeg, 14,
		       "is a truncated or broken JPEG image: no frame header");
	assert_refused("text.png", "hello, world", 12,
		       "is not a PNG, JPEG or GIF image");
}

static void test_size_is_bounded(void **state)
{
	size_t n = IMAGE_MAX_SIZE + 1;
	unsigned char *big = calloc(1, n);

	(void)state;
	assert_non_null(big);
	memcpy(big, png, sizeof(png));
	assert_refused("big.png", big, n, "is larger than 5242880 bytes");
	free(big);
}

static void test_symlink_out_refused(void **state)
{
	struct tmp t;
	struct image img;
	char msg[512], link[128];

	(void)state;
	tmp_init(&t);
	snprintf(link, sizeof(link), "%s/fig.png", t.dir);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(load(&img, t.dir, "fig.png", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "fig.png' leads outside"));
	image_release(&img);
	tmp_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_images_load),
		cmocka_unit_test(test_broken_png_refused),
		cmocka_unit_test(test_broken_gif_and_jpeg_refused),
		cmocka_unit_test(test_size_is_bounded),
		cmocka_unit_test(test_symlink_out_refused),
	};

	return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
