/* interp.c: the bytecode interpreter.  It decodes one instruction at a time
 * into a struct sieve_exec_args and calls the command's execute hook; tests
 * set a flag that JMPTRUE/JMPFALSE consume.  The code was verified when the
 * binary was loaded, so decoding here does not re-check bounds.  An
 * instruction budget and a CPU-time limit stop runaway scripts; on any
 * runtime error the caller's result execution falls back to keep. */
#include "sieve/engine.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static uint64_t coarse_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sieve_runtime_error(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int line = a != NULL ? a->line : rt->cur_line;
	diag_vadd(rt->diags, DIAG_ERROR, rt->bin->script_name, line, 0, fmt, ap);
	va_end(ap);
}

void sieve_runtime_warning(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int line = a != NULL ? a->line : rt->cur_line;
	diag_vadd(rt->diags, DIAG_WARNING, rt->bin->script_name, line, 0, fmt, ap);
	va_end(ap);
}

const struct sieve_exec_tag *sieve_args_tag(const struct sieve_exec_args *a, const char *name)
{
	for (unsigned i = 0; i < a->ntags; i++)
		if (strcmp(a->tags[i].def->name, name) == 0)
			return &a->tags[i];
	return NULL;
}

const struct sieve_exec_tag *sieve_args_tag_class(const struct sieve_exec_args *a, enum sieve_tag_class cls)
{
	for (unsigned i = 0; i < a->ntags; i++)
		if (a->tags[i].def->cls == cls)
			return &a->tags[i];
	return NULL;
}

const char *sieve_rt_strdup(struct sieve_runtime *rt, struct sieve_string s)
{
	return arena_memdup(rt->arena, s.p, s.len);
}

const char *sieve_runtime_default_mailbox(struct sieve_runtime *rt)
{
	const char *m = rt->params->default_mailbox;
	return m != NULL ? m : "INBOX";
}

void *sieve_runtime_ext_ctx(struct sieve_runtime *rt, const char *ext_name)
{
	int i = sieve_extension_index(ext_name);
	return i < 0 ? NULL : rt->ext_ctx[i];
}

void sieve_runtime_set_ext_ctx(struct sieve_runtime *rt, const char *ext_name, void *ctx)
{
	int i = sieve_extension_index(ext_name);
	if (i >= 0)
		rt->ext_ctx[i] = ctx;
}

void sieve_runtime_var_set(struct sieve_runtime *rt, bool global, unsigned idx, const char *p, size_t len)
{
	struct sieve_string *slot;
	if (global) {
		if (idx >= rt->nglobals)
			return;
		slot = &rt->globals[idx];
	} else {
		if (idx >= rt->nvars)
			return;
		slot = &rt->vars[idx];
	}
	if (len > rt->max_var_size)
		len = rt->max_var_size;
	slot->p = arena_memdup(rt->arena, p, len);
	slot->len = len;
}

bool sieve_runtime_namespace_get(struct sieve_runtime *rt, const char *name, size_t len, struct sieve_string *out)
{
	/* ${tst.path}: the testsuite's own directory. */
	if (len == 8 && strncasecmp(name, "tst.path", 8) == 0 && rt->params->testsuite_dir != NULL) {
		const char *p = rt->params->testsuite_dir;
		out->p = p;
		out->len = strlen(p);
		return true;
	}
	/* Other namespaces belong to the extensions the script required. */
	for (size_t i = 0; i < rt->bin->nexts; i++) {
		const struct sieve_var_namespace *ns = sieve_extensions[rt->bin->exts[i]]->var_namespace;
		if (ns == NULL || ns->get == NULL)
			continue;
		size_t nl = strlen(ns->name);
		if (len > nl && name[nl] == '.' && strncasecmp(name, ns->name, nl) == 0)
			return ns->get(rt, name, len, out);
	}
	return false;
}

/* ---- operand decoding ---- */

