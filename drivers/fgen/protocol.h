/*
 * SCPI function generator driving a mini-shaker for vibration stimuli
 * (devices.md §5.1, APPLy subset): command encoding, the reply-line
 * parser, and the command parser the simulator uses. Pure: no I/O.
 *
 * The lines travel as newline-terminated SCPI text. On a real generator
 * they ride in USB-TMC bulk transfers with the 12-byte class header
 * (devices.md, "USB-TMC framing"), or on RS-232 8N2 / a raw socket on
 * port 5025; that framing belongs to the transport, not here (USB-TMC:
 * drivers/usbtmc.c and drivers/transport_usb.c).
 */
#ifndef QST_DRIVERS_FGEN_PROTOCOL_H
#define QST_DRIVERS_FGEN_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"

/* Queries and plain commands (devices.md §5.1), each ends with "\n". */
#define QST_FGEN_CMD_IDN "*IDN?\n"
#define QST_FGEN_CMD_OPC "*OPC?\n"     /* "1" once pending operations finish */
#define QST_FGEN_CMD_CLS "*CLS\n"
#define QST_FGEN_CMD_RST "*RST\n"
#define QST_FGEN_CMD_UNIT_VPP "VOLT:UNIT VPP\n"
#define QST_FGEN_CMD_LOAD_HIGHZ "OUTP:LOAD INF\n" /* shaker amplifier input */
#define QST_FGEN_CMD_FREQ_Q "FREQ?\n"
#define QST_FGEN_CMD_VOLT_Q "VOLT?\n"
#define QST_FGEN_CMD_OUTP_Q "OUTP?\n"

/*
 * What the driver lets through to a shaker. The generators go far beyond
 * (MHz, 20 Vpp into high-Z); these bounds are chosen here: the audio band
 * a mini-shaker reproduces, and the 10 Vpp a shaker amplifier input takes.
 * VDT drives are 64–125 Hz (devices.md §5.1, qst-domain.md §2.8).
 */
#define QST_FGEN_FREQ_MAX_HZ 20000.0
#define QST_FGEN_AMPL_MAX_VPP 10.0

#define QST_FGEN_CMD_MAX 96
#define QST_FGEN_LINE_MAX 128

/* "APPL:SIN <hz>,<vpp>,0\n": a centred sine. QST_ERR_ARG outside bounds. */
int qst_fgen_enc_apply_sine(char *buf, size_t cap, double hz, double vpp);
/* "OUTP ON\n" / "OUTP OFF\n". */
int qst_fgen_enc_output(char *buf, size_t cap, bool on);

/* "<manufacturer>,<model>,<serial>,<firmware>" (IEEE 488.2 *IDN?). */
struct qst_fgen_idn {
	char manufacturer[64];
	char model[64];
	char serial[64];
	char firmware[64];
};
/* QST_ERR_DATA unless the line has the four comma-separated fields. */
int qst_fgen_parse_idn(const char *line, struct qst_fgen_idn *out);
/* A numeric reply (NR1/NR2/NR3, e.g. "+1.000000000000000E+02"). */
int qst_fgen_parse_number(const char *line, double *out);
/* A boolean reply: "1"/"0" or "ON"/"OFF". */
int qst_fgen_parse_bool(const char *line, bool *out);

/* ---------------------------------------------------- reply line parser */

struct qst_fgen_parser {
	char line[QST_FGEN_LINE_MAX];
	size_t len;
	bool corrupt;
	unsigned long lines;
	unsigned long dropped;
};

void qst_fgen_parser_init(struct qst_fgen_parser *p);
/*
 * Consume bytes until one non-empty line ends (LF; a CR before it is
 * dropped). Returns the bytes consumed and sets *got when line holds a
 * complete NUL-terminated line (cap >= QST_FGEN_LINE_MAX). A line with a
 * non-printable byte or too long is dropped; the parser resynchronises at
 * the next LF.
 */
size_t qst_fgen_parser_feed(struct qst_fgen_parser *p, const uint8_t *buf,
			    size_t len, char *line, bool *got);

/* ------------------------------------------ command parser (simulator) */

enum qst_fgen_cmd_kind {
	QST_FGEN_UNKNOWN = 0,
	QST_FGEN_IDN_Q,
	QST_FGEN_RST,
	QST_FGEN_CLS,
	QST_FGEN_OPC_Q,
	QST_FGEN_OPC,
	QST_FGEN_APPLY_SIN,  /* args: hz, amplitude, [offset] */
	QST_FGEN_APPLY_Q,
	QST_FGEN_FREQ,
	QST_FGEN_FREQ_Q,
	QST_FGEN_VOLT,
	QST_FGEN_VOLT_Q,
	QST_FGEN_OFFSET,
	QST_FGEN_OFFSET_Q,
	QST_FGEN_VOLT_UNIT,  /* word: VPP or VRMS */
	QST_FGEN_OUTPUT,     /* flag */
	QST_FGEN_OUTPUT_Q,
	QST_FGEN_LOAD,       /* word INF or arg ohms */
	QST_FGEN_ERROR_Q,    /* SYST:ERR? */
};

#define QST_FGEN_MAX_ARGS 4

struct qst_fgen_cmd {
	enum qst_fgen_cmd_kind kind;
	int n_args;
	double args[QST_FGEN_MAX_ARGS];
	bool flag;
	char word[8];
};

/*
 * One SCPI command line (without the newline), short or long forms,
 * any case, optional leading ':' and SOURce[1]: / OUTPut1 (Rigol).
 * QST_ERR_DATA for a malformed parameter, QST_OK with kind UNKNOWN for a
 * header this subset does not know.
 */
int qst_fgen_parse_command(const char *line, struct qst_fgen_cmd *out);

#endif
