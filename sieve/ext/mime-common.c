/* mime-common.c: the shared machinery of the MIME extensions (see
 * mime-common.h): the part list with its per-part caches, the foreverypart
 * loop stack, Content-Type reading as Pigeonhole does it, and HTML to text
 * as Dovecot's mail-html2text does it (checked against sieve-test). */
#include "sieve/ext/mime-common.h"
#include "lib/utf8.h"
#include "lib/codec.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the part list ---- */

static void parts_walk(struct msg_mime_part *p, struct msg_mime_part **out, size_t *end,
		       size_t *n, size_t cap)
{
	/* The MIME parser bounds the depth (MSG_MIME_MAX_DEPTH), so the
	   recursion is bounded too. */
	if (*n >= cap)
		return;
	size_t me = (*n)++;
	out[me] = p;
	for (struct msg_mime_part *c = p->children; c != NULL; c = c->next)
		parts_walk(c, out, end, n, cap);
	end[me] = *n;
}

static size_t parts_count(const struct msg_mime_part *p)
{
	size_t n = 1;
	for (const struct msg_mime_part *c = p->children; c != NULL; c = c->next)
		n += parts_count(c);
	return n;
}

struct sieve_mime_parts *sieve_mime_parts(struct message *m)
{
	struct sieve_mime_parts *cached = m->part_index;
	/* editheader patches a message in place; when its edit changes the
	   structure it drops the MIME tree, and the list goes with it. */
	if (cached != NULL && cached->count > 0 && cached->part[0] == m->mime)
		return cached;
	struct arena *a = m->arena;
	struct msg_mime_part *root = msg_mime_parse(m);
	struct sieve_mime_parts *pp = arena_alloc(a, sizeof(*pp));
	size_t cap = parts_count(root);
	pp->msg = m;
	pp->part = arena_alloc(a, cap * sizeof(*pp->part));
	pp->end = arena_alloc(a, cap * sizeof(*pp->end));
	parts_walk(root, pp->part, pp->end, &pp->count, cap);
	pp->ctype = arena_alloc(a, cap * sizeof(*pp->ctype));
	pp->dec = arena_alloc(a, cap * sizeof(*pp->dec));
	pp->dec_len = arena_alloc(a, cap * sizeof(*pp->dec_len));
	pp->txt = arena_alloc(a, cap * sizeof(*pp->txt));
	pp->txt_len = arena_alloc(a, cap * sizeof(*pp->txt_len));
	pp->epi = arena_alloc(a, cap * sizeof(*pp->epi));
	pp->epi_len = arena_alloc(a, cap * sizeof(*pp->epi_len));
	pp->hdr = arena_alloc(a, cap * sizeof(*pp->hdr));
	pp->hdr_len = arena_alloc(a, cap * sizeof(*pp->hdr_len));
	m->part_index = pp;
	return pp;
}

/* ---- Content-Type as Pigeonhole reads it ---- */

bool sieve_mime_parse_ctype(struct arena *a, const char *value, bool ctype,
			    const char **type_r, const char **subtype_r)
{
	const char *s;
	size_t len;
	*type_r = *subtype_r = "";
	const char *p = msg_mime_token(msg_mime_skip_cfws(value), &s, &len);
	const char *type = arena_strndup(a, s, len);
	p = msg_mime_skip_cfws(p);
	if (ctype) {
		if (*type == '\0' || *p != '/')
			return false;
		p = msg_mime_token(msg_mime_skip_cfws(p + 1), &s, &len);
		if (len == 0)
			return false;
		*subtype_r = arena_strndup(a, s, len);
		p = msg_mime_skip_cfws(p);
	}
	if (*p != '\0' && *p != ';') {
		*subtype_r = "";
		return false;
	}
	*type_r = type;
	return true;
}

/* Pigeonhole's content_type_param_decode(): %XX decoded; a '%' without
   two hex digits makes the whole value undecodable (NULL). */
