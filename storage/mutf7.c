/* mutf7.c: UTF-8 <-> modified UTF-7 (RFC 3501 5.1.3) for mailbox names on
 * disk (see mutf7.h).
 *
 * Modified UTF-7 in brief: printable US-ASCII (0x20-0x7e) stands for itself,
 * except '&' which becomes "&-"; anything else is UTF-16BE, base64-encoded
 * with ',' in place of '/', no '=' padding, between '&' and '-'. */
#include "storage/mutf7.h"
#include "lib/utf8.h"
#include "lib/codec.h"
#include <string.h>

static const char mutf7_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* Base64 state of an open "&...-" run: pending bits not yet written. */
struct mutf7_bits {
	uint32_t acc;
	unsigned int nbits;
};

static void mutf7_put16(struct strbuf *out, struct mutf7_bits *b, uint32_t unit)
{
	b->acc = (b->acc << 16) | (unit & 0xffff);
	b->nbits += 16;
	while (b->nbits >= 6) {
		b->nbits -= 6;
		strbuf_putc(out, mutf7_b64[(b->acc >> b->nbits) & 0x3f]);
	}
	b->acc &= (1u << b->nbits) - 1;
}

static void mutf7_close_run(struct strbuf *out, struct mutf7_bits *b)
{
	if (b->nbits > 0)
		strbuf_putc(out, mutf7_b64[(b->acc << (6 - b->nbits)) & 0x3f]);
	strbuf_putc(out, '-');
	b->acc = 0;
	b->nbits = 0;
}

int mutf7_encode(const char *in, size_t len, struct strbuf *out)
{
	/* Validate first so that a failure leaves out untouched. */
	if (!utf8_valid(in, len))
		return -1;
	const unsigned char *p = (const unsigned char *)in;
	struct mutf7_bits bits = { 0, 0 };
	bool in_run = false;
	while (len > 0) {
		uint32_t cp = 0;
		size_t n = utf8_decode(p, len, &cp, UTF8_STRICT);
		p += n;
		len -= n;
		if (cp >= 0x20 && cp <= 0x7e) {
			if (in_run) {
				mutf7_close_run(out, &bits);
				in_run = false;
			}
			if (cp == '&')
				strbuf_puts(out, "&-");
			else
				strbuf_putc(out, (char)cp);
			continue;
		}
		if (!in_run) {
			strbuf_putc(out, '&');
			in_run = true;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			mutf7_put16(out, &bits, 0xd800 | (cp >> 10));
			mutf7_put16(out, &bits, 0xdc00 | (cp & 0x3ff));
		} else {
			mutf7_put16(out, &bits, cp);
		}
	}
	if (in_run)
		mutf7_close_run(out, &bits);
	return 0;
}

/* Decodes the base64 run at in[*pos..] (just after '&', not "&-") up to and
 * including its '-'. */
static int mutf7_decode_run(const unsigned char *in, size_t len, size_t *pos,
			    struct strbuf *out)
{
	uint32_t acc = 0, high = 0;
	unsigned int nbits = 0;
	size_t i = *pos;
	for (; i < len && in[i] != '-'; i++) {
		int v = codec_base64_value(in[i], CODEC_B64_MUTF7);
		if (v < 0)
			return -1;
		acc = ((acc << 6) | (uint32_t)v) & 0xffffff;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = (acc >> nbits) & 0xffff;
		if (high != 0) {
			if (unit < 0xdc00 || unit > 0xdfff)
				return -1;
			utf8_append(out, 0x10000 + ((high - 0xd800) << 10) +
				       (unit - 0xdc00));
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			return -1;
		} else if (unit >= 0x20 && unit <= 0x7e) {
			/* would have had to be written directly */
			return -1;
		} else {
			utf8_append(out, unit);
		}
	}
	if (i == len || i == *pos || high != 0)
		return -1;  /* unterminated, empty run, or lone high surrogate */
	/* Leftover bits are padding: fewer than 6 and all zero. */
	if (nbits >= 6 || (acc & ((1u << nbits) - 1)) != 0)
		return -1;
	*pos = i + 1;
	return 0;
}

int mutf7_decode(const char *in, size_t len, struct strbuf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t start_len = out->len;
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		if (c < 0x20 || c > 0x7e)
			goto fail;
		if (c != '&') {
			strbuf_putc(out, (char)c);
			i++;
			continue;
		}
		i++;
		if (i < len && p[i] == '-') {
			strbuf_putc(out, '&');
			i++;
			continue;
		}
		if (mutf7_decode_run(p, len, &i, out) < 0)
			goto fail;
	}
	strbuf_reserve(out, 0);
	return 0;
fail:
	if (out->data != NULL)
		strbuf_truncate(out, start_len);
	return -1;
}
