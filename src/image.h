#ifndef BULLETIN_IMAGE_H
#define BULLETIN_IMAGE_H

/*
 * Images embedded in an issue: their bytes, type and pixel size, read
 * from the file's own header (PNG IHDR, GIF screen descriptor, JPEG SOF)
 * so that every <img> gets width and height without an image library.
 */

#include <stddef.h>

#include "buf.h"

struct image {
	char       *path;	/* the file it was read from */
	const char *mime_type;	/* "image/png", "image/jpeg", "image/gif" (static) */
	unsigned    width;	/* pixels */
	unsigned    height;
	struct buf  data;	/* the file's bytes */
};

/*
 * Reads path into img. Returns 0, or error() -1 when the file cannot be
 * read or is not a PNG, JPEG or GIF whose size can be found.
 */
int image_load(struct image *img, const char *path);
void image_release(struct image *img);

/* Scales (width, height) down to fit max_width, keeping the ratio. */
void image_fit(unsigned width, unsigned height, unsigned max_width,
	       unsigned *out_width, unsigned *out_height);

#endif
