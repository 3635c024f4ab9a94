/* special-use.c: the special-use extension (RFC 8579): fileinto
 * :specialuse, which files into the mailbox carrying a special-use
 * attribute (RFC 6154) when there is one, and the specialuse_exists test.
 *
 * Special-use attributes come from the host (sieve_host's
 * mailbox_by_special_use; Dovecot's Maildir has none unless a namespace
 * assigns them, so a host without the hook has none): fileinto
 * :specialuse stores into the mailbox with the attribute when there is
 * one, else into the named mailbox (RFC 8579 section 4; resolved when the
 * store is executed, sieve/result.c), and specialuse_exists asks the
 * host.  The syntax checks and their wording follow Pigeonhole 0.5.19. */
#include "sieve/engine.h"
#include <string.h>
#include <strings.h>

bool sieve_mailbox_name_valid(const char *name, size_t len, const char **why_r);
bool sieve_special_use_flag_valid(const char *f, size_t n);

/* RFC 6154: "\" followed by an atom.  Also checks fcc's :specialuse. */
bool sieve_special_use_flag_valid(const char *f, size_t n)
{
	if (n == 0 || f[0] != '\\')
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)f[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

/* ---- :specialuse ---- */

static const struct sieve_tag_def tag_specialuse = {
	"specialuse", SV_TC_NONE, 0, SV_AT_STRING, "special-use flag" };

static const struct sieve_tag_link special_use_links[] = {
	{ "fileinto", &tag_specialuse }, { NULL, NULL }
};

static int special_use_tag_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_ctag *t = sieve_cmd_tag(c, "specialuse");
	if (t == NULL || t->val.nstrs == 0)
		return 0;
	const struct sieve_cstring *s = &t->val.strs[0];
	if (sieve_cstring_is_const(s) && !sieve_special_use_flag_valid(s->data, s->len)) {
		sieve_validator_error(v, s->loc, "specialuse tag: invalid special-use flag '%s' specified",
				      sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 64));
		return -1;
	}
	return 0;
}

/* A flag built at run time is checked when the store is added. */
static int special_use_store_hook(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				  struct sieve_action *act)
{
	if (act->special_use == NULL)
		return 0;
	if (!sieve_special_use_flag_valid(act->special_use, strlen(act->special_use))) {
		sieve_runtime_error(rt, a, "specialuse tag: invalid special-use flag '%s' specified",
				    sieve_str_sanitize(rt->arena, act->special_use, strlen(act->special_use), 64));
		return -1;
	}
	return 0;
}

/* ---- specialuse_exists [<mailbox: string>] <special-use-flags: string-list> ---- */

static int specialuse_exists_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_cval *flags = &c->pos[c->npos - 1];
	if (c->npos == 2) {
		const struct sieve_cval *box = &c->pos[0];
		if (box->type != SV_AT_STRING) {
			sieve_validator_error(v, box->loc,
				"if a second argument is specified for the specialuse_exists test, the first must be a string (mailbox), but string list was found");
			return -1;
		}
		const struct sieve_cstring *s = &box->strs[0];
		const char *why;
		if (sieve_cstring_is_const(s) && !sieve_mailbox_name_valid(s->data, s->len, &why))
			sieve_validator_warning(v, s->loc, "specialuse_exists test: invalid mailbox name '%s' specified: %s",
						sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 256), why);
	}
	int ret = 0;
	for (size_t i = 0; i < flags->nstrs; i++) {
		const struct sieve_cstring *s = &flags->strs[i];
		if (sieve_cstring_is_const(s) && !sieve_special_use_flag_valid(s->data, s->len)) {
			sieve_validator_error(v, s->loc, "specialuse_exists test: invalid special-use flag '%s' specified",
					      sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 64));
			ret = -1;
		}
	}
	return ret;
}

static int specialuse_exists_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	rt->test_result = false;
	if (a->npos == 2) {
		struct sieve_string box = sieve_opd_string(rt, &a->pos[0]);
		const char *why;
		if (!sieve_mailbox_name_valid(box.p, box.len, &why)) {
			sieve_runtime_warning(rt, a, "specialuse_exists test: invalid mailbox name '%s' specified: %s",
					      sieve_str_sanitize(rt->arena, box.p, box.len, 256), why);
			return SIEVE_OK;
		}
	}
	struct sieve_string *flags;
	size_t n = sieve_opd_strlist(rt, &a->pos[a->npos - 1], &flags);
	for (size_t i = 0; i < n; i++) {
		if (!sieve_special_use_flag_valid(flags[i].p, flags[i].len)) {
			sieve_runtime_error(rt, a, "specialuse_exists test: invalid special-use flag '%s' specified",
					    sieve_str_sanitize(rt->arena, flags[i].p, flags[i].len, 64));
			return SIEVE_FAILURE;
		}
	}
	/* RFC 8579 section 3: true when every attribute is assigned (to the
	   given mailbox, which must exist, or to any mailbox).  The host
	   names one mailbox per attribute. */
	const struct sieve_host *h = rt->params->host;
	if (h == NULL || h->mailbox_by_special_use == NULL)
		return SIEVE_OK;
	const char *box = NULL;
	if (a->npos == 2) {
		box = sieve_rt_strdup(rt, sieve_opd_string(rt, &a->pos[0]));
		if (h->mailbox_exists != NULL && h->mailbox_exists(h->ctx, box) <= 0)
			return SIEVE_OK;
	}
	for (size_t i = 0; i < n; i++) {
		const char *has = h->mailbox_by_special_use(h->ctx, sieve_rt_strdup(rt, flags[i]), rt->arena);
		if (has == NULL)
			return SIEVE_OK;
		if (box != NULL && strcmp(has, box) != 0 &&
		    !(strcasecmp(has, "INBOX") == 0 && strcasecmp(box, "INBOX") == 0))
			return SIEVE_OK;
	}
	rt->test_result = true;
	return SIEVE_OK;
}

static const struct sieve_pos_arg specialuse_exists_args[] = {
	{ "mailbox", SV_AT_STRING | SV_AT_STRLIST }, { "special-use flags", SV_AT_STRLIST } };
static const struct sieve_command_def tst_specialuse_exists = {
	"specialuse_exists", SV_CMD_TEST, SV_CF_OPT_LASTPOS, specialuse_exists_args, 2, NULL,
	specialuse_exists_validate, specialuse_exists_execute, NULL };

static const struct sieve_command_def *const special_use_commands[] = { &tst_specialuse_exists, NULL };

const struct sieve_extension_def sieve_ext_special_use = {
	.name = "special-use",
	.flags = SV_EF_TESTSUITE_ON,   /* off by default (as Pigeonhole), on in the testsuite */
	.commands = special_use_commands,
	.tag_links = special_use_links,
	.tag_validate = special_use_tag_validate,
	.store_hook = special_use_store_hook,
};
