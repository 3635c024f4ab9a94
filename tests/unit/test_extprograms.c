/* test_extprograms.c: unit tests of the external-program runner behind
 * vnd.dovecot.pipe/filter/execute (sieve/ext/extprograms-common.c): name
 * and argument rules, line-end conversion, and the process side: no shell
 * between the script and the program, nothing reachable outside the
 * program directory, a clean environment, no leaked descriptors, timeouts
 * that kill the whole process group, bounded output, and no deadlock or
 * SIGPIPE when the program and Tamis write at the same time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "sieve/ext/extprograms.h"

/* ---- fixture: a program directory under /tmp ---- */

struct fixture {
	char dir[256];      /* the program directory */
	char outside[256];  /* a sibling directory the script must not reach */
};

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void program(const struct fixture *fx, const char *name, const char *body)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	write_file(path, body, 0755);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char base[] = "/tmp/tamis-extprog-XXXXXX";
	assert_non_null(mkdtemp(base));
	assert_int_equal(chmod(base, 0755), 0);
	snprintf(fx->dir, sizeof(fx->dir), "%s/bin", base);
	snprintf(fx->outside, sizeof(fx->outside), "%s/outside", base);
	assert_int_equal(mkdir(fx->dir, 0755), 0);
	assert_int_equal(mkdir(fx->outside, 0755), 0);
	program(fx, "args", "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done\n");
	program(fx, "cat", "#!/bin/sh\nexec cat\n");
	program(fx, "sleep", "#!/bin/sh\nsleep 30\n");
	/* A child that outlives its parent would keep the pipes open. */
	program(fx, "sleepfork", "#!/bin/sh\nsleep 30 &\nsleep 30\n");
	program(fx, "daemon", "#!/bin/sh\nsleep 30 &\nexit 0\n");
	program(fx, "zeros", "#!/bin/sh\nhead -c 20000000 /dev/zero\n");
	program(fx, "exit3", "#!/bin/sh\ncat >/dev/null\nexit 3\n");
	program(fx, "noread", "#!/bin/sh\nexit 0\n");
	program(fx, "writefirst", "#!/bin/sh\nhead -c 3000000 /dev/zero\ncat >/dev/null\n");
	program(fx, "fds", "#!/bin/sh\nexec ls /proc/self/fd\n");
	program(fx, "badinterp", "#!/nonexistent/interpreter\n");
	program(fx, "stderr", "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' e >&2\necho out\n");
	char path[512];
	snprintf(path, sizeof(path), "%s/noexec", fx->dir);
	write_file(path, "#!/bin/sh\nexit 0\n", 0644);
	snprintf(path, sizeof(path), "%s/secret", fx->outside);
	write_file(path, "#!/bin/sh\necho reached\n", 0755);
	/* An administrator's link to a system tool. */
	snprintf(path, sizeof(path), "%s/true", fx->dir);
	assert_int_equal(symlink("/bin/true", path), 0);
	/* env itself, without a shell that would add PWD. */
	snprintf(path, sizeof(path), "%s/env", fx->dir);
	assert_int_equal(symlink("/usr/bin/env", path), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[600];
	char *slash = strrchr(fx->dir, '/');
	*slash = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static uint64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void req_init(struct extprog_request *r, const struct fixture *fx, const char *name)
{
	static const char *const env[] = { "PATH=/usr/bin:/bin", "FOO=bar" };
	memset(r, 0, sizeof(*r));
	r->bin_dir = fx->dir;
	r->name = name;
	r->env = env;
	r->nenv = 2;
	r->timeout_ms = 10000;
}

/* ---- names, arguments, line ends ---- */

static void test_names(void **state)
{
	static const char *const good[] = { "program", "sa-learn", "spam.c", ".hidden", "caf\xc3\xa9", NULL };
	for (const char *const *g = good; *g; g++)
		assert_true(extprog_name_valid(*g, strlen(*g)));
	static const char *const bad[] = {
		"", ".", "..", "../frop", "a/b", "/bin/sh", "x\x1a", "x\x7f", "x\xc2\x85", "x\xe2\x80\xa8",
		"x\xe2\x80\xa9", "x\xc3\xbf", "\xff\xfe", "x\xc0\xaf" /* overlong '/' */, "tab\tname", NULL };
	for (const char *const *b = bad; *b; b++)
		assert_false(extprog_name_valid(*b, strlen(*b)));
	assert_false(extprog_name_valid("a\0b", 3));
	char longname[200];
	memset(longname, 'a', 128);
	assert_true(extprog_name_valid(longname, 128));
	memset(longname, 'a', 129);
	assert_false(extprog_name_valid(longname, 129));
}

static void test_args(void **state)
{
	assert_true(extprog_arg_valid("$(rm -rf /); `x` | y > z", 24));
	assert_false(extprog_arg_valid("a\nb", 3));
	assert_false(extprog_arg_valid("a\rb", 3));
	assert_false(extprog_arg_valid("a\0b", 3));
	char big[1100];
	memset(big, 'x', sizeof(big));
	assert_true(extprog_arg_valid(big, 1024));
	assert_false(extprog_arg_valid(big, 1025));
}

static void test_eol(void **state)
{
	size_t n;
	char *s = extprog_convert_eol("a\nb\r\nc\rd\n", 10, EXTPROG_EOL_CRLF, &n);
	assert_string_equal(s, "a\r\nb\r\nc\rd\r\n");
	assert_int_equal(n, 12);
	free(s);
	s = extprog_convert_eol("a\r\nb\nc\r", 7, EXTPROG_EOL_LF, &n);
	assert_string_equal(s, "a\nb\nc\r");
	free(s);
}

/* ---- running ---- */

static void test_arguments_reach_program_verbatim(void **state)
{
	struct fixture *fx = *state;
	char marker[300];
	snprintf(marker, sizeof(marker), "%s/pwned", fx->outside);
	char inject[400];
	snprintf(inject, sizeof(inject), "$(touch %s)", marker);
	const char *args[] = { inject, "; touch x", "a b", "*", "'\"", "" };
	struct extprog_request r;
	req_init(&r, fx, "args");
	r.args = args;
	r.nargs = 6;
	r.want_output = true;
	r.max_output = 4096;
	struct extprog_result res;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_OK);
	char want[600];
	snprintf(want, sizeof(want), "[%s][; touch x][a b][*]['\"][]", inject);
	assert_string_equal(res.output, want);
	assert_int_not_equal(access(marker, F_OK), 0);
	extprog_result_free(&res);
}

