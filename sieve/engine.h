/* engine.h: the engine's internal interfaces, shared by the validator,
 * generator, binary, interpreter, result and every extension file.
 *
 * An extension is one file under sieve/ext/ that defines a
 * `struct sieve_extension_def` and is listed once in sieve/extensions.c.  It
 * declares its commands and tests (with their argument signatures), the tags
 * it adds to other commands, its match types, comparators and address parts.
 * The generic validator checks every use against those signatures; a
 * command's `validate` hook adds what the signature cannot say; its
 * `execute` hook runs it. */
#ifndef TAMIS_ENGINE_H
#define TAMIS_ENGINE_H
#include "sieve/sieve.h"
#include "sieve/match.h"
#include "grammar/ast.h"

/* ------------------------------------------------------------------ */
/* Argument types                                                      */

enum sieve_argtype {
	SV_AT_NUMBER  = 1 << 0,
	SV_AT_STRING  = 1 << 1,
	SV_AT_STRLIST = 1 << 2,   /* a string is accepted as a list of one */
};

/* Classes of tagged arguments: a command accepting a class accepts every tag
 * of that class that an enabled (required) extension provides. */
enum sieve_tag_class {
	SV_TC_NONE = 0,
	SV_TC_MATCH,        /* :is :contains :matches :count :value :regex */
	SV_TC_COMPARATOR,   /* :comparator "name" */
	SV_TC_ADDRPART,     /* :all :localpart :domain :user :detail */
};

enum sieve_match_type {
	SV_MATCH_IS, SV_MATCH_CONTAINS, SV_MATCH_MATCHES,
	SV_MATCH_COUNT, SV_MATCH_VALUE, SV_MATCH_REGEX, SV_MATCH_LIST,
};

enum sieve_addrpart {
	SV_AP_ALL, SV_AP_LOCALPART, SV_AP_DOMAIN, SV_AP_USER, SV_AP_DETAIL,
};

struct sieve_tag_def {
	const char *name;            /* without ':' */
	enum sieve_tag_class cls;
	int id;                      /* enum value within its class, or a command-local id */
	unsigned param;              /* enum sieve_argtype of its parameter, 0 = none */
	const char *param_name;      /* for messages, e.g. "comparator name" */
};

struct sieve_pos_arg {
	const char *name;            /* e.g. "header names" */
	unsigned types;              /* enum sieve_argtype mask */
};

enum sieve_cmd_kind { SV_CMD_COMMAND, SV_CMD_TEST, SV_CMD_HYBRID };

enum sieve_cmd_flags {
	SV_CF_MATCH        = 1 << 0,  /* accepts match type tags */
	SV_CF_COMPARATOR   = 1 << 1,
	SV_CF_ADDRPART     = 1 << 2,
	SV_CF_BLOCK_ALLOWED  = 1 << 3,
	SV_CF_BLOCK_REQUIRED = 1 << 4,
	SV_CF_SUBTEST_ONE  = 1 << 5,  /* exactly one sub-test (not) */
	SV_CF_SUBTEST_LIST = 1 << 6,  /* a test list (allof, anyof) */
	SV_CF_CONTROL      = 1 << 7,  /* generated specially (if, require, ...) */
	SV_CF_OPT_LASTPOS  = 1 << 8,  /* the last positional argument is optional */
	SV_CF_VAR_POS      = 1 << 9,  /* any number of positional args >= npos-1 (pipe/execute) */
	SV_CF_TAG_REPEAT   = 1 << 10, /* a parameterless tag may be repeated (kept once;
	                                 include :once :once); the command's validate
	                                 refuses the repeats it does not want */
	SV_CF_POS1_NAME    = 1 << 11, /* the first positional argument is a name, not a
	                                 string with ${...} parts (set) */
};

struct sieve_validator;
struct sieve_cmd;
struct sieve_action;
struct sieve_runtime;
struct sieve_exec_args;
struct sieve_ctag;

struct sieve_codegen;
struct sieve_strpart;
/* An envelope part an extension adds to the envelope test. */
struct sieve_envelope_part {
	const char *name;
	bool is_address;           /* an address: address parts (:domain ...) apply */
	/* The part's values in this run (arena strings); returns the count,
	   0 when the delivery did not carry it. */
	size_t (*get)(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char ***vals_r);
};
struct sieve_command_def {
	const char *name;
	enum sieve_cmd_kind kind;
	unsigned flags;
	const struct sieve_pos_arg *pos;       /* positional signature */
	unsigned npos;
	const struct sieve_tag_def *const *tags;  /* own tags, NULL-terminated */
	/* Extra compile-time checks after the generic ones; return -1 on error
	   (already reported with sieve_validator_error). */
	int (*validate)(struct sieve_validator *v, struct sieve_cmd *cmd);
	/* Runtime: returns a sieve_status (SIEVE_OK to continue).  Tests set
	   rt->test_result. */
	int (*execute)(struct sieve_runtime *rt, const struct sieve_exec_args *a);
	/* For block commands: called when the block ends (may jump back). */
	int (*block_end)(struct sieve_runtime *rt, const struct sieve_exec_args *a);
};

