/* outgoing.c: what the mail-sending actions share (see outgoing.h):
 * Pigeonhole's Sieve address syntax with its error texts, the user's own
 * addresses, the envelope-sender settings, header writing with folding and
 * RFC 2047 encoding, Message-ID, Date and SHA-256. */
#include "sieve/ext/outgoing.h"
#include "lib/utf8.h"
#include "lib/codec.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* SHA-256                                                             */

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_block(struct sieve_sha256 *c, const unsigned char *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
	uint32_t e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) +
			sha256_k[i] + w[i];
		uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
		h = g; g = f; f = e; e = d + t1;
		d = cc; cc = b; b = a; a = t1 + t2;
	}
	c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
	c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

void sieve_sha256_init(struct sieve_sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->nbuf = 0;
}

void sieve_sha256_update(struct sieve_sha256 *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	c->len += len;
	while (len > 0) {
		size_t n = 64 - c->nbuf;
		if (n > len)
			n = len;
		memcpy(c->buf + c->nbuf, p, n);
		c->nbuf += n;
		p += n;
		len -= n;
		if (c->nbuf == 64) {
			sha256_block(c, c->buf);
			c->nbuf = 0;
		}
	}
}

void sieve_sha256_final(struct sieve_sha256 *c, unsigned char out[32])
{
	uint64_t bits = c->len * 8;
	unsigned char pad = 0x80;
	sieve_sha256_update(c, &pad, 1);
	pad = 0;
	while (c->nbuf != 56)
		sieve_sha256_update(c, &pad, 1);
	unsigned char lenbuf[8];
	for (int i = 0; i < 8; i++)
		lenbuf[i] = (unsigned char)(bits >> (56 - 8 * i));
	sieve_sha256_update(c, lenbuf, 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

/* ------------------------------------------------------------------ */
/* Sieve addresses (Pigeonhole's sieve-address.c grammar)              */

/* The parser follows Dovecot's rfc822-parser conventions: every step
 * returns -1 on a syntax error, 0 when it consumed the whole input and 1
 * when more input follows. */
struct addr_ps {
	const char *p, *end;
	struct strbuf local, domain;
	const char *error;
	struct arena *a;
};

static bool is_atext(unsigned char c)
{
	/* RFC 5322 atext; Dovecot also accepts 8-bit bytes here (the local
	   part is checked for them separately). */
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL || c >= 0x80;
}

static void addr_error(struct addr_ps *ps, const char *msg)
{
	if (ps->error == NULL)
		ps->error = msg;
}

static int addr_skip_lwsp(struct addr_ps *ps)
{
	while (ps->p < ps->end) {
		char c = *ps->p;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			ps->p++;
		} else if (c == '(') {
			int depth = 0;
			for (; ps->p < ps->end; ps->p++) {
				if (*ps->p == '\\' && ps->p + 1 < ps->end) {
					ps->p++;
				} else if (*ps->p == '(') {
					depth++;
				} else if (*ps->p == ')') {
					if (--depth == 0)
						break;
				}
			}
			if (ps->p >= ps->end)
				return -1;
			ps->p++;
		} else {
			return 1;
		}
	}
	return 0;
}

static int addr_quoted(struct addr_ps *ps, struct strbuf *out)
{
	ps->p++;   /* the opening quote */
	for (; ps->p < ps->end; ps->p++) {
		char c = *ps->p;
		if (c == '"') {
			ps->p++;
			return addr_skip_lwsp(ps);
		}
		if (c == '\\' && ps->p + 1 < ps->end)
			c = *++ps->p;
		else if (c == '\r' || c == '\n')
			continue;
		if (out != NULL)
			strbuf_putc(out, c);
	}
	return -1;
}

static int addr_atom(struct addr_ps *ps, struct strbuf *out, bool dots)
{
	if (ps->p >= ps->end || !(is_atext((unsigned char)*ps->p) || (dots && *ps->p == '.')))
		return -1;
	while (ps->p < ps->end && (is_atext((unsigned char)*ps->p) || (dots && *ps->p == '.'))) {
		if (out != NULL)
			strbuf_putc(out, *ps->p);
		ps->p++;
	}
	return addr_skip_lwsp(ps);
}

static int addr_phrase(struct addr_ps *ps)
{
	if (ps->p >= ps->end)
		return 0;
	if (*ps->p == '.')
		return -1;
	for (;;) {
		int ret = *ps->p == '"' ? addr_quoted(ps, NULL) : addr_atom(ps, NULL, true);
		if (ret <= 0)
			return ret;
		unsigned char c = (unsigned char)*ps->p;
		if (!is_atext(c) && c != '"' && c != '.')
			return 1;
	}
}

static int addr_local_part(struct addr_ps *ps)
{
	int ret = -1;
	if (ps->p >= ps->end) {
		addr_error(ps, "empty local part");
		return -1;
	}
	strbuf_truncate(&ps->local, 0);
	if (*ps->p == '"') {
		ret = addr_quoted(ps, &ps->local);
	} else {
		/* As Pigeonhole: dots may appear anywhere in the local part
		   (some Japanese providers hand out such addresses). */
		do {
			while (ps->p < ps->end && *ps->p == '.') {
				strbuf_putc(&ps->local, '.');
				ps->p++;
				if (ps->p == ps->end)
					return 0;
				ret = 1;
			}
			if (*ps->p == '@')
				break;
			ret = addr_atom(ps, &ps->local, false);
		} while (ret > 0 && *ps->p == '.');
	}
	bool ok = ret >= 0;
	for (size_t i = 0; ok && i < ps->local.len; i++) {
		unsigned char c = (unsigned char)ps->local.data[i];
		if (c < 0x20 || c > 0x7e)
			ok = false;
	}
	if (!ok) {
		addr_error(ps, "invalid local part");
		return -1;
	}
	return ret;
}

static int addr_domain(struct addr_ps *ps)
{
	strbuf_truncate(&ps->domain, 0);
	ps->p++;   /* '@' */
	if (addr_skip_lwsp(ps) <= 0)
		goto bad;
	if (*ps->p == '[') {
		for (; ps->p < ps->end; ps->p++) {
			if (*ps->p == '\\' && ps->p + 1 < ps->end)
				ps->p++;
			else if (*ps->p == '\r' || *ps->p == '\n')
				continue;
			strbuf_putc(&ps->domain, *ps->p);
			if (*ps->p == ']') {
				ps->p++;
				return addr_skip_lwsp(ps);
			}
		}
		goto bad;
	}
	for (;;) {
		if (ps->p >= ps->end || !is_atext((unsigned char)*ps->p))
			goto bad;
		while (ps->p < ps->end && is_atext((unsigned char)*ps->p))
			strbuf_putc(&ps->domain, *ps->p++);
		int ret = addr_skip_lwsp(ps);
		if (ret < 0)
			goto bad;
		if (ret == 0 || *ps->p != '.')
			return ret;
		strbuf_putc(&ps->domain, '.');
		ps->p++;
		if (addr_skip_lwsp(ps) <= 0)
			goto bad;
	}
bad:
	addr_error(ps, "invalid or missing domain");
	return -1;
}

static int addr_spec(struct addr_ps *ps)
{
	int ret = addr_local_part(ps);
	if (ret < 0)
		return -1;
	if (ret > 0 && *ps->p == '@')
		return addr_domain(ps);
	const char *lp = ps->local.data != NULL ? ps->local.data : "";
	/* Bounded like Pigeonhole's str_sanitize(local, 80). */
	ps->error = ps->error != NULL ? ps->error :
		arena_printf(ps->a, "invalid or lonely local part '%.80s' (expecting '@')", lp);
	return -1;
}

static int addr_mailbox(struct addr_ps *ps)
{
	const char *start = ps->p;
	int ret;
	if (*ps->p != '<' && (addr_phrase(ps) <= 0 || *ps->p != '<')) {
		ps->p = start;
		return addr_spec(ps);
	}
	ps->p++;
	if ((ret = addr_skip_lwsp(ps)) <= 0) {
		if (ret < 0)
			addr_error(ps, "invalid characters after <");
		return ret;
	}
	if (addr_spec(ps) < 0)
		return -1;
	if (ps->p >= ps->end || *ps->p != '>') {
		addr_error(ps, "missing '>'");
		return -1;
	}
	ps->p++;
	if ((ret = addr_skip_lwsp(ps)) < 0)
		addr_error(ps, "address ends with invalid characters");
	return ret;
}

const char *sieve_address_parse(struct arena *a, const char *s, size_t len, const char **error_r)
{
	struct addr_ps ps = { .p = s, .end = s + len, .a = a };
	const char *result = NULL;
	ps.local = (struct strbuf)STRBUF_INIT;
	ps.domain = (struct strbuf)STRBUF_INIT;
	addr_skip_lwsp(&ps);
	if (ps.p >= ps.end) {
		addr_error(&ps, "empty address");
	} else if (addr_mailbox(&ps) < 0) {
		addr_error(&ps, "invalid address");
	} else {
		if (ps.p < ps.end)
			addr_error(&ps, *ps.p == ',' ? "not a single address (found ',')" :
				   "address ends in invalid characters");
		else if (ps.domain.len == 0)
			addr_error(&ps, "missing domain");
		else if (ps.local.len == 0)
			addr_error(&ps, "missing local part");
	}
	if (ps.error == NULL) {
		char *dom = arena_memdup(a, ps.domain.data, ps.domain.len);
		for (char *d = dom; *d != '\0'; d++)
			*d = (char)tolower((unsigned char)*d);
		result = msg_address_format(a, arena_memdup(a, ps.local.data, ps.local.len), dom);
	}
	if (error_r != NULL)
		*error_r = ps.error;
	strbuf_free(&ps.local);
	strbuf_free(&ps.domain);
	return result;
}

const char *sieve_envelope_address(struct arena *a, const char *path)
{
	struct msg_address ad;
	if (path == NULL || msg_parse_path(a, path, &ad) < 0)
		return NULL;
	if (ad.local[0] == '\0' && ad.domain == NULL)
		return "";
	if (ad.domain == NULL)
		return msg_address_format(a, ad.local, NULL);
	return msg_address_format(a, ad.local, ad.domain);
}

bool sieve_address_equal_icase(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

const char *sieve_address_localpart(struct arena *a, const char *addr)
{
	struct msg_address ad;
	if (msg_parse_path(a, addr, &ad) == 0)
		return ad.local;
	const char *at = strrchr(addr, '@');
	return at != NULL ? arena_strndup(a, addr, (size_t)(at - addr)) : addr;
}


const char *sieve_user_email(const struct sieve_run_params *p, struct arena *a, bool implicit)
{
	const char *v = sieve_config_get(p->cfg, "sieve_user_email");
	if (v != NULL && *v != '\0') {
		const char *n = sieve_envelope_address(a, v);
		if (n != NULL && *n != '\0')
			return n;
	}
	if (!implicit || p->username == NULL || *p->username == '\0')
		return NULL;
	const char *u = strchr(p->username, '@') != NULL ? p->username :
		arena_printf(a, "%s@%s", p->username, sieve_hostname(p->cfg, a));
	const char *n = sieve_envelope_address(a, u);
	return n != NULL && *n != '\0' ? n : NULL;
}

const char *sieve_hostname(const struct sieve_config *cfg, struct arena *a)
{
	const char *h = sieve_config_get(cfg, "hostname");
	if (h != NULL && *h != '\0')
		return h;
	char buf[256];
	if (gethostname(buf, sizeof(buf)) < 0 || buf[0] == '\0')
		return "localhost";
	buf[sizeof(buf) - 1] = '\0';
	return arena_strdup(a, buf);
}

const char *sieve_postmaster_address(const struct sieve_run_params *p, struct arena *a)
{
	const char *v = sieve_config_get(p->cfg, "postmaster_address");
	if (v != NULL && *v != '\0') {
		const char *n = sieve_envelope_address(a, v);
		if (n != NULL && *n != '\0')
			return n;
	}
	return arena_printf(a, "postmaster@%s", sieve_hostname(p->cfg, a));
}

int sieve_address_source(const struct sieve_run_params *p, const char *setting,
			 struct arena *a, const char **addr_r)
{
	const char *v = sieve_config_get(p->cfg, setting);
	if (v == NULL)
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	char *val = arena_strndup(a, v, n);
	const struct sieve_envelope *env = p->env;
	const char *r = NULL;
	if (n == 0 || strcasecmp(val, "default") == 0)
		return 0;
	if (strcasecmp(val, "user_email") == 0) {
		r = sieve_user_email(p, a, false);
		if (r == NULL)   /* as Pigeonhole: falls back to the recipient */
			strcpy(val, "recipient");
	}
	if (r != NULL) {
		/* found above */
	} else if (strcasecmp(val, "sender") == 0) {
		r = env != NULL ? sieve_envelope_address(a, env->from) : NULL;
	} else if (strcasecmp(val, "recipient") == 0) {
		r = env != NULL ? sieve_envelope_address(a, env->to) : NULL;
	} else if (strcasecmp(val, "orig_recipient") == 0) {
		r = env != NULL ? sieve_envelope_address(a, env->orig_to != NULL ? env->orig_to : env->to) : NULL;
	} else if (strcasecmp(val, "postmaster") == 0) {
		r = sieve_postmaster_address(p, a);
	} else if (val[0] == '<' && n >= 2 && val[n - 1] == '>') {
		r = sieve_envelope_address(a, val);
		if (r == NULL)
			return 0;
	} else {
		return 0;
	}
	*addr_r = r != NULL ? r : "";
	return 1;
}

/* ------------------------------------------------------------------ */
/* Composing messages                                                  */

bool sieve_mail_has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] & 0x80)
			return true;
	return false;
}

