"""R1: the two-layer ReLU network's NTK, analytic (arc-cosine) and empirical (docs/theory.md)."""
import mpmath
import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from inputs import nearly_parallel_pair
from scipy.integrate import quad

from numerics import checks
from numerics.experiments.relu import relu_width_convergence, strategy_disagreement
from numerics.kernels import empirical_ntk, relu_nngp, relu_ntk
from numerics.models import OneLayerLinear, TwoLayerReLU
from numerics.pytest_plugin import examples
from numerics.tolerances import (
    CLOSED_FORM_ROUNDING,
    EIGEN_RESIDUAL,
    EPS,
    FEW_ULPS,
    FLOAT32_SUM_FACTOR,
    NEGATIVE_CONTROL_FACTOR,
    QUADRATURE,
    STRATEGY_AGREEMENT,
)
from theory.strategies import seeds

pytestmark = pytest.mark.claim("R1")


def _inputs(seed, n, d):
    return np.random.default_rng(seed).standard_normal((n, d))


def _with_edge_rows(X, seed):
    """X plus a duplicate row, an antiparallel (scaled) row and a zero row."""
    c = 0.5 + np.random.default_rng(seed).random()
    return np.vstack([X, X[:1], -c * X[1:2], np.zeros((1, X.shape[1]))])


@given(seed=seeds(), n=st.integers(1, 10), d=st.integers(1, 12))
def test_diagonal_is_the_theta_zero_value(seed, n, d):
    """Independent: substitute theta = 0 into the R1 formulas with SymPy: sin 0 + (pi - 0) cos 0 = pi,
    so NNGP = r/2 and NTK = r/2 + q/2 with q = r = |x|^2/d. The computed theta of x with itself is
    arccos(1 - O(eps)) = O(sqrt eps) and the formulas are flat to second order there, so the
    relative error is O(eps): allow 8 eps."""
    theta, q, r = sp.symbols("theta q r", nonnegative=True)
    nngp = r * (sp.sin(theta) + (sp.pi - theta) * sp.cos(theta)) / (2 * sp.pi)
    ntk = nngp + q * (sp.pi - theta) / (2 * sp.pi)
    nngp0, ntk0 = (sp.lambdify(r, f.subs({theta: 0, q: r})) for f in (nngp, ntk))
    X = _inputs(seed, n, d)
    sq = np.sum(X**2, axis=1) / d
    assert np.allclose(np.diag(relu_nngp(X)), nngp0(sq), rtol=8 * EPS, atol=0)
    assert np.allclose(np.diag(relu_ntk(X)), ntk0(sq), rtol=8 * EPS, atol=0)


@given(seed=seeds(), d=st.integers(2, 12), scale=st.floats(0.1, 10))
def test_hand_derived_values_at_right_and_straight_angles(seed, d, scale):
    """Derived by hand from the expectations, not from the formula code. u = w.x/sqrt d and
    v = w.x'/sqrt d are jointly Gaussian with variances |x|^2/d, |x'|^2/d.
    theta = pi/2: u, v independent, so NNGP = E[relu u] E[relu v] = (|x|/sqrt(2 pi d)) (|x'|/sqrt(2 pi d))
    = |x||x'| / (2 pi d), and the first-layer term is q P(...) = 0 since q = 0.
    theta = pi: v = -c u, so relu(u) relu(v) = 0 and 1[u > 0] 1[v > 0] = 0: both kernels vanish
    (to rounding: float sin(pi) ~ 1e-16)."""
    x, z = _inputs(seed, 2, d)
    z -= (z @ x) / (x @ x) * x                       # orthogonal to x
    right = np.array([x, scale * z])
    value = np.linalg.norm(x) * scale * np.linalg.norm(z) / (2 * np.pi * d)
    assert relu_nngp(right)[0, 1] == pytest.approx(value, rel=CLOSED_FORM_ROUNDING)
    assert relu_ntk(right)[0, 1] == pytest.approx(value, rel=CLOSED_FORM_ROUNDING, abs=FEW_ULPS * np.linalg.norm(x) ** 2)
    straight = np.array([x, -scale * x])
    rounding = 4 * EPS * scale * (x @ x) / d          # sin(float pi) ~ 1e-16, times r
    assert abs(relu_nngp(straight)[0, 1]) <= rounding and abs(relu_ntk(straight)[0, 1]) <= rounding


