/* testsuite.c: the vnd.dovecot.testsuite extension, so that Pigeonhole's
 * own .svtest files run against Tamis unchanged.  `test "name" { ... }`
 * blocks print "N: Test 'name' SUCCEEDED" or "... FAILED: reason"; the
 * test_* commands set the message and envelope, compile and run helper
 * scripts, inspect their errors and actions, execute results into a
 * throw-away store and capture outgoing mail (see research notes 2.4). */
#include "sieve/engine.h"
#include "sieve/testsuite.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct ts_mail {
	char *env_from;
	char **rcpts;
	size_t nrcpts;
	char *data;
	size_t len;
};

/* One duplicate-tracking record: in memory, cleared by test_result_reset. */
struct ts_dup {
	unsigned char *key;
	size_t keylen;
	time_t until;
};

/* One IMAP METADATA entry (mailbox NULL: a server annotation). */
struct ts_meta {
	char *mailbox;
	char *entry;                 /* lower case: entry names are case-insensitive */
	char *value;
};

struct testsuite {
	const struct testsuite_store *store;
	FILE *out;
	char *dir;                   /* folder of the .svtest */
	char *tmpdir;
	struct sieve_config *cfg;    /* active settings */
	struct sieve_config *pending;/* test_config_set, applied on reload */
	struct arena *msg_arena;
	struct message *msg;
	char *env_from, *env_to, *env_orig_to, *env_auth;
	struct sieve_envelope env;
	struct sieve_binary *compiled;
	struct diag_list errors;
	struct sieve_result *result;
	struct ts_mail *outbox;
	size_t noutbox, outbox_cap;
	struct ts_dup *dups;         /* duplicate tracking (vacation, duplicate) */
	size_t ndups, dups_cap;
	struct sieve_host host;
	struct sieve_run_params run;
	/* test_imap_metadata_set: IMAP METADATA entries */
	struct ts_meta *meta;
	size_t nmeta, meta_cap;
	/* current test block */
	int ntests, nfailed;
	const char *test_name;
	bool in_test;
	bool failed_current;
	size_t test_blockend_pc;
	char *include_path;          /* last script include_load found */
};

/* ---- message and envelope ---- */

static const char default_message[] =
	"From: sender@example.com\r\n"
	"To: recipient@example.org\r\n"
	"Subject: Frop!\r\n"
	"\r\n"
	"Friep!\r\n";

static char *xstrdup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void ts_set_env(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup_or_null(v);
}

static void ts_refresh_env(struct testsuite *ts)
{
	ts->env.from = ts->env_from;
	ts->env.to = ts->env_to;
	ts->env.orig_to = ts->env_orig_to != NULL ? ts->env_orig_to : ts->env_to;
	ts->env.auth = ts->env_auth;
}

/* First address of the first of the named headers, or NULL. */
static const char *first_addr(struct testsuite *ts, const char *const *names)
{
	for (; *names; names++) {
		const char **vals;
		if (msg_header_values(ts->msg, *names, false, &vals) == 0)
			continue;
		struct msg_address *a;
		size_t n;
		(void)msg_parse_address_list(ts->msg_arena, vals[0], &a, &n);
		if (n > 0 && a[0].local != NULL) {
			if (a[0].domain != NULL)
				return arena_printf(ts->msg_arena, "%s@%s", a[0].local, a[0].domain);
			return a[0].local;
		}
	}
	return NULL;
}

static void ts_set_message(struct testsuite *ts, const char *data, size_t len)
{
	arena_unref(&ts->msg_arena);
	ts->msg_arena = arena_new(16384);
	char *copy = arena_memdup(ts->msg_arena, data, len);
	ts->msg = msg_parse(ts->msg_arena, copy, len);
	static const char *const rcpt_hdrs[] = { "envelope-to", "to", NULL };
	static const char *const sender_hdrs[] = { "return-path", "sender", "from", NULL };
	const char *to = first_addr(ts, rcpt_hdrs);
	const char *from = first_addr(ts, sender_hdrs);
	ts_set_env(&ts->env_to, to != NULL ? to : "recipient@example.com");
	ts_set_env(&ts->env_from, from != NULL ? from : "sender@example.com");
	ts_set_env(&ts->env_orig_to, NULL);
	ts_set_env(&ts->env_auth, NULL);
	ts_refresh_env(ts);
	ts->run.msg = ts->msg;
	ts->run.mail_flags = NULL;
	ts->run.mail_nflags = 0;
	/* A new message drops the edits (editheader) made to the old one:
	   the implicit keep and later runs start from this one. */
	if (ts->result != NULL) {
		ts->result->msg = NULL;
		ts->result->before_mime_edit = NULL;
	}
}

/* ---- outbox (the fake SMTP) ---- */

