"""``shortcut-ntk bench`` (numerics/bench.py) on synthetic pytest-benchmark JSON: no benchmark runs here.

Pinned (issue 16's bench bullet, issue 17's floor): every case's ratio against its group's baseline and
its time against its floor; full case names; ``--compare`` tracks time / floor, so a machine that is
uniformly slower (times and floors alike) is not flagged while a case whose time / floor grew is;
unknown arguments reach pytest; ``--json`` keeps the file and says where; a temporary JSON's path is
never printed; skip reasons are asked for (-rs)."""
from __future__ import annotations

import json
import subprocess

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
                  eig_rel_err=1e-16, matvecs=231)]
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
    assert cmd[-3:] == ["-k", "dense", "--benchmark-min-rounds=5"]
    assert "-rs" in cmd and cmd[cmd.index("-n") + 1] == "0" and f"--benchmark-json={tmp_path / 'x.json'}" in cmd


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


def test_main_hands_the_device_to_the_benchmarks_and_refuses_cuda_where_there_is_none(fake_pytest, monkeypatch):
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
