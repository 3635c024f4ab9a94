/* test_mime_ext.c: unit tests of the pieces the MIME extensions share
 * (sieve/ext/mime-common.c): HTML to text as Dovecot's mail-html2text does
 * it (the expectations were checked against sieve-test's body :text),
 * Content-Type reading as Pigeonhole does it, the parameter list that
 * :param sees, the part list in walk order with its body values, and the
 * line-ending and base64 helpers of replace/enclose. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "sieve/ext/mime-common.h"

static char *h2t(struct arena *a, const char *html)
{
	struct strbuf b = STRBUF_INIT;
	sieve_html_to_text(&b, html, strlen(html));
	char *r = arena_memdup(a, b.data != NULL ? b.data : "", b.len);
	strbuf_free(&b);
	return r;
}

static void test_html_to_text(void **state)
{
	struct arena *a = arena_new(4096);
	/* what sieve-test's body :text gave for this document */
	assert_string_equal(h2t(a, "<html><head><title>T</title><style>p {x}</style></head>"
				   "<body><p>Hello &amp; <b>world</b></p><br>line2&nbsp;x&lt;y</body></html>\n"),
			    "T Hello & world line2\xc2\xa0x<y \n");
	/* a tag is one blank, never two in a row, none at the start */
	assert_string_equal(h2t(a, "<p>a</p><p>b</p>"), "a b ");
	/* comments and scripts vanish, quoted '>' does not end a tag */
	assert_string_equal(h2t(a, "a<!-- x > y -->b<script type=\"x\">if (a>b) {}</script>c"), "ab c");
	assert_string_equal(h2t(a, "<a title='x>y' href=\"q\\\"r>\">link</a>"), "link ");
	/* numeric entities, unknown ones dropped, a lone '&' dropped */
	assert_string_equal(h2t(a, "&#65;&#x42;&#X43;&bogus;&Eacute; & x"), "AB\xc3\x89  x");
	/* CDATA text stays */
	assert_string_equal(h2t(a, "<![CDATA[<raw>]]>!"), "<raw>!");
	/* an unfinished tag or entity at the end is dropped */
	assert_string_equal(h2t(a, "text <unfinis"), "text ");
	assert_string_equal(h2t(a, "text &amp"), "text ");
	arena_unref(&a);
}

static void test_parse_ctype(void **state)
{
	struct arena *a = arena_new(4096);
	const char *t, *s;
	assert_true(sieve_mime_parse_ctype(a, " Text/Plain ; charset=x", true, &t, &s));
	assert_string_equal(t, "Text");
	assert_string_equal(s, "Plain");
	assert_true(sieve_mime_parse_ctype(a, "text (c) / (d) html", true, &t, &s));
	assert_string_equal(s, "html");
	assert_false(sieve_mime_parse_ctype(a, "text/plain/stupid", true, &t, &s));
	assert_false(sieve_mime_parse_ctype(a, "text/", true, &t, &s));
	assert_false(sieve_mime_parse_ctype(a, "/plain", true, &t, &s));
	assert_false(sieve_mime_parse_ctype(a, "text", true, &t, &s));
	assert_true(sieve_mime_parse_ctype(a, "attachment; filename=x", false, &t, &s));
	assert_string_equal(t, "attachment");
	assert_string_equal(s, "");
	assert_false(sieve_mime_parse_ctype(a, "inline junk", false, &t, &s));
	arena_unref(&a);
}

static void test_params(void **state)
{
	struct arena *a = arena_new(4096);
	struct sieve_mime_param *p;
	size_t n = sieve_mime_params(a, "attachment; filename*=utf-8''%C3%A9t%C3%A9.txt; "
				     "filename=\"a \\\"b\\\".txt\"; title*1=\"-end\"; title*0*=us-ascii'en'x%20y; "
				     "size=12 (comment)", &p);
	assert_int_equal(n, 4);
	/* plain ones first, in order, then the RFC 2231 ones by name */
	assert_string_equal(p[0].name, "filename");
	assert_string_equal(p[0].value, "a \"b\".txt");
	assert_false(p[0].ext);
	assert_string_equal(p[1].name, "size");
	assert_string_equal(p[1].value, "12");
	assert_string_equal(p[2].name, "filename");
	assert_string_equal(p[2].value, "\xc3\xa9t\xc3\xa9.txt");
	assert_true(p[2].ext);
	assert_string_equal(p[3].name, "title");
	assert_string_equal(p[3].value, "x y-end");
	/* junk is skipped up to the next ';' */
	n = sieve_mime_params(a, "text/plain; ===; a=1; ;b", &p);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].value, "1");
	arena_unref(&a);
}

static void test_parts_and_values(void **state)
{
	struct arena *a = arena_new(4096);
	static const char msg[] =
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		"pre\r\n"
		"--b\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n"
		"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\nX: y\r\n\r\nbody\r\n"
		"--b\r\nContent-Type: text/plain\r\n"
		"--b--\r\nepi\r\n";
	struct message *m = msg_parse(a, msg, sizeof(msg) - 1);
	struct sieve_mime_parts *pp = sieve_mime_parts(m);
	assert_ptr_equal(sieve_mime_parts(m), pp);   /* built once */
	assert_int_equal(pp->count, 5);
	assert_int_equal(pp->end[0], 5);
	assert_int_equal(pp->end[2], 4);
	assert_string_equal(sieve_mime_ctype(pp, 1), "text/html");
	assert_string_equal(sieve_mime_ctype(pp, 3), "text/plain");   /* the default */
	size_t len;
	assert_string_equal(sieve_mime_body(pp, 0, &len), "pre");
	assert_string_equal(sieve_mime_epilogue(pp, 0, &len), "epi\r\n");
	assert_string_equal(sieve_mime_text(pp, 1, &len), "x ");
	assert_string_equal(sieve_mime_text(pp, 0, &len), "");
	assert_string_equal(sieve_mime_header_text(pp, 3, &len), "Subject: in\r\nX: y\r\n");
	/* the last part's header was cut short by the boundary: no body */
	assert_true(sieve_mime_has_body(pp, 1));
	assert_false(sieve_mime_has_body(pp, 4));
	arena_unref(&a);
}

static void test_edit_helpers(void **state)
{
	struct strbuf b = STRBUF_INIT;
	sieve_mime_append_eol(&b, "a\nb\r\nc", 6, "\r\n");
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "a\r\nb\r\nc", 7);
	strbuf_truncate(&b, 0);
	sieve_mime_append_eol(&b, "a\r\nb\n", 5, "\n");
	assert_memory_equal(b.data, "a\nb\n", 4);
	strbuf_truncate(&b, 0);
	sieve_mime_append_base64(&b, "hello", 5, "\n");
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.data, "aGVsbG8=\n", 9);
	strbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_to_text),
		cmocka_unit_test(test_parse_ctype),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_parts_and_values),
		cmocka_unit_test(test_edit_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
