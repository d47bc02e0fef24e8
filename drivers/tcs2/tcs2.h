/*
 * QST.Lab TCS II: what the driver offers beyond struct qst_thermal_ops,
 * for a station that knows it drives a TCS II (docs/devices.md, tcs2).
 * Each call checks dev is a tcs2 device and refuses anything outside the
 * documented ranges before a byte goes out (devices.md §1.3).
 */
#ifndef QST_DRIVERS_TCS2_TCS2_H
#define QST_DRIVERS_TCS2_TCS2_H

#include <stdbool.h>

#include "qst_drivers.h"

/* How often poll() asks `Q` (and `P` when something is unverified). */
#define QST_TCS2_CHECK_INTERVAL_NS (5 * QST_NS_PER_S)

/*
 * `Sxxxxx`: which zones take part in the next stimulus (bit z = zone
 * z+1; 0x1f = all), then `P` to verify it.
 */
int qst_tcs2_set_zones(struct qst_dev *dev, unsigned zone_mask);

/*
 * `Csxxx` for one zone (1..5) or all (0), then `P` to verify it. Used
 * before `L` (the ramp op sets all zones with `C0`, so call this after
 * the ramp's own commands only for a stimulus started by hand).
 */
int qst_tcs2_set_zone_target(struct qst_dev *dev, int zone, double celsius);

/*
 * Quiet (`F`): the temperature stream stops, between and during
 * stimulations. Not quiet: `Oa` and `Ob` turn both on again (§1.3, §1.4).
 * While quiet the driver's only readback is what `E` returns, so ramps
 * start from the last one it saw.
 */
int qst_tcs2_set_quiet(struct qst_dev *dev, bool quiet);

/*
 * Ask `K` every interval_ms from poll() (0 stops), turning changes of the
 * probe's two buttons into QST_EV_BUTTON: key 1 = button 1 ("stim"), key
 * 2 = button 2 ("resp"). The device does not push them (§1.3).
 */
int qst_tcs2_set_button_poll(struct qst_dev *dev, int interval_ms);

/* Ask `P` now; a mismatch with what was set becomes QST_EV_DEVICE_FAULT. */
int qst_tcs2_verify(struct qst_dev *dev);

#endif
