/* editheader.c: the editheader extension (RFC 5293): addheader [:last] and
 * deleteheader [:index N [:last]] [COMPARATOR] [MATCH-TYPE] name [values].
 *
 * Edits change the message the rest of the run sees (tests, later actions,
 * the implicit keep); actions added before an edit keep the version they
 * saw.  Received and Auto-Submitted can never be deleted, and the settings
 * sieve_editheader_protected, _forbid_add and _forbid_delete protect more
 * fields, with Pigeonhole's exceptions (Subject is always editable,
 * X-Sieve-Redirected-From never).  Values longer than
 * sieve_editheader_max_header_size are refused.
 *
 * The edited message lives in one buffer owned by the run, with free room
 * in front of the header: adding a field on top costs only the field,
 * adding at the bottom or deleting moves the header block, never the body,
 * and the header index is patched in place rather than rebuilt.  So a
 * script's edits cost memory in proportion to what they add, whatever the
 * message size.  The buffer is copied only when an action still holds the
 * current version (it must keep seeing it) or when the room runs out. */
#include "sieve/engine.h"
#include "lib/codec.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EH_DEFAULT_MAX_HEADER_SIZE 2048
#define EH_MINIMUM_MAX_HEADER_SIZE 1024
/* Fold at this line length, as Pigeonhole's header writer does. */
#define EH_FOLD_AT 80
/* What one run may add in all (not a Pigeonhole setting: it bounds the
   memory a script with many addheader commands in a loop can take). */
#define EH_DEFAULT_MAX_ADDED (1024 * 1024)
#define EH_MIN_GAP 4096

/* ---- field names and values ---- */

/* RFC 5322 ftext: printable US-ASCII except ':'.  Like Pigeonhole, an empty
   name is not rejected. */
static bool eh_name_valid(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 33 || c > 126 || c == ':')
			return false;
	}
	return true;
}

/* RFC 5322 unstructured text, allowing line breaks (they are refolded)
   and UTF-8.  Pigeonhole only warns about a value that fails this. */
static bool eh_value_valid(const char *p, size_t len)
{
	bool eight = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 && c != '\r' && c != '\n' && c != '\t')
			return false;
		if (c >= 0x80)
			eight = true;
	}
	return !eight || sieve_utf8_valid(p, len);
}

/* "x-frop" -> "X-Frop", as Pigeonhole writes the names it adds. */
static void eh_name_capitalize(char *s)
{
	bool up = true;
	for (; *s != '\0'; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
		if (up && *s >= 'a' && *s <= 'z')
			*s = (char)(*s - 32);
		up = *s == '-';
	}
}

/* ---- settings ---- */

/* Is name listed in the space-separated setting?  Invalid names in the
   list are ignored, as Pigeonhole ignores them (with a warning). */
static bool eh_setting_lists(const struct sieve_config *cfg, const char *setting, const char *name)
{
	const char *p = sieve_config_get(cfg, setting);
	size_t nlen = strlen(name);
	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *s = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		size_t l = (size_t)(p - s);
		if (l == nlen && l > 0 && eh_name_valid(s, l) && strncasecmp(s, name, l) == 0)
			return true;
	}
	return false;
}

/* RFC 5703 section 5: implementations with editheader MUST ensure that
   the Original-Subject and Original-From fields that replace added cannot
   be modified or removed.  replace.c marks the run when it added one. */
static bool eh_replace_protected(struct sieve_runtime *rt, const char *name)
{
	return sieve_runtime_ext_ctx(rt, "replace") != NULL &&
	       (strcasecmp(name, "original-subject") == 0 || strcasecmp(name, "original-from") == 0);
}

static bool eh_allow_add(const struct sieve_config *cfg, const char *name)
{
	if (strcasecmp(name, "subject") == 0)
		return true;
	if (strcasecmp(name, "x-sieve-redirected-from") == 0)
		return false;
	return !eh_setting_lists(cfg, "sieve_editheader_protected", name) &&
		!eh_setting_lists(cfg, "sieve_editheader_forbid_add", name);
}

static bool eh_allow_delete(const struct sieve_config *cfg, const char *name)
{
	if (strcasecmp(name, "received") == 0 || strcasecmp(name, "auto-submitted") == 0 ||
	    strcasecmp(name, "x-sieve-redirected-from") == 0)
		return false;
	if (strcasecmp(name, "subject") == 0)
		return true;
	return !eh_setting_lists(cfg, "sieve_editheader_protected", name) &&
		!eh_setting_lists(cfg, "sieve_editheader_forbid_delete", name);
}

