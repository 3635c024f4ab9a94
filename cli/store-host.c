/* store-host.c: a Maildir-backed store for the CLI's hosts (`tamis test -e`
 * and the testsuite). */
#include "cli/cli.h"
#include "storage/maildir.h"
#include <stdlib.h>
#include <string.h>

struct cli_store {
	struct arena *arena;
	struct maildir *md;
};

struct cli_store *cli_store_open(const char *root, char sep, bool fsync, const char **error_r)
{
	struct cli_store *s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort();
	s->arena = arena_new(8192);
	struct maildir_settings set;
	memset(&set, 0, sizeof(set));
	set.sep = sep;
	set.create = true;
	set.no_fsync = !fsync;
	enum maildir_error kind;
	s->md = maildir_open(s->arena, root, &set, &kind, error_r);
	if (s->md == NULL) {
		arena_unref(&s->arena);
		free(s);
		return NULL;
	}
	return s;
}

void cli_store_close(struct cli_store **sp)
{
	struct cli_store *s = *sp;
	if (s == NULL)
		return;
	*sp = NULL;
	maildir_close(&s->md);
	arena_unref(&s->arena);
	free(s);
}

int cli_store_deliver(void *ctx, const char *mailbox, bool create, const struct message *msg,
		      const char *const *flags, size_t nflags, const char **error_r)
{
	struct cli_store *s = ctx;
	/* Only :create makes a missing mailbox (RFC 5490 section 3.2); without
	   it the store fails and the engine falls back to keep, as Dovecot's
	   default lda_mailbox_autocreate=no does. */
	if (create) {
		const char *err;
		if (maildir_mailbox_exists(s->md, mailbox, &err) == 0 &&
		    maildir_mailbox_create(s->md, mailbox, error_r) < 0)
			return -1;
	}
	const char *fn;
	return maildir_deliver(s->md, mailbox, msg->data, msg->size, flags, nflags, &fn, error_r);
}

int cli_store_exists(void *ctx, const char *mailbox)
{
	struct cli_store *s = ctx;
	const char *err;
	return maildir_mailbox_exists(s->md, mailbox, &err);
}

static int store_create(void *ctx, const char *mailbox, const char **error_r)
{
	struct cli_store *s = ctx;
	return maildir_mailbox_create(s->md, mailbox, error_r);
}

static int store_delete(void *ctx, const char *mailbox, const char **error_r)
{
	struct cli_store *s = ctx;
	return maildir_mailbox_delete(s->md, mailbox, error_r);
}

static int store_folder_message(void *ctx, const char *mailbox, unsigned index, struct arena *a,
				const char **data_r, size_t *len_r)
{
	struct cli_store *s = ctx;
	struct maildir_message m;
	const char *err;
	return maildir_message_get(s->md, mailbox, index, a, &m, data_r, len_r, &err);
}

static int store_folder_message_flags(void *ctx, const char *mailbox, unsigned index, struct arena *a,
				      const char ***flags_r, size_t *n_r)
{
	struct cli_store *s = ctx;
	struct maildir_message m;
	const char *err, *data;
	size_t len;
	if (maildir_message_get(s->md, mailbox, index, a, &m, &data, &len, &err) < 0)
		return -1;
	*n_r = maildir_message_flag_names(&m, a, flags_r);
	return 0;
}

void cli_store_testsuite(struct cli_store *s, struct testsuite_store *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->ctx = s;
	ts->store = cli_store_deliver;
	ts->mailbox_exists = cli_store_exists;
	ts->mailbox_create = store_create;
	ts->mailbox_delete = store_delete;
	ts->folder_message = store_folder_message;
	ts->folder_message_flags = store_folder_message_flags;
}
