"""The report's figures 1-7 (matplotlib, Agg, PNG). Theory is drawn as lines, measurements as markers.

Figures read the rows' ``series`` (the same data the JSON keeps); figure 2 evaluates the Nystrom
eigenfunctions of the linear and ReLU NTK over a 2-D input plane. Every eigenvalue is drawn divided by
the number of points n; each panel's title carries its row's setting, symbols are mathtext, and legends
sit outside the axes so that they cover no data.
"""
from __future__ import annotations

import re
import textwrap
from fractions import Fraction
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from numerics.data import sample_gmm  # noqa: E402
from numerics.eigen import top_eigenpairs  # noqa: E402
from numerics.eigenfunctions import nystrom  # noqa: E402
from numerics.kernels import linear_ntk, relu_ntk  # noqa: E402
from numerics.report.margin_figure import margin_methods  # noqa: E402  (figure 8, claim M1)
from numerics.settings import ALPHA, BETA  # noqa: E402
from theory import GMM, linear  # noqa: E402

#: a panel whose values span more than this factor is drawn on a log scale
LOG_SCALE_SPREAD = 50

ARCH_STYLE = {"linear": ("C0", "o"), "relu": ("C1", "s"), "resnet18": ("C2", "^")}

#: figure 1's theory line per claim: S1's closed form, G1's cluster-level prediction
SPECTRUM_THEORY = {"S1": r"theory: closed form $\lambda_\pm(p)$ of $M$",
                   "G1": "theory: G1 prediction (cluster-mean part of the Gram: a lower bound by interlacing, "
                         "exact at zero within-cluster spread)"}

#: figure 2's canonical sample
PLANE_RHO, PLANE_VAR, PLANE_N = Fraction(9, 10), Fraction(1, 10), 200


def _series(rows, claim, key):
    """(row, series) pairs for rows of ``claim`` whose series has ``key``."""
    return [(r, r.series) for r in rows if r.claim == claim and key in r.series]


#: plain-text symbols of the rows' settings -> mathtext
SYMBOLS = {"sigma^2": r"$\sigma^2$", "rho": r"$\rho$", "alpha": r"$\alpha$", "beta": r"$\beta$", "sigma": r"$\sigma$", "omega": r"$\omega$",
           "gamma": r"$\gamma$", "s2": r"$s^2$", "var": r"$\sigma^2$", "eta": r"$\eta$", "lambda_1": r"$\lambda_1$"}


def mathtext(text: str) -> str:
    """A row's plain-text setting with its symbols (rho, alpha, s2, var, ...) as mathtext."""
    return re.sub(r"(?<![\\\w])(" + "|".join(map(re.escape, SYMBOLS)) + r")\b", lambda m: SYMBOLS[m.group(1)], text)


def _wrapped(text: str, width: int) -> str:
    """``text`` wrapped at ``width`` characters, then its symbols as mathtext (wrapping never splits a $...$)."""
    return "\n".join(mathtext(line) for line in textwrap.wrap(text, width))


def _title(ax, head: str, setting: str, width: int = 60) -> None:
    """A head line and the row's setting, wrapped, below it."""
    ax.set_title(mathtext(head) + "\n" + _wrapped(setting, width), fontsize=8)


def _legend_below(ax, handles=None, ncol: int = 2) -> None:
    """The legend under the axes and their x label (a fixed 5 font sizes below the axes, whatever their height),
    outside the data area."""
    if handles is None and not ax.get_legend_handles_labels()[0]:
        return                                     # nothing labelled on these axes (e.g. no margin-gap row)
    kwargs = {} if handles is None else {"handles": handles}
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), borderaxespad=5, fontsize=7, ncol=ncol, frameon=False,
              **kwargs)


def _save(fig, out: Path, name: str) -> Path:
    path = out / name
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")       # keeps outside legends and long titles whole
    plt.close(fig)
    return path


