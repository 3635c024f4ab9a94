/* duplicate.c: the duplicate test (RFC 7352) and its deprecated
 * predecessor vnd.dovecot.duplicate (":value" instead of ":uniqueid").
 *
 *   duplicate [:handle string] [:header string / :uniqueid string]
 *             [:seconds number] [:last]
 *
 * The test asks the host's duplicate tracking whether the message's unique
 * id (Message-ID, another header, or :uniqueid) was seen within the period.
 * Recording it is deferred: the test adds a "duplicate_mark" action that
 * the result executes last, and only when everything else succeeded
 * (RFC 7352 section 3: a message whose delivery failed is not a
 * duplicate).  Within one run the same check gives the same answer. */
#include "sieve/ext/outgoing.h"
#include "lib/utf8.h"
#include <string.h>
#include <strings.h>

#define DUPLICATE_DEFAULT_PERIOD (12 * 3600)
#define DUPLICATE_DEFAULT_MAX_PERIOD (2 * 24 * 3600)

/* :header and :uniqueid are checked against each other in validate, so
 * they keep distinct ids (0): the generic duplicate-tag message would be
 * the wrong one. */
static const struct sieve_tag_def tag_handle = { "handle", SV_TC_NONE, 0, SV_AT_STRING, "string" };
static const struct sieve_tag_def tag_header = { "header", SV_TC_NONE, 0, SV_AT_STRING, "string" };
static const struct sieve_tag_def tag_uniqueid = { "uniqueid", SV_TC_NONE, 0, SV_AT_STRING, "string" };
static const struct sieve_tag_def tag_value = { "value", SV_TC_NONE, 0, SV_AT_STRING, "string" };
static const struct sieve_tag_def tag_seconds = { "seconds", SV_TC_NONE, 0, SV_AT_NUMBER, "number" };
static const struct sieve_tag_def tag_last = { "last", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def *const duplicate_tags[] = {
	&tag_handle, &tag_header, &tag_uniqueid, &tag_seconds, &tag_last, NULL
};
static const struct sieve_tag_def *const vnd_duplicate_tags[] = {
	&tag_handle, &tag_header, &tag_value, &tag_seconds, &tag_last, NULL
};

static bool header_name_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126 || c == ':')
			return false;
	}
	return true;
}

static int duplicate_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_config *cfg = sieve_validator_config(v);
	bool have_id = false;
	for (unsigned i = 0; i < c->ntags; i++) {
		struct sieve_ctag *t = &c->tags[i];
		if (t->def == &tag_header || t->def == &tag_uniqueid || t->def == &tag_value) {
			if (have_id) {
				sieve_validator_error(v, t->val.loc,
					"conflicting :header and %s arguments specified for the duplicate test",
					c->def->tags == duplicate_tags ? ":uniqueid" : ":value");
				return -1;
			}
			have_id = true;
			const struct sieve_cstring *s = &t->val.strs[0];
			/* An empty name is left alone, as Pigeonhole does. */
			if (t->def == &tag_header && sieve_cstring_is_const(s) && s->len > 0 &&
			    !header_name_valid(s->data, s->len))
				sieve_validator_warning(v, s->loc, "specified header field name '%.80s' is invalid",
							s->data);
		} else if (t->def == &tag_seconds) {
			uint64_t max = sieve_config_duration(cfg, "sieve_duplicate_max_period",
							     DUPLICATE_DEFAULT_MAX_PERIOD);
			if (max > 0 && t->val.number > max) {
				t->val.number = max;
				/* Pigeonhole 0.5.19 names the limit, not the value given. */
				sieve_validator_warning(v, t->val.loc, "specified :seconds value '%llu' is over the maximum",
							(unsigned long long)max);
			}
		}
	}
	return 0;
}

/* ---- the duplicate_mark action ---- */

struct dup_mark {
	const char *handle;        /* NULL without :handle */
	uint64_t period;
	bool last;
	unsigned char key[41];     /* "duplicate" + SHA-256 */
};

