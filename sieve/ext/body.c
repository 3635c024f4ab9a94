/* body.c: the body extension (RFC 5173): the test
 *   body [COMPARATOR] [MATCH-TYPE] [:raw / :content <types> / :text] <keys>
 * with the values Pigeonhole 0.5.19 matches (checked with sieve-test):
 *  - :raw: the undecoded body after the header's empty line, one value,
 *    none when that is empty;
 *  - :content: every part whose type is wanted ("" = all, "text" = any
 *    text/..., "text/html" exactly; a type written with a stray '/'
 *    matches nothing since no part has such a type) and whose header ended
 *    with an empty line: a leaf gives its decoded UTF-8 body, a multipart
 *    its preamble and (after its parts, when not empty) its epilogue, a
 *    message/rfc822 part the header of the message inside, CRLF ended;
 *  - :text (the default): the text/... and application/xhtml+xml leaves,
 *    HTML reduced to its text.
 * A message without the empty line has no body at all: every body test is
 * false.  As RFC 5173 requires, a match sets no match variables. */
#include "sieve/ext/mime-common.h"
#include <string.h>
#include <strings.h>

enum body_transform { BODY_TEXT, BODY_RAW, BODY_CONTENT };

static const struct sieve_tag_def tag_raw = { "raw", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_content = {
	"content", SV_TC_NONE, 0, SV_AT_STRLIST, "content types" };
static const struct sieve_tag_def tag_text = { "text", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def *const body_tags[] = { &tag_raw, &tag_content, &tag_text, NULL };

static bool is_transform(const struct sieve_tag_def *t)
{
	return t == &tag_raw || t == &tag_content || t == &tag_text;
}

static int body_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	bool seen = false;
	for (unsigned i = 0; i < c->ntags; i++) {
		if (!is_transform(c->tags[i].def))
			continue;
		if (seen) {
			sieve_validator_error(v, c->tags[i].loc,
				"the :raw, :content and :text arguments for the body test are mutually "
				"exclusive, but more than one was specified");
			return -1;
		}
		seen = true;
	}
	return 0;
}

/* Pigeonhole's choice of parts: "" wants all, "type" every subtype of
   it, "type/subtype" that one (case-insensitive). */
static bool type_wanted(const struct sieve_string *want, size_t n, const char *ctype)
{
	const char *slash = strchr(ctype, '/');
	size_t tlen = slash != NULL ? (size_t)(slash - ctype) : strlen(ctype);
	for (size_t i = 0; i < n; i++) {
		const char *w = want[i].p;
		size_t wl = want[i].len;
		if (wl == 0)
			return true;
		if (memchr(w, '/', wl) == NULL) {
			if (wl == tlen && strncasecmp(w, ctype, tlen) == 0)
				return true;
		} else if (wl == strlen(ctype) && strncasecmp(w, ctype, wl) == 0) {
			return true;
		}
	}
	return false;
}

static const struct sieve_string text_types[] = {
	{ "application/xhtml+xml", 21 }, { "text", 4 },
};

/* Feeds the values of :content or :text to the match; returns 1 once it
   matched, -1 when matching failed (error reported), else 0. */
static int body_parts_match(struct sieve_runtime *rt, struct sieve_match_ctx *m,
			    const struct sieve_string *want, size_t nwant, bool text)
{
	struct sieve_mime_parts *pp = sieve_mime_parts(rt->msg);
	/* Multiparts whose epilogue is still to come, innermost last; the
	   MIME parser bounds the nesting. */
	size_t open[MSG_MIME_MAX_DEPTH + 2];
	size_t nopen = 0;
	for (size_t i = 0; i <= pp->count; i++) {
		while (nopen > 0 && pp->end[open[nopen - 1]] <= i) {
			size_t mp = open[--nopen];
			size_t len;
			const char *epi = sieve_mime_epilogue(pp, mp, &len);
			int r = epi != NULL ? sieve_match_value(m, epi, len) : 0;
			if (r != 0)
				return r;
		}
		if (i == pp->count)
			break;
		const struct msg_mime_part *p = pp->part[i];
		const char *ctype = sieve_mime_ctype(pp, i);
		bool wanted = type_wanted(want, nwant, ctype);
		if (p->is_multipart && wanted && nopen < sizeof(open) / sizeof(open[0]))
			open[nopen++] = i;
		if (!wanted || !sieve_mime_has_body(pp, i))
			continue;
		const char *v;
		size_t len;
		if (text)
			v = sieve_mime_text(pp, i, &len);
		else if (p->is_message && i + 1 < pp->end[i] && strcmp(ctype, "message/rfc822") == 0)
			/* Pigeonhole compares the type as written: a part of
			   another spelling, or a digest's part without a type,
			   gives its (empty) body instead. */
			v = sieve_mime_header_text(pp, i + 1, &len);
		else
			v = sieve_mime_body(pp, i, &len);
		int r = sieve_match_value(m, v, len);
		if (r != 0)
			return r;
	}
	return 0;
}

static int body_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_match_ctx m;
	if (sieve_match_begin(&m, rt, a, &a->pos[0]) < 0)
		return SIEVE_FAILURE;
	enum body_transform tr = BODY_TEXT;
	const struct sieve_exec_tag *ct = NULL;
	if (sieve_args_tag(a, "raw") != NULL)
		tr = BODY_RAW;
	else if ((ct = sieve_args_tag(a, "content")) != NULL)
		tr = BODY_CONTENT;

	/* RFC 5173 section 6: the body test leaves match variables alone. */
	bool mv = rt->mv_enabled;
	rt->mv_enabled = false;
	struct message *msg = rt->msg;
	int r = 0;
	if (!msg->has_body) {
		/* Header only: no value at all. */
	} else if (tr == BODY_RAW) {
		size_t len = msg->size > msg->body_offset ? msg->size - msg->body_offset : 0;
		if (len > 0)
			r = sieve_match_value(&m, msg->data + msg->body_offset, len);
	} else if (tr == BODY_CONTENT) {
		struct sieve_string *types;
		size_t n = sieve_opd_strlist(rt, &ct->val, &types);
		r = body_parts_match(rt, &m, types, n, false);
	} else {
		r = body_parts_match(rt, &m, text_types, 2, true);
	}
	rt->mv_enabled = mv;
	if (r < 0)
		return SIEVE_FAILURE;
	r = sieve_match_end(&m);
	if (r < 0)
		return SIEVE_FAILURE;
	rt->test_result = r > 0;
	return SIEVE_OK;
}

static const struct sieve_pos_arg body_args[] = { { "key list", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_body = {
	"body", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, body_args, 1, body_tags,
	body_validate, body_execute, NULL };

static const struct sieve_command_def *const body_commands[] = { &cmd_body, NULL };

const struct sieve_extension_def sieve_ext_body = {
	.name = "body",
	.flags = SV_EF_DEFAULT_ON,
	.commands = body_commands,
};
