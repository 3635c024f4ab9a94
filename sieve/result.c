/* result.c: the result of a Sieve run: the actions a script asked for,
 * checked as they are added (limits, duplicates, conflicts: RFC 5228
 * section 4 and Pigeonhole's rules), printed in sieve-test's layout, and
 * executed as a transaction: mail is stored first, outgoing mail is sent
 * only once every store succeeded, and the implicit keep (or the keep that
 * replaces a failed result) comes last. */
#include "sieve/engine.h"
#include "sieve/ext/outgoing.h"
#include "lib/utf8.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sieve_result *sieve_result_new(void)
{
	struct sieve_result *r = calloc(1, sizeof(*r));
	if (r == NULL)
		abort();
	r->arena = arena_new(16384);
	return r;
}

void sieve_result_reset(struct sieve_result *r)
{
	arena_unref(&r->arena);
	memset(r, 0, sizeof(*r));
	r->arena = arena_new(16384);
}

void sieve_result_unref(struct sieve_result **rp)
{
	struct sieve_result *r = *rp;
	if (r == NULL)
		return;
	*rp = NULL;
	arena_unref(&r->arena);
	free(r);
}

size_t sieve_result_action_count(const struct sieve_result *r)
{
	return r->count;
}

const char *sieve_result_action_name(const struct sieve_result *r, size_t i)
{
	if (i >= r->count)
		return NULL;
	return r->actions[i]->keep ? "keep" : r->actions[i]->def->name;
}

bool sieve_result_implicit_keep(const struct sieve_result *r)
{
	return !r->keep_cancelled;
}

struct sieve_action *sieve_action_new(struct sieve_runtime *rt, const struct sieve_action_def *def,
				      const struct sieve_exec_args *a)
{
	struct sieve_action *act = arena_alloc(rt->result->arena, sizeof(*act));
	act->def = def;
	act->result = rt->result;
	act->line = a != NULL ? a->line : 0;
	act->location = arena_printf(rt->result->arena, "%s: line %d", rt->bin->script_name, act->line);
	/* An action delivers the message as it was when the script asked for
	   it, even if a later filter or editheader replaces it. */
	if (rt->msg != rt->params->msg)
		act->msg = rt->msg;
	return act;
}

struct sieve_action *sieve_send_action_new(struct sieve_runtime *rt, const struct sieve_action_def *def,
					   const struct sieve_exec_args *a)
{
	struct sieve_action *act = sieve_action_new(rt, def, a);
	/* The message before replace/enclose: the result carries it, so a
	   later script of a sequence (sharing the result) sends it too. */
	const struct message *orig = rt->result->before_mime_edit;
	if (orig != NULL)
		act->msg = orig != rt->params->msg ? rt->result->before_mime_edit : NULL;
	return act;
}

void sieve_runtime_replace_message(struct sieve_runtime *rt, struct message *m)
{
	rt->msg = m;
	rt->result->msg = m;
}

const struct message *sieve_action_message(const struct sieve_action *act,
					   const struct sieve_run_params *p)
{
	return act->msg != NULL ? act->msg : p->msg;
}

