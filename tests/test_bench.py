"""``shortcut-ntk bench`` (numerics/bench.py) on synthetic pytest-benchmark JSON: no benchmark runs here.

Pinned (issue 16's bench bullet, issue 17's floor): every case's ratio against its group's baseline and
its time against its floor; full case names; ``--compare`` tracks time / floor, so a machine that is
uniformly slower (times and floors alike) is not flagged while a case whose time / floor grew is;
unknown arguments reach pytest; ``--json`` keeps the file and says where; a temporary JSON's path is
never printed; skip reasons are asked for (-rs)."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from numerics import bench, floor

LONG = "benchmarks/test_bench_eigen.py::test_a_case_name_far_longer_than_any_column_would_have_been[4096-top10]"


def case(fullname, median, *, group="g", role=None, floor=None, rounds=3, best=None, **info):
    extra = dict(info)
    if role:
        extra["role"] = role
    if floor is not None:
        extra.update(floor_s=floor, floor_what=f"work of {fullname.rsplit('::', 1)[-1]}")
    return {"name": fullname.rsplit("::", 1)[-1], "fullname": fullname, "group": group,
            "stats": {"median": median, "min": median if best is None else best, "rounds": rounds},
            "extra_info": extra}


def run_data(scale=1.0, block_time=0.3, gemm=40.0, floorless=True):
    """A run on a machine `scale` times slower: every time and every floor multiplied by scale; with
    ``floorless`` a third case, in a group of its own, without a floor."""
    cases = [case("b.py::test_eigh_baseline", 9.0 * scale, role="baseline", floor=1.0 * scale),
             case("b.py::test_block", block_time * scale, role="ours", floor=0.2 * scale, best=0.26 * scale,
                  eig_rel_err=1e-16, matvecs=231, layers=[["capture", 0.5, 2 * 10**9], ["conv1", 0.25, 10**9]])]
    return {"machine_floor": {"gemm_gflops": gemm / scale, "gemm_shape": "1024x1024x1024", "read_gb_per_s": 12.0},
            "benchmarks": cases + ([case(LONG, 2.0 * scale, group="h")] if floorless else [])}


def test_rows_give_the_ratio_to_the_baseline_and_the_time_per_floor():
    rows = {row["case"]: row for row in bench.ratio_rows(run_data())}
    block, base, lone = rows["b.py::test_block"], rows["b.py::test_eigh_baseline"], rows[LONG]
    assert block["ratio"] == pytest.approx(9.0 / 0.3) and block["per_floor"] == pytest.approx(0.3 / 0.2)
    assert block["best_per_floor"] == pytest.approx(0.26 / 0.2)          # the fastest round, not the median
    assert base["is_baseline"] and base["per_floor"] == pytest.approx(9.0)
    assert lone["ratio"] is None and lone["per_floor"] is None and lone["best_per_floor"] is None
    assert [row["case"] for row in bench.ratio_rows(run_data())][0] == "b.py::test_eigh_baseline"   # baseline first


def test_the_table_prints_full_names_floors_and_accuracy():
    data = run_data()
    table = bench.format_ratio_table(bench.ratio_rows(data))
    assert LONG in table                                   # never cut
    block_line = next(line for line in table.splitlines() if line.strip().startswith("b.py::test_block"))
    assert block_line.split()[-4:] == ["30x", "0.2", "1.5", "1.3"]          # vs base, floor, t/floor, best/floor
    assert table.splitlines()[1].split()[-2:] == ["t/floor", "best/floor"]
    assert "floor = work of test_block" in table and "matvecs=231" in table
    assert "GEMM 40 GFLOP/s at 1024x1024x1024" in bench.machine_line(data)
    assert "not recorded" in bench.machine_line({"benchmarks": []})


def test_a_cases_per_layer_breakdown_is_printed_after_the_table(fake_pytest, capsys):
    """extra_info["layers"] ([name, seconds, MACs] per step) as a table: GFLOP/s = 2 MACs / seconds (capture:
    2 * 2e9 / 0.5 s = 8.0), the share of the case's summed time (0.5 / 0.75 = 66.7%), then the total; printed
    by ``main`` after the ratio table, and nothing for a run whose cases recorded none."""
    assert bench.format_layer_tables(run_data()).splitlines() == [
        "per-layer breakdown of b.py::test_block (its last round)",
        "layer                     seconds      GMAC  GFLOP/s time %",
        "capture                     0.500      2.00      8.0   66.7",
        "conv1                       0.250      1.00      8.0   33.3",
        "total                       0.750      3.00      8.0  100.0"]
    without = run_data()
    del without["benchmarks"][1]["extra_info"]["layers"]
    assert bench.format_layer_tables(without) == ""
    assert bench.main([]) == 0
    out = capsys.readouterr().out
    assert out.index("group g") < out.index("per-layer breakdown of b.py::test_block") < out.index("total   ")


def test_compare_tracks_time_per_floor_not_time():
    old = run_data(floorless=False)
    slower_machine = run_data(scale=3.0, floorless=False)  # everything 3x slower, floors too: not flagged
    table, slowed = bench.compare(slower_machine, old, factor=1.5)
    assert slowed == []
    assert "old machine floor: one-thread GEMM 40" in table and "new machine floor: one-thread GEMM 13.3" in table
    regressed = run_data(block_time=0.6, floorless=False)  # same machine, the block route twice as slow
    table, slowed = bench.compare(regressed, old, factor=1.5)
    assert slowed == ["b.py::test_block"] and "SLOWER" in table


def test_compare_without_a_floor_uses_the_median_and_lists_cases_of_one_run_only():
    old, new = run_data(), run_data()
    new["benchmarks"][2]["stats"]["median"] *= 2           # the floorless case, twice slower: flagged by time
    new["benchmarks"].append(case("b.py::test_added", 1.0))
    old["benchmarks"].append(case("b.py::test_removed", 1.0))
    table, slowed = bench.compare(new, old, factor=1.5)
    assert slowed == [LONG] and "(no floor: median s)" in table
    assert "b.py::test_added" in table and "(new case)" in table
    assert "b.py::test_removed" in table and "(not in the new run)" in table


def test_the_pytest_command_runs_one_process_asks_for_skip_reasons_and_ends_with_the_callers_arguments(tmp_path):
    cmd = bench.pytest_command(tmp_path / "x.json", ["-k", "dense", "--benchmark-min-rounds=5"])
    assert cmd == [sys.executable, "-m", "pytest", "benchmarks/", "-q", "-n", "0", "-rs",
                   f"--benchmark-json={tmp_path / 'x.json'}", "-k", "dense", "--benchmark-min-rounds=5"]


class _FakePopen:
    """Stands in for the pytest subprocess: prints pytest-benchmark's closing line and writes the JSON."""

    calls, envs = [], []

    def __init__(self, cmd, **kwargs):
        _FakePopen.calls.append(cmd)
        _FakePopen.envs.append(kwargs["env"])
        path = next(arg.split("=", 1)[1] for arg in cmd if arg.startswith("--benchmark-json="))
        with open(path, "w") as fh:
            json.dump(run_data(), fh)
        self.stdout = iter(["1 passed\n", f"Wrote benchmark data in: <_io.TextIOWrapper name='{path}'>\n"])
        self.returncode = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture()
