/* vnd-dovecot-report.c: the vnd.dovecot.report extension (Pigeonhole's
 * spec-bosch-sieve-report): report [:headers_only] <feedback-type>
 * <message> <address> sends an abuse report in the Messaging Abuse
 * Reporting Format (RFC 5965) about the message being filtered: a
 * multipart/report with the script's text, the machine-readable
 * message/feedback-report part and the message itself (or only its
 * header with :headers_only).
 *
 * The report is sent from the null sender; its From is the postmaster,
 * unless sieve_report_from names another address source ("sender",
 * "recipient", "orig_recipient", "user_email", "<address>").  The
 * Dovecot-Reporting-User field names the user (sieve_user_email, else the
 * original recipient).  As in Pigeonhole, the report describes the message
 * as it arrived, not as editheader changed it, and a failure to send it
 * does not fail the delivery. */
#include "sieve/engine.h"
#include "sieve/ext/outgoing.h"
#include <string.h>
#include <strings.h>

struct report_ctx {
	const char *feedback_type;
	const char *message;
	const char *address;        /* normalized local@domain */
	bool headers_only;
};

/* A MIME token (RFC 2045) with optional surrounding whitespace; returns the
   token, or NULL when the text is anything else. */
static const char *report_feedback_type(struct arena *a, const char *s, size_t len)
{
	size_t b = 0, e = len;
	while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n'))
		b++;
	while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n'))
		e--;
	if (b == e)
		return NULL;
	for (size_t i = b; i < e; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL)
			return NULL;
	}
	return arena_strndup(a, s + b, e - b);
}

/* ---- the action ---- */

/* Same recipient: as Pigeonhole's smtp_address_equals(), the local part is
   compared exactly and the (already lower-cased) domain without case. */
static int report_check_duplicate(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				  struct sieve_action *old, struct sieve_action *act)
{
	const struct report_ctx *o = old->ctx, *n = act->ctx;
	const char *oat = strrchr(o->address, '@'), *nat = strrchr(n->address, '@');
	if (oat == NULL || nat == NULL)
		return strcmp(o->address, n->address) == 0;
	if (oat - o->address != nat - n->address ||
	    strncmp(o->address, n->address, (size_t)(oat - o->address)) != 0)
		return 0;
	return strcasecmp(oat, nat) == 0;
}

static void report_print(const struct sieve_action *act, struct strbuf *out, bool *keep_r)
{
	const struct report_ctx *r = act->ctx;
	/* The type is cut at 32 characters, as Pigeonhole prints it. */
	struct arena *tmp = arena_new(256);
	strbuf_printf(out, " * report incoming message as `%s' to: <%s>\n",
		      sieve_str_sanitize(tmp, r->feedback_type, strlen(r->feedback_type), 32), r->address);
	arena_unref(&tmp);
}

/* The message's header block including the empty line that ends it. */
static size_t report_header_len(const struct message *m)
{
	return m->has_body ? m->body_offset : m->size;
}

