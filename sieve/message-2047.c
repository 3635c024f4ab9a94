/* message-2047.c: RFC 2047 encoded-word decoding and charset conversion to
 * UTF-8 (iconv).  The decoder follows Dovecot's lenient reading, which is
 * what Pigeonhole scripts see: encoded words are recognised anywhere (also
 * inside words, comments and quoted strings), whitespace between two of
 * them is dropped, each word is converted on its own, a word with an
 * unknown encoding letter or without its "?=" stays as it is, and invalid
 * bytes become U+FFFD. */
#include "sieve/message.h"
#include "lib/strbuf.h"
#include "lib/utf8.h"
#include "lib/codec.h"
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

static const char msg_utf8_replacement[] = "\xEF\xBF\xBD";

/* Dovecot never writes two replacement characters in a row; matching that
   keeps header values identical to what Pigeonhole matches against. */
static void msg_append_replacement(struct strbuf *out)
{
	if (out->len >= 3 && memcmp(out->data + out->len - 3, msg_utf8_replacement, 3) == 0)
		return;
	strbuf_append(out, msg_utf8_replacement, 3);
}

/* Appends in[0..len) with each invalid byte replaced (one U+FFFD for a run
   of them, as Dovecot's uni_utf8_get_valid_data()). */
static void msg_utf8_append_valid(struct strbuf *out, const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, run = 0;
	strbuf_reserve(out, len);
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp, UTF8_STRICT);
		if (n > 0) {
			i += n;
			continue;
		}
		strbuf_append(out, in + run, i - run);
		msg_append_replacement(out);
		i++;
		run = i;
	}
	strbuf_append(out, in + run, len - run);
}

bool msg_charset_is_utf8(const char *charset)
{
	return charset == NULL || charset[0] == '\0' ||
	       strcasecmp(charset, "utf-8") == 0 || strcasecmp(charset, "utf8") == 0 ||
	       strcasecmp(charset, "us-ascii") == 0 || strcasecmp(charset, "ascii") == 0;
}

void msg_charset_append_utf8(struct strbuf *out, const char *charset,
			     const char *in, size_t len)
{
	if (msg_charset_is_utf8(charset)) {
		msg_utf8_append_valid(out, in, len);
		return;
	}
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1) {
		/* Unknown charset: keep what is valid (ASCII at least), as
		   Dovecot does. */
		msg_utf8_append_valid(out, in, len);
		return;
	}
	char *src = (char *)in;
	size_t left = len;
	strbuf_reserve(out, len + 16);
	for (;;) {
		if (out->cap - out->len < 16)
			strbuf_reserve(out, out->cap);
		char *dst = out->data + out->len;
		size_t room = out->cap - out->len - 1;
		size_t r = left > 0 ? iconv(cd, &src, &left, &dst, &room)
				    : iconv(cd, NULL, NULL, &dst, &room);
		out->len = (size_t)(dst - out->data);
		out->data[out->len] = '\0';
		if (r != (size_t)-1) {
			if (left == 0 && src != NULL) {
				/* Flush a stateful encoding's shift state
				   on the next round, then stop. */
				src = NULL;
				continue;
			}
			break;
		}
		if (errno == E2BIG) {
			strbuf_reserve(out, out->cap);
			continue;
		}
		if (errno == EILSEQ && left > 0) {
			msg_append_replacement(out);
			src++;
			left--;
			continue;
		}
		/* EINVAL: truncated sequence at the end; Dovecot drops it. */
		break;
	}
	iconv_close(cd);
}

char *msg_charset_to_utf8(struct arena *a, const char *charset,
			  const char *in, size_t len, size_t *len_r)
{
	struct strbuf b = STRBUF_INIT;
	msg_charset_append_utf8(&b, charset, in, len);
	char *r = arena_memdup(a, b.data != NULL ? b.data : "", b.len);
	if (len_r != NULL)
		*len_r = b.len;
	strbuf_free(&b);
	return r;
}

/* The "Q" encoding: '_' is a space, =XX a byte; a '=' not followed by two
   hex digits is kept as it is. */
