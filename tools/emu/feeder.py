# SPDX-License-Identifier: MIT
# The sample source behind the emulated chip: a Generator serving requests on stdin/stdout.
# Requests (one a line): "b N" -> N samples, 8 x int32 little-endian each; "s K" -> switch to scenario K;
# "j JSON" -> switch to this scenario (its JSON form on one line), answered by one line "ok" or "ERR reason".
# A switch keeps the generator's time and phase (Generator.set_scenario).
#   python -m tools.emu.feeder [--seed N] [SCENARIO.json ...]     (none: the default scenario)
import json
import sys

from tools import scenario as scn
from tools.generator import Generator


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    seed = 0
    if args[:1] == ["--seed"]:
        seed = int(args[1])
        args = args[2:]
    scenarios = [scn.load(p) for p in args] or [scn.default()]
    gen = Generator(scenarios[0], seed=seed)
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        verb, _, arg = line.rstrip(b"\n").partition(b" ")
        if verb == b"b":
            out.write(gen.block(int(arg)))
            out.flush()
        elif verb == b"s":
            gen.set_scenario(scenarios[int(arg)])
        elif verb == b"j":
            try:
                gen.set_scenario(scn.parse(json.loads(arg)))
                out.write(b"ok\n")
            except ValueError as e:  # JSONDecodeError is one
                out.write(("ERR %s\n" % e).encode().replace(b"\n", b" ").rstrip() + b"\n")
            out.flush()
        else:
            raise SystemExit("feeder: unknown request %r" % line)


if __name__ == "__main__":
    main()
