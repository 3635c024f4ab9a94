/* fileinto.c: the fileinto extension (RFC 5228 section 4.1).  Mailbox names
 * are UTF-8 (checked at compile time for literals, at run time otherwise);
 * the host decides how a name maps onto the store. */
#include "sieve/engine.h"
#include <string.h>

/* Shared with mailbox/special-use: a mailbox name the store can accept. */
bool sieve_mailbox_name_valid(const char *name, size_t len, const char **why_r);
bool sieve_mailbox_name_valid(const char *name, size_t len, const char **why_r)
{
	if (!sieve_utf8_valid(name, len)) {
		*why_r = "invalid utf-8";
		return false;
	}
	if (memchr(name, '\0', len) != NULL) {
		*why_r = "contains NUL";
		return false;
	}
	return true;
}

static int fileinto_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_cstring *s = &c->pos[0].strs[0];
	const char *why;
	if (sieve_cstring_is_const(s) && !sieve_mailbox_name_valid(s->data, s->len, &why)) {
		sieve_validator_error(v, s->loc, "fileinto command: invalid folder name `%s' specified: %s",
				      s->data, why);
		return -1;
	}
	return 0;
}

static int fileinto_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string box = sieve_opd_string(rt, &a->pos[0]);
	const char *why;
	if (!sieve_mailbox_name_valid(box.p, box.len, &why)) {
		sieve_runtime_error(rt, a, "fileinto command: invalid folder name `%.*s' specified: %s",
				    (int)(box.len > 256 ? 256 : box.len), box.p, why);
		return SIEVE_FAILURE;
	}
	bool copy = sieve_args_tag(a, "copy") != NULL;
	return sieve_core_store(rt, a, sieve_rt_strdup(rt, box), false, copy);
}

static const struct sieve_pos_arg fileinto_args[] = { { "folder", SV_AT_STRING } };
static const struct sieve_command_def cmd_fileinto = {
	"fileinto", SV_CMD_COMMAND, 0, fileinto_args, 1, NULL, fileinto_validate, fileinto_execute, NULL };

static const struct sieve_command_def *const fileinto_commands[] = { &cmd_fileinto, NULL };

const struct sieve_extension_def sieve_ext_fileinto = {
	.name = "fileinto",
	.flags = SV_EF_DEFAULT_ON,
	.commands = fileinto_commands,
};
