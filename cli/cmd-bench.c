/* cmd-bench.c: `tamis bench`, a hidden subcommand that bench/run.py drives:
 * it measures the engine in one process, without process start-up or
 * file-system costs.
 *
 *   tamis bench compile SCRIPT [N]            compile SCRIPT N times (default 20)
 *   tamis bench run SCRIPT MSGDIR [COUNT]     run SCRIPT over COUNT messages
 *                                             (default 10000), cycling through
 *                                             the files of MSGDIR
 *   tamis bench run SCRIPT N                  run SCRIPT over N generated messages
 *
 * Each prints one line of key=value pairs ("compile: ..." or "run: ...") on
 * stdout.  Rules are the script's if/elsif commands. */
#include "cli/cli.h"
#include "grammar/ast.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static size_t count_rules(const struct ast_node *n)
{
	size_t c = 0;
	for (; n != NULL; n = n->next) {
		if (strcasecmp(n->ident, "if") == 0 || strcasecmp(n->ident, "elsif") == 0)
			c++;
		c += count_rules(n->block);
	}
	return c;
}

/* Compiles the script; prints the diagnostics when it fails. */
static struct sieve_binary *bench_compile_once(const char *path, const struct strbuf *src,
					       const struct sieve_config *cfg)
{
	struct sieve_compile_params p = { .script_name = "bench", .script_path = path, .cfg = cfg };
	struct diag_list d;
	diag_init(&d);
	struct sieve_binary *b = sieve_compile(src->data, src->len, &p, &d);
	if (b == NULL)
		cli_print_diags(&d, stderr);
	diag_free(&d);
	return b;
}

static int bench_compile(const char *path, const struct strbuf *src, const struct sieve_config *cfg,
			 long n)
{
	struct arena *a = arena_new(65536);
	struct diag_list d;
	diag_init(&d);
	struct ast_script *ast = NULL;
	(void)ast_parse(src->data, src->len, "bench", a, &d, &ast);
	size_t rules = ast != NULL ? count_rules(ast->commands) : 0;
	diag_free(&d);
	arena_unref(&a);

	double *t = calloc((size_t)n, sizeof(*t));
	if (t == NULL)
		abort();
	size_t image_len = 0;
	for (long i = 0; i < n; i++) {
		double t0 = now_s();
		struct sieve_binary *b = bench_compile_once(path, src, cfg);
		t[i] = now_s() - t0;
		if (b == NULL) {
			free(t);
			return 1;
		}
		(void)sieve_binary_image(b, &image_len);
		sieve_binary_unref(&b);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	double med = t[n / 2];
	printf("compile: bytes=%zu rules=%zu image_bytes=%zu iterations=%ld median_ms=%.3f min_ms=%.3f "
	       "rules_per_s=%.0f mb_per_s=%.2f\n",
	       src->len, rules, image_len, n, med * 1e3, t[0] * 1e3, (double)rules / med,
	       (double)src->len / med / 1e6);
	free(t);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads every regular file of dir into msgs (sorted by name). */
static size_t load_messages(const char *dir, struct strbuf **msgs_r)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				abort();
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	struct strbuf *msgs = calloc(n ? n : 1, sizeof(*msgs));
	if (msgs == NULL)
		abort();
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (cli_read_file(path, &msgs[m], 64u << 20) == 0)
			m++;
		else
			strbuf_free(&msgs[m]);
		free(names[i]);
	}
	free(names);
	*msgs_r = msgs;
	return m;
}

/* A generated message: senders, subjects and lists vary with i. */
static void synth_message(struct strbuf *out, unsigned long i)
{
	static const char *const words[] = { "invoice", "order", "meeting", "report", "alert",
					     "newsletter", "build", "ticket", "offer", "travel" };
	const char *w = words[i % 10], *w2 = words[(i / 10) % 10];
	strbuf_truncate(out, 0);
	strbuf_printf(out,
		      "Return-Path: <user%lu@example%lu.com>\r\n"
		      "From: \"User %lu\" <user%lu@example%lu.com>\r\n"
		      "To: bob@example.com\r\n"
		      "Subject: %s #%lu %s\r\n"
		      "List-Id: %s <%s-%s.lists.example.org>\r\n"
		      "Date: Mon, 6 Nov 2023 10:00:00 +0100\r\n"
		      "Message-ID: <%lu@example.org>\r\n"
		      "X-Spam-Score: %lu\r\n"
		      "\r\n"
		      "Hello,\r\nthis is message %lu about %s.\r\n",
		      i % 97, i % 7, i % 97, i % 97, i % 7, w, i, w2, w, w, w2, i, i % 12, i, w);
}

