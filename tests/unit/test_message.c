/* test_message.c: unit tests of the message model (sieve/message*.c):
 * header index and unfolding, RFC 2047, RFC 5322 address lists (with the
 * recovery behaviour of Pigeonhole 0.5.19, checked against sieve-test),
 * SMTP paths, MIME trees, and bounds on hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sieve/message.h"

static struct message *parse(struct arena *a, const char *s)
{
	return msg_parse(a, s, strlen(s));
}

/* The only value of header `name`, failing unless there is exactly one. */
static const char *one(struct message *m, const char *name, bool decode)
{
	const char **v;
	size_t n = msg_header_values(m, name, decode, &v);
	assert_int_equal(n, 1);
	return v[0];
}

static const char *dec(struct arena *a, const char *s)
{
	return msg_decode_2047(a, s, strlen(s));
}

static double seconds_since(clock_t start)
{
	return (double)(clock() - start) / CLOCKS_PER_SEC;
}

/*
 * Header index
 */

static void test_header_basic(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a,
		"From: stephan@example.com\n"
		"To: nico@nl.example.com, harry@de.example.com\n"
		"Subject: Frobnitzm\n"
		"Received: one\n"
		"received: two\n"
		"RECEIVED: three\n"
		"\n"
		"Test.\n");
	assert_int_equal(m->nheaders, 6);
	assert_string_equal(one(m, "subject", true), "Frobnitzm");
	assert_string_equal(one(m, "SUBJECT", false), "Frobnitzm");
	const char **v;
	assert_int_equal(msg_header_values(m, "Received", true, &v), 3);
	assert_string_equal(v[0], "one");
	assert_string_equal(v[1], "two");
	assert_string_equal(v[2], "three");
	assert_null(v[3]);
	assert_int_equal(msg_header_values(m, "x-nonsense", true, &v), 0);
	assert_true(msg_header_exists(m, "from"));
	assert_true(msg_header_exists(m, "rEcEiVeD"));
	assert_false(msg_header_exists(m, "subject:"));
	assert_false(msg_header_exists(m, "to!"));
	assert_false(msg_header_exists(m, "fro"));
	assert_true(m->has_body);
	assert_string_equal(m->data + m->body_offset, "Test.\n");
	arena_unref(&a);
}

static void test_header_folding(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a,
		"X-Multiline: This is a multi-line\n"
		" header body, which should be\n"
		" unfolded correctly.\n"
		"X-Tab: a\n\tb\n\t\tc\n"
		"X-Crlf: a\r\n  b\r\n"
		"X-Ws: v1\n   \n"
		"\n");
	assert_string_equal(one(m, "x-multiline", true),
		"This is a multi-line header body, which should be unfolded correctly.");
	/* Dovecot turns the TAB that starts a continuation into a space and
	   keeps any further whitespace. */
	assert_string_equal(one(m, "x-tab", true), "a b \tc");
	assert_string_equal(one(m, "x-crlf", false), "a  b");
	assert_string_equal(one(m, "x-ws", true), "v1");
	arena_unref(&a);
}

static void test_header_whitespace(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a,
		"Subject:         Help\n"
		"X-A:     Text\n"
		"X-B: Text   \n"
		"X-C:\tTabbed\t\n"
		"Comments:\n"
		"X-Empty:    \n"
		"From   : spaced@example.org\n"
		"X-T\t: tabbed name\n"
		"\n");
	assert_string_equal(one(m, "subject", true), "Help");
	assert_string_equal(one(m, "x-a", true), "Text");
	assert_string_equal(one(m, "x-b", true), "Text");
	assert_string_equal(one(m, "x-c", true), "Tabbed");
	assert_string_equal(one(m, "comments", true), "");
	assert_string_equal(one(m, "x-empty", false), "");
	assert_string_equal(one(m, "from", true), "spaced@example.org");
	assert_string_equal(one(m, "x-t", true), "tabbed name");
	arena_unref(&a);
}

static void test_header_crlf(void **state)
{
	struct arena *a = arena_new(0);
	const char *msg = "From: a@b\r\nSubject: crlf\r\n folded\r\n\r\nbody\r\n";
	struct message *m = parse(a, msg);
	assert_int_equal(m->nheaders, 2);
	assert_string_equal(one(m, "subject", true), "crlf folded");
	assert_true(m->has_body);
	assert_string_equal(m->data + m->body_offset, "body\r\n");
	arena_unref(&a);
}

static void test_header_not_fields(void **state)
{
	struct arena *a = arena_new(0);
	/* As in Dovecot, lines without a colon do not end the header; they
	   (and their continuation lines) are ignored. */
	struct message *m = parse(a,
		"From a@b Mon Jan  1 00:00:00 2024\n"
		"From: a@b\n"
		"Garbage line\n"
		" cont: x\n"
		"Subject: x\n"
		"X Y: spaced name\n"
		": no name\n"
		"\n"
		"body\n");
	/* The mbox line has a colon, so it is a field named
	   "From a@b Mon Jan  1 00" (Dovecot reads it the same way). */
	assert_int_equal(m->nheaders, 5);
	assert_string_equal(one(m, "from", true), "a@b");
	assert_false(msg_header_exists(m, "garbage line"));
	assert_false(msg_header_exists(m, " cont"));
	assert_string_equal(one(m, "subject", true), "x");
	assert_string_equal(one(m, "x y", true), "spaced name");
	assert_string_equal(one(m, "", true), "no name");
	assert_string_equal(m->data + m->body_offset, "body\n");
	arena_unref(&a);
}

static void test_header_no_body(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a, "From: a@b\nSubject: No body is here!\n");
	assert_false(m->has_body);
	assert_int_equal(m->body_offset, m->size);
	assert_string_equal(one(m, "subject", true), "No body is here!");

	m = parse(a, "From: a@b\nSubject: no newline");
	assert_false(m->has_body);
	assert_string_equal(one(m, "subject", true), "no newline");

	m = parse(a, "From: a@b\n\n");
	assert_true(m->has_body);
	assert_int_equal(m->body_offset, m->size);

	m = parse(a, "\nbody only\n");
	assert_true(m->has_body);
	assert_int_equal(m->nheaders, 0);
	assert_int_equal(m->body_offset, 1);

	m = msg_parse(a, "", 0);
	assert_int_equal(m->nheaders, 0);
	assert_false(m->has_body);
	arena_unref(&a);
}

static void test_header_binary(void **state)
{
	struct arena *a = arena_new(0);
	static const char msg[] = "X-N: a\0b\nX-C: a\rb\nX-8: caf\xe9\n\nbody\0more";
	struct message *m = msg_parse(a, msg, sizeof(msg) - 1);
	assert_int_equal(m->nheaders, 3);
	/* NUL becomes 0x80 raw, and U+FFFD once decoded. */
	assert_string_equal(one(m, "x-n", false), "a\x80" "b");
	assert_string_equal(one(m, "x-n", true), "a\xEF\xBF\xBD" "b");
	assert_string_equal(one(m, "x-c", true), "a\rb");
	assert_string_equal(one(m, "x-8", false), "caf\xe9");
	assert_string_equal(one(m, "x-8", true), "caf\xEF\xBF\xBD");
	assert_true(m->has_body);
	assert_int_equal(m->size - m->body_offset, 9);
	arena_unref(&a);
}

static void test_header_invalid_utf8(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a,
		"X-A: [\xc3(]\n"
		"X-B: [\xe2\x82]\n"
		"X-C: [\xf0\x80\x80\x80]\n"
		"X-D: [\xed\xa0\x80]\n"
		"X-E: [\xff\xfe]\n"
		"X-F: [\xf4\x90\x80\x80]\n"
		"X-G: ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n"
		"\n");
	/* One U+FFFD per run of invalid bytes, as sieve-test shows. */
	assert_string_equal(one(m, "x-a", true), "[\xEF\xBF\xBD(]");
	assert_string_equal(one(m, "x-b", true), "[\xEF\xBF\xBD]");
	assert_string_equal(one(m, "x-c", true), "[\xEF\xBF\xBD]");
	assert_string_equal(one(m, "x-d", true), "[\xEF\xBF\xBD]");
	assert_string_equal(one(m, "x-e", true), "[\xEF\xBF\xBD]");
	assert_string_equal(one(m, "x-f", true), "[\xEF\xBF\xBD]");
	assert_string_equal(one(m, "x-g", true), "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	arena_unref(&a);
}

