/* variables.c: the variables extension (RFC 5229): "set" with its
 * modifiers, the "string" test, and ${name} / ${N} substitution (done by
 * the validator's string splitting and the interpreter's expansion).
 * Variable names become slot numbers at compile time. */
#include "sieve/engine.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Modifier ids are their RFC 5229 precedence, so two modifiers of the same
 * precedence are rejected as duplicates by the generic tag check. */
static const struct sieve_tag_def tag_lower = { "lower", SV_TC_NONE, 40, 0, NULL };
static const struct sieve_tag_def tag_upper = { "upper", SV_TC_NONE, 40, 0, NULL };
static const struct sieve_tag_def tag_lowerfirst = { "lowerfirst", SV_TC_NONE, 30, 0, NULL };
static const struct sieve_tag_def tag_upperfirst = { "upperfirst", SV_TC_NONE, 30, 0, NULL };
static const struct sieve_tag_def tag_quotewildcard = { "quotewildcard", SV_TC_NONE, 20, 0, NULL };
static const struct sieve_tag_def tag_encodeurl = { "encodeurl", SV_TC_NONE, 15, 0, NULL };
static const struct sieve_tag_def tag_length = { "length", SV_TC_NONE, 10, 0, NULL };
static const struct sieve_tag_def *const set_tags[] = {
	&tag_lower, &tag_upper, &tag_lowerfirst, &tag_upperfirst, &tag_quotewildcard, &tag_length, NULL
};

static bool valid_identifier(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

static int set_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_cstring *name = &c->pos[0].strs[0];
	if (!sieve_cstring_is_const(name) || !valid_identifier(name->data, name->len)) {
		bool numeric = name->len > 0 && strspn(name->data, "0123456789") == name->len;
		if (numeric)
			sieve_validator_error(v, name->loc,
				"cannot assign to match variable (name '%s')", name->data);
		else
			sieve_validator_error(v, name->loc,
				"invalid variable name '%s'", name->data);
		return -1;
	}
	int slot = sieve_validator_var_declare(v, name->data, name->len);
	if (slot < 0) {
		sieve_validator_error(v, name->loc,
			"declaration of new variable '%s' exceeds the limit (max variables: %llu)", name->data,
			(unsigned long long)sieve_config_uint(sieve_validator_config(v),
							      "sieve_variables_max_scope_size", 255));
		return -1;
	}
	/* The name becomes its slot number in the bytecode. */
	struct sieve_cval *cv = &c->pos[0];
	cv->type = SV_AT_NUMBER;
	cv->number = (uint64_t)slot;
	return 0;
}

static size_t utf8_len(const char *p, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)p[i] & 0xc0) != 0x80)
			count++;
	return count;
}

int sieve_variables_modify(struct sieve_runtime *rt, const struct sieve_exec_args *a, struct sieve_string *val);
int sieve_variables_modify(struct sieve_runtime *rt, const struct sieve_exec_args *a, struct sieve_string *val)
{
	/* Apply in precedence order, highest first. */
	static const int order[] = { 40, 30, 20, 15, 10 };
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (unsigned i = 0; i < a->ntags; i++) {
			const struct sieve_tag_def *t = a->tags[i].def;
			if (t->cls != SV_TC_NONE || t->id != order[k])
				continue;
			char *buf;
			if (strcmp(t->name, "lower") == 0 || strcmp(t->name, "upper") == 0) {
				buf = arena_memdup(rt->arena, val->p, val->len);
				for (size_t j = 0; j < val->len; j++)
					buf[j] = (char)(t->name[0] == 'l' ? tolower((unsigned char)buf[j])
								 : toupper((unsigned char)buf[j]));
				val->p = buf;
			} else if (strcmp(t->name, "lowerfirst") == 0 || strcmp(t->name, "upperfirst") == 0) {
				buf = arena_memdup(rt->arena, val->p, val->len);
				if (val->len > 0)
					buf[0] = (char)(t->name[0] == 'l' ? tolower((unsigned char)buf[0])
								 : toupper((unsigned char)buf[0]));
				val->p = buf;
			} else if (strcmp(t->name, "quotewildcard") == 0) {
				struct strbuf b = STRBUF_INIT;
				for (size_t j = 0; j < val->len; j++) {
					char ch = val->p[j];
					if (ch == '*' || ch == '?' || ch == '\\')
						strbuf_putc(&b, '\\');
					strbuf_putc(&b, ch);
				}
				val->p = arena_memdup(rt->arena, b.data ? b.data : "", b.len);
				val->len = b.len;
				strbuf_free(&b);
			} else if (strcmp(t->name, "encodeurl") == 0) {
				struct strbuf b = STRBUF_INIT;
				for (size_t j = 0; j < val->len; j++) {
					unsigned char ch = (unsigned char)val->p[j];
					if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~')
						strbuf_putc(&b, (char)ch);
					else
						strbuf_printf(&b, "%%%02X", ch);
				}
				val->p = arena_memdup(rt->arena, b.data ? b.data : "", b.len);
				val->len = b.len;
				strbuf_free(&b);
			} else if (strcmp(t->name, "length") == 0) {
				val->p = arena_printf(rt->arena, "%zu", utf8_len(val->p, val->len));
				val->len = strlen(val->p);
			}
		}
	}
	return 0;
}

static int set_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string val = sieve_opd_string(rt, &a->pos[1]);
	sieve_variables_modify(rt, a, &val);
	sieve_runtime_var_set(rt, false, (unsigned)a->pos[0].number, val.p, val.len);
	return SIEVE_OK;
}

static const struct sieve_pos_arg set_args[] = { { "name", SV_AT_STRING }, { "value", SV_AT_STRING } };
static const struct sieve_command_def cmd_set = {
	"set", SV_CMD_COMMAND, 0, set_args, 2, set_tags, set_validate, set_execute, NULL };

static int string_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, &a->pos[1]);
	struct sieve_string *src;
	size_t n = sieve_opd_strlist(rt, &a->pos[0], &src);
	for (size_t i = 0; i < n; i++) {
		/* RFC 5229 section 5: :count counts only non-empty strings. */
		if (m.mtype == SV_MATCH_COUNT && src[i].len == 0)
			continue;
		if (sieve_match_value(&m, src[i].p, src[i].len) > 0)
			break;
	}
	rt->test_result = sieve_match_end(&m) > 0;
	return SIEVE_OK;
}

static const struct sieve_pos_arg string_args[] = {
	{ "source", SV_AT_STRLIST }, { "key list", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_string = {
	"string", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, string_args, 2, NULL, NULL, string_execute, NULL };

static const struct sieve_command_def *const variables_commands[] = { &cmd_set, &cmd_string, NULL };

/* enotify adds :encodeurl to set; kept here so the modifier code is in one
 * place. */
const struct sieve_tag_link sieve_variables_encodeurl_link[] = { { "set", &tag_encodeurl }, { NULL, NULL } };

const struct sieve_extension_def sieve_ext_variables = {
	.name = "variables",
	.flags = SV_EF_DEFAULT_ON,
	.commands = variables_commands,
};
