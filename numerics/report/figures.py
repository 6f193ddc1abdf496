"""The report's six figures (matplotlib, Agg, PNG). Theory is drawn as lines, measurements as markers.

Figures read the rows' ``series`` (the same data the JSON keeps); figure 2 evaluates the Nystrom
eigenfunctions of the linear and ReLU NTKs over a 2-D input plane.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from numerics.data import sample_gmm  # noqa: E402
from numerics.eigen import top_eigenpairs  # noqa: E402
from numerics.eigenfunctions import nystrom  # noqa: E402
from numerics.kernels import linear_ntk, relu_ntk  # noqa: E402
from theory import GMM  # noqa: E402

#: a panel whose values span more than this factor is drawn on a log scale
LOG_SCALE_SPREAD = 50

ARCH_STYLE = {"linear": ("C0", "o"), "relu": ("C1", "s"), "resnet18": ("C2", "^")}


def _series(rows, claim, key):
    """(row, series) pairs for rows of ``claim`` whose series has ``key``."""
    return [(r, r.series) for r in rows if r.claim == claim and key in r.series]


def _save(fig, out: Path, name: str) -> Path:
    path = out / name
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def spectrum_vs_rho(rows, out: Path) -> Path | None:
    """Figure 1: top NTK eigenvalues vs rho, one panel per architecture."""
    found = [(r, s) for r in rows for s in [r.series] if "spectrum_rho" in s]
    if not found:
        return None
    fig, axes = plt.subplots(1, len(found), figsize=(4.6 * len(found), 3.8), squeeze=False)
    for ax, (row, s) in zip(axes[0], found):
        color, marker = ARCH_STYLE[row.arch]
        rho, measured = np.asarray(s["spectrum_rho"]), np.asarray(s["spectrum"])
        for i in range(measured.shape[1]):
            ax.plot(rho, measured[:, i], marker, color=f"C{i}", label=f"measured lambda_{i + 1}")
        if "spectrum_theory" in s:
            theory = np.asarray(s["spectrum_theory"])
            for i in range(theory.shape[1]):
                ax.plot(rho, theory[:, i], "-", color=f"C{i}", label=f"theory lambda_{i + 1}")
        if measured.max() > LOG_SCALE_SPREAD * max(measured.min(), np.finfo(float).tiny):
            ax.set_yscale("log")          # one dominant eigenvalue would flatten the others
        ax.set(title=f"{row.network}: top NTK eigenvalues", xlabel="rho (aligned fraction)",
               ylabel=s.get("spectrum_unit", "eigenvalue / n"))
        ax.legend(fontsize=7)
    return _save(fig, out, "fig1_spectrum_vs_rho.png")


def plane_eigenfunctions(out: Path, seed: int = 0) -> Path:
    """Figure 2: the top two Nystrom eigenfunctions of the linear and ReLU NTK over the
    (core, bias) plane, for a canonical sample with rho = 0.9; the four clusters drawn."""
    gmm = GMM.canonical(1, Fraction(13, 10), Fraction(9, 10), Fraction(1, 10))
    sample = sample_gmm(gmm, 200, seed=seed)
    grid = np.linspace(-2.5, 2.5, 101)
    G = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    fig, axes = plt.subplots(2, 2, figsize=(9, 8))
    for row_axes, (name, kernel) in zip(axes, (("linear NTK", linear_ntk), ("ReLU NTK", relu_ntk))):
        eig = top_eigenpairs(kernel(sample.X), 2)
        phi = nystrom(kernel(G, sample.X), eig.values, eig.vectors)
        for i, ax in enumerate(row_axes):
            field = phi[:, i].reshape(grid.size, grid.size)
            limit = np.max(np.abs(field))
            image = ax.contourf(grid, grid, field, levels=21, cmap="RdBu_r", vmin=-limit, vmax=limit)
            fig.colorbar(image, ax=ax, label="phi(x) (Nystrom, arbitrary sign)")
            aligned = sample.cluster < 2
            ax.scatter(*sample.X[aligned].T, s=8, c="k", marker="o", label="aligned")
            ax.scatter(*sample.X[~aligned].T, s=14, c="yellow", edgecolors="k", marker="^", label="conflicting")
            ax.set(title=f"{name}: eigenfunction {i + 1} (lambda = {eig.values[i]:.3g})",
                   xlabel="core coordinate x_0", ylabel="bias coordinate x_1")
            ax.legend(fontsize=7, loc="lower right")
    return _save(fig, out, "fig2_eigenfunctions_plane.png")


def energy_ratio(rows, out: Path) -> Path | None:
    """Figure 3: top/second feature-energy ratio vs within-cluster variance (S2)."""
    found = _series(rows, "S2", "ratio_theory")
    if not found:
        return None
    _, s = found[0]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(s["variance"], s["ratio_theory"], "-", label="theory (SymPy)")
    ax.plot(s["variance"], s["ratio_measured"], "o", label="trained one-layer network")
    ax.set(title="S2: variance keeps the top feature dominant", xlabel="within-cluster variance s^2",
           ylabel="E[f^(1)^2] / E[f^(2)^2] (ratio)")
    ax.legend()
    return _save(fig, out, "fig3_energy_ratio_vs_variance.png")


def conflicting_margin(rows, out: Path) -> Path | None:
    """Figure 4: bias-conflicting margin vs rho and vs variance, threshold marked."""
    found = _series(rows, "S2", "margin_vs_var")
    if not found:
        return None
    _, s = found[0]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for row in rows:
        if "margin_gap" in row.series:
            color, marker = ARCH_STYLE[row.arch]
            left.plot(row.series["margin_rho"], row.series["margin_gap"], marker + "--", color=color,
                      label=f"{row.claim}: {row.network}")
    left.axhline(0, color="k", lw=0.8)
    left.set(title="aligned - conflicting test margin vs imbalance", xlabel="rho (aligned fraction)",
             ylabel="margin gap (units of gamma)")
    left.legend(fontsize=7)
    right.plot(s["all_variances"], s["margin_vs_var"], "o-", label="linear, rho = 0.9")
    right.axvline(s["threshold"], color="r", ls="--", label=f"closed-form threshold s^2 = {s['threshold']:.2f}")
    right.axhline(0, color="k", lw=0.8)
    right.set(title="conflicting margin vs variance", xlabel="within-cluster variance s^2", ylabel="y f(mu_conflicting) (margin)")
    right.legend(fontsize=7)
    return _save(fig, out, "fig4_conflicting_margin.png")


def residual_decay(rows, out: Path) -> Path | None:
    """Figure 5: residual along each eigenvector vs step (T1): law lines, trained markers."""
    found = _series(rows, "T1", "law")
    if not found:
        return None
    _, s = found[0]
    law, measured = np.asarray(s["law"]), np.asarray(s["measured"])
    steps = np.arange(law.shape[0])
    fig, ax = plt.subplots(figsize=(6, 4))
    every = max(1, len(steps) // 25)
    for i in range(law.shape[1]):
        ax.semilogy(steps, law[:, i], "-", color=f"C{i}", label=f"law, lambda_{i + 1} = {s['eigenvalues'][i]:.3g}")
        ax.semilogy(steps[::every], measured[::every, i], "o", color=f"C{i}", ms=4, label=f"trained, v_{i + 1}")
    ax.set(title="T1: residual decay along NTK eigenvectors", xlabel="gradient-descent step t",
           ylabel="|<v_i, Y - f_t(X)>|")
    ax.legend(fontsize=7)
    return _save(fig, out, "fig5_residual_decay.png")


def width_convergence(rows, out: Path) -> Path | None:
    """Figure 6: width convergence, log-log, with a 1/sqrt(width) guide (L1, R1, E4)."""
    found = [(r, r.series) for r in rows if "widths" in r.series and "errors" in r.series]
    if not found:
        return None
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for row, s in found:
        widths, errors = np.asarray(s["widths"], float), np.asarray(s["errors"], float)
        ax.loglog(widths, errors, "o-", label=f"{row.claim}: {row.network}")
        ax.loglog(widths, errors[0] * np.sqrt(widths[0] / widths), ":", color="gray")
    ax.plot([], [], ":", color="gray", label="1/sqrt(width) guide")
    ax.set(title="Finite-width error vs width", xlabel="width (units)", ylabel="relative error")
    ax.legend(fontsize=7)
    return _save(fig, out, "fig6_width_convergence.png")


def label_feature_ratio(rows, out: Path) -> Path | None:
    """Figure 7 (E2, G1): lambda(phi_A)/lambda(phi_C) vs rho, one panel per network, measurements as
    markers and G1's cluster-level prediction from the network's own kernel as lines. On the canonical
    mixture the bias-free ReLU's prediction IS the linear one (P1); with the symmetry broken the linear
    prediction (dashed) misses the measurements."""
    found = [r for r in rows if r.claim == "E2" and "rho" in r.series]
    if not found:
        return None
    fig, axes = plt.subplots(1, len(found), figsize=(5 * len(found), 4.2), squeeze=False)
    for ax, row in zip(axes[0], found):
        s = row.series
        rho = np.asarray(s["rho"])
        measured = s.get("measured", {f"seed {k}": v for k, v in zip(s.get("seeds", []), s.get("ratios", []))})
        predicted = s.get("g1_nonlinear", s.get("g1_predicted", {}))
        if isinstance(predicted, list):
            predicted = dict(zip(measured, predicted))
        for i, (name, values) in enumerate(measured.items()):
            ax.plot(rho, values, "os^vD"[i % 5], color=f"C{i}", label=f"measured, {name}")
            if name in predicted:
                ax.plot(rho, predicted[name], "-", color=f"C{i}", label=f"G1, own kernel, {name}")
            if name in s.get("g1_linear", {}):
                ax.plot(rho, s["g1_linear"][name], "--", color=f"C{i}", alpha=0.6, label=f"G1, linear kernel, {name}")
        ax.set_yscale("log")
        ax.set(title=row.network, xlabel=r"$\rho$ (aligned fraction)", ylabel=r"$\lambda(\phi_A)\,/\,\lambda(\phi_C)$")
        ax.legend(fontsize=6, loc="upper left")
    fig.suptitle("E2: the aligned label feature gains on the conflicting one as " + r"$\rho$" + " grows "
                 "(markers: measured; lines: G1 prediction)", fontsize=9)
    return _save(fig, out, "fig7_label_feature_ratio.png")


def draw_all(rows, out: Path, seed: int = 0) -> list[Path]:
    """Every figure the rows allow; returns the written paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [spectrum_vs_rho(rows, out), plane_eigenfunctions(out, seed), energy_ratio(rows, out),
             conflicting_margin(rows, out), residual_decay(rows, out), width_convergence(rows, out),
             label_feature_ratio(rows, out)]
    return [p for p in paths if p is not None]
