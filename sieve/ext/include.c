/* include.c: the include extension (RFC 6609): "include [:personal |
 * :global] [:once] [:optional] <name>", "return", and "global <names>"
 * with the "global." variables namespace; also Pigeonhole's deprecated
 * "import"/"export" spellings of global.
 *
 * As in Pigeonhole, an included script is compiled when its includer is
 * generated, into the same binary: the generator's `generate` hook below
 * loads each script named by an include (through the host), parses,
 * validates and generates it after the code already there, recursively,
 * so that one binary holds the main script and everything it includes
 * (binary.c's SCRIPTS table).  Errors about missing scripts are
 * validation errors; circular includes, the nesting depth and the number
 * of includes are code generation errors, worded as Pigeonhole's.
 *
 * At run time an include runs its script's code range with fresh local
 * variables in a nested interpreter loop; global variables are the
 * runtime's rt->globals, shared by every script of the binary.  "return"
 * jumps to the END of the running script's range. */
#include "sieve/validator.h"
#include "lib/utf8.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define INC_DEFAULT_MAX_NESTING   10
#define INC_DEFAULT_MAX_INCLUDES  255
#define INC_MAX_NAME_CHARS        256   /* Pigeonhole's SIEVE_MAX_SCRIPT_NAME_LEN */
/* Nested interpreter loops are C recursion: bound them whatever a binary
   says (its own nesting was bounded by the settings when compiled). */
#define INC_RUNTIME_MAX_DEPTH     64
#define INC_MAX_SOURCE            (64u << 20)

/* ------------------------------------------------------------------ */
/* Compile-time state                                                  */

/* The global variable scope shared by a script and everything it
 * includes: names in slot order (slot = index). */
struct inc_globals {
	struct arena *arena;        /* the main compile's arena */
	char **names;
	size_t n, cap, max;
	/* What the host answered for each script looked up in this compile,
	   so that a script named by many include commands (or many scripts)
	   is read once: a hash table of (location, name). */
	struct inc_source **sources;
	size_t nsources, sources_cap;
};

struct inc_source {
	bool global;
	const char *name;
	int result;                 /* the host's answer: 1, 0, -1, -2 */
	const char *path, *err;
	const char *src;
	size_t len;
};

/* One include command of a script, recorded by its validation and
 * acted upon when the script's code has been generated. */
struct inc_record {
	struct inc_record *next;
	struct ast_loc loc;
	bool global, once, optional;
	bool missing;               /* :optional and not found */
	const char *name;
	const char *path;
	const char *src;
	size_t len;
};

/* Per validated script (validator ext_data). */
struct inc_vctx {
	struct inc_vctx *parent;    /* the includer; NULL for the main script */
	unsigned depth;
	bool global;                /* location this script was included from */
	const char *name;
	const char *path;
	struct inc_globals *globals;
	/* plain names this script imported with "global": alias -> slot */
	char **imports; unsigned *import_slots; size_t nimports, imports_cap;
	struct inc_record *incs, **incs_tail;
	const struct ast_node *require_node;   /* where import/export placement is checked from */
};

static int include_ext_index(void)
{
	return sieve_extension_index("include");
}

static size_t globals_max_scope(const struct sieve_config *cfg)
{
	/* As the variables extension: below RFC 5229's minimum the setting is
	   ignored; above 65536 it is capped (the binary's limit). */
	uint64_t v = sieve_config_uint(cfg, "sieve_variables_max_scope_size", 255);
	if (v < 128)
		v = 255;
	if (v > 65536)
		v = 65536;
	return (size_t)v;
}

static struct inc_vctx *vctx_new(struct sieve_validator *v, struct inc_vctx *parent, bool global,
				 const char *name, const char *path)
{
	struct arena *a = sieve_validator_arena(v);
	struct inc_vctx *ctx = arena_alloc(a, sizeof(*ctx));
	ctx->parent = parent;
	ctx->depth = parent != NULL ? parent->depth + 1 : 0;
	ctx->global = global;
	ctx->name = arena_strdup(a, name != NULL ? name : "");
	ctx->path = path != NULL ? arena_strdup(a, path) : NULL;
	ctx->incs_tail = &ctx->incs;
	if (parent != NULL) {
		ctx->globals = parent->globals;
	} else {
		ctx->globals = arena_alloc(a, sizeof(*ctx->globals));
		ctx->globals->arena = a;
		ctx->globals->max = globals_max_scope(sieve_validator_config(v));
	}
	return ctx;
}

