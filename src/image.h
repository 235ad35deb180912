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

/* An image bigger than this is refused: mail providers cap messages
 * near 25 MB, and base64 adds a third. */
#define IMAGE_MAX_SIZE (5 * 1024 * 1024)

/*
 * Reads the file name inside the folder dir into img (img->path is
 * "dir/name"). Returns 0, or error() -1 naming the file when it cannot be
 * read, leads outside dir (a symlink), is larger than IMAGE_MAX_SIZE, is
 * not a PNG, JPEG or GIF, or is one that is truncated or broken (PNG:
 * IHDR, chunks within the file, IEND; JPEG: SOI, a frame header, EOI;
 * GIF: header, trailer). img is released by image_release() either way.
 */
int image_load(struct image *img, const char *dir, const char *name);
void image_release(struct image *img);

/* Scales (width, height) down to fit max_width, keeping the ratio. */
void image_fit(unsigned width, unsigned height, unsigned max_width,
	       unsigned *out_width, unsigned *out_height);

#endif