@settings(max_examples=examples(10))
@given(theta=st.floats(0, np.pi), ratio=st.floats(0.2, 5), d=st.integers(2, 10))
def test_formula_equals_one_dimensional_quadrature(theta, ratio, d):
    """An independent algorithm: in polar coordinates of the 2-D Gaussian (u, v) = (cos phi,
    cos(phi - theta)) R with E[R^2] = 2 and phi uniform, so
        NNGP / r = (1/pi) int relu(cos phi) relu(cos(phi - theta)) dphi,
        P(u > 0, v > 0) = (1/2pi) int 1[cos phi > 0] 1[cos(phi - theta) > 0] dphi,
    integrated over one period by adaptive quadrature with the kinks as breakpoints (error ~1e-13;
    1e-9 relative leaves room for arccos's sqrt(eps) conditioning near theta = 0 and pi)."""
    x = np.zeros(d)
    x[0] = 1.0
    x2 = np.zeros(d)
    x2[0], x2[1] = ratio * np.cos(theta), ratio * np.sin(theta)
    lo, hi = -np.pi / 2, 3 * np.pi / 2                    # one full period, starting at a kink
    kinks = [np.pi / 2, theta - np.pi / 2, theta + np.pi / 2]

    def average(f):
        return quad(f, lo, hi, points=kinks, epsabs=FEW_ULPS, epsrel=QUADRATURE / 1e4, limit=200)[0] / (2 * np.pi)

    relu_product = 2 * average(lambda p: max(np.cos(p), 0) * max(np.cos(p - theta), 0))
    both_positive = average(lambda p: float(np.cos(p) > 0 and np.cos(p - theta) > 0))
    r, q = ratio / d, x @ x2 / d
    X = np.array([x, x2])
    assert relu_nngp(X)[0, 1] == pytest.approx(r * relu_product, rel=QUADRATURE, abs=CLOSED_FORM_ROUNDING)
    assert relu_ntk(X)[0, 1] == pytest.approx(r * relu_product + q * both_positive, rel=QUADRATURE,
                                               abs=CLOSED_FORM_ROUNDING)


def _reference_kernels(x, x2):
    """(NNGP, NTK) of docs/theory.md in 50-digit arithmetic from the exact float inputs."""
    with mpmath.workdps(50):
        x, x2 = [mpmath.mpf(float(v)) for v in x], [mpmath.mpf(float(v)) for v in x2]
        d = len(x)
        q = mpmath.fsum(a * b for a, b in zip(x, x2)) / d
        r = mpmath.sqrt(mpmath.fsum(a * a for a in x) * mpmath.fsum(b * b for b in x2)) / d
        theta = mpmath.acos(q / r)
        nngp = r * (mpmath.sin(theta) + (mpmath.pi - theta) * mpmath.cos(theta)) / (2 * mpmath.pi)
        return float(nngp), float(nngp + q * (mpmath.pi - theta) / (2 * mpmath.pi)), float(r)


@given(seed=seeds(), d=st.integers(2, 8), log_angle=st.floats(-9, -1), antiparallel=st.booleans(),
       ratio=st.floats(0.1, 10))
def test_nearly_parallel_and_antiparallel_pairs_against_50_digit_arithmetic(seed, d, log_angle, antiparallel, ratio):
    """Angles 10^[-9, -1] from 0 or from pi, on both sides of the |cos| = 1 - 1e-4 switch to the
    chord formula. With theta accurate to a few eps (absolute), and |d kernel / d theta| <= r,
    the error is <= 64 eps r; arccos alone errs by ~sqrt(eps) near 0 and ~eps / angle near pi."""
    x, x2 = nearly_parallel_pair(seed, d, log_angle, antiparallel, ratio)
    nngp, ntk, r = _reference_kernels(x, x2)
    X = np.array([x, x2])
    assert abs(relu_nngp(X)[0, 1] - nngp) <= 64 * EPS * r
    assert abs(relu_ntk(X)[0, 1] - ntk) <= 64 * EPS * r


