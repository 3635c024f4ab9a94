/* maildir.c: the Maildir++ store (see maildir.h for the layout and the
 * contract).  Everything here is written to be read by an unmodified Dovecot
 * (checked against doveadm 2.3.19): its file names, dotlocks, the
 * dovecot-keywords and subscriptions formats, and maildirsize lines. */
#include "storage/maildir.h"
#include "storage/mutf7.h"
#include "lib/strbuf.h"
#include "lib/utf8.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Dovecot's timeouts for its dotlocks: dovecot-uidlist.lock and
 * dovecot-keywords.lock are overridden after 2 minutes without change,
 * subscriptions.lock after 30 s. */
#define MAILDIR_UIDLIST_STALE_SECS 120
#define MAILDIR_SUBS_STALE_SECS 30
#define MAILDIR_LOCK_TIMEOUT_DEFAULT 30
/* A second try after a collision is already astronomically unlikely. */
#define MAILDIR_NAME_TRIES 5
#define MAILDIR_RMTREE_DEPTH 8

struct maildir {
	struct arena *arena;
	char *root;              /* no trailing '/' */
	char *control;           /* control root; == root unless :CONTROL= */
	char sep;
	bool fsync, subscribe, enforce_quota;
	unsigned int lock_timeout;
	mode_t dir_mode, file_mode;
	char *host;              /* raw hostname, compared with dotlock owners */
	char *host_fname;        /* hostname escaped for file names */
	/* Last time used in a file name: names from one handle strictly
	 * increase, so they sort in delivery order (Dovecot does the same per
	 * process). */
	long long last_sec;
	long last_usec;
	unsigned long counter;
	enum maildir_error error_kind;
	const char *error;
};

/* A resolved mailbox name. */
struct maildir_box {
	const char *storage;     /* "" for INBOX, else "Entw&APw-rfe.Sub" */
	const char *dir;         /* its directory */
	const char *control;     /* where dovecot-keywords and locks live */
	bool inbox;
};

/* ------------------------------------------------------------------ */
/* errors */

static int maildir_fail(struct maildir *md, const char **error_r,
			enum maildir_error kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int maildir_fail(struct maildir *md, const char **error_r,
			enum maildir_error kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	md->error = arena_vprintf(md->arena, fmt, ap);
	va_end(ap);
	md->error_kind = kind;
	if (error_r != NULL)
		*error_r = md->error;
	return -1;
}

static enum maildir_error maildir_errno_kind(int err)
{
	switch (err) {
	case EACCES: case EPERM: case EROFS:
		return MAILDIR_ERROR_PERM;
	case ENOSPC: case EDQUOT:
		return MAILDIR_ERROR_NOQUOTA;
	case ENAMETOOLONG:
		return MAILDIR_ERROR_PARAMS;
	default:
		return MAILDIR_ERROR_TEMP;
	}
}

/* Reports errno from func(path).  Full disks get Dovecot's user-facing text
 * because that is what ends up in the MTA's bounce. */
static int maildir_fail_sys(struct maildir *md, const char **error_r,
			    const char *func, const char *path)
{
	int err = errno;
	char buf[256];
	if (err == ENOSPC)
		return maildir_fail(md, error_r, MAILDIR_ERROR_NOQUOTA,
				    "Not enough disk space");
	if (err == EDQUOT)
		return maildir_fail(md, error_r, MAILDIR_ERROR_NOQUOTA,
				    "Quota exceeded (mailbox for user is full)");
	const char *msg = strerror_r(err, buf, sizeof(buf));
	return maildir_fail(md, error_r, maildir_errno_kind(err),
			    "%s(%s) failed: %s", func, path, msg);
}

static void maildir_clear_error(struct maildir *md)
{
	md->error_kind = MAILDIR_ERROR_NONE;
	md->error = NULL;
}

/* ------------------------------------------------------------------ */
/* names */

/* Builds the on-disk name (levels joined by '.', each in modified UTF-7)
 * of a UTF-8 mailbox name; "" for INBOX. */
static int maildir_name_storage(const char *name, char sep, struct strbuf *out,
				bool *inbox_r, const char **error_r)
{
	if (sep != '.' && sep != '/') {
		*error_r = "Invalid mailbox name: unsupported hierarchy separator";
		return -1;
	}
	if (name == NULL || name[0] == '\0') {
		*error_r = "Invalid mailbox name: Name is empty";
		return -1;
	}
	size_t len = strlen(name);
	if (len > MAILDIR_NAME_MAX) {
		*error_r = "Invalid mailbox name: Name is too long";
		return -1;
	}
	const unsigned char *p = (const unsigned char *)name;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp, UTF8_STRICT);
		if (n == 0) {
			*error_r = "Invalid mailbox name: Name is not valid UTF-8";
			return -1;
		}
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
			*error_r = "Control characters not allowed in mailbox names";
			return -1;
		}
		i += n;
	}
	/* The character that the disk would read as a level is refused, so
	 * that a name can never produce '/' (a path) or an unintended level. */
	if (sep == '.' && strchr(name, '/') != NULL) {
		*error_r = "Invalid mailbox name: Name must not have '/' characters";
		return -1;
	}
	if (sep == '/' && strchr(name, '.') != NULL) {
		*error_r = "Character not allowed in mailbox name: '.'";
		return -1;
	}
	if (name[0] == sep) {
		*error_r = "Invalid mailbox name: Begins with hierarchy separator";
		return -1;
	}
	if (name[len - 1] == sep) {
		*error_r = "Invalid mailbox name: Ends with hierarchy separator";
		return -1;
	}
	if (name[0] == '~') {
		*error_r = "Invalid mailbox name: Begins with '~'";
		return -1;
	}
	size_t start_len = out->len;
	const char *level = name;
	bool first = true;
	for (;;) {
		const char *end = strchr(level, sep);
		size_t llen = end != NULL ? (size_t)(end - level) : strlen(level);
		if (llen == 0) {
			strbuf_truncate(out, start_len);
			*error_r = "Invalid mailbox name: Has adjacent hierarchy separators";
			return -1;
		}
		if (!first)
			strbuf_putc(out, '.');
		if (first && llen == 5 && strncasecmp(level, "INBOX", 5) == 0)
			strbuf_puts(out, "INBOX");
		else
			(void)mutf7_encode(level, llen, out);  /* validated above */
		first = false;
		if (end == NULL)
			break;
		level = end + 1;
	}
	strbuf_reserve(out, 0);
	*inbox_r = strcmp(out->data + start_len, "INBOX") == 0;
	if (*inbox_r)
		strbuf_truncate(out, start_len);
	else if (1 + out->len - start_len > MAILDIR_NAME_MAX) {
		strbuf_truncate(out, start_len);
		*error_r = "Invalid mailbox name: Name is too long";
		return -1;
	}
	return 0;
}

int maildir_mailbox_valid(const char *name, char sep, const char **error_r)
{
	struct strbuf sb = STRBUF_INIT;
	bool inbox;
	int ret = maildir_name_storage(name, sep, &sb, &inbox, error_r);
	strbuf_free(&sb);
	return ret;
}

const char *maildir_mailbox_dirname(struct arena *arena, const char *name,
				    char sep, const char **error_r)
{
	struct strbuf sb = STRBUF_INIT;
	bool inbox;
	if (maildir_name_storage(name, sep, &sb, &inbox, error_r) < 0) {
		strbuf_free(&sb);
		return NULL;
	}
	const char *ret = inbox ? arena_strdup(arena, "") :
		arena_printf(arena, ".%s", sb.data);
	strbuf_free(&sb);
	return ret;
}

