/* fuzz_message.c: libFuzzer target for the message side of the engine:
 * everything that reads the bytes of an incoming message.  The input is a
 * raw message, optionally preceded by envelope lines (see fuzz_split()).
 * A fixed set of scripts, compiled once, is run on it, each on a freshly
 * parsed copy, and each result is printed and executed through a host that
 * does nothing observable.  Together the scripts reach:
 *   - the header index, unfolding and RFC 2047 decoding (header, exists,
 *     variables :matches on header values, :encodeurl / :quoteregex);
 *   - RFC 5322 address lists and SMTP paths (address and envelope with
 *     every address part, subaddress, index, mime's address :mime);
 *   - the MIME tree, RFC 2231 parameters and transfer decoding (header
 *     :mime :type/:subtype/:contenttype/:param, foreverypart, extracttext,
 *     body :raw/:content/:text);
 *   - date parsing (date with every date-part on Date, Received and
 *     Resent-Date; currentdate), spamtest/virustest header scores,
 *     duplicate :header;
 *   - editheader on the hostile header, replace and enclose (whose own
 *     MIME text may come from the message), and the mail the engine
 *     writes itself: vacation replies, reject, redirect, notify mailto and
 *     vnd.dovecot.report.
 * Besides "no crash, no leak, no hang", the host checks two properties:
 *   - a message handed to store (after editheader, replace, enclose)
 *     carries a header index equal to what parsing its bytes afresh gives,
 *     so the patched index never disagrees with the message delivered;
 *   - a message the engine writes itself (vacation, reject, notify,
 *     report; not redirect, which passes the original header on) has a
 *     well-formed header: CRLF lines, each a "name:" field or a folded
 *     continuation, no bare CR or LF, no NUL, so nothing from the hostile
 *     message can inject a field into it. */
#include <stdio.h>

#include "fuzz/fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* One script of the set, with the settings it runs under added to the
 * common ones, and whether the mail it sends is written by the engine
 * alone (checked strictly, see fuzz_send_checked()). */
struct fuzz_script {
	const char *name;
	const char *src;
	const char *const *settings;    /* key, value, ..., NULL */
	bool strict_send;
};

static const char *const no_settings[] = { NULL };
/* The vacation reply is built only when the recipient check passes; this
   variant skips the check, so that hostile headers reach the builder. */
static const char *const vacation_nocheck[] = {
	"sieve_vacation_dont_check_recipient", "yes",
	"sieve_vacation_send_from_recipient", "yes",
	"sieve_user_email", "bob@example.com",
	NULL,
};
/* Scores read with a regex (spamtest) and as a run of one character
   (virustest), the maximum from another header. */
static const char *const spam_settings[] = {
	"sieve_spamtest_status_type", "score",
	"sieve_spamtest_status_header", "X-Spam-Status: score=(-?[0-9]+[.,]?[0-9]*)",
	"sieve_spamtest_max_header", "X-Spam-Max",
	"sieve_virustest_status_type", "strlen",
	"sieve_virustest_status_header", "X-Virus-Level",
	"sieve_virustest_max_value", "5",
	NULL,
};
static const char *const spam_text_settings[] = {
	"sieve_spamtest_status_type", "text",
	"sieve_spamtest_status_header", "X-Spam-Flag",
	"sieve_spamtest_text_value1", "NO",
	"sieve_spamtest_text_value10", "YES",
	"sieve_virustest_status_type", "score",
	"sieve_virustest_status_header", "X-Virus-Score",
	"sieve_virustest_max_value", "3.5",
	NULL,
};

/* The address headers a filter may look at. */
#define FUZZ_ADDR_HEADERS \
	"[\"from\", \"to\", \"cc\", \"bcc\", \"sender\", \"reply-to\", \"resent-from\", " \
	"\"resent-to\", \"resent-cc\", \"resent-bcc\", \"resent-sender\", \"return-path\", " \
	"\"delivered-to\", \"errors-to\", \"disposition-notification-to\", \"x-original-to\"]"