static void test_cannot_leave_directory(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = { "../outside/secret", "/bin/sh", "..", ".", "" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct extprog_request r;
		req_init(&r, fx, names[i]);
		r.want_output = true;
		r.max_output = 100;
		struct extprog_result res;
		assert_int_equal(extprog_run(&r, &res), EXTPROG_ERROR);
		assert_true(res.output == NULL || strstr(res.output, "reached") == NULL);
		extprog_result_free(&res);
	}
	/* No directory configured: nothing runs. */
	struct extprog_request r;
	req_init(&r, fx, "cat");
	r.bin_dir = NULL;
	struct extprog_result res;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_NOT_FOUND);
	extprog_result_free(&res);
	req_init(&r, fx, "missing");
	assert_int_equal(extprog_run(&r, &res), EXTPROG_NOT_FOUND);
	extprog_result_free(&res);
}

static void test_symlink_in_directory_is_followed(void **state)
{
	/* Documented choice: links the administrator placed are followed. */
	struct fixture *fx = *state;
	struct extprog_request r;
	req_init(&r, fx, "true");
	struct extprog_result res;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_OK);
	extprog_result_free(&res);
}

static void test_unsafe_files_refused(void **state)
{
	struct fixture *fx = *state;
	struct extprog_request r;
	struct extprog_result res;
	req_init(&r, fx, "noexec");
	assert_int_equal(extprog_run(&r, &res), EXTPROG_ERROR);
	extprog_result_free(&res);

	char path[512];
	snprintf(path, sizeof(path), "%s/cat", fx->dir);
	assert_int_equal(chmod(path, 0757), 0);
	req_init(&r, fx, "cat");
	assert_int_equal(extprog_run(&r, &res), EXTPROG_ERROR);
	assert_non_null(strstr(res.error, "world-writable"));
	extprog_result_free(&res);
	assert_int_equal(chmod(path, 0755), 0);

	assert_int_equal(chmod(fx->dir, 0777), 0);
	assert_int_equal(extprog_run(&r, &res), EXTPROG_ERROR);
	assert_non_null(strstr(res.error, "world-writable"));
	extprog_result_free(&res);
	assert_int_equal(chmod(fx->dir, 0755), 0);
	assert_int_equal(extprog_run(&r, &res), EXTPROG_OK);
	extprog_result_free(&res);
}

static void test_clean_environment(void **state)
{
	struct fixture *fx = *state;
	setenv("TAMIS_TEST_SECRET", "leaked", 1);
	struct extprog_request r;
	req_init(&r, fx, "env");
	r.want_output = true;
	r.max_output = 65536;
	struct extprog_result res;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_OK);
	assert_string_equal(res.output, "PATH=/usr/bin:/bin\nFOO=bar\n");
	extprog_result_free(&res);
	unsetenv("TAMIS_TEST_SECRET");
}

static void test_no_descriptor_leak(void **state)
{
	struct fixture *fx = *state;
	int fd = open("/dev/null", O_RDONLY);   /* deliberately not close-on-exec */
	assert_true(fd >= 0);
	int high = dup2(fd, 57);
	assert_int_equal(high, 57);
	struct extprog_request r;
	req_init(&r, fx, "fds");
	r.want_output = true;
	r.max_output = 4096;
	struct extprog_result res;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_OK);
	/* 0, 1, 2 and the descriptor ls itself opens for the listing. */
	assert_string_equal(res.output, "0\n1\n2\n3\n");
	extprog_result_free(&res);
	close(fd);
	close(high);
}

