/* redirect-dsn.c: the "redirect-dsn" and "redirect-deliverby" extensions
 * (RFC 6009 sections 3 and 5): tags on redirect that become the SMTP DSN
 * (RFC 3461) and BY (RFC 2852) parameters of the forwarded copy.
 *
 *   redirect-dsn        :notify "NEVER" / "SUCCESS,FAILURE,DELAY" (any
 *                       non-empty subset, once each), :ret "FULL" / "HDRS"
 *   redirect-deliverby  :bytimerelative <seconds> or :bytimeabsolute
 *                       <RFC 3339 date-time>, with [:bymode "notify" /
 *                       "return"] (default "return") and [:bytrace]
 *
 * The options travel with the redirect action (sieve_action.send_opts) to
 * the host's send() (sieve_outgoing.opts); an absolute deadline is kept as
 * is, so the host computes BY's seconds when it actually sends.  Constant
 * values are checked when the script is compiled, others when it runs.
 * Both are off unless the settings enable them: only a host that hands
 * these parameters to its MTA makes them meaningful.  `tamis test -e`
 * prints them as "delivery options: NOTIFY=... RET=... BY=secs;mode".
 *
 * Decisions, checked against Cyrus (sieve.y, bc_eval.c; Pigeonhole has no
 * RFC 6009):
 *  - :notify keywords are case-insensitive and may be padded with blanks
 *    (Cyrus and Stalwart trim them too); the MTA gets them upper-case in
 *    the order SUCCESS,FAILURE,DELAY.  "NEVER" with anything else, an
 *    empty item, an unknown or a repeated keyword is an error (Cyrus:
 *    "NEVER MUST be used by itself").
 *  - :bymode and :bytrace without a deadline are errors (RFC 6009's usage
 *    nests them under the deadline; Cyrus refuses them too), and the two
 *    deadlines exclude each other.  :bymode defaults to "return".
 *  - BY's time has at most 9 digits (RFC 2852): a larger :bytimerelative
 *    is cut to 999999999 seconds, and a :bytimeabsolute further ahead is
 *    brought in to that (Cyrus fails the redirect at run time).
 *  - :bytimeabsolute is an RFC 3339 date-time whose day exists, with a
 *    "Z" or "+hh:mm" offset; "+hhmm" is accepted as well because RFC
 *    6009's own example builds the value from date's "zone" part.
 *  - A deadline already past when the host sends (or :bytimerelative 0),
 *    with mode "return", makes a BY time RFC 2852 forbids (zero or less
 *    with R); Cyrus and Stalwart accept such scripts, and so does Tamis:
 *    refusing it is the host's, as its MTA would. */
#include "sieve/engine.h"
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- value checks ---- */

/* NEVER alone, or a comma-separated set of SUCCESS, FAILURE and DELAY;
 * returns the canonical upper-case form (arena) or NULL. */
static const char *notify_canonical(struct arena *a, const char *s, size_t len)
{
	static const char *const kw[] = { "SUCCESS", "FAILURE", "DELAY" };
	bool seen[3] = { false, false, false }, never = false;
	size_t count = 0;
	const char *p = s, *end = s + len;
	while (p <= end) {
		const char *q = memchr(p, ',', (size_t)(end - p));
		if (q == NULL)
			q = end;
		const char *b = p, *e = q;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		size_t n = (size_t)(e - b);
		bool ok = false;
		if (n == 5 && strncasecmp(b, "NEVER", 5) == 0 && !never) {
			never = ok = true;
		} else {
			for (size_t k = 0; k < 3; k++) {
				if (n == strlen(kw[k]) && strncasecmp(b, kw[k], n) == 0 && !seen[k]) {
					seen[k] = ok = true;
				}
			}
		}
		if (!ok)
			return NULL;
		count++;
		p = q + 1;
	}
	if (never)
		return count == 1 ? "NEVER" : NULL;
	struct strbuf out = STRBUF_INIT;
	for (size_t k = 0; k < 3; k++) {
		if (!seen[k])
			continue;
		if (out.len > 0)
			strbuf_putc(&out, ',');
		strbuf_puts(&out, kw[k]);
	}
	const char *r = arena_strdup(a, out.data != NULL ? out.data : "");
	strbuf_free(&out);
	return r;
}

