"""P1: the parity of the ReLU NTK (docs/theory.md), and the deep ReLU kernels and networks it needs (R1).

Expected values come from neural-tangents (tests/data/nt_reference.json, written by scripts/nt_reference.py),
a 50-digit evaluation of the recursion, SymPy (theory.parity) or the hand-derived x.x'/(2d) law, never from
the code under test.
"""
import json
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from inputs import nearly_parallel_pair

from numerics import tolerances as tol
from numerics.checks import all_of, p1_odd_part_exact, p1_odd_part_linear, p1_odd_part_nonlinear, relu_kernel_reference, width_rate
from numerics.experiments.relu import relu_width_convergence
from numerics.kernels import relu_nngp, relu_ntk
from numerics.models import ReLUMLP, TwoLayerReLU
from numerics.pytest_plugin import examples
from theory.parity import W_STD, depth_one_odd_coefficients, odd_cubic_coefficient
from theory.strategies import seeds

FIXTURE = json.loads((Path(__file__).parent / "data" / "nt_reference.json").read_text())
W_STDS = st.floats(0.5, 2.0)
B_STDS = st.one_of(st.just(0.0), st.floats(0.1, 2.0))


def _odd_part(kernel, X, **architecture):
    """(k(x_i, x_j) - k(x_i, -x_j)) / 2 for all pairs of rows of X."""
    return (kernel(X, **architecture) - kernel(X, -X, **architecture)) / 2


# ---- R1: deep ReLU kernels ----------------------------------------------------------------------
@pytest.mark.claim("R1")
@pytest.mark.parametrize("setting", FIXTURE["settings"],
                         ids=lambda s: f"depth{s['depth']}-W{s['W_std']}-b{s['b_std']}")
def test_deep_kernels_match_neural_tangents(setting):
    """Gram and cross kernels, NNGP and NTK, against neural-tangents 0.6.5 in float64 (RELU_NT_REFERENCE)."""
    X, X2 = np.array(FIXTURE["X"]), np.array(FIXTURE["X2"])
    architecture = {k: setting[k] for k in ("depth", "W_std", "b_std")}
    check = all_of(*(relu_kernel_reference(kernel(X, other, **architecture), setting[key], tol.RELU_NT_REFERENCE)
                     for kernel, name in ((relu_nngp, "nngp"), (relu_ntk, "ntk"))
                     for other, key in ((None, name), (X2, "cross_" + name))))
    assert check.ok, check.detail


def _reference_kernels(x, x2, depth, W_std, b_std):
    """(NNGP, NTK) of docs/theory.md's recursion in 50-digit arithmetic from the exact float inputs (plain acos:
    at 50 digits its sqrt(eps) loss near 0 and pi is ~1e-25)."""
    with mpmath.workdps(50):
        x, x2 = [mpmath.mpf(float(v)) for v in x], [mpmath.mpf(float(v)) for v in x2]
        W2, b2, d = mpmath.mpf(W_std) ** 2, mpmath.mpf(b_std) ** 2, len(x)
        s12 = W2 * mpmath.fsum(a * c for a, c in zip(x, x2)) / d + b2
        s11, s22 = (W2 * mpmath.fsum(a * a for a in v) / d + b2 for v in (x, x2))
        ntk = s12
        for _ in range(depth):
            theta = mpmath.acos(max(-1, min(1, s12 / mpmath.sqrt(s11 * s22))))
            j = mpmath.sin(theta) + (mpmath.pi - theta) * mpmath.cos(theta)
            s12 = W2 * mpmath.sqrt(s11 * s22) * j / (2 * mpmath.pi) + b2
            ntk = s12 + W2 * (mpmath.pi - theta) / (2 * mpmath.pi) * ntk
            s11, s22 = W2 * s11 / 2 + b2, W2 * s22 / 2 + b2
        return float(s12), float(ntk)


@pytest.mark.claim("R1")
@given(seed=seeds(), d=st.integers(2, 8), depth=st.integers(1, 4), W_std=W_STDS, b_std=B_STDS,
       log_angle=st.floats(-9, -1), antiparallel=st.booleans(), ratio=st.floats(0.1, 10))
def test_deep_kernels_at_nearly_parallel_pairs_against_50_digit_arithmetic(seed, d, depth, W_std, b_std, log_angle,
                                                                           antiparallel, ratio):
    """Angles 10^[-9, -1] from 0 or pi, across the chord switch at the input layer, at every depth: within
    RELU_DEEP_NEAR_PARALLEL of sqrt(Theta(x, x) Theta(x', x')) (a plain arccos per layer errs by ~1e-8)."""
    x, x2 = nearly_parallel_pair(seed, d, log_angle, antiparallel, ratio)
    architecture = {"depth": depth, "W_std": W_std, "b_std": b_std}
    nngp, ntk = _reference_kernels(x, x2, **architecture)
    scale = np.sqrt(_reference_kernels(x, x, **architecture)[1] * _reference_kernels(x2, x2, **architecture)[1])
    X = np.array([x, x2])
    errors = [abs(relu_nngp(X, **architecture)[0, 1] - nngp), abs(relu_ntk(X, **architecture)[0, 1] - ntk)]
    assert max(errors) <= tol.RELU_DEEP_NEAR_PARALLEL * scale


