/* extlists.c: the extlists extension (RFC 6134): the ":list" match type,
 * whose keys name external lists (a value matches when it is a member of
 * one of them), the "valid_ext_list" test, and "redirect :list", which
 * forwards to every address of a list.
 *
 * Lists are files the administrator names in the settings, one list per
 * numbered setting, as sieve_before is numbered:
 *
 *     sieve_extlists_list  = :addrbook:default /etc/tamis/lists/friends
 *     sieve_extlists_list2 = tag:example.com,2010-05-28:mylist /srv/mylist
 *
 * (the list name, then the file).  Names are URIs (RFC 6134);
 * ":addrbook:..." is the shorthand of "urn:ietf:params:sieve:addrbook:..."
 * and names compare without regard to case, as in Pigeonhole 2.4, so
 * settings and scripts may spell a list either way.  Query parts such as
 * ":addrbook:personal?label=Family" are part of the name: that list is
 * whatever file the settings give it.  ":addrbook:default" always exists,
 * empty unless configured (Pigeonhole 2.4 too).  A list file holds one
 * member per line; surrounding blanks, empty lines and lines starting
 * with '#' are ignored.  Membership is ASCII case-insensitive and exact;
 * a value longer than sieve_extlists_max_lookup_size (default 1024, as
 * Pigeonhole 2.4's) is never a member.  After a :list match ${0} is the value
 * found in the list (Pigeonhole 2.4 does the same; ${1}... stay empty).
 * A list is read once per run, at its first use, into a sorted array
 * searched by bisection; files are bounded (sieve_extlists_max_size,
 * default 16M) and so is the number of lists (64).
 *
 * Errors: a constant list name that is not configured is a compile error
 * (as in Cyrus; Pigeonhole only warns at run time); a computed one has no
 * members (a warning says so), except for redirect :list, where it is a
 * runtime error.  valid_ext_list is simply false for a name that is no
 * configured list, whatever its form.  A comparator with :list is refused
 * with Pigeonhole's wording (RFC 6134 leaves membership to the list).
 * redirect :list, which Pigeonhole 2.4 refuses, sends to every member
 * (Cyrus hands the list to its host instead), each copy counting against
 * sieve_max_redirects and taking redirect-dsn/redirect-deliverby options.
 * Off unless the settings enable it. */
#include "sieve/engine.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXTLISTS_MAX_LISTS 64

static void lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

/* A list name in the form names are compared in (malloc'd): RFC 6134's
 * shorthand ":addrbook:default" expanded to the URN it stands for,
 * "urn:ietf:params:sieve:addrbook:default", and lower-cased, since
 * Pigeonhole 2.4 compares list names without regard to case (URN prefixes
 * and namespace ids are case-insensitive anyway).  So the settings and a
 * script may each use either spelling.  The caller keeps out names that
 * hold NUL. */
static char *name_canonical(const char *name, size_t len)
{
	static const char urn[] = "urn:ietf:params:sieve";
	size_t plen = len > 0 && name[0] == ':' ? sizeof(urn) - 1 : 0;
	char *s = malloc(plen + len + 1);
	if (s == NULL)
		abort();
	memcpy(s, urn, plen);
	memcpy(s + plen, name, len);
	s[plen + len] = '\0';
	lower(s);
	return s;
}

/* The file configured for list `name` (malloc'd), or NULL. */
static char *list_file(const struct sieve_config *cfg, const char *name, size_t nlen)
{
	/* A name holding NUL is no list (and would compare short). */
	if (memchr(name, '\0', nlen) != NULL)
		return NULL;
	char *want = name_canonical(name, nlen);
	char *found = NULL;
	for (unsigned i = 1; i <= EXTLISTS_MAX_LISTS; i++) {
		char key[48];
		if (i == 1)
			snprintf(key, sizeof(key), "sieve_extlists_list");
		else
			snprintf(key, sizeof(key), "sieve_extlists_list%u", i);
		const char *v = sieve_config_get(cfg, key);
		if (v == NULL)
			break;   /* numbered settings stop at the first gap */
		while (*v == ' ' || *v == '\t')
			v++;
		size_t n = strcspn(v, " \t");
		char *have = name_canonical(v, n);
		bool same = strcmp(have, want) == 0;
		free(have);
		if (!same)
			continue;
		const char *path = v + n;
		while (*path == ' ' || *path == '\t')
			path++;
		size_t plen = strlen(path);
		while (plen > 0 && (path[plen - 1] == ' ' || path[plen - 1] == '\t'))
			plen--;
		if (plen > 0)
			found = strndup(path, plen);
		break;
	}
	free(want);
	return found;
}

/* The user's default address book always exists, if only empty when the
 * settings name no file for it: RFC 6134's examples rely on
 * ":addrbook:default", and Pigeonhole 2.4 defines it the same way. */
static bool is_default_addrbook(const char *name, size_t len)
{
	if (memchr(name, '\0', len) != NULL)
		return false;
	char *c = name_canonical(name, len);
	bool r = strcmp(c, "urn:ietf:params:sieve:addrbook:default") == 0;
	free(c);
	return r;
}