static void test_header_cache(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a, "Subject: =?utf-8?q?caf=C3=A9?=\n\n");
	const char *d1 = one(m, "subject", true);
	const char *d2 = one(m, "subject", true);
	assert_ptr_equal(d1, d2);
	assert_string_equal(one(m, "subject", false), "=?utf-8?q?caf=C3=A9?=");
	assert_string_equal(d1, "café");
	arena_unref(&a);
}

/*
 * RFC 2047
 */

static void test_2047_charsets(void **state)
{
	struct arena *a = arena_new(0);
	assert_string_equal(dec(a, "=?utf-8?q?caf=C3=A9?="), "café");
	assert_string_equal(dec(a, "=?UTF-8?B?Y2Fmw6k=?="), "café");
	assert_string_equal(dec(a, "=?iso-8859-1?b?Y2Fm6Q==?="), "café");
	assert_string_equal(dec(a, "=?ISO-8859-1?Q?Gr=FC=DFe?="), "Grüße");
	assert_string_equal(dec(a, "=?iso-8859-1?B?R3L832U=?="), "Grüße");
	assert_string_equal(dec(a, "=?windows-1252?q?=80uro?="), "€uro");
	assert_string_equal(dec(a, "=?utf-8?b?5pel5pys6Kqe44OG44Kt44K544OI?="), "日本語テキスト");
	/* A stateful charset: the shift state is flushed at the end. */
	assert_string_equal(dec(a, "=?ISO-2022-JP?B?GyRCJEgkUhsoQg==?="), "とひ");
	/* RFC 2231 language suffix. */
	assert_string_equal(dec(a, "=?iso-8859-1*de?q?Gr=FC=DFe?="), "Grüße");
	/* Unknown charset: what is valid is kept, the rest is U+FFFD. */
	assert_string_equal(dec(a, "=?unknown-charset?q?abc=E9?="), "abc\xEF\xBF\xBD");
	assert_string_equal(dec(a, "=??q?a?="), "a");
	/* us-ascii is read as UTF-8, as Dovecot does. */
	assert_string_equal(dec(a, "=?us-ascii?q?caf=C3=A9?="), "café");
	arena_unref(&a);
}

static void test_2047_whitespace(void **state)
{
	struct arena *a = arena_new(0);
	assert_string_equal(dec(a, "=?utf-8?q?a?= =?utf-8?q?b?="), "ab");
	assert_string_equal(dec(a, "=?utf-8?q?a?=  \r\n\t =?utf-8?q?b?="), "ab");
	assert_string_equal(dec(a, "=?utf-8?q?a?= x =?utf-8?q?b?="), "a x b");
	assert_string_equal(dec(a, "=?utf-8?q?a?==?utf-8?q?b?="), "ab");
	assert_string_equal(dec(a, "=?iso-8859-1?q?a?= =?utf-8?q?=C3=A9?="), "aé");
	assert_string_equal(dec(a, "x =?utf-8?q?a?= y"), "x a y");
	assert_string_equal(dec(a, "=?utf-8?q?a_b?="), "a b");
	assert_string_equal(dec(a, "=?utf-8?q?a b?="), "a b");
	/* Encoded words are found anywhere, as in Dovecot. */
	assert_string_equal(dec(a, "abc=?utf-8?q?d?=e"), "abcde");
	assert_string_equal(dec(a, "=?utf-8?b?YWJj?=def"), "abcdef");
	assert_string_equal(dec(a, "(=?utf-8?q?a?=) \"=?utf-8?q?b?=\""), "(a) \"b\"");
	/* Each word is converted alone: a character split over two words
	   is lost. */
	assert_string_equal(dec(a, "=?utf-8?q?=C3?= =?utf-8?q?=A9?="), "\xEF\xBF\xBD");
	arena_unref(&a);
}

static void test_2047_broken(void **state)
{
	struct arena *a = arena_new(0);
	assert_string_equal(dec(a, "=?utf-8?x?abc?="), "=?utf-8?x?abc?=");
	assert_string_equal(dec(a, "=?utf-8??a?="), "=?utf-8??a?=");
	assert_string_equal(dec(a, "=?utf-8?q?a?b?="), "=?utf-8?q?a?b?=");
	assert_string_equal(dec(a, "=?utf-8?q?abc"), "=?utf-8?q?abc");
	assert_string_equal(dec(a, "=?"), "=?");
	assert_string_equal(dec(a, "="), "=");
	assert_string_equal(dec(a, ""), "");
	assert_string_equal(dec(a, "=?utf-8?b?!!!?="), "");
	assert_string_equal(dec(a, "=?utf-8?b?YW?="), "a");
	assert_string_equal(dec(a, "=?utf-8?b?YQ?="), "a");
	assert_string_equal(dec(a, "=?utf-8?q?=ZZ=4?="), "=ZZ=4");
	assert_string_equal(dec(a, "=?utf-8?q?" "?="), "");
	assert_string_equal(dec(a, "=?utf-8?q?=FF?="), "\xEF\xBF\xBD");
	assert_string_equal(dec(a, "plain \xff text"), "plain \xEF\xBF\xBD text");
	assert_string_equal(dec(a, "=?utf-8?q?a?= =?bad"), "a=?bad");
	/* Dovecot's test "Erroneous mime encoding". */
	assert_string_equal(dec(a, "\"=?UTF-8?B?IkR1bWIgTWFpbGVyIg==?=\""),
			    "\"\"Dumb Mailer\"\"");
	arena_unref(&a);
}

static void test_2047_long_subject(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a,
		"Subject: =?UTF-8?B?5pel5pys6Kqe?=\n"
		" =?UTF-8?B?44OG44Kt44K5?=\n"
		"\t=?UTF-8?B?44OI?=\n"
		"\n");
	assert_string_equal(one(m, "subject", true), "日本語テキスト");
	arena_unref(&a);
}

static void test_charset_helpers(void **state)
{
	struct arena *a = arena_new(0);
	size_t len;
	const char *s = msg_charset_to_utf8(a, "iso-8859-1", "caf\xe9", 4, &len);
	assert_string_equal(s, "café");
	assert_int_equal(len, 5);
	s = msg_charset_to_utf8(a, "utf-8", "a\xff\xfe" "b", 4, &len);
	assert_string_equal(s, "a\xEF\xBF\xBD" "b");
	/* An invalid byte for the charset (0x81 is unassigned in cp1252). */
	s = msg_charset_to_utf8(a, "windows-1252", "a\x81" "b", 3, &len);
	assert_string_equal(s, "a\xEF\xBF\xBD" "b");
	s = msg_charset_to_utf8(a, "no-such-charset", "abc", 3, &len);
	assert_string_equal(s, "abc");
	s = msg_charset_to_utf8(a, "iso-8859-1", "", 0, &len);
	assert_string_equal(s, "");
	assert_true(msg_charset_is_utf8(NULL));
	assert_true(msg_charset_is_utf8("US-ASCII"));
	assert_true(msg_charset_is_utf8("UTF8"));
	assert_false(msg_charset_is_utf8("iso-8859-1"));
	arena_unref(&a);
}

/*
 * Addresses
 */

/* Parses value and checks "local@domain" of each address, separated by
   spaces, and the return value. */
