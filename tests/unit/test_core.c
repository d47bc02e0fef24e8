/*
 * Unit tests for station/core: errors, logger, clock, SHA-256, RNG, files.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qst_core.h"

#define LOG_PREFIX "test: "

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(qst_strerror_name(QST_ERR_LIMIT), "QST_ERR_LIMIT");
	assert_string_equal(qst_strerror_name(QST_ERR_CHECKSUM),
			    "QST_ERR_CHECKSUM");
	assert_string_equal(qst_strerror_name(QST_OK), "QST_OK");
	assert_string_equal(qst_strerror(QST_ERR_LIMIT),
			    "refused by the safety supervisor");
	assert_string_equal(qst_strerror_name(-999), "QST_ERR_UNKNOWN");
	assert_non_null(qst_strerror(-999));
	for (int e = QST_OK; e >= QST_ERR_NOSPACE; e--)
		assert_string_not_equal(qst_strerror_name(e),
					"QST_ERR_UNKNOWN");
}

struct captured {
	int count;
	enum qst_log_level level;
	char prefix[32];
	char message[128];
};

static void capture_handler(enum qst_log_level level, const char *prefix,
			    const char *message, void *user)
{
	struct captured *c = user;
	c->count++;
	c->level = level;
	snprintf(c->prefix, sizeof(c->prefix), "%s", prefix);
	snprintf(c->message, sizeof(c->message), "%s", message);
}

static void test_log_levels_and_handler(void **state)
{
	(void)state;
	struct captured c = { 0 };
	enum qst_log_level saved = qst_log_get_level();
	qst_log_set_handler(capture_handler, &c);

	qst_log_set_level(QST_LOG_WARN);
	qst_info("hidden %d", 1);
	assert_int_equal(c.count, 0);
	qst_warn("shown %d\n", 42);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.level, QST_LOG_WARN);
	assert_string_equal(c.prefix, "test: ");
	assert_string_equal(c.message, "shown 42"); /* newline dropped */

	qst_log_set_level(QST_LOG_NONE);
	qst_err("nothing");
	assert_int_equal(c.count, 1);

	qst_log_set_level(QST_LOG_SPEW);
	qst_spew("spew");
	assert_int_equal(c.count, 2);

	qst_log_set_handler(NULL, NULL);
	qst_log_set_level(saved);
}

static void test_log_env(void **state)
{
	(void)state;
	enum qst_log_level saved = qst_log_get_level();
	setenv("QST_LOG", "debug", 1);
	qst_log_init_from_env();
	assert_int_equal(qst_log_get_level(), QST_LOG_DEBUG);
	setenv("QST_LOG", "ERROR", 1);
	qst_log_init_from_env();
	assert_int_equal(qst_log_get_level(), QST_LOG_ERR);
	setenv("QST_LOG", "3", 1);
	qst_log_init_from_env();
	assert_int_equal(qst_log_get_level(), QST_LOG_INFO);
	setenv("QST_LOG", "none", 1);
	qst_log_init_from_env();
	assert_int_equal(qst_log_get_level(), QST_LOG_NONE);
	/* Unknown value: level unchanged. */
	setenv("QST_LOG", "loud", 1);
	qst_log_init_from_env();
	assert_int_equal(qst_log_get_level(), QST_LOG_NONE);
	unsetenv("QST_LOG");
	qst_log_set_level(saved);
}

static void test_clock_virtual(void **state)
{
	(void)state;
	struct qst_clock c;
	qst_clock_init(&c, QST_CLOCK_VIRTUAL);
	assert_int_equal(qst_clock_now(&c), 0);
	assert_true(c.origin_utc_ns > INT64_C(1600000000) * QST_NS_PER_S);
	qst_clock_advance_to(&c, 5 * QST_NS_PER_S);
	assert_int_equal(qst_clock_now(&c), 5 * QST_NS_PER_S);
	qst_clock_advance_to(&c, 1 * QST_NS_PER_S); /* never backwards */
	assert_int_equal(qst_clock_now(&c), 5 * QST_NS_PER_S);
	qst_clock_sleep_until(&c, 3600 * QST_NS_PER_S);
	assert_int_equal(qst_clock_now(&c), 3600 * QST_NS_PER_S);
}

