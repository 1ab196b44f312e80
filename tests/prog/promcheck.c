// SPDX-License-Identifier: GPL-2.0
/*
 * promcheck - a strict check of the Prometheus text exposition format
 * 0.0.4, for the output of ksmodctl metrics.
 *
 *   promcheck <FILE   exit 0 if FILE is good; else 1, with the first fault
 *                     on stderr: "promcheck: line N: what is wrong"
 *   promcheck -t      self-test: every embedded good example must pass and
 *                     every bad one fail at its line; TAP lines, exit 1 if
 *                     any does not
 *
 * Refused, as the format or Prometheus refuses it: a bad metric or label
 * name (label names starting "__" are reserved); a label value with an
 * escape other than of a backslash, a double quote or a newline ("n"),
 * unterminated, or not UTF-8; a HELP text with an escape other than of a
 * backslash or a newline; a TYPE other than counter, gauge, histogram,
 * summary, untyped; a second HELP or TYPE for a family,
 * or one after its samples; a family whose lines are not together; the
 * same series twice (same name and labels, in any order; an empty label
 * value is no label); the same label twice in a sample; a value that Go's
 * strconv.ParseFloat would not take (decimal, exponent, Inf, +Inf, -Inf,
 * Infinity, NaN in any case; out of range), or that Prometheus refuses on
 * top of it (hexadecimal, '_'); a histogram bucket without "le", a summary
 * quantile without "quantile".
 *
 * Refused, as promtool check metrics warns: a family without HELP text;
 * a counter whose name does not end in "_total", anything else that does;
 * _count, _sum or _bucket on a family that is not a histogram or summary;
 * ':' (for recording rules) or capitals in a name; a unit that is not a
 * base unit (milliseconds, not seconds; kilobytes; percent, not ratio)
 * or abbreviated (ms, sec, kb...); a type in the name.
 *
 * Refused by our own rules, stricter than the format: a sample before
 * its family's HELP and TYPE; a negative or NaN counter; a timestamp
 * (node_exporter's textfile collector refuses files with them); empty
 * lines, blanks at the start or end of a line, more than one blank
 * between tokens, blanks inside braces, tabs or any other control
 * character; no newline at the end. Empty input is good.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_LABELS	32

/* a family, from its HELP or TYPE line or its first sample */
struct family {
	char *name;
	const char *type;	/* NULL until its TYPE line */
	bool help;		/* its HELP line was seen */
	bool samples;		/* a sample was seen */
	bool closed;		/* another family's line came after its own */
	int line;		/* its first line */
};

struct label {
	char name[128];
	char value[1024];	/* unescaped */
};

struct checker {
	struct family *fams;
	size_t nr_fams;
	long cur;		/* index of the family of the last HELP, TYPE
				 * or sample line; -1 before any
				 */
	char **series;		/* "name\1label\2value\1..." of every sample */
	size_t nr_series;
	int line;
	char msg[512];
};

static const char *const types[] = {
	"counter", "gauge", "histogram", "summary", "untyped",
};

/* promlint's base units, then non-base ones with the base they want */
static const char *const base_units[] = {
	"amperes", "bytes", "celsius", "grams", "joules", "kelvin", "meters",
	"metres", "seconds", "volts",
};

static const char *const other_units[][2] = {
	{ "minutes", "seconds" }, { "hours", "seconds" },
	{ "days", "seconds" }, { "weeks", "seconds" },
	{ "kelvins", "kelvin" }, { "fahrenheit", "celsius" },
	{ "rankine", "celsius" }, { "inches", "meters" },
	{ "yards", "meters" }, { "miles", "meters" }, { "bits", "bytes" },
	{ "calories", "joules" }, { "pounds", "grams" },
	{ "ounces", "grams" }, { "percent", "ratio" },
};

static const char *const unit_prefixes[] = {
	"pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto",
	"kilo", "kibi", "mega", "mebi", "mibi", "giga", "gibi", "tera", "tebi",
	"peta", "pebi",
};

/* promlint's, and the kernel's spellings of milliseconds */
static const char *const unit_abbrevs[] = {
	"s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m",
	"h", "d", "secs", "msecs", "millisecs", "usecs", "nsecs",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Record the first fault: false, for "return fault(...)". */
static bool fault(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return false;
}

static bool is_name_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       ch == '_';
}

