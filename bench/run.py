#!/usr/bin/env python3
"""Benchmark `gpulint check` the way users run it: whole commands, medians of several runs.

    python bench/run.py                 # 1,000 and 10,000 generated resources, --version, one file
    python bench/run.py --sizes 1000 --runs 3

Manifests come from ../shared/bench/gen_manifests.py (deterministic, about 2.7 KB per resource) and
are written under bench/out/ (git-ignored). Peak memory is the child's max RSS. Not a test: the
figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT.parent / "shared" / "bench" / "gen_manifests.py"
OUT = ROOT / "bench" / "out"


def generate(count: int) -> Path:
    target = OUT / f"gen-{count}"
    if not (target / ".complete").exists():
        if not GENERATOR.exists():
            sys.exit(f"generator not found: {GENERATOR}")
        subprocess.run([sys.executable, str(GENERATOR), "--resources", str(count), "--out", str(target),
                        "--quiet"], check=True)
        (target / ".complete").write_text("ok")
    return target


def timed(argv: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of one command."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, max(peak, before) / 1024, proc.returncode


def measure(label: str, argv: list[str], runs: int, resources: int | None = None) -> None:
    samples = [timed(argv) for _ in range(runs)]
    wall = statistics.median(s[0] for s in samples)
    peak = max(s[1] for s in samples)
    rate = f"{resources / wall:10.0f} resources/s" if resources else ""
    print(f"{label:28s} median {wall:7.3f} s  (min {min(s[0] for s in samples):.3f})  "
          f"peak RSS {peak:6.0f} MiB  {rate}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated resource counts")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    gpulint = [sys.executable, "-m", "gpulint"]
    env_note = f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    print(f"gpulint benchmark ({env_note}); medians of {args.runs} runs")
    measure("gpulint --version", gpulint + ["--version"], args.runs)
    one_file = ROOT / "examples"
    first = sorted(one_file.glob("*.yaml"))[:1]
    if first:
        measure("check one file (pre-commit)", gpulint + ["check", "-q", str(first[0])], args.runs)
    for size in (int(s) for s in args.sizes.split(",") if s):
        target = generate(size)
        measure(f"check {size:,} resources", gpulint + ["check", "-q", str(target)], args.runs, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
