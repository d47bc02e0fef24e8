/*
 * Machine-readable reports of /analysis: CSV and JSON. Numbers are written
 * unrounded (qst-domain.md §10.1 rounds for display only), in the shortest
 * form that reads back to the same double.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qst_report.h"
#include "report_internal.h"

#define LOG_PREFIX "report: "

/* Row i must be parameter i: everything below indexes by row. */
static bool rows_in_dfns_order(const struct qst_result res[QST_PARAM_COUNT])
{
	for (int i = 0; i < QST_PARAM_COUNT; i++)
		if ((int)res[i].param != i) {
			qst_err("result row %d holds parameter code %d", i,
				(int)res[i].param);
			return false;
		}
	return true;
}

/* Bit i of the /analysis `flags` column (QST_RES_* in qst_analysis.h). */
static const char *const result_flag_names[] = {
	"cutoff_reached", "bounded_value", "no_reference", "undefined",
	"ref_flagged", "not_z_scored", "not_done", "few_trials",
	"response_suspect",
};

#define N_RESULT_FLAGS (sizeof(result_flag_names) / sizeof(result_flag_names[0]))

const char *qst_result_flag_name(unsigned bit)
{
	return bit < N_RESULT_FLAGS ? result_flag_names[bit] : NULL;
}

const char *const *qst_result_flag_names(size_t *count)
{
	if (count)
		*count = N_RESULT_FLAGS;
	return result_flag_names;
}

/* Shortest of %.15g..%.17g that round-trips; "" for NaN/inf. */
static void format_number(double v, char *buf, size_t len)
{
	if (!isfinite(v)) {
		buf[0] = '\0';
		return;
	}
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, len, "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static int finish(FILE *f)
{
	if (fflush(f) != 0 || ferror(f)) {
		qst_err("cannot write the report");
		return QST_ERR_IO;
	}
	return QST_OK;
}

/* ----------------------------------------------------------------- CSV */

void qst_csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

static void csv_number(FILE *f, double v)
{
	char buf[40];
	format_number(v, buf, sizeof(buf));
	qst_csv_field(f, buf, false);
}

int qst_report_csv(FILE *f, const struct qst_result res[QST_PARAM_COUNT],
		   const struct qst_analysis_meta *meta)
{
	if (!f || !res || !rows_in_dfns_order(res))
		return QST_ERR_ARG;
	const char *ref_id = meta ? meta->ref_table_id : "";
	fputs("param,n,value_raw,unit,value_transformed,ref_mean,ref_sd,z,"
	      "abnormal,flags,stratum,ref_table_id\n", f);
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		const struct qst_result *r = &res[i];
		const struct qst_param_info *info = qst_param_info(r->param);
		fprintf(f, "%s,%d,", qst_param_name(r->param), r->n);
		csv_number(f, r->value_raw);
		qst_csv_field(f, info ? info->unit : "", false);
		csv_number(f, r->value_transformed);
		csv_number(f, r->ref_mean);
		csv_number(f, r->ref_sd);
		csv_number(f, r->z);
		fprintf(f, "%d,%u,", r->abnormal, r->flags);
		qst_csv_field(f, r->stratum, false);
		qst_csv_field(f, ref_id, true);
	}
	return finish(f);
}

/* ---------------------------------------------------------------- JSON */

