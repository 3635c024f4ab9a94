/* test_maildir.c: unit tests for the Maildir++ store (storage/maildir.c)
 * and modified UTF-7 (storage/mutf7.c): name mapping and validation, the
 * on-disk formats Dovecot reads (file names, flags, dovecot-keywords,
 * subscriptions, maildirsize), crash safety and unique names under
 * concurrency.  Each test works in its own mkdtemp() directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/strbuf.h"
#include "lib/utf8.h"
#include "storage/maildir.h"
#include "storage/mutf7.h"

#define MSG "From: a@example.org\nSubject: hello\n\nbody\n"

struct fixture {
	char dir[64];
	char root[128];
	struct arena *arena;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/tamis-maildir-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/Maildir", f->dir);
	f->arena = arena_new(0);
	*state = f;
	return 0;
}

static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	(void)nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	arena_unref(&f->arena);
	free(f);
	return 0;
}

static struct maildir *open_md(struct fixture *f, const struct maildir_settings *set_in)
{
	struct maildir_settings set = { 0 };
	if (set_in != NULL)
		set = *set_in;
	set.create = true;
	const char *error = NULL;
	struct maildir *md = maildir_open(f->arena, f->root, &set, NULL, &error);
	if (md == NULL)
		fail_msg("maildir_open: %s", error);
	return md;
}

static char *path_of(struct fixture *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *path_of(struct fixture *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *rel = arena_vprintf(f->arena, fmt, ap);
	va_end(ap);
	return arena_printf(f->arena, "%s/%s", f->root, rel);
}

static char *slurp(struct fixture *f, const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_append(&sb, buf, n);
	fclose(fp);
	strbuf_reserve(&sb, 0);
	char *ret = arena_strdup(f->arena, sb.data);
	strbuf_free(&sb);
	return ret;
}

static void write_file(const char *path, const char *content)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs(content, fp);
	fclose(fp);
}

/* Entries in a directory not starting with '.'; the last one in *last_r. */
static size_t count_files(struct fixture *f, const char *dir, char **last_r)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		if (last_r != NULL)
			*last_r = arena_strdup(f->arena, de->d_name);
	}
	closedir(d);
	return n;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* ------------------------------------------------------------------ */

static void encode_eq(const char *utf8, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	assert_int_equal(mutf7_encode(utf8, strlen(utf8), &sb), 0);
	strbuf_reserve(&sb, 0);
	assert_string_equal(sb.data, want);
	struct strbuf back = STRBUF_INIT;
	assert_int_equal(mutf7_decode(sb.data, sb.len, &back), 0);
	strbuf_reserve(&back, 0);
	assert_string_equal(back.data, utf8);
	strbuf_free(&sb);
	strbuf_free(&back);
}

static void test_mutf7(void **state)
{
	encode_eq("INBOX", "INBOX");
	encode_eq("Entwürfe", "Entw&APw-rfe");
	encode_eq("y&z", "y&-z");
	encode_eq("&&", "&-&-");
	encode_eq("\t", "&AAk-");
	encode_eq("日本語", "&ZeVnLIqe-");
	encode_eq("Ünïcödé", "&ANw-n&AO8-c&APY-d&AOk-");
	encode_eq("😀", "&2D3eAA-");          /* surrogate pair */
	encode_eq("a😀b€", "a&2D3eAA-b&IKw-");

	static const char *const bad[] = {
		"&", "&APw", "&APx-", "&AGE-", "&2D0-", "&3gA-", "&A-", "&*-",
		"\x80", "caf\xc3\xa9", "&APwA-",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_puts(&sb, "keep");
		if (mutf7_decode(bad[i], strlen(bad[i]), &sb) != -1)
			fail_msg("decoded invalid mUTF-7 '%s'", bad[i]);
		assert_string_equal(sb.data, "keep");
		strbuf_free(&sb);
	}
	static const char *const bad_utf8[] = {
		"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe2\x82", "\xff", "a\x80",
	};
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		assert_false(utf8_valid(bad_utf8[i], strlen(bad_utf8[i])));
		assert_int_equal(mutf7_encode(bad_utf8[i], strlen(bad_utf8[i]), &sb), -1);
		strbuf_free(&sb);
	}
}

struct name_case {
	const char *name;
	const char *dirname;   /* NULL = invalid */
};

static void check_names(void **state, char sep, const struct name_case *cases, size_t n)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < n; i++) {
		const char *error = NULL;
		const char *got = maildir_mailbox_dirname(f->arena, cases[i].name, sep, &error);
		int valid = maildir_mailbox_valid(cases[i].name, sep, &error);
		if (cases[i].dirname == NULL) {
			if (got != NULL || valid != -1)
				fail_msg("sep '%c': '%s' accepted as '%s'", sep,
					 cases[i].name, got);
			assert_non_null(error);
			assert_non_null(strstr(error, "name"));
		} else {
			if (got == NULL)
				fail_msg("sep '%c': '%s' refused: %s", sep,
					 cases[i].name, error);
			assert_string_equal(got, cases[i].dirname);
			assert_int_equal(valid, 0);
		}
	}
}

