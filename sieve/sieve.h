/* sieve.h: the Sieve engine's public surface (see docs/ARCHITECTURE.md).
 *
 *   sieve_compile()  script text -> binary image, or every error
 *   sieve_binary_load()  bytes -> verified binary, or an error
 *   sieve_run()      binary + message + envelope -> result (actions collected)
 *   sieve_result_execute()  performs the result through the host
 *
 * The engine knows nothing of sockets, Maildir or SMTP: a host (struct
 * sieve_host) stores, sends and answers questions for it. */
#ifndef TAMIS_SIEVE_H
#define TAMIS_SIEVE_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <time.h>
#include "lib/arena.h"
#include "lib/diag.h"
#include "lib/strbuf.h"
#include "sieve/message.h"

struct sieve_binary;
struct sieve_result;
struct sieve_runtime;
struct sieve_config;
struct sieve_extension_def;

/* Execution status, as Pigeonhole's (sieve-types.h): >0 ok. */
enum sieve_status {
	SIEVE_OK = 1,
	SIEVE_FAILURE = 0,
	SIEVE_TEMP_FAILURE = -1,
	SIEVE_BIN_CORRUPT = -2,
	SIEVE_KEEP_FAILED = -3,
	SIEVE_RESOURCE_LIMIT = -4,
};

/* ---- configuration: key = value settings with Pigeonhole's names ---- */
struct sieve_config *sieve_config_new(void);
void sieve_config_unref(struct sieve_config **cfg);
struct sieve_config *sieve_config_clone(const struct sieve_config *cfg);
void sieve_config_set(struct sieve_config *cfg, const char *key, const char *value);
void sieve_config_unset(struct sieve_config *cfg, const char *key);
const char *sieve_config_get(const struct sieve_config *cfg, const char *key);
/* Typed getters with defaults; sizes accept k/M/G, durations s/m/h/d. */
uint64_t sieve_config_uint(const struct sieve_config *cfg, const char *key, uint64_t def);
uint64_t sieve_config_duration(const struct sieve_config *cfg, const char *key, uint64_t def_secs);
bool sieve_config_bool(const struct sieve_config *cfg, const char *key, bool def);

/* ---- the envelope ---- */
struct sieve_envelope {
	const char *from;        /* reverse-path without <>; "" = null sender; NULL = unknown */
	const char *to;          /* final recipient */
	const char *orig_to;     /* original recipient (ORCPT) */
	const char *auth;        /* authenticated user, may be NULL */
	/* RFC 3461 DSN parameters of this delivery (envelope-dsn), NULL when
	   absent: NOTIFY ("NEVER" or a list such as "SUCCESS,DELAY"), ORCPT
	   as "addr-type;address" (xtext decoded), RET ("FULL"/"HDRS"), ENVID
	   (xtext decoded). */
	const char *dsn_notify, *dsn_orcpt, *dsn_ret, *dsn_envid;
	/* RFC 2852 BY parameter (envelope-deliverby): the deadline, 0 = none;
	   mode 'N' (notify) or 'R' (return); the trace flag. */
	time_t by_deadline;
	char by_mode;
	bool by_trace;
};

/* ---- the host ---- */
struct sieve_outgoing {
	const char *env_from;          /* "" = null sender */
	const char *const *rcpts;
	size_t nrcpts;
	const char *data;              /* the whole message */
	size_t len;
	/* Delivery options for the MTA (redirect-dsn, redirect-deliverby);
	   NULL = none. */
	const struct sieve_send_options *opts;
};

/* The SMTP DSN (RFC 3461) and BY (RFC 2852) parameters a script asked for
 * with redirect :notify/:ret/:bytime...  (RFC 6009). */
struct sieve_send_options {
	const char *dsn_notify;        /* "NEVER" or e.g. "SUCCESS,FAILURE"; NULL = MTA default */
	const char *dsn_ret;           /* "FULL" / "HDRS"; NULL = MTA default */
	time_t by_deadline;            /* 0 = no BY; BY's time is this minus the send time */
	char by_mode;                  /* 'N' (notify) or 'R' (return) */
	bool by_trace;
};

