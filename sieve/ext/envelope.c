/* envelope.c: the envelope test (RFC 5228 section 5.4).  "from" and "to"
 * are the SMTP reverse and forward paths; Pigeonhole also offers "auth"
 * (the authenticated sender) and "orig_to" is not an envelope part. */
#include "sieve/validator.h"
#include <string.h>
#include <strings.h>

static bool envelope_part_known(const char *p)
{
	return strcasecmp(p, "from") == 0 || strcasecmp(p, "to") == 0 || strcasecmp(p, "auth") == 0;
}

/* A part that a required extension adds (envelope-dsn, envelope-deliverby):
 * at compile time from the script's required extensions, at run time from
 * those the running script's binary records. */
static const struct sieve_envelope_part *ext_part(const int *exts, size_t nexts, const bool *required,
						  const char *name)
{
	for (size_t i = 0; sieve_extensions[i] != NULL; i++) {
		const struct sieve_extension_def *e = sieve_extensions[i];
		if (e->envelope_parts == NULL)
			continue;
		bool on = required != NULL && required[i];
		for (size_t k = 0; exts != NULL && k < nexts && !on; k++)
			on = exts[k] == (int)i;
		if (!on)
			continue;
		for (const struct sieve_envelope_part *const *p = e->envelope_parts; *p != NULL; p++)
			if (strcasecmp((*p)->name, name) == 0)
				return *p;
	}
	return NULL;
}

static int envelope_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_cval *parts = &c->pos[0];
	for (size_t i = 0; i < parts->nstrs; i++) {
		const struct sieve_cstring *s = &parts->strs[i];
		if (sieve_cstring_is_const(s) && !envelope_part_known(s->data) &&
		    ext_part(NULL, 0, v->required, s->data) == NULL) {
			sieve_validator_error(v, s->loc,
				"specified envelope part '%s' is not supported by the envelope test", s->data);
			return -1;
		}
	}
	return 0;
}

static int envelope_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, &a->pos[1]);
	enum sieve_addrpart ap = sieve_args_addrpart(a);
	const struct sieve_envelope *env = rt->params->env;
	struct sieve_string *parts;
	size_t n = sieve_opd_strlist(rt, &a->pos[0], &parts);
	for (size_t i = 0; i < n && !m.matched; i++) {
		const char *name = sieve_rt_strdup(rt, parts[i]);
		const char *val = NULL;
		if (env != NULL) {
			if (strcasecmp(name, "from") == 0)
				val = env->from;
			else if (strcasecmp(name, "to") == 0)
				/* As Pigeonhole: envelope "to" is the original
				   recipient (ORCPT) when the MTA gave one; the final
				   recipient only otherwise. */
				val = env->orig_to != NULL ? env->orig_to : env->to;
			else if (strcasecmp(name, "auth") == 0)
				val = env->auth;
		}
		const struct sieve_envelope_part *xp = NULL;
		if (val == NULL && (xp = ext_part(rt->bin->exts, rt->bin->nexts, NULL, name)) != NULL) {
			const char **vals;
			size_t nv = xp->get(rt, a, &vals);
			for (size_t k = 0; k < nv && !m.matched; k++) {
				if (!xp->is_address) {
					sieve_match_value(&m, vals[k], strlen(vals[k]));
					continue;
				}
				struct msg_address xa;
				struct sieve_string xpart;
				if (msg_parse_path(rt->arena, vals[k], &xa) == 0 &&
				    sieve_address_part(rt, ap, &xa, &xpart))
					sieve_match_value(&m, xpart.p, xpart.len);
			}
			continue;
		}
		if (val == NULL)
			continue;
		struct msg_address addr;
		if (msg_parse_path(rt->arena, val, &addr) < 0)
			continue;
		/* The null reverse path "<>" is "" for every address part
		   (RFC 5228 section 5.4). */
		if (addr.local != NULL && addr.local[0] == '\0' && addr.domain == NULL) {
			sieve_match_value(&m, "", 0);
			continue;
		}
		struct sieve_string part;
		if (sieve_address_part(rt, ap, &addr, &part))
			sieve_match_value(&m, part.p, part.len);
	}
	rt->test_result = sieve_match_end(&m) > 0;
	return SIEVE_OK;
}

static const struct sieve_pos_arg envelope_args[] = {
	{ "envelope part", SV_AT_STRLIST }, { "key list", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_envelope = {
	"envelope", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR | SV_CF_ADDRPART, envelope_args, 2, NULL,
	envelope_validate, envelope_execute, NULL };

static const struct sieve_command_def *const envelope_commands[] = { &cmd_envelope, NULL };

const struct sieve_extension_def sieve_ext_envelope = {
	.name = "envelope",
	.flags = SV_EF_DEFAULT_ON,
	.commands = envelope_commands,
};