int sieve_result_add(struct sieve_runtime *rt, const struct sieve_exec_args *a,
		     struct sieve_action *act, bool cancels_keep)
{
	struct sieve_result *r = rt->result;
	if (act->fcc == NULL && sieve_fcc_from_args(rt, a, &act->fcc) < 0)
		return -1;   /* fcc: vacation / notify :fcc */
	for (size_t i = 0; i < r->count; i++) {
		struct sieve_action *old = r->actions[i];
		if (old->def == act->def) {
			int d = act->def->check_duplicate != NULL ?
				act->def->check_duplicate(rt, a, old, act) : 1;
			if (d < 0)
				return -1;
			/* A duplicate is dropped: the first action stays as it
			   was (with its :copy), so the implicit keep does not
			   change either (Pigeonhole). */
			if (d > 0)
				return 0;
		} else {
			if (act->def->check_conflict != NULL && act->def->check_conflict(rt, a, act, old) < 0)
				return -1;
			if (old->def->check_conflict != NULL && old->def->check_conflict(rt, a, old, act) < 0)
				return -1;
		}
	}
	uint64_t max_actions = sieve_config_uint(rt->cfg, "sieve_max_actions", 32);
	if (max_actions > 0 && r->count + 1 > max_actions) {
		sieve_runtime_error(rt, a, "total number of actions exceeds policy limit (%zu > %llu)",
				    r->count + 1, (unsigned long long)max_actions);
		return -1;
	}
	if (act->def == &sieve_act_redirect) {
		uint64_t max_redirects = sieve_config_uint(rt->cfg, "sieve_max_redirects", 4);
		if (r->redirects + 1 > max_redirects) {
			sieve_runtime_error(rt, a, "number of redirect actions exceeds policy limit (%zu > %llu)",
					    r->redirects + 1, (unsigned long long)max_redirects);
			return -1;
		}
		r->redirects++;
	}
	if (r->count == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 8;
		r->actions = arena_grow(r->arena, r->actions, r->cap, nc, sizeof(*r->actions));
		r->cap = nc;
	}
	r->actions[r->count++] = act;
	if (cancels_keep)
		r->keep_cancelled = true;
	return 0;
}

/* ---- the core actions ---- */

static bool mailbox_eq(const char *a, const char *b)
{
	/* INBOX is case-insensitive (RFC 3501), other names are not. */
	if (strcasecmp(a, "INBOX") == 0 && strcasecmp(b, "INBOX") == 0)
		return true;
	return strcmp(a, b) == 0;
}

static int store_check_duplicate(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				 struct sieve_action *old, struct sieve_action *act)
{
	if (!mailbox_eq(old->mailbox, act->mailbox))
		return 0;
	/* Merged as Pigeonhole merges side effects: what both carry takes
	   the newer value (the last flag list wins, RFC 5232 section 3.2);
	   what only the newer one carries (:copy, :create) is dropped, but
	   a newer :specialuse is taken even when the older store had none
	   (`fileinto "Junk"; fileinto :specialuse "\\Sent" "Junk";` stores
	   once, preferring the \Sent mailbox, as sieve-test 0.5.19 shows).
	   A keep takes the store over. */
	if (act->flags_set && old->flags_set) {
		old->flags = act->flags;
		old->nflags = act->nflags;
	}
	if (act->special_use != NULL)
		old->special_use = act->special_use;
	if (act->keep) {
		/* ... and its name: fileinto "Inbox"; keep; prints INBOX. */
		old->keep = true;
		old->mailbox = act->mailbox;
	}
	return 1;
}

/* The flags a store applies: its own (imap4flags was active when it was
 * added), else the internal flags of a script that used imap4flags later
 * in the same result (Pigeonhole's implicit side effect). */
static void store_flags(const struct sieve_action *act, const char *const **flags_r, size_t *n_r)
{
	const struct sieve_result *r = act->result;
	if (act->flags_set || r == NULL || r->flags_ctx == NULL) {
		*flags_r = (const char *const *)act->flags;
		*n_r = act->nflags;
	} else {
		*flags_r = (const char *const *)r->keep_flags;
		*n_r = r->keep_nflags;
	}
}

/* sieve-test's "add IMAP flags:" line: the system flags it knows, in its
 * fixed order and lower case, each once, then the keywords as given. */
static void print_flags(const char *const *flags, size_t n, struct strbuf *out)
{
	static const char *const sys[] = { "\\flagged", "\\answered", "\\deleted", "\\seen", "\\draft" };
	bool any = false;
	struct strbuf line = STRBUF_INIT;
	for (size_t k = 0; k < sizeof(sys) / sizeof(sys[0]); k++) {
		for (size_t i = 0; i < n; i++) {
			if (strcasecmp(flags[i], sys[k]) == 0) {
				strbuf_printf(&line, " %s", sys[k]);
				any = true;
				break;
			}
		}
	}
	struct arena *tmp = NULL;
	for (size_t i = 0; i < n; i++) {
		if (flags[i][0] == '\\')
			continue;
		if (tmp == NULL)
			tmp = arena_new(1024);
		strbuf_printf(&line, " %s", sieve_str_sanitize(tmp, flags[i], strlen(flags[i]), 64));
		any = true;
	}
	arena_unref(&tmp);
	if (any)
		strbuf_printf(out, "        + add IMAP flags:%s\n", line.data);
	strbuf_free(&line);
}