static const char *param_pct_decode(struct arena *a, const char *s)
{
	struct strbuf b = STRBUF_INIT;
	for (; *s != '\0'; s++) {
		if (*s != '%') {
			strbuf_putc(&b, *s);
			continue;
		}
		int h = codec_hex_value((unsigned char)s[1]), l = h >= 0 ? codec_hex_value((unsigned char)s[2]) : -1;
		if (l < 0) {
			strbuf_free(&b);
			return NULL;
		}
		strbuf_putc(&b, (char)(h * 16 + l));
		s += 2;
	}
	const char *r = arena_memdup(a, b.data != NULL ? b.data : "", b.len);
	strbuf_free(&b);
	return r;
}

size_t sieve_mime_param_values(struct arena *a, const char *value,
			       const struct sieve_string *names, size_t nn,
			       const char ***vals_r)
{
	const char *type, *subtype;
	struct msg_param *params;
	size_t np = msg_parse_mime_value_flags(a, value, MSG_MIME_DOVECOT, &type, &subtype, &params);
	const char **vals = arena_alloc(a, (np + 1) * sizeof(*vals));
	size_t n = 0;
	for (size_t i = 0; i < np; i++) {
		const char *name = params[i].name;
		size_t nlen = strlen(name);
		for (size_t k = 0; k < nn; k++) {
			size_t plen = names[k].len;
			if (plen == nlen) {
				if (strncasecmp(name, names[k].p, plen) != 0)
					continue;
				vals[n++] = params[i].value;
				break;
			}
			if (nlen != plen + 1 || name[plen] != '*' ||
			    strncasecmp(name, names[k].p, plen) != 0)
				continue;
			/* "name*": the value after charset'lang', %XX decoded
			   and not converted (as Pigeonhole); an undecodable one
			   ends the list. */
			const char *v = strchr(params[i].value, '\'');
			if (v != NULL)
				v = strchr(v + 1, '\'');
			const char *d = v != NULL ? param_pct_decode(a, v + 1) : NULL;
			if (d == NULL) {
				*vals_r = vals;
				return n;
			}
			vals[n++] = d;
			break;
		}
	}
	*vals_r = vals;
	return n;
}

const char *sieve_mime_ctype(struct sieve_mime_parts *pp, size_t i)
{
	if (pp->ctype[i] != NULL)
		return pp->ctype[i];
	struct message *m = pp->msg;
	const char **vals;
	size_t n = msg_part_header_values(m, pp->part[i], "content-type", false, &vals);
	const char *ct = "text/plain";
	if (n > 0) {
		/* Pigeonhole reads every Content-Type header of the part; the
		   last one stays. */
		const char *type, *subtype;
		ct = sieve_mime_parse_ctype(m->arena, vals[n - 1], true, &type, &subtype)
			? arena_printf(m->arena, "%s/%s", type, subtype) : "";
	}
	pp->ctype[i] = ct;
	return ct;
}

bool sieve_mime_has_body(const struct sieve_mime_parts *pp, size_t i)
{
	const struct msg_mime_part *p = pp->part[i];
	if (p->parent == NULL)
		return pp->msg->has_body;
	/* The part parser puts the body right after the header when no empty
	   line ended it. */
	return p->body > p->header_start + p->header_len;
}

static const char *to_utf8(struct sieve_mime_parts *pp, const char *charset,
			   const char *data, size_t len, size_t *len_r)
{
	return msg_charset_to_utf8(pp->msg->arena, charset, data, len, len_r);
}

