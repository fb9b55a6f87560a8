# SPDX-License-Identifier: MIT
# The ESP32 board (boards/esp32): no ESP32 emulator is available, so its drivers run under the unix port against
# fakes that keep the chips' rules (host_tests/device/esp32_fakes.py): the I2S ADC stream with ADS131M08 frames at
# an arbitrary bit offset, read 16 times per 15 conversions (stale re-reads), a stream slip and a lapped ring; the
# ADS131M08 set-up with the RESET command; the key ladder with noise and bounce; the store partition, its
# littlefs fallback and the RTC after a power loss. And everything compiles for xtensawin (make build BOARD=esp32).
import os
import random
import re
import subprocess

from conftest import MICROPYTHON, ROOT
from test_adc_frames import frame

GUEST = os.path.join("host_tests", "device", "esp32_fakes.py")
TICKS_PER_READ = 240  # BCK periods (2.048 MHz) per 30-byte frame read
TICKS_PER_CONV = 256  # BCK periods per conversion (125 us at 8000 samples/s)
PHASE = 100  # the first conversion, in BCK periods after the stream starts
JUNK_BITS = 77  # bits before the first frame boundary (the chip's frame starts anywhere in the I2S words)


def conversions(n, seed=9):
    rnd = random.Random(seed)
    return [[rnd.randint(-2 ** 23, 2 ** 23 - 1) for _ in range(8)] for _ in range(n)]


def i2s_stream(conv, reads):
    """The bytes the ESP32's I2S DMA would store: the chip's DOUT bits, frames read back to back, each frame the
    newest conversion (STATUS DRDY set the first time it is read, clear on a re-read), packed into 32-bit slots
    stored little-endian with the first bit received in bit 31."""
    rnd = random.Random(3)
    bits = "".join(rnd.choice("01") for _ in range(JUNK_BITS))
    last = -1
    parts = [bits]
    for i in range(reads):
        j = (TICKS_PER_READ * i - PHASE) // TICKS_PER_CONV
        if j < 0:
            f = frame([0] * 8, fresh=False)
        else:
            f = frame(conv[j], fresh=j > last)
            last = j
        parts.append("".join(format(b, "08b") for b in f))
    bits = "".join(parts)
    bits += "0" * (-len(bits) % 32)
    words = [int(bits[k:k + 32], 2) for k in range(0, len(bits), 32)]
    return b"".join(w.to_bytes(4, "little") for w in words)


def test_drivers_against_fakes_on_the_unix_port(tmp_path):
    reads = 20000
    conv = conversions(reads * TICKS_PER_READ // TICKS_PER_CONV + 2)
    path = tmp_path / "i2s.bin"
    path.write_bytes(i2s_stream(conv, reads))
    r = subprocess.run([MICROPYTHON, "-X", "heapsize=8M", GUEST, str(path), str(tmp_path / "state")], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    assert "ADC setup ok mode=1110 clock=FF0A" in out
    assert re.search(r"KEYS ok taps=5 repeats=10", out), out[:500]
    assert "STORE ok" in out
    index = {tuple(c): j for j, c in enumerate(conv)}
    blocks = [[int(x) for x in line.split()[1:]] for line in out.split("\n") if line.startswith("B ")]
    good = []
    for k, b in enumerate(blocks):
        if b[0] == 0:
            j = index[tuple(b[1:9])]
            assert b[9] == sum(sum(c) for c in conv[j:j + 80]), k  # the whole block, in order
            good.append((k, j))
    # in order and back to back until the stream slips; conversions before a fault all delivered
    assert good[0] == (0, 0)
    first_gap = next(k for k, b in enumerate(blocks) if b[0] != 0)
    assert [j for k, j in good if k < first_gap] == [80 * k for k in range(first_gap)]
    assert all(j2 > j1 for (_, j1), (_, j2) in zip(good, good[1:]))
    # time goes on across the faults: samples handed over + reported lost ~ conversions covered
    covered = good[-1][1] + 80
    told = sum(80 if b[0] == 0 else b[0] for b in blocks)
    assert abs(told - covered) < 0.02 * covered, (told, covered)
    c = re.search(r"C crc=(\d+) stale=(\d+) overruns=(\d+) lost=(\d+) blocks=(\d+) aligns=(\d+)", out)
    crc, stale, overruns, lost, nblk, aligns = map(int, c.groups())
    assert overruns == 1 and crc >= 1 and aligns >= 3 and nblk == len(good) > 150, c.group(0)
    print(c.group(0), "blocks lost:", len(blocks) - len(good))


def test_build_compiles_everything_for_xtensawin(tmp_path):
    from tools import build

    srcs = list(build.sources("esp32"))
    for f in ("boards/esp32/adc_i2s.py", "boards/esp32/keys_ladder.py", "boards/esp32/board.py",
              "boards/pico/ads131m08.py", "boards/pico/st7567.py", "boards/pico/dio.py", "boards/pico/console.py",
              "firmware/adc_frames.py", "firmware/meter.py"):
        assert f in srcs, f
    for f in srcs:  # what the ESP32 board imports from boards.pico is in the build
        if f.startswith("boards/esp32/"):
            with open(os.path.join(ROOT, f)) as fh:
                for m in re.findall(r"from boards\.pico(?:\.(\w+))? import (\w+)", fh.read()):
                    name = m[0] or m[1]
                    assert "boards/pico/%s.py" % name in srcs, (f, name)
    assert build.build("esp32", "xtensawin", str(tmp_path)) == 0
    assert os.path.exists(tmp_path / "boards" / "esp32" / "adc_i2s.mpy")
    assert os.path.exists(tmp_path / "main.py")
