/* date.c: the date extension (RFC 5260 section 4): the "date" test on a
 * date in a header field and the "currentdate" test on the time the script
 * started, each turning the date into one date-part ("year", "month",
 * "day", "date", "julian", "hour", "minute", "second", "time", "iso8601",
 * "std11", "zone", "weekday") in the time zone asked for (":zone
 * +hhmm", the date's own with ":originalzone", else the local one).
 *
 * As Pigeonhole 0.5.19 (the oracle): the date is what follows the last
 * ';' of the field (Received:) or the whole value, parsed leniently like
 * Dovecot's message_date_parse(); only the first field of the header name
 * counts (or the one :index selects); a field that does not parse gives no
 * value at all; an unknown :zone means the local zone.  One deliberate
 * difference: sieve-test loses :index when :zone or :originalzone follows
 * it; here :index always selects its field (RFC 5260 section 6). */
#include "sieve/engine.h"
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { DATE_ZONE_LOCAL = INT_MIN, DATE_ZONE_ORIGINAL = INT_MIN + 1 };

/* :zone and :originalzone share an id, so using both, or one twice, is
 * the generic "duplicate argument" error, as in Pigeonhole. */
static const struct sieve_tag_def tag_zone = { "zone", SV_TC_NONE, 71, SV_AT_STRING, "time zone" };
static const struct sieve_tag_def tag_originalzone = { "originalzone", SV_TC_NONE, 71, 0, NULL };
static const struct sieve_tag_def *const date_tags[] = { &tag_zone, &tag_originalzone, NULL };
static const struct sieve_tag_def *const currentdate_tags[] = { &tag_zone, NULL };

static const char *const month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};
static const char *const weekday_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

/* ------------------------------------------------------------------ */
/* Zones                                                               */

/* "+hhmm" / "-hhmm" -> minutes east of UTC. */
static bool parse_zone_arg(const char *z, size_t len, int *off_r)
{
	if (len != 5 || (z[0] != '+' && z[0] != '-'))
		return false;
	for (int i = 1; i < 5; i++)
		if (z[i] < '0' || z[i] > '9')
			return false;
	int off = ((z[1] - '0') * 10 + (z[2] - '0')) * 60 + (z[3] - '0') * 10 + (z[4] - '0');
	*off_r = z[0] == '+' ? off : -off;
	return true;
}

/* ------------------------------------------------------------------ */
/* Parsing a date field (RFC 5322 section 3.3, leniently)              */

struct dparser {
	const unsigned char *p, *end;
};

static bool is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Skips white space and (nested) comments: 1 = more input, 0 = end,
 * -1 = unterminated comment. */
static int dp_skip_lwsp(struct dparser *d)
{
	while (d->p < d->end) {
		unsigned char c = *d->p;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			d->p++;
			continue;
		}
		if (c != '(')
			break;
		int depth = 0;
		for (;;) {
			if (d->p >= d->end)
				return -1;
			c = *d->p++;
			if (c == '\\') {
				if (d->p >= d->end)
					return -1;
				d->p++;
			} else if (c == '(') {
				depth++;
			} else if (c == ')' && --depth == 0) {
				break;
			}
		}
	}
	return d->p < d->end ? 1 : 0;
}

/* The next atom: 1 with the token, 0 at the end, -1 on a syntax error. */
static int dp_token(struct dparser *d, const unsigned char **tok, size_t *len)
{
	*tok = d->p;
	*len = 0;
	if (d->p >= d->end)
		return 0;
	if (!is_atext(*d->p))
		return -1;
	while (d->p < d->end && is_atext(*d->p))
		d->p++;
	*len = (size_t)(d->p - *tok);
	if (dp_skip_lwsp(d) < 0)
		return -1;
	return *len > 0;
}