def fake_pytest(monkeypatch):
    _FakePopen.calls, _FakePopen.envs = [], []
    monkeypatch.setattr(subprocess, "Popen", _FakePopen)
    return _FakePopen


def test_main_passes_unknown_arguments_and_hides_a_temporary_json(fake_pytest, capsys):
    assert bench.main(["-k", "lowrank", "--benchmark-max-time=1"]) == 0
    assert fake_pytest.calls[0][-3:] == ["-k", "lowrank", "--benchmark-max-time=1"]
    out = capsys.readouterr().out
    assert "Wrote benchmark data" not in out and "kept in" not in out
    assert "b.py::test_block" in out and "machine floor" in out


def test_main_keeps_the_json_when_asked_and_compares(fake_pytest, capsys, tmp_path):
    kept = tmp_path / "run.json"
    assert bench.main(["--json", str(kept)]) == 0
    assert json.loads(kept.read_text())["benchmarks"][1]["fullname"] == "b.py::test_block"
    assert f"benchmark JSON kept in {kept}" in capsys.readouterr().out
    old = tmp_path / "old.json"
    old.write_text(json.dumps(run_data(block_time=0.1)))     # the old block route was 3x faster per floor
    assert bench.main(["--compare", str(old)]) == 1
    assert "SLOWER" in capsys.readouterr().out
    fast_machine = run_data(scale=0.5)                       # an old machine twice as fast: not a regression
    fast_machine["benchmarks"][2]["stats"]["median"] = 2.0   # (the floorless case compares by time)
    old.write_text(json.dumps(fast_machine))
    assert bench.main(["--compare", str(old)]) == 0


