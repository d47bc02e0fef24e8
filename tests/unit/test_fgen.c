/*
 * SCPI function generator (vibration shaker): encoders, reply and command
 * parsers, the reply-line parser under every split, and the driver
 * against the simulator over a pipe on a virtual time loop (*OPC? barrier,
 * read-back verification).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../drivers/fgen/protocol.h"
#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_sim.h"

#define MS QST_NS_PER_MS
#define SEC QST_NS_PER_S

static void test_encoders(void **state)
{
	(void)state;
	char b[QST_FGEN_CMD_MAX];
	assert_int_equal(qst_fgen_enc_apply_sine(b, sizeof(b), 100, 1.5), 19);
	assert_string_equal(b, "APPL:SIN 100,1.5,0\n");
	assert_true(qst_fgen_enc_apply_sine(b, sizeof(b), 125.5, 0.02) > 0);
	assert_string_equal(b, "APPL:SIN 125.5,0.02,0\n");
	assert_true(qst_fgen_enc_output(b, sizeof(b), true) > 0);
	assert_string_equal(b, "OUTP ON\n");
	assert_true(qst_fgen_enc_output(b, sizeof(b), false) > 0);
	assert_string_equal(b, "OUTP OFF\n");
	const double bad[][2] = { { 0, 1 },     { -5, 1 },   { NAN, 1 },
				  { 20001, 1 }, { 100, 0 },  { 100, -1 },
				  { 100, 10.5 }, { 100, INFINITY } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(qst_fgen_enc_apply_sine(b, sizeof(b), bad[i][0],
							 bad[i][1]),
				 QST_ERR_ARG);
	assert_int_equal(qst_fgen_enc_apply_sine(b, 8, 100, 1), QST_ERR_ARG);
}

static void test_reply_parsers(void **state)
{
	(void)state;
	struct qst_fgen_idn idn;
	assert_int_equal(qst_fgen_parse_idn("Keysight Technologies,33511B,"
					    "MY52301234,3.05-1.19-2.00-52-00",
					    &idn), QST_OK);
	assert_string_equal(idn.manufacturer, "Keysight Technologies");
	assert_string_equal(idn.model, "33511B");
	assert_string_equal(idn.serial, "MY52301234");
	assert_string_equal(idn.firmware, "3.05-1.19-2.00-52-00");
	assert_int_equal(qst_fgen_parse_idn("RIGOL TECHNOLOGIES, DG1022 ,"
					    "DG1D1234,00.03", &idn), QST_OK);
	assert_string_equal(idn.model, "DG1022");
	const char *bad_idn[] = { "foo", "a,b,c", "a,b,c,d,e", ",b,c,d", "" };
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(qst_fgen_parse_idn(bad_idn[i], &idn), QST_ERR_DATA);

	double v;
	assert_int_equal(qst_fgen_parse_number("+1.000000000000000E+02", &v), QST_OK);
	assert_true(v == 100.0);
	assert_int_equal(qst_fgen_parse_number(" 1\r", &v), QST_OK);
	assert_true(v == 1.0);
	assert_int_equal(qst_fgen_parse_number("-2.5e-3", &v), QST_OK);
	assert_true(v == -2.5e-3);
	const char *bad_num[] = { "nan", "inf", "", "1,2", "0x10", "ON", "1V" };
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(qst_fgen_parse_number(bad_num[i], &v), QST_ERR_DATA);
	bool on;
	assert_int_equal(qst_fgen_parse_bool("1", &on), QST_OK);
	assert_true(on);
	assert_int_equal(qst_fgen_parse_bool("off", &on), QST_OK);
	assert_false(on);
	assert_int_equal(qst_fgen_parse_bool("2", &on), QST_ERR_DATA);
}

static void expect_cmd(const char *line, enum qst_fgen_cmd_kind kind,
		       int n_args, double a0, double a1)
{
	struct qst_fgen_cmd c;
	if (qst_fgen_parse_command(line, &c) != QST_OK)
		fail_msg("\"%s\" refused", line);
	if (c.kind != kind)
		fail_msg("\"%s\" parsed as %d, want %d", line, c.kind, kind);
	assert_int_equal(c.n_args, n_args);
	if (n_args > 0)
		assert_true(c.args[0] == a0);
	if (n_args > 1)
		assert_true(c.args[1] == a1);
}

/* The command shapes of devices.md §5.1's sources, and what is refused. */
static void test_command_parser(void **state)
{
	(void)state;
	expect_cmd("APPL:SIN 100,1.5,0", QST_FGEN_APPLY_SIN, 3, 100, 1.5);
	expect_cmd(":SOUR1:APPL:SIN 500,1.5,1,45", QST_FGEN_APPLY_SIN, 4, 500, 1.5);
	expect_cmd("apply:sinusoid 2000,1,0", QST_FGEN_APPLY_SIN, 3, 2000, 1);
	expect_cmd("APPL:SIN 2E3, 1", QST_FGEN_APPLY_SIN, 2, 2000, 1);
	expect_cmd("APPL?", QST_FGEN_APPLY_Q, 0, 0, 0);
	expect_cmd("FREQ 125", QST_FGEN_FREQ, 1, 125, 0);
	expect_cmd("SOURce:FREQuency?", QST_FGEN_FREQ_Q, 0, 0, 0);
	expect_cmd("VOLT 0.5", QST_FGEN_VOLT, 1, 0.5, 0);
	expect_cmd("VOLTAGE?", QST_FGEN_VOLT_Q, 0, 0, 0);
	expect_cmd("VOLT:OFFS 0", QST_FGEN_OFFSET, 1, 0, 0);
	expect_cmd("VOLT:UNIT VPP", QST_FGEN_VOLT_UNIT, 0, 0, 0);
	expect_cmd("OUTP:LOAD INF", QST_FGEN_LOAD, 0, 0, 0);
	expect_cmd("OUTP:LOAD 50", QST_FGEN_LOAD, 1, 50, 0);
	expect_cmd("SYST:ERR?", QST_FGEN_ERROR_Q, 0, 0, 0);
	expect_cmd("*IDN?", QST_FGEN_IDN_Q, 0, 0, 0);
	expect_cmd("*opc?", QST_FGEN_OPC_Q, 0, 0, 0);
	expect_cmd("*RST", QST_FGEN_RST, 0, 0, 0);
	expect_cmd("FOO:BAR 1", QST_FGEN_UNKNOWN, 0, 0, 0);
	expect_cmd("SOUR2:FREQ 5", QST_FGEN_UNKNOWN, 0, 0, 0);
	struct qst_fgen_cmd c;
	const char *on[] = { "OUTP ON", ":OUTP1 ON", "OUTPUT 1", "outp on" };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(qst_fgen_parse_command(on[i], &c), QST_OK);
		assert_int_equal(c.kind, QST_FGEN_OUTPUT);
		assert_true(c.flag);
	}
	assert_int_equal(qst_fgen_parse_command("OUTP OFF", &c), QST_OK);
	assert_false(c.flag);
	const char *bad[] = { "FREQ abc", "OUTP MAYBE", "APPL:SIN 100",
			      "APPL:SIN 100,", "VOLT:UNIT DBM", "FREQ 1,2",
			      "*IDN? 5", "", "FREQ nan",
			      /* a word, then numbers (found by fuzz_fgen):
			       * "OUTP OFF,1" switched the output on */
			      "OUTP OFF,1", "OUTP ON,5", "OUTP OFF,02,2,0",
			      "FREQ MAX,1", "VOLT:OFFS X,2", "VOLT:UNIT VPP,3",
			      "OUTP:LOAD INF,50" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (qst_fgen_parse_command(bad[i], &c) != QST_ERR_DATA)
			fail_msg("\"%s\" accepted", bad[i]);
}

