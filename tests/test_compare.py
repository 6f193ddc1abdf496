"""``shortcut-ntk report --compare``: every class of difference between two claims.json documents
(numerics.report.compare), on synthetic documents, and the exit status of the CLI on two tiny ones."""
import json

import pytest

from numerics import tolerances as tol
from numerics.cli import main
from numerics.report import compare, run
from numerics.report.rows import Row

SPECTRUM = {"spectrum": [[2.0, 1.0], [3.0, 0.5]]}


def _row(entry, claim="S1", network="linear", verdict="holds", worst=1e-3, series=None):
    return {"entry": entry, "claim": claim, "arch": entry.split(".")[0], "network": network, "setting": "",
            "predicted": "", "measured": "", "verdict": verdict, "worst": worst, "series": SPECTRUM if series is None else series}


def _document(rows, mode="quick", seed=0, torch_version="2.13.0", selection=None):
    return {"mode": mode, "seed": seed, "device": "cpu", "versions": {"python": "3.11", "torch": torch_version},
            "selection": selection or {"arch": None, "claims": None}, "rows": rows}


def _one(old_row, new_row, **document) -> compare.Comparison:
    return compare.compare(_document([old_row]), _document([new_row], **document))


def test_identical_documents_have_no_difference():
    document = _document([_row("linear.s1"), _row("relu.e2", claim="E2", network="2-layer ReLU")])
    assert compare.compare(document, document) == compare.Comparison()


@pytest.mark.parametrize("was, now, group", [
    ("holds", "fails", "regressions"), ("holds", "not run", "regressions"), ("fails", "not run", "regressions"),
    ("fails", "holds", "improvements"), ("not run", "holds", "improvements"), ("not run", "fails", "changes"),
    ("fails", "fails", "still_failing")])
def test_each_verdict_change_lands_in_its_own_group_and_nowhere_else(was, now, group):
    result = _one(_row("linear.s1", verdict=was), _row("linear.s1", verdict=now))
    message = "fails in both runs" if was == now else f"verdict {was} -> {now}"
    assert getattr(result, group) == [f"S1 [linear]: {message}"]
    others = [g for g, _ in compare.Comparison.GROUPS if g != group]
    assert all(getattr(result, g) == [] for g in others), result


def test_a_row_that_raised_is_matched_on_its_entry_not_its_placeholder_network():
    """A "not run" row is named after its architecture (numerics.report.run.run): matching on (claim, network)
    would call it missing + added; matching on the entry calls it a regression, named by the old row."""
    crashed = _row("relu.e2_broken", claim="E2", network="relu", verdict="not run", worst=float("nan"), series={})
    result = _one(_row("relu.e2_broken", claim="E2", network="ReLU, symmetry broken"), crashed)
    assert result.regressions == ["E2 [ReLU, symmetry broken]: verdict holds -> not run"]
    assert result.missing == result.added == []


def test_grown_worst_error_is_a_regression_but_rounding_noise_and_trend_room_are_not():
    def grown(was, now):
        return _one(_row("linear.s1", worst=was), _row("linear.s1", worst=now)).regressions

    assert "worst error" in grown(1e-3, 1e-3 * (compare.GROWTH_FACTOR + 1))[0]
    assert grown(1e-3, 1e-3 * (compare.GROWTH_FACTOR - 1)) == []
    assert grown(2e-16, 5e-15) == []                                 # below the rounding floor
    assert grown(-0.5, -0.5 / (compare.GROWTH_FACTOR + 1)) == []     # a trend held, with less room


def test_series_changes_beyond_the_factor_are_reported_as_changes_not_regressions():
    step = tol.SERIES_RELATIVE_CHANGE * 3.0          # 3.0: the series' largest |value|, its scale
    moved = _one(_row("linear.s1"), _row("linear.s1", series={"spectrum": [[2.0, 1.0], [3.0, 0.5 + 2 * step]]}))
    assert moved.regressions == [] and len(moved.changes) == 1
    assert "series spectrum" in moved.changes[0] and "spectrum[1][1]" in moved.changes[0]
    within = _one(_row("linear.s1"), _row("linear.s1", series={"spectrum": [[2.0, 1.0], [3.0, 0.5 + step / 2]]}))
    assert within.changes == []
    longer = _one(_row("linear.s1"), _row("linear.s1", series={"spectrum": [[2.0, 1.0], [3.0, 0.5], [4.0, 0.2]]}))
    assert longer.changes == ["S1 [linear]: series spectrum: shape changed (4 -> 6 values)"]
    nested = _one(_row("relu.e2", series={"measured": {"beta=2": [1.0, 2.0]}, "note": "text"}),
                  _row("relu.e2", series={"measured": {"beta=2": [1.0, float("nan")]}, "note": "other"}))
    assert "measured.beta=2[1]" in nested.changes[0]
    renamed = _one(_row("linear.s1"), _row("linear.s1", series={"spectrum": SPECTRUM["spectrum"], "theory": [1.0]}))
    assert renamed.changes == ["S1 [linear]: series added: theory"]
    in_memory = _one(_row("linear.s1"), _row("linear.s1", series={"spectrum": [(2.0, 1.0), (3.0, 0.5)]}))
    assert in_memory.changes == []                    # the new run's rows before JSON: tuples, not lists


