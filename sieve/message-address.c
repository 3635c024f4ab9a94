/* message-address.c: RFC 5322 address lists (with comments, groups, quoted
 * local parts and the obsolete route and dot syntax), SMTP envelope paths,
 * and the address normalization used by redirect and vacation.
 *
 * The address-list parser reproduces what Pigeonhole 0.5.19 gets from
 * Dovecot's lib-mail parser, because scripts and the conformance suite
 * depend on its exact recovery behaviour (checked against sieve-test):
 *  - every element is tried as a group ("name:" members ";"), then as a
 *    name-addr ([phrase] "<" [route ":"] addr-spec ">"), then as an
 *    addr-spec; a failed element leaves the cursor where it failed, and the
 *    list goes on only if that is a comma;
 *  - local parts are a quoted-string or any run of atext and dots ("a.",
 *    ".a", "a..b" are accepted, see addr_parse_local_dots()), domains a
 *    strict dot-atom (CFWS allowed around the dots) or a [literal] kept as
 *    it is;
 *  - atext includes 8-bit bytes (display names and domains may be UTF-8)
 *    but a local part must be printable ASCII, else the address is invalid;
 *  - a value with only comments (even an unterminated one) has no element.
 * Everything is linear: the parser never backtracks more than one element,
 * and comments nest by counting, not by recursion. */
#include "sieve/message.h"
#include "lib/strbuf.h"
#include <string.h>

/* RFC 5322 atext plus the 8-bit bytes, which Dovecot accepts as atext too
   (UTF-8 display names and domains). */
static bool addr_is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 5321 atext: ASCII only. */
static bool addr_is_smtp_atext(unsigned char c)
{
	return c < 0x80 && addr_is_atext(c);
}

struct addr_parser {
	const unsigned char *p, *end;
	struct strbuf name, local, domain;
	/* Current element. */
	bool has_local, has_domain, quoted_local, invalid, null_angle;
	/* Results. */
	struct arena *a;
	struct msg_address *addrs;
	size_t n, cap;
	bool any;        /* something that looked like an address or group */
	bool any_invalid;
	bool any_null;   /* an address with an empty quoted local part */
};

/* Return convention of all parse steps (Dovecot's): -1 syntax error (the
   cursor stays where it was detected), 0 end of input, 1 more input. */
static int addr_more(const struct addr_parser *ps)
{
	return ps->p < ps->end ? 1 : 0;
}

/* At '(': skips a comment, nested ones and quoted-pairs included. */
static int addr_skip_comment(struct addr_parser *ps)
{
	size_t level = 1;
	ps->p++;
	while (ps->p < ps->end) {
		unsigned char c = *ps->p++;
		if (c == '\\') {
			if (ps->p >= ps->end)
				return -1;
			ps->p++;
		} else if (c == '(') {
			level++;
		} else if (c == ')') {
			if (--level == 0)
				return addr_more(ps);
		}
	}
	return -1;
}

/* Skips CFWS. */
static int addr_skip_cfws(struct addr_parser *ps)
{
	while (ps->p < ps->end) {
		unsigned char c = *ps->p;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			ps->p++;
		} else if (c == '(') {
			if (addr_skip_comment(ps) < 0)
				return -1;
		} else {
			break;
		}
	}
	return addr_more(ps);
}

/* At '"': appends the content, quoted-pairs resolved and folding line
   breaks removed. */
static int addr_parse_quoted(struct addr_parser *ps, struct strbuf *out)
{
	const unsigned char *run = ++ps->p;
	while (ps->p < ps->end) {
		unsigned char c = *ps->p;
		if (c == '"') {
			strbuf_append(out, run, (size_t)(ps->p - run));
			ps->p++;
			return addr_skip_cfws(ps);
		}
		if (c == '\n') {
			size_t len = (size_t)(ps->p - run);
			if (len > 0 && run[len - 1] == '\r')
				len--;
			strbuf_append(out, run, len);
			run = ++ps->p;
		} else if (c == '\\') {
			strbuf_append(out, run, (size_t)(ps->p - run));
			if (++ps->p >= ps->end)
				return -1;
			run = ps->p++;
		} else {
			ps->p++;
		}
	}
	return -1;
}

