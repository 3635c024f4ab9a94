/* test_parser.c: unit tests of the Sieve front end (grammar/sieve.l,
 * grammar/sieve.y, grammar/ast.c): the tree and its text dump, locations,
 * string literal rules, limits, and above all the errors and their
 * recovery, which must match Pigeonhole 0.5.19.  The expected diagnostics
 * in oracle_cases were produced by running Debian's sievec (Pigeonhole
 * 0.5.19) on each script; lines are Pigeonhole's, messages are verbatim. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "grammar/ast.h"
#include "lib/arena.h"
#include "lib/diag.h"
#include "lib/strbuf.h"

struct parsed {
	struct arena *arena;
	struct diag_list diags;
	struct ast_script *script;
	int rc;
};

static void parse_n(struct parsed *p, const char *src, size_t len)
{
	p->arena = arena_new(0);
	diag_init(&p->diags);
	p->diags.max_items = 0;   /* keep them all */
	p->script = NULL;
	p->rc = ast_parse(src, len, "t", p->arena, &p->diags, &p->script);
}

static void parse(struct parsed *p, const char *src)
{
	parse_n(p, src, strlen(src));
}

static void parsed_free(struct parsed *p)
{
	diag_free(&p->diags);
	arena_unref(&p->arena);
}

/* "E<line>: msg" / "W<line>: msg" lines, as in oracle_cases. */
static char *diags_text(const struct diag_list *d)
{
	struct strbuf b = STRBUF_INIT;
	strbuf_append(&b, "", 0);
	for (size_t i = 0; i < d->count; i++) {
		const struct diag *g = &d->items[i];
		if (i > 0)
			strbuf_putc(&b, '\n');
		strbuf_printf(&b, "%c%d: %s", g->level == DIAG_ERROR ? 'E' : 'W',
			      g->line, g->msg);
	}
	return strbuf_detach(&b, NULL);
}

static char *dump(const struct parsed *p)
{
	struct strbuf b = STRBUF_INIT;
	ast_dump(p->script, &b);
	return strbuf_detach(&b, NULL);
}

/* The invariants every parse keeps: a tree is always returned, and the
 * parse fails exactly when it reported "parse failed" as its last error. */
static void check_invariants(const struct parsed *p)
{
	assert_non_null(p->script);
	if (p->rc == 0) {
		assert_int_equal(p->diags.errors, 0);
	} else {
		assert_int_equal(p->rc, -1);
		assert_true(p->diags.errors >= 1);
		if (p->diags.count == p->diags.errors + p->diags.warnings) {
			const struct diag *last = &p->diags.items[p->diags.count - 1];
			assert_int_equal(last->level, DIAG_ERROR);
			assert_string_equal(last->msg, "parse failed");
			assert_int_equal(last->line, 0);
		}
	}
}

static void assert_parses_to(const char *src, const char *expected_dump)
{
	struct parsed p;
	parse(&p, src);
	char *d = diags_text(&p.diags);
	assert_string_equal(d, "");
	assert_int_equal(p.rc, 0);
	char *t = dump(&p);
	assert_string_equal(t, expected_dump);
	free(t);
	free(d);
	parsed_free(&p);
}

/* Oracle table ----------------------------------------------------------- */

struct oracle_case {
	const char *name;
	const char *src;
	size_t len;
	const char *expected;
};

