/*
 * The session journal: one text line per record,
 *     <type> <field> <field> ... *<crc32 hex>\n
 * Integers are decimal, doubles are C99 hex floats (%a) so that recovery
 * gives back the very same bits, strings are one token starting with a
 * quote (') with space, backslash and control bytes escaped. The CRC-32
 * (IEEE 802.3 polynomial, reflected) covers everything before " *".
 * Format reference: docs/hdf5-schema.md, "Journal".
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec_internal.h"

#define LOG_PREFIX "journal: "

static uint32_t crc_table[256];
static bool crc_table_ready;

static void crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	crc_table_ready = true;
}

uint32_t qst_crc32(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t c = 0xFFFFFFFFu;

	if (!crc_table_ready)
		crc_table_init();
	for (size_t i = 0; i < len; i++)
		c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/* ------------------------------------------------------------ strbuf */

static void strbuf_reserve(struct qst_strbuf *b, size_t extra)
{
	if (b->failed || b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return;
	}
	b->data = p;
	b->cap = cap;
}

static void strbuf_put(struct qst_strbuf *b, const char *s, size_t n)
{
	strbuf_reserve(b, n);
	if (b->failed)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void strbuf_printf(struct qst_strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void strbuf_printf(struct qst_strbuf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		strbuf_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n
							     : sizeof(tmp) - 1);
}

void qst_strbuf_free(struct qst_strbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void qst_strbuf_reset(struct qst_strbuf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data)
		b->data[0] = '\0';
}

/* ------------------------------------------------------------- fields */

void qst_jl_begin(struct qst_strbuf *b, const char *type)
{
	b->line_start = b->len;
	strbuf_put(b, type, strlen(type));
}

void qst_jl_i64(struct qst_strbuf *b, int64_t v)
{
	strbuf_printf(b, " %" PRId64, v);
}

void qst_jl_f64(struct qst_strbuf *b, double v)
{
	strbuf_printf(b, " %a", v);
}

void qst_jl_strn(struct qst_strbuf *b, const char *s, size_t len)
{
	strbuf_put(b, " '", 2);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case ' ': strbuf_put(b, "\\s", 2); break;
		case '\\': strbuf_put(b, "\\\\", 2); break;
		case '\n': strbuf_put(b, "\\n", 2); break;
		case '\r': strbuf_put(b, "\\r", 2); break;
		case '\t': strbuf_put(b, "\\t", 2); break;
		default:
			if (c < 0x20 || c == 0x7F)
				strbuf_printf(b, "\\x%02x", c);
			else
				strbuf_put(b, (const char *)&c, 1);
		}
	}
}

void qst_jl_str(struct qst_strbuf *b, const char *s)
{
	qst_jl_strn(b, s ? s : "", s ? strlen(s) : 0);
}

void qst_jl_end(struct qst_strbuf *b)
{
	if (b->failed)
		return;
	uint32_t crc = qst_crc32(b->data + b->line_start, b->len - b->line_start);
	strbuf_printf(b, " *%08" PRIx32 "\n", crc);
}

/* ------------------------------------------------------------ records */

static void meta_str(struct qst_strbuf *b, const char *key, const char *v)
{
	qst_jl_begin(b, "meta");
	qst_jl_str(b, key);
	qst_jl_str(b, v);
	qst_jl_end(b);
}

static void meta_i64(struct qst_strbuf *b, const char *key, int64_t v)
{
	qst_jl_begin(b, "metai");
	qst_jl_str(b, key);
	qst_jl_i64(b, v);
	qst_jl_end(b);
}

static void meta_f64(struct qst_strbuf *b, const char *key, double v)
{
	qst_jl_begin(b, "metaf");
	qst_jl_str(b, key);
	qst_jl_f64(b, v);
	qst_jl_end(b);
}

