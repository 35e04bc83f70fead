"""How fast the load stage reads a large manifest set (a measurement, not a test).

    python bench/load_speed.py [--resources 10000] [--out bench/out/gen-10000] [--runs 3] [--jobs 0]

Generates the set with ../shared/bench/gen_manifests.py when it is missing, then times
gpulint.load.load_paths on it in a fresh interpreter per run (as the CLI would run it: --jobs 0 loads a
large input on one process per CPU, --jobs 1 in one process) and prints each run and the median.
CPU is that of the process and of its workers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATOR = os.path.join(ROOT, "..", "shared", "bench", "gen_manifests.py")

RUN = """
import os, sys, time
sys.path.insert(0, {root!r})
from gpulint.load import load_paths
def cpu():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
start, used = time.perf_counter(), cpu()
result = load_paths([{out!r}], jobs={jobs})
elapsed, used = time.perf_counter() - start, cpu() - used
print(elapsed, used, len(result.resources), len(result.errors), len(result.files))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--out", help="default: bench/out/gen-RESOURCES, as bench/run.py")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=0, help="load_paths(jobs=...): 0 as the CLI, 1 serial")
    args = parser.parse_args()
    args.out = args.out or os.path.join(ROOT, "bench", "out", f"gen-{args.resources}")
    if not os.path.isdir(args.out):
        subprocess.run([sys.executable, GENERATOR, "--resources", str(args.resources), "--out", args.out, "--quiet"],
                       check=True)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(args.out) for f in files)
    times, cpu_times = [], []
    for run in range(args.runs):
        output = subprocess.run([sys.executable, "-c", RUN.format(root=ROOT, out=args.out, jobs=args.jobs)],
                                check=True, capture_output=True, text=True).stdout.split()
        elapsed, cpu, (resources, errors, files) = float(output[0]), float(output[1]), map(int, output[2:])
        times.append(elapsed)
        cpu_times.append(cpu)
        print(f"run {run + 1}: {elapsed:.2f} s ({cpu:.2f} s CPU), {resources} resources, {errors} errors, {files} files")
    median = statistics.median(times)
    print(f"median {median:.2f} s ({statistics.median(cpu_times):.2f} s CPU) for {size / 1e6:.1f} MB: "
          f"{resources / median:,.0f} resources/s, {size / 1e6 / median:.1f} MB/s; load average now "
          f"{os.getloadavg()[0]:.1f} (other processes on the machine slow the wall-clock figure)")


if __name__ == "__main__":
    main()