static void decode_operand(const struct sieve_binary *b, size_t *pos, struct sieve_operand *o)
{
	uint64_t v;
	o->type = b->code[(*pos)++];
	switch (o->type) {
	case SV_OPD_NUMBER:
		sieve_varint_get(b->code, b->code_len, pos, &o->number);
		break;
	case SV_OPD_STRING:
		sieve_varint_get(b->code, b->code_len, pos, &v);
		o->str = sieve_binary_const(b, (uint32_t)v, &o->len);
		o->p = NULL;
		o->count = 1;
		break;
	case SV_OPD_VSTRING: {
		sieve_varint_get(b->code, b->code_len, pos, &v);
		o->count = v;
		o->p = b->code + *pos;
		for (uint64_t i = 0; i < v; i++) {
			(*pos)++;
			uint64_t x;
			sieve_varint_get(b->code, b->code_len, pos, &x);
		}
		break;
	}
	case SV_OPD_STRLIST: {
		sieve_varint_get(b->code, b->code_len, pos, &v);
		o->count = v;
		o->p = b->code + *pos;
		for (uint64_t i = 0; i < v; i++) {
			struct sieve_operand tmp;
			decode_operand(b, pos, &tmp);
		}
		break;
	}
	}
}

static struct sieve_string expand_vstring(struct sieve_runtime *rt, const unsigned char *p, size_t nparts)
{
	const struct sieve_binary *b = rt->bin;
	struct strbuf buf = STRBUF_INIT;
	size_t pos = 0;
	size_t avail = b->code_len - (size_t)(p - b->code);
	for (size_t i = 0; i < nparts; i++) {
		unsigned kind = p[pos++];
		uint64_t v;
		sieve_varint_get(p, avail, &pos, &v);
		switch (kind) {
		case SV_SP_LITERAL: {
			size_t len;
			const char *s = sieve_binary_const(b, (uint32_t)v, &len);
			strbuf_append(&buf, s, len);
			break;
		}
		case SV_SP_VARIABLE:
			if (v < rt->nvars && rt->vars[v].p != NULL)
				strbuf_append(&buf, rt->vars[v].p, rt->vars[v].len);
			break;
		case SV_SP_GLOBAL:
			if (v < rt->nglobals && rt->globals[v].p != NULL)
				strbuf_append(&buf, rt->globals[v].p, rt->globals[v].len);
			break;
		case SV_SP_MATCHVAR:
			if (v < rt->mv.count && rt->mv.v[v].p != NULL)
				strbuf_append(&buf, rt->mv.v[v].p, rt->mv.v[v].len);
			break;
		case SV_SP_NAMESPACE: {
			size_t len;
			const char *s = sieve_binary_const(b, (uint32_t)v, &len);
			struct sieve_string val;
			if (sieve_runtime_namespace_get(rt, s, len, &val))
				strbuf_append(&buf, val.p, val.len);
			break;
		}
		}
		/* A string can never grow past the variable size limit times the
		   number of parts; cap it to keep hostile scripts bounded. */
		if (buf.len > 16u * 1024 * 1024)
			break;
	}
	struct sieve_string r;
	r.len = buf.len;
	r.p = arena_memdup(rt->arena, buf.data ? buf.data : "", buf.len);
	strbuf_free(&buf);
	return r;
}

struct sieve_string sieve_opd_string(struct sieve_runtime *rt, const struct sieve_operand *o)
{
	struct sieve_string r = { "", 0 };
	if (o->type == SV_OPD_STRING) {
		r.p = o->str;
		r.len = o->len;
	} else if (o->type == SV_OPD_VSTRING) {
		r = expand_vstring(rt, o->p, o->count);
	} else if (o->type == SV_OPD_STRLIST && o->count > 0) {
		struct sieve_string *items;
		if (sieve_opd_strlist(rt, o, &items) > 0)
			r = items[0];
	}
	return r;
}

