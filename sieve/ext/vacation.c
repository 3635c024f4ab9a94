/* vacation.c: the vacation extension (RFC 5230) and vacation-seconds
 * (RFC 6131), with Pigeonhole's rules and settings.
 *
 *   vacation [:days number | :seconds number] [:subject string]
 *            [:from string] [:addresses string-list] [:mime]
 *            [:handle string] <reason: string>
 *
 * The command adds a "vacation" action; the reply is composed and handed to
 * host->send only when the result is executed, and only when every rule on
 * whom not to answer allows it (RFC 5230 section 4.5 and Pigeonhole's
 * additions): no reply to the null sender, to the user's own addresses, to
 * system senders, to automatic or bulk mail, to mailing lists, or to mail
 * that does not name the user in To/Cc/Bcc/Resent-*.  Replies to the same
 * sender with the same handle are suppressed for the period through the
 * host's duplicate tracking. */
#include "sieve/ext/outgoing.h"
#include <string.h>
#include <strings.h>

#define VACATION_DEFAULT_PERIOD (7 * 24 * 3600)
#define VACATION_DEFAULT_MIN_PERIOD (24 * 3600)
#define VACATION_MAX_SUBJECT_CODEPOINTS 256

/* :days and :seconds share an id so that the generic check rejects both
 * being given ("encountered duplicate :seconds argument"), as Pigeonhole. */
enum { VAC_ID_PERIOD = 1 };
static const struct sieve_tag_def tag_days = { "days", SV_TC_NONE, VAC_ID_PERIOD, SV_AT_NUMBER, "number" };
static const struct sieve_tag_def tag_seconds = {
	"seconds", SV_TC_NONE, VAC_ID_PERIOD, SV_AT_NUMBER, "number" };
static const struct sieve_tag_def tag_subject = { "subject", SV_TC_NONE, 0, SV_AT_STRING, "string" };
static const struct sieve_tag_def tag_from = { "from", SV_TC_NONE, 0, SV_AT_STRING, "string" };
static const struct sieve_tag_def tag_addresses = {
	"addresses", SV_TC_NONE, 0, SV_AT_STRLIST, "string list" };