static int ts_send(void *ctx, const struct sieve_outgoing *o, const char **error_r)
{
	struct testsuite *ts = ctx;
	/* As Pigeonhole's testsuite: one captured message per envelope
	   recipient, so that test_message :smtp N sees each of them. */
	for (size_t r = 0; r < o->nrcpts; r++) {
		if (ts->noutbox == ts->outbox_cap) {
			ts->outbox_cap = ts->outbox_cap ? ts->outbox_cap * 2 : 8;
			ts->outbox = realloc(ts->outbox, ts->outbox_cap * sizeof(*ts->outbox));
			if (ts->outbox == NULL)
				abort();
		}
		struct ts_mail *m = &ts->outbox[ts->noutbox++];
		m->env_from = strdup(o->env_from != NULL ? o->env_from : "");
		m->nrcpts = 1;
		m->rcpts = calloc(2, sizeof(char *));
		m->rcpts[0] = strdup(o->rcpts[r]);
		m->data = malloc(o->len + 1);
		memcpy(m->data, o->data, o->len);
		m->data[o->len] = '\0';
		m->len = o->len;
	}
	return 0;
}

static void ts_outbox_clear(struct testsuite *ts)
{
	for (size_t i = 0; i < ts->noutbox; i++) {
		free(ts->outbox[i].env_from);
		for (size_t j = 0; j < ts->outbox[i].nrcpts; j++)
			free(ts->outbox[i].rcpts[j]);
		free(ts->outbox[i].rcpts);
		free(ts->outbox[i].data);
	}
	ts->noutbox = 0;
}

/* ---- duplicate tracking ---- */

static int ts_dup_check(void *ctx, const void *key, size_t keylen)
{
	struct testsuite *ts = ctx;
	time_t now = time(NULL);
	for (size_t i = 0; i < ts->ndups; i++)
		if (ts->dups[i].keylen == keylen && memcmp(ts->dups[i].key, key, keylen) == 0)
			return ts->dups[i].until > now ? 1 : 0;
	return 0;
}

static void ts_dup_mark(void *ctx, const void *key, size_t keylen, time_t until)
{
	struct testsuite *ts = ctx;
	for (size_t i = 0; i < ts->ndups; i++) {
		if (ts->dups[i].keylen == keylen && memcmp(ts->dups[i].key, key, keylen) == 0) {
			ts->dups[i].until = until;
			return;
		}
	}
	if (ts->ndups == ts->dups_cap) {
		ts->dups_cap = ts->dups_cap ? ts->dups_cap * 2 : 8;
		ts->dups = realloc(ts->dups, ts->dups_cap * sizeof(*ts->dups));
		if (ts->dups == NULL)
			abort();
	}
	struct ts_dup *d = &ts->dups[ts->ndups++];
	d->key = malloc(keylen ? keylen : 1);
	if (d->key == NULL)
		abort();
	memcpy(d->key, key, keylen);
	d->keylen = keylen;
	d->until = until;
}

static void ts_dups_clear(struct testsuite *ts)
{
	for (size_t i = 0; i < ts->ndups; i++)
		free(ts->dups[i].key);
	ts->ndups = 0;
}

static int ts_store(void *ctx, const char *mailbox, bool create, const struct message *msg,
		    const char *const *flags, size_t nflags, const char **error_r)
{
	struct testsuite *ts = ctx;
	if (ts->store == NULL || ts->store->store == NULL) {
		*error_r = "no mail store";
		return -1;
	}
	return ts->store->store(ts->store->ctx, mailbox, create, msg, flags, nflags, error_r);
}

static int ts_mailbox_exists(void *ctx, const char *mailbox)
{
	struct testsuite *ts = ctx;
	if (ts->store == NULL || ts->store->mailbox_exists == NULL)
		return -1;
	return ts->store->mailbox_exists(ts->store->ctx, mailbox);
}

/* include: personal scripts from <testdir>/included, global ones from
 * <testdir>/included-global, unless the settings name other locations
 * (sieve / sieve_dir, sieve_global / sieve_global_dir; "dict:file:"). */
static int ts_include_load(void *ctx, bool global, const char *name, struct strbuf *src_r,
			   const char **path_r, const char **error_r)
{
	struct testsuite *ts = ctx;
	const char *loc = sieve_include_location(ts->cfg, global);
	char *deflt = NULL;
	if (loc == NULL) {
		if (asprintf(&deflt, "%s/%s", ts->dir, global ? "included-global" : "included") < 0)
			abort();
		loc = deflt;
	}
	free(ts->include_path);
	ts->include_path = NULL;
	int r = sieve_include_location_load(loc, name, src_r, &ts->include_path, error_r);
	*path_r = ts->include_path;
	free(deflt);
	return r;
}

static time_t ts_now(void *ctx)
{
	return time(NULL);
}

/* ---- helpers ---- */

static struct testsuite *TS(struct sieve_runtime *rt)
{
	return rt->testsuite;
}

