"""Same input, same output, across processes.

CEL map iteration order is random per process (cel-cpp hashes, like Go maps in Kyverno), so a policy
that iterates a map (PyTorchJob replica specs, labels, selectors) must sort keys before it builds a
message or picks "the first" element. This test catches a policy that does not, by running the whole
rule pack over every fixture in separate processes with different hash seeds.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed, NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-m", "gpulint", "check", "-o", "json", "--include-pass",
                           "--fail-on", "never", "fixtures", "examples"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_rule_pack_output_is_identical_across_processes():
    first = _run("1")
    for seed in ("2", "3"):
        other = _run(seed)
        if other != first:
            import difflib

            diff = "\n".join(list(difflib.unified_diff(first.splitlines(), other.splitlines(), lineterm=""))[:40])
            raise AssertionError(f"output differs between processes:\n{diff}")