/* As Pigeonhole's str_sanitize(): control characters become '?', and a
 * name longer than 128 characters is cut (at a character boundary) with
 * "..." appended. */
static void print_sanitized(struct strbuf *out, const char *s, size_t max)
{
	utf8_sanitize_append(out, s, max, "...");
}

static void store_print(const struct sieve_action *act, struct strbuf *out, bool *keep_r)
{
	strbuf_puts(out, " * store message in folder: ");
	print_sanitized(out, act->mailbox, 128);
	strbuf_putc(out, '\n');
	/* Side effects in Pigeonhole's order: by precedence (special-use,
	   then create), then :flags and :copy as they were given, the
	   internal flags (no :flags) last. */
	if (act->special_use != NULL)
		strbuf_printf(out, "        + use mailbox with special-use flag `%s' instead if accessible\n",
			      act->special_use);
	if (act->create)
		strbuf_puts(out, "        + create mailbox if it does not exist\n");
	const char *const *flags;
	size_t nflags;
	store_flags(act, &flags, &nflags);
	if (act->flags_first)
		print_flags(flags, nflags, out);
	if (act->copy)
		strbuf_puts(out, "        + preserve implicit keep\n");
	if (!act->flags_first)
		print_flags(flags, nflags, out);
}

static int store_execute(struct sieve_action *act, const struct sieve_run_params *p, struct diag_list *diags)
{
	const char *err = "no mail store";
	if (p->host == NULL || p->host->store == NULL)
		return 0;
	const char *const *flags;
	size_t nflags;
	store_flags(act, &flags, &nflags);
	/* special-use (RFC 8579 section 4): the mailbox with the attribute
	   when the host knows one (then :create has nothing to do), else the
	   named mailbox. */
	const char *box = act->mailbox;
	bool create = act->create;
	struct arena *tmp = NULL;
	if (act->special_use != NULL && p->host->mailbox_by_special_use != NULL) {
		tmp = arena_new(256);
		const char *su = p->host->mailbox_by_special_use(p->host->ctx, act->special_use, tmp);
		if (su != NULL) {
			box = su;
			create = false;
		}
	}
	int ret = 0;
	if (p->host->store(p->host->ctx, box, create, sieve_action_message(act, p), flags, nflags, &err) < 0) {
		diag_add(diags, DIAG_ERROR, NULL, act->line, 0, "failed to store into mailbox '%s': %s", box, err);
		ret = -1;
	}
	arena_unref(&tmp);
	return ret;
}

const struct sieve_action_def sieve_act_store = {
	.name = "store",
	.flags = SV_AF_TRIES_DELIVER | SV_AF_MAIL_STORAGE,
	.check_duplicate = store_check_duplicate,
	.print = store_print,
	.execute = store_execute,
};

static int redirect_check_duplicate(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				    struct sieve_action *old, struct sieve_action *act)
{
	/* Same address (the local part is case-sensitive, the domain not). */
	const char *oa = old->address, *na = act->address;
	const char *oat = strrchr(oa, '@'), *nat = strrchr(na, '@');
	if (oat == NULL || nat == NULL)
		return strcmp(oa, na) == 0;
	if (oat - oa != nat - na || strncmp(oa, na, (size_t)(oat - oa)) != 0)
		return 0;
	if (strcasecmp(oat, nat) != 0)
		return 0;
	/* The first redirect stays as it was, :copy or not (Pigeonhole). */
	return 1;
}

static void redirect_print(const struct sieve_action *act, struct strbuf *out, bool *keep_r)
{
	strbuf_printf(out, " * redirect message to: <%s>\n", act->address);
	if (act->copy)
		strbuf_puts(out, "        + preserve implicit keep\n");
}

/* Redirect loop/duplicate protection: a forward of this message (its
 * Message-ID) for this recipient to this address is remembered through the
 * host's duplicate store for sieve_redirect_duplicate_period (12h), so a
 * message delivered twice is not forwarded twice.  Without a Message-ID
 * there is nothing to recognise the message by, and no key. */
