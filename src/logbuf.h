#ifndef BULLETIN_LOGBUF_H
#define BULLETIN_LOGBUF_H

/*
 * Log lines written to a file descriptor in lots, by a thread of their
 * own, instead of one write(2) per line from the thread that logs: for
 * `bulletin serve`, where that write cost as much as the rest of a
 * request. A line is written at most delay_ms after it was added, at
 * once when LOGBUF_LOT bytes are waiting, and by logbuf_free; lines
 * keep the order in which they were added.
 *
 * Memory is bounded: while more than LOGBUF_MAX bytes wait (the reader
 * of fd is stuck), new lines are dropped and counted, and a line saying
 * how many follows once there is room. Write errors are ignored, as
 * fprintf(stderr) would.
 */

#include <stddef.h>

#define LOGBUF_LOT (64 * 1024)
#define LOGBUF_MAX (1024 * 1024)

struct logbuf;

/* Starts the writing thread for fd (borrowed: it must stay open until
 * logbuf_free). Returns NULL after error() when no thread can start. */
struct logbuf *logbuf_new(int fd, unsigned delay_ms);

/* Adds len bytes, one or more whole lines ending in "\n". Safe from
 * several threads at once; never waits for the write. */
void logbuf_add(struct logbuf *l, const char *line, size_t len);

/* Writes what is waiting, stops the thread and frees l (NULL: no-op). */
void logbuf_free(struct logbuf *l);

#endif