static void test_names_dot(void **state)
{
	char a254[256], a255[257];
	memset(a254, 'a', 254); a254[254] = '\0';
	memset(a255, 'a', 255); a255[255] = '\0';
	char a256[258];
	memset(a256, 'a', 256); a256[256] = '\0';
	char uu[256] = "";
	for (int i = 0; i < 100; i++)
		strcat(uu, "ü");   /* 200 bytes, but 270 on disk */
	const struct name_case cases[] = {
		{ "INBOX", "" }, { "inbox", "" }, { "iNbOx", "" },
		{ "Inbox.Nonsense", ".INBOX.Nonsense" },
		{ "INBOX.Junk", ".INBOX.Junk" },
		{ "Entwürfe", ".Entw&APw-rfe" },
		{ "Lists.dovecot", ".Lists.dovecot" },
		{ "x.y&z", ".x.y&-z" },
		{ "a.inbox", ".a.inbox" },
		{ "x\\y", ".x\\y" },
		{ "Spam Folder", ".Spam Folder" },
		{ a255, NULL }, { a256, NULL }, { uu, NULL },
		{ "", NULL }, { ".", NULL }, { "..", NULL }, { "../x", NULL },
		{ "a/../../b", NULL }, { "a/b", NULL }, { "/etc", NULL },
		{ ".hidden", NULL }, { "a.", NULL }, { "a..b", NULL },
		{ "~x", NULL }, { "a\tb", NULL }, { "a\nb", NULL },
		{ "a\x7f", NULL }, { "a\xc2\x85", NULL }, { "I\x9b" "BOX", NULL },
		{ "bad\xff", NULL }, { "\xc0\xae\xc0\xae", NULL },
		{ "a\xc0\xaf" "b", NULL },
	};
	/* ".<254 bytes>" is the longest directory name there can be */
	struct fixture *f = *state;
	const char *error;
	const char *d254 = maildir_mailbox_dirname(f->arena, a254, '.', &error);
	assert_non_null(d254);
	assert_int_equal(strlen(d254), 255);
	check_names(state, '.', cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_names_slash(void **state)
{
	const struct name_case cases[] = {
		{ "INBOX", "" }, { "inbox/Junk", ".INBOX.Junk" },
		{ "a/b", ".a.b" }, { "Entwürfe/Sub", ".Entw&APw-rfe.Sub" },
		{ "x\\y", ".x\\y" }, { "a&b/c", ".a&-b.c" },
		{ "a.b", NULL }, { "../etc", NULL }, { "a//b", NULL },
		{ "/a", NULL }, { "a/", NULL }, { "a/./b", NULL },
		{ "foo//somedomain/org", NULL }, { "~root", NULL },
	};
	check_names(state, '/', cases, sizeof(cases) / sizeof(cases[0]));
	const char *error = NULL;
	assert_int_equal(maildir_mailbox_valid("a", 'x', &error), -1);
}

static void test_open(void **state)
{
	struct fixture *f = *state;
	const char *error = NULL;
	enum maildir_error kind = MAILDIR_ERROR_NONE;
	assert_null(maildir_open(f->arena, f->root, NULL, &kind, &error));
	assert_int_equal(kind, MAILDIR_ERROR_NOTFOUND);
	assert_non_null(strstr(error, "doesn't exist"));

	struct maildir_settings bad = { .sep = ':' };
	assert_null(maildir_open(f->arena, f->root, &bad, &kind, &error));
	assert_int_equal(kind, MAILDIR_ERROR_PARAMS);

	struct maildir *md = open_md(f, NULL);
	assert_true(is_dir(path_of(f, "cur")));
	assert_true(is_dir(path_of(f, "new")));
	assert_true(is_dir(path_of(f, "tmp")));
	assert_int_equal(maildir_sep(md), '.');
	maildir_close(&md);
	assert_null(md);

	/* trailing slashes are not part of the root */
	char *slashed = arena_printf(f->arena, "%s//", f->root);
	md = maildir_open(f->arena, slashed, NULL, NULL, &error);
	assert_non_null(md);
	assert_string_equal(maildir_root(md), f->root);
}

static void test_mailboxes(void **state)
{
	struct fixture *f = *state;
	struct maildir *md = open_md(f, NULL);
	const char *error = NULL;

	assert_int_equal(maildir_mailbox_exists(md, "INBOX", &error), 1);
	assert_int_equal(maildir_mailbox_exists(md, "Entwürfe", &error), 0);
	assert_int_equal(maildir_mailbox_exists(md, "../x", &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_PARAMS);

	assert_int_equal(maildir_mailbox_create(md, "Entwürfe", &error), 0);
	assert_int_equal(maildir_mailbox_create(md, "Lists.dovecot", &error), 0);
	assert_int_equal(maildir_mailbox_create(md, "inbox.Junk", &error), 0);
	assert_int_equal(maildir_mailbox_exists(md, "Entwürfe", &error), 1);
	assert_int_equal(maildir_mailbox_exists(md, "INBOX.junk", &error), 0);
	assert_int_equal(maildir_mailbox_exists(md, "INBOX.Junk", &error), 1);
	assert_true(is_dir(path_of(f, ".Entw&APw-rfe/cur")));
	assert_true(is_dir(path_of(f, ".Entw&APw-rfe/new")));
	assert_true(is_dir(path_of(f, ".Entw&APw-rfe/tmp")));
	assert_true(exists(path_of(f, ".Entw&APw-rfe/maildirfolder")));
	assert_true(is_dir(path_of(f, ".Lists.dovecot/cur")));
	assert_true(is_dir(path_of(f, ".INBOX.Junk/cur")));
	assert_false(exists(path_of(f, "maildirfolder")));

	assert_int_equal(maildir_mailbox_create(md, "Entwürfe", &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_EXISTS);
	assert_int_equal(maildir_mailbox_create(md, "INBOX", &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_EXISTS);
	assert_int_equal(maildir_mailbox_create(md, "a..b", &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_PARAMS);
	/* nothing left over from staging */
	assert_int_equal(count_files(f, path_of(f, "tmp"), NULL), 0);

	assert_string_equal(slurp(f, path_of(f, "subscriptions")),
			    "V\t2\n\nEntw&APw-rfe\nLists\tdovecot\nINBOX\tJunk\n");

	/* things that are not mailboxes we could have made */
	mkdir(path_of(f, ".&AGE-"), 0700);      /* non-canonical mUTF-7 */
	mkdir(path_of(f, ".INBOX"), 0700);      /* unreachable */
	mkdir(path_of(f, ".bad&"), 0700);
	write_file(path_of(f, ".notadir"), "x");
	mkdir(path_of(f, "..."), 0700);

	const char **names;
	size_t n;
	assert_int_equal(maildir_mailbox_list(md, f->arena, &names, &n, &error), 0);
	assert_int_equal(n, 4);
	assert_string_equal(names[0], "INBOX");
	assert_string_equal(names[1], "Entwürfe");
	assert_string_equal(names[2], "INBOX.Junk");
	assert_string_equal(names[3], "Lists.dovecot");

	/* unsubscribe / resubscribe */
	assert_int_equal(maildir_mailbox_subscribe(md, "Lists.dovecot", false, &error), 0);
	assert_string_equal(slurp(f, path_of(f, "subscriptions")),
			    "V\t2\n\nEntw&APw-rfe\nINBOX\tJunk\n");
	assert_int_equal(maildir_mailbox_subscribe(md, "Entwürfe", true, &error), 0);
	assert_int_equal(maildir_mailbox_subscribe(md, "inbox", true, &error), 0);
	assert_string_equal(slurp(f, path_of(f, "subscriptions")),
			    "V\t2\n\nEntw&APw-rfe\nINBOX\tJunk\nINBOX\n");
	assert_false(exists(path_of(f, "subscriptions.lock")));

	/* delete */
	const char *fn;
	assert_int_equal(maildir_deliver(md, "Lists.dovecot", MSG, strlen(MSG),
					 NULL, 0, &fn, &error), 0);
	assert_int_equal(maildir_mailbox_delete(md, "Lists.dovecot", &error), 0);
	assert_int_equal(maildir_mailbox_exists(md, "Lists.dovecot", &error), 0);
	assert_false(exists(path_of(f, ".Lists.dovecot")));
	assert_int_equal(count_files(f, path_of(f, "tmp"), NULL), 0);
	assert_int_equal(maildir_mailbox_delete(md, "Lists.dovecot", &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_NOTFOUND);
	assert_int_equal(maildir_mailbox_delete(md, "INBOX", &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_NOTPOSSIBLE);
	/* a symlinked folder is listed and takes mail, but isn't deleted */
	assert_int_equal(symlink(path_of(f, ".Entw&APw-rfe"), path_of(f, ".Linked")), 0);
	assert_int_equal(maildir_mailbox_exists(md, "Linked", &error), 1);
	assert_int_equal(maildir_mailbox_delete(md, "Linked", &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_NOTPOSSIBLE);
	assert_true(is_dir(path_of(f, ".Entw&APw-rfe/cur")));
	assert_true(is_dir(path_of(f, "cur")));
}

static void test_mailboxes_slash(void **state)
{
	struct fixture *f = *state;
	struct maildir_settings set = { .sep = '/' };
	struct maildir *md = open_md(f, &set);
	const char *error = NULL;
	assert_int_equal(maildir_mailbox_create(md, "Entwürfe/Sub", &error), 0);
	assert_int_equal(maildir_mailbox_create(md, "a.b", &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_PARAMS);
	assert_true(is_dir(path_of(f, ".Entw&APw-rfe.Sub/new")));
	assert_string_equal(slurp(f, path_of(f, "subscriptions")),
			    "V\t2\n\nEntw&APw-rfe\tSub\n");
	const char **names;
	size_t n;
	assert_int_equal(maildir_mailbox_list(md, f->arena, &names, &n, &error), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[1], "Entwürfe/Sub");
}

static void test_subscriptions_v1(void **state)
{
	struct fixture *f = *state;
	struct maildir_settings set = { .no_subscribe = true };
	struct maildir *md = open_md(f, &set);
	const char *error = NULL;
	assert_int_equal(maildir_mailbox_create(md, "Old", &error), 0);
	assert_false(exists(path_of(f, "subscriptions")));
	write_file(path_of(f, "subscriptions"), "INBOX.Old\n");
	assert_int_equal(maildir_mailbox_subscribe(md, "a.Entwürfe", true, &error), 0);
	assert_string_equal(slurp(f, path_of(f, "subscriptions")),
			    "INBOX.Old\na.Entw&APw-rfe\n");
}

/* name shape: <sec>.M<usec>P<pid>Q<n>R<hex>.<host>,S=<size>,W=<vsize> */
static void check_name(const char *fname, const char *host, size_t size,
		       size_t vsize, const char *info)
{
	regex_t re;
	assert_int_equal(regcomp(&re, "^[0-9]+\\.M[0-9]+P[0-9]+Q[0-9]+R[0-9a-f]{8}\\.",
				 REG_EXTENDED), 0);
	if (regexec(&re, fname, 0, NULL, 0) != 0)
		fail_msg("bad file name %s", fname);
	regfree(&re);
	char tail[512];
	snprintf(tail, sizeof(tail), ".%s,S=%zu,W=%zu%s", host, size, vsize, info);
	size_t fl = strlen(fname), tl = strlen(tail);
	if (fl < tl || strcmp(fname + fl - tl, tail) != 0)
		fail_msg("%s doesn't end in %s", fname, tail);
}

static void test_deliver_inbox(void **state)
{
	struct fixture *f = *state;
	struct maildir_settings set = { .hostname = "mx1.example.org" };
	struct maildir *md = open_md(f, &set);
	const char *error = NULL, *fn = NULL;
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, strlen(MSG), NULL, 0,
					 &fn, &error), 0);
	assert_non_null(fn);
	assert_memory_equal(fn, "new/", 4);
	/* 4 LF lines: W = S + 4 */
	check_name(fn + 4, "mx1.example.org", strlen(MSG), strlen(MSG) + 4, "");
	assert_string_equal(slurp(f, path_of(f, "%s", fn)), MSG);
	assert_int_equal(count_files(f, path_of(f, "tmp"), NULL), 0);
	struct stat st;
	assert_int_equal(stat(path_of(f, "%s", fn), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* CRLF message: W = S */
	const char *crlf = "Subject: x\r\n\r\nbody\r\n";
	assert_int_equal(maildir_deliver(md, "inbox", crlf, strlen(crlf), NULL, 0,
					 &fn, &error), 0);
	check_name(fn + 4, "mx1.example.org", strlen(crlf), strlen(crlf), "");

	/* empty message and binary bytes */
	assert_int_equal(maildir_deliver(md, "INBOX", "", 0, NULL, 0, &fn, &error), 0);
	check_name(fn + 4, "mx1.example.org", 0, 0, "");
	assert_int_equal(maildir_deliver(md, "INBOX", "a\0b\n", 4, NULL, 0, &fn, &error), 0);
	check_name(fn + 4, "mx1.example.org", 4, 5, "");
	assert_int_equal(count_files(f, path_of(f, "new"), NULL), 4);

	/* tmp/ and new/ gone (INBOX made by someone else): recreated */
	(void)rmdir(path_of(f, "tmp"));
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, strlen(MSG), NULL, 0, &fn, &error), 0);
}

static void test_deliver_hostname_escape(void **state)
{
	struct fixture *f = *state;
	struct maildir_settings set = { .hostname = "a/b:c,d" };
	struct maildir *md = open_md(f, &set);
	const char *error = NULL, *fn = NULL;
	assert_int_equal(maildir_deliver(md, "INBOX", "x", 1, NULL, 0, &fn, &error), 0);
	check_name(fn + 4, "a\\057b\\072c\\054d", 1, 1, "");
}

static void test_deliver_folder(void **state)
{
	struct fixture *f = *state;
	struct maildir *md = open_md(f, NULL);
	const char *error = NULL, *fn = NULL;
	assert_int_equal(maildir_deliver(md, "Nope", MSG, strlen(MSG), NULL, 0, &fn, &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_NOTFOUND);
	assert_non_null(strstr(error, "Nope"));
	assert_int_equal(maildir_deliver(md, "../../etc", MSG, strlen(MSG), NULL, 0, &fn, &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_PARAMS);
	assert_int_equal(maildir_deliver(md, "foo//somedomain/org", MSG, strlen(MSG), NULL, 0, &fn, &error), -1);
	assert_non_null(strstr(error, "name"));

	assert_int_equal(maildir_mailbox_create(md, "Entwürfe", &error), 0);
	assert_int_equal(maildir_deliver(md, "Entwürfe", MSG, strlen(MSG), NULL, 0, &fn, &error), 0);
	assert_string_equal(slurp(f, path_of(f, ".Entw&APw-rfe/%s", fn)), MSG);
	assert_int_equal(count_files(f, path_of(f, "new"), NULL), 0);

	/* a bare folder directory (no cur/new/tmp) still takes mail */
	mkdir(path_of(f, ".Bare"), 0700);
	assert_int_equal(maildir_deliver(md, "Bare", MSG, strlen(MSG), NULL, 0, &fn, &error), 0);
	assert_true(exists(path_of(f, ".Bare/%s", fn)));
}

static void test_deliver_flags(void **state)
{
	struct fixture *f = *state;
	struct maildir_settings set = { .hostname = "h" };
	struct maildir *md = open_md(f, &set);
	const char *error = NULL, *fn = NULL;
	size_t len = strlen(MSG), vlen = len + 4;

	const char *f1[] = { "\\Seen", "\\Flagged" };
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, len, f1, 2, &fn, &error), 0);
	assert_memory_equal(fn, "cur/", 4);
	check_name(fn + 4, "h", len, vlen, ":2,FS");

	const char *f2[] = { "\\seen \\DRAFT", "\\Answered\t\\Deleted" };
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, len, f2, 2, &fn, &error), 0);
	check_name(fn + 4, "h", len, vlen, ":2,DRST");

	/* not storable: \Recent, unknown system flags, broken keywords */
	const char *f3[] = { "\\Recent", "\\Frop", "bad(kw", "a\"b", "" };
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, len, f3, 5, &fn, &error), 0);
	assert_memory_equal(fn, "new/", 4);
	check_name(fn + 4, "h", len, vlen, "");
	assert_false(exists(path_of(f, "dovecot-keywords")));

	/* keywords: letters from dovecot-keywords, case-insensitive */
	const char *f4[] = { "$Junk NonJunk", "\\Seen", "$junk" };
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, len, f4, 3, &fn, &error), 0);
	check_name(fn + 4, "h", len, vlen, ":2,Sab");
	assert_string_equal(slurp(f, path_of(f, "dovecot-keywords")),
			    "0 $Junk\n1 NonJunk\n");
	const char *f5[] = { "$Label1", "nonjunk" };
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, len, f5, 2, &fn, &error), 0);
	check_name(fn + 4, "h", len, vlen, ":2,bc");
	assert_string_equal(slurp(f, path_of(f, "dovecot-keywords")),
			    "0 $Junk\n1 NonJunk\n2 $Label1\n");
	assert_false(exists(path_of(f, "dovecot-uidlist.lock")));
	assert_false(exists(path_of(f, "dovecot-keywords.lock")));
	assert_int_equal(count_files(f, path_of(f, "tmp"), NULL), 0);
}

