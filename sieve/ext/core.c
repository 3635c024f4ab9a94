/* core.c: the base language of RFC 5228: require, if/elsif/else, stop,
 * keep, discard, redirect and the tests address, allof, anyof, exists,
 * false, true, header, not and size, with the core match types (:is
 * :contains :matches), the :comparator tag and the address parts (:all
 * :localpart :domain).  It is "@core": always loaded, never required. */
#include "sieve/engine.h"
#include <string.h>
#include <strings.h>

/* ---- tags shared through classes ---- */

static const struct sieve_tag_def tag_is = { "is", SV_TC_MATCH, SV_MATCH_IS, 0, NULL };
static const struct sieve_tag_def tag_contains = { "contains", SV_TC_MATCH, SV_MATCH_CONTAINS, 0, NULL };
static const struct sieve_tag_def tag_matches = { "matches", SV_TC_MATCH, SV_MATCH_MATCHES, 0, NULL };
static const struct sieve_tag_def tag_comparator = {
	"comparator", SV_TC_COMPARATOR, 0, SV_AT_STRING, "comparator name" };
static const struct sieve_tag_def tag_all = { "all", SV_TC_ADDRPART, SV_AP_ALL, 0, NULL };
static const struct sieve_tag_def tag_localpart = { "localpart", SV_TC_ADDRPART, SV_AP_LOCALPART, 0, NULL };
static const struct sieve_tag_def tag_domain = { "domain", SV_TC_ADDRPART, SV_AP_DOMAIN, 0, NULL };

static const struct sieve_tag_def *const core_class_tags[] = {
	&tag_is, &tag_contains, &tag_matches, &tag_comparator, &tag_all, &tag_localpart, &tag_domain, NULL
};

static const struct sieve_comparator_def cmp_octet = { "i;octet", MATCH_CMP_OCTET };
static const struct sieve_comparator_def cmp_casemap = { "i;ascii-casemap", MATCH_CMP_ASCII_CASEMAP };
static const struct sieve_comparator_def *const core_comparators[] = { &cmp_octet, &cmp_casemap, NULL };

/* ---- control ---- */

static const struct sieve_pos_arg require_args[] = { { "capabilities", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_require = {
	"require", SV_CMD_COMMAND, SV_CF_CONTROL, require_args, 1, NULL, NULL, NULL, NULL };

static const struct sieve_command_def cmd_if = {
	"if", SV_CMD_COMMAND, SV_CF_CONTROL | SV_CF_SUBTEST_ONE | SV_CF_BLOCK_REQUIRED, NULL, 0, NULL, NULL, NULL, NULL };
static const struct sieve_command_def cmd_elsif = {
	"elsif", SV_CMD_COMMAND, SV_CF_CONTROL | SV_CF_SUBTEST_ONE | SV_CF_BLOCK_REQUIRED, NULL, 0, NULL, NULL, NULL, NULL };
static const struct sieve_command_def cmd_else = {
	"else", SV_CMD_COMMAND, SV_CF_CONTROL | SV_CF_BLOCK_REQUIRED, NULL, 0, NULL, NULL, NULL, NULL };

static int stop_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	rt->stopped = true;
	return SIEVE_OK;
}
static const struct sieve_command_def cmd_stop = {
	"stop", SV_CMD_COMMAND, 0, NULL, 0, NULL, NULL, stop_execute, NULL };

/* ---- actions ---- */

/* Shared by keep and fileinto (and their extensions' tags): builds a
 * store action with the flags the imap4flags extension decides. */
int sieve_core_store(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char *mailbox,
		     bool keep, bool copy)
{
	struct sieve_action *act = sieve_action_new(rt, &sieve_act_store, a);
	act->mailbox = arena_strdup(rt->result->arena, mailbox);
	act->keep = keep;
	act->copy = copy;
	act->create = sieve_args_tag(a, "create") != NULL;
	const struct sieve_exec_tag *su = sieve_args_tag(a, "specialuse");
	if (su != NULL)
		act->special_use = arena_strdup(rt->result->arena, sieve_rt_strdup(rt, sieve_opd_string(rt, &su->val)));
	/* imap4flags: explicit :flags, else the internal flag variable. */
	for (size_t i = 0; i < rt->bin->nexts; i++) {
		const struct sieve_extension_def *e = sieve_extensions[rt->bin->exts[i]];
		if (e->store_hook != NULL && e->store_hook(rt, a, act) < 0)
			return SIEVE_FAILURE;
	}
	if (sieve_result_add(rt, a, act, !copy) < 0)
		return SIEVE_FAILURE;
	return SIEVE_OK;
}

static int keep_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	return sieve_core_store(rt, a, sieve_runtime_default_mailbox(rt), true, false);
}
static const struct sieve_command_def cmd_keep = {
	"keep", SV_CMD_COMMAND, 0, NULL, 0, NULL, NULL, keep_execute, NULL };

