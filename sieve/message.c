/* message.c: the message header index (see message.h): finds the header
 * fields once, then unfolds and RFC 2047-decodes their values on demand and
 * caches the result in the index.  Field syntax follows what Dovecot
 * (Pigeonhole's reference platform) accepts rather than strict RFC 5322,
 * since scripts are tested against that behaviour. */
#include "sieve/message.h"
#include <string.h>
#include <strings.h>

/* Start size of the header array; it doubles as needed, so 100k headers
   cost O(n) copies in total. */
#define MSG_HEADERS_INITIAL 32

static bool msg_is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

size_t msg_header_block_parse(struct arena *a, const char *data, size_t size,
			      struct msg_header **hdrs_r, size_t *n_r,
			      bool *has_empty_line_r)
{
	struct msg_header *hdrs = NULL;
	size_t n = 0, cap = 0;
	/* The header a continuation line extends; NULL after a line that is
	   not a field, whose continuations are then skipped too.  Index
	   rather than pointer because the array moves when it grows. */
	size_t cur = SIZE_MAX;
	bool skipping = false;
	size_t pos = 0;

	*has_empty_line_r = false;
	while (pos < size) {
		const char *nl = memchr(data + pos, '\n', size - pos);
		size_t eol = nl != NULL ? (size_t)(nl - data) : size;
		size_t next = nl != NULL ? eol + 1 : size;
		size_t end = eol;
		if (end > pos && data[end - 1] == '\r')
			end--;

		if (end == pos && nl != NULL) {
			/* The empty line: the header ends, the body follows. */
			*has_empty_line_r = true;
			pos = next;
			break;
		}
		if (msg_is_wsp(data[pos]) && (cur != SIZE_MAX || skipping)) {
			/* Folded continuation: the raw value runs on to the
			   end of this line, the line break stays inside. */
			if (cur != SIZE_MAX)
				hdrs[cur].raw_len = (size_t)(data + end - hdrs[cur].raw);
			pos = next;
			continue;
		}
		const char *colon = memchr(data + pos, ':', end - pos);
		if (colon == NULL) {
			/* Not a field (an mbox "From " line, garbage):
			   Dovecot ignores it and keeps reading the header. */
			cur = SIZE_MAX;
			skipping = true;
			pos = next;
			continue;
		}
		if (n == cap) {
			size_t ncap = cap == 0 ? MSG_HEADERS_INITIAL : cap * 2;
			hdrs = arena_grow(a, hdrs, cap, ncap, sizeof(*hdrs));
			cap = ncap;
		}
		struct msg_header *h = &hdrs[n];
		size_t name_len = (size_t)(colon - (data + pos));
		/* "From   :" names the From header (RFC 5228 2.4.2.2). */
		while (name_len > 0 && msg_is_wsp(data[pos + name_len - 1]))
			name_len--;
		h->name = data + pos;
		h->name_len = name_len;
		h->raw = colon + 1;
		h->raw_len = (size_t)(data + end - h->raw);
		h->unfolded = NULL;
		h->decoded = NULL;
		cur = n++;
		skipping = false;
		pos = next;
	}
	*hdrs_r = hdrs;
	*n_r = n;
	return pos < size ? pos : size;
}

struct message *msg_parse(struct arena *a, const char *data, size_t size)
{
	struct message *m = arena_alloc(a, sizeof(*m));
	m->arena = a;
	m->data = data;
	m->size = size;
	m->body_offset = msg_header_block_parse(a, data, size, &m->headers,
						&m->nheaders, &m->has_body);
	return m;
}

/* Unfolds a raw value: each line break inside it is removed (it is always
   followed by the folding whitespace, which stays); a TAB right after the
   break becomes a space, which is what Dovecot hands to Sieve.  NUL becomes
   0x80 so values stay C strings (Dovecot does the same to NULs).  Leading
   and trailing whitespace is trimmed (RFC 5228 5.7).  Pigeonhole differs
   in one corner: it keeps the whitespace when the value starts on a
   continuation line ("Subject:\n\tfoo" gives " foo"); we follow the RFC. */
static char *msg_unfold(struct arena *a, const char *raw, size_t len)
{
	size_t s = 0, e = len;
	while (s < e && (msg_is_wsp(raw[s]) || raw[s] == '\r' || raw[s] == '\n'))
		s++;
	while (e > s && (msg_is_wsp(raw[e - 1]) || raw[e - 1] == '\r' || raw[e - 1] == '\n'))
		e--;
	char *out = arena_alloc(a, e - s + 1);
	size_t o = 0;
	for (size_t i = s; i < e; i++) {
		char c = raw[i];
		if (c == '\r' && i + 1 < e && raw[i + 1] == '\n')
			continue;
		if (c == '\n') {
			if (i + 1 < e && raw[i + 1] == '\t') {
				out[o++] = ' ';
				i++;
			}
			continue;
		}
		out[o++] = c == '\0' ? (char)0x80 : c;
	}
	out[o] = '\0';
	return out;
}

const char *msg_header_value(struct arena *a, struct msg_header *h, bool decode)
{
	if (h->unfolded == NULL)
		h->unfolded = msg_unfold(a, h->raw, h->raw_len);
	if (!decode)
		return h->unfolded;
	if (h->decoded == NULL)
		h->decoded = msg_decode_2047(a, h->unfolded, strlen(h->unfolded));
	return h->decoded;
}

static bool msg_header_name_is(const struct msg_header *h, const char *name,
			       size_t name_len)
{
	return h->name_len == name_len &&
	       strncasecmp(h->name, name, name_len) == 0;
}

size_t msg_header_list_values(struct arena *a, struct msg_header *hdrs, size_t n,
			      const char *name, bool decode, const char ***vals_r)
{
	size_t name_len = strlen(name);
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		if (msg_header_name_is(&hdrs[i], name, name_len))
			count++;
	const char **vals = arena_alloc(a, (count + 1) * sizeof(*vals));
	size_t k = 0;
	for (size_t i = 0; i < n && k < count; i++)
		if (msg_header_name_is(&hdrs[i], name, name_len))
			vals[k++] = msg_header_value(a, &hdrs[i], decode);
	vals[k] = NULL;
	*vals_r = vals;
	return k;
}

size_t msg_header_values(struct message *m, const char *name, bool decode,
			 const char ***vals_r)
{
	return msg_header_list_values(m->arena, m->headers, m->nheaders, name,
				      decode, vals_r);
}

bool msg_header_exists(const struct message *m, const char *name)
{
	size_t name_len = strlen(name);
	for (size_t i = 0; i < m->nheaders; i++)
		if (msg_header_name_is(&m->headers[i], name, name_len))
			return true;
	return false;
}