def spectrum_vs_rho(rows, out: Path) -> Path | None:
    """Figure 1: top NTK eigenvalues / n vs rho, one panel per network; S1's closed form on a fine grid or G1's
    prediction (lines) and the measured Gram eigenvalues (markers)."""
    found = [(r, s) for r in rows for s in [r.series] if "spectrum_rho" in s]
    if not found:
        return None
    fig, axes = plt.subplots(1, len(found), figsize=(4.8 * len(found), 4.6), squeeze=False)
    for ax, (row, s) in zip(axes[0], found):
        _, marker = ARCH_STYLE[row.arch]
        rho, measured = np.asarray(s["spectrum_rho"]), np.asarray(s["spectrum"])
        for i in range(measured.shape[1]):
            ax.plot(rho, measured[:, i], marker, color=f"C{i}")
        theory_rho, theory = s.get("spectrum_theory_fine_rho", rho), np.asarray(s.get("spectrum_theory_fine",
                                                                                        s["spectrum_theory"]))
        for i in range(theory.shape[1]):
            ax.plot(theory_rho, theory[:, i], "-", color=f"C{i}")
        if measured.max() > LOG_SCALE_SPREAD * max(measured.min(), np.finfo(float).tiny):
            ax.set_yscale("log")          # one dominant eigenvalue would flatten the others
        ax.set(xlabel=r"$\rho$ (aligned fraction)", ylabel=r"Gram eigenvalue $\lambda_i\,/\,n$")
        _title(ax, f"{row.claim}: {row.network}", s.get("spectrum_setting", row.setting))
        handles = [Line2D([], [], color=f"C{i}", lw=4, label=rf"$\lambda_{i + 1}/n$") for i in range(measured.shape[1])]
        handles += [Line2D([], [], color="k", marker=marker, ls="none", label="measured"),
                    Line2D([], [], color="k", ls="-", label="\n".join(textwrap.wrap(SPECTRUM_THEORY[row.claim], 45)))]
        _legend_below(ax, handles, ncol=3)
    return _save(fig, out, "fig1_spectrum_vs_rho.png")


def _population_linear_eigenfunctions(gmm, G: np.ndarray) -> np.ndarray:
    """Figure 2's theory for the linear NTK: phi_i(x) = u_i.x / sqrt(n eig_i(M)) on the grid G, with SymPy's
    population eigenpairs of M (theory.linear.population_eigenpairs), in the Nystrom scale (unit eigenvectors of
    the n x n Gram: phi = u.x / sqrt(lambda_Gram), lambda_Gram ~ n eig(M))."""
    pairs = linear.population_eigenpairs(gmm)
    return np.stack([G @ np.array(u, dtype=float).ravel() / np.sqrt(PLANE_N * float(v)) for v, u in pairs], axis=1)


def plane_eigenfunctions(out: Path, seed: int = 0) -> Path:
    """Figure 2: the top two Nystrom eigenfunctions of the linear and ReLU NTK over the (core, bias) plane, for a
    canonical sample with rho = 0.9; the four clusters drawn; for the linear NTK the population eigenfunctions'
    closed form as dashed contours."""
    gmm = GMM.canonical(ALPHA, BETA, PLANE_RHO, PLANE_VAR)
    sample = sample_gmm(gmm, PLANE_N, seed=seed)
    grid = np.linspace(-2.5, 2.5, 101)
    G = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    fig, axes = plt.subplots(2, 2, figsize=(9, 8.4))
    for row_axes, (name, kernel) in zip(axes, (("linear NTK", linear_ntk), ("ReLU NTK", relu_ntk))):
        eig = top_eigenpairs(kernel(sample.X), 2)
        phi = nystrom(kernel(G, sample.X), eig.values, eig.vectors)
        for i, ax in enumerate(row_axes):
            field = phi[:, i].reshape(grid.size, grid.size)
            limit = np.max(np.abs(field))
            image = ax.contourf(grid, grid, field, levels=21, cmap="RdBu_r", vmin=-limit, vmax=limit)
            fig.colorbar(image, ax=ax, label=rf"$\phi_{i + 1}(x)$ (Nystrom, arbitrary sign)")
            if kernel is linear_ntk:
                theory = _population_linear_eigenfunctions(gmm, G)[:, i]
                theory *= np.sign(theory @ phi[:, i])                      # the Nystrom field's sign
                ax.contour(grid, grid, theory.reshape(grid.size, grid.size), levels=image.levels[::4], colors="k",
                           linestyles="--", linewidths=0.7)
            aligned = sample.cluster < 2
            ax.scatter(*sample.X[aligned].T, s=8, c="k", marker="o", label="aligned points")
            ax.scatter(*sample.X[~aligned].T, s=14, c="yellow", edgecolors="k", marker="^", label="conflicting points")
            ax.set_title(rf"{name}: $\phi_{i + 1}$, $\lambda_{i + 1}/n$ = {eig.values[i] / PLANE_N:.3g}", fontsize=9)
            ax.set(xlabel=r"core coordinate $x_0$", ylabel=r"bias coordinate $x_1$")
    theory = Line2D([], [], color="k", ls="--", lw=0.7, label="linear NTK theory: population eigenfunction "
                    r"$u_i \cdot x / \sqrt{n\,\mathrm{eig}_i(M)}$ (SymPy), every 4th level")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles + [theory], labels + [theory.get_label()], loc="lower center", ncol=3, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, -0.03))
    fig.suptitle(rf"Canonical mixture $\alpha$ = {float(ALPHA):g}, $\beta$ = {float(BETA):g}, "
                 rf"$\rho$ = {float(PLANE_RHO):g}, $s^2$ = {float(PLANE_VAR):g}, d = 2, n = {PLANE_N}, seed {seed}",
                 fontsize=10)
    return _save(fig, out, "fig2_eigenfunctions_plane.png")