static bool dp_is_sep(const struct dparser *d)
{
	return d->p < d->end && (*d->p == ':' || *d->p == '.');
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static unsigned char up(unsigned char c) { return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c; }

/* Zone names as Dovecot reads them; anything unknown is UTC. */
static int zone_offset(const unsigned char *s, size_t len)
{
	if (len == 5 && (s[0] == '+' || s[0] == '-')) {
		if (!is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[3]) || !is_digit(s[4]))
			return 0;
		int off = ((s[1] - '0') * 10 + (s[2] - '0')) * 60 + (s[3] - '0') * 10 + (s[4] - '0');
		return s[0] == '+' ? off : -off;
	}
	if (len == 1) {
		/* military zones, the way Dovecot counts them */
		unsigned char c = up(s[0]);
		if (c < 'J')
			return (s[0] - 'A' + 1) * 60;
		if (c == 'J')
			return 0;
		if (c <= 'M')
			return (s[0] - 'A') * 60;
		if (c < 'Z')
			return ('M' - s[0]) * 60;
		return 0;
	}
	if (len == 2 && up(s[0]) == 'U' && up(s[1]) == 'T')
		return 0;
	if (len == 3 && s[2] == 'T') {
		int off;
		switch (up(s[0])) {
		case 'E': off = -5 * 60; break;
		case 'C': off = -6 * 60; break;
		case 'M': off = -7 * 60; break;
		case 'P': off = -8 * 60; break;
		default: return 0;
		}
		if (up(s[1]) == 'D')
			return off + 60;
		if (up(s[1]) == 'S')
			return off;
	}
	return 0;
}

