# SPDX-License-Identifier: MIT
# Fuzzing in make test (make fuzz runs the long version): 20,000 frames through the real framer and dispatcher
# under MicroPython with the heap locked per request, and hypothesis-made frames through the same checks on CPython.
import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MICROPYTHON, ROOT

sys.path.insert(0, os.path.join(ROOT, "host_tests"))
import fuzz_modbus as F
from firmware.modbus.crc import crc16

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "800"))
FUZZ = F.Fuzzer(7)


def test_fuzz_micropython_20k_frames():
    assert MICROPYTHON, "micropython is not installed: run make setup"
    r = subprocess.run([MICROPYTHON, "-X", "heapsize=8M", "host_tests/fuzz_modbus.py", "20000", "5"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    assert "RESULT OK" in out, out
    stats = dict(kv.split("=") for kv in out.split("fuzz:")[1].split("\n")[0].split())
    assert int(stats["frames"]) == 20000 and int(stats["replies"]) > 5000 and int(stats["exceptions"]) > 3000
    assert int(stats["discarded"]) > 100  # the t1.5 rule and oversize frames were exercised


def _answer(frame):
    m = FUZZ.m
    buf = bytearray(frame)
    k = m.modbus(buf, len(buf))
    err = FUZZ.check(buf, len(buf), k)
    m.service()
    m.slave.listen_only = False
    return err


def _with_crc(body):
    c = crc16(body, 0, len(body))
    return bytes(body) + bytes([c & 0xFF, c >> 8])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(min_size=0, max_size=300))
def test_fuzz_garbage(data):
    assert _answer(data) is None


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from([1, 0, 1, 1, 2]), st.sampled_from([1, 2, 3, 4, 5, 6, 8, 15, 16, 17, 43, 7, 0x83]),
       st.binary(min_size=0, max_size=252))
def test_fuzz_valid_crc(addr, fc, body):
    if addr == 1:
        addr = FUZZ.m.slave.address
    assert _answer(_with_crc(bytes([addr, fc]) + body)) is None


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from([1, 2, 3, 4, 5, 6, 15, 16]), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF),
       st.binary(min_size=0, max_size=8))
def test_fuzz_structured(fc, start, qty, tail):
    a = FUZZ.m.slave.address
    body = bytes([a, fc, start >> 8, start & 0xFF, qty >> 8, qty & 0xFF])
    if fc in (15, 16):
        bc = (qty + 7) >> 3 if fc == 15 else 2 * qty
        body += bytes([bc & 0xFF]) + bytes(min(bc, 246))[: 256 - 9] + tail
    assert _answer(_with_crc(body[:254])) is None
