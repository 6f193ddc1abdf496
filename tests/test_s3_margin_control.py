"""S3: controlling the output margin does not remove the shortcut preference (THEORY.md 6)."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from numerics.data import canonical_counts
from numerics.experiments.linear_training import (
    cluster_margins, design_weights, feature_energy_ratio, interpolation, svm_direction)
from theory import GMM
from theory.strategies import canonical_gmms, correlations, margins, seeds, target_scales, variances

pytestmark = pytest.mark.claim("S3")
ALPHA, BETA = 1, Fraction(13, 10)


@given(gmm=canonical_gmms(dim=3), gamma=target_scales())
def test_outputs_scale_by_gamma_and_feature_ratios_do_not_move(gmm, gamma):
    """Least squares is linear in the targets: every output and feature scales by gamma exactly
    (float64: a few ulps), so ratios, rankings and signs are gamma-free."""
    base, scaled = cluster_margins(gmm), cluster_margins(gmm, gamma=float(gamma))
    np.testing.assert_allclose(scaled, float(gamma) * base, rtol=1e-12, atol=1e-14 * float(gamma))
    assert np.array_equal(np.sign(scaled), np.sign(base))
    theory, ratio = feature_energy_ratio(gmm)
    assume(np.isfinite(theory))                     # p = 0: the second feature carries no energy
    _, scaled_ratio = feature_energy_ratio(gmm, gamma=float(gamma))
    assert scaled_ratio == pytest.approx(ratio, rel=1e-10)


@given(ab=margins(), p=correlations().filter(lambda q: q > 0), var=variances(allow_zero=False))
def test_negative_control_without_variance_there_is_no_preference_to_scale(ab, p, var):
    """Control for S3: with p > 0 and s^2 > 0 the conflicting mean's margin is strictly below the
    aligned one's at every gamma; the gap vanishes at s^2 = 0 (every cluster fitted, N1)."""
    margins_noisy = cluster_margins(GMM.canonical(*ab, (1 + p) / 2, var, dim=2))
    assume(p < 1)
    margins_clean = cluster_margins(GMM.canonical(*ab, (1 + p) / 2, 0, dim=2))
    assert margins_noisy[2] < margins_noisy[0]
    np.testing.assert_allclose(margins_clean, 1, rtol=1e-10)


# Interpolation regime. THEORY.md 6: the signal part of the min-norm weights follows the ridge formula
# at s^2 = d sigma^2 / n on the sample's own mean part with relative error ~ C sqrt(n/d); THEORY's
# measurements give C between 0.05 and 0.16; we allow C = 0.5.
RIDGE_CONSTANT = 0.5
N, D, S2 = 60, 3000, Fraction(3, 10)


def _interpolate(rho, seed, gamma=1.0):
    return interpolation(ALPHA, BETA, rho, S2 * N / D, n=N, d=D, seed=seed, gamma=gamma)


@settings(max_examples=8)
@given(rho=st.fractions(Fraction(11, 20), Fraction(19, 20), max_denominator=20), seed=seeds(),
       gamma=target_scales())
def test_every_training_margin_is_gamma_but_conflicting_points_get_less(rho, seed, gamma):
    result = _interpolate(rho, seed, float(gamma))
    # n < d, X X^T invertible: interpolation is exact up to lstsq rounding (1e-8 per the issue)
    np.testing.assert_allclose(result.training_margins, float(gamma), rtol=1e-8)
    assert result.conflicting_margin < result.aligned_margin


@settings(max_examples=8)
@given(rhos=st.tuples(st.fractions(Fraction(1, 2), Fraction(19, 20), max_denominator=20),
                      st.fractions(Fraction(1, 2), Fraction(19, 20), max_denominator=20)), seed=seeds())
def test_conflicting_margin_falls_as_the_imbalance_grows(rhos, seed):
    lo, hi = sorted(rhos)
    assume(hi - lo >= Fraction(1, 5))
    results = [_interpolate(r, seed) for r in (lo, hi)]
    for r in results:
        assert r.ridge_error <= RIDGE_CONSTANT * np.sqrt(N / D)
    assert results[1].conflicting_margin < results[0].conflicting_margin


@settings(max_examples=2)
@given(seed=seeds())
def test_ridge_formula_error_shrinks_like_sqrt_n_over_d(seed):
    """THEORY.md 6: error ~ sqrt(n/d), i.e. 4x smaller from d/n = 5 to d/n = 80. The error of one
    draw varies by ~2x (per-draw log-log slopes -0.13 to -0.81 were seen at n = 50-100, 2 seeds
    averaged), so we average 3 seeds at n = 100 and require the reduction over the 16x range to
    lie in [2, 16]: at least half the sqrt prediction (slope <= -1/4), at most n/d (slope >= -1).
    A strict decrease at the middle point is NOT required: one --hypothesis-seed=1 dev run found
    0.0067 at d/n = 20 below 0.0081 at d/n = 80."""
    n, ratios = 100, (5, 80)
    errors = [np.mean([interpolation(ALPHA, BETA, Fraction(9, 10), S2 / r, n=n, d=n * r, seed=seed + k).ridge_error
                       for k in range(3)]) for r in ratios]
    assert 2 <= errors[0] / errors[1] <= 16


@given(ab=margins(), rho=st.fractions(Fraction(1, 2), Fraction(39, 40), max_denominator=40))
def test_svm_ignores_sample_counts_while_the_ntk_model_uses_the_bias(ab, rho):
    """Closed form (THEORY.md 6): on +-(alpha, +-beta) the max-margin direction maximizes
    min(w1 alpha + w2 beta, w1 alpha - w2 beta) = w1 alpha - |w2| beta: w = e_core, margin alpha,
    whatever rho < 1. The NTK-trained model with s^2 > 0, p > 0 has w_bias > 0."""
    alpha, beta = map(float, ab)
    assume(canonical_counts(rho, 200)[2] > 0)              # at least one conflicting point
    direction, margin = svm_direction(*ab, rho, n=200)
    # libsvm stops at tol 1e-12 on the dual; the direction is accurate to ~1e-6
    np.testing.assert_allclose(direction, [1, 0], atol=1e-6)
    assert margin == pytest.approx(alpha, rel=1e-6)
    assume(rho > Fraction(1, 2))
    assert design_weights(GMM.canonical(*ab, rho, Fraction(1, 4), dim=2))[1] > 0


def test_negative_control_svm_on_aligned_points_only_uses_the_bias():
    """At rho = 1 (no conflicting point) the SVM direction is the aligned mean (alpha, beta)/norm:
    the SVM check above can tell the two directions apart."""
    direction, margin = svm_direction(ALPHA, BETA, 1)
    expected = np.array([ALPHA, float(BETA)]) / np.hypot(ALPHA, float(BETA))
    np.testing.assert_allclose(direction, expected, atol=1e-6)
    assert margin == pytest.approx(np.hypot(ALPHA, float(BETA)), rel=1e-6)
