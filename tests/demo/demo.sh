#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# demo: what a new user sees when loading ksmod on a stock kernel.
# Run by scripts/demo (make demo); it prints this test's output.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

say() { printf '# %s\n' "$*"; }
show() { say "\$ $*"; "$@" 2>&1 | sed 's/^/#   /'; }

say "kernel: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, $(awk '/MemTotal/ { print $2 / 1024 " MiB" }' /proc/meminfo)"
show ksmctl load -f /lib/ksmod/ksmod.ko run=1
t_ok "ksmod is loaded" ksmod_loaded
show ksmctl version
show ksmctl status
show ls /sys/module/ksmod/ksm
say "four processes mark their memory MADV_MERGEABLE; ksmod's hook sees each call:"
for i in 1 2 3 4; do hookfire madvise 1 & done
wait
show cat /sys/kernel/debug/ksmod/hooks
t_match "the madvise hook fired" "$(awk '$1 == "ksm_madvise" { print $3 }' /sys/kernel/debug/ksmod/hooks)" '^[1-9]'
say "merging pages is the next step of ksmod (see README, Status); nothing is merged yet."
show ksmctl unload
t_not "ksmod is unloaded" ksmod_loaded
t_done
