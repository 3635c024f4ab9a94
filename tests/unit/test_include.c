/* test_include.c: unit tests of the include extension's binary side and of
 * the multiscript API, through the engine's public functions with an
 * in-memory host: every included script lives in the one binary (its
 * SCRIPTS table round-trips through save/load), a corrupted table or a
 * jump leaving a script's range is refused by the verifier, globals are
 * shared at run time, a cached binary goes stale when an included file
 * changes, and a script sequence keeps, files and fails as Pigeonhole's
 * sieve_multiscript does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "sieve/engine.h"
#include "sieve/binary-format.h"

/* ---- an in-memory host ---- */

struct mem_script {
	const char *name;
	bool global;
	const char *src;
};

struct mem_host {
	const struct mem_script *scripts;
	size_t nscripts;
	int stores;                  /* store calls */
	char last_box[64];
	size_t last_nflags;
};

static int mem_include_load(void *ctx, bool global, const char *name, struct strbuf *src_r,
			    const char **path_r, const char **error_r)
{
	struct mem_host *h = ctx;
	for (size_t i = 0; i < h->nscripts; i++) {
		if (h->scripts[i].global == global && strcmp(h->scripts[i].name, name) == 0) {
			strbuf_puts(src_r, h->scripts[i].src);
			*path_r = "";
			return 1;
		}
	}
	return 0;
}

static int mem_store(void *ctx, const char *mailbox, bool create, const struct message *msg,
		     const char *const *flags, size_t nflags, const char **error_r)
{
	struct mem_host *h = ctx;
	h->stores++;
	snprintf(h->last_box, sizeof(h->last_box), "%s", mailbox);
	h->last_nflags = nflags;
	return 0;
}

static struct sieve_binary *compile(struct mem_host *mh, const char *src, struct diag_list *d)
{
	struct sieve_host host = { .ctx = mh, .include_load = mem_include_load };
	struct sieve_compile_params p = { .script_name = "main", .host = &host };
	return sieve_compile(src, strlen(src), &p, d);
}

static const struct mem_script lib_scripts[] = {
	{ "inc", false, "require [\"include\", \"variables\", \"fileinto\"];\n"
			"global \"g\";\nset \"g\" \"${g}+\";\nfileinto \"inc-${g}\";\n" },
	{ "ginc", true, "require [\"include\", \"variables\"];\nset \"global.g\" \"G\";\nreturn;\n" },
};

static const char main_src[] =
	"require [\"include\", \"variables\", \"fileinto\"];\n"
	"global \"g\";\n"
	"include :global \"ginc\";\n"
	"include \"inc\";\n"
	"include :once \"inc\";\n"
	"include :optional \"none\";\n"
	"fileinto \"main-${g}\";\n";

static size_t actions(struct sieve_binary *b, struct sieve_result *r, char boxes[][64], size_t max)
{
	struct arena *ma = arena_new(4096);
	static const char m[] = "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n";
	struct message *msg = msg_parse(ma, arena_memdup(ma, m, sizeof(m) - 1), sizeof(m) - 1);
	struct sieve_run_params rp = { .msg = msg };
	struct diag_list d;
	diag_init(&d);
	assert_int_equal(sieve_run(b, &rp, r, &d), SIEVE_OK);
	size_t n = r->count < max ? r->count : max;
	for (size_t i = 0; i < n; i++)
		snprintf(boxes[i], 64, "%s", r->actions[i]->mailbox != NULL ? r->actions[i]->mailbox : "");
	diag_free(&d);
	arena_unref(&ma);
	return r->count;
}