static void test_clock_real(void **state)
{
	(void)state;
	struct qst_clock c;
	qst_clock_init(&c, QST_CLOCK_REAL);
	int64_t a = qst_clock_now(&c);
	assert_true(a >= 0);
	qst_clock_sleep_until(&c, a + 2 * QST_NS_PER_MS);
	int64_t b = qst_clock_now(&c);
	/* Ordering only; no wall-clock duration assertions. */
	assert_true(b >= a + 2 * QST_NS_PER_MS);
	qst_clock_advance_to(&c, INT64_C(1000) * QST_NS_PER_S); /* no-op */
	assert_true(qst_clock_now(&c) < INT64_C(1000) * QST_NS_PER_S);
}

static void test_time_conversions(void **state)
{
	(void)state;
	assert_int_equal(qst_s_to_ns(1.5), INT64_C(1500000000));
	assert_int_equal(qst_s_to_ns(-0.25), INT64_C(-250000000));
	assert_true(fabs(qst_ns_to_s(INT64_C(2500000000)) - 2.5) < 1e-12);
}

static void test_format_utc(void **state)
{
	(void)state;
	char buf[40];
	/* 2026-11-25T06:22:01Z = 1795587721 s since the epoch. */
	int64_t ns = INT64_C(1795587721) * QST_NS_PER_S + 123456789;
	qst_format_utc(ns, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-25T06:22:01.123456Z");
	qst_format_utc(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
	char small[8];
	qst_format_utc(ns, small, sizeof(small));
	assert_string_equal(small, "2026-11"); /* truncated, terminated */
}

static void test_sha256_vectors(void **state)
{
	(void)state;
	char hex[65];
	/* FIPS 180-2 Appendix B test vectors. */
	qst_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	const char *m448 =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	qst_sha256_hex(m448, strlen(m448), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
				 "a33ce45964ff2167f6ecedd419db06c1");
	qst_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
				 "27ae41e4649b934ca495991b7852b855");
}

static void test_sha256_million_a(void **state)
{
	(void)state;
	struct qst_sha256 ctx;
	uint8_t d[32];
	char chunk[1000];
	memset(chunk, 'a', sizeof(chunk));
	qst_sha256_init(&ctx);
	/* Odd split sizes exercise the partial-block path. */
	qst_sha256_update(&ctx, chunk, 7);
	for (int i = 0; i < 999; i++)
		qst_sha256_update(&ctx, chunk, 1000);
	qst_sha256_update(&ctx, chunk, 993);
	qst_sha256_final(&ctx, d);
	static const uint8_t want[32] = {
		0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92,
		0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
		0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e,
		0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0,
	};
	assert_memory_equal(d, want, 32);
}

static void test_sha256_padding_edges(void **state)
{
	(void)state;
	/* 55, 56 and 64 bytes straddle the length field; compare the
	 * incremental API against the one-shot one. */
	char buf[130];
	memset(buf, 'x', sizeof(buf));
	size_t lens[] = { 55, 56, 63, 64, 65, 119, 120, 128 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char one[65], inc[65];
		qst_sha256_hex(buf, lens[i], one);
		struct qst_sha256 ctx;
		uint8_t d[32];
		qst_sha256_init(&ctx);
		for (size_t k = 0; k < lens[i]; k++)
			qst_sha256_update(&ctx, buf + k, 1);
		qst_sha256_final(&ctx, d);
		for (int j = 0; j < 32; j++)
			snprintf(inc + 2 * j, 3, "%02x", d[j]);
		assert_string_equal(one, inc);
	}
	char hex[65];
	/* sha256 of 56 'x' bytes, from an independent tool (sha256sum). */
	qst_sha256_hex(buf, 56, hex);
	assert_string_equal(hex, "04c26261370ee7541549d16dee320c72"
				 "3e3fd14671e66a099afe0a377c16888e");
}

static void test_rng_reproducible(void **state)
{
	(void)state;
	struct qst_rng a, b, c;
	qst_rng_seed(&a, 42);
	qst_rng_seed(&b, 42);
	qst_rng_seed(&c, 43);
	int differ = 0;
	for (int i = 0; i < 100; i++) {
		uint64_t x = qst_rng_next(&a);
		assert_true(x == qst_rng_next(&b));
		if (x != qst_rng_next(&c))
			differ++;
	}
	assert_true(differ > 90);
	/* splitmix64(0) first output, a published reference value. */
	struct qst_rng z;
	qst_rng_seed(&z, 0);
	assert_true(z.s[0] == UINT64_C(0xe220a8397b1dcdaf));
}

static void test_rng_known_stream(void **state)
{
	(void)state;
	/* xoshiro256** with state {1,2,3,4}: first output is
	 * rotl(2*5, 7)*9 = 11520, second 0, third 1509978240. */
	struct qst_rng r = { { 1, 2, 3, 4 } };
	assert_true(qst_rng_next(&r) == UINT64_C(11520));
	assert_true(qst_rng_next(&r) == UINT64_C(0));
	assert_true(qst_rng_next(&r) == UINT64_C(1509978240));
}

static void test_rng_distributions(void **state)
{
	(void)state;
	struct qst_rng r;
	qst_rng_seed(&r, 7);
	const int n = 200000;
	double sum = 0, sumsq = 0;
	for (int i = 0; i < n; i++) {
		double u = qst_rng_uniform(&r);
		assert_true(u >= 0.0 && u < 1.0);
		sum += u;
	}
	assert_true(fabs(sum / n - 0.5) < 0.01);
	sum = 0;
	for (int i = 0; i < n; i++) {
		double x = qst_rng_normal(&r, 10.0, 2.0);
		sum += x;
		sumsq += x * x;
	}
	double mean = sum / n;
	double sd = sqrt(sumsq / n - mean * mean);
	assert_true(fabs(mean - 10.0) < 0.05);
	assert_true(fabs(sd - 2.0) < 0.05);
}

static void test_read_file(void **state)
{
	(void)state;
	char path[] = "/tmp/qst_test_core_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "line one\nline two\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);

	char *data = NULL;
	size_t len = 0;
	assert_int_equal(qst_read_file(path, &data, &len), QST_OK);
	assert_int_equal(len, strlen(text));
	assert_string_equal(data, text);
	free(data);
	unlink(path);

	assert_int_equal(qst_read_file(path, &data, &len), QST_ERR_NOTFOUND);
	assert_null(data);
	assert_int_equal(qst_read_file("/tmp", &data, &len), QST_ERR_IO);
	assert_int_equal(qst_read_file(NULL, &data, &len), QST_ERR_ARG);
}

static void test_read_file_large(void **state)
{
	(void)state;
	char path[] = "/tmp/qst_test_core_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char block[1000];
	memset(block, 'q', sizeof(block));
	for (int i = 0; i < 100; i++)
		assert_int_equal(write(fd, block, sizeof(block)), 1000);
	close(fd);
	char *data;
	size_t len;
	assert_int_equal(qst_read_file(path, &data, &len), QST_OK);
	assert_int_equal(len, 100000);
	assert_int_equal(data[99999], 'q');
	assert_int_equal(data[100000], '\0');
	free(data);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_log_levels_and_handler),
		cmocka_unit_test(test_log_env),
		cmocka_unit_test(test_clock_virtual),
		cmocka_unit_test(test_clock_real),
		cmocka_unit_test(test_time_conversions),
		cmocka_unit_test(test_format_utc),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_sha256_million_a),
		cmocka_unit_test(test_sha256_padding_edges),
		cmocka_unit_test(test_rng_reproducible),
		cmocka_unit_test(test_rng_known_stream),
		cmocka_unit_test(test_rng_distributions),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_read_file_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
