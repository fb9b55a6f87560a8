# SPDX-License-Identifier: MIT
# Host Modbus client for people: read/write the meter by register-map name in engineering units, switch relays,
# watch a live table, dump everything as CSV or JSON. Built on pymodbus (its port: tools/serialport.py) and
# firmware/regmap.py; see docs/client.md.
import argparse
import csv
import difflib
import json
import logging
import math
import os
import struct
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (ROOT, os.path.join(ROOT, "tools", "upy_compat")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from firmware import regmap  # noqa: E402  (after the sys.path set-up)
from firmware.modbus import codes  # noqa: E402  (after the sys.path set-up)
from tools.client_events import events_table  # noqa: E402  (after the sys.path set-up)

FORMATS = {"uint16": ">H", "int16": ">h", "uint32": ">I", "int32": ">i", "float32": ">f", "uint64": ">Q",
           "float64": ">d"}
EXCEPTIONS = {
    codes.ILLEGAL_FUNCTION: "illegal function (the meter does not serve this request)",
    codes.ILLEGAL_DATA_ADDRESS: "illegal data address (no such register, or not writable as one piece)",
    codes.ILLEGAL_DATA_VALUE: "illegal data value (out of range or not allowed, or writes are locked: with Wp = 1 "
                              "write the password to Key first)",
    codes.SERVER_DEVICE_FAILURE: "server device failure (the meter could not carry it out)",
}
MAX_READ = 125  # registers per FC03 request (Modbus Application Protocol 6.3)

# exit codes
USAGE, NO_ANSWER, REFUSED, NO_PORT = 2, 3, 4, 5


class ClientError(Exception):
    """One line for the user and an exit code."""

    def __init__(self, text, code):
        Exception.__init__(self, text)
        self.code = code


def registers():
    """Every register of the map with its size: list of dicts from regmap.rows()."""
    out = []
    for r in regmap.rows():
        r = dict(r)
        r["size"] = regmap.SIZES[r["type"]] if r["function"] == codes.READ_HOLDING_REGISTERS else 1
        out.append(r)
    return out


def lookup(name, rows=None):
    """The row for NAME (register names are unique); NAME@ADDRESS also picks a row by its address.
    ClientError for unknown names."""
    rows = registers() if rows is None else rows
    base, _, at = name.partition("@")
    hits = [r for r in rows if r["name"] == base]
    if at:
        try:
            addr = int(at, 0)
        except ValueError:
            raise ClientError("bad address in %r (NAME@ADDRESS, e.g. In@0x0005)" % name, USAGE)
        hits = [r for r in hits if r["address"] == addr]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        near = difflib.get_close_matches(base, sorted({r["name"] for r in rows}), 3)
        raise ClientError("unknown register name %r%s" % (name, (" (did you mean %s?)" % ", ".join(near))
                                                                 if near else ""), USAGE)
    raise ClientError("%r is ambiguous: %s" % (name, " or ".join("%s@0x%04X (%s)" % (base, r["address"],
                                                                                   r["description"].split(";")[0])
                                                                 for r in hits)), USAGE)


def decode(row, regs):
    """Engineering value of a register row from its raw registers."""
    if row["function"] != codes.READ_HOLDING_REGISTERS:
        return int(regs[0])
    raw = struct.unpack(FORMATS[row["type"]], struct.pack(">%dH" % len(regs), *regs))[0]
    if row["type"].startswith("float"):
        return float("%.7g" % raw) if row["type"] == "float32" else raw
    return raw * row["scale"] if row["scale"] != 1 else raw


def encode(row, value):
    """Raw registers for an engineering value (ClientError when it cannot be represented)."""
    try:
        v = float(value)
    except ValueError:
        raise ClientError("%s: %r is not a number" % (row["name"], value), USAGE)
    fmt = FORMATS[row["type"]]
    if not row["type"].startswith("float"):
        raw = v / row["scale"]
        if abs(raw - round(raw)) > 1e-6:
            raise ClientError("%s: %s is not a multiple of its resolution %g" % (row["name"], value, row["scale"]),
                              USAGE)
        v = int(round(raw))
    try:
        data = struct.pack(fmt, v)
    except struct.error:
        raise ClientError("%s: %s does not fit in %s" % (row["name"], value, row["type"]), USAGE)
    return list(struct.unpack(">%dH" % (len(data) // 2), data))


# settings whose code stands for a name (the panel shows the name: firmware/ui/pages.py NAMES)
NAMED = {"SYSS": regmap.SYSS_NAMES, "dATA": regmap.DATA_NAMES, "An": regmap.AN_NAMES}


def fmt_value(row, v):
    names = NAMED.get(row["name"]) if row["function"] == codes.READ_HOLDING_REGISTERS else None
    if names is not None and isinstance(v, (int, float)) and v == int(v) and 0 <= int(v) < len(names):
        return "%s (%d)" % (names[int(v)], int(v))
    if isinstance(v, float):
        if row["scale"] != 1 and not row["type"].startswith("float"):
            return "%.*f" % (max(0, -int(math.floor(math.log10(row["scale"])))), v)
        return "%.7g" % v
    return str(v)


# settings the meter switches to after its reply to their write (firmware/meter.py serial_settings): the client
# follows, so the read-back and whatever comes next reach it
LINE_SETTINGS = ("Adr", "baud", "dATA")


class Meter:
    """One meter on a serial port (pymodbus; tools/serialport.py on a pty). Methods raise ClientError with a
    user-facing line."""

    def __init__(self, port, address=1, baud=9600, parity="N", stopbits=1, timeout=1.0):
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # failures are reported here, in one line
        self.port, self.address, self.timeout = port, address, timeout
        self.baud, self.parity, self.stopbits = baud, parity, stopbits
        self.rows = registers()
        self.c = None
        self._open()

    def _open(self):
        from tools.serialport import ModbusClient
        self.c = ModbusClient(self.port, baudrate=self.baud, parity=self.parity, stopbits=self.stopbits,
                              timeout=self.timeout, retries=0)
        if not os.path.exists(self.port) or not self.c.connect():
            raise ClientError("cannot open %s (no such port, or it is busy%s)" % (
                self.port, ": " + self.c.error if self.c.error else ""), NO_PORT)

    def settings(self):
        """The options that reach the meter as this client does now: '--address 1 --baud 9600 ...'."""
        return "--address %d --baud %d --parity %s --stopbits %d" % (self.address, self.baud, self.parity,
                                                                     self.stopbits)

    def follow(self, name, raw):
        """After the meter accepted raw (its register value) for the line setting name (LINE_SETTINGS): talk at
        the new settings from now on (the port is opened again for a new baud rate or data format)."""
        if name == "Adr":
            self.address = raw
            return
        if name == "baud":
            self.baud = raw * 100
        else:
            fmt = regmap.DATA_NAMES[raw]  # "8E1": data bits, parity, stop bits
            self.parity, self.stopbits = fmt[1], int(fmt[2])
        self.close()
        self._open()

    def close(self):
        if self.c is not None:
            self.c.close()

    def _call(self, what, fn, *args, **kw):
        from pymodbus.exceptions import ModbusException
        try:
            rr = fn(*args, device_id=self.address, **kw)
        except ModbusException:
            raise ClientError("no answer from address %d on %s within %g s (%s): check the wiring, the address, "
                              "baud rate and parity" % (self.address, self.port, self.timeout, what), NO_ANSWER)
        if rr.isError():
            code = getattr(rr, "exception_code", 0)
            raise ClientError("the meter refused %s: exception %02d %s" % (what, code,
                                                                          EXCEPTIONS.get(code, "(unknown code)")),
                              REFUSED)
        return rr

    def read_rows(self, rows):
        """Values of rows (same function code, sorted by address), read in as few requests as the map allows."""
        out = {}
        i = 0
        while i < len(rows):
            j = i + 1
            first = rows[i]
            end = first["address"] + first["size"]
            while (j < len(rows) and rows[j]["function"] == first["function"] and rows[j]["address"] == end
                   and end + rows[j]["size"] - first["address"] <= MAX_READ):
                end += rows[j]["size"]
                j += 1
            n = end - first["address"]
            what = "the read of %s" % (first["name"] if j == i + 1 else "%s..%s" % (first["name"], rows[j - 1]["name"]))
            if first["function"] == codes.READ_HOLDING_REGISTERS:
                regs = self._call(what, self.c.read_holding_registers, first["address"], count=n).registers
            else:
                fn = self.c.read_coils if first["function"] == codes.READ_COILS else self.c.read_discrete_inputs
                regs = [int(b) for b in self._call(what, fn, first["address"], count=n).bits[:n]]
            for r in rows[i:j]:
                k = r["address"] - first["address"]
                out[id(r)] = decode(r, regs[k:k + r["size"]])
            i = j
        return [out[id(r)] for r in rows]

    def read(self, names):
        """[(row, value)] for register names, in the order given."""
        rows = [lookup(n, self.rows) for n in names]
        vals = {}
        for fn in (1, 2, 3):
            group = sorted((r for r in rows if r["function"] == fn), key=lambda r: r["address"])
            group = [r for k, r in enumerate(group) if k == 0 or r is not group[k - 1]]
            for r, v in zip(group, self.read_rows(group)):
                vals[id(r)] = v
        return [(r, vals[id(r)]) for r in rows]

    def write(self, name, value):
        """Write one register by name (a named code such as 8E1 as its code). Returns (row, the value written as
        the register holds it: the raw code or count, 0/1 for a coil)."""
        row = lookup(name, self.rows)
        if row["access"] == "r":
            raise ClientError("%s is read-only" % row["name"], USAGE)
        what = "the write of %s = %s" % (row["name"], value)
        if row["function"] == codes.READ_COILS:
            if value not in ("0", "1", "on", "off"):
                raise ClientError("%s: 0/1 or on/off, got %r" % (row["name"], value), USAGE)
            self._call(what, self.c.write_coil, row["address"], value in ("1", "on"))
            return row, int(value in ("1", "on"))
        names = NAMED.get(row["name"])
        if names is not None and value in names:  # write dATA 8E1, SYSS 2LL3CT, An Ia
            value = str(names.index(value))
        regs = encode(row, value)
        if len(regs) == 1:
            self._call(what, self.c.write_register, row["address"], regs[0])
        else:
            self._call(what, self.c.write_registers, row["address"], regs)
        return row, regs[0] if len(regs) == 1 else regs

    def write_and_check(self, name, value):
        """write(), then what the meter holds now: [(row, value)] read back, or [] for a write-only command
        register (Key, cLr_*, CAL_*: nothing to read). After Adr, baud or dATA the client follows the meter to
        its new settings first and asks twice before it gives up (ClientError NO_ANSWER: the write itself was
        accepted)."""
        row, raw = self.write(name, value)
        if row["access"] == "w":
            return []
        if row["name"] not in LINE_SETTINGS:
            return self.read([name])
        try:
            self.follow(row["name"], raw)
            for _ in range(2):  # a meter may take a moment to switch: one more try before giving up
                try:
                    return self.read([name])
                except ClientError as e:
                    if e.code != NO_ANSWER:
                        raise
            raise ClientError("it gave no answer there within %g s, twice: check the wiring" % self.timeout,
                              NO_ANSWER)
        except ClientError as e:
            raise ClientError("the meter accepted %s = %s and answers at %s now, but %s" % (
                row["name"], value, self.settings(), e), e.code)

    def relay(self, n, on):
        coils = [r for r in self.rows if r["function"] == codes.READ_COILS]
        if not 1 <= n <= len(coils):
            raise ClientError("relay %d: the meter has relays 1..%d" % (n, len(coils)), USAGE)
        self._call("switching relay %d %s" % (n, "on" if on else "off"), self.c.write_coil, coils[n - 1]["address"],
                   bool(on))
        return self.read([coils[n - 1]["name"]])[0][1]

    def dump(self):
        """[(row, value)] for every readable register (write-only commands are left out)."""
        rows = [r for r in self.rows if r["access"] != "w"]
        out = []
        for fn in (codes.READ_HOLDING_REGISTERS, codes.READ_COILS, codes.READ_DISCRETE_INPUTS):
            group = sorted((r for r in rows if r["function"] == fn), key=lambda r: r["address"])
            out += list(zip(group, self.read_rows(group)))
        return out

    def events(self, n=128):
        """The newest n events, newest first, as dicts (docs/events.md): EV_From selects each window of 8."""
        head, sel, rec = (regmap.block(b)[0] for b in ("ev_head", "ev_sel", "ev_rec"))
        r = self._call("the read of EV_Total", self.c.read_holding_registers, head, count=4).registers
        total, kept = struct.unpack(">II", struct.pack(">4H", *r))
        out = []
        for first in range(0, min(n, kept), 8):
            self._call("the write of EV_From", self.c.write_register, sel, first)
            regs = self._call("the read of the event window", self.c.read_holding_registers, rec, count=96).registers
            words = struct.unpack(">48I", struct.pack(">96H", *regs))
            for i in range(8):
                seq, ymd, hms, code, val, aux = words[6 * i:6 * i + 6]
                if seq == 0 or len(out) >= min(n, kept):
                    continue
                out.append({"seq": seq, "date": ymd, "time": hms, "kind": code >> 16, "arg": (code >> 8) & 0xFF,
                            "src": code & 0xFF, "value": struct.unpack(">f", struct.pack(">I", val))[0],
                            "aux": aux})
        return total, out


def table(pairs):
    w = max([len(r["name"]) for r, _ in pairs] + [4])
    return "\n".join("%-*s %14s %s" % (w, r["name"], fmt_value(r, v), r["unit"]) for r, v in pairs)


def main(argv=None, out=None):
    out = out or sys.stdout
    ap = argparse.ArgumentParser(prog="python -m tools.client", description="Talk to the meter over Modbus RTU by "
                                 "register name (values in engineering units).")
    ap.add_argument("--port", required=True, help="serial device (or the sim's pty / --serial-link)")
    ap.add_argument("--address", type=int, default=1, help="Modbus address 1..247 (default 1)")
    ap.add_argument("--baud", type=int, default=9600)
    ap.add_argument("--parity", choices=("N", "E", "O"), default="N")
    ap.add_argument("--stopbits", type=int, choices=(1, 2), default=1)
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for an answer (default 1)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("read", help="read registers by name: read Ua Ia P")
    p.add_argument("names", nargs="+")
    p = sub.add_parser("write", help="write one register: write Pt_U 100")
    p.add_argument("name")
    p.add_argument("value")
    p = sub.add_parser("relay", help="switch a relay: relay 1 on")
    p.add_argument("n", type=int)
    p.add_argument("state", choices=("on", "off"))
    p = sub.add_parser("watch", help="live table, refreshed every second until Ctrl-C")
    p.add_argument("names", nargs="*", help="registers to show (default: every measurement)")
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--count", type=int, default=0, help="stop after this many refreshes (0: until Ctrl-C)")
    p = sub.add_parser("events", help="the event log, newest first (docs/events.md)")
    p.add_argument("--count", type=int, default=128, help="how many (default: all kept, at most 128)")
    p = sub.add_parser("dump", help="every readable register by name")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    a = ap.parse_args(argv)
    if not 1 <= a.address <= 247:
        ap.error("--address must be 1..247")
    m = None
    try:
        if a.cmd in ("read", "write"):  # names first: a typo needs no meter
            for n in (a.names if a.cmd == "read" else [a.name]):
                lookup(n)
        m = Meter(a.port, a.address, a.baud, a.parity, a.stopbits, a.timeout)
        if a.cmd == "read":
            out.write(table(m.read(a.names)) + "\n")
        elif a.cmd == "write":
            pairs = m.write_and_check(a.name, a.value)
            if not pairs:
                out.write("%s %s: command accepted (a write-only register: nothing to read back)\n" % (
                    lookup(a.name)["name"], a.value))
            else:
                out.write(table(pairs) + "\n")
                if pairs[0][0]["name"] in LINE_SETTINGS:
                    out.write("the meter answers at its new settings: %s\n" % m.settings())
        elif a.cmd == "relay":
            out.write("relay %d %s\n" % (a.n, "on" if m.relay(a.n, a.state == "on") else "off"))
        elif a.cmd == "watch":
            names = a.names or [r[regmap.M_NAME] for r in regmap.MEASUREMENTS]
            # a terminal gets each table in place; a pipe or file gets the tables one after another, no escapes
            home = "\x1b[H\x1b[2J" if getattr(out, "isatty", lambda: False)() else ""
            k = 0
            try:
                while True:
                    pairs = m.read(names)
                    out.write("%s%s address %d   %s\n\n%s\n" % (home, a.port, a.address, time.strftime("%H:%M:%S"),
                                                             table(pairs)))
                    out.flush()
                    k += 1
                    if a.count and k >= a.count:
                        break
                    time.sleep(a.interval)
            except KeyboardInterrupt:
                out.write("\n")
        elif a.cmd == "events":
            out.write(events_table(*m.events(a.count)) + "\n")
        elif a.cmd == "dump":
            pairs = m.dump()
            if a.format == "json":
                json.dump([{"name": r["name"], "address": r["address"], "function": r["function"],
                            "value": v, "unit": r["unit"]} for r, v in pairs], out, indent=1)
                out.write("\n")
            else:
                w = csv.writer(out, lineterminator="\n")
                w.writerow(["name", "address", "function", "value", "unit"])
                for r, v in pairs:
                    w.writerow([r["name"], "0x%04X" % r["address"], r["function"], fmt_value(r, v), r["unit"]])
    except ClientError as e:
        sys.stderr.write("client: %s\n" % e)
        return e.code
    except BrokenPipeError:  # | head
        pass
    finally:
        if m is not None:
            m.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
