/* diag.c: diagnostics list (see diag.h). */
#include "lib/diag.h"
#include "lib/strbuf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag_list *d)
{
	memset(d, 0, sizeof(*d));
	d->max_items = 1000;
}

void diag_clear(struct diag_list *d)
{
	for (size_t i = 0; i < d->count; i++) {
		free(d->items[i].script);
		free(d->items[i].msg);
	}
	d->count = d->errors = d->warnings = 0;
}

void diag_free(struct diag_list *d)
{
	diag_clear(d);
	free(d->items);
	d->items = NULL;
	d->cap = 0;
}

void diag_vadd(struct diag_list *d, enum diag_level lvl, const char *script,
	       int line, int col, const char *fmt, va_list ap)
{
	if (lvl == DIAG_ERROR)
		d->errors++;
	else if (lvl == DIAG_WARNING)
		d->warnings++;
	if (d->max_items != 0 && d->count >= d->max_items)
		return;
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag *n = realloc(d->items, cap * sizeof(*n));
		if (n == NULL)
			abort();
		d->items = n;
		d->cap = cap;
	}
	struct strbuf b = STRBUF_INIT;
	strbuf_vprintf(&b, fmt, ap);
	struct diag *g = &d->items[d->count++];
	g->level = lvl;
	g->script = script ? strdup(script) : NULL;
	g->line = line;
	g->col = col;
	g->msg = strbuf_detach(&b, NULL);
}

void diag_add(struct diag_list *d, enum diag_level lvl, const char *script,
	      int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, lvl, script, line, col, fmt, ap);
	va_end(ap);
}

char *diag_format(const struct diag *g)
{
	static const char *const names[] = { "error", "warning", "info" };
	struct strbuf b = STRBUF_INIT;
	if (g->script != NULL)
		strbuf_printf(&b, "%s:", g->script);
	if (g->line > 0)
		strbuf_printf(&b, "%d:%d:", g->line, g->col);
	if (b.len > 0)
		strbuf_putc(&b, ' ');
	strbuf_printf(&b, "%s: %s", names[g->level], g->msg);
	size_t n = strlen(g->msg);
	if (n == 0 || g->msg[n - 1] != '.')
		strbuf_putc(&b, '.');
	return strbuf_detach(&b, NULL);
}