static const struct oracle_case oracle_cases[] = {
	{ "garbage", "keep $$$;\nkeep $ $;\n", 20,
	  "E1: unexpected character(s) starting with '$'\nE1: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE2: unexpected character(s) starting with '$'\nE2: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE2: unexpected character(s) starting with '$'\nE0: parse failed" },
	{ "garbage_nul", "keep \000\000$\000;\nkeep \000 \000;\n", 21,
	  "E1: unexpected character(s) starting with 0x00\nE1: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE2: unexpected character(s) starting with 0x00\nE2: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE2: unexpected character(s) starting with 0x00\nE0: parse failed" },
	{ "garbage_ctrl", "keep \001;\nkeep \303\251;\n", 17,
	  "E1: unexpected character(s) starting with 0x01\nE1: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE2: unexpected character(s) starting with 0xc3\nE2: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE0: parse failed" },
	{ "slash_colon", "keep /;\nkeep : ;\n", 17,
	  "E1: expected end of command ';' or the beginning of a compound block '{', but found '/'\nE2: expected end of command ';' or the beginning of a compound block '{', but found ':'\nE0: parse failed" },
	{ "number_overflow", "keep 18446744073709551616;\nkeep 17179869184G;\nkeep 99999999999999999999k;\n", 74,
	  "E1: number exceeds integer limits (max 18446744073709551615)\nE2: number exceeds integer limits (max 18446744073709551615)\nE3: number exceeds integer limits (max 18446744073709551615)\nE0: parse failed" },
	{ "ident_too_long", "if this_is_a_rediculously_long_test_name {\n stop;\n}\n", 52,
	  "E1: encountered impossibly long identifier 'this_is_a_rediculously_long_t...'\nE0: parse failed" },
	{ "tag_too_long", "if test :this_is_an_even_more_rediculously_long_tagged_argument_name {\n stop;\n}\n", 80,
	  "E1: encountered impossibly long tag identifier ':this_is_an_even_more_rediculo...'\nE0: parse failed" },
	{ "bracket_unterminated", "keep;\n/* abc\n*", 14,
	  "E3: end of file before end of bracket comment ('/* ... */') started at line 2\nE0: parse failed" },
	{ "bracket_nul", "keep /* x \000 */;\n", 16,
	  "E1: encountered NUL character in bracket comment\nE1: unexpected character(s) starting with 0x00\nE1: unexpected character(s) starting with '*'\nE0: parse failed" },
	{ "hash_nul", "keep # x\000y\nstop;\n", 17,
	  "E1: encountered NUL character in hash comment\nE1: unexpected character(s) starting with 0x00\nE0: parse failed" },
	{ "hash_eof", "keep;\n# no newline", 18,
	  "W2: no newline (CRLF) at end of hash comment at end of file" },
	{ "quoted_eof", "keep;\nkeep \"abc\ndef", 19,
	  "E3: end of file before end of quoted string started at line 2\nE0: parse failed" },
	{ "quoted_nul", "keep \"a\000b\";\n", 12,
	  "E1: encountered NUL character in quoted string started at line 1\nE1: unexpected character(s) starting with 0x00\nE2: end of file before end of quoted string started at line 1\nE0: parse failed" },
	{ "quoted_cr", "keep \"a\rb\";\n", 12,
	  "E1: found stray carriage-return (CR) character in quoted string started at line 1\nE2: end of file before end of quoted string started at line 1\nE0: parse failed" },
	{ "text_invalid", "keep text: x\n.\n;\n", 17,
	  "E1: invalid character 'x' after 'text:' in multiline string\nE2: unexpected character(s) starting with '.'\nE0: parse failed" },
	{ "text_eof", "keep text:\nabc\n", 15,
	  "E3: end of file before end of multi-line string\nE0: parse failed" },
	{ "text_hash_eof", "keep text: # x", 14,
	  "W1: no newline (CRLF) at end of hash comment at end of file\nE1: end of file before end of multi-line string\nE0: parse failed" },
	{ "text_cr", "keep text:\nab\rc\n.\n;\n", 20,
	  "E2: found stray carriage-return (CR) character in multi-line string started at line 1\nE3: unexpected character(s) starting with '.'\nE0: parse failed" },
	{ "text_nul", "keep text:\nab\000c\n.\n;\n", 20,
	  "E2: encountered NUL character in quoted string started at line 1\nE2: unexpected character(s) starting with 0x00\nE3: unexpected character(s) starting with '.'\nE0: parse failed" },
	{ "text_cr_eof", "keep text:\nab\r", 14,
	  "E0: parse failed" },
	{ "missing_semicolon_block", "if true {\n\tif true {\n\t\tkeep\n\t}\n}\n", 33,
	  "E4: expected end of command ';' or the beginning of a compound block '{', but found '}'\nE0: parse failed" },
	{ "missing_semicolon_eof", "keep", 4,
	  "E1: expected end of command ';' or the beginning of a compound block '{', but found end of file\nE0: parse failed" },
	{ "block_unterminated", "if true { keep;", 15,
	  "E1: expected end of compound block '}', but found end of file\nE0: parse failed" },
	{ "block_garbage", "if true { \"x\"; } keep $;\n", 25,
	  "E1: expected end of compound block '}', but found string\nE0: parse failed" },
	{ "stray_rcurly", "keep; }\n", 8,
	  "E1: unexpected '}' found at (the presumed) end of file\nE0: parse failed" },
	{ "stray_string", "keep;\n\"x\"", 9,
	  "E2: unexpected string found at (the presumed) end of file\nE0: parse failed" },
	{ "strlist_open", "keep [;\n", 8,
	  "E1: expecting string after '[' in string list, but found ';'\nE1: expecting ',' or end of string list ']', but found ';'\nE0: parse failed" },
	{ "strlist_comma", "keep [\"a\",;\nkeep [\"a\", ];\n", 26,
	  "E1: expecting string after ',' in string list, but found ';'\nE1: expecting ',' or end of string list ']', but found ';'\nE2: expecting string after ',' in string list, but found ']'\nE0: parse failed" },
	{ "strlist_end", "keep [\"a\" \"b\"];\nkeep $;\n", 24,
	  "E1: expecting ',' or end of string list ']', but found string\nE2: unexpected character(s) starting with '$'\nE2: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE0: parse failed" },
	{ "testlist_open", "if anyof(;not true) {\n keep;\n}\n", 31,
	  "E1: expecting test identifier after '(' in test list, but found ';'\nE1: expecting ',' or end of test list ')', but found ';'\nE1: failed to accept more tests for command 'anyof'\nE1: expected end of command ';' or the beginning of a compound block '{', but found ')'\nE0: parse failed" },
	{ "testlist_comma", "if anyof(true, ;\n", 17,
	  "E1: expecting test identifier after ',' in test list, but found ';'\nE1: expecting ',' or end of test list ')', but found ';'\nE0: parse failed" },
	{ "testlist_endcomma", "if true {\n\tif anyof(true,true,true,) {\n\t}\n}\n", 44,
	  "E2: expecting test identifier after ',' in test list, but found ')'\nE0: parse failed" },
	{ "testlist_nested", "if anyof(anyof(true, ;\n", 23,
	  "E1: expecting test identifier after ',' in test list, but found ';'\nE1: expecting ',' or end of test list ')', but found ';'\nE1: expecting ',' or end of test list ')', but found ';'\nE0: parse failed" },
	{ "testlist_end", "if anyof(true ] ) {\n keep $;\n}\nif anyof(true ; keep $;\n", 55,
	  "E1: expecting ',' or end of test list ')', but found ']'\nE2: unexpected character(s) starting with '$'\nE2: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE4: expecting ',' or end of test list ')', but found ';'\nE4: unexpected character(s) starting with '$'\nE4: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE0: parse failed" },
	{ "testlist_hardfail_cmd", "keep ($) ;\nkeep $;\n", 19,
	  "E1: unexpected character(s) starting with '$'\nE1: expecting test identifier after '(' in test list, but found unknown characters\nE1: failed to accept more tests for command 'keep'\nE0: parse failed" },
	{ "testlist_hardfail_test", "if allof (allof($), true) ;\nkeep $;\n", 36,
	  "E1: unexpected character(s) starting with '$'\nE1: expecting test identifier after '(' in test list, but found unknown characters\nE1: failed to accept more tests for command 'allof'\nE2: unexpected character(s) starting with '$'\nE2: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE0: parse failed" },
	{ "too_many_args", "keep \"a0\"\n\"a1\"\n\"a2\"\n\"a3\"\n\"a4\"\n\"a5\"\n\"a6\"\n\"a7\"\n\"a8\"\n\"a9\"\n\"a10\"\n\"a11\"\n\"a12\"\n\"a13\"\n\"a14\"\n\"a15\"\n\"a16\"\n\"a17\"\n\"a18\"\n\"a19\"\n\"a20\"\n\"a21\"\n\"a22\"\n\"a23\"\n\"a24\"\n\"a25\"\n\"a26\"\n\"a27\"\n\"a28\"\n\"a29\"\n\"a30\"\n\"a31\"\n\"a32\"\n;\n", 195,
	  "E34: too many arguments for command 'keep'\nE0: parse failed" },
	{ "max_args", "keep \"a0\"\n\"a1\"\n\"a2\"\n\"a3\"\n\"a4\"\n\"a5\"\n\"a6\"\n\"a7\"\n\"a8\"\n\"a9\"\n\"a10\"\n\"a11\"\n\"a12\"\n\"a13\"\n\"a14\"\n\"a15\"\n\"a16\"\n\"a17\"\n\"a18\"\n\"a19\"\n\"a20\"\n\"a21\"\n\"a22\"\n\"a23\"\n\"a24\"\n\"a25\"\n\"a26\"\n\"a27\"\n\"a28\"\n\"a29\"\n\"a30\"\n\"a31\"\n;\n", 189,
	  "" },
	{ "too_many_args_strlist", "keep \"a0\"\n\"a1\"\n\"a2\"\n\"a3\"\n\"a4\"\n\"a5\"\n\"a6\"\n\"a7\"\n\"a8\"\n\"a9\"\n\"a10\"\n\"a11\"\n\"a12\"\n\"a13\"\n\"a14\"\n\"a15\"\n\"a16\"\n\"a17\"\n\"a18\"\n\"a19\"\n\"a20\"\n\"a21\"\n\"a22\"\n\"a23\"\n\"a24\"\n\"a25\"\n\"a26\"\n\"a27\"\n\"a28\"\n\"a29\"\n\"a30\"\n\"a31\"\n[\n;\n", 191,
	  "E34: expecting string after '[' in string list, but found ';'\nE34: expecting ',' or end of string list ']', but found ';'\nE34: too many arguments for command 'keep'\nE0: parse failed" },
	{ "block_nesting_ok", " if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\nstop;\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n", 409,
	  "" },
	{ "block_nesting", " if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\n if true {\nstop;\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\n}\nkeep $;\n", 430,
	  "E33: cannot nest command blocks deeper than 32 levels\nE66: unexpected character(s) starting with '$'\nE66: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE0: parse failed" },
	{ "test_nesting_ok", "if  not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\ntrue { stop; }\n", 168,
	  "" },
	{ "test_nesting", "if  not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\n not\ntrue { stop; }\nkeep $;\n", 181,
	  "E32: cannot nest tests deeper than 32 levels\nE33: unexpected character(s) starting with '$'\nE33: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE0: parse failed" },
	{ "testlist_nesting_ok", "if  anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n true)))))))))))))))))))))))))))))) { stop; }\n", 289,
	  "" },
	{ "testlist_nesting", "if  anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n anyof(\n true))))))))))))))))))))))))))))))) { stop; }\nkeep $;\n", 306,
	  "E32: cannot nest tests deeper than 32 levels\nE33: unexpected character(s) starting with '$'\nE33: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE0: parse failed" },
	{ "lexerr_suppresses", "keep 99999999999999999999 ;\nif anyof(true, 99999999999999999999) { keep; }\n", 75,
	  "E1: number exceeds integer limits (max 18446744073709551615)\nE2: number exceeds integer limits (max 18446744073709551615)\nE0: parse failed" },
	{ "recover_after_semicolon", "keep,\nkeep;\nkeep $;\n", 20,
	  "E1: expected end of command ';' or the beginning of a compound block '{', but found ','\nE3: unexpected character(s) starting with '$'\nE3: expected end of command ';' or the beginning of a compound block '{', but found unknown characters\nE0: parse failed" },
	{ "top_level_abort", "keep } keep $;\n", 15,
	  "E1: expected end of command ';' or the beginning of a compound block '{', but found '}'\nE0: parse failed" },
};

