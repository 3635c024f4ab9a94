/* foreverypart.c: the foreverypart extension (RFC 5703 section 3): the
 * loop "foreverypart [:name string] { ... }" and "break [:name string]".
 *
 * The loop is the generic BLOCK/BLOCKEND pair: the BLOCK's execute opens
 * the loop (or skips the block when there is no part to visit) and
 * BLOCKEND's block_end moves to the next part and jumps back to the first
 * instruction of the block.  As in Pigeonhole, the outermost loop visits
 * every part of the message, the message itself first, and a nested loop
 * every part below the part its enclosing loop is at (all of them, not
 * only the direct children).  The loops are a stack in the runtime
 * (rt->loop_ctx), which also carries the current part to :mime tests and
 * extracttext; nesting is limited to 4 (compile time within a script, run
 * time across included scripts). */
#include "sieve/ext/mime-common.h"
#include <string.h>

static const struct sieve_tag_def tag_name = { "name", SV_TC_NONE, 0, SV_AT_STRING, "name" };
static const struct sieve_tag_def *const name_tags[] = { &tag_name, NULL };

static const struct sieve_command_def cmd_foreverypart;

/* The :name of a validated foreverypart or break, or NULL. */
static const char *cmd_loop_name(const struct sieve_cmd *c)
{
	const struct sieve_ctag *t = sieve_cmd_tag(c, "name");
	return t != NULL && t->val.nstrs > 0 ? t->val.strs[0].data : NULL;
}

static const struct sieve_cmd *node_loop(const struct ast_node *n)
{
	const struct sieve_cmd *c = n->vdata;
	return c != NULL && c->def == &cmd_foreverypart ? c : NULL;
}

static int foreverypart_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	unsigned nesting = 0;
	for (const struct ast_node *n = c->node->parent; n != NULL; n = n->parent)
		if (node_loop(n) != NULL)
			nesting++;
	unsigned max = sieve_fep_max_depth(sieve_validator_config(v));
	if (nesting + 1 > max) {
		sieve_validator_error(v, c->node->loc,
			"the nested foreverypart loop exceeds the nesting limit (<= %u levels)", max);
		return -1;
	}
	return 0;
}

static int foreverypart_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_fep_loop *outer = sieve_fep_current(rt, a->pc);
	unsigned max = sieve_fep_max_depth(rt->cfg);
	if ((unsigned)rt->loop_depth >= max) {
		/* Normally caught at compile time; includes can nest further. */
		sieve_runtime_error(rt, a, "new program loop exceeds the nesting limit (<= %u levels)", max);
		return SIEVE_FAILURE;
	}
	const struct sieve_mime_parts *pp = sieve_mime_parts(rt->msg);
	long root = outer != NULL ? (long)outer->cur : -1;
	size_t first = root < 0 ? 0 : (size_t)root + 1;
	size_t limit = root < 0 ? pp->count : ((size_t)root < pp->count ? pp->end[root] : 0);
	if (first >= limit) {
		rt->pc = a->block_end;   /* nothing below the current part */
		return SIEVE_OK;
	}
	struct sieve_fep_loop *l = arena_alloc(rt->arena, sizeof(*l));
	l->bin = rt->bin;
	l->start = a->block_start;
	l->end = a->block_end;
	l->body_pc = rt->pc;
	l->root = root;
	l->cur = first;
	const struct sieve_exec_tag *nt = sieve_args_tag(a, "name");
	if (nt != NULL)
		l->name = sieve_rt_strdup(rt, sieve_opd_string(rt, &nt->val));
	rt->loop_ctx[rt->loop_depth++] = l;
	return SIEVE_OK;
}

static int foreverypart_block_end(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	int d = rt->loop_depth - 1;
	while (d >= 0) {
		const struct sieve_fep_loop *l = rt->loop_ctx[d];
		if (l->bin == rt->bin && l->start == a->block_start)
			break;
		d--;
	}
	if (d < 0)
		return SIEVE_OK;   /* the block was skipped: no loop was opened */
	sieve_fep_pop_to(rt, d + 1);
	struct sieve_fep_loop *l = rt->loop_ctx[d];
	/* The part list is looked up again: a replace in the block may have
	   rebuilt the message (the current part keeps its index). */
	const struct sieve_mime_parts *pp = sieve_mime_parts(rt->msg);
	size_t limit = l->root < 0 ? pp->count :
		((size_t)l->root < pp->count ? pp->end[l->root] : 0);
	if (limit > pp->count)
		limit = pp->count;
	l->cur++;
	if (l->cur < limit)
		rt->pc = l->body_pc;
	else
		sieve_fep_pop_to(rt, d);
	return SIEVE_OK;
}

static const struct sieve_command_def cmd_foreverypart = {
	"foreverypart", SV_CMD_COMMAND, SV_CF_BLOCK_REQUIRED, NULL, 0, name_tags,
	foreverypart_validate, foreverypart_execute, foreverypart_block_end };

static int break_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const char *name = cmd_loop_name(c);
	for (const struct ast_node *n = c->node->parent; n != NULL; n = n->parent) {
		const struct sieve_cmd *loop = node_loop(n);
		if (loop == NULL)
			continue;
		const char *ln = cmd_loop_name(loop);
		if (name == NULL || (ln != NULL && strcmp(ln, name) == 0))
			return 0;
	}
	if (name == NULL)
		sieve_validator_error(v, c->node->loc,
			"the break command is not placed inside a foreverypart loop");
	else
		sieve_validator_error(v, c->node->loc,
			"the break command is not placed inside a foreverypart loop named `%s'", name);
	return -1;
}

static int break_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	const struct sieve_exec_tag *nt = sieve_args_tag(a, "name");
	const char *name = nt != NULL ? sieve_rt_strdup(rt, sieve_opd_string(rt, &nt->val)) : NULL;
	/* The validator found the loop among the enclosing ones: the innermost
	   loop of this binary whose block holds this break and whose name
	   matches. */
	for (int d = rt->loop_depth - 1; d >= 0; d--) {
		const struct sieve_fep_loop *l = rt->loop_ctx[d];
		if (l->bin != rt->bin || a->pc <= l->start || a->pc >= l->end)
			continue;
		if (name != NULL && (l->name == NULL || strcmp(l->name, name) != 0))
			continue;
		rt->pc = l->end;
		sieve_fep_pop_to(rt, d);
		return SIEVE_OK;
	}
	sieve_runtime_error(rt, a, "break: no matching foreverypart loop is running");
	return SIEVE_FAILURE;
}

static const struct sieve_command_def cmd_break = {
	"break", SV_CMD_COMMAND, 0, NULL, 0, name_tags, break_validate, break_execute, NULL };

static const struct sieve_command_def *const foreverypart_commands[] = {
	&cmd_foreverypart, &cmd_break, NULL
};

const struct sieve_extension_def sieve_ext_foreverypart = {
	.name = "foreverypart",
	.flags = SV_EF_DEFAULT_ON,
	.commands = foreverypart_commands,
};
