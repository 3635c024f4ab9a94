/* fuzz-common.h: what the engine fuzzers (fuzz_compile.c, fuzz_binary.c,
 * fuzz_message.c) share: a configuration that enables every extension of
 * the registry, a fixed test message and envelope, a host whose callbacks
 * do nothing observable, and fuzz_run_on() / fuzz_run_binary(), which run
 * a binary on a message (the fixed one), print the result and execute it
 * through the host.  Header-only (static functions, no data that outlives
 * a call) so that each fuzz_*.c stays one translation unit for the
 * Makefile. */
#ifndef TAMIS_FUZZ_COMMON_H
#define TAMIS_FUZZ_COMMON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sieve/engine.h"

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

/* Every extension of this build's registry: the default ones plus the
 * others, for user and admin scripts alike.  The testsuite extension needs
 * a testsuite context and is left out.  Limits are lowered so that a
 * hostile script finishes quickly (libFuzzer's -timeout stays meaningful). */
static struct sieve_config *fuzz_config(void)
{
	struct sieve_config *cfg = sieve_config_new();
	struct strbuf list = STRBUF_INIT;
	for (size_t i = 0; i < sieve_extension_count(); i++) {
		const struct sieve_extension_def *e = sieve_extension_by_index((int)i);
		if (e == NULL || e->name[0] == '@' || (e->flags & SV_EF_TESTSUITE))
			continue;
		strbuf_printf(&list, "%s+%s", list.len > 0 ? " " : "", e->name);
	}
	strbuf_putc(&list, '\0');
	sieve_config_set(cfg, "sieve_extensions", list.data);
	sieve_config_set(cfg, "sieve_global_extensions", list.data);
	strbuf_free(&list);
	sieve_config_set(cfg, "sieve_max_instructions", "20000");
	sieve_config_set(cfg, "sieve_max_cpu_time", "2");
	sieve_config_set(cfg, "sieve_max_script_size", "65536");
	sieve_config_set(cfg, "recipient_delimiter", "+");
	return cfg;
}

/* A small multipart message with the headers rules usually test. */
static const char fuzz_message[] =
	"Return-Path: <sender@example.org>\r\n"
	"Received: from mx.example.org by mail.example.com; Mon, 6 Nov 2023 10:00:00 +0100\r\n"
	"From: \"Alice Sender\" <alice+lists@Example.ORG>\r\n"
	"To: bob@example.com, \"Carol\" <carol@example.net>\r\n"
	"Cc: undisclosed-recipients:;\r\n"
	"Subject: =?UTF-8?Q?Caf=C3=A9_meeting?= [list] hello\r\n"
	"List-Id: Tamis users <users.tamis.example.org>\r\n"
	"Date: Mon, 6 Nov 2023 10:00:00 +0100\r\n"
	"Message-ID: <1234@example.org>\r\n"
	"X-Spam-Score: 4.5\r\n"
	"X-Priority: 2\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	"\r\n"
	"preamble\r\n"
	"--b1\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Hello Bob, caf=E9 at ten?\r\n"
	"--b1\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"\r\n"
	"<p>Hello <b>Bob</b></p>\r\n"
	"--b1--\r\n";

static int fuzz_store(void *ctx, const char *mailbox, bool create, const struct message *msg,
		      const char *const *flags, size_t nflags, const char **error_r)
{
	FUZZ_CHECK(mailbox != NULL && msg != NULL);
	for (size_t i = 0; i < nflags; i++)
		FUZZ_CHECK(flags[i] != NULL);
	if (strcmp(mailbox, "Fail") == 0) {
		*error_r = "mailbox refused by the fuzz host";
		return -1;
	}
	return 0;
}

static int fuzz_mailbox_exists(void *ctx, const char *mailbox)
{
	return strcmp(mailbox, "INBOX") == 0 || strcmp(mailbox, "Junk") == 0;
}

static int fuzz_send(void *ctx, const struct sieve_outgoing *out, const char **error_r)
{
	FUZZ_CHECK(out->env_from != NULL && (out->nrcpts == 0 || out->rcpts != NULL));
	for (size_t i = 0; i < out->nrcpts; i++)
		FUZZ_CHECK(out->rcpts[i] != NULL);
	FUZZ_CHECK(out->len == 0 || out->data != NULL);
	return 0;
}

static int fuzz_duplicate_check(void *ctx, const void *key, size_t keylen)
{
	return keylen > 0 && ((const unsigned char *)key)[0] == 'D';
}

