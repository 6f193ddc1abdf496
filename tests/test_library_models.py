"""A user's own models through the library (issue 16): an MLP with an (n, 1) head and a 3-output CNN give
empirical NTKs equal to a torch.func.jacrev reference on every route, in float32 and float64, with the
model's dtype; top_eigenpairs takes the result; ntk_operator works on (n, 1) and multi-output models; and
models or inputs the NTK cannot be taken of are refused with a message naming the cause.

The reference is independent of every route: per-sample Jacobians of a float64 copy of the model
(vmap of jacrev of one sample's flattened outputs over one flat parameter vector), contracted by explicit
per-output matrix products: trace K = (1/k) sum_a J_a J_a^T, full K[:, :, a, b] = J_a J_b^T."""
import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from numerics.eigen import top_eigenpairs
from numerics.kernels import empirical_ntk, ntk_operator, ntk_vector_product
from numerics.models import TwoLayerReLU
from numerics.structured_ntk import chunked_gram, structured_gram
from numerics.tolerances import eigh_rounding, float32_input_eigenvalue_rounding, library_ntk_rounding

DTYPES = (torch.float32, torch.float64)
ROUTES = ("jacobian", "ntvp", "chunked", "structured")   # mlp_factorized takes TwoLayerReLU only
DEPTH = 2                                                 # parametrised layers of both models
#: The block-wise routes with small blocks (several row and column blocks, the mirrored lower triangle,
#: several capture batches); called directly they return their float64 accumulation.
BLOCKED = {
    "chunked, chunk 2": lambda m, a, b, o: chunked_gram(m, a, b, chunk=2, outputs=o),
    "structured, explicit form, chunk 2, batch 2": lambda m, a, b, o: structured_gram(
        m, a, b, form="explicit", chunk=2, batch_size=2, outputs=o),
    "structured, structured form, chunk 3, batch 2": lambda m, a, b, o: structured_gram(
        m, a, b, form="structured", chunk=3, batch_size=2, outputs=o),
}


def _seeded(model: nn.Module, seed: int, dtype) -> nn.Module:
    """The model in ``dtype`` with its parameters redrawn from a seeded generator (no global RNG):
    N(0, 1 / fan-in) weights, N(0, 1/4) biases."""
    gen = torch.Generator().manual_seed(seed)
    model = model.to(dtype)
    with torch.no_grad():
        for p in model.parameters():
            scale = p[0].numel() ** -0.5 if p.ndim > 1 else 0.5
            p.copy_(scale * torch.randn(p.shape, generator=gen, dtype=torch.float64))
    return model


def mlp(dtype, d=4, h=8, seed=0):
    return _seeded(nn.Sequential(nn.Linear(d, h), nn.Tanh(), nn.Linear(h, 1)), seed, dtype)


def cnn(dtype, seed=1):
    """3 x 6 x 6 images -> 4 x 4 x 4 features -> 3 outputs."""
    return _seeded(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(64, 3)), seed, dtype)


MODELS = {"mlp": (mlp, (4,)), "cnn": (cnn, (3, 6, 6))}


