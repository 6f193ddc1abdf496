"""``shortcut-ntk report --compare OLD.json``: the regression guard.

A claim row (matched on claim id and network) is flagged when its verdict changed, or when its
worst (the pass rule's distance from the prediction, numerics.checks) grew by more than
GROWTH_FACTOR over max(old, ROUNDING_FLOOR). The floor keeps rounding-level errors
(1e-16 -> 1e-15) from raising alarms: below 1e-12 an error says "exact", whatever its digits.
A worst <= 0 is a trend held with room to spare; it can only regress through the verdict.
"""
from __future__ import annotations

import json
import math

GROWTH_FACTOR = 10.0
ROUNDING_FLOOR = 1e-12


def load(path) -> dict:
    try:
        with open(path) as fh:
            document = json.load(fh)
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"--compare: cannot read {path}: {error}") from None
    if not isinstance(document, dict) or "rows" not in document:
        raise ValueError(f"--compare: {path} is not a claims.json written by shortcut-ntk report")
    return document


def regressions(old: dict, new: dict) -> list[str]:
    """One message per regressed row of ``new`` against ``old`` (rows missing from either side are skipped)."""
    before = {(r["claim"], r["network"]): r for r in old["rows"]}
    messages = []
    for row in new["rows"]:
        previous = before.get((row["claim"], row["network"]))
        if previous is None:
            continue
        name = f"{row['claim']} [{row['network']}]"
        if row["verdict"] != previous["verdict"]:
            messages.append(f"{name}: verdict {previous['verdict']} -> {row['verdict']}")
        worst, was = row["worst"], previous["worst"]
        if all(isinstance(v, (int, float)) and math.isfinite(v) for v in (worst, was)):
            if worst > GROWTH_FACTOR * max(was, ROUNDING_FLOOR):
                messages.append(f"{name}: worst error {was:.3g} -> {worst:.3g} (> {GROWTH_FACTOR:g}x)")
    return messages
