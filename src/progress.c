#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "util.h"

/* Seconds between redraws: faster is flicker, and costs the command. */
#define REDRAW 0.1

void progress_start(struct progress *p)
{
	p->tty = isatty(STDERR_FILENO);
	p->shown = 0;
	p->began = monotonic_s();
	p->drawn = p->began;	/* the first after a tenth of a second */
}

int progress_due(const struct progress *p)
{
	return p->tty && monotonic_s() - p->drawn >= REDRAW;
}

void progress_hms(double s, char out[48])
{
	long t = s < 0 ? 0 : (long)(s + 0.5);

	if (s < 0)
		snprintf(out, 48, "?");
	else if (t >= 3600)
		snprintf(out, 48, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(out, 48, "%ld:%02ld", t / 60, t % 60);
}

void progress_draw(struct progress *p, long long done, long long total,
		   double rate, double eta, const char *extra, int final)
{
	const int width = 30;
	int fill;
	char hms[48], of[24] = "?";

	if (!p->tty || (!final && !progress_due(p)))
		return;
	p->drawn = monotonic_s();
	fill = total > 0 ? (int)((done > total ? total : done) * width / total)
			 : total ? 0 : width;
	progress_hms(eta, hms);
	if (total >= 0)
		snprintf(of, sizeof(of), "%lld", total);
	fprintf(stderr, "\r\033[K[%.*s%.*s] %lld/%s %.1f/s ETA %s%s%s",
		fill, "##############################",
		width - fill, "------------------------------",
		done, of, rate, hms, extra ? " " : "", extra ? extra : "");
	if (final)
		fputc('\n', stderr);
	p->shown = !final;
	fflush(stderr);
}

void progress_count(struct progress *p, long long done, long long total,
		    const char *extra, int final)
{
	double took, rate;

	if (!p->tty || (!final && !progress_due(p)))
		return;
	took = monotonic_s() - p->began;
	rate = took > 0 ? (double)done / took : 0;
	progress_draw(p, done, total, rate, total >= done && rate > 0 ?
		      (double)(total - done) / rate : -1, extra, final);
}

void progress_clear(struct progress *p)
{
	if (!p->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = 0;
}