static int maildir_box_resolve(struct maildir *md, const char *name,
			       struct maildir_box *box_r, const char **error_r)
{
	struct strbuf sb = STRBUF_INIT;
	const char *err;
	bool inbox;
	if (maildir_name_storage(name, md->sep, &sb, &inbox, &err) < 0) {
		strbuf_free(&sb);
		return maildir_fail(md, error_r, MAILDIR_ERROR_PARAMS, "%s", err);
	}
	box_r->inbox = inbox;
	if (inbox) {
		box_r->storage = "";
		box_r->dir = md->root;
		box_r->control = md->control;
	} else {
		box_r->storage = arena_strdup(md->arena, sb.data);
		box_r->dir = arena_printf(md->arena, "%s/.%s", md->root, sb.data);
		box_r->control = md->control == md->root ? box_r->dir :
			arena_printf(md->arena, "%s/.%s", md->control, sb.data);
	}
	strbuf_free(&sb);
	return 0;
}

/* The UTF-8 name of an on-disk directory name (without the leading '.'),
 * or NULL if it isn't one we could have written. */
static const char *maildir_storage_to_name(struct maildir *md, struct arena *arena,
					   const char *storage)
{
	struct strbuf sb = STRBUF_INIT;
	const char *ret = NULL;
	const char *level = storage;
	for (;;) {
		const char *end = strchr(level, '.');
		size_t llen = end != NULL ? (size_t)(end - level) : strlen(level);
		if (level != storage)
			strbuf_putc(&sb, md->sep);
		if (mutf7_decode(level, llen, &sb) < 0)
			goto out;
		if (end == NULL)
			break;
		level = end + 1;
	}
	strbuf_reserve(&sb, 0);
	/* Only names that map back to this very directory are listed: this
	 * drops undecodable, non-canonical and unreachable (".INBOX") ones. */
	struct strbuf back = STRBUF_INIT;
	const char *err;
	bool inbox;
	if (maildir_name_storage(sb.data, md->sep, &back, &inbox, &err) == 0 &&
	    !inbox && strcmp(back.data, storage) == 0)
		ret = arena_strdup(arena, sb.data);
	strbuf_free(&back);
out:
	strbuf_free(&sb);
	return ret;
}

/* ------------------------------------------------------------------ */
/* file system helpers */

static int maildir_write_full(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync()s a directory, making renames and creations in it durable. */
static int maildir_fsync_dir(struct maildir *md, const char *path,
			     const char **error_r)
{
	if (!md->fsync)
		return 0;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return maildir_fail_sys(md, error_r, "open", path);
	if (fsync(fd) < 0 && errno != EINVAL) {
		int err = errno;
		(void)close(fd);
		errno = err;
		return maildir_fail_sys(md, error_r, "fsync", path);
	}
	(void)close(fd);
	return 0;
}

/* mkdir with the Maildir's own permissions (umask would otherwise strip
 * the group bits of a shared Maildir). */
static int maildir_mkdir(struct maildir *md, const char *path)
{
	if (mkdir(path, md->dir_mode) < 0)
		return -1;
	if ((md->dir_mode & 0077) != 0)
		(void)chmod(path, md->dir_mode);
	return 0;
}

static int maildir_make_subdirs(struct maildir *md, const char *dir,
				const char **error_r)
{
	static const char *const subdirs[] = { "cur", "new", "tmp" };
	for (size_t i = 0; i < 3; i++) {
		const char *path = arena_printf(md->arena, "%s/%s", dir, subdirs[i]);
		if (maildir_mkdir(md, path) < 0 && errno != EEXIST)
			return maildir_fail_sys(md, error_r, "mkdir", path);
	}
	return 0;
}

/* mkdir -p, for the root and a separate control directory. */
static int maildir_mkdir_parents(struct maildir *md, const char *path)
{
	if (maildir_mkdir(md, path) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	char *parent = arena_strdup(md->arena, path);
	char *slash = strrchr(parent, '/');
	if (slash == NULL || slash == parent)
		return -1;
	*slash = '\0';
	if (maildir_mkdir_parents(md, parent) < 0)
		return -1;
	if (maildir_mkdir(md, path) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

/* Reads a whole small file into the arena.  1 read, 0 missing, -1 error. */
static int maildir_read_small(struct maildir *md, struct arena *arena,
			      const char *path, char **data_r, size_t *len_r,
			      struct stat *st_r, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return maildir_fail_sys(md, error_r, "open", path);
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int err = errno;
		(void)close(fd);
		errno = err;
		return maildir_fail_sys(md, error_r, "fstat", path);
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = arena_alloc(arena, cap + 1);
	for (;;) {
		if (len == cap) {
			/* the file grew since fstat */
			buf = arena_grow(arena, buf, cap + 1, cap * 2 + 1, 1);
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			(void)close(fd);
			errno = err;
			return maildir_fail_sys(md, error_r, "read", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	buf[len] = '\0';
	*data_r = buf;
	*len_r = len;
	if (st_r != NULL)
		*st_r = st;
	return 1;
}

/* Moves a file from `from` to `to` without ever replacing an existing `to`:
 * rename(RENAME_NOREPLACE), or link()+unlink() where the file system lacks
 * it.  Returns 0, or -1 with errno (EEXIST when the name is taken). */
static int maildir_move_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) < 0) {
		if (errno != EPERM && errno != ENOSYS && errno != EOPNOTSUPP)
			return -1;
		/* No hard links either: a plain rename.  The name is unique,
		 * so this can only replace a file on a real collision. */
		return rename(from, to);
	}
	(void)unlink(from);
	return 0;
}

/* rm -rf of dirfd/name without following symlinks. */
static int maildir_rmtree_at(int dirfd, const char *name, int depth)
{
	if (depth > MAILDIR_RMTREE_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dirfd, name, 0);
		return errno == ENOENT ? 0 : -1;
	}
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		(void)close(fd);
		return -1;
	}
	/* Entries removed while reading may make readdir() skip others:
	 * a second pass catches them. */
	for (int pass = 0; pass < 2; pass++) {
		struct dirent *de;
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			(void)maildir_rmtree_at(fd, de->d_name, depth + 1);
		}
		if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0) {
			(void)closedir(d);
			return 0;
		}
		if (errno != ENOTEMPTY && errno != EEXIST)
			break;
	}
	int err = errno;
	(void)closedir(d);
	errno = err;
	return -1;
}

/* ------------------------------------------------------------------ */
/* unique names */

static void maildir_escape_host(struct strbuf *out, const char *host)
{
	/* djb's rule ('/' and ':' as octal escapes), plus ',' so that the
	 * ",S=" and ",W=" fields can't be faked by a host name. */
	for (const char *p = host; *p != '\0'; p++) {
		if (*p == '/')
			strbuf_puts(out, "\\057");
		else if (*p == ':')
			strbuf_puts(out, "\\072");
		else if (*p == ',')
			strbuf_puts(out, "\\054");
		else if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			strbuf_printf(out, "\\%03o", (unsigned char)*p);
		else
			strbuf_putc(out, *p);
	}
}

/* "<sec>.M<usec>P<pid>Q<n>R<random>.<host>": Dovecot's shape (it reads the
 * seconds and the M field to sort new mail) with the counter and 32 random
 * bits that keep two handles in one process (threads, same pid, same
 * microsecond) apart. */
