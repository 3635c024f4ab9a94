/* main.c: the `tamis` command: one binary, with subcommands for the engine
 * (compile, dump, test, testsuite) and, as they land, the servers. */
#include "cli/cli.h"
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: tamis <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  compile SCRIPT           compile SCRIPT to SCRIPT.tmsbin, or print every error\n"
	      "  dump SCRIPT|BINARY       disassemble a script or a compiled binary\n"
	      "  test [-f SENDER] [-r RCPT] [-a ORIG_RCPT] [-m MAILBOX] [-x EXTS] [-o KEY=VAL]\n"
	      "       [-e -l MAILDIR] SCRIPT MESSAGE\n"
	      "                           run SCRIPT on MESSAGE and print the actions\n"
	      "                           (Pigeonhole sieve-test's layout); -e executes them\n"
	      "  testsuite FILE.svtest    run a vnd.dovecot.testsuite file\n"
	      "  help                     this text\n"
	      "  --version                print the version\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("tamis %s\n", TAMIS_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "compile") == 0)
		return cli_compile(argc - 1, argv + 1);
	if (strcmp(cmd, "dump") == 0)
		return cli_dump(argc - 1, argv + 1);
	if (strcmp(cmd, "test") == 0)
		return cli_test(argc - 1, argv + 1);
	if (strcmp(cmd, "testsuite") == 0)
		return cli_testsuite(argc - 1, argv + 1);
	if (strcmp(cmd, "bench") == 0)   /* hidden: bench/run.py */
		return cli_bench(argc - 1, argv + 1);
	fprintf(stderr, "tamis: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
