/* extprograms.c: Pigeonhole's vnd.dovecot.pipe, vnd.dovecot.filter and
 * vnd.dovecot.execute extensions (spec-bosch-sieve-extprograms):
 *
 *   pipe [:copy] [:try] <program-name> [<arguments>]      action, at result execution
 *   filter <program-name> [<arguments>]                    command or test, at run time
 *   execute [:input <data> / :pipe] [:output <varname>]
 *           <program-name> [<arguments>]                   command or test, at run time
 *
 * None is enabled by default: the administrator lists them in
 * sieve_extensions or (recommended) sieve_global_extensions, and sets the
 * program directory sieve_<ext>_bin_dir; without that directory nothing is
 * ever run.  The program name must be a constant, checked at compile time.
 * Settings, read at run (pipe: at result execution) time:
 *   sieve_<ext>_bin_dir        where programs live (required)
 *   sieve_<ext>_exec_timeout   wall-clock limit, default 10s; 0 = none
 *                              (Tamis still stops at EXTPROG_MAX_TIMEOUT_MS)
 *   sieve_<ext>_input_eol      crlf (default) or lf: line ends of the input
 *   sieve_filter_max_output_size  (Tamis) largest replacement message, 10M
 * The process side (lookup, fork/exec, timeouts, limits) is in
 * extprograms-common.c. */
#include "sieve/engine.h"
#include "sieve/ext/extprograms.h"
#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_SECS 10
#define FILTER_MAX_OUTPUT_DEFAULT (10u * 1024 * 1024)
#define ENV_VALUE_MAX 1024
#define ENV_MAX 8

/* ---- settings ---- */

struct prog_settings {
	const char *bin_dir;
	uint64_t timeout_ms;
	enum extprog_eol eol;
};

/* kind is "pipe", "filter" or "execute". */
static void settings_get(const struct sieve_config *cfg, const char *kind, struct prog_settings *s)
{
	char key[64];
	snprintf(key, sizeof(key), "sieve_%s_bin_dir", kind);
	s->bin_dir = sieve_config_get(cfg, key);
	if (s->bin_dir != NULL && s->bin_dir[0] == '\0')
		s->bin_dir = NULL;

	snprintf(key, sizeof(key), "sieve_%s_exec_timeout", kind);
	const char *t = sieve_config_get(cfg, key);
	s->timeout_ms = DEFAULT_TIMEOUT_SECS * 1000ull;
	if (t != NULL && *t != '\0') {
		/* Milliseconds are kept as such: the generic duration getter
		   rounds them down to seconds, and 500ms must not become 0
		   ("no timeout"). */
		char *end;
		unsigned long long n = strtoull(t, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (end != t && strncasecmp(end, "ms", 2) == 0)
			s->timeout_ms = n == 0 ? 1 : n;
		else
			s->timeout_ms = sieve_config_duration(cfg, key, DEFAULT_TIMEOUT_SECS) * 1000ull;
	}

	snprintf(key, sizeof(key), "sieve_%s_input_eol", kind);
	const char *eol = sieve_config_get(cfg, key);
	s->eol = eol != NULL && strcasecmp(eol, "lf") == 0 ? EXTPROG_EOL_LF : EXTPROG_EOL_CRLF;
}

/* ---- the program's environment ---- */

/* Only these variables, as Pigeonhole's program client: the host's own
 * environment (secrets, LD_PRELOAD, ...) never reaches the program. */
struct prog_env {
	char buf[ENV_MAX][ENV_VALUE_MAX + 32];
	const char *items[ENV_MAX];
	size_t n;
};

static void env_put(struct prog_env *e, const char *key, const char *value)
{
	if (value == NULL || value[0] == '\0' || e->n >= ENV_MAX)
		return;
	snprintf(e->buf[e->n], sizeof(e->buf[e->n]), "%s=%.*s", key, ENV_VALUE_MAX, value);
	e->items[e->n] = e->buf[e->n];
	e->n++;
}

static void env_build(struct prog_env *e, const struct sieve_run_params *p)
{
	e->n = 0;
	env_put(e, "PATH", "/usr/bin:/bin");
	/* USER is the mail user when the host knows it; HOME is that of the
	   account the program runs as (the delivery's own uid). */
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096];
	if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &pwp) != 0)
		pwp = NULL;
	env_put(e, "USER", p->username != NULL ? p->username : (pwp != NULL ? pwp->pw_name : NULL));
	env_put(e, "HOME", pwp != NULL ? pwp->pw_dir : NULL);
	char host[256];
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		env_put(e, "HOST", host);
	}
	if (p->env != NULL) {
		env_put(e, "SENDER", p->env->from);
		env_put(e, "RECIPIENT", p->env->to);
		env_put(e, "ORIG_RECIPIENT", p->env->orig_to);
	}
}