static const char *ret_canonical(const char *s, size_t len)
{
	if (len == 4 && strncasecmp(s, "FULL", 4) == 0)
		return "FULL";
	if (len == 4 && strncasecmp(s, "HDRS", 4) == 0)
		return "HDRS";
	return NULL;
}

static int bymode_value(const char *s, size_t len)
{
	if (len == 6 && strncasecmp(s, "notify", 6) == 0)
		return 'N';
	if (len == 6 && strncasecmp(s, "return", 6) == 0)
		return 'R';
	return 0;
}

static int digits(const char *s, size_t n, int *v)
{
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		r = r * 10 + (s[i] - '0');
	}
	*v = r;
	return 0;
}

/* RFC 3339 date-time ("2010-05-28T20:00:00-07:00", fraction allowed,
 * "Z" for UTC) -> time_t; -1 when malformed. */
static long long parse_rfc3339(const char *s, size_t len)
{
	int Y, M, D, h, m, sec;
	if (len < 20 || digits(s, 4, &Y) < 0 || s[4] != '-' || digits(s + 5, 2, &M) < 0 || s[7] != '-' ||
	    digits(s + 8, 2, &D) < 0 || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) < 0 ||
	    s[13] != ':' || digits(s + 14, 2, &m) < 0 || s[16] != ':' || digits(s + 17, 2, &sec) < 0)
		return -1;
	/* RFC 3339 section 5.7: the day must exist in that month. */
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
	if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || (M == 2 && D == 29 && !leap) || h > 23 ||
	    m > 59 || sec > 60)
		return -1;
	size_t i = 19;
	if (i < len && s[i] == '.') {
		i++;
		size_t f = i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f)
			return -1;
	}
	long off = 0;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if ((i + 6 == len && s[i + 3] == ':') || i + 5 == len) {
		/* "+hh:mm" (RFC 3339), and also "+hhmm": RFC 6009's own example
		   builds the time from currentdate's "zone" date-part, which has
		   that form (RFC 5260 section 4.2). */
		int oh, om;
		bool colon = i + 6 == len;
		if ((s[i] != '+' && s[i] != '-') || digits(s + i + 1, 2, &oh) < 0 ||
		    digits(s + i + (colon ? 4 : 3), 2, &om) < 0 || oh > 23 || om > 59)
			return -1;
		off = (s[i] == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
		i = len;
	} else {
		return -1;
	}
	if (i != len)
		return -1;
	/* Days since the epoch (civil calendar, proleptic Gregorian). */
	int y = Y - (M <= 2);
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	long long days = era * 146097LL + doe - 719468;
	return days * 86400 + h * 3600 + m * 60 + (sec > 59 ? 59 : sec) - off;
}

/* ---- redirect-dsn ---- */

static const struct sieve_tag_def tag_notify = { "notify", SV_TC_NONE, 0, SV_AT_STRING, "notify-value" };
static const struct sieve_tag_def tag_ret = { "ret", SV_TC_NONE, 0, SV_AT_STRING, "ret-value" };
static const struct sieve_tag_link dsn_links[] = {
	{ "redirect", &tag_notify }, { "redirect", &tag_ret }, { NULL, NULL }
};

