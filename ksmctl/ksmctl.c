// SPDX-License-Identifier: GPL-2.0
/*
 * ksmctl - control ksmod.
 *
 *   ksmctl load [-f FILE] [PARAM=VALUE...]
 *                                  load the installed module (libkmod, with
 *                                  modprobe configuration), or FILE
 *   ksmctl unload                  remove the module
 *   ksmctl version                 ABI and release of the running module
 *   ksmctl status                  the tunables in /sys/module/ksmod/ksm
 *
 * Exit status: 0 success, 1 failure (message on stderr), 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "uapi/ksmod.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SYSFS_KSM "/sys/module/ksmod/ksm"

static int print_usage(void)
{
	fprintf(stderr,
		"usage: ksmctl load [-f FILE] [PARAM=VALUE...] | unload | version | status\n");
	return 2;
}

/* The installed module, or the one in @path when not NULL. */
static struct kmod_module *ksmod_module(struct kmod_ctx **ctx,
					const char *path)
{
	struct kmod_module *mod = NULL;
	int err;

	*ctx = kmod_new(NULL, NULL);
	if (!*ctx) {
		fprintf(stderr, "ksmctl: cannot start libkmod\n");
		return NULL;
	}
	if (path)
		err = kmod_module_new_from_path(*ctx, path, &mod);
	else
		err = kmod_module_new_from_name(*ctx, "ksmod", &mod);
	if (err < 0) {
		fprintf(stderr, "ksmctl: %s: %s\n", path ?: "ksmod",
			strerror(-err));
		kmod_unref(*ctx);
		return NULL;
	}
	return mod;
}

static int cmd_load(int argc, char **argv)
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
		if (!strchr(argv[i], '=') ||
		    strlen(opts) + strlen(argv[i]) + 2 > sizeof(opts)) {
			fprintf(stderr, "ksmctl: bad parameter '%s'\n", argv[i]);
			return 2;
		}
		strcat(opts, argv[i]);
		strcat(opts, " ");
	}
	mod = ksmod_module(&ctx, path);
	if (!mod)
		return 1;
	if (path)
		err = kmod_module_insert_module(mod, 0, opts);
	else
		err = kmod_module_probe_insert_module(mod,
						      KMOD_PROBE_FAIL_ON_LOADED,
						      opts, NULL, NULL, NULL);
	if (err == -EEXIST)
		fprintf(stderr, "ksmctl: ksmod is already loaded\n");
	else if (err < 0)
		fprintf(stderr, "ksmctl: cannot load ksmod: %s (see dmesg)\n",
			strerror(-err));
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return err < 0;
}

static int cmd_unload(void)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod;
	int err;

	mod = ksmod_module(&ctx, NULL);
	if (!mod)
		return 1;
	err = kmod_module_remove_module(mod, 0);
	if (err == -ENOENT)
		fprintf(stderr, "ksmctl: ksmod is not loaded\n");
	else if (err == -EAGAIN || err == -EBUSY)
		fprintf(stderr, "ksmctl: ksmod is in use (is /dev/ksmod open?)\n");
	else if (err < 0)
		fprintf(stderr, "ksmctl: cannot unload ksmod: %s\n",
			strerror(-err));
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return err < 0;
}

static int cmd_version(void)
{
	struct ksmod_version v;
	int fd = open(KSMOD_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "ksmctl: %s: %s%s\n", KSMOD_DEVICE,
			strerror(errno),
			errno == ENOENT ? " (is ksmod loaded?)" : "");
		return 1;
	}
	if (ioctl(fd, KSMOD_IOC_GET_VERSION, &v)) {
		fprintf(stderr, "ksmctl: GET_VERSION: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	printf("ksmod %.*s, ABI %u.%u (ksmctl built for ABI %u.%u)\n",
	       (int)sizeof(v.release), v.release, v.abi_major, v.abi_minor,
	       KSMOD_ABI_MAJOR, KSMOD_ABI_MINOR);
	if (v.abi_major != KSMOD_ABI_MAJOR) {
		fprintf(stderr, "ksmctl: ABI major mismatch\n");
		return 1;
	}
	return 0;
}

static int cmd_status(void)
{
	static const char *const files[] = {
		"run", "pages_to_scan", "sleep_millisecs",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char path[256], val[64] = "";
		FILE *f;

		snprintf(path, sizeof(path), SYSFS_KSM "/%s", files[i]);
		f = fopen(path, "r");
		if (!f) {
			fprintf(stderr, "ksmctl: %s: %s%s\n", path,
				strerror(errno),
				errno == ENOENT ? " (is ksmod loaded?)" : "");
			return 1;
		}
		if (!fgets(val, sizeof(val), f))
			val[0] = '\0';
		fclose(f);
		val[strcspn(val, "\n")] = '\0';
		printf("%-16s %s\n", files[i], val);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return print_usage();
	if (!strcmp(argv[1], "load"))
		return cmd_load(argc - 2, argv + 2);
	if (argc != 2)
		return print_usage();
	if (!strcmp(argv[1], "unload"))
		return cmd_unload();
	if (!strcmp(argv[1], "version"))
		return cmd_version();
	if (!strcmp(argv[1], "status"))
		return cmd_status();
	return print_usage();
}