/* The include state of the script v validates (created for the main
 * script on first use; included scripts get theirs before validation). */
static struct inc_vctx *vctx_get(struct sieve_validator *v)
{
	int idx = include_ext_index();
	/* The registry places include well within ext_data: anything else is
	   a build mistake, not input. */
	if (idx < 0 || (size_t)idx >= sieve_extension_count())
		abort();
	if (v->ext_data[idx] == NULL)
		v->ext_data[idx] = vctx_new(v, NULL, false, v->script_name, v->params->script_path);
	return v->ext_data[idx];
}

/* Slot of global `name`, declaring it; -1 when the scope is full. */
static int globals_declare(struct inc_globals *g, const char *name, size_t len)
{
	for (size_t i = 0; i < g->n; i++)
		if (strlen(g->names[i]) == len && strncasecmp(g->names[i], name, len) == 0)
			return (int)i;
	if (g->n >= g->max)
		return -1;
	if (g->n == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 16;
		g->names = arena_grow(g->arena, g->names, g->cap, nc, sizeof(char *));
		g->cap = nc;
	}
	g->names[g->n] = arena_strndup(g->arena, name, len);
	return (int)g->n++;
}

static int vctx_imported(const struct inc_vctx *ctx, const char *name, size_t len)
{
	for (size_t i = 0; i < ctx->nimports; i++)
		if (strlen(ctx->imports[i]) == len && strncasecmp(ctx->imports[i], name, len) == 0)
			return (int)ctx->import_slots[i];
	return -1;
}

static void vctx_import(struct sieve_validator *v, struct inc_vctx *ctx, const char *name, size_t len,
			unsigned slot)
{
	if (vctx_imported(ctx, name, len) >= 0)
		return;
	struct arena *a = sieve_validator_arena(v);
	if (ctx->nimports == ctx->imports_cap) {
		size_t nc = ctx->imports_cap ? ctx->imports_cap * 2 : 8;
		ctx->imports = arena_grow(a, ctx->imports, ctx->imports_cap, nc, sizeof(char *));
		ctx->import_slots = arena_grow(a, ctx->import_slots, ctx->imports_cap, nc, sizeof(unsigned));
		ctx->imports_cap = nc;
	}
	ctx->imports[ctx->nimports] = arena_strndup(a, name, len);
	ctx->import_slots[ctx->nimports] = slot;
	ctx->nimports++;
}

/* ------------------------------------------------------------------ */
/* Script names                                                        */

/* Pigeonhole's sieve_script_name_is_valid(): 1 to 256 characters of valid
 * UTF-8, none of them a control character (C0, DEL, C1), '/', or U+2028 /
 * U+2029 (RFC 5198's line and paragraph separators). */
static bool script_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > INC_MAX_NAME_CHARS * 4)
		return false;
	size_t chars = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode((const unsigned char *)name + i, len - i, &cp, UTF8_LAX);
		if (n == 0 || cp <= 0x1f || cp == '/' || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
		    cp == 0x2028 || cp == 0x2029)
			return false;
		i += n;
		chars++;
	}
	return chars <= INC_MAX_NAME_CHARS;
}

static const char *location_name(bool global)
{
	return global ? "global" : "personal";
}

/* ------------------------------------------------------------------ */
/* include                                                             */

