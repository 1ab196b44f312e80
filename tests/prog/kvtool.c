// SPDX-License-Identifier: GPL-2.0
/*
 * kvtool - load, change and check a deterministic dataset in a key-value
 * server, for the guest tests of real programs (tests/guest/realprog_*).
 *
 *   kvtool [-n N] [-u U] [-L MAXLEN] [-i INST] [-m] TARGET CMD
 *
 * TARGET is the server and its protocol:
 *   redis:PORT      redis-server on 127.0.0.1:PORT (RESP)
 *   memcache:PORT   memcached on 127.0.0.1:PORT (text protocol)
 *   lua:DIR         tests/guest/share/kvstore.lua reading DIR/in and
 *                   writing DIR/out (FIFOs; one command per line)
 *
 * The dataset of instance INST (default 0):
 *   N common keys "c:K" (default 2000), the same in every instance, and
 *   U unique keys "uINST:J" (default 50). Each value is a string of
 *   printable bytes, 512 bytes to MAXLEN (default 16384), both its length
 *   and its bytes a function of the key and a generation number only.
 * The write load of instance INST (INST 0-7), "mutate":
 *   overwrites every common key with K % 8 == INST with a new value (new
 *   bytes, new length), deletes every one with K % 8 == (INST + 4) % 8,
 *   and adds U keys "aINST:J".
 *
 * CMD:
 *   ping     one round trip: "ok ping"
 *   load     set the dataset: "ok load keys=K bytes=B common=C" (B bytes
 *            of values in all, C of them in common keys)
 *   mutate   the write load: "ok mutate ops=O bytes=B"
 *   check    read every key back and compare each byte, and the server's
 *            key count: "ok check keys=K bytes=B"; -m: the state after
 *            the write load (deleted keys must be absent)
 *
 * Requests are pipelined: a child process writes them while the parent
 * reads and checks the replies, so a check of 20 MB takes one pass.
 * A wrong reply prints "bad KEY: WHAT" (at most 5 such lines), then
 * "bad CMD: M of K wrong" and exits 1; no connection, a broken reply or
 * no reply within 60 s ($KVTOOL_REPLY_SECS s where that is set): "error
 * ..." and exit 3; usage errors exit 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIN_LEN		512
#define REPLY_TIMEOUT_MS 60000
static int reply_ms = REPLY_TIMEOUT_MS;
#define MAX_REPORTED	5

enum proto { P_REDIS, P_MEMCACHE, P_LUA };
enum op_type { OP_SET, OP_GET, OP_DEL, OP_COUNT, OP_PING };

/* One request; @gen is the value's generation, -1 for "must be absent". */
struct op {
	enum op_type type;
	char key[32];
	int gen;
	long count;		/* OP_COUNT: the expected number of keys */
};

static enum proto proto;
static int max_len = 16384;
static int wfd = -1, rfd = -1;

static void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(status);
}

/* --- the dataset ---------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t value_seed(const char *key, int gen)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 0x100000001b3ULL;
	h ^= (uint64_t)gen << 40;
	return splitmix64(&h);
}

static size_t value_len(const char *key, int gen)
{
	uint64_t s = value_seed(key, gen);

	return MIN_LEN + splitmix64(&s) % (max_len - MIN_LEN + 1);
}

/* The value's bytes: base64 letters, 8 per 48 random bits. */
static void value_fill(char *buf, size_t len, const char *key, int gen)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint64_t s = value_seed(key, gen) ^ 0x5bd1e995;
	size_t i = 0;

	while (i < len) {
		uint64_t r = splitmix64(&s);
		int j;

		for (j = 0; j < 8 && i < len; j++, r >>= 6)
			buf[i++] = abc[r & 63];
	}
}

/* --- the plan: the requests of a command ------------------------------------ */

static struct op *ops;
static int nops;

static struct op *add_op(enum op_type type, int gen, const char *fmt, ...)
{
	struct op *op = &ops[nops++];
	va_list ap;

