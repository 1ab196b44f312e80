// SPDX-License-Identifier: GPL-2.0
/*
 * jsonq - check that stdin is one JSON value (RFC 8259, strictly), and
 * print a part of it; for the guest tests, which have no JSON parser.
 *
 *   jsonq [-l] [PATH]
 *
 * PATH is a list of steps: .NAME (an object's member) and [N] (an array's
 * element), e.g. .ksm.run or .processes[0].ranges[1].start; an empty PATH
 * or "." is the whole value. A trailing "#" prints the number of members
 * or elements instead of the value: .processes#
 * The value printed: a string without its quotes (escapes decoded, \u
 * only below 0x80), anything else as it is written in the input.
 * -l: every line of stdin is one JSON value (JSON lines); PATH is then
 * printed for each line.
 *
 * Exit status: 0 valid and PATH found, 1 invalid JSON ("jsonq: byte N:
 * WHY" on stderr), 2 PATH not found (or usage).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH	64

struct parser {
	const char *s;		/* input */
	size_t pos;
	const char *why;	/* first error */
	int depth;
	/* the match: value text [start, end), members/elements */
	bool found;
	size_t start, end;
	long count;
};

static bool fail(struct parser *p, const char *why)
{
	if (!p->why)
		p->why = why;
	return false;
}

static void skip_ws(struct parser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	       p->s[p->pos] == '\n' || p->s[p->pos] == '\r')
		p->pos++;
}

static bool parse_value(struct parser *p, const char *path);

/* A string at p->pos; its decoded text into @out (size @size) if not NULL. */
static bool parse_string(struct parser *p, char *out, size_t size)
{
	size_t n = 0;

	p->pos++;	/* the opening quote */
	for (;;) {
		unsigned char c = p->s[p->pos++];
		unsigned int u = 0;
		int i;

		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, c ? "control character in a string" :
				    "unterminated string");
		if (c == '\\') {
			c = p->s[p->pos++];
			switch (c) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				c = "\b\f\n\r\t"[strchr("bfnrt", c) - "bfnrt"];
				break;
			case 'u':
				for (i = 0; i < 4; i++) {
					char h = p->s[p->pos++];

					if (!isxdigit((unsigned char)h))
						return fail(p, "bad \\u escape");
					u = u * 16 + (isdigit((unsigned char)h) ?
						      h - '0' :
						      tolower((unsigned char)h) - 'a' + 10);
				}
				c = u < 0x80 ? u : '?';
				break;
			default:
				return fail(p, "bad escape in a string");
			}
		}
		if (out && n + 1 < size)
			out[n++] = c;
	}
	if (out)
		out[n] = '\0';
	return true;
}

static bool parse_number(struct parser *p)
{
	const char *s = p->s;
	size_t i = p->pos;

	if (s[i] == '-')
		i++;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (isdigit((unsigned char)s[i]))
			i++;
	else
		return fail(p, "bad number");
	if (s[i] == '.') {
		if (!isdigit((unsigned char)s[++i]))
			return fail(p, "bad fraction");
		while (isdigit((unsigned char)s[i]))
			i++;
	}
	if (s[i] == 'e' || s[i] == 'E') {
		i++;
		if (s[i] == '+' || s[i] == '-')
			i++;
		if (!isdigit((unsigned char)s[i]))
			return fail(p, "bad exponent");
		while (isdigit((unsigned char)s[i]))
			i++;
	}
	p->pos = i;
	return true;
}

/* After a step of @path that matched, the rest; NULL if it did not. */
static const char *step_member(const char *path, const char *name)
{
	size_t len;

	if (!path || path[0] != '.')
		return NULL;
	len = strcspn(path + 1, ".[#");
	if (len != strlen(name) || strncmp(path + 1, name, len))
		return NULL;
	return path + 1 + len;
}

static const char *step_element(const char *path, long index)
{
	char *end;

	if (!path || path[0] != '[')
		return NULL;
	if (strtol(path + 1, &end, 10) != index || *end != ']')
		return NULL;
	return end + 1;
}

