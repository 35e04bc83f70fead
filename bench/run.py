#!/usr/bin/env python3
"""Benchmark `gpulint check` the way users run it: whole commands, medians of several runs.

    python bench/run.py                 # 1,000 and 10,000 generated resources, --version, one file
    python bench/run.py --sizes 1000 --runs 3
    python bench/run.py --checkov /tmp/ckv/bin/checkov --sizes 1,1000 --runs 1   # the same data, Checkov

Manifests come from ../shared/bench/gen_manifests.py (deterministic, about 2.7 KB per resource) and
are written under bench/out/ (git-ignored). Commands run with default options (several worker
processes on large inputs), after one untimed run that lets Python cache bytecode as an installed
package has it (PYTHONDONTWRITEBYTECODE is cleared for the children). Peak memory is the largest max
RSS of the command's processes. Not a test: the figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import json
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


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], ok=(0, 1)) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of one command, in a fresh process (so the peak is its own)."""
    code = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
            "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE); "
            "w = time.perf_counter() - t; "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(json.dumps([w, u.ru_maxrss, p.returncode, p.stderr.decode(errors='replace')[-2000:], "
            "u.ru_utime + u.ru_stime]))")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=ENV)
    wall, peak, returncode, stderr, cpu = json.loads(done.stdout)
    if returncode not in ok:
        sys.exit(f"{' '.join(argv)} failed ({returncode}): {stderr}")
    return wall, peak / 1024, returncode, cpu


def measure(label: str, argv: list[str], runs: int, resources: int | None = None, ok=(0, 1)) -> None:
    timed(argv, ok)  # warm-up: bytecode cache, page cache
    samples = [timed(argv, ok) for _ in range(runs)]
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[3] for s in samples)
    peak = max(s[1] for s in samples)
    rate = f"{resources / wall:8.1f} resources/s" if resources else ""
    print(f"{label:28s} median {wall:7.3f} s  (min {min(s[0] for s in samples):.3f}, max "
          f"{max(s[0] for s in samples):.3f})  cpu {cpu:7.3f} s  peak RSS {peak:6.0f} MiB  {rate}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated resource counts")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--checkov", metavar="PATH", help="measure this checkov executable on the same data instead")
    args = parser.parse_args()
    if args.checkov:
        return checkov(args.checkov, args.sizes, args.runs)
    gpulint = [sys.executable, "-m", "gpulint"]
    env_note = f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    print(f"gpulint benchmark ({env_note}); medians of {args.runs} runs")
    measure("gpulint --version", gpulint + ["--version"], args.runs)
    one_file = ROOT / "examples"
    first = sorted(one_file.glob("*.yaml"))[:1]
    if first:
        measure("check one file (pre-commit)", gpulint + ["check", "-q", str(first[0])], args.runs)
    absent = ROOT / "bench" / "data" / "absent-kind-policy.yaml"
    if first:
        measure("  + policy for absent kind", gpulint + ["check", "-q", "-p", str(absent), str(first[0])], args.runs)
    for size in (int(s) for s in args.sizes.split(",") if s):
        target = generate(size)
        measure(f"check {size:,} resources", gpulint + ["check", "-q", str(target)], args.runs, size)
        if size <= 1000:
            measure("  + policy for absent kind", gpulint + ["check", "-q", "-p", str(absent), str(target)],
                    args.runs, size)
    return 0


def checkov(executable: str, sizes: str, runs: int) -> int:
    """Checkov on the same generated data (`-d DIR --framework kubernetes`, as in ../shared/bench)."""
    print(f"checkov benchmark ({executable}); medians of {runs} runs")
    for size in (int(s) for s in sizes.split(",") if s):
        target = generate(size)
        if size == 1:
            one = sorted(target.rglob("*.yaml"))[0]
            argv = [executable, "-f", str(one), "--framework", "kubernetes", "--quiet", "--compact"]
        else:
            argv = [executable, "-d", str(target), "--framework", "kubernetes", "--quiet", "--compact"]
        measure(f"checkov {size:,} resources", argv, runs, size, ok=(0, 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