static const struct sieve_tag_def tag_mime = { "mime", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_handle = { "handle", SV_TC_NONE, 0, SV_AT_STRING, "string" };
static const struct sieve_tag_def *const vacation_tags[] = {
	&tag_days, &tag_subject, &tag_from, &tag_addresses, &tag_mime, &tag_handle, NULL
};

/* ---- settings ---- */

struct vacation_periods {
	uint64_t min, max, def;
};

static struct vacation_periods vacation_get_periods(const struct sieve_config *cfg)
{
	struct vacation_periods p;
	p.min = sieve_config_duration(cfg, "sieve_vacation_min_period", VACATION_DEFAULT_MIN_PERIOD);
	p.max = sieve_config_duration(cfg, "sieve_vacation_max_period", 0);
	p.def = sieve_config_duration(cfg, "sieve_vacation_default_period", VACATION_DEFAULT_PERIOD);
	/* As Pigeonhole: with a maximum set, inconsistent settings fall back
	   to the defaults altogether (without one, the default period is used
	   as it is, even below the minimum). */
	if (p.max > 0 && (p.min > p.max || p.def < p.min || p.def > p.max)) {
		p.min = VACATION_DEFAULT_MIN_PERIOD;
		p.max = 0;
		p.def = VACATION_DEFAULT_PERIOD;
	}
	return p;
}

static uint64_t vacation_clamp(const struct vacation_periods *pp, uint64_t s)
{
	if (s < pp->min)
		return pp->min;
	if (pp->max > 0 && s > pp->max)
		return pp->max;
	return s;
}

/* ---- validation ---- */

static const char handle_no_subject[] = "<default-subject>";
static const char handle_no_from[] = "<default-from>";
static const char handle_mime[] = "<MIME>";
static const char handle_no_mime[] = "<NO-MIME>";

static int vacation_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_config *cfg = sieve_validator_config(v);
	struct vacation_periods pp = vacation_get_periods(cfg);
	const struct sieve_cstring *subject = NULL, *from = NULL;
	bool mime = false, has_handle = false;

	for (unsigned i = 0; i < c->ntags; i++) {
		struct sieve_ctag *t = &c->tags[i];
		const char *name = t->def->name;
		if (t->def == &tag_days || t->def == &tag_seconds) {
			/* The period is kept in seconds from here on. */
			uint64_t period = t->val.number;
			uint64_t secs = period;
			if (t->def == &tag_days)
				secs = period > UINT64_MAX / 86400 ? UINT64_MAX : period * 86400;
			if (secs < pp.min) {
				secs = pp.min;
				sieve_validator_warning(v, t->val.loc, "specified :%s value '%llu' is under the minimum",
							name, (unsigned long long)period);
			} else if (pp.max > 0 && secs > pp.max) {
				secs = pp.max;
				sieve_validator_warning(v, t->val.loc, "specified :%s value '%llu' is over the maximum",
							name, (unsigned long long)period);
			}
			t->val.number = secs;
		} else if (t->def == &tag_subject) {
			subject = &t->val.strs[0];
		} else if (t->def == &tag_from) {
			from = &t->val.strs[0];
			if (sieve_cstring_is_const(from)) {
				const char *err = NULL;
				if (sieve_address_parse(sieve_validator_arena(v), from->data, from->len, &err) == NULL) {
					sieve_validator_error(v, from->loc,
						"specified :from address '%.128s' is invalid for vacation action: %s",
						from->data, err);
					return -1;
				}
			}
		} else if (t->def == &tag_mime) {
			mime = true;
		} else if (t->def == &tag_handle) {
			has_handle = true;
		}
	}

	/* Without :handle, the handle is made of the source text of the
	   reason, :subject and :from (variables unexpanded) and :mime, as
	   Pigeonhole does; it becomes a second, hidden positional operand. */
	if (!has_handle && c->npos == 1 && c->npos < AST_MAX_ARGUMENTS) {
		const struct sieve_cstring *reason = &c->pos[0].strs[0];
		struct strbuf h = STRBUF_INIT;
		strbuf_append(&h, reason->data, reason->len);
		if (subject != NULL)
			strbuf_append(&h, subject->data, subject->len);
		else
			strbuf_puts(&h, handle_no_subject);
		if (from != NULL)
			strbuf_append(&h, from->data, from->len);
		else
			strbuf_puts(&h, handle_no_from);
		strbuf_puts(&h, mime ? handle_mime : handle_no_mime);
		struct arena *a = sieve_validator_arena(v);
		struct sieve_cval *cv = &c->pos[1];
		memset(cv, 0, sizeof(*cv));
		cv->type = SV_AT_STRING;
		cv->loc = c->node->loc;
		cv->strs = arena_alloc(a, sizeof(*cv->strs));
		cv->nstrs = 1;
		cv->strs[0].data = arena_memdup(a, h.data, h.len);
		cv->strs[0].len = h.len;
		cv->strs[0].loc = c->node->loc;
		c->npos = 2;
		strbuf_free(&h);
	}
	return 0;
}

/* ---- the action ---- */

struct vacation_ctx {
	const char *reason;
	uint64_t seconds;
	const char *subject;        /* NULL when not given */
	const char *from;           /* :from as written (expanded), NULL when not given */
	const char *from_addr;      /* its address, NULL when invalid */
	const char **addresses;     /* valid :addresses items, normalized */
	size_t naddresses;
	const char *handle;
	bool mime;
};

static int vacation_check_duplicate(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				    struct sieve_action *old, struct sieve_action *act)
{
	/* One from an earlier script of a sequence was already sent: the new
	   one is quietly dropped. */
	if (old->executed)
		return 1;
	sieve_runtime_error(rt, a, "duplicate vacation action not allowed (previously triggered one was here: %s)",
			    old->location);
	return -1;
}

static int vacation_check_conflict(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				   struct sieve_action *act, struct sieve_action *other)
{
	if (!(other->def->flags & SV_AF_SENDS_RESPONSE) || other->executed)
		return 0;
	sieve_runtime_error(rt, a, "vacation action conflicts with other action: "
			    "the %s action (%s) also sends a response back to the sender",
			    other->def->name, other->location);
	return -1;
}