static bool parse_container(struct parser *p, const char *path, bool object)
{
	char close = object ? '}' : ']';
	long n = 0;

	if (++p->depth > MAX_DEPTH)
		return fail(p, "nested too deep");
	p->pos++;
	skip_ws(p);
	if (p->s[p->pos] == close) {
		p->pos++;
		goto out;
	}
	for (;;) {
		const char *rest;

		skip_ws(p);
		if (object) {
			char name[256];

			if (p->s[p->pos] != '"')
				return fail(p, "member name expected");
			if (!parse_string(p, name, sizeof(name)))
				return false;
			skip_ws(p);
			if (p->s[p->pos++] != ':')
				return fail(p, "':' expected");
			rest = step_member(path, name);
		} else {
			rest = step_element(path, n);
		}
		if (!parse_value(p, rest))
			return false;
		n++;
		skip_ws(p);
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] != close)
			return fail(p, object ? "',' or '}' expected" :
				    "',' or ']' expected");
		p->pos++;
		break;
	}
out:
	p->depth--;
	if (path && (!*path || !strcmp(path, "#")))
		p->count = n;
	return true;
}

static bool literal(struct parser *p, const char *word)
{
	size_t len = strlen(word);

	if (strncmp(p->s + p->pos, word, len))
		return fail(p, "unexpected character");
	p->pos += len;
	return true;
}

/* @path: what is left of PATH at this value, NULL if it is off the path. */
static bool parse_value(struct parser *p, const char *path)
{
	size_t start;
	bool ok;

	skip_ws(p);
	start = p->pos;
	switch (p->s[p->pos]) {
	case '{':
		ok = parse_container(p, path, true);
		break;
	case '[':
		ok = parse_container(p, path, false);
		break;
	case '"':
		ok = parse_string(p, NULL, 0);
		break;
	case 't':
		ok = literal(p, "true");
		break;
	case 'f':
		ok = literal(p, "false");
		break;
	case 'n':
		ok = literal(p, "null");
		break;
	case '\0':
		return fail(p, "unexpected end");
	default:
		ok = parse_number(p);
		break;
	}
	if (ok && path && (!*path || (!strcmp(path, "#") &&
				      strchr("{[", p->s[start])))) {
		p->found = true;
		p->start = start;
		p->end = p->pos;
	}
	return ok;
}

static void print_match(const struct parser *p, bool count)
{
	if (count) {
		printf("%ld\n", p->count);
	} else if (p->s[p->start] == '"') {
		struct parser q = { .s = p->s, .pos = p->start };
		size_t size = p->end - p->start;
		char *buf = malloc(size);

		if (buf && parse_string(&q, buf, size))
			printf("%s\n", buf);
		free(buf);
	} else {
		printf("%.*s\n", (int)(p->end - p->start), p->s + p->start);
	}
}

/* All of stdin, NUL-terminated, its length in *@len; NULL on error. */
static char *slurp(size_t *len)
{
	size_t cap = 4096, n = 0, got;
	char *buf = malloc(cap), *bigger;

	while (buf) {
		got = fread(buf + n, 1, cap - n - 1, stdin);
		n += got;
		if (n + 1 < cap)
			break;
		cap *= 2;
		bigger = realloc(buf, cap);
		if (!bigger)
			free(buf);
		buf = bigger;
	}
	if (!buf || ferror(stdin)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* One JSON text: 0, 1 invalid, 2 path not found. */
static int check(const char *text, const char *path, size_t offset)
{
	struct parser p = { .s = text };
	size_t plen = strlen(path);

	if (parse_value(&p, path)) {
		skip_ws(&p);
		if (p.s[p.pos])
			fail(&p, "trailing characters");
	}
	if (p.why) {
		fprintf(stderr, "jsonq: byte %zu: %s\n", offset + p.pos, p.why);
		return 1;
	}
	if (!p.found) {
		fprintf(stderr, "jsonq: no %s\n", path);
		return 2;
	}
	print_match(&p, plen && path[plen - 1] == '#');
	return 0;
}

int main(int argc, char **argv)
{
	bool lines = argc > 1 && !strcmp(argv[1], "-l");
	const char *path;
	size_t len, off;
	char *in;
	int ret = 0;

	if (lines) {
		argc--;
		argv++;
	}
	if (argc > 2) {
		fprintf(stderr, "usage: jsonq [-l] [PATH]\n");
		return 2;
	}
	path = argc == 2 && strcmp(argv[1], ".") ? argv[1] : "";
	in = slurp(&len);
	if (!in) {
		fprintf(stderr, "jsonq: cannot read stdin\n");
		return 1;
	}
	if (strlen(in) != len) {
		fprintf(stderr, "jsonq: NUL byte in the input\n");
		return 1;
	}
	if (!lines)
		return check(in, path, 0);
	for (off = 0; off < len && !ret;) {
		size_t n = strcspn(in + off, "\n");

		in[off + n] = '\0';
		ret = check(in + off, path, off);
		off += n + 1;
	}
	return ret;
}
