/* validator.c: gives the generic syntax tree its meaning.  Every command and
 * test is looked up in the registry of the extensions the script required,
 * its tagged and positional arguments are checked against the signature its
 * extension declared, and strings are prepared (encoded-character, ${...}
 * splitting).  Errors are worded as Pigeonhole words them, because the
 * conformance suite and users' muscle memory both depend on the wording; all
 * are reported, not only the first. */
#include "sieve/validator.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Pigeonhole names argument types with their article ("a string list"),
 * and the conformance suite matches on that wording. */
static const char *const type_names[] = { "none", "a number", "a string", "a string list", "a tag" };

static const char *ast_arg_type_name(const struct ast_arg *a)
{
	if (a == NULL)
		return type_names[0];
	switch (a->kind) {
	case AST_ARG_NUMBER: return type_names[1];
	case AST_ARG_STRING: return type_names[2];
	case AST_ARG_STRLIST: return type_names[3];
	case AST_ARG_TAG: return type_names[4];
	}
	return type_names[0];
}

static const char *argtype_name(unsigned types)
{
	if (types & SV_AT_STRLIST)
		return type_names[3];
	if (types & SV_AT_STRING)
		return type_names[2];
	if (types & SV_AT_NUMBER)
		return type_names[1];
	return type_names[0];
}

static const char *kind_name(enum ast_node_kind k)
{
	return k == AST_TEST ? "test" : "command";
}

static const char *def_kind_name(const struct sieve_command_def *d)
{
	return d->kind == SV_CMD_TEST ? "test" : "command";
}

void sieve_validator_error(struct sieve_validator *v, struct ast_loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(v->diags, DIAG_ERROR, v->script_name, loc.line, loc.col, fmt, ap);
	va_end(ap);
	v->errors++;
}

void sieve_validator_warning(struct sieve_validator *v, struct ast_loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(v->diags, DIAG_WARNING, v->script_name, loc.line, loc.col, fmt, ap);
	va_end(ap);
}

bool sieve_validator_ext_required(struct sieve_validator *v, const char *ext_name)
{
	int i = sieve_extension_index(ext_name);
	return i >= 0 && v->required[i];
}

const struct sieve_config *sieve_validator_config(struct sieve_validator *v) { return v->cfg; }
struct arena *sieve_validator_arena(struct sieve_validator *v) { return v->arena; }
bool sieve_validator_is_admin(struct sieve_validator *v) { return v->params->admin; }
bool sieve_validator_is_testsuite(struct sieve_validator *v) { return v->params->testsuite; }
const char *sieve_validator_testsuite_dir(struct sieve_validator *v) { return v->params->testsuite_dir; }
const char *sieve_validator_script_name(struct sieve_validator *v) { return v->script_name; }

const struct sieve_ctag *sieve_cmd_tag(const struct sieve_cmd *c, const char *name)
{
	for (unsigned i = 0; i < c->ntags; i++)
		if (strcmp(c->tags[i].def->name, name) == 0)
			return &c->tags[i];
	return NULL;
}

const struct sieve_ctag *sieve_cmd_tag_class(const struct sieve_cmd *c, enum sieve_tag_class cls)
{
	for (unsigned i = 0; i < c->ntags; i++)
		if (c->tags[i].def->cls == cls)
			return &c->tags[i];
	return NULL;
}

/* ---- registry lookups within this compile ---- */

static bool ext_active(struct sieve_validator *v, int i)
{
	const struct sieve_extension_def *e = sieve_extensions[i];
	return (e->flags & SV_EF_ALWAYS) != 0 || v->required[i];
}

static const struct sieve_command_def *find_command(struct sieve_validator *v, const char *name, int *ext_r)
{
	for (int i = 0; sieve_extensions[i] != NULL; i++) {
		if (!ext_active(v, i) || sieve_extensions[i]->commands == NULL)
			continue;
		for (const struct sieve_command_def *const *c = sieve_extensions[i]->commands; *c; c++) {
			if (strcasecmp((*c)->name, name) == 0) {
				if (ext_r)
					*ext_r = i;
				return *c;
			}
		}
	}
	return NULL;
}

const struct sieve_command_def *sieve_validator_cmd_def(const char *name)
{
	for (int i = 0; sieve_extensions[i] != NULL; i++) {
		if (sieve_extensions[i]->commands == NULL)
			continue;
		for (const struct sieve_command_def *const *c = sieve_extensions[i]->commands; *c; c++)
			if (strcmp((*c)->name, name) == 0)
				return *c;
	}
	return NULL;
}

