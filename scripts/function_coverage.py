"""Fail when a function behind a claim's result is not executed by the default test run (issue 18).

Every function in numerics/experiments/, numerics/checks.py and numerics/report/ must run at least once
under ``python -m pytest -q``: a report row or a figure's theory line computed by an untested function can
be wrong while every test passes. Usage, from the repository root (.ci/run does this):

    python -m coverage run -m pytest -q
    python scripts/function_coverage.py            # reads .coverage, exits 1 listing unexecuted functions

Function-level data comes from coverage.py's JSON report (coverage >= 7.5: per-file "functions").
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

#: the code whose every function must be executed by the tests: claim experiments, pass rules, report
GUARDED = ("numerics/experiments/", "numerics/checks.py", "numerics/report/")


def unexecuted_functions(report: dict) -> list[str]:
    """'path: function' for every function of a guarded file with no executed line."""
    missing = []
    for path, data in sorted(report["files"].items()):
        if not path.startswith(GUARDED):
            continue
        for name, function in sorted(data["functions"].items()):
            if name and function["summary"]["num_statements"] and not function["summary"]["covered_lines"]:
                missing.append(f"{path}: {name}")
    return missing


def guarded_files_measured(report: dict) -> set[str]:
    return {path for path in report["files"] if path.startswith(GUARDED)}


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "coverage.json"
        subprocess.run([sys.executable, "-m", "coverage", "json", "-q", "-o", str(out),
                        "--include", ",".join(f"{g}*" for g in GUARDED)], cwd=root, check=True)
        report = json.loads(out.read_text())
    expected = {str(p.relative_to(root)) for g in GUARDED for p in
                ([root / g] if g.endswith(".py") else sorted((root / g).glob("*.py")))}
    unmeasured = sorted(expected - guarded_files_measured(report))
    missing = unexecuted_functions(report) + [f"{path}: (module never imported)" for path in unmeasured]
    if missing:
        print("functions not executed by the default test run:\n  " + "\n  ".join(missing))
        return 1
    functions = sum(len([n for n in d["functions"] if n]) for p, d in report["files"].items() if p.startswith(GUARDED))
    print(f"function coverage: all {functions} functions of {', '.join(GUARDED)} executed by the tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