static void test_binary_holds_includes(void **state)
{
	struct mem_host mh = { lib_scripts, 2, 0, "", 0 };
	struct diag_list d;
	diag_init(&d);
	struct sieve_binary *b = compile(&mh, main_src, &d);
	assert_non_null(b);
	assert_int_equal(b->nscripts, 4);
	assert_string_equal(b->scripts[1].name, "ginc");
	assert_true(b->scripts[1].flags & SV_BS_GLOBAL);
	assert_string_equal(b->scripts[2].name, "inc");
	assert_true(b->scripts[3].flags & SV_BS_MISSING);
	assert_int_equal(b->nglobals, 1);

	/* Through the serialized image and back. */
	size_t len;
	const unsigned char *img = sieve_binary_image(b, &len);
	const char *err;
	struct sieve_binary *b2 = sieve_binary_load(img, len, &err);
	assert_non_null(b2);
	assert_int_equal(b2->nscripts, 4);

	struct sieve_result *r = sieve_result_new();
	char boxes[8][64];
	assert_int_equal(actions(b2, r, boxes, 8), 2);
	assert_string_equal(boxes[0], "inc-G+");
	assert_string_equal(boxes[1], "main-G+");
	sieve_result_unref(&r);
	sieve_binary_unref(&b2);
	sieve_binary_unref(&b);
	diag_free(&d);
}

static void test_upload_only_warns(void **state)
{
	static const struct mem_script s[] = {
		{ "a", false, "require \"include\";\ninclude \"b\";\n" },
		{ "b", false, "require \"include\";\ninclude \"a\";\n" },
	};
	struct mem_host mh = { s, 2, 0, "", 0 };
	struct sieve_host host = { .ctx = &mh, .include_load = mem_include_load };
	static const char src[] = "require \"include\";\ninclude \"gone\";\ninclude \"a\";\n";
	struct diag_list d;
	diag_init(&d);
	struct sieve_compile_params p = { .script_name = "main", .host = &host, .uploaded = true };
	struct sieve_binary *b = sieve_compile(src, sizeof(src) - 1, &p, &d);
	assert_non_null(b);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 2);
	assert_string_equal(d.items[0].msg, "included personal script 'gone' does not exist (ignored during upload)");
	assert_string_equal(d.items[1].msg, "circular include (ignored during upload)");
	sieve_binary_unref(&b);
	/* The same script is refused when it is not an upload. */
	diag_clear(&d);
	p.uploaded = false;
	assert_null(sieve_compile(src, sizeof(src) - 1, &p, &d));
	diag_free(&d);
}

/* Rewrites the checksum so that the verifier, not the CRC, judges. */
static void fix_checksum(unsigned char *img, size_t len)
{
	struct binfmt_header h;
	memcpy(&h, img, sizeof(h));
	h.checksum = binfmt_checksum(img + sizeof(h), len - sizeof(h));
	memcpy(img, &h, sizeof(h));
}

static const unsigned char *section_of(const unsigned char *img, uint32_t id, uint32_t *len_r)
{
	struct binfmt_header h;
	memcpy(&h, img, sizeof(h));
	for (uint32_t i = 0; i < h.nsections; i++) {
		struct binfmt_section s;
		memcpy(&s, img + sizeof(h) + i * sizeof(s), sizeof(s));
		if (s.id == id) {
			*len_r = s.length;
			return img + s.offset;
		}
	}
	return NULL;
}

static void test_verifier_refuses_bad_scripts_table(void **state)
{
	struct mem_host mh = { lib_scripts, 2, 0, "", 0 };
	struct diag_list d;
	diag_init(&d);
	struct sieve_binary *b = compile(&mh, main_src, &d);
	assert_non_null(b);
	size_t len;
	const unsigned char *orig = sieve_binary_image(b, &len);
	unsigned char *img = malloc(len);
	uint32_t slen;
	const char *err;
	/* Each entry: u32 start, end, nvars, flags, name, path, first, n. */
	static const struct { size_t entry, word; uint32_t delta; } cases[] = {
		{ 1, 1, 1 },            /* end of "ginc" moved: ranges overlap */
		{ 2, 0, (uint32_t)-1 }, /* start of "inc" not where "ginc" ended */
		{ 0, 3, SV_BS_MISSING },/* main flagged missing */
		{ 2, 2, 1000000 },      /* absurd variable count */
		{ 1, 7, 1000 },         /* extension list out of range */
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		memcpy(img, orig, len);
		unsigned char *sec = (unsigned char *)section_of(img, SV_SEC_SCRIPTS, &slen);
		assert_non_null(sec);
		uint32_t v;
		size_t at = 4 + cases[k].entry * 32 + cases[k].word * 4;
		memcpy(&v, sec + at, 4);
		v = cases[k].word == 3 ? (v | cases[k].delta) : v + cases[k].delta;
		memcpy(sec + at, &v, 4);
		fix_checksum(img, len);
		struct sieve_binary *bad = sieve_binary_load(img, len, &err);
		assert_null(bad);
	}
	/* A global slot past the scope: META says 0 globals. */
	memcpy(img, orig, len);
	unsigned char *meta = (unsigned char *)section_of(img, SV_SEC_META, &slen);
	uint32_t zero = 0;
	memcpy(meta + 12, &zero, 4);
	fix_checksum(img, len);
	assert_null(sieve_binary_load(img, len, &err));
	free(img);
	sieve_binary_unref(&b);
	diag_free(&d);
}