	memset(op, 0, sizeof(*op));
	op->type = type;
	op->gen = gen;
	va_start(ap, fmt);
	vsnprintf(op->key, sizeof(op->key), fmt, ap);
	va_end(ap);
	return op;
}

/* The generation of common key @k in instance @inst; -1: deleted. */
static int common_gen(int k, int inst, int mutated)
{
	if (mutated && k % 8 == inst % 8)
		return 200 + inst;
	if (mutated && k % 8 == (inst + 4) % 8)
		return -1;
	return 0;
}

static void make_plan(const char *cmd, int n, int u, int inst, int mutated)
{
	long count = 0;
	int k;

	ops = calloc(n + 3 * u + 2, sizeof(*ops));
	if (!ops)
		die(3, "error: out of memory");
	if (!strcmp(cmd, "ping")) {
		add_op(OP_PING, 0, "-");
	} else if (!strcmp(cmd, "load")) {
		for (k = 0; k < n; k++)
			add_op(OP_SET, 0, "c:%06d", k);
		for (k = 0; k < u; k++)
			add_op(OP_SET, 100 + inst, "u%d:%06d", inst, k);
	} else if (!strcmp(cmd, "mutate")) {
		for (k = 0; k < n; k++) {
			int gen = common_gen(k, inst, 1);

			if (gen > 0)
				add_op(OP_SET, gen, "c:%06d", k);
			else if (gen < 0)
				add_op(OP_DEL, 0, "c:%06d", k);
		}
		for (k = 0; k < u; k++)
			add_op(OP_SET, 300 + inst, "a%d:%06d", inst, k);
	} else if (!strcmp(cmd, "check")) {
		for (k = 0; k < n; k++) {
			int gen = common_gen(k, inst, mutated);

			add_op(OP_GET, gen, "c:%06d", k);
			count += gen >= 0;
		}
		for (k = 0; k < u; k++)
			add_op(OP_GET, 100 + inst, "u%d:%06d", inst, k);
		for (k = 0; k < u; k++)
			add_op(OP_GET, mutated ? 300 + inst : -1, "a%d:%06d", inst, k);
		count += u + (mutated ? u : 0);
		add_op(OP_COUNT, 0, "-")->count = count;
	} else {
		die(2, "kvtool: unknown command '%s'", cmd);
	}
}

/* --- connection ------------------------------------------------------------- */

static void connect_target(const char *target)
{
	const char *arg = strchr(target, ':');
	char path[4096];

	if (!arg)
		die(2, "kvtool: bad target '%s'", target);
	arg++;
	if (!strncmp(target, "redis:", 6) || !strncmp(target, "memcache:", 9)) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		proto = target[0] == 'r' ? P_REDIS : P_MEMCACHE;
		sa.sin_port = htons(atoi(arg));
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			die(3, "error: connect to 127.0.0.1:%s: %s", arg,
			    strerror(errno));
		wfd = rfd = fd;
	} else if (!strncmp(target, "lua:", 4)) {
		proto = P_LUA;
		/* kvstore.lua holds both FIFOs open read-write: no blocking */
		snprintf(path, sizeof(path), "%s/in", arg);
		wfd = open(path, O_WRONLY | O_NONBLOCK);
		if (wfd < 0)
			die(3, "error: %s: %s", path, strerror(errno));
		fcntl(wfd, F_SETFL, 0);
		snprintf(path, sizeof(path), "%s/out", arg);
		rfd = open(path, O_RDONLY);
		if (rfd < 0)
			die(3, "error: %s: %s", path, strerror(errno));
	} else {
		die(2, "kvtool: bad target '%s'", target);
	}
}

/* --- requests (the writer child) ------------------------------------------ */

static char *obuf;
static size_t olen, ocap;

