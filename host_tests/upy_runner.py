# SPDX-License-Identifier: MIT
# Runs the test_* functions of one case module under the MicroPython unix port; prints PASS/FAIL lines.
# Usage (from the repo root): micropython host_tests/upy_runner.py case_module [test_name]
import sys

import micropython

sys.path.insert(0, ".")
sys.path.insert(0, "host_tests/cases")


def main():
    mod = __import__(sys.argv[1])
    only = sys.argv[2] if len(sys.argv) > 2 else None
    names = sorted(n for n in dir(mod) if n.startswith("test_"))
    failed = 0
    for n in names:
        if only and n != only:
            continue
        try:
            getattr(mod, n)()
            print("PASS", n)
        except Exception as e:
            # Release a lock the failed test left behind, without unbalancing one it had released itself.
            micropython.heap_lock()
            while micropython.heap_unlock() > 0:
                pass
            failed += 1
            print("FAIL", n, repr(e))
            sys.print_exception(e)
    print("DONE", failed)


main()
