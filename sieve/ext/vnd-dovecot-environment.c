/* vnd-dovecot-environment.c: Dovecot's vnd.dovecot.environment extension:
 * more environment items ("vnd.dovecot.default-mailbox",
 * "vnd.dovecot.username", and "vnd.dovecot.config.NAME" for the setting
 * sieve_env_NAME) and, with variables, the "env" namespace: ${env.NAME}
 * reads the environment item NAME ("_" standing for "-" when the name as
 * written has no value), and can never be assigned.  It implies the
 * environment extension. */
#include "sieve/engine.h"
#include <ctype.h>
#include <string.h>

const char *sieve_environment_item(struct sieve_runtime *rt, const char *name);
const char *sieve_vnd_environment_item(struct sieve_runtime *rt, const char *name);

#define CONFIG_PREFIX "vnd.dovecot.config"

const char *sieve_vnd_environment_item(struct sieve_runtime *rt, const char *name)
{
	if (strcmp(name, "vnd.dovecot.default-mailbox") == 0)
		return sieve_runtime_default_mailbox(rt);
	if (strcmp(name, "vnd.dovecot.username") == 0)
		return rt->params->username;
	/* "vnd.dovecot.config.NAME" is the setting sieve_env_NAME (same case,
	   as sieve-test 0.5.19 looks it up). */
	size_t pl = strlen(CONFIG_PREFIX);
	if (strncmp(name, CONFIG_PREFIX, pl) == 0 && name[pl] == '.' && name[pl + 1] != '\0')
		return sieve_config_get(rt->cfg, arena_printf(rt->arena, "sieve_env_%s", name + pl + 1));
	return NULL;
}

/* ---- the "env" variables namespace ---- */

static int env_ns_validate(struct sieve_validator *v, struct ast_loc loc, const char *name, size_t len,
			   bool assign, struct sieve_strpart *part)
{
	/* name is "env.a.b": every element after "env" must be an identifier. */
	const char *p = name + 4, *end = name + len;
	while (p < end) {
		const char *e = memchr(p, '.', (size_t)(end - p));
		if (e == NULL)
			e = end;
		if (e > p && isdigit((unsigned char)*p)) {
			sieve_validator_error(v, loc,
				"vnd.dovecot.environment: invalid variable name within env namespace `env.%.*s': "
				"encountered numeric variable name", (int)(e - p), p);
			return -1;
		}
		p = e + 1;
	}
	if (assign) {
		sieve_validator_error(v, loc,
			"vnd.dovecot.environment: cannot assign to environment variable `%.*s'", (int)len, name);
		return -1;
	}
	return 0;
}

static bool env_ns_get(struct sieve_runtime *rt, const char *name, size_t len, struct sieve_string *out)
{
	if (len < 4)
		return false;
	char *item = arena_strndup(rt->arena, name + 4, len - 4);
	const char *v = sieve_environment_item(rt, item);
	if (v == NULL && strchr(item, '_') != NULL) {
		for (char *p = item; *p; p++)
			if (*p == '_')
				*p = '-';
		v = sieve_environment_item(rt, item);
	}
	if (v == NULL)
		v = "";
	out->p = v;
	out->len = strlen(v);
	return true;
}

static const struct sieve_var_namespace env_namespace = { "env", env_ns_validate, env_ns_get };

static const char *const vnd_environment_implies[] = { "environment", NULL };

const struct sieve_extension_def sieve_ext_vnd_dovecot_environment = {
	.name = "vnd.dovecot.environment",
	.flags = SV_EF_TESTSUITE_ON,   /* off by default (as Pigeonhole), on in the testsuite */
	.implies = vnd_environment_implies,
	.var_namespace = &env_namespace,
};
