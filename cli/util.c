/* util.c: small helpers shared by the CLI subcommands. */
#include "cli/cli.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_read_file(const char *path, struct strbuf *out, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (strbuf_read_fd(out, fd, max) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	if (out->data == NULL)
		strbuf_reserve(out, 0);
	return 0;
}

char *cli_script_name(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b != NULL ? b + 1 : path;
	char *s = strdup(b);
	char *dot = strrchr(s, '.');
	if (dot != NULL && dot != s && (strcmp(dot, ".sieve") == 0 || strcmp(dot, ".svtest") == 0))
		*dot = '\0';
	return s;
}

void cli_print_diags(const struct diag_list *d, FILE *f)
{
	for (size_t i = 0; i < d->count; i++) {
		char *s = diag_format(&d->items[i]);
		fprintf(f, "%s\n", s);
		free(s);
	}
	if (d->count < d->errors + d->warnings)
		fprintf(f, "(%zu more diagnostics not shown)\n", d->errors + d->warnings - d->count);
}

int cli_config_option(struct sieve_config *cfg, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (eq == NULL || eq == kv)
		return -1;
	char *k = strndup(kv, (size_t)(eq - kv));
	/* Accept Pigeonhole's "plugin/name=value" spelling too. */
	const char *key = strncmp(k, "plugin/", 7) == 0 ? k + 7 : k;
	sieve_config_set(cfg, key, eq + 1);
	free(k);
	return 0;
}

static int cli_include_load(void *ctx, bool global, const char *name, struct strbuf *src_r,
			    const char **path_r, const char **error_r)
{
	struct cli_include *ci = ctx;
	const char *loc = sieve_include_location(ci->cfg, global);
	char *home_sieve = NULL;
	if (loc == NULL && !global) {
		const char *home = getenv("HOME");
		struct stat st;
		if (home != NULL && asprintf(&home_sieve, "%s/sieve", home) >= 0 &&
		    stat(home_sieve, &st) == 0 && S_ISDIR(st.st_mode))
			loc = home_sieve;
		else
			loc = ci->script_dir;
	}
	free(ci->path);
	ci->path = NULL;
	int r = sieve_include_location_load(loc, name, src_r, &ci->path, error_r);
	*path_r = ci->path;
	free(home_sieve);
	return r;
}

void cli_include_init(struct cli_include *ci, struct sieve_host *h, const struct sieve_config *cfg,
		      const char *script_path)
{
	memset(ci, 0, sizeof(*ci));
	ci->cfg = cfg;
	const char *slash = strrchr(script_path, '/');
	ci->script_dir = slash != NULL ? strndup(script_path, (size_t)(slash - script_path)) : strdup(".");
	if (ci->script_dir != NULL && ci->script_dir[0] == '\0') {
		free(ci->script_dir);
		ci->script_dir = strdup("/");
	}
	if (ci->script_dir == NULL)
		abort();
	memset(h, 0, sizeof(*h));
	h->ctx = ci;
	h->include_load = cli_include_load;
}

void cli_include_free(struct cli_include *ci)
{
	free(ci->script_dir);
	free(ci->path);
	ci->script_dir = ci->path = NULL;
}