/* Appends a header whose value is already in its final (ASCII) form,
 * folding at whitespace so that lines stay within 78 characters where the
 * words allow it. */
static void header_fold(struct strbuf *b, const char *name, const char *v, size_t len)
{
	strbuf_puts(b, name);
	strbuf_puts(b, ": ");
	size_t col = strlen(name) + 2;
	size_t i = 0;
	while (i < len) {
		/* the next word, with the whitespace before it */
		size_t ws = i;
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		size_t w = i;
		while (i < len && v[i] != ' ' && v[i] != '\t')
			i++;
		size_t wlen = i - w;
		size_t sp = w - ws;
		if (sp > 0 && col + sp + wlen > 78 && col > strlen(name) + 2) {
			strbuf_puts(b, "\r\n");
			strbuf_append(b, v + ws, sp);
			col = sp;
		} else {
			strbuf_append(b, v + ws, sp);
			col += sp;
		}
		strbuf_append(b, v + w, wlen);
		col += wlen;
	}
	strbuf_puts(b, "\r\n");
}

/* A copy of the value with every CR, LF and other control character
 * replaced by a space (TAB kept): no header injection. */
static char *header_clean(const char *value, size_t *len_r)
{
	size_t n = strlen(value);
	char *c = malloc(n + 1);
	if (c == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)value[i];
		c[i] = (ch < 0x20 && ch != '\t') || ch == 0x7f ? ' ' : (char)ch;
	}
	c[n] = '\0';
	*len_r = n;
	return c;
}

