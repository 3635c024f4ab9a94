/* codegen.c: turns the validated tree into bytecode and builds the binary
 * image (see engine.h for the encoding and binary.c for the layout).
 * Control flow uses jump lists: tests compile to short-circuit
 * JMPTRUE/JMPFALSE chains, so allof/anyof/not cost no opcodes of their own,
 * and if/elsif/else is plain jumps. */
#include "sieve/validator.h"
#include "sieve/binary-format.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jumplist {
	size_t *at;        /* offsets of u32 jump targets to patch */
	size_t n, cap;
};

struct codegen {
	struct sieve_validator *v;
	struct strbuf code;
	struct strbuf pool;
	/* const-pool dedup: open addressing over (hash -> offset+1) */
	uint32_t *hslots; size_t hcap, hcount;
	uint32_t *cmd_names; size_t ncmds, cmds_cap;     /* pool offsets of "ext/name" */
	const struct sieve_command_def **cmd_defs;
	uint32_t *tag_names; size_t ntags, tags_cap;
	const struct sieve_tag_def **tag_defs;
	uint32_t *lines; size_t nlines, lines_cap;        /* pairs pc, line */
	int last_line;
	bool failed;
	/* The scripts of the binary (include): entry 0 is the main one. */
	struct cg_script {
		uint32_t start, end, nvars, flags, name_off, path_off, ext_first, nexts;
	} *scripts;
	size_t nscripts, scripts_cap;
	uint32_t *script_exts; size_t nscript_exts, script_exts_cap;   /* name offsets */
	unsigned nglobals;
	struct sieve_codegen *pub;
};

/* What extensions' generate hooks see of the generator. */
struct sieve_codegen {
	struct codegen *g;
};

static void jl_add(struct codegen *g, struct jumplist *jl, size_t at)
{
	if (jl->n == jl->cap) {
		jl->cap = jl->cap ? jl->cap * 2 : 8;
		jl->at = realloc(jl->at, jl->cap * sizeof(*jl->at));
		if (jl->at == NULL)
			abort();
	}
	jl->at[jl->n++] = at;
}

static void put_u32_at(struct codegen *g, size_t at, uint32_t v)
{
	memcpy(g->code.data + at, &v, 4);
}

static void jl_resolve(struct codegen *g, struct jumplist *jl)
{
	for (size_t i = 0; i < jl->n; i++)
		put_u32_at(g, jl->at[i], (uint32_t)g->code.len);
	free(jl->at);
	jl->at = NULL;
	jl->n = jl->cap = 0;
}

static void emit_u8(struct codegen *g, unsigned v)
{
	strbuf_putc(&g->code, (char)(unsigned char)v);
}

static void emit_varint(struct codegen *g, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = sieve_varint_put(tmp, v);
	strbuf_append(&g->code, tmp, n);
}

static size_t emit_u32(struct codegen *g, uint32_t v)
{
	size_t at = g->code.len;
	strbuf_append(&g->code, &v, 4);
	return at;
}

