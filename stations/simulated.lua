-- A station file (docs/station-config.md): what this station is, how the
-- lab writes subject IDs, and safety limits. Limits may only be stricter
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
    thermal = { driver = "sim" },
    response = { driver = "sim" },
    pressure = { driver = "sim" },
    vibration = { driver = "sim" },
    -- Real devices (issue 5) are written like this and refused by
    -- qst run until their transports exist:
    -- thermal = { driver = "tcs2", port = "/dev/ttyACM0" },
    -- response = { driver = "xid", usb = "0403:6001:A1B2C3" },
  },
}
