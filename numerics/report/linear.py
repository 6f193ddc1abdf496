"""Report entries for the linear-network claims (T1, L1, L2, L3, S1, S2, S3, N1, I1).

Each entry calls the same experiment function the tests drive, at a default setting
(numerics.settings), and judges it with the same pass rule (numerics.checks).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from numerics import checks
from numerics import tolerances as tol
from numerics.data import canonical_counts
from numerics.experiments import linear as ex
from numerics.experiments import linear_training as tr
from numerics.report.rows import Context, Row
from numerics.settings import ALPHA, BETA, RHO_IMBALANCED, RHO_SWEEP, VAR_LINEAR
from theory import GMM, linear


def _canonical(rho=RHO_IMBALANCED, dim=3, var=VAR_LINEAR):
    return GMM.canonical(ALPHA, BETA, rho, var, dim=dim)


ARCH = "linear"


def t1(ctx: Context) -> Row:
    steps = 600 if ctx.full else 200
    n = 24
    r = ex.residual_decay(_canonical(), n, seed=ctx.seed, steps=steps, eta_fraction=0.1)
    top = r.eigenvalues > r.eigenvalues[0] * tol.NULL_EIGENVALUE
    return Row.judged("T1", ARCH, "linear (1 layer)", f"canonical rho=0.9 s2=0.25 d=3 n={n}, {steps} GD steps",
                      "<v_i, r_t> = (1 - eta lambda_i)^t <v_i, r_0>; sum_i f^(i) = f_t - f_0",
                      f"law err {r.law_error:.1e}, decomposition err {r.decomposition_error:.1e}",
                      checks.residual_law(r),
                      series={"eigenvalues": r.eigenvalues[top].tolist(), "eta": r.eta, "n": n,
                              "measured": np.abs(r.measured[:, top]).tolist(), "law": np.abs(r.law[:, top]).tolist()})


def l1(ctx: Context) -> Row:
    rng = np.random.default_rng(ctx.seed)
    X = rng.standard_normal((6, 5))
    exact = ex.one_layer_ntk_error(X)
    widths = (16, 256, 4096)
    seeds = range(ctx.seed, ctx.seed + (8 if ctx.full else 4))
    conv = ex.deep_linear_width_convergence(X, 2, widths, seeds=seeds)
    return Row.judged("L1", ARCH, "linear (1 and 2 layers)", f"n=6 d=5, widths {widths}, {len(seeds)} seeds",
                      "1 layer: K = X X^T exactly; L=2: error ~ width^-1/2",
                      f"1-layer err {exact:.1e}; L=2 errors {', '.join(f'{e:.3f}' for e in conv.errors)}, "
                      f"slope {conv.slope:.2f}",
                      checks.all_of(checks.width_rate(conv), checks.one_layer_ntk(exact, X.shape[1])),
                      series={"widths": list(widths), "errors": conv.errors.tolist(), "slope": conv.slope})


def l2(ctx: Context) -> Row:
    results = [ex.population_spectrum(_canonical(rho, dim=4)) for rho in RHO_SWEEP]
    check = checks.all_of(*map(checks.population_eigenvalues, results))
    return Row.judged("L2", ARCH, "linear", f"canonical, rho in {_fmt(RHO_SWEEP)}, d=4",
                      "SymPy eig(M) = numpy eigh(M), H route = general route",
                      f"max rel err {check.worst:.1e}", check,
                      series={"rho": [float(r) for r in RHO_SWEEP], "errors": [r.error for r in results]})


def l3(ctx: Context) -> Row:
    design = ex.exact_design_spectrum(_canonical())
    n = 20000 if ctx.full else 2000
    sampled = ex.sampled_spectrum(_canonical(), n, seed=ctx.seed)
    return Row.judged("L3", ARCH, "linear", f"exact design n={design.n}; sampled n={n}",
                      f"design: eig/n = eig(M); sample: dev <= {sampled.bound:.3f}",
                      f"design err {design.error:.1e}, routes {design.lowrank_error:.1e}; "
                      f"sample dev {sampled.deviation:.3f}",
                      checks.all_of(checks.design_spectrum(design),
                                    checks.within_concentration_bound("sampled eigenvalue deviation",
                                                                      sampled.deviation, sampled.bound)),
                      series={"design": design.gram_over_n.tolist(), "theory": design.theory.tolist(),
                              "sampled": sampled.gram_over_n.tolist(), "bound": sampled.bound})


def s1(ctx: Context) -> Row:
    n = 20000 if ctx.full else 4000
    r = ex.spectrum_vs_imbalance(ALPHA, BETA, VAR_LINEAR, RHO_SWEEP, n=n, seed=ctx.seed, dim=3)
    return Row.judged("S1", ARCH, "linear", f"canonical alpha=1 beta=1.3 s2=0.25, rho {_fmt(RHO_SWEEP)}, sampled n={n}",
                      "eig_+ up, eig_- down in p; top eigvec -> aligned mean",
                      f"eig_+ {r.closed_form[0, 0]:.2f}->{r.closed_form[-1, 0]:.2f}, eig_- {r.closed_form[0, 1]:.2f}->"
                      f"{r.closed_form[-1, 1]:.2f}; sin(top, aligned) {r.top_direction_sin[-1]:.3f} at rho=0.95",
                      checks.shortcut_spectrum(r.rhos, r.closed_form, r.top_direction_sin, ALPHA, BETA),
                      series={"spectrum_rho": r.rhos.tolist(), "spectrum_theory": r.closed_form.tolist(),
                              "spectrum": r.sampled.tolist(), "top_direction_sin": r.top_direction_sin.tolist(),
                              **_closed_form_spectrum_curve()})


def _closed_form_spectrum_curve() -> dict:
    """Figure 1's theory lines: SymPy's eig_+-(p) of M (theory.linear.canonical_eigenvalues) on a fine rho grid,
    p = 2 rho - 1, at the S1 row's alpha, beta, s^2."""
    values = linear.canonical_substitution(ALPHA, BETA, RHO_IMBALANCED, VAR_LINEAR)
    values.pop(linear.P)
    rho = np.linspace(float(RHO_SWEEP[0]), float(RHO_SWEEP[-1]), 91)
    curves = [sp.lambdify(linear.P, e.subs(values), "numpy")(2 * rho - 1) for e in linear.canonical_eigenvalues()]
    return {"spectrum_theory_fine_rho": rho.tolist(), "spectrum_theory_fine": np.stack(curves, axis=1).tolist()}


