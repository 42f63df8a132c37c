# cairn — one top-level build; everything lands in $(BUILD)/ (binaries in bin/, libraries in lib/).
#
# The tree is the build description, so nobody edits this file to add code:
#   <module>/*.c, <module>/*/*.c      (module = common crush mon osd mds client tools)
#                                      -> $(BUILD)/lib/libcairn_<module>.a
#   <module>/cairn-NAME.c             -> $(BUILD)/bin/cairn-NAME (a program's main)
#   tests/unit/test_NAME.c            -> $(BUILD)/tests/unit/test_NAME (cmocka)
#   tests/integration/test_NAME.c     -> $(BUILD)/tests/integration/test_NAME
#   tests/integration/test_NAME.sh    run as is (gets $CAIRN_BIN, $CAIRN_BUILD)
#   tests/fuzz/fuzz_NAME.c            -> build-fuzz/fuzz/fuzz_NAME (libFuzzer, clang)
# Programs and tests link every cairn library (static) inside one link group.
# libcairn.so (the client library users link) is client + crush + common.

BUILD    ?= build
CC       ?= cc
OPT      ?= -O2
SAN      ?=
FUZZ     ?=
JOBS     ?= 2

CFLAGS_BASE := -std=gnu11 -Wall -Wextra -Werror $(OPT) -g -fPIC -D_GNU_SOURCE \
               -I. -Iinclude -pthread -MMD -MP
LDFLAGS_BASE := -pthread
ifeq ($(SAN),1)
# -O1 inlines differently from -O2, so gcc's value-range based -Wformat-truncation finds other
# "maybe truncated" snprintf calls; the -O2 build is the one that holds them to -Werror.
CFLAGS_BASE  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DCAIRN_ASSERTS=1 \
                -Wno-error=format-truncation
LDFLAGS_BASE += -fsanitize=address,undefined
endif
ifeq ($(FUZZ),1)
CFLAGS_BASE  += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
                -fno-sanitize-recover=undefined -DCAIRN_FUZZ=1 -DCAIRN_ASSERTS=1
LDFLAGS_BASE += -fsanitize=address,undefined
endif
CFLAGS  := $(CFLAGS_BASE) $(EXTRA_CFLAGS)
LDFLAGS := $(LDFLAGS_BASE) $(EXTRA_LDFLAGS)
SYSLIBS := -lrocksdb -lev -lisal -lxxhash -linih -ljansson -lsodium -lmicrohttpd \
           -lfuse3 -libverbs -lrdmacm -lm -ldl

MODULES := tools client mds osd mon crush common

mod_srcs  = $(filter-out $(1)/cairn-%.c $(1)/*/cairn-%.c tools/cairn.c,$(wildcard $(1)/*.c $(1)/*/*.c))
objs      = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
libname   = $(BUILD)/lib/libcairn_$(1).a

define module_lib
$(call libname,$(1)): $(call objs,$(call mod_srcs,$(1)))
	@mkdir -p $$(@D)
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_lib,$(m))))

LIBS      := $(foreach m,$(MODULES),$(call libname,$(m)))
LINKLIBS  := -Wl,--start-group $(LIBS) -Wl,--end-group $(SYSLIBS)

PROG_SRCS := $(wildcard $(addsuffix /cairn-*.c,$(MODULES)) $(addsuffix /*/cairn-*.c,$(MODULES)))
# the admin CLI is tools/cairn.c -> $(BUILD)/bin/cairn
PROG_SRCS += $(wildcard tools/cairn.c)
PROGS     := $(foreach s,$(PROG_SRCS),$(BUILD)/bin/$(basename $(notdir $(s))))
# scripts: tools/cairn-NAME.sh -> $(BUILD)/bin/cairn-NAME
SCRIPT_SRCS := $(wildcard tools/cairn-*.sh)
SCRIPTS   := $(patsubst tools/%.sh,$(BUILD)/bin/%,$(SCRIPT_SRCS))
$(BUILD)/bin/%: tools/%.sh
	@mkdir -p $(@D)
	cp $< $@ && chmod +x $@

define program
$(BUILD)/bin/$(basename $(notdir $(1))): $(call objs,$(1)) $(LIBS)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$< $$(LINKLIBS)
endef
$(foreach s,$(PROG_SRCS),$(eval $(call program,$(s))))

SHLIB_OBJS := $(call objs,$(call mod_srcs,client) $(call mod_srcs,crush) $(call mod_srcs,common))
SHLIB      := $(BUILD)/lib/libcairn.so
$(SHLIB): $(SHLIB_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,libcairn.so -o $@ $^ $(SYSLIBS)

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
ITEST_SRCS := $(wildcard tests/integration/test_*.c)
ITEST_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(ITEST_SRCS))
TEST_HELPER_SRCS := $(wildcard tests/lib/*.c)
TEST_HELPER_OBJS := $(call objs,$(TEST_HELPER_SRCS))

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_HELPER_OBJS) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(LINKLIBS) -lcmocka

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

.PHONY: all build-tests check test demo asan tidy fuzz soak clean deps bench-vs-ceph bench-crush format
.DEFAULT_GOAL := all
# keep intermediate objects (tests/*.o) so a relink does not recompile them
.SECONDARY:

all: $(LIBS) $(PROGS) $(SCRIPTS) $(SHLIB)

build-tests: all $(UNIT_BINS) $(ITEST_BINS)

deps:
	@tools/deps.sh

check: deps
	$(MAKE) -j$(JOBS) build-tests
	tests/run.sh $(BUILD)

# run tests without the deps step (developer loop); TESTS=pattern narrows it
test: build-tests
	tests/run.sh $(BUILD) $(TESTS)

demo: deps
	$(MAKE) -j$(JOBS) all
	tools/demo.sh $(BUILD)

asan: deps
	$(MAKE) -j$(JOBS) BUILD=build-asan SAN=1 OPT=-O1 build-tests
	CAIRN_ASAN=1 tests/run.sh build-asan $(TESTS)

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build-fuzz/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 20
build-fuzz/fuzz/%: tests/fuzz/%.c $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(LDFLAGS) $(LINKLIBS)

fuzz-targets: $(FUZZ_BINS)
fuzz: deps
	$(MAKE) -j$(JOBS) BUILD=build-fuzz FUZZ=1 CC=clang fuzz-targets
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

soak: deps
	$(MAKE) -j$(JOBS) build-tests
	CAIRN_SOAK=1 tests/run.sh $(BUILD) soak

tidy:
	tools/tidy.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

bench-vs-ceph: all
	tools/bench-vs-ceph.sh $(BUILD)

bench-crush: all
	$(BUILD)/bin/cairn-crush --bench

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