def _inputs(n, sample_shape, dtype, seed):
    """Standard normal draws rounded to float32, so that they are the same numbers in both dtypes."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn((n,) + sample_shape, generator=gen).to(dtype)


def _jacobians(model, X) -> torch.Tensor:
    """(n, k, P) per-sample Jacobians of a float64 copy of the model, by jacrev over one flat parameter vector."""
    model = copy.deepcopy(model).double()
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def output(theta, x):
        params, start = {}, 0
        for name, shape in zip(names, shapes):
            params[name] = theta[start:start + shape.numel()].reshape(shape)
            start += shape.numel()
        return functional_call(model, params, (x[None],)).reshape(-1)

    return vmap(jacrev(output), in_dims=(None, 0))(flat, X.double())


def reference(model, X1, X2, outputs):
    """The expected kernel in float64: trace (1/k) sum_a J1_a J2_a^T, or full [:, :, a, b] = J1_a J2_b^T."""
    J1, J2 = _jacobians(model, X1), _jacobians(model, X2)
    k = J1.shape[1]
    blocks = [[J1[:, a] @ J2[:, b].T for b in range(k)] for a in range(k)]
    if outputs == "trace":
        return sum(blocks[a][a] for a in range(k)) / k
    return torch.stack([torch.stack(row, -1) for row in blocks], -2)


def _scale(model, *Xs) -> float:
    """S = max over samples and outputs of |J_a(x)|^2, the scale of library_ntk_rounding."""
    return max(float((_jacobians(model, X) ** 2).sum(-1).max()) for X in Xs)


def _bound(model, dtype, *Xs) -> float:
    n_params = sum(p.numel() for p in model.parameters())
    return library_ntk_rounding(n_params, DEPTH, torch.finfo(dtype).eps) * _scale(model, *Xs)


@pytest.mark.claim("L1")
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("outputs", ["trace", "full"])
@pytest.mark.parametrize("cross", [False, True], ids=["K(X, X)", "K(X1, X2)"])
def test_every_route_equals_the_jacrev_reference(name, dtype, outputs, cross):
    """Every entry within library_ntk_rounding(P, 2, eps of the dtype) S of the float64 reference (measured
    1e-3..4e-3 of it), in the model's dtype, K(X, X) and K(X1, X2), trace (n1, n2) and full (n1, n2, k, k)."""
    make, sample_shape = MODELS[name]
    model = make(dtype)
    X1 = _inputs(5, sample_shape, dtype, seed=2)
    X2 = _inputs(4, sample_shape, dtype, seed=3) if cross else None
    other = X1 if X2 is None else X2
    expected = reference(model, X1, other, outputs)
    k = 1 if name == "mlp" else 3
    assert expected.shape == ((5, other.shape[0]) + ((k, k) if outputs == "full" else ()))
    bound = _bound(model, dtype, X1, other)
    for route in ROUTES:
        K = empirical_ntk(model, X1, X2, method=route, outputs=outputs)
        assert K.dtype == dtype and K.shape == expected.shape, route
        error = float((K.double() - expected).abs().max())
        assert error <= bound, (route, error, bound)
    for variant, gram in BLOCKED.items():
        K = gram(model, X1, X2, outputs)
        assert K.dtype == torch.float64 and K.shape == expected.shape, variant
        assert float((K - expected).abs().max()) <= bound, variant


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_top_eigenpairs_takes_every_routes_kernel(name, dtype):
    """Trace kernels (n, n) and full ones as (n k, n k) matrices, float32 and float64: accepted, with
    eigenvalues within Weyl's bound n max|K - K_ref| <= n library_ntk_rounding S of the reference's."""
    make, sample_shape = MODELS[name]
    model = make(dtype)
    X = _inputs(6, sample_shape, dtype, seed=4)
    bound = _bound(model, dtype, X)
    for outputs in ("trace", "full"):
        expected = reference(model, X, X, outputs)
        if outputs == "full":
            expected = expected.permute(0, 2, 1, 3).reshape(X.shape[0] * expected.shape[2], -1)
        truth = np.linalg.eigvalsh(expected.numpy())[::-1][:2]
        for route in ROUTES:
            K = empirical_ntk(model, X, method=route, outputs=outputs)
            if outputs == "full":
                K = K.permute(0, 2, 1, 3).reshape(expected.shape)
            result = top_eigenpairs(K, 2)
            assert np.abs(result.values - truth).max() <= expected.shape[0] * bound, (outputs, route)


def test_an_n_by_1_head_is_the_scalar_model_s_kernel():
    """An (n, 1) output is the scalar NTK: the same kernel as the model with its output squeezed, and a
    full kernel of shape (n, n, 1, 1) holding the same numbers."""
    model = mlp(torch.float64)
    squeezed = nn.Sequential(model, nn.Flatten(0))
    X = _inputs(5, (4,), torch.float64, seed=5)
    bound = _bound(model, torch.float64, X)
    for route in ROUTES:
        K = empirical_ntk(model, X, method=route)
        assert K.shape == (5, 5)
        assert float((K - empirical_ntk(squeezed, X, method=route)).abs().max()) <= bound, route
        full = empirical_ntk(model, X, method=route, outputs="full")
        assert full.shape == (5, 5, 1, 1) and torch.equal(full[:, :, 0, 0], K), route


