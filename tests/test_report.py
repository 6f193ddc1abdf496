"""The report's plumbing: the regression guard, determinism across processes, the CLI's errors."""
import json
import subprocess
import sys
from fractions import Fraction

import pytest

from numerics.cli import main
from numerics.report import compare


def _document(verdict="holds", worst=1e-3):
    return {"rows": [{"claim": "S1", "network": "linear", "verdict": verdict, "worst": worst},
                     {"claim": "L2", "network": "linear", "verdict": "holds", "worst": 2e-16}]}


def test_compare_flags_a_changed_verdict_and_a_grown_error_but_not_rounding_noise():
    old = _document()
    assert compare.regressions(old, _document()) == []
    assert compare.regressions(old, _document(verdict="fails"))[0].startswith("S1 [linear]: verdict holds -> fails")
    assert "worst error" in compare.regressions(old, _document(worst=1e-3 * (compare.GROWTH_FACTOR + 1)))[0]
    assert compare.regressions(old, _document(worst=1e-3 * (compare.GROWTH_FACTOR - 1))) == []
    noisy = {"rows": [{**old["rows"][1], "worst": 5e-15}]}
    assert compare.regressions(old, noisy) == []                 # below the rounding floor


def test_compare_cli_exits_nonzero_on_a_deliberately_worsened_claim(tmp_path, monkeypatch):
    """Save an honest run, then break the N1 experiment (the top eigenvector's angle is off by 1e-3):
    the second run's --compare must flag the row and exit 1."""
    honest = tmp_path / "honest"
    assert main(["report", "--claims", "N1", "--arch", "linear", "--no-figures", "--out", str(honest)]) == 0
    from numerics.report import linear as entries
    real = entries.ex.aligned_direction_sin
    monkeypatch.setattr(entries.ex, "aligned_direction_sin", lambda gmm: real(gmm) + 1e-3)
    assert main(["report", "--claims", "N1", "--arch", "linear", "--no-figures", "--out", str(tmp_path / "worse"),
                 "--compare", str(honest / "claims.json")]) == 1


def _run_report(out):
    subprocess.run([sys.executable, "-m", "numerics.cli", "report", "--claims", "N1,L3", "--arch", "linear",
                    "--no-figures", "--out", str(out), "--seed", "3"], check=True, capture_output=True)
    document = json.loads((out / "claims.json").read_text())
    for row in document["rows"]:
        row.pop("seconds")
    return document


def test_report_json_is_identical_across_two_processes_apart_from_timings(tmp_path):
    assert _run_report(tmp_path / "a") == _run_report(tmp_path / "b")


@pytest.mark.parametrize("argv", [["report", "--unknown"], ["report", "--seed", "x"],
                                  ["show", "canonical", "--rho", "abc"], ["report", "--device", "tpu"]])
def test_cli_rejects_unknown_options_and_non_numeric_values(argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2


def test_cli_rejects_out_of_range_values_and_unknown_claims(capsys):
    assert main(["show", "canonical", "--rho", "3/2"]) == 2
    assert "rho must lie in [0, 1]" in capsys.readouterr().err
    assert main(["report", "--claims", "X9", "--no-figures"]) == 2
    assert "--claims must be among" in capsys.readouterr().err


def test_show_prints_the_threshold_of_theory(capsys):
    alpha, beta, rho = 1, Fraction(13, 10), Fraction(9, 10)
    assert main(["show", "canonical", "--alpha", "1", "--beta", "1.3", "--rho", "0.9", "--var", "0.25"]) == 0
    p = 2 * rho - 1
    threshold = alpha**2 * beta**2 * (1 - p**2) / (p * beta**2 - alpha**2)     # docs/theory.md
    assert f"value: {threshold.numerator}/{threshold.denominator}" in capsys.readouterr().out
