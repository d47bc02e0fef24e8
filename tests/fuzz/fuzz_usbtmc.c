/*
 * USB-TMC bulk message headers (drivers/usbtmc.h; devices.md "USB-TMC
 * framing"). The first input byte is the bTag the host is waiting for,
 * the second selects EOM for the round trip, the rest is what bulk-IN
 * delivered. Checks: a decoded reply's payload lies inside the input,
 * right after the header, with the header's TransferSize as its length
 * and the header's tag and MsgID; and the rest, sent as a DEV_DEP_MSG_IN
 * payload, encodes to a padded message that decodes back to itself.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "../../drivers/usbtmc.h"

#define MAX_PAYLOAD 4096

static uint8_t msg[QST_USBTMC_HEADER_LEN + MAX_PAYLOAD + 4];

static void check_decode(const uint8_t *buf, size_t len, uint8_t tag)
{
	struct qst_usbtmc_header h;
	const uint8_t *payload = NULL;
	size_t payload_len = 0;
	bool eom = false;

	int hret = qst_usbtmc_decode_header(buf, len, &h);
	FUZZ_CHECK(hret == QST_OK || hret == QST_ERR_DATA);
	if (hret == QST_OK) {
		FUZZ_CHECK(len >= QST_USBTMC_HEADER_LEN);
		FUZZ_CHECK(h.tag != 0 && (uint8_t)~h.tag == buf[2]);
	}
	int ret = qst_usbtmc_decode_reply(buf, len, tag, &payload,
					  &payload_len, &eom);
	FUZZ_CHECK(ret == QST_OK || ret == QST_ERR_DATA);
	if (ret != QST_OK)
		return;
	/* A reply is a valid header first. */
	FUZZ_CHECK(hret == QST_OK);
	FUZZ_CHECK(h.msg_id == QST_USBTMC_DEV_DEP_MSG_IN && h.tag == tag);
	FUZZ_CHECK(payload == buf + QST_USBTMC_HEADER_LEN);
	FUZZ_CHECK(payload_len == h.size);
	FUZZ_CHECK(payload_len <= len - QST_USBTMC_HEADER_LEN);
	FUZZ_CHECK(eom == ((h.attributes & QST_USBTMC_ATTR_EOM) != 0));
}

static void check_round_trip(const uint8_t *payload, size_t len, uint8_t tag,
			     bool eom)
{
	const uint8_t *back = NULL;
	size_t back_len = 0;
	bool back_eom = !eom;

	if (len > MAX_PAYLOAD)
		len = MAX_PAYLOAD;
	size_t want = qst_usbtmc_message_len(len);
	FUZZ_CHECK(want % 4 == 0 && want >= QST_USBTMC_HEADER_LEN + len &&
		   want < QST_USBTMC_HEADER_LEN + len + 4);
	/* One byte short of the whole message is refused, not overrun. */
	FUZZ_CHECK(qst_usbtmc_encode(msg, want - 1, QST_USBTMC_DEV_DEP_MSG_IN,
				     tag, payload, len, eom) == QST_ERR_ARG);
	int n = qst_usbtmc_encode(msg, sizeof(msg), QST_USBTMC_DEV_DEP_MSG_IN,
				  tag, payload, len, eom);
	if (tag == 0) {
		FUZZ_CHECK(n == QST_ERR_ARG);
		return;
	}
	FUZZ_CHECK(n >= 0 && (size_t)n == want);
	for (size_t i = QST_USBTMC_HEADER_LEN + len; i < want; i++)
		FUZZ_CHECK(msg[i] == 0);
	FUZZ_CHECK(qst_usbtmc_decode_reply(msg, want, tag, &back, &back_len,
					   &back_eom) == QST_OK);
	FUZZ_CHECK(back_len == len && back_eom == eom);
	FUZZ_CHECK(len == 0 || memcmp(back, payload, len) == 0);
	/* Another request's reply is not this one. */
	FUZZ_CHECK(qst_usbtmc_decode_reply(msg, want, qst_usbtmc_next_tag(tag),
					   &back, &back_len, &back_eom) ==
		   QST_ERR_DATA);
	/* A reply cut short of its TransferSize is refused. */
	if (len > 0)
		FUZZ_CHECK(qst_usbtmc_decode_reply(msg, QST_USBTMC_HEADER_LEN +
						   len - 1, tag, &back,
						   &back_len, &back_eom) ==
			   QST_ERR_DATA);

	/* The request header carries the tag and the size asked for. */
	struct qst_usbtmc_header h;
	uint32_t max_len = (uint32_t)len * 2654435761u;
	FUZZ_CHECK(qst_usbtmc_encode_request(msg, sizeof(msg), tag, max_len) ==
		   QST_USBTMC_HEADER_LEN);
	FUZZ_CHECK(qst_usbtmc_decode_header(msg, QST_USBTMC_HEADER_LEN, &h) ==
		   QST_OK);
	FUZZ_CHECK(h.msg_id == QST_USBTMC_REQUEST_DEV_DEP_MSG_IN &&
		   h.tag == tag && h.size == max_len && h.attributes == 0);
}

FUZZ_QUIET_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t tag = data[0];
	bool eom = data[1] & 1;
	const uint8_t *rest = data + 2;
	size_t len = size - 2;

	check_decode(rest, len, tag);
	check_round_trip(rest, len, tag, eom);
	/* The tag after any tag is a valid one. */
	uint8_t next = qst_usbtmc_next_tag(tag);
	FUZZ_CHECK(next != 0 && (tag == 255 || tag == 0 ? next == 1 :
				 next == tag + 1));
	return 0;
}
