/* metadata.c: the mboxmetadata and servermetadata extensions (RFC 5490
 * section 4): the tests metadata / metadataexists read IMAP METADATA
 * (RFC 5464) annotations of a mailbox, servermetadata /
 * servermetadataexists those of the server.  The values come from the host
 * (sieve_host.metadata_get); without one, no annotation exists.
 *
 * As in Pigeonhole, a malformed annotation name ("must begin with /private
 * or /shared", no "*", "%", "//", trailing "/" or control characters) or
 * an invalid mailbox name is only a warning, at compile time for literals
 * and at run time otherwise, and the test is then false. */
#include "sieve/engine.h"
#include <string.h>
#include <strings.h>

/* From fileinto.c: a mailbox name the store can accept. */
bool sieve_mailbox_name_valid(const char *name, size_t len, const char **why_r);

/* Dovecot's imap_metadata_verify_entry_name(), with the reason in lower
   case as Pigeonhole prints it (the testsuite uses it too). */
bool sieve_metadata_entry_valid(const char *name, size_t len, const char **why_r);
bool sieve_metadata_entry_valid(const char *name, size_t len, const char **why_r)
{
	if (len == 0 || name[0] != '/') {
		*why_r = "entry name must begin with '/'";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		switch (c) {
		case '/':
			if (i > 0 && name[i - 1] == '/') {
				*why_r = "entry name can't contain consecutive '/'";
				return false;
			}
			if (i + 1 == len) {
				*why_r = "entry name can't end with '/'";
				return false;
			}
			break;
		case '*':
			*why_r = "entry name can't contain '*'";
			return false;
		case '%':
			*why_r = "entry name can't contain '%'";
			return false;
		default:
			if (c <= 0x19) {
				*why_r = "entry name can't contain control chars";
				return false;
			}
			break;
		}
	}
	const char *slash = memchr(name + 1, '/', len - 1);
	size_t plen = slash != NULL ? (size_t)(slash - name) : len;
	if (!((plen == 8 && strncasecmp(name, "/private", 8) == 0) ||
	      (plen == 7 && strncasecmp(name, "/shared", 7) == 0))) {
		*why_r = "entry name must begin with /private or /shared";
		return false;
	}
	return true;
}

static bool md_is_server(const struct sieve_command_def *def)
{
	return strncmp(def->name, "server", 6) == 0;
}

/* ---- validation ---- */

static void md_check_mailbox(struct sieve_validator *v, struct sieve_cmd *c, const struct sieve_cstring *s)
{
	const char *why;
	if (sieve_cstring_is_const(s) && !sieve_mailbox_name_valid(s->data, s->len, &why))
		sieve_validator_warning(v, s->loc, "%s test: invalid mailbox name `%s' specified: %s",
					c->def->name, sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 256), why);
}

static void md_check_entry(struct sieve_validator *v, struct sieve_cmd *c, const struct sieve_cstring *s)
{
	const char *why;
	if (sieve_cstring_is_const(s) && !sieve_metadata_entry_valid(s->data, s->len, &why))
		sieve_validator_warning(v, s->loc, "%s test: specified annotation name `%s' is invalid: %s",
					c->def->name, sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 256), why);
}

static int metadata_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	unsigned i = 0;
	if (!md_is_server(c->def))
		md_check_mailbox(v, c, &c->pos[i++].strs[0]);
	md_check_entry(v, c, &c->pos[i].strs[0]);
	return 0;
}

static int metadataexists_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	unsigned i = 0;
	if (!md_is_server(c->def))
		md_check_mailbox(v, c, &c->pos[i++].strs[0]);
	for (size_t k = 0; k < c->pos[i].nstrs; k++)
		md_check_entry(v, c, &c->pos[i].strs[k]);
	return 0;
}

/* ---- run time ---- */

/* The mailbox argument, or NULL for the server tests; *ok_r false (after
   a warning) when the name is unusable. */
static const char *md_mailbox(struct sieve_runtime *rt, const struct sieve_exec_args *a, bool *ok_r)
{
	*ok_r = true;
	if (md_is_server(a->def))
		return NULL;
	struct sieve_string box = sieve_opd_string(rt, &a->pos[0]);
	const char *why;
	if (!sieve_mailbox_name_valid(box.p, box.len, &why)) {
		sieve_runtime_warning(rt, a, "metadata test: invalid mailbox name `%s' specified: %s",
				      sieve_str_sanitize(rt->arena, box.p, box.len, 256), why);
		*ok_r = false;
		return NULL;
	}
	return sieve_rt_strdup(rt, box);
}

