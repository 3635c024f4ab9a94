/* maildir.h: a Maildir++ mail store that Dovecot opens as it is.
 *
 * Layout (Dovecot's default "maildir" layout, what `mail_location =
 * maildir:~/Maildir` gives):
 *   <root>/{cur,new,tmp}            INBOX
 *   <root>/.<a>.<b>/{cur,new,tmp}   mailbox "a<sep>b", plus an empty
 *                                   `maildirfolder` file
 *   <root>/subscriptions            Dovecot's v2 subscriptions file
 *   <root>/maildirsize              Maildir++ quota, when someone created it
 *   <mailbox dir>/dovecot-keywords  keyword <-> letter a..z map
 * On disk the hierarchy separator is always '.', and each level is stored in
 * modified UTF-7 (RFC 3501 5.1.3): "Entwürfe" is ".Entw&APw-rfe".
 *
 * The separator the API (Sieve's fileinto) uses is a setting, because it is
 * one in Dovecot (the namespace's `separator`):
 *   '.'  Dovecot's default for maildir; "Lists.dovecot" -> ".Lists.dovecot";
 *        '/' is refused in names ("Name must not have '/' characters").
 *   '/'  the common `separator = /` configuration; "Lists/dovecot" ->
 *        ".Lists.dovecot"; '.' is refused in names (it would be a level).
 * Either way a child of INBOX is "INBOX<sep>x" -> ".INBOX.x", and a first
 * level spelled "inbox" in any case means INBOX, as in Dovecot.
 *
 * Delivery writes tmp/, fsyncs, moves the file into new/ (or into cur/ with
 * ":2,<flags>" when flags are given) without ever replacing an existing file,
 * and fsyncs the directory.  dovecot-uidlist and Dovecot's indexes are not
 * touched: Dovecot assigns UIDs when it next scans new/ and cur/ (Dovecot's
 * own LDA with maildir works the same way when it has no index yet).
 *
 * Memory: the handle, its error strings and the names it returns are
 * allocated from the arena given to maildir_open(); use a per-delivery or
 * per-session arena.  Bulk results (listings, message bodies) go to the arena
 * passed to that call.  A handle is not for concurrent use by two threads;
 * two handles on one Maildir (threads or processes) are fine. */
#ifndef TAMIS_MAILDIR_H
#define TAMIS_MAILDIR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "lib/arena.h"

struct maildir;

/* Why the last call failed; mapped by hosts to LMTP/LDA/ManageSieve
 * replies (same classes as Dovecot's enum mail_error). */
enum maildir_error {
	MAILDIR_ERROR_NONE = 0,
	MAILDIR_ERROR_TEMP,       /* I/O or lock trouble: try again later */
	MAILDIR_ERROR_PARAMS,     /* invalid mailbox name or argument */
	MAILDIR_ERROR_PERM,       /* permission denied */
	MAILDIR_ERROR_NOQUOTA,    /* over quota, or the disk is full */
	MAILDIR_ERROR_NOTFOUND,   /* no such mailbox / message */
	MAILDIR_ERROR_EXISTS,     /* mailbox already exists */
	MAILDIR_ERROR_NOTPOSSIBLE /* e.g. deleting INBOX */
};

/* IMAP system flags; same bit values as Dovecot's enum mail_flags.  In file
 * names: \Draft D, \Flagged F, \Answered R, \Seen S, \Deleted T.  Maildir's
 * 'P' (passed) has no IMAP flag: it is kept by Dovecot but never set here.
 * \Recent is not a stored flag (it means "still in new/"). */
enum maildir_flags {
	MAILDIR_FLAG_ANSWERED = 0x01,
	MAILDIR_FLAG_FLAGGED  = 0x02,
	MAILDIR_FLAG_DELETED  = 0x04,
	MAILDIR_FLAG_SEEN     = 0x08,
	MAILDIR_FLAG_DRAFT    = 0x10
};

/* Maildir keeps at most 26 keywords per mailbox in file names (a..z). */
#define MAILDIR_MAX_KEYWORDS 26
/* Longest mailbox name (UTF-8 bytes) and longest directory name on disk. */
#define MAILDIR_NAME_MAX 255

/* All-zero settings are the defaults. */
struct maildir_settings {
	char sep;                 /* '.' (default when 0) or '/' */
	bool create;              /* create root and cur/new/tmp when missing */
	bool no_fsync;            /* skip fsync (throw-away stores, tests) */
	bool no_subscribe;        /* don't subscribe mailboxes we create */
	bool ignore_quota;        /* don't refuse deliveries over maildirsize limits */
	const char *control_dir;  /* Dovecot's :CONTROL= (dovecot-keywords,
				     subscriptions, locks); NULL = in the mailboxes */
	const char *hostname;     /* for file names; NULL = gethostname() */
	unsigned int lock_timeout_secs;  /* waiting for Dovecot's dotlocks; 0 = 30 */
};

/* Opens the Maildir at root (INBOX's directory).  NULL on failure with
 * *error_r (allocated from arena) and the class in *kind_r when not NULL. */
struct maildir *maildir_open(struct arena *arena, const char *root,
			     const struct maildir_settings *set,
			     enum maildir_error *kind_r, const char **error_r);
/* Forgets the handle (its memory goes with the arena); clears *mdp. */
void maildir_close(struct maildir **mdp);