def test_main_rejects_a_missing_compare_file_and_a_factor_not_above_one(fake_pytest, tmp_path):
    for argv in (["--compare", str(tmp_path / "none.json")], ["--factor", "1"]):
        with pytest.raises(SystemExit):
            bench.main(argv)
    assert fake_pytest.calls == []


def test_main_hands_the_device_to_the_benchmarks_and_refuses_cuda_where_there_is_none(fake_pytest, monkeypatch,
                                                                                       capsys):
    """``--device`` reaches the benchmark modules through SHORTCUT_NTK_BENCH_DEVICE (cpu by default,
    whatever the caller's environment says); cuda without a GPU is an argument error before pytest runs."""
    monkeypatch.setenv(bench.DEVICE_VARIABLE, "cuda")
    assert bench.main([]) == 0 and fake_pytest.envs[-1][bench.DEVICE_VARIABLE] == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert bench.main(["--device", "cuda"]) == 0 and fake_pytest.envs[-1][bench.DEVICE_VARIABLE] == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit):
        bench.main(["--device", "cuda"])
    assert len(fake_pytest.calls) == 2
    assert "--device cuda: CUDA is not available on this machine" in capsys.readouterr().err


def test_the_benchmarks_read_their_device_from_the_environment(monkeypatch):
    monkeypatch.delenv(bench.DEVICE_VARIABLE, raising=False)
    assert bench.bench_device() == "cpu"
    monkeypatch.setenv(bench.DEVICE_VARIABLE, "cuda")
    assert bench.bench_device() == "cuda"
    monkeypatch.setenv(bench.DEVICE_VARIABLE, "tpu")
    with pytest.raises(ValueError, match="SHORTCUT_NTK_BENCH_DEVICE"):
        bench.bench_device()
    assert bench.warmup_rounds("cuda") == 1 and bench.warmup_rounds("cpu") == 0   # CUDA's first call sets up


def test_the_machine_line_names_the_device_and_its_processor():
    """The GPU's name from the floor (not the host CPU's); a CPU run's name from pytest-benchmark's
    machine_info; a GPU's GEMM is not one thread's."""
    data = run_data()
    data["machine_floor"].update(device="cuda", processor="NVIDIA H200")
    data["machine_info"] = {"cpu": {"brand_raw": "the GPU machine's host CPU"}}
    line = bench.machine_line(data)
    assert line.startswith("machine floor on cuda: NVIDIA H200: GEMM 40 GFLOP/s") and "one-thread" not in line
    del data["machine_floor"]["processor"]
    data["machine_floor"]["device"] = "cpu"
    data["machine_info"] = {"cpu": {"brand_raw": "Some CPU"}}          # pytest-benchmark's own record
    assert bench.machine_line(data).startswith("machine floor on cpu: Some CPU: one-thread GEMM 40")


def test_floor_times_scale_with_the_work_and_reject_empty_shapes():
    """numerics.floor on small shapes: a floor is work / measured rate, so ``count`` GEMMs cost count
    times one; the eigh floor is a positive time; empty shapes are refused."""
    one = floor.gemm_seconds(8, 16, 4)
    assert 0 < one < float("inf") and floor.gemm_seconds(8, 16, 4, count=6) == pytest.approx(6 * one)
    assert floor.gemm_rate(8, 16, 4, "float64") == pytest.approx(2 * 8 * 16 * 4 / one)   # the cached rate
    assert 0 < floor.eigh_seconds(6) < float("inf")
    for call in (lambda: floor.gemm_rate(0, 4, 4), lambda: floor.eigh_seconds(0)):
        with pytest.raises(ValueError, match="must be positive"):
            call()


