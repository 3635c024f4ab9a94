/* spamtest.c: the spamtest, spamtestplus and virustest extensions
 * (RFC 5235).  The tests read a score that a filter upstream left in a
 * header and map it onto the RFC's scale: spamtest "1".."10" (spamtestplus
 * adds :percent, "0".."100"), virustest "1".."5", "0" meaning "not
 * tested".  Which header and how to read it is configured with Pigeonhole's
 * settings (sieve_spamtest_* for spamtest and spamtestplus,
 * sieve_virustest_* for virustest):
 *   _status_header  "<header>[: <regexp>]"; the regexp's first group
 *                   captures the value
 *   _status_type    score (a decimal number), strlen (a run of one
 *                   repeated character, "*****") or text
 *   _max_header     as _status_header, for the maximum score, or
 *   _max_value      a fixed maximum (exactly one of the two for score and
 *                   strlen)
 *   _text_valueN    for text: the header value that means N (0..10 for
 *                   spamtest, 0..5 for virustest)
 * Anything missing or unreadable yields "0", as in Pigeonhole.  The
 * arithmetic is Pigeonhole's, in single precision, so that borderline
 * scores round the same way. */
#include "sieve/engine.h"
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum sv_status_type { SV_STATUS_SCORE, SV_STATUS_STRLEN, SV_STATUS_TEXT };

/* A header specification: the name, and optionally a regexp whose first
   group is the value. */
struct sv_header_spec {
	char name[256];
	bool has_regex;
	regex_t re;
};

static bool sv_spec_parse(struct sv_header_spec *spec, const char *data)
{
	memset(spec, 0, sizeof(*spec));
	if (*data == '\0')
		return false;
	const char *p = data;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *start = p;
	while (*p != ':' && *p != '\0' && *p != ' ' && *p != '\t')
		p++;
	size_t n = (size_t)(p - start);
	if (n == 0 || n >= sizeof(spec->name))
		return false;
	memcpy(spec->name, start, n);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return true;
	if (*p != ':')
		return false;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (regcomp(&spec->re, p, REG_EXTENDED) != 0)
		return false;
	spec->has_regex = true;
	return true;
}

static void sv_spec_free(struct sv_header_spec *spec)
{
	if (spec->has_regex)
		regfree(&spec->re);
	spec->has_regex = false;
}

