/* message-mime.c: the MIME tree (RFC 2045/2046) of a message, parsed once on
 * demand, plus MIME structured values (Content-Type parameters with RFC
 * 2231 continuations and charsets) and transfer decoding of part bodies.
 *
 * The parser is one forward pass over the lines of the message: the cursor
 * never moves back, so the cost is linear in the size times the number of
 * open multiparts (each line that starts with "--" is compared with every
 * active boundary, innermost first, as Dovecot's message parser does).
 * Recursion follows the nesting of parts and stops at MSG_MIME_MAX_DEPTH;
 * past the limits, parts are simply not split any further. */
#include "sieve/message.h"
#include "lib/strbuf.h"
#include "lib/utf8.h"
#include "lib/codec.h"
#include <string.h>
#include <strings.h>

/* Dovecot cuts boundaries at this length and matches line prefixes, so
   an over-long boundary still works. */
#define MIME_BOUNDARY_MAX 70
/* Parameters beyond this many in one header are ignored: joining RFC 2231
   sections is quadratic in their number, so it must stay small. */
#define MIME_MAX_PARAMS 128

struct mime_ctx {
	struct message *m;
	struct arena *a;
	const char *data;
	size_t size;
	size_t nparts;
	size_t nbounds;
	const char *bound[MSG_MIME_MAX_DEPTH + 1];
	size_t bound_len[MSG_MIME_MAX_DEPTH + 1];
};

/* A boundary line found by the scanner. */
struct mime_bline {
	size_t start;      /* line start; ctx->size if none was found */
	size_t next;       /* first byte after the line */
	size_t idx;        /* index into ctx->bound */
	bool close;        /* "--boundary--" */
};

static size_t mime_line_next(const struct mime_ctx *ctx, size_t pos)
{
	const char *nl = memchr(ctx->data + pos, '\n', ctx->size - pos);
	return nl != NULL ? (size_t)(nl - ctx->data) + 1 : ctx->size;
}

/* Does the line at pos delimit one of the open multiparts? */
static bool mime_is_boundary(const struct mime_ctx *ctx, size_t pos, size_t next,
			     struct mime_bline *bl)
{
	const char *l = ctx->data + pos;
	size_t len = next - pos;
	if (len < 2 || l[0] != '-' || l[1] != '-')
		return false;
	for (size_t i = ctx->nbounds; i-- > 0;) {
		size_t bl_len = ctx->bound_len[i];
		if (len - 2 >= bl_len && memcmp(l + 2, ctx->bound[i], bl_len) == 0) {
			bl->start = pos;
			bl->next = next;
			bl->idx = i;
			bl->close = len - 2 - bl_len >= 2 && l[2 + bl_len] == '-' &&
				    l[3 + bl_len] == '-';
			return true;
		}
	}
	return false;
}

/* The next boundary line at or after pos (bl->start == size if none). */
static void mime_find_boundary(const struct mime_ctx *ctx, size_t pos,
			       struct mime_bline *bl)
{
	while (pos < ctx->size) {
		size_t next = mime_line_next(ctx, pos);
		if (mime_is_boundary(ctx, pos, next, bl))
			return;
		pos = next;
	}
	bl->start = bl->next = ctx->size;
	bl->idx = SIZE_MAX;
	bl->close = false;
}

/* End of content that is followed by a boundary line at `end`: the line
   break before the boundary belongs to the boundary (RFC 2046 5.1.1). */
static size_t mime_strip_nl(const struct mime_ctx *ctx, size_t start, size_t end)
{
	if (end >= ctx->size || end <= start)
		return end;
	if (ctx->data[end - 1] == '\n') {
		end--;
		if (end > start && ctx->data[end - 1] == '\r')
			end--;
	}
	return end;
}

static bool mime_is_tspecial(unsigned char c)
{
	return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static bool mime_is_token_char(unsigned char c)
{
	return c > 0x20 && c != 0x7F && !mime_is_tspecial(c);
}

const char *msg_mime_skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		size_t level = 0;
		for (; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0') {
				p++;
			} else if (*p == '(') {
				level++;
			} else if (*p == ')' && --level == 0) {
				p++;
				break;
			}
		}
	}
}