const char *sieve_mime_body(struct sieve_mime_parts *pp, size_t i, size_t *len_r)
{
	if (pp->dec[i] == NULL) {
		struct msg_mime_part *p = pp->part[i];
		size_t len;
		const char *d;
		if (p->is_multipart) {
			/* Without any part, Dovecot never leaves the multipart:
			   its epilogue continues the preamble's block. */
			struct strbuf t = STRBUF_INIT;
			strbuf_append(&t, p->preamble != NULL ? p->preamble : "", p->preamble_len);
			if (p->children == NULL && p->epilogue != NULL)
				strbuf_append(&t, p->epilogue, p->epilogue_len);
			d = to_utf8(pp, NULL, t.data != NULL ? t.data : "", t.len, &len);
			strbuf_free(&t);
		} else if (p->is_message) {
			d = "";
			len = 0;
		} else {
			d = msg_part_decoded_body(pp->msg, p, &len);
			/* Text parts come converted; Dovecot's decoder makes the
			   others valid UTF-8 as well. */
			if (strcmp(p->type, "text") != 0)
				d = to_utf8(pp, p->charset, d, len, &len);
		}
		pp->dec[i] = d;
		pp->dec_len[i] = len;
	}
	*len_r = pp->dec_len[i];
	return pp->dec[i];
}

const char *sieve_mime_epilogue(struct sieve_mime_parts *pp, size_t i, size_t *len_r)
{
	struct msg_mime_part *p = pp->part[i];
	*len_r = 0;
	/* Dovecot has no epilogue block when nothing follows the close
	   delimiter line. */
	if (!p->is_multipart || p->children == NULL || p->epilogue == NULL || p->epilogue_len == 0)
		return NULL;
	if (pp->epi[i] == NULL)
		pp->epi[i] = to_utf8(pp, NULL, p->epilogue, p->epilogue_len, &pp->epi_len[i]);
	*len_r = pp->epi_len[i];
	return pp->epi[i];
}

const char *sieve_mime_header_text(struct sieve_mime_parts *pp, size_t i, size_t *len_r)
{
	if (pp->hdr[i] == NULL) {
		const struct msg_mime_part *p = pp->part[i];
		struct strbuf b = STRBUF_INIT;
		const char *s = p->header_start, *end = s + p->header_len;
		/* Every line, LF or CRLF ended, comes out CRLF ended, as
		   Dovecot rebuilds header lines. */
		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			const char *e = nl != NULL ? nl : end;
			size_t l = (size_t)(e - s);
			if (l > 0 && s[l - 1] == '\r')
				l--;
			strbuf_append(&b, s, l);
			strbuf_append(&b, "\r\n", 2);
			s = nl != NULL ? nl + 1 : end;
		}
		pp->hdr[i] = to_utf8(pp, NULL, b.data != NULL ? b.data : "", b.len, &pp->hdr_len[i]);
		strbuf_free(&b);
	}
	*len_r = pp->hdr_len[i];
	return pp->hdr[i];
}

bool sieve_mime_is_html(const char *ctype)
{
	return strcasecmp(ctype, "text/html") == 0 || strcasecmp(ctype, "application/xhtml+xml") == 0;
}

const char *sieve_mime_text(struct sieve_mime_parts *pp, size_t i, size_t *len_r)
{
	if (pp->txt[i] == NULL) {
		const struct msg_mime_part *p = pp->part[i];
		size_t len = 0;
		const char *t = "";
		if (p->children == NULL) {
			t = sieve_mime_body(pp, i, &len);
			if (len > 0 && sieve_mime_is_html(sieve_mime_ctype(pp, i))) {
				struct strbuf b = STRBUF_INIT;
				sieve_html_to_text(&b, t, len);
				len = b.len;
				t = arena_memdup(pp->msg->arena, b.data != NULL ? b.data : "", b.len);
				strbuf_free(&b);
			}
		}
		pp->txt[i] = t;
		pp->txt_len[i] = len;
	}
	*len_r = pp->txt_len[i];
	return pp->txt[i];
}

/* ---- HTML to text ---- */

struct html_entity {
	const char *name;
	unsigned cp;
};

/* The HTML 4 entities (plus &apos;), sorted by strcmp for the exact-case
   lookup. */