void sieve_mail_header(struct strbuf *b, const char *name, const char *value)
{
	size_t n;
	char *c = header_clean(value, &n);
	header_fold(b, name, c, n);
	free(c);
}

/* Encodes s[0..len) as a run of encoded words separated by spaces; each
 * word carries at most 45 bytes (60 base64 characters, so a word stays
 * under RFC 2047's 75) and never splits a UTF-8 sequence.  Decoders drop
 * the space between two encoded words, which gives back exactly s. */
static void encode_words(struct strbuf *out, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t n = len - i > 45 ? 45 : len - i;
		if (i + n < len)
			while (n > 1 && ((unsigned char)s[i + n] & 0xc0) == 0x80)
				n--;
		if (i > 0)
			strbuf_putc(out, ' ');
		strbuf_puts(out, "=?utf-8?b?");
		codec_base64_append(out, (const unsigned char *)s + i, n);
		strbuf_puts(out, "?=");
		i += n;
	}
}

/* Encodes the words of v that hold 8-bit characters; consecutive such
 * words are encoded together with the whitespace between them (which an
 * encoded-word pair would otherwise lose). */
static void encode_text(struct strbuf *out, const char *v, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t ws = i;
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		size_t w = i;
		while (i < len && v[i] != ' ' && v[i] != '\t')
			i++;
		if (!sieve_mail_has_8bit(v + w, i - w)) {
			strbuf_append(out, v + ws, i - ws);
			continue;
		}
		/* extend over following words while they hold 8-bit too */
		size_t end = i;
		for (;;) {
			size_t j = end;
			while (j < len && (v[j] == ' ' || v[j] == '\t'))
				j++;
			size_t k = j;
			while (k < len && v[k] != ' ' && v[k] != '\t')
				k++;
			if (k == j || !sieve_mail_has_8bit(v + j, k - j))
				break;
			end = k;
		}
		strbuf_append(out, v + ws, w - ws);
		encode_words(out, v + w, end - w);
		i = end;
	}
}

