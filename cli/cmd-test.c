/* cmd-test.c: `tamis test`, the counterpart of Pigeonhole's sieve-test: runs
 * a script on a message and prints the actions in sieve-test's exact layout
 * (so the two can be diffed), or with -e executes them into a Maildir.
 * Outgoing mail is never sent from here: with -e it is printed. */
#include "cli/cli.h"
#include "sieve/engine.h"
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int print_send(void *ctx, const struct sieve_outgoing *o, const char **error_r)
{
	/* As sieve-test: the envelope sender goes to the log (stderr). */
	fprintf(stderr, "tamis: sending message from <%s>\n", o->env_from != NULL ? o->env_from : "");
	/* redirect-dsn / redirect-deliverby: the parameters an MTA would get. */
	if (o->opts != NULL) {
		fprintf(stderr, "tamis: delivery options:");
		if (o->opts->dsn_notify != NULL)
			fprintf(stderr, " NOTIFY=%s", o->opts->dsn_notify);
		if (o->opts->dsn_ret != NULL)
			fprintf(stderr, " RET=%s", o->opts->dsn_ret);
		if (o->opts->by_deadline != 0)
			fprintf(stderr, " BY=%lld;%c%s", (long long)(o->opts->by_deadline - time(NULL)),
				o->opts->by_mode, o->opts->by_trace ? "T" : "");
		fputc('\n', stderr);
	}
	for (size_t i = 0; i < o->nrcpts; i++)
		printf("\nRECIPIENT: %s\n", o->rcpts[i]);
	printf("START MESSAGE:\n%.*sEND MESSAGE\n", (int)o->len, o->data);
	return 0;
}

/* xtext (RFC 3461 section 4): "+XX" is the byte with hex value XX; NULL
 * when malformed. */
static const char *xtext_decode(struct arena *a, const char *s, size_t len)
{
	char *out = arena_alloc(a, len + 1), *o = out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126 || c == '=')
			return NULL;
		if (c != '+') {
			*o++ = (char)c;
			continue;
		}
		unsigned v = 0;
		for (size_t k = 1; k <= 2; k++) {
			char h = i + k < len ? s[i + k] : '\0';
			if (h >= '0' && h <= '9')
				v = v * 16 + (unsigned)(h - '0');
			else if (h >= 'A' && h <= 'F')
				v = v * 16 + (unsigned)(h - 'A' + 10);
			else
				return NULL;
		}
		if (v == 0)
			return NULL;
		*o++ = (char)v;
		i += 2;
	}
	*o = '\0';
	return out;
}

/* envelope-dsn / envelope-deliverby: the DSN (RFC 3461) and BY (RFC 2852)
 * parameters the simulated delivery arrived with.  sieve-test has no way
 * to give them; the setting sieve_test_smtp_params holds them as they
 * were on MAIL FROM / RCPT TO, e.g. "NOTIFY=SUCCESS,DELAY
 * ORCPT=rfc822;bob+2B1@example.com RET=HDRS ENVID=QQ314159 BY=600;NT"
 * (BY's time counts from now).  As a real host must, ORCPT and ENVID are
 * xtext-decoded before the engine sees them.  -1 with a message when a
 * parameter is malformed. */
