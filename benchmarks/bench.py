"""Speed and memory benchmarks beside their targets: ``python benchmarks/bench.py [--out FILE]``.

The same figures as ``nextpractice bench``; see :mod:`sim.bench`.
"""

import argparse

from sim.bench import run_bench

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write the figures as JSON to this file")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = ap.parse_args()
    run_bench(args.out, quick=args.quick)