static void test_oracle_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(oracle_cases) / sizeof(oracle_cases[0]); i++) {
		const struct oracle_case *c = &oracle_cases[i];
		struct parsed p;
		parse_n(&p, c->src, c->len);
		char *d = diags_text(&p.diags);
		if (strcmp(d, c->expected) != 0)
			print_error("case %s:\n--- expected\n%s\n--- got\n%s\n", c->name,
				    c->expected, d);
		assert_string_equal(d, c->expected);
		check_invariants(&p);
		assert_int_equal(p.rc, p.diags.errors > 0 ? -1 : 0);
		free(d);
		parsed_free(&p);
	}
}

/* Tree and dump ------------------------------------------------------------ */

static void test_dump_script(void **state)
{
	(void)state;
	assert_parses_to(
		"require [\"fileinto\", \"variables\"];\n"
		"if anyof (header :contains \"subject\" \"x\", not exists [\"a\"]) {\n"
		"\tfileinto :copy \"INBOX.x\";\n"
		"} elsif size :over 1K { discard; stop; }\n"
		"set \"v\" text:\n"
		"line\n"
		"..dot\n"
		".\n"
		";\n",
		"command require @1:1 [\"fileinto\", \"variables\"]\n"
		"command if @2:1\n"
		"  test anyof @2:4\n"
		"    (\n"
		"      test header @2:11 :contains \"subject\" \"x\"\n"
		"      test not @2:43\n"
		"        test exists @2:47 [\"a\"]\n"
		"    )\n"
		"  {\n"
		"    command fileinto @3:2 :copy \"INBOX.x\"\n"
		"  }\n"
		"command elsif @4:3\n"
		"  test size @4:9 :over 1024\n"
		"  {\n"
		"    command discard @4:25\n"
		"    command stop @4:34\n"
		"  }\n"
		"command set @5:1 \"v\" text:\"line\\r\\n.dot\\r\\n\"\n");
}

