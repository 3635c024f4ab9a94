/* mime-common.h: what the MIME extensions (body, mime, foreverypart,
 * extracttext, replace, enclose) share: the message's MIME parts as one
 * list in walk order (as Pigeonhole walks them) with their decoded bodies
 * cached, the stack of running foreverypart loops kept in the runtime,
 * Pigeonhole's reading of Content-Type / Content-Disposition values, and
 * the HTML-to-text conversion behind body :text and extracttext. */
#ifndef TAMIS_EXT_MIME_COMMON_H
#define TAMIS_EXT_MIME_COMMON_H
#include "sieve/engine.h"

/* The MIME parts of a message in walk order: the message itself first, a
 * multipart before its parts, a message/rfc822 part before the message it
 * holds.  Built once per message (kept in message->part_index, so it
 * follows the runtime's message when replace, enclose or editheader
 * replace it).  Decoded bodies are cached per part: Sieve scripts may look
 * at the same body many times, and each look must not cost memory again. */
struct sieve_mime_parts {
	struct message *msg;
	struct msg_mime_part **part;
	size_t *end;                 /* end[i]: the index after i's sub-parts */
	size_t count;
	/* caches, filled on first use */
	const char **ctype;          /* Pigeonhole's content type string */
	const char **dec; size_t *dec_len;    /* decoded UTF-8 body / preamble */
	const char **txt; size_t *txt_len;    /* extracted text */
	const char **epi; size_t *epi_len;    /* multipart epilogue, UTF-8 */
	const char **hdr; size_t *hdr_len;    /* header lines, CRLF (rfc822 content) */
};
struct sieve_mime_parts *sieve_mime_parts(struct message *m);

/* Pigeonhole's content type of part i: its last Content-Type header read
 * with sieve_mime_parse_ctype() ("" when invalid), "text/plain" without. */
const char *sieve_mime_ctype(struct sieve_mime_parts *pp, size_t i);
/* Whether part i's header ended with an empty line (RFC 5173: a part
 * without one has no body at all). */
bool sieve_mime_has_body(const struct sieve_mime_parts *pp, size_t i);
/* Part i's body transfer-decoded and converted to UTF-8 (every part, as
 * Dovecot's message decoder does, not only text ones); for a multipart its
 * preamble. */
const char *sieve_mime_body(struct sieve_mime_parts *pp, size_t i, size_t *len_r);
/* A multipart's epilogue (NULL when it has none or it is empty). */
const char *sieve_mime_epilogue(struct sieve_mime_parts *pp, size_t i, size_t *len_r);
/* Part i's raw header lines, each ended by CRLF (what body :content
 * "message/rfc822" matches for the message inside). */
const char *sieve_mime_header_text(struct sieve_mime_parts *pp, size_t i, size_t *len_r);
/* The text of part i as body :text and extracttext see it: "" for a part
 * with sub-parts, the text of an HTML part, else the decoded body. */
const char *sieve_mime_text(struct sieve_mime_parts *pp, size_t i, size_t *len_r);

/* Pigeonhole's reading of a Content-Type (ctype) or Content-Disposition
 * value: "type/subtype" (or the disposition token) as written, comments and
 * blanks around '/' allowed; anything but ';' or the end after it makes the
 * value invalid.  Returns false when invalid; *type_r and *subtype_r (""
 * for a disposition) are arena strings. */
bool sieve_mime_parse_ctype(struct arena *a, const char *value, bool ctype,
			    const char **type_r, const char **subtype_r);
/* The values of the parameters named in names[0..nn) (any case) in a
 * Content-Type or Content-Disposition value, as Pigeonhole's :param finds
 * them in Dovecot's rfc2231_parse() result (msg_parse_mime_value_flags()
 * with MSG_MIME_DOVECOT): in that result's order, a parameter "name" as it
 * is, an RFC 2231 "name*" with its charset'lang' prefix dropped and %XX
 * decoded but not converted to UTF-8; a "name*" value that cannot be
 * decoded ends the list.  Returns the count; *vals_r is arena memory. */
size_t sieve_mime_param_values(struct arena *a, const char *value,
			       const struct sieve_string *names, size_t nn,
			       const char ***vals_r);
/* True for the types whose text is extracted from markup (text/html,
 * application/xhtml+xml). */
bool sieve_mime_is_html(const char *ctype);
/* Appends the text of an HTML document the way Dovecot's mail-html2text
 * does: a tag becomes one blank, script/style/comments vanish, entities
 * are decoded, an unfinished tag or entity at the very end is dropped. */
void sieve_html_to_text(struct strbuf *out, const char *html, size_t len);

/* A running foreverypart loop (rt->loop_ctx[0..loop_depth), innermost
 * last).  Parts are addressed by their index in sieve_mime_parts(), so a
 * loop survives a replace that rebuilds the message: the replaced part
 * keeps its index and its former sub-parts simply disappear. */
struct sieve_fep_loop {
	const struct sieve_binary *bin;
	uint32_t start;              /* address of the BLOCK instruction */
	uint32_t end;                /* address after the BLOCKEND */
	size_t body_pc;              /* first instruction of the block */
	const char *name;            /* :name, or NULL */
	long root;                   /* part whose sub-parts are visited; -1: all */
	size_t cur;                  /* current part */
};

/* Nesting limit of foreverypart loops (Pigeonhole's SIEVE_MAX_LOOP_DEPTH);
 * the setting sieve_max_loop_depth may change it, never above the slots
 * the runtime has. */
#define SIEVE_MAX_LOOP_DEPTH 4
unsigned sieve_fep_max_depth(const struct sieve_config *cfg);

/* The innermost loop running around the instruction at pc, also one of
 * an including script; NULL outside any loop. */
struct sieve_fep_loop *sieve_fep_current(struct sieve_runtime *rt, size_t pc);
/* Removes the loop at depth d and every loop inside it. */
void sieve_fep_pop_to(struct sieve_runtime *rt, int d);
/* The parts of the running loops moved `by` places on in the part list
 * (enclose put the message, parts and all, below new parts). */
void sieve_fep_shift(struct sieve_runtime *rt, size_t by);

/* ---- editing the message (replace, enclose) ---- */

/* The line break a message uses: "\r\n" when its first line ends so. */
const char *sieve_mime_eol(const struct message *m);
/* Appends s[0..len) with every line break (LF or CRLF) written as eol. */
void sieve_mime_append_eol(struct strbuf *b, const char *s, size_t len, const char *eol);
/* Appends base64 of s[0..len) in lines of 76 characters, each ended by
 * eol. */
void sieve_mime_append_base64(struct strbuf *b, const char *s, size_t len, const char *eol);
/* Makes the message in b the one the rest of the script tests and later
 * actions deliver (the implicit keep too), except redirect and reject,
 * which send the message as it was before the first edit (RFC 5703; the result's
 * before_mime_edit, see sieve_send_action_new).  Edits are bounded per run:
 * sieve_mime_max_edits (default 64) edits, and sieve_mime_max_edit_size
 * (default 256M) bytes for the edited copies in all (text and parsed
 * structure), since each edit keeps a full copy for the actions that
 * still refer to the earlier one.  Returns
 * SIEVE_OK, or SIEVE_FAILURE after a runtime error. */
int sieve_mime_install(struct sieve_runtime *rt, const struct sieve_exec_args *a,
		       const struct strbuf *b);

#endif