/* ---- messages ---- */

/* As Pigeonhole's str_sanitize(): controls become '?', long text is cut
   with "...".  out must hold max * 4 + 4 bytes. */
static const char *sanitize(char *out, const char *s, size_t len, size_t max)
{
	size_t o = 0, chars = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		/* Bytes are bounded too: invalid UTF-8 may never start a
		   character. */
		if (((c & 0xc0) != 0x80 && ++chars > max) || o >= max * 4) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
	return out;
}

#define SANE(buf, s, max) sanitize(buf, (s), strlen(s), (max))

/* The program's stderr goes to the host's log, as Pigeonhole's does to
   Dovecot's; the user sees only the errors the action reports. */
static void log_stderr(const struct sieve_host *host, const char *action, const char *name,
		       const struct extprog_result *res)
{
	if (host == NULL || host->log == NULL || res->errout == NULL || res->errout_len == 0)
		return;
	char *text = malloc(res->errout_len + 1);
	if (text == NULL)
		abort();
	for (size_t i = 0; i < res->errout_len; i++) {
		unsigned char c = (unsigned char)res->errout[i];
		text[i] = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
	text[res->errout_len] = '\0';
	char nbuf[EXTPROG_MAX_NAME_CHARS * 4 + 8];
	char *line = NULL;
	if (asprintf(&line, "%s action: program `%s' wrote to stderr: %s", action,
		     SANE(nbuf, name, 80), text) >= 0)
		host->log(host->ctx, DIAG_INFO, line);
	free(line);
	free(text);
}

/* ---- validation (shared by the three commands) ---- */

static const char *cmd_kind(const struct sieve_cmd *c)
{
	return c->node->kind == AST_TEST ? "test" : "command";
}

static int program_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const char *cmd = c->def->name, *kind = cmd_kind(c);
	char buf[EXTPROG_MAX_ARG_LEN * 4 + 8];
	const struct sieve_cstring *name = &c->pos[0].strs[0];
	if (!sieve_cstring_is_const(name)) {
		sieve_validator_error(v, name->loc,
			"the %s %s requires a constant string for its program-name argument", cmd, kind);
		return -1;
	}
	if (!extprog_name_valid(name->data, name->len)) {
		sieve_validator_error(v, name->loc, "%s %s: invalid program name '%s'", cmd, kind,
				      sanitize(buf, name->data, name->len, 80));
		return -1;
	}
	if (c->npos < 2)
		return 0;
	const struct sieve_cval *args = &c->pos[1];
	if (args->nstrs > EXTPROG_MAX_ARGS) {
		sieve_validator_error(v, args->loc, "%s %s: too many external program arguments (max %d)",
				      cmd, kind, EXTPROG_MAX_ARGS);
		return -1;
	}
	for (size_t i = 0; i < args->nstrs; i++) {
		const struct sieve_cstring *s = &args->strs[i];
		if (sieve_cstring_is_const(s) && !extprog_arg_valid(s->data, s->len)) {
			sieve_validator_error(v, s->loc,
				"%s %s: specified external program argument `%s' is invalid", cmd, kind,
				sanitize(buf, s->data, s->len, 128));
			return -1;
		}
	}
	return 0;
}

/* ---- runtime: reading the program operands ---- */

struct prog_call {
	const char *name;
	const char **args;
	size_t nargs;
};

/* Reads <program-name> [<arguments>]; arguments built from variables are
   checked here, literals were checked at compile time. */
