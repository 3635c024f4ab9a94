/* fcc.c: the fcc extension (RFC 8580): ":fcc <mailbox>" on the commands
 * that send a message of their own (vacation, notify) files a copy of what
 * was sent into that mailbox.  The fcc options apply to that copy, each
 * only when its own extension is required (RFC 8580 section 3): ":create"
 * (mailbox, RFC 5490), ":flags" (imap4flags, RFC 5232), ":specialuse"
 * (special-use, RFC 8579) and ":mailboxid" (mailboxid, RFC 9042; that tag
 * is registered by sieve/ext/mailboxid.c).
 *
 * Where the copy goes, first match wins (as Cyrus files it): the mailbox
 * with the :mailboxid id, the mailbox with the :specialuse attribute, the
 * :fcc mailbox (made first when :create is given).  :create only ever
 * makes the named mailbox (RFC 8579 section 4, RFC 9042 section 4.1).
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
bool sieve_special_use_flag_valid(const char *f, size_t n);
const char *sieve_mailboxid_fcc_target(struct sieve_runtime *rt, const struct sieve_exec_args *a);

static const struct sieve_tag_def tag_fcc = { "fcc", SV_TC_NONE, 0, SV_AT_STRING, "mailbox" };
/* The fcc copy's :create and :flags (RFC 8580 section 3); other
   extensions' fileinto tags of the same names are theirs alone. */
static const struct sieve_tag_def tag_create = { "create", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_flags = { "flags", SV_TC_NONE, 0, SV_AT_STRLIST, "list-of-flags" };
static const struct sieve_tag_def tag_specialuse = {
	"specialuse", SV_TC_NONE, 0, SV_AT_STRING, "special-use flag" };
static const struct sieve_tag_link fcc_links[] = {
	{ "vacation", &tag_fcc }, { "vacation", &tag_create }, { "vacation", &tag_flags },
	{ "vacation", &tag_specialuse },
	{ "notify", &tag_fcc }, { "notify", &tag_create }, { "notify", &tag_flags },
	{ "notify", &tag_specialuse },
	{ NULL, NULL }
};

/* The fcc option tags, each with the extension it needs. */
static const struct {
	const char *tag, *ext;
} fcc_options[] = { { "create", "mailbox" }, { "flags", "imap4flags" }, { "specialuse", "special-use" } };

static int fcc_tag_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_ctag *fcc = sieve_cmd_tag(c, "fcc");
	int ret = 0;
	for (size_t i = 0; i < sizeof(fcc_options) / sizeof(fcc_options[0]); i++) {
		const struct sieve_ctag *t = sieve_cmd_tag(c, fcc_options[i].tag);
		if (t == NULL)
			continue;
		if (fcc == NULL) {
			sieve_validator_error(v, t->loc, "the :%s tag of the %s command requires the :fcc tag",
					      t->def->name, c->def->name);
			return -1;
		}
		if (!sieve_validator_ext_required(v, fcc_options[i].ext)) {
			sieve_validator_error(v, t->loc, "the :%s tag for :fcc requires the %s extension to be active",
					      t->def->name, fcc_options[i].ext);
			ret = -1;
		}
	}
	if (fcc == NULL || ret < 0)
		return ret;
	const struct sieve_cstring *s = &fcc->val.strs[0];
	const char *why;
	if (sieve_cstring_is_const(s) && !sieve_mailbox_name_valid(s->data, s->len, &why)) {
		sieve_validator_error(v, s->loc, "%s command: invalid :fcc mailbox name `%s' specified: %s",
				      c->def->name,
				      sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 256), why);
		return -1;
	}
	const struct sieve_ctag *su = sieve_cmd_tag(c, "specialuse");
	if (su != NULL && sieve_cstring_is_const(&su->val.strs[0])) {
		const struct sieve_cstring *f = &su->val.strs[0];
		if (!sieve_special_use_flag_valid(f->data, f->len)) {
			sieve_validator_error(v, f->loc, "specialuse tag: invalid special-use flag '%s' specified",
					      sieve_str_sanitize(sieve_validator_arena(v), f->data, f->len, 64));
			return -1;
		}
	}
	return 0;
}

int sieve_fcc_from_args(struct sieve_runtime *rt, const struct sieve_exec_args *a,
			const struct sieve_fcc **fcc_r)
{
	*fcc_r = NULL;
	if (a == NULL)
		return 0;
	const struct sieve_exec_tag *t = sieve_args_tag(a, "fcc");
	if (t == NULL || t->def != &tag_fcc)
		return 0;
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
	/* RFC 8579 section 4 for the copy: the mailbox with this attribute
	   when there is one, looked up when the copy is stored.  A flag built
	   at run time is checked here, as fileinto :specialuse checks its. */
	const struct sieve_exec_tag *su = sieve_args_tag(a, "specialuse");
	if (su != NULL && su->def == &tag_specialuse && by_id == NULL) {
		struct sieve_string flag = sieve_opd_string(rt, &su->val);
		if (!sieve_special_use_flag_valid(flag.p, flag.len)) {
			sieve_runtime_error(rt, a, "specialuse tag: invalid special-use flag '%s' specified",
					    sieve_str_sanitize(rt->arena, flag.p, flag.len, 64));
			return -1;
		}
		f->special_use = arena_memdup(ar, flag.p, flag.len);
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
	*fcc_r = f;
	return 0;
}

void sieve_fcc_print(const struct sieve_action *act, struct strbuf *out, int label_width)
{
	const struct sieve_fcc *f = act->fcc;
	if (f == NULL)
		return;
	struct arena *tmp = arena_new(1024);
	strbuf_printf(out, "    => %-*s: %s\n", label_width, "fcc",
		      sieve_str_sanitize(tmp, f->mailbox, strlen(f->mailbox), 128));
	if (f->special_use != NULL)
		strbuf_printf(out, "        + use mailbox with special-use flag `%s' instead if accessible\n",
			      sieve_str_sanitize(tmp, f->special_use, strlen(f->special_use), 64));
	if (f->create)
		strbuf_puts(out, "        + create mailbox if it does not exist\n");
	if (f->nflags > 0) {
		strbuf_puts(out, "        + add IMAP flags:");
		for (size_t i = 0; i < f->nflags; i++)
			strbuf_printf(out, " %s", sieve_str_sanitize(tmp, f->flags[i], strlen(f->flags[i]), 64));
		strbuf_putc(out, '\n');
	}
	arena_unref(&tmp);
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
	const char *box = f->mailbox;
	bool create = f->create;
	if (f->special_use != NULL && p->host->mailbox_by_special_use != NULL) {
		const char *su = p->host->mailbox_by_special_use(p->host->ctx, f->special_use, a);
		if (su != NULL) {
			box = su;
			create = false;
		}
	}
	char *copy = arena_memdup(a, data, len);
	struct message *m = msg_parse(a, copy, len);
	const char *err = "unknown error";
	if (p->host->store(p->host->ctx, box, create, m, (const char *const *)f->flags, f->nflags, &err) < 0)
		diag_add(d, DIAG_WARNING, NULL, act->line, 0, "%s action: failed to store a copy into :fcc mailbox '%s': %s",
			 act->def->name, box, err);
	arena_unref(&a);
}

const struct sieve_extension_def sieve_ext_fcc = {
	.name = "fcc",
	.flags = SV_EF_DEFAULT_ON,
	.tag_links = fcc_links,
	.tag_validate = fcc_tag_validate,
};
