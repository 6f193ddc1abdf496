"""S3: controlling the output margin does not remove the shortcut preference (docs/theory.md)."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from numerics import checks
from numerics.data import canonical_counts, sample_gmm
from numerics.experiments.linear_training import cluster_margins, feature_energy_ratio, interpolation, ridge_error
from numerics.pytest_plugin import examples, slow_property
from numerics.tolerances import (
    INTERPOLATION_MARGIN,
    RHO_PAIRS_APART,
    RIDGE_CONSTANT,
    RIDGE_RATE_SEEDS,
    SVM_DIRECTION,
    SVM_MIN_NORM_COSINE,
)
from numerics.training import hard_margin_svm, kernel_regression
from theory import GMM
from theory.gmm import aligned_fraction
from theory.strategies import canonical_gmms, correlations, margins, seeds, target_scales, variances

pytestmark = pytest.mark.claim("S3")
ALPHA, BETA = 1, Fraction(13, 10)


@pytest.mark.claim("I1")
@given(gmm=canonical_gmms(dim=3), gamma=target_scales())
@example(gmm=GMM.canonical(Fraction(1, 5), Fraction(2, 5), Fraction(1, 2), 0, dim=3), gamma=Fraction(1, 100))
def test_outputs_scale_by_gamma_and_feature_ratios_do_not_move(gmm, gamma):
    """I1, an identity: least squares is linear in the targets, so every output and feature scales
    by gamma exactly (float64: a few ulps), whatever the data -- the draws include rho = 1/2 and
    s^2 = 0, where there is no shortcut at all. Never evidence for S3."""
    base, scaled = cluster_margins(gmm), cluster_margins(gmm, gamma=float(gamma))
    check = checks.scales_with_targets(base, scaled, gamma)
    theory, ratio = feature_energy_ratio(gmm)
    if 0 < theory < np.inf:   # p = 0: one of the two features carries no energy; its measured energy is rounding
        _, scaled_ratio = feature_energy_ratio(gmm, gamma=float(gamma))        # noise (~1e-34), not a ratio to compare
        check = checks.all_of(check, checks.at_most("feature-energy ratio at gamma vs at 1 (relative)",
                                                    abs(scaled_ratio / ratio - 1), INTERPOLATION_MARGIN))
    assert check.ok, check.detail


@pytest.mark.claim("I1")
@given(seed=seeds(), gamma=target_scales())
def test_the_identity_holds_for_a_kernel_with_no_shortcut(seed, gamma):
    """Why I1 is not evidence: the same scaling holds for a random positive-definite kernel on random
    points with random labels, where there is no cluster, no imbalance and no shortcut."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((12, 12))
    K = A @ A.T + np.eye(12)
    targets = np.sign(rng.standard_normal(12))
    base, scaled = (kernel_regression(K, K[:4], g * targets)[1] for g in (1.0, float(gamma)))
    check = checks.scales_with_targets(base, scaled, gamma)
    assert check.ok, check.detail


@given(ab=margins(), p=correlations().filter(lambda q: q > 0), var=variances(allow_zero=False))
def test_negative_control_without_variance_there_is_no_gap(ab, p, var):
    """Control for S3: with p > 0 and s^2 > 0 the conflicting mean's margin is strictly below the
    aligned one's; the gap vanishes at s^2 = 0 (every cluster fitted, N1)."""
    margins_noisy = cluster_margins(GMM.canonical(*ab, aligned_fraction(p), var, dim=2))
    assume(p < 1)
    margins_clean = cluster_margins(GMM.canonical(*ab, aligned_fraction(p), 0, dim=2))
    check = checks.all_of(checks.margin_gap_positive(margins_noisy[0] - margins_noisy[2]),
                          checks.equal_training_margins(margins_clean, 1, INTERPOLATION_MARGIN))
    assert check.ok, check.detail


# Interpolation regime. docs/theory.md: the signal part of the min-norm weights follows the ridge formula
# at s^2 = d sigma^2 / n on the sample's own mean part with relative error ~ C sqrt(n/d)
# (numerics.tolerances.RIDGE_CONSTANT).
N, D, S2 = 60, 3000, Fraction(3, 10)


def _interpolate(rho, seed, gamma=1.0):
    return interpolation(ALPHA, BETA, rho, S2 * N / D, n=N, d=D, seed=seed, gamma=gamma)


@settings(max_examples=examples(8))
@given(rho=st.fractions(Fraction(11, 20), Fraction(19, 20), max_denominator=20), seed=seeds(),
       gamma=target_scales())
def test_every_training_margin_is_gamma_but_conflicting_points_get_less(rho, seed, gamma):
    """n < d: the min-norm interpolant fits every training point at margin gamma, yet fresh
    conflicting points get less than aligned ones -- and so does the hard-margin SVM on the SAME
    samples (with d >> n it is the min-norm interpolant's direction: cos >= SVM_MIN_NORM_COSINE)."""
    result = _interpolate(rho, seed, float(gamma))
    check = checks.all_of(checks.equal_training_margins(result.training_margins, gamma, INTERPOLATION_MARGIN),
                          checks.margin_gap_positive(result.gap), checks.margin_gap_positive(result.svm_gap),
                          checks.at_least("cos(SVM, min-norm) on the same samples", result.svm_cosine,
                                          SVM_MIN_NORM_COSINE))
    assert check.ok, check.detail


