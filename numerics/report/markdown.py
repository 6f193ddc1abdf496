"""DIR/report.md: the claims table, every figure with a one-line caption stating its setting, the
versions and the seed -- a page to attach to a pull request or a paper appendix. Plain GitHub
Markdown (a pipe table and relative image links), so it renders on a code-hosting site as is."""
from __future__ import annotations

from pathlib import Path

from numerics.report.rows import Row
from theory.claims import CLAIMS

#: figure file -> its caption (what is drawn, from which rows, and the setting)
CAPTIONS = {
    "fig1_spectrum_vs_rho.png": "Top NTK eigenvalues / n vs rho, one panel per network: measured (markers) and theory or "
                                "G1 prediction (lines); settings as in the S1 and G1 rows.",
    "fig2_eigenfunctions_plane.png": "Top two Nystrom eigenfunctions of the linear and ReLU NTK over the (core, bias) "
                                     "plane; canonical alpha = 1, beta = 1.3, rho = 0.9, var = 0.1, n = 200.",
    "fig3_energy_ratio_vs_variance.png": "S2: top/second feature-energy ratio vs within-cluster variance, SymPy curve and "
                                         "trained one-layer network; canonical rho = 0.9, d = 3.",
    "fig4_conflicting_margin.png": "Left: aligned-minus-conflicting test-margin gap vs rho per network (S3, E3 rows). "
                                   "Right: the linear model's conflicting margin vs variance at rho = 0.9, with the "
                                   "closed-form misclassification threshold.",
    "fig5_residual_decay.png": "T1: residual along each Gram eigenvector vs gradient-descent step, law (lines) and "
                               "trained (markers); canonical rho = 0.9, var = 0.25, d = 3, n = 24.",
    "fig6_width_convergence.png": "L1, R1, E4: finite-width error vs width (log-log) with a 1/sqrt(width) guide.",
    "fig7_label_feature_ratio.png": "E2: lambda(phi_A)/lambda(phi_C) vs rho per network, measured (markers) with G1's "
                                    "prediction from the network's own kernel (lines) and, where the symmetry is broken, "
                                    "from the linear kernel (dashed).",
}


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(rows: list[Row], document: dict, figures: list[Path]) -> str:
    """The page's Markdown: header (mode, seed, device, versions), table, figures with captions."""
    versions = ", ".join(f"{k} {v}" for k, v in document["versions"].items())
    lines = ["# shortcut-ntk claims report", "",
             f"Mode **{document['mode']}**, seed {document['seed']}, device {document['device']}; {versions}.",
             f"{sum(r.verdict == 'holds' for r in rows)} holds, {sum(r.verdict == 'fails' for r in rows)} fails, "
             f"{sum(r.verdict == 'not run' for r in rows)} not run. A verdict is the claim's pass rule "
             "(numerics/checks.py), the same the tests assert.", "",
             "| claim | network | setting | theory predicts | measured | worst | verdict |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        claim = f"[{row.claim}](../docs/theory.md#{row.claim})" if row.claim in CLAIMS else row.claim
        lines.append(f"| {claim} | {_cell(row.network)} | {_cell(row.setting)} | {_cell(row.predicted)} | "
                     f"{_cell(row.measured)} | {row.worst:.2g} | {row.verdict} |")
    for path in figures:
        lines += ["", f"![{path.stem}]({path.name})", "", f"*{CAPTIONS.get(path.name, path.stem)}*"]
    return "\n".join(lines) + "\n"


def write(rows: list[Row], document: dict, figures: list[Path], out: Path) -> Path:
    path = out / "report.md"
    path.write_text(render(rows, document, figures))
    return path
