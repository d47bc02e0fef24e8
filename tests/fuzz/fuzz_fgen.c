/*
 * SCPI function generator (drivers/fgen/protocol.h): the reply-line
 * parser, the reply parsers (*IDN?, numbers, booleans) and the command
 * parser the simulator answers with. Checks: every feed makes progress,
 * the lines do not depend on how the stream is split into reads, every
 * line is clean; each parser's result has the documented shape and
 * formats back to itself; the command parser ignores case and surrounding
 * blanks; and what the encoders write, for values drawn from the input,
 * parses back as the same command.
 */
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "../../drivers/fgen/protocol.h"

#define MAX_LINES 1024

struct lines {
	char line[MAX_LINES][QST_FGEN_LINE_MAX];
	size_t n;
	size_t total; /* lines seen, also past MAX_LINES */
	struct qst_fgen_parser p;
};

static struct lines whole, split;

/* Feed data in chunks drawn from seed; seed 0 feeds it all at once. */
static void parse(const uint8_t *data, size_t size, uint32_t seed,
		  struct lines *out)
{
	char line[QST_FGEN_LINE_MAX];
	size_t pos = 0;

	qst_fgen_parser_init(&out->p);
	out->n = 0;
	out->total = 0;
	while (pos < size) {
		size_t len = seed ? fuzz_next_chunk(&seed, 11) : size - pos;
		if (len > size - pos)
			len = size - pos;
		size_t used = 0;
		while (used < len) {
			bool got;
			size_t n = qst_fgen_parser_feed(&out->p,
							data + pos + used,
							len - used, line, &got);
			FUZZ_CHECK(n > 0 && n <= len - used);
			used += n;
			FUZZ_CHECK(out->p.len < sizeof(out->p.line));
			if (!got)
				continue;
			/* A complete line: ends the read it came from at its
			 * LF, is non-empty and printable. */
			FUZZ_CHECK(data[pos + used - 1] == '\n');
			size_t ll = strnlen(line, sizeof(line));
			FUZZ_CHECK(ll > 0 && ll < sizeof(line));
			for (size_t i = 0; i < ll; i++)
				FUZZ_CHECK(line[i] >= 0x20 && line[i] < 0x7f);
			out->total++;
			if (out->n < MAX_LINES)
				memcpy(out->line[out->n++], line, ll + 1);
		}
		pos += len;
	}
	FUZZ_CHECK(out->p.lines == out->total);
}

/* ------------------------------------------------------------ replies */

static int trimmed(const char *s)
{
	size_t n = strlen(s);
	return n == 0 || (!isspace((unsigned char)s[0]) &&
			  !isspace((unsigned char)s[n - 1]));
}

static void check_idn(const char *line)
{
	struct qst_fgen_idn idn, back;
	char buf[4 * sizeof(idn.model) + 4];

	int r = qst_fgen_parse_idn(line, &idn);
	FUZZ_CHECK(r == QST_OK || r == QST_ERR_DATA);
	if (r != QST_OK)
		return;
	size_t commas = 0;
	for (const char *c = line; *c; c++)
		commas += *c == ',';
	FUZZ_CHECK(commas == 3);
	const char *f[4] = { idn.manufacturer, idn.model, idn.serial,
			     idn.firmware };
	int whole_fields = 1;
	for (int i = 0; i < 4; i++) {
		size_t n = strnlen(f[i], sizeof(idn.model));
		FUZZ_CHECK(n < sizeof(idn.model));
		FUZZ_CHECK(strchr(f[i], ',') == NULL);
		whole_fields &= n < sizeof(idn.model) - 1;
		/* A field cut at 63 bytes may end in a blank. */
		if (n < sizeof(idn.model) - 1)
			FUZZ_CHECK(trimmed(f[i]));
	}
	FUZZ_CHECK(idn.manufacturer[0] && idn.model[0]);
	if (!whole_fields)
		return;
	snprintf(buf, sizeof(buf), "%s,%s,%s,%s", f[0], f[1], f[2], f[3]);
	FUZZ_CHECK(qst_fgen_parse_idn(buf, &back) == QST_OK);
	FUZZ_CHECK(strcmp(back.manufacturer, idn.manufacturer) == 0 &&
		   strcmp(back.model, idn.model) == 0 &&
		   strcmp(back.serial, idn.serial) == 0 &&
		   strcmp(back.firmware, idn.firmware) == 0);
}