static const struct fuzz_script fuzz_scripts[] = {
	{ "headers",
	  "require [\"variables\", \"envelope\", \"subaddress\", \"index\", \"relational\",\n"
	  "  \"comparator-i;ascii-numeric\", \"comparator-i;unicode-casemap\", \"regex\",\n"
	  "  \"imap4flags\", \"fileinto\", \"vnd.dovecot.debug\", \"envelope-dsn\",\n"
	  "  \"envelope-deliverby\", \"enotify\"];\n"
	  "if header :matches \"subject\" \"*\" {\n"
	  "  set :encodeurl \"e\" \"${1}\"; set :quoteregex \"q\" \"${1}\";\n"
	  "  set :length \"n\" \"${1}\"; set :upperfirst :quotewildcard \"u\" \"${1}\";\n"
	  "  addflag \"${1}\"; debug_log \"${e} ${q} ${n} ${u}\";\n"
	  "}\n"
	  "if header :regex \"subject\" \"^(.*)\\\\[([^]]*)\\\\](.*)$\" { set \"list\" \"${2}\"; }\n"
	  "if header :comparator \"i;unicode-casemap\" :contains [\"subject\", \"comments\", \"keywords\"] \"caf\" {}\n"
	  "if header :count \"ge\" :comparator \"i;ascii-numeric\" \"received\" \"3\" {}\n"
	  "if header :value \"gt\" :comparator \"i;ascii-numeric\" [\"x-priority\", \"importance\"] \"2\" {}\n"
	  "if header :index 2 :last :matches \"received\" \"from * by *\" { set \"via\" \"${1}\"; }\n"
	  "if exists [\"list-id\", \"list-post\", \"auto-submitted\", \"precedence\"] {}\n"
	  "if address :all :comparator \"i;unicode-casemap\" :contains " FUZZ_ADDR_HEADERS " \"example\" {}\n"
	  "if address :localpart :matches " FUZZ_ADDR_HEADERS " \"*\" { set \"lp\" \"${1}\"; }\n"
	  "if address :domain :matches " FUZZ_ADDR_HEADERS " \"*.*\" { set \"dom\" \"${2}\"; }\n"
	  "if address :user :is " FUZZ_ADDR_HEADERS " \"alice\" {}\n"
	  "if address :detail :matches " FUZZ_ADDR_HEADERS " \"*\" { addflag \"${1}\"; }\n"
	  "if address :count \"ge\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\"] \"2\" {}\n"
	  "if address :index 1 :last :all [\"from\", \"mail-followup-to\"] \"x\" {}\n"
	  "if envelope :all :matches [\"from\", \"to\", \"orcpt\"] \"*@*\" { set \"ed\" \"${2}\"; }\n"
	  "if envelope :localpart :is [\"from\", \"to\"] \"\" {}\n"
	  "if envelope :domain :contains [\"from\", \"to\"] \"example\" {}\n"
	  "if envelope :user :matches [\"from\", \"to\"] \"*\" {}\n"
	  "if envelope :detail :matches [\"from\", \"to\"] \"*\" { addflag \"${1}\"; }\n"
	  "if envelope :all :matches [\"notify\", \"ret\", \"envid\", \"bytimeabsolute\", \"bymode\"] \"*\" {}\n"
	  "fileinto :flags \"${list} ${lp}\" \"INBOX.${dom}\";\n",
	  no_settings, false },

	{ "mime",
	  "require [\"mime\", \"foreverypart\", \"extracttext\", \"variables\", \"body\",\n"
	  "  \"fileinto\", \"relational\", \"comparator-i;ascii-numeric\"];\n"
	  "if header :mime :type \"content-type\" \"text\" {}\n"
	  "if header :mime :anychild :subtype \"content-type\" \"html\" {}\n"
	  "if header :mime :anychild :contenttype \"content-type\" \"text/plain\" {}\n"
	  "if header :mime :anychild :param [\"charset\", \"name\", \"filename\", \"boundary\", \"format\"]\n"
	  "    [\"content-type\", \"content-disposition\"] \"*\" {}\n"
	  "if header :mime :anychild :contains [\"subject\", \"content-description\"] \"x\" {}\n"
	  "if address :mime :anychild :all [\"from\", \"to\", \"sender\"] \"*\" {}\n"
	  "if address :mime :anychild :domain :count \"ge\" :comparator \"i;ascii-numeric\" \"from\" \"2\" {}\n"
	  "if exists :mime :anychild [\"content-id\", \"content-location\"] {}\n"
	  "foreverypart :name \"outer\" {\n"
	  "  if header :mime :type \"content-type\" \"text\" {\n"
	  "    extracttext :first 200 \"t\"; set :length \"l\" \"${t}\";\n"
	  "  }\n"
	  "  if header :mime :param \"filename\" :matches \"content-disposition\" \"*.*\" {\n"
	  "    set \"ext\" \"${2}\";\n"
	  "  }\n"
	  "  if header :mime :contenttype \"content-type\" \"message/rfc822\" {\n"
	  "    if address :mime :all :matches \"from\" \"*\" { set \"inner\" \"${1}\"; }\n"
	  "  }\n"
	  "  if header :mime :subtype :anychild \"content-type\" \"alternative\" {}\n"
	  "  foreverypart {\n"
	  "    extracttext :lower :length \"u\";\n"
	  "    if header :mime :type \"content-type\" \"image\" { break :name \"outer\"; }\n"
	  "  }\n"
	  "}\n"
	  "if body :raw :contains \"boundary\" {}\n"
	  "if body :content \"text\" :contains \"hello\" {}\n"
	  "if body :content [\"multipart\", \"message/rfc822\", \"image/png\", \"\"] :contains \"x\" {}\n"
	  "if body :text :matches \"*caf*\" {}\n"
	  "fileinto \"parts.${ext}\";\n",
	  no_settings, false },

	{ "date", NULL /* built by fuzz_date_script() */, no_settings, false },

	{ "scores",
	  "require [\"spamtest\", \"spamtestplus\", \"virustest\", \"relational\",\n"
	  "  \"comparator-i;ascii-numeric\", \"duplicate\", \"variables\"];\n"
	  "if spamtest :percent :value \"ge\" :comparator \"i;ascii-numeric\" \"50\" {}\n"
	  "if spamtest :value \"eq\" :comparator \"i;ascii-numeric\" \"0\" {}\n"
	  "if virustest :value \"ge\" :comparator \"i;ascii-numeric\" \"4\" {}\n"
	  "if duplicate {}\n"
	  "if duplicate :header \"subject\" :handle \"s\" {}\n"
	  "if header :matches \"list-id\" \"*<*>*\" { set \"lid\" \"${2}\"; }\n"
	  "if duplicate :uniqueid \"${lid}\" :last :seconds 60 {}\n"
	  "if duplicate :header \"x-unique\" :last {}\n",
	  spam_settings, false },

	{ "scores-text",
	  "require [\"spamtest\", \"spamtestplus\", \"virustest\", \"relational\",\n"
	  "  \"comparator-i;ascii-numeric\"];\n"
	  "if spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"5\" {}\n"
	  "if virustest :value \"eq\" :comparator \"i;ascii-numeric\" \"1\" {}\n",
	  spam_text_settings, false },

	{ "editheader",
	  "require [\"editheader\", \"variables\", \"index\", \"mime\", \"foreverypart\",\n"
	  "  \"fileinto\", \"body\", \"date\", \"copy\"];\n"
	  "if header :matches \"subject\" \"*\" { addheader \"X-Subject-Copy\" \"${1}\"; }\n"
	  "if header :matches \"from\" \"*\" { addheader :last \"X-From-Copy\" \"${1}\"; }\n"
	  "if header :matches \"content-type\" \"*\" { addheader :last \"X-Type\" \"${1}\"; }\n"
	  "fileinto :copy \"Step1\";\n"
	  "deleteheader :index 1 \"to\";\n"
	  "deleteheader :index 1 :last \"cc\";\n"
	  "deleteheader :matches \"x-*\" \"*a*\";\n"
	  "deleteheader :contains \"subject\" \"e\";\n"
	  "addheader \"Subject\" \"=?utf-8?q?caf=C3=A9?= edited\";\n"
	  "if exists \"x-subject-copy\" { deleteheader \"x-subject-copy\"; }\n"
	  "addheader :last \"X-Long\" \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb cccccccccccccccc\";\n"
	  "if header :index 1 :contains \"subject\" \"caf\" {}\n"
	  "if address :all :contains [\"from\", \"to\", \"cc\"] \"@\" {}\n"
	  "if date :originalzone \"date\" \"iso8601\" \"*\" {}\n"
	  "foreverypart { if header :mime :anychild :type \"content-type\" \"text\" {} }\n"
	  "if body :content \"text\" :contains \"a\" {}\n"
	  "deleteheader \"content-type\";\n"
	  "addheader \"Content-Type\" \"multipart/mixed; boundary=x\";\n"
	  "foreverypart { if header :mime :type \"content-type\" \"text\" {} }\n"
	  "fileinto \"Edited\";\n"
	  "deleteheader \"from\";\n"
	  "deleteheader \"date\";\n"
	  "addheader :last \"Date\" \"Mon, 6 Nov 2023 10:00:00 +0100\";\n",
	  no_settings, false },

	{ "vacation",
	  "require [\"vacation\", \"variables\"];\n"
	  "vacation :days 1 :addresses [\"bob@example.com\", \"carol@example.net\"] \"I am away.\";\n",
	  no_settings, true },

	{ "vacation-mime",
	  "require [\"vacation\", \"vacation-seconds\", \"variables\", \"fcc\"];\n"
	  "if header :matches \"subject\" \"*\" { set \"s\" \"${1}\"; }\n"
	  "if header :matches \"reply-to\" \"*\" { set \"r\" \"${1}\"; }\n"
	  "vacation :seconds 60 :mime :subject \"Re: ${s}\" :handle \"${s}\" :fcc \"Sent\"\n"
	  "  \"Content-Type: text/plain; charset=utf-8\r\n\r\nAway: ${s} / ${r}\r\n\";\n",
	  vacation_nocheck, true },

	{ "vacation-from",
	  "require [\"vacation\", \"variables\"];\n"
	  "if address :all :matches \"to\" \"*\" { set \"t\" \"${1}\"; }\n"
	  "vacation :from \"${t}\" \"Away\";\n",
	  vacation_nocheck, true },

	{ "reject",
	  "require [\"reject\", \"variables\"];\n"
	  "if header :matches \"subject\" \"*\" { set \"s\" \"${1}\"; }\n"
	  "reject \"Not wanted: ${s}\";\n",
	  no_settings, true },

	{ "ereject",
	  "require [\"ereject\"];\n"
	  "ereject \"no\";\n",
	  no_settings, true },

	{ "notify",
	  "require [\"enotify\", \"variables\", \"vnd.dovecot.report\"];\n"
	  "if header :matches \"subject\" \"*\" { set :encodeurl \"es\" \"${1}\"; set \"s\" \"${1}\"; }\n"
	  "if header :matches \"from\" \"*\" { set :encodeurl \"ef\" \"${1}\"; set \"f\" \"${1}\"; }\n"
	  "if header :matches \"message-id\" \"*\" { set :encodeurl \"mid\" \"${1}\"; }\n"
	  "if valid_notify_method \"mailto:${ef}\" {}\n"
	  "if notify_method_capability \"mailto:${ef}\" \"online\" \"yes\" {}\n"
	  "notify :message \"${s}\" :importance \"1\" \"mailto:c@example.net?subject=Note&body=${es}\";\n"
	  "report \"abuse\" \"About ${s}\" \"abuse@example.net\";\n"
	  "report :headers_only \"fraud\" \"${s}\" \"fraud@example.net\";\n"
	  /* the last two fail on many messages: an invalid field stops the run */
	  "notify \"mailto:d@example.net?x-original-id=${mid}\";\n"
	  "notify :from \"${f}\" \"mailto:e@example.net\";\n",
	  no_settings, true },

	{ "redirect",
	  "require [\"copy\", \"redirect-dsn\", \"redirect-deliverby\", \"variables\"];\n"
	  "redirect :copy \"a@example.net\";\n"
	  "redirect :notify \"success,failure\" :ret \"hdrs\" \"b@example.net\";\n"
	  "if address :all :matches \"reply-to\" \"*\" { redirect \"${1}\"; }\n",
	  no_settings, false },

	{ "replace",
	  "require [\"replace\", \"enclose\", \"mime\", \"foreverypart\", \"extracttext\",\n"
	  "  \"variables\", \"body\", \"fileinto\", \"editheader\"];\n"
	  "if header :matches \"subject\" \"*\" { set \"s\" \"${1}\"; }\n"
	  "if header :matches \"from\" \"*\" { set \"f\" \"${1}\"; }\n"
	  "foreverypart {\n"
	  "  if header :mime :type \"content-type\" \"text\" { extracttext \"t\"; }\n"
	  "  if header :mime :subtype \"content-type\" [\"octet-stream\", \"html\"] {\n"
	  "    replace :mime \"Content-Type: text/plain; charset=utf-8\r\n\r\nremoved\r\n\";\n"
	  "  }\n"
	  "}\n"
	  "fileinto \"Replaced\";\n"
	  "enclose :subject \"Fwd: ${s}\" :headers [\"from\", \"to\", \"subject\", \"date\", \"X-Note: x\"] \"See the attached message.\";\n"
	  "if body :content \"message/rfc822\" :contains \"e\" {}\n"
	  "foreverypart { extracttext :first 500 \"last\"; }\n"
	  "fileinto \"Enclosed\";\n"
	  "replace :mime \"${t}\";\n"
	  "foreverypart { if header :mime :anychild :param \"boundary\" \"content-type\" \"*\" {} }\n"
	  "replace :subject \"${s}\" :from \"${f}\" \"${last}\";\n"
	  "if address :all :matches [\"from\", \"sender\", \"original-from\"] \"*\" {}\n"
	  "addheader \"X-After\" \"replace\";\n",
	  no_settings, false },
};