struct sieve_host {
	void *ctx;
	/* Store the message into mailbox (UTF-8 name).  flags may be empty. */
	int (*store)(void *ctx, const char *mailbox, bool create,
		     const struct message *msg, const char *const *flags, size_t nflags,
		     const char **error_r);
	int (*mailbox_exists)(void *ctx, const char *mailbox);   /* 1, 0, -1 */
	/* Hand an outgoing message to the outbox / MTA. */
	int (*send)(void *ctx, const struct sieve_outgoing *out, const char **error_r);
	/* Duplicate tracking (vacation, redirect loop, duplicate ext). */
	int (*duplicate_check)(void *ctx, const void *key, size_t keylen);
	void (*duplicate_mark)(void *ctx, const void *key, size_t keylen, time_t until);
	/* Loads an included script's source (:personal or :global location)
	   into src_r: 1 when found (*path_r, kept until the next call, names
	   it), 0 when it does not exist (or the location is not configured),
	   -2 when the location is unavailable (e.g. its folder is missing),
	   -1 on any other error (*error_r).  sieve_include_location_load()
	   reads Pigeonhole-style locations for hosts. */
	int (*include_load)(void *ctx, bool global, const char *name,
			    struct strbuf *src_r, const char **path_r, const char **error_r);
	/* Log a line for the user / admin. */
	void (*log)(void *ctx, enum diag_level lvl, const char *msg);
	/* IMAP METADATA (RFC 5464) for mboxmetadata/servermetadata (RFC 5490):
	   the value of `entry` ("/private/..." or "/shared/...", already
	   validated) on `mailbox`, or a server annotation when mailbox is NULL.
	   Returns 1 with *value_r (allocated from a), 0 when not set, -1 on
	   error (*error_r).  May be NULL: no annotation exists then. */
	int (*metadata_get)(void *ctx, const char *mailbox, const char *entry, struct arena *a,
			    const char **value_r, const char **error_r);
	time_t (*now)(void *ctx);
	/* mailboxid (RFC 9042): the name of the mailbox whose object id
	   (RFC 8474 MAILBOXID) is id, allocated from a; NULL when no mailbox
	   has it.  May be NULL: no mailbox has an id then. */
	const char *(*mailbox_by_id)(void *ctx, const char *id, struct arena *a);
	/* special-use (RFC 8579) and fcc's :specialuse (RFC 8580): the name
	   of the mailbox carrying the special-use attribute flag (RFC 6154,
	   e.g. \Sent; attributes compare case-insensitively), allocated
	   from a; NULL when no mailbox has it.  May be NULL: no mailbox has
	   an attribute then, and :specialuse always falls back to the named
	   mailbox. */
	const char *(*mailbox_by_special_use)(void *ctx, const char *flag, struct arena *a);
};

/* ---- compile ---- */
struct sieve_compile_params {
	const char *script_name;       /* used in messages ("script" for script.sieve) */
	const char *script_path;       /* recorded in the binary; may be NULL */
	const struct sieve_config *cfg;
	bool admin;                    /* global/admin script: sieve_global_extensions apply */
	bool testsuite;                /* enable vnd.dovecot.testsuite */
	bool cli_tool;                 /* a command-line tool like sieve-test: vnd.dovecot.debug is on */
	const struct sieve_host *host; /* for include; may be NULL */
	const char *testsuite_dir;     /* ${tst.path} and relative includes */
	/* A script being uploaded (ManageSieve PUTSCRIPT/CHECKSCRIPT), not
	   run: a missing included script or a circular include is only a
	   warning then, as in Pigeonhole (include :optional semantics). */
	bool uploaded;
};

/* Compiles src.  On success returns the binary; on failure NULL, with every
 * error in diags.  Warnings may be present either way. */
struct sieve_binary *sieve_compile(const char *src, size_t len,
				   const struct sieve_compile_params *p,
				   struct diag_list *diags);

/* ---- binaries ---- */
/* The serialized image (owned by the binary). */
const unsigned char *sieve_binary_image(const struct sieve_binary *b, size_t *len_r);
/* Loads and verifies an image (copied).  NULL with *error_r on any
 * corruption, truncation, version or extension mismatch. */
struct sieve_binary *sieve_binary_load(const void *data, size_t len, const char **error_r);
void sieve_binary_unref(struct sieve_binary **b);
struct sieve_binary *sieve_binary_ref(struct sieve_binary *b);
/* Writes atomically: temp file in the same folder, fsync, rename, fsync of
 * the folder. */
int sieve_binary_save(const struct sieve_binary *b, const char *path, const char **error_r);
/* Reads a file written by sieve_binary_save. */
struct sieve_binary *sieve_binary_read(const char *path, const char **error_r);
/* Disassembly with source lines. */
void sieve_binary_dump(const struct sieve_binary *b, struct strbuf *out);
const char *sieve_binary_script_name(const struct sieve_binary *b);
/* Compiles path, reusing path's cached binary (path with .sieve replaced
 * by .tmsbin) while it is newer and valid; writes the cache when it can. */
struct sieve_binary *sieve_open_script(const char *path, const struct sieve_compile_params *p,
				       struct diag_list *diags, bool *from_cache_r);
char *sieve_binary_path_for(const char *script_path);   /* malloc'd */