def n1(ctx: Context) -> Row:
    balanced = ex.aligned_direction_sin(_canonical(Fraction(1, 2), dim=2))
    return Row.judged("N1", ARCH, "linear", "rho = 1/2 (p = 0), canonical d=2",
                      "no core-bias mixing: top eigvec is an axis",
                      f"sin(top, aligned) = {balanced:.6f} (axis e_bias: alpha/norm)",
                      checks.no_mixing_at_balance(balanced, ALPHA, BETA))


VARIANCES = [Fraction(k, 20) for k in range(0, 41, 4)]


def s2(ctx: Context) -> Row:
    """Energy ratio vs variance (theory curve, trained points), the threshold, GD vs w_inf."""
    ratios = [tr.feature_energy_ratio(_canonical(var=v)) for v in VARIANCES[1:]]
    theory, measured = np.array(ratios).T
    trained = tr.trained_weights_on_design(_canonical())
    threshold = float(linear.misclassification_threshold().subs(linear.canonical_substitution(
        ALPHA, BETA, RHO_IMBALANCED)))
    margin_vs_rho = [tr.cluster_margins(_canonical(r, var=Fraction(1, 2)))[2] for r in RHO_SWEEP]
    margin_vs_var = [tr.cluster_margins(_canonical(var=v))[2] for v in VARIANCES]
    fine = np.linspace(0, float(VARIANCES[-1]), 201)         # figure 4's closed-form curve (theory.linear, SymPy)
    margin_curve = linear.conflicting_margin().subs(linear.canonical_substitution(ALPHA, BETA, RHO_IMBALANCED))
    return Row.judged("S2", ARCH, "linear (1 layer, GD)", "canonical rho=0.9, s2 in [0.2, 2]",
                      "energy ratio up in s2; GD -> w_inf; conflicting margin < 0 past s2*",
                      f"ratio {theory[0]:.2f}->{theory[-1]:.2f}; GD err {trained.error:.1e}; s2* = {threshold:.3f}",
                      checks.all_of(checks.energy_ratio_grows(theory, measured), checks.reaches_trained_weights(trained),
                                    checks.misclassified_past_threshold(VARIANCES, margin_vs_var, threshold)),
                      series={"variance": [float(v) for v in VARIANCES[1:]], "ratio_theory": theory.tolist(),
                              "ratio_measured": measured.tolist(), "threshold": threshold,
                              "rho": [float(r) for r in RHO_SWEEP], "margin_vs_rho": np.asarray(margin_vs_rho).tolist(),
                              "all_variances": [float(v) for v in VARIANCES],
                              "margin_vs_var": np.asarray(margin_vs_var).tolist(), "margin_theory_var": fine.tolist(),
                              "margin_theory": sp.lambdify(linear.S, margin_curve, "numpy")(np.sqrt(fine)).tolist()})


