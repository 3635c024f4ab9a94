/* extprograms-common.c: the process runner behind vnd.dovecot.pipe, .filter
 * and .execute (see extprograms.h for the security policy it enforces):
 * program lookup in the administrator's directory, fork + execve without a
 * shell, a poll() loop over stdin/stdout/stderr, a wall-clock timeout that
 * kills the program's process group, bounded output. */
#include "sieve/ext/extprograms.h"
#include "lib/utf8.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
/* After the program exited, how long we still read what its leftover
   children write to the pipes before giving up on them. */
#define EXIT_GRACE_MS 500

/* ---- names and arguments ---- */

bool extprog_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > EXTPROG_MAX_NAME_CHARS * 4)
		return false;
	/* A single path component only: "." and ".." would name the
	   directory itself or its parent. */
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	const unsigned char *p = (const unsigned char *)name;
	size_t chars = 0;
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t n = utf8_decode(p + i, len - i, &c, UTF8_STRICT);
		if (n == 0)
			return false;
		i += n;
		if (++chars > EXTPROG_MAX_NAME_CHARS)
			return false;
		/* Pigeonhole's list: controls, '/', DEL, C1 controls, U+00FF,
		   line and paragraph separators. */
		if (c <= 0x1f || c == '/' || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
		    c == 0xff || c == 0x2028 || c == 0x2029)
			return false;
	}
	return true;
}

bool extprog_arg_valid(const char *arg, size_t len)
{
	if (len > EXTPROG_MAX_ARG_LEN)
		return false;
	/* CR and LF as Pigeonhole; NUL because argv cannot carry it. */
	for (size_t i = 0; i < len; i++)
		if (arg[i] == '\r' || arg[i] == '\n' || arg[i] == '\0')
			return false;
	return true;
}

