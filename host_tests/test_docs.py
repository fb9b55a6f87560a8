# The README's register table is generated from firmware/regmap.py; this keeps the two equal.
import os

from conftest import ROOT
from tools.regmap import markdown
from firmware import regmap


def test_readme_register_table_is_current():
    text = open(os.path.join(ROOT, "README.md")).read()
    begin, end = "<!-- regmap:begin -->\n", "<!-- regmap:end -->"
    table = text[text.index(begin) + len(begin):text.index(end)].strip()
    assert table == markdown(regmap.rows()), "run: make docs (python -m tools.regmap --update-readme)"


def test_readme_opens_with_the_two_commands():
    head = open(os.path.join(ROOT, "README.md")).read().splitlines()[:8]
    assert any(line.startswith("make run") for line in head) and any(line.startswith("make test") for line in head)


def test_modbus_doc_worked_examples_are_the_meters_bytes():
    # docs/modbus.md's table of worked examples: each request sent to a Meter at address 0x11, reply compared
    import re

    from firmware.meter import Meter

    text = open(os.path.join(ROOT, "docs", "modbus.md")).read()
    rows = re.findall(r"^\| `([0-9A-F ]+)` \| `([0-9A-F ]+)` \|", text, re.M)
    assert len(rows) >= 5
    m = Meter(None)
    m.set("Adr", 0x11)
    for req, rep in rows:
        f = bytearray(bytes.fromhex(req))
        k = m.modbus(f, len(f))
        assert bytes(m.tx[:k]).hex(" ").upper() == rep, (req, bytes(m.tx[:k]).hex(" ").upper())
