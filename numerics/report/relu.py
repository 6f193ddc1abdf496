"""Report entries for the two-layer ReLU claims (R1, G1, E2, E3, E4), arch "relu".

Each entry calls the experiment functions the tests drive (numerics.experiments.relu) at a default
setting, and judges with the same criteria and tolerances as tests/test_*relu*.py.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from numerics import tolerances as tol
from numerics.experiments import relu as ex
from numerics.report.rows import Context, Row, verdict

ALPHA, BETA, VAR = Fraction(1), Fraction(13, 10), Fraction(9, 100)
RHOS = [Fraction(1, 2), Fraction(3, 5), Fraction(7, 10), Fraction(4, 5), Fraction(9, 10), Fraction(19, 20)]
NETWORK = "2-layer ReLU"


def _monotone(rhos, values, sign: int, apart=Fraction(1, 5)) -> bool:
    """sign * (values[j] - values[i]) > 0 for every pair of rhos at least ``apart`` apart (the tests'
    pairing: closer pairs are within seed noise)."""
    return all(sign * (values[j] - values[i]) > 0 for i in range(len(rhos)) for j in range(len(rhos))
               if rhos[j] - rhos[i] >= apart)


def _fmt(values, digits=3) -> str:
    return ", ".join(f"{v:.{digits}g}" for v in values)


def r1(ctx: Context) -> Row:
    rng = np.random.default_rng(ctx.seed)
    X = rng.standard_normal((10, 8))
    widths = (64, 1024, 16384)
    seeds = range(ctx.seed, ctx.seed + (16 if ctx.full else 8))
    conv = ex.relu_width_convergence(X, widths, seeds=seeds)
    agreement = ex.strategy_disagreement(X, 256, seed=ctx.seed)
    ok = bool(np.all(np.diff(conv.errors) < 0)) and abs(conv.slope + 0.5) < tol.WIDTH_SLOPE and agreement <= 1e-12
    return Row("R1", NETWORK, f"n=10 d=8, widths {widths}, {len(seeds)} seeds",
               "||K_emp - NTK||/||NTK|| ~ width^-1/2; jacobian = ntvp = factorized",
               f"errors {_fmt(conv.errors)}, slope {conv.slope:.2f}; strategies agree to {agreement:.1e}",
               abs(conv.slope + 0.5), verdict(ok),
               series={"widths": list(widths), "errors": conv.errors.tolist(), "slope": conv.slope,
                       "strategy_disagreement": agreement})


def g1(ctx: Context) -> Row:
    sigmas = [Fraction(0), Fraction(1, 5), Fraction(1, 20), Fraction(1, 80)]
    n = 800 if ctx.full else 400
    runs = [ex.relu_cluster_reduction(ALPHA, BETA, Fraction(9, 10), s * s, n=n, dim=50, seed=ctx.seed) for s in sigmas]
    errors = [float(r.error.max()) for r in runs]
    spectrum = ex.relu_spectrum_vs_imbalance(ALPHA, BETA, Fraction(1, 400), RHOS, n=n, dim=50, seed=ctx.seed)
    exact = errors[0] <= 10 * n * tol.EPS
    ok = exact and errors[1] > errors[2] > errors[3]
    # ridge-approximate cluster outputs, regime d >> n (noise norm^2 = 2 fixed as d grows): reported, not judged
    ridge = ex.ridge_outputs(ALPHA, BETA, Fraction(9, 10), Fraction(2, 1600), n=100, dim=1600, seed=ctx.seed)
    return Row("G1", NETWORK, f"canonical rho=0.9 alpha=1 beta=1.3, n={n} d=50, sigma in {_fmt(map(float, sigmas))}",
               "top-4 Gram eigenvalues = eig(N^1/2 Kbar N^1/2): exact at sigma=0, error -> 0 with sigma",
               f"max rel err {_fmt(errors, 2)} (sigma 0, 0.2, 0.05, 0.0125); ridge cluster outputs "
               f"(n=100, d=1600) off by {ridge.error:.3f}", errors[-1], verdict(ok),
               series={"sigma": [float(s) for s in sigmas], "max_rel_error": errors,
                       "ridge_measured": ridge.measured.tolist(), "ridge_predicted": ridge.predicted.tolist(),
                       "spectrum_rho": spectrum.rhos.tolist(), "spectrum": spectrum.gram.tolist(),
                       "spectrum_theory": spectrum.predicted.tolist(),
                       "spectrum_unit": "Gram eigenvalue / n (theory: G1 prediction)"})


def e2(ctx: Context) -> Row:
    saliences = [Fraction(1, 2), Fraction(4, 5), Fraction(1), BETA, Fraction(2)] if ctx.full else [Fraction(4, 5), BETA]
    n = 800 if ctx.full else 400
    ratios, predicted, ok = {}, {}, True
    for beta in saliences:
        runs = [ex.relu_label_feature_ratio(ALPHA, beta, rho, VAR, n=n, dim=20, seed=ctx.seed) for rho in RHOS]
        measured = [r.ratio for r in runs]
        plus, minus = runs[0].odd_eigenvalues
        band = np.log(plus / minus) + np.log(tol.RELU_E2_TIE_NOISE)   # the rho = 1/2 tie band
        ok &= _monotone(RHOS, measured, +1) and abs(np.log(measured[0])) <= band
        ratios[str(float(beta))] = measured
        predicted[str(float(beta))] = [r.predicted.ratio for r in runs]
    last = ratios[str(float(BETA))]
    return Row("E2", NETWORK, f"ReLU NTK, n={n} d=20 var=0.09, beta/alpha in {_fmt(map(float, saliences))}, "
               f"rho {_fmt(map(float, RHOS))}",
               "lambda(phi_A)/lambda(phi_C) increases with rho; ~1 (tie band) at rho=1/2",
               f"beta=1.3: {_fmt(last)}", float(last[-1]), verdict(ok),
               series={"rho": [float(r) for r in RHOS], "measured": ratios, "g1_predicted": predicted})


def e3(ctx: Context) -> Row:
    n = 1600 if ctx.full else 800
    rhos = RHOS[:-1]
    by_rho = [ex.kernel_regression_margins(ALPHA, BETA, rho, Fraction(36, 100), n=n, dim=20, seed=ctx.seed)
              for rho in rhos]
    variances = [Fraction(9, 100), Fraction(36, 100), Fraction(1)]
    by_var = [ex.kernel_regression_margins(ALPHA, BETA, Fraction(9, 10), v, n=n, dim=20, seed=ctx.seed)
              for v in variances]
    trained = [ex.trained_network_margins(ALPHA, BETA, rho, Fraction(36, 100), n=200, dim=20, seed=ctx.seed,
                                          width=2048 if ctx.full else 512)
               for rho in (Fraction(1, 2), Fraction(9, 10))]
    conflicting = [m.conflicting for m in by_rho]
    ok = (all(m.train_error <= tol.RELU_KERNEL_MARGIN for m in by_rho + by_var)
          and _monotone(rhos, conflicting, -1) and bool(np.all(np.diff([m.conflicting for m in by_var]) < 0))
          and abs(by_rho[0].aligned - by_rho[0].conflicting) < tol.RELU_E3_SYMMETRY_BAND
          and all(m.train_error < tol.RELU_GD_MARGIN for m in trained)
          and trained[1].conflicting < trained[0].conflicting)
    return Row("E3", NETWORK, f"kernel regression n={n} d=20 var=0.36, rho {_fmt(map(float, rhos))}; "
               f"GD width {2048 if ctx.full else 512} n=200",
               "train margins = gamma; conflicting test margin falls with rho and variance",
               f"KR conflicting {_fmt(conflicting)}; by var {_fmt([m.conflicting for m in by_var])}; "
               f"GD {trained[0].conflicting:.3f} -> {trained[1].conflicting:.3f} (rho 0.5 -> 0.9)",
               float(max(m.train_error for m in by_rho + by_var)), verdict(ok),
               series={"rho": [float(r) for r in rhos], "conflicting": conflicting,
                       "aligned": [m.aligned for m in by_rho],
                       "conflicting_accuracy": [m.conflicting_accuracy for m in by_rho],
                       "variance": [float(v) for v in variances],
                       "conflicting_by_variance": [m.conflicting for m in by_var],
                       "gd_conflicting": [m.conflicting for m in trained],
                       "gd_train_error": [m.train_error for m in trained]})


def e4(ctx: Context) -> Row:
    widths = (64, 1024, 16384)
    seeds = [ctx.seed + i for i in range(4 if ctx.full else 2)]
    gap = ex.linearization_gap(ALPHA, BETA, Fraction(9, 10), Fraction(36, 100), n=100, dim=10, widths=widths,
                               seeds=seeds, steps=100)
    ok = (bool(np.all(np.diff(gap.errors) < 0)) and abs(gap.slope + 0.5) < tol.WIDTH_SLOPE
          and abs(gap.control_slope + 0.5) >= tol.WIDTH_SLOPE)
    return Row("E4", NETWORK, f"n=100 d=10, 100 GD steps, widths {widths}, {len(seeds)} seeds",
               "trained net -> NTK prediction ~ width^-1/2 (NNGP prediction: no convergence)",
               f"errors {_fmt(gap.errors)}, slope {gap.slope:.2f}; NNGP control {_fmt(gap.control_errors)}",
               abs(gap.slope + 0.5), verdict(ok),
               series={"widths": list(widths), "errors": gap.errors.tolist(), "slope": gap.slope,
                       "control_errors": gap.control_errors.tolist(), "regression_gap": gap.regression_gap})


ENTRIES = [("R1", "relu", r1), ("G1", "relu", g1), ("E2", "relu", e2), ("E3", "relu", e3), ("E4", "relu", e4)]
