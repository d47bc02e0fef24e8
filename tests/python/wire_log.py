"""Read a qst wire log (qst run --wire-log, docs/simulation.md) and split the
host's bytes to the TCS II into commands.

Written from the documented formats alone (the wire log's line format, and
the TCS II command syntax of devices.md §1.3), not from the C code it
checks.
"""
import re
from dataclasses import dataclass


@dataclass
class Chunk:
    t_ns: int
    role: str
    dir: str          # ">" host->device, "<" device->host
    data: bytes
    error: str        # "" when the read or write succeeded


def unescape(text):
    """The bytes field: '-' for none, \\xNN escapes, everything else as is."""
    if text == "-":
        return b""
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "\\":
            if text[i + 1] != "x":
                raise ValueError(f"bad escape in {text!r}")
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(ord(text[i]))
            i += 1
    return bytes(out)


def read(path):
    chunks = []
    with open(path, encoding="ascii") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split(" ")
            if len(parts) not in (4, 5):
                raise ValueError(f"{path}:{n}: {len(parts)} fields: {line!r}")
            t, role, d, data = parts[:4]
            error = parts[4] if len(parts) == 5 else ""
            if d not in (">", "<", ">!", "<!") or (d.endswith("!") != bool(error)):
                raise ValueError(f"{path}:{n}: bad direction/error: {line!r}")
            chunks.append(Chunk(int(t), role, d[0], unescape(data), error))
    times = [c.t_ns for c in chunks]
    if times != sorted(times):
        raise ValueError(f"{path}: times go backwards")
    return chunks


# TCS II commands (devices.md §1.3): letter(s) and how many characters
# follow. Fixed width; the device needs no terminator.
TCS2_ARGS = {"N": 3, "S": 5, "C": 4, "V": 5, "R": 5, "D": 6, "T": 6, "Y": 4,
             "Z": 6, "I": 1, "L": 0, "A": 0, "F": 0, "E": 0, "K": 0, "Q": 0,
             "H": 0, "?": 0, "G": 0, "P": 0, "B": 0}
TCS2_O_ARGS = {"m": 3, "x": 2, "v": 6, "r": 6, "t": 5, "f": 1, "a": 0,
               "b": 0, "c": 0, "d": 0, "e": 0, "o": 0, "l": 0, "g": 0}


@dataclass
class Command:
    t_ns: int
    text: str
    sent: bool        # False: the write failed


def tcs2_commands(chunks, role="thermal"):
    """The host's commands to the thermode, in order, each stamped with the
    time of the chunk it started in. Raises on bytes that are no command."""
    stream = [(c.t_ns, c.error == "", b) for c in chunks
              if c.role == role and c.dir == ">" for b in c.data]
    cmds, i = [], 0
    while i < len(stream):
        t, ok, b = stream[i]
        ch = chr(b)
        if ch == "O" and i + 1 < len(stream):
            n = 2 + TCS2_O_ARGS.get(chr(stream[i + 1][2]), -99)
        else:
            n = 1 + TCS2_ARGS.get(ch, -99)
        if n < 1 or i + n > len(stream):
            raise ValueError(f"not a TCS II command at {t} ns: "
                             f"{bytes(s[2] for s in stream[i:i + 8])!r}")
        text = "".join(chr(s[2]) for s in stream[i:i + n])
        if not re.fullmatch(r"[A-Z?][a-z]?[0-9]*", text):
            raise ValueError(f"malformed TCS II command {text!r} at {t} ns")
        cmds.append(Command(t, text, ok))
        i += n
    return cmds


def tcs2_frames(chunks, role="thermal"):
    """Temperature lines the thermode sent (devices.md §1.4): (t_ns, [neutral,
    z1..z5] in °C). Lines the parser would drop are skipped."""
    data, times = bytearray(), []
    for c in chunks:
        if c.role == role and c.dir == "<":
            data += c.data
            times += [c.t_ns] * len(c.data)
    frames = []
    for m in re.finditer(rb"\r([+-]?\d{3})((?:[+-]\d{3}){5})(?=[\r\n]|$)",
                         bytes(data)):
        vals = [int(m.group(1))] + [int(v) for v in
                                     re.findall(rb"[+-]\d{3}", m.group(2))]
        frames.append((times[m.start()], [v / 10 for v in vals]))
    return frames
