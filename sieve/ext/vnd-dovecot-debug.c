/* vnd-dovecot-debug.c: Dovecot's vnd.dovecot.debug extension: debug_log
 * writes a message to the log as "DEBUG: <message>" (an informational
 * diagnostic; the host decides where it goes).  Off by default, as in
 * Pigeonhole, but always available in the testsuite and in `tamis test`
 * (sieve-test registers it itself, whatever sieve_extensions says). */
#include "sieve/engine.h"

static int debug_log_execute(struct sieve_runtime *rt, const struct sieve_exec_args *a)
{
	struct sieve_string msg = sieve_opd_string(rt, &a->pos[0]);
	diag_add(rt->diags, DIAG_INFO, rt->bin->script_name, a->line, 0, "DEBUG: %s",
		 sieve_str_sanitize(rt->arena, msg.p, msg.len, 1024));
	return SIEVE_OK;
}

static const struct sieve_pos_arg debug_log_args[] = { { "message", SV_AT_STRING } };
static const struct sieve_command_def cmd_debug_log = {
	"debug_log", SV_CMD_COMMAND, 0, debug_log_args, 1, NULL, NULL, debug_log_execute, NULL };

static const struct sieve_command_def *const debug_commands[] = { &cmd_debug_log, NULL };

const struct sieve_extension_def sieve_ext_vnd_dovecot_debug = {
	.name = "vnd.dovecot.debug",
	.flags = SV_EF_TESTSUITE_ON | SV_EF_TOOL_ON,
	.commands = debug_commands,
};
