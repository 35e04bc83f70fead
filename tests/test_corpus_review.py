"""docs/corpus-review.md lists every finding on the corpus with a verdict; it must be current."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import shared_or_skip

ROOT = Path(__file__).resolve().parent.parent


def test_corpus_review_is_current_and_every_finding_is_judged():
    shared_or_skip("corpus")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "corpus_review.py"), "--check"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr


def test_false_positives_stay_below_five_percent():
    shared_or_skip("corpus")
    text = (ROOT / "docs" / "corpus-review.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.count("|") == 7
            and ("true positive" in line or "false positive" in line)]
    false = sum(1 for row in rows if "| false positive |" in row)
    assert rows and false / len(rows) < 0.05
