/* replace.c: the replace extension (RFC 5703 section 5):
 *   replace [:mime] [:subject string] [:from string] <replacement: string>
 * Inside foreverypart it replaces the current MIME part (with all the
 * parts below it), outside one the whole message.  The replacement is a
 * text/plain UTF-8 part, or with :mime a MIME entity (header fields, an
 * empty line, the content); for the whole message the entity's header
 * fields join the message's.  When the whole message is replaced, its
 * header fields stay except those describing the old content (Content-*,
 * MIME-Version); :subject (RFC 2047-encoded only when not ASCII) and
 * :from (a mailbox-list, display names encoded likewise) set Subject and
 * From, the old values moving to Original-Subject and Original-From,
 * which editheader may then not touch; several :from authors bring a
 * Sender (the first of them, RFC 5322 section 3.6.2) unless one exists.
 * Without them Subject and From
 * stay as they were.  Inside a loop, on a part below the top, :subject
 * and :from do nothing (the RFC gives them for the entire message only).
 * Each replace :subject keeps the Subject it replaces, so two leave two
 * Original-Subject fields.
 *
 * What later commands see (the decision, for replace and enclose alike):
 * the edited message is a new message (sieve_mime_install).  Later tests
 * see it at once: section 5 has a changed structure take effect at once
 * for the running and later foreverypart loops, and section 6 has the
 * tests on MIME parts use the new message after enclose; one message for
 * all tests keeps header and body tests in agreement.  A running loop
 * goes on after the replaced part (it keeps its place in the part list,
 * its former sub-parts are gone).  Actions added from then on (fileinto,
 * keep, the implicit keep) deliver it; actions added before keep what
 * they saw.  Messages that leave the user are the exception: redirect
 * sends, and reject returns, the message as it was before the first
 * replace/enclose (section 6: enclose "does not affect messages that are
 * forwarded via a redirect action"; replace is treated alike, since RFC
 * 5228 section 4.2 has redirect change neither body nor existing
 * headers), in this script and in later scripts of a sequence
 * (sieve_send_action_new).  Vacation and notify answer the message as
 * received.  Pigeonhole has no replace; this follows the RFC's text. */
#include "sieve/ext/mime-common.h"
#include "sieve/ext/outgoing.h"
#include <string.h>
#include <strings.h>

static const struct sieve_tag_def tag_mime = { "mime", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_subject = { "subject", SV_TC_NONE, 0, SV_AT_STRING, "subject" };
static const struct sieve_tag_def tag_from = { "from", SV_TC_NONE, 0, SV_AT_STRING, "from" };
static const struct sieve_tag_def *const replace_tags[] = { &tag_mime, &tag_subject, &tag_from, NULL };

/* Is there a group's ';' in s (outside quoted strings, comments and
   domain literals)?  A mailbox-list has no groups. */
static bool has_group(const char *s)
{
	int depth = 0;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
		} else if (depth > 0) {
			depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
		} else if (*p == '(') {
			depth = 1;
		} else if (*p == '"' || *p == '[') {
			const char close = *p == '"' ? '"' : ']';
			for (p++; *p != '\0' && *p != close; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\0')
				return false;
		} else if (*p == ';') {
			return true;
		}
	}
	return false;
}

/* RFC 5703 section 5: :from "must specify a valid [RFC2822] mailbox-list":
   one mailbox (checked as Pigeonhole checks :from elsewhere), or several
   separated by commas.  s is NUL-terminated; *err_r says why not. */
static bool from_valid(struct arena *a, const char *s, size_t len, const char **err_r)
{
	if (sieve_address_parse(a, s, len, err_r) != NULL)
		return true;
	if (memchr(s, ',', len) == NULL)
		return false;
	struct msg_address *addrs;
	size_t n;
	if (msg_parse_address_list(a, s, &addrs, &n) == 0 && n > 1 && !has_group(s))
		return true;
	*err_r = "not a valid mailbox list";
	return false;
}

static int replace_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	/* RFC 5703: implementations SHOULD reject a syntactically invalid
	   :from; a constant one is checked here, a variable one at run time
	   (where an invalid one is ignored, as the RFC recommends). */
	const struct sieve_ctag *from = sieve_cmd_tag(c, "from");
	if (from != NULL && sieve_cstring_is_const(&from->val.strs[0])) {
		const struct sieve_cstring *s = &from->val.strs[0];
		const char *err = NULL;
		if (!from_valid(sieve_validator_arena(v), s->data, s->len, &err)) {
			sieve_validator_error(v, s->loc, "replace command: invalid from address '%s': %s",
					      s->data, err != NULL ? err : "invalid address");
			return -1;
		}
	}
	return 0;
}

