/* compile.c: script text -> verified binary: parse (grammar/), validate
 * (validator.c), generate (codegen.c).  Every error of every stage lands in
 * the caller's diagnostics; the final "validation failed" line mirrors
 * Pigeonhole's, which the conformance suite counts. */
#include "sieve/validator.h"
#include <string.h>

struct sieve_binary *sieve_compile(const char *src, size_t len, const struct sieve_compile_params *p,
				   struct diag_list *diags)
{
	const struct sieve_config *cfg = p->cfg;
	struct sieve_config *empty = NULL;
	if (cfg == NULL)
		cfg = empty = sieve_config_new();
	uint64_t max_size = sieve_config_uint(cfg, "sieve_max_script_size", 1024 * 1024);
	if (max_size > 0 && len > max_size) {
		diag_add(diags, DIAG_ERROR, p->script_name, 0, 0,
			 "sieve script is too large (max %llu bytes)", (unsigned long long)max_size);
		sieve_config_unref(&empty);
		return NULL;
	}
	struct arena *a = arena_new(65536);
	struct ast_script *ast = NULL;
	struct sieve_binary *b = NULL;
	if (ast_parse(src, len, p->script_name, a, diags, &ast) < 0 || ast == NULL)
		goto out;
	struct sieve_compile_params pp = *p;
	pp.cfg = cfg;
	struct sieve_validator *v = sieve_validator_create(a, &pp, cfg, diags);
	if (sieve_validate(v, ast) < 0) {
		diag_add(diags, DIAG_ERROR, p->script_name, 0, 0, "validation failed");
		goto out;
	}
	b = sieve_codegen(ast, v, diags);
out:
	arena_unref(&a);
	sieve_config_unref(&empty);
	return b;
}