static void fuzz_duplicate_mark(void *ctx, const void *key, size_t keylen, time_t until)
{
}

/* A few scripts to include (include extension): 1 = found, 0 = missing,
 * -1 = error, as sieve/ext/include.c expects. */
static int fuzz_include_load(void *ctx, bool global, const char *name, struct strbuf *src_r,
			     const char **path_r, const char **error_r)
{
	static const char *const scripts[][2] = {
		{ "a", "keep;" },
		{ "b", "require [\"variables\", \"include\"]; global \"g\"; set \"g\" \"${g}x\"; return;" },
		{ "c", "require \"include\"; include :once \"a\"; include \"b\";" },
		{ "self", "require \"include\"; include \"self\";" },
		{ "bad", "if {" },
		{ "inv", "fileinto \"x\";" },
	};
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		if (strcmp(name, scripts[i][0]) == 0) {
			strbuf_puts(src_r, scripts[i][1]);
			*path_r = global ? "/fuzz/global/script.sieve" : "/fuzz/personal/script.sieve";
			return 1;
		}
	}
	if (strcmp(name, "error") == 0) {
		*error_r = "storage error in the fuzz host";
		return -1;
	}
	return 0;
}

static void fuzz_log(void *ctx, enum diag_level lvl, const char *msg)
{
	FUZZ_CHECK(msg != NULL);
}

static time_t fuzz_now(void *ctx)
{
	return (time_t)1699261200;   /* fixed: runs are reproducible */
}

static void fuzz_host(struct sieve_host *h)
{
	memset(h, 0, sizeof(*h));
	h->store = fuzz_store;
	h->mailbox_exists = fuzz_mailbox_exists;
	h->send = fuzz_send;
	h->duplicate_check = fuzz_duplicate_check;
	h->duplicate_mark = fuzz_duplicate_mark;
	h->include_load = fuzz_include_load;
	h->log = fuzz_log;
	h->now = fuzz_now;
}

/* Runs b on the message data[0..len) with the envelope and host given,
 * prints the result into a buffer and executes it through the host.
 * Checks what must hold for any binary that compiled or passed the
 * verifier, whatever the message. */
static void fuzz_run_on(struct sieve_binary *b, const struct sieve_config *cfg,
			const char *data, size_t len, const struct sieve_envelope *env,
			const struct sieve_host *host)
{
	struct arena *ma = arena_new(8192);
	struct message *msg = msg_parse(ma, data, len);
	struct sieve_run_params rp = {
		.cfg = cfg, .msg = msg, .env = env, .host = host,
		.default_mailbox = "INBOX", .username = "bob",
	};
	struct sieve_result *r = sieve_result_new();
	struct diag_list d;
	diag_init(&d);
	int st = sieve_run(b, &rp, r, &d);
	FUZZ_CHECK(st == SIEVE_OK || st == SIEVE_FAILURE || st == SIEVE_TEMP_FAILURE ||
		   st == SIEVE_BIN_CORRUPT || st == SIEVE_KEEP_FAILED || st == SIEVE_RESOURCE_LIMIT);
	struct strbuf out = STRBUF_INIT;
	if (st > 0) {
		sieve_result_print(r, &out, "INBOX");
		for (size_t i = 0; i < sieve_result_action_count(r); i++)
			FUZZ_CHECK(sieve_result_action_name(r, i) != NULL);
	} else {
		/* As a delivery host does: drop the actions, keep. */
		sieve_result_reset(r);
	}
	bool keep_done = false;
	diag_clear(&d);
	(void)sieve_result_execute(r, &rp, &d, &keep_done);
	strbuf_free(&out);
	diag_free(&d);
	sieve_result_unref(&r);
	arena_unref(&ma);
}

/* Runs b on the fixed message and envelope through the do-nothing host
 * (fuzz_compile, fuzz_binary).  Inline only so that fuzz_message, which
 * brings its own messages, may leave it unused. */
static inline void fuzz_run_binary(struct sieve_binary *b, const struct sieve_config *cfg)
{
	struct sieve_envelope env = {
		.from = "sender@example.org",
		.to = "bob+fuzz@example.com",
		.orig_to = "bob@example.com",
		.auth = "bob",
	};
	struct sieve_host host;
	fuzz_host(&host);
	fuzz_run_on(b, cfg, fuzz_message, sizeof(fuzz_message) - 1, &env, &host);
}

#endif