/* A tag that an extension adds to a command of another extension. */
struct sieve_tag_link {
	const char *command;         /* command or test name */
	const struct sieve_tag_def *tag;
};

struct sieve_comparator_def {
	const char *name;            /* "i;octet" */
	enum match_comparator id;
};

enum sieve_ext_flags {
	SV_EF_ALWAYS      = 1 << 0,  /* core: always loaded, not requirable by name */
	SV_EF_DEFAULT_ON  = 1 << 1,  /* enabled unless the config says otherwise */
	SV_EF_HIDDEN      = 1 << 2,  /* not listed in capabilities */
	SV_EF_TESTSUITE   = 1 << 3,  /* only in `tamis testsuite` */
	SV_EF_TESTSUITE_ON = 1 << 4, /* default on in `tamis testsuite` (Pigeonhole's testsuite enables it) */
	SV_EF_TOOL_ON     = 1 << 5,  /* always on in `tamis test`, as sieve-test registers it */
};

struct sieve_extension_def {
	const char *name;
	unsigned flags;
	const struct sieve_command_def *const *commands;   /* NULL-terminated */
	const struct sieve_tag_link *tag_links;            /* {NULL,NULL}-terminated */
	const struct sieve_tag_def *const *class_tags;     /* match types, address parts */
	const struct sieve_comparator_def *const *comparators;
	/* Extensions implied when this one is required (e.g. spamtestplus). */
	const char *const *implies;
	/* Called when required; may register variables namespaces etc. */
	int (*on_require)(struct sieve_validator *v, const struct ast_node *req);
	/* Called for every store action (keep, fileinto) when the running
	   script required this extension (imap4flags adds its flags,
	   special-use checks its flag).  Returns -1 after reporting a runtime
	   error (the command fails). */
	int (*store_hook)(struct sieve_runtime *rt, const struct sieve_exec_args *a,
			  struct sieve_action *act);
	/* Called on every string literal of a script that required this extension
	   (encoded-character), before anything else looks at it. */
	int (*string_filter)(struct sieve_validator *v, struct ast_string *s);
	/* The variables namespace this extension provides, if any. */
	const struct sieve_var_namespace *var_namespace;
	/* Called once for every command that carries a tag this extension
	   added through tag_links, after the generic checks and before the
	   command's own validate hook: checks how the tags combine (mime:
	   ":type needs :mime").  Returns -1 after reporting an error. */
	int (*tag_validate)(struct sieve_validator *v, struct sieve_cmd *cmd);
	/* Compile-time checks for a command using one of this extension's
	   match types (regex: comparator, constant patterns); replaces the
	   generic comparator/match-type checks.  cmp is the command's
	   comparator (default i;ascii-casemap); the key list is the last
	   positional argument.  Returns -1 after reporting an error. */
	int (*match_validate)(struct sieve_validator *v, struct sieve_cmd *c,
			      const struct sieve_ctag *mt, enum match_comparator cmp);
	/* Called after a script that required this extension was generated
	   (include compiles and appends the scripts it includes).  Returns -1
	   after reporting an error: code generation fails. */
	int (*generate)(struct sieve_codegen *g, struct sieve_validator *v);
	/* Variables, compile time: a plain name ("x") that the script imported
	   into its scope (include's "global" command).  Returns 1 with part
	   resolved (SV_SP_GLOBAL), 0 when the name is a local one. */
	int (*var_import)(struct sieve_validator *v, const char *name, size_t len,
			  struct sieve_strpart *part);
	/* Called for every redirect action (after it is made, before it is
	   added) when the running script required this extension:
	   redirect-dsn and redirect-deliverby attach send options.  Returns -1
	   after reporting a runtime error (the command fails). */
	int (*redirect_hook)(struct sieve_runtime *rt, const struct sieve_exec_args *a,
			     struct sieve_action *act);
	/* envelope test: the envelope parts this extension adds
	   (envelope-dsn, envelope-deliverby); NULL-terminated. */
	const struct sieve_envelope_part *const *envelope_parts;
};

