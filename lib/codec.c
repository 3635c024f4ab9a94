/* codec.c: hex digit values and base64 (see codec.h for who uses them). */
#include "lib/codec.h"
#include <stdint.h>

static const char codec_b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int codec_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int codec_base64_value(unsigned char c, unsigned flags)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ((flags & CODEC_B64_MUTF7) ? ',' : '/'))
		return 63;
	return -1;
}

void codec_base64_append(struct strbuf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	if (len > 0)
		strbuf_reserve(out, (len + 2) / 3 * 4);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		strbuf_putc(out, codec_b64_alphabet[(v >> 18) & 63]);
		strbuf_putc(out, codec_b64_alphabet[(v >> 12) & 63]);
		strbuf_putc(out, i + 1 < len ? codec_b64_alphabet[(v >> 6) & 63] : '=');
		strbuf_putc(out, i + 2 < len ? codec_b64_alphabet[v & 63] : '=');
	}
}