void sieve_mail_header_utf8(struct strbuf *b, const char *name, const char *value)
{
	size_t n;
	char *c = header_clean(value, &n);
	if (!sieve_mail_has_8bit(c, n)) {
		header_fold(b, name, c, n);
	} else {
		struct strbuf enc = STRBUF_INIT;
		encode_text(&enc, c, n);
		header_fold(b, name, enc.data, enc.len);
		strbuf_free(&enc);
	}
	free(c);
}

const char *sieve_mail_mailbox(struct arena *a, const char *display, const char *addr)
{
	if (display == NULL || *display == '\0')
		return arena_printf(a, "<%s>", addr);
	struct strbuf b = STRBUF_INIT;
	size_t n;
	char *c = header_clean(display, &n);
	if (sieve_mail_has_8bit(c, n)) {
		encode_words(&b, c, n);
	} else if (strstr(c, "=?") != NULL) {
		/* already encoded words: quoting would hide them */
		strbuf_append(&b, c, n);
	} else {
		strbuf_putc(&b, '"');
		for (size_t i = 0; i < n; i++) {
			if (c[i] == '"' || c[i] == '\\')
				strbuf_putc(&b, '\\');
			strbuf_putc(&b, c[i]);
		}
		strbuf_putc(&b, '"');
	}
	strbuf_printf(&b, " <%s>", addr);
	const char *r = arena_memdup(a, b.data, b.len);
	strbuf_free(&b);
	free(c);
	return r;
}

