/* binary-format.h: the on-disk layout of a compiled script (.tmsbin).
 *
 *   header      magic, version, section count, image length, checksum
 *   sections[]  {id, offset, length}, each section 4-byte aligned
 *   CODE CONST EXTS CMDS TAGS LINES META   (ids in engine.h)
 *
 * Integers in the header and tables are little-endian u32 (the host order of
 * every platform we build for; a foreign-endian image fails the magic check
 * and is recompiled).  The checksum covers everything after the header. */
#ifndef TAMIS_BINARY_FORMAT_H
#define TAMIS_BINARY_FORMAT_H
#include <stdint.h>
#include <stddef.h>

struct binfmt_header {
	uint32_t magic;
	uint32_t version;
	uint32_t nsections;
	uint32_t image_len;
	uint32_t checksum;
	uint32_t flags;
	uint32_t reserved[2];
};

struct binfmt_section {
	uint32_t id;
	uint32_t offset;
	uint32_t length;
};

/* CRC-32 (IEEE) */
uint32_t binfmt_checksum(const unsigned char *p, size_t n);

#endif