static const struct html_entity html_entities[] = {
	{ "AElig", 0xC6 }, { "Aacute", 0xC1 }, { "Acirc", 0xC2 }, { "Agrave", 0xC0 },
	{ "Alpha", 0x391 }, { "Aring", 0xC5 }, { "Atilde", 0xC3 }, { "Auml", 0xC4 },
	{ "Beta", 0x392 }, { "Ccedil", 0xC7 }, { "Chi", 0x3A7 }, { "Dagger", 0x2021 },
	{ "Delta", 0x394 }, { "ETH", 0xD0 }, { "Eacute", 0xC9 }, { "Ecirc", 0xCA },
	{ "Egrave", 0xC8 }, { "Epsilon", 0x395 }, { "Eta", 0x397 }, { "Euml", 0xCB },
	{ "Gamma", 0x393 }, { "Iacute", 0xCD }, { "Icirc", 0xCE }, { "Igrave", 0xCC },
	{ "Iota", 0x399 }, { "Iuml", 0xCF }, { "Kappa", 0x39A }, { "Lambda", 0x39B },
	{ "Mu", 0x39C }, { "Ntilde", 0xD1 }, { "Nu", 0x39D }, { "OElig", 0x152 },
	{ "Oacute", 0xD3 }, { "Ocirc", 0xD4 }, { "Ograve", 0xD2 }, { "Omega", 0x3A9 },
	{ "Omicron", 0x39F }, { "Oslash", 0xD8 }, { "Otilde", 0xD5 }, { "Ouml", 0xD6 },
	{ "Phi", 0x3A6 }, { "Pi", 0x3A0 }, { "Prime", 0x2033 }, { "Psi", 0x3A8 },
	{ "Rho", 0x3A1 }, { "Scaron", 0x160 }, { "Sigma", 0x3A3 }, { "THORN", 0xDE },
	{ "Tau", 0x3A4 }, { "Theta", 0x398 }, { "Uacute", 0xDA }, { "Ucirc", 0xDB },
	{ "Ugrave", 0xD9 }, { "Upsilon", 0x3A5 }, { "Uuml", 0xDC }, { "Xi", 0x39E },
	{ "Yacute", 0xDD }, { "Yuml", 0x178 }, { "Zeta", 0x396 }, { "aacute", 0xE1 },
	{ "acirc", 0xE2 }, { "acute", 0xB4 }, { "aelig", 0xE6 }, { "agrave", 0xE0 },
	{ "alefsym", 0x2135 }, { "alpha", 0x3B1 }, { "amp", 0x26 }, { "and", 0x2227 },
	{ "ang", 0x2220 }, { "apos", 0x27 }, { "aring", 0xE5 }, { "asymp", 0x2248 },
	{ "atilde", 0xE3 }, { "auml", 0xE4 }, { "bdquo", 0x201E }, { "beta", 0x3B2 },
	{ "brvbar", 0xA6 }, { "bull", 0x2022 }, { "cap", 0x2229 }, { "ccedil", 0xE7 },
	{ "cedil", 0xB8 }, { "cent", 0xA2 }, { "chi", 0x3C7 }, { "circ", 0x2C6 },
	{ "clubs", 0x2663 }, { "cong", 0x2245 }, { "copy", 0xA9 }, { "crarr", 0x21B5 },
	{ "cup", 0x222A }, { "curren", 0xA4 }, { "dArr", 0x21D3 }, { "dagger", 0x2020 },
	{ "darr", 0x2193 }, { "deg", 0xB0 }, { "delta", 0x3B4 }, { "diams", 0x2666 },
	{ "divide", 0xF7 }, { "eacute", 0xE9 }, { "ecirc", 0xEA }, { "egrave", 0xE8 },
	{ "empty", 0x2205 }, { "emsp", 0x2003 }, { "ensp", 0x2002 }, { "epsilon", 0x3B5 },
	{ "equiv", 0x2261 }, { "eta", 0x3B7 }, { "eth", 0xF0 }, { "euml", 0xEB },
	{ "euro", 0x20AC }, { "exist", 0x2203 }, { "fnof", 0x192 }, { "forall", 0x2200 },
	{ "frac12", 0xBD }, { "frac14", 0xBC }, { "frac34", 0xBE }, { "frasl", 0x2044 },
	{ "gamma", 0x3B3 }, { "ge", 0x2265 }, { "gt", 0x3E }, { "hArr", 0x21D4 },
	{ "harr", 0x2194 }, { "hearts", 0x2665 }, { "hellip", 0x2026 }, { "iacute", 0xED },
	{ "icirc", 0xEE }, { "iexcl", 0xA1 }, { "igrave", 0xEC }, { "image", 0x2111 },
	{ "infin", 0x221E }, { "int", 0x222B }, { "iota", 0x3B9 }, { "iquest", 0xBF },
	{ "isin", 0x2208 }, { "iuml", 0xEF }, { "kappa", 0x3BA }, { "lArr", 0x21D0 },
	{ "lambda", 0x3BB }, { "lang", 0x2329 }, { "laquo", 0xAB }, { "larr", 0x2190 },
	{ "lceil", 0x2308 }, { "ldquo", 0x201C }, { "le", 0x2264 }, { "lfloor", 0x230A },
	{ "lowast", 0x2217 }, { "loz", 0x25CA }, { "lrm", 0x200E }, { "lsaquo", 0x2039 },
	{ "lsquo", 0x2018 }, { "lt", 0x3C }, { "macr", 0xAF }, { "mdash", 0x2014 },
	{ "micro", 0xB5 }, { "middot", 0xB7 }, { "minus", 0x2212 }, { "mu", 0x3BC },
	{ "nabla", 0x2207 }, { "nbsp", 0xA0 }, { "ndash", 0x2013 }, { "ne", 0x2260 },
	{ "ni", 0x220B }, { "not", 0xAC }, { "notin", 0x2209 }, { "nsub", 0x2284 },
	{ "ntilde", 0xF1 }, { "nu", 0x3BD }, { "oacute", 0xF3 }, { "ocirc", 0xF4 },
	{ "oelig", 0x153 }, { "ograve", 0xF2 }, { "oline", 0x203E }, { "omega", 0x3C9 },
	{ "omicron", 0x3BF }, { "oplus", 0x2295 }, { "or", 0x2228 }, { "ordf", 0xAA },
	{ "ordm", 0xBA }, { "oslash", 0xF8 }, { "otilde", 0xF5 }, { "otimes", 0x2297 },
	{ "ouml", 0xF6 }, { "para", 0xB6 }, { "part", 0x2202 }, { "permil", 0x2030 },
	{ "perp", 0x22A5 }, { "phi", 0x3C6 }, { "pi", 0x3C0 }, { "piv", 0x3D6 },
	{ "plusmn", 0xB1 }, { "pound", 0xA3 }, { "prime", 0x2032 }, { "prod", 0x220F },
	{ "prop", 0x221D }, { "psi", 0x3C8 }, { "quot", 0x22 }, { "rArr", 0x21D2 },
	{ "radic", 0x221A }, { "rang", 0x232A }, { "raquo", 0xBB }, { "rarr", 0x2192 },
	{ "rceil", 0x2309 }, { "rdquo", 0x201D }, { "real", 0x211C }, { "reg", 0xAE },
	{ "rfloor", 0x230B }, { "rho", 0x3C1 }, { "rlm", 0x200F }, { "rsaquo", 0x203A },
	{ "rsquo", 0x2019 }, { "sbquo", 0x201A }, { "scaron", 0x161 }, { "sdot", 0x22C5 },
	{ "sect", 0xA7 }, { "shy", 0xAD }, { "sigma", 0x3C3 }, { "sigmaf", 0x3C2 },
	{ "sim", 0x223C }, { "spades", 0x2660 }, { "sub", 0x2282 }, { "sube", 0x2286 },
	{ "sum", 0x2211 }, { "sup", 0x2283 }, { "sup1", 0xB9 }, { "sup2", 0xB2 },
	{ "sup3", 0xB3 }, { "supe", 0x2287 }, { "szlig", 0xDF }, { "tau", 0x3C4 },
	{ "there4", 0x2234 }, { "theta", 0x3B8 }, { "thetasym", 0x3D1 }, { "thinsp", 0x2009 },
	{ "thorn", 0xFE }, { "tilde", 0x2DC }, { "times", 0xD7 }, { "trade", 0x2122 },
	{ "uArr", 0x21D1 }, { "uacute", 0xFA }, { "uarr", 0x2191 }, { "ucirc", 0xFB },
	{ "ugrave", 0xF9 }, { "uml", 0xA8 }, { "upsih", 0x3D2 }, { "upsilon", 0x3C5 },
	{ "uuml", 0xFC }, { "weierp", 0x2118 }, { "xi", 0x3BE }, { "yacute", 0xFD },
	{ "yen", 0xA5 }, { "yuml", 0xFF }, { "zeta", 0x3B6 }, { "zwj", 0x200D },
	{ "zwnj", 0x200C },
};