/* A variables namespace (RFC 5229 section 3, "${ns.name}") that an
 * extension provides: "tst" (testsuite), "env" (vnd.dovecot.environment),
 * "global" (include).  A reference to a namespace that no required
 * extension provides is a compile error (sieve/ext/variables.c). */
struct sieve_strpart;
struct sieve_string;
struct sieve_var_namespace {
	const char *name;
	/* Compile time, optional: checks the reference name[0..len) (the
	   whole "ns.a.b"); assign is true for the name argument of "set".  It
	   may resolve the reference now (part->kind = SV_SP_GLOBAL,
	   part->index = slot).  Returns -1 after reporting an error.  Without
	   it, references are accepted and assignments refused. */
	int (*validate)(struct sieve_validator *v, struct ast_loc loc, const char *name, size_t len,
			bool assign, struct sieve_strpart *part);
	/* Run time, optional: the value of a reference that stayed
	   SV_SP_NAMESPACE (name is the whole "ns.a.b").  False = unknown (""). */
	bool (*get)(struct sieve_runtime *rt, const char *name, size_t len, struct sieve_string *out);
};

/* The registry (sieve/extensions.c). */
extern const struct sieve_extension_def *const sieve_extensions[];
size_t sieve_extension_count(void);
int sieve_extension_index(const char *name);   /* -1 if unknown */
const struct sieve_extension_def *sieve_extension_by_index(int idx);
/* Is the extension enabled for this kind of script under cfg? */
bool sieve_extension_enabled(const struct sieve_config *cfg, int idx, bool admin, bool testsuite);
/* The same for a script compiled with p: also true for the extensions a
 * command-line tool always has (SV_EF_TOOL_ON when p->cli_tool). */
bool sieve_extension_enabled_for(const struct sieve_config *cfg, int idx,
				 const struct sieve_compile_params *p);

/* ------------------------------------------------------------------ */
/* Validated command (annotation of an AST node)                       */

/* A string may contain ${...} references; the validator splits it. */
enum sieve_strpart_kind {
	SV_SP_LITERAL,       /* bytes */
	SV_SP_VARIABLE,      /* local variable slot */
	SV_SP_MATCHVAR,      /* ${N} */
	SV_SP_NAMESPACE,     /* ${ns.name}: resolved at runtime by name */
	SV_SP_GLOBAL,        /* global (include) variable slot */
};

struct sieve_strpart {
	enum sieve_strpart_kind kind;
	const char *data;          /* literal bytes or namespace string "env.name" */
	size_t len;
	unsigned index;            /* slot or match number */
};

struct sieve_cstring {         /* compiled string: literal or with parts */
	const char *data;          /* whole literal when nparts == 0 */
	size_t len;
	struct sieve_strpart *parts;
	size_t nparts;
	struct ast_loc loc;
};

struct sieve_cval {            /* a compiled argument value */
	unsigned type;             /* SV_AT_NUMBER, SV_AT_STRING or SV_AT_STRLIST */
	uint64_t number;
	struct sieve_cstring *strs;   /* 1 for STRING, count for STRLIST */
	size_t nstrs;
	struct ast_loc loc;
};

struct sieve_ctag {
	const struct sieve_tag_def *def;
	int ext;                   /* registering extension index */
	struct sieve_cval val;     /* when def->param */
	struct ast_loc loc;
};

#define SIEVE_MAX_TAGS 16
/* Hidden positional operands a validate hook may append after the script's
 * own (vacation's handle): pos has room for them. */
#define SIEVE_CMD_SPARE_POS 2
struct sieve_cmd {
	const struct sieve_command_def *def;
	int ext;                   /* extension index of def */
	struct ast_node *node;
	/* Sized to the command by the validator: tags has room for every tag
	   of the node (at most SIEVE_MAX_TAGS), pos for pos_cap entries (the
	   node's arguments + SIEVE_CMD_SPARE_POS), all zeroed.  (Fixed arrays
	   of the limits made every command 2.4 KB: zeroing and page-faulting
	   them was a third of compiling a large script.)  A hook that builds a
	   struct sieve_cmd of its own must point these at its own arrays. */
	struct sieve_ctag *tags;
	unsigned ntags;
	struct sieve_cval *pos;
	unsigned npos, pos_cap;
	void *data;                /* validate hook's private data */
	/* Set by a validate hook whose test has a value known at compile
	   time (ihave): 1 = always true, -1 = always false, 0 = unknown. */
	signed char constant;
};