static bool list_known(const struct sieve_config *cfg, const char *name, size_t len)
{
	char *f = list_file(cfg, name, len);
	free(f);
	return f != NULL || is_default_addrbook(name, len);
}

/* ---- lists, loaded per run ---- */

struct ext_list {
	const char *name;           /* canonical (name_canonical()) */
	size_t nlen;
	const char *raw;            /* as the script spelled it first */
	size_t rawlen;
	bool ok;                    /* configured and readable */
	const char **items;         /* lower-cased, sorted */
	size_t nitems;
};

struct extlists_run {
	struct ext_list lists[EXTLISTS_MAX_LISTS];
	size_t nlists;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void list_load(struct sieve_runtime *rt, struct ext_list *l)
{
	char *path = list_file(rt->cfg, l->raw, l->rawlen);
	if (path == NULL) {
		l->ok = is_default_addrbook(l->raw, l->rawlen);
		return;
	}
	uint64_t max = sieve_config_uint(rt->cfg, "sieve_extlists_max_size", 16u << 20);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return;
	struct strbuf data = STRBUF_INIT;
	int r = strbuf_read_fd(&data, fd, max > SIZE_MAX ? SIZE_MAX : (size_t)max);
	close(fd);
	if (r < 0) {
		strbuf_free(&data);
		return;
	}
	size_t cap = 0;
	const char *p = data.data != NULL ? data.data : "", *end = p + data.len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *e = eol != NULL ? eol : end;
		const char *b = p;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (e > b && *b != '#') {
			if (l->nitems == cap) {
				size_t nc = cap ? cap * 2 : 64;
				l->items = arena_grow(rt->arena, l->items, cap, nc, sizeof(char *));
				cap = nc;
			}
			char *item = arena_strndup(rt->arena, b, (size_t)(e - b));
			lower(item);
			l->items[l->nitems++] = item;
		}
		p = eol != NULL ? eol + 1 : end;
	}
	strbuf_free(&data);
	if (l->nitems > 1)
		qsort(l->items, l->nitems, sizeof(char *), cmp_str);
	l->ok = true;
}

/* The list `name`, loaded on first use; NULL when not configured (with
 * `warn`, said once per run). */
static struct ext_list *list_get(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				 const char *name, size_t len, bool warn)
{
	struct extlists_run *run = sieve_runtime_ext_ctx(rt, "extlists");
	if (run == NULL) {
		run = arena_alloc(rt->arena, sizeof(*run));
		sieve_runtime_set_ext_ctx(rt, "extlists", run);
	}
	/* A computed name holding NUL is no list (and would compare short). */
	if (memchr(name, '\0', len) != NULL) {
		if (warn)
			sieve_runtime_warning(rt, a, "unknown external list '%s': no value is a member",
					      sieve_str_sanitize(rt->arena, name, len, 80));
		return NULL;
	}
	/* Cached under the canonical name: both spellings are one list. */
	char *canon = name_canonical(name, len);
	for (size_t i = 0; i < run->nlists; i++) {
		if (strcmp(run->lists[i].name, canon) == 0) {
			free(canon);
			return run->lists[i].ok ? &run->lists[i] : NULL;
		}
	}
	if (run->nlists == EXTLISTS_MAX_LISTS) {
		free(canon);
		return NULL;
	}
	struct ext_list *l = &run->lists[run->nlists++];
	l->name = arena_strdup(rt->arena, canon);
	l->nlen = strlen(canon);
	free(canon);
	l->raw = arena_strndup(rt->arena, name, len);
	l->rawlen = len;
	list_load(rt, l);
	if (!l->ok && warn)
		sieve_runtime_warning(rt, a, "unknown external list '%s': no value is a member",
				      sieve_str_sanitize(rt->arena, name, len, 80));
	return l->ok ? l : NULL;
}

static bool list_member(const struct ext_list *l, const char *v, size_t len, size_t max)
{
	if (len > max || memchr(v, '\0', len) != NULL)
		return false;
	char buf[1024];
	char *key = len < sizeof(buf) ? buf : malloc(len + 1);
	if (key == NULL)
		abort();
	memcpy(key, v, len);
	key[len] = '\0';
	lower(key);
	size_t lo = 0, hi = l->nitems;
	bool found = false;
	while (lo < hi && !found) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, l->items[mid]);
		if (c == 0)
			found = true;
		else if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (key != buf)
		free(key);
	return found;
}

/* ---- :list ---- */

bool sieve_extlists_match_key(struct sieve_match_ctx *m, size_t key, const char *val, size_t len)
{
	const struct sieve_string *k = &m->keys[key];
	/* A computed name that is no list makes no member (a constant one
	   was refused at compile time). */
	struct ext_list *l = list_get(m->rt, m->a, k->p, k->len, true);
	if (l == NULL)
		return false;
	size_t max = (size_t)sieve_config_uint(m->rt->cfg, "sieve_extlists_max_lookup_size", 1024);
	if (!list_member(l, val, len, max))
		return false;
	/* As Pigeonhole 2.4: ${0} is the value found in the list (the other
	   match variables are left empty). */
	struct sieve_runtime *rt = m->rt;
	if (rt->mv_enabled) {
		memset(&rt->mv, 0, sizeof(rt->mv));
		rt->mv.count = 1;
		rt->mv.v[0].p = arena_memdup(rt->arena, val, len);
		rt->mv.v[0].len = len;
	}
	return true;
}

