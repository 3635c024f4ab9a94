/* codec.h: the byte codecs that the message model (RFC 2047 words, RFC 2231
 * values, transfer encodings), the extensions (enotify URIs, encoded
 * characters, header and body encoding) and mailbox-name storage (modified
 * UTF-7) all need: hex digit values and base64, written once here. */
#ifndef TAMIS_CODEC_H
#define TAMIS_CODEC_H
#include <stddef.h>
#include "lib/strbuf.h"

/* The value of a hex digit (either case), -1 for anything else. */
int codec_hex_value(unsigned char c);

enum codec_base64_flags {
	CODEC_B64_STANDARD = 0,
	/* The modified base64 of IMAP mailbox names (RFC 3501 section
	   5.1.3): ',' stands where standard base64 has '/'. */
	CODEC_B64_MUTF7 = 1 << 0,
};

/* The 6-bit value of a base64 character, -1 for anything else (padding
 * '=' included). */
int codec_base64_value(unsigned char c, unsigned flags);

/* Appends the standard base64 form of data[0..len), padded with '=', on
 * one line. */
void codec_base64_append(struct strbuf *out, const void *data, size_t len);

#endif