static void check_number_bool(const char *line)
{
	double v, back;
	bool b;
	char buf[64];

	int rn = qst_fgen_parse_number(line, &v);
	FUZZ_CHECK(rn == QST_OK || rn == QST_ERR_DATA);
	if (rn == QST_OK) {
		FUZZ_CHECK(isfinite(v));
		snprintf(buf, sizeof(buf), "%.17g", v);
		FUZZ_CHECK(qst_fgen_parse_number(buf, &back) == QST_OK);
		FUZZ_CHECK(back == v && signbit(back) == signbit(v));
	}
	int rb = qst_fgen_parse_bool(line, &b);
	FUZZ_CHECK(rb == QST_OK || rb == QST_ERR_DATA);
	if (rb == QST_OK) {
		/* One of 1, 0, ON, OFF in any case, between blanks; "1" and
		 * "0" are numbers as well, and agree. */
		const char *s = line;
		size_t n = strlen(s);
		while (n && isspace((unsigned char)*s))
			s++, n--;
		while (n && isspace((unsigned char)s[n - 1]))
			n--;
		FUZZ_CHECK(n >= 1 && n <= 3);
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)toupper((unsigned char)s[i]);
		buf[n] = '\0';
		FUZZ_CHECK(b ? strcmp(buf, "1") == 0 || strcmp(buf, "ON") == 0 :
			       strcmp(buf, "0") == 0 || strcmp(buf, "OFF") == 0);
		if (rn == QST_OK)
			FUZZ_CHECK(v == (b ? 1.0 : 0.0));
	}
}

/* ----------------------------------------------------------- commands */

static int same_cmd(const struct qst_fgen_cmd *a, const struct qst_fgen_cmd *b)
{
	if (a->kind != b->kind || a->n_args != b->n_args ||
	    a->flag != b->flag || strcmp(a->word, b->word) != 0)
		return 0;
	for (int i = 0; i < a->n_args; i++)
		if (a->args[i] != b->args[i] ||
		    signbit(a->args[i]) != signbit(b->args[i]))
			return 0;
	return 1;
}

static int word_is(const struct qst_fgen_cmd *c, const char *w)
{
	return strcmp(c->word, w) == 0;
}

/* What check_params promises for each kind (protocol.h, the simulator). */
static void check_shape(const struct qst_fgen_cmd *c)
{
	size_t wl = strnlen(c->word, sizeof(c->word));

	FUZZ_CHECK(c->kind >= QST_FGEN_UNKNOWN && c->kind <= QST_FGEN_ERROR_Q);
	FUZZ_CHECK(c->n_args >= 0 && c->n_args <= QST_FGEN_MAX_ARGS);
	for (int i = 0; i < c->n_args; i++)
		FUZZ_CHECK(isfinite(c->args[i]));
	FUZZ_CHECK(wl < sizeof(c->word));
	for (size_t i = 0; i < wl; i++)
		FUZZ_CHECK(!islower((unsigned char)c->word[i]) &&
			   !isspace((unsigned char)c->word[i]) &&
			   c->word[i] != ',');
	switch (c->kind) {
	case QST_FGEN_APPLY_SIN:
		FUZZ_CHECK(c->n_args >= 2 && wl == 0);
		break;
	case QST_FGEN_FREQ:
	case QST_FGEN_VOLT:
	case QST_FGEN_OFFSET:
		FUZZ_CHECK(c->n_args == 1 && wl == 0);
		break;
	case QST_FGEN_VOLT_UNIT:
		FUZZ_CHECK(c->n_args == 0 &&
			   (word_is(c, "VPP") || word_is(c, "VRMS")));
		break;
	case QST_FGEN_OUTPUT:
		if (c->n_args == 1)
			FUZZ_CHECK(wl == 0 &&
				   (c->args[0] == 0 || c->args[0] == 1) &&
				   c->flag == (c->args[0] == 1));
		else
			FUZZ_CHECK(c->n_args == 0 &&
				   (word_is(c, "ON") || word_is(c, "OFF")) &&
				   c->flag == word_is(c, "ON"));
		break;
	case QST_FGEN_LOAD:
		FUZZ_CHECK((c->n_args == 1 && wl == 0) ||
			   (c->n_args == 0 && word_is(c, "INF")));
		break;
	default: /* queries, common commands, unknown headers */
		FUZZ_CHECK(c->n_args == 0 && wl == 0);
		break;
	}
}