static void vacation_print(const struct sieve_action *act, struct strbuf *out, bool *keep_r)
{
	const struct vacation_ctx *v = act->ctx;
	strbuf_puts(out, " * send vacation message:\n");
	strbuf_printf(out, "    => seconds : %llu\n", (unsigned long long)v->seconds);
	if (v->subject != NULL)
		strbuf_printf(out, "    => subject : %s\n", v->subject);
	if (v->from != NULL)
		strbuf_printf(out, "    => from    : %s\n", v->from);
	if (v->handle != NULL)
		strbuf_printf(out, "    => handle  : %s\n", v->handle);
	sieve_fcc_print(act, out, 8);   /* fcc: where the copy goes */
	strbuf_printf(out, "\nSTART MESSAGE\n%s\nEND MESSAGE\n", v->reason);
}

/* Headers of mailing list traffic (RFC 2369, RFC 2919). */
static const char *const list_headers[] = {
	"list-id", "list-owner", "list-subscribe", "list-post", "list-unsubscribe", "list-help",
	"list-archive", NULL
};
/* Where the user's own address must appear for a reply (RFC 5230 4.5). */
static const char *const my_address_headers[] = {
	"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc", NULL
};
/* Where the sender's full address (with display name) is looked up. */
static const char *const sender_headers[] = { "sender", "resent-from", "from", NULL };

static bool is_system_address(struct arena *ar, const char *addr)
{
	const char *lp = sieve_address_localpart(ar, addr);
	return strcasecmp(lp, "MAILER-DAEMON") == 0 || strcasecmp(lp, "LISTSERV") == 0 ||
		strcasecmp(lp, "majordomo") == 0 || strstr(lp, "-request") != NULL ||
		strncmp(lp, "owner-", 6) == 0;
}

/* Does one of the header values name `me`? */
static bool values_contain(struct arena *ar, const char *const *vals, size_t n, const char *me)
{
	if (me == NULL || *me == '\0')
		return false;
	for (size_t i = 0; i < n; i++) {
		struct msg_address *ad;
		size_t na;
		(void)msg_parse_address_list(ar, vals[i], &ad, &na);
		for (size_t k = 0; k < na; k++)
			if (ad[k].domain != NULL &&
			    sieve_address_equal_icase(msg_address_format(ar, ad[k].local, ad[k].domain), me))
				return true;
	}
	return false;
}

/* The subject of the reply: :subject, else the configured default or
 * template applied to the original subject, else "Auto: <original>". */
static const char *vacation_subject(struct arena *ar, const struct sieve_run_params *p,
				    const struct vacation_ctx *v)
{
	if (v->subject != NULL && *v->subject != '\0')
		return v->subject;
	const char *def = sieve_config_get(p->cfg, "sieve_vacation_default_subject");
	const char *tmpl = sieve_config_get(p->cfg, "sieve_vacation_default_subject_template");
	const char **vals;
	if (msg_header_values(p->msg, "subject", true, &vals) == 0)
		return def != NULL && *def != '\0' ? def : "Automated reply";
	const char *orig = vals[0];
	if (tmpl == NULL || *tmpl == '\0')
		return arena_printf(ar, "Auto: %s", orig);
	/* Template variables: %$ and %{subject} (Dovecot's var_expand). */
	struct strbuf b = STRBUF_INIT;
	for (const char *t = tmpl; *t != '\0'; t++) {
		if (*t == '%' && t[1] == '$') {
			strbuf_puts(&b, orig);
			t++;
		} else if (*t == '%' && strncmp(t + 1, "{subject}", 9) == 0) {
			strbuf_puts(&b, orig);
			t += 9;
		} else if (*t == '%' && t[1] == '%') {
			strbuf_putc(&b, '%');
			t++;
		} else {
			strbuf_putc(&b, *t);
		}
	}
	const char *r = arena_memdup(ar, b.data != NULL ? b.data : "", b.len);
	strbuf_free(&b);
	return r;
}

/* The To of the reply: the sender as written in Sender, Resent-From or
 * From (with its display name), else the bare envelope sender. */
static const char *vacation_reply_to(struct arena *ar, const struct sieve_run_params *p, const char *sender)
{
	bool any = sieve_config_bool(p->cfg, "sieve_vacation_to_header_ignore_envelope", false);
	for (const char *const *h = sender_headers; *h; h++) {
		const char **vals;
		if (msg_header_values(p->msg, *h, false, &vals) == 0)
			continue;
		struct msg_address *ad;
		size_t na;
		(void)msg_parse_address_list(ar, vals[0], &ad, &na);
		for (size_t k = 0; k < na; k++) {
			if (ad[k].domain == NULL)
				continue;
			const char *addr = msg_address_format(ar, ad[k].local, ad[k].domain);
			if (any || sieve_address_equal_icase(addr, sender))
				return sieve_mail_mailbox(ar, ad[k].display, addr);
		}
	}
	return sieve_mail_mailbox(ar, NULL, sender);
}