static int test_smtp_params(struct arena *a, const char *spec, time_t now, struct sieve_envelope *env,
			    const char **error_r)
{
	while (spec != NULL && *spec != '\0') {
		while (*spec == ' ' || *spec == '\t')
			spec++;
		size_t n = strcspn(spec, " \t");
		if (n == 0)
			break;
		const char *eq = memchr(spec, '=', n);
		const char *item = arena_strndup(a, spec, n);
		spec += n;
		if (eq == NULL) {
			*error_r = arena_printf(a, "'%s': expecting KEYWORD=value", item);
			return -1;
		}
		size_t kl = (size_t)(eq - (spec - n)), vl = n - kl - 1;
		const char *key = item, *val = item + kl + 1;
		if (kl == 6 && strncasecmp(key, "NOTIFY", 6) == 0) {
			env->dsn_notify = arena_strndup(a, val, vl);
		} else if (kl == 3 && strncasecmp(key, "RET", 3) == 0) {
			env->dsn_ret = arena_strndup(a, val, vl);
		} else if (kl == 5 && strncasecmp(key, "ORCPT", 5) == 0) {
			/* addr-type ";" xtext; the addr-type is kept as given. */
			const char *semi = memchr(val, ';', vl);
			const char *addr = semi != NULL ? xtext_decode(a, semi + 1, vl - (size_t)(semi + 1 - val)) : NULL;
			if (addr == NULL) {
				*error_r = arena_printf(a, "'%s': expecting ORCPT=addr-type;xtext", item);
				return -1;
			}
			env->dsn_orcpt = arena_printf(a, "%.*s;%s", (int)(semi - val), val, addr);
		} else if (kl == 5 && strncasecmp(key, "ENVID", 5) == 0) {
			if ((env->dsn_envid = xtext_decode(a, val, vl)) == NULL) {
				*error_r = arena_printf(a, "'%s': ENVID is not xtext", item);
				return -1;
			}
		} else if (kl == 2 && strncasecmp(key, "BY", 2) == 0) {
			/* by-value = ["-" / "+"] 1*9DIGIT ";" ("N" / "R") ["T"] */
			const char *p = val;
			bool neg = *p == '-';
			if (*p == '-' || *p == '+')
				p++;
			long long t = 0;
			size_t digits = 0;
			while (*p >= '0' && *p <= '9' && digits < 10) {
				t = t * 10 + (*p++ - '0');
				digits++;
			}
			char mode = *p == ';' ? p[1] : '\0';
			if (mode == 'n' || mode == 'r')
				mode = (char)(mode - 32);
			const char *rest = *p == ';' && p[1] != '\0' ? p + 2 : p;
			bool trace = *rest == 'T' || *rest == 't';
			if (digits == 0 || digits > 9 || (mode != 'N' && mode != 'R') || rest[trace ? 1 : 0] != '\0' ||
			    (mode == 'R' && (neg || t == 0))) {
				/* RFC 2852: a time of zero or less is not allowed with R. */
				*error_r = arena_printf(a, "'%s': expecting BY=time;N or BY=time;R[T] "
							"(a positive time with R)", item);
				return -1;
			}
			env->by_deadline = now + (neg ? -t : t);
			env->by_mode = mode;
			env->by_trace = trace;
		} else {
			*error_r = arena_printf(a, "'%s': unknown parameter (expecting NOTIFY, ORCPT, RET, ENVID or BY)",
						item);
			return -1;
		}
	}
	return 0;
}

static time_t host_now(void *ctx)
{
	return time(NULL);
}

/* The host context: the Maildir (with -e) and duplicate tracking, kept in
 * memory for this one run (sieve-test keeps none either). */
struct test_host {
	struct cli_store *store;
	struct test_dup {
		unsigned char *key;
		size_t len;
		time_t until;
	} *dups;
	size_t ndups;
	const struct sieve_config *cfg;
};

/* The value for key in a setting written "KEY=VALUE KEY2=VALUE2 ..."
 * (allocated from a), NULL when key is not there or has no value; keys
 * compare case-insensitively when ci. */
static const char *setting_list_lookup(const char *list, const char *key, bool ci, struct arena *a)
{
	size_t klen = strlen(key);
	while (list != NULL && *list != '\0') {
		while (*list == ' ' || *list == '\t')
			list++;
		size_t n = strcspn(list, " \t");
		const char *eq = memchr(list, '=', n);
		if (eq != NULL && (size_t)(eq - list) == klen && n > klen + 1 &&
		    (ci ? strncasecmp(list, key, klen) : memcmp(list, key, klen)) == 0)
			return arena_strndup(a, eq + 1, n - klen - 1);
		list += n;
	}
	return NULL;
}

/* mailboxid: `tamis test` has no store of mailbox ids; the setting
 * sieve_mailboxids ("ID=Mailbox ID2=Other ...") stands in for one. */
static const char *test_mailbox_by_id(void *ctx, const char *id, struct arena *a)
{
	struct test_host *th = ctx;
	return setting_list_lookup(sieve_config_get(th->cfg, "sieve_mailboxids"), id, false, a);
}

/* special-use: nor does it know special-use attributes; the setting
 * sieve_special_use_mailboxes ("\Sent=Sent \Junk=Spam ...", as a Dovecot
 * namespace's "mailbox Sent { special_use = \Sent }") stands in.  An
 * attribute compares case-insensitively (RFC 6154); with -e a mailbox
 * listed that does not exist in the Maildir has none. */
static const char *test_mailbox_by_special_use(void *ctx, const char *flag, struct arena *a)
{
	struct test_host *th = ctx;
	const char *box = setting_list_lookup(sieve_config_get(th->cfg, "sieve_special_use_mailboxes"),
					      flag, true, a);
	if (box == NULL)
		return NULL;
	return th->store == NULL || cli_store_exists(th->store, box) > 0 ? box : NULL;
}

