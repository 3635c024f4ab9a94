/* strbuf.h: growable byte buffer on the heap, always NUL-terminated.  Used
 * where a result outlives any arena (binary images, output text). */
#ifndef TAMIS_STRBUF_H
#define TAMIS_STRBUF_H
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>

struct strbuf {
	char *data;
	size_t len, cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_reserve(struct strbuf *b, size_t extra);
void strbuf_append(struct strbuf *b, const void *p, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_putc(struct strbuf *b, char c);
void strbuf_printf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap);
void strbuf_truncate(struct strbuf *b, size_t len);
void strbuf_free(struct strbuf *b);
/* Appends what fd holds from its position to its end (interrupted reads
 * are retried).  Returns 0, or -1 with errno set on a read error, or with
 * errno EFBIG as soon as b holds more than max bytes: b keeps what was read
 * either way, for the callers that take a cut-off read as it is. */
int strbuf_read_fd(struct strbuf *b, int fd, size_t max);
/* Hands the buffer to the caller (must free()); leaves b empty. */
char *strbuf_detach(struct strbuf *b, size_t *len_r);

#endif