@settings(max_examples=examples(8))
@given(rhos=st.tuples(st.fractions(Fraction(1, 2), Fraction(19, 20), max_denominator=20),
                      st.fractions(Fraction(1, 2), Fraction(19, 20), max_denominator=20)), seed=seeds())
def test_margin_gap_grows_as_the_imbalance_grows(rhos, seed):
    """The aligned-minus-conflicting gap (min-norm interpolant and SVM on the same samples) grows with
    rho, and the signal part of the weights follows the ridge formula within RIDGE_CONSTANT sqrt(n/d)."""
    lo, hi = sorted(rhos)
    assume(hi - lo >= RHO_PAIRS_APART)
    results = [_interpolate(r, seed) for r in (lo, hi)]
    check = checks.all_of(*(checks.at_most("ridge formula relative error", r.ridge_error, RIDGE_CONSTANT * np.sqrt(N / D))
                            for r in results),
                          checks.margin_gap_grows([lo, hi], [r.gap for r in results]),
                          checks.margin_gap_grows([lo, hi], [r.svm_gap for r in results]))
    assert check.ok, check.detail


@slow_property(1, ci=0)         # 6.7 s per draw here: the default run takes the pinned seed 167
@given(seed=seeds())
@example(seed=167)
def test_ridge_formula_error_shrinks_like_sqrt_n_over_d(seed):
    """docs/theory.md: error ~ sqrt(n/d), i.e. 4x smaller from d/n = 5 to d/n = 80. One draw's error is
    Rayleigh-distributed (sd / mean 0.52), so we take the root-mean-square over RIDGE_RATE_SEEDS seeds at
    n = 100 (its squared reduction is the true one times F(2k, 2k)) and require the reduction over the 16x
    range to lie in RIDGE_RATE_RANGE = [2, 16]: at least half the sqrt prediction (slope <= -1/4), at most n/d
    (slope >= -1). The pinned seed 167 is where the former 3-seed mean fell to 1.92. A strict decrease at the
    middle point is NOT required: one --hypothesis-seed=1 dev run found 0.0067 at d/n = 20 below 0.0081 at 80."""
    n, ratios = 100, (5, 80)
    errors = [np.sqrt(np.mean([ridge_error(ALPHA, BETA, Fraction(9, 10), S2 / r, n=n, d=n * r, seed=seed + k) ** 2
                               for k in range(RIDGE_RATE_SEEDS)])) for r in ratios]
    check = checks.interpolation_rate(ratios, errors)
    assert check.ok, check.detail


@given(ab=margins(), rho=st.fractions(Fraction(1, 2), Fraction(39, 40), max_denominator=40))
def test_hard_margin_svm_matches_its_closed_form_on_noiseless_points(ab, rho):
    """The SVM route itself (scikit-learn's SVC), against a closed form: on +-(alpha, +-beta) the
    max-margin direction maximizes min(w1 alpha + w2 beta, w1 alpha - w2 beta) = w1 alpha - |w2| beta:
    w = e_core, margin alpha, whatever rho < 1 (sample counts do not enter a max-margin problem)."""
    alpha, beta = map(float, ab)
    sample = sample_gmm(GMM.canonical(*ab, rho, 0), seed=0, counts=canonical_counts(rho, 200))
    assume(canonical_counts(rho, 200)[2] > 0)              # at least one conflicting point
    direction, margin = hard_margin_svm(sample.X, sample.y)
    check = checks.all_of(checks.at_most("|w_SVM - e_core|", np.max(np.abs(direction - [1, 0])), SVM_DIRECTION),
                          checks.at_most("|margin / alpha - 1|", abs(margin / alpha - 1), SVM_DIRECTION))
    assert check.ok, check.detail


def test_negative_control_svm_on_aligned_points_only_uses_the_bias():
    """At rho = 1 (no conflicting point) the SVM direction is the aligned mean (alpha, beta)/norm:
    the SVM check above can tell the two directions apart."""
    sample = sample_gmm(GMM.canonical(ALPHA, BETA, 1, 0), seed=0, counts=canonical_counts(1, 200))
    direction, margin = hard_margin_svm(sample.X, sample.y)
    expected = np.array([ALPHA, float(BETA)]) / np.hypot(ALPHA, float(BETA))
    check = checks.all_of(checks.at_most("|w_SVM - aligned mean direction|", np.max(np.abs(direction - expected)),
                                         SVM_DIRECTION),
                          checks.at_most("|margin / |mu| - 1|", abs(margin / np.hypot(ALPHA, float(BETA)) - 1),
                                         SVM_DIRECTION))
    assert check.ok, check.detail