static bool is_name_char(char ch)
{
	return is_name_start(ch) || (ch >= '0' && ch <= '9');
}

/* The length of the metric name at @s ([a-zA-Z_:][a-zA-Z0-9_:]*) */
static size_t metric_name_len(const char *s)
{
	size_t n = 0;

	if (!is_name_start(s[0]) && s[0] != ':')
		return 0;
	while (is_name_char(s[n]) || s[n] == ':')
		n++;
	return n;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* A well-formed UTF-8 sequence of @n bytes: no overlong form, surrogate */
static bool utf8_ok(const unsigned char *s, size_t n, size_t *bad)
{
	size_t i = 0;

	while (i < n) {
		unsigned int cp, len, k;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			len = 4;
			cp = s[i] & 0x07;
		} else {
			*bad = i;
			return false;
		}
		for (k = 1; k < len; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80) {
				*bad = i;
				return false;
			}
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff)) {
			*bad = i;
			return false;
		}
		i += len;
	}
	return true;
}

/*
 * @s as Go's strconv.ParseFloat(s, 64) takes it, without what Prometheus
 * refuses on top ('p', 'P', '_': hexadecimal floats, digit separators):
 * [+-]digits[.digits][e[+-]digits], ".5" and "5." too; [+-]inf or
 * [+-]infinity and nan in any case (no sign on NaN); not out of range.
 */
static bool go_float(const char *s, double *v)
{
	const char *p = s;
	bool digits = false;
	char *end;

	if (strpbrk(s, "pP_"))
		return false;
	if (!strcasecmp(s, "nan")) {
		*v = NAN;
		return true;
	}
	if (*p == '+' || *p == '-')
		p++;
	if (!strcasecmp(p, "inf") || !strcasecmp(p, "infinity")) {
		*v = *s == '-' ? -INFINITY : INFINITY;
		return true;
	}
	for (; *p >= '0' && *p <= '9'; p++)
		digits = true;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits = true;
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p)
		return false;
	errno = 0;
	*v = strtod(s, &end);
	/* overflow is Go's ErrRange; underflow to 0 or a denormal is not */
	return *end == '\0' && !(errno == ERANGE && isinf(*v));
}

static struct family *find_family(struct checker *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nr_fams; i++)
		if (!strcmp(c->fams[i].name, name))
			return &c->fams[i];
	return NULL;
}

