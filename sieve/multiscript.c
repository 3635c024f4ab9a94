/* multiscript.c: running a sequence of scripts on one message, as
 * Pigeonhole's sieve_multiscript_* do for sieve_before, the user script,
 * sieve_after and sieve_discard (research notes 3.9).
 *
 * The scripts share one result, so what a script leaves behind carries
 * over: imap4flags' internal flags, the message as edited by editheader.
 * After each script its new actions are executed (or, in test mode,
 * printed as sieve-test -s prints them) before the next script runs, and
 * the next one runs only while keep is in effect: the implicit keep was
 * not cancelled, or the script said "keep".  Within a sequence an explicit
 * keep is not a store but "continue": it becomes a marker action printed
 * " * keep", and the one store into the default mailbox happens at the
 * end, in sieve_multiscript_finish().  A failure (runtime error, failed
 * action) ends the sequence and the message is kept. */
#include "sieve/engine.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sieve_multiscript {
	struct sieve_run_params p;
	struct sieve_result *result;
	struct strbuf *test_out;    /* test mode: where results are printed */
	int status;
	bool active;                /* the next script may run */
	bool keep;                  /* keep in effect after the last script */
	bool keep_done;             /* the keep (or the failure keep) is done */
	bool discard_handled;
};

/* An explicit keep within a sequence: "continue" (printed as sieve-test
 * prints it, with the keep's own side effects). */
static void marker_print(const struct sieve_action *act, struct strbuf *out, bool *keep_r)
{
	/* The store's own printing, with its first line replaced: the side
	   effects (flags) then read exactly as for a store. */
	struct sieve_action tmp = *act;
	tmp.def = &sieve_act_store;
	struct strbuf b = STRBUF_INIT;
	bool k = false;
	sieve_act_store.print(&tmp, &b, &k);
	const char *rest = b.data != NULL ? memchr(b.data, '\n', b.len) : NULL;
	strbuf_puts(out, " * keep\n");
	if (rest != NULL)
		strbuf_append(out, rest + 1, b.len - (size_t)(rest + 1 - b.data));
	strbuf_free(&b);
}

static const struct sieve_action_def ms_keep_marker = {
	.name = "keep",
	.print = marker_print,
};

struct sieve_multiscript *sieve_multiscript_start(const struct sieve_run_params *p, struct strbuf *test_out)
{
	struct sieve_multiscript *ms = calloc(1, sizeof(*ms));
	if (ms == NULL)
		abort();
	ms->p = *p;
	ms->result = sieve_result_new();
	ms->test_out = test_out;
	ms->status = SIEVE_OK;
	ms->active = true;
	ms->keep = true;
	return ms;
}

struct sieve_result *sieve_multiscript_result(struct sieve_multiscript *ms)
{
	return ms->result;
}

int sieve_multiscript_status(const struct sieve_multiscript *ms)
{
	return ms->status;
}

/* Runs b on the shared result; returns the interpreter's status. */
static int ms_interpret(struct sieve_multiscript *ms, struct sieve_binary *b, struct diag_list *diags)
{
	struct sieve_result *r = ms->result;
	struct sieve_runtime *rt = sieve_runtime_create(b, &ms->p, r, diags, r->arena);
	/* The message as the previous scripts left it (editheader). */
	if (r->msg != NULL)
		rt->msg = r->msg;
	return sieve_interpret(rt);
}

/* Prints actions [first, count) and the implicit keep, as sieve-test's
 * multiscript mode does (the keep is a bare "keep"). */
static void ms_print(struct sieve_multiscript *ms, size_t first, bool implicit_keep, bool keep_is_store)
{
	struct sieve_result *r = ms->result;
	struct strbuf *out = ms->test_out;
	strbuf_puts(out, "\nPerformed actions:\n\n");
	if (first >= r->count)
		strbuf_puts(out, "  (none)\n");
	for (size_t i = first; i < r->count; i++) {
		bool k = false;
		r->actions[i]->def->print(r->actions[i], out, &k);
	}
	strbuf_puts(out, "\nImplicit keep:\n\n");
	if (implicit_keep) {
		struct sieve_action keep;
		memset(&keep, 0, sizeof(keep));
		keep.def = &sieve_act_store;
		keep.result = r;
		keep.keep = true;
		keep.mailbox = ms->p.default_mailbox != NULL ? ms->p.default_mailbox : "INBOX";
		keep.flags = r->keep_flags;
		keep.nflags = r->keep_nflags;
		keep.flags_set = true;
		bool k = false;
		(keep_is_store ? &sieve_act_store : &ms_keep_marker)->print(&keep, out, &k);
	} else {
		strbuf_puts(out, "  (none)\n");
	}
	strbuf_putc(out, '\n');
}

/* Executes the actions not executed yet, without the implicit keep.  A
 * failure performs the keep (sieve_result_execute does) and ends the
 * sequence. */
static void ms_execute(struct sieve_multiscript *ms, struct diag_list *diags)
{
	struct sieve_result *r = ms->result;
	bool cancelled = r->keep_cancelled, keep_done = false;
	r->keep_cancelled = true;
	int st = sieve_result_execute(r, &ms->p, diags, &keep_done);
	r->keep_cancelled = cancelled;
	if (st <= 0) {
		ms->status = st;
		ms->keep_done = true;
	}
}