static void test_empty_scripts(void **state)
{
	(void)state;
	assert_parses_to("", "");
	assert_parses_to("  \n\t# only a comment\n/* and\n another */\r\n", "");
	struct parsed p;
	p.arena = arena_new(0);
	diag_init(&p.diags);
	p.rc = ast_parse(NULL, 0, NULL, p.arena, &p.diags, &p.script);
	assert_int_equal(p.rc, 0);
	assert_non_null(p.script);
	assert_null(p.script->commands);
	parsed_free(&p);
	/* ast_dump copes with no script at all. */
	struct strbuf b = STRBUF_INIT;
	ast_dump(NULL, &b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	strbuf_free(&b);
}

static void test_arg_kinds(void **state)
{
	(void)state;
	struct parsed p;
	parse(&p, "cmd \"s\" [\"one\"] [\"a\",\"b\" , \"c\"] :tag 0 7 2k 3M 4G 18446744073709551615 17179869183G;");
	assert_int_equal(p.rc, 0);
	const struct ast_node *n = p.script->commands;
	assert_non_null(n);
	assert_string_equal(n->ident, "cmd");
	assert_int_equal(n->nargs, 11);
	const struct ast_arg *a = n->args;
	assert_int_equal(a->kind, AST_ARG_STRING);
	assert_string_equal(a->u.string.data, "s");
	a = a->next;
	/* A bracketed list is a list even with a single element. */
	assert_int_equal(a->kind, AST_ARG_STRLIST);
	assert_int_equal(a->u.list.count, 1);
	assert_string_equal(a->u.list.items[0].data, "one");
	a = a->next;
	assert_int_equal(a->kind, AST_ARG_STRLIST);
	assert_int_equal(a->u.list.count, 3);
	assert_string_equal(a->u.list.items[2].data, "c");
	a = a->next;
	assert_int_equal(a->kind, AST_ARG_TAG);
	assert_string_equal(a->u.tag, "tag");
	static const uint64_t nums[] = {
		0, 7, 2048, 3u << 20, 4ull << 30, UINT64_MAX, 17179869183ull << 30,
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		a = a->next;
		assert_int_equal(a->kind, AST_ARG_NUMBER);
		assert_true(a->u.number == nums[i]);
	}
	assert_null(a->next);
	assert_int_equal(n->ntests, 0);
	assert_false(n->has_block);
	parsed_free(&p);
}

static void test_tests_and_parents(void **state)
{
	(void)state;
	struct parsed p;
	parse(&p, "if allof(a, b :x, c (d)) { x; if e { y; } }");
	assert_int_equal(p.rc, 0);
	const struct ast_node *cmd = p.script->commands;
	assert_null(cmd->parent);
	assert_int_equal(cmd->ntests, 1);
	assert_false(cmd->test_list);
	const struct ast_node *allof = cmd->tests;
	assert_int_equal(allof->kind, AST_TEST);
	assert_ptr_equal(allof->parent, cmd);
	assert_true(allof->test_list);
	assert_int_equal(allof->ntests, 3);
	const struct ast_node *c = allof->tests->next->next;
	assert_string_equal(c->ident, "c");
	assert_ptr_equal(c->parent, allof);
	assert_true(c->test_list);
	assert_int_equal(c->ntests, 1);
	assert_true(cmd->has_block);
	const struct ast_node *inner = cmd->block->next;
	assert_string_equal(inner->ident, "if");
	assert_ptr_equal(inner->parent, cmd);
	assert_ptr_equal(inner->block->parent, inner);
	assert_ptr_equal(inner->tests->parent, inner);
	parsed_free(&p);
}

static void test_locations(void **state)
{
	(void)state;
	struct parsed p;
	parse(&p, "# c\n  keep\t\"a\" [\n\"b\",\n  text:\nx\n.\n] :t 5;\n");
	assert_int_equal(p.rc, 0);
	const struct ast_node *n = p.script->commands;
	assert_int_equal(n->loc.line, 2);
	assert_int_equal(n->loc.col, 3);
	const struct ast_arg *a = n->args;
	assert_int_equal(a->loc.line, 2);
	assert_int_equal(a->loc.col, 8);
	assert_int_equal(a->u.string.loc.line, 2);
	assert_int_equal(a->u.string.loc.col, 8);
	a = a->next;
	assert_int_equal(a->loc.line, 2);
	assert_int_equal(a->loc.col, 12);
	assert_int_equal(a->u.list.items[0].loc.line, 3);
	assert_int_equal(a->u.list.items[0].loc.col, 1);
	assert_int_equal(a->u.list.items[1].loc.line, 4);
	assert_int_equal(a->u.list.items[1].loc.col, 3);
	assert_true(a->u.list.items[1].multiline);
	a = a->next;
	assert_int_equal(a->loc.line, 7);
	assert_int_equal(a->loc.col, 3);
	a = a->next;
	assert_int_equal(a->loc.line, 7);
	assert_int_equal(a->loc.col, 6);
	parsed_free(&p);
}

static const struct ast_string *first_string(const struct parsed *p)
{
	assert_non_null(p->script->commands);
	const struct ast_arg *a = p->script->commands->args;
	assert_non_null(a);
	assert_int_equal(a->kind, AST_ARG_STRING);
	return &a->u.string;
}

static void assert_string_value(const char *src, size_t srclen, const char *value,
				size_t len, bool multiline)
{
	struct parsed p;
	parse_n(&p, src, srclen);
	char *d = diags_text(&p.diags);
	assert_string_equal(d, "");
	free(d);
	const struct ast_string *s = first_string(&p);
	assert_int_equal(s->len, len);
	assert_memory_equal(s->data, value, len);
	assert_int_equal(s->data[len], '\0');
	assert_int_equal(s->multiline, multiline);
	parsed_free(&p);
}

#define SV(src, value, ml) assert_string_value(src, sizeof(src) - 1, value, sizeof(value) - 1, ml)

static void test_quoted_strings(void **state)
{
	(void)state;
	SV("k \"\";", "", false);
	/* A backslash makes the next character literal, whatever it is. */
	SV("k \"\\a\\a\\\"\\\\\";", "aa\"\\", false);
	/* Loose LF becomes CRLF; CRLF stays; an escaped line break too. */
	SV("k \"a\nb\r\nc\\\nd\";", "a\r\nb\r\nc\r\nd", false);
	/* Bytes that are not UTF-8 pass: commands check them later. */
	SV("k \"\xff\xfe\x01\";", "\xff\xfe\x01", false);
	SV("k\"x\";", "x", false);
}

static void test_multiline_strings(void **state)
{
	(void)state;
	SV("k text:\n.\n;", "", true);
	SV("k text:\r\nline\r\n.\r\n;", "line\r\n", true);
	SV("k TeXt: \t # comment \r\n a\n..b\n.c\n...\n..\n\n.\n;",
	   " a\r\n.b\r\n.c\r\n..\r\n.\r\n\r\n", true);
	SV("k text:\n\"\\x\"\n.\n;", "\"\\x\"\r\n", true);
	/* "text:" needs the colon right after the word. */
	struct parsed p;
	parse(&p, "k text;");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.script->commands->tests->ident, "text");
	parsed_free(&p);
}