static int read_program(struct sieve_runtime *rt, const struct sieve_exec_args *a, struct arena *dst,
			struct prog_call *pc)
{
	char buf[EXTPROG_MAX_ARG_LEN * 4 + 8];
	struct sieve_string name = sieve_opd_string(rt, &a->pos[0]);
	if (!extprog_name_valid(name.p, name.len)) {
		sieve_runtime_error(rt, a, "invalid program name '%s'", sanitize(buf, name.p, name.len, 80));
		return -1;
	}
	pc->name = arena_memdup(dst, name.p, name.len);
	pc->args = NULL;
	pc->nargs = 0;
	if (a->npos < 2)
		return 0;
	struct sieve_string *items;
	size_t n = sieve_opd_strlist(rt, &a->pos[1], &items);
	if (n > EXTPROG_MAX_ARGS) {
		sieve_runtime_error(rt, a, "too many external program arguments (%zu > %d)", n, EXTPROG_MAX_ARGS);
		return -1;
	}
	pc->args = arena_alloc(dst, sizeof(char *) * (n + 1));
	for (size_t i = 0; i < n; i++) {
		if (!extprog_arg_valid(items[i].p, items[i].len)) {
			sieve_runtime_error(rt, a, "specified :args item `%s' is invalid",
					    sanitize(buf, items[i].p, items[i].len, 128));
			return -1;
		}
		pc->args[i] = arena_memdup(dst, items[i].p, items[i].len);
	}
	pc->nargs = n;
	return 0;
}

static void request_init(struct extprog_request *req, const struct prog_settings *s,
			 const struct prog_call *pc, const struct prog_env *env)
{
	memset(req, 0, sizeof(*req));
	req->bin_dir = s->bin_dir;
	req->name = pc->name;
	req->args = pc->args;
	req->nargs = pc->nargs;
	req->env = env->items;
	req->nenv = env->n;
	req->timeout_ms = s->timeout_ms;
}

/* Reports a run that did not succeed, with Pigeonhole's wording: a missing
   program in one error; any other failure as the reason, then the summary
   (Pigeonhole puts the reason in the server log and both reach the
   testsuite).  A non-zero exit status is not reported: it is the answer
   "false" for filter and execute. */
static void runtime_report(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char *action,
			   const struct prog_settings *s, const char *name, const struct extprog_result *res)
{
	char nbuf[EXTPROG_MAX_NAME_CHARS * 4 + 8];
	SANE(nbuf, name, 80);
	if (s->bin_dir == NULL)
		sieve_runtime_error(rt, a, "%s action: failed to execute program `%s': "
				    "vnd.dovecot.%s extension is unconfigured (sieve_%s_bin_dir is not set)",
				    action, nbuf, action, action);
	else if (res->status == EXTPROG_NOT_FOUND)
		sieve_runtime_error(rt, a, "%s action: program `%s' not found", action, nbuf);
	else {
		sieve_runtime_error(rt, a, "%s action: program `%s': %s", action, nbuf, res->error);
		sieve_runtime_error(rt, a, "%s action: failed to execute to program `%s'", action, nbuf);
	}
}

/* ---- vnd.dovecot.pipe ---- */

struct pipe_ctx {
	const char *program;
	const char **args;
	size_t nargs;
	bool try_;
};

static const struct sieve_tag_def tag_try = { "try", SV_TC_NONE, 0, 0, NULL };
/* :copy belongs to the copy extension; pipe accepts it only when "copy" is
   required (checked in pipe_validate), as Pigeonhole registers it. */
static const struct sieve_tag_def tag_copy = { "copy", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def *const pipe_tags[] = { &tag_try, &tag_copy, NULL };

static int pipe_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const struct sieve_ctag *copy = sieve_cmd_tag(c, "copy");
	if (copy != NULL && !sieve_validator_ext_required(v, "copy")) {
		sieve_validator_error(v, copy->loc,
			"unknown tagged argument ':copy' for the pipe command (reported only once at first occurrence)");
		return -1;
	}
	return program_validate(v, c);
}

static int pipe_check_duplicate(struct sieve_runtime *rt, const struct sieve_exec_args *a,
				struct sieve_action *old, struct sieve_action *act)
{
	const struct pipe_ctx *o = old->ctx, *n = act->ctx;
	if (o == NULL || n == NULL || strcmp(o->program, n->program) != 0)
		return 0;
	char nbuf[EXTPROG_MAX_NAME_CHARS * 4 + 8];
	sieve_runtime_error(rt, a, "duplicate pipe \"%s\" action not allowed "
			    "(previously triggered one was here: %s)", SANE(nbuf, n->program, 128), old->location);
	return -1;
}

