return { name = "bench-2", lab = { subject_pattern = "3}++++++++++++++++++++++++$", subject_hint = "P or C and 2-3 digits" },
  limits = { thermal = {     readback_timeout_s = 0.2, track_tol_c = 1, safe_neutral_c = 30 },
    pressure = { probe = "small", probes = { small = { area_cm2  = 185 } } },
    vibration = { driverp = 2 } },
  roles = { thoax_ra= { driver = "0642" } } }
