/* extensions.c: the registry of Sieve extensions.  Adding an extension is
 * one file under sieve/ext/ and one line in this table; the binary stores
 * extension and command names, never these indexes, so reordering the table
 * never invalidates a cached binary. */
#include "sieve/engine.h"
#include <string.h>
#include <strings.h>

extern const struct sieve_extension_def sieve_ext_core;
extern const struct sieve_extension_def sieve_ext_comparator_octet;
extern const struct sieve_extension_def sieve_ext_comparator_ascii_casemap;
extern const struct sieve_extension_def sieve_ext_comparator_ascii_numeric;
extern const struct sieve_extension_def sieve_ext_fileinto;
extern const struct sieve_extension_def sieve_ext_envelope;
extern const struct sieve_extension_def sieve_ext_variables;
extern const struct sieve_extension_def sieve_ext_relational;
extern const struct sieve_extension_def sieve_ext_encoded_character;
extern const struct sieve_extension_def sieve_ext_testsuite;
extern const struct sieve_extension_def sieve_ext_include;
extern const struct sieve_extension_def sieve_ext_comparator_unicode_casemap;
extern const struct sieve_extension_def sieve_ext_envelope_dsn, sieve_ext_envelope_deliverby,
	sieve_ext_redirect_dsn, sieve_ext_redirect_deliverby;
extern const struct sieve_extension_def sieve_ext_mailboxid, sieve_ext_extlists, sieve_ext_extlists_redirect;
extern const struct sieve_extension_def sieve_ext_fcc;
extern const struct sieve_extension_def sieve_ext_body, sieve_ext_mime, sieve_ext_foreverypart,
	sieve_ext_extracttext, sieve_ext_replace, sieve_ext_enclose;
extern const struct sieve_extension_def sieve_ext_editheader;
extern const struct sieve_extension_def sieve_ext_vnd_dovecot_report;
extern const struct sieve_extension_def sieve_ext_mboxmetadata, sieve_ext_servermetadata;
extern const struct sieve_extension_def sieve_ext_spamtest, sieve_ext_spamtestplus, sieve_ext_virustest;
extern const struct sieve_extension_def sieve_ext_vacation, sieve_ext_vacation_seconds,
	sieve_ext_duplicate, sieve_ext_vnd_duplicate, sieve_ext_enotify;
extern const struct sieve_extension_def sieve_ext_regex, sieve_ext_subaddress, sieve_ext_date, sieve_ext_index;
extern const struct sieve_extension_def sieve_ext_vnd_pipe, sieve_ext_vnd_filter, sieve_ext_vnd_execute;
extern const struct sieve_extension_def sieve_ext_imap4flags, sieve_ext_copy, sieve_ext_mailbox,
	sieve_ext_special_use, sieve_ext_reject, sieve_ext_ereject, sieve_ext_ihave, sieve_ext_environment,
	sieve_ext_vnd_dovecot_environment, sieve_ext_vnd_dovecot_debug;

const struct sieve_extension_def *const sieve_extensions[] = {
	&sieve_ext_core,
	&sieve_ext_comparator_octet,
	&sieve_ext_comparator_ascii_casemap,
	&sieve_ext_comparator_ascii_numeric,
	&sieve_ext_fileinto,
	&sieve_ext_envelope,
	&sieve_ext_encoded_character,
	&sieve_ext_variables,
	&sieve_ext_relational,
	&sieve_ext_testsuite,
	&sieve_ext_include,
	&sieve_ext_comparator_unicode_casemap,
	&sieve_ext_envelope_dsn, &sieve_ext_envelope_deliverby, &sieve_ext_redirect_dsn, &sieve_ext_redirect_deliverby,
	&sieve_ext_mailboxid, &sieve_ext_extlists, &sieve_ext_extlists_redirect, &sieve_ext_fcc,
	&sieve_ext_body, &sieve_ext_mime, &sieve_ext_foreverypart, &sieve_ext_extracttext,
	&sieve_ext_replace, &sieve_ext_enclose,
	&sieve_ext_editheader,
	&sieve_ext_vnd_dovecot_report,
	&sieve_ext_mboxmetadata, &sieve_ext_servermetadata,
	&sieve_ext_spamtest, &sieve_ext_spamtestplus, &sieve_ext_virustest,
	&sieve_ext_vacation, &sieve_ext_vacation_seconds, &sieve_ext_duplicate, &sieve_ext_vnd_duplicate,
	&sieve_ext_enotify,
	&sieve_ext_regex, &sieve_ext_subaddress, &sieve_ext_date, &sieve_ext_index,
	&sieve_ext_vnd_pipe, &sieve_ext_vnd_filter, &sieve_ext_vnd_execute,
	&sieve_ext_imap4flags, &sieve_ext_copy, &sieve_ext_mailbox, &sieve_ext_special_use,
	&sieve_ext_reject, &sieve_ext_ereject, &sieve_ext_ihave, &sieve_ext_environment,
	&sieve_ext_vnd_dovecot_environment, &sieve_ext_vnd_dovecot_debug,
	NULL
};