const char *msg_mime_token(const char *p, const char **start_r, size_t *len_r)
{
	const char *s = p;
	while (mime_is_token_char((unsigned char)*p))
		p++;
	*start_r = s;
	*len_r = (size_t)(p - s);
	return p;
}

struct mime_raw_param {
	const char *name;     /* with any '*' suffix; the model lower-cases it */
	const char *value;    /* unquoted */
	size_t value_len;
	size_t base_len;      /* RFC 2231: the name without "*N*" */
	long section;         /* -1: no section number */
	bool ext;             /* charset'lang'%XX value */
	bool used;
};

/* Appends an RFC 2231 extended value: %XX decoded. */
static void mime_pct_decode(struct strbuf *b, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '%' && i + 2 < len && codec_hex_value((unsigned char)p[i + 1]) >= 0 &&
		    codec_hex_value((unsigned char)p[i + 2]) >= 0) {
			strbuf_putc(b, (char)(codec_hex_value((unsigned char)p[i + 1]) * 16 +
					      codec_hex_value((unsigned char)p[i + 2])));
			i += 2;
		} else {
			strbuf_putc(b, p[i]);
		}
	}
}

/* Splits "name*N*" into the base name length, the section number (-1 if
   none) and whether the value is extended (charset'lang'%XX). */
static size_t mime_2231_name(const char *name, long *section_r, bool *ext_r)
{
	const char *star = strchr(name, '*');
	*section_r = -1;
	*ext_r = false;
	if (star == NULL)
		return strlen(name);
	const char *p = star + 1;
	if (*p >= '0' && *p <= '9') {
		long n = 0;
		while (*p >= '0' && *p <= '9' && n < 100000)
			n = n * 10 + (*p++ - '0');
		*section_r = n;
		if (*p == '*') {
			*ext_r = true;
			p++;
		}
	} else {
		*ext_r = true;   /* "name*": one extended value */
	}
	if (*p != '\0') {
		/* Not RFC 2231 syntax: the whole thing is the name. */
		*section_r = -1;
		*ext_r = false;
		return strlen(name);
	}
	return (size_t)(star - name);
}

/* Joins the RFC 2231 sections of the parameter raw[first] (and of the
   same base name after it) into one UTF-8 value; NULL without section 0. */
static const char *mime_2231_join(struct arena *a, struct mime_raw_param *raw,
				  size_t nraw, size_t first)
{
	struct strbuf bytes = STRBUF_INIT;
	char charset[64] = "";
	bool have_charset = false;
	size_t base_len = raw[first].base_len;
	/* Sections are numbered from 0; take them in order and stop at the
	   first one missing (RFC 2231 section 3). */
	for (long want = 0; want <= (long)nraw; want++) {
		struct mime_raw_param *r = NULL;
		for (size_t i = first; i < nraw && r == NULL; i++) {
			if (!raw[i].used && raw[i].base_len == base_len &&
			    (raw[i].section == want ||
			     (want == 0 && raw[i].section < 0 && raw[i].ext)) &&
			    memcmp(raw[i].name, raw[first].name, base_len) == 0)
				r = &raw[i];
		}
		if (r == NULL) {
			if (want == 0) {
				strbuf_free(&bytes);
				return NULL;
			}
			break;
		}
		r->used = true;
		const char *v = r->value;
		size_t vl = r->value_len;
		if (r->ext && want == 0) {
			/* charset'language'value */
			const char *q1 = memchr(v, '\'', vl);
			const char *q2 = q1 != NULL ? memchr(q1 + 1, '\'', vl - (size_t)(q1 + 1 - v)) : NULL;
			if (q2 != NULL) {
				size_t cl = (size_t)(q1 - v);
				if (cl > 0 && cl < sizeof(charset)) {
					memcpy(charset, v, cl);
					charset[cl] = '\0';
					have_charset = true;
				}
				vl -= (size_t)(q2 + 1 - v);
				v = q2 + 1;
			}
		}
		if (r->ext)
			mime_pct_decode(&bytes, v, vl);
		else
			strbuf_append(&bytes, v, vl);
		if (r->section < 0)
			break;   /* "name*=": a single extended value */
	}
	const char *res = msg_charset_to_utf8(a, have_charset ? charset : NULL,
					      bytes.data != NULL ? bytes.data : "", bytes.len, NULL);
	strbuf_free(&bytes);
	return res;
}

