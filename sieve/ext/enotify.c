/* enotify.c: the enotify extension (RFC 5435) with its one notification
 * method, mailto (RFC 5436):
 *
 *   notify [:from string] [:importance <"1" / "2" / "3">]
 *          [:options string-list] [:message string] <method: string>
 *   valid_notify_method <notification-uris: string-list>
 *   notify_method_capability [COMPARATOR] [MATCH-TYPE]
 *          <notification-uri: string> <notification-capability: string>
 *          <key-list: string-list>
 *
 * and the :encodeurl modifier of "set" (its code lives in variables.c).
 * Literal URIs, :from addresses and :options are checked at compile time
 * with Pigeonhole's wording; the rest at run time.  A notify action sends
 * one message to all its recipients through host->send; recipients that an
 * earlier notify action of the same run already has are dropped (RFC 5435
 * section 3.9), and mail that is itself automatic is never notified about
 * (RFC 5436 section 2.7). */
#include "sieve/ext/outgoing.h"
#include "lib/codec.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

#define NTFY_MAX_SCHEME_LEN 32
#define NTFY_MAILTO_MAX_RECIPIENTS 8
#define NTFY_MAILTO_MAX_HEADERS 16
#define NTFY_MAILTO_MAX_SUBJECT 256

/* The :encodeurl modifier, defined with the other modifiers. */
extern const struct sieve_tag_link sieve_variables_encodeurl_link[];

/* ------------------------------------------------------------------ */
/* Reporting: the same checks run at compile time (validator errors) and
 * at run time (runtime errors), or silently (valid_notify_method). */

struct ntfy_log {
	struct sieve_validator *v;
	struct ast_loc loc;
	struct sieve_runtime *rt;
	const struct sieve_exec_args *a;
	const char *prefix;
};