/* A body line longer than RFC 5322's 998 octets cannot go out as 8bit. */
static bool has_long_line(const char *s, size_t len)
{
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			run = 0;
		else if (++run > 998)
			return true;
	}
	return false;
}

static void qp_body(struct strbuf *b, const char *s, size_t len)
{
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue;
		if (c == '\n' || c == '\r') {
			strbuf_puts(b, "\r\n");
			col = 0;
			continue;
		}
		bool lit = (c >= 33 && c <= 126 && c != '=') ||
			((c == ' ' || c == '\t') && i + 1 < len && s[i + 1] != '\n' && s[i + 1] != '\r');
		size_t w = lit ? 1 : 3;
		if (col + w > 75) {
			strbuf_puts(b, "=\r\n");
			col = 0;
		}
		if (lit)
			strbuf_putc(b, (char)c);
		else
			strbuf_printf(b, "=%02X", c);
		col += w;
	}
	strbuf_puts(b, "\r\n");
}

static void vacation_compose(struct strbuf *m, struct arena *ar, const struct sieve_run_params *p,
			     const struct vacation_ctx *v, const char *sender, const char *reply_from)
{
	const char *subject = vacation_subject(ar, p, v);
	uint64_t maxcp = sieve_config_uint(p->cfg, "sieve_vacation_max_subject_codepoints",
					   VACATION_MAX_SUBJECT_CODEPOINTS);
	subject = sieve_str_sanitize_utf8(ar, subject, (size_t)maxcp);

	sieve_mail_header(m, "X-Sieve", "Tamis");
	sieve_mail_header(m, "Message-ID", sieve_mail_new_msgid(p, ar));
	sieve_mail_header(m, "Date", sieve_mail_date(ar, sieve_mail_now(p)));
	if (v->from != NULL && *v->from != '\0')
		sieve_mail_header_utf8(m, "From", v->from);
	else
		sieve_mail_header(m, "From", sieve_mail_mailbox(ar, NULL, reply_from != NULL ? reply_from :
								 sieve_postmaster_address(p, ar)));
	sieve_mail_header_utf8(m, "To", vacation_reply_to(ar, p, sender));
	sieve_mail_header_utf8(m, "Subject", subject);

	/* Threading (RFC 5230 section 5.8). */
	const char **ids, **refs;
	size_t nid = msg_header_values(p->msg, "message-id", false, &ids);
	size_t nref = msg_header_values(p->msg, "references", false, &refs);
	if (nid > 0 && *ids[0] != '\0') {
		sieve_mail_header(m, "In-Reply-To", ids[0]);
		if (nref > 0)
			sieve_mail_header(m, "References", arena_printf(ar, "%s %s", refs[0], ids[0]));
		else
			sieve_mail_header(m, "References", ids[0]);
	} else if (nref > 0) {
		sieve_mail_header(m, "References", refs[0]);
	}

	sieve_mail_header(m, "Auto-Submitted", "auto-replied (vacation)");
	sieve_mail_header(m, "Precedence", "bulk");
	/* Keeps Microsoft servers from answering the answer. */
	sieve_mail_header(m, "X-Auto-Response-Suppress", "All");
	sieve_mail_header(m, "MIME-Version", "1.0");
	size_t rlen = strlen(v->reason);
	if (v->mime) {
		/* With :mime the reason is a whole MIME entity, headers included. */
		sieve_mail_body(m, v->reason, rlen);
		return;
	}
	sieve_mail_header(m, "Content-Type", "text/plain; charset=utf-8");
	if (has_long_line(v->reason, rlen)) {
		sieve_mail_header(m, "Content-Transfer-Encoding", "quoted-printable");
		strbuf_puts(m, "\r\n");
		qp_body(m, v->reason, rlen);
	} else {
		sieve_mail_header(m, "Content-Transfer-Encoding", "8bit");
		strbuf_puts(m, "\r\n");
		sieve_mail_body(m, v->reason, rlen);
	}
}