void qst_journal_meta(struct qst_strbuf *b, const struct qst_session_meta *m,
		      const char *created_utc)
{
	char sex[2] = { m->sex, '\0' };

	qst_jl_begin(b, QST_JOURNAL_MAGIC);
	qst_jl_i64(b, QST_JOURNAL_VERSION);
	qst_jl_str(b, QST_SCHEMA_NAME);
	qst_jl_str(b, QST_SCHEMA_VERSION);
	qst_jl_end(b);
	meta_str(b, "created_utc", created_utc);
	meta_str(b, "subject_id", m->subject_id);
	meta_str(b, "sex", sex);
	meta_i64(b, "age_years", m->age_years);
	meta_str(b, "site", m->site);
	meta_str(b, "side", m->side);
	meta_str(b, "operator_name", m->operator_name);
	meta_str(b, "protocol_name", m->protocol_name);
	meta_str(b, "protocol_version", m->protocol_version);
	meta_str(b, "protocol_path", m->protocol_path);
	meta_str(b, "protocol_sha256", m->protocol_sha256);
	meta_str(b, "software_version", m->software_version);
	meta_str(b, "station", m->station);
	meta_str(b, "clock_source", m->clock_source);
	meta_i64(b, "origin_utc_ns", m->origin_utc_ns);
	/* uint64 seed through int64 and back is bit-exact */
	meta_i64(b, "seed", (int64_t)m->seed);
	meta_f64(b, "thermode_area_cm2", m->thermode_area_cm2);
	meta_str(b, "participant_profile", m->participant_profile);
	for (int i = 0; i < m->n_sim_truth && i < QST_SIM_TRUTH_MAX; i++) {
		qst_jl_begin(b, "sim");
		qst_jl_str(b, m->sim_truth[i].key);
		qst_jl_f64(b, m->sim_truth[i].value);
		qst_jl_end(b);
	}
	/* The script last: it is the longest line. */
	qst_jl_begin(b, "protocol");
	qst_jl_strn(b, m->protocol_text ? m->protocol_text : "",
		    m->protocol_text ? m->protocol_len : 0);
	qst_jl_end(b);
	qst_jl_begin(b, "begin");
	qst_jl_end(b);
}

void qst_journal_device(struct qst_strbuf *b, const struct qst_device_record *d)
{
	qst_jl_begin(b, "dev");
	qst_jl_str(b, d->role);
	qst_jl_str(b, d->driver);
	qst_jl_str(b, d->model);
	qst_jl_str(b, d->serial);
	qst_jl_str(b, d->firmware);
	qst_jl_str(b, d->transport);
	qst_jl_end(b);
}

void qst_journal_sample(struct qst_strbuf *b, const struct qst_temp_sample *s)
{
	qst_jl_begin(b, "s");
	qst_jl_i64(b, s->t_ns);
	qst_jl_f64(b, s->commanded_c);
	qst_jl_f64(b, s->measured_c);
	qst_jl_f64(b, s->neutral_c);
	for (int z = 0; z < QST_THERMODE_ZONES; z++)
		qst_jl_f64(b, s->zone_c[z]);
	qst_jl_end(b);
}

void qst_journal_pressure(struct qst_strbuf *b,
			  const struct qst_pressure_sample *s)
{
	qst_jl_begin(b, "p");
	qst_jl_i64(b, s->t_ns);
	qst_jl_f64(b, s->force_n);
	qst_jl_f64(b, s->kpa);
	qst_jl_end(b);
}

void qst_journal_rating(struct qst_strbuf *b, const struct qst_rating_sample *s)
{
	qst_jl_begin(b, "r");
	qst_jl_i64(b, s->t_ns);
	qst_jl_f64(b, s->value);
	qst_jl_i64(b, s->raw);
	qst_jl_end(b);
}

void qst_journal_event(struct qst_strbuf *b, const struct qst_event_record *e)
{
	qst_jl_begin(b, "e");
	qst_jl_i64(b, e->t_ns);
	qst_jl_i64(b, e->code);
	qst_jl_i64(b, e->source);
	qst_jl_i64(b, e->trial);
	qst_jl_f64(b, e->value);
	qst_jl_f64(b, e->value2);
	qst_jl_str(b, e->message);
	qst_jl_end(b);
}

void qst_journal_trial(struct qst_strbuf *b, const struct qst_trial_record *t)
{
	qst_jl_begin(b, "t");
	qst_jl_i64(b, t->trial_id);
	qst_jl_i64(b, t->test);
	qst_jl_i64(b, t->repetition);
	qst_jl_i64(b, t->direction);
	qst_jl_i64(b, t->t_start_ns);
	qst_jl_i64(b, t->t_stop_ns);
	qst_jl_i64(b, t->t_onset_ns);
	qst_jl_i64(b, t->t_response_ns);
	qst_jl_f64(b, t->baseline_c);
	qst_jl_f64(b, t->rate_c_s);
	qst_jl_f64(b, t->return_rate_c_s);
	qst_jl_f64(b, t->cutoff_c);
	qst_jl_f64(b, t->value_measured);
	qst_jl_f64(b, t->value_commanded);
	qst_jl_f64(b, t->latency_s);
	qst_jl_f64(b, t->device_rt_s);
	qst_jl_i64(b, t->key);
	qst_jl_i64(b, t->quality);
	qst_jl_i64(b, t->flags);
	qst_jl_end(b);
}

void qst_journal_close(struct qst_strbuf *b, bool complete)
{
	qst_jl_begin(b, "close");
	qst_jl_i64(b, complete ? 1 : 0);
	qst_jl_end(b);
}