/* Reads one parameter value after '=' (and the blanks after it) into
   *v_r and *vl_r; returns the position after it, or NULL when Dovecot's reading
   rejects the parameter (an unterminated quoted string). */
static const char *mime_param_value(struct arena *a, const char *p, bool dovecot,
				    struct strbuf *qb, const char **v_r, size_t *vl_r)
{
	if (*p == '"') {
		strbuf_truncate(qb, 0);
		const char *run = ++p;
		for (; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0') {
				strbuf_append(qb, run, (size_t)(p - run));
				run = ++p;
			}
		}
		strbuf_append(qb, run, (size_t)(p - run));
		if (*p == '"')
			p++;
		else if (dovecot)
			return NULL;
		*v_r = arena_memdup(a, qb->data != NULL ? qb->data : "", qb->len);
		*vl_r = qb->len;
		return p;
	}
	const char *e = p;
	if (!dovecot) {
		/* A token, or (leniently) anything up to ';' without
		   trailing blanks. */
		while (*e != '\0' && *e != ';')
			e++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
			e--;
	} else if (*p == '=') {
		/* Dovecot's allowance for a bare encoded word
		   (name==?utf-8?...?=): up to ';' or a blank. */
		while (*e != '\0' && *e != ';' && *e != ' ' && *e != '\t' && *e != '\r' && *e != '\n')
			e++;
	} else {
		/* A token only: a comment after it is skipped as blanks. */
		size_t n;
		const char *start;
		e = msg_mime_token(p, &start, &n);
	}
	*v_r = p;
	*vl_r = (size_t)(e - p);
	return e;
}

/* The "; name=value" list after the type, as written: names as in the
   header, values unquoted.  The two readings differ in what they do with
   something that is not a parameter: the message model skips to the next
   ';' outside quoted strings and keeps what follows; Dovecot's
   rfc822_parse_content_param() loop (Pigeonhole's) steps one byte past the
   place it failed and then looks for a ';' byte by byte, so a failure right
   before a ';' costs the next parameter too. */
static size_t mime_scan_params(struct arena *a, const char *p, bool dovecot,
			       struct mime_raw_param *raw, size_t max)
{
	size_t nraw = 0;
	struct strbuf qb = STRBUF_INIT;
	while (nraw < max) {
		while (*p != '\0' && *p != ';') {
			if (*p == '"' && !dovecot) {
				for (p++; *p != '\0' && *p != '"'; p++)
					if (*p == '\\' && p[1] != '\0')
						p++;
				if (*p == '"')
					p++;
			} else {
				p++;
			}
		}
		if (*p == '\0')
			break;
		p = msg_mime_skip_cfws(p + 1);
		const char *n;
		size_t nl;
		p = msg_mime_token(p, &n, &nl);
		p = msg_mime_skip_cfws(p);
		/* Dovecot takes an empty name ("; =x") but not one that the
		   value ends in; the message model needs a name. */
		if ((dovecot ? *p == '\0' : nl == 0) || *p != '=') {
			if (dovecot && *p != '\0')
				p++;
			continue;
		}
		p = msg_mime_skip_cfws(p + 1);
		const char *v;
		size_t vl;
		const char *e = mime_param_value(a, p, dovecot, &qb, &v, &vl);
		if (e == NULL) {
			p += strlen(p);
			continue;
		}
		/* Dovecot skips blanks and comments after a value; the model
		   goes on to the next ';' whatever is there. */
		p = dovecot ? msg_mime_skip_cfws(e) : e;
		raw[nraw].name = arena_strndup(a, n, nl);
		raw[nraw].value = v;
		raw[nraw].value_len = vl;
		raw[nraw].used = false;
		nraw++;
	}
	strbuf_free(&qb);
	return nraw;
}