def test_missing_rows_are_listed_and_told_apart_from_rows_outside_the_selection():
    old = _document([_row("linear.s1"), _row("linear.t1", claim="T1"), _row("relu.r1", claim="R1", network="ReLU")])
    new = _document([_row("linear.s1"), _row("linear.l2", claim="L2")],
                    selection={"arch": ["linear"], "claims": None})
    result = compare.compare(old, new)
    assert result.missing == ["T1 [linear]: was holds",
                              "1 row(s) outside this run's --claims/--arch selection (not compared)"]
    assert result.added == ["L2 [linear]: holds"]
    assert result.regressions == []


def test_mode_seed_device_and_version_mismatches_are_warnings():
    result = _one(_row("linear.s1"), _row("linear.s1"), mode="full", seed=3, torch_version="2.14.0")
    assert result.warnings == ["mode: quick -> full", "seed: 0 -> 3", "torch version: 2.13.0 -> 2.14.0"]
    assert result.regressions == result.changes == []


def test_documents_without_entry_ids_match_on_claim_and_network_and_warn_on_shared_keys():
    """claims.json files written before rows carried their entry: (claim, network) is unique among rows that
    ran; a key shared by two rows is matched in order and said so."""
    legacy = [{k: v for k, v in _row("relu.e2", claim="E2", network="ReLU").items() if k != "entry"} for _ in "ab"]
    now = [dict(legacy[0]), {**legacy[1], "verdict": "fails"}]
    result = compare.compare(_document(legacy), _document(now))
    assert result.regressions == ["E2 [ReLU]: verdict holds -> fails"]
    assert any("(claim, network)" in w for w in result.warnings)
    assert any("several rows share the key ('E2', 'ReLU')" in w for w in result.warnings)


def test_the_summary_groups_every_class_under_its_heading():
    result = compare.Comparison(warnings=["seed: 0 -> 1"], regressions=["S1 [linear]: verdict holds -> fails"],
                                improvements=["T1 [linear]: verdict fails -> holds"])
    text = result.summary("old.json")
    assert text.splitlines()[0].startswith("compared with old.json: 1 warnings, 1 regressions, 1 improvements")
    assert text.index("REGRESSIONS") < text.index("S1 [linear]") < text.index("improvements:") < text.index("T1")


def test_every_report_entry_has_a_distinct_entry_id():
    ids = [run.entry_id(fn) for _, _, fn in run.entries()]
    assert len(ids) == len(set(ids)) and "relu.e2_broken" in ids


def _cli(old, new, tmp_path, monkeypatch, capsys):
    """``shortcut-ntk report --compare OLD.json`` through main(argv), with the report's run stubbed out to return
    the rows of ``new``: (exit status, printed output)."""
    (tmp_path / "old.json").write_text(json.dumps(old))
    rows = [Row(**{k: v for k, v in r.items() if k != "theory"}) for r in new["rows"]]
    monkeypatch.setattr(run, "run", lambda ctx, archs=None, claims=None: rows)
    status = main(["report", "--no-figures", "--out", str(tmp_path / "out"), "--compare", str(tmp_path / "old.json")])
    return status, capsys.readouterr().out


def test_cli_exits_1_for_a_regression_and_0_for_an_improvement_with_a_grouped_summary(tmp_path, monkeypatch, capsys):
    base = _document([_row("linear.s1", verdict="fails", worst=0.2), _row("linear.t1", claim="T1")])
    improved = _document([_row("linear.s1", worst=-0.1), _row("linear.t1", claim="T1")], seed=0)
    status, out = _cli(base, improved, tmp_path, monkeypatch, capsys)
    assert status == 0, out
    assert "improvements:\n    S1 [linear]: verdict fails -> holds" in out
    assert "REGRESSIONS" not in out
    regressed = _document([_row("linear.s1", verdict="fails", worst=0.2), _row("linear.t1", claim="T1", verdict="fails")])
    status, out = _cli(base, regressed, tmp_path, monkeypatch, capsys)
    assert status == 1, out
    assert "REGRESSIONS (exit status 1):\n    T1 [linear]: verdict holds -> fails" in out
    assert "still failing (failed before too):\n    S1 [linear]: fails in both runs" in out