static void test_comments(void **state)
{
	(void)state;
	assert_parses_to("a/**/b/* * / ** */;/***/c#x\r\n;", "command a @1:1\n  test b @1:6\ncommand c @1:25\n");
}

/* The length limit counts the value, CRLF included, not the source. */
static void test_string_length_limit(void **state)
{
	(void)state;
	const size_t max = AST_MAX_STRING_LEN;
	char *src = malloc(max + 64);
	struct parsed p;

	for (int extra = 0; extra <= 1; extra++) {
		size_t n = (size_t)sprintf(src, "k \"");
		memset(src + n, 'a', max + (size_t)extra);
		n += max + (size_t)extra;
		n += (size_t)sprintf(src + n, "\";");
		parse_n(&p, src, n);
		if (extra == 0) {
			assert_int_equal(p.rc, 0);
			assert_int_equal(first_string(&p)->len, max);
		} else {
			char *d = diags_text(&p.diags);
			assert_string_equal(d, "E1: quoted string started at line 1 is too long "
					    "(longer than 1048576 bytes)\nE0: parse failed");
			free(d);
		}
		parsed_free(&p);
	}
	for (int extra = 0; extra <= 1; extra++) {
		size_t n = (size_t)sprintf(src, "k text:\n");
		memset(src + n, 'a', max - 2 + (size_t)extra);
		n += max - 2 + (size_t)extra;
		n += (size_t)sprintf(src + n, "\n.\n;");
		parse_n(&p, src, n);
		if (extra == 0) {
			assert_int_equal(p.rc, 0);
			assert_int_equal(first_string(&p)->len, max);
		} else {
			char *d = diags_text(&p.diags);
			assert_string_equal(d, "E4: multi-line string started at line 1 is too long "
					    "(longer than 1048576 bytes)\nE0: parse failed");
			free(d);
		}
		parsed_free(&p);
	}
	free(src);
}

