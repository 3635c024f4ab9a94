/* message.h: the message model the Sieve runtime reads: raw bytes, a header
 * index built once, unfolded and RFC 2047-decoded values on demand, RFC 5322
 * address lists, the MIME tree (parsed only when asked), and the envelope.
 * Everything is allocated from the message's arena. */
#ifndef TAMIS_MESSAGE_H
#define TAMIS_MESSAGE_H
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include "lib/arena.h"

struct msg_header {
	const char *name;      /* as in the message (not NUL-terminated in data) */
	size_t name_len;
	const char *raw;       /* raw value after the colon, folded, without final CRLF */
	size_t raw_len;
	char *unfolded;        /* cache: unfolded, leading/trailing WSP trimmed (NUL-terminated) */
	char *decoded;         /* cache: unfolded + RFC 2047 decoded to UTF-8 */
};

struct msg_mime_part;

struct message {
	struct arena *arena;
	const char *data;      /* the whole message (header + body) */
	size_t size;
	size_t body_offset;    /* first byte of the body (after the empty line) */
	struct msg_header *headers;
	size_t nheaders;
	struct msg_mime_part *mime;   /* NULL until msg_mime_parse() */
	bool has_body;         /* an empty line ended the header; without one the
				  message has no body at all (RFC 5173 section 5) */
	void *part_index;      /* the MIME extensions' list of parts in walk
				  order (sieve/ext/mime-common.c), built on
				  first use; lives in the message's arena */
};

/* Parses the header index of data[0..size).  data must stay valid as long as
 * the message.  Never fails on malformed input.  As in Dovecot, only an empty
 * line ends the header: a line without a colon (and its continuation lines)
 * is skipped, a field name is everything before the colon minus trailing
 * whitespace.  LF and CRLF line ends are both accepted. */
struct message *msg_parse(struct arena *a, const char *data, size_t size);

/* All values of header `name` (case-insensitive), in message order.
 * Unfolded (a TAB that starts a continuation line becomes a space, as in
 * Dovecot) and trimmed; NUL bytes become 0x80.  When `decode`, RFC 2047
 * encoded-words are decoded and the result is valid UTF-8 (invalid bytes
 * become U+FFFD).  Returns the count; *vals_r points to an arena array of
 * NUL-terminated strings. */
size_t msg_header_values(struct message *m, const char *name, bool decode,
			 const char ***vals_r);
bool msg_header_exists(const struct message *m, const char *name);

/* Decodes RFC 2047 encoded-words in `in` to UTF-8 (charsets via iconv;
 * undecodable words are left as they are).  Whitespace between two encoded
 * words is dropped.  The result is always valid UTF-8. */
char *msg_decode_2047(struct arena *a, const char *in, size_t len);

/* Lower-level pieces of the above, shared by the MIME code and usable by the
 * runtime (body, extracttext, vacation). */
struct strbuf;
/* Appends in[0..len) converted from `charset` to UTF-8.  NULL, "us-ascii"
 * and "utf-8" are only validated; an unknown charset is treated as UTF-8.
 * Invalid input becomes U+FFFD, never twice in a row (as Dovecot). */
void msg_charset_append_utf8(struct strbuf *out, const char *charset,
			     const char *in, size_t len);
/* The same into the arena; NUL-terminated, length in *len_r if not NULL. */
char *msg_charset_to_utf8(struct arena *a, const char *charset,
			  const char *in, size_t len, size_t *len_r);
/* True if charset names UTF-8 or US-ASCII (no conversion needed). */
bool msg_charset_is_utf8(const char *charset);

/* The header-block parser behind msg_parse(), for MIME part headers:
 * indexes data[0..size) up to the first empty line.  Returns the offset of
 * the first byte after the empty line (size if there is none);
 * *has_empty_line_r tells which. */
size_t msg_header_block_parse(struct arena *a, const char *data, size_t size,
			      struct msg_header **hdrs_r, size_t *n_r,
			      bool *has_empty_line_r);
/* msg_header_values() over any header array (a MIME part's, say). */
size_t msg_header_list_values(struct arena *a, struct msg_header *hdrs, size_t n,
			      const char *name, bool decode, const char ***vals_r);
/* One header's unfolded (decode=false) or decoded value, cached in h. */
const char *msg_header_value(struct arena *a, struct msg_header *h, bool decode);

/* One address from an RFC 5322 address list or an envelope path.  Groups
 * are flattened: their members appear as ordinary entries; an empty group
 * yields none. */