/* What promtool check metrics says of the name @name of type @type */
static bool lint_name(struct checker *c, const char *name, const char *type)
{
	char tok[256];
	const char *p = name;
	size_t i, j, n;

	if (strchr(name, ':'))
		return fault(c, "'%s': ':' is for recording rules", name);
	if (!strncmp(name, "__", 2))
		return fault(c, "'%s': names starting \"__\" are reserved",
			     name);
	for (p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			return fault(c, "'%s': capitals: names are snake_case",
				     name);
	if (!strcmp(type, "counter") && !ends_with(name, "_total"))
		return fault(c, "counter '%s' does not end in _total", name);
	if (strcmp(type, "counter") && ends_with(name, "_total"))
		return fault(c, "%s '%s' ends in _total, which is for counters",
			     type, name);
	if (strcmp(type, "histogram") && strcmp(type, "summary") &&
	    (ends_with(name, "_count") || ends_with(name, "_sum") ||
	     ends_with(name, "_bucket")))
		return fault(c, "%s '%s' ends in _count, _sum or _bucket, which are for histograms and summaries",
			     type, name);
	for (p = name; *p; p += n + (p[n] == '_')) {
		n = strcspn(p, "_");
		if (!n || n >= sizeof(tok))
			continue;
		memcpy(tok, p, n);
		tok[n] = '\0';
		for (i = 0; i < ARRAY_SIZE(types); i++)
			if (!strcmp(tok, types[i]))
				return fault(c, "'%s': the type '%s' in the name",
					     name, tok);
		for (i = 0; i < ARRAY_SIZE(unit_abbrevs); i++)
			if (!strcmp(tok, unit_abbrevs[i]))
				return fault(c, "'%s': the abbreviated unit '%s'",
					     name, tok);
		for (i = 0; i < ARRAY_SIZE(other_units); i++)
			if (!strcmp(tok, other_units[i][0]))
				return fault(c, "'%s': use the base unit '%s', not '%s'",
					     name, other_units[i][1], tok);
		for (i = 0; i < ARRAY_SIZE(unit_prefixes); i++) {
			size_t pl = strlen(unit_prefixes[i]);

			if (strncmp(tok, unit_prefixes[i], pl))
				continue;
			for (j = 0; j < ARRAY_SIZE(base_units); j++)
				if (!strcmp(tok + pl, base_units[j]))
					return fault(c, "'%s': use the base unit '%s', not '%s'",
						     name, base_units[j], tok);
		}
	}
	return true;
}

/*
 * The family of a HELP or TYPE line or a sample: @name's, made the
 * current one; NULL if its lines are not together.
 */
static struct family *enter_family(struct checker *c, const char *name)
{
	struct family *f = find_family(c, name), *n;

	if (f && f->closed) {
		fault(c, "family %s continues here, after other families (it began at line %d)",
		      name, f->line);
		return NULL;
	}
	if (!f) {
		n = realloc(c->fams, (c->nr_fams + 1) * sizeof(*n));
		if (!n) {
			fault(c, "out of memory");
			return NULL;
		}
		c->fams = n;
		f = &c->fams[c->nr_fams++];
		memset(f, 0, sizeof(*f));
		f->name = strdup(name);
		f->line = c->line;
		if (!f->name) {
			fault(c, "out of memory");
			return NULL;
		}
	}
	if (c->cur >= 0 && &c->fams[c->cur] != f)
		c->fams[c->cur].closed = true;
	c->cur = f - c->fams;
	return f;
}

/* "# HELP name text" or "# TYPE name type": @kw "HELP" or "TYPE" */
static bool check_meta(struct checker *c, const char *s, const char *kw)
{
	char name[256];
	struct family *f;
	const char *text;
	size_t n, i;

	if (strncmp(s, "# ", 2) || strncmp(s + 2, kw, 4) || s[6] != ' ')
		return fault(c, "a %s line is \"# %s name ...\", one blank apart",
			     kw, kw);
	s += 7;
	n = metric_name_len(s);
	if (!n || (s[n] && s[n] != ' '))
		return fault(c, "bad metric name in %s line", kw);
	if (n >= sizeof(name))
		return fault(c, "metric name too long");
	memcpy(name, s, n);
	name[n] = '\0';
	if (!s[n] || !s[n + 1])
		return fault(c, "%s line of %s without %s", kw, name,
			     *kw == 'H' ? "text" : "a type");
	text = s + n + 1;
	if (*text == ' ')
		return fault(c, "more than one blank in %s line", kw);
	f = enter_family(c, name);
	if (!f)
		return false;
	if (f->samples)
		return fault(c, "%s line of %s after its samples", kw, name);
	if (*kw == 'H') {
		if (f->help)
			return fault(c, "second HELP line of %s", name);
		f->help = true;
		for (; *text; text++)
			if (*text == '\\' && text[1] != '\\' && text[1] != 'n')
				return fault(c, "bad escape in HELP text: only \\\\ and \\n");
			else if (*text == '\\')
				text++;
		return true;
	}
	if (f->type)
		return fault(c, "second TYPE line of %s", name);
	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(text, types[i]))
			f->type = types[i];
	if (!f->type)
		return fault(c, "unknown type '%s'", text);
	return lint_name(c, name, f->type);
}

/*
 * The labels of a sample, from just after '{': into @l, their number in
 * *@nr; *@s is left after the '}'.
 */
