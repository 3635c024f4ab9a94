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

/* The values :param finds for one name list in one header value. */
static size_t pvals(struct arena *a, const char *value, const char *const *names, size_t nn,
		    const char ***vals_r)
{
	struct sieve_string *ns = arena_alloc(a, nn * sizeof(*ns));
	for (size_t i = 0; i < nn; i++) {
		ns[i].p = names[i];
		ns[i].len = strlen(names[i]);
	}
	return sieve_mime_param_values(a, value, ns, nn, vals_r);
}

#define ONE(name) (const char *const[]){ name }, 1

/* Every expectation below was checked with Dovecot 2.3's sieve-test
   ("header :mime :param" with :count and :matches). */
static void test_params(void **state)
{
	struct arena *a = arena_new(4096);
	const char *t, *st;
	struct msg_param *p;
	static const char v1[] =
		"attachment; filename*=utf-8''%C3%A9t%C3%A9.txt; "
		"filename=\"a \\\"b\\\".txt\"; title*1=\"-end\"; title*0*=us-ascii'en'x%20y; "
		"size=12 (comment)";
	/* The raw list: plain ones first, in order (the comment after a
	   token is no part of it), then the RFC 2231 ones by key, joined
	   and still encoded. */
	size_t n = msg_parse_mime_value_flags(a, v1, MSG_MIME_DOVECOT, &t, &st, &p);
	assert_string_equal(t, "attachment");
	assert_int_equal(n, 4);
	assert_string_equal(p[0].name, "filename");
	assert_string_equal(p[0].value, "a \"b\".txt");
	assert_string_equal(p[1].name, "size");
	assert_string_equal(p[1].value, "12");
	assert_string_equal(p[2].name, "filename*");
	assert_string_equal(p[2].value, "utf-8''%C3%A9t%C3%A9.txt");
	assert_string_equal(p[3].name, "title*");
	assert_string_equal(p[3].value, "us-ascii'en'x%20y-end");

	const char **v;
	n = pvals(a, v1, ONE("FILENAME"), &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "a \"b\".txt");
	assert_string_equal(v[1], "\xc3\xa9t\xc3\xa9.txt");
	n = pvals(a, v1, ONE("title"), &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "x y-end");
	n = pvals(a, v1, (const char *const[]){ "size", "title" }, 2, &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "12");
	assert_string_equal(v[1], "x y-end");

	/* Not converted from the charset: the bytes as encoded. */
	n = pvals(a, "text/plain; x*=iso-8859-1''Gr%FC%DFe", ONE("x"), &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "Gr\xfc\xdf" "e");
	/* An undecodable "x*" ends the list; the plain one came first. */
	n = pvals(a, "text/plain; x*=noquotes%41; x=later", ONE("x"), &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "later");
	n = pvals(a, "text/plain; x=first; x*=a''bad%4; x=later", ONE("x"), &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[1], "later");
	/* A gap in the indexes: each section on its own, under "x*N". */
	n = pvals(a, "text/plain; x*0=a; x*2=b", ONE("x"), &v);
	assert_int_equal(n, 0);
	n = pvals(a, "text/plain; x*0=a; x*2=b", ONE("x*0"), &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "a");
	/* A bare "x*" takes the index before it: here 1, so "x*1*". */
	n = pvals(a, "text/plain; x*1=b; x*=a''Q; x*0=c", ONE("x"), &v);
	assert_int_equal(n, 0);
	n = pvals(a, "text/plain; x*1=b; x*=a''Q; x*0=c", ONE("x*1"), &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "b");
	assert_string_equal(v[1], "Q");
	/* Keys are grouped regardless of case, joined in index order. */
	n = pvals(a, "text/plain; X*0=A; x*1=b", ONE("x"), &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "Ab");
	n = pvals(a, "text/plain; x*1=second; x*0=first", ONE("x"), &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "firstsecond");
	/* Comments around a token value are dropped. */
	n = pvals(a, "text/plain; x=(y)z; charset=(c1)utf-8(c2)", ONE("charset"), &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "utf-8");

	/* Broken input.  Skipping to the next ';' goes byte by byte, into
	   quoted strings too. */
	n = pvals(a, "text/plain; x=1 \"j; c=3\"; y=2", ONE("c"), &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "3");
	/* A failure right before a ';' costs the parameter after it. */
	n = pvals(a, "text/plain; a ; x=1", ONE("x"), &v);
	assert_int_equal(n, 0);
	/* An unterminated quoted string is no value. */
	n = pvals(a, "text/plain; x=\"unterminated", ONE("x"), &v);
	assert_int_equal(n, 0);
	/* An empty name is a name; "==" is kept whole (Dovecot's allowance
	   for a bare encoded word). */
	n = msg_parse_mime_value_flags(a, "text/plain; ===; a=1; ;b", MSG_MIME_DOVECOT, &t, &st, &p);
	assert_int_equal(n, 2);
	assert_string_equal(p[0].name, "");
	assert_string_equal(p[0].value, "==");
	assert_string_equal(p[1].name, "a");
	assert_string_equal(p[1].value, "1");
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
