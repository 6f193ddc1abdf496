"""E3 and E4: after training, conflicting margins fall with rho and variance; the trained network
tracks its NTK prediction, closer as width grows (THEORY.md 7, 8).

E3 kernel regression: min-norm interpolation with relu_ntk, n = 800 (exact counts), d = 20,
balanced test set of 200 points per cluster; each rho (or variance) pair shares its seed, i.e. the
same noise rows (numerics.experiments.relu). Seed noise of a paired difference of conflicting
margins: standard deviation 0.03 (30 seeds; beta/alpha = 0.8 and 1.25, var 0.36); the smallest mean
effect in the drawn ranges is 0.10 (rho 0.5 -> 0.7, beta/alpha = 0.8), 3.5 standard deviations: a strict
decrease is required, no noise allowance (a 40-draw scan of the ranges below: largest paired
difference -0.10 for rho, -0.056 for doubling the variance).
"""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from numerics.experiments.relu import kernel_regression_margins, linearization_gap, trained_network_margins
from numerics.tolerances import (RELU_E3_SYMMETRY_BAND, RELU_GD_MARGIN, RELU_KERNEL_MARGIN,
                                 WIDTH_SLOPE)
from theory.strategies import seeds

N, DIM = 800, 20



saliences = st.fractions(Fraction(4, 5), Fraction(5, 4), max_denominator=20)
noise_levels = st.fractions(Fraction(1, 4), Fraction(16, 25), max_denominator=100)


def _margins(salience, rho, var, seed, **kwargs):
    return kernel_regression_margins(1, salience, rho, var, n=N, dim=DIM, seed=seed % 10**6, **kwargs)


@pytest.mark.claim("E3")
@settings(max_examples=10)
@given(salience=saliences, var=noise_levels, rho_lo=st.fractions(Fraction(1, 2), Fraction(3, 4), max_denominator=20),
       gap=st.fractions(Fraction(1, 5), Fraction(2, 5), max_denominator=20), gamma=st.sampled_from([0.1, 1.0, 10.0]),
       seed=seeds())
def test_kernel_regression_conflicting_margin_falls_with_imbalance(salience, var, rho_lo, gap, gamma, seed):
    """Every training margin equals gamma (to RELU_KERNEL_MARGIN relative: the LU solve's rounding), yet
    fresh conflicting points lose margin as rho grows."""
    rho_hi = min(rho_lo + gap, Fraction(19, 20))
    lo, hi = _margins(salience, rho_lo, var, seed, gamma=gamma), _margins(salience, rho_hi, var, seed, gamma=gamma)
    assert lo.train_error <= RELU_KERNEL_MARGIN * gamma and hi.train_error <= RELU_KERNEL_MARGIN * gamma
    assert hi.conflicting < lo.conflicting


@pytest.mark.claim("E3")
@settings(max_examples=8)
@given(salience=saliences, var=noise_levels, rho=st.fractions(Fraction(7, 10), Fraction(19, 20), max_denominator=20),
       seed=seeds())
def test_kernel_regression_conflicting_margin_falls_with_variance(salience, var, rho, seed):
    """Doubling the variance on the same noise draw (X = mean + sqrt(var) Z) lowers the conflicting margin."""
    assert _margins(salience, rho, 2 * var, seed).conflicting < _margins(salience, rho, var, seed).conflicting


@pytest.mark.claim("E3")
@settings(max_examples=6)
@given(salience=saliences, var=noise_levels, seed=seeds())
def test_negative_control_balanced_training_set_has_no_conflicting_deficit(salience, var, seed):
    """rho = 1/2: conflicting and aligned clusters are mirror images under x_b -> -x_b (the ReLU NTK is
    invariant), so their mean margins agree up to seed noise (RELU_E3_SYMMETRY_BAND, > 3 standard
    deviations). The band has power: at rho = 0.9 (same seed) the deficit exceeds it."""
    balanced = _margins(salience, Fraction(1, 2), var, seed)
    assert abs(balanced.aligned - balanced.conflicting) < RELU_E3_SYMMETRY_BAND
    imbalanced = _margins(salience, Fraction(9, 10), var, seed)
    assert imbalanced.aligned - imbalanced.conflicting > RELU_E3_SYMMETRY_BAND


