/* test_redirect_dup.c: redirect's duplicate protection through the host's
 * duplicate store.  A forward of one message (Message-ID) for one
 * recipient to one address is remembered for
 * sieve_redirect_duplicate_period (12h by default) once it was sent; the
 * same delivery repeated is then not forwarded again ("discarded
 * duplicate forward to <x>"), while another address, another message, or
 * a failed send are not affected. */
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

#define NOW ((time_t)1700000000)

struct store {
	unsigned char key[16][64];
	size_t len[16];
	time_t until[16];
	int n;
	int nsent;
	bool fail_send;
	time_t now;
};

static time_t fake_now(void *ctx)
{
	return ((struct store *)ctx)->now;
}

static int fake_send(void *ctx, const struct sieve_outgoing *o, const char **error_r)
{
	struct store *s = ctx;
	if (s->fail_send) {
		*error_r = "refused";
		return -1;
	}
	s->nsent++;
	return 0;
}

static int fake_check(void *ctx, const void *key, size_t len)
{
	struct store *s = ctx;
	for (int i = 0; i < s->n; i++)
		if (s->len[i] == len && memcmp(s->key[i], key, len) == 0)
			return s->until[i] > s->now ? 1 : 0;
	return 0;
}

static void fake_mark(void *ctx, const void *key, size_t len, time_t until)
{
	struct store *s = ctx;
	assert_true(len <= sizeof(s->key[0]));
	assert_true(s->n < 16);
	memcpy(s->key[s->n], key, len);
	s->len[s->n] = len;
	s->until[s->n] = until;
	s->n++;
}

/* One delivery: compiles and executes src for msg; returns whether a
   "discarded duplicate forward" message was logged. */
static bool deliver(struct store *st, const char *src, const char *msgtext, const char *period)
{
	struct sieve_config *cfg = sieve_config_new();
	if (period != NULL)
		sieve_config_set(cfg, "sieve_redirect_duplicate_period", period);
	struct diag_list d;
	diag_init(&d);
	struct sieve_compile_params p = { .script_name = "s", .cfg = cfg };
	struct sieve_binary *b = sieve_compile(src, strlen(src), &p, &d);
	assert_non_null(b);
	struct arena *ma = arena_new(4096);
	size_t mlen = strlen(msgtext);
	struct message *msg = msg_parse(ma, arena_memdup(ma, msgtext, mlen), mlen);
	struct sieve_envelope env = { .from = "sender@example.com", .to = "me@example.net" };
	struct sieve_host host = { .ctx = st, .send = fake_send, .now = fake_now,
				   .duplicate_check = fake_check, .duplicate_mark = fake_mark };
	struct sieve_run_params rp = { .cfg = cfg, .msg = msg, .env = &env, .host = &host };
	struct sieve_result *r = sieve_result_new();
	assert_int_equal(sieve_run(b, &rp, r, &d), SIEVE_OK);
	bool keep;
	sieve_result_execute(r, &rp, &d, &keep);
	bool discarded = false;
	for (size_t i = 0; i < d.count; i++)
		if (strstr(d.items[i].msg, "discarded duplicate forward to <") != NULL)
			discarded = true;
	sieve_result_unref(&r);
	arena_unref(&ma);
	sieve_binary_unref(&b);
	diag_free(&d);
	sieve_config_unref(&cfg);
	return discarded;
}

static const char MSG1[] = "From: a@example.com\r\nMessage-ID: <one@example.com>\r\nSubject: x\r\n\r\nbody\r\n";
static const char MSG2[] = "From: a@example.com\r\nMessage-ID: <two@example.com>\r\nSubject: x\r\n\r\nbody\r\n";
static const char NOID[] = "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n";

static void test_second_delivery_not_forwarded(void **state)
{
	struct store st = { .now = NOW };
	const char *s = "redirect \"friend@example.org\";\n";
	assert_false(deliver(&st, s, MSG1, NULL));
	assert_int_equal(st.nsent, 1);
	assert_int_equal(st.n, 1);
	assert_int_equal(st.until[0], NOW + 12 * 3600);
	/* the same message again: discarded */
	assert_true(deliver(&st, s, MSG1, NULL));
	assert_int_equal(st.nsent, 1);
	/* another message, another address: sent */
	assert_false(deliver(&st, s, MSG2, NULL));
	assert_false(deliver(&st, "redirect \"other@example.org\";\n", MSG1, NULL));
	assert_int_equal(st.nsent, 3);
	/* after the period: sent again */
	st.now = NOW + 12 * 3600 + 1;
	assert_false(deliver(&st, s, MSG1, NULL));
	assert_int_equal(st.nsent, 4);
}

static void test_failed_send_not_marked(void **state)
{
	struct store st = { .now = NOW, .fail_send = true };
	const char *s = "redirect \"friend@example.org\";\n";
	assert_false(deliver(&st, s, MSG1, NULL));
	assert_int_equal(st.n, 0);
	st.fail_send = false;
	assert_false(deliver(&st, s, MSG1, NULL));
	assert_int_equal(st.nsent, 1);
}

static void test_period_setting_and_no_message_id(void **state)
{
	struct store st = { .now = NOW };
	const char *s = "redirect \"friend@example.org\";\n";
	assert_false(deliver(&st, s, MSG1, "1h"));
	assert_int_equal(st.until[0], NOW + 3600);
	/* period 0: not remembered */
	assert_false(deliver(&st, s, MSG2, "0"));
	assert_false(deliver(&st, s, MSG2, "0"));
	assert_int_equal(st.nsent, 3);
	/* no Message-ID: nothing to recognise it by */
	assert_false(deliver(&st, s, NOID, NULL));
	assert_false(deliver(&st, s, NOID, NULL));
	assert_int_equal(st.nsent, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_second_delivery_not_forwarded),
		cmocka_unit_test(test_failed_send_not_marked),
		cmocka_unit_test(test_period_setting_and_no_message_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
