/* fcc.c: the fcc extension (RFC 8580): ":fcc <mailbox>" on the commands
 * that send a message of their own (vacation, notify) files a copy of what
 * was sent into that mailbox, with ":create" (needs "mailbox") and
 * ":flags" (needs "imap4flags") applying to that copy.
 *
 * How it hooks in: sieve_result_add() asks sieve_fcc_from_args() for the
 * command's :fcc options and keeps them on the action (sieve_action.fcc);
 * an action that sent its message calls sieve_fcc_store() with the bytes it
 * sent (vacation and enotify do), which stores them through the host.  A
 * failed copy is logged and never fails the send or the delivery (RFC 8580
 * section 3: the message went out). */
#include "sieve/engine.h"
#include <string.h>
#include <strings.h>

bool sieve_mailbox_name_valid(const char *name, size_t len, const char **why_r);
const char *sieve_mailboxid_fcc_target(struct sieve_runtime *rt, const struct sieve_exec_args *a);

static const struct sieve_tag_def tag_fcc = { "fcc", SV_TC_NONE, 0, SV_AT_STRING, "mailbox" };
/* The fcc copy's :create and :flags (RFC 8580 section 3); other
   extensions' fileinto tags of the same names are theirs alone. */
static const struct sieve_tag_def tag_create = { "create", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_flags = { "flags", SV_TC_NONE, 0, SV_AT_STRLIST, "list-of-flags" };
static const struct sieve_tag_link fcc_links[] = {
	{ "vacation", &tag_fcc }, { "vacation", &tag_create }, { "vacation", &tag_flags },
	{ "notify", &tag_fcc }, { "notify", &tag_create }, { "notify", &tag_flags },
	{ NULL, NULL }
};

static int fcc_tag_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_ctag *fcc = sieve_cmd_tag(c, "fcc");
	const struct sieve_ctag *create = sieve_cmd_tag(c, "create");
	const struct sieve_ctag *flags = sieve_cmd_tag(c, "flags");
	if (fcc == NULL) {
		const struct sieve_ctag *t = create != NULL ? create : flags;
		if (t != NULL) {
			sieve_validator_error(v, t->loc, "the :%s tag of the %s command requires the :fcc tag",
					      t->def->name, c->def->name);
			return -1;
		}
		return 0;
	}
	if (create != NULL && !sieve_validator_ext_required(v, "mailbox")) {
		sieve_validator_error(v, create->loc,
			"the :create tag for :fcc requires the mailbox extension to be active");
		return -1;
	}
	if (flags != NULL && !sieve_validator_ext_required(v, "imap4flags")) {
		sieve_validator_error(v, flags->loc,
			"the :flags tag for :fcc requires the imap4flags extension to be active");
		return -1;
	}
	const struct sieve_cstring *s = &fcc->val.strs[0];
	const char *why;
	if (sieve_cstring_is_const(s) && !sieve_mailbox_name_valid(s->data, s->len, &why)) {
		sieve_validator_error(v, s->loc, "%s command: invalid :fcc mailbox name `%s' specified: %s",
				      c->def->name,
				      sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 256), why);
		return -1;
	}
	return 0;
}

struct sieve_fcc *sieve_fcc_from_args(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	if (a == NULL)
		return NULL;
	const struct sieve_exec_tag *t = sieve_args_tag(a, "fcc");
	if (t == NULL || t->def != &tag_fcc)
		return NULL;
	struct arena *ar = rt->result->arena;
	struct sieve_fcc *f = arena_alloc(ar, sizeof(*f));
	struct sieve_string box = sieve_opd_string(rt, &t->val);
	f->mailbox = arena_memdup(ar, box.p, box.len);
	const struct sieve_exec_tag *c = sieve_args_tag(a, "create");
	f->create = c != NULL && c->def == &tag_create;
	/* RFC 9042 (its fcc section): ":fcc ... :mailboxid <id>" files the copy
	   into the mailbox with that id when one exists (then :create has
	   nothing to do), else into the :fcc mailbox. */
	const char *by_id = sieve_mailboxid_fcc_target(rt, a);
	if (by_id != NULL) {
		f->mailbox = arena_strdup(ar, by_id);
		f->create = false;
	}
	const struct sieve_exec_tag *fl = sieve_args_tag(a, "flags");
	if (fl != NULL && fl->def == &tag_flags) {
		/* Each string may hold several space-separated flags (RFC 5232). */
		struct sieve_string *items;
		size_t n = sieve_opd_strlist(rt, &fl->val, &items);
		size_t cap = 0;
		for (size_t i = 0; i < n; i++) {
			const char *p = items[i].p, *end = p + items[i].len;
			while (p < end) {
				while (p < end && (*p == ' ' || *p == '\t'))
					p++;
				const char *q = p;
				while (q < end && *q != ' ' && *q != '\t')
					q++;
				if (q > p && f->nflags < 64) {
					if (f->nflags == cap) {
						size_t nc = cap ? cap * 2 : 4;
						f->flags = arena_grow(ar, f->flags, cap, nc, sizeof(char *));
						cap = nc;
					}
					f->flags[f->nflags++] = arena_memdup(ar, p, (size_t)(q - p));
				}
				p = q;
			}
		}
	}
	return f;
}

void sieve_fcc_store(const struct sieve_action *act, const struct sieve_run_params *p, const char *data,
		     size_t len, struct diag_list *d)
{
	const struct sieve_fcc *f = act->fcc;
	if (f == NULL)
		return;
	const char *why;
	if (!sieve_mailbox_name_valid(f->mailbox, strlen(f->mailbox), &why)) {
		diag_add(d, DIAG_WARNING, NULL, act->line, 0, "%s action: invalid :fcc mailbox name: %s",
			 act->def->name, why);
		return;
	}
	if (p->host == NULL || p->host->store == NULL)
		return;
	struct arena *a = arena_new(4096);
	char *copy = arena_memdup(a, data, len);
	struct message *m = msg_parse(a, copy, len);
	const char *err = "unknown error";
	if (p->host->store(p->host->ctx, f->mailbox, f->create, m, (const char *const *)f->flags, f->nflags,
			   &err) < 0)
		diag_add(d, DIAG_WARNING, NULL, act->line, 0, "%s action: failed to store a copy into :fcc mailbox '%s': %s",
			 act->def->name, f->mailbox, err);
	arena_unref(&a);
}

const struct sieve_extension_def sieve_ext_fcc = {
	.name = "fcc",
	.flags = SV_EF_DEFAULT_ON,
	.tag_links = fcc_links,
	.tag_validate = fcc_tag_validate,
};