static uint64_t eh_max_header_size(const struct sieve_config *cfg)
{
	uint64_t v = sieve_config_uint(cfg, "sieve_editheader_max_header_size", EH_DEFAULT_MAX_HEADER_SIZE);
	/* Pigeonhole ignores a limit below its minimum. */
	return v < EH_MINIMUM_MAX_HEADER_SIZE ? EH_DEFAULT_MAX_HEADER_SIZE : v;
}

/* ---- composing a field ---- */

static bool eh_needs_encoding(const char *v, size_t len, size_t i)
{
	unsigned char c = (unsigned char)v[i];
	if (c >= 0x80 || (c < 0x20 && c != '\t' && c != '\r' && c != '\n'))
		return true;
	/* "=?" opening a word would read back as an encoded word. */
	return c == '=' && i + 1 < len && v[i + 1] == '?' &&
		(i == 0 || v[i - 1] == ' ' || v[i - 1] == '\t');
}

/* Characters a Q-encoded word carries as they are (RFC 2047 5(3)). */
static bool eh_q_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

/* The value as it goes into the header: words that cannot be written as
   they are (8-bit, control characters) become RFC 2047 encoded words, as
   Dovecot's message_header_encode() does, so the field reads back as the
   script gave it. */
static void eh_encode_value(struct strbuf *out, const char *v, size_t len)
{
	size_t first = len, last = 0;
	for (size_t i = 0; i < len; i++) {
		if (eh_needs_encoding(v, len, i)) {
			if (first == len)
				first = i;
			last = i;
		}
	}
	if (first == len) {
		strbuf_append(out, v, len);
		return;
	}
	/* Encoded words cannot hold folding: line breaks (with the
	   whitespace after them) become one space first. */
	struct strbuf flat = STRBUF_INIT;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\r' || v[i] == '\n') {
			while (i + 1 < len && (v[i + 1] == '\r' || v[i + 1] == '\n' ||
					       v[i + 1] == ' ' || v[i + 1] == '\t'))
				i++;
			if (i + 1 < len)
				strbuf_putc(&flat, ' ');
			continue;
		}
		strbuf_putc(&flat, v[i]);
	}
	const char *f = flat.data != NULL ? flat.data : "";
	size_t flen = flat.len;
	first = flen;
	last = 0;
	for (size_t i = 0; i < flen; i++) {
		if (eh_needs_encoding(f, flen, i)) {
			if (first == flen)
				first = i;
			last = i;
		}
	}
	if (first == flen) {
		strbuf_append(out, f, flen);
		strbuf_free(&flat);
		return;
	}
	/* Widen to whole words. */
	while (first > 0 && f[first - 1] != ' ' && f[first - 1] != '\t')
		first--;
	size_t end = last + 1;
	while (end < flen && f[end] != ' ' && f[end] != '\t')
		end++;
	strbuf_append(out, f, first);
	/* Like Dovecot: Q encoding when under 40% of the bytes need it (it
	   stays readable), else B.  Words are kept under 75 characters without
	   splitting a UTF-8 character, separated by spaces where the folding
	   may break. */
	size_t need = 0;
	for (size_t i = first; i < end; i++)
		if (eh_needs_encoding(f, flen, i))
			need++;
	bool q = need * 10 < (end - first) * 4;
	size_t pos = first;
	while (pos < end) {
		size_t n;
		if (q) {
			/* Up to 63 encoded characters per word. */
			size_t w = 0;
			n = 0;
			while (pos + n < end) {
				unsigned char c = (unsigned char)f[pos + n];
				size_t cl = eh_q_plain(c) || c == ' ' ? 1 : 3;
				/* a whole UTF-8 character or nothing */
				size_t k = 1;
				if (c >= 0xc0)
					while (pos + n + k < end && ((unsigned char)f[pos + n + k] & 0xc0) == 0x80)
						k++;
				if (k > 1)
					cl = 3 * k;
				if (w + cl > 63 && n > 0)
					break;
				w += cl;
				n += k;
			}
		} else {
			n = end - pos > 45 ? 45 : end - pos;
			while (n > 1 && pos + n < end && ((unsigned char)f[pos + n] & 0xc0) == 0x80)
				n--;
		}
		if (pos > first)
			strbuf_putc(out, ' ');
		if (q) {
			strbuf_puts(out, "=?utf-8?q?");
			for (size_t i = pos; i < pos + n; i++) {
				unsigned char c = (unsigned char)f[i];
				if (c == ' ')
					strbuf_putc(out, '_');
				else if (eh_q_plain(c))
					strbuf_putc(out, (char)c);
				else
					strbuf_printf(out, "=%02X", c);
			}
		} else {
			strbuf_puts(out, "=?utf-8?b?");
			codec_base64_append(out, (const unsigned char *)f + pos, n);
		}
		strbuf_puts(out, "?=");
		pos += n;
	}
	strbuf_append(out, f + end, flen - end);
	strbuf_free(&flat);
}