bool sieve_multiscript_run(struct sieve_multiscript *ms, struct sieve_binary *b, struct diag_list *diags)
{
	if (!ms->active)
		return false;
	struct sieve_result *r = ms->result;
	size_t first = r->count;
	/* Whether keep is in effect is decided per script: by what it does. */
	r->keep_cancelled = false;
	int st = ms_interpret(ms, b, diags);
	ms->status = st;
	if (st <= 0) {
		/* Its actions are dropped: the message is kept (finish). */
		for (size_t i = first; i < r->count; i++)
			r->actions[i]->executed = true;
		ms->keep = true;
		ms->active = false;
		return false;
	}
	bool keep = !r->keep_cancelled;
	/* An explicit keep merged into an earlier script's store to the same
	   mailbox still means "continue". */
	for (size_t i = 0; i < first; i++) {
		struct sieve_action *act = r->actions[i];
		if (act->def == &sieve_act_store && act->keep) {
			act->keep = false;
			keep = true;
		}
	}
	for (size_t i = first; i < r->count; i++) {
		struct sieve_action *act = r->actions[i];
		if (act->def == &sieve_act_store && act->keep) {
			act->def = &ms_keep_marker;
			keep = true;
		}
	}
	if (ms->test_out != NULL) {
		ms_print(ms, first, !r->keep_cancelled, false);
		for (size_t i = first; i < r->count; i++)
			r->actions[i]->executed = true;
	} else {
		ms_execute(ms, diags);
	}
	ms->keep = keep;
	if (!keep || ms->status <= 0)
		ms->active = false;
	return ms->active;
}

static bool ms_delivered(const struct sieve_multiscript *ms)
{
	const struct sieve_result *r = ms->result;
	for (size_t i = 0; i < r->count; i++)
		if (r->actions[i]->executed && (r->actions[i]->def->flags & SV_AF_TRIES_DELIVER))
			return true;
	return false;
}

bool sieve_multiscript_will_discard(const struct sieve_multiscript *ms)
{
	return !ms->active && !ms->keep && !ms->discard_handled && ms->status == SIEVE_OK &&
		!ms_delivered(ms);
}

void sieve_multiscript_run_discard(struct sieve_multiscript *ms, struct sieve_binary *b, struct diag_list *diags)
{
	if (!sieve_multiscript_will_discard(ms))
		return;
	ms->discard_handled = true;
	struct sieve_result *r = ms->result;
	size_t first = r->count;
	/* The discard script's keep is a real store (Pigeonhole sets the keep
	   action back to "store" for it), and it is the last script. */
	r->keep_cancelled = false;
	int st = ms_interpret(ms, b, diags);
	ms->status = st;
	if (st <= 0) {
		for (size_t i = first; i < r->count; i++)
			r->actions[i]->executed = true;
		ms->keep = true;
		return;
	}
	if (ms->test_out != NULL) {
		ms_print(ms, first, !r->keep_cancelled, true);
		for (size_t i = first; i < r->count; i++)
			r->actions[i]->executed = true;
	} else {
		bool keep_done = false;
		int es = sieve_result_execute(r, &ms->p, diags, &keep_done);
		if (es <= 0)
			ms->status = es == SIEVE_FAILURE ? SIEVE_KEEP_FAILED : es;
	}
	ms->keep = false;
	ms->keep_done = true;
}

int sieve_multiscript_finish(struct sieve_multiscript **msp, struct diag_list *diags, int status,
			     bool *keep_done_r)
{
	struct sieve_multiscript *ms = *msp;
	bool keep_done = false;
	if (ms == NULL) {
		if (keep_done_r != NULL)
			*keep_done_r = false;
		return SIEVE_OK;
	}
	*msp = NULL;
	if (status == SIEVE_OK)
		status = ms->status;
	else if (ms->status == SIEVE_TEMP_FAILURE)
		status = ms->status;
	if (ms->test_out == NULL) {
		if (ms->keep_done) {
			keep_done = true;
		} else if (status == SIEVE_TEMP_FAILURE) {
			/* Nothing is kept: the caller defers the delivery and the
			   message comes back (Pigeonhole does the same). */
		} else if (status <= 0) {
			/* The keep that replaces a failed sequence stores the
			   message as it arrived (no flags, no edits). */
			struct sieve_result *fr = sieve_result_new();
			int es = sieve_result_execute(fr, &ms->p, diags, &keep_done);
			sieve_result_unref(&fr);
			if (es == SIEVE_KEEP_FAILED)
				status = SIEVE_KEEP_FAILED;
		} else if (ms->keep) {
			/* Every action is executed by now: this is the implicit
			   keep alone (skipped when a store already put the
			   message into the default mailbox). */
			struct sieve_result *r = ms->result;
			r->keep_cancelled = false;
			int es = sieve_result_execute(r, &ms->p, diags, &keep_done);
			if (es <= 0)
				status = es;
		}
	}
	sieve_result_unref(&ms->result);
	free(ms);
	if (keep_done_r != NULL)
		*keep_done_r = keep_done;
	return status;
}