static void report_compose(struct strbuf *b, struct arena *ar, const struct sieve_run_params *p,
			   const struct report_ctx *r)
{
	const struct message *m = p->msg;
	const struct sieve_envelope *env = p->env;

	/* From: the configured source, else the postmaster. */
	const char *from_addr = NULL, *from;
	if (sieve_address_source(p, "sieve_report_from", ar, &from_addr) > 0 &&
	    from_addr != NULL && *from_addr != '\0' &&
	    strcasecmp(sieve_config_get(p->cfg, "sieve_report_from"), "postmaster") != 0)
		from = arena_printf(ar, "<%s>", from_addr);
	else
		from = arena_printf(ar, "Postmaster <%s>", sieve_postmaster_address(p, ar));

	const char **subj;
	const char *subject = msg_header_values((struct message *)m, "subject", true, &subj) > 0 ?
		arena_printf(ar, "Report: %s", subj[0]) : "Report: (message without subject)";

	const char *msgid = sieve_mail_new_msgid(p, ar);
	/* The boundary only has to be absent from the parts: the unique
	   part of the Message-ID serves. */
	size_t idlen = strlen(msgid);
	const char *boundary = arena_strndup(ar, msgid + 1, idlen > 2 ? idlen - 2 : 0);

	sieve_mail_header(b, "X-Sieve", "Tamis");
	sieve_mail_header(b, "Message-ID", msgid);
	sieve_mail_header(b, "Date", sieve_mail_date(ar, sieve_mail_now(p)));
	sieve_mail_header(b, "From", from);
	sieve_mail_header(b, "To", arena_printf(ar, "<%s>", r->address));
	sieve_mail_header_utf8(b, "Subject", subject);
	sieve_mail_header(b, "Auto-Submitted", "auto-generated (report)");
	sieve_mail_header(b, "MIME-Version", "1.0");
	strbuf_printf(b, "Content-Type: multipart/report; report-type=feedback-report;\r\n"
		      "\tboundary=\"%s\"\r\n", boundary);
	strbuf_puts(b, "\r\nThis is a MIME-encapsulated message\r\n\r\n");

	/* Human-readable part. */
	strbuf_printf(b, "--%s\r\n", boundary);
	bool eight = sieve_mail_has_8bit(r->message, strlen(r->message));
	sieve_mail_header(b, "Content-Type", eight ? "text/plain; charset=utf-8" : "text/plain; charset=us-ascii");
	sieve_mail_header(b, "Content-Transfer-Encoding", eight ? "8bit" : "7bit");
	sieve_mail_header(b, "Content-Disposition", "inline");
	strbuf_puts(b, "\r\n");
	sieve_mail_body(b, r->message, strlen(r->message));
	strbuf_puts(b, "\r\n");

	/* Machine-readable part (RFC 5965 section 3). */
	strbuf_printf(b, "--%s\r\n", boundary);
	sieve_mail_header(b, "Content-Type", "message/feedback-report");
	strbuf_puts(b, "\r\n");
	sieve_mail_header(b, "Version", "1");
	sieve_mail_header(b, "Feedback-Type", r->feedback_type);
	sieve_mail_header(b, "User-Agent", "Tamis");
	const char *sender = env != NULL ? sieve_envelope_address(ar, env->from) : NULL;
	sieve_mail_header(b, "Original-Mail-From", arena_printf(ar, "<%s>", sender != NULL ? sender : ""));
	const char *orig = NULL;
	if (env != NULL)
		orig = sieve_envelope_address(ar, env->orig_to != NULL ? env->orig_to : env->to);
	if (orig != NULL && *orig != '\0')
		sieve_mail_header(b, "Original-Rcpt-To", arena_printf(ar, "<%s>", orig));
	const char *user = sieve_user_email(p, ar, false);
	if (user == NULL && orig != NULL && *orig != '\0')
		user = orig;
	if (user == NULL)
		user = sieve_user_email(p, ar, true);
	if (user != NULL)
		sieve_mail_header(b, "Dovecot-Reporting-User", arena_printf(ar, "<%s>", user));
	strbuf_puts(b, "\r\n");

	/* The message, or its header. */
	strbuf_printf(b, "--%s\r\n", boundary);
	sieve_mail_header(b, "Content-Type", r->headers_only ? "text/rfc822-headers" : "message/rfc822");
	sieve_mail_header(b, "Content-Disposition", "attachment");
	strbuf_puts(b, "\r\n");
	if (r->headers_only) {
		strbuf_append(b, m->data, report_header_len(m));
	} else {
		strbuf_append(b, m->data, m->size);
		strbuf_puts(b, "\r\n");
	}
	strbuf_printf(b, "\r\n--%s--\r\n", boundary);
}