static const struct sieve_tag_def *find_tag(struct sieve_validator *v, const struct sieve_command_def *def,
					   const char *name, int ext_of_cmd, int *ext_r)
{
	if (def->tags != NULL) {
		for (const struct sieve_tag_def *const *t = def->tags; *t; t++)
			if (strcasecmp((*t)->name, name) == 0) {
				*ext_r = ext_of_cmd;
				return *t;
			}
	}
	for (int i = 0; sieve_extensions[i] != NULL; i++) {
		const struct sieve_extension_def *e = sieve_extensions[i];
		if (!ext_active(v, i))
			continue;
		if (e->tag_links != NULL) {
			for (const struct sieve_tag_link *l = e->tag_links; l->command; l++)
				if (strcasecmp(l->command, def->name) == 0 && strcasecmp(l->tag->name, name) == 0) {
					*ext_r = i;
					return l->tag;
				}
		}
		if (e->class_tags != NULL) {
			for (const struct sieve_tag_def *const *t = e->class_tags; *t; t++) {
				unsigned need = (*t)->cls == SV_TC_MATCH ? SV_CF_MATCH :
					(*t)->cls == SV_TC_COMPARATOR ? SV_CF_COMPARATOR :
					(*t)->cls == SV_TC_ADDRPART ? SV_CF_ADDRPART : 0;
				if ((def->flags & need) && strcasecmp((*t)->name, name) == 0) {
					*ext_r = i;
					return *t;
				}
			}
		}
	}
	return NULL;
}

static bool name_in_list(char **list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static void name_list_add(struct sieve_validator *v, char ***list, size_t *n, size_t *cap, const char *name)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		*list = arena_grow(v->arena, *list, *cap, nc, sizeof(char *));
		*cap = nc;
	}
	(*list)[(*n)++] = arena_strdup(v->arena, name);
}

/* ---- comparators ---- */

static const struct sieve_comparator_def *find_comparator(struct sieve_validator *v, const char *name)
{
	for (int i = 0; sieve_extensions[i] != NULL; i++) {
		const struct sieve_extension_def *e = sieve_extensions[i];
		if (!ext_active(v, i) || e->comparators == NULL)
			continue;
		for (const struct sieve_comparator_def *const *c = e->comparators; *c; c++)
			if (strcasecmp((*c)->name, name) == 0)
				return *c;
	}
	return NULL;
}

/* ---- strings: encoded-character and ${...} ---- */

static int filter_strings_arg(struct sieve_validator *v, struct ast_arg *a)
{
	int ret = 0;
	for (int i = 0; sieve_extensions[i] != NULL; i++) {
		const struct sieve_extension_def *e = sieve_extensions[i];
		if (!v->required[i] || e->string_filter == NULL)
			continue;
		if (a->kind == AST_ARG_STRING) {
			if (e->string_filter(v, &a->u.string) < 0)
				ret = -1;
		} else if (a->kind == AST_ARG_STRLIST) {
			for (size_t k = 0; k < a->u.list.count; k++)
				if (e->string_filter(v, &a->u.list.items[k]) < 0)
					ret = -1;
		}
	}
	return ret;
}

int sieve_validator_var_lookup(struct sieve_validator *v, const char *name, size_t len)
{
	for (size_t i = 0; i < v->nvars; i++)
		if (strlen(v->vars[i]) == len && strncasecmp(v->vars[i], name, len) == 0)
			return (int)i;
	return -1;
}

int sieve_validator_var_declare(struct sieve_validator *v, const char *name, size_t len)
{
	int i = sieve_validator_var_lookup(v, name, len);
	if (i >= 0)
		return i;
	if (v->nvars >= v->max_vars)
		return -1;
	if (v->nvars == v->vars_cap) {
		size_t nc = v->vars_cap ? v->vars_cap * 2 : 16;
		v->vars = arena_grow(v->arena, v->vars, v->vars_cap, nc, sizeof(char *));
		v->vars_cap = nc;
	}
	v->vars[v->nvars] = arena_strndup(v->arena, name, len);
	return (int)v->nvars++;
}

/* Splits "${...}" references per RFC 5229 section 3.  Anything that is not
 * a valid reference stays literal text. */