/* 1 with *value_r, 0 when absent, -1 after a runtime error. */
static int md_lookup(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char *mailbox,
		     const char *entry, const char **value_r)
{
	const struct sieve_host *h = rt->params->host;
	*value_r = NULL;
	if (h == NULL || h->metadata_get == NULL)
		return 0;
	const char *err = "unknown error";
	int r = h->metadata_get(h->ctx, mailbox, entry, rt->arena, value_r, &err);
	if (r < 0) {
		sieve_runtime_error(rt, a, "%s test: failed to retrieve annotation `%s': %s",
				    a->def->name, sieve_str_sanitize(rt->arena, entry, strlen(entry), 256), err);
		return -1;
	}
	return r > 0 && *value_r != NULL ? 1 : 0;
}

static int metadata_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	bool server = md_is_server(a->def);
	unsigned i = server ? 0 : 1;
	bool ok;
	struct sieve_string entry = sieve_opd_string(rt, &a->pos[i]);
	const char *why;
	rt->test_result = false;
	if (!sieve_metadata_entry_valid(entry.p, entry.len, &why)) {
		sieve_runtime_warning(rt, a, "%s test: specified annotation name `%s' is invalid: %s",
				      a->def->name, sieve_str_sanitize(rt->arena, entry.p, entry.len, 256), why);
		return SIEVE_OK;
	}
	const char *mailbox = md_mailbox(rt, a, &ok);
	if (!ok)
		return SIEVE_OK;
	const char *value;
	int r = md_lookup(rt, a, mailbox, sieve_rt_strdup(rt, entry), &value);
	if (r < 0)
		return SIEVE_FAILURE;
	if (r == 0)
		return SIEVE_OK;
	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, &a->pos[i + 1]);
	sieve_match_value(&m, value, strlen(value));
	rt->test_result = sieve_match_end(&m) > 0;
	return SIEVE_OK;
}

static int metadataexists_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	bool server = md_is_server(a->def);
	bool ok;
	rt->test_result = false;
	const char *mailbox = md_mailbox(rt, a, &ok);
	if (!ok)
		return SIEVE_OK;
	struct sieve_string *names;
	size_t n = sieve_opd_strlist(rt, &a->pos[server ? 0 : 1], &names);
	for (size_t k = 0; k < n; k++) {
		const char *why;
		if (!sieve_metadata_entry_valid(names[k].p, names[k].len, &why)) {
			sieve_runtime_warning(rt, a, "%s test: specified annotation name `%s' is invalid: %s",
					      a->def->name, sieve_str_sanitize(rt->arena, names[k].p, names[k].len, 256),
					      why);
			return SIEVE_OK;
		}
		const char *value;
		int r = md_lookup(rt, a, mailbox, sieve_rt_strdup(rt, names[k]), &value);
		if (r < 0)
			return SIEVE_FAILURE;
		if (r == 0)
			return SIEVE_OK;
	}
	rt->test_result = true;
	return SIEVE_OK;
}

/* ---- definitions ---- */

static const struct sieve_pos_arg metadata_args[] = {
	{ "mailbox", SV_AT_STRING }, { "annotation-name", SV_AT_STRING }, { "key-list", SV_AT_STRLIST } };
static const struct sieve_pos_arg servermetadata_args[] = {
	{ "annotation-name", SV_AT_STRING }, { "key-list", SV_AT_STRLIST } };
static const struct sieve_pos_arg metadataexists_args[] = {
	{ "mailbox", SV_AT_STRING }, { "annotation-names", SV_AT_STRLIST } };
static const struct sieve_pos_arg servermetadataexists_args[] = {
	{ "annotation-names", SV_AT_STRLIST } };

static const struct sieve_command_def cmd_metadata = {
	"metadata", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, metadata_args, 3, NULL,
	metadata_validate, metadata_execute, NULL };
static const struct sieve_command_def cmd_metadataexists = {
	"metadataexists", SV_CMD_TEST, 0, metadataexists_args, 2, NULL,
	metadataexists_validate, metadataexists_execute, NULL };
static const struct sieve_command_def cmd_servermetadata = {
	"servermetadata", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, servermetadata_args, 2, NULL,
	metadata_validate, metadata_execute, NULL };
static const struct sieve_command_def cmd_servermetadataexists = {
	"servermetadataexists", SV_CMD_TEST, 0, servermetadataexists_args, 1, NULL,
	metadataexists_validate, metadataexists_execute, NULL };

static const struct sieve_command_def *const mboxmetadata_commands[] = {
	&cmd_metadata, &cmd_metadataexists, NULL };
static const struct sieve_command_def *const servermetadata_commands[] = {
	&cmd_servermetadata, &cmd_servermetadataexists, NULL };

/* Off by default, as in Pigeonhole; on in the testsuite. */
const struct sieve_extension_def sieve_ext_mboxmetadata = {
	.name = "mboxmetadata",
	.flags = SV_EF_TESTSUITE_ON,
	.commands = mboxmetadata_commands,
};

const struct sieve_extension_def sieve_ext_servermetadata = {
	.name = "servermetadata",
	.flags = SV_EF_TESTSUITE_ON,
	.commands = servermetadata_commands,
};