static void ts_fail(struct sieve_runtime *rt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ts_fail(struct sieve_runtime *rt, const char *fmt, ...)
{
	struct testsuite *ts = TS(rt);
	va_list ap;
	va_start(ap, fmt);
	if (ts->in_test) {
		fprintf(ts->out, "%2d: Test '%s' FAILED: ", ts->ntests, ts->test_name);
		vfprintf(ts->out, fmt, ap);
		fputc('\n', ts->out);
		ts->nfailed++;
		ts->failed_current = true;
	} else {
		fprintf(ts->out, "XX: Test '%s' FAILED: ", "(top level)");
		vfprintf(ts->out, fmt, ap);
		fputc('\n', ts->out);
		ts->nfailed++;
	}
	va_end(ap);
}

static char *ts_path(struct testsuite *ts, const char *rel)
{
	size_t n = strlen(ts->dir) + strlen(rel) + 2;
	char *p = malloc(n);
	if (rel[0] == '/')
		snprintf(p, n, "%s", rel);
	else
		snprintf(p, n, "%s/%s", ts->dir, rel);
	return p;
}

static char *script_name_of(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b != NULL ? b + 1 : path;
	char *s = strdup(b);
	char *dot = strrchr(s, '.');
	if (dot != NULL && (strcmp(dot, ".sieve") == 0 || strcmp(dot, ".svtest") == 0))
		*dot = '\0';
	return s;
}

/* ---- commands ---- */

static int test_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	struct sieve_string name = sieve_opd_string(rt, &a->pos[0]);
	ts->ntests++;
	ts->test_name = sieve_rt_strdup(rt, name);
	ts->in_test = true;
	ts->failed_current = false;
	ts->test_blockend_pc = a->block_end - 5;
	/* A test_fail inside a foreverypart loop left the loop by a jump: a
	   new test starts outside any loop. */
	rt->loop_depth = 0;
	/* As Pigeonhole: starting a test block resets nothing; the result and
	   the outbox carry over until test_result_reset. */
	return SIEVE_OK;
}

static int test_block_end(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	if (ts->in_test && !ts->failed_current)
		fprintf(ts->out, "%2d: Test '%s' SUCCEEDED\n", ts->ntests, ts->test_name);
	ts->in_test = false;
	return SIEVE_OK;
}

static int test_fail_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	struct sieve_string reason = sieve_opd_string(rt, &a->pos[0]);
	ts_fail(rt, "%.*s", (int)reason.len, reason.p);
	if (!ts->in_test)
		return SIEVE_OK;
	/* Continue at the test block's BLOCKEND (5 bytes before the address
	   after it), which closes the block. */
	rt->pc = ts->test_blockend_pc;
	return SIEVE_OK;
}

static int test_set_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	struct sieve_string obj = sieve_opd_string(rt, &a->pos[0]);
	struct sieve_string val = sieve_opd_string(rt, &a->pos[1]);
	const char *o = sieve_rt_strdup(rt, obj);
	const char *v = sieve_rt_strdup(rt, val);
	if (strcasecmp(o, "message") == 0) {
		ts_set_message(ts, val.p, val.len);
		rt->msg = ts->msg;
	} else if (strcasecmp(o, "envelope.from") == 0) {
		ts_set_env(&ts->env_from, v);
	} else if (strcasecmp(o, "envelope.to") == 0) {
		ts_set_env(&ts->env_to, v);
	} else if (strcasecmp(o, "envelope.orig_to") == 0) {
		ts_set_env(&ts->env_orig_to, v);
	} else if (strcasecmp(o, "envelope.auth") == 0) {
		ts_set_env(&ts->env_auth, v);
	} else {
		sieve_runtime_error(rt, a, "test_set: unknown object '%s'", o);
		return SIEVE_FAILURE;
	}
	ts_refresh_env(ts);
	return SIEVE_OK;
}

static int test_set_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_cstring *s = &c->pos[0].strs[0];
	if (!sieve_cstring_is_const(s))
		return 0;
	static const char *const known[] = {
		"message", "envelope.from", "envelope.to", "envelope.orig_to", "envelope.auth", NULL };
	for (const char *const *k = known; *k; k++)
		if (strcasecmp(*k, s->data) == 0)
			return 0;
	const char *dot = strchr(s->data, '.');
	if (dot != NULL)
		sieve_validator_error(v, s->loc, "member '%s' does not exist for testsuite object '%.*s'",
				      dot + 1, (int)(dot - s->data), s->data);
	else
		sieve_validator_error(v, s->loc, "unknown testsuite object '%s'", s->data);
	return -1;
}

static int test_config_set_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	const char *k = sieve_rt_strdup(rt, sieve_opd_string(rt, &a->pos[0]));
	const char *v = sieve_rt_strdup(rt, sieve_opd_string(rt, &a->pos[1]));
	sieve_config_set(ts->pending, k, v);
	return SIEVE_OK;
}

static int test_config_unset_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	const char *k = sieve_rt_strdup(rt, sieve_opd_string(rt, &a->pos[0]));
	sieve_config_unset(ts->pending, k);
	return SIEVE_OK;
}

static int test_config_reload_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	const struct sieve_exec_tag *ext = sieve_args_tag(a, "extension");
	if (ext != NULL) {
		const char *name = sieve_rt_strdup(rt, sieve_opd_string(rt, &ext->val));
		if (sieve_extension_index(name) < 0) {
			ts_fail(rt, "ERROR: Unknown extension '%s'", name);
			return SIEVE_OK;
		}
	}
	/* The settings object is shared with the run parameters: copy the
	   pending values over the active ones in place. */
	sieve_config_unref(&ts->cfg);
	ts->cfg = sieve_config_clone(ts->pending);
	ts->run.cfg = ts->cfg;
	rt->cfg = ts->cfg;
	return SIEVE_OK;
}