static void split_string(struct sieve_validator *v, struct sieve_cstring *cs)
{
	if (!v->variables || memchr(cs->data, '$', cs->len) == NULL)
		return;
	const char *p = cs->data, *end = cs->data + cs->len, *lit = p;
	struct sieve_strpart *parts = NULL;
	size_t np = 0, cap = 0;
	bool any = false;
	while (p < end) {
		if (p[0] != '$' || p + 1 >= end || p[1] != '{') {
			p++;
			continue;
		}
		/* The reference syntax and its errors belong to the variables
		   extension (sieve/ext/variables.c). */
		struct sieve_strpart ref;
		const char *next;
		int r = sieve_variables_parse_ref(v, cs, p + 2, end, &ref, &next);
		if (r == 0) {
			p++;
			continue;
		}
		any = true;
		if (np + 2 > cap) {
			size_t nc = cap ? cap * 2 : 8;
			parts = arena_grow(v->arena, parts, cap, nc, sizeof(*parts));
			cap = nc;
		}
		if (p > lit) {
			parts[np].kind = SV_SP_LITERAL;
			parts[np].data = lit;
			parts[np].len = (size_t)(p - lit);
			parts[np].index = 0;
			np++;
		}
		if (r > 0)
			parts[np++] = ref;   /* an invalid one (error reported) is dropped */
		p = next;
		lit = p;
	}
	if (!any)
		return;
	if (end > lit) {
		if (np + 1 > cap) {
			parts = arena_grow(v->arena, parts, cap, cap + 1, sizeof(*parts));
			cap++;
		}
		parts[np].kind = SV_SP_LITERAL;
		parts[np].data = lit;
		parts[np].len = (size_t)(end - lit);
		parts[np].index = 0;
		np++;
	}
	if (np == 0) {
		/* Only invalid references: compilation fails anyway; keep one
		   empty literal so the string still counts as split. */
		parts = arena_alloc(v->arena, sizeof(*parts));
		parts[0].kind = SV_SP_LITERAL;
		parts[0].data = "";
		parts[0].len = 0;
		parts[0].index = 0;
		np = 1;
	}
	cs->parts = parts;
	cs->nparts = np;
}

static void make_cstring(struct sieve_validator *v, const struct ast_string *s,
			 struct sieve_cstring *cs, bool split)
{
	cs->data = s->data;
	cs->len = s->len;
	cs->loc = s->loc;
	cs->parts = NULL;
	cs->nparts = 0;
	if (split)
		split_string(v, cs);
}

static void make_cval(struct sieve_validator *v, const struct ast_arg *a, struct sieve_cval *cv, bool split)
{
	memset(cv, 0, sizeof(*cv));
	cv->loc = a->loc;
	switch (a->kind) {
	case AST_ARG_NUMBER:
		cv->type = SV_AT_NUMBER;
		cv->number = a->u.number;
		break;
	case AST_ARG_STRING:
		cv->type = SV_AT_STRING;
		cv->strs = arena_alloc(v->arena, sizeof(*cv->strs));
		cv->nstrs = 1;
		make_cstring(v, &a->u.string, &cv->strs[0], split);
		break;
	case AST_ARG_STRLIST:
		cv->type = SV_AT_STRLIST;
		cv->nstrs = a->u.list.count;
		cv->strs = arena_alloc(v->arena, sizeof(*cv->strs) * (cv->nstrs ? cv->nstrs : 1));
		for (size_t i = 0; i < cv->nstrs; i++)
			make_cstring(v, &a->u.list.items[i], &cv->strs[i], split);
		break;
	case AST_ARG_TAG:
		break;
	}
}

static bool arg_type_ok(const struct ast_arg *a, unsigned types)
{
	switch (a->kind) {
	case AST_ARG_NUMBER: return (types & SV_AT_NUMBER) != 0;
	case AST_ARG_STRING: return (types & (SV_AT_STRING | SV_AT_STRLIST)) != 0;
	case AST_ARG_STRLIST: return (types & SV_AT_STRLIST) != 0;
	case AST_ARG_TAG: return false;
	}
	return false;
}

/* ---- require ---- */

