/* ast.c: entry point of the Sieve front end (ast_parse runs the flex
 * lexer and bison parser of sieve.l / sieve.y over a buffer) and ast_dump,
 * the stable text form of the tree used by the tests.  Also the diagnostics
 * helpers shared by the lexer and the parser. */
#include "grammar/ast.h"
#include <stdarg.h>
#include <string.h>
#include "lib/arena.h"
#include "lib/diag.h"
#include "lib/strbuf.h"
#include "sieve-parser.h"

void ast_ctx_error(struct ast_parse_ctx *ctx, int line, int col, const char *fmt, ...)
{
	va_list ap;
	ctx->failed = true;
	va_start(ap, fmt);
	diag_vadd(ctx->diags, DIAG_ERROR, ctx->script_name, line, col, fmt, ap);
	va_end(ap);
}

void ast_ctx_warning(struct ast_parse_ctx *ctx, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(ctx->diags, DIAG_WARNING, ctx->script_name, line, col, fmt, ap);
	va_end(ap);
}

/* How Pigeonhole names a token in "but found ..." messages. */
const char *ast_token_describe(int type)
{
	switch (type) {
	case AST_YYEOF: return "end of file";
	case NUMBER: return "number";
	case IDENT: return "identifier";
	case TAG: return "tag";
	case STRING: return "string";
	case ')': return "')'";
	case '(': return "'('";
	case '}': return "'}'";
	case '{': return "'{'";
	case ']': return "']'";
	case '[': return "'['";
	case ';': return "';'";
	case ',': return "','";
	case SLASH: return "'/'";
	case COLON: return "':'";
	case GARBAGE: return "unknown characters";
	default: return "unknown token";
	}
}

int ast_parse(const char *src, size_t len, const char *script_name,
	      struct arena *arena, struct diag_list *diags,
	      struct ast_script **script_r)
{
	struct ast_parse_ctx ctx;
	struct ast_script *s = arena_alloc(arena, sizeof(*s));

	s->name = script_name != NULL ? arena_strdup(arena, script_name) : NULL;
	s->arena = arena;

	memset(&ctx, 0, sizeof(ctx));
	ctx.script_name = s->name;
	ctx.arena = arena;
	ctx.diags = diags;
	ctx.script = s;
	ctx.src = src;
	ctx.len = src != NULL ? len : 0;

	if (ast_lexer_open(&ctx) < 0) {
		diag_add(diags, DIAG_ERROR, s->name, 0, 0,
			 "sieve script is too large");
		ctx.failed = true;
	} else {
		ast_grammar_parse(&ctx);
		ast_lexer_close(&ctx);
	}
	s->commands = ctx.top.head;
	*script_r = s;

	/* Pigeonhole closes a failed parse with this summary error, and the
	 * conformance suite's error counts include it. */
	if (ctx.failed) {
		diag_add(diags, DIAG_ERROR, s->name, 0, 0, "parse failed");
		return -1;
	}
	return 0;
}

/* Dump ------------------------------------------------------------------ */

static void ast_dump_string(struct strbuf *out, const struct ast_string *s)
{
	if (s->multiline)
		strbuf_puts(out, "text:");
	strbuf_putc(out, '"');
	for (size_t i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->data[i];
		switch (c) {
		case '"': strbuf_puts(out, "\\\""); break;
		case '\\': strbuf_puts(out, "\\\\"); break;
		case '\r': strbuf_puts(out, "\\r"); break;
		case '\n': strbuf_puts(out, "\\n"); break;
		case '\t': strbuf_puts(out, "\\t"); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				strbuf_printf(out, "\\x%02x", c);
			else
				strbuf_putc(out, (char)c);
		}
	}
	strbuf_putc(out, '"');
}

static void ast_dump_args(struct strbuf *out, const struct ast_arg *a)
{
	for (; a != NULL; a = a->next) {
		strbuf_putc(out, ' ');
		switch (a->kind) {
		case AST_ARG_NUMBER:
			strbuf_printf(out, "%llu", (unsigned long long)a->u.number);
			break;
		case AST_ARG_STRING:
			ast_dump_string(out, &a->u.string);
			break;
		case AST_ARG_STRLIST:
			strbuf_putc(out, '[');
			for (size_t i = 0; i < a->u.list.count; i++) {
				if (i > 0)
					strbuf_puts(out, ", ");
				ast_dump_string(out, &a->u.list.items[i]);
			}
			strbuf_putc(out, ']');
			break;
		case AST_ARG_TAG:
			strbuf_printf(out, ":%s", a->u.tag);
			break;
		}
	}
}

static void ast_dump_indent(struct strbuf *out, int depth)
{
	for (int i = 0; i < depth; i++)
		strbuf_puts(out, "  ");
}

/* The tree is at most AST_MAX_BLOCK_NESTING blocks of at most
 * AST_MAX_TEST_NESTING tests deep (the parser enforces both), so this
 * recursion is bounded; the depth guard keeps it so for hand-built trees. */
static void ast_dump_nodes(struct strbuf *out, const struct ast_node *n, int depth)
{
	if (depth > 4 * (AST_MAX_BLOCK_NESTING + AST_MAX_TEST_NESTING)) {
		ast_dump_indent(out, depth);
		strbuf_puts(out, "...\n");
		return;
	}
	for (; n != NULL; n = n->next) {
		ast_dump_indent(out, depth);
		strbuf_printf(out, "%s %s @%d:%d", n->kind == AST_COMMAND ? "command" : "test",
			      n->ident != NULL ? n->ident : "?", n->loc.line, n->loc.col);
		ast_dump_args(out, n->args);
		strbuf_putc(out, '\n');
		if (n->test_list) {
			ast_dump_indent(out, depth + 1);
			strbuf_puts(out, "(\n");
			ast_dump_nodes(out, n->tests, depth + 2);
			ast_dump_indent(out, depth + 1);
			strbuf_puts(out, ")\n");
		} else {
			ast_dump_nodes(out, n->tests, depth + 1);
		}
		if (n->has_block) {
			ast_dump_indent(out, depth + 1);
			strbuf_puts(out, "{\n");
			ast_dump_nodes(out, n->block, depth + 2);
			ast_dump_indent(out, depth + 1);
			strbuf_puts(out, "}\n");
		}
	}
}

void ast_dump(const struct ast_script *s, struct strbuf *out)
{
	/* An empty dump is still a valid, NUL-terminated string. */
	strbuf_append(out, "", 0);
	if (s != NULL)
		ast_dump_nodes(out, s->commands, 0);
}
