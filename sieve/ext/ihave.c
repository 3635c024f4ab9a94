/* ihave.c: the ihave extension (RFC 5463): the ihave test and the error
 * command.
 *
 * As in Pigeonhole, ihave is decided at compile time as far as it can be:
 * when a named capability is unknown (or not enabled), or is one that
 * changes how a script is read (variables, encoded-character, which RFC
 * 5463 section 4 excludes), the test is constant false and the block it
 * guards is neither validated nor generated, so it may use commands this
 * server does not have.  Otherwise the named extensions are loaded as if
 * required, for the rest of the script, and the test checks at run time
 * that they are still enabled. */
#include "sieve/validator.h"
#include <string.h>

static bool capability_known(struct sieve_validator *v, const char *name, int *idx_r)
{
	int idx = sieve_extension_index(name);
	const struct sieve_extension_def *e = sieve_extension_by_index(idx);
	*idx_r = idx;
	return idx >= 0 && e->name[0] != '@' &&
		sieve_extension_enabled_for(v->cfg, idx, v->params);
}

/* Loads an extension for the rest of the script, as require does. */
static int load_extension(struct sieve_validator *v, int idx, struct ast_node *node)
{
	if (v->required[idx])
		return 0;
	const struct sieve_extension_def *e = sieve_extensions[idx];
	v->required[idx] = true;
	if (e->implies != NULL) {
		for (const char *const *im = e->implies; *im; im++) {
			int j = sieve_extension_index(*im);
			if (j >= 0)
				v->required[j] = true;
		}
	}
	if (e->on_require != NULL && e->on_require(v, node) < 0)
		return -1;
	return 0;
}

static int ihave_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_cval *caps = &c->pos[0];
	/* First decide, then load: nothing is loaded when the test is false.
	   Capabilities are names, never expanded (RFC 5463 section 3). */
	for (size_t i = 0; i < caps->nstrs; i++) {
		const char *name = caps->strs[i].data;
		int idx;
		if (!capability_known(v, name, &idx) ||
		    strcmp(name, "variables") == 0 || strcmp(name, "encoded-character") == 0) {
			c->constant = -1;
			return 0;
		}
	}
	for (size_t i = 0; i < caps->nstrs; i++) {
		int idx;
		(void)capability_known(v, caps->strs[i].data, &idx);
		if (load_extension(v, idx, c->node) < 0)
			return -1;
	}
	return 0;
}

static int ihave_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string *caps;
	size_t n = sieve_opd_strlist(rt, &a->pos[0], &caps);
	rt->test_result = true;
	for (size_t i = 0; i < n && rt->test_result; i++) {
		/* Available = loaded into this binary when it was compiled. */
		int idx = sieve_extension_index(sieve_rt_strdup(rt, caps[i]));
		bool found = false;
		for (size_t j = 0; idx >= 0 && j < rt->bin->nexts && !found; j++)
			found = rt->bin->exts[j] == idx;
		if (!found)
			rt->test_result = false;
	}
	return SIEVE_OK;
}

/* error <message: string> (RFC 5463 section 5): fails the script, which
 * then ends with the implicit keep. */
static int error_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string msg = sieve_opd_string(rt, &a->pos[0]);
	sieve_runtime_error(rt, a, "%s", sieve_str_sanitize(rt->arena, msg.p, msg.len, 1024));
	return SIEVE_FAILURE;
}

static const struct sieve_pos_arg ihave_args[] = { { "capabilities", SV_AT_STRLIST } };
static const struct sieve_command_def tst_ihave = {
	"ihave", SV_CMD_TEST, 0, ihave_args, 1, NULL, ihave_validate, ihave_execute, NULL };

static const struct sieve_pos_arg error_args[] = { { "message", SV_AT_STRING } };
static const struct sieve_command_def cmd_error = {
	"error", SV_CMD_COMMAND, 0, error_args, 1, NULL, NULL, error_execute, NULL };

static const struct sieve_command_def *const ihave_commands[] = { &tst_ihave, &cmd_error, NULL };

const struct sieve_extension_def sieve_ext_ihave = {
	.name = "ihave",
	.flags = SV_EF_DEFAULT_ON,
	.commands = ihave_commands,
};