#define FUZZ_NSCRIPTS (sizeof(fuzz_scripts) / sizeof(fuzz_scripts[0]))

static struct sieve_config *fuzz_cfgs[FUZZ_NSCRIPTS];
static struct sieve_binary *fuzz_bins[FUZZ_NSCRIPTS];
/* FUZZ_MESSAGE_ONLY=NAME runs that script alone (to replay a finding). */
static const char *fuzz_only;

/* Every date-part on each header that carries a date, in the original zone
   and in others (the conversion is part of what is tested). */
static char *fuzz_date_script(void)
{
	static const char *const parts[] = {
		"year", "month", "day", "date", "julian", "hour", "minute", "second",
		"time", "iso8601", "std11", "zone", "weekday",
	};
	static const char *const headers[] = { "date", "received", "resent-date", "delivery-date" };
	static const char *const zones[] = { ":originalzone", ":zone \"+0000\"", ":zone \"-1159\"", "" };
	struct strbuf s = STRBUF_INIT;
	strbuf_puts(&s, "require [\"date\", \"relational\", \"variables\", \"index\",\n"
			"  \"comparator-i;ascii-numeric\", \"fileinto\"];\n");
	for (size_t h = 0; h < sizeof(headers) / sizeof(headers[0]); h++)
		for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++)
			strbuf_printf(&s, "if date %s :matches \"%s\" \"%s\" \"*\" { set \"%s\" \"${1}\"; }\n",
				      zones[(h + p) % 4], headers[h], parts[p], parts[p]);
	strbuf_puts(&s, "if date :index 2 :last :value \"ge\" :comparator \"i;ascii-numeric\" \"received\" \"year\" \"2000\" {}\n"
			"if date :zone \"+1400\" :value \"lt\" \"date\" \"iso8601\" \"2038\" {}\n"
			"if currentdate :zone \"+0530\" :matches \"std11\" \"*\" {}\n"
			"if currentdate :value \"ge\" \"date\" \"${date}\" {}\n"
			"fileinto \"Y${year}.${month}.${weekday}\";\n");
	strbuf_putc(&s, '\0');
	return s.data;
}

