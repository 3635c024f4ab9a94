/* strbuf.c: growable byte buffer (see strbuf.h). */
#include "lib/strbuf.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int strbuf_read_fd(struct strbuf *b, int fd, size_t max)
{
	char chunk[65536];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		strbuf_append(b, chunk, (size_t)r);
		if (b->len > max) {
			errno = EFBIG;
			return -1;
		}
	}
}

void strbuf_reserve(struct strbuf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (d == NULL) {
		fputs("tamis: out of memory\n", stderr);
		abort();
	}
	b->data = d;
	b->cap = cap;
}

void strbuf_append(struct strbuf *b, const void *p, size_t n)
{
	strbuf_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_append(b, s, strlen(s));
}

void strbuf_putc(struct strbuf *b, char c)
{
	strbuf_append(b, &c, 1);
}

void strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n <= 0) {
		strbuf_reserve(b, 0);
		return;
	}
	strbuf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

void strbuf_truncate(struct strbuf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

void strbuf_free(struct strbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *strbuf_detach(struct strbuf *b, size_t *len_r)
{
	strbuf_reserve(b, 0);
	char *d = b->data;
	if (len_r != NULL)
		*len_r = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}
