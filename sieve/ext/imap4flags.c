/* imap4flags.c: the imap4flags extension (RFC 5232): setflag, addflag and
 * removeflag on the internal flag variable or on a named variable, the
 * hasflag test, and the :flags tag of keep and fileinto.
 *
 * A flag list is a string of flags separated by spaces.  As in Pigeonhole
 * 0.5.19, adding drops invalid flags (unknown system flags, keywords that
 * are not IMAP atoms) and duplicates (compared case-insensitively), and the
 * internal variable lives in the result, so test_result_reset clears it.
 * It starts out as the message's current flags (sieve_run_params
 * .mail_flags).  A store action takes the internal flags as they are when
 * the action is added; the implicit keep takes them as they are at the end
 * (the result's keep_flags always mirror the variable).  An explicit :flags
 * list is used as given (system flags are collapsed when printed). */
#include "sieve/validator.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Flag lists                                                          */

static const char *const system_flags[] = {
	"\\answered", "\\flagged", "\\deleted", "\\seen", "\\draft", NULL
};

/* RFC 3501's flag syntax: one of the five storable system flags, or a
 * keyword atom (no specials, controls or 8-bit bytes). */
static bool flag_valid(const char *f, size_t n)
{
	if (n == 0)
		return false;
	if (f[0] == '\\') {
		for (const char *const *s = system_flags; *s; s++)
			if (strlen(*s) == n && strncasecmp(*s, f, n) == 0)
				return true;
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

/* Iterates the space-separated tokens of s[0..len). */
static bool next_token(const char *s, size_t len, size_t *pos, const char **tok, size_t *tlen)
{
	size_t i = *pos;
	while (i < len && s[i] == ' ')
		i++;
	if (i >= len) {
		*pos = len;
		return false;
	}
	size_t start = i;
	while (i < len && s[i] != ' ')
		i++;
	*tok = s + start;
	*tlen = i - start;
	*pos = i;
	return true;
}

/* A set of flags compared case-insensitively, so that adding or removing
 * many flags (a long literal list, say) stays linear instead of rescanning
 * the list for every flag. */
struct flagset {
	struct strbuf bytes;       /* the flags, back to back */
	size_t *off, *len;         /* entry i; len SIZE_MAX = removed */
	size_t n, ecap;
	size_t *tab, tcap;         /* open addressing: entry index + 1, 0 = free */
};

static uint32_t flag_hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		h = (h ^ (uint32_t)(c >= 'A' && c <= 'Z' ? c + 32 : c)) * 16777619u;
	}
	return h;
}

static long fs_find(const struct flagset *fs, const char *p, size_t n)
{
	if (fs->tcap == 0)
		return -1;
	for (size_t i = flag_hash(p, n) & (fs->tcap - 1);; i = (i + 1) & (fs->tcap - 1)) {
		size_t e = fs->tab[i];
		if (e == 0)
			return -1;
		e--;
		if (fs->len[e] == n && strncasecmp(fs->bytes.data + fs->off[e], p, n) == 0)
			return (long)e;
	}
}

static void fs_add(struct flagset *fs, const char *p, size_t n)
{
	if (fs_find(fs, p, n) >= 0)
		return;
	if (fs->n == fs->ecap) {
		fs->ecap = fs->ecap ? fs->ecap * 2 : 16;
		fs->off = realloc(fs->off, fs->ecap * sizeof(*fs->off));
		fs->len = realloc(fs->len, fs->ecap * sizeof(*fs->len));
		if (fs->off == NULL || fs->len == NULL)
			abort();
	}
	if ((fs->n + 1) * 2 > fs->tcap) {
		size_t nc = fs->tcap ? fs->tcap * 2 : 32;
		size_t *nt = calloc(nc, sizeof(*nt));
		if (nt == NULL)
			abort();
		for (size_t e = 0; e < fs->n; e++) {
			size_t i = flag_hash(fs->bytes.data + fs->off[e], fs->len[e] == SIZE_MAX ? 0 : fs->len[e]) & (nc - 1);
			if (fs->len[e] == SIZE_MAX)
				continue;
			while (nt[i] != 0)
				i = (i + 1) & (nc - 1);
			nt[i] = e + 1;
		}
		free(fs->tab);
		fs->tab = nt;
		fs->tcap = nc;
	}
	fs->off[fs->n] = fs->bytes.len;
	fs->len[fs->n] = n;
	strbuf_append(&fs->bytes, p, n);
	size_t i = flag_hash(p, n) & (fs->tcap - 1);
	while (fs->tab[i] != 0)
		i = (i + 1) & (fs->tcap - 1);
	fs->tab[i] = ++fs->n;
}