/* The command in its plainest spelling; empty for an unknown header. */
static void canonical(const struct qst_fgen_cmd *c, char *buf, size_t cap)
{
	static const char *const fixed[] = {
		[QST_FGEN_IDN_Q] = "*IDN?",      [QST_FGEN_RST] = "*RST",
		[QST_FGEN_CLS] = "*CLS",         [QST_FGEN_OPC_Q] = "*OPC?",
		[QST_FGEN_OPC] = "*OPC",         [QST_FGEN_APPLY_Q] = "APPL?",
		[QST_FGEN_FREQ_Q] = "FREQ?",     [QST_FGEN_VOLT_Q] = "VOLT?",
		[QST_FGEN_OFFSET_Q] = "VOLT:OFFS?", [QST_FGEN_OUTPUT_Q] = "OUTP?",
		[QST_FGEN_ERROR_Q] = "SYST:ERR?",
		[QST_FGEN_APPLY_SIN] = "APPL:SIN", [QST_FGEN_FREQ] = "FREQ",
		[QST_FGEN_VOLT] = "VOLT",        [QST_FGEN_OFFSET] = "VOLT:OFFS",
		[QST_FGEN_VOLT_UNIT] = "VOLT:UNIT", [QST_FGEN_OUTPUT] = "OUTP",
		[QST_FGEN_LOAD] = "OUTP:LOAD",
	};
	size_t n;

	buf[0] = '\0';
	if (c->kind == QST_FGEN_UNKNOWN)
		return;
	n = (size_t)snprintf(buf, cap, "%s", fixed[c->kind]);
	if (c->kind == QST_FGEN_OUTPUT) {
		snprintf(buf + n, cap - n, " %s", c->flag ? "ON" : "OFF");
		return;
	}
	if (c->word[0])
		n += (size_t)snprintf(buf + n, cap - n, " %s", c->word);
	for (int i = 0; i < c->n_args; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%.17g",
				      i ? "," : " ", c->args[i]);
}

/* Swap the case of ASCII letters, and pad with blanks on both sides. */
static void variants(const char *line, char *swapped, char *padded)
{
	size_t n = strlen(line);
	for (size_t i = 0; i <= n; i++) {
		char ch = line[i];
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		else if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		swapped[i] = ch;
	}
	padded[0] = ' ';
	padded[1] = '\t';
	memcpy(padded + 2, line, n);
	memcpy(padded + 2 + n, " \r", 3);
}

/*
 * "APPL:SIN <hz>,<vpp>,0" from the encoder: written iff both values are
 * inside the driver's bounds, and parsed back as a sine within the
 * bounds, equal to the value to %.6g's six digits, offset 0. Written
 * again from what was parsed, the line is the same (for normal numbers:
 * a subnormal has fewer than six digits to keep).
 */
static void check_enc_sine(double hz, double vpp, size_t small_cap)
{
	char buf[QST_FGEN_CMD_MAX], again[QST_FGEN_CMD_MAX];
	char tiny[QST_FGEN_CMD_MAX];
	struct qst_fgen_cmd c;

	int in = isfinite(hz) && hz > 0 && hz <= QST_FGEN_FREQ_MAX_HZ &&
		 isfinite(vpp) && vpp > 0 && vpp <= QST_FGEN_AMPL_MAX_VPP;
	int n = qst_fgen_enc_apply_sine(buf, sizeof(buf), hz, vpp);
	FUZZ_CHECK(in ? n > 0 : n == QST_ERR_ARG);
	if (!in)
		return;
	FUZZ_CHECK((size_t)n == strlen(buf) && buf[n - 1] == '\n' &&
		   memchr(buf, '\n', (size_t)n - 1) == NULL);
	/* A buffer too small is refused, a large enough one holds it all. */
	small_cap %= (size_t)n + 2;
	int m = qst_fgen_enc_apply_sine(tiny, small_cap, hz, vpp);
	FUZZ_CHECK(small_cap > (size_t)n ? m == n : m == QST_ERR_ARG);

	buf[n - 1] = '\0';
	FUZZ_CHECK(qst_fgen_parse_command(buf, &c) == QST_OK);
	FUZZ_CHECK(c.kind == QST_FGEN_APPLY_SIN && c.n_args == 3 &&
		   !c.word[0]);
	FUZZ_CHECK(c.args[0] > 0 && c.args[0] <= QST_FGEN_FREQ_MAX_HZ);
	FUZZ_CHECK(c.args[1] > 0 && c.args[1] <= QST_FGEN_AMPL_MAX_VPP);
	FUZZ_CHECK(c.args[2] == 0 && !signbit(c.args[2]));
	if (hz < DBL_MIN || vpp < DBL_MIN)
		return;
	FUZZ_CHECK(fabs(c.args[0] - hz) <= 5.0000001e-6 * hz);
	FUZZ_CHECK(fabs(c.args[1] - vpp) <= 5.0000001e-6 * vpp);
	n = qst_fgen_enc_apply_sine(again, sizeof(again), c.args[0], c.args[1]);
	FUZZ_CHECK(n > 0);
	again[n - 1] = '\0';
	FUZZ_CHECK(strcmp(again, buf) == 0);
}

