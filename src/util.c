#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void report(const char *prefix, const char *fmt, va_list ap)
{
	struct buf msg = BUF_INIT;

	buf_adds(&msg, "bulletin: ");
	buf_adds(&msg, prefix);
	buf_vaddf(&msg, fmt, ap);
	buf_addch(&msg, '\n');
	fputs(msg.data, stderr);
	buf_release(&msg);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("error: ", fmt, ap);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("warning: ", fmt, ap);
	va_end(ap);
}

noreturn void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("", fmt, ap);
	va_end(ap);
	exit(status);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die(EX_OSERR, "out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		die(EX_OSERR, "out of memory (%zu x %zu bytes)", count, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die(EX_OSERR, "out of memory (%zu bytes)", n);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Appends what fd holds to out, at most max bytes; name is for messages. */
static int read_fd(int fd, const char *name, size_t max, struct buf *out)
{
	char chunk[65536];
	size_t start = out->len;
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error("cannot read '%s': %s", name, strerror(errno));
		}
		if ((size_t)n > max - (out->len - start))
			return error("'%s' is larger than %zu bytes", name, max);
		buf_add(out, chunk, (size_t)n);
	}
	return 0;
}

int read_file(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return error("cannot open '%s': %s", path, strerror(errno));
	ret = read_fd(fd, path, SIZE_MAX, out);
	close(fd);
	return ret;
}

/* Opens name in dirfd for reading without following a symlink or
 * waiting on a FIFO; without touching the access time when we may. */
static int open_at_noatime(int dirfd, const char *name)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
	int fd = openat(dirfd, name, flags | O_NOATIME);

	/* O_NOATIME is for the file's owner (or CAP_FOWNER) only */
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd;
}

int read_regular_at(int dirfd, const char *folder, const char *name,
		    size_t max, struct buf *out)
{
	struct stat st;
	int fd, ret = -1;

	buf_reset(out);
	fd = open_at_noatime(dirfd, name);
	if (fd < 0 && errno == ELOOP)
		return 0;	/* a symlink */
	if (fd < 0 || fstat(fd, &st)) {
		error("cannot read '%s/%s': %s", folder, name, strerror(errno));
		goto out;
	}
	ret = 0;
	if (!S_ISREG(st.st_mode) || (unsigned long long)st.st_size > max)
		goto out;
	/* room for one byte more than fstat said: a read that fills it is
	 * a file grown since, read on to the end */
	for (size_t want = (size_t)st.st_size + 1;; want = 65536) {
		ssize_t n;

		buf_grow(out, want);
		n = read(fd, out->data + out->len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = error("cannot read '%s/%s': %s", folder, name,
				    strerror(errno));
			break;
		}
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len > max) {
			buf_reset(out);
			break;
		}
		if ((size_t)n < want) {
			ret = 1;
			break;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	if (ret != 1)
		buf_reset(out);
	return ret;
}

/* root/rel, or rel alone when root is "" (the current folder) */
static void join_path(struct buf *out, const char *root, const char *rel)
{
	if (*root)
		buf_addf(out, "%s/%s", root, rel);
	else
		buf_adds(out, rel);
}

char *path_inside(const char *root, const char *rel)
{
	struct buf joined = BUF_INIT;
	char *top = realpath(*root ? root : ".", NULL), *real = NULL;
	size_t n;

	if (!top)
		return NULL;
	join_path(&joined, root, rel);
	real = realpath(joined.data, NULL);
	n = strlen(top);
	/* "/" as root: every absolute path is inside */
	if (real && n > 1 && (strncmp(real, top, n) || real[n] != '/')) {
		free(real);
		real = NULL;
		errno = EXDEV;
	}
	free(top);
	buf_release(&joined);
	return real;
}

int read_file_inside(const char *root, const char *rel, size_t max,
		     struct buf *out)
{
	struct buf name = BUF_INIT;
	struct stat st;
	char *real;
	int fd = -1, ret = -1;

	join_path(&name, root, rel);
	real = path_inside(root, rel);
	if (!real) {
		if (errno == EXDEV)
			error("'%s' leads outside '%s'", name.data, root);
		else
			error("cannot open '%s': %s", name.data, strerror(errno));
		goto out;
	}
	/* real has no symlink left: one swapped in since is refused; a FIFO
	 * must not block the open before fstat() refuses it */
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st)) {
		error("cannot open '%s': %s", name.data, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode))
		error("'%s' is not a regular file", name.data);
	else if ((unsigned long long)st.st_size > max)
		error("'%s' is larger than %zu bytes", name.data, max);
	else
		ret = read_fd(fd, name.data, max, out);
out:
	if (fd >= 0)
		close(fd);
	free(real);
	buf_release(&name);
	return ret;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, int exclusive)
{
	struct buf tmp = BUF_INIT;
	int fd, ret = -1;

	buf_addf(&tmp, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp.data);
	if (fd < 0) {
		error("cannot create '%s': %s", tmp.data, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) || write_all(fd, data, len) || fsync(fd)) {
		error("cannot write '%s': %s", tmp.data, strerror(errno));
		close(fd);
		goto unlink;
	}
	if (close(fd)) {
		error("cannot write '%s': %s", tmp.data, strerror(errno));
		goto unlink;
	}
	if (exclusive) {
		/* link() fails if path exists, so two writers cannot both win. */
		if (link(tmp.data, path)) {
			error("cannot create '%s': %s", path, strerror(errno));
			goto unlink;
		}
		unlink(tmp.data);
	} else if (rename(tmp.data, path)) {
		error("cannot rename '%s' to '%s': %s", tmp.data, path,
		      strerror(errno));
		goto unlink;
	}
	ret = 0;
	goto out;
unlink:
	unlink(tmp.data);
out:
	buf_release(&tmp);
	return ret;
}

int mkdir_p(const char *dir, mode_t mode)
{
	char *path = xstrdup(dir);
	char *p = path;
	int ret = 0;

	for (;;) {
		p += strspn(p, "/");
		p += strcspn(p, "/");
		char saved = *p;

		*p = '\0';
		if (mkdir(path, mode) && errno != EEXIST) {
			ret = error("cannot create folder '%s': %s", path,
				    strerror(errno));
			break;
		}
		*p = saved;
		if (!saved)
			break;
	}
	free(path);
	return ret;
}

int has_crlf(const char *s, size_t len)
{
	return memchr(s, '\r', len) || memchr(s, '\n', len);
}

const char *trim_blanks(const char *s, size_t *len)
{
	while (*len && (*s == ' ' || *s == '\t')) {
		s++;
		(*len)--;
	}
	while (*len && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
		(*len)--;
	return s;
}

const char *path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

void html_escape(struct buf *out, const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		const char *entity;

		switch (s[i]) {
		case '&': entity = "&amp;"; break;
		case '<': entity = "&lt;"; break;
		case '>': entity = "&gt;"; break;
		case '"': entity = "&quot;"; break;
		case '\'': entity = "&#39;"; break;
		default: continue;
		}
		buf_add(out, s + start, i - start);
		buf_adds(out, entity);
		start = i + 1;
	}
	buf_add(out, s + start, len - start);
}

double monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void monotonic_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
}

void monotonic_deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}
