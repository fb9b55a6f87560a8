# Shared pytest set-up: repo root and the CPython stand-in for `micropython` on sys.path.
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "upy_compat"))
sys.path.insert(0, ROOT)
import micropython  # noqa: E402,F401  (the stand-in registers itself)

MICROPYTHON = shutil.which("micropython", path=os.path.dirname(sys.executable)) or shutil.which("micropython")