static const char *maildir_unique_base(struct maildir *md)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	long long sec = (long long)ts.tv_sec;
	long usec = ts.tv_nsec / 1000;
	if (sec < md->last_sec || (sec == md->last_sec && usec <= md->last_usec)) {
		sec = md->last_sec;
		usec = md->last_usec + 1;
		if (usec >= 1000000) {
			sec++;
			usec = 0;
		}
	}
	md->last_sec = sec;
	md->last_usec = usec;
	md->counter++;
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)ts.tv_nsec ^ ((uint32_t)md->counter << 16);
	return arena_printf(md->arena, "%lld.M%ldP%ldQ%luR%08x.%s", sec, usec,
			    (long)getpid(), md->counter, (unsigned int)rnd,
			    md->host_fname);
}

/* Dovecot's sort order for maildir file names: seconds, then the M field's
 * microseconds, then the base name (the part before ':'). */
static int maildir_fname_cmp(const char *a, const char *b)
{
	unsigned long long sa = 0, sb = 0;
	const char *pa = a, *pb = b;
	for (; *pa >= '0' && *pa <= '9'; pa++)
		sa = sa * 10 + (unsigned long long)(*pa - '0');
	for (; *pb >= '0' && *pb <= '9'; pb++)
		sb = sb * 10 + (unsigned long long)(*pb - '0');
	if (sa != sb)
		return sa < sb ? -1 : 1;
	long ua = -1, ub = -1;
	const char *const starts[2] = { pa, pb };
	long *const outs[2] = { &ua, &ub };
	for (int i = 0; i < 2; i++) {
		const char *p = starts[i];
		if (*p != '.')
			continue;
		for (p++; *p != '\0' && *p != '.' && *p != ':'; p++) {
			if (*p != 'M')
				continue;
			long u = 0;
			for (p++; *p >= '0' && *p <= '9'; p++)
				u = u * 10 + (*p - '0');
			*outs[i] = u;
			break;
		}
	}
	if (ua >= 0 && ub >= 0 && ua != ub)
		return ua < ub ? -1 : 1;
	size_t la = strcspn(a, ":"), lb = strcspn(b, ":");
	int c = memcmp(a, b, la < lb ? la : lb);
	if (c != 0)
		return c;
	return la < lb ? -1 : la > lb ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* dotlocks, compatible with Dovecot's file-dotlock: the lock is the file
 * "<target>.lock" created exclusively; it is stale when unchanged for
 * stale_secs, or when it names a dead process on this host ("pid:host"). */

struct maildir_lock {
	const char *path;
	int fd;
	dev_t dev;
	ino_t ino;
};

static bool maildir_lock_is_stale(struct maildir *md, const char *path,
				  unsigned int stale_secs, const struct stat *st)
{
	if (time(NULL) - st->st_mtime > (time_t)stale_secs)
		return true;
	char buf[300];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *end;
	long pid = strtol(buf, &end, 10);
	if (end == buf || *end != ':' || pid <= 0)
		return false;
	char *host = end + 1;
	host[strcspn(host, "\r\n")] = '\0';
	if (strcmp(host, md->host) != 0)
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Takes target's dotlock, waiting up to the handle's lock timeout.  With
 * owner, the lock holds "pid:host" (what Dovecot's stale check reads);
 * otherwise it is left empty to be filled and renamed over target. */
static int maildir_lock_take(struct maildir *md, const char *target,
			     unsigned int stale_secs, bool owner,
			     struct maildir_lock *lock_r, const char **error_r)
{
	const char *path = arena_printf(md->arena, "%s.lock", target);
	struct timespec start;
	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	long delay_ms = 5;
	for (;;) {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			      md->file_mode);
		if (fd >= 0) {
			struct stat st;
			if (fstat(fd, &st) < 0) {
				int err = errno;
				(void)close(fd);
				(void)unlink(path);
				errno = err;
				return maildir_fail_sys(md, error_r, "fstat", path);
			}
			if (owner) {
				char *info = arena_printf(md->arena, "%ld:%s",
							  (long)getpid(), md->host);
				(void)maildir_write_full(fd, info, strlen(info));
			}
			lock_r->path = path;
			lock_r->fd = fd;
			lock_r->dev = st.st_dev;
			lock_r->ino = st.st_ino;
			return 0;
		}
		if (errno != EEXIST)
			return maildir_fail_sys(md, error_r, "open", path);
		struct stat st;
		if (lstat(path, &st) < 0) {
			if (errno == ENOENT)
				continue;   /* released meanwhile */
			return maildir_fail_sys(md, error_r, "lstat", path);
		}
		if (maildir_lock_is_stale(md, path, stale_secs, &st)) {
			/* Only remove the lock we judged, not a fresh one that
			 * replaced it meanwhile. */
			struct stat st2;
			if (lstat(path, &st2) == 0 && st2.st_ino == st.st_ino &&
			    st2.st_dev == st.st_dev && unlink(path) < 0 &&
			    errno != ENOENT)
				return maildir_fail_sys(md, error_r, "unlink", path);
			continue;
		}
		struct timespec now;
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)md->lock_timeout)
			return maildir_fail(md, error_r, MAILDIR_ERROR_TEMP,
					    "Timeout waiting for lock %s", path);
		struct timespec ds = { 0, delay_ms * 1000000L };
		(void)nanosleep(&ds, NULL);
		if (delay_ms < 200)
			delay_ms *= 2;
	}
}

/* Still our lock?  (Someone may have judged it stale and broken it.) */
static bool maildir_lock_is_ours(const struct maildir_lock *lock)
{
	struct stat st;
	return lstat(lock->path, &st) == 0 && st.st_dev == lock->dev &&
		st.st_ino == lock->ino;
}

static void maildir_lock_release(struct maildir_lock *lock)
{
	if (lock->fd < 0)
		return;
	if (maildir_lock_is_ours(lock))
		(void)unlink(lock->path);
	(void)close(lock->fd);
	lock->fd = -1;
}

/* Writes content into the lock file, makes it durable and renames it over
 * target (Dovecot's file_dotlock_replace).  min_mtime > 0: the new file's
 * mtime is raised to at least that, because Dovecot rereads dovecot-keywords
 * only when its mtime changes. */
static int maildir_lock_replace(struct maildir *md, struct maildir_lock *lock,
				const char *target, const char *content,
				size_t len, time_t min_mtime, const char **error_r)
{
	int fd = lock->fd;
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
	    maildir_write_full(fd, content, len) < 0) {
		int err = errno;
		maildir_lock_release(lock);
		errno = err;
		return maildir_fail_sys(md, error_r, "write", lock->path);
	}
	if (min_mtime > 0) {
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_mtime < min_mtime) {
			struct timespec times[2] = {
				{ 0, UTIME_OMIT }, { min_mtime, 0 }
			};
			(void)futimens(fd, times);
		}
	}
	if (md->fsync && fsync(fd) < 0) {
		int err = errno;
		maildir_lock_release(lock);
		errno = err;
		return maildir_fail_sys(md, error_r, "fsync", lock->path);
	}
	if (!maildir_lock_is_ours(lock)) {
		(void)close(fd);
		lock->fd = -1;
		return maildir_fail(md, error_r, MAILDIR_ERROR_TEMP,
				    "Lock %s was overridden", lock->path);
	}
	if (rename(lock->path, target) < 0) {
		int err = errno;
		maildir_lock_release(lock);
		errno = err;
		return maildir_fail_sys(md, error_r, "rename", lock->path);
	}
	(void)close(fd);
	lock->fd = -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* open / close */

