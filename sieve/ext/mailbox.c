/* mailbox.c: the mailbox extension (RFC 5490 section 3): fileinto :create,
 * which makes the target mailbox when it is missing (the host does it when
 * it stores), and the mailboxexists test.
 *
 * mailboxexists asks the host.  A host without a mail store (`tamis test`
 * without -l) is an empty store: only INBOX exists.  A name that is not
 * valid UTF-8 cannot exist; at compile time it is a warning, as in
 * Pigeonhole. */
#include "sieve/engine.h"
#include <string.h>
#include <strings.h>

bool sieve_mailbox_name_valid(const char *name, size_t len, const char **why_r);

static const struct sieve_tag_def tag_create = { "create", SV_TC_NONE, 0, 0, NULL };

static const struct sieve_tag_link mailbox_links[] = {
	{ "fileinto", &tag_create }, { NULL, NULL }
};

static int mailboxexists_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_cval *names = &c->pos[0];
	for (size_t i = 0; i < names->nstrs; i++) {
		const struct sieve_cstring *s = &names->strs[i];
		const char *why;
		if (sieve_cstring_is_const(s) && !sieve_mailbox_name_valid(s->data, s->len, &why))
			sieve_validator_warning(v, s->loc, "mailboxexists test: invalid mailbox name `%s' specified: %s",
						sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 256), why);
	}
	return 0;
}

static int mailboxexists_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string *names;
	size_t n = sieve_opd_strlist(rt, &a->pos[0], &names);
	const struct sieve_host *h = rt->params->host;
	rt->test_result = true;
	for (size_t i = 0; i < n && rt->test_result; i++) {
		const char *why;
		if (!sieve_mailbox_name_valid(names[i].p, names[i].len, &why)) {
			rt->test_result = false;
			break;
		}
		const char *name = sieve_rt_strdup(rt, names[i]);
		int r;
		if (h != NULL && h->mailbox_exists != NULL)
			r = h->mailbox_exists(h->ctx, name);
		else
			r = strcasecmp(name, "INBOX") == 0;
		/* An error (-1) counts as missing: the RFC's test asks whether
		   a fileinto would succeed. */
		if (r <= 0)
			rt->test_result = false;
	}
	return SIEVE_OK;
}

static const struct sieve_pos_arg mailboxexists_args[] = { { "mailbox-names", SV_AT_STRLIST } };
static const struct sieve_command_def tst_mailboxexists = {
	"mailboxexists", SV_CMD_TEST, 0, mailboxexists_args, 1, NULL,
	mailboxexists_validate, mailboxexists_execute, NULL };

static const struct sieve_command_def *const mailbox_commands[] = { &tst_mailboxexists, NULL };

const struct sieve_extension_def sieve_ext_mailbox = {
	.name = "mailbox",
	.flags = SV_EF_DEFAULT_ON,
	.commands = mailbox_commands,
	.tag_links = mailbox_links,
};