static void pipe_print(const struct sieve_action *act, struct strbuf *out, bool *keep_r)
{
	const struct pipe_ctx *pc = act->ctx;
	char nbuf[EXTPROG_MAX_NAME_CHARS * 4 + 8];
	strbuf_printf(out, " * pipe message to external program '%s':\n", SANE(nbuf, pc->program, 128));
	strbuf_printf(out, "    => try           : %s\n", pc->try_ ? "yes" : "no");
	strbuf_putc(out, '\n');
	if (act->copy)
		strbuf_puts(out, "        + preserve implicit keep\n");
}

static int pipe_act_execute(struct sieve_action *act, const struct sieve_run_params *p, struct diag_list *diags)
{
	const struct pipe_ctx *pc = act->ctx;
	struct prog_settings s;
	settings_get(p->cfg, "pipe", &s);
	struct prog_env env;
	env_build(&env, p);
	char nbuf[EXTPROG_MAX_NAME_CHARS * 4 + 8];
	SANE(nbuf, pc->program, 80);
	/* With :try a failure is reported but does not fail the result. */
	enum diag_level lvl = pc->try_ ? DIAG_WARNING : DIAG_ERROR;
	if (s.bin_dir == NULL) {
		diag_add(diags, lvl, NULL, act->line, 0,
			 "pipe action: failed to pipe message to program `%s': "
			 "vnd.dovecot.pipe extension is unconfigured (sieve_pipe_bin_dir is not set)", nbuf);
		return pc->try_ ? 0 : -1;
	}
	const struct message *msg = sieve_action_message(act, p);
	size_t in_len;
	char *input = extprog_convert_eol(msg->data, msg->size, s.eol, &in_len);
	struct prog_call call = { pc->program, pc->args, pc->nargs };
	struct extprog_request req;
	request_init(&req, &s, &call, &env);
	req.input = input;
	req.input_len = in_len;
	struct extprog_result res;
	enum extprog_status st = extprog_run(&req, &res);
	free(input);
	log_stderr(p->host, "pipe", pc->program, &res);
	int ret = 0;
	if (st == EXTPROG_OK) {
		if (p->host != NULL && p->host->log != NULL) {
			char *line = NULL;
			if (asprintf(&line, "pipe action: piped message to program `%s'", nbuf) >= 0)
				p->host->log(p->host->ctx, DIAG_INFO, line);
			free(line);
		}
	} else if (st == EXTPROG_NOT_FOUND) {
		diag_add(diags, lvl, NULL, act->line, 0,
			 "pipe action: failed to pipe message to program: program `%s' not found", nbuf);
		ret = -1;
	} else if (st == EXTPROG_FALSE) {
		diag_add(diags, lvl, NULL, act->line, 0,
			 "pipe action: failed to execute to program `%s': program exited with status %d",
			 nbuf, res.exit_code);
		ret = -1;
	} else {
		diag_add(diags, lvl, NULL, act->line, 0, "pipe action: program `%s': %s", nbuf, res.error);
		diag_add(diags, lvl, NULL, act->line, 0, "pipe action: failed to pipe message to program `%s'", nbuf);
		ret = -1;
	}
	extprog_result_free(&res);
	return pc->try_ ? 0 : ret;
}

static const struct sieve_action_def act_pipe = {
	.name = "pipe",
	.flags = SV_AF_TRIES_DELIVER,
	.check_duplicate = pipe_check_duplicate,
	.print = pipe_print,
	.execute = pipe_act_execute,
};

static int pipe_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct arena *ra = rt->result->arena;
	struct prog_call call;
	if (read_program(rt, a, ra, &call) < 0)
		return SIEVE_FAILURE;
	struct pipe_ctx *pc = arena_alloc(ra, sizeof(*pc));
	pc->program = call.name;
	pc->args = call.args;
	pc->nargs = call.nargs;
	pc->try_ = sieve_args_tag(a, "try") != NULL;
	struct sieve_action *act = sieve_action_new(rt, &act_pipe, a);
	act->ctx = pc;
	act->copy = sieve_args_tag(a, "copy") != NULL;
	if (sieve_result_add(rt, a, act, !act->copy) < 0)
		return SIEVE_FAILURE;
	return SIEVE_OK;
}

