#!/usr/bin/env python3
"""Regenerate gpulint/engine/data/rulecache.json, the precomputed rewriting of the built-in rules.

    python scripts/build_rulecache.py            # after editing rules/ or gpulint/engine/cel/
    python scripts/build_rulecache.py --check    # exit 1 if the shipped cache is stale

gpulint works without the cache or with a stale one (expressions it does not know are compiled the
normal way), only slower: see gpulint/engine/cel/rulecache.py. tests/engine/cel/test_rulecache.py
fails while the cache is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gpulint.engine.cel import rulecache  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that the shipped cache is current")
    args = parser.parse_args()
    data = rulecache.build()
    text = rulecache.render(data)
    current = rulecache.PATH.read_text(encoding="utf-8") if rulecache.PATH.exists() else ""
    forms = rulecache.checked_forms(data)
    # Serialized programs are not byte-stable (protobuf maps): compare which sources they are for.
    forms_current = set(rulecache.read_checked_forms()) == set(forms)
    if args.check:
        if text != current or not forms_current:
            print(f"{rulecache.PATH} is stale: run python scripts/build_rulecache.py", file=sys.stderr)
            return 1
        return 0
    if text != current or not forms_current:
        rulecache.PATH.write_text(text, encoding="utf-8")
        binary = rulecache.render_checked(forms)
        rulecache.CHECKED_PATH.write_bytes(binary)
        print(f"wrote {rulecache.PATH} ({len(text):,} bytes) and {rulecache.CHECKED_PATH.name} "
              f"({len(binary):,} bytes, {len(forms)} programs)")
    else:
        print(f"{rulecache.PATH} is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