struct maildir *maildir_open(struct arena *arena, const char *root,
			     const struct maildir_settings *set,
			     enum maildir_error *kind_r, const char **error_r)
{
	static const struct maildir_settings defaults;
	if (set == NULL)
		set = &defaults;
	struct maildir *md = arena_alloc(arena, sizeof(*md));
	md->arena = arena;
	md->sep = set->sep != '\0' ? set->sep : '.';
	md->fsync = !set->no_fsync;
	md->subscribe = !set->no_subscribe;
	md->enforce_quota = !set->ignore_quota;
	md->lock_timeout = set->lock_timeout_secs != 0 ? set->lock_timeout_secs :
		MAILDIR_LOCK_TIMEOUT_DEFAULT;
	md->dir_mode = 0700;
	md->file_mode = 0600;

	if (md->sep != '.' && md->sep != '/') {
		maildir_fail(md, error_r, MAILDIR_ERROR_PARAMS,
			     "Unsupported hierarchy separator '%c' (use '.' or '/')",
			     md->sep);
		goto fail;
	}
	if (root == NULL || root[0] == '\0') {
		maildir_fail(md, error_r, MAILDIR_ERROR_PARAMS, "Maildir root is empty");
		goto fail;
	}
	size_t rlen = strlen(root);
	while (rlen > 1 && root[rlen - 1] == '/')
		rlen--;
	md->root = arena_strndup(arena, root, rlen);
	if (strcmp(md->root, "/") == 0) {
		maildir_fail(md, error_r, MAILDIR_ERROR_PARAMS,
			     "Maildir root can't be /");
		goto fail;
	}

	struct stat st;
	if (stat(md->root, &st) < 0) {
		if (errno != ENOENT || !set->create) {
			if (errno == ENOENT)
				maildir_fail(md, error_r, MAILDIR_ERROR_NOTFOUND,
					     "Maildir %s doesn't exist", md->root);
			else
				maildir_fail_sys(md, error_r, "stat", md->root);
			goto fail;
		}
		if (maildir_mkdir_parents(md, md->root) < 0 ||
		    stat(md->root, &st) < 0) {
			maildir_fail_sys(md, error_r, "mkdir", md->root);
			goto fail;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		maildir_fail(md, error_r, MAILDIR_ERROR_PARAMS,
			     "Maildir %s is not a directory", md->root);
		goto fail;
	}
	/* Like Dovecot, new directories and files take the root's
	 * permissions (0700/0600 normally; group bits for shared ones). */
	md->dir_mode = st.st_mode & 07777 & ~(mode_t)(S_ISUID | S_ISVTX);
	md->file_mode = st.st_mode & 0666;
	if (set->create && maildir_make_subdirs(md, md->root, error_r) < 0)
		goto fail;

	if (set->control_dir != NULL && set->control_dir[0] != '\0') {
		size_t clen = strlen(set->control_dir);
		while (clen > 1 && set->control_dir[clen - 1] == '/')
			clen--;
		md->control = arena_strndup(arena, set->control_dir, clen);
		if (maildir_mkdir_parents(md, md->control) < 0) {
			maildir_fail_sys(md, error_r, "mkdir", md->control);
			goto fail;
		}
	} else {
		md->control = md->root;
	}

	char hostbuf[256];
	const char *host = set->hostname;
	if (host == NULL) {
		if (gethostname(hostbuf, sizeof(hostbuf)) < 0)
			strcpy(hostbuf, "localhost");
		hostbuf[sizeof(hostbuf) - 1] = '\0';
		host = hostbuf;
	}
	md->host = arena_strdup(arena, host);
	struct strbuf hb = STRBUF_INIT;
	maildir_escape_host(&hb, host);
	strbuf_reserve(&hb, 0);
	md->host_fname = arena_strdup(arena, hb.data);
	strbuf_free(&hb);
	maildir_clear_error(md);
	return md;
fail:
	if (kind_r != NULL)
		*kind_r = md->error_kind;
	return NULL;
}

void maildir_close(struct maildir **mdp)
{
	*mdp = NULL;
}

const char *maildir_root(const struct maildir *md)
{
	return md->root;
}

char maildir_sep(const struct maildir *md)
{
	return md->sep;
}

enum maildir_error maildir_last_error(const struct maildir *md)
{
	return md->error_kind;
}

/* ------------------------------------------------------------------ */
/* mailboxes */

/* 1 if box's directory exists, 0 if not, -1 on error. */
static int maildir_box_exists(struct maildir *md, const struct maildir_box *box,
			      const char **error_r)
{
	struct stat st;
	if (stat(box->dir, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return maildir_fail_sys(md, error_r, "stat", box->dir);
	}
	return S_ISDIR(st.st_mode) ? 1 : 0;
}

int maildir_mailbox_exists(struct maildir *md, const char *name,
			   const char **error_r)
{
	struct maildir_box box;
	maildir_clear_error(md);
	if (maildir_box_resolve(md, name, &box, error_r) < 0)
		return -1;
	if (box.inbox)
		return 1;
	return maildir_box_exists(md, &box, error_r);
}

int maildir_mailbox_create(struct maildir *md, const char *name,
			   const char **error_r)
{
	struct maildir_box box;
	maildir_clear_error(md);
	if (maildir_box_resolve(md, name, &box, error_r) < 0)
		return -1;
	if (box.inbox)
		return maildir_fail(md, error_r, MAILDIR_ERROR_EXISTS,
				    "Mailbox already exists");
	int ret = maildir_box_exists(md, &box, error_r);
	if (ret != 0)
		return ret < 0 ? -1 : maildir_fail(md, error_r, MAILDIR_ERROR_EXISTS,
						   "Mailbox already exists");

	/* Build the whole mailbox in the root's tmp/, then rename it into
	 * place: Dovecot (and our own delivery) never see a folder without
	 * its cur/new/tmp. */
	const char *tmpdir = arena_printf(md->arena, "%s/tmp", md->root);
	if (maildir_mkdir(md, tmpdir) < 0 && errno != EEXIST)
		return maildir_fail_sys(md, error_r, "mkdir", tmpdir);
	const char *stage = arena_printf(md->arena, "%s/.tamis-newbox.%s", tmpdir,
					 maildir_unique_base(md));
	if (maildir_mkdir(md, stage) < 0)
		return maildir_fail_sys(md, error_r, "mkdir", stage);
	const char *mf = arena_printf(md->arena, "%s/maildirfolder", stage);
	int fd;
	if (maildir_make_subdirs(md, stage, error_r) < 0)
		goto fail_stage;
	fd = open(mf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  md->file_mode);
	if (fd < 0) {
		maildir_fail_sys(md, error_r, "open", mf);
		goto fail_stage;
	}
	(void)close(fd);
	if (renameat2(AT_FDCWD, stage, AT_FDCWD, box.dir, RENAME_NOREPLACE) < 0) {
		int err = errno;
		if ((err == EINVAL || err == ENOSYS) && rename(stage, box.dir) == 0) {
			/* fine: rename() only replaces an empty directory */
		} else {
			if (err == EEXIST || err == ENOTEMPTY)
				maildir_fail(md, error_r, MAILDIR_ERROR_EXISTS,
					     "Mailbox already exists");
			else {
				errno = err;
				maildir_fail_sys(md, error_r, "rename", box.dir);
			}
			goto fail_stage;
		}
	}
	if (maildir_fsync_dir(md, md->root, error_r) < 0)
		return -1;
	if (box.control != box.dir && maildir_mkdir_parents(md, box.control) < 0)
		return maildir_fail_sys(md, error_r, "mkdir", box.control);
	if (md->subscribe) {
		/* Best effort, as Dovecot's lda_mailbox_autosubscribe: the
		 * mailbox exists now, and failing here would make the caller
		 * retry a create that can only say "exists". */
		const char *serr;
		enum maildir_error kind = md->error_kind;
		const char *keep = md->error;
		if (maildir_mailbox_subscribe(md, name, true, &serr) < 0) {
			md->error_kind = kind;
			md->error = keep;
		}
	}
	return 0;
fail_stage:
	{
		int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)maildir_rmtree_at(dfd, strrchr(stage, '/') + 1, 0);
			(void)close(dfd);
		}
	}
	return -1;
}

