"""DIR/report.md: the claims table, every figure with a one-line caption stating its setting, the
versions and the seed -- a page to attach to a pull request or a paper appendix. Plain GitHub
Markdown (a pipe table and relative image links), so it renders on a code-hosting site as is."""
from __future__ import annotations

from pathlib import Path

from numerics.report.figures import mathtext
from numerics.report.rows import Row
from theory.claims import CLAIMS

#: figure file -> (its caption, the claims and series keys of the rows it draws, whose settings the caption lists)
CAPTIONS = {
    "fig1_spectrum_vs_rho.png": (
        "Top Gram eigenvalues $\\lambda_i/n$ vs $\\rho$, one panel per network: measured (markers); theory (lines): SymPy's closed "
        "form $\\lambda_\\pm(p)$ of $M$ on a fine grid (linear), G1's prediction from the cluster kernel (ReLU, ResNet-18). G1 "
        "gives the cluster-mean part of the Gram: by Cauchy interlacing on the cluster-constant vectors it is a lower "
        "bound for each eigenvalue at any within-cluster spread, exact at zero spread (the G1 row pulls the images to "
        "their cluster means). On the ReLU mixture ($\\sigma^2$ = 1/400) it matches all four; on ResNet-18 it matches "
        "$\\lambda_1$ and lies below $\\lambda_2, \\lambda_3, \\lambda_4$, which are then set by within-cluster variation (digit shape, "
        "pixel noise, colour jitter) that G1 does not model.", ("S1", "G1"), ("spectrum_rho",)),
    "fig2_eigenfunctions_plane.png": (
        "Top two Nystrom eigenfunctions of the linear and ReLU NTK over the (core, bias) plane (filled contours), "
        "eigenvalues / n in the titles; for the linear NTK the population eigenfunctions' closed form (SymPy, dashed "
        "contours) runs parallel to the sample's; canonical $\\alpha$ = 1, $\\beta$ = 1.3, $\\rho$ = 0.9, $s^2$ = 0.1, "
        "d = 2, n = 200, seed {seed}.", (), ()),
    "fig3_energy_ratio_vs_variance.png": (
        "S2: top/second feature-energy ratio $\\mathrm{E}[f^{(1)}(x)^2] / \\mathrm{E}[f^{(2)}(x)^2]$ vs within-cluster "
        "variance $s^2$, SymPy curve "
        "(line) and the trained one-layer network on the exact-moment design (markers); $\\alpha$ = 1, $\\beta$ = 1.3.",
        ("S2",), ("ratio_theory",)),
    "fig4_conflicting_margin.png": (
        "Left: aligned-minus-conflicting test-margin gap vs $\\rho$ per network (markers), with D3's per-cluster ridge "
        "prediction for the linear min-norm interpolant (line, error ~ $\\sqrt{n/d}$). Right: the linear model's "
        "conflicting margin vs $s^2$ at $\\rho$ = 0.9 (markers) on SymPy's closed form (line), with the closed-form "
        "misclassification threshold.", ("S2", "S3", "E3"), ("margin_vs_var", "margin_gap")),
    "fig5_residual_decay.png": (
        "T1: residual along each Gram eigenvector vs gradient-descent step, law $(1 - \\eta\\lambda_i)^t$ (lines) and "
        "trained (markers); the fastest mode's residual stops at float64 rounding (~1e-16).", ("T1",), ("law",)),
    "fig6_width_convergence.png": (
        "L1, R1, E4: finite-width error vs width (log-log, markers) with the predicted $1/\\sqrt{\\mathrm{width}}$ rate through "
        "each row's first point (lines).", ("L1", "R1", "E4"), ("errors",)),
    "fig7_label_feature_ratio.png": (
        "E2: $\\lambda(\\phi_A)/\\lambda(\\phi_C)$ vs $\\rho$ per network, measured (markers) with G1's prediction from the "
        "network's own kernel (lines) and, where the symmetry is broken, from the linear kernel (dashed). On ResNet-18 "
        "the G1 line overshoots at large $\\rho$: $\\lambda(\\phi_C)$ is a small eigenvalue, which G1 underestimates "
        "there (figure 1), and E2 is judged on the measured rise only.",
        ("E2",), ("rho",)),
}


def caption(path: Path, rows: list[Row], seed: int) -> str:
    """The figure's caption, then the setting of every row it draws (figure 1: the spectrum sweep's setting)."""
    text, claims, keys = CAPTIONS.get(path.name, (path.stem, (), ()))
    drawn = [r for r in rows if r.claim in claims and any(k in r.series for k in keys)]
    settings = "; ".join(f"{r.claim} {r.network}: {mathtext(r.series.get('spectrum_setting', r.setting))}"
                         for r in drawn)
    return text.replace("{seed}", str(seed)) + (f" Settings: {settings}." if settings else "")


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
        lines += ["", f"![{path.stem}]({path.name})", "", f"*{_cell(caption(path, rows, document['seed']))}*"]
    return "\n".join(lines) + "\n"


def write(rows: list[Row], document: dict, figures: list[Path], out: Path) -> Path:
    path = out / "report.md"
    path.write_text(render(rows, document, figures))
    return path