def energy_ratio(rows, out: Path) -> Path | None:
    """Figure 3: top/second feature-energy ratio vs within-cluster variance (S2)."""
    found = _series(rows, "S2", "ratio_theory")
    if not found:
        return None
    row, s = found[0]
    fig, ax = plt.subplots(figsize=(5.5, 4.4))
    ax.plot(s["variance"], s["ratio_theory"], "-", label="theory (SymPy)")
    ax.plot(s["variance"], s["ratio_measured"], "o", label="trained one-layer network (exact-moment design)")
    ax.set(xlabel=r"within-cluster variance $s^2$",
           ylabel=r"$\mathrm{E}[f^{(1)}(x)^2]\,/\,\mathrm{E}[f^{(2)}(x)^2]$")
    _title(ax, "S2: variance keeps the top feature dominant",
           rf"{row.network}, $\alpha$ = {float(ALPHA):g}, $\beta$ = {float(BETA):g}; {row.setting}")
    _legend_below(ax, ncol=1)
    return _save(fig, out, "fig3_energy_ratio_vs_variance.png")


def conflicting_margin(rows, out: Path) -> Path | None:
    """Figure 4: left, the aligned-minus-conflicting margin gap vs rho per network (markers; S3's D3 ridge
    prediction as a line); right, the linear model's conflicting margin vs variance (markers) on SymPy's closed
    form (line), with the closed-form threshold."""
    found = _series(rows, "S2", "margin_vs_var")
    if not found:
        return None
    row, s = found[0]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
    for i, gap_row in enumerate(r for r in rows if "margin_gap" in r.series):
        _, marker = ARCH_STYLE[gap_row.arch]
        g = gap_row.series
        left.plot(g["margin_rho"], g["margin_gap"], marker, color=f"C{i}",
                  label=_wrapped(f"{gap_row.claim}: {gap_row.network}; {gap_row.setting}", 90))
        if "margin_gap_theory" in g:
            left.plot(g["margin_gap_theory_rho"], g["margin_gap_theory"], "-", color=f"C{i}",
                      label=f"{gap_row.claim}: D3 per-cluster ridge prediction, at every attainable " + r"$\rho$")
    left.axhline(0, color="k", lw=0.8)
    left.set(xlabel=r"$\rho$ (aligned fraction)", ylabel=r"margin gap $y f(\mu_A) - y f(\mu_C)$ (units of $\gamma$)")
    left.set_title("aligned - conflicting test margin vs imbalance\n(markers: measured; line: theory)", fontsize=8)
    _legend_below(left, ncol=1)
    right.plot(s["margin_theory_var"], s["margin_theory"], "-", color="C0", label="closed form (SymPy)")
    right.plot(s["all_variances"], s["margin_vs_var"], "o", color="C0", label="least squares on the exact-moment design")
    right.axvline(s["threshold"], color="r", ls="--", label=rf"closed-form threshold $s^{{2*}}$ = {s['threshold']:.3f}")
    right.axhline(0, color="k", lw=0.8)
    right.set(xlabel=r"within-cluster variance $s^2$", ylabel=r"conflicting margin $y f(\mu_C)$")
    _title(right, "S2: conflicting margin vs variance",
           rf"{row.network}, $\alpha$ = {float(ALPHA):g}, $\beta$ = {float(BETA):g}; {row.setting}", width=90)
    _legend_below(right, ncol=1)
    return _save(fig, out, "fig4_conflicting_margin.png")