static int entity_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct html_entity *)e)->name);
}

static bool html_entity_value(const char *name, unsigned *cp_r)
{
	const size_t n = sizeof(html_entities) / sizeof(html_entities[0]);
	const struct html_entity *e = bsearch(name, html_entities, n, sizeof(*e), entity_cmp);
	if (e == NULL) {
		/* Dovecot compares names without regard to case. */
		for (size_t i = 0; i < n && e == NULL; i++)
			if (strcasecmp(html_entities[i].name, name) == 0)
				e = &html_entities[i];
	}
	if (e != NULL) {
		*cp_r = e->cp;
		return true;
	}
	if (name[0] != '#' || name[1] == '\0')
		return false;
	/* &#NNN; and &#xHHH; (only a lower-case x); the whole rest must be
	   digits. */
	bool hex = name[1] == 'x';
	const char *d = name + (hex ? 2 : 1);
	if (*d == '\0')
		return false;
	unsigned long v = 0;
	for (; *d != '\0'; d++) {
		int x;
		if (*d >= '0' && *d <= '9')
			x = *d - '0';
		else if (hex && *d >= 'a' && *d <= 'f')
			x = *d - 'a' + 10;
		else if (hex && *d >= 'A' && *d <= 'F')
			x = *d - 'A' + 10;
		else
			return false;
		v = v * (hex ? 16 : 10) + (unsigned long)x;
		if (v > 0xFFFFFFFFul)
			return false;
	}
	*cp_r = (unsigned)v;
	return true;
}

