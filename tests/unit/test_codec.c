/* test_codec.c: unit tests for the shared byte helpers of lib/codec.c (hex
 * digits, base64 in both alphabets) and strbuf_read_fd() in lib/strbuf.c,
 * which replaced copies in the message model, the extensions, mailbox-name
 * storage and the CLI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/codec.h"
#include "lib/strbuf.h"

static void test_hex(void **state)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		assert_int_equal(codec_hex_value((unsigned char)digits[i]), i);
		if (i >= 10)
			assert_int_equal(codec_hex_value((unsigned char)(digits[i] - 32)), i);
	}
	static const unsigned char bad[] = { 'g', 'G', '/', ':', '@', '`', ' ', 0, 0xE9 };
	for (size_t i = 0; i < sizeof(bad); i++)
		assert_int_equal(codec_hex_value(bad[i]), -1);
}

static void test_base64_value(void **state)
{
	static const char std[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (int i = 0; i < 64; i++)
		assert_int_equal(codec_base64_value((unsigned char)std[i], CODEC_B64_STANDARD), i);
	/* Modified UTF-7 (RFC 3501 5.1.3): ',' in place of '/'. */
	assert_int_equal(codec_base64_value(',', CODEC_B64_MUTF7), 63);
	assert_int_equal(codec_base64_value('/', CODEC_B64_MUTF7), -1);
	assert_int_equal(codec_base64_value(',', CODEC_B64_STANDARD), -1);
	assert_int_equal(codec_base64_value('+', CODEC_B64_MUTF7), 62);
	/* Padding and anything else: no value. */
	assert_int_equal(codec_base64_value('=', CODEC_B64_STANDARD), -1);
	assert_int_equal(codec_base64_value('-', CODEC_B64_STANDARD), -1);
	assert_int_equal(codec_base64_value(0xC3, CODEC_B64_STANDARD), -1);
}

static void test_base64_append(void **state)
{
	/* RFC 4648 section 10 test vectors. */
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					   "Zm9vYmFy" };
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct strbuf b = STRBUF_INIT;
		strbuf_puts(&b, "<");
		codec_base64_append(&b, in[i], strlen(in[i]));
		strbuf_puts(&b, ">");
		char want[32];
		snprintf(want, sizeof(want), "<%s>", out[i]);
		assert_string_equal(b.data, want);
		strbuf_free(&b);
	}
	/* High bytes reach the end of the alphabet ('/'). */
	unsigned char all[3] = { 0xFF, 0x00, 0xFB };
	struct strbuf b = STRBUF_INIT;
	codec_base64_append(&b, all, 3);
	assert_string_equal(b.data, "/wD7");
	strbuf_free(&b);
}

/* A pipe holding text, read end returned. */
static int pipe_with(const char *text, size_t len)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, len), (ssize_t)len);
	close(fds[1]);
	return fds[0];
}

static void test_read_fd(void **state)
{
	struct strbuf b = STRBUF_INIT;
	strbuf_puts(&b, "kept:");
	int fd = pipe_with("hello", 5);
	assert_int_equal(strbuf_read_fd(&b, fd, 100), 0);
	close(fd);
	assert_string_equal(b.data, "kept:hello");
	strbuf_free(&b);

	/* More than max: EFBIG, with what was read kept. */
	fd = pipe_with("0123456789", 10);
	errno = 0;
	assert_int_equal(strbuf_read_fd(&b, fd, 4), -1);
	assert_int_equal(errno, EFBIG);
	assert_true(b.len > 4);
	assert_memory_equal(b.data, "0123", 4);
	close(fd);
	strbuf_free(&b);

	/* Exactly max is fine. */
	fd = pipe_with("0123", 4);
	assert_int_equal(strbuf_read_fd(&b, fd, 4), 0);
	assert_int_equal(b.len, 4);
	close(fd);
	strbuf_free(&b);

	/* A read error: -1 with the read's errno. */
	assert_int_equal(strbuf_read_fd(&b, -1, 4), -1);
	assert_int_equal(errno, EBADF);
	strbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_base64_value),
		cmocka_unit_test(test_base64_append),
		cmocka_unit_test(test_read_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