static int test_store(void *ctx, const char *mailbox, bool create, const struct message *msg,
		      const char *const *flags, size_t nflags, const char **error_r)
{
	struct test_host *th = ctx;
	return cli_store_deliver(th->store, mailbox, create, msg, flags, nflags, error_r);
}

static int test_exists(void *ctx, const char *mailbox)
{
	struct test_host *th = ctx;
	return cli_store_exists(th->store, mailbox);
}

static int test_dup_check(void *ctx, const void *key, size_t len)
{
	struct test_host *th = ctx;
	for (size_t i = 0; i < th->ndups; i++)
		if (th->dups[i].len == len && memcmp(th->dups[i].key, key, len) == 0)
			return th->dups[i].until > time(NULL) ? 1 : 0;
	return 0;
}

static void test_dup_mark(void *ctx, const void *key, size_t len, time_t until)
{
	struct test_host *th = ctx;
	struct test_dup *nd = realloc(th->dups, (th->ndups + 1) * sizeof(*nd));
	if (nd == NULL || (nd[th->ndups].key = malloc(len ? len : 1)) == NULL)
		abort();
	th->dups = nd;
	memcpy(nd[th->ndups].key, key, len);
	nd[th->ndups].len = len;
	nd[th->ndups].until = until;
	th->ndups++;
}

/* The length of the first element of an address-list value, or 0 when
 * that element is a group.  sieve-test parses only the first element
 * (Dovecot's message_address_parse with max_addresses 1): when it is a
 * group ("G: a@b;", even "undisclosed-recipients:;"), an invalid address
 * or empty, the header yields no address and sieve-test moves on to the
 * next header instead of using a later element.  So the element ends at
 * the first ',' outside quotes, comments and <> (an obs-route may hold
 * commas and a ':'), and a ':' there first makes it a group. */
static size_t first_element_len(const char *v)
{
	int depth = 0;
	bool angle = false;
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '\\' && (depth > 0 || angle) && p[1] != '\0') {
			p++;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')' && depth > 0) {
			depth--;
		} else if (depth > 0) {
			continue;
		} else if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\0')
				break;
		} else if (*p == '<') {
			angle = true;
		} else if (*p == '>') {
			angle = false;
		} else if (!angle && *p == ':') {
			return 0;
		} else if (!angle && *p == ',') {
			return (size_t)(p - v);
		}
	}
	return strlen(v);
}

static const char *first_addr(struct arena *a, struct message *m, const char *const *names)
{
	for (; *names; names++) {
		const char **vals;
		if (msg_header_values(m, *names, false, &vals) == 0)
			continue;
		size_t len = first_element_len(vals[0]);
		if (len == 0)
			continue;
		struct msg_address *ad;
		size_t n;
		(void)msg_parse_address_list(a, arena_strndup(a, vals[0], len), &ad, &n);
		/* Formatted as sieve-test hands it on: a local part that is
		   not a dot-atom stays quoted ("q l"@b.c), so the envelope
		   test can parse it again. */
		if (n > 0 && ad[0].local != NULL)
			return ad[0].domain != NULL ? msg_address_format(a, ad[0].local, ad[0].domain) : ad[0].local;
	}
	return NULL;
}

/* -s: sieve-test's multiscript mode.  The -s scripts run first, in
 * order, then the main one while keep stays in effect; without -e each
 * result is printed under "## Executing script: PATH" exactly as
 * sieve-test prints it. */
