/* variables.c: the variables extension (RFC 5229): "set" with its
 * modifiers (and enotify's :encodeurl, kept here so all modifier code is
 * in one place), the "string" test, and the syntax of "${name}",
 * "${N}" and "${ns.name}" references, which the validator's string
 * splitting hands to sieve_variables_parse_ref().  Variable names become
 * slot numbers at compile time; the interpreter expands the parts.
 *
 * Behaviour and wording follow Pigeonhole 0.5.19: names are at most 64
 * characters and 10 dot-separated elements, match values go up to ${32},
 * a full scope is reported once, values are cut (UTF-8 safe) at
 * sieve_variables_max_variable_size, and "string" compares with i;octet
 * unless told otherwise. */
#include "sieve/validator.h"
#include "lib/utf8.h"
#include <string.h>
#include <strings.h>

#define VAR_MAX_NAME_LEN      64
#define VAR_MAX_ELEMENTS      10
#define VAR_MAX_MATCH_INDEX   32
#define VAR_SCOPE_DEFAULT     255
#define VAR_SCOPE_REQUIRED    128    /* RFC 5229 section 6 minimum */
#define VAR_SIZE_REQUIRED     4000   /* idem */
/* set's name operand is a slot number; this bit marks a global slot
   (a namespace such as include's "global" resolved it). */
#define VAR_GLOBAL_BIT        (UINT64_C(1) << 32)

/* ------------------------------------------------------------------ */
/* Limits                                                              */

/* Settings below what RFC 5229 requires are ignored, as Pigeonhole does. */
static size_t var_max_size(const struct sieve_config *cfg)
{
	uint64_t v = sieve_config_uint(cfg, "sieve_variables_max_variable_size",
				       SIEVE_MAX_VARIABLE_SIZE_DEFAULT);
	if (v < VAR_SIZE_REQUIRED)
		v = SIEVE_MAX_VARIABLE_SIZE_DEFAULT;
	/* A value must fit the run's memory comfortably: cap absurd settings. */
	if (v > 64u * 1024 * 1024)
		v = 64u * 1024 * 1024;
	return (size_t)v;
}

