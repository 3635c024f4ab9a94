/* encoded-character.c: RFC 5228 section 2.4.2.4: "${hex:41 42}" and
 * "${unicode:263a}" in string literals are replaced by the bytes or the
 * UTF-8 of the code points, before anything else looks at the string.  An
 * invalid sequence stays as it is; a code point that is not a Unicode
 * scalar value is an error. */
#include "sieve/engine.h"
#include "lib/utf8.h"
#include "lib/codec.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decodes one "${hex:...}" or "${unicode:...}" at p (p points after "${").
 * Returns the number of input bytes consumed after "${" (including '}'),
 * 0 when it is not a valid encoding (left alone), -1 on an invalid code
 * point. */
static long decode_one(const char *p, const char *end, struct strbuf *out, bool *bad_cp)
{
	bool hex;
	const char *q = p;
	if ((size_t)(end - q) >= 4 && strncasecmp(q, "hex:", 4) == 0) {
		hex = true;
		q += 4;
	} else if ((size_t)(end - q) >= 8 && strncasecmp(q, "unicode:", 8) == 0) {
		hex = false;
		q += 8;
	} else {
		return 0;
	}
	struct strbuf tmp = STRBUF_INIT;
	bool any = false, bad = false;
	for (;;) {
		while (q < end && is_blank(*q))
			q++;
		if (q >= end) {
			strbuf_free(&tmp);
			return 0;
		}
		if (*q == '}')
			break;
		const char *s = q;
		while (q < end && codec_hex_value((unsigned char)*q) >= 0)
			q++;
		if (q == s || (q < end && !is_blank(*q) && *q != '}')) {
			strbuf_free(&tmp);
			return 0;
		}
		size_t nd = (size_t)(q - s);
		if (hex) {
			if (nd % 2 != 0 && nd != 1) {
				/* odd digit count: Pigeonhole rejects the encoding */
				strbuf_free(&tmp);
				return 0;
			}
			if (nd == 1) {
				strbuf_putc(&tmp, (char)codec_hex_value((unsigned char)s[0]));
			} else {
				for (size_t i = 0; i < nd; i += 2)
					strbuf_putc(&tmp, (char)(codec_hex_value((unsigned char)s[i]) * 16 + codec_hex_value((unsigned char)s[i + 1])));
			}
		} else {
			unsigned long cp = 0;
			for (const char *d = s; d < q; d++) {
				if (cp > 0x10ffff)
					break;   /* already invalid; stop growing */
				cp = cp * 16 + (unsigned long)codec_hex_value((unsigned char)*d);
			}
			/* An invalid code point is only an error once the
			   encoding is known to be complete (closing brace):
			   "${unicode:200000" is plain text. */
			if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
				bad = true;
				continue;
			}
			utf8_append(&tmp, (uint32_t)cp);
		}
		any = true;
	}
	if (!any && !bad) {
		/* "${hex:}" names no character: it stays as it is. */
		strbuf_free(&tmp);
		return 0;
	}
	if (bad) {
		*bad_cp = true;
		strbuf_free(&tmp);
		return -1;
	}
	strbuf_append(out, tmp.data ? tmp.data : "", tmp.len);
	strbuf_free(&tmp);
	return (long)(q + 1 - p);
}

static int encoded_filter(struct sieve_validator *v, struct ast_string *s)
{
	if (memchr(s->data, '$', s->len) == NULL)
		return 0;
	struct strbuf out = STRBUF_INIT;
	const char *p = s->data, *end = s->data + s->len;
	int ret = 0;
	bool changed = false;
	while (p < end) {
		if (p[0] == '$' && p + 1 < end && p[1] == '{') {
			bool bad = false;
			long n = decode_one(p + 2, end, &out, &bad);
			if (n < 0) {
				sieve_validator_error(v, s->loc, "invalid unicode character in encoded character substitution");
				ret = -1;
				/* skip the whole construct */
				const char *close = memchr(p, '}', (size_t)(end - p));
				p = close != NULL ? close + 1 : end;
				continue;
			}
			if (n > 0) {
				p += 2 + n;
				changed = true;
				continue;
			}
		}
		strbuf_putc(&out, *p++);
	}
	if (changed) {
		s->data = arena_memdup(sieve_validator_arena(v), out.data ? out.data : "", out.len);
		s->len = out.len;
	}
	strbuf_free(&out);
	return ret;
}

const struct sieve_extension_def sieve_ext_encoded_character = {
	.name = "encoded-character",
	.flags = SV_EF_DEFAULT_ON,
	.string_filter = encoded_filter,
};
