"""``shortcut-ntk report --compare OLD.json``: the regression guard.

Rows are matched on their report entry (``entry``: "<module>.<function>", numerics.report.run.entry_id),
the one key that is unique per row and the same for a row that holds and one that raised (a "not run" row
has no network name of its own). Documents written before rows carried ``entry`` fall back to (claim,
network), which is unique among rows that ran; a key shared by several rows is matched by occurrence
and warned about. Each matched pair is classified:

* regression (exit status 1): holds -> fails or not run, fails -> not run, or a worst (the pass rule's
  distance from the prediction, numerics.checks) grown by more than GROWTH_FACTOR over
  max(old, ROUNDING_FLOOR). The floor keeps rounding-level errors (1e-16 -> 1e-15) from raising alarms:
  below 1e-12 an error says "exact", whatever its digits. A worst <= 0 is a trend held with room to
  spare; it can only regress through the verdict.
* improvement: fails or not run -> holds.
* change (reported, never an exit status): not run -> fails; a numeric ``series`` value moved by more
  than tolerances.SERIES_RELATIVE_CHANGE of its series' scale, a series changed length, or series keys were
  added or removed (rows that ran on both sides).
* still fails: fails in both runs.

Rows only in the old document are "missing" (those that --claims/--arch left out of the new run are
counted in one line), rows only in the new one "added". Different mode, seed, device or versions are warnings:
they change series (a quick and a full run sweep different sizes) without being regressions.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from numerics import tolerances as tol

GROWTH_FACTOR = 10.0
ROUNDING_FLOOR = 1e-12

#: the document fields that describe the run rather than its rows (a difference is a warning)
RUN_FIELDS = ("mode", "seed", "device")


def load(path) -> dict:
    try:
        with open(path) as fh:
            document = json.load(fh)
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"--compare: cannot read {path}: {error}") from None
    if not isinstance(document, dict) or "rows" not in document:
        raise ValueError(f"--compare: {path} is not a claims.json written by shortcut-ntk report")
    return document


@dataclass
class Comparison:
    """The classified differences between an old and a new claims.json (one message per item)."""

    warnings: list[str] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    still_failing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    GROUPS = (("warnings", "warnings (the runs differ; series changes are then expected)"),
              ("regressions", "REGRESSIONS (exit status 1)"), ("improvements", "improvements"),
              ("changes", "changes (not regressions)"), ("still_failing", "still failing (failed before too)"),
              ("missing", "missing from the new run"), ("added", "added in the new run"))

    def summary(self, old_name: str) -> str:
        """A headline with the count of each group, then each non-empty group with its messages."""
        counts = ", ".join(f"{len(getattr(self, g))} {g.replace('_', ' ')}" for g, _ in self.GROUPS)
        lines = [f"compared with {old_name}: {counts}"]
        for group, title in self.GROUPS:
            if getattr(self, group):
                lines += [f"  {title}:"] + [f"    {message}" for message in getattr(self, group)]
        return "\n".join(lines)


def run_mismatches(old: dict, new: dict) -> list[str]:
    """Mode, seed, device and library versions that differ between the two runs."""
    messages = [f"{name}: {old.get(name)} -> {new.get(name)}" for name in RUN_FIELDS if old.get(name) != new.get(name)]
    before, after = old.get("versions", {}), new.get("versions", {})
    messages += [f"{lib} version: {before.get(lib)} -> {after.get(lib)}" for lib in sorted(set(before) | set(after))
                 if before.get(lib) != after.get(lib)]
    return messages


def _keyed(rows: list[dict], by_entry: bool) -> tuple[dict, list]:
    """Rows by key (entry, or (claim, network)); a key shared by k rows becomes (key, 0) .. (key, k-1)."""
    seen, keyed, shared = {}, {}, []
    for row in rows:
        key = row["entry"] if by_entry else (row["claim"], row["network"])
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        keyed[(key, occurrence)] = row
        if occurrence == 1:
            shared.append(key)
    return keyed, shared


def _name(row: dict) -> str:
    return f"{row['claim']} [{row['network']}]"


def verdict_change(was: str, now: str) -> str | None:
    """The group of a verdict change: "regressions", "improvements", "changes", "still_failing" or None."""
    if was == now:
        return "still_failing" if now == "fails" else None
    if now == "holds":
        return "improvements"
    if was == "holds" or now == "not run":
        return "regressions"
    return "changes"                       # not run -> fails: it runs again, and still fails


def worst_growth(was, worst) -> bool:
    """Whether the rule's distance from the prediction grew past GROWTH_FACTOR (both finite)."""
    finite = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (worst, was))
    return finite and worst > GROWTH_FACTOR * max(was, ROUNDING_FLOOR)