/* ------------------------------------------------------- line parser */

static const char transcript[] =
	"qst,SIM-FGEN shaker driver,SIM-FG-0001,1.0\n"
	"1\r\n"
	"+1.250000000000000E+02\n"
	"\n"
	"\x01\x02 bad\n"
	"+2.000000000000000E+00\n"
	"0\n";
static const char *const transcript_lines[] = {
	"qst,SIM-FGEN shaker driver,SIM-FG-0001,1.0", "1",
	"+1.250000000000000E+02", "+2.000000000000000E+00", "0",
};
#define N_LINES 5

static size_t parse_cut(const uint8_t *msg, size_t len, size_t a, size_t b,
			char out[][QST_FGEN_LINE_MAX])
{
	struct qst_fgen_parser p;
	qst_fgen_parser_init(&p);
	size_t n = 0;
	size_t cuts[3] = { a, b, len };
	size_t from = 0;
	for (int c = 0; c < 3; c++) {
		size_t to = cuts[c];
		while (from < to) {
			bool got;
			size_t k = qst_fgen_parser_feed(&p, msg + from, to - from,
							out[n], &got);
			assert_true(k > 0);
			from += k;
			if (got)
				n++;
			assert_true(n < 16);
		}
	}
	assert_int_equal(p.dropped, 1);
	return n;
}

