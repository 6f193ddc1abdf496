"""N1: without within-cluster variance every cluster mean is fitted exactly (docs/theory.md)."""
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, example, given
from hypothesis import strategies as st

from numerics import checks
from numerics.experiments.linear_training import cluster_margins
from numerics.tolerances import CLOSED_FORM_ROUNDING, DESIGN_WEIGHTS, FEW_ULPS, INTERPOLATION_MARGIN, NEGATIVE_CONTROL_FACTOR
from numerics.training import min_norm_interpolant
from theory import GMM, linear
from theory.strategies import cluster_weights, variances

pytestmark = pytest.mark.claim("N1")


@st.composite
def general_position_gmms(draw, var=None):
    """m = 3 clusters in d = 3 with integer means (G = U^T U generically invertible)."""
    means = draw(st.lists(st.lists(st.integers(-3, 3), min_size=3, max_size=3), min_size=3, max_size=3))
    labels = draw(st.lists(st.sampled_from([-1, 1]), min_size=3, max_size=3))
    weights = draw(cluster_weights(3))
    return GMM.from_arrays(weights, means, labels, [draw(variances()) if var is None else var] * 3)


@given(gmm=general_position_gmms(var=0))
def test_zero_variance_fits_every_cluster_symbolically_and_numerically(gmm):
    assume(gmm.means.det() != 0)
    assert linear.cluster_outputs(gmm) == sp.Matrix(gmm.labels)
    check = checks.equal_training_margins(cluster_margins(gmm), 1, INTERPOLATION_MARGIN)
    assert check.ok, check.detail


@example(gmm=GMM.from_arrays([Fraction(1, 4), Fraction(1, 4), Fraction(1, 2)], [[-1, 0, 3], [-2, 0, 1], [-1, 1, -1]],
                             [1, -1, 1], [Fraction(1, 2)] * 3))     # an exactly-zero output (second cluster)
@given(gmm=general_position_gmms())
def test_control_variance_shrinks_every_cluster_output(gmm):
    """Power of the control: with s^2 > 0 the variance acts as a ridge and F != y; the trained
    model's cluster margins equal SymPy's Woodbury outputs."""
    assume(gmm.means.det() != 0 and gmm.isotropic_variance != 0)
    F = linear.cluster_outputs(gmm)
    assert F != sp.Matrix(gmm.labels)
    expected = np.array([float(l * f) for l, f in zip(gmm.labels, F)])
    # The margins come from one least-squares solve, whose error is normwise: bound it relative to
    # the largest margin (an exactly-zero margin occurs; the thorough profile found -1.7e-16 vs 0).
    check = checks.at_most("max |numeric - SymPy margins| / max |SymPy margin|",
                           np.max(np.abs(cluster_margins(gmm) - expected)) / np.abs(expected).max(), DESIGN_WEIGHTS)
    assert check.ok, check.detail



@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), d=st.integers(1, 12), rank=st.integers(1, 12),
       log_scale=st.floats(-6, 6))
def test_min_norm_interpolant_on_rank_deficient_designs(seed, n, d, rank, log_scale):
    """The stated pseudo-inverse rule (numerics/training.py) on rank-deficient Grams (n > d, or
    X = A B with rank r < min(n, d)), at scales 10^[-6, 6]. The minimum-norm least-squares w is
    the unique w with (a) X^T (X w - t) = 0 and (b) w in the row space of X = range(B^T), an
    independent basis. A backward-stable SVD solve has backward error ~ max(n, d) eps sigma_1
    (Golub and Van Loan 5.5), so (a) <= c eps sigma_1 |t| (1 + cond) and (b) <= c eps cond |w|."""
    rank = min(rank, n, d)
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((rank, d))
    X = 10.0**log_scale * rng.standard_normal((n, rank)) @ B
    t = rng.standard_normal(n)
    w = min_norm_interpolant(X, t)
    row_space = np.linalg.qr(B.T)[0]
    sigma = np.linalg.svd(X, compute_uv=False)
    condition = sigma[0] / sigma[rank - 1]
    c_eps = 64 * max(n, d) * np.finfo(float).eps
    assert np.linalg.norm(X.T @ (X @ w - t)) <= c_eps * sigma[0] * np.linalg.norm(t) * (1 + condition)
    off_row_space = np.linalg.norm(w - row_space @ (row_space.T @ w))
    assert off_row_space <= c_eps * condition * np.linalg.norm(w)
    if rank < d:   # negative control: w plus a null-space direction still solves (a), fails (b)
        null = np.linalg.svd(B)[2][rank]
        shifted = w + np.linalg.norm(w) * null
        # it leaves the row space by |w| (a unit null direction times |w|), far above c_eps condition |w|
        off = np.linalg.norm(shifted - row_space @ (row_space.T @ shifted))
        assert off > NEGATIVE_CONTROL_FACTOR * c_eps * condition * np.linalg.norm(w)


def test_trained_weights_of_a_singular_second_moment_are_the_pseudo_inverse_solution():
    """s^2 = 0 with dim = 3: M has a zero third row and column, so w = M^+ E[y x] (the limit of
    gradient descent from 0, docs/theory.md), checked against numpy's pinv of the float M."""
    gmm = GMM.canonical(1, 2, sp.Rational(9, 10), 0, dim=3)
    w = linear.trained_weights(gmm)
    M = np.array(linear.second_moment(gmm), dtype=float)
    m = np.array(linear.label_moment(gmm), dtype=float).ravel()
    assert np.linalg.matrix_rank(M) == 2 and w[2] == 0
    np.testing.assert_allclose(np.array(w, dtype=float).ravel(), np.linalg.pinv(M) @ m, rtol=CLOSED_FORM_ROUNDING,
                               atol=FEW_ULPS)


def test_cluster_outputs_need_isotropic_noise():
    with pytest.raises(ValueError, match=r"^gmm must have isotropic noise \(S = s\^2 I\) for the Woodbury route$"):
        linear.cluster_outputs(GMM.canonical(1, 2, sp.Rational(9, 10), 1, var_core=2))