static void check_addrs(struct arena *a, const char *value, int want_ret,
			const char *want)
{
	struct msg_address *ad;
	size_t n;
	int ret = msg_parse_address_list(a, value, &ad, &n);
	char got[1024] = "";
	for (size_t i = 0; i < n; i++) {
		assert_non_null(ad[i].local);
		assert_non_null(ad[i].domain);
		size_t l = strlen(got);
		snprintf(got + l, sizeof(got) - l, "%s%s@%s", i > 0 ? " " : "",
			 ad[i].local, ad[i].domain);
	}
	if (strcmp(got, want) != 0 || ret != want_ret)
		fail_msg("value [%s]: got [%s] ret %d, want [%s] ret %d",
			 value, got, ret, want, want_ret);
}

static void test_address_rfc5322_appendix(void **state)
{
	struct arena *a = arena_new(0);
	/* A.1.1 */
	check_addrs(a, "John Doe <jdoe@machine.example>", 0, "jdoe@machine.example");
	check_addrs(a, "Mary Smith <mary@example.net>", 0, "mary@example.net");
	/* A.1.2 */
	check_addrs(a, "\"Joe Q. Public\" <john.q.public@example.com>", 0,
		    "john.q.public@example.com");
	check_addrs(a, "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>", 0,
		    "mary@x.test jdoe@example.org one@y.test");
	check_addrs(a, "<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>", 0,
		    "boss@nil.test sysservices@example.net");
	/* A.1.3 */
	check_addrs(a, "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", 0,
		    "c@a.test joe@where.test jdoe@one.test");
	check_addrs(a, "Undisclosed recipients:;", -1, "");
	/* A.5 */
	check_addrs(a, "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", 0,
		    "pete@silly.test");
	check_addrs(a, "A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
		    "         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of the group)",
		    0, "c@public.example joe@example.org jdoe@one.test");
	/* A.6.1: obsolete forms. */
	check_addrs(a, "Joe Q. Public <john.q.public@example.com>", 0, "john.q.public@example.com");
	check_addrs(a, "Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example", -1,
		    "mary@example.net jdoe@test.example");
	check_addrs(a, "<@a,@b:u@h>", 0, "u@h");
	check_addrs(a, "A <@r1,@r2:a@b>", 0, "a@b");
	check_addrs(a, "<@r1 a@b>", 0, "a@b");
	/* A.6.3 */
	check_addrs(a, "John Doe <jdoe@machine(comment).  example>", 0, "jdoe@machine.example");
	check_addrs(a, "Mary Smith\n    \n\t<mary@example.net>", 0, "mary@example.net");
	arena_unref(&a);
}

static void test_address_pigeonhole(void **state)
{
	struct arena *a = arena_new(0);
	/* test-address.svtest */
	check_addrs(a, "nico@nl.example.com, harry@de.example.com", 0,
		    "nico@nl.example.com harry@de.example.com");
	check_addrs(a, "Timo <tss(no spam)@fi.iki>", 0, "tss@fi.iki");
	check_addrs(a, "Stephan Bosch <stephan(the author)@example.com>", 0, "stephan@example.com");
	check_addrs(a, "tukkers: henk@tukkerland.ex, theo@tukkerland.ex, frits@tukkerland.ex;", 0,
		    "henk@tukkerland.ex theo@tukkerland.ex frits@tukkerland.ex");
	check_addrs(a, "undisclosed-recipients:;", -1, "");
	check_addrs(a, "stephan@", -1, "");
	check_addrs(a, "@example.org", -1, "");
	check_addrs(a, "nonsense", -1, "");
	check_addrs(a, "", -1, "");
	check_addrs(a, "nico@frop.example.com, @example.org", -1, "nico@frop.example.com");
	check_addrs(a, "<jürgen@example.com>", -1, "");
	check_addrs(a, "=?UTF-8?B?RnJpZXBAZnJvcA0K?=\n\t<friep@example.com>", 0, "friep@example.com");
	check_addrs(a, "\"=?UTF-8?B?IkR1bWIgTWFpbGVyIg==?=\"\n\t<horde@lists.scotsmen.ex>", 0,
		    "horde@lists.scotsmen.ex");
	check_addrs(a, "\"Frop <frop@example.org>\"", -1, "");
	arena_unref(&a);
}

static void test_address_recovery(void **state)
{
	struct arena *a = arena_new(0);
	/* Each expectation was checked against Pigeonhole's sieve-test. */
	check_addrs(a, "a@b, nonsense, c@d", -1, "a@b c@d");
	check_addrs(a, "nonsense, c@d", -1, "c@d");
	check_addrs(a, "a@b, stephan@, c@d", -1, "a@b c@d");
	check_addrs(a, "a@b c@d", -1, "a@b");
	check_addrs(a, "A B <a@b", -1, "");
	check_addrs(a, "<>", -1, "");
	check_addrs(a, "A <>", -1, "");
	check_addrs(a, "x@y,", 0, "x@y");
	check_addrs(a, ",x@y", -1, "x@y");
	check_addrs(a, "a@b,,c@d", -1, "a@b c@d");
	check_addrs(a, "a@b, ,c@d", -1, "a@b c@d");
	check_addrs(a, "a@b, (x), c@d", -1, "a@b c@d");
	check_addrs(a, "A <a@b> junk, c@d", -1, "a@b");
	check_addrs(a, "a@b@c", -1, "a@b");
	check_addrs(a, "a@b>, c@d", -1, "a@b");
	check_addrs(a, "<<a@b>>", -1, "");
	check_addrs(a, "a@b (c", -1, "");
	check_addrs(a, "\"unterminated@b", -1, "");
	check_addrs(a, "a@b.., c@d", -1, "");
	check_addrs(a, "a@.b, c@d", -1, "");
	check_addrs(a, "a@b., c@d", -1, "c@d");
	check_addrs(a, "a@, c@d", -1, "c@d");
	check_addrs(a, "x <a@b, c@d", -1, "c@d");
	check_addrs(a, "x <a@.b>, c@d", -1, "");
	check_addrs(a, "x <a@b c>, d@e", -1, "");
	check_addrs(a, "a@[b, c@d", -1, "");
	check_addrs(a, "A B, c@d", -1, "c@d");
	check_addrs(a, "<a@b>c@d", -1, "a@b");
	check_addrs(a, "<@>a@b", -1, "");
	check_addrs(a, "a@b;c@d", -1, "a@b");
	check_addrs(a, "a:b@c", -1, "b@c");
	/* Groups */
	check_addrs(a, "g: a@b", -1, "a@b");
	check_addrs(a, "g:;, a@b", 0, "a@b");
	check_addrs(a, "g: nonsense, a@b;", -1, "a@b");
	check_addrs(a, "g: a@b, nonsense; c@d", -1, "a@b");
	check_addrs(a, "g: a@b; , c@d", 0, "a@b c@d");
	check_addrs(a, "g: <a@b>, B <c@d>;, e@f", 0, "a@b c@d e@f");
	check_addrs(a, "g: ;", -1, "");
	check_addrs(a, ":;", -1, "");
	check_addrs(a, ": a@b;", 0, "a@b");
	check_addrs(a, "a@b, g: c@d; e@f", -1, "a@b c@d");
	check_addrs(a, "g: h: a@b;;, c@d", -1, "");
	check_addrs(a, "g a@b", -1, "");
	/* Comments only: nothing at all, and no fallback. */
	check_addrs(a, "(comment)", 0, "");
	check_addrs(a, "(unterminated a@b", 0, "");
	arena_unref(&a);
}