static void test_line_parser_every_split(void **state)
{
	(void)state;
	const uint8_t *msg = (const uint8_t *)transcript;
	size_t len = sizeof(transcript) - 1;
	char out[16][QST_FGEN_LINE_MAX];
	for (size_t a = 0; a <= len; a++) {
		for (size_t b = a; b <= len; b++) {
			size_t n = parse_cut(msg, len, a, b, out);
			assert_int_equal(n, N_LINES);
			for (size_t i = 0; i < N_LINES; i++)
				assert_string_equal(out[i], transcript_lines[i]);
		}
	}
}

/* ------------------------------------------------ driver + simulator */

#define MAX_EVENTS 256

struct rig {
	struct qst_transport *transport;
	int far_fd;
	struct qst_fgen_sim *sim;
	struct qst_dev dev;
	struct qst_event ev[MAX_EVENTS];
	size_t n_ev;
	int64_t now;
};

static void collect(const struct qst_event *ev, void *user)
{
	struct rig *r = user;
	assert_true(r->n_ev < MAX_EVENTS);
	r->ev[r->n_ev++] = *ev;
}

static void rig_pump(struct rig *r, int64_t t)
{
	if (r->sim)
		qst_fgen_sim_step(r->sim, t);
	uint8_t buf[512];
	for (;;) {
		ssize_t n = qst_transport_read(r->transport, buf, sizeof(buf), NULL);
		assert_true(n >= 0);
		if (n == 0)
			break;
		r->dev.driver->receive(&r->dev, buf, (size_t)n, t);
	}
	r->now = t;
}

static void rig_step(struct rig *r, int64_t end)
{
	int64_t t = qst_fgen_sim_next_due(r->sim);
	if (t <= r->now)
		t = r->now + 1000;
	rig_pump(r, t > end ? end : t);
}

static void rig_run_until(struct rig *r, int64_t end)
{
	while (r->now < end)
		rig_step(r, end);
}

/* Run until the driver has seen `count` more "1" replies to *OPC?. */
static int64_t run_until_opc(struct rig *r, size_t from, int count)
{
	int64_t deadline = r->now + SEC;
	while (r->now < deadline) {
		int seen = 0;
		for (size_t i = from; i < r->n_ev; i++)
			if (r->ev[i].type == QST_EV_DEVICE_TEXT &&
			    strcmp(r->ev[i].u.text, "1") == 0)
				seen++;
		if (seen >= count)
			return r->now;
		rig_step(r, deadline);
	}
	fail_msg("no *OPC? reply within 1 s");
	return -1;
}

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	assert_int_equal(qst_transport_pipe_open("fgen-test", &r->transport,
						 &r->far_fd), QST_OK);
	assert_int_equal(qst_fgen_sim_new(r->far_fd, 0, &r->sim), QST_OK);
	r->dev.driver = qst_driver_find("fgen");
	assert_non_null(r->dev.driver);
	assert_int_equal(r->dev.driver->dev_class, QST_DEV_VIBRATION);
	r->dev.transport = r->transport;
	r->dev.index = 3;
	r->dev.sink.fn = collect;
	r->dev.sink.user = r;
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;
	r->dev.driver->close(&r->dev);
	qst_transport_close(r->transport);
	qst_fgen_sim_free(r->sim);
	free(r);
	return 0;
}

static const struct qst_vibration_ops *vib(struct rig *r)
{
	return qst_dev_vibration(&r->dev);
}

static size_t count_type(const struct rig *r, enum qst_event_type type)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_ev; i++)
		n += r->ev[i].type == type;
	return n;
}

static void rig_open(struct rig *r)
{
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	rig_pump(r, 0);
	while (!r->dev.driver->ready(&r->dev) && r->now < SEC)
		rig_step(r, SEC);
	assert_true(r->dev.driver->ready(&r->dev));
}

static void test_open_identifies(void **state)
{
	struct rig *r = *state;
	assert_int_equal(vib(r)->set_sine(&r->dev, 100, 1), QST_ERR_STATE);
	rig_open(r);
	assert_string_equal(r->dev.info.model, "qst SIM-FGEN shaker driver");
	assert_string_equal(r->dev.info.serial, "SIM-FG-0001");
	assert_string_equal(r->dev.info.firmware, "1.0");
	assert_true(qst_fgen_sim_amplitude_vpp(r->sim) == 0.0);
	assert_true(qst_fgen_sim_frequency_hz(r->sim) == 1000.0);
	assert_int_equal(r->ev[0].device, 3);
}