static int test_result_reset_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	sieve_result_reset(ts->result);
	ts_outbox_clear(ts);
	ts_dups_clear(ts);
	return SIEVE_OK;
}

static int test_result_print_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	struct strbuf b = STRBUF_INIT;
	sieve_result_print(ts->result, &b, NULL);
	fprintf(ts->out, "\n--%s--\n\n", b.data ? b.data : "");
	strbuf_free(&b);
	return SIEVE_OK;
}

static int test_message_print_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	fprintf(ts->out, "\n--MESSAGE: \n%.*s\n--MESSAGE--\n", (int)ts->msg->size, ts->msg->data);
	return SIEVE_OK;
}

static int test_mailbox_create_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	const char *name = sieve_rt_strdup(rt, sieve_opd_string(rt, &a->pos[0]));
	const char *err = "no mail store";
	if (ts->store == NULL || ts->store->mailbox_create == NULL ||
	    ts->store->mailbox_create(ts->store->ctx, name, &err) < 0) {
		if (ts->store != NULL && ts->store->mailbox_exists != NULL &&
		    ts->store->mailbox_exists(ts->store->ctx, name) > 0)
			return SIEVE_OK;
		ts_fail(rt, "failed to create mailbox '%s': %s", name, err);
	}
	return SIEVE_OK;
}

static int test_mailbox_delete_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	const char *name = sieve_rt_strdup(rt, sieve_opd_string(rt, &a->pos[0]));
	const char *err = "no mail store";
	if (ts->store == NULL || ts->store->mailbox_delete == NULL ||
	    ts->store->mailbox_delete(ts->store->ctx, name, &err) < 0)
		ts_fail(rt, "failed to delete mailbox '%s': %s", name, err);
	return SIEVE_OK;
}

static bool is_test_node(const struct sieve_exec_args *a, struct sieve_runtime *rt)
{
	/* A hybrid runs as a test when the opcode was TEST. */
	return rt->bin->code[a->pc] == SV_OP_TEST;
}

static int test_message_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	bool as_test = is_test_node(a, rt);
	unsigned idx = (unsigned)a->pos[0].number;
	const struct sieve_exec_tag *folder = sieve_args_tag(a, "folder");
	if (folder == NULL) {
		if (idx >= ts->noutbox) {
			if (!as_test)
				ts_fail(rt, "no outgoing SMTP message with index %u", idx);
			rt->test_result = false;
			return SIEVE_OK;
		}
		struct ts_mail *m = &ts->outbox[idx];
		ts_set_message(ts, m->data, m->len);
		ts_set_env(&ts->env_from, m->env_from);
		ts_set_env(&ts->env_to, m->nrcpts > 0 ? m->rcpts[0] : NULL);
		ts_refresh_env(ts);
	} else {
		const char *box = sieve_rt_strdup(rt, sieve_opd_string(rt, &folder->val));
		const char *data;
		size_t len;
		struct arena *tmp = arena_new(8192);
		if (ts->store == NULL || ts->store->folder_message == NULL ||
		    ts->store->folder_message(ts->store->ctx, box, idx, tmp, &data, &len) < 0) {
			arena_unref(&tmp);
			if (!as_test)
				ts_fail(rt, "no message in folder '%s' with index %u", box, idx);
			rt->test_result = false;
			return SIEVE_OK;
		}
		ts_set_message(ts, data, len);
		arena_unref(&tmp);
		/* A stored message has flags: imap4flags starts from them. */
		const char **flags;
		size_t nflags;
		if (ts->store->folder_message_flags != NULL &&
		    ts->store->folder_message_flags(ts->store->ctx, box, idx, ts->msg_arena, &flags, &nflags) == 0) {
			ts->run.mail_flags = flags;
			ts->run.mail_nflags = nflags;
		}
	}
	rt->msg = ts->msg;
	rt->test_result = true;
	return SIEVE_OK;
}

static int test_message_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	if (c->ntags != 1) {
		sieve_validator_error(v, c->node->loc,
			"the test_message command requires either the :smtp or the :folder tag to be specified");
		return -1;
	}
	return 0;
}

static struct sieve_binary *ts_compile_path(struct testsuite *ts, const char *rel);

static int test_script_compile_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	const char *rel = sieve_rt_strdup(rt, sieve_opd_string(rt, &a->pos[0]));
	diag_clear(&ts->errors);
	sieve_binary_unref(&ts->compiled);
	ts->compiled = ts_compile_path(ts, rel);
	rt->test_result = ts->compiled != NULL;
	return SIEVE_OK;
}

static int test_script_run_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	rt->test_result = false;
	if (ts->compiled == NULL)
		return SIEVE_OK;
	if (sieve_args_tag(a, "append_result") == NULL)
		sieve_result_reset(ts->result);
	diag_clear(&ts->errors);
	ts->run.cfg = ts->cfg;
	ts->run.msg = ts->msg;
	int st = sieve_run(ts->compiled, &ts->run, ts->result, &ts->errors);
	rt->test_result = st > 0;
	return SIEVE_OK;
}