static void fs_init(struct flagset *fs, const char *list, size_t len)
{
	memset(fs, 0, sizeof(*fs));
	size_t pos = 0;
	const char *t;
	size_t tl;
	while (next_token(list, len, &pos, &t, &tl))
		fs_add(fs, t, tl);
}

static void fs_free(struct flagset *fs)
{
	strbuf_free(&fs->bytes);
	free(fs->off);
	free(fs->len);
	free(fs->tab);
}

/* Appends the valid flags of src that list lacks.  A flag that would make
 * the list longer than max is left out (lists are variable values). */
static void list_add(struct strbuf *list, const char *src, size_t srclen, size_t max)
{
	struct flagset fs;
	fs_init(&fs, list->data, list->len);
	size_t pos = 0;
	const char *t;
	size_t tl;
	while (list->len + 2 <= max && next_token(src, srclen, &pos, &t, &tl)) {
		if (!flag_valid(t, tl) || fs_find(&fs, t, tl) >= 0 || list->len + tl + 1 > max)
			continue;
		if (list->len > 0)
			strbuf_putc(list, ' ');
		strbuf_append(list, t, tl);
		fs_add(&fs, t, tl);
	}
	fs_free(&fs);
}

/* Deletes every flag equal to f (case-insensitively) from list, with one
 * space next to it, exactly as Pigeonhole does, so that a variable's
 * spacing comes out as sieve-test shows it. */
static void list_remove_one(struct strbuf *list, const char *f, size_t n)
{
	size_t offset = 0;
	while (offset < list->len) {
		size_t len = list->len, start = offset, end = offset;
		while (end < len && list->data[end] == ' ')
			end++;
		start = end;
		while (end < len && list->data[end] != ' ')
			end++;
		if (end == start)
			break;
		offset = end;
		if (end - start != n || strncasecmp(list->data + start, f, n) != 0)
			continue;
		/* The flag and the space after it; the last flag takes the
		   space before it instead. */
		size_t from = start, to = end + 1 > len ? len : end + 1;
		if (to == len && from > 0)
			from--;
		memmove(list->data + from, list->data + to, len - to);
		strbuf_truncate(list, len - (to - from));
		offset = from;
	}
}

static void list_remove(struct strbuf *list, const char *src, size_t srclen)
{
	/* Only a flag the list holds costs a pass over it. */
	struct flagset fs;
	fs_init(&fs, list->data, list->len);
	size_t pos = 0;
	const char *t;
	size_t tl;
	while (fs.n > 0 && next_token(src, srclen, &pos, &t, &tl)) {
		long e = fs_find(&fs, t, tl);
		if (e < 0)
			continue;
		list_remove_one(list, t, tl);
		fs.len[e] = SIZE_MAX;    /* gone: later copies cost nothing */
	}
	fs_free(&fs);
}

/* Splits s[0..len) into an arena array of NUL-terminated tokens. */
static size_t list_split(struct arena *a, const char *s, size_t len, const char ***out)
{
	size_t n = 0, pos = 0;
	const char *t;
	size_t tl;
	while (next_token(s, len, &pos, &t, &tl))
		n++;
	const char **v = arena_alloc(a, sizeof(*v) * (n + 1));
	n = 0;
	pos = 0;
	while (next_token(s, len, &pos, &t, &tl))
		v[n++] = arena_strndup(a, t, tl);
	*out = v;
	return n;
}

/* ------------------------------------------------------------------ */
/* The internal variable                                               */

struct flags_ctx {
	char *str;                 /* the normalized list */
	size_t len, cap;
	char *tok;                 /* str with NULs for spaces: keep_flags point here */
	const char **ptrs;         /* exported as the result's keep_flags */
	size_t ptrcap;
	const char **snap;         /* the last copy handed to a store action */
	size_t nsnap;
	bool snap_valid;
};

static size_t flags_max(struct sieve_runtime *rt)
{
	return rt->max_var_size > 0 ? rt->max_var_size : SIEVE_MAX_VARIABLE_SIZE_DEFAULT;
}

/* Stores a new value (normalized: single spaces) and mirrors it into the
 * result's keep_flags.  The buffers are reused and only ever doubled, so a
 * script changing flags often does not grow the result's memory. */
