/* sieve.y: the Sieve grammar (RFC 5228 section 8.2) as a pure bison parser.
 *
 * The grammar is generic: commands and tests are identifiers, not keywords,
 * and the validator gives them meaning later.  The hard part is error
 * recovery, which must report exactly the errors Pigeonhole 0.5.19 reports,
 * because the conformance suite counts them.  Pigeonhole's parser is a
 * recursive descent with a few recovery points; each of them skips tokens
 * with a priority/nesting rule (see ast_y_recover) and either resumes or
 * gives up, handing the failure to the next recovery point outward.  Here
 * every recovery point is an `error` rule whose action runs that same skip
 * procedure on our own token stream (bison's own token discarding is never
 * used, and every such action calls yyerrok).  The action leaves the stream
 * starting with what the rule's *_tail expects: the end token it found, or
 * a marker.  A give-up is GAVEUP (ends the rule) followed by FAIL, which no
 * rule accepts: it raises a silent syntax error that bison's error unwinding
 * brings to the next enclosing error rule, just as Pigeonhole's "return 0"
 * reaches the next enclosing recovery point.  HARDFAIL models Pigeonhole's
 * rarer "return -1" (see the test list rule), BLKEND, BLKSKIP and TLSKIP
 * the other ways a recovery can end a construct.
 *
 * Messages of syntax errors are produced by the error rule that catches
 * them, since the rule knows the construct (command, block, test list,
 * string list); yyreport_syntax_error only remembers the offending token.
 */

%require "3.8"
%define api.pure full
%define api.prefix {ast_yy}
%define parse.error custom
%locations
%param {struct ast_parse_ctx *ctx}

%code requires {
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "lib/strbuf.h"
#include "grammar/ast.h"

struct ast_parse_ctx;

/* Semantic values of the nonterminals that build lists. */
struct ast_y_nodes {
	struct ast_node *head, *tail;
};

struct ast_y_args {
	struct ast_arg *head, *tail;
	size_t nargs;
	struct ast_node *tests;
	size_t ntests;
	bool test_list;
};

struct ast_y_strs {
	struct ast_string *items;
	size_t count, cap;
	struct ast_loc loc;
};

/* An identifier or tag name as a slice of the source: the parser copies
 * only those it keeps, not the ones error recovery skips. */
struct ast_y_word {
	const char *p;
	size_t n;
};

struct ast_y_tail {
	struct ast_y_nodes block;
	bool has_block;
};
}

