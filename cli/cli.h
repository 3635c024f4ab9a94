/* cli.h: the `tamis` command's subcommands and the helpers they share. */
#ifndef TAMIS_CLI_H
#define TAMIS_CLI_H
#include "lib/strbuf.h"
#include "sieve/sieve.h"
#include "sieve/testsuite.h"

#define TAMIS_VERSION "0.1.0"

int cli_compile(int argc, char **argv);
int cli_dump(int argc, char **argv);
int cli_test(int argc, char **argv);
int cli_testsuite(int argc, char **argv);
/* Hidden: in-process compile and run throughput for bench/run.py. */
int cli_bench(int argc, char **argv);

/* Reads a whole file (bounded); -1 with errno on failure. */
int cli_read_file(const char *path, struct strbuf *out, size_t max);
/* "dir/name.sieve" -> "name" (malloc'd). */
char *cli_script_name(const char *path);
void cli_print_diags(const struct diag_list *d, FILE *f);
/* include's script locations for the CLI, as sieve-test finds them:
 * :personal from the settings (sieve, sieve_dir), else ~/sieve when that
 * folder exists, else the folder of the main script; :global from
 * sieve_global / sieve_global_dir.  cli_include_init fills h (a compile
 * host: only include_load) with ci as its context. */
struct cli_include {
	const struct sieve_config *cfg;
	char *script_dir;
	char *path;                  /* last script found */
};
void cli_include_init(struct cli_include *ci, struct sieve_host *h, const struct sieve_config *cfg,
		      const char *script_path);
void cli_include_free(struct cli_include *ci);
/* Parses "-x ext,ext" style and "-o key=value" into cfg. */
int cli_config_option(struct sieve_config *cfg, const char *kv);

/* A Maildir-backed store for `tamis test -e` and `tamis testsuite`. */
struct cli_store;
struct cli_store *cli_store_open(const char *root, char sep, bool fsync, const char **error_r);
void cli_store_close(struct cli_store **s);
/* Fills a testsuite_store / the store part of a sieve_host. */
void cli_store_testsuite(struct cli_store *s, struct testsuite_store *ts);
int cli_store_deliver(void *ctx, const char *mailbox, bool create, const struct message *msg,
		      const char *const *flags, size_t nflags, const char **error_r);
int cli_store_exists(void *ctx, const char *mailbox);

#endif