static void test_keywords_existing(void **state)
{
	struct fixture *f = *state;
	struct maildir_settings set = { .hostname = "h" };
	struct maildir *md = open_md(f, &set);
	const char *error = NULL, *fn = NULL;
	assert_int_equal(maildir_mailbox_create(md, "Box", &error), 0);
	/* Written by Dovecot: holes are kept, names matched ignoring case.
	 * Its mtime is in the future: ours must still be newer, or Dovecot
	 * would not reread the file. */
	const char *kwpath = path_of(f, ".Box/dovecot-keywords");
	write_file(kwpath, "0 $Forwarded\n3 Foo\nnonsense\n30 Bad\n");
	time_t future = time(NULL) + 1000;
	struct timespec ts[2] = { { future, 0 }, { future, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, kwpath, ts, 0), 0);

	const char *fl[] = { "foo", "$forwarded" };
	assert_int_equal(maildir_deliver(md, "Box", MSG, strlen(MSG), fl, 2, &fn, &error), 0);
	assert_non_null(strstr(fn, ":2,ad"));
	struct stat st;
	assert_int_equal(stat(kwpath, &st), 0);
	assert_int_equal(st.st_mtime, future);     /* not rewritten */

	const char *fl2[] = { "New", "Foo" };
	assert_int_equal(maildir_deliver(md, "Box", MSG, strlen(MSG), fl2, 2, &fn, &error), 0);
	assert_non_null(strstr(fn, ":2,bd"));
	assert_string_equal(slurp(f, kwpath), "0 $Forwarded\n1 New\n3 Foo\n");
	assert_int_equal(stat(kwpath, &st), 0);
	assert_true(st.st_mtime > future);

	/* more than 26 keywords: the rest are dropped, mail still delivered */
	const char *many[40];
	for (int i = 0; i < 40; i++)
		many[i] = arena_printf(f->arena, "kw%d", i);
	assert_int_equal(maildir_deliver(md, "Box", MSG, strlen(MSG), many, 40, &fn, &error), 0);
	const char *info = strstr(fn, ":2,");
	assert_non_null(info);
	assert_int_equal(strlen(info + 3), 23);   /* 26 letters minus 3 taken */
	/* the list on disk has all 26 */
	char *kw = slurp(f, kwpath);
	size_t lines = 0;
	for (char *p = kw; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 26);
}