def test_the_read_floor_is_a_full_buffers_bytes_over_its_best_summing_time(monkeypatch):
    """numerics.floor's read bandwidth: BANDWIDTH_BYTES over the best of REPEATS one-thread sums of a float64
    buffer of that size, timed on the device's clock (stubbed here: 0.5 s); read_seconds(b) = b / that."""
    calls = []

    def best(call, repeats, clock):
        calls.append((call.__self__.nbytes, call.__self__.dtype, repeats, clock))
        return 0.5

    monkeypatch.setattr(floor, "_best_seconds", best)
    floor._read_bandwidth.cache_clear()
    try:
        assert floor.read_bandwidth() == floor.BANDWIDTH_BYTES / 0.5
        assert floor.read_seconds(3e8) == 3e8 / (floor.BANDWIDTH_BYTES / 0.5)
        assert calls == [(floor.BANDWIDTH_BYTES, np.float64, floor.REPEATS, time.process_time)]
    finally:
        floor._read_bandwidth.cache_clear()             # later tests measure the real one


def test_the_machine_floor_is_the_reference_gemm_and_read_rates_on_its_device(monkeypatch):
    """The JSON's machine_floor: GEMM GFLOP/s at REFERENCE_GEMM and read GB/s on the device (stubbed rates),
    the device, and on CUDA the GPU's name."""
    monkeypatch.setattr(floor, "gemm_rate", lambda m, k, n, device="cpu": 2e9 * m * k * n / 1024**3
                        if device.startswith("cpu") else 3e13)
    monkeypatch.setattr(floor, "read_bandwidth", lambda device="cpu": 1.5e10 if device == "cpu" else 4e12)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: f"GPU of {device}")
    assert floor.machine_floor() == {"gemm_gflops": 2.0, "gemm_shape": "1024x1024x1024", "read_gb_per_s": 15.0,
                                     "device": "cpu"}
    assert floor.machine_floor("cuda:0") == {"gemm_gflops": 3e4, "gemm_shape": "1024x1024x1024",
                                             "read_gb_per_s": 4e3, "device": "cuda:0", "processor": "GPU of cuda:0"}


def scripted_clock(monkeypatch, durations):
    """Make time.process_time (the floor's timer) return starts 100 s apart, each followed by its stop
    after the next of ``durations``: every timed call then takes exactly that long."""
    readings = iter([reading for i, seconds in enumerate(durations) for reading in (100.0 * i, 100.0 * i + seconds)])
    monkeypatch.setattr(floor.time, "process_time", lambda: next(readings))


def test_a_round_probe_phase_is_the_median_best_probe_of_the_timed_rounds_over_the_best(monkeypatch):
    """numerics.floor.RoundProbe on a scripted clock: each probe keeps the best of its
    ROUND_PROBE_REPEATS timings; phase(rounds) is the median of the last ``rounds`` probes over the
    product's best time in the process (gemm_seconds of the shape), so the warm-up round's probe,
    which comes first, is left out.  Timings in units of that best: warm-up (50, 60), rounds (3, 2),
    (5, 4), (1, 9), (6, 8), (7, 3): bests 2, 4, 1, 6, 3, median 3 (mean 3.2; last timings 4; with the
    warm-up 4; worst timings 7)."""
    assert floor.ROUND_PROBE_REPEATS == 2
    probe = floor.RoundProbe(np.ones((8, 8)), 3)
    assert probe.best == pytest.approx(floor.gemm_seconds(8, 8, 3))       # the floor's own best, cached
    pairs = [(50, 60), (3, 2), (5, 4), (1, 9), (6, 8), (7, 3)]
    scripted_clock(monkeypatch, [factor * probe.best for pair in pairs for factor in pair])
    for _ in pairs:
        probe()
    assert probe.times == pytest.approx([probe.best * min(pair) for pair in pairs])
    assert probe.phase(5) == pytest.approx(3.0)


def test_a_round_probe_refuses_more_rounds_than_probes_and_empty_shapes():
    probe = floor.RoundProbe(np.ones((4, 6)), 2)
    probe()
    assert probe.phase(1) > 0
    for rounds in (0, 2):
        with pytest.raises(ValueError, match="probes taken"):
            probe.phase(rounds)
    for a, columns in ((np.ones(4), 2), (np.ones((4, 4)), 0)):
        with pytest.raises(ValueError, match="RoundProbe"):
            floor.RoundProbe(a, columns)


