/* test_utf8.c: unit tests for lib/utf8.c, the shared UTF-8 helpers.  Each
 * reading is checked on the cases that tell the readings apart (overlong
 * forms, surrogates, values above U+10FFFF, truncation, stray continuation
 * bytes), since the callers depend on exactly those differences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/utf8.h"

static size_t dec(const char *s, unsigned flags, uint32_t *cp)
{
	*cp = 0xDEADBEEF;
	return utf8_decode((const unsigned char *)s, strlen(s), cp, flags);
}

static void test_decode_strict(void **state)
{
	uint32_t cp;
	assert_int_equal(dec("A", UTF8_STRICT, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(dec("\xC3\xA9x", UTF8_STRICT, &cp), 2);
	assert_int_equal(cp, 0xE9);
	assert_int_equal(dec("\xE2\x82\xAC", UTF8_STRICT, &cp), 3);
	assert_int_equal(cp, 0x20AC);
	assert_int_equal(dec("\xF0\x9F\x98\x80", UTF8_STRICT, &cp), 4);
	assert_int_equal(cp, 0x1F600);
	assert_int_equal(dec("\xF4\x8F\xBF\xBF", UTF8_STRICT, &cp), 4);
	assert_int_equal(cp, 0x10FFFF);
	assert_int_equal(dec("\xEF\xBF\xBD", UTF8_STRICT, &cp), 3);
	assert_int_equal(cp, 0xFFFD);

	static const char *const bad[] = {
		"\x80", "\xBF",                 /* continuation bytes */
		"\xC0\xAF", "\xC1\xBF",         /* overlong 2-byte */
		"\xE0\x80\xAF", "\xE0\x9F\xBF", /* overlong 3-byte */
		"\xF0\x8F\xBF\xBF",             /* overlong 4-byte */
		"\xED\xA0\x80", "\xED\xBF\xBF", /* surrogates */
		"\xF4\x90\x80\x80",             /* U+110000 */
		"\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80", "\xFF",
		"\xC3", "\xE2\x82", "\xF0\x9F\x98", /* truncated */
		"\xC3" "A", "\xE2\x82" "A",     /* ASCII where a continuation belongs */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dec(bad[i], UTF8_STRICT, &cp) != 0)
			fail_msg("strict decode accepted case %zu", i);
		assert_int_equal(cp, 0xDEADBEEF);
	}
	/* An empty input decodes to nothing. */
	assert_int_equal(utf8_decode((const unsigned char *)"", 0, &cp, UTF8_STRICT), 0);
	/* The length bounds the read even when the bytes go on. */
	assert_int_equal(utf8_decode((const unsigned char *)"\xC3\xA9", 1, &cp, UTF8_STRICT), 0);
}

static void test_decode_lax(void **state)
{
	uint32_t cp;
	/* What the lax reading lets through: overlong forms, surrogates and
	   values up to 0x1FFFFF, each with the value its bits spell. */
	assert_int_equal(dec("\xC0\xAF", UTF8_LAX, &cp), 2);
	assert_int_equal(cp, '/');
	assert_int_equal(dec("\xE0\x80\xAF", UTF8_LAX, &cp), 3);
	assert_int_equal(cp, '/');
	assert_int_equal(dec("\xED\xA0\x80", UTF8_LAX, &cp), 3);
	assert_int_equal(cp, 0xD800);
	assert_int_equal(dec("\xF7\xBF\xBF\xBF", UTF8_LAX, &cp), 4);
	assert_int_equal(cp, 0x1FFFFF);
	/* What it still refuses: stray continuations, 5/6-byte leads,
	   truncation and missing continuation bytes. */
	assert_int_equal(dec("\x80", UTF8_LAX, &cp), 0);
	assert_int_equal(dec("\xF8\x88\x80\x80\x80", UTF8_LAX, &cp), 0);
	assert_int_equal(dec("\xFF", UTF8_LAX, &cp), 0);
	assert_int_equal(dec("\xE2\x82", UTF8_LAX, &cp), 0);
	assert_int_equal(dec("\xC3" "A", UTF8_LAX, &cp), 0);
	/* Valid text reads the same either way. */
	assert_int_equal(dec("\xF0\x9F\x98\x80", UTF8_LAX, &cp), 4);
	assert_int_equal(cp, 0x1F600);
}

static void test_valid(void **state)
{
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("plain ascii", 11));
	assert_true(utf8_valid("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14));
	/* A NUL is a character like any other: the length decides. */
	assert_true(utf8_valid("a\0b", 3));
	assert_false(utf8_valid("caf\xC3", 4));
	assert_false(utf8_valid("a\x80" "b", 3));
	assert_false(utf8_valid("\xED\xA0\x80", 3));
	assert_false(utf8_valid("\xC0\xAF", 2));
	/* Only the first len bytes count. */
	assert_true(utf8_valid("ok\xFF", 2));
}

static void test_encode_roundtrip(void **state)
{
	static const uint32_t cps[] = {
		0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF, 0xE9, 0x20AC,
	};
	static const size_t lens[] = { 1, 1, 2, 2, 3, 3, 4, 4, 2, 3 };
	for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		char buf[4];
		size_t n = utf8_encode(cps[i], buf);
		assert_int_equal(n, lens[i]);
		uint32_t back = 0;
		assert_int_equal(utf8_decode((const unsigned char *)buf, n, &back, UTF8_STRICT), n);
		assert_int_equal(back, cps[i]);
	}
	struct strbuf b = STRBUF_INIT;
	utf8_append(&b, 'a');
	utf8_append(&b, 0xE9);
	utf8_append(&b, 0x20AC);
	utf8_append(&b, 0x1F600);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 10);
	strbuf_free(&b);
}