const char *maildir_root(const struct maildir *md);
char maildir_sep(const struct maildir *md);
/* The class of the last error reported on this handle. */
enum maildir_error maildir_last_error(const struct maildir *md);

/* Checks a UTF-8 mailbox name for hierarchy separator sep ('.' or '/').
 * Refuses: empty, longer than MAILDIR_NAME_MAX (as name or on disk), invalid
 * UTF-8, control characters, a leading/trailing/doubled separator, a leading
 * '~', and the character that would be read as a level on disk ('/' with
 * sep '.', '.' with sep '/').  What passes can only name a directory
 * ".<something without '/'>" directly under the root.  *error_r is a static
 * string. */
int maildir_mailbox_valid(const char *name, char sep, const char **error_r);

/* Directory name under the root ("" for INBOX, else ".Entw&APw-rfe.Sub"),
 * allocated from arena; NULL with *error_r when the name is invalid. */
const char *maildir_mailbox_dirname(struct arena *arena, const char *name,
				    char sep, const char **error_r);

/* 1 if the mailbox exists, 0 if not, -1 on error (invalid name included). */
int maildir_mailbox_exists(struct maildir *md, const char *name,
			   const char **error_r);
/* Creates the mailbox (cur/ new/ tmp/ and maildirfolder, made in tmp/ and
 * renamed into place so that it appears complete) and subscribes it unless
 * no_subscribe.  MAILDIR_ERROR_EXISTS if it already exists. */
int maildir_mailbox_create(struct maildir *md, const char *name,
			   const char **error_r);
/* Deletes a mailbox and its messages (not its children, not INBOX).  The
 * directory is first renamed out of sight so no reader sees half of it.
 * The subscription is kept, as IMAP DELETE does in Dovecot. */
int maildir_mailbox_delete(struct maildir *md, const char *name,
			   const char **error_r);
/* Adds (set) or removes the name in the subscriptions file, under Dovecot's
 * dotlock, replacing the file by rename. */
int maildir_mailbox_subscribe(struct maildir *md, const char *name, bool set,
			      const char **error_r);
/* All mailboxes that exist, INBOX first, then sorted by name (bytewise);
 * names in UTF-8 with this handle's separator.  Directories whose names do not
 * decode or would not be valid names are skipped. */
int maildir_mailbox_list(struct maildir *md, struct arena *arena,
			 const char ***names_r, size_t *n_r, const char **error_r);

/* Delivers data[0..len) into the mailbox, which must exist (INBOX always
 * does).  flags are IMAP flags ("\\Seen") and keywords ("$Junk"); an entry
 * may hold several separated by spaces; invalid ones and \Recent are
 * ignored, as are keywords beyond the mailbox's 26th.  The bytes are stored
 * as given (Dovecot stores LF line ends; convert before if that matters).
 * *filename_r (may be NULL) is the file's path relative to the mailbox
 * directory, "new/<name>" or "cur/<name>:2,<flags>", from the handle's arena.
 * MAILDIR_ERROR_NOTFOUND when the mailbox doesn't exist, NOQUOTA when a
 * maildirsize limit or the disk refuses it. */
int maildir_deliver(struct maildir *md, const char *mailbox,
		    const char *data, size_t len,
		    const char *const *flags, size_t nflags,
		    const char **filename_r, const char **error_r);

/* One message as listed by maildir_message_list(). */
struct maildir_message {
	const char *filename;     /* in new/ or cur/, info part included */
	bool in_new;              /* still in new/ (IMAP \Recent) */
	unsigned int flags;       /* enum maildir_flags */
	const char **keywords;    /* names from dovecot-keywords, letter order */
	size_t nkeywords;
	uint64_t size;            /* physical size */
	time_t mtime;             /* Maildir's INTERNALDATE */
};

/* The messages of a mailbox in delivery order (Dovecot's order for new
 * files: the time in the name, then its microseconds, then the name).
 * Names starting with '.' are skipped. */
int maildir_message_list(struct maildir *md, const char *mailbox,
			 struct arena *arena, struct maildir_message **msgs_r,
			 size_t *n_r, const char **error_r);
/* Reads a listed message (NUL-terminated copy in arena).  If Dovecot moved
 * it meanwhile (new/ -> cur/, flags changed) it is found by its base name. */
int maildir_message_read(struct maildir *md, const char *mailbox,
			 const struct maildir_message *msg, struct arena *arena,
			 const char **data_r, size_t *len_r, const char **error_r);
/* Message number index (0-based, delivery order) with its bytes;
 * MAILDIR_ERROR_NOTFOUND when there are not that many.  For the
 * testsuite's `test_message :folder "X" N`. */
int maildir_message_get(struct maildir *md, const char *mailbox, size_t index,
			struct arena *arena, struct maildir_message *msg_r,
			const char **data_r, size_t *len_r, const char **error_r);
/* The message's flags as IMAP strings, system flags first ("\\Seen"), then
 * keywords; for imap4flags' hasflag.  Returns the count. */
size_t maildir_message_flag_names(const struct maildir_message *msg,
				  struct arena *arena, const char ***names_r);

/* IMAP flag name -> MAILDIR_FLAG_* (case-insensitive), 0 if it is not a
 * storable system flag. */
unsigned int maildir_flag_from_name(const char *name);
/* A valid IMAP keyword (an atom, not starting with '\\'). */
bool maildir_keyword_valid(const char *name);

#endif
