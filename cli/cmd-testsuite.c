/* cmd-testsuite.c: `tamis testsuite FILE.svtest`: runs a Pigeonhole-style
 * test file against a throw-away Maildir and a captured outbox, printing
 * Pigeonhole's per-block result lines. */
#include "cli/cli.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ftw.h>

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

int cli_testsuite(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tamis testsuite FILE.svtest\n");
		return 2;
	}
	const char *tmpbase = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof(tmpl), "%s/tamis-testsuite-XXXXXX", tmpbase != NULL ? tmpbase : "/tmp");
	if (mkdtemp(tmpl) == NULL) {
		perror("tamis: mkdtemp");
		return 1;
	}
	char mdir[4200];
	snprintf(mdir, sizeof(mdir), "%s/Maildir", tmpl);
	const char *err;
	struct cli_store *store = cli_store_open(mdir, '.', false, &err);
	if (store == NULL) {
		fprintf(stderr, "tamis: cannot create the test mail store: %s\n", err);
		nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		return 1;
	}
	struct testsuite_store ts;
	cli_store_testsuite(store, &ts);
	int ret = testsuite_run_file(argv[1], &ts, tmpl, stdout);
	fflush(stdout);
	cli_store_close(&store);
	nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return ret;
}
