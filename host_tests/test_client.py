# SPDX-License-Identifier: MIT
# The host client (tools/client.py) against the sim over its pty: names, engineering units, writes, relays, dump,
# watch, and one clear line with a non-zero exit code for a dead line, a wrong address, a refused write, a typo.
import csv
import io
import json
import os
import subprocess
import sys

from conftest import ROOT
from tools import client
from firmware import regmap


def run(sim, *args):
    out = io.StringIO()
    rc = client.main(["--port", sim.pty] + list(args), out=out)
    return rc, out.getvalue()


def values(text):
    # "Ua         219.9977 V" -> {"Ua": "219.9977"}
    return {w[0]: w[1] for w in (line.split() for line in text.splitlines()) if len(w) >= 2}


def test_read_in_engineering_units(sim):
    rc, text = run(sim, "read", "Ua", "PF", "Un", "baud", "DO1", "In")
    v = values(text)
    assert rc == 0, text
    assert abs(float(v["Ua"]) - 220.0) < 0.5 and abs(float(v["PF"]) - 0.8660254) < 0.002  # default scenario
    assert v["Un"] == "220" and v["baud"] == "9600" and v["DO1"] == "0"  # baud is stored /100, shown x scale
    assert v["In"] == "5"
    assert text.splitlines()[0].split()[0] == "Ua" and text.splitlines()[0].endswith(" V")
    rc, text = run(sim, "read", "dATA", "SYSS", "An")  # codes that stand for names: the panel's name first
    assert rc == 0 and values(text) == {"dATA": "8N1", "SYSS": "3Ln3CT", "An": "Ua"}, text
    assert "8N1 (0)" in text
    rc, text = run(sim, "write", "An", "Ia")  # a name is written as its code (regmap.AN_NAMES: Ia is 3)
    assert rc == 0 and values(text)["An"] == "Ia" and "Ia (3)" in text, text
    assert run(sim, "write", "An", "Ua")[0] == 0


def test_write_relay_and_read_back(sim):
    rc, text = run(sim, "write", "Ct_I", "40")
    assert rc == 0 and values(text)["Ct_I"] == "40"
    rc, text = run(sim, "read", "Ia")
    assert rc == 0 and abs(float(values(text)["Ia"]) - 200.0) < 0.5  # 5 A secondary x 40 (settles at once)
    assert run(sim, "write", "Ct_I", "1")[0] == 0
    rc, text = run(sim, "relay", "2", "on")
    assert rc == 0 and text == "relay 2 on\n" and sim.state()["relays"] == [0, 1]
    rc, text = run(sim, "relay", "2", "off")
    assert rc == 0 and text == "relay 2 off\n" and sim.state()["relays"] == [0, 0]


def test_dump_csv_and_json(sim):
    rc, text = run(sim, "dump", "--format", "csv")
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    names = [r["name"] for r in rows]
    readable = [r["name"] for r in client.registers() if r["access"] != "w"]
    assert sorted(names) == sorted(readable) and "Key" not in names
    by = {(r["name"], r["address"]): r for r in rows}
    assert by[("Adr", "0x0000")]["value"] == "1" and abs(float(by[("Uab", "0x0106")]["value"]) - 381.05) < 1
    rc, text = run(sim, "dump", "--format", "json")
    assert rc == 0
    js = json.loads(text)
    assert len(js) == len(rows) and {"name": "Pt_U", "address": 6, "function": 3, "value": 1, "unit": ""} in js


def test_register_names_are_unique():
    # every name the client reads by is one register: no NAME@ADDRESS needed (the rated current `In` is the
    # manual's symbol; the neutral current is `I_N`)
    names = [r["name"] for r in client.registers()]
    dup = sorted({n for n in names if names.count(n) > 1})
    assert not dup, dup
    assert client.lookup("In")["address"] == 0x0005 and client.lookup("I_N")["description"].startswith("Neutral")


def test_watch_on_its_defaults(sim):
    # no names: every measurement, in one table
    rc, text = run(sim, "watch", "--count", "1")
    assert rc == 0, text
    rows = [x.split()[0] for x in text.splitlines()[2:] if x.strip()]
    assert rows == [m[0] for m in regmap.MEASUREMENTS], rows


def test_watch_refreshes(sim):
    rc, text = run(sim, "watch", "--count", "2", "--interval", "0.1", "Ua", "F")
    # not a terminal: the tables one after another, without the screen-clearing escapes a terminal gets
    assert rc == 0 and "\x1b" not in text and text.count(" address 1 ") == 2 and text.count("\nF ") == 2


def test_errors_are_one_line(sim, capsys):
    cases = [
        (["read", "Uaa"], client.USAGE, "unknown register name 'Uaa' (did you mean Ua"),
        (["write", "Ua", "1"], client.USAGE, "Ua is read-only"),
        (["write", "Un", "123"], client.REFUSED, "the meter refused the write of Un = 123: exception 03 illegal data value"),
        (["--address", "9", "read", "Ua"], client.NO_ANSWER, "no answer from address 9"),
    ]
    for args, code, text in cases:
        capsys.readouterr()
        rc, out = run(sim, *args)
        err = capsys.readouterr().err
        assert rc == code and out == "", (args, rc, out)
        assert err.startswith("client: " + text) and err.count("\n") == 1, (args, err)


def test_dead_line_and_missing_port(tmp_path, capsys):
    master, slave = os.openpty()  # a line with nothing on it
    try:
        out = io.StringIO()
        rc = client.main(["--port", os.ttyname(slave), "--timeout", "0.3", "read", "Ua"], out=out)
        err = capsys.readouterr().err
        assert rc == client.NO_ANSWER and err.startswith("client: no answer from address 1") and not out.getvalue()
    finally:
        os.close(master)
        os.close(slave)
    rc = client.main(["--port", str(tmp_path / "ttyNONE"), "read", "Ua"])
    assert rc == client.NO_PORT and "cannot open" in capsys.readouterr().err


def test_module_entry_point(sim):
    r = subprocess.run([sys.executable, "-m", "tools.client", "--port", sim.pty, "read", "F"], cwd=ROOT,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and abs(float(r.stdout.split()[1]) - 50.0) < 0.01, r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-m", "tools.client", "--port", sim.pty, "read", "Nope"], cwd=ROOT,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == client.USAGE and r.stderr.startswith("client: unknown register name") and not r.stdout
