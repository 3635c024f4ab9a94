/* test_outgoing.c: unit tests for sieve/ext/outgoing.c, the helpers behind
 * vacation, notify and redirect: SHA-256 against the FIPS 180-4 examples,
 * the Sieve address syntax with Pigeonhole's error texts, envelope paths,
 * header writing (folding, no injection, RFC 2047 round trips through our
 * own decoder), display names, CRLF bodies and UTF-8 truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sieve/ext/outgoing.h"

static void hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha(const char *in, size_t len, char out[65])
{
	struct sieve_sha256 c;
	unsigned char d[32];
	sieve_sha256_init(&c);
	sieve_sha256_update(&c, in, len);
	sieve_sha256_final(&c, d);
	hex(d, 32, out);
}

static void test_sha256(void **state)
{
	char h[65];
	sha("", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha(two, strlen(two), h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* one million 'a', fed in uneven pieces */
	struct sieve_sha256 c;
	unsigned char d[32];
	char buf[777];
	memset(buf, 'a', sizeof(buf));
	sieve_sha256_init(&c);
	size_t left = 1000000;
	while (left > 0) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);
		sieve_sha256_update(&c, buf, n);
		left -= n;
	}
	sieve_sha256_final(&c, d);
	hex(d, 32, h);
	assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static const char *parse(struct arena *a, const char *s, const char **err)
{
	*err = NULL;
	return sieve_address_parse(a, s, strlen(s), err);
}

static void test_address_valid(void **state)
{
	struct arena *a = arena_new(4096);
	const char *e;
	assert_string_equal(parse(a, "a@b.c", &e), "a@b.c");
	assert_string_equal(parse(a, "Timo Sirainen <sirainen@Example.NET>", &e), "sirainen@example.net");
	assert_string_equal(parse(a, "<a@b.c>", &e), "a@b.c");
	assert_string_equal(parse(a, "\"A B\" <a@b.c>", &e), "a@b.c");
	assert_string_equal(parse(a, "a@b.c (comment)", &e), "a@b.c");
	assert_string_equal(parse(a, "  (c) a@b.c  ", &e), "a@b.c");
	assert_string_equal(parse(a, "A < a@b.c >", &e), "a@b.c");
	assert_string_equal(parse(a, "\"a b\"@c.d", &e), "\"a b\"@c.d");
	assert_string_equal(parse(a, "a@[1.2.3.4]", &e), "a@[1.2.3.4]");
	/* Japanese-style dots, as Pigeonhole allows */
	assert_string_equal(parse(a, "a..b.@c.d", &e), "\"a..b.\"@c.d");
	assert_string_equal(parse(a, "stephan#frop@example.org", &e), "stephan#frop@example.org");
	arena_unref(&a);
}