/* "Name: value" + line break, folded as Pigeonhole's rfc2822_header_append:
   a line is broken at its last whitespace once it reaches EH_FOLD_AT, the
   break replacing that whitespace with a TAB; line breaks already in the
   value are kept (with the whitespace around them made one TAB), a final
   one is dropped. */
static void eh_fold(struct strbuf *out, const char *name, const char *body, size_t blen, const char *eol)
{
	strbuf_puts(out, name);
	strbuf_puts(out, ": ");
	size_t line_len = strlen(name) + 2;
	size_t bp = 0, sp = 0;
	size_t wp = SIZE_MAX, nlp = SIZE_MAX;
	unsigned lines = 0;
	while (bp < blen) {
		bool ws_first = true;
		while (bp < blen && nlp == SIZE_MAX && (wp == SIZE_MAX || line_len < EH_FOLD_AT)) {
			char c = body[bp];
			if (c == ' ' || c == '\t') {
				if (ws_first)
					wp = bp;
				ws_first = false;
			} else if (c == '\r' || c == '\n') {
				nlp = ws_first ? bp : wp;
				break;
			} else {
				ws_first = true;
			}
			bp++;
			line_len++;
		}
		if (bp >= blen)
			break;
		if (nlp != SIZE_MAX) {
			while (bp < blen && (body[bp] == ' ' || body[bp] == '\t' ||
					     body[bp] == '\r' || body[bp] == '\n'))
				bp++;
			strbuf_append(out, body + sp, nlp - sp);
			strbuf_puts(out, eol);
			if (bp < blen)
				strbuf_putc(out, '\t');
			sp = bp;
		} else {
			strbuf_append(out, body + sp, wp - sp);
			while (wp < blen && (body[wp] == ' ' || body[wp] == '\t'))
				wp++;
			strbuf_puts(out, eol);
			strbuf_putc(out, '\t');
			sp = wp;
			if (sp > bp)
				bp = sp;
		}
		lines++;
		line_len = bp - sp;
		wp = SIZE_MAX;
		nlp = SIZE_MAX;
	}
	if (bp != sp || lines == 0) {
		strbuf_append(out, body + sp, bp - sp);
		strbuf_puts(out, eol);
	}
}

/* ---- the edited message ---- */

struct eh_state {
	struct message *msg;       /* the current edited version; NULL before */
	char *buf;                 /* its buffer; msg->data points inside */
	size_t cap;                /* bytes at buf */
	size_t hcap;               /* capacity of msg->headers */
	size_t gap_hint;           /* room to leave in front at the next copy */
	size_t added;              /* bytes added by this run */
	const char *eol;           /* "\r\n" or "\n", as the message uses */
};

static struct eh_state *eh_state(struct sieve_runtime *rt)
{
	struct eh_state *st = sieve_runtime_ext_ctx(rt, "editheader");
	if (st == NULL) {
		st = arena_alloc(rt->arena, sizeof(*st));
		st->gap_hint = EH_MIN_GAP;
		sieve_runtime_set_ext_ctx(rt, "editheader", st);
	}
	return st;
}

/* May the current version be changed in place?  Not when another command
   replaced the message since, nor when an action holds this version. */
static bool eh_owned(struct sieve_runtime *rt, struct eh_state *st)
{
	if (st->msg == NULL || rt->msg != st->msg)
		return false;
	struct sieve_result *r = rt->result;
	for (size_t i = 0; i < r->count; i++)
		if (r->actions[i]->msg == st->msg)
			return false;
	return true;
}