struct msg_address {
	const char *local;     /* local part, quotes removed, escapes resolved;
				  never NULL from the parsers below */
	const char *domain;    /* NULL only for a path without "@domain" */
	const char *display;   /* display name (RFC 2047-decoded), may be NULL */
};

/* Parses an address-list header value (RFC 5322 section 3.4, with obsolete
 * syntax and comments) the way Pigeonhole 0.5.19 does (Dovecot's lib-mail
 * parser, then its own check of each address):
 *  - *addrs_r holds the valid addresses only, in order, group members
 *    flattened; local and domain are never NULL.  The display name is RFC
 *    2047-decoded.  Local parts must be ASCII (8-bit is allowed in the
 *    domain and display name), domains are dot-atoms or [literals].
 *  - A bad element is skipped and parsing goes on when the parser stops at
 *    a comma ("a@b, nonsense, c@d" gives a@b and c@d); otherwise the rest of
 *    the value is dropped ("A <a@b> junk, c@d" gives a@b only).
 *  - Returns -1 when an element was invalid, when the value is empty, and
 *    when it holds only empty groups ("undisclosed-recipients:;"); 0
 *    otherwise, also for a value of only comments, which yields nothing.
 * So for the Sieve address test: when it returns -1 with no address,
 * Pigeonhole matches :all against the raw value and :localpart/:domain
 * against nothing; with at least one address, only those are matched.
 * msg_address_items() below applies all of that. */
int msg_parse_address_list(struct arena *a, const char *value,
			   struct msg_address **addrs_r, size_t *n_r);

/* The address the way Pigeonhole prints it for :all: "local@domain", the
 * local part quoted (with \ escapes) unless it is a dot-atom. */
const char *msg_address_format(struct arena *a, const char *local, const char *domain);

/* What the Sieve "address" test matches for one (raw, unfolded) header
 * value, exactly as Pigeonhole 0.5.19:
 *  - an empty value: one item, all three parts "";
 *  - valid addresses: one item each (all = msg_address_format());
 *    addresses with an empty quoted local part ("" @x) match nothing;
 *  - no valid address but something that looked like one ("nonsense",
 *    "undisclosed-recipients:;", "<jürgen@example.com>"): one item whose
 *    `all` is the raw value and local = domain = NULL (no :localpart,
 *    :domain, :user or :detail value);
 *  - only comments: no item. */
struct msg_address_item {
	const char *all;
	const char *local;     /* NULL: nothing to match */
	const char *domain;    /* NULL: nothing to match */
};
size_t msg_address_items(struct arena *a, const char *value,
			 struct msg_address_item **items_r);

/* Parses one envelope path ("user@domain", "<user@domain>", "<>" = null).
 * Returns 0 on success (local may be "" for the null path), -1 if invalid.
 * As in Pigeonhole: "" and "<>" are the null path (local "", domain NULL);
 * the brackets are optional; source routes "<@a,@b:u@d>" are dropped; a
 * path without "@domain" ("<MAILER-DAEMON>") gives domain NULL, but
 * "user@" is invalid; dots may appear anywhere in the local part
 * (".japanese..@example.com"); domain labels may hold '_' and start or end
 * with '-'. */
int msg_parse_path(struct arena *a, const char *value, struct msg_address *addr_r);

/* Validates a mailbox address for redirect/vacation (RFC 5322 addr-spec,
 * optionally with display name and angle brackets, comments allowed; exactly
 * one address, with a domain).  Returns the normalized "local@domain"
 * (msg_address_format()) or NULL. */
const char *msg_normalize_address(struct arena *a, const char *value);

/* The MIME tree (RFC 2045/2046), parsed on first use. */
struct msg_mime_part {
	struct msg_mime_part *parent, *children, *next;
	size_t nchildren;
	struct msg_header *headers;   /* this part's own header */
	size_t nheaders;
	const char *type, *subtype;   /* lower-case; defaults text/plain (message/rfc822 in digest) */
	const char *charset;          /* may be NULL */
	const char *encoding;         /* content-transfer-encoding, lower-case, may be NULL */
	const char *header_start;     /* raw part header */
	size_t header_len;
	const char *body;             /* raw part body (still encoded) */
	size_t body_len;
	/* Multipart only: the text before the first and after the last
	   boundary (RFC 5173 searches these for :content "multipart"); the
	   line break before a boundary line belongs to the boundary. */
	const char *preamble, *epilogue;
	size_t preamble_len, epilogue_len;
	bool is_multipart;            /* multipart type with a boundary: has children */
	bool is_message;              /* message/rfc822: one child, the message */
	int depth;                    /* 0 for the root */
};

