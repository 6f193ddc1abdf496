"""``shortcut-ntk bench [--quick | --full] [--device cpu|cuda] [--json PATH] [--compare OLD.json] [--factor F] [PYTEST ARGS...]``

Runs ``python -m pytest benchmarks/ -n 0 -rs`` with ``--benchmark-json`` and prints, per group of
cases, every case's median time, its ratio against the group's baseline and its time against the
machine's floor measured in the same run (numerics/floor.py): the median round's (t/floor, the tracked
figure) and the fastest round's (best/floor).  Arguments it does not know go to pytest unchanged
(``-k dense``, ``--benchmark-min-rounds=5``, ...); pytest's ``-rs`` prints why a case was skipped.
Convention for every benchmarks/test_bench_*.py:
  * cases compared with each other share a pytest-benchmark ``group`` (``benchmark.group = ...``);
  * the denominator of a group is the case with ``extra_info["role"] == "baseline"`` (failing
    that, the case whose name contains "baseline"); every case of the group gets
    ratio = baseline median / its median (> 1: faster than the baseline);
  * ``extra_info["floor_s"]``: the least time the case's work can take on this machine, and
    ``extra_info["floor_what"]``: that work in one line (numerics/floor.py); time / floor is printed,
    t/floor = median / floor and best/floor = fastest round / floor.  The floor is a best-of estimate
    (the fastest of its repeats: slower ones are interference), so best/floor compares like with like:
    the case's own cost over its floor.  The median also carries the machine's noise (a shared
    machine's busy phases slow the rounds, not the floor's best repeat); t/floor minus best/floor is
    that noise in this run.  A case whose floor is one product shape (the dense eigensolver route)
    re-times that product next to each round and scales its floor by the ratio, its ``phase``
    (numerics.floor.RoundProbe; ``floor_best_s`` keeps the unscaled floor), so that a busy stretch
    that slows its products as much as its rounds does not count as its overhead.  t/floor is the
    tracked figure (targets, ``--compare``);
  * accuracy keys, when a case sets them in ``extra_info``, are printed: eig_rel_err, sin_angle,
    max_residual (the certificate), matvecs (and any key listed in ACCURACY_KEYS);
  * ``extra_info["layers"]``, [name, seconds, MACs] per step, is printed after the table as that case's
    per-layer breakdown (the structured ResNet-18 Grams: time and multiply-adds of every layer).
The JSON's ``machine_floor`` (written by benchmarks/conftest.py) is the machine's reference GEMM rate
and read bandwidth; it heads the table.
``--full`` sets SHORTCUT_NTK_BENCH_FULL=1 (the larger sizes); ``--quick`` (default) takes 3-8 minutes on
2 cores (docs/benchmarks.md keeps the measured runs). ``--device cuda`` (SHORTCUT_NTK_BENCH_DEVICE, read
by ``bench_device()``) runs the torch cases (the MLP and ResNet-18 NTKs) on the GPU, timed in
synchronised wall seconds (numerics/clock.py) after one untimed warm-up round (``warmup_rounds``), their
peak memory that of the GPU, their floors at the GPU's GEMM rate and bandwidth, with float32 products in
full float32 (TF32 off); the eigensolver core is numpy/LAPACK and its cases are skipped there. The
machine line names the processor either way. ``--json PATH`` keeps the pytest-benchmark JSON there
(without it the JSON lives in a temporary directory, removed at exit, and its path is not printed).
``--compare OLD.json`` matches cases by full name and tracks time / floor (a slower machine moves time
and floor alike): the exit status is 1 when any case's time / floor grew by more than ``--factor``
(default 1.5) over the old run's; a case without a floor in either run is compared by its median time.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from numerics.structured_ntk import GramProfile, LayerCost

#: the environment variable that carries ``--device`` to the benchmark modules (``bench_device``)
DEVICE_VARIABLE = "SHORTCUT_NTK_BENCH_DEVICE"
DEVICES = ("cpu", "cuda")
ACCURACY_KEYS = ("eig_rel_err", "sin_angle", "max_residual", "rel_err", "f64_rel_err", "rel_fro_err", "matvecs")
DEFAULT_FACTOR = 1.5
ROOT = Path(__file__).resolve().parent.parent
#: pytest-benchmark's closing line naming the JSON file: dropped when that file is a temporary one
_WROTE_JSON = "Wrote benchmark data in"


def pytest_command(json_path: Path, extra: list[str]) -> list[str]:
    """The pytest command line: benchmarks/ in one process (pytest-benchmark is off under xdist,
    whose ``-n auto`` the project's addopts set), skip reasons (-rs), then the caller's arguments."""
    return [sys.executable, "-m", "pytest", "benchmarks/", "-q", "-n", "0", "-rs",
            f"--benchmark-json={json_path}", *extra]


def bench_device() -> str:
    """The device the benchmarks run their torch cases on: SHORTCUT_NTK_BENCH_DEVICE, "cpu" when unset;
    a ValueError for anything but DEVICES."""
    device = os.environ.get(DEVICE_VARIABLE, "cpu")
    if device not in DEVICES:
        raise ValueError(f"{DEVICE_VARIABLE} must be one of {DEVICES}, got {device!r}")
    return device


def warmup_rounds(device: str) -> int:
    """Untimed rounds before a torch case's timed ones: 1 on CUDA, whose first call of an operation pays
    for lazy set-up (library handles, kernel selection, the caching allocator's first blocks; measured
    on an H200: the MLP baseline's first round at n = 256 took 2.7-2.8 s against a median of 6-7 ms, and
    the single-round cases had no other round), 0 on the CPU (the issues' baselines were measured so)."""
    return 1 if device == "cuda" else 0


def run_benchmarks(json_path: Path, *, full: bool, extra: list[str] = (), keep: bool = True,
                   device: str = "cpu") -> int:
    """Run pytest on benchmarks/ for ``device``, echoing its output line by line; without ``keep`` the
    line that advertises the (temporary, soon deleted) JSON path is left out."""
    env = dict(os.environ, SHORTCUT_NTK_BENCH_FULL="1" if full else "0", **{DEVICE_VARIABLE: device})
    with subprocess.Popen(pytest_command(json_path, list(extra)), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        for line in proc.stdout:
            if keep or _WROTE_JSON not in line:
                print(line, end="", flush=True)
    return proc.returncode


def _is_baseline(bench: dict) -> bool:
    role = bench.get("extra_info", {}).get("role")
    return role == "baseline" if role else "baseline" in bench["name"]


def _per_floor(bench: dict, statistic: str = "median") -> float | None:
    """The case's ``statistic`` of its rounds ("median" or "min") over its floor; None without a floor."""
    floor = bench.get("extra_info", {}).get("floor_s")
    return bench["stats"][statistic] / floor if floor else None


def ratio_rows(data: dict) -> list[dict]:
    """One row per case, grouped, the baseline first: group, case (full name), rounds, median (s),
    baseline name and median, ratio = baseline median / median, floor (s), time / floor (median / floor)
    and best / floor (fastest round / floor), accuracy."""
    groups: dict[str, list[dict]] = {}
    for bench in data["benchmarks"]:
        groups.setdefault(bench.get("group") or bench["name"], []).append(bench)
    rows = []
    for group, benches in groups.items():
        baseline = next((b for b in benches if _is_baseline(b)), None)
        base_median = baseline["stats"]["median"] if baseline else None
        for bench in sorted(benches, key=lambda b: b is not baseline):
            median = bench["stats"]["median"]
            info = bench.get("extra_info", {})
            rows.append({"group": group, "case": bench["fullname"], "rounds": bench["stats"]["rounds"],
                         "is_baseline": bench is baseline,
                         "baseline": baseline["fullname"] if baseline else None,
                         "baseline_median": base_median, "median": median,
                         "ratio": base_median / median if base_median else None,
                         "floor_s": info.get("floor_s"), "floor_what": info.get("floor_what"),
                         "per_floor": _per_floor(bench), "best_per_floor": _per_floor(bench, "min"),
                         "accuracy": {key: info[key] for key in ACCURACY_KEYS if key in info}})
    return rows


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def machine_line(data: dict) -> str:
    """The run's machine floor (benchmarks/conftest.py), or a note that the JSON has none, naming the
    device and its processor: the GPU's name from the floor, else the CPU's brand that pytest-benchmark
    records in ``machine_info`` (py-cpuinfo)."""
    floor = data.get("machine_floor")
    if not floor:
        return "machine floor: not recorded in this JSON"
    device = floor.get("device", "cpu")
    processor = floor.get("processor") or data.get("machine_info", {}).get("cpu", {}).get("brand_raw")
    where = f" on {device}: {processor}" if processor else ""
    threads = "one-thread " if device == "cpu" else ""
    return (f"machine floor{where}: {threads}GEMM {floor['gemm_gflops']:.3g} GFLOP/s at {floor['gemm_shape']}, "
            f"read {floor['read_gb_per_s']:.3g} GB/s")


def format_ratio_table(rows: list[dict]) -> str:
    """Full case names (never cut), one block per group: rounds, median, ratio vs the baseline,
    floor, time / floor, best / floor, then the floor's account and the accuracy keys on the next line."""
    width = max([len(row["case"]) for row in rows] + [len("case")])
    head = f"  {'case':{width}} {'rounds':>6} {'median s':>10} {'vs base':>8} {'floor s':>10} {'t/floor':>8} {'best/floor':>10}"
    lines, group = [], None
    for row in rows:
        if row["group"] != group:
            group = row["group"]
            lines += ([""] if lines else []) + [f"group {group}  (baseline: {_fmt(row['baseline'])})", head]
        ratio = "base" if row["is_baseline"] else (f"{row['ratio']:.3g}x" if row["ratio"] else "-")
        lines.append(f"  {row['case']:{width}} {row['rounds']:>6} {_fmt(row['median']):>10} {ratio:>8} "
                     f"{_fmt(row['floor_s']):>10} {_fmt(row['per_floor']):>8} {_fmt(row['best_per_floor']):>10}")
        notes = [f"floor = {row['floor_what']}"] if row["floor_what"] else []
        if row["accuracy"]:
            notes.append(" ".join(f"{k}={_fmt(v)}" for k, v in row["accuracy"].items()))
        if notes:
            lines.append("      " + "; ".join(notes))
    return "\n".join(lines)


def format_layer_tables(data: dict) -> str:
    """The per-layer breakdowns that cases recorded as ``extra_info["layers"]`` (one [name, seconds, MACs] per
    step of their last round: the structured ResNet-18 Grams' numerics.structured_ntk.GramProfile rows), one
    table per case in GramProfile.table's layout (seconds, GMAC, GFLOP/s, share of the time, then the total);
    "" when no case recorded one."""
    tables = []
    for bench in data["benchmarks"]:
        layers = bench.get("extra_info", {}).get("layers")
        if layers:
            profile = GramProfile([LayerCost(name, seconds, macs, (0, 0, 0)) for name, seconds, macs in layers])
            tables.append(f"per-layer breakdown of {bench['fullname']} (its last round)\n{profile.table()}")
    return "\n\n".join(tables)


def compare(new: dict, old: dict, factor: float = DEFAULT_FACTOR) -> tuple[str, list[str]]:
    """Per case present in both runs: time / floor new over old (median time new over old when either
    run has no floor for it); the cases whose figure grew by more than ``factor``.  The two machine
    floors head the table; cases of one run only are listed, never flagged."""
    old_cases = {b["fullname"]: b for b in old["benchmarks"]}
    width = max([len(b["fullname"]) for b in new["benchmarks"]] + [len("case")])
    lines = [f"old {machine_line(old)}", f"new {machine_line(new)}",
             f"{'case':{width}} {'old t/floor':>11} {'new t/floor':>11} {'new/old':>8}"]
    slowed = []
    for bench in new["benchmarks"]:
        name = bench["fullname"]
        if name not in old_cases:
            lines.append(f"{name:{width}} {'(new case)':>11}")
            continue
        old_figure, new_figure = _per_floor(old_cases[name]), _per_floor(bench)
        by = ""
        if old_figure is None or new_figure is None:
            old_figure, new_figure, by = old_cases[name]["stats"]["median"], bench["stats"]["median"], "  (no floor: median s)"
        ratio = new_figure / old_figure
        flag = "  SLOWER" if ratio > factor else ""
        lines.append(f"{name:{width}} {_fmt(old_figure):>11} {_fmt(new_figure):>11} {ratio:8.2f}{flag}{by}")
        if ratio > factor:
            slowed.append(name)
    new_names = {b["fullname"] for b in new["benchmarks"]}
    lines += [f"{name:{width}} {'(not in the new run)':>11}" for name in old_cases if name not in new_names]
    return "\n".join(lines), slowed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shortcut-ntk bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="default sizes, 4-8 minutes on 2 cores (default)")
    mode.add_argument("--full", action="store_true", help="also the large sizes (SHORTCUT_NTK_BENCH_FULL=1)")
    parser.add_argument("--device", choices=DEVICES, default="cpu",
                        help="where the torch cases run (default cpu); cuda skips the numpy eigensolver cases")
    parser.add_argument("--json", type=Path, metavar="PATH", help="keep the pytest-benchmark JSON here")
    parser.add_argument("--compare", type=Path, metavar="OLD.json", help="an earlier --json to compare with")
    parser.add_argument("--factor", type=float, default=DEFAULT_FACTOR,
                        help=f"exit 1 when a case's time / floor grew by more than factor x the old run's "
                             f"(default {DEFAULT_FACTOR})")
    args, extra = parser.parse_known_args(argv)
    if args.compare is not None and not args.compare.is_file():
        parser.error(f"--compare: no such file {args.compare}")
    if args.factor <= 1:
        parser.error(f"--factor must be > 1, got {args.factor}")
    if args.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            parser.error("--device cuda: CUDA is not available on this machine")

    with tempfile.TemporaryDirectory() as tmp:
        json_path = args.json.resolve() if args.json else Path(tmp) / "bench.json"
        code = run_benchmarks(json_path, full=args.full, extra=extra, keep=args.json is not None, device=args.device)
        if not json_path.is_file():
            print(f"no benchmark results (pytest exit status {code})", file=sys.stderr)
            return code or 1
        data = json.loads(json_path.read_text())
    print()
    print(machine_line(data))
    print(format_ratio_table(ratio_rows(data)))
    layers = format_layer_tables(data)
    if layers:
        print(f"\n{layers}")
    if args.json:
        print(f"\nbenchmark JSON kept in {json_path}")
    if args.compare is not None:
        table, slowed = compare(data, json.loads(args.compare.read_text()), args.factor)
        print()
        print(table)
        if slowed:
            print(f"{len(slowed)} case(s) whose time / floor grew by more than {args.factor}x the old run's",
                  file=sys.stderr)
            return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
