return { limits = { thermal = { max_c = 55 } } }