static void check_enc_output(bool on)
{
	char buf[QST_FGEN_CMD_MAX];
	struct qst_fgen_cmd c;

	int n = qst_fgen_enc_output(buf, sizeof(buf), on);
	FUZZ_CHECK(n > 0 && buf[n - 1] == '\n');
	buf[n - 1] = '\0';
	FUZZ_CHECK(qst_fgen_parse_command(buf, &c) == QST_OK);
	FUZZ_CHECK(c.kind == QST_FGEN_OUTPUT && c.flag == on);
}

static void check_command(const char *line)
{
	struct qst_fgen_cmd c, other;
	size_t n = strlen(line);
	char *swapped = malloc(n + 1), *padded = malloc(n + 5);
	char canon[256];

	FUZZ_CHECK(swapped && padded);
	int r = qst_fgen_parse_command(line, &c);
	FUZZ_CHECK(r == QST_OK || r == QST_ERR_DATA);

	/* Headers, words and exponents are case-blind; blanks around the
	 * line do not matter. */
	variants(line, swapped, padded);
	FUZZ_CHECK(qst_fgen_parse_command(swapped, &other) == r);
	if (r == QST_OK)
		FUZZ_CHECK(same_cmd(&c, &other));
	FUZZ_CHECK(qst_fgen_parse_command(padded, &other) == r);
	if (r == QST_OK)
		FUZZ_CHECK(same_cmd(&c, &other));
	free(swapped);
	free(padded);
	if (r != QST_OK)
		return;

	check_shape(&c);
	canonical(&c, canon, sizeof(canon));
	if (canon[0]) {
		FUZZ_CHECK(qst_fgen_parse_command(canon, &other) == QST_OK);
		if (c.kind == QST_FGEN_OUTPUT)
			FUZZ_CHECK(other.kind == c.kind && other.flag == c.flag);
		else
			FUZZ_CHECK(same_cmd(&c, &other));
	}
	/* What the driver would send for this command, through its encoders. */
	if (c.kind == QST_FGEN_APPLY_SIN)
		check_enc_sine(c.args[0], c.args[1], (size_t)c.n_args * 7);
	else if (c.kind == QST_FGEN_OUTPUT)
		check_enc_output(c.flag);
}

static void check_line(const char *line)
{
	check_idn(line);
	check_number_bool(line);
	check_command(line);
}

/* Two doubles from the input: its raw bits, and scaled into the bounds. */
static void check_encoders(const uint8_t *data, size_t size)
{
	uint8_t b[16] = { 0 };
	double raw[2];
	uint32_t w[2];

	memcpy(b, data, size < sizeof(b) ? size : sizeof(b));
	memcpy(raw, b, sizeof(raw));
	memcpy(w, b + 8, sizeof(w));
	check_enc_sine(raw[0], raw[1], b[15]);
	check_enc_sine((w[0] + 1.0) * (QST_FGEN_FREQ_MAX_HZ / 4294967296.0),
		       (w[1] + 1.0) * (QST_FGEN_AMPL_MAX_VPP / 4294967296.0),
		       b[0]);
	check_enc_output(b[0] & 1);
}

FUZZ_QUIET_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse(data, size, 0, &whole);
	parse(data, size, size ? data[0] | 1u : 1, &split);
	FUZZ_CHECK(whole.total == split.total &&
		   whole.p.dropped == split.p.dropped);
	FUZZ_CHECK(whole.p.len == split.p.len &&
		   whole.p.corrupt == split.p.corrupt &&
		   memcmp(whole.p.line, split.p.line, whole.p.len) == 0);
	for (size_t i = 0; i < whole.n; i++) {
		FUZZ_CHECK(strcmp(whole.line[i], split.line[i]) == 0);
		check_line(whole.line[i]);
	}

	/* The parsers alone, on the raw bytes up to the first NUL as one
	 * line: control bytes, LFs and any length, as the simulator's own
	 * line splitter lets them through. */
	char *line = malloc(size + 1);
	FUZZ_CHECK(line != NULL);
	memcpy(line, data, size);
	line[size] = '\0';
	check_line(line);
	free(line);

	check_encoders(data, size);
	return 0;
}
