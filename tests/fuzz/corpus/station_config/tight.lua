return { name = "bench-2", lab = { subject_pattern = "^(P|C)[0-9]{2,3}$", subject_hint = "P or C and 2-3 digits" },
  limits = { thermal = { max_c = 48, min_c = 5, dose_budget_s = 60, dose_window_s = 1200,
                         readback_timeout_s = 0.2, track_tol_c = 1, safe_neutral_c = 30 },
    pressure = { probe = "small", probes = { small = { area_cm2 = 0.5, max_kpa = 1200 }, big = { area_cm2 = 1.5 } } },
    vibration = { max_vpp = 2 } },
  roles = { thermal = { driver = "tcs2", port = "/dev/ttyACM0" }, response = { driver = "xid", usb = "0403:6001:A1B2" },
    pressure = { driver = "mark10", port = "/dev/ttyUSB0" }, vibration = { driver = "fgen", usb = "1ab1:0642" } } }
