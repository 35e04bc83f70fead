"""How fast the load stage reads a large manifest set (a measurement, not a test).

    python bench/load_speed.py [--resources 10000] [--out /tmp/gen10k] [--runs 3]

Generates the set with ../shared/bench/gen_manifests.py when it is missing, then times
gpulint.load.load_paths on it in a fresh interpreter per run (as the CLI would run it) and prints
each run and the median.
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
import sys, time
sys.path.insert(0, {root!r})
from gpulint.load import load_paths
start, cpu = time.perf_counter(), time.process_time()
result = load_paths([{out!r}])
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(elapsed, cpu, len(result.resources), len(result.errors), len(result.files))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--out", default="/tmp/gen10k")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.path.isdir(args.out):
        subprocess.run([sys.executable, GENERATOR, "--resources", str(args.resources), "--out", args.out, "--quiet"],
                       check=True)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(args.out) for f in files)
    times, cpu_times = [], []
    for run in range(args.runs):
        output = subprocess.run([sys.executable, "-c", RUN.format(root=ROOT, out=args.out)],
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