time_t sieve_mail_now(const struct sieve_run_params *p)
{
	if (p->host != NULL && p->host->now != NULL)
		return p->host->now(p->host->ctx);
	return time(NULL);
}

const char *sieve_mail_new_msgid(const struct sieve_run_params *p, struct arena *a)
{
	/* Random bits make the id unique without any shared counter. */
	unsigned char rnd[8];
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)(uintptr_t)a << 16);
		memcpy(rnd, &x, sizeof(rnd));
	}
	char hex[17];
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	return arena_printf(a, "<tamis-sieve-%lld-%ld-%s@%s>", (long long)sieve_mail_now(p),
			    (long)getpid(), hex, sieve_hostname(p->cfg, a));
}

const char *sieve_mail_date(struct arena *a, time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	return arena_printf(a, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday], tm.tm_mday,
			    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
			    sign, off / 60, off % 60);
}

void sieve_mail_body(struct strbuf *b, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue;
		if (text[i] == '\n' || text[i] == '\r')
			strbuf_puts(b, "\r\n");
		else
			strbuf_putc(b, text[i]);
	}
	strbuf_puts(b, "\r\n");
}

const char *sieve_str_sanitize_utf8(struct arena *a, const char *s, size_t max)
{
	struct strbuf b = STRBUF_INIT;
	utf8_sanitize_append(&b, s, max, "\xe2\x80\xa6");
	const char *r = arena_memdup(a, b.data != NULL ? b.data : "", b.len);
	strbuf_free(&b);
	return r;
}