static void test_keywords_locks(void **state)
{
	struct fixture *f = *state;
	struct maildir_settings set = { .hostname = "lockhost", .lock_timeout_secs = 1 };
	struct maildir *md = open_md(f, &set);
	const char *error = NULL, *fn = NULL;
	const char *lock = path_of(f, "dovecot-uidlist.lock");

	/* a live holder: we wait, then fail without delivering */
	char *info = arena_printf(f->arena, "%ld:lockhost", (long)getpid());
	write_file(lock, info);
	const char *fl[] = { "$Junk" };
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, strlen(MSG), fl, 1, &fn, &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_TEMP);
	assert_non_null(strstr(error, "Timeout"));
	assert_int_equal(count_files(f, path_of(f, "new"), NULL), 0);
	assert_int_equal(count_files(f, path_of(f, "cur"), NULL), 0);
	assert_int_equal(count_files(f, path_of(f, "tmp"), NULL), 0);
	assert_true(exists(lock));

	/* a dead holder on this host: stale at once */
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	write_file(lock, arena_printf(f->arena, "%ld:lockhost", (long)child));
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, strlen(MSG), fl, 1, &fn, &error), 0);
	assert_false(exists(lock));

	/* an old lock (Dovecot's 2 minutes) is stale too */
	write_file(lock, "");
	time_t old = time(NULL) - 600;
	struct timespec ts[2] = { { old, 0 }, { old, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, lock, ts, 0), 0);
	const char *fl2[] = { "$Other" };
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, strlen(MSG), fl2, 1, &fn, &error), 0);
	assert_false(exists(lock));

	/* a leftover keywords lock is removed while we hold the uidlist lock */
	write_file(path_of(f, "dovecot-keywords.lock"), "junk");
	const char *fl3[] = { "$Third" };
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, strlen(MSG), fl3, 1, &fn, &error), 0);
	assert_string_equal(slurp(f, path_of(f, "dovecot-keywords")),
			    "0 $Junk\n1 $Other\n2 $Third\n");
	assert_false(exists(path_of(f, "dovecot-keywords.lock")));

	/* known keywords need no lock at all */
	write_file(lock, info);
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, strlen(MSG), fl, 1, &fn, &error), 0);
	unlink(lock);
}