static int test_result_execute_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	diag_clear(&ts->errors);
	ts->run.cfg = ts->cfg;
	ts->run.msg = ts->msg;
	bool keep;
	int st = sieve_result_execute(ts->result, &ts->run, &ts->errors, &keep);
	rt->test_result = st > 0;
	return SIEVE_OK;
}

/* test_error and test_result_action share the matching of a list of
 * strings with optional :index. */
static void match_strings(struct sieve_runtime *rt, const struct sieve_exec_args *a,
			  const char *const *vals, size_t n)
{
	struct sieve_match_ctx m;
	sieve_match_begin(&m, rt, a, &a->pos[0]);
	const struct sieve_exec_tag *idx = sieve_args_tag(a, "index");
	if (idx != NULL) {
		uint64_t i = idx->val.number;
		if (i >= 1 && i <= n)
			sieve_match_value(&m, vals[i - 1], strlen(vals[i - 1]));
	} else {
		for (size_t i = 0; i < n; i++)
			if (sieve_match_value(&m, vals[i], strlen(vals[i])) > 0)
				break;
	}
	rt->test_result = sieve_match_end(&m) > 0;
}

static int test_error_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	const char **vals = arena_alloc(rt->arena, sizeof(char *) * (ts->errors.count + 1));
	size_t n = 0;
	for (size_t i = 0; i < ts->errors.count; i++)
		if (ts->errors.items[i].level == DIAG_ERROR)
			vals[n++] = arena_strdup(rt->arena, ts->errors.items[i].msg);
	match_strings(rt, a, vals, n);
	return SIEVE_OK;
}

static int test_result_action_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	size_t n = sieve_result_action_count(ts->result);
	const char **vals = arena_alloc(rt->arena, sizeof(char *) * (n + 1));
	for (size_t i = 0; i < n; i++)
		vals[i] = sieve_result_action_name(ts->result, i);
	match_strings(rt, a, vals, n);
	return SIEVE_OK;
}

/* test_multiscript: compiles each script (relative to the .svtest) and
 * runs the list as a sieve_before-style sequence on the current message,
 * executing the result into the test store (Pigeonhole's
 * testsuite_script_multiscript). */
static struct sieve_binary *ts_compile_path(struct testsuite *ts, const char *rel)
{
	char *path = ts_path(ts, rel);
	char *name = script_name_of(path);
	struct sieve_binary *b = NULL;
	struct strbuf src = STRBUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		diag_add(&ts->errors, DIAG_ERROR, name, 0, 0, "failed to open script: %s", strerror(errno));
	} else {
		(void)strbuf_read_fd(&src, fd, SIZE_MAX);
		close(fd);
		struct sieve_compile_params p = {
			.script_name = name, .script_path = path, .cfg = ts->cfg,
			.testsuite = true, .testsuite_dir = ts->dir, .host = &ts->host,
		};
		b = sieve_compile(src.data ? src.data : "", src.len, &p, &ts->errors);
	}
	strbuf_free(&src);
	free(path);
	free(name);
	return b;
}

static int test_multiscript_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	struct sieve_string *scripts;
	size_t n = sieve_opd_strlist(rt, &a->pos[0], &scripts);
	diag_clear(&ts->errors);
	ts->run.cfg = ts->cfg;
	ts->run.msg = ts->msg;
	struct sieve_multiscript *ms = sieve_multiscript_start(&ts->run, NULL);
	bool ok = true, more = true;
	for (size_t i = 0; i < n && more; i++) {
		struct sieve_binary *b = ts_compile_path(ts, sieve_rt_strdup(rt, scripts[i]));
		if (b == NULL) {
			ok = false;
			break;
		}
		more = sieve_multiscript_run(ms, b, &ts->errors);
		sieve_binary_unref(&b);
	}
	rt->test_result = sieve_multiscript_finish(&ms, &ts->errors, SIEVE_OK, NULL) > 0 && ok;
	return SIEVE_OK;
}

static int test_binary_save_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	const char *name = sieve_rt_strdup(rt, sieve_opd_string(rt, &a->pos[0]));
	if (ts->compiled == NULL) {
		ts_fail(rt, "no compiled binary to save as '%s'", name);
		return SIEVE_OK;
	}
	char *path = NULL;
	if (asprintf(&path, "%s/%s.tmsbin", ts->tmpdir, name) < 0)
		abort();
	const char *err;
	if (strchr(name, '/') != NULL || sieve_binary_save(ts->compiled, path, &err) < 0)
		ts_fail(rt, "failed to save binary '%s'", name);
	free(path);
	return SIEVE_OK;
}