static void test_char_bytes_strlen(void **state)
{
	assert_int_equal(utf8_char_bytes('a'), 1);
	assert_int_equal(utf8_char_bytes(0x80), 1);
	assert_int_equal(utf8_char_bytes(0xC3), 2);
	assert_int_equal(utf8_char_bytes(0xE2), 3);
	assert_int_equal(utf8_char_bytes(0xF0), 4);
	assert_int_equal(utf8_char_bytes(0xF8), 5);
	assert_int_equal(utf8_char_bytes(0xFC), 6);
	assert_int_equal(utf8_char_bytes(0xFE), 1);
	assert_int_equal(utf8_char_bytes(0xFF), 1);
	assert_int_equal(utf8_strlen("", 0), 0);
	assert_int_equal(utf8_strlen("caf\xC3\xA9", 5), 4);
	assert_int_equal(utf8_strlen("\xF0\x9F\x98\x80!", 5), 2);
	/* Stray continuation bytes count one each. */
	assert_int_equal(utf8_strlen("\x80\x80", 2), 2);
	/* A lead whose sequence runs past the end still counts once. */
	assert_int_equal(utf8_strlen("a\xE2", 2), 2);
}

static void test_truncate(void **state)
{
	const char *s = "\xC3\xA9\xC3\xBC" "ab"; /* e-acute, u-umlaut, a, b */
	size_t len = strlen(s);
	/* Fits: unchanged, both ways. */
	assert_int_equal(utf8_truncate(s, len, len, UTF8_TRUNC_BOUNDARY), len);
	assert_int_equal(utf8_truncate(s, len, 100, UTF8_TRUNC_DOVECOT), len);
	/* Inside a character: both back up to its start. */
	assert_int_equal(utf8_truncate(s, len, 3, UTF8_TRUNC_BOUNDARY), 2);
	assert_int_equal(utf8_truncate(s, len, 3, UTF8_TRUNC_DOVECOT), 2);
	assert_int_equal(utf8_truncate(s, len, 1, UTF8_TRUNC_BOUNDARY), 0);
	assert_int_equal(utf8_truncate(s, len, 1, UTF8_TRUNC_DOVECOT), 0);
	/* Exactly after a character with a multi-byte one next: the boundary
	   cut keeps it, Dovecot's drops it as well. */
	assert_int_equal(utf8_truncate(s, len, 2, UTF8_TRUNC_BOUNDARY), 2);
	assert_int_equal(utf8_truncate(s, len, 2, UTF8_TRUNC_DOVECOT), 0);
	/* ASCII next: both cut right there. */
	assert_int_equal(utf8_truncate(s, len, 4, UTF8_TRUNC_BOUNDARY), 4);
	assert_int_equal(utf8_truncate(s, len, 4, UTF8_TRUNC_DOVECOT), 4);
	assert_int_equal(utf8_truncate(s, len, 5, UTF8_TRUNC_DOVECOT), 5);
	assert_int_equal(utf8_truncate(s, len, 0, UTF8_TRUNC_DOVECOT), 0);
	/* Invalid text: an ASCII byte before stray continuations is kept by
	   Dovecot's reading, not by the boundary cut. */
	const char *bad = "a\x80\x80";
	assert_int_equal(utf8_truncate(bad, 3, 2, UTF8_TRUNC_BOUNDARY), 0);
	assert_int_equal(utf8_truncate(bad, 3, 2, UTF8_TRUNC_DOVECOT), 1);
}

static void test_incomplete_tail(void **state)
{
	assert_int_equal(utf8_incomplete_tail("", 0), 0);
	assert_int_equal(utf8_incomplete_tail("abc", 3), 0);
	assert_int_equal(utf8_incomplete_tail("ab\xC3\xA9", 4), 0);
	assert_int_equal(utf8_incomplete_tail("ab\xC3", 3), 1);
	assert_int_equal(utf8_incomplete_tail("ab\xE2\x82", 4), 2);
	assert_int_equal(utf8_incomplete_tail("ab\xF0\x9F\x98", 5), 3);
	assert_int_equal(utf8_incomplete_tail("\xF0\x9F\x98\x80", 4), 0);
	/* Not a strict lead: nothing to hold back. */
	assert_int_equal(utf8_incomplete_tail("ab\xC1", 3), 0);
	assert_int_equal(utf8_incomplete_tail("ab\xF5\x80", 4), 0);
	/* Only up to three bytes are looked at. */
	assert_int_equal(utf8_incomplete_tail("\x80\x80\x80\x80", 4), 0);
}

static void test_sanitize(void **state)
{
	static const struct {
		const char *in;
		size_t max;
		const char *ellipsis, *want;
	} cases[] = {
		/* Controls (C0 and DEL) become '?'. */
		{ "in\tbox\x7f", 128, "...", "in?box?" },
		/* Exactly max characters: left whole. */
		{ "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 5, "...",
		  "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9" },
		/* One over: cut so that the text with its ellipsis is max long. */
		{ "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9x", 5, "...", "\xC3\xA9\xC3\xA9..." },
		{ "abcdefg", 5, "\xE2\x80\xA6", "abcd\xE2\x80\xA6" },
		/* max 0: no limit. */
		{ "abcdefg", 0, "...", "abcdefg" },
		/* An ellipsis longer than max: only the ellipsis. */
		{ "abcdefg", 2, "...", "..." },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf b = STRBUF_INIT;
		utf8_sanitize_append(&b, cases[i].in, cases[i].max, cases[i].ellipsis);
		assert_string_equal(b.data != NULL ? b.data : "", cases[i].want);
		strbuf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_strict),
		cmocka_unit_test(test_decode_lax),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_char_bytes_strlen),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_incomplete_tail),
		cmocka_unit_test(test_sanitize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