static void msg_q_decode(struct strbuf *out, const char *p, size_t len)
{
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '_') {
			strbuf_append(out, p + run, i - run);
			strbuf_putc(out, ' ');
			run = i + 1;
		} else if (p[i] == '=' && i + 2 < len &&
			   codec_hex_value((unsigned char)p[i + 1]) >= 0 &&
			   codec_hex_value((unsigned char)p[i + 2]) >= 0) {
			strbuf_append(out, p + run, i - run);
			strbuf_putc(out, (char)(codec_hex_value((unsigned char)p[i + 1]) * 16 +
						codec_hex_value((unsigned char)p[i + 2])));
			i += 2;
			run = i + 1;
		}
	}
	strbuf_append(out, p + run, len - run);
}

/* The "B" encoding: decodes up to the first character outside the base64
   alphabet (padding included) and keeps what was complete, so a broken word
   shows what can be shown, like Dovecot. */
static void msg_b_decode(struct strbuf *out, const char *p, size_t len)
{
	unsigned int acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = codec_base64_value((unsigned char)p[i], CODEC_B64_STANDARD);
		if (v < 0)
			break;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			strbuf_putc(out, (char)((acc >> bits) & 0xFF));
		}
	}
}

/* Tries to read "charset?E?text?=" at p (just after "=?").  On success
   appends the converted text to out and returns the length consumed (up to
   and including "?="); returns 0 if this is not an encoded word. */
static size_t msg_2047_word(struct strbuf *out, struct strbuf *tmp,
			    const char *p, size_t len)
{
	/* The three '?' that delimit charset, encoding and text.  Like
	   Dovecot, no other syntax check: a space inside is accepted. */
	size_t q[3], nq = 0, i;
	for (i = 0; i < len && nq < 3; i++)
		if (p[i] == '?')
			q[nq++] = i;
	if (nq < 3 || q[2] + 1 >= len || p[q[2] + 1] != '=')
		return 0;
	if (q[1] != q[0] + 2)
		return 0;
	char enc = p[q[0] + 1];
	if (enc != 'q' && enc != 'Q' && enc != 'b' && enc != 'B')
		return 0;

	/* RFC 2231 section 5: "charset*language". */
	size_t cs_len = q[0];
	const char *star = memchr(p, '*', cs_len);
	if (star != NULL)
		cs_len = (size_t)(star - p);
	char charset[64];
	bool cs_ok = cs_len < sizeof(charset);
	if (cs_ok) {
		memcpy(charset, p, cs_len);
		charset[cs_len] = '\0';
	}

	strbuf_truncate(tmp, 0);
	const char *text = p + q[1] + 1;
	size_t text_len = q[2] - q[1] - 1;
	if (enc == 'q' || enc == 'Q')
		msg_q_decode(tmp, text, text_len);
	else
		msg_b_decode(tmp, text, text_len);
	if (tmp->len > 0)
		msg_charset_append_utf8(out, cs_ok ? charset : "x-unknown",
					tmp->data, tmp->len);
	return q[2] + 2;
}

static bool msg_only_lwsp(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

char *msg_decode_2047(struct arena *a, const char *in, size_t len)
{
	struct strbuf out = STRBUF_INIT, tmp = STRBUF_INIT;
	/* plain: start of text not yet written out. */
	size_t plain = 0, pos = 0;
	strbuf_reserve(&out, len);
	while (pos + 1 < len) {
		if (in[pos] != '=' || in[pos + 1] != '?') {
			pos++;
			continue;
		}
		/* Text before an encoded word is written unless it is only
		   whitespace (RFC 2047 section 6.2: whitespace between encoded
		   words is not displayed).  Dovecot drops it even when this
		   "=?" turns out not to start a word; so do we. */
		if (pos > plain && !msg_only_lwsp(in + plain, pos - plain))
			msg_utf8_append_valid(&out, in + plain, pos - plain);
		size_t used = msg_2047_word(&out, &tmp, in + pos + 2, len - pos - 2);
		if (used == 0) {
			plain = pos;
			pos += 2;
			continue;
		}
		pos += 2 + used;
		plain = pos;
	}
	if (plain < len)
		msg_utf8_append_valid(&out, in + plain, len - plain);
	char *r = arena_memdup(a, out.data != NULL ? out.data : "", out.len);
	strbuf_free(&out);
	strbuf_free(&tmp);
	return r;
}