static struct sieve_binary *fuzz_compile_script(const char *name, const char *src,
						const struct sieve_config *cfg)
{
	struct sieve_host host;
	fuzz_host(&host);
	struct sieve_compile_params p = {
		.script_name = name, .script_path = "/fuzz/message.sieve",
		.cfg = cfg, .admin = true, .host = &host,
	};
	struct diag_list d;
	diag_init(&d);
	struct sieve_binary *b = sieve_compile(src, strlen(src), &p, &d);
	if (b == NULL) {
		/* A script of the set that does not compile is a harness
		   bug: say which, and stop. */
		for (size_t i = 0; i < d.count; i++) {
			char *s = diag_format(&d.items[i]);
			fprintf(stderr, "fuzz_message: script %s: %s\n", name, s);
			free(s);
		}
		abort();
	}
	diag_free(&d);
	return b;
}

/* With FUZZ_MESSAGE_SCRIPTS=DIR in the environment, each script is also
   written to DIR/NAME.sieve, its settings in a comment on top, so that a
   finding can be replayed with `tamis test -o KEY=VALUE ...`. */
static void fuzz_save_script(const char *name, const char *src, const char *const *settings)
{
	const char *dir = getenv("FUZZ_MESSAGE_SCRIPTS");
	if (dir == NULL)
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.sieve", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return;
	fputs("# settings:", f);
	for (const char *const *kv = settings; *kv != NULL; kv += 2)
		fprintf(f, " -o '%s=%s'", kv[0], kv[1]);
	fprintf(f, "\n%s", src);
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_only = getenv("FUZZ_MESSAGE_ONLY");
	for (size_t i = 0; i < FUZZ_NSCRIPTS; i++) {
		const struct fuzz_script *fs = &fuzz_scripts[i];
		struct sieve_config *cfg = fuzz_config();
		for (const char *const *kv = fs->settings; *kv != NULL; kv += 2)
			sieve_config_set(cfg, kv[0], kv[1]);
		fuzz_cfgs[i] = cfg;
		char *built = fs->src == NULL ? fuzz_date_script() : NULL;
		const char *src = built != NULL ? built : fs->src;
		fuzz_save_script(fs->name, src, fs->settings);
		fuzz_bins[i] = fuzz_compile_script(fs->name, src, cfg);
		free(built);
	}
	return 0;
}