static int dsn_tag_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct arena *a = sieve_validator_arena(v);
	const struct sieve_ctag *t = sieve_cmd_tag(c, "notify");
	if (t != NULL && sieve_cstring_is_const(&t->val.strs[0]) &&
	    notify_canonical(a, t->val.strs[0].data, t->val.strs[0].len) == NULL) {
		sieve_validator_error(v, t->val.loc,
			"redirect :notify: invalid value '%s' (expecting \"NEVER\" or a list of "
			"\"SUCCESS\", \"FAILURE\" and \"DELAY\")",
			sieve_str_sanitize(a, t->val.strs[0].data, t->val.strs[0].len, 80));
		return -1;
	}
	t = sieve_cmd_tag(c, "ret");
	if (t != NULL && sieve_cstring_is_const(&t->val.strs[0]) &&
	    ret_canonical(t->val.strs[0].data, t->val.strs[0].len) == NULL) {
		sieve_validator_error(v, t->val.loc,
			"redirect :ret: invalid value '%s' (expecting \"FULL\" or \"HDRS\")",
			sieve_str_sanitize(a, t->val.strs[0].data, t->val.strs[0].len, 80));
		return -1;
	}
	return 0;
}

/* The action's options, made on first use (both extensions add to them). */
static struct sieve_send_options *opts_of(struct sieve_runtime *rt, struct sieve_action *act)
{
	if (act->send_opts == NULL) {
		struct sieve_send_options *o = arena_alloc(rt->result->arena, sizeof(*o));
		act->send_opts = o;
	}
	return (struct sieve_send_options *)act->send_opts;
}

static int dsn_redirect_hook(struct sieve_runtime *rt, const struct sieve_exec_args *a, struct sieve_action *act)
{
	const struct sieve_exec_tag *t = sieve_args_tag(a, "notify");
	if (t != NULL) {
		struct sieve_string s = sieve_opd_string(rt, &t->val);
		const char *n = notify_canonical(rt->result->arena, s.p, s.len);
		if (n == NULL) {
			sieve_runtime_error(rt, a, "redirect :notify: invalid value '%s'",
					    sieve_str_sanitize(rt->arena, s.p, s.len, 80));
			return -1;
		}
		opts_of(rt, act)->dsn_notify = n;
	}
	t = sieve_args_tag(a, "ret");
	if (t != NULL) {
		struct sieve_string s = sieve_opd_string(rt, &t->val);
		const char *r = ret_canonical(s.p, s.len);
		if (r == NULL) {
			sieve_runtime_error(rt, a, "redirect :ret: invalid value '%s'",
					    sieve_str_sanitize(rt->arena, s.p, s.len, 80));
			return -1;
		}
		opts_of(rt, act)->dsn_ret = r;
	}
	return 0;
}

const struct sieve_extension_def sieve_ext_redirect_dsn = {
	.name = "redirect-dsn",
	.tag_links = dsn_links,
	.tag_validate = dsn_tag_validate,
	.redirect_hook = dsn_redirect_hook,
};

/* ---- redirect-deliverby ---- */

static const struct sieve_tag_def tag_bytimerelative = {
	"bytimerelative", SV_TC_NONE, 0, SV_AT_NUMBER, "rlimit" };
static const struct sieve_tag_def tag_bytimeabsolute = {
	"bytimeabsolute", SV_TC_NONE, 0, SV_AT_STRING, "alimit" };
