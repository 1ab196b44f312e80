#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksmctl: load, version, status and unload through the CLI, and its errors.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

t_not "version without the module fails" ksmctl version
t_match "saying why" "$(ksmctl version 2>&1)" 'is ksmod loaded\?'
t_not "unload without the module fails" ksmctl unload
t_match "saying why" "$(ksmctl unload 2>&1)" 'ksmod is not loaded'
t_is "a bad parameter is a usage error (2)" \
	"$(ksmctl load -f /lib/ksmod/ksmod.ko nonsense >/dev/null 2>&1; echo $?)" 2

t_ok "ksmctl loads ksmod with parameters" \
	ksmctl load -f /lib/ksmod/ksmod.ko run=1 pages_to_scan=33
t_is "the parameters took effect" "$(cat /sys/module/ksmod/ksm/pages_to_scan)" 33
release=$(modinfo -F version /lib/ksmod/ksmod.ko)
t_match "version names the release and ABI" "$(ksmctl version)" \
	"^ksmod $release, ABI 1\\.1 "
t_is "status shows the tunables" "$(ksmctl status | tr -s ' ')" \
	"$(printf 'run 1\npages_to_scan 33\nsleep_millisecs 20')"
t_not "loading twice fails" ksmctl load -f /lib/ksmod/ksmod.ko
t_ok "ksmctl unloads ksmod" ksmctl unload
t_not "and it is gone" ksmod_loaded
t_done
