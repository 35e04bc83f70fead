"""Baselines (`--baseline FILE`, `--write-baseline FILE`): findings accepted once, skipped after.

A finding matches a baseline entry by identity (policy, rule, resource apiVersion/kind/namespace/
name, pod-template role, offending field), never by file or line, so edits elsewhere and moved
files keep it matched. Each entry covers one finding: a second identical finding is new. The file
is JSON, sorted, without line numbers or timestamps, so it diffs well in review (docs/ci.md).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

from gpulint.engine.result import ERROR, FAIL, SKIP, WARN, RuleResult, Suppression
from gpulint.report.common import identity, identity_key

FORMAT_KEY = "gpulint-baseline"
FORMAT_VERSION = 1
REASON = "in baseline"
BASELINED = (FAIL, WARN, ERROR)

SCHEMA = {
    "type": "object",
    "required": [FORMAT_KEY, "findings"],
    "properties": {
        FORMAT_KEY: {"const": FORMAT_VERSION},
        "findings": {"type": "array", "items": {
            "type": "object",
            "required": ["policy", "resource"],
            "properties": {
                "policy": {"type": "string"}, "rule": {"type": "string"}, "role": {"type": "string"},
                "field": {"type": "string"}, "result": {"type": "string"}, "file": {"type": "string"},
                "message": {"type": "string"},
                "resource": {"type": "object", "required": ["kind", "name"],
                             "properties": {k: {"type": "string"} for k in ("apiVersion", "kind", "namespace", "name")}},
            },
        }},
    },
}


class BaselineError(Exception):
    """A baseline file that cannot be used; the message is one line naming the file."""


def load(path: str) -> Counter:
    """How many findings of each identity the baseline at `path` accepts."""
    import jsonschema

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as error:
        raise BaselineError(f"{path}: cannot read baseline: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BaselineError(f"{path}: not a gpulint baseline (invalid JSON: {error})") from None
    problem = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data))
    if problem is not None:
        where = "/".join(str(p) for p in problem.absolute_path) or "top level"
        raise BaselineError(f"{path}: not a gpulint baseline ({where}: {problem.message})")
    return Counter(identity_key(entry) for entry in data["findings"])


def apply(results: list[RuleResult], accepted: Counter) -> list[RuleResult]:
    """`results` with the findings the baseline accepts turned into `skip` "in baseline"."""
    remaining = Counter(accepted)
    out = []
    for result in results:
        if result.result in BASELINED:
            key = identity_key(identity(result))
            if remaining[key] > 0:
                remaining[key] -= 1
                result = replace(result, result=SKIP, message=REASON,
                                 suppression=Suppression("baseline", REASON, result.result, result.message))
        out.append(result)
    return out


def render(results: list[RuleResult]) -> str:
    """A baseline accepting every current finding, including those an older baseline accepted."""
    entries = []
    for result in results:
        suppression = result.suppression
        if result.result in BASELINED:
            word, message = result.result, result.message
        elif result.result == SKIP and suppression is not None and suppression.kind == "baseline":
            word, message = suppression.result, suppression.message
        else:
            continue
        entry = identity(result)
        entry.update(result=word, file=result.resource.file, message=message)
        entries.append(entry)
    entries.sort(key=lambda e: (e["file"], identity_key(e), e["message"]))
    return json.dumps({FORMAT_KEY: FORMAT_VERSION, "findings": entries}, indent=2, ensure_ascii=False) + "\n"