@pytest.mark.claim("R1")
@given(seed=seeds(), n=st.integers(1, 6), d=st.integers(1, 6), depth=st.integers(1, 4), W_std=W_STDS)
def test_bias_free_zero_rows_give_zero_at_every_depth(seed, n, d, depth, W_std):
    """With b_std = 0 a zero input row has every hidden activation relu(0) = 0 and no gradient: its kernel row is
    exactly 0 (no NaN from the 0/0 angle), with duplicate and antiparallel rows present."""
    X = np.random.default_rng(seed).standard_normal((n, d))
    X = np.vstack([X, X[:1], -0.5 * X[:1], np.zeros((1, d))])
    for kernel in (relu_nngp, relu_ntk):
        K = kernel(X, depth=depth, W_std=W_std)
        assert np.all(np.isfinite(K)) and np.all(K[-1] == 0) and np.all(K[:, -1] == 0)


# ---- R1: finite deep ReLU networks -------------------------------------------------------------
@pytest.mark.claim("R1")
@given(seed=seeds(), d=st.integers(1, 6), width=st.integers(1, 40))
def test_relu_mlp_depth_one_bias_free_is_two_layer_relu(seed, d, width):
    """ReLUMLP(d, width, 1) draws TwoLayerReLU's weights (same generator stream, same order) and computes the
    same function: outputs agree to the rounding of a width-term sum, width eps sum_k |terms_k|."""
    mlp, two = ReLUMLP(d, width, 1, seed=seed % 1000), TwoLayerReLU(d, width, seed=seed % 1000)
    assert torch.equal(mlp.weights[0], two.hidden) and torch.equal(mlp.weights[1][0], two.readout)
    assert len(mlp.biases) == 0
    X = torch.tensor(np.random.default_rng(seed).standard_normal((5, d)))
    terms = torch.relu(two.preactivation(X)).abs() @ two.readout.abs() / np.sqrt(width)
    assert torch.all(torch.abs(mlp(X) - two(X)) <= width * tol.EPS * terms)


WIDTH_SETTINGS = [(1, 1.0, 0.5), (2, 1.0, 0.0), (2, 1.5, 0.5), (3, 1.0, 0.0)]


@pytest.mark.claim("R1")
@pytest.mark.parametrize("depth, W_std, b_std", WIDTH_SETTINGS)
@settings(max_examples=examples(2))
@given(seed=seeds())
def test_relu_mlp_ntk_converges_to_the_deep_kernel(depth, W_std, b_std, seed):
    """docs/theory.md: the empirical NTK (method "jacobian") of ReLUMLP tends to relu_ntk(depth, W_std, b_std):
    widths 32 and 512 (16x apart), 16 seeds averaged, log-log slope -1/2 within WIDTH_SLOPE (measured over 25
    input sets per setting: |slope + 1/2| <= 0.155). Depth 3 with b_std = 0.5 is pre-asymptotic at width 32 (one
    input set gave 0.23 at 16 seeds, 0.16 at 32); its kernel is checked against neural-tangents instead."""
    X = np.random.default_rng(seed).standard_normal((6, 4))
    first = seed % 1000
    result = relu_width_convergence(X, (32, 512), seeds=range(first, first + 16), depth=depth, W_std=W_std, b_std=b_std)
    check = width_rate(result)
    assert check.ok, check.detail


@pytest.mark.claim("R1")
@pytest.mark.parametrize("make, message", [
    (lambda: relu_ntk(np.ones((2, 2)), depth=0), "depth must be a positive integer"),
    (lambda: relu_nngp(np.ones((2, 2)), depth=1.0), "depth must be a positive integer"),
    (lambda: relu_ntk(np.ones((2, 2)), W_std=0.0), "W_std must be a finite number > 0"),
    (lambda: relu_ntk(np.ones((2, 2)), W_std=float("inf")), "W_std must be a finite number > 0"),
    (lambda: relu_nngp(np.ones((2, 2)), b_std=-0.1), "b_std must be a finite number >= 0"),
    (lambda: relu_ntk(np.ones((2, 2)), b_std=float("nan")), "b_std must be a finite number >= 0"),
    (lambda: relu_ntk(np.ones((2, 2)), b_std=True), "b_std must be a finite number >= 0"),
    (lambda: ReLUMLP(3, 4, 0, seed=0), "depth must be a positive integer"),
    (lambda: ReLUMLP(3, 4, 2, W_std=-1.0, seed=0), "W_std must be a finite number > 0"),
    (lambda: ReLUMLP(3, 0, 2, seed=0), "width must be a positive integer"),
])
def test_bad_architecture_raises_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ---- P1: exact ---------------------------------------------------------------------------------
@pytest.mark.claim("P1")
def test_sympy_proves_the_depth_one_odd_part_is_linear():
    """Hand derivation (theory.parity): J(theta) - J(pi - theta) = pi cos theta, so the odd parts of the bias-free
    one-hidden-layer NNGP and NTK are W_std^4 x.x'/(4d) and W_std^4 x.x'/(2d); SymPy proves it in theta, r."""
    assert depth_one_odd_coefficients() == (W_STD**4 / 4, W_STD**4 / 2)


