/* fuzz_compile.c: libFuzzer target for the compiler and the runtime behind
 * it.  The input is Sieve script text.  It is compiled with every extension
 * of the registry enabled (default and non-default, admin script); when it
 * compiles, the binary is disassembled, its image is loaded back through the
 * verifier, and it is run on a fixed message whose result is printed and
 * executed through a do-nothing host (fuzz-common.h).  Besides "no crash, no
 * leak, no hang", it checks that:
 *   - a failed compile reports at least one error, a successful one none;
 *   - the generator never produces code the verifier rejects;
 *   - every generated image passes the verifier again, unchanged;
 *   - every diagnostic has a message and a sane location. */
#include "fuzz/fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan sees any read past the end. */
	char *src = malloc(size ? size : 1);
	FUZZ_CHECK(src != NULL);
	memcpy(src, data, size);

	struct sieve_config *cfg = fuzz_config();
	struct sieve_host host;
	fuzz_host(&host);
	struct sieve_compile_params p = {
		.script_name = "fuzz",
		.script_path = "/nonexistent/fuzz.sieve",
		.cfg = cfg,
		.admin = true,
		.host = &host,
	};
	struct diag_list d;
	diag_init(&d);
	struct sieve_binary *b = sieve_compile(src, size, &p, &d);
	FUZZ_CHECK(b != NULL ? d.errors == 0 : d.errors > 0);
	for (size_t i = 0; i < d.count; i++) {
		FUZZ_CHECK(d.items[i].msg != NULL);
		/* The generator and the verifier must agree on every script
		   the validator accepted. */
		static const char gen_failed[] = "generated binary failed verification";
		FUZZ_CHECK(strncmp(d.items[i].msg, gen_failed, sizeof(gen_failed) - 1) != 0);
		FUZZ_CHECK(d.items[i].line >= 0 && d.items[i].col >= 0);
		char *s = diag_format(&d.items[i]);
		free(s);
	}
	if (b != NULL) {
		struct strbuf dump = STRBUF_INIT;
		sieve_binary_dump(b, &dump);
		strbuf_free(&dump);

		size_t len;
		const unsigned char *img = sieve_binary_image(b, &len);
		const char *err = NULL;
		struct sieve_binary *b2 = sieve_binary_load(img, len, &err);
		FUZZ_CHECK(b2 != NULL);
		size_t len2;
		const unsigned char *img2 = sieve_binary_image(b2, &len2);
		FUZZ_CHECK(len2 == len && memcmp(img, img2, len) == 0);
		sieve_binary_unref(&b2);

		fuzz_run_binary(b, cfg);
		sieve_binary_unref(&b);
	}
	diag_free(&d);
	sieve_config_unref(&cfg);
	free(src);
	return 0;
}
