"""The report's plumbing: the regression guard, determinism across processes, the CLI's errors."""
import json
import re
import subprocess
import sys
from fractions import Fraction

import pytest

from numerics.cli import main
from numerics.report import figures, markdown
from numerics.report.rows import Context
from numerics.report.run import run


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


def _run_report(out, *, in_process: bool):
    argv = ["report", "--claims", "N1,L3", "--arch", "linear", "--no-figures", "--out", str(out), "--seed", "3"]
    if in_process:
        assert main(argv) == 0
    else:
        subprocess.run([sys.executable, "-m", "numerics.cli", *argv], check=True, capture_output=True)
    document = json.loads((out / "claims.json").read_text())
    for row in document["rows"]:
        row.pop("seconds")
    return document


def test_report_json_is_identical_across_two_processes_apart_from_timings(tmp_path):
    """The report in this process (after the tests before it touched every global RNG) and in a fresh one."""
    assert _run_report(tmp_path / "a", in_process=True) == _run_report(tmp_path / "b", in_process=False)


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


#: plain-text symbols a figure must write as mathtext ($\rho$, $\lambda_1/n$, $\sigma^2$, $f^{(1)}$ ...)
PLAIN_SYMBOLS = re.compile(r"(?<![\\\w])(rho|alpha|beta|sigma|lambda|phi|eta|omega|gamma|s2)\b|\^")


def _figure_texts(fig) -> list[str]:
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    return [t.get_text() for ax in fig.axes for t in (ax.title, ax.xaxis.label, ax.yaxis.label)] + \
        [t.get_text() for t in fig.texts] + [t.get_text() for legend in legends if legend for t in legend.get_texts()]


def test_figures_write_symbols_as_mathtext_normalise_by_n_and_keep_legends_off_the_data(tmp_path, monkeypatch):
    """Every title, axis label and legend entry of figures 1-5 (drawn from the quick linear rows) has its symbols
    in mathtext (outside $...$ no rho, lambda, s2, ^ ...); figure 1 divides every eigenvalue by n; no legend
    overlaps the data area of any axes."""
    drawn = {}
    real_save = figures._save

    def spy(fig, out, name):
        fig.canvas.draw()
        boxes = [ax.get_window_extent() for ax in fig.axes if ax.get_label() != "<colorbar>"]
        legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
        drawn[name] = (_figure_texts(fig), [ax.get_ylabel() for ax in fig.axes],
                       [b.overlaps(legend.get_window_extent()) for legend in legends for b in boxes])
        return real_save(fig, out, name)

    monkeypatch.setattr(figures, "_save", spy)
    figures.draw_all(run(Context(), archs=["linear"], claims=["T1", "S1", "S2"], progress=False), tmp_path)
    assert sorted(drawn) == ["fig1_spectrum_vs_rho.png", "fig2_eigenfunctions_plane.png",
                             "fig3_energy_ratio_vs_variance.png", "fig4_conflicting_margin.png", "fig5_residual_decay.png"]
    for name, (texts, _, overlaps) in drawn.items():
        plain = [t for t in texts if PLAIN_SYMBOLS.search(re.sub(r"\$[^$]*\$", "", t))]
        assert plain == [], f"{name}: plain-text symbols in {plain}"
        assert not any(overlaps), f"{name}: a legend covers an axes"
    assert all(r"\lambda_i\,/\,n" in label for label in drawn["fig1_spectrum_vs_rho.png"][1])


def test_report_md_captions_state_each_drawn_rows_setting(tmp_path):
    rows = run(Context(), archs=["linear"], claims=["T1"], progress=False)
    text = markdown.caption(tmp_path / "fig5_residual_decay.png", rows, seed=0)
    assert text.startswith("T1: residual") and f"Settings: T1 {rows[0].network}: canonical $\\rho$=0.9" in text
    assert "seed 7." in markdown.caption(tmp_path / "fig2_eigenfunctions_plane.png", rows, seed=7)
