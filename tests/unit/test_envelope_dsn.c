/* test_envelope_dsn.c: unit tests of the RFC 6009 extensions through the
 * engine: envelope-dsn and envelope-deliverby read the DSN and BY
 * parameters a host puts into struct sieve_envelope (the RFC's own examples
 * among them), and redirect-dsn / redirect-deliverby hand their options to
 * the host's send(). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sieve/engine.h"

#define NOW ((time_t)1700000000)   /* 2023-11-14T22:13:20Z */

struct cap {
	struct sieve_send_options opts[4];
	char notify[4][64], ret[4][16];   /* copies: the options die with the result */
	int nsent;
};

static time_t fixed_now(void *ctx)
{
	return NOW;
}

static int cap_send(void *ctx, const struct sieve_outgoing *o, const char **error_r)
{
	struct cap *c = ctx;
	if (c->nsent < 4 && o->opts != NULL) {
		c->opts[c->nsent] = *o->opts;
		if (o->opts->dsn_notify != NULL)
			snprintf(c->notify[c->nsent], sizeof(c->notify[0]), "%s", o->opts->dsn_notify);
		if (o->opts->dsn_ret != NULL)
			snprintf(c->ret[c->nsent], sizeof(c->ret[0]), "%s", o->opts->dsn_ret);
		c->opts[c->nsent].dsn_notify = NULL;
		c->opts[c->nsent].dsn_ret = NULL;
	}
	c->nsent++;
	return 0;
}

/* Compiles and runs src with the DSN/BY extensions on; returns the names
   of the folders fileinto chose, space separated (static buffer). */
static const char *run(const char *src, const struct sieve_envelope *env, struct cap *cap, bool execute)
{
	static char folders[512];
	struct sieve_config *cfg = sieve_config_new();
	sieve_config_set(cfg, "sieve_extensions",
			 "+envelope-dsn +envelope-deliverby +redirect-dsn +redirect-deliverby");
	struct diag_list d;
	diag_init(&d);
	struct sieve_compile_params p = { .script_name = "s", .cfg = cfg };
	struct sieve_binary *b = sieve_compile(src, strlen(src), &p, &d);
	if (b == NULL) {
		for (size_t i = 0; i < d.count; i++)
			fprintf(stderr, "%s\n", d.items[i].msg);
	}
	assert_non_null(b);
	struct arena *ma = arena_new(4096);
	static const char m[] = "From: user@example.com\r\nSubject: x\r\n\r\nbody\r\n";
	struct message *msg = msg_parse(ma, arena_memdup(ma, m, sizeof(m) - 1), sizeof(m) - 1);
	struct sieve_host host = { .ctx = cap, .send = cap_send, .now = fixed_now };
	struct sieve_run_params rp = { .cfg = cfg, .msg = msg, .env = env, .host = &host };
	struct sieve_result *r = sieve_result_new();
	assert_int_equal(sieve_run(b, &rp, r, &d), SIEVE_OK);
	folders[0] = '\0';
	for (size_t i = 0; i < r->count; i++) {
		if (r->actions[i]->def == &sieve_act_store) {
			strncat(folders, r->actions[i]->mailbox, sizeof(folders) - strlen(folders) - 2);
			strcat(folders, " ");
		}
	}
	if (execute) {
		bool keep;
		sieve_result_execute(r, &rp, &d, &keep);
	}
	sieve_result_unref(&r);
	arena_unref(&ma);
	sieve_binary_unref(&b);
	diag_free(&d);
	sieve_config_unref(&cfg);
	return folders;
}

static void test_rfc_dsn_examples(void **state)
{
	struct sieve_envelope env = {
		.from = "user@example.com", .to = "me@example.net",
		.dsn_notify = "FAILURE", .dsn_orcpt = "rfc822;me@Example.COM", .dsn_ret = "HDRS",
		.dsn_envid = "QQ314159",
	};
	struct cap cap = { 0 };
	const char *f = run(
		"require [\"envelope\", \"envelope-dsn\", \"relational\", \"comparator-i;ascii-numeric\", \"fileinto\"];\n"
		"if envelope \"notify\" \"SUCCESS\" { fileinto \"success\"; }\n"
		"if allof (envelope \"notify\" \"FAILURE\",\n"
		"          envelope :comparator \"i;ascii-numeric\" :count \"eq\" \"notify\" \"1\") { fileinto \"only-failure\"; }\n"
		"if envelope :matches \"orcpt\" \"rfc822;*@example.com\" { fileinto \"orcpt\"; }\n"
		"if envelope \"ret\" \"hdrs\" { fileinto \"ret\"; }\n"
		"if envelope :is \"envid\" \"QQ314159\" { fileinto \"envid\"; }\n",
		&env, &cap, false);
	assert_string_equal(f, "only-failure orcpt ret envid ");

	env.dsn_notify = "SUCCESS,DELAY";
	f = run("require [\"envelope\", \"envelope-dsn\", \"relational\", \"comparator-i;ascii-numeric\", \"fileinto\"];\n"
		"if envelope :count \"eq\" :comparator \"i;ascii-numeric\" \"notify\" \"2\" { fileinto \"two\"; }\n"
		"if envelope \"notify\" \"delay\" { fileinto \"delay\"; }\n",
		&env, &cap, false);
	assert_string_equal(f, "two delay ");
}

