# SPDX-License-Identifier: MIT
# The ADS131M08 path: frames decoded by firmware/adc_frames.py (unix port) against a decoder written here from the
# datasheet with Python's binascii.crc_hqx (CRC-16/CCITT-FALSE: the chip's output CRC), and the whole chain on the
# emulated RP2040 (driver set-up, DMA ring, Thumb-1 decoder) against the generator's samples.
import binascii
import os
import random
import re
import subprocess

import numpy as np

from chip import toolchain
from conftest import MICROPYTHON, ROOT


def frame(codes, fresh=True, bad_crc=False):
    """One 30-byte frame (24-bit words): STATUS (DRDY bits set when fresh), 8 channels, CRC, per SBAS950 8.5."""
    b = bytes([0x05, 0xFF if fresh else 0x00, 0]) + b"".join((c & 0xFFFFFF).to_bytes(3, "big") for c in codes)
    crc = binascii.crc_hqx(b, 0xFFFF) ^ (1 if bad_crc else 0)
    return b + crc.to_bytes(2, "big") + b"\0"


def test_decode_matches_datasheet_reference():
    rnd = random.Random(7)
    blocks, want = [], []
    for k in range(12):
        n = rnd.choice((1, 5, 80))
        codes = [[rnd.randint(-2 ** 23, 2 ** 23 - 1) for _ in range(8)] for _ in range(n)]
        codes[0][0] = -2 ** 23  # the extremes of the 24-bit range
        codes[-1][7] = 2 ** 23 - 1
        bad = {i for i in range(n) if k % 3 == 1 and rnd.random() < 0.2}
        stale = {i for i in range(n) if k % 3 == 2 and rnd.random() < 0.2}
        blocks.append(b"".join(frame(codes[i], i not in stale, i in bad) for i in range(n)).hex())
        want.append((len(bad), len(stale), [c for row in codes for c in row]))
    r = subprocess.run([MICROPYTHON, "host_tests/device/adc_decode_unix.py"], cwd=ROOT, input="\n".join(blocks),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.split("\n")
    for k, (bad, stale, codes) in enumerate(want):
        got = [int(x) for x in lines[k].split()]
        assert got[:2] == [bad, stale], (k, got[:2], bad, stale)
        assert got[2:] == codes, k


def test_adc_stream_on_chip_matches_generator():
    """Driver set-up over SPI0 (reset, WREG with input CRC, read-back), the 4-channel DMA ring paced at 8000
    frames/s, the Thumb-1 decoder: the blocks equal the generator's samples in order; a bad CRC and a missed
    conversion each cost one block and are counted."""
    emu = toolchain()
    from tools.generator import Generator
    from tools import scenario

    code, out, err, st = emu.run([os.path.join(ROOT, "host_tests/device/adc_stream.py")], scenarios=["default"],
                                 adc=True, timeout=300)
    assert code == 0, out[-2000:] + err[-2000:]
    assert "SETUP ok mode=1110 clock=FF0A" in out
    rows = [[int(x) for x in line.split()[1:]] for line in out.split("\n") if line.startswith("B ")]
    assert len(rows) == 30
    gen = Generator(scenario.load(emu.scenario_path("default"))).block_array(8000 * 3)
    first = rows[0][2:10]
    hits = [m for m in range(len(gen) - 80 * 30) if list(gen[m]) == first]
    assert hits, "the first sample is not in the generator's first 3 s"
    m = hits[0]
    for k, row in enumerate(rows[:20]):  # before the injected faults: every block whole and in order
        blk = gen[m + 80 * k:m + 80 * (k + 1)]
        assert row[1] == 0 and row[2:10] == list(blk[0]) and row[10] == int(np.sum(blk, dtype=np.int64)), k
    assert [row[1] for row in rows[20:]].count(80) == 2  # the bad CRC's block and the missed conversion's block
    c = re.search(r"C crc=(\d+) stale=(\d+) overruns=(\d+) lost=(\d+) blocks=(\d+) cycles_per_block=(\d+)", out)
    assert c and c.group(1, 2, 3, 4) == ("1", "1", "0", "160"), out[-500:]
    print("decode + poll: %s cycles per 80-frame block on the emulated RP2040" % c.group(6))


def test_board_loop_measures_from_the_adc():
    """The board's main loop (boards/pico/board.Board: ADS131M08 over SPI0 and DMA, Meter.feed per block, Modbus
    and console polls, WFI between blocks) for 3 simulated seconds of the default scenario: U, I, P within the
    class of the analytic truth (tools/truth.py), no frame lost, the CPU load printed."""
    emu = toolchain()
    import json

    from tools import scenario, truth

    import tempfile

    lcd = os.path.join(tempfile.mkdtemp(prefix="lcd-"), "lcd.png")
    code, out, err, stats = emu.run([os.path.join(ROOT, "host_tests/device/board_loop.py")], scenarios=["default"],
                                    adc=True, timeout=300, lcd_png=lcd)
    assert code == 0, out[-2000:] + err[-2000:]
    st = json.loads(re.search(r"STATE (.*)", out).group(1))
    assert st["adc_frames_lost"] == 0 and st["adc_blocks"] >= 290 and st["gaps"] == 0, st
    assert st["heap_free"] >= 64 * 1024, st["heap_free"]
    vals = [float(x) for x in re.search(r"VALS (.*)", out).group(1).split()]
    want = truth.truth(scenario.load(emu.scenario_path("default")))
    names = ("Ua", "Ub", "Uc", "Uab", "Ubc", "Uca", "Ia", "Ib", "Ic", "Pa", "Pb", "Pc")
    for name, got in zip(names, vals):
        limit = 0.005 if name[0] == "P" else 0.002  # class 0.5S P, 0.2 U and I (docs/metering.md)
        assert abs(got - want[name]) <= limit * want[name], (name, got, want[name])
    print(re.search(r"CPU .*", out).group(0))
    # the display as the ST7567 model rebuilt it from SPI1: drawn by the loop (6 frames in 3 s), the first page,
    # its three phase voltages in the 15 px digits (firmware/ui/glyphs.py) read back off the model's RAM
    from firmware.ui import glyphs
    from tools import glass

    frame = bytes.fromhex(stats["lcd_frame"])
    print("\n".join(glass.to_blocks(frame)))
    assert stats["lcd"]["frames"] >= 5, stats["lcd"]
    assert glass.find_text(frame, glyphs.SEG_L, "220.0"), "glass picture: " + lcd