static int require_one(struct sieve_validator *v, const struct ast_string *s, struct ast_node *node)
{
	int idx = sieve_extension_index(s->data);
	const struct sieve_extension_def *e = sieve_extension_by_index(idx);
	if (idx < 0 || e->name[0] == '@' ||
	    !sieve_extension_enabled_for(v->cfg, idx, v->params)) {
		sieve_validator_error(v, s->loc, "require command: unknown Sieve capability `%s'", s->data);
		return -1;
	}
	if (v->required[idx])
		return 0;
	v->required[idx] = true;
	if (strcmp(e->name, "variables") == 0)
		v->variables = true;
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

static int validate_require(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct ast_node *n = c->node;
	if (n->parent != NULL || v->finished_require) {
		sieve_validator_error(v, n->loc,
			"require commands can only be placed at top level at the beginning of the file");
		return -1;
	}
	const struct ast_arg *a = n->args;
	int ret = 0;
	if (a->kind == AST_ARG_STRING) {
		ret = require_one(v, &a->u.string, n);
	} else if (a->kind == AST_ARG_STRLIST) {
		for (size_t i = 0; i < a->u.list.count; i++)
			if (require_one(v, &a->u.list.items[i], n) < 0)
				ret = -1;
	} else {
		sieve_validator_error(v, a->loc,
			"the require command accepts a single string or string list argument, but %s was found",
			ast_arg_type_name(a));
		return -1;
	}
	return ret;
}

/* ---- per-command validation ---- */

static int validate_block(struct sieve_validator *v, struct ast_node *first, int depth);
static int validate_tests(struct sieve_validator *v, struct ast_node *node, int *const_r);
static int validate_tests_list(struct sieve_validator *v, struct ast_node *node, int *const_r);

/* Finds the command definition; reports unknown or misused identifiers. */
static struct sieve_cmd *validate_context(struct sieve_validator *v, struct ast_node *n)
{
	int ext = 0;
	const struct sieve_command_def *def = find_command(v, n->ident, &ext);
	if (def == NULL) {
		if (!name_in_list(v->unknown, v->nunknown, n->ident)) {
			sieve_validator_error(v, n->loc, "unknown %s '%s' (only reported once at first occurrence)",
					      kind_name(n->kind), n->ident);
			name_list_add(v, &v->unknown, &v->nunknown, &v->unknown_cap, n->ident);
		}
		return NULL;
	}
	if ((def->kind == SV_CMD_COMMAND && n->kind == AST_TEST) ||
	    (def->kind == SV_CMD_TEST && n->kind == AST_COMMAND)) {
		sieve_validator_error(v, n->loc, "attempted to use %s '%s' as %s",
				      def_kind_name(def), n->ident, kind_name(n->kind));
		return NULL;
	}
	struct sieve_cmd *c = arena_alloc(v->arena, sizeof(*c));
	unsigned nargs = 0;
	for (const struct ast_arg *a = n->args; a != NULL; a = a->next)
		nargs++;
	c->tags = arena_alloc(v->arena, sizeof(*c->tags) * (nargs < SIEVE_MAX_TAGS ? nargs + 1 : SIEVE_MAX_TAGS));
	c->pos_cap = nargs + SIEVE_CMD_SPARE_POS;
	c->pos = arena_alloc(v->arena, sizeof(*c->pos) * c->pos_cap);
	c->def = def;
	c->ext = ext;
	c->node = n;
	n->vdata = c;
	return c;
}

static bool tag_is_unknown(struct sieve_validator *v, const char *cmd, const char *tag)
{
	for (size_t i = 0; i < v->nunknown_tags; i++)
		if (strcmp(v->unknown_tags[i].cmd, cmd) == 0 && strcmp(v->unknown_tags[i].tag, tag) == 0)
			return true;
	return false;
}

static int validate_arguments(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct ast_node *n = c->node;
	const struct sieve_command_def *def = c->def;
	const char *tname = def_kind_name(def);

	/* Resolve every tag first (as Pigeonhole does) so that unknown tags are
	   reported before anything else about the command. */
	for (struct ast_arg *a = n->args; a != NULL; a = a->next) {
		if (a->kind != AST_ARG_TAG)
			continue;
		int ext;
		if (find_tag(v, def, a->u.tag, c->ext, &ext) != NULL)
			continue;
		if (tag_is_unknown(v, def->name, a->u.tag))
			return -1;
		sieve_validator_error(v, a->loc,
			"unknown tagged argument ':%s' for the %s %s (reported only once at first occurrence)",
			a->u.tag, def->name, tname);
		if (v->nunknown_tags < 256) {
			if (v->nunknown_tags == v->unknown_tags_cap) {
				size_t nc = v->unknown_tags_cap ? v->unknown_tags_cap * 2 : 8;
				v->unknown_tags = arena_grow(v->arena, v->unknown_tags, v->unknown_tags_cap, nc,
							     sizeof(*v->unknown_tags));
				v->unknown_tags_cap = nc;
			}
			v->unknown_tags[v->nunknown_tags].cmd = def->name;
			v->unknown_tags[v->nunknown_tags].tag = arena_strdup(v->arena, a->u.tag);
			v->nunknown_tags++;
		}
		return -1;
	}

	struct ast_arg *a = n->args;
	while (a != NULL && a->kind == AST_ARG_TAG) {
		int ext = 0;
		const struct sieve_tag_def *t = find_tag(v, def, a->u.tag, c->ext, &ext);
		/* duplicates: same tag, or another tag of the same class */
		bool repeated = false;
		for (unsigned i = 0; i < c->ntags; i++) {
			const struct sieve_tag_def *o = c->tags[i].def;
			if (o == t && (def->flags & SV_CF_TAG_REPEAT) != 0 && t->param == 0) {
				repeated = true; /* accepted and kept once */
				break;
			}
			if (o == t || (t->cls != SV_TC_NONE && o->cls == t->cls) ||
			    (t->cls == SV_TC_NONE && t->id != 0 && o->cls == SV_TC_NONE && o->id == t->id)) {
				const char *desc;
				if (t->cls == SV_TC_MATCH)
					desc = arena_printf(v->arena, "match type argument (:%s)", a->u.tag);
				else if (t->cls == SV_TC_COMPARATOR)
					desc = arena_printf(v->arena, "comparator argument (:%s)", a->u.tag);
				else if (t->cls == SV_TC_ADDRPART)
					desc = arena_printf(v->arena, "address part argument (:%s)", a->u.tag);
				else
					desc = arena_printf(v->arena, ":%s argument", a->u.tag);
				sieve_validator_error(v, a->loc, "encountered duplicate %s for the %s %s",
						      desc, def->name, tname);
				return -1;
			}
		}
		if (repeated) {
			a = a->next;
			continue;
		}
		if (c->ntags >= SIEVE_MAX_TAGS) {
			sieve_validator_error(v, a->loc, "too many tagged arguments for the %s %s", def->name, tname);
			return -1;
		}
		struct sieve_ctag *ct = &c->tags[c->ntags++];
		ct->def = t;
		ct->ext = ext;
		ct->loc = a->loc;
		struct ast_arg *tag_arg = a;
		a = a->next;
		if (t->param != 0) {
			if (a == NULL || a->kind == AST_ARG_TAG || !arg_type_ok(a, t->param)) {
				if (a == NULL || (a->kind == AST_ARG_TAG && 0))
					sieve_validator_error(v, tag_arg->loc,
						"the :%s tag for the %s %s requires %s as parameter, but no parameters were found",
						tag_arg->u.tag, def->name, tname, argtype_name(t->param));
				else
					sieve_validator_error(v, a->loc,
						"the :%s tag for the %s %s requires %s as parameter, but %s was found",
						tag_arg->u.tag, def->name, tname, argtype_name(t->param),
						ast_arg_type_name(a));
				return -1;
			}
			if (filter_strings_arg(v, a) < 0)
				return -1;
			/* Comparator names and relational operators must be
			   constant: they select code at compile time. */
			make_cval(v, a, &ct->val, t->cls != SV_TC_COMPARATOR && t->cls != SV_TC_MATCH);
			a = a->next;
		}
	}

	unsigned count = 0;
	struct ast_arg *first_pos = a;
	for (struct ast_arg *p = a; p != NULL; p = p->next) {
		if (p->kind == AST_ARG_TAG) {
			sieve_validator_error(v, p->loc,
				"encountered an unexpected tagged argument ':%s' while validating positional arguments for the %s %s",
				p->u.tag, def->name, tname);
			return -1;
		}
		count++;
	}
	bool count_ok = count == def->npos ||
		((def->flags & SV_CF_OPT_LASTPOS) && count + 1 == def->npos) ||
		((def->flags & SV_CF_VAR_POS) && count + 1 >= def->npos);
	if (!count_ok && count == 0 && (def->flags & SV_CF_OPT_LASTPOS) && def->npos == 2) {
		/* Pigeonhole's own checks of these commands word it so. */
		const char *what = NULL;
		if (strcmp(def->name, "deleteheader") == 0)
			what = "positional argument";
		else if (strcmp(def->name, "setflag") == 0 || strcmp(def->name, "addflag") == 0 ||
			 strcmp(def->name, "removeflag") == 0)
			what = "argument";
		if (what != NULL) {
			sieve_validator_error(v, n->loc,
				"the %s %s expects at least one %s, but none was found",
				def->name, tname, what);
			return -1;
		}
	}
	if (!count_ok) {
		sieve_validator_error(v, n->loc,
			"the %s %s requires %u positional argument(s), but %u is/are specified",
			def->name, tname, def->npos, count);
		return -1;
	}
	c->npos = 0;
	for (struct ast_arg *p = first_pos; p != NULL && c->npos < c->pos_cap; p = p->next) {
		if (filter_strings_arg(v, p) < 0)
			return -1;
		c->npos++;
	}
	return 0;
}

/* Positional argument types are checked after the sub-tests and the block,
 * as Pigeonhole's command validators do. */
static int validate_positional_types(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_command_def *def = c->def;
	struct ast_arg *a = c->node->args;
	while (a != NULL && a->kind == AST_ARG_TAG) {
		int ext;
		const struct sieve_tag_def *t = find_tag(v, def, a->u.tag, c->ext, &ext);
		a = a->next;
		if (t != NULL && t->param != 0 && a != NULL)
			a = a->next;
	}
	unsigned i = 0;
	for (; a != NULL; a = a->next, i++) {
		unsigned types = i < def->npos ? def->pos[i].types :
			(def->npos > 0 ? def->pos[def->npos - 1].types : SV_AT_STRING);
		const char *aname = i < def->npos ? def->pos[i].name :
			(def->npos > 0 ? def->pos[def->npos - 1].name : "argument");
		if (!arg_type_ok(a, types)) {
			sieve_validator_error(v, a->loc,
				"the %s %s expects %s as argument %u (%s), but %s was found",
				def->name, def_kind_name(def), argtype_name(types), i + 1, aname,
				ast_arg_type_name(a));
			return -1;
		}
		make_cval(v, a, &c->pos[i], !(i == 0 && (def->flags & SV_CF_POS1_NAME)));
	}
	return 0;
}

static bool command_tag_exists(struct sieve_validator *v, struct sieve_cmd *c, const char *name)
{
	int ext;
	return find_tag(v, c->def, name, c->ext, &ext) != NULL;
}

static int validate_subtests(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct ast_node *n = c->node;
	const struct sieve_command_def *def = c->def;
	const char *tname = def_kind_name(def);
	if (!(def->flags & (SV_CF_SUBTEST_ONE | SV_CF_SUBTEST_LIST))) {
		if (n->ntests == 0)
			return 0;
		struct ast_node *t = n->tests;
		int ext;
		const struct sieve_command_def *td = find_command(v, t->ident, &ext);
		if (td != NULL && td->kind != SV_CMD_COMMAND) {
			sieve_validator_error(v, n->loc, "the %s %s accepts no sub-tests, but tests are specified",
					      def->name, tname);
		} else if (td == NULL && command_tag_exists(v, c, t->ident)) {
			sieve_validator_error(v, n->loc, "missing colon ':' before ':%s' tag in %s %s",
					      t->ident, def->name, tname);
		} else {
			sieve_validator_error(v, n->loc, "missing semicolon ';' after %s %s", def->name, tname);
		}
		return -1;
	}
	if (def->flags & SV_CF_SUBTEST_ONE) {
		if (n->ntests == 0) {
			sieve_validator_error(v, n->loc, "the %s %s requires one sub-test, but none is specified",
					      def->name, tname);
			return -1;
		}
		if (n->ntests > 1 || n->test_list) {
			sieve_validator_error(v, n->loc,
				"the %s %s requires one sub-test, but a list of tests is specified", def->name, tname);
			return -1;
		}
		return 0;
	}
	if (n->ntests == 0) {
		sieve_validator_error(v, n->loc, "the %s %s requires a list of sub-tests, but none is specified",
				      def->name, tname);
		return -1;
	}
	if (n->ntests == 1 && !n->test_list) {
		sieve_validator_error(v, n->loc,
			"the %s %s requires a list of sub-tests, but a single test is specified", def->name, tname);
		return -1;
	}
	return 0;
}

static int validate_cmd_block(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct ast_node *n = c->node;
	if (n->kind != AST_COMMAND)
		return 0;
	if ((c->def->flags & SV_CF_BLOCK_REQUIRED) && !n->has_block) {
		sieve_validator_error(v, n->loc, "the %s command requires a command block, but it is missing",
				      c->def->name);
		return -1;
	}
	if (!(c->def->flags & (SV_CF_BLOCK_ALLOWED | SV_CF_BLOCK_REQUIRED)) && n->has_block) {
		sieve_validator_error(v, n->loc,
			"the %s command does not accept a command block, but one is specified anyway", c->def->name);
		return -1;
	}
	return 0;
}

/* Comparator and match type checks shared by every command that takes them. */
static int validate_match(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_ctag *ct = sieve_cmd_tag_class(c, SV_TC_COMPARATOR);
	const struct sieve_ctag *mt = sieve_cmd_tag_class(c, SV_TC_MATCH);
	enum match_comparator cmp = MATCH_CMP_ASCII_CASEMAP;
	/* RFC 6134: membership in an external list is decided by the list, so
	   a comparator has no meaning there (Pigeonhole's wording). */
	if (mt != NULL && ct != NULL && mt->def->id == SV_MATCH_LIST) {
		sieve_validator_error(v, mt->loc, "the :%s match type does not allow a comparator",
				      mt->def->name);
		return -1;
	}
	if (ct != NULL) {
		if (ct->val.type != SV_AT_STRING) {
			sieve_validator_error(v, ct->loc, "the :comparator tag requires one string argument");
			return -1;
		}
		const struct sieve_comparator_def *cd = find_comparator(v, ct->val.strs[0].data);
		if (cd == NULL) {
			sieve_validator_error(v, ct->val.loc, "unknown comparator '%s'", ct->val.strs[0].data);
			return -1;
		}
		cmp = cd->id;
	}
	/* A match type's own extension may own these checks (regex). */
	if (mt != NULL && sieve_extensions[mt->ext]->match_validate != NULL)
		return sieve_extensions[mt->ext]->match_validate(v, c, mt, cmp);
	if (mt != NULL && cmp == MATCH_CMP_ASCII_NUMERIC &&
	    (mt->def->id == SV_MATCH_CONTAINS || mt->def->id == SV_MATCH_MATCHES || mt->def->id == SV_MATCH_REGEX)) {
		sieve_validator_error(v, mt->loc,
			"the specified %s comparator does not support sub-string matching as required by the :%s match type",
			"i;ascii-numeric", mt->def->name);
		return -1;
	}
	if (mt != NULL && (mt->def->id == SV_MATCH_COUNT || mt->def->id == SV_MATCH_VALUE)) {
		if (mt->val.type != SV_AT_STRING || match_relation_lookup(mt->val.strs[0].data) < 0) {
			sieve_validator_error(v, mt->val.loc,
				"invalid relational match type '%s'",
				mt->val.type == SV_AT_STRING ? mt->val.strs[0].data : "");
			return -1;
		}
	}
	return 0;
}

/* Extensions that added tags to this command check how they combine (their
 * tag_validate hook), once per extension, as Pigeonhole's tag validators run
 * before the command's own checks. */
static int validate_linked_tags(struct sieve_validator *v, struct sieve_cmd *c)
{
	for (unsigned i = 0; i < c->ntags; i++) {
		int e = c->tags[i].ext;
		if (e == c->ext || sieve_extensions[e]->tag_validate == NULL)
			continue;
		bool seen = false;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = c->tags[j].ext == e;
		if (!seen && sieve_extensions[e]->tag_validate(v, c) < 0)
			return -1;
	}
	return 0;
}

static int validate_command(struct sieve_validator *v, struct sieve_cmd *c, int *const_r, int depth)
{
	struct ast_node *n = c->node;
	const struct sieve_command_def *def = c->def;
	int ret = 0;
	*const_r = -1;
	if (validate_arguments(v, c) < 0) {
		ret = -1;
		(void)validate_subtests(v, c);
	} else if (validate_subtests(v, c) < 0 || validate_cmd_block(v, c) < 0) {
		ret = -1;
	} else if (strcmp(def->name, "require") == 0 && c->ext == 0) {
		if (validate_require(v, c) < 0)
			ret = -1;
	} else if (validate_positional_types(v, c) < 0) {
		ret = -1;
	} else {
		if (validate_linked_tags(v, c) < 0)
			ret = -1;
		if (ret == 0 && (def->flags & (SV_CF_COMPARATOR | SV_CF_MATCH)))
			if (validate_match(v, c) < 0)
				ret = -1;
		if (ret == 0 && def->validate != NULL && def->validate(v, c) < 0)
			ret = -1;
	}

	/* Constant folding of true/false/not/allof/anyof lets a block that can
	   never run be skipped, as Pigeonhole does. */
	if (def->flags & (SV_CF_SUBTEST_ONE | SV_CF_SUBTEST_LIST)) {
		int cv = -1;
		if (validate_tests(v, n, &cv) < 0)
			ret = -1;
		if (strcmp(def->name, "not") == 0)
			*const_r = cv < 0 ? -1 : !cv;
		else
			*const_r = cv;
	} else if (c->ext == 0 && strcmp(def->name, "true") == 0) {
		*const_r = 1;
	} else if (c->ext == 0 && strcmp(def->name, "false") == 0) {
		*const_r = 0;
	} else if (ret == 0 && c->constant != 0) {
		*const_r = c->constant > 0;   /* decided by its validate hook (ihave) */
	}

	if (n->kind == AST_COMMAND && n->has_block &&
	    (def->flags & (SV_CF_BLOCK_ALLOWED | SV_CF_BLOCK_REQUIRED))) {
		bool skip = false;
		if (c->ext == 0 && (strcmp(def->name, "if") == 0 || strcmp(def->name, "elsif") == 0)) {
			c->data = (void *)(intptr_t)(*const_r == 0 ? 1 : 0);
			skip = ret == 0 && *const_r == 0;
		}
		if (!skip && validate_block(v, n->block, depth + 1) < 0)
			ret = -1;
	}
	return ret;
}

/* Validates the sub-tests of node; *const_r is the folded value for
 * allof/anyof (-1 when not constant). */
static int validate_tests(struct sieve_validator *v, struct ast_node *node, int *const_r)
{
	int ret = 0;
	if (node->tests != NULL && v->test_depth + 1 > v->max_test_nesting) {
		sieve_validator_error(v, node->tests->loc, "cannot nest tests deeper than %llu levels",
				      (unsigned long long)v->max_test_nesting);
		*const_r = -1;
		return -1;
	}
	v->test_depth++;
	ret = validate_tests_list(v, node, const_r);
	v->test_depth--;
	return ret;
}

static int validate_tests_list(struct sieve_validator *v, struct ast_node *node, int *const_r)
{
	int ret = 0;
	struct sieve_cmd *pc = node->vdata;
	bool is_all = pc != NULL && strcmp(pc->def->name, "allof") == 0;
	bool is_any = pc != NULL && strcmp(pc->def->name, "anyof") == 0;
	int folded = is_all ? 1 : (is_any ? 0 : -1);
	bool any_unknown = false;
	for (struct ast_node *t = node->tests; t != NULL; t = t->next) {
		struct sieve_cmd *tc = validate_context(v, t);
		int cv = -1;
		if (tc == NULL) {
			ret = -1;
			continue;
		}
		if (validate_command(v, tc, &cv, 0) < 0)
			ret = -1;
		if (is_all) {
			if (cv == 0)
				folded = 0;
			else if (cv < 0)
				any_unknown = true;
		} else if (is_any) {
			if (cv == 1)
				folded = 1;
			else if (cv < 0)
				any_unknown = true;
		} else {
			folded = cv;
		}
	}
	if ((is_all && folded == 1 && any_unknown) || (is_any && folded == 0 && any_unknown))
		folded = -1;
	*const_r = folded;
	return ret;
}

static int validate_block(struct sieve_validator *v, struct ast_node *first, int depth)
{
	int ret = 0;
	/* The parser's ceiling (AST_MAX_BLOCK_NESTING) bounds its own stack;
	   an admin may set a lower limit. */
	if (first != NULL && (uint64_t)depth > v->max_block_nesting) {
		sieve_validator_error(v, first->loc, "cannot nest command blocks deeper than %llu levels",
				      (unsigned long long)v->max_block_nesting);
		return -1;
	}
	struct sieve_cmd *prev = NULL;
	for (struct ast_node *n = first; n != NULL; n = n->next) {
		if (n->parent == NULL && !v->finished_require && strcasecmp(n->ident, "require") != 0)
			v->finished_require = true;
		struct sieve_cmd *c = validate_context(v, n);
		if (c == NULL) {
			ret = -1;
			prev = NULL;
			continue;
		}
		/* elsif/else must follow if/elsif. */
		if (c->ext == 0 && (strcmp(c->def->name, "elsif") == 0 || strcmp(c->def->name, "else") == 0)) {
			if (prev == NULL || prev->ext != 0 ||
			    (strcmp(prev->def->name, "if") != 0 && strcmp(prev->def->name, "elsif") != 0)) {
				sieve_validator_error(v, n->loc, "the %s command must follow an if or elseif command",
						      c->def->name);
				ret = -1;
				prev = c;
				n->vdata = NULL;
				/* still validate what is inside */
				if (n->has_block)
					(void)validate_block(v, n->block, depth + 1);
				continue;
			}
		}
		int cv;
		if (validate_command(v, c, &cv, depth) < 0) {
			ret = -1;
			n->vdata = c;   /* keep the annotation for chaining */
		}
		prev = c;
	}
	return ret;
}

int sieve_validate(struct sieve_validator *v, struct ast_script *s)
{
	int ret = validate_block(v, s->commands, 0);
	if (v->errors > 0)
		ret = -1;
	return ret;
}

struct sieve_validator *sieve_validator_create(struct arena *a, const struct sieve_compile_params *p,
					       const struct sieve_config *cfg, struct diag_list *diags)
{
	struct sieve_validator *v = arena_alloc(a, sizeof(*v));
	v->arena = a;
	v->params = p;
	v->cfg = cfg;
	v->diags = diags;
	v->script_name = p->script_name;
	v->required = arena_alloc(a, sizeof(bool) * (sieve_extension_count() + 1));
	v->ext_data = arena_alloc(a, sizeof(void *) * (sieve_extension_count() + 1));
	v->max_vars = sieve_config_uint(cfg, "sieve_variables_max_scope_size", 255);
	v->max_block_nesting = sieve_config_uint(cfg, "sieve_max_block_nesting", AST_MAX_BLOCK_NESTING);
	v->max_test_nesting = sieve_config_uint(cfg, "sieve_max_test_nesting", AST_MAX_TEST_NESTING);
	return v;
}