static void test_timeout_kills_process_group(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = { "sleep", "sleepfork" };
	for (size_t i = 0; i < 2; i++) {
		struct extprog_request r;
		req_init(&r, fx, names[i]);
		r.timeout_ms = 300;
		r.want_output = true;
		r.max_output = 100;
		struct extprog_result res;
		uint64_t t0 = ms_now();
		assert_int_equal(extprog_run(&r, &res), EXTPROG_ERROR);
		uint64_t took = ms_now() - t0;
		assert_true(res.timed_out);
		assert_non_null(strstr(res.error, "timed out"));
		assert_true(took >= 300 && took < 3000);
		extprog_result_free(&res);
	}
	/* The killed group leaves no sleeper behind holding our pipes: a
	   second run is as quick. */
	struct extprog_request r;
	req_init(&r, fx, "daemon");
	r.want_output = true;
	r.max_output = 100;
	struct extprog_result res;
	uint64_t t0 = ms_now();
	assert_int_equal(extprog_run(&r, &res), EXTPROG_OK);
	assert_true(ms_now() - t0 < 3000);
	extprog_result_free(&res);
}

static void test_output_bounded(void **state)
{
	struct fixture *fx = *state;
	struct extprog_request r;
	req_init(&r, fx, "zeros");
	r.want_output = true;
	r.max_output = 1 << 20;
	r.overflow_fails = true;     /* filter */
	struct extprog_result res;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_ERROR);
	assert_non_null(strstr(res.error, "exceeds"));
	assert_true(res.output_len <= r.max_output);
	extprog_result_free(&res);

	r.overflow_fails = false;    /* execute: kept up to the limit */
	assert_int_equal(extprog_run(&r, &res), EXTPROG_OK);
	assert_int_equal(res.output_len, 1 << 20);
	assert_true(res.output_truncated);
	extprog_result_free(&res);

	req_init(&r, fx, "stderr");
	r.want_output = true;
	r.max_output = 100;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_OK);
	assert_string_equal(res.output, "out\n");
	assert_int_equal(res.errout_len, EXTPROG_STDERR_MAX);
	extprog_result_free(&res);
}

static void test_big_io_no_deadlock(void **state)
{
	struct fixture *fx = *state;
	size_t n = 5u << 20;
	char *big = malloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	struct extprog_request r;
	req_init(&r, fx, "cat");
	r.input = big;
	r.input_len = n;
	r.want_output = true;
	r.max_output = 10u << 20;
	struct extprog_result res;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_OK);
	assert_int_equal(res.output_len, n);
	assert_memory_equal(res.output, big, n);
	extprog_result_free(&res);

	/* Writes 3 MB before reading anything. */
	req_init(&r, fx, "writefirst");
	r.input = big;
	r.input_len = n;
	r.want_output = true;
	r.max_output = 4u << 20;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_OK);
	assert_int_equal(res.output_len, 3000000);
	extprog_result_free(&res);

	/* Never reads its input: EPIPE for us, no SIGPIPE death. */
	req_init(&r, fx, "noread");
	r.input = big;
	r.input_len = n;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_OK);
	extprog_result_free(&res);
	free(big);
}

static void test_exit_status_and_exec_failure(void **state)
{
	struct fixture *fx = *state;
	struct extprog_request r;
	req_init(&r, fx, "exit3");
	r.input = "x\n";
	r.input_len = 2;
	struct extprog_result res;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_FALSE);
	assert_int_equal(res.exit_code, 3);
	extprog_result_free(&res);

	req_init(&r, fx, "badinterp");
	assert_int_equal(extprog_run(&r, &res), EXTPROG_ERROR);
	assert_non_null(strstr(res.error, "failed to execute"));
	extprog_result_free(&res);

	const char *many[EXTPROG_MAX_ARGS + 1];
	for (size_t i = 0; i <= EXTPROG_MAX_ARGS; i++)
		many[i] = "x";
	req_init(&r, fx, "args");
	r.args = many;
	r.nargs = EXTPROG_MAX_ARGS + 1;
	assert_int_equal(extprog_run(&r, &res), EXTPROG_ERROR);
	extprog_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_eol),
		cmocka_unit_test(test_arguments_reach_program_verbatim),
		cmocka_unit_test(test_cannot_leave_directory),
		cmocka_unit_test(test_symlink_in_directory_is_followed),
		cmocka_unit_test(test_unsafe_files_refused),
		cmocka_unit_test(test_clean_environment),
		cmocka_unit_test(test_no_descriptor_leak),
		cmocka_unit_test(test_timeout_kills_process_group),
		cmocka_unit_test(test_output_bounded),
		cmocka_unit_test(test_big_io_no_deadlock),
		cmocka_unit_test(test_exit_status_and_exec_failure),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
