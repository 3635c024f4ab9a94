/* fuzz_binary.c: libFuzzer target for the binary loader and verifier
 * (sieve/binary.c), the proof that a cached .tmsbin can never crash the
 * interpreter.  The input is a binary image:
 *   - as given, sieve_binary_load must reject it or accept it;
 *   - then with its header repaired (magic, version, length and CRC-32 set
 *     to what they should be), so that a mutation gets past the checksum
 *     and reaches the section, pool, table and code checks;
 *   - every accepted image is disassembled, loaded again from its own
 *     image, and run on a fixed message; the result is printed and executed
 *     through a do-nothing host (fuzz-common.h).  None of this may crash,
 *     leak or hang.
 * A custom mutator keeps the corpus made of well-formed images: it mutates
 * one section at a time (the code, the constant pool, a table ...), lays the
 * sections out again with their new lengths and offsets, and repairs the
 * header; one time in four it mutates the whole image as libFuzzer would.
 * Seeds are real compiled binaries (see fuzz/README.md). */
#include "fuzz/fuzz-common.h"
#include "sieve/binary-format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#define FUZZ_MAX_SECTIONS 16

/* Sets magic, version, length and checksum to match the bytes. */
static void fix_header(uint8_t *img, size_t len)
{
	struct binfmt_header h;
	if (len < sizeof(h))
		return;
	memcpy(&h, img, sizeof(h));
	h.magic = SIEVE_BIN_MAGIC;
	h.version = SIEVE_BIN_VERSION;
	h.image_len = (uint32_t)len;
	h.checksum = binfmt_checksum(img + sizeof(h), len - sizeof(h));
	memcpy(img, &h, sizeof(h));
}

/* Loads an image; returns true when the verifier accepted it. */
static bool try_image(const uint8_t *img, size_t len, const struct sieve_config *cfg)
{
	const char *err = NULL;
	struct sieve_binary *b = sieve_binary_load(img, len, &err);
	if (b == NULL) {
		FUZZ_CHECK(err != NULL && err[0] != '\0');
		return false;
	}
	struct strbuf dump = STRBUF_INIT;
	sieve_binary_dump(b, &dump);
	strbuf_free(&dump);
	FUZZ_CHECK(sieve_binary_script_name(b) != NULL);

	size_t ilen;
	const unsigned char *own = sieve_binary_image(b, &ilen);
	FUZZ_CHECK(ilen == len && memcmp(own, img, len) == 0);
	struct sieve_binary *b2 = sieve_binary_load(own, ilen, &err);
	FUZZ_CHECK(b2 != NULL);
	sieve_binary_unref(&b2);

	fuzz_run_binary(b, cfg);
	sieve_binary_unref(&b);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_config *cfg = fuzz_config();
	/* Exact-size heap copies, so ASan sees any read past the end. */
	uint8_t *img = malloc(size ? size : 1);
	FUZZ_CHECK(img != NULL);
	memcpy(img, data, size);
	bool accepted = try_image(img, size, cfg);
	if (!accepted && size >= sizeof(struct binfmt_header)) {
		fix_header(img, size);
		if (memcmp(img, data, sizeof(struct binfmt_header)) != 0)
			(void)try_image(img, size, cfg);
	}
	free(img);
	sieve_config_unref(&cfg);
	return 0;
}

/* Mutates the whole image with libFuzzer's own mutators. */
static size_t mutate_whole(uint8_t *data, size_t size, size_t max_size)
{
	size_t n = LLVMFuzzerMutate(data, size, max_size);
	fix_header(data, n);
	return n;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	struct binfmt_header h;
	if (size < sizeof(h) || seed % 4 == 0)
		return mutate_whole(data, size, max_size);
	memcpy(&h, data, sizeof(h));
	size_t table_end = sizeof(h) + (size_t)h.nsections * sizeof(struct binfmt_section);
	if (h.nsections == 0 || h.nsections > FUZZ_MAX_SECTIONS || table_end > size)
		return mutate_whole(data, size, max_size);
	struct binfmt_section secs[FUZZ_MAX_SECTIONS];
	memcpy(secs, data + sizeof(h), (size_t)h.nsections * sizeof(secs[0]));
	for (uint32_t i = 0; i < h.nsections; i++)
		if (secs[i].offset < table_end || secs[i].offset > size || secs[i].length > size - secs[i].offset)
			return mutate_whole(data, size, max_size);

	/* Mutate one section in a scratch buffer as large as the input may
	   become, then lay every section out again after the table. */
	unsigned k = (seed / 4) % h.nsections;
	size_t others = table_end;
	for (uint32_t i = 0; i < h.nsections; i++)
		if (i != k)
			others += secs[i].length + 3;
	if (others + 3 + secs[k].length > max_size || secs[k].length == 0)
		return mutate_whole(data, size, max_size);
	size_t cap = max_size - others - 3;   /* >= the section's length */
	uint8_t *sec = malloc(cap);
	uint8_t *out = malloc(max_size);
	FUZZ_CHECK(sec != NULL && out != NULL);
	memcpy(sec, data + secs[k].offset, secs[k].length);
	size_t klen = LLVMFuzzerMutate(sec, secs[k].length, cap);

	memcpy(out, data, table_end);
	size_t pos = table_end;
	for (uint32_t i = 0; i < h.nsections; i++) {
		while (pos % 4 != 0)
			out[pos++] = 0;
		const uint8_t *src = i == k ? sec : data + secs[i].offset;
		size_t len = i == k ? klen : secs[i].length;
		FUZZ_CHECK(pos + len <= max_size);
		memcpy(out + pos, src, len);
		secs[i].offset = (uint32_t)pos;
		secs[i].length = (uint32_t)len;
		pos += len;
	}
	memcpy(out + sizeof(h), secs, (size_t)h.nsections * sizeof(secs[0]));
	fix_header(out, pos);
	memcpy(data, out, pos);
	free(sec);
	free(out);
	return pos;
}
