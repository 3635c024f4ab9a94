/* test_binary.c: unit tests of the compiler's back end through the public
 * API (sieve/sieve.h): the binary image round-trips through
 * sieve_binary_save/sieve_binary_read; every single-byte corruption and
 * every truncation of a small binary is rejected, or, with the header
 * repaired, rejected by the verifier or run without harm; a wrong magic or
 * version is rejected with a clear error; sieve_open_script caches
 * NAME.tmsbin beside NAME.sieve, reuses it while it is newer and recompiles
 * when the script changes or the cache is corrupt; dump output shows the
 * source lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sieve/sieve.h"
#include "sieve/binary-format.h"

/* A script that exercises most of the encoding: tags with parameters,
 * string lists, variables, jumps, blocks of if/elsif/else. */
static const char script_small[] =
	"require [\"fileinto\", \"variables\", \"envelope\"];\n"
	"set \"folder\" \"Lists\";\n"
	"if header :matches \"subject\" \"*[*]*\" {\n"
	"    fileinto \"${folder}/${2}\";\n"
	"} elsif anyof (address :domain :is \"from\" [\"example.org\", \"example.net\"],\n"
	"               envelope :localpart :contains \"to\" \"bob\") {\n"
	"    fileinto \"People\";\n"
	"    stop;\n"
	"} else {\n"
	"    if size :over 100K { discard; }\n"
	"}\n"
	"keep;\n";

static const char message[] =
	"From: Alice <alice@example.org>\r\n"
	"To: bob@example.com\r\n"
	"Subject: hello [tamis] world\r\n"
	"\r\n"
	"body\r\n";

static struct sieve_binary *compile_str(const char *src, const char *path, struct diag_list *d)
{
	struct sieve_compile_params p = { .script_name = "t", .script_path = path };
	return sieve_compile(src, strlen(src), &p, d);
}

static struct sieve_binary *compile_ok(const char *src)
{
	struct diag_list d;
	diag_init(&d);
	struct sieve_binary *b = compile_str(src, "/tmp/t.sieve", &d);
	if (b == NULL) {
		for (size_t i = 0; i < d.count; i++)
			print_error("%d: %s\n", d.items[i].line, d.items[i].msg);
	}
	assert_non_null(b);
	assert_int_equal(d.errors, 0);
	diag_free(&d);
	return b;
}

/* Runs b on the test message; returns the status (any is acceptable for a
 * corrupt binary: the point is that it returns). */
static int run_binary(struct sieve_binary *b, struct strbuf *out)
{
	struct arena *a = arena_new(4096);
	struct message *msg = msg_parse(a, message, sizeof(message) - 1);
	struct sieve_envelope env = { .from = "alice@example.org", .to = "bob@example.com",
				      .orig_to = "bob@example.com" };
	struct sieve_run_params rp = { .msg = msg, .env = &env };
	struct sieve_result *r = sieve_result_new();
	struct diag_list d;
	diag_init(&d);
	int st = sieve_run(b, &rp, r, &d);
	if (st > 0 && out != NULL)
		sieve_result_print(r, out, "INBOX");
	diag_free(&d);
	sieve_result_unref(&r);
	arena_unref(&a);
	return st;
}

static void fix_header(unsigned char *img, size_t len)
{
	struct binfmt_header h;
	memcpy(&h, img, sizeof(h));
	h.image_len = (uint32_t)len;
	h.checksum = binfmt_checksum(img + sizeof(h), len - sizeof(h));
	memcpy(img, &h, sizeof(h));
}

/* ---- temporary folder ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path);
}

static char *make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *t = malloc(4096);
	assert_non_null(t);
	snprintf(t, 4096, "%s/tamis-test-binary-XXXXXX", base != NULL ? base : "/tmp");
	assert_non_null(mkdtemp(t));
	return t;
}

static void remove_tmpdir(char *t)
{
	nftw(t, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Sets a file's modification time to now + delta seconds. */
