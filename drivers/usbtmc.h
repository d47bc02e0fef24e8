/*
 * USB-TMC bulk message headers (USB Test & Measurement Class spec rev 1.0,
 * §3.2; shared devices.md "USB-TMC framing"). Pure: no I/O. The USB
 * transport wraps SCPI text in these so line-based drivers (fgen) see
 * plain reply text; the test emulator uses the same code from the device
 * side.
 *
 * Every bulk message starts with 12 bytes: MsgID, bTag, ~bTag, 0x00,
 * TransferSize (uint32 LE), bmTransferAttributes (bit0 EOM), three
 * reserved bytes (for REQUEST_DEV_DEP_MSG_IN: TermChar enable in bit1 and
 * the TermChar in byte 9). A DEV_DEP_MSG_OUT or DEV_DEP_MSG_IN payload is
 * padded with zeros to a multiple of 4 bytes.
 */
#ifndef QST_DRIVERS_USBTMC_H
#define QST_DRIVERS_USBTMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"

#define QST_USBTMC_HEADER_LEN 12
/* MsgID values (spec Table 2): 2 is REQUEST on bulk-OUT and the reply
 * on bulk-IN. */
#define QST_USBTMC_DEV_DEP_MSG_OUT 1
#define QST_USBTMC_REQUEST_DEV_DEP_MSG_IN 2
#define QST_USBTMC_DEV_DEP_MSG_IN 2
#define QST_USBTMC_ATTR_EOM 0x01
/* Interface class and subclass that mark a USB-TMC function. */
#define QST_USBTMC_CLASS 0xfe
#define QST_USBTMC_SUBCLASS 0x03

struct qst_usbtmc_header {
	uint8_t msg_id;
	uint8_t tag;
	uint32_t size;     /* TransferSize: payload bytes (or max for REQUEST) */
	uint8_t attributes;
};

/* The tag after tag: 1..255, wrapping 255 → 1 (0 is not a valid bTag). */
uint8_t qst_usbtmc_next_tag(uint8_t tag);

/* Bytes a message with len payload bytes takes: header, payload, pad. */
size_t qst_usbtmc_message_len(size_t len);

/*
 * A DEV_DEP_MSG_OUT (host) or DEV_DEP_MSG_IN (device) message: header,
 * payload, zero padding to 4. Returns its length, or QST_ERR_ARG for a
 * zero tag, a payload above UINT32_MAX or cap too small.
 */
int qst_usbtmc_encode(uint8_t *buf, size_t cap, uint8_t msg_id, uint8_t tag,
		      const void *payload, size_t len, bool eom);

/* A REQUEST_DEV_DEP_MSG_IN asking for up to max_len reply bytes; 12. */
int qst_usbtmc_encode_request(uint8_t *buf, size_t cap, uint8_t tag,
			      uint32_t max_len);

/* Any 12-byte header: QST_ERR_DATA when short or ~bTag does not match. */
int qst_usbtmc_decode_header(const uint8_t *buf, size_t len,
			     struct qst_usbtmc_header *out);

/*
 * A DEV_DEP_MSG_IN reply from bulk-IN to the request tagged tag: checks
 * MsgID, bTag and that TransferSize fits in what arrived. Sets *payload
 * (inside buf), *payload_len and *eom. QST_ERR_DATA otherwise.
 */
int qst_usbtmc_decode_reply(const uint8_t *buf, size_t len, uint8_t tag,
			    const uint8_t **payload, size_t *payload_len,
			    bool *eom);

#endif