/* The duplicate-tracking key: the lower-cased sender and the handle. */
static void vacation_key(const char *sender, const char *handle, unsigned char key[40])
{
	struct sieve_sha256 h;
	sieve_sha256_init(&h);
	for (const char *s = sender; *s != '\0'; s++) {
		char c = (char)((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s);
		sieve_sha256_update(&h, &c, 1);
	}
	sieve_sha256_update(&h, "", 1);
	sieve_sha256_update(&h, handle, strlen(handle));
	memcpy(key, "vacation", 8);
	sieve_sha256_final(&h, key + 8);
}

static int vacation_execute_in(struct sieve_action *act, const struct sieve_run_params *p,
			       struct diag_list *d, struct arena *ar)
{
	const struct vacation_ctx *v = act->ctx;
	const struct sieve_envelope *env = p->env;
	const char *recipient = env != NULL ? sieve_envelope_address(ar, env->to) : NULL;
	const char *sender = env != NULL ? sieve_envelope_address(ar, env->from) : NULL;

	if (recipient == NULL || *recipient == '\0') {
		sieve_action_log(d, act, DIAG_WARNING, "vacation", "vacation action aborted: envelope recipient is <>");
		return 0;
	}
	if (sender == NULL || *sender == '\0') {
		sieve_action_log(d, act, DIAG_INFO, "vacation", "discarded vacation reply to <>");
		return 0;
	}
	if (sieve_address_equal_icase(sender, recipient)) {
		sieve_action_log(d, act, DIAG_INFO, "vacation", "discarded vacation reply to own address <%s>", sender);
		return 0;
	}
	for (size_t i = 0; i < v->naddresses; i++) {
		if (sieve_address_equal_icase(sender, v->addresses[i])) {
			sieve_action_log(d, act, DIAG_INFO, "vacation", "discarded vacation reply to own address <%s> "
				"(as specified using :addresses argument)", sender);
			return 0;
		}
	}

	const struct sieve_host *host = p->host;
	unsigned char key[40];
	vacation_key(sender, v->handle, key);
	if (host != NULL && host->duplicate_check != NULL && host->duplicate_check(host->ctx, key, sizeof(key)) > 0) {
		sieve_action_log(d, act, DIAG_INFO, "vacation", "discarded duplicate vacation response to <%s>", sender);
		return 0;
	}

	const char **vals;
	size_t n;
	for (const char *const *h = list_headers; *h; h++) {
		if (msg_header_exists(p->msg, *h)) {
			sieve_action_log(d, act, DIAG_INFO, "vacation", "discarding vacation response to mailinglist recipient <%s>", sender);
			return 0;
		}
	}
	n = msg_header_values(p->msg, "auto-submitted", false, &vals);
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(vals[i], "no") != 0) {
			sieve_action_log(d, act, DIAG_INFO, "vacation", "discarding vacation response to auto-submitted message from <%s>",
				sender);
			return 0;
		}
	}
	n = msg_header_values(p->msg, "precedence", false, &vals);
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(vals[i], "junk") == 0 || strcasecmp(vals[i], "bulk") == 0 ||
		    strcasecmp(vals[i], "list") == 0) {
			sieve_action_log(d, act, DIAG_INFO, "vacation", "discarding vacation response to precedence=%s message from <%s>",
				vals[i], sender);
			return 0;
		}
	}
	n = msg_header_values(p->msg, "x-auto-response-suppress", false, &vals);
	for (size_t i = 0; i < n; i++) {
		const char *s = vals[i];
		while (*s != '\0') {
			while (*s == ' ' || *s == '\t' || *s == ',')
				s++;
			const char *e = s;
			while (*e != '\0' && *e != ',')
				e++;
			size_t len = (size_t)(e - s);
			while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
				len--;
			if ((len == 3 && strncasecmp(s, "All", 3) == 0) || (len == 3 && strncasecmp(s, "OOF", 3) == 0)) {
				sieve_action_log(d, act, DIAG_INFO, "vacation", "discarding vacation response to message from <%s> "
					"(`%.*s' flag found in x-auto-response-suppress header)", sender, (int)len, s);
				return 0;
			}
			s = e;
		}
	}
	if (is_system_address(ar, sender)) {
		sieve_action_log(d, act, DIAG_INFO, "vacation", "not sending vacation response to system address <%s>", sender);
		return 0;
	}

	/* Is the message addressed to the user (RFC 5230 section 4.5)?  The
	   address found also becomes the From of the reply. */
	bool use_orig = sieve_config_bool(p->cfg, "sieve_vacation_use_original_recipient", false);
	const char *orig = NULL;
	if (use_orig && env->orig_to != NULL)
		orig = sieve_envelope_address(ar, env->orig_to);
	if (orig != NULL && *orig == '\0')
		orig = NULL;
	const char *user_email = sieve_user_email(p, ar, false);
	const char *smtp_from = NULL, *reply_from = NULL;
	bool found = false;
	for (const char *const *h = my_address_headers; *h && !found; h++) {
		n = msg_header_values(p->msg, *h, false, &vals);
		if (n == 0)
			continue;
		if (values_contain(ar, vals, n, recipient)) {
			smtp_from = reply_from = recipient;
			found = true;
		} else if (orig != NULL && values_contain(ar, vals, n, orig)) {
			smtp_from = reply_from = orig;
			found = true;
		} else {
			for (size_t i = 0; i < v->naddresses && !found; i++) {
				if (values_contain(ar, vals, n, v->addresses[i])) {
					/* The script chooses the From, never the
					   envelope sender. */
					smtp_from = orig != NULL ? orig : recipient;
					reply_from = v->addresses[i];
					found = true;
				}
			}
			if (!found && user_email != NULL && values_contain(ar, vals, n, user_email)) {
				smtp_from = reply_from = user_email;
				found = true;
			}
		}
	}
	if (!found) {
		if (!sieve_config_bool(p->cfg, "sieve_vacation_dont_check_recipient", false)) {
			sieve_action_log(d, act, DIAG_INFO, "vacation", "discarding vacation response for implicitly delivered message; "
				"no known (envelope) recipient address found in message headers "
				"(recipient=<%s>, %s%sand%s additional `:addresses' are specified)", recipient,
				use_orig ? arena_printf(ar, "original-recipient=<%s>, ",
							orig != NULL ? orig : "UNAVAILABLE") : "",
				user_email != NULL ? arena_printf(ar, "user-email=<%s>, ", user_email) : "",
				v->naddresses == 0 ? " no" : "");
			return 0;
		}
		smtp_from = orig != NULL ? orig : recipient;
		reply_from = user_email != NULL ? user_email : sieve_user_email(p, ar, true);
	}

	if (host == NULL || host->send == NULL) {
		sieve_action_log(d, act, DIAG_WARNING, "vacation", "no means to send mail");
		return 0;
	}

	struct strbuf m = STRBUF_INIT;
	vacation_compose(&m, ar, p, v, sender, reply_from);
	const char *rcpt = sender;
	bool from_rcpt = sieve_config_bool(p->cfg, "sieve_vacation_send_from_recipient", false);
	struct sieve_outgoing out = {
		/* RFC 5230 section 5.1: null sender unless configured. */
		.env_from = from_rcpt && smtp_from != NULL ? smtp_from : "",
		.rcpts = &rcpt,
		.nrcpts = 1,
		.data = m.data,
		.len = m.len,
	};
	const char *err = "unknown error";
	int ret = host->send(host->ctx, &out, &err);
	if (ret >= 0)
		sieve_fcc_store(act, p, m.data, m.len, d);   /* fcc: a copy of the reply */
	strbuf_free(&m);
	if (ret < 0) {
		/* As Pigeonhole: a failed auto-reply does not fail the delivery. */
		sieve_action_log(d, act, DIAG_WARNING, "vacation", "failed to send vacation response to <%s>: %s", sender, err);
		return 0;
	}
	sieve_action_log(d, act, DIAG_INFO, "vacation", "sent vacation response to <%s>", sender);

	/* The settings may have changed since the script was compiled. */
	struct vacation_periods pp = vacation_get_periods(p->cfg);
	uint64_t secs = vacation_clamp(&pp, v->seconds);
	if (secs > 0 && host->duplicate_mark != NULL)
		host->duplicate_mark(host->ctx, key, sizeof(key), sieve_mail_now(p) + (time_t)secs);
	return 0;
}