static void set_mtime(const char *path, long delta)
{
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += delta;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static char *path_in(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);
	assert_non_null(p);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

/* ---- tests ---- */

static void test_roundtrip_save_read(void **state)
{
	(void)state;
	struct sieve_binary *b = compile_ok(script_small);
	size_t len;
	const unsigned char *img = sieve_binary_image(b, &len);
	assert_true(len > sizeof(struct binfmt_header));

	char *dir = make_tmpdir();
	char *path = path_in(dir, "t.tmsbin");
	const char *err = NULL;
	assert_int_equal(sieve_binary_save(b, path, &err), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((size_t)st.st_size, len);

	struct sieve_binary *b2 = sieve_binary_read(path, &err);
	assert_non_null(b2);
	size_t len2;
	const unsigned char *img2 = sieve_binary_image(b2, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(img, img2, len);
	assert_string_equal(sieve_binary_script_name(b2), "t");

	/* Same dump, same behaviour. */
	struct strbuf d1 = STRBUF_INIT, d2 = STRBUF_INIT, r1 = STRBUF_INIT, r2 = STRBUF_INIT;
	sieve_binary_dump(b, &d1);
	sieve_binary_dump(b2, &d2);
	assert_string_equal(d1.data, d2.data);
	assert_true(run_binary(b, &r1) > 0);
	assert_true(run_binary(b2, &r2) > 0);
	assert_string_equal(r1.data, r2.data);
	assert_non_null(strstr(r1.data, "Lists/tamis"));

	/* Saving again over the file replaces it, and no temporary file is
	   left behind. */
	assert_int_equal(sieve_binary_save(b2, path, &err), 0);
	DIR *dh = opendir(dir);
	assert_non_null(dh);
	int entries = 0;
	for (struct dirent *e; (e = readdir(dh)) != NULL;)
		if (e->d_name[0] != '.')
			entries++;
	closedir(dh);
	assert_int_equal(entries, 1);

	/* A folder that does not exist: an error, not a crash. */
	char *bad = path_in(dir, "missing/t.tmsbin");
	err = NULL;
	assert_int_equal(sieve_binary_save(b, bad, &err), -1);
	assert_non_null(err);
	assert_null(sieve_binary_read(bad, &err));
	assert_non_null(err);

	strbuf_free(&d1); strbuf_free(&d2); strbuf_free(&r1); strbuf_free(&r2);
	free(bad); free(path);
	remove_tmpdir(dir);
	sieve_binary_unref(&b2);
	sieve_binary_unref(&b);
}

static void test_image_reload_is_stable(void **state)
{
	(void)state;
	/* Every loaded image loads again to the same bytes. */
	static const char *const scripts[] = {
		"keep;",
		"",
		"# only a comment\n",
		"require \"fileinto\"; fileinto \"a\"; fileinto \"b\"; fileinto \"a\";",
		"if true { stop; } if false { discard; } if not exists \"x\" { keep; }",
		script_small,
	};
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		struct sieve_binary *b = compile_ok(scripts[i]);
		size_t len;
		const unsigned char *img = sieve_binary_image(b, &len);
		const char *err = NULL;
		struct sieve_binary *b2 = sieve_binary_load(img, len, &err);
		assert_non_null(b2);
		assert_null(err);
		size_t len2;
		assert_memory_equal(sieve_binary_image(b2, &len2), img, len);
		assert_true(run_binary(b2, NULL) > 0);
		sieve_binary_unref(&b2);
		sieve_binary_unref(&b);
	}
}

static void test_single_byte_corruptions(void **state)
{
	(void)state;
	struct sieve_binary *b = compile_ok(script_small);
	size_t len;
	const unsigned char *img = sieve_binary_image(b, &len);
	unsigned char *c = malloc(len);
	assert_non_null(c);
	static const unsigned char xors[] = { 0x01, 0x02, 0x10, 0x80, 0xff };
	size_t rejected = 0, fixed_rejected = 0, fixed_ran = 0;
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(xors); k++) {
			memcpy(c, img, len);
			c[i] ^= xors[k];
			const char *err = NULL;
			struct sieve_binary *x = sieve_binary_load(c, len, &err);
			/* Only the header's flags and reserved words are outside
			   the checksum; a change anywhere else is caught. */
			bool unchecked = i >= offsetof(struct binfmt_header, flags) &&
				i < sizeof(struct binfmt_header);
			if (!unchecked) {
				assert_null(x);
				assert_non_null(err);
				rejected++;
			} else if (x != NULL) {
				(void)run_binary(x, NULL);
			}
			sieve_binary_unref(&x);

			/* With magic, length and checksum repaired the verifier
			   must reject it, or it must run without harm. */
			if (i >= offsetof(struct binfmt_header, image_len) &&
			    i < offsetof(struct binfmt_header, flags))
				continue;   /* the fix-up overwrites this byte */
			if (i < offsetof(struct binfmt_header, image_len))
				continue;   /* magic/version: see the next test */
			fix_header(c, len);
			err = NULL;
			x = sieve_binary_load(c, len, &err);
			if (x == NULL) {
				assert_non_null(err);
				fixed_rejected++;
			} else {
				(void)run_binary(x, NULL);
				struct strbuf dump = STRBUF_INIT;
				sieve_binary_dump(x, &dump);
				strbuf_free(&dump);
				fixed_ran++;
				sieve_binary_unref(&x);
			}
		}
	}
	/* Most repaired corruptions are still caught by the verifier. */
	assert_true(rejected > 0);
	assert_true(fixed_rejected > fixed_ran);
	free(c);
	sieve_binary_unref(&b);
}

