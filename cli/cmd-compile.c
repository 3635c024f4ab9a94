/* cmd-compile.c: `tamis compile` (script -> cached binary, or every error)
 * and `tamis dump` (disassembly with source lines). */
#include "cli/cli.h"
#include "sieve/engine.h"
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int parse_common(int argc, char **argv, struct sieve_config *cfg, bool *admin)
{
	int c;
	optind = 1;
	while ((c = getopt(argc, argv, "x:o:A")) != -1) {
		switch (c) {
		case 'x':
			sieve_config_set(cfg, "sieve_extensions", optarg);
			break;
		case 'o':
			if (cli_config_option(cfg, optarg) < 0) {
				fprintf(stderr, "tamis: -o expects KEY=VALUE\n");
				return -1;
			}
			break;
		case 'A':
			*admin = true;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

int cli_compile(int argc, char **argv)
{
	struct sieve_config *cfg = sieve_config_new();
	bool admin = false;
	if (parse_common(argc, argv, cfg, &admin) < 0 || optind >= argc) {
		fprintf(stderr, "usage: tamis compile [-x EXTS] [-o KEY=VALUE] [-A] SCRIPT [OUT]\n");
		sieve_config_unref(&cfg);
		return 2;
	}
	const char *path = argv[optind];
	const char *out = optind + 1 < argc ? argv[optind + 1] : NULL;
	struct strbuf src = STRBUF_INIT;
	int ret = 1;
	if (cli_read_file(path, &src, 64u << 20) < 0) {
		fprintf(stderr, "tamis: %s: %s\n", path, strerror(errno));
		goto done;
	}
	char *name = cli_script_name(path);
	struct sieve_compile_params p = { .script_name = name, .script_path = path, .cfg = cfg, .admin = admin,
					  .cli_tool = true };   /* as sievec: vnd.dovecot.debug is on */
	struct cli_include ci;
	struct sieve_host ihost;
	cli_include_init(&ci, &ihost, cfg, path);
	p.host = &ihost;
	struct diag_list d;
	diag_init(&d);
	d.max_items = 0;
	struct sieve_binary *b = sieve_compile(src.data, src.len, &p, &d);
	cli_include_free(&ci);
	cli_print_diags(&d, stderr);
	if (b != NULL) {
		char *bpath = out != NULL ? strdup(out) : sieve_binary_path_for(path);
		const char *err;
		if (sieve_binary_save(b, bpath, &err) < 0) {
			fprintf(stderr, "tamis: failed to write %s: %s\n", bpath, err);
		} else {
			ret = 0;
		}
		free(bpath);
		sieve_binary_unref(&b);
	}
	diag_free(&d);
	free(name);
done:
	strbuf_free(&src);
	sieve_config_unref(&cfg);
	return ret;
}

int cli_dump(int argc, char **argv)
{
	struct sieve_config *cfg = sieve_config_new();
	bool admin = false;
	if (parse_common(argc, argv, cfg, &admin) < 0 || optind >= argc) {
		fprintf(stderr, "usage: tamis dump [-x EXTS] SCRIPT|BINARY\n");
		sieve_config_unref(&cfg);
		return 2;
	}
	const char *path = argv[optind];
	struct strbuf src = STRBUF_INIT;
	int ret = 1;
	struct sieve_binary *b = NULL;
	if (cli_read_file(path, &src, 256u << 20) < 0) {
		fprintf(stderr, "tamis: %s: %s\n", path, strerror(errno));
		goto done;
	}
	uint32_t magic = 0;
	if (src.len >= 4)
		memcpy(&magic, src.data, 4);
	if (magic == SIEVE_BIN_MAGIC) {
		const char *err;
		b = sieve_binary_load(src.data, src.len, &err);
		if (b == NULL) {
			fprintf(stderr, "tamis: %s: %s\n", path, err);
			goto done;
		}
	} else {
		char *name = cli_script_name(path);
		struct sieve_compile_params p = { .script_name = name, .script_path = path, .cfg = cfg, .admin = admin,
					  .cli_tool = true };   /* as sievec: vnd.dovecot.debug is on */
		struct cli_include ci;
		struct sieve_host ihost;
		cli_include_init(&ci, &ihost, cfg, path);
		p.host = &ihost;
		struct diag_list d;
		diag_init(&d);
		b = sieve_compile(src.data, src.len, &p, &d);
		cli_include_free(&ci);
		cli_print_diags(&d, stderr);
		diag_free(&d);
		free(name);
		if (b == NULL)
			goto done;
	}
	struct strbuf out = STRBUF_INIT;
	sieve_binary_dump(b, &out);
	fwrite(out.data, 1, out.len, stdout);
	strbuf_free(&out);
	ret = 0;
done:
	sieve_binary_unref(&b);
	strbuf_free(&src);
	sieve_config_unref(&cfg);
	return ret;
}