static const struct sieve_tag_def tag_bymode = { "bymode", SV_TC_NONE, 0, SV_AT_STRING, "mode" };
static const struct sieve_tag_def tag_bytrace = { "bytrace", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_link deliverby_links[] = {
	{ "redirect", &tag_bytimerelative }, { "redirect", &tag_bytimeabsolute },
	{ "redirect", &tag_bymode }, { "redirect", &tag_bytrace }, { NULL, NULL }
};

static int deliverby_tag_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct arena *a = sieve_validator_arena(v);
	const struct sieve_ctag *rel = sieve_cmd_tag(c, "bytimerelative");
	const struct sieve_ctag *abs = sieve_cmd_tag(c, "bytimeabsolute");
	const struct sieve_ctag *mode = sieve_cmd_tag(c, "bymode");
	const struct sieve_ctag *trace = sieve_cmd_tag(c, "bytrace");
	if (rel != NULL && abs != NULL) {
		/* One deadline or the other (RFC 6009's usage has "/"). */
		const struct sieve_ctag *second = rel->loc.line > abs->loc.line ||
			(rel->loc.line == abs->loc.line && rel->loc.col > abs->loc.col) ? rel : abs;
		sieve_validator_error(v, second->loc,
			"redirect :bytimerelative and :bytimeabsolute are mutually exclusive");
		return -1;
	}
	if (rel == NULL && abs == NULL && (mode != NULL || trace != NULL)) {
		const struct sieve_ctag *t = mode != NULL ? mode : trace;
		sieve_validator_error(v, t->loc,
			"redirect :%s requires :bytimerelative or :bytimeabsolute", t->def->name);
		return -1;
	}
	if (abs != NULL && sieve_cstring_is_const(&abs->val.strs[0]) &&
	    parse_rfc3339(abs->val.strs[0].data, abs->val.strs[0].len) < 0) {
		sieve_validator_error(v, abs->val.loc,
			"redirect :bytimeabsolute: invalid date-time '%s' (expecting RFC 3339, "
			"e.g. \"2010-05-28T20:00:00+02:00\")",
			sieve_str_sanitize(a, abs->val.strs[0].data, abs->val.strs[0].len, 80));
		return -1;
	}
	if (mode != NULL && sieve_cstring_is_const(&mode->val.strs[0]) &&
	    bymode_value(mode->val.strs[0].data, mode->val.strs[0].len) == 0) {
		sieve_validator_error(v, mode->val.loc,
			"redirect :bymode: invalid mode '%s' (expecting \"notify\" or \"return\")",
			sieve_str_sanitize(a, mode->val.strs[0].data, mode->val.strs[0].len, 80));
		return -1;
	}
	return 0;
}

static int deliverby_redirect_hook(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				   struct sieve_action *act)
{
	const struct sieve_exec_tag *rel = sieve_args_tag(a, "bytimerelative");
	const struct sieve_exec_tag *abs = sieve_args_tag(a, "bytimeabsolute");
	if (rel == NULL && abs == NULL)
		return 0;
	time_t now = rt->params->host != NULL && rt->params->host->now != NULL ?
		rt->params->host->now(rt->params->host->ctx) : time(NULL);
	long long deadline;
	if (rel != NULL) {
		uint64_t secs = rel->val.number;
		/* BY's by-time is at most 9 digits (RFC 2852). */
		if (secs > 999999999)
			secs = 999999999;
		deadline = (long long)now + (long long)secs;
	} else {
		struct sieve_string s = sieve_opd_string(rt, &abs->val);
		deadline = parse_rfc3339(s.p, s.len);
		if (deadline < 0) {
			sieve_runtime_error(rt, a, "redirect :bytimeabsolute: invalid date-time '%s'",
					    sieve_str_sanitize(rt->arena, s.p, s.len, 80));
			return -1;
		}
	}
	/* BY's by-time is at most 9 digits (RFC 2852): a later deadline is
	   brought in to the furthest one BY can say, as for rlimit. */
	if (deadline > (long long)now + 999999999)
		deadline = (long long)now + 999999999;
	struct sieve_send_options *o = opts_of(rt, act);
	o->by_deadline = (time_t)deadline;
	o->by_mode = 'R';
	const struct sieve_exec_tag *mode = sieve_args_tag(a, "bymode");
	if (mode != NULL) {
		struct sieve_string s = sieve_opd_string(rt, &mode->val);
		int m = bymode_value(s.p, s.len);
		if (m == 0) {
			sieve_runtime_error(rt, a, "redirect :bymode: invalid mode '%s'",
					    sieve_str_sanitize(rt->arena, s.p, s.len, 80));
			return -1;
		}
		o->by_mode = (char)m;
	}
	o->by_trace = sieve_args_tag(a, "bytrace") != NULL;
	return 0;
}

const struct sieve_extension_def sieve_ext_redirect_deliverby = {
	.name = "redirect-deliverby",
	.tag_links = deliverby_links,
	.tag_validate = deliverby_tag_validate,
	.redirect_hook = deliverby_redirect_hook,
};