/*
 * The barrier: APPL takes the simulated generator 20 ms; the *OPC? "1"
 * only comes once it has, and by then the read-backs agreed. A new sine
 * does not switch the shaker on by itself; OUTP ON does.
 */
static void test_sine_then_output_barrier(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	size_t from = r->n_ev;
	int64_t t0 = r->now;
	assert_int_equal(vib(r)->set_sine(&r->dev, 125.0, 2.0), QST_OK);
	rig_pump(r, t0);
	rig_run_until(r, t0 + 5 * MS);
	assert_true(qst_fgen_sim_frequency_hz(r->sim) == 1000.0); /* not yet */
	int64_t t_opc = run_until_opc(r, from, 1);
	assert_true(t_opc >= t0 + 20 * MS);
	assert_true(qst_fgen_sim_frequency_hz(r->sim) == 125.0);
	assert_true(qst_fgen_sim_amplitude_vpp(r->sim) == 0.0); /* still off */

	from = r->n_ev;
	assert_int_equal(vib(r)->output(&r->dev, true), QST_OK);
	rig_pump(r, r->now);
	run_until_opc(r, from, 2); /* OUTP? says 1 too */
	assert_true(qst_fgen_sim_amplitude_vpp(r->sim) == 2.0);
	assert_true(qst_fgen_sim_frequency_hz(r->sim) == 125.0);

	/* an amplitude step while on (a VDT ramp) keeps vibrating */
	from = r->n_ev;
	assert_int_equal(vib(r)->set_sine(&r->dev, 125.0, 0.25), QST_OK);
	rig_pump(r, r->now);
	run_until_opc(r, from, 1);
	assert_true(qst_fgen_sim_amplitude_vpp(r->sim) == 0.25);

	from = r->n_ev;
	assert_int_equal(vib(r)->output(&r->dev, false), QST_OK);
	rig_pump(r, r->now);
	run_until_opc(r, from, 1);
	assert_true(qst_fgen_sim_amplitude_vpp(r->sim) == 0.0);
	assert_int_equal(count_type(r, QST_EV_DEVICE_FAULT), 0);
}

static bool far_end_empty(struct rig *r)
{
	uint8_t b;
	ssize_t n = recv(r->far_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_refusals_send_nothing(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	assert_true(far_end_empty(r));
	assert_int_equal(vib(r)->set_sine(&r->dev, 0, 1), QST_ERR_ARG);
	assert_int_equal(vib(r)->set_sine(&r->dev, 100, 11), QST_ERR_ARG);
	assert_int_equal(vib(r)->set_sine(&r->dev, NAN, 1), QST_ERR_ARG);
	assert_true(far_end_empty(r));
}

/* A read-back that disagrees (the generator rounded or refused) is a fault. */
static void test_readback_mismatch_is_a_fault(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	/* Take the generator's place: answer the read-backs by hand. */
	qst_fgen_sim_step(r->sim, r->now);
	assert_int_equal(vib(r)->set_sine(&r->dev, 125.0, 2.0), QST_OK);
	char got[256] = { 0 };
	ssize_t n = recv(r->far_fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	assert_string_equal(got, "APPL:SIN 125,2,0\nOUTP OFF\nFREQ?\nVOLT?\n*OPC?\n");
	const char *answer = "+1.200000000000000E+02\n+2.000000000000000E+00\n1\n";
	assert_int_equal(send(r->far_fd, answer, strlen(answer), 0),
			 (ssize_t)strlen(answer));
	uint8_t buf[256];
	ssize_t k = qst_transport_read(r->transport, buf, sizeof(buf), NULL);
	assert_true(k > 0);
	r->dev.driver->receive(&r->dev, buf, (size_t)k, r->now);
	assert_int_equal(count_type(r, QST_EV_DEVICE_FAULT), 1);
	for (size_t i = 0; i < r->n_ev; i++)
		if (r->ev[i].type == QST_EV_DEVICE_FAULT)
			assert_non_null(strstr(r->ev[i].u.text, "frequency"));
}

int main(void)
{
	qst_log_init_from_env();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoders),
		cmocka_unit_test(test_reply_parsers),
		cmocka_unit_test(test_command_parser),
		cmocka_unit_test(test_line_parser_every_split),
		cmocka_unit_test_setup_teardown(test_open_identifies, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_sine_then_output_barrier,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_refusals_send_nothing,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_readback_mismatch_is_a_fault,
						rig_setup, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