@given(seed=seeds(), n1=st.integers(1, 5), n2=st.integers(1, 5), d=st.integers(1, 6))
def test_cross_kernels_are_blocks_of_the_joint_gram(seed, n1, n2, d):
    """k(X1, X2) is the off-diagonal block of k([X1; X2]) for both kernels (same pairs, same
    arithmetic: equal to rounding of the pairwise formula, 64 eps r)."""
    X = _inputs(seed, n1 + n2, d)
    r = np.outer(np.linalg.norm(X, axis=1), np.linalg.norm(X, axis=1)) / d
    for kernel in (relu_nngp, relu_ntk):
        cross = kernel(X[:n1], X[n1:])
        assert cross.shape == (n1, n2)
        assert np.all(np.abs(cross - kernel(X)[:n1, n1:]) <= 64 * EPS * r[:n1, n1:])


def test_auto_method_is_the_factorized_route_for_the_relu_mlp():
    X = torch.tensor(_inputs(3, 6, 4))
    model = TwoLayerReLU(4, 32, seed=3)
    assert torch.equal(empirical_ntk(model, X), empirical_ntk(model, X, method="mlp_factorized"))


@given(seed=seeds(), n=st.integers(1, 8), d=st.integers(1, 8), log_scale=st.floats(-6, 6))
def test_scales_1e_minus_6_to_1e6_keep_relative_accuracy(seed, n, d, log_scale):
    """Both kernels are 2-homogeneous, k(c x, c x') = c^2 k(x, x') (r and q scale by c^2, theta
    not at all), so relative accuracy must not depend on the scale: entrywise within 64 eps of
    r = |x||x'|/d (the bound used above), on edge rows too."""
    X = _with_edge_rows(_inputs(seed, n, d), seed)
    c = 10.0**log_scale
    r = np.outer(np.linalg.norm(X, axis=1), np.linalg.norm(X, axis=1)) / d
    for kernel in (relu_nngp, relu_ntk):
        assert np.all(np.abs(kernel(c * X) / c**2 - kernel(X)) <= 64 * EPS * r)


@given(seed=seeds(), n=st.integers(2, 30), d=st.integers(1, 12))
def test_gram_is_symmetric_psd_and_finite_on_edge_rows(seed, n, d):
    """Duplicate, antiparallel and zero rows included: no NaN, symmetric to rounding, and PSD
    (smallest eigenvalue >= -EIGEN_RESIDUAL largest: eigh's backward error is ~n eps ||K||)."""
    X = _with_edge_rows(_inputs(seed, n, d), seed)
    for kernel in (relu_ntk, relu_nngp):
        K = kernel(X)
        assert np.all(np.isfinite(K))
        assert np.max(np.abs(K - K.T)) <= 4 * EPS * np.max(np.abs(K))
        values = np.linalg.eigvalsh(K)
        assert values[0] >= -EIGEN_RESIDUAL * values[-1]
        assert np.all(K[-1] == 0)                    # the zero row: k = 0 (continuous extension)


@given(seed=seeds(), n=st.integers(1, 8), n2=st.integers(1, 8), d=st.integers(1, 8), width=st.integers(1, 40))
def test_every_empirical_strategy_agrees_to_rounding(seed, n, n2, d, width):
    """jacobian, ntvp, mlp_factorized and auto compute the same sums in different orders:
    agreement to STRATEGY_AGREEMENT relative (float64, a few hundred ulps)."""
    X = _with_edge_rows(_inputs(seed, n + 1, d), seed)
    check = checks.all_of(checks.strategies_agree(strategy_disagreement(X, width, seed=seed % 1000)),
                          checks.strategies_agree(strategy_disagreement(X, width, seed=seed % 1000,
                                                                        X2=_inputs(seed + 1, n2, d))))
    assert check.ok, check.detail