static void put_utf8(struct strbuf *out, unsigned cp)
{
	/* Code points that UTF-8 cannot carry come out as U+FFFD, so the
	   text stays valid. */
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	utf8_append(out, cp);
}

static bool html_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void html_space(struct strbuf *out)
{
	if (out->len > 0 && out->data[out->len - 1] != ' ')
		strbuf_putc(out, ' ');
}

static bool html_starts(const char *p, size_t avail, const char *word)
{
	size_t n = strlen(word);
	return avail >= n && strncasecmp(p, word, n) == 0;
}

enum html_state {
	HS_TEXT, HS_TAG, HS_TAG_DQ, HS_TAG_DQ_ESC, HS_TAG_SQ, HS_TAG_SQ_ESC,
	HS_COMMENT, HS_COMMENT_END, HS_SCRIPT, HS_STYLE, HS_CDATA,
};

void sieve_html_to_text(struct strbuf *out, const char *h, size_t len)
{
	enum html_state st = HS_TEXT;
	size_t i = 0;
	while (i < len) {
		char c = h[i];
		size_t rest = len - i;
		switch (st) {
		case HS_TEXT:
			if (c == '<') {
				const char *t = h + i + 1;
				size_t tl = rest - 1;
				if (html_starts(t, tl, "!--")) {
					st = HS_COMMENT;
					i += 4;
				} else if (tl >= 7 && html_starts(t, tl, "script") &&
					   (html_blank(t[6]) || t[6] == '>')) {
					st = HS_SCRIPT;
					i += 8;
				} else if (tl >= 6 && html_starts(t, tl, "style") &&
					   (html_blank(t[5]) || t[5] == '>')) {
					st = HS_STYLE;
					i += 7;
				} else if (html_starts(t, tl, "![CDATA[")) {
					st = HS_CDATA;
					i += 9;
				} else {
					/* A short tag name that the text ends in
					   before any blank or '>' is an unfinished
					   tag: Dovecot waits for more and drops it. */
					if (tl < 12) {
						size_t k = 0;
						while (k < tl && !html_blank(t[k]) && t[k] != '>')
							k++;
						if (k == tl)
							return;
					}
					st = HS_TAG;
					i++;
				}
				continue;
			}
			if (c == '&') {
				/* An entity is at most 9 characters up to ';'. */
				const char *t = h + i + 1;
				size_t tl = rest - 1, k = 0;
				bool broken = false;
				for (; k < tl; k++) {
					if (html_blank(t[k]) || k >= 10) {
						broken = true;
						break;
					}
					if (t[k] == ';')
						break;
				}
				if (broken) {
					i++;   /* the '&' alone is dropped */
					continue;
				}
				if (k == tl)
					return;
				char name[10];
				memcpy(name, t, k);
				name[k] = '\0';
				unsigned cp;
				if (html_entity_value(name, &cp))
					put_utf8(out, cp);
				i += k + 2;
				continue;
			}
			strbuf_putc(out, c);
			break;
		case HS_TAG:
			if (c == '"')
				st = HS_TAG_DQ;
			else if (c == '\'')
				st = HS_TAG_SQ;
			else if (c == '>') {
				st = HS_TEXT;
				html_space(out);
			}
			break;
		case HS_TAG_DQ:
			if (c == '"')
				st = HS_TAG;
			else if (c == '\\')
				st = HS_TAG_DQ_ESC;
			break;
		case HS_TAG_DQ_ESC:
			st = HS_TAG_DQ;
			break;
		case HS_TAG_SQ:
			if (c == '\'')
				st = HS_TAG;
			else if (c == '\\')
				st = HS_TAG_SQ_ESC;
			break;
		case HS_TAG_SQ_ESC:
			st = HS_TAG_SQ;
			break;
		case HS_COMMENT:
			if (c == '-') {
				if (rest == 1)
					return;
				if (h[i + 1] == '-') {
					st = HS_COMMENT_END;
					i++;
				}
			}
			break;
		case HS_COMMENT_END:
			if (c == '>')
				st = HS_TEXT;
			else if (!html_blank(c))
				st = HS_COMMENT;
			break;
		case HS_SCRIPT:
		case HS_STYLE: {
			const char *close = st == HS_SCRIPT ? "</script>" : "</style>";
			size_t cl = strlen(close);
			if (c == '<') {
				size_t cmp = rest < cl ? rest : cl;
				if (strncasecmp(h + i, close, cmp) == 0) {
					if (cmp < cl)
						return;
					html_space(out);
					st = HS_TEXT;
					i += cl;
					continue;
				}
			}
			break;
		}
		case HS_CDATA:
			if (c == ']') {
				size_t cmp = rest < 3 ? rest : 3;
				if (strncmp(h + i, "]]>", cmp) == 0) {
					if (cmp < 3)
						return;
					st = HS_TEXT;
					i += 3;
					continue;
				}
			}
			strbuf_putc(out, c);
			break;
		}
		i++;
	}
}

