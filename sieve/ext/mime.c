/* mime.c: the mime extension (RFC 5703 section 4).  It adds :mime and
 * :anychild to the header, address and exists tests, and to header the
 * options :type, :subtype, :contenttype and :param <names>.  With :mime a
 * test reads the headers of the current MIME part (the one foreverypart is
 * visiting, else the message itself); :anychild adds every part below it.
 * The options turn a Content-Type or Content-Disposition value into the
 * piece they name, as Pigeonhole does: any other header gives "", an
 * unparsable value gives "", and a value without any of the :param names
 * gives one "".  The tests themselves (sieve/ext/core.c) get their values
 * through sieve_test_header_values(), defined here. */
#include "sieve/ext/mime-common.h"
#include <string.h>
#include <strings.h>

static const struct sieve_tag_def tag_mime = { "mime", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_anychild = { "anychild", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_type = { "type", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_subtype = { "subtype", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_contenttype = { "contenttype", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_param = {
	"param", SV_TC_NONE, 0, SV_AT_STRLIST, "param-list" };

static const struct sieve_tag_link mime_links[] = {
	{ "header", &tag_mime }, { "header", &tag_anychild }, { "header", &tag_type },
	{ "header", &tag_subtype }, { "header", &tag_contenttype }, { "header", &tag_param },
	{ "address", &tag_mime }, { "address", &tag_anychild },
	{ "exists", &tag_mime }, { "exists", &tag_anychild },
	{ NULL, NULL }
};

static bool is_option(const struct sieve_tag_def *t)
{
	return t == &tag_type || t == &tag_subtype || t == &tag_contenttype || t == &tag_param;
}

static int mime_tag_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	bool have_mime = sieve_cmd_tag(c, "mime") != NULL;
	bool have_option = false;
	const char *kind = c->def->kind == SV_CMD_TEST ? "test" : "command";
	for (unsigned i = 0; i < c->ntags; i++) {
		const struct sieve_ctag *t = &c->tags[i];
		if (t->def == &tag_mime || (t->def != &tag_anychild && !is_option(t->def)))
			continue;
		if (!have_mime) {
			sieve_validator_error(v, t->loc,
				"the :%s tag for the %s %s cannot be specified without the :mime tag",
				t->def->name, c->def->name, kind);
			return -1;
		}
		if (is_option(t->def)) {
			if (have_option) {
				sieve_validator_error(v, t->loc,
					"the :type, :subtype, :contenttype, and :param arguments for the %s test "
					"are mutually exclusive, but more than one was specified", c->def->name);
				return -1;
			}
			have_option = true;
		}
	}
	return 0;
}

/* ---- run time ---- */

struct hv_list {
	const char **v;
	size_t n, cap;
};

static void hv_add(struct sieve_runtime *rt, struct hv_list *l, const char *s)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 8;
		l->v = arena_grow(rt->arena, l->v, l->cap, nc, sizeof(*l->v));
		l->cap = nc;
	}
	l->v[l->n++] = s;
}

/* What one of :type/:subtype/:contenttype/:param makes of one value. */
static void option_values(struct sieve_runtime *rt, const struct sieve_exec_tag *opt,
			  const char *hname, const char *value, struct hv_list *out)
{
	bool ctype = strcasecmp(hname, "content-type") == 0;
	if (!ctype && strcasecmp(hname, "content-disposition") != 0) {
		hv_add(rt, out, "");
		return;
	}
	const char *type, *subtype;
	if (!sieve_mime_parse_ctype(rt->arena, value, ctype, &type, &subtype)) {
		hv_add(rt, out, "");
		return;
	}
	if (opt->def == &tag_type) {
		hv_add(rt, out, type);
	} else if (opt->def == &tag_subtype) {
		hv_add(rt, out, subtype);
	} else if (opt->def == &tag_contenttype) {
		hv_add(rt, out, ctype ? arena_printf(rt->arena, "%s/%s", type, subtype) : type);
	} else {
		struct sieve_string *names;
		size_t nn = sieve_opd_strlist(rt, &opt->val, &names);
		const char **vals;
		size_t nv = sieve_mime_param_values(rt->arena, value, names, nn, &vals);
		for (size_t i = 0; i < nv; i++)
			hv_add(rt, out, vals[i]);
		/* None found: one empty value, as Pigeonhole. */
		if (nv == 0)
			hv_add(rt, out, "");
	}
}

size_t sieve_test_header_values(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				const char *name, bool decode, const char ***vals_r)
{
	if (sieve_args_tag(a, "mime") == NULL)
		return msg_header_values(rt->msg, name, decode, vals_r);
	bool anychild = sieve_args_tag(a, "anychild") != NULL;
	const struct sieve_exec_tag *opt = NULL;
	for (unsigned i = 0; i < a->ntags && opt == NULL; i++)
		if (is_option(a->tags[i].def))
			opt = &a->tags[i];

	const char **vals;
	size_t n;
	struct sieve_fep_loop *loop = sieve_fep_current(rt, a->pc);
	if (loop == NULL && !anychild) {
		n = msg_header_values(rt->msg, name, decode, &vals);
	} else {
		struct sieve_mime_parts *pp = sieve_mime_parts(rt->msg);
		size_t from = loop != NULL ? loop->cur : 0;
		struct hv_list all = { 0 };
		if (from < pp->count) {
			size_t to = anychild ? pp->end[from] : from + 1;
			for (size_t i = from; i < to; i++) {
				const char **pv;
				size_t pn = msg_part_header_values(rt->msg, pp->part[i], name, decode, &pv);
				for (size_t k = 0; k < pn; k++)
					hv_add(rt, &all, pv[k]);
			}
		}
		vals = all.v;
		n = all.n;
	}
	if (opt == NULL) {
		*vals_r = vals;
		return n;
	}
	struct hv_list out = { 0 };
	for (size_t i = 0; i < n; i++)
		option_values(rt, opt, name, vals[i], &out);
	*vals_r = out.v;
	return out.n;
}

const struct sieve_extension_def sieve_ext_mime = {
	.name = "mime",
	.flags = SV_EF_DEFAULT_ON,
	.tag_links = mime_links,
	.tag_validate = mime_tag_validate,
};