static int bench_run(const char *path, const struct strbuf *src, const struct sieve_config *cfg,
		     const char *msgarg, const char *countarg)
{
	struct sieve_binary *b = bench_compile_once(path, src, cfg);
	if (b == NULL)
		return 1;
	struct strbuf *msgs = NULL;
	size_t nmsgs = 0;
	unsigned long count;
	char *end;
	unsigned long asnum = strtoul(msgarg, &end, 10);
	bool synthetic = *msgarg != '\0' && *end == '\0';
	if (synthetic) {
		count = asnum;
	} else {
		nmsgs = load_messages(msgarg, &msgs);
		if (nmsgs == 0) {
			fprintf(stderr, "tamis bench: no messages in %s\n", msgarg);
			sieve_binary_unref(&b);
			free(msgs);
			return 1;
		}
		count = countarg != NULL ? strtoul(countarg, NULL, 10) : 10000;
	}
	struct sieve_envelope env = { .from = "sender@example.org", .to = "bob@example.com",
				      .orig_to = "bob@example.com" };
	struct strbuf synth = STRBUF_INIT;
	size_t actions = 0, keeps = 0, failures = 0;
	double t0 = now_s();
	for (unsigned long i = 0; i < count; i++) {
		const struct strbuf *m = &synth;
		if (synthetic)
			synth_message(&synth, i);
		else
			m = &msgs[i % nmsgs];
		struct arena *ma = arena_new(16384);
		struct message *msg = msg_parse(ma, m->data, m->len);
		struct sieve_run_params rp = { .cfg = cfg, .msg = msg, .env = &env };
		struct sieve_result *r = sieve_result_new();
		struct diag_list d;
		diag_init(&d);
		if (sieve_run(b, &rp, r, &d) > 0) {
			actions += sieve_result_action_count(r);
			keeps += sieve_result_implicit_keep(r);
		} else {
			failures++;
		}
		diag_free(&d);
		sieve_result_unref(&r);
		arena_unref(&ma);
	}
	double el = now_s() - t0;
	printf("run: messages=%lu seconds=%.3f messages_per_s=%.0f us_per_message=%.1f actions=%zu "
	       "implicit_keeps=%zu failures=%zu\n",
	       count, el, (double)count / el, el * 1e6 / (double)(count ? count : 1), actions, keeps, failures);
	strbuf_free(&synth);
	for (size_t i = 0; i < nmsgs; i++)
		strbuf_free(&msgs[i]);
	free(msgs);
	sieve_binary_unref(&b);
	return 0;
}

int cli_bench(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "compile") != 0 && strcmp(argv[1], "run") != 0) ||
	    (strcmp(argv[1], "run") == 0 && argc < 4)) {
		fprintf(stderr, "usage: tamis bench compile SCRIPT [N]\n"
				"       tamis bench run SCRIPT MSGDIR [COUNT]\n"
				"       tamis bench run SCRIPT N\n");
		return 2;
	}
	const char *path = argv[2];
	struct strbuf src = STRBUF_INIT;
	if (cli_read_file(path, &src, 64u << 20) < 0) {
		fprintf(stderr, "tamis: %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct sieve_config *cfg = sieve_config_new();
	/* The benchmark script may be larger than the 1 MB default. */
	sieve_config_set(cfg, "sieve_max_script_size", "0");
	int ret;
	if (strcmp(argv[1], "compile") == 0) {
		long n = argc > 3 ? strtol(argv[3], NULL, 10) : 20;
		ret = bench_compile(path, &src, cfg, n > 0 ? n : 1);
	} else {
		ret = bench_run(path, &src, cfg, argv[3], argc > 4 ? argv[4] : NULL);
	}
	sieve_config_unref(&cfg);
	strbuf_free(&src);
	return ret;
}