static bool leap_year(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(long y, int m)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 1 && leap_year(y) ? 29 : dim[m];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static long long days_from_civil(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "[weekday ","] day month year hh:mm[:ss] [zone]": the UTC time and the
 * zone in minutes, or false. */
static bool date_parse(const char *s, size_t len, time_t *t_r, int *zone_r)
{
	struct dparser d = { (const unsigned char *)s, (const unsigned char *)s + len };
	const unsigned char *v;
	size_t n;
	if (dp_skip_lwsp(&d) < 0 || dp_token(&d, &v, &n) <= 0)
		return false;
	if (n == 3) {
		/* the day of the week, which is not checked */
		if (d.p >= d.end || *d.p != ',')
			return false;
		d.p++;
		if (dp_skip_lwsp(&d) < 0 || dp_token(&d, &v, &n) <= 0)
			return false;
	}
	if (n < 1 || n > 2 || !is_digit(v[0]) || (n == 2 && !is_digit(v[1])))
		return false;
	int mday = n == 2 ? (v[0] - '0') * 10 + (v[1] - '0') : v[0] - '0';

	if (dp_token(&d, &v, &n) <= 0 || n < 3)
		return false;
	int mon = -1;
	for (int i = 0; i < 12; i++)
		if (up(v[0]) == up((unsigned char)month_names[i][0]) && up(v[1]) == up((unsigned char)month_names[i][1]) &&
		    up(v[2]) == up((unsigned char)month_names[i][2]))
			mon = i;
	if (mon < 0)
		return false;

	if (dp_token(&d, &v, &n) <= 0 || (n != 2 && n != 4))
		return false;
	long year = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return false;
		year = year * 10 + (v[i] - '0');
	}
	if (n == 2)
		year += year < 70 ? 2000 : 1900;
	else if (year < 1900)
		return false;

	if (dp_token(&d, &v, &n) <= 0 || n < 1 || n > 2 || !is_digit(v[0]) || (n == 2 && !is_digit(v[1])))
		return false;
	int hour = n == 2 ? (v[0] - '0') * 10 + (v[1] - '0') : v[0] - '0';

	if (!dp_is_sep(&d))
		return false;
	d.p++;
	if (dp_skip_lwsp(&d) < 0)
		return false;
	if (dp_token(&d, &v, &n) < 0 || n != 2 || !is_digit(v[0]) || !is_digit(v[1]))
		return false;
	int min = (v[0] - '0') * 10 + (v[1] - '0');

	int sec = 0;
	if (dp_is_sep(&d)) {
		d.p++;
		if (dp_skip_lwsp(&d) < 0)
			return false;
		if (dp_token(&d, &v, &n) <= 0 || n != 2 || !is_digit(v[0]) || !is_digit(v[1]))
			return false;
		sec = (v[0] - '0') * 10 + (v[1] - '0');
	}

	int r = dp_token(&d, &v, &n);
	if (r < 0)
		return false;
	int zone = r == 0 ? 0 : zone_offset(v, n);

	/* A leap second counts as :59; any other value out of range makes
	   the date invalid (Dovecot's utc_mktime). */
	if (sec == 60)
		sec = 59;
	if (mday < 1 || mday > days_in_month(year, mon) || hour > 23 || min > 59 || sec > 59)
		return false;
	long long t = days_from_civil(year, mon + 1, mday) * 86400 + hour * 3600 + min * 60 + sec;
	if (t == -1)
		return false;   /* Dovecot cannot tell this second from an error */
	*t_r = (time_t)(t - (long long)zone * 60);
	*zone_r = zone;
	return true;
}

/* ------------------------------------------------------------------ */
/* Date parts                                                          */

static const char *const date_part_names[] = {
	"year", "month", "day", "date", "julian", "hour", "minute", "second", "time",
	"iso8601", "std11", "zone", "weekday", NULL
};

static int date_part_find(const char *name)
{
	for (int i = 0; date_part_names[i] != NULL; i++)
		if (strcasecmp(date_part_names[i], name) == 0)
			return i;
	return -1;
}

static const char *zone_string(struct arena *a, int zone)
{
	int off = zone < 0 ? -zone : zone;
	return arena_printf(a, "%c%02d%02d", zone < 0 ? '-' : '+', off / 60, off % 60);
}

static const char *date_part_value(struct arena *a, int part, const struct tm *tm, int zone)
{
	int year = tm->tm_year + 1900;
	switch (part) {
	case 0: return arena_printf(a, "%04d", year);
	case 1: return arena_printf(a, "%02d", tm->tm_mon + 1);
	case 2: return arena_printf(a, "%02d", tm->tm_mday);
	case 3: return arena_printf(a, "%04d-%02d-%02d", year, tm->tm_mon + 1, tm->tm_mday);
	case 4: {
		/* RFC 5260 Appendix A, with its erratum */
		int y = year, m = tm->tm_mon + 1;
		if (m > 2) {
			m -= 3;
		} else {
			m += 9;
			y--;
		}
		int c = y / 100, ya = y - c * 100;
		long jd = (long)c * 146097 / 4 + (long)ya * 1461 / 4 + (m * 153 + 2) / 5 + tm->tm_mday + 1721119;
		return arena_printf(a, "%ld", jd - 2400001);
	}
	case 5: return arena_printf(a, "%02d", tm->tm_hour);
	case 6: return arena_printf(a, "%02d", tm->tm_min);
	case 7: return arena_printf(a, "%02d", tm->tm_sec);
	case 8: return arena_printf(a, "%02d:%02d:%02d", tm->tm_hour, tm->tm_min, tm->tm_sec);
	case 9: {
		/* RFC 3339 date-time; a zero offset is "Z" (RFC 5260 4.2) */
		const char *z = "Z";
		if (zone != 0) {
			int off = zone < 0 ? -zone : zone;
			z = arena_printf(a, "%c%02d:%02d", zone < 0 ? '-' : '+', off / 60, off % 60);
		}
		return arena_printf(a, "%04d-%02d-%02dT%02d:%02d:%02d%s", year, tm->tm_mon + 1, tm->tm_mday,
				    tm->tm_hour, tm->tm_min, tm->tm_sec, z);
	}
	case 10:
		return arena_printf(a, "%s, %02d %s %04d %02d:%02d:%02d %s", weekday_names[tm->tm_wday],
				    tm->tm_mday, month_names[tm->tm_mon], year, tm->tm_hour, tm->tm_min,
				    tm->tm_sec, zone_string(a, zone));
	case 11: return zone_string(a, zone);
	case 12: return arena_printf(a, "%d", tm->tm_wday);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

static bool header_name_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 32 || (unsigned char)s[i] >= 127 || s[i] == ':')
			return false;
	return true;
}

static int date_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	struct arena *a = sieve_validator_arena(v);
	const struct sieve_ctag *zone = sieve_cmd_tag(c, "zone");
	if (zone != NULL && zone->val.type == SV_AT_STRING && sieve_cstring_is_const(&zone->val.strs[0])) {
		const struct sieve_cstring *z = &zone->val.strs[0];
		int off;
		if (!parse_zone_arg(z->data, z->len, &off))
			sieve_validator_warning(v, z->loc, "specified :zone argument '%s' is not a valid timezone",
						sieve_str_sanitize(a, z->data, z->len, 40));
	}
	unsigned part_pos = 0;
	if (strcmp(c->def->name, "date") == 0) {
		part_pos = 1;
		const struct sieve_cstring *h = &c->pos[0].strs[0];
		if (sieve_cstring_is_const(h) && !header_name_valid(h->data, h->len))
			sieve_validator_warning(v, h->loc, "specified header field name '%s' is invalid",
						sieve_str_sanitize(a, h->data, h->len, 80));
	}
	const struct sieve_cstring *part = &c->pos[part_pos].strs[0];
	if (sieve_cstring_is_const(part) && date_part_find(part->data) < 0)
		sieve_validator_warning(v, part->loc, "specified date part `%s' is not known",
					sieve_str_sanitize(a, part->data, part->len, 80));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Execution                                                           */

struct date_run_ctx {
	time_t now;
	int local_zone;
};

/* The time the script started and the local zone then, fixed for the
 * whole run so that every currentdate test agrees. */
static const struct date_run_ctx *date_run_ctx(struct sieve_runtime *rt)
{
	struct date_run_ctx *ctx = sieve_runtime_ext_ctx(rt, "date");
	if (ctx != NULL)
		return ctx;
	ctx = arena_alloc(rt->arena, sizeof(*ctx));
	const struct sieve_host *h = rt->params->host;
	ctx->now = h != NULL && h->now != NULL ? h->now(h->ctx) : time(NULL);
	struct tm lt;
	ctx->local_zone = localtime_r(&ctx->now, &lt) != NULL ? (int)(lt.tm_gmtoff / 60) : 0;
	sieve_runtime_set_ext_ctx(rt, "date", ctx);
	return ctx;
}

static int date_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	bool is_date = strcmp(a->def->name, "date") == 0;
	unsigned part_pos = is_date ? 1 : 0;
	const struct date_run_ctx *dc = date_run_ctx(rt);

	int want = DATE_ZONE_LOCAL;
	const struct sieve_exec_tag *zt = sieve_args_tag(a, "zone");
	if (zt != NULL) {
		struct sieve_string z = sieve_opd_string(rt, &zt->val);
		int off;
		if (parse_zone_arg(z.p, z.len, &off)) {
			want = off;
		} else if (zt->val.type == SV_OPD_VSTRING) {
			/* a constant one was reported when compiling */
			sieve_runtime_warning(rt, a,
				"specified :zone argument `%s' is not a valid timezone (using local zone)",
				sieve_str_sanitize(rt->arena, z.p, z.len, 40));
		}
	} else if (sieve_args_tag(a, "originalzone") != NULL) {
		want = DATE_ZONE_ORIGINAL;
	}

	struct sieve_string ps = sieve_opd_string(rt, &a->pos[part_pos]);
	int part = date_part_find(sieve_rt_strdup(rt, ps));
	if (part < 0) {
		sieve_runtime_warning(rt, a, "specified date part argument `%s' is not known",
				      sieve_str_sanitize(rt->arena, ps.p, ps.len, 40));
		rt->test_result = false;
		return SIEVE_OK;
	}

	time_t t = dc->now;
	int orig = dc->local_zone;
	bool have = true;
	if (is_date) {
		const char **vals;
		size_t nv = sieve_test_header_fields(rt, a, &a->pos[0], false, &vals);
		/* Only the first field counts (Pigeonhole). */
		have = false;
		if (nv > 0) {
			const char *s = strrchr(vals[0], ';');
			s = s != NULL ? s + 1 : vals[0];
			have = date_parse(s, strlen(s), &t, &orig);
		}
	}

	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, &a->pos[part_pos + 1]);
	if (have) {
		int zone = want == DATE_ZONE_LOCAL ? dc->local_zone : want == DATE_ZONE_ORIGINAL ? orig : want;
		time_t shifted = t + (time_t)zone * 60;
		struct tm tm;
		if (gmtime_r(&shifted, &tm) != NULL) {
			const char *v = date_part_value(rt->arena, part, &tm, zone);
			sieve_match_value(&m, v, strlen(v));
		}
	}
	rt->test_result = sieve_match_end(&m) > 0;
	return SIEVE_OK;
}

static const struct sieve_pos_arg date_args[] = {
	{ "header name", SV_AT_STRING }, { "date part", SV_AT_STRING }, { "key list", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_date = {
	"date", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, date_args, 3, date_tags,
	date_validate, date_execute, NULL };

static const struct sieve_pos_arg currentdate_args[] = {
	{ "date part", SV_AT_STRING }, { "key list", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_currentdate = {
	"currentdate", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, currentdate_args, 2, currentdate_tags,
	date_validate, date_execute, NULL };

static const struct sieve_command_def *const date_commands[] = { &cmd_date, &cmd_currentdate, NULL };

const struct sieve_extension_def sieve_ext_date = {
	.name = "date",
	.flags = SV_EF_DEFAULT_ON,
	.commands = date_commands,
};
