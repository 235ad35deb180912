/*
 * What libcurl allows from one thread: N reused connections (one easy
 * handle each, in one multi handle) push one pre-built message again and
 * again, nothing else: no composing, no database, no pacing.
 *
 *   curl_bare_sender URL CONNECTIONS COUNT MESSAGE.eml
 *
 * Prints "messages N seconds S rate R" and exits 0 when all were accepted.
 */

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
	CURL             *easy;
	size_t            off;
	struct curl_slist rcpt;
	char              to[64];
};

static const char *msg;
static size_t msg_len;

static size_t read_cb(char *to, size_t size, size_t n, void *arg)
{
	struct slot *sl = arg;
	size_t want = size * n, left = msg_len - sl->off;

	if (want > left)
		want = left;
	memcpy(to, msg + sl->off, want);
	sl->off += want;
	return want;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0)
		exit(2);
	rewind(f);
	data = malloc((size_t)n + 1);
	if (!data || fread(data, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	fclose(f);
	*len = (size_t)n;
	return data;
}

static void start(CURLM *multi, struct slot *sl, long i)
{
	snprintf(sl->to, sizeof(sl->to), "r%ld@example.org", i);
	sl->rcpt = (struct curl_slist){ sl->to, NULL };
	sl->off = 0;
	curl_easy_setopt(sl->easy, CURLOPT_MAIL_RCPT, &sl->rcpt);
	curl_multi_add_handle(multi, sl->easy);
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	long conns, count, started = 0, done = 0, failed = 0;
	struct slot *slots;
	CURLM *multi;
	CURLMsg *m;
	int running, left;

	if (argc != 5)
		return fprintf(stderr, "usage: %s URL CONNECTIONS COUNT MESSAGE\n",
			       argv[0]), 2;
	conns = atol(argv[2]);
	count = atol(argv[3]);
	msg = slurp(argv[4], &msg_len);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, conns);
	slots = calloc((size_t)conns, sizeof(*slots));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < conns && started < count; i++) {
		CURL *e = curl_easy_init();

		slots[i].easy = e;
		curl_easy_setopt(e, CURLOPT_URL, argv[1]);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 16L * 1024);	/* as bulletin */
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, &slots[i]);
		curl_easy_setopt(e, CURLOPT_PRIVATE, &slots[i]);
		curl_easy_setopt(e, CURLOPT_MAIL_FROM, "bench@example.org");
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg_len);
		start(multi, &slots[i], started++);
	}
	while (done < count) {
		curl_multi_perform(multi, &running);
		/* libcurl waits for the reply to the data inside perform: when
		 * a message is done already, polling would idle its connection */
		if (running == started - done) {
			curl_multi_poll(multi, NULL, 0, 100, NULL);
			curl_multi_perform(multi, &running);
		}
		while ((m = curl_multi_info_read(multi, &left))) {
			struct slot *sl;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
			failed += m->data.result != CURLE_OK;
			done++;
			curl_multi_remove_handle(multi, sl->easy);
			if (started < count)
				start(multi, sl, started++);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("messages %ld seconds %.3f rate %.1f failed %ld\n", done, s,
	       (double)done / s, failed);
	for (long i = 0; i < conns; i++)
		curl_easy_cleanup(slots[i].easy);
	curl_multi_cleanup(multi);
	free(slots);
	return failed ? 1 : 0;
}