static void test_truncations(void **state)
{
	(void)state;
	struct sieve_binary *b = compile_ok(script_small);
	size_t len;
	const unsigned char *img = sieve_binary_image(b, &len);
	for (size_t n = 0; n < len; n++) {
		/* Exact-size copies so that a read past the end would show
		   under the sanitizers. */
		unsigned char *c = malloc(n ? n : 1);
		assert_non_null(c);
		memcpy(c, img, n);
		const char *err = NULL;
		struct sieve_binary *x = sieve_binary_load(c, n, &err);
		assert_null(x);
		assert_non_null(err);
		if (n >= sizeof(struct binfmt_header)) {
			fix_header(c, n);
			err = NULL;
			x = sieve_binary_load(c, n, &err);
			if (x == NULL)
				assert_non_null(err);
			else
				(void)run_binary(x, NULL);
			sieve_binary_unref(&x);
		}
		free(c);
	}
	/* Bytes appended: the length no longer matches. */
	unsigned char *c = malloc(len + 8);
	assert_non_null(c);
	memcpy(c, img, len);
	memset(c + len, 0, 8);
	const char *err = NULL;
	assert_null(sieve_binary_load(c, len + 8, &err));
	assert_non_null(strstr(err, "length"));
	free(c);
	sieve_binary_unref(&b);
}

static void test_bad_magic_and_version(void **state)
{
	(void)state;
	struct sieve_binary *b = compile_ok(script_small);
	size_t len;
	const unsigned char *img = sieve_binary_image(b, &len);
	unsigned char *c = malloc(len);
	assert_non_null(c);
	struct binfmt_header h;
	const char *err;

	memcpy(c, img, len);
	memcpy(&h, c, sizeof(h));
	h.magic ^= 0x01000000u;
	memcpy(c, &h, sizeof(h));
	err = NULL;
	assert_null(sieve_binary_load(c, len, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "magic"));

	/* A Sieve script or a Pigeonhole .svbin is not a Tamis binary. */
	err = NULL;
	assert_null(sieve_binary_load(script_small, sizeof(script_small) - 1, &err));
	assert_non_null(strstr(err, "magic"));
	static const unsigned char svbin[32] = "\xde\xad\xbe\xef" "\x01\x00\x04\x00";
	err = NULL;
	assert_null(sieve_binary_load(svbin, sizeof(svbin), &err));
	assert_non_null(strstr(err, "magic"));

	memcpy(c, img, len);
	memcpy(&h, c, sizeof(h));
	h.version += 1;
	memcpy(c, &h, sizeof(h));
	err = NULL;
	assert_null(sieve_binary_load(c, len, &err));
	assert_non_null(strstr(err, "version"));
	h.version = 0;
	memcpy(c, &h, sizeof(h));
	err = NULL;
	assert_null(sieve_binary_load(c, len, &err));
	assert_non_null(strstr(err, "version"));

	/* Too short for a header. */
	err = NULL;
	assert_null(sieve_binary_load(img, 3, &err));
	assert_non_null(strstr(err, "truncated"));
	free(c);
	sieve_binary_unref(&b);
}

static struct sieve_binary *open_script(const char *path, bool *from_cache, struct diag_list *d)
{
	struct sieve_compile_params p = { .script_name = "user" };
	return sieve_open_script(path, &p, d, from_cache);
}

/* A cached binary whose extensions the settings no longer allow is not
 * used: the script is compiled again and fails as it should.  (An admin
 * turning an extension off, or a .tmsbin put beside a user's script, must
 * not let a script keep using it.) */
