"""The pass rules: one function per rule, shared by the tests and the report (docs/theory.md).

A claim is a setting (a frozen dataclass), an experiment (setting -> plain measured data) and a
pass rule (measured data -> Check). Tests assert ``check.ok`` with ``check.detail`` as message;
the report tabulates the same Check, so "holds" in the report means exactly what a passing test
means. Every threshold comes from numerics.tolerances, with its reason there.

``worst`` is a distance from the prediction, never a raw measured value: an error (0 is a perfect
match), or a shortfall from a predicted trend (<= 0 when the trend holds with room to spare, > 0
by how much it is missed).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics import tolerances as tol


@dataclass(frozen=True)
class Check:
    """One verdict: ``ok`` (the rule holds), ``worst`` (distance from the prediction), ``detail``
    (what was compared with what, for a failing assert or the report's ``measured`` column)."""

    ok: bool
    worst: float
    detail: str

    def __bool__(self) -> bool:          # a Check must be asserted through .ok, never by truthiness
        raise TypeError("assert check.ok, check.detail  (a Check has no truth value)")


def _fmt(value) -> str:
    return f"{float(value):.3g}"


def at_most(name: str, error, bound) -> Check:
    """error <= bound; worst = error (a distance from the prediction)."""
    error, bound = float(error), float(bound)
    return Check(bool(error <= bound), error, f"{name}: {_fmt(error)} <= {_fmt(bound)}")


def at_least(name: str, value, bound) -> Check:
    """value >= bound (a power check: the effect must be at least this large); worst = the
    shortfall bound - value (<= 0 when it holds)."""
    value, bound = float(value), float(bound)
    return Check(bool(value >= bound), bound - value, f"{name}: {_fmt(value)} >= {_fmt(bound)}")


def within(name: str, value, low, high) -> Check:
    """low <= value <= high; worst = the distance outside the range (<= 0 inside)."""
    value, low, high = float(value), float(low), float(high)
    return Check(bool(low <= value <= high), max(low - value, value - high),
                 f"{name}: {_fmt(value)} in [{_fmt(low)}, {_fmt(high)}]")


def monotone(name: str, values, direction: int, *, scale=None) -> Check:
    """Strictly increasing (direction +1) or decreasing (-1) sequence. worst = the largest step
    against the direction, relative to ``scale`` (default max |value|): < 0 when every step goes
    the predicted way, > 0 by how much the worst step goes the other way."""
    values = np.asarray(values, dtype=float)
    steps = direction * np.diff(values)
    scale = float(np.max(np.abs(values))) if scale is None else float(scale)
    shortfall = float(-steps.min() / scale) if steps.size and scale > 0 else 0.0
    trend = "increasing" if direction > 0 else "decreasing"
    return Check(bool(np.all(steps > 0)), shortfall,
                 f"{name} strictly {trend}: {', '.join(_fmt(v) for v in values)}")


def all_of(*checks: Check) -> Check:
    """Every check holds; worst is the largest worst among them (they share one scale in a rule)."""
    failing = [c for c in checks if not c.ok]
    detail = "; ".join(c.detail for c in (failing or checks))
    return Check(not failing, max(c.worst for c in checks), ("FAILED " if failing else "") + detail)


def pairwise_trend(name: str, xs, values, direction: int, *, apart, scale=None, strict: bool = True) -> Check:
    """direction * (values[j] - values[i]) > 0 (>= 0 when not ``strict``: for quantised values such as
    an accuracy) for every pair with xs[j] - xs[i] >= apart (closer pairs are within seed noise).
    worst = the largest step against the direction over those pairs, relative to ``scale`` (default
    max |value|): < 0 when every pair goes the predicted way."""
    values = np.asarray(values, dtype=float)
    steps = [direction * (values[j] - values[i]) for i in range(len(xs)) for j in range(len(xs))
             if xs[j] > xs[i] and xs[j] - xs[i] >= apart]      # exact for Fractions: pass rho grids as Fractions
    if not steps:
        raise ValueError(f"{name}: no pair of xs is at least {apart} apart")
    scale = float(np.max(np.abs(values))) if scale is None else float(scale)
    trend = "rises" if direction > 0 else "falls"
    ok = min(steps) > 0 if strict else min(steps) >= 0
    trend = trend if strict else f"never {'falls' if direction > 0 else 'rises'}"
    return Check(bool(ok), float(-min(steps) / scale) if scale > 0 else 0.0,
                 f"{name} {trend} over pairs >= {float(apart):.3g} apart: "
                 f"{', '.join(f'{_fmt(x)}: {_fmt(v)}' for x, v in zip(xs, values))}")


# ---- T1 ---------------------------------------------------------------------------------------
def residual_law(decay) -> Check:
    """T1 (exact): the residual along every Gram eigenvector follows (1 - eta lambda_i)^t, and the
    features f^(i) sum to the trained output (numerics.experiments.linear.ResidualDecay)."""
    return all_of(at_most("law error", decay.law_error, tol.RESIDUAL_LAW),
                  at_most("decomposition error", decay.decomposition_error, tol.RESIDUAL_LAW))


# ---- L1, R1, E4: widths -----------------------------------------------------------------------
def one_layer_ntk(error: float, dim: int) -> Check:
    """L1 (exact): the one-layer empirical NTK is X X^T up to the rounding of a length-d dot product."""
    return at_most("one-layer NTK vs X X^T (relative)", error, tol.one_layer_ntk_rounding(dim))


def width_rate(convergence) -> Check:
    """L1, R1, E4 (limit): the finite-width error falls at every width step, at rate width^-1/2
    (log-log slope within WIDTH_SLOPE of -1/2). worst = |slope + 1/2|."""
    falls = monotone("error vs width", convergence.errors, -1)
    rate = at_most("|slope + 1/2|", abs(convergence.slope + 0.5), tol.WIDTH_SLOPE)
    return Check(falls.ok and rate.ok, rate.worst, ("" if falls.ok and rate.ok else "FAILED ")
                 + f"{falls.detail}; {rate.detail}")


def strategies_agree(disagreement: float) -> Check:
    """R1: every empirical-NTK route equals the per-parameter Jacobian contraction to rounding."""
    return at_most("max |K_route - K_jacobian| / max |K_jacobian|", disagreement, tol.STRATEGY_AGREEMENT)


def linearization_gap(gap) -> Check:
    """E4 (limit) with its negative control: the trained network approaches the NTK prediction at
    rate width^-1/2, while its gap to the NNGP prediction (first-layer term removed) does not close:
    its slope is off -1/2 and it stays NNGP_CONTROL_FACTOR times the NTK gap at the largest width."""
    control_slope = Check(abs(gap.control_slope + 0.5) >= tol.WIDTH_SLOPE, 0.0,
                          f"NNGP control slope {gap.control_slope:.3g} outside -1/2 +- {tol.WIDTH_SLOPE:g}")
    control_gap = at_least("NNGP gap / NTK gap at the largest width", gap.control_errors[-1] / gap.errors[-1],
                           tol.NNGP_CONTROL_FACTOR)
    rate = width_rate(gap)
    both = all_of(rate, control_slope, control_gap)
    return Check(both.ok, rate.worst, both.detail)


# ---- L2, L3 -----------------------------------------------------------------------------------
def population_eigenvalues(spectrum) -> Check:
    """L2 (exact): SymPy's eig(M) equals numpy's eigh(M), and the H = Pi^1/2 G Pi^1/2 route agrees
    (numerics.experiments.linear.PopulationSpectrum; the Gram route is nan where it does not apply)."""
    errors = [spectrum.error] + ([] if np.isnan(spectrum.gram_route_error) else [spectrum.gram_route_error])
    return at_most("relative eigenvalue error", max(errors), tol.POPULATION_EIGENVALUES)


def design_spectrum(design) -> Check:
    """L3 (exact): on an exact-moment design the Gram eigenvalues / n are eig(M), and the low-rank and
    dense routes agree."""
    return all_of(at_most("eig(X X^T)/n vs eig(M)", design.error, tol.DESIGN_EIGENVALUES),
                  at_most("low-rank vs dense route", design.lowrank_error, tol.ROUTE_AGREEMENT))


def within_concentration_bound(name: str, deviation: float, bound: float) -> Check:
    """L3, S2 (sampled data): the deviation from the population value is within its derived
    concentration bound (theory.concentration); worst = deviation / bound (<= 1 holds)."""
    check = at_most(name, deviation, bound)
    return Check(check.ok, float(deviation) / float(bound), check.detail)


# ---- S1, N1 -----------------------------------------------------------------------------------
def aligned_direction_bound(sin, rho, alpha, beta) -> Check:
    """S1: sin(top eigenvector, aligned mean) <= 2 (1 - p) alpha beta / (alpha^2 + beta^2), p = 2 rho - 1,
    so it tends to 0 as rho -> 1. worst = the largest excess of sin over the bound (<= 0 holds)."""
    p = 2 * np.asarray(rho, dtype=float) - 1
    alpha, beta = float(alpha), float(beta)
    excess = np.asarray(sin, dtype=float) - 2 * (1 - p) * alpha * beta / (alpha ** 2 + beta ** 2)
    return Check(bool(np.all(excess <= tol.DIRECTION_ROUNDING)), float(np.max(excess)),
                 f"sin(top, aligned) - 2(1-p) ab/(a^2+b^2) <= {tol.DIRECTION_ROUNDING:g}: max {np.max(excess):.3g}")


def shortcut_spectrum(rhos, closed_form, sin, alpha, beta) -> Check:
    """S1 (exact): eig_+ strictly increases and eig_- strictly decreases in rho >= 1/2, and the top
    eigenvector tends to the aligned mean (aligned_direction_bound)."""
    closed_form = np.asarray(closed_form, dtype=float)
    return all_of(monotone("eig_+ vs rho", closed_form[:, 0], +1), monotone("eig_- vs rho", closed_form[:, 1], -1),
                  aligned_direction_bound(sin, rhos, alpha, beta))


def no_mixing_at_balance(sin: float, alpha, beta) -> Check:
    """N1 (control, p = 0): M is diagonal, so the top eigenvector is the coordinate axis of the larger of
    alpha, beta (alpha != beta), whose sine to the aligned mean (alpha, beta)/norm is min(alpha, beta)/norm."""
    axis = min(float(alpha), float(beta)) / float(np.hypot(float(alpha), float(beta)))
    return at_most("|sin(top, aligned) - min(alpha, beta)/norm| at p = 0", abs(sin - axis), tol.DIRECTION_ROUNDING)


# ---- S2 ---------------------------------------------------------------------------------------
def energy_ratio_grows(theory, measured) -> Check:
    """S2 (exact): the top/second feature-energy ratio strictly increases with the variance (SymPy
    curve), and the trained network reproduces it (relative TRAINED_ENERGY_RATIO)."""
    theory, measured = np.asarray(theory, dtype=float), np.asarray(measured, dtype=float)
    return all_of(at_most("trained vs SymPy energy ratio (relative)", np.max(np.abs(measured / theory - 1)),
                          tol.TRAINED_ENERGY_RATIO), monotone("energy ratio vs variance", theory, +1))


def reaches_trained_weights(trained) -> Check:
    """S2: gradient descent reaches w_inf = M^-1 E[y x] within its own stopping bound, and within
    DESIGN_WEIGHTS (numerics.experiments.linear_training.TrainedWeights)."""
    return all_of(at_most("||w_GD - w_inf|| / ||w_inf|| vs its stopping bound", trained.error,
                          trained.bound + tol.GD_BOUND_ROUNDING),
                  at_most("||w_GD - w_inf|| / ||w_inf||", trained.error, tol.DESIGN_WEIGHTS))


def misclassified_past_threshold(variances, margins, threshold) -> Check:
    """S2 (exact): the conflicting cluster's margin is positive below the variance threshold
    s^2* = alpha^2 beta^2 (1 - p^2) / (p beta^2 - alpha^2) and negative above it. worst = the number
    of variances on the wrong side."""
    wrong = sum((float(m) > 0) != (float(v) < float(threshold)) for v, m in zip(variances, margins))
    return Check(wrong == 0, float(wrong), f"conflicting margin > 0 exactly below s2* = {float(threshold):.4g}: "
                 f"{wrong} of {len(variances)} variances on the wrong side")


# ---- S3, I1, E3: margins ----------------------------------------------------------------------
def equal_training_margins(margins, gamma, allowance) -> Check:
    """S3, E3: every training margin y_i f(x_i) equals gamma up to ``allowance`` relative (the solve's
    rounding, or the stated allowance of finite training)."""
    error = float(np.max(np.abs(np.asarray(margins, dtype=float) / float(gamma) - 1)))
    return at_most("max |y f(x_i) / gamma - 1| on training points", error, allowance)


def scales_with_targets(base, scaled, gamma) -> Check:
    """I1 (identity, for ANY kernel): least squares is linear in its targets, so targets gamma y give
    outputs gamma f. A sanity check of the code; never evidence for S3."""
    base, scaled = np.asarray(base, dtype=float), np.asarray(scaled, dtype=float)
    error = float(np.max(np.abs(scaled - float(gamma) * base)) / (float(gamma) * np.max(np.abs(base))))
    return at_most("max |f_gamma - gamma f_1| / (gamma max |f_1|)", error, tol.INTERPOLATION_MARGIN)


def margin_gap_grows(xs, gaps, *, apart=0) -> Check:
    """E3 (and S3 on fresh points): the aligned-minus-conflicting test-margin gap (in units of gamma)
    rises with rho, or with the variance at rho > 1/2, over pairs at least ``apart`` apart. Not
    "the conflicting margin falls": every margin shrinks with variance, at rho = 1/2 too."""
    return pairwise_trend("aligned - conflicting margin gap", xs, gaps, +1, apart=apart)


def margin_gap_positive(gap: float) -> Check:
    """S3 at one rho > 1/2 with variance > 0: fresh conflicting points get a smaller margin than
    aligned ones (the gap is positive)."""
    return Check(bool(gap > 0), float(-gap), f"aligned - conflicting margin gap {gap:.3g} > 0")


def margin_gap_in_band(gap: float, band: float) -> Check:
    """E3 negative control (rho = 1/2): aligned and conflicting clusters are mirror images, so the gap
    is zero in expectation and within the seed-noise ``band``."""
    return at_most("|aligned - conflicting| margin gap at rho = 1/2", abs(gap), band)


def margin_gap_exceeds_band(gap: float, band: float) -> Check:
    """E3 power: at rho = 0.9 the gap leaves the rho = 1/2 noise band (so the band can fail)."""
    return at_least("aligned - conflicting margin gap at rho = 0.9 (power)", gap, band)


# ---- G1 ---------------------------------------------------------------------------------------
def cluster_spectrum_exact(errors, allowance) -> Check:
    """G1 (exact at zero within-cluster variance): K = Z Kbar Z^T, so the top-m Gram eigenvalues
    are eig(N^1/2 Kbar N^1/2) up to rounding (relative errors per eigenvalue)."""
    return at_most("max relative error of the top-m eigenvalues at zero variance", np.max(errors), allowance)


def cluster_spectrum_converges(errors_by_variance) -> Check:
    """G1 (limit): the worst top-m relative error falls as the within-cluster variance shrinks
    (``errors_by_variance``: one error per variance, largest variance first)."""
    return monotone("max relative error as the variance shrinks", errors_by_variance, -1)


# ---- E2 ---------------------------------------------------------------------------------------
def label_ratio_rises(rhos, ratios, *, apart) -> Check:
    """E2: lambda(phi_A) / lambda(phi_C) rises with rho over pairs at least ``apart`` apart."""
    return pairwise_trend("lambda(phi_A)/lambda(phi_C)", rhos, ratios, +1, apart=apart)


def label_ratio_beyond_balance(ratio_balanced: float, ratio_imbalanced: float) -> Check:
    """E2 control with power (no closed-form tie band, e.g. ResNet-18): at rho = 1/2 neither feature is
    favoured, so |log ratio| there is below log ratio at rho = 0.9 (same network, same data)."""
    return at_least("log ratio at rho = 0.9 minus |log ratio| at 1/2", np.log(ratio_imbalanced) - abs(np.log(ratio_balanced)), 0.0)


def label_ratio_tie(ratio: float, odd_eigenvalues) -> Check:
    """E2 negative control (rho = 1/2): phi_A and phi_C tie between the core and bias features, so the
    ratio lies in {R_-/R_+, 1, R_+/R_-} (R_+-: the odd block's eigenvalues) up to seed noise:
    |log ratio| <= log(R_+/R_-) + log(RELU_E2_TIE_NOISE)."""
    plus, minus = odd_eigenvalues
    band = float(np.log(plus / minus) + np.log(tol.RELU_E2_TIE_NOISE))
    return at_most("|log ratio| at rho = 1/2 (tie band)", abs(np.log(ratio)), band)


# ---- P1: ReLU parity (issue 13) ----
def _linear_fit_residual(odd, linear) -> float:
    """min_c ||odd - c linear||_F / ||odd||_F: the least-squares relative residual of the best multiple of
    ``linear`` (the kernel x.x'/d), c = <odd, linear>_F / ||linear||_F^2."""
    odd, linear = np.asarray(odd, dtype=float), np.asarray(linear, dtype=float)
    c = np.sum(odd * linear) / np.sum(linear * linear)
    return float(np.linalg.norm(odd - c * linear) / np.linalg.norm(odd))


def p1_odd_part_exact(odd, expected, scale, tolerance) -> Check:
    """P1 exact: |odd - expected| <= tolerance * scale entrywise (odd = (k(x, x') - k(x, -x')) / 2, expected =
    W_std^4 x.x'/(2d), scale = W_std^4 |x||x'|/d); worst = max |odd - expected| / scale. An entry with scale 0
    (a zero input row) must match exactly."""
    diff = np.abs(np.asarray(odd, dtype=float) - np.asarray(expected, dtype=float))
    scale = np.asarray(scale, dtype=float)
    ratio = np.divide(diff, scale, out=np.where(diff > 0, np.inf, 0.0), where=scale > 0)
    return at_most("P1 max |odd part - W_std^4 x.x'/(2d)| / (W_std^4 |x||x'|/d)", ratio.max(), tolerance)


def p1_odd_part_nonlinear(odd, linear, bound) -> Check:
    """P1 companion (depth >= 2 or b_std > 0): the best linear fit c x.x' leaves at least ``bound`` of the odd
    part (relative least-squares residual); worst = bound - residual."""
    return at_least("P1 companion: odd-part residual after the best linear fit", _linear_fit_residual(odd, linear),
                    bound)


def p1_odd_part_linear(odd, linear, bound) -> Check:
    """P1 negative control (depth 1, b_std = 0): the same residual statistic is rounding, <= ``bound``."""
    return at_most("P1 control: odd-part residual after the best linear fit", _linear_fit_residual(odd, linear),
                   bound)


def relu_kernel_reference(ours, reference, tolerance) -> Check:
    """R1 (deep ReLU kernels): max |ours - reference| / max |reference| <= tolerance."""
    ours, reference = np.asarray(ours, dtype=float), np.asarray(reference, dtype=float)
    error = np.max(np.abs(ours - reference)) / np.max(np.abs(reference))
    return at_most("max |kernel - neural-tangents| / max |neural-tangents|", error, tolerance)




# ---- Data integrity, ridge outputs, concentration (issue 18) ----
def _relative_distances(rows, others=None) -> np.ndarray:
    """||a - b|| / max(||a||, ||b||) for every pair of rows (i < j within ``rows``, or one row of each)."""
    a = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
    b = a if others is None else np.asarray(others, dtype=np.float64).reshape(len(others), -1)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    square = na[:, None] ** 2 + nb[None, :] ** 2 - 2 * a @ b.T
    relative = np.sqrt(np.maximum(square, 0)) / np.maximum(np.maximum(na[:, None], nb[None, :]), np.finfo(float).tiny)
    return relative[np.triu_indices(len(a), 1)] if others is None else relative.ravel()


def no_copies(name: str, rows, others=None) -> Check:
    """Data integrity: no two rows of one draw (or, with ``others``, no row of ``rows`` and one of
    ``others``) are copies: every relative distance ||a - b|| / max(||a||, ||b||) is at least
    COPY_RELATIVE_DISTANCE. worst = the shortfall of the smallest distance (<= 0 holds)."""
    relative = _relative_distances(rows, others)
    copies = int(np.sum(relative < tol.COPY_RELATIVE_DISTANCE))
    smallest = float(relative.min()) if relative.size else np.inf
    check = at_least(f"{name}: smallest relative distance ({copies} copied pairs)", smallest, tol.COPY_RELATIVE_DISTANCE)
    return check


def canonical_cluster_counts(name: str, cluster, rho) -> Check:
    """Data integrity of an exact-imbalance set in theory.gmm's canonical cluster order ((y, b) = (+,+),
    (-,-), (+,-), (-,+)): each aligned cluster holds rho n / 2 points and each conflicting one (1 - rho) n / 2,
    each class n / 2, every count within COUNT_ROUNDING of its share (a count is an integer). rho = 1/2 is
    a BALANCED set. worst = the largest distance of a count from its share, minus COUNT_ROUNDING."""
    cluster = np.asarray(cluster)
    n, rho = cluster.size, float(rho)
    counts = np.array([np.sum(cluster == c) for c in range(4)], dtype=float)
    shares = np.array([rho, rho, 1 - rho, 1 - rho]) * n / 2
    classes = np.array([counts[0] + counts[2], counts[1] + counts[3]])
    off = max(float(np.max(np.abs(counts - shares))), float(np.max(np.abs(classes - n / 2))))
    return Check(off <= tol.COUNT_ROUNDING, off - tol.COUNT_ROUNDING,
                 f"{name}: cluster counts {counts.astype(int).tolist()} vs shares {np.round(shares, 2).tolist()}, "
                 f"classes {classes.astype(int).tolist()} vs {n / 2:g}: off by {off:.3g} <= {tol.COUNT_ROUNDING:g}")


def ridge_spread(n: int, d: int) -> float:
    """2 sqrt(n/d) + n/d: the relative spread (1 +- sqrt(n/d))^2 - 1 of the eigenvalues of an n x n Gram of
    d-dimensional isotropic noise around their mean (Marchenko-Pastur), i.e. how far the within-cluster
    part of K is from the ridge diag(r) that G1 replaces it with."""
    return 2 * np.sqrt(n / d) + n / d


def ridge_outputs_within_order(errors, dims, n: int, sensitivities) -> Check:
    """G1 ridge outputs (d >> n): at every d, max_c |measured_c - F_c| <= RIDGE_SENSITIVITY_FACTOR *
    ridge_spread(n, d) * S_d, S_d = max_c |F_c(2r) - F_c(r)| (the prediction's response to doubling the
    ridge): the error shrinks like sqrt(n/d) (numerics.tolerances.RIDGE_SENSITIVITY_FACTOR).
    worst = the largest error / bound ratio (<= 1 holds)."""
    errors, sensitivities = np.asarray(errors, dtype=float), np.asarray(sensitivities, dtype=float)
    bounds = np.array([tol.RIDGE_SENSITIVITY_FACTOR * ridge_spread(n, d) * s for d, s in zip(dims, sensitivities)])
    ratios = errors / bounds
    return Check(bool(np.all(ratios <= 1)), float(ratios.max()),
                 "max_c |measured - F| <= 2 (2 sqrt(n/d) + n/d) max_c |F(2r) - F(r)| at d = "
                 + ", ".join(f"{d}: {_fmt(e)} <= {_fmt(b)}" for d, e, b in zip(dims, errors, bounds)))


def same_geometry(name: str, measured: dict, expected: dict) -> Check:
    """Exact structural equality (feature-map shapes, receptive-field rectangles), key by key.
    worst = the number of keys that differ."""
    wrong = [k for k in expected if measured.get(k) != expected[k]] + [k for k in measured if k not in expected]
    shown = wrong or list(expected)
    return Check(not wrong, float(len(wrong)), f"{name}: " + "; ".join(
        f"{k}: {measured.get(k)} (expected {expected.get(k)})" for k in shown))


# ---- Nonlinear E2/G1 (issue 13) ----
def _log_distance(value, reference) -> float:
    """|log(value / reference)|: the symmetric relative distance of two positive ratios."""
    return float(abs(np.log(float(value) / float(reference))))


def label_ratio_sees_nonlinearity(measured, nonlinear, linear) -> Check:
    """E2 on a symmetry-broken ReLU NTK (bias, depth >= 2 or an offset: P1's linear odd part fails), at small
    within-cluster variance. Match: own = |log(measured / nonlinear)| <= E2_NONLINEAR_MATCH, ``nonlinear`` being
    the network's OWN G1 prediction (predicted_label_features on its cluster Gram). Negative control, on the same
    sample: the linear prediction (the same selection on x.x') misses the measured ratio by
    sep = |log(measured / linear)|, which must exceed E2_NONLINEAR_MATCH (the match rule rejects it) and
    NEGATIVE_CONTROL_FACTOR times own (margin = sep / own: the check sees the nonlinearity, not its own error).
    worst = own."""
    own, sep = _log_distance(measured, nonlinear), _log_distance(measured, linear)
    margin = sep / own if own > 0 else np.inf
    ok = own <= tol.E2_NONLINEAR_MATCH and sep > tol.E2_NONLINEAR_MATCH and margin >= tol.NEGATIVE_CONTROL_FACTOR
    return Check(bool(ok), own, ("" if ok else "FAILED ") +
                 f"|log(ratio / own G1)| {_fmt(own)} <= {_fmt(tol.E2_NONLINEAR_MATCH)}; |log(ratio / linear G1)| "
                 f"{_fmt(sep)} > {_fmt(tol.E2_NONLINEAR_MATCH)}; margin {_fmt(margin)} >= {_fmt(tol.NEGATIVE_CONTROL_FACTOR)}")


def ratio_prediction_is_linear(nonlinear, linear, rounding) -> Check:
    """P1's consequence (canonical mixture, bias-free depth-1 ReLU, zero variance): the ReLU NTK's G1 ratio
    equals the linear kernel's, |log(nonlinear / linear)| <= ``rounding`` (tolerances.p1_ratio_rounding)."""
    return at_most("P1: |log(ReLU G1 ratio / linear G1 ratio)|", _log_distance(nonlinear, linear), rounding)


def ratio_prediction_is_not_linear(nonlinear, linear) -> Check:
    """P1 broken (power partner of ratio_prediction_is_linear): the same statistic |log(nonlinear / linear)|
    exceeds E2_NONLINEAR_MATCH, so a network whose ratio followed the linear prediction would fail
    label_ratio_sees_nonlinearity's match. worst = E2_NONLINEAR_MATCH - statistic."""
    return at_least("P1 broken: |log(ReLU G1 ratio / linear G1 ratio)|", _log_distance(nonlinear, linear),
                    tol.E2_NONLINEAR_MATCH)


# The nonlinear E2 and P1-consequence entries of RULES (tests/test_e2_nonlinear.py, numerics.report.relu.e2_broken).


# ---- M1, M2: margin control (issue 14) ----
def margin_methods_gap_grows(rhos, gaps: dict, *, apart) -> Check:
    """M1 (empirical): under every margin-controlling method (``gaps``: method -> its normalized gap at each rho,
    (mean aligned - mean conflicting test margin) / mean training margin, all methods on the same samples), the gap
    rises with rho over pairs at least ``apart`` apart. worst = the largest relative step against the trend."""
    return all_of(*(pairwise_trend(f"{method}: normalized aligned - conflicting gap", rhos, values, +1, apart=apart)
                    for method, values in gaps.items()))


def margin_methods_balanced(gaps: dict, band: float) -> Check:
    """M1 negative control (rho = 1/2): aligned and conflicting clusters are mirror images, so under every method
    the normalized gap (``gaps``: method -> gap) is zero in expectation and within the seed-noise ``band``."""
    return all_of(*(at_most(f"{method}: |normalized gap| at rho = 1/2", abs(gap), band) for method, gap in gaps.items()))


def margin_methods_beyond_band(gaps: dict, band: float) -> Check:
    """M1 power: at rho = 0.9 (same seed) every method's normalized gap leaves the rho = 1/2 band, so the band can
    fail."""
    return all_of(*(at_least(f"{method}: normalized gap at rho = 0.9 (power)", gap, band) for method, gap in gaps.items()))


def hard_margin_kkt(kkt) -> Check:
    """M1: the SVM (scikit-learn SVC, precomputed NTK) solves the HARD-margin problem: every training margin >= 1 and
    the support vectors' margins = 1 within the solver's rounding allowance (tolerances.svm_kkt_allowance), the
    intercept's balance sum_i a_i y_i = 0, and no multiplier near the box bound C (max a_i / C <= SVM_BOUND_FRACTION:
    a multiplier at C is a soft-margin point). ``kkt``: numerics.margin_control.KKTResiduals."""
    return all_of(at_most("SVM: max(0, 1 - min training margin)", kkt.primal, kkt.allowance),
                  at_most("SVM: max |support vector margin - 1|", kkt.support, kkt.allowance),
                  at_most("SVM: |sum_i a_i y_i| / sum_i a_i", kkt.balance, tol.SVM_SOLVER_TOL),
                  at_most("SVM: max multiplier / C", kkt.bound, tol.SVM_BOUND_FRACTION))


def vs_limit_sign(gap: float, gamma_vs: float, gamma_star: float) -> Check:
    """M1's exception, the multiplicative VS loss: the t -> infinity limit of VS training (the SVM with group margins
    1 / Delta_g) keeps the preference (gap > 0) for gamma_vs < gamma*, and reverses it (gap < 0) for gamma_vs > gamma*,
    gamma* = theory.reweighting.vs_balancing_exponent (the ridge form's zero of w_bias). worst = the gap against the
    predicted sign (<= 0 holds)."""
    sign = 1.0 if gamma_vs < gamma_star else -1.0
    return Check(bool(sign * gap > 0), float(-sign * gap),
                 f"VS limit: normalized gap {gap:.3g} has the sign of gamma* - gamma_vs = {gamma_star:.3g} - {gamma_vs:.3g}")


def exactly_zero(name: str, expression) -> Check:
    """M2 (exact, SymPy): ``expression`` is 0. A symbolic expression must simplify to 0; a closed number (radicals of
    rationals) must evaluate to 0 at 60 digits within tolerances.SYMPY_NUMERIC_ZERO. worst = 0 if so, else 1."""
    import sympy as sp

    expression = sp.sympify(expression)
    if expression.free_symbols:
        zero = sp.simplify(expression) == 0
    else:
        zero = bool(abs(sp.N(expression, 60)) <= tol.SYMPY_NUMERIC_ZERO)
    return Check(bool(zero), 0.0 if zero else 1.0, f"{name}: {expression} == 0")


def reweighting_effect_vanishes(times, distances, allowance) -> Check:
    """M2 (interpolation, linear, exact dynamics): the distance between the weighted and unweighted gradient-descent
    iterates falls at every recorded time after its largest value, and at the last time (past the a-priori
    contraction steps) it is below ``allowance``: both runs converge to the one min-norm interpolant."""
    distances = np.asarray(distances, dtype=float)
    peak = int(np.argmax(distances))
    falls = monotone("||w_weighted - w|| / ||w_inf|| after its peak", distances[peak:], -1) if distances.size - peak > 1 \
        else Check(False, np.inf, "the distance peaks at the last recorded time")
    return all_of(falls, at_most(f"||w_weighted - w|| / ||w_inf|| at t = {times[-1]}", distances[-1], allowance))


def stays_in_row_space(residual: float, steps: int, dim: int) -> Check:
    """M2: gradient descent from w = 0 never leaves the row space of X (every update is X^T times a vector): the
    largest relative component of an iterate outside it is rounding, <= tolerances.row_space_rounding."""
    return at_most("max ||(I - P_row) w_t|| / ||w_t||", residual, tol.row_space_rounding(steps, dim))


def early_stopping_bias_in_band(w_bias: float, sd: float) -> Check:
    """M2, the regime where reweighting DOES remove the preference: after one importance-weighted step the bias
    weight is pure Gaussian noise of standard deviation ``sd`` (numerics.experiments.margins.reweighting_path), so
    |w_bias| <= z sd with z the two-sided normal quantile at EARLY_STOPPING_DELTA."""
    from scipy.stats import norm

    return at_most("|w_bias| after one importance-weighted step", abs(w_bias),
                   norm.isf(tol.EARLY_STOPPING_DELTA / 2) * sd)


def reweighting_removes_first_step_drift(difference: float, drift: float, sd: float) -> Check:
    """M2 early stopping, the negative control (reweighting removed): the unweighted first step carries the drift
    eta beta n p that the weighted one lacks. The two runs share the sample, so unweighted minus weighted w_bias is
    that drift plus Gaussian noise of standard deviation ``sd`` = eta sigma ||1 - W|| (reweighting_path); with exact
    counts ||1 - W||^2 = n (mean W^2 - 1) = n p^2 / (1 - p^2), far below the weighted band's ||W||^2 = n / (1 - p^2).
    (The unpaired control, the unweighted bias against the weighted band, has no power at small beta p / sigma: at
    rho = 3/5, beta = 3/5, sigma^2 = 1/16 its drift sits 0.36 sd beyond the band.) The difference must leave the band
    |.| <= z sd, z the two-sided normal quantile at EARLY_STOPPING_DELTA, and the control must have power a priori:
    |drift| >= (z + z') sd (z' the one-sided quantile at EARLY_STOPPING_DELTA), so that a working reweighting fails to
    leave the band with probability <= EARLY_STOPPING_DELTA."""
    from scipy.stats import norm

    z, z_power = norm.isf(tol.EARLY_STOPPING_DELTA / 2), norm.isf(tol.EARLY_STOPPING_DELTA)
    return all_of(at_least("|unweighted - weighted w_bias| after one step", abs(difference), z * sd),
                  at_least("a-priori power: |eta beta n p| / paired noise sd", abs(drift) / sd, z + z_power))


def adjustment_contrast(times, additive, multiplicative, limit: float) -> Check:
    """M2 (separable data, logistic gradient descent): the ADDITIVE logit adjustment's effect on the direction
    vanishes like C / log t (additive(t) log t does not grow by ADDITIVE_LOG_RATE over the recorded times, where an
    effect that stayed would grow by log T / log t_0), while the MULTIPLICATIVE VS scale's effect persists: it
    rises toward the distance ``limit`` between the two limiting max-margin directions and reaches at least
    MULTIPLICATIVE_PERSISTS of it."""
    additive, multiplicative = np.asarray(additive, dtype=float), np.asarray(multiplicative, dtype=float)
    rate = additive[-1] * np.log(times[-1]) / (additive[0] * np.log(times[0]))
    return all_of(monotone("additive adjustment's direction distance", additive, -1),
                  at_most(f"additive distance x log t, t = {times[-1]} over t = {times[0]}", rate, tol.ADDITIVE_LOG_RATE),
                  monotone("multiplicative (VS) direction distance", multiplicative, +1),
                  at_least("multiplicative distance / limiting distance", multiplicative[-1] / limit,
                           tol.MULTIPLICATIVE_PERSISTS))


# M1 and M2's entries of RULES: added here, after their rules are defined (a dict literal above cannot name them).


# ---- ResNet draws and training drift (issue 13) ----
def label_ratio_trend_absent(rhos, ratios) -> Check:
    """E2 negative control at colour contrast 0 (the bias attribute absent): which images are "aligned" is then a
    label-independent coin, so no eigenfunction prefers them: phi_A and phi_C are the same eigenfunction and the
    ratio is exactly 1 at every rho (the trend checked by label_ratio_rises cannot appear). worst = max |log ratio|."""
    logs = np.abs(np.log(np.asarray(ratios, dtype=float)))
    return at_most(f"max |log lambda(phi_A)/lambda(phi_C)| without colour, rho {', '.join(_fmt(r) for r in rhos)}",
                   float(logs.max()), 0.0)


def kernel_drift_falls_with_width(drift) -> Check:
    """Beyond the lazy regime (numerics.experiments.training_drift.DriftVsWidth): the relative empirical-NTK drift
    ||K_T - K_0||_F / ||K_0||_F after training falls at every width step, with log-log slope inside
    tolerances.DRIFT_SLOPE_BAND (at least as fast as the lazy bound width^-1/2). worst = the slope's distance outside
    the band (<= 0 holds)."""
    falls = monotone("kernel drift vs width", drift.drifts, -1)
    rate = within("drift log-log slope", drift.slope, *tol.DRIFT_SLOPE_BAND)
    both = all_of(falls, rate)
    return Check(both.ok, rate.worst, both.detail)


def alignment_scale_free(alignment, scaled_alignment) -> Check:
    """Kernel-target alignment A(K, g) = g^T K g / (||K||_F ||g||^2) lies in [-1, 1] and does not change when K is
    scaled (so kernels before and after training compare): |A(cK) - A(K)| <= ALIGNMENT_ROUNDING and |A| <= 1."""
    return all_of(at_most("|A(cK, g) - A(K, g)|", abs(float(scaled_alignment) - float(alignment)), tol.ALIGNMENT_ROUNDING),
                  at_most("|A(K, g)| - 1", abs(float(alignment)) - 1, tol.ALIGNMENT_ROUNDING))




# ---- D1, D3: the general data model (issue 15) ----
def spectrum_through_mixture_variance(measured, predicted, allowance) -> Check:
    """D1 (exact): the spectrum of a general model's M (``measured``: numpy eigenvalues of the float M, or of an
    exact-moment design's X^T X / n) equals eig(A) + S, S = sum_c pi_c sigma_c^2 (``predicted``:
    theory.linear.mean_part_eigenvalues, descending): the per-cluster variances enter only through S.
    worst = max_i |measured_i - predicted_i| / max |measured|."""
    measured, predicted = np.sort(np.asarray(measured, dtype=float))[::-1], np.asarray(predicted, dtype=float)
    if measured.shape != predicted.shape:
        return Check(False, np.inf, f"{measured.size} measured eigenvalues vs {predicted.size} predicted")
    error = float(np.max(np.abs(measured - predicted)) / np.max(np.abs(measured)))
    return at_most("max |eig(M) - (eig(A) + S)| / eig_1(M)", error, allowance)


def canonical_form_carries(spectrum, closed_form, allowance) -> Check:
    """D1: for a general model with one alpha, one beta and offsets with sum_c pi_c y_c o_c = sum_c pi_c b_c o_c = 0
    (theory.linear.canonical_reduction), the canonical eig_+- at p = p_eff, s^2 = S (``closed_form``) are
    eigenvalues of M (``spectrum``, numpy). worst = the largest distance of a closed-form value to the spectrum,
    relative to eig_1."""
    spectrum = np.asarray(spectrum, dtype=float)
    distance = max(float(np.min(np.abs(spectrum - float(v)))) for v in closed_form) / float(np.max(np.abs(spectrum)))
    return at_most("max distance of canonical eig_+-(p_eff, S) to eig(M) / eig_1", distance, allowance)


def interpolation_bound(n, dim, gamma) -> float:
    """D3's error order: D3_ERROR_CONSTANT sqrt(n / d) gamma."""
    return tol.D3_ERROR_CONSTANT * float(np.sqrt(n / dim)) * abs(float(gamma))


def interpolation_within_order(measured, predicted, n, dim, gamma) -> Check:
    """D3 (limit): the min-norm interpolant's cluster outputs (``measured``, F_c = mu_c . w) are within
    D3_ERROR_CONSTANT sqrt(n/d) gamma of the per-cluster ridge G (G + diag(d sigma_c^2 / n_c))^-1 gamma y
    (``predicted``: theory.linear.interpolation_outputs). worst = error / bound (<= 1 holds)."""
    error = float(np.max(np.abs(np.asarray(measured, dtype=float) - np.asarray(predicted, dtype=float))))
    bound = interpolation_bound(n, dim, gamma)
    return Check(error <= bound, error / bound,
                 f"max_c |F - G (G + diag(d s_c^2/n_c))^-1 gamma y| {_fmt(error)} <= 3 sqrt(n/d) gamma = {_fmt(bound)}"
                 f" (n = {n}, d = {dim})")


def count_variance_exchange(measured_count, measured_variance, predicted_count, predicted_variance, n_count,
                            n_variance, dim, gamma) -> Check:
    """D3 exchange: multiplying cluster k's count by c (``*_count``: n_count points in all) has the same effect
    on F as dividing its variance by c (``*_variance``: n_variance points). Predicted: the two ridges
    d sigma_k^2 / n_k are one number, so the predictions agree up to rounding (CLOSED_FORM_ROUNDING, relative).
    Measured: each run is within its D3 error order of its prediction, and the two runs are within the sum of
    the two orders of each other. worst = the largest error / bound ratio (<= 1 holds)."""
    pc, pv = np.asarray(predicted_count, dtype=float), np.asarray(predicted_variance, dtype=float)
    mc, mv = np.asarray(measured_count, dtype=float), np.asarray(measured_variance, dtype=float)
    scale = max(float(np.max(np.abs(pc))), float(np.max(np.abs(pv))), np.finfo(float).tiny)
    bc, bv = interpolation_bound(n_count, dim, gamma), interpolation_bound(n_variance, dim, gamma)
    predicted = at_most("predicted: max |F(n_k c) - F(sigma_k^2 / c)| / max |F|", float(np.max(np.abs(pc - pv))) / scale,
                        tol.CLOSED_FORM_ROUNDING)
    count = interpolation_within_order(mc, pc, n_count, dim, gamma)
    variance = interpolation_within_order(mv, pv, n_variance, dim, gamma)
    exchange = float(np.max(np.abs(mc - mv)))
    measured = Check(exchange <= bc + bv, exchange / (bc + bv),
                     f"measured: max |F(n_k c) - F(sigma_k^2 / c)| {_fmt(exchange)} <= {_fmt(bc + bv)}")
    both = all_of(predicted, count, variance, measured)
    return Check(both.ok, max(count.worst, variance.worst, measured.worst,
                              predicted.worst / tol.CLOSED_FORM_ROUNDING), both.detail)


def lazy_displacement_falls(displacements, travels) -> Check:
    """S2 (deep linear networks, NTK parameterization): the lazy regime. Depth 2, f = a^T W x / sqrt(d m): to first
    order in 1/sqrt(m) the layers move by Delta W = a0 u^T / sqrt(d m), Delta a = W0 u / sqrt(d m), so the end-to-end
    change is Delta w = (W0^T W0 + |a0|^2) u / (d m) ~ 2 u / d and ||Delta W||_F / ||W0||_F ~ ||Delta w|| / (2 sqrt(m))
    (every layer of a deeper network likewise moves O(1/sqrt(m)) of its size per unit of Delta w). Delta w = w_inf - w(0)
    is set by the initialization (w(0) ~ N(0, I / d): its size is a chi_d draw that differs between widths and can
    cancel the 16x width gain), so the claim is about the displacement PER UNIT OF TRAVEL ||w_inf - w(0)||: it must
    fall with width (widths ascending). worst: monotone's."""
    per_travel = np.asarray(displacements, dtype=float) / np.asarray(travels, dtype=float)
    return monotone("first-layer displacement / ||w_inf - w(0)|| vs width", per_travel, -1)


def interpolation_rate(ratios, errors) -> Check:
    """S3, D3 (limits in d/n): the seed-averaged error at d/n = ratios[0] over that at ratios[1] (16x larger) lies in
    RIDGE_RATE_RANGE (sqrt(n/d) predicts 4). worst = the distance of the log reduction from the log range, <= 0 holds."""
    low, high = tol.RIDGE_RATE_RANGE
    return within(f"log of the error's reduction from d/n = {ratios[0]:g} to {ratios[1]:g}",
                  np.log(float(errors[0]) / float(errors[1])), np.log(low), np.log(high))


# ---- M1 on trained networks, and support-vector proliferation (issue 14) ----
def methods_separate_training_set(margins: dict) -> Check:
    """M1 on a trained network: every method (``margins``: method -> its training margins y_i f(x_i)) has trained to a
    classifier of its training set (every margin > 0), so the test gaps compare fitted predictors, not unfitted ones.
    worst = minus the smallest margin relative to the method's mean margin."""
    return all_of(*(Check(bool(np.min(m) > 0), float(-np.min(m) / np.mean(m)),
                          f"{name}: min training margin {_fmt(np.min(m))} > 0") for name, m in margins.items()))


def reweighting_cuts_growth(plain, weighted) -> Check:
    """M1's regime where reweighting DOES act, a network stopped early: importance-weighted logistic and plain logistic,
    trained from the same initialization on the same samples for the same steps (``plain``, ``weighted``: each its
    normalized gap at rho = 1/2 and at rho = 0.9). At rho = 1/2 the weights are all 1, so the two runs are identical;
    the weighted gap's growth to 0.9 must be strictly below the plain one's (the 1/pi_g weights slow the aligned
    groups' fit: M2 says the effect vanishes only as t -> infinity). worst = weighted growth - plain growth."""
    grown = float(weighted[-1] - weighted[0]), float(plain[-1] - plain[0])
    return Check(bool(grown[0] < grown[1]), grown[0] - grown[1],
                 f"importance-weighted gap growth {_fmt(grown[0])} < plain logistic growth {_fmt(grown[1])}")


def trained_network_methods(rhos, gaps: dict, train_margins: list, band, *, apart, reweighting: bool) -> Check:
    """M1 on a trained network, the whole rule of its report row and tests: every method but importance weighting
    (``gaps``: method -> normalized gap per rho) keeps the gap rising over rho pairs ``apart`` apart, every method is
    within ``band`` at rho = 1/2, every method but importance weighting separates its training set (``train_margins``:
    per rho, method -> training margins); with ``reweighting``, early-stopped importance weighting grows less than
    plain logistic (reweighting_cuts_growth). ``reweighting`` is claimed for the two-layer ReLU network only: on the
    small ResNet-18 the weighted/plain growth ratio ranges -0.01 to 1.01 over seeds (docs/theory.md#M1)."""
    kept = {m: g for m, g in gaps.items() if m != "importance_weighted"}
    rules = [margin_methods_gap_grows(rhos, kept, apart=apart),
             margin_methods_balanced({m: g[0] for m, g in gaps.items()}, band),
             *(methods_separate_training_set({m: run[m] for m in kept}) for run in train_margins)]
    if reweighting:
        rules.append(reweighting_cuts_growth(gaps["logistic"], gaps["importance_weighted"]))
    return all_of(*rules)


def support_vector_proliferation(ratios, cosines, support_fractions, bounds) -> Check:
    """M1, support-vector proliferation (numerics.experiments.margins.svm_proliferation): wherever every training point
    is a support vector (sklearn's count = n), the hard-margin SVM through the origin IS the min-norm interpolant, so
    1 - cos <= bounds[i] (tolerances.svm_interpolant_cosine: libsvm's margin allowance through cond(X X^T)); at the
    largest d/n (>> n log n, Hsu et al. 2021) every point is one; at the smallest d/n (< 1) at most d of the n points
    can be (generic position: the margin set is a hyperplane of R^d), and the two directions differ: cos below
    tolerances.SVM_MIN_NORM_COSINE, the suite's "same direction"."""
    ratios, cosines, fractions = (np.asarray(v, dtype=float) for v in (ratios, cosines, support_fractions))
    full = fractions == 1
    coincide = [at_most(f"d/n = {_fmt(r)}: all support vectors, 1 - cos(SVM, min-norm)", 1 - c, b)
                for r, c, b, f in zip(ratios, cosines, bounds, full) if f]
    return all_of(at_least(f"support fraction at d/n = {_fmt(ratios[-1])}", fractions[-1], 1.0),
                  *coincide,
                  at_most(f"support fraction at d/n = {_fmt(ratios[0])} (at most d/n)", fractions[0], ratios[0]),
                  at_most(f"cos(SVM, min-norm) at d/n = {_fmt(ratios[0])}", cosines[0], tol.SVM_MIN_NORM_COSINE))


# ---- E3 per output column: multi-class colored digits (issue 15) ----
def multiclass_margins_trend(rhos, conflicting, gaps, *, apart) -> Check:
    """E3 per output column (K classes, numerics.experiments.multiclass): over pairs of rho at least ``apart``
    apart, the conflicting cells' mean test margin (f_y - max_{k != y} f_k) / gamma falls and the aligned
    (diagonal) minus conflicting gap rises. worst = the larger of the two trends' relative shortfalls."""
    return all_of(pairwise_trend("conflicting-cell margin", rhos, conflicting, -1, apart=apart),
                  pairwise_trend("aligned - conflicting margin gap", rhos, gaps, +1, apart=apart))


def multiclass_gap_in_band(gap: float, classes: int, band: float) -> Check:
    """E3 negative control for K classes: at rho = 1/K (NOT 1/2) colour is independent of the label, and a
    channel permutation maps a diagonal cell onto an off-diagonal one (numerics.multiclass_digits), so the gap
    is zero in expectation and within the seed-noise ``band``."""
    return at_most(f"|aligned - conflicting| margin gap at rho = 1/{classes}", abs(gap), band)


def multiclass_gap_exceeds_band(gap: float, rho, band: float) -> Check:
    """E3 power for K classes: at a strong colour-label correlation rho the gap leaves the rho = 1/K noise band
    (so the band can fail)."""
    return at_least(f"aligned - conflicting margin gap at rho = {_fmt(rho)} (power)", gap, band)


def label_colour_table(table, rho) -> Check:
    """Data integrity of a K x K label-colour count table (rows: labels, columns: colours) with diagonal mass rho
    (numerics.multiclass_digits): each diagonal count a_k is within MULTICLASS_COUNT_ROUNDING (half-up rounding)
    of rho n_k, n_k the row's total; each row's off-diagonal counts differ by at most one image; the class sizes
    n_k differ by at most one image. Exact (Fractions). worst = the largest diagonal distance minus the allowance,
    or 1 + the excess spread when a spread is off."""
    from fractions import Fraction

    table = np.asarray(table, dtype=int)
    K = table.shape[0]
    rows = table.sum(axis=1)
    off = max(abs(Fraction(int(table[k, k])) - Fraction(rho) * int(rows[k])) for k in range(K))
    spreads = [int(np.ptp(np.delete(table[k], k))) for k in range(K)] + [int(np.ptp(rows))]
    ok = off <= tol.MULTICLASS_COUNT_ROUNDING and max(spreads) <= 1
    worst = float(off - tol.MULTICLASS_COUNT_ROUNDING) if max(spreads) <= 1 else float(max(spreads))
    return Check(bool(ok), worst, f"label-colour table {table.tolist()} at rho = {_fmt(rho)}: diagonal off rho n_k by "
                 f"{float(off):.3g} <= {float(tol.MULTICLASS_COUNT_ROUNDING):g}; off-diagonal and class-size spreads "
                 f"{spreads} <= 1")


# ---- RULES: the pass rules of every claim id ------------------------------------------------------
#: claim id -> the rules that judge it (tests/test_checks.py: every rule is asserted by some test, and
#: every claim with a report row is judged there by its rules).
RULES: dict[str, tuple] = {
    "T1": (residual_law,),
    "L1": (one_layer_ntk, width_rate),
    "L2": (population_eigenvalues,),
    "L3": (design_spectrum, within_concentration_bound, no_copies),
    "S1": (shortcut_spectrum, aligned_direction_bound),
    "S2": (energy_ratio_grows, reaches_trained_weights, misclassified_past_threshold, within_concentration_bound,
           lazy_displacement_falls),
    "S3": (equal_training_margins, margin_gap_positive, margin_gap_grows, interpolation_rate),
    "N1": (no_mixing_at_balance, equal_training_margins),
    "R1": (width_rate, strategies_agree, relu_kernel_reference),
    "P1": (p1_odd_part_exact, p1_odd_part_nonlinear, p1_odd_part_linear, ratio_prediction_is_linear,
           ratio_prediction_is_not_linear),
    "G1": (cluster_spectrum_exact, cluster_spectrum_converges, ridge_outputs_within_order),
    "E2": (label_ratio_rises, label_ratio_tie, label_ratio_beyond_balance, label_ratio_sees_nonlinearity,
           label_ratio_trend_absent, canonical_cluster_counts, no_copies, same_geometry),
    "E3": (equal_training_margins, margin_gap_grows, margin_gap_in_band, margin_gap_exceeds_band,
           canonical_cluster_counts, multiclass_margins_trend, multiclass_gap_in_band, multiclass_gap_exceeds_band,
           label_colour_table),
    "E4": (linearization_gap, kernel_drift_falls_with_width, alignment_scale_free),
    "I1": (scales_with_targets,),
    "M1": (margin_methods_gap_grows, margin_methods_balanced, margin_methods_beyond_band, hard_margin_kkt, vs_limit_sign,
           trained_network_methods, support_vector_proliferation),
    "M2": (exactly_zero, reweighting_effect_vanishes, stays_in_row_space, early_stopping_bias_in_band,
           reweighting_removes_first_step_drift, adjustment_contrast),
    "D1": (spectrum_through_mixture_variance, canonical_form_carries, exactly_zero),
    "D3": (interpolation_within_order, count_variance_exchange, interpolation_rate),
}
