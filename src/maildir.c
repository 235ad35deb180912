/*
 * The Maildir transport: each message is written into PATH/tmp under a
 * unique name, flushed to disk, then renamed into PATH/new, so a reader
 * never sees half a message (the Maildir rules, as mblaze and qmail
 * follow them). Writing is synchronous: submit() does the work and run()
 * reports it.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"
#include "util.h"

struct maildir {
	struct transport t;
	char            *path;
	char             host[64];
	unsigned long    seq;
	struct tmsg     *done;		/* written, not reported yet */
	struct tresult   result;
};

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* "SECONDS.MUSECpPIDqSEQ.HOST", unique per the Maildir conventions. */
static void unique_name(struct maildir *md, struct buf *out)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	buf_addf(out, "%lld.M%ldP%ldQ%lu.%s", (long long)now.tv_sec,
		 now.tv_nsec / 1000, (long)getpid(), ++md->seq, md->host);
}

static int deliver(struct maildir *md, const struct tmsg *m, struct tresult *r)
{
	struct buf tmp = BUF_INIT, dst = BUF_INIT, name = BUF_INIT;
	int fd = -1, ret = -1;

	unique_name(md, &name);
	buf_addf(&tmp, "%s/tmp/%s", md->path, name.data);
	buf_addf(&dst, "%s/new/%s", md->path, name.data);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, m->data.data, m->data.len) || fsync(fd) ||
	    close(fd) || (fd = -1, rename(tmp.data, dst.data))) {
		snprintf(r->reply, sizeof(r->reply), "cannot write '%.300s': %s",
			 tmp.data, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp.data);
		goto out;
	}
	snprintf(r->reply, sizeof(r->reply), "written to %.400s", dst.data);
	ret = 0;
out:
	buf_release(&tmp);
	buf_release(&dst);
	buf_release(&name);
	return ret;
}

static int submit(struct transport *t, struct tmsg *m)
{
	struct maildir *md = (struct maildir *)t;

	if (md->done)
		return error("maildir: no free slot");
	memset(&md->result, 0, sizeof(md->result));
	md->result.stage = TR_STAGE_DATA;
	/* a full disk or a lost folder stops the run: no retry helps */
	md->result.outcome = deliver(md, m, &md->result) ? TR_FATAL : TR_SENT;
	md->done = m;
	return 0;
}

static int run(struct transport *t, int timeout_ms, tr_done_fn *done,
	       void *arg)
{
	struct maildir *md = (struct maildir *)t;
	struct tmsg *m = md->done;

	if (!m) {
		struct timespec ts = { timeout_ms / 1000,
				       (long)(timeout_ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		return 0;
	}
	md->done = NULL;
	done(arg, m, &md->result);
	return 0;
}

static void maildir_free(struct transport *t)
{
	struct maildir *md = (struct maildir *)t;

	free(md->path);
	free(md);
}

static const struct transport_ops maildir_ops = { submit, run, maildir_free };

struct transport *maildir_open(const struct relay *r)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	const char *path = r->url + strlen("maildir:");
	struct maildir *md;

	if (!*path)
		return error("'maildir:' needs a folder: maildir:PATH"), NULL;
	md = xcalloc(1, sizeof(*md));
	md->t = (struct transport){ &maildir_ops, "maildir", 1 };
	md->path = xstrdup(path);
	if (gethostname(md->host, sizeof(md->host)))
		snprintf(md->host, sizeof(md->host), "localhost");
	md->host[sizeof(md->host) - 1] = '\0';
	/* '/' and ':' have meanings in Maildir names */
	for (char *p = md->host; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	for (size_t i = 0; i < 3; i++) {
		struct buf d = BUF_INIT;
		int bad;

		buf_addf(&d, "%s/%s", path, sub[i]);
		bad = mkdir_p(d.data, 0700);
		buf_release(&d);
		if (bad) {
			maildir_free(&md->t);
			return NULL;
		}
	}
	return &md->t;
}