static void flags_commit(struct sieve_result *r, struct flags_ctx *fc, const struct strbuf *b)
{
	if (b->len + 1 > fc->cap) {
		size_t nc = fc->cap ? fc->cap : 64;
		while (nc < b->len + 1)
			nc *= 2;
		fc->str = arena_alloc(r->arena, nc);
		fc->tok = arena_alloc(r->arena, nc);
		fc->cap = nc;
	}
	if (b->len > 0)
		memcpy(fc->str, b->data, b->len);
	fc->str[b->len] = '\0';
	fc->len = b->len;
	memcpy(fc->tok, fc->str, fc->len + 1);
	size_t n = 0;
	for (size_t i = 0; i < fc->len; i++)
		if (fc->tok[i] == ' ')
			n++;
	n += fc->len > 0;
	if (n + 1 > fc->ptrcap) {
		size_t nc = fc->ptrcap ? fc->ptrcap : 8;
		while (nc < n + 1)
			nc *= 2;
		fc->ptrs = arena_alloc(r->arena, nc * sizeof(*fc->ptrs));
		fc->ptrcap = nc;
	}
	n = 0;
	for (size_t i = 0; i < fc->len; i++) {
		if (i == 0 || fc->tok[i - 1] == '\0')
			fc->ptrs[n++] = fc->tok + i;
		if (fc->tok[i] == ' ')
			fc->tok[i] = '\0';
	}
	r->keep_flags = fc->ptrs;
	r->keep_nflags = n;
	fc->snap_valid = false;
}

/* The result's internal variable, created on first use from the message's
 * current flags. */
static struct flags_ctx *flags_get(struct sieve_runtime *rt)
{
	struct sieve_result *r = rt->result;
	if (r->flags_ctx != NULL)
		return r->flags_ctx;
	struct flags_ctx *fc = arena_alloc(r->arena, sizeof(*fc));
	r->flags_ctx = fc;
	struct strbuf b = STRBUF_INIT;
	for (size_t i = 0; i < rt->params->mail_nflags; i++) {
		const char *f = rt->params->mail_flags[i];
		if (f != NULL)
			list_add(&b, f, strlen(f), flags_max(rt));
	}
	flags_commit(r, fc, &b);
	strbuf_free(&b);
	return fc;
}

/* ------------------------------------------------------------------ */
/* setflag / addflag / removeflag                                      */

enum flag_op { FLAG_SET, FLAG_ADD, FLAG_REMOVE };

static int flag_command(struct sieve_runtime *rt, const struct sieve_exec_args *a, enum flag_op op)
{
	bool has_var = a->npos == 2;
	const struct sieve_operand *flags_opd = &a->pos[has_var ? 1 : 0];
	struct sieve_string *items;
	size_t n = sieve_opd_strlist(rt, flags_opd, &items);
	size_t max = flags_max(rt);

	struct strbuf cur = STRBUF_INIT;
	struct flags_ctx *fc = NULL;
	unsigned slot = 0;
	if (has_var) {
		slot = (unsigned)a->pos[0].number;
		if (slot < rt->nvars && rt->vars[slot].p != NULL)
			strbuf_append(&cur, rt->vars[slot].p, rt->vars[slot].len);
	} else {
		fc = flags_get(rt);
		strbuf_append(&cur, fc->str, fc->len);
	}
	if (op == FLAG_SET)
		strbuf_truncate(&cur, 0);
	for (size_t i = 0; i < n; i++) {
		if (op == FLAG_REMOVE)
			list_remove(&cur, items[i].p, items[i].len);
		else
			list_add(&cur, items[i].p, items[i].len, max);
	}
	if (has_var)
		sieve_runtime_var_set(rt, false, slot, cur.data != NULL ? cur.data : "", cur.len);
	else
		flags_commit(rt->result, fc, &cur);
	strbuf_free(&cur);
	return SIEVE_OK;
}

static int setflag_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	return flag_command(rt, a, FLAG_SET);
}

static int addflag_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	return flag_command(rt, a, FLAG_ADD);
}

static int removeflag_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	return flag_command(rt, a, FLAG_REMOVE);
}

/* ------------------------------------------------------------------ */
/* hasflag                                                             */

/* Appends the normalized flags of s to a growing array. */
static void collect_flags(struct sieve_runtime *rt, const char *s, size_t len,
			  struct sieve_string **v, size_t *n, size_t *cap)
{
	struct strbuf b = STRBUF_INIT;
	list_add(&b, s, len, (size_t)-1);
	size_t pos = 0;
	const char *t;
	size_t tl;
	while (next_token(b.data, b.len, &pos, &t, &tl)) {
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 8;
			*v = arena_grow(rt->arena, *v, *cap, nc, sizeof(**v));
			*cap = nc;
		}
		(*v)[*n].p = arena_strndup(rt->arena, t, tl);
		(*v)[*n].len = tl;
		(*n)++;
	}
	strbuf_free(&b);
}