/* ---- the checking host ---- */

/* Prints a header index (for a failed check below). */
static void fuzz_print_index(const char *what, const struct message *m)
{
	fprintf(stderr, "%s: %zu fields, has_body %d, body_offset %zu\n", what, m->nheaders,
		(int)m->has_body, m->body_offset);
	for (size_t i = 0; i < m->nheaders; i++) {
		const struct msg_header *h = &m->headers[i];
		fprintf(stderr, "  [%zu] name @%td len %zu, raw @%td len %zu: %.*s\n", i,
			h->name - m->data, h->name_len, h->raw - m->data, h->raw_len,
			(int)(h->name_len < 40 ? h->name_len : 40), h->name);
	}
}

/* A delivered message's header index must be the one its bytes give. */
static int fuzz_store_checked(void *ctx, const char *mailbox, bool create, const struct message *msg,
			      const char *const *flags, size_t nflags, const char **error_r)
{
	struct arena *a = arena_new(4096);
	const struct message *fresh = msg_parse(a, msg->data, msg->size);
	bool same = fresh->nheaders == msg->nheaders && fresh->has_body == msg->has_body &&
		fresh->body_offset == msg->body_offset;
	for (size_t i = 0; same && i < msg->nheaders; i++) {
		const struct msg_header *x = &fresh->headers[i], *y = &msg->headers[i];
		same = x->name - fresh->data == y->name - msg->data && x->name_len == y->name_len &&
			x->raw - fresh->data == y->raw - msg->data && x->raw_len == y->raw_len;
	}
	if (!same) {
		fprintf(stderr, "fuzz_message: index of the message stored in %s differs from its bytes\n",
			mailbox);
		fuzz_print_index("index", msg);
		fuzz_print_index("bytes", fresh);
		abort();
	}
	arena_unref(&a);
	return fuzz_store(ctx, mailbox, create, msg, flags, nflags, error_r);
}

