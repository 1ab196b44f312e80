#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ioctl: KSMOD_IOC_GET_VERSION answers; anything else is ENOTTY.
# shellcheck source=tests/guest/lib.sh
. /lib/ksmod/lib.sh

t_ok "ksmod loads" ksmod_load || bail "cannot load ksmod"

release=$(modinfo -F version /lib/ksmod/ksmod.ko)
t_is "GET_VERSION gives ABI 1.4 and the module's release" \
	"$(ksmod_ioctl version)" "1 4 0 $release"
# _IOR(0xBA, 0, 48 bytes)
t_is "GET_VERSION is ioctl 0x8030ba00" "$(ksmod_ioctl raw 0x8030ba00)" ok
t_is "GET_VERSION into a bad pointer is EFAULT" \
	"$(ksmod_ioctl raw 0x8030ba00 bad)" EFAULT
t_is "GET_VERSION with another size is ENOTTY" \
	"$(ksmod_ioctl raw 0x8020ba00)" ENOTTY
t_is "an unknown command number is ENOTTY" "$(ksmod_ioctl raw 0xc010ba7f)" ENOTTY
t_is "another driver's ioctl is ENOTTY" "$(ksmod_ioctl raw 0x5401)" ENOTTY

t_errno "with /dev/ksmod open, rmmod is refused" EAGAIN \
	sh -c 'exec 3</dev/ksmod; rmmod ksmod'
t_ok "ksmod unloads once it is closed" ksmod_unload
t_done