static int hasflag_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	bool has_var = a->npos == 2;
	const struct sieve_operand *keys = &a->pos[has_var ? 1 : 0];
	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, keys);

	/* With :is and :contains every key is a flag list of its own. */
	if (m.mtype == SV_MATCH_IS || m.mtype == SV_MATCH_CONTAINS) {
		struct sieve_string *nk = NULL;
		size_t nn = 0, cap = 0;
		for (size_t i = 0; i < m.nkeys; i++)
			collect_flags(rt, m.keys[i].p, m.keys[i].len, &nk, &nn, &cap);
		m.keys = nk;
		m.nkeys = nn;
	}

	struct sieve_string *vals = NULL;
	size_t nv = 0, cap = 0;
	if (has_var) {
		struct sieve_string *vars;
		size_t n = sieve_opd_strlist(rt, &a->pos[0], &vars);
		for (size_t i = 0; i < n; i++)
			collect_flags(rt, vars[i].p, vars[i].len, &vals, &nv, &cap);
	} else {
		struct flags_ctx *fc = flags_get(rt);
		collect_flags(rt, fc->str, fc->len, &vals, &nv, &cap);
	}
	for (size_t i = 0; i < nv; i++) {
		int r = sieve_match_value(&m, vals[i].p, vals[i].len);
		if (r < 0)
			return SIEVE_FAILURE;
		if (r > 0)
			break;
	}
	int r = sieve_match_end(&m);
	if (r < 0)
		return SIEVE_FAILURE;
	rt->test_result = r > 0;
	return SIEVE_OK;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

static const char *cval_type_name(const struct sieve_cval *cv)
{
	return cv->type == SV_AT_STRLIST ? "string list" : cv->type == SV_AT_NUMBER ? "number" : "string";
}

/* Resolves a variable name argument to its slot; -1 after an error. */
static int variable_slot(struct sieve_validator *v, const struct sieve_cstring *s)
{
	if (!sieve_cstring_is_const(s) || !sieve_identifier_valid(s->data, s->len, 64)) {
		sieve_validator_error(v, s->loc, "invalid variable name '%s'",
				      sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 80));
		return -1;
	}
	int slot = sieve_validator_var_declare(v, s->data, s->len);
	if (slot < 0 && !v->var_limit_reported) {
		v->var_limit_reported = true;
		sieve_validator_error(v, s->loc,
			"(implicit) declaration of new variable '%s' exceeds the limit (max variables: %zu)",
			s->data, v->max_vars);
	}
	return slot;
}

