# SPDX-License-Identifier: MIT
# The README's register table is generated from firmware/regmap.py; this keeps the two equal.
import os
import re

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


def _architecture():
    return open(os.path.join(ROOT, "docs", "ARCHITECTURE.md")).read()


def test_architecture_names_only_modules_that_exist():
    # every path and every `name.py` the map mentions is in the tree (a renamed or deleted module fails here)
    import re

    text = _architecture()
    paths = set(re.findall(r"\b((?:firmware|boards|tools|host_tests|docs)/[\w./-]*\w)", text))
    assert len(paths) > 100
    missing = sorted(p for p in paths if not os.path.exists(os.path.join(ROOT, p)))
    assert not missing, missing
    names = set(re.findall(r"\b(\w+\.(?:py|mjs))\b", text))
    have = set()
    for top in ("firmware", "boards", "tools", "host_tests"):
        for d, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [x for x in dirs if x != "node_modules"]
            have.update(files)
    assert not sorted(names - have), sorted(names - have)


def test_every_firmware_and_board_module_is_on_the_map():
    text = _architecture()
    modules = []
    for top in ("firmware", "boards", "tools"):
        for d, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [x for x in dirs if x not in ("node_modules", "__pycache__", "emu", "device", "upy_compat")]
            modules += [os.path.relpath(os.path.join(d, f), ROOT) for f in files
                        if f.endswith(".py") and (f != "__init__.py" or d.endswith("ui"))]
    assert len(modules) > 100
    absent = sorted(m for m in modules if "`%s`" % m not in text)
    assert not absent, "docs/ARCHITECTURE.md: add these modules to the map: %s" % absent


def test_every_module_carries_the_license_line():
    # LICENSE is MIT; each of our modules (Python, and the emulator's JavaScript) says so in its first lines
    # (after a shebang, if any)
    missing = []
    for top in ("firmware", "boards", "tools", "host_tests"):
        for d, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [x for x in dirs if x not in ("node_modules", "__pycache__")]
            for f in files:
                mark = {".py": "# ", ".mjs": "// "}.get(os.path.splitext(f)[1])
                if mark:
                    head = open(os.path.join(d, f)).read().split("\n", 2)[:2]
                    if mark + "SPDX-License-Identifier: MIT" not in head:
                        missing.append(os.path.relpath(os.path.join(d, f), ROOT))
    assert len(missing) == 0, missing
    assert open(os.path.join(ROOT, "LICENSE")).read().startswith("MIT License")


def test_feature_table_points_at_sections_that_exist():
    # docs/ARCHITECTURE.md "Where each feature lives": every `docs/X.md "Section"` names a heading (or a bold
    # paragraph title) of that file, so a reader who follows a row lands on the text that says how to change it
    arch = open(os.path.join(ROOT, "docs", "ARCHITECTURE.md")).read()
    table = arch[arch.index("## Where each feature lives"):arch.index("### Changing a setting")]
    bad = []
    for m in re.finditer(r'docs/([a-z_]+)\.md ((?:"[^"]+"(?: \([^)]*\))?(?:, )?)+)', table):
        text = open(os.path.join(ROOT, "docs", m.group(1) + ".md")).read()
        titles = [ln.lstrip("#").strip() for ln in text.split("\n") if ln.startswith("#")]
        titles += re.findall(r"\*\*([^*]+)\*\*", text)
        for name in re.findall(r'"([^"]+)"', m.group(2)):
            stem = name.rstrip(". ")
            if not any(t.startswith(stem) or stem in t for t in titles):
                bad.append("docs/%s.md %r" % (m.group(1), name))
    assert not bad, bad