/* ---- foreverypart loops ---- */

unsigned sieve_fep_max_depth(const struct sieve_config *cfg)
{
	const unsigned slots = sizeof(((struct sieve_runtime *)0)->loop_ctx) /
			       sizeof(((struct sieve_runtime *)0)->loop_ctx[0]);
	uint64_t v = sieve_config_uint(cfg, "sieve_max_loop_depth", SIEVE_MAX_LOOP_DEPTH);
	return v > slots ? slots : (unsigned)v;
}

void sieve_fep_pop_to(struct sieve_runtime *rt, int d)
{
	if (d < 0)
		d = 0;
	while (rt->loop_depth > d)
		rt->loop_ctx[--rt->loop_depth] = NULL;
}

void sieve_fep_shift(struct sieve_runtime *rt, size_t by)
{
	for (int d = 0; d < rt->loop_depth; d++) {
		struct sieve_fep_loop *l = rt->loop_ctx[d];
		l->cur += by;
		if (l->root >= 0)
			l->root += (long)by;
	}
}

struct sieve_fep_loop *sieve_fep_current(struct sieve_runtime *rt, size_t pc)
{
	/* Loops are left through their BLOCKEND or a break; a run that ends
	   in the middle ends them all.  The testsuite's test_fail jumps out
	   of them and a new test block starts with none (testsuite.c), and an
	   included script's loops end when it returns (include). */
	(void)pc;
	return rt->loop_depth > 0 ? rt->loop_ctx[rt->loop_depth - 1] : NULL;
}

