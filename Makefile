# Makefile: builds build/tamis (one binary with subcommands), its unit tests,
# and the sanitizer, fuzz and benchmark variants.  Sources are picked up by
# wildcard, so a new module or extension is one new file and no Makefile edit.

CC       ?= gcc
BUILD    ?= build
OPT      ?= -O2
SAN      ?=
CFLAGS_BASE = -std=c17 -D_GNU_SOURCE -g $(OPT) $(SAN) -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wshadow -Wstrict-prototypes -I. -I$(BUILD)/gen
LDLIBS   = -lm
PYTHON   ?= /usr/bin/python3

LIB_DIRS = lib grammar sieve sieve/ext storage delivery managesieve imapsieve imap
LIB_SRC  = $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
GEN_SRC  = $(BUILD)/gen/sieve-lexer.c $(BUILD)/gen/sieve-parser.c
LIB_OBJ  = $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) \
	   $(BUILD)/obj/gen/sieve-lexer.o $(BUILD)/obj/gen/sieve-parser.o
CLI_SRC  = $(wildcard cli/*.c)
CLI_OBJ  = $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRC))
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all test unit pytest conformance asan fuzz bench clean deps
all: $(BUILD)/tamis $(UNIT_BIN)

$(BUILD)/gen/sieve-parser.c $(BUILD)/gen/sieve-parser.h: grammar/sieve.y
	@mkdir -p $(BUILD)/gen
	bison -Wall -Werror --defines=$(BUILD)/gen/sieve-parser.h -o $(BUILD)/gen/sieve-parser.c $<

$(BUILD)/gen/sieve-lexer.c $(BUILD)/gen/sieve-lexer.h: grammar/sieve.l $(BUILD)/gen/sieve-parser.h
	@mkdir -p $(BUILD)/gen
	flex --header-file=$(BUILD)/gen/sieve-lexer.h -o $(BUILD)/gen/sieve-lexer.c $<

# Generated code is not ours to keep warning-clean in every respect.
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c $(BUILD)/gen/sieve-parser.h $(BUILD)/gen/sieve-lexer.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -Wno-unused-function -Wno-sign-compare -Wno-shadow -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(BUILD)/gen/sieve-parser.h $(BUILD)/gen/sieve-lexer.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -MMD -MP -c -o $@ $<

$(BUILD)/libtamis.a: $(LIB_OBJ)
	rm -f $@; ar rcs $@ $^

$(BUILD)/tamis: $(CLI_OBJ) $(BUILD)/libtamis.a
	$(CC) $(SAN) -o $@ $(CLI_OBJ) $(BUILD)/libtamis.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtamis.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -o $@ $< $(BUILD)/libtamis.a -lcmocka $(LDLIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

pytest: $(BUILD)/tamis
	TAMIS=$(abspath $(BUILD)/tamis) $(PYTHON) -m pytest -q tests/py

# The whole suite: unit tests, CLI/server tests, and (when ../shared is there)
# the Pigeonhole conformance run.  The last line is "N passed, N failed".
test: all
	@BUILD=$(BUILD) PYTHON=$(PYTHON) scripts/run-tests.sh

conformance: $(BUILD)/tamis
	../shared/conformance/score --runner '$(BUILD)/tamis testsuite' --list-failing

asan:
	$(MAKE) BUILD=build-asan CC=clang OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test

# Fuzzers (fuzz/README.md): fuzz/fuzz_*.c, each linked with libFuzzer,
# ASan and UBSan against build-fuzz/libtamis.a.  UBSan findings abort (no
# recovery) so that libFuzzer records them as crashes.
FUZZ_SAN   = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_FLAGS = -std=c17 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wshadow -Wstrict-prototypes -I. -Ibuild-fuzz/gen
FUZZ_SRC   = $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN   = $(patsubst fuzz/%.c,build-fuzz/fuzz/%,$(FUZZ_SRC))
.PHONY: fuzz-lib fuzz-smoke fuzz-run
fuzz: $(FUZZ_BIN)
fuzz-lib:
	$(MAKE) BUILD=build-fuzz CC=clang OPT=-O1 SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" build-fuzz/libtamis.a
build-fuzz/fuzz/%: fuzz/%.c fuzz/fuzz-common.h fuzz-lib
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< build-fuzz/libtamis.a -lm

# ~20 s per fuzzer over (a copy of) its committed corpus: for CI.
fuzz-smoke: fuzz
	fuzz/run.sh smoke

# The long run: the engine fuzzers of FUZZ_TARGETS (fuzz/run.sh: compile,
# binary and message by default) in parallel for FUZZ_TIME seconds
# (default 600), seeded with fuzz/corpus and seeds generated at run time.
fuzz-run: fuzz $(BUILD)/tamis
	TAMIS=$(BUILD)/tamis fuzz/run.sh long

bench: $(BUILD)/tamis
	$(PYTHON) bench/run.py --tamis $(BUILD)/tamis

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