/* The (decoded) value the spec points at, or NULL. */
static const char *sv_spec_value(struct sieve_runtime *rt, struct sv_header_spec *spec)
{
	const char **vals;
	if (msg_header_values(rt->msg, spec->name, true, &vals) == 0)
		return NULL;
	if (!spec->has_regex)
		return vals[0];
	regmatch_t m[2];
	if (regexec(&spec->re, vals[0], 2, m, 0) != 0 || m[1].rm_so < 0)
		return NULL;
	return arena_strndup(rt->arena, vals[0] + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
}

/* Pigeonhole's decimal reader: optional sign, at most five digits on
   either side of a '.' or ','. */
static bool sv_parse_decimal(const char *s, float *value_r)
{
	const char *p = s;
	float value = 0, sign = 1;
	int digits = 0;
	if (*p == '\0')
		return false;
	if (*p == '+' || *p == '-') {
		if (*p == '-')
			sign = -1;
		p++;
	}
	while (*p >= '0' && *p <= '9') {
		value = value * 10 + (float)(*p - '0');
		if (digits++ > 4)
			return false;
		p++;
	}
	if (*p == '.' || *p == ',') {
		float radix = .1f;
		p++;
		digits = 0;
		while (*p >= '0' && *p <= '9') {
			value = value + (float)(*p - '0') * radix;
			if (digits++ > 4)
				return false;
			radix /= 10;
			p++;
		}
	}
	if (*p != '\0')
		return false;
	*value_r = value * sign;
	return true;
}

/* "*****" -> 5: the whole value must repeat one character. */
static bool sv_parse_strlen(const char *s, float *value_r)
{
	size_t n = 0;
	while (s[n] != '\0' && s[n] == s[0])
		n++;
	if (s[n] != '\0')
		return false;
	*value_r = (float)n;
	return true;
}

static const char *sv_setting(const struct sieve_config *cfg, const char *ext, const char *what,
			      char *buf, size_t bufsize)
{
	snprintf(buf, bufsize, "sieve_%s_%s", ext, what);
	return sieve_config_get(cfg, buf);
}

/* The score as a ratio of the maximum (0..1), or -1 when the extension is
   not configured or the message holds no usable value. */
static float sv_ratio(struct sieve_runtime *rt, bool virus)
{
	const char *ext = virus ? "virustest" : "spamtest";
	unsigned max_text = virus ? 5 : 10;
	char key[64];
	const struct sieve_config *cfg = rt->cfg;
	const char *status_header = sv_setting(cfg, ext, "status_header", key, sizeof(key));
	if (status_header == NULL)
		return -1;
	const char *type_s = sv_setting(cfg, ext, "status_type", key, sizeof(key));
	enum sv_status_type type;
	if (type_s == NULL || strcmp(type_s, "score") == 0)
		type = SV_STATUS_SCORE;
	else if (strcmp(type_s, "strlen") == 0)
		type = SV_STATUS_STRLEN;
	else if (strcmp(type_s, "text") == 0)
		type = SV_STATUS_TEXT;
	else
		return -1;
	const char *max_header = sv_setting(cfg, ext, "max_header", key, sizeof(key));
	const char *max_value_s = sv_setting(cfg, ext, "max_value", key, sizeof(key));

	float ratio = -1, max_value = 0, status_value = 0;
	struct sv_header_spec status, max;
	memset(&max, 0, sizeof(max));
	if (!sv_spec_parse(&status, status_header))
		return -1;
	if (type != SV_STATUS_TEXT) {
		/* Exactly one source for the maximum. */
		if ((max_header == NULL) == (max_value_s == NULL))
			goto out;
		if (max_header != NULL) {
			if (!sv_spec_parse(&max, max_header))
				goto out;
			const char *mv = sv_spec_value(rt, &max);
			if (mv == NULL || !sv_parse_decimal(mv, &max_value))
				goto out;
		} else if (!sv_parse_decimal(max_value_s, &max_value)) {
			goto out;
		}
		if (max_value == 0)
			goto out;
	} else {
		max_value = (float)max_text;
	}

	const char *sv = sv_spec_value(rt, &status);
	if (sv == NULL)
		goto out;
	switch (type) {
	case SV_STATUS_SCORE:
		if (!sv_parse_decimal(sv, &status_value))
			goto out;
		break;
	case SV_STATUS_STRLEN:
		if (!sv_parse_strlen(sv, &status_value))
			goto out;
		break;
	case SV_STATUS_TEXT: {
		unsigned i;
		for (i = 0; i <= max_text; i++) {
			char name[32];
			snprintf(name, sizeof(name), "text_value%u", i);
			const char *tv = sv_setting(cfg, ext, name, key, sizeof(key));
			if (tv != NULL && *tv != '\0' && strcmp(sv, tv) == 0)
				break;
		}
		if (i > max_text)
			goto out;
		status_value = (float)i;
		break;
	}
	}
	if (status_value < 0)
		ratio = 0;
	else if (status_value > max_value)
		ratio = 1;
	else
		ratio = status_value / max_value;
out:
	sv_spec_free(&status);
	sv_spec_free(&max);
	return ratio;
}

static const char *sv_score(struct sieve_runtime *rt, float ratio, bool virus, bool percent)
{
	if (ratio < 0)
		return "0";
	if (ratio > 1)
		ratio = 1;
	int score;
	if (percent)
		score = (int)(ratio * 100 + 0.001f);
	else if (virus)
		score = (int)(ratio * 4 + 1.001f);
	else
		score = (int)(ratio * 9 + 1.001f);
	return arena_printf(rt->arena, "%d", score);
}

static int sv_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	bool virus = strcmp(a->def->name, "virustest") == 0;
	bool percent = sieve_args_tag(a, "percent") != NULL;
	const char *value = sv_score(rt, sv_ratio(rt, virus), virus, percent);
	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, &a->pos[0]);
	sieve_match_value(&m, value, strlen(value));
	rt->test_result = sieve_match_end(&m) > 0;
	return SIEVE_OK;
}

static int spamtest_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_ctag *pt = sieve_cmd_tag(c, "percent");
	if (pt != NULL && !sieve_validator_ext_required(v, "spamtestplus")) {
		sieve_validator_error(v, pt->loc,
			"the spamtest test only accepts the :percent argument when "
			"the spamtestplus extension is active");
		return -1;
	}
	return 0;
}

static const struct sieve_tag_def tag_percent = { "percent", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def *const spamtest_tags[] = { &tag_percent, NULL };
static const struct sieve_pos_arg value_arg[] = { { "value", SV_AT_STRING } };

static const struct sieve_command_def cmd_spamtest = {
	"spamtest", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, value_arg, 1, spamtest_tags,
	spamtest_validate, sv_execute, NULL };
static const struct sieve_command_def cmd_virustest = {
	"virustest", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, value_arg, 1, NULL,
	NULL, sv_execute, NULL };

static const struct sieve_command_def *const spamtest_commands[] = { &cmd_spamtest, NULL };
static const struct sieve_command_def *const virustest_commands[] = { &cmd_virustest, NULL };
static const char *const spamtestplus_implies[] = { "spamtest", NULL };

/* All three are off by default (they need configuration), as in
   Pigeonhole; on in the testsuite. */
const struct sieve_extension_def sieve_ext_spamtest = {
	.name = "spamtest",
	.flags = SV_EF_TESTSUITE_ON,
	.commands = spamtest_commands,
};

const struct sieve_extension_def sieve_ext_spamtestplus = {
	.name = "spamtestplus",
	.flags = SV_EF_TESTSUITE_ON,
	.implies = spamtestplus_implies,
};

const struct sieve_extension_def sieve_ext_virustest = {
	.name = "virustest",
	.flags = SV_EF_TESTSUITE_ON,
	.commands = virustest_commands,
};
