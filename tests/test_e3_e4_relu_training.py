"""E3 and E4: after training (every training margin = gamma), the aligned-minus-conflicting test-margin
GAP grows with rho and with the variance; the trained network tracks its NTK prediction, closer as
width grows (docs/theory.md).

Why the gap and not "the conflicting margin falls": every margin shrinks with the within-cluster
variance (the ridge shrinks all outputs), at rho = 1/2 too, so a falling conflicting margin cannot
tell the shortcut from plain shrinkage. The gap is zero in expectation at rho = 1/2 (mirror symmetry)
whatever the variance, and grows only when rho > 1/2.

E3 kernel regression: min-norm interpolation with relu_ntk, n = 800 (exact counts), d = 20,
balanced test set of 200 points per cluster; each rho (or variance) pair shares its seed, i.e. the
same noise rows (numerics.experiments.relu). Measured gaps (seeds 1, 2; salience 0.8 and 1.25):
rho = 0.5: -0.02 .. -0.06 at every variance 1/16 .. 2 (inside RELU_E3_SYMMETRY_BAND); rho = 0.7:
0.02 -> 0.16 and rho = 0.9: 0.22 -> 0.64 as the variance goes 1/16 -> 1/2; past var ~ 1/2 the gap
falls again (rho = 0.9, salience 0.8: 0.397, 0.358, 0.275 at var 1/2, 1, 2), because every margin
tends to 0: the variance property is stated and drawn for var <= 1/2.

Budget (the default run: 4 minutes on 2 cores): the trained-network properties cost seconds per network, so they
are slow_property. The default run trains the E3 property's pinned draw (rho 10/17 -> 27/34, seed 66568095), and the
report entries E3-relu (GD at rho 1/2 -> 9/10, seed 0) and E4-relu (seed 0) in tests/test_report_entries.py; the E4
property's first ci draw would be seed 0, the E4-relu entry itself, so the default run skips it. dev and thorough
search both over draws (examples(2) and examples(1)).
"""
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics import checks
from numerics.experiments.relu import gmm_kernel_regression_margins, linearization_gap, trained_network_margins
from numerics.pytest_plugin import examples, slow_property
from numerics.tolerances import RELU_E3_SYMMETRY_BAND, RELU_GD_MARGIN, RELU_KERNEL_MARGIN, VANISHING_VARIANCE_FIT, VANISHING_VARIANCE_POWER
from theory.strategies import seeds

N, DIM = 800, 20
HALF, NINE_TENTHS = Fraction(1, 2), Fraction(9, 10)

saliences = st.fractions(Fraction(4, 5), Fraction(5, 4), max_denominator=20)
noise_levels = st.fractions(Fraction(1, 4), Fraction(16, 25), max_denominator=100)
#: variances whose double stays below the gap's peak (module docstring)
low_noise_levels = st.fractions(Fraction(1, 16), Fraction(1, 4), max_denominator=100)


def _margins(salience, rho, var, seed, **kwargs):
    return gmm_kernel_regression_margins(1, salience, rho, var, n=N, dim=DIM, seed=seed % 10**6, **kwargs)


def _interpolates(*margins):
    return checks.all_of(*(checks.at_most("max |y f / gamma - 1| on training points", m.train_error,
                                          RELU_KERNEL_MARGIN) for m in margins))


@pytest.mark.claim("E3")
@settings(max_examples=examples(10))
@given(salience=saliences, var=noise_levels, rho_lo=st.fractions(HALF, Fraction(3, 4), max_denominator=20),
       gap=st.fractions(Fraction(1, 5), Fraction(2, 5), max_denominator=20), gamma=st.sampled_from([0.1, 1.0, 10.0]),
       seed=seeds())
def test_kernel_regression_margin_gap_grows_with_imbalance(salience, var, rho_lo, gap, gamma, seed):
    """Every training margin equals gamma (to RELU_KERNEL_MARGIN relative: the LU solve's rounding), yet
    the aligned-minus-conflicting gap on fresh points grows as rho grows."""
    rho_hi = min(rho_lo + gap, Fraction(19, 20))
    lo, hi = _margins(salience, rho_lo, var, seed, gamma=gamma), _margins(salience, rho_hi, var, seed, gamma=gamma)
    check = checks.all_of(_interpolates(lo, hi),
                          checks.margin_gap_grows([rho_lo, rho_hi], [lo.gap, hi.gap]))
    assert check.ok, check.detail


@pytest.mark.claim("E3")
@settings(max_examples=examples(8))
@given(salience=saliences, var=low_noise_levels, rho=st.fractions(Fraction(7, 10), Fraction(19, 20), max_denominator=20),
       seed=seeds())
def test_kernel_regression_margin_gap_grows_with_variance(salience, var, rho, seed):
    """Doubling the variance on the same noise draw (X = mean + sqrt(var) Z) widens the gap when rho > 1/2."""
    check = checks.margin_gap_grows([var, 2 * var], [_margins(salience, rho, v, seed).gap for v in (var, 2 * var)])
    assert check.ok, check.detail