static const struct sieve_tag_def tag_list = { "list", SV_TC_MATCH, SV_MATCH_LIST, 0, NULL };
static const struct sieve_tag_def *const extlists_class_tags[] = { &tag_list, NULL };

static int list_match_validate(struct sieve_validator *v, struct sieve_cmd *c, const struct sieve_ctag *mt,
			       enum match_comparator cmp)
{
	if (c->npos == 0)
		return 0;
	const struct sieve_cval *keys = &c->pos[c->npos - 1];
	for (size_t i = 0; i < keys->nstrs; i++) {
		const struct sieve_cstring *s = &keys->strs[i];
		if (sieve_cstring_is_const(s) && !list_known(sieve_validator_config(v), s->data, s->len)) {
			sieve_validator_error(v, s->loc, "unknown external list '%s'",
					      sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 80));
			return -1;
		}
	}
	return 0;
}

/* ---- valid_ext_list ---- */

static int valid_ext_list_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string *names;
	size_t n = sieve_opd_strlist(rt, &a->pos[0], &names);
	rt->test_result = true;
	for (size_t i = 0; i < n && rt->test_result; i++)
		if (list_get(rt, a, names[i].p, names[i].len, false) == NULL)
			rt->test_result = false;
	return SIEVE_OK;
}

static const struct sieve_pos_arg valid_ext_list_args[] = { { "ext-list-names", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_valid_ext_list = {
	"valid_ext_list", SV_CMD_TEST, 0, valid_ext_list_args, 1, NULL, NULL, valid_ext_list_execute, NULL };
static const struct sieve_command_def *const extlists_commands[] = { &cmd_valid_ext_list, NULL };

/* ---- redirect :list ---- */

static const struct sieve_tag_def tag_redirect_list = { "list", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_link extlists_links[] = { { "redirect", &tag_redirect_list }, { NULL, NULL } };

static int extlists_tag_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_ctag *t = sieve_cmd_tag(c, "list");
	if (t == NULL || t->def != &tag_redirect_list || c->npos == 0)
		return 0;
	const struct sieve_cstring *s = &c->pos[0].strs[0];
	if (sieve_cstring_is_const(s) && !list_known(sieve_validator_config(v), s->data, s->len)) {
		sieve_validator_error(v, s->loc, "unknown external list '%s'",
				      sieve_str_sanitize(sieve_validator_arena(v), s->data, s->len, 80));
		return -1;
	}
	return 0;
}

int sieve_extlists_redirect(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string name = sieve_opd_string(rt, &a->pos[0]);
	struct ext_list *l = list_get(rt, a, name.p, name.len, false);
	if (l == NULL) {
		sieve_runtime_error(rt, a, "unknown external list '%s'",
				    sieve_str_sanitize(rt->arena, name.p, name.len, 80));
		return SIEVE_FAILURE;
	}
	bool copy = sieve_args_tag(a, "copy") != NULL;
	for (size_t i = 0; i < l->nitems; i++) {
		const char *norm = msg_normalize_address(rt->arena, l->items[i]);
		if (norm == NULL) {
			sieve_runtime_error(rt, a, "external list '%s' holds an invalid address '%s'",
					    sieve_str_sanitize(rt->arena, name.p, name.len, 80),
					    sieve_str_sanitize(rt->arena, l->items[i], strlen(l->items[i]), 80));
			return SIEVE_FAILURE;
		}
		/* As a plain redirect: the message before replace/enclose. */
		struct sieve_action *act = sieve_send_action_new(rt, &sieve_act_redirect, a);
		act->address = arena_strdup(rt->result->arena, norm);
		act->copy = copy;
		for (size_t k = 0; k < rt->bin->nexts; k++) {
			const struct sieve_extension_def *e = sieve_extensions[rt->bin->exts[k]];
			if (e->redirect_hook != NULL && e->redirect_hook(rt, a, act) < 0)
				return SIEVE_FAILURE;
		}
		if (sieve_result_add(rt, a, act, !copy) < 0)
			return SIEVE_FAILURE;
	}
	return SIEVE_OK;
}

/* redirect's :list lives in a hidden extension that extlists implies: a
   binary names a tag by extension and name, and the :list match type
   already has that name in "extlists". */
const struct sieve_extension_def sieve_ext_extlists_redirect = {
	.name = "@extlists-redirect",
	.flags = SV_EF_HIDDEN,
	.tag_links = extlists_links,
	.tag_validate = extlists_tag_validate,
};

static const char *const extlists_implies[] = { "@extlists-redirect", NULL };

const struct sieve_extension_def sieve_ext_extlists = {
	.name = "extlists",
	.commands = extlists_commands,
	.class_tags = extlists_class_tags,
	.implies = extlists_implies,
	.match_validate = list_match_validate,
};