static void ntfy_report(const struct ntfy_log *l, enum diag_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ntfy_report(const struct ntfy_log *l, enum diag_level lvl, const char *fmt, ...)
{
	if (l == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	struct strbuf b = STRBUF_INIT;
	strbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	const char *msg = b.data != NULL ? b.data : "";
	if (l->v != NULL) {
		if (lvl == DIAG_ERROR)
			sieve_validator_error(l->v, l->loc, "%s: %s", l->prefix, msg);
		else
			sieve_validator_warning(l->v, l->loc, "%s: %s", l->prefix, msg);
	} else if (l->rt != NULL) {
		if (lvl == DIAG_ERROR)
			sieve_runtime_error(l->rt, l->a, "%s: %s", l->prefix, msg);
		else
			sieve_runtime_warning(l->rt, l->a, "%s: %s", l->prefix, msg);
	}
	strbuf_free(&b);
}

/* As str_sanitize(s, max): control characters become '?', long text is
 * cut and ends in "...". */
static const char *sanitize(struct arena *a, const char *s, size_t len, size_t max)
{
	struct strbuf b = STRBUF_INIT;
	size_t n = len > max ? max - 3 : len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		strbuf_putc(&b, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
	if (len > max)
		strbuf_puts(&b, "...");
	const char *r = arena_memdup(a, b.data != NULL ? b.data : "", b.len);
	strbuf_free(&b);
	return r;
}

/* ------------------------------------------------------------------ */
/* URIs                                                                */

/* RFC 3986 scheme; *body_r points after the ':'.  NULL when malformed. */
static const char *uri_scheme(struct arena *a, const char *uri, size_t len, const char **body_r)
{
	if (len == 0 || !isalpha((unsigned char)uri[0]))
		return NULL;
	size_t i = 1;
	while (i < len && i <= NTFY_MAX_SCHEME_LEN &&
	       (isalnum((unsigned char)uri[i]) || uri[i] == '+' || uri[i] == '-' || uri[i] == '.'))
		i++;
	if (i >= len || uri[i] != ':')
		return NULL;
	*body_r = uri + i + 1;
	return arena_strndup(a, uri, i);
}

struct mailto_rcpt {
	const char *full;          /* as written in the URI */
	const char *norm;          /* "local@domain" */
	bool cc;
};
struct mailto_hdr {
	const char *name, *body;
};
struct mailto_uri {
	struct mailto_rcpt *rcpts;
	size_t nrcpts, rcap;
	struct mailto_hdr *hdrs;
	size_t nhdrs, hcap;
	const char *subject, *body;
};

/* Headers a mailto URI may not set (RFC 5436 section 2.3), and those it
 * may set only once. */
static const char *const mailto_reserved[] = {
	"auto-submitted", "received", "message-id", "data", "bcc", "in-reply-to", "references",
	"resent-date", "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc",
	"resent-msg-id", "from", "sender", NULL
};
static const char *const mailto_unique[] = { "reply-to", NULL };

static bool in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcasecmp(*list, name) == 0)
			return true;
	return false;
}

/* RFC 6068 qchar, without '%' (handled apart) and with Pigeonhole's
 * choices for the sub-delims. */
static bool is_qchar(unsigned char c)
{
	if (isalnum(c))
		return true;
	return c != 0 && strchr("!$'()*+,-./:;@_~", c) != NULL;
}

/* Decodes "%XX" at *p (after the '%'); NUL is refused. */
static bool pct_decode(const char **p, const char *end, char *out)
{
	if (end - *p < 2)
		return false;
	int h = codec_hex_value((unsigned char)(*p)[0]), l = codec_hex_value((unsigned char)(*p)[1]);
	if (h < 0 || l < 0 || (h == 0 && l == 0))
		return false;
	*out = (char)(h << 4 | l);
	*p += 2;
	return true;
}

struct mailto_ps {
	struct arena *a;
	const struct ntfy_log *log;
	struct mailto_uri *uri;
	size_t max_rcpts, max_hdrs;
};

static void mailto_vreport(struct mailto_ps *ps, enum diag_level lvl, const char *fmt, va_list ap)
{
	if (ps->log == NULL)
		return;
	char *m = arena_vprintf(ps->a, fmt, ap);
	ntfy_report(ps->log, lvl, "mailto URI: %s", m);
}

static void mailto_error(struct mailto_ps *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mailto_error(struct mailto_ps *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mailto_vreport(ps, DIAG_ERROR, fmt, ap);
	va_end(ap);
}

static void mailto_warning(struct mailto_ps *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mailto_warning(struct mailto_ps *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mailto_vreport(ps, DIAG_WARNING, fmt, ap);
	va_end(ap);
}

/* Same recipient: the local part compared exactly, the domain without
 * case (the normalized form has it in lower case already). */
static bool rcpt_same(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool mailto_add_rcpt(struct mailto_ps *ps, const char *s, size_t len, bool cc)
{
	const char *err = NULL;
	/* An empty recipient ("mailto:%2Cx") comes from a strbuf that never
	   held a byte, whose data is NULL; the parser below computes s + len,
	   undefined behaviour on NULL even for len 0 (found by fuzz_message). */
	if (s == NULL)
		s = "";
	const char *norm = sieve_address_parse(ps->a, s, len, &err);
	if (norm == NULL) {
		mailto_error(ps, "invalid recipient '%s': %s", sanitize(ps->a, s, len, 80), err);
		return false;
	}
	struct mailto_uri *u = ps->uri;
	if (u->nrcpts >= ps->max_rcpts) {
		mailto_warning(ps, "more than the maximum %zu recipients specified; rest is discarded", ps->max_rcpts);
		return true;
	}
	for (size_t i = 0; i < u->nrcpts; i++) {
		if (rcpt_same(u->rcpts[i].norm, norm)) {
			/* A Cc recipient named again as To becomes To. */
			u->rcpts[i].cc = u->rcpts[i].cc && cc;
			mailto_warning(ps, "ignored duplicate recipient '%s'", sanitize(ps->a, s, len, 80));
			return true;
		}
	}
	if (u->nrcpts == u->rcap) {
		size_t nc = u->rcap ? u->rcap * 2 : 4;
		u->rcpts = arena_grow(ps->a, u->rcpts, u->rcap, nc, sizeof(*u->rcpts));
		u->rcap = nc;
	}
	struct mailto_rcpt *r = &u->rcpts[u->nrcpts++];
	r->full = arena_strndup(ps->a, s, len);
	r->norm = norm;
	r->cc = cc;
	return true;
}

static bool mailto_header_rcpts(struct mailto_ps *ps, const char *v, size_t len, bool cc)
{
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || v[i] == ',') {
			if (!mailto_add_rcpt(ps, v + start, i - start, cc))
				return false;
			start = i + 1;
		}
	}
	return true;
}

static bool field_name_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126 || c == ':')
			return false;
	}
	return true;
}

static bool field_body_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			return false;
	}
	return true;
}

/* Parses the part of a mailto URI after "mailto:" (RFC 6068, as far as
 * Pigeonhole follows it).  Returns false after reporting an error. */