%code provides {
/* One token as it travels through the token stream (see ast_yylex). */
struct ast_y_token {
	int type;
	AST_YYSTYPE val;
	AST_YYLTYPE loc;
};

/* Tokens pushed back by the recovery code: at most the offending token,
 * a stop token and two markers; the rest is headroom. */
#define AST_Y_PUSHBACK_MAX 16

/* State shared by the lexer (sieve.l), the parser and ast.c. */
struct ast_parse_ctx {
	const char *script_name;
	struct arena *arena;
	struct diag_list *diags;
	struct ast_script *script;

	/* Lexer: input and position (line/col are 1-based, col counts
	 * bytes).  tok_* is where the current flex match started. */
	void *scanner;
	const char *src;
	size_t len;
	size_t off, tok_off;
	int line, col, tok_line, tok_col;
	struct strbuf sb;           /* string literal being scanned */
	struct ast_loc str_loc;     /* where it started */
	size_t garbage_end;         /* offset after the last garbage token */

	/* Token stream between the lexer and the parser. */
	struct ast_y_token push[AST_Y_PUSHBACK_MAX];
	int npush;
	bool eof;
	int prev_type;              /* token delivered before cur_type */
	int cur_type;
	struct ast_loc cur_loc;

	/* Parser state. */
	bool failed;                /* some error: the parse fails */
	bool invalid;               /* Pigeonhole's !parser->valid */
	int block_depth, test_depth;
	bool pend;                  /* a syntax error awaits its message */
	int pend_type, pend_prev;
	struct ast_loc pend_loc;
	struct ast_y_nodes top;     /* top-level commands parsed so far */
	struct ast_node *args_owner; /* node whose arguments are being read */
};

/* sieve.l */
int ast_lexer_open(struct ast_parse_ctx *ctx);
void ast_lexer_close(struct ast_parse_ctx *ctx);
int ast_lexer_scan(AST_YYSTYPE *val, AST_YYLTYPE *loc, struct ast_parse_ctx *ctx);

/* ast.c */
void ast_ctx_error(struct ast_parse_ctx *ctx, int line, int col,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ast_ctx_warning(struct ast_parse_ctx *ctx, int line, int col,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const char *ast_token_describe(int type);

/* sieve.y: runs the parser over ctx->src; the lexer must be open. */
void ast_grammar_parse(struct ast_parse_ctx *ctx);
}

%code {
#include <stdarg.h>
#include <string.h>
#include "lib/arena.h"
#include "lib/diag.h"

static int ast_yylex(AST_YYSTYPE *val, AST_YYLTYPE *loc, struct ast_parse_ctx *ctx);
static void ast_yyerror(AST_YYLTYPE *loc, struct ast_parse_ctx *ctx, const char *msg);

static void ast_y_push(struct ast_parse_ctx *ctx, int type,
		       const AST_YYSTYPE *val, const AST_YYLTYPE *loc);
static void ast_y_push_token(struct ast_parse_ctx *ctx, const struct ast_y_token *t);
static void ast_y_push_marker(struct ast_parse_ctx *ctx, int type);
static void ast_y_read(struct ast_parse_ctx *ctx, struct ast_y_token *t);
static void ast_y_peek(struct ast_parse_ctx *ctx, struct ast_y_token *t);
static void ast_y_fail(struct ast_parse_ctx *ctx);
static void ast_y_giveup(struct ast_parse_ctx *ctx);
static int ast_y_recover(struct ast_parse_ctx *ctx, int end_token);
static void ast_y_parser_error(struct ast_parse_ctx *ctx, int type,
			       struct ast_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void ast_y_pending_error(struct ast_parse_ctx *ctx, const char *fmt);
static void ast_y_second_error(struct ast_parse_ctx *ctx, const char *fmt);
static struct ast_node *ast_y_node(struct ast_parse_ctx *ctx, enum ast_node_kind kind,
				   struct ast_y_word ident, const AST_YYLTYPE *loc);
static void ast_y_finish(struct ast_node *n, const struct ast_y_args *a);
static void ast_y_set_block(struct ast_node *n, const struct ast_y_nodes *b);
static void ast_y_append(struct ast_y_nodes *l, struct ast_node *n);
static struct ast_arg *ast_y_arg(struct ast_parse_ctx *ctx, enum ast_arg_kind kind,
				 const AST_YYLTYPE *loc);
static void ast_y_strs_add(struct ast_parse_ctx *ctx, struct ast_y_strs *l,
			   const struct ast_string *s);

static struct ast_loc ast_y_loc(const AST_YYLTYPE *l)
{
	struct ast_loc r = { l->first_line, l->first_column };
	return r;
}

/* Hands the parser's lookahead token (if any) back to the token stream so
 * that recovery code sees the stream exactly as Pigeonhole's "current
 * token" onward.  Returns true when the lookahead was the FAIL marker,
 * which is dropped: it only said "an inner construct gave up". */
#define AST_Y_TAKE_LOOKAHEAD(was_fail)                                  \
	do {                                                            \
		(was_fail) = false;                                     \
		if (yychar == FAIL) {                                   \
			(was_fail) = true;                              \
			yyclearin;                                      \
		} else if (yychar != AST_YYEMPTY) {                     \
			ast_y_push(ctx, yychar, &yylval, &yylloc);      \
			yyclearin;                                      \
		}                                                       \
	} while (0)
}

%union {
	struct ast_y_word word;
	uint64_t number;
	struct ast_string string;
	struct ast_node *node;
	struct ast_arg *arg;
	struct ast_y_nodes nodes;
	struct ast_y_args args;
	struct ast_y_strs strs;
	struct ast_y_tail tail;
	int depth;
}

%token <word> IDENT "identifier"
%token <word> TAG "tag"
%token <string> STRING "string"
%token <number> NUMBER "number"
/* Tokens no rule accepts: the lexer returns them so that errors can name
 * what was found (Pigeonhole's STT_GARBAGE, STT_SLASH, STT_COLON and
 * STT_ERROR; the lexer already reported the last one). */
%token GARBAGE "unknown characters"
%token SLASH "'/'"
%token COLON "':'"
%token LEXERR "lexical error"
/* Internal markers pushed by the recovery code, never by the lexer. */
%token FAIL "recovery failure"
%token BLKEND "recovered block end"
%token BLKSKIP "skipped block"
%token TLSKIP "skipped test list"
%token GAVEUP "abandoned construct"
%token HARDFAIL "hard failure"

/* A test that just read its arguments takes a following HARDFAIL (see
 * the test list's error rule): the innermost test turns it into FAIL. */
%precedence TEST_END
%precedence HARDFAIL

%type <node> command cmd_ident test test_ident tl_member tm_ident
%type <nodes> commands block tlist
%type <args> arguments args tests_opt testlist
%type <arg> argument
%type <strs> strlist strs
%type <tail> cmd_tail
%type <depth> blk_open tl_open

%%

script:
	top_cmds
	;

/* Top-level commands are collected in ctx as they complete, so that the
 * tree parsed so far survives an aborted parse. */
top_cmds:
	%empty
	| top_cmds command	{ ast_y_append(&ctx->top, $2); }
	;

commands:
	%empty			{ $$.head = $$.tail = NULL; }
	| commands command	{ $$ = $1; ast_y_append(&$$, $2); }
	;

command:
	cmd_ident arguments ';'
		{ $$ = $1; ast_y_finish($$, &$2); }
	| cmd_ident arguments block
		{ $$ = $1; ast_y_finish($$, &$2); ast_y_set_block($$, &$3); }
	| cmd_ident error cmd_recover cmd_tail
		{ $$ = $1; if ($4.has_block) ast_y_set_block($$, &$4.block); }
	| cmd_ident arguments HARDFAIL
		{
			/* Pigeonhole returns -1 up to the top: the parse
			 * ends here without further messages. */
			$$ = $1;
			YYABORT;
		}
	;

cmd_ident:
	IDENT
		{
			$$ = ast_y_node(ctx, AST_COMMAND, $1, &@1);
			ctx->test_depth = 1;
		}
	;

/* Pigeonhole: a command that is not properly ended skips to the next ';'
 * (or a '{' that starts its block); finding '}' or the end first fails. */
cmd_recover:
	%empty
		{
			bool was_fail;
			AST_Y_TAKE_LOOKAHEAD(was_fail);
			if (!was_fail)
				ast_y_pending_error(ctx,
					"expected end of command ';' or the beginning "
					"of a compound block '{', but found %s");
			if (!ast_y_recover(ctx, ';'))
				ast_y_giveup(ctx);
			yyerrok;
		}
	;

cmd_tail:
	';'			{ $$.has_block = false; $$.block.head = $$.block.tail = NULL; }
	| block			{ $$.has_block = true; $$.block = $1; }
	| GAVEUP		{ $$.has_block = false; $$.block.head = $$.block.tail = NULL; }
	;

block:
	blk_open commands '}'
		{ $$ = $2; ctx->block_depth = $1; }
	| blk_open BLKSKIP
		{ $$.head = $$.tail = NULL; ctx->block_depth = $1; }
	| blk_open commands error
		{
			/* Pigeonhole's block recovery: skip to the matching
			 * '}'.  When the block's own commands failed (FAIL),
			 * that '}' is consumed; after an unexpected token at
			 * block level it is left for the enclosing block,
			 * which Pigeonhole does too. */
			bool was_fail;
			AST_Y_TAKE_LOOKAHEAD(was_fail);
			if (!was_fail)
				ast_y_pending_error(ctx,
					"expected end of compound block '}', but found %s");
			ctx->block_depth = $1 + 1;
			if (!ast_y_recover(ctx, '}'))
				ast_y_giveup(ctx);
			else if (!was_fail)
				ast_y_push_marker(ctx, BLKEND);
			yyerrok;
		}
	  blk_tail
		{ $$ = $2; ctx->block_depth = $1; }
	;

/* What the recovery above left: the '}' it consumes, BLKEND when the '}'
 * stays for the enclosing block, GAVEUP when the block failed. */
blk_tail:
	'}'
	| BLKEND
	| GAVEUP
	;

blk_open:
	'{'
		{
			$$ = ctx->block_depth;
			if (ctx->block_depth + 1 > AST_MAX_BLOCK_NESTING) {
				struct ast_y_token t;
				bool was_fail;
				/* Defensive: this rule reduces right after the '{',
				 * before any lookahead is read. */
				AST_Y_TAKE_LOOKAHEAD(was_fail);
				(void)was_fail;
				ast_y_peek(ctx, &t);
				ast_y_parser_error(ctx, t.type, ast_y_loc(&t.loc),
					"cannot nest command blocks deeper than %d levels",
					AST_MAX_BLOCK_NESTING);
				int ok = ast_y_recover(ctx, '}');
				if (ok) {
					struct ast_y_token rb;
					ast_y_read(ctx, &rb);   /* the '}' */
				} else {
					ast_y_fail(ctx);
				}
				ast_y_push_marker(ctx, BLKSKIP);
			} else {
				ctx->block_depth++;
			}
		}
	;

arguments:
	args tests_opt
		{
			$$ = $1;
			$$.tests = $2.tests;
			$$.ntests = $2.ntests;
			$$.test_list = $2.test_list;
		}
	;

args:
	%empty
		{ memset(&$$, 0, sizeof($$)); }
	| args argument
		{
			$$ = $1;
			if ($$.tail != NULL)
				$$.tail->next = $2;
			else
				$$.head = $2;
			$$.tail = $2;
			$$.nargs++;
			if ($$.nargs > AST_MAX_ARGUMENTS) {
				/* Pigeonhole reports this at the token after the
				 * argument and gives up on the command or test. */
				bool was_fail;
				struct ast_y_token t;
				AST_Y_TAKE_LOOKAHEAD(was_fail);
				if (was_fail)
					ast_y_push_marker(ctx, FAIL);
				ast_y_peek(ctx, &t);
				ast_y_parser_error(ctx, t.type, ast_y_loc(&t.loc),
					"too many arguments for command '%s'",
					ctx->args_owner != NULL ? ctx->args_owner->ident : "");
				ast_y_fail(ctx);
			}
		}
	;

argument:
	STRING
		{ $$ = ast_y_arg(ctx, AST_ARG_STRING, &@1); $$->u.string = $1; }
	| NUMBER
		{ $$ = ast_y_arg(ctx, AST_ARG_NUMBER, &@1); $$->u.number = $1; }
	| TAG
		{
			$$ = ast_y_arg(ctx, AST_ARG_TAG, &@1);
			$$->u.tag = arena_strndup(ctx->arena, $1.p, $1.n);
		}
	| strlist
		{
			$$ = ast_y_arg(ctx, AST_ARG_STRLIST, &@1);
			$$->loc = $1.loc;
			$$->u.list.items = $1.items;
			$$->u.list.count = $1.count;
		}
	;

strlist:
	'[' strs ']'
		{ $$ = $2; $$.loc = ast_y_loc(&@1); }
	| '[' error
		{
			bool was_fail;
			bool end_check = ctx->pend_prev == STRING;
			AST_Y_TAKE_LOOKAHEAD(was_fail);
			/* Nothing inside a string list can fail, so the
			 * lookahead is never FAIL here. */
			if (was_fail)
				end_check = true;
			else if (ctx->pend_prev == '[')
				ast_y_pending_error(ctx,
					"expecting string after '[' in string list, but found %s");
			else if (ctx->pend_prev == ',')
				ast_y_pending_error(ctx,
					"expecting string after ',' in string list, but found %s");
			else
				ast_y_pending_error(ctx,
					"expecting ',' or end of string list ']', but found %s");
			if (!ast_y_recover(ctx, ']')) {
				if (!end_check)
					ast_y_second_error(ctx,
						"expecting ',' or end of string list ']', but found %s");
				ast_y_giveup(ctx);
			}
			yyerrok;
		}
	  sl_tail
		{ memset(&$$, 0, sizeof($$)); $$.loc = ast_y_loc(&@1); }
	;

sl_tail:
	']'
	| GAVEUP
	;

strs:
	STRING
		{ memset(&$$, 0, sizeof($$)); ast_y_strs_add(ctx, &$$, &$1); }
	| strs ',' STRING
		{ $$ = $1; ast_y_strs_add(ctx, &$$, &$3); }
	;

tests_opt:
	%empty
		{ memset(&$$, 0, sizeof($$)); }
	| test
		{ memset(&$$, 0, sizeof($$)); $$.tests = $1; $$.ntests = 1; }
	| testlist
		{ $$ = $1; }
	;

test:
	test_ident arguments %prec TEST_END
		{
			$$ = $1;
			ast_y_finish($$, &$2);
			ctx->test_depth--;
		}
	| test_ident arguments HARDFAIL
		{
			/* Pigeonhole turns a sub-test's -1 into a plain
			 * failure of the parent, which its own caller then
			 * recovers from: FAIL after this test does that. */
			$$ = $1;
			ast_y_finish($$, &$2);
			ctx->test_depth--;
			ast_y_fail(ctx);
		}
	;

test_ident:
	IDENT
		{
			if (ctx->test_depth + 1 > AST_MAX_TEST_NESTING) {
				/* Pigeonhole reports at the identifier and gives
				 * up with it as the current token. */
				bool was_fail;
				AST_YYSTYPE v;
				AST_Y_TAKE_LOOKAHEAD(was_fail);
				if (was_fail)
					ast_y_push_marker(ctx, FAIL);
				ast_y_parser_error(ctx, IDENT, ast_y_loc(&@1),
					"cannot nest tests deeper than %d levels",
					AST_MAX_TEST_NESTING);
				memset(&v, 0, sizeof(v));
				v.word = $1;
				ast_y_push(ctx, IDENT, &v, &@1);
				ast_y_fail(ctx);
			}
			$$ = ast_y_node(ctx, AST_TEST, $1, &@1);
			ctx->test_depth++;
		}
	;

testlist:
	tl_open tlist ')'
		{
			memset(&$$, 0, sizeof($$));
			$$.tests = $2.head;
			for (struct ast_node *n = $2.head; n != NULL; n = n->next)
				$$.ntests++;
			$$.test_list = true;
			ctx->test_depth = $1;
		}
	| tl_open TLSKIP
		{
			memset(&$$, 0, sizeof($$));
			$$.test_list = true;
			ctx->test_depth = $1;
		}
	| tl_open tlist HARDFAIL
		{
			/* A member's hard failure abandons the list and goes
			 * on to the list's owner. */
			memset(&$$, 0, sizeof($$));
			$$.tests = $2.head;
			$$.test_list = true;
			ctx->test_depth = $1;
			ast_y_push_marker(ctx, HARDFAIL);
		}
	| tl_open error
		{
			/* Pigeonhole: skip to the matching ')'; when that
			 * fails, the ')' check reports once more unless it is
			 * what failed in the first place. */
			bool was_fail;
			bool end_check = false, no_test = false;
			const char *owner = ctx->args_owner != NULL ? ctx->args_owner->ident : "";
			AST_Y_TAKE_LOOKAHEAD(was_fail);
			if (!was_fail) {
				if (ctx->pend_prev == '(') {
					no_test = true;
					ast_y_pending_error(ctx,
						"expecting test identifier after '(' in test list, but found %s");
				} else if (ctx->pend_prev == ',') {
					ast_y_pending_error(ctx,
						"expecting test identifier after ',' in test list, but found %s");
				} else {
					end_check = true;
					ast_y_pending_error(ctx,
						"expecting ',' or end of test list ')', but found %s");
				}
			}
			ctx->test_depth = $1 + 1;
			int ok = ast_y_recover(ctx, ')');
			if (!ok && !end_check)
				ast_y_second_error(ctx,
					"expecting ',' or end of test list ')', but found %s");
			if (no_test) {
				/* Pigeonhole 0.5.19: a list without a first test
				 * ends with this error and returns -1 (HARDFAIL),
				 * whether or not the ')' was found. */
				struct ast_y_token rp, t;
				if (ok)
					ast_y_read(ctx, &rp);
				ast_y_peek(ctx, &t);
				ast_y_parser_error(ctx, t.type, ast_y_loc(&t.loc),
					"failed to accept more tests for command '%s'", owner);
				ast_y_push_marker(ctx, HARDFAIL);
				if (ok)
					ast_y_push_token(ctx, &rp);
				else
					ast_y_push_marker(ctx, GAVEUP);
			} else if (!ok) {
				ast_y_giveup(ctx);
			}
			yyerrok;
		}
	  tl_tail
		{
			memset(&$$, 0, sizeof($$));
			$$.test_list = true;
			ctx->test_depth = $1;
		}
	;

tl_tail:
	')'
	| GAVEUP
	;

tl_open:
	'('
		{
			$$ = ctx->test_depth;
			if (ctx->test_depth + 1 > AST_MAX_TEST_NESTING) {
				struct ast_y_token t;
				bool was_fail;
				/* Defensive, as in blk_open. */
				AST_Y_TAKE_LOOKAHEAD(was_fail);
				(void)was_fail;
				ast_y_peek(ctx, &t);
				ast_y_parser_error(ctx, t.type, ast_y_loc(&t.loc),
					"cannot nest tests deeper than %d levels",
					AST_MAX_TEST_NESTING);
				if (ast_y_recover(ctx, ')')) {
					struct ast_y_token rp;
					ast_y_read(ctx, &rp);   /* the ')' */
				} else {
					ast_y_fail(ctx);
				}
				ast_y_push_marker(ctx, TLSKIP);
			} else {
				ctx->test_depth++;
			}
		}
	;

tlist:
	tl_member
		{ $$.head = $$.tail = NULL; ast_y_append(&$$, $1); }
	| tlist ',' tl_member
		{ $$ = $1; ast_y_append(&$$, $3); }
	;

tl_member:
	tm_ident arguments
		{ $$ = $1; ast_y_finish($$, &$2); }
	;

tm_ident:
	IDENT
		{ $$ = ast_y_node(ctx, AST_TEST, $1, &@1); }
	;

%%

/* Token stream ------------------------------------------------------- */

static void ast_y_push(struct ast_parse_ctx *ctx, int type,
		       const AST_YYSTYPE *val, const AST_YYLTYPE *loc)
{
	/* The recovery code never stacks more than a few tokens; if that
	 * invariant broke, dropping the token only degrades recovery. */
	if (ctx->npush >= AST_Y_PUSHBACK_MAX)
		return;
	struct ast_y_token *t = &ctx->push[ctx->npush++];
	memset(t, 0, sizeof(*t));
	t->type = type;
	if (val != NULL)
		t->val = *val;
	if (loc != NULL)
		t->loc = *loc;
}

static void ast_y_push_token(struct ast_parse_ctx *ctx, const struct ast_y_token *t)
{
	ast_y_push(ctx, t->type, &t->val, &t->loc);
}

/* Markers carry the location of the token they precede, so that an
 * error naming the current token never sees a zero location. */
static void ast_y_push_marker(struct ast_parse_ctx *ctx, int type)
{
	AST_YYLTYPE loc;
	memset(&loc, 0, sizeof(loc));
	if (ctx->npush > 0)
		loc = ctx->push[ctx->npush - 1].loc;
	ast_y_push(ctx, type, NULL, &loc);
}

/* Next token from the pushback stack or the lexer.  After the end of the
 * input every read returns the end again (flex must not be re-entered
 * after its end-of-file rule). */
static void ast_y_read(struct ast_parse_ctx *ctx, struct ast_y_token *t)
{
	if (ctx->npush > 0) {
		*t = ctx->push[--ctx->npush];
		return;
	}
	memset(t, 0, sizeof(*t));
	if (ctx->eof) {
		t->type = AST_YYEOF;
		t->loc.first_line = t->loc.last_line = ctx->line;
		t->loc.first_column = t->loc.last_column = ctx->col;
		return;
	}
	t->type = ast_lexer_scan(&t->val, &t->loc, ctx);
	if (t->type == AST_YYEOF)
		ctx->eof = true;
}

static void ast_y_peek(struct ast_parse_ctx *ctx, struct ast_y_token *t)
{
	ast_y_read(ctx, t);
	if (t->type == FAIL) {
		/* Already failing: the current token is the one after. */
		struct ast_y_token f = *t;
		ast_y_read(ctx, t);
		ast_y_push_token(ctx, t);
		ast_y_push_token(ctx, &f);
		return;
	}
	ast_y_push_token(ctx, t);
}

/* Gives up on the current construct: FAIL goes in front of the current
 * token; no rule accepts it, so the enclosing recovery point takes over. */
static void ast_y_fail(struct ast_parse_ctx *ctx)
{
	if (ctx->npush > 0 && ctx->push[ctx->npush - 1].type == FAIL)
		return;
	struct ast_y_token t;
	ast_y_peek(ctx, &t);
	ast_y_push_marker(ctx, FAIL);
}

/* A recovery point gives up: GAVEUP completes its rule (the *_tail
 * nonterminals), then FAIL travels on to the enclosing recovery point. */
static void ast_y_giveup(struct ast_parse_ctx *ctx)
{
	ast_y_fail(ctx);
	ast_y_push_marker(ctx, GAVEUP);
}

static int ast_yylex(AST_YYSTYPE *val, AST_YYLTYPE *loc, struct ast_parse_ctx *ctx)
{
	struct ast_y_token t;
	ast_y_read(ctx, &t);
	*val = t.val;
	*loc = t.loc;
	ctx->prev_type = ctx->cur_type;
	ctx->cur_type = t.type;
	ctx->cur_loc = ast_y_loc(&t.loc);
	return t.type;
}

/* Recovery ------------------------------------------------------------ */

/* Grammatical priority of the tokens that open or close a structure
 * (Pigeonhole's sieve_parser_recover): string list < test list < command
 * < block.  Everything else has none. */
static int ast_y_priority(int type)
{
	switch (type) {
	case '{': case '}':
		return 3;
	case ';':
		return 2;
	case '(': case ')':
		return 1;
	case '[': case ']':
		return 0;
	default:
		return -1;
	}
}

/* Skips from the current token to the `end_token` that closes the
 * structure being recovered, counting nested structures of the same kind
 * and stopping at any token of a higher priority.  On success the end
 * token stays the current token (returns 1); otherwise the token where it
 * stopped does (returns 0).  A command may also resume at a '{'. */
static int ast_y_recover(struct ast_parse_ctx *ctx, int end_token)
{
	static const int begin_tokens[4] = { '[', '(', -1, '{' };
	static const int end_tokens[4] = { ']', ')', ';', '}' };
	int prio = ast_y_priority(end_token);
	int nesting = 1;
	struct ast_y_token t;

	ast_y_read(ctx, &t);
	while (t.type != AST_YYEOF && ast_y_priority(t.type) <= prio) {
		if (t.type == begin_tokens[prio]) {
			nesting++;
		} else if (t.type == end_tokens[prio]) {
			if (--nesting == 0) {
				ast_y_push_token(ctx, &t);
				return 1;
			}
		}
		ast_y_read(ctx, &t);
	}
	ast_y_push_token(ctx, &t);
	return end_token == ';' && t.type == '{';
}

/* Errors --------------------------------------------------------------- */

/* Pigeonhole does not report a parse error at a token the lexer already
 * complained about, but the parse is invalid all the same. */
static void ast_y_parser_error(struct ast_parse_ctx *ctx, int type,
			       struct ast_loc loc, const char *fmt, ...)
{
	ctx->invalid = true;
	ctx->failed = true;
	if (type == LEXERR)
		return;
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(ctx->diags, DIAG_ERROR, ctx->script_name, loc.line, loc.col, fmt, ap);
	va_end(ap);
}

/* The message of the syntax error yyreport_syntax_error remembered; `fmt`
 * takes the description of the offending token. */
static void ast_y_pending_error(struct ast_parse_ctx *ctx, const char *fmt)
{
	if (!ctx->pend)
		return;
	ctx->pend = false;
	ast_y_parser_error(ctx, ctx->pend_type, ctx->pend_loc, fmt,
			   ast_token_describe(ctx->pend_type));
}

/* An error about the token where a recovery stopped. */
static void ast_y_second_error(struct ast_parse_ctx *ctx, const char *fmt)
{
	struct ast_y_token t;
	ast_y_peek(ctx, &t);
	ast_y_parser_error(ctx, t.type, ast_y_loc(&t.loc), fmt,
			   ast_token_describe(t.type));
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, struct ast_parse_ctx *ctx)
{
	(void)yyctx;
	ctx->pend = ctx->cur_type != FAIL && ctx->cur_type != HARDFAIL;
	ctx->pend_type = ctx->cur_type;
	ctx->pend_prev = ctx->prev_type;
	ctx->pend_loc = ctx->cur_loc;
	return 0;
}

/* Only "memory exhausted" comes here: the parser stack is bounded by the
 * nesting limits, so this would be a bug, but it must not pass silently. */
static void ast_yyerror(AST_YYLTYPE *loc, struct ast_parse_ctx *ctx, const char *msg)
{
	ctx->failed = true;
	diag_add(ctx->diags, DIAG_ERROR, ctx->script_name,
		 loc != NULL ? loc->first_line : 0, loc != NULL ? loc->first_column : 0,
		 "%s", msg);
}

/* Tree building -------------------------------------------------------- */

static struct ast_node *ast_y_node(struct ast_parse_ctx *ctx, enum ast_node_kind kind,
				   struct ast_y_word ident, const AST_YYLTYPE *loc)
{
	struct ast_node *n = arena_alloc(ctx->arena, sizeof(*n));
	n->kind = kind;
	n->ident = arena_strndup(ctx->arena, ident.p, ident.n);
	n->loc = ast_y_loc(loc);
	ctx->args_owner = n;
	return n;
}

static void ast_y_finish(struct ast_node *n, const struct ast_y_args *a)
{
	n->args = a->head;
	n->nargs = a->nargs;
	n->tests = a->tests;
	n->ntests = a->ntests;
	n->test_list = a->test_list;
	for (struct ast_node *t = a->tests; t != NULL; t = t->next)
		t->parent = n;
}

static void ast_y_set_block(struct ast_node *n, const struct ast_y_nodes *b)
{
	n->has_block = true;
	n->block = b->head;
	for (struct ast_node *c = b->head; c != NULL; c = c->next)
		c->parent = n;
}

static void ast_y_append(struct ast_y_nodes *l, struct ast_node *n)
{
	n->next = NULL;
	if (l->tail != NULL)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
}

static struct ast_arg *ast_y_arg(struct ast_parse_ctx *ctx, enum ast_arg_kind kind,
				 const AST_YYLTYPE *loc)
{
	struct ast_arg *a = arena_alloc(ctx->arena, sizeof(*a));
	a->kind = kind;
	a->loc = ast_y_loc(loc);
	return a;
}

static void ast_y_strs_add(struct ast_parse_ctx *ctx, struct ast_y_strs *l,
			   const struct ast_string *s)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		l->items = arena_grow(ctx->arena, l->items, l->cap, cap, sizeof(*l->items));
		l->cap = cap;
	}
	l->items[l->count++] = *s;
}

/* Entry ----------------------------------------------------------------- */

void ast_grammar_parse(struct ast_parse_ctx *ctx)
{
	ctx->block_depth = 1;
	ctx->cur_type = ctx->prev_type = AST_YYEOF;
	int rc = ast_yyparse(ctx);
	if (rc != 0)
		ctx->failed = true;
	/* A syntax error no rule caught happened at top level, after the
	 * last complete command.  Pigeonhole names it only when nothing
	 * went wrong before. */
	if (ctx->pend) {
		ctx->pend = false;
		if (!ctx->invalid)
			ast_y_parser_error(ctx, ctx->pend_type, ctx->pend_loc,
				"unexpected %s found at (the presumed) end of file",
				ast_token_describe(ctx->pend_type));
		ctx->invalid = ctx->failed = true;
	}
}