static int test_binary_load_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	const char *name = sieve_rt_strdup(rt, sieve_opd_string(rt, &a->pos[0]));
	char *path = NULL;
	if (asprintf(&path, "%s/%s.tmsbin", ts->tmpdir, name) < 0)
		abort();
	const char *err = "invalid name";
	sieve_binary_unref(&ts->compiled);
	if (strchr(name, '/') == NULL)
		ts->compiled = sieve_binary_read(path, &err);
	if (ts->compiled == NULL)
		ts_fail(rt, "failed to load binary '%s': %s", name, err);
	free(path);
	return SIEVE_OK;
}

/* ---- IMAP METADATA (mboxmetadata, servermetadata) ---- */

/* From metadata.c: RFC 5464 entry name syntax. */
bool sieve_metadata_entry_valid(const char *name, size_t len, const char **why_r);

static struct ts_meta *ts_meta_find(struct testsuite *ts, const char *mailbox, const char *entry)
{
	for (size_t i = 0; i < ts->nmeta; i++) {
		struct ts_meta *m = &ts->meta[i];
		if ((m->mailbox == NULL) != (mailbox == NULL))
			continue;
		if (mailbox != NULL && strcmp(m->mailbox, mailbox) != 0 &&
		    !(strcasecmp(m->mailbox, "INBOX") == 0 && strcasecmp(mailbox, "INBOX") == 0))
			continue;
		if (strcasecmp(m->entry, entry) == 0)
			return m;
	}
	return NULL;
}

static int ts_metadata_get(void *ctx, const char *mailbox, const char *entry, struct arena *a,
			   const char **value_r, const char **error_r)
{
	struct ts_meta *m = ts_meta_find(ctx, mailbox, entry);
	if (m == NULL)
		return 0;
	*value_r = arena_strdup(a, m->value);
	return 1;
}

static void ts_meta_clear(struct testsuite *ts)
{
	for (size_t i = 0; i < ts->nmeta; i++) {
		free(ts->meta[i].mailbox);
		free(ts->meta[i].entry);
		free(ts->meta[i].value);
	}
	free(ts->meta);
	ts->meta = NULL;
	ts->nmeta = ts->meta_cap = 0;
}

static int test_imap_metadata_set_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct testsuite *ts = TS(rt);
	const struct sieve_exec_tag *mt = sieve_args_tag(a, "mailbox");
	const char *mailbox = mt != NULL ? sieve_rt_strdup(rt, sieve_opd_string(rt, &mt->val)) : NULL;
	struct sieve_string entry = sieve_opd_string(rt, &a->pos[0]);
	const char *value = sieve_rt_strdup(rt, sieve_opd_string(rt, &a->pos[1]));
	const char *why;
	if (!sieve_metadata_entry_valid(entry.p, entry.len, &why)) {
		ts_fail(rt, "failed to set IMAP metadata: specified annotation name '%.*s' is invalid: %s",
			(int)(entry.len > 256 ? 256 : entry.len), entry.p, why);
		return SIEVE_OK;
	}
	char *lc = strdup(sieve_rt_strdup(rt, entry));
	if (lc == NULL)
		abort();
	for (char *c = lc; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	struct ts_meta *m = ts_meta_find(ts, mailbox, lc);
	if (m != NULL) {
		free(lc);
	} else {
		if (ts->nmeta == ts->meta_cap) {
			ts->meta_cap = ts->meta_cap ? ts->meta_cap * 2 : 8;
			ts->meta = realloc(ts->meta, ts->meta_cap * sizeof(*ts->meta));
			if (ts->meta == NULL)
				abort();
		}
		m = &ts->meta[ts->nmeta++];
		m->mailbox = xstrdup_or_null(mailbox);
		m->entry = lc;
		m->value = NULL;
	}
	free(m->value);
	m->value = strdup(value);
	return SIEVE_OK;
}

/* ---- definitions ---- */

static const struct sieve_pos_arg one_string[] = { { "string", SV_AT_STRING } };
static const struct sieve_pos_arg two_strings[] = { { "name", SV_AT_STRING }, { "value", SV_AT_STRING } };
static const struct sieve_pos_arg key_list[] = { { "key list", SV_AT_STRLIST } };
static const struct sieve_pos_arg index_arg[] = { { "index", SV_AT_NUMBER } };