static int discard_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_action *act = sieve_action_new(rt, &sieve_act_discard, a);
	if (sieve_result_add(rt, a, act, true) < 0)
		return SIEVE_FAILURE;
	return SIEVE_OK;
}
static const struct sieve_command_def cmd_discard = {
	"discard", SV_CMD_COMMAND, 0, NULL, 0, NULL, NULL, discard_execute, NULL };

static int redirect_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	uint64_t max = sieve_config_uint(sieve_validator_config(v), "sieve_max_redirects", 4);
	if (max == 0) {
		sieve_validator_error(v, c->node->loc, "local policy prohibits the use of a redirect action");
		return -1;
	}
	const struct sieve_cstring *s = &c->pos[0].strs[0];
	/* redirect :list (extlists): the argument names a list, checked there. */
	if (sieve_cstring_is_const(s) && sieve_cmd_tag(c, "list") == NULL) {
		if (msg_normalize_address(sieve_validator_arena(v), s->data) == NULL) {
			sieve_validator_error(v, s->loc,
				"specified redirect address '%s' is invalid", s->data);
			return -1;
		}
	}
	return 0;
}

static int redirect_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	if (sieve_args_tag(a, "list") != NULL)
		return sieve_extlists_redirect(rt, a);
	struct sieve_string addr = sieve_opd_string(rt, &a->pos[0]);
	const char *norm = msg_normalize_address(rt->arena, sieve_rt_strdup(rt, addr));
	if (norm == NULL) {
		sieve_runtime_error(rt, a, "specified redirect address '%.*s' is invalid",
				    (int)(addr.len > 256 ? 256 : addr.len), addr.p);
		return SIEVE_FAILURE;
	}
	/* Sends the message as it was before replace/enclose (RFC 5703). */
	struct sieve_action *act = sieve_send_action_new(rt, &sieve_act_redirect, a);
	/* Domains are case-insensitive: keep them in lower case so that
	   duplicates are found and the output is stable. */
	char *addr_copy = arena_strdup(rt->result->arena, norm);
	char *at = strrchr(addr_copy, '@');
	for (char *d = at; d != NULL && *d != '\0'; d++)
		if (*d >= 'A' && *d <= 'Z')
			*d = (char)(*d + 32);
	act->address = addr_copy;
	act->copy = sieve_args_tag(a, "copy") != NULL;
	/* redirect-dsn, redirect-deliverby: their tags become send options. */
	for (size_t i = 0; i < rt->bin->nexts; i++) {
		const struct sieve_extension_def *e = sieve_extensions[rt->bin->exts[i]];
		if (e->redirect_hook != NULL && e->redirect_hook(rt, a, act) < 0)
			return SIEVE_FAILURE;
	}
	if (sieve_result_add(rt, a, act, !act->copy) < 0)
		return SIEVE_FAILURE;
	return SIEVE_OK;
}
static const struct sieve_pos_arg redirect_args[] = { { "address", SV_AT_STRING } };
static const struct sieve_command_def cmd_redirect = {
	"redirect", SV_CMD_COMMAND, 0, redirect_args, 1, NULL, redirect_validate, redirect_execute, NULL };