static bool parse_labels(struct checker *c, const char **s, struct label *l,
			 int *nr)
{
	const char *p = *s;
	int i;

	*nr = 0;
	while (*p != '}') {
		struct label *lb = &l[*nr];
		size_t n = 0, v = 0;

		if (*nr == MAX_LABELS)
			return fault(c, "more than %d labels", MAX_LABELS);
		if (*p == ' ')
			return fault(c, "a blank inside the braces");
		if (!is_name_start(*p))
			return fault(c, "bad label name");
		while (is_name_char(p[n]))
			n++;
		if (n >= sizeof(lb->name))
			return fault(c, "label name too long");
		memcpy(lb->name, p, n);
		lb->name[n] = '\0';
		p += n;
		if (!strncmp(lb->name, "__", 2))
			return fault(c, "label name %s: names starting \"__\" are reserved",
				     lb->name);
		for (n = 0; lb->name[n]; n++)
			if (lb->name[n] >= 'A' && lb->name[n] <= 'Z')
				return fault(c, "label name %s: capitals: names are snake_case",
					     lb->name);
		for (i = 0; i < *nr; i++)
			if (!strcmp(l[i].name, lb->name))
				return fault(c, "label %s twice", lb->name);
		if (*p != '=')
			return fault(c, "bad label name, or no '=' after it");
		if (p[1] != '"')
			return fault(c, "label value of %s not in double quotes",
				     lb->name);
		for (p += 2; *p != '"'; p++) {
			char ch = *p;

			if (!ch)
				return fault(c, "label value of %s not terminated",
					     lb->name);
			if (ch == '\\') {
				p++;
				if (*p == 'n')
					ch = '\n';
				else if (*p == '\\' || *p == '"')
					ch = *p;
				else
					return fault(c, "bad escape in label value of %s: only \\\\, \\\" and \\n",
						     lb->name);
			}
			if (v + 1 >= sizeof(lb->value))
				return fault(c, "label value too long");
			lb->value[v++] = ch;
		}
		lb->value[v] = '\0';
		p++;
		(*nr)++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return fault(c, "no ',' or '}' after the label value of %s",
				     lb->name);
	}
	*s = p + 1;
	return true;
}

static int cmp_labels(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->name,
		      ((const struct label *)b)->name);
}

static const char *label_value(const struct label *l, int nr,
			       const char *name)
{
	int i;

	for (i = 0; i < nr; i++)
		if (!strcmp(l[i].name, name))
			return l[i].value;
	return NULL;
}

/* false if the series (@name and its labels @l) came before */
static bool new_series(struct checker *c, const char *name, struct label *l,
		       int nr)
{
	size_t len = strlen(name) + 1, off, i;
	char *key, **n;
	int k;

	qsort(l, nr, sizeof(*l), cmp_labels);
	for (k = 0; k < nr; k++)
		len += strlen(l[k].name) + strlen(l[k].value) + 2;
	key = malloc(len);
	if (!key)
		return fault(c, "out of memory");
	off = snprintf(key, len, "%s", name);
	for (k = 0; k < nr; k++)	/* an empty value is no label */
		if (l[k].value[0])
			off += snprintf(key + off, len - off, "\1%s\2%s",
					l[k].name, l[k].value);
	for (i = 0; i < c->nr_series; i++) {
		if (!strcmp(c->series[i], key)) {
			free(key);
			return fault(c, "the series %s with these labels came before",
				     name);
		}
	}
	n = realloc(c->series, (c->nr_series + 1) * sizeof(*n));
	if (!n) {
		free(key);
		return fault(c, "out of memory");
	}
	c->series = n;
	c->series[c->nr_series++] = key;
	return true;
}

/*
 * The family a sample named @name belongs to: its own, or for name_bucket,
 * name_sum and name_count that of a histogram (or summary) "name".
 */
static struct family *sample_family(struct checker *c, const char *name)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	struct family *f = find_family(c, name);
	char base[256];
	size_t i, n;

	for (i = 0; !f && i < ARRAY_SIZE(suffixes); i++) {
		n = strlen(name) - strlen(suffixes[i]);
		if (!ends_with(name, suffixes[i]) || n >= sizeof(base))
			continue;
		memcpy(base, name, n);
		base[n] = '\0';
		f = find_family(c, base);
		if (f && !(f->type && (!strcmp(f->type, "histogram") ||
				       (i && !strcmp(f->type, "summary")))))
			f = NULL;
	}
	return f;
}

