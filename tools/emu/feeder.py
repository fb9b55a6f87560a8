# The sample source behind the emulated chip's host port: a Generator serving requests on stdin/stdout.
# Requests (one a line): "b N" -> N samples, 8 x int32 little-endian each; "s K" -> switch to scenario K.
#   python -m tools.emu.feeder SCENARIO.json [SCENARIO.json ...]
import sys

from tools import scenario as scn
from tools.generator import Generator


def main(argv=None):
    paths = sys.argv[1:] if argv is None else argv
    scenarios = [scn.load(p) for p in paths]
    gen = Generator(scenarios[0])
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        verb, arg = line.split()
        if verb == b"b":
            out.write(gen.block(int(arg)))
            out.flush()
        elif verb == b"s":
            gen.set_scenario(scenarios[int(arg)])
        else:
            raise SystemExit("feeder: unknown request %r" % line)


if __name__ == "__main__":
    main()