/* The header of a message the engine composed: CRLF lines, each a field
   ("name:" with a printable ASCII name) or a continuation of one (starting
   with SP or HTAB), up to the empty line; no NUL, CR or LF elsewhere. */
static bool fuzz_composed_header_ok(const char *d, size_t len)
{
	size_t pos = 0;
	bool first = true;
	for (;;) {
		const char *nl = pos < len ? memchr(d + pos, '\n', len - pos) : NULL;
		if (nl == NULL)
			return false;
		size_t eol = (size_t)(nl - d);
		if (eol == pos || d[eol - 1] != '\r')
			return false;
		size_t end = eol - 1;
		if (end == pos)
			return true;    /* the empty line */
		for (size_t i = pos; i < end; i++)
			if (d[i] == '\0' || d[i] == '\r')
				return false;
		if (d[pos] == ' ' || d[pos] == '\t') {
			if (first)
				return false;
		} else {
			size_t i = pos;
			while (i < end && d[i] > 32 && d[i] < 127 && d[i] != ':')
				i++;
			if (i == pos || i == end || d[i] != ':')
				return false;
		}
		first = false;
		pos = eol + 1;
	}
}

static int fuzz_send_checked(void *ctx, const struct sieve_outgoing *out, const char **error_r)
{
	const bool *strict = ctx;
	if (*strict && !fuzz_composed_header_ok(out->data, out->len)) {
		fprintf(stderr, "fuzz_message: malformed header in a message the engine wrote:\n");
		fwrite(out->data, 1, out->len < 4096 ? out->len : 4096, stderr);
		fputc('\n', stderr);
		abort();
	}
	return fuzz_send(ctx, out, error_r);
}