static int vacation_execute_action(struct sieve_action *act, const struct sieve_run_params *p,
				   struct diag_list *d)
{
	struct arena *ar = arena_new(8192);
	int ret = vacation_execute_in(act, p, d, ar);
	arena_unref(&ar);
	return ret;
}

static const struct sieve_action_def act_vacation = {
	.name = "vacation",
	.flags = SV_AF_SENDS_RESPONSE,
	.check_duplicate = vacation_check_duplicate,
	.check_conflict = vacation_check_conflict,
	.print = vacation_print,
	.execute = vacation_execute_action,
};

/* ---- the command ---- */

static const char *opt_str(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char *tag)
{
	const struct sieve_exec_tag *t = sieve_args_tag(a, tag);
	if (t == NULL)
		return NULL;
	struct sieve_string s = sieve_opd_string(rt, &t->val);
	return arena_memdup(rt->result->arena, s.p, s.len);
}

static int vacation_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct arena *ra = rt->result->arena;
	struct vacation_ctx *v = arena_alloc(ra, sizeof(*v));
	struct vacation_periods pp = vacation_get_periods(rt->cfg);
	const struct sieve_exec_tag *t;

	v->seconds = pp.def;
	for (unsigned i = 0; i < a->ntags; i++)
		if (a->tags[i].def == &tag_days || a->tags[i].def == &tag_seconds)
			v->seconds = a->tags[i].val.number;
	v->subject = opt_str(rt, a, "subject");
	v->from = opt_str(rt, a, "from");
	v->mime = sieve_args_tag(a, "mime") != NULL;
	struct sieve_string reason = sieve_opd_string(rt, &a->pos[0]);
	v->reason = arena_memdup(ra, reason.p, reason.len);
	v->handle = opt_str(rt, a, "handle");
	if (v->handle == NULL && a->npos > 1) {
		struct sieve_string h = sieve_opd_string(rt, &a->pos[1]);
		v->handle = arena_memdup(ra, h.p, h.len);
	}
	if (v->handle == NULL)
		v->handle = "";

	/* An invalid :from (from a variable) is reported but not fatal, as in
	   Pigeonhole: the reply then goes out from the user's address. */
	if (v->from != NULL) {
		const char *err = NULL;
		v->from_addr = sieve_address_parse(ra, v->from, strlen(v->from), &err);
		if (v->from_addr == NULL)
			sieve_runtime_error(rt, a, "specified :from address '%.128s' is invalid for vacation action: %s",
					    v->from, err);
	}
	if ((t = sieve_args_tag(a, "addresses")) != NULL) {
		struct sieve_string *items;
		size_t n = sieve_opd_strlist(rt, &t->val, &items);
		v->addresses = arena_alloc(ra, sizeof(char *) * (n + 1));
		for (size_t i = 0; i < n; i++) {
			const char *err = NULL;
			const char *addr = sieve_address_parse(ra, items[i].p, items[i].len, &err);
			if (addr == NULL) {
				sieve_runtime_error(rt, a, "specified :addresses item '%.128s' is invalid: %s "
						    "for vacation action (ignored)", sieve_rt_strdup(rt, items[i]), err);
				continue;
			}
			v->addresses[v->naddresses++] = addr;
		}
	}

	struct sieve_action *act = sieve_action_new(rt, &act_vacation, a);
	act->ctx = v;
	if (sieve_result_add(rt, a, act, false) < 0)
		return SIEVE_FAILURE;
	return SIEVE_OK;
}

static const struct sieve_pos_arg vacation_args[] = { { "reason", SV_AT_STRING } };
static const struct sieve_command_def cmd_vacation = {
	"vacation", SV_CMD_COMMAND, 0, vacation_args, 1, vacation_tags, vacation_validate, vacation_execute, NULL };

static const struct sieve_command_def *const vacation_commands[] = { &cmd_vacation, NULL };

const struct sieve_extension_def sieve_ext_vacation = {
	.name = "vacation",
	.flags = SV_EF_DEFAULT_ON,
	.commands = vacation_commands,
};

/* vacation-seconds (RFC 6131): adds :seconds; requiring it makes vacation
 * itself available.  Off by default, as in Pigeonhole (only useful with
 * sieve_vacation_min_period under a day). */
static const struct sieve_tag_link vacation_seconds_links[] = { { "vacation", &tag_seconds }, { NULL, NULL } };
static const char *const vacation_seconds_implies[] = { "vacation", NULL };

const struct sieve_extension_def sieve_ext_vacation_seconds = {
	.name = "vacation-seconds",
	.flags = SV_EF_TESTSUITE_ON,
	.tag_links = vacation_seconds_links,
	.implies = vacation_seconds_implies,
};
