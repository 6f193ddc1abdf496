"""G1, E2 and E3 for ResNet-18 on colored digits (docs/theory.md), each with its negative control.

Setting: numerics.experiments.resnet.DEFAULT (width 32, 16x16 images of digits 0 against 1,
colour contrast 0.3, n = 160 training and 160 balanced test images; the module docstring says why
not 0-4 against 5-9). Trends compare two rho values with the SAME seed (same network, nearly the
same digits, different colour assignments). Measured over 30 seeds (rho in 0.5, 0.6, ..., 0.9)
before fixing the criteria:
  E2  the ratio rose in every pair >= 0.2 apart (0 of 180 pairs failed), was > 1 at rho >= 0.8 in
      all 30; |log ratio(1/2)| < log ratio(9/10) failed for 1 seed of 30;
  E3  the mean conflicting margin (80 test images) fell in every pair >= 0.3 apart (0 of 90), but
      not in 4 of 60 pairs 0.2 apart; conflicting accuracy (steps of 1/80) did not rise in any pair
      0.4 apart, but rose in 3 of 60 pairs 0.3 apart; |gap(1/2)| < gap(9/10) failed for 1 seed of 30.
Hence E2 uses pairs >= 0.2 apart, E3's margin pairs >= 0.3 apart and its accuracy pairs >= 0.4.

E3 after real gradient descent of the ResNet (width 16, 150 steps, rho 1/2 -> 9/10, seed 0) is the E3-resnet18
report entry (numerics.report.resnet.e3_trained), which tests/test_report_entries.py runs in the default test run;
a copy of it here (same setting, seed, steps and rule) was removed. The two kernel properties below are slow
(seconds per draw): the default run takes their first 2 draws, dev and thorough examples(4) (slow_property).
"""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st

from numerics import checks
from numerics.clusters import cluster_kernel, predicted_eigenvalues
from numerics.experiments import resnet as ex
from numerics.pytest_plugin import examples, slow_property
from numerics.structured_ntk import structured_gram
from numerics.tolerances import (
    RESNET_ACCURACY_PAIRS_APART,
    RESNET_G1_EXACT,
    RESNET_MARGIN_PAIRS_APART,
    RESNET_TRAIN_MARGIN,
    RHO_PAIRS_APART,
)
from theory.strategies import seeds

SETTING = ex.DEFAULT
#: each example costs seconds of NTK work: no shrinking (a failing example is reported as drawn)
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
HALF, NINE_TENTHS = Fraction(1, 2), Fraction(9, 10)


def small_seeds():
    return seeds().map(lambda s: s % 2**31)


# ---- G1 ----------------------------------------------------------------------------------------
@pytest.mark.claim("G1")
@settings(max_examples=examples(2), phases=NO_SHRINK)
@given(seed=small_seeds(), rho=st.sampled_from([Fraction(7, 10), NINE_TENTHS]))
def test_g1_cluster_kernel_predicts_the_top_eigenvalues_as_variance_shrinks(seed, rho):
    """Clusters = (label, colour). Images pulled towards their cluster mean by t: at t = 0 the top-4
    Gram eigenvalues ARE eig(N^1/2 Kbar N^1/2); the error of every one of them falls as t falls; at
    every t the compression N^1/2 Kbar N^1/2 + diag(r) interlaces below the Gram (Cauchy)."""
    spectra = ex.digits_cluster_reduction(rho, (1.0, 0.5, 0.25, 0.1, 0.0), seed=seed, setting=SETTING)
    errors = np.array([s.relative_errors for s in spectra])
    check = checks.all_of(checks.cluster_spectrum_exact(errors[-1], RESNET_G1_EXACT),
                          *(checks.cluster_spectrum_converges(column) for column in errors[:-1].T))
    assert check.ok, check.detail


@pytest.mark.claim("G1")
def test_g1_compression_interlaces_below_the_gram():
    """Exact at any variance: the Ritz values of K on the cluster-constant vectors are <= lambda_i(K)
    (up to float32-contraction rounding of K, RESNET_G1_EXACT relative to lambda_1)."""
    train = ex.digits_data(SETTING, SETTING.n, NINE_TENTHS, 0, 0, "train")
    K = structured_gram(ex.network(SETTING, 0), train.images).numpy()
    ritz = predicted_eigenvalues(cluster_kernel(K, train.cluster, 4), with_excess=True)
    top = np.linalg.eigvalsh(K)[::-1][:4]
    assert np.all(ritz <= top + RESNET_G1_EXACT * top[0])


