// SPDX-License-Identifier: GPL-2.0
/*
 * module.c - ksmodctl load, unload and version: the module itself, loaded
 * and removed with libkmod, and the ABI it speaks.
 */
#include <errno.h>
#include <libkmod.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "uapi/ksmod.h"
#include "ksmodctl.h"

/* The installed module, or the one in @path when not NULL. */
static struct kmod_module *ksmod_module(struct kmod_ctx **ctx,
					const char *path)
{
	struct kmod_module *mod = NULL;
	int err;

	*ctx = kmod_new(NULL, NULL);
	if (!*ctx) {
		err_msg("cannot start libkmod");
		return NULL;
	}
	if (path)
		err = kmod_module_new_from_path(*ctx, path, &mod);
	else
		err = kmod_module_new_from_name(*ctx, "ksmod", &mod);
	if (err < 0) {
		err_msg("%s: %s", path ?: "ksmod", strerror(-err));
		kmod_unref(*ctx);
		return NULL;
	}
	return mod;
}

int cmd_load(int argc, char **argv)
{
	const char *path = NULL;
	char opts[1024] = "";
	struct kmod_ctx *ctx;
	struct kmod_module *mod;
	int i, err;

	if (argc >= 2 && !strcmp(argv[0], "-f")) {
		path = argv[1];
		argc -= 2;
		argv += 2;
	}
	for (i = 0; i < argc; i++) {
		if (!strchr(argv[i], '=') || argv[i][0] == '=' ||
		    strlen(opts) + strlen(argv[i]) + 2 > sizeof(opts)) {
			err_msg("bad parameter '%s' (want NAME=VALUE)", argv[i]);
			return EXIT_USAGE;
		}
		strcat(opts, argv[i]);
		strcat(opts, " ");
	}
	mod = ksmod_module(&ctx, path);
	if (!mod)
		return EXIT_FAIL;
	if (path)
		err = kmod_module_insert_module(mod, 0, opts);
	else
		err = kmod_module_probe_insert_module(mod,
						      KMOD_PROBE_FAIL_ON_LOADED,
						      opts, NULL, NULL, NULL);
	if (err == -EEXIST)
		err_msg("ksmod is already loaded");
	else if (err < 0)
		err_msg("cannot load ksmod: %s (see dmesg)", strerror(-err));
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return err < 0 ? exit_for(-err) : EXIT_OK;
}

/*
 * Unmerge first, so that a failure leaves the module in place with every
 * page it merged accounted for; then remove the bind mount, then the
 * module.
 */
int cmd_unload(void)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod;
	int err, ret;

	if (!ksmod_loaded()) {
		/* a bind left by a module removed without ksmodctl */
		if (ksm_bound() == 1 && sysfs_unbind(true) == EXIT_OK)
			err_msg("removed the stale bind mount on %s",
				KERNEL_KSM);
		return not_loaded();
	}
	err = write_ksm(SYSFS_KSM, "run", "2");
	if (err) {
		err_msg("cannot unmerge ksmod's pages (run=2): %s%s; ksmod stays loaded",
			strerror(-err), hint_for(-err));
		return exit_for(-err);
	}
	if (ksm_bound() == 1) {
		ret = sysfs_unbind(true);
		if (ret != EXIT_OK) {
			err_msg("ksmod stays loaded, stopped (run=2)");
			return ret;
		}
	}
	mod = ksmod_module(&ctx, NULL);
	if (!mod)
		return EXIT_FAIL;
	err = kmod_module_remove_module(mod, 0);
	if (err == -ENOENT)
		err_msg("ksmod is not loaded");
	else if (err == -EAGAIN || err == -EBUSY)
		err_msg("ksmod is in use (is /dev/ksmod open?); it stays loaded, stopped (run=2)");
	else if (err < 0)
		err_msg("cannot unload ksmod: %s", strerror(-err));
	kmod_module_unref(mod);
	kmod_unref(ctx);
	if (err == -ENOENT)
		return EXIT_NOT_LOADED;
	return err < 0 ? exit_for(-err) : EXIT_OK;
}

int cmd_version(void)
{
	struct ksmod_version v;
	int fd = open_dev();

	if (fd < 0)
		return -fd;
	if (ioctl(fd, KSMOD_IOC_GET_VERSION, &v)) {
		err_msg("GET_VERSION: %s", strerror(errno));
		close(fd);
		return EXIT_FAIL;
	}
	close(fd);
	v.release[sizeof(v.release) - 1] = '\0';
	if (json) {
		printf("{\"release\": ");
		json_string(v.release);
		printf(", \"abi_major\": %u, \"abi_minor\": %u, \"features\": %llu, \"ksmodctl_abi_major\": %u, \"ksmodctl_abi_minor\": %u}\n",
		       v.abi_major, v.abi_minor,
		       (unsigned long long)v.features, KSMOD_ABI_MAJOR,
		       KSMOD_ABI_MINOR);
	} else {
		printf("ksmod %s, ABI %u.%u (ksmodctl built for ABI %u.%u)\n",
		       v.release, v.abi_major, v.abi_minor, KSMOD_ABI_MAJOR,
		       KSMOD_ABI_MINOR);
	}
	if (v.abi_major != KSMOD_ABI_MAJOR) {
		err_msg("ABI major mismatch: this ksmodctl speaks %u, ksmod %u",
			KSMOD_ABI_MAJOR, v.abi_major);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