size_t sieve_extension_count(void)
{
	return sizeof(sieve_extensions) / sizeof(sieve_extensions[0]) - 1;
}

int sieve_extension_index(const char *name)
{
	for (size_t i = 0; sieve_extensions[i] != NULL; i++)
		if (strcmp(sieve_extensions[i]->name, name) == 0)
			return (int)i;
	return -1;
}

const struct sieve_extension_def *sieve_extension_by_index(int idx)
{
	if (idx < 0 || (size_t)idx >= sieve_extension_count())
		return NULL;
	return sieve_extensions[idx];
}

/* Looks for `name` in a space-separated extension list.  Returns 1 for a
 * plain or '+' entry, -1 for a '-' entry, 0 when absent; *relative_r tells
 * whether the list used +/- syntax at all. */
static int ext_list_lookup(const char *list, const char *name, bool *relative_r)
{
	int found = 0;
	size_t nlen = strlen(name);
	*relative_r = false;
	const char *p = list;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		const char *s = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		int sign = 1;
		if (*s == '+' || *s == '-') {
			*relative_r = true;
			sign = *s == '-' ? -1 : 1;
			s++;
		}
		if ((size_t)(p - s) == nlen && strncasecmp(s, name, nlen) == 0)
			found = sign;
	}
	return found;
}

static bool ext_in_setting(const struct sieve_config *cfg, const char *key,
			   const char *name, bool def)
{
	const char *list = sieve_config_get(cfg, key);
	if (list == NULL)
		return def;
	bool relative;
	int f = ext_list_lookup(list, name, &relative);
	if (f > 0)
		return true;
	if (f < 0)
		return false;
	return relative ? def : false;
}

bool sieve_extension_enabled(const struct sieve_config *cfg, int idx, bool admin, bool testsuite)
{
	const struct sieve_extension_def *e = sieve_extension_by_index(idx);
	if (e == NULL)
		return false;
	if (e->flags & SV_EF_ALWAYS)
		return true;
	if (e->flags & SV_EF_TESTSUITE)
		return testsuite;
	bool def = (e->flags & SV_EF_DEFAULT_ON) != 0 ||
		(testsuite && (e->flags & SV_EF_TESTSUITE_ON) != 0);
	bool on = ext_in_setting(cfg, "sieve_extensions", e->name, def);
	if (!on && admin)
		on = ext_in_setting(cfg, "sieve_global_extensions", e->name, false);
	return on;
}

bool sieve_extension_enabled_for(const struct sieve_config *cfg, int idx,
				 const struct sieve_compile_params *p)
{
	if (sieve_extension_enabled(cfg, idx, p->admin, p->testsuite))
		return true;
	/* sieve-test registers vnd.dovecot.debug itself, whatever
	   sieve_extensions says; `tamis test` does the same. */
	const struct sieve_extension_def *e = sieve_extension_by_index(idx);
	return p->cli_tool && e != NULL && (e->flags & SV_EF_TOOL_ON) != 0;
}

void sieve_capabilities(const struct sieve_config *cfg, struct strbuf *out)
{
	bool first = true;
	for (size_t i = 0; sieve_extensions[i] != NULL; i++) {
		const struct sieve_extension_def *e = sieve_extensions[i];
		if (e->flags & (SV_EF_ALWAYS | SV_EF_HIDDEN | SV_EF_TESTSUITE))
			continue;
		if (!sieve_extension_enabled(cfg, (int)i, false, false))
			continue;
		if (!first)
			strbuf_putc(out, ' ');
		strbuf_puts(out, e->name);
		first = false;
	}
}