@pytest.mark.claim("G1")
def test_g1_negative_control_wrong_clusters_do_not_predict():
    """At t = 0 with the membership shuffled, the 4 x 4 reduction misses the Gram's top-4 eigenvalues
    by far more than its tolerance: the exactness above is the clustering's, not a tautology."""
    train = ex.shrink_to_cluster_means(ex.digits_data(SETTING, SETTING.n, NINE_TENTHS, 0, 0, "train"), 0.0)
    K = structured_gram(ex.network(SETTING, 0), train.images).numpy()
    shuffled = np.random.default_rng(0).permutation(train.cluster)
    predicted = predicted_eigenvalues(cluster_kernel(K, shuffled, 4))
    top = np.linalg.eigvalsh(K)[::-1][:4]
    check = checks.cluster_spectrum_exact(np.abs(predicted - top) / top, RESNET_G1_EXACT)
    assert not check.ok, check.detail


# ---- E2 ----------------------------------------------------------------------------------------
@pytest.mark.claim("E2")
@slow_property(4, ci=2, phases=NO_SHRINK)
@given(seed=small_seeds(), rho_lo=st.fractions(HALF, Fraction(7, 10), max_denominator=20),
       gap=st.fractions(Fraction(1, 5), Fraction(2, 5), max_denominator=20))
def test_e2_aligned_feature_gains_over_conflicting_as_rho_grows(seed, rho_lo, gap):
    rho_hi = rho_lo + gap
    assume(rho_hi <= Fraction(19, 20))
    lo, hi = (ex.feature_ratio(ex.digits_grams(r, seed=seed, setting=SETTING)) for r in (rho_lo, rho_hi))
    check = checks.label_ratio_rises([rho_lo, rho_hi], [lo.ratio, hi.ratio], apart=RHO_PAIRS_APART)
    assert check.ok, check.detail
    # phi_A is the top label-carrying feature once rho is well past 1/2. Near rho = 0.8 the onset is
    # seed-dependent: dev seed 34 found seed 32033123 at rho = 29/36 ~ 0.81 with one feature carrying
    # both (index 1 for both, ratio 1), separated at 0.85 (ratio 3.6) and 0.9 (4.2).
    if rho_hi >= Fraction(17, 20):
        assert hi.index_aligned < hi.index_conflicting and hi.ratio > 1


@pytest.mark.claim("E2")
@pytest.mark.parametrize("seed", [0, 1])
def test_e2_negative_control_no_preference_at_rho_one_half(seed):
    """At rho = 1/2 aligned and conflicting clusters are equally large, so neither feature is favoured:
    |log ratio| there is smaller than log ratio at rho = 9/10 (same network, same digits)."""
    half, imbalanced = (ex.feature_ratio(ex.digits_grams(r, seed=seed, setting=SETTING)) for r in (HALF, NINE_TENTHS))
    check = checks.label_ratio_beyond_balance(half.ratio, imbalanced.ratio)
    assert check.ok, check.detail


# ---- E3 ----------------------------------------------------------------------------------------
@pytest.mark.claim("E3")
@slow_property(4, ci=2, phases=NO_SHRINK)
@given(seed=small_seeds(), rho_lo=st.fractions(HALF, Fraction(3, 5), max_denominator=20),
       gap=st.fractions(Fraction(3, 10), Fraction(9, 20), max_denominator=20),
       gamma=st.sampled_from([Fraction(1, 10), Fraction(1), Fraction(10)]))
def test_e3_margin_gap_grows_with_rho_at_equal_training_margins(seed, rho_lo, gap, gamma):
    """Kernel regression interpolates (every training margin is gamma), yet the aligned-minus-
    conflicting gap grows with rho; the conflicting accuracy never rises over pairs 0.4 apart."""
    rho_hi = rho_lo + gap
    assume(rho_hi <= Fraction(19, 20))
    lo, hi = (ex.digits_kernel_regression_margins(ex.digits_grams(r, seed=seed, setting=SETTING), gamma=float(gamma))
              for r in (rho_lo, rho_hi))
    rhos = [rho_lo, rho_hi]
    check = checks.all_of(*(checks.equal_training_margins(m.train_margins, 1, RESNET_TRAIN_MARGIN) for m in (lo, hi)),
                          checks.margin_gap_grows(rhos, [lo.gap, hi.gap], apart=RESNET_MARGIN_PAIRS_APART))
    if gap >= RESNET_ACCURACY_PAIRS_APART:
        check = checks.all_of(check, checks.pairwise_trend(
            "conflicting accuracy", rhos, [lo.conflicting_accuracy, hi.conflicting_accuracy], -1,
            apart=RESNET_ACCURACY_PAIRS_APART, strict=False))
    assert check.ok, check.detail


@pytest.mark.claim("E3")
@pytest.mark.parametrize("seed", [0, 1])
def test_e3_negative_control_no_gap_at_rho_one_half(seed):
    """At rho = 1/2 the predictor treats aligned and conflicting test images alike: the margin gap
    (aligned minus conflicting) is smaller in size than the gap at rho = 9/10."""
    half, imbalanced = (ex.digits_kernel_regression_margins(ex.digits_grams(r, seed=seed, setting=SETTING))
                        for r in (HALF, NINE_TENTHS))
    check = checks.margin_gap_exceeds_band(imbalanced.gap, abs(half.gap))
    assert check.ok, check.detail