static uint32_t hash_bytes(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

/* Adds a string to the constant pool (deduplicated); returns its offset. */
static uint32_t pool_add(struct codegen *g, const char *s, size_t n)
{
	if (g->hcount * 2 >= g->hcap) {
		size_t ncap = g->hcap ? g->hcap * 2 : 256;
		uint32_t *ns = calloc(ncap, sizeof(*ns));
		if (ns == NULL)
			abort();
		for (size_t i = 0; i < g->hcap; i++) {
			if (g->hslots[i] == 0)
				continue;
			uint32_t off = g->hslots[i] - 1;
			uint32_t len;
			memcpy(&len, g->pool.data + off, 4);
			size_t j = hash_bytes(g->pool.data + off + 4, len) & (ncap - 1);
			while (ns[j] != 0)
				j = (j + 1) & (ncap - 1);
			ns[j] = g->hslots[i];
		}
		free(g->hslots);
		g->hslots = ns;
		g->hcap = ncap;
	}
	size_t j = hash_bytes(s, n) & (g->hcap - 1);
	while (g->hslots[j] != 0) {
		uint32_t off = g->hslots[j] - 1;
		uint32_t len;
		memcpy(&len, g->pool.data + off, 4);
		if (len == n && memcmp(g->pool.data + off + 4, s, n) == 0)
			return off;
		j = (j + 1) & (g->hcap - 1);
	}
	uint32_t off = (uint32_t)g->pool.len;
	uint32_t len = (uint32_t)n;
	strbuf_append(&g->pool, &len, 4);
	strbuf_append(&g->pool, s, n);
	static const char zeros[4] = { 0, 0, 0, 0 };
	size_t pad = 4 - ((4 + n) % 4);   /* at least one NUL */
	strbuf_append(&g->pool, zeros, pad);
	g->hslots[j] = off + 1;
	g->hcount++;
	return off;
}

static uint32_t cmd_index(struct codegen *g, const struct sieve_command_def *def, int ext)
{
	for (size_t i = 0; i < g->ncmds; i++)
		if (g->cmd_defs[i] == def)
			return (uint32_t)i;
	if (g->ncmds == g->cmds_cap) {
		g->cmds_cap = g->cmds_cap ? g->cmds_cap * 2 : 16;
		g->cmd_names = realloc(g->cmd_names, g->cmds_cap * sizeof(*g->cmd_names));
		g->cmd_defs = realloc(g->cmd_defs, g->cmds_cap * sizeof(*g->cmd_defs));
		if (g->cmd_names == NULL || g->cmd_defs == NULL)
			abort();
	}
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%s/%s", sieve_extensions[ext]->name, def->name);
	g->cmd_names[g->ncmds] = pool_add(g, buf, (size_t)n);
	g->cmd_defs[g->ncmds] = def;
	return (uint32_t)g->ncmds++;
}

static uint32_t tag_index(struct codegen *g, const struct sieve_tag_def *def, int ext)
{
	for (size_t i = 0; i < g->ntags; i++)
		if (g->tag_defs[i] == def)
			return (uint32_t)i;
	if (g->ntags == g->tags_cap) {
		g->tags_cap = g->tags_cap ? g->tags_cap * 2 : 16;
		g->tag_names = realloc(g->tag_names, g->tags_cap * sizeof(*g->tag_names));
		g->tag_defs = realloc(g->tag_defs, g->tags_cap * sizeof(*g->tag_defs));
		if (g->tag_names == NULL || g->tag_defs == NULL)
			abort();
	}
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%s/%s", sieve_extensions[ext]->name, def->name);
	g->tag_names[g->ntags] = pool_add(g, buf, (size_t)n);
	g->tag_defs[g->ntags] = def;
	return (uint32_t)g->ntags++;
}

static void mark_line(struct codegen *g, int line)
{
	if (line == g->last_line)
		return;
	g->last_line = line;
	if (g->nlines + 2 > g->lines_cap) {
		g->lines_cap = g->lines_cap ? g->lines_cap * 2 : 64;
		g->lines = realloc(g->lines, g->lines_cap * sizeof(*g->lines));
		if (g->lines == NULL)
			abort();
	}
	g->lines[g->nlines++] = (uint32_t)g->code.len;
	g->lines[g->nlines++] = (uint32_t)line;
}

static void emit_cstring(struct codegen *g, const struct sieve_cstring *s)
{
	if (s->nparts == 0) {
		emit_u8(g, SV_OPD_STRING);
		emit_varint(g, pool_add(g, s->data, s->len));
		return;
	}
	emit_u8(g, SV_OPD_VSTRING);
	emit_varint(g, s->nparts);
	for (size_t i = 0; i < s->nparts; i++) {
		const struct sieve_strpart *p = &s->parts[i];
		emit_u8(g, p->kind);
		if (p->kind == SV_SP_LITERAL || p->kind == SV_SP_NAMESPACE)
			emit_varint(g, pool_add(g, p->data, p->len));
		else
			emit_varint(g, p->index);
	}
}

static void emit_cval(struct codegen *g, const struct sieve_cval *cv)
{
	switch (cv->type) {
	case SV_AT_NUMBER:
		emit_u8(g, SV_OPD_NUMBER);
		emit_varint(g, cv->number);
		break;
	case SV_AT_STRING:
		emit_cstring(g, &cv->strs[0]);
		break;
	default:
		emit_u8(g, SV_OPD_STRLIST);
		emit_varint(g, cv->nstrs);
		for (size_t i = 0; i < cv->nstrs; i++)
			emit_cstring(g, &cv->strs[i]);
		break;
	}
}

static void emit_command(struct codegen *g, enum sieve_opcode op, struct sieve_cmd *c)
{
	mark_line(g, c->node->loc.line);
	emit_u8(g, op);
	emit_varint(g, cmd_index(g, c->def, c->ext));
	emit_u8(g, c->ntags);
	for (unsigned i = 0; i < c->ntags; i++) {
		emit_varint(g, tag_index(g, c->tags[i].def, c->tags[i].ext));
		if (c->tags[i].def->param != 0)
			emit_cval(g, &c->tags[i].val);
	}
	emit_u8(g, c->npos);
	for (unsigned i = 0; i < c->npos; i++)
		emit_cval(g, &c->pos[i]);
}

static bool is_core(const struct sieve_cmd *c, const char *name)
{
	return c->ext == 0 && strcmp(c->def->name, name) == 0;
}

static void gen_block(struct codegen *g, struct ast_node *first);

static void gen_test(struct codegen *g, struct ast_node *t, struct jumplist *jl, bool jump_if_true)
{
	struct sieve_cmd *c = t->vdata;
	if (c == NULL) {
		g->failed = true;
		return;
	}
	if (is_core(c, "true") || is_core(c, "false")) {
		bool val = is_core(c, "true");
		if (val == jump_if_true) {
			mark_line(g, t->loc.line);
			emit_u8(g, SV_OP_JMP);
			jl_add(g, jl, emit_u32(g, 0));
		}
		return;
	}
	if (is_core(c, "not")) {
		gen_test(g, t->tests, jl, !jump_if_true);
		return;
	}
	bool all = is_core(c, "allof"), any = is_core(c, "anyof");
	if (all || any) {
		/* allof jumping on false / anyof jumping on true: every child
		   jumps straight to the target.  Otherwise the children jump past
		   the last one, which alone decides. */
		if ((all && !jump_if_true) || (any && jump_if_true)) {
			for (struct ast_node *s = t->tests; s != NULL; s = s->next)
				gen_test(g, s, jl, jump_if_true);
			return;
		}
		struct jumplist local = { 0 };
		for (struct ast_node *s = t->tests; s != NULL; s = s->next) {
			if (s->next == NULL)
				gen_test(g, s, jl, jump_if_true);
			else
				gen_test(g, s, &local, !jump_if_true);
		}
		jl_resolve(g, &local);
		return;
	}
	emit_command(g, SV_OP_TEST, c);
	emit_u8(g, jump_if_true ? SV_OP_JMPTRUE : SV_OP_JMPFALSE);
	jl_add(g, jl, emit_u32(g, 0));
}

/* Generates an if/elsif/else chain starting at n; returns the last node of
 * the chain. */
static struct ast_node *gen_if_chain(struct codegen *g, struct ast_node *n)
{
	struct jumplist exits = { 0 };
	for (;;) {
		struct sieve_cmd *c = n->vdata;
		if (is_core(c, "else")) {
			gen_block(g, n->block);
			break;
		}
		struct jumplist next = { 0 };
		bool skip = (intptr_t)c->data == 1;
		gen_test(g, n->tests, &next, false);
		if (!skip)
			gen_block(g, n->block);
		struct ast_node *nx = n->next;
		struct sieve_cmd *nc = nx != NULL ? nx->vdata : NULL;
		bool more = nc != NULL && (is_core(nc, "elsif") || is_core(nc, "else"));
		if (more) {
			emit_u8(g, SV_OP_JMP);
			jl_add(g, &exits, emit_u32(g, 0));
		}
		jl_resolve(g, &next);
		if (!more)
			break;
		n = nx;
	}
	jl_resolve(g, &exits);
	return n;
}

static void gen_block(struct codegen *g, struct ast_node *first)
{
	for (struct ast_node *n = first; n != NULL; n = n->next) {
		struct sieve_cmd *c = n->vdata;
		if (c == NULL) {
			g->failed = true;
			continue;
		}
		if (is_core(c, "require"))
			continue;
		if (is_core(c, "if")) {
			n = gen_if_chain(g, n);
			continue;
		}
		if (is_core(c, "elsif") || is_core(c, "else")) {
			g->failed = true;   /* validator reports misplaced ones */
			continue;
		}
		if (n->has_block) {
			size_t start = g->code.len;
			emit_command(g, SV_OP_BLOCK, c);
			size_t end_at = emit_u32(g, 0);
			gen_block(g, n->block);
			mark_line(g, n->loc.line);
			emit_u8(g, SV_OP_BLOCKEND);
			emit_u32(g, (uint32_t)start);
			put_u32_at(g, end_at, (uint32_t)g->code.len);
			continue;
		}
		emit_command(g, SV_OP_CMD, c);
	}
}

/* Generates one script after what is there; its code ends in END. */
static void gen_script(struct codegen *g, struct ast_script *s)
{
	g->last_line = -1;
	gen_block(g, s->commands);
	mark_line(g, g->last_line < 0 ? 1 : g->last_line);
	emit_u8(g, SV_OP_END);
}

static int script_entry_new(struct codegen *g, const char *name, const char *path, uint32_t flags)
{
	if (g->nscripts == g->scripts_cap) {
		g->scripts_cap = g->scripts_cap ? g->scripts_cap * 2 : 8;
		g->scripts = realloc(g->scripts, g->scripts_cap * sizeof(*g->scripts));
		if (g->scripts == NULL)
			abort();
	}
	struct cg_script *e = &g->scripts[g->nscripts];
	memset(e, 0, sizeof(*e));
	e->flags = flags;
	e->name_off = pool_add(g, name, strlen(name));
	e->path_off = pool_add(g, path != NULL ? path : "", path != NULL ? strlen(path) : 0);
	return (int)g->nscripts++;
}

/* Generates s as entry idx and runs its extensions' generate hooks
   (which may append more scripts).  Returns -1 when a hook failed. */
static int script_generate(struct codegen *g, int idx, struct ast_script *s, struct sieve_validator *v)
{
	struct sieve_validator *saved = g->v;
	g->v = v;
	uint32_t start = (uint32_t)g->code.len;
	gen_script(g, s);
	struct cg_script *e = &g->scripts[idx];
	e->start = start;
	e->end = (uint32_t)g->code.len;
	e->nvars = (uint32_t)v->nvars;
	e->ext_first = (uint32_t)g->nscript_exts;
	for (size_t i = 0; i < sieve_extension_count(); i++) {
		if (!v->required[i] || idx == 0)
			continue;
		if (g->nscript_exts == g->script_exts_cap) {
			g->script_exts_cap = g->script_exts_cap ? g->script_exts_cap * 2 : 16;
			g->script_exts = realloc(g->script_exts, g->script_exts_cap * sizeof(*g->script_exts));
			if (g->script_exts == NULL)
				abort();
		}
		g->script_exts[g->nscript_exts++] =
			pool_add(g, sieve_extensions[i]->name, strlen(sieve_extensions[i]->name));
	}
	e->nexts = (uint32_t)g->nscript_exts - e->ext_first;
	int ret = 0;
	for (size_t i = 0; i < sieve_extension_count() && ret == 0; i++) {
		if (v->required[i] && sieve_extensions[i]->generate != NULL &&
		    sieve_extensions[i]->generate(g->pub, v) < 0)
			ret = -1;
	}
	g->v = saved;
	return ret;
}

int sieve_codegen_script_find(struct sieve_codegen *pg, bool global, const char *name)
{
	struct codegen *g = pg->g;
	size_t n = strlen(name);
	for (size_t i = 0; i < g->nscripts; i++) {
		const struct cg_script *e = &g->scripts[i];
		if ((e->flags & SV_BS_MAIN) || ((e->flags & SV_BS_GLOBAL) != 0) != global)
			continue;
		uint32_t len;
		memcpy(&len, g->pool.data + e->name_off, 4);
		if (len == n && memcmp(g->pool.data + e->name_off + 4, name, n) == 0)
			return (int)i;
	}
	return -1;
}

size_t sieve_codegen_script_count(const struct sieve_codegen *pg)
{
	return pg->g->nscripts;
}

uint32_t sieve_codegen_script_flags(const struct sieve_codegen *pg, int idx)
{
	return pg->g->scripts[idx].flags;
}

void sieve_codegen_script_set_flags(struct sieve_codegen *pg, int idx, uint32_t flags)
{
	pg->g->scripts[idx].flags = flags;
}

int sieve_codegen_script_add(struct sieve_codegen *pg, struct ast_script *s, struct sieve_validator *v,
			     const char *name, const char *path, uint32_t flags)
{
	struct codegen *g = pg->g;
	if (s == NULL)
		return script_entry_new(g, name, NULL, flags | SV_BS_MISSING);
	int idx = script_entry_new(g, name, path, flags & ~(uint32_t)SV_BS_MISSING);
	return script_generate(g, idx, s, v) < 0 ? -1 : idx;
}

void sieve_codegen_set_nglobals(struct sieve_codegen *pg, unsigned n)
{
	pg->g->nglobals = n;
}

static void sec_add(struct strbuf *img, struct binfmt_section *secs, unsigned *nsec,
		    uint32_t id, const void *data, size_t len)
{
	while (img->len % 4 != 0)
		strbuf_putc(img, 0);
	secs[*nsec].id = id;
	secs[*nsec].offset = (uint32_t)img->len;
	secs[*nsec].length = (uint32_t)len;
	(*nsec)++;
	strbuf_append(img, data, len);
}

struct sieve_binary *sieve_codegen(struct ast_script *s, struct sieve_validator *v, struct diag_list *diags)
{
	struct codegen g;
	memset(&g, 0, sizeof(g));
	g.v = v;
	struct sieve_codegen pub = { &g };
	g.pub = &pub;
	const char *mname = v->script_name ? v->script_name : "";
	int main_idx = script_entry_new(&g, mname, v->params->script_path, SV_BS_MAIN);
	if (script_generate(&g, main_idx, s, v) < 0)
		g.failed = true;

	/* Tables referring into the pool. */
	struct strbuf exts = STRBUF_INIT, cmds = STRBUF_INIT, tags = STRBUF_INIT, meta = STRBUF_INIT;
	uint32_t n = 0;
	for (size_t i = 0; i < sieve_extension_count(); i++)
		if (v->required[i])
			n++;
	strbuf_append(&exts, &n, 4);
	for (size_t i = 0; i < sieve_extension_count(); i++) {
		if (!v->required[i])
			continue;
		uint32_t off = pool_add(&g, sieve_extensions[i]->name, strlen(sieve_extensions[i]->name));
		strbuf_append(&exts, &off, 4);
	}
	n = (uint32_t)g.ncmds;
	strbuf_append(&cmds, &n, 4);
	strbuf_append(&cmds, g.cmd_names, g.ncmds * 4);
	n = (uint32_t)g.ntags;
	strbuf_append(&tags, &n, 4);
	strbuf_append(&tags, g.tag_names, g.ntags * 4);
	const char *sname = v->script_name ? v->script_name : "";
	const char *spath = v->params->script_path ? v->params->script_path : "";
	uint32_t m[4] = { pool_add(&g, sname, strlen(sname)), pool_add(&g, spath, strlen(spath)),
			  (uint32_t)v->nvars, g.nglobals };
	strbuf_append(&meta, m, sizeof(m));
	uint32_t nl = (uint32_t)(g.nlines / 2);
	struct strbuf lines = STRBUF_INIT;
	strbuf_append(&lines, &nl, 4);
	strbuf_append(&lines, g.lines, g.nlines * 4);
	struct strbuf scripts = STRBUF_INIT;
	n = (uint32_t)g.nscripts;
	strbuf_append(&scripts, &n, 4);
	for (size_t i = 0; i < g.nscripts; i++) {
		const struct cg_script *e = &g.scripts[i];
		uint32_t w[8] = { e->start, e->end, e->nvars, e->flags, e->name_off, e->path_off,
				  e->ext_first, e->nexts };
		strbuf_append(&scripts, w, sizeof(w));
	}
	n = (uint32_t)g.nscript_exts;
	strbuf_append(&scripts, &n, 4);
	strbuf_append(&scripts, g.script_exts, g.nscript_exts * 4);

	struct strbuf img = STRBUF_INIT;
	struct binfmt_header hdr;
	memset(&hdr, 0, sizeof(hdr));
	struct binfmt_section secs[SV_SEC_COUNT_];
	unsigned nsec = 0;
	strbuf_append(&img, &hdr, sizeof(hdr));
	strbuf_append(&img, secs, sizeof(secs[0]) * (SV_SEC_COUNT_ - 1));
	sec_add(&img, secs, &nsec, SV_SEC_CODE, g.code.data, g.code.len);
	sec_add(&img, secs, &nsec, SV_SEC_CONST, g.pool.data, g.pool.len);
	sec_add(&img, secs, &nsec, SV_SEC_EXTS, exts.data, exts.len);
	sec_add(&img, secs, &nsec, SV_SEC_CMDS, cmds.data, cmds.len);
	sec_add(&img, secs, &nsec, SV_SEC_TAGS, tags.data, tags.len);
	sec_add(&img, secs, &nsec, SV_SEC_LINES, lines.data, lines.len);
	sec_add(&img, secs, &nsec, SV_SEC_META, meta.data, meta.len);
	sec_add(&img, secs, &nsec, SV_SEC_SCRIPTS, scripts.data, scripts.len);
	memcpy(img.data + sizeof(hdr), secs, sizeof(secs[0]) * nsec);
	hdr.magic = SIEVE_BIN_MAGIC;
	hdr.version = SIEVE_BIN_VERSION;
	hdr.nsections = nsec;
	hdr.image_len = (uint32_t)img.len;
	hdr.checksum = binfmt_checksum((const unsigned char *)img.data + sizeof(hdr), img.len - sizeof(hdr));
	memcpy(img.data, &hdr, sizeof(hdr));

	strbuf_free(&exts);
	strbuf_free(&cmds);
	strbuf_free(&tags);
	strbuf_free(&meta);
	strbuf_free(&lines);
	strbuf_free(&scripts);
	free(g.scripts);
	free(g.script_exts);
	strbuf_free(&g.code);
	strbuf_free(&g.pool);
	free(g.hslots);
	free(g.cmd_names);
	free(g.cmd_defs);
	free(g.tag_names);
	free(g.tag_defs);
	free(g.lines);

	if (g.failed) {
		diag_add(diags, DIAG_ERROR, v->script_name, 0, 0, "code generation failed");
		strbuf_free(&img);
		return NULL;
	}
	const char *err;
	size_t len;
	char *data = strbuf_detach(&img, &len);
	struct sieve_binary *b = sieve_binary_load(data, len, &err);
	free(data);
	if (b == NULL)
		diag_add(diags, DIAG_ERROR, v->script_name, 0, 0, "generated binary failed verification: %s", err);
	return b;
}