static int flag_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	bool is_test = c->def->kind == SV_CMD_TEST;
	const char *kind = is_test ? "test" : "command";
	if (c->npos == 2) {
		struct sieve_cval *var = &c->pos[0];
		if (!is_test && var->type != SV_AT_STRING) {
			sieve_validator_error(v, var->loc,
				"if a second argument is specified for the %s %s, the first must be a string (variable name), but %s was found",
				c->def->name, kind, cval_type_name(var));
			return -1;
		}
		if (!sieve_validator_ext_required(v, "variables")) {
			sieve_validator_error(v, var->loc,
				"the %s %s only allows for the specification of a variable name when the variables extension is active",
				c->def->name, kind);
			return -1;
		}
		for (size_t i = 0; i < var->nstrs; i++) {
			struct sieve_cstring *s = &var->strs[i];
			if (is_test && sieve_cstring_is_const(s) && s->len > 0 &&
			    strspn(s->data, "0123456789") == s->len) {
				/* A match variable: hasflag may read ${N}. */
				struct sieve_strpart *p = arena_alloc(sieve_validator_arena(v), sizeof(*p));
				p->kind = SV_SP_MATCHVAR;
				p->index = (unsigned)(s->len > 5 ? 100000 : strtoul(s->data, NULL, 10));
				p->data = s->data;
				p->len = s->len;
				s->parts = p;
				s->nparts = 1;
				continue;
			}
			int slot = variable_slot(v, s);
			if (slot < 0)
				return -1;
			if (!is_test) {
				/* The command's operand is the slot it modifies. */
				var->type = SV_AT_NUMBER;
				var->number = (uint64_t)slot;
				break;
			}
			/* The test reads the variables: each name becomes a
			   reference, so the operand expands to their values. */
			struct sieve_strpart *p = arena_alloc(sieve_validator_arena(v), sizeof(*p));
			p->kind = SV_SP_VARIABLE;
			p->index = (unsigned)slot;
			p->data = s->data;
			p->len = s->len;
			s->parts = p;
			s->nparts = 1;
		}
	}
	/* Warn about flags that adding would drop (only for a constant single
	   string, and only the first, as Pigeonhole). */
	if (!is_test && c->npos == 1 && c->pos[0].type == SV_AT_STRING &&
	    sieve_cstring_is_const(&c->pos[0].strs[0])) {
		const struct sieve_cstring *s = &c->pos[0].strs[0];
		size_t pos = 0;
		const char *t;
		size_t tl;
		while (next_token(s->data, s->len, &pos, &t, &tl)) {
			if (!flag_valid(t, tl)) {
				sieve_validator_warning(v, s->loc,
					"IMAP flag '%s' specified for the %s command is invalid and will be ignored (only first invalid is reported)",
					sieve_str_sanitize(sieve_validator_arena(v), t, tl, 64), c->def->name);
				break;
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* :flags and the store hook                                           */

static int tag_index(const struct sieve_exec_args *a, const char *name)
{
	for (unsigned i = 0; i < a->ntags; i++)
		if (strcmp(a->tags[i].def->name, name) == 0)
			return (int)i;
	return -1;
}

static int imap4flags_store_hook(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				 struct sieve_action *act)
{
	struct arena *ra = rt->result->arena;
	int ti = tag_index(a, "flags");
	if (ti >= 0) {
		struct sieve_string *items;
		size_t n = sieve_opd_strlist(rt, &a->tags[ti].val, &items);
		const char **all = NULL;
		size_t nall = 0;
		for (size_t i = 0; i < n; i++) {
			const char **v;
			size_t k = list_split(ra, items[i].p, items[i].len, &v);
			all = arena_grow(ra, all, nall, nall + k + 1, sizeof(*all));
			memcpy(all + nall, v, k * sizeof(*v));
			nall += k;
		}
		act->flags = all;
		act->nflags = nall;
		int ci = tag_index(a, "copy");
		act->flags_first = ci < 0 || ti < ci;
	} else {
		/* No :flags: the internal variable as it is now.  Consecutive
		   stores share one copy while the variable does not change. */
		struct flags_ctx *fc = flags_get(rt);
		if (!fc->snap_valid) {
			fc->nsnap = list_split(ra, fc->str, fc->len, &fc->snap);
			fc->snap_valid = true;
		}
		act->flags = fc->snap;
		act->nflags = fc->nsnap;
		act->flags_first = false;
	}
	act->flags_set = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Definitions                                                         */

static const struct sieve_pos_arg flag_cmd_args[] = {
	{ "variable name", SV_AT_STRING | SV_AT_STRLIST }, { "list of flags", SV_AT_STRLIST } };
static const struct sieve_pos_arg hasflag_args[] = {
	{ "variable list", SV_AT_STRLIST }, { "list of flags", SV_AT_STRLIST } };

static const struct sieve_command_def cmd_setflag = {
	"setflag", SV_CMD_COMMAND, SV_CF_OPT_LASTPOS, flag_cmd_args, 2, NULL,
	flag_validate, setflag_execute, NULL };
static const struct sieve_command_def cmd_addflag = {
	"addflag", SV_CMD_COMMAND, SV_CF_OPT_LASTPOS, flag_cmd_args, 2, NULL,
	flag_validate, addflag_execute, NULL };
static const struct sieve_command_def cmd_removeflag = {
	"removeflag", SV_CMD_COMMAND, SV_CF_OPT_LASTPOS, flag_cmd_args, 2, NULL,
	flag_validate, removeflag_execute, NULL };
static const struct sieve_command_def tst_hasflag = {
	"hasflag", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR | SV_CF_OPT_LASTPOS, hasflag_args, 2, NULL,
	flag_validate, hasflag_execute, NULL };

static const struct sieve_command_def *const imap4flags_commands[] = {
	&cmd_setflag, &cmd_addflag, &cmd_removeflag, &tst_hasflag, NULL
};

static const struct sieve_tag_def tag_flags = { "flags", SV_TC_NONE, 0, SV_AT_STRLIST, "list of flags" };
static const struct sieve_tag_link imap4flags_links[] = {
	{ "keep", &tag_flags }, { "fileinto", &tag_flags }, { NULL, NULL }
};

const struct sieve_extension_def sieve_ext_imap4flags = {
	.name = "imap4flags",
	.flags = SV_EF_DEFAULT_ON,
	.commands = imap4flags_commands,
	.tag_links = imap4flags_links,
	.store_hook = imap4flags_store_hook,
};