static void test_identifier_length_limit(void **state)
{
	(void)state;
	char src[128];
	struct parsed p;
	snprintf(src, sizeof(src), "%.32s :%.32s;",
		 "abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789");
	parse(&p, src);
	assert_int_equal(p.rc, 0);
	assert_int_equal(strlen(p.script->commands->ident), 32);
	assert_int_equal(strlen(p.script->commands->args->u.tag), 32);
	parsed_free(&p);
	parse(&p, "abcdefghijklmnopqrstuvwxyz0123456;");
	char *d = diags_text(&p.diags);
	assert_string_equal(d, "E1: encountered impossibly long identifier "
			    "'abcdefghijklmnopqrstuvwxyz012...'\nE0: parse failed");
	free(d);
	parsed_free(&p);
}

/* Columns are ours (Pigeonhole reports lines only): the start of the token
 * a parse error names, where a lexical problem was found. */
static void test_error_columns(void **state)
{
	(void)state;
	struct parsed p;
	parse(&p, "keep\n  \t, ;\nkeep \"ab\rc\";");
	assert_true(p.diags.count >= 3);
	assert_int_equal(p.diags.items[0].line, 2);
	assert_int_equal(p.diags.items[0].col, 4);
	assert_string_equal(p.diags.items[0].msg, "expected end of command ';' or the "
			    "beginning of a compound block '{', but found ','");
	assert_int_equal(p.diags.items[1].line, 3);
	assert_int_equal(p.diags.items[1].col, 10);   /* just after the CR */
	parsed_free(&p);

	parse(&p, "keep 99999999999999999999999;");
	assert_int_equal(p.diags.items[0].col, 6);
	parsed_free(&p);
	parse(&p, "keep ;\n  $$ ");
	assert_int_equal(p.diags.items[0].line, 2);
	assert_int_equal(p.diags.items[0].col, 3);
	parsed_free(&p);
}