static size_t eh_offset(const struct eh_state *st)
{
	return (size_t)(st->msg->data - st->buf);
}

/* A copy of the n entries of `from` in an index of our own with room to
   grow (st->hcap), so that later edits patch it in place. */
static struct msg_header *eh_own_index(struct sieve_runtime *rt, struct eh_state *st,
				       const struct msg_header *from, size_t n)
{
	st->hcap = n < 16 ? 16 : n * 2;
	struct msg_header *h = arena_alloc(rt->arena, st->hcap * sizeof(*h));
	if (n > 0)
		memcpy(h, from, n * sizeof(*h));
	return h;
}

/* Copies rt->msg into a new buffer with at least `need` bytes of room in
   front of it; the copy becomes the run's message. */
static void eh_fresh_copy(struct sieve_runtime *rt, struct eh_state *st, size_t need)
{
	const struct message *src = rt->msg;
	size_t gap = need + st->gap_hint;
	st->cap = gap + src->size + 1;
	st->buf = arena_alloc(rt->arena, st->cap);
	char *data = st->buf + gap;
	memcpy(data, src->data, src->size);
	/* An index of our own with room to grow, so later edits patch it:
	   the source's, moved onto the copy, unless it does not describe the
	   source's bytes.  Its cached values are dropped: they may live in
	   an arena that goes away before this copy (the testsuite replaces
	   its message). */
	bool inside = true;
	for (size_t i = 0; i < src->nheaders && inside; i++) {
		const struct msg_header *sh = &src->headers[i];
		inside = sh->name >= src->data && sh->raw >= sh->name &&
			sh->raw + sh->raw_len <= src->data + src->size;
	}
	struct message *m;
	if (inside) {
		m = arena_alloc(rt->arena, sizeof(*m));
		*m = *src;
		m->arena = rt->arena;
		m->data = data;
		m->mime = NULL;
	} else {
		m = msg_parse(rt->arena, data, src->size);
	}
	struct msg_header *h = eh_own_index(rt, st, m->headers, m->nheaders);
	if (inside) {
		for (size_t i = 0; i < m->nheaders; i++) {
			h[i].name = data + (src->headers[i].name - src->data);
			h[i].raw = data + (src->headers[i].raw - src->data);
			h[i].unfolded = NULL;
			h[i].decoded = NULL;
		}
	}
	m->headers = h;
	st->msg = m;
	/* New fields follow the message's own line ends. */
	const char *nl = memchr(src->data, '\n', src->size);
	st->eol = (nl == NULL || (nl > src->data && nl[-1] == '\r')) ? "\r\n" : "\n";
	sieve_runtime_replace_message(rt, m);
}

static void eh_prepare(struct sieve_runtime *rt, struct eh_state *st, size_t need)
{
	if (!eh_owned(rt, st)) {
		eh_fresh_copy(rt, st, need);
	} else if (eh_offset(st) < need) {
		/* Out of room: leave twice as much next time, so a script
		   adding many fields copies the message only log(n) times. */
		if (st->gap_hint < 16 * 1024 * 1024)
			st->gap_hint *= 2;
		eh_fresh_copy(rt, st, need);
	}
}

/* After an edit: the MIME tree, if parsed, keeps its body parts (the body
   never moves); the root's header is patched, unless the edit touched a
   field that changes the structure, which makes it parse again. */
static void eh_finish(struct sieve_runtime *rt, struct eh_state *st, const char *name)
{
	struct message *m = st->msg;
	if (m->mime != NULL) {
		if (strncasecmp(name, "content-", 8) == 0 || strcasecmp(name, "mime-version") == 0) {
			m->mime = NULL;
		} else {
			struct msg_mime_part *root = m->mime;
			root->headers = m->headers;
			root->nheaders = m->nheaders;
			root->header_start = m->data;
			size_t hend = m->body_offset;
			if (m->has_body && hend > 0 && m->data[hend - 1] == '\n') {
				hend--;
				if (hend > 0 && m->data[hend - 1] == '\r')
					hend--;
			}
			root->header_len = hend;
		}
	}
	sieve_runtime_replace_message(rt, m);
}