static int report_execute_action(struct sieve_action *act, const struct sieve_run_params *p,
				 struct diag_list *diags)
{
	const struct report_ctx *r = act->ctx;
	const struct sieve_host *host = p->host;
	if (host == NULL || host->send == NULL) {
		diag_add(diags, DIAG_WARNING, NULL, act->line, 0, "report action has no means to send mail");
		return 0;
	}
	struct arena *ar = arena_new(8192);
	struct strbuf b = STRBUF_INIT;
	report_compose(&b, ar, p, r);
	const char *rcpt = r->address;
	struct sieve_outgoing out = {
		.env_from = "",
		.rcpts = &rcpt,
		.nrcpts = 1,
		.data = b.data,
		.len = b.len,
	};
	const char *err = "unknown error";
	if (host->send(host->ctx, &out, &err) < 0) {
		/* As Pigeonhole: a report that cannot be sent is logged, and
		   the delivery goes on. */
		diag_add(diags, DIAG_WARNING, NULL, act->line, 0, "failed to send `%s' report to <%s>: %s",
			 r->feedback_type, r->address, err);
	}
	strbuf_free(&b);
	arena_unref(&ar);
	return 0;
}

static const struct sieve_action_def act_report = {
	.name = "report",
	.check_duplicate = report_check_duplicate,
	.print = report_print,
	.execute = report_execute_action,
};

/* ---- the command ---- */

static int report_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct arena *a = sieve_validator_arena(v);
	const struct sieve_cstring *ft = &c->pos[0].strs[0];
	if (sieve_cstring_is_const(ft) && report_feedback_type(a, ft->data, ft->len) == NULL) {
		sieve_validator_error(v, ft->loc, "specified feedback type `%s' is invalid",
				      sieve_str_sanitize(a, ft->data, ft->len, 128));
		return -1;
	}
	const struct sieve_cstring *addr = &c->pos[2].strs[0];
	const char *err = NULL;
	if (sieve_cstring_is_const(addr) && sieve_address_parse(a, addr->data, addr->len, &err) == NULL) {
		sieve_validator_error(v, addr->loc, "specified report address '%s' is invalid: %s",
				      sieve_str_sanitize(a, addr->data, addr->len, 128), err != NULL ? err : "");
		return -1;
	}
	return 0;
}

static int report_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct arena *ra = rt->result->arena;
	struct sieve_string ft = sieve_opd_string(rt, &a->pos[0]);
	struct sieve_string text = sieve_opd_string(rt, &a->pos[1]);
	struct sieve_string addr = sieve_opd_string(rt, &a->pos[2]);
	const char *type = report_feedback_type(ra, ft.p, ft.len);
	if (type == NULL) {
		sieve_runtime_error(rt, a, "specified report feedback type `%s' is invalid",
				    sieve_str_sanitize(rt->arena, ft.p, ft.len, 256));
		return SIEVE_FAILURE;
	}
	const char *err = NULL;
	const char *norm = sieve_address_parse(ra, addr.p, addr.len, &err);
	if (norm == NULL) {
		sieve_runtime_error(rt, a, "specified report address '%s' is invalid: %s",
				    sieve_str_sanitize(rt->arena, addr.p, addr.len, 128), err != NULL ? err : "");
		return SIEVE_FAILURE;
	}
	struct report_ctx *r = arena_alloc(ra, sizeof(*r));
	r->feedback_type = type;
	r->message = arena_memdup(ra, text.p, text.len);
	r->address = norm;
	r->headers_only = sieve_args_tag(a, "headers_only") != NULL;
	struct sieve_action *act = sieve_action_new(rt, &act_report, a);
	act->ctx = r;
	act->address = norm;
	if (sieve_result_add(rt, a, act, false) < 0)
		return SIEVE_FAILURE;
	return SIEVE_OK;
}

static const struct sieve_tag_def tag_headers_only = { "headers_only", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def *const report_tags[] = { &tag_headers_only, NULL };
static const struct sieve_pos_arg report_args[] = {
	{ "feedback-type", SV_AT_STRING }, { "message", SV_AT_STRING }, { "address", SV_AT_STRING } };
static const struct sieve_command_def cmd_report = {
	"report", SV_CMD_COMMAND, 0, report_args, 3, report_tags, report_validate, report_execute, NULL };

static const struct sieve_command_def *const report_commands[] = { &cmd_report, NULL };

/* Off by default, as in Pigeonhole; on in the testsuite. */
const struct sieve_extension_def sieve_ext_vnd_dovecot_report = {
	.name = "vnd.dovecot.report",
	.flags = SV_EF_TESTSUITE_ON,
	.commands = report_commands,
};