static void test_warning_only(void **state)
{
	(void)state;
	struct parsed p;
	parse(&p, "keep;\n# last line");
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.diags.errors, 0);
	assert_int_equal(p.diags.warnings, 1);
	assert_int_equal(p.diags.items[0].level, DIAG_WARNING);
	assert_string_equal(p.diags.items[0].msg,
			    "no newline (CRLF) at end of hash comment at end of file");
	assert_non_null(p.script->commands);
	parsed_free(&p);
}

/* What was parsed before a fatal error is still handed back. */
static void test_partial_tree(void **state)
{
	(void)state;
	struct parsed p;
	parse(&p, "a;\nb { c; }\nd; }\ne;");
	assert_int_equal(p.rc, -1);
	char *t = dump(&p);
	assert_string_equal(t, "command a @1:1\ncommand b @2:1\n  {\n    command c @2:5\n  }\n"
			    "command d @3:1\n");
	free(t);
	parsed_free(&p);
}

static void test_dump_escapes(void **state)
{
	(void)state;
	assert_parses_to("k \"\\\"\\\\\t\x01\x7f\xc3\xa9\n\";",
			 "command k @1:1 \"\\\"\\\\\\t\\x01\\x7f\\xc3\\xa9\\r\\n\"\n");
}

/* Pigeonhole's own conformance scripts, read in place when the checkout
 * is there (they are not copied into this project).  The counts are
 * those of the .svtest files, "parse failed" included. */
static void test_pigeonhole_scripts(void **state)
{
	(void)state;
	static const struct { const char *path; size_t errors; } files[] = {
		{ "compile/errors/lexer.sieve", 9 },
		{ "compile/errors/parser.sieve", 9 },
		{ "compile/recover/commands-semicolon.sieve", 0 },  /* validation: 3 */
		{ "compile/recover/commands-endblock.sieve", 4 },
		{ "compile/recover/tests-endcomma.sieve", 3 },
	};
	const char *dir = getenv("TAMIS_PIGEONHOLE_TESTS");
	if (dir == NULL)
		dir = "../shared/conformance/pigeonhole-0.5.19/tests";
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].path);
		FILE *f = fopen(path, "rb");
		if (f == NULL) {
			if (i == 0)
				skip();
			fail_msg("missing %s", path);
		}
		struct strbuf b = STRBUF_INIT;
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			strbuf_append(&b, buf, n);
		fclose(f);
		struct parsed p;
		parse_n(&p, b.data != NULL ? b.data : "", b.len);
		if (p.diags.errors != files[i].errors)
			print_error("%s: %zu errors\n", files[i].path, p.diags.errors);
		assert_int_equal(p.diags.errors, files[i].errors);
		check_invariants(&p);
		parsed_free(&p);
		strbuf_free(&b);
	}
}

/* Hostile input ------------------------------------------------------------ */

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 10 MB inputs of the worst kinds we know: every one must finish fast
 * (linear), without deep recursion, and with bounded diagnostics. */