static bool mailto_parse(struct mailto_ps *ps, const char *p, const char *end)
{
	struct strbuf f = STRBUF_INIT;
	bool ok = false;

	/* to = addr-spec *("%2C" addr-spec) */
	if (p < end && *p != '?') {
		while (p < end && *p != '?') {
			char ch = *p++;
			if (ch == '%') {
				if (!pct_decode(&p, end, &ch)) {
					mailto_error(ps, "invalid %% encoding");
					goto out;
				}
				if (ch == ',') {
					if (!mailto_add_rcpt(ps, f.data, f.len, false))
						goto out;
					strbuf_truncate(&f, 0);
					continue;
				}
			} else if (ch == ':' || ch == ';' || ch == ',' || !is_qchar((unsigned char)ch)) {
				mailto_error(ps, "invalid character '%c' in 'to' part", ch);
				goto out;
			}
			strbuf_putc(&f, ch);
		}
		if (!mailto_add_rcpt(ps, f.data, f.len, false))
			goto out;
	}
	if (p < end)
		p++;   /* '?' */

	/* hfields = hfield *("&" hfield) */
	size_t nheaders = 0;
	while (p < end) {
		strbuf_truncate(&f, 0);
		while (p < end && *p != '=') {
			char ch = *p++;
			if (ch == '%') {
				if (!pct_decode(&p, end, &ch)) {
					mailto_error(ps, "invalid %% encoding");
					goto out;
				}
			} else if (!is_qchar((unsigned char)ch)) {
				mailto_error(ps, "invalid character '%c' in header field name part", ch);
				goto out;
			}
			strbuf_putc(&f, ch);
		}
		if (p < end)
			p++;
		if (!field_name_valid(f.data, f.len)) {
			mailto_error(ps, "invalid header field name");
			goto out;
		}
		char *name = arena_memdup(ps->a, f.data, f.len);
		enum { H_IGNORED, H_GENERIC, H_TO, H_CC, H_SUBJECT, H_BODY } kind = H_GENERIC;
		if (nheaders >= ps->max_hdrs) {
			if (nheaders == ps->max_hdrs)
				mailto_warning(ps, "more than the maximum %zu headers specified; rest is discarded",
					       ps->max_hdrs);
			kind = H_IGNORED;
		} else if (strcasecmp(name, "to") == 0) {
			kind = H_TO;
		} else if (strcasecmp(name, "cc") == 0) {
			kind = H_CC;
		} else if (strcasecmp(name, "subject") == 0) {
			kind = H_SUBJECT;
		} else if (strcasecmp(name, "body") == 0) {
			kind = H_BODY;
		} else if (in_list(mailto_reserved, name)) {
			mailto_warning(ps, "ignored reserved header field '%s'", sanitize(ps->a, name, f.len, 32));
			kind = H_IGNORED;
		} else if (in_list(mailto_unique, name)) {
			for (size_t i = 0; i < ps->uri->nhdrs && kind != H_IGNORED; i++) {
				if (strcasecmp(ps->uri->hdrs[i].name, name) == 0) {
					mailto_warning(ps, "ignored duplicate for unique header field '%s'",
						       sanitize(ps->a, name, f.len, 32));
					kind = H_IGNORED;
				}
			}
		}
		nheaders++;

		strbuf_truncate(&f, 0);
		while (p < end && *p != '&') {
			char ch = *p++;
			if (ch == '%') {
				if (!pct_decode(&p, end, &ch)) {
					mailto_error(ps, "invalid %% encoding");
					goto out;
				}
			} else if (ch != '=' && !is_qchar((unsigned char)ch)) {
				mailto_error(ps, "invalid character '%c' in header field value part", ch);
				goto out;
			}
			strbuf_putc(&f, ch);
		}
		if (p < end)
			p++;
		if (kind != H_BODY && !field_body_valid(f.data, f.len)) {
			mailto_error(ps, "invalid header field body");
			goto out;
		}
		const char *val = arena_memdup(ps->a, f.data != NULL ? f.data : "", f.len);
		struct mailto_uri *u = ps->uri;
		switch (kind) {
		case H_IGNORED:
			break;
		case H_TO:
		case H_CC:
			if (!mailto_header_rcpts(ps, val, f.len, kind == H_CC))
				goto out;
			break;
		case H_SUBJECT:
			if (u->subject == NULL)
				u->subject = val;
			else
				mailto_warning(ps, "ignored duplicate subject field");
			break;
		case H_BODY:
			if (u->body == NULL)
				u->body = val;
			else
				mailto_warning(ps, "ignored duplicate body field");
			break;
		case H_GENERIC:
			if (u->nhdrs == u->hcap) {
				size_t nc = u->hcap ? u->hcap * 2 : 4;
				u->hdrs = arena_grow(ps->a, u->hdrs, u->hcap, nc, sizeof(*u->hdrs));
				u->hcap = nc;
			}
			u->hdrs[u->nhdrs].name = name;
			u->hdrs[u->nhdrs].body = val;
			u->nhdrs++;
			break;
		}
	}
	if (ps->uri->nrcpts == 0)
		mailto_warning(ps, "notification URI specifies no recipients");
	ok = true;
out:
	strbuf_free(&f);
	return ok;
}