static void test_address_errors(void **state)
{
	struct arena *a = arena_new(4096);
	static const struct { const char *in, *err; } cases[] = {
		{ "", "empty address" },
		{ "   ", "empty address" },
		{ "invalid", "invalid or lonely local part 'invalid' (expecting '@')" },
		{ "stephan#example.org", "invalid or lonely local part 'stephan#example.org' (expecting '@')" },
		{ "a b@c", "invalid or lonely local part 'a' (expecting '@')" },
		{ "@b.c", "invalid local part" },
		{ "\xc3\xa9@b.c", "invalid local part" },
		{ "A <>", "invalid local part" },
		{ "A <a>", "invalid or lonely local part 'a' (expecting '@')" },
		{ "a@", "invalid or missing domain" },
		{ "a@b..c", "invalid or missing domain" },
		{ "a@b.c.", "invalid or missing domain" },
		{ "A <a@b.c", "missing '>'" },
		{ "a@b.c x", "address ends in invalid characters" },
		{ "A <a@b.c> x", "address ends in invalid characters" },
		{ "a@b.c,d@e.f", "not a single address (found ',')" },
		{ "a@b.c (open", "invalid or missing domain" },
		{ "\"unterminated@b.c", "invalid local part" },
		{ "A <", "missing domain" },
		{ "A < (x", "invalid characters after <" },
		{ "A <a@b.c> (x", "address ends with invalid characters" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *e;
		const char *r = parse(a, cases[i].in, &e);
		if (r != NULL)
			fail_msg("'%s' accepted as '%s'", cases[i].in, r);
		assert_non_null(e);
		if (strcmp(e, cases[i].err) != 0)
			fail_msg("'%s': got '%s', want '%s'", cases[i].in, e, cases[i].err);
	}
	/* The lonely local part is bounded in the message. */
	char big[400];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *e;
	assert_null(parse(a, big, &e));
	assert_true(strlen(e) < 150);
	arena_unref(&a);
}

static void test_envelope(void **state)
{
	struct arena *a = arena_new(4096);
	assert_string_equal(sieve_envelope_address(a, "<>"), "");
	assert_string_equal(sieve_envelope_address(a, ""), "");
	assert_string_equal(sieve_envelope_address(a, "<a@b.c>"), "a@b.c");
	assert_string_equal(sieve_envelope_address(a, "a@b.c"), "a@b.c");
	assert_null(sieve_envelope_address(a, NULL));
	assert_true(sieve_address_equal_icase("A@B.c", "a@b.C"));
	assert_false(sieve_address_equal_icase("a@b.c", "a@b.d"));
	assert_string_equal(sieve_address_localpart(a, "owner-list@x.y"), "owner-list");
	arena_unref(&a);
}

static void test_header_folding_and_injection(void **state)
{
	struct strbuf b = STRBUF_INIT;
	sieve_mail_header(&b, "Subject", "hi\r\nBcc: victim@example.com");
	assert_string_equal(b.data, "Subject: hi  Bcc: victim@example.com\r\n");
	strbuf_truncate(&b, 0);
	char v[1024] = "";
	for (int i = 0; i < 40; i++)
		strcat(v, "<word@example.org> ");
	sieve_mail_header(&b, "References", v);
	/* every physical line within 78 characters, continuation lines start
	   with whitespace, and unfolding gives the words back */
	const char *p = b.data;
	int lines = 0;
	while (*p != '\0') {
		const char *eol = strstr(p, "\r\n");
		assert_non_null(eol);
		assert_true(eol - p <= 78);
		if (lines > 0)
			assert_true(*p == ' ' || *p == '\t');
		lines++;
		p = eol + 2;
	}
	assert_true(lines > 5);
	/* a single word longer than a line is never broken */
	strbuf_truncate(&b, 0);
	memset(v, 'x', 200);
	v[200] = '\0';
	sieve_mail_header(&b, "X-Long", v);
	assert_int_equal(b.len, strlen("X-Long: ") + 200 + 2);
	strbuf_free(&b);
}

static char *unfold_value(struct arena *a, const char *hdr)
{
	/* drop "Name: ", CRLFs, keep the folding whitespace */
	const char *v = strchr(hdr, ':') + 2;
	struct strbuf b = STRBUF_INIT;
	for (; *v != '\0'; v++)
		if (*v != '\r' && *v != '\n')
			strbuf_putc(&b, *v);
	char *r = arena_memdup(a, b.data, b.len);
	strbuf_free(&b);
	return r;
}

static void test_header_encoding(void **state)
{
	struct arena *a = arena_new(4096);
	static const char *const texts[] = {
		"plain ascii subject",
		"Auto: Gr\xc3\xbc\xc3\x9f" "e aus Berlin",
		"\xe2\x98\x83 snow \xe2\x98\x83\xe2\x98\x83 and more words \xc3\xa9t\xc3\xa9 end",
		/* long Japanese text: many encoded words, none splitting a character */
		"\xe4\xbb\xa5\xe3\x81\xa4\xe3\x82\x8f\xe3\x81\xa5\xe8\x81\x9e\xe4\xbb\xa5\xe3\x81\xa4\xe3\x82\x8f"
		"\xe3\x81\xa5\xe8\x81\x9e\xe4\xbb\xa5\xe3\x81\xa4\xe3\x82\x8f\xe3\x81\xa5\xe8\x81\x9e\xe4\xbb\xa5"
		"\xe3\x81\xa4\xe3\x82\x8f\xe3\x81\xa5\xe8\x81\x9e\xe4\xbb\xa5\xe3\x81\xa4\xe3\x82\x8f\xe3\x81\xa5",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct strbuf b = STRBUF_INIT;
		sieve_mail_header_utf8(&b, "Subject", texts[i]);
		for (size_t k = 0; k < b.len; k++)
			assert_true((unsigned char)b.data[k] < 0x80);
		char *v = unfold_value(a, b.data);
		char *d = msg_decode_2047(a, v, strlen(v));
		if (strcmp(d, texts[i]) != 0)
			fail_msg("round trip of '%s' gave '%s' (encoded '%s')", texts[i], d, v);
		strbuf_free(&b);
	}
	arena_unref(&a);
}

static void test_mailbox(void **state)
{
	struct arena *a = arena_new(4096);
	assert_string_equal(sieve_mail_mailbox(a, NULL, "a@b.c"), "<a@b.c>");
	assert_string_equal(sieve_mail_mailbox(a, "Stephan Bosch", "a@b.c"), "\"Stephan Bosch\" <a@b.c>");
	assert_string_equal(sieve_mail_mailbox(a, "Ste\"phan", "a@b.c"), "\"Ste\\\"phan\" <a@b.c>");
	const char *enc = sieve_mail_mailbox(a, "G\xc3\xbcnther", "a@b.c");
	assert_non_null(strstr(enc, "=?utf-8?b?"));
	assert_non_null(strstr(enc, " <a@b.c>"));
	arena_unref(&a);
}

static void test_body_and_sanitize(void **state)
{
	struct strbuf b = STRBUF_INIT;
	sieve_mail_body(&b, "a\nb\r\nc\rd", 8);
	assert_string_equal(b.data, "a\r\nb\r\nc\r\nd\r\n");
	strbuf_free(&b);

	struct arena *a = arena_new(4096);
	assert_string_equal(sieve_str_sanitize_utf8(a, "abc", 5), "abc");
	assert_string_equal(sieve_str_sanitize_utf8(a, "abcdef", 5), "abcd\xe2\x80\xa6");
	assert_string_equal(sieve_str_sanitize_utf8(a, "a\r\nb", 10), "a??b");
	/* cut at a character boundary */
	assert_string_equal(sieve_str_sanitize_utf8(a, "\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\xc3\xa9\xe2\x80\xa6");
	assert_true(sieve_mail_has_8bit("a\xc3\xa9", 3));
	assert_false(sieve_mail_has_8bit("abc", 3));
	arena_unref(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_address_valid),
		cmocka_unit_test(test_address_errors),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_header_folding_and_injection),
		cmocka_unit_test(test_header_encoding),
		cmocka_unit_test(test_mailbox),
		cmocka_unit_test(test_body_and_sanitize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
