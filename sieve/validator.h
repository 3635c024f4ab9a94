/* validator.h: the validator's state, shared with the generator. */
#ifndef TAMIS_VALIDATOR_H
#define TAMIS_VALIDATOR_H
#include "sieve/engine.h"

struct sieve_validator {
	struct arena *arena;
	const struct sieve_compile_params *params;
	const struct sieve_config *cfg;
	struct diag_list *diags;
	const char *script_name;
	size_t errors;
	bool *required;            /* by extension index */
	bool finished_require;
	bool variables;            /* variables required: split ${...} */
	char **unknown; size_t nunknown, unknown_cap;
	struct { const char *cmd; const char *tag; } *unknown_tags;
	size_t nunknown_tags, unknown_tags_cap;
	char **vars; size_t nvars, vars_cap, max_vars;
	uint64_t max_block_nesting, max_test_nesting;   /* admin limits below the parser's */
	unsigned test_depth;
	bool var_limit_reported;
	void **ext_data;           /* per-extension compile context, by extension index */
};

struct sieve_validator *sieve_validator_create(struct arena *a, const struct sieve_compile_params *p,
					       const struct sieve_config *cfg, struct diag_list *diags);
int sieve_validate(struct sieve_validator *v, struct ast_script *s);

#endif
