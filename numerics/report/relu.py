"""Report entries for the two-layer ReLU claims (R1, G1, E2, E3, E4), arch "relu".

Each entry calls the experiment functions the tests drive (numerics.experiments.relu) at a default
setting (numerics.settings), and judges with the same pass rules (numerics.checks) as the tests.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from numerics import checks
from numerics import tolerances as tol
from numerics.experiments import relu as ex
from numerics.report.rows import Context, Row
from numerics.settings import ALPHA, BETA, RHO_IMBALANCED, RHO_SWEEP, VAR_RELU_E2, VAR_RELU_E3

ARCH = "relu"
NETWORK = "2-layer ReLU"


def _fmt(values, digits=3) -> str:
    return ", ".join(f"{float(v):.{digits}g}" for v in values)


def r1(ctx: Context) -> Row:
    rng = np.random.default_rng(ctx.seed)
    X = rng.standard_normal((10, 8))
    widths = (64, 1024, 16384)
    seeds = range(ctx.seed, ctx.seed + (16 if ctx.full else 8))
    conv = ex.relu_width_convergence(X, widths, seeds=seeds)
    agreement = ex.strategy_disagreement(X, 256, seed=ctx.seed)
    return Row.judged("R1", ARCH, NETWORK, f"n=10 d=8, widths {widths}, {len(seeds)} seeds",
                      "||K_emp - NTK||/||NTK|| ~ width^-1/2; jacobian = ntvp = factorized",
                      f"errors {_fmt(conv.errors)}, slope {conv.slope:.2f}; strategies agree to {agreement:.1e}",
                      checks.all_of(checks.width_rate(conv), checks.strategies_agree(agreement)),
                      series={"widths": list(widths), "errors": conv.errors.tolist(), "slope": conv.slope,
                              "strategy_disagreement": agreement})


def g1(ctx: Context) -> Row:
    sigmas = [Fraction(0), Fraction(1, 5), Fraction(1, 20), Fraction(1, 80)]
    n = 800 if ctx.full else 400
    runs = [ex.relu_cluster_reduction(ALPHA, BETA, RHO_IMBALANCED, s * s, n=n, dim=50, seed=ctx.seed) for s in sigmas]
    errors = [float(r.error.max()) for r in runs]
    spectrum_var = Fraction(1, 400)
    spectrum = ex.relu_spectrum_vs_imbalance(ALPHA, BETA, spectrum_var, RHO_SWEEP, n=n, dim=50, seed=ctx.seed)
    check = checks.all_of(checks.cluster_spectrum_exact(errors[0], tol.eigh_rounding(n)),
                          checks.cluster_spectrum_converges(errors[1:]))
    # ridge-approximate cluster outputs, regime d >> n (noise norm^2 = 2 fixed as d grows): reported, not judged
    ridge = ex.ridge_outputs(ALPHA, BETA, RHO_IMBALANCED, Fraction(2, 1600), n=100, dim=1600, seed=ctx.seed)
    return Row.judged("G1", ARCH, NETWORK,
                      f"canonical rho=0.9 alpha=1 beta=1.3, n={n} d=50, sigma in {_fmt(sigmas)}",
                      "top-4 Gram eigenvalues = eig(N^1/2 Kbar N^1/2): exact at sigma=0, error -> 0 with sigma",
                      f"max rel err {_fmt(errors, 2)} (sigma 0, 0.2, 0.05, 0.0125); ridge cluster outputs "
                      f"(n=100, d=1600) off by {ridge.error:.3f}", check,
                      series={"sigma": [float(s) for s in sigmas], "max_rel_error": errors,
                              "ridge_measured": ridge.measured.tolist(), "ridge_predicted": ridge.predicted.tolist(),
                              "spectrum_rho": spectrum.rhos.tolist(), "spectrum": spectrum.gram.tolist(),
                              "spectrum_theory": spectrum.predicted.tolist(),
                              "spectrum_unit": "Gram eigenvalue / n (theory: G1 prediction)",
                              "spectrum_setting": f"canonical alpha={float(ALPHA):g} beta={float(BETA):g} var="
                                                  f"{spectrum_var} (sigma {float(spectrum_var) ** 0.5:g}), rho "
                                                  f"{_fmt(RHO_SWEEP)}, n={n} d=50, seed {ctx.seed}"})


def e2(ctx: Context) -> Row:
    saliences = [Fraction(1, 2), Fraction(4, 5), Fraction(1), BETA, Fraction(2)] if ctx.full else [Fraction(4, 5), BETA]
    n = 800 if ctx.full else 400
    ratios, predicted, rules = {}, {}, []
    for beta in saliences:
        runs = [ex.relu_label_feature_ratio(ALPHA, beta, rho, VAR_RELU_E2, n=n, dim=20, seed=ctx.seed)
                for rho in RHO_SWEEP]
        measured = [r.ratio for r in runs]
        rules += [checks.label_ratio_rises(RHO_SWEEP, measured, apart=tol.RHO_PAIRS_APART),
                  checks.label_ratio_tie(measured[0], runs[0].odd_eigenvalues)]
        ratios[f"beta/alpha={float(beta):g}"] = measured
        predicted[f"beta/alpha={float(beta):g}"] = [r.predicted.ratio for r in runs]
    last = ratios[f"beta/alpha={float(BETA):g}"]
    return Row.judged("E2", ARCH, NETWORK, f"ReLU NTK, n={n} d=20 var=0.09, beta/alpha in {_fmt(saliences)}, "
                      f"rho {_fmt(RHO_SWEEP)}",
                      "lambda(phi_A)/lambda(phi_C) increases with rho; ~1 (tie band) at rho=1/2",
                      f"beta=1.3: {_fmt(last)}", checks.all_of(*rules),
                      series={"rho": [float(r) for r in RHO_SWEEP], "measured": ratios, "g1_predicted": predicted})


#: E3's variance sweep at rho = 0.9: below the gap's peak (the gap rises with the variance until the
#: within-cluster ridge is comparable with the cluster kernel, ~var 1/2 here, then every margin -> 0).
E3_VARIANCES = (Fraction(9, 100), Fraction(18, 100), Fraction(36, 100))


def e3(ctx: Context) -> Row:
    n = 1600 if ctx.full else 800
    rhos = RHO_SWEEP[:-1]
    by_rho = [ex.gmm_kernel_regression_margins(ALPHA, BETA, rho, VAR_RELU_E3, n=n, dim=20, seed=ctx.seed) for rho in rhos]
    by_var = [ex.gmm_kernel_regression_margins(ALPHA, BETA, RHO_IMBALANCED, v, n=n, dim=20, seed=ctx.seed)
              for v in E3_VARIANCES]
    trained = [ex.trained_network_margins(ALPHA, BETA, rho, VAR_RELU_E3, n=200, dim=20, seed=ctx.seed,
                                          width=2048 if ctx.full else 512)
               for rho in (Fraction(1, 2), RHO_IMBALANCED)]
    gaps, var_gaps = [m.gap for m in by_rho], [m.gap for m in by_var]
    check = checks.all_of(
        *(checks.at_most("kernel regression max |y f - gamma|", m.train_error, tol.RELU_KERNEL_MARGIN)
          for m in by_rho + by_var),
        checks.margin_gap_grows(rhos, gaps, apart=tol.RHO_PAIRS_APART), checks.margin_gap_grows(E3_VARIANCES, var_gaps),
        checks.margin_gap_in_band(gaps[0], tol.RELU_E3_SYMMETRY_BAND),
        *(checks.at_most("trained network max |y f - gamma|", m.train_error, tol.RELU_GD_MARGIN) for m in trained),
        checks.margin_gap_grows([Fraction(1, 2), RHO_IMBALANCED], [m.gap for m in trained]))
    return Row.judged("E3", ARCH, NETWORK, f"kernel regression n={n} d=20 var=0.36, rho {_fmt(rhos)}; variances "
                      f"{_fmt(E3_VARIANCES)} at rho=0.9; GD width {2048 if ctx.full else 512} n=200",
                      "train margins = gamma; aligned-conflicting gap grows with rho and variance; "
                      "in the noise band at rho=1/2",
                      f"KR gap {_fmt(gaps)}; by var {_fmt(var_gaps)}; "
                      f"GD gap {trained[0].gap:.3f} -> {trained[1].gap:.3f} (rho 0.5 -> 0.9)", check,
                      series={"rho": [float(r) for r in rhos], "conflicting": [m.conflicting for m in by_rho],
                              "aligned": [m.aligned for m in by_rho], "margin_rho": [float(r) for r in rhos], "margin_gap": gaps,
                              "conflicting_accuracy": [m.conflicting_accuracy for m in by_rho],
                              "variance": [float(v) for v in E3_VARIANCES], "gap_by_variance": var_gaps,
                              "gd_gap": [m.gap for m in trained], "gd_train_error": [m.train_error for m in trained]})


def e4(ctx: Context) -> Row:
    widths = (64, 1024, 16384)
    seeds = [ctx.seed + i for i in range(4 if ctx.full else 2)]
    gap = ex.linearization_gap(ALPHA, BETA, RHO_IMBALANCED, VAR_RELU_E3, n=100, dim=10, widths=widths,
                               seeds=seeds, steps=100)
    return Row.judged("E4", ARCH, NETWORK, f"n=100 d=10, 100 GD steps, widths {widths}, {len(seeds)} seeds",
                      "trained net -> NTK prediction ~ width^-1/2 (NNGP prediction: no convergence)",
                      f"errors {_fmt(gap.errors)}, slope {gap.slope:.2f}; NNGP control {_fmt(gap.control_errors)}",
                      checks.linearization_gap(gap),
                      series={"widths": list(widths), "errors": gap.errors.tolist(), "slope": gap.slope,
                              "control_errors": gap.control_errors.tolist(), "regression_gap": gap.regression_gap})


#: E2 on a symmetry-broken ReLU: one breaker of P1 each (numerics.experiments.relu.relu_label_feature_ratio keywords),
#: at salience 2 (inside the range where the nonlinearity is visible, tests/test_e2_nonlinear.py) and var = 1e-4.
E2_BROKEN_SETTINGS = {"bias b_std=1/2": {"b_std": Fraction(1, 2)}, "depth 2": {"depth": 2},
                      "offset omega=1": {"offset": Fraction(1)}}
E2_BROKEN_SALIENCE, E2_BROKEN_VAR = Fraction(2), Fraction(1, 10**4)
#: the rho range of the match-and-separation rule (tests/test_e2_nonlinear.py): at rho = 1/2 phi_A, phi_C are a tie,
#: near 1 the conflicting clusters thin out
E2_BROKEN_MATCH_RHOS = (Fraction(3, 5), Fraction(9, 10))


def e2_broken(ctx: Context) -> Row:
    """E2 on a symmetry-broken ReLU (bias / depth 2 / offset): the ratio rises with rho, follows the network's own
    G1 prediction and misses the linear one (checks.label_ratio_sees_nonlinearity) for rho in E2_BROKEN_MATCH_RHOS."""
    n = 400 if ctx.full else 300
    series = {"rho": [float(r) for r in RHO_SWEEP], "measured": {}, "g1_nonlinear": {}, "g1_linear": {}}
    rules, margins = [], {}
    for name, setting in E2_BROKEN_SETTINGS.items():
        runs = [ex.relu_label_feature_ratio(ALPHA, E2_BROKEN_SALIENCE * ALPHA, rho, E2_BROKEN_VAR, n=n, dim=16,
                                            seed=ctx.seed, **setting) for rho in RHO_SWEEP]
        series["measured"][name] = [r.ratio for r in runs]
        series["g1_nonlinear"][name] = [r.predicted.ratio for r in runs]
        series["g1_linear"][name] = [r.linear.ratio for r in runs]
        matched = [(r.ratio, r.predicted.ratio, r.linear.ratio) for rho, r in zip(RHO_SWEEP, runs)
                   if E2_BROKEN_MATCH_RHOS[0] <= rho <= E2_BROKEN_MATCH_RHOS[1]]
        rules += [checks.label_ratio_rises(RHO_SWEEP, series["measured"][name], apart=tol.RHO_PAIRS_APART),
                  *(checks.label_ratio_sees_nonlinearity(*m) for m in matched)]
        margins[name] = float(min(abs(np.log(m / lin)) / abs(np.log(m / own)) for m, own, lin in matched))
    return Row.judged("E2", ARCH, "ReLU, symmetry broken (bias / depth 2 / offset)",
                      f"n={n} d=16 var=1e-4, beta/alpha=2, rho {_fmt(RHO_SWEEP)}; {', '.join(E2_BROKEN_SETTINGS)}",
                      "lambda(phi_A)/lambda(phi_C) rises with rho; = own G1 prediction, not the linear one "
                      f"(rho {_fmt(E2_BROKEN_MATCH_RHOS)})",
                      "; ".join(f"{name}: {_fmt(series['measured'][name])} (G1 {_fmt(series['g1_nonlinear'][name])}, "
                                f"linear {_fmt(series['g1_linear'][name])}; min margin {margins[name]:.0f})"
                                for name in E2_BROKEN_SETTINGS),
                      checks.all_of(*rules), series={**series, "min_margin": margins})


ENTRIES = [("R1", ARCH, r1), ("G1", ARCH, g1), ("E2", ARCH, e2), ("E2", ARCH, e2_broken), ("E3", ARCH, e3),
           ("E4", ARCH, e4)]


def e4_training_drift(ctx: Context) -> Row:
    """Beyond the lazy regime (issue 13): the empirical NTK before and after real GD training. Judged ONLY on the
    drift-vs-width property (checks.kernel_drift_falls_with_width); whether training amplifies the shortcut (ratio,
    alignments before -> after) is an open question, measured and reported."""
    from numerics.experiments import training_drift as td

    widths, seeds = (64, 256, 1024), [ctx.seed + i for i in range(3 if ctx.full else 2)]
    eta_fractions = (0.25, 0.9)
    runs = {eta: td.drift_vs_width(ALPHA, BETA, RHO_IMBALANCED, VAR_RELU_E2, n=100, dim=10, widths=widths,
                                   seeds=seeds, eta_fraction=eta, steps=300) for eta in eta_fractions}
    per_run = [{"eta_fraction": eta, "width": r.width, "seed": r.seed, "drift": r.drift,
                "ratio": [r.before.ratio, r.after.ratio],
                "alignment_aligned": [r.before.alignment_aligned, r.after.alignment_aligned],
                "alignment_conflicting": [r.before.alignment_conflicting, r.after.alignment_conflicting]}
               for eta, d in runs.items() for r in d.runs]
    rose = {eta: sum(r.after.ratio > r.before.ratio for r in d.runs) for eta, d in runs.items()}
    measured = "; ".join(f"eta {eta:g}: drift {_fmt(d.drifts)} (slope {d.slope:.2f}), ratio rose in {rose[eta]} of "
                         f"{len(d.runs)} runs" for eta, d in runs.items())
    return Row.judged("E4", ARCH, "2-layer ReLU after training",
                      f"n=100 d=10 rho=0.9 var=0.09, 300 GD steps, eta_fraction {_fmt(eta_fractions)}, widths {widths}, "
                      f"{len(seeds)} seeds", "empirical-NTK drift falls with width (>= width^-1/2); training's effect "
                      "on lambda(phi_A)/lambda(phi_C) and the alignments: OPEN (measured)", measured,
                      checks.all_of(*(checks.kernel_drift_falls_with_width(d) for d in runs.values())),
                      series={"widths": list(widths), "drifts": {str(eta): d.drifts.tolist() for eta, d in runs.items()},
                              "slopes": {str(eta): d.slope for eta, d in runs.items()}, "runs": per_run})


ENTRIES.append(("E4", ARCH, e4_training_drift))
