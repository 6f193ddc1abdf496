"""Every report entry, run at its default (quick) setting, holds -- the report as a regression guard
inside the default test run -- and the figures draw from the rows' series.

Each entry judges its row with the claim's pass rules (numerics.checks), so a row that "fails" here is a
claim that fails at the report's setting; docs/theory.md says where each claim is expected not to hold.
"""
import json
import math

import matplotlib.image
import pytest

from numerics.report import figures
from numerics.report.rows import Context
from numerics.report.run import entries, run, to_json

ENTRIES = [pytest.param(fn, id=f"{claim}-{arch}-{fn.__name__}", marks=pytest.mark.claim(claim))
           for claim, arch, fn in entries()]


@pytest.mark.parametrize("entry", ENTRIES)
def test_report_entry_holds_at_its_default_setting(entry):
    row = entry(Context())
    assert row.verdict == "holds", row.rule
    assert math.isfinite(row.worst) and row.rule
    json.dumps(row.as_json(), default=float)          # the series are plain data


def test_figures_draw_from_the_linear_rows(tmp_path):
    """Each figure function draws from the series it reads (linear rows carry every kind: spectrum,
    energy ratio, margin gap, residual decay, widths) and writes a readable PNG."""
    rows = run(Context(), archs=["linear"], claims=["T1", "L1", "S1", "S2", "S3"], progress=False)
    paths = figures.draw_all(rows, tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        ["fig1_spectrum_vs_rho.png", "fig2_eigenfunctions_plane.png", "fig3_energy_ratio_vs_variance.png",
         "fig4_conflicting_margin.png", "fig5_residual_decay.png", "fig6_width_convergence.png"])
    assert figures.label_feature_ratio(rows, tmp_path) is None          # no E2 row among the linear ones
    for path in paths:
        assert matplotlib.image.imread(path).ndim == 3
    assert to_json(rows, Context())["rows"][0]["theory"] == "docs/theory.md#T1"


@pytest.mark.claim("E2")
def test_the_e2_figure_draws_every_network_with_its_g1_line(tmp_path):
    rows = run(Context(), archs=["relu"], claims=["E2"], progress=False)
    path = figures.label_feature_ratio(rows, tmp_path)
    assert path.name == "fig7_label_feature_ratio.png" and matplotlib.image.imread(path).ndim == 3
    assert all("g1_nonlinear" in r.series or "g1_predicted" in r.series for r in rows)