static struct mailto_uri *mailto_parse_uri(struct arena *a, const struct sieve_config *cfg,
					   const char *body, const char *end, const struct ntfy_log *log)
{
	struct mailto_ps ps = {
		.a = a, .log = log, .uri = arena_alloc(a, sizeof(struct mailto_uri)),
		.max_rcpts = sieve_config_uint(cfg, "sieve_notify_mailto_max_recipients", NTFY_MAILTO_MAX_RECIPIENTS),
		.max_hdrs = sieve_config_uint(cfg, "sieve_notify_mailto_max_headers", NTFY_MAILTO_MAX_HEADERS),
	};
	return mailto_parse(&ps, body, end) ? ps.uri : NULL;
}

/* ------------------------------------------------------------------ */
/* :options                                                            */

/* "<optionname>=<value>" (RFC 5435 section 3.5).  With name_only, only the
 * name is checked (for strings with variables). */
static bool option_parse(const struct ntfy_log *log, struct arena *a, const char *opt, size_t len, bool name_only)
{
	size_t i = 0;
	if (len == 0) {
		ntfy_report(log, DIAG_ERROR, "empty option specified");
		return false;
	}
	if (isalnum((unsigned char)opt[0])) {
		i = 1;
		while (i < len && (isalnum((unsigned char)opt[i]) || opt[i] == '.' || opt[i] == '-' || opt[i] == '_'))
			i++;
	}
	if (i == 0 || i >= len || opt[i] != '=') {
		ntfy_report(log, DIAG_ERROR, "invalid option name specified in option '%s'", sanitize(a, opt, len, 80));
		return false;
	}
	if (name_only)
		return true;
	for (i++; i < len; i++) {
		if (opt[i] == '\n' || opt[i] == '\r' || opt[i] == '\0') {
			/* Pigeonhole repeats the prefix in this one message. */
			ntfy_report(log, DIAG_ERROR, "notify command: invalid option value specified in option '%s'",
				    sanitize(a, opt, len, 80));
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* The notify action                                                   */

struct ntfy_action {
	uint64_t importance;
	const char *message;       /* :message, NULL when not given */
	const char *from;          /* :from as written, NULL when not given */
	const char *from_norm;
	struct mailto_uri *uri;
};

static int notify_check_duplicate(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				  struct sieve_action *old, struct sieve_action *act)
{
	struct ntfy_action *n = act->ctx, *o = old->ctx;
	if (n == NULL || o == NULL || n->uri == NULL || o->uri == NULL)
		return 0;
	size_t k = 0;
	for (size_t i = 0; i < n->uri->nrcpts; i++) {
		bool dup = false;
		for (size_t j = 0; j < o->uri->nrcpts && !dup; j++)
			dup = rcpt_same(n->uri->rcpts[i].norm, o->uri->rcpts[j].norm);
		if (!dup)
			n->uri->rcpts[k++] = n->uri->rcpts[i];
	}
	n->uri->nrcpts = k;
	/* Nothing left to notify: the new action is dropped. */
	return k == 0 ? 1 : 0;
}

static void notify_print(const struct sieve_action *act, struct strbuf *out, bool *keep_r)
{
	const struct ntfy_action *n = act->ctx;
	const struct mailto_uri *u = n->uri;
	strbuf_puts(out, " * send notification with method 'mailto:':\n");
	strbuf_printf(out, "    => importance   : %llu\n", (unsigned long long)n->importance);
	if (n->message != NULL)
		strbuf_printf(out, "    => subject      : %s\n", n->message);
	else if (u->subject != NULL)
		strbuf_printf(out, "    => subject      : %s\n", u->subject);
	if (n->from != NULL)
		strbuf_printf(out, "    => from         : %s\n", n->from);
	sieve_fcc_print(act, out, 13);   /* fcc: where the copy goes */
	strbuf_puts(out, "    => recipients   :\n");
	if (u->nrcpts == 0)
		strbuf_puts(out, "       NONE, action has no effect\n");
	for (size_t i = 0; i < u->nrcpts; i++)
		strbuf_printf(out, "       + %s: %s\n", u->rcpts[i].cc ? "Cc" : "To", u->rcpts[i].full);
	if (u->nhdrs > 0) {
		strbuf_puts(out, "    => headers      :\n");
		for (size_t i = 0; i < u->nhdrs; i++)
			strbuf_printf(out, "       + %s: %s\n", u->hdrs[i].name, u->hdrs[i].body);
	}
	if (u->body != NULL)
		strbuf_printf(out, "    => body         : \n--\n%s\n--\n", u->body);
	strbuf_putc(out, '\n');
}

/* A header name from a URI written with the usual capitals ("x-foo" stays
 * as the script wrote it: only characters a field name may hold pass). */
static const char *field_name_clean(struct arena *a, const char *name)
{
	char *c = arena_strdup(a, name);
	for (char *p = c; *p != '\0'; p++)
		if ((unsigned char)*p < 33 || (unsigned char)*p > 126 || *p == ':')
			*p = '_';
	return c;
}

static int notify_execute_in(struct sieve_action *act, const struct sieve_run_params *p,
			     struct diag_list *d, struct arena *ar)
{
	const struct ntfy_action *n = act->ctx;
	const struct mailto_uri *u = n->uri;
	const struct sieve_envelope *env = p->env;
	const char *recipient = env != NULL ? sieve_envelope_address(ar, env->to) : NULL;
	const char *sender = env != NULL ? sieve_envelope_address(ar, env->from) : NULL;

	if (recipient == NULL || *recipient == '\0') {
		sieve_action_log(d, act, DIAG_WARNING, "notify", "notify mailto action aborted: envelope recipient is <>");
		return 0;
	}
	const char **vals;
	size_t nv = msg_header_values(p->msg, "auto-submitted", false, &vals);
	for (size_t i = 0; i < nv; i++) {
		if (strcasecmp(vals[i], "no") != 0) {
			sieve_action_log(d, act, DIAG_INFO, "notify", "not sending notification for auto-submitted message from <%s>",
				      sender != NULL ? sanitize(ar, sender, strlen(sender), 128) : "");
			return 0;
		}
	}
	if (u->nrcpts == 0) {
		sieve_action_log(d, act, DIAG_WARNING, "notify", "notify mailto uri specifies no recipients; action has no effect");
		return 0;
	}
	if (p->host == NULL || p->host->send == NULL) {
		sieve_action_log(d, act, DIAG_WARNING, "notify", "notify mailto method has no means to send mail");
		return 0;
	}

	/* The envelope sender (RFC 5436 section 2.3 leaves it to us): null
	   when the message came from the null sender, else the configured
	   source, else :from, the user's address or the postmaster. */
	const char *env_from;
	if (sender != NULL && *sender == '\0') {
		env_from = "";
	} else if (sieve_address_source(p, "sieve_notify_mailto_envelope_from", ar, &env_from) == 0) {
		if (n->from_norm != NULL)
			env_from = n->from_norm;
		else if ((env_from = sieve_user_email(p, ar, false)) == NULL)
			env_from = sieve_postmaster_address(p, ar);
	}

	const char *subject;
	if (n->message != NULL) {
		subject = sanitize(ar, n->message, strlen(n->message), NTFY_MAILTO_MAX_SUBJECT);
	} else if (u->subject != NULL) {
		subject = u->subject;
	} else {
		const char **subj;
		if (msg_header_values(p->msg, "subject", true, &subj) > 0) {
			const char *s = arena_printf(ar, "Notification: %s", subj[0]);
			subject = sanitize(ar, s, strlen(s), NTFY_MAILTO_MAX_SUBJECT);
		} else {
			subject = "Notification: (no subject)";
		}
	}

	struct strbuf to = STRBUF_INIT, cc = STRBUF_INIT, all = STRBUF_INIT;
	const char **rcpts = arena_alloc(ar, sizeof(char *) * u->nrcpts);
	for (size_t i = 0; i < u->nrcpts; i++) {
		struct strbuf *b = u->rcpts[i].cc ? &cc : &to;
		if (b->len > 0)
			strbuf_puts(b, ", ");
		strbuf_puts(b, u->rcpts[i].full);
		if (i < 3)
			strbuf_printf(&all, "%s<%s>", i > 0 ? ", " : "", u->rcpts[i].norm);
		else if (i == 3)
			strbuf_printf(&all, ", ... (%zu total)", u->nrcpts);
		rcpts[i] = u->rcpts[i].norm;
	}

	struct strbuf m = STRBUF_INIT;
	sieve_mail_header(&m, "X-Sieve", "Tamis");
	sieve_mail_header(&m, "Message-ID", sieve_mail_new_msgid(p, ar));
	sieve_mail_header(&m, "Date", sieve_mail_date(ar, sieve_mail_now(p)));
	sieve_mail_header_utf8(&m, "Subject", subject);
	sieve_mail_header_utf8(&m, "From", n->from != NULL ? n->from : arena_printf(ar, "<%s>", env_from));
	if (to.len > 0)
		sieve_mail_header_utf8(&m, "To", to.data);
	if (cc.len > 0)
		sieve_mail_header_utf8(&m, "Cc", cc.data);
	sieve_mail_header(&m, "Auto-Submitted", arena_printf(ar, "auto-notified; owner-email=\"%s\"", recipient));
	sieve_mail_header(&m, "Precedence", "bulk");
	switch (n->importance) {
	case 1:
		sieve_mail_header(&m, "X-Priority", "1 (Highest)");
		sieve_mail_header(&m, "Importance", "High");
		break;
	case 3:
		sieve_mail_header(&m, "X-Priority", "5 (Lowest)");
		sieve_mail_header(&m, "Importance", "Low");
		break;
	default:
		sieve_mail_header(&m, "X-Priority", "3 (Normal)");
		sieve_mail_header(&m, "Importance", "Normal");
		break;
	}
	for (size_t i = 0; i < u->nhdrs; i++)
		sieve_mail_header(&m, field_name_clean(ar, u->hdrs[i].name), u->hdrs[i].body);
	sieve_mail_header(&m, "MIME-Version", "1.0");
	if (u->body != NULL) {
		bool b8 = sieve_mail_has_8bit(u->body, strlen(u->body));
		sieve_mail_header(&m, "Content-Type", b8 ? "text/plain; charset=utf-8" : "text/plain; charset=us-ascii");
		sieve_mail_header(&m, "Content-Transfer-Encoding", b8 ? "8bit" : "7bit");
		strbuf_puts(&m, "\r\n");
		sieve_mail_body(&m, u->body, strlen(u->body));
	} else {
		sieve_mail_header(&m, "Content-Type", "text/plain; charset=US-ASCII");
		sieve_mail_header(&m, "Content-Transfer-Encoding", "7bit");
		strbuf_puts(&m, "\r\nNotification of new message.\r\n");
	}

	struct sieve_outgoing out = {
		.env_from = env_from, .rcpts = rcpts, .nrcpts = u->nrcpts, .data = m.data, .len = m.len,
	};
	const char *err = "unknown error";
	if (p->host->send(p->host->ctx, &out, &err) < 0)
		/* As Pigeonhole: a failed notification does not fail delivery. */
		sieve_action_log(d, act, DIAG_WARNING, "notify", "failed to send mail notification to %s: %s", all.data, err);
	else {
		sieve_action_log(d, act, DIAG_INFO, "notify", "sent mail notification to %s", all.data);
		sieve_fcc_store(act, p, m.data, m.len, d);   /* fcc: a copy of the notification */
	}
	strbuf_free(&m);
	strbuf_free(&to);
	strbuf_free(&cc);
	strbuf_free(&all);
	return 0;
}

static int notify_execute_action(struct sieve_action *act, const struct sieve_run_params *p, struct diag_list *d)
{
	struct arena *ar = arena_new(8192);
	int ret = notify_execute_in(act, p, d, ar);
	arena_unref(&ar);
	return ret;
}

static const struct sieve_action_def act_notify = {
	.name = "notify",
	.check_duplicate = notify_check_duplicate,
	.print = notify_print,
	.execute = notify_execute_action,
};

/* ------------------------------------------------------------------ */
/* notify                                                              */

static const struct sieve_tag_def tag_from = { "from", SV_TC_NONE, 0, SV_AT_STRING, "string" };
/* A number is let through the generic check so that the message below
 * can be Pigeonhole's. */
static const struct sieve_tag_def tag_importance = {
	"importance", SV_TC_NONE, 0, SV_AT_STRING | SV_AT_NUMBER, "string" };
static const struct sieve_tag_def tag_options = { "options", SV_TC_NONE, 0, SV_AT_STRLIST, "string list" };
static const struct sieve_tag_def tag_message = { "message", SV_TC_NONE, 0, SV_AT_STRING, "string" };
static const struct sieve_tag_def *const notify_tags[] = {
	&tag_from, &tag_importance, &tag_options, &tag_message, NULL
};

static struct sieve_ctag *cmd_tag(struct sieve_cmd *c, const struct sieve_tag_def *def)
{
	for (unsigned i = 0; i < c->ntags; i++)
		if (c->tags[i].def == def)
			return &c->tags[i];
	return NULL;
}

static int notify_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct arena *a = sieve_validator_arena(v);
	struct sieve_ctag *imp = cmd_tag(c, &tag_importance);
	if (imp != NULL) {
		if (imp->val.type != SV_AT_STRING) {
			sieve_validator_error(v, imp->val.loc, "the :importance tag for the notify command requires "
					      "a string parameter, but a number was found");
			return -1;
		}
		const struct sieve_cstring *s = &imp->val.strs[0];
		if (s->len != 1 || s->data[0] < '1' || s->data[0] > '3') {
			sieve_validator_error(v, imp->val.loc, "invalid :importance value for notify command: %s",
					      sanitize(a, s->data, s->len, 256));
			return -1;
		}
		/* Kept as a number from here on. */
		imp->val.type = SV_AT_NUMBER;
		imp->val.number = (uint64_t)(s->data[0] - '0');
	}

	/* Only a literal URI tells which method is meant. */
	const struct sieve_cstring *uri = &c->pos[0].strs[0];
	if (!sieve_cstring_is_const(uri))
		return 0;
	const char *body;
	const char *scheme = uri_scheme(a, uri->data, uri->len, &body);
	if (scheme == NULL) {
		sieve_validator_error(v, uri->loc, "notify command: invalid scheme part for method URI '%s'",
				      sanitize(a, uri->data, uri->len, 80));
		return -1;
	}
	if (strcasecmp(scheme, "mailto") != 0) {
		sieve_validator_error(v, uri->loc, "notify command: invalid method '%s'", scheme);
		return -1;
	}
	struct ntfy_log log = { .v = v, .loc = uri->loc, .prefix = "notify command" };
	if (mailto_parse_uri(a, sieve_validator_config(v), body, uri->data + uri->len, &log) == NULL)
		return -1;

	struct sieve_ctag *from = cmd_tag(c, &tag_from);
	if (from != NULL && sieve_cstring_is_const(&from->val.strs[0])) {
		const struct sieve_cstring *f = &from->val.strs[0];
		const char *err = NULL;
		if (sieve_address_parse(a, f->data, f->len, &err) == NULL) {
			log.loc = f->loc;
			ntfy_report(&log, DIAG_ERROR, "specified :from address '%s' is invalid for the mailto method: %s",
				    sanitize(a, f->data, f->len, 128), err);
			return -1;
		}
	}

	struct sieve_ctag *opts = cmd_tag(c, &tag_options);
	if (opts != NULL) {
		bool ok = true;
		for (size_t i = 0; i < opts->val.nstrs; i++) {
			const struct sieve_cstring *o = &opts->val.strs[i];
			log.loc = o->loc;
			if (sieve_cstring_is_const(o)) {
				if (!option_parse(&log, a, o->data, o->len, false))
					ok = false;
			} else {
				(void)option_parse(NULL, a, o->data, o->len, true);
			}
		}
		if (!ok)
			return -1;
		/* mailto takes no options: they are dropped. */
		sieve_validator_warning(v, opts->val.loc, "notify command: method '%s' accepts no options", scheme);
	}
	return 0;
}

static int notify_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct arena *ra = rt->result->arena;
	struct ntfy_action *n = arena_alloc(ra, sizeof(*n));
	const struct sieve_exec_tag *t;

	n->importance = 2;
	if ((t = sieve_args_tag(a, "importance")) != NULL && t->val.type == SV_OPD_NUMBER)
		n->importance = t->val.number < 1 ? 1 : (t->val.number > 3 ? 3 : t->val.number);
	if ((t = sieve_args_tag(a, "message")) != NULL) {
		struct sieve_string s = sieve_opd_string(rt, &t->val);
		n->message = arena_memdup(ra, s.p, s.len);
	}
	struct sieve_string from = { NULL, 0 };
	if ((t = sieve_args_tag(a, "from")) != NULL) {
		from = sieve_opd_string(rt, &t->val);
		n->from = arena_memdup(ra, from.p, from.len);
	}
	struct sieve_string uri = sieve_opd_string(rt, &a->pos[0]);

	const char *body;
	const char *scheme = uri_scheme(rt->arena, uri.p, uri.len, &body);
	if (scheme == NULL) {
		sieve_runtime_error(rt, a, "invalid scheme part for method URI '%s'", sanitize(rt->arena, uri.p, uri.len, 80));
		return SIEVE_FAILURE;
	}
	if (strcasecmp(scheme, "mailto") != 0) {
		sieve_runtime_error(rt, a, "invalid notify method '%s'", scheme);
		return SIEVE_FAILURE;
	}
	struct ntfy_log log = { .rt = rt, .a = a, .prefix = "notify_action" };
	if (n->from != NULL) {
		const char *err = NULL;
		n->from_norm = sieve_address_parse(ra, from.p, from.len, &err);
		if (n->from_norm == NULL) {
			ntfy_report(&log, DIAG_ERROR, "specified :from address '%s' is invalid for the mailto method: %s",
				    sanitize(rt->arena, from.p, from.len, 128), err);
			return SIEVE_FAILURE;
		}
	}
	n->uri = mailto_parse_uri(ra, rt->cfg, body, uri.p + uri.len, &log);
	if (n->uri == NULL)
		return SIEVE_FAILURE;
	if ((t = sieve_args_tag(a, "options")) != NULL) {
		/* mailto has no options; malformed ones are still reported. */
		struct sieve_string *items;
		size_t k = sieve_opd_strlist(rt, &t->val, &items);
		for (size_t i = 0; i < k; i++)
			(void)option_parse(&log, rt->arena, items[i].p, items[i].len, false);
	}

	struct sieve_action *act = sieve_action_new(rt, &act_notify, a);
	act->ctx = n;
	if (sieve_result_add(rt, a, act, false) < 0)
		return SIEVE_FAILURE;
	return SIEVE_OK;
}

static const struct sieve_pos_arg notify_args[] = { { "method", SV_AT_STRING } };
static const struct sieve_command_def cmd_notify = {
	"notify", SV_CMD_COMMAND, 0, notify_args, 1, notify_tags, notify_validate, notify_execute, NULL };

/* ------------------------------------------------------------------ */
/* valid_notify_method, notify_method_capability                       */

/* Is the URI one we could notify with?  Checked silently. */
static bool uri_valid(struct sieve_runtime *rt, struct sieve_string uri)
{
	const char *body;
	const char *scheme = uri_scheme(rt->arena, uri.p, uri.len, &body);
	if (scheme == NULL || strcasecmp(scheme, "mailto") != 0)
		return false;
	return mailto_parse_uri(rt->arena, rt->cfg, body, uri.p + uri.len, NULL) != NULL;
}

static int valid_notify_method_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string *uris;
	size_t n = sieve_opd_strlist(rt, &a->pos[0], &uris);
	rt->test_result = true;
	for (size_t i = 0; i < n && rt->test_result; i++)
		rt->test_result = uri_valid(rt, uris[i]);
	return SIEVE_OK;
}

