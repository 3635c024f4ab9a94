/* reject.c: the reject and ereject extensions (RFC 5429).  Both refuse the
 * message with a reason; Tamis, like Pigeonhole 0.5.19, answers both with
 * a rejection message to the envelope sender (an MDN, RFC 3798, with the
 * reason and the refused message's header), never to the null sender.
 * (ereject's SMTP-level refusal needs the LMTP host; until it has one,
 * ereject behaves as reject, as Pigeonhole says of itself.)
 *
 * A reject cancels the implicit keep and may not be combined with an
 * action that delivers the message (keep, fileinto, redirect) or another
 * response to the sender (vacation), nor with a second reject; the errors
 * are Pigeonhole's, reported at the reject's line. */
#include "sieve/engine.h"
#include "sieve/ext/outgoing.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

extern const struct sieve_action_def sieve_act_reject;
extern const struct sieve_action_def sieve_act_ereject;

static bool is_reject(const struct sieve_action *act)
{
	return act->def == &sieve_act_reject || act->def == &sieve_act_ereject;
}

/* Errors belong to the reject's own line, wherever the other action is. */
static void reject_error(struct sieve_runtime *rt, const struct sieve_action *rj, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reject_error(struct sieve_runtime *rt, const struct sieve_action *rj, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(rt->diags, DIAG_ERROR, rt->bin->script_name, rj->line, 0, fmt, ap);
	va_end(ap);
}

static int reject_check_duplicate(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				  struct sieve_action *old, struct sieve_action *act)
{
	if (old->executed)
		return 1;
	reject_error(rt, act, "duplicate reject/ereject action not allowed (previously triggered one was here: %s)",
		     old->location);
	return -1;
}

static int reject_check_conflict(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				 struct sieve_action *act, struct sieve_action *other)
{
	if (!is_reject(act))
		return 0;
	if (is_reject(other)) {
		/* reject and ereject are one action to Pigeonhole. */
		if (other->executed)
			return 0;
		const struct sieve_action *first = act->line <= other->line ? act : other;
		const struct sieve_action *second = first == act ? other : act;
		reject_error(rt, second, "duplicate reject/ereject action not allowed (previously triggered one was here: %s)",
			     first->location);
		return -1;
	}
	if ((other->def->flags & SV_AF_TRIES_DELIVER) && !other->executed) {
		reject_error(rt, act, "reject/ereject action conflicts with other action: "
			     "the %s action (%s) tries to deliver the message",
			     other->def->name, other->location);
		return -1;
	}
	if (other->def->flags & SV_AF_SENDS_RESPONSE) {
		if (!other->executed) {
			reject_error(rt, act, "reject/ereject action conflicts with other action: "
				     "the %s action (%s) also sends a response to the sender",
				     other->def->name, other->location);
			return -1;
		}
		/* The sender already had an answer: refuse silently. */
		act->text = NULL;
	}
	return 0;
}

static void reject_print(const struct sieve_action *act, struct strbuf *out, bool *keep_r)
{
	if (act->text == NULL) {
		strbuf_puts(out, " * reject message without sending a response (discard)\n");
	} else {
		struct arena *a = arena_new(1024);
		strbuf_printf(out, " * reject message with reason: %s\n",
			      sieve_str_sanitize(a, act->text, strlen(act->text), 128));
		arena_unref(&a);
	}
	*keep_r = false;
}

/* ---- the rejection message ---- */

static void put_date(struct strbuf *b, time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	gmtime_r(&t, &tm);
	strbuf_printf(b, "%s, %d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		      months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Appends s with every line end as CRLF. */
static void put_crlf(struct strbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			strbuf_putc(b, '\r');
		strbuf_putc(b, s[i]);
	}
}

/* The refused message's header without Content-Type (its body is not
 * included, so a multipart type would mislead MIME parsers). */
static void put_original_header(struct strbuf *b, const struct message *m)
{
	for (size_t i = 0; i < m->nheaders; i++) {
		const struct msg_header *h = &m->headers[i];
		if (h->name_len == 12 && strncasecmp(h->name, "Content-Type", 12) == 0)
			continue;
		strbuf_append(b, h->name, h->name_len);
		strbuf_putc(b, ':');
		put_crlf(b, h->raw, h->raw_len);
		strbuf_puts(b, "\r\n");
	}
}

static int reject_execute(struct sieve_action *act, const struct sieve_run_params *p, struct diag_list *diags)
{
	const char *kind = act->def == &sieve_act_ereject ? "ereject" : "reject";
	if (act->text == NULL) {
		sieve_action_log(diags, act, DIAG_INFO, "reject", "not sending reject message (would cause second response to sender)");
		return 0;
	}
	struct arena *a = arena_new(4096);
	const struct sieve_envelope *env = p->env;
	/* The paths as parsed addresses ("" for <>, NULL when unusable):
	   they are written into the rejection's header and body, where the
	   path's own text, which may hold a CR or LF, must never get. */
	const char *sender = sieve_envelope_address(a, env != NULL ? env->from : NULL);
	const char *rcpt = sieve_envelope_address(a, env != NULL ? (env->orig_to != NULL ? env->orig_to : env->to) : NULL);
	const char *final = sieve_envelope_address(a, env != NULL ? env->to : NULL);
	int ret = 0;
	if (rcpt == NULL || final == NULL || *rcpt == '\0' || *final == '\0') {
		sieve_action_log(diags, act, DIAG_WARNING, "reject", rcpt == NULL || final == NULL ?
			 "aborted: invalid envelope recipient" :
			 "aborted: envelope recipient is <>");
		goto out;
	}
	if (sender == NULL) {
		sieve_action_log(diags, act, DIAG_WARNING, "reject", "not sending reject message: invalid envelope sender");
		goto out;
	}
	if (*sender == '\0') {
		sieve_action_log(diags, act, DIAG_INFO, "reject", "not sending reject message to <>");
		goto out;
	}
	if (p->host == NULL || p->host->send == NULL) {
		sieve_action_log(diags, act, DIAG_WARNING, "reject", "no means to send mail");
		goto out;
	}

	const char *host = sieve_hostname(p->cfg, a);
	const char *pm = sieve_config_get(p->cfg, "postmaster_address");
	const char *from = pm == NULL || *pm == '\0' ? arena_printf(a, "Postmaster <postmaster@%s>", host) :
		strchr(pm, '<') != NULL ? pm : arena_printf(a, "Postmaster <%s>", pm);
	time_t now = p->host->now != NULL ? p->host->now(p->host->ctx) : time(NULL);
	unsigned rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (unsigned)(uintptr_t)act;
	const char *boundary = arena_printf(a, "%lld.%d.%08x/%s", (long long)now, (int)getpid(), rnd, host);

	struct strbuf b = STRBUF_INIT;
	strbuf_puts(&b, "X-Sieve: Tamis\r\n");
	strbuf_printf(&b, "Message-ID: <tamis-sieve-%lld-%d-%08x@%s>\r\n", (long long)now, (int)getpid(), rnd, host);
	strbuf_puts(&b, "Date: ");
	put_date(&b, now);
	strbuf_printf(&b, "\r\nFrom: %s\r\n", from);
	strbuf_printf(&b, "To: <%s>\r\n", sender);
	strbuf_puts(&b, "Subject: Automatically rejected mail\r\n"
		    "Auto-Submitted: auto-replied (rejected)\r\n"
		    "Precedence: bulk\r\n"
		    "MIME-Version: 1.0\r\n");
	strbuf_printf(&b, "Content-Type: multipart/report; report-type=disposition-notification;\r\n"
		      "\tboundary=\"%s\"\r\n\r\n", boundary);
	strbuf_puts(&b, "This is a MIME-encapsulated message\r\n\r\n");
	/* The human-readable part. */
	strbuf_printf(&b, "--%s\r\n", boundary);
	strbuf_puts(&b, "Content-Type: text/plain; charset=utf-8\r\n"
		    "Content-Disposition: inline\r\n"
		    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	strbuf_printf(&b, "Your message to <%s> was automatically rejected:\r\n", rcpt);
	put_crlf(&b, act->text, strlen(act->text));
	strbuf_puts(&b, "\r\n");
	/* The machine-readable part (RFC 3798). */
	strbuf_printf(&b, "--%s\r\n", boundary);
	strbuf_puts(&b, "Content-Type: message/disposition-notification\r\n\r\n");
	strbuf_printf(&b, "Reporting-UA: %s; Tamis Mail Delivery Agent\r\n", host);
	if (env->orig_to != NULL)
		strbuf_printf(&b, "Original-Recipient: rfc822; %s\r\n", rcpt);
	strbuf_printf(&b, "Final-Recipient: rfc822; %s\r\n", final);
	const struct message *m = sieve_action_message(act, p);
	const char **ids;
	if (m != NULL && msg_header_values((struct message *)m, "message-id", false, &ids) > 0)
		strbuf_printf(&b, "Original-Message-ID: %s\r\n", ids[0]);
	strbuf_puts(&b, "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n\r\n");
	/* The refused message's header. */
	strbuf_printf(&b, "--%s\r\n", boundary);
	strbuf_puts(&b, "Content-Type: message/rfc822\r\n\r\n");
	if (m != NULL)
		put_original_header(&b, m);
	strbuf_printf(&b, "\r\n\r\n--%s--\r\n", boundary);

	const char *to = sender;
	struct sieve_outgoing out = {
		.env_from = "", .rcpts = &to, .nrcpts = 1, .data = b.data, .len = b.len,
	};
	const char *err = "unknown error";
	if (p->host->send(p->host->ctx, &out, &err) < 0) {
		diag_add(diags, DIAG_ERROR, NULL, act->line, 0, "failed to send rejection message to <%s>: %s",
			 sender, err);
		ret = -1;
	} else {
		sieve_action_log(diags, act, DIAG_INFO, "reject", "rejected message from <%s> (%s)", sender, kind);
	}
	strbuf_free(&b);
out:
	arena_unref(&a);
	return ret;
}

const struct sieve_action_def sieve_act_reject = {
	.name = "reject",
	.flags = SV_AF_SENDS_RESPONSE,
	.check_duplicate = reject_check_duplicate,
	.check_conflict = reject_check_conflict,
	.print = reject_print,
	.execute = reject_execute,
};

const struct sieve_action_def sieve_act_ereject = {
	.name = "ereject",
	.flags = SV_AF_SENDS_RESPONSE,
	.check_duplicate = reject_check_duplicate,
	.check_conflict = reject_check_conflict,
	.print = reject_print,
	.execute = reject_execute,
};

/* ---- the commands ---- */

static int reject_command(struct sieve_runtime *rt, const struct sieve_exec_args *a,
			  const struct sieve_action_def *def)
{
	struct sieve_string reason = sieve_opd_string(rt, &a->pos[0]);
	/* The sender gets back their own message as it arrived: not one
	   editheader, a filter program, replace or enclose made (those edits
	   stay with the user).  Pigeonhole 0.5.19 does the same: after
	   addheader, its rejection encloses the received header only. */
	struct sieve_action *act = sieve_action_new(rt, def, a);
	act->msg = NULL;   /* NULL: the message as received (p->msg) */
	act->text = arena_memdup(rt->result->arena, reason.p, reason.len);
	if (sieve_result_add(rt, a, act, true) < 0)
		return SIEVE_FAILURE;
	return SIEVE_OK;
}

static int reject_cmd_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	return reject_command(rt, a, &sieve_act_reject);
}

static int ereject_cmd_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	return reject_command(rt, a, &sieve_act_ereject);
}

static const struct sieve_pos_arg reason_arg[] = { { "reason", SV_AT_STRING } };
static const struct sieve_command_def cmd_reject = {
	"reject", SV_CMD_COMMAND, 0, reason_arg, 1, NULL, NULL, reject_cmd_execute, NULL };
static const struct sieve_command_def cmd_ereject = {
	"ereject", SV_CMD_COMMAND, 0, reason_arg, 1, NULL, NULL, ereject_cmd_execute, NULL };

static const struct sieve_command_def *const reject_commands[] = { &cmd_reject, NULL };
static const struct sieve_command_def *const ereject_commands[] = { &cmd_ereject, NULL };

const struct sieve_extension_def sieve_ext_reject = {
	.name = "reject",
	.flags = SV_EF_DEFAULT_ON,
	.commands = reject_commands,
};

/* Off by default: Debian's Pigeonhole 0.5.19 is built without it. */
const struct sieve_extension_def sieve_ext_ereject = {
	.name = "ereject",
	.commands = ereject_commands,
};