@pytest.mark.claim("E3")
@settings(max_examples=examples(6))
@given(salience=saliences, var=low_noise_levels, seed=seeds())
def test_negative_control_balanced_training_set_has_no_gap_at_any_variance(salience, var, seed):
    """rho = 1/2: conflicting and aligned clusters are mirror images under x_b -> -x_b (the ReLU NTK is
    invariant), so the gap stays in the seed-noise band (RELU_E3_SYMMETRY_BAND, > 3 standard deviations)
    at var and at 2 var: the variance alone makes no gap. The band has power: at rho = 0.9 (same seed)
    the gap exceeds it."""
    check = checks.all_of(*(checks.margin_gap_in_band(_margins(salience, HALF, v, seed).gap, RELU_E3_SYMMETRY_BAND)
                            for v in (var, 2 * var)),
                          checks.margin_gap_exceeds_band(_margins(salience, NINE_TENTHS, 2 * var, seed).gap,
                                                         RELU_E3_SYMMETRY_BAND))
    assert check.ok, check.detail


@pytest.mark.claim("E3")
@settings(max_examples=examples(4))
@given(salience=saliences, rho=st.fractions(Fraction(7, 10), Fraction(19, 20), max_denominator=20), seed=seeds())
def test_negative_control_vanishing_variance_fits_every_cluster(salience, rho, seed):
    """var -> 0: the within-cluster ridge disappears (G1) and every cluster is fitted, conflicting ones
    included: at var = 1e-6 the conflicting margin is gamma = 1 within VANISHING_VARIANCE_FIT, while at
    var = 1/4 it is off by VANISHING_VARIANCE_POWER times more. (|1 - margin| is NOT monotone at small
    variance: one dev-seed run found 2.5e-4, 4.2e-3, 1.7e-3 at var = 1e-2, 1e-3, 1e-4 -- the signed
    deviation crosses zero.)"""
    noisy, clean = (abs(1 - _margins(salience, rho, var, seed, test_per_cluster=50).conflicting)
                    for var in (Fraction(1, 4), Fraction(1, 10**6)))
    check = checks.all_of(checks.at_most("|1 - conflicting margin| at var = 1e-6", clean, VANISHING_VARIANCE_FIT),
                          checks.at_least("|1 - conflicting margin| at var = 1/4 over var = 1e-6", noisy / clean,
                                          VANISHING_VARIANCE_POWER))
    assert check.ok, check.detail


@pytest.mark.claim("E3")
@slow_property(2, ci=0)         # 8 s per network here; the default run trains the pinned draw only
@example(rho_lo=Fraction(10, 17), seed=66568095)   # thorough run: train error 0.067 after 1500 steps (now 0.0074)
@given(rho_lo=st.fractions(Fraction(1, 2), Fraction(3, 5), max_denominator=20), seed=seeds())
def test_trained_network_margin_gap_grows_with_imbalance(rho_lo, seed):
    """Real full-batch gradient descent of an antisymmetric (f_0 = 0) TwoLayerReLU, width 512, n = 200,
    3000 steps of 1.9 / lambda_max: training margins within RELU_GD_MARGIN of gamma = 1, and
    the aligned-minus-conflicting gap grows from rho_lo to rho_lo + 0.3 (rho pairs 0.3 apart because
    the seed noise at n = 200 is ~0.05)."""
    common = dict(n=200, dim=DIM, seed=seed % 10**6, width=512)
    rhos = [rho_lo, rho_lo + Fraction(3, 10)]
    lo, hi = (trained_network_margins(1, Fraction(13, 10), rho, Fraction(36, 100), **common) for rho in rhos)
    check = checks.all_of(*(checks.at_most("trained network max |y f / gamma - 1|", m.train_error, RELU_GD_MARGIN)
                            for m in (lo, hi)), checks.margin_gap_grows(rhos, [lo.gap, hi.gap]))
    assert check.ok, check.detail


@pytest.mark.claim("E4")
@slow_property(1, ci=0)         # no pinned draw: skipped in the default run (module docstring), searched under dev/thorough
@given(seed=seeds())
def test_trained_network_approaches_its_ntk_prediction_as_width_grows(seed):
    """After 100 steps of eta = 1 / lambda_max, the trained network's test outputs against the NTK
    prediction (analytic relu_ntk, the same steps): widths 16x apart, 2 seeds; the error decreases
    and its log-log slope is -1/2 within WIDTH_SLOPE (init fluctuation and kernel drift are both
    O(1/sqrt(width)); measured -0.39, -0.41 at 100 and 400 steps).
    Negative control on the same networks: against the NNGP's prediction (first-layer term removed)
    the gap does not close: it flattens (slope outside -1/2 +- WIDTH_SLOPE) and stays NNGP_CONTROL_FACTOR
    times the NTK gap."""
    s = seed % 10**6
    gap = linearization_gap(1, Fraction(13, 10), Fraction(9, 10), Fraction(36, 100), n=100, dim=10,
                            widths=(64, 1024, 16384), seeds=[s, s + 1], steps=100)
    check = checks.linearization_gap(gap)
    assert check.ok, check.detail
