# SPDX-License-Identifier: MIT
# The framed message protocol of the host's firmware processes, one definition for both ends: the sim board
# (boards/sim/main.py, MicroPython unix port or CPython) and its launchers (tools/simproc.py, tools/sim.py,
# tools/simchip.py, CPython); the accuracy drivers speak the same framing (tools/accuracy.py ->
# tools/accuracy_upy.py, tools/accuracy_disturb.py -> tools/accuracy_disturb_upy.py). A message is its kind (one
# ASCII byte), the payload's length (uint32 little-endian) and the payload (docs/ARCHITECTURE.md, "Sim process
# protocol"). Plain ints, not const(): CPython imports this without tools/upy_compat; nothing here is on a chip.
HEADER = 5  # kind + length

# launcher -> sim board
SAMPLES = 0x53  # 'S' int32 LE samples, 8 channels interleaved x n (the accuracy drivers' too)
FRAME = 0x4D  # 'M' one Modbus RTU frame; the board answers every M with one M: the reply, empty for none
KEY = 0x4B  # 'K' a key name: left up down right enter
DI = 0x44  # 'D' two bytes: input number (1, 2), state (0/1)
COMMAND = 0x43  # 'C' a text command (lcd, state, fb, set NAME VALUE), answered by one TEXT
QUIT = 0x51  # 'Q' orderly power-down: save, TEXT "bye", exit
# sim board -> launcher
READY = 0x52  # 'R' the meter runs (payload empty; the emulated chip's: "console" when it answers commands)
LINE = 0x4C  # 'L' "BAUD DATA_CODE": the meter's line settings, before READY and after each change
TEXT = 0x54  # 'T' the answer to one COMMAND (LCD text, one JSON line for state, ...), or "bye" after QUIT
ERROR = 0x45  # 'E' an error or log line
# the emulated RP2040 (tools/emu/device.mjs, which spells the same letters) <-> tools/simchip.py, beyond the above
SCENARIO = 0x53  # 'S' to the chip: the scenario (JSON) its own sample feeder plays from now on
BOUNCE = 0x42  # 'B' to the chip: DI k closed for ms of simulated time (byte k, uint16 LE ms)
ANSWERS = 0x57  # 'W' from the chip: uint32 LE, the number of the frame the next FRAME answers
UART = 0x55  # 'U' from the chip: the UART's line format, JSON {baud, bits, parity, stop}
GPIO = 0x47  # 'G' from the chip: an output pin changed (uint8 pin, uint8 level, float64 us)
FIGURES = 0x46  # 'F' from the chip: the console's figures, JSON

# tools/accuracy.py -> tools/accuracy_upy.py (SAMPLES as above; the firmware answers in text lines on stdout)
ACC_CONFIGURE = 0x43  # 'C' int32 LE pt ct syss un in ist: a new case (the sampler starts afresh)
ACC_CALIBRATE = 0x41  # 'A' int32 LE ref_mV ref_mA ref_mdeg: start a calibration; prints "A <result>"
ACC_IDENTITY = 0x5A  # 'Z' calibration back to identity
ACC_END = 0x45  # 'E' end of case: prints "E <us> <samples> ..."
# tools/accuracy_disturb.py -> tools/accuracy_disturb_upy.py: ACC_CONFIGURE carries "name=value,..." settings
# there, SAMPLES and ACC_END as above.


def length(hdr):
    """The payload length (int) of a message header (HEADER bytes). Allocation-free."""
    return hdr[1] | (hdr[2] << 8) | (hdr[3] << 16) | (hdr[4] << 24)


def put_header(hdr, kind, n):
    """Write the header of a message of `kind` with an n-byte payload into hdr (a bytearray of HEADER)."""
    hdr[0] = kind
    hdr[1] = n & 0xFF
    hdr[2] = (n >> 8) & 0xFF
    hdr[3] = (n >> 16) & 0xFF
    hdr[4] = (n >> 24) & 0xFF


def message(kind, payload=b""):
    """One whole message (bytes): kind, length, payload. Allocates: for launchers and tests."""
    hdr = bytearray(HEADER)
    put_header(hdr, kind, len(payload))
    return bytes(hdr) + payload


def serve(inp, buf, block, on_samples, on_message):
    """Read messages from the binary stream inp until EOF. SAMPLES payloads go to on_samples(buf, k) in pieces of
    k <= block samples read into buf (array('i') of 8 * block), every other message to on_message(kind, payload).
    Returns at EOF or at a SAMPLES payload cut short. The accuracy drivers' loop (tools/accuracy*_upy.py)."""
    hdr = bytearray(HEADER)
    view = memoryview(buf)
    while True:
        if inp.readinto(hdr) != HEADER:
            return
        n = length(hdr)
        if hdr[0] == SAMPLES:
            left = n // 32
            while left > 0:
                k = block if left > block else left
                if inp.readinto(view[:8 * k] if k < block else buf) != 32 * k:
                    return
                on_samples(buf, k)
                left -= k
            continue
        on_message(hdr[0], inp.read(n) if n else b"")
