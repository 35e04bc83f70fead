"""How much finding positions cost: gpulint's locators (line scanner first) against libyaml's events only.

    python bench/locate_speed.py [DIR] [--rounds 9]

Runs `gpulint check -q -j 1 DIR` (default bench/out/gen-1000, made by bench/run.py) in this process and
records, for each document a finding was located in, the paths asked for. Then replays them: building a
locator and looking every path up, with gpulint.load.positions.build_locator and with the former
locator (the whole event tree, then walks), interleaved by chunks of documents, best CPU time of each
chunk over the rounds. Also checks that both give the same positions, and that `gpulint check` prints
the same findings with the former locator. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import time

from gpulint.cli import main as gpulint_main
from gpulint.load import positions
from gpulint.load.model import Position


def events_locator(doc):
    """build_locator as it was before gpulint.load.blockpos: the whole event tree, then walks."""
    try:
        root = positions._json_tree(doc.text) if doc.is_json else positions._yaml_tree(doc.text, doc.part)
    except Exception:  # noqa: BLE001
        root = None

    def locate(path):
        if root is None:
            return Position(doc.line, 1)
        entry = positions._walk(root, path)
        return Position(entry[0] + doc.line, entry[1] + 1)

    return locate


def check(directory: str, builder) -> tuple[str, list]:
    """The output of `gpulint check` with `builder` as the locator factory, and the lookups it made."""
    recorded: list = []
    original = positions.build_locator

    def recording(doc):
        locate, paths = builder(doc), []
        recorded.append((doc, paths))

        def look(path):
            paths.append(path)
            return locate(path)

        return look

    positions.build_locator = recording
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            try:
                gpulint_main(["check", "-q", "-j", "1", directory])
            except SystemExit:
                pass
    finally:
        positions.build_locator = original
    return out.getvalue(), recorded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", default=os.path.join(os.path.dirname(__file__), "out", "gen-1000"))
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    output, work = check(args.dir, positions.build_locator)
    if check(args.dir, events_locator)[0] != output:
        raise SystemExit("the findings differ")
    builders = {"lines": positions.build_locator, "events": events_locator}
    answers = {name: [[build(doc)(path) for path in paths] for doc, paths in work] for name, build in builders.items()}
    if answers["lines"] != answers["events"]:
        raise SystemExit("the positions differ")
    positions.used.clear()
    chunks = [work[i:i + 50] for i in range(0, len(work), 50)]
    best = {name: [float("inf")] * len(chunks) for name in builders}
    for rounds in range(args.rounds):
        for number, chunk in enumerate(chunks):
            for name in sorted(builders, reverse=bool((rounds + number) % 2)):
                build = builders[name]
                start = time.process_time()
                for doc, paths in chunk:
                    locate = build(doc)
                    for path in paths:
                        locate(path)
                best[name][number] = min(best[name][number], time.process_time() - start)
    documents, lookups = len(work), sum(len(paths) for _, paths in work)
    ways = {way: count // args.rounds for way, count in positions.used.items()}
    print(f"{args.dir}: {documents} located documents, {lookups} lookups; locators built from {ways}")
    for name in builders:
        print(f"  {name:6s}: {sum(best[name]) / max(documents, 1) * 1e6:6.1f} us per located document")
    print(f"  lines vs events: {sum(best['events']) / sum(best['lines']):.1f}x cheaper; same positions, same findings")


if __name__ == "__main__":
    main()