static void eh_index_insert(struct sieve_runtime *rt, struct eh_state *st, size_t at,
			    const char *field, size_t name_len, size_t text_len)
{
	struct message *m = st->msg;
	if (m->nheaders == st->hcap) {
		size_t nc = st->hcap * 2;
		m->headers = arena_grow(rt->arena, m->headers, st->hcap, nc, sizeof(*m->headers));
		st->hcap = nc;
	}
	memmove(m->headers + at + 1, m->headers + at, (m->nheaders - at) * sizeof(*m->headers));
	m->nheaders++;
	struct msg_header *h = &m->headers[at];
	size_t eol = strlen(st->eol);
	h->name = field;
	h->name_len = name_len;
	h->raw = field + name_len + 1;
	h->raw_len = text_len - name_len - 1 - eol;
	h->unfolded = NULL;
	h->decoded = NULL;
}

/* Builds the index of the current version again from its bytes, with
   room to grow as eh_fresh_copy() leaves it. */
static void eh_reindex(struct sieve_runtime *rt, struct eh_state *st)
{
	struct message *m = st->msg;
	struct msg_header *h;
	size_t n;
	m->body_offset = msg_header_block_parse(rt->arena, m->data, m->size, &h, &n, &m->has_body);
	m->headers = eh_own_index(rt, st, h, n);
	m->nheaders = n;
}

/* Adds a composed field (text ends with the line break) on top or at the
   bottom of the header. */
static void eh_add(struct sieve_runtime *rt, struct eh_state *st, const char *text, size_t len,
		   size_t name_len, bool last)
{
	/* A last header line without a line break gets one first. */
	bool need_eol = false;
	if (last) {
		const struct message *cur = rt->msg;
		need_eol = !cur->has_body && cur->size > 0 && cur->data[cur->size - 1] != '\n';
	}
	/* Room for the longest line break chosen below. */
	size_t eol_len = need_eol ? 2 : 0;
	eh_prepare(rt, st, len + eol_len);
	struct message *m = st->msg;
	need_eol = last && !m->has_body && m->size > 0 && m->data[m->size - 1] != '\n';
	/* A last line ending in a bare CR (found by fuzz_message): the
	   parser already takes that CR for the start of its line break,
	   leaving it out of the field's value, so only an LF may complete
	   it; "\r\n" would leave "\r\r\n" and put the CR into the value,
	   out of step with the index.  Unless the line is that CR alone:
	   an LF would turn it into the empty line that ends the header, so
	   it gets "\r\n" and stays a line that is not a field. */
	const char *eol = st->eol;
	if (need_eol && m->data[m->size - 1] == '\r')
		eol = m->size >= 2 && m->data[m->size - 2] != '\n' ? "\n" : "\r\n";
	eol_len = need_eol ? strlen(eol) : 0;
	size_t off = eh_offset(st);
	size_t total = len + eol_len;
	if (!last) {
		/* A header whose first line starts with a blank (a field
		   named " x", as the parser reads it there) would continue
		   the new field once that is on top (found by fuzz_message):
		   the message as delivered says so, so the index is built
		   again from the bytes rather than patched. */
		bool merges = m->size > 0 && (m->data[0] == ' ' || m->data[0] == '\t');
		off -= total;
		memcpy(st->buf + off, text, len);
		m->data = st->buf + off;
		m->size += total;
		m->body_offset += total;
		if (merges)
			eh_reindex(rt, st);
		else
			eh_index_insert(rt, st, 0, m->data, name_len, len);
		return;
	}
	/* The end of the header: before the empty line, or the end. */
	size_t p = m->size;
	if (m->has_body) {
		p = m->body_offset - 1;
		if (p > 0 && m->data[p - 1] == '\r')
			p--;
	}
	memmove(st->buf + off - total, st->buf + off, p);
	off -= total;
	char *at = st->buf + off + p;
	if (need_eol)
		memcpy(at, eol, eol_len);
	memcpy(at + eol_len, text, len);
	for (size_t i = 0; i < m->nheaders; i++) {
		m->headers[i].name -= total;
		m->headers[i].raw -= total;
	}
	m->data = st->buf + off;
	m->size += total;
	m->body_offset += total;
	eh_index_insert(rt, st, m->nheaders, at + eol_len, name_len, len);
}