/* Header fields that describe the content being replaced. */
static bool is_mime_field(const char *name, size_t len)
{
	return (len >= 8 && strncasecmp(name, "Content-", 8) == 0) ||
	       (len == 12 && strncasecmp(name, "MIME-Version", 12) == 0);
}

static bool field_is(const struct msg_header *h, const char *name)
{
	return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

/* Does a line of s start with "--" boundary (it would end the part)? */
static bool has_delimiter(const char *s, size_t len, const char *boundary)
{
	size_t bl = strlen(boundary);
	for (size_t i = 0; i < len;) {
		if (len - i >= bl + 2 && s[i] == '-' && s[i + 1] == '-' &&
		    memcmp(s + i + 2, boundary, bl) == 0)
			return true;
		const char *nl = memchr(s + i, '\n', len - i);
		if (nl == NULL)
			break;
		i = (size_t)(nl - s) + 1;
	}
	return false;
}

/* Appends the new part: with :mime the entity as given (an empty line is
   added when it has none), else a text/plain part; base64 when the text
   would end an enclosing multipart.  Returns -1 when a :mime entity would
   (the script asked for a broken message). */
static int append_entity(struct sieve_runtime *rt, struct strbuf *b, bool mime,
			 struct sieve_string text, const char *const *bounds, size_t nb,
			 const char *eol)
{
	bool clash = false;
	for (size_t i = 0; i < nb && !clash; i++)
		clash = has_delimiter(text.p, text.len, bounds[i]);
	if (mime) {
		if (clash)
			return -1;
		/* An entity is header fields, an empty line, the content. */
		bool blank = text.len > 0 && (text.p[0] == '\n' || (text.p[0] == '\r' && text.len > 1 &&
									text.p[1] == '\n'));
		for (size_t i = 0; i + 1 < text.len && !blank; i++)
			if (text.p[i] == '\n' && (text.p[i + 1] == '\n' ||
						  (text.p[i + 1] == '\r' && i + 2 < text.len && text.p[i + 2] == '\n')))
				blank = true;
		sieve_mime_append_eol(b, text.p, text.len, eol);
		if (!blank) {
			if (text.len > 0 && text.p[text.len - 1] != '\n')
				strbuf_puts(b, eol);
			strbuf_puts(b, eol);
		}
		return 0;
	}
	strbuf_printf(b, "Content-Type: text/plain; charset=utf-8%s", eol);
	if (clash) {
		strbuf_printf(b, "Content-Transfer-Encoding: base64%s%s", eol, eol);
		sieve_mime_append_base64(b, text.p, text.len, eol);
	} else {
		if (sieve_mail_has_8bit(text.p, text.len))
			strbuf_printf(b, "Content-Transfer-Encoding: 8bit%s", eol);
		strbuf_puts(b, eol);
		sieve_mime_append_eol(b, text.p, text.len, eol);
	}
	return 0;
}

/* Appends a header built by the outgoing helpers (CRLF) in the message's
   line break style. */
static void append_field(struct strbuf *b, const struct strbuf *f, const char *eol)
{
	sieve_mime_append_eol(b, f->data != NULL ? f->data : "", f->len, eol);
}

static int replace_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct message *m = rt->msg;
	const char *eol = sieve_mime_eol(m);
	struct sieve_string text = sieve_opd_string(rt, &a->pos[0]);
	bool mime = sieve_args_tag(a, "mime") != NULL;
	struct sieve_fep_loop *loop = sieve_fep_current(rt, a->pc);
	struct sieve_mime_parts *pp = sieve_mime_parts(m);
	size_t idx = loop != NULL ? loop->cur : 0;
	if (idx >= pp->count) {
		sieve_runtime_error(rt, a, "replace: the current MIME part no longer exists");
		return SIEVE_FAILURE;
	}
	struct strbuf b = STRBUF_INIT;
	int ret;
	if (idx == 0) {
		/* The whole message: its header fields, less the old content's. */
		const struct sieve_exec_tag *st = sieve_args_tag(a, "subject");
		const struct sieve_exec_tag *ft = sieve_args_tag(a, "from");
		const char *from = NULL;
		if (ft != NULL) {
			struct sieve_string fs = sieve_opd_string(rt, &ft->val);
			const char *err;
			const char *fv = sieve_rt_strdup(rt, fs);
			if (strlen(fv) == fs.len && from_valid(rt->arena, fv, fs.len, &err))
				from = fv;
			else
				sieve_runtime_warning(rt, a, "replace: ignoring invalid from address '%s'", fv);
		}
		for (size_t i = 0; i < m->nheaders; i++) {
			const struct msg_header *h = &m->headers[i];
			if (is_mime_field(h->name, h->name_len))
				continue;
			if (st != NULL && field_is(h, "Subject"))
				strbuf_puts(&b, "Original-Subject");
			else if (from != NULL && field_is(h, "From"))
				strbuf_puts(&b, "Original-From");
			else
				strbuf_append(&b, h->name, h->name_len);
			strbuf_putc(&b, ':');
			sieve_mime_append_eol(&b, h->raw, h->raw_len, eol);
			strbuf_puts(&b, eol);
		}
		/* RFC 5703 section 5: with editheader, the Original-Subject and
		   Original-From fields added here cannot be modified or removed
		   (sieve/ext/editheader.c checks this mark, the
		   replace extension's context). */
		if ((st != NULL && msg_header_exists(m, "subject")) ||
		    (from != NULL && msg_header_exists(m, "from")))
			sieve_runtime_set_ext_ctx(rt, "replace", rt);
		struct strbuf f = STRBUF_INIT;
		/* A display name in UTF-8 is encoded, as vacation's :from. */
		if (from != NULL) {
			sieve_mail_header_utf8(&f, "From", from);
			/* RFC 5322 section 3.6.2: a From with several mailboxes
			   needs a Sender; the first of them stands for the
			   whole (unless the message already names one, which
			   was copied above). */
			struct msg_address *addrs;
			size_t n;
			if (!msg_header_exists(m, "sender") &&
			    msg_parse_address_list(rt->arena, from, &addrs, &n) == 0 && n > 1 &&
			    addrs[0].domain != NULL) {
				char *snd = arena_printf(rt->arena, "<%s@%s>", addrs[0].local, addrs[0].domain);
				sieve_mail_header(&f, "Sender", snd);
			}
		}
		if (st != NULL)
			sieve_mail_header_utf8(&f, "Subject", sieve_rt_strdup(rt, sieve_opd_string(rt, &st->val)));
		sieve_mail_header(&f, "MIME-Version", "1.0");
		append_field(&b, &f, eol);
		strbuf_free(&f);
		ret = append_entity(rt, &b, mime, text, NULL, 0, eol);
	} else {
		/* One part: its header and body make way for the new entity;
		   the line break before the next boundary stays. */
		const struct msg_mime_part *p = pp->part[idx];
		const char *bounds[MSG_MIME_MAX_DEPTH + 1];
		size_t nb = 0;
		for (struct msg_mime_part *anc = p->parent; anc != NULL && nb < MSG_MIME_MAX_DEPTH;
		     anc = anc->parent) {
			const char *bd = anc->is_multipart ? msg_part_param(m, anc, "boundary") : NULL;
			if (bd != NULL && bd[0] != '\0')
				bounds[nb++] = bd;
		}
		size_t start = (size_t)(p->header_start - m->data);
		size_t stop = (size_t)(p->body - m->data) + p->body_len;
		strbuf_append(&b, m->data, start);
		ret = append_entity(rt, &b, mime, text, bounds, nb, eol);
		/* A part whose header a boundary cut short ends in the line
		   break of its last header line: keep one there. */
		if (stop > start && m->data[stop - 1] == '\n' && b.len > 0 && b.data[b.len - 1] != '\n')
			strbuf_puts(&b, eol);
		strbuf_append(&b, m->data + stop, m->size - stop);
	}
	if (ret < 0) {
		strbuf_free(&b);
		sieve_runtime_error(rt, a, "replace: the MIME entity would end an enclosing multipart");
		return SIEVE_FAILURE;
	}
	ret = sieve_mime_install(rt, a, &b);
	strbuf_free(&b);
	return ret;
}

static const struct sieve_pos_arg replace_args[] = { { "replacement", SV_AT_STRING } };
static const struct sieve_command_def cmd_replace = {
	"replace", SV_CMD_COMMAND, 0, replace_args, 1, replace_tags, replace_validate, replace_execute, NULL };

static const struct sieve_command_def *const replace_commands[] = { &cmd_replace, NULL };

/* Not in Pigeonhole, so not enabled by default (sieve_extensions =
   +replace turns it on). */
const struct sieve_extension_def sieve_ext_replace = {
	.name = "replace",
	.commands = replace_commands,
};
