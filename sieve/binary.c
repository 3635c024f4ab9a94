/* binary.c: loading, verifying, saving and dumping compiled scripts.
 * The verifier runs once when a binary is loaded: every section lies inside
 * the image, every constant is well formed, every opcode and operand is
 * known and in bounds, every jump lands on an instruction, and every
 * command, tag and extension name resolves in this build's registry.  After
 * that the interpreter trusts the code.  A binary that fails any check is
 * rejected (and recompiled from its source by sieve_open_script). */
#include "sieve/engine.h"
#include "sieve/binary-format.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* CRC-32 (IEEE), slice-by-8: eight bytes per step instead of one, since a
 * compile checksums its image twice (codegen, then the verifier).  The
 * tables are built on the stack (a few microseconds) to keep no static
 * state. */
uint32_t binfmt_checksum(const unsigned char *p, size_t n)
{
	uint32_t t[8][256];
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		t[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			t[k][i] = t[0][t[k - 1][i] & 0xff] ^ (t[k - 1][i] >> 8);
	uint32_t crc = 0xffffffffu;
	for (; n >= 8; p += 8, n -= 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				     (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			(uint32_t)p[7] << 24;
		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
			t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	for (; n > 0; p++, n--)
		crc = t[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

size_t sieve_varint_put(unsigned char *out, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (unsigned char)v;
	return n;
}

int sieve_varint_get(const unsigned char *p, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t r = 0;
	unsigned shift = 0;
	while (*pos < len) {
		unsigned char b = p[(*pos)++];
		if (shift >= 64 || (shift == 63 && (b & 0x7e)))
			return -1;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

int sieve_binary_line_of(const struct sieve_binary *b, size_t pc)
{
	/* entries are sorted by pc: binary search for the last <= pc */
	size_t lo = 0, hi = b->nlines;
	int line = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		uint32_t e[2];
		memcpy(e, b->lines + mid * 8, 8);
		if (e[0] <= pc) {
			line = (int)e[1];
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return line;
}

/* ---- verification ---- */

struct verifier {
	struct sieve_binary *b;
	unsigned char *pool_ok;      /* 1 at the start of each constant */
	unsigned char *insn;         /* 1 at each instruction start */
	const char *err;
	/* The script (SV_SEC_SCRIPTS entry) whose code is being walked:
	   jumps stay inside [sec_start, sec_end), locals below sec_nvars. */
	uint32_t sec_start, sec_end, sec_nvars;
};

static bool v_const(struct verifier *vf, uint64_t off)
{
	return off < vf->b->cpool_len && vf->pool_ok[off];
}

static int v_operand(struct verifier *vf, size_t *pos, unsigned allowed, int depth)
{
	const struct sieve_binary *b = vf->b;
	if (*pos >= b->code_len)
		return -1;
	unsigned type = b->code[(*pos)++];
	uint64_t v;
	switch (type) {
	case SV_OPD_NUMBER:
		return sieve_varint_get(b->code, b->code_len, pos, &v);
	case SV_OPD_STRING:
		if (sieve_varint_get(b->code, b->code_len, pos, &v) < 0 || !v_const(vf, v))
			return -1;
		return 0;
	case SV_OPD_VSTRING: {
		uint64_t n;
		if (sieve_varint_get(b->code, b->code_len, pos, &n) < 0 || n == 0 || n > 4096)
			return -1;
		for (uint64_t i = 0; i < n; i++) {
			if (*pos >= b->code_len)
				return -1;
			unsigned kind = b->code[(*pos)++];
			if (sieve_varint_get(b->code, b->code_len, pos, &v) < 0)
				return -1;
			switch (kind) {
			case SV_SP_LITERAL:
			case SV_SP_NAMESPACE:
				if (!v_const(vf, v))
					return -1;
				break;
			case SV_SP_VARIABLE:
				if (v >= vf->sec_nvars)
					return -1;
				break;
			case SV_SP_MATCHVAR:
				if (v > 1000000)
					return -1;
				break;
			case SV_SP_GLOBAL:
				if (v >= b->nglobals)
					return -1;
				break;
			default:
				return -1;
			}
		}
		return 0;
	}
	case SV_OPD_STRLIST: {
		uint64_t n;
		if (depth > 0 || sieve_varint_get(b->code, b->code_len, pos, &n) < 0 || n > b->code_len)
			return -1;
		for (uint64_t i = 0; i < n; i++) {
			if (*pos >= b->code_len)
				return -1;
			unsigned t = b->code[*pos];
			if (t != SV_OPD_STRING && t != SV_OPD_VSTRING)
				return -1;
			if (v_operand(vf, pos, allowed, depth + 1) < 0)
				return -1;
		}
		return 0;
	}
	default:
		return -1;
	}
}

static int v_command(struct verifier *vf, size_t *pos)
{
	const struct sieve_binary *b = vf->b;
	uint64_t idx;
	if (sieve_varint_get(b->code, b->code_len, pos, &idx) < 0 || idx >= b->ncmds)
		return -1;
	if (*pos >= b->code_len)
		return -1;
	unsigned ntags = b->code[(*pos)++];
	if (ntags > SIEVE_MAX_TAGS)
		return -1;
	for (unsigned i = 0; i < ntags; i++) {
		uint64_t t;
		if (sieve_varint_get(b->code, b->code_len, pos, &t) < 0 || t >= b->ntags)
			return -1;
		if (b->tags[t]->param != 0 && v_operand(vf, pos, b->tags[t]->param, 0) < 0)
			return -1;
	}
	if (*pos >= b->code_len)
		return -1;
	unsigned npos = b->code[(*pos)++];
	if (npos > AST_MAX_ARGUMENTS)
		return -1;
	for (unsigned i = 0; i < npos; i++)
		if (v_operand(vf, pos, 0, 0) < 0)
			return -1;
	return 0;
}

static int read_u32(const unsigned char *p, size_t len, size_t off, uint32_t *v)
{
	if (off > len || len - off < 4)
		return -1;
	memcpy(v, p + off, 4);
	return 0;
}

static int verify_code(struct verifier *vf)
{
	struct sieve_binary *b = vf->b;
	size_t pos = 0;
	uint32_t *targets = NULL;
	size_t ntargets = 0, cap = 0;
	int ret = -1;
	bool ended = false;
	size_t next_script = 0;
	vf->sec_start = vf->sec_end = 0;
	while (pos < b->code_len) {
		/* Scripts are contiguous in entry order (missing ones have no
		   code): entering the next one switches the bounds. */
		while (pos == vf->sec_end && next_script < b->nscripts) {
			const struct sieve_bin_script *e = &b->scripts[next_script++];
			if (e->flags & SV_BS_MISSING)
				continue;
			if (e->code_start != pos)
				goto out;
			vf->sec_start = e->code_start;
			vf->sec_end = e->code_end;
			vf->sec_nvars = e->nvars;
		}
		if (pos >= vf->sec_end)
			goto out;
		vf->insn[pos] = 1;
		unsigned op = b->code[pos++];
		uint32_t t;
		switch (op) {
		case SV_OP_END:
			ended = true;
			break;
		case SV_OP_JMP:
		case SV_OP_JMPTRUE:
		case SV_OP_JMPFALSE:
		case SV_OP_BLOCKEND:
			if (read_u32(b->code, b->code_len, pos, &t) < 0)
				goto out;
			pos += 4;
			if (t < vf->sec_start || t >= vf->sec_end)
				goto out;
			if (ntargets == cap) {
				cap = cap ? cap * 2 : 64;
				targets = realloc(targets, cap * sizeof(*targets));
				if (targets == NULL)
					abort();
			}
			targets[ntargets++] = t;
			break;
		case SV_OP_CMD:
		case SV_OP_TEST:
		case SV_OP_BLOCK:
			if (v_command(vf, &pos) < 0)
				goto out;
			if (op == SV_OP_BLOCK) {
				if (read_u32(b->code, b->code_len, pos, &t) < 0)
					goto out;
				pos += 4;
				if (t <= pos || t >= vf->sec_end)
					goto out;
				if (ntargets == cap) {
					cap = cap ? cap * 2 : 64;
					targets = realloc(targets, cap * sizeof(*targets));
					if (targets == NULL)
						abort();
				}
				targets[ntargets++] = t;
			}
			break;
		default:
			goto out;
		}
	}
	if (!ended || b->code_len == 0 || b->code[b->code_len - 1] != SV_OP_END)
		goto out;
	/* Every script was walked and ends in an END of its own. */
	if (pos != vf->sec_end)
		goto out;
	for (; next_script < b->nscripts; next_script++)
		if (!(b->scripts[next_script].flags & SV_BS_MISSING))
			goto out;
	for (size_t i = 0; i < b->nscripts; i++) {
		const struct sieve_bin_script *e = &b->scripts[i];
		if (!(e->flags & SV_BS_MISSING) &&
		    (!vf->insn[e->code_end - 1] || b->code[e->code_end - 1] != SV_OP_END))
			goto out;
	}
	for (size_t i = 0; i < ntargets; i++)
		if (targets[i] >= b->code_len || !vf->insn[targets[i]])
			goto out;
	ret = 0;
out:
	free(targets);
	return ret;
}

/* Skips one operand of verified code. */
static void skip_operand(const struct sieve_binary *b, size_t *pos)
{
	uint64_t v, n;
	unsigned type = b->code[(*pos)++];
	if (type == SV_OPD_NUMBER || type == SV_OPD_STRING) {
		(void)sieve_varint_get(b->code, b->code_len, pos, &v);
	} else if (type == SV_OPD_VSTRING) {
		(void)sieve_varint_get(b->code, b->code_len, pos, &n);
		for (uint64_t i = 0; i < n; i++) {
			(*pos)++;
			(void)sieve_varint_get(b->code, b->code_len, pos, &v);
		}
	} else if (type == SV_OPD_STRLIST) {
		(void)sieve_varint_get(b->code, b->code_len, pos, &n);
		for (uint64_t i = 0; i < n; i++)
			skip_operand(b, pos);
	}
}

/* The end address of the verified BLOCK instruction at pc. */
static uint32_t block_end_of(const struct sieve_binary *b, size_t pc)
{
	size_t pos = pc + 1;
	uint64_t v;
	(void)sieve_varint_get(b->code, b->code_len, &pos, &v);
	unsigned ntags = b->code[pos++];
	for (unsigned i = 0; i < ntags; i++) {
		(void)sieve_varint_get(b->code, b->code_len, &pos, &v);
		if (b->tags[v]->param != 0)
			skip_operand(b, &pos);
	}
	unsigned npos = b->code[pos++];
	for (unsigned i = 0; i < npos; i++)
		skip_operand(b, &pos);
	uint32_t end;
	memcpy(&end, b->code + pos, 4);
	return end;
}

/* After verify_code, what the interpreter and the commands' hooks take for
 * granted:
 *   - every BLOCK and BLOCKEND pair up one to one: the interpreter decodes
 *     the BLOCK command again at each BLOCKEND, and block hooks find the
 *     BLOCKEND at block_end - 5, so a BLOCKEND naming another instruction,
 *     or a BLOCK whose end is not its BLOCKEND, would make them read an
 *     opcode or a jump as a command;
 *   - a command comes with the opcode the generator gives it: BLOCK only
 *     for commands that take a block, never CMD/TEST for one that requires
 *     it (its hooks use block_start/block_end: the testsuite's "test"
 *     computes block_end - 5), TEST only for tests, CMD and BLOCK only for
 *     commands.
 * The first was found by fuzz/fuzz_binary.c (a BLOCKEND pointing at a
 * JMP: out-of-bounds read of the command table). */
static int verify_blocks(struct verifier *vf)
{
	const struct sieve_binary *b = vf->b;
	for (size_t pc = 0; pc < b->code_len; pc++) {
		if (!vf->insn[pc])
			continue;
		unsigned op = b->code[pc];
		if (op == SV_OP_CMD || op == SV_OP_TEST || op == SV_OP_BLOCK) {
			size_t p = pc + 1;
			uint64_t idx;
			(void)sieve_varint_get(b->code, b->code_len, &p, &idx);
			const struct sieve_command_def *d = b->cmds[idx];
			bool block_ok = (d->flags & (SV_CF_BLOCK_ALLOWED | SV_CF_BLOCK_REQUIRED)) != 0;
			if ((op == SV_OP_BLOCK) ? !block_ok : (d->flags & SV_CF_BLOCK_REQUIRED) != 0)
				return -1;
			if ((op == SV_OP_TEST) ? d->kind == SV_CMD_COMMAND : d->kind == SV_CMD_TEST)
				return -1;
		}
		uint32_t t;
		if (op == SV_OP_BLOCK) {
			t = block_end_of(b, pc);
			uint32_t start;
			if (t < 5 || !vf->insn[t - 5] || b->code[t - 5] != SV_OP_BLOCKEND)
				return -1;
			memcpy(&start, b->code + t - 4, 4);
			if (start != pc)
				return -1;
		} else if (op == SV_OP_BLOCKEND) {
			memcpy(&t, b->code + pc + 1, 4);
			if (t >= b->code_len || !vf->insn[t] || b->code[t] != SV_OP_BLOCK ||
			    block_end_of(b, t) != pc + 5)
				return -1;
		}
	}
	return 0;
}

static int verify_pool(struct verifier *vf)
{
	const struct sieve_binary *b = vf->b;
	size_t off = 0;
	while (off < b->cpool_len) {
		uint32_t len;
		if (read_u32(b->cpool, b->cpool_len, off, &len) < 0)
			return -1;
		size_t total = 4 + (size_t)len + (4 - ((4 + (size_t)len) % 4));
		if (len > b->cpool_len || total > b->cpool_len - off)
			return -1;
		if (b->cpool[off + 4 + len] != '\0')
			return -1;
		vf->pool_ok[off] = 1;
		off += total;
	}
	return 0;
}

/* Resolves "ext/name" of a table entry. */
static int resolve_name(const struct sieve_binary *b, uint32_t off, const char **ext_r, size_t *elen_r,
			const char **name_r)
{
	if (off >= b->cpool_len)
		return -1;
	size_t len;
	const char *s = sieve_binary_const(b, off, &len);
	const char *slash = memchr(s, '/', len);
	if (slash == NULL)
		return -1;
	*ext_r = s;
	*elen_r = (size_t)(slash - s);
	*name_r = slash + 1;
	return 0;
}

static int ext_by_name(const char *s, size_t n)
{
	for (size_t i = 0; sieve_extensions[i] != NULL; i++)
		if (strlen(sieve_extensions[i]->name) == n && memcmp(sieve_extensions[i]->name, s, n) == 0)
			return (int)i;
	return -1;
}

/* A name table (CMDS, TAGS) is a u32 count then u32 pool offsets. */
static int table_count(const unsigned char *t, size_t len, uint32_t *n_r)
{
	if (read_u32(t, len, 0, n_r) < 0 || (size_t)*n_r * 4 + 4 > len)
		return -1;
	return 0;
}

/* Entry i of a name table: "extension/name", with the extension resolved
 * in this build's registry. */
static int table_entry(struct verifier *vf, const unsigned char *t, uint32_t i, int *ext_r,
		       const char **name_r)
{
	const struct sieve_binary *b = vf->b;
	uint32_t off;
	memcpy(&off, t + 4 + (size_t)i * 4, 4);
	if (off >= b->cpool_len || !vf->pool_ok[off])
		return -1;
	const char *e;
	size_t elen;
	if (resolve_name(b, off, &e, &elen, name_r) < 0)
		return -1;
	*ext_r = ext_by_name(e, elen);
	if (*ext_r < 0) {
		vf->err = "binary requires an unknown extension";
		return -1;
	}
	return 0;
}

static int resolve_tables(struct verifier *vf, const unsigned char *cmds, size_t cmds_len,
			  const unsigned char *tags, size_t tags_len, const unsigned char *exts, size_t exts_len)
{
	struct sieve_binary *b = vf->b;
	uint32_t n;
	if (table_count(cmds, cmds_len, &n) < 0)
		return -1;
	b->ncmds = n;
	b->cmds = arena_alloc(b->arena, sizeof(*b->cmds) * (n + 1));
	b->cmd_ext = arena_alloc(b->arena, sizeof(int) * (n + 1));
	for (uint32_t i = 0; i < n; i++) {
		int ei;
		const char *name;
		if (table_entry(vf, cmds, i, &ei, &name) < 0)
			return -1;
		const struct sieve_command_def *found = NULL;
		for (const struct sieve_command_def *const *c = sieve_extensions[ei]->commands; c && *c; c++)
			if (strcmp((*c)->name, name) == 0)
				found = *c;
		if (found == NULL) {
			vf->err = "binary refers to an unknown command";
			return -1;
		}
		b->cmds[i] = found;
		b->cmd_ext[i] = ei;
	}
	if (table_count(tags, tags_len, &n) < 0)
		return -1;
	b->ntags = n;
	b->tags = arena_alloc(b->arena, sizeof(*b->tags) * (n + 1));
	b->tag_ext = arena_alloc(b->arena, sizeof(int) * (n + 1));
	for (uint32_t i = 0; i < n; i++) {
		int ei;
		const char *name;
		if (table_entry(vf, tags, i, &ei, &name) < 0)
			return -1;
		const struct sieve_extension_def *ed = sieve_extensions[ei];
		const struct sieve_tag_def *found = NULL;
		for (const struct sieve_command_def *const *c = ed->commands; c && *c && !found; c++)
			for (const struct sieve_tag_def *const *t = (*c)->tags; t && *t; t++)
				if (strcmp((*t)->name, name) == 0) {
					found = *t;
					break;
				}
		for (const struct sieve_tag_link *l = ed->tag_links; l && l->command && !found; l++)
			if (strcmp(l->tag->name, name) == 0)
				found = l->tag;
		for (const struct sieve_tag_def *const *t = ed->class_tags; t && *t && !found; t++)
			if (strcmp((*t)->name, name) == 0)
				found = *t;
		if (found == NULL) {
			vf->err = "binary refers to an unknown tagged argument";
			return -1;
		}
		b->tags[i] = found;
		b->tag_ext[i] = ei;
	}
	if (read_u32(exts, exts_len, 0, &n) < 0 || (size_t)n * 4 + 4 > exts_len)
		return -1;
	b->nexts = n;
	b->exts = arena_alloc(b->arena, sizeof(int) * (n + 1));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off;
		memcpy(&off, exts + 4 + i * 4, 4);
		if (off >= b->cpool_len || !vf->pool_ok[off])
			return -1;
		size_t len;
		const char *s = sieve_binary_const(b, off, &len);
		int ei = ext_by_name(s, len);
		if (ei < 0) {
			vf->err = "binary requires an unknown extension";
			return -1;
		}
		b->exts[i] = ei;
	}
	return 0;
}

/* SV_SEC_SCRIPTS: the main script and the scripts it includes. */
static int resolve_scripts(struct verifier *vf, const unsigned char *sec, size_t len)
{
	struct sieve_binary *b = vf->b;
	uint32_t n;
	if (read_u32(sec, len, 0, &n) < 0 || n == 0 || n > 4096 || (size_t)n * 32 + 8 > len)
		return -1;
	size_t names_at = 4 + (size_t)n * 32;
	uint32_t nnames;
	if (read_u32(sec, len, names_at, &nnames) < 0 || nnames > 65536 ||
	    (size_t)nnames * 4 > len - names_at - 4)
		return -1;
	int *ext_idx = arena_alloc(b->arena, sizeof(int) * ((size_t)nnames + 1));
	for (uint32_t i = 0; i < nnames; i++) {
		uint32_t off;
		memcpy(&off, sec + names_at + 4 + (size_t)i * 4, 4);
		if (off >= b->cpool_len || !vf->pool_ok[off])
			return -1;
		size_t elen;
		const char *ename = sieve_binary_const(b, off, &elen);
		if ((ext_idx[i] = ext_by_name(ename, elen)) < 0) {
			vf->err = "binary requires an unknown extension";
			return -1;
		}
	}
	struct sieve_bin_script *scripts = arena_alloc(b->arena, sizeof(*scripts) * n);
	uint32_t expect = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t w[8];
		memcpy(w, sec + 4 + (size_t)i * 32, sizeof(w));
		struct sieve_bin_script *e = &scripts[i];
		e->code_start = w[0];
		e->code_end = w[1];
		e->nvars = w[2];
		e->flags = w[3];
		if (w[4] >= b->cpool_len || !vf->pool_ok[w[4]] || w[5] >= b->cpool_len || !vf->pool_ok[w[5]] ||
		    e->nvars > 65536 || w[6] > nnames || w[7] > nnames - w[6] ||
		    ((e->flags & SV_BS_MAIN) != 0) != (i == 0))
			return -1;
		e->name = sieve_binary_const(b, w[4], NULL);
		e->path = sieve_binary_const(b, w[5], NULL);
		if (i == 0) {
			/* The main script's extensions are the EXTS section. */
			e->exts = b->exts;
			e->nexts = b->nexts;
		} else {
			e->exts = ext_idx + w[6];
			e->nexts = w[7];
		}
		if (e->flags & SV_BS_MISSING) {
			if (i == 0 || e->code_start != 0 || e->code_end != 0)
				return -1;
			continue;
		}
		if (e->code_start != expect || e->code_end <= e->code_start || e->code_end > b->code_len)
			return -1;
		expect = e->code_end;
	}
	if (expect != b->code_len)
		return -1;
	b->scripts = scripts;
	b->nscripts = n;
	return 0;
}

struct sieve_binary *sieve_binary_load(const void *data, size_t len, const char **error_r)
{
	struct binfmt_header hdr;
	*error_r = "binary is truncated";
	if (len < sizeof(hdr) || len > (256u << 20))
		return NULL;
	memcpy(&hdr, data, sizeof(hdr));
	if (hdr.magic != SIEVE_BIN_MAGIC) {
		*error_r = "not a Tamis binary (bad magic)";
		return NULL;
	}
	if (hdr.version != SIEVE_BIN_VERSION) {
		*error_r = "binary has another format version";
		return NULL;
	}
	if (hdr.image_len != len) {
		*error_r = "binary length does not match its header";
		return NULL;
	}
	if (hdr.nsections == 0 || hdr.nsections > 16 ||
	    sizeof(hdr) + hdr.nsections * sizeof(struct binfmt_section) > len) {
		*error_r = "binary has a corrupt section table";
		return NULL;
	}
	if (binfmt_checksum((const unsigned char *)data + sizeof(hdr), len - sizeof(hdr)) != hdr.checksum) {
		*error_r = "binary checksum mismatch";
		return NULL;
	}
	struct sieve_binary *b = calloc(1, sizeof(*b));
	if (b == NULL)
		abort();
	b->refcount = 1;
	b->arena = arena_new(4096);
	b->image = malloc(len);
	if (b->image == NULL)
		abort();
	memcpy(b->image, data, len);
	b->image_len = len;

	const unsigned char *sec[SV_SEC_COUNT_] = { 0 };
	size_t seclen[SV_SEC_COUNT_] = { 0 };
	for (uint32_t i = 0; i < hdr.nsections; i++) {
		struct binfmt_section s;
		memcpy(&s, b->image + sizeof(hdr) + i * sizeof(s), sizeof(s));
		if (s.id == 0 || s.id >= SV_SEC_COUNT_ || s.offset % 4 != 0 || s.offset > len ||
		    s.length > len - s.offset || sec[s.id] != NULL) {
			*error_r = "binary has a corrupt section";
			goto fail;
		}
		sec[s.id] = b->image + s.offset;
		seclen[s.id] = s.length;
	}
	for (int i = 1; i < SV_SEC_COUNT_; i++) {
		if (sec[i] == NULL) {
			*error_r = "binary lacks a section";
			goto fail;
		}
	}
	b->code = sec[SV_SEC_CODE];
	b->code_len = seclen[SV_SEC_CODE];
	b->cpool = sec[SV_SEC_CONST];
	b->cpool_len = seclen[SV_SEC_CONST];
	uint32_t nl;
	if (read_u32(sec[SV_SEC_LINES], seclen[SV_SEC_LINES], 0, &nl) < 0 ||
	    (size_t)nl * 8 + 4 > seclen[SV_SEC_LINES]) {
		*error_r = "binary has a corrupt line table";
		goto fail;
	}
	b->lines = sec[SV_SEC_LINES] + 4;
	b->nlines = nl;
	for (uint32_t i = 1; i < nl; i++) {
		uint32_t a, c;
		memcpy(&a, b->lines + (i - 1) * 8, 4);
		memcpy(&c, b->lines + i * 8, 4);
		if (c < a) {
			*error_r = "binary has a corrupt line table";
			goto fail;
		}
	}

	struct verifier vf = { .b = b };
	vf.pool_ok = calloc(b->cpool_len + 1, 1);
	vf.insn = calloc(b->code_len + 1, 1);
	if (vf.pool_ok == NULL || vf.insn == NULL)
		abort();
	int ok = verify_pool(&vf);
	uint32_t meta[4];
	if (ok == 0 && (seclen[SV_SEC_META] < sizeof(meta)))
		ok = -1;
	if (ok == 0) {
		memcpy(meta, sec[SV_SEC_META], sizeof(meta));
		if (meta[0] >= b->cpool_len || !vf.pool_ok[meta[0]] ||
		    meta[1] >= b->cpool_len || !vf.pool_ok[meta[1]] || meta[2] > 65536 || meta[3] > 65536)
			ok = -1;
	}
	if (ok == 0) {
		b->script_name = sieve_binary_const(b, meta[0], NULL);
		b->script_path = sieve_binary_const(b, meta[1], NULL);
		b->nvars = meta[2];
		b->nglobals = meta[3];
		ok = resolve_tables(&vf, sec[SV_SEC_CMDS], seclen[SV_SEC_CMDS], sec[SV_SEC_TAGS],
				    seclen[SV_SEC_TAGS], sec[SV_SEC_EXTS], seclen[SV_SEC_EXTS]);
	}
	if (ok == 0)
		ok = resolve_scripts(&vf, sec[SV_SEC_SCRIPTS], seclen[SV_SEC_SCRIPTS]);
	if (ok == 0 && b->scripts[0].nvars != b->nvars)
		ok = -1;
	if (ok == 0)
		ok = verify_code(&vf);
	if (ok == 0)
		ok = verify_blocks(&vf);
	free(vf.pool_ok);
	free(vf.insn);
	if (ok < 0) {
		*error_r = vf.err != NULL ? vf.err : "binary is corrupt";
		goto fail;
	}
	b->cache = arena_alloc(b->arena, sizeof(void *) * 1);
	*error_r = NULL;
	return b;
fail:
	sieve_binary_unref(&b);
	return NULL;
}

struct sieve_binary *sieve_binary_ref(struct sieve_binary *b)
{
	b->refcount++;
	return b;
}

void sieve_binary_unref(struct sieve_binary **bp)
{
	struct sieve_binary *b = *bp;
	if (b == NULL)
		return;
	*bp = NULL;
	if (--b->refcount > 0)
		return;
	/* An extension's run-time cache (compiled regexes) goes with it. */
	if (b->cache != NULL && b->cache[0] != NULL) {
		struct sieve_binary_cache *c = b->cache[0];
		c->free_fn(c);
	}
	free(b->image);
	arena_unref(&b->arena);
	free(b);
}

const unsigned char *sieve_binary_image(const struct sieve_binary *b, size_t *len_r)
{
	*len_r = b->image_len;
	return b->image;
}

const char *sieve_binary_script_name(const struct sieve_binary *b)
{
	return b->script_name;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Written as the core issue asks: a temporary file in the same folder,
 * fsync, rename, fsync of the folder, so a reader sees the old image or the
 * new one and a crash never leaves a half-written cache behind under the
 * real name.  (A short file would also be caught: it fails the checksum or
 * the verifier and is recompiled by sieve_open_script.) */
int sieve_binary_save(const struct sieve_binary *b, const char *path, const char **error_r)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 64);
	char *dir = strdup(path);
	if (tmp == NULL || dir == NULL)
		abort();
	snprintf(tmp, plen + 64, "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int ret = -1;
	if (fd < 0) {
		*error_r = strerror(errno);
		goto out;
	}
	if (write_all(fd, b->image, b->image_len) < 0 || fdatasync(fd) < 0) {
		*error_r = strerror(errno);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		*error_r = strerror(errno);
		unlink(tmp);
		goto out;
	}
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	ret = 0;
out:
	free(tmp);
	free(dir);
	return ret;
}

struct sieve_binary *sieve_binary_read(const char *path, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = strerror(errno);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size > (256 << 20)) {
		*error_r = "binary too large";
		close(fd);
		return NULL;
	}
	struct strbuf buf = STRBUF_INIT;
	/* A file that grew past the limit while being read is loaded cut
	   off (and so refused by the loader). */
	if (strbuf_read_fd(&buf, fd, 256u << 20) < 0 && errno != EFBIG) {
		*error_r = strerror(errno);
		close(fd);
		strbuf_free(&buf);
		return NULL;
	}
	close(fd);
	struct sieve_binary *b = sieve_binary_load(buf.data ? buf.data : "", buf.len, error_r);
	strbuf_free(&buf);
	return b;
}

char *sieve_binary_path_for(const char *script_path)
{
	size_t n = strlen(script_path);
	char *p = malloc(n + 16);
	if (p == NULL)
		abort();
	if (n > 6 && strcmp(script_path + n - 6, ".sieve") == 0)
		snprintf(p, n + 16, "%.*s.tmsbin", (int)(n - 6), script_path);
	else
		snprintf(p, n + 16, "%s.tmsbin", script_path);
	return p;
}

static bool mtime_newer(const struct stat *a, const struct stat *b)
{
	if (a->st_mtim.tv_sec != b->st_mtim.tv_sec)
		return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
	return a->st_mtim.tv_nsec > b->st_mtim.tv_nsec;
}

/* Is every extension b uses enabled for scripts compiled with p?  A cached
 * binary is only a cache: when the admin has since turned an extension off
 * (or a .tmsbin was put beside the script by someone else, carrying an
 * extension this kind of script may not have), it must not run; the script
 * is compiled again instead, and that reports the extension as unknown. */
static bool binary_extensions_enabled(const struct sieve_binary *b, const struct sieve_compile_params *p)
{
	for (size_t i = 0; i < b->ncmds; i++)
		if (!sieve_extension_enabled_for(p->cfg, b->cmd_ext[i], p))
			return false;
	for (size_t i = 0; i < b->ntags; i++)
		if (!sieve_extension_enabled_for(p->cfg, b->tag_ext[i], p))
			return false;
	for (size_t i = 0; i < b->nexts; i++)
		if (!sieve_extension_enabled_for(p->cfg, b->exts[i], p))
			return false;
	return true;
}

struct sieve_binary *sieve_open_script(const char *path, const struct sieve_compile_params *p,
				       struct diag_list *diags, bool *from_cache_r)
{
	*from_cache_r = false;
	char *bpath = sieve_binary_path_for(path);
	struct stat sst, bst;
	if (stat(path, &sst) < 0) {
		diag_add(diags, DIAG_ERROR, p->script_name, 0, 0, "failed to open script %s: %s", path, strerror(errno));
		free(bpath);
		return NULL;
	}
	if (stat(bpath, &bst) == 0 && mtime_newer(&bst, &sst)) {
		const char *err;
		struct sieve_binary *b = sieve_binary_read(bpath, &err);
		/* Included scripts (their file paths are in the binary) must not
		   have changed since either. */
		for (size_t i = 1; b != NULL && i < b->nscripts; i++) {
			const struct sieve_bin_script *e = &b->scripts[i];
			struct stat ist;
			if ((e->flags & SV_BS_MISSING) || e->path[0] == '\0')
				continue;
			if (stat(e->path, &ist) < 0 || !mtime_newer(&bst, &ist))
				sieve_binary_unref(&b);
		}
		if (b != NULL && strcmp(b->script_path, path) == 0 && binary_extensions_enabled(b, p)) {
			*from_cache_r = true;
			free(bpath);
			return b;
		}
		sieve_binary_unref(&b);
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct strbuf src = STRBUF_INIT;
	if (fd >= 0) {
		/* A read error or an over-long script compiles what was read
		   (and so fails there). */
		(void)strbuf_read_fd(&src, fd, 64u << 20);
		close(fd);
	}
	struct sieve_compile_params pp = *p;
	pp.script_path = path;
	struct sieve_binary *b = sieve_compile(src.data ? src.data : "", src.len, &pp, diags);
	strbuf_free(&src);
	if (b != NULL) {
		const char *err;
		/* Failing to cache is not fatal: the script still runs. */
		(void)sieve_binary_save(b, bpath, &err);
	}
	free(bpath);
	return b;
}

/* ---- dump ---- */

static void dump_string(struct strbuf *out, const char *s, size_t n)
{
	strbuf_printf(out, "STR[%zu] \"", n);
	for (size_t i = 0; i < n && i < 80; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			strbuf_printf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			strbuf_printf(out, "\\x%02x", c);
		else
			strbuf_putc(out, (char)c);
	}
	strbuf_puts(out, n > 80 ? "...\"" : "\"");
}

static void dump_operand(const struct sieve_binary *b, size_t *pos, struct strbuf *out)
{
	unsigned type = b->code[(*pos)++];
	uint64_t v, n;
	switch (type) {
	case SV_OPD_NUMBER:
		sieve_varint_get(b->code, b->code_len, pos, &v);
		strbuf_printf(out, "NUM %llu", (unsigned long long)v);
		break;
	case SV_OPD_STRING: {
		sieve_varint_get(b->code, b->code_len, pos, &v);
		size_t len;
		const char *s = sieve_binary_const(b, (uint32_t)v, &len);
		dump_string(out, s, len);
		break;
	}
	case SV_OPD_VSTRING:
		sieve_varint_get(b->code, b->code_len, pos, &n);
		strbuf_puts(out, "VSTR{");
		for (uint64_t i = 0; i < n; i++) {
			unsigned kind = b->code[(*pos)++];
			sieve_varint_get(b->code, b->code_len, pos, &v);
			if (i > 0)
				strbuf_putc(out, ' ');
			if (kind == SV_SP_LITERAL) {
				size_t len;
				const char *s = sieve_binary_const(b, (uint32_t)v, &len);
				dump_string(out, s, len);
			} else if (kind == SV_SP_NAMESPACE) {
				strbuf_printf(out, "${%s}", sieve_binary_const(b, (uint32_t)v, NULL));
			} else if (kind == SV_SP_MATCHVAR) {
				strbuf_printf(out, "${%llu}", (unsigned long long)v);
			} else if (kind == SV_SP_GLOBAL) {
				strbuf_printf(out, "GLOBAL[%llu]", (unsigned long long)v);
			} else {
				strbuf_printf(out, "VAR[%llu]", (unsigned long long)v);
			}
		}
		strbuf_putc(out, '}');
		break;
	case SV_OPD_STRLIST:
		sieve_varint_get(b->code, b->code_len, pos, &n);
		strbuf_printf(out, "LIST[%llu] (", (unsigned long long)n);
		for (uint64_t i = 0; i < n; i++) {
			if (i > 0)
				strbuf_puts(out, ", ");
			dump_operand(b, pos, out);
		}
		strbuf_putc(out, ')');
		break;
	}
}

void sieve_binary_dump(const struct sieve_binary *b, struct strbuf *out)
{
	strbuf_printf(out, "* Header:\n  format version = %u\n  script = %s\n  path = %s\n  variables = %u\n",
		      SIEVE_BIN_VERSION, b->script_name, b->script_path, b->nvars);
	strbuf_puts(out, "* Required extensions:\n");
	for (size_t i = 0; i < b->nexts; i++)
		strbuf_printf(out, "  %zu: %s\n", i, sieve_extensions[b->exts[i]]->name);
	if (b->nglobals > 0)
		strbuf_printf(out, "* Global variables: %u\n", b->nglobals);
	if (b->nscripts > 1) {
		strbuf_puts(out, "* Scripts:\n");
		for (size_t i = 0; i < b->nscripts; i++) {
			const struct sieve_bin_script *e = &b->scripts[i];
			strbuf_printf(out, "  %zu: %s%s%s%s%s", i, e->name,
				      (e->flags & SV_BS_GLOBAL) ? " (global)" : "",
				      (e->flags & SV_BS_ONCE) ? " (once)" : "",
				      (e->flags & SV_BS_OPTIONAL) ? " (optional)" : "",
				      (e->flags & SV_BS_MISSING) ? " (missing)" : "");
			if (!(e->flags & SV_BS_MISSING))
				strbuf_printf(out, " code %08x-%08x, variables %u", e->code_start, e->code_end, e->nvars);
			strbuf_putc(out, '\n');
		}
	}
	strbuf_printf(out, "* Program (%zu bytes):\nAddress   Line  Code\n", b->code_len);
	size_t pos = 0;
	int last_line = -1;
	while (pos < b->code_len) {
		size_t at = pos;
		for (size_t k = 1; k < b->nscripts; k++)
			if (!(b->scripts[k].flags & SV_BS_MISSING) && b->scripts[k].code_start == at)
				strbuf_printf(out, "* Included script %zu: %s\n", k, b->scripts[k].name);
		int line = sieve_binary_line_of(b, at);
		char lbuf[16] = "";
		if (line != last_line)
			snprintf(lbuf, sizeof(lbuf), "%4d:", line);
		last_line = line;
		strbuf_printf(out, "%08zx: %5s ", at, lbuf);
		unsigned op = b->code[pos++];
		uint32_t t;
		switch (op) {
		case SV_OP_END:
			strbuf_puts(out, "[End of code]\n");
			break;
		case SV_OP_JMP:
		case SV_OP_JMPTRUE:
		case SV_OP_JMPFALSE:
			memcpy(&t, b->code + pos, 4);
			pos += 4;
			strbuf_printf(out, "%s %08x\n", op == SV_OP_JMP ? "JMP" : op == SV_OP_JMPTRUE ? "JMPTRUE" : "JMPFALSE", t);
			break;
		case SV_OP_BLOCKEND:
			memcpy(&t, b->code + pos, 4);
			pos += 4;
			strbuf_printf(out, "BLOCKEND (start %08x)\n", t);
			break;
		default: {
			uint64_t idx;
			sieve_varint_get(b->code, b->code_len, &pos, &idx);
			const struct sieve_command_def *d = b->cmds[idx];
			const char *kind = op == SV_OP_TEST ? "TEST" : op == SV_OP_BLOCK ? "BLOCK" : "CMD";
			strbuf_printf(out, "%s %s", kind, d->name);
			if (b->cmd_ext[idx] != 0)
				strbuf_printf(out, " (%s)", sieve_extensions[b->cmd_ext[idx]]->name);
			strbuf_putc(out, '\n');
			unsigned ntags = b->code[pos++];
			for (unsigned i = 0; i < ntags; i++) {
				uint64_t ti;
				sieve_varint_get(b->code, b->code_len, &pos, &ti);
				strbuf_printf(out, "                  :%s", b->tags[ti]->name);
				if (b->tags[ti]->param) {
					strbuf_putc(out, ' ');
					dump_operand(b, &pos, out);
				}
				strbuf_putc(out, '\n');
			}
			unsigned npos = b->code[pos++];
			for (unsigned i = 0; i < npos; i++) {
				strbuf_puts(out, "                  ");
				dump_operand(b, &pos, out);
				strbuf_putc(out, '\n');
			}
			if (op == SV_OP_BLOCK) {
				memcpy(&t, b->code + pos, 4);
				pos += 4;
				strbuf_printf(out, "                  (block ends at %08x)\n", t);
			}
			break;
		}
		}
	}
}