/* name[{labels}] value */
static bool check_sample(struct checker *c, const char *s)
{
	struct label l[MAX_LABELS];
	char name[256], value[128];
	struct family *f;
	const char *p = s;
	double v;
	int nr = 0;
	size_t n = metric_name_len(p);

	if (!n)
		return fault(c, "bad metric name");
	if (!p[n])
		return fault(c, "no value after %.*s", (int)n, p);
	if (p[n] != ' ' && p[n] != '{')
		return fault(c, "bad character '%c' in metric name", p[n]);
	if (n >= sizeof(name))
		return fault(c, "metric name too long");
	memcpy(name, p, n);
	name[n] = '\0';
	p += n;
	if (*p == '{') {
		p++;
		if (!parse_labels(c, &p, l, &nr))
			return false;
	}
	if (*p != ' ' || !p[1])
		return fault(c, "no value after %s", name);
	p++;
	if (*p == ' ')
		return fault(c, "more than one blank before the value");
	n = strcspn(p, " ");
	if (n >= sizeof(value))
		return fault(c, "value too long");
	memcpy(value, p, n);
	value[n] = '\0';
	if (p[n])
		return fault(c, "a timestamp, or more after the value: node_exporter's textfile collector refuses timestamps");
	if (!go_float(value, &v))
		return fault(c, "value '%s' is not a float (Go's ParseFloat, as Prometheus takes it)",
			     value);

	f = sample_family(c, name);
	if (!f || !f->help || !f->type)
		return fault(c, "sample of %s without %s before it", name,
			     f && f->help ? "a TYPE line" :
			     f && f->type ? "a HELP line" : "HELP and TYPE lines");
	f = enter_family(c, f->name);
	if (!f)
		return false;
	f->samples = true;
	if (!strcmp(f->type, "counter") && (v < 0 || isnan(v)))
		return fault(c, "counter %s is %s", name, value);
	if (!strcmp(f->type, "histogram") && strcmp(f->name, name) == 0)
		return fault(c, "histogram %s: a sample without _bucket, _sum or _count",
			     name);
	if (!strcmp(f->type, "histogram") && ends_with(name, "_bucket")) {
		const char *le = label_value(l, nr, "le");

		if (!le || !go_float(le, &v))
			return fault(c, "bucket %s without a float \"le\" label",
				     name);
	}
	if (!strcmp(f->type, "summary") && !strcmp(f->name, name)) {
		const char *q = label_value(l, nr, "quantile");

		if (!q || !go_float(q, &v))
			return fault(c, "summary %s without a float \"quantile\" label",
				     name);
	}
	return new_series(c, name, l, nr);
}

static bool check_line(struct checker *c, const char *s, size_t len)
{
	size_t i, bad;

	if (!len)
		return fault(c, "an empty line");
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fault(c, "control character 0x%02x in column %zu",
				     (unsigned char)s[i], i + 1);
	if (!utf8_ok((const unsigned char *)s, len, &bad))
		return fault(c, "not UTF-8 in column %zu", bad + 1);
	if (s[0] == ' ')
		return fault(c, "a blank at the start of the line");
	if (s[len - 1] == ' ')
		return fault(c, "a blank at the end of the line");
	if (s[0] == '#') {
		size_t k = 1 + strspn(s + 1, " ");

		if (!strncmp(s + k, "HELP", 4) && (s[k + 4] == ' ' || !s[k + 4]))
			return check_meta(c, s, "HELP");
		if (!strncmp(s + k, "TYPE", 4) && (s[k + 4] == ' ' || !s[k + 4]))
			return check_meta(c, s, "TYPE");
		return true;	/* any other comment */
	}
	return check_sample(c, s);
}

static void checker_free(struct checker *c)
{
	size_t i;

	for (i = 0; i < c->nr_fams; i++)
		free(c->fams[i].name);
	for (i = 0; i < c->nr_series; i++)
		free(c->series[i]);
	free(c->fams);
	free(c->series);
}

/* Check @len bytes at @text: 0 if good, else the line of the first fault */
static int check(const char *text, size_t len, char *msg, size_t size)
{
	struct checker c = { .cur = -1 };
	size_t start = 0;
	int ret = 0;

	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		char *line;
		bool ok;

		c.line++;
		line = strndup(text + start, end - start);
		if (!line) {
			ret = c.line;
			fault(&c, "out of memory");
			break;
		}
		/* a NUL inside: strndup stopped there */
		if (strlen(line) != end - start)
			ok = fault(&c, "control character 0x00");
		else
			ok = check_line(&c, line, end - start);
		free(line);
		if (!ok) {
			ret = c.line;
			break;
		}
		if (!nl) {
			ret = c.line;
			fault(&c, "no newline at the end");
			break;
		}
		start = end + 1;
	}
	snprintf(msg, size, "%s", ret ? c.msg : "");
	checker_free(&c);
	return ret;
}

