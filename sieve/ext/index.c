/* index.c: the index extension (RFC 5260 section 6): ":index <n>" and
 * ":last" on the header, address and date tests select one header field by
 * its position, counting from 1 at the top of the message, or from the
 * bottom with :last.  The fields counted are those of all the test's
 * header names in turn (as Pigeonhole counts them).  The tests get their
 * fields through sieve_test_header_fields(), which applies the tags. */
#include "sieve/engine.h"

/* Tag ids (class NONE) distinct from 0, so each may appear only once. */
static const struct sieve_tag_def tag_index = { "index", SV_TC_NONE, 61, SV_AT_NUMBER, "field number" };
static const struct sieve_tag_def tag_last = { "last", SV_TC_NONE, 62, 0, NULL };

static const struct sieve_tag_link index_links[] = {
	{ "header", &tag_index }, { "header", &tag_last },
	{ "address", &tag_index }, { "address", &tag_last },
	{ "date", &tag_index }, { "date", &tag_last },
	{ NULL, NULL }
};

static int index_tag_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const char *kind = c->def->kind == SV_CMD_TEST ? "test" : "command";
	const struct sieve_ctag *idx = sieve_cmd_tag(c, "index");
	const struct sieve_ctag *last = sieve_cmd_tag(c, "last");
	/* Pigeonhole checks the tags in the order they appear. */
	for (unsigned i = 0; i < c->ntags; i++) {
		const struct sieve_ctag *t = &c->tags[i];
		if (t == idx && idx->val.number == 0) {
			sieve_validator_error(v, idx->val.loc, "the :index tag for the %s %s cannot be zero",
					      c->def->name, kind);
			return -1;
		}
		if (t == last && idx == NULL) {
			sieve_validator_error(v, last->loc,
				"the :last tag for the %s %s cannot be specified without the :index tag",
				c->def->name, kind);
			return -1;
		}
	}
	return 0;
}

size_t sieve_test_header_fields(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				const struct sieve_operand *names, bool decode, const char ***vals_r)
{
	struct sieve_string *hn;
	size_t nn = sieve_opd_strlist(rt, names, &hn);
	const char **all = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < nn; i++) {
		const char **vals;
		size_t nv = sieve_test_header_values(rt, a, sieve_rt_strdup(rt, hn[i]), decode, &vals);
		if (nn == 1) {
			all = vals;
			n = nv;
			break;
		}
		if (n + nv > cap) {
			size_t nc = (n + nv) * 2;
			all = arena_grow(rt->arena, all, cap, nc, sizeof(*all));
			cap = nc;
		}
		for (size_t j = 0; j < nv; j++)
			all[n++] = vals[j];
	}
	const struct sieve_exec_tag *idx = sieve_args_tag(a, "index");
	if (idx != NULL) {
		uint64_t pos = idx->val.number;
		if (pos == 0 || pos > n) {
			n = 0;
		} else {
			size_t k = sieve_args_tag(a, "last") != NULL ? n - (size_t)pos : (size_t)pos - 1;
			all = &all[k];
			n = 1;
		}
	}
	*vals_r = all;
	return n;
}

const struct sieve_extension_def sieve_ext_index = {
	.name = "index",
	.flags = SV_EF_DEFAULT_ON,
	.tag_links = index_links,
	.tag_validate = index_tag_validate,
};