static void test_big_garbage(void **state)
{
	(void)state;
	static const struct { const char *head, *unit; } kinds[] = {
		{ "", "$" }, { "keep ", "$ " }, { "if anyof", "(" }, { "keep ", "[" },
		{ "if true ", "{" }, { "", "if true {" }, { "keep ", "a " },
		{ "if ", "not " }, { "keep ", "\"a\" " }, { "keep [", "\"a\"," },
		{ "", "keep;" }, { "keep \"", "\\\"" }, { "", "\"\r\\\"" },
		{ "keep text:\n", "a\rb\n" }, { "", "/*" }, { "#", "x" },
		{ "keep ", "9" }, { "if anyof(", "true," }, { "keep text:", " " },
		{ "", "\x00" }, { "", "}" }, { "keep ", "(a" },
	};
	const size_t size = 10 * 1024 * 1024;
	char *buf = malloc(size);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		size_t n = strlen(kinds[k].head), u = strlen(kinds[k].unit);
		if (u == 0)
			u = 1;   /* the NUL unit */
		memcpy(buf, kinds[k].head, n);
		while (n + u <= size) {
			memcpy(buf + n, kinds[k].unit, u);
			n += u;
		}
		struct arena *a = arena_new(0);
		struct diag_list d;
		struct ast_script *s = NULL;
		diag_init(&d);   /* default cap on stored diagnostics */
		double t0 = now_seconds();
		ast_parse(buf, n, "big", a, &d, &s);
		double dt = now_seconds() - t0;
		if (dt > 20.0)
			print_error("kind %zu took %.2f s\n", k, dt);
		assert_true(dt < 20.0);
		assert_non_null(s);
		assert_true(d.count <= d.max_items);
		diag_free(&d);
		arena_unref(&a);
	}
	free(buf);
}

/* A small xorshift generator: deterministic, and local to the test. */
static uint32_t rng_next(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void test_random_inputs(void **state)
{
	(void)state;
	static const char *const atoms[] = {
		"if", "anyof", "not", "true", "keep", ":is", "\"s\"", "\"a\\\"b\"", "12",
		"1K", "99999999999999999999", "[", "]", "(", ")", "{", "}", ";", ",",
		"$", "/", ":", "#c\n", "/* c */", "\n", " ", "text:\nx\n..y\n.\n",
		"text: #c\n", "\"open", "/* open", "\r", "\\", ".", "\xff",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	uint32_t seed = 12345;
	char buf[1024];
	for (int iter = 0; iter < 5000; iter++) {
		size_t n = 0;
		int count = (int)(rng_next(&seed) % 60);
		for (int i = 0; i < count; i++) {
			if (rng_next(&seed) % 8 == 0) {
				if (n < sizeof(buf))
					buf[n++] = (char)(rng_next(&seed) & 0xff);
				continue;
			}
			const char *t = atoms[rng_next(&seed) % (sizeof(atoms) / sizeof(atoms[0]))];
			size_t l = strlen(t);
			if (n + l + 1 > sizeof(buf))
				break;
			memcpy(buf + n, t, l);
			n += l;
			if (rng_next(&seed) % 2)
				buf[n++] = ' ';
		}
		struct parsed p;
		parse_n(&p, buf, n);
		check_invariants(&p);
		char *t = dump(&p);
		free(t);
		parsed_free(&p);
	}
}

/* Nesting beyond every limit, in every combination, stays bounded. */
static void test_deep_nesting(void **state)
{
	(void)state;
	static const char *const units[] = { "if true {", "if not ", "if anyof(", "k (" , "a [", "x " };
	const size_t reps = 100000;
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t l = strlen(units[u]);
		char *buf = malloc(l * reps + 1);
		for (size_t i = 0; i < reps; i++)
			memcpy(buf + i * l, units[u], l);
		struct parsed p;
		parse_n(&p, buf, l * reps);
		assert_int_equal(p.rc, -1);
		check_invariants(&p);
		char *t = dump(&p);
		free(t);
		parsed_free(&p);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oracle_cases),
		cmocka_unit_test(test_dump_script),
		cmocka_unit_test(test_empty_scripts),
		cmocka_unit_test(test_arg_kinds),
		cmocka_unit_test(test_tests_and_parents),
		cmocka_unit_test(test_locations),
		cmocka_unit_test(test_quoted_strings),
		cmocka_unit_test(test_multiline_strings),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_string_length_limit),
		cmocka_unit_test(test_identifier_length_limit),
		cmocka_unit_test(test_error_columns),
		cmocka_unit_test(test_warning_only),
		cmocka_unit_test(test_partial_tree),
		cmocka_unit_test(test_dump_escapes),
		cmocka_unit_test(test_pigeonhole_scripts),
		cmocka_unit_test(test_big_garbage),
		cmocka_unit_test(test_random_inputs),
		cmocka_unit_test(test_deep_nesting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
