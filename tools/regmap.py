# SPDX-License-Identifier: MIT
# Prints the register map (firmware/regmap.py, the single source) as JSON or as a Markdown table.
# Usage: python -m tools.regmap --json | --markdown
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "upy_compat"))
sys.path.insert(0, ROOT)
import micropython  # noqa: E402  (CPython stand-in)

from firmware import regmap  # noqa: E402  (after the sys.path set-up)


def markdown(rows):
    out = ["| name | address | FC | type | scale | unit | access | description |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| %s | %d (0x%04X) | %d | %s | %s | %s | %s | %s |" % (
            r["name"], r["address"], r["address"], r["function"], r["type"], r["scale"], r["unit"],
            r["access"], r["description"]))
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="JSON list of registers")
    g.add_argument("--markdown", action="store_true", help="Markdown table (for the README)")
    g.add_argument("--update-readme", action="store_true", help="rewrite the table in README.md")
    a = ap.parse_args(argv)
    rows = regmap.rows()
    if a.update_readme:
        update_readme(markdown(rows))
        return
    print(markdown(rows) if a.markdown else json.dumps(rows, indent=1))


def update_readme(table):
    path = os.path.join(ROOT, "README.md")
    text = open(path).read()
    begin, end = "<!-- regmap:begin -->\n", "<!-- regmap:end -->"
    text = text[:text.index(begin) + len(begin)] + table + "\n" + text[text.index(end):]
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