static bool redirect_dup_key(const struct sieve_run_params *p, const char *address,
			     struct arena *tmp, unsigned char key[40])
{
	const char **vals;
	if (p->msg == NULL || msg_header_values(p->msg, "message-id", true, &vals) <= 0 ||
	    vals[0] == NULL || *vals[0] == '\0')
		return false;
	const char *rcpt = p->env != NULL ? sieve_envelope_address(tmp, p->env->to) : NULL;
	struct sieve_sha256 h;
	sieve_sha256_init(&h);
	sieve_sha256_update(&h, vals[0], strlen(vals[0]) + 1);
	if (rcpt != NULL)
		sieve_sha256_update(&h, rcpt, strlen(rcpt));
	sieve_sha256_update(&h, "", 1);
	if (p->username != NULL)
		sieve_sha256_update(&h, p->username, strlen(p->username));
	sieve_sha256_update(&h, "", 1);
	sieve_sha256_update(&h, address, strlen(address));
	memcpy(key, "redirect", 8);
	sieve_sha256_final(&h, key + 8);
	return true;
}

static int redirect_execute(struct sieve_action *act, const struct sieve_run_params *p, struct diag_list *diags)
{
	if (p->host == NULL || p->host->send == NULL)
		return 0;
	/* The copy's format, envelope sender and loop check are Pigeonhole's
	   (sieve/ext/outgoing.c). */
	struct strbuf msg = STRBUF_INIT;
	const struct message *m = sieve_action_message(act, p);
	struct arena *tmp = arena_new(4096);
	const char *env_from = "";
	if (sieve_redirect_compose(p, m, act->address, tmp, &msg, &env_from, diags, act->line) == 0) {
		/* A loop: nothing is sent and the message stays here instead
		   (unless another action already stores or drops it). */
		bool other = false;
		for (size_t i = 0; i < act->result->count; i++) {
			const struct sieve_action *o = act->result->actions[i];
			if (o != act && (o->def == &sieve_act_store || o->def == &sieve_act_discard ||
					 strcmp(o->def->name, "reject") == 0 || strcmp(o->def->name, "ereject") == 0))
				other = true;
		}
		if (!other && !act->copy)
			act->result->keep_cancelled = false;
		strbuf_free(&msg);
		arena_unref(&tmp);
		return 0;
	}
	unsigned char dkey[40];
	bool have_dkey = redirect_dup_key(p, act->address, tmp, dkey);
	if (have_dkey && p->host->duplicate_check != NULL &&
	    p->host->duplicate_check(p->host->ctx, dkey, sizeof(dkey)) > 0) {
		diag_add(diags, DIAG_INFO, NULL, act->line, 0,
			 "discarded duplicate forward to <%s>", act->address);
		strbuf_free(&msg);
		arena_unref(&tmp);
		return 0;
	}
	const char *rcpt = act->address;
	struct sieve_outgoing out = {
		.env_from = env_from,
		.rcpts = &rcpt,
		.nrcpts = 1,
		.data = msg.data,
		.len = msg.len,
		.opts = act->send_opts,
	};
	const char *err = "unknown error";
	int ret = p->host->send(p->host->ctx, &out, &err);
	strbuf_free(&msg);
	arena_unref(&tmp);
	if (ret < 0) {
		diag_add(diags, DIAG_ERROR, NULL, act->line, 0, "failed to redirect message to <%s>: %s",
			 act->address, err);
		return -1;
	}
	/* Marked only once the copy is on its way. */
	uint64_t period = sieve_config_duration(p->cfg, "sieve_redirect_duplicate_period", 12 * 3600);
	if (have_dkey && period > 0 && p->host->duplicate_mark != NULL)
		p->host->duplicate_mark(p->host->ctx, dkey, sizeof(dkey),
					sieve_mail_now(p) + (time_t)period);
	return 0;
}

const struct sieve_action_def sieve_act_redirect = {
	.name = "redirect",
	.flags = SV_AF_TRIES_DELIVER,
	.check_duplicate = redirect_check_duplicate,
	.print = redirect_print,
	.execute = redirect_execute,
};

