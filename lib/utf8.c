/* utf8.c: UTF-8 decoding, validation, encoding, counting, truncation and
 * display sanitising shared by the whole tree (see utf8.h for which caller
 * needs which reading, and why). */
#include "lib/utf8.h"
#include <string.h>

static bool utf8_is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

size_t utf8_decode(const unsigned char *p, size_t len, uint32_t *cp_r,
		   unsigned flags)
{
	if (len == 0)
		return 0;
	unsigned char c = p[0];
	if (c < 0x80) {
		*cp_r = c;
		return 1;
	}
	size_t n;
	uint32_t cp, min;
	/* The lax reading lets C0/C1 and F5-F7 lead bytes through; the strict
	   one refuses them here already (they can only start overlong forms
	   or values above U+10FFFF). */
	uint8_t lo2 = (flags & UTF8_LAX) ? 0xC0 : 0xC2;
	uint8_t hi4 = (flags & UTF8_LAX) ? 0xF7 : 0xF4;
	if (c >= lo2 && c <= 0xDF) {
		n = 2; cp = c & 0x1Fu; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3; cp = c & 0x0Fu; min = 0x800;
	} else if (c >= 0xF0 && c <= hi4) {
		n = 4; cp = c & 0x07u; min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (!utf8_is_cont(p[i]))
			return 0;
		cp = (cp << 6) | (p[i] & 0x3Fu);
	}
	if (!(flags & UTF8_LAX) &&
	    (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
		return 0;
	*cp_r = cp;
	return n;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	while (len > 0) {
		uint32_t cp;
		size_t n = utf8_decode(p, len, &cp, UTF8_STRICT);
		if (n == 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

size_t utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

void utf8_append(struct strbuf *out, uint32_t cp)
{
	char buf[4];
	strbuf_append(out, buf, utf8_encode(cp, buf));
}

size_t utf8_char_bytes(unsigned char lead)
{
	if (lead < 0xC0)
		return 1;
	if (lead < 0xE0)
		return 2;
	if (lead < 0xF0)
		return 3;
	if (lead < 0xF8)
		return 4;
	if (lead < 0xFC)
		return 5;
	if (lead < 0xFE)
		return 6;
	return 1;
}

size_t utf8_strlen(const char *s, size_t len)
{
	size_t count = 0;
	for (size_t i = 0; i < len; count++)
		i += utf8_char_bytes((unsigned char)s[i]);
	return count;
}

size_t utf8_truncate(const char *s, size_t len, size_t max, unsigned flags)
{
	const unsigned char *d = (const unsigned char *)s;
	if (max >= len)
		return len;
	if (!(flags & UTF8_TRUNC_DOVECOT)) {
		while (max > 0 && utf8_is_cont(d[max]))
			max--;
		return max;
	}
	if (max == 0 || (d[max] & 0x80) == 0)
		return max;
	while (max > 0 && utf8_is_cont(d[max - 1]))
		max--;
	if (max > 0 && (d[max - 1] & 0xC0) == 0xC0)
		max--;
	return max;
}

size_t utf8_incomplete_tail(const char *p, size_t len)
{
	for (size_t back = 1; back <= 3 && back <= len; back++) {
		unsigned char c = (unsigned char)p[len - back];
		if (utf8_is_cont(c))
			continue;
		size_t need = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 && c < 0xF0 ? 3 :
			      c >= 0xC2 && c < 0xE0 ? 2 : 0;
		return need > back ? back : 0;
	}
	return 0;
}

/* Characters as str_sanitize() counts them: every byte that is not a
   continuation byte starts one. */
static size_t utf8_count_starts(const char *s)
{
	size_t n = 0;
	for (const char *p = s; *p != '\0'; p++)
		if (!utf8_is_cont((unsigned char)*p))
			n++;
	return n;
}

void utf8_sanitize_append(struct strbuf *out, const char *s, size_t max,
			  const char *ellipsis)
{
	size_t chars = utf8_count_starts(s);
	bool cut = max > 0 && chars > max;
	size_t ell = utf8_count_starts(ellipsis);
	size_t keep = !cut ? chars : max > ell ? max - ell : 0;
	size_t n = 0;
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (!utf8_is_cont(c) && n++ == keep)
			break;
		strbuf_putc(out, (c < 0x20 || c == 0x7F) ? '?' : (char)c);
	}
	if (cut)
		strbuf_puts(out, ellipsis);
}