static void test_jump_out_of_script_refused(void **state)
{
	static const struct mem_script s[] = {
		{ "sub", false, "if header :is \"subject\" \"x\" { keep; }\n" },
	};
	struct mem_host mh = { s, 1, 0, "", 0 };
	struct diag_list d;
	diag_init(&d);
	struct sieve_binary *b = compile(&mh, "require \"include\";\ninclude \"sub\";\nkeep;\n", &d);
	assert_non_null(b);
	size_t len;
	const unsigned char *orig = sieve_binary_image(b, &len);
	unsigned char *img = malloc(len);
	memcpy(img, orig, len);
	uint32_t clen;
	unsigned char *code = (unsigned char *)section_of(img, SV_SEC_CODE, &clen);
	/* The included script's JMPFALSE: retarget it to the main script's
	   first instruction (0), a valid instruction outside its range. */
	uint32_t start = b->scripts[1].code_start;
	size_t at = 0;
	for (size_t i = start; i < clen; i++)
		if (code[i] == SV_OP_JMPFALSE) {
			at = i;
			break;
		}
	assert_true(at > 0);
	uint32_t zero = 0;
	memcpy(code + at + 1, &zero, 4);
	fix_checksum(img, len);
	const char *err;
	assert_null(sieve_binary_load(img, len, &err));
	free(img);
	sieve_binary_unref(&b);
	diag_free(&d);
}

struct dir_host {
	const struct sieve_config *cfg;
	char *path;
};

