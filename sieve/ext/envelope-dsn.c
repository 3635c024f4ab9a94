/* envelope-dsn.c: the "envelope-dsn" and "envelope-deliverby" extensions
 * (RFC 6009 sections 2 and 4): envelope parts for the SMTP parameters the
 * message arrived with, which the host puts into struct sieve_envelope.
 *
 *   envelope-dsn        "notify"  each NOTIFY keyword as its own value
 *                                 (NEVER, or SUCCESS / FAILURE / DELAY)
 *                       "orcpt"   ORCPT as "addr-type;address" (xtext decoded)
 *                       "ret"     RET: FULL or HDRS
 *                       "envid"   ENVID (xtext decoded)
 *   envelope-deliverby  "bytimeabsolute"  the deadline as an RFC 3339
 *                                 date-time, in the local zone or the one
 *                                 given with :zone "+hhmm"
 *                       "bytimerelative"  seconds left (negative when past)
 *                       "bymode"  NOTIFY or RETURN
 *                       "bytrace" TRACE when the T flag was given
 *
 * Both are off unless the settings enable them ("+envelope-dsn"): only a
 * host that passes these SMTP parameters on makes them meaningful.
 *
 * Decisions, where RFC 6009 leaves room (Pigeonhole has no RFC 6009,
 * Cyrus declares these two extensions unsupported, and Stalwart takes the
 * values as its host gives them):
 *  - ORCPT reaches the engine decoded: the host undoes RFC 3461's xtext
 *    ("+2B" -> "+") and keeps the addr-type as given, so the RFC's example
 *    :matches "rfc822;*@example.com" sees "rfc822;bob+x@example.com".
 *  - With :all (the default) every part is its whole value, ORCPT with
 *    its "addr-type;" prefix.  :localpart, :domain, :user and :detail take
 *    apart the address of an "rfc822" ORCPT; an ORCPT of another type (say
 *    "x400;...") and the other parts are no address and have no such
 *    piece, so those tests are false.
 *  - A part the delivery did not carry has no value: every test on it is
 *    false (and :count counts zero); no default (such as RFC 3461's
 *    implied NOTIFY=FAILURE) is made up.  bytrace has a value only when
 *    the T flag was given.
 *  - bytimeabsolute is written exactly as date's "iso8601" date-part
 *    ("2010-05-28T20:00:00+02:00", "Z" for a zero offset), so that the
 *    RFC's examples may compare the two as strings.
 * `tamis test` simulates these parameters with the setting
 * sieve_test_smtp_params ("NOTIFY=SUCCESS ORCPT=rfc822;a+2Bb@example.com
 * BY=600;NT", as on the wire). */
#include "sieve/engine.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const struct sieve_envelope *env_of(struct sieve_runtime *rt)
{
	return rt->params->env;
}

static size_t one_value(struct sieve_runtime *rt, const char *v, const char ***vals_r)
{
	if (v == NULL)
		return 0;
	const char **vals = arena_alloc(rt->arena, sizeof(char *));
	vals[0] = v;
	*vals_r = vals;
	return 1;
}

/* ---- envelope-dsn ---- */

/* An address part other than :all names a piece of an address; these
   values are none (orcpt aside), so they have no such piece. */
static bool whole_value_only(const struct sieve_exec_args *a)
{
	return sieve_args_addrpart(a) == SV_AP_ALL;
}

static size_t part_notify(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char ***vals_r)
{
	const struct sieve_envelope *env = env_of(rt);
	if (env == NULL || env->dsn_notify == NULL || !whole_value_only(a))
		return 0;
	/* "SUCCESS,DELAY" is two values, so that :count counts keywords. */
	const char *s = env->dsn_notify;
	size_t n = 1;
	for (const char *p = s; *p != '\0'; p++)
		if (*p == ',')
			n++;
	const char **vals = arena_alloc(rt->arena, sizeof(char *) * n);
	size_t k = 0;
	while (*s != '\0' && k < n) {
		size_t len = strcspn(s, ",");
		const char *b = s, *e = s + len;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > b)
			vals[k++] = arena_strndup(rt->arena, b, (size_t)(e - b));
		s += len;
		if (*s == ',')
			s++;
	}
	*vals_r = vals;
	return k;
}

static size_t part_orcpt(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char ***vals_r)
{
	const struct sieve_envelope *env = env_of(rt);
	const char *v = env != NULL ? env->dsn_orcpt : NULL;
	if (v == NULL)
		return 0;
	enum sieve_addrpart ap = sieve_args_addrpart(a);
	if (ap == SV_AP_ALL)
		return one_value(rt, v, vals_r);
	/* :localpart, :domain, :user, :detail: pieces of the address of an
	   "rfc822" ORCPT; other address types (x400 ...) have none. */
	const char *semi = strchr(v, ';');
	struct msg_address xa;
	struct sieve_string piece;
	if (semi == NULL || semi - v != 6 || strncasecmp(v, "rfc822", 6) != 0 ||
	    msg_parse_path(rt->arena, semi + 1, &xa) != 0 || xa.domain == NULL ||
	    !sieve_address_part(rt, ap, &xa, &piece))
		return 0;
	return one_value(rt, arena_strndup(rt->arena, piece.p, piece.len), vals_r);
}

static size_t part_ret(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char ***vals_r)
{
	const struct sieve_envelope *env = env_of(rt);
	return one_value(rt, env != NULL && whole_value_only(a) ? env->dsn_ret : NULL, vals_r);
}

static size_t part_envid(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char ***vals_r)
{
	const struct sieve_envelope *env = env_of(rt);
	return one_value(rt, env != NULL && whole_value_only(a) ? env->dsn_envid : NULL, vals_r);
}