static int test_sequence(char *const *before, size_t nbefore, const char *main_path, struct sieve_binary *main_bin,
			 const struct sieve_run_params *rp, const struct sieve_compile_params *cp, bool execute,
			 struct diag_list *d)
{
	struct strbuf out = STRBUF_INIT;
	struct sieve_multiscript *ms = sieve_multiscript_start(rp, execute ? NULL : &out);
	bool more = true, compiled = true;
	for (size_t i = 0; i < nbefore && more; i++) {
		if (!execute)
			printf("\n## Executing script: %s\n", before[i]);
		struct strbuf src = STRBUF_INIT;
		struct sieve_binary *b = NULL;
		char *name = cli_script_name(before[i]);
		if (cli_read_file(before[i], &src, 64u << 20) < 0) {
			fprintf(stderr, "tamis: %s: %s\n", before[i], strerror(errno));
		} else {
			struct sieve_compile_params p = *cp;
			p.script_name = name;
			p.script_path = before[i];
			b = sieve_compile(src.data, src.len, &p, d);
		}
		strbuf_free(&src);
		free(name);
		if (b == NULL) {
			cli_print_diags(d, stderr);
			fprintf(stderr, "tamis: failed to compile sieve script\n");
			compiled = false;
			break;
		}
		more = sieve_multiscript_run(ms, b, d);
		sieve_binary_unref(&b);
		fwrite(out.data, 1, out.len, stdout);
		strbuf_truncate(&out, 0);
		cli_print_diags(d, stderr);
		diag_clear(d);
	}
	if (more && compiled) {
		if (!execute)
			printf("## Executing script: %s\n", main_path);
		(void)sieve_multiscript_run(ms, main_bin, d);
		fwrite(out.data, 1, out.len, stdout);
		strbuf_truncate(&out, 0);
		cli_print_diags(d, stderr);
		diag_clear(d);
	}
	fflush(stdout);
	bool keep;
	int st = sieve_multiscript_finish(&ms, d, compiled ? SIEVE_OK : SIEVE_FAILURE, &keep);
	cli_print_diags(d, stderr);
	strbuf_free(&out);
	if (!compiled)
		return 1;
	if (st > 0) {
		fprintf(stderr, "tamis: final result: success\n");
		return 0;
	}
	fprintf(stderr, "tamis: final result: %s\n",
		st == SIEVE_KEEP_FAILED ? "utter failure" : "failed; resolved with successful implicit keep");
	return st == SIEVE_KEEP_FAILED ? 75 : 1;
}

int cli_test(int argc, char **argv)
{
	struct sieve_config *cfg = sieve_config_new();
	const char *from = NULL, *to = NULL, *orig_to = NULL, *mailbox = NULL, *maildir = NULL;
	bool execute = false;
	int c, ret = 2;
	char *before[64];
	size_t nbefore = 0;
	optind = 1;
	while ((c = getopt(argc, argv, "f:r:a:m:x:o:el:c:CDs:")) != -1) {
		switch (c) {
		case 's':
			if (nbefore == sizeof(before) / sizeof(before[0])) {
				fprintf(stderr, "tamis: too many -s scripts\n");
				goto out_cfg;
			}
			before[nbefore++] = optarg;
			break;
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
	struct sieve_compile_params p = { .script_name = name, .script_path = script_path, .cfg = cfg,
					  .cli_tool = true };
	struct cli_include ci;
	struct sieve_host ihost;
	cli_include_init(&ci, &ihost, cfg, script_path);
	p.host = &ihost;
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
	const char *smtp_err;
	if (test_smtp_params(ma, sieve_config_get(cfg, "sieve_test_smtp_params"), time(NULL), &env, &smtp_err) < 0) {
		fprintf(stderr, "tamis: sieve_test_smtp_params: %s\n", smtp_err);
		ret = 2;
		goto out_msg;
	}


	struct cli_store *store = NULL;
	struct sieve_host host = { 0 };
	struct test_host th = { 0 };
	host.ctx = &th;
	host.send = print_send;
	host.now = host_now;
	host.duplicate_check = test_dup_check;
	host.duplicate_mark = test_dup_mark;
	th.cfg = cfg;
	host.mailbox_by_id = test_mailbox_by_id;
	host.mailbox_by_special_use = test_mailbox_by_special_use;
	if (execute) {
		const char *err;
		store = cli_store_open(maildir, '.', true, &err);
		if (store == NULL) {
			fprintf(stderr, "tamis: cannot open Maildir %s: %s\n", maildir, err);
			goto out_msg;
		}
		th.store = store;
		host.store = test_store;
		host.mailbox_exists = test_exists;
	}
	struct sieve_run_params rp = {
		.cfg = cfg, .msg = msg, .env = &env, .host = &host, .default_mailbox = mailbox,
		/* As sieve-test: a tool looking at a stored message, run as
		   the current user. */
		.env_location = "MS", .env_phase = "post",
	};
	struct passwd *pw = getpwuid(getuid());
	if (pw != NULL)
		rp.username = arena_strdup(ma, pw->pw_name);
	struct sieve_result *r = sieve_result_new();
	if (nbefore > 0) {
		ret = test_sequence(before, nbefore, script_path, b, &rp, &p, execute, &d);
		goto out_run;
	}
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
out_run:
	fflush(stdout);
	sieve_result_unref(&r);
	cli_store_close(&store);
	for (size_t i = 0; i < th.ndups; i++)
		free(th.dups[i].key);
	free(th.dups);
out_msg:
	arena_unref(&ma);
	sieve_binary_unref(&b);
out_name:
	cli_include_free(&ci);
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
		"[-o KEY=VALUE] [-e -l MAILDIR] [-s BEFORE.sieve]... SCRIPT MESSAGE\n");
	sieve_config_unref(&cfg);
	return 2;
}
