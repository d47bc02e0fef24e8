"""A lab-style TCS II client talking to `qst simulate tcs2` through the
pseudo-terminal it printed (tests/integration/simulate.sh): no pyserial,
only os.open and termios, the way a lab script would see the port.

usage: tcs_pty_client.py PATH
Exits non-zero with a message on the first thing that is wrong.
"""
import os
import re
import sys
import termios
import time

FRAME = re.compile(rb"\r[+-]?(\d{3})([+-]\d{3}){5}")


def fail(msg):
    sys.exit("tcs_pty_client: " + msg)


def read_for(fd, seconds):
    """Everything the device says within seconds."""
    out = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            chunk = b""
        if chunk:
            out += chunk
        else:
            time.sleep(0.005)
    return out


def read_until(fd, pattern, seconds):
    out = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            out += os.read(fd, 4096)
        except BlockingIOError:
            time.sleep(0.005)
        if pattern in out:
            return out
    fail("no %r within %.1f s; got %r" % (pattern, seconds, out[-200:]))


def check_raw(fd):
    """The server made the terminal raw: the client did not touch it."""
    iflag, oflag, _cflag, lflag, _i, _o, _cc = termios.tcgetattr(fd)
    for name in ("ECHO", "ICANON", "ISIG", "IEXTEN"):
        if lflag & getattr(termios, name):
            fail("slave terminal has %s on" % name)
    for name in ("ICRNL", "INLCR", "IGNCR", "IXON"):
        if iflag & getattr(termios, name):
            fail("slave terminal has %s on" % name)
    if oflag & termios.OPOST:
        fail("slave terminal post-processes output")


def identify(fd):
    os.write(fd, b"?")
    got = read_until(fd, b"\rTCS", 3.0)
    # CR kept as CR (no CR-to-NL mapping), readable without a newline
    # (no line editing): the raw terminal at work.
    if b"\n" in got:
        fail("newline in the device's output: %r" % got)


def ramp(fd):
    # neutral 32.0, all zones to 40.0 at 10 degC/s, 1 s, back at 10 degC/s
    for cmd in (b"N320", b"S11111", b"C0400", b"V00100", b"R00100",
                b"D001000", b"L"):
        os.write(fd, cmd)
    got = read_for(fd, 1.5)
    frames = [[int(v) for v in re.findall(rb"\d{3}", m.group(0))]
              for m in FRAME.finditer(got)]
    if len(frames) < 50:
        fail("%d temperature lines in 1.5 s of a ramp, want 100 Hz"
             % len(frames))
    peak = max(max(f[1:]) for f in frames)
    if peak < 380:
        fail("plate peaked at %.1f degC, ramp to 40.0" % (peak / 10))
    if any(f[0] != 320 for f in frames):
        fail("neutral field is not 320")


def main():
    path = sys.argv[1]
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    check_raw(fd)
    identify(fd)
    ramp(fd)
    time.sleep(0.2)  # leave lines unread, as a client that quits does
    os.close(fd)
    # A second client: the port stays served after the first one left
    # mid-stream (100 Hz), and what the device said meanwhile, or said to
    # the first client unread, does not wait for the second one: at most
    # the line that is due as it opens.
    time.sleep(0.3)
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    time.sleep(0.02)
    try:
        stale = os.read(fd, 65536)
    except BlockingIOError:
        stale = b""
    if len(stale) > 24:
        fail("%d stale bytes waited for a new client: %r"
             % (len(stale), stale[:60]))
    identify(fd)
    os.close(fd)
    print("ok")


main()