static void out_flush(void)
{
	size_t off = 0;

	while (off < olen) {
		ssize_t n = write(wfd, obuf + off, olen - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		off += n;
	}
	olen = 0;
}

static char *out_room(size_t len)
{
	if (olen + len > ocap) {
		out_flush();
		if (len > ocap) {
			ocap = len + 65536;
			obuf = realloc(obuf, ocap);
			if (!obuf)
				_exit(1);
		}
	}
	return obuf + olen;
}

static void out_fmt(const char *fmt, ...)
{
	va_list ap;
	char tmp[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(out_room(n), tmp, n);
	olen += n;
}

static void out_value(const char *key, int gen)
{
	size_t len = value_len(key, gen);

	value_fill(out_room(len), len, key, gen);
	olen += len;
}

static void send_op(const struct op *op)
{
	size_t klen = strlen(op->key), vlen;

	switch (proto) {
	case P_REDIS:
		switch (op->type) {
		case OP_SET:
			vlen = value_len(op->key, op->gen);
			out_fmt("*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%zu\r\n",
				klen, op->key, vlen);
			out_value(op->key, op->gen);
			out_fmt("\r\n");
			break;
		case OP_GET:
			out_fmt("*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n", klen, op->key);
			break;
		case OP_DEL:
			out_fmt("*2\r\n$3\r\nDEL\r\n$%zu\r\n%s\r\n", klen, op->key);
			break;
		case OP_COUNT:
			out_fmt("*1\r\n$6\r\nDBSIZE\r\n");
			break;
		case OP_PING:
			out_fmt("*1\r\n$4\r\nPING\r\n");
			break;
		}
		break;
	case P_MEMCACHE:
		switch (op->type) {
		case OP_SET:
			vlen = value_len(op->key, op->gen);
			out_fmt("set %s 0 0 %zu\r\n", op->key, vlen);
			out_value(op->key, op->gen);
			out_fmt("\r\n");
			break;
		case OP_GET:
			out_fmt("get %s\r\n", op->key);
			break;
		case OP_DEL:
			out_fmt("delete %s\r\n", op->key);
			break;
		case OP_COUNT:
			out_fmt("stats\r\n");
			break;
		case OP_PING:
			out_fmt("version\r\n");
			break;
		}
		break;
	case P_LUA:
		switch (op->type) {
		case OP_SET:
			out_fmt("S %s ", op->key);
			out_value(op->key, op->gen);
			out_fmt("\n");
			break;
		case OP_GET:
			out_fmt("G %s\n", op->key);
			break;
		case OP_DEL:
			out_fmt("D %s\n", op->key);
			break;
		case OP_COUNT:
		case OP_PING:
			out_fmt("N\n");
			break;
		}
		break;
	}
}

/* --- replies (the parent) --------------------------------------------------- */

static char ibuf[1 << 17];
static size_t ipos, ilen;

/* Make sure the buffer has unread bytes: read more, or fail. */
static void in_fill(void)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	ssize_t n;

	if (ipos < ilen)
		return;
	if (poll(&p, 1, reply_ms) != 1)
		die(3, "error: no reply within %d s", reply_ms / 1000);
	n = read(rfd, ibuf, sizeof(ibuf));
	if (n <= 0)
		die(3, "error: connection closed (%s)",
		    n ? strerror(errno) : "EOF");
	ipos = 0;
	ilen = n;
}

/* One reply line without its "\r\n" or "\n", in a buffer that grows. */
static char *in_line(void)
{
	static char *line;
	static size_t cap;
	size_t len = 0;

	for (;;) {
		char *nl;
		size_t n;

		in_fill();
		nl = memchr(ibuf + ipos, '\n', ilen - ipos);
		n = (nl ? (size_t)(nl - ibuf) : ilen) - ipos;
		if (len + n + 1 > cap) {
			cap = 2 * (len + n + 1) + 4096;
			line = realloc(line, cap);
			if (!line)
				die(3, "error: out of memory");
		}
		memcpy(line + len, ibuf + ipos, n);
		len += n;
		ipos += n;
		if (nl) {
			ipos++;
			break;
		}
	}
	if (len && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	return line;
}

static void in_bytes(char *buf, size_t len)
{
	while (len) {
		size_t n;

		in_fill();
		n = ilen - ipos < len ? ilen - ipos : len;
		memcpy(buf, ibuf + ipos, n);
		buf += n;
		ipos += n;
		len -= n;
	}
}

static int bad_replies;

static void wrong(const struct op *op, const char *fmt, ...)
{
	va_list ap;

	if (bad_replies++ >= MAX_REPORTED)
		return;
	printf("bad %s: ", op->key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Compare a value read back (@got, @len; NULL: absent) with the plan. */
static void check_value(const struct op *op, const char *got, long len)
{
	static char *want;
	static size_t cap;
	size_t wlen, i;

	if (op->gen < 0) {
		if (got)
			wrong(op, "present (%ld bytes), should have been deleted", len);
		return;
	}
	if (!got) {
		wrong(op, "missing");
		return;
	}
	wlen = value_len(op->key, op->gen);
	if (wlen > cap) {
		cap = wlen;
		want = realloc(want, cap);
		if (!want)
			die(3, "error: out of memory");
	}
	value_fill(want, wlen, op->key, op->gen);
	if ((size_t)len != wlen) {
		wrong(op, "%ld bytes, expected %zu", len, wlen);
		return;
	}
	if (!memcmp(got, want, wlen))
		return;
	for (i = 0; got[i] == want[i]; i++)
		;
	wrong(op, "byte %zu of %zu is '%c', expected '%c'", i, wlen, got[i],
	    want[i]);
}

static char *value_buf(size_t len)
{
	static char *buf;
	static size_t cap;

	if (len + 1 > cap) {
		cap = len + 1;
		buf = realloc(buf, cap);
		if (!buf)
			die(3, "error: out of memory");
	}
	return buf;
}

static void expect_line(const struct op *op, const char *want)
{
	char *line = in_line();

	if (strcmp(line, want))
		wrong(op, "reply '%.60s', expected '%s'", line, want);
}

static void check_count(const struct op *op, long got)
{
	if (got != op->count)
		wrong(op, "the server holds %ld keys, expected %ld", got, op->count);
}

static void recv_redis(const struct op *op)
{
	char *line, *v;
	long len;

	switch (op->type) {
	case OP_SET:
		expect_line(op, "+OK");
		break;
	case OP_DEL:
		expect_line(op, ":1");
		break;
	case OP_PING:
		expect_line(op, "+PONG");
		break;
	case OP_COUNT:
		line = in_line();
		if (line[0] != ':')
			die(3, "error: DBSIZE reply '%.60s'", line);
		check_count(op, atol(line + 1));
		break;
	case OP_GET:
		line = in_line();
		if (line[0] != '$')
			die(3, "error: GET %s reply '%.60s'", op->key, line);
		len = atol(line + 1);
		if (len < 0) {
			check_value(op, NULL, 0);
			break;
		}
		v = value_buf(len);
		in_bytes(v, len);
		line = in_line();
		if (*line)
			die(3, "error: GET %s: no CRLF after the value", op->key);
		check_value(op, v, len);
		break;
	}
}

static void recv_memcache(const struct op *op)
{
	char *line, *v, key[64];
	long len, flags, items = -1;

	switch (op->type) {
	case OP_SET:
		expect_line(op, "STORED");
		break;
	case OP_DEL:
		expect_line(op, "DELETED");
		break;
	case OP_PING:
		line = in_line();
		if (strncmp(line, "VERSION ", 8))
			wrong(op, "reply '%.60s', expected VERSION", line);
		break;
	case OP_COUNT:
		while (strcmp(line = in_line(), "END"))
			sscanf(line, "STAT curr_items %ld", &items);
		check_count(op, items);
		break;
	case OP_GET:
		line = in_line();
		if (!strcmp(line, "END")) {
			check_value(op, NULL, 0);
			break;
		}
		if (sscanf(line, "VALUE %63s %ld %ld", key, &flags, &len) != 3 ||
		    strcmp(key, op->key) || len < 0)
			die(3, "error: get %s reply '%.60s'", op->key, line);
		v = value_buf(len);
		in_bytes(v, len);
		if (*in_line())
			die(3, "error: get %s: no CRLF after the value", op->key);
		check_value(op, v, len);
		expect_line(op, "END");
		break;
	}
}

static void recv_lua(const struct op *op)
{
	char *line;

	switch (op->type) {
	case OP_SET:
	case OP_DEL:
		expect_line(op, "OK");
		break;
	case OP_PING:
	case OP_COUNT:
		line = in_line();
		if (strncmp(line, "N ", 2))
			die(3, "error: count reply '%.60s'", line);
		if (op->type == OP_COUNT)
			check_count(op, atol(line + 2));
		break;
	case OP_GET:
		line = in_line();
		if (!strcmp(line, "NIL"))
			check_value(op, NULL, 0);
		else if (!strncmp(line, "V ", 2))
			check_value(op, line + 2, strlen(line + 2));
		else
			die(3, "error: G %s reply '%.60s'", op->key, line);
		break;
	}
}

static void usage(void)
{
	fputs("usage: kvtool [-n N] [-u U] [-L MAXLEN] [-i INST] [-m] TARGET CMD\n"
	      "  TARGET: redis:PORT, memcache:PORT or lua:DIR\n"
	      "  CMD: ping, load, mutate or check\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	int n = 2000, u = 50, inst = 0, mutated = 0, opt, i, status;
	long long bytes = 0, common = 0;
	const char *cmd;
	pid_t writer;

	if (getenv("KVTOOL_REPLY_SECS") && atoi(getenv("KVTOOL_REPLY_SECS")) > 0)
		reply_ms = atoi(getenv("KVTOOL_REPLY_SECS")) * 1000;
	while ((opt = getopt(argc, argv, "n:u:L:i:m")) != -1) {
		switch (opt) {
		case 'n':
			n = atoi(optarg);
			break;
		case 'u':
			u = atoi(optarg);
			break;
		case 'L':
			max_len = atoi(optarg);
			break;
		case 'i':
			inst = atoi(optarg);
			break;
		case 'm':
			mutated = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || n < 0 || u < 0 || max_len < MIN_LEN ||
	    inst < 0 || inst > 7)
		usage();
	cmd = argv[optind + 1];
	make_plan(cmd, n, u, inst, mutated);
	connect_target(argv[optind]);
	signal(SIGPIPE, SIG_IGN);

	writer = fork();
	if (writer < 0)
		die(3, "error: fork: %s", strerror(errno));
	if (!writer) {
		for (i = 0; i < nops; i++)
			send_op(&ops[i]);
		out_flush();
		_exit(0);
	}
	for (i = 0; i < nops; i++) {
		const struct op *op = &ops[i];

		if (proto == P_REDIS)
			recv_redis(op);
		else if (proto == P_MEMCACHE)
			recv_memcache(op);
		else
			recv_lua(op);
		if ((op->type == OP_SET || op->type == OP_GET) && op->gen >= 0) {
			bytes += value_len(op->key, op->gen);
			if (op->key[0] == 'c')
				common += value_len(op->key, op->gen);
		}
	}
	if (waitpid(writer, &status, 0) != writer || status)
		die(3, "error: the request writer failed");
	if (bad_replies)
		die(1, "bad %s: %d of %d wrong", cmd, bad_replies, nops);
	if (!strcmp(cmd, "load"))
		printf("ok load keys=%d bytes=%lld common=%lld\n", nops, bytes,
		       common);
	else if (!strcmp(cmd, "mutate"))
		printf("ok mutate ops=%d bytes=%lld\n", nops, bytes);
	else if (!strcmp(cmd, "check"))
		printf("ok check keys=%d bytes=%lld\n", nops - 1, bytes);
	else
		printf("ok %s\n", cmd);
	return 0;
}
