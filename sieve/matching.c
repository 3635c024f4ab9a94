/* matching.c: the glue between commands and match.h.  A test collects its
 * values (header values, address parts, envelope parts ...) and feeds them
 * one at a time; this file applies the command's match type and comparator,
 * records match values for ${1}.. when variables are in use, and handles
 * relational :count, which needs every value before it can decide. */
#include "sieve/engine.h"
#include "lib/utf8.h"
#include <string.h>
#include <strings.h>

int sieve_match_begin(struct sieve_match_ctx *m, struct sieve_runtime *rt,
		      const struct sieve_exec_args *a, const struct sieve_operand *keys)
{
	memset(m, 0, sizeof(*m));
	m->rt = rt;
	m->a = a;
	m->mtype = SV_MATCH_IS;
	m->cmp = MATCH_CMP_ASCII_CASEMAP;
	const struct sieve_exec_tag *mt = sieve_args_tag_class(a, SV_TC_MATCH);
	if (mt != NULL) {
		m->mtype = (enum sieve_match_type)mt->def->id;
		if (mt->has_val) {
			struct sieve_string rel = sieve_opd_string(rt, &mt->val);
			char buf[3] = { 0 };
			if (rel.len == 2) {
				buf[0] = rel.p[0];
				buf[1] = rel.p[1];
			}
			int r = match_relation_lookup(buf);
			m->rel = r < 0 ? MATCH_REL_EQ : (enum match_relation)r;
		}
	}
	const struct sieve_exec_tag *ct = sieve_args_tag_class(a, SV_TC_COMPARATOR);
	if (ct != NULL) {
		struct sieve_string cn = sieve_opd_string(rt, &ct->val);
		int c = match_comparator_lookup(sieve_rt_strdup(rt, cn));
		if (c >= 0)
			m->cmp = (enum match_comparator)c;
	}
	m->nkeys = sieve_opd_strlist(rt, keys, &m->keys);
	return 0;
}

int sieve_match_value(struct sieve_match_ctx *m, const char *v, size_t len)
{
	m->nvalues++;
	if (m->matched || m->mtype == SV_MATCH_COUNT)
		return m->matched ? 1 : 0;
	struct sieve_runtime *rt = m->rt;
	for (size_t i = 0; i < m->nkeys; i++) {
		const char *k = m->keys[i].p;
		size_t kl = m->keys[i].len;
		bool ok = false;
		switch (m->mtype) {
		case SV_MATCH_IS:
			ok = match_is(m->cmp, v, len, k, kl);
			break;
		case SV_MATCH_CONTAINS:
			ok = match_contains(m->cmp, v, len, k, kl);
			break;
		case SV_MATCH_MATCHES: {
			struct match_values mv;
			ok = match_matches(m->cmp, v, len, k, kl, rt->mv_enabled ? &mv : NULL);
			if (ok && rt->mv_enabled) {
				/* The values point into v, which may be scratch memory:
				   copy them into the run's arena. */
				for (size_t j = 0; j < mv.count; j++) {
					mv.v[j].p = arena_memdup(rt->arena, mv.v[j].p, mv.v[j].len);
				}
				rt->mv = mv;
			}
			break;
		}
		case SV_MATCH_VALUE:
			ok = match_value(m->cmp, m->rel, v, len, k, kl);
			break;
		case SV_MATCH_REGEX:
			ok = sieve_regex_match_key(m, i, v, len);
			break;
		case SV_MATCH_LIST:
			ok = sieve_extlists_match_key(m, i, v, len);
			break;
		default:
			break;
		}
		if (ok) {
			m->matched = true;
			return 1;
		}
	}
	return 0;
}

int sieve_match_end(struct sieve_match_ctx *m)
{
	sieve_regex_match_end(m);
	if (m->mtype == SV_MATCH_COUNT) {
		for (size_t i = 0; i < m->nkeys; i++)
			if (match_count(m->cmp, m->rel, m->nvalues, m->keys[i].p, m->keys[i].len))
				return 1;
		return 0;
	}
	return m->matched ? 1 : 0;
}