def test_the_table_layout_is_pinned_cell_by_cell():
    """The whole table of a small run, as a reader sees it: a group line naming its baseline, the header,
    one line per case (rounds, median, ratio or "base" or "-", floor, t/floor, best/floor, "-" where a
    figure does not exist), the floor's account and the accuracy keys under it, a blank line between
    groups.  Figures by hand: 8 / 0.5 = 16x, 0.5 / 0.25 = 2, 0.375 / 0.25 = 1.5, 8 / 2 = 4."""
    data = {"benchmarks": [case("a::base", 8.0, role="baseline", floor=2.0),
                           case("a::fast", 0.5, role="ours", floor=0.25, best=0.375, sin_angle=2e-9, matvecs=7),
                           case("lone", 4.0, group="h")]}
    assert bench.format_ratio_table(bench.ratio_rows(data)) == "\n".join([
        "group g  (baseline: a::base)",
        "  case    rounds   median s  vs base    floor s  t/floor best/floor",
        "  a::base      3          8     base          2        4          4",
        "      floor = work of base",
        "  a::fast      3        0.5      16x       0.25        2        1.5",
        "      floor = work of fast; sin_angle=2e-09 matvecs=7",
        "",
        "group h  (baseline: -)",
        "  case    rounds   median s  vs base    floor s  t/floor best/floor",
        "  lone         3          4        -          -        -          -"])


def test_the_baseline_is_the_role_first_and_the_name_only_without_one():
    """A case whose role says "ours" is not the baseline however it is named; a group without roles takes
    the case named "baseline"; a case without a group or extra_info is a group of its own, without a
    ratio or floor (its group is its name).  Each row names its group's baseline and that baseline's median."""
    data = {"benchmarks": [case("a::test_baseline_named_but_ours", 2.0, role="ours"),
                           case("a::test_reference", 6.0, role="baseline"),
                           case("c::test_loop_baseline", 9.0, group="c"), case("c::test_fast", 3.0, group="c"),
                           {"name": "bare", "fullname": "x::bare", "stats": {"median": 1.0, "min": 1.0, "rounds": 1}}]}
    rows = {row["case"]: row for row in bench.ratio_rows(data)}
    ours, loop, bare = rows["a::test_baseline_named_but_ours"], rows["c::test_fast"], rows["x::bare"]
    assert not ours["is_baseline"] and ours["baseline"] == "a::test_reference" and ours["baseline_median"] == 6.0
    assert ours["ratio"] == 3.0 and rows["a::test_reference"]["is_baseline"]
    assert loop["baseline"] == "c::test_loop_baseline" and loop["ratio"] == 3.0
    assert bare["group"] == "bare" and bare["baseline"] is None and bare["ratio"] is None
    assert bare["per_floor"] is None and bare["best_per_floor"] is None and bare["accuracy"] == {}
    assert bench.machine_line({"benchmarks": []}) == "machine floor: not recorded in this JSON"


def test_the_comparison_table_is_pinned_and_flags_only_growth_past_the_factor():
    """Per case in both runs: old and new time / floor and their ratio; SLOWER only past ``factor`` (a
    ratio of exactly 1.5 at factor 1.5 is not); a case without a floor in either run compares median
    times; a case new in this run is listed first where it stands and does not stop the comparison of
    the cases after it."""
    old = {"benchmarks": [case("a::fast", 0.25, floor=0.25), case("a::same", 1.0, floor=0.5),
                          case("a::lost", 1.0, floor=0.5), case("gone", 1.0)]}
    new = {"benchmarks": [case("a::new", 1.0), case("a::fast", 0.375, floor=0.25), case("a::same", 2.0, floor=0.5),
                          case("a::lost", 1.25)]}
    table, slowed = bench.compare(new, old, 1.5)
    assert slowed == ["a::same"]
    assert table == "\n".join([
        "old machine floor: not recorded in this JSON",
        "new machine floor: not recorded in this JSON",
        "case    old t/floor new t/floor  new/old",
        "a::new   (new case)",
        "a::fast           1         1.5     1.50",
        "a::same           2           4     2.00  SLOWER",
        "a::lost           1        1.25     1.25  (no floor: median s)",
        "gone    (not in the new run)"])


