/* arena.c: region allocator (see arena.h).  Chunks are malloc'd and chained;
 * large requests get a chunk of their own. */
#include "lib/arena.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct arena_chunk *head;
	size_t chunk_size;
	size_t total;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL) {
		fputs("tamis: out of memory\n", stderr);
		abort();
	}
	return p;
}

struct arena *arena_new(size_t chunk_hint)
{
	struct arena *a = xmalloc(sizeof(*a));
	a->head = NULL;
	a->chunk_size = chunk_hint < 1024 ? 8192 : chunk_hint;
	a->total = 0;
	return a;
}

void arena_unref(struct arena **ap)
{
	struct arena *a = *ap;
	if (a == NULL)
		return;
	*ap = NULL;
	struct arena_chunk *c = a->head;
	while (c != NULL) {
		struct arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	struct arena_chunk *c = a->head;
	if (c == NULL || c->size - c->used < n) {
		size_t sz = n > a->chunk_size / 2 ? n : a->chunk_size;
		struct arena_chunk *nc = xmalloc(sizeof(*nc) + sz);
		nc->size = sz;
		nc->used = 0;
		if (c != NULL && sz == n) {
			/* A big block: put it behind the current chunk so the
			   current chunk's free space stays usable. */
			nc->next = c->next;
			c->next = nc;
			nc->used = n;
			a->total += n;
			memset(nc->data, 0, n);
			return nc->data;
		}
		nc->next = c;
		a->head = c = nc;
	}
	void *p = c->data + c->used;
	c->used += n;
	a->total += n;
	memset(p, 0, n);
	return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
	char *d = arena_alloc(a, n + 1);
	if (n > 0)
		memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_memdup(a, s, strlen(s));
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	return arena_memdup(a, s, n);
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	char *d = arena_alloc(a, (size_t)n + 1);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	return d;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return s;
}

void *arena_grow(struct arena *a, void *old, size_t old_n, size_t new_n, size_t elem)
{
	if (new_n <= old_n)
		return old;
	if (elem != 0 && new_n > SIZE_MAX / elem)
		abort();
	void *p = arena_alloc(a, new_n * elem);
	if (old != NULL && old_n > 0)
		memcpy(p, old, old_n * elem);
	return p;
}

size_t arena_used(const struct arena *a)
{
	return a->total;
}