enum sieve_addrpart sieve_args_addrpart(const struct sieve_exec_args *a)
{
	const struct sieve_exec_tag *t = sieve_args_tag_class(a, SV_TC_ADDRPART);
	return t == NULL ? SV_AP_ALL : (enum sieve_addrpart)t->def->id;
}

bool sieve_address_part(struct sieve_runtime *rt, enum sieve_addrpart ap,
			const struct msg_address *addr, struct sieve_string *out)
{
	const char *local = addr->local != NULL ? addr->local : "";
	const char *domain = addr->domain;
	switch (ap) {
	case SV_AP_ALL:
		if (domain != NULL)
			out->p = msg_address_format(rt->arena, local, domain);
		else
			out->p = local;
		out->len = strlen(out->p);
		return true;
	case SV_AP_LOCALPART:
		out->p = local;
		out->len = strlen(local);
		return true;
	case SV_AP_DOMAIN:
		if (domain == NULL)
			return false;
		out->p = domain;
		out->len = strlen(domain);
		return true;
	case SV_AP_USER:
	case SV_AP_DETAIL: {
		const char *delims = sieve_config_get(rt->cfg, "recipient_delimiter");
		if (delims == NULL)
			delims = sieve_config_get(rt->cfg, "sieve_subaddress_sep");
		if (delims == NULL)
			delims = "+";
		size_t pos = strcspn(local, delims);
		if (ap == SV_AP_USER) {
			out->p = arena_strndup(rt->arena, local, pos);
			out->len = pos;
			return true;
		}
		if (local[pos] == '\0' || *delims == '\0')
			return false;
		out->p = local + pos + 1;
		out->len = strlen(out->p);
		return true;
	}
	}
	return false;
}

bool sieve_str_eq_ci(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Kept for the extensions that include only engine.h; the reading is
   lib/utf8.c's strict one. */
bool sieve_utf8_valid(const char *s, size_t len)
{
	return utf8_valid(s, len);
}

bool sieve_identifier_valid(const char *s, size_t len, size_t max_len)
{
	if (len == 0 || (max_len > 0 && len > max_len))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alpha = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		if (!alpha && (i == 0 || c < '0' || c > '9'))
			return false;
	}
	return true;
}

const char *sieve_str_sanitize(struct arena *a, const char *s, size_t len, size_t max)
{
	const char *nul = memchr(s, '\0', len);
	if (nul != NULL)
		len = (size_t)(nul - s);
	bool clean = len <= max;
	for (size_t i = 0; clean && i < len; i++)
		if ((unsigned char)s[i] < 32 || (unsigned char)s[i] >= 0x80)
			clean = false;   /* 8-bit text is checked for valid UTF-8 below */
	if (clean)
		return s[len] == '\0' ? s : arena_memdup(a, s, len);
	struct strbuf b = STRBUF_INIT;
	size_t i = 0;
	while (i < len && i < max) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t n = utf8_decode((const unsigned char *)s + i, len - i, &cp, UTF8_STRICT);
		if (n == 0) {
			/* invalid UTF-8: one '?' per byte */
			strbuf_putc(&b, '?');
			i++;
			continue;
		}
		if (i + n > max)
			break;
		if (c < 32)
			strbuf_putc(&b, '?');
		else
			strbuf_append(&b, s + i, n);
		i += n;
	}
	if (i < len) {
		/* Make room for "..." without cutting a character in two. */
		size_t keep = max < 3 ? 0 : max - 3;
		while (b.len > keep) {
			b.len--;
			while (b.len > 0 && ((unsigned char)b.data[b.len] & 0xc0) == 0x80)
				b.len--;
		}
		strbuf_append(&b, "...", 3);
	}
	const char *r = arena_memdup(a, b.data ? b.data : "", b.len);
	strbuf_free(&b);
	return r;
}