static void test_address_parts(void **state)
{
	struct arena *a = arena_new(0);
	check_addrs(a, "a.@b", 0, "a.@b");
	check_addrs(a, ".a@b", 0, ".a@b");
	check_addrs(a, "a..b@c", 0, "a..b@c");
	check_addrs(a, "a . b@c", -1, "");
	check_addrs(a, "a .b@c", 0, "a.b@c");
	check_addrs(a, "a (x) .b .c@d", 0, "a.b.c@d");
	check_addrs(a, "a ..b@c", 0, "a..b@c");
	check_addrs(a, "a. b@c", -1, "");
	check_addrs(a, "a .  .b@c", -1, "");
	check_addrs(a, "a.(x)b@c", -1, "");
	check_addrs(a, "Name .-a@b", 0, "Name.-a@b");
	check_addrs(a, "g:Name ..a@b=?utf-8?q?a?=Name [1.2]<", -1, "Name..a@b=?utf-8?q?a?=Name");
	check_addrs(a, "\"a\".b@c", -1, "");
	check_addrs(a, "a@b . c", 0, "a@b.c");
	check_addrs(a, "a@[1.2.3.4]", 0, "a@[1.2.3.4]");
	check_addrs(a, "a@[IPv6:::1]", 0, "a@[IPv6:::1]");
	check_addrs(a, "a@[a\\]b]", 0, "a@[a\\]b]");
	check_addrs(a, "a@b.c.", -1, "");
	check_addrs(a, "a@-b", 0, "a@-b");
	check_addrs(a, "a@b_c", 0, "a@b_c");
	check_addrs(a, "a@\"b\"", -1, "");
	check_addrs(a, "a!#$%&*+/=?^_`{|}~@b", 0, "a!#$%&*+/=?^_`{|}~@b");
	check_addrs(a, "a(x)@(y)b", 0, "a@b");
	check_addrs(a, "Jürgen <j@example.com>", 0, "j@example.com");
	check_addrs(a, "j@exämple.com", 0, "j@exämple.com");
	check_addrs(a, "jürgen@example.com", -1, "");
	check_addrs(a, "\"jür gen\"@example.com", -1, "");
	check_addrs(a, "\"a b\"@c", 0, "a b@c");
	check_addrs(a, "\"q\\\"x y\"@c (comment)", 0, "q\"x y@c");
	check_addrs(a, "\"a\\\\b\"@c", 0, "a\\b@c");
	check_addrs(a, "\"a\r\n b\"@c", 0, "a b@c");
	/* The null address "" @c is neither matched nor called invalid. */
	check_addrs(a, "\"\" @c", 0, "");

	struct msg_address *ad;
	size_t n;
	assert_int_equal(msg_parse_address_list(a,
		"=?utf-8?q?G=C3=BCnther?= M. Karotte <g.m.karotte@example.com>, "
		"\"Dieter T.\" <d@e>, x@y", &ad, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ad[0].display, "Günther M. Karotte");
	assert_string_equal(ad[1].display, "Dieter T.");
	assert_null(ad[2].display);
	arena_unref(&a);
}

static void test_address_format(void **state)
{
	struct arena *a = arena_new(0);
	assert_string_equal(msg_address_format(a, "a", "b"), "a@b");
	assert_string_equal(msg_address_format(a, "a.b.c", "d"), "a.b.c@d");
	assert_string_equal(msg_address_format(a, "a.", "b"), "\"a.\"@b");
	assert_string_equal(msg_address_format(a, ".a", "b"), "\".a\"@b");
	assert_string_equal(msg_address_format(a, "a..b", "c"), "\"a..b\"@c");
	assert_string_equal(msg_address_format(a, "q\"x y", "c"), "\"q\\\"x y\"@c");
	assert_string_equal(msg_address_format(a, "a\\b", "c"), "\"a\\\\b\"@c");
	assert_string_equal(msg_address_format(a, "", "c"), "\"\"@c");
	assert_string_equal(msg_address_format(a, "MAILER-DAEMON", NULL), "MAILER-DAEMON");
	arena_unref(&a);
}

static void test_address_items(void **state)
{
	struct arena *a = arena_new(0);
	struct msg_address_item *it;
	size_t n;

	n = msg_address_items(a, "", &it);
	assert_int_equal(n, 1);
	assert_string_equal(it[0].all, "");
	assert_string_equal(it[0].local, "");
	assert_string_equal(it[0].domain, "");

	n = msg_address_items(a, "  nonsense ", &it);
	assert_int_equal(n, 1);
	assert_string_equal(it[0].all, "nonsense");
	assert_null(it[0].local);
	assert_null(it[0].domain);

	n = msg_address_items(a, "undisclosed-recipients:;", &it);
	assert_int_equal(n, 1);
	assert_string_equal(it[0].all, "undisclosed-recipients:;");
	assert_null(it[0].local);

	n = msg_address_items(a, "<jürgen@example.com>", &it);
	assert_int_equal(n, 1);
	assert_string_equal(it[0].all, "<jürgen@example.com>");

	assert_int_equal(msg_address_items(a, "(comment)", &it), 0);
	assert_int_equal(msg_address_items(a, "\"\" @c", &it), 0);

	n = msg_address_items(a, "A <\"a b\"@c>, x.@y, nonsense, d@E", &it);
	assert_int_equal(n, 3);
	assert_string_equal(it[0].all, "\"a b\"@c");
	assert_string_equal(it[0].local, "a b");
	assert_string_equal(it[0].domain, "c");
	assert_string_equal(it[1].all, "\"x.\"@y");
	assert_string_equal(it[2].all, "d@E");
	arena_unref(&a);
}

static void check_path(struct arena *a, const char *value, int want_ret,
		       const char *want_local, const char *want_domain)
{
	struct msg_address ad;
	int ret = msg_parse_path(a, value, &ad);
	if (ret != want_ret)
		fail_msg("path [%s]: ret %d, want %d", value, ret, want_ret);
	if (ret < 0)
		return;
	assert_string_equal(ad.local, want_local);
	if (want_domain == NULL)
		assert_null(ad.domain);
	else
		assert_string_equal(ad.domain, want_domain);
}

static void test_path(void **state)
{
	struct arena *a = arena_new(0);
	check_path(a, "", 0, "", NULL);
	check_path(a, "<>", 0, "", NULL);
	check_path(a, "user@example.org", 0, "user", "example.org");
	check_path(a, "<stephan@example.org>", 0, "stephan", "example.org");
	check_path(a, "hutsefluts@", -1, NULL, NULL);
	check_path(a, "<<stephan@example.org>", -1, NULL, NULL);
	check_path(a, "stephan@example.org>", -1, NULL, NULL);
	check_path(a, "<stephan@example.org", -1, NULL, NULL);
	check_path(a, "<stephan example.org>", -1, NULL, NULL);
	check_path(a, "<stephan@@example.org>", -1, NULL, NULL);
	check_path(a, "<@cola.example.org:stephan@example.org>", 0, "stephan", "example.org");
	check_path(a, "<@cola.example.org,@mx.utwente.nl:stephan@example.org>", 0,
		   "stephan", "example.org");
	check_path(a, "<@cola.example.org,@mx.utwente.nl,@smtp.example.net:stephan@example.org>", 0,
		   "stephan", "example.org");
	check_path(a, "<cola.example.org:stephan@example.org>", -1, NULL, NULL);
	check_path(a, "<@.example.org:stephan@example.org>", -1, NULL, NULL);
	check_path(a, "<@cola..nl:stephan@example.org>", -1, NULL, NULL);
	check_path(a, "<@cola.example.orgstephan@example.org>", -1, NULL, NULL);
	check_path(a, "<@cola.example.org@mx.utwente.nl:stephan@example.org>", -1, NULL, NULL);
	check_path(a, "<@cola.example.org,mx.utwente.nl:stephan@example.org>", -1, NULL, NULL);
	check_path(a, "<@cola.example.org,@mx.utwente.nl,stephan@example.org>", -1, NULL, NULL);
	check_path(a, "<MAILER-DAEMON>", 0, "MAILER-DAEMON", NULL);
	check_path(a, "MAILER-DAEMON", 0, "MAILER-DAEMON", NULL);
	check_path(a, "MAILER-DAEMON@", -1, NULL, NULL);
	check_path(a, ".japanese@example.com", 0, ".japanese", "example.com");
	check_path(a, "japanese.@example.com", 0, "japanese.", "example.com");
	check_path(a, "..japanese...localpart..@example.com", 0,
		   "..japanese...localpart..", "example.com");
	check_path(a, "japanese@_example.com", 0, "japanese", "_example.com");
	check_path(a, "japanese@example_.com", 0, "japanese", "example_.com");
	check_path(a, "japanese@-example.com", 0, "japanese", "-example.com");
	check_path(a, "japanese@example-.com", 0, "japanese", "example-.com");
	check_path(a, "a@example.com.", -1, NULL, NULL);
	check_path(a, "<\"a b\\\"c\"@example.com>", 0, "a b\"c", "example.com");
	check_path(a, "a@[192.0.2.1]", 0, "a", "[192.0.2.1]");
	check_path(a, " <a@b> ", 0, "a", "b");
	check_path(a, "<", -1, NULL, NULL);
	check_path(a, ">", -1, NULL, NULL);
	check_path(a, "\"unterminated@b", -1, NULL, NULL);
	arena_unref(&a);
}

static void test_normalize(void **state)
{
	struct arena *a = arena_new(0);
	/* compile/errors/out-address.sieve: errors */
	static const char *const bad[] = {
		"@wrong.example.com", "error", "error@", "Stephan Bosch error@example.org",
		"Stephan Bosch <error@example.org", " more error @  example.com  ", "@", "<>",
		"Error <", "Error <stephan", "Error <stephan@", "stephan@example.org,tss@example.net",
		"stephan@example.org,%&^&!!~", "rüdiger@example.com", "Error", "",
		"group: a@b;", "a@b.",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (msg_normalize_address(a, bad[i]) != NULL)
			fail_msg("accepted [%s]", bad[i]);
	assert_string_equal(msg_normalize_address(a, "Ok Good <stephan@example.org>"),
			    "stephan@example.org");
	assert_string_equal(msg_normalize_address(a, "ok@example.com"), "ok@example.com");
	assert_string_equal(msg_normalize_address(a, " more  @  example.com  "), "more@example.com");
	assert_string_equal(msg_normalize_address(a, ".japanese@example.com"),
			    "\".japanese\"@example.com");
	assert_string_equal(msg_normalize_address(a, "..japanese...localpart..@example.com"),
			    "\"..japanese...localpart..\"@example.com");
	assert_string_equal(msg_normalize_address(a, "good@voorbeeld.nl.example.com"),
			    "good@voorbeeld.nl.example.com");
	assert_string_equal(msg_normalize_address(a, "Timo <tss(no spam)@fi.iki> (x)"), "tss@fi.iki");
	assert_string_equal(msg_normalize_address(a, "\"a b\"@c"), "\"a b\"@c");
	arena_unref(&a);
}

/*
 * MIME
 */

static const char *part_body(struct arena *a, struct msg_mime_part *p)
{
	return arena_strndup(a, p->body, p->body_len);
}

static const char *part_type(struct arena *a, struct msg_mime_part *p)
{
	return arena_printf(a, "%s/%s", p->type, p->subtype);
}

static void test_mime_nested(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a,
		"From: Whomever <whoever@example.com>\n"
		"Subject: whatever\n"
		"Content-Type: multipart/mixed; boundary=outer\n"
		"\n"
		"This is a multi-part message in MIME format.\n"
		"\n"
		"--outer\n"
		"Content-Type: multipart/alternative; boundary=inner\n"
		"\n"
		"This is a nested multi-part message in MIME format.\n"
		"\n"
		"--inner\n"
		"Content-Type: text/plain; charset=\"us-ascii\"\n"
		"\n"
		"Hello\n"
		"\n"
		"--inner\n"
		"Content-Type: text/html; charset=\"us-ascii\"\n"
		"\n"
		"<html><body>Hello</body></html>\n"
		"\n"
		"--inner--\n"
		"\n"
		"This is the end of the inner MIME multipart.\n"
		"\n"
		"--outer\n"
		"Content-Type: message/rfc822\n"
		"\n"
		"From: Someone Else\n"
		"Subject: Hello, this is an elaborate request for you to finally say hello\n"
		" already!\n"
		"\n"
		"Please say Hello\n"
		"\n"
		"--outer--\n"
		"\n"
		"This is the end of the outer MIME multipart.\n");
	struct msg_mime_part *root = msg_mime_parse(m);
	assert_ptr_equal(root, msg_mime_parse(m));
	assert_string_equal(part_type(a, root), "multipart/mixed");
	assert_true(root->is_multipart);
	assert_int_equal(root->depth, 0);
	assert_int_equal(root->nchildren, 2);
	assert_string_equal(arena_strndup(a, root->preamble, root->preamble_len),
			    "This is a multi-part message in MIME format.\n");
	assert_string_equal(arena_strndup(a, root->epilogue, root->epilogue_len),
			    "\nThis is the end of the outer MIME multipart.\n");
	assert_string_equal(arena_strndup(a, root->header_start, root->header_len),
			    "From: Whomever <whoever@example.com>\n"
			    "Subject: whatever\n"
			    "Content-Type: multipart/mixed; boundary=outer\n");

	struct msg_mime_part *alt = root->children;
	assert_string_equal(part_type(a, alt), "multipart/alternative");
	assert_ptr_equal(alt->parent, root);
	assert_int_equal(alt->depth, 1);
	assert_int_equal(alt->nchildren, 2);
	assert_string_equal(arena_strndup(a, alt->preamble, alt->preamble_len),
			    "This is a nested multi-part message in MIME format.\n");
	assert_string_equal(arena_strndup(a, alt->epilogue, alt->epilogue_len),
			    "\nThis is the end of the inner MIME multipart.\n");
	struct msg_mime_part *plain = alt->children, *html = plain->next;
	assert_string_equal(part_type(a, plain), "text/plain");
	assert_string_equal(plain->charset, "us-ascii");
	assert_string_equal(part_body(a, plain), "Hello\n");
	assert_string_equal(part_type(a, html), "text/html");
	assert_string_equal(part_body(a, html), "<html><body>Hello</body></html>\n");
	assert_null(html->next);
	assert_int_equal(plain->depth, 2);

	struct msg_mime_part *rfc = alt->next;
	assert_string_equal(part_type(a, rfc), "message/rfc822");
	assert_true(rfc->is_message);
	assert_false(rfc->is_multipart);
	assert_int_equal(rfc->nchildren, 1);
	struct msg_mime_part *inner = rfc->children;
	assert_string_equal(part_type(a, inner), "text/plain");
	assert_string_equal(arena_strndup(a, inner->header_start, inner->header_len),
			    "From: Someone Else\n"
			    "Subject: Hello, this is an elaborate request for you to finally say hello\n"
			    " already!\n");
	assert_string_equal(part_body(a, inner), "Please say Hello\n");
	const char **v;
	assert_int_equal(msg_part_header_values(m, inner, "subject", true, &v), 1);
	assert_string_equal(v[0],
		"Hello, this is an elaborate request for you to finally say hello already!");
	assert_int_equal(msg_part_header_values(m, root, "subject", true, &v), 1);
	assert_string_equal(v[0], "whatever");
	assert_null(rfc->next);
	arena_unref(&a);
}

static void test_mime_boundaries(void **state)
{
	struct arena *a = arena_new(0);
	/* Prefix match ("--AAB" is a boundary of "AA", as in Dovecot),
	   trailing blanks, CRLF, and the line break before a boundary. */
	struct message *m = parse(a,
		"Content-Type: multipart/mixed; boundary=\"AA\"\r\n"
		"\r\n"
		"pre\r\n"
		"--AA\r\n"
		"Content-Type: text/plain\r\n"
		"\r\n"
		"one\r\n"
		"\r\n"
		"--AAB\r\n"
		"Content-Type: text/html\r\n"
		"\r\n"
		"two\r\n"
		"--AA  \r\n"
		"Content-Type: text/x-three\r\n"
		"\r\n"
		"three\r\n"
		"--AA--\r\n"
		"epi\r\n");
	struct msg_mime_part *root = msg_mime_parse(m);
	assert_int_equal(root->nchildren, 3);
	assert_string_equal(arena_strndup(a, root->preamble, root->preamble_len), "pre");
	assert_string_equal(arena_strndup(a, root->epilogue, root->epilogue_len), "epi\r\n");
	struct msg_mime_part *p = root->children;
	assert_string_equal(part_body(a, p), "one\r\n");
	p = p->next;
	assert_string_equal(part_type(a, p), "text/html");
	assert_string_equal(part_body(a, p), "two");
	p = p->next;
	assert_string_equal(part_type(a, p), "text/x-three");
	assert_string_equal(part_body(a, p), "three");
	arena_unref(&a);
}

static void test_mime_missing_end(void **state)
{
	struct arena *a = arena_new(0);
	/* Inner multipart never closed: the outer boundary ends it; the outer
	   one is never closed either. */
	struct message *m = parse(a,
		"Content-Type: multipart/mixed; boundary=\"AA\"\n"
		"\n"
		"--AA\n"
		"Content-Type: multipart/alternative; boundary=BB\n"
		"\n"
		"--BB\n"
		"Content-Type: text/plain\n"
		"\n"
		"inner1\n"
		"--AA\n"
		"Content-Type: text/x-after\n"
		"\n"
		"after\n");
	struct msg_mime_part *root = msg_mime_parse(m);
	assert_int_equal(root->nchildren, 2);
	struct msg_mime_part *alt = root->children;
	assert_int_equal(alt->nchildren, 1);
	assert_string_equal(part_body(a, alt->children), "inner1");
	assert_int_equal(alt->epilogue_len, 0);
	assert_string_equal(part_body(a, alt->next), "after\n");
	assert_string_equal(part_type(a, alt->next), "text/x-after");
	assert_int_equal(root->epilogue_len, 0);
	arena_unref(&a);
}

static void test_mime_degenerate(void **state)
{
	struct arena *a = arena_new(0);
	/* No boundary parameter: a leaf, type kept. */
	struct message *m = parse(a,
		"Content-Type: multipart/mixed\n\n--AA\nContent-Type: text/plain\n\nx\n--AA--\n");
	struct msg_mime_part *root = msg_mime_parse(m);
	assert_false(root->is_multipart);
	assert_int_equal(root->nchildren, 0);
	assert_string_equal(part_type(a, root), "multipart/mixed");
	assert_string_equal(part_body(a, root), "--AA\nContent-Type: text/plain\n\nx\n--AA--\n");

	/* No Content-Type: text/plain; the first Content-Type wins; a part
	   header cut short by a boundary; a type without subtype. */
	m = parse(a,
		"Content-Type: multipart/mixed; boundary=A\n"
		"Content-Type: text/plain\n"
		"\n"
		"--A\n"
		"Content-Type: TEXT/HTML; charset=utf-8\n"
		"--A\n"
		"Content-Type: text\n"
		"\n"
		"body3\n"
		"--A\n"
		"\n"
		"body4\n"
		"--A\n"
		"Content-Type: /plain\n"
		"\n"
		"--A--\n");
	root = msg_mime_parse(m);
	assert_true(root->is_multipart);
	assert_int_equal(root->nchildren, 4);
	struct msg_mime_part *p = root->children;
	assert_string_equal(part_type(a, p), "text/html");
	assert_string_equal(p->charset, "utf-8");
	assert_int_equal(p->body_len, 0);
	assert_int_equal(p->nheaders, 1);
	p = p->next;
	assert_string_equal(p->type, "text");
	assert_string_equal(p->subtype, "");
	assert_string_equal(part_body(a, p), "body3");
	p = p->next;
	assert_string_equal(part_type(a, p), "text/plain");
	assert_int_equal(p->nheaders, 0);
	assert_string_equal(part_body(a, p), "body4");
	p = p->next;
	assert_string_equal(part_type(a, p), "text/plain");

	/* Not MIME at all. */
	m = parse(a, "Subject: plain\n\nJust text.\n");
	root = msg_mime_parse(m);
	assert_string_equal(part_type(a, root), "text/plain");
	assert_null(root->charset);
	assert_null(root->encoding);
	assert_string_equal(part_body(a, root), "Just text.\n");

	/* No body at all. */
	m = parse(a, "Subject: none\n");
	root = msg_mime_parse(m);
	assert_int_equal(root->body_len, 0);
	assert_int_equal(root->header_len, m->size);
	arena_unref(&a);
}

static void test_mime_8bit_boundary(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a,
		"Content-Type: multipart/mixed; boundary=\"b\xe9" "b\"\n"
		"\n"
		"--b\xe9" "b\n"
		"\n"
		"one\n"
		"--b\xe9" "b--\n");
	struct msg_mime_part *root = msg_mime_parse(m);
	assert_int_equal(root->nchildren, 1);
	assert_string_equal(part_body(a, root->children), "one");
	/* The public accessor returns valid UTF-8. */
	assert_string_equal(msg_part_param(m, root, "boundary"), "b\xEF\xBF\xBD" "b");
	arena_unref(&a);
}