/* Byte range of field i with its line break. */
static void eh_field_range(const struct message *m, size_t i, size_t *s_r, size_t *e_r)
{
	const struct msg_header *h = &m->headers[i];
	size_t e = (size_t)(h->raw + h->raw_len - m->data);
	if (e < m->size && m->data[e] == '\r' && e + 1 < m->size && m->data[e + 1] == '\n')
		e += 2;
	else if (e < m->size && m->data[e] == '\n')
		e++;
	*s_r = (size_t)(h->name - m->data);
	*e_r = e;
}

/* Deletes the fields at the given indexes (ascending) of the current
   (owned) version in one pass: the text before each deleted field moves
   towards the body by what was deleted after it, so the cost is one sweep
   of the header block however many fields go. */
static void eh_delete_fields(struct eh_state *st, const size_t *idx, size_t nv)
{
	struct message *m = st->msg;
	char *base = st->buf + eh_offset(st);
	/* The ranges first: the moves below overwrite the text they look at. */
	size_t *lens = malloc(sizeof(size_t) * (nv + 1));
	if (lens == NULL)
		abort();
	for (size_t k = 0; k < nv; k++) {
		size_t s, e;
		eh_field_range(m, idx[k], &s, &e);
		lens[k] = e - s;
	}
	size_t shift = 0;
	size_t seg_end = 0;       /* end of the kept text above the victim */
	for (size_t k = nv; k-- > 0;) {
		size_t s = (size_t)(m->headers[idx[k]].name - m->data);
		size_t e = s + lens[k];
		if (k + 1 < nv) {
			/* the kept text between this victim and the next one */
			memmove(base + e + shift, base + e, seg_end - e);
		}
		shift += lens[k];
		seg_end = s;
	}
	memmove(base + shift, base, seg_end);
	/* Patch the index: a field moves by what was deleted below it. */
	size_t moved = 0, k = nv, out = m->nheaders;
	for (size_t i = m->nheaders; i-- > 0;) {
		if (k > 0 && idx[k - 1] == i) {
			moved += lens[--k];
			continue;
		}
		m->headers[i].name += moved;
		m->headers[i].raw += moved;
		m->headers[--out] = m->headers[i];
	}
	size_t kept = m->nheaders - out;
	memmove(m->headers, m->headers + out, kept * sizeof(*m->headers));
	m->nheaders = kept;
	free(lens);
	m->data = base + shift;
	m->size -= shift;
	m->body_offset -= shift;
}

static bool eh_name_is(const struct msg_header *h, const char *name, size_t nlen)
{
	return h->name_len == nlen && strncasecmp(h->name, name, nlen) == 0;
}

/* ---- addheader ---- */

static int addheader_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_config *cfg = sieve_validator_config(v);
	struct arena *a = sieve_validator_arena(v);
	const struct sieve_cstring *name = &c->pos[0].strs[0];
	if (sieve_cstring_is_const(name)) {
		if (!eh_name_valid(name->data, name->len)) {
			sieve_validator_error(v, name->loc, "addheader command: specified field name `%s' is invalid",
					      sieve_str_sanitize(a, name->data, name->len, 80));
			return -1;
		}
		if (!eh_allow_add(cfg, name->data))
			sieve_validator_warning(v, name->loc,
				"addheader command: adding specified header field `%s' is forbidden; "
				"modification will be denied", sieve_str_sanitize(a, name->data, name->len, 80));
	}
	const struct sieve_cstring *val = &c->pos[1].strs[0];
	if (sieve_cstring_is_const(val)) {
		const char *s = sieve_str_sanitize(a, val->data, val->len, 80);
		if (memchr(val->data, '\0', val->len) != NULL) {
			sieve_validator_error(v, val->loc,
				"addheader command: specified value `%s' is invalid (contains NUL character)", s);
			return -1;
		}
		if (!eh_value_valid(val->data, val->len))
			sieve_validator_warning(v, val->loc, "addheader command: specified value `%s' is invalid", s);
		if (val->len > eh_max_header_size(cfg)) {
			sieve_validator_error(v, val->loc,
				"addheader command: specified header value `%s' is too large (%zu bytes)", s, val->len);
			return -1;
		}
	}
	return 0;
}