int maildir_mailbox_delete(struct maildir *md, const char *name,
			   const char **error_r)
{
	struct maildir_box box;
	maildir_clear_error(md);
	if (maildir_box_resolve(md, name, &box, error_r) < 0)
		return -1;
	if (box.inbox)
		return maildir_fail(md, error_r, MAILDIR_ERROR_NOTPOSSIBLE,
				    "INBOX can't be deleted.");
	struct stat st;
	if (lstat(box.dir, &st) < 0) {
		if (errno == ENOENT)
			return maildir_fail(md, error_r, MAILDIR_ERROR_NOTFOUND,
					    "Mailbox doesn't exist: %s", name);
		return maildir_fail_sys(md, error_r, "lstat", box.dir);
	}
	if (S_ISLNK(st.st_mode))
		/* a folder linked in by hand: removing what it points to is
		 * the admin's decision, not a DELETE's */
		return maildir_fail(md, error_r, MAILDIR_ERROR_NOTPOSSIBLE,
				    "Mailbox %s is a symlink, not deleting it", name);
	if (!S_ISDIR(st.st_mode))
		return maildir_fail(md, error_r, MAILDIR_ERROR_NOTFOUND,
				    "Mailbox doesn't exist: %s", name);
	/* Out of sight first (one atomic rename), then removed at leisure. */
	const char *tmpdir = arena_printf(md->arena, "%s/tmp", md->root);
	if (maildir_mkdir(md, tmpdir) < 0 && errno != EEXIST)
		return maildir_fail_sys(md, error_r, "mkdir", tmpdir);
	const char *trash_name = arena_printf(md->arena, ".tamis-deleted.%s",
					      maildir_unique_base(md));
	const char *trash = arena_printf(md->arena, "%s/%s", tmpdir, trash_name);
	if (rename(box.dir, trash) < 0) {
		if (errno == ENOENT)
			return maildir_fail(md, error_r, MAILDIR_ERROR_NOTFOUND,
					    "Mailbox doesn't exist: %s", name);
		return maildir_fail_sys(md, error_r, "rename", box.dir);
	}
	if (maildir_fsync_dir(md, md->root, error_r) < 0)
		return -1;
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || maildir_rmtree_at(dfd, trash_name, 0) < 0) {
		int err = errno;
		if (dfd >= 0)
			(void)close(dfd);
		errno = err;
		return maildir_fail_sys(md, error_r, "rmtree", trash);
	}
	(void)close(dfd);
	if (box.control != box.dir) {
		const char *cname = strrchr(box.control, '/') + 1;
		int cfd = open(md->control, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd >= 0) {
			(void)maildir_rmtree_at(cfd, cname, 0);
			(void)close(cfd);
		}
	}
	return 0;
}

static int maildir_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int maildir_mailbox_list(struct maildir *md, struct arena *arena,
			 const char ***names_r, size_t *n_r, const char **error_r)
{
	maildir_clear_error(md);
	DIR *d = opendir(md->root);
	if (d == NULL)
		return maildir_fail_sys(md, error_r, "opendir", md->root);
	size_t n = 0, cap = 16;
	const char **names = arena_alloc(arena, cap * sizeof(*names));
	names[n++] = "INBOX";
	struct dirent *de;
	int dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		const char *dn = de->d_name;
		if (dn[0] != '.' || dn[1] == '\0' || dn[1] == '.')
			continue;
		struct stat st;
		/* Folders may be symlinks (the user's own Maildir). */
		if (fstatat(dfd, dn, &st, 0) < 0 || !S_ISDIR(st.st_mode))
			continue;
		const char *name = maildir_storage_to_name(md, arena, dn + 1);
		if (name == NULL)
			continue;
		if (n == cap) {
			names = arena_grow(arena, names, cap, cap * 2, sizeof(*names));
			cap *= 2;
		}
		names[n++] = name;
	}
	(void)closedir(d);
	qsort(names + 1, n - 1, sizeof(*names), maildir_cmp_str);
	*names_r = names;
	*n_r = n;
	return 0;
}

/* The subscriptions entry of a mailbox: Dovecot 2.3 writes the on-disk
 * (modified UTF-7) name with levels separated by TAB under a "V\t2" header;
 * older (version 1) files hold one '.'-separated name per line. */
int maildir_mailbox_subscribe(struct maildir *md, const char *name, bool set,
			      const char **error_r)
{
	struct maildir_box box;
	maildir_clear_error(md);
	if (maildir_box_resolve(md, name, &box, error_r) < 0)
		return -1;
	const char *path = arena_printf(md->arena, "%s/subscriptions", md->control);
	struct maildir_lock lock;
	if (maildir_lock_take(md, path, MAILDIR_SUBS_STALE_SECS, false, &lock,
			      error_r) < 0)
		return -1;
	char *old = NULL;
	size_t old_len = 0;
	int ret = maildir_read_small(md, md->arena, path, &old, &old_len, NULL,
				     error_r);
	if (ret < 0) {
		maildir_lock_release(&lock);
		return -1;
	}
	bool v2 = ret == 0 || old_len == 0 || strncmp(old, "V\t2\n", 4) == 0;
	char *entry = arena_strdup(md->arena, box.inbox ? "INBOX" : box.storage);
	if (v2) {
		for (char *p = entry; *p != '\0'; p++)
			if (*p == '.')
				*p = '\t';
	}

	struct strbuf out = STRBUF_INIT;
	bool found = false;
	if (v2)
		strbuf_puts(&out, "V\t2\n\n");
	const char *p = old != NULL ? old : "";
	if (v2 && strncmp(p, "V\t2\n", 4) == 0) {
		p += 4;
		if (*p == '\n')
			p++;
	}
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t llen = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (llen > 0) {
			bool same = llen == strlen(entry) &&
				memcmp(p, entry, llen) == 0;
			found = found || same;
			if (!same || set) {
				strbuf_append(&out, p, llen);
				strbuf_putc(&out, '\n');
			}
		}
		p += llen + (nl != NULL ? 1 : 0);
	}
	if (found == set) {
		/* nothing to change */
		strbuf_free(&out);
		maildir_lock_release(&lock);
		return 0;
	}
	if (set) {
		strbuf_puts(&out, entry);
		strbuf_putc(&out, '\n');
	}
	ret = maildir_lock_replace(md, &lock, path, out.data, out.len, 0, error_r);
	strbuf_free(&out);
	if (ret < 0)
		return -1;
	return maildir_fsync_dir(md, md->control, error_r);
}

/* ------------------------------------------------------------------ */
/* flags and keywords */

unsigned int maildir_flag_from_name(const char *name)
{
	static const struct {
		const char *name;
		unsigned int flag;
	} sysflags[] = {
		{ "\\Answered", MAILDIR_FLAG_ANSWERED },
		{ "\\Flagged", MAILDIR_FLAG_FLAGGED },
		{ "\\Deleted", MAILDIR_FLAG_DELETED },
		{ "\\Seen", MAILDIR_FLAG_SEEN },
		{ "\\Draft", MAILDIR_FLAG_DRAFT },
	};
	for (size_t i = 0; i < sizeof(sysflags) / sizeof(sysflags[0]); i++)
		if (strcasecmp(name, sysflags[i].name) == 0)
			return sysflags[i].flag;
	return 0;
}