/* ---- tests ---- */

static const struct sieve_command_def cmd_true = {
	"true", SV_CMD_TEST, 0, NULL, 0, NULL, NULL, NULL, NULL };
static const struct sieve_command_def cmd_false = {
	"false", SV_CMD_TEST, 0, NULL, 0, NULL, NULL, NULL, NULL };
static const struct sieve_command_def cmd_not = {
	"not", SV_CMD_TEST, SV_CF_SUBTEST_ONE, NULL, 0, NULL, NULL, NULL, NULL };
static const struct sieve_command_def cmd_allof = {
	"allof", SV_CMD_TEST, SV_CF_SUBTEST_LIST, NULL, 0, NULL, NULL, NULL, NULL };
static const struct sieve_command_def cmd_anyof = {
	"anyof", SV_CMD_TEST, SV_CF_SUBTEST_LIST, NULL, 0, NULL, NULL, NULL, NULL };

static int exists_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string *names;
	size_t n = sieve_opd_strlist(rt, &a->pos[0], &names);
	rt->test_result = true;
	for (size_t i = 0; i < n; i++) {
		const char **vals;
		if (sieve_test_header_values(rt, a, sieve_rt_strdup(rt, names[i]), false, &vals) == 0) {
			rt->test_result = false;
			break;
		}
	}
	return SIEVE_OK;
}
static const struct sieve_pos_arg exists_args[] = { { "header names", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_exists = {
	"exists", SV_CMD_TEST, 0, exists_args, 1, NULL, NULL, exists_execute, NULL };

static int header_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, &a->pos[1]);
	/* The fields of all names (one with the index extension's :index). */
	const char **vals;
	size_t nv = sieve_test_header_fields(rt, a, &a->pos[0], true, &vals);
	for (size_t j = 0; j < nv; j++)
		if (sieve_match_value(&m, vals[j], strlen(vals[j])) > 0)
			break;
	rt->test_result = sieve_match_end(&m) > 0;
	return SIEVE_OK;
}
static const struct sieve_pos_arg header_args[] = {
	{ "header names", SV_AT_STRLIST }, { "key list", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_header = {
	"header", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, header_args, 2, NULL, NULL, header_execute, NULL };

/* Headers that contain addresses (RFC 5228 section 5.1 leaves the list to
 * the implementation; this is the set mail clients and Pigeonhole accept). */
static const char *const address_headers[] = {
	"from", "sender", "to", "cc", "bcc", "reply-to", "resent-from", "resent-sender",
	"resent-to", "resent-cc", "resent-bcc", "return-path", "delivered-to",
	"disposition-notification-to", "errors-to", "approved", "original-recipient",
	"x-original-to", "envelope-to", "x-envelope-to", "original-from", "mail-followup-to",
	"mail-reply-to", "auto-submitted-to", NULL
};

bool sieve_is_address_header(const char *name)
{
	for (const char *const *h = address_headers; *h; h++)
		if (strcasecmp(*h, name) == 0)
			return true;
	return false;
}

static int address_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_cval *hl = &c->pos[0];
	for (size_t i = 0; i < hl->nstrs; i++) {
		const struct sieve_cstring *s = &hl->strs[i];
		if (sieve_cstring_is_const(s) && !sieve_is_address_header(s->data)) {
			sieve_validator_error(v, s->loc,
				"specified header '%s' is not allowed for the address test", s->data);
			return -1;
		}
	}
	return 0;
}

/* Matches the addresses of one header value, with Pigeonhole's rules for
 * broken values (see msg_address_items()). */
int sieve_match_address_value(struct sieve_runtime *rt, struct sieve_match_ctx *m,
			      enum sieve_addrpart ap, const char *value)
{
	struct msg_address_item *items;
	size_t n = msg_address_items(rt->arena, value, &items);
	for (size_t k = 0; k < n; k++) {
		struct sieve_string part;
		if (ap == SV_AP_ALL) {
			part.p = items[k].all;
			part.len = strlen(part.p);
		} else {
			if (items[k].local == NULL)
				continue;
			struct msg_address addr = { .local = items[k].local, .domain = items[k].domain };
			if (ap == SV_AP_DOMAIN && items[k].domain == NULL)
				continue;
			if (!sieve_address_part(rt, ap, &addr, &part))
				continue;
		}
		if (sieve_match_value(m, part.p, part.len) > 0)
			return 1;
	}
	return 0;
}

static int address_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, &a->pos[1]);
	enum sieve_addrpart ap = sieve_args_addrpart(a);
	/* The fields of all names (one with the index extension's :index). */
	const char **vals;
	size_t nv = sieve_test_header_fields(rt, a, &a->pos[0], false, &vals);
	for (size_t j = 0; j < nv; j++)
		if (sieve_match_address_value(rt, &m, ap, vals[j]) > 0)
			break;
	rt->test_result = sieve_match_end(&m) > 0;
	return SIEVE_OK;
}
static const struct sieve_pos_arg address_args[] = {
	{ "header list", SV_AT_STRLIST }, { "key list", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_address = {
	"address", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR | SV_CF_ADDRPART, address_args, 2, NULL,
	address_validate, address_execute, NULL };

enum { SIZE_OVER = 1, SIZE_UNDER = 2 };
static const struct sieve_tag_def tag_over = { "over", SV_TC_NONE, 1, 0, NULL };
static const struct sieve_tag_def tag_under = { "under", SV_TC_NONE, 1, 0, NULL };
static const struct sieve_tag_def *const size_tags[] = { &tag_over, &tag_under, NULL };

static int size_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	if (c->ntags == 0) {
		sieve_validator_error(v, c->node->loc,
			"the size test requires either the :under or the :over tag to be specified");
		return -1;
	}
	return 0;
}

static int size_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	uint64_t limit = a->pos[0].number;
	uint64_t size = rt->msg->size;
	rt->test_result = sieve_args_tag(a, "over") != NULL ? size > limit : size < limit;
	return SIEVE_OK;
}
static const struct sieve_pos_arg size_args[] = { { "limit", SV_AT_NUMBER } };
static const struct sieve_command_def cmd_size = {
	"size", SV_CMD_TEST, 0, size_args, 1, size_tags, size_validate, size_execute, NULL };

