/* ast.h: the syntax tree the parser builds from Sieve text (RFC 5228 section
 * 8).  The grammar is generic: commands and tests are not keywords, so the
 * tree only knows identifiers, arguments, tests and blocks.  The validator
 * (sieve/validator.c) gives them meaning through the registry. */
#ifndef TAMIS_AST_H
#define TAMIS_AST_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "lib/arena.h"
#include "lib/diag.h"

struct ast_loc {
	int line, col;      /* 1-based */
};

struct ast_string {
	char *data;         /* escapes and dot-stuffing already removed; NUL-terminated */
	size_t len;
	bool multiline;     /* came from a text: literal */
	struct ast_loc loc;
};

enum ast_arg_kind {
	AST_ARG_NUMBER,
	AST_ARG_STRING,
	AST_ARG_STRLIST,
	AST_ARG_TAG,
};

struct ast_arg {
	enum ast_arg_kind kind;
	struct ast_loc loc;
	union {
		uint64_t number;                    /* K/M/G applied */
		struct ast_string string;
		struct {
			struct ast_string *items;
			size_t count;
		} list;
		char *tag;                          /* without the leading ':' */
	} u;
	struct ast_arg *next;
};

enum ast_node_kind {
	AST_COMMAND,
	AST_TEST,
};

struct ast_node {
	enum ast_node_kind kind;
	char *ident;
	struct ast_loc loc;
	struct ast_arg *args;          /* linked list, in order */
	size_t nargs;
	struct ast_node *tests;        /* sub-tests (test or test-list), linked via next */
	size_t ntests;
	bool test_list;                /* tests given as "( ... )" */
	bool has_block;                /* command ended in { ... } instead of ';' */
	struct ast_node *block;        /* commands inside the block, linked via next */
	struct ast_node *next;
	struct ast_node *parent;
	void *vdata;                   /* validator's annotation */
};

struct ast_script {
	const char *name;              /* script name used in messages */
	struct ast_node *commands;     /* top-level commands */
	struct arena *arena;           /* owns every node and string */
};

/* Parser limits (Pigeonhole: sieve-limits.h and sieve-parser.c). */
#define AST_MAX_ARGUMENTS      32
#define AST_MAX_BLOCK_NESTING  32
#define AST_MAX_TEST_NESTING   32
#define AST_MAX_IDENTIFIER_LEN 32
#define AST_MAX_STRING_LEN     (1024 * 1024)

/* Parses src[0..len) into a tree allocated from `arena`.  Every lexical and
 * syntax error goes to `diags` (with line and column); parsing goes on after
 * an error, recovering at ';' and '}', so all errors are reported.  Returns 0
 * when there was no error, -1 otherwise (*script_r is still set to what could
 * be parsed, or NULL).  Reentrant: no static state. */
int ast_parse(const char *src, size_t len, const char *script_name,
	      struct arena *arena, struct diag_list *diags,
	      struct ast_script **script_r);

/* Debug aid: prints the tree in a stable text form (used by the parser's unit
 * tests). */
struct strbuf;
void ast_dump(const struct ast_script *s, struct strbuf *out);

#endif
