/*
 * SCPI function generator, APPLy subset (devices.md §5.1): encoders, reply
 * parsers and the command parser the simulator answers with. No I/O.
 */
#define LOG_PREFIX "fgen-proto: "

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

static int finish(int n, size_t cap)
{
	if (n < 0 || (size_t)n >= cap)
		return QST_ERR_ARG;
	return n;
}

/*
 * Offset 0: the shaker moves about its rest position. %.6g keeps the
 * command short; SCPI numbers accept an exponent should one appear.
 */
int qst_fgen_enc_apply_sine(char *buf, size_t cap, double hz, double vpp)
{
	if (!buf || !isfinite(hz) || hz <= 0 || hz > QST_FGEN_FREQ_MAX_HZ ||
	    !isfinite(vpp) || vpp <= 0 || vpp > QST_FGEN_AMPL_MAX_VPP)
		return QST_ERR_ARG;
	return finish(snprintf(buf, cap, "APPL:SIN %.6g,%.6g,0\n", hz, vpp),
		      cap);
}

int qst_fgen_enc_output(char *buf, size_t cap, bool on)
{
	if (!buf)
		return QST_ERR_ARG;
	return finish(snprintf(buf, cap, "OUTP %s\n", on ? "ON" : "OFF"), cap);
}

/* ------------------------------------------------------------ replies */

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static void copy_field(char *dst, size_t cap, const char *s, size_t len)
{
	trim(&s, &len);
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

int qst_fgen_parse_idn(const char *line, struct qst_fgen_idn *out)
{
	if (!line || !out)
		return QST_ERR_ARG;
	char *fields[4] = { out->manufacturer, out->model, out->serial,
			    out->firmware };
	const char *p = line;
	for (int i = 0; i < 4; i++) {
		const char *comma = strchr(p, ',');
		if ((i < 3) != (comma != NULL))
			return QST_ERR_DATA;
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		copy_field(fields[i], sizeof(out->model), p, len);
		p = comma ? comma + 1 : p + len;
	}
	return out->manufacturer[0] && out->model[0] ? QST_OK : QST_ERR_DATA;
}

/* Strict: the whole (trimmed) text is one number, finite. */
static int parse_number_n(const char *s, size_t len, double *out)
{
	trim(&s, &len);
	if (len == 0 || len > 40)
		return QST_ERR_DATA;
	char buf[48];
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strspn(buf, "+-.0123456789eE") != len)
		return QST_ERR_DATA; /* no "inf", "nan", hex */
	char *end;
	double v = strtod(buf, &end);
	if (end == buf || *end || !isfinite(v))
		return QST_ERR_DATA;
	*out = v;
	return QST_OK;
}

int qst_fgen_parse_number(const char *line, double *out)
{
	if (!line || !out)
		return QST_ERR_ARG;
	return parse_number_n(line, strlen(line), out);
}