size_t sieve_opd_strlist(struct sieve_runtime *rt, const struct sieve_operand *o, struct sieve_string **items_r)
{
	if (o->type != SV_OPD_STRLIST) {
		*items_r = arena_alloc(rt->arena, sizeof(**items_r));
		(*items_r)[0] = sieve_opd_string(rt, o);
		return 1;
	}
	size_t n = o->count;
	struct sieve_string *items = arena_alloc(rt->arena, sizeof(*items) * (n ? n : 1));
	size_t pos = (size_t)(o->p - rt->bin->code);
	for (size_t i = 0; i < n; i++) {
		struct sieve_operand item;
		decode_operand(rt->bin, &pos, &item);
		items[i] = sieve_opd_string(rt, &item);
	}
	*items_r = items;
	return n;
}

static void decode_command(struct sieve_runtime *rt, size_t *pos, struct sieve_exec_args *a)
{
	const struct sieve_binary *b = rt->bin;
	uint64_t idx;
	sieve_varint_get(b->code, b->code_len, pos, &idx);
	a->def = b->cmds[idx];
	a->ext = b->cmd_ext[idx];
	a->ntags = b->code[(*pos)++];
	for (unsigned i = 0; i < a->ntags; i++) {
		uint64_t t;
		sieve_varint_get(b->code, b->code_len, pos, &t);
		a->tags[i].def = b->tags[t];
		a->tags[i].ext = b->tag_ext[t];
		a->tags[i].has_val = b->tags[t]->param != 0;
		if (a->tags[i].has_val)
			decode_operand(b, pos, &a->tags[i].val);
	}
	a->npos = b->code[(*pos)++];
	for (unsigned i = 0; i < a->npos; i++)
		decode_operand(b, pos, &a->pos[i]);
}

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* True when b uses a testsuite-only extension (vnd.dovecot.testsuite),
 * whose commands need the testsuite's context. */
static bool uses_testsuite_ext(const struct sieve_binary *b)
{
	for (size_t i = 0; i < b->ncmds; i++)
		if (sieve_extensions[b->cmd_ext[i]]->flags & SV_EF_TESTSUITE)
			return true;
	for (size_t i = 0; i < b->ntags; i++)
		if (sieve_extensions[b->tag_ext[i]]->flags & SV_EF_TESTSUITE)
			return true;
	for (size_t i = 0; i < b->nexts; i++)
		if (sieve_extensions[b->exts[i]]->flags & SV_EF_TESTSUITE)
			return true;
	return false;
}

/* Runs from rt->pc until END or stop.  Returns a sieve_status. */
static int interpret_code(struct sieve_runtime *rt)
{
	const struct sieve_binary *b = rt->bin;
	/* The verifier accepts any extension of the registry; a binary (a
	   cached .tmsbin) naming testsuite commands must not run outside the
	   testsuite, where they would find no context (NULL dereference, shown
	   with fuzz/fuzz_binary.c and a compiled testsuite script). */
	if (rt->testsuite == NULL && uses_testsuite_ext(b)) {
		sieve_runtime_error(rt, NULL, "binary uses the vnd.dovecot.testsuite extension outside the testsuite");
		return SIEVE_BIN_CORRUPT;
	}
	uint64_t count = 0;
	while (!rt->stopped) {
		if (++count > rt->instr_budget) {
			sieve_runtime_error(rt, NULL, "execution exceeded the instruction limit");
			return SIEVE_RESOURCE_LIMIT;
		}
		/* One instruction can be expensive (a regex over a big string),
		   so the CPU clock is read whenever the cheap coarse clock has
		   moved on by 10 ms, not every N instructions. */
		if (rt->cpu_limit_ns > 0 && coarse_now_ns() - rt->cpu_checked_ns > 10000000ull &&
		    (rt->cpu_checked_ns = coarse_now_ns(), cpu_now_ns() - rt->cpu_start_ns > rt->cpu_limit_ns)) {
			sieve_runtime_error(rt, NULL, "execution exceeded CPU time limit");
			return SIEVE_RESOURCE_LIMIT;
		}
		size_t pc = rt->pc;
		unsigned op = b->code[rt->pc++];
		switch (op) {
		case SV_OP_END:
			return SIEVE_OK;
		case SV_OP_JMP:
			rt->pc = get_u32(b->code + rt->pc);
			break;
		case SV_OP_JMPTRUE:
			rt->pc = rt->test_result ? get_u32(b->code + rt->pc) : rt->pc + 4;
			break;
		case SV_OP_JMPFALSE:
			rt->pc = !rt->test_result ? get_u32(b->code + rt->pc) : rt->pc + 4;
			break;
		case SV_OP_BLOCKEND: {
			uint32_t start = get_u32(b->code + rt->pc);
			rt->pc += 4;
			size_t p2 = start + 1;
			struct sieve_exec_args a;
			memset(&a, 0, sizeof(a));
			decode_command(rt, &p2, &a);
			a.block_end = (uint32_t)rt->pc;
			a.block_start = start;
			a.pc = pc;
			a.line = sieve_binary_line_of(b, pc);
			rt->cur_line = a.line;
			if (a.def->block_end != NULL) {
				int r = a.def->block_end(rt, &a);
				if (r <= 0)
					return r;
			}
			break;
		}
		default: {
			struct sieve_exec_args a;
			memset(&a, 0, sizeof(a));
			a.pc = pc;
			a.line = sieve_binary_line_of(b, pc);
			rt->cur_line = a.line;
			decode_command(rt, &rt->pc, &a);
			if (op == SV_OP_BLOCK) {
				a.block_end = get_u32(b->code + rt->pc);
				rt->pc += 4;
				a.block_start = (uint32_t)pc;
			}
			rt->test_result = false;
			if (a.def->execute != NULL) {
				int r = a.def->execute(rt, &a);
				if (r <= 0)
					return r;
			}
			break;
		}
		}
	}
	return SIEVE_OK;
}

