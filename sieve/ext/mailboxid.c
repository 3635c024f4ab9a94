/* mailboxid.c: the mailboxid extension (RFC 9042): "fileinto :mailboxid
 * <id>" files into the mailbox with that object id (RFC 8474) when one
 * exists, and otherwise into the named mailbox as if the tag were absent
 * (so :create and :specialuse still apply to the name); the test
 * "mailboxidexists <ids>" is true when every id names an existing mailbox.
 *
 * Mailbox ids come from the host (sieve_host.mailbox_by_id): the engine
 * has no store of its own.  Ids are 1 to 255 characters of letters,
 * digits, '-' and '_' (RFC 8474's objectid); a constant id that is not is
 * a compile error, a computed one simply names no mailbox.  Off unless the
 * settings enable it: only a host that knows mailbox ids makes it useful. */
#include "sieve/engine.h"
#include <string.h>

static bool objectid_valid(const char *s, size_t len)
{
	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* The mailbox named by id, or NULL. */
static const char *mailbox_of(struct sieve_runtime *rt, struct sieve_string id)
{
	const struct sieve_host *h = rt->params->host;
	if (!objectid_valid(id.p, id.len) || h == NULL || h->mailbox_by_id == NULL)
		return NULL;
	return h->mailbox_by_id(h->ctx, sieve_rt_strdup(rt, id), rt->result->arena);
}

/* ---- fileinto :mailboxid ---- */

static const struct sieve_tag_def tag_mailboxid = { "mailboxid", SV_TC_NONE, 0, SV_AT_STRING, "mailbox-id" };
/* RFC 9042 (its fcc section): :mailboxid also goes with :fcc (RFC 8580) on the
   commands that take it: the copy is filed into the mailbox with that id
   when there is one, else into the :fcc mailbox. */
static const struct sieve_tag_link mailboxid_links[] = {
	{ "fileinto", &tag_mailboxid }, { "vacation", &tag_mailboxid }, { "notify", &tag_mailboxid },
	{ NULL, NULL } };

static int mailboxid_tag_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_ctag *t = sieve_cmd_tag(c, "mailboxid");
	if (t == NULL)
		return 0;
	bool is_fileinto = strcmp(c->def->name, "fileinto") == 0;
	if (!is_fileinto && sieve_cmd_tag(c, "fcc") == NULL) {
		sieve_validator_error(v, t->loc, "the :mailboxid tag of the %s command requires the :fcc tag",
				      c->def->name);
		return -1;
	}
	/* RFC 9042 (its special-use section): :mailboxid and :specialuse both name a
	   mailbox by something other than its name; using both on one
	   command (fileinto, or :fcc) is an error. */
	const struct sieve_ctag *su = sieve_cmd_tag(c, "specialuse");
	if (su != NULL) {
		sieve_validator_error(v, su->loc, "%s: the :mailboxid and :specialuse tags cannot be used together",
				      c->def->name);
		return -1;
	}
	if (!sieve_cstring_is_const(&t->val.strs[0]))
		return 0;
	const struct sieve_cstring *s = &t->val.strs[0];
	if (!objectid_valid(s->data, s->len)) {
		sieve_validator_error(v, s->loc, "%s :mailboxid: invalid mailbox id '%s'", c->def->name,
				      sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 80));
		return -1;
	}
	return 0;
}

/* The mailbox an :fcc copy goes to for the command's :mailboxid: the one
   with that id, or NULL (no :mailboxid, or no such mailbox: the :fcc
   mailbox name applies).  Used by fcc.c. */
const char *sieve_mailboxid_fcc_target(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	const struct sieve_exec_tag *t = sieve_args_tag(a, "mailboxid");
	if (t == NULL || t->def != &tag_mailboxid)
		return NULL;
	return mailbox_of(rt, sieve_opd_string(rt, &t->val));
}

static int mailboxid_store_hook(struct sieve_runtime *rt, const struct sieve_exec_args *a, struct sieve_action *act)
{
	const struct sieve_exec_tag *t = sieve_args_tag(a, "mailboxid");
	if (t == NULL)
		return 0;
	const char *box = mailbox_of(rt, sieve_opd_string(rt, &t->val));
	if (box != NULL) {
		/* The mailbox the id names exists: it is the target, whatever
		   the name, :create or :specialuse say. */
		act->mailbox = box;
		act->create = false;
		act->special_use = NULL;
	}
	return 0;
}

/* ---- mailboxidexists ---- */

static int mailboxidexists_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string *ids;
	size_t n = sieve_opd_strlist(rt, &a->pos[0], &ids);
	rt->test_result = true;
	for (size_t i = 0; i < n && rt->test_result; i++)
		if (mailbox_of(rt, ids[i]) == NULL)
			rt->test_result = false;
	return SIEVE_OK;
}

static const struct sieve_pos_arg mailboxidexists_args[] = { { "mailbox-objectids", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_mailboxidexists = {
	"mailboxidexists", SV_CMD_TEST, 0, mailboxidexists_args, 1, NULL, NULL, mailboxidexists_execute, NULL };
static const struct sieve_command_def *const mailboxid_commands[] = { &cmd_mailboxidexists, NULL };

const struct sieve_extension_def sieve_ext_mailboxid = {
	.name = "mailboxid",
	.commands = mailboxid_commands,
	.tag_links = mailboxid_links,
	.tag_validate = mailboxid_tag_validate,
	.store_hook = mailboxid_store_hook,
};