static int dir_include_load(void *ctx, bool global, const char *name, struct strbuf *src_r,
			    const char **path_r, const char **error_r)
{
	struct dir_host *h = ctx;
	free(h->path);
	h->path = NULL;
	int r = sieve_include_location_load(sieve_include_location(h->cfg, global), name, src_r,
					    &h->path, error_r);
	*path_r = h->path;
	return r;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_location_loader_and_stale_cache(void **state)
{
	char dir[] = "/tmp/tamis-inc-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char main_path[256], sub_path[256], bin_path[256];
	snprintf(main_path, sizeof(main_path), "%s/main.sieve", dir);
	snprintf(sub_path, sizeof(sub_path), "%s/sub.sieve", dir);
	snprintf(bin_path, sizeof(bin_path), "%s/main.tmsbin", dir);
	write_text(main_path, "require \"include\";\ninclude \"sub\";\n");
	write_text(sub_path, "keep;\n");
	struct sieve_config *cfg = sieve_config_new();
	sieve_config_set(cfg, "sieve_dir", dir);

	struct strbuf src = STRBUF_INIT;
	char *path = NULL;
	const char *err = NULL;
	const char *loc = sieve_include_location(cfg, false);
	assert_int_equal(sieve_include_location_load(loc, "sub", &src, &path, &err), 1);
	assert_string_equal(path, sub_path);
	assert_string_equal(src.data, "keep;\n");
	free(path);
	assert_int_equal(sieve_include_location_load(loc, "nope", &src, &path, &err), 0);
	assert_int_equal(sieve_include_location_load("/nonexistent-dir", "sub", &src, &path, &err), -2);
	assert_int_equal(sieve_include_location_load(NULL, "sub", &src, &path, &err), 0);
	assert_null(sieve_include_location(cfg, true));
	strbuf_free(&src);

	/* The cached binary is reused until the included script changes. */
	struct dir_host dh = { cfg, NULL };
	struct sieve_host host = { .ctx = &dh, .include_load = dir_include_load };
	struct sieve_compile_params p = { .script_name = "main", .cfg = cfg, .host = &host };
	struct diag_list d;
	diag_init(&d);
	bool cached;
	struct sieve_binary *b = sieve_open_script(main_path, &p, &d, &cached);
	assert_non_null(b);
	assert_false(cached);
	sieve_binary_unref(&b);
	/* Make the script older than its binary so only the include decides. */
	struct timeval past[2] = { { time(NULL) - 100, 0 }, { time(NULL) - 100, 0 } };
	assert_int_equal(utimes(main_path, past), 0);
	assert_int_equal(utimes(sub_path, past), 0);
	b = sieve_open_script(main_path, &p, &d, &cached);
	assert_non_null(b);
	assert_true(cached);
	sieve_binary_unref(&b);
	struct timeval future[2] = { { time(NULL) + 100, 0 }, { time(NULL) + 100, 0 } };
	assert_int_equal(utimes(sub_path, future), 0);
	b = sieve_open_script(main_path, &p, &d, &cached);
	assert_non_null(b);
	assert_false(cached);
	sieve_binary_unref(&b);
	diag_free(&d);
	free(dh.path);
	sieve_config_unref(&cfg);
	unlink(main_path);
	unlink(sub_path);
	unlink(bin_path);
	rmdir(dir);
}

/* ---- multiscript ---- */

static struct sieve_binary *plain(const char *src)
{
	struct diag_list d;
	diag_init(&d);
	struct sieve_compile_params p = { .script_name = "s" };
	struct sieve_binary *b = sieve_compile(src, strlen(src), &p, &d);
	diag_free(&d);
	assert_non_null(b);
	return b;
}

static int sequence(struct mem_host *mh, const char *const *srcs, size_t n, bool *ran_all)
{
	struct arena *ma = arena_new(4096);
	static const char m[] = "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n";
	struct message *msg = msg_parse(ma, arena_memdup(ma, m, sizeof(m) - 1), sizeof(m) - 1);
	struct sieve_host host = { .ctx = mh, .store = mem_store };
	struct sieve_run_params rp = { .msg = msg, .host = &host };
	struct diag_list d;
	diag_init(&d);
	struct sieve_multiscript *ms = sieve_multiscript_start(&rp, NULL);
	bool more = true;
	size_t i;
	for (i = 0; i < n && more; i++) {
		struct sieve_binary *b = plain(srcs[i]);
		more = sieve_multiscript_run(ms, b, &d);
		sieve_binary_unref(&b);
	}
	*ran_all = i == n;
	bool keep;
	int st = sieve_multiscript_finish(&ms, &d, SIEVE_OK, &keep);
	diag_free(&d);
	arena_unref(&ma);
	return st;
}

static void test_multiscript_keep_continues(void **state)
{
	struct mem_host mh = { NULL, 0, 0, "", 0 };
	static const char *const s[] = { "keep;", "# nothing", "keep;" };
	bool all;
	assert_int_equal(sequence(&mh, s, 3, &all), SIEVE_OK);
	assert_true(all);
	assert_int_equal(mh.stores, 1);
	assert_string_equal(mh.last_box, "INBOX");
}

static void test_multiscript_fileinto_ends(void **state)
{
	struct mem_host mh = { NULL, 0, 0, "", 0 };
	static const char *const s[] = { "require \"fileinto\"; fileinto \"A\";", "keep;" };
	bool all;
	assert_int_equal(sequence(&mh, s, 2, &all), SIEVE_OK);
	assert_false(all);
	assert_int_equal(mh.stores, 1);
	assert_string_equal(mh.last_box, "A");
}

static void test_multiscript_discard_after_keep(void **state)
{
	struct mem_host mh = { NULL, 0, 0, "", 0 };
	static const char *const s[] = { "keep;", "discard;" };
	bool all;
	assert_int_equal(sequence(&mh, s, 2, &all), SIEVE_OK);
	assert_true(all);
	assert_int_equal(mh.stores, 0);
}

static void test_multiscript_failure_keeps(void **state)
{
	struct mem_host mh = { NULL, 0, 0, "", 0 };
	static const char *const s[] = {
		"require [\"fileinto\", \"copy\"]; fileinto :copy \"A\";",
		"redirect \"a@x.org\"; redirect \"b@x.org\"; redirect \"c@x.org\"; redirect \"d@x.org\"; redirect \"e@x.org\";",
		"keep;",
	};
	bool all;
	assert_int_equal(sequence(&mh, s, 3, &all), SIEVE_FAILURE);
	assert_false(all);
	/* "A" from the first script, then the failure's keep in INBOX. */
	assert_int_equal(mh.stores, 2);
	assert_string_equal(mh.last_box, "INBOX");
}

static void test_multiscript_discard_script(void **state)
{
	struct mem_host mh = { NULL, 0, 0, "", 0 };
	struct arena *ma = arena_new(4096);
	static const char m[] = "Subject: x\r\n\r\nbody\r\n";
	struct message *msg = msg_parse(ma, arena_memdup(ma, m, sizeof(m) - 1), sizeof(m) - 1);
	struct sieve_host host = { .ctx = &mh, .store = mem_store };
	struct sieve_run_params rp = { .msg = msg, .host = &host };
	struct diag_list d;
	diag_init(&d);
	struct sieve_multiscript *ms = sieve_multiscript_start(&rp, NULL);
	struct sieve_binary *b = plain("discard;");
	assert_false(sieve_multiscript_run(ms, b, &d));
	sieve_binary_unref(&b);
	assert_true(sieve_multiscript_will_discard(ms));
	b = plain("require \"fileinto\"; fileinto \"Trash\";");
	sieve_multiscript_run_discard(ms, b, &d);
	sieve_binary_unref(&b);
	assert_false(sieve_multiscript_will_discard(ms));
	bool keep;
	assert_int_equal(sieve_multiscript_finish(&ms, &d, SIEVE_OK, &keep), SIEVE_OK);
	assert_int_equal(mh.stores, 1);
	assert_string_equal(mh.last_box, "Trash");
	diag_free(&d);
	arena_unref(&ma);
}

static void test_multiscript_test_mode_prints(void **state)
{
	struct arena *ma = arena_new(4096);
	static const char m[] = "Subject: x\r\n\r\nbody\r\n";
	struct message *msg = msg_parse(ma, arena_memdup(ma, m, sizeof(m) - 1), sizeof(m) - 1);
	struct sieve_run_params rp = { .msg = msg };
	struct diag_list d;
	diag_init(&d);
	struct strbuf out = STRBUF_INIT;
	struct sieve_multiscript *ms = sieve_multiscript_start(&rp, &out);
	struct sieve_binary *b = plain("keep;");
	assert_true(sieve_multiscript_run(ms, b, &d));
	sieve_binary_unref(&b);
	assert_string_equal(out.data, "\nPerformed actions:\n\n * keep\n\nImplicit keep:\n\n  (none)\n\n");
	bool keep;
	assert_int_equal(sieve_multiscript_finish(&ms, &d, SIEVE_OK, &keep), SIEVE_OK);
	assert_false(keep);
	strbuf_free(&out);
	diag_free(&d);
	arena_unref(&ma);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary_holds_includes),
		cmocka_unit_test(test_upload_only_warns),
		cmocka_unit_test(test_verifier_refuses_bad_scripts_table),
		cmocka_unit_test(test_jump_out_of_script_refused),
		cmocka_unit_test(test_location_loader_and_stale_cache),
		cmocka_unit_test(test_multiscript_keep_continues),
		cmocka_unit_test(test_multiscript_fileinto_ends),
		cmocka_unit_test(test_multiscript_discard_after_keep),
		cmocka_unit_test(test_multiscript_failure_keeps),
		cmocka_unit_test(test_multiscript_discard_script),
		cmocka_unit_test(test_multiscript_test_mode_prints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
