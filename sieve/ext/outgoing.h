/* outgoing.h: helpers for the actions that compose and send mail of their
 * own (vacation, enotify's mailto method) and for redirect: Pigeonhole's
 * address syntax with its error texts, the user's own addresses and the
 * envelope-sender settings, RFC 5322 header writing with folding and
 * RFC 2047 encoding, Message-ID and Date, and SHA-256 for the keys handed to
 * the host's duplicate tracking. */
#ifndef TAMIS_SIEVE_OUTGOING_H
#define TAMIS_SIEVE_OUTGOING_H
#include "sieve/engine.h"

/* ---- SHA-256 (FIPS 180-4) ---- */
struct sieve_sha256 {
	uint32_t h[8];
	uint64_t len;              /* bytes hashed so far */
	unsigned char buf[64];
	size_t nbuf;
};
void sieve_sha256_init(struct sieve_sha256 *c);
void sieve_sha256_update(struct sieve_sha256 *c, const void *data, size_t len);
void sieve_sha256_final(struct sieve_sha256 *c, unsigned char out[32]);

/* ---- reporting ---- */

/* Adds "<what> action: <text>" to the execution's diagnostics with the
 * action's script line: how the sending actions (vacation, reject, notify)
 * report what they did or why they sent nothing, as sieve-test words it. */
void sieve_action_log(struct diag_list *d, const struct sieve_action *act, enum diag_level lvl,
		      const char *what, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- addresses ---- */

/* Parses a Sieve address argument the way Pigeonhole validates :from,
 * :addresses and mailto recipients: an addr-spec, or a phrase followed by
 * "<" addr-spec ">".  Returns "local@domain" (domain lower-cased, local
 * part quoted when it is not a dot-atom) from arena `a`, or NULL with
 * *error_r set to Pigeonhole's reason ("empty address", "invalid or lonely
 * local part 'x' (expecting '@')", ...). */
const char *sieve_address_parse(struct arena *a, const char *s, size_t len, const char **error_r);

/* Parses an envelope path (test_set may give "<>", "<a@b>" or "a@b") into
 * "local@domain" ("" for the null path); NULL when unusable. */
const char *sieve_envelope_address(struct arena *a, const char *path);

/* Case-insensitive comparison of two "local@domain" strings, as
 * Pigeonhole's smtp_address_equals_icase(). */
bool sieve_address_equal_icase(const char *a, const char *b);

/* The local part of "local@domain" (arena copy, quotes removed). */
const char *sieve_address_localpart(struct arena *a, const char *addr);

/* The user's own address: the sieve_user_email setting.  With `implicit`,
 * failing that, as Pigeonhole's sieve_get_user_email(): the username when
 * it is an address, else username@hostname.  NULL when there is none. */
const char *sieve_user_email(const struct sieve_run_params *p, struct arena *a, bool implicit);

/* The postmaster address (setting postmaster_address, else
 * postmaster@<hostname>). */
const char *sieve_postmaster_address(const struct sieve_run_params *p, struct arena *a);
/* This host's name: the "hostname" setting, else gethostname(), else
 * "localhost" (environment's "host", Message-IDs, DSN reporting MTAs). */
const char *sieve_hostname(const struct sieve_config *cfg, struct arena *a);

/* Resolves an envelope-sender setting in Pigeonhole's address-source
 * syntax (sieve_redirect_envelope_from, sieve_notify_mailto_envelope_from):
 * "sender", "recipient", "orig_recipient", "user_email", "postmaster" or
 * "<address>" ("<>" is the null sender).  Returns 1 with *addr_r ("" for
 * the null sender), 0 when the setting is unset, "default" or invalid. */
int sieve_address_source(const struct sieve_run_params *p, const char *setting,
			 struct arena *a, const char **addr_r);

/* ---- composing a message ---- */

/* Appends "Name: value\r\n", folding lines longer than 78 characters at
 * whitespace.  Line breaks inside value become spaces: a value taken from a
 * script or a message can never start a header of its own. */
void sieve_mail_header(struct strbuf *b, const char *name, const char *value);
/* The same for unstructured text (Subject): words with 8-bit characters are
 * RFC 2047-encoded (UTF-8, base64). */
void sieve_mail_header_utf8(struct strbuf *b, const char *name, const char *value);
/* One mailbox for From/To: `display` (UTF-8, may be NULL) as a quoted
 * string or encoded words, then "<addr>". */
const char *sieve_mail_mailbox(struct arena *a, const char *display, const char *addr);
/* "<tamis-sieve-TIME-PID-RANDOM@HOST>" */
const char *sieve_mail_new_msgid(const struct sieve_run_params *p, struct arena *a);
/* RFC 5322 date-time of t in local time. */
const char *sieve_mail_date(struct arena *a, time_t t);
time_t sieve_mail_now(const struct sieve_run_params *p);
/* Appends text with every line break as CRLF, and a final CRLF. */
void sieve_mail_body(struct strbuf *b, const char *text, size_t len);
bool sieve_mail_has_8bit(const char *s, size_t len);

/* ---- redirect (sieve/result.c) ---- */

/* Builds the copy of m that redirect sends, as Pigeonhole 0.5.19 does:
 * X-Sieve and X-Sieve-Redirected-From (the user's address, else the final
 * recipient) on top, a Message-ID when the message has none, Return-Path
 * left out.  *env_from_r is the envelope sender: the null sender stays null
 * (RFC 5228 section 4.2), otherwise sieve_redirect_envelope_from decides,
 * else the original sender.  Returns 0 when the message already carries
 * X-Sieve-Redirected-From naming the user (a loop: nothing is to be sent,
 * the reason is logged in d), 1 otherwise. */
int sieve_redirect_compose(const struct sieve_run_params *p, const struct message *m,
			   const char *target, struct arena *a, struct strbuf *out,
			   const char **env_from_r, struct diag_list *d, int line);

/* As Dovecot's str_sanitize_utf8(): control characters become '?', and a
 * text of more than max code points is cut to max-1 and ends in U+2026. */
const char *sieve_str_sanitize_utf8(struct arena *a, const char *s, size_t max);

#endif