/* ---- results ---- */
struct sieve_result *sieve_result_new(void);
void sieve_result_unref(struct sieve_result **r);
void sieve_result_reset(struct sieve_result *r);
/* sieve-test's listing: "Performed actions:" / "Implicit keep:". */
void sieve_result_print(struct sieve_result *r, struct strbuf *out, const char *default_mailbox);
size_t sieve_result_action_count(const struct sieve_result *r);
const char *sieve_result_action_name(const struct sieve_result *r, size_t i);
bool sieve_result_implicit_keep(const struct sieve_result *r);

/* ---- running ---- */
struct sieve_run_params {
	const struct sieve_config *cfg;
	struct message *msg;
	const struct sieve_envelope *env;
	const struct sieve_host *host;
	const char *default_mailbox;   /* "INBOX" when NULL */
	const char *username;
	void *testsuite;               /* testsuite context, NULL outside it */
	const char *testsuite_dir;     /* ${tst.path} */
	/* The message's current flags, when it already sits in a mailbox
	   (IMAPSIEVE, the testsuite's test_message :folder): imap4flags'
	   internal variable starts with them.  System flags as "\\Seen". */
	const char *const *mail_flags;
	size_t mail_nflags;
	/* The environment extension's "location" ("MDA" when NULL, "MS",
	   "MTA", "MUA") and "phase" ("during" when NULL, "pre", "post"). */
	const char *env_location;
	const char *env_phase;
};

/* Runs the binary, adding actions to result.  Returns a sieve_status; on
 * failure the errors are in diags (runtime errors) and the caller falls
 * back to keep through sieve_result_execute(). */
int sieve_run(struct sieve_binary *b, const struct sieve_run_params *p,
	      struct sieve_result *result, struct diag_list *diags);

/* Executes the result through the host: stores first, then outgoing mail;
 * implicit keep (or keep after failure) last.  Returns a sieve_status. */
int sieve_result_execute(struct sieve_result *r, const struct sieve_run_params *p,
			 struct diag_list *diags, bool *keep_done_r);

/* Extension listing for capability strings ("fileinto reject ..."). */
void sieve_capabilities(const struct sieve_config *cfg, struct strbuf *out);

/* ---- include: script locations (sieve/ext/include.c) ---- */
/* Reads script `name` from a Pigeonhole-style location: "[file:]DIR[;...]"
 * (DIR/name.sieve; "~/" is $HOME) or "dict:file:PATH" (a Dovecot file
 * dict: priv/sieve/name/NAME -> id, priv/sieve/data/ID -> source).
 * Returns 1 (found; *path_r malloc'd), 0 (no such script, or no location
 * given), -2 (the location does not exist), -1 on a read error (*error_r:
 * static text). */
int sieve_include_location_load(const char *location, const char *name, struct strbuf *src_r,
				char **path_r, const char **error_r);
/* The location for :personal (global false) or :global includes from the
 * settings: "sieve_global" / "sieve_global_dir" for global scripts,
 * "sieve_dir" / "sieve" for personal ones (NULL when unset). */
const char *sieve_include_location(const struct sieve_config *cfg, bool global);

/* ---- multiscript: sieve_before, the user script, sieve_after ---- */
/* As Pigeonhole's sieve_multiscript_*: the scripts of a sequence share one
 * result.  After each script its actions are executed (or, with test_out,
 * printed as sieve-test -s does); the next script runs only while keep is
 * in effect (an explicit keep in a non-final script means "continue"); a
 * failure ends the sequence and the message is kept.  The final implicit
 * keep is stored once, by sieve_multiscript_finish(). */
struct sieve_multiscript;
struct sieve_multiscript *sieve_multiscript_start(const struct sieve_run_params *p,
						  struct strbuf *test_out);
/* Runs the next script; returns true while the sequence goes on. */
bool sieve_multiscript_run(struct sieve_multiscript *ms, struct sieve_binary *b,
			   struct diag_list *diags);
/* Status so far (a sieve_status). */
int sieve_multiscript_status(const struct sieve_multiscript *ms);
/* True when the sequence ended with the message discarded (no delivery):
 * a sieve_discard script may run then, through sieve_multiscript_run_discard. */
bool sieve_multiscript_will_discard(const struct sieve_multiscript *ms);
void sieve_multiscript_run_discard(struct sieve_multiscript *ms, struct sieve_binary *b,
				   struct diag_list *diags);
/* The result shared by the sequence (e.g. for test_result_action). */
struct sieve_result *sieve_multiscript_result(struct sieve_multiscript *ms);
/* Ends the sequence: performs the implicit keep when it is still in effect
 * (not in test mode) and frees ms.  status: the caller's own (SIEVE_OK, or
 * a failure that forces the keep).  Returns the final sieve_status. */
int sieve_multiscript_finish(struct sieve_multiscript **ms, struct diag_list *diags, int status,
			     bool *keep_done_r);

#endif