#define MSG_MIME_MAX_DEPTH 100        /* nesting, as Dovecot's default */
#define MSG_MIME_MAX_PARTS 10000      /* parts in all, as Dovecot's default */

/* Parses the MIME structure (bounded depth and part count); never fails on
 * broken MIME: what cannot be parsed is one text/plain leaf.  The root is
 * the whole message (its headers are the message's).  Past the depth limit
 * parts are leaves; past the part limit the rest of a multipart goes to its
 * epilogue.  As in Dovecot: a boundary line is "--" + boundary (a prefix
 * match; the boundary cut at 70 characters); a boundary of an enclosing
 * multipart also ends the inner parts; a missing final boundary is
 * tolerated; a part header cut short by a boundary line gives an empty
 * body; the first Content-Type gives type, charset and boundary, the last
 * Content-Transfer-Encoding counts; message/rfc822 is parsed whatever its
 * encoding.  A multipart without a boundary parameter is a leaf (its type
 * stays multipart/x). */
struct msg_mime_part *msg_mime_parse(struct message *m);
/* Header values of one part (same semantics as msg_header_values). */
size_t msg_part_header_values(struct message *m, struct msg_mime_part *p,
			      const char *name, bool decode, const char ***vals_r);
/* The part body, transfer-decoded (base64, quoted-printable) and, for text
 * parts, converted to UTF-8.  Returns NUL-terminated arena memory (binary
 * bodies may hold NULs: use *len_r).  Decoding follows Dovecot: base64
 * skips line breaks and stops at padding or a bad character; quoted-
 * printable hard line breaks come out as CRLF; a UTF-8 character cut off by
 * the end of a text body is dropped. */
const char *msg_part_decoded_body(struct message *m, struct msg_mime_part *p,
				  size_t *len_r);
/* Content-Type parameter value of a part (case-insensitive name, first
 * occurrence, RFC 2231 decoded, valid UTF-8), or NULL. */
const char *msg_part_param(struct message *m, struct msg_mime_part *p, const char *name);

/* A parsed MIME structured value: "type/subtype; name=value; ..." as in
 * Content-Type and Content-Disposition.  Parameter names are lower-cased;
 * RFC 2231 continuations (name*0, name*1*) and charset'lang'%XX values are
 * joined and decoded to UTF-8; quoted values are unquoted. */
struct msg_param {
	const char *name;
	const char *value;
};
/* *type_r is the value's first token (for Content-Disposition the
 * disposition) and *subtype_r the token after '/' ("" if none), both as in
 * the header.  Returns the number of parameters. */
size_t msg_parse_mime_value(struct arena *a, const char *value,
			    const char **type_r, const char **subtype_r,
			    struct msg_param **params_r);

/* The same with a choice of reading. */
enum msg_mime_value_flags {
	/* Plain parameter values kept as bytes instead of being made valid
	   UTF-8: the message model's boundaries must match body lines byte
	   for byte. */
	MSG_MIME_RAW = 1 << 0,
	/* Dovecot's rfc2231_parse() reading, which is what Pigeonhole's
	   "header :mime :param" looks at (the message model's reading above
	   is for finding a part's charset and boundary and for
	   msg_part_param(); it differs from it on broken and mixed
	   RFC 2231 input).  A value is a token (RFC 2045 comments after it
	   are dropped) or a quoted string (an unterminated one drops the
	   parameter); names keep their case; values stay as bytes,
	   undecoded.  The parameters that are not RFC 2231 sections come
	   first, in order, repeats kept; then, per key sorted by strcmp and
	   index, the sections joined under "key" (or "key*" when any is
	   extended: the value keeps its charset'lang' prefix and %XX
	   encoding, non-extended sections get '%' encoded), or, when the
	   indexes are not exactly 0, 1, 2 ..., each section on its own as
	   "key*N" or "key*N*". */
	MSG_MIME_DOVECOT = 1 << 1,
};
size_t msg_parse_mime_value_flags(struct arena *a, const char *value, unsigned flags,
				  const char **type_r, const char **subtype_r,
				  struct msg_param **params_r);
/* RFC 2045 lexical helpers shared with the MIME extensions: blanks and
 * (nested) comments skipped, bounded by the string; and a token (RFC 2045
 * token characters, which are Dovecot's MIME token characters, 8-bit bytes
 * included) at p, possibly empty. */
const char *msg_mime_skip_cfws(const char *p);
const char *msg_mime_token(const char *p, const char **start_r, size_t *len_r);

#endif