/* ------------------------------------------------------------------ */
/* Redirect                                                            */

int sieve_redirect_compose(const struct sieve_run_params *p, const struct message *m,
			   const char *target, struct arena *a, struct strbuf *out,
			   const char **env_from_r, struct diag_list *d, int line)
{
	const struct sieve_envelope *env = p->env;
	const char *recipient = env != NULL ? sieve_envelope_address(a, env->to) : NULL;
	if (recipient != NULL && *recipient == '\0')
		recipient = NULL;
	const char *user = sieve_user_email(p, a, true);

	/* A copy that this user redirected before has come back. */
	const char **vals;
	size_t n = msg_header_values((struct message *)m, "x-sieve-redirected-from", false, &vals);
	for (size_t i = 0; i < n; i++) {
		if ((recipient != NULL && strcmp(vals[i], recipient) == 0) ||
		    (user != NULL && strcmp(vals[i], user) == 0)) {
			diag_add(d, DIAG_INFO, NULL, line, 0, "redirect action: not forwarding message to <%s>: "
				 "the 'x-sieve-redirected-from' header indicates a mail loop", target);
			return 0;
		}
	}

	const char *sender = env != NULL ? sieve_envelope_address(a, env->from) : NULL;
	const char *from = sender != NULL ? sender : "";
	if (*from != '\0')
		(void)sieve_address_source(p, "sieve_redirect_envelope_from", a, &from);
	*env_from_r = from;

	sieve_mail_header(out, "X-Sieve", "Tamis");
	const char *explicit_user = sieve_user_email(p, a, false);
	const char *trace = explicit_user != NULL ? explicit_user : recipient;
	if (trace != NULL)
		sieve_mail_header(out, "X-Sieve-Redirected-From", trace);
	if (!msg_header_exists(m, "message-id"))
		sieve_mail_header(out, "Message-ID", sieve_mail_new_msgid(p, a));

	/* The message itself, without its Return-Path: the envelope sender of
	   the copy is ours to set. */
	size_t pos = 0;
	size_t hdr_end = m->has_body ? m->body_offset : m->size;
	for (size_t i = 0; i < m->nheaders; i++) {
		const struct msg_header *h = &m->headers[i];
		if (h->name_len != 11 || strncasecmp(h->name, "return-path", 11) != 0)
			continue;
		size_t start = (size_t)(h->name - m->data);
		size_t end = (size_t)(h->raw + h->raw_len - m->data);
		if (start < pos || end > hdr_end)
			continue;
		if (end < m->size && m->data[end] == '\r')
			end++;
		if (end < m->size && m->data[end] == '\n')
			end++;
		strbuf_append(out, m->data + pos, start - pos);
		pos = end;
	}
	strbuf_append(out, m->data + pos, m->size - pos);
	return 1;
}

void sieve_action_log(struct diag_list *d, const struct sieve_action *act, enum diag_level lvl,
		      const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct strbuf b = STRBUF_INIT;
	strbuf_printf(&b, "%s action: ", what);
	strbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	diag_add(d, lvl, NULL, act->line, 0, "%s", b.data);
	strbuf_free(&b);
}