/* ---- the input ---- */

/* The envelope: defaults, or lines at the start of the input
 *   MAIL FROM:<path>     the envelope sender ("" = null sender)
 *   RCPT TO:<path>       the recipient
 *   ORCPT:<path>         the original recipient
 * each ended by LF; the message follows.  Values are kept as they are
 * (brackets and all) up to the line end, so hostile paths reach the
 * engine's own path parser.  Returns the message's start. */
static size_t fuzz_split(const uint8_t *data, size_t size, char **from, char **to, char **orcpt)
{
	static const struct {
		const char *prefix;
		size_t which;
	} keys[] = { { "MAIL FROM:", 0 }, { "RCPT TO:", 1 }, { "ORCPT:", 2 } };
	char **slots[3] = { from, to, orcpt };
	size_t pos = 0;
	for (;;) {
		size_t k;
		for (k = 0; k < 3; k++) {
			size_t pl = strlen(keys[k].prefix);
			if (size - pos >= pl && memcmp(data + pos, keys[k].prefix, pl) == 0)
				break;
		}
		if (k == 3)
			return pos;
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t eol = nl != NULL ? (size_t)(nl - data) : size;
		size_t vs = pos + strlen(keys[k].prefix), ve = eol;
		if (ve > vs && data[ve - 1] == '\r')
			ve--;
		char **slot = slots[keys[k].which];
		free(*slot);
		*slot = strndup((const char *)data + vs, ve - vs);   /* stops at a NUL */
		FUZZ_CHECK(*slot != NULL);
		pos = nl != NULL ? eol + 1 : size;
	}
}

static void fuzz_run_script(size_t i, const char *m, size_t mlen, const struct sieve_envelope *env)
{
	bool strict = fuzz_scripts[i].strict_send;
	struct sieve_host host;
	fuzz_host(&host);
	host.ctx = &strict;
	host.store = fuzz_store_checked;
	host.send = fuzz_send_checked;
	fuzz_run_on(fuzz_bins[i], fuzz_cfgs[i], m, mlen, env, &host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *from = strdup("sender@example.org"), *to = strdup("bob+fuzz@example.com");
	char *orcpt = strdup("bob@example.com");
	FUZZ_CHECK(from != NULL && to != NULL && orcpt != NULL);
	size_t start = fuzz_split(data, size, &from, &to, &orcpt);
	struct sieve_envelope env = {
		.from = from, .to = to, .orig_to = orcpt, .auth = "bob",
		.dsn_notify = "SUCCESS,DELAY", .dsn_orcpt = "rfc822;bob@example.com",
		.dsn_ret = "HDRS", .dsn_envid = "fuzz-envid",
		.by_deadline = (time_t)1699264800, .by_mode = 'N',
	};
	/* An exact-size copy, so ASan sees any read past the message. */
	size_t mlen = size - start;
	char *m = malloc(mlen ? mlen : 1);
	FUZZ_CHECK(m != NULL);
	memcpy(m, data + start, mlen);
	for (size_t i = 0; i < FUZZ_NSCRIPTS; i++)
		if (fuzz_only == NULL || strcmp(fuzz_only, fuzz_scripts[i].name) == 0)
			fuzz_run_script(i, m, mlen, &env);
	free(m);
	free(from);
	free(to);
	free(orcpt);
	return 0;
}