/* ---- self-test ------------------------------------------------------- */

#define FAM(n, t)	"# HELP " n " A " t ".\n# TYPE " n " " t "\n"
#define GAUGE(n)	FAM(n, "gauge")

static const struct example {
	const char *why;
	const char *text;
	int line;		/* of the fault; 0: good */
} examples[] = {
	{ "empty input", "", 0 },
	{ "a gauge", GAUGE("a") "a 1\n", 0 },
	{ "ksmodctl's kind of output",
	  "# HELP ksmod_up 1 if loaded.\n# TYPE ksmod_up gauge\nksmod_up 1\n"
	  "# HELP ksmod_info Always 1.\n# TYPE ksmod_info gauge\n"
	  "ksmod_info{version=\"0.1.0\",abi=\"1.2\"} 1\n"
	  "# HELP ksmod_advisor_mode 1 for the mode.\n"
	  "# TYPE ksmod_advisor_mode gauge\n"
	  "ksmod_advisor_mode{mode=\"none\"} 1\n"
	  "ksmod_advisor_mode{mode=\"scan-time\"} 0\n"
	  "# HELP ksmod_full_scans_total Passes.\n"
	  "# TYPE ksmod_full_scans_total counter\n"
	  "ksmod_full_scans_total 12\n", 0 },
	{ "TYPE before HELP", "# TYPE a gauge\n# HELP a An a.\na 1\n", 0 },
	{ "escapes in HELP and label values",
	  "# HELP a_total Back \\\\ slash,\\nnew line.\n"
	  "# TYPE a_total counter\n"
	  "a_total{q=\"say \\\"hi\\\"\",b=\"c:\\\\d\",n=\"x\\ny\"} 0\n", 0 },
	{ "UTF-8 in label values and HELP",
	  "# HELP a Größe, 大きさ.\n# TYPE a gauge\na{l=\"é日本\"} 1\n", 0 },
	{ "floats as Go and Prometheus take them",
	  GAUGE("a") "a{v=\"1\"} NaN\na{v=\"2\"} +Inf\na{v=\"3\"} -Inf\n"
	  "a{v=\"4\"} inf\na{v=\"5\"} -Infinity\na{v=\"6\"} nan\n"
	  "a{v=\"7\"} 1.5e-3\na{v=\"8\"} .5\na{v=\"9\"} 5.\n"
	  "a{v=\"10\"} -0\na{v=\"11\"} +1\na{v=\"12\"} 1E+10\n"
	  "a{v=\"13\"} 1e-400\na{v=\"14\"} -9223372036854775808\n", 0 },
	{ "comments between samples",
	  GAUGE("a") "a{x=\"1\"} 1\n# a comment\n#\na{x=\"2\"} 2\n", 0 },
	{ "a family with no sample", GAUGE("a") GAUGE("c") "c 1\n", 0 },
	{ "an untyped family", FAM("a", "untyped") "a 1\n", 0 },
	{ "a histogram",
	  FAM("req_seconds", "histogram") "req_seconds_bucket{le=\"0.1\"} 1\n"
	  "req_seconds_bucket{le=\"+Inf\"} 2\nreq_seconds_sum 0.3\n"
	  "req_seconds_count 2\n", 0 },
	{ "a summary",
	  FAM("rpc_seconds", "summary") "rpc_seconds{quantile=\"0.5\"} 1\n"
	  "rpc_seconds_sum 3\nrpc_seconds_count 2\n", 0 },
	{ "a trailing comma and empty braces",
	  GAUGE("a") "a{x=\"1\",} 1\n" GAUGE("c") "c{} 1\n", 0 },

	{ "no newline at the end", GAUGE("a") "a 1", 3 },
	{ "an empty line", GAUGE("a") "\na 1\n", 3 },
	{ "a blank at the end", GAUGE("a") "a 1\040\n", 3 },
	{ "a blank at the start", GAUGE("a") " a 1\n", 3 },
	{ "two blanks before the value", GAUGE("a") "a  1\n", 3 },
	{ "a tab before the value", GAUGE("a") "a\t1\n", 3 },
	{ "a carriage return", GAUGE("a") "a 1\r\n", 3 },
	{ "a NUL", GAUGE("a") "a 1\n\0\n", 4 },
	{ "a metric name starting with a digit", GAUGE("a") "1a 1\n", 3 },
	{ "a '-' in a metric name", GAUGE("a") "a-b 1\n", 3 },
	{ "a '.' in a metric name", "# HELP a.b An a.\n", 1 },
	{ "a ':' in a metric name", GAUGE("a:b") "a:b 1\n", 2 },
	{ "capitals in a metric name", GAUGE("aB") "aB 1\n", 2 },
	{ "a metric name starting __", GAUGE("__a") "__a 1\n", 2 },
	{ "a label name starting with a digit", GAUGE("a") "a{1x=\"\"} 1\n",
	  3 },
	{ "a '-' in a label name", GAUGE("a") "a{x-y=\"1\"} 1\n", 3 },
	{ "a label name starting __", GAUGE("a") "a{__x=\"1\"} 1\n", 3 },
	{ "capitals in a label name", GAUGE("a") "a{xY=\"1\"} 1\n", 3 },
	{ "the same label twice", GAUGE("a") "a{x=\"1\",x=\"2\"} 1\n", 3 },
	{ "a blank inside the braces",
	  GAUGE("a") "a{x=\"1\", y=\"2\"} 1\n", 3 },
	{ "\\t in a label value", GAUGE("a") "a{x=\"\\t\"} 1\n", 3 },
	{ "a lone \\ ending a label value", GAUGE("a") "a{x=\"\\\"} 1\n", 3 },
	{ "an unescaped \" in a label value",
	  GAUGE("a") "a{x=\"a\"b\"} 1\n", 3 },
	{ "a label value without quotes", GAUGE("a") "a{x=1} 1\n", 3 },
	{ "a label value not UTF-8", GAUGE("a") "a{x=\"\xff\"} 1\n", 3 },
	{ "an overlong UTF-8 form", GAUGE("a") "a{x=\"\xc0\xaf\"} 1\n", 3 },
	{ "a sample without HELP and TYPE", "a 1\n", 1 },
	{ "a sample without TYPE", "# HELP a An a.\na 1\n", 2 },
	{ "a sample without HELP", "# TYPE a gauge\na 1\n", 2 },
	{ "HELP only after the samples",
	  "# TYPE a gauge\na{x=\"1\"} 1\n# HELP a An a.\n", 2 },
	{ "TYPE only after the samples",
	  "# HELP a An a.\na 1\n# TYPE a gauge\n", 2 },
	{ "TYPE twice", GAUGE("a") "# TYPE a gauge\na 1\n", 3 },
	{ "HELP twice", GAUGE("a") "# HELP a Again.\na 1\n", 3 },
	{ "a family that is not together",
	  GAUGE("a") "a{x=\"1\"} 1\n" GAUGE("c") "c 1\na{x=\"2\"} 2\n", 7 },
	{ "HELP of a family after another began",
	  "# HELP a An a.\n" GAUGE("c") "# TYPE a gauge\n", 4 },
	{ "the same series twice, labels in another order",
	  GAUGE("a") "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", 4 },
	{ "the same series twice, an empty label value being none",
	  GAUGE("a") "a 1\na{x=\"\"} 1\n", 4 },
	{ "a comma in a value", GAUGE("a") "a 1,5\n", 3 },
	{ "a hexadecimal float (Go takes it, Prometheus does not)",
	  GAUGE("a") "a 0x1p3\n", 3 },
	{ "a hexadecimal integer", GAUGE("a") "a 0x10\n", 3 },
	{ "a digit separator", GAUGE("a") "a 1_000\n", 3 },
	{ "Inf followed by more", GAUGE("a") "a Inf1\n", 3 },
	{ "infinit", GAUGE("a") "a infinit\n", 3 },
	{ "a sign on NaN", GAUGE("a") "a +NaN\n", 3 },
	{ "an exponent without digits", GAUGE("a") "a 1e\n", 3 },
	{ "an exponent alone", GAUGE("a") "a e5\n", 3 },
	{ "a point alone", GAUGE("a") "a .\n", 3 },
	{ "two signs", GAUGE("a") "a --1\n", 3 },
	{ "no value", GAUGE("a") "a\n", 3 },
	{ "an empty value", GAUGE("a") "a{x=\"1\"}\040\n", 3 },
	{ "a value out of range", GAUGE("a") "a 1e400\n", 3 },
	{ "a timestamp", GAUGE("a") "a 1 1700000000000\n", 3 },
	{ "a negative counter", FAM("a_total", "counter") "a_total -1\n", 3 },
	{ "a counter at -Inf", FAM("a_total", "counter") "a_total -Inf\n",
	  3 },
	{ "a counter at NaN", FAM("a_total", "counter") "a_total NaN\n", 3 },
	{ "a counter without _total", FAM("a", "counter") "a 1\n", 2 },
	{ "a gauge ending in _total", GAUGE("a_total") "a_total 1\n", 2 },
	{ "a gauge ending in _count", GAUGE("a_count") "a_count 1\n", 2 },
	{ "an unknown type", FAM("a", "gauges") "a 1\n", 2 },
	{ "a TYPE line with more after the type",
	  "# HELP a An a.\n# TYPE a gauge x\n", 2 },
	{ "HELP without text", "# HELP a\n# TYPE a gauge\na 1\n", 1 },
	{ "TYPE without a type", "# HELP a An a.\n# TYPE a\na 1\n", 2 },
	{ "#HELP without a blank", "#HELP a An a.\n", 1 },
	{ "\\t in HELP text", "# HELP a A\\tb.\n", 1 },
	{ "milliseconds, not seconds", GAUGE("a_milliseconds") "a 1\n", 2 },
	{ "kilobytes, not bytes", GAUGE("a_kilobytes") "a 1\n", 2 },
	{ "percent, not ratio", GAUGE("a_cpu_percent") "a 1\n", 2 },
	{ "an abbreviated unit", GAUGE("a_sleep_ms") "a 1\n", 2 },
	{ "a one-letter unit", GAUGE("a_size_b") "a 1\n", 2 },
	{ "the kernel's millisecs", GAUGE("a_sleep_millisecs") "a 1\n", 2 },
	{ "the type in the name", GAUGE("a_gauge") "a 1\n", 2 },
	{ "a histogram bucket without le",
	  FAM("req_seconds", "histogram") "req_seconds_bucket 1\n", 3 },
	{ "a summary quantile without quantile",
	  FAM("rpc_seconds", "summary") "rpc_seconds 1\n", 3 },
	{ "the sum of a gauge",
	  GAUGE("g") "g 1\ng_sum 1\n", 4 },
};

