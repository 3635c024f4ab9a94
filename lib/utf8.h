/* utf8.h: the one place that reads and writes UTF-8 bytes.  Decoding,
 * validation, encoding, counting, truncation and sanitising for display
 * were written out separately in the message model, the extensions and the
 * mailbox storage; they all call these now.  Where callers need different
 * readings of the same bytes (Pigeonhole matches Dovecot's own helpers,
 * which are not all strict), the difference is a flag with its reason. */
#ifndef TAMIS_UTF8_H
#define TAMIS_UTF8_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/strbuf.h"

enum utf8_decode_flags {
	/* Shortest-form UTF-8 of a Unicode scalar value only: overlong
	   forms, surrogates and values above U+10FFFF are refused, so that
	   "\xC0\xAF" can never pass a check for '/'. */
	UTF8_STRICT = 0,
	/* Any lead byte C0-F7 with the right number of continuation bytes,
	   without the overlong, surrogate and range checks (values up to
	   0x1FFFFF).  Only the include extension's script-name check reads
	   names this way; its own character checks refuse what matters
	   there (controls, '/'), and it is kept so as not to change which
	   names it accepts. */
	UTF8_LAX = 1 << 0,
};

/* Decodes one character at p[0..len).  Returns its length (1-4) and the
 * code point in *cp_r, or 0 (and *cp_r untouched) when len is 0, the
 * sequence is truncated or it is not valid under flags. */
size_t utf8_decode(const unsigned char *p, size_t len, uint32_t *cp_r,
		   unsigned flags);

/* True when s[0..len) is entirely strict UTF-8 (UTF8_STRICT). */
bool utf8_valid(const char *s, size_t len);

/* Writes cp (at most U+10FFFF; the caller decides what to do with values
 * UTF-8 cannot carry) to out and returns the number of bytes, 1-4. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* Appends the UTF-8 form of cp (as utf8_encode) to out. */
void utf8_append(struct strbuf *out, uint32_t cp);

/* Bytes of the character that starts with lead, Dovecot's
 * uni_utf8_char_bytes(): 2-6 by the lead's high bits, 1 for ASCII and for
 * bytes that cannot start a character.  Only the bits are read, nothing is
 * validated, which is what the variables extension's modifiers and :length
 * need to agree with Pigeonhole. */
size_t utf8_char_bytes(unsigned char lead);

/* Characters in s[0..len) counted by utf8_char_bytes() steps. */
size_t utf8_strlen(const char *s, size_t len);

enum utf8_truncate_flags {
	/* Cut at the start of the character that byte max falls in. */
	UTF8_TRUNC_BOUNDARY = 0,
	/* Dovecot's uni_utf8_data_truncate(), which Pigeonhole applies to
	   variable values: when the byte at max is not ASCII, the lead byte
	   before the continuation bytes is dropped too, so a character that
	   ends exactly at max is lost when a multi-byte one follows.
	   Kept for the variables extension, whose values must be identical
	   to Pigeonhole's. */
	UTF8_TRUNC_DOVECOT = 1 << 0,
};

/* The length of s[0..len) cut to at most max bytes without splitting a
 * character (len when it already fits). */
size_t utf8_truncate(const char *s, size_t len, size_t max, unsigned flags);

/* Length of an incomplete character at the end of p[0..len) (a strict lead
 * byte followed by too few continuation bytes), 0 if there is none. */
size_t utf8_incomplete_tail(const char *p, size_t len);

/* Appends the NUL-terminated s as Pigeonhole's str_sanitize() shows it:
 * control characters (C0 and DEL) become '?', and text longer than max
 * characters (counted as non-continuation bytes) is cut so that with
 * ellipsis appended it is max characters long.  max 0 means no limit. */
void utf8_sanitize_append(struct strbuf *out, const char *s, size_t max,
			  const char *ellipsis);

#endif
