/* extprograms.h: running one external program for the vnd.dovecot.pipe,
 * vnd.dovecot.filter and vnd.dovecot.execute extensions (Pigeonhole's
 * sieve_extprograms plugin).  The runner is the only place in Tamis that
 * starts a process on behalf of a script, so it carries the whole security
 * policy:
 *
 *  - a program is looked up only in the directory the administrator set
 *    (sieve_<ext>_bin_dir); its name is a single path component (no '/',
 *    not "." or "..", no control characters, at most 128 characters), so a
 *    script cannot name anything outside that directory.  Symbolic links
 *    inside the directory are followed: placing them there is how an
 *    administrator exposes a system tool (rspamc, spamc), and only the
 *    administrator can write there.  A world-writable directory or program
 *    file is refused, since anyone could then plant or change a program.
 *  - it is started with fork + execve, never through a shell: the script's
 *    arguments reach the program as argv entries, byte for byte, bounded in
 *    count and length.
 *  - its environment is a fixed list built by the caller (PATH plus the
 *    variables Pigeonhole passes), never the host's environment.
 *  - it runs in its own process group with default signal handling, stdin,
 *    stdout and stderr on pipes (or /dev/null), every other descriptor
 *    closed.  One poll() loop feeds stdin while draining stdout and stderr,
 *    so a program that writes before reading all its input cannot deadlock
 *    us.
 *  - a wall-clock timeout kills the whole process group with SIGKILL and
 *    reaps the program; output beyond a limit is either an error (filter:
 *    the program is killed) or discarded (execute); stderr keeps only its
 *    first EXTPROG_STDERR_MAX bytes. */
#ifndef TAMIS_EXTPROGRAMS_H
#define TAMIS_EXTPROGRAMS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXTPROG_MAX_NAME_CHARS 128      /* as Pigeonhole */
#define EXTPROG_MAX_ARG_LEN    1024     /* bytes per argument, as Pigeonhole */
#define EXTPROG_MAX_ARGS       64       /* Tamis: arguments per program */
#define EXTPROG_STDERR_MAX     4096     /* bytes of stderr kept for the log */
/* A timeout of 0 means "none" in Pigeonhole; Tamis still stops a program
   after this long so that a delivery can never hang forever. */
#define EXTPROG_MAX_TIMEOUT_MS (3600ull * 1000)

enum extprog_eol { EXTPROG_EOL_CRLF, EXTPROG_EOL_LF };

/* Pigeonhole's rules for a program name (see above), on raw bytes. */
bool extprog_name_valid(const char *name, size_t len);
/* An argument: no CR or LF, at most EXTPROG_MAX_ARG_LEN bytes, no NUL. */
bool extprog_arg_valid(const char *arg, size_t len);

enum extprog_status {
	EXTPROG_OK = 1,          /* ran and exited with status 0 */
	EXTPROG_FALSE = 0,       /* ran and exited with another status */
	EXTPROG_NOT_FOUND = -1,  /* no such program in the directory */
	EXTPROG_ERROR = -2,      /* not run, or timed out, killed, too much output */
};

struct extprog_request {
	const char *bin_dir;          /* the administrator's directory */
	const char *name;             /* program name (validated again here) */
	const char *const *args;      /* argv[1..] */
	size_t nargs;
	const char *const *env;       /* "KEY=VALUE" entries, the whole environment */
	size_t nenv;
	const char *input;            /* stdin contents; NULL: stdin is /dev/null */
	size_t input_len;
	bool want_output;             /* false: stdout is /dev/null */
	size_t max_output;            /* bytes of stdout kept */
	bool overflow_fails;          /* more stdout than max_output: kill, EXTPROG_ERROR */
	uint64_t timeout_ms;          /* 0: EXTPROG_MAX_TIMEOUT_MS */
};

struct extprog_result {
	enum extprog_status status;
	int exit_code;                /* EXTPROG_OK / EXTPROG_FALSE */
	bool timed_out;
	char *output;                 /* malloc'd, NUL-terminated; NULL without want_output */
	size_t output_len;
	bool output_truncated;        /* execute: output beyond max_output was dropped */
	char *errout;                 /* malloc'd, NUL-terminated stderr head, may be NULL */
	size_t errout_len;
	char error[320];              /* why, for EXTPROG_NOT_FOUND / EXTPROG_ERROR */
};

/* Runs the program to completion (or timeout).  Returns res->status. */
enum extprog_status extprog_run(const struct extprog_request *req, struct extprog_result *res);
void extprog_result_free(struct extprog_result *res);

/* Line ends of the program's input, as sieve_<ext>_input_eol: CRLF turns a
 * bare LF into CRLF, LF turns CRLF into LF.  Returns a malloc'd buffer. */
char *extprog_convert_eol(const char *in, size_t len, enum extprog_eol eol, size_t *len_r);

#endif