/* A run of atext and dots (possibly empty), then CFWS. */
static int addr_parse_atom_or_dot(struct addr_parser *ps, struct strbuf *out)
{
	const unsigned char *start = ps->p;
	while (ps->p < ps->end && (addr_is_atext(*ps->p) || *ps->p == '.'))
		ps->p++;
	strbuf_append(out, start, (size_t)(ps->p - start));
	return addr_skip_cfws(ps);
}

/* An unquoted local part: runs of atext and dots.  CFWS may separate two
   runs only where the first ends in atext and the second starts with a
   dot: "a .b" is "a.b", but "a. b", "a . b" and "a . .b" end after the
   first dot (checked against sieve-test). */
static int addr_parse_local_dots(struct addr_parser *ps, struct strbuf *out)
{
	for (;;) {
		const unsigned char *start = ps->p;
		while (ps->p < ps->end && (addr_is_atext(*ps->p) || *ps->p == '.'))
			ps->p++;
		strbuf_append(out, start, (size_t)(ps->p - start));
		if (ps->p == start || ps->p[-1] == '.')
			return addr_skip_cfws(ps);
		int ret = addr_skip_cfws(ps);
		if (ret <= 0 || *ps->p != '.')
			return ret;
	}
}

/* phrase = word *(word / "." / CFWS); words are joined by one space. */
static int addr_parse_phrase(struct addr_parser *ps, struct strbuf *out)
{
	if (ps->p >= ps->end)
		return 0;
	if (*ps->p == '.')
		return -1;
	for (;;) {
		int ret = *ps->p == '"' ? addr_parse_quoted(ps, out)
				       : addr_parse_atom_or_dot(ps, out);
		if (ret <= 0)
			return ret;
		if (!addr_is_atext(*ps->p) && *ps->p != '"' && *ps->p != '.')
			break;
		strbuf_putc(out, ' ');
	}
	return addr_skip_cfws(ps);
}

/* dot-atom = atext+ *("." atext+), CFWS allowed around the dots. */
static int addr_parse_dot_atom(struct addr_parser *ps, struct strbuf *out)
{
	if (ps->p >= ps->end || !addr_is_atext(*ps->p))
		return -1;
	for (;;) {
		const unsigned char *start = ps->p;
		while (ps->p < ps->end && addr_is_atext(*ps->p))
			ps->p++;
		strbuf_append(out, start, (size_t)(ps->p - start));
		int ret = addr_skip_cfws(ps);
		if (ret <= 0 || *ps->p != '.')
			return ret;
		ps->p++;
		strbuf_putc(out, '.');
		if ((ret = addr_skip_cfws(ps)) <= 0)
			return -1;
		if (!addr_is_atext(*ps->p))
			return -1;
	}
}

/* At '[': the literal is kept as written, brackets included. */
static int addr_parse_domain_literal(struct addr_parser *ps, struct strbuf *out)
{
	const unsigned char *start = ps->p++;
	while (ps->p < ps->end) {
		unsigned char c = *ps->p++;
		if (c == '\\') {
			if (ps->p >= ps->end)
				break;
			ps->p++;
		} else if (c == ']') {
			strbuf_append(out, start, (size_t)(ps->p - start));
			return addr_skip_cfws(ps);
		}
	}
	return -1;
}

/* At '@': the domain after it. */
static int addr_parse_domain(struct addr_parser *ps, struct strbuf *out)
{
	ps->p++;
	if (addr_skip_cfws(ps) <= 0)
		return -1;
	if (*ps->p == '[')
		return addr_parse_domain_literal(ps, out);
	return addr_parse_dot_atom(ps, out);
}

/* addr-spec = local-part "@" domain. */
static int addr_parse_addr_spec(struct addr_parser *ps)
{
	bool quoted = *ps->p == '"';
	int ret = quoted ? addr_parse_quoted(ps, &ps->local)
			 : addr_parse_local_dots(ps, &ps->local);
	ps->has_local = true;
	ps->quoted_local = quoted;
	if (ret <= 0)
		ps->invalid = true;
	if (ret != 0 && ps->p < ps->end && *ps->p == '@') {
		int r2 = addr_parse_domain(ps, &ps->domain);
		ps->has_domain = r2 >= 0;
		if (r2 <= 0)
			ret = r2;
		return ret;
	}
	if (ret >= 0) {
		/* "user" without a domain.  Whatever words follow it belong
		   to the same (invalid) element, so that the list can go on
		   at the next comma: "A B, c@d" still gives c@d. */
		strbuf_putc(&ps->local, ' ');
		(void)addr_parse_phrase(ps, &ps->local);
		ps->invalid = true;
		ret = -1;
	}
	return ret;
}

/* obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain).
   Routes are parsed only to be skipped. */
static int addr_parse_route(struct addr_parser *ps)
{
	struct strbuf scratch = STRBUF_INIT;
	int ret = 1;
	while (ps->p < ps->end && *ps->p == '@') {
		strbuf_truncate(&scratch, 0);
		if ((ret = addr_parse_domain(ps, &scratch)) <= 0)
			break;
		while (addr_skip_cfws(ps) > 0 && *ps->p == ',')
			ps->p++;
		ret = addr_more(ps);
	}
	strbuf_free(&scratch);
	return ret;
}

/* At '<': [route ":"] addr-spec ">" (or "<>", which is no address). */
static int addr_parse_angle_addr(struct addr_parser *ps)
{
	ps->p++;
	if (addr_skip_cfws(ps) <= 0)
		return -1;
	if (*ps->p == '@') {
		if (addr_parse_route(ps) > 0 && *ps->p == ':') {
			ps->p++;
		} else if (ps->p >= ps->end) {
			return -1;
		}
		/* else a broken route: go on with what follows, as
		   Dovecot does ("<@a b@c>" gives b@c). */
		if (addr_skip_cfws(ps) <= 0)
			return -1;
	}
	if (*ps->p == '>') {
		ps->null_angle = true;
	} else {
		if (addr_parse_addr_spec(ps) < 0)
			return -1;
		if (ps->p >= ps->end || *ps->p != '>')
			return -1;
	}
	ps->p++;
	return addr_skip_cfws(ps);
}

/* name-addr = [phrase] angle-addr.  -1 means "not a name-addr" (the
   caller backtracks); a broken angle-addr is an invalid element, not -1. */
static int addr_parse_name_addr(struct addr_parser *ps)
{
	if (addr_parse_phrase(ps, &ps->name) <= 0 || *ps->p != '<')
		return -1;
	if (addr_parse_angle_addr(ps) < 0)
		ps->invalid = true;
	return addr_more(ps);
}

static void addr_element_reset(struct addr_parser *ps)
{
	strbuf_truncate(&ps->name, 0);
	strbuf_truncate(&ps->local, 0);
	strbuf_truncate(&ps->domain, 0);
	ps->has_local = ps->has_domain = ps->quoted_local = false;
	ps->invalid = ps->null_angle = false;
}

/* A local part Pigeonhole accepts: printable ASCII (quoted ones may hold
   spaces); an unquoted one must not be empty. */
static bool addr_local_ok(const struct addr_parser *ps)
{
	if (ps->local.len == 0)
		return ps->quoted_local;
	for (size_t i = 0; i < ps->local.len; i++) {
		unsigned char c = (unsigned char)ps->local.data[i];
		if (c >= 0x7F || (c < 0x20 && c != '\t'))
			return false;
	}
	return true;
}

/* Records the element just parsed. */
static void addr_element_end(struct addr_parser *ps, int ret)
{
	ps->any = true;
	if (ret < 0 || ps->invalid || ps->null_angle || !ps->has_local ||
	    !ps->has_domain || ps->domain.len == 0 || !addr_local_ok(ps)) {
		ps->any_invalid = true;
		return;
	}
	if (ps->local.len == 0) {
		/* "" @x: Pigeonhole sees the null address and matches
		   nothing for it, but does not call it invalid. */
		ps->any_null = true;
		return;
	}
	if (ps->n == ps->cap) {
		size_t ncap = ps->cap == 0 ? 4 : ps->cap * 2;
		ps->addrs = arena_grow(ps->a, ps->addrs, ps->cap, ncap, sizeof(*ps->addrs));
		ps->cap = ncap;
	}
	struct msg_address *ad = &ps->addrs[ps->n++];
	ad->local = arena_memdup(ps->a, ps->local.data, ps->local.len);
	ad->domain = arena_memdup(ps->a, ps->domain.data, ps->domain.len);
	ad->display = ps->name.len > 0
		? msg_decode_2047(ps->a, ps->name.data, ps->name.len) : NULL;
}

/* mailbox = name-addr / addr-spec */
static int addr_parse_mailbox(struct addr_parser *ps)
{
	const unsigned char *start = ps->p;
	addr_element_reset(ps);
	int ret = addr_parse_name_addr(ps);
	if (ret < 0) {
		ps->p = start;
		addr_element_reset(ps);
		ret = addr_parse_addr_spec(ps);
	}
	addr_element_end(ps, ret);
	return ret;
}