int qst_utf8_seq_len(const unsigned char *s)
{
	int n;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* No overlong forms, no UTF-16 surrogates, nothing past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/*
 * A JSON string (RFC 8259 §7): valid UTF-8 passes through, controls are
 * escaped, and bytes that are not UTF-8 become U+FFFD so the output is
 * always valid JSON.
 */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : "");
	     *p; p++) {
		int n = qst_utf8_seq_len(p);
		if (n == 0) {
			fputs("\\ufffd", f);
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, (size_t)n, f);
			p += n - 1;
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void json_number(FILE *f, double v)
{
	char buf[40];
	format_number(v, buf, sizeof(buf));
	fputs(buf[0] ? buf : "null", f); /* JSON has no NaN */
}

static void json_key(FILE *f, const char *indent, const char *key)
{
	fputs(indent, f);
	json_string(f, key);
	fputs(": ", f);
}

static void json_flag_names(FILE *f, unsigned flags)
{
	int count = 0;
	fputc('[', f);
	for (unsigned b = 0; b < N_RESULT_FLAGS; b++) {
		if (!(flags & (1u << b)))
			continue;
		fputs(count++ ? ", " : "", f);
		json_string(f, result_flag_names[b]);
	}
	fputc(']', f);
}

static void json_metadata(FILE *f, const struct qst_analysis_meta *m)
{
	char sex[2] = { m->subject.sex, '\0' };
	const char *in = "    ";

	fputs("  \"metadata\": {\n", f);
	json_key(f, in, "subject_id"); json_string(f, m->subject_id);
	fputs(",\n", f);
	json_key(f, in, "sex"); json_string(f, sex);
	fputs(",\n", f);
	json_key(f, in, "age_years"); json_number(f, m->subject.age_years);
	fputs(",\n", f);
	json_key(f, in, "site"); json_string(f, m->subject.site);
	fputs(",\n", f);
	json_key(f, in, "side"); json_string(f, m->side);
	fputs(",\n", f);
	json_key(f, in, "protocol_name"); json_string(f, m->protocol_name);
	fputs(",\n", f);
	json_key(f, in, "session_start_utc");
	json_string(f, m->session_start_utc);
	fputs(",\n", f);
	json_key(f, in, "ref_table_id"); json_string(f, m->ref_table_id);
	fputs(",\n", f);
	json_key(f, in, "ref_table_sha256");
	json_string(f, m->ref_table_sha256);
	fputs(",\n", f);
	json_key(f, in, "formula_version"); json_string(f, m->formula_version);
	fputs("\n  },\n", f);
}

static void json_lg(FILE *f, const struct qst_result res[QST_PARAM_COUNT])
{
	int loss = 0, gain = 0;
	char code[8] = "", desc[192] = "";
	int missing = qst_lg_code(res, &loss, &gain, code);
	qst_lg_describe(res, desc, sizeof(desc));

	fprintf(f, "  \"lg_code\": ");
	json_string(f, code);
	fprintf(f, ",\n  \"lg_loss\": %d,\n  \"lg_gain\": %d,\n"
		"  \"lg_complete\": %s,\n  \"lg_description\": ", loss, gain,
		missing == 0 ? "true" : "false");
	json_string(f, desc);
	fputs(",\n  \"lg_not_assessed\": [", f);
	int count = 0;
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		if (!qst_lg_param_missing(res, (enum qst_param)i))
			continue;
		fputs(count++ ? ", " : "", f);
		json_string(f, qst_param_name((enum qst_param)i));
	}
	fputs("],\n", f);
}

static void json_row(FILE *f, const struct qst_result *r)
{
	const struct qst_param_info *info = qst_param_info(r->param);
	bool done = !(r->flags & QST_RES_NOT_DONE);

	fputs("    {\"param\": ", f);
	json_string(f, qst_param_name(r->param));
	fprintf(f, ", \"n\": %d, \"value_raw\": ", r->n);
	json_number(f, r->value_raw);
	fputs(", \"unit\": ", f);
	json_string(f, info ? info->unit : "");
	fputs(", \"value_transformed\": ", f);
	json_number(f, r->value_transformed);
	fputs(", \"ref_mean\": ", f);
	json_number(f, r->ref_mean);
	fputs(", \"ref_sd\": ", f);
	json_number(f, r->ref_sd);
	fputs(", \"z\": ", f);
	json_number(f, r->z);
	fprintf(f, ", \"abnormal\": %d, \"flags\": %u, \"flag_names\": ",
		r->abnormal, r->flags);
	json_flag_names(f, r->flags);
	fputs(", \"stratum\": ", f);
	json_string(f, r->stratum);
	fputs(", \"verdict\": ", f);
	json_string(f, done ? qst_result_verdict(r) : "not done");
	fputc('}', f);
}

int qst_report_json(FILE *f, const struct qst_result res[QST_PARAM_COUNT],
		    const struct qst_analysis_meta *meta)
{
	return qst_report_json_indices(f, res, meta, NULL, 0);
}

int qst_report_json_indices(FILE *f,
			    const struct qst_result res[QST_PARAM_COUNT],
			    const struct qst_analysis_meta *meta,
			    const struct qst_index_row *rows, size_t n_rows)
{
	struct qst_analysis_meta empty;

	if (!f || !res || !rows_in_dfns_order(res))
		return QST_ERR_ARG;
	if (!meta) {
		memset(&empty, 0, sizeof(empty));
		empty.subject.age_years = NAN;
		meta = &empty;
	}
	fputs("{\n", f);
	json_metadata(f, meta);
	json_lg(f, res);
	fputs("  \"rows\": [\n", f);
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		json_row(f, &res[i]);
		fputs(i + 1 < QST_PARAM_COUNT ? ",\n" : "\n", f);
	}
	fputs("  ]", f);
	/* Only with a paradigm: DFNS-only output stays as it was. */
	if (n_rows > 0) {
		fputs(",\n  \"indices\": ", f);
		qst_index_rows_json(f, rows, n_rows);
	}
	fputs("\n}\n", f);
	return finish(f);
}