static int addheader_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string name = sieve_opd_string(rt, &a->pos[0]);
	struct sieve_string val = sieve_opd_string(rt, &a->pos[1]);
	if (!eh_name_valid(name.p, name.len)) {
		sieve_runtime_error(rt, a, "addheader action: specified field name `%s' is invalid",
				    sieve_str_sanitize(rt->arena, name.p, name.len, 80));
		return SIEVE_FAILURE;
	}
	const char *cname = sieve_rt_strdup(rt, name);
	if (!eh_allow_add(rt->cfg, cname) || eh_replace_protected(rt, cname)) {
		sieve_runtime_warning(rt, a, "addheader action: adding specified header field `%s' is forbidden; "
				      "modification denied", sieve_str_sanitize(rt->arena, name.p, name.len, 80));
		return SIEVE_OK;
	}
	if (memchr(val.p, '\0', val.len) != NULL) {
		sieve_runtime_error(rt, a, "addheader action: specified value `%s' is invalid (contains NUL character)",
				    sieve_str_sanitize(rt->arena, val.p, val.len, 80));
		return SIEVE_FAILURE;
	}
	if (val.len > eh_max_header_size(rt->cfg)) {
		sieve_runtime_error(rt, a, "addheader action: specified header value `%s' is too large (%zu bytes)",
				    sieve_str_sanitize(rt->arena, val.p, val.len, 80), val.len);
		return SIEVE_FAILURE;
	}
	struct eh_state *st = eh_state(rt);
	uint64_t max_added = sieve_config_uint(rt->cfg, "sieve_editheader_max_added_size", EH_DEFAULT_MAX_ADDED);
	if (max_added > 0 && st->added + name.len + val.len > max_added) {
		sieve_runtime_error(rt, a, "addheader action: the header fields added by the script "
				    "exceed the limit of %llu bytes", (unsigned long long)max_added);
		return SIEVE_FAILURE;
	}
	st->added += name.len + val.len;
	if (st->eol == NULL || rt->msg != st->msg) {
		const char *nl = memchr(rt->msg->data, '\n', rt->msg->size);
		st->eol = (nl == NULL || (nl > rt->msg->data && nl[-1] == '\r')) ? "\r\n" : "\n";
	}
	char *fname = arena_strdup(rt->arena, cname);
	eh_name_capitalize(fname);
	struct strbuf enc = STRBUF_INIT, field = STRBUF_INIT;
	eh_encode_value(&enc, val.p, val.len);
	eh_fold(&field, fname, enc.data != NULL ? enc.data : "", enc.len, st->eol);
	eh_add(rt, st, field.data, field.len, name.len, sieve_args_tag(a, "last") != NULL);
	strbuf_free(&enc);
	strbuf_free(&field);
	eh_finish(rt, st, cname);
	return SIEVE_OK;
}

/* ---- deleteheader ---- */

static int deleteheader_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct arena *a = sieve_validator_arena(v);
	const struct sieve_ctag *last = sieve_cmd_tag(c, "last");
	const struct sieve_ctag *index = sieve_cmd_tag(c, "index");
	int ret = 0;
	if (last != NULL && index == NULL) {
		sieve_validator_error(v, last->loc,
			"the :last tag for the deleteheader command cannot be specified without the :index tag");
		ret = -1;
	}
	if (index != NULL && index->val.number > 0x7fffffff) {
		/* Only a warning in Pigeonhole, yet the script is refused. */
		sieve_validator_warning(v, index->val.loc,
			"the :index tag for the deleteheader command has a parameter value '%llu' "
			"exceeding the maximum (%d)", (unsigned long long)index->val.number, 0x7fffffff);
		return -1;
	}
	const struct sieve_cval *names = &c->pos[0];
	if (names->nstrs == 1 && sieve_cstring_is_const(&names->strs[0])) {
		const struct sieve_cstring *name = &names->strs[0];
		if (!eh_name_valid(name->data, name->len)) {
			/* (Pigeonhole's text lacks the space after the colon.) */
			sieve_validator_error(v, name->loc, "deleteheader command:specified field name `%s' is invalid",
					      sieve_str_sanitize(a, name->data, name->len, 80));
			return -1;
		}
		if (!eh_allow_delete(sieve_validator_config(v), name->data))
			sieve_validator_warning(v, name->loc,
				"deleteheader command: deleting specified header field `%s' is forbidden; "
				"modification will be denied", sieve_str_sanitize(a, name->data, name->len, 80));
	}
	return ret;
}

