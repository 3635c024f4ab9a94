/* environment.c: the environment extension (RFC 5183): the environment
 * test over the standard items "domain", "host", "location", "phase",
 * "name" and "version", plus vnd.dovecot.environment's items when a script
 * requires that extension (vnd-dovecot-environment.c).
 *
 * "host" is the `hostname` setting, else the system's host name; "domain"
 * is what follows its first dot (the whole name when it has none), as
 * Pigeonhole derives it.  The host tells where the script runs
 * (sieve_run_params.env_location/env_phase: "MDA" and "during" by
 * default).  An unknown item has no value: every match fails. */
#include "sieve/engine.h"
#include "sieve/ext/outgoing.h"
#include <string.h>
#include <unistd.h>

/* The engine's version; keep in step with TAMIS_VERSION (cli/cli.h). */
#define ENVIRONMENT_VERSION "0.1.0"

const char *sieve_environment_item(struct sieve_runtime *rt, const char *name);
const char *sieve_vnd_environment_item(struct sieve_runtime *rt, const char *name);

static bool binary_has(struct sieve_runtime *rt, const char *ext)
{
	int idx = sieve_extension_index(ext);
	for (size_t i = 0; idx >= 0 && i < rt->bin->nexts; i++)
		if (rt->bin->exts[i] == idx)
			return true;
	return false;
}

/* The value of an environment item, or NULL when it has none.  Item names
 * are case-sensitive, as in Pigeonhole. */
const char *sieve_environment_item(struct sieve_runtime *rt, const char *name)
{
	if (strcmp(name, "host") == 0)
		return sieve_hostname(rt->cfg, rt->arena);
	if (strcmp(name, "domain") == 0) {
		const char *h = sieve_hostname(rt->cfg, rt->arena);
		const char *dot = strchr(h, '.');
		return dot != NULL && dot[1] != '\0' ? dot + 1 : h;
	}
	if (strcmp(name, "location") == 0)
		return rt->params->env_location != NULL ? rt->params->env_location : "MDA";
	if (strcmp(name, "phase") == 0)
		return rt->params->env_phase != NULL ? rt->params->env_phase : "during";
	if (strcmp(name, "name") == 0)
		return "Tamis";
	if (strcmp(name, "version") == 0)
		return ENVIRONMENT_VERSION;
	if (binary_has(rt, "vnd.dovecot.environment"))
		return sieve_vnd_environment_item(rt, name);
	return NULL;
}

static int environment_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, &a->pos[1]);
	struct sieve_string name = sieve_opd_string(rt, &a->pos[0]);
	const char *val = NULL;
	if (memchr(name.p, '\0', name.len) == NULL)
		val = sieve_environment_item(rt, sieve_rt_strdup(rt, name));
	/* An item without a value fails the test outright, even
	   :count "eq" "0" (Pigeonhole). */
	if (val == NULL) {
		rt->test_result = false;
		return SIEVE_OK;
	}
	if (sieve_match_value(&m, val, strlen(val)) < 0)
		return SIEVE_FAILURE;
	int r = sieve_match_end(&m);
	if (r < 0)
		return SIEVE_FAILURE;
	rt->test_result = r > 0;
	return SIEVE_OK;
}

static const struct sieve_pos_arg environment_args[] = {
	{ "name", SV_AT_STRING }, { "key list", SV_AT_STRLIST } };
static const struct sieve_command_def tst_environment = {
	"environment", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, environment_args, 2, NULL,
	NULL, environment_execute, NULL };

static const struct sieve_command_def *const environment_commands[] = { &tst_environment, NULL };

const struct sieve_extension_def sieve_ext_environment = {
	.name = "environment",
	.flags = SV_EF_DEFAULT_ON,
	.commands = environment_commands,
};