static void discard_print(const struct sieve_action *act, struct strbuf *out, bool *keep_r)
{
	strbuf_puts(out, " * discard\n");
}

const struct sieve_action_def sieve_act_discard = {
	.name = "discard",
	.print = discard_print,
};

/* ---- printing ---- */

void sieve_result_print(struct sieve_result *r, struct strbuf *out, const char *default_mailbox)
{
	strbuf_puts(out, "\nPerformed actions:\n\n");
	if (r->count == 0)
		strbuf_puts(out, "  (none)\n");
	for (size_t i = 0; i < r->count; i++) {
		bool keep = false;
		r->actions[i]->def->print(r->actions[i], out, &keep);
	}
	strbuf_puts(out, "\nImplicit keep:\n\n");
	if (r->keep_cancelled) {
		strbuf_puts(out, "  (none)\n");
	} else {
		strbuf_printf(out, " * store message in folder: %s\n",
			      default_mailbox != NULL ? default_mailbox : "INBOX");
		print_flags((const char *const *)r->keep_flags, r->keep_nflags, out);
	}
	strbuf_putc(out, '\n');
}

/* ---- execution ---- */

static int do_keep(struct sieve_result *r, const struct sieve_run_params *p, struct diag_list *diags,
		   bool failed)
{
	struct sieve_action keep;
	memset(&keep, 0, sizeof(keep));
	keep.def = &sieve_act_store;
	keep.mailbox = p->default_mailbox != NULL ? p->default_mailbox : "INBOX";
	keep.flags = r->keep_flags;
	keep.nflags = r->keep_nflags;
	/* The keep that replaces a failed result stores the message as it
	   arrived, without the script's edits (as Pigeonhole). */
	keep.msg = failed ? NULL : r->msg;
	/* fileinto :copy "INBOX" already put the message there: the implicit
	   keep is that store, not a second copy. */
	for (size_t i = 0; i < r->count && !failed; i++)
		if (r->actions[i]->def == &sieve_act_store && r->actions[i]->executed &&
		    mailbox_eq(r->actions[i]->mailbox, keep.mailbox))
			return 0;
	if (store_execute(&keep, p, diags) == 0)
		return 0;
	if (strcmp(keep.mailbox, "INBOX") != 0) {
		keep.mailbox = "INBOX";
		if (store_execute(&keep, p, diags) == 0)
			return 0;
	}
	return -1;
}

int sieve_result_execute(struct sieve_result *r, const struct sieve_run_params *p,
			 struct diag_list *diags, bool *keep_done_r)
{
	bool failed = false;
	*keep_done_r = false;
	/* Phase 1: everything that stores mail. */
	for (size_t i = 0; i < r->count && !failed; i++) {
		struct sieve_action *act = r->actions[i];
		if (act->executed || !(act->def->flags & SV_AF_MAIL_STORAGE))
			continue;
		if (act->def->execute != NULL && act->def->execute(act, p, diags) < 0)
			failed = true;
		else
			act->executed = true;
		if (act->keep)
			*keep_done_r = true;
	}
	/* Phase 2: what sends mail out, only when the stores all succeeded:
	   outgoing mail cannot be rolled back. */
	for (size_t i = 0; i < r->count && !failed; i++) {
		struct sieve_action *act = r->actions[i];
		if (act->executed || (act->def->flags & (SV_AF_MAIL_STORAGE | SV_AF_FINAL)))
			continue;
		if (act->def->execute != NULL && act->def->execute(act, p, diags) < 0)
			failed = true;
		else
			act->executed = true;
	}
	r->executed = true;
	if (!r->keep_cancelled || failed) {
		if (do_keep(r, p, diags, failed) < 0)
			return SIEVE_KEEP_FAILED;
		*keep_done_r = true;
		if (failed)
			return SIEVE_FAILURE;
	}
	/* Phase 3: what may only happen once the message is safely handled. */
	for (size_t i = 0; i < r->count; i++) {
		struct sieve_action *act = r->actions[i];
		if (act->executed || !(act->def->flags & SV_AF_FINAL))
			continue;
		if (act->def->execute != NULL)
			(void)act->def->execute(act, p, diags);
		act->executed = true;
	}
	return SIEVE_OK;
}