static const struct sieve_command_def *const core_commands[] = {
	&cmd_require, &cmd_if, &cmd_elsif, &cmd_else, &cmd_stop, &cmd_keep, &cmd_discard, &cmd_redirect,
	&cmd_true, &cmd_false, &cmd_not, &cmd_allof, &cmd_anyof, &cmd_exists, &cmd_header,
	&cmd_address, &cmd_size, NULL
};

const struct sieve_extension_def sieve_ext_core = {
	.name = "@core",
	.flags = SV_EF_ALWAYS,
	.commands = core_commands,
	.class_tags = core_class_tags,
	.comparators = core_comparators,
};

/* The always-present comparators can still be named in require
 * (RFC 5228 section 2.7.3). */
const struct sieve_extension_def sieve_ext_comparator_octet = {
	.name = "comparator-i;octet",
	.flags = SV_EF_ALWAYS | SV_EF_HIDDEN,
};
const struct sieve_extension_def sieve_ext_comparator_ascii_casemap = {
	.name = "comparator-i;ascii-casemap",
	.flags = SV_EF_ALWAYS | SV_EF_HIDDEN,
};

static const struct sieve_comparator_def cmp_numeric = { "i;ascii-numeric", MATCH_CMP_ASCII_NUMERIC };
static const struct sieve_comparator_def *const numeric_comparators[] = { &cmp_numeric, NULL };
const struct sieve_extension_def sieve_ext_comparator_ascii_numeric = {
	.name = "comparator-i;ascii-numeric",
	.flags = SV_EF_DEFAULT_ON,
	.comparators = numeric_comparators,
};
