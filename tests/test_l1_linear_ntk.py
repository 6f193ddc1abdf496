"""L1: every linear network's NTK is c x.x' (docs/theory.md)."""
import copy

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics import checks
from numerics.experiments.linear import deep_linear_width_convergence, one_layer_ntk_error
from numerics.kernels import empirical_ntk, ntk_operator, ntk_vector_product
from numerics.models import DeepLinear
from numerics.pytest_plugin import examples
from numerics.tolerances import NEGATIVE_CONTROL_FACTOR, STRATEGY_AGREEMENT
from theory.strategies import seeds

pytestmark = pytest.mark.claim("L1")


def _inputs(seed, n, d):
    return np.random.default_rng(seed).standard_normal((n, d))


@given(seed=seeds(), n=st.integers(1, 12), d=st.integers(1, 8), method=st.sampled_from(["jacobian", "ntvp"]))
def test_one_layer_empirical_ntk_is_the_gram_exactly(seed, n, d, method):
    check = checks.one_layer_ntk(one_layer_ntk_error(_inputs(seed, n, d), method=method), d)
    assert check.ok, check.detail


@given(seed=seeds(), depth=st.integers(1, 3), width=st.integers(1, 16))
def test_jacobian_and_ntvp_strategies_agree(seed, depth, width):
    X = torch.tensor(_inputs(seed, 5, 4))
    model = DeepLinear(4, width, depth, seed=seed % 1000)
    a, b = empirical_ntk(model, X, method="jacobian"), empirical_ntk(model, X, method="ntvp")
    check = checks.strategies_agree(float(torch.max(torch.abs(a - b)) / torch.max(torch.abs(a))))
    assert check.ok, check.detail


@given(seed=seeds(), n1=st.integers(1, 6), n2=st.integers(1, 6), b=st.integers(1, 3))
def test_matrix_free_products_equal_the_formed_kernel(seed, n1, n2, b):
    """K v and K V from ntk_vector_product / ntk_operator against K formed by the jacobian route
    (two algorithms: vjp-then-jvp against per-parameter Jacobians), to STRATEGY_AGREEMENT of max|K| |V|."""
    rng = np.random.default_rng(seed)
    X1, X2 = torch.tensor(rng.standard_normal((n1, 3))), torch.tensor(rng.standard_normal((n2, 3)))
    model = DeepLinear(3, 5, 2, seed=seed % 1000)
    K12, K11 = empirical_ntk(model, X1, X2, method="jacobian"), empirical_ntk(model, X1, method="jacobian")
    v, V = torch.tensor(rng.standard_normal(n2)), torch.tensor(rng.standard_normal((n2, b)))
    product = ntk_vector_product(model, X1, X2)
    bound = STRATEGY_AGREEMENT * torch.abs(K12).max() * (1 + torch.abs(V).sum(0).max() + torch.abs(v).sum())
    assert product(v).shape == (n1,) and torch.max(torch.abs(product(v) - K12 @ v)) <= bound
    assert product(V).shape == (n1, b) and torch.max(torch.abs(product(V) - K12 @ V)) <= bound
    operator, W = ntk_operator(model, X1), rng.standard_normal((n1, b))
    assert operator.shape == (n1, n1)
    expected = K11.numpy() @ W
    scale = STRATEGY_AGREEMENT * np.abs(K11.numpy()).max() * (1 + np.abs(W).sum(0).max())
    assert np.abs(operator @ W - expected).max() <= scale
    assert np.abs(operator.matvec(W[:, 0]) - expected[:, 0]).max() <= scale
    assert np.abs(operator.rmatvec(W[:, 0]) - expected[:, 0]).max() <= scale   # K is symmetric


def test_float32_model_operator_is_float64_and_within_float32_rounding():
    """ntk_operator takes and returns float64 numpy (scipy's solvers need it) whatever the model's
    dtype; a float32 model's products match the float64 kernel of the same weights to float32
    rounding of sums over the P parameters: |error| <= sqrt(P) eps32 max|K| |V|_1 (statistical
    rounding, constant 1; here P = 3 x 6 + 6 x 6 = 54)."""
    X = _inputs(2, 5, 3).astype(np.float32).astype(np.float64)      # exact in both dtypes
    model32 = DeepLinear(3, 6, 2, seed=2, dtype=torch.float32)
    model64 = copy.deepcopy(model32).double()                 # the same weights, exactly
    operator = ntk_operator(model32, torch.tensor(X, dtype=torch.float32))
    V = np.random.default_rng(2).standard_normal((5, 2))
    product = operator @ V
    assert product.dtype == np.float64 and operator.dtype == np.float64
    K = empirical_ntk(model64, torch.tensor(X), method="jacobian").numpy()
    P = sum(p.numel() for p in model64.parameters())
    bound = np.sqrt(P) * np.finfo(np.float32).eps * np.abs(K).max() * np.abs(V).sum(0).max()
    error = np.abs(product - K @ V).max()
    assert error <= bound
    assert error > 0              # it did run in float32 (not silently in float64)


def test_auto_method_is_the_jacobian_route_for_linear_models():
    X = torch.tensor(_inputs(1, 4, 3))
    model = DeepLinear(3, 6, 2, seed=1)
    assert torch.equal(empirical_ntk(model, X), empirical_ntk(model, X, method="jacobian"))


@settings(max_examples=examples(3))
@given(seed=seeds(), depth=st.sampled_from([2, 3]))
def test_deep_linear_ntk_converges_at_rate_one_over_sqrt_width(seed, depth):
    """Widths 16x apart, 4 seeds averaged (docs/theory.md: the error itself is random).
    Theory: error ~ C / sqrt(width), slope -1/2, within WIDTH_SLOPE (see numerics.tolerances)."""
    X = _inputs(seed, 6, 5)
    result = deep_linear_width_convergence(X, depth, (16, 256, 4096), seeds=range(seed % 97, seed % 97 + 4))
    check = checks.width_rate(result)
    assert check.ok, check.detail


def test_negative_control_one_layer_limit_is_not_the_deep_one():
    """A depth-2 NTK does not converge to the one-layer x.x'/d: at width 4096 its error is O(1), far
    outside the width-rate prediction C / sqrt(width) with C from the width-16 error of the right limit."""
    X = _inputs(0, 6, 5)
    wrong, right = X @ X.T / 5, 2 * X @ X.T / 5
    K = empirical_ntk(DeepLinear(5, 4096, 2, seed=0), torch.tensor(X), method="ntvp").numpy()
    K16 = empirical_ntk(DeepLinear(5, 16, 2, seed=0), torch.tensor(X), method="ntvp").numpy()
    predicted = np.linalg.norm(K16 - right) / np.linalg.norm(right) * np.sqrt(16 / 4096)
    check = checks.at_most("relative error at width 4096 vs C / sqrt(width)",
                           np.linalg.norm(K - wrong) / np.linalg.norm(wrong), predicted * NEGATIVE_CONTROL_FACTOR)
    assert not check.ok, check.detail