static int dup_mark_check_duplicate(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				    struct sieve_action *old, struct sieve_action *act)
{
	/* Identical checks are answered from the run's cache and add no
	   second action; different ones are all kept. */
	return 0;
}

static void dup_mark_print(const struct sieve_action *act, struct strbuf *out, bool *keep_r)
{
	const struct dup_mark *m = act->ctx;
	strbuf_printf(out, " * track%s duplicate", m->last ? " last" : "");
	if (m->handle != NULL) {
		strbuf_puts(out, " with handle: ");
		/* As str_sanitize(handle, 128). */
		utf8_sanitize_append(out, m->handle, 128, "...");
	}
	strbuf_putc(out, '\n');
}

static int dup_mark_execute(struct sieve_action *act, const struct sieve_run_params *p, struct diag_list *d)
{
	const struct dup_mark *m = act->ctx;
	if (p->host != NULL && p->host->duplicate_mark != NULL)
		p->host->duplicate_mark(p->host->ctx, m->key, sizeof(m->key),
					sieve_mail_now(p) + (time_t)m->period);
	return 0;
}

static const struct sieve_action_def act_duplicate_mark = {
	.name = "duplicate_mark",
	.flags = SV_AF_FINAL,
	.check_duplicate = dup_mark_check_duplicate,
	.print = dup_mark_print,
	.execute = dup_mark_execute,
};

/* ---- the test ---- */

struct dup_cached {
	unsigned char key[41];
	const char *handle;
	bool last, duplicate;
	struct dup_cached *next;
};

static void dup_key(const char *handle, size_t hlen, bool has_handle, const char *value, size_t vlen,
		    bool last, unsigned char key[41])
{
	struct sieve_sha256 h;
	sieve_sha256_init(&h);
	sieve_sha256_update(&h, "sieve duplicate", 15);
	sieve_sha256_update(&h, last ? "0" : "+", 1);
	if (has_handle) {
		sieve_sha256_update(&h, "h-", 2);
		sieve_sha256_update(&h, handle, hlen);
	} else {
		sieve_sha256_update(&h, "default", 7);
	}
	sieve_sha256_update(&h, value, vlen);
	memcpy(key, "duplicate", 9);
	sieve_sha256_final(&h, key + 9);
}