/* group = phrase ":" [mailbox-list / CFWS] ";" [CFWS].  -1 only when this
   is not a group at all; a broken group still returns >= 0 so the caller
   does not retry it as a mailbox. */
static int addr_parse_group(struct addr_parser *ps)
{
	strbuf_truncate(&ps->name, 0);
	if (addr_parse_phrase(ps, &ps->name) <= 0 || *ps->p != ':')
		return -1;
	ps->p++;
	ps->any = true;
	int ret = addr_skip_cfws(ps);
	if (ret > 0 && *ps->p != ';') {
		for (;;) {
			if (addr_parse_mailbox(ps) <= 0) {
				ret = -1;
				break;
			}
			if (*ps->p != ',')
				break;
			ps->p++;
			if (addr_skip_cfws(ps) <= 0) {
				ret = -1;
				break;
			}
		}
	}
	if (ret >= 0) {
		if (ps->p >= ps->end || *ps->p != ';') {
			ret = -1;
		} else {
			ps->p++;
			ret = addr_skip_cfws(ps);
		}
	}
	if (ret < 0)
		ps->any_invalid = true;
	return ret == 0 ? 0 : 1;
}

static int addr_parse_address(struct addr_parser *ps)
{
	const unsigned char *start = ps->p;
	int ret = addr_parse_group(ps);
	if (ret < 0) {
		ps->p = start;
		ret = addr_parse_mailbox(ps);
	}
	return ret;
}

static void addr_parser_init(struct addr_parser *ps, struct arena *a,
			     const char *value, size_t len)
{
	memset(ps, 0, sizeof(*ps));
	ps->a = a;
	ps->p = (const unsigned char *)value;
	ps->end = ps->p + len;
}

static void addr_parser_deinit(struct addr_parser *ps)
{
	strbuf_free(&ps->name);
	strbuf_free(&ps->local);
	strbuf_free(&ps->domain);
}

/* The whole list; the results are left in ps. */
static void addr_parse_list(struct addr_parser *ps)
{
	if (addr_skip_cfws(ps) <= 0)
		return;
	while (addr_parse_address(ps) != 0) {
		if (ps->p >= ps->end || *ps->p != ',') {
			ps->any_invalid = true;
			break;
		}
		ps->p++;
		if (addr_skip_cfws(ps) <= 0)
			break;
	}
}

static bool addr_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

int msg_parse_address_list(struct arena *a, const char *value,
			   struct msg_address **addrs_r, size_t *n_r)
{
	struct addr_parser ps;
	addr_parser_init(&ps, a, value, strlen(value));
	addr_parse_list(&ps);
	addr_parser_deinit(&ps);
	*addrs_r = ps.addrs;
	*n_r = ps.n;
	if (addr_blank(value))
		return -1;
	if (ps.any_invalid || (ps.any && ps.n == 0 && !ps.any_null))
		return -1;
	return 0;
}

const char *msg_address_format(struct arena *a, const char *local, const char *domain)
{
	/* A dot-atom is written as it is; anything else (empty, leading,
	   trailing or doubled dot, specials, spaces) is quoted. */
	size_t len = strlen(local);
	bool quote = len == 0 || local[0] == '.' || local[len - 1] == '.';
	for (size_t i = 0; i < len && !quote; i++) {
		unsigned char c = (unsigned char)local[i];
		if (c == '.' ? local[i + 1] == '.' : !addr_is_smtp_atext(c))
			quote = true;
	}
	struct strbuf b = STRBUF_INIT;
	if (quote) {
		strbuf_putc(&b, '"');
		for (size_t i = 0; i < len; i++) {
			if (local[i] == '"' || local[i] == '\\')
				strbuf_putc(&b, '\\');
			strbuf_putc(&b, local[i]);
		}
		strbuf_putc(&b, '"');
	} else {
		strbuf_append(&b, local, len);
	}
	if (domain != NULL && domain[0] != '\0') {
		strbuf_putc(&b, '@');
		strbuf_puts(&b, domain);
	}
	const char *r = arena_memdup(a, b.data, b.len);
	strbuf_free(&b);
	return r;
}