static size_t source_hash(bool global, const char *name)
{
	size_t h = global ? 2166136261u : 16777619u;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* The host's answer for a script, asked once per compile. */
static const struct inc_source *source_get(struct sieve_validator *v, struct inc_globals *g, bool global,
					   const char *name)
{
	if (g->sources_cap == 0 || (g->nsources + 1) * 2 > g->sources_cap) {
		size_t nc = g->sources_cap ? g->sources_cap * 2 : 64;
		struct inc_source **ns = arena_alloc(g->arena, sizeof(*ns) * nc);
		for (size_t i = 0; i < g->sources_cap; i++) {
			struct inc_source *e = g->sources[i];
			if (e == NULL)
				continue;
			size_t j = source_hash(e->global, e->name) & (nc - 1);
			while (ns[j] != NULL)
				j = (j + 1) & (nc - 1);
			ns[j] = e;
		}
		g->sources = ns;
		g->sources_cap = nc;
	}
	size_t j = source_hash(global, name) & (g->sources_cap - 1);
	while (g->sources[j] != NULL) {
		struct inc_source *e = g->sources[j];
		if (e->global == global && strcmp(e->name, name) == 0)
			return e;
		j = (j + 1) & (g->sources_cap - 1);
	}
	struct inc_source *e = arena_alloc(g->arena, sizeof(*e));
	e->global = global;
	e->name = arena_strdup(g->arena, name);
	e->err = "unknown error";
	const struct sieve_host *host = v->params->host;
	struct strbuf src = STRBUF_INIT;
	const char *path = NULL, *err = NULL;
	e->result = host != NULL && host->include_load != NULL ?
		host->include_load(host->ctx, global, name, &src, &path, &err) : 0;
	if (e->result < 0 && err != NULL)
		e->err = arena_strdup(g->arena, err);
	if (e->result > 0) {
		e->path = arena_strdup(g->arena, path != NULL ? path : "");
		e->src = arena_memdup(g->arena, src.data != NULL ? src.data : "", src.len);
		e->len = src.len;
	}
	strbuf_free(&src);
	g->sources[j] = e;
	g->nsources++;
	return e;
}

static const struct sieve_tag_def tag_personal = { "personal", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_global = { "global", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_once = { "once", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_optional = { "optional", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def *const include_tags[] = {
	&tag_personal, &tag_global, &tag_once, &tag_optional, NULL
};

static int include_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct inc_vctx *ctx = vctx_get(v);
	const struct sieve_ctag *personal = sieve_cmd_tag(c, "personal");
	const struct sieve_ctag *global = sieve_cmd_tag(c, "global");
	/* :once and :optional may be repeated (SV_CF_TAG_REPEAT), a location
	   tag may not: the validator kept only the first of identical tags,
	   so count them in the command's own arguments. */
	unsigned nloc = 0;
	for (const struct ast_arg *t = c->node->args; t != NULL && t->kind == AST_ARG_TAG; t = t->next) {
		if (strcmp(t->u.tag, "personal") != 0 && strcmp(t->u.tag, "global") != 0)
			continue;
		if (++nloc > 1) {
			sieve_validator_error(v, t->loc,
				"include: cannot use location tags ':personal' and ':global' multiple times");
			return -1;
		}
	}
	if (personal != NULL && global != NULL) {
		const struct sieve_ctag *second = personal->loc.line > global->loc.line ||
			(personal->loc.line == global->loc.line && personal->loc.col > global->loc.col) ?
			personal : global;
		sieve_validator_error(v, second->loc,
			"include: cannot use location tags ':personal' and ':global' multiple times");
		return -1;
	}
	const struct sieve_cstring *s = &c->pos[0].strs[0];
	if (!sieve_cstring_is_const(s)) {
		sieve_validator_error(v, s->loc,
			"the include command requires a constant string for its value argument");
		return -1;
	}
	struct arena *a = sieve_validator_arena(v);
	if (memchr(s->data, '\0', s->len) != NULL || !script_name_valid(s->data, s->len)) {
		sieve_validator_error(v, s->loc, "include: invalid script name '%s'",
				      sieve_str_sanitize(a, s->data, s->len, 80));
		return -1;
	}
	bool is_global = global != NULL;
	bool optional = sieve_cmd_tag(c, "optional") != NULL;
	const struct inc_source *so = source_get(v, ctx->globals, is_global, s->data);
	int r = so->result;
	const char *err = so->err;
	if (r == -2) {
		sieve_validator_error(v, s->loc,
			"include: %s location for included script `%s' is unavailable "
			"(contact system administrator for more information)",
			location_name(is_global), sieve_str_sanitize(a, s->data, s->len, 80));
		return -1;
	}
	if (r < 0) {
		sieve_validator_error(v, s->loc, "failed to open included %s script '%s': %s",
				      location_name(is_global), sieve_str_sanitize(a, s->data, s->len, 80), err);
		return -1;
	}
	if (r == 0 && !optional && v->params->uploaded) {
		sieve_validator_warning(v, s->loc, "included %s script '%s' does not exist (ignored during upload)",
					location_name(is_global), sieve_str_sanitize(a, s->data, s->len, 80));
	} else if (r == 0 && !optional) {
		sieve_validator_error(v, s->loc, "included %s script '%s' does not exist",
				      location_name(is_global), sieve_str_sanitize(a, s->data, s->len, 80));
		return -1;
	}
	struct inc_record *rec = arena_alloc(a, sizeof(*rec));
	rec->loc = c->node->loc;
	rec->global = is_global;
	rec->once = sieve_cmd_tag(c, "once") != NULL;
	rec->optional = optional;
	rec->missing = r == 0;
	rec->name = arena_strndup(a, s->data, s->len);
	if (r > 0) {
		rec->path = so->path;
		rec->src = so->src;
		rec->len = so->len;
	}
	*ctx->incs_tail = rec;
	ctx->incs_tail = &rec->next;
	return 0;
}

/* The runtime's include state. */
struct inc_run {
	size_t depth;
	uint32_t *stack;            /* entries of the scripts running, innermost last */
	unsigned char *ran;         /* per entry: has been included */
};

static struct inc_run *inc_run_get(struct sieve_runtime *rt)
{
	struct inc_run *run = sieve_runtime_ext_ctx(rt, "include");
	if (run == NULL) {
		size_t n = rt->bin->nscripts;
		run = arena_alloc(rt->arena, sizeof(*run));
		run->stack = arena_alloc(rt->arena, sizeof(uint32_t) * (n + 1));
		run->ran = arena_alloc(rt->arena, n + 1);
		sieve_runtime_set_ext_ctx(rt, "include", run);
	}
	return run;
}

static int include_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_binary *b = rt->bin;
	struct sieve_string name = sieve_opd_string(rt, &a->pos[0]);
	bool global = sieve_args_tag(a, "global") != NULL;
	bool once = sieve_args_tag(a, "once") != NULL;
	int idx = -1;
	for (size_t i = 1; i < b->nscripts && idx < 0; i++) {
		const struct sieve_bin_script *e = &b->scripts[i];
		if (((e->flags & SV_BS_GLOBAL) != 0) == global && strlen(e->name) == name.len &&
		    memcmp(e->name, name.p, name.len) == 0)
			idx = (int)i;
	}
	if (idx < 0) {
		sieve_runtime_error(rt, a, "include: binary lacks included script '%.*s'",
				    (int)(name.len > 80 ? 80 : name.len), name.p);
		return SIEVE_BIN_CORRUPT;
	}
	const struct sieve_bin_script *e = &b->scripts[idx];
	/* An :optional script that did not exist when compiled. */
	if (e->flags & SV_BS_MISSING)
		return SIEVE_OK;
	struct inc_run *run = inc_run_get(rt);
	if (once && run->ran[idx])
		return SIEVE_OK;
	run->ran[idx] = 1;
	/* The compiler refused circular includes; do not trust a binary. */
	for (size_t k = 0; k < run->depth; k++) {
		if (run->stack[k] == (uint32_t)idx) {
			sieve_runtime_error(rt, a, "include: circular include of script '%s'", e->name);
			return SIEVE_BIN_CORRUPT;
		}
	}
	if (run->depth >= INC_RUNTIME_MAX_DEPTH || run->depth >= b->nscripts) {
		sieve_runtime_error(rt, a, "include: nesting too deep at script '%s'", e->name);
		return SIEVE_RESOURCE_LIMIT;
	}

	/* The included script runs as a binary of its own: its name in
	   messages and action locations, its local variables and required
	   extensions; the code, constants and globals are shared. */
	struct sieve_binary *sub = arena_alloc(rt->arena, sizeof(*sub));
	*sub = *b;
	sub->script_name = e->name;
	sub->script_path = e->path;
	sub->nvars = e->nvars;
	sub->exts = e->exts;
	sub->nexts = e->nexts;
	bool mv_enabled = false;
	for (size_t i = 0; i < e->nexts; i++)
		if (strcmp(sieve_extensions[e->exts[i]]->name, "variables") == 0)
			mv_enabled = true;

	size_t saved_pc = rt->pc;
	struct sieve_string *saved_vars = rt->vars;
	size_t saved_nvars = rt->nvars;
	struct match_values saved_mv = rt->mv;
	bool saved_mv_enabled = rt->mv_enabled;
	int saved_line = rt->cur_line;

	rt->bin = sub;
	rt->pc = e->code_start;
	rt->nvars = e->nvars;
	rt->vars = arena_alloc(rt->arena, sizeof(*rt->vars) * (e->nvars + 1));
	memset(&rt->mv, 0, sizeof(rt->mv));
	rt->mv_enabled = mv_enabled;
	run->stack[run->depth++] = (uint32_t)idx;

	int st = sieve_interpret(rt);

	run->depth--;
	rt->bin = b;
	rt->pc = saved_pc;
	rt->vars = saved_vars;
	rt->nvars = saved_nvars;
	rt->mv = saved_mv;
	rt->mv_enabled = saved_mv_enabled;
	rt->cur_line = saved_line;
	return st > 0 ? SIEVE_OK : st;
}

static const struct sieve_pos_arg include_args[] = { { "value", SV_AT_STRING } };
static const struct sieve_command_def cmd_include = {
	"include", SV_CMD_COMMAND, SV_CF_TAG_REPEAT, include_args, 1, include_tags, include_validate, include_execute, NULL };

/* ------------------------------------------------------------------ */
/* return                                                              */

static int return_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	/* Continue at the END of the running script: the includer goes on
	   after its include (in the main script, this ends it). */
	struct inc_run *run = inc_run_get(rt);
	uint32_t cur = run->depth > 0 ? run->stack[run->depth - 1] : 0;
	rt->pc = rt->bin->scripts[cur].code_end - 1;
	return SIEVE_OK;
}

static const struct sieve_command_def cmd_return = {
	"return", SV_CMD_COMMAND, 0, NULL, 0, NULL, NULL, return_execute, NULL };

/* ------------------------------------------------------------------ */
/* global (and the deprecated import / export)                         */

static int global_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct inc_vctx *ctx = vctx_get(v);
	const char *cmd = c->def->name;
	if (strcmp(cmd, "global") != 0) {
		/* import/export: only at the top, right after require, import or
		   export (Pigeonhole looks at the previous command only). */
		const struct ast_node *n = c->node, *prev = NULL;
		bool ok = n->parent == NULL;
		if (ok && ctx->require_node != NULL) {
			for (const struct ast_node *p = ctx->require_node; p != NULL && p != n; p = p->next)
				prev = p;
			ok = prev == NULL || strcasecmp(prev->ident, "require") == 0 ||
				strcasecmp(prev->ident, "import") == 0 || strcasecmp(prev->ident, "export") == 0;
		}
		if (!ok) {
			sieve_validator_error(v, n->loc,
				"the DEPRECATED %s command can only be placed at top level "
				"at the beginning of the file after any require or import/export commands", cmd);
			return -1;
		}
	}
	if (!sieve_validator_ext_required(v, "variables")) {
		sieve_validator_error(v, c->node->loc, "%s command requires that variables extension is active",
				      cmd);
		return -1;
	}
	struct arena *a = sieve_validator_arena(v);
	const struct sieve_cval *cv = &c->pos[0];
	for (size_t i = 0; i < cv->nstrs; i++) {
		const struct sieve_cstring *s = &cv->strs[i];
		if (!sieve_identifier_valid(s->data, s->len, 64)) {
			sieve_validator_error(v, c->node->loc, "invalid variable identifier '%s'",
					      sieve_str_sanitize(a, s->data, s->len, 80));
			return -1;
		}
		int slot = globals_declare(ctx->globals, s->data, s->len);
		if (slot < 0) {
			sieve_validator_error(v, c->node->loc,
				"declaration of new global variable '%s' exceeds the limit (max variables: %zu)",
				s->data, ctx->globals->max);
			return -1;
		}
		if (vctx_imported(ctx, s->data, s->len) < 0 && sieve_validator_var_lookup(v, s->data, s->len) >= 0) {
			sieve_validator_error(v, c->node->loc,
				"declaration of new global variable '%s' conflicts with earlier local use", s->data);
			return -1;
		}
		vctx_import(v, ctx, s->data, s->len, (unsigned)slot);
	}
	return 0;
}

static const struct sieve_pos_arg global_args[] = { { "value", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_global = {
	"global", SV_CMD_COMMAND, 0, global_args, 1, NULL, global_validate, NULL, NULL };
static const struct sieve_command_def cmd_import = {
	"import", SV_CMD_COMMAND, 0, global_args, 1, NULL, global_validate, NULL, NULL };
static const struct sieve_command_def cmd_export = {
	"export", SV_CMD_COMMAND, 0, global_args, 1, NULL, global_validate, NULL, NULL };

/* ------------------------------------------------------------------ */
/* The "global." namespace and imported names                          */

static int global_ns_validate(struct sieve_validator *v, struct ast_loc loc, const char *name, size_t len,
			      bool assign, struct sieve_strpart *part)
{
	struct inc_vctx *ctx = vctx_get(v);
	/* name is "global.<rest>": the rest must be one identifier. */
	const char *dot = memchr(name, '.', len);
	if (dot == NULL)
		return 0;
	const char *rest = dot + 1;
	size_t rlen = len - (size_t)(rest - name);
	if (memchr(rest, '.', rlen) != NULL) {
		sieve_validator_error(v, loc, "invalid variable name within global namespace: "
				      "encountered sub-namespace");
		return -1;
	}
	if (rlen > 0 && rest[0] >= '0' && rest[0] <= '9') {
		sieve_validator_error(v, loc, "invalid variable name within global namespace: "
				      "encountered numeric variable name");
		return -1;
	}
	int slot = globals_declare(ctx->globals, rest, rlen);
	if (slot < 0) {
		sieve_validator_error(v, loc,
			"(implicit) declaration of new global variable '%.*s' exceeds the limit (max variables: %zu)",
			(int)rlen, rest, ctx->globals->max);
		return -1;
	}
	part->kind = SV_SP_GLOBAL;
	part->index = (unsigned)slot;
	return 0;
}

static int global_ns_import(struct sieve_validator *v, const char *name, size_t len, struct sieve_strpart *part)
{
	int idx = include_ext_index();
	if (idx < 0 || v->ext_data[idx] == NULL)
		return 0;
	int slot = vctx_imported(v->ext_data[idx], name, len);
	if (slot < 0)
		return 0;
	part->kind = SV_SP_GLOBAL;
	part->index = (unsigned)slot;
	return 1;
}

static const struct sieve_var_namespace global_namespace = {
	.name = "global",
	.validate = global_ns_validate,
};

/* ------------------------------------------------------------------ */
/* Code generation: compiling the included scripts                     */

static bool same_script(const struct inc_vctx *p, const struct inc_record *rec)
{
	if (p->global != rec->global || strcmp(p->name, rec->name) != 0)
		return false;
	/* Where both are files, they must be the same one (a main script
	   outside the personal location may share an included one's name). */
	if (p->path != NULL && p->path[0] != '\0' && rec->path != NULL && rec->path[0] != '\0')
		return strcmp(p->path, rec->path) == 0;
	return true;
}

static int include_one(struct sieve_codegen *g, struct sieve_validator *v, struct inc_vctx *ctx,
		       const struct inc_record *rec)
{
	const struct sieve_config *cfg = sieve_validator_config(v);
	struct arena *va = sieve_validator_arena(v);
	const char *sname = sieve_str_sanitize(va, rec->name, strlen(rec->name), 80);
	uint64_t max_depth = sieve_config_uint(cfg, "sieve_include_max_nesting_depth", INC_DEFAULT_MAX_NESTING);
	uint64_t max_includes = sieve_config_uint(cfg, "sieve_include_max_includes", INC_DEFAULT_MAX_INCLUDES);
	if (ctx->depth >= max_depth) {
		sieve_validator_error(v, rec->loc, "cannot nest includes deeper than %llu levels",
				      (unsigned long long)max_depth);
		return -1;
	}
	if (!rec->once) {
		for (const struct inc_vctx *p = ctx; p != NULL; p = p->parent) {
			if (same_script(p, rec)) {
				if (v->params->uploaded) {
					sieve_validator_warning(v, rec->loc, "circular include (ignored during upload)");
					return 0;
				}
				sieve_validator_error(v, rec->loc, "circular include");
				return -1;
			}
		}
	}
	int idx = sieve_codegen_script_find(g, rec->global, rec->name);
	if (idx >= 0) {
		/* Already in this binary: an include without :optional / :once
		   makes the script required / always run. */
		uint32_t f = sieve_codegen_script_flags(g, idx);
		if (!rec->optional)
			f &= ~(uint32_t)SV_BS_OPTIONAL;
		if (!rec->once)
			f &= ~(uint32_t)SV_BS_ONCE;
		sieve_codegen_script_set_flags(g, idx, f);
		return 0;
	}
	if (sieve_codegen_script_count(g) - 1 >= max_includes) {
		sieve_validator_error(v, rec->loc, "failed to include script '%s': no more than %llu includes allowed",
				      sname, (unsigned long long)max_includes);
		return -1;
	}
	uint32_t flags = (rec->global ? SV_BS_GLOBAL : 0) | (rec->once ? SV_BS_ONCE : 0) |
		(rec->optional ? SV_BS_OPTIONAL : 0);
	if (rec->missing) {
		sieve_codegen_script_add(g, NULL, NULL, rec->name, NULL, flags);
		return 0;
	}

	uint64_t max_size = sieve_config_uint(cfg, "sieve_max_script_size", 1024 * 1024);
	if ((max_size > 0 && rec->len > max_size) || rec->len > INC_MAX_SOURCE) {
		diag_add(v->diags, DIAG_ERROR, rec->name, 0, 0, "sieve script is too large (max %llu bytes)",
			 (unsigned long long)max_size);
		sieve_validator_error(v, rec->loc, "failed to parse included script '%s'", sname);
		return -1;
	}
	struct arena *a = arena_new(65536);
	int ret = -1;
	struct ast_script *ast = NULL;
	struct diag_list pd;
	diag_init(&pd);
	int pr = ast_parse(rec->src, rec->len, rec->name, a, &pd, &ast);
	/* The parser's closing "parse failed" is the top-level compile's
	   summary; for an included script Pigeonhole reports this instead. */
	for (size_t i = 0; i < pd.count; i++) {
		const struct diag *d = &pd.items[i];
		if (pr < 0 && i + 1 == pd.count && d->line == 0 && strcmp(d->msg, "parse failed") == 0)
			break;
		diag_add(v->diags, d->level, d->script, d->line, d->col, "%s", d->msg);
	}
	diag_free(&pd);
	if (pr < 0 || ast == NULL) {
		sieve_validator_error(v, rec->loc, "failed to parse included script '%s'", sname);
		goto out;
	}
	/* Scripts from the global location may use sieve_global_extensions;
	   personal ones may not (Pigeonhole's NOGLOBAL flag). */
	struct sieve_compile_params *pp = arena_alloc(a, sizeof(*pp));
	*pp = *v->params;
	pp->script_name = arena_strdup(a, rec->name);
	pp->script_path = arena_strdup(a, rec->path);
	pp->admin = rec->global;
	struct sieve_validator *sub = sieve_validator_create(a, pp, cfg, v->diags);
	struct inc_vctx *subctx = vctx_new(sub, ctx, rec->global, rec->name, rec->path);
	sub->ext_data[include_ext_index()] = subctx;
	if (sieve_validate(sub, ast) < 0) {
		sieve_validator_error(v, rec->loc, "failed to validate included script '%s'", sname);
		goto out;
	}
	if (sieve_codegen_script_add(g, ast, sub, rec->name, rec->path, flags) < 0) {
		sieve_validator_error(v, rec->loc, "failed to generate code for included script '%s'", sname);
		goto out;
	}
	ret = 0;
out:
	arena_unref(&a);
	return ret;
}

static int include_generate(struct sieve_codegen *g, struct sieve_validator *v)
{
	int idx = include_ext_index();
	struct inc_vctx *ctx = idx >= 0 ? v->ext_data[idx] : NULL;
	if (ctx == NULL)
		return 0;
	for (const struct inc_record *rec = ctx->incs; rec != NULL; rec = rec->next)
		if (include_one(g, v, ctx, rec) < 0)
			return -1;
	/* Every included script has added its globals by now. */
	if (ctx->parent == NULL)
		sieve_codegen_set_nglobals(g, (unsigned)ctx->globals->n);
	return 0;
}

static int include_on_require(struct sieve_validator *v, const struct ast_node *req)
{
	struct inc_vctx *ctx = vctx_get(v);
	if (ctx != NULL && ctx->require_node == NULL)
		ctx->require_node = req;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Script locations for hosts                                          */

static int read_file(const char *path, struct strbuf *out, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		*error_r = strerror(errno);
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*error_r = "not a regular file";
		return -1;
	}
	int ret = strbuf_read_fd(out, fd, INC_MAX_SOURCE);
	if (ret < 0)
		*error_r = errno == EFBIG ? "script too large" : strerror(errno);
	close(fd);
	return ret < 0 ? -1 : 1;
}

/* "~/x" -> "$HOME/x" (malloc'd). */
static char *expand_home(const char *p, size_t n)
{
	const char *home = getenv("HOME");
	char *r;
	if (n >= 1 && p[0] == '~' && (n == 1 || p[1] == '/') && home != NULL) {
		size_t hl = strlen(home);
		r = malloc(hl + n);
		if (r == NULL)
			abort();
		memcpy(r, home, hl);
		memcpy(r + hl, p + 1, n - 1);
		r[hl + n - 1] = '\0';
	} else {
		r = malloc(n + 1);
		if (r == NULL)
			abort();
		memcpy(r, p, n);
		r[n] = '\0';
	}
	return r;
}

/* Dovecot's file dict: a key line, then its value line.  Finds key's
 * value (copied into out); returns 1, 0 (absent) or -1. */
static int dict_lookup(const char *data, size_t len, const char *key, struct strbuf *out)
{
	size_t klen = strlen(key);
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *kend = eol != NULL ? eol : end;
		const char *v = eol != NULL ? eol + 1 : end;
		const char *veol = v < end ? memchr(v, '\n', (size_t)(end - v)) : NULL;
		const char *vend = veol != NULL ? veol : end;
		if ((size_t)(kend - p) == klen && memcmp(p, key, klen) == 0) {
			strbuf_append(out, v, (size_t)(vend - v));
			return 1;
		}
		if (veol == NULL)
			break;
		p = veol + 1;
	}
	return 0;
}

int sieve_include_location_load(const char *location, const char *name, struct strbuf *src_r,
				char **path_r, const char **error_r)
{
	*path_r = NULL;
	if (location == NULL || *location == '\0')
		return 0;
	if (strncmp(location, "dict:", 5) == 0) {
		const char *spec = location + 5;
		if (strncmp(spec, "file:", 5) != 0) {
			*error_r = "unsupported dict type";
			return -1;
		}
		spec += 5;
		size_t n = strcspn(spec, ";");
		char *dpath = expand_home(spec, n);
		struct strbuf dict = STRBUF_INIT;
		int r = read_file(dpath, &dict, error_r);
		if (r <= 0) {
			free(dpath);
			strbuf_free(&dict);
			return r == 0 ? -2 : -1;
		}
		struct strbuf key = STRBUF_INIT, id = STRBUF_INIT;
		strbuf_printf(&key, "priv/sieve/name/%s", name);
		r = dict_lookup(dict.data != NULL ? dict.data : "", dict.len, key.data, &id);
		if (r > 0) {
			strbuf_free(&key);
			strbuf_printf(&key, "priv/sieve/data/%.*s", (int)id.len, id.data != NULL ? id.data : "");
			r = dict_lookup(dict.data != NULL ? dict.data : "", dict.len, key.data, src_r);
		}
		if (r > 0) {
			size_t pl = strlen(dpath) + strlen(name) + 2;
			*path_r = malloc(pl);
			if (*path_r == NULL)
				abort();
			snprintf(*path_r, pl, "%s:%s", dpath, name);
		}
		strbuf_free(&key);
		strbuf_free(&id);
		strbuf_free(&dict);
		free(dpath);
		return r;
	}
	const char *spec = location;
	if (strncmp(spec, "file:", 5) == 0)
		spec += 5;
	size_t n = strcspn(spec, ";");
	char *dir = expand_home(spec, n);
	struct stat st;
	if (dir[0] == '\0' || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(dir);
		return -2;
	}
	size_t pl = strlen(dir) + strlen(name) + 8;
	char *path = malloc(pl);
	if (path == NULL)
		abort();
	snprintf(path, pl, "%s/%s.sieve", dir, name);
	free(dir);
	int r = read_file(path, src_r, error_r);
	if (r > 0)
		*path_r = path;
	else
		free(path);
	return r;
}

const char *sieve_include_location(const struct sieve_config *cfg, bool global)
{
	const char *v;
	if (global) {
		v = sieve_config_get(cfg, "sieve_global");
		if (v == NULL || *v == '\0')
			v = sieve_config_get(cfg, "sieve_global_dir");
	} else {
		/* "sieve" names the personal storage, unless it is a legacy
		   path to the active script file: then sieve_dir does. */
		v = sieve_config_get(cfg, "sieve");
		struct stat st;
		if (v != NULL && strncmp(v, "dict:", 5) != 0 && strncmp(v, "file:", 5) != 0 &&
		    stat(v, &st) == 0 && S_ISREG(st.st_mode))
			v = NULL;
		const char *d = sieve_config_get(cfg, "sieve_dir");
		if (v == NULL || *v == '\0')
			v = d;
	}
	return v != NULL && *v != '\0' ? v : NULL;
}

/* ------------------------------------------------------------------ */

static const struct sieve_command_def *const include_commands[] = {
	&cmd_include, &cmd_return, &cmd_global, &cmd_import, &cmd_export, NULL
};

const struct sieve_extension_def sieve_ext_include = {
	.name = "include",
	.flags = SV_EF_DEFAULT_ON,
	.commands = include_commands,
	.on_require = include_on_require,
	.var_namespace = &global_namespace,
	.var_import = global_ns_import,
	.generate = include_generate,
};