bool maildir_keyword_valid(const char *name)
{
	/* IMAP atom (RFC 3501): no atom-specials, no 8-bit, and a leading
	 * '\\' would make it a (non-existent) system flag.  A newline or
	 * space here would also corrupt dovecot-keywords. */
	if (name == NULL || name[0] == '\0' || name[0] == '\\' ||
	    strlen(name) > MAILDIR_NAME_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return false;
	}
	return true;
}

static const char maildir_sysflag_letters[] = {
	/* in bit order of enum maildir_flags */
	'R', 'F', 'T', 'S', 'D'
};

/* Splits the flag strings (each may hold several, space-separated) into
 * system flags and distinct keywords (case-insensitively, like Dovecot). */
static void maildir_flags_parse(struct maildir *md, const char *const *flags,
				size_t nflags, unsigned int *sys_r,
				const char ***kw_r, size_t *nkw_r)
{
	unsigned int sys = 0;
	size_t nkw = 0, cap = 8;
	const char **kw = arena_alloc(md->arena, cap * sizeof(*kw));
	for (size_t i = 0; i < nflags; i++) {
		if (flags[i] == NULL)
			continue;
		const char *p = flags[i];
		while (*p != '\0') {
			size_t skip = strspn(p, " \t");
			p += skip;
			size_t tlen = strcspn(p, " \t");
			if (tlen == 0)
				break;
			char *tok = arena_strndup(md->arena, p, tlen);
			p += tlen;
			if (tok[0] == '\\') {
				sys |= maildir_flag_from_name(tok);
				continue;
			}
			if (!maildir_keyword_valid(tok))
				continue;
			bool dup = false;
			for (size_t j = 0; j < nkw && !dup; j++)
				dup = strcasecmp(kw[j], tok) == 0;
			if (dup)
				continue;
			if (nkw == cap) {
				kw = arena_grow(md->arena, kw, cap, cap * 2, sizeof(*kw));
				cap *= 2;
			}
			kw[nkw++] = tok;
		}
	}
	*sys_r = sys;
	*kw_r = kw;
	*nkw_r = nkw;
}

/* dovecot-keywords: lines "<index> <keyword>", index 0..25 = letter a..z. */
struct maildir_kwmap {
	const char *names[MAILDIR_MAX_KEYWORDS];
	time_t mtime;
};

