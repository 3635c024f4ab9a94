/* cmd-test.c: `tamis test`, the counterpart of Pigeonhole's sieve-test: runs
 * a script on a message and prints the actions in sieve-test's exact layout
 * (so the two can be diffed), or with -e executes them into a Maildir.
 * Outgoing mail is never sent from here: with -e it is printed. */
#include "cli/cli.h"
#include "sieve/engine.h"
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int print_send(void *ctx, const struct sieve_outgoing *o, const char **error_r)
{
	for (size_t i = 0; i < o->nrcpts; i++)
		printf("\nRECIPIENT: %s\n", o->rcpts[i]);
	printf("START MESSAGE:\n%.*sEND MESSAGE\n", (int)o->len, o->data);
	return 0;
}

static time_t host_now(void *ctx)
{
	return time(NULL);
}

static const char *first_addr(struct arena *a, struct message *m, const char *const *names)
{
	for (; *names; names++) {
		const char **vals;
		if (msg_header_values(m, *names, false, &vals) == 0)
			continue;
		struct msg_address *ad;
		size_t n;
		(void)msg_parse_address_list(a, vals[0], &ad, &n);
		if (n > 0 && ad[0].local != NULL)
			return ad[0].domain != NULL ? arena_printf(a, "%s@%s", ad[0].local, ad[0].domain) : ad[0].local;
	}
	return NULL;
}

int cli_test(int argc, char **argv)
{
	struct sieve_config *cfg = sieve_config_new();
	const char *from = NULL, *to = NULL, *orig_to = NULL, *mailbox = NULL, *maildir = NULL;
	bool execute = false;
	int c, ret = 2;
	optind = 1;
	while ((c = getopt(argc, argv, "f:r:a:m:x:o:el:c:CD")) != -1) {
		switch (c) {
		case 'f': from = optarg; break;
		case 'r': to = optarg; break;
		case 'a': orig_to = optarg; break;
		case 'm': mailbox = optarg; break;
		case 'x': sieve_config_set(cfg, "sieve_extensions", optarg); break;
		case 'o':
			if (cli_config_option(cfg, optarg) < 0) {
				fprintf(stderr, "tamis: -o expects KEY=VALUE\n");
				goto out_cfg;
			}
			break;
		case 'e': execute = true; break;
		case 'l': maildir = optarg; break;
		case 'c': case 'C': case 'D': break;  /* sieve-test compatibility */
		default: goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	if (execute && maildir == NULL) {
		fprintf(stderr, "tamis test: -e needs -l MAILDIR\n");
		goto out_cfg;
	}
	const char *script_path = argv[optind], *msg_path = argv[optind + 1];
	struct strbuf src = STRBUF_INIT, msgdata = STRBUF_INIT;
	ret = 1;
	if (cli_read_file(script_path, &src, 64u << 20) < 0) {
		fprintf(stderr, "tamis: %s: %s\n", script_path, strerror(errno));
		goto out_bufs;
	}
	if (cli_read_file(msg_path, &msgdata, 1024u << 20) < 0) {
		fprintf(stderr, "tamis: %s: %s\n", msg_path, strerror(errno));
		ret = 2;
		goto out_bufs;
	}
	char *name = cli_script_name(script_path);
	struct diag_list d;
	diag_init(&d);
	struct sieve_compile_params p = { .script_name = name, .script_path = script_path, .cfg = cfg };
	struct sieve_binary *b = sieve_compile(src.data, src.len, &p, &d);
	if (b == NULL) {
		cli_print_diags(&d, stderr);
		fprintf(stderr, "tamis: failed to compile sieve script\n");
		goto out_name;
	}
	struct arena *ma = arena_new(16384);
	struct message *msg = msg_parse(ma, msgdata.data, msgdata.len);
	static const char *const rcpt_hdrs[] = { "envelope-to", "to", NULL };
	static const char *const sender_hdrs[] = { "return-path", "sender", "from", NULL };
	struct sieve_envelope env = { 0 };
	env.from = from != NULL ? from : first_addr(ma, msg, sender_hdrs);
	if (env.from == NULL)
		env.from = "sender@example.com";
	env.to = to != NULL ? to : first_addr(ma, msg, rcpt_hdrs);
	if (env.to == NULL)
		env.to = "recipient@example.com";
	env.orig_to = orig_to != NULL ? orig_to : env.to;

	struct cli_store *store = NULL;
	struct sieve_host host = { 0 };
	host.send = print_send;
	host.now = host_now;
	if (execute) {
		const char *err;
		store = cli_store_open(maildir, '.', true, &err);
		if (store == NULL) {
			fprintf(stderr, "tamis: cannot open Maildir %s: %s\n", maildir, err);
			goto out_msg;
		}
		host.ctx = store;
		host.store = cli_store_deliver;
		host.mailbox_exists = cli_store_exists;
	}
	struct sieve_run_params rp = {
		.cfg = cfg, .msg = msg, .env = &env, .host = &host, .default_mailbox = mailbox,
	};
	struct sieve_result *r = sieve_result_new();
	int st = sieve_run(b, &rp, r, &d);
	cli_print_diags(&d, stderr);
	if (st <= 0) {
		/* As sieve-test: a runtime error prints no result; the message
		   would be kept. */
		if (execute) {
			sieve_result_reset(r);
			bool keep;
			(void)sieve_result_execute(r, &rp, &d, &keep);
		}
		fprintf(stderr, "tamis: final result: failed; resolved with successful implicit keep\n");
		ret = 1;
	} else {
		struct strbuf out = STRBUF_INIT;
		sieve_result_print(r, &out, mailbox);
		fwrite(out.data, 1, out.len, stdout);
		strbuf_free(&out);
		ret = 0;
		if (execute) {
			bool keep;
			diag_clear(&d);
			int es = sieve_result_execute(r, &rp, &d, &keep);
			cli_print_diags(&d, stderr);
			if (es <= 0) {
				fprintf(stderr, "tamis: final result: %s\n",
					es == SIEVE_KEEP_FAILED ? "utter failure" : "failed; resolved with successful implicit keep");
				ret = es == SIEVE_KEEP_FAILED ? 75 : 1;
			}
		}
		if (ret == 0)
			fprintf(stderr, "tamis: final result: success\n");
	}
	fflush(stdout);
	sieve_result_unref(&r);
	cli_store_close(&store);
out_msg:
	arena_unref(&ma);
	sieve_binary_unref(&b);
out_name:
	diag_free(&d);
	free(name);
out_bufs:
	strbuf_free(&src);
	strbuf_free(&msgdata);
out_cfg:
	sieve_config_unref(&cfg);
	return ret;
usage:
	fprintf(stderr, "usage: tamis test [-f SENDER] [-r RCPT] [-a ORIG_RCPT] [-m MAILBOX] [-x EXTS] "
		"[-o KEY=VALUE] [-e -l MAILDIR] SCRIPT MESSAGE\n");
	sieve_config_unref(&cfg);
	return 2;
}
