"""`python -m bench throughput|export|reminders|inbox|imports [options]`: run one benchmark,
print its
figures and record them in BENCHMARKS.md."""

from __future__ import annotations

import importlib
import sys

BENCHES = {
    "throughput": "bench.throughput",
    "export": "bench.export",
    "reminders": "bench.reminders",
    "inbox": "bench.inbox",
    "imports": "bench.imports",  # branch imports
    "cpu": "bench.cpu",  # branch cpu
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in BENCHES:
        print(f"usage: python -m bench {{{'|'.join(BENCHES)}}} [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(BENCHES[argv[0]])
    module.run(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
