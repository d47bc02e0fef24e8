-- A station file (docs/station-config.md): what this station is, how the
-- lab writes subject IDs, safety limits, and which device serves each
-- role (all simulated here). Limits may only be stricter
-- than the built-in ones (qst-domain.md §8); `qst config FILE` checks the
-- file and prints what is in force. Every key below is optional.
return {
  name = "lab-sim-1",
  lab = {
    -- POSIX extended regular expression; the hint is what the operator
    -- is told when an ID does not match.
    subject_pattern = "^P[0-9]{3}$",
    subject_hint = "P followed by 3 digits, e.g. P042",
  },
  limits = {
    thermal = {
      min_c = 0,             -- °C, built-in 0
      max_c = 50,            -- °C, built-in 50
      max_rate_c_s = 10,     -- °C/s, built-in 10
      neutral_min_c = 20,    -- baseline range, built-in 20-40 °C
      neutral_max_c = 40,
      long_hold_c = 48,      -- holds at or above this ...
      long_hold_max_s = 30,  -- ... last at most this
      dose_threshold_c = 45, -- dose guard: time above this ...
      dose_budget_s = 120,   -- ... at most this ...
      dose_window_s = 600,   -- ... in any window this long
      safe_neutral_c = 32,   -- where the thermode goes after a fault
    },
    pressure = {
      probe = "1cm2",        -- the probe mounted on the algometer
      probes = {
        ["1cm2"] = { area_cm2 = 1, max_kpa = 2200 },
        ["0.5cm2"] = { area_cm2 = 0.5, max_kpa = 2200 },
      },
    },
    vibration = {
      max_vpp = 10,          -- function generator drive ceiling
    },
  },
  roles = {
    -- One device per role: "sim" (its simulator), "none" (the station has
    -- none) or a real driver (docs/station-config.md "Roles and drivers").
    thermal = { driver = "sim" },    -- or "tcs2"
    response = { driver = "sim" },   -- or "xid", "hidpedal"
    pressure = { driver = "sim" },   -- or "mark10"
    vibration = { driver = "sim" },  -- or "fgen"
    rating = { driver = "sim" },     -- or "evas"
    sync = { driver = "sim" },       -- or "triggerbox", "mmbts"
    -- A real driver takes port = "/dev/..." or usb = "VID:PID[:serial]"
    -- (the USB-serial bridge, or the USB device for fgen and hidpedal),
    -- and a serial one an optional baud. qst run opens real devices on
    -- the real clock; a "sim" role cannot join them, so a real station
    -- lists all six roles, with "none" for what it lacks. Check the
    -- ports first with `qst devices --probe`. For example:
    -- thermal = { driver = "tcs2", port = "/dev/ttyACM0" },
    -- response = { driver = "xid", usb = "0403:6001:A1B2C3" },
    -- pressure = { driver = "mark10", usb = "0403:6001:FT9XYZ", baud = 9600 },
  },
}
