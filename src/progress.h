#ifndef BULLETIN_PROGRESS_H
#define BULLETIN_PROGRESS_H

/*
 * The progress bar of a long command on a terminal, on stderr:
 *
 *     [########----------------------] 26000/100000 9120.4/s ETA 0:08 ...
 *
 * redrawn at most ten times a second. When stderr is not a terminal
 * nothing is drawn: the command prints its own summary (and send its
 * line every few seconds).
 *
 *     struct progress pg;
 *     progress_start(&pg);
 *     for (...)
 *         progress_draw(&pg, done, total, rate, eta, "failed 0", 0);
 *     progress_draw(&pg, done, total, rate, eta, "failed 0", 1);
 */

struct progress {
	int    tty;		/* stderr is a terminal: draw */
	int    shown;		/* the bar is on the screen now */
	double drawn;		/* when it was drawn last */
	double began;		/* progress_start's time */
};

/* Looks at stderr. */
void progress_start(struct progress *p);

/* Whether a redraw is due (tty, and a tenth of a second since the last):
 * lets a caller skip working out what the bar would show. */
int progress_due(const struct progress *p);

/* Draws done/total (total negative: not known, shown "?"), rate per
 * second, eta in seconds (negative: not known) and extra (NULL:
 * nothing) when due; final draws it whatever the time and ends the
 * line. */
void progress_draw(struct progress *p, long long done, long long total,
		   double rate, double eta, const char *extra, int final);

/* progress_draw for a count that began at progress_start: the rate is
 * done over the time since, and the ETA what is left of total at that
 * rate (unknown when total is, or when done has passed it). */
void progress_count(struct progress *p, long long done, long long total,
		    const char *extra, int final);

/* Erases the bar, before a line of output to the same terminal. */
void progress_clear(struct progress *p);

/* s seconds as M:SS or H:MM:SS ("?" when negative). */
void progress_hms(double s, char out[48]);

#endif
