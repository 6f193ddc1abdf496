"""``shortcut-ntk bench [--quick | --full] [--json PATH] [--compare OLD.json] [--factor F]``

Runs ``python -m pytest benchmarks/`` with ``--benchmark-json`` and prints a ratio table from the
JSON.  Convention for every benchmarks/test_bench_*.py:
  * cases compared with each other share a pytest-benchmark ``group`` (``benchmark.group = ...``);
  * the denominator of a group is the case with ``extra_info["role"] == "baseline"`` (failing
    that, the case whose name contains "baseline"); every other case of the group gets
    ratio = baseline median / its median (> 1: faster than the baseline);
  * accuracy keys, when a case sets them in ``extra_info``, are printed: eig_rel_err, sin_angle,
    matvecs (and any key listed in ACCURACY_KEYS).
Groups without a baseline are printed with ratio "-".
``--full`` sets SHORTCUT_NTK_BENCH_FULL=1 (the larger sizes); ``--quick`` (default) finishes in
under 5 minutes.  ``--compare OLD.json`` matches cases by full name and prints the median time
ratio new/old; the exit status is 1 when any case slowed by more than ``--factor`` (default 1.5).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ACCURACY_KEYS = ("eig_rel_err", "sin_angle", "matvecs")
DEFAULT_FACTOR = 1.5
ROOT = Path(__file__).resolve().parent.parent


def run_benchmarks(json_path: Path, *, full: bool) -> int:
    env = dict(os.environ, SHORTCUT_NTK_BENCH_FULL="1" if full else "0")
    cmd = [sys.executable, "-m", "pytest", "benchmarks/", "-q", f"--benchmark-json={json_path}"]
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def _is_baseline(bench: dict) -> bool:
    role = bench.get("extra_info", {}).get("role")
    return role == "baseline" if role else "baseline" in bench["name"]


def ratio_rows(data: dict) -> list[dict]:
    """One row per non-baseline case: group, case, baseline and own median (s), ratio, accuracy."""
    groups: dict[str, list[dict]] = {}
    for bench in data["benchmarks"]:
        groups.setdefault(bench.get("group") or bench["name"], []).append(bench)
    rows = []
    for group, benches in groups.items():
        baseline = next((b for b in benches if _is_baseline(b)), None)
        base_median = baseline["stats"]["median"] if baseline else None
        for bench in benches:
            if bench is baseline:
                continue
            median = bench["stats"]["median"]
            info = bench.get("extra_info", {})
            rows.append({"group": group, "case": bench["name"],
                         "baseline": baseline["name"] if baseline else None,
                         "baseline_median": base_median, "median": median,
                         "ratio": base_median / median if base_median else None,
                         "accuracy": {key: info[key] for key in ACCURACY_KEYS if key in info},
                         "baseline_accuracy": {key: baseline.get("extra_info", {})[key] for key in ACCURACY_KEYS
                                               if baseline and key in baseline.get("extra_info", {})}})
    return rows


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def format_ratio_table(rows: list[dict]) -> str:
    lines = [f"{'group':42} {'case':36} {'baseline s':>10} {'ours s':>10} {'speedup':>8}  accuracy"]
    for row in rows:
        acc = " ".join(f"{k}={_fmt(v)}" for k, v in row["accuracy"].items())
        if row["baseline_accuracy"]:
            acc += "  (baseline " + " ".join(f"{k}={_fmt(v)}" for k, v in row["baseline_accuracy"].items()) + ")"
        lines.append(f"{row['group'][:42]:42} {row['case'][:36]:36} {_fmt(row['baseline_median']):>10} "
                     f"{_fmt(row['median']):>10} {_fmt(row['ratio']):>8}  {acc}")
    return "\n".join(lines)


def compare(new: dict, old: dict, factor: float = DEFAULT_FACTOR) -> tuple[str, list[str]]:
    """Median time ratio new/old per case present in both; the cases slower than ``factor``."""
    old_medians = {b["fullname"]: b["stats"]["median"] for b in old["benchmarks"]}
    lines = [f"{'case':80} {'old s':>10} {'new s':>10} {'new/old':>8}"]
    slowed = []
    for bench in new["benchmarks"]:
        name = bench["fullname"]
        if name not in old_medians:
            continue
        ratio = bench["stats"]["median"] / old_medians[name]
        flag = "  SLOWER" if ratio > factor else ""
        lines.append(f"{name[-80:]:80} {_fmt(old_medians[name]):>10} {_fmt(bench['stats']['median']):>10} "
                     f"{ratio:8.2f}{flag}")
        if ratio > factor:
            slowed.append(name)
    return "\n".join(lines), slowed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shortcut-ntk bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="default sizes, under 5 minutes (default)")
    mode.add_argument("--full", action="store_true", help="also the large sizes (SHORTCUT_NTK_BENCH_FULL=1)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="keep the pytest-benchmark JSON here")
    parser.add_argument("--compare", type=Path, metavar="OLD.json", help="an earlier --json to compare with")
    parser.add_argument("--factor", type=float, default=DEFAULT_FACTOR,
                        help=f"exit 1 when a case is slower than factor x old (default {DEFAULT_FACTOR})")
    args = parser.parse_args(argv)
    if args.compare is not None and not args.compare.is_file():
        parser.error(f"--compare: no such file {args.compare}")
    if args.factor <= 1:
        parser.error(f"--factor must be > 1, got {args.factor}")

    with tempfile.TemporaryDirectory() as tmp:
        json_path = args.json.resolve() if args.json else Path(tmp) / "bench.json"
        code = run_benchmarks(json_path, full=args.full)
        if not json_path.is_file():
            print(f"no benchmark results (pytest exit status {code})", file=sys.stderr)
            return code or 1
        data = json.loads(json_path.read_text())
    print(format_ratio_table(ratio_rows(data)))
    if args.compare is not None:
        table, slowed = compare(data, json.loads(args.compare.read_text()), args.factor)
        print()
        print(table)
        if slowed:
            print(f"{len(slowed)} case(s) slower than {args.factor}x the old run", file=sys.stderr)
            return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