@given(seed=seeds())
@settings(max_examples=examples(5))
def test_factorized_strategy_agrees_in_float32(seed):
    """float32: relative error of a sum of width terms ~ sqrt(width) eps32 ~ 3e-6 at width 512."""
    X = torch.tensor(_inputs(seed, 12, 16), dtype=torch.float32)
    model = TwoLayerReLU(16, 512, seed=seed % 1000, dtype=torch.float32)
    fast, slow = empirical_ntk(model, X, method="mlp_factorized"), empirical_ntk(model, X, method="jacobian")
    assert fast.dtype == torch.float32
    bound = np.sqrt(512) * float(torch.finfo(torch.float32).eps) * FLOAT32_SUM_FACTOR
    assert torch.linalg.norm(fast - slow) <= bound * torch.linalg.norm(slow)


@given(seed=seeds(), d=st.integers(1, 8), half=st.integers(1, 20))
def test_antisymmetric_init_has_zero_output_and_the_half_width_ntk(seed, d, half):
    """Doubling trick: units repeated with negated readout cancel in f_0, and each half contributes
    half the half-width NTK's terms with 1/(2 half) instead of 1/half: the NTKs are equal."""
    X = torch.tensor(_inputs(seed, 6, d))
    doubled = TwoLayerReLU(d, 2 * half, seed=seed % 1000, antisymmetric=True)
    single = TwoLayerReLU(d, half, seed=seed % 1000)
    assert torch.max(torch.abs(doubled(X))) <= FEW_ULPS * (1 + torch.max(torch.abs(single(X))))
    K2, K1 = empirical_ntk(doubled, X), empirical_ntk(single, X)
    assert torch.max(torch.abs(K2 - K1)) <= STRATEGY_AGREEMENT * torch.max(torch.abs(K1))


@settings(max_examples=examples(3))
@given(seed=seeds())
def test_empirical_ntk_converges_at_rate_one_over_sqrt_width(seed):
    """Widths 16x apart, 8 seeds averaged (docs/theory.md: the error is random; measured spread of the
    fitted slope +-0.05 over 5 inputs). Theory: error ~ C / sqrt(width), slope -1/2 within WIDTH_SLOPE."""
    X = _inputs(seed, 10, 8)
    result = relu_width_convergence(X, (64, 1024, 16384), seeds=range(seed % 97, seed % 97 + 8))
    check = checks.width_rate(result)
    assert check.ok, check.detail


def test_negative_control_the_nngp_alone_is_not_the_limit():
    """Dropping the first-layer term q (pi - theta)/(2 pi) breaks the match: at width 16384, where the
    true limit is met to ~2%, the NNGP is off by O(1) (the first-layer term is about half the NTK):
    more than NEGATIVE_CONTROL_FACTOR times the right limit's error."""
    X = _inputs(0, 10, 8)
    K = empirical_ntk(TwoLayerReLU(8, 16384, seed=0), torch.tensor(X)).numpy()
    right = np.linalg.norm(K - relu_ntk(X)) / np.linalg.norm(relu_ntk(X))
    wrong = np.linalg.norm(K - relu_nngp(X)) / np.linalg.norm(relu_ntk(X))
    check = checks.at_least("NNGP-limit error over NTK-limit error at width 16384", wrong / right, NEGATIVE_CONTROL_FACTOR)
    assert check.ok, check.detail


@pytest.mark.parametrize("make, error, message", [
    (lambda: relu_ntk(np.array([[np.nan, 1.0]])), ValueError, "X1 must be finite"),
    (lambda: relu_ntk(np.ones((2, 3)), np.ones((2, 2))), ValueError, "same number of columns"),
    (lambda: relu_nngp(np.ones(3)), ValueError, "X1 must be a 2-D array"),
    (lambda: TwoLayerReLU(3, 5, seed=0, antisymmetric=True), ValueError, "width must be even"),
    (lambda: TwoLayerReLU(0, 5, seed=0), ValueError, "d must be a positive integer"),
    (lambda: TwoLayerReLU(3, 4, seed=None), TypeError, "seed must be an int"),
    (lambda: empirical_ntk(OneLayerLinear(2), torch.ones(2, 2, dtype=torch.float64), method="mlp_factorized"),
     TypeError, "model must be a TwoLayerReLU"),
])
def test_bad_input_raises_a_clear_error(make, error, message):
    with pytest.raises(error, match=message):
        make()
