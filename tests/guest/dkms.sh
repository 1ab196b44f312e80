#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dkms: ksmod as `make install` leaves it. tests/run ran scripts/dkms-install
# (dkms add, build, install) into private trees on the host and copied the
# result into the guest's /lib/modules/KVER/updates/dkms, /etc/modprobe.d and
# /usr/src/ksmod-VERSION/dkms.conf. kmod's modprobe loads it, with options
# from modprobe.d; `modprobe -r` unmerges first, then removes it; when
# unmerging fails, modprobe -r fails, says why, and ksmod stays loaded with
# every merged page merged and intact.
# ksmod-needs: dkms
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

K=/sys/module/ksmod/ksm
kver=$(uname -r)
opts=/etc/modprobe.d/ksmod-test.conf

t_ok "kmod's modprobe, modinfo and depmod are used" use_kmod ||
	bail "no kmod in the guest"
t_match "modprobe is kmod's" "$(modprobe --version)" '^kmod version'
t_match "/sbin/modprobe is kmod's" "$(/sbin/modprobe --version)" '^kmod version'
t_ok "/etc/modprobe.d/ksmod.conf is installed, with its remove rule" \
	grep -q '^remove ksmod ' /etc/modprobe.d/ksmod.conf
ko=$(ls /lib/modules/"$kver"/updates/dkms/ksmod.ko* 2>/dev/null)
t_ok "DKMS installed /lib/modules/$kver/updates/dkms/ksmod.ko*" test -f "$ko"
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' /usr/src/ksmod-*/dkms.conf)
t_match "dkms.conf has a version" "$version" '^[0-9]+\.[0-9]+'

t_match "modprobe finds the DKMS copy through modules.dep" \
	"$(modprobe --show-depends ksmod 2>&1)" "^insmod /lib/modules/[^ ]+/updates/dkms/ksmod\.ko"
t_is "modinfo: version is dkms.conf's PACKAGE_VERSION" "$(modinfo -F version ksmod)" "$version"
t_is "modinfo: built for the running kernel" \
	"$(modinfo -F vermagic ksmod | cut -d' ' -f1)" "$kver"
t_is "modinfo: signed by DKMS's MOK key" "$(modinfo -F signer ksmod)" "DKMS module signing key"
parms=$(modinfo -p ksmod)
for p in run pages_to_scan sleep_millisecs; do
	t_match "modinfo: start-up parameter $p is described" "$parms" "^$p:.{10,}"
done

dmesg_mark modprobe
t_ok "modprobe ksmod loads it" modprobe ksmod
t_ok "ksmod is loaded" ksmod_loaded
t_is "the running module's version is dkms.conf's" "$(cat /sys/module/ksmod/version)" "$version"
t_dmesg "the load is announced" "ksmod: loaded, release $version"
t_is "the shipped modprobe.d file sets no option: run is 0" "$(cat $K/run)" 0
t_ok "modprobe -r ksmod removes it" modprobe -r ksmod
t_not "ksmod is unloaded" ksmod_loaded
t_ok "modprobe -r when it is not loaded does nothing and succeeds" modprobe -r ksmod

echo "options ksmod run=1 pages_to_scan=1000 sleep_millisecs=10" >$opts
t_ok "modprobe ksmod with options from /etc/modprobe.d" modprobe ksmod
t_is "run comes from modprobe.d" "$(cat $K/run)" 1
t_is "pages_to_scan comes from modprobe.d" "$(cat $K/pages_to_scan)" 1000
t_is "sleep_millisecs comes from modprobe.d" "$(cat $K/sleep_millisecs)" 10
dmesg_mark remove
t_ok "modprobe -r while merged: every page gets its own frame again, ksmod is removed" \
	ksm_merge -t 60 -x "/sbin/modprobe -r ksmod" 4 16 2
t_not "ksmod is unloaded" ksmod_loaded
t_dmesg "the unload is announced" 'ksmod: unloaded$'

dmesg_mark fail
t_ok "modprobe ksmod test_unmerge_fail=1 (unmerging will fail with ENOMEM)" \
	modprobe ksmod test_unmerge_fail=1
t_ok "modprobe -r fails while unmerging fails; pages stay merged, bytes intact" \
	ksm_merge -t 60 -f "/sbin/modprobe -r ksmod 2>/tmp/remove.err" 4 16 2
t_ok "ksmod is still loaded" ksmod_loaded
err=$(cat /tmp/remove.err)
t_match "modprobe -r says why and that nothing was lost" "$err" \
	'^ksmod: not removed: unmerging its pages failed: unmerging stopped \(-ENOMEM\), [0-9]+ KSM pages still shared; run is 0\. Every merged page is still merged and intact\.'
t_match "and modprobe reports the failed rule" "$err" '^modprobe: FATAL: Error running remove command for ksmod$'
t_dmesg "dmesg names the error" 'ksmod: run=2: unmerging stopped \(-ENOMEM\)'
t_is "run is 0: merging stopped" "$(cat $K/run)" 0
t_ok "with unmerging possible again..." \
	kwrite /sys/module/ksmod/parameters/test_unmerge_fail 0
t_ok "...modprobe -r removes it" modprobe -r ksmod
t_not "ksmod is unloaded" ksmod_loaded

t_ok "modprobe ksmod again" modprobe ksmod
sleep 60 3</dev/ksmod &
holder=$!
wait_for 10 test "$(ksmod_refcnt)" -gt 0
t_errno "modprobe -r fails while /dev/ksmod is open" "Module ksmod is in use" modprobe -r ksmod
t_ok "ksmod is still loaded" ksmod_loaded
kill $holder
wait $holder 2>/dev/null
t_ok "once it is closed, modprobe -r removes it" modprobe -r ksmod
t_not "ksmod is unloaded" ksmod_loaded

rm -f $opts
t_done