static void test_open_script_cache_disabled_extension(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char *spath = path_in(dir, "user.sieve");
	char *bpath = path_in(dir, "user.tmsbin");
	struct diag_list d;
	diag_init(&d);
	bool cached = true;
	const char *src = "require \"editheader\"; addheader \"X-A\" \"1\";\n";
	write_file(spath, src, strlen(src));
	set_mtime(spath, -100);

	struct sieve_config *on = sieve_config_new();
	sieve_config_set(on, "sieve_extensions", "+editheader");
	struct sieve_compile_params p = { .script_name = "user", .cfg = on };
	struct sieve_binary *b = sieve_open_script(spath, &p, &d, &cached);
	assert_non_null(b);
	assert_false(cached);
	sieve_binary_unref(&b);
	set_mtime(bpath, -50);
	b = sieve_open_script(spath, &p, &d, &cached);
	assert_non_null(b);
	assert_true(cached);
	sieve_binary_unref(&b);

	/* The same cache, newer than the script, under default settings
	   (editheader off): not used, and the compile fails. */
	struct sieve_config *off = sieve_config_new();
	struct sieve_compile_params q = { .script_name = "user", .cfg = off };
	b = sieve_open_script(spath, &q, &d, &cached);
	assert_null(b);
	assert_false(cached);
	assert_true(d.errors > 0);

	sieve_config_unref(&on);
	sieve_config_unref(&off);
	diag_free(&d);
	unlink(bpath);
	unlink(spath);
	rmdir(dir);
	free(bpath);
	free(spath);
	free(dir);
}

static void test_open_script_cache(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char *spath = path_in(dir, "user.sieve");
	char *bpath = path_in(dir, "user.tmsbin");
	char *bp2 = sieve_binary_path_for(spath);
	assert_string_equal(bp2, bpath);
	free(bp2);
	struct diag_list d;
	diag_init(&d);
	bool cached = true;

	/* First open: compiles and writes the cache beside the script. */
	const char *v1 = "require \"fileinto\"; fileinto \"One\";\n";
	write_file(spath, v1, strlen(v1));
	set_mtime(spath, -100);
	struct sieve_binary *b = open_script(spath, &cached, &d);
	assert_non_null(b);
	assert_false(cached);
	assert_int_equal(access(bpath, R_OK), 0);
	struct strbuf out = STRBUF_INIT;
	assert_true(run_binary(b, &out) > 0);
	assert_non_null(strstr(out.data, "One"));
	strbuf_truncate(&out, 0);
	sieve_binary_unref(&b);

	/* Second open: the cache is newer than the script, reused. */
	set_mtime(bpath, -50);
	b = open_script(spath, &cached, &d);
	assert_non_null(b);
	assert_true(cached);
	sieve_binary_unref(&b);

	/* The script changes (newer than the cache): compiled again, and
	   the cache now holds the new version. */
	const char *v2 = "require \"fileinto\"; fileinto \"Two\";\n";
	write_file(spath, v2, strlen(v2));
	set_mtime(spath, -10);
	b = open_script(spath, &cached, &d);
	assert_non_null(b);
	assert_false(cached);
	assert_true(run_binary(b, &out) > 0);
	assert_non_null(strstr(out.data, "Two"));
	strbuf_truncate(&out, 0);
	sieve_binary_unref(&b);
	set_mtime(bpath, 0);
	b = open_script(spath, &cached, &d);
	assert_non_null(b);
	assert_true(cached);
	assert_true(run_binary(b, &out) > 0);
	assert_non_null(strstr(out.data, "Two"));
	strbuf_truncate(&out, 0);
	sieve_binary_unref(&b);

	/* Corrupt caches, all newer than the script: each is rejected, the
	   script compiled again and the cache rewritten. */
	struct stat st;
	assert_int_equal(stat(bpath, &st), 0);
	size_t good_len = (size_t)st.st_size;
	unsigned char *good = malloc(good_len);
	assert_non_null(good);
	FILE *f = fopen(bpath, "rb");
	assert_non_null(f);
	assert_int_equal(fread(good, 1, good_len, f), good_len);
	fclose(f);
	unsigned char *bad = malloc(good_len);
	assert_non_null(bad);
	for (int kind = 0; kind < 6; kind++) {
		size_t n = good_len;
		memcpy(bad, good, good_len);
		switch (kind) {
		case 0: n = 0; break;                          /* empty */
		case 1: n = good_len / 2; break;               /* truncated */
		case 2: bad[good_len - 3] ^= 0x5a; break;      /* flipped byte */
		case 3: memset(bad, 'x', n); break;            /* garbage */
		case 4: bad[4] ^= 0x7f; break;                 /* version */
		case 5: bad[good_len / 2] ^= 0x01; fix_header(bad, n); break;
		}
		write_file(bpath, bad, n);
		set_mtime(bpath, 0);
		diag_clear(&d);
		b = open_script(spath, &cached, &d);
		assert_non_null(b);
		if (kind != 5)
			assert_false(cached);
		/* kind 5 is a valid image again (only its contents changed):
		   it may be used, and do something else, but never crash. */
		if (run_binary(b, &out) > 0 || kind != 5) {
			if (kind != 5)
				assert_non_null(strstr(out.data, "Two"));
		}
		strbuf_truncate(&out, 0);
		sieve_binary_unref(&b);
		const char *err = NULL;
		struct sieve_binary *rb = sieve_binary_read(bpath, &err);
		if (kind != 5)
			assert_non_null(rb);   /* rewritten */
		sieve_binary_unref(&rb);
	}

	/* A cache written for another script path is not used. */
	char *other = path_in(dir, "other.sieve");
	write_file(other, v1, strlen(v1));
	set_mtime(other, -100);
	b = open_script(other, &cached, &d);
	assert_non_null(b);
	sieve_binary_unref(&b);
	char *obin = path_in(dir, "other.tmsbin");
	assert_int_equal(rename(obin, bpath), 0);
	set_mtime(bpath, 0);
	b = open_script(spath, &cached, &d);
	assert_non_null(b);
	assert_false(cached);
	assert_true(run_binary(b, &out) > 0);
	assert_non_null(strstr(out.data, "Two"));
	strbuf_truncate(&out, 0);
	sieve_binary_unref(&b);

	/* The cache path is a folder: the script still runs. */
	assert_int_equal(unlink(bpath), 0);
	assert_int_equal(mkdir(bpath, 0700), 0);
	b = open_script(spath, &cached, &d);
	assert_non_null(b);
	assert_false(cached);
	sieve_binary_unref(&b);
	assert_int_equal(rmdir(bpath), 0);

	/* A script with errors: NULL, the errors, and no cache written. */
	const char *v3 = "fileinto \"x\";\nif { keep; }\n";
	write_file(spath, v3, strlen(v3));
	set_mtime(spath, 0);
	diag_clear(&d);
	b = open_script(spath, &cached, &d);
	assert_null(b);
	assert_true(d.errors > 0);
	assert_int_equal(access(bpath, F_OK), -1);

	/* A missing script: an error, no crash. */
	char *missing = path_in(dir, "missing.sieve");
	diag_clear(&d);
	b = open_script(missing, &cached, &d);
	assert_null(b);
	assert_true(d.errors > 0);

	free(missing); free(obin); free(other);
	free(good); free(bad);
	strbuf_free(&out);
	diag_free(&d);
	free(spath); free(bpath);
	remove_tmpdir(dir);
}