/* The message model's parameters: names lower-cased, the first occurrence
   of a name wins, RFC 2231 sections joined in order up to the first gap
   and decoded to UTF-8 with their charset. */
static size_t mime_model_params(struct arena *a, struct mime_raw_param *raw, size_t nraw,
				bool keep_raw, struct msg_param **params_r)
{
	for (size_t i = 0; i < nraw; i++) {
		char *lname = (char *)raw[i].name;
		for (char *c = lname; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		raw[i].base_len = mime_2231_name(lname, &raw[i].section, &raw[i].ext);
	}
	struct msg_param *params = arena_alloc(a, (nraw + 1) * sizeof(*params));
	size_t np = 0;
	for (size_t i = 0; i < nraw; i++) {
		if (raw[i].used)
			continue;
		size_t bl = raw[i].base_len;
		/* The first occurrence of a name wins. */
		bool dup = false;
		for (size_t k = 0; k < np && !dup; k++)
			dup = strlen(params[k].name) == bl && memcmp(params[k].name, raw[i].name, bl) == 0;
		if (dup) {
			raw[i].used = true;
			continue;
		}
		if (raw[i].section < 0 && !raw[i].ext) {
			raw[i].used = true;
			params[np].name = raw[i].name;
			params[np].value = keep_raw
				? arena_strndup(a, raw[i].value, raw[i].value_len)
				: msg_charset_to_utf8(a, NULL, raw[i].value, raw[i].value_len, NULL);
			np++;
			continue;
		}
		const char *joined = mime_2231_join(a, raw, nraw, i);
		raw[i].used = true;
		if (joined == NULL)
			continue;
		params[np].name = arena_strndup(a, raw[i].name, bl);
		params[np].value = joined;
		np++;
	}
	*params_r = params;
	return np;
}

/* An RFC 2231 section as Dovecot's rfc2231_parse() (2.3) keeps it. */
struct mime_dc_sec {
	const char *key;
	const char *value;
	unsigned int idx;
	bool ext;
};

static int mime_dc_cmp(const struct mime_dc_sec *x, const struct mime_dc_sec *y)
{
	int c = strcmp(x->key, y->key);
	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Dovecot's rfc2231_parse() result, which Pigeonhole's :param reads: the
   parameters that are not RFC 2231 sections first, in order (repeats kept,
   names as written); then per key (sorted by strcmp, then by index; equal
   ones stay in header order) the sections joined into "key" or, when any is
   extended, "key*" with a charset'lang' prefix and '%' kept encoded; a key
   whose indexes are not exactly 0, 1, 2 ... gives each section on its own
   as "key*N" / "key*N*".  A bare "key*" takes the index of the section
   before it (Dovecot does not reset it), 0 at first. */
static size_t mime_dovecot_params(struct arena *a, const struct mime_raw_param *raw, size_t nraw,
				  struct msg_param **params_r)
{
	struct msg_param *params = arena_alloc(a, (nraw + 1) * sizeof(*params));
	struct mime_dc_sec *secs = arena_alloc(a, (nraw + 1) * sizeof(*secs));
	size_t np = 0, ns = 0;
	unsigned int idx = 0;
	for (size_t i = 0; i < nraw; i++) {
		const char *key = raw[i].name;
		const char *star = strchr(key, '*');
		const char *q = star;
		bool ext = false;
		if (star != NULL) {
			if (star[1] != '\0') {
				q = star + 1;
				idx = 0;
				for (; *q >= '0' && *q <= '9'; q++)
					idx = idx * 10 + (unsigned)(*q - '0');
			}
			if (*q == '*') {
				ext = true;
				q++;
			}
		}
		if (star == NULL || *q != '\0') {
			params[np].name = key;
			params[np].value = arena_strndup(a, raw[i].value, raw[i].value_len);
			np++;
			continue;
		}
		/* Stable insertion by (key, index). */
		struct mime_dc_sec sec = { arena_strndup(a, key, (size_t)(star - key)),
					   arena_strndup(a, raw[i].value, raw[i].value_len), idx, ext };
		size_t at = ns;
		while (at > 0 && mime_dc_cmp(&secs[at - 1], &sec) > 0) {
			secs[at] = secs[at - 1];
			at--;
		}
		secs[at] = sec;
		ns++;
	}
	struct strbuf b = STRBUF_INIT;
	for (size_t i = 0, next; i < ns; i = next) {
		bool ok = true, have_ext = false;
		unsigned int want = 0;
		for (next = i; next < ns && strcasecmp(secs[i].key, secs[next].key) == 0; next++) {
			if (secs[next].idx != want++)
				ok = false;
			if (secs[next].ext)
				have_ext = true;
		}
		if (!ok) {
			for (size_t j = i; j < next; j++) {
				params[np].name = arena_printf(a, secs[j].ext ? "%s*%u*" : "%s*%u",
							       secs[j].key, secs[j].idx);
				params[np].value = secs[j].value;
				np++;
			}
			continue;
		}
		strbuf_truncate(&b, 0);
		if (!secs[i].ext && have_ext)
			strbuf_puts(&b, "''");
		for (size_t j = i; j < next; j++) {
			if (secs[j].ext || !have_ext) {
				strbuf_puts(&b, secs[j].value);
				continue;
			}
			for (const char *c = secs[j].value; *c != '\0'; c++) {
				if (*c == '%')
					strbuf_puts(&b, "%25");
				else
					strbuf_putc(&b, *c);
			}
		}
		params[np].name = have_ext ? arena_printf(a, "%s*", secs[i].key) : secs[i].key;
		params[np].value = arena_memdup(a, b.data != NULL ? b.data : "", b.len);
		np++;
	}
	strbuf_free(&b);
	*params_r = params;
	return np;
}

size_t msg_parse_mime_value_flags(struct arena *a, const char *value, unsigned flags,
				  const char **type_r, const char **subtype_r,
				  struct msg_param **params_r)
{
	const char *p = msg_mime_skip_cfws(value), *s;
	size_t len;
	p = msg_mime_token(p, &s, &len);
	*type_r = arena_strndup(a, s, len);
	*subtype_r = "";
	p = msg_mime_skip_cfws(p);
	if (*p == '/') {
		p = msg_mime_skip_cfws(p + 1);
		p = msg_mime_token(p, &s, &len);
		*subtype_r = arena_strndup(a, s, len);
	}
	bool dovecot = (flags & MSG_MIME_DOVECOT) != 0;
	if (dovecot)
		p = msg_mime_skip_cfws(p);
	struct mime_raw_param raw[MIME_MAX_PARAMS];
	size_t nraw = mime_scan_params(a, p, dovecot, raw, MIME_MAX_PARAMS);
	if (dovecot)
		return mime_dovecot_params(a, raw, nraw, params_r);
	return mime_model_params(a, raw, nraw, (flags & MSG_MIME_RAW) != 0, params_r);
}

size_t msg_parse_mime_value(struct arena *a, const char *value,
			    const char **type_r, const char **subtype_r,
			    struct msg_param **params_r)
{
	return msg_parse_mime_value_flags(a, value, 0, type_r, subtype_r, params_r);
}

static char *mime_lower(struct arena *a, const char *s)
{
	char *r = arena_strdup(a, s);
	for (char *c = r; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return r;
}

static const char *mime_first_value(struct arena *a, struct msg_header *hdrs, size_t n,
				    const char *name)
{
	const char **vals;
	return msg_header_list_values(a, hdrs, n, name, false, &vals) > 0 ? vals[0] : NULL;
}

/* Type, charset, encoding and boundary of a part from its own header. */
static const char *mime_part_types(struct mime_ctx *ctx, struct msg_mime_part *p,
				   bool digest_parent)
{
	struct arena *a = ctx->a;
	const char *boundary = NULL;
	/* The first Content-Type counts (as in Dovecot).  A digest's part
	   defaults to message/rfc822 only when it has no Content-Type at
	   all: one that is there but invalid makes it text/plain. */
	const char *ct = mime_first_value(a, p->headers, p->nheaders, "content-type");
	p->type = digest_parent && ct == NULL ? "message" : "text";
	p->subtype = digest_parent && ct == NULL ? "rfc822" : "plain";
	if (ct != NULL) {
		const char *type, *subtype;
		struct msg_param *params;
		size_t np = msg_parse_mime_value_flags(a, ct, MSG_MIME_RAW, &type, &subtype, &params);
		if (type[0] != '\0') {
			p->type = mime_lower(a, type);
			p->subtype = mime_lower(a, subtype);
		}
		for (size_t i = 0; i < np; i++) {
			if (strcmp(params[i].name, "charset") == 0 && p->charset == NULL)
				p->charset = params[i].value;
			else if (strcmp(params[i].name, "boundary") == 0 && boundary == NULL &&
				 params[i].value[0] != '\0')
				boundary = params[i].value;
		}
	}
	/* The last Content-Transfer-Encoding counts: Dovecot's decoder
	   lets each one override the previous. */
	const char **ctes;
	size_t ncte = msg_header_list_values(a, p->headers, p->nheaders,
					     "content-transfer-encoding", false, &ctes);
	if (ncte > 0) {
		const char *cte = ctes[ncte - 1];
		const char *s;
		size_t len;
		msg_mime_token(msg_mime_skip_cfws(cte), &s, &len);
		if (len > 0)
			p->encoding = mime_lower(a, arena_strndup(a, s, len));
	}
	return boundary;
}

static struct msg_mime_part *mime_new_part(struct mime_ctx *ctx, struct msg_mime_part *parent)
{
	struct msg_mime_part *p = arena_alloc(ctx->a, sizeof(*p));
	p->parent = parent;
	p->depth = parent != NULL ? parent->depth + 1 : 0;
	ctx->nparts++;
	return p;
}

static void mime_add_child(struct msg_mime_part *parent, struct msg_mime_part *child,
			   struct msg_mime_part **tail)
{
	if (*tail == NULL)
		parent->children = child;
	else
		(*tail)->next = child;
	*tail = child;
	parent->nchildren++;
}

static size_t mime_parse_part(struct mime_ctx *ctx, struct msg_mime_part *p,
			      size_t pos, bool digest_parent);

/* The body of a multipart at pos: preamble, parts, epilogue.  Returns where
   the multipart ends (an enclosing boundary line, or the end). */
static size_t mime_parse_multipart(struct mime_ctx *ctx, struct msg_mime_part *p,
				   size_t pos, const char *boundary)
{
	size_t mine = ctx->nbounds++;
	size_t blen = strlen(boundary);
	ctx->bound[mine] = boundary;
	ctx->bound_len[mine] = blen > MIME_BOUNDARY_MAX ? MIME_BOUNDARY_MAX : blen;
	bool digest = strcmp(p->subtype, "digest") == 0;
	struct msg_mime_part *tail = NULL;

	struct mime_bline bl;
	mime_find_boundary(ctx, pos, &bl);
	p->preamble = ctx->data + pos;
	p->preamble_len = mime_strip_nl(ctx, pos, bl.start) - pos;
	while (bl.idx == mine && !bl.close && ctx->nparts < MSG_MIME_MAX_PARTS) {
		struct msg_mime_part *child = mime_new_part(ctx, p);
		mime_add_child(p, child, &tail);
		size_t end = mime_parse_part(ctx, child, bl.next, digest);
		if (end >= ctx->size || !mime_is_boundary(ctx, end, mime_line_next(ctx, end), &bl)) {
			bl.start = bl.next = ctx->size;
			bl.idx = SIZE_MAX;
			bl.close = false;
		}
	}
	if (bl.idx == mine) {
		/* The close delimiter, or the part limit was reached: what
		   follows up to an enclosing boundary is the epilogue. */
		size_t epi = bl.next;
		ctx->nbounds = mine;
		mime_find_boundary(ctx, epi, &bl);
		p->epilogue = ctx->data + epi;
		p->epilogue_len = mime_strip_nl(ctx, epi, bl.start) - epi;
	}
	ctx->nbounds = mine;
	return bl.start;
}

/* Parses the part whose header starts at pos; returns the offset of the
   line that ends it: a boundary line of an enclosing multipart, or size. */
static size_t mime_parse_part(struct mime_ctx *ctx, struct msg_mime_part *p,
			      size_t pos, bool digest_parent)
{
	struct mime_bline bl;
	size_t body_start;
	bool ended = false;     /* a boundary line cut the header short */

	if (p->parent == NULL) {
		struct message *m = ctx->m;
		p->headers = m->headers;
		p->nheaders = m->nheaders;
		size_t hend = m->body_offset;
		if (m->has_body && hend > 0 && ctx->data[hend - 1] == '\n') {
			hend--;
			if (hend > 0 && ctx->data[hend - 1] == '\r')
				hend--;
		}
		p->header_start = ctx->data;
		p->header_len = hend;
		body_start = m->body_offset;
	} else {
		/* The header runs to the empty line, or to a boundary line
		   if a broken part has no empty line. */
		size_t l = pos, hend = ctx->size;
		body_start = ctx->size;
		while (l < ctx->size) {
			size_t next = mime_line_next(ctx, l);
			size_t e = next;
			if (e > l && ctx->data[e - 1] == '\n')
				e--;
			if (e > l && ctx->data[e - 1] == '\r')
				e--;
			if (e == l && next > l) {
				hend = l;
				body_start = next;
				break;
			}
			if (mime_is_boundary(ctx, l, next, &bl)) {
				hend = l;
				body_start = l;
				ended = true;
				break;
			}
			l = next;
		}
		bool empty_line;
		p->header_start = ctx->data + pos;
		p->header_len = hend - pos;
		(void)msg_header_block_parse(ctx->a, ctx->data + pos, hend - pos,
					     &p->headers, &p->nheaders, &empty_line);
	}

	const char *boundary = mime_part_types(ctx, p, digest_parent);
	p->body = ctx->data + body_start;
	bool room = p->depth < MSG_MIME_MAX_DEPTH && ctx->nparts < MSG_MIME_MAX_PARTS && !ended;
	size_t end;

	if (room && boundary != NULL && strcmp(p->type, "multipart") == 0) {
		p->is_multipart = true;
		end = mime_parse_multipart(ctx, p, body_start, boundary);
	} else if (room && strcmp(p->type, "message") == 0 &&
		   strcmp(p->subtype, "rfc822") == 0) {
		p->is_message = true;
		struct msg_mime_part *child = mime_new_part(ctx, p);
		struct msg_mime_part *tail = NULL;
		mime_add_child(p, child, &tail);
		end = mime_parse_part(ctx, child, body_start, false);
	} else if (ended) {
		end = body_start;
	} else {
		mime_find_boundary(ctx, body_start, &bl);
		end = bl.start;
	}
	p->body_len = mime_strip_nl(ctx, body_start, end) - body_start;
	return end;
}

struct msg_mime_part *msg_mime_parse(struct message *m)
{
	if (m->mime != NULL)
		return m->mime;
	struct mime_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.m = m;
	ctx.a = m->arena;
	ctx.data = m->data;
	ctx.size = m->size;
	struct msg_mime_part *root = mime_new_part(&ctx, NULL);
	(void)mime_parse_part(&ctx, root, 0, false);
	m->mime = root;
	return root;
}

size_t msg_part_header_values(struct message *m, struct msg_mime_part *p,
			      const char *name, bool decode, const char ***vals_r)
{
	return msg_header_list_values(m->arena, p->headers, p->nheaders, name, decode, vals_r);
}

const char *msg_part_param(struct message *m, struct msg_mime_part *p, const char *name)
{
	const char *ct = mime_first_value(m->arena, p->headers, p->nheaders, "content-type");
	if (ct == NULL)
		return NULL;
	const char *type, *subtype;
	struct msg_param *params;
	size_t np = msg_parse_mime_value(m->arena, ct, &type, &subtype, &params);
	for (size_t i = 0; i < np; i++)
		if (strcasecmp(params[i].name, name) == 0)
			return params[i].value;
	return NULL;
}

/* Base64 body, decoded as Dovecot does (so "body" sees what Pigeonhole
   sees; checked with sieve-test): blanks and line breaks are skipped; the
   padding or any other character outside the alphabet ends the decoding,
   keeping the bytes of a partial final group. */
static void mime_b64_decode(struct strbuf *out, const char *p, size_t len)
{
	unsigned char q[4];
	size_t nq = 0;
	strbuf_reserve(out, len / 4 * 3 + 3);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		int v = codec_base64_value(c, CODEC_B64_STANDARD);
		if (v < 0)
			break;
		q[nq++] = (unsigned char)v;
		if (nq == 4) {
			strbuf_putc(out, (char)(q[0] << 2 | q[1] >> 4));
			strbuf_putc(out, (char)((q[1] & 0x0F) << 4 | q[2] >> 2));
			strbuf_putc(out, (char)((q[2] & 0x03) << 6 | q[3]));
			nq = 0;
		}
	}
	if (nq >= 2)
		strbuf_putc(out, (char)(q[0] << 2 | q[1] >> 4));
	if (nq >= 3)
		strbuf_putc(out, (char)((q[1] & 0x0F) << 4 | q[2] >> 2));
}

/* Quoted-printable body (RFC 2045 6.7): =XX, soft line breaks, trailing
   blanks of a line removed; a '=' that starts no valid escape stays.  Hard
   line breaks come out as CRLF, the canonical form, as in Dovecot. */
static void mime_qp_decode(struct strbuf *out, const char *p, size_t len)
{
	size_t pos = 0;
	strbuf_reserve(out, len);
	while (pos < len) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t eol = nl != NULL ? (size_t)(nl - p) : len;
		size_t e = eol;
		if (e > pos && p[e - 1] == '\r')
			e--;
		while (e > pos && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		bool soft = e > pos && p[e - 1] == '=';
		if (soft)
			e--;
		size_t run = pos;
		for (size_t i = pos; i < e; i++) {
			if (p[i] == '=' && i + 2 < e && codec_hex_value((unsigned char)p[i + 1]) >= 0 &&
			    codec_hex_value((unsigned char)p[i + 2]) >= 0) {
				strbuf_append(out, p + run, i - run);
				strbuf_putc(out, (char)(codec_hex_value((unsigned char)p[i + 1]) * 16 +
							codec_hex_value((unsigned char)p[i + 2])));
				i += 2;
				run = i + 1;
			}
		}
		strbuf_append(out, p + run, e - run);
		if (!soft && nl != NULL)
			strbuf_append(out, "\r\n", 2);
		pos = nl != NULL ? eol + 1 : len;
	}
}

const char *msg_part_decoded_body(struct message *m, struct msg_mime_part *p,
				  size_t *len_r)
{
	struct strbuf dec = STRBUF_INIT;
	const char *body = p->body;
	size_t len = p->body_len;
	if (p->encoding != NULL && strcmp(p->encoding, "base64") == 0) {
		mime_b64_decode(&dec, p->body, p->body_len);
		body = dec.data != NULL ? dec.data : "";
		len = dec.len;
	} else if (p->encoding != NULL && strcmp(p->encoding, "quoted-printable") == 0) {
		mime_qp_decode(&dec, p->body, p->body_len);
		body = dec.data != NULL ? dec.data : "";
		len = dec.len;
	}
	const char *r;
	size_t rlen;
	if (strcmp(p->type, "text") == 0) {
		/* Dovecot converts bodies as a stream: a character cut off
		   by the end of the body is dropped, not replaced. */
		if (msg_charset_is_utf8(p->charset))
			len -= utf8_incomplete_tail(body, len);
		r = msg_charset_to_utf8(m->arena, p->charset, body, len, &rlen);
	} else {
		r = arena_memdup(m->arena, body, len);
		rlen = len;
	}
	strbuf_free(&dec);
	if (len_r != NULL)
		*len_r = rlen;
	return r;
}