def _interpolations(ctx: Context):
    n, d = (100, 8000) if ctx.full else (60, 3000)
    rhos = RHO_SWEEP[:-1]
    return n, d, rhos, [tr.interpolation(ALPHA, BETA, r, Fraction(3, 10) * n / d, n=n, d=d, seed=ctx.seed)
                        for r in rhos]


def s3(ctx: Context) -> Row:
    """Equal training margins (interpolation) with a growing aligned-minus-conflicting gap on fresh
    points; the hard-margin SVM on the SAME samples shows the same gap."""
    n, d, rhos, runs = _interpolations(ctx)
    gaps, svm_gaps = [r.gap for r in runs], [r.svm_gap for r in runs]
    fine = [Fraction(2 * a, n) for a in range(n // 4, int(rhos[-1] * n / 2) + 1)]   # every attainable rho (figure 4)
    check = checks.all_of(*(checks.equal_training_margins(r.training_margins, 1, tol.INTERPOLATION_MARGIN)
                            for r in runs),
                          checks.margin_gap_grows(rhos, gaps), checks.margin_gap_grows(rhos, svm_gaps))
    return Row.judged("S3", ARCH, "linear (min-norm; hard-margin SVM on the same samples)",
                      f"n={n} d={d}, s2 = d sigma^2/n = 0.3, rho {_fmt(rhos)}",
                      "train margins = gamma; aligned-conflicting gap grows with rho, for the SVM too",
                      f"gap {_fmt(gaps)}; SVM gap {_fmt(svm_gaps)}; cos(SVM, min-norm) >= "
                      f"{min(r.svm_cosine for r in runs):.5f}", check,
                      series={"rho": [float(r) for r in rhos], "conflicting": [r.conflicting_margin for r in runs],
                              "aligned": [r.aligned_margin for r in runs], "margin_rho": [float(r) for r in rhos],
                              "margin_gap": gaps, "svm_gap": svm_gaps,
                              "svm_cosine": [r.svm_cosine for r in runs], "ridge_error": [r.ridge_error for r in runs],
                              "margin_gap_theory_rho": [float(r) for r in fine],
                              "margin_gap_theory": [_ridge_gap(r, n, d) for r in fine]})


def _ridge_gap(rho, n: int, d: int) -> float:
    """Figure 4's theory line for S3: the aligned-minus-conflicting margin gap of the min-norm interpolant that
    D3's per-cluster ridge predicts (theory.linear.interpolation_outputs; error ~ sqrt(n/d)) for S3's counts."""
    gmm = GMM.canonical(ALPHA, BETA, rho, Fraction(3, 10) * n / d)
    outputs = linear.interpolation_outputs(gmm, canonical_counts(rho, n), dim=d)
    margins = [float(c.label * outputs[i]) for i, c in enumerate(gmm.clusters)]
    return (margins[0] + margins[1] - margins[2] - margins[3]) / 2


def i1(ctx: Context) -> Row:
    """The target-scale identity (never evidence): outputs of targets gamma y are gamma times those of y."""
    n, d, rhos, runs = _interpolations(ctx)
    scaled = tr.interpolation(ALPHA, BETA, rhos[-1], Fraction(3, 10) * n / d, n=n, d=d, seed=ctx.seed, gamma=10.0)
    check = checks.scales_with_targets(runs[-1].training_margins, scaled.training_margins, 10.0)
    return Row.judged("I1", ARCH, "linear (min-norm)", f"n={n} d={d}, rho={float(rhos[-1])}, gamma = 10 vs 1",
                      "f_gamma = gamma f_1 for ANY kernel (least squares is linear in its targets)",
                      f"training margins: max |f_10 - 10 f_1| / (10 max |f_1|) = {check.worst:.1e}", check)


def _fmt(values) -> str:
    return ", ".join(f"{float(v):.3g}" for v in values)


ENTRIES = [("T1", ARCH, t1), ("L1", ARCH, l1), ("L2", ARCH, l2), ("L3", ARCH, l3), ("S1", ARCH, s1),
           ("S2", ARCH, s2), ("S3", ARCH, s3), ("N1", ARCH, n1), ("I1", ARCH, i1)]
