/* enclose.c: the enclose extension (RFC 5703 section 6):
 *   enclose [:subject string] [:headers string-list] <text: string>
 * The message becomes the attachment (message/rfc822) of a new
 * multipart/mixed message (MIME-Version 1.0) whose first part is the text
 * (text/plain, UTF-8).  The new message's Subject is :subject, else the
 * enclosed message's; the fields named in :headers are copied from the
 * enclosed message (an entry "Name: value" adds that field instead;
 * Content-* and MIME-Version are the new message's own); Date, From (the
 * user) and Message-ID are made up unless :headers gave them.  No
 * Auto-Submitted: the new message is filed for the user, not sent.
 * Enclosing twice encloses twice; enclose after replace encloses the
 * replaced message.  Inside foreverypart the running loops go on with the
 * parts after the current one (now inside the message/rfc822 part).
 * Later tests see the new message and later actions deliver it, except
 * redirect and reject, which send the message as it was before the first
 * replace/enclose (the reasons are in replace.c's opening comment).
 * Pigeonhole has no enclose; this follows the RFC's text. */
#include "sieve/ext/mime-common.h"
#include "sieve/ext/outgoing.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct sieve_tag_def tag_subject = { "subject", SV_TC_NONE, 0, SV_AT_STRING, "subject" };
static const struct sieve_tag_def tag_headers = {
	"headers", SV_TC_NONE, 0, SV_AT_STRLIST, "headers" };
static const struct sieve_tag_def *const enclose_tags[] = { &tag_subject, &tag_headers, NULL };

/* RFC 5322 field-name: printable US-ASCII but ':'. */
static bool field_name_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126 || s[i] == ':')
			return false;
	return true;
}

/* An entry of :headers: a field name to copy, or "Name: value" to add.
   Returns false when it is neither; *name_len_r is the name's length. */
static bool header_entry(const char *s, size_t len, size_t *name_len_r, bool *add_r)
{
	const char *colon = memchr(s, ':', len);
	*add_r = colon != NULL;
	if (colon == NULL) {
		*name_len_r = len;
		return field_name_ok(s, len);
	}
	size_t nl = (size_t)(colon - s);
	while (nl > 0 && (s[nl - 1] == ' ' || s[nl - 1] == '\t'))
		nl--;
	*name_len_r = nl;
	/* A value can never start a field of its own. */
	return field_name_ok(s, nl) && memchr(s, '\n', len) == NULL && memchr(s, '\r', len) == NULL;
}

static bool is_mime_field(const char *name, size_t len)
{
	return (len >= 8 && strncasecmp(name, "Content-", 8) == 0) ||
	       (len == 12 && strncasecmp(name, "MIME-Version", 12) == 0);
}

static int enclose_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_ctag *h = sieve_cmd_tag(c, "headers");
	for (size_t i = 0; h != NULL && i < h->val.nstrs; i++) {
		const struct sieve_cstring *s = &h->val.strs[i];
		size_t nl;
		bool add;
		if (sieve_cstring_is_const(s) && !header_entry(s->data, s->len, &nl, &add)) {
			sieve_validator_error(v, s->loc, "enclose command: invalid header field '%s'", s->data);
			return -1;
		}
	}
	return 0;
}

struct given {
	const char *name;
	size_t len;
};

static bool name_given_len(const struct given *g, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (g[i].len == len && strncasecmp(g[i].name, name, len) == 0)
			return true;
	return false;
}

static bool name_given(const struct given *g, size_t n, const char *name)
{
	return name_given_len(g, n, name, strlen(name));
}

/* Copies the fields `name` of m; returns how many there were. */
static size_t copy_fields(struct strbuf *b, const struct message *m, const char *name, size_t len,
			  const char *eol)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nheaders; i++) {
		const struct msg_header *h = &m->headers[i];
		if (h->name_len != len || strncasecmp(h->name, name, len) != 0)
			continue;
		strbuf_append(b, h->name, h->name_len);
		strbuf_putc(b, ':');
		sieve_mime_append_eol(b, h->raw, h->raw_len, eol);
		strbuf_puts(b, eol);
		n++;
	}
	return n;
}

static bool line_starts(const char *s, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < len;) {
		if (len - i >= pl && memcmp(s + i, prefix, pl) == 0)
			return true;
		const char *nl = memchr(s + i, '\n', len - i);
		if (nl == NULL)
			break;
		i = (size_t)(nl - s) + 1;
	}
	return false;
}

