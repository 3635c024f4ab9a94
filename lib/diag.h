/* diag.h: a list of diagnostics (errors, warnings, info) with their
 * location.  The compiler reports every error here instead of stopping at the
 * first; ManageSieve, `tamis compile` and the testsuite's test_error read it. */
#ifndef TAMIS_DIAG_H
#define TAMIS_DIAG_H
#include <stddef.h>
#include <stdarg.h>

enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_INFO };

struct diag {
	enum diag_level level;
	char *script;     /* script name (basename without .sieve), may be NULL */
	int line, col;    /* 0 when unknown */
	char *msg;        /* the message, without location or trailing '.' */
};

struct diag_list {
	struct diag *items;
	size_t count, cap;
	size_t errors, warnings;
	size_t max_items;   /* further diagnostics are counted but not stored */
};

void diag_init(struct diag_list *d);
void diag_clear(struct diag_list *d);
void diag_free(struct diag_list *d);
void diag_add(struct diag_list *d, enum diag_level lvl, const char *script,
	      int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void diag_vadd(struct diag_list *d, enum diag_level lvl, const char *script,
	       int line, int col, const char *fmt, va_list ap);
/* "script:line:col: error: msg" */
char *diag_format(const struct diag *g);   /* malloc'd */

#endif