static const struct sieve_tag_def tag_extension = { "extension", SV_TC_NONE, 0, SV_AT_STRING, "extension" };
static const struct sieve_tag_def *const reload_tags[] = { &tag_extension, NULL };
static const struct sieve_tag_def tag_smtp = { "smtp", SV_TC_NONE, 7, 0, NULL };
static const struct sieve_tag_def tag_folder = { "folder", SV_TC_NONE, 7, SV_AT_STRING, "folder" };
static const struct sieve_tag_def *const message_tags[] = { &tag_smtp, &tag_folder, NULL };
static const struct sieve_tag_def tag_append = { "append_result", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def *const run_tags[] = { &tag_append, NULL };
static const struct sieve_tag_def tag_index = { "index", SV_TC_NONE, 0, SV_AT_NUMBER, "index" };
static const struct sieve_tag_def *const index_tags[] = { &tag_index, NULL };

static const struct sieve_command_def cmd_test = {
	"test", SV_CMD_COMMAND, SV_CF_BLOCK_REQUIRED, one_string, 1, NULL, NULL, test_execute, test_block_end };
static const struct sieve_command_def cmd_test_fail = {
	"test_fail", SV_CMD_COMMAND, 0, one_string, 1, NULL, NULL, test_fail_execute, NULL };
static const struct sieve_command_def cmd_test_set = {
	"test_set", SV_CMD_COMMAND, 0, two_strings, 2, NULL, test_set_validate, test_set_execute, NULL };
static const struct sieve_command_def cmd_test_config_set = {
	"test_config_set", SV_CMD_COMMAND, 0, two_strings, 2, NULL, NULL, test_config_set_execute, NULL };
static const struct sieve_command_def cmd_test_config_unset = {
	"test_config_unset", SV_CMD_COMMAND, 0, one_string, 1, NULL, NULL, test_config_unset_execute, NULL };
static const struct sieve_command_def cmd_test_config_reload = {
	"test_config_reload", SV_CMD_COMMAND, 0, NULL, 0, reload_tags, NULL, test_config_reload_execute, NULL };
static const struct sieve_command_def cmd_test_result_reset = {
	"test_result_reset", SV_CMD_COMMAND, 0, NULL, 0, NULL, NULL, test_result_reset_execute, NULL };
static const struct sieve_command_def cmd_test_result_print = {
	"test_result_print", SV_CMD_COMMAND, 0, NULL, 0, NULL, NULL, test_result_print_execute, NULL };
static const struct sieve_command_def cmd_test_message_print = {
	"test_message_print", SV_CMD_COMMAND, 0, NULL, 0, NULL, NULL, test_message_print_execute, NULL };
static const struct sieve_command_def cmd_test_mailbox_create = {
	"test_mailbox_create", SV_CMD_COMMAND, 0, one_string, 1, NULL, NULL, test_mailbox_create_execute, NULL };
static const struct sieve_command_def cmd_test_mailbox_delete = {
	"test_mailbox_delete", SV_CMD_COMMAND, 0, one_string, 1, NULL, NULL, test_mailbox_delete_execute, NULL };
static const struct sieve_command_def cmd_test_message = {
	"test_message", SV_CMD_HYBRID, 0, index_arg, 1, message_tags, test_message_validate, test_message_execute, NULL };
static const struct sieve_command_def cmd_test_script_compile = {
	"test_script_compile", SV_CMD_TEST, 0, one_string, 1, NULL, NULL, test_script_compile_execute, NULL };
static const struct sieve_command_def cmd_test_script_run = {
	"test_script_run", SV_CMD_TEST, 0, NULL, 0, run_tags, NULL, test_script_run_execute, NULL };
static const struct sieve_command_def cmd_test_error = {
	"test_error", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, key_list, 1, index_tags, NULL, test_error_execute, NULL };
static const struct sieve_command_def cmd_test_result_action = {
	"test_result_action", SV_CMD_TEST, SV_CF_MATCH | SV_CF_COMPARATOR, key_list, 1, index_tags, NULL,
	test_result_action_execute, NULL };
static const struct sieve_command_def cmd_test_result_execute = {
	"test_result_execute", SV_CMD_TEST, 0, NULL, 0, NULL, NULL, test_result_execute_execute, NULL };
static const struct sieve_command_def cmd_test_binary_save = {
	"test_binary_save", SV_CMD_COMMAND, 0, one_string, 1, NULL, NULL, test_binary_save_execute, NULL };
static const struct sieve_pos_arg scripts_arg[] = { { "scripts", SV_AT_STRLIST } };
static const struct sieve_command_def cmd_test_multiscript = {
	"test_multiscript", SV_CMD_TEST, 0, scripts_arg, 1, NULL, NULL, test_multiscript_execute, NULL };
static const struct sieve_command_def cmd_test_binary_load = {
	"test_binary_load", SV_CMD_COMMAND, 0, one_string, 1, NULL, NULL, test_binary_load_execute, NULL };

static const struct sieve_tag_def tag_md_mailbox = { "mailbox", SV_TC_NONE, 0, SV_AT_STRING, "mailbox" };
static const struct sieve_tag_def *const imap_metadata_tags[] = { &tag_md_mailbox, NULL };
static const struct sieve_pos_arg metadata_set_args[] = {
	{ "annotation", SV_AT_STRING }, { "value", SV_AT_STRING } };
static const struct sieve_command_def cmd_test_imap_metadata_set = {
	"test_imap_metadata_set", SV_CMD_COMMAND, 0, metadata_set_args, 2, imap_metadata_tags, NULL,
	test_imap_metadata_set_execute, NULL };

static const struct sieve_command_def *const testsuite_commands[] = {
	&cmd_test, &cmd_test_fail, &cmd_test_set, &cmd_test_config_set, &cmd_test_config_unset,
	&cmd_test_config_reload, &cmd_test_result_reset, &cmd_test_result_print, &cmd_test_message_print,
	&cmd_test_mailbox_create, &cmd_test_mailbox_delete, &cmd_test_message, &cmd_test_script_compile,
	&cmd_test_script_run, &cmd_test_error, &cmd_test_result_action, &cmd_test_result_execute,
	&cmd_test_binary_save, &cmd_test_binary_load, &cmd_test_imap_metadata_set, &cmd_test_multiscript, NULL
};

/* ${tst.path}: the folder of the .svtest (expanded by the interpreter). */
static const struct sieve_var_namespace testsuite_namespace = { "tst", NULL, NULL };

const struct sieve_extension_def sieve_ext_testsuite = {
	.name = "vnd.dovecot.testsuite",
	.flags = SV_EF_TESTSUITE,
	.commands = testsuite_commands,
	.var_namespace = &testsuite_namespace,
};

/* ---- running a file ---- */

int testsuite_run_file(const char *path, const struct testsuite_store *store, const char *tmpdir, FILE *out)
{
	struct testsuite ts;
	memset(&ts, 0, sizeof(ts));
	ts.store = store;
	ts.out = out;
	char *pcopy = strdup(path);
	ts.dir = strdup(dirname(pcopy));
	free(pcopy);
	ts.tmpdir = strdup(tmpdir);
	ts.cfg = sieve_config_new();
	ts.pending = sieve_config_new();
	diag_init(&ts.errors);
	ts.result = sieve_result_new();
	ts.host.ctx = &ts;
	ts.host.store = ts_store;
	ts.host.mailbox_exists = ts_mailbox_exists;
	ts.host.send = ts_send;
	ts.host.duplicate_check = ts_dup_check;
	ts.host.duplicate_mark = ts_dup_mark;
	ts.host.now = ts_now;
	ts.host.include_load = ts_include_load;
	ts.host.metadata_get = ts_metadata_get;
	ts_set_message(&ts, default_message, sizeof(default_message) - 1);
	ts.run.cfg = ts.cfg;
	ts.run.msg = ts.msg;
	ts.run.env = &ts.env;
	ts.run.host = &ts.host;
	ts.run.testsuite = &ts;
	ts.run.testsuite_dir = ts.dir;
	/* Pigeonhole's testsuite runs as a message store ("MS") for the
	   environment extension, as the user running it. */
	ts.run.env_location = "MS";
	ts.run.username = "testsuite";

	char *name = script_name_of(path);
	fprintf(out, "Test case: %s:\n\n", path);
	struct strbuf src = STRBUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int status = 1;
	struct diag_list diags;
	diag_init(&diags);
	if (fd >= 0) {
		(void)strbuf_read_fd(&src, fd, SIZE_MAX);
		close(fd);
	} else {
		fprintf(out, "XX: Test CASE FAILED: cannot open %s: %s\n", path, strerror(errno));
		goto out;
	}
	struct sieve_compile_params p = {
		.script_name = name, .script_path = path, .cfg = ts.cfg, .testsuite = true,
		.testsuite_dir = ts.dir, .host = &ts.host,
	};
	struct sieve_binary *b = sieve_compile(src.data ? src.data : "", src.len, &p, &diags);
	if (b == NULL) {
		for (size_t i = 0; i < diags.count; i++) {
			char *s = diag_format(&diags.items[i]);
			fprintf(out, "%s\n", s);
			free(s);
		}
		fprintf(out, "XX: Test CASE FAILED: failed to compile testcase script\n");
		goto out;
	}
	struct diag_list rterr;
	diag_init(&rterr);
	struct sieve_result *main_result = sieve_result_new();
	struct arena *ra = arena_new(65536);
	struct sieve_runtime *rt = sieve_runtime_create(b, &ts.run, ts.result, &rterr, ra);
	int st = sieve_interpret(rt);
	if (st <= 0) {
		for (size_t i = 0; i < rterr.count; i++) {
			char *s = diag_format(&rterr.items[i]);
			fprintf(out, "%s\n", s);
			free(s);
		}
		fprintf(out, "XX: Test CASE FAILED: test script execution aborted due to error\n");
		ts.nfailed++;
	}
	arena_unref(&ra);
	sieve_result_unref(&main_result);
	diag_free(&rterr);
	sieve_binary_unref(&b);
	if (ts.nfailed == 0) {
		fprintf(out, "\nPASS: %d tests succeeded.\n\n", ts.ntests);
		status = 0;
	} else {
		fprintf(out, "\nFAIL: %d of %d tests failed.\n\n", ts.nfailed, ts.ntests);
	}
out:
	strbuf_free(&src);
	diag_free(&diags);
	free(name);
	sieve_binary_unref(&ts.compiled);
	diag_free(&ts.errors);
	sieve_result_unref(&ts.result);
	ts_outbox_clear(&ts);
	free(ts.outbox);
	ts_dups_clear(&ts);
	free(ts.dups);
	arena_unref(&ts.msg_arena);
	sieve_config_unref(&ts.cfg);
	sieve_config_unref(&ts.pending);
	free(ts.env_from);
	free(ts.env_to);
	free(ts.env_orig_to);
	free(ts.env_auth);
	ts_meta_clear(&ts);
	free(ts.dir);
	free(ts.tmpdir);
	free(ts.include_path);
	return status;
}
