/*
 * The paradigm indices as text for the operator, CSV and JSON (qst
 * analyze, qst report). Every row carries its variant's formula and sign
 * convention (qst-domain.md §6 "General rules"): the literature scores
 * these indices in several ways, and a bare number would be ambiguous.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qst_core.h"
#include "qst_paradigms.h"
#include "report_internal.h"

/* NaN is left empty. The operator reads 4 digits; CSV and JSON keep
 * what a double holds, for re-analysis. */
static void format_value(double v, char *buf, size_t len, int digits)
{
	/* + 0.0 turns a -0 (an inhibition-positive flip of 0) into 0. */
	if (isfinite(v))
		snprintf(buf, len, "%.*g", digits, v + 0.0);
	else if (len)
		buf[0] = '\0';
}

static const char *row_name(const struct qst_index_row *r)
{
	const struct qst_index_info *info = qst_index_info(r->ix.variant);
	return info ? info->name : "unknown";
}

void qst_index_rows_print(FILE *f, const struct qst_index_row *rows,
			  size_t n)
{
	if (!f || !rows || n == 0)
		return;
	fputs("\nSensitization indices (qst-domain.md §6; docs/indices.md)\n",
	      f);
	fprintf(f, "  %-24s %3s %10s  %-13s %-22s %s\n", "index", "#", "value",
		"unit", "flags", "detail");
	for (size_t i = 0; i < n; i++) {
		const struct qst_index_row *r = &rows[i];
		char v[32], fl[128];
		format_value(r->ix.value, v, sizeof(v), 4);
		qst_index_flags_format(r->ix.flags, fl, sizeof(fl));
		fprintf(f, "  %-24s %3d %10s  %-13s %-22s %s\n", row_name(r),
			r->instance, v[0] ? v : "-", qst_index_row_unit(r),
			fl[0] ? fl : "-", r->detail);
	}
}

/* ----------------------------------------------------------------- CSV */

int qst_index_rows_csv(FILE *f, const struct qst_index_row *rows, size_t n)
{
	if (!f || (!rows && n))
		return QST_ERR_ARG;
	fputs("index,paradigm,instance,value,unit,flags,formula,"
	      "sign_convention,source,detail\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct qst_index_row *r = &rows[i];
		const struct qst_index_info *info = qst_index_info(r->ix.variant);
		char v[32], fl[128];
		format_value(r->ix.value, v, sizeof(v), 17);
		qst_index_flags_format(r->ix.flags, fl, sizeof(fl));
		qst_csv_field(f, row_name(r), false);
		qst_csv_field(f, qst_paradigm_name(r->paradigm), false);
		fprintf(f, "%d,", r->instance);
		qst_csv_field(f, v, false);
		qst_csv_field(f, qst_index_row_unit(r), false);
		qst_csv_field(f, fl, false);
		qst_csv_field(f, info ? info->formula : "", false);
		qst_csv_field(f, info ? info->sign : "", false);
		qst_csv_field(f, info ? info->source : "", false);
		qst_csv_field(f, r->detail, true);
	}
	return fflush(f) != 0 || ferror(f) ? QST_ERR_IO : QST_OK;
}

/* ---------------------------------------------------------------- JSON */

/* A JSON string; bytes that are not UTF-8 become U+FFFD. */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int n = qst_utf8_seq_len(p);
		if (n == 0) {
			fputs("\\ufffd", f);
		} else if (n > 1) {
			fwrite(p, 1, (size_t)n, f);
			p += n - 1;
		} else if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
		} else if (*p < 0x20) {
			fprintf(f, "\\u%04x", *p);
		} else {
			fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void json_flags(FILE *f, unsigned flags)
{
	int count = 0;
	fputc('[', f);
	for (unsigned bit = 0; bit < QST_IDX_FLAG_BITS; bit++) {
		if (!(flags & (1u << bit)))
			continue;
		fputs(count++ ? ", " : "", f);
		json_string(f, qst_index_flag_name(1u << bit));
	}
	fputc(']', f);
}

static void json_row(FILE *f, const struct qst_index_row *r)
{
	const struct qst_index_info *info = qst_index_info(r->ix.variant);
	char v[32];
	format_value(r->ix.value, v, sizeof(v), 17);
	fputs("    {\"index\": ", f);
	json_string(f, row_name(r));
	fputs(", \"paradigm\": ", f);
	json_string(f, qst_paradigm_name(r->paradigm));
	fprintf(f, ", \"instance\": %d, \"value\": %s, \"unit\": ",
		r->instance, v[0] ? v : "null");
	json_string(f, qst_index_row_unit(r));
	fprintf(f, ", \"flags\": %u, \"flag_names\": ", r->ix.flags);
	json_flags(f, r->ix.flags);
	fputs(", \"formula\": ", f);
	json_string(f, info ? info->formula : "");
	fputs(", \"sign_convention\": ", f);
	json_string(f, info ? info->sign : "");
	fputs(", \"source\": ", f);
	json_string(f, info ? info->source : "");
	fputs(", \"detail\": ", f);
	json_string(f, r->detail);
	fputc('}', f);
}

/* The array only ("[...]"): qst report places it in its object. */
int qst_index_rows_json(FILE *f, const struct qst_index_row *rows, size_t n)
{
	if (!f || (!rows && n))
		return QST_ERR_ARG;
	fputs("[\n", f);
	for (size_t i = 0; i < n; i++) {
		json_row(f, &rows[i]);
		fputs(i + 1 < n ? ",\n" : "\n", f);
	}
	fputs("  ]", f);
	return ferror(f) ? QST_ERR_IO : QST_OK;
}
