/* util.c: small helpers shared by the CLI subcommands. */
#include "cli/cli.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_read_file(const char *path, struct strbuf *out, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char chunk[65536];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		strbuf_append(out, chunk, (size_t)r);
		if (out->len > max) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
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
