/* arena.h: region allocator.  One arena per compile, per message and per
 * connection; everything allocated from it is freed at once with the arena,
 * so error paths never leak and never double free. */
#ifndef TAMIS_ARENA_H
#define TAMIS_ARENA_H
#include <stddef.h>
#include <stdarg.h>

struct arena;

struct arena *arena_new(size_t chunk_hint);
/* Frees every allocation and the arena; clears the caller's pointer. */
void arena_unref(struct arena **ap);
void *arena_alloc(struct arena *a, size_t n);      /* zeroed, 16-aligned */
void *arena_memdup(struct arena *a, const void *p, size_t n); /* adds NUL */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap);
/* Grows an array allocated from the arena (old memory stays until free). */
void *arena_grow(struct arena *a, void *old, size_t old_n, size_t new_n, size_t elem);
size_t arena_used(const struct arena *a);

#endif