char *extprog_convert_eol(const char *in, size_t len, enum extprog_eol eol, size_t *len_r)
{
	size_t cap = eol == EXTPROG_EOL_CRLF ? len * 2 + 1 : len + 1;
	char *out = malloc(cap);
	if (out == NULL)
		abort();
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (eol == EXTPROG_EOL_CRLF) {
			if (c == '\n' && (i == 0 || in[i - 1] != '\r'))
				out[o++] = '\r';
		} else if (c == '\r' && i + 1 < len && in[i + 1] == '\n') {
			continue;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	*len_r = o;
	return out;
}

/* ---- helpers ---- */

static void set_error(struct extprog_result *res, enum extprog_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_error(struct extprog_result *res, enum extprog_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
	res->status = st;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Finds the program: <bin_dir>/<name>, a regular executable file that
   only trusted users can change, in a directory only they can write.  The
   reasons never name the directory: they reach the script's owner. */
static int resolve(const struct extprog_request *req, char *path, size_t pathsz,
		   struct extprog_result *res)
{
	if (req->bin_dir == NULL || req->bin_dir[0] == '\0') {
		set_error(res, EXTPROG_NOT_FOUND, "no program directory is configured");
		return -1;
	}
	if (req->name == NULL || !extprog_name_valid(req->name, strlen(req->name))) {
		set_error(res, EXTPROG_ERROR, "invalid program name");
		return -1;
	}
	struct stat st;
	if (stat(req->bin_dir, &st) < 0) {
		/* As Pigeonhole, which only looks for the program itself: a
		   missing directory means a missing program. */
		if (errno == ENOENT || errno == ENOTDIR)
			set_error(res, EXTPROG_NOT_FOUND, "program directory not found");
		else
			set_error(res, EXTPROG_ERROR, "program directory: %s", strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		set_error(res, EXTPROG_ERROR, "program directory is not a directory");
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		set_error(res, EXTPROG_ERROR, "program directory is world-writable");
		return -1;
	}
	int n = snprintf(path, pathsz, "%s/%s", req->bin_dir, req->name);
	if (n < 0 || (size_t)n >= pathsz) {
		set_error(res, EXTPROG_ERROR, "program path is too long");
		return -1;
	}
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			set_error(res, EXTPROG_NOT_FOUND, "executable not found");
		else
			set_error(res, EXTPROG_ERROR, "failed to stat executable: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		set_error(res, EXTPROG_ERROR, "executable is not a regular file");
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		set_error(res, EXTPROG_ERROR, "executable is world-writable");
		return -1;
	}
	if (access(path, X_OK) < 0) {
		set_error(res, EXTPROG_ERROR, "executable cannot be executed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the child ---- */

struct child_fds {
	int in, out, err;    /* become 0, 1, 2 */
	int status;          /* close-on-exec pipe: errno if execve fails */
};

/* Only async-signal-safe calls from here to execve. */
static void __attribute__((noreturn)) child_exec(const char *path, char *const argv[], char *const envp[],
						 struct child_fds fds)
{
	int err = 0;
	/* Its own process group: a timeout kills everything it started. */
	(void)setpgid(0, 0);
	/* Default dispositions and an empty mask: the program must not
	   inherit an ignored SIGPIPE or the SIGPIPE we block in the parent. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)sigaction(s, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	/* Move every descriptor above 2 first, so that placing one on 0..2
	   cannot overwrite another that happens to live there. */
	int status = fcntl(fds.status, F_DUPFD_CLOEXEC, 10);
	if (status < 0) {
		status = fds.status;
		err = errno;
		goto fail;
	}
	int src[3] = { fds.in, fds.out, fds.err }, high[3];
	for (int i = 0; i < 3; i++) {
		high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
		if (high[i] < 0) {
			err = errno;
			goto fail;
		}
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(high[i], i) < 0) {   /* dup2 clears close-on-exec */
			err = errno;
			goto fail;
		}
	}
	/* Close everything else (the status pipe closes itself on exec). */
	if (close_range(3, (unsigned)status - 1, 0) < 0 ||
	    close_range((unsigned)status + 1, ~0u, 0) < 0) {
		for (int fd = 3; fd < 65536; fd++)
			if (fd != status)
				(void)close(fd);
	}
	execve(path, argv, envp);
	err = errno;
fail:
	(void)!write(status, &err, sizeof(err));
	_exit(127);
}

/* ---- the parent ---- */

struct io_state {
	int in, out, err;
	size_t in_off;
	bool epipe;
	bool overflow;
};

static void append_bounded(char **buf, size_t *len, size_t max, const char *p, size_t n, bool *dropped)
{
	size_t room = max - *len;
	if (n > room) {
		*dropped = true;
		n = room;
	}
	if (n == 0)
		return;
	memcpy(*buf + *len, p, n);
	*len += n;
}

/* Has the program exited?  A host whose SIGCHLD handler reaps every child
   may take the status from us (ECHILD): the program is gone then, its
   status lost (*lost). */
static bool child_done(pid_t pid, int *wstatus, bool *lost)
{
	pid_t w = waitpid(pid, wstatus, WNOHANG);
	if (w == pid)
		return true;
	if (w < 0 && errno == ECHILD) {
		*lost = true;
		return true;
	}
	return false;
}

/* Feeds stdin, drains stdout/stderr until all are closed (returns 0), the
   program has been gone for EXIT_GRACE_MS while something it started still
   holds a pipe (returns 2), or the deadline passed (returns 1). */
static int io_loop(const struct extprog_request *req, struct extprog_result *res, struct io_state *io,
		   pid_t pid, uint64_t deadline, bool *exited, int *wstatus, bool *lost)
{
	char chunk[CHUNK];
	size_t max_out = req->max_output;
	uint64_t grace_end = 0;
	for (;;) {
		struct pollfd pf[3];
		int *which[3];
		nfds_t n = 0;
		if (io->in >= 0) {
			pf[n] = (struct pollfd){ .fd = io->in, .events = POLLOUT };
			which[n++] = &io->in;
		}
		if (io->out >= 0) {
			pf[n] = (struct pollfd){ .fd = io->out, .events = POLLIN };
			which[n++] = &io->out;
		}
		if (io->err >= 0) {
			pf[n] = (struct pollfd){ .fd = io->err, .events = POLLIN };
			which[n++] = &io->err;
		}
		if (n == 0)
			return 0;
		uint64_t now = now_ms();
		if (now >= deadline)
			return 1;
		if (*exited && now >= grace_end)
			return 2;
		uint64_t wait = deadline - now;
		/* Wake up now and then to notice that the program exited. */
		if (wait > 100)
			wait = 100;
		int r = poll(pf, n, (int)wait);
		if (r < 0 && errno != EINTR) {
			set_error(res, EXTPROG_ERROR, "poll: %s", strerror(errno));
			return 0;
		}
		for (nfds_t i = 0; r > 0 && i < n; i++) {
			if (pf[i].revents == 0)
				continue;
			int *fd = which[i];
			if (fd == &io->in) {
				size_t left = req->input_len - io->in_off;
				ssize_t w = write(io->in, req->input + io->in_off, left > CHUNK ? CHUNK : left);
				if (w > 0) {
					io->in_off += (size_t)w;
				} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
					/* The program closed its stdin early; its exit
					   status tells whether that was fine. */
					io->epipe = errno == EPIPE;
					close_fd(&io->in);
					continue;
				}
				if (io->in_off == req->input_len)
					close_fd(&io->in);   /* EOF for the program */
				continue;
			}
			ssize_t got = read(*fd, chunk, sizeof(chunk));
			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
				close_fd(fd);
				continue;
			}
			if (got < 0)
				continue;
			if (fd == &io->out) {
				bool dropped = false;
				append_bounded(&res->output, &res->output_len, max_out, chunk, (size_t)got, &dropped);
				if (dropped) {
					res->output_truncated = true;
					if (req->overflow_fails) {
						io->overflow = true;
						return 0;
					}
				}
			} else {
				bool dropped = false;
				append_bounded(&res->errout, &res->errout_len, EXTPROG_STDERR_MAX, chunk,
					       (size_t)got, &dropped);
			}
		}
		if (!*exited && child_done(pid, wstatus, lost)) {
			*exited = true;
			grace_end = now_ms() + EXIT_GRACE_MS;
		}
	}
}

/* Kills the program's process group; the program itself too in case it
   left the group.  Only for a program not reaped yet: a reaped pid may
   belong to someone else. */
static void kill_group(pid_t pid)
{
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
}

/* What an exited (reaped) program left behind in its group.  The group id
   stays reserved while any member lives, so this cannot hit a stranger. */
static void kill_leftovers(pid_t pid)
{
	(void)kill(-pid, SIGKILL);
}

static void reap(pid_t pid, int *wstatus)
{
	while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
		;
}

enum extprog_status extprog_run(const struct extprog_request *req, struct extprog_result *res)
{
	memset(res, 0, sizeof(*res));
	res->status = EXTPROG_ERROR;
	char path[PATH_MAX];
	if (resolve(req, path, sizeof(path), res) < 0)
		return res->status;
	if (req->nargs > EXTPROG_MAX_ARGS) {
		set_error(res, EXTPROG_ERROR, "too many program arguments (max %d)", EXTPROG_MAX_ARGS);
		return res->status;
	}
	for (size_t i = 0; i < req->nargs; i++) {
		if (!extprog_arg_valid(req->args[i], strlen(req->args[i]))) {
			set_error(res, EXTPROG_ERROR, "invalid program argument");
			return res->status;
		}
	}

	/* Everything the child needs is prepared before fork: after it, the
	   child may only make async-signal-safe calls. */
	char **argv = calloc(req->nargs + 2, sizeof(char *));
	char **envp = calloc(req->nenv + 1, sizeof(char *));
	if (argv == NULL || envp == NULL)
		abort();
	argv[0] = path;
	for (size_t i = 0; i < req->nargs; i++)
		argv[i + 1] = (char *)req->args[i];
	for (size_t i = 0; i < req->nenv; i++)
		envp[i] = (char *)req->env[i];
	if (req->want_output) {
		res->output = malloc(req->max_output + 1);
		if (res->output == NULL)
			abort();
	}
	res->errout = malloc(EXTPROG_STDERR_MAX + 1);
	if (res->errout == NULL)
		abort();

	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, st_p[2] = { -1, -1 };
	if (devnull < 0 ||
	    (req->input != NULL && pipe2(in_p, O_CLOEXEC) < 0) ||
	    (req->want_output && pipe2(out_p, O_CLOEXEC) < 0) ||
	    pipe2(err_p, O_CLOEXEC) < 0 || pipe2(st_p, O_CLOEXEC) < 0) {
		set_error(res, EXTPROG_ERROR, "failed to create pipes: %s", strerror(errno));
		close_fd(&devnull);
		for (int i = 0; i < 2; i++) {
			close_fd(&in_p[i]);
			close_fd(&out_p[i]);
			close_fd(&err_p[i]);
			close_fd(&st_p[i]);
		}
		free(argv);
		free(envp);
		return res->status;
	}

	/* Writing to a program that stopped reading must give EPIPE, not kill
	   the host: block SIGPIPE around the exchange and swallow the one we
	   cause. */
	sigset_t pipeset, oldmask, pending;
	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipeset, &oldmask);
	sigemptyset(&pending);
	sigpending(&pending);
	bool pipe_was_pending = sigismember(&pending, SIGPIPE) == 1;

	struct child_fds cfds = {
		.in = in_p[0] >= 0 ? in_p[0] : devnull,
		.out = out_p[1] >= 0 ? out_p[1] : devnull,
		.err = err_p[1],
		.status = st_p[1],
	};
	uint64_t timeout = req->timeout_ms == 0 || req->timeout_ms > EXTPROG_MAX_TIMEOUT_MS ?
		EXTPROG_MAX_TIMEOUT_MS : req->timeout_ms;
	uint64_t deadline = now_ms() + timeout;
	pid_t pid = fork();
	if (pid == 0)
		child_exec(path, argv, envp, cfds);
	int fork_errno = errno;
	close_fd(&in_p[0]);
	close_fd(&out_p[1]);
	close_fd(&err_p[1]);
	close_fd(&st_p[1]);
	close_fd(&devnull);
	free(argv);
	free(envp);
	struct io_state io = { .in = in_p[1], .out = out_p[0], .err = err_p[0] };
	if (pid < 0) {
		set_error(res, EXTPROG_ERROR, "fork: %s", strerror(fork_errno));
		goto out;
	}

	/* The status pipe closes on a successful execve; otherwise the child
	   sends the errno first. */
	int exec_errno = 0;
	size_t have = 0;
	int wstatus = 0;
	while (have < sizeof(exec_errno)) {
		/* Bounded too: execve itself may hang on a stuck file system. */
		uint64_t now = now_ms();
		struct pollfd spf = { .fd = st_p[0], .events = POLLIN };
		int pr = now >= deadline ? 0 : poll(&spf, 1, (int)(deadline - now > 1000 ? 1000 : deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0 && now_ms() < deadline)
			continue;
		if (pr == 0) {
			kill_group(pid);
			reap(pid, &wstatus);
			res->timed_out = true;
			set_error(res, EXTPROG_ERROR, "execution timed out (> %llu ms)", (unsigned long long)timeout);
			goto out;
		}
		ssize_t got = read(st_p[0], (char *)&exec_errno + have, sizeof(exec_errno) - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	if (have == sizeof(exec_errno)) {
		reap(pid, &wstatus);
		set_error(res, EXTPROG_ERROR, "failed to execute: %s", strerror(exec_errno));
		goto out;
	}
	if (io.in >= 0)
		(void)fcntl(io.in, F_SETFL, O_NONBLOCK);
	if (io.out >= 0)
		(void)fcntl(io.out, F_SETFL, O_NONBLOCK);
	(void)fcntl(io.err, F_SETFL, O_NONBLOCK);

	bool exited = false, lost = false;
	res->error[0] = '\0';
	int loop = io_loop(req, res, &io, pid, deadline, &exited, &wstatus, &lost);
	bool late = loop == 1;
	close_fd(&io.in);
	close_fd(&io.out);
	close_fd(&io.err);
	if (loop == 2)
		kill_leftovers(pid);
	if (io.overflow) {
		if (!exited) {
			kill_group(pid);
			reap(pid, &wstatus);
		}
		set_error(res, EXTPROG_ERROR, "program output exceeds the limit of %zu bytes", req->max_output);
		goto out;
	}
	if (res->error[0] != '\0') {   /* poll failed */
		if (!exited) {
			kill_group(pid);
			reap(pid, &wstatus);
		}
		goto out;
	}
	/* Its output is complete; wait for the exit status until the
	   deadline. */
	unsigned nap = 1;
	while (!exited && !late) {
		if (child_done(pid, &wstatus, &lost)) {
			exited = true;
		} else if (now_ms() >= deadline) {
			late = true;
		} else {
			sleep_ms(nap);
			if (nap < 50)
				nap *= 2;
		}
	}
	if (!exited) {
		kill_group(pid);
		reap(pid, &wstatus);
		res->timed_out = true;
		set_error(res, EXTPROG_ERROR, "execution timed out (> %llu ms)", (unsigned long long)timeout);
		goto out;
	}
	if (late) {
		/* It exited, but something it started still held the pipes
		   open at the deadline: that is a timeout too. */
		kill_leftovers(pid);
		res->timed_out = true;
		set_error(res, EXTPROG_ERROR, "execution timed out (> %llu ms)", (unsigned long long)timeout);
		goto out;
	}
	if (lost) {
		set_error(res, EXTPROG_ERROR, "the program's exit status was lost (reaped elsewhere)");
		goto out;
	}
	if (WIFSIGNALED(wstatus)) {
		set_error(res, EXTPROG_ERROR, "program terminated abnormally by signal %d", WTERMSIG(wstatus));
		goto out;
	}
	res->exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	res->status = res->exit_code == 0 ? EXTPROG_OK : EXTPROG_FALSE;
out:
	close_fd(&io.in);
	close_fd(&io.out);
	close_fd(&io.err);
	close_fd(&st_p[0]);
	if (io.epipe && !pipe_was_pending) {
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&pipeset, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	if (res->output != NULL)
		res->output[res->output_len] = '\0';
	if (res->errout != NULL)
		res->errout[res->errout_len] = '\0';
	return res->status;
}

void extprog_result_free(struct extprog_result *res)
{
	free(res->output);
	free(res->errout);
	res->output = NULL;
	res->errout = NULL;
	res->output_len = res->errout_len = 0;
}
