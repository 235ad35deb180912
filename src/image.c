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

static int probe_png(struct image *img, const unsigned char *p, size_t n)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	if (n < 24 || memcmp(p, sig, 8) || memcmp(p + 12, "IHDR", 4))
		return 0;
	img->mime_type = "image/png";
	img->width = be32(p + 16);
	img->height = be32(p + 20);
	return 1;
}

static int probe_gif(struct image *img, const unsigned char *p, size_t n)
{
	if (n < 10 || (memcmp(p, "GIF87a", 6) && memcmp(p, "GIF89a", 6)))
		return 0;
	img->mime_type = "image/gif";
	img->width = (unsigned)p[6] | (unsigned)p[7] << 8;
	img->height = (unsigned)p[8] | (unsigned)p[9] << 8;
	return 1;
}

/* JPEG: walk the segments to the first start-of-frame marker. */
static int probe_jpeg(struct image *img, const unsigned char *p, size_t n)
{
	size_t i = 2;

	if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
		return 0;
	while (i + 9 < n) {
		unsigned marker;

		if (p[i] != 0xFF)
			return 0;
		marker = p[i + 1];
		if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 &&
		    marker != 0xC8 && marker != 0xCC) {
			img->mime_type = "image/jpeg";
			img->height = be16(p + i + 5);
			img->width = be16(p + i + 7);
			return 1;
		}
		i += 2 + be16(p + i + 2);
	}
	return 0;
}

int image_load(struct image *img, const char *path)
{
	const unsigned char *p;

	memset(img, 0, sizeof(*img));
	buf_init(&img->data, 0);
	img->path = xstrdup(path);
	if (read_file(path, &img->data))
		return -1;
	p = (const unsigned char *)img->data.data;
	if (!probe_png(img, p, img->data.len) &&
	    !probe_gif(img, p, img->data.len) &&
	    !probe_jpeg(img, p, img->data.len))
		return error("'%s' is not a PNG, JPEG or GIF image", path);
	if (!img->width || !img->height)
		return error("'%s' has no width or height", path);
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