def test_multi_output_trace_is_the_mean_of_the_full_kernel_s_diagonal():
    """The trace kernel is the mean (not the sum) of K_aa over the 3 outputs, on every route."""
    model = cnn(torch.float64)
    X = _inputs(4, (3, 6, 6), torch.float64, seed=6)
    bound = _bound(model, torch.float64, X)
    for route in ROUTES:
        full = empirical_ntk(model, X, method=route, outputs="full")
        mean = torch.diagonal(full, dim1=2, dim2=3).mean(-1)
        assert float((empirical_ntk(model, X, method=route) - mean).abs().max()) <= bound, route


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_ntk_operator_and_products_on_n_by_1_and_multi_output_models(name, dtype):
    """ntk_operator (float64 numpy) and ntk_vector_product apply the trace kernel, and the "full" product
    the (n1 k) x (n2 k) kernel, to within |V|_1 times the entrywise bound."""
    make, sample_shape = MODELS[name]
    model = make(dtype)
    X1, X2 = _inputs(5, sample_shape, dtype, seed=7), _inputs(3, sample_shape, dtype, seed=8)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((5, 2))
    bound = _bound(model, dtype, X1, X2)
    expected = reference(model, X1, X1, "trace").numpy() @ W
    assert np.abs(ntk_operator(model, X1) @ W - expected).max() <= bound * np.abs(W).sum(0).max()
    full = reference(model, X1, X2, "full")
    k = full.shape[2]
    V = torch.tensor(rng.standard_normal((3, k, 2)), dtype=dtype)
    product = ntk_vector_product(model, X1, X2, outputs="full")(V)
    assert product.shape == (5, k, 2) and product.dtype == dtype
    expected = torch.einsum("ijab,jbc->iac", full, V.double())
    assert float((product.double() - expected).abs().max()) <= bound * float(V.abs().sum((0, 1)).max())
    with pytest.raises(ValueError, match=r"V must have shape \(3,\) or \(3, 'b'\)"):
        ntk_vector_product(model, X1, X2)(V)


def test_the_kernel_has_the_model_s_dtype_on_every_method():
    X = _inputs(4, (4,), torch.float32, seed=9)
    relu = TwoLayerReLU(4, 16, seed=0, dtype=torch.float32)
    for dtype in DTYPES:
        for route in ROUTES:
            for outputs in ("trace", "full"):
                assert empirical_ntk(mlp(dtype), X.to(dtype), method=route, outputs=outputs).dtype == dtype
        for method in ("auto", "mlp_factorized", "jacobian", "ntvp", "chunked"):   # structured: Linear/Conv2d
            assert empirical_ntk(relu.to(dtype), X.to(dtype), method=method).dtype == dtype


def test_top_eigenpairs_takes_float32_matrices_at_their_own_rounding():
    """A float32 matrix, the rounding of a symmetric float64 A with one ulp of asymmetry in every
    off-diagonal pair (as a float32 Gram formed in two orders has), is accepted as numpy and torch input,
    with eigenvalues within float32_input_eigenvalue_rounding(n) max|A| of eigh(A). A 10% asymmetry is
    still refused."""
    B = np.random.default_rng(1).standard_normal((30, 8))
    A = B @ B.T
    A32 = A.astype(np.float32)
    upper = np.triu_indices(30, 1)
    A32[upper] = np.nextafter(A32[upper], np.float32(np.inf))
    assert np.abs(A32 - A32.T).max() > 0
    truth = np.linalg.eigvalsh(A)[::-1][:3]
    for M in (A32, torch.from_numpy(A32)):
        for method in ("eigh", "block"):
            result = top_eigenpairs(M, 3, method=method)
            assert np.abs(result.values - truth).max() <= float32_input_eigenvalue_rounding(30) * np.abs(A).max()
    skewed = A32.copy()
    skewed[0, 1] += 0.1 * np.abs(A).max()
    with pytest.raises(ValueError, match="A must be symmetric"):
        top_eigenpairs(skewed, 2)


def test_a_float32_matrix_is_solved_as_its_symmetric_part_on_every_route():
    """An accepted float32 asymmetry (1e-3 relative, below the scaled tolerance) does not make the routes
    disagree: eigh (which reads one triangle) and the block route (which applies all of A) both solve
    (A + A^T) / 2, to eigh_rounding(n) of its float64 eigenvalues."""
    B = np.random.default_rng(2).standard_normal((30, 8))
    A32 = (B @ B.T).astype(np.float32)
    upper = np.triu_indices(30, 1)
    A32[upper] *= np.float32(1.001)
    symmetric = (A32.astype(np.float64) + A32.T.astype(np.float64)) / 2
    truth = np.linalg.eigvalsh(symmetric)[::-1][:3]
    for method in ("eigh", "block"):
        values = top_eigenpairs(A32, 3, method=method).values
        assert np.abs(values - truth).max() <= eigh_rounding(30) * truth[0], method


