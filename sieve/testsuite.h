/* testsuite.h: the vnd.dovecot.testsuite host interface.  `tamis testsuite`
 * runs Pigeonhole-style .svtest files: the extension's commands live in
 * sieve/ext/testsuite.c and keep their state in struct testsuite; the mail
 * store they use comes from the host (cli/testsuite.c, on a throw-away
 * Maildir), so the engine itself stays free of storage code. */
#ifndef TAMIS_TESTSUITE_H
#define TAMIS_TESTSUITE_H
#include "sieve/sieve.h"
#include <stdio.h>

struct testsuite_store {
	void *ctx;
	int (*store)(void *ctx, const char *mailbox, bool create, const struct message *msg,
		     const char *const *flags, size_t nflags, const char **error_r);
	int (*mailbox_exists)(void *ctx, const char *mailbox);
	int (*mailbox_create)(void *ctx, const char *mailbox, const char **error_r);
	int (*mailbox_delete)(void *ctx, const char *mailbox, const char **error_r);
	/* Message `index` (0-based, delivery order) of a folder, into arena. */
	int (*folder_message)(void *ctx, const char *mailbox, unsigned index, struct arena *a,
			      const char **data_r, size_t *len_r);
	/* Optional: that message's flags (system flags as "\\Seen", then
	   keywords), into arena; imap4flags' hasflag sees them. */
	int (*folder_message_flags)(void *ctx, const char *mailbox, unsigned index, struct arena *a,
				    const char ***flags_r, size_t *n_r);
};

/* Runs one .svtest file; prints Pigeonhole's per-block lines to out.
 * Returns the process exit status (0 when every block passed). */
int testsuite_run_file(const char *path, const struct testsuite_store *store,
		       const char *tmpdir, FILE *out);

#endif
