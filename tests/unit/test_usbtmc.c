/*
 * USB-TMC bulk headers (drivers/usbtmc.c): the bytes of DEV_DEP_MSG_OUT
 * and REQUEST_DEV_DEP_MSG_IN, padding to 4, the bTag wrap, and replies
 * refused for a wrong tag, a short buffer or an oversized TransferSize.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "usbtmc.h"

static void test_out_header_bytes(void **state)
{
	(void)state;
	uint8_t b[64];
	/* "*IDN?\n": 6 bytes, padded to 8; devices.md "USB-TMC framing". */
	int n = qst_usbtmc_encode(b, sizeof(b), QST_USBTMC_DEV_DEP_MSG_OUT, 7,
				  "*IDN?\n", 6, true);
	assert_int_equal(n, 20);
	const uint8_t want[20] = { 0x01, 0x07, 0xf8, 0x00, 0x06, 0x00, 0x00,
				   0x00, 0x01, 0x00, 0x00, 0x00, '*',  'I',
				   'D',  'N',  '?',  '\n', 0x00, 0x00 };
	assert_memory_equal(b, want, sizeof(want));

	/* No EOM, a size above 255 lands in the second byte. */
	uint8_t big[300];
	memset(big, 'x', sizeof(big));
	uint8_t out[400];
	n = qst_usbtmc_encode(out, sizeof(out), QST_USBTMC_DEV_DEP_MSG_OUT, 255,
			      big, 300, false);
	assert_int_equal(n, 312);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(out[2], 0x00);
	assert_int_equal(out[4], 300 & 0xff);
	assert_int_equal(out[5], 300 >> 8);
	assert_int_equal(out[8], 0x00);
}

static void test_padding(void **state)
{
	(void)state;
	uint8_t b[64];
	const size_t want[] = { 12, 16, 16, 16, 16, 20, 20, 20, 20, 24 };
	for (size_t len = 0; len < 10; len++) {
		memset(b, 0xaa, sizeof(b));
		int n = qst_usbtmc_encode(b, sizeof(b), 1, 1, "abcdefghij",
					  len, true);
		assert_int_equal(n, (int)want[len]);
		assert_int_equal(qst_usbtmc_message_len(len), want[len]);
		for (int i = 12 + (int)len; i < n; i++)
			assert_int_equal(b[i], 0);
		assert_int_equal(b[n], 0xaa); /* nothing written beyond */
	}
	/* Too small a buffer, a zero tag: refused. */
	assert_int_equal(qst_usbtmc_encode(b, 19, 1, 1, "*IDN?\n", 6, true),
			 QST_ERR_ARG);
	assert_int_equal(qst_usbtmc_encode(b, sizeof(b), 1, 0, "x", 1, true),
			 QST_ERR_ARG);
}

static void test_request_bytes(void **state)
{
	(void)state;
	uint8_t b[12];
	assert_int_equal(qst_usbtmc_encode_request(b, sizeof(b), 3, 1024), 12);
	const uint8_t want[12] = { 0x02, 0x03, 0xfc, 0x00, 0x00, 0x04,
				   0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	assert_memory_equal(b, want, sizeof(want));
	assert_int_equal(qst_usbtmc_encode_request(b, 11, 3, 1024), QST_ERR_ARG);
}

static void test_tag_wrap(void **state)
{
	(void)state;
	assert_int_equal(qst_usbtmc_next_tag(0), 1);
	assert_int_equal(qst_usbtmc_next_tag(1), 2);
	assert_int_equal(qst_usbtmc_next_tag(254), 255);
	assert_int_equal(qst_usbtmc_next_tag(255), 1);
	uint8_t t = 0;
	for (int i = 0; i < 600; i++) {
		t = qst_usbtmc_next_tag(t);
		assert_true(t >= 1);
	}
	assert_int_equal(t, 600 % 255);
}

static void test_decode_reply(void **state)
{
	(void)state;
	uint8_t b[64];
	int n = qst_usbtmc_encode(b, sizeof(b), QST_USBTMC_DEV_DEP_MSG_IN, 9,
				  "1\n", 2, true);
	assert_int_equal(n, 16);
	const uint8_t *p;
	size_t len;
	bool eom;
	assert_int_equal(qst_usbtmc_decode_reply(b, (size_t)n, 9, &p, &len, &eom),
			 QST_OK);
	assert_int_equal(len, 2);
	assert_memory_equal(p, "1\n", 2);
	assert_true(eom);
	/* A device may leave the padding off: header + payload is enough. */
	assert_int_equal(qst_usbtmc_decode_reply(b, 14, 9, &p, &len, &eom),
			 QST_OK);

	/* Wrong tag, short, TransferSize beyond what arrived, bad ~bTag,
	 * wrong MsgID. */
	assert_int_equal(qst_usbtmc_decode_reply(b, (size_t)n, 8, &p, &len, &eom),
			 QST_ERR_DATA);
	assert_int_equal(qst_usbtmc_decode_reply(b, 11, 9, &p, &len, &eom),
			 QST_ERR_DATA);
	assert_int_equal(qst_usbtmc_decode_reply(b, 13, 9, &p, &len, &eom),
			 QST_ERR_DATA);
	b[4] = 40; /* oversize */
	assert_int_equal(qst_usbtmc_decode_reply(b, (size_t)n, 9, &p, &len, &eom),
			 QST_ERR_DATA);
	b[4] = 2;
	b[2] ^= 0x01;
	assert_int_equal(qst_usbtmc_decode_reply(b, (size_t)n, 9, &p, &len, &eom),
			 QST_ERR_DATA);
	b[2] ^= 0x01;
	b[0] = QST_USBTMC_DEV_DEP_MSG_OUT;
	assert_int_equal(qst_usbtmc_decode_reply(b, (size_t)n, 9, &p, &len, &eom),
			 QST_ERR_DATA);

	struct qst_usbtmc_header h;
	assert_int_equal(qst_usbtmc_decode_header(b, 12, &h), QST_OK);
	assert_int_equal(h.msg_id, 1);
	assert_int_equal(h.tag, 9);
	assert_int_equal(h.size, 2);
	assert_int_equal(h.attributes, QST_USBTMC_ATTR_EOM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_header_bytes),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_request_bytes),
		cmocka_unit_test(test_tag_wrap),
		cmocka_unit_test(test_decode_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