/* ---- editing the message ---- */

const char *sieve_mime_eol(const struct message *m)
{
	const char *nl = memchr(m->data, '\n', m->size);
	return nl != NULL && nl > m->data && nl[-1] == '\r' ? "\r\n" : "\n";
}

void sieve_mime_append_eol(struct strbuf *b, const char *s, size_t len, const char *eol)
{
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t e = nl != NULL ? (size_t)(nl - s) : len;
		size_t l = e;
		if (nl != NULL && l > i && s[l - 1] == '\r')
			l--;
		strbuf_append(b, s + i, l - i);
		if (nl == NULL)
			break;
		strbuf_puts(b, eol);
		i = e + 1;
	}
}

void sieve_mime_append_base64(struct strbuf *b, const char *s, size_t len, const char *eol)
{
	/* 57 bytes make one 76-character line (RFC 2045 section 6.8). */
	for (size_t i = 0; i < len; i += 57) {
		codec_base64_append(b, s + i, len - i < 57 ? len - i : 57);
		strbuf_puts(b, eol);
	}
}

struct mime_edits {
	uint64_t count;
	uint64_t bytes;
};

int sieve_mime_install(struct sieve_runtime *rt, const struct sieve_exec_args *a,
		       const struct strbuf *b)
{
	struct mime_edits *ed = sieve_runtime_ext_ctx(rt, "mime");
	if (ed == NULL) {
		ed = arena_alloc(rt->arena, sizeof(*ed));
		sieve_runtime_set_ext_ctx(rt, "mime", ed);
	}
	uint64_t max_edits = sieve_config_uint(rt->cfg, "sieve_mime_max_edits", 64);
	uint64_t max_bytes = sieve_config_uint(rt->cfg, "sieve_mime_max_edit_size", 256u << 20);
	if (ed->count + 1 > max_edits) {
		sieve_runtime_error(rt, a, "too many changes to the message (max %llu)",
				    (unsigned long long)max_edits);
		return SIEVE_FAILURE;
	}
	/* What a copy costs: its text, and its parsed header and MIME
	   structure once a test looks at it (about 2 KiB per part; the new
	   message has about as many parts as the one it replaces). */
	const struct sieve_mime_parts *old = rt->msg->part_index;
	uint64_t cost = (uint64_t)b->len * 2 + (old != NULL ? (uint64_t)old->count * 2048 : 0);
	if (ed->bytes + cost > max_bytes) {
		sieve_runtime_error(rt, a, "changes to the message exceed the memory allowed for them "
				    "(%llu bytes)", (unsigned long long)max_bytes);
		return SIEVE_FAILURE;
	}
	ed->count++;
	ed->bytes += cost;
	/* Redirect and reject send the message as it was before the first
	   edit (sieve_send_action_new); the result keeps it for the later
	   scripts of a sequence. */
	if (rt->result->before_mime_edit == NULL)
		rt->result->before_mime_edit = rt->msg;
	char *data = arena_memdup(rt->arena, b->data != NULL ? b->data : "", b->len);
	struct message *m = msg_parse(rt->arena, data, b->len);
	sieve_runtime_replace_message(rt, m);
	return SIEVE_OK;
}