size_t msg_address_items(struct arena *a, const char *value,
			 struct msg_address_item **items_r)
{
	struct msg_address_item *items;
	if (addr_blank(value)) {
		items = arena_alloc(a, sizeof(*items));
		items[0].all = items[0].local = items[0].domain = "";
		*items_r = items;
		return 1;
	}
	struct addr_parser ps;
	addr_parser_init(&ps, a, value, strlen(value));
	addr_parse_list(&ps);
	addr_parser_deinit(&ps);
	if (ps.n == 0) {
		if (!ps.any || ps.any_null) {
			/* Only comments, or only null addresses. */
			*items_r = NULL;
			return 0;
		}
		size_t s = 0, e = strlen(value);
		while (s < e && (value[s] == ' ' || value[s] == '\t'))
			s++;
		while (e > s && (value[e - 1] == ' ' || value[e - 1] == '\t'))
			e--;
		items = arena_alloc(a, sizeof(*items));
		items[0].all = arena_strndup(a, value + s, e - s);
		*items_r = items;
		return 1;
	}
	items = arena_alloc(a, ps.n * sizeof(*items));
	for (size_t i = 0; i < ps.n; i++) {
		items[i].local = ps.addrs[i].local;
		items[i].domain = ps.addrs[i].domain;
		items[i].all = msg_address_format(a, ps.addrs[i].local, ps.addrs[i].domain);
	}
	*items_r = items;
	return ps.n;
}

const char *msg_normalize_address(struct arena *a, const char *value)
{
	struct addr_parser ps;
	const char *r = NULL;
	addr_parser_init(&ps, a, value, strlen(value));
	if (addr_skip_cfws(&ps) > 0) {
		int ret = addr_parse_mailbox(&ps);
		/* Exactly one valid address and nothing after it. */
		if (ret == 0 && ps.n == 1 && !ps.any_invalid)
			r = msg_address_format(a, ps.addrs[0].local, ps.addrs[0].domain);
	}
	addr_parser_deinit(&ps);
	return r;
}

/*
 * SMTP paths (RFC 5321 section 4.1.2), as Pigeonhole reads the envelope.
 */

/* A domain: labels of letters, digits, '-', '_' (and UTF-8) separated by
   single dots, or an address literal.  Returns the end or NULL. */
static const char *path_domain(const char *p, const char *end)
{
	if (p < end && *p == '[') {
		const char *q = memchr(p, ']', (size_t)(end - p));
		return q != NULL ? q + 1 : NULL;
	}
	const char *label = p;
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '.') {
			if (p == label)
				return NULL;
			label = p + 1;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80)) {
			break;
		}
	}
	return p == label ? NULL : p;
}

int msg_parse_path(struct arena *a, const char *value, struct msg_address *addr_r)
{
	const char *p = value, *end = value + strlen(value);
	memset(addr_r, 0, sizeof(*addr_r));
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (p < end && *p == '<') {
		if (end[-1] != '>' || end - p < 2)
			return -1;
		p++;
		end--;
	} else if (p < end && end[-1] == '>') {
		return -1;
	}
	if (p == end) {
		addr_r->local = "";
		return 0;
	}
	if (*p == '@') {
		/* Source route: "@a,@b:" is skipped. */
		for (;;) {
			p = path_domain(p + 1, end);
			if (p == NULL || p >= end)
				return -1;
			if (*p == ':') {
				p++;
				break;
			}
			if (*p != ',' || p + 1 >= end || p[1] != '@')
				return -1;
			p++;
		}
	}
	struct strbuf local = STRBUF_INIT;
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			strbuf_putc(&local, *p);
		}
		if (p >= end) {
			strbuf_free(&local);
			return -1;
		}
		p++;
	} else {
		/* Dot-string with dots anywhere: Pigeonhole accepts the
		   local parts some Japanese providers hand out. */
		const char *s = p;
		while (p < end && (addr_is_smtp_atext((unsigned char)*p) || *p == '.' ||
				   (unsigned char)*p >= 0x80))
			p++;
		if (p == s) {
			strbuf_free(&local);
			return -1;
		}
		strbuf_append(&local, s, (size_t)(p - s));
	}
	addr_r->local = arena_memdup(a, local.data != NULL ? local.data : "", local.len);
	strbuf_free(&local);
	if (p == end)
		return 0;
	if (*p != '@')
		return -1;
	const char *d = p + 1;
	p = path_domain(d, end);
	if (p == NULL || p != end)
		return -1;
	addr_r->domain = arena_strndup(a, d, (size_t)(end - d));
	return 0;
}