static int deleteheader_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string name = sieve_opd_string(rt, &a->pos[0]);
	if (!eh_name_valid(name.p, name.len)) {
		sieve_runtime_error(rt, a, "deleteheader action: specified field name `%s' is invalid",
				    sieve_str_sanitize(rt->arena, name.p, name.len, 80));
		return SIEVE_FAILURE;
	}
	const char *cname = sieve_rt_strdup(rt, name);
	if (!eh_allow_delete(rt->cfg, cname) || eh_replace_protected(rt, cname)) {
		sieve_runtime_warning(rt, a, "deleteheader action: deleting specified header field `%s' is "
				      "forbidden; modification denied", sieve_str_sanitize(rt->arena, name.p, name.len, 80));
		return SIEVE_OK;
	}
	const struct sieve_exec_tag *it = sieve_args_tag(a, "index");
	uint64_t index = it != NULL ? it->val.number : 0;
	bool from_last = sieve_args_tag(a, "last") != NULL;
	bool patterns = a->npos > 1;

	/* Choose the fields first (positions count occurrences of the name in
	   the message as it is now), then delete them bottom-up. */
	const struct message *cur = rt->msg;
	size_t n = cur->nheaders;
	size_t *victims = malloc(sizeof(size_t) * (n + 1));
	if (victims == NULL)
		abort();
	size_t nv = 0;
	struct sieve_match_ctx m;
	if (patterns)
		sieve_match_begin(&m, rt, a, &a->pos[1]);
	uint64_t pos = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i = from_last ? n - 1 - k : k;
		struct msg_header *h = &cur->headers[i];
		if (!eh_name_is(h, name.p, name.len))
			continue;
		pos++;
		if (index != 0 && pos != index)
			continue;
		if (patterns) {
			const char *v = msg_header_value(cur->arena, h, true);
			/* Each field is matched on its own. */
			m.matched = false;
			if (sieve_match_value(&m, v, strlen(v)) <= 0)
				continue;
		}
		victims[nv++] = i;
	}
	if (nv == 0) {
		free(victims);
		return SIEVE_OK;
	}
	struct eh_state *st = eh_state(rt);
	if (!eh_owned(rt, st)) {
		/* The copy has the same fields in the same order. */
		eh_fresh_copy(rt, st, 0);
	}
	/* Counting from the last collected them bottom-up. */
	if (from_last) {
		for (size_t k = 0; k < nv / 2; k++) {
			size_t t = victims[k];
			victims[k] = victims[nv - 1 - k];
			victims[nv - 1 - k] = t;
		}
	}
	eh_delete_fields(st, victims, nv);
	free(victims);
	eh_finish(rt, st, cname);
	return SIEVE_OK;
}

/* ---- definitions ---- */

static const struct sieve_tag_def tag_add_last = { "last", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def *const addheader_tags[] = { &tag_add_last, NULL };
static const struct sieve_pos_arg addheader_args[] = {
	{ "field-name", SV_AT_STRING }, { "value", SV_AT_STRING } };
static const struct sieve_command_def cmd_addheader = {
	"addheader", SV_CMD_COMMAND, 0, addheader_args, 2, addheader_tags,
	addheader_validate, addheader_execute, NULL };

static const struct sieve_tag_def tag_index = { "index", SV_TC_NONE, 0, SV_AT_NUMBER, "fieldno" };
static const struct sieve_tag_def tag_del_last = { "last", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def *const deleteheader_tags[] = { &tag_index, &tag_del_last, NULL };
/* Pigeonhole accepts a string list for the field name (and uses the
   first), so the signature does too. */
static const struct sieve_pos_arg deleteheader_args[] = {
	{ "field name", SV_AT_STRLIST }, { "value patterns", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_deleteheader = {
	"deleteheader", SV_CMD_COMMAND, SV_CF_MATCH | SV_CF_COMPARATOR | SV_CF_OPT_LASTPOS,
	deleteheader_args, 2, deleteheader_tags, deleteheader_validate, deleteheader_execute, NULL };

static const struct sieve_command_def *const editheader_commands[] = {
	&cmd_addheader, &cmd_deleteheader, NULL };

const struct sieve_extension_def sieve_ext_editheader = {
	.name = "editheader",
	/* Off by default, as in Pigeonhole; on in the testsuite. */
	.flags = SV_EF_TESTSUITE_ON,
	.commands = editheader_commands,
};