static void test_absent_parameters(void **state)
{
	struct sieve_envelope env = { .from = "user@example.com", .to = "me@example.net" };
	struct cap cap = { 0 };
	const char *f = run(
		"require [\"envelope\", \"envelope-dsn\", \"envelope-deliverby\", \"relational\", "
		"\"comparator-i;ascii-numeric\", \"fileinto\"];\n"
		"if envelope :matches \"notify\" \"*\" { fileinto \"notify\"; }\n"
		"if envelope :count \"eq\" :comparator \"i;ascii-numeric\" \"orcpt\" \"0\" { fileinto \"no-orcpt\"; }\n"
		"if envelope :matches \"bytimeabsolute\" \"*\" { fileinto \"by\"; }\n",
		&env, &cap, false);
	assert_string_equal(f, "no-orcpt ");
}

static void test_unknown_part_without_extension(void **state)
{
	struct diag_list d;
	diag_init(&d);
	static const char src[] = "require \"envelope\";\nif envelope \"notify\" \"NEVER\" { keep; }\n";
	struct sieve_compile_params p = { .script_name = "s" };
	assert_null(sieve_compile(src, sizeof(src) - 1, &p, &d));
	assert_string_equal(d.items[0].msg, "specified envelope part 'notify' is not supported by the envelope test");
	diag_free(&d);
}

static void test_deliverby_parts(void **state)
{
	struct sieve_envelope env = {
		.from = "user@example.com", .to = "me@example.net",
		.by_deadline = NOW + 3600, .by_mode = 'N', .by_trace = true,
	};
	struct cap cap = { 0 };
	const char *f = run(
		"require [\"envelope\", \"envelope-deliverby\", \"relational\", \"comparator-i;ascii-numeric\", "
		"\"fileinto\", \"variables\"];\n"
		"if envelope :value \"eq\" :comparator \"i;ascii-numeric\" \"bytimerelative\" \"3600\" { fileinto \"rel\"; }\n"
		"if envelope :is :zone \"+0000\" \"bytimeabsolute\" \"2023-11-14T23:13:20Z\" { fileinto \"abs-utc\"; }\n"
		"if envelope :matches :zone \"+0530\" \"bytimeabsolute\" \"*T*:*:*+05:30\" { fileinto \"h${2}\"; }\n"
		"if envelope \"bymode\" \"notify\" { fileinto \"mode\"; }\n"
		"if envelope \"bytrace\" \"TRACE\" { fileinto \"trace\"; }\n",
		&env, &cap, false);
	assert_string_equal(f, "rel abs-utc h04 mode trace ");

	/* RFC 6009's "didn't make it in time" check. */
	env.by_deadline = NOW - 30;
	f = run("require [\"envelope\", \"envelope-deliverby\", \"relational\", \"comparator-i;ascii-numeric\", \"fileinto\"];\n"
		"if anyof (envelope :contains \"bytimerelative\" \"-\",\n"
		"          envelope :value \"eq\" :comparator \"i;ascii-numeric\" \"bytimerelative\" \"0\") { fileinto \"late\"; }\n",
		&env, &cap, false);
	assert_string_equal(f, "late ");
}

static void test_zone_syntax(void **state)
{
	struct sieve_config *cfg = sieve_config_new();
	sieve_config_set(cfg, "sieve_extensions", "+envelope-deliverby");
	struct diag_list d;
	diag_init(&d);
	static const char src[] = "require [\"envelope\", \"envelope-deliverby\"];\n"
				  "if envelope :zone \"UTC\" \"bytimeabsolute\" \"x\" { keep; }\n";
	struct sieve_compile_params p = { .script_name = "s", .cfg = cfg };
	assert_null(sieve_compile(src, sizeof(src) - 1, &p, &d));
	assert_non_null(strstr(d.items[0].msg, "invalid time zone offset 'UTC'"));
	diag_free(&d);
	sieve_config_unref(&cfg);
}

static void test_redirect_options_reach_send(void **state)
{
	struct sieve_envelope env = { .from = "user@example.com", .to = "me@example.net" };
	struct cap cap = { 0 };
	run("require [\"redirect-dsn\", \"redirect-deliverby\", \"copy\"];\n"
	    "redirect :copy :notify \"SUCCESS,failure\" :ret \"FULL\" \"a@example.com\";\n"
	    "redirect :copy :bytimerelative 600 :bymode \"notify\" :bytrace \"b@example.com\";\n"
	    "redirect :copy :bytimeabsolute \"2023-11-15T00:13:20+01:00\" \"c@example.com\";\n"
	    "redirect \"d@example.com\";\n",
	    &env, &cap, true);
	assert_int_equal(cap.nsent, 4);
	assert_string_equal(cap.notify[0], "SUCCESS,FAILURE");
	assert_string_equal(cap.ret[0], "FULL");
	assert_int_equal(cap.opts[0].by_deadline, 0);
	assert_int_equal(cap.opts[1].by_deadline, NOW + 600);
	assert_int_equal(cap.opts[1].by_mode, 'N');
	assert_true(cap.opts[1].by_trace);
	assert_int_equal(cap.opts[2].by_deadline, NOW + 3600);
	assert_int_equal(cap.opts[2].by_mode, 'R');
	assert_string_equal(cap.notify[3], "");   /* no options at all */
	assert_int_equal(cap.opts[3].by_deadline, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_dsn_examples),
		cmocka_unit_test(test_absent_parameters),
		cmocka_unit_test(test_unknown_part_without_extension),
		cmocka_unit_test(test_deliverby_parts),
		cmocka_unit_test(test_zone_syntax),
		cmocka_unit_test(test_redirect_options_reach_send),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