@pytest.mark.claim("P1")
@given(seed=seeds(), n=st.integers(1, 10), d=st.integers(1, 12), W_std=W_STDS, log_scale=st.floats(-3, 3))
def test_depth_one_bias_free_odd_part_is_half_the_linear_kernel(seed, n, d, W_std, log_scale):
    """Numerics of the proof: (k(x, x') - k(x, -x')) / 2 = W_std^4 x.x'/(2d) for the NTK (and / (4d) for the
    NNGP) on drawn inputs with duplicate, antiparallel and zero rows, within relu_odd_part_rounding(d) of
    W_std^4 |x||x'|/d."""
    rng = np.random.default_rng(seed)
    X = 10.0**log_scale * rng.standard_normal((n, d))
    X = np.vstack([X, X[:1], -(0.5 + rng.random()) * X[:1], np.zeros((1, d))])
    linear, norms = X @ X.T / d, np.linalg.norm(X, axis=1)
    scale = W_std**4 * np.outer(norms, norms) / d
    bound = tol.relu_odd_part_rounding(d)
    check = all_of(p1_odd_part_exact(_odd_part(relu_ntk, X, W_std=W_std), W_std**4 * linear / 2, scale, bound),
                   p1_odd_part_exact(_odd_part(relu_nngp, X, W_std=W_std), W_std**4 * linear / 4, scale, bound))
    assert check.ok, check.detail


# ---- P1: companion (not linear with depth or biases) and its negative control -------------------
@pytest.mark.claim("P1")
@pytest.mark.parametrize("depth, W_std, b_std", [(2, 1, 0), (3, 1, 0), (1, 1, sp.Rational(1, 2)),
                                                 (2, sp.Rational(3, 2), sp.Rational(1, 2))])
def test_sympy_odd_part_has_a_cubic_term_with_depth_or_biases(depth, W_std, b_std):
    """Exact witness: the odd part as a function of the cosine c (equal |x|^2/d = 1) has a positive c^3 Taylor
    coefficient; the bias-free depth-1 control has exactly none (it is linear)."""
    assert odd_cubic_coefficient(depth, W_std, b_std).is_positive
    assert sp.simplify(odd_cubic_coefficient(1, W_std, 0)) == 0


def _visible_nonlinearity_inputs(seed, n, d, W_std, b_std):
    """n points in dimension d where a nonlinear odd part shows (assume()s with reasons):
    - row scales W_std |x| / sqrt(d) in [b_std / 2, 2 b_std] (any fixed scale when b_std = 0: the kernel is then
      homogeneous): at depth 1 the nonlinearity comes from b_std^2 against W_std^2 |x|^2 / d and vanishes when either
      dominates;
    - at least P1_VISIBLE_FRACTION of the off-diagonal pairs with |cos| in P1_VISIBLE_COSINES: the nonlinear part of the odd part is
      ~ c - c^3 (theory.parity's cubic term), so pairs at cos in {0, +-1} (and the diagonal) fit a linear kernel
      exactly, and inputs with only such pairs (collinear or orthogonal sets) cannot show it."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    unit = b_std / W_std if b_std > 0 else 1.0
    X *= (unit * np.sqrt(d) * np.exp(rng.uniform(np.log(0.5), np.log(2), n)) / np.linalg.norm(X, axis=1))[:, None]
    unit_rows = X / np.linalg.norm(X, axis=1)[:, None]
    cosines = np.abs(unit_rows @ unit_rows.T)[~np.eye(n, dtype=bool)]
    low, high = tol.P1_VISIBLE_COSINES
    assume(np.mean((cosines >= low) & (cosines <= high)) >= tol.P1_VISIBLE_FRACTION)
    return X


@pytest.mark.claim("P1")
@given(seed=seeds(), n=st.integers(8, 14), d=st.integers(2, 4), depth=st.integers(1, 3), W_std=W_STDS, b_std=B_STDS)
def test_odd_part_is_not_linear_with_depth_or_biases_and_is_linear_without(seed, n, d, depth, W_std, b_std):
    """Companion and its negative control on the SAME inputs: with depth >= 2 or b_std > 0 the best linear fit
    c x.x' leaves >= P1_NONLINEAR_RESIDUAL of the odd part; the depth-1 bias-free kernel's odd part, by the
    same statistic, is rounding (<= relu_linear_residual_rounding(X), ~1e-13): the statistic tells them apart."""
    assume(depth > 1 or b_std > 0)
    X = _visible_nonlinearity_inputs(seed, n, d, W_std, b_std)
    linear = X @ X.T / d
    nonlinear = p1_odd_part_nonlinear(_odd_part(relu_ntk, X, depth=depth, W_std=W_std, b_std=b_std), linear,
                                      tol.P1_NONLINEAR_RESIDUAL)
    control = p1_odd_part_linear(_odd_part(relu_ntk, X, W_std=W_std), linear, tol.relu_linear_residual_rounding(X))
    assert nonlinear.ok, nonlinear.detail
    assert control.ok, control.detail
