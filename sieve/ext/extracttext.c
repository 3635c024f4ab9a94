/* extracttext.c: the extracttext extension (RFC 5703 section 7):
 *   extracttext [MODIFIER] [:first number] <varname: string>
 * stores the text of the part the innermost foreverypart loop is at: ""
 * for a part with sub-parts, the text of an HTML part, else its decoded
 * body; :first keeps that many octets (never half a character).  It is only allowed inside
 * foreverypart and needs the variables and foreverypart extensions.
 *
 * The assignment is the variables extension's: the name is checked by the
 * "set" command's validate hook and the value stored (modifiers applied)
 * by its execute hook, so both follow whatever set supports (local and
 * global variables, size limits, modifier order). */
#include "sieve/ext/mime-common.h"
#include "lib/utf8.h"
#include <string.h>
#include <strings.h>

static const struct sieve_tag_def tag_first = { "first", SV_TC_NONE, 0, SV_AT_NUMBER, "number" };
/* The modifiers of set (RFC 5229 section 4), applied by set's code, which
   knows them by name. */
static const struct sieve_tag_def tag_lower = { "lower", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_upper = { "upper", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_lowerfirst = { "lowerfirst", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_upperfirst = { "upperfirst", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_quotewildcard = { "quotewildcard", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_length = { "length", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def *const extracttext_tags[] = {
	&tag_first, &tag_lower, &tag_upper, &tag_lowerfirst, &tag_upperfirst, &tag_quotewildcard,
	&tag_length, NULL
};

static int modifier_precedence(const struct sieve_tag_def *t)
{
	if (t == &tag_lower || t == &tag_upper)
		return 40;
	if (t == &tag_lowerfirst || t == &tag_upperfirst)
		return 30;
	if (t == &tag_quotewildcard)
		return 20;
	if (strcmp(t->name, "encodeurl") == 0)   /* enotify's, when required */
		return 15;
	if (t == &tag_length)
		return 10;
	return -1;
}

static int extracttext_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	/* Modifiers of equal precedence conflict (RFC 5229 section 4). */
	for (unsigned i = 0; i < c->ntags; i++) {
		int p = modifier_precedence(c->tags[i].def);
		for (unsigned j = 0; j < i && p >= 0; j++) {
			if (modifier_precedence(c->tags[j].def) == p) {
				sieve_validator_error(v, c->tags[i].loc,
					"modifiers :%s and :%s specified for the extracttext command conflict "
					"having equal precedence", c->tags[j].def->name, c->tags[i].def->name);
				return -1;
			}
		}
	}
	/* The variable name, as set checks it (it becomes a slot number). */
	const struct sieve_command_def *set = sieve_validator_cmd_def("set");
	if (set == NULL || set->validate == NULL || set->execute == NULL) {
		sieve_validator_error(v, c->node->loc,
			"extracttext extension cannot be used without variables extension");
		return -1;
	}
	struct sieve_cmd tmp;
	struct sieve_cval tmp_pos[1 + SIEVE_CMD_SPARE_POS];
	memset(&tmp, 0, sizeof(tmp));
	memset(tmp_pos, 0, sizeof(tmp_pos));
	tmp.pos = tmp_pos;   /* sieve_cmd's arrays are the caller's (engine.h) */
	tmp.pos_cap = 1 + SIEVE_CMD_SPARE_POS;
	tmp.def = set;
	tmp.ext = sieve_extension_index("variables");
	tmp.node = c->node;
	tmp.pos[0] = c->pos[0];
	tmp.npos = 1;
	if (set->validate(v, &tmp) < 0)
		return -1;
	c->pos[0] = tmp.pos[0];

	for (const struct ast_node *n = c->node->parent; n != NULL; n = n->parent) {
		const struct sieve_cmd *pc = n->vdata;
		if (pc != NULL && strcmp(pc->def->name, "foreverypart") == 0 &&
		    strcmp(sieve_extensions[pc->ext]->name, "foreverypart") == 0)
			return 0;
	}
	sieve_validator_error(v, c->node->loc,
		"the extracttext command is not placed inside a foreverypart loop");
	return -1;
}

/* Is ext_name required by the require command `req` or by a later one at
   the top of the script?  (Pigeonhole checks the combination once every
   require has been read.) */
static bool required_here_or_later(struct sieve_validator *v, const struct ast_node *req,
				   const char *ext_name)
{
	if (sieve_validator_ext_required(v, ext_name))
		return true;
	for (const struct ast_node *n = req; n != NULL; n = n->next) {
		if (n->kind != AST_COMMAND || strcasecmp(n->ident, "require") != 0)
			continue;
		for (const struct ast_arg *a = n->args; a != NULL; a = a->next) {
			if (a->kind == AST_ARG_STRING && strcmp(a->u.string.data, ext_name) == 0)
				return true;
			if (a->kind != AST_ARG_STRLIST)
				continue;
			for (size_t i = 0; i < a->u.list.count; i++)
				if (strcmp(a->u.list.items[i].data, ext_name) == 0)
					return true;
		}
	}
	return false;
}

static int extracttext_on_require(struct sieve_validator *v, const struct ast_node *req)
{
	const char *missing = !required_here_or_later(v, req, "variables") ? "variables" :
		!required_here_or_later(v, req, "foreverypart") ? "foreverypart" : NULL;
	if (missing == NULL)
		return 0;
	sieve_validator_error(v, req->loc, "extracttext extension cannot be used without %s extension",
			      missing);
	return -1;
}

static int extracttext_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_fep_loop *loop = sieve_fep_current(rt, a->pc);
	if (loop == NULL) {
		sieve_runtime_error(rt, a, "extracttext used outside a foreverypart loop");
		return SIEVE_FAILURE;
	}
	struct sieve_mime_parts *pp = sieve_mime_parts(rt->msg);
	const char *text = "";
	size_t len = 0;
	if (loop->cur < pp->count)
		text = sieve_mime_text(pp, loop->cur, &len);
	const struct sieve_exec_tag *first = sieve_args_tag(a, "first");
	if (first != NULL)
		/* :first counts octets, as Pigeonhole does; a character the
		   limit would cut in two is left out rather than split (the
		   value stays UTF-8). */
		len = utf8_truncate(text, len, first->val.number >= len ? len : (size_t)first->val.number,
				    UTF8_TRUNC_BOUNDARY);

	/* Store through set: its execute reads the slot (pos[0]), the value
	   (pos[1]) and the modifier tags. */
	const struct sieve_command_def *set = sieve_validator_cmd_def("set");
	if (set == NULL || set->execute == NULL) {
		sieve_runtime_error(rt, a, "extracttext: the variables extension is not available");
		return SIEVE_FAILURE;
	}
	struct sieve_exec_args sa;
	memset(&sa, 0, sizeof(sa));
	sa.def = set;
	sa.ext = sieve_extension_index("variables");
	sa.pc = a->pc;
	sa.line = a->line;
	for (unsigned i = 0; i < a->ntags; i++)
		if (a->tags[i].def != &tag_first)
			sa.tags[sa.ntags++] = a->tags[i];
	sa.npos = 2;
	sa.pos[0] = a->pos[0];
	sa.pos[1].type = SV_OPD_STRING;
	sa.pos[1].str = text;
	sa.pos[1].len = len;
	sa.pos[1].count = 1;
	return set->execute(rt, &sa);
}

static const struct sieve_pos_arg extracttext_args[] = { { "varname", SV_AT_STRING } };
static const struct sieve_command_def cmd_extracttext = {
	"extracttext", SV_CMD_COMMAND, 0, extracttext_args, 1, extracttext_tags,
	extracttext_validate, extracttext_execute, NULL };

static const struct sieve_command_def *const extracttext_commands[] = { &cmd_extracttext, NULL };

const struct sieve_extension_def sieve_ext_extracttext = {
	.name = "extracttext",
	.flags = SV_EF_DEFAULT_ON,
	.commands = extracttext_commands,
	.on_require = extracttext_on_require,
};
