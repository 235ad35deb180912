#include "image.h"

#include <string.h>

#include "util.h"

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned be32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 |
	       (unsigned)p[2] << 8 | p[3];
}

/*
 * Each probe recognises its format by the signature, then checks the
 * structure enough to refuse a truncated or broken file with its name
 * rather than send what no client can show: it returns 0 when the
 * signature is another format's, 1 when the image is whole, and
 * error() -1 when it is this format but broken.
 */

/* PNG: signature, IHDR first, chunks within the file, up to IEND. */
static int probe_png(struct image *img, const unsigned char *p, size_t n)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t i = 8;

	if (n < 8 || memcmp(p, sig, 8))
		return 0;
	if (n < 33 || be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4))
		return error("'%s' is not a valid PNG image: no IHDR chunk", img->path);
	while (n - i >= 12) {
		size_t len = be32(p + i);

		if (len > n - i - 12)
			break;
		if (!memcmp(p + i + 4, "IEND", 4)) {
			img->mime_type = "image/png";
			img->width = be32(p + 16);
			img->height = be32(p + 20);
			return 1;
		}
		i += 12 + len;
	}
	return error("'%s' is a truncated PNG image: no IEND chunk", img->path);
}

/* GIF: header, logical screen, and the trailer byte at the end. */
static int probe_gif(struct image *img, const unsigned char *p, size_t n)
{
	if (n < 6 || (memcmp(p, "GIF87a", 6) && memcmp(p, "GIF89a", 6)))
		return 0;
	if (n < 14 || p[n - 1] != 0x3B)
		return error("'%s' is a truncated GIF image: no trailer", img->path);
	img->mime_type = "image/gif";
	img->width = (unsigned)p[6] | (unsigned)p[7] << 8;
	img->height = (unsigned)p[8] | (unsigned)p[9] << 8;
	return 1;
}

/* JPEG: SOI, segments within the file up to a start-of-frame, an EOI
 * after it (inside entropy-coded data 0xFF is stuffed, so FF D9 is EOI). */
static int probe_jpeg(struct image *img, const unsigned char *p, size_t n)
{
	size_t i = 2;

	if (n < 3 || p[0] != 0xFF || p[1] != 0xD8 || p[2] != 0xFF)
		return 0;
	while (n - i >= 4 && p[i] == 0xFF) {
		unsigned marker = p[i + 1];
		size_t len = be16(p + i + 2);

		if (len < 2 || len > n - i - 2)
			break;
		if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 &&
		    marker != 0xC8 && marker != 0xCC) {
			if (len < 8)
				break;
			if (!memmem(p + i + 2 + len, n - i - 2 - len, "\xFF\xD9", 2))
				return error("'%s' is a truncated JPEG image: no "
					     "end of image", img->path);
			img->mime_type = "image/jpeg";
			img->height = be16(p + i + 5);
			img->width = be16(p + i + 7);
			return 1;
		}
		i += 2 + len;
	}
	return error("'%s' is a truncated or broken JPEG image: no frame "
		     "header", img->path);
}

int image_load(struct image *img, const char *dir, const char *name)
{
	struct buf full = BUF_INIT;
	const unsigned char *p;
	int found;

	memset(img, 0, sizeof(*img));
	buf_init(&img->data, 0);
	buf_addf(&full, "%s/%s", dir, name);
	img->path = buf_detach(&full, NULL);
	if (read_file_inside(dir, name, IMAGE_MAX_SIZE, &img->data))
		return -1;
	p = (const unsigned char *)img->data.data;
	if (!(found = probe_png(img, p, img->data.len)) &&
	    !(found = probe_gif(img, p, img->data.len)))
		found = probe_jpeg(img, p, img->data.len);
	if (found < 0)
		return -1;
	if (!found)
		return error("'%s' is not a PNG, JPEG or GIF image", img->path);
	if (!img->width || !img->height)
		return error("'%s' has no width or height", img->path);
	return 0;
}

void image_release(struct image *img)
{
	free(img->path);
	buf_release(&img->data);
	memset(img, 0, sizeof(*img));
	buf_init(&img->data, 0);
}

void image_fit(unsigned width, unsigned height, unsigned max_width,
	       unsigned *out_width, unsigned *out_height)
{
	if (width <= max_width) {
		*out_width = width;
		*out_height = height;
		return;
	}
	*out_width = max_width;
	*out_height = (unsigned)(((unsigned long long)height * max_width +
				  width / 2) / width);
	if (!*out_height)
		*out_height = 1;
}