/* A run of code (the main script, or an included one through include's
 * nested call) ends the foreverypart loops it opened: an included script
 * that returns from inside a loop leaves no loop behind for its includer. */
int sieve_interpret(struct sieve_runtime *rt)
{
	int loop_base = rt->loop_depth;
	int r = interpret_code(rt);
	rt->loop_depth = loop_base;
	return r;
}

struct sieve_runtime *sieve_runtime_create(struct sieve_binary *b, const struct sieve_run_params *p,
					   struct sieve_result *result, struct diag_list *diags,
					   struct arena *arena)
{
	struct sieve_runtime *rt = arena_alloc(arena, sizeof(*rt));
	rt->bin = b;
	rt->params = p;
	rt->cfg = p->cfg;
	/* A result shared by several scripts (multiscript) carries the
	   message as the earlier scripts edited it (editheader, filter). */
	rt->msg = result->msg != NULL ? result->msg : p->msg;
	rt->result = result;
	rt->diags = diags;
	rt->arena = arena;
	rt->nvars = b->nvars;
	rt->vars = arena_alloc(arena, sizeof(*rt->vars) * (b->nvars + 1));
	/* include's global variables, shared by every script of the binary. */
	rt->nglobals = b->nglobals;
	rt->globals = arena_alloc(arena, sizeof(*rt->globals) * (b->nglobals + 1));
	rt->ext_ctx = arena_alloc(arena, sizeof(void *) * (sieve_extension_count() + 1));
	rt->testsuite = p->testsuite;
	rt->max_var_size = sieve_config_uint(p->cfg, "sieve_variables_max_variable_size",
					     SIEVE_MAX_VARIABLE_SIZE_DEFAULT);
	rt->instr_budget = sieve_config_uint(p->cfg, "sieve_max_instructions", 10000000);
	rt->cpu_limit_ns = sieve_config_duration(p->cfg, "sieve_max_cpu_time", 30) * 1000000000ull;
	rt->cpu_start_ns = cpu_now_ns();
	rt->cpu_checked_ns = coarse_now_ns();
	for (size_t i = 0; i < b->nexts; i++)
		if (strcmp(sieve_extensions[b->exts[i]]->name, "variables") == 0)
			rt->mv_enabled = true;
	return rt;
}

int sieve_run(struct sieve_binary *b, const struct sieve_run_params *p, struct sieve_result *result,
	      struct diag_list *diags)
{
	struct sieve_runtime *rt = sieve_runtime_create(b, p, result, diags, result->arena);
	return sieve_interpret(rt);
}