static int maildir_keywords_read(struct maildir *md, struct arena *arena,
				 const char *path, struct maildir_kwmap *map,
				 const char **error_r)
{
	memset(map, 0, sizeof(*map));
	char *data;
	size_t len;
	struct stat st;
	int ret = maildir_read_small(md, arena, path, &data, &len, &st, error_r);
	if (ret <= 0)
		return ret;
	map->mtime = st.st_mtime;
	char *line = data;
	while (line < data + len) {
		char *nl = memchr(line, '\n', (size_t)(data + len - line));
		if (nl != NULL)
			*nl = '\0';
		char *end;
		long idx = strtol(line, &end, 10);
		if (end != line && *end == ' ' && end[1] != '\0' &&
		    idx >= 0 && idx < MAILDIR_MAX_KEYWORDS)
			map->names[idx] = end + 1;
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return 0;
}

static int maildir_kwmap_find(const struct maildir_kwmap *map, const char *kw)
{
	for (int i = 0; i < MAILDIR_MAX_KEYWORDS; i++)
		if (map->names[i] != NULL && strcasecmp(map->names[i], kw) == 0)
			return i;
	return -1;
}

/* Maps keywords to letters, adding missing ones to dovecot-keywords the way
 * Dovecot does: only while holding dovecot-uidlist.lock (Dovecot's rule for
 * changing this file), writing dovecot-keywords.lock and renaming it over
 * the file.  Keywords that don't fit in 26 letters are dropped (Dovecot
 * would keep them only in its index, which we don't write). */
static int maildir_keywords_letters(struct maildir *md, const struct maildir_box *box,
				    const char *const *kw, size_t nkw,
				    char *letters, size_t *nletters_r,
				    const char **error_r)
{
	*nletters_r = 0;
	if (nkw == 0)
		return 0;
	const char *path = arena_printf(md->arena, "%s/dovecot-keywords", box->control);
	struct maildir_kwmap map;
	if (maildir_keywords_read(md, md->arena, path, &map, error_r) < 0)
		return -1;
	bool missing = false;
	for (size_t i = 0; i < nkw; i++)
		missing = missing || maildir_kwmap_find(&map, kw[i]) < 0;

	if (missing) {
		const char *uidlist = arena_printf(md->arena, "%s/dovecot-uidlist",
						   box->control);
		struct maildir_lock ulock;
		if (maildir_lock_take(md, uidlist, MAILDIR_UIDLIST_STALE_SECS, true,
				      &ulock, error_r) < 0)
			return -1;
		/* Reread under the lock: Dovecot may have added some. */
		if (maildir_keywords_read(md, md->arena, path, &map, error_r) < 0) {
			maildir_lock_release(&ulock);
			return -1;
		}
		bool changed = false;
		for (size_t i = 0; i < nkw; i++) {
			if (maildir_kwmap_find(&map, kw[i]) >= 0)
				continue;
			for (int j = 0; j < MAILDIR_MAX_KEYWORDS; j++) {
				if (map.names[j] == NULL) {
					map.names[j] = kw[i];
					changed = true;
					break;
				}
			}
		}
		if (changed) {
			struct strbuf sb = STRBUF_INIT;
			for (int j = 0; j < MAILDIR_MAX_KEYWORDS; j++)
				if (map.names[j] != NULL)
					strbuf_printf(&sb, "%d %s\n", j, map.names[j]);
			/* We hold the uidlist lock, so any keywords lock is a
			 * leftover: Dovecot removes it the same way. */
			const char *klock = arena_printf(md->arena, "%s.lock", path);
			(void)unlink(klock);
			struct maildir_lock kl;
			int ret = maildir_lock_take(md, path, MAILDIR_UIDLIST_STALE_SECS,
						    false, &kl, error_r);
			if (ret == 0) {
				time_t now = time(NULL);
				time_t min_mtime = map.mtime >= now ? map.mtime + 1 : now;
				ret = maildir_lock_replace(md, &kl, path, sb.data, sb.len,
							   min_mtime, error_r);
			}
			strbuf_free(&sb);
			if (ret == 0)
				ret = maildir_fsync_dir(md, box->control, error_r);
			if (ret < 0) {
				maildir_lock_release(&ulock);
				return -1;
			}
		}
		maildir_lock_release(&ulock);
	}
	size_t n = 0;
	for (size_t i = 0; i < nkw; i++) {
		int idx = maildir_kwmap_find(&map, kw[i]);
		if (idx >= 0)
			letters[n++] = (char)('a' + idx);
	}
	*nletters_r = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Maildir++ quota */

/* Reads maildirsize: limits from line 1 ("<bytes>S,<count>C", 0 = none)
 * and usage as the sum of the other lines.  1 when usable, 0 when missing
 * or unparsable (Dovecot recalculates such a file; we don't enforce it). */
static int maildir_quota_read(struct maildir *md, long long *lim_bytes,
			      long long *lim_count, long long *used_bytes,
			      long long *used_count)
{
	const char *path = arena_printf(md->arena, "%s/maildirsize", md->root);
	char *data;
	size_t len;
	const char *err;
	if (maildir_read_small(md, md->arena, path, &data, &len, NULL, &err) <= 0) {
		maildir_clear_error(md);
		return 0;
	}
	*lim_bytes = *lim_count = *used_bytes = *used_count = 0;
	char *line = data, *nl = strchr(line, '\n');
	if (nl == NULL)
		return 0;
	*nl = '\0';
	for (char *tok = line; *tok != '\0';) {
		char *end;
		long long v = strtoll(tok, &end, 10);
		if (end == tok || v < 0)
			return 0;
		if (*end == 'S')
			*lim_bytes = v;
		else if (*end == 'C')
			*lim_count = v;
		else
			return 0;
		tok = end + 1;
		if (*tok == ',')
			tok++;
	}
	for (line = nl + 1; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			break;  /* a line still being appended */
		*nl = '\0';
		char *end, *end2;
		long long b = strtoll(line, &end, 10);
		long long c = strtoll(end, &end2, 10);
		if (end == line || end2 == end)
			return 0;
		*used_bytes += b;
		*used_count += c;
	}
	return *used_bytes >= 0 && *used_count >= 0 ? 1 : 0;
}

/* Appends this delivery to maildirsize if the file exists (Dovecot's quota
 * backend creates it; we never do).  One O_APPEND write, as Dovecot. */
static void maildir_quota_append(struct maildir *md, size_t size)
{
	const char *path = arena_printf(md->arena, "%s/maildirsize", md->root);
	int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	char line[64];
	int n = snprintf(line, sizeof(line), "%zu 1\n", size);
	(void)maildir_write_full(fd, line, (size_t)n);
	(void)close(fd);
}

/* ------------------------------------------------------------------ */
/* delivery */

static int maildir_cmp_char(const void *a, const void *b)
{
	return *(const unsigned char *)a - *(const unsigned char *)b;
}

int maildir_deliver(struct maildir *md, const char *mailbox,
		    const char *data, size_t len,
		    const char *const *flags, size_t nflags,
		    const char **filename_r, const char **error_r)
{
	struct maildir_box box;
	maildir_clear_error(md);
	if (maildir_box_resolve(md, mailbox, &box, error_r) < 0)
		return -1;
	if (!box.inbox) {
		int ret = maildir_box_exists(md, &box, error_r);
		if (ret < 0)
			return -1;
		if (ret == 0)
			return maildir_fail(md, error_r, MAILDIR_ERROR_NOTFOUND,
					    "Mailbox doesn't exist: %s", mailbox);
	}

	unsigned int sys;
	const char **kw;
	size_t nkw;
	maildir_flags_parse(md, flags, nflags, &sys, &kw, &nkw);
	if (md->enforce_quota) {
		long long lb, lc, ub, uc;
		if (maildir_quota_read(md, &lb, &lc, &ub, &uc) > 0 &&
		    ((lb > 0 && ub + (long long)len > lb) || (lc > 0 && uc + 1 > lc)))
			return maildir_fail(md, error_r, MAILDIR_ERROR_NOQUOTA,
					    "Quota exceeded (mailbox for user is full)");
	}

	char letters[MAILDIR_MAX_KEYWORDS + 8];
	size_t nletters = 0;
	if (maildir_keywords_letters(md, &box, kw, nkw, letters, &nletters,
				     error_r) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(maildir_sysflag_letters); i++)
		if ((sys & (1u << i)) != 0)
			letters[nletters++] = maildir_sysflag_letters[i];
	qsort(letters, nletters, 1, maildir_cmp_char);
	letters[nletters] = '\0';

	/* W= is the size with CRLF line ends (IMAP RFC822.SIZE), so that
	 * Dovecot doesn't have to read the file to answer it. */
	size_t vsize = len;
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			vsize++;

	const char *base = NULL, *tmp_path = NULL;
	int fd = -1;
	bool made_dirs = false;
	for (int tries = 0; fd < 0; tries++) {
		base = arena_printf(md->arena, "%s,S=%zu,W=%zu",
				    maildir_unique_base(md), len, vsize);
		tmp_path = arena_printf(md->arena, "%s/tmp/%s", box.dir, base);
		fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  md->file_mode);
		if (fd >= 0)
			break;
		if (errno == ENOENT && !made_dirs) {
			/* cur/new/tmp missing (a bare folder, or an INBOX
			 * not created yet): create them, as Dovecot does. */
			made_dirs = true;
			if (maildir_make_subdirs(md, box.dir, error_r) < 0)
				return -1;
			continue;
		}
		if (errno != EEXIST || tries >= MAILDIR_NAME_TRIES)
			return maildir_fail_sys(md, error_r, "open", tmp_path);
	}
	if ((md->file_mode & 0077) != 0)
		(void)fchmod(fd, md->file_mode);
	if (maildir_write_full(fd, data, len) < 0 ||
	    (md->fsync && fsync(fd) < 0)) {
		int err = errno;
		(void)close(fd);
		(void)unlink(tmp_path);
		errno = err;
		return maildir_fail_sys(md, error_r, "write", tmp_path);
	}
	if (close(fd) < 0) {
		/* NFS reports write errors at close */
		int err = errno;
		(void)unlink(tmp_path);
		errno = err;
		return maildir_fail_sys(md, error_r, "close", tmp_path);
	}

	/* Files in new/ can't have flags: flagged mail goes straight to cur/
	 * (what Dovecot's LDA does for Sieve's :flags). */
	const char *subdir = nletters > 0 ? "cur" : "new";
	const char *rel = NULL, *dest;
	for (int tries = 0;; tries++) {
		rel = nletters > 0 ?
			arena_printf(md->arena, "%s/%s:2,%s", subdir, base, letters) :
			arena_printf(md->arena, "%s/%s", subdir, base);
		dest = arena_printf(md->arena, "%s/%s", box.dir, rel);
		if (maildir_move_noreplace(tmp_path, dest) == 0)
			break;
		if (errno == ENOENT && !made_dirs) {
			made_dirs = true;
			if (maildir_make_subdirs(md, box.dir, error_r) < 0) {
				(void)unlink(tmp_path);
				return -1;
			}
			continue;
		}
		if (errno != EEXIST || tries >= MAILDIR_NAME_TRIES) {
			int err = errno;
			(void)unlink(tmp_path);
			errno = err;
			return maildir_fail_sys(md, error_r, "rename", dest);
		}
		/* Someone has this name (never replace a message): take a
		 * fresh one; the file in tmp/ keeps its old name. */
		base = arena_printf(md->arena, "%s,S=%zu,W=%zu",
				    maildir_unique_base(md), len, vsize);
	}
	const char *destdir = arena_printf(md->arena, "%s/%s", box.dir, subdir);
	if (maildir_fsync_dir(md, destdir, error_r) < 0)
		return -1;
	maildir_quota_append(md, len);
	if (filename_r != NULL)
		*filename_r = rel;
	return 0;
}

/* ------------------------------------------------------------------ */
/* reading */

static void maildir_parse_info(const char *fname, const struct maildir_kwmap *map,
			       struct arena *arena, struct maildir_message *msg)
{
	msg->flags = 0;
	msg->keywords = NULL;
	msg->nkeywords = 0;
	const char *info = strrchr(fname, ':');
	if (info == NULL || info[1] != '2' || info[2] != ',')
		return;
	size_t nkw = 0;
	bool seen_kw[MAILDIR_MAX_KEYWORDS] = { false };
	for (const char *p = info + 3; *p != '\0' && *p != ','; p++) {
		switch (*p) {
		case 'R': msg->flags |= MAILDIR_FLAG_ANSWERED; break;
		case 'F': msg->flags |= MAILDIR_FLAG_FLAGGED; break;
		case 'T': msg->flags |= MAILDIR_FLAG_DELETED; break;
		case 'S': msg->flags |= MAILDIR_FLAG_SEEN; break;
		case 'D': msg->flags |= MAILDIR_FLAG_DRAFT; break;
		default:
			if (*p >= 'a' && *p <= 'z') {
				int idx = *p - 'a';
				if (map->names[idx] != NULL && !seen_kw[idx]) {
					seen_kw[idx] = true;
					nkw++;
				}
			}
			/* anything else (P, unknown letters): ignored, as
			 * Dovecot does */
			break;
		}
	}
	if (nkw > 0) {
		msg->keywords = arena_alloc(arena, nkw * sizeof(*msg->keywords));
		size_t n = 0;
		/* letter order, not the order in the name */
		for (int i = 0; i < MAILDIR_MAX_KEYWORDS; i++)
			if (seen_kw[i])
				msg->keywords[n++] = arena_strdup(arena, map->names[i]);
		msg->nkeywords = n;
	}
}

static bool maildir_fname_size(const char *fname, uint64_t *size_r)
{
	const char *p = fname;
	size_t base_len = strcspn(fname, ":");
	while ((p = strstr(p, ",S=")) != NULL && (size_t)(p - fname) < base_len) {
		p += 3;
		uint64_t v = 0;
		const char *q = p;
		for (; *q >= '0' && *q <= '9'; q++)
			v = v * 10 + (uint64_t)(*q - '0');
		if (q != p && (*q == ',' || *q == ':' || *q == '\0')) {
			*size_r = v;
			return true;
		}
	}
	return false;
}

static int maildir_msg_cmp(const void *a, const void *b)
{
	const struct maildir_message *ma = a, *mb = b;
	return maildir_fname_cmp(ma->filename, mb->filename);
}

static int maildir_scan_subdir(struct maildir *md, struct arena *arena,
			       const char *dir, bool in_new,
			       const struct maildir_kwmap *map,
			       struct maildir_message **msgs, size_t *n, size_t *cap,
			       const char **error_r)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return maildir_fail_sys(md, error_r, "opendir", dir);
	}
	int dfd = dirfd(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (*n == *cap) {
			*msgs = arena_grow(arena, *msgs, *cap, *cap * 2, sizeof(**msgs));
			*cap *= 2;
		}
		struct maildir_message *m = &(*msgs)[(*n)++];
		memset(m, 0, sizeof(*m));
		m->filename = arena_strdup(arena, de->d_name);
		m->in_new = in_new;
		m->mtime = st.st_mtime;
		if (!maildir_fname_size(m->filename, &m->size))
			m->size = (uint64_t)st.st_size;
		maildir_parse_info(m->filename, map, arena, m);
	}
	(void)closedir(d);
	return 0;
}