@pytest.mark.claim("E3")
@settings(max_examples=4)
@given(salience=saliences, rho=st.fractions(Fraction(7, 10), Fraction(19, 20), max_denominator=20), seed=seeds())
def test_negative_control_vanishing_variance_fits_every_cluster(salience, rho, seed):
    """var -> 0: the within-cluster ridge disappears (G1) and every cluster is fitted, conflicting ones
    included: at var = 1e-6 the conflicting margin is gamma = 1 within 1e-2, while at var = 1/4 it is
    off by over 10x more. (|1 - margin| is NOT monotone at small variance: one dev-seed run found
    2.5e-4, 4.2e-3, 1.7e-3 at var = 1e-2, 1e-3, 1e-4 -- the signed deviation crosses zero.)"""
    gaps = [abs(1 - _margins(salience, rho, var, seed, test_per_cluster=50).conflicting)
            for var in (Fraction(1, 4), Fraction(1, 10**6))]
    assert gaps[1] < 1e-2
    assert gaps[0] > 10 * gaps[1]


@pytest.mark.claim("E3")
@settings(max_examples=2)
@example(rho_lo=Fraction(10, 17), seed=66568095)   # thorough run: train error 0.067 after 1500 steps (now 0.0074)
@given(rho_lo=st.fractions(Fraction(1, 2), Fraction(3, 5), max_denominator=20), seed=seeds())
def test_trained_network_conflicting_margin_falls_with_imbalance(rho_lo, seed):
    """Real full-batch gradient descent of an antisymmetric (f_0 = 0) TwoLayerReLU, width 512, n = 200,
    3000 steps of 1.9 / lambda_max: training margins within RELU_GD_MARGIN of gamma = 1, and
    the conflicting margin falls from rho_lo to rho_lo + 0.3 (the paired effect is >= 0.2 at n = 200;
    rho pairs 0.3 apart because the seed noise at n = 200 is ~0.05)."""
    common = dict(n=200, dim=DIM, seed=seed % 10**6, width=512)
    lo = trained_network_margins(1, Fraction(13, 10), rho_lo, Fraction(36, 100), **common)
    hi = trained_network_margins(1, Fraction(13, 10), rho_lo + Fraction(3, 10), Fraction(36, 100), **common)
    assert lo.train_error < RELU_GD_MARGIN and hi.train_error < RELU_GD_MARGIN
    assert hi.conflicting < lo.conflicting


@pytest.mark.claim("E4")
@settings(max_examples=1)
@given(seed=seeds())
def test_trained_network_approaches_its_ntk_prediction_as_width_grows(seed):
    """After 100 steps of eta = 1 / lambda_max, the trained network's test outputs against the NTK
    prediction (analytic relu_ntk, the same steps): widths 16x apart, 2 seeds; the error decreases
    and its log-log slope is -1/2 within WIDTH_SLOPE (init fluctuation and kernel drift are both
    O(1/sqrt(width)); measured -0.39, -0.41 at 100 and 400 steps).
    Negative control on the same networks: against the NNGP's prediction (first-layer term removed)
    the gap does not close: it flattens (slope outside -1/2 +- WIDTH_SLOPE) and stays > 3x the NTK gap."""
    s = seed % 10**6
    gap = linearization_gap(1, Fraction(13, 10), Fraction(9, 10), Fraction(36, 100), n=100, dim=10,
                            widths=(64, 1024, 16384), seeds=[s, s + 1], steps=100)
    assert np.all(np.diff(gap.errors) < 0)
    assert abs(gap.slope + 0.5) < WIDTH_SLOPE
    assert abs(gap.control_slope + 0.5) >= WIDTH_SLOPE
    assert gap.control_errors[-1] > 3 * gap.errors[-1]
