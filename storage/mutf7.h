/* mutf7.h: UTF-8 <-> modified UTF-7 (RFC 3501 section 5.1.3), the encoding
 * Dovecot uses for mailbox names on disk, and a strict UTF-8 validator.
 * Kept apart from maildir.c because IMAP-facing code (IMAPSIEVE, METADATA)
 * needs the same conversion. */
#ifndef TAMIS_MUTF7_H
#define TAMIS_MUTF7_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/strbuf.h"

/* Decodes one UTF-8 sequence at s[0..len).  Returns its length (1-4) and the
 * code point, or 0 when the bytes are not shortest-form UTF-8 of a scalar
 * value (overlong forms, surrogates and values above U+10FFFF are refused,
 * so "\xC0\xAF" can never sneak a '/' past a check). */
size_t mutf7_utf8_next(const unsigned char *s, size_t len, uint32_t *cp_r);
bool mutf7_utf8_valid(const char *s, size_t len);

/* Appends the modified UTF-7 form of the UTF-8 text in[0..len) to out.
 * Returns 0, or -1 (out unchanged) when in is not valid UTF-8. */
int mutf7_encode(const char *in, size_t len, struct strbuf *out);

/* Appends the UTF-8 form of the modified UTF-7 text in[0..len) to out.
 * Returns 0, or -1 (out unchanged) when in is not canonical modified UTF-7:
 * raw bytes outside 0x20-0x7e, a bad or unterminated base64 run, non-zero
 * padding bits, unpaired surrogates, or printable ASCII that was encoded
 * although it must stand for itself. */
int mutf7_decode(const char *in, size_t len, struct strbuf *out);

#endif
