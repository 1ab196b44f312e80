# SPDX-License-Identifier: GPL-2.0
#
# ksmod top-level Makefile.
#
#   make [KVER=<kver>]     build build/<kver>/ksmod.ko (default: the running
#                          kernel if its headers are installed, else the
#                          newest installed kernel)
#   make kernels           build for every target kernel installed
#   make check             set up, build and run the guest tests (both generic
#                          kernels; KERNELS=all: also the cloud and rt
#                          flavours, KERNELS="6.12-rt ..." to choose)
#   make check-debug       the guest tests on a 6.12 debug kernel (KASAN,
#                          lockdep, ...; scripts/debug-kernel builds or reuses it)
#   make soak              the long test under load (tests/soak/soak.sh), 600 s
#                          per kernel: SOAK_SECS=N, SOAK_KERNELS="6.1 <release>"
#   make demo              boot a stock kernel, show ksmod saving memory
#   make setup             install what building and testing need (apt)
#   make install           DKMS: add, build and install for every target kernel
#                          installed, and /etc/modprobe.d/ksmod.conf
#                          (scripts/dkms-install; KERNELS="6.1 ..." to choose);
#                          ksmodctl, its man page and ksmod.service
#   make uninstall         DKMS: remove it all again
#   make ksmodctl          build the command-line tool
#   make checkpatch        run the kernel's checkpatch.pl over the sources
#   make clean
#
# W=1 and KSMOD_WERROR=y (warnings are errors) are passed on to kbuild.

TARGET_KERNELS := $(shell scripts/kernels 2>/dev/null)
KVER ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; \
	  else ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1 | \
	  cut -d/ -f4; fi)
KDIR ?= /lib/modules/$(KVER)/build
BUILD := build/$(KVER)
TEST_MODULES ?= m

SOURCES := Kbuild dkms.conf $(shell find src include tests/modules -type f \
	     \( -name '*.c' -o -name '*.h' -o -name Kbuild \) 2>/dev/null)
PROBES := $(wildcard src/compat/probes/*.c)

.PHONY: all module kernels check check-debug soak demo bench setup install uninstall \
	ksmodctl checkpatch clean

all: module

module: $(BUILD)/include/compat/compat_autoconf.h
	@test -d $(KDIR) || { echo "no kernel headers in $(KDIR)" >&2; exit 1; }
	@cp --parents -u $(SOURCES) $(BUILD)/
	$(MAKE) -C $(KDIR) M=$(abspath $(BUILD)) KSMOD_TEST_MODULES=$(TEST_MODULES) modules

$(BUILD)/include/compat/compat_autoconf.h: $(PROBES) scripts/compat-probe
	@mkdir -p $(dir $@)
	scripts/compat-probe $(KDIR) $@

kernels:
	@test -n "$(TARGET_KERNELS)" || { echo "no target kernel installed: make setup" >&2; exit 1; }
	@set -e; for k in $(TARGET_KERNELS); do $(MAKE) --no-print-directory KVER=$$k module; done

# KERNELS: 6.1 6.12 (default, CI), a flavour 6.1-cloud 6.1-rt 6.12-cloud
# 6.12-rt, or all (the six; scripts/setup --flavours installs the four).
check:
	tests/run -j $(addprefix -k ,$(KERNELS))

comma := ,
space := $(subst ,, )
# KASAN under TCG is about 5x slower: longer per-test timeout, and
# ksmod.slow=3: realprog waits 3 times as long for a saving to settle, the
# fuzz test makes a third of its calls.
# Every guest test but dkms (packaging for Debian's kernels, not the engine).
DEBUG_TESTS = $(subst $(space),$(comma),$(sort $(filter-out lib dkms,$(basename $(notdir $(wildcard tests/guest/*.sh))))))
check-debug:
	rel=$$(scripts/debug-kernel -q -r) && \
	KSMOD_TEST_TIMEOUT=$${KSMOD_TEST_TIMEOUT:-900} \
	KSMOD_APPEND="ksmod.slow=3 $${KSMOD_APPEND-}" \
		tests/run -k "$$rel" -t $(DEBUG_TESTS)

# Not part of make check. The debug kernel: SOAK_KERNELS=$(scripts/debug-kernel -r)
SOAK_SECS ?= 600
SOAK_KERNELS ?= 6.1 6.12
soak:
	KSMOD_TEST_DIRS=tests/soak KSMOD_APPEND="ksmod.soak_secs=$(SOAK_SECS)" \
		KSMOD_TEST_TIMEOUT=$$(($(SOAK_SECS) + 900)) \
		tests/run -j $(addprefix -k ,$(SOAK_KERNELS)) -t soak

demo:
	scripts/demo

bench:
	tests/bench

setup:
	scripts/setup

install:
	scripts/dkms-install $(addprefix -k ,$(KERNELS))
	$(MAKE) -C ksmodctl install install-systemd

uninstall:
	scripts/dkms-install -u
	$(MAKE) -C ksmodctl uninstall

ksmodctl:
	$(MAKE) -C ksmodctl

checkpatch:
	scripts/checkpatch

clean:
	rm -rf build
	if [ -f ksmodctl/Makefile ]; then $(MAKE) -C ksmodctl clean; fi
