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
    """N1 (control, p = 0): M is diagonal, so the top eigenvector is a coordinate axis: e_bias when
    beta > alpha, whose sine to the aligned mean (alpha, beta)/norm is alpha / norm exactly."""
    axis = float(alpha) / float(np.hypot(float(alpha), float(beta)))
    return at_most("|sin(top, aligned) - alpha/norm| at p = 0", abs(sin - axis), tol.DIRECTION_ROUNDING)


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


def relu_width_limit(widths, errors, slope_tolerance) -> Check:
    """R1 (finite ReLU MLPs): the seed-averaged relative error ||K_emp - K_limit||_F / ||K_limit||_F has log-log
    slope -1/2 within ``slope_tolerance`` (< 1/2, so the error falls with width); worst = |slope + 1/2|."""
    slope = float(np.polyfit(np.log(widths), np.log(errors), 1)[0])
    trend = ", ".join(f"{_fmt(e)} at {w}" for w, e in zip(widths, errors))
    return at_most(f"NTK error {trend}: |log-log slope {_fmt(slope)} + 1/2|", abs(slope + 0.5), slope_tolerance)
