#ifndef BULLETIN_UTIL_H
#define BULLETIN_UTIL_H

/*
 * Error reporting, allocation that cannot fail, and small file helpers.
 *
 * Two tiers of errors: modules call error() and return its -1; only the
 * cmd_* files and main decide to exit, with a status from <sysexits.h>.
 * Messages are lower-case, without a final period, quote the subject and
 * name the file and line when the input is at fault:
 *     return error("%s:%d: missing 'title'", path, line);
 */

#include <stdlib.h>
#include <stdnoreturn.h>
#include <sys/types.h>
#include <pthread.h>
#include <time.h>
#include <sysexits.h>

#include "buf.h"

/* Prints "bulletin: error: MSG" to stderr and returns -1. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "bulletin: warning: MSG" to stderr. */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "bulletin: MSG" to stderr and exits with status. */
noreturn void die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Allocation: these never return NULL; they die(EX_OSERR) instead. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Reads a whole file into out (appending). Returns 0, or error() -1. */
int read_file(const char *path, struct buf *out);

/*
 * Reads the file name in the open folder dirfd into out (its contents
 * replaced) when it is a regular file of at most max bytes: returns 1.
 * Returns 0 with out empty when it is anything else: a symlink (not
 * followed), a FIFO or device (not waited for), a folder, a larger
 * file. Returns -1 after error() naming folder/name when it cannot be
 * opened or read (folder is for the message only). One open, fstat
 * and, for a file that does not change meanwhile, one read; the access
 * time is left alone where the owner allows it (O_NOATIME): reading
 * mail must not cost an inode write per message.
 */
int read_regular_at(int dirfd, const char *folder, const char *name,
		    size_t max, struct buf *out);

/*
 * Resolves root/rel ("..", ".", every symlink) and returns it, the
 * caller frees it, when it stays inside root (itself resolved); else
 * NULL with errno set: EXDEV when it leads outside root, or realpath's
 * (ENOENT ...). root "" is the current folder. Checks only the path: no
 * error() is printed.
 */
char *path_inside(const char *root, const char *rel);

/*
 * Reads the regular file rel inside the folder root into out
 * (appending). Refuses, with error() -1 naming root/rel, a path that
 * leads outside root (a symlink out, ".."), what is not a regular file,
 * and a file larger than max bytes: hostile input stays bounded.
 */
int read_file_inside(const char *root, const char *rel, size_t max,
		     struct buf *out);

/*
 * Writes data to path atomically: a temporary file in the same folder,
 * fsync, then rename over path. With exclusive set, refuses (error -1)
 * when path already exists. mode is the new file's permission bits.
 * Returns 0, or error() -1 leaving nothing behind.
 */
int write_file_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, int exclusive);

/* Creates dir and its parents like mkdir -p. Returns 0 or error() -1. */
int mkdir_p(const char *dir, mode_t mode);

/* True if s (len bytes) contains a CR or LF: such values never reach a header. */
int has_crlf(const char *s, size_t len);

/* Appends len bytes of s to out, HTML-escaped (& < > " '). */
void html_escape(struct buf *out, const char *s, size_t len);

/* Skips the spaces and tabs around s (len bytes): returns the new start
 * and shortens *len. */
const char *trim_blanks(const char *s, size_t *len);

/* Returns path's file name without its folders (a pointer into path). */
const char *path_basename(const char *path);

/* Seconds on the monotonic clock, for durations and deadlines. */
double monotonic_s(void);
/* *ts = now + ms on the monotonic clock: the deadline for a
 * pthread_cond_timedwait on a condition made by monotonic_cond_init. */
void monotonic_deadline(struct timespec *ts, unsigned ms);
/* Initialises c for timed waits on the monotonic clock, which a change
 * of the system time does not move. */
void monotonic_cond_init(pthread_cond_t *c);

#endif