static void test_mime_digest(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a,
		"Content-Type: multipart/digest; boundary=D\n"
		"\n"
		"--D\n"
		"\n"
		"From: x@y\n"
		"Subject: s\n"
		"\n"
		"msgbody\n"
		"--D\n"
		"Content-Type: text/plain\n"
		"\n"
		"plain\n"
		"--D--\n");
	struct msg_mime_part *root = msg_mime_parse(m);
	assert_int_equal(root->nchildren, 2);
	struct msg_mime_part *p = root->children;
	assert_string_equal(part_type(a, p), "message/rfc822");
	assert_true(p->is_message);
	assert_string_equal(part_type(a, p->children), "text/plain");
	assert_string_equal(part_body(a, p->children), "msgbody");
	const char **v;
	assert_int_equal(msg_part_header_values(m, p->children, "subject", false, &v), 1);
	assert_string_equal(v[0], "s");
	assert_string_equal(part_type(a, p->next), "text/plain");
	arena_unref(&a);
}

static void test_mime_decoding(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a,
		"Content-Type: multipart/mixed; boundary=A\n"
		"\n"
		"--A\n"
		"Content-Type: text\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		"aGVsbG8gd29y\n"
		"bGQ=\n"
		"--A\n"
		"Content-Type: text/plain; charset=iso-8859-1\n"
		"Content-Transfer-Encoding: Quoted-Printable\n"
		"\n"
		"caf=E9 =\n"
		"soft=3D  \n"
		"line2=\n"
		"--A\n"
		"Content-Type: application/octet-stream\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		"AAEC/w==\n"
		"--A\n"
		"Content-Type: text/plain\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		"aGVs!bG8=\n"
		"--A\n"
		"Content-Type: text/plain\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		"aGVs\r\n bG8=aGVsbG8=\n"
		"--A\n"
		"Content-Type: text/plain; charset=\"windows-1252\"\n"
		"Content-Transfer-Encoding: 8bit\n"
		"\n"
		"\x80 5\n"
		"--A\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"Content-Transfer-Encoding: quoted-printable\n"
		"\n"
		"bad =ZZ escape and =C3=A9 and =e2=82=ac\n"
		"--A\n"
		"Content-Type: text/plain; charset=x-unknown\n"
		"\n"
		"ok \xff\n"
		"--A--\n");
	struct msg_mime_part *root = msg_mime_parse(m);
	assert_int_equal(root->nchildren, 8);
	struct msg_mime_part *p = root->children;
	size_t len;
	assert_string_equal(msg_part_decoded_body(m, p, &len), "hello world");
	assert_int_equal(len, 11);
	p = p->next;
	assert_string_equal(p->encoding, "quoted-printable");
	assert_string_equal(msg_part_decoded_body(m, p, &len), "café soft=\r\nline2");
	p = p->next;
	const char *bin = msg_part_decoded_body(m, p, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(bin, "\x00\x01\x02\xff", 4);
	/* Decoding stops at a bad character or at the padding (Dovecot). */
	p = p->next;
	assert_string_equal(msg_part_decoded_body(m, p, NULL), "hel");
	p = p->next;
	assert_string_equal(msg_part_decoded_body(m, p, NULL), "hello");
	p = p->next;
	assert_string_equal(msg_part_decoded_body(m, p, NULL), "€ 5");
	p = p->next;
	assert_string_equal(msg_part_decoded_body(m, p, NULL), "bad =ZZ escape and é and €");
	p = p->next;
	assert_string_equal(msg_part_decoded_body(m, p, NULL), "ok \xEF\xBF\xBD");
	arena_unref(&a);
}