static int enclose_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct message *m = rt->msg;
	const char *eol = sieve_mime_eol(m);
	struct sieve_string text = sieve_opd_string(rt, &a->pos[0]);
	const struct sieve_exec_tag *st = sieve_args_tag(a, "subject");
	const struct sieve_exec_tag *ht = sieve_args_tag(a, "headers");
	struct sieve_string *hl = NULL;
	size_t nh = ht != NULL ? sieve_opd_strlist(rt, &ht->val, &hl) : 0;

	/* A boundary that no line of the message or the text starts with. */
	char boundary[64];
	for (unsigned n = 0;; n++) {
		snprintf(boundary, sizeof(boundary), "tamis-enclose-%u-%zx", n, m->size);
		char delim[70];
		snprintf(delim, sizeof(delim), "--%s", boundary);
		if (!line_starts(m->data, m->size, delim) && !line_starts(text.p, text.len, delim))
			break;
	}

	struct strbuf b = STRBUF_INIT, f = STRBUF_INIT;
	struct given *given = arena_alloc(rt->arena, (nh + 1) * sizeof(*given));
	size_t ngiven = 0;
	for (size_t i = 0; i < nh; i++) {
		size_t nl;
		bool add;
		if (!header_entry(hl[i].p, hl[i].len, &nl, &add)) {
			sieve_runtime_warning(rt, a, "enclose: ignoring invalid header field '%s'",
					      sieve_rt_strdup(rt, hl[i]));
			continue;
		}
		/* The new message's own structure and :subject win. */
		if (is_mime_field(hl[i].p, nl) ||
		    (st != NULL && nl == 7 && strncasecmp(hl[i].p, "Subject", 7) == 0))
			continue;
		if (!add && name_given_len(given, ngiven, hl[i].p, nl))
			continue;   /* copied already: a name listed twice */
		/* A name counts as given once a field was written: one the
		   enclosed message lacks leaves Date and From to be made up
		   (RFC 5322 requires both). */
		if (add) {
			sieve_mime_append_eol(&b, hl[i].p, hl[i].len, eol);
			strbuf_puts(&b, eol);
		} else if (copy_fields(&b, m, hl[i].p, nl, eol) == 0) {
			continue;
		}
		given[ngiven].name = hl[i].p;
		given[ngiven].len = nl;
		ngiven++;
	}
	const struct sieve_run_params *p = rt->params;
	if (!name_given(given, ngiven, "Date"))
		sieve_mail_header(&f, "Date", sieve_mail_date(rt->arena, sieve_mail_now(p)));
	if (!name_given(given, ngiven, "From")) {
		const char *user = sieve_user_email(p, rt->arena, true);
		if (user == NULL && p->env != NULL && p->env->to != NULL && p->env->to[0] != '\0')
			user = p->env->to;
		if (user != NULL)
			sieve_mail_header(&f, "From", user);
	}
	if (st != NULL)
		sieve_mail_header_utf8(&f, "Subject", sieve_rt_strdup(rt, sieve_opd_string(rt, &st->val)));
	if (!name_given(given, ngiven, "Message-ID"))
		sieve_mail_header(&f, "Message-ID", sieve_mail_new_msgid(p, rt->arena));
	sieve_mail_header(&f, "MIME-Version", "1.0");
	sieve_mime_append_eol(&b, f.data != NULL ? f.data : "", f.len, eol);
	strbuf_free(&f);
	if (st == NULL && !name_given(given, ngiven, "Subject"))
		copy_fields(&b, m, "Subject", 7, eol);
	strbuf_printf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"%s%s", boundary, eol, eol);

	strbuf_printf(&b, "--%s%sContent-Type: text/plain; charset=utf-8%s", boundary, eol, eol);
	if (sieve_mail_has_8bit(text.p, text.len))
		strbuf_printf(&b, "Content-Transfer-Encoding: 8bit%s", eol);
	strbuf_puts(&b, eol);
	sieve_mime_append_eol(&b, text.p, text.len, eol);
	strbuf_printf(&b, "%s--%s%sContent-Type: message/rfc822%s%s", eol, boundary, eol, eol, eol);
	/* The line break before the closing delimiter belongs to it: the
	   enclosed message ends as it ended. */
	strbuf_append(&b, m->data, m->size);
	strbuf_printf(&b, "%s--%s--%s", eol, boundary, eol);
	int ret = sieve_mime_install(rt, a, &b);
	strbuf_free(&b);
	/* Running foreverypart loops go on with the parts after the current
	   one, which now sit inside the message/rfc822 part, three places on
	   (the new message, its text, the message/rfc822 part come first).
	   Otherwise a loop would walk into the enclosed copy of the part that
	   made it enclose, and enclose again until the edit limit. */
	if (ret == SIEVE_OK)
		sieve_fep_shift(rt, 3);
	return ret;
}

static const struct sieve_pos_arg enclose_args[] = { { "text", SV_AT_STRING } };
static const struct sieve_command_def cmd_enclose = {
	"enclose", SV_CMD_COMMAND, 0, enclose_args, 1, enclose_tags, enclose_validate, enclose_execute, NULL };

static const struct sieve_command_def *const enclose_commands[] = { &cmd_enclose, NULL };

/* Not in Pigeonhole, so not enabled by default (sieve_extensions =
   +enclose turns it on). */
const struct sieve_extension_def sieve_ext_enclose = {
	.name = "enclose",
	.commands = enclose_commands,
};