def _leaves(value, path: str):
    """(path, float) for every number inside nested dicts, lists and tuples (bools and strings skipped)."""
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _leaves(value[key], f"{path}.{key}")
    elif isinstance(value, (list, tuple)):        # tuples: a row in memory, before its JSON round trip
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, float(value)


def _moved(a: float, b: float) -> float:
    """|b - a|; 0 for two NaNs, inf when exactly one side is not finite (or they are different infinities)."""
    if math.isnan(a) and math.isnan(b):
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return 0.0 if a == b else math.inf
    return abs(b - a)


def series_changes(old: dict, new: dict) -> list[str]:
    """Series keys added or removed; per series key in both rows, a change of shape, or the largest |new - old|
    at one position when it exceeds SERIES_RELATIVE_CHANGE times the series' scale (its largest finite |value|
    in either run)."""
    added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
    messages = [f"series {label}: {', '.join(keys)}" for label, keys in (("added", added), ("removed", removed)) if keys]
    for key in sorted(set(old) & set(new)):
        before, after = dict(_leaves(old[key], key)), dict(_leaves(new[key], key))
        if before.keys() != after.keys():
            messages.append(f"series {key}: shape changed ({len(before)} -> {len(after)} values)")
            continue
        finite = [abs(v) for v in (*before.values(), *after.values()) if math.isfinite(v)]
        scale = max(finite, default=0.0) or ROUNDING_FLOOR
        moved = {path: _moved(before[path], after[path]) / scale for path in before}
        worst = max(moved, key=moved.get, default=None)
        if worst is not None and moved[worst] > tol.SERIES_RELATIVE_CHANGE:
            messages.append(f"series {key}: moved {moved[worst]:.2g} of its scale {scale:.3g} "
                            f"(at {worst}: {before[worst]:.6g} -> {after[worst]:.6g})")
    return messages


def _selected(row: dict, new: dict) -> bool:
    """Whether the new run's --claims/--arch selection (document field ``selection``) covered this row."""
    selection = new.get("selection") or {}
    claims, archs = selection.get("claims"), selection.get("arch")
    module = row.get("entry", "").split(".")[0] or row["arch"]
    return (claims is None or row["claim"] in claims) and (archs is None or module in archs)


def compare(old: dict, new: dict) -> Comparison:
    """Classify every difference between ``old`` and ``new`` (see the module docstring)."""
    result = Comparison(warnings=run_mismatches(old, new))
    by_entry = all("entry" in r for r in old["rows"] + new["rows"])
    if not by_entry:
        result.warnings.append("rows matched on (claim, network): a document has no entry ids (written before "
                               "they were recorded), so a row that raised is 'missing' + 'added'")
    before, shared_old = _keyed(old["rows"], by_entry)
    after, shared_new = _keyed(new["rows"], by_entry)
    for key in dict.fromkeys(shared_old + shared_new):
        result.warnings.append(f"several rows share the key {key}; matched in order of appearance")
    absent = [row for key, row in before.items() if key not in after]
    result.missing = [f"{_name(row)}: was {row['verdict']}" for row in absent if _selected(row, new)]
    outside = len(absent) - len(result.missing)
    if outside:
        result.missing.append(f"{outside} row(s) outside this run's --claims/--arch selection (not compared)")
    for key, row in after.items():
        previous = before.get(key)
        if previous is None:
            result.added.append(f"{_name(row)}: {row['verdict']}")
            continue
        name = _name(row if row["verdict"] != "not run" else previous)
        group = verdict_change(previous["verdict"], row["verdict"])
        if group == "still_failing":
            result.still_failing.append(f"{name}: fails in both runs")
        elif group is not None:
            getattr(result, group).append(f"{name}: verdict {previous['verdict']} -> {row['verdict']}")
        if worst_growth(previous["worst"], row["worst"]):
            result.regressions.append(f"{name}: worst error {previous['worst']:.3g} -> {row['worst']:.3g} "
                                      f"(> {GROWTH_FACTOR:g}x)")
        if "not run" not in (previous["verdict"], row["verdict"]):      # a row that raised has no series
            result.changes += [f"{name}: {message}" for message in
                               series_changes(previous.get("series", {}), row.get("series", {}))]
    return result