static const struct sieve_pos_arg program_args[] = {
	{ "program-name", SV_AT_STRING }, { "arguments", SV_AT_STRLIST } };

static const struct sieve_command_def cmd_pipe = {
	"pipe", SV_CMD_COMMAND, SV_CF_OPT_LASTPOS, program_args, 2, pipe_tags,
	pipe_validate, pipe_execute, NULL };

static const struct sieve_command_def *const pipe_commands[] = { &cmd_pipe, NULL };

const struct sieve_extension_def sieve_ext_vnd_pipe = {
	.name = "vnd.dovecot.pipe",
	/* Off unless the administrator enables it; on in `tamis testsuite`
	   so that Pigeonhole's tests can configure it. */
	.flags = SV_EF_TESTSUITE_ON,
	.commands = pipe_commands,
};

/* ---- vnd.dovecot.filter ---- */

static bool run_as_test(const struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	return rt->bin->code[a->pc] == SV_OP_TEST;
}

/* The common end of filter and execute, once the caller has taken what
   it wants from a successful run: a failure other than a non-zero exit is
   reported, res is freed, and the command's outcome is returned.  As a
   test the command is true only when the program ran and exited 0; as a
   command it fails the script only when the program could not be run. */
static int program_finish(struct sieve_runtime *rt, const struct sieve_exec_args *a, const char *action,
			  const struct prog_settings *s, const char *name, enum extprog_status st,
			  struct extprog_result *res)
{
	if (st != EXTPROG_OK && st != EXTPROG_FALSE)
		runtime_report(rt, a, action, s, name, res);
	extprog_result_free(res);
	if (run_as_test(rt, a)) {
		rt->test_result = st == EXTPROG_OK;
		return SIEVE_OK;
	}
	return st >= EXTPROG_FALSE ? SIEVE_OK : SIEVE_FAILURE;
}

static int filter_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct prog_call call;
	if (read_program(rt, a, rt->arena, &call) < 0)
		return SIEVE_FAILURE;
	struct prog_settings s;
	settings_get(rt->cfg, "filter", &s);
	struct extprog_result res;
	memset(&res, 0, sizeof(res));
	enum extprog_status st = EXTPROG_NOT_FOUND;
	if (s.bin_dir != NULL) {
		struct prog_env env;
		env_build(&env, rt->params);
		size_t in_len;
		char *input = extprog_convert_eol(rt->msg->data, rt->msg->size, s.eol, &in_len);
		struct extprog_request req;
		request_init(&req, &s, &call, &env);
		req.input = input;
		req.input_len = in_len;
		req.want_output = true;
		req.max_output = sieve_config_uint(rt->cfg, "sieve_filter_max_output_size",
						   FILTER_MAX_OUTPUT_DEFAULT);
		req.overflow_fails = true;
		st = extprog_run(&req, &res);
		free(input);
		log_stderr(rt->params->host, "filter", call.name, &res);
	}
	if (st == EXTPROG_OK) {
		/* The output replaces the message for the rest of the run;
		   it lives in the run's arena, as long as the result. */
		char *data = arena_memdup(rt->arena, res.output, res.output_len);
		sieve_runtime_replace_message(rt, msg_parse(rt->arena, data, res.output_len));
	}
	return program_finish(rt, a, "filter", &s, call.name, st, &res);
}

static const struct sieve_command_def cmd_filter = {
	"filter", SV_CMD_HYBRID, SV_CF_OPT_LASTPOS, program_args, 2, NULL,
	program_validate, filter_execute, NULL };

static const struct sieve_command_def *const filter_commands[] = { &cmd_filter, NULL };

const struct sieve_extension_def sieve_ext_vnd_filter = {
	.name = "vnd.dovecot.filter",
	.flags = SV_EF_TESTSUITE_ON,
	.commands = filter_commands,
};

/* ---- vnd.dovecot.execute ---- */

static const struct sieve_tag_def tag_input = { "input", SV_TC_NONE, 0, SV_AT_STRING, "input-data" };
static const struct sieve_tag_def tag_pipe = { "pipe", SV_TC_NONE, 0, 0, NULL };
static const struct sieve_tag_def tag_output = { "output", SV_TC_NONE, 0, SV_AT_STRING, "varname" };
static const struct sieve_tag_def *const execute_tags[] = { &tag_input, &tag_pipe, &tag_output, NULL };