static int self_test(void)
{
	unsigned int i, failed = 0;
	char msg[512];

	printf("1..%zu\n", ARRAY_SIZE(examples));
	for (i = 0; i < ARRAY_SIZE(examples); i++) {
		const struct example *e = &examples[i];
		size_t len = strlen(e->text);
		int line;

		/* the NUL example: its text goes on past the NUL */
		if (strstr(e->why, "NUL"))
			len += 1 + strlen(e->text + len + 1);
		line = check(e->text, len, msg, sizeof(msg));
		if (line == e->line) {
			printf("ok %u - %s: %s%s%s\n", i + 1,
			       e->line ? "rejects" : "accepts", e->why,
			       line ? ": " : "", msg);
			continue;
		}
		failed++;
		printf("not ok %u - %s: %s\n", i + 1,
		       e->line ? "rejects" : "accepts", e->why);
		if (line)
			printf("# rejected at line %d: %s\n", line, msg);
		else
			printf("# accepted\n");
		if (e->line)
			printf("# expected a fault at line %d\n", e->line);
	}
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	size_t len = 0, cap = 0;
	char *text = NULL, msg[512];
	int line;

	if (argc == 2 && !strcmp(argv[1], "-t"))
		return self_test();
	if (argc != 1) {
		fprintf(stderr, "usage: promcheck <FILE | promcheck -t\n");
		return 2;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *t = realloc(text, cap = cap ? 2 * cap : 65536);

			if (!t) {
				fprintf(stderr, "promcheck: out of memory\n");
				return 1;
			}
			text = t;
		}
		n = fread(text + len, 1, cap - len, stdin);
		if (!n)
			break;
		len += n;
	}
	if (ferror(stdin)) {
		perror("promcheck: stdin");
		return 1;
	}
	line = check(text, len, msg, sizeof(msg));
	free(text);
	if (line) {
		fprintf(stderr, "promcheck: line %d: %s\n", line, msg);
		return 1;
	}
	return 0;
}