int maildir_message_list(struct maildir *md, const char *mailbox,
			 struct arena *arena, struct maildir_message **msgs_r,
			 size_t *n_r, const char **error_r)
{
	struct maildir_box box;
	maildir_clear_error(md);
	if (maildir_box_resolve(md, mailbox, &box, error_r) < 0)
		return -1;
	if (!box.inbox) {
		int ret = maildir_box_exists(md, &box, error_r);
		if (ret <= 0)
			return ret < 0 ? -1 :
				maildir_fail(md, error_r, MAILDIR_ERROR_NOTFOUND,
					     "Mailbox doesn't exist: %s", mailbox);
	}
	struct maildir_kwmap map;
	const char *kwpath = arena_printf(md->arena, "%s/dovecot-keywords", box.control);
	if (maildir_keywords_read(md, arena, kwpath, &map, error_r) < 0)
		return -1;
	size_t n = 0, cap = 16;
	struct maildir_message *msgs = arena_alloc(arena, cap * sizeof(*msgs));
	if (maildir_scan_subdir(md, arena, arena_printf(md->arena, "%s/new", box.dir),
				true, &map, &msgs, &n, &cap, error_r) < 0 ||
	    maildir_scan_subdir(md, arena, arena_printf(md->arena, "%s/cur", box.dir),
				false, &map, &msgs, &n, &cap, error_r) < 0)
		return -1;
	qsort(msgs, n, sizeof(*msgs), maildir_msg_cmp);
	*msgs_r = msgs;
	*n_r = n;
	return 0;
}

/* Finds the current name of a message whose base name is `base_len` bytes
 * of `fname`, in new/ or cur/.  Returns its path or NULL. */
static const char *maildir_find_base(struct maildir *md, const char *boxdir,
				     const char *fname)
{
	size_t base_len = strcspn(fname, ":");
	static const char *const subdirs[] = { "cur", "new" };
	for (size_t i = 0; i < 2; i++) {
		const char *dir = arena_printf(md->arena, "%s/%s", boxdir, subdirs[i]);
		DIR *d = opendir(dir);
		if (d == NULL)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, fname, base_len) == 0 &&
			    (de->d_name[base_len] == ':' || de->d_name[base_len] == '\0')) {
				const char *path = arena_printf(md->arena, "%s/%s",
								dir, de->d_name);
				(void)closedir(d);
				return path;
			}
		}
		(void)closedir(d);
	}
	return NULL;
}

int maildir_message_read(struct maildir *md, const char *mailbox,
			 const struct maildir_message *msg, struct arena *arena,
			 const char **data_r, size_t *len_r, const char **error_r)
{
	struct maildir_box box;
	maildir_clear_error(md);
	if (maildir_box_resolve(md, mailbox, &box, error_r) < 0)
		return -1;
	if (strchr(msg->filename, '/') != NULL || msg->filename[0] == '.')
		return maildir_fail(md, error_r, MAILDIR_ERROR_PARAMS,
				    "Invalid message file name");
	const char *path = arena_printf(md->arena, "%s/%s/%s", box.dir,
					msg->in_new ? "new" : "cur", msg->filename);
	char *data;
	size_t len;
	int ret = maildir_read_small(md, arena, path, &data, &len, NULL, error_r);
	if (ret == 0) {
		/* Dovecot moved it (new/ -> cur/) or changed its flags. */
		path = maildir_find_base(md, box.dir, msg->filename);
		if (path != NULL)
			ret = maildir_read_small(md, arena, path, &data, &len, NULL,
						 error_r);
	}
	if (ret < 0)
		return -1;
	if (ret == 0)
		return maildir_fail(md, error_r, MAILDIR_ERROR_NOTFOUND,
				    "Message %s was expunged", msg->filename);
	*data_r = data;
	*len_r = len;
	return 0;
}

int maildir_message_get(struct maildir *md, const char *mailbox, size_t index,
			struct arena *arena, struct maildir_message *msg_r,
			const char **data_r, size_t *len_r, const char **error_r)
{
	struct maildir_message *msgs;
	size_t n;
	if (maildir_message_list(md, mailbox, arena, &msgs, &n, error_r) < 0)
		return -1;
	if (index >= n)
		return maildir_fail(md, error_r, MAILDIR_ERROR_NOTFOUND,
				    "no message in folder '%s' with index %zu",
				    mailbox, index);
	*msg_r = msgs[index];
	return maildir_message_read(md, mailbox, msg_r, arena, data_r, len_r,
				    error_r);
}

size_t maildir_message_flag_names(const struct maildir_message *msg,
				  struct arena *arena, const char ***names_r)
{
	static const char *const sysnames[] = {
		"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"
	};
	const char **names = arena_alloc(arena, (5 + msg->nkeywords + 1) *
					 sizeof(*names));
	size_t n = 0;
	for (size_t i = 0; i < 5; i++)
		if ((msg->flags & (1u << i)) != 0)
			names[n++] = sysnames[i];
	for (size_t i = 0; i < msg->nkeywords; i++)
		names[n++] = msg->keywords[i];
	names[n] = NULL;
	*names_r = names;
	return n;
}
