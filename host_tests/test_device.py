# SPDX-License-Identifier: MIT
# The meter on its chip: the flashable image builds, boots on the emulated RP2040, imports and builds
# the meter within the heap floor, and after the same samples holds a register image bit-identical to the unix
# port's. Needs the arm toolchain and Node.js (make setup-device; .ci/run installs them): without them these
# tests fail with the missing package's name, never pass silently. The 10-minute budget run: make bench-device.
import os
import subprocess
import tempfile

import pytest

from conftest import MICROPYTHON, ROOT
from chip import toolchain
from tools import emu
from tools import scenario as scn
from tools.generator import Generator

HEAP_FLOOR = 64 * 1024  # bytes gc.mem_free() keeps after construction and while running
BLOCK = 80
PROBE = os.path.join(ROOT, "tools", "device", "image_probe.py")
SCENARIO = "unbalanced_49_8"  # 49.8 Hz: windows of a non-integer number of samples per cycle


@pytest.fixture(scope="module")
def uf2():
    toolchain()
    try:
        return emu.ensure_uf2()
    except emu.EmuError as e:
        pytest.fail(str(e))


def _params(blocks, samples=None):
    s = scn.load(emu.scenario_path(SCENARIO))
    settings = [(k, int(s.settings[k])) for k in ("SYSS", "Un", "In", "Pt_U", "Ct_I")]
    return {"block": BLOCK, "blocks": blocks, "settings": settings, "samples": samples}


def _parse(out):
    r = {"image": {}}
    for line in out.splitlines():
        f = line.split()
        if not f or f[0] != "R":
            continue
        if f[1] == "image":
            r["image"][int(f[2])] = f[3]
        else:
            r[f[1]] = {k: int(v) for k, v in (x.split("=") for x in f[2:])}
    r["image"] = "".join(r["image"][k] for k in sorted(r["image"]))
    return r


def _write(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)
    f.write(text)
    f.close()
    return f.name


def test_image_builds_and_meter_fits_and_matches_unix_port(uf2, tmp_path):
    blocks = 250  # 2.5 s of signal: a dozen windows, harmonics analysed, energy counted
    with open(PROBE) as f:
        probe = f.read()
    chip_script = _write("PARAMS = %r\n%s" % (_params(blocks), probe))
    try:
        code, out, err, _ = emu.run([chip_script], uf2=uf2, scenarios=[SCENARIO], timeout=600)
    finally:
        os.unlink(chip_script)
    assert code == 0, "on the emulated chip:\n" + out[-2000:] + err[-3000:]
    chip = _parse(out)

    # the unix port, fed the same samples (the generator is deterministic; blocks of the same size)
    samples = tmp_path / "samples.bin"
    gen = Generator(scn.load(emu.scenario_path(SCENARIO)))
    with open(samples, "wb") as f:
        for _ in range(blocks):
            f.write(gen.block(BLOCK))
    unix_script = _write("import sys\nsys.path.insert(0, %r)\nPARAMS = %r\n%s" % (
        ROOT, _params(blocks, str(samples)), probe))
    try:
        r = subprocess.run([MICROPYTHON, "-X", "heapsize=4M", unix_script], cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    finally:
        os.unlink(unix_script)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    unix = _parse(r.stdout)

    print("chip: free after imports %d, after construction %d, lowest while running %d; %d windows" % (
        chip["imports"]["free"], chip["built"]["free"], chip["run"]["free_min"], chip["run"]["windows"]))
    assert chip["built"]["free"] >= HEAP_FLOOR
    assert chip["run"]["free_min"] >= HEAP_FLOOR
    assert chip["run"]["windows"] == unix["run"]["windows"] >= 10
    assert len(chip["image"]) == len(unix["image"]) > 0
    diff = [i // 2 for i in range(0, len(chip["image"]), 2) if chip["image"][i:i + 2] != unix["image"][i:i + 2]]
    assert not diff, "register image bytes differ at %s" % diff[:20]


ROLLOVER = r"""
import machine
import micropython
import uctypes
from array import array

buf = array("i", bytes(32 * 80))
from boards.pico import board

m = board.make_meter()
m.clock.set_ymd(20271231)
m.clock.set_hms(235958)
machine.mem32[0x40068018] = uctypes.addressof(buf)
for b in range(400):  # 4 s: a minute (demand subinterval), an hour, a day, a month and a year roll over
    machine.mem32[0x4006801C] = 80
    micropython.heap_lock()
    try:
        m.feed(buf, 80)
    finally:
        micropython.heap_unlock()
    if b % 10 == 0:
        m.service()
print("R clock ymd=%d hms=%d" % (m.clock.ymd, m.clock.hms))
from firmware.modbus.crc import crc16

# one request of each function code, heap locked (FC06/FC16 write BLt, FC05 a relay, FC08 echo, FC43 basic id)
for pdu in (b"\x01\x00\x00\x00\x02", b"\x02\x00\x00\x00\x02", b"\x03\x01\x00\x00\x7d", b"\x04\x00\x00\x00\x50",
            b"\x05\x00\x00\xff\x00", b"\x06\x00\x08\x00\x05", b"\x08\x00\x00\x12\x34",
            b"\x0f\x00\x00\x00\x02\x01\x00", b"\x10\x00\x08\x00\x01\x02\x00\x03", b"\x11", b"\x2b\x0e\x01\x00",
            b"\x03\x00\x00\x00\x7e"):
    f = bytearray(b"\x01" + pdu + b"\x00\x00")
    c = crc16(f, 0, len(f) - 2)
    f[-2] = c & 0xFF
    f[-1] = c >> 8
    micropython.heap_lock()
    try:
        r = m.modbus(f, len(f))
    finally:
        micropython.heap_unlock()
    print("R reply fc=%d len=%d code=%d" % (pdu[0], r, m.tx[1]))
    m.service()
print("R blt value=%d" % m.config.get("BLt"))
"""


def test_feed_allocates_nothing_on_the_chip_across_rollovers(uf2):
    # 32-bit words read in Python make big ints on the chip (31-bit small ints), never on the 64-bit unix port:
    # only the chip proves the hot path allocation-free. Midnight on New Year's Eve takes every rollover.
    script = _write(ROLLOVER)
    try:
        code, out, err, _ = emu.run([script], uf2=uf2, scenarios=["default"], timeout=600)
    finally:
        os.unlink(script)
    assert code == 0, "on the emulated chip (MemoryError: an allocation under heap_lock):\n" + out[-2000:] + err[-3000:]
    r = _parse(out)
    assert r["clock"] == {"ymd": 20280101, "hms": 2}
    replies = [x.split() for x in out.splitlines() if x.startswith("R reply")]
    assert len(replies) == 12 and all(int(x[3].split("=")[1]) > 0 for x in replies), replies
    assert replies[-1][4] == "code=131"  # FC03 x 126: exception 03 (0x83), built without allocation too
    assert r["blt"] == {"value": 3}  # FC06 wrote 5, then FC16 wrote 3