static void test_mime_dovecot_decoding(void **state)
{
	struct arena *a = arena_new(0);
	/* Checked against sieve-test: the last Content-Transfer-Encoding
	   counts, the first Content-Type (and its charset); base64 stops at a
	   bad character keeping a partial group; message/rfc822 is parsed
	   whatever its encoding; a truncated final UTF-8 character is
	   dropped. */
	struct message *m = parse(a,
		"Content-Type: multipart/mixed; boundary=A\n"
		"\n"
		"--A\n"
		"Content-Transfer-Encoding: base64\n"
		"Content-Transfer-Encoding: quoted-printable\n"
		"Content-Type: text/plain; charset=iso-8859-1\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"\n"
		"caf=E9\n"
		"--A\n"
		"Content-Type: application/octet-stream\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		"Content-Type\n"
		"--A\n"
		"Content-Type: message/rfc822\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		"Subject: inner\n"
		"\n"
		"inner body\n"
		"--A\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"\n"
		"caf\xc3\n"
		"--A--\n");
	struct msg_mime_part *root = msg_mime_parse(m);
	assert_int_equal(root->nchildren, 4);
	struct msg_mime_part *p = root->children;
	assert_string_equal(p->encoding, "quoted-printable");
	assert_string_equal(p->charset, "iso-8859-1");
	assert_string_equal(msg_part_decoded_body(m, p, NULL), "café");
	p = p->next;
	/* "Cont" + "ent" then '-': 3 + 2 bytes. */
	size_t len;
	const char *b = msg_part_decoded_body(m, p, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(b + 3, "z{", 2);
	p = p->next;
	assert_true(p->is_message);
	assert_int_equal(p->nchildren, 1);
	assert_string_equal(part_body(a, p->children), "inner body");
	p = p->next;
	assert_string_equal(msg_part_decoded_body(m, p, NULL), "caf");
	arena_unref(&a);
}

static void test_mime_params(void **state)
{
	struct arena *a = arena_new(0);
	struct message *m = parse(a,
		"Content-Type: application/x-stuff;\n"
		"\ttitle*0*=us-ascii'en'This%20is%20even%20more%20;\n"
		"\ttitle*1*=%2A%2A%2Afun%2A%2A%2A%20;\n"
		"\ttitle*2=\"isn't it!\"\n"
		"\n"
		"Frop\n");
	struct msg_mime_part *root = msg_mime_parse(m);
	assert_string_equal(msg_part_param(m, root, "title"),
			    "This is even more ***fun*** isn't it!");
	assert_string_equal(msg_part_param(m, root, "TITLE"),
			    "This is even more ***fun*** isn't it!");
	assert_null(msg_part_param(m, root, "charset"));

	const char *type, *subtype;
	struct msg_param *pa;
	size_t n = msg_parse_mime_value(a, "text/calendar; method=request; charset=UTF-8;",
					&type, &subtype, &pa);
	assert_string_equal(type, "text");
	assert_string_equal(subtype, "calendar");
	assert_int_equal(n, 2);
	assert_string_equal(pa[0].name, "method");
	assert_string_equal(pa[0].value, "request");
	assert_string_equal(pa[1].name, "charset");
	assert_string_equal(pa[1].value, "UTF-8");

	n = msg_parse_mime_value(a, "inline; filename=\"frop.exe\"; title=\"Frop!\"",
				 &type, &subtype, &pa);
	assert_string_equal(type, "inline");
	assert_string_equal(subtype, "");
	assert_int_equal(n, 2);
	assert_string_equal(pa[0].value, "frop.exe");
	assert_string_equal(pa[1].value, "Frop!");

	n = msg_parse_mime_value(a, "Text/Plain (comment) ; Charset = \"a\\\"b\" ; junk ; x=1",
				 &type, &subtype, &pa);
	assert_string_equal(type, "Text");
	assert_string_equal(subtype, "Plain");
	assert_int_equal(n, 2);
	assert_string_equal(pa[0].name, "charset");
	assert_string_equal(pa[0].value, "a\"b");
	assert_string_equal(pa[1].value, "1");

	n = msg_parse_mime_value(a, "attachment; filename*=iso-8859-1''Gr%FC%DFe.txt; "
				 "filename=fallback.txt", &type, &subtype, &pa);
	assert_int_equal(n, 1);
	assert_string_equal(pa[0].name, "filename");
	assert_string_equal(pa[0].value, "Grüße.txt");

	n = msg_parse_mime_value(a, "", &type, &subtype, &pa);
	assert_string_equal(type, "");
	assert_int_equal(n, 0);
	/* Out-of-range section numbers are not RFC 2231: a plain name. */
	n = msg_parse_mime_value(a, "; ; = ; a*9999999999=x; \"", &type, &subtype, &pa);
	assert_int_equal(n, 1);
	assert_string_equal(pa[0].name, "a*9999999999");
	/* Sections in order, stopping at a gap; no section 0: dropped. */
	n = msg_parse_mime_value(a, "a; x*0=abc; x*1*=%41; x*3=zz; x*=bad; y*1=only1",
				 &type, &subtype, &pa);
	assert_int_equal(n, 1);
	assert_string_equal(pa[0].name, "x");
	assert_string_equal(pa[0].value, "abcA");
	arena_unref(&a);
}

/*
 * Bounds and hostile input
 */

static void test_bounds_mime_depth(void **state)
{
	struct arena *a = arena_new(0);
	size_t depth = 300, cap = depth * 80 + 100, len = 0;
	char *buf = malloc(cap);
	for (size_t i = 0; i < depth; i++)
		len += (size_t)snprintf(buf + len, cap - len,
			"Content-Type: multipart/mixed; boundary=b%zu\n\n--b%zu\n", i, i);
	len += (size_t)snprintf(buf + len, cap - len, "\nleaf\n");
	struct message *m = msg_parse(a, buf, len);
	struct msg_mime_part *p = msg_mime_parse(m);
	int max_depth = 0;
	while (p != NULL) {
		if (p->depth > max_depth)
			max_depth = p->depth;
		p = p->children;
	}
	assert_int_equal(max_depth, MSG_MIME_MAX_DEPTH);
	free(buf);
	arena_unref(&a);
}

static size_t count_parts(const struct msg_mime_part *p)
{
	size_t n = 1;
	for (const struct msg_mime_part *c = p->children; c != NULL; c = c->next)
		n += count_parts(c);
	return n;
}

static void test_bounds_mime_parts(void **state)
{
	struct arena *a = arena_new(0);
	size_t nparts = 30000, cap = nparts * 16 + 200, len = 0;
	char *buf = malloc(cap);
	len += (size_t)snprintf(buf + len, cap - len,
				"Content-Type: multipart/mixed; boundary=x\n\n");
	for (size_t i = 0; i < nparts; i++)
		len += (size_t)snprintf(buf + len, cap - len, "--x\n\nbody\n");
	len += (size_t)snprintf(buf + len, cap - len, "--x--\n");
	clock_t t = clock();
	struct message *m = msg_parse(a, buf, len);
	struct msg_mime_part *root = msg_mime_parse(m);
	assert_true(seconds_since(t) < 5.0);
	assert_int_equal(count_parts(root), MSG_MIME_MAX_PARTS);
	/* What did not fit stays in the epilogue. */
	assert_true(root->epilogue_len > 0);
	free(buf);
	arena_unref(&a);
}

static void test_bounds_huge_headers(void **state)
{
	struct arena *a = arena_new(0);
	/* One 1 MB folded header full of almost-encoded-words. */
	size_t cap = 1100000, len = 0;
	char *buf = malloc(cap);
	len += (size_t)snprintf(buf + len, cap - len, "Subject: ");
	while (len < 1000000) {
		len += (size_t)snprintf(buf + len, cap - len, "=?utf-8?q?a?= =?x =?? ?=\n ");
	}
	len += (size_t)snprintf(buf + len, cap - len, "end\n\nbody\n");
	clock_t t = clock();
	struct message *m = msg_parse(a, buf, len);
	const char *s = one(m, "subject", true);
	assert_true(strlen(s) > 100000);
	const char **v;
	assert_int_equal(msg_header_values(m, "subject", false, &v), 1);
	struct msg_address *ad;
	size_t n;
	(void)msg_parse_address_list(a, v[0], &ad, &n);
	assert_true(seconds_since(t) < 5.0);
	free(buf);

	/* 100k headers. */
	cap = 100000 * 24 + 100;
	len = 0;
	buf = malloc(cap);
	for (size_t i = 0; i < 100000; i++)
		len += (size_t)snprintf(buf + len, cap - len, "X-H%zu: v%zu\n", i % 7, i);
	len += (size_t)snprintf(buf + len, cap - len, "\nbody\n");
	t = clock();
	m = msg_parse(a, buf, len);
	assert_int_equal(m->nheaders, 100000);
	assert_int_equal(msg_header_values(m, "x-h3", true, &v), 14286);
	assert_string_equal(v[0], "v3");
	assert_false(msg_header_exists(m, "x-h7"));
	assert_true(seconds_since(t) < 5.0);
	free(buf);

	/* A huge address list, and huge nested comments. */
	cap = 2000000;
	buf = malloc(cap);
	len = 0;
	while (len < 1000000)
		len += (size_t)snprintf(buf + len, cap - len, "a%zu@b, ", len);
	t = clock();
	assert_int_equal(msg_parse_address_list(a, buf, &ad, &n), 0);
	assert_true(n > 50000);
	memset(buf, '(', 1000000);
	buf[1000000] = '\0';
	assert_int_equal(msg_parse_address_list(a, buf, &ad, &n), 0);
	assert_int_equal(n, 0);
	memset(buf, '<', 1000000);
	assert_int_equal(msg_parse_address_list(a, buf, &ad, &n), -1);
	memset(buf, 'a', 1000000);
	assert_int_equal(msg_parse_address_list(a, buf, &ad, &n), -1);
	for (size_t i = 0; i < 1000000; i += 2) {
		buf[i] = 'a';
		buf[i + 1] = ' ';
	}
	assert_int_equal(msg_parse_address_list(a, buf, &ad, &n), -1);
	assert_true(seconds_since(t) < 5.0);
	free(buf);

	/* Many boundary-like lines under deep nesting. */
	cap = 3000000;
	buf = malloc(cap);
	len = 0;
	for (size_t i = 0; i < MSG_MIME_MAX_DEPTH; i++)
		len += (size_t)snprintf(buf + len, cap - len,
			"Content-Type: multipart/mixed; boundary=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb%03zu\n\n"
			"--bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb%03zu\n", i, i);
	while (len < 2500000)
		len += (size_t)snprintf(buf + len, cap - len,
			"--bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbx\n");
	t = clock();
	m = msg_parse(a, buf, len);
	(void)msg_mime_parse(m);
	assert_true(seconds_since(t) < 10.0);
	free(buf);
	arena_unref(&a);
}

/* Pseudo-random garbage through every entry point; run under ASan. */
static void test_fuzz_garbage(void **state)
{
	static const char *const pieces[] = {
		"\n", "\r\n", " ", "\t", ":", "From: ", "To: ", "Content-Type: multipart/mixed; boundary=z\n",
		"--z\n", "--z--\n", "\n\n", "=?utf-8?q?", "=?iso-8859-1?b?", "?=", "=C3", "=", "?",
		"\"", "\\", "(", ")", "<", ">", "@", ",", ";", "[", "]", ".", "a", "b@c", "\xff",
		"\xc3", "\0", "Content-Transfer-Encoding: base64\n", "Content-Type: message/rfc822\n",
		"Content-Type: text/plain; charset=iso-2022-jp\n", "\x1b$B", "*0*=", "'",
	};
	unsigned int seed = 12345;
	struct arena *a = arena_new(0);
	for (int iter = 0; iter < 3000; iter++) {
		char buf[2048];
		size_t len = 0;
		size_t npieces = (size_t)(seed % 60);
		for (size_t i = 0; i < npieces; i++) {
			seed = seed * 1103515245u + 12345u;
			const char *pc = pieces[(seed >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t pl = pc[0] == '\0' ? 1 : strlen(pc);
			if (len + pl >= sizeof(buf))
				break;
			memcpy(buf + len, pc, pl);
			len += pl;
		}
		seed = seed * 1103515245u + 12345u;
		char *data = malloc(len + 1);
		memcpy(data, buf, len);
		struct message *m = msg_parse(a, data, len);
		for (size_t i = 0; i < m->nheaders; i++) {
			const char *raw = msg_header_value(a, &m->headers[i], false);
			(void)msg_header_value(a, &m->headers[i], true);
			struct msg_address *ad;
			size_t n;
			struct msg_address_item *it;
			(void)msg_parse_address_list(a, raw, &ad, &n);
			(void)msg_address_items(a, raw, &it);
			(void)msg_normalize_address(a, raw);
			struct msg_address pa;
			(void)msg_parse_path(a, raw, &pa);
			const char *t, *st;
			struct msg_param *pp;
			(void)msg_parse_mime_value(a, raw, &t, &st, &pp);
		}
		struct msg_mime_part *root = msg_mime_parse(m);
		struct msg_mime_part *stack[MSG_MIME_MAX_DEPTH + 2];
		size_t sp = 0;
		stack[sp++] = root;
		while (sp > 0) {
			struct msg_mime_part *p = stack[--sp];
			assert_true(p->body >= data && p->body + p->body_len <= data + len);
			(void)msg_part_decoded_body(m, p, NULL);
			(void)msg_part_param(m, p, "charset");
			const char **v;
			(void)msg_part_header_values(m, p, "content-type", true, &v);
			for (struct msg_mime_part *c = p->children; c != NULL && sp < MSG_MIME_MAX_DEPTH + 1; c = c->next)
				stack[sp++] = c;
		}
		free(data);
		if (iter % 100 == 99) {
			arena_unref(&a);
			a = arena_new(0);
		}
	}
	arena_unref(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_basic),
		cmocka_unit_test(test_header_folding),
		cmocka_unit_test(test_header_whitespace),
		cmocka_unit_test(test_header_crlf),
		cmocka_unit_test(test_header_not_fields),
		cmocka_unit_test(test_header_no_body),
		cmocka_unit_test(test_header_binary),
		cmocka_unit_test(test_header_invalid_utf8),
		cmocka_unit_test(test_header_cache),
		cmocka_unit_test(test_2047_charsets),
		cmocka_unit_test(test_2047_whitespace),
		cmocka_unit_test(test_2047_broken),
		cmocka_unit_test(test_2047_long_subject),
		cmocka_unit_test(test_charset_helpers),
		cmocka_unit_test(test_address_rfc5322_appendix),
		cmocka_unit_test(test_address_pigeonhole),
		cmocka_unit_test(test_address_recovery),
		cmocka_unit_test(test_address_parts),
		cmocka_unit_test(test_address_format),
		cmocka_unit_test(test_address_items),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_mime_nested),
		cmocka_unit_test(test_mime_boundaries),
		cmocka_unit_test(test_mime_missing_end),
		cmocka_unit_test(test_mime_degenerate),
		cmocka_unit_test(test_mime_8bit_boundary),
		cmocka_unit_test(test_mime_digest),
		cmocka_unit_test(test_mime_decoding),
		cmocka_unit_test(test_mime_dovecot_decoding),
		cmocka_unit_test(test_mime_params),
		cmocka_unit_test(test_bounds_mime_depth),
		cmocka_unit_test(test_bounds_mime_parts),
		cmocka_unit_test(test_bounds_huge_headers),
		cmocka_unit_test(test_fuzz_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