def test_gap_ok_reflects_the_input_s_rounding():
    """gap_ok's residual level is 32 sqrt(n) eps of A's dtype: a gap of 1e-4 lambda_1 at the cut is
    resolved in float64 (level ~1e-13) but not in float32, whose input rounding alone moves eigenvalues by
    ~sqrt(n) eps32 lambda_1 and whose gap_ok demands 100 x 32 sqrt(n) eps32 ~ 2e-3 lambda_1."""
    Q = np.linalg.qr(np.random.default_rng(3).standard_normal((30, 30)))[0]
    A = (Q * np.concatenate([[1.0, 0.5, 0.5 - 1e-4], np.linspace(0.3, 0.0, 27)])) @ Q.T
    A = (A + A.T) / 2
    assert top_eigenpairs(A, 2).gap_ok
    assert not top_eigenpairs(A.astype(np.float32), 2).gap_ok


class _Noisy(nn.Module):
    """A scalar model whose forward adds fresh Gaussian noise: stochastic in any mode."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 1, dtype=torch.float64)

    def forward(self, x):
        return self.linear(x)[:, 0] + torch.randn(x.shape[0], dtype=x.dtype)


def _dropout_mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 1)).double().train()


X4 = torch.ones(3, 4, dtype=torch.float64)


@pytest.mark.parametrize("call", [
    lambda m, X: empirical_ntk(m, X),
    *(lambda m, X, r=route: empirical_ntk(m, X, method=r) for route in ROUTES),
    lambda m, X: ntk_vector_product(m, X),
    lambda m, X: ntk_operator(m, X),
], ids=["auto", *ROUTES, "ntk_vector_product", "ntk_operator"])
@pytest.mark.parametrize("model, message", [
    (_dropout_mlp, r"model must be in eval mode \(model.eval\(\)\): in train mode Dropout/RReLU draw random masks "
                   r"or slopes .* found Dropout \('1'\)"),
    (lambda: nn.Sequential(nn.Linear(4, 1), nn.AlphaDropout(0.2)).double(), r"found AlphaDropout \('1'\)"),
    (_Noisy, r"model forward is not deterministic: two calls on the same batch X1\[:2\] gave different outputs"),
    (lambda: nn.Sequential(nn.Linear(4, 2), nn.BatchNorm1d(2, track_running_stats=False)).double().eval(),
     r"BatchNorm without running statistics"),
], ids=["Dropout in train mode", "AlphaDropout in train mode", "stochastic forward", "BatchNorm, batch statistics"])
def test_random_or_batch_dependent_models_are_refused(call, model, message):
    with pytest.raises(ValueError, match=message):
        call(model(), X4)


def test_dropout_in_eval_mode_is_the_model_without_it():
    dropped = _dropout_mlp().eval()
    plain = nn.Sequential(dropped[0], dropped[2])
    X = _inputs(4, (4,), torch.float64, seed=10)
    assert torch.equal(empirical_ntk(dropped, X), empirical_ntk(plain, X))


@pytest.mark.parametrize("call, error, message", [
    (lambda: empirical_ntk(mlp(torch.float64), torch.ones(3, 5, dtype=torch.float64)), ValueError,
     r"X1 has sample shape \(5,\) \(dtype torch.float64\), which the model cannot take: mat1 and mat2"),
    (lambda: empirical_ntk(cnn(torch.float64), torch.ones(2, 1, 6, 6, dtype=torch.float64), method="structured"),
     ValueError, r"X1 has sample shape \(1, 6, 6\) .* which the model cannot take"),
    (lambda: ntk_operator(mlp(torch.float64), torch.ones(3, 5, dtype=torch.float64)), ValueError,
     r"X1 has sample shape \(5,\)"),
    (lambda: empirical_ntk(mlp(torch.float64), torch.ones(3, 4)), ValueError,
     r"X1 must have the model parameters' dtype torch.float64, got torch.float32"),
    (lambda: empirical_ntk(mlp(torch.float32), torch.ones(3, 4), torch.ones(2, 4, dtype=torch.float64)), ValueError,
     r"X2 must have the model parameters' dtype torch.float32, got torch.float64"),
    (lambda: empirical_ntk(nn.Sequential(nn.Linear(4, 2), nn.Linear(2, 1).double()), torch.ones(3, 4)), ValueError,
     r"model parameters must share one floating dtype, got \['torch.float32', 'torch.float64'\]"),
    (lambda: empirical_ntk(mlp(torch.float64), X4, outputs="sum"), ValueError,
     r"outputs must be one of \('trace', 'full'\), got 'sum'"),
    (lambda: empirical_ntk(nn.Flatten(0), X4), ValueError, "model must have parameters"),
])
def test_shape_and_dtype_mismatches_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