static size_t var_max_scope(const struct sieve_config *cfg)
{
	uint64_t v = sieve_config_uint(cfg, "sieve_variables_max_scope_size", VAR_SCOPE_DEFAULT);
	if (v < VAR_SCOPE_REQUIRED)
		v = VAR_SCOPE_DEFAULT;
	if (v > 65536)
		v = 65536;
	return (size_t)v;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

static bool is_alpha_(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct var_elem {
	const char *p;
	size_t len;
	long num;          /* >= 0: a number element ("1"), else an identifier */
};

/* Parses a variable name: identifiers and numbers separated by '.'.  A
 * number as the first element ends the name (no namespace has a numeric
 * name).  Returns the element count (0 for an empty string) with *end_r
 * where parsing stopped, or -1 when this cannot be a name. */
static int varname_parse(const char *p, const char *end, struct var_elem *el, const char **end_r)
{
	int n = 0;
	*end_r = p;
	while (p < end) {
		if (n >= VAR_MAX_ELEMENTS)
			return -1;
		struct var_elem *e = &el[n++];
		e->p = p;
		if (is_alpha_(*p)) {
			e->num = -1;
			p++;
			while (p < end && (is_alpha_(*p) || is_digit(*p))) {
				if ((size_t)(p - e->p) >= VAR_MAX_NAME_LEN)
					return -1;
				p++;
			}
			e->len = (size_t)(p - e->p);
		} else if (is_digit(*p)) {
			long v = 0;
			while (p < end && is_digit(*p)) {
				if (v < 1000000)
					v = v * 10 + (*p - '0');
				p++;
			}
			e->num = v;
			e->len = (size_t)(p - e->p);
			if (n == 1) {
				*end_r = p;
				return 1;
			}
		} else {
			*end_r = p;
			return -1;
		}
		if (p < end && *p == '.') {
			p++;
			if (p >= end)
				return -1;
		} else {
			break;
		}
	}
	*end_r = p;
	return n;
}

/* Declares a variable of the script's scope.  A full scope is reported
 * once; later declarations fail silently (Pigeonhole's error variable). */
static int var_declare(struct sieve_validator *v, struct ast_loc loc, const char *name, size_t len)
{
	int slot = sieve_validator_var_declare(v, name, len);
	if (slot >= 0)
		return slot;
	if (!v->var_limit_reported) {
		v->var_limit_reported = true;
		sieve_validator_error(v, loc,
			"(implicit) declaration of new variable '%.*s' exceeds the limit (max variables: %zu)",
			(int)len, name, v->max_vars);
	}
	return -1;
}

static const struct sieve_var_namespace *find_namespace(struct sieve_validator *v, const char *name, size_t len)
{
	for (size_t i = 0; sieve_extensions[i] != NULL; i++) {
		const struct sieve_extension_def *e = sieve_extensions[i];
		if (e->var_namespace == NULL || (!v->required[i] && !(e->flags & SV_EF_ALWAYS)))
			continue;
		const char *ns = e->var_namespace->name;
		if (strlen(ns) == len && strncasecmp(ns, name, len) == 0)
			return e->var_namespace;
	}
	return NULL;
}

/* A plain name that a required extension imported into the script's scope
 * (include's "global" command): 1 with part resolved, else 0. */
static int var_imported(struct sieve_validator *v, const char *name, size_t len, struct sieve_strpart *part)
{
	for (size_t i = 0; sieve_extensions[i] != NULL; i++) {
		const struct sieve_extension_def *e = sieve_extensions[i];
		if (e->var_import != NULL && v->required[i] && e->var_import(v, name, len, part) > 0)
			return 1;
	}
	return 0;
}

int sieve_variables_parse_ref(struct sieve_validator *v, const struct sieve_cstring *cs,
			      const char *p, const char *end, struct sieve_strpart *part,
			      const char **next_r)
{
	struct var_elem el[VAR_MAX_ELEMENTS];
	const char *q;
	int n = varname_parse(p, end, el, &q);
	if (n <= 0 || q >= end || *q != '}')
		return 0;
	*next_r = q + 1;
	memset(part, 0, sizeof(*part));
	part->data = p;
	part->len = (size_t)(q - p);
	if (n == 1 && el[0].num >= 0) {
		if (el[0].num > VAR_MAX_MATCH_INDEX) {
			sieve_validator_error(v, cs->loc, "match value index %ld out of range (max: %d)",
					      el[0].num, VAR_MAX_MATCH_INDEX);
			return -1;
		}
		part->kind = SV_SP_MATCHVAR;
		part->index = (unsigned)el[0].num;
		return 1;
	}
	if (n == 1) {
		if (var_imported(v, el[0].p, el[0].len, part))
			return 1;
		int slot = var_declare(v, cs->loc, el[0].p, el[0].len);
		if (slot < 0)
			return -1;
		part->kind = SV_SP_VARIABLE;
		part->index = (unsigned)slot;
		return 1;
	}
	const struct sieve_var_namespace *ns = find_namespace(v, el[0].p, el[0].len);
	if (ns == NULL) {
		sieve_validator_error(v, cs->loc, "referring to variable in unknown namespace '%.*s'",
				      (int)el[0].len, el[0].p);
		return -1;
	}
	part->kind = SV_SP_NAMESPACE;
	if (ns->validate != NULL && ns->validate(v, cs->loc, p, part->len, false, part) < 0)
		return -1;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Modifiers                                                           */

/* The tag id is the modifier's RFC 5229 precedence; the tags are class
 * NONE with id 0 for the generic duplicate check, so set_validate can
 * report conflicts in Pigeonhole's words. */
struct var_modifier {
	const char *name;
	int precedence;
};
static const struct var_modifier modifiers[] = {
	{ "lower", 40 }, { "upper", 40 }, { "lowerfirst", 30 }, { "upperfirst", 30 },
	{ "quotewildcard", 20 }, { "quoteregex", 20 }, { "encodeurl", 15 }, { "length", 10 },
};

static int modifier_precedence(const char *name)
{
	for (size_t i = 0; i < sizeof(modifiers) / sizeof(modifiers[0]); i++)
		if (strcmp(modifiers[i].name, name) == 0)
			return modifiers[i].precedence;
	return -1;
}

static const struct sieve_tag_def tag_lower = { "lower", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_upper = { "upper", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_lowerfirst = { "lowerfirst", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_upperfirst = { "upperfirst", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_quotewildcard = { "quotewildcard", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_encodeurl = { "encodeurl", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_quoteregex = { "quoteregex", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_length = { "length", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def *const set_tags[] = {
	&tag_lower, &tag_upper, &tag_lowerfirst, &tag_upperfirst, &tag_quotewildcard, &tag_length, NULL
};

static char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }
static char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 32) : c; }

/* "\\" before every character of `specials`, never past max bytes and
 * never splitting an escape or a UTF-8 character.  :quotewildcard escapes
 * the :matches wildcards and the backslash (RFC 5229);
 * :quoteregex (draft-ietf-sieve-regex-01 section 4) what is special in a
 * POSIX extended regular expression (IEEE 1003.1 section 9.4.3), so that
 * the value matches only itself in a :regex key.  ']' and '}' are literal
 * outside a bracket or interval and a backslash before them is undefined
 * in POSIX, so they stay as they are. */
#define QUOTE_WILDCARD "*?\\"
#define QUOTE_REGEX    ".[\\()*+?{|^$"
static void mod_quote(struct strbuf *out, const char *s, size_t len, size_t max, const char *specials)
{
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_char_bytes((unsigned char)s[i]);
		if (i + n > len)
			n = len - i;
		bool esc = n == 1 && s[i] != '\0' && strchr(specials, s[i]) != NULL;
		if (out->len + n + (esc ? 1 : 0) > max)
			break;
		if (esc)
			strbuf_putc(out, '\\');
		strbuf_append(out, s + i, n);
		i += n;
	}
}

/* RFC 5435 section 6: percent-encodes all but the URI unreserved
 * characters; a UTF-8 character is encoded whole or not at all. */
static void mod_encodeurl(struct strbuf *out, const char *s, size_t len, size_t max)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n = utf8_char_bytes(c);
		if (i + n > len)
			n = len - i;
		bool plain = n == 1 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~');
		if (plain) {
			if (out->len + 1 > max)
				break;
			strbuf_putc(out, (char)c);
		} else {
			if (out->len + 3 * n > max)
				break;
			for (size_t k = 0; k < n; k++)
				strbuf_printf(out, "%%%02X", (unsigned char)s[i + k]);
		}
		i += n;
	}
}

int sieve_variables_modify(struct sieve_runtime *rt, const struct sieve_exec_args *a, struct sieve_string *val);
/* Applies set's modifiers to *val (highest precedence first), keeping the
 * value within the variable size limit before and after each. */
int sieve_variables_modify(struct sieve_runtime *rt, const struct sieve_exec_args *a, struct sieve_string *val)
{
	size_t max = var_max_size(rt->cfg);
	val->len = utf8_truncate(val->p, val->len, max, UTF8_TRUNC_DOVECOT);
	static const int order[] = { 40, 30, 20, 15, 10 };
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (unsigned i = 0; i < a->ntags; i++) {
			const char *name = a->tags[i].def->name;
			if (a->tags[i].def->cls != SV_TC_NONE || modifier_precedence(name) != order[k])
				continue;
			if (strcmp(name, "length") == 0) {
				val->p = arena_printf(rt->arena, "%zu", utf8_strlen(val->p, val->len));
				val->len = strlen(val->p);
			} else if (strcmp(name, "quotewildcard") == 0 || strcmp(name, "quoteregex") == 0 ||
				   strcmp(name, "encodeurl") == 0) {
				struct strbuf b = STRBUF_INIT;
				if (strcmp(name, "quotewildcard") == 0)
					mod_quote(&b, val->p, val->len, max, QUOTE_WILDCARD);
				else if (strcmp(name, "quoteregex") == 0)
					mod_quote(&b, val->p, val->len, max, QUOTE_REGEX);
				else
					mod_encodeurl(&b, val->p, val->len, max);
				val->p = arena_memdup(rt->arena, b.data ? b.data : "", b.len);
				val->len = b.len;
				strbuf_free(&b);
			} else if (val->len > 0) {
				char *buf = arena_memdup(rt->arena, val->p, val->len);
				bool lower = name[0] == 'l';
				size_t n = strstr(name, "first") != NULL ? 1 : val->len;
				for (size_t j = 0; j < n; j++)
					buf[j] = lower ? ascii_lower(buf[j]) : ascii_upper(buf[j]);
				val->p = buf;
			}
			val->len = utf8_truncate(val->p, val->len, max, UTF8_TRUNC_DOVECOT);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* set                                                                 */

static int set_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	/* Modifiers of equal precedence conflict (RFC 5229 section 4). */
	const struct sieve_ctag *seen[SIEVE_MAX_TAGS];
	unsigned nseen = 0;
	for (unsigned i = 0; i < c->ntags; i++) {
		int prec = modifier_precedence(c->tags[i].def->name);
		if (prec < 0)
			continue;
		for (unsigned j = 0; j < nseen; j++) {
			if (modifier_precedence(seen[j]->def->name) == prec) {
				sieve_validator_error(v, c->tags[i].loc,
					"modifiers :%s and :%s specified for the set command conflict having equal precedence",
					seen[j]->def->name, c->tags[i].def->name);
				return -1;
			}
		}
		seen[nseen++] = &c->tags[i];
	}

	const struct sieve_cstring *name = &c->pos[0].strs[0];
	const char *end = name->data + name->len, *q;
	struct var_elem el[VAR_MAX_ELEMENTS];
	int n = varname_parse(name->data, end, el, &q);
	if (n <= 0 || q != end) {
		sieve_validator_error(v, name->loc, "invalid variable name '%s'",
				      sieve_str_sanitize(v->arena, name->data, name->len, 80));
		return -1;
	}
	struct sieve_cval *cv = &c->pos[0];
	if (n == 1 && el[0].num >= 0) {
		sieve_validator_error(v, name->loc, "cannot assign to match variable");
		return -1;
	}
	if (n == 1) {
		struct sieve_strpart imp;
		memset(&imp, 0, sizeof(imp));
		if (var_imported(v, el[0].p, el[0].len, &imp)) {
			cv->type = SV_AT_NUMBER;
			cv->number = (uint64_t)imp.index | VAR_GLOBAL_BIT;
			return 0;
		}
		int slot = var_declare(v, name->loc, el[0].p, el[0].len);
		if (slot < 0)
			return -1;
		/* The name becomes its slot number in the bytecode. */
		cv->type = SV_AT_NUMBER;
		cv->number = (uint64_t)slot;
		return 0;
	}
	const struct sieve_var_namespace *ns = find_namespace(v, el[0].p, el[0].len);
	if (ns == NULL) {
		sieve_validator_error(v, name->loc, "referring to variable in unknown namespace '%.*s'",
				      (int)el[0].len, el[0].p);
		return -1;
	}
	struct sieve_strpart part;
	memset(&part, 0, sizeof(part));
	part.kind = SV_SP_NAMESPACE;
	part.data = name->data;
	part.len = name->len;
	if (ns->validate != NULL && ns->validate(v, name->loc, name->data, name->len, true, &part) < 0)
		return -1;
	if (part.kind != SV_SP_GLOBAL) {
		sieve_validator_error(v, name->loc, "cannot assign to variable in namespace '%s'", ns->name);
		return -1;
	}
	cv->type = SV_AT_NUMBER;
	cv->number = (uint64_t)part.index | VAR_GLOBAL_BIT;
	return 0;
}

static int set_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string val = sieve_opd_string(rt, &a->pos[1]);
	/* The limit may change between runs (and in the testsuite, within
	   one): the interpreter's copy follows the current setting. */
	rt->max_var_size = var_max_size(rt->cfg);
	sieve_variables_modify(rt, a, &val);
	uint64_t slot = a->pos[0].number;
	bool global = (slot & VAR_GLOBAL_BIT) != 0;
	sieve_runtime_var_set(rt, global, (unsigned)(slot & 0xffffffffu), val.p, val.len);
	return SIEVE_OK;
}

static const struct sieve_pos_arg set_args[] = { { "name", SV_AT_STRING }, { "value", SV_AT_STRING } };
static const struct sieve_command_def cmd_set = {
	"set", SV_CMD_COMMAND, SV_CF_POS1_NAME, set_args, 2, set_tags, set_validate, set_execute, NULL };

/* ------------------------------------------------------------------ */
/* string                                                              */

static int string_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, &a->pos[1]);
	/* Pigeonhole compares with i;octet unless a comparator is given
	   (RFC 5229 would have i;ascii-casemap; sieve-test is the oracle). */
	if (sieve_args_tag_class(a, SV_TC_COMPARATOR) == NULL)
		m.cmp = MATCH_CMP_OCTET;
	struct sieve_string *src;
	size_t n = sieve_opd_strlist(rt, &a->pos[0], &src);
	for (size_t i = 0; i < n; i++) {
		/* RFC 5229 section 5: :count counts only non-empty strings. */
		if (m.mtype == SV_MATCH_COUNT && src[i].len == 0)
			continue;
		int r = sieve_match_value(&m, src[i].p, src[i].len);
		if (r < 0)
			return SIEVE_FAILURE;
		if (r > 0)
			break;
	}
	int r = sieve_match_end(&m);
	if (r < 0)
		return SIEVE_FAILURE;
	rt->test_result = r > 0;
	return SIEVE_OK;
}

static const struct sieve_pos_arg string_args[] = {
	{ "source", SV_AT_STRLIST }, { "key list", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_string = {
	"string", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, string_args, 2, NULL, NULL, string_execute, NULL };

static const struct sieve_command_def *const variables_commands[] = { &cmd_set, &cmd_string, NULL };

/* enotify adds :encodeurl to set (RFC 5435 section 6); the enotify
 * extension lists this as its tag_links. */
const struct sieve_tag_link sieve_variables_encodeurl_link[] = {
	{ "set", &tag_encodeurl }, { "extracttext", &tag_encodeurl }, { NULL, NULL } };

/* regex adds :quoteregex to set (draft-ietf-sieve-regex-01 section 4, as
 * Cyrus has it); the regex extension lists this as its tag_links. */
const struct sieve_tag_link sieve_variables_quoteregex_link[] = {
	{ "set", &tag_quoteregex }, { "extracttext", &tag_quoteregex }, { NULL, NULL } };

static int variables_on_require(struct sieve_validator *v, const struct ast_node *req)
{
	(void)req;
	v->max_vars = var_max_scope(v->cfg);
	return 0;
}

const struct sieve_extension_def sieve_ext_variables = {
	.name = "variables",
	.flags = SV_EF_DEFAULT_ON,
	.commands = variables_commands,
	.on_require = variables_on_require,
};