#: a stand-in for the pytest subprocess, run for real (numerics.bench.run_benchmarks' own Popen): it
#: reports its working directory, the two variables and one of the caller's own, writes to stderr,
#: advertises its JSON as pytest-benchmark does, and exits with status 3.
_CHILD = """
import os, sys
print("cwd", os.getcwd(), flush=True)
print("full", os.environ["SHORTCUT_NTK_BENCH_FULL"], "device", os.environ["SHORTCUT_NTK_BENCH_DEVICE"],
      "blas", os.environ["SHORTCUT_NTK_BLAS"], flush=True)
print("on stderr", file=sys.stderr, flush=True)
print("Wrote benchmark data in: x.json", flush=True)
sys.exit(3)
"""


@pytest.mark.parametrize("full, keep", [(True, None), (False, False)])
def test_run_benchmarks_streams_the_childs_output_from_the_repository_with_its_variables(full, keep, monkeypatch,
                                                                                        tmp_path, capsys):
    """The child runs in the repository root (benchmarks/ is relative to it) whatever the caller's
    directory, in the caller's environment (SHORTCUT_NTK_BLAS, say) plus SHORTCUT_NTK_BENCH_FULL 1 or 0 and
    the device (cpu by default); its stdout and stderr are echoed as text, line for line; the JSON's line is
    dropped unless the JSON is kept (the default: keep=None here); the child's exit status is returned."""
    monkeypatch.setattr(bench, "pytest_command", lambda json_path, extra: [sys.executable, "-c", _CHILD])
    monkeypatch.setenv("SHORTCUT_NTK_BLAS", "numpy")
    monkeypatch.chdir(tmp_path)
    kept = {} if keep is None else {"keep": keep}
    assert bench.run_benchmarks(tmp_path / "x.json", full=full, **kept) == 3
    expected = [f"cwd {bench.ROOT}", f"full {int(full)} device cpu blas numpy", "on stderr"]
    shown = ["Wrote benchmark data in: x.json"] if keep is None else []
    assert capsys.readouterr().out.splitlines() == expected + shown


def test_main_hands_the_mode_to_the_benchmarks_and_shows_a_kept_jsons_line(fake_pytest, capsys, tmp_path):
    for argv, full in (([], "0"), (["--quick"], "0"), (["--full"], "1")):
        assert bench.main(argv) == 0 and fake_pytest.envs[-1]["SHORTCUT_NTK_BENCH_FULL"] == full
    assert bench.main(["--json", str(tmp_path / "kept.json")]) == 0
    assert "Wrote benchmark data in" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--full"])
    with pytest.raises(SystemExit):
        bench.main(["--device", "tpu"])


def test_main_uses_the_given_factor_and_says_why_it_fails(fake_pytest, capsys, tmp_path):
    """The block case's time / floor grew 3x: flagged at the default factor 1.5, not at --factor 5; the
    argument errors name what was wrong."""
    old = tmp_path / "old.json"
    old.write_text(json.dumps(run_data(block_time=0.1)))
    assert bench.main(["--compare", str(old)]) == 1
    assert "1 case(s) whose time / floor grew by more than 1.5x the old run's" in capsys.readouterr().err
    assert bench.main(["--compare", str(old), "--factor", "5"]) == 0
    for argv, message in ((["--compare", str(tmp_path / "none.json")], "--compare: no such file"),
                          (["--factor", "1"], "--factor must be > 1, got 1.0")):
        with pytest.raises(SystemExit):
            bench.main(argv)
        assert message in capsys.readouterr().err


class _SilentPopen(_FakePopen):
    """A pytest that writes no JSON (collection failed, say), with exit status ``status``."""

    status = 0

    def __init__(self, cmd, **kwargs):
        self.stdout, self.returncode = iter(["ERROR collecting\n"]), _SilentPopen.status


@pytest.mark.parametrize("status, code", [(0, 1), (4, 4)])
def test_main_without_results_says_so_and_fails(status, code, monkeypatch, capsys):
    monkeypatch.setattr(subprocess, "Popen", _SilentPopen)
    monkeypatch.setattr(_SilentPopen, "status", status)
    assert bench.main([]) == code
    assert f"no benchmark results (pytest exit status {status})" in capsys.readouterr().err
