"""Report entries for the linear-network claims (T1, L1, L2, L3, S1, N1).

Each entry calls the same experiment function the tests drive, at a default setting, and
judges it with the same tolerance (numerics.tolerances).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from numerics import tolerances as tol
from numerics.experiments import linear as ex
from numerics.experiments import linear_training as tr
from numerics.report.rows import Context, Row, verdict
from theory import GMM

ALPHA, BETA, VAR = Fraction(1), Fraction(13, 10), Fraction(1, 4)
RHOS = [Fraction(k, 20) for k in range(10, 20)]


def _canonical(rho=Fraction(9, 10), dim=3, var=VAR):
    return GMM.canonical(ALPHA, BETA, rho, var, dim=dim)


def t1(ctx: Context) -> Row:
    steps = 600 if ctx.full else 200
    r = ex.residual_decay(_canonical(), 24, seed=ctx.seed, steps=steps, eta_fraction=0.1)
    worst = max(r.law_error, r.decomposition_error)
    top = r.eigenvalues > 1e-8 * r.eigenvalues[0]
    return Row("T1", "linear (1 layer)", f"canonical rho=0.9 s2=0.25 d=3 n=24, {steps} GD steps",
               "<v_i, r_t> = (1 - eta lambda_i)^t <v_i, r_0>; sum_i f^(i) = f_t - f_0",
               f"law err {r.law_error:.1e}, decomposition err {r.decomposition_error:.1e}", worst,
               verdict(worst < tol.RESIDUAL_LAW),
               series={"eigenvalues": r.eigenvalues[top].tolist(), "eta": r.eta,
                       "measured": np.abs(r.measured[:, top]).tolist(), "law": np.abs(r.law[:, top]).tolist()})


def l1(ctx: Context) -> Row:
    rng = np.random.default_rng(ctx.seed)
    X = rng.standard_normal((6, 5))
    exact = ex.one_layer_ntk_error(X)
    widths = (16, 256, 4096)
    seeds = range(ctx.seed, ctx.seed + (8 if ctx.full else 4))
    conv = ex.deep_linear_width_convergence(X, 2, widths, seeds=seeds)
    ok = exact < 4 * 5 * tol.EPS and bool(np.all(np.diff(conv.errors) < 0)) and abs(conv.slope + 0.5) < tol.WIDTH_SLOPE
    return Row("L1", "linear (1 and 2 layers)", f"n=6 d=5, widths {widths}, {len(seeds)} seeds",
               "1 layer: K = X X^T exactly; L=2: error ~ width^-1/2",
               f"1-layer err {exact:.1e}; L=2 errors {', '.join(f'{e:.3f}' for e in conv.errors)}, slope {conv.slope:.2f}",
               abs(conv.slope + 0.5), verdict(ok),
               series={"widths": list(widths), "errors": conv.errors.tolist(), "slope": conv.slope})


def l2(ctx: Context) -> Row:
    results = [ex.population_spectrum(_canonical(rho, dim=4)) for rho in RHOS]
    worst = max(max(r.error, 0 if np.isnan(r.gram_route_error) else r.gram_route_error) for r in results)
    return Row("L2", "linear", f"canonical, {len(RHOS)} rho in [0.5, 0.95], d=4",
               "SymPy eig(M) = numpy eigh(M), H route = general route",
               f"max rel err {worst:.1e}", worst, verdict(worst < tol.POPULATION_EIGENVALUES),
               series={"rho": [float(r) for r in RHOS], "errors": [r.error for r in results]})


def l3(ctx: Context) -> Row:
    design = ex.exact_design_spectrum(_canonical())
    n = 20000 if ctx.full else 2000
    sampled = ex.sampled_spectrum(_canonical(), n, seed=ctx.seed, delta=tol.CONCENTRATION_DELTA)
    ok = (design.error < tol.DESIGN_EIGENVALUES and design.lowrank_error < tol.ROUTE_AGREEMENT
          and sampled.deviation <= sampled.bound)
    return Row("L3", "linear", f"exact design n={design.n}; sampled n={n}",
               f"design: eig/n = eig(M); sample: dev <= {sampled.bound:.3f} (p>=0.999)",
               f"design err {design.error:.1e}, routes {design.lowrank_error:.1e}; sample dev {sampled.deviation:.3f}",
               design.error, verdict(ok),
               series={"design": design.gram_over_n.tolist(), "theory": design.theory.tolist(),
                       "sampled": sampled.gram_over_n.tolist(), "bound": sampled.bound})


def s1(ctx: Context) -> Row:
    n = 20000 if ctx.full else 4000
    r = ex.spectrum_vs_imbalance(ALPHA, BETA, VAR, RHOS, n=n, seed=ctx.seed, dim=3)
    p = 2 * r.rhos - 1
    bound = 2 * (1 - p) * float(ALPHA * BETA) / float(ALPHA**2 + BETA**2)
    monotone = bool(np.all(np.diff(r.closed_form[:, 0]) > 0) and np.all(np.diff(r.closed_form[:, 1]) < 0))
    ok = monotone and bool(np.all(r.top_direction_sin <= bound + 1e-12))
    return Row("S1", "linear", f"canonical alpha=1 beta=1.3 s2=0.25, rho 0.5..0.95, sampled n={n}",
               "eig_+ up, eig_- down in p; top eigvec -> aligned mean",
               f"eig_+ {r.closed_form[0, 0]:.2f}->{r.closed_form[-1, 0]:.2f}, eig_- {r.closed_form[0, 1]:.2f}->"
               f"{r.closed_form[-1, 1]:.2f}; sin(top, aligned) {r.top_direction_sin[-1]:.3f} at rho=0.95",
               float(np.max(np.abs(r.sampled - r.closed_form))), verdict(ok),
               series={"spectrum_rho": r.rhos.tolist(), "spectrum_theory": r.closed_form.tolist(),
                       "spectrum": r.sampled.tolist(), "top_direction_sin": r.top_direction_sin.tolist()})


def n1(ctx: Context) -> Row:
    balanced = ex.aligned_direction_sin(_canonical(Fraction(1, 2), dim=2))
    # p = 0: M is diagonal, so the top eigenvector is an axis (e_bias here, beta > alpha):
    # its angle to the aligned mean (alpha, beta)/norm is exactly arccos(beta / norm).
    expected = float(ALPHA) / float(np.hypot(float(ALPHA), float(BETA)))
    worst = abs(balanced - expected)
    return Row("N1", "linear", "rho = 1/2 (p = 0), canonical d=2",
               "no core-bias mixing: top eigvec is an axis",
               f"sin(top, aligned) = {balanced:.6f} (axis: {expected:.6f})",
               worst, verdict(worst < 1e-12))


VARIANCES = [Fraction(k, 20) for k in range(0, 41, 4)]


def s2(ctx: Context) -> Row:
    """Energy ratio vs variance (theory curve, trained points), the threshold, GD vs w_inf."""
    p = 2 * Fraction(9, 10) - 1
    ratios = [tr.feature_energy_ratio(_canonical(var=v)) for v in VARIANCES[1:]]
    theory, measured = np.array(ratios).T
    trained = tr.trained_weights_on_design(_canonical())
    threshold = float(ALPHA**2 * BETA**2 * (1 - p**2) / (p * BETA**2 - ALPHA**2))
    margin_vs_rho = [tr.cluster_margins(_canonical(r, var=Fraction(1, 2)))[2] for r in RHOS]
    margin_vs_var = [tr.cluster_margins(_canonical(var=v))[2] for v in VARIANCES]
    worst = max(float(np.max(np.abs(measured / theory - 1))), trained.error)
    signs = all((m > 0) == (float(v) < threshold) for v, m in zip(VARIANCES, margin_vs_var))
    ok = (bool(np.all(np.diff(theory) > 0)) and worst < 1e-8 and trained.error <= trained.bound + 1e-12
          and signs)
    return Row("S2", "linear (1 layer, GD)", "canonical rho=0.9, s2 in [0.2, 2]",
               "energy ratio up in s2; GD -> w_inf; conflicting margin < 0 past s2*",
               f"ratio {theory[0]:.2f}->{theory[-1]:.2f}; GD err {trained.error:.1e}; s2* = {threshold:.3f}",
               worst, verdict(ok),
               series={"variance": [float(v) for v in VARIANCES[1:]], "ratio_theory": theory.tolist(),
                       "ratio_measured": measured.tolist(), "threshold": threshold,
                       "rho": [float(r) for r in RHOS], "margin_vs_rho": np.asarray(margin_vs_rho).tolist(),
                       "all_variances": [float(v) for v in VARIANCES], "margin_vs_var": np.asarray(margin_vs_var).tolist()})


def s3(ctx: Context) -> Row:
    """Equal training margins (interpolation) with smaller conflicting margins; SVM ignores the bias."""
    n, d = (100, 8000) if ctx.full else (60, 3000)
    rhos = [Fraction(k, 10) for k in range(5, 10)]
    runs = [tr.interpolation(ALPHA, BETA, r, Fraction(3, 10) * n / d, n=n, d=d, seed=ctx.seed) for r in rhos]
    train_err = max(float(np.max(np.abs(r.training_margins - 1))) for r in runs)
    conflicting = [r.conflicting_margin for r in runs]
    direction, _ = tr.svm_direction(ALPHA, BETA, Fraction(9, 10))
    ok = train_err < 1e-8 and bool(np.all(np.diff(conflicting) < 0)) and abs(direction[1]) < 1e-6
    return Row("S3", "linear (min-norm)", f"n={n} d={d}, s2 = d sigma^2/n = 0.3, rho 0.5..0.9",
               "train margins = gamma; conflicting margin falls in rho; SVM w_bias = 0",
               f"train err {train_err:.1e}; conflicting {conflicting[0]:.2f}->{conflicting[-1]:.2f}; "
               f"SVM w_bias {direction[1]:.1e}", train_err, verdict(ok),
               series={"rho": [float(r) for r in rhos], "conflicting": conflicting,
                       "aligned": [r.aligned_margin for r in runs], "ridge_error": [r.ridge_error for r in runs]})


ENTRIES = [("T1", "linear", t1), ("L1", "linear", l1), ("L2", "linear", l2), ("L3", "linear", l3),
           ("S1", "linear", s1), ("S2", "linear", s2), ("S3", "linear", s3), ("N1", "linear", n1)]