static void test_dump_mentions_source_lines(void **state)
{
	(void)state;
	struct sieve_binary *b = compile_ok(script_small);
	struct strbuf out = STRBUF_INIT;
	sieve_binary_dump(b, &out);
	assert_non_null(out.data);
	/* Commands on lines 2, 3, 4, 5, 7, 8, 10 and 12 of script_small. */
	static const int lines[] = { 2, 3, 4, 5, 7, 8, 10, 12 };
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char needle[16];
		snprintf(needle, sizeof(needle), "%4d: ", lines[i]);
		if (strstr(out.data, needle) == NULL)
			fail_msg("line %d missing from the dump:\n%s", lines[i], out.data);
	}
	assert_non_null(strstr(out.data, "fileinto"));
	assert_non_null(strstr(out.data, "header"));
	assert_non_null(strstr(out.data, "\"People\""));
	assert_non_null(strstr(out.data, "variables"));
	strbuf_free(&out);
	sieve_binary_unref(&b);
}

static void test_compile_errors_give_no_binary(void **state)
{
	(void)state;
	struct diag_list d;
	diag_init(&d);
	d.max_items = 0;
	/* (the missing ';' after stop is found at the end of the file, line 4) */
	struct sieve_binary *b = compile_str("fileinto \"x\";\nif header :bogus \"a\" \"b\" { keep; }\nstop\n",
					     NULL, &d);
	assert_null(b);
	assert_true(d.errors >= 1);
	for (size_t i = 0; i < d.count; i++)
		if (d.items[i].level == DIAG_ERROR && d.items[i].line > 0)
			assert_true(d.items[i].line <= 4);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_save_read),
		cmocka_unit_test(test_image_reload_is_stable),
		cmocka_unit_test(test_single_byte_corruptions),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_bad_magic_and_version),
		cmocka_unit_test(test_open_script_cache),
		cmocka_unit_test(test_open_script_cache_disabled_extension),
		cmocka_unit_test(test_dump_mentions_source_lines),
		cmocka_unit_test(test_compile_errors_give_no_binary),
	};
	return cmocka_run_group_tests_name("binary", tests, NULL, NULL);
}