static void test_control_dir(void **state)
{
	struct fixture *f = *state;
	char *control = arena_printf(f->arena, "%s/control", f->dir);
	struct maildir_settings set = { .control_dir = control };
	struct maildir *md = open_md(f, &set);
	const char *error = NULL, *fn = NULL;
	assert_int_equal(maildir_mailbox_create(md, "Box", &error), 0);
	const char *fl[] = { "$Junk" };
	assert_int_equal(maildir_deliver(md, "Box", MSG, strlen(MSG), fl, 1, &fn, &error), 0);
	assert_string_equal(slurp(f, arena_printf(f->arena, "%s/.Box/dovecot-keywords", control)),
			    "0 $Junk\n");
	assert_true(exists(arena_printf(f->arena, "%s/subscriptions", control)));
	assert_false(exists(path_of(f, "subscriptions")));
	assert_false(exists(path_of(f, ".Box/dovecot-keywords")));
	assert_int_equal(maildir_mailbox_delete(md, "Box", &error), 0);
	assert_false(exists(arena_printf(f->arena, "%s/.Box", control)));
}

static void test_read_messages(void **state)
{
	struct fixture *f = *state;
	struct maildir *md = open_md(f, NULL);
	const char *error = NULL, *fn = NULL;
	assert_int_equal(maildir_mailbox_create(md, "Folder", &error), 0);
	const char *subjects[] = { "First", "Second", "Third", "Fourth" };
	for (int i = 0; i < 4; i++) {
		char *m = arena_printf(f->arena, "Subject: %s\n\nx\n", subjects[i]);
		const char *seen[] = { "\\Seen $Junk" };
		assert_int_equal(maildir_deliver(md, "Folder", m, strlen(m),
						 seen, i % 2, &fn, &error), 0);
	}
	struct maildir_message *msgs;
	size_t n;
	assert_int_equal(maildir_message_list(md, "Folder", f->arena, &msgs, &n, &error), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < 4; i++) {
		struct maildir_message msg;
		const char *data;
		size_t len;
		assert_int_equal(maildir_message_get(md, "Folder", i, f->arena, &msg,
						     &data, &len, &error), 0);
		char *want = arena_printf(f->arena, "Subject: %s\n", subjects[i]);
		assert_memory_equal(data, want, strlen(want));
		assert_int_equal(msg.size, len);
		assert_int_equal(msg.in_new, i % 2 == 0);
		const char **names;
		size_t nn = maildir_message_flag_names(&msg, f->arena, &names);
		if (i % 2 == 1) {
			assert_int_equal(nn, 2);
			assert_string_equal(names[0], "\\Seen");
			assert_string_equal(names[1], "$Junk");
			assert_int_equal(msg.flags, MAILDIR_FLAG_SEEN);
		} else {
			assert_int_equal(nn, 0);
		}
	}
	struct maildir_message msg;
	const char *data;
	size_t len;
	assert_int_equal(maildir_message_get(md, "Folder", 4, f->arena, &msg, &data, &len, &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_NOTFOUND);
	assert_int_equal(maildir_message_get(md, "Nope", 0, f->arena, &msg, &data, &len, &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_NOTFOUND);
	assert_int_equal(maildir_message_get(md, "I\x9b" "BOX", 0, f->arena, &msg, &data, &len, &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_PARAMS);

	/* Dovecot moves the first one to cur/ and flags it after we listed */
	const char *old = path_of(f, ".Folder/new/%s", msgs[0].filename);
	const char *moved = path_of(f, ".Folder/cur/%s:2,RS", msgs[0].filename);
	assert_int_equal(rename(old, moved), 0);
	assert_int_equal(maildir_message_read(md, "Folder", &msgs[0], f->arena, &data, &len, &error), 0);
	assert_memory_equal(data, "Subject: First\n", 15);
	unlink(moved);
	assert_int_equal(maildir_message_read(md, "Folder", &msgs[0], f->arena, &data, &len, &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_NOTFOUND);
}

static void test_read_order(void **state)
{
	struct fixture *f = *state;
	struct maildir *md = open_md(f, NULL);
	const char *error = NULL;
	/* Dovecot's order: seconds, then M microseconds numerically */
	write_file(path_of(f, "new/1000.M40P1.h"), "b");
	write_file(path_of(f, "cur/1000.M100P1.h,S=1:2,S"), "c");
	write_file(path_of(f, "new/1000.M5P1.h"), "a");
	write_file(path_of(f, "cur/999.M999999P1.h:2,FRa"), "0");
	write_file(path_of(f, "new/1001.h"), "d");
	write_file(path_of(f, "new/.hidden"), "x");
	write_file(path_of(f, "dovecot-keywords"), "0 $Label1\n");
	struct maildir_message *msgs;
	size_t n;
	assert_int_equal(maildir_message_list(md, "INBOX", f->arena, &msgs, &n, &error), 0);
	assert_int_equal(n, 5);
	assert_string_equal(msgs[0].filename, "999.M999999P1.h:2,FRa");
	assert_string_equal(msgs[1].filename, "1000.M5P1.h");
	assert_string_equal(msgs[2].filename, "1000.M40P1.h");
	assert_string_equal(msgs[3].filename, "1000.M100P1.h,S=1:2,S");
	assert_string_equal(msgs[4].filename, "1001.h");
	assert_int_equal(msgs[0].flags, MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_ANSWERED);
	assert_int_equal(msgs[0].nkeywords, 1);
	assert_string_equal(msgs[0].keywords[0], "$Label1");
}

static void test_quota(void **state)
{
	struct fixture *f = *state;
	struct maildir *md = open_md(f, NULL);
	const char *error = NULL, *fn = NULL;
	size_t len = strlen(MSG);

	/* no maildirsize: never created by us */
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, len, NULL, 0, &fn, &error), 0);
	assert_false(exists(path_of(f, "maildirsize")));

	/* no limit: usage is appended, also for subfolders */
	write_file(path_of(f, "maildirsize"), "0S\n");
	assert_int_equal(maildir_mailbox_create(md, "Sub", &error), 0);
	assert_int_equal(maildir_deliver(md, "INBOX", MSG, len, NULL, 0, &fn, &error), 0);
	assert_int_equal(maildir_deliver(md, "Sub", "12345", 5, NULL, 0, &fn, &error), 0);
	assert_string_equal(slurp(f, path_of(f, "maildirsize")),
			    arena_printf(f->arena, "0S\n%zu 1\n5 1\n", len));

	/* byte limit */
	write_file(path_of(f, "maildirsize"), "100S,0C\n50 1\n");
	assert_int_equal(maildir_deliver(md, "INBOX", "0123456789", 10, NULL, 0, &fn, &error), 0);
	char *big = arena_alloc(f->arena, 61);
	memset(big, 'x', 60);
	size_t before = count_files(f, path_of(f, "new"), NULL);
	const char *kwfl[] = { "$Refused" };
	assert_int_equal(maildir_deliver(md, "INBOX", big, 60, kwfl, 1, &fn, &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_NOQUOTA);
	assert_non_null(strstr(error, "Quota exceeded"));
	assert_false(exists(path_of(f, "dovecot-keywords")));
	assert_int_equal(count_files(f, path_of(f, "new"), NULL), before);
	assert_int_equal(count_files(f, path_of(f, "tmp"), NULL), 0);

	/* count limit */
	write_file(path_of(f, "maildirsize"), "0S,2C\n10 1\n10 1\n");
	assert_int_equal(maildir_deliver(md, "INBOX", "x", 1, NULL, 0, &fn, &error), -1);
	assert_int_equal(maildir_last_error(md), MAILDIR_ERROR_NOQUOTA);
	/* an expunge made room */
	write_file(path_of(f, "maildirsize"), "0S,2C\n10 1\n10 1\n-10 -1\n");
	assert_int_equal(maildir_deliver(md, "INBOX", "x", 1, NULL, 0, &fn, &error), 0);

	/* ignore_quota: delivered, still counted */
	struct maildir_settings set = { .ignore_quota = true };
	struct maildir *md2 = open_md(f, &set);
	write_file(path_of(f, "maildirsize"), "10S\n10 1\n");
	assert_int_equal(maildir_deliver(md2, "INBOX", "abc", 3, NULL, 0, &fn, &error), 0);
	assert_string_equal(slurp(f, path_of(f, "maildirsize")), "10S\n10 1\n3 1\n");
}

static void test_no_partial_file(void **state)
{
	struct fixture *f = *state;
	struct maildir *md = open_md(f, NULL);
	(void)md;
	/* A write that fails halfway (file size limit) leaves nothing in
	 * new/ and cleans tmp/. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct arena *a = arena_new(0);
		struct maildir *cmd = maildir_open(a, f->root, NULL, NULL, NULL);
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = { 100, 100 };
		setrlimit(RLIMIT_FSIZE, &rl);
		char big[1000];
		memset(big, 'x', sizeof(big));
		const char *error, *fn;
		int ret = maildir_deliver(cmd, "INBOX", big, sizeof(big), NULL, 0, &fn, &error);
		_exit(ret == -1 && maildir_last_error(cmd) != MAILDIR_ERROR_NONE ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(count_files(f, path_of(f, "new"), NULL), 0);
	assert_int_equal(count_files(f, path_of(f, "cur"), NULL), 0);
	assert_int_equal(count_files(f, path_of(f, "tmp"), NULL), 0);
}

#define N_PROCS 6
#define N_THREADS 4
#define N_EACH 40

struct thread_arg {
	const char *root;
	int failures;
};

static void *deliver_thread(void *p)
{
	struct thread_arg *ta = p;
	struct arena *a = arena_new(0);
	struct maildir_settings set = { .no_fsync = true };
	struct maildir *md = maildir_open(a, ta->root, &set, NULL, NULL);
	for (int i = 0; i < N_EACH; i++) {
		const char *error, *fn;
		if (md == NULL || maildir_deliver(md, "INBOX", "x\n", 2, NULL, 0, &fn, &error) < 0)
			ta->failures++;
	}
	arena_unref(&a);
	return NULL;
}

static void test_concurrent_unique(void **state)
{
	struct fixture *f = *state;
	struct maildir *md = open_md(f, NULL);
	(void)md;
	pid_t pids[N_PROCS];
	for (int p = 0; p < N_PROCS; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			/* each process: several threads, each its own handle,
			 * all with the same pid */
			pthread_t th[N_THREADS];
			struct thread_arg ta[N_THREADS];
			for (int t = 0; t < N_THREADS; t++) {
				ta[t].root = f->root;
				ta[t].failures = 0;
				pthread_create(&th[t], NULL, deliver_thread, &ta[t]);
			}
			int failures = 0;
			for (int t = 0; t < N_THREADS; t++) {
				pthread_join(th[t], NULL);
				failures += ta[t].failures;
			}
			_exit(failures == 0 ? 0 : 1);
		}
	}
	for (int p = 0; p < N_PROCS; p++) {
		int status;
		waitpid(pids[p], &status, 0);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(count_files(f, path_of(f, "new"), NULL),
			 N_PROCS * N_THREADS * N_EACH);
	assert_int_equal(count_files(f, path_of(f, "tmp"), NULL), 0);

	/* one handle: names strictly increase, so listing order = delivery order */
	struct maildir *one = open_md(f, &(struct maildir_settings){ .no_fsync = true });
	const char *error, *prev = NULL, *fn;
	for (int i = 0; i < 50; i++) {
		assert_int_equal(maildir_deliver(one, "INBOX", "y", 1, NULL, 0, &fn, &error), 0);
		if (prev != NULL) {
			long long s1, s2;
			long u1, u2;
			assert_int_equal(sscanf(prev, "new/%lld.M%ld", &s1, &u1), 2);
			assert_int_equal(sscanf(fn, "new/%lld.M%ld", &s2, &u2), 2);
			assert_true(s2 > s1 || (s2 == s1 && u2 > u1));
		}
		prev = fn;
	}
}

static void test_permissions(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(mkdir(f->root, 0770), 0);
	assert_int_equal(chmod(f->root, 0770), 0);
	struct maildir *md = open_md(f, NULL);
	const char *error = NULL, *fn = NULL;
	assert_int_equal(maildir_mailbox_create(md, "Shared", &error), 0);
	struct stat st;
	assert_int_equal(stat(path_of(f, ".Shared"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0770);
	assert_int_equal(stat(path_of(f, ".Shared/cur"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0770);
	assert_int_equal(maildir_deliver(md, "Shared", "x", 1, NULL, 0, &fn, &error), 0);
	assert_int_equal(stat(path_of(f, ".Shared/%s", fn), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
}

static void test_flag_helpers(void **state)
{
	assert_int_equal(maildir_flag_from_name("\\SEEN"), MAILDIR_FLAG_SEEN);
	assert_int_equal(maildir_flag_from_name("\\answered"), MAILDIR_FLAG_ANSWERED);
	assert_int_equal(maildir_flag_from_name("\\Recent"), 0);
	assert_int_equal(maildir_flag_from_name("Seen"), 0);
	assert_true(maildir_keyword_valid("$Junk"));
	assert_true(maildir_keyword_valid("NONSENSE"));
	assert_false(maildir_keyword_valid("\\Seen"));
	assert_false(maildir_keyword_valid("a b"));
	assert_false(maildir_keyword_valid("a]"));
	assert_false(maildir_keyword_valid("k\xc3\xa9"));
	assert_false(maildir_keyword_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutf7),
		cmocka_unit_test(test_flag_helpers),
		cmocka_unit_test_setup_teardown(test_names_dot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_slash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailboxes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailboxes_slash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscriptions_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_inbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_hostname_escape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keywords_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keywords_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_partial_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