static int duplicate_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	const struct sieve_host *host = rt->params->host;
	const char *ext_name = a->def->tags == duplicate_tags ? "duplicate" : "vnd.dovecot.duplicate";
	const struct sieve_exec_tag *t;
	rt->test_result = false;

	uint64_t period = sieve_config_duration(rt->cfg, "sieve_duplicate_default_period", DUPLICATE_DEFAULT_PERIOD);
	if ((t = sieve_args_tag(a, "seconds")) != NULL)
		period = t->val.number;
	bool last = sieve_args_tag(a, "last") != NULL;
	struct sieve_string handle = { NULL, 0 };
	bool has_handle = false;
	if ((t = sieve_args_tag(a, "handle")) != NULL) {
		handle = sieve_opd_string(rt, &t->val);
		has_handle = true;
	}

	if (host == NULL || host->duplicate_check == NULL) {
		sieve_runtime_warning(rt, a, "duplicate test: duplicate checking not available in this context");
		return SIEVE_OK;
	}

	/* The value identifying the message. */
	struct sieve_string value = { NULL, 0 };
	if ((t = sieve_args_tag(a, "uniqueid")) != NULL || (t = sieve_args_tag(a, "value")) != NULL) {
		value = sieve_opd_string(rt, &t->val);
	} else {
		const char *hname = "message-id";
		if ((t = sieve_args_tag(a, "header")) != NULL)
			hname = sieve_rt_strdup(rt, sieve_opd_string(rt, &t->val));
		const char **vals;
		if (msg_header_values(rt->msg, hname, true, &vals) > 0) {
			value.p = vals[0];
			value.len = strlen(vals[0]);
		}
	}
	if (value.p == NULL)
		return SIEVE_OK;

	unsigned char key[41];
	dup_key(handle.p, handle.len, has_handle, value.p, value.len, last, key);

	/* Asked before in this run: same answer, no second mark. */
	struct dup_cached *cache = sieve_runtime_ext_ctx(rt, ext_name);
	for (struct dup_cached *c = cache; c != NULL; c = c->next) {
		if (memcmp(c->key, key, sizeof(key)) == 0 && c->last == last &&
		    ((c->handle == NULL && !has_handle) ||
		     (c->handle != NULL && has_handle && strlen(c->handle) == handle.len &&
		      memcmp(c->handle, handle.p, handle.len) == 0))) {
			rt->test_result = c->duplicate;
			return SIEVE_OK;
		}
	}

	bool dup = host->duplicate_check(host->ctx, key, sizeof(key)) > 0;
	if (!dup && last) {
		/* With :last, a record made without :last counts too. */
		unsigned char key2[41];
		dup_key(handle.p, handle.len, has_handle, value.p, value.len, false, key2);
		dup = host->duplicate_check(host->ctx, key2, sizeof(key2)) > 0;
	}

	/* RFC 7352 section 3.1: a duplicate is only re-marked with :last. */
	if (!dup || last) {
		struct dup_mark *m = arena_alloc(rt->result->arena, sizeof(*m));
		if (has_handle)
			m->handle = arena_memdup(rt->result->arena, handle.p, handle.len);
		m->period = period;
		m->last = last;
		memcpy(m->key, key, sizeof(key));
		struct sieve_action *act = sieve_action_new(rt, &act_duplicate_mark, a);
		act->ctx = m;
		if (sieve_result_add(rt, a, act, false) < 0)
			return SIEVE_FAILURE;
	}

	struct dup_cached *c = arena_alloc(rt->arena, sizeof(*c));
	memcpy(c->key, key, sizeof(key));
	if (has_handle)
		c->handle = arena_memdup(rt->arena, handle.p, handle.len);
	c->last = last;
	c->duplicate = dup;
	c->next = cache;
	sieve_runtime_set_ext_ctx(rt, ext_name, c);
	rt->test_result = dup;
	return SIEVE_OK;
}

static const struct sieve_command_def tst_duplicate = {
	"duplicate", SV_CMD_TEST, 0, NULL, 0, duplicate_tags, duplicate_validate, duplicate_execute, NULL };
static const struct sieve_command_def tst_vnd_duplicate = {
	"duplicate", SV_CMD_TEST, 0, NULL, 0, vnd_duplicate_tags, duplicate_validate, duplicate_execute, NULL };

static const struct sieve_command_def *const duplicate_commands[] = { &tst_duplicate, NULL };
static const struct sieve_command_def *const vnd_duplicate_commands[] = { &tst_vnd_duplicate, NULL };

/* The two cannot be used together; reported at the require of the
 * second one. */
static int duplicate_on_require(struct sieve_validator *v, const struct ast_node *req)
{
	if (sieve_validator_ext_required(v, "duplicate") && sieve_validator_ext_required(v, "vnd.dovecot.duplicate")) {
		sieve_validator_error(v, req->loc, "the (deprecated) vnd.dovecot.duplicate extension "
				      "cannot be used together with the duplicate extension");
		return -1;
	}
	return 0;
}

const struct sieve_extension_def sieve_ext_duplicate = {
	.name = "duplicate",
	.flags = SV_EF_DEFAULT_ON,
	.commands = duplicate_commands,
	.on_require = duplicate_on_require,
};

/* Deprecated: off by default, as in Pigeonhole; the testsuite has it. */
const struct sieve_extension_def sieve_ext_vnd_duplicate = {
	.name = "vnd.dovecot.duplicate",
	.flags = SV_EF_TESTSUITE_ON,
	.commands = vnd_duplicate_commands,
	.on_require = duplicate_on_require,
};