static bool word_is(const char *s, size_t len, const char *word)
{
	if (strlen(word) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (toupper((unsigned char)s[i]) != word[i])
			return false;
	return true;
}

static int parse_bool_n(const char *s, size_t len, bool *out)
{
	trim(&s, &len);
	if (word_is(s, len, "1") || word_is(s, len, "ON"))
		*out = true;
	else if (word_is(s, len, "0") || word_is(s, len, "OFF"))
		*out = false;
	else
		return QST_ERR_DATA;
	return QST_OK;
}

int qst_fgen_parse_bool(const char *line, bool *out)
{
	if (!line || !out)
		return QST_ERR_ARG;
	return parse_bool_n(line, strlen(line), out);
}

/* -------------------------------------------------------- line parser */

void qst_fgen_parser_init(struct qst_fgen_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static bool end_line(struct qst_fgen_parser *p, char *line)
{
	bool got = false;
	if (p->corrupt) {
		p->dropped++;
		qst_dbg("dropped a corrupt line of %zu bytes", p->len);
	} else if (p->len > 0) {
		memcpy(line, p->line, p->len);
		line[p->len] = '\0';
		p->lines++;
		got = true;
	}
	p->len = 0;
	p->corrupt = false;
	return got;
}

size_t qst_fgen_parser_feed(struct qst_fgen_parser *p, const uint8_t *buf,
			    size_t len, char *line, bool *got)
{
	*got = false;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = buf[i];
		if (b == '\n') {
			if (end_line(p, line)) {
				*got = true;
				return i + 1;
			}
		} else if (b == '\r' || p->corrupt) {
			continue; /* CR LF endings; skip the rest of a bad line */
		} else if (b < 0x20 || b >= 0x7f || p->len + 1 >= sizeof(p->line)) {
			p->corrupt = true;
		} else {
			p->line[p->len++] = (char)b;
		}
	}
	return len;
}

/* ----------------------------------------------------- command parser */

/* A header node in short or long form, with an optional channel "1". */
static bool node_is(const char *node, size_t len, const char *shrt,
		    const char *lng, bool channel)
{
	if (channel && len > 0 && node[len - 1] == '1')
		len--;
	return word_is(node, len, shrt) || word_is(node, len, lng);
}

struct header {
	const char *node[4];
	size_t len[4];
	int n;
	bool query;
};

static int split_header(const char *h, size_t len, struct header *hd)
{
	memset(hd, 0, sizeof(*hd));
	if (len > 0 && h[len - 1] == '?') {
		hd->query = true;
		len--;
	}
	if (len > 0 && h[0] == ':') {
		h++;
		len--;
	}
	while (len > 0) {
		if (hd->n == 4)
			return QST_ERR_DATA;
		const char *colon = memchr(h, ':', len);
		size_t n = colon ? (size_t)(colon - h) : len;
		hd->node[hd->n] = h;
		hd->len[hd->n++] = n;
		h += n + (colon ? 1 : 0);
		len -= n + (colon ? 1 : 0);
	}
	/* Rigol and two-channel units put SOURce1: in front. */
	if (hd->n > 1 && node_is(hd->node[0], hd->len[0], "SOUR", "SOURCE", true)) {
		memmove(hd->node, hd->node + 1, 3 * sizeof(hd->node[0]));
		memmove(hd->len, hd->len + 1, 3 * sizeof(hd->len[0]));
		hd->n--;
	}
	return QST_OK;
}

static bool hd_is(const struct header *hd, int i, const char *shrt,
		  const char *lng)
{
	return i < hd->n && node_is(hd->node[i], hd->len[i], shrt, lng,
				    i == 0 && strcmp(shrt, "OUTP") == 0);
}

static enum qst_fgen_cmd_kind common_kind(const char *h, size_t len)
{
	if (word_is(h, len, "*IDN?"))
		return QST_FGEN_IDN_Q;
	if (word_is(h, len, "*RST"))
		return QST_FGEN_RST;
	if (word_is(h, len, "*CLS"))
		return QST_FGEN_CLS;
	if (word_is(h, len, "*OPC?"))
		return QST_FGEN_OPC_Q;
	if (word_is(h, len, "*OPC"))
		return QST_FGEN_OPC;
	return QST_FGEN_UNKNOWN;
}

static enum qst_fgen_cmd_kind volt_kind(const struct header *hd)
{
	if (hd->n == 1)
		return hd->query ? QST_FGEN_VOLT_Q : QST_FGEN_VOLT;
	if (hd->n == 2 && hd_is(hd, 1, "OFFS", "OFFSET"))
		return hd->query ? QST_FGEN_OFFSET_Q : QST_FGEN_OFFSET;
	if (hd->n == 2 && hd_is(hd, 1, "UNIT", "UNIT") && !hd->query)
		return QST_FGEN_VOLT_UNIT;
	return QST_FGEN_UNKNOWN;
}

static enum qst_fgen_cmd_kind header_kind(const struct header *hd)
{
	if (hd_is(hd, 0, "APPL", "APPLY")) {
		if (hd->n == 1 && hd->query)
			return QST_FGEN_APPLY_Q;
		if (hd->n == 2 && !hd->query && hd_is(hd, 1, "SIN", "SINUSOID"))
			return QST_FGEN_APPLY_SIN;
	} else if (hd_is(hd, 0, "FREQ", "FREQUENCY") && hd->n == 1) {
		return hd->query ? QST_FGEN_FREQ_Q : QST_FGEN_FREQ;
	} else if (hd_is(hd, 0, "VOLT", "VOLTAGE")) {
		return volt_kind(hd);
	} else if (hd_is(hd, 0, "OUTP", "OUTPUT")) {
		if (hd->n == 1)
			return hd->query ? QST_FGEN_OUTPUT_Q : QST_FGEN_OUTPUT;
		if (hd->n == 2 && !hd->query && hd_is(hd, 1, "LOAD", "LOAD"))
			return QST_FGEN_LOAD;
	} else if (hd_is(hd, 0, "SYST", "SYSTEM") && hd->n == 2 && hd->query &&
		   hd_is(hd, 1, "ERR", "ERROR")) {
		return QST_FGEN_ERROR_Q;
	}
	return QST_FGEN_UNKNOWN;
}

/* Parameters: numbers, or one word (ON/OFF, VPP/VRMS, INF). */
static int parse_params(const char *s, size_t len, struct qst_fgen_cmd *c)
{
	trim(&s, &len);
	while (len > 0) {
		const char *comma = memchr(s, ',', len);
		size_t n = comma ? (size_t)(comma - s) : len;
		const char *p = s;
		size_t plen = n;
		trim(&p, &plen);
		if (c->n_args == QST_FGEN_MAX_ARGS)
			return QST_ERR_DATA;
		if (parse_number_n(p, plen, &c->args[c->n_args]) == QST_OK) {
			c->n_args++;
		} else if (c->n_args == 0 && !c->word[0] && plen > 0 &&
			   plen < sizeof(c->word)) {
			for (size_t i = 0; i < plen; i++)
				c->word[i] = (char)toupper((unsigned char)p[i]);
			c->word[plen] = '\0';
		} else {
			return QST_ERR_DATA;
		}
		s += n + (comma ? 1 : 0);
		len -= n + (comma ? 1 : 0);
		if (comma && len == 0)
			return QST_ERR_DATA; /* trailing comma */
	}
	return QST_OK;
}

/*
 * Exactly the parameters each header takes: a word may be followed by
 * numbers in parse_params (e.g. "OUTP OFF,1"), which no header here
 * accepts, so a word-taking header must have no numbers and a
 * number-taking one no word.
 */
static int check_params(struct qst_fgen_cmd *c)
{
	bool word = c->word[0] != '\0';
	switch (c->kind) {
	case QST_FGEN_APPLY_SIN:
		return c->n_args >= 2 && !word ? QST_OK : QST_ERR_DATA;
	case QST_FGEN_FREQ:
	case QST_FGEN_VOLT:
	case QST_FGEN_OFFSET:
		return c->n_args == 1 && !word ? QST_OK : QST_ERR_DATA;
	case QST_FGEN_VOLT_UNIT:
		return c->n_args == 0 && (strcmp(c->word, "VPP") == 0 ||
					  strcmp(c->word, "VRMS") == 0) ?
			       QST_OK : QST_ERR_DATA;
	case QST_FGEN_OUTPUT:
		if (c->n_args == 1 && !word &&
		    (c->args[0] == 0 || c->args[0] == 1)) {
			c->flag = c->args[0] == 1;
			return QST_OK;
		}
		if (c->n_args != 0)
			return QST_ERR_DATA;
		return parse_bool_n(c->word, strlen(c->word), &c->flag);
	case QST_FGEN_LOAD:
		return (c->n_args == 1 && !word) ||
			       (c->n_args == 0 && strcmp(c->word, "INF") == 0) ?
			       QST_OK : QST_ERR_DATA;
	default:
		return c->n_args == 0 && !c->word[0] ? QST_OK : QST_ERR_DATA;
	}
}

int qst_fgen_parse_command(const char *line, struct qst_fgen_cmd *out)
{
	if (!line || !out)
		return QST_ERR_ARG;
	memset(out, 0, sizeof(*out));
	const char *s = line;
	size_t len = strlen(line);
	trim(&s, &len);
	size_t hlen = 0;
	while (hlen < len && !isspace((unsigned char)s[hlen]))
		hlen++;
	if (hlen == 0)
		return QST_ERR_DATA;
	if (s[0] == '*') {
		out->kind = common_kind(s, hlen);
	} else {
		struct header hd;
		if (split_header(s, hlen, &hd) < 0)
			return QST_ERR_DATA;
		out->kind = header_kind(&hd);
	}
	if (out->kind == QST_FGEN_UNKNOWN)
		return QST_OK;
	int ret = parse_params(s + hlen, len - hlen, out);
	return ret < 0 ? ret : check_params(out);
}