def residual_decay(rows, out: Path) -> Path | None:
    """Figure 5: residual along each eigenvector vs step (T1): law lines, trained markers."""
    found = _series(rows, "T1", "law")
    if not found:
        return None
    row, s = found[0]
    law, measured = np.asarray(s["law"]), np.asarray(s["measured"])
    steps = np.arange(law.shape[0])
    fig, ax = plt.subplots(figsize=(6, 4.6))
    every = max(1, len(steps) // 25)
    for i in range(law.shape[1]):
        ax.semilogy(steps, law[:, i], "-", color=f"C{i}",
                    label=rf"law $(1 - \eta\lambda_{i + 1})^t$, $\lambda_{i + 1}/n$ = {s['eigenvalues'][i] / s['n']:.3g}")
        ax.semilogy(steps[::every], measured[::every, i], "o", color=f"C{i}", ms=4, label=rf"trained, $v_{i + 1}$")
    ax.set(xlabel=r"gradient-descent step $t$", ylabel=r"$|\langle v_i,\, Y - f_t(X)\rangle|$")
    _title(ax, "T1: residual decay along NTK Gram eigenvectors", f"{row.network}, {row.setting}, eta = {s['eta']:.3g}")
    _legend_below(ax, ncol=2)
    return _save(fig, out, "fig5_residual_decay.png")


def width_convergence(rows, out: Path) -> Path | None:
    """Figure 6: finite-width error vs width, log-log (L1, R1, E4): measurements as markers, the 1/sqrt(width)
    rate the claims predict as a line through each row's first point."""
    found = [(r, r.series) for r in rows if "widths" in r.series and "errors" in r.series]
    if not found:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for i, (row, s) in enumerate(found):
        widths, errors = np.asarray(s["widths"], float), np.asarray(s["errors"], float)
        ax.loglog(widths, errors, "os^vD"[i % 5], color=f"C{i}", label=_wrapped(f"{row.claim}: {row.network} "
                                                                                  f"({row.setting})", 90))
        ax.loglog(widths, errors[0] * np.sqrt(widths[0] / widths), "-", color=f"C{i}", lw=0.9)
    ax.plot([], [], "-", color="gray", label=r"predicted rate $\propto 1/\sqrt{\mathrm{width}}$ (through the first point)")
    ax.set(xlabel="width (units per hidden layer)", ylabel=r"relative error $\|K_{emp} - K\|\,/\,\|K\|$ or prediction gap")
    ax.set_title("Finite-width error vs width", fontsize=9)
    _legend_below(ax, ncol=1)
    return _save(fig, out, "fig6_width_convergence.png")


def label_feature_ratio(rows, out: Path) -> Path | None:
    """Figure 7 (E2, G1): lambda(phi_A)/lambda(phi_C) vs rho, one panel per network, measurements as
    markers and G1's cluster-level prediction from the network's own kernel as lines. On the canonical
    mixture the bias-free ReLU's prediction IS the linear one (P1); with the symmetry broken the linear
    prediction (dashed) misses the measurements."""
    found = [r for r in rows if r.claim == "E2" and "rho" in r.series]
    if not found:
        return None
    fig, axes = plt.subplots(1, len(found), figsize=(5 * len(found), 5.2), squeeze=False)
    for ax, row in zip(axes[0], found):
        s = row.series
        rho = np.asarray(s["rho"])
        measured = s.get("measured", {f"seed {k}": v for k, v in zip(s.get("seeds", []), s.get("ratios", []))})
        predicted = s.get("g1_nonlinear", s.get("g1_predicted", {}))
        if isinstance(predicted, list):
            predicted = dict(zip(measured, predicted))
        for i, (name, values) in enumerate(measured.items()):
            ax.plot(rho, values, "os^vD"[i % 5], color=f"C{i}", label=f"measured, {mathtext(name)}")
            if name in predicted:
                ax.plot(rho, predicted[name], "-", color=f"C{i}", label=f"G1, own kernel, {mathtext(name)}")
            if name in s.get("g1_linear", {}):
                ax.plot(rho, s["g1_linear"][name], "--", color=f"C{i}", alpha=0.6, label=f"G1, linear kernel, {mathtext(name)}")
        ax.set_yscale("log")
        ax.set(xlabel=r"$\rho$ (aligned fraction)", ylabel=r"$\lambda(\phi_A)\,/\,\lambda(\phi_C)$")
        _title(ax, row.network, row.setting, width=55)
        _legend_below(ax, ncol=1)
    fig.suptitle("E2: the aligned label feature gains on the conflicting one as " + r"$\rho$" + " grows "
                 "(markers: measured; lines: G1 prediction)", fontsize=9)
    return _save(fig, out, "fig7_label_feature_ratio.png")


def draw_all(rows, out: Path, seed: int = 0) -> list[Path]:
    """Every figure the rows allow; returns the written paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [spectrum_vs_rho(rows, out), plane_eigenfunctions(out, seed), energy_ratio(rows, out),
             conflicting_margin(rows, out), residual_decay(rows, out), width_convergence(rows, out),
             label_feature_ratio(rows, out), margin_methods(rows, out)]
    return [p for p in paths if p is not None]