static int execute_validate(struct sieve_validator *v, struct sieve_cmd *c)
{
	const char *kind = cmd_kind(c);
	if (sieve_cmd_tag(c, "input") != NULL && sieve_cmd_tag(c, "pipe") != NULL) {
		const struct sieve_ctag *second = sieve_cmd_tag(c, "pipe");
		const struct sieve_ctag *first = sieve_cmd_tag(c, "input");
		if (second->loc.line < first->loc.line ||
		    (second->loc.line == first->loc.line && second->loc.col < first->loc.col))
			second = first;
		sieve_validator_error(v, second->loc,
			"multiple :input or :pipe arguments specified for the execute %s", kind);
		return -1;
	}
	for (unsigned i = 0; i < c->ntags; i++) {
		struct sieve_ctag *t = &c->tags[i];
		if (t->def != &tag_output)
			continue;
		if (!sieve_validator_ext_required(v, "variables")) {
			sieve_validator_error(v, t->loc,
				"the execute %s only allows for the specification of an "
				":output argument when the variables extension is active", kind);
			return -1;
		}
		const struct sieve_cstring *name = &t->val.strs[0];
		char buf[256];
		if (!sieve_cstring_is_const(name) || !sieve_identifier_valid(name->data, name->len, 0)) {
			sieve_validator_error(v, name->loc, "invalid variable name '%s'",
					      sanitize(buf, name->data, name->len, 60));
			return -1;
		}
		int slot = sieve_validator_var_declare(v, name->data, name->len);
		if (slot < 0) {
			sieve_validator_error(v, name->loc,
				"declaration of new variable '%s' exceeds the limit", name->data);
			return -1;
		}
		/* The variable's name becomes its slot number, as for set. */
		t->val.type = SV_AT_NUMBER;
		t->val.number = (uint64_t)slot;
	}
	return program_validate(v, c);
}

static int execute_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct prog_call call;
	if (read_program(rt, a, rt->arena, &call) < 0)
		return SIEVE_FAILURE;
	const struct sieve_exec_tag *in_tag = sieve_args_tag(a, "input");
	const struct sieve_exec_tag *out_tag = sieve_args_tag(a, "output");
	bool pipe_msg = sieve_args_tag(a, "pipe") != NULL;
	struct prog_settings s;
	settings_get(rt->cfg, "execute", &s);
	struct extprog_result res;
	memset(&res, 0, sizeof(res));
	enum extprog_status st = EXTPROG_NOT_FOUND;
	if (s.bin_dir != NULL) {
		struct prog_env env;
		env_build(&env, rt->params);
		char *input = NULL;
		size_t in_len = 0;
		if (in_tag != NULL) {
			struct sieve_string data = sieve_opd_string(rt, &in_tag->val);
			input = extprog_convert_eol(data.p, data.len, s.eol, &in_len);
		} else if (pipe_msg) {
			input = extprog_convert_eol(rt->msg->data, rt->msg->size, s.eol, &in_len);
		}
		struct extprog_request req;
		request_init(&req, &s, &call, &env);
		req.input = input;
		req.input_len = in_len;
		if (out_tag != NULL) {
			/* Only what a variable can hold is kept; the rest is
			   read and dropped so that the program can finish. */
			req.want_output = true;
			req.max_output = rt->max_var_size;
		}
		st = extprog_run(&req, &res);
		free(input);
		log_stderr(rt->params->host, "execute", call.name, &res);
	}
	if (st == EXTPROG_OK && out_tag != NULL && out_tag->val.type == SV_OPD_NUMBER)
		sieve_runtime_var_set(rt, false, (unsigned)out_tag->val.number,
				      res.output, res.output_len);
	return program_finish(rt, a, "execute", &s, call.name, st, &res);
}

static const struct sieve_command_def cmd_execute = {
	"execute", SV_CMD_HYBRID, SV_CF_OPT_LASTPOS, program_args, 2, execute_tags,
	execute_validate, execute_execute, NULL };

static const struct sieve_command_def *const execute_commands[] = { &cmd_execute, NULL };

const struct sieve_extension_def sieve_ext_vnd_execute = {
	.name = "vnd.dovecot.execute",
	.flags = SV_EF_TESTSUITE_ON,
	.commands = execute_commands,
};
