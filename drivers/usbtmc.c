/*
 * USB-TMC bulk message headers (usbtmc.h; devices.md "USB-TMC framing",
 * USB-TMC rev 1.0 §3.2).
 */
#define LOG_PREFIX "usbtmc: "

#include <string.h>

#include "usbtmc.h"

uint8_t qst_usbtmc_next_tag(uint8_t tag)
{
	return tag >= 255 ? 1 : (uint8_t)(tag + 1);
}

size_t qst_usbtmc_message_len(size_t len)
{
	return QST_USBTMC_HEADER_LEN + ((len + 3) & ~(size_t)3);
}

static void put_header(uint8_t *buf, uint8_t msg_id, uint8_t tag,
		       uint32_t size, uint8_t attributes)
{
	memset(buf, 0, QST_USBTMC_HEADER_LEN);
	buf[0] = msg_id;
	buf[1] = tag;
	buf[2] = (uint8_t)~tag;
	buf[4] = (uint8_t)size;
	buf[5] = (uint8_t)(size >> 8);
	buf[6] = (uint8_t)(size >> 16);
	buf[7] = (uint8_t)(size >> 24);
	buf[8] = attributes;
}

int qst_usbtmc_encode(uint8_t *buf, size_t cap, uint8_t msg_id, uint8_t tag,
		      const void *payload, size_t len, bool eom)
{
	if (!buf || tag == 0 || (len > 0 && !payload) || len > UINT32_MAX)
		return QST_ERR_ARG;
	size_t total = qst_usbtmc_message_len(len);
	if (total > cap || total > INT32_MAX)
		return QST_ERR_ARG;
	put_header(buf, msg_id, tag, (uint32_t)len,
		   eom ? QST_USBTMC_ATTR_EOM : 0);
	if (len > 0)
		memcpy(buf + QST_USBTMC_HEADER_LEN, payload, len);
	memset(buf + QST_USBTMC_HEADER_LEN + len, 0,
	       total - QST_USBTMC_HEADER_LEN - len);
	return (int)total;
}

int qst_usbtmc_encode_request(uint8_t *buf, size_t cap, uint8_t tag,
			      uint32_t max_len)
{
	if (!buf || tag == 0 || cap < QST_USBTMC_HEADER_LEN)
		return QST_ERR_ARG;
	/* No TermChar: SCPI replies end with EOM, not a character. */
	put_header(buf, QST_USBTMC_REQUEST_DEV_DEP_MSG_IN, tag, max_len, 0);
	return QST_USBTMC_HEADER_LEN;
}

int qst_usbtmc_decode_header(const uint8_t *buf, size_t len,
			     struct qst_usbtmc_header *out)
{
	if (!buf || !out || len < QST_USBTMC_HEADER_LEN)
		return QST_ERR_DATA;
	if ((uint8_t)(buf[1] ^ buf[2]) != 0xff || buf[1] == 0)
		return QST_ERR_DATA;
	out->msg_id = buf[0];
	out->tag = buf[1];
	out->size = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 |
		    (uint32_t)buf[6] << 16 | (uint32_t)buf[7] << 24;
	out->attributes = buf[8];
	return QST_OK;
}

int qst_usbtmc_decode_reply(const uint8_t *buf, size_t len, uint8_t tag,
			    const uint8_t **payload, size_t *payload_len,
			    bool *eom)
{
	struct qst_usbtmc_header h;
	if (!payload || !payload_len || !eom)
		return QST_ERR_ARG;
	if (qst_usbtmc_decode_header(buf, len, &h) < 0)
		return QST_ERR_DATA;
	if (h.msg_id != QST_USBTMC_DEV_DEP_MSG_IN || h.tag != tag)
		return QST_ERR_DATA;
	if (h.size > len - QST_USBTMC_HEADER_LEN)
		return QST_ERR_DATA;
	*payload = buf + QST_USBTMC_HEADER_LEN;
	*payload_len = h.size;
	*eom = (h.attributes & QST_USBTMC_ATTR_EOM) != 0;
	return QST_OK;
}
