/* mutf7.h: UTF-8 <-> modified UTF-7 (RFC 3501 section 5.1.3), the encoding
 * Dovecot uses for mailbox names on disk (UTF-8 itself is lib/utf8.h).
 * Kept apart from maildir.c because IMAP-facing code (IMAPSIEVE, METADATA)
 * needs the same conversion. */
#ifndef TAMIS_MUTF7_H
#define TAMIS_MUTF7_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/strbuf.h"

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