/* Validator API for hooks. */
void sieve_validator_error(struct sieve_validator *v, struct ast_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sieve_validator_warning(struct sieve_validator *v, struct ast_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool sieve_validator_ext_required(struct sieve_validator *v, const char *ext_name);
const struct sieve_config *sieve_validator_config(struct sieve_validator *v);
struct arena *sieve_validator_arena(struct sieve_validator *v);
const struct sieve_ctag *sieve_cmd_tag(const struct sieve_cmd *c, const char *name);
const struct sieve_ctag *sieve_cmd_tag_class(const struct sieve_cmd *c, enum sieve_tag_class cls);
/* True if the string is a constant (no ${} parts). */
static inline bool sieve_cstring_is_const(const struct sieve_cstring *s) { return s->nparts == 0; }
/* Variables support for the variables extension. */
struct sieve_var_scope;
int sieve_validator_var_declare(struct sieve_validator *v, const char *name, size_t len);
int sieve_validator_var_lookup(struct sieve_validator *v, const char *name, size_t len);
const struct sieve_command_def *sieve_validator_cmd_def(const char *name);
bool sieve_validator_is_admin(struct sieve_validator *v);
bool sieve_validator_is_testsuite(struct sieve_validator *v);
const char *sieve_validator_testsuite_dir(struct sieve_validator *v);
const char *sieve_validator_script_name(struct sieve_validator *v);
/* variables.c: resolves the "${...}" reference whose name starts at p (just
 * after "${") in cs, as Pigeonhole does.  Returns 0 when the text is not a
 * reference (it stays literal), 1 when it is (*part filled, *next_r after
 * the '}'), -1 when it is one but invalid (error reported, *next_r after
 * the '}'). */
int sieve_variables_parse_ref(struct sieve_validator *v, const struct sieve_cstring *cs,
			      const char *p, const char *end, struct sieve_strpart *part,
			      const char **next_r);

/* ------------------------------------------------------------------ */
/* Bytecode                                                            */

#define SIEVE_BIN_MAGIC   0x424d5354u   /* "TSMB" little-endian */
#define SIEVE_BIN_VERSION 2u   /* 2: SCRIPTS section (include) */

enum sieve_opcode {
	SV_OP_END = 0,        /* end of program */
	SV_OP_JMP,            /* u32 target */
	SV_OP_JMPTRUE,        /* u32 target */
	SV_OP_JMPFALSE,       /* u32 target */
	SV_OP_CMD,            /* command (see encoding below) */
	SV_OP_TEST,           /* test: sets the test flag */
	SV_OP_BLOCK,          /* block command: args, then u32 end (after BLOCKEND) */
	SV_OP_BLOCKEND,       /* u32 start of the matching BLOCK */
	SV_OP_COUNT
};
/* Command encoding after SV_OP_CMD / TEST / BLOCK:
 *   varint cmd   (index into the CMDS section)
 *   u8 ntags, then per tag: varint tag (TAGS section), operand if the tag has a param
 *   u8 npos, then npos operands
 * Operands: */
enum sieve_operand_type {
	SV_OPD_NUMBER = 1,    /* varint */
	SV_OPD_STRING,        /* varint const-pool offset */
	SV_OPD_VSTRING,       /* varint nparts, parts */
	SV_OPD_STRLIST,       /* varint count, then STRING/VSTRING items */
};
/* VSTRING parts: u8 kind (enum sieve_strpart_kind), varint value:
 * LITERAL and NAMESPACE: const offset; VARIABLE, MATCHVAR, GLOBAL: index */

enum sieve_section_id {
	SV_SEC_CODE = 1,
	SV_SEC_CONST,      /* u32 len, bytes, NUL, padded: strings usable in place */
	SV_SEC_EXTS,       /* names of required extensions (u32 count, const offsets) */
	SV_SEC_CMDS,       /* u32 count, per cmd: const offset of "ext\0name"-> "ext/name" */
	SV_SEC_TAGS,       /* u32 count, per tag: const offset of "ext/name" */
	SV_SEC_LINES,      /* u32 count, per entry: u32 pc, u32 line */
	SV_SEC_META,       /* u32 script name offset, u32 path offset, u32 nvars, u32 nglobals */
	SV_SEC_SCRIPTS,    /* the scripts in CODE (include): see struct sieve_bin_script */
	SV_SEC_COUNT_
};

/* One script of a binary (SV_SEC_SCRIPTS).  A binary holds its main script
 * (entry 0) and every script it includes (RFC 6609), each compiled into its
 * own contiguous range of CODE ending in END; jumps never leave a range.
 * Layout: u32 count, count x {u32 code_start, code_end, nvars, flags,
 * name offset, path offset, first, n} (first/n index the list of extension
 * name offsets that follows as u32 count + offsets; entry 0 uses EXTS). */
enum sieve_bin_script_flags {
	SV_BS_MAIN     = 1 << 0,   /* entry 0 */
	SV_BS_GLOBAL   = 1 << 1,   /* included from the :global location */
	SV_BS_ONCE     = 1 << 2,   /* only ever included with :once */
	SV_BS_OPTIONAL = 1 << 3,   /* only ever included with :optional */
	SV_BS_MISSING  = 1 << 4,   /* :optional script that did not exist: no code */
};
struct sieve_bin_script {
	uint32_t code_start, code_end;   /* [start, end) of CODE; 0, 0 when missing */
	uint32_t nvars;
	uint32_t flags;                  /* enum sieve_bin_script_flags */
	const char *name, *path;
	int *exts; size_t nexts;         /* extensions this script required */
};

struct sieve_binary {
	int refcount;
	unsigned char *image;      /* whole serialized binary */
	size_t image_len;
	const unsigned char *code; size_t code_len;
	const unsigned char *cpool; size_t cpool_len;
	const unsigned char *lines; size_t nlines;
	/* Resolved tables. */
	const struct sieve_command_def **cmds; int *cmd_ext; size_t ncmds;
	const struct sieve_tag_def **tags; int *tag_ext; size_t ntags;
	int *exts; size_t nexts;
	const char *script_name, *script_path;
	unsigned nvars, nglobals;
	void **cache;              /* per-constant caches (compiled regexes) */
	struct arena *arena;
	const struct sieve_bin_script *scripts; size_t nscripts;   /* >= 1 */
};

/* Reads a const-pool string at offset (verified at load). */
static inline const char *sieve_binary_const(const struct sieve_binary *b, uint32_t off, size_t *len_r)
{
	uint32_t len;
	__builtin_memcpy(&len, b->cpool + off, 4);
	if (len_r != NULL)
		*len_r = len;
	return (const char *)b->cpool + off + 4;
}
int sieve_binary_line_of(const struct sieve_binary *b, size_t pc);
/* A run-time cache an extension keeps with a binary (regex.c: compiled
 * constant patterns) in b->cache[0], set once with an atomic
 * compare-and-swap; free_fn runs when the binary is freed. */
struct sieve_binary_cache {
	void (*free_fn)(struct sieve_binary_cache *c);
};

/* The generator (sieve/codegen.c): validated AST -> image. */
struct sieve_binary *sieve_codegen(struct ast_script *s, struct sieve_validator *v,
				   struct diag_list *diags);
/* Multi-script binaries (include).  After generating a script, the
 * generator calls the `generate` hook of every extension that script
 * required; the include extension appends the scripts it includes there. */
/* Index of the included script (global location or not, name), or -1. */
int sieve_codegen_script_find(struct sieve_codegen *g, bool global, const char *name);
size_t sieve_codegen_script_count(const struct sieve_codegen *g);
uint32_t sieve_codegen_script_flags(const struct sieve_codegen *g, int idx);
void sieve_codegen_script_set_flags(struct sieve_codegen *g, int idx, uint32_t flags);
/* Appends a script: s/v validated (NULL for a missing :optional one, flags
 * then carry SV_BS_MISSING), generated after what is there, then the
 * generate hooks of its extensions run.  Returns its index; -1 when a hook
 * failed (the entry stays, the binary is not produced). */
int sieve_codegen_script_add(struct sieve_codegen *g, struct ast_script *s, struct sieve_validator *v,
			     const char *name, const char *path, uint32_t flags);
/* Size of the global variable scope shared by all scripts (include). */
void sieve_codegen_set_nglobals(struct sieve_codegen *g, unsigned n);
/* Varint helpers. */
size_t sieve_varint_put(unsigned char *out, uint64_t v);
int sieve_varint_get(const unsigned char *p, size_t len, size_t *pos, uint64_t *v);

/* ------------------------------------------------------------------ */
/* Runtime                                                             */

struct sieve_operand {
	enum sieve_operand_type type;
	uint64_t number;
	const unsigned char *p;    /* points at the operand's payload in code */
	size_t count;              /* parts or list items */
	const char *str;           /* STRING: pool string */
	size_t len;
};

struct sieve_exec_tag {
	const struct sieve_tag_def *def;
	int ext;
	bool has_val;
	struct sieve_operand val;
};

struct sieve_exec_args {
	const struct sieve_command_def *def;
	int ext;
	size_t pc;                 /* instruction address */
	int line;
	struct sieve_exec_tag tags[SIEVE_MAX_TAGS];
	unsigned ntags;
	struct sieve_operand pos[AST_MAX_ARGUMENTS];
	unsigned npos;
	uint32_t block_end;        /* SV_OP_BLOCK: address after BLOCKEND */
	uint32_t block_start;      /* SV_OP_BLOCKEND: address of BLOCK */
};

struct sieve_string { const char *p; size_t len; };

#define SIEVE_MAX_VARIABLE_SIZE_DEFAULT 4096

struct sieve_runtime {
	struct sieve_binary *bin;
	const struct sieve_run_params *params;
	const struct sieve_config *cfg;
	struct message *msg;
	struct sieve_result *result;
	struct diag_list *diags;
	struct arena *arena;       /* per-run scratch memory */
	size_t pc;
	bool test_result;
	bool stopped;
	bool in_test_block;
	int status;
	uint64_t instr_budget;
	uint64_t cpu_limit_ns, cpu_start_ns, cpu_checked_ns;
	/* variables */
	struct sieve_string *vars; size_t nvars;
	struct sieve_string *globals; size_t nglobals;
	struct match_values mv;     /* current match values */
	bool mv_enabled;            /* variables required: capture on match */
	size_t max_var_size;
	int cur_line;
	/* extension contexts, by extension index */
	void **ext_ctx;
	/* testsuite */
	void *testsuite;
	/* loops (foreverypart): a stack of struct sieve_fep_loop
	   (sieve/ext/mime-common.h), innermost last.  An included script sees
	   the loops of the script including it (its :mime tests read their
	   current part); sieve_interpret() drops the loops a run opened when
	   it ends, so an included script's "return" leaves none behind. */
	int loop_depth;
	void *loop_ctx[8];
	/* the message as currently edited (editheader), or msg */
};

struct sieve_runtime *sieve_runtime_create(struct sieve_binary *b, const struct sieve_run_params *p,
					   struct sieve_result *result, struct diag_list *diags,
					   struct arena *arena);
int sieve_interpret(struct sieve_runtime *rt);

/* Runtime helpers for execute hooks. */
void sieve_runtime_error(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sieve_runtime_warning(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Expands a STRING/VSTRING operand. */
struct sieve_string sieve_opd_string(struct sieve_runtime *rt, const struct sieve_operand *o);
/* Expands a STRLIST (or a single string) operand into an arena array. */
size_t sieve_opd_strlist(struct sieve_runtime *rt, const struct sieve_operand *o, struct sieve_string **items_r);
const struct sieve_exec_tag *sieve_args_tag(const struct sieve_exec_args *a, const char *name);
const struct sieve_exec_tag *sieve_args_tag_class(const struct sieve_exec_args *a, enum sieve_tag_class cls);
const char *sieve_rt_strdup(struct sieve_runtime *rt, struct sieve_string s);
void *sieve_runtime_ext_ctx(struct sieve_runtime *rt, const char *ext_name);
void sieve_runtime_set_ext_ctx(struct sieve_runtime *rt, const char *ext_name, void *ctx);
const char *sieve_runtime_default_mailbox(struct sieve_runtime *rt);
/* Variables (for the variables extension). */
void sieve_runtime_var_set(struct sieve_runtime *rt, bool global, unsigned idx, const char *p, size_t len);
/* Namespace variable lookup hook: "env.x", "tst.path"; returns false if unknown. */
bool sieve_runtime_namespace_get(struct sieve_runtime *rt, const char *name, size_t len, struct sieve_string *out);

/* Matching a list of values against keys with the command's match type,
 * comparator (from its tags); updates match values when variables are on. */
struct sieve_match_ctx {
	struct sieve_runtime *rt;
	const struct sieve_exec_args *a;
	enum sieve_match_type mtype;
	enum match_comparator cmp;
	enum match_relation rel;
	struct sieve_string *keys;
	size_t nkeys;
	size_t nvalues;            /* for :count */
	bool matched;
	int regex_key_base;
	void *regex_cache;
};
int sieve_match_begin(struct sieve_match_ctx *m, struct sieve_runtime *rt,
		      const struct sieve_exec_args *a, const struct sieve_operand *keys);
/* Returns 1 when value matched (stop early), 0 otherwise, -1 error. */
int sieve_match_value(struct sieve_match_ctx *m, const char *v, size_t len);
/* Finishes: handles :count; returns the test result (or -1). */
int sieve_match_end(struct sieve_match_ctx *m);
/* regex.c: :regex for key number `key` of m (compiled once per binary for
 * constant keys, once per test otherwise; sets match values); and the
 * clean-up sieve_match_end() does. */
bool sieve_regex_match_key(struct sieve_match_ctx *m, size_t key, const char *val, size_t len);
/* extlists (sieve/ext/extlists.c): :list membership of val in key's list;
   redirect :list, forwarding to every address of the list. */
bool sieve_extlists_match_key(struct sieve_match_ctx *m, size_t key, const char *val, size_t len);
int sieve_extlists_redirect(struct sieve_runtime *rt, const struct sieve_exec_args *a);
void sieve_regex_match_end(struct sieve_match_ctx *m);
enum sieve_addrpart sieve_args_addrpart(const struct sieve_exec_args *a);
/* Extracts an address part; returns false when the part does not exist
 * (e.g. :detail without a delimiter). */
bool sieve_address_part(struct sieve_runtime *rt, enum sieve_addrpart ap,
			const struct msg_address *addr, struct sieve_string *out);

/* ------------------------------------------------------------------ */
/* Result                                                              */

struct sieve_action;
struct sieve_action_def {
	const char *name;          /* "store", "redirect", "discard", ... (test_result_action) */
	unsigned flags;
	/* 1 = duplicate (new one merged/dropped), 0 = distinct, -1 = error reported */
	int (*check_duplicate)(struct sieve_runtime *rt, const struct sieve_exec_args *a,
			       struct sieve_action *old, struct sieve_action *act);
	/* 0 = no conflict, -1 = error reported */
	int (*check_conflict)(struct sieve_runtime *rt, const struct sieve_exec_args *a,
			      struct sieve_action *act, struct sieve_action *other);
	void (*print)(const struct sieve_action *act, struct strbuf *out, bool *keep_r);
	int (*execute)(struct sieve_action *act, const struct sieve_run_params *p,
		       struct diag_list *diags);
};
enum sieve_action_flags {
	SV_AF_TRIES_DELIVER  = 1 << 0,
	SV_AF_SENDS_RESPONSE = 1 << 1,
	SV_AF_MAIL_STORAGE   = 1 << 2,
	/* Executed after everything else (implicit keep included) and only
	   when all of it succeeded: duplicate_mark (RFC 7352 section 3). */
	SV_AF_FINAL          = 1 << 3,
};

struct sieve_action {
	const struct sieve_action_def *def;
	struct sieve_result *result;
	const char *location;      /* "script: line N" for conflict messages */
	int line;
	bool keep;                 /* an explicit keep (store into default mailbox) */
	bool copy;                 /* :copy: does not cancel implicit keep */
	bool create;               /* mailbox :create */
	bool executed;
	const char *mailbox;       /* store */
	const char *address;       /* redirect */
	const char *text;          /* reject reason etc. */
	const char *special_use;   /* :specialuse */
	const char **flags; size_t nflags; bool flags_set;
	bool flags_first;          /* print order: :flags was given before :copy */
	void *ctx;                 /* extension data */
	const struct sieve_send_options *send_opts;   /* redirect: DSN / BY options, NULL = none */
	const struct sieve_fcc *fcc;                  /* :fcc of vacation / notify, NULL = none */
	/* The message this action delivers when a command (filter,
	   editheader) replaced the run's message before the action was
	   added; NULL = the run's message (sieve_run_params.msg). */
	struct message *msg;
};

struct sieve_result {
	struct arena *arena;
	struct sieve_action **actions;
	size_t count, cap;
	bool keep_cancelled;       /* implicit keep cancelled */
	const char **keep_flags; size_t keep_nflags;   /* implicit keep's flags */
	void *flags_ctx;           /* imap4flags' internal flag variable (NULL until used) */
	size_t redirects;
	bool executed;
	/* The message as last replaced (filter, editheader): what the
	   implicit keep stores; NULL = the run's message.  A command that
	   replaces the message sets both rt->msg and this (see
	   sieve_runtime_replace_message). */
	struct message *msg;
	/* The message as it was before the first replace or enclose (RFC
	   5703), NULL until one ran: what redirect sends, in this
	   script and in the later scripts of a sequence that share this
	   result (sieve_send_action_new). */
	struct message *before_mime_edit;
};

/* Adds an action (checks limits, duplicates and conflicts).  Returns 0, or
 * -1 after reporting a runtime error. */
int sieve_result_add(struct sieve_runtime *rt, const struct sieve_exec_args *a,
		     struct sieve_action *act, bool cancels_keep);
/* Replaces the message being processed (filter, editheader): later tests
 * read m, later actions and the implicit keep deliver it; actions added
 * before keep the message they saw.  m must live as long as the result
 * (allocate it from rt->arena). */
void sieve_runtime_replace_message(struct sieve_runtime *rt, struct message *m);
/* The message an action delivers (its snapshot, else the run's). */
const struct message *sieve_action_message(const struct sieve_action *act,
					   const struct sieve_run_params *p);
/* keep/fileinto: adds a store action (used by core and fileinto). */
int sieve_core_store(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char *mailbox,
		     bool keep, bool copy);
bool sieve_is_address_header(const char *name);
int sieve_match_address_value(struct sieve_runtime *rt, struct sieve_match_ctx *m,
			      enum sieve_addrpart ap, const char *value);
/* The values of header `name` that a header, address or exists test looks
 * at (sieve/ext/mime.c): the message's own, unless the test carries the mime
 * extension's :mime tag; then those of the current MIME part (inside
 * foreverypart, else the message), with :anychild also those of all its
 * sub-parts, turned by :type/:subtype/:contenttype/:param into what these
 * select.  decode: RFC 2047-decoded (header) or only unfolded (address,
 * exists).  Returns the count; *vals_r is an arena array of NUL-terminated
 * strings. */
size_t sieve_test_header_values(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				const char *name, bool decode, const char ***vals_r);
/* The header fields a header, address or date test looks at
 * (sieve/ext/index.c): sieve_test_header_values() of every name of the
 * list operand in turn, reduced to one field by the index extension's
 * ":index N [:last]" (RFC 5260 section 6) when the test carries it. */
size_t sieve_test_header_fields(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				const struct sieve_operand *names, bool decode, const char ***vals_r);
struct sieve_action *sieve_action_new(struct sieve_runtime *rt, const struct sieve_action_def *def,
				      const struct sieve_exec_args *a);
/* An action that forwards the message itself (redirect):
 * sieve_action_new(), but with the message as it was before the first
 * replace/enclose (RFC 5703 section 6: these do not affect what redirect
 * forwards).  Every such path uses it: redirect, redirect :copy, redirect
 * :list (extlists), in the script that edited and in the later scripts of
 * a sequence.  (reject returns the message as received, see reject.c.) */
struct sieve_action *sieve_send_action_new(struct sieve_runtime *rt, const struct sieve_action_def *def,
					   const struct sieve_exec_args *a);
/* fcc (RFC 8580, sieve/ext/fcc.c): the copy of a sent message to file. */
struct sieve_fcc {
	const char *mailbox;       /* the :fcc name, or the mailbox :mailboxid named */
	bool create;
	const char **flags; size_t nflags;
	const char *special_use;   /* :specialuse (RFC 8579 section 4), NULL = none */
};
/* The command's :fcc options into *fcc_r (NULL without :fcc);
   sieve_result_add keeps them on every action.  Returns -1 after
   reporting a runtime error (a :specialuse flag built at run time that is
   not one). */
int sieve_fcc_from_args(struct sieve_runtime *rt, const struct sieve_exec_args *a,
			const struct sieve_fcc **fcc_r);
/* sieve-test style lines describing act's :fcc copy (nothing without one):
   vacation and notify print them with their action, with the "=> name :"
   labels padded to label_width as theirs are. */
void sieve_fcc_print(const struct sieve_action *act, struct strbuf *out, int label_width);
/* Files data, the message act just sent, into its :fcc mailbox (if any);
   a failure is only logged. */
void sieve_fcc_store(const struct sieve_action *act, const struct sieve_run_params *p, const char *data,
		     size_t len, struct diag_list *d);
extern const struct sieve_action_def sieve_act_store;
extern const struct sieve_action_def sieve_act_redirect;
extern const struct sieve_action_def sieve_act_discard;

/* Helpers: case-insensitive equal on NUL-terminated strings. */
bool sieve_str_eq_ci(const char *a, const char *b);
bool sieve_utf8_valid(const char *p, size_t len);
/* A Sieve identifier (RFC 5228 section 8.1: a letter or '_', then letters,
 * digits and '_'), as variable names are written; at most max_len bytes
 * (0: no limit). */
bool sieve_identifier_valid(const char *s, size_t len, size_t max_len);
/* s[0..len) fit for a message, as Dovecot's str_sanitize(): control
 * characters become '?', and past max bytes it is cut (never inside a UTF-8
 * character) to end in "...".  Returns s itself when nothing changes. */
const char *sieve_str_sanitize(struct arena *a, const char *s, size_t len, size_t max);

#endif