static const struct sieve_envelope_part ep_notify = { "notify", false, part_notify };
static const struct sieve_envelope_part ep_orcpt = { "orcpt", false, part_orcpt };
static const struct sieve_envelope_part ep_ret = { "ret", false, part_ret };
static const struct sieve_envelope_part ep_envid = { "envid", false, part_envid };
static const struct sieve_envelope_part *const dsn_parts[] = {
	&ep_notify, &ep_orcpt, &ep_ret, &ep_envid, NULL
};

const struct sieve_extension_def sieve_ext_envelope_dsn = {
	.name = "envelope-dsn",
	.envelope_parts = dsn_parts,
};

/* ---- envelope-deliverby ---- */

/* "+hhmm" / "-hhmm" -> offset in seconds; false when malformed. */
static bool parse_zone(const char *z, size_t len, long *off_r)
{
	if (len != 5 || (z[0] != '+' && z[0] != '-'))
		return false;
	for (size_t i = 1; i < 5; i++)
		if (z[i] < '0' || z[i] > '9')
			return false;
	long h = (z[1] - '0') * 10 + (z[2] - '0'), m = (z[3] - '0') * 10 + (z[4] - '0');
	if (h > 23 || m > 59)
		return false;
	*off_r = (z[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
	return true;
}

static size_t part_bytimeabsolute(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				  const char ***vals_r)
{
	const struct sieve_envelope *env = env_of(rt);
	if (env == NULL || env->by_deadline == 0 || !whole_value_only(a))
		return 0;
	time_t t = env->by_deadline;
	long off;
	struct tm tm;
	const struct sieve_exec_tag *zt = sieve_args_tag(a, "zone");
	struct sieve_string z = { "", 0 };
	if (zt != NULL)
		z = sieve_opd_string(rt, &zt->val);
	if (zt != NULL && parse_zone(z.p, z.len, &off)) {
		time_t shifted = t + off;
		gmtime_r(&shifted, &tm);
	} else {
		localtime_r(&t, &tm);
		off = tm.tm_gmtoff;
	}
	/* Written as date's "iso8601" date-part is (RFC 5260 section 4.2: a
	   zero offset is "Z"), so that the two compare as strings. */
	long aoff = off < 0 ? -off : off;
	const char *zs = off == 0 ? "Z" : arena_printf(rt->arena, "%c%02ld:%02ld", off < 0 ? '-' : '+',
							aoff / 3600, (aoff % 3600) / 60);
	const char *v = arena_printf(rt->arena, "%04d-%02d-%02dT%02d:%02d:%02d%s", tm.tm_year + 1900,
				     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, zs);
	return one_value(rt, v, vals_r);
}

static size_t part_bytimerelative(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				  const char ***vals_r)
{
	const struct sieve_envelope *env = env_of(rt);
	if (env == NULL || env->by_deadline == 0 || !whole_value_only(a))
		return 0;
	time_t now = rt->params->host != NULL && rt->params->host->now != NULL ?
		rt->params->host->now(rt->params->host->ctx) : time(NULL);
	long long left = (long long)env->by_deadline - (long long)now;
	return one_value(rt, arena_printf(rt->arena, "%lld", left), vals_r);
}

static size_t part_bymode(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char ***vals_r)
{
	const struct sieve_envelope *env = env_of(rt);
	if (env == NULL || env->by_deadline == 0 || !whole_value_only(a))
		return 0;
	return one_value(rt, env->by_mode == 'N' || env->by_mode == 'n' ? "NOTIFY" : "RETURN", vals_r);
}

static size_t part_bytrace(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char ***vals_r)
{
	const struct sieve_envelope *env = env_of(rt);
	if (env == NULL || env->by_deadline == 0 || !env->by_trace || !whole_value_only(a))
		return 0;
	return one_value(rt, "TRACE", vals_r);
}

static const struct sieve_envelope_part ep_bytimeabsolute = { "bytimeabsolute", false, part_bytimeabsolute };
static const struct sieve_envelope_part ep_bytimerelative = { "bytimerelative", false, part_bytimerelative };
static const struct sieve_envelope_part ep_bymode = { "bymode", false, part_bymode };
static const struct sieve_envelope_part ep_bytrace = { "bytrace", false, part_bytrace };
static const struct sieve_envelope_part *const deliverby_parts[] = {
	&ep_bytimeabsolute, &ep_bytimerelative, &ep_bymode, &ep_bytrace, NULL
};

/* envelope :zone "+hhmm": the zone bytimeabsolute is given in. */
static const struct sieve_tag_def tag_zone = { "zone", SV_TC_NONE, 0, SV_AT_STRING, "time-zone" };
static const struct sieve_tag_link deliverby_links[] = { { "envelope", &tag_zone }, { NULL, NULL } };

static int deliverby_tag_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_ctag *zt = sieve_cmd_tag(c, "zone");
	if (zt == NULL || zt->val.type != SV_AT_STRING || !sieve_cstring_is_const(&zt->val.strs[0]))
		return 0;
	long off;
	const struct sieve_cstring *z = &zt->val.strs[0];
	if (!parse_zone(z->data, z->len, &off)) {
		sieve_validator_error(v, z->loc, "invalid time zone offset '%s' for the :zone tag (expecting +hhmm or -hhmm)",
				      sieve_str_sanitize(sieve_validator_arena(v), z->data, z->len, 80));
		return -1;
	}
	return 0;
}

const struct sieve_extension_def sieve_ext_envelope_deliverby = {
	.name = "envelope-deliverby",
	.tag_links = deliverby_links,
	.tag_validate = deliverby_tag_validate,
	.envelope_parts = deliverby_parts,
};