static int notify_method_capability_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string uri = sieve_opd_string(rt, &a->pos[0]);
	struct sieve_string cap = sieve_opd_string(rt, &a->pos[1]);
	rt->test_result = false;
	const char *body;
	const char *scheme = uri_scheme(rt->arena, uri.p, uri.len, &body);
	if (scheme == NULL) {
		sieve_runtime_error(rt, a, "invalid scheme part for method URI '%s'", sanitize(rt->arena, uri.p, uri.len, 80));
		return SIEVE_OK;
	}
	if (strcasecmp(scheme, "mailto") != 0) {
		sieve_runtime_error(rt, a, "invalid notify method '%s'", scheme);
		return SIEVE_OK;
	}
	/* mailto knows two capabilities: whether the recipient is "online",
	   which mail can never tell (RFC 5436 section 2.6), and "fcc"
	   (RFC 8580 section 3.3.1): "yes", a copy of a mailto notification
	   can be filed with :fcc.  That test needs only the scheme. */
	const char *value = NULL;
	if (cap.len == 3 && strncasecmp(cap.p, "fcc", 3) == 0)
		value = "yes";
	else if (cap.len == 6 && strncasecmp(cap.p, "online", 6) == 0 &&
		 mailto_parse_uri(rt->arena, rt->cfg, body, uri.p + uri.len, NULL) != NULL)
		value = "maybe";
	if (value == NULL)
		return SIEVE_OK;
	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, &a->pos[2]);
	sieve_match_value(&m, value, strlen(value));
	rt->test_result = sieve_match_end(&m) > 0;
	return SIEVE_OK;
}

static const struct sieve_pos_arg valid_notify_method_args[] = { { "notification-uris", SV_AT_STRLIST } };
static const struct sieve_command_def tst_valid_notify_method = {
	"valid_notify_method", SV_CMD_TEST, 0, valid_notify_method_args, 1, NULL, NULL,
	valid_notify_method_execute, NULL };

static const struct sieve_pos_arg notify_method_capability_args[] = {
	{ "notification-uri", SV_AT_STRING }, { "notification-capability", SV_AT_STRING },
	{ "key-list", SV_AT_STRLIST } };
static const struct sieve_command_def tst_notify_method_capability = {
	"notify_method_capability", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, notify_method_capability_args, 3,
	NULL, NULL, notify_method_capability_execute, NULL };

static const struct sieve_command_def *const enotify_commands[] = {
	&cmd_notify, &tst_valid_notify_method, &tst_notify_method_capability, NULL
};

const struct sieve_extension_def sieve_ext_enotify = {
	.name = "enotify",
	.flags = SV_EF_DEFAULT_ON,
	.commands = enotify_commands,
	.tag_links = sieve_variables_encodeurl_link,
};
